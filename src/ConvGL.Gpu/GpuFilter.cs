using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu;

/// <summary>The GPU path of <c>convgl apply --device gpu</c>: <see cref="Conv2D.Filter"/> (one 2D kernel applied to
/// every channel alone) on the GPU, by the algorithm <see cref="ConvAlgorithms.ChooseFilter"/> picks for the kernel
/// and image (or the one asked for): direct (<see cref="GpuConv2D"/>), separable for a rank-1 kernel
/// (<see cref="GpuSeparableConv"/>) or the convolution theorem (<see cref="GpuFftConv2D"/>). All three equal the
/// reference. Keeps its context, ops and tensors across calls; weights are re-uploaded only when the kernel, the
/// channel count or the algorithm changes.</summary>
public sealed class GpuFilter : IDisposable
{
    private readonly GlContext _context;
    private readonly bool _ownsContext;
    private readonly GpuTensor _input;
    private readonly GpuTensor _output;
    private GpuConv2D? _conv;
    private GpuSeparableConv? _separable;
    private GpuFftConv2D? _fft;
    // What each op currently holds: (kernel data, kernel shape, channels), so a repeat call uploads nothing.
    private (float[] Data, int[] Shape, int Channels)? _convKey, _separableKey, _fftKey;

    /// <summary>Uses <paramref name="context"/>, or creates (and later disposes) a headless one when it is null.</summary>
    public GpuFilter(GlContext? context = null)
    {
        _ownsContext = context is null;
        _context = context ?? GlContext.CreateHeadless(debug: false);
        _input = new GpuTensor(_context, label: "filter input");
        _output = new GpuTensor(_context, label: "filter output");
        SplitAboveBytes = _context.MaxStorageBlockBytes;
    }

    public GlContext Context => _context;

    /// <summary>The algorithm to use; <see cref="ConvAlgorithm.Auto"/> (the default) lets the cost model choose.</summary>
    public ConvAlgorithm Algorithm { get; set; } = ConvAlgorithm.Auto;

    /// <summary>The cost model's constants for this device (llvmpipe's unless a caller knows better).</summary>
    public ConvCostModel CostModel { get; set; } = ConvCostModel.Llvmpipe;

    /// <summary>When set, told the fraction done and the step while <see cref="Filter"/> runs (the FFT reports each
    /// of its passes; direct and separable are one step each).</summary>
    public Action<double, string>? Progress { get; set; }

    /// <summary>What the last <see cref="Filter"/> ran, and why (printed by <c>apply --verbose</c>).</summary>
    public AlgorithmChoice? LastChoice { get; private set; }

    /// <summary>Images larger than this many bytes are filtered one channel at a time. The driver's storage block
    /// limit; tests lower it to exercise the split path on small images.</summary>
    internal long SplitAboveBytes { get; set; }

    /// <summary>The choice <see cref="Filter"/> would make for this image, kernel and options, without running it.
    /// Throws <see cref="ConvGLException"/> for separable asked of a kernel that is not rank 1.</summary>
    public AlgorithmChoice Choose(int channels, int h, int w, Tensor kernel2d, ConvOptions options) =>
        ConvAlgorithms.ChooseFilter(channels, h, w, kernel2d, options, CostModel, Algorithm, maxFftBufferTexels: GpuFftConv2D.BufferTexels(_context));

