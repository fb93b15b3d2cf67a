#version 430 core
#include "colormap.glsl"
// Shows a (C, H, W) float32 tensor straight from its storage buffer, no copy:
//   uMode 0: channels 0..2 as RGB (a 1-channel tensor as grey), each normalised by its own min/max unless the
//            whole tensor already lies in [0, 1] (then shown as is, so a blur looks like a blurred photo);
//   uMode 1: channel uChannel alone, normalised by its min/max, through the colour map;
//   uMode 2: the grid: channel = cell index (uCols x uRows cells, row-major), each normalised and coloured.
// Min/max come from app/minmax.comp: vec2(min, max) per channel.
layout(std430, binding = 0) readonly buffer TensorData { float data[]; };
layout(std430, binding = 1) readonly buffer TensorRange { vec2 range[]; };
uniform int uC, uH, uW;
uniform int uMode, uChannel, uCols, uRows;
in vec2 vUv;
out vec4 fragColor;

float at(int c, vec2 uv)
{
    int x = clamp(int(uv.x * float(uW)), 0, uW - 1);
    int y = clamp(int(uv.y * float(uH)), 0, uH - 1);
    return data[(c * uH + y) * uW + x];
}

float normalised(int c, float v)
{
    vec2 r = range[c];
    return r.y > r.x ? (v - r.x) / (r.y - r.x) : 0.5;
}

void main()
{
    if (uMode == 0)
    {
        // Already an image (every shown channel within [0, 1], e.g. a blur): show it as it is.
        bool unit = true;
        for (int c = 0; c < min(uC, 3); c++) unit = unit && range[c].x >= -1e-3 && range[c].y <= 1.001;
        if (uC >= 3)
        {
            vec3 v = vec3(at(0, vUv), at(1, vUv), at(2, vUv));
            if (!unit) v = vec3(normalised(0, v.r), normalised(1, v.g), normalised(2, v.b));
            fragColor = vec4(clamp(v, 0.0, 1.0), 1.0);
        }
        else
        {
            float v = at(0, vUv);
            if (!unit) v = normalised(0, v);
            fragColor = vec4(vec3(clamp(v, 0.0, 1.0)), 1.0);
        }
        return;
    }
    if (uMode == 1)
    {
        fragColor = vec4(featureColor(normalised(uChannel, at(uChannel, vUv))), 1.0);
        return;
    }
    vec2 cell = vUv * vec2(uCols, uRows);
    ivec2 index = ivec2(floor(cell));
    vec2 inCell = fract(cell);
    int c = index.y * uCols + index.x;
    // A thin gutter between maps keeps neighbouring maps apart.
    vec2 gutter = vec2(float(uCols) / 800.0, float(uRows) / 500.0) * 2.0;
    if (c >= uC || any(lessThan(inCell, gutter)) || any(greaterThan(inCell, 1.0 - gutter)))
    {
        fragColor = vec4(0.08, 0.08, 0.1, 1.0);
        return;
    }
    fragColor = vec4(featureColor(normalised(c, at(c, inCell))), 1.0);
}
