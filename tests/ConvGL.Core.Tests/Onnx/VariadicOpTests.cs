using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>ONNX Mean, Sum, Max and Min of several inputs: the output's shape is the inputs' broadcast, rank 0 for rank-0
/// inputs (from a review: Mean of scalars gave shape (1), its divisor a rank-1 tensor).</summary>
public class VariadicOpTests
{
    private static byte[] Model(string op)
    {
        // r = ReduceSum(x) over both axes without keepdims (rank 0); y = op(r, k) with k a rank-0 constant; z = op(x, row).
        var g = new GraphProto { Name = "g" };
        g.Input.Add(ProtoBuilders.Value("x", 2, 3));
        g.Initializer.Add(ProtoBuilders.Int64Data("axes", 0, 1));
        g.Initializer.Add(ProtoBuilders.FloatData("k", [5f]));
        g.Initializer.Add(ProtoBuilders.FloatData("row", [10f, 20f, 30f], 3));
        g.Node.Add(new NodeProto { Name = "r", OpType = "ReduceSum", Input = { "x", "axes" }, Output = { "r" }, Attribute = { ProtoBuilders.Int("keepdims", 0) } });
        g.Node.Add(new NodeProto { Name = "y", OpType = op, Input = { "r", "k" }, Output = { "y" } });
        g.Node.Add(new NodeProto { Name = "m", OpType = op, Input = { "r" }, Output = { "m" } });
        g.Node.Add(new NodeProto { Name = "z", OpType = op, Input = { "x", "row" }, Output = { "z" } });
        foreach (string o in new[] { "y", "m", "z" }) g.Output.Add(ProtoBuilders.Value(o));
        return new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
    }

    [Theory]
    [InlineData("Mean")]
    [InlineData("Sum")]
    [InlineData("Max")]
    [InlineData("Min")]
    public void RankZeroInputs_GiveARankZeroOutput_AsOnnxRuntime(string op)
    {
        byte[] bytes = Model(op);
        float[] x = [1, 2, 3, 4, 5, 6];
        Dictionary<string, Tensor> ours = OnnxGraph.Build(OnnxReader.Parse(bytes, "v.onnx")).Run(new Dictionary<string, Tensor> { ["x"] = new Tensor([2, 3], x) });
        // Worked: r = 21; Mean(21, 5) = 13, Sum 26, Max 21, Min 5; one input is itself; x with (10, 20, 30) row by row.
        float want = op switch { "Mean" => 13f, "Sum" => 26f, "Max" => 21f, _ => 5f };
        Assert.Empty(ours["y"].Shape);
        Assert.Equal([want], ours["y"].Data);
        Assert.Empty(ours["m"].Shape);
        Assert.Equal([21f], ours["m"].Data);
        Assert.Equal([2, 3], ours["z"].Shape);
        using var session = new InferenceSession(bytes);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results =
            session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [2, 3]))]);
        foreach (DisposableNamedOnnxValue r in results)
        {
            Assert.Equal(r.AsTensor<float>().Dimensions.ToArray(), ours[r.Name].Shape);
            Assert.Equal(r.AsEnumerable<float>().ToArray(), ours[r.Name].Data);
        }
    }
}
