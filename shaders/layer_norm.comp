#version 430
// Layer normalisation of rows (ONNX LayerNormalization), the reference is LayerNorm.Apply in
// src/ConvGL.Core/Ops/LayerNorm.cs: a tensor is R rows of D values (the axes from `axis` on make a row); each row is
// normalised by its own mean and population variance, then scaled and shifted per position in the row:
// y[i] = scale[i] (x[i] - mean) / sqrt(var + epsilon) + shift[i].
// One workgroup per row (rows numbered y * u_row_groups + x, so more than 65535 rows fit): its 64 invocations sum
// strided parts, a tree reduction in shared memory gives the mean, a second pass the sum of squared deviations (as the
// reference: no cancellation for a row far from zero), then every invocation writes its part.
// STATS 1 or 2: LayerNormalization's optional outputs instead of Y, one value per row: the mean (1) or
// 1 / sqrt(variance + epsilon) (2), the reference being LayerNormStatOp.Run (in double there, float here).

#ifndef STATS
#define STATS 0
#endif

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
layout(std430, binding = 1) readonly buffer Params { float params[]; }; // scale[0..D) then shift[0..D)
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform int u_rows;       // R
uniform int u_length;     // D
uniform int u_row_groups; // workgroups per dispatch row
uniform float u_epsilon;

shared float sums[64];
shared float bigs[64];
shared float squares[64];

void main()
{
    int r = int(gl_WorkGroupID.y) * u_row_groups + int(gl_WorkGroupID.x);
    int t = int(gl_LocalInvocationID.x);
    // The same for the whole workgroup, so every invocation reaches every barrier.
    bool real = r < u_rows;
    int base = r * u_length;
    // Pass 1 also finds the largest |x|: pass 2 sums the squared deviations in units of 2^e above it (exact: a power of two), as
    // squares of values past 1.8e19 overflow float where the reference's doubles do not (the GPU fuzz test's finding for
    // the channel layernorm); the plain sum overflows only past 3.4e38 / D.
    float sum = 0.0, big = 0.0;
    if (real)
        for (int i = t; i < u_length; i += 64)
        {
            float x = in_data[base + i];
            sum += x;
            big = max(big, abs(x));
        }
    // Tree reductions written out in main, each with its own shared array: GLSL allows barrier() only in main (a helper
    // function with barriers gave wrong sums on llvmpipe).
    sums[t] = sum;
    bigs[t] = big;
    barrier();
    for (int s = 32; s > 0; s >>= 1)
    {
        if (t < s)
        {
            sums[t] += sums[t + s];
            bigs[t] = max(bigs[t], bigs[t + s]);
        }
        barrier();
    }
    int e;
    frexp(max(bigs[0], 1e-30), e);
    e = clamp(e, -100, 100); // |x - mean| < 2^(e + 1)
    float unit = ldexp(1.0, -e); // a power of two: multiplying by it is exact, and one multiply per value
    float mean = sums[0] / float(u_length);
    float dev = 0.0;
    if (real)
        for (int i = t; i < u_length; i += 64)
        {
            float d = (in_data[base + i] - mean) * unit;
            dev += d * d;
        }
    squares[t] = dev;
    barrier();
    for (int s = 32; s > 0; s >>= 1)
    {
        if (t < s) squares[t] += squares[t + s];
        barrier();
    }
    if (!real) return;
    // 1 / sqrt(var + epsilon) = 2^-e / sqrt(var / 4^e + epsilon / 4^e)
    float inv = ldexp(1.0 / sqrt(squares[0] / float(u_length) + ldexp(u_epsilon, -2 * e)), -e);
#if STATS == 0
    for (int i = t; i < u_length; i += 64) out_data[base + i] = params[i] * ((in_data[base + i] - mean) * inv) + params[u_length + i];
#else
    if (t == 0) out_data[r] = STATS == 1 ? mean : inv;
#endif
}
