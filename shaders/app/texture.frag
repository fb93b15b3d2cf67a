#version 430 core
// A texture (source frame, HUD) or, when uSolid.a > 0, a solid colour (markers, panels).
// The HUD texture holds premultiplied alpha (Skia's raster format), blended with ONE, ONE_MINUS_SRC_ALPHA.
uniform sampler2D uTexture;
uniform vec4 uSolid;
in vec2 vUv;
out vec4 fragColor;

void main()
{
    fragColor = uSolid.a > 0.0 ? vec4(uSolid.rgb * uSolid.a, uSolid.a) : texture(uTexture, vUv);
}
