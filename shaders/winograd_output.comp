#version 430
#if U64_STORES
#extension GL_ARB_gpu_shader_int64 : require
#endif
// Winograd F(4x4, 3x3), step 3 of 3: the output transform Y = A^T M A (include/winograd.glsl) of every tile's 36 sums,
// plus the bias, stored as the conv's (C_out, H_out, W_out) output. One invocation: one output channel, 4 consecutive
// tiles (each vec4 holds the 4 tiles, as in winograd_input.comp). With output rows a multiple of 4 wide (VEC4_STORES) a
// tile row is one aligned vec4 store (the tile grid starts at x = 0), predicated on the row; otherwise every value is
// stored alone, predicated on both coordinates. Defines: VEC4_STORES, U64_STORES, FUSED_ACT (include/fused_act.glsl).

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "include/winograd.glsl"
#include "include/fused_act.glsl"

layout(rgba32f, binding = 0) readonly uniform imageBuffer u_m4;
layout(rgba32f, binding = 2) readonly uniform imageBuffer u_params;
#if U64_STORES
#include "include/store8.glsl"
layout(std430, binding = 3) writeonly buffer Output8 { u64vec4 out_data8[]; };
#elif VEC4_STORES
layout(std430, binding = 3) writeonly buffer Output { vec4 out_data[]; };
#else
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };
#endif

uniform ivec3 u_tiles;    // (TW, T, TP)
uniform ivec2 u_out_size; // (W_out, H_out)
uniform int u_tile_row0;  // the output's tile row of this run's first tile (WinogradPlan's bands of tile rows; else 0)
uniform ivec3 u_channels; // (C_out, 4 CB, index of the first bias vec4 in u_params)
uniform int u_row;
#ifndef SPLIT
#define SPLIT 1
#endif
#if SPLIT > 1
uniform int u_m_size; // vec4s of one slice's products (winograd_gemm.comp's split K): the slices are added here
#endif

vec4 m_at(int i)
{
    vec4 m = imageLoad(u_m4, i);
#if SPLIT > 1
    for (int s = 1; s < SPLIT; s++) m += imageLoad(u_m4, i + s * u_m_size);
#endif
    return m;
}

void main()
{
    int groups = u_tiles.z / 4;
    int cout = u_channels.x;
    int id = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    bool inside = id < groups * cout;
    id = min(id, groups * cout - 1);
    int o = id / groups;
    int g = id - o * groups;

    // Literal indices only (macros, no loops), as in winograd_input.comp. mP[q] = M[o][g][6P + q], component k = tile
    // 4g + k; e = A^T m (rows combine), then row r of Y is A^T applied to row r of e.
    int at = (o * groups + g) * 36;
#define LOAD_ROW(P, M) vec4 M[6]; \
    M[0] = m_at(at + 6 * (P)); M[1] = m_at(at + 6 * (P) + 1); \
    M[2] = m_at(at + 6 * (P) + 2); M[3] = m_at(at + 6 * (P) + 3); \
    M[4] = m_at(at + 6 * (P) + 4); M[5] = m_at(at + 6 * (P) + 5);
    LOAD_ROW(0, m0) LOAD_ROW(1, m1) LOAD_ROW(2, m2) LOAD_ROW(3, m3) LOAD_ROW(4, m4) LOAD_ROW(5, m5)
    vec4 e0[6], e1[6], e2[6], e3[6];
#define AT_COLUMN(Q) { \
        vec4 x[6] = vec4[6](m0[Q], m1[Q], m2[Q], m3[Q], m4[Q], m5[Q]), y[4]; \
        winograd_at(x, y); \
        e0[Q] = y[0]; e1[Q] = y[1]; e2[Q] = y[2]; e3[Q] = y[3]; }
    AT_COLUMN(0) AT_COLUMN(1) AT_COLUMN(2) AT_COLUMN(3) AT_COLUMN(4) AT_COLUMN(5)
    float bias = imageLoad(u_params, u_channels.z + o / 4)[o & 3];
    vec4 y0[4], y1[4], y2[4], y3[4]; // yR[s]: output row R, column s of the 4 tiles
    winograd_at(e0, y0);
    winograd_at(e1, y1);
    winograd_at(e2, y2);
    winograd_at(e3, y3);

    ivec4 t = 4 * g + ivec4(0, 1, 2, 3);
    ivec4 ty = t / u_tiles.x;
    ivec4 tx = t - ty * u_tiles.x;
    ty += u_tile_row0;
    bvec4 real = bvec4(inside && t.x < u_tiles.y, inside && t.y < u_tiles.y, inside && t.z < u_tiles.y, inside && t.w < u_tiles.y);
    int plane = o * u_out_size.y;
#if U64_STORES
    // Output rows of whole multiples of 8: tiles per row are even, so tiles 4g, 4g + 1 (and 4g + 2, 4g + 3) are neighbours
    // in one row of tiles, both real or both not, and their row R is 8 floats starting at a multiple of 8.
    int row8 = u_out_size.x / 8;
#define STORE_PAIR(K, L, R, Y) { \
        int oy = 4 * ty.K + (R); \
        if (real.K && oy < u_out_size.y) out_data8[(plane + oy) * row8 + (tx.K >> 1)] = \
            pack8(fused_act(vec4(Y[0].K, Y[1].K, Y[2].K, Y[3].K) + bias), fused_act(vec4(Y[0].L, Y[1].L, Y[2].L, Y[3].L) + bias)); }
#define STORE_PAIRS(R, Y) STORE_PAIR(x, y, R, Y) STORE_PAIR(z, w, R, Y)
    STORE_PAIRS(0, y0) STORE_PAIRS(1, y1) STORE_PAIRS(2, y2) STORE_PAIRS(3, y3)
}
#else
#if VEC4_STORES
    int row4 = u_out_size.x / 4;
#define STORE_ROW(K, R, Y) { \
        int oy = 4 * ty.K + (R); \
        if (real.K && oy < u_out_size.y) out_data[(plane + oy) * row4 + tx.K] = fused_act(vec4(Y[0].K, Y[1].K, Y[2].K, Y[3].K) + bias); }
#else
#define STORE_ROW(K, R, Y) { \
        int oy = 4 * ty.K + (R), ox = 4 * tx.K; \
        int at_out = (plane + oy) * u_out_size.x + ox; \
        bool row_real = real.K && oy < u_out_size.y; \
        if (row_real) out_data[at_out] = fused_act(Y[0].K + bias); \
        if (row_real && ox + 1 < u_out_size.x) out_data[at_out + 1] = fused_act(Y[1].K + bias); \
        if (row_real && ox + 2 < u_out_size.x) out_data[at_out + 2] = fused_act(Y[2].K + bias); \
        if (row_real && ox + 3 < u_out_size.x) out_data[at_out + 3] = fused_act(Y[3].K + bias); }
#endif
#define STORE_TILE(K) STORE_ROW(K, 0, y0) STORE_ROW(K, 1, y1) STORE_ROW(K, 2, y2) STORE_ROW(K, 3, y3)
    STORE_TILE(x) STORE_TILE(y) STORE_TILE(z) STORE_TILE(w)
}
#endif
