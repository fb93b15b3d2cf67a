namespace ConvGL.Core.Ops;

public enum PoolKind { Max, Average }

/// <summary>Pooling options with PyTorch's MaxPool2d / AvgPool2d semantics: stride defaults to the kernel size,
/// padding pads both sides (with -inf for max; with zeros counted in the average, count_include_pad=True),
/// and the output size rounds down (ceil_mode=False).</summary>
public sealed record PoolOptions
{
    public PoolKind Kind { get; init; } = PoolKind.Max;
    public int SizeY { get; init; } = 2;
    public int SizeX { get; init; } = 2;
    /// <summary>0 means "the kernel size" (PyTorch's default).</summary>
    public int StrideY { get; init; }
    public int StrideX { get; init; }
    public int PadY { get; init; }
    public int PadX { get; init; }

    public int EffectiveStrideY => StrideY > 0 ? StrideY : SizeY;
    public int EffectiveStrideX => StrideX > 0 ? StrideX : SizeX;

    public static PoolOptions Square(PoolKind kind, int size, int stride = 0, int pad = 0) =>
        new() { Kind = kind, SizeY = size, SizeX = size, StrideY = stride, StrideX = stride, PadY = pad, PadX = pad };
}

/// <summary>Reference max and average pooling over each channel of a (C, H, W) tensor.</summary>
public static class Pool2D
{
    public static ConvGeometry Geometry(int h, int w, PoolOptions o)
    {
        // 0 means "the pool size"; a negative stride would otherwise silently become that default too.
        if (o.StrideY < 0 || o.StrideX < 0)
            throw new ConvGLException($"pool stride ({o.StrideY},{o.StrideX}) must be at least 1 (or 0 for the pool size)");
        if (o.PadY * 2 > o.SizeY || o.PadX * 2 > o.SizeX)
            throw new ConvGLException($"pool padding ({o.PadY},{o.PadX}) must be at most half the pool size ({o.SizeY},{o.SizeX}): at most ({o.SizeY / 2},{o.SizeX / 2}), as in PyTorch");
        return new(
            AxisGeometry.Compute(h, o.SizeY, o.EffectiveStrideY, 1, PaddingMode.Explicit, o.PadY, "height"),
            AxisGeometry.Compute(w, o.SizeX, o.EffectiveStrideX, 1, PaddingMode.Explicit, o.PadX, "width"));
    }

    /// <summary>The most window taps one pool may read (outputs x window), the limit an attention's products have: a
    /// 4096 x 4096 window over a 64 x 48 picture is 5e10 taps, minutes of work, refused as one error instead.</summary>
    public const long MaxTaps = Attention.MaxProducts;

    /// <summary>Why a pool of a <paramref name="kh"/> x <paramref name="kw"/> window over <paramref name="channels"/> maps
    /// of <paramref name="g"/>'s output size is refused for its work (over <see cref="MaxTaps"/>), or null.</summary>
    public static string? TooMuchWork(string name, long channels, ConvGeometry g, int kh, int kw)
    {
        // In double: ONNX's windows reach 2^20 a side, past a long's range times the outputs.
        double taps = (double)channels * g.Y.Output * g.X.Output * kh * kw;
        return taps <= MaxTaps ? null
            : $"{name}: a {kw}x{kh} window (W x H) over {channels} map(s) of {g.X.Output}x{g.Y.Output} outputs reads {taps:0.##e+0} values, over ConvGL's limit of " +
              $"{MaxTaps:0.##e+0}; a smaller window or input";
    }

    public static Tensor Apply(Tensor input, PoolOptions o)
    {
        if (input.Rank != 3) throw new ConvGLException($"pool input must be (C, H, W), got {input.ShapeString}");
        int c = input.C, h = input.H, w = input.W;
        ConvGeometry g = Geometry(h, w, o);
        if (TooMuchWork("pool", c, g, o.SizeY, o.SizeX) is { } why) throw new ConvGLException(why);
        var output = Tensor.Chw(c, g.Y.Output, g.X.Output);
        int sy = o.EffectiveStrideY, sx = o.EffectiveStrideX;
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < g.Y.Output; y++)
                for (int x = 0; x < g.X.Output; x++)
                {
                    double acc = o.Kind == PoolKind.Max ? double.NegativeInfinity : 0.0;
                    for (int i = 0; i < o.SizeY; i++)
                    {
                        int iy = y * sy + i - o.PadY;
                        if ((uint)iy >= (uint)h) continue;
                        for (int j = 0; j < o.SizeX; j++)
                        {
                            int ix = x * sx + j - o.PadX;
                            if ((uint)ix >= (uint)w) continue;
                            float v = input[ch, iy, ix];
                            acc = o.Kind == PoolKind.Max ? Math.Max(acc, v) : acc + v;
                        }
                    }
                    output[ch, y, x] = (float)(o.Kind == PoolKind.Max ? acc : acc / (o.SizeY * o.SizeX));
                }
        return output;
    }
}
