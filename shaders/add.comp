#version 430
#if PAIRS
#extension GL_ARB_gpu_shader_int64 : require
#endif
// Element-wise a OP b with NumPy broadcasting over up to 4 dimensions. The reference is Elementwise.Apply
// in src/ConvGL.Core/Ops/Elementwise.cs. OP (the BinaryKind order): 0 a + b, 1 a - b, 2 a * b, 3 a / b,
// 4 PRelu (a where a >= 0 or NaN, b * a where a < 0), 5 max, 6 min (a NaN on either side wins, as NumPy's maximum),
// 7 pow (C's pow: GLSL leaves pow undefined for a base <= 0, so those cases are written out). The host right-aligns both shapes to rank 4 and passes each
// input's element strides, 0 along a broadcast dimension; equal shapes are the strides of the output.
// FUSED_ACT (include/fused_act.glsl): an activation fused into the store (a residual add followed by a relu, leaky relu or
// clip no one else reads).

// SAME_SHAPE (the residual add of a ResNet: equal shapes, no broadcast): out[i] = a[i] + b[i], both read through texel
// views of their buffers (a storage load with a per-lane address is a scalar loop over the lanes on llvmpipe, a texel
// fetch a vector gather), 4 values per invocation through rgba32f views and one vec4 store when VEC4 (the count is a
// multiple of 4). u_count then counts vec4s. PAIRS (with VEC4, an even count of vec4s): two vec4s per invocation and one
// 32-byte store (include/store8.glsl; on llvmpipe a storage store is a loop over the lanes, so half the loops).
// PLANE (with SAME_SHAPE): one operand is a single (1, H, W) plane repeated over the other's C planes (a spatial gate,
// CBAM's): b (PLANE 1) or a (PLANE 2) read at index % u_plane (u_plane in the units of u_count). PLANE 3: b is one value
// (x^2, max(x, 0.5)), read once through an r32f view and used for every value of a.
#ifndef SAME_SHAPE
#define SAME_SHAPE 0
#endif
#ifndef PLANE
#define PLANE 0
#endif
#if PLANE == 1
#define AI(i) (i)
#define BI(i) ((i) % u_plane)
#elif PLANE == 2
#define AI(i) ((i) % u_plane)
#define BI(i) (i)
#elif PLANE == 3
#define AI(i) (i)
#define BI(i) 0
#else
#define AI(i) (i)
#define BI(i) (i)
#endif
#ifndef OP
#define OP 0
#endif

#if OP == 0
#define APPLY(a, b) ((a) + (b))
#elif OP == 1
#define APPLY(a, b) ((a) - (b))
#elif OP == 2
#define APPLY(a, b) ((a) * (b))
#elif OP == 3
#define APPLY(a, b) ((a) / (b))
#elif OP == 4
// A boolean-selector mix is a select: a NaN input stays NaN, as the reference's `a < 0 ? b * a : a`.
#define APPLY(a, b) mix((a), (b) * (a), negative(a))
#elif OP == 5
#define APPLY(a, b) mix(mix(max((a), (b)), (b), isnan(b)), (a), isnan(a))
#elif OP == 6
#define APPLY(a, b) mix(mix(min((a), (b)), (b), isnan(b)), (a), isnan(a))
#elif OP == 7
#define APPLY(a, b) powc((a), (b))
#else
#error unknown OP value
#endif

#include "include/powc.glsl"
#include "include/fused_act.glsl"
// The stored value: the op, then the fused activation (FUSED_ACT; none by default).
#define RESULT(a, b) fused_act(APPLY(a, b))
vec4 powc(vec4 x, vec4 y) { return vec4(powc(x.x, y.x), powc(x.y, y.y), powc(x.z, y.z), powc(x.w, y.w)); }

bvec4 negative(vec4 a) { return lessThan(a, vec4(0.0)); }
bool negative(float a) { return a < 0.0; }

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

uniform int u_count;      // output elements (SAME_SHAPE and VEC4: vec4s)
uniform int u_row;        // invocations per dispatch row (see GlProgram.DispatchFlat)
uniform int u_plane;      // PLANE: the repeated plane's size

#if SAME_SHAPE
// Both operands through readonly image views of their buffers (imageLoad: a vector gather on llvmpipe, cheaper than
// texelFetch of the same view).
#if VEC4 && PLANE == 3
layout(rgba32f, binding = 0) readonly uniform imageBuffer u_a;
layout(r32f, binding = 1) readonly uniform imageBuffer u_b;
#elif VEC4
layout(rgba32f, binding = 0) readonly uniform imageBuffer u_a;
layout(rgba32f, binding = 1) readonly uniform imageBuffer u_b;
#else
layout(r32f, binding = 0) readonly uniform imageBuffer u_a;
layout(r32f, binding = 1) readonly uniform imageBuffer u_b;
#endif
#if PAIRS
#include "include/store8.glsl"
layout(std430, binding = 3) writeonly buffer Output8 { u64vec4 out_data8[]; };
#elif VEC4
layout(std430, binding = 3) writeonly buffer Output { vec4 out_data[]; };
#else
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };
#endif

void main()
{
    int index = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
#if PAIRS
    index *= 2; // the pair's first vec4; u_count is even
    if (index >= u_count) return;
    out_data8[index >> 1] = pack8(RESULT(imageLoad(u_a, AI(index)), imageLoad(u_b, BI(index))), RESULT(imageLoad(u_a, AI(index + 1)), imageLoad(u_b, BI(index + 1))));
#elif VEC4 && PLANE == 3
    if (index >= u_count) return;
    out_data[index] = RESULT(imageLoad(u_a, index), vec4(imageLoad(u_b, 0).r));
#elif VEC4
    if (index >= u_count) return;
    out_data[index] = RESULT(imageLoad(u_a, AI(index)), imageLoad(u_b, BI(index)));
#else
    if (index >= u_count) return;
    out_data[index] = RESULT(imageLoad(u_a, AI(index)).r, imageLoad(u_b, BI(index)).r);
#endif
}
#else
layout(std430, binding = 0) readonly buffer A { float a_data[]; };
layout(std430, binding = 1) readonly buffer B { float b_data[]; };
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform ivec4 u_dims;     // output shape, rank 4
uniform ivec4 u_a_stride; // a's element strides in the output's index space
uniform ivec4 u_b_stride;

void main()
{
    int index = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    if (index >= u_count) return;
    int rest = index;
    ivec4 i;
    i.w = rest % u_dims.w; rest /= u_dims.w;
    i.z = rest % u_dims.z; rest /= u_dims.z;
    i.y = rest % u_dims.y; rest /= u_dims.y;
    i.x = rest;
    out_data[index] = RESULT(a_data[i.x * u_a_stride.x + i.y * u_a_stride.y + i.z * u_a_stride.z + i.w * u_a_stride.w],
                            b_data[i.x * u_b_stride.x + i.y * u_b_stride.y + i.z * u_b_stride.z + i.w * u_b_stride.w]);
}
#endif
