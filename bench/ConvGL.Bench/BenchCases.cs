using System.Globalization;
using ConvGL.Core;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Bench;

/// <summary>The default and the quick case sets. Inputs are uniform [0, 1) from a fixed seed (a real image would
/// not change the timing: every op here does the same work for any value).</summary>
internal static class BenchCases
{
    private sealed record Sizes(int FilterH, int FilterW, int LayerHW, int DepthHW, int GaborH, int GaborW, int PoolHW);

    private static readonly Sizes Full = new(1080, 1920, 256, 256, 360, 640, 256);
    private static readonly Sizes Quick = new(180, 320, 32, 64, 72, 128, 64);

    public static IReadOnlyList<BenchCase> All(bool quick)
    {
        Sizes s = quick ? Quick : Full;
        ConvOptions image = ConvOptions.ImageFilter;          // reflect border, same size: OpenCV's filter2D
        var layer = new ConvOptions { Border = Border.Zero }; // PyTorch Conv2d(padding="same")
        return
        [
            Filter2D("gauss5-2d", "gaussian 5x5, 2D", KernelLibrary.Get("gaussian:5"), 1, s.FilterH, s.FilterW, image),
            FilterSeparable("gauss5-sep", "gaussian 5x5, separable", KernelLibrary.Get("gaussian:5"), 1, s.FilterH, s.FilterW, image),
            Filter2D("gauss9-2d", "gaussian 9x9, 2D", KernelLibrary.Get("gaussian:9"), 1, s.FilterH, s.FilterW, image),
            FilterSeparable("gauss9-sep", "gaussian 9x9, separable", KernelLibrary.Get("gaussian:9"), 1, s.FilterH, s.FilterW, image),
            Filter2D("sobel3-rgb", "sobel-x 3x3 on RGB, 2D", KernelLibrary.Get("sobel-x"), 3, s.FilterH, s.FilterW, image),
            Layer("conv3-16to32", "conv layer + bias", RandomTensor([32, 16, 3, 3], 11, 1f / 12), RandomBias(32, 12), 16, s.LayerHW, s.LayerHW, layer),
            Layer("dwconv3-32", "depthwise conv", RandomTensor([32, 1, 3, 3], 13, 1f / 3), null, 32, s.DepthHW, s.DepthHW, layer with { Groups = 32 }),
            // Depthwise layers of real models: MobileNetV2's expanded 3x3 (144 channels at 56x56), ConvNeXt-T's first-stage 7x7.
            Layer("dwconv3-144-56", "depthwise conv (MobileNetV2)", RandomTensor([144, 1, 3, 3], 17, 1f / 3), RandomBias(144, 18), 144,
                quick ? 14 : 56, quick ? 14 : 56, layer with { Groups = 144 }),
            Layer("dwconv7-96-56", "depthwise conv 7x7 (ConvNeXt)", RandomTensor([96, 1, 7, 7], 15, 1f / 7), RandomBias(96, 16), 96,
                quick ? 14 : 56, quick ? 14 : 56, layer with { Groups = 96 }),
            // Issue 8's GPU-machine floors: dense 16->16 and 32->32 3x3 layers on a 1080p map (>= 0.5x cuDNN there). The
            // 32->32 one runs only when named (`--case conv3-32to32-1080`): its 253 MiB input is above llvmpipe's 128 MiB
            // storage-block limit, a FAILED row on every machine without a GPU.
            Layer("conv3-16to16-1080", "conv layer + bias, 1080p", RandomTensor([16, 16, 3, 3], 31, 1f / 12), RandomBias(16, 32), 16,
                quick ? 36 : 1080, quick ? 64 : 1920, layer, cpuSkip: quick ? null : "the reference would take ~30 s (4.8 GMAC)"),
            Layer("conv3-32to32-1080", "conv layer + bias, 1080p (only when named)", RandomTensor([32, 32, 3, 3], 33, 1f / 17), RandomBias(32, 34), 32,
                quick ? 36 : 1080, quick ? 64 : 1920, layer, cpuSkip: quick ? null : "the reference would take ~2 min (19 GMAC)", explicitOnly: true),
            // A 3x3 layer whose Winograd scratch passes WinogradPlan.MaxScratchFloats (~19 M floats): it runs in bands of tile rows.
            Layer("conv3-32to32-512", "conv layer + bias, Winograd in bands", RandomTensor([32, 32, 3, 3], 35, 1f / 17), RandomBias(32, 36), 32,
                quick ? 64 : 512, quick ? 64 : 512, layer, cpuSkip: quick ? null : "the reference would take ~15 s (2.4 GMAC)"),
            // ResNet-18's conv shapes (issue 8): a 3x3 body layer, a 1x1 stride-2 downsample, the 7x7 stride-2 stem.
            Layer("conv3-64to64-56", "resnet 3x3 layer", RandomTensor([64, 64, 3, 3], 21, 1f / 24), RandomBias(64, 22), 64, quick ? 14 : 56, quick ? 14 : 56, layer),
            Layer("conv1-s2-64to128-56", "resnet 1x1 s2 downsample", RandomTensor([128, 64, 1, 1], 23, 1f / 8), null, 64, quick ? 14 : 56, quick ? 14 : 56,
                layer with { Padding = PaddingMode.Explicit, StrideY = 2, StrideX = 2 }),
            Layer("conv7-s2-3to64-224", "resnet 7x7 s2 stem", RandomTensor([64, 3, 7, 7], 25, 1f / 12), null, 3, quick ? 56 : 224, quick ? 56 : 224,
                layer with { Padding = PaddingMode.Explicit, PadY = 3, PadX = 3, StrideY = 2, StrideX = 2 }),
            // ResNet-18's small-map 3x3 layers, most of its GPU time (issue 12): 256 channels at 14x14, 512 at 7x7.
            Layer("conv3-256to256-14", "resnet 3x3 layer", RandomTensor([256, 256, 3, 3], 27, 1f / 48), RandomBias(256, 28), 256,
                quick ? 4 : 14, quick ? 4 : 14, layer),
            Layer("conv3-512to512-7", "resnet 3x3 layer", RandomTensor([512, 512, 3, 3], 29, 1f / 68), RandomBias(512, 30), 512,
                quick ? 3 : 7, quick ? 3 : 7, layer),
            Layer("gabor15-1to8", "gabor bank, direct", GaborBank(), null, 1, s.GaborH, s.GaborW, image),
            Layer("gabor15-1to8-fft", "gabor bank, FFT (CPU only)", GaborBank(), null, 1, s.GaborH, s.GaborW, image, fft: true),
            MaxPool("maxpool2-32", 32, s.PoolHW, s.PoolHW),
            .. BenchImportedOps.Cases(quick),
            .. quick ? [] : BenchModels.ResNet18(),
            FilterFft("conv63-fft", "random 63x63, FFT", RandomTensor([63, 63], 63, 1f / 2000), 1, quick ? 96 : 1024, quick ? 96 : 1024, image),
            FilterFft("gauss501-rgb", "gaussian 501x501 on RGB, FFT", KernelLibrary.Get("gaussian:501"), 3, quick ? 64 : 512, quick ? 64 : 512, image),
        ];
    }

