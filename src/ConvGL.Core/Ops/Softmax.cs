namespace ConvGL.Core.Ops;

/// <summary>Softmax (and log-softmax) along one dimension of a tensor seen as (outer, n, inner) blocks:
/// y = exp(x - max) / sum(exp(x - max)) over the n values of each (outer, inner) line, log: x - max - log(sum).
/// The max is subtracted first, so large inputs do not overflow; sums are in double. A line holding NaN is NaN;
/// a +inf makes the whole line NaN (its x - max is inf - inf), as NumPy's x - max formula does.</summary>
public static class Softmax
{
    public static Tensor Apply(Tensor x, int outer, int n, int inner, bool log = false)
    {
        if ((long)outer * n * inner != x.Length)
            throw new ConvGLException($"softmax: ({outer}, {n}, {inner}) does not cover the {x.Length} values of {x.ShapeString}");
        var y = new Tensor(x.Shape);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int at = o * n * inner + i;
                float max = float.NegativeInfinity;
                for (int k = 0; k < n; k++) max = MathF.Max(max, x.Data[at + k * inner]);
                double sum = 0;
                for (int k = 0; k < n; k++) sum += Math.Exp((double)x.Data[at + k * inner] - max);
                for (int k = 0; k < n; k++)
                {
                    double d = (double)x.Data[at + k * inner] - max;
                    y.Data[at + k * inner] = (float)(log ? d - Math.Log(sum) : Math.Exp(d) / sum);
                }
            }
        return y;
    }
}
