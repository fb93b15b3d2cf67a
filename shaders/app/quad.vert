#version 430 core
// One rectangle per draw, generated from gl_VertexID (no vertex buffer; an empty VAO is bound):
// vertices 0..3 as a triangle strip. Every presentation pass draws through this.
uniform vec4 uRect; // x0, y0, x1, y1 in normalised device coordinates
uniform vec4 uUv;   // u0, v0, u1, v1 at the rectangle's corners (v0 at y0)
out vec2 vUv;

void main()
{
    vec2 corner = vec2(float(gl_VertexID & 1), float(gl_VertexID >> 1));
    vUv = mix(uUv.xy, uUv.zw, corner);
    gl_Position = vec4(mix(uRect.xy, uRect.zw, corner), 0.0, 1.0);
}
