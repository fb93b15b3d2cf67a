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
// 7 selu, 8 hard sigmoid, 9 hard swish, 10 softplus, 11 softsign, 12 celu, 13 thresholded relu, 14 mish: the
// ActivationKind order), VEC (4 or 1),
// NV (elements of VEC values per invocation), U64_STORES (VEC 4, NV even, the dispatch's element count even: each pair of
// vec4s is one 32-byte store, include/store8.glsl; on llvmpipe a storage store is a loop over the lanes, so half the loops).
// Input and output may be the same buffer: each invocation reads and writes only its own elements.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#if VEC == 4
#define T vec4
#define FETCH(i) imageLoad(u_input, i)
#define POSITIVE(x) greaterThan(x, vec4(0.0))
#define NONNEGATIVE(x) greaterThanEqual(x, vec4(0.0))
#define ABOVE(x, v) greaterThan(x, vec4(v))
#define AT_LEAST(x, v) greaterThanEqual(x, vec4(v))
#elif VEC == 1
#define T float
#define FETCH(i) imageLoad(u_input, i).r
#define POSITIVE(x) (x > 0.0)
#define NONNEGATIVE(x) (x >= 0.0)
#define ABOVE(x, v) (x > (v))
#define AT_LEAST(x, v) (x >= (v))
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

T activate(T x)
{
    // mix with a boolean selects (no blend): x > 0 picks x, anything else (including NaN) the other side, exactly as
    // the reference's `x > 0 ? x : ...`.
#if ACTIVATION == 0
    // max(x, 0) as the reference: a NaN is selected back.
    return mix(mix(T(0.0), x, POSITIVE(x)), x, isnan(x));
#elif ACTIVATION == 1
    return mix(u_slope * x, x, POSITIVE(x));
#elif ACTIVATION == 2
    // Clamped first, as activation.comp: tanh's exp form overflows to inf/inf = NaN for large |x| on some drivers.
    return mix(tanh(clamp(x, -10.0, 10.0)), x, isnan(x)); // clamp may turn a NaN into a bound
#elif ACTIVATION == 3
    return 1.0 / (1.0 + exp(-x));
#elif ACTIVATION == 4
    return abs(x);
#elif ACTIVATION == 5
    // min(max(x, lo), hi) as the reference (a NaN stays NaN: GLSL's min / max need not propagate it, so it is selected back).
    return mix(min(max(x, T(u_min)), T(u_max)), x, isnan(x));
#elif ACTIVATION == 6
    return mix(u_slope * (exp(x) - 1.0), x, NONNEGATIVE(x));
#elif ACTIVATION == 7
    return mix(u_beta * (u_slope * exp(x) - u_slope), u_beta * x, POSITIVE(x));
#elif ACTIVATION == 8
    T y = u_slope * x + u_beta;
    return mix(clamp(y, 0.0, 1.0), y, isnan(y));
#elif ACTIVATION == 9
    return x * clamp(x * (1.0 / 6.0) + 0.5, 0.0, 1.0);
#elif ACTIVATION == 10
    // max(x, 0) + ln(1 + e^-|x|): no overflow for large x; a NaN stays NaN through the log.
    return max(x, T(0.0)) + log(1.0 + exp(-abs(x)));
#elif ACTIVATION == 11
    return x / (1.0 + abs(x));
#elif ACTIVATION == 12
    return mix(u_slope * (exp(x / u_slope) - 1.0), x, POSITIVE(x));
#elif ACTIVATION == 13
    return mix(T(0.0), x, ABOVE(x, u_slope));
#elif ACTIVATION == 14
    // x n / (n + 2) with n = e^x (e^x + 2), as activation.comp; x itself from 20 on (n overflows past 44).
    T e = exp(x), n = e * (e + 2.0);
    return mix(x * n / (n + 2.0), x, AT_LEAST(x, 20.0));
#else
#error unknown ACTIVATION value
#endif
}

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
