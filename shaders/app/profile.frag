#version 430 core
#include "../present/ranges.glsl"
// The row profile: one scanline of a layer's input (grey) and of its output (orange), plotted as curves on the
// input's x axis: output sample o is drawn where its window is centred in the input, x = uOutOffset + uOutStep * o
// (input pixels; the caller works it out from the layer's kernel, stride, dilation and padding), so over the overlap
// the output curve sits under the input it was computed from. This is 1D convolution seen: the output curve is the
// input curve smoothed, differentiated or sharpened. The plot's x range [uX0, uX1] covers both curves (full padding's
// outputs reach past the input).
// Input: the mean of channels [uInFirst, uInFirst + uInCount) (the group feeding the output channel), on [0, 1] when
// every one of those channels lies there, on [0, max] when none is negative (a ReLU's maps). Output: channel uChannel,
// likewise. Otherwise each goes on a symmetric [-m, m] scale with zero in the middle (edge filters are signed). uShared puts both on one scale (the union of
// their ranges): two curves of the same quantity (the theorem's direct and FFT results) must coincide when equal.
layout(std430, binding = 0) readonly buffer InputData { float inData[]; };
layout(std430, binding = 1) readonly buffer OutputData { float outData[]; };
// Each channel's ordered (min, max) from present/minmax.comp.
layout(std430, binding = 2) readonly buffer OutputRange { uvec2 outRange[]; };
layout(std430, binding = 3) readonly buffer InputRange { uvec2 inRange[]; };
uniform int uInFirst, uInCount, uInH, uInW, uInRow;
// A pool's window rows: uInRows rows from uInRow, uInRowStep apart (all inside the map), reduced by max (uInRowMax) or
// their sum over uInRowDivisor (the rows the average counts: padding's zeros too where the pool counts them), so the
// pool's output lies on the curve; 1 row for every other layer.
uniform int uInRows, uInRowStep;
uniform bool uInRowMax;
uniform float uInRowDivisor;
uniform int uOutC, uOutH, uOutW, uOutRow, uChannel;
uniform float uOutOffset, uOutStep, uX0, uX1;
uniform bool uShared;
uniform vec4 uPlotPx; // x, y, width, height of the plot in window pixels (origin bottom left)
in vec2 vUv;
out vec4 fragColor;

vec2 inputRange()
{
    vec2 r = decode_range(inRange[uInFirst]);
    for (int c = uInFirst + 1; c < uInFirst + uInCount; c++)
    {
        vec2 q = decode_range(inRange[c]);
        r = vec2(min(r.x, q.x), max(r.y, q.y));
    }
    return r;
}

vec2 outputRange()
{
    vec2 r = decode_range(outRange[uChannel]);
    if (!uShared) return r;
    vec2 q = inputRange();
    return vec2(min(r.x, q.x), max(r.y, q.y));
}

// A value on the plot's height scale (0 bottom, 1 top) for range r. A minimum within 1e-6 of the maximum below zero is
// rounding (the theorem's FFT curve: -1e-16 on a row of zeros and positives) and counts as none: ProfileView.PlotScale.
float scaled(float v, vec2 r)
{
    bool none_negative = r.x >= -1e-6 * max(r.y, 0.0);
    if (none_negative && r.y <= 1.0) return v;
    if (none_negative) return v / r.y;
    float m = max(max(abs(r.x), abs(r.y)), 1e-6);
    return 0.5 + 0.5 * v / m;
}

// (height, 1) of the input curve at plot position u, (0, 0) where there is no input sample.
vec2 inputAt(float u)
{
    int x = int(floor(mix(uX0, uX1, u) + 0.5));
    if (x < 0 || x >= uInW) return vec2(0.0);
    float s = 0.0;
    for (int c = uInFirst; c < uInFirst + uInCount; c++)
    {
        float r = inData[(c * uInH + uInRow) * uInW + x];
        for (int k = 1; k < uInRows; k++)
        {
            float v = inData[(c * uInH + uInRow + k * uInRowStep) * uInW + x];
            r = uInRowMax ? max(r, v) : r + v;
        }
        s += uInRowMax ? r : r / uInRowDivisor;
    }
    s /= float(uInCount);
    return vec2(scaled(s, uShared ? outputRange() : inputRange()), 1.0);
}

vec2 outputAt(float u)
{
    int x = int(floor((mix(uX0, uX1, u) - uOutOffset) / uOutStep + 0.5));
    if (x < 0 || x >= uOutW) return vec2(0.0);
    float v = outData[(uChannel * uOutH + uOutRow) * uOutW + x];
    return vec2(scaled(v, outputRange()), 1.0);
}

// Whether this fragment is on the polyline through the samples at this and the previous column (both present).
float curve(float py, vec2 here, vec2 before)
{
    if (here.y == 0.0 || before.y == 0.0) return 0.0;
    float lo = min(here.x, before.x) * uPlotPx.w - 1.0, hi = max(here.x, before.x) * uPlotPx.w + 1.0;
    return py >= lo && py <= hi ? 1.0 : 0.0;
}

void main()
{
    vec2 p = gl_FragCoord.xy - uPlotPx.xy;
    float du = 1.0 / uPlotPx.z;
    vec3 color = vec3(0.06, 0.06, 0.08);
    if (abs(p.y - 0.5 * uPlotPx.w) < 0.5 || abs(p.y - 0.0) < 0.5 || abs(p.y - uPlotPx.w) < 0.5) color = vec3(0.25);
    float u = p.x / uPlotPx.z;
    if (curve(p.y, inputAt(u), inputAt(u - du)) > 0.0) color = vec3(0.62);
    if (curve(p.y, outputAt(u), outputAt(u - du)) > 0.0) color = vec3(1.0, 0.55, 0.1);
    fragColor = vec4(color, 1.0);
}
