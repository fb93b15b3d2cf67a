using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Onnx;
using Google.Protobuf;
using SkiaSharp;

namespace ConvGL.Core.Tests.Fuzz;

/// <summary>Valid seed files for the formats ConvGL reads but has no writer of its own for: GIF (written here: Skia
/// has no GIF encoder), WebP (Skia's encoder, lossy and lossless) and ONNX (a small model and tensor built with the
/// generated protobuf messages, plus an official backend test case when Debian's libonnx-testdata is installed).
/// Each seed is checked to load before it is mutated, so a broken seed fails loudly instead of fuzzing nothing.</summary>
internal static class FormatSeeds
{
    /// <summary>The official ONNX conformance case mutated besides the generated model (absent: generated seeds only).</summary>
    public static readonly string ConformanceCase = OnnxCases.NodeDir + "/test_conv_with_strides_and_asymmetric_padding";

    private static byte[] Rgba(int w, int h, int salt)
    {
        var px = new byte[w * h * 4];
        for (int i = 0; i < px.Length; i++) px[i] = (i & 3) == 3 ? (byte)255 : (byte)(i * 29 + salt);
        return px;
    }

    // ---- GIF ----------------------------------------------------------------------------------------------------

    /// <summary>GIF89a seeds: a colour image, a gray one with a transparent index, and a two-frame animation whose
    /// second frame is an offset sub-rectangle (ConvGL reads the first frame only).</summary>
    public static byte[][] Gifs() =>
    [
        Gif(7, 5, [Frame(0, 0, 7, 5, 1)], gray: false, transparent: null),
        Gif(6, 9, [Frame(0, 0, 6, 9, 2)], gray: true, transparent: 3),
        Gif(8, 6, [Frame(0, 0, 8, 6, 3), Frame(2, 1, 4, 3, 4)], gray: false, transparent: null),
    ];

    private static (int X, int Y, int W, int H, byte[] Indices) Frame(int x, int y, int w, int h, int salt) =>
        (x, y, w, h, [.. Enumerable.Range(0, w * h).Select(i => (byte)(i * 37 + salt * 11))]);

    /// <summary>One GIF with a 256-entry global colour table. The image data is LZW with 8-bit literals only, a clear
    /// code every 200 codes so the code width stays 9 bits: valid LZW (any decoder reads it), just not compressed.</summary>
    private static byte[] Gif(int w, int h, (int X, int Y, int W, int H, byte[] Indices)[] frames, bool gray, int? transparent)
    {
        var b = new List<byte>();
        void U16(int v) => b.AddRange([(byte)v, (byte)(v >> 8)]);
        b.AddRange("GIF89a"u8.ToArray());
        U16(w);
        U16(h);
        b.AddRange([0xF7, 0, 0]); // global table of 2^(7+1) entries, 8-bit colour resolution; background 0; no aspect
        for (int i = 0; i < 256; i++) b.AddRange(gray ? [(byte)i, (byte)i, (byte)i] : [(byte)i, (byte)(255 - i), (byte)(i * 7)]);
        foreach ((int x, int y, int fw, int fh, byte[] indices) in frames)
        {
            // Graphic control extension: disposal "leave in place", 10 ms delay, the transparent index if any.
            b.AddRange([0x21, 0xF9, 4, (byte)(4 | (transparent is null ? 0 : 1)), 1, 0, (byte)(transparent ?? 0), 0]);
            b.Add(0x2C);
            U16(x);
            U16(y);
            U16(fw);
            U16(fh);
            b.Add(0); // no local table, not interlaced
            b.Add(8); // LZW minimum code size
            byte[] data = Lzw9(indices);
            for (int at = 0; at < data.Length; at += 255)
            {
                int n = Math.Min(255, data.Length - at);
                b.Add((byte)n);
                b.AddRange(data.AsSpan(at, n).ToArray());
            }
            b.Add(0);
        }
        b.Add(0x3B);
        return [.. b];
    }

