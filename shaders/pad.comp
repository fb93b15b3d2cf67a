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

uniform ivec2 u_in_size;  // (W, H)
uniform ivec2 u_out_size; // (W', H')
uniform ivec2 u_offset;   // (left, top): where input (0, 0) lands; negative crops
uniform float u_value;    // the zero border's fill

void main()
{
    ivec3 p = ivec3(gl_GlobalInvocationID);
    int sx = p.x - u_offset.x, sy = p.y - u_offset.y;
    float v = imageLoad(u_input, (p.z * u_in_size.y + border_index(sy, u_in_size.y)) * u_in_size.x + border_index(sx, u_in_size.x)).r;
#if BORDER == BORDER_ZERO
    v = border_inside(sx, u_in_size.x) && border_inside(sy, u_in_size.y) ? v : u_value;
#endif
    if (p.x < u_out_size.x && p.y < u_out_size.y) out_data[(p.z * u_out_size.y + p.y) * u_out_size.x + p.x] = v;
}
