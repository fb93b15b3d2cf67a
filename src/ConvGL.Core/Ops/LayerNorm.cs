namespace ConvGL.Core.Ops;

/// <summary>Layer normalisation (ONNX LayerNormalization, PyTorch nn.LayerNorm): a tensor read as rows of
/// <see cref="Length"/> values (the trailing axes from the normalised one on), each row normalised by its own mean and
/// population variance, then scaled and shifted per position in the row: y[i] = scale[i] (x[i] - mean) /
/// sqrt(var + epsilon) + shift[i]. Statistics in double, the variance from the deviations (two passes), so a row far
/// from zero keeps its precision.</summary>
public sealed class LayerNorm
{
    public LayerNorm(float[] scale, float[] shift, float epsilon)
    {
        if (scale.Length != shift.Length || scale.Length == 0)
            throw new ConvGLException($"layernorm needs one scale and one shift per value of a row, got {scale.Length} and {shift.Length}");
        if (!(epsilon >= 0) || !float.IsFinite(epsilon)) throw new ConvGLException($"layernorm epsilon {epsilon} must be finite and not negative");
        Scale = scale;
        Shift = shift;
        Epsilon = epsilon;
    }

    public float[] Scale { get; }
    public float[] Shift { get; }
    public float Epsilon { get; }
    /// <summary>Values per row.</summary>
    public int Length => Scale.Length;

    /// <summary>A row's mean and (population) variance about it: two passes in double.</summary>
    public static (double Mean, double Variance) MeanAndVariance(ReadOnlySpan<float> row)
    {
        double mean = 0;
        foreach (float v in row) mean += v;
        mean /= row.Length;
        double var = 0;
        foreach (float v in row) var += (v - mean) * (v - mean);
        return (mean, var / row.Length);
    }

    public Tensor Apply(Tensor input)
    {
        if (input.Length % Length != 0)
            throw new ConvGLException($"layernorm over rows of {Length} values cannot take a tensor of {input.Length} values");
        var output = new Tensor(input.Shape);
        int n = Length;
        for (long r = 0; r < input.Length / n; r++)
        {
            ReadOnlySpan<float> x = input.Data.AsSpan((int)(r * n), n);
            (double mean, double var) = MeanAndVariance(x);
            double inv = 1.0 / Math.Sqrt(var + Epsilon);
            for (int i = 0; i < n; i++) output.Data[r * n + i] = (float)(Scale[i] * ((x[i] - mean) * inv) + Shift[i]);
        }
        return output;
    }
}
