#version 430
// One channel (RGB=0) or three channels (RGB=1) of a (C, H, W) tensor -> an RGBA8 image, each value
// mapped v -> (v - min) / (max - min) and clamped to [0, 1] (0 where max == min), alpha 1. One channel
// goes through colormap.glsl's map COLORMAP (0 gray, 1 heat, 2 diverging, 3 viridis).
// The range is u_range when u_given is set (the CPU's), else the shown channels' entries of the Range buffer
// (present/minmax.comp), three channels sharing one range.
// Tensor (y, x) becomes texel (x, y): row 0 is the image's top row.
// The values are read through an r32f texel view of the tensor's buffer (a vector gather on llvmpipe, where a
// storage-block load with a per-invocation address is a scalar loop), and the range before any control flow (a
// uniform address, loaded once for all lanes); no early return: the load is clamped and the store predicated.

#include "colormap.glsl"
#include "ranges.glsl"

layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

// (C, H, W) row-major as r32f texels.
layout(r32f, binding = 1) readonly uniform imageBuffer u_input; // (unit 0 is the output image)
layout(std430, binding = 1) readonly buffer Range { uvec2 range_bits[]; };
layout(rgba8, binding = 0) writeonly uniform image2D u_image;

uniform ivec3 u_shape;     // (C, H, W)
uniform ivec3 u_channels;  // channels shown as (R, G, B); with RGB=0 only .x is used
uniform int u_given;
uniform vec2 u_range;

float value(int c, int i, vec2 range)
{
    return normalise(imageLoad(u_input, c * u_shape.y * u_shape.z + i).r, range, 0.0);
}

void main()
{
    uvec2 bits = range_bits[u_channels.x];
#if RGB
    uvec2 g = range_bits[u_channels.y], b = range_bits[u_channels.z];
    bits = uvec2(min(bits.x, min(g.x, b.x)), max(bits.y, max(g.y, b.y)));
#endif
    vec2 range = u_given != 0 ? u_range : decode_range(bits);
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    bool inside = p.x < u_shape.z && p.y < u_shape.y;
    int i = min(p.y, u_shape.y - 1) * u_shape.z + min(p.x, u_shape.z - 1);
#if RGB
    vec3 rgb = vec3(value(u_channels.x, i, range), value(u_channels.y, i, range), value(u_channels.z, i, range));
#else
    vec3 rgb = colour_map(COLORMAP, value(u_channels.x, i, range));
#endif
    // The byte the CPU's ImageIO writes (round half to even), stored as k / 255: the driver's own float-to-unorm rounding
    // is left only values far from a tie (NVIDIA's turns 0.5 into 127 where llvmpipe's and the CPU's give 128).
    rgb = roundEven(clamp(rgb, 0.0, 1.0) * 255.0) / 255.0;
    if (inside) imageStore(u_image, p, vec4(rgb, 1.0));
}
