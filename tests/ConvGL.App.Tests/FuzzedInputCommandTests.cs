using System.Runtime.CompilerServices;
using ConvGL.Core;
using ConvGL.Core.IO;

namespace ConvGL.App.Tests;

/// <summary>`convgl apply` and `convgl features` as a user runs them, on the inputs the loader fuzzer found (kept in
/// tests/ConvGL.Core.Tests/Fuzz/regressions) and on the hand-found cases: exit 2, one stderr line, no
/// output file, an existing output left byte for byte as it was, and nothing else left in the folder.</summary>
public sealed class FuzzedInputCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-fuzzed-").FullName;
    private readonly byte[] _previous;

    public FuzzedInputCommandTests()
    {
        ImageIO.SavePng(P("ok.png"), Tensor.Chw(1, 6, 7));
        Npy.Write(P("out.npy"), Tensor.Chw(1, 2, 2, [1, 2, 3, 4]));
        _previous = File.ReadAllBytes(P("out.npy"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static string Regression(string target, string file, [CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(source)!, "..", "ConvGL.Core.Tests", "Fuzz", "regressions", target, file);

    /// <summary>Copies a regression input next to the test's files under a name with the extension a user would use.</summary>
    private string Input(string target, string file, string name)
    {
        File.Copy(Regression(target, file), P(name), overwrite: true);
        return P(name);
    }

    /// <summary>The mutation-fuzz audit: under an address-space limit (prlimit --as, ulimit -v) a run the memory checks let
    /// through ran out of memory, and the one line said "this machine gives the process 23.5 GiB" only. It now names the
    /// limit, which those checks do not count; exit 1, no output folder. The input is a 1 GiB array (1, 16384, 16384),
    /// within every cap of the format and the stack, through one box filter (features' check: 8 GiB of 80% of the
    /// machine's memory; a smaller machine skips, saying so); under a 2 GB limit the runtime's heap has no room for it, so
    /// the first large allocation fails while the runtime itself still has room to print. (The test used to let a
    /// 6144x6144 run through `edges` fill 3 GB gradually: 60-90 s, and under load the runtime's own allocations, a
    /// thread's TLS or the JIT's mappings, failed first in about 1 run in 3 at 1.5-3 GB, aborting outside ConvGL's code;
    /// measured 2026-12-07. 15 of 15 runs of this one under load gave the line.) The array is a sparse file: a header and
    /// 1 GiB of holes. The child runs as on 8 processors (DOTNET_PROCESSOR_COUNT), where the background GC's thread
    /// creation failed first before it was turned off in convgl's project (2026-12-05), whatever this machine has.</summary>
    [Fact]
    public void OutOfMemoryUnderAnAddressSpaceLimit_SaysTheLimit_InOneLine_AndLeavesNoOutput()
    {
        const string prlimit = "/usr/bin/prlimit";
        Assert.True(File.Exists(prlimit), "util-linux's prlimit is missing (Debian: apt-get install util-linux)");
        const int side = 16384;
        long need = 2L * side * side * ConvGL.App.Commands.FeaturesCommand.BytesPerMapValue; // the input and the box map
        if (!MemoryBudget.Fits(need))
            Assert.Skip($"features' memory check needs {Limits.Bytes(need)} within {MemoryBudget.Share:P0} of what this machine gives the process ({Limits.Bytes(MemoryBudget.Machine)})");
        WriteSparseNpy(P("big.npy"), 1, side, side);
        File.WriteAllText(P("box.json"), """{ "name": "box", "input": "gray", "layers": [ { "type": "conv", "name": "box", "kernels": ["box"] } ] }""");
        string dll = Path.Combine(AppContext.BaseDirectory, "convgl.dll");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        ApplyProcess.Result r = ApplyProcess.Run(prlimit, ["--as=2000000000", host, dll, "features", P("big.npy"), "--stack", P("box.json"), "--out", P("maps")], _dir,
                                                  environment: new Dictionary<string, string> { ["CONVGL_PROGRESS"] = "0", ["DOTNET_PROCESSOR_COUNT"] = "8" });
        string err = r.Stderr.TrimEnd('\n');
        Assert.True(r.ExitCode == 1, $"exit {r.ExitCode}, stderr: {r.Stderr}");
        Assert.DoesNotContain('\n', err);
        Assert.StartsWith("convgl: out of memory (this machine gives the process ", err);
        Assert.Contains("; an address-space limit of 1.9 GiB is set (ulimit -v), which the checks before the work do not count)", err);
        Assert.False(Directory.Exists(P("maps")));
    }

    /// <summary>A float32 .npy of shape (c, h, w) whose data are holes in the file (zeros to a reader, no disk blocks):
    /// Npy's own header, then the file's length set past it.</summary>
    private static void WriteSparseNpy(string path, int c, int h, int w)
    {
        using var f = new FileStream(path, FileMode.CreateNew);
        f.Write(Npy.ToBytes(new Tensor([0]), [c, h, w]));
        f.SetLength(f.Position + 4L * c * h * w);
    }

    private void AssertRefused(ApplyProcess.Result r, string phrase, params string[] created)
    {
        string err = r.Stderr.TrimEnd('\n');
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}, stderr: {r.Stderr}");
        Assert.DoesNotContain('\n', err);
        Assert.True(ErrorText.IsOneLine(err), err);
        Assert.StartsWith("convgl: ", err);
        Assert.Contains(phrase, err);
        Assert.Equal("", r.Stdout);
        Assert.Equal(_previous, File.ReadAllBytes(P("out.npy")));
        foreach (string c in created) Assert.False(Path.Exists(P(c)), $"{c} was created");
        // No temporary or partial file left behind.
        Assert.All(Directory.GetFileSystemEntries(_dir), e => Assert.False(Path.GetFileName(e).StartsWith('.'), $"left behind: {e}"));
    }

    [Theory]
    [InlineData("image-jpeg", "jfif-cut-at-12.bin", "cut.jpg", "the file is truncated")]
    [InlineData("image-bmp", "huge-side.bin", "bomb.bmp", "cannot decode")]
    [InlineData("image-bmp", "rows-missing.bin", "rows.bmp", "the BMP is truncated: 16000x16000 at 24 bits")]
    // Skia printed "Warning: Bit mask is not continuous." on the terminal for this one, a second line.
    [InlineData("image-bmp", "noncontiguous-mask.bin", "mask.bmp", "the BMP's R colour mask 0x00FF00F0 is not one run of bits")]
    [InlineData("image-tga", "psd-huge-height.bin", "tall.psd", "Photoshop (PSD) files are not supported")]
    [InlineData("image-png", "unknown-chunk-with-nuls.bin", "chunk.png", "cannot decode")]
    public void Apply_OnAFuzzedImage_IsRefused_AndTheOldOutputStays(string target, string file, string name, string phrase)
    {
        string input = Input(target, file, name);
        AssertRefused(ApplyProcess.Convgl(_dir, "apply", input, P("out.npy"), "--kernel", "box"), phrase);
    }

    [Theory]
    [InlineData("gaussian:sigma=1e-200", "must be between 0.01 and 10000 or 0")]
    [InlineData("motion-blur:5,.7e308", "must be between -3600 and 3600")]
    [InlineData("gaussian:5,x\ny\rz", "got 'x\\ny\\rz'")]
    public void Apply_WithAKernelOutsideItsDomain_IsRefused(string kernel, string phrase)
    {
        // One such run used to replace an existing out.npy with NaNs.
        AssertRefused(ApplyProcess.Convgl(_dir, "apply", P("ok.png"), P("out.npy"), "--kernel", kernel), phrase);
    }

    [Fact]
    public void Apply_KernelFileOutsideFloat32_AndHugePadding_AndDevZero_AreOneLine()
    {
        string kernel = Input("kernel-text", "float32-overflow.bin", "k.txt");
        AssertRefused(ApplyProcess.Convgl(_dir, "apply", P("ok.png"), P("out.npy"), "--kernel", kernel), "outside the float32 range");
        // Was `internal error: AggregateException (shape ... is too large)` three times, exit 1. The command line now
        // bounds N itself; Core's product check (LimitsTests) stays behind it.
        AssertRefused(ApplyProcess.Convgl(_dir, "apply", P("ok.png"), P("out.npy"), "--kernel", "box", "--size", "100000"), "--size");
        AssertRefused(ApplyProcess.Convgl(_dir, "apply", "/dev/zero", P("out.npy"), "--kernel", "box"), "not a regular file");
    }

    [Theory]
    [InlineData("depthwise-growth.bin", "over the limit of 16384 channels")]
    [InlineData("lone-surrogate.bin", "is not valid text")]
    [InlineData("value-spanning-lines.bin", "found {\\n \"x\": 1\\n}")]
    public void Features_OnAFuzzedStack_IsRefused_WithoutAnOutputFolder(string file, string phrase)
    {
        string stack = Input("stack", file, "s.json");
        AssertRefused(ApplyProcess.Convgl(_dir, "features", P("ok.png"), "--stack", stack, "--out", P("dump")), phrase, "dump");
    }

    [Fact]
    public void Features_EdgesAtTheLargestSize_FailsFastNamingTheMapLimit()
    {
        // Ran out of memory before the plan caps.
        AssertRefused(ApplyProcess.Convgl(_dir, "features", P("ok.png"), "--stack", "edges", "--out", P("dump"), "--size", "16384x16384"),
            "its output (4, 16384, 16384) has 1073741824 values, over the limit of 536870912", "dump");
    }
}
