#version 430
// Dot-product attention over the positions: out[c, p] = sum_j w[p, j] v[c, j], w[p, j] = softmax_j(scale * q[:, p] . k[:, j]).
// The reference is Attention.Apply in src/ConvGL.Core/Ops/Attention.cs.
//
// One invocation per query position p (x) and block of 4 * VB value channels (y): one pass over the keys with an online
// softmax (the running largest logit m and the running sum s of exp(l - m); when a key's logit passes m, what was summed so
// far is scaled by exp(m_old - m_new)), so no (queries x keys) matrix is stored and each logit is computed once per block.
// A logit that is NaN or +inf makes the position's outputs NaN, as the reference's inf - inf does; a -inf logit has weight 0
// (and a row of only -inf gives 0 / 0, NaN, as the reference).
//
// CQ: q's (and k's) channels, compile-time. Up to 32 the query's values are kept in registers; above, they are read again
// for every key. VB: vec4 accumulators an invocation (1 to 4). Inputs through r32f texel views (vector gathers on llvmpipe).

#include "include/nonfinite.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(r32f, binding = 0) readonly uniform imageBuffer u_q;
layout(r32f, binding = 1) readonly uniform imageBuffer u_k;
layout(r32f, binding = 2) readonly uniform imageBuffer u_v;
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform int u_queries;  // Hq * Wq
uniform int u_keys;     // Hk * Wk
uniform int u_cv;       // v's channels
uniform float u_scale;

#define CACHE_Q (CQ <= 32)

void main()
{
    int p = int(gl_GlobalInvocationID.x);
    int c0 = int(gl_GlobalInvocationID.y) * 4 * VB;
    // No early return before the loads (llvmpipe): out-of-range invocations read a valid position and store nothing.
    bool inside = p < u_queries && c0 < u_cv;
    p = min(p, u_queries - 1);
#if CACHE_Q
    float qv[CQ];
    for (int d = 0; d < CQ; d++) qv[d] = imageLoad(u_q, d * u_queries + p).r;
#endif
    int ch[4 * VB];
    for (int i = 0; i < 4 * VB; i++) ch[i] = min(c0 + i, u_cv - 1) * u_keys;

    float m = -INF_F, s = 0.0;
    bool bad = false;
    vec4 acc[VB];
    for (int b = 0; b < VB; b++) acc[b] = vec4(0.0);
    for (int j = 0; j < u_keys; j++)
    {
        float dot = 0.0;
#if CACHE_Q
        for (int d = 0; d < CQ; d++) dot += qv[d] * imageLoad(u_k, d * u_keys + j).r;
#else
        for (int d = 0; d < CQ; d++) dot += imageLoad(u_q, d * u_queries + p).r * imageLoad(u_k, d * u_keys + j).r;
#endif
        float l = u_scale * dot;
        bad = bad || isnan(l) || (isinf(l) && l > 0.0);
        float mn = max(m, l);
        // (m == mn: nothing to rescale, also where both are -inf; l == -inf: weight 0.)
        float shrink = m == mn ? 1.0 : exp(m - mn);
        float e = l == -INF_F ? 0.0 : exp(l - mn);
        s = s * shrink + e;
        for (int b = 0; b < VB; b++)
        {
            vec4 val = vec4(imageLoad(u_v, ch[4 * b] + j).r, imageLoad(u_v, ch[4 * b + 1] + j).r,
                            imageLoad(u_v, ch[4 * b + 2] + j).r, imageLoad(u_v, ch[4 * b + 3] + j).r);
            acc[b] = acc[b] * shrink + e * val;
        }
        m = mn;
    }
    if (!inside) return;
    for (int b = 0; b < VB; b++)
        for (int i = 0; i < 4; i++)
        {
            int c = c0 + 4 * b + i;
            if (c < u_cv) out_data[c * u_queries + p] = bad ? NAN_F : acc[b][i] / s;
        }
}
