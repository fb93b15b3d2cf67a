using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu.Onnx;
using Google.Protobuf;

namespace ConvGL.Gpu.Tests.Onnx;

/// <summary>What the GPU graph runner (`onnx-test --device gpu`) took only on the CPU before: ONNX's GroupNormalization,
/// reductions over axes with kept axes between them (MeanVarianceNormalization's (0, 2, 3)), and empty tensors (a
/// dimension of 0: only their shapes travel). Each against the CPU reference's graph run.</summary>
[Collection(GlCollection.Name)]
public sealed class GraphRunnerGpuTests(GlFixture fixture)
{
    private static void AssertClose(Tensor want, Tensor got, string what, double tolerance)
    {
        Assert.True(want.SameShape(got), $"{what}: CPU {want.ShapeString}, GPU {got.ShapeString}");
        for (int i = 0; i < want.Length; i++)
        {
            float w = want.Data[i], g = got.Data[i];
            if (!float.IsFinite(w)) Assert.True(w.Equals(g), $"{what}: element {i} is {g}, the reference {w}");
            else Assert.True(Math.Abs((double)w - g) <= tolerance * (1 + Math.Abs((double)w)), $"{what}: element {i} is {g:R}, the reference {w:R}");
        }
    }

    private static OnnxGraph Graph(ModelProto m) => OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx"));

    private static ModelProto Model(long opset, NodeProto[] nodes, ValueInfoProto[] inputs, params TensorProto[] initializers)
    {
        var graph = new GraphProto { Name = "g", Input = { inputs }, Output = { ProtoBuilders.Value(nodes[^1].Output[0]) } };
        graph.Node.AddRange(nodes);
        graph.Initializer.AddRange(initializers);
        return new ModelProto { IrVersion = 8, Graph = graph, OpsetImport = { new OperatorSetIdProto { Version = opset } } };
    }

