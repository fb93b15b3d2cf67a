#version 430 core
#include "../present/ranges.glsl"
// The row profile: one scanline of the filter's input (grey) and of its output (orange), plotted as curves.
// This is 1D convolution seen: the output curve is the input curve smoothed, differentiated or sharpened.
// Input: the channel feeding the output channel (the mean over its group for a multi-channel convolution),
// on [0, 1] when it lies there. Output: channel uChannel, likewise. Otherwise each goes on a symmetric
// [-m, m] scale with zero in the middle (edge filters are signed).
layout(std430, binding = 0) readonly buffer InputData { float inData[]; };
layout(std430, binding = 1) readonly buffer OutputData { float outData[]; };
// Each channel's ordered (min, max) from present/minmax.comp.
layout(std430, binding = 2) readonly buffer OutputRange { uvec2 outRange[]; };
layout(std430, binding = 3) readonly buffer InputRange { uvec2 inRange[]; };
uniform int uInFirst, uInCount, uInH, uInW, uInRow;
uniform int uOutC, uOutH, uOutW, uOutRow, uChannel;
uniform vec4 uPlotPx; // x, y, width, height of the plot in window pixels (origin bottom left)
in vec2 vUv;
out vec4 fragColor;

float inputAt(float u)
{
    int x = clamp(int(u * float(uInW)), 0, uInW - 1);
    float s = 0.0;
    for (int c = uInFirst; c < uInFirst + uInCount; c++) s += inData[(c * uInH + uInRow) * uInW + x];
    s /= float(uInCount);
    vec2 r = decode_range(inRange[uInFirst]);
    if (r.x >= 0.0 && r.y <= 1.0) return s;
    float m = max(max(abs(r.x), abs(r.y)), 1e-6);
    return 0.5 + 0.5 * s / m;
}

float outputAt(float u)
{
    int x = clamp(int(u * float(uOutW)), 0, uOutW - 1);
    float v = outData[(uChannel * uOutH + uOutRow) * uOutW + x];
    vec2 r = decode_range(outRange[uChannel]);
    if (r.x >= 0.0 && r.y <= 1.0) return v;
    float m = max(max(abs(r.x), abs(r.y)), 1e-6);
    return 0.5 + 0.5 * v / m;
}

// Distance in pixels from this fragment to the polyline through the samples at this and the previous column.
float curve(float py, float here, float before)
{
    float lo = min(here, before) * uPlotPx.w - 1.0, hi = max(here, before) * uPlotPx.w + 1.0;
    return py >= lo && py <= hi ? 1.0 : 0.0;
}

void main()
{
    vec2 p = gl_FragCoord.xy - uPlotPx.xy;
    float du = 1.0 / uPlotPx.z;
    vec3 color = vec3(0.06, 0.06, 0.08);
    if (abs(p.y - 0.5 * uPlotPx.w) < 0.5 || abs(p.y - 0.0) < 0.5 || abs(p.y - uPlotPx.w) < 0.5) color = vec3(0.25);
    float u = p.x / uPlotPx.z;
    if (curve(p.y, inputAt(u), inputAt(u - du)) > 0.0) color = vec3(0.85);
    if (curve(p.y, outputAt(u), outputAt(u - du)) > 0.0) color = vec3(1.0, 0.55, 0.1);
    fragColor = vec4(color, 1.0);
}
