using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using Google.Protobuf;
using static ConvGL.Core.Tests.Onnx.BranchyOpsTests;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>Models that take their input channels-last, (1, H, W, C), as Keras and TensorFlow exports (tf2onnx) do: the
/// stack's input map stays (C, H, W), and the model's ops read it as a channels-last value (its per-channel constants on
/// the last axis, the Transpose [0, 3, 1, 2] after them no layer). Checked against ONNX Runtime fed the same picture
/// channels-last.</summary>
public class ChannelsLastInputTests
{
    [Theory]
    [InlineData(new[] { 1, -1, -1, 3 }, true)]
    [InlineData(new[] { 1, 224, 224, 3 }, true)]
    [InlineData(new[] { -1, 28, 28, 1 }, true)]   // a Keras MNIST model, batch free
    [InlineData(new[] { 1, 3, -1, -1 }, false)]
    [InlineData(new[] { 1, 3, 224, 3 }, false)]   // a 3-wide picture of 3 channels: channels-first
    [InlineData(new[] { 1, 1, 28, 1 }, false)]
    [InlineData(new[] { 1, -1, -1, -1 }, false)]
    [InlineData(new[] { 1, 224, 224, 4 }, false)]
    [InlineData(new[] { 2, 224, 224, 3 }, false)]
    [InlineData(new[] { 224, 224, 3 }, false)]
    public void WhichInputsAreChannelsLast(int[] shape, bool last) => Assert.Equal(last, OnnxStack.ChannelsLastInput(shape));

    private static Tensor ChannelsLast(Tensor chw) => Indexing.Transpose(chw, [1, 2, 0]).Reshape(1, chw.Shape[1], chw.Shape[2], chw.Shape[0]);

