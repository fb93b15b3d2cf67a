#version 430
#if U64_STORES
#extension GL_ARB_gpu_shader_int64 : require
#endif
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
#include "include/unroll.glsl"

// VEC4_STORES, U64_STORES, CHANNEL_UNIFORM: as in conv2d_depthwise.comp (aligned vec4 stores in the interior; one dispatch per channel
// with the parameter block bound at the channel's vectors, so every weight address is a constant).
#if U64_STORES
#include "include/store8.glsl"
layout(std430, binding = 3) writeonly buffer Output8 { u64vec4 out_data8[]; };
#elif VEC4_STORES
layout(std430, binding = 3) writeonly buffer Output4 { vec4 out_data4[]; };
#endif
#if CHANNEL_UNIFORM
uniform int u_channel;
#endif

#define ROW_VEC4 ((KW + 3) / 4)
#define COL_VEC4 ((KH + 3) / 4)
#define CH_VEC4 (ROW_VEC4 + COL_VEC4 + 1)

// Row tap j and column tap i of the channel whose vectors start at vec4 base. LITERAL_ROW, LITERAL_COL (interior only;
// ConvPlan's literal filters on a software rasteriser): the two vectors as literals (as the shader reads them), the
// same for every channel; a zero tap reads a uniform zero (include/zero_tap.glsl), so its products are computed and a
// NaN or an infinity under it gives NaN as in the reference. The bias
// stays in the uniform block.
#ifdef LITERAL_ROW
#include "include/zero_tap.glsl"
const float literal_row[KW] = LITERAL_ROW;
const float literal_col[KH] = LITERAL_COL;
#define ROW_TAP(base, j) ZERO_OR(literal_row[j])
#define COL_TAP(base, i) ZERO_OR(literal_col[i])
#else
#define ROW_TAP(base, j) PARAM((base) + (j) / 4)[(j) % 4]
#define COL_TAP(base, i) PARAM((base) + ROW_VEC4 + (i) / 4)[(i) % 4]
#endif

// Output row r of the block: OX / 8 stores of 8 floats or OX / 4 aligned vec4 stores in the interior (its width is a
// multiple of OX and its last row of blocks moved up: the whole block is in it), else one float each where it lies in
// the rectangle (a rim block may pass it).
void store_row(int c, ivec2 out_pos, int r, float acc[OX])
{
    int out_row = (c * u_out_size.y + out_pos.y + r) * u_out_size.x;
#if U64_STORES
    for (int q = 0; q < OX / 8; q++)
        out_data8[((out_row + out_pos.x) >> 3) + q] = pack8(vec4(acc[8 * q], acc[8 * q + 1], acc[8 * q + 2], acc[8 * q + 3]),
                                                          vec4(acc[8 * q + 4], acc[8 * q + 5], acc[8 * q + 6], acc[8 * q + 7]));
#elif VEC4_STORES
    for (int q = 0; q < OX / 4; q++)
        out_data4[((out_row + out_pos.x) >> 2) + q] = vec4(acc[4 * q], acc[4 * q + 1], acc[4 * q + 2], acc[4 * q + 3]);
#else
    int x_end = u_origin.x + u_extent.x, y_end = u_origin.y + u_extent.y;
    for (int k = 0; k < OX; k++)
        if (out_pos.y + r < y_end && out_pos.x + k < x_end) out_data[out_row + out_pos.x + k] = acc[k];
#endif
}

// Input row y filtered along x: h[k] = sum_j row[j] * in[y, x0 + k*SX + j*DX].
void filtered_row(int plane, int y, int cols[SPAN], bool col_real[SPAN], float wr[KW], out float h[OX])
{
    bool row_real;
    int row = (plane + tap_row(y, row_real)) * u_in_size.x;
    float v[SPAN];
    load_span(row, row_real, cols, col_real, v);
    for (int k = 0; k < OX; k++) h[k] = 0.0;
    for (int j = 0; j < KW; j++)
        for (int k = 0; k < OX; k++) h[k] += wr[j] * v[k * SX + j * DX];
}

// Input row t of the block: loaded, filtered along x once (h), and added to every output row r whose window holds it
// (as its tap i = t - r).
void input_row(const int t, int base, int plane, int y0, int cols[SPAN], bool col_real[SPAN], inout float acc[OY * OX])
{
    float wr[KW];
    for (int j = 0; j < KW; j++) wr[j] = ROW_TAP(base, j);
    float h[OX];
    filtered_row(plane, y0 + t, cols, col_real, wr, h);
    // With t literal, i is a constant: the rows outside the window fold away (no multiply by a zero weight, so a NaN in
    // a row outside an output's window cannot reach it).
    for (int r = 0; r < OY; r++)
    {
        int i = t - r;
        if (i >= 0 && i < KH)
        {
            float w = COL_TAP(base, i);
            for (int k = 0; k < OX; k++) acc[r * OX + k] += w * h[k];
        }
    }
}

