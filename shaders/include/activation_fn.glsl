// The element-wise activations of Activation.Apply (src/ConvGL.Core/Ops/Activation.cs), four values at a time, for
// activation_fast.comp, activation.comp (one of the four) and an activation fused into a producer's stores
// (include/fused_act.glsl, FUSED_ACT 4).
// ACTIVATION is the ActivationKind (0 relu, 1 leaky relu, 2 tanh, 3 sigmoid, 4 abs, 5 clip, 6 elu, 7 selu, 8 hard
// sigmoid, 9 hard swish, 10 softplus, 11 softsign, 12 celu, 13 thresholded relu, 14 mish, 15 gelu,
// 16 gelu with tanh, 17 silu); the includer defines its
// constants as ACT_SLOPE (leaky relu's slope; elu's, celu's, thresholded relu's, selu's and hard sigmoid's alpha),
// ACT_MIN and ACT_MAX (clip's bounds), ACT_BETA (selu's gamma, hard sigmoid's beta): uniforms or literals.
#ifndef CONVGL_ACTIVATION_FN_GLSL
#define CONVGL_ACTIVATION_FN_GLSL
#include "erf.glsl"
vec4 activation_fn(vec4 x)
{
    // mix with a boolean selects (no blend): x > 0 picks x, anything else (including NaN) the other side, exactly as
    // the reference's `x > 0 ? x : ...`.
#if ACTIVATION == 0
    // max(x, 0) as the reference: a NaN is selected back.
    return mix(mix(vec4(0.0), x, greaterThan(x, vec4(0.0))), x, isnan(x));
#elif ACTIVATION == 1
    return mix(ACT_SLOPE * x, x, greaterThan(x, vec4(0.0)));
#elif ACTIVATION == 2
    // Clamped first: tanh's exp form overflows to inf/inf = NaN for large |x| on some drivers, and tanh(10) already rounds
    // to 1 in float32.
    return mix(tanh(clamp(x, -10.0, 10.0)), x, isnan(x)); // clamp may turn a NaN into a bound
#elif ACTIVATION == 3
    return 1.0 / (1.0 + exp(-x));
#elif ACTIVATION == 4
    return abs(x);
#elif ACTIVATION == 5
    // min(max(x, lo), hi) as the reference (a NaN stays NaN: GLSL's min / max need not propagate it, so it is selected back).
    return mix(min(max(x, vec4(ACT_MIN)), vec4(ACT_MAX)), x, isnan(x));
#elif ACTIVATION == 6
    return mix(ACT_SLOPE * (exp(x) - 1.0), x, greaterThanEqual(x, vec4(0.0)));
#elif ACTIVATION == 7
    return mix(ACT_BETA * (ACT_SLOPE * exp(x) - ACT_SLOPE), ACT_BETA * x, greaterThan(x, vec4(0.0)));
#elif ACTIVATION == 8
    vec4 y = ACT_SLOPE * x + ACT_BETA;
    return mix(clamp(y, 0.0, 1.0), y, isnan(y));
#elif ACTIVATION == 9
    return x * clamp(x * (1.0 / 6.0) + 0.5, 0.0, 1.0);
#elif ACTIVATION == 10
    // max(x, 0) + ln(1 + e^-|x|): no overflow for large x; a NaN stays NaN through the log.
    return max(x, vec4(0.0)) + log(1.0 + exp(-abs(x)));
#elif ACTIVATION == 11
    return x / (1.0 + abs(x));
#elif ACTIVATION == 12
    return mix(ACT_SLOPE * (exp(x / ACT_SLOPE) - 1.0), x, greaterThan(x, vec4(0.0)));
#elif ACTIVATION == 13
    return mix(vec4(0.0), x, greaterThan(x, vec4(ACT_SLOPE)));
#elif ACTIVATION == 14
    // x tanh(ln(1 + e^x)) = x n / (n + 2) with n = e^x (e^x + 2): no tanh (whose exp form loses small values on some
    // drivers) and exact for very negative x; x itself from 20 on (the factor is 1 in float32, and n overflows past 44).
    vec4 e = exp(x), n = e * (e + 2.0);
    return mix(x * n / (n + 2.0), x, greaterThanEqual(x, vec4(20.0)));
#elif ACTIVATION == 15
    // x (1 + erf(x / sqrt 2)) / 2 = x erfc(-x / sqrt 2) / 2, as the reference. With a = |x| / sqrt 2: erfc(a) is 1 minus
    // erf's series to a^11 below 0.5 (as unary.comp), Abramowitz and Stegun's 7.1.26 from 0.5 on, and erfc(-a) = 2 -
    // erfc(a). 7.1.26's error is absolute (under 1.5e-7), so the result is within 1.5e-7 |x| / 2 of gelu's: relatively
    // close for x > -3, not in the far negative tail (2e-2 at x = -10, where gelu is -8e-23). Both sides run; the select picks.
    vec4 a = abs(x) * 0.70710678118654752, a2 = a * a;
    vec4 t = 1.0 / (1.0 + ERFC_P * a);
    vec4 erfc_a = mix(ERFC_TAIL(t, a2), 1.0 - ERF_SERIES(a, a2), lessThan(a, vec4(0.5)));
    return 0.5 * x * mix(erfc_a, 2.0 - erfc_a, greaterThanEqual(x, vec4(0.0)));
#elif ACTIVATION == 16
    // x (1 + tanh(u)) / 2 = x sigmoid(2u), u = sqrt(2 / pi) (x + 0.044715 x^3), as the reference: no tanh (see 2).
    vec4 u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
    return x / (1.0 + exp(-2.0 * u));
#elif ACTIVATION == 17
    // x sigmoid(x), sigmoid as 3 has it.
    return x * (1.0 / (1.0 + exp(-x)));
#else
#error unknown ACTIVATION value
#endif
}
#endif
