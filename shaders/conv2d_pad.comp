#version 430
#if WIDE
#extension GL_ARB_gpu_shader_int64 : require
#endif
// The padded copy a fast dense conv plan reads instead of its input (ConvPlan, "padded copy"): every channel of the (C, H, W)
// input written into a (C, HP, WP) tensor at offset (u_pad.x, u_pad.y), every other element mapped through the border
// (border.glsl: border_index / border_inside, the same mapping as Borders.Map; 0 outside a zero border). The conv then
// runs as one interior dispatch with no border code and rgba32f loads: the border is applied once per padded element
// instead of once per tap, and no rim dispatches run (on llvmpipe a rim strip's scalar loads cost about twice the
// interior's vec4 loads, and ResNet's 7x7 and 14x14 maps are mostly rim). Defines: BORDER, and
// - WIDE: 8 elements per invocation (WP a multiple of 8) and one 32-byte store (include/store8.glsl);
// - VEC4_IN (with WIDE, a zero border and input rows of whole vec4s): the input read as rgba32f texels, each wholly
//   inside or outside its row, so one outside the image is a texel of zeros (a select), not a border index per element;
//   SHIFT = (-u_pad.x) mod 4, where every invocation's first element lies past a multiple of 4.

#include "include/border.glsl"

// One invocation per E (4, or 8 with WIDE) consecutive elements of a row (WP is a multiple of E), (x / E, y, channel)
// straight from the invocation id: no integer division (llvmpipe has no vector divide; four per element made the copy
// cost as much as a 64->64 layer), and one store per invocation (a storage write with a per-lane address is a loop over
// the lanes on llvmpipe).
layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(r32f, binding = 0) readonly uniform imageBuffer u_input; // (C, H, W) as r32f texels
#if WIDE
#include "include/store8.glsl"
layout(rgba32f, binding = 1) readonly uniform imageBuffer u_input4;
layout(std430, binding = 3) writeonly buffer Output8 { u64vec4 out_data8[]; };
#else
layout(std430, binding = 3) writeonly buffer Output { vec4 out_data[]; };
#endif

uniform ivec2 u_in_size;  // (W, H)
uniform ivec2 u_out_size; // (WP, HP)
uniform ivec2 u_pad;      // (left, top): where input (0, 0) lands

// Elements per invocation.
#if WIDE
#define E 8
#else
#define E 4
#endif

void main()
{
    ivec3 p = ivec3(gl_GlobalInvocationID);
    bool inside = p.x < u_out_size.x / E && p.y < u_out_size.y;
    int sy = p.y - u_pad.y;
    float v[E];
#if VEC4_IN
    bool row_in = border_inside(sy, u_in_size.y);
    int row = (p.z * u_in_size.y + clamp(sy, 0, u_in_size.y - 1)) * u_in_size.x;
    int xt = E * p.x - u_pad.x - SHIFT; // a multiple of 4
    vec4 t[3];
    for (int q = 0; q < 3; q++)
    {
        int x = xt + 4 * q;
        vec4 texel = imageLoad(u_input4, (row + clamp(x, 0, u_in_size.x - 4)) >> 2);
        t[q] = row_in && uint(x) < uint(u_in_size.x) ? texel : vec4(0.0);
    }
    for (int e = 0; e < E; e++) v[e] = t[(SHIFT + e) / 4][(SHIFT + e) % 4];
#else
    int row = (p.z * u_in_size.y + border_index(sy, u_in_size.y)) * u_in_size.x;
    for (int e = 0; e < E; e++)
    {
        int sx = E * p.x + e - u_pad.x;
        v[e] = imageLoad(u_input, row + border_index(sx, u_in_size.x)).r;
#if BORDER == BORDER_ZERO
        v[e] = border_inside(sx, u_in_size.x) && border_inside(sy, u_in_size.y) ? v[e] : 0.0;
#endif
    }
#endif
    if (inside)
    {
        int at = (p.z * u_out_size.y + p.y) * (u_out_size.x / E) + p.x;
#if WIDE
        out_data8[at] = pack8(vec4(v[0], v[1], v[2], v[3]), vec4(v[4], v[5], v[6], v[7]));
#else
        out_data[at] = vec4(v[0], v[1], v[2], v[3]);
#endif
    }
}
