using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Ops;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>ReduceL1 / L2 / SumSquare / LogSum / LogSumExp / Prod and ArgMax / ArgMin: worked examples with hand-checked
/// numbers, the special values (NaN, infinities, large values), and a model of all of them against ONNX Runtime.</summary>
public class ReduceKindsTests
{
    private static float[] Run(float[] values, int[] shape, ReduceKind kind, params int[] axes) =>
        Reduce.Apply(new Tensor(shape, values), kind, axes, keepDims: false).Data;

    private static void Near(float[] want, float[] got)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], got[i], 5e-6f * Math.Max(1f, Math.Abs(want[i])));
    }

    /// <summary>Over an empty axis each output is the reduction of no values, ONNX's (onnx/onnx#5568) and NumPy's: a (2, 0,
    /// 3) tensor reduced over axis 1 gives 2 x 3 of them; over axis 0 a (0, 3) tensor keeps its empty shape.</summary>
    [Fact]
    public void OverAnEmptyAxis_EachOutputIsTheValueOfNoValues()
    {
        var want = new Dictionary<ReduceKind, float>
        {
            [ReduceKind.Sum] = 0f, [ReduceKind.L1] = 0f, [ReduceKind.L2] = 0f, [ReduceKind.SumSquare] = 0f, [ReduceKind.Prod] = 1f,
            [ReduceKind.Max] = float.NegativeInfinity, [ReduceKind.Min] = float.PositiveInfinity,
            [ReduceKind.LogSum] = float.NegativeInfinity, [ReduceKind.LogSumExp] = float.NegativeInfinity, [ReduceKind.Mean] = float.NaN,
        };
        foreach ((ReduceKind kind, float value) in want)
        {
            Tensor y = Reduce.Apply(new Tensor([2, 0, 3]), kind, [1], keepDims: true);
            Assert.Equal([2, 1, 3], y.Shape);
            Assert.All(y.Data, v => Assert.Equal(value, v));
            Assert.Equal([0, 3], Reduce.Apply(new Tensor([0, 2, 3]), kind, [1], keepDims: false).Shape);
        }
    }

    /// <summary>The same ten reductions of an empty axis in one ONNX model, against ONNX Runtime: the same values and
    /// shapes, but for the mean (undefined in ONNX; ONNX Runtime's 0, ConvGL's NaN).</summary>
    [Fact]
    public void OverAnEmptyAxis_MatchesOnnxRuntime()
    {
        string[] kinds = ["ReduceSum", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceProd", "ReduceMax", "ReduceMin", "ReduceLogSum", "ReduceLogSumExp", "ReduceMean"];
        var g = new GraphProto { Name = "g" };
        g.Input.Add(ProtoBuilders.Value("x", 2, 0, 3));
        g.Initializer.Add(ProtoBuilders.Int64Data("axes", 1));
        foreach (string kind in kinds)
        {
            g.Node.Add(new NodeProto { Name = kind, OpType = kind, Input = { "x", "axes" }, Output = { kind } });
            g.Output.Add(ProtoBuilders.Value(kind));
        }
        byte[] bytes = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 18 } } }.ToByteArray();
        Dictionary<string, Tensor> ours = OnnxGraph.Build(OnnxReader.Parse(bytes, "empty.onnx")).Run(new Dictionary<string, Tensor> { ["x"] = new Tensor([2, 0, 3]) });
        using var session = new InferenceSession(bytes);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results =
            session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(Array.Empty<float>(), [2, 0, 3]))]);
        foreach (DisposableNamedOnnxValue r in results)
        {
            Assert.Equal(r.AsTensor<float>().Dimensions.ToArray(), ours[r.Name].Shape);
            // The mean of no values is undefined in ONNX: ONNX Runtime gives 0, ConvGL 0 / 0 (NaN, as NumPy and PyTorch).
            if (r.Name == "ReduceMean") Assert.All(r.AsEnumerable<float>(), v => Assert.Equal(0f, v));
            else Assert.Equal(r.AsEnumerable<float>().ToArray(), ours[r.Name].Data);
        }
        Assert.Equal(kinds.Length, results.Count);
    }

    [Fact]
    public void NormsSumsAndProducts_WorkedExamples()
    {
        // [[1 -2 3] [-4 5 -6]]: |x| row sums 6 and 15; column products -4 -10 -18; the product of all -720 (three negative factors).
        float[] a = [1, -2, 3, -4, 5, -6];
        Assert.Equal([6f, 15f], Run(a, [2, 3], ReduceKind.L1, 1));
        Assert.Equal([21f], Run(a, [2, 3], ReduceKind.L1, 0, 1));
        Assert.Equal([-4f, -10f, -18f], Run(a, [2, 3], ReduceKind.Prod, 0));
        Assert.Equal([-720f], Run(a, [2, 3], ReduceKind.Prod, 0, 1));
        // [[3 -4] [5 12]]: the rows' squares sum to 25 and 169, their L2 norms are 5 and 13.
        float[] b = [3, -4, 5, 12];
        Assert.Equal([25f, 169f], Run(b, [2, 2], ReduceKind.SumSquare, 1));
        Assert.Equal([5f, 13f], Run(b, [2, 2], ReduceKind.L2, 1));
        // L2 of (3e20, 4e20) is 5e20: the squares (1e41) are beyond float32, not the norm.
        Assert.Equal([5e20f], Run([3e20f, 4e20f], [2], ReduceKind.L2, 0));
        // [[1 2] [3 4]]: the logs of the row sums 3 and 7; a zero sum is -inf, a negative one NaN.
        Near([MathF.Log(3), MathF.Log(7)], Run([1, 2, 3, 4], [2, 2], ReduceKind.LogSum, 1));
        Assert.Equal([float.NegativeInfinity], Run([2, -2], [2], ReduceKind.LogSum, 0));
        Assert.True(float.IsNaN(Run([1, -2], [2], ReduceKind.LogSum, 0)[0]));
        // A NaN reaches the output of each kind.
        foreach (ReduceKind k in new[] { ReduceKind.L1, ReduceKind.L2, ReduceKind.SumSquare, ReduceKind.LogSum, ReduceKind.Prod })
            Assert.True(float.IsNaN(Run([1, float.NaN, 2], [3], k, 0)[0]), k.ToString());
        // No axes (noop_with_empty_axes): each value reduced alone, |x| for L2, x^2 for the sum of squares.
        Assert.Equal([3f, 2f], Reduce.Apply(new Tensor([2], [-3, 2]), ReduceKind.L2, [], keepDims: true).Data);
        Assert.Equal([9f, 4f], Reduce.Apply(new Tensor([2], [-3, 2]), ReduceKind.SumSquare, [], keepDims: true).Data);
    }

    [Fact]
    public void LogSumExp_WorkedExamples_LargeAndSpecialValues()
    {
        // log(e^0 + e^0 + e^0) = log 3; rows [0 ln 3]: log(1 + 3) = log 4.
        Near([MathF.Log(3)], Run([0, 0, 0], [3], ReduceKind.LogSumExp, 0));
        Near([MathF.Log(4)], Run([0, MathF.Log(3)], [2], ReduceKind.LogSumExp, 0));
        // e^1000 overflows even a double; the shift by the largest value gives 1000 + log 2.
        Near([1000f + MathF.Log(2)], Run([1000, 1000], [2], ReduceKind.LogSumExp, 0));
        Near([-1000f + MathF.Log(2)], Run([-1000, -1000], [2], ReduceKind.LogSumExp, 0));
        Assert.Equal([float.NegativeInfinity], Run([float.NegativeInfinity, float.NegativeInfinity], [2], ReduceKind.LogSumExp, 0));
        Assert.Equal([0f], Run([float.NegativeInfinity, 0], [2], ReduceKind.LogSumExp, 0));
        Assert.Equal([float.PositiveInfinity], Run([float.PositiveInfinity, 1], [2], ReduceKind.LogSumExp, 0));
        Assert.True(float.IsNaN(Run([float.PositiveInfinity, float.NaN], [2], ReduceKind.LogSumExp, 0)[0]));
        Assert.True(float.IsNaN(Run([float.NegativeInfinity, float.NaN], [2], ReduceKind.LogSumExp, 0)[0]));
    }

    [Fact]
    public void ArgMaxArgMin_WorkedExamples_TiesAndNaN()
    {
        // [[2 7 7] [5 1 5]]: along the rows the largest is first at 1 and 0, last at 2 and 2; the smallest at 0 and 1.
        var x = new Tensor([2, 3], [2, 7, 7, 5, 1, 5]);
        Assert.Equal([1f, 0f], Reduce.Arg(x, max: true, 1, keepDims: false, selectLast: false).Data);
        Assert.Equal([2f, 2f], Reduce.Arg(x, max: true, 1, keepDims: false, selectLast: true).Data);
        Assert.Equal([0f, 1f], Reduce.Arg(x, max: false, 1, keepDims: false, selectLast: true).Data);
        // Down the columns: max rows 1 0 0, min rows 0 1 1; keepdims leaves (1, 3).
        Tensor down = Reduce.Arg(x, max: true, 0, keepDims: true, selectLast: false);
        Assert.Equal([1, 3], down.Shape);
        Assert.Equal([1f, 0f, 0f], down.Data);
        Assert.Equal([0f, 1f, 1f], Reduce.Arg(x, max: false, 0, keepDims: false, selectLast: false).Data);
        // NumPy: np.argmax([1, nan, 3, nan]) == np.argmin(...) == 1, the first NaN; select_last_index: the last one.
        var n = new Tensor([4], [1, float.NaN, 3, float.NaN]);
        Assert.Equal([1f], Reduce.Arg(n, max: true, 0, keepDims: false, selectLast: false).Data);
        Assert.Equal([1f], Reduce.Arg(n, max: false, 0, keepDims: false, selectLast: false).Data);
        Assert.Equal([3f], Reduce.Arg(n, max: true, 0, keepDims: false, selectLast: true).Data);
        // Infinities are ordinary values.
        var inf = new Tensor([3], [float.NegativeInfinity, float.PositiveInfinity, 0]);
        Assert.Equal([1f], Reduce.Arg(inf, max: true, 0, keepDims: false, selectLast: false).Data);
        Assert.Equal([0f], Reduce.Arg(inf, max: false, 0, keepDims: false, selectLast: false).Data);
        Assert.Throws<ConvGLException>(() => Reduce.Arg(x, max: true, 2, keepDims: false, selectLast: false));
    }

    [Fact]
    public void ReduceModel_MatchesOnnxRuntime_OnEveryValue_IndicesAsInt64Outputs()
    {
        byte[] bytes = ReduceGraphs.ModelBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "reductions.onnx"));
        Tensor x = ReduceGraphs.Input(21);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x });
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(bytes, options);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results =
            session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x.Data, x.Shape))]);
        foreach (DisposableNamedOnnxValue r in results)
        {
            float[] want = r.Name is "am" or "an" ? r.AsEnumerable<long>().Select(v => (float)v).ToArray() : r.AsEnumerable<float>().ToArray();
            int[] shape = r.Name is "am" or "an" ? r.AsTensor<long>().Dimensions.ToArray() : r.AsTensor<float>().Dimensions.ToArray();
            Assert.Equal(shape, ours[r.Name].Shape);
            BranchyOpsTests.AssertClose(want, ours[r.Name].Data, $"value '{r.Name}'");
        }
        Assert.Equal(9, results.Count);
        Assert.Equal([1, 3, 6], ours["am"].Shape);
        Assert.Equal([1, 3, 5, 1], ours["an"].Shape);
    }

    [Fact]
    public void Int64Output_OnlyFromArgMaxOrArgMin()
    {
        // The same INT64 declaration on a ReduceMax output (floats) is still refused, naming the value.
        var g = new GraphProto { Name = "g" };
        g.Input.Add(ProtoBuilders.Value("x", 2, 3));
        g.Node.Add(new NodeProto { Name = "m", OpType = "ReduceMax", Input = { "x" }, Output = { "m" } });
        g.Output.Add(new ValueInfoProto { Name = "m", Type = new TypeProto { TensorType = new TensorTypeProto { ElemType = 7 } } });
        byte[] bytes = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
        var e = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(bytes, "m.onnx")));
        Assert.Contains("graph value 'm' has element type INT64", e.Message);
    }

    /// <summary>ReduceMean over axes [2, 2] (or [3, -1] on rank 4): NumPy and ONNX Runtime refuse an axis named twice,
    /// so ConvGL does too instead of reducing it once.</summary>
    [Theory]
    [InlineData(2L, 2L)]
    [InlineData(3L, -1L)]
    public void Reduce_AnAxisNamedTwice_IsRefused(long a, long b)
    {
        var g = new GraphProto { Name = "g" };
        g.Input.Add(ProtoBuilders.Value("x", 1, 2, 3, 4));
        g.Node.Add(new NodeProto { Name = "mean", OpType = "ReduceMean", Input = { "x" }, Output = { "m" }, Attribute = { ProtoBuilders.Ints("axes", a, b) } });
        g.Output.Add(ProtoBuilders.Value("m"));
        byte[] bytes = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
        var e = Assert.ThrowsAny<ConvGLException>(() =>
            OnnxGraph.Build(OnnxReader.Parse(bytes, "m.onnx")).Run(new Dictionary<string, Tensor> { ["x"] = new Tensor([1, 2, 3, 4]) }));
        Assert.Contains($"axes [{a}, {b}] name an axis twice", e.Message);
    }
}
