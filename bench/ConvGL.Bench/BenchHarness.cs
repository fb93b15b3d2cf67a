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
/// <param name="WarmGpuClocks">the 250 ms of back-to-back runs before each GPU row's timed reps: null (the default) on a
/// real GPU only; true also on a software rasteriser (tests run the GPU machine's code path in CI)</param>
public sealed record BenchSettings(bool Quick = false, int Reps = 10, double? Budget = null, BenchDevice Device = BenchDevice.Both,
    string? Cases = null, string? Out = null, bool? WarmGpuClocks = null, string? AbShaders = null,
    string? AbEnv = null)
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
/// - Peers (<see cref="BenchPeer"/>: OpenCV, ONNX Runtime on all cores): checked like a GPU row, then timed in turn
///   with ConvGL's GPU row of the same case, one rep each (<see cref="Alternate"/>): on a shared machine whose load
///   changes by the minute both rows see the same minutes, so the ratio column compares like with like.
/// - Reps: up to <see cref="BenchSettings.Reps"/> per row, but a row stops early once its timed reps have used the
///   budget (the row says how many ran; a GPU row and its peer stop together, with the same count), so the default
///   set stays minutes, not hours, on a slow machine.</summary>
public static class BenchHarness
{
    /// <summary>Direct-convolution multiply-adds above which the CPU reference is not run at all: at the reference's
    /// ~0.05-0.2 GMAC/s that is minutes for one call. No case of the default set reaches it on purpose; it guards
    /// cases added later.</summary>
    internal const long CpuSkipMacs = 5_000_000_000;

