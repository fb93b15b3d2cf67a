using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using Google.Protobuf;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>A graph run (and the load's constant folding) caps the values it holds together (<see cref="OnnxGraph.ValuesCap"/>).
/// Ops that compute their output's size from attributes or broadcasting used to allocate it first and be checked after
/// (README's "Hostile ONNX models": a 320 KB model of two 40000-value constants added with broadcasting took 6.4 GB at
/// load before its error). Every tensor an op allocates is now checked against the room left before it is allocated
/// (<see cref="Tensor.AllocationRoom"/>).</summary>
public class AllocationRoomTests
{
    private static ModelProto Model(string op, long[] xShape, TensorProto[] inits, string[] inputs, params AttributeProto[] attributes)
    {
        var g = new GraphProto { Name = "g", Input = { ProtoBuilders.Value("x", xShape) }, Output = { ProtoBuilders.Value("y") } };
        g.Initializer.AddRange(inits);
        ProtoBuilders.Node(g, "n0", op, inputs, "y", attributes);
        return new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
    }

    private static AttributeProto Int(string name, long v) => new() { Name = name, Type = 2, I = v };

    private static Tensor Ramp(params int[] shape) => new(shape, Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(i => (float)i).ToArray());

    /// <summary>Ops whose output is larger than their inputs, each with the output shape worked out by hand.</summary>
    public static TheoryData<string, int[]> Growing() => new()
    {
        { "Pad 9 a side", [1, 1, 20, 20] },
        { "Conv 1x1 with pads 9", [1, 1, 20, 20] },
        { "MaxPool 3 stride 1 with pads 2", [1, 1, 4, 4] },
        { "ConvTranspose stride 9", [1, 1, 10, 10] },
        { "Add (20, 1) + (1, 20)", [1, 1, 20, 20] },
        { "Gemm (20, 1) x (1, 20)", [20, 20] },
        { "Resize x10", [1, 1, 20, 20] },
        { "Concat of three", [1, 3, 2, 2] },
        { "DepthToSpace 2", [1, 1, 4, 4] },
        { "Tile 5x5", [1, 1, 10, 10] },
    };

    private static (OnnxOp Op, Tensor?[] Args) Case(string name)
    {
        TensorProto w = ProtoBuilders.FloatData("w", [1f], 1, 1, 1, 1);
        Tensor one = new([1, 1, 1, 1], [1f]);
        (ModelProto m, Tensor?[] args) = name switch
        {
            "Pad 9 a side" => (Model("Pad", [1, 1, 2, 2], [ProtoBuilders.Int64Data("p", 0, 0, 9, 9, 0, 0, 9, 9)], ["x", "p"]),
                               new Tensor?[] { Ramp(1, 1, 2, 2), new([8], [0, 0, 9, 9, 0, 0, 9, 9]) }),
            "Conv 1x1 with pads 9" => (Model("Conv", [1, 1, 2, 2], [w], ["x", "w"], ProtoBuilders.Ints("pads", 9, 9, 9, 9)), [Ramp(1, 1, 2, 2), one]),
            "MaxPool 3 stride 1 with pads 2" => (Model("MaxPool", [1, 1, 2, 2], [], ["x"], ProtoBuilders.Ints("kernel_shape", 3, 3),
                                                       ProtoBuilders.Ints("pads", 2, 2, 2, 2)), [Ramp(1, 1, 2, 2)]),
            "ConvTranspose stride 9" => (Model("ConvTranspose", [1, 1, 2, 2], [w], ["x", "w"], ProtoBuilders.Ints("strides", 9, 9)), [Ramp(1, 1, 2, 2), one]),
            "Add (20, 1) + (1, 20)" => (Model("Add", [1, 1, 20, 1], [ProtoBuilders.FloatData("b", new float[20], 1, 1, 1, 20)], ["x", "b"]),
                                        [Ramp(1, 1, 20, 1), new Tensor([1, 1, 1, 20])]),
            "Gemm (20, 1) x (1, 20)" => (Model("Gemm", [20, 1], [ProtoBuilders.FloatData("b", Enumerable.Repeat(1f, 20).ToArray(), 1, 20)], ["x", "b"]),
                                         [Ramp(20, 1), new Tensor([1, 20], Enumerable.Repeat(1f, 20).ToArray())]),
            "Resize x10" => (Model("Resize", [1, 1, 2, 2], [ProtoBuilders.FloatData("s", [1, 1, 10, 10], 4)], ["x", "", "s"]),
                             [Ramp(1, 1, 2, 2), null, new Tensor([4], [1, 1, 10, 10])]),
            "Concat of three" => (Model("Concat", [1, 1, 2, 2], [], ["x", "x", "x"], Int("axis", 1)), [Ramp(1, 1, 2, 2), Ramp(1, 1, 2, 2), Ramp(1, 1, 2, 2)]),
            "DepthToSpace 2" => (Model("DepthToSpace", [1, 4, 2, 2], [], ["x"], Int("blocksize", 2)), [Ramp(1, 4, 2, 2)]),
            "Tile 5x5" => (Model("Tile", [1, 1, 2, 2], [ProtoBuilders.Int64Data("r", 1, 1, 5, 5)], ["x", "r"]), [Ramp(1, 1, 2, 2), new Tensor([4], [1, 1, 5, 5])]),
            _ => throw new ArgumentException(name),
        };
        return (OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx")).Ops.Single(), args);
    }

    [Theory, MemberData(nameof(Growing))]
    public void AnOpRuns_InExactlyItsOutputsRoom_AndRefusesWithOneValueLess(string name, int[] shape)
    {
        (OnnxOp op, Tensor?[] args) = Case(name);
        long n = shape.Aggregate(1L, (a, b) => a * b);
        try
        {
            Tensor.AllocationRoom = n;
            Tensor y = op.Run(args);
            Assert.Equal(shape, y.Shape);
            Tensor.AllocationRoom = n - 1;
            // Refused by the op's own size check (its output named) or by the room itself (the tensor asked for, the
            // output or one image of it), before allocating.
            Exception? e = Record.Exception(() => op.Run(args));
            Assert.True(e is AllocationRoomException { Values: > 0 } room && room.Values <= n && room.Room == n - 1
                        || e is ConvGLException && e.Message.Contains($"its output {Tensor.ShapeText(shape)} would bring the values held together past"), e?.ToString());
        }
        finally
        {
            Tensor.AllocationRoom = null;
        }
        Assert.Null(Tensor.AllocationRoom);
    }

    /// <summary>The hostile models, at full size: nothing near their size is allocated before the error, which names the node.</summary>
    [Fact]
    public void ABroadcastFoldedAtLoad_IsRefusedBeforeItsSixGigabytes()
    {
        var g = new GraphProto { Name = "g", Input = { ProtoBuilders.Value("x", 1, 1, 1, 1) }, Output = { ProtoBuilders.Value("y") } };
        g.Initializer.Add(ProtoBuilders.FloatData("a", new float[40000], 1, 1, 40000, 1));
        g.Initializer.Add(ProtoBuilders.FloatData("b", new float[40000], 1, 1, 1, 40000));
        ProtoBuilders.Node(g, "outer", "Add", ["a", "b"], "ab");
        ProtoBuilders.Node(g, "use", "Add", ["x", "ab"], "y");
        byte[] bytes = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
        OnnxModel model = OnnxReader.Parse(bytes, "outer.onnx");
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(model));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64L << 20, "allocated before the error");
        Assert.Equal("outer.onnx: node 'outer' (Add): a value of shape (1, 1, 40000, 40000) it computes is more than 536870912 values; " +
                     "run the model on a smaller input, or export it with smaller constants", e.Message);
        Assert.Null(Tensor.AllocationRoom);
    }

    [Fact]
    public void AnOuterProductOf40000Values_IsRefusedAtRunBeforeAllocating()
    {
        ModelProto m = Model("Gemm", [40000, 1], [ProtoBuilders.FloatData("b", Enumerable.Repeat(1f, 40000).ToArray(), 1, 40000)], ["x", "b"]);
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "outer.onnx"));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ConvGLException>(() => graph.Run(new Dictionary<string, Tensor> { ["x"] = Ramp(40000, 1) }));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64L << 20, "allocated before the error");
        Assert.Equal("outer.onnx: node 'n0' (Gemm): a value of shape (40000, 40000) it computes is more than 536870912 values; " +
                     "run the model on a smaller input, or export it with smaller constants", e.Message);
        Assert.Null(Tensor.AllocationRoom);
    }
}
