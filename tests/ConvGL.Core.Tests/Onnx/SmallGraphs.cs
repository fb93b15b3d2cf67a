using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using Google.Protobuf;
using static ConvGL.Core.Tests.Onnx.ProtoBuilders;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>Small ONNX models built in code (shared by the Core and Gpu tests): a residual block with a head,
/// covering every layer type a stack imports.</summary>
internal static class SmallGraphs
{
    /// <summary>x (1, 3, H, W) -> conv 3x3 pads (1,1,1,1) + BN (folds) -> relu -> add(x) -> conv 7x7 s2 pads (3,3,2,2) (4 ch)
    /// -> batchnorm alone (after a relu, so it cannot fold) ... -> leaky relu -> maxpool 3x3 s2 pads (1,1,0,0) ceil
    /// -> avgpool 2x2 pads (0,0,1,1) count_include_pad 0 -> globalavgpool -> flatten -> gemm transB (5 outputs) -> sigmoid.</summary>
    public static OnnxGraph ResidualWithHead(int seed = 3) => OnnxGraph.Build(OnnxReader.Parse(ResidualWithHeadBytes(seed), "small.onnx"));

    /// <summary><see cref="ResidualWithHead"/> as model bytes (an .onnx file's content).</summary>
    public static byte[] ResidualWithHeadBytes(int seed = 3)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "small" };
        ProtoBuilders.AddImageInput(g, 3);
        void Init(string name, float[] v, params long[] dims) => g.Initializer.Add(ProtoBuilders.FloatData(name, v, dims));
        NodeProto Node(string name, string op, string[] ins, string output, params AttributeProto[] attrs) => ProtoBuilders.Node(g, name, op, ins, output, attrs);
        Init("w1", R(rng, 3 * 3 * 3 * 3, -0.3f, 0.3f), 3, 3, 3, 3);
        Init("b1", R(rng, 3), 3);
        foreach (string p in new[] { "s1", "o1", "m1" }) Init(p, R(rng, 3), 3);
        Init("v1", R(rng, 3, 0.2f, 2f), 3);
        Init("w2", R(rng, 4 * 3 * 7 * 7, -0.1f, 0.1f), 4, 3, 7, 7);
        foreach (string p in new[] { "s2", "o2", "m2" }) Init(p, R(rng, 4), 4);
        Init("v2", R(rng, 4, 0.2f, 2f), 4);
        Init("fc", R(rng, 5 * 4, -0.5f, 0.5f), 5, 4);
        Init("fcb", R(rng, 5), 5);
        Node("conv1", "Conv", ["x", "w1", "b1"], "c1", Ints("pads", 1, 1, 1, 1), Ints("kernel_shape", 3, 3));
        Node("bn1", "BatchNormalization", ["c1", "s1", "o1", "m1", "v1"], "n1");
        Node("relu1", "Relu", ["n1"], "r1");
        Node("add1", "Add", ["r1", "x"], "a1");
        Node("conv2", "Conv", ["a1", "w2"], "c2", Ints("pads", 3, 3, 2, 2), Ints("strides", 2, 2));
        Node("relu2", "Relu", ["c2"], "r2");
        Node("bn2", "BatchNormalization", ["r2", "s2", "o2", "m2", "v2"], "n2");
        Node("leaky", "LeakyRelu", ["n2"], "l2").Attribute.Add(new AttributeProto { Name = "alpha", Type = 1, F = 0.2f });
        Node("pool1", "MaxPool", ["l2"], "p1", Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0),
            new AttributeProto { Name = "ceil_mode", Type = 2, I = 1 });
        Node("pool2", "AveragePool", ["p1"], "p2", Ints("kernel_shape", 2, 2), Ints("pads", 0, 0, 1, 1));
        Node("gap", "GlobalAveragePool", ["p2"], "gp");
        Node("flat", "Flatten", ["gp"], "f");
        Node("fc", "Gemm", ["f", "fc", "fcb"], "y0", new AttributeProto { Name = "transB", Type = 2, I = 1 });
        Node("sig", "Sigmoid", ["y0"], "y");
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }

    /// <summary>x -> MaxPool 3x3 s2 SAME_UPPER -> AveragePool 2x2 s1 SAME_LOWER (count_include_pad 1) -> AveragePool 4x2 s(3, 2) SAME_UPPER.</summary>
    public static OnnxGraph SamePools()
    {
        var g = new GraphProto { Name = "samepools" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Node.Add(new NodeProto { Name = "max", OpType = "MaxPool", Input = { "x" }, Output = { "m" }, Attribute = { Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Str("auto_pad", "SAME_UPPER") } });
        g.Node.Add(new NodeProto
        {
            Name = "avg", OpType = "AveragePool", Input = { "m" }, Output = { "a" },
            Attribute = { Ints("kernel_shape", 2, 2), Str("auto_pad", "SAME_LOWER"), new AttributeProto { Name = "count_include_pad", Type = 2, I = 1 } },
        });
        g.Node.Add(new NodeProto { Name = "avg2", OpType = "AveragePool", Input = { "a" }, Output = { "y" }, Attribute = { Ints("kernel_shape", 4, 2), Ints("strides", 3, 2), Str("auto_pad", "SAME_UPPER") } });
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "samepools.onnx"));
    }

    /// <summary>The probe's worked example, a gray model: x (1, 1, H, W) -> "split" Conv 1x1 (weights 1, -1: channels x
    /// and -x) -> Relu -> "probed" Conv reading the split conv's map (not the Relu's: a graph edge that skips a layer),
    /// 1 output channel from 2 input channels, 3x3 kernel (channel 0: 1..9 row by row; channel 1: -1 at the centre,
    /// 2 at the bottom right), stride 2, pads [1, 0, 0, 1] (a row on top, a column on the right), bias 0.5 -> y.
    /// Stack layers: 0 split, 1 relu, 2 probed (inputs [0]).</summary>
    public static byte[] ProbeExample()
    {
        var g = new GraphProto { Name = "probe" };
        ProtoBuilders.AddImageInput(g, 1);
        g.Initializer.Add(ProtoBuilders.FloatData("ws", [1, -1], 2, 1, 1, 1));
        g.Initializer.Add(ProtoBuilders.FloatData("w", [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0, 0, -1, 0, 0, 0, 2], 1, 2, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("b", [0.5f], 1));
        g.Node.Add(new NodeProto { Name = "split", OpType = "Conv", Input = { "x", "ws" }, Output = { "s" } });
        g.Node.Add(new NodeProto { Name = "relu", OpType = "Relu", Input = { "s" }, Output = { "r" } });
        g.Node.Add(new NodeProto { Name = "probed", OpType = "Conv", Input = { "s", "w", "b" }, Output = { "y" }, Attribute = { Ints("strides", 2, 2), Ints("pads", 1, 0, 0, 1) } });
        g.Output.Add(ProtoBuilders.Value("r"));
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }
}

