using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Stacks;

namespace ConvGL.App.Tests;

/// <summary>`convgl features --algorithm auto|direct|separable|fft --verbose`: each conv layer runs the algorithm asked
/// for (or chosen), --verbose names it per layer on stderr, and the maps equal the direct ones within the FFT's
/// tolerance; separable asked of a stack whose conv layer mixes kernels is bad input (exit 2, one line). Progress is
/// off (CONVGL_PROGRESS=0): these tests read stderr exactly.</summary>
public sealed class FeaturesAlgorithmTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-features-algorithm-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    private string P(string name) => Path.Combine(_dir, name);

    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public void Fft_Verbose_NamesEachConvLayer_AndMapsEqualDirect(string device)
    {
        var rng = new Random(11_0501);
        var t = Tensor.Chw(1, 33, 47);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (float)rng.NextDouble();
        Npy.Write(P("in.npy"), t);
        var direct = ProgressTests.Convgl(_dir, "0", "features", "in.npy", "--stack", "gabor", "--out", "direct", "--device", device, "--algorithm", "direct", "--verbose");
        Assert.True(direct.ExitCode == 0, direct.Stderr);
        // Direct: no choice made; on the GPU, the program that ran the bank.
        if (device == "cpu") Assert.Equal("", direct.Stderr);
        else Assert.Matches(@"^layers\[0\] \(conv\): program: conv2d_\w+: [^\n]+\n$", direct.Stderr.Replace("\r", ""));
        var fft = ProgressTests.Convgl(_dir, "0", "features", "in.npy", "--stack", "gabor", "--out", "fft", "--device", device, "--algorithm", "fft", "--verbose");
        Assert.True(fft.ExitCode == 0, fft.Stderr);
        Assert.Equal(direct.Stdout.Replace("direct", "DIR"), fft.Stdout.Replace("fft", "DIR"));
        string[] lines = fft.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("layers[0] (conv): algorithm: fft (15x15 kernel, ", lines[0]);
        Assert.EndsWith($"input (1, 33, 47) on the {device}", lines[0]);

        Stack gabor = StackCatalog.Load("gabor");
        double s = ((ConvLayer)gabor.Layers[0]).Weight.Data.Chunk(15 * 15).Max(k => k.Sum(v => Math.Abs((double)v)));
        foreach (string file in Directory.GetFiles(P("direct"), "*.npy").Select(f => Path.GetFileName(f)))
        {
            Tensor a = Npy.Read(Path.Combine(P("direct"), file)), b = Npy.Read(Path.Combine(P("fft"), file));
            Assert.Equal(a.Shape, b.Shape);
            for (int i = 0; i < a.Length; i++)
                Assert.True(Math.Abs(a.Data[i] - b.Data[i]) <= 1e-5 + 1e-4 * Math.Abs(a.Data[i]) + 2e-7 * 40 * s,
                    $"{device} {file} value {i}: direct {a.Data[i]}, fft {b.Data[i]}");
        }
    }

    [Fact]
    public void Separable_OfAMixingBank_Exits2WithOneLineNamingTheLayer()
    {
        Npy.Write(P("in.npy"), Tensor.Chw(1, 16, 16));
        var r = ProgressTests.Convgl(_dir, "0", "features", "in.npy", "--stack", "edges", "--out", "maps", "--algorithm", "separable");
        Assert.Equal(2, r.ExitCode);
        string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("layers[0] (conv)", lines[0]);
        Assert.Contains("separable", lines[0]);
        Assert.False(Directory.Exists(P("maps")));
    }
}
