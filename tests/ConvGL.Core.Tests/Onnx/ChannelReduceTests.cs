using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using Google.Protobuf;
using static ConvGL.Core.Tests.Onnx.BranchyOpsTests;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>The `reduce_channels` layer (each pixel's values over the channels reduced to one), the `max`, `min` and `pow`
/// layers of two maps, and the broadcast of a single-channel map over another's channels (a spatial gate): worked
/// examples, the stack file's fields and errors and the writer's round trip, and ONNX ReduceMean / ReduceMax / ReduceMin /
/// ReduceSum over axis 1 and Max / Min / Pow of two maps imported and checked against ONNX Runtime (CBAM's blocks are in
/// <see cref="ArchitectureGraphs"/>).</summary>
public class ChannelReduceTests
{
    [Fact]
    public void ReduceChannels_WorkedExamples()
    {
        // Three channels of one row of three pixels; the middle pixel has a NaN in channel 1.
        Tensor x = Tensor.Chw(3, 1, 3, [1f, -2f, 0f, 4f, float.NaN, 0.5f, -3f, 5f, 0.25f]);
        float[] Of(ReduceKind k) => new ChannelReduceLayer(k).Forward(x).Data;
        Assert.Equal([1, 1, 3], new ChannelReduceLayer(ReduceKind.Mean).Forward(x).Shape);
        Assert.Equal(2f / 3f, Of(ReduceKind.Mean)[0], 6);
        Assert.Equal(0.25f, Of(ReduceKind.Mean)[2], 6);
        Assert.Equal([4f, float.NaN, 0.5f], Of(ReduceKind.Max));
        Assert.Equal([-3f, float.NaN, 0f], Of(ReduceKind.Min));
        Assert.Equal([2f, float.NaN, 0.75f], Of(ReduceKind.Sum));
        Assert.True(float.IsNaN(Of(ReduceKind.Mean)[1]));
        Assert.Equal(1, new ChannelReduceLayer(ReduceKind.Max).OutputChannels(17, out string? error));
        Assert.Null(error);
        Assert.Throws<ArgumentException>(() => new ChannelReduceLayer(ReduceKind.L2));
    }

    [Fact]
    public void TwoMapLayers_Broadcast_WorkedExamples()
    {
        Tensor a = Tensor.Chw(2, 1, 2, [1f, 2f, 3f, 4f]);
        Tensor gate = Tensor.Chw(1, 1, 2, [10f, 0.5f]);
        // A one-channel map scales every channel pixel by pixel (CBAM's spatial attention), in either order.
        Assert.Equal([10f, 1f, 30f, 2f], new MulLayer().Forward([a, gate]).Data);
        Assert.Equal([10f, 1f, 30f, 2f], new MulLayer().Forward([gate, a]).Data);
        Assert.Equal([2, 1, 2], new MulLayer().Forward([gate, a]).Shape);
        Tensor level = Tensor.Chw(1, 1, 2, [2.5f, 2.5f]);
        Assert.Equal([2.5f, 2.5f, 3f, 4f], new ElementwiseLayer(BinaryKind.Max).Forward([a, level]).Data);
        Assert.Equal([1f, 2f, 2.5f, 2.5f], new ElementwiseLayer(BinaryKind.Min).Forward([level, a]).Data);
        Assert.Equal([9f, -1.5f, 7f, -3.5f], new ElementwiseLayer(BinaryKind.Sub).Forward([gate, a]).Data);
        // Per channel (C, 1, 1): squares of channel 0, square roots of channel 1.
        float[] p = new ElementwiseLayer(BinaryKind.Pow).Forward([a, Tensor.Chw(2, 1, 1, [2f, 0.5f])]).Data;
        Assert.Equal([1f, 4f], p[..2]);
        Assert.Equal(MathF.Sqrt(3f), p[2], 6);
        Assert.Equal(2f, p[3], 6);
        // One value for everything: (1, 1, 1).
        Assert.Equal([1f, 2f, 2f, 2f], new ElementwiseLayer(BinaryKind.Min).Forward([a, Tensor.Chw(1, 1, 1, [2f])]).Data);
        // A NaN on either side wins a max or a min (NumPy's maximum; ONNX Max).
        Assert.True(float.IsNaN(new ElementwiseLayer(BinaryKind.Max).Forward([a, Tensor.Chw(1, 1, 1, [float.NaN])]).Data[3]));
        var e = Assert.Throws<ConvGLException>(() => new MulLayer().Forward([a, Tensor.Chw(3, 1, 2)]));
        Assert.Equal("mul needs two inputs of one channel count, or one of them a single channel, got 2 and 3", e.Message);
        e = Assert.Throws<ConvGLException>(() => new ElementwiseLayer(BinaryKind.Pow).Forward([a, Tensor.Chw(1, 1, 3)]));
        Assert.Equal("pow needs two inputs of one size, or one of them 1x1 (one value per channel), got 2x1 and 3x1", e.Message);
        Assert.Throws<ArgumentException>(() => new ElementwiseLayer(BinaryKind.Add));
    }

    /// <summary>A stack file of Gabor-like edges pooled over their orientations: reduce_channels max and mean, the max and
    /// min of two maps, a pow, and the mean map as a gate over the bank; each equal to the same arithmetic written out here,
    /// and again after the writer's round trip.</summary>
    [Fact]
    public void StackFile_ReduceChannels_AndTwoMapLayers()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("pool.json"), """
            {"input": "gray", "layers": [
              {"type": "conv", "name": "bank", "kernels": ["sobel-x", "sobel-y", "scharr-x", "scharr-y"], "border": "reflect"},
              {"type": "abs", "name": "energy"},
              {"type": "reduce_channels", "name": "strongest", "op": "max"},
              {"type": "reduce_channels", "name": "mean", "inputs": ["energy"], "op": "mean"},
              {"type": "max", "inputs": ["energy", "mean"]},
              {"type": "min", "inputs": ["strongest", "mean"]},
              {"type": "pow", "inputs": ["energy", "mean"]},
              {"type": "mul", "inputs": ["mean", "energy"]},
              {"type": "reduce_channels", "inputs": ["bank"], "op": "sum"},
              {"type": "reduce_channels", "inputs": ["bank"], "op": "min"}
            ]}
            """);
        Stack stack = StackFile.Load(dir.File("pool.json"));
        Assert.Equal(["conv", "abs", "reduce_channels", "reduce_channels", "max", "min", "pow", "mul", "reduce_channels", "reduce_channels"], stack.Layers.Select(l => l.Type));
        Tensor x = Random(1, 9, 13, 4);
        StackResult r = StackRunner.Run(stack, x);
        Tensor bank = r.Outputs[0], energy = r.Outputs[1];
        int plane = 9 * 13;
        float[] At(Tensor t, int p) => Enumerable.Range(0, t.C).Select(c => t.Data[c * plane + p]).ToArray();
        for (int p = 0; p < plane; p++)
        {
            float[] e = At(energy, p), b = At(bank, p);
            float mean = (float)e.Average(v => (double)v);
            Assert.Equal(e.Max(), r.Outputs[2].Data[p]);
            Assert.Equal(mean, r.Outputs[3].Data[p], 5);
            for (int c = 0; c < 4; c++)
            {
                Assert.Equal(MathF.Max(e[c], r.Outputs[3].Data[p]), r.Outputs[4].Data[c * plane + p]);
                float pow = MathF.Pow(e[c], r.Outputs[3].Data[p]);
                Assert.True(Math.Abs(pow - r.Outputs[6].Data[c * plane + p]) <= 1e-6 * Math.Max(1, pow), $"pow at {c}, {p}: {r.Outputs[6].Data[c * plane + p]} against {pow}");
                Assert.Equal(e[c] * r.Outputs[3].Data[p], r.Outputs[7].Data[c * plane + p]);
            }
            Assert.Equal(MathF.Min(e.Max(), r.Outputs[3].Data[p]), r.Outputs[5].Data[p]);
            Assert.Equal((float)b.Sum(v => (double)v), r.Outputs[8].Data[p], 5);
            Assert.Equal(b.Min(), r.Outputs[9].Data[p]);
        }
        Assert.Equal([1, 9, 13], r.Outputs[5].Shape);
        Assert.Equal([4, 9, 13], r.Outputs[7].Shape);
        StackWriter.Write(dir.File("back.json"), stack);
        Assert.Contains("\"op\": \"sum\"", File.ReadAllText(dir.File("back.json")));
        StackResult back = StackRunner.Run(StackFile.Load(dir.File("back.json")), x);
        for (int i = 0; i < r.Outputs.Count; i++) Assert.Equal(r.Outputs[i].Data, back.Outputs[i].Data);
    }

    /// <summary>One map and a number (<c>"value"</c>): x^2, max(x, 0.5), x - 1; written back with its value; a value with two
    /// inputs, or neither, is one error naming the field.</summary>
    [Fact]
    public void AMapAndANumber_WorkedExamples_AndStackFile()
    {
        Tensor x = Tensor.Chw(1, 1, 4, [-2f, 0.25f, 1f, 3f]);
        Assert.Equal([4f, 0.0625f, 1f, 9f], new ElementwiseLayer(BinaryKind.Pow, 2f).Forward(x).Data);
        Assert.Equal([0.5f, 0.5f, 1f, 3f], new ElementwiseLayer(BinaryKind.Max, 0.5f).Forward(x).Data);
        Assert.Equal([-3f, -0.75f, 0f, 2f], new ElementwiseLayer(BinaryKind.Sub, 1f).Forward(x).Data);
        Assert.True(float.IsNaN(new ElementwiseLayer(BinaryKind.Pow, 0.5f).Forward(x).Data[0])); // sqrt of -2, as C's pow
        Assert.Equal(1, new ElementwiseLayer(BinaryKind.Pow, 2f).InputCount);
        using var dir = new TempDir();
        File.WriteAllText(dir.File("v.json"), """
            {"input": "gray", "layers": [
              {"type": "conv", "name": "dx", "kernels": ["sobel-x"]},
              {"type": "pow", "value": 2},
              {"type": "conv", "name": "dy", "inputs": ["input"], "kernels": ["sobel-y"]},
              {"type": "pow", "value": 2},
              {"type": "max", "inputs": [1, 3]},
              {"type": "min", "value": 4.5},
              {"type": "div", "inputs": [5], "value": 4.5}
            ]}
            """);
        Stack stack = StackFile.Load(dir.File("v.json"));
        Tensor image = Random(1, 7, 9, 11);
        StackResult r = StackRunner.Run(stack, image);
        for (int i = 0; i < image.Length; i++)
        {
            float gx = r.Outputs[0].Data[i], gy = r.Outputs[2].Data[i];
            Assert.Equal(gx * gx, r.Outputs[1].Data[i], 5);
            Assert.Equal(MathF.Min(MathF.Max(gx * gx, gy * gy), 4.5f) / 4.5f, r.Outputs[6].Data[i], 5);
        }
        StackWriter.Write(dir.File("back.json"), stack);
        Assert.Contains("\"value\": 4.5", File.ReadAllText(dir.File("back.json")));
        StackResult back = StackRunner.Run(StackFile.Load(dir.File("back.json")), image);
        Assert.Equal(r.Outputs[6].Data, back.Outputs[6].Data);
        var e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""{"input": "gray", "layers": [{"type": "pow", "inputs": ["input", "input"], "value": 2}]}""", "s.json"));
        Assert.Equal("s.json: layers[0] (pow) field 'value': a pow of a map and a number reads one map, but \"inputs\" names 2; drop \"value\" for two maps, or name one input", e.Message);
        e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""{"input": "gray", "layers": [{"type": "max"}]}""", "s.json"));
        Assert.Equal("s.json: layers[0] (max) field 'inputs': a max reads two maps (\"inputs\": [a, b]), or one map and a number (\"value\")", e.Message);
        e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""{"input": "gray", "layers": [{"type": "min", "value": "0"}]}""", "s.json"));
        Assert.Contains("field 'value': must be a finite number", e.Message);
        // add and mul take two maps: the error says which layer adds or multiplies by a number.
        e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""{"input": "gray", "layers": [{"type": "add", "value": 1}]}""", "s.json"));
        Assert.Equal("s.json: layers[0] (add) field 'value': an add takes two maps; for x + k use {\"type\": \"sub\", \"value\": -k}", e.Message);
        e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""{"input": "gray", "layers": [{"type": "mul", "value": 2}]}""", "s.json"));
        Assert.StartsWith("s.json: layers[0] (mul) field 'value': a mul takes two maps; for x * k use {\"type\": \"div\", \"value\": 1/k}", e.Message);
    }

    /// <summary>ONNX Pow by a stored 2 and 0.5, Max and Min against a stored value (in either order): pow, max and min
    /// layers with the value, equal to ONNX Runtime; k^x and a per-channel constant are one error naming the node.</summary>
    [Fact]
    public void PowMaxMinByAStoredValue_ImportAndMatchOnnxRuntime()
    {
        var g = new GraphProto { Name = "g" };
        ProtoBuilders.AddImageInput(g, 3);
        var rng = new Random(13);
        g.Initializer.Add(ProtoBuilders.FloatData("w", ProtoBuilders.R(rng, 4 * 3 * 9), 4, 3, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("two", [2f]));
        g.Initializer.Add(ProtoBuilders.FloatData("half", [0.5f], 1, 1, 1, 1));
        g.Initializer.Add(ProtoBuilders.FloatData("cap", [0.3f]));
        ProtoBuilders.Node(g, "conv", "Conv", ["x", "w"], "c", ProtoBuilders.Ints("pads", 1, 1, 1, 1));
        ProtoBuilders.Node(g, "square", "Pow", ["c", "two"], "sq");
        ProtoBuilders.Node(g, "root", "Pow", ["sq", "half"], "rt");
        ProtoBuilders.Node(g, "floor", "Max", ["half", "c"], "mx");
        ProtoBuilders.Node(g, "ceiling", "Min", ["mx", "cap"], "y");
        g.Output.Add(ProtoBuilders.Value("rt"));
        g.Output.Add(ProtoBuilders.Value("y"));
        byte[] bytes = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "k.onnx")), "k");
        Assert.Equal(["conv", "pow", "pow", "max", "min"], stack.Layers.Select(l => l.Type));
        Assert.Equal([2f, 0.5f, 0.5f, 0.3f], stack.Layers.OfType<ElementwiseLayer>().Select(l => l.Value!.Value));
        Tensor x = Random(3, 6, 7, 5);
        string[] values = ["c", "sq", "rt", "mx", "y"];
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, 6, 7), values);
        StackResult r = StackRunner.Run(stack, x);
        for (int i = 0; i < values.Length; i++) AssertClose(ort[values[i]], r.Outputs[i].Data, values[i]);

        foreach ((string a, string b, string message) in new[]
        {
            ("two", "c", "in a stack Pow of a constant by a map (k^x) is not supported (x^k is)"),
            ("c", "perchannel", "in a stack Pow of a map and a constant takes a single value, got a constant of (1, 4, 1, 1)"),
        })
        {
            var h = new GraphProto { Name = "h" };
            ProtoBuilders.AddImageInput(h, 3);
            h.Initializer.Add(ProtoBuilders.FloatData("w", ProtoBuilders.R(rng, 4 * 3), 4, 3, 1, 1));
            h.Initializer.Add(ProtoBuilders.FloatData("two", [2f]));
            h.Initializer.Add(ProtoBuilders.FloatData("perchannel", [1f, 2f, 3f, 4f], 1, 4, 1, 1));
            ProtoBuilders.Node(h, "conv", "Conv", ["x", "w"], "c");
            ProtoBuilders.Node(h, "p", "Pow", [a, b], "y");
            h.Output.Add(ProtoBuilders.Value("y"));
            byte[] hb = new ModelProto { IrVersion = 8, Graph = h, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
            var e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(hb, "p.onnx")), "p"));
            Assert.StartsWith($"p.onnx: node 'p' (Pow): {message}", e.Message);
        }
    }

    [Theory]
    [InlineData("""{"type": "reduce_channels"}""", "layers[0] (reduce_channels) field 'op': missing: mean, max, min or sum")]
    [InlineData("""{"type": "reduce_channels", "op": "avg"}""", "layers[0] (reduce_channels) field 'op': unknown 'avg'; use mean, max, min or sum")]
    [InlineData("""{"type": "reduce_channels", "op": 2}""", "layers[0] (reduce_channels) field 'op': must be a string, got number; use mean, max, min or sum")]
    [InlineData("""{"type": "reduce_channels", "op": "max", "size": 2}""", "layers[0] (reduce_channels)")]
    [InlineData("""{"type": "reduce_channel", "op": "max"}""", "did you mean 'reduce_channels'")]
    [InlineData("""{"type": "conv", "kernels": ["box:3", "sobel-x"]}, {"type": "pow", "inputs": [0, "input"]}, {"type": "max", "inputs": [0, 1]}""", "")]
    public void StackFile_Errors(string layers, string message)
    {
        string json = $$"""{"input": "rgb", "layers": [{{layers}}]}""";
        if (message.Length == 0)
        {
            // 2 maps of conv 0 against the 3 input channels: neither is one channel.
            var plan = Assert.Throws<ConvGLException>(() => StackFile.Parse(json, "s.json"));
            Assert.Contains("pow needs two inputs of one channel count, or one of them a single channel, got 6 and 3", plan.Message);
            return;
        }
        var e = Assert.Throws<ConvGLException>(() => StackFile.Parse(json, "s.json"));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("s.json", e.Message);
    }

    /// <summary>ONNX Max, Min and Pow of two maps (one of them a single channel broadcast over the other's four, as ONNX
    /// broadcasts (1, 1, H, W) against (1, 4, H, W)), ReduceSum and ReduceMin over the channels with keepdims: max, min,
    /// pow and reduce_channels layers, equal to ONNX Runtime on every value.</summary>
    [Theory]
    [InlineData(7, 9, 13)]
    [InlineData(12, 5, 18)]
    public void MaxMinPowAndChannelReductions_ImportAndMatchOnnxRuntime(int h, int w, long opset)
    {
        var g = new GraphProto { Name = "g" };
        ProtoBuilders.AddImageInput(g, 3);
        var rng = new Random(12);
        g.Initializer.Add(ProtoBuilders.FloatData("w1", ProtoBuilders.R(rng, 4 * 3 * 9), 4, 3, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("w2", ProtoBuilders.R(rng, 4 * 3), 4, 3, 1, 1));
        g.Initializer.Add(ProtoBuilders.FloatData("w3", ProtoBuilders.R(rng, 3), 1, 3, 1, 1));
        g.Initializer.Add(ProtoBuilders.Int64Data("axis1", 1));
        ProtoBuilders.Node(g, "conv1", "Conv", ["x", "w1"], "c1", ProtoBuilders.Ints("pads", 1, 1, 1, 1));
        ProtoBuilders.Node(g, "relu", "Relu", ["c1"], "r");
        ProtoBuilders.Node(g, "conv2", "Conv", ["x", "w2"], "c2");
        ProtoBuilders.Node(g, "gate", "Sigmoid", ["c2"], "s");
        ProtoBuilders.Node(g, "conv3", "Conv", ["x", "w3"], "c3");
        ProtoBuilders.Node(g, "larger", "Max", ["r", "s"], "mx");
        ProtoBuilders.Node(g, "capped", "Min", ["c3", "mx"], "mn");
        ProtoBuilders.Node(g, "power", "Pow", ["s", "r"], "pw");
        NodeProto Reduce(string name, string op, string x, string y) => opset >= 18 || op == "ReduceSum"
            ? ProtoBuilders.Node(g, name, op, [x, "axis1"], y, ProtoBuilders.Int("keepdims", 1))
            : ProtoBuilders.Node(g, name, op, [x], y, ProtoBuilders.Ints("axes", 1), ProtoBuilders.Int("keepdims", 1));
        Reduce("total", "ReduceSum", "pw", "sum");
        Reduce("least", "ReduceMin", "mn", "y");
        g.Output.Add(ProtoBuilders.Value("y"));
        byte[] bytes = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = opset } } }.ToByteArray();
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "two.onnx")), "two");
        Assert.Equal(["conv", "relu", "conv", "sigmoid", "conv", "max", "min", "pow", "reduce_channels", "reduce_channels"], stack.Layers.Select(l => l.Type));
        Assert.Equal([ReduceKind.Sum, ReduceKind.Min], stack.Layers.OfType<ChannelReduceLayer>().Select(l => l.Kind));
        Tensor x = Random(3, h, w, h * w);
        string[] values = ["c1", "r", "c2", "s", "c3", "mx", "mn", "pw", "sum", "y"];
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, h, w), values);
        StackResult r = StackRunner.Run(stack, x);
        for (int i = 0; i < values.Length; i++) AssertClose(ort[values[i]], r.Outputs[i].Data, $"{h}x{w} {values[i]} ({stack.Layers[i].Type})");
        Assert.Equal([1, h, w], r.Outputs[^1].Shape);
    }

    /// <summary>From a report-only review: a channel reduction without keepdims that is a graph output (or the `#` target)
    /// is the reduce_channels layer (it was dropped: the stack ended on the layer before); read by a Mul as the second input
    /// it is the keepdims error (it said "a constant"); a reduction with noop_with_empty_axes and no axes is no layer.</summary>
    [Fact]
    public void SqueezedChannelReductions_AsOutputs_AsSecondInputs_AndNoopReductions()
    {
        byte[] Model(Action<GraphProto> build, long opset = 13)
        {
            var g = new GraphProto { Name = "g" };
            ProtoBuilders.AddImageInput(g, 3);
            ProtoBuilders.Node(g, "relu", "Relu", ["x"], "r");
            build(g);
            return new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = opset } } }.ToByteArray();
        }
        byte[] output = Model(g =>
        {
            g.Initializer.Add(ProtoBuilders.Int64Data("axis1", 1));
            ProtoBuilders.Node(g, "rm", "ReduceMax", ["r"], "y", ProtoBuilders.Ints("axes", 1), ProtoBuilders.Int("keepdims", 0));
            ProtoBuilders.Node(g, "un", "Unsqueeze", ["y", "axis1"], "z");
            g.Output.Add(ProtoBuilders.Value("y"));
            g.Output.Add(ProtoBuilders.Value("z"));
        });
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(output, "r.onnx"));
        Stack stack = OnnxStack.FromGraph(graph, "r");
        Assert.Equal(["relu", "reduce_channels"], stack.Layers.Select(l => l.Type));
        Assert.Equal("rm", stack.Layers[^1].Label);
        Tensor x = Random(3, 4, 5, 2);
        AssertClose(RunOnnxRuntime(output, x.Reshape(1, 3, 4, 5), ["y"])["y"], StackRunner.Run(stack, x).Outputs[^1].Data, "squeezed max as an output");
        Stack until = OnnxStack.FromGraph(graph, "r", until: ["rm"]);
        Assert.Equal(["relu", "reduce_channels"], until.Layers.Select(l => l.Type));

        byte[] second = Model(g =>
        {
            ProtoBuilders.Node(g, "rm", "ReduceMean", ["r"], "m", ProtoBuilders.Ints("axes", 1), ProtoBuilders.Int("keepdims", 0));
            ProtoBuilders.Node(g, "mul", "Mul", ["r", "m"], "y");
            g.Output.Add(ProtoBuilders.Value("y"));
        });
        var e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(second, "s.onnx")), "s"));
        Assert.StartsWith("s.onnx: node 'mul' (Mul): in a stack a reduction over the channels must keep its axis (keepdim=True) or be unsqueezed back at axis 1", e.Message);

        byte[] noop = Model(g =>
        {
            ProtoBuilders.Node(g, "nothing", "ReduceSum", ["r"], "n", ProtoBuilders.Int("keepdims", 1), ProtoBuilders.Int("noop_with_empty_axes", 1));
            ProtoBuilders.Node(g, "tanh", "Tanh", ["n"], "y");
            g.Output.Add(ProtoBuilders.Value("y"));
        });
        Stack identity = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(noop, "n.onnx")), "n");
        Assert.Equal(["relu", "tanh"], identity.Layers.Select(l => l.Type));
        AssertClose(RunOnnxRuntime(noop, x.Reshape(1, 3, 4, 5), ["y"])["y"], StackRunner.Run(identity, x).Outputs[^1].Data, "noop reduction");
    }

    /// <summary>A channel reduction without keepdims must be unsqueezed back at axis 1 (the maps are (C, H, W)); a
    /// reduction over other axes than [1] or [2, 3] is one error naming the node too.</summary>
    [Theory]
    [InlineData("Relu", new long[] { 1 }, "in a stack a reduction over the channels must keep its axis (keepdim=True) or be unsqueezed back at axis 1")]
    [InlineData("Unsqueeze", new long[] { 1, 2 }, "in a stack a reduction runs as a global pool (ReduceMean or ReduceMax over axes [2, 3] of (N, C, H, W)) or over the channels (ReduceMean, ReduceMax, ReduceMin or ReduceSum over axis 1); ReduceMax over axes [1, 2] of a rank-4 value is not supported")]
    public void ChannelReductionForms_AStackCannotHold_AreOneError(string next, long[] axes, string message)
    {
        var g = new GraphProto { Name = "g" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Initializer.Add(ProtoBuilders.Int64Data("axis1", 1));
        ProtoBuilders.Node(g, "pool", "ReduceMax", ["x"], "m", ProtoBuilders.Ints("axes", axes), ProtoBuilders.Int("keepdims", 0));
        ProtoBuilders.Node(g, "after", next, next == "Relu" ? ["m"] : ["m", "axis1"], "y");
        g.Output.Add(ProtoBuilders.Value("y"));
        byte[] bytes = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
        var e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "pool.onnx")), "pool"));
        Assert.StartsWith($"pool.onnx: node '{(next == "Relu" ? "after" : "pool")}' ({(next == "Relu" ? "Relu" : "ReduceMax")}): {message}", e.Message);
    }
}

/// <summary>CBAM's two forms (<see cref="ArchitectureGraphs.Cbam"/>) as layers: the channel attention's pools, shared MLP
/// and gate, the spatial attention's two channel reductions (named after their Reduce nodes, in the model's order), the
/// 7x7 conv and the one-channel gate over the eight maps.</summary>
public class CbamImportTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Cbam_ImportsAsChannelReductionsAndASpatialGate(bool squeezed)
    {
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(ArchitectureGraphs.Cbam(13, squeezed), "cbam.onnx")), "cbam");
        Assert.Equal(["conv", "relu", "globalavgpool", "globalmaxpool", "conv", "relu", "conv", "conv", "relu", "conv", "add", "sigmoid", "mul",
                      "reduce_channels", "reduce_channels", "concat", "conv", "sigmoid", "mul", "add", "relu"], stack.Layers.Select(l => l.Type));
        var pools = stack.Layers.OfType<ChannelReduceLayer>().ToArray();
        string prefix = squeezed ? "/cbam/spatial_attention/compress/" : "/cbam/spatial_attention/";
        Assert.Equal(squeezed ? [prefix + "ReduceMax", prefix + "ReduceMean"] : [prefix + "ReduceMean", prefix + "ReduceMax"], pools.Select(p => p.Label));
        Assert.Equal(squeezed ? [ReduceKind.Max, ReduceKind.Mean] : [ReduceKind.Mean, ReduceKind.Max], pools.Select(p => p.Kind));
        StackResult r = StackRunner.Run(stack, Random(3, 10, 12, 3));
        Assert.Equal([1, 10, 12], r.Outputs[17].Shape);
        Assert.Equal([8, 10, 12], r.Outputs[18].Shape);
    }
}
