#version 430
// Element-wise activations, the reference is Activation.Apply in src/ConvGL.Core/Ops/Activation.cs: the plain variant of
// activation_fast.comp (one value per invocation, read from a storage block: for tensors beyond the texel-buffer size),
// with the same formulas (include/activation_fn.glsl).
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

#define ACT_SLOPE u_slope
#define ACT_MIN u_min
#define ACT_MAX u_max
#define ACT_BETA u_beta
#include "include/activation_fn.glsl"

void main()
{
    int index = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    if (index >= u_count) return;
    out_data[index] = activation_fn(vec4(in_data[index])).x;
}
