#version 430
// One pass of a batched mixed-radix Stockham FFT (the autosort formulation of Govindaraju et al., "High
// performance discrete Fourier transforms on graphics processors", SC 2008): for a length-N transform done as
// passes of radix R1, R2, ... with Ns = the product of the radices before this pass, butterfly j (0 <= j < N/R)
//   v[r] = src[j + r*N/R] * w^(k*r),  k = j mod Ns,  w = exp(s*2*pi*i / (Ns*R))     (r = 0..R-1)
//   v = DFT_R(v)
//   dst[(j / Ns) * Ns * R + k + r*Ns] = v[r]
// leaves the output in natural order after the last pass, for any mix of radices (checked in NumPy first).
// s = -1 forward, +1 inverse (no 1/N here; fft_product.comp folds it in).
//
// The data are FFT frames (F_h, F_w) of vec4 texels, two complex values each (fft_complex.glsl), frames back to
// back, read and written through imageBuffer views: on llvmpipe image loads are vector gathers while SSBO loads
// with per-invocation addresses are scalar loops (../shared/PERF-NOTES.md). Each invocation does one radix-R
// butterfly, so it moves R texels = 2R complex values.
//
// Two passes do more than a butterfly, each saving a full write and read of the frames:
//  - PAD (the first forward row pass) builds its input itself: the convolution's input padded by its border
//    (exactly the in_pad of DESIGN.md's formula), cut into four tiles along y, the tiles packed as the four
//    floats of each texel (FftPlan: overlap-save). The dense (stride 1) correlation with a kernel spanning dkH x dkW
//    needs, for dense rows [t*T_h, (t+1)*T_h) of tile t, the padded rows [t*T_h, (t+1)*T_h + dkH - 1): a frame of
//    F_h >= T_h + dkH - 1 rows holds a tile without wrap-around reaching the outputs that are read. Packing the
//    four real tiles two per complex value (tile 0 + i tile 1, tile 2 + i tile 3) is exact because every kernel is
//    real: (a + ib) * k = a*k + i b*k. Texel (c, fy, fx) = (in_pad[c, fy, fx], in_pad[c, T_h + fy, fx],
//    in_pad[c, 2T_h + fy, fx], in_pad[c, 3T_h + fy, fx]), 0 beyond H_need rows or W_need columns. Where each
//    padded row and column comes from is a table made on the CPU by Core's Borders.Map (the reference's own
//    mapping; -1 for a zero border outside, or beyond H_need / W_need): no modulo per texel, which llvmpipe would
//    run one lane at a time, and no second copy of the border rules to keep in step.
//  - UNPACK (the last inverse row pass) writes the convolution instead of a frame: output (o, y, x) is the dense
//    correlation at padded position (y s_y, x s_x) (the stride subsamples it), which lives in tile
//    t = (y s_y) / T_h at frame row (y s_y) - t T_h, column x s_x, float t of the texel; plus the bias. Only frame
//    rows below T_h are transformed (the dispatch covers those), the only ones that hold outputs.
//  Where the whole input's frames would pass the driver's largest buffer, the dense rows run in bands through the
//  same frames (FftPlan.Bands): both passes add the band's first dense row, u_row_base, to the tiles' rows.
//
// Defines: RADIX (1, 2, 3, 4, 5, 8, 16), INVERSE (0/1), COLUMNS (0: transform along x, 1: along y), FIRST (1: the
// first pass, Ns = 1, every twiddle is 1), PAD, UNPACK, HAS_BIAS (0/1).
// Twiddles come from a table tw[q] = exp(-2 pi i q / N) computed in double on the CPU; this pass needs the
// powers w^(k r) = tw[k r N/(Ns R)] for r = 1..R-1: the first is read, the rest are products of it.

#include "include/fft_radix.glsl"

// 16 x 4: 16 butterflies (rows) or columns (column passes) along x, so llvmpipe's 8-lane chunks read neighbouring
// texels, and a row pass with N/R = 80 butterflies fills its groups (a 64-wide group would leave 48 of 128 idle).
#if COLUMNS
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
#else
layout(local_size_x = 16, local_size_y = 4, local_size_z = 1) in;
#endif

#if PAD
layout(r32f, binding = 0) readonly uniform imageBuffer u_input;   // (C, H, W) tensor
layout(r32i, binding = 3) readonly uniform iimageBuffer u_maps;   // row map (3 T_h + F_h), then column map (F_w)
uniform ivec3 u_in_shape;  // (C, H, W)
uniform int u_columns_at;  // where the column map starts in u_maps
uniform int u_tiles;       // tiles in use (FftPlan): 4, or 1 for the theorem view's frames (floats 1..3 then zero)
uniform int u_row_base;    // the band's first dense row (FftPlan.Bands; 0 for one band)
#else
layout(rgba32f, binding = 0) readonly uniform imageBuffer u_src;
#endif
#if UNPACK
layout(r32f, binding = 1) writeonly uniform imageBuffer u_output;  // (C_out, H_out, W_out) tensor
layout(std430, binding = 4) readonly buffer Bias { float b_data[]; };
uniform ivec3 u_out_shape; // (C_out, H_out, W_out)
uniform ivec2 u_stride;    // (s_y, s_x)
uniform vec2 u_inv_stride; // (1 / s_y, 1 / s_x)
uniform int u_row_base;    // the band's first dense row
#else
layout(rgba32f, binding = 1) writeonly uniform imageBuffer u_dst;
#endif
layout(rg32f, binding = 2) readonly uniform imageBuffer u_twiddles;

