#version 430
#if U64_STORES
#extension GL_ARB_gpu_shader_int64 : require
#endif
// Max and average pooling, the fast variant of pool2d.comp (same semantics: padding that max never picks and average
// counts as zeros, PyTorch's count_include_pad=True; a NaN in a max window is the output). The reference is
// Pool2D.Apply. One invocation computes OX outputs along x of one row of one channel, reading the input through a
// texel view of its buffer (a vector gather on llvmpipe, where a storage-block load with a per-lane address is a
// scalar loop): a row of OX windows reads SPAN inputs per window row, not OX * KW. Taps outside the image are
// clamped into it and replaced by the padding value with a select, so there is no branch and no load out of bounds.
// Defines: POOL_MAX (1 max, 0 average), KH, KW (window), SX (x stride), OX, and VEC4 (rows of whole vec4s, input and
// output): each window row is read as rgba32f texels (a quarter of the fetches; every texel lies wholly inside or wholly
// outside its row, so one outside is the padding value), starting VEC4_SHIFT floats early (the same for every block:
// blocks start OX * SX apart, a multiple of 4), and stored as aligned vec4s (a per-lane store is a loop over the 8 SIMD
// lanes on llvmpipe; a vec4 store is one loop for 4 values). U64_STORES (with VEC4, output rows of whole multiples of
// 8): each block's 8 outputs as one 32-byte store (include/store8.glsl).

#include "include/nonfinite.glsl"

layout(local_size_x = 16, local_size_y = 4, local_size_z = 1) in;

#define SPAN ((OX - 1) * SX + KW)

// The input tensor, (C, H, W) row-major, as r32f texels, and as rgba32f texels (VEC4).
layout(r32f, binding = 0) readonly uniform imageBuffer u_input;
layout(rgba32f, binding = 1) readonly uniform imageBuffer u_input4;
// (C, H_out, W_out) row-major.
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };
layout(std430, binding = 3) writeonly buffer Output4 { vec4 out_data4[]; };
#if U64_STORES
#include "include/store8.glsl"
layout(std430, binding = 3) writeonly buffer Output8 { u64vec4 out_data8[]; };
#endif

uniform ivec3 u_in_shape;  // (C, H, W)
uniform ivec3 u_out_shape; // (C, H_out, W_out)
uniform int u_stride_y;
uniform ivec2 u_pad;       // (top, left)

#if POOL_MAX
// -inf, never picked over a real tap (PyTorch requires pad <= size/2, so a real pixel is in every window), and a window
// whose real taps are all -inf is -inf, as in the reference (-FLT_MAX gave -3.4e38 there).
const float PAD_VALUE = -INF_F;
#else
const float PAD_VALUE = 0.0;
#endif

void main()
{
    int c = int(gl_WorkGroupID.z);
    int h = u_in_shape.y, w = u_in_shape.z;
    int ox = int(gl_GlobalInvocationID.x) * OX;
    int oy = int(gl_GlobalInvocationID.y);
    int x0 = ox * SX - u_pad.y;
    int y0 = oy * u_stride_y - u_pad.x;

    int cols[SPAN];
    bool col_real[SPAN];
    for (int s = 0; s < SPAN; s++)
    {
        col_real[s] = uint(x0 + s) < uint(w);
        cols[s] = clamp(x0 + s, 0, w - 1);
    }

    float acc[OX];
    for (int k = 0; k < OX; k++) acc[k] = PAD_VALUE;
    for (int i = 0; i < KH; i++)
    {
        int y = y0 + i;
        bool row_real = uint(y) < uint(h);
        int row = (c * h + clamp(y, 0, h - 1)) * w;
        float v[SPAN];
#if VEC4
        int xt = x0 - VEC4_SHIFT; // a multiple of 4
        for (int q = 0; q < (SPAN + VEC4_SHIFT + 3) / 4; q++)
        {
            int x = xt + 4 * q;
            vec4 t = imageLoad(u_input4, (row + clamp(x, 0, w - 4)) >> 2);
            t = row_real && uint(x) < uint(w) ? t : vec4(PAD_VALUE);
            for (int e = 0; e < 4; e++)
            {
                int s = 4 * q + e - VEC4_SHIFT;
                if (s >= 0 && s < SPAN) v[s] = t[e];
            }
        }
#else
        for (int s = 0; s < SPAN; s++) v[s] = (row_real && col_real[s]) ? imageLoad(u_input, row + cols[s]).r : PAD_VALUE;
#endif
        for (int j = 0; j < KW; j++)
            for (int k = 0; k < OX; k++)
            {
                float t = v[k * SX + j];
#if POOL_MAX
                // Not max(): GLSL leaves its NaN result undefined; PyTorch takes t when `t > max || isnan(t)`.
                acc[k] = (t > acc[k] || isnan(t)) ? t : acc[k];
#else
                acc[k] += t;
#endif
            }
    }

    // Predicated stores (no early return above).
    if (oy < u_out_shape.y)
    {
        int out_row = (c * u_out_shape.y + oy) * u_out_shape.z;
#if !POOL_MAX
        for (int k = 0; k < OX; k++) acc[k] /= float(KH * KW);
#endif
#if U64_STORES
        // Rows of whole multiples of 8: a block is wholly inside its row.
        if (ox < u_out_shape.z) out_data8[(out_row + ox) >> 3] = pack8(vec4(acc[0], acc[1], acc[2], acc[3]), vec4(acc[4], acc[5], acc[6], acc[7]));
#elif VEC4
        for (int q = 0; q < OX / 4; q++)
            if (ox + 4 * q < u_out_shape.z)
                out_data4[((out_row + ox) >> 2) + q] = vec4(acc[4 * q], acc[4 * q + 1], acc[4 * q + 2], acc[4 * q + 3]);
#else
        for (int k = 0; k < OX; k++)
            if (ox + k < u_out_shape.z) out_data[out_row + ox + k] = acc[k];
#endif
    }
}
