using System.Diagnostics;
using System.Globalization;
using System.Text;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Gpu;
using Silk.NET.OpenGL;

namespace ConvGL.Bench;

/// <summary>Which rows a run times.</summary>
public enum BenchDevice { Both, Cpu, Gpu }

/// <summary>What one run is asked to do (`convgl bench`'s options, parsed).</summary>
/// <param name="Quick">small sizes (a smoke run)</param>
/// <param name="Reps">timed reps per row after the warm-up, at least 1</param>
/// <param name="Budget">seconds of timed reps per row; null: 3, or 0.4 with <paramref name="Quick"/></param>
/// <param name="Device">which rows run</param>
/// <param name="Cases">comma-separated case-name prefixes; null: every case</param>
/// <param name="Out">also write the results to this .md or .csv file; null: stdout only</param>
public sealed record BenchSettings(bool Quick = false, int Reps = 10, double? Budget = null, BenchDevice Device = BenchDevice.Both,
    string? Cases = null, string? Out = null)
{
    public double BudgetSeconds => Budget ?? (Quick ? 0.4 : 3.0);
}

/// <summary>Where a run reports how far it is (the app draws it on stderr). <see cref="Interrupt"/> comes before the
/// run writes a line, so a progress line drawn in place can be erased first.</summary>
public interface IBenchProgress
{
    void Step(int index, int count, string step);

    void Interrupt();

    void Complete();
}

/// <summary>The bench harness: times the CPU reference ops (ConvGL.Core.Ops) and their GPU twins (ConvGL.Gpu.Ops) on a
/// fixed set of cases (<see cref="BenchCases"/>) and prints one table, headed by the machine it ran on
/// (<see cref="BenchMachine"/>). A benchmark, not a test: nothing here asserts a speed. What it does assert is that
/// the GPU kernel being timed computes the right thing (a broken kernel can be very fast): every GPU case is checked
/// once against the CPU reference on two corner crops (<see cref="BenchVerify"/>), and a mismatch is printed loudly
/// and makes the run exit 1 (no --out file is written then), as does a GPU row that throws.
///
/// How the figures are taken (bench/README.md has the long form):
/// - CPU: the reference as shipped (single-threaded, double accumulation), Stopwatch around each call, after one
///   warm-up call (JIT). A case whose one call already exceeds the per-row time budget is run once and that call is
///   the figure; a case whose direct multiply-adds exceed <see cref="CpuSkipMacs"/> is skipped with a note.
/// - GPU: the op object and its input/output <see cref="GpuTensor"/>s are created once per case and reused by every
///   rep, so the timed loop is dispatches only (no allocation, upload or read-back). After two warm-up runs (the
///   first compiles the shader), each rep is timed by a <see cref="GpuTimer"/> (GL_TIME_ELAPSED) waited for on a real
///   GPU, or by the wall clock around run + glFinish on a software rasteriser (llvmpipe), where the queries read ~0.
/// - Peers (<see cref="BenchPeer"/>: OpenCV, ONNX Runtime on all cores): checked like a GPU row, then timed right
///   after ConvGL's rows of the same case, so the ratio column compares figures of the same run.
/// - Reps: up to <see cref="BenchSettings.Reps"/> per row, but a row stops early once its timed reps have used the
///   budget (the row says how many ran), so the default set stays minutes, not hours, on a slow machine.</summary>
public static class BenchHarness
{
    /// <summary>Direct-convolution multiply-adds above which the CPU reference is not run at all: at the reference's
    /// ~0.05-0.2 GMAC/s that is minutes for one call. No case of the default set reaches it on purpose; it guards
    /// cases added later.</summary>
    internal const long CpuSkipMacs = 5_000_000_000;

    /// <summary>One line per case of the set: name, op, channels, size, kernel (`convgl bench --list`).</summary>
    public static void List(bool quick, TextWriter output)
    {
        foreach (BenchCase c in BenchCases.All(quick)) output.WriteLine($"{c.Name,-18} {c.Op}, {c.Cin}->{c.Cout}, {c.H}x{c.W}, {c.Kernel}");
    }

