using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using Google.Protobuf;
using static ConvGL.Core.Tests.Onnx.BranchyOpsTests;
using static ConvGL.Core.Tests.Onnx.ProtoBuilders;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>GELU (the activation, ONNX's Gelu op, and the five-node form exports before opset 20 write) and the per-channel
/// constants folded into the conv or linear layer before them at import: worked examples checked with SciPy, ONNX Runtime
/// as the oracle, and the cases that must not fold.</summary>
public class GeluFoldTests
{
    // scipy.special: 0.5 x erfc(-x / sqrt 2), and 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
    [Theory]
    [InlineData(1f, 0.8413447460685429, 0.8411919906082768)]
    [InlineData(-1f, -0.15865525393145707, -0.1588080093917233)]
    [InlineData(2f, 1.9544997361036416, 1.954597694087775)]
    [InlineData(0.5f, 0.3457312306370065, 0.34571400982514394)]
    [InlineData(-0.25f, -0.10032341857926907, -0.100324649298315)]
    [InlineData(-3f, -0.004049694094890288, -0.0036373920817729943)]
    [InlineData(-6f, -5.919525870226211e-09, -8.43964897967453e-11)]
    public void Gelu_WorkedExamples(float x, double erfForm, double tanhForm)
    {
        // Relative: -6 gives 6e-9, which 1 + erf in double would keep only a digit of.
        Assert.Equal(erfForm, Activation.Apply(ActivationKind.Gelu, x), Math.Abs(erfForm) * 1e-6);
        Assert.Equal(tanhForm, Activation.Apply(ActivationKind.GeluTanh, x), Math.Abs(tanhForm) * 1e-6);
    }

    [Fact]
    public void Gelu_Ends_AndErfc()
    {
        foreach (ActivationKind k in new[] { ActivationKind.Gelu, ActivationKind.GeluTanh })
        {
            Assert.Equal(float.PositiveInfinity, Activation.Apply(k, float.PositiveInfinity));
            Assert.True(float.IsNaN(Activation.Apply(k, float.NegativeInfinity)), "-inf * 0, as ONNX's formula");
            Assert.True(float.IsNaN(Activation.Apply(k, float.NaN)));
            Assert.Equal(0f, Activation.Apply(k, -100f));
            Assert.Equal(100f, Activation.Apply(k, 100f));
            Assert.Equal(0f, Activation.Apply(k, 0f));
        }
        Assert.Equal(7.430983723414129e-07, Unary.Erfc(3.5), 1e-19);
        Assert.Equal(0.6713732405408726, Unary.Erfc(0.3), 1e-15);
        Assert.Equal(2.0884875837625446e-45, Unary.Erfc(10), 1e-57);
        Assert.Equal(2.0, Unary.Erfc(double.NegativeInfinity));
        Assert.Equal(0.0, Unary.Erfc(double.PositiveInfinity));
        Assert.Equal("gelu", ActivationKind.Gelu.Name());
        Assert.True(Activation.TryParse("gelu_tanh", out ActivationKind t) && t == ActivationKind.GeluTanh);
    }

    private static byte[] GeluNode(string? approximate, long opset = 20)
    {
        ModelProto m = OneNode("Gelu", approximate is null ? [] : [Str("approximate", approximate)]);
        m.OpsetImport[0].Version = opset;
        return m.ToByteArray();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("none")]
    [InlineData("tanh")]
    public void GeluOp_MatchesOnnxRuntime(string? approximate)
    {
        byte[] bytes = GeluNode(approximate);
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "gelu.onnx"));
        var rng = new Random(4);
        Tensor x = new([1, 2, 4, 5], Enumerable.Range(0, 40).Select(_ => (float)(rng.NextDouble() * 12 - 7)).ToArray());
        float[] ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x })["y"].Data;
        AssertClose(RunOnnxRuntime(bytes, x, ["y"])["y"], ours, $"Gelu approximate={approximate ?? "(default)"}", 1e-6);
        Assert.Equal(approximate == "tanh" ? ActivationKind.GeluTanh : ActivationKind.Gelu, ((ActivationOp)graph.Ops[0]).Kind);
    }

    [Fact]
    public void GeluOp_UnknownApproximation_IsOneErrorNamingIt()
    {
        var e = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(GeluNode("fast"), "g.onnx")));
        Assert.Equal("g.onnx: node 'n0' (Gelu): attribute 'approximate' is 'fast'; Gelu's are 'none' (the erf form) and 'tanh'", e.Message);
    }

    /// <summary>x (1, 3, H, W) -> conv 1x1 (4) = c -> GELU written out as <paramref name="form"/> -> y, the nodes named
    /// "/block/act/...".</summary>
    private static byte[] WrittenOut(string form, bool erfAlsoOutput = false, float sqrt2 = 1.4142135f)
    {
        var rng = new Random(8);
        var g = new GraphProto { Name = "gelu" };
        AddImageInput(g, 3);
        g.Initializer.Add(FloatData("w", R(rng, 12), 4, 3, 1, 1));
        g.Initializer.Add(FloatData("b", R(rng, 4), 4));
        g.Initializer.Add(FloatData("sqrt2", [sqrt2]));
        g.Initializer.Add(FloatData("inv_sqrt2", [0.70710677f]));
        g.Initializer.Add(FloatData("one", [1f]));
        g.Initializer.Add(FloatData("half", [0.5f]));
        void N(string name, string op, string[] ins, string output) => Node(g, "/block/act/" + name, op, ins, output);
        Node(g, "/block/conv", "Conv", ["x", "w", "b"], "c");
        switch (form)
        {
            case "pytorch": // ((c * (1 + erf(c / sqrt 2))) * 0.5
                N("Div", "Div", ["c", "sqrt2"], "s"); N("Erf", "Erf", ["s"], "e"); N("Add", "Add", ["e", "one"], "a");
                N("Mul", "Mul", ["c", "a"], "m"); N("Mul_1", "Mul", ["m", "half"], "y");
                break;
            case "half-first": // (0.5 * c) * (1 + erf(c * (1 / sqrt 2)))
                N("Mul", "Mul", ["half", "c"], "h"); N("Mul_1", "Mul", ["c", "inv_sqrt2"], "s"); N("Erf", "Erf", ["s"], "e");
                N("Add", "Add", ["one", "e"], "a"); N("Mul_2", "Mul", ["a", "h"], "y");
                break;
            case "half-of-sum": // c * ((1 + erf(c / sqrt 2)) * 0.5)
                N("Div", "Div", ["c", "sqrt2"], "s"); N("Erf", "Erf", ["s"], "e"); N("Add", "Add", ["e", "one"], "a");
                N("Mul", "Mul", ["a", "half"], "m"); N("Mul_1", "Mul", ["c", "m"], "y");
                break;
        }
        g.Output.Add(Value("y"));
        if (erfAlsoOutput) g.Output.Add(Value("e"));
        var m = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 17 } } };
        return m.ToByteArray();
    }

    [Theory]
    [InlineData("pytorch")]
    [InlineData("half-first")]
    [InlineData("half-of-sum")]
    public void GeluWrittenOut_IsOneGeluLayer_MatchingOnnxRuntime(string form)
    {
        byte[] bytes = WrittenOut(form);
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "gelu.onnx"));
        Stack stack = OnnxStack.FromGraph(graph, "gelu");
        Assert.Equal(["conv", "gelu"], stack.Layers.Select(l => l.Type));
        Assert.Equal("/block/act/Gelu", stack.Layers[1].Label);
        Tensor x = Random(3, 7, 9, 12);
        float[] ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, 7, 9), ["y"])["y"];
        AssertClose(ort, StackRunner.Run(stack, x).Outputs[^1].Data, form);
        // A stack file keeps the one layer.
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("g.json"), stack);
        Assert.Contains("\"type\": \"gelu\"", File.ReadAllText(dir.File("g.json")));
        AssertClose(ort, StackRunner.Run(StackFile.Load(dir.File("g.json")), x).Outputs[^1].Data, form + ", reloaded");
    }

    /// <summary>Nodes named n10 ... n14 after a conv named n1: their common prefix "n1" is the conv's name, so the gelu
    /// takes its last node's (a report-only review found the layer, its messages and its features file named "n1").</summary>
    [Fact]
    public void AGeluLabel_IsNeverAnotherNodesName()
    {
        ModelProto m = ModelProto.Parser.ParseFrom(WrittenOut("pytorch"));
        m.Graph.Node[0].Name = "n1";
        for (int i = 1; i < m.Graph.Node.Count; i++) m.Graph.Node[i].Name = $"n1{i - 1}";
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "g.onnx")), "g");
        Assert.Equal(["n1", "n14"], stack.Layers.Select(l => l.Label));
        // "act_div", "act_erf" ... share "act_": the gelu is "act".
        for (int i = 1; i < m.Graph.Node.Count; i++) m.Graph.Node[i].Name = $"act_{m.Graph.Node[i].OpType.ToLowerInvariant()}{i}";
        stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "g.onnx")), "g");
        Assert.Equal(["n1", "act"], stack.Layers.Select(l => l.Label));
        // Unnamed nodes: the gelu is named after its value, as unnamed layers are ("y", not "-> y").
        foreach (NodeProto n in m.Graph.Node) n.Name = "";
        stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "g.onnx")), "g");
        Assert.Equal(["c", "y"], stack.Layers.Select(l => l.Label));
    }

    /// <summary>torchvision's and timm's ConvNeXt scale after the Transpose back: x -> conv 3x3 (4) = a -> Transpose [0, 2,
    /// 3, 1] -> MatMul (4, 4) -> Add (4) -> Transpose [0, 3, 1, 2] -> Mul by a (4, 1, 1) layer scale -> Add a. The bias and
    /// the scale both fold into the 1x1 conv (a review found the scale left as a layer of its own).</summary>
    [Fact]
    public void ALayerScaleAfterTheTransposeBack_FoldsToo()
    {
        var rng = new Random(12);
        var g = new GraphProto { Name = "tv" };
        AddImageInput(g, 3);
        g.Initializer.Add(FloatData("w", R(rng, 4 * 27), 4, 3, 3, 3));
        g.Initializer.Add(FloatData("w1", R(rng, 16), 4, 4));
        g.Initializer.Add(FloatData("b1", R(rng, 4), 4));
        g.Initializer.Add(FloatData("gamma", R(rng, 4, 0.1f, 0.5f), 4, 1, 1));
        Node(g, "stem", "Conv", ["x", "w"], "a", Ints("pads", 1, 1, 1, 1));
        Node(g, "to_last", "Transpose", ["a"], "t", Ints("perm", 0, 2, 3, 1));
        Node(g, "pw", "MatMul", ["t", "w1"], "m");
        Node(g, "pw_bias", "Add", ["m", "b1"], "h");
        Node(g, "to_first", "Transpose", ["h"], "back", Ints("perm", 0, 3, 1, 2));
        Node(g, "layer_scale", "Mul", ["gamma", "back"], "ls");
        Node(g, "residual", "Add", ["a", "ls"], "y");
        g.Output.Add(Value("y"));
        byte[] bytes = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 17 } } }.ToByteArray();
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "tv.onnx")), "tv");
        Assert.Equal(["conv", "conv", "add"], stack.Layers.Select(l => l.Type));
        Assert.Equal(["stem", "pw", "residual"], stack.Layers.Select(l => l.Label));
        Tensor x = Random(3, 6, 8, 21);
        AssertClose(RunOnnxRuntime(bytes, x.Reshape(1, 3, 6, 8), ["y"])["y"], StackRunner.Run(stack, x).Outputs[^1].Data, "torchvision-style block");
    }

    /// <summary>Layer normalisation written out, as PyTorch's exports before opset 17 write F.layer_norm: x -> conv 3x3 (4)
    /// -> [Transpose [0, 2, 3, 1]] -> ReduceMean over the channels -> Sub -> Pow 2 (or Mul d d) -> ReduceMean -> Add eps ->
    /// Sqrt -> Div -> Mul by a scale -> Add a shift -> [Transpose back] -> y, over axis 1 of (N, C, H, W) (ConvNeXt's
    /// LayerNorm2d) or the last axis of the channels-last value; axes as an attribute (opset 13) or an input (opset 18).</summary>
    private static byte[] LayerNormWrittenOut(bool channelsLast, bool mulSquare, int opset, bool dAlsoRead = false)
    {
        var rng = new Random(31);
        var g = new GraphProto { Name = "ln" };
        AddImageInput(g, 3);
        g.Initializer.Add(FloatData("w", R(rng, 4 * 27), 4, 3, 3, 3));
        g.Initializer.Add(FloatData("two", [2f]));
        g.Initializer.Add(FloatData("eps", [1e-6f]));
        long[] scaleShape = channelsLast ? [4] : [4, 1, 1];
        g.Initializer.Add(FloatData("scale", R(rng, 4, 0.5f, 1.5f), scaleShape));
        g.Initializer.Add(FloatData("shift", R(rng, 4), scaleShape));
        g.Initializer.Add(Int64Data("axes", channelsLast ? -1 : 1));
        AttributeProto[] reduce = opset >= 18 ? [Int("keepdims", 1)] : [Ints("axes", channelsLast ? -1 : 1), Int("keepdims", 1)];
        string[] Ins(string v) => opset >= 18 ? [v, "axes"] : [v];
        Node(g, "/stem/Conv", "Conv", ["x", "w"], "c", Ints("pads", 1, 1, 1, 1));
        string x = "c";
        if (channelsLast) { Node(g, "/to_last", "Transpose", ["c"], "t", Ints("perm", 0, 2, 3, 1)); x = "t"; }
        Node(g, "/norm/ReduceMean", "ReduceMean", Ins(x), "m", reduce);
        Node(g, "/norm/Sub", "Sub", [x, "m"], "d");
        if (mulSquare) Node(g, "/norm/Mul", "Mul", ["d", "d"], "p"); else Node(g, "/norm/Pow", "Pow", ["d", "two"], "p");
        Node(g, "/norm/ReduceMean_1", "ReduceMean", Ins("p"), "v", reduce);
        Node(g, "/norm/Add", "Add", ["v", "eps"], "e");
        Node(g, "/norm/Sqrt", "Sqrt", ["e"], "s");
        Node(g, "/norm/Div", "Div", ["d", "s"], "n");
        Node(g, "/norm/Mul_1", "Mul", ["n", "scale"], "ns");
        Node(g, "/norm/Add_1", "Add", ["ns", "shift"], channelsLast ? "nb" : "y");
        if (channelsLast) Node(g, "/to_first", "Transpose", ["nb"], "y", Ints("perm", 0, 3, 1, 2));
        g.Output.Add(Value("y"));
        if (dAlsoRead) g.Output.Add(Value("d"));
        return new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = opset } } }.ToByteArray();
    }

    [Theory]
    [InlineData(false, false, 13)]
    [InlineData(true, false, 13)]
    [InlineData(false, true, 18)]
    [InlineData(true, true, 18)]
    public void LayerNormWrittenOut_IsOneLayernormLayer_WithItsScaleAndShift_MatchingOnnxRuntime(bool channelsLast, bool mulSquare, int opset)
    {
        byte[] bytes = LayerNormWrittenOut(channelsLast, mulSquare, opset);
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "ln.onnx"));
        Stack stack = OnnxStack.FromGraph(graph, "ln");
        Assert.Equal(["conv", "layernorm"], stack.Layers.Select(l => l.Type));
        Assert.Equal(["/stem/Conv", "/norm/LayerNorm"], stack.Layers.Select(l => l.Label));
        var norm = ((ChannelLayerNormLayer)stack.Layers[1]).Parameters;
        Assert.Equal(graph.Initializers["scale"].Data, norm.Scale);
        Assert.Equal(graph.Initializers["shift"].Data, norm.Shift);
        Assert.Equal(1e-6f, norm.Epsilon);
        Tensor x = Random(3, 7, 9, 5);
        string what = $"channels-last {channelsLast}, {(mulSquare ? "d * d" : "Pow")}, opset {opset}";
        AssertClose(RunOnnxRuntime(bytes, x.Reshape(1, 3, 7, 9), ["y"])["y"], StackRunner.Run(stack, x).Outputs[^1].Data, what);
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("ln.json"), stack);
        AssertClose(StackRunner.Run(stack, x).Outputs[^1].Data, StackRunner.Run(StackFile.Load(dir.File("ln.json")), x).Outputs[^1].Data, what + ", reloaded");
    }

    /// <summary>The seven nodes of a layer normalisation over <paramref name="axis"/> (opset 13), named "/norm/ReduceMean"
    /// + <paramref name="suffix"/> and so on, then Mul by "scale" + suffix and Add "shift" + suffix (4 values).</summary>
    private static void AddLayerNorm(GraphProto g, Random rng, string x, string y, long axis, string suffix, long[] paramShape)
    {
        g.Initializer.Add(FloatData("two" + suffix, [2f]));
        g.Initializer.Add(FloatData("eps" + suffix, [1e-5f]));
        g.Initializer.Add(FloatData("scale" + suffix, R(rng, 4, 0.5f, 1.5f), paramShape));
        g.Initializer.Add(FloatData("shift" + suffix, R(rng, 4), paramShape));
        AttributeProto[] reduce = [Ints("axes", axis), Int("keepdims", 1)];
        string N(string n) => n + suffix;
        Node(g, N("/norm/ReduceMean"), "ReduceMean", [x], N("m"), reduce);
        Node(g, N("/norm/Sub"), "Sub", [x, N("m")], N("d"));
        Node(g, N("/norm/Pow"), "Pow", [N("d"), N("two")], N("p"));
        Node(g, N("/norm/ReduceMean_1"), "ReduceMean", [N("p")], N("v"), reduce);
        Node(g, N("/norm/Add"), "Add", [N("v"), N("eps")], N("e"));
        Node(g, N("/norm/Sqrt"), "Sqrt", [N("e")], N("s"));
        Node(g, N("/norm/Div"), "Div", [N("d"), N("s")], N("n"));
        Node(g, N("/norm/Mul_1"), "Mul", [N("n"), N("scale")], N("ns"));
        Node(g, N("/norm/Add_1"), "Add", [N("ns"), N("shift")], y);
    }

    private static byte[] Model(GraphProto g) => new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();

    /// <summary>Two layer norms written in one module (F.layer_norm twice in a forward: "/norm/ReduceMean" and
    /// "/norm/ReduceMean_10"): two layers of two labels, so a stack file names their tensors apart (a review found both
    /// labelled "/norm/LayerNorm" and the stack file refused).</summary>
    [Fact]
    public void TwoLayerNormsInOneModule_GetTwoLabels_AndTheStackFileRoundTrips()
    {
        var rng = new Random(51);
        var g = new GraphProto { Name = "ln2" };
        AddImageInput(g, 3);
        g.Initializer.Add(FloatData("w", R(rng, 4 * 27), 4, 3, 3, 3));
        Node(g, "/stem/Conv", "Conv", ["x", "w"], "c", Ints("pads", 1, 1, 1, 1));
        AddLayerNorm(g, rng, "c", "l1", 1, "", [4, 1, 1]);
        AddLayerNorm(g, rng, "l1", "y", 1, "_10", [4, 1, 1]);
        g.Output.Add(Value("y"));
        byte[] bytes = Model(g);
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "ln2.onnx")), "ln2");
        Assert.Equal(["/stem/Conv", "/norm/LayerNorm", "/norm/Div_10"], stack.Layers.Select(l => l.Label));
        Tensor x = Random(3, 5, 7, 2);
        float[] ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, 5, 7), ["y"])["y"];
        AssertClose(ort, StackRunner.Run(stack, x).Outputs[^1].Data, "two layer norms");
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("ln2.json"), stack);
        AssertClose(ort, StackRunner.Run(StackFile.Load(dir.File("ln2.json")), x).Outputs[^1].Data, "two layer norms, reloaded");
    }

    /// <summary>A layer norm over a pooled, flattened head's features (axis -1 of (N, K)) is a layernorm layer too; one over
    /// the width of a map (axis 3 of (N, C, H, W)) is one error naming the model's first node of it and the axis as written.</summary>
    [Fact]
    public void LayerNormWrittenOut_OnAHead_AndOverTheWidth()
    {
        var rng = new Random(52);
        var g = new GraphProto { Name = "head" };
        AddImageInput(g, 3);
        g.Initializer.Add(FloatData("w", R(rng, 4 * 27), 4, 3, 3, 3));
        Node(g, "conv", "Conv", ["x", "w"], "c", Ints("pads", 1, 1, 1, 1));
        Node(g, "gap", "GlobalAveragePool", ["c"], "gp");
        Node(g, "flat", "Flatten", ["gp"], "f");
        AddLayerNorm(g, rng, "f", "y", -1, "", [4]);
        g.Output.Add(Value("y"));
        byte[] bytes = Model(g);
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "head.onnx")), "head");
        Assert.Equal(["conv", "globalavgpool", "flatten", "layernorm"], stack.Layers.Select(l => l.Type));
        Tensor x = Random(3, 6, 5, 3);
        AssertClose(RunOnnxRuntime(bytes, x.Reshape(1, 3, 6, 5), ["y"])["y"], StackRunner.Run(stack, x).Outputs[^1].Data, "head layer norm");

        var w = new GraphProto { Name = "width" };
        AddImageInput(w, 3);
        w.Initializer.Add(FloatData("w", R(rng, 4 * 27), 4, 3, 3, 3));
        Node(w, "conv", "Conv", ["x", "w"], "c", Ints("pads", 1, 1, 1, 1));
        AddLayerNorm(w, rng, "c", "y", -1, "", [4]);
        w.Output.Add(Value("y"));
        var e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(Model(w), "width.onnx")), "width"));
        Assert.StartsWith("width.onnx: node '/norm/ReduceMean' (ReduceMean, the first of a layer normalisation written out as ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div): ", e.Message);
        Assert.EndsWith("got axis -1 of a rank-4 value; to see the layers before it, use --stack 'width.onnx#conv'", e.Message);
    }

    [Fact]
    public void LayerNormWrittenOut_StaysApart_WhereAMapInsideIsSeen()
    {
        // x - mean is a graph output too: no layernorm layer; its ops are layers of their own, the normalisation written out
        // (reduce_channels mean, sub, pow 2, reduce_channels mean, + epsilon, sqrt, div), equal to ONNX Runtime.
        byte[] bytes = LayerNormWrittenOut(false, false, 13, dAlsoRead: true);
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "ln.onnx")), "ln");
        string[] types = stack.Layers.Select(l => l.Type).ToArray();
        Assert.DoesNotContain("layernorm", types);
        Assert.Equal(["reduce_channels", "sub", "pow", "reduce_channels", "batchnorm", "sqrt", "div"], types.SkipWhile(t => t != "reduce_channels").Take(7));
        ModelProto model = ModelProto.Parser.ParseFrom(bytes);
        int h = 5, w = 6;
        Tensor x = Random(model.Graph.Input[0].Type.TensorType.Shape.Dim[1].DimValue is var c and > 0 ? (int)c : 3, h, w, 8);
        string output = model.Graph.Output[0].Name;
        AssertClose(RunOnnxRuntime(bytes, x.Reshape(1, x.C, h, w), [output])[output], StackRunner.Run(stack, x).Outputs[^1].Data, "written-out layer norm as layers", 1e-4);
    }

    /// <summary>Mish written out (YOLOv4's exports before opset 18): x -> conv (4) = c -> Softplus -> Tanh -> Mul(c, tanh) -> y.</summary>
    private static byte[] MishWrittenOut(bool tanhAlsoOutput)
    {
        var rng = new Random(41);
        var g = new GraphProto { Name = "mish" };
        AddImageInput(g, 3);
        g.Initializer.Add(FloatData("w", R(rng, 4 * 27), 4, 3, 3, 3));
        Node(g, "conv", "Conv", ["x", "w"], "c", Ints("pads", 1, 1, 1, 1));
        Node(g, "act/softplus", "Softplus", ["c"], "sp");
        Node(g, "act/tanh", "Tanh", ["sp"], "t");
        Node(g, "act/mul", "Mul", ["t", "c"], "y");
        g.Output.Add(Value("y"));
        if (tanhAlsoOutput) g.Output.Add(Value("t"));
        return new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
    }

    [Fact]
    public void MishWrittenOut_IsOneMishLayer_MatchingOnnxRuntime_UnlessAMapInsideIsSeen()
    {
        byte[] bytes = MishWrittenOut(false);
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "mish.onnx")), "mish");
        Assert.Equal(["conv", "mish"], stack.Layers.Select(l => l.Type));
        Assert.Equal(["conv", "act/Mish"], stack.Layers.Select(l => l.Label));
        Tensor x = Random(3, 8, 6, 9);
        for (int i = 0; i < x.Length; i++) x.Data[i] = 6 * x.Data[i] - 3;
        AssertClose(RunOnnxRuntime(bytes, x.Reshape(1, 3, 8, 6), ["y"])["y"], StackRunner.Run(stack, x).Outputs[^1].Data, "mish");
        Stack seen = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(MishWrittenOut(true), "mish.onnx")), "mish");
        Assert.Equal(["conv", "softplus", "tanh", "mul"], seen.Layers.Select(l => l.Type));
    }

    /// <summary>torchvision's Inception v3 / GoogLeNet transform_input: each channel x[:, i] (Gather on axis 1 by a scalar
    /// index, Unsqueeze back at axis 1) times a constant plus a constant, the three joined by a Concat, then a conv; and
    /// x[:, [2]] (a one-index list keeps the axis). Each pick is a slice layer.</summary>
    [Fact]
    public void OneChannelPickedByGather_IsASliceLayer_MatchingOnnxRuntime()
    {
        var rng = new Random(61);
        var g = new GraphProto { Name = "inception" };
        AddImageInput(g, 3);
        g.Initializer.Add(FloatData("w", R(rng, 4 * 4 * 9), 4, 4, 3, 3));
        g.Initializer.Add(Int64Data("axis1", 1));
        g.Initializer.Add(Int64Data("list2", 2));
        float[] scale = [0.458f, 0.448f, 0.450f], shift = [-0.030f, -0.088f, -0.188f];
        for (int i = 0; i < 3; i++)
        {
            var index = new TensorProto { Name = $"i{i}", DataType = 7 };
            index.Int64Data.Add(i);
            g.Initializer.Add(index);
            g.Initializer.Add(FloatData($"k{i}", [scale[i]]));
            g.Initializer.Add(FloatData($"b{i}", [shift[i]]));
            Node(g, $"/Gather_{i}", "Gather", ["x", $"i{i}"], $"g{i}", Int("axis", 1));
            Node(g, $"/Unsqueeze_{i}", "Unsqueeze", [$"g{i}", "axis1"], $"u{i}");
            Node(g, $"/Mul_{i}", "Mul", [$"u{i}", $"k{i}"], $"m{i}");
            Node(g, $"/Add_{i}", "Add", [$"m{i}", $"b{i}"], $"a{i}");
        }
        Node(g, "/Gather_list", "Gather", ["x", "list2"], "gl", Int("axis", 1));
        Node(g, "/Concat", "Concat", ["a0", "a1", "a2", "gl"], "cat", Int("axis", 1));
        Node(g, "/conv", "Conv", ["cat", "w"], "y", Ints("pads", 1, 1, 1, 1));
        g.Output.Add(Value("y"));
        byte[] bytes = Model(g);
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "inception.onnx")), "inception");
        // Each channel's Mul and Add are one affine layer (the Add folded into the Mul's).
        Assert.Equal(["slice", "batchnorm", "slice", "batchnorm", "slice", "batchnorm", "slice", "concat", "conv"], stack.Layers.Select(l => l.Type));
        Assert.Equal([(0, 1), (1, 2), (2, 3), (2, 3)], stack.Layers.OfType<SliceLayer>().Select(l => (l.Start, l.End)));
        Assert.Equal(["/Unsqueeze_1", "/Mul_1"], stack.Layers.Skip(2).Take(2).Select(l => l.Label));
        Assert.Equal(shift[1], ((BatchNormLayer)stack.Layers[3]).Parameters.Shift[0]);
        Tensor x = Random(3, 6, 7, 8);
        AssertClose(RunOnnxRuntime(bytes, x.Reshape(1, 3, 6, 7), ["y"])["y"], StackRunner.Run(stack, x).Outputs[^1].Data, "transform_input");

        // A picked channel read as (N, H, W) by anything but an Unsqueeze at axis 1: one error naming the node.
        var h = new GraphProto { Name = "bad" };
        AddImageInput(h, 3);
        h.Initializer.Add(g.Initializer.First(t => t.Name == "i0"));
        Node(h, "/Gather", "Gather", ["x", "i0"], "g0", Int("axis", 1));
        Node(h, "/Relu", "Relu", ["g0"], "y");
        h.Output.Add(Value("y"));
        var e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(Model(h), "bad.onnx")), "bad"));
        Assert.Equal("bad.onnx: node '/Relu' (Relu): in a stack one channel picked by Gather (x[:, i]) must be unsqueezed back at axis 1 (x[:, i:i+1] as (N, 1, H, W))", e.Message);
    }

    /// <summary>Ops that change nothing are no layer: DenseNet's one-map Concat (torch.cat([x], 1)), a Pad of zeros (a
    /// static UNet's pad-to-match), a 1x1 pool of stride 1 (an adaptive pool on a map at its size); values as ONNX Runtime's.</summary>
    [Fact]
    public void OpsThatChangeNothing_AreNoLayer()
    {
        var rng = new Random(71);
        var g = new GraphProto { Name = "noop" };
        AddImageInput(g, 3);
        g.Initializer.Add(FloatData("w", R(rng, 4 * 27), 4, 3, 3, 3));
        g.Initializer.Add(Int64Data("zeros", 0, 0, 0, 0, 0, 0, 0, 0));
        Node(g, "conv", "Conv", ["x", "w"], "c", Ints("pads", 1, 1, 1, 1));
        Node(g, "cat", "Concat", ["c"], "k", Int("axis", 1));
        Node(g, "pad", "Pad", ["k", "zeros"], "p");
        Node(g, "pool", "AveragePool", ["p"], "a", Ints("kernel_shape", 1, 1));
        Node(g, "relu", "Relu", ["a"], "y");
        g.Output.Add(Value("y"));
        byte[] bytes = Model(g);
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "noop.onnx")), "noop");
        Assert.Equal(["conv", "relu"], stack.Layers.Select(l => l.Type));
        Tensor x = Random(3, 5, 6, 4);
        AssertClose(RunOnnxRuntime(bytes, x.Reshape(1, 3, 5, 6), ["y"])["y"], StackRunner.Run(stack, x).Outputs[^1].Data, "no-op layers");
    }

    /// <summary>A one-input Concat (or an Identity) on sizes is shape arithmetic, not a map: x.view(batch and channels from
    /// Shape) through a Concat of one Slice (a review found the no-layer rule for one-map Concats taking it first).</summary>
    [Fact]
    public void AOneInputConcatOfSizes_IsShapeArithmetic()
    {
        var rng = new Random(72);
        var g = new GraphProto { Name = "view" };
        AddImageInput(g, 3);
        g.Initializer.Add(FloatData("w", R(rng, 4 * 27), 4, 3, 3, 3));
        g.Initializer.Add(FloatData("fc", R(rng, 8), 2, 4));
        g.Initializer.Add(Int64Data("starts", 0));
        g.Initializer.Add(Int64Data("ends", 2));
        Node(g, "conv", "Conv", ["x", "w"], "c", Ints("pads", 1, 1, 1, 1));
        Node(g, "gap", "GlobalAveragePool", ["c"], "gp");
        Node(g, "shape", "Shape", ["gp"], "s");
        Node(g, "slice", "Slice", ["s", "starts", "ends"], "s2");
        Node(g, "cat", "Concat", ["s2"], "target", Int("axis", 0));
        Node(g, "same", "Identity", ["target"], "target2");
        Node(g, "view", "Reshape", ["gp", "target2"], "f");
        Node(g, "fc", "Gemm", ["f", "fc"], "y", Int("transB", 1));
        g.Output.Add(Value("y"));
        byte[] bytes = Model(g);
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "view.onnx")), "view");
        Assert.Equal(["conv", "globalavgpool", "flatten", "linear"], stack.Layers.Select(l => l.Type));
        Tensor x = Random(3, 5, 6, 9);
        AssertClose(RunOnnxRuntime(bytes, x.Reshape(1, 3, 5, 6), ["y"])["y"], StackRunner.Run(stack, x).Outputs[^1].Data, "view through a one-input Concat");
    }

    /// <summary>A dynamic-size export's pads computed from a map's height (UNet's pad-to-match: Shape, Gather, Sub, Concat,
    /// Pad): one error naming the node and what to do, not a NaN.</summary>
    [Fact]
    public void PadsFromAMapsHeight_AreOneErrorSayingToExportAFixedSize()
    {
        var g = new GraphProto { Name = "dyn" };
        AddImageInput(g, 3);
        g.Initializer.Add(Int64Data("two", 2));
        g.Initializer.Add(Int64Data("eight", 8));
        g.Initializer.Add(Int64Data("six_zeros", 0, 0, 0, 0, 0, 0));
        Node(g, "shape", "Shape", ["x"], "s");
        Node(g, "h", "Gather", ["s", "two"], "hh", Int("axis", 0));
        Node(g, "diff", "Sub", ["eight", "hh"], "d");
        Node(g, "pads", "Concat", ["six_zeros", "d", "d"], "pp", Int("axis", 0));
        Node(g, "/up/Pad", "Pad", ["x", "pp"], "y");
        g.Output.Add(Value("y"));
        var e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(Model(g), "dyn.onnx")), "dyn"));
        Assert.StartsWith("dyn.onnx: node '/up/Pad' (Pad): pads entry 6 depends on a map's height or width", e.Message);
        Assert.EndsWith("export the model with a fixed input size (no dynamic_axes) so it is stored", e.Message);
    }

    /// <summary>SiLU (Sigmoid, Mul by x) and hard swish before opset 14 (HardSigmoid alpha 1/6 beta 1/2, Mul by x) are one
    /// layer each, named after the nodes' path; a HardSigmoid of other constants times x stays two layers.</summary>
    [Fact]
    public void SiluAndHardSwishWrittenOut_AreOneLayerEach_MatchingOnnxRuntime()
    {
        var rng = new Random(81);
        var g = new GraphProto { Name = "swish" };
        AddImageInput(g, 3);
        g.Initializer.Add(FloatData("w", R(rng, 4 * 27), 4, 3, 3, 3));
        g.Initializer.Add(FloatData("w2", R(rng, 16 * 9), 4, 4, 3, 3));
        AttributeProto A(float v) => new() { Name = "alpha", Type = 1, F = v };
        Node(g, "/b0/conv/Conv", "Conv", ["x", "w"], "c", Ints("pads", 1, 1, 1, 1));
        Node(g, "/b0/act/Sigmoid", "Sigmoid", ["c"], "s");
        Node(g, "/b0/act/Mul", "Mul", ["c", "s"], "si");
        Node(g, "/b1/act/HardSigmoid", "HardSigmoid", ["si"], "h", A(1f / 6));
        Node(g, "/b1/act/Mul", "Mul", ["h", "si"], "hs");
        Node(g, "/b2/conv/Conv", "Conv", ["hs", "w2"], "c2", Ints("pads", 1, 1, 1, 1));
        Node(g, "/b2/act/HardSigmoid", "HardSigmoid", ["c2"], "h2", A(0.2f));
        Node(g, "/b2/act/Mul", "Mul", ["c2", "h2"], "y");
        g.Output.Add(Value("y"));
        byte[] bytes = Model(g);
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "swish.onnx")), "swish");
        Assert.Equal(["conv", "silu", "hard_swish", "conv", "hard_sigmoid", "mul"], stack.Layers.Select(l => l.Type));
        Assert.Equal(["/b0/act/Silu", "/b1/act/HardSwish"], stack.Layers.Skip(1).Take(2).Select(l => l.Label));
        Tensor x = Random(3, 6, 5, 8);
        for (int i = 0; i < x.Length; i++) x.Data[i] = 8 * x.Data[i] - 4;
        AssertClose(RunOnnxRuntime(bytes, x.Reshape(1, 3, 6, 5), ["y"])["y"], StackRunner.Run(stack, x).Outputs[^1].Data, "silu, hard swish");
        Assert.Equal(-0.2689414213699951, Activation.Apply(ActivationKind.Silu, -1f), 1e-7); // -1 / (1 + e)
        Assert.True(float.IsNaN(Activation.Apply(ActivationKind.Silu, float.NegativeInfinity)));
    }

    /// <summary>relu6(x + 3) / 6 as older exporters write it (Add 3, Clip [0, 6] with its bounds as inputs, Div 6 or Mul
    /// 1/6): one hard_sigmoid; times x, one hard_swish.</summary>
    [Fact]
    public void HardSwishWrittenOut_WithAddClipDiv_IsOneLayer_MatchingOnnxRuntime()
    {
        var rng = new Random(91);
        var g = new GraphProto { Name = "hswish" };
        AddImageInput(g, 3);
        g.Initializer.Add(FloatData("w", R(rng, 4 * 27), 4, 3, 3, 3));
        g.Initializer.Add(FloatData("w2", R(rng, 16 * 9), 4, 4, 3, 3));
        g.Initializer.Add(FloatData("three", [3f]));
        g.Initializer.Add(FloatData("zero", [0f]));
        g.Initializer.Add(FloatData("six", [6f]));
        g.Initializer.Add(FloatData("sixth", [1f / 6]));
        Node(g, "conv", "Conv", ["x", "w"], "c", Ints("pads", 1, 1, 1, 1));
        Node(g, "hs/add", "Add", ["c", "three"], "a");
        Node(g, "hs/clip", "Clip", ["a", "zero", "six"], "r");
        Node(g, "hs/div", "Div", ["r", "six"], "d");
        Node(g, "hs/mul", "Mul", ["c", "d"], "h");
        Node(g, "conv2", "Conv", ["h", "w2"], "c2", Ints("pads", 1, 1, 1, 1));
        Node(g, "gate/add", "Add", ["three", "c2"], "a2");
        Node(g, "gate/clip", "Clip", ["a2", "zero", "six"], "r2");
        Node(g, "gate/mul", "Mul", ["r2", "sixth"], "y");
        g.Output.Add(Value("y"));
        byte[] bytes = Model(g);
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "hswish.onnx")), "hswish");
        Assert.Equal(["conv", "hard_swish", "conv", "hard_sigmoid"], stack.Layers.Select(l => l.Type));
        Assert.Equal(["hs/HardSwish", "gate/HardSigmoid"], stack.Layers.Where(l => l.Type.StartsWith("hard", StringComparison.Ordinal)).Select(l => l.Label));
        Tensor x = Random(3, 7, 6, 11);
        for (int i = 0; i < x.Length; i++) x.Data[i] = 10 * x.Data[i] - 5;
        AssertClose(RunOnnxRuntime(bytes, x.Reshape(1, 3, 7, 6), ["y", "h"])["y"], StackRunner.Run(stack, x).Outputs[^1].Data, "hard swish, hard sigmoid");
    }

    /// <summary>torchvision's transform_input whole: the input's three channels each picked (Gather, Unsqueeze), times a
    /// constant plus a constant (one of them as Sub, one as Div), joined in order by a Concat: one per-channel affine layer
    /// named after the Concat, as ONNX Runtime computes it.</summary>
    [Fact]
    public void TransformInput_OneChannelAtATime_IsOneAffineLayer()
    {
        var rng = new Random(62);
        var g = new GraphProto { Name = "tin" };
        AddImageInput(g, 3);
        g.Initializer.Add(FloatData("w", R(rng, 4 * 27), 4, 3, 3, 3));
        g.Initializer.Add(Int64Data("axis1", 1));
        string[] second = ["Add", "Sub", "Add"], first = ["Mul", "Mul", "Div"];
        float[] k = [0.458f, 0.448f, 2.2f], b = [-0.030f, 0.088f, -0.188f];
        for (int i = 0; i < 3; i++)
        {
            var index = new TensorProto { Name = $"i{i}", DataType = 7 };
            index.Int64Data.Add(i);
            g.Initializer.Add(index);
            g.Initializer.Add(FloatData($"k{i}", [k[i]]));
            g.Initializer.Add(FloatData($"b{i}", [b[i]]));
            Node(g, $"/Gather_{i}", "Gather", ["x", $"i{i}"], $"g{i}", Int("axis", 1));
            Node(g, $"/Unsqueeze_{i}", "Unsqueeze", [$"g{i}", "axis1"], $"u{i}");
            Node(g, $"/{first[i]}_{i}", first[i], [$"u{i}", $"k{i}"], $"m{i}");
            Node(g, $"/{second[i]}_{i}", second[i], [$"m{i}", $"b{i}"], $"a{i}");
        }
        Node(g, "/Concat", "Concat", ["a0", "a1", "a2"], "cat", Int("axis", 1));
        Node(g, "/conv", "Conv", ["cat", "w"], "y", Ints("pads", 1, 1, 1, 1));
        g.Output.Add(Value("y"));
        byte[] bytes = Model(g);
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "tin.onnx")), "tin");
        Assert.Equal(["batchnorm", "conv"], stack.Layers.Select(l => l.Type));
        Assert.Equal("/Concat", stack.Layers[0].Label);
        BatchNorm p = ((BatchNormLayer)stack.Layers[0]).Parameters;
        Assert.Equal([0.458f, 0.448f, 1f / 2.2f], p.Scale, (x, y) => Math.Abs(x - y) <= 1e-7f);
        Assert.Equal([-0.030f, -0.088f, -0.188f], p.Shift, (x, y) => Math.Abs(x - y) <= 1e-7f);
        Tensor x = Random(3, 6, 7, 8);
        float[] ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, 6, 7), ["y", "cat"])["cat"];
        AssertClose(ort, StackRunner.Run(stack, x).Outputs[0].Data, "transform_input's affine");
    }

    [Fact]
    public void GeluWrittenOut_StaysApart_WhereAMapInsideIsSeen_OrAConstantDiffers()
    {
        // erf's output is a graph output: the five layers stay (the map must be there to be seen).
        Stack seen = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(WrittenOut("pytorch", erfAlsoOutput: true), "g.onnx")), "g");
        Assert.Equal(["conv", "batchnorm", "erf", "batchnorm", "mul", "batchnorm"], seen.Layers.Select(l => l.Type));
        // Div by 1.5 is not GELU.
        Stack other = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(WrittenOut("pytorch", sqrt2: 1.5f), "g.onnx")), "g");
        Assert.Contains(other.Layers, l => l.Type == "erf");
        Tensor x = Random(3, 5, 6, 3);
        foreach (Stack s in new[] { seen, other }) Assert.Equal(6, StackRunner.Run(s, x).Outputs.Count);
    }

    /// <summary>x -> conv (4, no bias) = c -> Mul by a per-channel k (4) = y, with c also read by <paramref name="alsoReadBy"/>.</summary>
    private static OnnxGraph ConvThenScale(string alsoReadBy)
    {
        var g = new GraphProto { Name = "fold" };
        AddImageInput(g, 3);
        g.Initializer.Add(FloatData("w", R(new Random(2), 108), 4, 3, 3, 3));
        g.Initializer.Add(FloatData("k", [2f, -1f, 0.5f, 3f], 1, 4, 1, 1));
        Node(g, "conv", "Conv", ["x", "w"], "c");
        Node(g, "scale", "Mul", ["c", "k"], "y");
        if (alsoReadBy == "relu") Node(g, "relu", "Relu", ["c"], "r");
        g.Output.Add(Value("y"));
        if (alsoReadBy == "output") g.Output.Add(Value("c"));
        var m = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "fold.onnx"));
    }

    [Fact]
    public void APerChannelConstant_FoldsIntoTheConvBefore_OnlyWhereNothingElseReadsItsMap()
    {
        Stack folded = OnnxStack.FromGraph(ConvThenScale(""), "fold");
        Assert.Equal(["conv"], folded.Layers.Select(l => l.Type));
        var conv = (ConvLayer)folded.Layers[0];
        Assert.Equal(("conv", "conv.weight", "conv.bias"), (conv.Label, conv.WeightName, conv.BiasName));
        // Output channel 1's weights times -1, channel 3's times 3; the bias is 0 * k.
        float[] w = ConvThenScale("").Initializers["w"].Data;
        Assert.Equal(-w[27 + 5], conv.Weight.Data[27 + 5]);
        Assert.Equal(3f * w[81 + 26], conv.Weight.Data[81 + 26]);
        Assert.Equal([0f, 0f, 0f, 0f], conv.Bias!);
        Tensor x = Random(3, 6, 7, 5);
        Dictionary<string, Tensor> graphValues = ConvThenScale("").Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, 6, 7) });
        AssertClose(graphValues["y"].Data, StackRunner.Run(folded, x).Outputs[^1].Data, "folded");

        Assert.Equal(["conv", "batchnorm", "relu"], OnnxStack.FromGraph(ConvThenScale("relu"), "fold").Layers.Select(l => l.Type));
        Assert.Equal(["conv", "batchnorm"], OnnxStack.FromGraph(ConvThenScale("output"), "fold").Layers.Select(l => l.Type));
    }
}
