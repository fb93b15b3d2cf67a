#version 430
#if U64_STORES
#extension GL_ARB_gpu_shader_int64 : require
#endif
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
// Defines: see include/conv_fast.glsl, and
// - VEC4_STORES (interior only): the rectangle starts at a multiple of 4 along x and output rows are whole vec4s, so a
//   block's OX outputs are OX / 4 aligned vec4 stores. On llvmpipe every storage-block store with a per-lane address is
//   a loop over the 8 SIMD lanes (a branch or two per lane); a vec4 store is one such loop for 4 values.
// - U64_STORES (with VEC4_STORES): the block starts at a multiple of 8 along x and output rows are whole multiples of 8,
//   so its outputs are OX / 8 stores of 8 floats each (include/store8.glsl).
// - CHANNEL_UNIFORM: one dispatch per channel (the uniform u_channel) with the parameter block bound at the channel's
//   weights, so every weight address is a constant. A uniform-block load is a broadcast on llvmpipe only when its
//   address is provably the same in every lane (constants; not gl_WorkGroupID, and not even a default-block uniform,
//   itself a uniform-block load there); otherwise every weight is gathered lane by lane.
// - ZERO_PLANE (with RIM 0, VEC4_LOADS, VEC4_STORES): the whole output plane in one dispatch, no rim strips, for a zero
//   border on rows of whole vec4s (input and output). Every rgba32f texel then lies wholly inside or wholly outside
//   its row, so a tap outside the image is a texel replaced by zeros (a select on the clamped fetch), not border
//   arithmetic per tap; the rim strips (scalar loads, border index per tap) cost a fifth of a 3x3 layer at 256x256.
// - LITERAL_W (with CHANNEL_UNIFORM, interior only; ConvPlan's image filters on a software rasteriser): the kernel
//   (KH * KW values, row by row, stored as the shader correlates) as literals, the same for every channel, instead of
//   the uniform block (the bias is still read there). Every multiply-add then has a constant operand (a tap of 1 or -1 is an
//   add or a subtract); a zero tap still multiplies its input (include/zero_tap.glsl), so a NaN or an infinity under it gives
//   NaN as in the reference.

#include "include/conv_fast.glsl"
#include "include/unroll.glsl"
#include "include/fused_act.glsl"

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
#define CH_VEC4 (KH * ROW_VEC4 + 1)

// Tap (i, j) of the channel whose weights start at vec4 base, and its bias.
#ifdef LITERAL_W
// A zero tap reads a uniform zero (include/zero_tap.glsl). The bias stays in the uniform block: sums that start from
// literals may be moved into the loop that stores the lanes one by one (LiteralConvPlan's u_zero).
#include "include/zero_tap.glsl"
const float literal_w[KH * KW] = LITERAL_W;
#define TAP(base, i, j) ZERO_OR(literal_w[(i) * KW + (j)])
#else
#define TAP(base, i, j) PARAM((base) + (i) * ROW_VEC4 + (j) / 4)[(j) % 4]
#endif
#define BIAS(base) PARAM((base) + KH * ROW_VEC4).x

#if ZERO_PLANE
// The SPAN inputs of input row y from column x0 on, zero outside the image (see ZERO_PLANE above).
void load_span_zero(int plane, int y, int x0, out float v[SPAN])
{
    bool row_in = uint(y) < uint(u_in_size.y);
    int row = (plane + clamp(y, 0, u_in_size.y - 1)) * u_in_size.x;
    int xt = x0 - VEC4_SHIFT; // a multiple of 4
    for (int q = 0; q < (SPAN + VEC4_SHIFT + 3) / 4; q++)
    {
        int x = xt + 4 * q;
        vec4 t = imageLoad(u_input4, (row + clamp(x, 0, u_in_size.x - 4)) >> 2);
        t = row_in && uint(x) < uint(u_in_size.x) ? t : vec4(0.0);
        for (int e = 0; e < 4; e++)
        {
            int s = 4 * q + e - VEC4_SHIFT;
            if (s >= 0 && s < SPAN) v[s] = t[e];
        }
    }
}
#endif

// The SPAN inputs of input row y from column x0 on (zero outside the image under ZERO_PLANE).
void load_row(int plane, int y, int x0, int cols[SPAN], bool col_real[SPAN], out float v[SPAN])
{
#if ZERO_PLANE
    load_span_zero(plane, y, x0, v);
#else
    bool row_real;
    int row = (plane + tap_row(y, row_real)) * u_in_size.x;
    load_span(row, row_real, cols, col_real, v);
#endif
}

// Output row r of the block: OX / 8 stores of 8 floats (U64_STORES), OX / 4 aligned vec4 stores (VEC4_STORES; the
// interior's rectangle starts at a multiple of 4 and its width is a multiple of OX, the last row of blocks moved up, so
// the whole block is in it; ZERO_PLANE: whole vec4s of it are), else one float each where it lies in the rectangle.
void store_row(int c, ivec2 out_pos, int r, float acc[OX])
{
    int out_row = (c * u_out_size.y + out_pos.y + r) * u_out_size.x;
#if U64_STORES
    for (int q = 0; q < OX / 8; q++)
        if (!bool(ZERO_PLANE) || out_pos.x + 8 * q < u_out_size.x)
            out_data8[((out_row + out_pos.x) >> 3) + q] = pack8(vec4(acc[8 * q], acc[8 * q + 1], acc[8 * q + 2], acc[8 * q + 3]),
                                                              vec4(acc[8 * q + 4], acc[8 * q + 5], acc[8 * q + 6], acc[8 * q + 7]));
#elif VEC4_STORES
    for (int q = 0; q < OX / 4; q++)
        if (!bool(ZERO_PLANE) || out_pos.x + 4 * q < u_out_size.x)
            out_data4[((out_row + out_pos.x) >> 2) + q] = vec4(acc[4 * q], acc[4 * q + 1], acc[4 * q + 2], acc[4 * q + 3]);
#else
    // The interior's width is a multiple of OX and its last row of blocks is moved up; a rim block may pass its rectangle.
    int x_end = u_origin.x + u_extent.x, y_end = u_origin.y + u_extent.y;
    for (int k = 0; k < OX; k++)
        if (out_pos.y + r < y_end && out_pos.x + k < x_end) out_data[out_row + out_pos.x + k] = acc[k];
#endif
}