    /// <summary>One line per case of the set: name, op, channels, size, kernel (`convgl bench --list`).</summary>
    public static void List(bool quick, TextWriter output)
    {
        IReadOnlyList<BenchCase> cases = BenchCases.All(quick);
        // The names' column as wide as the longest name (conv1-s2-64to128-56 ran into its description at 18).
        int width = cases.Max(c => c.Name.Length) + 1;
        foreach (BenchCase c in cases) output.WriteLine($"{c.Name.PadRight(width)} {c.Op}, {c.Cin}->{c.Cout}, {c.H}x{c.W}, {c.Kernel}");
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
            // A folder, a device or a read-only file under that name was found only after the whole run (a review).
            try
            {
                ConvGL.Core.IO.AtomicFile.CheckWritable(outPath);
            }
            catch (ConvGLException e)
            {
                throw new ConvGLException($"bench: --out: {e.Message} (nothing was timed)", e);
            }
        }
        string? ab = settings.AbShaders;
        if (ab is not null)
        {
            if (settings.Device == BenchDevice.Cpu) throw new ConvGLException("bench: --ab-shaders times GPU rows: it does not go with --device cpu");
            if (!Directory.Exists(ab)) throw new ConvGLException($"bench: --ab-shaders '{ab}' is not a folder (give a copy of shaders/ with the other variant's files)");
            if (Directory.GetFiles(ab, "*.comp").Length == 0)
                throw new ConvGLException($"bench: --ab-shaders '{ab}' holds no .comp files (give a copy of shaders/, e.g. cp -r shaders /tmp/shaders-b, then edit it)");
            ab = Path.GetFullPath(ab);
        }
        (string Name, string Value)? abEnv = null;
        if (settings.AbEnv is { } assignment)
        {
            if (settings.Device == BenchDevice.Cpu) throw new ConvGLException("bench: --ab-env times GPU rows: it does not go with --device cpu");
            int eq = assignment.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ConvGLException($"bench: --ab-env '{assignment}' must be NAME=VALUE (an environment variable set while the gpu-b row is made and run)");
            abEnv = (assignment[..eq], assignment[(eq + 1)..]);
            if (abEnv.Value.Value.Length == 0)
                throw new ConvGLException($"bench: --ab-env '{assignment}' gives no value (an empty value would unset the variable); give NAME=VALUE");
            if (EnvSwitches.Problem(abEnv.Value.Name, abEnv.Value.Value) is { } problem) throw new ConvGLException($"bench: --ab-env: {problem}");
            // Switches read once per process (when the context is made) cannot differ between two rows of one run.
            if (OncePerProcess.TryGetValue(abEnv.Value.Name, out string? instead))
                throw new ConvGLException($"bench: --ab-env {abEnv.Value.Name} is read once per process, so both rows would run alike; {instead}");
        }
        IReadOnlyList<BenchCase> cases = BenchCases.Select(BenchCases.All(settings.Quick), settings.Cases);
        // A selection with nothing to time on --device gpu (CPU-only cases) printed an empty table and exited 0.
        if (settings.Device == BenchDevice.Gpu && cases.All(c => c.Gpu is null))
            throw new ConvGLException($"bench: --device gpu: {string.Join(", ", cases.Select(c => c.Name))} {(cases.Count == 1 ? "has" : "have")} no GPU row " +
                                      "(CPU only); run with --device cpu or both, or pick a case with a GPU row (convgl bench --list)");

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
                // On a real GPU each conv layer's plan is timed on first use (in the warm-up), as the window does.
                gl.TuneWhereItPays();
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
            return RunCases(cases, settings.Quick, settings.Reps, budget, device, gl, gpuMissing, outPath, csv, progress, output, error,
                settings.WarmGpuClocks ?? gl is { IsSoftware: false }, ab, abEnv);
        }
        finally
        {
            gl?.Dispose();
        }
    }

    /// <summary>Environment switches read when the process or its GL context starts, not when a plan is made, and what
    /// to do instead of --ab-env.</summary>
    private static readonly Dictionary<string, string> OncePerProcess = new(StringComparer.Ordinal)
    {
        ["CONVGL_SHADERS"] = "use --ab-shaders DIR",
        ["CONVGL_TUNE"] = "compare two runs, one with it set",
        ["CONVGL_PIN_THREADS"] = "compare two runs, one with it set",
        ["CONVGL_BUILD_AHEAD"] = "compare two runs, one with it set",
    };

    private sealed class NoProgress : IBenchProgress
    {
        public static readonly NoProgress Instance = new();

        public void Step(int index, int count, string step) { }

        public void Interrupt() { }

        public void Complete() { }
    }

    private static int RunCases(IReadOnlyList<BenchCase> cases, bool quick, int reps, double budget, BenchDevice device,
        GlContext? gl, string? gpuMissing, string? outPath, bool csv, IBenchProgress progress, TextWriter output, TextWriter error,
        bool warmClocks, string? ab, (string Name, string Value)? abEnv)
    {
        var machine = BenchMachine.Describe(gl, gpuMissing);
        var header = new StringBuilder();
        header.AppendLine($"# convgl bench{(quick ? " --quick" : "")}");
        header.AppendLine();
        foreach (string line in machine.Lines) header.AppendLine($"- {line}");
        header.AppendLine($"- settings: up to {reps} timed reps per row, budget {budget.ToString("0.###", CultureInfo.InvariantCulture)} s per row, device {device.ToString().ToLowerInvariant()}" +
            (quick ? "; --quick: small sizes (the HxW column), the case names keep the full run's (conv3-16to16-1080 runs at 36x64)" : "") +
            (ab is not null ? $"; --ab-shaders: each GPU row also built from {ab} (row gpu-b), timed in turn with it, rep by rep" : "") +
            (abEnv is { } v ? $"; --ab-env: each GPU row also built and run with {v.Name}={v.Value} (row gpu-b), timed in turn with it, rep by rep" : ""));
        header.AppendLine();
        header.AppendLine(BenchReport.MarkdownHeader);
        output.Write(header.ToString());

        var rows = new List<BenchRow>();
        var breakdowns = new List<string>();
        using ShaderLibrary? other = ab is not null && gl is not null ? gl.CreateShaderLibrary(ab) : null;
        bool failed = false;
        for (int ci = 0; ci < cases.Count; ci++)
        {
            BenchCase c = cases[ci];
            progress.Step(ci, cases.Count, c.Name);
            Tensor input = c.MakeInput();
            var caseRows = new List<BenchRow>();
            if (device != BenchDevice.Gpu) caseRows.Add(TimeCpu(c, input, reps, budget));
            // ConvGL's GPU row and the peer are prepared (warmed up, checked) first, then timed rep by rep in turn, so
            // both see the same minutes of a shared machine's load and the ratio column compares like with like.
            var timed = new List<TimedRow>();
            BenchRow? gpuRow = null, gpuB = null;
            bool preparingB = false;
            if (device != BenchDevice.Cpu && c.Gpu is not null)
            {
                if (gl is null)
                {
                    gpuRow = BenchRow.Skipped(c, "gpu", "GPU unavailable (see the gl line above)");
                }
                else
                {
                    try
                    {
                        TimedRow? t = PrepareGpu(c, input, gl, budget, warmClocks, error, out gpuRow);
                        if (t is not null) timed.Add(t);
                        if (t is not null && (other is not null || abEnv is not null))
                        {
                            preparingB = true;
                            TimedRow? b = PrepareGpu(c, input, gl, budget, warmClocks, error, out gpuB, new BVariant(other, abEnv));
                            if (b is not null) timed.Add(b);
                        }
                    }
                    catch (GpuException e)
                    {
                        // A shader that does not compile or a driver limit: this row fails, the others still run. (A review:
                        // the gpu-b row's failure was put on the gpu row, which the timing then overwrote: no row, exit 0.)
                        string first = e.Message.Split('\n')[0], which = preparingB ? GpuRow.BDevice : "gpu";
                        progress.Interrupt();
                        error.WriteLine($"FAILED {c.Name} {which}: {ErrorText.JoinLines(e.Message)}"); // one line, the compiler's log joined with " | " as apply does
                        BenchRow failedRow = BenchRow.Skipped(c, which, $"FAILED: {first}") with { Failed = true };
                        if (preparingB) gpuB = failedRow;
                        else gpuRow = failedRow;
                    }
                }
            }
            BenchRow? peer = null;
            if (c.Peer is not null)
            {
                TimedRow? t = PreparePeer(c, input, error, out peer);
                if (t is not null) timed.Add(t);
            }
            // The corner crops the reference can afford miss a kernel wrong away from them (a review: a depthwise shader
            // off by 50% on its middle third of rows, and an FFT wrong on half its tiles, were timed and "verified"). Two
            // implementations checked on the corners must also agree on every value: the peer's whole output is there.
            // The GPU row lets go of its copy either way: a full map (132 MB for conv3-16to16-1080) is not held through the reps.
            foreach (GpuRow g in timed.OfType<GpuRow>().ToList())
            {
                if (c.Verify is null && g.TakeChecked() is { } mine && timed.OfType<PeerRow>().FirstOrDefault() is { } p)
                {
                    Verification whole = BenchVerify.Agree(mine, p.Output, p.Device);
                    if (whole.Ok) g.AlsoVerified(whole.Message);
                    else
                    {
                        progress.Interrupt();
                        error.WriteLine($"MISMATCH {c.Name} {g.Device}: {whole.Message}");
                        BenchRow failedRow = BenchRow.Skipped(c, g.Device, $"MISMATCH: {whole.Message}") with { Failed = true };
                        if (g.IsB) gpuB = failedRow;
                        else gpuRow = failedRow;
                        timed.Remove(g);
                        g.Dispose();
                    }
                }
            }
            try
            {
                List<double>[] times = Alternate(timed.Select(t => (Func<double>)t.Once).ToArray(), reps, budget * 1000);
                int a = timed.FindIndex(t => t is GpuRow { IsB: false });
                for (int i = 0; i < timed.Count; i++)
                {
                    BenchRow row = timed[i].Row(times[i], reps);
                    if (timed[i].IsPeer) peer = row;
                    else if (timed[i] is GpuRow { IsB: true })
                        gpuB = a < 0 ? row : row with { Note = row.Note + "; " + AgainstA(times[i], times[a]) };
                    else gpuRow = row;
                }
            }
            catch (RowFailedException e)
            {
                // A timer query that measured nothing: that GPU row fails; the rows timed in turn with it have no figures.
                progress.Interrupt();
                error.WriteLine($"FAILED {c.Name} {e.Device}: {ErrorText.JoinLines(e.InnerException!.Message)}");
                BenchRow failedRow = BenchRow.Skipped(c, e.Device, $"FAILED: {e.InnerException.Message.Split('\n')[0]}") with { Failed = true };
                const string notTimed = "not timed: a GPU row timed in turn with it failed";
                if (e.Device == GpuRow.BDevice)
                {
                    gpuB = failedRow;
                    gpuRow = BenchRow.Skipped(c, "gpu", notTimed);
                }
                else
                {
                    gpuRow = failedRow;
                    if (gpuB is null && timed.Any(t => t is GpuRow { IsB: true })) gpuB = BenchRow.Skipped(c, GpuRow.BDevice, notTimed);
                }
                if (peer is null && c.Peer is not null) peer = BenchRow.Skipped(c, "peer", notTimed);
            }
            finally
            {
                foreach (TimedRow t in timed) t.Dispose();
            }
            if (gpuRow is not null)
            {
                caseRows.Add(gpuRow);
                if (gl is not null && gpuRow.HasTime && c.GpuBreakdown is not null) breakdowns.AddRange(c.GpuBreakdown(gl, input));
            }
            if (gpuB is not null) caseRows.Add(gpuB);
            progress.Interrupt();
            foreach (BenchRow row in caseRows)
            {
                BenchRow r = (peer is { HasTime: true } && row.HasTime ? row with { VsPeer = row.PeerComparableMs / peer.MedianMs } : row).MarkedIfNoisy();
                failed |= r.Failed;
                rows.Add(r);
                output.WriteLine(BenchReport.MarkdownRow(r));
            }
            if (peer is not null)
            {
                peer = peer.MarkedIfNoisy();
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

    /// <summary>Timed calls of every row in turn (row 0, row 1, row 0, ...) until each has <paramref name="reps"/> or one
    /// of them has used <paramref name="budgetMs"/>: every row gets the same number of reps, taken in the same minutes.
    /// Each function makes one timed call and returns its milliseconds.</summary>
    internal static List<double>[] Alternate(IReadOnlyList<Func<double>> rows, int reps, double budgetMs)
    {
        var times = rows.Select(_ => new List<double>(reps)).ToArray();
        var used = new double[rows.Count];
        for (int rep = 0; rows.Count > 0 && rep < reps && used.All(u => u < budgetMs); rep++)
            for (int i = 0; i < rows.Count; i++)
            {
                double ms = rows[i]();
                times[i].Add(ms);
                used[i] += ms;
            }
        return times;
    }

    /// <summary>The B row's reps over the A row's, pair by pair (rep k of each was timed back to back): the median, the
    /// minimum and the maximum of the ratios. A drift of the machine's speed moves both reps of a pair, so the ratio holds
    /// where the two medians taken minutes apart would not.</summary>
    internal static string AgainstA(IReadOnlyList<double> b, IReadOnlyList<double> a)
    {
        int n = Math.Min(a.Count, b.Count);
        if (n == 0) return "no reps to compare with the gpu row";
        var ratios = new List<double>(n);
        for (int i = 0; i < n; i++) ratios.Add(b[i] / a[i]);
        return $"rep by rep against the gpu row: median {BenchRow.Median(ratios):0.000}x (min {ratios.Min():0.000}x, max {ratios.Max():0.000}x, {n} pairs)";
    }

    /// <summary>A row prepared for timing (its objects made, warmed up and checked): <see cref="Once"/> is one timed call,
    /// <see cref="Row"/> the table row from the calls' times.</summary>
    private abstract class TimedRow : IDisposable
    {
        public abstract bool IsPeer { get; }

        public abstract double Once();

        public abstract BenchRow Row(IReadOnlyList<double> times, int reps);

        public abstract void Dispose();
    }

    /// <summary>The CPU peer (OpenCV or ONNX Runtime, all cores): prepared once, checked against the reference like a GPU
    /// row (a peer computing something else would make the ratio meaningless) after one warm-up call. Null with
    /// <paramref name="row"/> set when there is nothing to time (a mismatch, a missing native library).</summary>
    private static TimedRow? PreparePeer(BenchCase c, Tensor input, TextWriter error, out BenchRow? row)
    {
        row = null;
        BenchPeer? peer = null;
        try
        {
            peer = c.Peer!(input);
            peer.Tune();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            peer.Run();
            Verification v = c.Verify?.Invoke(input, peer.Output()) ?? BenchVerify.Check(c, input, peer.Output());
            if (!v.Ok)
            {
                error.WriteLine($"MISMATCH {c.Name} {peer.Device}: {v.Message}");
                row = BenchRow.Skipped(c, peer.Device, $"MISMATCH: {v.Message}") with { Failed = true };
                peer.Dispose();
                return null;
            }
            return new PeerRow(c, peer, v.Message);
        }
        catch (Exception e) when (MissingNative(e) is { } why)
        {
            // A machine without the peer's native library (a GPU machine given only ConvGL's own files): the GPU rows
            // still count; the row says why it has no peer.
            peer?.Dispose();
            error.WriteLine($"convgl: bench: {c.Name}: no peer row, its native library is not there ({why})");
            row = BenchRow.Skipped(c, "peer", $"skipped: the peer's native library is not there ({why})");
            return null;
        }
        catch
        {
            peer?.Dispose();
            throw;
        }
    }

    private sealed class PeerRow(BenchCase c, BenchPeer peer, string verified) : TimedRow
    {
        public override bool IsPeer => true;

        /// <summary>The peer's whole output (checked against the reference on the corners, as the GPU's).</summary>
        public Tensor Output => peer.Output();

        public string Device => peer.Device;

        public override double Once()
        {
            long start = Stopwatch.GetTimestamp();
            peer.Run();
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        public override BenchRow Row(IReadOnlyList<double> times, int reps) =>
            BenchRow.Timed(c, peer.Device, times, reps, "cpu wall", $"{peer.Algo}; {verified}");

        public override void Dispose() => peer.Dispose();
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

    /// <summary>ConvGL's GPU row: the op and its input/output tensors made once and reused by every rep, two warm-up runs
    /// (the first compiles the shader), then the check against the reference. Null with <paramref name="row"/> set on a
    /// mismatch.</summary>
    private static TimedRow? PrepareGpu(BenchCase c, Tensor input, GlContext context, double budget, bool warmClocks, TextWriter error,
        out BenchRow? row, BVariant? b = null)
    {
        row = null;
        var gpu = new GpuRow(c, input, context, b);
        try
        {
            Verification v = gpu.WarmUpAndCheck(input, budget, warmClocks);
            if (v.Ok) return gpu;
            error.WriteLine($"MISMATCH {c.Name} {gpu.Device}: {v.Message}");
            row = BenchRow.Skipped(c, gpu.Device, $"MISMATCH: {v.Message}") with { Failed = true };
        }
        catch
        {
            gpu.Dispose();
            throw;
        }
        gpu.Dispose();
        return null;
    }

    /// <summary>A GPU row's failure while the rows are timed in turn, naming the row (gpu or gpu-b).</summary>
    private sealed class RowFailedException(string device, GpuException inner) : Exception(inner.Message, inner)
    {
        public string Device { get; } = device;
    }

    /// <summary>What the gpu-b row changes: the shader library serving the context, an environment variable (a switch a
    /// plan reads when it is made), or both.</summary>
    private sealed record BVariant(ShaderLibrary? Shaders, (string Name, string Value)? Env)
    {
        public string Describe() => string.Join(", ", new[]
        {
            Shaders is null ? null : $"built from {Shaders.Root}",
            Env is { } e ? $"with {e.Name}={e.Value}" : null,
        }.Where(x => x is not null));
    }

    private sealed class GpuRow : TimedRow
    {
        private readonly BenchCase _case;
        private readonly GlContext _context;
        private readonly GpuTensor _in, _out;
        private readonly GpuBenchOp _op;
        private readonly GpuTimer? _timer;
        private readonly List<double> _walls = [];
        private string _verified = "";
        private bool _warmedClocks;
        // The --ab-shaders library and --ab-env variable this row's programs and plans are made with (row gpu-b), else null.
        private readonly BVariant? _b;

        /// <summary>The device column of a row built from the --ab-shaders folder.</summary>
        public const string BDevice = "gpu-b";

        public bool IsB => _b is not null;

        public string Device => IsB ? BDevice : "gpu";

        // Every call that may build or look up a program runs with this row's library serving the context.
        private IDisposable? Serve() => _b is null ? null : new Served(_context, _b);

        private sealed class Served : IDisposable
        {
            private readonly IDisposable? _shaders;
            private readonly (string Name, string? Before)? _env;

            public Served(GlContext context, BVariant b)
            {
                if (b.Env is { } e)
                {
                    _env = (e.Name, Environment.GetEnvironmentVariable(e.Name));
                    Environment.SetEnvironmentVariable(e.Name, e.Value);
                }
                _shaders = b.Shaders is null ? null : context.UseShaders(b.Shaders);
            }

            public void Dispose()
            {
                _shaders?.Dispose();
                if (_env is { } e) Environment.SetEnvironmentVariable(e.Name, e.Before);
            }
        }

        /// <summary>Back-to-back runs before a real GPU's timed reps (<see cref="WarmClocks"/>), in ms of wall time.</summary>
        private const double ClockWarmMs = 250;
        private const int MaxClockWarmRuns = 20000;

        public GpuRow(BenchCase c, Tensor input, GlContext context, BVariant? b = null)
        {
            (_case, _context, _b) = (c, context, b);
            _in = GpuTensor.From(context, input, $"bench {c.Name} input");
            _out = new GpuTensor(context, label: $"bench {c.Name} output");
            try
            {
                using (Serve()) _op = c.Gpu!(context);
                // One span at a time, each waited for: every rep measured (a frame loop's ring would skip spans in flight).
                _timer = context.IsSoftware ? null : new GpuTimer(context, ring: 1, label: $"bench {c.Name}");
            }
            catch
            {
                _op?.Dispose();
                _out.Dispose();
                _in.Dispose();
                throw;
            }
        }

        public override bool IsPeer => false;

        // The output the check read (the whole map), until the comparison with the peer's takes it.
        private Tensor? _checked;

        /// <summary>The output the check read, once: later calls get null.</summary>
        public Tensor? TakeChecked()
        {
            Tensor? t = _checked;
            _checked = null;
            return t;
        }

        /// <summary>Adds to the row's note what else vouched for the output.</summary>
        public void AlsoVerified(string message) => _verified += "; " + message;

        /// <summary>Warm-up: the first run compiles and links the shader; the second is a plain run (skipped on a software
        /// rasteriser whose first run already took the row's budget: the rest will be slow). Then the check before timing:
        /// a broken kernel can be very fast.</summary>
        public Verification WarmUpAndCheck(Tensor input, double budget, bool warmClocks)
        {
            using IDisposable? serving = Serve();
            GL gl = _context.Gl;
            long warmStart = Stopwatch.GetTimestamp();
            _op.Run(_in, _out);
            gl.Finish();
            if (!_context.IsSoftware || Stopwatch.GetElapsedTime(warmStart).TotalMilliseconds <= budget * 1000)
            {
                _op.Run(_in, _out);
                gl.Finish();
            }
            Tensor output = _out.Download();
            Verification v = _case.Verify?.Invoke(input, output) ?? BenchVerify.Check(_case, input, output);
            _verified = v.Message;
            _checked = output;
            if (warmClocks && v.Ok) WarmClocks();
            return v;
        }

        /// <summary>On a real GPU, runs back to back for <see cref="ClockWarmMs"/> before the timed reps (a finish every 8
        /// runs keeps the queue short): a GPU raises its clocks under sustained load and lowers them when idle, as during
        /// the check above, and timing a few microseconds of work at a time at whatever clock the card sits at reads the
        /// clock, not the program. The first H200 run saw the same programs up to 5.7x apart between two processes, a ratio
        /// like a card's boost and idle clocks (bench/README.md, "A real GPU"; clocks.csv of the next run will say).</summary>
        private void WarmClocks()
        {
            GL gl = _context.Gl;
            long start = Stopwatch.GetTimestamp();
            for (int n = 1; Stopwatch.GetElapsedTime(start).TotalMilliseconds < ClockWarmMs && n <= MaxClockWarmRuns; n++)
            {
                _op.Run(_in, _out);
                if (n % 8 == 0) gl.Finish();
            }
            gl.Finish();
            _warmedClocks = true;
        }

        public override double Once()
        {
            try
            {
                using IDisposable? serving = Serve();
                long start = Stopwatch.GetTimestamp();
                _timer?.Begin();
                _op.Run(_in, _out);
                _timer?.End();
                _context.Gl.Finish();
                double wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                _walls.Add(wall);
                return _timer is null ? wall
                    : _timer.Wait() ?? throw new GpuException($"bench {_case.Name}: GL_TIME_ELAPSED measured nothing (a query was already open)");
            }
            catch (GpuException e)
            {
                throw new RowFailedException(Device, e);
            }
        }

        public override BenchRow Row(IReadOnlyList<double> times, int reps)
        {
            string note = $"{_case.GpuAlgo}: {_op.Variant}; {_verified}" + (_warmedClocks ? $"; after {ClockWarmMs:0} ms of back-to-back runs (clocks up)" : "");
            if (_b is not null) note = _b.Describe() + "; " + note;
            if (_timer is null || _walls.Count == 0) return BenchRow.Timed(_case, Device, times, reps, "wall+glFinish", note);
            double wall = BenchRow.Median(_walls);
            note += $"; wall+glFinish median {BenchReport.Ms(wall)} ms (the ratio to the peer's wall clock uses it)";
            return BenchRow.Timed(_case, Device, times, reps, "GL_TIME_ELAPSED", note) with { WallMedianMs = wall };
        }

        public override void Dispose()
        {
            using IDisposable? serving = Serve();
            _timer?.Dispose();
            _op.Dispose();
            _out.Dispose();
            _in.Dispose();
        }
    }
}
