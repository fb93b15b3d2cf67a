using System.Globalization;
using System.Text.RegularExpressions;

namespace ConvGL.App.Tests.Onnx;

/// <summary>The window's <c>--normalize</c>: a scripted offscreen run of a model with it probes the normalisation layer
/// (the HUD's layer 1) on the GPU at (in - mean) / std; the options it needs are checked before any window opens.</summary>
public sealed partial class NormalizeWindowTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-normalize-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [GeneratedRegex(@"^probe layer=1 channel=(\d) x=20 y=10 shape=3x360x640 gpu=(\S+) cpu=(\S+) .*kind=batchnorm$", RegexOptions.Multiline)]
    private static partial Regex ProbeLine();

    [GeneratedRegex(@"^probe window=(\S+)$", RegexOptions.Multiline)]
    private static partial Regex WindowLine();

    [Fact]
    public void Offscreen_TheNormalisationLayer_ProbesAtInMinusMeanOverStd()
    {
        string model = Path.Combine(_dir, "residual.onnx");
        File.WriteAllBytes(model, ConvGL.Core.Tests.Onnx.SmallGraphs.ResidualWithHeadBytes());
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        for (int c = 0; c < 3; c++)
        {
            string[] keys = c == 0 ? [] : ["--keys", string.Join(' ', Enumerable.Repeat(".", c))];
            WindowProcess.Result run = WindowProcess.Run(null, ["--offscreen", "--stack", model, "--normalize", "imagenet", "--layer", "1",
                .. keys, "--probe", "20,10", "--frames", "3", "--size", "640x400"]);
            Assert.True(run.ExitCode == 0, run.ToString());
            Match probe = ProbeLine().Match(run.Stdout), window = WindowLine().Match(run.Stdout);
            Assert.True(probe.Success && window.Success, run.Stdout);
            Assert.Equal(c, int.Parse(probe.Groups[1].Value, CultureInfo.InvariantCulture));
            float input = float.Parse(window.Groups[1].Value, CultureInfo.InvariantCulture);
            float gpu = float.Parse(probe.Groups[2].Value, CultureInfo.InvariantCulture);
            Assert.InRange(input, 0f, 1f);
            Assert.Equal((input - mean[c]) / std[c], gpu, 1e-5);
            Assert.Equal(double.Parse(probe.Groups[3].Value, CultureInfo.InvariantCulture), gpu, 1e-5);
        }
    }

    [Theory]
    [InlineData(new[] { "--normalize", "imagenet" }, "convgl: --normalize needs --stack: it becomes the first layer of the stack (a model's input normalisation)")]
    [InlineData(new[] { "--filter", "sobel-x", "--normalize", "imagenet" }, "convgl: --normalize needs --stack: it becomes the first layer of the stack (a model's input normalisation)")]
    [InlineData(new[] { "--stack", "edges", "--normalize", "imagenet" }, "convgl: --normalize 'imagenet': 3 mean values for stack 'edges', which takes 1 channel(s) (gray); give one value or 1")]
    [InlineData(new[] { "--stack", "edges", "--normalize", "0.5/-1" }, "convgl: --normalize '0.5/-1': std entry 0 is -1; each std must be positive (it divides)")]
    public void BadUse_IsOneLine_BeforeAnyWindow(string[] args, string message)
    {
        WindowProcess.Result refused = WindowProcess.Run(null, ["--offscreen", "--frames", "2", .. args]);
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Equal(message, refused.Stderr.TrimEnd('\n'));
        Assert.Equal("", refused.Stdout);
    }
}
