#version 430
// Min and max of n floats at an offset of a tensor (one channel plane), for display normalisation.
// Each workgroup reduces a grid-strided share in shared memory, then one invocation folds the result
// into the Range buffer with atomicMin/atomicMax on order-preserving uints. NaNs are ignored.
// The CPU seeds Range with (0xFFFFFFFF, 0) -- "nothing seen" -- before the first channel.

#include "../include/ordered_float.glsl"

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
// [0] ordered min, [1] ordered max.
layout(std430, binding = 1) buffer Range { uint range_bits[2]; };

uniform int u_offset;
uniform int u_count;

shared float s_min[256];
shared float s_max[256];

void main()
{
    // No early-return bounds check here, unlike every other shader: all invocations of a workgroup must
    // reach barrier(). The grid-stride loop below is the bounds check (it reads only i < u_count).
    uint lid = gl_LocalInvocationID.x;
    float lo = 3.402823466e+38, hi = -3.402823466e+38;
    int stride = int(gl_NumWorkGroups.x * gl_WorkGroupSize.x);
    for (int i = int(gl_GlobalInvocationID.x); i < u_count; i += stride)
    {
        float v = in_data[u_offset + i];
        if (isnan(v)) continue;
        lo = min(lo, v);
        hi = max(hi, v);
    }
    s_min[lid] = lo;
    s_max[lid] = hi;
    barrier();
    for (uint half_size = 128u; half_size > 0u; half_size >>= 1)
    {
        if (lid < half_size)
        {
            s_min[lid] = min(s_min[lid], s_min[lid + half_size]);
            s_max[lid] = max(s_max[lid], s_max[lid + half_size]);
        }
        barrier();
    }
    if (lid == 0u && s_min[0] <= s_max[0])
    {
        atomicMin(range_bits[0], float_to_ordered(s_min[0]));
        atomicMax(range_bits[1], float_to_ordered(s_max[0]));
    }
}
