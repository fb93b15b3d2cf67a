using System.Diagnostics;
using ConvGL.App.Live;
using ConvGL.App.Sources;
using ConvGL.Core;
using ConvGL.Core.IO;
using OpenCvSharp;

namespace ConvGL.App.Tests;

/// <summary>The window's inputs a second audit found wanting: a FIFO as a source or put in place of a watched file
/// (the app froze for good), still formats only OpenCV decoded (past the image limits: a 25000x25000 PGM took 4.3 GB
/// and ended a running window when dropped), a video of one frame (refused: "the stream ended"), and a soak folder
/// holding the user's shaders (deleted).</summary>
public sealed class WindowInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-window-input-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private string Fifo(string name)
    {
        string path = P(name);
        using (var mk = Process.Start("mkfifo", [path])) mk.WaitForExit();
        Assert.True(File.Exists(path), "mkfifo");
        return path;
    }

    /// <summary>Runs <paramref name="action"/> on a worker: a blocking open would otherwise hang the test run.</summary>
    private static Exception? Within(Action action, string what)
    {
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try { action(); }
            catch (Exception e) { error = e; }
        }) { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(20)), $"{what} did not return within 20 s");
        return error;
    }

    [Fact]
    public void AFifoSource_IsRefusedAtOnce()
    {
        string fifo = Fifo("clip.mp4");
        var e = Assert.IsType<ConvGLException>(Within(() => SourceFactory.Open(fifo, true, SourceFit.Default).Dispose(), "opening a FIFO"));
        Assert.Contains("is not a regular file (a device, FIFO or socket)", e.Message);
    }

    /// <summary>A loop of links (or a file this user may not read) named as a video was "not an image or a video OpenCV
    /// can decode (cut short or damaged ...)" (the environment audit): the reason is said.</summary>
    [Fact]
    public void ALoopOfLinks_AsAVideo_SaysWhy()
    {
        File.CreateSymbolicLink(P("a.mp4"), P("b.mp4"));
        File.CreateSymbolicLink(P("b.mp4"), P("a.mp4"));
        var e = Assert.Throws<ConvGLException>(() => SourceFactory.Open(P("a.mp4"), true, SourceFit.Default));
        Assert.Equal($"source '{P("a.mp4")}': cannot read it (Too many levels of symbolic links)", e.Message);
    }

    [Fact]
    public void AWatchedFileReplacedByAFifo_DoesNotBlockTheWatch()
    {
        string f = P("k.txt");
        File.WriteAllText(f, "1 2 3\n");
        var watch = new FileWatch(f);
        File.Delete(f);
        Fifo("k.txt");
        Assert.Null(Within(() => watch.Changed(), "checking a FIFO"));
        Assert.Null(Within(() => watch.Changed(), "checking a FIFO again"));
    }

    [Theory]
    [InlineData("big.pgm", "P5\n25000 25000\n255\n")]
    [InlineData("scan.tiff", "II*\0")]
    public void StillFormatsOnlyOpenCvReads_AreRefused_NamingTheOnesThatAre(string name, string header)
    {
        File.WriteAllText(P(name), header + new string('\0', 64));
        var e = Assert.Throws<ConvGLException>(() => SourceFactory.Open(P(name), true, SourceFit.Default));
        Assert.Contains($"{Path.GetExtension(name)} images are not read (PNG, JPEG", e.Message);
        Assert.Contains("convert it to PNG", e.Message);
    }

    [Fact]
    public void AStackOrAKernelFileAsASource_SaysWhereItGoes()
    {
        File.WriteAllText(P("s.json"), "{}");
        File.WriteAllText(P("k.txt"), "1\n");
        Assert.Contains("run it with --stack", Assert.Throws<ConvGLException>(() => SourceFactory.Open(P("s.json"), true, SourceFit.Default)).Message);
        Assert.Contains("run it with --filter", Assert.Throws<ConvGLException>(() => SourceFactory.Open(P("k.txt"), true, SourceFit.Default)).Message);
    }

    /// <summary>A video of one frame (OpenCV's MJPG writer) plays as that still; two frames play as a video.</summary>
    [Fact]
    public void AVideoOfOneFrame_PlaysAsAStill()
    {
        foreach (int frames in new[] { 1, 2 })
        {
            string path = P($"f{frames}.avi");
            using (var writer = new VideoWriter(path, FourCC.MJPG, 10, new OpenCvSharp.Size(32, 24)))
            {
                Assert.True(writer.IsOpened(), "OpenCV's MJPG writer");
                for (int i = 0; i < frames; i++)
                {
                    using var frame = new Mat(24, 32, MatType.CV_8UC3, new Scalar(40 * i, 90, 200));
                    writer.Write(frame);
                }
            }
            using IFrameSource source = SourceFactory.Open(path, true, SourceFit.Default);
            if (frames == 1)
            {
                Assert.IsType<ImageSource>(source);
                Assert.Equal($"video f1.avi (1 frame)", source.Name);
            }
            else Assert.IsType<VideoSource>(source);
            Assert.Equal((32, 24), (source.Width, source.Height));
        }
    }

    [Fact]
    public void Soak_AFolderHoldingShadersItDidNotMake_IsRefused_AndKept()
    {
        Directory.CreateDirectory(P("shaders"));
        File.WriteAllText(P("shaders/mine.comp"), "// my work\n");
        var e = Assert.Throws<ConvGLException>(() => SoakRun.Prepare(_dir));
        Assert.Contains("already holds 'shaders'", e.Message);
        Assert.Equal("// my work\n", File.ReadAllText(P("shaders/mine.comp")));
        // The project's own shader folder is never a soak's scratch folder.
        string root = Path.GetDirectoryName(ConvGL.Gpu.ShaderLibrary.FindRoot())!;
        e = Assert.Throws<ConvGLException>(() => SoakRun.Prepare(root));
        Assert.Contains("holds ConvGL's shaders", e.Message);
        // A soak's own earlier folder is reused.
        string scratch = P("scratch");
        Directory.CreateDirectory(scratch);
        string? before = Environment.GetEnvironmentVariable("CONVGL_SHADERS");
        for (int run = 0; run < 2; run++) Assert.Equal(Path.Combine(scratch, "shaders"), SoakRun.Prepare(scratch));
        Assert.True(File.Exists(Path.Combine(scratch, "soak.json")));
        // The process's environment is the caller's to set (this test's windows run beside other tests' windows).
        Assert.Equal(before, Environment.GetEnvironmentVariable("CONVGL_SHADERS"));
        // A folder holding anything else is someone's (the audit's --soak /dev), and a file is not a folder.
        string other = P("notes");
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, "todo.txt"), "mine\n");
        e = Assert.Throws<ConvGLException>(() => SoakRun.Prepare(other));
        Assert.Contains("the folder holds 'todo.txt', so it is not an empty scratch folder", e.Message);
        Assert.Equal(["todo.txt"], Directory.GetFileSystemEntries(other).Select(Path.GetFileName));
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "--soak", Path.Combine(other, "todo.txt"), "--frames", "500", "--offscreen");
        Assert.True(r.ExitCode == 2 && r.Stderr.Contains("that is a file; give an empty scratch folder"), r.ToString());
    }

    [Fact]
    public void AFolderAsAStackOrAKernel_SaysItIsAFolder()
    {
        Directory.CreateDirectory(P("mystack"));
        Assert.Contains("'" + P("mystack") + "' is a folder", Assert.Throws<ConvGLException>(() => ConvGL.Core.Stacks.StackCatalog.Resolve(P("mystack"))).Message);
        Assert.Contains("is a folder", Assert.Throws<ConvGLException>(() => ConvGL.Core.Kernels.KernelSource.Resolve(P("mystack"))).Message);
        // A shipped name still resolves (the folder check comes after the names).
        Assert.EndsWith(Path.Combine("stacks", "edges.json"), ConvGL.Core.Stacks.StackCatalog.Resolve("edges"));
    }

    /// <summary>The window takes MODEL.onnx#NAME as features does (the review: it resolved the whole argument as a file
    /// and said "no such file"): the Focus test model up to its Concat is 5 layers, the last shown; also from a folder
    /// called x.onnx#y (the second review: the window re-joined the absolute path and split it at the folder's '#').</summary>
    [Fact]
    public void TheWindow_TakesAModelUpToANode()
    {
        string folder = P("x.onnx#y");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "focus.onnx"), Core.Tests.Onnx.BranchyGraphs.FocusBytes());
        ApplyProcess.Result r = ApplyProcess.Convgl(folder, "--stack", "focus.onnx#focus_cat", "--source", "scene:64x48", "--frames", "2", "--offscreen");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("shown layer=5 channel=0 view=output pipeline=stack focus up to focus_cat", r.Stdout);
    }

    /// <summary>A kernel file a stack names (the audit's kern.png, a text kernel with an image's name) is not the
    /// screenshot's to replace either; refused before any window opens.</summary>
    [Fact]
    public void Screenshot_OverAFileTheStackReads_IsRefused()
    {
        File.WriteAllText(P("kern.png"), "0 1 0\n1 -4 1\n0 1 0\n");
        File.WriteAllText(P("s.json"), """{ "layers": [ { "type": "conv", "kernels": ["kern.png"] } ] }""");
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "--stack", "s.json", "--frames", "2", "--offscreen", "--screenshot", "kern.png");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--screenshot 'kern.png' is the file the stack reads", r.Stderr);
        Assert.Equal("0 1 0\n1 -4 1\n0 1 0\n", File.ReadAllText(P("kern.png")));
    }

    /// <summary>A stack whose maps at a picture's size pass ConvGL's limits (a 1x1 conv to 16384 channels on a 256x256
    /// picture: 2^30 values in one map) names the --source-max that fits, as the filter path does.</summary>
    [Fact]
    public void AStackTooLargeForThePicture_NamesTheSourceMaxThatFits()
    {
        Npy.Write(P("w.npy"), new Tensor([16384, 1, 1, 1], Enumerable.Repeat(0.5f, 16384).ToArray()));
        File.WriteAllText(P("wide.json"), """{ "layers": [ { "type": "conv", "weight": "w.npy" } ] }""");
        ImageIO.SavePng(P("pic.png"), Tensor.Chw(1, 256, 256, Enumerable.Range(0, 65536).Select(i => (i % 251) / 251f).ToArray()));
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "--stack", "wide.json", "--source", "pic.png", "--frames", "2", "--offscreen");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("values a layer's output (all its maps together) may have", r.Stderr);
        Assert.Contains("; use a smaller size; the window runs the stack on the source's 256x256 frames: --source-max 128x128 scales them down", r.Stderr);
        Assert.DoesNotContain("--source scene:", r.Stderr); // the scene's size hint is for the scene
    }

    /// <summary>The mutation-fuzz audit: a cut AVI, or a 12-byte RIFF header, got OpenCV's own complaint on stderr
    /// ("Unexpected list type. Expected: movi. Got: .") before ConvGL's one line; now the one line alone, exit 2.</summary>
    [Fact]
    public void ADamagedAvi_IsOneStderrLine()
    {
        string seed = P("seed.avi");
        using (var writer = new VideoWriter(seed, FourCC.MJPG, 10, new OpenCvSharp.Size(64, 48)))
        {
            Assert.True(writer.IsOpened(), "OpenCV could not open an MJPG writer");
            for (int f = 0; f < 6; f++)
            {
                using var mat = new Mat(48, 64, MatType.CV_8UC3, new Scalar(f * 40, f * 40, f * 40));
                writer.Write(mat);
            }
        }
        byte[] whole = File.ReadAllBytes(seed);
        File.WriteAllBytes(P("cut.avi"), whole[..(whole.Length / 2)]);
        File.WriteAllBytes(P("riff.avi"), "RIFF\u0004\0\0\0AVI "u8.ToArray());
        foreach (string name in new[] { "cut.avi", "riff.avi" })
        {
            ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "--source", name, "--frames", "2", "--offscreen");
            Assert.Equal(2, r.ExitCode);
            Assert.Equal($"convgl: source '{name}': not an image or a video OpenCV can decode (cut short or damaged, or a format this OpenCV build lacks)", r.Stderr.TrimEnd('\n'));
        }
        // An empty video file is said so, as an empty image is (a hostile-input review).
        File.WriteAllBytes(P("empty.mp4"), []);
        ApplyProcess.Result empty = ApplyProcess.Convgl(_dir, "--source", "empty.mp4", "--frames", "2", "--offscreen");
        Assert.Equal(2, empty.ExitCode);
        Assert.Equal("convgl: source 'empty.mp4': the file is empty", empty.Stderr.TrimEnd('\n'));
    }

    /// <summary>The mutation-fuzz audit: a model declaring a fixed 8192x8192 RGB input (every frame resized to it) was told
    /// "--source-max 12x9 fits" when its maps passed the driver's storage block limit; no source size helps such a model.</summary>
    [Fact]
    public void AModelWhoseFixedInputPassesTheDriversLimit_SaysNoSourceSizeHelps()
    {
        var g = new ConvGL.Core.Onnx.Proto.GraphProto { Name = "big" };
        g.Input.Add(ConvGL.Core.Tests.Onnx.ProtoBuilders.Value("x", 1, 3, 8192, 8192));
        g.Node.Add(new ConvGL.Core.Onnx.Proto.NodeProto { Name = "r", OpType = "Relu", Input = { "x" }, Output = { "y" } });
        g.Output.Add(ConvGL.Core.Tests.Onnx.ProtoBuilders.Value("y"));
        File.WriteAllBytes(P("big.onnx"), Google.Protobuf.MessageExtensions.ToByteArray(
            new ConvGL.Core.Onnx.Proto.ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new ConvGL.Core.Onnx.Proto.OperatorSetIdProto { Version = 13 } } }));
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "--stack", "big.onnx", "--frames", "2", "--offscreen");
        Assert.True(r.ExitCode != 0, r.Stderr);
        string line = Assert.Single(r.Stderr.Split('\n'), l => l.StartsWith("convgl: GPU:", StringComparison.Ordinal));
        Assert.EndsWith("; the model resizes every frame to its declared 8192x8192 input, whatever the source's size: export it with a smaller input size, or with H and W dynamic", line);
        Assert.DoesNotContain("--source-max", r.Stderr);
    }

    [Fact]
    public void Soak_TooFewFrames_IsAnArgumentError_BeforeAnyWindow()
    {
        Directory.CreateDirectory(P("s"));
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "--soak", "s", "--frames", "300", "--offscreen");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"--soak needs --frames {SoakRun.MinimumFrames} or more", r.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(P("s")));
    }
    /// <summary>A --probe point outside the probed map (the audit's 999,5 on a 160-wide scene) printed "invalid" and
    /// exited 0; now it is the run's one error line, exit 2, and the screenshot asked for is not written. A point
    /// inside, on the same run, still prints its values.</summary>
    [Fact]
    public void AProbeOutsideTheOutput_IsAnError_AndNothingIsWritten()
    {
        string[] run = ["--source", "scene:160x90", "--frames", "2", "--offscreen", "--stack", "edges", "--layer", "1", "--screenshot", "shot.png"];
        ApplyProcess.Result bad = ApplyProcess.Convgl(_dir, [.. run, "--probe", "5,5;999,5"]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Equal("convgl: --probe 999,5 is outside layer 1's output, 160x90 (x 0..159, y 0..89); probe a pixel inside it (nothing was written)",
                     bad.Stderr.Split('\n').Single(l => l.StartsWith("convgl: --probe", StringComparison.Ordinal)));
        Assert.DoesNotContain("probe layer=", bad.Stdout);
        Assert.False(File.Exists(P("shot.png")), "the screenshot of a failed run");
        // A list of no points (the audit's ';;;') was taken as no --probe at all.
        ApplyProcess.Result none = ApplyProcess.Convgl(_dir, [.. run, "--probe", ";;;"]);
        Assert.True(none.ExitCode == 2 && none.Stderr.Contains("--probe ';;;' names no point; give X,Y or X,Y;X,Y..."), none.ToString());
        Assert.False(File.Exists(P("shot.png")));

        ApplyProcess.Result good = ApplyProcess.Convgl(_dir, [.. run, "--probe", "159,89"]);
        Assert.Equal(0, good.ExitCode);
        Assert.Contains("probe layer=1 channel=0 x=159 y=89 shape=", good.Stdout);
        Assert.True(File.Exists(P("shot.png")));
    }
    /// <summary>A video's frame size is checked as an image's is, before the first frame is decoded (the fifth audit's
    /// 16000x16000 MJPEG frame took 3.7 GB): 6000x6000 (36 megapixels) is refused, naming the size.</summary>
    [Fact]
    public void AVideoOfHugeFrames_IsRefusedBeforeDecoding()
    {
        string path = P("huge.avi");
        using (var writer = new VideoWriter(path, FourCC.MJPG, 1, new OpenCvSharp.Size(6000, 6000)))
        {
            Assert.True(writer.IsOpened(), "OpenCV cannot write an MJPG .avi here");
            using var frame = new Mat(6000, 6000, MatType.CV_8UC3, Scalar.All(0));
            writer.Write(frame);
        }
        var e = Assert.Throws<ConvGLException>(() => SourceFactory.Open(path, true, SourceFit.Default));
        Assert.Equal("source video huge.avi: its frames are 6000x6000; decoding one would take 549.3 MiB, over the 512 MiB a picture may take " +
                     "(about 32 megapixels): scale the video down", e.Message);
    }
}
