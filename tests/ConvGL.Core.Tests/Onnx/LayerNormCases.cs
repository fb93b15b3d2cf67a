using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using Google.Protobuf;
using static ConvGL.Core.Tests.Onnx.ProtoBuilders;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>The official LayerNormalization node cases and a small model of the new ops (shared by the Core and Gpu tests). Every one of them asks for
/// the Mean and InvStdDev outputs too; the cases run whole in OnnxCases.Supported (CPU and GPU), and here each is also
/// loaded with its node's extra outputs dropped and compared on Y (output_0.pb) alone: ONNX's own expected values.</summary>
internal static class LayerNormCases
{
    public static readonly string[] Names =
    [
        "test_layer_normalization_2d_axis0", "test_layer_normalization_2d_axis1", "test_layer_normalization_2d_axis_negative_1",
        "test_layer_normalization_2d_axis_negative_2", "test_layer_normalization_3d_axis0_epsilon", "test_layer_normalization_3d_axis1_epsilon",
        "test_layer_normalization_3d_axis2_epsilon", "test_layer_normalization_3d_axis_negative_1_epsilon",
        "test_layer_normalization_3d_axis_negative_2_epsilon", "test_layer_normalization_3d_axis_negative_3_epsilon",
        "test_layer_normalization_4d_axis0", "test_layer_normalization_4d_axis1", "test_layer_normalization_4d_axis2",
        "test_layer_normalization_4d_axis3", "test_layer_normalization_4d_axis_negative_1", "test_layer_normalization_4d_axis_negative_2",
        "test_layer_normalization_4d_axis_negative_3", "test_layer_normalization_4d_axis_negative_4", "test_layer_normalization_default_axis",
    ];

    /// <summary>Runs the case's Y-only graph with <paramref name="run"/> on every data set; the result as onnx-test reports it.</summary>
    public static OnnxTestResult Run(string name, OnnxTestCase.Runner run)
    {
        string dir = OnnxCases.Dir(name);
        OnnxModel m = OnnxReader.Load(Path.Combine(dir, "model.onnx"));
        Assert.Equal(["Y", "Mean", "InvStdDev"], m.Outputs.Select(o => o.Name));
        var yOnly = new OnnxModel
        {
            Source = m.Source, IrVersion = m.IrVersion, Opset = m.Opset, Producer = m.Producer, GraphName = m.GraphName,
            Inputs = m.Inputs, Outputs = [m.Outputs[0]], Initializers = m.Initializers,
            Nodes = m.Nodes.Select(n => n with { Outputs = [n.Outputs[0]] }).ToArray(),
        };
        OnnxGraph graph = OnnxGraph.Build(yOnly);
        double max = 0;
        foreach (string set in Directory.GetDirectories(dir, "test_data_set_*").Order(StringComparer.Ordinal))
        {
            var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            for (int i = 0; i < graph.Inputs.Count; i++)
                inputs[graph.Inputs[i].Name] = OnnxReader.ReadTensorFile(Path.Combine(set, $"input_{i}.pb")).Tensor;
            Tensor want = OnnxReader.ReadTensorFile(Path.Combine(set, "output_0.pb")).Tensor;
            Tensor got = run(graph, inputs)["Y"];
            if (!got.SameShape(want)) return new OnnxTestResult(name, false, double.NaN, $"Y {got.ShapeString}, expected {want.ShapeString}");
            (double error, int bad) = OnnxTestCase.Compare(got, want);
            max = Math.Max(max, error);
            if (bad >= 0) return new OnnxTestResult(name, false, max, $"Y[{bad}] = {got.Data[bad]}, expected {want.Data[bad]}");
        }
        return new OnnxTestResult(name, true, max, null);
    }

    /// <summary>A transformer-style block of the ops added with LayerNormalization, opset 18: x (2, 5, 8) ->
    /// LayerNormalization (axis -1, Scale and B of 8) -> Mish -> Celu (alpha 0.5) -> ThresholdedRelu (alpha 0.1) ->
    /// LayerNormalization (axis 1: rows of (5, 8); Scale (1, 8) broadcast over them, no B, epsilon 1e-3) -> Expand to
    /// [3, 1, 1, 1] (a new leading axis of 3) -> Tile [1, 1, 2, 3] -> y (3, 2, 10, 24).</summary>
    public static byte[] BlockBytes(int seed = 21)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "block" };
        g.Input.Add(Value("x", 2, 5, 8));
        g.Initializer.Add(FloatData("s1", R(rng, 8, 0.5f, 1.5f), 8));
        g.Initializer.Add(FloatData("b1", R(rng, 8), 8));
        g.Initializer.Add(FloatData("s2", R(rng, 8, -1.5f, 1.5f), 1, 8));
        g.Initializer.Add(Int64Data("shape", 3, 1, 1, 1));
        g.Initializer.Add(Int64Data("repeats", 1, 1, 2, 3));
        Node(g, "ln1", "LayerNormalization", ["x", "s1", "b1"], "a");
        Node(g, "mish", "Mish", ["a"], "m");
        Node(g, "celu", "Celu", ["m"], "c", new AttributeProto { Name = "alpha", Type = 1, F = 0.5f });
        Node(g, "thr", "ThresholdedRelu", ["c"], "t", new AttributeProto { Name = "alpha", Type = 1, F = 0.1f });
        Node(g, "ln2", "LayerNormalization", ["t", "s2"], "l", new AttributeProto { Name = "axis", Type = 2, I = 1 },
            new AttributeProto { Name = "epsilon", Type = 1, F = 1e-3f });
        Node(g, "expand", "Expand", ["l", "shape"], "e");
        Node(g, "tile", "Tile", ["e", "repeats"], "y");
        g.Output.Add(Value("y"));
        return new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 18 } } }.ToByteArray();
    }
}
