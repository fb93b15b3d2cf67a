using ConvGL.Core.Onnx.Proto;
using Google.Protobuf;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>Graphs node for node as torch.onnx.export writes them (the architectures' blocks in <see cref="ArchitectureGraphs"/>).</summary>
internal sealed class TorchGraph
{
    public readonly GraphProto G = new() { Name = "torch_jit" };
    private readonly Random _rng;
    public readonly long Opset;
    private int _k;

    public TorchGraph(int seed, long opset, int channels = 3)
    {
        _rng = new Random(seed);
        Opset = opset;
        ProtoBuilders.AddImageInput(G, channels);
    }

    private string Fresh(string stem) => $"{stem}_{_k++}";

    /// <summary>x.size(axis) as a dynamic-size export writes it: Shape of <paramref name="v"/>, then a Gather of that axis
    /// (nodes "{stem}/Shape_{n}", "{stem}/Gather_{n}", constant "{stem}/{constant}{n}").</summary>
    public string Dim(string stem, string v, long axis, string n, string constant = "Constant_") =>
        Node($"{stem}/Gather_{n}", "Gather", [Node($"{stem}/Shape_{n}", "Shape", [v]), ConstI($"{stem}/{constant}{n}", [axis], scalar: true)], ProtoBuilders.Int("axis", 0));

    /// <summary>Declares the input's size fixed, as an export without dynamic axes does.</summary>
    public void FixInput(int h, int w)
    {
        G.Input[0].Type.TensorType.Shape.Dim[2] = new Dimension { DimValue = h };
        G.Input[0].Type.TensorType.Shape.Dim[3] = new Dimension { DimValue = w };
    }

    public string Init(string name, float[] v, params long[] dims)
    {
        G.Initializer.Add(ProtoBuilders.FloatData(name, v, dims));
        return name;
    }

    public string Rand(string name, float scale, params long[] dims) =>
        Init(name, ProtoBuilders.R(_rng, (int)dims.Aggregate(1L, (a, b) => a * b), -scale, scale), dims);

    public string Node(string name, string op, string[] ins, params AttributeProto[] a)
    {
        string output = name + "_output_0";
        ProtoBuilders.Node(G, name, op, ins, output, a);
        return output;
    }

    public string[] NodeN(string name, string op, string[] ins, int outs, params AttributeProto[] a)
    {
        string[] outputs = Enumerable.Range(0, outs).Select(i => $"{name}_output_{i}").ToArray();
        ProtoBuilders.Node(G, name, op, ins, outputs, a);
        return outputs;
    }

    /// <summary>A Constant node of int64s (a 1-D tensor, or a scalar with <paramref name="scalar"/>).</summary>
    public string ConstI(string name, long[] v, bool scalar = false)
    {
        var t = new TensorProto { DataType = 7 };
        if (!scalar) t.Dims.Add(v.Length);
        t.Int64Data.AddRange(v);
        return Node(name, "Constant", [], new AttributeProto { Name = "value", Type = 4, T = t });
    }

    public string ConstF(string name, float v, params long[] dims) =>
        Node(name, "Constant", [], new AttributeProto { Name = "value", Type = 4, T = ProtoBuilders.FloatData("", [v], dims) });

    public string Conv(string name, string x, int cin, int cout, int k, int stride = 1, int pad = -1, int group = 1, bool bias = true, int kw = -1, int padw = -1)
    {
        int kh = k;
        kw = kw < 0 ? k : kw;
        int ph = pad < 0 ? kh / 2 : pad, pw = padw < 0 ? (pad < 0 ? kw / 2 : pad) : padw;
        float s = 1.5f / MathF.Sqrt(cin / group * kh * kw);
        string w = Rand(name.TrimStart('/').Replace('/', '.') + ".weight", s, cout, cin / group, kh, kw);
        var ins = new List<string> { x, w };
        if (bias) ins.Add(Rand(name.TrimStart('/').Replace('/', '.') + ".bias", 0.3f, cout));
        var attrs = new List<AttributeProto>
        {
            ProtoBuilders.Ints("dilations", 1, 1), ProtoBuilders.Int("group", group), ProtoBuilders.Ints("kernel_shape", kh, kw),
            ProtoBuilders.Ints("pads", ph, pw, ph, pw), ProtoBuilders.Ints("strides", stride, stride),
        };
        return Node(name, "Conv", [.. ins], [.. attrs]);
    }

    public string Silu(string stem, string x) => Node(stem + "/Mul", "Mul", [x, Node(stem + "/Sigmoid", "Sigmoid", [x])]);

    public string Relu(string stem, string x) => Node(stem + "/Relu", "Relu", [x]);

    public string Unsqueeze(string name, string x, params long[] axes) => Opset >= 13
        ? Node(name, "Unsqueeze", [x, ConstI(name + "_axes", axes)])
        : Node(name, "Unsqueeze", [x], ProtoBuilders.Ints("axes", axes));

    public string Clip(string name, string x, float lo, float hi) => Opset >= 11
        ? Node(name, "Clip", [x, ConstF(name + "_min", lo), ConstF(name + "_max", hi)])
        : Node(name, "Clip", [x], new AttributeProto { Name = "min", Type = 1, F = lo }, new AttributeProto { Name = "max", Type = 1, F = hi });

    public string ReduceMean(string name, string x, long keep, params long[] axes) => Reduce("ReduceMean", name, x, keep, axes);

    /// <summary>ReduceMean / ReduceMax / ReduceMin / ReduceSum: axes as an input from opset 18 (ReduceSum: 13), an attribute before.</summary>
    public string Reduce(string op, string name, string x, long keep, params long[] axes) => Opset >= (op == "ReduceSum" ? 13 : 18)
        ? Node(name, op, [x, ConstI(name + "_axes", axes)], ProtoBuilders.Int("keepdims", keep))
        : Node(name, op, [x], ProtoBuilders.Ints("axes", axes), ProtoBuilders.Int("keepdims", keep));

    public string Gap(string name, string x) => Node(name, "GlobalAveragePool", [x]);

    public string Flatten(string name, string x) => Node(name, "Flatten", [x], ProtoBuilders.Int("axis", 1));

    public string Gemm(string name, string x, int k, int n) =>
        Node(name, "Gemm", [x, Rand(name.TrimStart('/') + ".weight", 1f / MathF.Sqrt(k), n, k), Rand(name.TrimStart('/') + ".bias", 0.2f, n)],
            new AttributeProto { Name = "alpha", Type = 1, F = 1 }, new AttributeProto { Name = "beta", Type = 1, F = 1 }, ProtoBuilders.Int("transB", 1));

    public string Concat(string name, params string[] xs) => Node(name, "Concat", xs, ProtoBuilders.Int("axis", 1));

    public string MaxPool(string name, string x, int k, int s, int p, bool ceil = false) =>
        Node(name, "MaxPool", [x], ProtoBuilders.Int("ceil_mode", ceil ? 1 : 0), ProtoBuilders.Ints("kernel_shape", k, k), ProtoBuilders.Ints("pads", p, p, p, p), ProtoBuilders.Ints("strides", s, s));

    public string BatchNorm(string name, string x, int c)
    {
        string p = name.TrimStart('/').Replace('/', '.');
        return Node(name, "BatchNormalization",
            [x, Init(p + ".weight", ProtoBuilders.R(_rng, c, 0.5f, 1.5f), c), Rand(p + ".bias", 0.3f, c), Rand(p + ".running_mean", 0.3f, c), Init(p + ".running_var", ProtoBuilders.R(_rng, c, 0.5f, 2f), c)],
            new AttributeProto { Name = "epsilon", Type = 1, F = 1e-5f }, new AttributeProto { Name = "momentum", Type = 1, F = 0.9f });
    }

    public byte[] Bytes(params string[] outputs)
    {
        foreach (string o in outputs) G.Output.Add(ProtoBuilders.Value(o));
        return new ModelProto { IrVersion = Opset >= 13 ? 7 : 6, ProducerName = "pytorch", ProducerVersion = "2.1.0", Graph = G, OpsetImport = { new OperatorSetIdProto { Version = Opset } } }.ToByteArray();
    }
}

/// <summary>Real architectures' blocks as torch.onnx.export writes them, node for node (opsets 10-17), by name: the
/// Core tests check them against ONNX Runtime (ArchitectureImportTests), the GPU tests the GPU stack runner against the
/// CPU on them (ArchitectureGpuTests).</summary>
internal static class ArchitectureGraphs
{
    /// <summary>The blocks that import as stacks (name, opset), each built by <see cref="Build"/>.</summary>
    public static IEnumerable<object[]> Importing()
    {
        foreach (long o in new long[] { 11, 13, 17 })
            foreach (string arch in new[] { "effnet_gap", "effnet_mean", o >= 14 ? "mbv3_op" : "mbv3_hsig", "densenet", "inception_cip1", "yolo_c3_sppf",
                                            "unet_convt", "unet_resize", "regnet", "squeezenet", "resnet50_flatten", "resnet50_mean", "resnet50_view" })
                yield return [arch, o];
        foreach ((string arch, long o) in new[] { ("mbv3_old", 11L), ("mbv3_old2", 11L), ("densenet_singlecat", 13L), ("inception_cip0", 13L),
                                                  ("inception_pad", 11L), ("inception_pad", 10L), ("unet_convt_pad0", 13L), ("resnet50_dropout_ratio", 13L),
                                                  ("resnet50_buffer3", 13L), ("vgg", 13L), ("deeplab", 11L), ("deeplab", 13L), ("yoloup", 11L), ("yoloup", 13L), ("yolo_focus", 13L), ("yolo_focus", 11L),
                                                  ("unet_convt_dynpad", 13L), ("unet_convt_dynpad", 11L), ("resize_to_skip", 13L), ("resize_to_input", 13L),
                                                  ("resnet50_dropout_attr", 11L), ("resnet50_dropout", 13L),
                                                  ("cbam", 11L), ("cbam", 13L), ("cbam", 17L), ("cbam_squeezed", 11L), ("cbam_squeezed", 13L),
                                                  ("attention_unet", 11L), ("attention_unet", 13L),
                                                  ("sagan", 11L), ("sagan", 13L), ("sagan", 17L), ("ldm_attn", 13L), ("ldm_attn", 17L),
                                                  ("nonlocal", 11L), ("nonlocal", 13L), ("attn_keys_first", 13L),
                                                  ("botnet_mhsa", 11L), ("botnet_mhsa", 13L), ("botnet_mhsa", 17L), ("mhsa_values_last", 13L), ("heads_as_batch", 13L),
                                                  ("ldm_mid", 11L), ("ldm_mid", 13L), ("ldm_mid", 17L), ("ldm_mid_fixed", 13L),
                                                  ("diffusers_attn", 14L), ("diffusers_attn", 17L), ("diffusers_attn_heads", 17L), ("transformer_block", 17L),
                                                  ("diffusers_attn_torchscale", 14L), ("diffusers_attn_torchscale", 17L) })
            yield return [arch, o];
    }

    public static byte[] Build(string arch, long opset) => arch switch
    {
        "effnet_gap" => EfficientNet(opset, false),
        "effnet_mean" => EfficientNet(opset, true),
        "mbv3_op" => MobileNetV3(opset, "op"),
        "mbv3_hsig" => MobileNetV3(opset, "hsig"),
        "mbv3_old" => MobileNetV3(opset, "old"),
        "mbv3_old2" => MobileNetV3(opset, "old2"),
        "densenet" => DenseNet(opset, false),
        "densenet_singlecat" => DenseNet(opset, true),
        "inception_cip1" => Inception(opset, "cip1"),
        "inception_cip0" => Inception(opset, "cip0"),
        "inception_pad" => Inception(opset, "pad"),
        "yolo_c3_sppf" => Yolo(opset, false),
        "yolo_focus" => Yolo(opset, true),
        "yolo_detect" => YoloDetect(opset, 8, 10),
        "unet_convt" => UNet(opset, "convt", "nopad"),
        "unet_resize" => UNet(opset, "resize", "nopad"),
        "unet_convt_pad0" => UNet(opset, "convt", "pad0"),
        "unet_convt_dynpad" => UNet(opset, "convt", "dynpad"),
        "resize_to_skip" => ResizeToSkip(opset),
        "resize_to_input" => ResizeToSkip(opset, toInput: true),
        "regnet" => RegNet(opset),
        "squeezenet" => SqueezeNet(opset),
        "resnet50_flatten" => ResNet50(opset, "flatten"),
        "resnet50_mean" => ResNet50(opset, "mean"),
        "resnet50_view" => ResNet50(opset, "view"),
        "resnet50_dropout" => ResNet50(opset, "dropout"),
        "resnet50_dropout_attr" => ResNet50(opset, "dropout_attr"),
        "resnet50_dropout_ratio" => ResNet50(opset, "dropout_ratio"),
        "vgg" or "deeplab" or "yoloup" => Extra(opset, arch),
        "resnet50_buffer3" => ResNet50(opset, "flatten", buffer3: true),
        "cbam" => Cbam(opset, squeezed: false),
        "cbam_squeezed" => Cbam(opset, squeezed: true),
        "attention_unet" => AttentionUNet(opset),
        "sagan" => Sagan(opset),
        "ldm_attn" => LdmAttention(opset),
        "nonlocal" => NonLocal(opset),
        "attn_keys_first" => KeysFirstAttention(opset),
        "botnet_mhsa" => BotNetMhsa(opset),
        "mhsa_values_last" => MhsaValuesLast(opset),
        "heads_as_batch" => HeadsAsBatch(opset),
        "ldm_mid" => LdmMidBlock(opset, fixedSize: false),
        "ldm_mid_fixed" => LdmMidBlock(opset, fixedSize: true),
        "diffusers_attn" => DiffusersAttention(opset, heads: 1),
        "diffusers_attn_heads" => DiffusersAttention(opset, heads: 4),
        "diffusers_attn_torchscale" => DiffusersAttention(opset, heads: 2, torchScale: true),
        "transformer_block" => TransformerBlock(opset),
        _ => throw new ArgumentException(arch),
    };

    /// <summary>The input size each block is run at (Focus and the UNets need even sizes).</summary>
    public static (int H, int W) SizeFor(string arch) =>
        arch == "vgg" ? (7, 7) : arch.StartsWith("yolo", StringComparison.Ordinal) || arch == "deeplab" || arch.StartsWith("unet", StringComparison.Ordinal)
            || arch.StartsWith("resize", StringComparison.Ordinal) || arch is "attention_unet" or "ldm_attn" or "nonlocal" or "mhsa_values_last" or "ldm_mid_fixed" ? (12, 16) : (23, 19);


    /// <summary>torchvision EfficientNet-B0: stem conv s2 + SiLU, one MBConv (expand, depthwise, SE with SiLU, gate first in
    /// the Mul, project, residual), head conv + SiLU, avgpool, flatten, (dropout removed), Linear.
    /// reduceMean: timm's SE (x.mean((2, 3), keepdim=True)) and head (x.mean((2, 3)) + Linear).</summary>
    internal static byte[] EfficientNet(long opset, bool reduceMean)
    {
        var t = new TorchGraph(11, opset);
        string s = t.Silu("/features/features.0/features.0.2", t.Conv("/features/features.0/features.0.0/Conv", "x", 3, 8, 3, 2));
        string b = "/features/features.1/features.1.0/block";
        string e = t.Silu(b + "/block.0/block.0.2", t.Conv(b + "/block.0/block.0.0/Conv", s, 8, 16, 1));
        string d = t.Silu(b + "/block.1/block.1.2", t.Conv(b + "/block.1/block.1.0/Conv", e, 16, 16, 3, group: 16));
        string q = reduceMean ? t.ReduceMean(b + "/block.2/ReduceMean", d, 1, 2, 3) : t.Gap(b + "/block.2/avgpool/GlobalAveragePool", d);
        string f1 = t.Silu(b + "/block.2/activation", t.Conv(b + "/block.2/fc1/Conv", q, 16, 4, 1));
        string g = t.Node(b + "/block.2/scale_activation/Sigmoid", "Sigmoid", [t.Conv(b + "/block.2/fc2/Conv", f1, 4, 16, 1)]);
        string se = t.Node(b + "/block.2/Mul", "Mul", [g, d]);
        string p = t.Conv(b + "/block.3/block.3.0/Conv", se, 16, 8, 1);
        string add = t.Node("/features/features.1/features.1.0/Add", "Add", [p, s]);
        string head = t.Silu("/features/features.2/features.2.2", t.Conv("/features/features.2/features.2.0/Conv", add, 8, 12, 1));
        string y = reduceMean
            ? t.Gemm("/classifier/classifier.1/Gemm", t.ReduceMean("/ReduceMean", head, 0, 2, 3), 12, 5)
            : t.Gemm("/classifier/classifier.1/Gemm", t.Flatten("/Flatten", t.Gap("/avgpool/GlobalAveragePool", head)), 12, 5);
        return t.Bytes(y);
    }

    /// <summary>torchvision MobileNetV3 block. hs: "op" HardSwish (opset 14+), "hsig" HardSigmoid(1/6)+Mul (torch at opset
    /// 11-13), "old" x * (relu6(x + 3) / 6) (Add, Clip, Div, Mul), "old2" (x * relu6(x + 3)) / 6 (Add, Clip, Mul, Div).
    /// The SE gate: HardSigmoid (torch), or relu6(x + 3) / 6 for the old forms.</summary>
    internal static byte[] MobileNetV3(long opset, string hs)
    {
        var t = new TorchGraph(12, opset);
        string HS(string stem, string x) => hs switch
        {
            "op" => t.Node(stem + "/HardSwish", "HardSwish", [x]),
            "hsig" => t.Node(stem + "/Mul", "Mul", [x, t.Node(stem + "/HardSigmoid", "HardSigmoid", [x], new AttributeProto { Name = "alpha", Type = 1, F = 1f / 6 })]),
            "old" => t.Node(stem + "/Mul", "Mul", [x, t.Node(stem + "/Div", "Div", [t.Clip(stem + "/Clip", t.Node(stem + "/Add", "Add", [x, t.ConstF(stem + "/Constant", 3f)]), 0, 6), t.ConstF(stem + "/Constant_1", 6f)])]),
            _ => t.Node(stem + "/Div", "Div", [t.Node(stem + "/Mul", "Mul", [x, t.Clip(stem + "/Clip", t.Node(stem + "/Add", "Add", [x, t.ConstF(stem + "/Constant", 3f)]), 0, 6)]), t.ConstF(stem + "/Constant_1", 6f)]),
        };
        string HSig(string stem, string x) => hs is "op" or "hsig"
            ? t.Node(stem + "/HardSigmoid", "HardSigmoid", [x], new AttributeProto { Name = "alpha", Type = 1, F = 1f / 6 })
            : t.Node(stem + "/Div", "Div", [t.Clip(stem + "/Clip", t.Node(stem + "/Add", "Add", [x, t.ConstF(stem + "/Constant", 3f)]), 0, 6), t.ConstF(stem + "/Constant_1", 6f)]);
        string s = HS("/features/features.0/features.0.2", t.Conv("/features/features.0/features.0.0/Conv", "x", 3, 8, 3, 2));
        string b = "/features/features.1/block";
        string e = HS(b + "/block.0/block.0.2", t.Conv(b + "/block.0/block.0.0/Conv", s, 8, 16, 1));
        string d = HS(b + "/block.1/block.1.2", t.Conv(b + "/block.1/block.1.0/Conv", e, 16, 16, 5, group: 16));
        string q = t.Gap(b + "/block.2/avgpool/GlobalAveragePool", d);
        string f1 = t.Relu(b + "/block.2/activation", t.Conv(b + "/block.2/fc1/Conv", q, 16, 8, 1));
        string g = HSig(b + "/block.2/scale_activation", t.Conv(b + "/block.2/fc2/Conv", f1, 8, 16, 1));
        string se = t.Node(b + "/block.2/Mul", "Mul", [g, d]);
        string p = t.Conv(b + "/block.3/block.3.0/Conv", se, 16, 8, 1);
        string add = t.Node("/features/features.1/Add", "Add", [p, s]);
        string head = HS("/features/features.2/features.2.2", t.Conv("/features/features.2/features.2.0/Conv", add, 8, 12, 1));
        string fc1 = HS("/classifier/classifier.1", t.Gemm("/classifier/classifier.0/Gemm", t.Flatten("/Flatten", t.Gap("/avgpool/GlobalAveragePool", head)), 12, 10));
        return t.Bytes(t.Gemm("/classifier/classifier.3/Gemm", fc1, 10, 5));
    }

    /// <summary>torchvision DenseNet: stem (conv0 + norm0 folded, relu, maxpool), a dense block of two layers (torch.cat of
    /// the features so far, norm1 (BatchNormalization: after a Concat, not foldable), relu, conv1 1x1 with norm2 folded,
    /// relu, conv2 3x3), the block's Concat, a transition (BN, relu, conv 1x1, AveragePool 2 s2), norm5, relu,
    /// adaptive_avg_pool2d, flatten, Linear. singleCat: the first layer's torch.cat([x]) is a one-input Concat.</summary>
    internal static byte[] DenseNet(long opset, bool singleCat)
    {
        var t = new TorchGraph(13, opset);
        string x0 = t.MaxPool("/features/pool0/MaxPool", t.Relu("/features/relu0", t.Conv("/features/conv0/Conv", "x", 3, 8, 7, 2)), 3, 2, 1);
        var feats = new List<string> { x0 };
        int c = 8;
        for (int i = 1; i <= 2; i++)
        {
            string L = $"/features/denseblock1/denselayer{i}";
            string cat = feats.Count == 1 && !singleCat ? x0 : t.Concat(L + "/Concat", [.. feats]);
            string n1 = t.Relu(L + "/relu1", t.BatchNorm(L + "/norm1/BatchNormalization", cat, c));
            string c1 = t.Relu(L + "/relu2", t.Conv(L + "/conv1/Conv", n1, c, 8, 1));
            feats.Add(t.Conv(L + "/conv2/Conv", c1, 8, 4, 3, bias: false));
            c += 4;
        }
        string blk = t.Concat("/features/denseblock1/Concat", [.. feats]);
        string tr = t.Relu("/features/transition1/relu", t.BatchNorm("/features/transition1/norm/BatchNormalization", blk, c));
        string tc = t.Conv("/features/transition1/conv/Conv", tr, c, 8, 1, bias: false);
        string tp = t.Node("/features/transition1/pool/AveragePool", "AveragePool", [tc], ProtoBuilders.Ints("kernel_shape", 2, 2), ProtoBuilders.Ints("pads", 0, 0, 0, 0), ProtoBuilders.Ints("strides", 2, 2));
        string n5 = t.Relu("", t.BatchNorm("/features/norm5/BatchNormalization", tp, 8));
        return t.Bytes(t.Gemm("/classifier/Gemm", t.Flatten("/Flatten", t.Gap("/GlobalAveragePool", n5)), 8, 5));
    }

    /// <summary>torchvision Inception v3: transform_input (x[:, i] as Gather by a scalar Constant, Unsqueeze, Mul, Add,
    /// Concat), Conv2d_1a 3x3 s2, an InceptionA block (1x1; 1x1 -> 5x5; 1x1 -> 3x3 -> 3x3; avg_pool 3 s1 p1 -> 1x1),
    /// Concat, an InceptionC-style 1x7 / 7x1 pair. pool: "cip1" AveragePool count_include_pad 1 (torch, opset 11+),
    /// "cip0" count_include_pad 0, "pad" Pad + AveragePool (torch at opset 9-10).</summary>
    internal static byte[] Inception(long opset, string pool)
    {
        var t = new TorchGraph(14, opset);
        var chans = new List<string>();
        float[] std = [0.229f, 0.224f, 0.225f], mean = [0.485f, 0.456f, 0.406f];
        for (int i = 0; i < 3; i++)
        {
            string suffix = i == 0 ? "" : $"_{i}";
            string gth = t.Node($"/Gather{suffix}", "Gather", ["x", t.ConstI($"/Constant{suffix}", [i], scalar: true)], ProtoBuilders.Int("axis", 1));
            string u = t.Unsqueeze($"/Unsqueeze{suffix}", gth, 1);
            string m = t.Node($"/Mul{suffix}", "Mul", [u, t.ConstF($"/Constant_m{suffix}", std[i] / 0.5f)]);
            chans.Add(t.Node($"/Add{suffix}", "Add", [m, t.ConstF($"/Constant_a{suffix}", (mean[i] - 0.5f) / 0.5f)]));
        }
        string xin = t.Concat("/Concat", [.. chans]);
        string a = t.Relu("/Conv2d_1a_3x3", t.Conv("/Conv2d_1a_3x3/conv/Conv", xin, 3, 8, 3, 2, pad: 0));
        string M = "/Mixed_5b";
        string b1 = t.Relu(M + "/branch1x1", t.Conv(M + "/branch1x1/conv/Conv", a, 8, 4, 1));
        string b5 = t.Relu(M + "/branch5x5_2", t.Conv(M + "/branch5x5_2/conv/Conv", t.Relu(M + "/branch5x5_1", t.Conv(M + "/branch5x5_1/conv/Conv", a, 8, 3, 1)), 3, 4, 5));
        string d1 = t.Relu(M + "/branch3x3dbl_1", t.Conv(M + "/branch3x3dbl_1/conv/Conv", a, 8, 4, 1));
        string d2 = t.Relu(M + "/branch3x3dbl_2", t.Conv(M + "/branch3x3dbl_2/conv/Conv", d1, 4, 4, 3));
        string d3 = t.Relu(M + "/branch3x3dbl_3", t.Conv(M + "/branch3x3dbl_3/conv/Conv", d2, 4, 4, 3));
        string ap = pool switch
        {
            "pad" => t.Node(M + "/AveragePool", "AveragePool", [t.Node(M + "/Pad", "Pad", opset >= 11 ? [a, t.ConstI(M + "/Constant", [0, 0, 1, 1, 0, 0, 1, 1])] : [a],
                    opset >= 11 ? [ProtoBuilders.Str("mode", "constant")] : [ProtoBuilders.Str("mode", "constant"), ProtoBuilders.Ints("pads", 0, 0, 1, 1, 0, 0, 1, 1)])],
                ProtoBuilders.Int("ceil_mode", 0), ProtoBuilders.Ints("kernel_shape", 3, 3), ProtoBuilders.Ints("pads", 0, 0, 0, 0), ProtoBuilders.Ints("strides", 1, 1)),
            _ => t.Node(M + "/AveragePool", "AveragePool", [a], ProtoBuilders.Int("ceil_mode", 0), ProtoBuilders.Int("count_include_pad", pool == "cip1" ? 1 : 0),
                ProtoBuilders.Ints("kernel_shape", 3, 3), ProtoBuilders.Ints("pads", 1, 1, 1, 1), ProtoBuilders.Ints("strides", 1, 1)),
        };
        string bp = t.Relu(M + "/branch_pool", t.Conv(M + "/branch_pool/conv/Conv", ap, 8, 2, 1));
        string cat = t.Concat(M + "/Concat", b1, b5, d3, bp);
        string c17 = t.Relu("/Mixed_6b/branch7x7_2", t.Conv("/Mixed_6b/branch7x7_2/conv/Conv", cat, 14, 6, 1, pad: 0, kw: 7, padw: 3));
        string c71 = t.Relu("/Mixed_6b/branch7x7_3", t.Conv("/Mixed_6b/branch7x7_3/conv/Conv", c17, 6, 6, 7, pad: 3, kw: 1, padw: 0));
        string mp = t.MaxPool("/maxpool2/MaxPool", c71, 3, 2, 0);
        return t.Bytes(t.Gemm("/fc/Gemm", t.Flatten("/Flatten", t.Gap("/avgpool/GlobalAveragePool", mp)), 6, 5));
    }

    /// <summary>YOLOv5 (v6+): Conv 6x6 s2 p2 stem + SiLU, C3 (cv1 -> Bottleneck (1x1, 3x3, shortcut Add); cv2; Concat; cv3),
    /// SPPF (cv1, MaxPool 5 s1 p2 three times chained, Concat of four, cv2). focus: v5.0's Focus stem instead (x[..., ::2,
    /// ::2] etc.: two Slice nodes each, steps 2, ends INT64_MAX; Concat of four; conv 3x3).</summary>
    internal static byte[] Yolo(long opset, bool focus)
    {
        var t = new TorchGraph(15, opset);
        string CBS(string stem, string x, int cin, int cout, int k, int s = 1, int p = -1) => t.Silu(stem + "/act", t.Conv(stem + "/conv/Conv", x, cin, cout, k, s, p));
        string stem;
        if (focus)
        {
            string Sl(string name, string x, long start, long axis) => opset >= 10
                ? t.Node(name, "Slice", [x, t.ConstI(name + "_starts", [start]), t.ConstI(name + "_ends", [long.MaxValue]), t.ConstI(name + "_axes", [axis]), t.ConstI(name + "_steps", [2])])
                : throw new NotSupportedException();
            var parts = new List<string>();
            (long r, long c)[] offs = [(0, 0), (1, 0), (0, 1), (1, 1)];
            for (int i = 0; i < 4; i++)
                parts.Add(Sl($"/model.0/Slice_{2 * i + 1}", Sl($"/model.0/Slice_{2 * i}", "x", offs[i].r, 2), offs[i].c, 3));
            stem = CBS("/model.0/conv", t.Concat("/model.0/Concat", [.. parts]), 12, 8, 3);
        }
        else stem = CBS("/model.0", "x", 3, 8, 6, 2, 2);
        string C = "/model.1";
        string c1 = CBS(C + "/cv1", stem, 8, 4, 1);
        string m1 = CBS(C + "/m/m.0/cv1", c1, 4, 4, 1);
        string m2 = CBS(C + "/m/m.0/cv2", m1, 4, 4, 3);
        string madd = t.Node(C + "/m/m.0/Add", "Add", [c1, m2]);
        string c2 = CBS(C + "/cv2", stem, 8, 4, 1);
        string c3 = CBS(C + "/cv3", t.Concat(C + "/Concat", madd, c2), 8, 8, 1);
        string S = "/model.2";
        string s1 = CBS(S + "/cv1", c3, 8, 4, 1);
        string p1 = t.MaxPool(S + "/m/MaxPool", s1, 5, 1, 2);
        string p2 = t.MaxPool(S + "/m_1/MaxPool", p1, 5, 1, 2);
        string p3 = t.MaxPool(S + "/m_2/MaxPool", p2, 5, 1, 2);
        return t.Bytes(CBS(S + "/cv2", t.Concat(S + "/Concat", s1, p1, p2, p3), 16, 8, 1));
    }

    /// <summary>YOLOv5's Detect head on one level, a static-size export: conv 1x1 (3 anchors x 7), Reshape (1, 3, 7, ny, nx),
    /// Transpose [0, 1, 3, 4, 2], Sigmoid.</summary>
    internal static byte[] YoloDetect(long opset, int ny, int nx)
    {
        var t = new TorchGraph(16, opset);
        string c = t.Conv("/model.24/m.0/Conv", t.Silu("/model.0/act", t.Conv("/model.0/conv/Conv", "x", 3, 8, 3, 2)), 8, 21, 1);
        string r = t.Node("/model.24/Reshape", "Reshape", [c, t.ConstI("/model.24/Constant", [1, 3, 7, ny, nx])]);
        string tr = t.Node("/model.24/Transpose", "Transpose", [r], ProtoBuilders.Ints("perm", 0, 1, 3, 4, 2));
        return t.Bytes(t.Node("/model.24/Sigmoid", "Sigmoid", [tr]));
    }

    /// <summary>UNet (milesial): inc double conv, down (MaxPool 2 + double conv), up (ConvTranspose 2x2 s2, or "resize":
    /// nn.Upsample(scale_factor=2, bilinear, align_corners=True) as Resize with stored scales), F.pad of the upsampled map
    /// ("nopad": none, "pad0": a static export's folded Pad of zeros, "dynpad": pads from Shape as a dynamic export
    /// writes them), Concat([skip, up]), double conv, outc 1x1.</summary>
    internal static byte[] UNet(long opset, string up, string pad)
    {
        var t = new TorchGraph(17, opset);
        string DC(string stem, string x, int cin, int cmid, int cout) =>
            t.Relu(stem + "/double_conv/double_conv.5", t.Conv(stem + "/double_conv/double_conv.3/Conv", t.Relu(stem + "/double_conv/double_conv.2", t.Conv(stem + "/double_conv/double_conv.0/Conv", x, cin, cmid, 3)), cmid, cout, 3));
        string x1 = DC("/inc", "x", 3, 8, 8);
        string x2 = DC("/down1/maxpool_conv/maxpool_conv.1", t.MaxPool("/down1/maxpool_conv/maxpool_conv.0/MaxPool", x1, 2, 2, 0), 8, 16, 16);
        string u;
        if (up == "resize")
        {
            string scales = t.Init("/up1/up/Constant_scales", [1, 1, 2, 2], 4);
            var attrs = new[] { ProtoBuilders.Str("coordinate_transformation_mode", "align_corners"), ProtoBuilders.Str("cubic_coeff_a", "x"), ProtoBuilders.Str("mode", "linear"), ProtoBuilders.Str("nearest_mode", "floor") }
                .Where(a => a.Name != "cubic_coeff_a").ToArray();
            string roi = opset >= 13 ? "" : t.Init("/up1/up/Constant_roi", [], 0);
            u = t.Node("/up1/up/Resize", "Resize", [x2, roi, scales], attrs);
        }
        else
        {
            string w = t.Rand("up1.up.weight", 0.3f, 16, 8, 2, 2);
            u = t.Node("/up1/up/ConvTranspose", "ConvTranspose", [x2, w, t.Rand("up1.up.bias", 0.2f, 8)], ProtoBuilders.Ints("dilations", 1, 1), ProtoBuilders.Int("group", 1),
                ProtoBuilders.Ints("kernel_shape", 2, 2), ProtoBuilders.Ints("pads", 0, 0, 0, 0), ProtoBuilders.Ints("strides", 2, 2));
        }
        int cu = up == "resize" ? 16 : 8;
        if (pad == "pad0")
            u = t.Node("/up1/Pad", "Pad", [u, t.ConstI("/up1/Constant", [0, 0, 0, 0, 0, 0, 0, 0])], ProtoBuilders.Str("mode", "constant"));
        else if (pad == "dynpad")
        {
            // diffY = x2.size(2) - x1.size(2) (here skip x1 and upsampled u), diffX likewise; F.pad(u, [dX // 2, dX - dX // 2, dY // 2, dY - dY // 2]).
            string Dim(string v, long i, string n) => t.Dim("/up1", v, i, n);
            string dy = t.Node("/up1/Sub", "Sub", [Dim(x1, 2, "0"), Dim(u, 2, "1")]);
            string dx = t.Node("/up1/Sub_1", "Sub", [Dim(x1, 3, "2"), Dim(u, 3, "3")]);
            string two = t.ConstI("/up1/Constant_two", [2], scalar: true);
            string dx0 = t.Node("/up1/Div", "Div", [dx, two]);
            string dx1 = t.Node("/up1/Sub_2", "Sub", [dx, dx0]);
            string dy0 = t.Node("/up1/Div_1", "Div", [dy, two]);
            string dy1 = t.Node("/up1/Sub_3", "Sub", [dy, dy0]);
            string U(string v, string n) => t.Unsqueeze($"/up1/Unsqueeze_{n}", v, 0);
            string zeros = t.ConstI("/up1/Constant_zeros", [0, 0]);
            // ONNX pads: [N_b, C_b, H_b, W_b, N_e, C_e, H_e, W_e].
            string pads = t.Node("/up1/Concat_pads", "Concat", [zeros, U(dy0, "a"), U(dx0, "b"), zeros, U(dy1, "c"), U(dx1, "d")], ProtoBuilders.Int("axis", 0));
            u = t.Node("/up1/Pad", "Pad", [u, pads], ProtoBuilders.Str("mode", "constant"));
        }
        string cat = t.Concat("/up1/Concat", x1, u);
        string d = DC("/up1/conv", cat, 8 + cu, 8, 8);
        return t.Bytes(t.Conv("/outc/conv/Conv", d, 8, 2, 1));
    }

    /// <summary>UNet / FPN / DeepLab: F.interpolate(x, size=skip.shape[-2:], bilinear) exported with dynamic axes: Resize by
    /// sizes = Concat(Shape(x)[:2], Shape(skip)[2:]); <paramref name="toInput"/>: to the model input's size (DeepLab's head,
    /// F.interpolate(x, size=input_shape)).</summary>
    internal static byte[] ResizeToSkip(long opset, bool toInput = false)
    {
        var t = new TorchGraph(18, opset);
        string skip = t.Relu("/enc0", t.Conv("/enc0/Conv", "x", 3, 4, 3));
        string deep = t.Relu("/enc1", t.Conv("/enc1/Conv", skip, 4, 4, 3, 2));
        string shapeX = t.Node("/Shape", "Shape", [deep]);
        string nc = t.Node("/Slice", "Slice", [shapeX, t.ConstI("/Constant", [0]), t.ConstI("/Constant_1", [2]), t.ConstI("/Constant_2", [0])]);
        string shapeS = t.Node("/Shape_1", "Shape", [toInput ? "x" : skip]);
        string hw = t.Node("/Slice_1", "Slice", [shapeS, t.ConstI("/Constant_3", [2]), t.ConstI("/Constant_4", [long.MaxValue]), t.ConstI("/Constant_5", [0])]);
        string sizes = t.Node("/Concat", "Concat", [nc, hw], ProtoBuilders.Int("axis", 0));
        string up = t.Node("/Resize", "Resize", [deep, "", "", sizes], ProtoBuilders.Str("coordinate_transformation_mode", "pytorch_half_pixel"), ProtoBuilders.Str("mode", "linear"));
        return t.Bytes(t.Conv("/head/Conv", t.Concat("/Concat_1", skip, up), 8, 2, 1));
    }

    /// <summary>A residual block with CBAM (Woo et al. 2018) after its conv: channel attention, the average- and max-pooled
    /// maps through one shared MLP of 1x1 convs (8 -> 2 -> 8, ReLU), added, Sigmoid, scaling each channel (timm's CbamModule,
    /// x.mean((2, 3), keepdim=True) and x.amax(...): ReduceMean / ReduceMax over [2, 3]); then spatial attention, each
    /// pixel's mean and max over the channels joined, a 7x7 conv (2 -> 1, no bias), Sigmoid, scaling every channel (a
    /// (1, 1, H, W) map broadcast over 8); the residual add and ReLU. <paramref name="squeezed"/>: the official code's
    /// ChannelPool, torch.max(x, 1)[0].unsqueeze(1) and torch.mean(x, 1).unsqueeze(1) (keepdims 0, then Unsqueeze), max
    /// first; else Ultralytics' torch.mean(x, 1, keepdim=True) and torch.max(x, 1, keepdim=True)[0], mean first.</summary>
    internal static byte[] Cbam(long opset, bool squeezed)
    {
        var t = new TorchGraph(31, opset);
        string s = t.Relu("/stem/act", t.Conv("/stem/conv/Conv", "x", 3, 8, 3));
        const string C = "/cbam/channel_attention";
        AttributeProto[] OneByOne() =>
        [
            ProtoBuilders.Ints("dilations", 1, 1), ProtoBuilders.Int("group", 1), ProtoBuilders.Ints("kernel_shape", 1, 1),
            ProtoBuilders.Ints("pads", 0, 0, 0, 0), ProtoBuilders.Ints("strides", 1, 1),
        ];
        string w1 = t.Rand("cbam.channel_attention.fc.0.weight", 0.6f, 2, 8, 1, 1), b1 = t.Rand("cbam.channel_attention.fc.0.bias", 0.3f, 2);
        string w2 = t.Rand("cbam.channel_attention.fc.2.weight", 0.8f, 8, 2, 1, 1), b2 = t.Rand("cbam.channel_attention.fc.2.bias", 0.3f, 8);
        string Fc(string suffix, string x) => t.Node($"{C}/fc{suffix}/fc.2/Conv", "Conv",
            [t.Relu($"{C}/fc{suffix}/fc.1", t.Node($"{C}/fc{suffix}/fc.0/Conv", "Conv", [x, w1, b1], OneByOne())), w2, b2], OneByOne());
        string avg = t.ReduceMean(C + "/ReduceMean", s, 1, 2, 3), max = t.Reduce("ReduceMax", C + "/ReduceMax", s, 1, 2, 3);
        string gate = t.Node(C + "/gate/Sigmoid", "Sigmoid", [t.Node(C + "/Add", "Add", [Fc("", avg), Fc("_1", max)])]);
        string ca = t.Node(C + "/Mul", "Mul", [s, gate]);
        const string S = "/cbam/spatial_attention";
        string pooled = squeezed
            ? t.Concat(S + "/compress/Concat",
                t.Unsqueeze(S + "/compress/Unsqueeze", t.Reduce("ReduceMax", S + "/compress/ReduceMax", ca, 0, 1), 1),
                t.Unsqueeze(S + "/compress/Unsqueeze_1", t.Reduce("ReduceMean", S + "/compress/ReduceMean", ca, 0, 1), 1))
            : t.Concat(S + "/Concat", t.Reduce("ReduceMean", S + "/ReduceMean", ca, 1, 1), t.Reduce("ReduceMax", S + "/ReduceMax", ca, 1, 1));
        string sa = t.Node(S + "/act/Sigmoid", "Sigmoid", [t.Conv(S + "/cv1/Conv", pooled, 2, 1, 7, bias: false)]);
        string y = t.Node(S + "/Mul", "Mul", [ca, sa]);
        return t.Bytes(t.Relu("/act", t.Node("/Add", "Add", [y, s])));
    }

    /// <summary>An Attention U-Net's skip with its attention gate (Oktay et al. 2018, the common PyTorch Attention_block):
    /// x, the encoder's map (conv 3 -> 8 + ReLU); g, the decoder's (max pool, conv 8 -> 8 + ReLU, nearest 2x upsample);
    /// W_g g + W_x x (1x1 convs to 4, their BatchNorms folded in by the export), ReLU, psi (1x1 conv to 1, Sigmoid), x * psi (one
    /// map gating all 8 channels), then the concat with g and a conv, as the decoder joins them. Needs an even size.</summary>
    internal static byte[] AttentionUNet(long opset)
    {
        var t = new TorchGraph(37, opset);
        string x = t.Relu("/Conv1/conv/conv.2", t.Conv("/Conv1/conv/conv.0/Conv", "x", 3, 8, 3));
        string deep = t.Relu("/Conv2/conv/conv.2", t.Conv("/Conv2/conv/conv.0/Conv", t.MaxPool("/Maxpool/MaxPool", x, 2, 2, 0), 8, 8, 3));
        string[] ins = opset >= 13 ? [deep, "", t.Init("/Up2/up/up.0/Constant_scales", [1, 1, 2, 2], 4)]
            : [deep, t.Init("/Up2/up/up.0/Constant_roi", [], 0), t.Init("/Up2/up/up.0/Constant_scales", [1, 1, 2, 2], 4)];
        string g = t.Node("/Up2/up/up.0/Resize", "Resize", ins, ProtoBuilders.Str("coordinate_transformation_mode", "asymmetric"), ProtoBuilders.Str("mode", "nearest"), ProtoBuilders.Str("nearest_mode", "floor"));
        const string A = "/Att2";
        // (The export folds each BatchNorm into the 1x1 conv before it, in eval mode: the convs carry them.)
        string g1 = t.Conv(A + "/W_g/W_g.0/Conv", g, 8, 4, 1), x1 = t.Conv(A + "/W_x/W_x.0/Conv", x, 8, 4, 1);
        string psi = t.Relu(A + "/relu", t.Node(A + "/Add", "Add", [g1, x1]));
        psi = t.Node(A + "/psi/psi.2/Sigmoid", "Sigmoid", [t.Conv(A + "/psi/psi.0/Conv", psi, 4, 1, 1)]);
        string gated = t.Node(A + "/Mul", "Mul", [x, psi]);
        return t.Bytes(t.Relu("/Up_conv2/conv/conv.2", t.Conv("/Up_conv2/conv/conv.0/Conv", t.Concat("/Concat", gated, g), 16, 8, 3)));
    }

    /// <summary>SAGAN's Self_Attn (Zhang et al. 2018), exported with dynamic sizes: query and key 1x1 convs to C/8, value to C;
    /// x.view(B, -1, W*H) from Shape arithmetic, the query permuted, energy = bmm(q, k), softmax(dim=-1), out = bmm(v,
    /// attention.permute(0, 2, 1)), out.view(B, C, W, H), gamma * out + x.</summary>
    internal static byte[] Sagan(long opset)
    {
        var t = new TorchGraph(41, opset);
        string x = t.Relu("/conv/conv.1", t.Conv("/conv/conv.0/Conv", "x", 3, 16, 3));
        const string A = "/attn";
        string q = t.Conv(A + "/query_conv/Conv", x, 16, 2, 1), k = t.Conv(A + "/key_conv/Conv", x, 16, 2, 1), v = t.Conv(A + "/value_conv/Conv", x, 16, 16, 1);
        string Dim(string n, long i) => t.Dim(A, x, i, n);
        string b = Dim("b", 0), c = Dim("c", 1), wd = Dim("w", 2), hd = Dim("h", 3);
        string wh = t.Node(A + "/Mul", "Mul", [wd, hd]);
        string Flat(string n) => t.Node($"{A}/Concat_{n}", "Concat", [t.Unsqueeze($"{A}/Unsqueeze_{n}b", b, 0), t.ConstI($"{A}/Constant_{n}m", [-1]), t.Unsqueeze($"{A}/Unsqueeze_{n}p", wh, 0)], ProtoBuilders.Int("axis", 0));
        string pq = t.Node(A + "/Transpose", "Transpose", [t.Node(A + "/Reshape", "Reshape", [q, Flat("q")])], ProtoBuilders.Ints("perm", 0, 2, 1));
        string pk = t.Node(A + "/Reshape_1", "Reshape", [k, Flat("k")]);
        string energy = t.Node(A + "/MatMul", "MatMul", [pq, pk]);
        string attention = t.Node(A + "/softmax/Softmax", "Softmax", [energy], ProtoBuilders.Int("axis", opset >= 13 ? -1 : 2));
        string pv = t.Node(A + "/Reshape_2", "Reshape", [v, Flat("v")]);
        string o = t.Node(A + "/MatMul_1", "MatMul", [pv, t.Node(A + "/Transpose_1", "Transpose", [attention], ProtoBuilders.Ints("perm", 0, 2, 1))]);
        string back = t.Node(A + "/Concat_o", "Concat", [t.Unsqueeze(A + "/Unsqueeze_o0", b, 0), t.Unsqueeze(A + "/Unsqueeze_o1", c, 0), t.Unsqueeze(A + "/Unsqueeze_o2", wd, 0), t.Unsqueeze(A + "/Unsqueeze_o3", hd, 0)], ProtoBuilders.Int("axis", 0));
        o = t.Node(A + "/Reshape_3", "Reshape", [o, back]);
        o = t.Node(A + "/Mul_1", "Mul", [t.Init("attn.gamma", [0.7f], 1), o]);
        return t.Bytes(t.Node(A + "/Add", "Add", [o, x]));
    }

    /// <summary>The attention block of latent diffusion's / VQGAN's UNet (AttnBlock), exported at a fixed 12x16 (declared): q, k, v and
    /// proj_out 1x1 convs; q.reshape(b, c, h*w).permute(0, 2, 1), k.reshape(b, c, h*w), w_ = bmm(q, k) * c^-0.5,
    /// softmax(dim=2), v.reshape, w_.permute(0, 2, 1), h_ = bmm(v, w_).reshape(b, c, h, w), x + proj_out(h_).</summary>
    internal static byte[] LdmAttention(long opset)
    {
        var t = new TorchGraph(43, opset);
        t.FixInput(12, 16);
        string x = t.Relu("/conv_in/act", t.Conv("/conv_in/Conv", "x", 3, 8, 3));
        const string A = "/attn_1";
        string q = t.Conv(A + "/q/Conv", x, 8, 8, 1), k = t.Conv(A + "/k/Conv", x, 8, 8, 1), v = t.Conv(A + "/v/Conv", x, 8, 8, 1);
        string flat = t.ConstI(A + "/Constant", [1, 8, 192]);
        string tq = t.Node(A + "/Transpose", "Transpose", [t.Node(A + "/Reshape", "Reshape", [q, flat])], ProtoBuilders.Ints("perm", 0, 2, 1));
        string w = t.Node(A + "/MatMul", "MatMul", [tq, t.Node(A + "/Reshape_1", "Reshape", [k, t.ConstI(A + "/Constant_1", [1, 8, 192])])]);
        w = t.Node(A + "/Mul", "Mul", [w, t.ConstF(A + "/Constant_2", 1 / MathF.Sqrt(8))]);
        w = t.Node(A + "/Softmax", "Softmax", [w], ProtoBuilders.Int("axis", 2));
        string tv = t.Node(A + "/Reshape_2", "Reshape", [v, t.ConstI(A + "/Constant_3", [1, 8, 192])]);
        w = t.Node(A + "/Transpose_1", "Transpose", [w], ProtoBuilders.Ints("perm", 0, 2, 1));
        string h = t.Node(A + "/Reshape_3", "Reshape", [t.Node(A + "/MatMul_1", "MatMul", [tv, w]), t.ConstI(A + "/Constant_4", [1, 8, 12, 16])]);
        return t.Bytes(t.Node(A + "/Add", "Add", [x, t.Conv(A + "/proj_out/Conv", h, 8, 8, 1)]));
    }

    /// <summary>A non-local block (Wang et al. 2018, embedded Gaussian) with the keys and values subsampled by a 2x2 max pool
    /// (so they have a quarter of the positions), the scale split as sqrt on each side (as scaled_dot_product_attention exports
    /// it: Mul of q's and k's tokens), the weights first: f = softmax(theta^T phi), y = f g^T (positions, channels),
    /// transposed back and reshaped to the input's size (Shape arithmetic), W_z 1x1 conv, + x.</summary>
    internal static byte[] NonLocal(long opset)
    {
        var t = new TorchGraph(47, opset);
        string x = t.Relu("/conv/conv.1", t.Conv("/conv/conv.0/Conv", "x", 3, 8, 3));
        const string A = "/nl";
        string theta = t.Conv(A + "/theta/Conv", x, 8, 4, 1);
        string phi = t.MaxPool(A + "/phi_pool/MaxPool", t.Conv(A + "/phi/Conv", x, 8, 4, 1), 2, 2, 0);
        string g = t.MaxPool(A + "/g_pool/MaxPool", t.Conv(A + "/g/Conv", x, 8, 4, 1), 2, 2, 0);
        string root = t.ConstF(A + "/Constant_s", MathF.Pow(4, -0.25f));
        string tq = t.Node(A + "/Transpose", "Transpose", [t.Node(A + "/Reshape", "Reshape", [theta, t.ConstI(A + "/Constant", [1, 4, -1])])], ProtoBuilders.Ints("perm", 0, 2, 1));
        tq = t.Node(A + "/Mul", "Mul", [tq, root]);
        string tk = t.Node(A + "/Mul_1", "Mul", [root, t.Node(A + "/Reshape_1", "Reshape", [phi, t.ConstI(A + "/Constant_1", [1, 4, -1])])]);
        string f = t.Node(A + "/Softmax", "Softmax", [t.Node(A + "/MatMul", "MatMul", [tq, tk])], ProtoBuilders.Int("axis", opset >= 13 ? -1 : 2));
        string tg = t.Node(A + "/Transpose_1", "Transpose", [t.Node(A + "/Reshape_2", "Reshape", [g, t.ConstI(A + "/Constant_2", [0, 4, -1])])], ProtoBuilders.Ints("perm", 0, 2, 1));
        string y = t.Node(A + "/Transpose_2", "Transpose", [t.Node(A + "/MatMul_1", "MatMul", [f, tg])], ProtoBuilders.Ints("perm", 0, 2, 1));
        string Dim(string n, long i) => t.Unsqueeze($"{A}/Unsqueeze_{n}", t.Dim(A, x, i, n), 0);
        string size = t.Node(A + "/Concat", "Concat", [t.ConstI(A + "/Constant_bc", [1, 4]), Dim("h", 2), Dim("w", 3)], ProtoBuilders.Int("axis", 0));
        y = t.Node(A + "/Reshape_3", "Reshape", [y, size]);
        return t.Bytes(t.Node(A + "/Add", "Add", [t.Conv(A + "/W_z/Conv", y, 4, 8, 1), x]));
    }

    /// <summary>Attention with the logits written keys first: bmm(k^T, q) is (key positions, query positions), softmax(dim=1)
    /// over the keys, out = bmm(v, weights) (channels, query positions); q, k, v 1x1 convs of one map, reshaped with -1.</summary>
    internal static byte[] KeysFirstAttention(long opset)
    {
        var t = new TorchGraph(53, opset);
        t.FixInput(23, 19);
        string x = t.Relu("/conv/act", t.Conv("/conv/Conv", "x", 3, 6, 3));
        const string A = "/att";
        string q = t.Conv(A + "/q/Conv", x, 6, 3, 1), k = t.Conv(A + "/k/Conv", x, 6, 3, 1), v = t.Conv(A + "/v/Conv", x, 6, 5, 1);
        string kt = t.Node(A + "/Transpose", "Transpose", [t.Node(A + "/Reshape", "Reshape", [k, t.ConstI(A + "/Constant", [1, 3, -1])])], ProtoBuilders.Ints("perm", 0, 2, 1));
        string logits = t.Node(A + "/MatMul", "MatMul", [kt, t.Node(A + "/Reshape_1", "Reshape", [q, t.ConstI(A + "/Constant_1", [1, 3, -1])])]);
        logits = t.Node(A + "/Div", "Div", [logits, t.ConstF(A + "/Constant_2", 2f)]);
        string w = t.Node(A + "/Softmax", "Softmax", [logits], ProtoBuilders.Int("axis", 1));
        string o = t.Node(A + "/MatMul_1", "MatMul", [t.Node(A + "/Reshape_2", "Reshape", [v, t.ConstI(A + "/Constant_3", [1, 5, -1])]), w]);
        return t.Bytes(t.Node(A + "/Reshape_3", "Reshape", [o, t.ConstI(A + "/Constant_4", [1, 5, 23, 19])]));
    }

    /// <summary>GroupNorm as torch.onnx.export writes nn.GroupNorm (its opset-9 symbolic, up to opset 17): Reshape to [0,
    /// groups, -1], InstanceNormalization with stored ones and zeros, Reshape back to Shape(x) (or, in a fixed-size export
    /// whose shapes were folded, to the stored [1, C, H, W]), Mul by the weight and Add the bias as (C, 1, 1).</summary>
    internal static string GroupNorm(TorchGraph t, string stem, string x, int c, int groups, int[]? fixedSize = null)
    {
        string r = t.Node(stem + "/Reshape", "Reshape", [x, t.ConstI(stem + "/Constant", [0, groups, -1])]);
        string n = t.Node(stem + "/InstanceNormalization", "InstanceNormalization",
            [r, t.Init(stem.TrimStart('/').Replace('/', '.') + ".ones", Enumerable.Repeat(1f, groups).ToArray(), groups),
             t.Init(stem.TrimStart('/').Replace('/', '.') + ".zeros", new float[groups], groups)],
            new AttributeProto { Name = "epsilon", Type = 1, F = 1e-6f });
        string back = fixedSize is null ? t.Node(stem + "/Shape", "Shape", [x]) : t.ConstI(stem + "/Constant_1", [1, c, fixedSize[0], fixedSize[1]]);
        string y = t.Node(stem + "/Reshape_1", "Reshape", [n, back]);
        string name = stem.TrimStart('/').Replace('/', '.');
        y = t.Node(stem + "/Mul", "Mul", [y, t.Rand(name + ".weight", 0.5f, c, 1, 1)]);
        return t.Node(stem + "/Add", "Add", [y, t.Rand(name + ".bias", 0.3f, c, 1, 1)]);
    }

    /// <summary>The middle block of a diffusion UNet / VAE (latent diffusion's mid: ResnetBlock, AttnBlock): conv_in to 16
    /// channels; block_1: GroupNorm(4, 16), SiLU, 3x3 conv, GroupNorm, SiLU, 3x3 conv, + x; attn_1: GroupNorm, q, k, v 1x1
    /// convs, attention over the positions (scale C^-0.5), proj_out, + h. Dynamic sizes (Shape arithmetic), or a fixed 12x16
    /// with every shape stored.</summary>
    internal static byte[] LdmMidBlock(long opset, bool fixedSize)
    {
        var t = new TorchGraph(73, opset);
        int[]? size = fixedSize ? [12, 16] : null;
        if (fixedSize) t.FixInput(12, 16);
        string x = t.Conv("/conv_in/Conv", "x", 3, 16, 3);
        const string B = "/mid/block_1";
        string h = t.Silu(B + "/nonlinearity", GroupNorm(t, B + "/norm1", x, 16, 4, size));
        h = t.Conv(B + "/conv1/Conv", h, 16, 16, 3);
        h = t.Silu(B + "/nonlinearity_1", GroupNorm(t, B + "/norm2", h, 16, 4, size));
        h = t.Node(B + "/Add", "Add", [x, t.Conv(B + "/conv2/Conv", h, 16, 16, 3)]);
        const string A = "/mid/attn_1";
        string n = GroupNorm(t, A + "/norm", h, 16, 4, size);
        string q = t.Conv(A + "/q/Conv", n, 16, 16, 1), k = t.Conv(A + "/k/Conv", n, 16, 16, 1), v = t.Conv(A + "/v/Conv", n, 16, 16, 1);
        string Flat(string name, string m)
        {
            if (fixedSize) return t.Node($"{A}/Reshape_{name}", "Reshape", [m, t.ConstI($"{A}/Constant_{name}", [1, 16, 192])]);
            string Dim(string d, long i) => t.Unsqueeze($"{A}/Unsqueeze_{name}{d}", t.Dim(A, m, i, name + d), 0);
            string hw = t.Node($"{A}/Mul_{name}", "Mul", [t.Dim(A, m, 2, name + "h"), t.Dim(A, m, 3, name + "w")]);
            string target = t.Node($"{A}/Concat_{name}", "Concat", [Dim("b", 0), Dim("c", 1), t.Unsqueeze($"{A}/Unsqueeze_{name}hw", hw, 0)], ProtoBuilders.Int("axis", 0));
            return t.Node($"{A}/Reshape_{name}", "Reshape", [m, target]);
        }
        string tq = t.Node(A + "/Transpose", "Transpose", [Flat("q", q)], ProtoBuilders.Ints("perm", 0, 2, 1));
        string w = t.Node(A + "/MatMul", "MatMul", [tq, Flat("k", k)]);
        w = t.Node(A + "/Mul", "Mul", [w, t.ConstF(A + "/Constant_s", 0.25f)]);
        w = t.Node(A + "/Softmax", "Softmax", [w], ProtoBuilders.Int("axis", 2));
        w = t.Node(A + "/Transpose_1", "Transpose", [w], ProtoBuilders.Ints("perm", 0, 2, 1));
        string o = t.Node(A + "/MatMul_1", "MatMul", [Flat("v", v), w]);
        string back = fixedSize ? t.ConstI(A + "/Constant_o", [1, 16, 12, 16]) : t.Node(A + "/Shape_o", "Shape", [h]);
        o = t.Node(A + "/Reshape_o", "Reshape", [o, back]);
        return t.Bytes(t.Node(A + "/Add", "Add", [h, t.Conv(A + "/proj_out/Conv", o, 16, 16, 1)]));
    }

    /// <summary>A Linear on tokens as PyTorch exports it: MatMul by the stored (in, out) weight, Add the bias.</summary>
    internal static string Linear(TorchGraph t, string name, string x, int cin, int cout, bool bias = true)
    {
        string stem = name.TrimStart('/').Replace('/', '.');
        string y = t.Node(name + "/MatMul", "MatMul", [x, t.Rand(stem + ".weight", 1.2f / MathF.Sqrt(cin), cin, cout)]);
        return bias ? t.Node(name + "/Add", "Add", [y, t.Rand(stem + ".bias", 0.3f, cout)]) : y;
    }

    /// <summary>diffusers' Attention (AttnProcessor2_0) on a 16-channel map, as a VAE's mid-block has it, dynamic sizes:
    /// x.view(b, c, h*w).transpose(1, 2); group_norm(x.transpose(1, 2)).transpose(1, 2) (GroupNorm(4) on the (b, c, h*w) value:
    /// its weight and bias as (C, 1)); to_q / to_k / to_v Linears; each .view(b, -1, heads, C / heads).transpose(1, 2);
    /// scaled_dot_product_attention as torch exports it (q and k^T each times sqrt(scale), MatMul, Softmax(-1), MatMul);
    /// .transpose(1, 2).reshape(b, -1, C); to_out Linear; .transpose(-1, -2).reshape(b, c, h, w); + x; / 1.
    /// <paramref name="torchScale"/>: the scale as torch's exporter computes it when none is given, from the query's shape
    /// (Shape, Slice [-1:], Cast, Sqrt, Div 1 by it, Cast, Sqrt), not a stored number.</summary>
    internal static byte[] DiffusersAttention(long opset, int heads, bool torchScale = false)
    {
        var t = new TorchGraph(79 + heads, opset);
        string x = t.Conv("/conv_in/Conv", "x", 3, 16, 3);
        const string A = "/mid_block/attentions.0";
        string Dim(string n, long i) => t.Unsqueeze($"{A}/Unsqueeze_{n}", t.Dim(A, x, i, n), 0);
        string hw = t.Unsqueeze(A + "/Unsqueeze_hw", t.Node(A + "/Mul_hw", "Mul", [t.Dim(A, x, 2, "h0"), t.Dim(A, x, 3, "w0")]), 0);
        string flat = t.Node(A + "/Reshape", "Reshape", [x, t.Node(A + "/Concat", "Concat", [Dim("b", 0), Dim("c", 1), hw], ProtoBuilders.Int("axis", 0))]);
        string tokens = t.Node(A + "/Transpose", "Transpose", [flat], ProtoBuilders.Ints("perm", 0, 2, 1));
        // group_norm(hidden_states.transpose(1, 2)): GroupNorm on (b, c, h*w), its weight and bias unsqueezed to (C, 1).
        string g = t.Node(A + "/Transpose_1", "Transpose", [tokens], ProtoBuilders.Ints("perm", 0, 2, 1));
        string gr = t.Node(A + "/group_norm/Reshape", "Reshape", [g, t.ConstI(A + "/group_norm/Constant", [0, 4, -1])]);
        string gi = t.Node(A + "/group_norm/InstanceNormalization", "InstanceNormalization",
            [gr, t.Init("gn.ones", [1f, 1f, 1f, 1f], 4), t.Init("gn.zeros", [0f, 0f, 0f, 0f], 4)], new AttributeProto { Name = "epsilon", Type = 1, F = 1e-6f });
        string gb = t.Node(A + "/group_norm/Reshape_1", "Reshape", [gi, t.Node(A + "/group_norm/Shape", "Shape", [g])]);
        gb = t.Node(A + "/group_norm/Add", "Add", [t.Node(A + "/group_norm/Mul", "Mul", [gb, t.Rand("group_norm.weight", 0.5f, 16, 1)]), t.Rand("group_norm.bias", 0.3f, 16, 1)]);
        string n = t.Node(A + "/Transpose_2", "Transpose", [gb], ProtoBuilders.Ints("perm", 0, 2, 1));
        string q = Linear(t, A + "/to_q", n, 16, 16), k = Linear(t, A + "/to_k", n, 16, 16), v = Linear(t, A + "/to_v", n, 16, 16);
        string Split(string name, string m) => t.Node($"{A}/Transpose_{name}", "Transpose",
            [t.Node($"{A}/Reshape_{name}", "Reshape", [m, t.Node($"{A}/Concat_{name}", "Concat", [Dim(name + "b", 0), t.ConstI($"{A}/Constant_{name}", [-1, heads, 16 / heads])], ProtoBuilders.Int("axis", 0))])],
            ProtoBuilders.Ints("perm", 0, 2, 1, 3));
        string q4 = Split("q", q);
        string root = t.ConstF(A + "/Constant_sqrt", MathF.Sqrt(1 / MathF.Sqrt(16f / heads)));
        if (torchScale)
        {
            AttributeProto ToFloat() => ProtoBuilders.Int("to", 1);
            string last = t.Node(A + "/Slice_e", "Slice", [t.Node(A + "/Shape_e", "Shape", [q4]), t.ConstI(A + "/Constant_st", [-1]), t.ConstI(A + "/Constant_en", [long.MaxValue])]);
            string e = t.Node(A + "/Cast_e", "Cast", [last], ToFloat());
            string scale = t.Node(A + "/Cast_s", "Cast", [t.Node(A + "/Div_s", "Div", [t.ConstF(A + "/Constant_one", 1f), t.Node(A + "/Sqrt_e", "Sqrt", [e])])], ToFloat());
            root = t.Node(A + "/Sqrt_s", "Sqrt", [scale]);
        }
        string qs = t.Node(A + "/Mul_q", "Mul", [q4, root]);
        string ks = t.Node(A + "/Mul_k", "Mul", [t.Node(A + "/Transpose_k2", "Transpose", [Split("k", k)], ProtoBuilders.Ints("perm", 0, 1, 3, 2)), root]);
        string w = t.Node(A + "/Softmax", "Softmax", [t.Node(A + "/MatMul", "MatMul", [qs, ks])], ProtoBuilders.Int("axis", -1));
        string o = t.Node(A + "/MatMul_1", "MatMul", [w, Split("v", v)]);
        o = t.Node(A + "/Transpose_o", "Transpose", [o], ProtoBuilders.Ints("perm", 0, 2, 1, 3));
        o = t.Node(A + "/Reshape_o", "Reshape", [o, t.Node(A + "/Concat_o", "Concat", [Dim("ob", 0), t.ConstI(A + "/Constant_o", [-1, 16])], ProtoBuilders.Int("axis", 0))]);
        o = Linear(t, A + "/to_out.0", o, 16, 16);
        o = t.Node(A + "/Transpose_back", "Transpose", [o], ProtoBuilders.Ints("perm", 0, 2, 1));
        o = t.Node(A + "/Reshape_back", "Reshape", [o, t.Node(A + "/Concat_back", "Concat", [Dim("bb", 0), Dim("bc", 1), Dim("bh", 2), Dim("bw", 3)], ProtoBuilders.Int("axis", 0))]);
        o = t.Node(A + "/Add", "Add", [o, x]);
        return t.Bytes(t.Node(A + "/Div", "Div", [o, t.ConstF(A + "/Constant_div", 1f)]));
    }

    /// <summary>A transformer block over a map's tokens as Stable Diffusion's Transformer2DModel holds it (self-attention and
    /// the feed-forward; no cross-attention), dynamic sizes, opset 17: x.permute(0, 2, 3, 1).reshape(b, h*w, c); LayerNorm; to_q /
    /// to_k / to_v without bias; 2 heads ([1, -1, 2, 8] then Transpose [0, 2, 1, 3]); logits matmul(q, k^T) * 8^-0.5;
    /// Softmax(-1); back to (1, -1, 16); to_out; + tokens; LayerNorm; Linear 16 -> 32, GELU (erf), Linear 32 -> 16; +;
    /// reshape(b, h, w, c).permute(0, 3, 1, 2); + x.</summary>
    internal static byte[] TransformerBlock(long opset)
    {
        var t = new TorchGraph(83, opset);
        string x = t.Conv("/conv_in/Conv", "x", 3, 16, 3);
        const string B = "/transformer_blocks.0";
        string tokens = t.Node("/Reshape", "Reshape", [t.Node("/Transpose", "Transpose", [x], ProtoBuilders.Ints("perm", 0, 2, 3, 1)), t.ConstI("/Constant", [1, -1, 16])]);
        string Norm(string name, string v) => t.Node(name + "/LayerNormalization", "LayerNormalization",
            [v, t.Rand(name.TrimStart('/').Replace('/', '.') + ".weight", 1.5f, 16), t.Rand(name.TrimStart('/').Replace('/', '.') + ".bias", 0.3f, 16)], ProtoBuilders.Int("axis", -1));
        string n = Norm(B + "/norm1", tokens);
        string Split(string name, string m) => t.Node($"{B}/attn1/Transpose_{name}", "Transpose",
            [t.Node($"{B}/attn1/Reshape_{name}", "Reshape", [m, t.ConstI($"{B}/attn1/Constant_{name}", [1, -1, 2, 8])])], ProtoBuilders.Ints("perm", 0, 2, 1, 3));
        string q = Split("q", Linear(t, B + "/attn1/to_q", n, 16, 16, bias: false));
        string k = Split("k", Linear(t, B + "/attn1/to_k", n, 16, 16, bias: false));
        string v = Split("v", Linear(t, B + "/attn1/to_v", n, 16, 16, bias: false));
        string logits = t.Node(B + "/attn1/MatMul", "MatMul", [q, t.Node(B + "/attn1/Transpose_kt", "Transpose", [k], ProtoBuilders.Ints("perm", 0, 1, 3, 2))]);
        logits = t.Node(B + "/attn1/Mul", "Mul", [logits, t.ConstF(B + "/attn1/Constant_s", 1 / MathF.Sqrt(8))]);
        string o = t.Node(B + "/attn1/MatMul_1", "MatMul", [t.Node(B + "/attn1/Softmax", "Softmax", [logits], ProtoBuilders.Int("axis", -1)), v]);
        o = t.Node(B + "/attn1/Reshape_o", "Reshape", [t.Node(B + "/attn1/Transpose_o", "Transpose", [o], ProtoBuilders.Ints("perm", 0, 2, 1, 3)), t.ConstI(B + "/attn1/Constant_o", [1, -1, 16])]);
        string h = t.Node(B + "/Add", "Add", [Linear(t, B + "/attn1/to_out.0", o, 16, 16), tokens]);
        string f = Linear(t, B + "/ff/net.0/proj", Norm(B + "/norm3", h), 16, 32);
        string erf = t.Node(B + "/ff/net.0/Erf", "Erf", [t.Node(B + "/ff/net.0/Div", "Div", [f, t.ConstF(B + "/ff/net.0/Constant", MathF.Sqrt(2))])]);
        f = t.Node(B + "/ff/net.0/Mul_1", "Mul", [t.Node(B + "/ff/net.0/Mul", "Mul", [f, t.Node(B + "/ff/net.0/Add", "Add", [erf, t.ConstF(B + "/ff/net.0/Constant_1", 1f)])]), t.ConstF(B + "/ff/net.0/Constant_2", 0.5f)]);
        h = t.Node(B + "/Add_1", "Add", [Linear(t, B + "/ff/net.2", f, 32, 16), h]);
        string Dim(string name, long i) => t.Unsqueeze($"/Unsqueeze_{name}", t.Dim("", x, i, name), 0);
        string back = t.Node("/Concat_back", "Concat", [Dim("b", 0), Dim("h", 2), Dim("w", 3), t.ConstI("/Constant_c", [16])], ProtoBuilders.Int("axis", 0));
        string m = t.Node("/Transpose_back", "Transpose", [t.Node("/Reshape_back", "Reshape", [h, back])], ProtoBuilders.Ints("perm", 0, 3, 1, 2));
        return t.Bytes(t.Node("/Add", "Add", [m, x]));
    }

    /// <summary>BoTNet's MHSA (Srinivas et al. 2021; without its relative position logits), exported with dynamic sizes: q, k, v
    /// 1x1 convs of a 16-channel map, each q.view(n, 4, C // 4, -1) (4 heads of 4 channels: Shape arithmetic and stored
    /// pieces), content = matmul(q.permute(0, 1, 3, 2), k), softmax(dim=-1), out = matmul(v, attention.permute(0, 1, 3, 2)),
    /// out.view(n, C, w, h), + x.</summary>
    internal static byte[] BotNetMhsa(long opset)
    {
        var t = new TorchGraph(59, opset);
        string x = t.Relu("/conv/act", t.Conv("/conv/Conv", "x", 3, 16, 3));
        const string A = "/mhsa";
        string q = t.Conv(A + "/query/Conv", x, 16, 16, 1), k = t.Conv(A + "/key/Conv", x, 16, 16, 1), v = t.Conv(A + "/value/Conv", x, 16, 16, 1);
        string Dim(string n, long i) => t.Unsqueeze($"{A}/Unsqueeze_{n}", t.Dim(A, x, i, n), 0);
        string Heads(string n) => t.Node($"{A}/Concat_{n}", "Concat", [Dim(n + "b", 0), t.ConstI($"{A}/Constant_{n}", [4, 4, -1])], ProtoBuilders.Int("axis", 0));
        string R(string n, string m) => t.Node($"{A}/Reshape_{n}", "Reshape", [m, Heads(n)]);
        string Swap(string n, string m) => t.Node($"{A}/Transpose_{n}", "Transpose", [m], ProtoBuilders.Ints("perm", 0, 1, 3, 2));
        string content = t.Node(A + "/MatMul", "MatMul", [Swap("q", R("q", q)), R("k", k)]);
        string attention = t.Node(A + "/softmax/Softmax", "Softmax", [content], ProtoBuilders.Int("axis", opset >= 13 ? -1 : 3));
        string o = t.Node(A + "/MatMul_1", "MatMul", [R("v", v), Swap("a", attention)]);
        string back = t.Node(A + "/Concat_o", "Concat", [Dim("ob", 0), Dim("oc", 1), Dim("ow", 2), Dim("oh", 3)], ProtoBuilders.Int("axis", 0));
        return t.Bytes(t.Node(A + "/Add", "Add", [t.Node(A + "/Reshape_o", "Reshape", [o, back]), x]));
    }

    /// <summary>Multi-head attention with the values last, at a fixed 12x16 (declared): q and k 1x1 convs to 8 channels, v to 6,
    /// reshaped to (1, 2, C / 2, 192) (2 heads), the logits matmul(q^T, k) * 0.5, softmax(-1), matmul(weights, v^T) (1, 2,
    /// 192, 3), transposed back (0, 1, 3, 2) and reshaped to (1, 6, 12, 16), then a 1x1 conv.</summary>
    internal static byte[] MhsaValuesLast(long opset)
    {
        var t = new TorchGraph(61, opset);
        t.FixInput(12, 16);
        string x = t.Relu("/conv/act", t.Conv("/conv/Conv", "x", 3, 8, 3));
        const string A = "/attn";
        string q = t.Conv(A + "/to_q/Conv", x, 8, 8, 1), k = t.Conv(A + "/to_k/Conv", x, 8, 8, 1), v = t.Conv(A + "/to_v/Conv", x, 8, 6, 1);
        string R(string n, string m, long c) => t.Node($"{A}/Reshape_{n}", "Reshape", [m, t.ConstI($"{A}/Constant_{n}", [1, 2, c / 2, 192])]);
        string Swap(string n, string m) => t.Node($"{A}/Transpose_{n}", "Transpose", [m], ProtoBuilders.Ints("perm", 0, 1, 3, 2));
        string logits = t.Node(A + "/Mul", "Mul", [t.Node(A + "/MatMul", "MatMul", [Swap("q", R("q", q, 8)), R("k", k, 8)]), t.ConstF(A + "/Constant_s", 0.5f)]);
        string w = t.Node(A + "/Softmax", "Softmax", [logits], ProtoBuilders.Int("axis", -1));
        string o = Swap("o", t.Node(A + "/MatMul_1", "MatMul", [w, Swap("v", R("v", v, 6))]));
        o = t.Node(A + "/Reshape_o", "Reshape", [o, t.ConstI(A + "/Constant_o", [1, 6, 12, 16])]);
        return t.Bytes(t.Conv(A + "/to_out/Conv", o, 6, 8, 1));
    }

    /// <summary>Two heads as the batch of a bmm (x.reshape(b * heads, C / heads, h * w), as attention code written with bmm
    /// does), dynamic sizes: q, k to 4 channels, v to 6; (2, 2, HW) and (2, 3, HW) tokens, q^T k / 2 (a Div), softmax(-1),
    /// bmm(v, w^T), reshaped back to (1, 6, h, w) from Shape arithmetic.</summary>
    internal static byte[] HeadsAsBatch(long opset)
    {
        var t = new TorchGraph(67, opset);
        string x = t.Relu("/conv/act", t.Conv("/conv/Conv", "x", 3, 8, 3));
        const string A = "/attn";
        string q = t.Conv(A + "/q/Conv", x, 8, 4, 1), k = t.Conv(A + "/k/Conv", x, 8, 4, 1), v = t.Conv(A + "/v/Conv", x, 8, 6, 1);
        string R(string n, string m, long c) => t.Node($"{A}/Reshape_{n}", "Reshape", [m, t.ConstI($"{A}/Constant_{n}", [2, c / 2, -1])]);
        string logits = t.Node(A + "/MatMul", "MatMul", [t.Node(A + "/Transpose", "Transpose", [R("q", q, 4)], ProtoBuilders.Ints("perm", 0, 2, 1)), R("k", k, 4)]);
        string w = t.Node(A + "/Softmax", "Softmax", [t.Node(A + "/Div", "Div", [logits, t.ConstF(A + "/Constant_s", 2f)])], ProtoBuilders.Int("axis", -1));
        string o = t.Node(A + "/MatMul_1", "MatMul", [R("v", v, 6), t.Node(A + "/Transpose_1", "Transpose", [w], ProtoBuilders.Ints("perm", 0, 2, 1))]);
        string Dim(string n, long i) => t.Unsqueeze($"{A}/Unsqueeze_{n}", t.Dim(A, x, i, n), 0);
        string back = t.Node(A + "/Concat_o", "Concat", [t.ConstI(A + "/Constant_bc", [1, 6]), Dim("h", 2), Dim("w", 3)], ProtoBuilders.Int("axis", 0));
        return t.Bytes(t.Node(A + "/Reshape_o", "Reshape", [o, back]));
    }

    /// <summary>torchvision RegNetY: stem conv s2 + relu, a ResBottleneckBlock (1x1, group conv 3x3 s2 with groups C/8, SE
    /// with ReLU / Sigmoid, 1x1), projection shortcut 1x1 s2, Add, ReLU, head.</summary>
    internal static byte[] RegNet(long opset)
    {
        var t = new TorchGraph(19, opset);
        string s = t.Relu("/stem/stem.2", t.Conv("/stem/stem.0/Conv", "x", 3, 8, 3, 2));
        string B = "/trunk_output/block1/block1-0";
        string a = t.Relu(B + "/f/a/a.2", t.Conv(B + "/f/a/a.0/Conv", s, 8, 16, 1));
        string b = t.Relu(B + "/f/b/b.2", t.Conv(B + "/f/b/b.0/Conv", a, 16, 16, 3, 2, group: 2));
        string q = t.Gap(B + "/f/se/avgpool/GlobalAveragePool", b);
        string g = t.Node(B + "/f/se/scale_activation/Sigmoid", "Sigmoid", [t.Conv(B + "/f/se/fc2/Conv", t.Relu(B + "/f/se/activation", t.Conv(B + "/f/se/fc1/Conv", q, 16, 2, 1)), 2, 16, 1)]);
        string se = t.Node(B + "/f/se/Mul", "Mul", [g, b]);
        string c = t.Conv(B + "/f/c/c.0/Conv", se, 16, 16, 1);
        string proj = t.Conv(B + "/proj/proj.0/Conv", s, 8, 16, 1, 2, bias: true);
        string y = t.Relu(B + "/activation", t.Node(B + "/Add", "Add", [proj, c]));
        return t.Bytes(t.Gemm("/fc/Gemm", t.Flatten("/Flatten", t.Gap("/avgpool/GlobalAveragePool", y)), 16, 5));
    }

    /// <summary>torchvision SqueezeNet 1.1: conv 3x3 s2 + relu, MaxPool 3 s2 ceil, Fire (squeeze 1x1, expand 1x1 and 3x3,
    /// Concat), classifier (dropout removed, final conv 1x1, relu, adaptive avgpool, flatten).</summary>
    internal static byte[] SqueezeNet(long opset)
    {
        var t = new TorchGraph(20, opset);
        string p = t.MaxPool("/features/features.2/MaxPool", t.Relu("/features/features.1", t.Conv("/features/features.0/Conv", "x", 3, 8, 3, 2, pad: 0)), 3, 2, 0, ceil: true);
        string F = "/features/features.3";
        string sq = t.Relu(F + "/squeeze_activation", t.Conv(F + "/squeeze/Conv", p, 8, 4, 1));
        string e1 = t.Relu(F + "/expand1x1_activation", t.Conv(F + "/expand1x1/Conv", sq, 4, 6, 1));
        string e3 = t.Relu(F + "/expand3x3_activation", t.Conv(F + "/expand3x3/Conv", sq, 4, 6, 3));
        string cat = t.Concat(F + "/Concat", e1, e3);
        string cl = t.Relu("/classifier/classifier.2", t.Conv("/classifier/classifier.1/Conv", cat, 12, 5, 1));
        return t.Bytes(t.Flatten("/Flatten", t.Gap("/classifier/classifier.3/GlobalAveragePool", cl)));
    }

    /// <summary>ResNet50 with ImageNet normalisation in the model: Sub mean, Div std ((1, 3, 1, 1) constants, or (3, 1, 1)
    /// buffers with <paramref name="buffer3"/>), stem conv 7x7 s2 + relu, MaxPool 3 s2 p1, a bottleneck with a downsample,
    /// Add, ReLU. head: "flatten" GAP + Flatten + Gemm; "mean" x.mean((2, 3)) + Gemm; "view" GAP + x.view(x.size(0), -1)
    /// (Shape, Gather, Unsqueeze, Concat, Reshape) + Gemm; "dropout" GAP + Flatten + Dropout (training_mode export, opset
    /// 12+: ratio and training_mode inputs, mask output) + Gemm.</summary>
    internal static byte[] ResNet50(long opset, string head, bool buffer3 = false)
    {
        var t = new TorchGraph(21, opset);
        long[] kd = buffer3 ? [3, 1, 1] : [1, 3, 1, 1];
        string xn = t.Node("/Div", "Div", [t.Node("/Sub", "Sub", ["x", t.Init("mean", [0.485f, 0.456f, 0.406f], kd)]), t.Init("std", [0.229f, 0.224f, 0.225f], kd)]);
        string s = t.MaxPool("/maxpool/MaxPool", t.Relu("/relu", t.Conv("/conv1/Conv", xn, 3, 8, 7, 2)), 3, 2, 1);
        string B = "/layer1/layer1.0";
        string a = t.Relu(B + "/relu", t.Conv(B + "/conv1/Conv", s, 8, 4, 1));
        string b = t.Relu(B + "/relu_1", t.Conv(B + "/conv2/Conv", a, 4, 4, 3));
        string c = t.Conv(B + "/conv3/Conv", b, 4, 16, 1);
        string ds = t.Conv(B + "/downsample/downsample.0/Conv", s, 8, 16, 1);
        string y = t.Relu(B + "/relu_2", t.Node(B + "/Add", "Add", [c, ds]));
        string z;
        switch (head)
        {
            case "mean": z = t.ReduceMean("/ReduceMean", y, 0, 2, 3); break;
            case "view":
            {
                string gp = t.Gap("/avgpool/GlobalAveragePool", y);
                string n = t.Node("/Gather", "Gather", [t.Node("/Shape", "Shape", [gp]), t.ConstI("/Constant", [0], scalar: true)], ProtoBuilders.Int("axis", 0));
                string shape = t.Node("/Concat", "Concat", [t.Unsqueeze("/Unsqueeze", n, 0), t.ConstI("/Constant_1", [-1])], ProtoBuilders.Int("axis", 0));
                z = t.Node("/Reshape", "Reshape", [gp, shape]);
                break;
            }
            case "dropout":
            {
                string f = t.Flatten("/Flatten", t.Gap("/avgpool/GlobalAveragePool", y));
                var bt = new TensorProto { DataType = 9 };
                bt.Int32Data.Add(0);
                string tm = t.Node("/dropout/Constant_1", "Constant", [], new AttributeProto { Name = "value", Type = 4, T = bt });
                z = t.NodeN("/dropout/Dropout", "Dropout", [f, t.ConstF("/dropout/Constant", 0.5f), tm], 2)[0];
                break;
            }
            case "dropout_attr":
                z = t.NodeN("/dropout/Dropout", "Dropout", [t.Flatten("/Flatten", t.Gap("/avgpool/GlobalAveragePool", y))], 2, new AttributeProto { Name = "ratio", Type = 1, F = 0.5f })[0];
                break;
            case "dropout_ratio":
                z = t.Node("/dropout/Dropout", "Dropout", [t.Flatten("/Flatten", t.Gap("/avgpool/GlobalAveragePool", y)), t.ConstF("/dropout/Constant", 0.5f)]);
                break;
            default: z = t.Flatten("/Flatten", t.Gap("/avgpool/GlobalAveragePool", y)); break;
        }
        return t.Bytes(t.Gemm("/fc/Gemm", z, 16, 5));
    }

    /// <summary>Extras: "vgg" AdaptiveAvgPool((7, 7)) on a map already 7x7 as AveragePool k1 s1 (a static export), Flatten,
    /// Gemm, Relu, Gemm; "deeplab" a static export's F.interpolate(size=input_shape) as Resize by stored sizes; "yoloup"
    /// nn.Upsample(scale_factor=2, nearest) as Resize (asymmetric, floor) + Concat with a skip.</summary>
    internal static byte[] Extra(long opset, string kind)
    {
        var t = new TorchGraph(22, opset);
        string c = t.Relu("/features/features.1", t.Conv("/features/features.0/Conv", "x", 3, 4, 3));
        switch (kind)
        {
            case "vgg":
            {
                string p = t.Node("/avgpool/AveragePool", "AveragePool", [c], ProtoBuilders.Int("ceil_mode", 0), ProtoBuilders.Ints("kernel_shape", 1, 1), ProtoBuilders.Ints("pads", 0, 0, 0, 0), ProtoBuilders.Ints("strides", 1, 1));
                string f = t.Relu("/classifier/classifier.1", t.Gemm("/classifier/classifier.0/Gemm", t.Flatten("/Flatten", p), 4 * 7 * 7, 6));
                return t.Bytes(t.Gemm("/classifier/classifier.3/Gemm", f, 6, 5));
            }
            case "deeplab":
            {
                string d = t.Conv("/classifier/classifier.4/Conv", t.MaxPool("/backbone/maxpool/MaxPool", c, 2, 2, 0), 4, 3, 1);
                string[] ins = opset >= 13 ? [d, "", "", t.ConstI("/Constant", [1, 3, 12, 16])]
                    : [d, t.Init("/Constant_roi", [], 0), t.Init("/Constant_scales", [], 0), t.ConstI("/Constant", [1, 3, 12, 16])];
                return t.Bytes(t.Node("/Resize", "Resize", ins, ProtoBuilders.Str("coordinate_transformation_mode", "pytorch_half_pixel"), ProtoBuilders.Str("mode", "linear")));
            }
            default:
            {
                string d = t.Silu("/model.1/act", t.Conv("/model.1/conv/Conv", c, 4, 4, 3, 2));
                string[] ins = opset >= 13 ? [d, "", t.Init("/model.2/Constant_scales", [1, 1, 2, 2], 4)] : [d, t.Init("/model.2/Constant_roi", [], 0), t.Init("/model.2/Constant_scales", [1, 1, 2, 2], 4)];
                string u = t.Node("/model.2/Resize", "Resize", ins, ProtoBuilders.Str("coordinate_transformation_mode", "asymmetric"), ProtoBuilders.Str("mode", "nearest"), ProtoBuilders.Str("nearest_mode", "floor"));
                return t.Bytes(t.Conv("/model.4/conv/Conv", t.Concat("/model.3/Concat", u, c), 8, 4, 1));
            }
        }
    }

    // ---------------- the probes ----------------

}
