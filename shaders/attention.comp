#version 430
// Dot-product attention over the positions: out[c, p] = sum_j w[p, j] v[c, j], w[p, j] = softmax_j(scale * q[:, p] . k[:, j]).
// The reference is Attention.Apply in src/ConvGL.Core/Ops/Attention.cs.
//
// One invocation per QB query positions (x) and block of 4 * VB value channels (y) of one head (z): one pass over the keys with an online
// softmax (the running largest logit m and the running sum s of exp(l - m); when a key's logit passes m, what was summed so
// far is scaled by exp(m_old - m_new)), so no (queries x keys) matrix is stored and each logit is computed once per block.
// A logit that is NaN or +inf makes the position's outputs NaN, as the reference's inf - inf does; a -inf logit has weight 0
// (and a row of only -inf gives 0 / 0, NaN, as the reference).
//
// Heads: head h reads q's and k's channels h CQ .. (h + 1) CQ - 1 and weighs v's channels h u_dv .. (h + 1) u_dv - 1 (one
// head: all of them). CQ: q's (and k's) channels a head, compile-time. Up to 32 the query's values are kept in registers; above, they are read again
// for every key. VB: vec4 accumulators a query (1 to 4). QB: queries an invocation (1, 2 or 4): each key's and value's loads
// serve all of them (on llvmpipe every load is a gather, the cost of this shader). Inputs through r32f texel views.

#include "include/nonfinite.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(r32f, binding = 0) readonly uniform imageBuffer u_q;
layout(r32f, binding = 1) readonly uniform imageBuffer u_k;
layout(r32f, binding = 2) readonly uniform imageBuffer u_v;
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform int u_queries;  // Hq * Wq
uniform int u_keys;     // Hk * Wk
uniform int u_dv;       // v's channels a head (all of them with one head)
uniform float u_scale;

#define CACHE_Q (CQ <= 32)

void main()
{
    int p0 = int(gl_GlobalInvocationID.x) * QB;
    int c0 = int(gl_GlobalInvocationID.y) * 4 * VB;
    int h = int(gl_GlobalInvocationID.z);
    // The head's planes of q, k (CQ each) and v, and of the output.
    int qBase = h * CQ * u_queries, kBase = h * CQ * u_keys, vFirst = h * u_dv;
    // No early return before the loads (llvmpipe): out-of-range queries read a valid position and store nothing.
    int pq[QB];
    for (int a = 0; a < QB; a++) pq[a] = min(p0 + a, u_queries - 1);
#if CACHE_Q
    float qv[QB * CQ];
    for (int a = 0; a < QB; a++)
        for (int d = 0; d < CQ; d++) qv[a * CQ + d] = imageLoad(u_q, qBase + d * u_queries + pq[a]).r;
#endif
    int ch[4 * VB];
    for (int i = 0; i < 4 * VB; i++) ch[i] = (vFirst + min(c0 + i, u_dv - 1)) * u_keys;

    float m[QB], s[QB];
    bool bad[QB];
    vec4 acc[QB * VB];
    for (int a = 0; a < QB; a++)
    {
        m[a] = -INF_F;
        s[a] = 0.0;
        bad[a] = false;
        for (int b = 0; b < VB; b++) acc[a * VB + b] = vec4(0.0);
    }
    for (int j = 0; j < u_keys; j++)
    {
        // The key's channels and the values at it, loaded once for the QB queries of this invocation.
#if CACHE_Q
        float kv[CQ];
        for (int d = 0; d < CQ; d++) kv[d] = imageLoad(u_k, kBase + d * u_keys + j).r;
#endif
        vec4 val[VB];
        for (int b = 0; b < VB; b++)
            val[b] = vec4(imageLoad(u_v, ch[4 * b] + j).r, imageLoad(u_v, ch[4 * b + 1] + j).r,
                          imageLoad(u_v, ch[4 * b + 2] + j).r, imageLoad(u_v, ch[4 * b + 3] + j).r);
        for (int a = 0; a < QB; a++)
        {
            float dot = 0.0;
#if CACHE_Q
            for (int d = 0; d < CQ; d++) dot += qv[a * CQ + d] * kv[d];
#else
            // (Above 32 channels QB is 1: the query and the key read together, 8 channels an iteration written out, so
            // the loop runs CQ / 8 times a key: llvmpipe before Mesa 23 ends every invocation after 65535 iterations of
            // all its loops together, which GpuAttention checks from this count.)
            for (int d0 = 0; d0 < CQ; d0 += 8)
            {
#define QK(i) (d0 + i < CQ ? imageLoad(u_q, qBase + min(d0 + i, CQ - 1) * u_queries + pq[a]).r * imageLoad(u_k, kBase + min(d0 + i, CQ - 1) * u_keys + j).r : 0.0)
                dot += QK(0) + QK(1) + QK(2) + QK(3) + QK(4) + QK(5) + QK(6) + QK(7);
#undef QK
            }
#endif
            float l = u_scale * dot;
            bad[a] = bad[a] || isnan(l) || (isinf(l) && l > 0.0);
            float mn = max(m[a], l);
            // (m == mn: nothing to rescale, also where both are -inf; l == -inf: weight 0.)
            float shrink = m[a] == mn ? 1.0 : exp(m[a] - mn);
            float e = l == -INF_F ? 0.0 : exp(l - mn);
            s[a] = s[a] * shrink + e;
            for (int b = 0; b < VB; b++) acc[a * VB + b] = acc[a * VB + b] * shrink + e * val[b];
            m[a] = mn;
        }
    }
    for (int a = 0; a < QB; a++)
    {
        int p = p0 + a;
        if (p >= u_queries) continue;
        for (int b = 0; b < VB; b++)
            for (int i = 0; i < 4; i++)
            {
                int c = c0 + 4 * b + i;
                if (c < u_dv) out_data[(vFirst + c) * u_queries + p] = bad[a] ? NAN_F : acc[a * VB + b][i] / s[a];
            }
    }
}
