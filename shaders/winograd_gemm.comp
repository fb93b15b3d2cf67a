#version 430
// Winograd F(4x4, 3x3), step 2 of 3: for each of the 36 tile positions, the products M = U V summed over input channels,
//
//   M[pos][o][t] = sum_c U[pos][c][o] * V[pos][c][t]
//
// 36 matrix products (C_out x C_in) . (C_in x tiles). One invocation computes 4 output channels x 8 tiles (32 sums, as
// conv2d_dense.comp's 4 channels x 8 x): per input channel one rgba32f fetch of U (the 4 channels) and two of V (the 8
// tiles) feed 32 multiply-adds, each worth 4 of the direct conv's (2.25 per output instead of 9). Invocations are
// numbered position-fastest, so the lanes of one SIMD group read neighbouring V texels and write neighbouring M texels.
// CO8 (WinogradPlan: where the blocks of 4 output channels pair up): 8 output channels x 8 tiles per invocation, two U
// fetches and two V fetches feeding 64 multiply-adds (64 accumulators: more spills, fewer fetches per product; 5-12%
// faster on ResNet18's layers on llvmpipe, bench/README.md; 8 channels x 4 tiles had measured slower than 4 x 8).
// T4 (WinogradPlan.UsesT4: maps of at most 4 tiles, output channels in whole blocks of 16): 16 output channels x 4 tiles,
// four U fetches and one V fetch feeding 64 multiply-adds, none of them on padding tiles (512->512 at 7x7 ~20% faster).
//
// U (WinogradPlan packs it, already flipped under convolve) is (C_in, CB, 36) vec4s, component q for output channel
// 4b + q (zero past the last): the lanes' U texels are neighbours too (position-major, a 512->512 layer's 38 MB of U
// made every lane's fetch a different page and took as long as the direct conv); V is (C_in, TP / 4, 36) vec4s
// (winograd_input.comp: 4 tiles per vec4); M is (4 CB, TP / 4, 36) vec4s, the same layout for the output channels.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(rgba32f, binding = 0) readonly uniform imageBuffer u_v4;
layout(rgba32f, binding = 2) readonly uniform imageBuffer u_params;
layout(std430, binding = 3) writeonly buffer Products { vec4 m_data[]; };

uniform ivec3 u_gemm; // (C_in, CB, TP)
uniform int u_row;
// SPLIT > 1 (WinogradPlan's split K, for GPUs with far more lanes than this layer has products): the input channels in
// SPLIT slices of u_span (the last may hold fewer, or none), each slice's sums written to its own copy of M, u_m_size
// vec4s apart; winograd_output.comp adds the copies. Invocations are numbered slice-major, then as without it.
#ifndef SPLIT
#define SPLIT 1
#endif
#if SPLIT > 1
uniform int u_span;
uniform int u_m_size;
#define SLICE(COUNT) int slice = id / (COUNT); id -= slice * (COUNT); \
    int c0 = slice * u_span, c1 = min(cin, c0 + u_span), mbase = slice * u_m_size;
#else
#define SLICE(COUNT) const int c0 = 0, mbase = 0; int c1 = cin;
#endif
#if T4
uniform int u_groups; // groups of 4 tiles that hold a real tile
#endif

