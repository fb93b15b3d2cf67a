#version 430
// One channel (RGB=0) or three channels (RGB=1) of a (C, H, W) tensor -> an RGBA8 image, each value
// mapped v -> (v - min) / (max - min) and clamped to [0, 1] (0 where max == min), alpha 1. One channel
// goes through COLORMAP (0 gray, 1 heat: black-red-yellow-white, 2 diverging: blue-white-red).
// The range comes from the Range buffer as order-preserving uints (minmax.comp, or the CPU).
// Tensor (y, x) becomes texel (x, y): row 0 is the image's top row.

#include "../include/ordered_float.glsl"

layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

// (C, H, W) row-major.
layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
// [0] ordered min, [1] ordered max.
layout(std430, binding = 1) readonly buffer Range { uint range_bits[2]; };
layout(rgba8, binding = 0) writeonly uniform image2D u_image;

uniform ivec3 u_shape;     // (C, H, W)
uniform ivec3 u_channels;  // channels shown as (R, G, B); with RGB=0 only .x is used

float normalised(int c, int i, float lo, float scale)
{
    return clamp((in_data[c * u_shape.y * u_shape.z + i] - lo) * scale, 0.0, 1.0);
}

vec3 colour_map(float t)
{
#if COLORMAP == 1
    // heat: black -> red -> yellow -> white, each component a ramp over a third of the range.
    return clamp(vec3(3.0 * t, 3.0 * t - 1.0, 3.0 * t - 2.0), 0.0, 1.0);
#elif COLORMAP == 2
    // diverging: blue at 0, white at 0.5, red at 1 -- for signed maps such as edge responses.
    return t < 0.5 ? mix(vec3(0.0, 0.0, 1.0), vec3(1.0), 2.0 * t) : mix(vec3(1.0), vec3(1.0, 0.0, 0.0), 2.0 * t - 1.0);
#else
    return vec3(t);
#endif
}

void main()
{
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    if (p.x >= u_shape.z || p.y >= u_shape.y) return;
    float lo = ordered_to_float(range_bits[0]);
    float hi = ordered_to_float(range_bits[1]);
    float scale = hi > lo ? 1.0 / (hi - lo) : 0.0;
    int i = p.y * u_shape.z + p.x;
#if RGB
    vec3 rgb = vec3(normalised(u_channels.x, i, lo, scale), normalised(u_channels.y, i, lo, scale), normalised(u_channels.z, i, lo, scale));
#else
    vec3 rgb = colour_map(normalised(u_channels.x, i, lo, scale));
#endif
    imageStore(u_image, p, vec4(rgb, 1.0));
}
