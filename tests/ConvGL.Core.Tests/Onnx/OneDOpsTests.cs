using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static ConvGL.Core.Tests.Onnx.ProtoBuilders;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>1D ops (Conv, ConvTranspose, MaxPool, AveragePool on (N, C, L)), run as the 2D ops of a one-row map. The
/// official 1D cases (node and pytorch-converted) are in OnnxCases; here ONNX Runtime judges what they leave out
/// (OneDGraphs), and the errors of attributes that mix 1D and 2D.</summary>
public class OneDOpsTests
{
    [Theory]
    [InlineData(1, 37)]
    [InlineData(2, 16)]
    [InlineData(3, 5)]
    public void ASignalNetwork_MatchesOnnxRuntime_OnEveryValue(int batch, int length)
    {
        byte[] bytes = OneDGraphs.Bytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "signal.onnx"));
        Tensor x = OneDGraphs.Input(batch, length);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x });
        // The batchnorm after the relu stays its own op (a 1D conv's is never folded).
        Assert.Contains(graph.Ops, op => op is BatchNormOp);
        using var session = new InferenceSession(bytes);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results =
            session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x.Data, x.Shape))]);
        float[] want = results.Single().AsEnumerable<float>().ToArray();
        int[] shape = results.Single().AsTensor<float>().Dimensions.ToArray();
        Tensor y = ours["y"];
        Assert.Equal(shape, y.Shape);
        Assert.Equal(3, y.Rank);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(y.Data[i] - want[i]) <= 1e-5 + 1e-5 * Math.Abs(want[i]), $"y[{i}] = {y.Data[i]}, ONNX Runtime {want[i]}");
    }

    /// <summary>A worked example: x = [1, 2, 3, 4, 5] through a 1D conv of [1, 0, -1] (correlation, as ONNX), pads [1, 1]:
    /// [0 - 2, 1 - 3, 2 - 4, 3 - 5, 4 - 0] = [-2, -2, -2, -2, 4]; a max pool k2 s2 of that: [-2, -2] (its last sample dropped).</summary>
    [Fact]
    public void AWorkedExample_IsTheSumsByHand()
    {
        var g = new GraphProto { Name = "g" };
        g.Input.Add(Value("x", 1, 1, 5));
        g.Initializer.Add(FloatData("w", [1f, 0f, -1f], 1, 1, 3));
        Node(g, "c", "Conv", ["x", "w"], "c", Ints("pads", 1, 1));
        Node(g, "p", "MaxPool", ["c"], "y", Ints("kernel_shape", 2), Ints("strides", 2));
        g.Output.Add(Value("y"));
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray(), "g.onnx"));
        Dictionary<string, Tensor> v = graph.Run(new Dictionary<string, Tensor> { ["x"] = new Tensor([1, 1, 5], [1f, 2f, 3f, 4f, 5f]) });
        Assert.Equal([1, 1, 5], v["c"].Shape);
        Assert.Equal([-2f, -2f, -2f, -2f, 4f], v["c"].Data);
        Assert.Equal([1, 1, 2], v["y"].Shape);
        Assert.Equal([-2f, -2f], v["y"].Data);
    }

    /// <summary>A 1D ConvTranspose whose weight is fed (its rank known only at run time) and whose one attribute is an
    /// output_shape of one entry: 1D from that, its pads worked out as ONNX does, equal to ONNX Runtime.</summary>
    [Fact]
    public void A1DConvTranspose_WithAFedWeightAndAnOutputShape_MatchesOnnxRuntime()
    {
        byte[] bytes = OneDGraphs.FedTransposeBytes();
        (Tensor x, Tensor w) = OneDGraphs.FedTransposeInputs();
        Dictionary<string, Tensor> ours = OnnxGraph.Build(OnnxReader.Parse(bytes, "g.onnx")).Run(new Dictionary<string, Tensor> { ["x"] = x, ["w"] = w });
        using var session = new InferenceSession(bytes);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(
            [NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x.Data, x.Shape)), NamedOnnxValue.CreateFromTensor("w", new DenseTensor<float>(w.Data, w.Shape))]);
        Assert.Equal([1, 3, 6], results.Single().AsTensor<float>().Dimensions.ToArray());
        Assert.Equal([1, 3, 6], ours["y"].Shape);
        float[] want = results.Single().AsEnumerable<float>().ToArray();
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(ours["y"].Data[i] - want[i]) <= 1e-5, $"y[{i}] = {ours["y"].Data[i]}, ONNX Runtime {want[i]}");
    }

    /// <summary>Attributes of one node that disagree on the dimensions, a 1D op fed a 2D map, 3D attributes: one error each,
    /// naming the node and the attribute.</summary>
    [Fact]
    public void MixedOr3DAttributes_AreOneErrorNamingTheAttribute()
    {
        var e = Assert.Throws<ConvGLException>(() => Load(g =>
        {
            g.Initializer.Add(FloatData("w", new float[12], 2, 2, 3));
            Node(g, "c", "Conv", ["x", "w"], "y", Ints("strides", 1, 1));
        }));
        Assert.Contains("node 'c' (Conv): attribute 'strides' has 2 entries, but the weight is 1D", e.Message);

        e = Assert.Throws<ConvGLException>(() => Load(g => Node(g, "p", "MaxPool", ["x"], "y", Ints("kernel_shape", 2), Ints("pads", 0, 0, 0, 0))));
        Assert.Contains("(MaxPool): attribute 'pads' has 4 entries, but attribute 'kernel_shape' is 1D", e.Message);

        e = Assert.Throws<ConvGLException>(() => Load(g => Node(g, "p", "AveragePool", ["x"], "y", Ints("kernel_shape", 2, 2, 2))));
        Assert.Contains("(AveragePool): attribute 'kernel_shape' has 3 entries, expected 2 or 1 (ConvGL runs 2D ops, [H, W], and 1D ops, [L])", e.Message);

        // An input of no declared shape: the op itself finds the 2D map.
        OnnxGraph graph = Load(g =>
        {
            g.Input[0] = Value("x");
            Node(g, "p", "MaxPool", ["x"], "y", Ints("kernel_shape", 2));
        });
        e = Assert.Throws<ConvGLException>(() => graph.Run(new Dictionary<string, Tensor> { ["x"] = new Tensor([1, 2, 4, 5]) }));
        Assert.Contains("(MaxPool): input must be (N, C, L) for a 1D pool, got (1, 2, 4, 5)", e.Message);
    }

    /// <summary>A model of signals is no stack (its maps are not pictures): one error saying where it runs.</summary>
    [Fact]
    public void ASignalModel_AsAStack_SaysItRunsAsAGraph()
    {
        var e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(OneDGraphs.Graph(), "signal"));
        Assert.Equal("signal.onnx: input 'x' is (?, 4, ?); a model used as a stack takes (1, C, H, W) with C = 1 or 3, or channels-last " +
                     "(1, H, W, C) (a model of signals, (N, C, L), runs as a graph: convgl onnx-test)", e.Message);
    }

    private static OnnxGraph Load(Action<GraphProto> build)
    {
        var g = new GraphProto { Name = "g" };
        g.Input.Add(Value("x", 1, 2, -1));
        g.Input[0].Type.TensorType.Shape.Dim[2] = new Dimension { DimParam = "L" };
        build(g);
        g.Output.Add(Value("y"));
        return OnnxGraph.Build(OnnxReader.Parse(new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray(), "g.onnx"));
    }
}
