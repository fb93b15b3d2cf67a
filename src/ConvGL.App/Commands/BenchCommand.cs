using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using ConvGL.App.Cli;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using ConvGL.Gpu;
using ConvGL.Gpu.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.App.Commands;

/// <summary>`convgl bench`: times the CPU reference ops (ConvGL.Core.Ops) and their GPU twins (ConvGL.Gpu.Ops) on a
/// fixed set of cases and prints one table, headed by the machine it ran on. A benchmark, not a test: nothing here
/// asserts a speed. What it does assert is that the GPU kernel being timed computes the right thing (a broken kernel
/// can be very fast): every GPU case is checked once against the CPU reference on two corner crops, and a mismatch
/// is printed loudly and makes the command exit 1 (no --out file is written then), as does a GPU row that throws.
///
/// How the figures are taken (bench/README.md has the long form):
/// - CPU: the reference as shipped (single-threaded, double accumulation), Stopwatch around each call, after one
///   warm-up call (JIT). A case whose one call already exceeds the per-row time budget is run once and that call is
///   the figure; a case whose direct multiply-adds exceed <see cref="CpuSkipMacs"/> is skipped with a note.
/// - GPU: the op object and its input/output <see cref="GpuTensor"/>s are created once per case and reused by every
///   rep, so the timed loop is dispatches only (no allocation, upload or read-back). After two warm-up runs (the
///   first compiles the shader), each rep is timed by a GL_TIME_ELAPSED query read to completion on a real GPU, or
///   by the wall clock around run + glFinish on a software rasteriser (llvmpipe), where the queries read ~0.
/// - Reps: up to --reps per row, but a row stops early once its timed reps have used --budget seconds (the row says
///   how many ran), so the default set stays minutes, not hours, on a slow machine.</summary>
internal static class BenchCommand
{
    public static readonly CommandSpec Spec = new("bench", [], ["reps", "device", "out", "case", "budget"], ["quick", "list", "help"]);

    /// <summary>Direct-convolution multiply-adds above which the CPU reference is not run at all: at the reference's
    /// ~0.05-0.2 GMAC/s that is minutes for one call. No case of the default set reaches it on purpose; it guards
    /// cases added later.</summary>
    internal const long CpuSkipMacs = 5_000_000_000;

    private static readonly Dictionary<string, BenchDevice> Devices = new()
    {
        ["cpu"] = BenchDevice.Cpu, ["gpu"] = BenchDevice.Gpu, ["both"] = BenchDevice.Both,
    };

    internal const string Usage = """
        convgl bench [--quick] [--reps N] [--device cpu|gpu|both] [--case NAME[,NAME...]] [--budget SECONDS]
                     [--out FILE.md|FILE.csv] [--list]
            Times the CPU reference ops and the GPU compute shaders on a fixed set of cases and prints a markdown table
            headed by the machine (CPU model, cores, GL renderer and version). Every GPU case is first checked against
            the CPU reference on two corner crops; a mismatch is printed and the command exits 1.
            --quick      small sizes (under 30 s on llvmpipe with 2 cores)
            --reps N     timed reps per row after the warm-up (default 10); the median and the minimum are shown
            --budget S   seconds of timed reps per row (default 3, --quick 0.4): a row stops early when it has used
                         them, and a CPU case whose one call takes longer is run once
            --device     cpu, gpu or both (default both)
            --case       only the cases whose name starts with one of the given names (see --list)
            --out        also write the results, atomically: .md (the same table) or .csv (one row per line, with the
                         machine in every row)
            GPU figures: GL_TIME_ELAPSED on a real GPU; wall clock around the dispatches + glFinish on a software
            rasteriser (llvmpipe), where the queries read ~0. Read bench/README.md before quoting a figure.
        """;

