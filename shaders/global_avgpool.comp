#version 430
// The mean of each plane: (P, H, W) -> (P, 1, 1). The reference is GlobalAveragePool.Apply in
// src/ConvGL.Core/Ops/GlobalAveragePool.cs. One workgroup per plane: its 64 invocations sum strided
// parts of the plane, then a tree reduction in shared memory (a plane of 7x7 or 56x56 is small, but
// one invocation per plane would leave 64x fewer threads busy).

// PER_PLANE (planes up to 4096 values, GpuGlobalAveragePool's choice): one invocation per plane, the plane summed in order
// through an r32f texel view (a vector gather on llvmpipe; the workgroup form below reads a storage block, a scalar loop
// per load there, and its barriers cost more than the sums: ResNet18's 512 planes of 7x7 took 1-2.4 ms that way).

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#if PER_PLANE
layout(r32f, binding = 0) readonly uniform imageBuffer u_input;
#else
layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
#endif
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform int u_planes;   // P
uniform int u_plane;    // H * W

#if PER_PLANE
void main()
{
    int p = int(gl_GlobalInvocationID.x);
    bool inside = p < u_planes;
    p = min(p, u_planes - 1);
    float sum = 0.0;
    for (int i = 0; i < u_plane; i++) sum += imageLoad(u_input, p * u_plane + i).r;
    if (inside) out_data[p] = sum / float(u_plane);
}
#else
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
#endif