    /// <summary>Runs the selected cases and prints the table to <paramref name="output"/> (stdout), MISMATCH / FAILED
    /// lines and the exit-1 reason to <paramref name="error"/> (stderr). Returns the exit code: 0, or 1 when a row
    /// failed or <see cref="BenchDevice.Gpu"/> has no GL. Bad settings throw <see cref="ConvGLException"/> before
    /// anything runs.</summary>
    public static int Run(BenchSettings settings, IBenchProgress? progress = null, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        progress ??= NoProgress.Instance;

        // 1. Every setting checked before anything runs.
        if (settings.Reps < 1) throw new ConvGLException($"bench: --reps must be at least 1, got {settings.Reps}");
        double budget = settings.BudgetSeconds;
        if (!(budget > 0)) throw new ConvGLException($"bench: --budget must be above 0 seconds, got {budget.ToString(CultureInfo.InvariantCulture)}");
        string? outPath = settings.Out;
        bool csv = false;
        if (outPath is not null)
        {
            csv = outPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);
            if (!csv && !outPath.EndsWith(".md", StringComparison.OrdinalIgnoreCase))
                throw new ConvGLException($"bench: --out '{outPath}' must end in .md (markdown table) or .csv");
            string dir = Path.GetDirectoryName(Path.GetFullPath(outPath)) ?? ".";
            if (!Directory.Exists(dir)) throw new ConvGLException($"bench: --out '{outPath}': directory '{dir}' does not exist");
        }
        IReadOnlyList<BenchCase> cases = BenchCases.Select(BenchCases.All(settings.Quick), settings.Cases);

