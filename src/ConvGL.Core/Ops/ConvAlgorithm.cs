namespace ConvGL.Core.Ops;

/// <summary>How a convolution is computed; every algorithm gives the same result (within float rounding).</summary>
public enum ConvAlgorithm
{
    /// <summary>Pick by <see cref="ConvAlgorithms.Choose"/>'s cost model.</summary>
    Auto,
    /// <summary>The sum over every tap (Conv2D.Apply, shaders/conv2d.comp): kH*kW multiply-adds per output.</summary>
    Direct,
    /// <summary>A rank-1 kernel as two 1D passes (Separable.Filter, shaders/separable.comp): kH + kW per output.</summary>
    Separable,
    /// <summary>The convolution theorem (FftConv2D, shaders/fft*.comp): O(log frame) per frame texel.</summary>
    Fft,
}

/// <summary>What one device costs, in nanoseconds per unit of work: the constants of the cost model.</summary>
/// <param name="PerTap">direct: one multiply-add of one output with one kernel tap</param>
/// <param name="PerUnrolledTap">direct, for kernels small enough for the GPU's unrolled variants (conv2d_depthwise.comp,
/// conv2d_dense.comp: at most <see cref="MaxUnrolledKernel"/> taps per axis, a row of 8 outputs spanning at most 32
/// inputs); equal to PerTap where there is no such variant</param>
/// <param name="PerSeparableTap">separable: one tap of one 1D pass for one value</param>
/// <param name="PerFftTexelPass">FFT: one frame texel through one radix pass (4 real tiles per texel on the GPU)</param>
/// <param name="PerFftProduct">FFT: one texel of one kernel spectrum multiplied in (per input channel of a group)</param>
/// <param name="FftFixed">FFT: setup that does not scale (programs, tables), nanoseconds</param>
/// <param name="CpuFrames">the FFT runs in <see cref="FftConv2D"/>'s frames (<see cref="FftConv2D.Plan"/>: power-of-two
/// sides, the whole picture or bands of rows; each of its input, kernel and inverse transforms costing
/// <paramref name="PerFftTexelPass"/> per texel per radix-2 stage), not the GPU's tiled <see cref="FftPlan"/></param>
public sealed record ConvCostModel(double PerTap, double PerUnrolledTap, double PerSeparableTap, double PerFftTexelPass, double PerFftProduct, double FftFixed,
                                   bool CpuFrames = false)
{
    /// <summary>The largest kernel side the GPU's unrolled direct variants take (Gpu's ConvPlan.MaxUnrolledKernel).</summary>
    public const int MaxUnrolledKernel = 25;

    /// <summary>True when the GPU's unrolled direct variants take this kernel and options (ConvPlan's rule).</summary>
    public static bool Unrolled(int kh, int kw, ConvOptions o) =>
        kh <= MaxUnrolledKernel && kw <= MaxUnrolledKernel && 7 * o.StrideX + (kw - 1) * o.DilationX + 1 <= 32;

    /// <summary>Mesa llvmpipe on the 2-core AMD EPYC CI machine (AVX2, LP_NUM_THREADS 2), glFinish + wall clock, all
    /// three measured in the same runs (the machine was shared; ratios held better than absolute figures):
    /// conv2d.comp 9 ns a tap (PERF-NOTES: k9 on 1x1080x1920 in 1505 ms; 15x15 on 1x1024x1024 ran 1.4x the FFT's
    /// 63x63 per unit below), its unrolled variants 0.25 (PERF-NOTES: k9 in 22-30 ms), separable.comp 2.5x a direct tap (501 taps on 3x512x512: 26 s against 3.1 s
    /// for 236 M direct taps), the FFT 1.6x a direct tap per texel-pass (63x63 on 1x1024x1024: 11.5 M texel-passes),
    /// plus ~0.3 s of first-use shader compiles (a dozen programs) that a one-shot `apply` pays.
    /// Recalibrate here when a shader changes speed.</summary>
    public static ConvCostModel Llvmpipe { get; } = new(PerTap: 9, PerUnrolledTap: 0.25, PerSeparableTap: 22, PerFftTexelPass: 15, PerFftProduct: 10, FftFixed: 300e6);

    /// <summary>Core's CPU paths, one channel on one core as `apply` runs each (its channels in parallel), timed in process
    /// on the 2-core AMD EPYC VM with AVX-512 (2026-12-05, best of 2, a 512x512 picture unless said): Conv2D.Filter
    /// 3.3-4.0 ns a tap (5x5 to 31x31), Separable.Filter 3.1-3.7 ns a tap of either pass, FftConv2D 2.6-3.1 ns per frame
    /// texel per radix-2 stage of each transform (the input's, the kernel's and the inverse; 1100x1100, 2048x2048,
    /// 4000x3000 and 1080x1920 pictures under 15x15 to 101x101 kernels, whole frames and bands). Only the ratios
    /// choose; the absolute figures are what `apply --verbose` and its warning for a slow asked-for algorithm quote.</summary>
    public static ConvCostModel Cpu { get; } = new(PerTap: 3.6, PerUnrolledTap: 3.6, PerSeparableTap: 3.5, PerFftTexelPass: 2.8, PerFftProduct: 14, FftFixed: 0,
                                                 CpuFrames: true);
}

