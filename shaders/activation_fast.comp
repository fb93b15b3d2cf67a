#version 430
#if U64_STORES
#extension GL_ARB_gpu_shader_int64 : require
#endif
// Element-wise activations, the fast variant of activation.comp (same values; the reference is Activation.Apply in
// src/ConvGL.Core/Ops/Activation.cs). On llvmpipe a storage-block load with a per-invocation address is a scalar loop
// over the SIMD lanes (../shared/PERF-NOTES.md); an imageLoad through an image view of the same buffer is a vector gather (cheaper than texelFetch).
// So the input is read through an rgba32f view, four values per texel, NV texels per invocation, with no early return
// (the index is clamped for the load and the store is predicated). The tail past the last whole texel (n % 4 values)
// is a second dispatch of this shader with VEC 1 (an r32f view, one value per element).
// Defines: ACTIVATION (0 relu, 1 leaky relu, 2 tanh, 3 sigmoid, 4 abs, 5 clip, 6 elu,
// 7 selu, 8 hard sigmoid, 9 hard swish, 10 softplus, 11 softsign, 12 celu, 13 thresholded relu, 14 mish, 15 gelu,
// 16 gelu with tanh, 17 silu: the ActivationKind order), VEC (4 or 1),
// NV (elements of VEC values per invocation), U64_STORES (VEC 4, NV even, the dispatch's element count even: each pair of
// vec4s is one 32-byte store, include/store8.glsl; on llvmpipe a storage store is a loop over the lanes, so half the loops).
// Input and output may be the same buffer: each invocation reads and writes only its own elements.

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

// The input's n floats as rgba32f (VEC 4) or r32f (VEC 1) texels.
#if VEC == 4
layout(rgba32f, binding = 0) readonly uniform imageBuffer u_input;
#else
layout(r32f, binding = 0) readonly uniform imageBuffer u_input;
#endif
// The output's n floats, as VEC-wide elements (pairs of vec4s: U64_STORES).
#if U64_STORES
#include "include/store8.glsl"
layout(std430, binding = 3) writeonly buffer Output8 { u64vec4 out_data8[]; };
#else
layout(std430, binding = 3) writeonly buffer Output { T out_data[]; };
#endif

uniform int u_first; // the first element this dispatch covers (the tail starts past the last whole vec4)
uniform int u_end;   // one past the last element it covers
uniform int u_row;   // invocations per dispatch row: invocation = y * u_row + x
uniform float u_slope;
uniform float u_min; // clip's bounds (+-inf: none)
uniform float u_max;
uniform float u_beta; // selu's gamma, hard sigmoid's beta (u_slope is their alpha)

#define ACT_SLOPE u_slope
#define ACT_MIN u_min
#define ACT_MAX u_max
#define ACT_BETA u_beta
#include "include/activation_fn.glsl"

#if VEC == 4
T activate(T x) { return activation_fn(x); }
#else
T activate(T x) { return activation_fn(vec4(x)).x; }
#endif

void main()
{
    int base = u_first + (int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x)) * NV;
    T v[NV];
    for (int k = 0; k < NV; k++) v[k] = activate(FETCH(min(base + k, u_end - 1)));
#if U64_STORES
    // base and u_end are even (u_first is 0 for the body), so a pair is wholly inside or outside the range.
    for (int k = 0; k < NV; k += 2)
        if (base + k < u_end) out_data8[(base + k) >> 1] = pack8(v[k], v[k + 1]);
#else
    for (int k = 0; k < NV; k++)
        if (base + k < u_end) out_data[base + k] = v[k];
#endif
}
