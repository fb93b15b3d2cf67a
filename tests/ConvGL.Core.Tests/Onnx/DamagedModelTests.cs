using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Ops;
using Google.Protobuf;
using static ConvGL.Core.Tests.Onnx.ProtoBuilders;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>Models a user may hand ConvGL that are damaged in their values, not their framing: a Conv weight with an empty
/// axis (the runners divided by its zero channels: "internal error: DivideByZeroException"), learned values holding NaN
/// or infinity (accepted, and then <c>convert</c> wrote a stack its own loader refused), and a pool whose output is too
/// large to hold (an ArgumentException from the tensor, naming nothing). Each is one error naming the node.</summary>
public sealed class DamagedModelTests
{
    /// <summary>x (1, 1, 6, 6) -> Conv(w, b) -> BatchNormalization(s, o, m, v) -> y, with the given initializers.</summary>
    private static byte[] ConvBn(float[] w, long[] wDims, float[] v, float[]? scale = null, bool conv = true)
    {
        var g = new GraphProto { Name = "damaged" };
        g.Input.Add(Value("x", 1, 1, 6, 6));
        int cout = (int)wDims[0];
        g.Initializer.Add(FloatData("w", w, wDims));
        g.Initializer.Add(FloatData("b", new float[cout], cout));
        foreach (string p in new[] { "s", "o", "m" }) g.Initializer.Add(FloatData(p, p == "s" && scale is not null ? scale : Enumerable.Repeat(1f, cout).ToArray(), cout));
        g.Initializer.Add(FloatData("v", v, cout));
        if (conv) Node(g, "conv_a", "Conv", ["x", "w", "b"], "c", Ints("kernel_shape", wDims[2], wDims[3]));
        Node(g, "bn_a", "BatchNormalization", [conv ? "c" : "x", "s", "o", "m", "v"], "y", new AttributeProto { Name = "epsilon", Type = 1, F = 0f });
        g.Output.Add(Value("y"));
        return new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
    }

