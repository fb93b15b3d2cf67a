namespace ConvGL.Core.Ops;

/// <summary>Local response normalisation across channels (ONNX LRN, PyTorch LocalResponseNorm, Caffe's LRN with
/// ACROSS_CHANNELS; the layer of AlexNet, ZFNet and GoogLeNet): every value divided by a power of the sum of squares of
/// its neighbours in channel at the same pixel,
/// y[c] = x[c] / (bias + alpha / size * sum of x[i]^2 over i in [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)])^beta,
/// the window clipped to the channels there are. An even size reaches one channel further up than down, as ONNX has it.
/// The sum and the power in double, rounded once; the power is C's pow, so a base of 0 or below gives what Math.Pow does.</summary>
public sealed class Lrn
{
    public Lrn(int size, float alpha = 1e-4f, float beta = 0.75f, float bias = 1f)
    {
        if (size < 1) throw new ConvGLException($"lrn size {size} must be at least 1");
        foreach ((string name, float v) in new[] { ("alpha", alpha), ("beta", beta), ("bias", bias) })
            if (!float.IsFinite(v)) throw new ConvGLException($"lrn {name} {v} must be finite");
        Size = size;
        Alpha = alpha;
        Beta = beta;
        Bias = bias;
    }

    public int Size { get; }
    public float Alpha { get; }
    public float Beta { get; }
    public float Bias { get; }

    /// <summary>Channels below and above c that the window reaches: floor((size - 1) / 2) and ceil((size - 1) / 2).</summary>
    public int Before => (Size - 1) / 2;
    public int After => Size / 2;

    /// <summary>Images of <paramref name="channels"/> planes of <paramref name="plane"/> values each, one after another
    /// (so (N, C, H, W) is N images of C planes of H*W).</summary>
    public Tensor Apply(Tensor input, int channels, int plane)
    {
        if (input.Length == 0 && channels >= 1) return new Tensor(input.Shape);
        if (channels < 1 || plane < 1 || input.Length % ((long)channels * plane) != 0)
            throw new ConvGLException($"lrn over {channels} channels of {plane} values cannot take a tensor of {input.Length} values");
        var output = new Tensor(input.Shape);
        float[] x = input.Data, y = output.Data;
        double scale = Alpha / (double)Size;
        int images = input.Length / (channels * plane);
        for (int n = 0; n < images; n++)
            for (int c = 0; c < channels; c++)
            {
                int first = Math.Max(0, c - Before), last = (int)Math.Min(channels - 1L, (long)c + After);
                for (int i = 0; i < plane; i++)
                {
                    double sum = 0;
                    for (int k = first; k <= last; k++)
                    {
                        double v = x[(n * channels + k) * plane + i];
                        sum += v * v;
                    }
                    int at = (n * channels + c) * plane + i;
                    y[at] = (float)(x[at] / Math.Pow(Bias + scale * sum, Beta));
                }
            }
        return output;
    }

    /// <summary>A (C, H, W) map.</summary>
    public Tensor Apply(Tensor input) =>
        input.Rank == 3 ? Apply(input, input.C, input.H * input.W) : throw new ConvGLException($"lrn takes a (C, H, W) map; its input is {input.ShapeString}");
}