    /// <summary>The cases whose names start with one of the comma-separated names (all when null).</summary>
    public static IReadOnlyList<BenchCase> Select(IReadOnlyList<BenchCase> all, string? filter)
    {
        if (filter is null) return all.Where(c => !c.ExplicitOnly).ToList();
        string[] names = filter.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (string n in names)
            if (!all.Any(c => Matches(c, n)))
            {
                // The model case is absent when the model is: say how to fetch it rather than "no such case".
                if (n.StartsWith("resnet18", StringComparison.Ordinal)) Core.Onnx.PackagedModels.Locate(Core.Onnx.PackagedModels.ResNet18);
                throw new ConvGLException($"bench: --case '{n}' matches no case (cases: {string.Join(", ", all.Select(c => c.Name))})");
            }
        if (names.Length == 0) throw new ConvGLException("bench: --case needs at least one name (see convgl bench --list)");
        return all.Where(c => names.Any(n => Matches(c, n))).ToList();
    }

    /// <summary>A name selects the cases it starts; an explicit-only case only by its whole name.</summary>
    private static bool Matches(BenchCase c, string name) =>
        c.ExplicitOnly ? c.Name == name : c.Name.StartsWith(name, StringComparison.Ordinal);

    private static BenchCase Filter2D(string name, string op, Tensor kernel, int channels, int h, int w, ConvOptions options)
    {
        Tensor weight = Conv2D.DepthwiseWeight(kernel, channels);
        ConvOptions depthwise = options with { Groups = channels };
        return new BenchCase
        {
            Name = name, Op = op, Cin = channels, Cout = channels, H = h, W = w,
            Kernel = $"{kernel.H}x{kernel.W}", StrideDilation = "1/1", Border = options.Border.Name(),
            Macs = (long)channels * h * w * kernel.Length,
            MakeInput = () => RandomImage(channels, h, w, 1),
            Cpu = x => Conv2D.Filter(x, kernel, options), CpuAlgo = "Conv2D.Filter",
            Gpu = ctx => Bind(new GpuConv2D(ctx, weight, null, depthwise)),
            GpuAlgo = "GpuConv2D",
            Peer = x => new OpenCvFilter2D(x, [kernel], options.Border),
            Reference = x => Conv2D.Filter(x, kernel, options),
            Window = new(kernel.H, kernel.W, options),
        };
    }

