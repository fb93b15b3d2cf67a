#version 430
// Element-wise activations, the reference is Activation.Apply in src/ConvGL.Core/Ops/Activation.cs.
// Defines: ACTIVATION (0 relu, 1 leaky relu, 2 tanh, 3 sigmoid, 4 abs, 5 clip, 6 elu,
// 7 selu, 8 hard sigmoid, 9 hard swish, 10 softplus, 11 softsign, 12 celu, 13 thresholded relu, 14 mish, 15 gelu,
// 16 gelu with tanh, 17 silu), the ActivationKind order.
// Input and output may be the same buffer: each invocation reads and writes only its own element.

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

// Any layout: n floats, treated as a flat array.
layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform int u_count;   // n
uniform int u_row;     // invocations per dispatch row: index = y * u_row + x (n may exceed 65535 groups)
uniform float u_slope; // leaky relu's negative slope; elu's, celu's and thresholded relu's alpha
uniform float u_min;   // clip's bounds (+-inf: none)
uniform float u_max;
uniform float u_beta;  // selu's gamma, hard sigmoid's beta (u_slope is their alpha)

void main()
{
    int index = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    if (index >= u_count) return;
    float x = in_data[index];
#if ACTIVATION == 0
    // max(x, 0) as the reference: a NaN stays NaN (selected back: GLSL's max need not propagate it).
    float y = x > 0.0 || isnan(x) ? x : 0.0;
#elif ACTIVATION == 1
    float y = x > 0.0 ? x : u_slope * x;
#elif ACTIVATION == 2
    // Clamped first: tanh(x) = (e^2x - 1)/(e^2x + 1) overflows to inf/inf = NaN for large |x| on some
    // drivers, and tanh(10) already rounds to 1 in float32.
    float y = isnan(x) ? x : tanh(clamp(x, -10.0, 10.0)); // GLSL clamp may turn a NaN into a bound
#elif ACTIVATION == 3
    float y = 1.0 / (1.0 + exp(-x));
#elif ACTIVATION == 4
    float y = abs(x);
#elif ACTIVATION == 5
    // min(max(x, lo), hi) as the reference; a NaN stays NaN (GLSL's min / max need not propagate it).
    float y = isnan(x) ? x : min(max(x, u_min), u_max);
#elif ACTIVATION == 6
    float y = x >= 0.0 ? x : u_slope * (exp(x) - 1.0);
#elif ACTIVATION == 7
    float y = x > 0.0 ? u_beta * x : u_beta * (u_slope * exp(x) - u_slope);
#elif ACTIVATION == 8
    float h = u_slope * x + u_beta;
    float y = isnan(h) ? h : clamp(h, 0.0, 1.0);
#elif ACTIVATION == 9
    float y = x * clamp(x * (1.0 / 6.0) + 0.5, 0.0, 1.0);
#elif ACTIVATION == 10
    float y = max(x, 0.0) + log(1.0 + exp(-abs(x)));
#elif ACTIVATION == 11
    float y = x / (1.0 + abs(x));
#elif ACTIVATION == 12
    float y = x > 0.0 ? x : u_slope * (exp(x / u_slope) - 1.0);
#elif ACTIVATION == 13
    float y = x > u_slope ? x : 0.0;
#elif ACTIVATION == 14
    // x tanh(ln(1 + e^x)) = x n / (n + 2) with n = e^x (e^x + 2): no tanh (whose exp form loses small values on some
    // drivers) and exact for very negative x; from 20 on the factor is 1 in float32 (and n would overflow past 44).
    float e = exp(x), n = e * (e + 2.0);
    float y = x >= 20.0 ? x : x * n / (n + 2.0);
#elif ACTIVATION == 15
    // x (1 + erf(x / sqrt 2)) / 2 = x erfc(-x / sqrt 2) / 2 (as include/activation_fn.glsl: erf's series below a = 0.5,
    // Abramowitz and Stegun's 7.1.26 above, erfc(-a) = 2 - erfc(a)).
    float a = abs(x) * 0.70710678118654752, a2 = a * a;
    float series = 1.1283791670955126 * a * (1.0 + a2 * (-1.0 / 3.0 + a2 * (0.1 + a2 * (-1.0 / 42.0 + a2 * (1.0 / 216.0 + a2 * (-1.0 / 1320.0))))));
    float t = 1.0 / (1.0 + 0.3275911 * a);
    float tail = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * exp(-a2);
    float erfc_a = a < 0.5 ? 1.0 - series : tail;
    float y = 0.5 * x * (x >= 0.0 ? 2.0 - erfc_a : erfc_a);
#elif ACTIVATION == 16
    // x sigmoid(2 sqrt(2 / pi) (x + 0.044715 x^3)), tanh's form without tanh.
    float u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
    float y = x / (1.0 + exp(-2.0 * u));
#elif ACTIVATION == 17
    float y = x * (1.0 / (1.0 + exp(-x)));
#else
#error unknown ACTIVATION value
#endif
    out_data[index] = y;
}