#if SLIDE
// SLIDE (interior only; OY a multiple of KH): the invocation walks down its block of OY rows instead of holding them all.
// Each input row is loaded and filtered along x once (h), kept in a ring of the last KH filtered rows (slot t % KH, a
// constant: the rows are taken KH at a time, unrolled), and each output row is the column taps over the ring. An input row
// is fetched once per block of OY output rows plus KH - 1 above it, where a block of OY 4 fetched (4 + KH - 1) rows per
// 4 output rows; the sums are the same terms in the same order (bias, then tap rows ascending), so the outputs are equal
// bit for bit. On llvmpipe the texel fetches are most of the time (per-lane 16-byte loads and transposes), the
// multiply-adds ~12%.

void main()
{
    bool inside;
    ivec2 out_pos = block_output(inside);
#if CHANNEL_UNIFORM
    int c = u_channel;
    const int base = 0;
#else
    int c = int(gl_WorkGroupID.z);
    int base = c * CH_VEC4;
#endif
    int x0 = out_pos.x * SX - u_pad.x;
    int y0 = out_pos.y - u_pad.y;
    int cols[SPAN];
    bool col_real[SPAN];
    span_columns(x0, cols, col_real);

    // The taps, loaded once before the loop at constant addresses (a broadcast on llvmpipe).
    float wr[KW], wc[KH];
    for (int j = 0; j < KW; j++) wr[j] = ROW_TAP(base, j);
    for (int i = 0; i < KH; i++) wc[i] = COL_TAP(base, i);
    float b = PARAM(base + ROW_VEC4 + COL_VEC4).x;
    int plane = c * u_in_size.y;

    float ring[KH * OX];
    float h[OX];
    // The first KH - 1 input rows of the block's first output row.
#define PRIME(t) if ((t) < KH - 1) { filtered_row(plane, y0 + (t), cols, col_real, wr, h); for (int k = 0; k < OX; k++) ring[(t) * OX + k] = h[k]; }
    UNROLL_32(PRIME)

    for (int g = 0; g < OY / KH; g++)
    {
        // Output row r = g*KH + m reads input rows r .. r + KH - 1, held in slots (m + i) % KH; its last one is loaded now.
#define SLIDE_ROW(m) if ((m) < KH) \
        { \
            int r = g * KH + (m); \
            filtered_row(plane, y0 + r + KH - 1, cols, col_real, wr, h); \
            for (int k = 0; k < OX; k++) ring[(((m) + KH - 1) % KH) * OX + k] = h[k]; \
            float acc[OX]; \
            for (int k = 0; k < OX; k++) acc[k] = b; \
            for (int i = 0; i < KH; i++) \
                for (int k = 0; k < OX; k++) acc[k] += wc[i] * ring[(((m) + i) % KH) * OX + k]; \
            if (inside) store_row(c, out_pos, r, acc); \
        }
        UNROLL_32(SLIDE_ROW)
    }
}
#else
void main()
{
    bool inside;
    ivec2 out_pos = block_output(inside);
#if CHANNEL_UNIFORM
    int c = u_channel;
    const int base = 0;
#else
    int c = int(gl_WorkGroupID.z);
    int base = c * CH_VEC4;
#endif
    int x0 = out_pos.x * SX - u_pad.x;
    int y0 = out_pos.y - u_pad.y;

    int cols[SPAN];
    bool col_real[SPAN];
    span_columns(x0, cols, col_real);

    float b = PARAM(base + ROW_VEC4 + COL_VEC4).x;
    float acc[OY * OX];
    for (int k = 0; k < OY * OX; k++) acc[k] = b;

    int plane = c * u_in_size.y;
    // Input row t of the block, called with a literal t (include/unroll.glsl): in a loop that stays a loop (Mesa unrolls
    // only small bodies) the column weight of each (t, r) would be gathered lane by lane and the selects below kept.
#define INPUT_ROW(t) if ((t) < OY + KH - 1) input_row((t), base, plane, y0, cols, col_real, acc);
    UNROLL_32(INPUT_ROW)

    // Predicated stores (no early return above: loads after one lose the uniform broadcast on llvmpipe).
    if (inside)
        for (int r = 0; r < OY; r++)
        {
            float row[OX];
            for (int k = 0; k < OX; k++) row[k] = acc[r * OX + k];
            store_row(c, out_pos, r, row);
        }
}
#endif
