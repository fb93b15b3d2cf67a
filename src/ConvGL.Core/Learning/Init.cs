namespace ConvGL.Core.Learning;

/// <summary>Small helpers shared by the layers: seeded initialisation and double-to-float conversion.</summary>
internal static class Init
{
    /// <summary>Fills with U(-bound, bound) from a seeded generator, in index order (so a seed fixes the weights).</summary>
    public static void Uniform(float[] data, double bound, Random rng)
    {
        for (int i = 0; i < data.Length; i++) data[i] = (float)((rng.NextDouble() * 2.0 - 1.0) * bound);
    }

    public static Tensor ToTensor(int[] shape, double[] values)
    {
        var t = new Tensor(shape);
        for (int i = 0; i < values.Length; i++) t.Data[i] = (float)values[i];
        return t;
    }
}
