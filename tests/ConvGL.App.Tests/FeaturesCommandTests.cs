using ConvGL.App.Cli;
using ConvGL.App.Commands;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Stacks;
using ConvGL.Gpu;
using OpenCvSharp;

namespace ConvGL.App.Tests;

public sealed class FeaturesCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-features-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static int Features(params string[] args) => CliRoot.Execute(["features", .. args]);

    private static Tensor Image(int c, int h, int w)
    {
        var t = Tensor.Chw(c, h, w);
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    t[ch, y, x] = (x - w / 2) * (x - w / 2) + (y - h / 2) * (y - h / 2) < h * h / 9 ? 0.8f : 0.1f + 0.05f * ch + 0.1f * (x % 5) / 5;
        return t;
    }

    [Fact]
    public void Features_OnTheGpu_MapsPastTheDriversStorageBlock_AreOneErrorNamingTheSizeThatFits()
    {
        // The learned stack's 8 full-size maps of a 2400 x 1800 image take 138 MB: more than llvmpipe's 128 MiB blocks.
        ImageIO.SavePng(P("big.png"), Image(3, 1800, 2400));
        string outDir = P("maps");
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "features", P("big.png"), "--stack", "learned", "--out", outDir, "--device", "gpu");
        using (GlContext gl = GlContext.CreateHeadless(debug: false))
            if (gl.MaxStorageBlockBytes >= 8L * 2400 * 1800 * 4)
            {
                Assert.True(r.ExitCode == 0, r.ToString()); // a driver that holds them (a real GPU's)
                return;
            }
        Assert.True(r.ExitCode == 1, r.ToString());
        string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("convgl features:", StringComparison.Ordinal)).ToArray();
        Assert.True(lines.Length == 1, r.ToString());
        // 8 x 2400 x 1800 x 4 bytes against 128 MiB: sqrt(134217728 / 138240000) x 0.95 = 0.93607 of each side.
        Assert.EndsWith("GL_MAX_SHADER_STORAGE_BLOCK_SIZE (128 MiB); the input is 2400x1800: --size 2246x1684 fits, or --device cpu", lines[0]);
        Assert.False(Directory.Exists(outDir), "nothing is written");
    }

    [Fact]
    public void Features_ShippedEdges_WritesInputAndEveryLayer_MatchingTheCpuRunner()
    {
        Npy.Write(P("in.npy"), Image(1, 30, 40));
        string outDir = P("out");
        Assert.Equal(0, Features(P("in.npy"), "--stack", "edges", "--out", outDir));

        Assert.Equal(["00-conv.npy", "00-conv.png", "01-magnitude.npy", "01-magnitude.png", "input.npy"],
            Directory.GetFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Stack stack = StackCatalog.Load("edges");
        StackResult expected = StackRunner.Run(stack, Image(1, 30, 40));
        Assert.Equal(expected.Input.Data, Npy.Read(Path.Combine(outDir, "input.npy")).Data);
        Tensor conv = Npy.Read(Path.Combine(outDir, "00-conv.npy"));
        Assert.Equal([4, 30, 40], conv.Shape);
        Assert.Equal(expected.Outputs[0].Data, conv.Data);
        Tensor mag = Npy.Read(Path.Combine(outDir, "01-magnitude.npy"));
        Assert.Equal([2, 30, 40], mag.Shape);
        Assert.Equal(expected.Outputs[1].Data, mag.Data);

        // 4 maps of 30x40: scale floor(128/40) = 3, 2x2 grid with 2-pixel gaps.
        Tensor png = ImageIO.Load(Path.Combine(outDir, "00-conv.png"), ImageChannels.Gray);
        Assert.Equal([1, 2 * 90 + 2, 2 * 120 + 2], png.Shape);
        Assert.DoesNotContain(Directory.GetDirectories(_dir), d => Path.GetFileName(d).StartsWith('.'));
    }

    [Fact]
    public void Features_PngInputResized_ReplacesAnEarlierDump()
    {
        ImageIO.SavePng(P("in.png"), Image(3, 20, 24));
        string outDir = P("dump");
        Assert.Equal(0, Features(P("in.png"), "--stack", "edges", "--out", outDir));
        Assert.Equal(0, Features(P("in.png"), "--stack", "gabor", "--out", outDir, "--size", "33x17"));
        Assert.Equal(["00-conv.npy", "00-conv.png", "01-relu.npy", "01-relu.png", "02-maxpool.npy", "02-maxpool.png", "input.npy"],
            Directory.GetFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal([1, 17, 33], Npy.Read(Path.Combine(outDir, "input.npy")).Shape);
        Assert.Equal([8, 8, 16], Npy.Read(Path.Combine(outDir, "02-maxpool.npy")).Shape);
    }

    /// <summary>`--out maps/` (the README's spelling) is the folder maps, written whole, with nothing left beside it.</summary>
    /// <summary>The fuzz audit: a (2, H, W) array's refusal named the stack only ("stack 'edges' takes gray input; an image
    /// with 2 channels cannot be converted"); it names the file and its shape, and what would do.</summary>
    [Fact]
    public void Features_AnArrayOfChannelsNoStackTakes_IsRefusedNamingTheFile()
    {
        Npy.Write(P("two.npy"), Image(2, 6, 8));
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "features", P("two.npy"), "--stack", "edges", "--out", P("maps"));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"convgl: features: '{P("two.npy")}' is (2, 6, 8): stack 'edges' takes gray input; an image with 2 channels cannot be converted; " +
                     "give a gray, RGB or RGBA image, or a (1, H, W), (3, H, W) or (4, H, W) array (the fourth channel dropped)", r.Stderr.Trim());
        Assert.False(Directory.Exists(P("maps")));
    }

    [Fact]
    public void Features_OutWithTrailingSlash_WritesThatFolder()
    {
        ImageIO.SavePng(P("in.png"), Image(3, 12, 16));
        Assert.Equal(0, Features(P("in.png"), "--stack", "edges", "--out", P("maps") + "/"));
        Assert.Equal(["00-conv.npy", "00-conv.png", "01-magnitude.npy", "01-magnitude.png", "input.npy"],
            Directory.GetFiles(P("maps")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        // Again over the earlier dump, as the README's line would be rerun.
        Assert.Equal(0, Features(P("in.png"), "--stack", "gabor", "--out", P("maps") + "/"));
        Assert.Contains("02-maxpool.npy", Directory.GetFiles(P("maps")).Select(Path.GetFileName));
        Assert.Equal(["in.png", "maps"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Features_Errors_AreClearAndLeaveNothingBehind()
    {
        Npy.Write(P("in.npy"), Image(1, 10, 12));
        string outDir = P("out");
        var e = Assert.Throws<ConvGLException>(() => Features(P("in.npy"), "--stack", "no-such-stack", "--out", outDir));
        Assert.Contains("shipped: ", e.Message);
        Assert.Contains("edges", e.Message);
        Assert.False(Directory.Exists(outDir));

        e = Assert.Throws<ConvGLException>(() => Features(P("in.npy"), "--stack", "edges", "--out", outDir, "--size", "12by10"));
        Assert.Contains("--size", e.Message);

        e = Assert.Throws<ConvGLException>(() => Features(P("missing.png"), "--stack", "edges", "--out", outDir));
        Assert.Contains("missing.png", e.Message);
        Assert.False(Directory.Exists(outDir));

        // A file or a device as --out, each called what it is (/dev/null was "a file").
        File.WriteAllText(P("notes.txt"), "mine");
        e = Assert.Throws<ConvGLException>(() => Features(P("in.npy"), "--stack", "edges", "--out", P("notes.txt")));
        Assert.Equal($"features: --out {P("notes.txt")} is a file; give a folder", e.Message);
        e = Assert.Throws<ConvGLException>(() => Features(P("in.npy"), "--stack", "edges", "--out", "/dev/null"));
        Assert.Equal("features: --out /dev/null is a device, FIFO or socket; give a folder", e.Message);
        Assert.Equal("mine", File.ReadAllText(P("notes.txt")));

        // A pool that does not fit a 1x1 input: the plan fails before anything is written.
        File.WriteAllText(P("pool.json"), """{"layers": [{"type": "maxpool", "size": 3}]}""");
        e = Assert.Throws<ConvGLException>(() => Features(P("in.npy"), "--stack", P("pool.json"), "--out", outDir, "--size", "1x1"));
        Assert.Contains("layers[0] (maxpool) field 'size'", e.Message);
        Assert.False(Directory.Exists(outDir));

        Assert.EndsWith("the nearest sizes it runs at: height 3 instead of 1, width 3 instead of 1 (e.g. --size 3x3)", e.Message);

        // Attention over a large image passes the limit on its work: the error names a --size that runs (the newcomer walk:
        // the window named one, features did not), and an array, never resized, is told to crop.
        ImageIO.SavePng(P("wide.png"), Image(3, 2000, 3000));
        e = Assert.ThrowsAny<ConvGLException>(() => Features(P("wide.png"), "--stack", "attention", "--out", outDir));
        Assert.Contains("over ConvGL's limit", e.Message);
        Assert.EndsWith("(stack input 3000x2000); it runs at 1500x1000 (e.g. --size 1500x1000)", e.Message);
        e = Assert.ThrowsAny<ConvGLException>(() => Features(P("in.npy"), "--stack", "attention", "--out", outDir, "--size", "3000x2000"));
        Assert.EndsWith("it runs at 1500x1000 (e.g. --size 1500x1000)", e.Message);
        Npy.Write(P("wide.npy"), Tensor.Chw(3, 2000, 3000));
        e = Assert.Throws<ConvGLException>(() => Features(P("wide.npy"), "--stack", "attention", "--out", outDir));
        Assert.Contains("wide.npy: the array (3, 2000, 3000) goes in as it is and does not fit stack 'attention': ", e.Message);
        Assert.EndsWith("; it runs at (3, 1000, 1500) (e.g. --size 1500x1000, or crop the array)", e.Message);
        Assert.Contains("over ConvGL's limit", e.Message);
        Assert.False(Directory.Exists(outDir));

        // A folder with the user's own file is refused and left as it was.
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "notes.txt"), "mine");
        e = Assert.Throws<ConvGLException>(() => Features(P("in.npy"), "--stack", "edges", "--out", outDir));
        Assert.Contains("notes.txt", e.Message);
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(outDir).Select(Path.GetFileName));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(outDir, "notes.txt")));
        Assert.DoesNotContain(Directory.GetDirectories(_dir), d => Path.GetFileName(d).StartsWith('.'));

        // A folder that takes no files (/proc refuses even root): a clear error naming --out and the folder, found before
        // the maps are computed, not an internal one naming the hidden folder (a CLI review).
        e = Assert.Throws<ConvGLException>(() => Features(P("in.npy"), "--stack", "edges", "--out", "/proc/convgl-features"));
        Assert.StartsWith("features: --out /proc/convgl-features: cannot write in '/proc' (", e.Message);
        Assert.EndsWith("; choose a folder you can write to (nothing was written)", e.Message);
        Assert.DoesNotContain(".convgl-", e.Message);
        Assert.False(Directory.Exists("/proc/convgl-features"));
    }

    [Fact]
    public void Features_Gpu_MatchesCpu()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        Npy.Write(P("in.npy"), Image(1, 26, 31));
        Assert.Equal(0, Features(P("in.npy"), "--stack", "gabor", "--out", P("cpu")));
        Assert.Equal(0, Features(P("in.npy"), "--stack", "gabor", "--out", P("gpu"), "--device", "gpu"));
        foreach (string f in new[] { "00-conv.npy", "01-relu.npy", "02-maxpool.npy" })
        {
            Tensor c = Npy.Read(Path.Combine(P("cpu"), f)), g = Npy.Read(Path.Combine(P("gpu"), f));
            Assert.Equal(c.Shape, g.Shape);
            for (int i = 0; i < c.Length; i++)
                Assert.True(Math.Abs(c.Data[i] - g.Data[i]) <= 1e-5 + 1e-4 * Math.Abs(c.Data[i]), $"{f} index {i}: cpu {c.Data[i]}, gpu {g.Data[i]}");
        }
    }

    [Fact]
    public void ResizeBilinear_MatchesOpenCvInterLinear()
    {
        var rng = new Random(8);
        foreach ((int h, int w, int oh, int ow) in new[] { (7, 9, 15, 4), (12, 5, 5, 13), (3, 3, 8, 8), (10, 16, 10, 16), (1, 6, 4, 3) })
        {
            var input = Tensor.Chw(1, h, w);
            for (int i = 0; i < input.Length; i++) input.Data[i] = (float)rng.NextDouble();
            Tensor ours = FeaturesCommand.ResizeBilinear(input, oh, ow);
            using var src = Mat.FromPixelData(h, w, MatType.CV_32FC1, input.Data);
            using var dst = new Mat();
            Cv2.Resize(src, dst, new Size(ow, oh), 0, 0, InterpolationFlags.Linear);
            dst.GetArray(out float[] cv);
            for (int i = 0; i < cv.Length; i++)
                Assert.True(Math.Abs(cv[i] - ours.Data[i]) <= 1e-5, $"{h}x{w} -> {oh}x{ow} index {i}: ours {ours.Data[i]}, OpenCV {cv[i]}");
        }
    }

    [Fact]
    public void Grid_LaysOutMapsRowMajor_EachNormalisedOnItsOwn()
    {
        // 5 maps of 64x128 (no enlargement): 3 columns, 2 rows, 2-pixel white gaps.
        var maps = Tensor.Chw(5, 64, 128);
        for (int c = 0; c < 5; c++)
            for (int i = 0; i < 64 * 128; i++)
                maps.Data[c * 64 * 128 + i] = c == 3 ? 7f : c * 10 + (i % 128) / 127f * (c + 1);
        Tensor g = FeaturesCommand.Grid(maps);
        Assert.Equal([1, 2 * 64 + 2, 3 * 128 + 4], g.Shape);
        Assert.Equal(0f, g[0, 0, 0]);             // map 0 minimum
        Assert.Equal(1f, g[0, 0, 127]);           // map 0 maximum
        Assert.Equal(1f, g[0, 0, 128]);           // gap
        Assert.Equal(0f, g[0, 0, 130]);           // map 1 starts after the gap, its own minimum
        Assert.Equal(1f, g[0, 0, 130 + 127], 5);  // map 1 maximum (a different range, same grey levels)
        Assert.Equal(0.5f, g[0, 66, 40]);         // map 3 (second row, first column) is constant: mid-grey
        Assert.Equal(1f, g[0, 66, 2 * 130 + 10]); // no map 5: white
    }
}