    [Theory]
    [InlineData(9, 13)]
    [InlineData(16, 7)]
    public void AKerasExport_AsAStack_MatchesOnnxRuntimeFedTheSamePictureChannelsLast(int h, int w)
    {
        byte[] bytes = BranchyGraphs.KerasLikeBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "keras.onnx"));
        Tensor x = Random(3, h, w, 100 + h);
        Tensor nhwc = ChannelsLast(x);
        string[] names = ["centred", "normed", "nchw", "c1", "r1", "c2", "y"];
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, nhwc, names);
        // ConvGL's own graph run takes the channels-last input as ONNX Runtime does.
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = nhwc });
        foreach (string n in names) AssertClose(ort[n], ours[n].Data, $"graph value '{n}'");

        // As a stack: the mean and the scale on the last axis are per-channel layers of the (C, H, W) input, the two
        // Transposes no layer, the convs read the maps as they are.
        Stack stack = OnnxStack.FromGraph(graph, "keras");
        Assert.Equal(3, stack.InputChannels);
        Assert.Equal(["conv1", "relu1", "conv2"], stack.Layers.Select(l => l.Label).TakeLast(3));
        Assert.DoesNotContain(stack.Layers, l => l.Label is "to_nchw" or "to_nhwc");
        StackResult r = StackRunner.Run(stack, x);
        int conv1 = stack.Layers.Select(l => l.Label).ToList().IndexOf("conv1");
        // conv1's map is (8, H, W) in both; the output y is channels-last in ONNX, (C, H, W) in the stack.
        AssertClose(ort["c1"], r.Outputs[conv1].Data, "conv1");
        AssertClose(ort["r1"], r.Outputs[conv1 + 1].Data, "relu1");
        AssertClose(ort["y"], ChannelsLast(r.Outputs[^1]).Data, "the output");
        // Whatever layers the preprocessing became, the first conv's input is (x - mean) * scale channel by channel.
        Tensor normed = conv1 == 0 ? x : r.Outputs[conv1 - 1];
        AssertClose(Indexing.Transpose(new Tensor([h, w, 3], ort["normed"]), [2, 0, 1]).Data, normed.Data, "the normalised input");

        // Written as a ConvGL stack and loaded again: the same output.
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("keras.json"), stack);
        AssertClose(r.Outputs[^1].Data, StackRunner.Run(StackFile.Load(dir.File("keras.json")), x).Outputs[^1].Data, "reloaded");
    }

    /// <summary>A Keras classifier's head as tf2onnx writes it on the channels-last map: ReduceMean over axes [1, 2]
    /// (keepdims 0) is the global average pool, the MatMul and its bias Add one linear layer, then the softmax; the
    /// probabilities equal ONNX Runtime's. A reduction over other axes of a channels-last map is one error.</summary>
    [Fact]
    public void AKerasClassifierHead_OnTheChannelsLastMap_MatchesOnnxRuntime()
    {
        byte[] bytes = BranchyGraphs.KerasLikeBytes(head: true);
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "kerashead.onnx"));
        Tensor x = Random(3, 12, 10, 5);
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, ChannelsLast(x), ["y", "pooled", "logits", "probs"]);
        Stack stack = OnnxStack.FromGraph(graph, "kerashead");
        Assert.Equal(["globalavgpool", "linear", "softmax"], stack.Layers.Select(l => l.Type).TakeLast(3));
        StackResult r = StackRunner.Run(stack, x);
        AssertClose(ort["pooled"], r.Outputs[^3].Data, "the pool");
        AssertClose(ort["logits"], r.Outputs[^2].Data, "the logits");
        AssertClose(ort["probs"], r.Outputs[^1].Data, "the probabilities");
        Assert.Equal(1f, r.Outputs[^1].Data.Sum(), 5);

        // Over the width and the channels (axes [2, 3] of (N, H, W, C)) it would be no global pool.
        var m = ModelProto.Parser.ParseFrom(bytes);
        m.Graph.Node.Single(n => n.Name == "pool").Attribute.Single(a => a.Name == "axes").Ints[0] = 3;
        var e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "bad.onnx")), "bad"));
        Assert.StartsWith("bad.onnx: node 'pool' (ReduceMean): in a stack a reduction of a channels-last (N, H, W, C) value runs as a global pool (ReduceMean or ReduceMax over axes [1, 2]); ReduceMean over axes [2, 3] is not supported", e.Message);
    }

    /// <summary>A Keras digits CNN: its Flatten of the channels-last pooled map (a Reshape to (batch, -1) with the batch from
    /// Shape, or a Flatten op) is a flatten in (H, W, C) order, so its Dense weights meet the values they were trained on;
    /// the probabilities equal ONNX Runtime's, the flattened map equals ONNX Runtime's flattened value, and the stack file
    /// keeps the order ("order": "hwc").</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AKerasFlatten_ReadsPixelByPixel_AsTheDenseWeightsExpect(bool flattenOp)
    {
        byte[] bytes = BranchyGraphs.KerasDigitsBytes(flattenOp: flattenOp);
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "digits.onnx"));
        Tensor x = Random(1, 8, 6, 21);
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 8, 6, 1), ["p", "f", "logits", "probs"]);
        Stack stack = OnnxStack.FromGraph(graph, "digits");
        Assert.Equal(["conv", "relu", "maxpool", "flatten", "linear", "softmax"], stack.Layers.Select(l => l.Type));
        Assert.True(((FlattenLayer)stack.Layers[3]).ChannelsLast);
        StackResult r = StackRunner.Run(stack, x);
        AssertClose(ort["p"], r.Outputs[2].Data, "the pooled map");
        AssertClose(ort["f"], r.Outputs[3].Data, "the flattened values, pixel by pixel");
        AssertClose(ort["probs"], r.Outputs[^1].Data, "the probabilities");
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("digits.json"), stack);
        Assert.Contains("\"order\": \"hwc\"", File.ReadAllText(dir.File("digits.json")));
        AssertClose(r.Outputs[^1].Data, StackRunner.Run(StackFile.Load(dir.File("digits.json")), x).Outputs[^1].Data, "reloaded");
    }

    /// <summary>The flatten's two orders by hand: a (2, 2, 2) map with values 0..7 is 0..7 channel by channel and
    /// 0, 4, 1, 5, 2, 6, 3, 7 pixel by pixel; the source of each value is where it came from. A bad order is one error.</summary>
    [Fact]
    public void Flatten_TwoOrders_WorkedExample()
    {
        Tensor map = Tensor.Chw(2, 2, 2, [0, 1, 2, 3, 4, 5, 6, 7]);
        Assert.Equal([0f, 1, 2, 3, 4, 5, 6, 7], new FlattenLayer().Forward(map).Data);
        var hwc = new FlattenLayer { ChannelsLast = true };
        Assert.Equal([0f, 4, 1, 5, 2, 6, 3, 7], hwc.Forward(map).Data);
        Assert.Equal([8, 1, 1], hwc.Forward(map).Shape);
        for (int o = 0; o < 8; o++)
        {
            (int c, int y, int xx) = hwc.Source(o, 2, 2, 2);
            Assert.Equal(hwc.Forward(map).Data[o], map[c, y, xx]);
            (c, y, xx) = new FlattenLayer().Source(o, 2, 2, 2);
            Assert.Equal(o, map[c, y, xx]);
        }
        var e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""{"input": "gray", "layers": [{"type": "flatten", "order": "whc"}]}""", "s.json"));
        Assert.Contains("order", e.Message);
        Assert.Contains("\"hwc\" (pixel by pixel, Keras' Flatten)", e.Message);
    }

    /// <summary>A Keras segmentation head as tf2onnx may leave it channels-last: two convs' maps turned channels-last,
    /// Concat over the last axis (Keras' Concatenate(axis=-1)), Softmax over the last axis (opset 13, and opset 11's
    /// coerced form, the same per pixel): a concat and a softmax over the channels, equal to ONNX Runtime's. Concat over
    /// another axis, or of a channels-last and a channels-first map, is one error.</summary>
    [Theory]
    [InlineData(13, -1)]
    [InlineData(13, 3)]
    [InlineData(11, 3)]
    public void ConcatAndSoftmaxOverTheLastAxis_AreOverTheChannels(int opset, int axis)
    {
        byte[] Model(int concatAxis, bool mixed = false)
        {
            var rng = new Random(4);
            var g = new GraphProto { Name = "seg" };
            g.Input.Add(ProtoBuilders.Value("x", 1, -1, -1, 3));
            g.Input[^1].Type.TensorType.Shape.Dim[1] = new Dimension { DimParam = "H" };
            g.Input[^1].Type.TensorType.Shape.Dim[2] = new Dimension { DimParam = "W" };
            g.Initializer.Add(ProtoBuilders.FloatData("wa", ProtoBuilders.R(rng, 4 * 27), 4, 3, 3, 3));
            g.Initializer.Add(ProtoBuilders.FloatData("wb", ProtoBuilders.R(rng, 2 * 3), 2, 3, 1, 1));
            ProtoBuilders.Node(g, "to_nchw", "Transpose", ["x"], "t", ProtoBuilders.Ints("perm", 0, 3, 1, 2));
            ProtoBuilders.Node(g, "conv_a", "Conv", ["t", "wa"], "ca", ProtoBuilders.Ints("pads", 1, 1, 1, 1));
            ProtoBuilders.Node(g, "conv_b", "Conv", ["t", "wb"], "cb");
            ProtoBuilders.Node(g, "a_nhwc", "Transpose", ["ca"], "a", ProtoBuilders.Ints("perm", 0, 2, 3, 1));
            ProtoBuilders.Node(g, "b_nhwc", "Transpose", ["cb"], "b", ProtoBuilders.Ints("perm", 0, 2, 3, 1));
            ProtoBuilders.Node(g, "concat", "Concat", ["a", mixed ? "cb" : "b"], "j", ProtoBuilders.Int("axis", concatAxis));
            ProtoBuilders.Node(g, "softmax", "Softmax", ["j"], "y", ProtoBuilders.Int("axis", axis));
            g.Output.Add(ProtoBuilders.Value("y"));
            return new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = opset } } }.ToByteArray();
        }
        byte[] bytes = Model(-1);
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "seg.onnx")), "seg");
        Assert.Equal(["conv", "conv", "concat", "softmax"], stack.Layers.Select(l => l.Type));
        Tensor x = Random(3, 7, 9, 2);
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, ChannelsLast(x), ["j", "y"]);
        StackResult r = StackRunner.Run(stack, x);
        AssertClose(ort["j"], ChannelsLast(r.Outputs[2]).Data, "the concat");
        AssertClose(ort["y"], ChannelsLast(r.Outputs[3]).Data, "the softmax");
        Assert.Equal("seg.onnx: node 'concat' (Concat): in a stack Concat of channels-last maps joins channels (axis 3 or -1 of (N, H, W, C)), got axis 1",
            Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(Model(1), "seg.onnx")), "seg")).Message.Split("; to see the layers")[0]);
        Assert.StartsWith("seg.onnx: node 'concat' (Concat): in a stack Concat joins a channels-last map and a channels-first one",
            Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(Model(-1, mixed: true), "seg.onnx")), "seg")).Message);
    }

    /// <summary>Keras' ZeroPadding2D and Cropping2D where tf2onnx left them channels-last: a Pad of (N, H, W, C) with pads
    /// on axes 1 and 2 (top 1, left 2, bottom 3, right 1) is a pad layer of those rows and columns, a Slice of rows (axis
    /// 1, 1:-1) and one of channels (axis 3, 1:3) one slice layer; equal to ONNX Runtime's. A pad of the channels axis is
    /// one error naming axes 0 and 3.</summary>
    [Fact]
    public void PadAndSliceOfAChannelsLastMap_AreOfItsRowsColumnsAndChannels()
    {
        byte[] Model(long[] pads)
        {
            var rng = new Random(6);
            var g = new GraphProto { Name = "crop" };
            g.Input.Add(ProtoBuilders.Value("x", 1, -1, -1, 3));
            g.Input[^1].Type.TensorType.Shape.Dim[1] = new Dimension { DimParam = "H" };
            g.Input[^1].Type.TensorType.Shape.Dim[2] = new Dimension { DimParam = "W" };
            g.Initializer.Add(ProtoBuilders.Int64Data("pads", pads));
            g.Initializer.Add(ProtoBuilders.Int64Data("rows_start", 1));
            g.Initializer.Add(ProtoBuilders.Int64Data("rows_end", -1));
            g.Initializer.Add(ProtoBuilders.Int64Data("rows_axis", 1));
            g.Initializer.Add(ProtoBuilders.Int64Data("ch_start", 1));
            g.Initializer.Add(ProtoBuilders.Int64Data("ch_end", 3));
            g.Initializer.Add(ProtoBuilders.Int64Data("ch_axis", 3));
            g.Initializer.Add(ProtoBuilders.FloatData("w", ProtoBuilders.R(rng, 4 * 2 * 9), 4, 2, 3, 3));
            ProtoBuilders.Node(g, "zero_padding", "Pad", ["x", "pads"], "padded");
            ProtoBuilders.Node(g, "cropping", "Slice", ["padded", "rows_start", "rows_end", "rows_axis"], "cropped");
            ProtoBuilders.Node(g, "two_channels", "Slice", ["cropped", "ch_start", "ch_end", "ch_axis"], "picked");
            ProtoBuilders.Node(g, "to_nchw", "Transpose", ["picked"], "t", ProtoBuilders.Ints("perm", 0, 3, 1, 2));
            ProtoBuilders.Node(g, "conv", "Conv", ["t", "w"], "y");
            g.Output.Add(ProtoBuilders.Value("y"));
            return new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
        }
        byte[] bytes = Model([0, 1, 2, 0, 0, 3, 1, 0]);
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "crop.onnx")), "crop");
        // (The slice of rows and the slice of channels, the first read by the second only, are one slice layer.)
        Assert.Equal(["pad", "slice", "conv"], stack.Layers.Select(l => l.Type));
        Tensor x = Random(3, 7, 9, 8);
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, ChannelsLast(x), ["padded", "picked", "y"]);
        StackResult r = StackRunner.Run(stack, x);
        Assert.Equal([3, 11, 12], r.Outputs[0].Shape);
        AssertClose(ort["padded"], ChannelsLast(r.Outputs[0]).Data, "the pad");
        Assert.Equal([2, 9, 12], r.Outputs[1].Shape);
        AssertClose(ort["picked"], ChannelsLast(r.Outputs[1]).Data, "the crop and the two channels");
        AssertClose(ort["y"], r.Outputs[^1].Data, "the conv");
        Assert.StartsWith("crop.onnx: node 'zero_padding' (Pad): pads [0, 1, 2, 1, 0, 3, 1, 0] pad the batch or the channels (axes 0 and 3) of a channels-last value",
            Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(Model([0, 1, 2, 1, 0, 3, 1, 0]), "crop.onnx")), "crop")).Message);
    }

    /// <summary>A fixed channels-last size, (1, 32, 48, 3), resizes pictures to 48x32 (width 48, height 32) as (1, 3, 32, 48)
    /// does; the description says the model's own shape.</summary>
    [Fact]
    public void AFixedChannelsLastSize_ResizesPicturesToIt()
    {
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(BranchyGraphs.KerasLikeBytes(height: 32, width: 48), "keras32.onnx"));
        ImagePreprocess p = OnnxStack.DeclaredSize(graph)!;
        Assert.Equal((32, 48, 3), (p.Height, p.Width, p.Channels));
        Assert.Equal("keras32.onnx: its declared input (1, 32, 48, 3)", p.Source);
        Stack stack = OnnxStack.FromGraph(graph, "keras32", p);
        Tensor picture = Random(3, 60, 80, 7);
        Assert.Equal([4, 32, 48], StackRunner.Run(stack, p.Apply(picture)).Outputs[^1].Shape);
    }

    /// <summary>A conv that reads the channels-last input itself (no Transpose before it) would slide over the wrong axes:
    /// one error naming the node, what a channels-last value may go through, and the input's shape.</summary>
    [Fact]
    public void AConvReadingTheChannelsLastInput_IsOneError()
    {
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(BranchyGraphs.KerasLikeBytes(transpose: false), "broken.onnx"));
        var e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(graph, "broken"));
        Assert.StartsWith("broken.onnx: node 'conv1' (Conv): in a stack a channels-last value", e.Message);
    }

    /// <summary>A gray channels-last model, (1, H, W, 1) as a Keras MNIST model takes it: a gray stack (its input is the
    /// picture's gray, one channel), the conv after the Transpose equal to ONNX Runtime's.</summary>
    [Fact]
    public void AGrayChannelsLastModel_IsAGrayStack()
    {
        var rng = new Random(3);
        var g = new GraphProto { Name = "mnist" };
        g.Input.Add(ProtoBuilders.Value("x", 1, 28, 28, 1));
        g.Initializer.Add(ProtoBuilders.FloatData("w", ProtoBuilders.R(rng, 4 * 9), 4, 1, 3, 3));
        ProtoBuilders.Node(g, "to_nchw", "Transpose", ["x"], "t", ProtoBuilders.Ints("perm", 0, 3, 1, 2));
        ProtoBuilders.Node(g, "conv", "Conv", ["t", "w"], "y");
        g.Output.Add(ProtoBuilders.Value("y"));
        byte[] bytes = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "mnist.onnx"));
        Stack stack = OnnxStack.FromGraph(graph, "mnist", OnnxStack.DeclaredSize(graph));
        Assert.Equal((StackInput.Gray, 1), (stack.Input, stack.InputChannels));
        Assert.Equal((28, 28, 1), (stack.Preprocess!.Height, stack.Preprocess.Width, stack.Preprocess.Channels));
        Assert.Equal("ONNX model (opset 13)", stack.Description);
        Tensor x = Random(1, 28, 28, 9);
        AssertClose(RunOnnxRuntime(bytes, x.Reshape(1, 28, 28, 1), ["y"])["y"], StackRunner.Run(stack, x).Outputs[^1].Data, "the conv");
    }

    /// <summary>An input neither way round is one error that says both forms.</summary>
    [Fact]
    public void AnInputOfFourChannels_IsOneErrorNamingBothLayouts()
    {
        var g = new GraphProto { Name = "g" };
        g.Input.Add(ProtoBuilders.Value("x", 1, 16, 16, 4));
        ProtoBuilders.Node(g, "relu", "Relu", ["x"], "y");
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "rgba.onnx"));
        Assert.Equal("rgba.onnx: input 'x' is (1, 16, 16, 4); a model used as a stack takes (1, C, H, W) with C = 1 or 3, or channels-last (1, H, W, C)",
            Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(graph, "rgba")).Message);
    }
}
