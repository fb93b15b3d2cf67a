#version 430
#if U64_STORES
#extension GL_ARB_gpu_shader_int64 : require
#endif
// Dense (and grouped) 2D convolution, the fast variant of conv2d.comp for layers. The reference is Conv2D.Apply:
//
//   out[o, y, x] = bias[o] + sum_{c, i, j} w[o, c, i', j'] * in_pad[g*cin_g + c, y*sy + i*dy, x*SX + j*DX]
//
// with g = o / cout_g and (i', j') = (i, j) under correlate, (KH-1-i, KW-1-j) under convolve (ConvPlan packs the
// weights flipped then, so the shader always correlates). One invocation
// computes 4 output channels (one vec4 of weights per tap) x OX outputs along x of one row: every input value loaded
// feeds 4 * (up to) OX multiply-adds. The workgroup's z is the block of 4 output channels, so every weight address is
// the same in all lanes. See include/conv_fast.glsl for the input view, the parameter block and the interior/rim split.
//
// Parameters (vec4s; ConvPlan packs them): per block of 4 output channels (blocks never straddle a group; a group's
// last block is padded with zero channels that are not stored) cin_g * KH * KW vec4 weights, (c, i, j) row-major,
// component q for output channel 4 * block + q of the group, then one vec4 of bias.
// Defines: see include/conv_fast.glsl, and VEC4_STORES (RIM 0): the rectangle starts at a multiple of 4 along x and
// output rows are whole vec4s, so a block's 8 outputs of a channel are two aligned vec4 stores (each wholly inside or
// outside the rectangle) instead of 8 scalar ones; on llvmpipe every storage store is a loop over the lanes.
// U64_STORES (with VEC4_STORES): the rectangle starts at a multiple of 8 and rows are whole multiples of 8, so each
// channel's 8 outputs are one 32-byte store (include/store8.glsl).

#include "include/conv_fast.glsl"
#include "include/fused_act.glsl"

#if U64_STORES
#include "include/store8.glsl"
layout(std430, binding = 3) writeonly buffer Output8 { u64vec4 out_data8[]; };
#elif VEC4_STORES
layout(std430, binding = 3) writeonly buffer Output4 { vec4 out_data4[]; };
#endif

uniform ivec2 u_group; // (C_in, C_out) per group

void main()
{
    bool inside;
    ivec2 out_pos = block_output(inside);
    int cin_g = u_group.x, cout_g = u_group.y;
    int blocks_g = (cout_g + 3) / 4;
    int block = block_z();
    int group = block / blocks_g;
    int first_out = group * cout_g + (block - group * blocks_g) * 4; // output channel of component 0
    int last_out = (group + 1) * cout_g;                              // components at or past it are padding
    int base = block * (cin_g * KH * KW + 1);
    int x0 = out_pos.x * SX - u_pad.x;
    int y0 = out_pos.y * u_step_y.x - u_pad.y;

    int cols[SPAN];
    bool col_real[SPAN];
    span_columns(x0, cols, col_real);

    vec4 b = PARAM(base + cin_g * KH * KW);
    vec4 acc[OX];
    for (int k = 0; k < OX; k++) acc[k] = b;

    int plane_size = u_in_size.x * u_in_size.y;
    int first_in = group * cin_g;
    for (int c = 0; c < cin_g; c++)
    {
        int plane = (first_in + c) * plane_size;
        int wc = base + c * KH * KW;
        for (int i = 0; i < KH; i++)
        {
            bool row_real;
            int row = tap_row(y0 + i * u_step_y.y, row_real);
            float v[SPAN];
            load_span(plane + row * u_in_size.x, row_real, cols, col_real, v);
            int wrow = wc + i * KW;
            for (int j = 0; j < KW; j++)
            {
                vec4 w = PARAM(wrow + j);
                for (int k = 0; k < OX; k++) acc[k] += w * v[k * SX + j * DX];
            }
        }
    }

    for (int k = 0; k < OX; k++) acc[k] = fused_act(acc[k]);
    // Predicated stores (no early return above: loads after one lose the uniform broadcast on llvmpipe).
    if (inside)
    {
        int x_end = u_origin.x + u_extent.x;
        int plane_out = u_out_size.x * u_out_size.y;
        int at = (first_out * u_out_size.y + out_pos.y) * u_out_size.x + out_pos.x;
#if U64_STORES
        for (int q = 0; q < 4; q++)
            for (int h = 0; h < OX / 8; h++)
                if (first_out + q < last_out && out_pos.x + 8 * h < x_end)
                    out_data8[((at + q * plane_out) >> 3) + h] =
                        pack8(vec4(acc[8 * h][q], acc[8 * h + 1][q], acc[8 * h + 2][q], acc[8 * h + 3][q]),
                              vec4(acc[8 * h + 4][q], acc[8 * h + 5][q], acc[8 * h + 6][q], acc[8 * h + 7][q]));
#elif VEC4_STORES
        for (int q = 0; q < 4; q++)
            for (int h = 0; h < OX / 4; h++)
                if (first_out + q < last_out && out_pos.x + 4 * h < x_end)
                    out_data4[((at + q * plane_out) >> 2) + h] = vec4(acc[4 * h][q], acc[4 * h + 1][q], acc[4 * h + 2][q], acc[4 * h + 3][q]);
#else
        for (int q = 0; q < 4; q++)
            if (first_out + q < last_out)
                for (int k = 0; k < OX; k++)
                    if (out_pos.x + k < x_end) out_data[at + q * plane_out + k] = acc[k][q];
#endif
    }
}
