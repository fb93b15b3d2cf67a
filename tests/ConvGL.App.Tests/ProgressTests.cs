using System.Diagnostics;
using ConvGL.App.Cli;
using ConvGL.Core;
using ConvGL.Core.IO;

namespace ConvGL.App.Tests;

/// <summary>Progress on stderr (src/ConvGL.App/Cli/Progress.cs): redrawn in place with \r on a terminal and erased at
/// the end, plain lines otherwise, nothing for a quick command; through the executable it never touches stdout and
/// the command's output is the same with and without it.</summary>
public sealed class ProgressTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-progress-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Terminal_RedrawsOneLineInPlace_AndErasesItAtTheEnd()
    {
        var err = new StringWriter();
        using (var p = new Progress("convgl apply", err, terminal: true, showAfter: TimeSpan.Zero))
        {
            p.Report(0, "fft: forward rows r16");
            Thread.Sleep(150); // past the redraw interval
            p.Report(0.5, "fft: product r5");
            p.Complete();
        }
        string s = err.ToString();
        Assert.DoesNotContain('\n', s);
        Assert.StartsWith("\rconvgl apply:   0% fft: forward rows r16", s);
        Assert.Contains("\rconvgl apply:  50% fft: product r5", s);
        // Ends erased: a \r, blanks as wide as the longest line drawn, a \r.
        string last = s[s.LastIndexOf('\r', s.Length - 2)..];
        Assert.Matches("^\r +\r$", last);
    }

    [Fact]
    public void Plain_WritesWholeLinesWithoutCarriageReturns_AndSaysDone()
    {
        var err = new StringWriter();
        using (var p = new Progress("convgl bench", err, terminal: false, showAfter: TimeSpan.Zero))
        {
            p.Step(0, 4, "gauss5-2d");
            p.Step(1, 4, "gauss5-sep"); // within two seconds of the last line: not shown
            p.Complete();
        }
        string[] lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain('\r', err.ToString());
        Assert.Equal("convgl bench:   0% gauss5-2d", lines[0]);
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^convgl bench: 100% done in \d+\.\d s$", lines[1]);
    }

    [Fact]
    public void QuickWork_ShowsNothing_AndAnErrorLeavesNoDoneLine()
    {
        var quick = new StringWriter();
        using (var p = new Progress("convgl apply", quick, terminal: false, showAfter: TimeSpan.FromMinutes(1)))
        {
            p.Report(0.5, "half");
            p.Complete();
        }
        Assert.Equal("", quick.ToString());

        var failed = new StringWriter();
        using (var p = new Progress("convgl apply", failed, terminal: false, showAfter: TimeSpan.Zero))
            p.Report(0.25, "quarter"); // then an exception: disposed without Complete
        Assert.Equal("convgl apply:  25% quarter\n", failed.ToString().Replace("\r\n", "\n"));
    }

    [Fact]
    public void Interrupt_ClearsTheTerminalLine_BeforeOtherOutput()
    {
        var err = new StringWriter();
        using var p = new Progress("convgl onnx-test", err, terminal: true, showAfter: TimeSpan.Zero);
        p.Step(0, 2, "test_conv");
        p.Interrupt();
        string s = err.ToString();
        Assert.EndsWith("\r" + new string(' ', "convgl onnx-test:   0% test_conv".Length) + "\r", s);
        p.Step(1, 2, "test_relu"); // drawn again at once after an interrupt
        Assert.EndsWith("\rconvgl onnx-test:  50% test_relu", err.ToString());
    }

    /// <summary>`convgl ARGS` as a process with CONVGL_PROGRESS set to <paramref name="progress"/> ("0": off, so a test
    /// that checks stderr exactly is not disturbed by a loaded machine making the command take over 3 s).</summary>
    internal static (int ExitCode, string Stdout, string Stderr) Convgl(string dir, string progress, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "convgl.dll");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var psi = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir,
        };
        psi.ArgumentList.Add(dll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["CONVGL_PROGRESS"] = progress;
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(300_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"convgl {string.Join(' ', args)} did not finish in 5 minutes");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Apply_ShowsProgressOnStderrOnly_AndWritesTheSameOutput()
    {
        var rng = new Random(11_0301);
        var t = Tensor.Chw(3, 40, 52);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (float)rng.NextDouble();
        Npy.Write(P("in.npy"), t);
        foreach (string device in new[] { "cpu", "gpu" })
        {
            // FFT on the GPU reports each pass; the CPU path each channel.
            string[] args = ["apply", "in.npy", $"shown-{device}.npy", "--kernel", "gabor:theta=30,size=31", "--device", device, "--algorithm", "fft"];
            var shown = Convgl(_dir, "always", args);
            Assert.True(shown.ExitCode == 0, shown.Stderr);
            Assert.Equal("", shown.Stdout);
            string[] lines = shown.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.DoesNotContain('\r', shown.Stderr);
            Assert.True(lines.Length >= 2, $"{device}: expected progress lines, got '{shown.Stderr}'");
            Assert.All(lines, l => Assert.Matches(@"^convgl apply: +\d+% ", l));
            Assert.Matches(@"^convgl apply: 100% done in \d+\.\d s$", lines[^1]);
            if (device == "gpu") Assert.Contains(lines, l => l.Contains("fft: ", StringComparison.Ordinal) || l.Contains("gpu fft", StringComparison.Ordinal));

            args[2] = $"quiet-{device}.npy";
            var quiet = Convgl(_dir, "0", args);
            Assert.True(quiet.ExitCode == 0, quiet.Stderr);
            Assert.Equal("", quiet.Stderr);
            Assert.Equal(File.ReadAllBytes(P($"quiet-{device}.npy")), File.ReadAllBytes(P($"shown-{device}.npy")));
        }
    }

    [Fact]
    public void Features_ReportsEachLayerThenTheWrites_StdoutUnchanged()
    {
        var t = Tensor.Chw(1, 24, 30);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (i % 7) / 7f;
        Npy.Write(P("in.npy"), t);
        foreach (string device in new[] { "cpu", "gpu" })
        {
            var shown = Convgl(_dir, "always", "features", "in.npy", "--stack", "gabor", "--out", "maps", "--device", device);
            var quiet = Convgl(_dir, "0", "features", "in.npy", "--stack", "gabor", "--out", "maps", "--device", device);
            Assert.True(shown.ExitCode == 0, shown.Stderr);
            Assert.Equal(quiet.Stdout, shown.Stdout);
            Assert.Equal("", quiet.Stderr);
            string[] lines = shown.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal($"convgl features:   0% layer 0 (conv) of 3 on the {device}", lines[0]);
            Assert.Contains($"convgl features:  33% layer 2 (maxpool) of 3 on the {device}", lines);
            Assert.Contains("convgl features:  50% writing 00-conv", lines);
            Assert.Matches(@"^convgl features: 100% done in \d+\.\d s$", lines[^1]);
        }
    }

    [Fact]
    public void OnnxTest_StdoutIsTheSameWithProgress_AndProgressNamesEachCase()
    {
        string root = "/usr/share/libonnx-testdata/data/node";
        string[] cases = [Path.Combine(root, "test_relu"), Path.Combine(root, "test_conv_with_strides_padding"), Path.Combine(root, "test_maxpool_2d_default")];
        Assert.True(cases.All(Directory.Exists), $"Debian's libonnx-testdata is needed ({root}): scripts/install-deps.sh --test installs it");
        var shown = Convgl(_dir, "always", ["onnx-test", .. cases]);
        var quiet = Convgl(_dir, "0", ["onnx-test", .. cases]);
        Assert.Equal(0, shown.ExitCode);
        Assert.Equal(quiet.Stdout, shown.Stdout);
        Assert.Equal("", quiet.Stderr);
        Assert.DoesNotContain("%", shown.Stdout);
        Assert.StartsWith("convgl onnx-test:   0% test_relu\n", shown.Stderr.Replace("\r\n", "\n"));
        Assert.Matches(@"convgl onnx-test: 100% done in \d+\.\d s\n$", shown.Stderr.Replace("\r\n", "\n"));
    }
}
