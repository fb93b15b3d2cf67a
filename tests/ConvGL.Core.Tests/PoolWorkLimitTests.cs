using System.Diagnostics;
using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Onnx;
using Google.Protobuf;

namespace ConvGL.Core.Tests;

/// <summary>From a hostile-input review: pools had no limit on their work, so a stack file of one maxpool (size 4096,
/// dilation 4096, same padding) took 123 s of CPU on a 64x48 picture and an ONNX MaxPool of a 2^20 window never ended.
/// Past Pool2D.MaxTaps (outputs x window, the attention's limit) a pool is one error before any work, in the stack's
/// plan (the window and `features` offer a smaller input) and in the ops themselves (the ONNX runner).</summary>
public class PoolWorkLimitTests
{
    [Fact]
    public void TooMuchWork_WorkedExample_AndTheLimitsEdge()
    {
        // 2 maps of 64 x 64 outputs read 3x3 windows: 2 * 4096 * 9 = 73,728 values.
        ConvGeometry small = Pool2D.Geometry(64, 64, new PoolOptions { Kind = PoolKind.Max, SizeY = 3, SizeX = 3, StrideY = 1, StrideX = 1, PadY = 1, PadX = 1 });
        Assert.Null(Pool2D.TooMuchWork("p", 2, small, 3, 3));
        // 2^34 exactly passes; one map more does not. 1 map of 1024 x 1024 outputs, a 128 x 128 window: 2^20 * 2^14 = 2^34.
        ConvGeometry big = PaddedPool2D.Geometry(1024, 1024, new PaddedPoolOptions { SizeY = 128, SizeX = 128, Padding = PaddingMode.SameUpper });
        Assert.Equal((1024, 1024), (big.Y.Output, big.X.Output));
        Assert.Null(Pool2D.TooMuchWork("p", 1, big, 128, 128));
        Assert.Equal("p: a 128x128 window (W x H) over 2 map(s) of 1024x1024 outputs reads 3.44e+10 values, over ConvGL's limit of 1.72e+10; a smaller window or input",
            Pool2D.TooMuchWork("p", 2, big, 128, 128));
        // A window 16 rows by 512 columns is 512x16 (W x H), as the outputs' 1024x1024 are.
        Assert.StartsWith("p: a 512x16 window (W x H) over 2048 map(s) of 1024x1024 outputs", Pool2D.TooMuchWork("p", 2048, big, 16, 512));
    }

    [Fact]
    public void AStackFilesHugePool_IsRefusedByItsPlan_AndByTheOp_AtOnce()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("pool.json"), """{"name": "t", "input": "gray", "layers": [{"type": "maxpool", "size": 4096, "padding": "same_lower", "stride": 1}]}""");
        Stack stack = StackFile.Load(dir.File("pool.json"));
        Assert.False(StackPlan.TryCreate(stack, 48, 64, null, out _, out string? error));
        Assert.Contains("(maxpool): a 4096x4096 window (W x H) over 1 map(s) of 64x48 outputs reads 5.15e+10 values, over ConvGL's limit of 1.72e+10", error);
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<ConvGLException>(() => stack.Layers[0].Forward(new Tensor([1, 48, 64])));
        Assert.StartsWith("pool: a 4096x4096 window", e.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed.TotalSeconds < 5, $"{clock.Elapsed}");
    }

    [Fact]
    public void AnOnnxMaxPoolOfA2To20Window_IsOneErrorNamingTheNode()
    {
        var g = new GraphProto { Name = "g" };
        g.Input.Add(ProtoBuilders.Value("x", 1, 1, 8, 8));
        g.Node.Add(new NodeProto { Name = "mp", OpType = "MaxPool", Input = { "x" }, Output = { "y" },
            Attribute = { ProtoBuilders.Ints("kernel_shape", 1 << 20, 1 << 20), ProtoBuilders.Ints("pads", 1 << 19, 1 << 19, 1 << 19, 1 << 19) } });
        g.Output.Add(ProtoBuilders.Value("y"));
        byte[] bytes = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "mp.onnx"));
        var e = Assert.Throws<ConvGLException>(() => graph.Run(new Dictionary<string, Tensor> { ["x"] = new Tensor([1, 1, 8, 8]) }));
        Assert.Contains("node 'mp' (MaxPool)", e.Message);
        Assert.Contains("window (W x H) over 1 map(s) of 9x9 outputs reads", e.Message);
    }
}
