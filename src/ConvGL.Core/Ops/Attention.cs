namespace ConvGL.Core.Ops;

/// <summary>Dot-product attention over a map's positions: the self-attention block of SAGAN, of non-local networks and of
/// diffusion UNets. Query q (Cq, Hq, Wq), keys k (Cq, Hk, Wk), values v (Cv, Hk, Wk): for every query position p the
/// weights over the key positions j are
///
///     w[p, j] = softmax_j(scale * sum_d q[d, p] k[d, j])
///
/// and the output (Cv, Hq, Wq) is out[c, p] = sum_j w[p, j] v[c, j]. A convolution whose kernel is computed from the image
/// itself: every output position has its own weights, and they span the whole map (a conv's span a small window). With q,
/// k and v 1x1 convs of one map x, a position attends to the positions that look like it.
///
/// With h heads (multi-head attention: BoTNet's MHSA, the heads of a transformer block) the channels split into h equal
/// groups: head g's weights come from q's and k's channels g Cq/h .. (g + 1) Cq/h - 1 only, and weigh v's channels
/// g Cv/h .. (g + 1) Cv/h - 1: h attentions side by side, each position looking at h different places.
///
/// Sums and the softmax in double; the largest logit is subtracted before exp (so large logits do not overflow). A row of
/// logits holding a NaN or +inf gives NaN outputs (as <see cref="Softmax"/>: inf - inf), as does a row all -inf.
/// The GPU (attention.comp) and ONNX Runtime compute in float32, so at float's edges they differ from this reference as
/// float does: a dot product past 3.4e38 is +inf there (NaN outputs) where double holds it, and a weight that underflows
/// to 0 times an infinite value is NaN there where double's tiny weight gives the infinity.</summary>
public static class Attention
{
    /// <summary>The products one output value costs (q . k for each key, then one weight x value): the size guard's unit.</summary>
    public static long Products(int cq, int cv, long queries, long keys) => queries * keys * (cq + cv);

    /// <summary>The most products one attention may take: beyond it a layer is one error (a 640x360 map attending over
    /// itself is 5.3e10 dot products), not minutes of work.</summary>
    public const long MaxProducts = 1L << 34;

    /// <summary>Throws the shape rule's message for q, k and v of these shapes (<paramref name="name"/> starts it), and
    /// <see cref="TooMuchWork"/>'s.</summary>
    public static void CheckShapes(string name, (int C, int H, int W) q, (int C, int H, int W) k, (int C, int H, int W) v, int heads = 1)
    {
        CheckMatch(name, q, k, v, heads);
        if (TooMuchWork(name, q, k, v) is { } why) throw new ConvGLException(why);
    }

    /// <summary>Throws when q and k differ in channels, k and v in size, or the heads do not divide q's and v's channels.</summary>
    public static void CheckMatch(string name, (int C, int H, int W) q, (int C, int H, int W) k, (int C, int H, int W) v, int heads = 1)
    {
        if (heads < 1) throw new ConvGLException($"{name}: heads {heads}; give 1 or more");
        if (q.C % heads != 0 || v.C % heads != 0)
            throw new ConvGLException($"{name}: {heads} heads do not divide the query's {q.C} and the values' {v.C} channels; each head takes an equal share of both ({Stacks.AttentionLayer.HeadsThatFit(q.C, v.C)})");
        if (q.C != k.C)
            throw new ConvGLException($"{name}: the query has {q.C} channels and the keys {k.C}; q and k need one channel count (their dot product runs over it)");
        if ((k.H, k.W) != (v.H, v.W))
            throw new ConvGLException($"{name}: the keys are {k.W}x{k.H} and the values {v.W}x{v.H}; k and v need one size (one value per key position)");
    }

