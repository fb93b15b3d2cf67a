namespace ConvGL.Core.Ops;

/// <summary>Inference batch normalisation (ONNX BatchNormalization, PyTorch BatchNorm2d in eval mode): per channel c
///
///     y = scale[c] * (x - mean[c]) / sqrt(var[c] + epsilon) + bias[c]  =  a[c] * x + b[c]
///
/// with a = scale / sqrt(var + eps) and b = bias - a * mean (computed in double). Right after a convolution it
/// folds into that convolution's weight and bias (<see cref="FoldIntoConv"/>), which is how a network runs it.</summary>
public sealed class BatchNorm
{
    /// <summary>Per-channel multiplier a[c].</summary>
    public float[] Scale { get; }
    /// <summary>Per-channel offset b[c].</summary>
    public float[] Shift { get; }
    public int Channels => Scale.Length;

    private BatchNorm(float[] scale, float[] shift)
    {
        Scale = scale;
        Shift = shift;
    }

    public static BatchNorm FromStatistics(float[] scale, float[] bias, float[] mean, float[] variance, float epsilon)
    {
        int c = scale.Length;
        if (bias.Length != c || mean.Length != c || variance.Length != c)
            throw new ConvGLException($"batchnorm scale, bias, mean and variance must have one entry per channel, got {c}, {bias.Length}, {mean.Length}, {variance.Length}");
        var a = new float[c];
        var b = new float[c];
        for (int i = 0; i < c; i++)
        {
            double ai = scale[i] / Math.Sqrt((double)variance[i] + epsilon);
            a[i] = (float)ai;
            b[i] = (float)(bias[i] - ai * mean[i]);
        }
        return new BatchNorm(a, b);
    }

    /// <summary>Per-channel affine y = a[c] * x + b[c] given directly.</summary>
    public static BatchNorm FromAffine(float[] scale, float[] shift)
    {
        if (scale.Length != shift.Length) throw new ConvGLException($"batchnorm scale has {scale.Length} entries, shift {shift.Length}");
        return new BatchNorm((float[])scale.Clone(), (float[])shift.Clone());
    }

    /// <summary>Applies to any tensor whose dimension <paramref name="channelAxis"/> is the channel (0 for (C, H, W),
    /// 1 for ONNX's (N, C, ...)).</summary>
    public Tensor Apply(Tensor input, int channelAxis = 0)
    {
        if (input.Rank <= channelAxis || input.Shape[channelAxis] != Channels)
            throw new ConvGLException($"batchnorm over {Channels} channels cannot take {input.ShapeString} (channel axis {channelAxis})");
        int outer = 1, inner = 1;
        for (int i = 0; i < channelAxis; i++) outer *= input.Shape[i];
        for (int i = channelAxis + 1; i < input.Rank; i++) inner *= input.Shape[i];
        var output = new Tensor(input.Shape);
        for (int n = 0; n < outer; n++)
            for (int c = 0; c < Channels; c++)
            {
                int offset = (n * Channels + c) * inner;
                float a = Scale[c], b = Shift[c];
                for (int i = offset; i < offset + inner; i++) output.Data[i] = (float)((double)a * input.Data[i] + b);
            }
        return output;
    }

    /// <summary>The conv weight and bias that compute batchnorm(conv(x)) in one convolution:
    /// w'[o] = a[o] * w[o], b'[o] = a[o] * bias[o] + b[o] (bias 0 when the conv has none).</summary>
    public (Tensor Weight, float[] Bias) FoldIntoConv(Tensor weight, float[]? bias)
    {
        if (weight.Rank != 4 || weight.Shape[0] != Channels)
            throw new ConvGLException($"batchnorm over {Channels} channels cannot fold into a conv weight {weight.ShapeString}");
        var w = new Tensor(weight.Shape);
        int per = weight.Length / Channels;
        var b = new float[Channels];
        for (int o = 0; o < Channels; o++)
        {
            for (int i = o * per; i < (o + 1) * per; i++) w.Data[i] = (float)((double)Scale[o] * weight.Data[i]);
            b[o] = (float)((double)Scale[o] * (bias?[o] ?? 0f) + Shift[o]);
        }
        return (w, b);
    }
}
