using ConvGL.App.Cli;
using ConvGL.App.Commands;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;

namespace ConvGL.App.Tests;

/// <summary>`convgl apply --algorithm auto|direct|separable|fft [--verbose]`: every algorithm, on either device, gives
/// the reference's result; separable asked of a kernel that is not rank 1 is bad input; --verbose names the choice.</summary>
public sealed class ApplyAlgorithmTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-apply-algorithm-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    private string P(string name) => Path.Combine(_dir, name);

    private Tensor Input()
    {
        var rng = new Random(11_0201);
        var t = Tensor.Chw(3, 29, 37);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (float)rng.NextDouble();
        Npy.Write(P("in.npy"), t);
        return t;
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public void EveryAlgorithm_EqualsTheReference(string device)
    {
        Tensor input = Input();
        foreach (string kernel in new[] { "gaussian:7,1.5", "gabor:theta=30" })
        {
            Tensor k = KernelLibrary.Get(kernel);
            var o = new ConvOptions { Border = Border.Symmetric, Mode = ConvMode.Convolve, StrideY = 2, StrideX = 2 };
            Tensor expected = Conv2D.Filter(input, k, o);
            double absSum = k.Data.Sum(v => Math.Abs((double)v));
            foreach (string algorithm in new[] { "auto", "direct", "separable", "fft" })
            {
                if (algorithm == "separable" && !ConvAlgorithms.IsRankOne(k)) continue;
                int code = CliRoot.Execute(["apply", P("in.npy"), P("out.npy"), "--kernel", kernel, "--border", "symmetric", "--mode", "convolve",
                    "--stride", "2", "--device", device, "--algorithm", algorithm]);
                Assert.Equal(0, code);
                Tensor got = Npy.Read(P("out.npy"));
                Assert.True(expected.SameShape(got));
                for (int i = 0; i < got.Length; i++)
                    Assert.True(Math.Abs(got.Data[i] - expected.Data[i]) <= 1e-5 + 1e-4 * Math.Abs(expected.Data[i]) + 1e-5 * absSum,
                        $"{device} {algorithm} {kernel}: element {i}: {got.Data[i]} vs reference {expected.Data[i]}");
            }
        }
    }

    [Fact]
    public void Separable_OfANonRankOneKernel_Exits2WithOneLine_AndVerboseNamesTheChoice()
    {
        Input();
        ApplyProcess.Result bad = ApplyProcess.Convgl(_dir, "apply", "in.npy", "out.npy", "--kernel", "laplacian", "--algorithm", "separable");
        Assert.Equal(2, bad.ExitCode);
        string[] lines = bad.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("rank-1", lines[0]);
        Assert.False(File.Exists(P("out.npy")));

        ApplyProcess.Result ok = ApplyProcess.Convgl(_dir, "apply", "in.npy", "out.npy", "--kernel", "box:5", "--algorithm", "fft", "--verbose");
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.StartsWith("algorithm: fft (5x5 kernel, ", ok.Stderr);
        Assert.True(File.Exists(P("out.npy")));
    }

    /// <summary>An asked-for algorithm the cost model puts at 20 s or more and 10x auto's gets one warning line before it
    /// runs as asked: gaussian:1025 direct on a 1080p RGB picture is 6.5 T taps (hours), the FFT seconds.</summary>
    [Fact]
    public void ADirectRunOfHours_IsSaidBeforeItRuns_AndAQuickOneIsNot()
    {
        Tensor big = KernelLibrary.Get("gaussian:1025");
        var o = new ConvOptions { Border = Border.Reflect };
        AlgorithmChoice asked = ConvAlgorithms.ChooseFilter(3, 1080, 1920, big, o, ConvCostModel.Cpu, ConvAlgorithm.Direct);
        AlgorithmChoice auto = ConvAlgorithms.ChooseFilter(3, 1080, 1920, big, o, ConvCostModel.Cpu);
        Assert.Equal(ConvAlgorithm.Fft, auto.Algorithm);
        string? note = ApplyCommand.SlowChoiceNote(asked, auto);
        Assert.NotNull(note);
        Assert.Matches(@"^convgl apply: --algorithm direct takes ~[0-9.]+ h on this input by the cost model, auto \(fft\) ~[0-9.]+ s; running as asked", note);
        // 5x5 direct where auto would take the FFT or not: quick either way, no line.
        Tensor small = KernelLibrary.Get("box:5");
        Assert.Null(ApplyCommand.SlowChoiceNote(ConvAlgorithms.ChooseFilter(3, 1080, 1920, small, o, ConvCostModel.Cpu, ConvAlgorithm.Fft),
                                                ConvAlgorithms.ChooseFilter(3, 1080, 1920, small, o, ConvCostModel.Cpu)));
        Assert.Equal(["350 ms", "4.2 s", "12 min", "13 h"], new[] { 350.0, 4_200, 720_000, 46_800_000 }.Select(ApplyCommand.Duration));
    }
}
