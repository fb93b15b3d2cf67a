namespace ConvGL.Core.Tests;

/// <summary>Random inputs from fixed seeds and a closeness check that prints the case on failure.</summary>
internal static class TestData
{
    /// <summary>Uniform values in [-1.2, 1.2] (ncnn's test range: both signs, magnitudes around 1).</summary>
    public static Tensor Random(Random rng, params int[] shape)
    {
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (float)(rng.NextDouble() * 2.4 - 1.2);
        return t;
    }

    public static float[] RandomArray(Random rng, int n) => Random(rng, n).Data;

    /// <summary>Asserts equal shapes and |a - b| &lt;= abs + rel * |b| everywhere, naming the first bad index and the case.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, double abs, double rel, string context)
    {
        Assert.True(expected.SameShape(actual), $"shape {actual.ShapeString} != expected {expected.ShapeString} [{context}]");
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected.Data[i], a = actual.Data[i];
            double excess = Math.Abs(a - e) - (abs + rel * Math.Abs(e));
            if (!(excess <= worst) || double.IsNaN(a)) { worst = double.IsNaN(a) ? double.PositiveInfinity : excess; worstAt = i; }
        }
        if (worstAt >= 0)
            Assert.Fail($"index {worstAt} ({Index(expected.Shape, worstAt)}): got {actual.Data[worstAt]:R}, expected {expected.Data[worstAt]:R} " +
                        $"(tolerance abs {abs} + rel {rel}) [{context}]");
    }

    private static string Index(int[] shape, int flat)
    {
        var idx = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return string.Join(", ", idx);
    }
}
