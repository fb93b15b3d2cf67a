#version 430
// Pass 2 of a large plane's statistics: one invocation per plane joins plane_stats.comp's chunks, mean = sum n_k mean_k / N
// and M2 = sum M2_k + n_k (mean_k - mean)^2 (Chan et al.), then writes per MODE: 0 the mean (global average pooling, the
// reference GlobalAveragePool.Apply), 1 instance normalisation's per-plane affine a = scale[c] / sqrt(M2 / N + epsilon),
// b = shift[c] - a mean (c = p % C; the reference InstanceNorm.Apply), which channel_affine_fast.comp then applies; 2 group
// normalisation's per-channel affine, the plane being a group's run of u_per_group channels: for each channel c of group p,
// a = scale[c] / sqrt(M2 / N + epsilon), b = shift[c] - a mean (the reference InstanceNorm.ApplyInGroups).

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Stats { vec2 stats[]; };
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
    float m2 = 0.0;
    for (int k = 0; k < u_chunks; k++)
    {
        vec2 s = stats[p * u_chunks + k];
        float n = float(min(u_chunk, u_plane - k * u_chunk));
        m2 += s.y + n * (s.x - mean) * (s.x - mean);
    }
#if MODE == 1
    int c = p % u_channels;
    float a = params[c] / sqrt(m2 / float(u_plane) + u_epsilon);
    out_data[p] = a;
    out_data[u_planes + p] = params[u_channels + c] - a * mean;
#else
    float inv = 1.0 / sqrt(m2 / float(u_plane) + u_epsilon);
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
