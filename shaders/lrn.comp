#version 430
// Local response normalisation across channels, the reference is Lrn.Apply in src/ConvGL.Core/Ops/Lrn.cs (ONNX LRN):
// y = x / (bias + alpha / size * sum of x^2 over channels [c - before, c + after] clipped to [0, C))^beta, on images
// of C planes stored one after another ((N C, H, W)). One output per invocation, the input through an r32f texel view;
// the index is clamped for the loads and the store predicated (no early return before the loads). The power is C's pow
// (include/powc.glsl), so a base of 0 or below gives what the CPU's Math.Pow does.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(r32f, binding = 0) readonly uniform imageBuffer u_input;
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform int u_count;    // N C H W
uniform int u_plane;    // H W
uniform int u_channels; // C
uniform int u_before;   // floor((size - 1) / 2), at most C
uniform int u_after;    // ceil((size - 1) / 2), at most C
uniform float u_scale;  // alpha / size
uniform float u_bias;
uniform float u_beta;
uniform int u_row;      // invocations per dispatch row (see GlProgram.DispatchFlat)

#include "include/powc.glsl"

void main()
{
    int index = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    int at = min(index, u_count - 1);
    int p = at / u_plane, i = at - p * u_plane;
    int n = p / u_channels, c = p - n * u_channels;
    int first = max(0, c - u_before), last = min(u_channels - 1, c + u_after);
    int base = n * u_channels * u_plane + i;
    float sum = 0.0;
    for (int k = first; k <= last; k++)
    {
        float v = imageLoad(u_input, base + k * u_plane).r;
        sum += v * v;
    }
    float x = imageLoad(u_input, at).r;
    float y = x / powc(u_bias + u_scale * sum, u_beta);
    if (index < u_count) out_data[index] = y;
}