    /// <summary>Why an attention of these shapes is refused for its work (over <see cref="MaxProducts"/>), or null: a stack's
    /// plan takes it as maps too large for the input (the window then offers a smaller size, as for maps past the limits).</summary>
    public static string? TooMuchWork(string name, (int C, int H, int W) q, (int C, int H, int W) k, (int C, int H, int W) v)
    {
        long products = Products(q.C, v.C, (long)q.H * q.W, (long)k.H * k.W);
        return products <= MaxProducts ? null
            : $"{name}: {q.W}x{q.H} queries attending over {k.W}x{k.H} keys take {products:0.##e+0} multiply-adds, over ConvGL's limit of " +
              $"{MaxProducts:0.##e+0}; run it on a smaller input (attention blocks sit on small maps deep in a network)";
    }

    /// <summary>The attention of q, k and v in <paramref name="heads"/> heads (1: every channel one head).</summary>
    public static Tensor Apply(Tensor q, Tensor k, Tensor v, float scale, int heads = 1)
    {
        if (q.Rank != 3 || k.Rank != 3 || v.Rank != 3)
            throw new ConvGLException($"attention takes three (C, H, W) maps, got {q.ShapeString}, {k.ShapeString}, {v.ShapeString}");
        CheckShapes("attention", (q.C, q.H, q.W), (k.C, k.H, k.W), (v.C, v.H, v.W), heads);
        int queries = q.H * q.W, keys = k.H * k.W, dq = q.C / heads, dv = v.C / heads;
        var output = Tensor.Chw(v.C, q.H, q.W);
        var query = new float[dq];
        var weights = new double[keys];
        for (int h = 0; h < heads; h++)
            for (int p = 0; p < queries; p++)
            {
                for (int d = 0; d < dq; d++) query[d] = q.Data[(h * dq + d) * queries + p];
                Weights(query, k.Data.AsSpan(h * dq * keys, dq * keys), keys, scale, weights);
                for (int c = h * dv; c < (h + 1) * dv; c++) output.Data[c * queries + p] = (float)Sum(weights, v.Data.AsSpan(c * keys, keys));
            }
        return output;
    }

    /// <summary>Query position <paramref name="p"/>'s weights over the keys in head <paramref name="head"/> of
    /// <paramref name="heads"/> (the probe shows them): they sum to 1.</summary>
    public static float[] Weights(Tensor q, Tensor k, float scale, int p, int head = 0, int heads = 1)
    {
        int queries = q.H * q.W, keys = k.H * k.W, dq = q.C / heads;
        float[] query = Enumerable.Range(head * dq, dq).Select(d => q.Data[d * queries + p]).ToArray();
        var w = new double[keys];
        Weights(query, k.Data.AsSpan(head * dq * keys, dq * keys), keys, scale, w);
        return w.Select(x => (float)x).ToArray();
    }

    /// <summary>One query's weights over the keys, the definition <see cref="Apply"/> and the window's probe share:
    /// <paramref name="query"/> its C values, <paramref name="keys"/> the key map's C planes of <paramref name="keyCount"/>
    /// values; weights[j] = softmax over j of scale * query . keys[:, j], in double, the largest logit subtracted first
    /// (NaN for a row holding a NaN or +inf, or all -inf). Returns the largest logit.</summary>
    public static double Weights(ReadOnlySpan<float> query, ReadOnlySpan<float> keys, int keyCount, float scale, Span<double> weights)
    {
        double max = double.NegativeInfinity;
        for (int j = 0; j < keyCount; j++)
        {
            double dot = 0;
            for (int d = 0; d < query.Length; d++) dot += (double)query[d] * keys[d * keyCount + j];
            weights[j] = scale * dot;
            max = double.IsNaN(weights[j]) || double.IsNaN(max) ? double.NaN : Math.Max(max, weights[j]);
        }
        double total = 0;
        for (int j = 0; j < keyCount; j++) total += weights[j] = Math.Exp(weights[j] - max);
        for (int j = 0; j < keyCount; j++) weights[j] /= total;
        return max;
    }

    /// <summary>sum over j of weights[j] values[j], in double: one output value.</summary>
    public static double Sum(ReadOnlySpan<double> weights, ReadOnlySpan<float> values)
    {
        double sum = 0;
        for (int j = 0; j < values.Length; j++) sum += weights[j] * values[j];
        return sum;
    }
}