    public Tensor Filter(Tensor image, Tensor kernel2d, ConvOptions options)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(kernel2d);
        ArgumentNullException.ThrowIfNull(options);
        if (image.Rank != 3) throw new ConvGLException($"filter input must be (C, H, W), got {image.ShapeString}");
        if (kernel2d.Rank != 2) throw new ConvGLException($"a filter kernel must be 2D, got shape {kernel2d.ShapeString}");
        AlgorithmChoice choice = Choose(image.C, image.H, image.W, kernel2d, options);
        LastChoice = choice;
        // A photograph can exceed one storage block (llvmpipe: 128 MiB, a 12 MP RGB image is 144 MiB);
        // channels are independent under a depthwise filter, so then they go one at a time.
        bool perChannel = (long)image.Length * sizeof(float) > SplitAboveBytes && image.C > 1;
        // So do they where the FFT's frames of every channel together pass the driver's buffers even one tile row tall,
        // but one channel's fit (a 3x8x200000 picture was refused; one channel's frames are a third).
        if (!perChannel && image.C > 1 && choice.Algorithm == ConvAlgorithm.Fft && !FftFramesFit(image.C, image.H, image.W, kernel2d, options))
            perChannel = true;
        int channels = perChannel ? 1 : image.C;
        Action<GpuTensor, GpuTensor> run = Prepare(choice.Algorithm, kernel2d, channels, options);
        int parts = perChannel ? image.C : 1, part = 0;
        string name = $"gpu {choice.Name}";
        if (_fft is not null) _fft.Progress = Progress is null ? null : (f, step) => Progress((part + f) / parts, step + (parts > 1 ? $" (channel {part + 1} of {parts})" : ""));
        Progress?.Invoke(0, name);
        if (!perChannel) return RunOnce(image, run, choice.Algorithm, kernel2d, options);
        var results = new List<Tensor>(image.C);
        for (; part < image.C; part++)
        {
            Progress?.Invoke((double)part / parts, $"{name} (channel {part + 1} of {parts})");
            results.Add(RunOnce(image.Channel(part), run, choice.Algorithm, kernel2d, options));
        }
        return Tensor.Concat(results);
    }

    /// <summary>One channel (or the whole image) on the GPU; a channel whose input or output passes
    /// <see cref="SplitAboveBytes"/> (an 8192x8192 gray picture is 256 MiB, llvmpipe's buffers 128) in bands of output
    /// rows: each band's input rows gathered on the CPU through the border rule (Borders.Map, the reference's own), run
    /// with no padding along y and the image's own along x, the bands' rows put back in order.</summary>
    private Tensor RunOnce(Tensor image, Action<GpuTensor, GpuTensor> run, ConvAlgorithm algorithm, Tensor kernel, ConvOptions options)
    {
        ConvGeometry g = ConvGeometry.Compute(image.H, image.W, kernel.H, kernel.W, options);
        long inBytes = (long)image.Length * sizeof(float), outBytes = (long)image.C * g.Y.Output * g.X.Output * sizeof(float);
        if (inBytes <= SplitAboveBytes && outBytes <= SplitAboveBytes) return RunOnce(image, run);
        int c = image.C, h = image.H, w = image.W, sy = options.StrideY, reach = options.DilationY * (kernel.H - 1) + 1;
        int band = BandRows(SplitAboveBytes, c, w, g.X.Output, g.Y.Output, reach, sy);
        if (band < 1) return RunOnce(image, run); // not even one row fits: the driver's own error says so
        ConvOptions rows = options with { Padding = PaddingMode.Explicit, PadY = 0, PadBottom = 0, PadX = g.X.PadBefore, PadRight = g.X.PadAfter };
        Action<GpuTensor, GpuTensor> runBand = Prepare(algorithm, kernel, c, rows);
        // Bands of one height (the last one's extra rows read past the image through the border rule and are dropped):
        // the same shapes every band, so an FFT keeps its frame and kernel spectra, and the programs their sizes. The
        // FFT's own per-pass progress is left out: it went back to 0% each band.
        int bands = (g.Y.Output + band - 1) / band;
        band = (g.Y.Output + bands - 1) / bands;
        int inRows = (band - 1) * sy + reach;
        Action<double, string>? fftProgress = _fft?.Progress;
        if (_fft is not null) _fft.Progress = null;
        var result = Tensor.Chw(c, g.Y.Output, g.X.Output);
        for (int o0 = 0; o0 < g.Y.Output; o0 += band)
        {
            int count = Math.Min(band, g.Y.Output - o0);
            var input = Tensor.Chw(c, inRows, w);
            for (int ch = 0; ch < c; ch++)
                for (int t = 0; t < inRows; t++)
                {
                    int source = Borders.Map(o0 * sy + t - g.Y.PadBefore, h, options.Border);
                    if (source >= 0) image.Data.AsSpan((ch * h + source) * w, w).CopyTo(input.Data.AsSpan((ch * inRows + t) * w, w));
                }
            Tensor part = RunOnce(input, runBand);
            for (int ch = 0; ch < c; ch++)
                part.Data.AsSpan(ch * band * g.X.Output, count * g.X.Output).CopyTo(result.Data.AsSpan((ch * g.Y.Output + o0) * g.X.Output));
            Progress?.Invoke(Math.Min(1, (double)(o0 + count) / g.Y.Output), $"gpu {algorithm.ToString().ToLowerInvariant()} (rows {o0 + count} of {g.Y.Output})");
        }
        Prepare(algorithm, kernel, c, options); // the op's own options back, for the next call
        if (_fft is not null) _fft.Progress = fftProgress;
        return result;
    }

    /// <summary>The most output rows a band may have under <paramref name="limitBytes"/>: its output rows, and its input
    /// rows ((B - 1) s + reach) as wide as the input or, where padding widens it, the output (the separable row pass's
    /// intermediate is input rows x output width: `--size full` on an 8192x8192 picture passed the buffer there), at most
    /// the output's height; 0 where not even one row fits. Pure: a unit test holds it.</summary>
    internal static int BandRows(long limitBytes, int channels, int inWidth, int outWidth, int outHeight, int reach, int strideY)
    {
        long byOutput = limitBytes / ((long)channels * outWidth * sizeof(float));
        long byInput = (limitBytes / ((long)channels * Math.Max(inWidth, outWidth) * sizeof(float)) - reach) / strideY + 1;
        return (int)Math.Max(0, Math.Min(Math.Min(byOutput, byInput), outHeight));
    }

    /// <summary>Whether the FFT frames of <paramref name="channels"/> channels fit this driver's buffers, in bands if need be.</summary>
    private bool FftFramesFit(int channels, int h, int w, Tensor kernel, ConvOptions options)
    {
        long maxPlane = Math.Max(1, GpuFftConv2D.BufferTexels(_context) / channels);
        try
        {
            return FftPlan.For(h, w, kernel.H, kernel.W, options with { Groups = channels }, maxPlane: maxPlane).Plane <= maxPlane;
        }
        catch (ConvGLException)
        {
            return true; // a frame beyond any size: the op's own error says so
        }
    }

    private Tensor RunOnce(Tensor image, Action<GpuTensor, GpuTensor> run)
    {
        _input.Upload(image);
        run(_input, _output);
        return _output.Download();
    }

    /// <summary>The op for <paramref name="algorithm"/>, holding this kernel for this many channels.</summary>
    private Action<GpuTensor, GpuTensor> Prepare(ConvAlgorithm algorithm, Tensor kernel, int channels, ConvOptions options)
    {
        ConvOptions depthwise = options with { Groups = channels };
        switch (algorithm)
        {
            case ConvAlgorithm.Separable:
                if (!Holds(_separableKey, kernel, channels) || _separable is null)
                {
                    // Choose() has already refused a kernel that is not rank 1.
                    GpuSeparableConv.TryFactor(kernel, out float[] column, out float[] row);
                    if (_separable is null) _separable = new GpuSeparableConv(_context, column, row, options);
                    else _separable.SetKernel(column, row);
                    _separableKey = Key(kernel, channels);
                }
                _separable.Options = options;
                return _separable.Run;
            case ConvAlgorithm.Fft:
                return Hold(ref _fft, ref _fftKey, kernel, channels, depthwise, w => new GpuFftConv2D(_context, w, null, depthwise));
            default:
                return Hold(ref _conv, ref _convKey, kernel, channels, depthwise, w => new GpuConv2D(_context, w, null, depthwise));
        }
    }

    /// <summary>A depthwise op (direct or FFT: the same weights, the same options) holding this kernel for this many
    /// channels: made on first use, its weights replaced only when the kernel or the channel count changed.</summary>
    private static Action<GpuTensor, GpuTensor> Hold<T>(ref T? op, ref (float[] Data, int[] Shape, int Channels)? key, Tensor kernel, int channels,
                                                       ConvOptions depthwise, Func<Tensor, T> create) where T : class, IGpuConv
    {
        if (!Holds(key, kernel, channels) || op is null)
        {
            Tensor weight = Conv2D.DepthwiseWeight(kernel, channels);
            if (op is null) op = create(weight);
            else op.SetWeights(weight, null);
            key = Key(kernel, channels);
        }
        op.Options = depthwise;
        return op.Run;
    }

    private static (float[], int[], int) Key(Tensor kernel, int channels) => ((float[])kernel.Data.Clone(), (int[])kernel.Shape.Clone(), channels);

    private static bool Holds((float[] Data, int[] Shape, int Channels)? key, Tensor kernel, int channels) =>
        key is { } k && k.Channels == channels && k.Shape.AsSpan().SequenceEqual(kernel.Shape) && k.Data.AsSpan().SequenceEqual(kernel.Data);

    public void Dispose()
    {
        _conv?.Dispose();
        _separable?.Dispose();
        _fft?.Dispose();
        _input.Dispose();
        _output.Dispose();
        if (_ownsContext) _context.Dispose();
    }
}
