#version 430
// Element-wise activations, the reference is Activation.Apply in src/ConvGL.Core/Ops/Activation.cs.
// Defines: ACTIVATION (0 relu, 1 leaky relu, 2 tanh, 3 sigmoid, 4 abs, 5 clip, 6 elu,
// 7 selu, 8 hard sigmoid, 9 hard swish, 10 softplus, 11 softsign, 12 celu, 13 thresholded relu, 14 mish), the
// ActivationKind order.
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
#else
#error unknown ACTIVATION value
#endif
    out_data[index] = y;
}
