#version 430
#if U64_STORES
#extension GL_ARB_gpu_shader_int64 : require
#endif
// The fast variant of channel_affine.comp (same values; the reference is BatchNorm.Apply in src/ConvGL.Core/Ops/BatchNorm.cs):
// y = a[p % C] * x + b[p % C] on plane p of (P, H, W) planes; PRELU 1: y = x where x >= 0 (and NaN), a[c] * x where x < 0
// (Elementwise.PRelu with one slope per channel); SCALE_ONLY 1: y = a[c] * x, the parameters a tensor the GPU computed
// (a stack's mul layer gating a map by a (C, 1, 1) one: a squeeze-and-excitation gate). The plane comes from the invocation id (y), so no integer division
// per element (llvmpipe has no vector divide); the input is read through a texel view (VEC 4: rgba32f, the plane a
// multiple of 4 values; VEC 1: r32f), NV elements per invocation, the parameters through an r32f view of their buffer
// (a vector gather; a storage load with a per-lane address is a scalar loop on llvmpipe), no early return before the
// loads (the store is predicated). Defines: VEC (4 or 1), NV, PRELU (0 or 1), SCALE_ONLY (0 or 1), U64_STORES (VEC 4, NV
// even, planes of an even count of vec4s: each pair of vec4s one 32-byte store, include/store8.glsl; on llvmpipe a
// storage store is a loop over the lanes, so half the loops).

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#if VEC == 4
#define T vec4
#define FETCH(i) imageLoad(u_input, i)
#define NEGATIVE(x) lessThan(x, vec4(0.0))
#elif VEC == 1
#define T float
#define FETCH(i) imageLoad(u_input, i).r
#define NEGATIVE(x) (x < 0.0)
#else
#error VEC must be 4 or 1
#endif

#if VEC == 4
layout(rgba32f, binding = 0) readonly uniform imageBuffer u_input;
#else
layout(r32f, binding = 0) readonly uniform imageBuffer u_input;
#endif // the planes, as VEC-wide texels
layout(r32f, binding = 2) readonly uniform imageBuffer u_params; // a[0..C) then b[0..C)
#if U64_STORES
#include "include/store8.glsl"
layout(std430, binding = 3) writeonly buffer Output8 { u64vec4 out_data8[]; };
#else
layout(std430, binding = 3) writeonly buffer Output { T out_data[]; };
#endif

uniform int u_plane;    // VEC-wide elements per plane
uniform int u_channels; // C (the parameters' count; plane p is channel p % C)

void main()
{
    int plane = int(gl_GlobalInvocationID.y);
    int c = plane % u_channels;
    float a = imageLoad(u_params, c).r;
#if SCALE_ONLY
    float b = 0.0;
#else
    float b = imageLoad(u_params, u_channels + c).r;
#endif
    int first = int(gl_GlobalInvocationID.x) * NV;
    int base = plane * u_plane;
    T v[NV];
    for (int k = 0; k < NV; k++)
    {
        T x = FETCH(base + min(first + k, u_plane - 1));
#if PRELU
        v[k] = mix(x, a * x, NEGATIVE(x));
#elif SCALE_ONLY
        v[k] = a * x;
#else
        v[k] = a * x + b;
#endif
    }
#if U64_STORES
    // base, first and u_plane are even, so a pair of vec4s is wholly inside or outside the plane.
    for (int k = 0; k < NV; k += 2)
        if (first + k < u_plane) out_data8[(base + first + k) >> 1] = pack8(v[k], v[k + 1]);
#else
    for (int k = 0; k < NV; k++)
        if (first + k < u_plane) out_data[base + first + k] = v[k];
#endif
}
