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

// (v - min) / (max - min) clamped to [0, 1]; `empty` where max <= min (a constant map, or nothing seen), but an infinity
// at its end (1 or 0). Halves, so that
// the width of a range like (-3e38, 3e38) does not overflow, and both terms scaled by a power of two that brings the
// width into [0.5, 1): 1 / (max - min) is denormal for widths above ~8.5e37 and was flushed to zero, the whole map then
// drawn as if constant (a map of overflowing sums, 5.3e37 to 3.4e38, came out black beside a bar that gave its range).
float normalise(float v, vec2 range, float empty)
{
    float width = range.y * 0.5 - range.x * 0.5;
    int e;
    frexp(width, e);
    float scale = range.y > range.x ? 1.0 / ldexp(width, -e) : 0.0;
    // An infinity lies past either end of any range: drawn at that end also where the range has no width (a map of
    // nothing but infinities and NaN, or a constant map holding one), as the PNG writer clamps it.
    float none = isinf(v) ? (v > 0.0 ? 1.0 : 0.0) : empty;
    return scale > 0.0 ? clamp(ldexp(v * 0.5 - range.x * 0.5, -e) * scale, 0.0, 1.0) : none;
}

#endif