    /// <summary>A big kernel by the convolution theorem (GpuFftConv2D: what `apply` picks for it). The CPU row is the
    /// cheapest CPU path (Separable.Filter for a rank-1 kernel, else FftConv2D.Filter: the direct reference would
    /// take minutes); the check against the definition uses Separable.Filter for a rank-1 kernel (proven equal to the
    /// 2D sum in Core's tests; the 2D sum of a 501x501 kernel is 197 G taps) and Conv2D.Filter on crops otherwise.</summary>
    private static BenchCase FilterFft(string name, string op, Tensor kernel, int channels, int h, int w, ConvOptions options)
    {
        bool rankOne = Separable.TryFactor(kernel, out double[] column, out double[] row);
        Func<Tensor, Tensor> cpu = rankOne ? x => Separable.Filter(x, column, row, options) : x => FftConv2D.Filter(x, kernel, options);
        BenchCase c = Filter2D(name, op, kernel, channels, h, w, options);
        return new BenchCase
        {
            Name = c.Name, Op = c.Op, Cin = c.Cin, Cout = c.Cout, H = c.H, W = c.W, Kernel = c.Kernel, StrideDilation = c.StrideDilation,
            Border = c.Border, Macs = c.Macs, MakeInput = c.MakeInput, Peer = c.Peer, Window = c.Window,
            Cpu = cpu, CpuAlgo = rankOne ? "Separable.Filter" : "FftConv2D.Filter",
            Gpu = ctx =>
            {
                var fft = new GpuFftConv2D(ctx, Conv2D.DepthwiseWeight(kernel, channels), null, options with { Groups = channels });
                // The note: the frame, and what `apply`'s cost model would pick for this kernel and image (issue 11).
                AlgorithmChoice auto = ConvAlgorithms.ChooseFilter(channels, h, w, kernel, options, ConvCostModel.Llvmpipe);
                return new GpuBenchOp(fft.Run, fft, () => $"fft_pass.comp + fft_product.comp, {fft.LastPlan?.FrameW}x{fft.LastPlan?.FrameH} frames{(fft.LastPlan is { Bands: > 1 } banded ? $" in {banded.Bands} bands of rows" : "")}; auto picks {auto}");
            },
            GpuAlgo = "GpuFftConv2D",
            Reference = rankOne ? cpu : c.Reference,
        };
    }

    private static BenchCase FilterSeparable(string name, string op, Tensor kernel, int channels, int h, int w, ConvOptions options)
    {
        if (!Separable.TryFactor(kernel, out double[] column, out double[] row) ||
            !GpuSeparableConv.TryFactor(kernel, out float[] fcolumn, out float[] frow))
            throw new InvalidOperationException($"bench case {name}: kernel is not separable");
        return new BenchCase
        {
            Name = name, Op = op, Cin = channels, Cout = channels, H = h, W = w,
            Kernel = $"{kernel.H}x{kernel.W}", StrideDilation = "1/1", Border = options.Border.Name(),
            Macs = (long)channels * h * w * kernel.Length,
            MakeInput = () => RandomImage(channels, h, w, 1),
            Cpu = x => Separable.Filter(x, column, row, options), CpuAlgo = "Separable.Filter",
            Gpu = ctx => Bind(new GpuSeparableConv(ctx, fcolumn, frow, options)),
            GpuAlgo = "GpuSeparableConv",
            Peer = x => new OpenCvSepFilter2D(x, fcolumn, frow, options.Border),
            // The definition is the 2D kernel: the separable result must equal it, not just its own factors.
            Reference = x => Conv2D.Filter(x, kernel, options),
            Window = new(kernel.H, kernel.W, options),
        };
    }

