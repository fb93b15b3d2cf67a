#version 430
// The mean of each plane: (P, H, W) -> (P, 1, 1). The reference is GlobalAveragePool.Apply in
// src/ConvGL.Core/Ops/GlobalAveragePool.cs. One workgroup per plane: its 64 invocations sum strided
// parts of the plane, then a tree reduction in shared memory (a plane of 7x7 or 56x56 is small, but
// one invocation per plane would leave 64x fewer threads busy).

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform int u_planes;   // P
uniform int u_plane;    // H * W

shared float partial[64];

void main()
{
    int p = int(gl_WorkGroupID.x);
    int t = int(gl_LocalInvocationID.x);
    float sum = 0.0;
    if (p < u_planes)
        for (int i = t; i < u_plane; i += 64) sum += in_data[p * u_plane + i];
    partial[t] = sum;
    barrier();
    for (int s = 32; s > 0; s >>= 1)
    {
        if (t < s) partial[t] += partial[t + s];
        barrier();
    }
    if (t == 0 && p < u_planes) out_data[p] = partial[0] / float(u_plane);
}
