#version 430
#if WIDE
#extension GL_ARB_gpu_shader_int64 : require
#endif
// A plain 2D transpose in blocks of 4 x 4 (GpuStridedCopy: a view of two axes whose outer one steps 1 and inner one a
// whole input row, e.g. a (C, H, W) map to channels-last and back; both sides in whole vec4s): out[a][b] = in[b][a]. One
// invocation reads 4 input rows' texels of 4 values (rgba32f) and writes 4 output rows' vec4s: 4 loads and 4 stores per
// 16 values, where the general strided copy spends 16 gathered loads on them (each a per-lane gather on llvmpipe).
// Invocations are numbered along a (the input rows' direction) fastest, so a SIMD group's loads are neighbours.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(rgba32f, binding = 0) readonly uniform imageBuffer u_input4;
#if WIDE
#include "include/store8.glsl"
layout(std430, binding = 3) writeonly buffer Output8 { u64vec4 out_data8[]; };
#define BB 8
#else
layout(std430, binding = 3) writeonly buffer Output { vec4 out_data[]; };
#define BB 4
#endif

uniform ivec2 u_dims;    // (A, B): the output's rows and columns, multiples of 4
uniform ivec2 u_pitch;   // floats between input rows (of A values) and between output rows (of B values), multiples of 4
uniform ivec2 u_offset;  // first input float, first output float, multiples of 4
uniform int u_row;       // invocations per dispatch row (GlProgram.DispatchFlat)

void main()
{
    int blocksA = u_dims.x / 4, count = blocksA * (u_dims.y / BB);
    int id = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    bool inside = id < count;
    id = min(id, count - 1);
    int ib = id / blocksA;
    int a0 = 4 * (id - ib * blocksA), b0 = BB * ib;
    int at = (u_offset.x + b0 * u_pitch.x + a0) >> 2, step = u_pitch.x >> 2;
    vec4 t0 = imageLoad(u_input4, at);
    vec4 t1 = imageLoad(u_input4, at + step);
    vec4 t2 = imageLoad(u_input4, at + 2 * step);
    vec4 t3 = imageLoad(u_input4, at + 3 * step);
#if WIDE
    vec4 t4 = imageLoad(u_input4, at + 4 * step);
    vec4 t5 = imageLoad(u_input4, at + 5 * step);
    vec4 t6 = imageLoad(u_input4, at + 6 * step);
    vec4 t7 = imageLoad(u_input4, at + 7 * step);
    if (inside)
    {
        int to = (u_offset.y + a0 * u_pitch.y + b0) >> 3, ostep = u_pitch.y >> 3;
        out_data8[to] = pack8(vec4(t0.x, t1.x, t2.x, t3.x), vec4(t4.x, t5.x, t6.x, t7.x));
        out_data8[to + ostep] = pack8(vec4(t0.y, t1.y, t2.y, t3.y), vec4(t4.y, t5.y, t6.y, t7.y));
        out_data8[to + 2 * ostep] = pack8(vec4(t0.z, t1.z, t2.z, t3.z), vec4(t4.z, t5.z, t6.z, t7.z));
        out_data8[to + 3 * ostep] = pack8(vec4(t0.w, t1.w, t2.w, t3.w), vec4(t4.w, t5.w, t6.w, t7.w));
    }
#else
    if (inside)
    {
        int to = (u_offset.y + a0 * u_pitch.y + b0) >> 2, ostep = u_pitch.y >> 2;
        out_data[to] = vec4(t0.x, t1.x, t2.x, t3.x);
        out_data[to + ostep] = vec4(t0.y, t1.y, t2.y, t3.y);
        out_data[to + 2 * ostep] = vec4(t0.z, t1.z, t2.z, t3.z);
        out_data[to + 3 * ostep] = vec4(t0.w, t1.w, t2.w, t3.w);
    }
#endif
}
