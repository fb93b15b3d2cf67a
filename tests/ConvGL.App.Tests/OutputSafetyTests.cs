using ConvGL.App.Commands;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Tests.Onnx;

namespace ConvGL.App.Tests;

/// <summary>Nothing the user had is overwritten: a command never writes over a file it reads (the same path, the
/// same path spelled another way, the same file through a linked folder), <c>features</c> never replaces a folder
/// that holds its input or that is not a whole earlier dump, and <c>convert</c> never replaces a weights file the
/// command line did not name. Each refusal is one line on stderr, exit 2, and every file as it was.</summary>
public sealed class OutputSafetyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-output-safety-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    /// <summary>Every file under the scratch folder with its bytes, to compare before and after.</summary>
    private SortedDictionary<string, string> Snapshot() => new(
        Directory.GetFiles(_dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(_dir, f), f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))),
        StringComparer.Ordinal);

    private void AssertRefused(string mentions, params string[] args)
    {
        SortedDictionary<string, string> before = Snapshot();
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, args);
        string context = $"convgl {string.Join(' ', args)} -> exit {r.ExitCode}, stderr '{r.Stderr}'";
        Assert.True(r.ExitCode == 2, context);
        string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr: {context}");
        Assert.Contains(mentions, lines[0]);
        Assert.Equal(before, Snapshot());
    }

    /// <summary>.NET reads bytes of a name that are not UTF-8 as U+FFFD: "o\xe9.npy" was written as "o\uFFFD.npy", another
    /// name (the hostile-input audit). Such an argument is refused before anything runs.</summary>
    [Fact]
    public void AnArgumentThatIsNotUtf8_IsRefused_BeforeAnythingIsWritten()
    {
        Npy.Write(P("x.npy"), Tensor.Chw(1, 4, 4));
        AssertRefused("argument 3 'o\uFFFD.npy' is not UTF-8 text", "apply", "x.npy", "o\uFFFD.npy", "--kernel", "box");
        AssertRefused("argument 4 'lat\uFFFD.json' is not UTF-8 text", "features", "x.npy", "--stack", "lat\uFFFD.json", "--out", "maps");
        Assert.Equal(["x.npy"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    /// <summary>An output folder that takes no file was found only after the work (the environment audit: `apply` ran a
    /// 14 s FFT, a scripted window its frames, `bench` every case, then failed). Each is refused first, naming the path.
    /// /sys takes no new file, even for root (permission denied, or a read-only file system in a container).</summary>
    [Fact]
    public void AnOutputFolderThatTakesNoFile_IsRefusedBeforeTheWork()
    {
        Npy.Write(P("x.npy"), Tensor.Chw(1, 4, 4));
        AssertRefused("apply: cannot write 'x.npy/out.npy': '" + P("x.npy") + "' is a file, not a folder (nothing was computed)",
            "apply", "x.npy", "x.npy/out.npy", "--kernel", "box");
        AssertRefused("apply: cannot write 'none/out.npy': directory '" + P("none") + "' does not exist (nothing was computed)",
            "apply", "x.npy", "none/out.npy", "--kernel", "box");
        Assert.SkipUnless(Directory.Exists("/sys"), "no /sys here");
        AssertRefused("apply: cannot write '/sys/convgl-out.npy': ", "apply", "x.npy", "/sys/convgl-out.npy", "--kernel", "box");
        AssertRefused("--screenshot: cannot write '/sys/convgl-shot.png': ", "--offscreen", "--frames", "2", "--screenshot", "/sys/convgl-shot.png");
        AssertRefused("bench: --out: cannot write '/sys/convgl-bench.md': ", "bench", "--quick", "--case", "gauss5-2d", "--out", "/sys/convgl-bench.md");
        Assert.False(File.Exists("/sys/convgl-out.npy"));
    }

    [Fact]
    public void Apply_OutputIsTheInput_InAnySpelling_IsRefused_TheInputKept()
    {
        Directory.CreateDirectory(P("d"));
        Npy.Write(P("d/x.npy"), Tensor.Chw(1, 8, 8, Enumerable.Range(0, 64).Select(i => i / 64f).ToArray()));
        File.CreateSymbolicLink(P("link"), P("d"));
        AssertRefused("is the input", "apply", "d/x.npy", "d/x.npy", "--kernel", "box");
        AssertRefused("is the input", "apply", "d/x.npy", "d/../d/./x.npy", "--kernel", "box");
        AssertRefused("is the input", "apply", "d/x.npy", "link/x.npy", "--kernel", "box");
        // The kernel file too.
        File.WriteAllText(P("k.txt"), "0 1 0\n1 -4 1\n0 1 0\n");
        Npy.Write(P("k.npy"), Tensor.Chw(1, 3, 3));
        AssertRefused("is the kernel file", "apply", "d/x.npy", "k.npy", "--kernel", "k.npy");
        // Another name in the same folder is fine.
        Assert.Equal(0, ApplyProcess.Convgl(_dir, "apply", "d/x.npy", "d/y.npy", "--kernel", "box").ExitCode);
        Assert.True(File.Exists(P("d/y.npy")));
    }

    [Fact]
    public void Features_InputInsideOut_OrAFolderThatIsNotAWholeDump_IsRefused()
    {
        Npy.Write(P("x.npy"), Tensor.Chw(1, 12, 12));
        Assert.Equal(0, ApplyProcess.Convgl(_dir, "features", "x.npy", "--stack", "edges", "--out", "maps").ExitCode);
        // The input named input.npy inside the dump folder: the dump would replace it.
        File.Copy(P("x.npy"), P("maps/input.npy"), overwrite: true);
        AssertRefused("is inside --out", "features", "maps/input.npy", "--stack", "edges", "--out", "maps");
        // A folder holding only a file named input.npy is no earlier dump.
        Directory.CreateDirectory(P("mine"));
        File.Copy(P("x.npy"), P("mine/input.npy"));
        AssertRefused("not a whole features dump", "features", "x.npy", "--stack", "edges", "--out", "mine");
        // An earlier dump is still replaced.
        Assert.Equal(0, ApplyProcess.Convgl(_dir, "features", "x.npy", "--stack", "edges", "--out", "maps2").ExitCode);
        Assert.Equal(0, ApplyProcess.Convgl(_dir, "features", "x.npy", "--stack", "edges", "--out", "maps2").ExitCode);
    }

    /// <summary>The hardening audit: --out naming a link to an earlier dump replaced the link with a real folder and
    /// left the dump it pointed to as it was. A link is written through, as a file's is: its target gets the new dump.</summary>
    [Fact]
    public void Features_OutThroughASymlink_ReplacesTheLinkedDump_AndKeepsTheLink()
    {
        Npy.Write(P("x.npy"), Tensor.Chw(1, 12, 12));
        Assert.Equal(0, ApplyProcess.Convgl(_dir, "features", "x.npy", "--stack", "edges", "--out", "real").ExitCode);
        Assert.True(File.Exists(P("real/01-magnitude.npy")));
        Directory.CreateSymbolicLink(P("link"), P("real"));
        Assert.Equal(0, ApplyProcess.Convgl(_dir, "features", "x.npy", "--stack", "learned", "--out", "link").ExitCode);
        Assert.NotNull(new DirectoryInfo(P("link")).LinkTarget);
        Assert.False(File.Exists(P("real/01-magnitude.npy"))); // the edges dump was replaced ...
        Assert.True(Directory.GetFiles(P("real"), "*.npy").Length > 3); // ... by the learned one, read through the link
        Assert.Equal(Directory.GetFiles(P("real")).Select(Path.GetFileName).Order(), Directory.GetFiles(P("link")).Select(Path.GetFileName).Order());
        // A private dump stays private when replaced (it came back 755).
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(P("real"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Assert.Equal(0, ApplyProcess.Convgl(_dir, "features", "x.npy", "--stack", "edges", "--out", "link").ExitCode);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(P("real")));
        }
        Assert.DoesNotContain(Directory.GetFileSystemEntries(_dir), e => Path.GetFileName(e).StartsWith('.'));

        // A link to nothing is said so (it was "a file; give a folder"), and left as it is.
        File.CreateSymbolicLink(P("dangling"), P("nowhere"));
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "features", "x.npy", "--stack", "edges", "--out", "dangling");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Equal($"convgl: features: --out dangling is a link to {P("nowhere")}, which does not exist; make that folder, or give another --out",
            r.Stderr.TrimEnd('\n'));
        Assert.False(Path.Exists(P("nowhere")));
        Assert.Equal(P("nowhere"), new FileInfo(P("dangling")).LinkTarget);
    }

    [Fact]
    public void Convert_AWeightsFileTheCommandLineDidNotName_IsRefused_AndAFailedWriteLeavesNothing()
    {
        File.WriteAllBytes(P("small.onnx"), SmallGraphs.ResidualWithHeadBytes());
        File.WriteAllText(P("out.safetensors"), "precious");
        AssertRefused("out.safetensors' already exists", "convert", "small.onnx", "out.json");
        // A review: an OUT.json beside it (any file of that name) made it "an earlier pair", replaced unasked.
        File.WriteAllText(P("out.json"), """{"mine": 1}""");
        AssertRefused("out.safetensors' already exists and was not written by convgl convert", "convert", "small.onnx", "out.json");
        Assert.Equal("precious", File.ReadAllText(P("out.safetensors")));
        // A safetensors file of the user's own (no convert metadata) is kept too.
        ConvGL.Core.IO.SafeTensors.Write(P("out.safetensors"), new Dictionary<string, Tensor> { ["w"] = new Tensor([2], [1f, 2f]) });
        AssertRefused("was not written by convgl convert", "convert", "small.onnx", "out.json");
        // Converting to the same OUT again replaces the pair it wrote.
        File.Delete(P("out.safetensors"));
        File.Delete(P("out.json"));
        Assert.Equal(0, ConvertCommand.Run(P("small.onnx"), P("out.json"), TextWriter.Null));
        Assert.Equal(0, ConvertCommand.Run(P("small.onnx"), P("out.json"), TextWriter.Null));
        Assert.Equal("out.safetensors", ConvGL.Core.Stacks.StackFile.Load(P("out.json")).WeightsFile);
    }

    /// <summary>convert takes MODEL.onnx#NAME as --stack does: the Focus test model up to its Concat is written as 5
    /// layers, which reload to the same maps; an unknown name writes nothing.</summary>
    [Fact]
    public void Convert_AModelUpToANode_WritesThoseLayers()
    {
        File.WriteAllBytes(P("focus.onnx"), BranchyGraphs.FocusBytes());
        Assert.Equal(0, ConvertCommand.Run(P("focus.onnx") + "#focus_cat", P("phases.json"), TextWriter.Null));
        ConvGL.Core.Stacks.Stack written = ConvGL.Core.Stacks.StackFile.Load(P("phases.json"));
        Assert.Equal(["slice", "slice", "slice", "slice", "concat"], written.Layers.Select(l => l.Type));
        Tensor x = Tensor.Chw(3, 6, 8, Enumerable.Range(0, 144).Select(i => (float)Math.Sin(i)).ToArray());
        ConvGL.Core.Stacks.Stack imported = ConvGL.Core.Stacks.StackCatalog.Load(P("focus.onnx") + "#focus_cat");
        Assert.Equal(ConvGL.Core.Stacks.StackRunner.Run(imported, x).Outputs[^1].Data, ConvGL.Core.Stacks.StackRunner.Run(written, x).Outputs[^1].Data);
        var e = Assert.Throws<ConvGLException>(() => ConvertCommand.Run(P("focus.onnx") + "#nothing", P("none.json"), TextWriter.Null));
        Assert.Contains("'#nothing' names no node and no value", e.Message);
        Assert.False(File.Exists(P("none.json")));
    }

    [Fact]
    public void AtomicWriteAll_AFailingFile_LeavesNoneOfThem()
    {
        File.WriteAllText(P("a.bin"), "old a");
        var e = Assert.Throws<ConvGLException>(() => AtomicFile.WriteAll([(P("a.bin"), [1, 2, 3]), (P("missing/b.bin"), [4])]));
        Assert.Contains("missing", e.Message);
        Assert.Equal("old a", File.ReadAllText(P("a.bin")));
        Assert.Equal(["a.bin"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
        AtomicFile.WriteAll([(P("a.bin"), [1, 2, 3]), (P("b.bin"), [4])]);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(P("a.bin")));
        Assert.Equal([4], File.ReadAllBytes(P("b.bin")));
    }

    [Fact]
    public void Window_ScreenshotOverItsSourceImage_IsRefusedBeforeAnyWindowOpens()
    {
        ImageIO.SavePng(P("scene.png"), Tensor.Chw(3, 16, 16, Enumerable.Range(0, 768).Select(i => (i % 7) / 7f).ToArray()), PngScaling.Clamp);
        AssertRefused("is the --source", "--source", "scene.png", "--frames", "2", "--screenshot", "./scene.png", "--offscreen");
    }
}
