using System.Globalization;
using System.Text;

namespace ConvGL.Bench;

/// <summary>One line of the table.</summary>
internal sealed record BenchRow(BenchCase Case, string Device, int Reps, int RequestedReps, double MedianMs, double MinMs, string Timing, string Note)
{
    /// <summary>A GPU row that did not match the CPU reference or threw: the run exits 1 and writes no --out file.</summary>
    public bool Failed { get; init; }
    public bool HasTime => Reps > 0;
    /// <summary>This row's median over the same case's peer median, from the same run (NaN: no peer figure).</summary>
    public double VsPeer { get; init; } = double.NaN;

    /// <summary>A GPU row timed by GL_TIME_ELAPSED: its wall+glFinish median, the clock the CPU peers are timed by, which
    /// the ratio then uses (a review: GPU execution time over a peer's wall clock left the submission out). NaN otherwise.</summary>
    public double WallMedianMs { get; init; } = double.NaN;

    /// <summary>The median the ratio to a peer is taken from: the wall clock where both were timed by it.</summary>
    public double PeerComparableMs => double.IsNaN(WallMedianMs) ? MedianMs : WallMedianMs;

    /// <summary>The median over the minimum past which a row is called noisy in its note (the review saw a peer's median
    /// 12x its minimum in 10 reps: its ratio could flip between runs).</summary>
    public const double NoisySpread = 2.0;

    /// <summary>This row with "noisy" added to its note where its median is more than <see cref="NoisySpread"/> x its minimum.</summary>
    public BenchRow MarkedIfNoisy() =>
        HasTime && Reps > 1 && MinMs > 0 && MedianMs > NoisySpread * MinMs
            ? this with { Note = Note + $"; NOISY: median {MedianMs / MinMs:0.#}x the minimum (the machine was busy in these reps: rerun with more --reps on a quieter machine before quoting the ratio)" }
            : this;

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
        How to read this: median and min over the timed reps, after warm-up (CPU 1 call, GPU 2 runs: the first compiles the shader;
        on a real GPU then 250 ms of back-to-back runs, so its clocks are up).
        CPU = the single-threaded reference in ConvGL.Core (double accumulation, written to be read, not to be fast).
        GPU = dispatches only, on tensors already on the GPU (no upload or read-back); GL_TIME_ELAPSED is GPU execution time,
        wall+glFinish is submit-to-completion on the CPU clock. GMAC/s counts the direct convolution's multiply-adds
        (C_out*H_out*W_out*C_in/groups*kH*kW) for every algorithm, so separable and FFT rows show an effective rate.
        Mpix/s = input H*W pixels per second (channels not counted). A case's GPU row and its peer are timed in turn, one rep
        each (the same minutes of load for both); vs peer = the row's median over the peer's (a CPU row's too; a GL_TIME_ELAPSED
        row's wall+glFinish median, the peer's own clock). NOISY in a note: that row's median is over 2x its minimum; rerun before
        quoting its ratio. Load average at end: {loadAtEnd}.

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