    private static ConvGLException Refused(byte[] model) =>
        Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(model, "damaged.onnx")));

    [Fact]
    public void ASoundModel_Builds() => OnnxGraph.Build(OnnxReader.Parse(ConvBn(R(new Random(1), 2 * 9), [2, 1, 3, 3], [1f, 2f]), "sound.onnx"));

    /// <summary>A Conv whose weight is defined nowhere (no initializer, no graph input, no node's output) and which has no
    /// kernel_shape: the undefined input is the error (the hostile-input audit was told "attribute 'kernel_shape' is
    /// required", which adding it did not fix).</summary>
    [Fact]
    public void AConvWeightDefinedNowhere_IsNamed_BeforeItsAttributes()
    {
        var g = new GraphProto { Name = "damaged" };
        g.Input.Add(Value("x", 1, 1, 6, 6));
        Node(g, "Conv_y", "Conv", ["x", "w"], "y");
        g.Output.Add(Value("y"));
        ConvGLException e = Refused(new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray());
        Assert.Contains("Conv_y", e.Message);
        Assert.Contains("input 'w' is neither a graph input, an initializer nor the output of an earlier node", e.Message);
        Assert.DoesNotContain("kernel_shape", e.Message);
    }

    [Fact]
    public void AConvWeightWithAnEmptyAxis_IsOneErrorNamingTheNode()
    {
        ConvGLException e = Refused(ConvBn([], [0, 1, 3, 3], []));
        Assert.Contains("conv_a", e.Message);
        Assert.Contains("weight 'w' has an empty shape (0, 1, 3, 3)", e.Message);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void NonFiniteWeightsOrStatistics_AreOneErrorNamingTheNodeAndTheTensor(float bad)
    {
        float[] w = R(new Random(2), 2 * 9);
        w[5] = bad;
        ConvGLException e = Refused(ConvBn(w, [2, 1, 3, 3], [1f, 2f]));
        Assert.Contains("conv_a", e.Message);
        Assert.Contains($"initializer 'w' holds {bad} at flat index 5", e.Message);
        e = Refused(ConvBn(R(new Random(2), 2 * 9), [2, 1, 3, 3], [1f, bad]));
        Assert.Contains("bn_a", e.Message);
        Assert.Contains($"initializer 'v' holds {bad} at flat index 1", e.Message);
    }

    [Fact]
    public void APoolWhoseOutputCannotBeHeld_IsAConvGLError_NotAnInternalOne()
    {
        var o = new PaddedPoolOptions { SizeY = 2, SizeX = 2, DilationY = 1 << 20, DilationX = 1 << 20, PadTop = 1 << 20, PadLeft = 1 << 20, PadBottom = 1 << 20, PadRight = 1 << 20 };
        var e = Assert.Throws<ConvGLException>(() => PaddedPool2D.Geometry(4, 4, o));
        Assert.Contains("pool output 1048580x1048580", e.Message);
        // Just inside the limit it plans: 16384 x 32768 (2^29) from a 2x2 input padded, every window reaching a pixel.
        var ok = new PaddedPoolOptions { SizeY = 16383, SizeX = 32767, StrideY = 1, StrideX = 1, PadTop = 16382, PadLeft = 32766, PadBottom = 16382, PadRight = 32766 };
        ConvGeometry g = PaddedPool2D.Geometry(2, 2, ok);
        Assert.Equal((16384, 32768), (g.Y.Output, g.X.Output));
        Assert.Equal(Limits.ConvPlaneValues, (long)g.Y.Output * g.X.Output);
    }

    /// <summary>A differential fuzz: with dilation a pool's taps stepped over a map narrower than their gap, so a window held
    /// padding alone (a 1x1 map, size 2, dilation 2, pads 1: max -inf, an average 0 / 0 = 0, on both devices) though pads
    /// wider than the window are refused for that reason. Refused too now, on either axis and under SAME_UPPER; a dilated
    /// pool whose every window reaches a pixel still plans.</summary>
    [Fact]
    public void ADilatedPoolWhoseWindowHoldsPaddingAlone_IsRefused()
    {
        var o = new PaddedPoolOptions { SizeY = 2, SizeX = 2, DilationY = 2, DilationX = 2, PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 };
        var e = Assert.Throws<ConvGLException>(() => PaddedPool2D.Geometry(1, 1, o));
        Assert.Equal("pool height: output 0's window (2 taps from -1, 2 apart) holds padding alone on an input of 1 padded by (1, 1); " +
                     "use less padding or dilation, or a larger input", e.Message);
        Assert.StartsWith("pool width: output 0's window", Assert.Throws<ConvGLException>(() => PaddedPool2D.Geometry(5, 1, o)).Message);
        Assert.Throws<ConvGLException>(() => PaddedPool2D.Geometry(1, 1, o with { Padding = PaddingMode.SameUpper, Kind = PoolKind.Average }));
        // 3 rows, dilation 2, pads 1: windows (-1, 1), (0, 2), (1, 3): each holds a row.
        Assert.Equal(3, PaddedPool2D.Geometry(3, 3, o).Y.Output);
    }

    /// <summary>x (1, 3, 6, 6) -> Conv or ConvTranspose (weight of <paramref name="wDims"/>, <paramref name="group"/>) -> y;
    /// with <paramref name="constantNode"/> the weight is a Constant node's value instead of an initializer.</summary>
    private static byte[] Grouped(string op, long[] wDims, long group, bool constantNode = false)
    {
        var g = new GraphProto { Name = "grouped" };
        g.Input.Add(Value("x", 1, 3, 6, 6));
        float[] w = Enumerable.Repeat(0.5f, (int)(wDims[0] * wDims[1] * wDims[2] * wDims[3])).ToArray();
        if (constantNode)
            Node(g, "w_const", "Constant", [], "w", new AttributeProto { Name = "value", Type = 4, T = FloatData("w", w, wDims) });
        else
            g.Initializer.Add(FloatData("w", w, wDims));
        Node(g, "conv_g", op, ["x", "w"], "y", Int("group", group), Ints("kernel_shape", wDims[2], wDims[3]));
        g.Output.Add(Value("y"));
        return new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
    }

    [Fact]
    public void AConvGroupThatDoesNotDivideTheOutputChannels_IsOneErrorNamingTheNode_NotAnInternalOne()
    {
        // The audit's groups3.onnx: weight (4, 1, 3, 3), group 3 (features, the window and convert said
        // "internal error: ArgumentException: groups 3 must divide C_out 4").
        ConvGLException e = Refused(Grouped("Conv", [4, 1, 3, 3], 3));
        Assert.StartsWith("damaged.onnx: node 'conv_g' (Conv): group 3 must divide the weight's 4 output channels", e.Message);
        e = Refused(Grouped("ConvTranspose", [4, 1, 3, 3], 3));
        Assert.StartsWith("damaged.onnx: node 'conv_g' (ConvTranspose): group 3 must divide the weight's 4 input channels", e.Message);
        // A weight from a Constant node is not known when the node is read: the stack import checks it the same way.
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(Grouped("Conv", [4, 1, 3, 3], 3, constantNode: true), "damaged.onnx"));
        e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(graph, "damaged"));
        Assert.StartsWith("damaged.onnx: node 'conv_g' (Conv): group 3 must divide the weight's 4 output channels", e.Message);
        // A sound grouped conv still builds: 3 groups of one channel each.
        OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(Grouped("Conv", [3, 1, 3, 3], 3), "sound.onnx")), "sound");
    }

    [Theory]
    [InlineData(1L << 40)]
    [InlineData((1L << 20) + 1)]
    public void AGroupTooLargeForAnyChannelCount_SaysSo(long group)
    {
        foreach (string op in new[] { "Conv", "ConvTranspose" })
        {
            ConvGLException e = Refused(Grouped(op, [4, 1, 3, 3], group));
            Assert.Contains($"node 'conv_g' ({op}): group {group} is too large: it must divide the input and output channels", e.Message);
            Assert.DoesNotContain("at least 1", e.Message);
        }
    }

    /// <summary>x (1, 2, 4, 5) -> op(x, the stored constants named in <paramref name="inputs"/>) -> y. A constant named
    /// "c:NAME" is a Constant node's value instead of an initializer.</summary>
    private static byte[] WithConstants(string op, (string Name, float[] Values)[] inputs, params AttributeProto[] attributes)
    {
        var g = new GraphProto { Name = "constants" };
        g.Input.Add(Value("x", 1, 2, 4, 5));
        var names = new List<string> { "x" };
        foreach ((string name, float[] values) in inputs)
        {
            if (name.Length == 0) { names.Add(""); continue; }
            string stored = name.StartsWith("c:", StringComparison.Ordinal) ? name[2..] : name;
            TensorProto t = FloatData(stored, values, values.Length);
            if (stored != name)
                Node(g, "const_" + stored, "Constant", [], stored, new AttributeProto { Name = "value", Type = 4, T = t });
            else
                g.Initializer.Add(t);
            names.Add(stored);
        }
        Node(g, "op_a", op, [.. names], "y", attributes);
        g.Output.Add(Value("y"));
        return new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
    }

    private static AttributeProto Float(string name, float v) => new() { Name = name, Type = 1, F = v };

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void ANonFiniteFloatAttribute_IsOneErrorNamingTheNodeAndTheAttribute(float bad)
    {
        // The audit's leaky_nan.onnx: convert died in the JSON writer ("internal error: ArgumentException: .NET number values
        // such as positive and negative infinity cannot be written as valid JSON").
        ConvGLException e = Refused(WithConstants("LeakyRelu", [], Float("alpha", bad)));
        Assert.Equal($"damaged.onnx: node 'op_a' (LeakyRelu): attribute 'alpha' is {bad}; the parameters a model stores must be finite: export the model again", e.Message);
        e = Refused(WithConstants("HardSigmoid", [], Float("beta", bad)));
        Assert.Contains("node 'op_a' (HardSigmoid): attribute 'beta'", e.Message);
    }

    [Theory]
    [InlineData("Mul", float.NaN)]
    [InlineData("Add", float.PositiveInfinity)]
    [InlineData("Div", float.NegativeInfinity)]
    public void ANonFiniteConstantOfAnElementwiseOp_IsOneErrorNamingTheNodeAndTheTensor(string op, float bad)
    {
        // mul_nan.onnx, add_inf.onnx: ran to maps of NaN with exit 0, and convert wrote a stack file its loader refused.
        ConvGLException e = Refused(WithConstants(op, [("k", [1f, bad])]));
        Assert.Equal($"damaged.onnx: node 'op_a' ({op}): initializer 'k' holds {bad} at flat index 1; the weights and constants a model stores must be finite: export the model again", e.Message);
        // From a Constant node: a NaN names the Constant node itself, an infinity the node that reads it.
        e = Refused(WithConstants(op, [("c:k", [bad])]));
        Assert.StartsWith(float.IsNaN(bad) ? "damaged.onnx: node 'const_k' (Constant): its value holds NaN at flat index 0"
            : $"damaged.onnx: node 'op_a' ({op}): input 'k' (the value of Constant node 'const_k') holds {bad} at flat index 0", e.Message);
        // ... and so is a value folded from stored constants at load (a Reshape of the constant).
        var g = new GraphProto { Name = "folded" };
        g.Input.Add(Value("x", 1, 2, 4, 5));
        g.Initializer.Add(FloatData("k", [bad, 1f], 2));
        g.Initializer.Add(Int64Data("shape", 2, 1, 1));
        Node(g, "reshape_k", "Reshape", ["k", "shape"], "k2");
        Node(g, "op_a", op, ["x", "k2"], "y");
        g.Output.Add(Value("y"));
        e = Refused(new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray());
        Assert.StartsWith($"damaged.onnx: node 'op_a' ({op}): input 'k2' (computed at load from stored constants by node 'reshape_k' (Reshape)) holds {bad}", e.Message);
    }

    [Fact]
    public void InfiniteClipBoundsAndPadFills_AreAllowed_ButNaNIsNot()
    {
        // +-inf is "no bound" for Clip and a fill that loses every max for Pad: sane; NaN is nobody's value.
        var x = new Tensor([1, 2, 4, 5], R(new Random(4), 40, -8, 8));
        OnnxGraph clip = OnnxGraph.Build(OnnxReader.Parse(WithConstants("Clip", [("lo", [float.NegativeInfinity]), ("c:hi", [2f])]), "clip.onnx"));
        Assert.All(clip.Run(new Dictionary<string, Tensor> { ["x"] = x })["y"].Data, v => Assert.True(v <= 2f));
        OnnxGraph.Build(OnnxReader.Parse(WithConstants("Clip", [("", []), ("c:hi", [float.PositiveInfinity])]), "clip.onnx"));
        var opset6 = OnnxReader.Parse(WithConstants("Clip", [], Float("min", float.NegativeInfinity), Float("max", float.PositiveInfinity)), "clip.onnx");
        OnnxGraph.Build(opset6);
        ConvGLException e = Refused(WithConstants("Clip", [("lo", [float.NaN])]));
        Assert.Equal("damaged.onnx: node 'op_a' (Clip): initializer 'lo' holds NaN at flat index 0; the weights and constants a model stores must be finite (+-inf allowed here, NaN not): export the model again", e.Message);
        e = Refused(WithConstants("Clip", [], Float("max", float.NaN)));
        Assert.Contains("node 'op_a' (Clip): attribute 'max' is NaN", e.Message);

        var pad = new GraphProto { Name = "pad" };
        pad.Input.Add(Value("x", 1, 2, 4, 5));
        pad.Initializer.Add(Int64Data("pads", 0, 0, 1, 1, 0, 0, 1, 1));
        pad.Initializer.Add(FloatData("fill", [float.NegativeInfinity]));
        Node(pad, "pad_a", "Pad", ["x", "pads", "fill"], "y");
        pad.Output.Add(Value("y"));
        OnnxGraph padded = OnnxGraph.Build(OnnxReader.Parse(new ModelProto { IrVersion = 7, Graph = pad, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray(), "pad.onnx"));
        Assert.Equal(float.NegativeInfinity, padded.Run(new Dictionary<string, Tensor> { ["x"] = x })["y"].Data[0]);
    }

    [Fact]
    public void NonFiniteInputData_IsData_NotADamagedModel()
    {
        // Only what the model stores is checked: a run's input (a conformance case's input_0.pb) may hold NaN and infinities.
        OnnxGraph g = OnnxGraph.Build(OnnxReader.Parse(WithConstants("Mul", [("k", [2f])]), "sound.onnx"));
        var x = new Tensor([1, 2, 4, 5], new float[40]);
        x.Data[0] = float.NaN;
        x.Data[1] = float.PositiveInfinity;
        Tensor y = g.Run(new Dictionary<string, Tensor> { ["x"] = x })["y"];
        Assert.True(float.IsNaN(y.Data[0]));
        Assert.Equal(float.PositiveInfinity, y.Data[1]);
    }

    [Fact]
    public void BatchNormStatisticsWhoseVarPlusEpsilonIsNotPositive_AreOneErrorNamingTheNode()
    {
        // The audit's bn_negvar.onnx: var -1, epsilon 0 folded to NaN weights and ran to NaN maps with exit 0.
        float[] w = R(new Random(3), 2 * 9);
        foreach (float v in new[] { -1f, 0f })
        {
            ConvGLException e = Refused(ConvBn(w, [2, 1, 3, 3], [1f, v]));
            Assert.Equal($"damaged.onnx: node 'bn_a' (BatchNormalization): channel 1: var + epsilon must be positive, got var {v} + epsilon 0 " +
                         "(a variance is never negative); fix the statistics or export the model again", e.Message);
            // A standalone batchnorm (nothing to fold into): the same, as a graph and as a stack layer.
            e = Refused(ConvBn(w[..9], [1, 1, 3, 3], [v], conv: false));
            Assert.StartsWith("damaged.onnx: node 'bn_a' (BatchNormalization): channel 0: var + epsilon must be positive", e.Message);
        }
        // Finite statistics whose scale / sqrt(var + epsilon) overflows float32 ...
        ConvGLException big = Refused(ConvBn(w, [2, 1, 3, 3], [1f, 1e-38f], scale: [1f, 3e38f]));
        Assert.StartsWith("damaged.onnx: node 'bn_a' (BatchNormalization): channel 1: scale / sqrt(var + epsilon) = Infinity", big.Message);
        // ... and a finite folded scale times a finite weight beyond float32.
        float[] heavy = Enumerable.Repeat(1e10f, 2 * 9).ToArray();
        ConvGLException folded = Refused(ConvBn(heavy, [2, 1, 3, 3], [1f, 1f], scale: [1f, 3e37f]));
        Assert.StartsWith("damaged.onnx: node 'bn_a' (BatchNormalization): folded into node 'conv_a' (Conv) it makes weight entry 9 Infinity", folded.Message);
        // Sound statistics still fold and run.
        OnnxGraph sound = OnnxGraph.Build(OnnxReader.Parse(ConvBn(w, [2, 1, 3, 3], [1f, 1e-3f], scale: [1f, 2f]), "sound.onnx"));
        Assert.All(OnnxStack.FromGraph(sound, "sound").Layers, l => Assert.IsType<ConvGL.Core.Stacks.ConvLayer>(l));
    }

    [Fact]
    public void AClipWithMinAboveMax_GivesMaxEverywhere_AsOnnxDefinesIt_AndConvertsToAStackItsLoaderReads()
    {
        // ONNX Clip: "When 'min' is greater than 'max', the clip operator sets all the 'input' values to the value of
        // 'max'" (a NaN stays NaN, as Min(max, Max(x, min)) has it). A stack file refuses min > max as a typo, so the
        // import writes min = max: the same layer, and one convert writes and the loader reads.
        var x = new Tensor([1, 2, 4, 5], R(new Random(5), 40, -8, 8));
        x.Data[3] = float.NaN;
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(WithConstants("Clip", [("lo", [5f]), ("hi", [1f])]), "clip.onnx"));
        Tensor y = graph.Run(new Dictionary<string, Tensor> { ["x"] = x })["y"];
        Assert.All(y.Data.Where((_, i) => i != 3), v => Assert.Equal(1f, v));
        Assert.True(float.IsNaN(y.Data[3]));
        ModelProto m = ModelProto.Parser.ParseFrom(WithConstants("Clip", [("lo", [5f]), ("hi", [1f])]));
        m.Graph.Input[0] = Value("x", 1, 1, 4, 5);
        ConvGL.Core.Stacks.Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "clip.onnx")), "clip");
        var layer = Assert.IsType<ConvGL.Core.Stacks.ActivationLayer>(Assert.Single(stack.Layers));
        Assert.Equal((1f, 1f), (layer.Min, layer.Max));
        using var dir = new TempDir();
        ConvGL.Core.Stacks.StackWriter.WriteWithWeights(dir.File("clip.json"), stack);
        ConvGL.Core.Stacks.Stack again = ConvGL.Core.Stacks.StackFile.Load(dir.File("clip.json"));
        Tensor image = Tensor.Chw(1, 4, 5, x.Data[..20]);
        Assert.Equal(ConvGL.Core.Stacks.StackRunner.Run(stack, image).Outputs[^1].Data, ConvGL.Core.Stacks.StackRunner.Run(again, image).Outputs[^1].Data);
    }
}
