using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using Google.Protobuf;
using static ConvGL.Core.Tests.Onnx.ProtoBuilders;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>A 1D network (a signal, (N, C, L)) built in code, shared by the Core and Gpu tests: what the official 1D cases
/// do not reach between them (auto_pad on a strided 1D conv, a 1D batchnorm that cannot fold, a grouped and strided 1D
/// transposed conv with asymmetric pads and output padding, ceil mode with padding counted, a dilated max pool).</summary>
internal static class OneDGraphs
{
    /// <summary>Opset 13, a free batch: x (N, 4, L) -> Conv1d 4->6 k5 s2 auto_pad SAME_UPPER + bias = a -> Relu = r ->
    /// BatchNormalization (after the relu: not folded) = b -> ConvTranspose1d 6->4 groups 2 k3 s2 pads [1, 0] output_padding
    /// [1] + bias = t -> AveragePool1d k3 s2 pads [1, 1] ceil_mode count_include_pad = p -> MaxPool1d k2 dilation 2 pads
    /// [1, 0] = y.</summary>
    public static byte[] Bytes(int seed = 31)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "signal" };
        g.Input.Add(Value("x", 1, 4, 1));
        g.Input[^1].Type.TensorType.Shape.Dim[0] = new Dimension { DimParam = "N" };
        g.Input[^1].Type.TensorType.Shape.Dim[2] = new Dimension { DimParam = "L" };
        g.Initializer.Add(FloatData("w1", R(rng, 6 * 4 * 5), 6, 4, 5));
        g.Initializer.Add(FloatData("b1", R(rng, 6), 6));
        g.Initializer.Add(FloatData("scale", R(rng, 6, 0.5f, 1.5f), 6));
        g.Initializer.Add(FloatData("shift", R(rng, 6), 6));
        g.Initializer.Add(FloatData("mean", R(rng, 6), 6));
        g.Initializer.Add(FloatData("var", R(rng, 6, 0.5f, 2f), 6));
        g.Initializer.Add(FloatData("w2", R(rng, 6 * 2 * 3), 6, 2, 3));
        g.Initializer.Add(FloatData("b2", R(rng, 4), 4));
        Node(g, "conv1d", "Conv", ["x", "w1", "b1"], "a", Ints("kernel_shape", 5), Ints("strides", 2), Str("auto_pad", "SAME_UPPER"));
        Node(g, "relu", "Relu", ["a"], "r");
        Node(g, "bn", "BatchNormalization", ["r", "scale", "shift", "mean", "var"], "b");
        Node(g, "up", "ConvTranspose", ["b", "w2", "b2"], "t", Int("group", 2), Ints("strides", 2), Ints("pads", 1, 0), Ints("output_padding", 1));
        Node(g, "avg", "AveragePool", ["t"], "p", Ints("kernel_shape", 3), Ints("strides", 2), Ints("pads", 1, 1), Int("ceil_mode", 1), Int("count_include_pad", 1));
        Node(g, "max", "MaxPool", ["p"], "y", Ints("kernel_shape", 2), Ints("dilations", 2), Ints("pads", 1, 0));
        g.Output.Add(Value("y"));
        return new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
    }

    /// <summary>x (1, 2, 5) and a fed weight w (2, 3, 3) -> ConvTranspose with output_shape [6] as its one attribute -> y
    /// (1, 3, 6): 1D known from the output_shape's length and the weight's rank only.</summary>
    public static byte[] FedTransposeBytes()
    {
        var g = new GraphProto { Name = "g" };
        g.Input.Add(Value("x", 1, 2, 5));
        g.Input.Add(Value("w", 2, 3, 3));
        Node(g, "up", "ConvTranspose", ["x", "w"], "y", Ints("output_shape", 6));
        g.Output.Add(Value("y"));
        return new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
    }

    public static (Tensor X, Tensor W) FedTransposeInputs()
    {
        var rng = new Random(3);
        return (new Tensor([1, 2, 5], R(rng, 10)), new Tensor([2, 3, 3], R(rng, 18)));
    }

    /// <summary>x (1, 2, L) -> Conv1d 2->2 k3 pads [1, 1] = c -> Add(c, x) = y: the input read again after a 1D op.</summary>
    public static byte[] ReadAgainBytes(int seed = 37)
    {
        var rng = new Random(seed);
        var g = new GraphProto { Name = "again" };
        g.Input.Add(Value("x", 1, 2, 1));
        g.Input[^1].Type.TensorType.Shape.Dim[2] = new Dimension { DimParam = "L" };
        g.Initializer.Add(FloatData("w", R(rng, 2 * 2 * 3), 2, 2, 3));
        Node(g, "conv1d", "Conv", ["x", "w"], "c", Ints("pads", 1, 1));
        Node(g, "add", "Add", ["c", "x"], "y");
        g.Output.Add(Value("y"));
        return new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
    }

    public static OnnxGraph Graph(int seed = 31) => OnnxGraph.Build(OnnxReader.Parse(Bytes(seed), "signal.onnx"));

    /// <summary>A signal of <paramref name="batch"/> x 4 channels x <paramref name="length"/> samples.</summary>
    public static Tensor Input(int batch, int length, int seed = 5)
    {
        var rng = new Random(seed);
        return new Tensor([batch, 4, length], R(rng, batch * 4 * length, -2f, 2f));
    }
}
