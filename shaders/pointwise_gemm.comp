#version 430
#if U64_STORES
#extension GL_ARB_gpu_shader_int64 : require
#endif
// 1x1 convolution, step 2 of 2 (PointwisePlan): out[o][p] = bias[o] + sum_c w[o][c] * V[c][p], the product of the
// (C_out x C_in) weights and the (C_in x TP) gathered input (pointwise_gather.comp, or the input itself where it
// already is that matrix). One invocation: 8 output channels x 8 consecutive pixels; per input channel two rgba32f
// fetches of weights and two of V feed 64 multiply-adds (winograd_gemm.comp's blocking; the direct conv2d_dense.comp
// spends a weight fetch and 2-5 input fetches on 32). Invocations are numbered pixel-block fastest, so the lanes of a
// SIMD group read neighbouring V texels (and the same weight texels).
// Weights (PointwisePlan packs them): (C_in, CB8, 2) vec4s, component q of vec4 h for output channel 8 b + 4 h + q
// (zero past the last), then CB8 * 2 vec4s of bias. Stores: U64_STORES (H_out * W_out a multiple of 8: each channel's 8
// pixels one 32-byte store), VEC4_STORES (a multiple of 4), else one float at a time, predicated on the pixel.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "include/fused_act.glsl"

layout(rgba32f, binding = 0) readonly uniform imageBuffer u_v4;
layout(rgba32f, binding = 2) readonly uniform imageBuffer u_params;
#if U64_STORES
#include "include/store8.glsl"
layout(std430, binding = 3) writeonly buffer Output8 { u64vec4 out_data8[]; };
#elif VEC4_STORES
layout(std430, binding = 3) writeonly buffer Output4 { vec4 out_data4[]; };
#else
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };
#endif

uniform ivec4 u_gemm; // (C_in, CB8, TP, C_out)
uniform int u_pixels; // H_out * W_out
uniform int u_row;

void main()
{
    int cin = u_gemm.x, blocks = u_gemm.y, quads = u_gemm.z / 4, cout = u_gemm.w;
    int pblocks = quads / 2;
    int count = blocks * pblocks;
    int id = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    bool inside = id < count;
    id = min(id, count - 1);
    int b = id / pblocks;
    int pb = id - b * pblocks;

    vec4 acc[8], acd[8];
    vec4 bias0 = imageLoad(u_params, (cin * blocks + b) * 2), bias1 = imageLoad(u_params, (cin * blocks + b) * 2 + 1);
    for (int k = 0; k < 8; k++) { acc[k] = bias0; acd[k] = bias1; }
    int ui = 2 * b;
    int vi = 2 * pb;
    for (int c = 0; c < cin; c++)
    {
        vec4 u = imageLoad(u_params, ui);
        vec4 w = imageLoad(u_params, ui + 1);
        vec4 v0 = imageLoad(u_v4, vi);
        vec4 v1 = imageLoad(u_v4, vi + 1);
        acc[0] += u * v0.x; acc[1] += u * v0.y; acc[2] += u * v0.z; acc[3] += u * v0.w;
        acc[4] += u * v1.x; acc[5] += u * v1.y; acc[6] += u * v1.z; acc[7] += u * v1.w;
        acd[0] += w * v0.x; acd[1] += w * v0.y; acd[2] += w * v0.z; acd[3] += w * v0.w;
        acd[4] += w * v1.x; acd[5] += w * v1.y; acd[6] += w * v1.z; acd[7] += w * v1.w;
        ui += 2 * blocks;
        vi += quads;
    }
    if (inside)
    {
        int p0 = 8 * pb;
        for (int h = 0; h < 2; h++)
            for (int q = 0; q < 4; q++)
            {
                int o = 8 * b + 4 * h + q;
                vec4 lo = h == 0 ? vec4(acc[0][q], acc[1][q], acc[2][q], acc[3][q]) : vec4(acd[0][q], acd[1][q], acd[2][q], acd[3][q]);
                vec4 hi = h == 0 ? vec4(acc[4][q], acc[5][q], acc[6][q], acc[7][q]) : vec4(acd[4][q], acd[5][q], acd[6][q], acd[7][q]);
                lo = fused_act(lo);
                hi = fused_act(hi);
                if (o >= cout) continue;
                int at = o * u_pixels + p0;
#if U64_STORES
                out_data8[at >> 3] = pack8(lo, hi);
#elif VEC4_STORES
                out_data4[at >> 2] = lo;
                if (p0 + 4 < u_pixels) out_data4[(at >> 2) + 1] = hi;
#else
                for (int e = 0; e < 4; e++)
                {
                    if (p0 + e < u_pixels) out_data[at + e] = lo[e];
                    if (p0 + 4 + e < u_pixels) out_data[at + 4 + e] = hi[e];
                }
#endif
            }
    }
}
