using ConvGL.Core.Learning;

namespace ConvGL.Core.Tests.Learning;

/// <summary>Checks a layer's backward pass against central finite differences of the scalar
/// L = sum_k r_k * out_k (r fixed and random, L summed in double), so dL/dout = r.
///
/// For each checked element e of the input or of a parameter:
///     numeric  = (L(e + eps) - L(e - eps)) / ((float)(e + eps) - (float)(e - eps))
///     analytic = the layer's Backward(r) at e
///     pass if |analytic - numeric| is at most Abs + Rel * |numeric|.
/// The denominator is the step actually taken in float32, not 2 eps, so rounding of the perturbed value does
/// not show up as gradient error. Linear layers (conv, linear, average pool) have no truncation error at any
/// eps, so a large eps keeps float32 output rounding small relative to the step; piecewise-linear layers (ReLU,
/// max pool) get inputs kept further than eps from their kinks.</summary>
internal static class GradCheck
{
    public sealed record Tolerance(double Eps, double Abs, double Rel);

    public static void Check(Layer layer, Tensor input, Tolerance tol, int seed, string what, int maxChecksPerTensor = 400)
    {
        var rng = new Random(seed);
        Tensor output = layer.Forward(input);
        var r = new Tensor(output.Shape);
        for (int i = 0; i < r.Length; i++) r.Data[i] = (float)(rng.NextDouble() * 2 - 1);
        foreach (Parameter p in layer.Parameters) p.ZeroGrad();
        Tensor gradInput = layer.Backward(r);
        Assert.Equal(input.Shape, gradInput.Shape);
        // Backward must not have been fooled by stale state: keep copies, the probes below re-run Forward.
        double[] analyticInput = [.. gradInput.Data.Select(v => (double)v)];
        List<(Parameter P, double[] Grad)> analyticParams = [.. layer.Parameters.Select(p => (p, (double[])p.Grad.Clone()))];

        double Loss()
        {
            Tensor o = layer.Forward(input);
            double sum = 0.0;
            for (int k = 0; k < o.Length; k++) sum += (double)r.Data[k] * o.Data[k];
            return sum;
        }

        void Probe(float[] data, double[] analytic, string tensorName)
        {
            foreach (int i in Indices(data.Length, maxChecksPerTensor, rng))
            {
                float saved = data[i];
                float plus = (float)(saved + tol.Eps), minus = (float)(saved - tol.Eps);
                data[i] = plus;
                double lPlus = Loss();
                data[i] = minus;
                double lMinus = Loss();
                data[i] = saved;
                double numeric = (lPlus - lMinus) / ((double)plus - minus);
                double error = Math.Abs(analytic[i] - numeric);
                Assert.True(error <= tol.Abs + tol.Rel * Math.Abs(numeric),
                    $"{what}: d/d{tensorName}[{i}] analytic {analytic[i]:G9} vs numeric {numeric:G9} (error {error:G3}, " +
                    $"eps {tol.Eps}, tolerance {tol.Abs} + {tol.Rel}*|numeric|, seed {seed})");
            }
        }

        Probe(input.Data, analyticInput, "input");
        foreach ((Parameter p, double[] grad) in analyticParams) Probe(p.Value.Data, grad, p.Name);
    }

    /// <summary>All indices when there are few, else a fixed random subset (always including the first and last).</summary>
    private static IEnumerable<int> Indices(int n, int max, Random rng)
    {
        if (n <= max) return Enumerable.Range(0, n);
        var set = new SortedSet<int> { 0, n - 1 };
        while (set.Count < max) set.Add(rng.Next(n));
        return set;
    }

    public static Tensor Random(int[] shape, Random rng, double lo = -1.2, double hi = 1.2)
    {
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (float)(lo + (hi - lo) * rng.NextDouble());
        return t;
    }
}