        // 2. The machine, and the GL context every GPU case shares.
        BenchDevice device = settings.Device;
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
                    error.WriteLine($"convgl: bench: --device gpu: {e.Message}");
                    return 1;
                }
                gpuMissing = e.Message;
            }
        }
        try
        {
            return RunCases(cases, settings.Quick, settings.Reps, budget, device, gl, gpuMissing, outPath, csv, progress, output, error);
        }
        finally
        {
            gl?.Dispose();
        }
    }

    private sealed class NoProgress : IBenchProgress
    {
        public static readonly NoProgress Instance = new();

        public void Step(int index, int count, string step) { }

        public void Interrupt() { }

        public void Complete() { }
    }

    private static int RunCases(IReadOnlyList<BenchCase> cases, bool quick, int reps, double budget, BenchDevice device,
        GlContext? gl, string? gpuMissing, string? outPath, bool csv, IBenchProgress progress, TextWriter output, TextWriter error)
    {
        var machine = BenchMachine.Describe(gl, gpuMissing);
        var header = new StringBuilder();
        header.AppendLine($"# convgl bench{(quick ? " --quick" : "")}");
        header.AppendLine();
        foreach (string line in machine.Lines) header.AppendLine($"- {line}");
        header.AppendLine($"- settings: up to {reps} timed reps per row, budget {budget.ToString("0.###", CultureInfo.InvariantCulture)} s per row, device {device.ToString().ToLowerInvariant()}");
        header.AppendLine();
        header.AppendLine(BenchReport.MarkdownHeader);
        output.Write(header.ToString());

        var rows = new List<BenchRow>();
        var breakdowns = new List<string>();
        bool failed = false;
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
                        row = TimeGpu(c, input, gl, reps, budget, error);
                    }
                    catch (GpuException e)
                    {
                        // A shader that does not compile or a driver limit: this row fails, the others still run.
                        string first = e.Message.Split('\n')[0];
                        progress.Interrupt();
                        error.WriteLine($"FAILED {c.Name} gpu: {e.Message}");
                        row = BenchRow.Skipped(c, "gpu", $"FAILED: {first}") with { Failed = true };
                    }
                }
                caseRows.Add(row);
                if (gl is not null && row.HasTime && c.GpuBreakdown is not null) breakdowns.AddRange(c.GpuBreakdown(gl, input));
            }
            // The peer right after ConvGL's rows, in the same run: the ratio column is ConvGL's median over the peer's.
            BenchRow? peer = c.Peer is null ? null : TimePeer(c, input, reps, budget, error);
            progress.Interrupt();
            foreach (BenchRow row in caseRows)
            {
                BenchRow r = peer is { HasTime: true } && row.HasTime ? row with { VsPeer = row.MedianMs / peer.MedianMs } : row;
                failed |= r.Failed;
                rows.Add(r);
                output.WriteLine(BenchReport.MarkdownRow(r));
            }
            if (peer is not null)
            {
                failed |= peer.Failed;
                rows.Add(peer);
                output.WriteLine(BenchReport.MarkdownRow(peer));
            }
        }
        progress.Complete();
        string footer = BenchReport.Legend(BenchMachine.LoadAverage()) + (breakdowns.Count > 0 ? "\n" + string.Join("\n", breakdowns) + "\n" : "");
        output.WriteLine();
        output.Write(footer);

        if (failed)
        {
            error.WriteLine("convgl: bench: a GPU case failed or did not match the CPU reference (MISMATCH/FAILED rows above); the figures were not written");
            return 1;
        }
        if (outPath is not null)
        {
            string text = csv
                ? BenchReport.Csv(rows, machine)
                : header + string.Concat(rows.Select(r => BenchReport.MarkdownRow(r) + "\n")) + "\n" + footer;
            AtomicFile.WriteAllBytes(outPath, Encoding.UTF8.GetBytes(text));
            output.WriteLine($"wrote {outPath}");
        }
        return 0;
    }

    /// <summary>One warm-up call (JIT, caches), then timed calls until --reps or the budget is reached.</summary>
    private static BenchRow TimeCpu(BenchCase c, Tensor input, int reps, double budget)
    {
        if (c.CpuSkip is not null) return BenchRow.Skipped(c, "cpu", $"skipped: {c.CpuSkip}");
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
    private static BenchRow TimePeer(BenchCase c, Tensor input, int reps, double budget, TextWriter error)
    {
        try
        {
            return TimePeerCore(c, input, reps, budget, error);
        }
        catch (Exception e) when (MissingNative(e) is { } why)
        {
            // A machine without the peer's native library (a GPU machine given only ConvGL's own files): the GPU rows
            // still count; the row says why it has no peer.
            error.WriteLine($"convgl: bench: {c.Name}: no peer row, its native library is not there ({why})");
            return BenchRow.Skipped(c, "peer", $"skipped: the peer's native library is not there ({why})");
        }
    }

    /// <summary>The DllNotFoundException behind <paramref name="e"/> (directly or inside a type initializer), else null.</summary>
    internal static string? MissingNative(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is DllNotFoundException d)
            {
                // .NET's message goes on for lines with every path it probed; its first sentence names the library.
                string first = d.Message.Split('\n')[0].Trim();
                int end = first.IndexOf(". ", StringComparison.Ordinal);
                return end > 0 ? first[..end] : first.TrimEnd('.');
            }
        return null;
    }

    private static BenchRow TimePeerCore(BenchCase c, Tensor input, int reps, double budget, TextWriter error)
    {
        using BenchPeer peer = c.Peer!(input);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        peer.Run();
        Verification v = c.Verify?.Invoke(input, peer.Output()) ?? BenchVerify.Check(c, input, peer.Output());
        if (!v.Ok)
        {
            error.WriteLine($"MISMATCH {c.Name} {peer.Device}: {v.Message}");
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

    private static BenchRow TimeGpu(BenchCase c, Tensor input, GlContext context, int reps, double budget, TextWriter error)
    {
        GL gl = context.Gl;
        using GpuTensor gin = GpuTensor.From(context, input, $"bench {c.Name} input");
        using var gout = new GpuTensor(context, label: $"bench {c.Name} output");
        using GpuBenchOp op = c.Gpu!(context);
        // One span at a time, each waited for: every rep measured (a frame loop's ring would skip spans in flight).
        using GpuTimer? timer = context.IsSoftware ? null : new GpuTimer(context, ring: 1, label: $"bench {c.Name}");

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
            error.WriteLine($"MISMATCH {c.Name} gpu: {v.Message}");
            return BenchRow.Skipped(c, "gpu", $"MISMATCH: {v.Message}") with { Failed = true };
        }

        var times = new List<double>(reps);
        var walls = new List<double>(reps);
        double total = 0;
        while (times.Count < reps && total < budget * 1000)
        {
            long start = Stopwatch.GetTimestamp();
            timer?.Begin();
            op.Run(gin, gout);
            timer?.End();
            gl.Finish();
            double wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            double ms = timer is null ? wall
                : timer.Wait() ?? throw new GpuException($"bench {c.Name}: GL_TIME_ELAPSED measured nothing (a query was already open)");
            times.Add(ms);
            walls.Add(wall);
            total += wall;
        }
        string note = $"{c.GpuAlgo}: {op.Variant}; {v.Message}";
        if (timer is not null) note += $"; wall+glFinish median {BenchReport.Ms(BenchRow.Median(walls))} ms";
        return BenchRow.Timed(c, "gpu", times, reps, timer is null ? "wall+glFinish" : "GL_TIME_ELAPSED", note);
    }
}