    public static int Run(CommandLine args)
    {
        if (args.Flag("help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        bool quick = args.Flag("quick");
        if (args.Flag("list"))
        {
            foreach (BenchCase c in BenchCases.All(quick)) Console.WriteLine($"{c.Name,-18} {c.Op}, {c.Cin}->{c.Cout}, {c.H}x{c.W}, {c.Kernel}");
            return 0;
        }

        // 1. Everything the command line says, checked before anything runs.
        int reps = args.GetInt("reps", 10, min: 1);
        double budget = args.GetDouble("budget", quick ? 0.4 : 3.0);
        if (budget <= 0) throw new ConvGLException($"bench: --budget must be above 0 seconds, got {budget.ToString(CultureInfo.InvariantCulture)}");
        BenchDevice device = args.GetChoice("device", BenchDevice.Both, Devices);
        string? outPath = args.Get("out");
        bool csv = false;
        if (outPath is not null)
        {
            csv = outPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);
            if (!csv && !outPath.EndsWith(".md", StringComparison.OrdinalIgnoreCase))
                throw new ConvGLException($"bench: --out '{outPath}' must end in .md (markdown table) or .csv");
            string dir = Path.GetDirectoryName(Path.GetFullPath(outPath)) ?? ".";
            if (!Directory.Exists(dir)) throw new ConvGLException($"bench: --out '{outPath}': directory '{dir}' does not exist");
        }
        IReadOnlyList<BenchCase> cases = BenchCases.Select(BenchCases.All(quick), args.Get("case"));

        // 2. The machine, and the GL context every GPU case shares.
        GlContext? gl = null;
        string? gpuMissing = null;
        if (device != BenchDevice.Cpu)
        {
            try
            {
                // No debug context: KHR_debug's synchronous output slows every call it watches.
                gl = GlContext.CreateHeadless(debug: false);
            }
            catch (GpuException e)
            {
                if (device == BenchDevice.Gpu)
                {
                    Console.Error.WriteLine($"convgl: bench: --device gpu: {e.Message}");
                    return 1;
                }
                gpuMissing = e.Message;
            }
        }
        try
        {
            return RunCases(cases, quick, reps, budget, device, gl, gpuMissing, outPath, csv);
        }
        finally
        {
            gl?.Dispose();
        }
    }

    private static int RunCases(IReadOnlyList<BenchCase> cases, bool quick, int reps, double budget, BenchDevice device,
        GlContext? gl, string? gpuMissing, string? outPath, bool csv)
    {
        var machine = BenchMachine.Describe(gl, gpuMissing);
        var header = new StringBuilder();
        header.AppendLine($"# convgl bench{(quick ? " --quick" : "")}");
        header.AppendLine();
        foreach (string line in machine.Lines) header.AppendLine($"- {line}");
        header.AppendLine($"- settings: up to {reps} timed reps per row, budget {budget.ToString("0.###", CultureInfo.InvariantCulture)} s per row, device {device.ToString().ToLowerInvariant()}");
        header.AppendLine();
        header.AppendLine(BenchReport.MarkdownHeader);
        Console.Write(header.ToString());

        var rows = new List<BenchRow>();
        var breakdowns = new List<string>();
        bool failed = false;
        using var progress = new Progress("convgl bench");
        for (int ci = 0; ci < cases.Count; ci++)
        {
            BenchCase c = cases[ci];
            progress.Step(ci, cases.Count, c.Name);
            Tensor input = c.MakeInput();
            var caseRows = new List<BenchRow>();
            if (device != BenchDevice.Gpu) caseRows.Add(TimeCpu(c, input, reps, budget));
            if (device != BenchDevice.Cpu && c.Gpu is not null)
            {
                BenchRow row;
                if (gl is null)
                {
                    row = BenchRow.Skipped(c, "gpu", "GPU unavailable (see the gl line above)");
                }
                else
                {
                    try
                    {
                        row = TimeGpu(c, input, gl, reps, budget);
                    }
                    catch (GpuException e)
                    {
                        // A shader that does not compile or a driver limit: this row fails, the others still run.
                        string first = e.Message.Split('\n')[0];
                        progress.Interrupt();
                        Console.Error.WriteLine($"FAILED {c.Name} gpu: {e.Message}");
                        row = BenchRow.Skipped(c, "gpu", $"FAILED: {first}") with { Failed = true };
                    }
                }
                caseRows.Add(row);
                if (gl is not null && row.HasTime && c.GpuBreakdown is not null) breakdowns.AddRange(c.GpuBreakdown(gl, input));
            }
            // The peer right after ConvGL's rows, in the same run: the ratio column is ConvGL's median over the peer's.
            BenchRow? peer = c.Peer is null ? null : TimePeer(c, input, reps, budget);
            progress.Interrupt();
            foreach (BenchRow row in caseRows)
            {
                BenchRow r = peer is { HasTime: true } && row.HasTime ? row with { VsPeer = row.MedianMs / peer.MedianMs } : row;
                failed |= r.Failed;
                rows.Add(r);
                Console.WriteLine(BenchReport.MarkdownRow(r));
            }
            if (peer is not null)
            {
                failed |= peer.Failed;
                rows.Add(peer);
                Console.WriteLine(BenchReport.MarkdownRow(peer));
            }
        }
        progress.Complete();
        string footer = BenchReport.Legend(BenchMachine.LoadAverage()) + (breakdowns.Count > 0 ? "\n" + string.Join("\n", breakdowns) + "\n" : "");
        Console.WriteLine();
        Console.Write(footer);

        if (failed)
        {
            Console.Error.WriteLine("convgl: bench: a GPU case failed or did not match the CPU reference (MISMATCH/FAILED rows above); the figures were not written");
            return 1;
        }
        if (outPath is not null)
        {
            string text = csv
                ? BenchReport.Csv(rows, machine)
                : header + string.Concat(rows.Select(r => BenchReport.MarkdownRow(r) + "\n")) + "\n" + footer;
            AtomicFile.WriteAllBytes(outPath, Encoding.UTF8.GetBytes(text));
            Console.WriteLine($"wrote {outPath}");
        }
        return 0;
    }

    /// <summary>One warm-up call (JIT, caches), then timed calls until --reps or the budget is reached.</summary>
    private static BenchRow TimeCpu(BenchCase c, Tensor input, int reps, double budget)
    {
        if (c.Macs > CpuSkipMacs)
            return BenchRow.Skipped(c, "cpu", $"skipped: {c.Macs / 1e9:0.#} GMAC direct would take minutes in the reference");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long start = Stopwatch.GetTimestamp();
        c.Cpu(input);
        double warm = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (warm > budget * 1000)
            return BenchRow.Timed(c, "cpu", [warm], 1, "cpu wall", $"{c.CpuAlgo}; run once (one call exceeds the budget), the warm-up call is the figure");
        var times = new List<double>(reps);
        double total = 0;
        while (times.Count < reps && total < budget * 1000)
        {
            start = Stopwatch.GetTimestamp();
            c.Cpu(input);
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            times.Add(ms);
            total += ms;
        }
        return BenchRow.Timed(c, "cpu", times, reps, "cpu wall", c.CpuAlgo);
    }

    /// <summary>The CPU peer (OpenCV or ONNX Runtime, all cores): prepared once, checked against the reference like a GPU
    /// row (a peer computing something else would make the ratio meaningless), one warm-up call, then timed calls.</summary>
    private static BenchRow TimePeer(BenchCase c, Tensor input, int reps, double budget)
    {
        using BenchPeer peer = c.Peer!(input);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        peer.Run();
        Verification v = c.Verify?.Invoke(input, peer.Output()) ?? BenchVerify.Check(c, input, peer.Output());
        if (!v.Ok)
        {
            Console.Error.WriteLine($"MISMATCH {c.Name} {peer.Device}: {v.Message}");
            return BenchRow.Skipped(c, peer.Device, $"MISMATCH: {v.Message}") with { Failed = true };
        }
        var times = new List<double>(reps);
        double total = 0;
        while (times.Count < reps && total < budget * 1000)
        {
            long start = Stopwatch.GetTimestamp();
            peer.Run();
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            times.Add(ms);
            total += ms;
        }
        return BenchRow.Timed(c, peer.Device, times, reps, "cpu wall", $"{peer.Algo}; {v.Message}");
    }

    private static BenchRow TimeGpu(BenchCase c, Tensor input, GlContext context, int reps, double budget)
    {
        GL gl = context.Gl;
        using GpuTensor gin = GpuTensor.From(context, input, $"bench {c.Name} input");
        using var gout = new GpuTensor(context, label: $"bench {c.Name} output");
        using GpuBenchOp op = c.Gpu!(context);
        using ElapsedQuery? query = context.IsSoftware ? null : new ElapsedQuery(gl);

        // Warm-up: the first run compiles and links the shader; the second is a plain run. On a software rasteriser a
        // first run longer than the budget already says the rest will be slow: one warm-up, then one timed rep.
        long warmStart = Stopwatch.GetTimestamp();
        op.Run(gin, gout);
        gl.Finish();
        if (!context.IsSoftware || Stopwatch.GetElapsedTime(warmStart).TotalMilliseconds <= budget * 1000)
        {
            op.Run(gin, gout);
            gl.Finish();
        }

        // Check before timing: a broken kernel can be very fast.
        Verification v = c.Verify?.Invoke(input, gout.Download()) ?? BenchVerify.Check(c, input, gout.Download());
        if (!v.Ok)
        {
            Console.Error.WriteLine($"MISMATCH {c.Name} gpu: {v.Message}");
            return BenchRow.Skipped(c, "gpu", $"MISMATCH: {v.Message}") with { Failed = true };
        }

        var times = new List<double>(reps);
        var walls = new List<double>(reps);
        double total = 0;
        while (times.Count < reps && total < budget * 1000)
        {
            long start = Stopwatch.GetTimestamp();
            query?.Begin();
            op.Run(gin, gout);
            query?.End();
            gl.Finish();
            double wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            double ms = query?.ReadMilliseconds() ?? wall;
            times.Add(ms);
            walls.Add(wall);
            total += wall;
        }
        string note = $"{c.GpuAlgo}: {op.Variant}; {v.Message}";
        if (query is not null) note += $"; wall+glFinish median {BenchReport.Ms(BenchRow.Median(walls))} ms";
        return BenchRow.Timed(c, "gpu", times, reps, query is null ? "wall+glFinish" : "GL_TIME_ELAPSED", note);
    }
}

internal enum BenchDevice { Both, Cpu, Gpu }

/// <summary>A GPU op bound to its settings, runnable on preallocated tensors: what the timed loop calls.</summary>
internal sealed class GpuBenchOp(Action<GpuTensor, GpuTensor> run, IDisposable owner, Func<string> variant) : IDisposable
{
    public void Run(GpuTensor input, GpuTensor output) => run(input, output);

    /// <summary>The shader variant the op's plan chose (after a run), for the row's note.</summary>
    public string Variant => variant();

    public void Dispose() => owner.Dispose();
}

/// <summary>One GL_TIME_ELAPSED query read to completion. <see cref="GpuTimer"/> is built for frames: it never waits
/// and skips a span while its ring is in flight. A benchmark wants every rep measured and may wait, so it reads
/// GL_QUERY_RESULT, which blocks until the GPU has finished the span.</summary>
internal sealed class ElapsedQuery(GL gl) : IDisposable
{
    private readonly uint _query = gl.GenQuery();

    public void Begin() => gl.BeginQuery(QueryTarget.TimeElapsed, _query);

    public void End() => gl.EndQuery(QueryTarget.TimeElapsed);

    public double ReadMilliseconds()
    {
        gl.GetQueryObject(_query, QueryObjectParameterName.Result, out ulong ns);
        return ns / 1e6;
    }

    public void Dispose() => gl.DeleteQuery(_query);
}

/// <summary>One benchmark case: an op on one input, its CPU algorithm, its GPU twin (if any), the definition used to
/// verify the GPU result, and the geometry of one output's window (for choosing which crop outputs are exact).</summary>
internal sealed class BenchCase
{
    public required string Name { get; init; }
    public required string Op { get; init; }
    public required int Cin { get; init; }
    public required int Cout { get; init; }
    public required int H { get; init; }
    public required int W { get; init; }
    public required string Kernel { get; init; }
    public required string StrideDilation { get; init; }
    public required string Border { get; init; }
    /// <summary>Multiply-adds of the direct convolution (C_out * H_out * W_out * C_in/groups * kH * kW); 0 for pools.</summary>
    public required long Macs { get; init; }
    public required Func<Tensor> MakeInput { get; init; }
    public required Func<Tensor, Tensor> Cpu { get; init; }
    public required string CpuAlgo { get; init; }
    public Func<GlContext, GpuBenchOp>? Gpu { get; init; }
    public string GpuAlgo { get; init; } = "";
    /// <summary>The CPU library a C# user would call instead (OpenCV, ONNX Runtime), made for one input; null: none.</summary>
    public Func<Tensor, BenchPeer>? Peer { get; init; }
    /// <summary>The definition the GPU result must equal (the direct reference, whatever algorithm is timed).</summary>
    public required Func<Tensor, Tensor> Reference { get; init; }
    /// <summary>Kernel size, stride, dilation, padding and border of one output's window, per axis.</summary>
    public required WindowGeometry Window { get; init; }
    /// <summary>A whole-output check (input, output) replacing the corner-crop one (a model's output is not a window
    /// of its input); null: <see cref="BenchVerify.Check"/>.</summary>
    public Func<Tensor, Tensor, Verification>? Verify { get; init; }
    /// <summary>Where a GPU row's time goes, as lines for after the table (a model: per layer kind); null: none.</summary>
    public Func<GlContext, Tensor, IReadOnlyList<string>>? GpuBreakdown { get; init; }
}

internal readonly record struct WindowGeometry(int KernelY, int KernelX, ConvOptions Options);

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
            // ResNet-18's conv shapes (issue 8): a 3x3 body layer, a 1x1 stride-2 downsample, the 7x7 stride-2 stem.
            Layer("conv3-64to64-56", "resnet 3x3 layer", RandomTensor([64, 64, 3, 3], 21, 1f / 24), RandomBias(64, 22), 64, quick ? 14 : 56, quick ? 14 : 56, layer),
            Layer("conv1-s2-64to128-56", "resnet 1x1 s2 downsample", RandomTensor([128, 64, 1, 1], 23, 1f / 8), null, 64, quick ? 14 : 56, quick ? 14 : 56,
                layer with { Padding = PaddingMode.Explicit, StrideY = 2, StrideX = 2 }),
            Layer("conv7-s2-3to64-224", "resnet 7x7 s2 stem", RandomTensor([64, 3, 7, 7], 25, 1f / 12), null, 3, quick ? 56 : 224, quick ? 56 : 224,
                layer with { Padding = PaddingMode.Explicit, PadY = 3, PadX = 3, StrideY = 2, StrideX = 2 }),
            Layer("gabor15-1to8", "gabor bank, direct", GaborBank(), null, 1, s.GaborH, s.GaborW, image),
            Layer("gabor15-1to8-fft", "gabor bank, FFT (CPU only)", GaborBank(), null, 1, s.GaborH, s.GaborW, image, fft: true),
            MaxPool("maxpool2-32", 32, s.PoolHW, s.PoolHW),
            .. quick ? [] : BenchModels.ResNet18(),
            FilterFft("conv63-fft", "random 63x63, FFT", RandomTensor([63, 63], 63, 1f / 2000), 1, quick ? 96 : 1024, quick ? 96 : 1024, image),
            FilterFft("gauss501-rgb", "gaussian 501x501 on RGB, FFT", KernelLibrary.Get("gaussian:501"), 3, quick ? 64 : 512, quick ? 64 : 512, image),
        ];
    }

    /// <summary>The cases whose names start with one of the comma-separated names (all when null).</summary>
    public static IReadOnlyList<BenchCase> Select(IReadOnlyList<BenchCase> all, string? filter)
    {
        if (filter is null) return all;
        string[] names = filter.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (string n in names)
            if (!all.Any(c => c.Name.StartsWith(n, StringComparison.Ordinal)))
            {
                // The model case is absent when the model is: say how to fetch it rather than "no such case".
                if (n.StartsWith("resnet18", StringComparison.Ordinal)) Core.Onnx.PackagedModels.Locate(Core.Onnx.PackagedModels.ResNet18);
                throw new ConvGLException($"bench: --case '{n}' matches no case (cases: {string.Join(", ", all.Select(c => c.Name))})");
            }
        if (names.Length == 0) throw new ConvGLException("bench: --case needs at least one name (see convgl bench --list)");
        return all.Where(c => names.Any(n => c.Name.StartsWith(n, StringComparison.Ordinal))).ToList();
    }

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
                return new GpuBenchOp(fft.Run, fft, () => $"fft_pass.comp + fft_product.comp, {fft.LastPlan?.FrameH}x{fft.LastPlan?.FrameW} frames; auto picks {auto}");
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

    private static BenchCase Layer(string name, string op, Tensor weight, float[]? bias, int cin, int h, int w, ConvOptions options, bool fft = false)
    {
        int cout = weight.Shape[0], kh = weight.Shape[2], kw = weight.Shape[3];
        ConvGeometry g = ConvGeometry.Compute(h, w, kh, kw, options);
        return new BenchCase
        {
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

internal readonly record struct Verification(bool Ok, string Message);

/// <summary>Checks a GPU output against the CPU reference on two crops of the input: the top-left and the
/// bottom-right corner, so both image borders are covered. The reference runs on the crop alone, so near the crop's
/// inner edges it sees a border the full image does not have; only outputs whose every tap reads the same input
/// value in the crop as in the full image (worked out with <see cref="Borders.Map"/> for the case's border) are
/// compared. Tolerance as the parity tests: |gpu - cpu| &lt;= 1e-4 + 1e-4 |cpu| (float32 sums of up to 225 taps on
/// the GPU against the reference's double sums).</summary>
internal static class BenchVerify
{
    private const int CropH = 48, CropW = 64;
    private const double Abs = 1e-4, Rel = 1e-4;

    public static Verification Check(BenchCase c, Tensor input, Tensor gpu)
    {
        WindowGeometry win = c.Window;
        ConvOptions o = win.Options;
        ConvGeometry full = ConvGeometry.Compute(input.H, input.W, win.KernelY, win.KernelX, o);
        if (gpu.H != full.Y.Output || gpu.W != full.X.Output)
            return new(false, $"GPU output is {gpu.ShapeString}, the reference's is ({c.Cout}, {full.Y.Output}, {full.X.Output})");
        long compared = 0;
        double worst = 0;
        foreach (bool bottomRight in new[] { false, true })
        {
            // The crop starts on a stride multiple, so crop output y' is full output y' + top / stride.
            // A crop grows with the kernel's span, so a big kernel still has outputs that read only the crop.
            int cropH = CropH + (win.KernelY - 1) * o.DilationY, cropW = CropW + (win.KernelX - 1) * o.DilationX;
            int top = bottomRight ? Math.Max(0, input.H - cropH) / o.StrideY * o.StrideY : 0;
            int left = bottomRight ? Math.Max(0, input.W - cropW) / o.StrideX * o.StrideX : 0;
            int h = bottomRight ? input.H - top : Math.Min(cropH, input.H);
            int w = bottomRight ? input.W - left : Math.Min(cropW, input.W);
            Tensor cpu = c.Reference(Crop(input, top, left, h, w));
            ConvGeometry g = ConvGeometry.Compute(h, w, win.KernelY, win.KernelX, o);
            bool[] rows = Exact(input.H, top, h, cpu.H, win.KernelY, o.StrideY, o.DilationY, g.Y.PadBefore, o.Border);
            bool[] cols = Exact(input.W, left, w, cpu.W, win.KernelX, o.StrideX, o.DilationX, g.X.PadBefore, o.Border);
            int dy = top / o.StrideY, dx = left / o.StrideX;
            for (int ch = 0; ch < cpu.C; ch++)
                for (int y = 0; y < cpu.H; y++)
                {
                    if (!rows[y] || y + dy >= gpu.H) continue;
                    for (int x = 0; x < cpu.W; x++)
                    {
                        if (!cols[x] || x + dx >= gpu.W) continue;
                        float want = cpu[ch, y, x], got = gpu[ch, y + dy, x + dx];
                        double err = Math.Abs((double)got - want);
                        if (!(err <= Abs + Rel * Math.Abs(want)))
                            return new(false, string.Create(CultureInfo.InvariantCulture,
                                $"output (c={ch}, y={y + dy}, x={x + dx}) is {got:G9} on the GPU, {want:G9} in the CPU reference ({(c.CpuAlgo == "Pool2D.Apply" ? "Pool2D.Apply" : "direct Conv2D")}), abs diff {err:G3} > {Abs:G2} + {Rel:G2} * abs(cpu)"));
                        worst = Math.Max(worst, err);
                        compared++;
                    }
                }
        }
        if (compared == 0) return new(false, "no output could be compared (crop too small for the kernel): the check cannot vouch for this kernel");
        return new(true, string.Create(CultureInfo.InvariantCulture, $"verified on 2 corner crops ({compared} values, max abs err {worst:0.0e0})"));
    }

    /// <summary>Per crop output index along one axis: true when every tap maps, through the border, to the same input
    /// position in the crop (length <paramref name="m"/> at offset <paramref name="offset"/>) as in the full axis.</summary>
    private static bool[] Exact(int n, int offset, int m, int outputs, int k, int stride, int dilation, int padBefore, Border border)
    {
        var exact = new bool[outputs];
        for (int y = 0; y < outputs; y++)
        {
            exact[y] = true;
            for (int i = 0; i < k && exact[y]; i++)
            {
                int inCrop = y * stride - padBefore + i * dilation;
                int fromCrop = Borders.Map(inCrop, m, border), fromFull = Borders.Map(inCrop + offset, n, border);
                exact[y] = fromCrop < 0 ? fromFull < 0 : fromFull == fromCrop + offset;
            }
        }
        return exact;
    }

    private static Tensor Crop(Tensor t, int top, int left, int h, int w)
    {
        var c = Tensor.Chw(t.C, h, w);
        for (int ch = 0; ch < t.C; ch++)
            for (int y = 0; y < h; y++)
                Array.Copy(t.Data, (ch * t.H + top + y) * t.W + left, c.Data, (ch * h + y) * w, w);
        return c;
    }
}

/// <summary>One line of the table.</summary>
internal sealed record BenchRow(BenchCase Case, string Device, int Reps, int RequestedReps, double MedianMs, double MinMs, string Timing, string Note)
{
    /// <summary>A GPU row that did not match the CPU reference or threw: the run exits 1 and writes no --out file.</summary>
    public bool Failed { get; init; }
    public bool HasTime => Reps > 0;
    /// <summary>This row's median over the same case's peer median, from the same run (NaN: no peer figure).</summary>
    public double VsPeer { get; init; } = double.NaN;

    public static BenchRow Timed(BenchCase c, string device, IReadOnlyList<double> times, int requested, string timing, string note)
    {
        string capped = times.Count < requested ? $"; {times.Count} of {requested} reps (budget)" : "";
        return new(c, device, times.Count, requested, Median(times), times.Min(), timing, note + capped);
    }

    public static BenchRow Skipped(BenchCase c, string device, string note) => new(c, device, 0, 0, double.NaN, double.NaN, "-", note);

    public static double Median(IReadOnlyList<double> values)
    {
        double[] s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>Direct-equivalent multiply-adds per second (see the legend), or NaN.</summary>
    public double Gmacs => HasTime && Case.Macs > 0 ? Case.Macs / (MedianMs / 1e3) / 1e9 : double.NaN;

    /// <summary>Input image pixels (H x W, channels not counted) per second.</summary>
    public double Mpixs => HasTime ? (double)Case.H * Case.W / (MedianMs / 1e3) / 1e6 : double.NaN;
}

/// <summary>What the figures ran on: printed at the top of every table and written into every CSV row.</summary>
internal sealed record BenchMachine(string Cpu, int Cores, string Gl, IReadOnlyList<string> Lines)
{
    public static BenchMachine Describe(GlContext? gl, string? gpuMissing)
    {
        string cpu = CpuModel();
        int cores = Environment.ProcessorCount;
        string mem = MemTotal();
        string config = typeof(BenchCommand).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "?";
        string glText = gl is not null
            ? $"{gl.Description}; {(gl.IsSoftware ? "software rasteriser: GPU rows are wall clock + glFinish" : "GPU rows are GL_TIME_ELAPSED")}"
            : gpuMissing is not null ? $"unavailable: {gpuMissing}" : "not used (--device cpu)";
        var lines = new List<string>
        {
            $"machine: {cpu}, {cores} logical cores, {mem}; {RuntimeInformation.OSDescription}; {RuntimeInformation.FrameworkDescription} ({config} build{(config == "Release" ? "" : ": CPU figures are NOT representative, use ./convgl")})",
            $"gl: {glText}",
            $"date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; load average at start {LoadAverage()} (another process's load slows every row)",
        };
        return new(cpu, cores, gl?.Renderer ?? "-", lines);
    }

    private static string CpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int i and > 0)
                    return line[(i + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture + " CPU (model unknown: no /proc/cpuinfo)";
    }

    private static string MemTotal()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal) &&
                    long.TryParse(line[9..].Trim().Split(' ')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long kb))
                    return $"{kb / 1048576.0:0.#} GiB RAM";
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return "RAM unknown";
    }

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return "unknown";
    }
}

