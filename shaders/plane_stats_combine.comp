#version 430
// Pass 2 of a large plane's statistics: one invocation per plane joins plane_stats.comp's chunks, mean = sum n_k mean_k / N
// and M2 = sum M2_k + n_k (mean_k - mean)^2 (Chan et al.), then writes per MODE: 0 the mean (global average pooling, the
// reference GlobalAveragePool.Apply), 1 instance normalisation's per-plane affine a = scale[c] / sqrt(M2 / N + epsilon),
// b = shift[c] - a mean (c = p % C; the reference InstanceNorm.Apply), which channel_affine_fast.comp then applies; 2 group
// normalisation's per-channel affine, the plane being a group's run of u_per_group channels: for each channel c of group p,
// a = scale[c] / sqrt(M2 / N + epsilon), b = shift[c] - a mean (the reference InstanceNorm.ApplyInGroups).

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Stats { vec4 stats[]; }; // (mean, M2 / 4^e, e, 0) per chunk
layout(std430, binding = 1) readonly buffer Params { float params[]; }; // MODE 1: scale[0..C) then shift[0..C)
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; }; // MODE 0: P means; MODE 1: a[0..P) then b[0..P); MODE 2: a[0..C) then b[0..C)

uniform int u_planes;   // P
uniform int u_plane;    // values per plane (N)
uniform int u_chunk;    // values per chunk
uniform int u_chunks;   // chunks per plane
uniform int u_channels; // C (MODE 1)
uniform float u_epsilon;
uniform int u_per_group; // MODE 2: channels a group

void main()
{
    int p = int(gl_GlobalInvocationID.x);
    if (p >= u_planes) return;
    float mean = 0.0;
    for (int k = 0; k < u_chunks; k++)
    {
        float n = float(min(u_chunk, u_plane - k * u_chunk));
        mean += n * stats[p * u_chunks + k].x;
    }
    mean /= float(u_plane);
#if MODE == 0
    out_data[p] = mean;
#else
    // M2 in units of 4^E, 2^E above every chunk's unit and every |mean_k - mean| (exact rescaling: ldexp), so that
    // no square leaves float's range (plane_stats.comp).
    int E = -100;
    for (int k = 0; k < u_chunks; k++)
    {
        vec4 s = stats[p * u_chunks + k];
        int ek;
        frexp(max(abs(s.x - mean), 1e-30), ek);
        E = max(E, max(int(s.z), ek));
    }
    E = min(E, 100);
    float m2 = 0.0;
    for (int k = 0; k < u_chunks; k++)
    {
        vec4 s = stats[p * u_chunks + k];
        float n = float(min(u_chunk, u_plane - k * u_chunk));
        float dm = ldexp(s.x - mean, -E);
        m2 += ldexp(s.y, 2 * (int(s.z) - E)) + n * dm * dm;
    }
    // 1 / sqrt(M2 / N + epsilon) = 2^-E / sqrt(M2 / 4^E / N + epsilon / 4^E)
    float invStd = ldexp(1.0 / sqrt(m2 / float(u_plane) + ldexp(u_epsilon, -2 * E)), -E);
#if MODE == 1
    int c = p % u_channels;
    float a = params[c] * invStd;
    out_data[p] = a;
    out_data[u_planes + p] = params[u_channels + c] - a * mean;
#else
    float inv = invStd;
    for (int j = 0; j < u_per_group; j++)
    {
        int c = p * u_per_group + j;
        float a = params[c] * inv;
        out_data[c] = a;
        out_data[u_channels + c] = params[u_channels + c] - a * mean;
    }
#endif
#endif
}
