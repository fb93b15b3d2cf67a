using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using Google.Protobuf;
using static ConvGL.Core.Tests.Onnx.ProtoBuilders;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>A model of every reduction ConvGL added after the mean / sum / max / min ones (shared by the Core and Gpu
/// tests, linked).</summary>
internal static class ReduceGraphs
{
    /// <summary>Opset 13: x (1, 3, 5, 6) -> ReduceL1 axes [3] = l1 (1, 3, 5, 1) -> ReduceLogSum axes [2] keepdims 0 = ls;
    /// x -> ReduceL2 axes [1] = l2; x -> ReduceSumSquare axes [2, 3] keepdims 0 = ss; x -> Mul by 100 -> ReduceLogSumExp
    /// axes [2, 3] = lse (values near 100: exp alone overflows); x -> ReduceProd axes [1] = p; x -> ArgMax axis 2 keepdims 0
    /// select_last_index 1 = am (an INT64 graph output); x -> ArgMin axis -1 = an (INT64).</summary>
    internal static byte[] ModelBytes()
    {
        var g = new GraphProto { Name = "reductions" };
        g.Input.Add(ProtoBuilders.Value("x", 1, 3, 5, 6));
        g.Initializer.Add(ProtoBuilders.FloatData("hundred", [100f]));
        g.Node.Add(new NodeProto { Name = "l1", OpType = "ReduceL1", Input = { "x" }, Output = { "l1" }, Attribute = { ProtoBuilders.Ints("axes", 3) } });
        g.Node.Add(new NodeProto { Name = "ls", OpType = "ReduceLogSum", Input = { "l1" }, Output = { "ls" }, Attribute = { ProtoBuilders.Ints("axes", 2), Int("keepdims", 0) } });
        g.Node.Add(new NodeProto { Name = "l2", OpType = "ReduceL2", Input = { "x" }, Output = { "l2" }, Attribute = { ProtoBuilders.Ints("axes", 1) } });
        g.Node.Add(new NodeProto { Name = "ss", OpType = "ReduceSumSquare", Input = { "x" }, Output = { "ss" }, Attribute = { ProtoBuilders.Ints("axes", 2, 3), Int("keepdims", 0) } });
        g.Node.Add(new NodeProto { Name = "big", OpType = "Mul", Input = { "x", "hundred" }, Output = { "big" } });
        g.Node.Add(new NodeProto { Name = "lse", OpType = "ReduceLogSumExp", Input = { "big" }, Output = { "lse" }, Attribute = { ProtoBuilders.Ints("axes", 2, 3) } });
        g.Node.Add(new NodeProto { Name = "p", OpType = "ReduceProd", Input = { "x" }, Output = { "p" }, Attribute = { ProtoBuilders.Ints("axes", 1) } });
        g.Node.Add(new NodeProto { Name = "am", OpType = "ArgMax", Input = { "x" }, Output = { "am" }, Attribute = { Int("axis", 2), Int("keepdims", 0), Int("select_last_index", 1) } });
        g.Node.Add(new NodeProto { Name = "an", OpType = "ArgMin", Input = { "x" }, Output = { "an" }, Attribute = { Int("axis", -1) } });
        foreach (string n in new[] { "l1", "ls", "l2", "ss", "big", "lse", "p" }) g.Output.Add(ProtoBuilders.Value(n));
        foreach (string n in new[] { "am", "an" })
            g.Output.Add(new ValueInfoProto { Name = n, Type = new TypeProto { TensorType = new TensorTypeProto { ElemType = 7 } } });
        return new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
    }

    internal static Tensor Input(int seed)
    {
        var rng = new Random(seed);
        var x = new Tensor([1, 3, 5, 6], ProtoBuilders.R(rng, 90, -2f, 2f));
        // Ties: the smallest of an ArgMin line twice (the first wins), the largest of an ArgMax line twice (the last wins).
        x.Data[7] = x.Data[9] = -3f;
        x.Data[2] = x.Data[3 * 6 + 2] = 3f;
        return x;
    }

    public static OnnxGraph Graph() => OnnxGraph.Build(OnnxReader.Parse(ModelBytes(), "reductions.onnx"));
}