internal static class BenchReport
{
    public const string MarkdownHeader =
        "| case | op | C_in->C_out | HxW | kernel | stride/dil | border | device | reps | median ms | min ms | vs peer | GMAC/s | Mpix/s | timing | note |\n" +
        "|---|---|---|---|---|---|---|---|--:|--:|--:|--:|--:|--:|---|---|";

    public static string MarkdownRow(BenchRow r)
    {
        BenchCase c = r.Case;
        return $"| {c.Name} | {c.Op} | {c.Cin}->{c.Cout} | {c.H}x{c.W} | {c.Kernel} | {c.StrideDilation} | {c.Border} | {r.Device} | " +
               $"{(r.HasTime ? r.Reps : "-")} | {Ms(r.MedianMs)} | {Ms(r.MinMs)} | {Ratio(r.VsPeer)} | {Sig(r.Gmacs)} | {Sig(r.Mpixs)} | {r.Timing} | {r.Note.Replace("|", "/", StringComparison.Ordinal)} |";
    }

    public static string Legend(string loadAtEnd) => $"""
        How to read this: median and min over the timed reps, after warm-up (CPU 1 call, GPU 2 runs: the first compiles the shader).
        CPU = the single-threaded reference in ConvGL.Core (double accumulation, written to be read, not to be fast).
        GPU = dispatches only, on tensors already on the GPU (no upload or read-back); GL_TIME_ELAPSED is GPU execution time,
        wall+glFinish is submit-to-completion on the CPU clock. GMAC/s counts the direct convolution's multiply-adds
        (C_out*H_out*W_out*C_in/groups*kH*kW) for every algorithm, so separable and FFT rows show an effective rate.
        Mpix/s = input H*W pixels per second (channels not counted). Load average at end: {loadAtEnd}.

        """;

