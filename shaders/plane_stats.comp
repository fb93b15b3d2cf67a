#version 430
// Mean and sum of squared deviations (M2) of chunks of planes: pass 1 of a large plane's statistics (global average
// pooling and instance normalisation of big maps; the references are GlobalAveragePool.Apply and InstanceNorm.Apply).
// One invocation per chunk of u_chunk values of a plane (numbered flat, plane-major), read through an r32f texel view
// (a vector gather on llvmpipe), writes (mean_k, M2_k / 4^e_k, e_k) of its values, M2 from the deviations about its own mean (two
// passes over the chunk: no cancellation for a map far from zero). plane_stats_combine.comp joins the chunks (Chan et
// al.'s parallel formula). No workgroup reduction: on llvmpipe a barrier-and-shared-memory tree cost more than the sums
// (a workgroup of 64 per 4096-value chunk took 2.1-2.3 ms for 16 planes of 180x320).
// VEC4 (planes of a multiple of 4 values, u_chunk a multiple of 4: every chunk starts and ends on a whole texel): the
// same memory as rgba32f texels, 4 values per fetch.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(r32f, binding = 0) readonly uniform imageBuffer u_input; // (P, H, W) as r32f texels
#if VEC4
layout(rgba32f, binding = 1) readonly uniform imageBuffer u_input4;
#endif
layout(std430, binding = 3) writeonly buffer Stats { vec4 stats[]; }; // (mean, M2 / 4^e, e, 0) of chunk k of plane p at p * chunks + k

uniform int u_plane;  // values per plane
uniform int u_chunk;  // values per chunk
uniform int u_chunks; // chunks per plane
uniform int u_count;  // planes * chunks
uniform int u_row;    // invocations per dispatch row (GlProgram.DispatchFlat)

void main()
{
    int id = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    bool inside = id < u_count;
    id = min(id, u_count - 1);
    int p = id / u_chunks, k = id - p * u_chunks;
    int start = k * u_chunk, n = min(u_chunk, u_plane - start), base = p * u_plane + start;
    // The squared deviations are summed in units of 2^e above the chunk's largest |x| (exact: a power of two): squares of values
    // past 1.8e19 overflow float where the references' doubles do not (the GPU fuzz test's finding for the channel
    // layernorm). The plain sum overflows only past 3.4e38 / u_chunk.
    float sum = 0.0, big = 0.0;
#if VEC4
    for (int j = 0; j < n / 4; j++)
    {
        vec4 v = imageLoad(u_input4, base / 4 + j);
        sum += (v.x + v.y) + (v.z + v.w);
        vec4 a = abs(v);
        big = max(big, max(max(a.x, a.y), max(a.z, a.w)));
    }
#else
    for (int j = 0; j < n; j++)
    {
        float v = imageLoad(u_input, base + j).r;
        sum += v;
        big = max(big, abs(v));
    }
#endif
    float mean = sum / float(n);
    int e;
    frexp(max(big, 1e-30), e);
    e = clamp(e, -100, 100); // |x - mean| < 2^(e + 1)
    float unit = ldexp(1.0, -e); // a power of two: multiplying by it is exact, and one multiply per value
    float dev = 0.0;
#if VEC4
    for (int j = 0; j < n / 4; j++)
    {
        vec4 d = (imageLoad(u_input4, base / 4 + j) - mean) * unit;
        dev += dot(d, d);
    }
#else
    for (int j = 0; j < n; j++)
    {
        float d = (imageLoad(u_input, base + j).r - mean) * unit;
        dev += d * d;
    }
#endif
    if (inside) stats[id] = vec4(mean, dev, float(e), 0.0);
}
