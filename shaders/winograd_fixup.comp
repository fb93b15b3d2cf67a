#version 430
// Winograd F(4x4, 3x3), the fix-up after step 3: the outputs of every tile that winograd_input.comp listed as holding a
// NaN or an infinity, computed directly as Conv2D.Apply does (bias + the products over the input channels and the 3x3
// taps, read from the same padded copy), so non-finite values reach exactly the outputs whose window holds them. One
// workgroup per listed tile (an indirect dispatch: none when the input is finite), its invocations over the tile's
// 16 outputs of every output channel. Weights in PyTorch's layout (C_out, C_in, 3, 3), rotated under convolve (u_flip).

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "include/fused_act.glsl"

layout(r32f, binding = 0) readonly uniform imageBuffer u_padded; // the padded copy (C_in, HP, WP) as r32f texels
layout(std430, binding = 1) readonly buffer Weights { float weights[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };
layout(std430, binding = 6) readonly buffer FixList { uint fix_list[]; };

uniform ivec2 u_padded_size; // (WP, HP)
uniform ivec2 u_out_size;    // (W_out, H_out)
uniform int u_tiles_w;       // tiles per row
uniform int u_tile_row0;     // the output's tile row of the listed tiles' row 0 (WinogradPlan's bands; else 0): the
                             // padded copy holds the band only, from its first tile row on
uniform ivec2 u_channels;    // (C_in, C_out)
uniform int u_has_bias;
uniform int u_flip;

#ifndef DIRECT_INPUT
#define DIRECT_INPUT 0
#endif
#if DIRECT_INPUT
// LiteralWinogradPlan on a zero border reads the input itself (no padded copy): u_padded is then the input (C_in, H, W),
// u_padded_size its (W, H), and a tap outside it is 0.
uniform ivec2 u_pad; // (left, top) padding
float tap(int c, int y, int x)
{
    y -= u_pad.y;
    x -= u_pad.x;
    bool inside = x >= 0 && x < u_padded_size.x && y >= 0 && y < u_padded_size.y;
    return inside ? imageLoad(u_padded, (c * u_padded_size.y + y) * u_padded_size.x + x).r : 0.0;
}
#else
float tap(int c, int y, int x) { return imageLoad(u_padded, (c * u_padded_size.y + y) * u_padded_size.x + x).r; }
#endif

void main()
{
    int t = int(fix_list[gl_WorkGroupID.x]);
    int ty = t / u_tiles_w, tx = t - ty * u_tiles_w;
    int cin = u_channels.x;
    for (int k = int(gl_LocalInvocationID.x); k < u_channels.y * 16; k += 64)
    {
        int o = k / 16, e = k - o * 16;
        int oy = 4 * ty + e / 4, ox = 4 * tx + (e & 3); // in the band's padded copy
        if (oy + 4 * u_tile_row0 >= u_out_size.y || ox >= u_out_size.x) continue;
        float sum = 0.0;
        for (int c = 0; c < cin; c++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                {
                    int wi = u_flip != 0 ? 2 - i : i, wj = u_flip != 0 ? 2 - j : j;
                    float x = tap(c, oy + i, ox + j);
                    sum += weights[((o * cin + c) * 3 + wi) * 3 + wj] * x;
                }
        // Without a bias the buffer holds one float: its index is 0 then, so no lane reads past it even where a compiler
        // evaluates both sides of the select (an out-of-range storage read is undefined without a robust context).
        float b = bias[u_has_bias != 0 ? o : 0];
        out_data[(o * u_out_size.y + oy + 4 * u_tile_row0) * u_out_size.x + ox] = fused_act((u_has_bias != 0 ? b : 0.0) + sum);
    }
}