    public static string Csv(IReadOnlyList<BenchRow> rows, BenchMachine m)
    {
        var sb = new StringBuilder();
        sb.AppendLine("case,op,c_in,c_out,h,w,kernel,stride_dilation,border,device,reps,median_ms,min_ms,vs_peer,gmac_per_s,mpix_per_s,timing,note,cpu,cores,gl_renderer");
        foreach (BenchRow r in rows)
        {
            BenchCase c = r.Case;
            string[] fields =
            [
                c.Name, c.Op, I(c.Cin), I(c.Cout), I(c.H), I(c.W), c.Kernel, c.StrideDilation, c.Border, r.Device,
                r.HasTime ? I(r.Reps) : "", R(r.MedianMs), R(r.MinMs), R(r.VsPeer), R(r.Gmacs), R(r.Mpixs), r.Timing, r.Note,
                m.Cpu, I(m.Cores), m.Gl,
            ];
            sb.AppendLine(string.Join(',', fields.Select(Quote)));
        }
        return sb.ToString();
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string R(double v) => double.IsNaN(v) ? "" : v.ToString("G6", CultureInfo.InvariantCulture);

    private static string Quote(string s) =>
        s.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;

    /// <summary>A time ratio to the peer: "2.31x" (above 1: slower than the peer), or "-".</summary>
    public static string Ratio(double v) => double.IsNaN(v) ? "-" : Sig(v) + "x";

    /// <summary>Milliseconds to three significant digits (or "-").</summary>
    public static string Ms(double ms) => Sig(ms);

    private static string Sig(double v) => double.IsNaN(v) ? "-" : v.ToString(
        v >= 100 ? "0" : v >= 10 ? "0.0" : v >= 1 ? "0.00" : v >= 0.1 ? "0.000" : "0.0000", CultureInfo.InvariantCulture);
}
