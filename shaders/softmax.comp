#version 430
// Softmax (LOG 1: log-softmax) along the middle dimension of (outer, n, inner) blocks, the reference is Softmax.Apply
// in src/ConvGL.Core/Ops/Softmax.cs: y = exp(x - max) / sum exp(x - max), log: x - max - log(sum). One invocation per
// (outer, inner) line, three passes over its n values (max, sum, write). Defines: LOG (0 or 1).

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "include/nonfinite.glsl"

layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform int u_outer;
uniform int u_n;
uniform int u_inner;
uniform int u_row; // invocations per dispatch row (see GlProgram.DispatchFlat)

void main()
{
    int line = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    if (line >= u_outer * u_inner) return;
    int o = line / u_inner, i = line - o * u_inner;
    int at = o * u_n * u_inner + i;
    float m = -INF_F;
    bool nan = false;
    for (int k = 0; k < u_n; k++)
    {
        float v = in_data[at + k * u_inner];
        nan = nan || isnan(v);
        m = max(m, v);
    }
    float sum = 0.0;
    for (int k = 0; k < u_n; k++) sum += exp(in_data[at + k * u_inner] - m);
    for (int k = 0; k < u_n; k++)
    {
        float d = in_data[at + k * u_inner] - m;
#if LOG
        float y = d - log(sum);
#else
        float y = exp(d) / sum;
#endif
        // GLSL's max need not propagate NaN: a line holding one is NaN, as the reference's.
        out_data[at + k * u_inner] = nan ? NAN_F : y;
    }
}
