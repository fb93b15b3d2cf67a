using System.Runtime.CompilerServices;
using System.Text;
using ConvGL.Core.IO;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using StbImageWriteSharp;

namespace ConvGL.Core.Tests.Fuzz;

/// <summary>Every loader and spec parser of Core, with valid seeds made here by the project's own writers (and
/// stb's encoders for the formats ConvGL only reads), and what "valid" means for each result.</summary>
internal static class FuzzTargets
{
    public static readonly FuzzTarget[] All =
    [
        new("npy", ".npy", _ => NpySeeds(), Mutator.Tokens("{'descr': '<f4', ", "'fortran_order': False, ", "'shape': (", ",)", "3, 3", "<f8", ">f4", "True", "\n", "\x93NUMPY", "\u0002\u0000", "(0,)", "99999999999"),
            (bytes, path) => _ = bytes is null ? Npy.Read(path) : Npy.Parse(bytes, path)),
        new("safetensors", ".safetensors", _ => SafeTensorsSeeds(), Mutator.Tokens("\"dtype\"", "\"F32\"", "\"BF16\"", "\"shape\"", "[1, 2]", "\"data_offsets\"", "[0, 4]", "\"__metadata__\"", "\"\\ud800\"", "\\u0000", "18446744073709551615", "{", "}", "[", "]", ","),
            (bytes, path) => _ = bytes is null ? SafeTensors.ReadContent(path) : SafeTensors.Parse(bytes, path)),
        new("image-png", ".png", _ => [Png(Pattern(1, 5, 7)), Png(Pattern(3, 9, 4)), Stb(w => w.WritePng, 4, 3, 2)], Mutator.Tokens("IHDR", "IDAT", "IEND", "PLTE", "tRNS", "gAMA", "\0\0\0\0"),
            LoadImage) { PngCrcs = true },
        new("image-jpeg", ".jpg", _ => [Jpeg(3, 16, 8), Jpeg(1, 8, 9)], [[0xFF, 0xD8], [0xFF, 0xC0], [0xFF, 0xC4], [0xFF, 0xDA], [0xFF, 0xD9], [0xFF, 0xDB], [0xFF, 0xE0, 0x00, 0x10], [0x00, 0x00]],
            LoadImage),
        new("image-bmp", ".bmp", _ => [Stb(w => w.WriteBmp, 3, 5, 4), Stb(w => w.WriteBmp, 4, 3, 2)], [[(byte)'B', (byte)'M'], [40, 0, 0, 0], [24, 0], [32, 0], [0, 0, 0, 1], [3, 0, 0, 0]],
            LoadImage),
        new("image-tga", ".tga", _ => [Stb(w => w.WriteTga, 3, 5, 4), Stb(w => w.WriteTga, 1, 6, 3), Stb(w => w.WriteTga, 4, 2, 2)], [[2], [10], [3], [24], [32], [0x80], [0xFF, 0xFF]],
            LoadImage),
        new("image-gif", ".gif", _ => FormatSeeds.Gifs(), [[(byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a'], [0x21, 0xF9, 4], [0x2C], [0x3B], [0x21, 0xFF, 11], [0xFF, 0xFF], [0, 1], [0x80]],
            LoadImage),
        new("image-webp", ".webp", _ => FormatSeeds.Webps(), [.. Mutator.Tokens("RIFF", "WEBP", "VP8 ", "VP8L", "VP8X", "ALPH", "ANIM", "ANMF"), [0, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0], [0x9D, 0x01, 0x2A], [0x2F]],
            LoadImage),
        new("onnx", ".onnx", _ => FormatSeeds.OnnxModels(), [[0x08, 0x07], [0x3A], [0x0A, 0x01, 0x78], [0x12, 0x01, 0x79], [0x22, 0x04, 0x43, 0x6F, 0x6E, 0x76], [0x2A], [0x42, 0x02, 0x10, 0x0D],
                [0x08, 0x01], [0x08, 0x0B], [0x40, 0xFF, 0xFF, 0xFF, 0xFF, 0x07], [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
            FormatSeeds.LoadOnnxModel),
        // The same models imported as stacks (the window's and features' path, OnnxStack: a thousand lines of patterns).
        new("onnx-stack", ".onnx", _ => FormatSeeds.OnnxStackModels(), [[0x08, 0x07], [0x3A], [0x0A, 0x01, 0x78], [0x12, 0x01, 0x79], [0x22, 0x04, 0x43, 0x6F, 0x6E, 0x76], [0x2A], [0x42, 0x02, 0x10, 0x0D],
                [0x08, 0x01], [0x08, 0x03], [0x08, 0x0B], [0x40, 0xFF, 0xFF, 0xFF, 0xFF, 0x07], [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0x10, 0x01], [0x10, 0x02], [0x10, 0x03]],
            FormatSeeds.LoadOnnxStack),
        new("onnx-tensor", ".pb", _ => FormatSeeds.OnnxTensors(), [[0x08, 0x01], [0x10, 0x01], [0x10, 0x07], [0x10, 0x0B], [0x10, 0x0A], [0x4A], [0x22], [0x3A], [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0x08, 0x80, 0x80, 0x80, 0x80, 0x10]],
            FormatSeeds.LoadOnnxTensor),
        new("kernel-text", ".txt", _ => TextSeeds(), Mutator.Tokens(" ", ",", "\t", "\n", "\r\n", "#", "scale ", "1/16", "1e303", "-", "NaN", "Infinity", "0x10", "1e-45", "3.4e38", "\0"),
            (bytes, path) => CheckKernel(bytes is null ? KernelFile.Load(path) : KernelFile.ParseText(Encoding.UTF8.GetString(bytes), path), path)),
        new("kernel-spec", ".spec", _ => SpecSeeds(), Mutator.Tokens(":", ",", "=", "size", "sigma", "theta", "lambda", "amount", "angle", "1e308", "-1", "0", "1e-320", "NaN", "\n", "\r", "1025", "gabor", "gaussian"),
            (bytes, path) =>
            {
                string spec = Encoding.UTF8.GetString(bytes ?? File.ReadAllBytes(path));
                CheckKernel(KernelLibrary.Get(spec), spec);
            }) { Names = _ => "kernel '" },
        new("stack", ".json", StackSeeds, Mutator.Tokens("{", "}", "[", "]", ",", ":", "\"type\"", "\"conv\"", "\"kernels\"", "\"sum\": true", "\"stride\"", "\"dilation\"", "\"padding\"", "\"maxpool\"", "\"magnitude\"", "\"size\"", "4096", "-1", "1e400", "\"\\ud800\"", "\\n", "//", "/*", "\"input\": \"rgb\"", "\"weight\"", "\"gaussian:1025\"", "\"reduce_channels\"", "\"op\": \"sum\"", "\"inputs\": [0, 1]"),
            LoadStack),
    ];

    // ---- checks -----------------------------------------------------------------------------------------------

    private static void LoadImage(byte[]? bytes, string path)
    {
        Tensor t = bytes is null ? ImageIO.Load(path) : ImageIO.Decode(bytes, ImageChannels.Auto, path);
        if (t.Rank != 3 || t.C is not (1 or 3) || (long)t.H * t.W > Limits.ImagePixels) throw new InvalidResultException($"image shape {t.ShapeString}");
        foreach (float v in t.Data)
            if (!(v >= 0 && v <= 1)) throw new InvalidResultException($"image value {v} outside [0, 1]");
    }

    private static void CheckKernel(Tensor k, string what)
    {
        if (k.Rank != 2 || k.H < 1 || k.W < 1 || k.H > Limits.KernelSide || k.W > Limits.KernelSide)
            throw new InvalidResultException($"{what}: kernel shape {k.ShapeString}");
        foreach (float v in k.Data)
            if (!float.IsFinite(v)) throw new InvalidResultException($"{what}: kernel value {v}");
    }

    /// <summary>A stack that loads must plan or be refused with a reason, and (when small) run on a 16 x 16 image to
    /// maps of the planned shapes with finite values.</summary>
    private static void LoadStack(byte[]? bytes, string path)
    {
        Stack stack = bytes is null ? StackFile.Load(path) : StackFile.Parse(Encoding.UTF8.GetString(bytes), path);
        if (!StackPlan.TryCreate(stack, 16, 16, null, out StackPlan? plan, out string? error))
        {
            if (error is null || !ErrorText.IsOneLine(error)) throw new InvalidResultException($"plan refused without one line: {error}");
            return;
        }
        long work = 0;
        for (int i = 0; i < stack.Layers.Count; i++)
            if (stack.Layers[i] is ConvLayer conv) work += plan!.Outputs[i].Values * conv.Weight.Shape[1] * conv.Weight.Shape[2] * conv.Weight.Shape[3];
        if (work > 20_000_000) return;
        var image = Tensor.Chw(stack.InputChannels, 16, 16);
        for (int i = 0; i < image.Length; i++) image.Data[i] = (i * 37 % 101) / 100f;
        StackResult result = StackRunner.Run(stack, image);
        // Layers whose math gives infinities and NaN by IEEE's rules (x / 0, a negative base to a fraction, log 0, exp of
        // a large value), and every layer after one: non-finite values are right there; everywhere else they are a fault.
        var ieee = new bool[stack.Layers.Count];
        for (int i = 0; i < result.Outputs.Count; i++)
        {
            ieee[i] = stack.Layers[i] is ElementwiseLayer { Kind: BinaryKind.Div or BinaryKind.Pow } or UnaryLayer || stack.Layers[i].InputsOf(i).Any(j => j >= 0 && ieee[j]);
            Tensor o = result.Outputs[i];
            if (!o.Shape.AsSpan().SequenceEqual(plan!.Outputs[i].ToArray())) throw new InvalidResultException($"layer {i} output {o.ShapeString}, planned {plan.Outputs[i]}");
            foreach (float v in o.Data)
                if (!float.IsFinite(v) && !ieee[i]) throw new InvalidResultException($"layer {i} output holds {v}");
        }
    }

    // ---- seeds ------------------------------------------------------------------------------------------------

    private static Tensor Pattern(int c, int h, int w)
    {
        var t = Tensor.Chw(c, h, w);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (i * 53 % 256) / 255f;
        return t;
    }

    private static byte[][] NpySeeds()
    {
        byte[] f8 = Npy.ToBytes(new Tensor([2, 3], [1, 2, 3, 4, 5, 6]));
        // The same array as big-endian float64: the header says '>f8' and the data block doubles.
        string header = "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }";
        var be = new List<byte>([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        string padded = header.PadRight(64 - 10 - 1) + "\n";
        be.AddRange(BitConverter.GetBytes((ushort)padded.Length));
        be.AddRange(Encoding.ASCII.GetBytes(padded));
        for (int i = 1; i <= 6; i++) be.AddRange(BitConverter.GetBytes((double)i).Reverse());
        return [Npy.ToBytes(new Tensor([3, 3], [1, 2, 1, 0, 0, 0, -1, -2, -1])), Npy.ToBytes(Pattern(2, 3, 4)), Npy.ToBytes(new Tensor([5], [1, 2, 3, 4, 5])), f8, be.ToArray(), Npy.ToBytes(new Tensor([0]))];
    }

    private static byte[][] SafeTensorsSeeds() =>
    [
        SafeTensors.Serialize(new Dictionary<string, Tensor> { ["conv1.weight"] = Pattern(4, 3, 3).Reshape(4, 1, 3, 3), ["conv1.bias"] = new Tensor([4], [1, 2, 3, 4]) }),
        SafeTensors.Serialize(new Dictionary<string, Tensor> { ["a"] = new Tensor([2, 2], [1, 2, 3, 4]) }, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "x" }),
        SafeTensors.Serialize(new Dictionary<string, Tensor>()),
    ];

    private static byte[] Png(Tensor t)
    {
        using var dir = new TempDir();
        ImageIO.SavePng(dir.File("s.png"), t);
        return File.ReadAllBytes(dir.File("s.png"));
    }

    private static byte[] Stb(Func<ImageWriter, Action<byte[], int, int, ColorComponents, Stream>> write, int comps, int w, int h)
    {
        var px = new byte[w * h * comps];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)(i * 29);
        using var s = new MemoryStream();
        write(new ImageWriter())(px, w, h, (ColorComponents)comps, s);
        return s.ToArray();
    }

    private static byte[] Jpeg(int comps, int w, int h)
    {
        var px = new byte[w * h * comps];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)(i * 29);
        using var s = new MemoryStream();
        new ImageWriter().WriteJpg(px, w, h, (ColorComponents)comps, s, 90);
        return s.ToArray();
    }

    private static byte[][] TextSeeds() =>
    [
        .. new[]
        {
            "-1 0 1\n-2 0 2\n-1 0 1\n",
            "# a blur\nscale 1/16\n1 2 1\n2 4 2\n1 2 1\n",
            "scale 0.5\n1, 2, 3\n4, 5, 6\n",
            "0.25\t0.5\t0.25\n",
            "1\n",
            "1 2 3 4 5\n6 7 8 9 10   # trailing comment\n\n11 12 13 14 15\n",
        }.Select(Encoding.UTF8.GetBytes),
    ];

    private static byte[][] SpecSeeds() =>
    [
        .. KernelLibrary.Names.Select(n => Encoding.UTF8.GetBytes(n)),
        .. new[] { "gaussian:5,1.5", "gaussian:size=9,sigma=0", "gabor:theta=45,lambda=6", "gabor:0,2,6,0.5,90,7", "unsharp:5,1,1.5", "log:9,1.4", "dog:9,1,1.6", "motion-blur:9,30", "laplacian:8", "box:4" }
            .Select(Encoding.UTF8.GetBytes),
    ];

    /// <summary>assets/stacks of this source tree (a test runner may start in its output folder, where
    /// <see cref="StackCatalog.ShippedDirectory"/> would look above that instead).</summary>
    private static string ShippedStacks([CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "..", "..", "assets", "stacks"));

    private static byte[][] StackSeeds(string dir)
    {
        string shipped = ShippedStacks();
        File.Copy(Path.Combine(shipped, "learned.safetensors"), Path.Combine(dir, "learned.safetensors"), overwrite: true);
        File.WriteAllText(Path.Combine(dir, "k.txt"), "1 2 1\n2 4 2\n1 2 1\n");
        var seeds = new List<byte[]>(Directory.GetFiles(shipped, "*.json").Order(StringComparer.Ordinal).Select(File.ReadAllBytes));
        seeds.AddRange(new[]
        {
            """{ "input": "rgb", "layers": [ {"type": "conv", "kernels": ["sobel-x", "k.txt"], "sum": true, "stride": [2, 1], "padding": "valid"}, {"type": "leaky_relu", "slope": 0.2}, {"type": "maxpool", "size": 2, "stride": 1, "padding": 1} ] }""",
            """{ "layers": [ {"type": "conv", "kernels": ["gaussian:3"], "dilation": 2, "border": "wrap", "mode": "convolve"}, {"type": "avgpool", "size": [2, 3]}, {"type": "sigmoid"}, {"type": "tanh"}, {"type": "abs"} ] }""",
            """{ "name": "p", "layers": [ {"type": "conv", "kernels": ["sobel-x", "sobel-y"], "padding": [1, 2], "border": "symmetric"}, {"type": "magnitude"}, {"type": "relu"} ], }""",
            """{ "input": "rgb", "layers": [ {"type": "conv", "name": "e", "kernels": ["sobel-x", "box:3"]}, {"type": "reduce_channels", "name": "m", "op": "max"}, {"type": "mul", "inputs": ["input", "m"]}, {"type": "pow", "inputs": ["m", "e"]}, {"type": "globalavgpool", "name": "g", "inputs": ["e"]}, {"type": "min", "inputs": ["g", 3]}, {"type": "reduce_channels", "op": "mean"} ] }""",
        }.Select(Encoding.UTF8.GetBytes));
        return [.. seeds];
    }
}