/// <summary>Small ONNX models with branches (shared by the Core and Gpu tests): the ops a PyTorch export of a
/// MobileNet- or Inception-like net brings beyond ResNet's.</summary>
internal static class BranchyGraphs
{
    /// <summary>Opset 13. x (1, 3, H, W) -> Sub mean (1, 3, 1, 1) -> Div std (1, 3, 1, 1) -> conv 3x3 pads 1 (4) ->
    /// Clip [0, 6] (bounds from Constant nodes) = "relu6"; branch a: Pad reflect [top 1, left 2, bottom 2, right 1]
    /// (pads an INT64 initializer) -> conv 3x3 valid (4) -> PRelu slope (4, 1, 1); branch b: Pad edge [1, 0, 0, 1] ->
    /// conv 1x1 (2) -> Mul k (1, 2, 1, 1) -> Pad constant 0.5 [0, 0, 0, 0] (a copy); Concat(a, b) on axis 1 (6, H+1, W+1)
    /// -> Dropout -> Identity -> Add 0.25 (a scalar) -> Pad constant -1 [-1, 0, 0, -2] (a crop) -> GlobalAveragePool
    /// -> Flatten -> Gemm transB (3 outputs) -> y.</summary>
    public static byte[] MobileLikeBytes(int seed = 5)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "branchy" };
        ProtoBuilders.AddImageInput(g, 3);
        void Init(string name, float[] v, params long[] dims) => g.Initializer.Add(ProtoBuilders.FloatData(name, v, dims));
        NodeProto Node(string name, string op, string[] ins, string output, params AttributeProto[] attrs) => ProtoBuilders.Node(g, name, op, ins, output, attrs);
        Init("mean", [0.4f, 0.5f, 0.6f], 1, 3, 1, 1);
        Init("std", [0.2f, 0.25f, 0.3f], 1, 3, 1, 1);
        Init("w1", R(rng, 4 * 3 * 9, -0.4f, 0.4f), 4, 3, 3, 3);
        Init("b1", R(rng, 4, 0f, 1f), 4);
        Init("wa", R(rng, 4 * 4 * 9, -0.3f, 0.3f), 4, 4, 3, 3);
        Init("slope", [0.1f, -0.2f, 0.3f, 0.5f], 4, 1, 1);
        Init("wb", R(rng, 2 * 4, -0.5f, 0.5f), 2, 4, 1, 1);
        Init("bb", R(rng, 2), 2);
        Init("k", [1.5f, -0.75f], 1, 2, 1, 1);
        Init("quarter", [0.25f]);
        Init("half", [0.5f]);
        Init("minus1", [-1f]);
        Init("fc", R(rng, 3 * 6, -0.5f, 0.5f), 3, 6);
        Init("fcb", R(rng, 3), 3);
        g.Initializer.Add(Int64Data("pads_a", 0, 0, 1, 2, 0, 0, 2, 1));
        g.Initializer.Add(Int64Data("pads_b", 0, 0, 1, 0, 0, 0, 0, 1));
        g.Initializer.Add(Int64Data("pads_copy", 0, 0, 0, 0, 0, 0, 0, 0));
        g.Initializer.Add(Int64Data("pads_crop", 0, 0, -1, 0, 0, 0, 0, -2));
        Node("lo", "Constant", [], "zero", new AttributeProto { Name = "value", Type = 4, T = ProtoBuilders.FloatData("", [0f]) });
        Node("hi", "Constant", [], "six", new AttributeProto { Name = "value_float", Type = 1, F = 6f });
        Node("center", "Sub", ["x", "mean"], "xc");
        Node("scale", "Div", ["xc", "std"], "xn");
        Node("conv1", "Conv", ["xn", "w1", "b1"], "c1", Ints("pads", 1, 1, 1, 1));
        Node("relu6", "Clip", ["c1", "zero", "six"], "r1");
        Node("pad_a", "Pad", ["r1", "pads_a"], "pa", Str("mode", "reflect"));
        Node("conv_a", "Conv", ["pa", "wa"], "ca");
        Node("prelu_a", "PRelu", ["ca", "slope"], "a");
        Node("pad_b", "Pad", ["r1", "pads_b"], "pb", Str("mode", "edge"));
        Node("conv_b", "Conv", ["pb", "wb", "bb"], "cb");
        Node("mul_b", "Mul", ["cb", "k"], "mb");
        Node("copy_b", "Pad", ["mb", "pads_copy", "half"], "b");
        Node("join", "Concat", ["a", "b"], "j", new AttributeProto { Name = "axis", Type = 2, I = 1 });
        Node("drop", "Dropout", ["j"], "d");
        Node("same", "Identity", ["d"], "i");
        Node("shift", "Add", ["i", "quarter"], "s");
        Node("crop", "Pad", ["s", "pads_crop", "minus1"], "cr");
        Node("gap", "GlobalAveragePool", ["cr"], "gp");
        Node("flat", "Flatten", ["gp"], "f");
        Node("fc", "Gemm", ["f", "fc", "fcb"], "y", new AttributeProto { Name = "transB", Type = 2, I = 1 });
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }

    public static OnnxGraph MobileLike(int seed = 5) => OnnxGraph.Build(OnnxReader.Parse(MobileLikeBytes(seed), "branchy.onnx"));

    /// <summary>Opset 13. x (1, 3, H, W) -> conv 3x3 pads 1 (5) -> Softmax axis 1 (per pixel, over the 5 channels) ->
    /// LogSoftmax axis -3 (the same axis) -> GlobalAveragePool -> Reshape [1, -1] (an INT64 initializer) -> Gemm
    /// transB (4 classes) -> Softmax (axis -1) -> y.</summary>
    public static byte[] ClassifierBytes(int seed = 6)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "classifier" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Initializer.Add(ProtoBuilders.FloatData("w", R(rng, 5 * 3 * 9, -1f, 1f), 5, 3, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("fc", R(rng, 4 * 5, -2f, 2f), 4, 5));
        g.Initializer.Add(ProtoBuilders.FloatData("fcb", R(rng, 4), 4));
        g.Initializer.Add(Int64Data("flat", 1, -1));
        g.Node.Add(new NodeProto { Name = "conv", OpType = "Conv", Input = { "x", "w" }, Output = { "c" }, Attribute = { Ints("pads", 1, 1, 1, 1) } });
        g.Node.Add(new NodeProto { Name = "pixel_softmax", OpType = "Softmax", Input = { "c" }, Output = { "p" }, Attribute = { new AttributeProto { Name = "axis", Type = 2, I = 1 } } });
        g.Node.Add(new NodeProto { Name = "pixel_log", OpType = "LogSoftmax", Input = { "p" }, Output = { "l" }, Attribute = { new AttributeProto { Name = "axis", Type = 2, I = -3 } } });
        g.Node.Add(new NodeProto { Name = "gap", OpType = "GlobalAveragePool", Input = { "l" }, Output = { "g" } });
        g.Node.Add(new NodeProto { Name = "flatten", OpType = "Reshape", Input = { "g", "flat" }, Output = { "f" } });
        g.Node.Add(new NodeProto { Name = "fc", OpType = "Gemm", Input = { "f", "fc", "fcb" }, Output = { "z" }, Attribute = { new AttributeProto { Name = "transB", Type = 2, I = 1 } } });
        g.Node.Add(new NodeProto { Name = "probabilities", OpType = "Softmax", Input = { "z" }, Output = { "y" } });
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }

    /// <summary>Opset 13, a MobileNetV3 / EfficientNet block. x (1, 3, H, W) -> conv 3x3 pads 1 (4) = c -> Sigmoid -> Mul(c, .)
    /// (SiLU) = s -> GlobalAveragePool -> conv 1x1 (2) -> Relu -> conv 1x1 (4) -> HardSigmoid -> Mul(s, gate) (a
    /// squeeze-and-excitation gate, (1, 4, 1, 1) over (1, 4, H, W)) -> HardSwish -> Elu -> y.</summary>
    public static byte[] SqueezeExciteBytes(int seed = 8)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "se" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Initializer.Add(ProtoBuilders.FloatData("w", R(rng, 4 * 3 * 9, -1f, 1f), 4, 3, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("w1", R(rng, 2 * 4, -1f, 1f), 2, 4, 1, 1));
        g.Initializer.Add(ProtoBuilders.FloatData("b1", R(rng, 2), 2));
        g.Initializer.Add(ProtoBuilders.FloatData("w2", R(rng, 4 * 2, -2f, 2f), 4, 2, 1, 1));
        void Node(string name, string op, string[] ins, string output, params AttributeProto[] attrs) => ProtoBuilders.Node(g, name, op, ins, output, attrs);
        Node("conv", "Conv", ["x", "w"], "c", Ints("pads", 1, 1, 1, 1));
        Node("sig", "Sigmoid", ["c"], "sg");
        Node("silu", "Mul", ["c", "sg"], "s");
        Node("squeeze", "GlobalAveragePool", ["s"], "q");
        Node("reduce", "Conv", ["q", "w1", "b1"], "r");
        Node("relu", "Relu", ["r"], "rr");
        Node("expand", "Conv", ["rr", "w2"], "e");
        Node("gate", "HardSigmoid", ["e"], "gt");
        Node("excite", "Mul", ["s", "gt"], "m");
        Node("hswish", "HardSwish", ["m"], "h");
        Node("elu", "Elu", ["h"], "y", new AttributeProto { Name = "alpha", Type = 1, F = 0.5f });
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 14 } } };
        return m.ToByteArray();
    }

    /// <summary>Opset 13, an encoder-decoder: x (1, 3, H, W) -> conv 3x3 stride 2 pads 1 (4) -> Relu -> ConvTranspose
    /// 3x3 stride 2 pads 1 output_padding 1 (4 -> 2, bias) -> Relu -> ConvTranspose 2x2 stride 1 dilation 2 groups 2
    /// (2 -> 4, no bias) -> Sigmoid -> y (1, 4, H + 2, W + 2) for even H and W.</summary>
    public static byte[] DecoderBytes(int seed = 9)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "decoder" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Initializer.Add(ProtoBuilders.FloatData("w", R(rng, 4 * 3 * 9, -0.5f, 0.5f), 4, 3, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("wt", R(rng, 4 * 2 * 9, -0.5f, 0.5f), 4, 2, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("bt", R(rng, 2), 2));
        g.Initializer.Add(ProtoBuilders.FloatData("wg", R(rng, 2 * 2 * 4, -1f, 1f), 2, 2, 2, 2));
        g.Node.Add(new NodeProto { Name = "down", OpType = "Conv", Input = { "x", "w" }, Output = { "d" }, Attribute = { Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2) } });
        g.Node.Add(new NodeProto { Name = "relu1", OpType = "Relu", Input = { "d" }, Output = { "r" } });
        g.Node.Add(new NodeProto { Name = "up", OpType = "ConvTranspose", Input = { "r", "wt", "bt" }, Output = { "u" },
            Attribute = { Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2), Ints("output_padding", 1, 1) } });
        g.Node.Add(new NodeProto { Name = "relu2", OpType = "Relu", Input = { "u" }, Output = { "r2" } });
        g.Node.Add(new NodeProto { Name = "spread", OpType = "ConvTranspose", Input = { "r2", "wg" }, Output = { "s" },
            Attribute = { Ints("dilations", 2, 2), new AttributeProto { Name = "group", Type = 2, I = 2 } } });
        g.Node.Add(new NodeProto { Name = "sig", OpType = "Sigmoid", Input = { "s" }, Output = { "y" } });
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }

    /// <summary>Opset 13, for an 8x6 input. x (1, 3, 8, 6) -> conv 3x3 stride 2 pads 1 (4) = d (4, 4, 3); d -> Resize
    /// nearest asymmetric floor, scales (1, 1, 2, 2) = a; d -> Resize linear align_corners, sizes (1, 4, 8, 6) (an
    /// INT64 initializer) = b; d -> Resize linear half_pixel scales (1, 1, 2, 2) = c; Concat(a, b, c) -> y (1, 12, 8, 6).</summary>
    public static byte[] UpsamplerBytes(int seed = 10)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "upsampler" };
        g.Input.Add(ProtoBuilders.Value("x", 1, 3, 8, 6));
        g.Initializer.Add(ProtoBuilders.FloatData("w", R(rng, 4 * 3 * 9, -1f, 1f), 4, 3, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("twice", [1, 1, 2, 2], 4));
        g.Initializer.Add(Int64Data("full", 1, 4, 8, 6));
        NodeProto Resize(string name, string output, string scales, string sizes, string mode, string coordinates, string nearest) =>
            new() { Name = name, OpType = "Resize", Input = { "d", "", scales, sizes }, Output = { output },
                    Attribute = { Str("mode", mode), Str("coordinate_transformation_mode", coordinates), Str("nearest_mode", nearest) } };
        g.Node.Add(new NodeProto { Name = "down", OpType = "Conv", Input = { "x", "w" }, Output = { "d" }, Attribute = { Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2) } });
        g.Node.Add(Resize("nearest", "a", "twice", "", "nearest", "asymmetric", "floor"));
        g.Node.Add(Resize("corners", "b", "", "full", "linear", "align_corners", "round_prefer_floor"));
        g.Node.Add(Resize("bilinear", "c", "twice", "", "linear", "half_pixel", "round_prefer_floor"));
        g.Node.Add(new NodeProto { Name = "join", OpType = "Concat", Input = { "a", "b", "c" }, Output = { "y" }, Attribute = { new AttributeProto { Name = "axis", Type = 2, I = 1 } } });
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }

    /// <summary>Opset 13, a fast style-transfer net in small: x (1, 3, H, W) -> conv 3x3 pads 1 (4) -> InstanceNormalization
    /// -> Relu -> conv 3x3 stride 2 pads 1 (4) -> InstanceNormalization (epsilon 1e-3) -> Relu -> Resize nearest
    /// asymmetric 2x -> conv 3x3 pads 1 (3) -> InstanceNormalization -> Add(x) -> Tanh -> y, for even H and W.</summary>
    public static byte[] StyleTransferBytes(int seed = 12)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "style" };
        ProtoBuilders.AddImageInput(g, 3);
        void Init(string name, float[] v, params long[] dims) => g.Initializer.Add(ProtoBuilders.FloatData(name, v, dims));
        Init("w1", R(rng, 4 * 3 * 9, -0.5f, 0.5f), 4, 3, 3, 3);
        Init("w2", R(rng, 4 * 4 * 9, -0.5f, 0.5f), 4, 4, 3, 3);
        Init("w3", R(rng, 3 * 4 * 9, -0.5f, 0.5f), 3, 4, 3, 3);
        foreach ((string n, int c) in new[] { ("n1", 4), ("n2", 4), ("n3", 3) })
        {
            Init(n + "s", R(rng, c, 0.5f, 1.5f), c);
            Init(n + "b", R(rng, c, -0.5f, 0.5f), c);
        }
        Init("twice", [1, 1, 2, 2], 4);
        void Node(string name, string op, string[] ins, string output, params AttributeProto[] attrs) => ProtoBuilders.Node(g, name, op, ins, output, attrs);
        Node("conv1", "Conv", ["x", "w1"], "c1", Ints("pads", 1, 1, 1, 1));
        Node("in1", "InstanceNormalization", ["c1", "n1s", "n1b"], "i1");
        Node("relu1", "Relu", ["i1"], "r1");
        Node("conv2", "Conv", ["r1", "w2"], "c2", Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2));
        Node("in2", "InstanceNormalization", ["c2", "n2s", "n2b"], "i2", new AttributeProto { Name = "epsilon", Type = 1, F = 1e-3f });
        Node("relu2", "Relu", ["i2"], "r2");
        Node("up", "Resize", ["r2", "", "twice"], "u", Str("mode", "nearest"), Str("coordinate_transformation_mode", "asymmetric"), Str("nearest_mode", "floor"));
        Node("conv3", "Conv", ["u", "w3"], "c3", Ints("pads", 1, 1, 1, 1));
        Node("in3", "InstanceNormalization", ["c3", "n3s", "n3b"], "i3");
        Node("residual", "Add", ["i3", "x"], "a");
        Node("tanh", "Tanh", ["a"], "y");
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }

    /// <summary>Opset 13, ESPCN-style super-resolution: x (1, 3, H, W) -> conv 3x3 pads 1 (8) -> Tanh -> conv 3x3 pads 1
    /// (12) -> DepthToSpace blocksize 2 CRD (PyTorch's PixelShuffle) -> (3, 2H, 2W) -> SpaceToDepth 2 -> DepthToSpace 2
    /// DCR (a round trip) -> y.</summary>
    public static byte[] SuperResolutionBytes(int seed = 13)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "espcn" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Initializer.Add(ProtoBuilders.FloatData("w1", R(rng, 8 * 3 * 9, -0.5f, 0.5f), 8, 3, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("w2", R(rng, 12 * 8 * 9, -0.3f, 0.3f), 12, 8, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("b2", R(rng, 12), 12));
        g.Node.Add(new NodeProto { Name = "feature", OpType = "Conv", Input = { "x", "w1" }, Output = { "f" }, Attribute = { Ints("pads", 1, 1, 1, 1) } });
        g.Node.Add(new NodeProto { Name = "tanh", OpType = "Tanh", Input = { "f" }, Output = { "t" } });
        g.Node.Add(new NodeProto { Name = "subpixel", OpType = "Conv", Input = { "t", "w2", "b2" }, Output = { "s" }, Attribute = { Ints("pads", 1, 1, 1, 1) } });
        g.Node.Add(new NodeProto { Name = "shuffle", OpType = "DepthToSpace", Input = { "s" }, Output = { "u" },
            Attribute = { new AttributeProto { Name = "blocksize", Type = 2, I = 2 }, Str("mode", "CRD") } });
        g.Node.Add(new NodeProto { Name = "unshuffle", OpType = "SpaceToDepth", Input = { "u" }, Output = { "d" }, Attribute = { new AttributeProto { Name = "blocksize", Type = 2, I = 2 } } });
        g.Node.Add(new NodeProto { Name = "reshuffle", OpType = "DepthToSpace", Input = { "d" }, Output = { "y" }, Attribute = { new AttributeProto { Name = "blocksize", Type = 2, I = 2 } } });
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }

    /// <summary>Opset 13, a CBAM-like pooling head: x (1, 3, H, W) -> conv 3x3 pads 1 (4) = c; ReduceMean axes [2, 3]
    /// keepdims 0 (x.mean((2, 3)): (1, 4)) -> Gemm transB (2) = m; c -> GlobalMaxPool (1, 4, 1, 1) -> Flatten -> Gemm
    /// transB (2) = g; Add(m, g) -> y (1, 2).</summary>
    public static byte[] PoolingHeadBytes(int seed = 14)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "poolhead" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Initializer.Add(ProtoBuilders.FloatData("w", R(rng, 4 * 3 * 9, -1f, 1f), 4, 3, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("fa", R(rng, 8, -1f, 1f), 2, 4));
        g.Initializer.Add(ProtoBuilders.FloatData("fb", R(rng, 8, -1f, 1f), 2, 4));
        g.Node.Add(new NodeProto { Name = "conv", OpType = "Conv", Input = { "x", "w" }, Output = { "c" }, Attribute = { Ints("pads", 1, 1, 1, 1) } });
        g.Node.Add(new NodeProto { Name = "mean", OpType = "ReduceMean", Input = { "c" }, Output = { "rm" },
            Attribute = { Ints("axes", 2, 3), new AttributeProto { Name = "keepdims", Type = 2, I = 0 } } });
        g.Node.Add(new NodeProto { Name = "fc_mean", OpType = "Gemm", Input = { "rm", "fa" }, Output = { "m" }, Attribute = { new AttributeProto { Name = "transB", Type = 2, I = 1 } } });
        g.Node.Add(new NodeProto { Name = "max", OpType = "GlobalMaxPool", Input = { "c" }, Output = { "gm" } });
        g.Node.Add(new NodeProto { Name = "flat", OpType = "Flatten", Input = { "gm" }, Output = { "f" } });
        g.Node.Add(new NodeProto { Name = "fc_max", OpType = "Gemm", Input = { "f", "fb" }, Output = { "gx" }, Attribute = { new AttributeProto { Name = "transB", Type = 2, I = 1 } } });
        g.Node.Add(new NodeProto { Name = "join", OpType = "Add", Input = { "m", "gx" }, Output = { "y" } });
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }

    /// <summary>Opset 13, a classifier head as PyTorch exports x.view(x.size(0), -1) with a dynamic batch and a Linear +
    /// GELU as MatMul + Add + the erf formula: x (1, 3, H, W) -> conv 3x3 pads 1 (6) -> Relu -> GlobalAveragePool = g;
    /// Shape(g) -> Gather 0 -> Unsqueeze [0] -> Concat with [-1] -> Reshape(g) = f (1, 6) -> MatMul (6, 4) -> Add (4) = z
    /// -> z * 0.5 * (1 + erf(z / sqrt 2)) -> y (1, 4).</summary>
    public static byte[] DynamicHeadBytes(int seed = 15)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "dynhead" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Input[0].Type.TensorType.Shape.Dim[0] = new Dimension { DimParam = "batch" };
        g.Initializer.Add(ProtoBuilders.FloatData("w", R(rng, 6 * 3 * 9, -1f, 1f), 6, 3, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("fc", R(rng, 6 * 4, -3f, 3f), 6, 4));
        g.Initializer.Add(ProtoBuilders.FloatData("fcb", R(rng, 4), 4));
        g.Initializer.Add(new TensorProto { Name = "zero", DataType = 7, Int64Data = { 0 } });
        g.Initializer.Add(Int64Data("axis0", 0));
        g.Initializer.Add(Int64Data("minus1", -1));
        g.Initializer.Add(ProtoBuilders.FloatData("sqrt2", [MathF.Sqrt(2)]));
        g.Initializer.Add(ProtoBuilders.FloatData("one", [1f]));
        g.Initializer.Add(ProtoBuilders.FloatData("half", [0.5f]));
        void Node(string name, string op, string[] ins, string output, params AttributeProto[] attrs) => ProtoBuilders.Node(g, name, op, ins, output, attrs);
        Node("conv", "Conv", ["x", "w"], "c", Ints("pads", 1, 1, 1, 1));
        Node("relu", "Relu", ["c"], "r");
        Node("gap", "GlobalAveragePool", ["r"], "g");
        Node("shape", "Shape", ["g"], "s");
        Node("batch", "Gather", ["s", "zero"], "b", new AttributeProto { Name = "axis", Type = 2, I = 0 });
        Node("batch_1d", "Unsqueeze", ["b", "axis0"], "bu");
        Node("target", "Concat", ["bu", "minus1"], "shp", new AttributeProto { Name = "axis", Type = 2, I = 0 });
        Node("view", "Reshape", ["g", "shp"], "f");
        Node("fc", "MatMul", ["f", "fc"], "mm");
        Node("fc_bias", "Add", ["mm", "fcb"], "z");
        Node("gelu_scale", "Div", ["z", "sqrt2"], "zs");
        Node("gelu_erf", "Erf", ["zs"], "e");
        Node("gelu_one", "Add", ["e", "one"], "e1");
        Node("gelu_mul", "Mul", ["z", "e1"], "ze");
        Node("gelu_half", "Mul", ["ze", "half"], "y");
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }

    /// <summary>Opset 13, a ShuffleNet-style unit with index ops: x (1, 4, H, W) -> Split on channels [1, 3] = a, b; b ->
    /// conv 1x1 (3) -> Relu = bc; Concat(a, bc) = j; channel shuffle: Reshape(j, [1, 2, 2, H, W]) (H and W from Shape(x)
    /// -> Slice [2:4]) -> Transpose [0, 2, 1, 3, 4] -> Reshape(Shape(x)) = sh; Slice(sh, W axis, 1 to -1 step 2) = sl ->
    /// Transpose [0, 1, 3, 2] = t -> Gather(axis 2, [0, -1]) = y (1, 4, 2, H) and a Squeeze-ed first row
    /// (ReduceMax over H keepdims, Squeeze axis 3) = y2 (1, 4, W').</summary>
    public static byte[] ShuffleBytes(int seed = 16)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "shuffle" };
        g.Input.Add(ProtoBuilders.Value("x", 1, 4, -1, -1));
        g.Input[0].Type.TensorType.Shape.Dim[2] = new Dimension { DimParam = "H" };
        g.Input[0].Type.TensorType.Shape.Dim[3] = new Dimension { DimParam = "W" };
        g.Initializer.Add(ProtoBuilders.FloatData("w", R(rng, 3 * 3, -1f, 1f), 3, 3, 1, 1));
        g.Initializer.Add(Int64Data("sizes", 1, 3));
        g.Initializer.Add(Int64Data("groups", 1, 2, 2));
        g.Initializer.Add(Int64Data("from2", 2));
        g.Initializer.Add(Int64Data("to4", 4));
        g.Initializer.Add(Int64Data("one", 1));
        g.Initializer.Add(Int64Data("minus1", -1));
        g.Initializer.Add(Int64Data("axis3", 3));
        g.Initializer.Add(Int64Data("two", 2));
        g.Initializer.Add(Int64Data("ends", 0, -1));
        void Node(string name, string op, string[] ins, string[] outs, params AttributeProto[] attrs) => ProtoBuilders.Node(g, name, op, ins, outs, attrs);
        Node("split", "Split", ["x", "sizes"], ["a", "b"], Int("axis", 1));
        Node("conv", "Conv", ["b", "w"], ["bc0"]);
        Node("relu", "Relu", ["bc0"], ["bc"]);
        Node("join", "Concat", ["a", "bc"], ["j"], Int("axis", 1));
        Node("shape", "Shape", ["x"], ["s"]);
        Node("hw", "Slice", ["s", "from2", "to4"], ["hw"]);
        Node("target", "Concat", ["groups", "hw"], ["t5"], Int("axis", 0));
        Node("group", "Reshape", ["j", "t5"], ["r5"]);
        Node("shuffle", "Transpose", ["r5"], ["p5"], Ints("perm", 0, 2, 1, 3, 4));
        Node("ungroup", "Reshape", ["p5", "s"], ["sh"]);
        Node("columns", "Slice", ["sh", "one", "minus1", "axis3", "two"], ["sl"]);
        Node("swap", "Transpose", ["sl"], ["t"], Ints("perm", 0, 1, 3, 2));
        Node("ends_of_h", "Gather", ["t", "ends"], ["y"], Int("axis", 2));
        Node("row_max", "ReduceMax", ["t"], ["rm"], Ints("axes", 3));
        Node("squeeze", "Squeeze", ["rm", "axis3"], ["y2"]);
        g.Output.Add(ProtoBuilders.Value("y"));
        g.Output.Add(ProtoBuilders.Value("y2"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }

    /// <summary>Opset 13, a YOLOv8 C2f / CSP block: x (1, 3, H, W) -> conv 3x3 pads 1 (4) -> SiLU = c; Split c on channels
    /// into (2, 2) = a, b; b -> conv 3x3 pads 1 (2) -> Relu = b2; Slice(c, channels 1..2, axes [1], H and W whole with
    /// INT64_MAX ends on axes 2 and 3 too) = m; Concat(a, b, b2, m) (8) -> conv 1x1 (3) -> y.</summary>
    public static byte[] CspBytes(int seed = 17)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "csp" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Initializer.Add(ProtoBuilders.FloatData("w", R(rng, 4 * 3 * 9, -1f, 1f), 4, 3, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("wb", R(rng, 2 * 2 * 9, -1f, 1f), 2, 2, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("wo", R(rng, 3 * 8, -1f, 1f), 3, 8, 1, 1));
        g.Initializer.Add(ProtoBuilders.FloatData("bo", R(rng, 3), 3));
        g.Initializer.Add(Int64Data("halves", 2, 2));
        g.Initializer.Add(Int64Data("starts", 1, 0, 0));
        g.Initializer.Add(Int64Data("ends", 3, long.MaxValue, long.MaxValue));
        g.Initializer.Add(Int64Data("axes", 1, 2, 3));
        void Node(string name, string op, string[] ins, string[] outs, params AttributeProto[] attrs) => ProtoBuilders.Node(g, name, op, ins, outs, attrs);
        Node("conv", "Conv", ["x", "w"], ["c0"], Ints("pads", 1, 1, 1, 1));
        Node("sig", "Sigmoid", ["c0"], ["s"]);
        Node("silu", "Mul", ["c0", "s"], ["c"]);
        Node("chunk", "Split", ["c", "halves"], ["a", "b"], new AttributeProto { Name = "axis", Type = 2, I = 1 });
        Node("bottleneck", "Conv", ["b", "wb"], ["b1"], Ints("pads", 1, 1, 1, 1));
        Node("relu", "Relu", ["b1"], ["b2"]);
        Node("middle", "Slice", ["c", "starts", "ends", "axes"], ["m"]);
        Node("join", "Concat", ["a", "b", "b2", "m"], ["j"], new AttributeProto { Name = "axis", Type = 2, I = 1 });
        Node("out", "Conv", ["j", "wo", "bo"], ["y"]);
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }

    /// <summary>Opset 13, a ShuffleNetV2 unit as torchvision writes it and PyTorch exports it with dynamic sizes: x (1, 3, H,
    /// W) -> conv 3x3 pads 1 (4) -> Relu = c; Split c into halves a, b; b -> conv 1x1 (2) -> Relu -> depthwise conv 3x3
    /// pads 1 (groups 2) -> conv 1x1 (2) -> Relu = b3; Concat(a, b3) = j; channel_shuffle(j, 2) with every size from
    /// Shape(j): Gather 0..3, C / 2 by Div, Unsqueeze, Concat -> Reshape (1, 2, C/2, H, W) -> Transpose [0, 2, 1, 3, 4]
    /// -> Reshape (1, -1, H, W) = sh -> conv 1x1 (3) -> y.</summary>
    public static byte[] ShuffleUnitBytes(int seed = 19)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "shufflenet" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Initializer.Add(ProtoBuilders.FloatData("w", R(rng, 4 * 3 * 9, -1f, 1f), 4, 3, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("w1", R(rng, 2 * 2, -1f, 1f), 2, 2, 1, 1));
        g.Initializer.Add(ProtoBuilders.FloatData("wd", R(rng, 2 * 9, -1f, 1f), 2, 1, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("w2", R(rng, 2 * 2, -1f, 1f), 2, 2, 1, 1));
        g.Initializer.Add(ProtoBuilders.FloatData("wo", R(rng, 3 * 4, -1f, 1f), 3, 4, 1, 1));
        foreach ((string name, long v) in new[] { ("i0", 0L), ("i1", 1L), ("i2", 2L), ("i3", 3L), ("groups", 2L) })
            g.Initializer.Add(new TensorProto { Name = name, DataType = 7, Int64Data = { v } });
        g.Initializer.Add(Int64Data("groups1d", 2));
        g.Initializer.Add(Int64Data("minus1", -1));
        g.Initializer.Add(Int64Data("axis0", 0));
        void Node(string name, string op, string[] ins, string[] outs, params AttributeProto[] attrs) => ProtoBuilders.Node(g, name, op, ins, outs, attrs);
        Node("conv", "Conv", ["x", "w"], ["c0"], Ints("pads", 1, 1, 1, 1));
        Node("relu", "Relu", ["c0"], ["c"]);
        Node("chunk", "Split", ["c"], ["a", "b"], Int("axis", 1));
        Node("pw1", "Conv", ["b", "w1"], ["b1"]);
        Node("relu1", "Relu", ["b1"], ["b1r"]);
        Node("dw", "Conv", ["b1r", "wd"], ["b2"], Ints("pads", 1, 1, 1, 1), Int("group", 2));
        Node("pw2", "Conv", ["b2", "w2"], ["b3c"]);
        Node("relu2", "Relu", ["b3c"], ["b3"]);
        Node("join", "Concat", ["a", "b3"], ["j"], Int("axis", 1));
        Node("size", "Shape", ["j"], ["s"]);
        foreach ((string dim, string ix) in new[] { ("n", "i0"), ("ch", "i1"), ("h", "i2"), ("wd_", "i3") })
        {
            Node($"get_{dim}", "Gather", ["s", ix], [dim], Int("axis", 0));
            Node($"vec_{dim}", "Unsqueeze", [dim, "axis0"], [dim + "1"]);
        }
        Node("per_group", "Div", ["ch", "groups"], ["cpg"]);
        Node("vec_cpg", "Unsqueeze", ["cpg", "axis0"], ["cpg1"]);
        Node("grouped_shape", "Concat", ["n1", "groups1d", "cpg1", "h1", "wd_1"], ["t5"], Int("axis", 0));
        Node("group", "Reshape", ["j", "t5"], ["r5"]);
        Node("transpose", "Transpose", ["r5"], ["p5"], Ints("perm", 0, 2, 1, 3, 4));
        Node("flat_shape", "Concat", ["n1", "minus1", "h1", "wd_1"], ["t4"], Int("axis", 0));
        Node("shuffle", "Reshape", ["p5", "t4"], ["sh"]);
        Node("out", "Conv", ["sh", "wo"], ["y"]);
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }

    /// <summary>Opset 17, a ConvNeXt block as torchvision writes it: x (1, 3, H, W) -> conv 3x3 pads 1 (8) = a ->
    /// depthwise conv 7x7 pads 3 (groups 8) -> Transpose [0, 2, 3, 1] -> LayerNormalization (axis -1, scale and bias of 8)
    /// -> MatMul (8, 16) -> Add (16) -> GELU (Div sqrt 2, Erf, Add 1, Mul, Mul 0.5) -> MatMul (16, 8) -> Add (8) -> Mul by
    /// a layer scale (8) -> Transpose [0, 3, 1, 2] -> Add a (the residual) -> y.</summary>
    public static byte[] ConvNeXtBytes(int seed = 20)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "convnext" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Initializer.Add(ProtoBuilders.FloatData("w", R(rng, 8 * 3 * 9, -1f, 1f), 8, 3, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("wd", R(rng, 8 * 49, -0.3f, 0.3f), 8, 1, 7, 7));
        g.Initializer.Add(ProtoBuilders.FloatData("bd", R(rng, 8), 8));
        g.Initializer.Add(ProtoBuilders.FloatData("ln_s", R(rng, 8, 0.5f, 1.5f), 8));
        g.Initializer.Add(ProtoBuilders.FloatData("ln_b", R(rng, 8), 8));
        g.Initializer.Add(ProtoBuilders.FloatData("w1", R(rng, 8 * 16), 8, 16));
        g.Initializer.Add(ProtoBuilders.FloatData("b1", R(rng, 16), 16));
        g.Initializer.Add(ProtoBuilders.FloatData("w2", R(rng, 16 * 8), 16, 8));
        g.Initializer.Add(ProtoBuilders.FloatData("b2", R(rng, 8), 8));
        g.Initializer.Add(ProtoBuilders.FloatData("gamma", R(rng, 8, 0.1f, 0.5f), 1, 1, 1, 8));
        g.Initializer.Add(ProtoBuilders.FloatData("sqrt2", [MathF.Sqrt(2)]));
        g.Initializer.Add(ProtoBuilders.FloatData("one", [1f]));
        g.Initializer.Add(ProtoBuilders.FloatData("half", [0.5f]));
        void Node(string name, string op, string[] ins, string output, params AttributeProto[] attrs) => ProtoBuilders.Node(g, name, op, ins, output, attrs);
        Node("stem", "Conv", ["x", "w"], "a", Ints("pads", 1, 1, 1, 1));
        Node("dwconv", "Conv", ["a", "wd", "bd"], "d", Ints("pads", 3, 3, 3, 3), new AttributeProto { Name = "group", Type = 2, I = 8 });
        Node("to_last", "Transpose", ["d"], "t", Ints("perm", 0, 2, 3, 1));
        Node("norm", "LayerNormalization", ["t", "ln_s", "ln_b"], "n", new AttributeProto { Name = "axis", Type = 2, I = -1 }, new AttributeProto { Name = "epsilon", Type = 1, F = 1e-6f });
        Node("pwconv1", "MatMul", ["n", "w1"], "m1");
        Node("pwconv1_bias", "Add", ["m1", "b1"], "h");
        Node("gelu_scale", "Div", ["h", "sqrt2"], "hs");
        Node("gelu_erf", "Erf", ["hs"], "e");
        Node("gelu_one", "Add", ["e", "one"], "e1");
        Node("gelu_mul", "Mul", ["h", "e1"], "he");
        Node("gelu_half", "Mul", ["he", "half"], "gl");
        Node("pwconv2", "MatMul", ["gl", "w2"], "m2");
        Node("pwconv2_bias", "Add", ["m2", "b2"], "h2");
        Node("layer_scale", "Mul", ["h2", "gamma"], "ls");
        Node("to_first", "Transpose", ["ls"], "back", Ints("perm", 0, 3, 1, 2));
        Node("residual", "Add", ["a", "back"], "y");
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 17 } } };
        return m.ToByteArray();
    }

    /// <summary>Opset 13, a small Keras CNN for gray digits as tf2onnx exports it: x (1, 8, 6, 1) -> Transpose [0, 3, 1, 2]
    /// -> conv 3x3 pads 1 (4, bias) -> Relu -> MaxPool 2x2 s2 -> Transpose [0, 2, 3, 1] (4x3x4 channels-last) -> Keras'
    /// Flatten: a Reshape to (batch, -1) with the batch from Shape, Gather 0, Unsqueeze, Concat (or, with
    /// <paramref name="flattenOp"/>, a Flatten of axis 1) -> MatMul (48, 10) -> Add (10) -> Softmax -> probs (1, 10).
    /// The flattened values are in (H, W, C) order, which the Dense weights expect.</summary>
    public static byte[] KerasDigitsBytes(int seed = 23, bool flattenOp = false)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "keras_digits" };
        g.Input.Add(ProtoBuilders.Value("x", 1, 8, 6, 1));
        g.Input[^1].Type.TensorType.Shape.Dim[0] = new Dimension { DimParam = "unk__6" };
        g.Initializer.Add(ProtoBuilders.FloatData("w1", R(rng, 4 * 9, -0.6f, 0.6f), 4, 1, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("b1", R(rng, 4, -0.1f, 0.1f), 4));
        g.Initializer.Add(ProtoBuilders.FloatData("w2", R(rng, 48 * 10, -0.4f, 0.4f), 48, 10));
        g.Initializer.Add(ProtoBuilders.FloatData("b2", R(rng, 10, -0.1f, 0.1f), 10));
        g.Initializer.Add(Int64Data("zero", 0));
        g.Initializer[^1].Dims.Clear(); // a scalar index
        g.Initializer.Add(Int64Data("axis0", 0));
        g.Initializer.Add(Int64Data("minus1", -1));
        void Node(string name, string op, string[] ins, string output, params AttributeProto[] attrs) => ProtoBuilders.Node(g, name, op, ins, output, attrs);
        Node("to_nchw", "Transpose", ["x"], "t", Ints("perm", 0, 3, 1, 2));
        Node("conv", "Conv", ["t", "w1", "b1"], "c", Ints("pads", 1, 1, 1, 1));
        Node("relu", "Relu", ["c"], "r");
        Node("pool", "MaxPool", ["r"], "p", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2));
        Node("to_nhwc", "Transpose", ["p"], "p_nhwc", Ints("perm", 0, 2, 3, 1));
        if (flattenOp) Node("flatten", "Flatten", ["p_nhwc"], "f", Int("axis", 1));
        else
        {
            Node("flatten/Shape", "Shape", ["p_nhwc"], "s");
            Node("flatten/strided_slice", "Gather", ["s", "zero"], "n");
            Node("flatten/Unsqueeze", "Unsqueeze", ["n", "axis0"], "n1");
            Node("flatten/Reshape/shape", "Concat", ["n1", "minus1"], "shape", Int("axis", 0));
            Node("flatten", "Reshape", ["p_nhwc", "shape"], "f");
        }
        Node("dense/MatMul", "MatMul", ["f", "w2"], "m");
        Node("dense/BiasAdd", "Add", ["m", "b2"], "logits");
        Node("dense/Softmax", "Softmax", ["logits"], "probs", Int("axis", -1));
        g.Output.Add(ProtoBuilders.Value("probs"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }

    public static OnnxGraph ConvNeXt(int seed = 20) => OnnxGraph.Build(OnnxReader.Parse(ConvNeXtBytes(seed), "convnext.onnx"));

    /// <summary>Opset 13, a Keras model as tf2onnx exports it, channels-last at both ends: x (1, H, W, 3) (H and W free, or
    /// fixed by <paramref name="height"/> and <paramref name="width"/>) -> Sub a mean (3) -> Mul by a scale (1, 1, 1, 3)
    /// (Keras' preprocessing, on the last axis) -> Transpose [0, 3, 1, 2] -> conv 3x3 pads 1 (8, bias) -> Relu -> conv 1x1
    /// (4, bias) -> Transpose [0, 2, 3, 1] -> y (1, H, W, 4). With <paramref name="transpose"/> false the first conv reads
    /// the channels-last input itself (a broken export). With <paramref name="head"/> a classifier follows as Keras'
    /// GlobalAveragePooling2D and Dense(5, softmax) come out of tf2onnx: ReduceMean of y over axes [1, 2] (keepdims 0) ->
    /// MatMul (4, 5) -> Add (5) -> Softmax -> probs (1, 5), the graph's output.</summary>
    public static byte[] KerasLikeBytes(int seed = 22, int height = -1, int width = -1, bool transpose = true, bool head = false)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "keras" };
        g.Input.Add(ProtoBuilders.Value("x", 1, height, width, 3));
        if (height < 0) g.Input[^1].Type.TensorType.Shape.Dim[1] = new Dimension { DimParam = "H" };
        if (width < 0) g.Input[^1].Type.TensorType.Shape.Dim[2] = new Dimension { DimParam = "W" };
        g.Initializer.Add(ProtoBuilders.FloatData("mean", [0.485f, 0.456f, 0.406f], 3));
        g.Initializer.Add(ProtoBuilders.FloatData("scale", [1 / 0.229f, 1 / 0.224f, 1 / 0.225f], 1, 1, 1, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("w1", R(rng, 8 * 3 * 9, -0.4f, 0.4f), 8, 3, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("b1", R(rng, 8, -0.2f, 0.2f), 8));
        g.Initializer.Add(ProtoBuilders.FloatData("w2", R(rng, 4 * 8, -0.5f, 0.5f), 4, 8, 1, 1));
        g.Initializer.Add(ProtoBuilders.FloatData("b2", R(rng, 4, -0.1f, 0.1f), 4));
        void Node(string name, string op, string[] ins, string output, params AttributeProto[] attrs) => ProtoBuilders.Node(g, name, op, ins, output, attrs);
        Node("sub_mean", "Sub", ["x", "mean"], "centred");
        Node("mul_scale", "Mul", ["centred", "scale"], "normed");
        if (transpose) Node("to_nchw", "Transpose", ["normed"], "nchw", Ints("perm", 0, 3, 1, 2));
        Node("conv1", "Conv", [transpose ? "nchw" : "normed", "w1", "b1"], "c1", Ints("pads", 1, 1, 1, 1));
        Node("relu1", "Relu", ["c1"], "r1");
        Node("conv2", "Conv", ["r1", "w2", "b2"], "c2");
        Node("to_nhwc", "Transpose", ["c2"], "y", Ints("perm", 0, 2, 3, 1));
        if (head)
        {
            g.Initializer.Add(ProtoBuilders.FloatData("w3", R(rng, 4 * 5, -1f, 1f), 4, 5));
            g.Initializer.Add(ProtoBuilders.FloatData("b3", R(rng, 5, -0.2f, 0.2f), 5));
            Node("pool", "ReduceMean", ["y"], "pooled", Ints("axes", 1, 2), Int("keepdims", 0));
            Node("dense", "MatMul", ["pooled", "w3"], "logits0");
            Node("dense_bias", "Add", ["logits0", "b3"], "logits");
            Node("softmax", "Softmax", ["logits"], "probs", Int("axis", -1));
        }
        g.Output.Add(ProtoBuilders.Value(head ? "probs" : "y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }

    /// <summary>Opset 13, YOLOv5 v5.0's Focus stem and slices of rows and columns: x (1, 3, H, W) -> four pairs of Slices
    /// (rows from 0 or 1, then columns from 0 or 1, step 2, ends INT64_MAX: x[..., ::2, ::2], x[..., 1::2, ::2],
    /// x[..., ::2, 1::2], x[..., 1::2, 1::2]) -> Concat (12 channels) -> conv 3x3 pads 1 (4, bias) -> Relu -> Slice rows
    /// 1:-1 (a crop) -> Slice columns -1::-1 to INT64_MIN (a flip) -> y.</summary>
    public static byte[] FocusBytes(int seed = 21)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "focus" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Initializer.Add(ProtoBuilders.FloatData("w", R(rng, 4 * 12 * 9, -0.3f, 0.3f), 4, 12, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("b", R(rng, 4, -0.2f, 0.4f), 4));
        string Slice(string name, string x, long start, long end, long axis, long step, string? output = null)
        {
            g.Initializer.Add(Int64Data(name + "_starts", start));
            g.Initializer.Add(Int64Data(name + "_ends", end));
            g.Initializer.Add(Int64Data(name + "_axes", axis));
            g.Initializer.Add(Int64Data(name + "_steps", step));
            ProtoBuilders.Node(g, name, "Slice", [x, name + "_starts", name + "_ends", name + "_axes", name + "_steps"], output ?? name + "_out");
            return output ?? name + "_out";
        }
        (long r, long c)[] phases = [(0, 0), (1, 0), (0, 1), (1, 1)];
        string[] parts = phases.Select((p, i) => Slice($"focus_c{i}", Slice($"focus_r{i}", "x", p.r, long.MaxValue, 2, 2), p.c, long.MaxValue, 3, 2)).ToArray();
        ProtoBuilders.Node(g, "focus_cat", "Concat", parts, "cat", new AttributeProto { Name = "axis", Type = 2, I = 1 });
        ProtoBuilders.Node(g, "conv", "Conv", ["cat", "w", "b"], "c", Ints("pads", 1, 1, 1, 1));
        ProtoBuilders.Node(g, "relu", "Relu", ["c"], "r");
        string crop = Slice("crop", "r", 1, -1, 2, 1);
        g.Output.Add(ProtoBuilders.Value(Slice("flip", crop, -1, long.MinValue, -1, -1, output: "y")));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }

    public static OnnxGraph Focus(int seed = 21) => OnnxGraph.Build(OnnxReader.Parse(FocusBytes(seed), "focus.onnx"));

    /// <summary>The short names of the models built here that run as stacks (<see cref="ByName"/>).</summary>
    public static readonly string[] StackModels =
        ["branchy", "classifier", "se", "decoder", "upsampler", "style", "espcn", "poolhead", "dynhead", "csp", "alexnet", "shufflenet", "convnext", "focus", "keras", "kerasdigits"];

    /// <summary>The models built here that run as stacks, by the short names the GPU tests use.</summary>
    public static OnnxGraph ByName(string name) => name switch
    {
        "branchy" => MobileLike(), "classifier" => Classifier(), "se" => SqueezeExcite(), "decoder" => Decoder(),
        "upsampler" => Upsampler(), "style" => StyleTransfer(), "espcn" => SuperResolution(), "poolhead" => PoolingHead(),
        "dynhead" => DynamicHead(), "csp" => Csp(), "alexnet" => AlexNetLike(), "shufflenet" => ShuffleUnit(), "convnext" => ConvNeXt(), "focus" => Focus(),
        "keras" => OnnxGraph.Build(OnnxReader.Parse(KerasLikeBytes(head: true), "keras.onnx")),
        "kerasdigits" => OnnxGraph.Build(OnnxReader.Parse(KerasDigitsBytes(), "kerasdigits.onnx")),
        _ => throw new ArgumentException($"no test model '{name}'", nameof(name)),
    };

    public static OnnxGraph ShuffleUnit(int seed = 19) => OnnxGraph.Build(OnnxReader.Parse(ShuffleUnitBytes(seed), "shufflenet.onnx"));

    public static OnnxGraph Csp(int seed = 17) => OnnxGraph.Build(OnnxReader.Parse(CspBytes(seed), "csp.onnx"));

    public static OnnxGraph DynamicHead(int seed = 15) => OnnxGraph.Build(OnnxReader.Parse(DynamicHeadBytes(seed), "dynhead.onnx"));

    public static OnnxGraph Shuffle(int seed = 16) => OnnxGraph.Build(OnnxReader.Parse(ShuffleBytes(seed), "shuffle.onnx"));

    /// <summary>Opset 13, an AlexNet-era net in small: x (1, 3, H, W) -> conv 3x3 pads 1 (8, bias) -> Relu -> LRN size 5
    /// alpha 0.5 beta 0.75 bias 2 (AlexNet's k) -> MaxPool 3x3 stride 2 (overlapping, as AlexNet's) -> conv 3x3 pads 1 (6)
    /// -> Relu -> LRN size 3 alpha 0.3, beta and bias left at their defaults -> y. Alphas larger than AlexNet's 1e-4 so the
    /// normalisation moves the values by more than the tolerance; odd sizes only, as ONNX Runtime's CPU LRN refuses even
    /// ones (LrnTests has the even windows' worked examples).</summary>
    public static byte[] AlexNetLikeBytes(int seed = 18)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "alexnet" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Initializer.Add(ProtoBuilders.FloatData("w1", R(rng, 8 * 3 * 9, -0.5f, 0.5f), 8, 3, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("b1", R(rng, 8, -0.2f, 0.5f), 8));
        g.Initializer.Add(ProtoBuilders.FloatData("w2", R(rng, 6 * 8 * 9, -0.5f, 0.5f), 6, 8, 3, 3));
        void Node(string name, string op, string[] ins, string output, params AttributeProto[] attrs) => ProtoBuilders.Node(g, name, op, ins, output, attrs);
        AttributeProto F(string name, float v) => new() { Name = name, Type = 1, F = v };
        Node("conv1", "Conv", ["x", "w1", "b1"], "c1", Ints("pads", 1, 1, 1, 1));
        Node("relu1", "Relu", ["c1"], "r1");
        Node("norm1", "LRN", ["r1"], "n1", new AttributeProto { Name = "size", Type = 2, I = 5 }, F("alpha", 0.5f), F("beta", 0.75f), F("bias", 2f));
        Node("pool1", "MaxPool", ["n1"], "p1", Ints("kernel_shape", 3, 3), Ints("strides", 2, 2));
        Node("conv2", "Conv", ["p1", "w2"], "c2", Ints("pads", 1, 1, 1, 1));
        Node("relu2", "Relu", ["c2"], "r2");
        Node("norm2", "LRN", ["r2"], "y", new AttributeProto { Name = "size", Type = 2, I = 3 }, F("alpha", 0.3f));
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return m.ToByteArray();
    }

    public static OnnxGraph AlexNetLike(int seed = 18) => OnnxGraph.Build(OnnxReader.Parse(AlexNetLikeBytes(seed), "alexnet.onnx"));

    public static OnnxGraph PoolingHead(int seed = 14) => OnnxGraph.Build(OnnxReader.Parse(PoolingHeadBytes(seed), "poolhead.onnx"));

    public static OnnxGraph SuperResolution(int seed = 13) => OnnxGraph.Build(OnnxReader.Parse(SuperResolutionBytes(seed), "espcn.onnx"));

    public static OnnxGraph StyleTransfer(int seed = 12) => OnnxGraph.Build(OnnxReader.Parse(StyleTransferBytes(seed), "style.onnx"));

    public static OnnxGraph Upsampler(int seed = 10) => OnnxGraph.Build(OnnxReader.Parse(UpsamplerBytes(seed), "upsampler.onnx"));

    public static OnnxGraph Decoder(int seed = 9) => OnnxGraph.Build(OnnxReader.Parse(DecoderBytes(seed), "decoder.onnx"));

    public static OnnxGraph SqueezeExcite(int seed = 8) => OnnxGraph.Build(OnnxReader.Parse(SqueezeExciteBytes(seed), "se.onnx"));

    public static OnnxGraph Classifier(int seed = 6) => OnnxGraph.Build(OnnxReader.Parse(ClassifierBytes(seed), "classifier.onnx"));
}

/// <summary>ONNX messages built in code for tests.</summary>
internal static class ProtoBuilders
{
    /// <summary>A one-node model built with the generated messages: x (1, 2, 4, 5) -> node -> y.</summary>
    internal static ModelProto OneNode(string opType, params AttributeProto[] attributes)
    {
        var node = new NodeProto { Name = "n0", OpType = opType, Input = { "x" }, Output = { "y" } };
        node.Attribute.AddRange(attributes);
        var graph = new GraphProto { Name = "g", Node = { node }, Input = { Value("x", 1, 2, 4, 5) }, Output = { Value("y") } };
        return new ModelProto { IrVersion = 7, Graph = graph, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
    }

    internal static float[] R(Random rng, int n, float lo = -1, float hi = 1) => Enumerable.Range(0, n).Select(_ => lo + (float)rng.NextDouble() * (hi - lo)).ToArray();

    internal static AttributeProto Ints(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = 7 };
        a.Ints.AddRange(v);
        return a;
    }

    internal static AttributeProto Str(string name, string v) => new() { Name = name, Type = 3, S = ByteString.CopyFromUtf8(v) };

    internal static TensorProto Int64Data(string name, params long[] values)
    {
        var t = new TensorProto { Name = name, DataType = 7 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        return t;
    }

    /// <summary>A (1, C, H, W) float input "x" with H and W left free (named dimensions), as an exported image model has.</summary>
    internal static void AddImageInput(GraphProto g, int channels)
    {
        g.Input.Add(Value("x", 1, channels, -1, -1));
        g.Input[^1].Type.TensorType.Shape.Dim[2] = new Dimension { DimParam = "H" };
        g.Input[^1].Type.TensorType.Shape.Dim[3] = new Dimension { DimParam = "W" };
    }

    /// <summary>Adds a node to <paramref name="g"/> and returns it.</summary>
    internal static NodeProto Node(GraphProto g, string name, string op, string[] inputs, string output, params AttributeProto[] attributes) =>
        Node(g, name, op, inputs, [output], attributes);

    /// <summary>Adds a node of several outputs (Split) to <paramref name="g"/> and returns it.</summary>
    internal static NodeProto Node(GraphProto g, string name, string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var n = new NodeProto { Name = name, OpType = op };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        n.Attribute.AddRange(attributes);
        g.Node.Add(n);
        return n;
    }

    internal static AttributeProto Int(string name, long v) => new() { Name = name, Type = 2, I = v };

    internal static ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims) shape.Dim.Add(new Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TensorTypeProto { ElemType = 1, Shape = dims.Length > 0 ? shape : null } } };
    }

    internal static TensorProto FloatData(string name, float[] values, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = 1 };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(values);
        return t;
    }

    internal static TensorProto RawData(string name, float[] values, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = 1 };
        t.Dims.AddRange(dims);
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        t.RawData = ByteString.CopyFrom(bytes);
        return t;
    }
}
