#version 430
// A separable (rank-1) depthwise filter K[i, j] = col[i] * row[j] in one pass, the fast variant of the two
// separable.comp passes for a y stride and dilation of 1 (image filters). The reference is Conv2D.Filter with the
// outer-product kernel:
//
//   out[c, y, x] = bias[c] + sum_i col[i'] * h[c, y - top + i, x],   h[c, r, x] = sum_j row[j'] * in_pad[c, r, x*SX + j*DX]
//
// with (i', j') = (i, j) under correlate and mirrored under convolve (ConvPlan packs the vectors reversed then). One
// invocation computes a block of OY rows x OX outputs of one channel: the OY + KH - 1 input rows it needs are each
// loaded once and filtered along x once (h), and every h row feeds the up to KH output rows whose window holds it. So
// a row of inputs is fetched (OY + KH - 1) / OY times per output row instead of KH times (the 2D kernel), and there is
// no intermediate tensor (the two-pass variant writes and re-reads one). See include/conv_fast.glsl for the input
// view, the parameter block and the interior/rim split.
//
// Parameters (vec4s; SeparablePlan packs them): per channel ROW_VEC4 vec4s of row taps, COL_VEC4 of column taps
// (zero-padded), then a vec4 whose x is the bias. Defines: OY, and those of include/conv_fast.glsl (KH, KW: the column
// and row lengths).

#include "include/conv_fast.glsl"

#define ROW_VEC4 ((KW + 3) / 4)
#define COL_VEC4 ((KH + 3) / 4)
#define CH_VEC4 (ROW_VEC4 + COL_VEC4 + 1)

void main()
{
    bool inside;
    ivec2 out_pos = block_output(inside);
    int c = int(gl_WorkGroupID.z);
    int base = c * CH_VEC4;
    int x0 = out_pos.x * SX - u_pad.x;
    int y0 = out_pos.y - u_pad.y;

    int cols[SPAN];
    bool col_real[SPAN];
    span_columns(x0, cols, col_real);

    float b = PARAM(base + ROW_VEC4 + COL_VEC4).x;
    float acc[OY * OX];
    for (int k = 0; k < OY * OX; k++) acc[k] = b;

    int plane = c * u_in_size.y;
    for (int t = 0; t < OY + KH - 1; t++)
    {
        bool row_real;
        int row = (plane + tap_row(y0 + t, row_real)) * u_in_size.x;
        float v[SPAN];
        load_span(row, row_real, cols, col_real, v);
        float h[OX];
        for (int k = 0; k < OX; k++) h[k] = 0.0;
        for (int j = 0; j < KW; j++)
        {
            float w = PARAM(base + j / 4)[j % 4];
            for (int k = 0; k < OX; k++) h[k] += w * v[k * SX + j * DX];
        }
        // Output row r of the block takes input row t as its tap i = t - r. A select, not a multiply by a zero weight:
        // a NaN in a row outside an output's window must not reach it.
        for (int r = 0; r < OY; r++)
        {
            int i = t - r;
            bool used = i >= 0 && i < KH;
            float w = PARAM(base + ROW_VEC4 + clamp(i, 0, KH - 1) / 4)[clamp(i, 0, KH - 1) % 4];
            for (int k = 0; k < OX; k++) acc[r * OX + k] = used ? acc[r * OX + k] + w * h[k] : acc[r * OX + k];
        }
    }

    // Predicated stores (no early return above: loads after one lose the uniform broadcast on llvmpipe).
    if (inside)
    {
        int x_end = u_origin.x + u_extent.x, y_end = u_origin.y + u_extent.y;
        for (int r = 0; r < OY; r++)
        {
            int out_row = (c * u_out_size.y + out_pos.y + r) * u_out_size.x;
            for (int k = 0; k < OX; k++)
                if (out_pos.y + r < y_end && out_pos.x + k < x_end) out_data[out_row + out_pos.x + k] = acc[r * OX + k];
        }
    }
}
