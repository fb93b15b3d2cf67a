using System.CommandLine;
using ConvGL.App.Cli;
using ConvGL.Bench;
using ConvGL.Core;

namespace ConvGL.App.Commands;

/// <summary>`convgl bench`: the command line of the bench harness (bench/ConvGL.Bench: the cases, the timing, the
/// peers, the machine line and the table live there). This verb parses the options, draws the progress on stderr and
/// calls <see cref="BenchHarness"/>.</summary>
internal static class BenchCommand
{
    private static readonly Option<bool> Quick = Opt.Flag("--quick", "small sizes, the same cases and names but resnet18-224 (under 30 s on llvmpipe with 2 cores)");
    private static readonly Option<int> Reps = Opt.Parsed("--reps", "timed reps per row after the warm-up (at most 100000); the median and the minimum are shown",
        ParseReps, 10, "N");

    /// <summary>At least 1, at most 100000: each row keeps its reps' times (the budget bounds the run anyway).</summary>
    private static int ParseReps(string s)
    {
        int n = Parsers.Int(s, 1);
        return n <= 100_000 ? n : throw new ConvGLException($"--reps {n} is over 100000 (each row keeps its reps' times; the budget bounds the run anyway)");
    }
    private static readonly Option<double?> Budget = Opt.Parsed<double?>("--budget",
        "seconds of timed reps per row (default 3, --quick 0.4): a row stops early when it has used them, and a CPU case " +
        "whose one call takes longer is run once", PositiveSeconds, null, "S");
    private static readonly Option<BenchDevice> DeviceOption = Opt.Choice("--device", "which rows run (default both)", BenchDevice.Both,
        new Dictionary<string, BenchDevice> { ["cpu"] = BenchDevice.Cpu, ["gpu"] = BenchDevice.Gpu, ["both"] = BenchDevice.Both });
    private static readonly Option<string?> Case = Opt.Text("--case", "only the cases whose name starts with one of the given names (see --list)", "NAME[,NAME...]");
    private static readonly Option<string?> Out = Opt.Text("--out",
        "also write the results, atomically: .md (the same table) or .csv (one row per line, with the machine in every row)", "FILE.md|FILE.csv");
    private static readonly Option<bool> List = Opt.Flag("--list", "print the case names and exit");
    private static readonly Option<string?> AbShaders = Opt.Text("--ab-shaders",
        "also time every GPU row with its programs built from this copy of shaders/ (row gpu-b), rep by rep in turn with the " +
        "row from the tree's shaders: a shader change measured in one process, with the ratio pair by pair", "DIR");
    private static readonly Option<string?> AbEnv = Opt.Text("--ab-env",
        "also time every GPU row made and run with this environment variable set (row gpu-b; a switch a plan reads), rep by " +
        "rep in turn with the row made without it", "NAME=VALUE");

    public static Command Create() => CliRoot.Define("bench",
        "Times the CPU reference ops and the GPU compute shaders on a fixed set of cases, with OpenCV or ONNX Runtime as " +
        "the peer in the same run, and prints a markdown table headed by the machine (CPU model, cores, GL renderer and " +
        "version). Every GPU case is first checked against the CPU reference on two corner crops, and every value of its " +
        "output against the peer's; a mismatch is printed and the command exits 1. GPU figures: GL_TIME_ELAPSED on a real GPU; wall clock around the dispatches + glFinish " +
        "on a software rasteriser (llvmpipe), where the queries read ~0. Read bench/README.md before quoting a figure.",
        typeof(BenchCommand), Run);

    private static int Run(ParseResult args)
    {
        bool quick = args.GetValue(Quick);
        if (args.GetValue(List))
        {
            BenchHarness.List(quick, Console.Out);
            return 0;
        }
        var settings = new BenchSettings(quick, args.GetValue(Reps), args.GetValue(Budget), args.GetValue(DeviceOption), args.GetValue(Case), args.GetValue(Out),
            AbShaders: args.GetValue(AbShaders), AbEnv: args.GetValue(AbEnv));
        using var progress = new Progress("convgl bench");
        return BenchHarness.Run(settings, new ProgressOnStderr(progress));
    }

    private static double? PositiveSeconds(string s)
    {
        double v = Parsers.Number(s);
        return v > 0 ? v : throw new ConvGLException($"must be above 0 seconds, got {s}");
    }

    private sealed class ProgressOnStderr(Progress progress) : IBenchProgress
    {
        public void Step(int index, int count, string step) => progress.Step(index, count, step);

        public void Interrupt() => progress.Interrupt();

        public void Complete() => progress.Complete();
    }
}
