#version 430
// Instance normalisation of (P, H, W) planes, the reference is InstanceNorm.Apply in src/ConvGL.Core/Ops/InstanceNorm.cs:
// y = scale[c] (x - mean) / sqrt(var + epsilon) + shift[c], c = p % C, mean and population variance of the plane.
// One workgroup per plane: its 64 invocations sum strided parts, a tree reduction in shared memory gives the mean, a
// second pass the sum of squared deviations (as the reference: no cancellation for a map far from zero), then every
// invocation writes its part.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
layout(std430, binding = 1) readonly buffer Params { float params[]; }; // scale[0..C) then shift[0..C)
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform int u_planes;   // P
uniform int u_plane;    // H * W
uniform int u_channels; // C
uniform float u_epsilon;

shared float sums[64];
shared float bigs[64];
shared float squares[64];

void main()
{
    int p = int(gl_WorkGroupID.x);
    int t = int(gl_LocalInvocationID.x);
    bool real = p < u_planes;
    int base = p * u_plane;
    // Pass 1 also finds the largest |x|: pass 2 sums the squared deviations in units of 2^e above it (exact: a power of two), as
    // squares of values past 1.8e19 overflow float where the reference's doubles do not (the GPU fuzz test's finding for
    // the channel layernorm); the plain sum overflows only past 3.4e38 / (H W).
    float sum = 0.0, big = 0.0;
    if (real)
        for (int i = t; i < u_plane; i += 64)
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
    float mean = sums[0] / float(u_plane);
    float dev = 0.0;
    if (real)
        for (int i = t; i < u_plane; i += 64)
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
    float variance = squares[0] / float(u_plane); // in units of 4^e
    if (!real) return;
    int c = p % u_channels;
    // scale / sqrt(var + epsilon) = scale 2^-e / sqrt(var / 4^e + epsilon / 4^e)
    float a = params[c] * ldexp(1.0 / sqrt(variance + ldexp(u_epsilon, -2 * e)), -e), b = params[u_channels + c];
    for (int i = t; i < u_plane; i += 64) out_data[base + i] = a * (in_data[base + i] - mean) + b;
}
