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
    private static byte[] ConvBn(float[] w, long[] wDims, float[] v)
    {
        var g = new GraphProto { Name = "damaged" };
        g.Input.Add(Value("x", 1, 1, 6, 6));
        int cout = (int)wDims[0];
        g.Initializer.Add(FloatData("w", w, wDims));
        g.Initializer.Add(FloatData("b", new float[cout], cout));
        foreach (string p in new[] { "s", "o", "m" }) g.Initializer.Add(FloatData(p, Enumerable.Repeat(1f, cout).ToArray(), cout));
        g.Initializer.Add(FloatData("v", v, cout));
        Node(g, "conv_a", "Conv", ["x", "w", "b"], "c", Ints("kernel_shape", wDims[2], wDims[3]));
        Node(g, "bn_a", "BatchNormalization", ["c", "s", "o", "m", "v"], "y");
        g.Output.Add(Value("y"));
        return new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
    }

    private static ConvGLException Refused(byte[] model) =>
        Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(model, "damaged.onnx")));

    [Fact]
    public void ASoundModel_Builds() => OnnxGraph.Build(OnnxReader.Parse(ConvBn(R(new Random(1), 2 * 9), [2, 1, 3, 3], [1f, 2f]), "sound.onnx"));

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
        // Just inside the limit it plans: 16384 x 16384 from a 2x2 input padded.
        var ok = new PaddedPoolOptions { SizeY = 2, SizeX = 2, DilationY = 16385, DilationX = 16385, PadTop = 16383, PadLeft = 16383, PadBottom = 16383, PadRight = 16383 };
        ConvGeometry g = PaddedPool2D.Geometry(2, 2, ok);
        Assert.True((long)g.Y.Output * g.X.Output <= Limits.ConvPlaneValues, $"{g.X.Output}x{g.Y.Output}");
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
}