/// <summary>The algorithm picked for one (kernel, image) and why, e.g. "fft (63x63 kernel, 1152x320 frame)", the frame W x H.</summary>
public sealed record AlgorithmChoice(ConvAlgorithm Algorithm, string Detail, double EstimatedMs)
{
    public string Name => Algorithm.ToString().ToLowerInvariant();
    public override string ToString() => $"{Name} ({Detail})";
}

/// <summary>The cost model that picks direct, separable or FFT per (kernel, image), for the CPU and the GPU alike.
///
/// Work counted (C_out outputs of H_out x W_out, C_in/groups kernels each of kH x kW):
///   direct     = PerTap (or PerUnrolledTap) * C_out * H_out * W_out * C_in/groups * kH * kW
///   separable  = PerSeparableTap * C * (H * W_out * kW + H_out * W_out * kH)    (filters with a rank-1 kernel only)
///   fft        = PerFftTexelPass * (C_in + C_out) * F_h F_w * (passes(F_h) + passes(F_w) + 2)
///                + PerFftProduct * C_out * C_in/groups * F_h F_w + FftFixed
/// where F_h x F_w is <see cref="FftPlan"/>'s frame (the +2 is the pad and unpack passes), times its bands where a
/// device's largest buffer cuts the rows into bands (the GPU: <c>maxFftBufferTexels</c>). The kernel spectra (one more
/// forward transform per kernel) are left out: they are made once per weight set and frame.</summary>
public static class ConvAlgorithms
{
    public static bool TryParse(string name, out ConvAlgorithm algorithm) =>
        Enum.TryParse(name, ignoreCase: true, out algorithm) && Enum.IsDefined(algorithm) && !int.TryParse(name, out _);

    public const string Names = "auto, direct, separable, fft";

    /// <summary>Chooses for a layer of <paramref name="weightShape"/> (C_out, C_in/groups, kH, kW) on an input of
    /// (<paramref name="channels"/>, H, W). <paramref name="rankOne"/>: the layer is an image filter whose one kernel is
    /// rank 1 (only then is separable possible). A requested algorithm other than Auto is returned as is (separable
    /// without a rank-1 kernel is an error), with its estimate.</summary>
    /// <paramref name="maxFftBufferTexels"/>: the most vec4 texels one of the FFT's buffers may hold on the device (its
    /// frames of every channel share one), so the plan is the banded one the device runs and the estimate counts its bands.
    public static AlgorithmChoice Choose(int channels, int h, int w, int[] weightShape, ConvOptions options, bool rankOne,
                                    ConvCostModel model, ConvAlgorithm requested = ConvAlgorithm.Auto, bool allowFft = true,
                                    long maxFftBufferTexels = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(weightShape);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(model);
        int cout = weightShape[0], cinPerGroup = weightShape[1], kh = weightShape[2], kw = weightShape[3];
        ConvGeometry g = ConvGeometry.Compute(h, w, kh, kw, options);
        string kernel = $"{kh}x{kw} kernel";
        double outputs = (double)cout * g.Y.Output * g.X.Output;
        double direct = (ConvCostModel.Unrolled(kh, kw, options) ? model.PerUnrolledTap : model.PerTap) * outputs * cinPerGroup * kh * kw;
        double separable = rankOne ? model.PerSeparableTap * channels * ((double)h * g.X.Output * kw + (double)g.Y.Output * g.X.Output * kh) : double.PositiveInfinity;
        double fft = double.PositiveInfinity;
        string? fftDetail = null; // null: no FFT frame for this size
        string Frame(int frameW, int frameH, int bands) => $"{kernel}, {frameW}x{frameH} frame{(bands > 1 ? $", {bands} bands of rows" : "")}";
        try
        {
            if (model.CpuFrames)
            {
                FftConv2D.CpuPlan cpu = FftConv2D.Plan(h, w, kh, kw, options);
                double stages = Stages(cpu.FrameH) + Stages(cpu.FrameW);
                // Per band: each input map's transform, each kernel's, each output's inverse; the products.
                fft = cpu.Bands * (model.PerFftTexelPass * (channels + (double)cout * cinPerGroup + cout) * cpu.Plane * stages
                                   + model.PerFftProduct * (double)cout * cinPerGroup * cpu.Plane) + model.FftFixed;
                fftDetail = Frame(cpu.FrameW, cpu.FrameH, cpu.Bands);
            }
            else
            {
                int frames = Math.Max(Math.Max(channels, cout), (cout * cinPerGroup + 1) / 2);
                FftPlan plan = FftPlan.For(h, w, kh, kw, options, maxPlane: Math.Max(1, maxFftBufferTexels / frames));
                int passes = FftPlan.Radices(plan.FrameH).Length + FftPlan.Radices(plan.FrameW).Length + 2;
                fft = plan.Bands * (model.PerFftTexelPass * (channels + cout) * plan.Plane * passes
                                    + model.PerFftProduct * (double)cout * cinPerGroup * plan.Plane) + model.FftFixed;
                fftDetail = Frame(plan.FrameW, plan.FrameH, plan.Bands);
            }
        }
        catch (ConvGLException)
        {
            // A frame beyond any size the FFT path takes: not a candidate.
        }

        ConvAlgorithm pick = requested;
        if (pick == ConvAlgorithm.Separable && !rankOne)
            throw new ConvGLException($"--algorithm separable needs a rank-1 (separable) kernel; this {kernel} is not (use auto, direct or fft)");
        if (pick == ConvAlgorithm.Fft && fftDetail is null)
            throw new ConvGLException($"--algorithm fft: the {kernel} on a {h}x{w} input needs an FFT frame beyond the size limit (use direct)");
        if (pick == ConvAlgorithm.Auto)
        {
            pick = ConvAlgorithm.Direct;
            double best = direct;
            if (separable < best) (pick, best) = (ConvAlgorithm.Separable, separable);
            if (fft < best && allowFft) pick = ConvAlgorithm.Fft;
        }
        (double cost, string detail) = pick switch
        {
            ConvAlgorithm.Direct => (direct, kernel),
            ConvAlgorithm.Separable => (separable, $"{kernel}, rank 1: {kh} + {kw} taps"),
            _ => (fft, fftDetail!),
        };
        return new AlgorithmChoice(pick, detail, cost / 1e6);
    }

