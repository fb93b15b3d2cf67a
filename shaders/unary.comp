#version 430
// Element-wise math, the reference is Unary.Apply in src/ConvGL.Core/Ops/Unary.cs. OP (the UnaryKind order): 0 neg,
// 1 exp, 2 log, 3 sqrt, 4 reciprocal, 5 floor, 6 ceil, 7 sign, 8 erf (no GLSL builtin: a float series near 0 and
// Abramowitz and Stegun's 7.1.26 beyond, within 4e-7 of the reference's double erf). GLSL leaves log and sqrt of negatives (and log of 0)
// undefined and sign of NaN too, so those edges are selected explicitly: log(0) = -inf, log(x < 0) = NaN,
// sqrt(x < 0) = NaN, sign(NaN) = NaN, as IEEE and NumPy have them. Input through an r32f texel view; one value
// per invocation, the index clamped for the load and the store predicated.

// VEC4 (a count of a multiple of 4): 4 values per invocation, one rgba32f fetch and one vec4 store (on llvmpipe a
// per-lane store is a loop over the SIMD lanes: a quarter of them), each value through the same scalar function.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "include/nonfinite.glsl"
#include "include/erf.glsl"

#if VEC4
layout(rgba32f, binding = 0) readonly uniform imageBuffer u_input;
layout(std430, binding = 3) writeonly buffer Output { vec4 out_data[]; };
#else
layout(r32f, binding = 0) readonly uniform imageBuffer u_input;
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };
#endif

uniform int u_count; // values (VEC4: vec4s)
uniform int u_row; // invocations per dispatch row (see GlProgram.DispatchFlat)

float unary_fn(float x)
{
    float nan = NAN_F, inf = INF_F;
#if OP == 0
    float y = -x;
#elif OP == 1
    float y = exp(x);
#elif OP == 2
    float y = x > 0.0 ? log(x) : x == 0.0 ? -inf : nan;
    y = isnan(x) ? x : y;
#elif OP == 3
    float y = x >= 0.0 ? sqrt(x) : nan;
    y = isnan(x) ? x : y;
#elif OP == 4
    float y = 1.0 / x;
#elif OP == 5
    float y = floor(x);
#elif OP == 6
    float y = ceil(x);
#elif OP == 7
    float y = isnan(x) ? x : sign(x);
#elif OP == 8
    // erf in float: its Maclaurin series to x^11 below |x| = 0.5 (the next term is under 2e-8), Abramowitz and Stegun's
    // 7.1.26 above (absolute error under 1.5e-7): cheap on both sides of the branch, which llvmpipe runs both of.
    float a = abs(x), a2 = a * a;
    float series = ERF_SERIES(a, a2);
    float t = 1.0 / (1.0 + ERFC_P * a);
    float tail = 1.0 - ERFC_TAIL(t, a2);
    float r = a < 0.5 ? series : tail;
    float y = isnan(x) ? x : x < 0.0 ? -r : r;
#else
#error unknown OP value
#endif
    return y;
}

void main()
{
    int index = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
#if VEC4
    vec4 v = imageLoad(u_input, min(index, u_count - 1));
    for (int e = 0; e < 4; e++) v[e] = unary_fn(v[e]);
    if (index < u_count) out_data[index] = v;
#else
    float y = unary_fn(imageLoad(u_input, min(index, u_count - 1)).r);
    if (index < u_count) out_data[index] = y;
#endif
}