uniform ivec2 u_frame;       // (F_h, F_w)
uniform int u_quarter;       // N / RADIX: butterflies per transform
uniform int u_rows;          // row passes: the frame rows transformed (F_h, or T_h for the inverse)
uniform int u_ns;            // product of the radices of the passes before this one
uniform float u_inv_ns;      // 1 / u_ns
uniform int u_twiddle_step;  // N / (u_ns * RADIX): the table index of w
uniform int u_frames;        // number of frames
uniform int u_tile_rows;     // T_h
// No integer division per invocation: llvmpipe has no vector integer divide and runs one per lane. The shape
// quotients are uniforms, and j / Ns is taken in float: (j + 0.5) / Ns is at least 0.5/Ns from an integer, far
// more than float's rounding for j < 2^22.

#if INVERSE
const float SIGN = 1.0;
#else
const float SIGN = -1.0;
#endif

void main()
{
#if COLUMNS
    // x: column within the frame, y: butterfly, z: frame.
    int x = int(gl_GlobalInvocationID.x), j = int(gl_GlobalInvocationID.y), f = int(gl_GlobalInvocationID.z);
    if (x >= u_frame.y || j >= u_quarter || f >= u_frames) return;
    int base = f * u_frame.x * u_frame.y + x;
    int step = u_frame.y;
#else
    // x: butterfly, y: row, z: frame.
    int j = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y), f = int(gl_GlobalInvocationID.z);
    if (j >= u_quarter || y >= u_rows || f >= u_frames) return;
    int base = (f * u_frame.x + y) * u_frame.y;
    int step = 1;
#endif
    vec4 v[RADIX];
#if PAD
    // Row pass: y is the frame row fy, f the input channel; the four tiles' source rows are the same for every texel.
    int h = u_in_shape.y, w = u_in_shape.z;
    int row = u_row_base + y;
    ivec4 sy = ivec4(imageLoad(u_maps, row).x, imageLoad(u_maps, u_tile_rows + row).x,
                     imageLoad(u_maps, 2 * u_tile_rows + row).x, imageLoad(u_maps, 3 * u_tile_rows + row).x);
    for (int r = 0; r < RADIX; r++)
    {
        int sx = imageLoad(u_maps, u_columns_at + j + r * u_quarter).x;
        for (int t = 0; t < 4; t++)
        {
            bool ok = sx >= 0 && sy[t] >= 0 && t < u_tiles;
            // Predicated load (index 0 when outside) rather than a branch around it: see PERF-NOTES.md.
            float value = imageLoad(u_input, ok ? (f * h + sy[t]) * w + sx : 0).x;
            v[r][t] = ok ? value : 0.0;
        }
    }
#else
    for (int r = 0; r < RADIX; r++) v[r] = imageLoad(u_src, base + (j + r * u_quarter) * step);
#endif

#if FIRST
    int group = j, k = 0;
#else
    int group = int((float(j) + 0.5) * u_inv_ns);
    int k = j - group * u_ns;
    vec2 w1 = imageLoad(u_twiddles, k * u_twiddle_step).xy;
    w1.y *= -SIGN; // the table holds the forward twiddles exp(-i...): conjugate for the inverse
    fft_twiddle(v, w1);
#endif
    fft_dft(v, SIGN);

    int d = group * u_ns * RADIX + k;
#if UNPACK
    // Row pass below T_h: y is the frame row fy, f the output channel.
#if HAS_BIAS
    float bias = b_data[f];
#else
    float bias = 0.0;
#endif
    ivec4 oy, m;
    for (int t = 0; t < 4; t++)
    {
        m[t] = u_row_base + t * u_tile_rows + y;
        oy[t] = int((float(m[t]) + 0.5) * u_inv_stride.x);
    }
    bvec4 row_ok = equal(oy * u_stride.x, m);
    for (int t = 0; t < 4; t++) row_ok[t] = row_ok[t] && oy[t] < u_out_shape.y;
    for (int r = 0; r < RADIX; r++)
    {
        int n = d + r * u_ns;
        int ox = int((float(n) + 0.5) * u_inv_stride.y);
        bool col_ok = ox * u_stride.y == n && ox < u_out_shape.z;
        for (int t = 0; t < 4; t++)
            if (col_ok && row_ok[t]) imageStore(u_output, (f * u_out_shape.y + oy[t]) * u_out_shape.z + ox, vec4(v[r][t] + bias));
    }
#else
    for (int r = 0; r < RADIX; r++) imageStore(u_dst, base + (d + r * u_ns) * step, v[r]);
#endif
}
