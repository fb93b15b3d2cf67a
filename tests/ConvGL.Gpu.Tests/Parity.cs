using ConvGL.Core;

namespace ConvGL.Gpu.Tests;

/// <summary>The one GPU-vs-reference comparison every op test uses (ncnn's NearlyEqual habit): a GPU value g
/// matches the reference r when |g - r| &lt;= Abs + Rel * |r|. The CPU reference accumulates in double, the
/// shaders in float32, so the gap grows like sqrt(terms) * 2^-24 * |partial sums|; test weights are scaled like
/// PyTorch's default init (1/sqrt(fan_in)) so sums stay O(1) and abs 1e-5 + rel 1e-4 holds with margin.</summary>
internal static class Parity
{
    public const float Abs = 1e-5f;
    public const float Rel = 1e-4f;

    public static void AssertGpuMatchesReference(Tensor expected, Tensor actual, string spec, float abs = Abs)
    {
        Assert.True(expected.SameShape(actual), $"shape: reference {expected.ShapeString}, GPU {actual.ShapeString} -- {spec}");
        int worst = -1;
        float worstExcess = 0f;
        int bad = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float r = expected.Data[i], g = actual.Data[i];
            float excess = MathF.Abs(g - r) - (abs + Rel * MathF.Abs(r));
            if (excess > 0 || float.IsNaN(g))
            {
                bad++;
                if (worst < 0 || excess > worstExcess || float.IsNaN(g))
                {
                    worst = i;
                    worstExcess = float.IsNaN(g) ? float.PositiveInfinity : excess;
                }
            }
        }
        if (bad == 0) return;
        string where = Where(expected.Shape, worst);
        Assert.Fail($"{bad} of {expected.Length} values differ beyond abs {abs} + rel {Rel}; worst at {where}: " +
                    $"reference {expected.Data[worst]:R}, GPU {actual.Data[worst]:R} -- {spec}");
    }

    /// <summary>The reference's output, or null where the reference refuses the input: then the GPU op must refuse it too,
    /// with the same message (one error line whichever device runs it).</summary>
    public static Tensor? ReferenceOrSameRefusal(Func<Tensor> reference, Func<Tensor> gpu)
    {
        try
        {
            return reference();
        }
        catch (ConvGLException e)
        {
            Assert.Equal(e.Message, Assert.Throws<ConvGLException>(() => gpu()).Message);
            return null;
        }
    }

    private static string Where(int[] shape, int index)
    {
        var idx = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            idx[d] = index % shape[d];
            index /= shape[d];
        }
        return "(" + string.Join(", ", idx) + ")";
    }

    /// <summary>Uniform values in [-1.2, 1.2] (ncnn's range) from a seeded generator.</summary>
    public static Tensor Random(Random rng, params int[] shape) => Random(rng, 1.2f, shape);

    public static Tensor Random(Random rng, float scale, params int[] shape)
    {
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return t;
    }

    public static float[] RandomVector(Random rng, float scale, int n)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return v;
    }
}
