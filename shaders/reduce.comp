#version 430
// A reduction over the middle dimension of (outer, R, inner) blocks, the reference is Reduce.Apply (Reduce.Arg for
// MODE 10, 11) in src/ConvGL.Core/Ops/Reduce.cs (the reduced axes of the tensor made adjacent by the host). MODE is
// ReduceKind: 0 mean, 1 sum, 2 max, 3 min, 4 L1 (sum |x|), 5 L2, 6 sum of squares, 7 log of the sum, 8 log-sum-exp,
// 9 product, 10 argmax, 11 argmin (LAST 1: the last index on a tie, ONNX's select_last_index). A NaN reaches every
// reduction's output (GLSL's max / min need not propagate it) and wins an argmax or argmin (NumPy's). L2 and
// log-sum-exp take two passes: the line's largest |x| (L2) or x first, so x^2 and exp(x) do not overflow where the
// result would not. Sums and products are float32 here (double in the reference): a product whose partial products
// leave float32's range (1e-30 * 1e-30 * 1e30 * 1e30) is 0 or inf here and exact there.
// One invocation per (outer, inner); or, with CHUNK (a value count, for MODE 0-3 over long lines: a global max pool of a
// 640x360 map is 230,400 values a line, past llvmpipe's loop limit and one invocation's serial work anywhere), one per
// (outer, chunk, inner): pass 1 of two, each reducing CHUNK values of its line into a partial at (o, chunk, i), which
// a second run of the plain program over the u_chunks partials joins (GpuReduce; the mean sums here and divides by
// u_divisor, the whole line's count, there).
#ifndef CHUNK
#define CHUNK 0
#endif

#ifndef LAST
#define LAST 0
#endif

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#ifndef VEC4
#define VEC4 0
#endif
#if VEC4
// VEC4 (MODE 0-3, u_inner a multiple of 4: a reduction over the channels of (1, C, H, W) maps): 4 neighbouring kept
// values per invocation, each step one rgba32f fetch through an image view of the input (a vector gather on llvmpipe,
// where a storage load with a per-lane address is a scalar loop) and one vec4 store.
layout(rgba32f, binding = 0) readonly uniform imageBuffer u_input4;
layout(std430, binding = 3) writeonly buffer Output4 { vec4 out_data4[]; };
#else
layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };
#endif

uniform int u_outer;
uniform int u_count; // R
uniform int u_inner;
uniform int u_row;   // invocations per dispatch row (see GlProgram.DispatchFlat)
uniform int u_divisor; // MODE 0: the mean's divisor (u_count, or the whole line's count when joining partial sums)
uniform int u_chunks;  // CHUNK: chunks per line

#include "include/nonfinite.glsl"

#if VEC4
void main()
{
    int id = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    int quads = u_inner / 4;
    if (id >= u_outer * quads) return;
    int o = id / quads, q = id - o * quads;
    int at = o * u_count * quads + q;
    bvec4 nan = bvec4(false);
#if MODE == 2
    vec4 acc = vec4(-INF_F);
#elif MODE == 3
    vec4 acc = vec4(INF_F);
#else
    vec4 acc = vec4(0.0);
#endif
    for (int k = 0; k < u_count; k++)
    {
        vec4 v = imageLoad(u_input4, at + k * quads);
        nan = bvec4(uvec4(nan) | uvec4(isnan(v)));
#if MODE == 2
        acc = max(acc, v);
#elif MODE == 3
        acc = min(acc, v);
#else
        acc += v;
#endif
    }
#if MODE == 0
    acc /= float(u_divisor);
#endif
    out_data4[id] = mix(acc, vec4(NAN_F), nan);
}
#else
void main()
{
#if CHUNK
    int id = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    if (id >= u_outer * u_inner * u_chunks) return;
    int line = id / u_chunks, chunk = id - line * u_chunks;
    int o = line / u_inner, i = line - o * u_inner;
    int k0 = chunk * CHUNK, k1 = min(u_count, k0 + CHUNK), dst = (o * u_chunks + chunk) * u_inner + i;
#else
    int line = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    if (line >= u_outer * u_inner) return;
    int o = line / u_inner, i = line - o * u_inner;
    int k0 = 0, k1 = u_count, dst = line;
#endif
    int at = o * u_count * u_inner + i;
    bool nan = false;
#if MODE == 10 || MODE == 11
    // The index of the best value so far; a NaN, once found, is kept (or replaced by a later NaN with LAST).
    int best = 0;
    float bv = in_data[at];
    for (int k = 1; k < u_count; k++)
    {
        float v = in_data[at + k * u_inner];
        bool take;
        if (isnan(bv)) take = LAST == 1 && isnan(v);
        else if (isnan(v)) take = true;
#if MODE == 10
        else take = v > bv || (LAST == 1 && v == bv);
#else
        else take = v < bv || (LAST == 1 && v == bv);
#endif
        if (take) { best = k; bv = v; }
    }
    out_data[line] = float(best);
#else
#if MODE == 5 || MODE == 8
    // First pass: the scale (L2: the largest |x|) or shift (log-sum-exp: the largest x).
#if MODE == 5
    float m = 0.0;
#else
    float m = -INF_F;
#endif
    for (int k = 0; k < u_count; k++)
    {
        float v = in_data[at + k * u_inner];
        nan = nan || isnan(v);
#if MODE == 5
        m = max(m, abs(v));
#else
        m = max(m, v);
#endif
    }
    if (nan || isinf(m) || (MODE == 5 && m == 0.0))
    {
        // NaN; an infinite scale or shift is the answer itself (x - m would be inf - inf); L2 of zeros is 0.
        out_data[line] = nan ? NAN_F : m;
        return;
    }
#endif
#if MODE == 2
    float acc = -INF_F;
#elif MODE == 3
    float acc = INF_F;
#elif MODE == 9
    float acc = 1.0;
#else
    float acc = 0.0;
#endif
    for (int k = k0; k < k1; k++)
    {
        float v = in_data[at + k * u_inner];
        nan = nan || isnan(v);
#if MODE == 2
        acc = max(acc, v);
#elif MODE == 3
        acc = min(acc, v);
#elif MODE == 4
        acc += abs(v);
#elif MODE == 5
        // Both sides scaled by 2^-64 (exact) where the scale is past 2^100: GLSL promises division only for divisors up to
        // 2^126, and an approximate reciprocal of a larger one is 0, which made every s 0.
        float down = m > 1.2676506e30 ? 5.421010862e-20 : 1.0;
        float s = (v * down) / (m * down);
        acc += s * s;
#elif MODE == 6
        acc += v * v;
#elif MODE == 8
        acc += exp(v - m);
#elif MODE == 9
        acc *= v;
#else
        acc += v;
#endif
    }
#if MODE == 0
    acc /= float(u_divisor);
#elif MODE == 5
    acc = m * sqrt(acc);
#elif MODE == 7
    // GLSL leaves log of 0 and of a negative number undefined: -inf and NaN as the reference has them.
    acc = acc < 0.0 ? NAN_F : acc == 0.0 ? -INF_F : log(acc);
#elif MODE == 8
    acc = m + log(acc);
#endif
    out_data[dst] = nan ? NAN_F : acc;
#endif
}
#endif
