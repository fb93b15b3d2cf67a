#version 430
// Per-channel min and max of channels [u_first, u_first + gl_NumWorkGroups.z) of a (C, H*W) tensor, for display
// normalisation: the one min/max pass every view and TensorToImage share. Every invocation of workgroup (g, 0, z)
// reduces a grid-strided share of channel u_first + z and folds it into that channel's Range entry with
// atomicMin/atomicMax on order-preserving uints. NaNs and infinities are ignored (the range of the finite values, as
// Tensor.Range: a map holding an infinity is stretched over its finite values, the infinities drawn at the ends; with
// them in the range, every finite value was drawn at one end, the map as if constant). The CPU seeds the entries with
// (0xFFFFFFFF, 0) -- "nothing seen" -- first (glClearBufferSubData).
// The tensor is read through a texel view of its buffer (a vector gather on llvmpipe, where a storage-block load with
// a per-invocation address is a scalar loop): VEC 4 reads rgba32f texels (planes of a multiple of 4 values, so no texel
// straddles two channels), VEC 1 r32f texels.

#include "../include/ordered_float.glsl"

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

#if VEC == 4
#define T vec4
#define FETCH(i) imageLoad(u_input, i)
#define LOWEST(v) min(min(v.x, v.y), min(v.z, v.w))
#define HIGHEST(v) max(max(v.x, v.y), max(v.z, v.w))
#elif VEC == 1
#define T float
#define FETCH(i) imageLoad(u_input, i).r
#define LOWEST(v) v
#define HIGHEST(v) v
#else
#error VEC must be 4 or 1
#endif

// (C, H, W) row-major as VEC-wide texels.
#if VEC == 4
layout(rgba32f, binding = 0) readonly uniform imageBuffer u_input;
#else
layout(r32f, binding = 0) readonly uniform imageBuffer u_input;
#endif
// Entry c: channel c's (ordered min, ordered max).
layout(std430, binding = 1) buffer Range { uvec2 range_bits[]; };

uniform int u_plane; // H * W / VEC: texels per channel
uniform int u_first;

void main()
{
    // Each invocation folds its own grid-strided share into the channel's entry: no shared-memory tree, no barrier (on
    // llvmpipe a workgroup's barriers cost more than its atomics: the edges stack's ranges pass at 640x360 went
    // 0.64-0.67 -> 0.28-0.35 ms, bench/README.md).
    int c = u_first + int(gl_WorkGroupID.z);
    int base = c * u_plane;
    float lo = 3.402823466e+38, hi = -3.402823466e+38;
    int stride = int(gl_NumWorkGroups.x * gl_WorkGroupSize.x);
    for (int i = int(gl_GlobalInvocationID.x); i < u_plane; i += stride)
    {
        // NaNs and infinities are replaced by a value that changes neither end (selects, not branches).
        T v = FETCH(base + i);
        T low = mix(mix(v, T(3.402823466e+38), isnan(v)), T(3.402823466e+38), isinf(v));
        T high = mix(mix(v, T(-3.402823466e+38), isnan(v)), T(-3.402823466e+38), isinf(v));
        lo = min(lo, LOWEST(low));
        hi = max(hi, HIGHEST(high));
    }
    if (lo <= hi)
    {
        atomicMin(range_bits[c].x, float_to_ordered(lo));
        atomicMax(range_bits[c].y, float_to_ordered(hi));
    }
}
