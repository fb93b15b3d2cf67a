#version 430
#if U64_STORES
#extension GL_ARB_gpu_shader_int64 : require
#endif
// Gradient magnitude of channel pairs, the fast variant of magnitude.comp (same values):
// out[i, y, x] = sqrt(in[2i, y, x]^2 + in[2i+1, y, x]^2). The reference is Magnitude in
// src/ConvGL.Core/Ops/Magnitude.cs (float32, as here). The input is read through a texel view of its buffer (a vector gather on
// llvmpipe, where a storage-block load with a per-invocation address is a scalar loop), NV elements per invocation,
// no early return (clamped loads, predicated stores). VEC 4: planes of a multiple of 4 values, read as rgba32f texels
// (a vec4 never straddles two planes); VEC 1: any plane, r32f texels.
// Defines: VEC (4 or 1), NV, U64_STORES (VEC 4, NV even, an even count of vec4s: each pair of vec4s one 32-byte store,
// include/store8.glsl; on llvmpipe a storage store is a loop over the lanes, so half the loops).

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#if VEC == 4
#define T vec4
#define FETCH(i) imageLoad(u_input, i)
#elif VEC == 1
#define T float
#define FETCH(i) imageLoad(u_input, i).r
#else
#error VEC must be 4 or 1
#endif

// (2*C_out, H, W) row-major, as VEC-wide texels.
#if VEC == 4
layout(rgba32f, binding = 0) readonly uniform imageBuffer u_input;
#else
layout(r32f, binding = 0) readonly uniform imageBuffer u_input;
#endif
// (C_out, H, W) row-major, as VEC-wide elements.
#if U64_STORES
#include "include/store8.glsl"
layout(std430, binding = 3) writeonly buffer Output8 { u64vec4 out_data8[]; };
#else
layout(std430, binding = 3) writeonly buffer Output { T out_data[]; };
#endif

uniform int u_plane;  // H * W / VEC
uniform int u_count;  // C_out * H * W / VEC
uniform int u_row;    // invocations per dispatch row

void main()
{
    int base = (int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x)) * NV;
    T v[NV];
    for (int k = 0; k < NV; k++)
    {
        int index = min(base + k, u_count - 1);
        int i = index / u_plane, p = index - i * u_plane;
        T a = FETCH(2 * i * u_plane + p);
        T b = FETCH((2 * i + 1) * u_plane + p);
        v[k] = sqrt(a * a + b * b);
    }
#if U64_STORES
    // base and u_count are even: a pair is wholly inside or outside the output.
    for (int k = 0; k < NV; k += 2)
        if (base + k < u_count) out_data8[(base + k) >> 1] = pack8(v[k], v[k + 1]);
#else
    for (int k = 0; k < NV; k++)
        if (base + k < u_count) out_data[base + k] = v[k];
#endif
}