    private static byte[] Lzw9(byte[] indices)
    {
        const int Clear = 256, End = 257;
        var codes = new List<int>();
        for (int i = 0; i < indices.Length; i++)
        {
            if (i % 200 == 0) codes.Add(Clear);
            codes.Add(indices[i]);
        }
        codes.Add(End);
        var bytes = new List<byte>();
        int acc = 0, bits = 0;
        foreach (int c in codes)
        {
            acc |= c << bits; // codes go least significant bit first
            bits += 9;
            while (bits >= 8)
            {
                bytes.Add((byte)acc);
                acc >>= 8;
                bits -= 8;
            }
        }
        if (bits > 0) bytes.Add((byte)acc);
        return [.. bytes];
    }

    // ---- WebP -------------------------------------------------------------------------------------------------

    /// <summary>WebP seeds from Skia's encoder: lossy (VP8) and lossless (VP8L), with and without alpha.</summary>
    public static byte[][] Webps() =>
    [
        Webp(9, 7, 1, new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossy, 80)),
        Webp(5, 6, 2, new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100)),
        Webp(12, 4, 3, new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossy, 30), alpha: true),
    ];

    private static byte[] Webp(int w, int h, int salt, SKWebpEncoderOptions options, bool alpha = false)
    {
        byte[] px = Rgba(w, h, salt);
        if (alpha)
            for (int i = 3; i < px.Length; i += 8) px[i] = 100;
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        unsafe
        {
            fixed (byte* p = px)
            {
                using var pixmap = new SKPixmap(info, (IntPtr)p, w * 4);
                using SKData data = pixmap.Encode(options) ?? throw new InvalidOperationException("Skia could not encode a WebP seed");
                return data.ToArray();
            }
        }
    }

    // ---- ONNX -------------------------------------------------------------------------------------------------

    private static AttributeProto Ints(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = 7 };
        a.Ints.AddRange(v);
        return a;
    }

    /// <summary>x (1, 2, 6, 5) -> Conv 3x3 (raw_data weights, float_data bias, pads, strides) -> Relu -> MaxPool ->
    /// Add (a broadcast bias) -> GlobalAveragePool -> Flatten -> Gemm -> y (1, 3); and a BatchNormalization model.</summary>
    public static byte[][] OnnxModels()
    {
        var rng = new Random(5);
        float[] R(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1))];
        var g = new GraphProto { Name = "fuzz" };
        g.Input.Add(ProtoBuilders.Value("x", 1, 2, 6, 5));
        g.Output.Add(ProtoBuilders.Value("y"));
        g.Initializer.Add(ProtoBuilders.RawData("w", R(4 * 2 * 3 * 3), 4, 2, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("b", R(4), 4));
        g.Initializer.Add(ProtoBuilders.FloatData("shift", R(4), 1, 4, 1, 1));
        g.Initializer.Add(ProtoBuilders.RawData("fc", R(3 * 4), 3, 4));
        g.Initializer.Add(ProtoBuilders.FloatData("fcb", R(3), 3));
        void Node(string op, string[] ins, string output, params AttributeProto[] attrs)
        {
            var n = new NodeProto { Name = op.ToLowerInvariant(), OpType = op, Output = { output } };
            n.Input.AddRange(ins);
            n.Attribute.AddRange(attrs);
            g.Node.Add(n);
        }
        Node("Conv", ["x", "w", "b"], "c", Ints("pads", 1, 0, 2, 1), Ints("strides", 1, 2), Ints("kernel_shape", 3, 3));
        Node("Relu", ["c"], "r");
        Node("MaxPool", ["r"], "p", Ints("kernel_shape", 2, 2), Ints("strides", 1, 1), new AttributeProto { Name = "ceil_mode", Type = 2, I = 1 });
        Node("Add", ["p", "shift"], "a");
        Node("GlobalAveragePool", ["a"], "gp");
        Node("Flatten", ["gp"], "f");
        Node("Gemm", ["f", "fc", "fcb"], "y", new AttributeProto { Name = "transB", Type = 2, I = 1 });
        var conv = new ModelProto { IrVersion = 7, ProducerName = "convgl-fuzz", Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };

        var bn = ProtoBuilders.OneNode("BatchNormalization");
        bn.Graph.Node[0].Input.AddRange(["s", "o", "m", "v"]);
        foreach ((string name, float[] v) in new[] { ("s", R(2)), ("o", R(2)), ("m", R(2)), ("v", new[] { 0.5f, 2f }) })
            bn.Graph.Initializer.Add(ProtoBuilders.FloatData(name, v, 2));

        // The branchy test models: Sub / Div, Clip with Constant bounds, Pad with INT64 pads, PRelu, Concat, Dropout,
        // Identity, Softmax, Reshape, Mul of maps, HardSigmoid, ConvTranspose, Resize with scales and sizes, InstanceNormalization,
        // shape arithmetic (Shape, Gather, Unsqueeze, Squeeze), MatMul, Erf, Split, Slice, Transpose, LRN.
        var seeds = new List<byte[]>
        {
            conv.ToByteArray(), bn.ToByteArray(), BranchyGraphs.MobileLikeBytes(), BranchyGraphs.ClassifierBytes(),
            BranchyGraphs.SqueezeExciteBytes(), BranchyGraphs.DecoderBytes(), BranchyGraphs.UpsamplerBytes(), BranchyGraphs.StyleTransferBytes(),
            BranchyGraphs.SuperResolutionBytes(), BranchyGraphs.PoolingHeadBytes(), BranchyGraphs.DynamicHeadBytes(), BranchyGraphs.ShuffleBytes(),
            BranchyGraphs.CspBytes(), BranchyGraphs.AlexNetLikeBytes(), BranchyGraphs.ShuffleUnitBytes(), BranchyGraphs.ConvNeXtBytes(),
            ReduceGraphs.ModelBytes(), OneDGraphs.Bytes(),
        };
        string official = Path.Combine(ConformanceCase, "model.onnx");
        if (File.Exists(official)) seeds.Add(File.ReadAllBytes(official));
        return [.. seeds];
    }

    /// <summary>Models that import as stacks: the residual model with its head, the branchy ones, the ConvNeXt block, the
    /// Keras-like channels-last ones (a classifier head on the channels-last map, a digits CNN's Flatten in Keras' order), and
    /// every real-architecture block that imports (ArchitectureGraphs).</summary>
    public static byte[][] OnnxStackModels() =>
    [
        SmallGraphs.ResidualWithHeadBytes(), BranchyGraphs.MobileLikeBytes(), BranchyGraphs.SqueezeExciteBytes(), BranchyGraphs.DecoderBytes(),
        BranchyGraphs.ConvNeXtBytes(), BranchyGraphs.ShuffleUnitBytes(), BranchyGraphs.FocusBytes(), BranchyGraphs.DynamicHeadBytes(),
        BranchyGraphs.KerasLikeBytes(head: true), BranchyGraphs.KerasDigitsBytes(), BranchyGraphs.KerasLikeBytes(height: 8, width: 6),
        .. ArchitectureGraphs.Importing().Select(a => ArchitectureGraphs.Build((string)a[0], (long)a[1])),
    ];

    /// <summary>A model that loads and builds imports as a stack or is refused with one error naming it; a stack that
    /// imports runs on a small picture of its declared size (free sizes: 32x32, which every architecture block's strides divide), every layer giving a map, or refuses the
    /// size or a value with one error (said with the file's name: the run's own errors name the layer).</summary>
    public static void LoadOnnxStack(byte[]? bytes, string path)
    {
        OnnxGraph graph = OnnxGraph.Build(bytes is null ? OnnxReader.Load(path) : OnnxReader.Parse(bytes, path));
        Stack stack = OnnxStack.FromGraph(graph, "fuzz", OnnxStack.DeclaredSize(graph));
        int h = stack.Preprocess?.Height ?? 32, w = stack.Preprocess?.Width ?? 32;
        if ((long)h * w * stack.InputChannels > 4096) return; // too big to run per input
        // A size the stack does not run at (a classifier's flatten made for another input) is a plan's one-line refusal.
        if (!StackPlan.TryCreate(stack, h, w, null, out _, out string? unfit))
        {
            if (unfit is null || !ErrorText.IsOneLine(unfit)) throw new InvalidResultException($"plan refused without one line: {unfit}");
            return;
        }
        var x = new Tensor([stack.InputChannels, h, w]);
        for (int k = 0; k < x.Length; k++) x.Data[k] = (k * 37 % 101) / 101f;
        StackResult result;
        try
        {
            result = StackRunner.Run(stack, x);
        }
        catch (ConvGLException e) when (!e.Message.Contains(path, StringComparison.Ordinal))
        {
            throw new ConvGLException($"{path}: {e.Message}", e);
        }
        if (result.Outputs.Count != stack.Layers.Count) throw new InvalidResultException($"{result.Outputs.Count} maps for {stack.Layers.Count} layers");
    }

    /// <summary>TensorProto files (the input_N.pb / output_N.pb of a backend test case): float_data, raw_data, int64
    /// and double, and the conformance case's own input and output when installed.</summary>
    public static byte[][] OnnxTensors()
    {
        var seeds = new List<byte[]>
        {
            ProtoBuilders.FloatData("x", [1, -2, 3.5f, 0, 7, 1e-3f], 1, 2, 3).ToByteArray(),
            ProtoBuilders.RawData("y", [0.25f, 4, -8, 16], 2, 2).ToByteArray(),
        };
        var i64 = new TensorProto { Name = "i", DataType = 7, Dims = { 3 }, Int64Data = { 1, -5, 1L << 40 } };
        var f64 = new TensorProto { Name = "d", DataType = 11, Dims = { 2 }, DoubleData = { 0.5, -1e10 } };
        seeds.Add(i64.ToByteArray());
        seeds.Add(f64.ToByteArray());
        foreach (string f in new[] { "input_0.pb", "output_0.pb" })
        {
            string path = Path.Combine(ConformanceCase, "test_data_set_0", f);
            if (File.Exists(path)) seeds.Add(File.ReadAllBytes(path));
        }
        return [.. seeds];
    }

    /// <summary>A model that loads must build into a graph or be refused with a reason; one that builds runs on a
    /// small input of its declared shape (unknown dimensions 4) and yields every declared output.</summary>
    public static void LoadOnnxModel(byte[]? bytes, string path)
    {
        OnnxGraph graph = OnnxGraph.Build(bytes is null ? OnnxReader.Load(path) : OnnxReader.Parse(bytes, path));
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (OnnxValueInfo i in graph.Inputs)
        {
            if (graph.Initializers.TryGetValue(i.Name, out Tensor? given))
            {
                inputs[i.Name] = given; // an IR 3 model lists its initializers among its inputs
                continue;
            }
            int[] shape = i.Shape is null ? [1, 2, 6, 5] : [.. i.Shape.Select(d => d < 0 ? 4 : d)];
            if (shape.Length == 0 || shape.Aggregate(1L, (a, d) => a * d) > 4096) return; // too big to run per input
            var t = new Tensor(shape);
            for (int k = 0; k < t.Length; k++) t.Data[k] = (k * 37 % 101) / 50f - 1f;
            inputs[i.Name] = t;
        }
        Dictionary<string, Tensor> values = graph.Run(inputs);
        // Every declared output has a value, also one that names an initializer (a constant output).
        foreach (OnnxValueInfo o in graph.Outputs)
            if (!values.ContainsKey(o.Name)) throw new InvalidResultException($"output '{o.Name}' was not computed");
    }

    /// <summary>A tensor file is read from disk only (that is how test cases reach it).</summary>
    public static void LoadOnnxTensor(byte[]? bytes, string path)
    {
        if (bytes is not null) File.WriteAllBytes(path, bytes);
        (_, Tensor t) = OnnxReader.ReadTensorFile(path);
        if (t.Rank > 0 && t.Shape.Aggregate(1L, (a, d) => a * d) != t.Length) throw new InvalidResultException($"tensor {t.ShapeString} holds {t.Length} values");
    }
}
