#version 430
#if U64_STORES
#extension GL_ARB_gpu_shader_int64 : require
#endif
// Winograd F(4x4, 3x3), step 1 of 3: the input transform V = B^T d B (include/winograd.glsl) of every 6x6 tile d of the
// padded input, for every input channel. Tile t = (ty, tx) (row-major, TW per row) covers padded rows 4ty .. 4ty+5 and
// columns 4tx .. 4tx+5; its outputs are the conv's outputs 4ty .. 4ty+3, 4tx .. 4tx+3. The padded input (conv2d_pad.comp,
// the border applied once) has rows a multiple of 4 wide, so a tile row is two aligned rgba32f texels.
//
// One invocation transforms 4 consecutive tiles of one channel at once (each vec4 below holds the 4 tiles), so every
// store is a vec4, and its 36 stores are one contiguous run: V is (C, TP / 4, 36) vec4s, TP the tiles padded to a
// multiple of 8 (tiles past the last repeat it; their products are never stored). On llvmpipe a storage write is a
// loop over the lanes; with V position-major instead (36 runs 256 KiB apart per invocation) this pass took 1.6-2x as long.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "include/winograd.glsl"

layout(rgba32f, binding = 0) readonly uniform imageBuffer u_padded4;
#if U64_STORES
#include "include/store8.glsl"
layout(std430, binding = 3) writeonly buffer Transformed8 { u64vec4 v_data8[]; };
#else
layout(std430, binding = 3) writeonly buffer Transformed { vec4 v_data[]; };
#endif

uniform ivec2 u_padded_size; // (WP, HP)
uniform ivec3 u_tiles;       // (TW, T, TP): tiles per row, tiles, tiles padded to a multiple of 8
uniform int u_channels;
uniform int u_row;           // invocations per dispatch row (ComputeOp.FlatGroups)

// Tiles holding a NaN or an infinity: the transforms would mix it into all 16 of the tile's outputs (and make NaN of
// inf - inf), where the direct sum spreads it only to the outputs whose window holds it. Such a tile is listed once per
// run (u_epoch: flags need no clearing) and winograd_fixup.comp computes its outputs directly, through an indirect
// dispatch of as many workgroups as tiles listed (none for a finite input).
layout(std430, binding = 4) buffer FixArgs { uint fix_count; uint fix_y; uint fix_z; };
layout(std430, binding = 5) buffer FixFlags { uint fix_flags[]; };
layout(std430, binding = 6) writeonly buffer FixList { uint fix_list[]; };
uniform uint u_epoch;

void flag(int t)
{
    if (atomicExchange(fix_flags[t], u_epoch) != u_epoch) fix_list[atomicAdd(fix_count, 1u)] = uint(t);
}

void main()
{
    int groups = u_tiles.z / 4;
    int id = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    bool inside = id < groups * u_channels;
    id = min(id, groups * u_channels - 1);
    int c = id / groups;
    int g = id - c * groups;
    int row4 = u_padded_size.x / 4;

    // The 4 tiles' first texel of row 0 (tiles past the last repeat it).
    ivec4 t = min(4 * g + ivec4(0, 1, 2, 3), u_tiles.y - 1);
    ivec4 ty = t / u_tiles.x;
    ivec4 at = (c * u_padded_size.y + 4 * ty) * row4 + t - ty * u_tiles.x;

    // Everything below is written out with literal indices only (macros, no loops): an array element or vector
    // component chosen by a loop counter that the compiler does not unroll puts the array in memory.
    // dR[s]: row R, column s of the 4 tiles (component k = tile 4g + k).
#define LOAD_ROW(R, D) vec4 D[6]; { \
        int o = (R) * row4; \
        vec4 a0 = imageLoad(u_padded4, at.x + o), b0 = imageLoad(u_padded4, at.x + o + 1); \
        vec4 a1 = imageLoad(u_padded4, at.y + o), b1 = imageLoad(u_padded4, at.y + o + 1); \
        vec4 a2 = imageLoad(u_padded4, at.z + o), b2 = imageLoad(u_padded4, at.z + o + 1); \
        vec4 a3 = imageLoad(u_padded4, at.w + o), b3 = imageLoad(u_padded4, at.w + o + 1); \
        D[0] = vec4(a0.x, a1.x, a2.x, a3.x); D[1] = vec4(a0.y, a1.y, a2.y, a3.y); \
        D[2] = vec4(a0.z, a1.z, a2.z, a3.z); D[3] = vec4(a0.w, a1.w, a2.w, a3.w); \
        D[4] = vec4(b0.x, b1.x, b2.x, b3.x); D[5] = vec4(b0.y, b1.y, b2.y, b3.y); }
    LOAD_ROW(0, d0) LOAD_ROW(1, d1) LOAD_ROW(2, d2) LOAD_ROW(3, d3) LOAD_ROW(4, d4) LOAD_ROW(5, d5)

    // Non-finite values by their bits (an exponent of all ones), which no float optimisation can fold away.
    uvec4 bad = uvec4(0u);
