#version 430
// A reduction over the middle dimension of (outer, R, inner) blocks, the reference is Reduce.Apply in
// src/ConvGL.Core/Ops/Reduce.cs (the reduced axes of the tensor made adjacent by the host). MODE: 0 mean, 1 sum, 2 max,
// 3 min; a NaN reaches a max or min (GLSL's max / min need not propagate it). One invocation per (outer, inner).

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform int u_outer;
uniform int u_count; // R
uniform int u_inner;
uniform int u_row;   // invocations per dispatch row (see GlProgram.DispatchFlat)

void main()
{
    int line = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    if (line >= u_outer * u_inner) return;
    int o = line / u_inner, i = line - o * u_inner;
    int at = o * u_count * u_inner + i;
#if MODE == 2
    float acc = -1.0 / 0.0;
#elif MODE == 3
    float acc = 1.0 / 0.0;
#else
    float acc = 0.0;
#endif
    bool nan = false;
    for (int k = 0; k < u_count; k++)
    {
        float v = in_data[at + k * u_inner];
#if MODE == 2
        nan = nan || isnan(v);
        acc = max(acc, v);
#elif MODE == 3
        nan = nan || isnan(v);
        acc = min(acc, v);
#else
        acc += v;
#endif
    }
#if MODE == 0
    acc /= float(u_count);
#endif
    out_data[line] = nan ? (0.0 / 0.0) : acc;
}
