namespace ConvGL.Core.Ops;

/// <summary>Pooling with every option ONNX's MaxPool / AveragePool have (and PyTorch's MaxPool2d / AvgPool2d):
/// padding per side (top, left, bottom, right), dilation, ceil_mode, and count_include_pad either way.
/// <see cref="Pool2D"/> stays the simple symmetric case the stack files use.</summary>
public sealed record PaddedPoolOptions
{
    public PoolKind Kind { get; init; } = PoolKind.Max;
    public int SizeY { get; init; } = 2;
    public int SizeX { get; init; } = 2;
    public int StrideY { get; init; } = 1;
    public int StrideX { get; init; } = 1;
    public int PadTop { get; init; }
    public int PadLeft { get; init; }
    public int PadBottom { get; init; }
    public int PadRight { get; init; }
    /// <summary>Explicit (the four pads above), or ONNX's auto_pad <see cref="PaddingMode.SameUpper"/> /
    /// <see cref="PaddingMode.SameLower"/>: pads resolved for each input size so the output is ceil(n / stride), the odd
    /// padding pixel after (upper) or before (lower); the four pads are then unused (0).</summary>
    public PaddingMode Padding { get; init; } = PaddingMode.Explicit;
    public int DilationY { get; init; } = 1;
    public int DilationX { get; init; } = 1;
    /// <summary>Round the output size up, as long as the last window still starts inside the input or its
    /// top/left padding (PyTorch's and ONNX Runtime's rule).</summary>
    public bool CeilMode { get; init; }
    /// <summary>Average only: divide by the taps that fall inside the padded input (true) or inside the image
    /// alone (false, ONNX's default). Taps beyond the padding, which only ceil_mode creates, never count.</summary>
    public bool CountIncludePad { get; init; }

    public override string ToString() =>
        $"{Kind.ToString().ToLowerInvariant()} size=({SizeY},{SizeX}) stride=({StrideY},{StrideX}) " +
        (Padding == PaddingMode.Explicit ? $"pads=({PadTop},{PadLeft},{PadBottom},{PadRight}) " : $"padding={Padding.ToString().ToLowerInvariant()} ") +
        $"dilation=({DilationY},{DilationX}) ceil={CeilMode} count_include_pad={CountIncludePad}";
}

/// <summary>The reference for <see cref="PaddedPoolOptions"/> over each channel of a (C, H, W) tensor:
///
///     out[c, y, x] = max / mean over i, j of in[c, y*sy - top + i*dy, x*sx - left + j*dx]  (taps inside the image)
///
/// and the output size along an axis is floor (or ceil) ((n + before + after - d*(k-1) - 1) / s) + 1. Under SAME_UPPER /
/// SAME_LOWER the pads come from the input size first (<see cref="SamePads"/>), then the same formula applies.</summary>
public static class PaddedPool2D
{
    /// <summary>Input pixels a window of <paramref name="k"/> taps <paramref name="dilation"/> apart spans: a pad on either
    /// side must be smaller, or a window could hold padding alone (whatever the input's size).</summary>
    public static long WindowSpan(int k, int dilation) => (long)dilation * (k - 1) + 1;

    public static AxisGeometry Axis(int n, int k, int stride, int dilation, int before, int after, bool ceil, string axis)
    {
        if (n < 1) throw new ConvGLException($"pool input {axis} size {n} must be at least 1");
        if (k < 1 || stride < 1 || dilation < 1)
            throw new ConvGLException($"pool {axis} size {k}, stride {stride} and dilation {dilation} must be at least 1");
        if (before < 0 || after < 0) throw new ConvGLException($"pool {axis} padding ({before}, {after}) must not be negative");
        long span = WindowSpan(k, dilation), padded = (long)n + before + after;
        if (before >= span || after >= span)
            throw new ConvGLException($"pool {axis} padding ({before}, {after}) must be smaller than the window span {span}, or a window could hold padding alone");
        if (padded < span)
            throw new ConvGLException($"pool output {axis} size would be below 1: input {n} padded by ({before}, {after}) is shorter than the window span {span}");
        long outSize = (ceil ? (padded - span + stride - 1) / stride : (padded - span) / stride) + 1;
        if (ceil && (outSize - 1) * stride >= n + before) outSize--;
        if (outSize > int.MaxValue) throw new ConvGLException($"pool output {axis} size {outSize} is too large");
        return new AxisGeometry(before, after, (int)outSize);
    }

    /// <summary>Every window reaches into the input (<see cref="Axis"/>: the pads are below the span), but with dilation its
    /// taps step over an input narrower than their gap: a window of padding alone (a max of nothing, 0 / 0 for an average)
    /// is refused as a pad wider than the window is (a differential fuzz: a 1x1 map, size 2, dilation 2, pads 1 gave -inf
    /// and 0). Only an input narrower than the dilation can have one; then each output is checked, O(1) each.</summary>
    private static void RequireTapsInside(int n, int k, int stride, int dilation, AxisGeometry g, string axis)
    {
        if (n >= dilation) return;
        for (long o = 0; o < g.Output; o++)
        {
            // The taps p0 + j d are all one position mod d: t in [0, d); with n < d it is the only one that can be inside.
            long p0 = o * stride - g.PadBefore, t = (p0 % dilation + dilation) % dilation;
            if (!(t < n && t <= p0 + (long)(k - 1) * dilation))
                throw new ConvGLException($"pool {axis}: output {o}'s window ({k} taps from {p0}, {dilation} apart) holds padding alone " +
                                          $"on an input of {n} padded by ({g.PadBefore}, {g.PadAfter}); use less padding or dilation, or a larger input");
        }
    }