#define CHECK(V) bad |= uvec4(equal(floatBitsToUint(V) & 0x7f800000u, uvec4(0x7f800000u)));
#define CHECK_ROW(D) CHECK(D[0]) CHECK(D[1]) CHECK(D[2]) CHECK(D[3]) CHECK(D[4]) CHECK(D[5])
    CHECK_ROW(d0) CHECK_ROW(d1) CHECK_ROW(d2) CHECK_ROW(d3) CHECK_ROW(d4) CHECK_ROW(d5)
    if (inside && any(notEqual(bad, uvec4(0u))))
    {
        if (bad.x != 0u) flag(t.x);
        if (bad.y != 0u) flag(t.y);
        if (bad.z != 0u) flag(t.z);
        if (bad.w != 0u) flag(t.w);
    }

    // e = B^T d: row p of e combines d's rows (winograd_bt, element by element).
    vec4 e0[6], e1[6], e2[6], e3[6], e4[6], e5[6];
#define BT_COLUMN(S) { \
        vec4 x[6] = vec4[6](d0[S], d1[S], d2[S], d3[S], d4[S], d5[S]), y[6]; \
        winograd_bt(x, y); \
        e0[S] = y[0]; e1[S] = y[1]; e2[S] = y[2]; e3[S] = y[3]; e4[S] = y[4]; e5[S] = y[5]; }
    BT_COLUMN(0) BT_COLUMN(1) BT_COLUMN(2) BT_COLUMN(3) BT_COLUMN(4) BT_COLUMN(5)

    // V = e B: row p of V is B^T applied to row p of e; position (p, q) of the 4 tiles is stored at V[c][g][6p + q].
    int at_v = (c * groups + g) * 36;
#define BT_ROW(P, E) { \
        vec4 v[6]; \
        winograd_bt(E, v); \
        STORE_ROW(P, v) }
#if U64_STORES
    // at_v is a multiple of 36 vec4s (576 bytes), so each pair of positions is one aligned 32-byte store.
#define STORE_ROW(P, v) if (inside) { int a8 = (at_v + 6 * (P)) >> 1; \
        v_data8[a8] = pack8(v[0], v[1]); v_data8[a8 + 1] = pack8(v[2], v[3]); v_data8[a8 + 2] = pack8(v[4], v[5]); }
#else
#define STORE_ROW(P, v) if (inside) { \
        v_data[at_v + 6 * (P) + 0] = v[0]; v_data[at_v + 6 * (P) + 1] = v[1]; \
        v_data[at_v + 6 * (P) + 2] = v[2]; v_data[at_v + 6 * (P) + 3] = v[3]; \
        v_data[at_v + 6 * (P) + 4] = v[4]; v_data[at_v + 6 * (P) + 5] = v[5]; }
#endif
    BT_ROW(0, e0) BT_ROW(1, e1) BT_ROW(2, e2) BT_ROW(3, e3) BT_ROW(4, e4) BT_ROW(5, e5)
}