    /// <summary>Radix-2 stages of one length-n transform in <see cref="Fft"/>: log2 n for a power of two; Bluestein's
    /// three transforms of the next power of two at least 2n - 1 (per output value) otherwise (the wrap border's exact frame).</summary>
    private static double Stages(int n)
    {
        if (n <= 1) return 0;
        if ((n & (n - 1)) == 0) return Math.Log2(n);
        int m = Fft.NextPowerOfTwo(2 * n - 1);
        return 3.0 * m * Math.Log2(m) / n;
    }

    /// <summary>For an image filter: one (kH, kW) kernel on every channel of a (C, H, W) image alone.</summary>
    public static AlgorithmChoice ChooseFilter(int channels, int h, int w, Tensor kernel, ConvOptions options, ConvCostModel model,
                                          ConvAlgorithm requested = ConvAlgorithm.Auto, bool allowFft = true, long maxFftBufferTexels = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (kernel.Rank != 2) throw new ConvGLException($"a filter kernel must be 2D, got shape {kernel.ShapeString}");
        bool rankOne = IsRankOne(kernel);
        return Choose(channels, h, w, [channels, 1, kernel.H, kernel.W], options with { Groups = channels }, rankOne, model, requested, allowFft, maxFftBufferTexels);
    }

    /// <summary>For a conv layer (a stack's, or any (C_out, C_in/groups, kH, kW) weight) on an input of (C, H, W). The
    /// separable paths filter every channel with one kernel, so a layer counts as rank 1 only when it is that: depthwise
    /// (groups = C_in = C_out), every channel's kernel the same rank-1 kernel, no bias (<see cref="SharedKernel"/>).
    /// Separable asked of any other layer is an error naming the layer.</summary>
    public static AlgorithmChoice ChooseLayer(int channels, int h, int w, Tensor weight, float[]? bias, ConvOptions options, ConvCostModel model,
                                         ConvAlgorithm requested = ConvAlgorithm.Auto, string layer = "this layer", long maxFftBufferTexels = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(weight);
        bool rankOne = SharedKernel(weight, bias, options) is { } k && IsRankOne(k);
        if (requested == ConvAlgorithm.Separable && !rankOne)
            throw new ConvGLException($"{layer}: --algorithm separable needs one rank-1 kernel on every channel (depthwise, no bias); " +
                                      $"this {weight.Shape[2]}x{weight.Shape[3]} layer is not (use auto, direct or fft)");
        return Choose(channels, h, w, weight.Shape, options, rankOne, model, requested, maxFftBufferTexels: maxFftBufferTexels);
    }

    /// <summary>The one 2D kernel a depthwise layer without bias applies to every channel, or null when the layer is
    /// not that (its channels' kernels differ, it mixes channels, or it has a bias).</summary>
    public static Tensor? SharedKernel(Tensor weight, float[]? bias, ConvOptions options)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(options);
        if (weight.Rank != 4 || bias is not null || weight.Shape[1] != 1 || options.Groups != weight.Shape[0]) return null;
        int taps = weight.Shape[2] * weight.Shape[3];
        ReadOnlySpan<float> first = weight.Data.AsSpan(0, taps);
        for (int c = 1; c < weight.Shape[0]; c++)
            if (!weight.Data.AsSpan(c * taps, taps).SequenceEqual(first)) return null;
        return new Tensor([weight.Shape[2], weight.Shape[3]], first.ToArray());
    }

    /// <summary>Rank 1 as the separable paths define it (<see cref="Separable.TryFactor"/>): a 1-row or 1-column
    /// kernel counts too (a 1D pass is then all the work).</summary>
    public static bool IsRankOne(Tensor kernel) => Separable.TryFactor(kernel, out _, out _);

}
