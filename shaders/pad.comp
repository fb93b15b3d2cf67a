#version 430
// Padding (or cropping) of every plane of a (P, H, W) tensor, the reference is Pad2D.Apply in src/ConvGL.Core/Ops/Pad2D.cs:
// output (p, y, x) = input (p, y - top, x - left) mapped through the border (border.glsl's border_index, the same
// periodic mapping as Borders.Map), or u_value where a zero border leaves the image. One invocation per output value,
// (x, y, plane) straight from the invocation id; the input through an r32f texel view (a vector gather on llvmpipe,
// where a storage load with a per-lane address is a scalar loop), no early return before the load.
// Defines: BORDER.

#include "include/border.glsl"

layout(local_size_x = 16, local_size_y = 4, local_size_z = 1) in;

layout(r32f, binding = 0) readonly uniform imageBuffer u_input; // (P, H, W) as r32f texels
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform ivec2 u_in_size;  // (W, H) of the input's planes
uniform ivec2 u_origin;   // (column, row): the first kept (negative left / top amounts crop before the border extends)
uniform ivec2 u_kept;     // (W, H) left after the crops: the map the border extends (Pad2D.Kept)
uniform ivec2 u_out_size; // (W', H')
uniform ivec2 u_offset;   // (left, top), 0 or more: where the kept map's (0, 0) lands
uniform float u_value;    // the zero border's fill

void main()
{
    ivec3 p = ivec3(gl_GlobalInvocationID);
    int sx = p.x - u_offset.x, sy = p.y - u_offset.y;
    // (A zero border may crop everything: max(.., 1) keeps the index defined; the select below fills it.)
    int ix = u_origin.x + border_index(sx, max(u_kept.x, 1)), iy = u_origin.y + border_index(sy, max(u_kept.y, 1));
    float v = imageLoad(u_input, (p.z * u_in_size.y + iy) * u_in_size.x + ix).r;
#if BORDER == BORDER_ZERO
    v = border_inside(sx, u_kept.x) && border_inside(sy, u_kept.y) ? v : u_value;
#endif
    if (p.x < u_out_size.x && p.y < u_out_size.y) out_data[(p.z * u_out_size.y + p.y) * u_out_size.x + p.x] = v;
}
