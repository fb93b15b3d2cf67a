using ConvGL.Core;
using ConvGL.Core.IO;

namespace ConvGL.App.Tests;

/// <summary>features and apply check the memory their maps will take against what the machine gives the process, before
/// they run: ConvGL's fixed caps allow 4 GiB of maps, which a smaller machine cannot hold while writing them (the fourth
/// audit: a (1, 1, 100M) array took 9.8 GB). A 256 MiB GC heap limit (DOTNET_GCHeapHardLimit, which .NET reports as the
/// machine's memory) stands in for the small machine.</summary>
public sealed class MemoryBudgetTests : IDisposable
{
    private static readonly Dictionary<string, string> SmallMachine = new() { ["DOTNET_GCHeapHardLimit"] = "0x10000000" };

    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-memory-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private string Array(string name, int h, int w)
    {
        var rng = new Random(h * 31 + w);
        Npy.Write(P(name), new Tensor([h, w], Enumerable.Range(0, h * w).Select(_ => (float)rng.NextDouble()).ToArray()));
        return name;
    }

    [Fact]
    public void Features_MapsOverTheMachinesMemory_AreRefusedBeforeRunning_NamingASizeThatFits()
    {
        // edges on 2048x2048: the input, 4 conv maps and 2 magnitudes, 7 x 4,194,304 = 29,360,128 values, 16 bytes each.
        string input = Array("big.npy", 2048, 2048);
        ApplyProcess.Result r = ApplyProcess.ConvglWith(SmallMachine, _dir, "features", input, "--stack", "edges", "--out", "maps");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("convgl: features: edges on a 1x2048x2048 input (29360128 map values) needs about 448 MiB of memory, over 80% of the 256 MiB " +
                          "this machine gives the process; --size ", r.Stderr);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(Directory.Exists(P("maps")));

        // The size it names runs on the same small machine, and the same input runs where the memory is.
        string size = System.Text.RegularExpressions.Regex.Match(r.Stderr, @"--size (\d+x\d+) fits").Groups[1].Value;
        ApplyProcess.Result fits = ApplyProcess.ConvglWith(SmallMachine, _dir, "features", input, "--stack", "edges", "--out", "maps", "--size", size);
        Assert.True(fits.ExitCode == 0, fits.ToString());
        int side = int.Parse(size.Split('x')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(side, 1200, 1450);
        Assert.Equal([4, side, side], Npy.Read(P("maps/00-conv.npy")).Shape);
    }

    [Fact]
    public void Apply_InputAndOutputOverTheMachinesMemory_AreRefused_AndASmallerOneRuns()
    {
        string big = Array("big.npy", 4096, 4096), small = Array("small.npy", 1024, 1024);
        ApplyProcess.Result r = ApplyProcess.ConvglWith(SmallMachine, _dir, "apply", big, "out.npy", "--kernel", "box:3");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("convgl: apply: 'big.npy' ((1, 4096, 4096), 33554432 input and output values) needs about 384 MiB of memory, over 80% of the 256 MiB", r.Stderr);
        Assert.Contains("scale the input down to about ", r.Stderr);
        Assert.False(File.Exists(P("out.npy")));

        ApplyProcess.Result ok = ApplyProcess.ConvglWith(SmallMachine, _dir, "apply", small, "out.npy", "--kernel", "box:3");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Equal([1, 1024, 1024], Npy.Read(P("out.npy")).Shape);
    }

    /// <summary>The CPU FFT's frames count too: gaussian:1025 by FFT on 2048x2048 takes 4096x4096 frames of complex doubles
    /// (a 1025-tall kernel's bands would be 8 of its heights, more than the whole picture: 805 MB of spectra beside the
    /// bordered copy and 100 MB of input and output), refused under a 1 GiB limit when asked for, while a 3x3 kernel on
    /// the same picture runs there. The auto choice of the FFT runs the next best
    /// algorithm instead, saying so (gaussian:201 on 800x800: 2048x2048 frames, 200 MiB, under 256 MiB: separable).</summary>
    [Fact]
    public void Apply_AnFftsFrames_CountAgainstTheMemory()
    {
        var oneGiB = new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x40000000" };
        string input = Array("pic.npy", 2048, 2048);
        ApplyProcess.Result r = ApplyProcess.ConvglWith(oneGiB, _dir, "apply", input, "out.npy", "--kernel", "gaussian:1025", "--algorithm", "fft");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("convgl: apply: 'pic.npy' ((1, 2048, 2048), 8388608 input and output values) needs about 936 MiB of memory, over 80% of the 1 GiB", r.Stderr);
        Assert.Contains("; the FFT's frames take 840 MiB of it: use a smaller kernel or picture (nothing was written)", r.Stderr);
        Assert.False(File.Exists(P("out.npy")));
        ApplyProcess.Result ok = ApplyProcess.ConvglWith(oneGiB, _dir, "apply", input, "out.npy", "--kernel", "box:3");
        Assert.True(ok.ExitCode == 0, ok.ToString());

        string mid = Array("mid.npy", 800, 800);
        ApplyProcess.Result auto = ApplyProcess.ConvglWith(SmallMachine, _dir, "apply", mid, "g.npy", "--kernel", "gaussian:201", "--verbose");
        Assert.True(auto.ExitCode == 0, auto.ToString());
        string[] lines = auto.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("convgl apply: ", StringComparison.Ordinal)).ToArray();
        Assert.StartsWith("algorithm: fft (201x201 kernel, 2048x2048 frame), 1x800x800 on the cpu", lines[0]);
        Assert.StartsWith("convgl: apply: the FFT's frames would take 199.6 MiB, more than this machine gives: running separable instead (the auto choice, ~", lines[1]);
        Assert.Equal([1, 800, 800], Npy.Read(P("g.npy")).Shape);
    }

    [Fact]
    public void FittingScale_BringsTheNeedUnderTheBudget()
    {
        long machine = MemoryBudget.Machine;
        Assert.True(machine > 1L << 28, $"this machine reports {machine} bytes");
        foreach (long need in new[] { machine, 3 * machine, 40 * machine })
        {
            double s = MemoryBudget.FittingScale(need);
            Assert.True(need * s * s <= machine * MemoryBudget.Share, $"need {need}: scale {s}");
            Assert.True(need * s * s > machine * MemoryBudget.Share * 0.9, $"need {need}: scale {s} shrinks more than it must");
        }
        Assert.Equal(1.0, MemoryBudget.FittingScale(1000));
    }
    /// <summary>An out-of-memory past every check (a process limit below what .NET reports) is one line, exit 1, whether
    /// it comes bare, from a worker (an AggregateException) or wrapped; the audit saw "internal error: AggregateException".</summary>
    [Fact]
    public void OutOfMemory_IsRecognisedBareWrappedAndFromWorkers()
    {
        Assert.True(Program.IsOutOfMemory(new OutOfMemoryException()));
        Assert.True(Program.IsOutOfMemory(new AggregateException(new InvalidOperationException("x"), new OutOfMemoryException())));
        Assert.True(Program.IsOutOfMemory(new InvalidOperationException("wrapped", new AggregateException(new OutOfMemoryException()))));
        Assert.False(Program.IsOutOfMemory(new AggregateException(new InvalidOperationException("x"))));
        Assert.False(Program.IsOutOfMemory(new InsufficientExecutionStackException()));
    }
}