    /// <summary>ONNX's SAME_UPPER / SAME_LOWER pads along one axis: max(0, (ceil(n / s) - 1) s + d (k - 1) + 1 - n) in
    /// total (so ceil(n / s) outputs), the larger half after (upper) or before (lower). The total is below the window
    /// span, so every window reaches into the input; whether a dilated one's taps land in it, <see cref="RequireTapsInside"/>
    /// checks (through <see cref="Geometry"/>).</summary>
    public static (int Before, int After) SamePads(int n, int k, int stride, int dilation, bool upper)
    {
        if (n < 1) throw new ConvGLException($"pool input size {n} must be at least 1");
        if (k < 1 || stride < 1 || dilation < 1)
            throw new ConvGLException($"pool size {k}, stride {stride} and dilation {dilation} must be at least 1");
        long total = Math.Max(0, ((n + (long)stride - 1) / stride - 1) * stride + (long)dilation * (k - 1) + 1 - n);
        if (total > int.MaxValue / 2) throw new ConvGLException($"pool padding {total} (same) is too large");
        int small = (int)(total / 2), large = (int)(total - total / 2);
        return upper ? (small, large) : (large, small);
    }

    /// <summary>The geometry for an (h, w) input; its pads are the ones the pool applies (resolved for SAME_*).</summary>
    public static ConvGeometry Geometry(int h, int w, PaddedPoolOptions o)
    {
        if (o.Padding is not (PaddingMode.Explicit or PaddingMode.SameUpper or PaddingMode.SameLower))
            throw new ConvGLException($"pool padding {o.Padding.ToString().ToLowerInvariant()} is not supported (explicit pads, same_upper or same_lower)");
        (int top, int bottom) = o.Padding == PaddingMode.Explicit ? (o.PadTop, o.PadBottom) : SamePads(h, o.SizeY, o.StrideY, o.DilationY, o.Padding == PaddingMode.SameUpper);
        (int left, int right) = o.Padding == PaddingMode.Explicit ? (o.PadLeft, o.PadRight) : SamePads(w, o.SizeX, o.StrideX, o.DilationX, o.Padding == PaddingMode.SameUpper);
        AxisGeometry y = Axis(h, o.SizeY, o.StrideY, o.DilationY, top, bottom, o.CeilMode, "height"),
            x = Axis(w, o.SizeX, o.StrideX, o.DilationX, left, right, o.CeilMode, "width");
        if ((long)y.Output * x.Output > Limits.ConvPlaneValues)
            throw new ConvGLException($"pool output {x.Output}x{y.Output} (input {w}x{h} padded by ({top}, {left}, {bottom}, {right})) has more than the {Limits.ConvPlaneValues} values a map may have");
        RequireTapsInside(h, o.SizeY, o.StrideY, o.DilationY, y, "height");
        RequireTapsInside(w, o.SizeX, o.StrideX, o.DilationX, x, "width");
        return new ConvGeometry(y, x);
    }

    public static Tensor Apply(Tensor input, PaddedPoolOptions o)
    {
        if (input.Rank != 3) throw new ConvGLException($"pool input must be (C, H, W), got {input.ShapeString}");
        int c = input.C, h = input.H, w = input.W;
        ConvGeometry g = Geometry(h, w, o);
        if (Pool2D.TooMuchWork("pool", c, g, o.SizeY, o.SizeX) is { } why) throw new ConvGLException(why);
        var output = Tensor.Chw(c, g.Y.Output, g.X.Output);
        bool max = o.Kind == PoolKind.Max;
        int top = g.Y.PadBefore, left = g.X.PadBefore, bottom = g.Y.PadAfter, right = g.X.PadAfter;
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < g.Y.Output; y++)
                for (int x = 0; x < g.X.Output; x++)
                {
                    double acc = max ? double.NegativeInfinity : 0.0;
                    int inImage = 0, inPadded = 0;
                    for (int i = 0; i < o.SizeY; i++)
                    {
                        int iy = y * o.StrideY - top + i * o.DilationY;
                        if (iy >= h + bottom) break;
                        for (int j = 0; j < o.SizeX; j++)
                        {
                            int ix = x * o.StrideX - left + j * o.DilationX;
                            if (ix >= w + right) break;
                            inPadded++;
                            if ((uint)iy >= (uint)h || (uint)ix >= (uint)w) continue;
                            inImage++;
                            float v = input[ch, iy, ix];
                            acc = max ? Math.Max(acc, v) : acc + v;
                        }
                    }
                    int divisor = o.CountIncludePad ? inPadded : inImage;
                    output[ch, y, x] = (float)(max ? acc : divisor == 0 ? 0.0 : acc / divisor);
                }
        return output;
    }
}
