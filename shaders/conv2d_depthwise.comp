#version 430
// Depthwise 2D convolution, the fast variant of conv2d.comp for weights (C, 1, kH, kW) with groups = C (every
// channel filtered alone by its own kernel: image filters, depthwise layers). The reference is Conv2D.Apply:
//
//   out[c, y, x] = bias[c] + sum_{i, j} w[c, 0, i', j'] * in_pad[c, y*sy + i*dy, x*SX + j*DX]
//
// with (i', j') = (i, j) under correlate and (KH-1-i, KW-1-j) under convolve (ConvPlan packs the weights flipped then,
// so the shader always correlates). One invocation computes OX outputs
// along x of one row of one channel; the channel is the workgroup's z, so every weight address is the same in all
// lanes. See include/conv_fast.glsl for the input view, the parameter block and the interior/rim split.
//
// Parameters (vec4s; ConvPlan packs them): per channel a block of CH_VEC4 vec4s: each of the KH kernel rows padded to
// ROW_VEC4 whole vec4s (so tap j is component j % 4 whatever the row: the row loop may stay a loop), then the bias.
// Defines: see include/conv_fast.glsl.

#include "include/conv_fast.glsl"

#define ROW_VEC4 ((KW + 3) / 4)
#define CH_VEC4 (KH * ROW_VEC4 + 1)

void main()
{
    bool inside;
    ivec2 out_pos = block_output(inside);
    int c = block_z();
    int base = c * CH_VEC4;
    int x0 = out_pos.x * SX - u_pad.x;
    int y0 = out_pos.y * u_step_y.x - u_pad.y;

    int cols[SPAN];
    bool col_real[SPAN];
    span_columns(x0, cols, col_real);

    float b = PARAM(base + KH * ROW_VEC4).x;
    float acc[OX];
    for (int k = 0; k < OX; k++) acc[k] = b;

    int plane = c * u_in_size.y;
    for (int i = 0; i < KH; i++)
    {
        bool row_real;
        int row = (plane + tap_row(y0 + i * u_step_y.y, row_real)) * u_in_size.x;
        float v[SPAN];
        load_span(row, row_real, cols, col_real, v);
        int wrow = base + i * ROW_VEC4;
        for (int j = 0; j < KW; j++)
        {
            float w = PARAM(wrow + j / 4)[j % 4];
            for (int k = 0; k < OX; k++) acc[k] += w * v[k * SX + j * DX];
        }
    }

    // Predicated stores (no early return above: loads after one lose the uniform broadcast on llvmpipe).
    if (inside)
    {
        int out_row = (c * u_out_size.y + out_pos.y) * u_out_size.x;
        int x_end = u_origin.x + u_extent.x;
        for (int k = 0; k < OX; k++)
            if (out_pos.x + k < x_end) out_data[out_row + out_pos.x + k] = acc[k];
    }
}
