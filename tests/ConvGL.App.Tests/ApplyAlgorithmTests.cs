using ConvGL.App.Cli;
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
}
