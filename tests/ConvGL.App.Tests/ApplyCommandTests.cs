using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConvGL.App.Cli;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Ops;

namespace ConvGL.App.Tests;

public sealed class ApplyCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-apply-test-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    private string P(string name) => Path.Combine(_dir, name);

    private string[] Files() => Directory.GetFiles(_dir).Select(Path.GetFileName).OfType<string>().Order().ToArray();

    /// <summary>A (1, 30000, 30000) array (3.6 GB, sparse here) was read whole before apply said its output was over the
    /// limit, and features before it said the stack cannot take it. Now both are refused from the header: under a 1 GiB
    /// heap (DOTNET_GCHeapHardLimit) reading it first would have failed the memory check instead.</summary>
    [Fact]
    public void AnArrayOverTheOutputLimit_IsRefusedFromItsHeader_BeforeItsDataIsRead()
    {
        string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 30000, 30000), }";
        dict = dict.PadRight(64 * ((10 + dict.Length + 1 + 63) / 64) - 10 - 1) + "\n";
        byte[] header = [0x93, .. "NUMPY"u8, 1, 0, (byte)dict.Length, (byte)(dict.Length >> 8), .. System.Text.Encoding.ASCII.GetBytes(dict)];
        using (var f = File.Create(P("big.npy")))
        {
            f.Write(header);
            f.SetLength(header.Length + 30000L * 30000 * 4);
        }
        Assert.Equal(new[] { 1, 30000, 30000 }, Npy.ReadShape(P("big.npy")));
        var small = new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x40000000" };
        ApplyProcess.Result r = ApplyProcess.ConvglWith(small, _dir, "apply", "big.npy", "out.npy", "--kernel", "box");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("the output would be 30000x30000 = 900000000 values a channel", r.Stderr);
        r = ApplyProcess.ConvglWith(small, _dir, "features", "big.npy", "--stack", "edges", "--out", "maps");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("does not fit stack 'edges'", r.Stderr);
        Assert.Equal(["big.npy"], Files());
    }

    /// <summary>ApplyCommand in-process through the same parser Program uses (the oracle runs many cases; a process
    /// each would only add host start-up time). Error behaviour is tested through the real executable below.</summary>
    private static int ApplyInProcess(params string[] args) => CliRoot.Execute(["apply", .. args]);

    // ---- a photo-like test image, generated here (no third-party images) --------------------------------------

    private const int PhotoH = 67, PhotoW = 91;

    /// <summary>Interleaved RGB bytes of a small synthetic "photograph": a sky gradient, a sun disc with a soft
    /// edge, rolling hills, a striped house with a dark window, a checkered path, fine texture and sensor noise.</summary>
    private static byte[] PhotoBytes(int h, int w, int seed)
    {
        var rng = new Random(seed);
        var px = new byte[h * w * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double fy = (double)y / (h - 1), fx = (double)x / (w - 1);
                double r = 0.35 + 0.3 * fy, g = 0.55 + 0.25 * fy, b = 0.95 - 0.35 * fy; // sky
                double sun = Math.Sqrt((fx - 0.78) * (fx - 0.78) + (fy - 0.2) * (fy - 0.2) * 0.5);
                double glow = Math.Clamp((0.12 - sun) / 0.03, 0, 1);
                r += (1.0 - r) * glow; g += (0.9 - g) * glow; b += (0.5 - b) * glow;
                double hill = 0.62 + 0.08 * Math.Sin(fx * 7.0) + 0.04 * Math.Sin(fx * 19.0 + 1.3);
                if (fy > hill)
                {
                    double grass = 0.5 + 0.5 * Math.Sin(x * 1.7 + y * 0.9) * Math.Cos(x * 0.4 - y * 2.1); // texture
                    r = 0.2 + 0.1 * grass; g = 0.45 + 0.25 * grass; b = 0.15 + 0.05 * grass;
                }
                if (fx > 0.15 && fx < 0.42 && fy > 0.4 && fy < 0.8)
                {
                    double stripe = (y / 3) % 2 == 0 ? 0.75 : 0.6; // siding
                    r = stripe; g = stripe * 0.8; b = stripe * 0.7;
                    if (fx > 0.22 && fx < 0.3 && fy > 0.5 && fy < 0.62) { r = 0.08; g = 0.1; b = 0.18; }
                }
                if (fy > 0.85 && Math.Abs(fx - 0.6) < 0.2 * fy)
                {
                    double c = ((x / 4 + y / 4) % 2 == 0) ? 0.85 : 0.35; // checkered path
                    r = c; g = c; b = c * 0.95;
                }
                int i = (y * w + x) * 3;
                double[] rgb = [r, g, b];
                for (int ch = 0; ch < 3; ch++)
                    px[i + ch] = (byte)Math.Clamp(Math.Round(rgb[ch] * 255 + (rng.NextDouble() - 0.5) * 16), 0, 255);
            }
        return px;
    }

    private static Tensor BytesToTensor(byte[] px, int h, int w)
    {
        var t = Tensor.Chw(3, h, w);
        for (int p = 0; p < h * w; p++)
            for (int c = 0; c < 3; c++) t.Data[c * h * w + p] = px[p * 3 + c] / 255f;
        return t;
    }

    private string WritePhoto(string name = "photo.png")
    {
        byte[] px = PhotoBytes(PhotoH, PhotoW, 2024);
        using (var s = File.Create(P(name)))
            new StbImageWriteSharp.ImageWriter().WritePng(px, PhotoW, PhotoH, StbImageWriteSharp.ColorComponents.RedGreenBlue, s);
        File.WriteAllBytes(P("photo.rgb"), px);
        return P(name);
    }

    // ---- the NumPy/SciPy oracle ---------------------------------------------------------------------------------

    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public void Apply_MatchesNumPySciPy_OnAPhotoLikeImage_ForEveryOptionCombination(string device)
    {
        ApplyProcess.RequireNumpyScipy();
        string photo = WritePhoto();
        // Kernel files: a 2x3 asymmetric text kernel with a scale line (even height, odd width), and a 4x4 .npy
        // written by NumPy itself (read by ConvGL's .npy reader, and by NumPy again in the oracle).
        File.WriteAllText(P("k.txt"), "# asymmetric, so orientation mistakes show\nscale 1/4\n1 2 -1\n0, 3, 1\n");
        double[][] fileMatrix = [[0.25, 0.5, -0.25], [0, 0.75, 0.25]];
        ApplyProcess.Result prep = ApplyProcess.Run(ApplyProcess.Python, ["-c",
            "import numpy as np; rng = np.random.default_rng(5); np.save('k4.npy', rng.uniform(-1, 1, (4, 4)))"], _dir);
        Assert.True(prep.ExitCode == 0, prep.Stderr);

        (string Spec, string? Py)[] kernels =
        [
            ("identity", null), ("box:3", null), ("box:4", null), ("gaussian:5,1.2", null), ("sharpen", null), ("emboss", null),
            ("sobel-x", null), ("sobel-y", null), ("scharr-x", null), ("laplacian:8", null), ("log:7,1.0", null),
            ("vertical-edge", null), ("motion-blur:5,0", null), (P("k.txt"), "matrix"), (P("k4.npy"), "npy"),
        ];
        (int Stride, int Dilation, string Size)[] geometries =
        [
            (1, 1, "same"), (2, 1, "same"), (1, 2, "same"), (1, 1, "valid"), (3, 2, "valid"), (1, 1, "full"),
            (2, 3, "full"), (1, 1, "2"), (2, 1, "1"), (3, 1, "same"), (1, 3, "valid"),
        ];
        string[] borders = ["zero", "replicate", "reflect", "symmetric", "wrap"];
        string[] modes = ["correlate", "convolve"];

        var cases = new JsonArray();
        var described = new List<string>();
        int id = 0;
        void AddCase(string spec, string? py, string mode, string border, (int Stride, int Dilation, string Size) geo, string? channels)
        {
            string output = P($"out{id}.npy");
            var args = new List<string> { photo, output, "--kernel", spec, "--mode", mode, "--border", border, "--size", geo.Size,
                "--stride", geo.Stride.ToString(CultureInfo.InvariantCulture), "--dilation", geo.Dilation.ToString(CultureInfo.InvariantCulture),
                "--device", device };
            if (channels is not null) args.AddRange(["--channels", channels]);
            string line = "convgl apply " + string.Join(' ', args);
            Assert.True(ApplyInProcess([.. args]) == 0, line);
            var c = new JsonObject
            {
                ["id"] = id, ["mode"] = mode, ["border"] = border, ["size"] = geo.Size, ["stride"] = geo.Stride, ["dilation"] = geo.Dilation,
                // No --channels: the photo is a colour PNG, so DESIGN's default is rgb.
                ["channels"] = channels ?? "rgb", ["output"] = output, ["kernel"] = spec,
            };
            if (py == "matrix") c["matrix"] = JsonSerializer.SerializeToNode(fileMatrix);
            if (py == "npy") c["npy"] = spec;
            cases.Add(c);
            described.Add(line);
            id++;
        }

        string?[] channelChoices = ["rgb", null, "gray"];
        // Every option combination for three kernels chosen to expose placement mistakes: sobel-x (odd, antisymmetric),
        // the 2x3 text kernel (even height, odd width, no symmetry) and the random 4x4 .npy (even, no symmetry).
        foreach ((string spec, string? py) in kernels.Where(k => k.Spec == "sobel-x" || k.Py is not null))
            foreach (string mode in modes)
                foreach (string border in borders)
                    foreach ((int, int, string) geo in geometries)
                        AddCase(spec, py, mode, border, geo, channelChoices[id % 3]);
        // Every other kernel under every mode and border, the geometries cycling.
        foreach ((string spec, string? py) in kernels.Where(k => k.Spec != "sobel-x" && k.Py is null))
            foreach (string mode in modes)
                foreach (string border in borders)
                    AddCase(spec, py, mode, border, geometries[id % geometries.Length], channelChoices[id % 3]);

        // A .npy input written by NumPy (float64, (H, W)), so the reader meets a file it did not write.
        ApplyProcess.Result grayPrep = ApplyProcess.Run(ApplyProcess.Python, ["-c",
            $"import numpy as np; rgb = np.fromfile('photo.rgb', np.uint8).reshape({PhotoH}, {PhotoW}, 3).transpose(2, 0, 1).astype(np.float32) / np.float32(255); " +
            "g = (0.299 * rgb[0].astype(np.float64) + 0.587 * rgb[1].astype(np.float64) + 0.114 * rgb[2].astype(np.float64)).astype(np.float32); " +
            "np.save('gray.npy', g.astype(np.float64))"], _dir);
        Assert.True(grayPrep.ExitCode == 0, grayPrep.Stderr);
        foreach ((string border, string size) in new[] { ("reflect", "same"), ("wrap", "full"), ("symmetric", "valid") })
        {
            string output = P($"out{id}.npy");
            string[] args = [P("gray.npy"), output, "--kernel", "sobel-y", "--border", border, "--size", size, "--device", device];
            Assert.True(ApplyInProcess(args) == 0, string.Join(' ', args));
            cases.Add(new JsonObject
            {
                ["id"] = id, ["mode"] = "correlate", ["border"] = border, ["size"] = size, ["stride"] = 1, ["dilation"] = 1,
                ["channels"] = "gray", ["input"] = "gray-npy", ["output"] = output, ["kernel"] = "sobel-y",
            });
            described.Add("convgl apply " + string.Join(' ', args));
            id++;
        }

        var specJson = new JsonObject { ["height"] = PhotoH, ["width"] = PhotoW, ["raw"] = P("photo.rgb"), ["cases"] = cases };
        File.WriteAllText(P("cases.json"), specJson.ToJsonString());
        File.WriteAllText(P("oracle.py"), ApplyOracleScript.Source);
        ApplyProcess.Result r = ApplyProcess.Run(ApplyProcess.Python, [P("oracle.py"), P("cases.json")], _dir);
        Assert.True(r.ExitCode == 0, $"oracle failed: {r.Stderr}");

        JsonArray results = JsonNode.Parse(r.Stdout)!.AsArray();
        Assert.Equal(id, results.Count);
        var failures = new List<string>();
        foreach (JsonNode? res in results)
        {
            int i = res!["id"]!.GetValue<int>();
            Assert.Equal("float32", res["dtype"]!.GetValue<string>());
            if (!res["ok"]!.GetValue<bool>())
                failures.Add($"{described[i]}: {res.ToJsonString()}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {id} cases differ from NumPy/SciPy beyond 1e-5 * max(1, |expected|):\n" + string.Join("\n", failures.Take(15)));
    }

    // ---- .png output and its documented normalisation ----------------------------------------------------------

    [Fact]
    public void Apply_PngOutput_ClampsImagesAndMinMaxesSignedResponses()
    {
        string photo = WritePhoto();
        Tensor input = BytesToTensor(PhotoBytes(PhotoH, PhotoW, 2024), PhotoH, PhotoW);

        // Gaussian: the output stays in [0, 1] -> plain 255 * v.
        Assert.Equal(0, ApplyInProcess(photo, P("g.png"), "--kernel", "gaussian:5,1.2"));
        Assert.Equal(0, ApplyInProcess(photo, P("g.npy"), "--kernel", "gaussian:5,1.2"));
        Tensor g = Npy.Read(P("g.npy"));
        Assert.Equal(ImageIO.ToBytes(g, PngScaling.Clamp), ImageIO.ToBytes(ImageIO.Load(P("g.png")), PngScaling.Clamp));

        // Sharpen overshoots [0, 1] but sums to 1: clamped (saturates like OpenCV's 8-bit output).
        Assert.Equal(0, ApplyInProcess(photo, P("s.png"), "--kernel", "sharpen"));
        Tensor s = Conv2D.Filter(input, ConvGL.Core.Kernels.KernelLibrary.Get("sharpen"), ConvOptions.ImageFilter);
        (float smin, float smax) = s.Range();
        Assert.True(smin < 0 || smax > 1, "the sharpened photo should overshoot, else this case tests nothing");
        Assert.Equal(ImageIO.ToBytes(s, PngScaling.Clamp), ImageIO.ToBytes(ImageIO.Load(P("s.png")), PngScaling.Clamp));

        // Sobel: signed, sums to 0 -> min-max over all channels; the darkest byte is 0 and the brightest 255.
        Assert.Equal(0, ApplyInProcess(photo, P("e.png"), "--kernel", "sobel-x", "--channels", "gray"));
        Tensor e = Conv2D.Filter(ImageIO.ToGray(input), ConvGL.Core.Kernels.KernelLibrary.Get("sobel-x"), ConvOptions.ImageFilter);
        byte[] png = ImageIO.ToBytes(ImageIO.Load(P("e.png")), PngScaling.Clamp);
        Assert.Equal(ImageIO.ToBytes(e, PngScaling.MinMax), png);
        Assert.Equal(0, png.Min());
        Assert.Equal(255, png.Max());
    }

    [Fact]
    public void Apply_Defaults_AreReflectSameCorrelateAndRgbForAColourImage()
    {
        string photo = WritePhoto();
        Assert.Equal(0, ApplyInProcess(photo, P("o.npy"), "--kernel", "sobel-x"));
        Tensor input = BytesToTensor(PhotoBytes(PhotoH, PhotoW, 2024), PhotoH, PhotoW);
        Tensor expected = Conv2D.Filter(input, ConvGL.Core.Kernels.KernelLibrary.Get("sobel-x"),
            new ConvOptions { Border = Border.Reflect, Padding = PaddingMode.Same, Mode = ConvMode.Correlate });
        Tensor actual = Npy.Read(P("o.npy"));
        Assert.Equal([3, PhotoH, PhotoW], actual.Shape);
        // sobel-x is rank 1, so apply runs it as two exact integer passes: equal to the 2D reference to the last bit.
        Assert.Equal(expected.Data, actual.Data);
        // A kernel that is not separable runs the reference itself.
        Assert.Equal(0, ApplyInProcess(photo, P("l.npy"), "--kernel", "laplacian:8", "--border", "wrap", "--mode", "convolve"));
        Tensor lap = Conv2D.Filter(input, ConvGL.Core.Kernels.KernelLibrary.Get("laplacian:8"),
            new ConvOptions { Border = Border.Wrap, Mode = ConvMode.Convolve });
        Assert.Equal(lap.Data, Npy.Read(P("l.npy")).Data);
    }

    // ---- bad input: exit 2, one line, nothing written ----------------------------------------------------------

    public static TheoryData<string, string[], string> BadInputs => new()
    {
        { "missing input", ["nope.png", "out.npy", "--kernel", "sobel-x"], "nope.png" },
        { "undecodable image", ["garbage.png", "out.npy", "--kernel", "sobel-x"], "cannot decode" },
        { "unknown kernel", ["photo.png", "out.npy", "--kernel", "sobelx"], "unknown kernel 'sobelx'" },
        { "ragged kernel file", ["photo.png", "out.npy", "--kernel", "ragged.txt"], "ragged.txt:3:" },
        { "non-number in kernel file", ["photo.png", "out.npy", "--kernel", "word.txt"], "word.txt:2:" },
        { "missing kernel file", ["photo.png", "out.npy", "--kernel", "./none.txt"], "does not exist" },
        { "even size where odd is needed", ["photo.png", "out.npy", "--kernel", "gaussian:4"], "even" },
        { "zero stride", ["photo.png", "out.npy", "--kernel", "box", "--stride", "0"], "--stride" },
        { "zero dilation", ["photo.png", "out.npy", "--kernel", "box", "--dilation", "0"], "--dilation" },
        { "output below 1x1", ["tiny.npy", "out.npy", "--kernel", "box:5", "--size", "valid"], "below 1" },
        { "output below 1x1 by dilation", ["tiny.npy", "out.png", "--kernel", "box", "--size", "valid", "--dilation", "3"], "below 1" },
        { "unknown output extension", ["photo.png", "out.jpg", "--kernel", "box"], ".npy" },
        { "unknown border", ["photo.png", "out.npy", "--kernel", "box", "--border", "mirror"], "--border" },
        { "bad size", ["photo.png", "out.npy", "--kernel", "box", "--size", "huge"], "--size" },
        { "bad mode", ["photo.png", "out.npy", "--kernel", "box", "--mode", "conv"], "--mode" },
        { "missing --kernel", ["photo.png", "out.npy"], "--kernel" },
        { "missing output", ["photo.png"], "OUTPUT" },
        { "unknown option", ["photo.png", "out.npy", "--kernel", "box", "--colour", "red"], "--colour" },
        { "output directory missing", ["photo.png", "no/such/dir/out.npy", "--kernel", "box"], "does not exist" },
        { "3-D kernel .npy", ["photo.png", "out.npy", "--kernel", "k3.npy"], "2D" },
        { "5-channel input to png", ["five.npy", "out.png", "--kernel", "box"], "channels" },
        { "int npy input", ["int.npy", "out.npy", "--kernel", "box"], "dtype" },
        { "NaN in the input array", ["nan.npy", "out.npy", "--kernel", "box"], "'nan.npy' holds NaN at flat index 7 (of 16 values); an input array must be finite" },
        { "infinity in the input array", ["inf.npy", "out.png", "--kernel", "box"], "'inf.npy' holds -" },
        { "output is the input", ["tiny.npy", "tiny.npy", "--kernel", "box"], "is the input 'tiny.npy'" },
        { "an empty array", ["empty.npy", "out.npy", "--kernel", "box"], "apply: 'empty.npy' has shape (3, 0, 16): an empty array" },
        // A CLI review: sums past float32's range came out as infinities with no word, a PNG of them all white.
        { "an output that overflows, to a PNG", ["ones.npy", "out.png", "--kernel", "big.txt"],
          "apply: 16 of 16 output values overflow float32 (their sums pass 3.4e38), so a PNG has no range to show" },
        // "--size 1000000" said "must be same, valid, full or a padding N >= 0".
        { "a padding of seven digits", ["photo.png", "out.npy", "--kernel", "box", "--size", "1000000"], "a padding of 1000000 pixels is past the largest ConvGL takes (999999)" },
        // "gaussian:" ran as the defaults while "gaussian:," was refused.
        { "a colon and no parameters", ["photo.png", "out.npy", "--kernel", "gaussian:"], "kernel 'gaussian:': nothing after the ':'" },
        // A folder that takes no files was named by the hidden temporary file's path (/proc: read-only even for root).
        { "an output folder that takes no files", ["photo.png", "/proc/out.npy", "--kernel", "box"], "cannot write '/proc/out.npy': " },
        // A picture as NumPy holds it (a newcomer review: it ran as 30 maps of 40x3 and exited 0).
        { "an (H, W, C) picture", ["hwc.npy", "out.npy", "--kernel", "box"],
          "apply: 'hwc.npy' has shape (30, 40, 3), which reads as (H, W, C), the order NumPy, OpenCV and PIL give pictures; ConvGL takes (C, H, W): save np.transpose(a, (2, 0, 1)) instead, a (3, 30, 40) array" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Apply_BadInput_Exits2WithOneLineAndWritesNothing(string what, string[] args, string mentions)
    {
        WritePhoto();
        File.Delete(P("photo.rgb"));
        File.WriteAllBytes(P("garbage.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3, 4, 5, 6, 7, 8]);
        File.WriteAllText(P("ragged.txt"), "1 2 3\n4 5 6\n7 8\n");
        File.WriteAllText(P("word.txt"), "1 2\none 2\n");
        Npy.Write(P("tiny.npy"), Tensor.Chw(1, 3, 3));
        Npy.Write(P("ones.npy"), new Tensor([1, 4, 4], Enumerable.Repeat(1f, 16).ToArray()));
        File.WriteAllText(P("big.txt"), "1e38 1e38\n1e38 1e38\n");
        Npy.Write(P("empty.npy"), new Tensor([3, 0, 16]));
        Npy.Write(P("k3.npy"), new Tensor([1, 3, 3]));
        Npy.Write(P("five.npy"), Tensor.Chw(5, 4, 4));
        Npy.Write(P("hwc.npy"), new Tensor([30, 40, 3]));
        Tensor nan = Tensor.Chw(1, 4, 4), inf = Tensor.Chw(1, 4, 4);
        nan.Data[7] = float.NaN;
        inf.Data[3] = float.NegativeInfinity;
        Npy.Write(P("nan.npy"), nan);
        Npy.Write(P("inf.npy"), inf);
        // A little-endian int32 .npy, as np.save(np.arange(4, dtype=np.int32)) writes it.
        byte[] header = System.Text.Encoding.ASCII.GetBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }".PadRight(117) + "\n");
        File.WriteAllBytes(P("int.npy"), [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0, .. header, .. new byte[16]]);
        string[] before = Files();

        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, ["apply", .. args]);
        string context = $"{what}: convgl apply {string.Join(' ', args)} -> exit {r.ExitCode}, stderr '{r.Stderr}'";
        Assert.True(r.ExitCode == 2, context);
        string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr: {context}");
        Assert.StartsWith("convgl: ", lines[0]);
        Assert.Contains(mentions, lines[0]);
        Assert.DoesNotContain(".convgl-", lines[0]);
        Assert.Equal(before, Files());
        Assert.Empty(r.Stdout);
    }

    /// <summary>A CLI review: finite input and kernel whose sums pass float32's range wrote infinities with exit 0 and no
    /// word. An .npy keeps them (the true float32 result), and stderr says how many and why.</summary>
    [Fact]
    public void Apply_AnOverflowingOutput_ToNpy_IsWritten_AndSaysSo()
    {
        Npy.Write(P("ones.npy"), new Tensor([1, 2, 2], [1, 1, 1, 1]));
        File.WriteAllText(P("big.txt"), "1e38 1e38\n1e38 1e38\n");
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "apply", "ones.npy", "out.npy", "--kernel", "big.txt", "--border", "replicate");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal($"convgl: apply: 4 of 4 output values overflow float32 (their sums pass 3.4e38): written to out.npy as infinities; scale the kernel or the input down for finite values",
            r.Stderr.Trim());
        Assert.All(Npy.Read(P("out.npy")).Data, v => Assert.Equal(float.PositiveInfinity, v));
    }

    [Fact]
    public void Apply_DeviceGpu_ThroughTheExecutable_EqualsCpuWithinTolerance()
    {
        // abs 1e-5 + rel 1e-4: the GPU sums in float32, the reference in double.
        WritePhoto();
        foreach (string kernel in new[] { "sobel-x", "gaussian:7,2", "log:9,1.4" })
        {
            ApplyProcess.Result gpu = ApplyProcess.Convgl(_dir, "apply", "photo.png", "gpu.npy", "--kernel", kernel, "--device", "gpu", "--border", "symmetric", "--stride", "2");
            Assert.True(gpu.ExitCode == 0, $"{kernel}: exit {gpu.ExitCode}, stderr '{gpu.Stderr}'");
            Assert.Equal(0, ApplyInProcess(P("photo.png"), P("cpu.npy"), "--kernel", kernel, "--device", "cpu", "--border", "symmetric", "--stride", "2"));
            Tensor g = Npy.Read(P("gpu.npy")), c = Npy.Read(P("cpu.npy"));
            Assert.Equal(c.Shape, g.Shape);
            for (int i = 0; i < c.Length; i++)
                Assert.True(Math.Abs(g.Data[i] - c.Data[i]) <= 1e-5 + 1e-4 * Math.Abs(c.Data[i]), $"{kernel}: element {i}: gpu {g.Data[i]} cpu {c.Data[i]}");
        }
    }

    [Fact]
    public void Apply_Succeeds_ThroughTheExecutable_AndHelpListsKernels()
    {
        WritePhoto();
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "apply", "photo.png", "out.png", "--kernel", "gaussian:size=5,sigma=1.5", "--device", "cpu");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Empty(r.Stderr);
        Assert.Equal([3, PhotoH, PhotoW], ImageIO.Load(P("out.png")).Shape);
        Assert.DoesNotContain(Files(), f => f.StartsWith('.'));

        ApplyProcess.Result help = ApplyProcess.Convgl(_dir, "apply", "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (string name in ConvGL.Core.Kernels.KernelLibrary.Names) Assert.Contains(name, help.Stdout);
        // Each parameter with its domain, from the definitions that validate specs.
        foreach (ConvGL.Core.Kernels.KernelParameter p in ConvGL.Core.Kernels.KernelLibrary.All.SelectMany(d => d.Parameters))
            Assert.Contains(p.FullDomain + ": " + p.Description, help.Stdout);
    }
}