#if T4
// 16 output channels (blocks 4 b4 .. 4 b4 + 3) x 4 tiles (one group) per invocation, for maps of at most 4 tiles
// (WinogradPlan; ResNet's 7x7 maps have 4): where 8 tiles per invocation would be half padding, 4 U fetches and one V
// fetch feed 64 multiply-adds that are all real.
void main()
{
    int cin = u_gemm.x, blocks = u_gemm.y, groups = u_gemm.z / 4;
    int quads = blocks / 4;
    int count = 36 * quads * u_groups;
    int id = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    bool inside = id < count * SPLIT;
    id = min(id, count * SPLIT - 1);
    SLICE(count)
    int rest = id / 36;
    int pos = id - rest * 36;
    int g = rest / quads;
    int b = 4 * (rest - g * quads);

    vec4 acc[16];
    for (int k = 0; k < 16; k++) acc[k] = vec4(0.0);
    int ui = b * 36 + pos;
    int ustep = blocks * 36;
    int vi = g * 36 + pos;
    int vstep = groups * 36;
    ui += c0 * ustep;
    vi += c0 * vstep;
    for (int c = c0; c < c1; c++)
    {
        vec4 u0 = imageLoad(u_params, ui);
        vec4 u1 = imageLoad(u_params, ui + 36);
        vec4 u2 = imageLoad(u_params, ui + 72);
        vec4 u3 = imageLoad(u_params, ui + 108);
        vec4 v = imageLoad(u_v4, vi);
        acc[0] += u0 * v.x; acc[1] += u0 * v.y; acc[2] += u0 * v.z; acc[3] += u0 * v.w;
        acc[4] += u1 * v.x; acc[5] += u1 * v.y; acc[6] += u1 * v.z; acc[7] += u1 * v.w;
        acc[8] += u2 * v.x; acc[9] += u2 * v.y; acc[10] += u2 * v.z; acc[11] += u2 * v.w;
        acc[12] += u3 * v.x; acc[13] += u3 * v.y; acc[14] += u3 * v.z; acc[15] += u3 * v.w;
        ui += ustep;
        vi += vstep;
    }
    if (inside)
    {
        for (int k = 0; k < 4; k++)
        {
            int at = (4 * (b + k) * groups + g) * 36 + pos;
            for (int q = 0; q < 4; q++)
                m_data[mbase + at + q * vstep] = vec4(acc[4 * k][q], acc[4 * k + 1][q], acc[4 * k + 2][q], acc[4 * k + 3][q]);
        }
    }
}
#elif CO8
// 8 output channels (blocks 2 b2 and 2 b2 + 1) x 8 tiles per invocation: 4 fetches feed 64 multiply-adds.
void main()
{
    int cin = u_gemm.x, blocks = u_gemm.y, groups = u_gemm.z / 4;
    int pairs = blocks / 2;
    int count = 36 * pairs * (groups / 2);
    int id = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    bool inside = id < count * SPLIT;
    id = min(id, count * SPLIT - 1);
    SLICE(count)
    int rest = id / 36;
    int pos = id - rest * 36;
    int tb = rest / pairs;
    int b = 2 * (rest - tb * pairs);

    vec4 acc[8], acd[8];
    for (int k = 0; k < 8; k++) { acc[k] = vec4(0.0); acd[k] = vec4(0.0); }
    int ui = b * 36 + pos;
    int ustep = blocks * 36;
    int vi = 2 * tb * 36 + pos;
    int vstep = groups * 36;
    ui += c0 * ustep;
    vi += c0 * vstep;
    for (int c = c0; c < c1; c++)
    {
        vec4 u = imageLoad(u_params, ui);
        vec4 w = imageLoad(u_params, ui + 36);
        vec4 v0 = imageLoad(u_v4, vi);
        vec4 v1 = imageLoad(u_v4, vi + 36);
        acc[0] += u * v0.x; acc[1] += u * v0.y; acc[2] += u * v0.z; acc[3] += u * v0.w;
        acc[4] += u * v1.x; acc[5] += u * v1.y; acc[6] += u * v1.z; acc[7] += u * v1.w;
        acd[0] += w * v0.x; acd[1] += w * v0.y; acd[2] += w * v0.z; acd[3] += w * v0.w;
        acd[4] += w * v1.x; acd[5] += w * v1.y; acd[6] += w * v1.z; acd[7] += w * v1.w;
        ui += ustep;
        vi += vstep;
    }
    if (inside)
    {
        for (int h = 0; h < 2; h++)
        {
            int at = (4 * (b + h) * groups + 2 * tb) * 36 + pos;
            vec4 a0 = h == 0 ? acc[0] : acd[0], a1 = h == 0 ? acc[1] : acd[1], a2 = h == 0 ? acc[2] : acd[2], a3 = h == 0 ? acc[3] : acd[3];
            vec4 a4 = h == 0 ? acc[4] : acd[4], a5 = h == 0 ? acc[5] : acd[5], a6 = h == 0 ? acc[6] : acd[6], a7 = h == 0 ? acc[7] : acd[7];
            m_data[mbase + at] = vec4(a0.x, a1.x, a2.x, a3.x);
            m_data[mbase + at + 36] = vec4(a4.x, a5.x, a6.x, a7.x);
            at += vstep;
            m_data[mbase + at] = vec4(a0.y, a1.y, a2.y, a3.y);
            m_data[mbase + at + 36] = vec4(a4.y, a5.y, a6.y, a7.y);
            at += vstep;
            m_data[mbase + at] = vec4(a0.z, a1.z, a2.z, a3.z);
            m_data[mbase + at + 36] = vec4(a4.z, a5.z, a6.z, a7.z);
            at += vstep;
            m_data[mbase + at] = vec4(a0.w, a1.w, a2.w, a3.w);
            m_data[mbase + at + 36] = vec4(a4.w, a5.w, a6.w, a7.w);
        }
    }
}
#else
void main()
{
    int cin = u_gemm.x, blocks = u_gemm.y, groups = u_gemm.z / 4;
    int count = 36 * blocks * (groups / 2);
    int id = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    bool inside = id < count * SPLIT;
    id = min(id, count * SPLIT - 1);
    SLICE(count)
    int rest = id / 36;
    int pos = id - rest * 36;
    int tb = rest / blocks;    // tiles 8 tb .. 8 tb + 7: tile groups 2 tb and 2 tb + 1
    int b = rest - tb * blocks;

    vec4 acc[8];
    for (int k = 0; k < 8; k++) acc[k] = vec4(0.0);
    int ui = b * 36 + pos;
    int ustep = blocks * 36;
    int vi = 2 * tb * 36 + pos;
    int vstep = groups * 36;
    ui += c0 * ustep;
    vi += c0 * vstep;
    for (int c = c0; c < c1; c++)
    {
        vec4 u = imageLoad(u_params, ui);
        vec4 v0 = imageLoad(u_v4, vi);
        vec4 v1 = imageLoad(u_v4, vi + 36);
        acc[0] += u * v0.x; acc[1] += u * v0.y; acc[2] += u * v0.z; acc[3] += u * v0.w;
        acc[4] += u * v1.x; acc[5] += u * v1.y; acc[6] += u * v1.z; acc[7] += u * v1.w;
        ui += ustep;
        vi += vstep;
    }
    if (inside)
    {
        int at = (4 * b * groups + 2 * tb) * 36 + pos;
        m_data[mbase + at] = vec4(acc[0].x, acc[1].x, acc[2].x, acc[3].x);
        m_data[mbase + at + 36] = vec4(acc[4].x, acc[5].x, acc[6].x, acc[7].x);
        at += vstep;
        m_data[mbase + at] = vec4(acc[0].y, acc[1].y, acc[2].y, acc[3].y);
        m_data[mbase + at + 36] = vec4(acc[4].y, acc[5].y, acc[6].y, acc[7].y);
        at += vstep;
        m_data[mbase + at] = vec4(acc[0].z, acc[1].z, acc[2].z, acc[3].z);
        m_data[mbase + at + 36] = vec4(acc[4].z, acc[5].z, acc[6].z, acc[7].z);
        at += vstep;
        m_data[mbase + at] = vec4(acc[0].w, acc[1].w, acc[2].w, acc[3].w);
        m_data[mbase + at + 36] = vec4(acc[4].w, acc[5].w, acc[6].w, acc[7].w);
    }
}
#endif