    private static BenchCase Layer(string name, string op, Tensor weight, float[]? bias, int cin, int h, int w, ConvOptions options, bool fft = false,
        string? cpuSkip = null, bool explicitOnly = false)
    {
        int cout = weight.Shape[0], kh = weight.Shape[2], kw = weight.Shape[3];
        ConvGeometry g = ConvGeometry.Compute(h, w, kh, kw, options);
        return new BenchCase
        {
            CpuSkip = cpuSkip, ExplicitOnly = explicitOnly,
            Name = name, Op = op, Cin = cin, Cout = cout, H = h, W = w,
            Kernel = $"{kh}x{kw}" + (options.Groups > 1 ? $" g{options.Groups}" : ""),
            StrideDilation = $"{options.StrideY}/{options.DilationY}", Border = options.Border.Name(),
            Macs = (long)cout * g.Y.Output * g.X.Output * weight.Shape[1] * kh * kw,
            MakeInput = () => RandomImage(cin, h, w, 2),
            Cpu = fft ? x => FftConv2D.Apply(x, weight, bias, options) : x => Conv2D.Apply(x, weight, bias, options),
            CpuAlgo = fft ? "FftConv2D.Apply" : "Conv2D.Apply",
            Gpu = fft ? null : ctx => Bind(new GpuConv2D(ctx, weight, bias, options)),
            GpuAlgo = "GpuConv2D",
            Peer = fft ? null : LayerPeer(weight, bias, options),
            Reference = x => Conv2D.Apply(x, weight, bias, options),
            Window = new(kh, kw, options),
        };
    }

    private static BenchCase MaxPool(string name, int channels, int h, int w)
    {
        PoolOptions pool = PoolOptions.Square(PoolKind.Max, 2);
        return new BenchCase
        {
            Name = name, Op = "max pool", Cin = channels, Cout = channels, H = h, W = w,
            Kernel = "2x2", StrideDilation = "2/1", Border = "-",
            Macs = 0,
            MakeInput = () => RandomImage(channels, h, w, 3),
            Cpu = x => Pool2D.Apply(x, pool), CpuAlgo = "Pool2D.Apply",
            Gpu = ctx => Bind(new GpuPool2D(ctx, pool)),
            GpuAlgo = "GpuPool2D",
            Peer = x => OnnxRuntimeNode.MaxPool(x, 2, 2),
            Reference = x => Pool2D.Apply(x, pool),
            // A pool window skips what lies outside the image; with no padding none of it does. Zero border: "outside".
            Window = new(2, 2, new ConvOptions { Padding = PaddingMode.Explicit, StrideY = 2, StrideX = 2, Border = Border.Zero }),
        };
    }

    /// <summary>A bank of 2D filters on one channel with an image border (the Gabor bank) is what OpenCV's filter2D does,
    /// one call per kernel; a conv layer (zero border) is what ONNX Runtime's Conv does.</summary>
    private static Func<Tensor, BenchPeer> LayerPeer(Tensor weight, float[]? bias, ConvOptions options)
    {
        if (options.Border == Border.Zero) return x => OnnxRuntimeNode.Conv(x, weight, bias, options);
        if (weight.Shape[1] != 1 || options.Groups != 1 || bias is not null)
            throw new InvalidOperationException("bench: a non-zero-border layer case needs a single-channel filter bank for its OpenCV peer");
        int kh = weight.Shape[2], kw = weight.Shape[3];
        Tensor[] kernels = Enumerable.Range(0, weight.Shape[0])
            .Select(o => new Tensor([kh, kw], weight.Data.AsSpan(o * kh * kw, kh * kw).ToArray())).ToArray();
        return x => new OpenCvFilter2D(x, kernels, options.Border);
    }

    private static GpuBenchOp Bind(GpuConv2D op) => new(op.Run, op, () => op.Variant);
    private static GpuBenchOp Bind(GpuSeparableConv op) => new(op.Run, op, () => op.Variant);
    private static GpuBenchOp Bind(GpuPool2D op) => new(op.Run, op, () => op.Variant);

    /// <summary>Eight 15x15 Gabor kernels, orientations 0, 22.5, ..., 157.5 degrees: a (8, 1, 15, 15) weight.</summary>
    private static Tensor GaborBank()
    {
        var weight = new Tensor([8, 1, 15, 15]);
        for (int o = 0; o < 8; o++)
        {
            Tensor k = KernelLibrary.Get(string.Create(CultureInfo.InvariantCulture, $"gabor:theta={o * 22.5},sigma=2.5,lambda=8,size=15"));
            k.Data.CopyTo(weight.Data, o * k.Length);
        }
        return weight;
    }

    private static Tensor RandomImage(int c, int h, int w, int seed)
    {
        var rng = new Random(seed);
        var t = Tensor.Chw(c, h, w);
        for (int i = 0; i < t.Length; i++) t.Data[i] = rng.NextSingle();
        return t;
    }

    private static Tensor RandomTensor(int[] shape, int seed, float scale)
    {
        var rng = new Random(seed);
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (rng.NextSingle() * 2 - 1) * scale;
        return t;
    }

    private static float[] RandomBias(int n, int seed) => RandomTensor([n], seed, 0.1f).Data;
}

