#version 430
// Mean and sum of squared deviations (M2) of chunks of planes: pass 1 of a large plane's statistics (global average
// pooling and instance normalisation of big maps; the references are GlobalAveragePool.Apply and InstanceNorm.Apply).
// Workgroup (k, p) reads chunk k of plane p through an r32f texel view (a vector gather on llvmpipe) and writes
// (mean_k, M2_k) of its values, M2 from the deviations about its own mean (two passes over the chunk: no cancellation
// for a map far from zero). plane_stats_combine.comp joins the chunks (Chan et al.'s parallel formula).

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(binding = 0) uniform samplerBuffer u_input; // (P, H, W) as r32f texels
// VEC4 (planes of a multiple of 4 values: every chunk starts and ends on a whole texel): the same memory as rgba32f
// texels, 4 values per fetch.
#if VEC4
layout(binding = 1) uniform samplerBuffer u_input4;
#endif
layout(std430, binding = 3) writeonly buffer Stats { vec2 stats[]; }; // (mean, M2) of chunk k of plane p at p * chunks + k

uniform int u_plane;  // values per plane
uniform int u_chunk;  // values per chunk
uniform int u_chunks; // chunks per plane

shared float sums[64];
shared float squares[64];

void main()
{
    int k = int(gl_WorkGroupID.x), p = int(gl_WorkGroupID.y), t = int(gl_LocalInvocationID.x);
    int start = k * u_chunk, n = min(u_chunk, u_plane - start), base = p * u_plane + start;
    float sum = 0.0;
#if VEC4
    for (int j = t; j < n / 4; j += 64)
    {
        vec4 v = texelFetch(u_input4, base / 4 + j);
        sum += (v.x + v.y) + (v.z + v.w);
    }
#else
    for (int j = t; j < n; j += 64) sum += texelFetch(u_input, base + j).r;
#endif
    sums[t] = sum;
    barrier();
    for (int s = 32; s > 0; s >>= 1)
    {
        if (t < s) sums[t] += sums[t + s];
        barrier();
    }
    float mean = sums[0] / float(n);
    float dev = 0.0;
#if VEC4
    for (int j = t; j < n / 4; j += 64)
    {
        vec4 d = texelFetch(u_input4, base / 4 + j) - mean;
        dev += dot(d, d);
    }
#else
    for (int j = t; j < n; j += 64)
    {
        float d = texelFetch(u_input, base + j).r - mean;
        dev += d * d;
    }
#endif
    squares[t] = dev;
    barrier();
    for (int s = 32; s > 0; s >>= 1)
    {
        if (t < s) squares[t] += squares[t + s];
        barrier();
    }
    if (t == 0) stats[p * u_chunks + k] = vec2(mean, squares[0]);
}