    /// <summary>A float input; -1 is a named (dynamic) dimension.</summary>
    private static ValueInfoProto Input(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        for (int d = 0; d < dims.Length; d++)
            shape.Dim.Add(dims[d] < 0 ? new Dimension { DimParam = $"d{d}" } : new Dimension { DimValue = dims[d] });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TensorTypeProto { ElemType = 1, Shape = shape } } };
    }

    private static NodeProto Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var n = new NodeProto { Name = output, OpType = op, Input = { inputs }, Output = { output } };
        n.Attribute.AddRange(attributes);
        return n;
    }

    /// <summary>GroupNormalization at opset 18 (scale and bias per group) and 21 (per channel): one image of rank 4 runs
    /// straight through GpuGroupNorm, batches and other ranks image by image; groups' runs of values below and above the
    /// statistics pass's 256 (both of GpuGroupNorm's paths); a second run with another batch reuses the op.</summary>
    [Theory]
    [InlineData(18L)]
    [InlineData(21L)]
    public void GroupNormalization_MatchesTheCpu_EveryRankAndBatch(long opset)
    {
        var rng = new Random(2026_12_06);
        int cases = 0;
        foreach ((int[] shape, int groups) in new[]
        {
            (new[] { 1, 8, 9, 13 }, 2), ([1, 8, 3, 5], 4), ([2, 8, 5, 7], 2), ([1, 6, 40], 3), ([3, 4, 2, 3, 5], 1), ([1, 12, 20, 20], 12),
            ([2, 4, 33], 4), ([1, 16, 16, 16], 4),
        })
        {
            int c = shape[1], per = opset < 21 ? groups : c;
            TensorProto scale = ProtoBuilders.FloatData("scale", ProtoBuilders.R(rng, per, -2f, 2f), per);
            TensorProto bias = ProtoBuilders.FloatData("bias", ProtoBuilders.R(rng, per), per);
            long[] dims = [-1, .. shape[1..].Select(d => (long)d)];
            OnnxGraph graph = Graph(Model(opset, [Node("GroupNormalization", ["x", "scale", "bias"], "y", ProtoBuilders.Int("num_groups", groups),
                new AttributeProto { Name = "epsilon", Type = 1, F = 1e-3f })], [Input("x", dims)], scale, bias));
            using var runner = new GpuOnnxRunner(fixture.Context, graph);
            foreach (int batch in new[] { shape[0], shape[0] + 1 })
            {
                int[] s = [batch, .. shape[1..]];
                Tensor x = Parity.Random(rng, 3f, 1, 1, s.Aggregate(1, (p, d) => p * d)).Reshape(s);
                for (int i = 0; i < x.Length; i += 7) x.Data[i] += 40f; // far from zero: the variance of a sum of squares would lose it
                var input = new Dictionary<string, Tensor> { ["x"] = x };
                AssertClose(graph.Run(input)["y"], runner.Run(input)["y"], $"opset {opset}, ({string.Join(", ", s)}) in {groups} groups", 1e-4);
                cases++;
            }
        }
        Assert.Equal(16, cases);
    }

    /// <summary>Every reduction over every subset of axes of rank-3 to rank-5 maps, keepdims both ways: subsets with a
    /// kept axis between reduced ones go through a strided copy that puts the reduced axes last; the rest reduce in
    /// place as before.</summary>
    [Fact]
    public void Reduce_AxesWithKeptAxesBetween_MatchTheCpu()
    {
        var rng = new Random(99);
        string[] kinds = ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceProd", "ReduceLogSum"];
        int apart = 0, cases = 0;
        foreach (int[] shape in new[] { new[] { 3, 4, 5 }, [2, 3, 4, 5], [3, 1, 4, 2], [2, 3, 2, 3, 4], [5, 2, 70] })
            for (int mask = 1; mask < 1 << shape.Length; mask++)
            {
                long[] axes = Enumerable.Range(0, shape.Length).Where(d => (mask >> d & 1) != 0).Select(d => (long)(rng.Next(2) == 0 ? d : d - shape.Length)).ToArray();
                string kind = kinds[cases % kinds.Length];
                bool keep = rng.Next(2) == 0;
                // ReduceSum takes its axes as an input from opset 13; the others as an attribute until 18.
                NodeProto node = kind == "ReduceSum"
                    ? Node(kind, ["x", "axes"], "y", ProtoBuilders.Int("keepdims", keep ? 1 : 0))
                    : Node(kind, ["x"], "y", ProtoBuilders.Ints("axes", axes), ProtoBuilders.Int("keepdims", keep ? 1 : 0));
                TensorProto[] init = kind == "ReduceSum" ? [ProtoBuilders.Int64Data("axes", axes)] : [];
                OnnxGraph graph = Graph(Model(13, [node], [ProtoBuilders.Value("x", shape.Select(d => (long)d).ToArray())], init));
                Tensor x = Parity.Random(rng, 1, 1, shape.Aggregate(1, (p, d) => p * d)).Reshape(shape);
                if (kind is "ReduceProd" or "ReduceLogSum") x = new Tensor(shape, [.. x.Data.Select(v => 0.75f + 0.5f * Math.Abs(v))]);
                var input = new Dictionary<string, Tensor> { ["x"] = x };
                using var runner = new GpuOnnxRunner(fixture.Context, graph);
                AssertClose(graph.Run(input)["y"], runner.Run(input)["y"], $"{kind} over [{string.Join(", ", axes)}] of ({string.Join(", ", shape)}), keepdims {keep}", 2e-5);
                if (ConvGL.Gpu.Ops.GpuReduce.Blocks(shape, axes.Select(a => (int)(a < 0 ? a + shape.Length : a)).ToArray()) is null) apart++;
                cases++;
            }
        Assert.True(apart >= 20, $"{apart} cases with kept axes between reduced ones");
    }

    /// <summary>Empty values keep their shapes through the GPU runner: a Slice past the end, ops on the empty result, an
    /// empty graph input, and a second run where the same values are not empty.</summary>
    [Fact]
    public void EmptyTensors_KeepTheirShapes()
    {
        TensorProto starts = ProtoBuilders.Int64Data("starts", 5), ends = ProtoBuilders.Int64Data("ends", 9), axes = ProtoBuilders.Int64Data("axes", 1);
        OnnxGraph graph = Graph(Model(13,
        [
            Node("Slice", ["x", "starts", "ends", "axes"], "s"), Node("Relu", ["s"], "r"), Node("Transpose", ["r"], "t", ProtoBuilders.Ints("perm", 1, 0, 2)),
            Node("Add", ["t", "t"], "y"),
        ], [Input("x", -1, -1, 4)], starts, ends, axes));
        using var runner = new GpuOnnxRunner(fixture.Context, graph);
        foreach (int[] shape in new[] { new[] { 2, 3, 4 }, [0, 7, 4], [2, 8, 4], [3, 5, 4] })
        {
            Tensor x = Parity.Random(new Random(shape[1]), 1, 1, shape.Aggregate(1, (p, d) => p * d)).Reshape(shape);
            var input = new Dictionary<string, Tensor> { ["x"] = x };
            Dictionary<string, Tensor> cpu = graph.Run(input), gpu = runner.Run(input, downloadAll: true);
            foreach (string value in new[] { "s", "r", "t", "y" })
                AssertClose(cpu[value], gpu[value], $"'{value}' of ({string.Join(", ", shape)})", 0);
            Assert.Equal(shape[1] > 5 && shape[0] > 0 ? shape[0] * (Math.Min(9, shape[1]) - 5) * 4 : 0, gpu["y"].Length);
        }
    }

    /// <summary>Ops that make values out of an empty input take them from the CPU reference (the GPU runner refused
    /// them before): a Concat with an empty part, reductions over an empty axis (the sum 0, the product 1, the max
    /// -inf, ONNX's identities), a MatMul over an empty inner axis (zeros), a Pad around nothing; each value then goes
    /// on through a GPU op (a Relu, an Add with x), across runs where the same values are empty and are not.</summary>
    [Fact]
    public void OpsMakingValuesOutOfEmptyTensors_MatchTheCpu()
    {
        TensorProto starts = ProtoBuilders.Int64Data("starts", 5), ends = ProtoBuilders.Int64Data("ends", 9), axes = ProtoBuilders.Int64Data("axes", 1);
        NodeProto slice = Node("Slice", ["x", "starts", "ends", "axes"], "s");
        (string what, NodeProto[] nodes, TensorProto[] extra)[] cases =
        [
            ("Concat", [Node("Concat", ["s", "x"], "v", ProtoBuilders.Int("axis", 1))], []),
            ("ReduceSum", [Node("ReduceSum", ["s", "raxes"], "v", ProtoBuilders.Int("keepdims", 1))], [ProtoBuilders.Int64Data("raxes", 1)]),
            ("ReduceMax", [Node("ReduceMax", ["s"], "v", ProtoBuilders.Ints("axes", 1), ProtoBuilders.Int("keepdims", 1))], []),
            ("ReduceProd", [Node("ReduceProd", ["s"], "v", ProtoBuilders.Ints("axes", 1), ProtoBuilders.Int("keepdims", 1))], []),
            ("MatMul", [Node("Transpose", ["s"], "st", ProtoBuilders.Ints("perm", 0, 2, 1)), Node("MatMul", ["st", "s"], "v")], []),
            ("Pad", [Node("Pad", ["s", "pads"], "v", ProtoBuilders.Str("mode", "constant"))], [ProtoBuilders.Int64Data("pads", 0, 1, 0, 0, 2, 0)]),
        ];
        foreach ((string what, NodeProto[] nodes, TensorProto[] extra) in cases)
        {
            OnnxGraph graph = Graph(Model(13, [slice, .. nodes, Node("Relu", ["v"], "y")], [Input("x", 2, -1, 4)], [starts, ends, axes, .. extra]));
            using var runner = new GpuOnnxRunner(fixture.Context, graph);
            foreach (int shape1 in new[] { 3, 7, 5 })
            {
                Tensor x = Parity.Random(new Random(shape1), 1, 1, 2 * shape1 * 4).Reshape(2, shape1, 4);
                var input = new Dictionary<string, Tensor> { ["x"] = x };
                Dictionary<string, Tensor> cpu = graph.Run(input), gpu = runner.Run(input, downloadAll: true);
                Assert.True(cpu["v"].Length > 0, $"{what}: the case makes values");
                foreach (string value in new[] { "s", "v", "y" })
                    AssertClose(cpu[value], gpu[value], $"{what}: '{value}' with x (2, {shape1}, 4)", 1e-6);
            }
        }
        Tensor sum = Graph(Model(13, [slice, Node("ReduceSum", ["s", "raxes"], "y", ProtoBuilders.Int("keepdims", 0))], [Input("x", 2, 3, 4)],
            starts, ends, axes, ProtoBuilders.Int64Data("raxes", 1))).Run(new Dictionary<string, Tensor> { ["x"] = new Tensor([2, 3, 4]) })["y"];
        Assert.Equal(new Tensor([2, 4]).Data, sum.Data);
    }

    /// <summary>From a review: an empty initializer read as data (a Concat's or an Add's constant part) is an empty value
    /// from the start (the runner's constructor threw ArgumentException uploading it); an op's own error on an empty input
    /// names the node once (it was prefixed twice).</summary>
    [Fact]
    public void EmptyInitializers_AreEmptyValues_AndErrorsNameTheNodeOnce()
    {
        TensorProto empty = ProtoBuilders.FloatData("c", [], 0, 2);
        OnnxGraph add = Graph(Model(13, [Node("Add", ["x", "c"], "y")], [Input("x", 1, 2)], empty));
        using (var runner = new GpuOnnxRunner(fixture.Context, add))
            for (int run = 0; run < 2; run++)
                Assert.Equal([0, 2], runner.Run(new Dictionary<string, Tensor> { ["x"] = new Tensor([1, 2], [1f, 2f]) })["y"].Shape);
        OnnxGraph concat = Graph(Model(13, [Node("Concat", ["x", "c"], "y", ProtoBuilders.Int("axis", 0))], [Input("x", 1, 2)], empty));
        Assert.Equal([1, 2], concat.Run(new Dictionary<string, Tensor> { ["x"] = new Tensor([1, 2]) })["y"].Shape);
        using (var joiner = new GpuOnnxRunner(fixture.Context, concat))
            Assert.Equal([1f, 2f], joiner.Run(new Dictionary<string, Tensor> { ["x"] = new Tensor([1, 2], [1f, 2f]) })["y"].Data);
        OnnxGraph pool = Graph(Model(13, [Node("MaxPool", ["x"], "y", ProtoBuilders.Ints("kernel_shape", 2, 2))], [Input("x", 1, 3, -1, 5)]));
        using var pooler = new GpuOnnxRunner(fixture.Context, pool);
        var input = new Dictionary<string, Tensor> { ["x"] = new Tensor([1, 3, 0, 5]) };
        string cpu = Assert.ThrowsAny<ConvGLException>(() => pool.Run(input)).Message, gpu = Assert.ThrowsAny<ConvGLException>(() => pooler.Run(input)).Message;
        Assert.StartsWith("m.onnx: node 'y' (MaxPool): ", gpu);
        Assert.DoesNotContain("(MaxPool): m.onnx", gpu);
        Assert.Equal(cpu, gpu);
    }

    /// <summary>From a review: GroupNormalization's and LayerNormalization's scale and bias given as graph inputs and changed
    /// in place between runs are new parameters (the GPU kept the first run's: it compared the tensors' identity).</summary>
    [Fact]
    public void NormParametersAsGraphInputs_ChangedInPlace_AreReadAgain()
    {
        var rng = new Random(4);
        foreach ((string op, AttributeProto[] attributes, int[] shape, int n) in new (string, AttributeProto[], int[], int)[]
        {
            ("GroupNormalization", [ProtoBuilders.Int("num_groups", 2)], [1, 4, 3, 5], 4),
            ("GroupNormalization", [ProtoBuilders.Int("num_groups", 2)], [1, 4, 20, 30], 4),
            ("LayerNormalization", [ProtoBuilders.Int("axis", -1)], [2, 3, 7], 7),
        })
        {
            OnnxGraph graph = Graph(Model(op == "GroupNormalization" ? 21 : 17, [Node(op, ["x", "scale", "bias"], "y", attributes)],
                [Input("x", shape.Select(d => (long)d).ToArray()), Input("scale", n), Input("bias", n)]));
            using var runner = new GpuOnnxRunner(fixture.Context, graph);
            var input = new Dictionary<string, Tensor>
            {
                ["x"] = Parity.Random(rng, 1, 1, shape.Aggregate(1, (p, d) => p * d)).Reshape(shape),
                ["scale"] = new Tensor([n], ProtoBuilders.R(rng, n, 0.5f, 2f)), ["bias"] = new Tensor([n], ProtoBuilders.R(rng, n)),
            };
            for (int run = 0; run < 3; run++)
            {
                AssertClose(graph.Run(input)["y"], runner.Run(input)["y"], $"{op} ({string.Join(", ", shape)}), run {run}", 1e-4);
                for (int i = 0; i < n; i++) (input["scale"].Data[i], input["bias"].Data[i]) = (input["scale"].Data[i] * 3, input["bias"].Data[i] - 1);
            }
        }
    }
}
