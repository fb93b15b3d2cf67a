// Reading the per-channel display ranges present/minmax.comp writes: entry c of the Range buffer holds channel c's
// (min, max) as order-preserving uints (include/ordered_float.glsl); (0xFFFFFFFF, 0) means "nothing seen" (an
// all-NaN or not yet computed channel). Several channels combine in uint space, where that seed is neutral.
#ifndef CONVGL_RANGES_GLSL
#define CONVGL_RANGES_GLSL

#include "../include/ordered_float.glsl"

vec2 decode_range(uvec2 bits)
{
    return vec2(ordered_to_float(bits.x), ordered_to_float(bits.y));
}

// (v - min) / (max - min) clamped to [0, 1]; `empty` where max <= min (a constant map, or nothing seen).
float normalise(float v, vec2 range, float empty)
{
    float scale = range.y > range.x ? 1.0 / (range.y - range.x) : 0.0;
    return scale > 0.0 ? clamp((v - range.x) * scale, 0.0, 1.0) : empty;
}

#endif