// Input row t of the block, loaded once: with OY output rows per block (OY > 1 only for a y stride and dilation of 1)
// output row r takes it as its kernel row i = t - r; with OY 1 it is kernel row t, u_step_y.y rows apart.
void input_row(const int t, int base, int plane, int y0, int x0, int cols[SPAN], bool col_real[SPAN], inout float acc[OY * OX])
{
    float v[SPAN];
    load_row(plane, y0 + (OY > 1 ? t : t * u_step_y.y), x0, cols, col_real, v);
    // With t literal, i is a constant: the rows outside an output's window fold away.
    for (int r = 0; r < OY; r++)
    {
        int i = t - r;
        if (i >= 0 && i < KH)
        {
            for (int j = 0; j < KW; j++)
            {
                float w = TAP(base, i, j);
                for (int k = 0; k < OX; k++) acc[r * OX + k] += w * v[k * SX + j * DX];
            }
        }
    }
}

#if SLIDE
// SLIDE (RIM 0 or ZERO_PLANE; a y stride and dilation of 1; OY a multiple of KH): the invocation walks down its block of
// OY output rows, keeping the last KH input rows it loaded in a ring (slot t % KH, a constant: rows go KH at a time,
// unrolled), so each input row is fetched once per strip instead of (OY + KH - 1) / OY times per output row (KH + 1 per 2
// rows before). The weights are loaded once before the loop. Same terms in the same order as the blocks (bias, then
// kernel rows and columns ascending): equal outputs bit for bit.

void main()
{
    bool inside;
    ivec2 out_pos = block_output(inside);
#if CHANNEL_UNIFORM
    int c = u_channel;
    const int base = 0;
#else
    int c = block_z();
    int base = c * CH_VEC4;
#endif
    int x0 = out_pos.x * SX - u_pad.x;
    int y0 = out_pos.y - u_pad.y;
    int cols[SPAN];
    bool col_real[SPAN];
    span_columns(x0, cols, col_real);

    float w[KH * KW];
    for (int i = 0; i < KH; i++)
        for (int j = 0; j < KW; j++) w[i * KW + j] = TAP(base, i, j);
    float b = BIAS(base);
    int plane = c * u_in_size.y;

    float ring[KH * SPAN];
    float v[SPAN];
#define PRIME(t) if ((t) < KH - 1) { load_row(plane, y0 + (t), x0, cols, col_real, v); for (int s = 0; s < SPAN; s++) ring[(t) * SPAN + s] = v[s]; }
    UNROLL_32(PRIME)

    for (int g = 0; g < OY / KH; g++)
    {
        // Output row r = g*KH + m reads input rows r .. r + KH - 1, in slots (m + i) % KH; the last one is loaded now.
#define SLIDE_ROW(m) if ((m) < KH) \
        { \
            int r = g * KH + (m); \
            load_row(plane, y0 + r + KH - 1, x0, cols, col_real, v); \
            for (int s = 0; s < SPAN; s++) ring[(((m) + KH - 1) % KH) * SPAN + s] = v[s]; \
            float acc[OX]; \
            for (int k = 0; k < OX; k++) acc[k] = b; \
            for (int i = 0; i < KH; i++) \
                for (int j = 0; j < KW; j++) \
                    for (int k = 0; k < OX; k++) acc[k] += w[i * KW + j] * ring[(((m) + i) % KH) * SPAN + k * SX + j * DX]; \
            for (int k = 0; k < OX; k++) acc[k] = fused_act(acc[k]); \
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
    const int base = 0; // the uniform block is bound at this channel's weights
#else
    int c = block_z();
    int base = c * CH_VEC4;
#endif
    int x0 = out_pos.x * SX - u_pad.x;
    int y0 = out_pos.y * u_step_y.x - u_pad.y;

    int cols[SPAN];
    bool col_real[SPAN];
    span_columns(x0, cols, col_real);

    float b = BIAS(base);
    float acc[OY * OX];
    for (int k = 0; k < OY * OX; k++) acc[k] = b;

    int plane = c * u_in_size.y;
    // Input row t, called with a literal t (include/unroll.glsl): Mesa unrolls a loop over the rows only while its body is
    // small, and in a loop the row's weight addresses vary per iteration, which makes them per-lane gathers on llvmpipe.
#define INPUT_ROW(t) if ((t) < OY + KH - 1) input_row((t), base, plane, y0, x0, cols, col_real, acc);
    UNROLL_32(INPUT_ROW)

    for (int k = 0; k < OY * OX; k++) acc[k] = fused_act(acc[k]);
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
