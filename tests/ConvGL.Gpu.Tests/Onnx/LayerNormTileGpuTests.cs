using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Ops;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu.Onnx;
using ConvGL.Gpu.Ops;
using Google.Protobuf;

namespace ConvGL.Gpu.Tests.Onnx;

/// <summary>The GPU side of LayerNormalization, Celu, ThresholdedRelu, Mish, Expand and Tile: layer_norm.comp swept
/// against LayerNorm.Apply (rows shorter and longer than the workgroup, more rows than one dispatch row, NaN in one row),
/// both activation shaders on the IEEE edges, Expand and Tile through the GPU runner's strided copies over random shapes
/// (Tiles of every axis past the shader's six), the official LayerNormalization cases on Y, and the block model.</summary>
[Collection(GlCollection.Name)]
public sealed class LayerNormTileGpuTests(GlFixture fixture)
{
    /// <summary>Equal NaN and infinities where the reference has them; finite values within tolerance (absolute, and
    /// relative to each value).</summary>
    private static void AssertClose(Tensor want, Tensor got, string what, double tolerance = 1e-5)
    {
        Assert.True(want.SameShape(got), $"{what}: CPU {want.ShapeString}, GPU {got.ShapeString}");
        for (int i = 0; i < want.Length; i++)
        {
            float w = want.Data[i], g = got.Data[i];
            if (!float.IsFinite(w))
                Assert.True(w.Equals(g), $"{what}: element {i} is {g}, the reference {w}");
            else
                Assert.True(Math.Abs((double)w - g) <= tolerance * (1 + Math.Abs((double)w)), $"{what}: element {i} is {g:R}, the reference {w:R}");
        }
    }

    [Fact]
    public void LayerNormShader_Sweep_MatchesReference()
    {
        var rng = new Random(17);
        using var op = new GpuLayerNorm(fixture.Context, new LayerNorm([1f], [0f], 1e-5f));
        foreach ((int rows, int length) in new[] { (1, 1), (5, 3), (3, 63), (2, 64), (7, 65), (4, 130), (2, 4097), (5000, 2), (70, 24) })
            foreach (float epsilon in new[] { 1e-5f, 0.5f })
            {
                Tensor x = Parity.Random(rng, rows, 1, length);
                if (length > 1) x.Data[0] = 1000f; // a far value in row 0
                float[] scale = ProtoBuilders.R(rng, length, -2f, 2f), shift = ProtoBuilders.R(rng, length);
                var norm = new LayerNorm(scale, shift, epsilon);
                op.SetParameters(norm);
                AssertClose(norm.Apply(x), op.Apply(x), $"{rows} rows of {length}, epsilon {epsilon}", 2e-4);
            }
    }

    [Fact]
    public void LayerNormShader_NaNAndInfinity_StayInTheirRow()
    {
        Tensor x = Parity.Random(new Random(3), 4, 1, 37);
        x.Data[5] = float.NaN;                        // row 0
        x.Data[2 * 37 + 1] = float.PositiveInfinity;  // row 2: inf - inf in the deviations: NaN
        var norm = new LayerNorm(Enumerable.Repeat(1.5f, 37).ToArray(), new float[37], 1e-5f);
        using var op = new GpuLayerNorm(fixture.Context, norm);
        Tensor want = norm.Apply(x), got = op.Apply(x);
        Assert.True(want.Data[..37].All(float.IsNaN) && want.Data[74..111].All(float.IsNaN), "the reference: rows 0 and 2 NaN");
        AssertClose(want, got, "NaN rows", 2e-4);
    }

    public static TheoryData<ActivationKind, string> NewKinds => new()
    {
        { ActivationKind.Celu, "fast" }, { ActivationKind.Celu, "direct" }, { ActivationKind.ThresholdedRelu, "fast" },
        { ActivationKind.ThresholdedRelu, "direct" }, { ActivationKind.Mish, "fast" }, { ActivationKind.Mish, "direct" },
    };

    [Theory]
    [MemberData(nameof(NewKinds))]
    public void NewActivations_EdgesAndSweep_MatchReference(ActivationKind kind, string shader)
    {
        float[] edges = [0f, -0f, 1f, -1f, 2.5f, -2.5f, 1e-30f, 19.9f, 20f, 20.1f, 44.5f, 90f, -20f, -50f, -100f,
            float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        Tensor x = Tensor.Chw(1, 1, edges.Length + 259, [.. edges, .. Parity.Random(new Random((int)kind), 4f, 259).Data]);
        foreach (float alpha in new[] { 1f, 0.5f, -0.75f, 3f })
        {
            using var op = new GpuActivation(fixture.Context, kind, alpha) { Choice = shader == "fast" ? ConvPath.Fast : ConvPath.Direct };
            Tensor got = op.Apply(x);
            Assert.StartsWith(shader == "fast" ? "activation_fast" : "activation:", op.Variant, StringComparison.Ordinal);
            AssertClose(Activation.Apply(x, kind, alpha), got, $"{kind.Name()} alpha {alpha} ({shader})", 2e-5);
        }
    }

    private Tensor RunGpu(OnnxGraph graph, Tensor x)
    {
        using var runner = new GpuOnnxRunner(fixture.Context, graph);
        return runner.Run(new Dictionary<string, Tensor> { ["x"] = x })[graph.Outputs[0].Name];
    }

    private static OnnxGraph OneNode(string op, int[] shape, long[] parameter)
    {
        ModelProto m = ProtoBuilders.OneNode(op);
        m.Graph.Input[0] = ProtoBuilders.Value("x", shape.Select(d => (long)d).ToArray());
        m.Graph.Initializer.Add(ProtoBuilders.Int64Data("p", parameter));
        m.Graph.Node[0].Input.Add("p");
        return OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx"));
    }

    /// <summary>Expand and Tile on the GPU runner equal the CPU reference exactly (values are only moved), NaN included,
    /// over random shapes of rank 1 to 5; Tiles of every axis of a rank-4 or rank-5 map step over 8 or 10 separate axes,
    /// more than strided_copy.comp's 6, and go as several copies.</summary>
    [Fact]
    public void ExpandAndTile_RandomShapes_MatchReference()
    {
        var rng = new Random(23);
        for (int trial = 0; trial < 40; trial++)
        {
            int rank = trial < 4 ? 4 + trial % 2 : rng.Next(1, 6);
            int[] shape = Enumerable.Range(0, rank).Select(_ => rng.Next(1, 5)).ToArray();
            Tensor x = Parity.Random(rng, 1, 1, shape.Aggregate(1, (p, d) => p * d)).Reshape(shape);
            x.Data[^1] = float.NaN;
            var input = new Dictionary<string, Tensor> { ["x"] = x };

            long[] repeats = trial < 4 ? shape.Select(_ => 2L).ToArray() : shape.Select(_ => (long)rng.Next(1, 4)).ToArray();
            OnnxGraph tile = OneNode("Tile", shape, repeats);
            AssertClose(tile.Run(input)["y"], RunGpu(tile, x), $"Tile ({string.Join(", ", shape)}) by [{string.Join(", ", repeats)}]", 0);

            long[] to = [.. Enumerable.Range(0, rng.Next(0, 3)).Select(_ => (long)rng.Next(1, 4)), .. shape.Select(n => (long)(rng.Next(3) switch { 0 => 1, 1 => n, _ => n == 1 ? rng.Next(1, 5) : n }))];
            OnnxGraph expand = OneNode("Expand", shape, to);
            AssertClose(expand.Run(input)["y"], RunGpu(expand, x), $"Expand ({string.Join(", ", shape)}) to [{string.Join(", ", to)}]", 0);
        }
        // Rows of 256 values and more go as one buffer copy each (the repeats' stride 0 in the outer steps).
        foreach ((string op, int[] shape, long[] p) in new[] { ("Tile", new[] { 2, 300 }, new long[] { 3, 2 }), ("Expand", [1, 300], [4, 300]),
            ("Tile", [2, 1, 2, 1, 257], [2, 3, 2, 2, 1]), ("Expand", [3, 1, 260], [2, 3, 2, 260]) })
        {
            Tensor x = Parity.Random(rng, 1, 1, shape.Aggregate(1, (a, d) => a * d)).Reshape(shape);
            OnnxGraph g = OneNode(op, shape, p);
            AssertClose(g.Run(new Dictionary<string, Tensor> { ["x"] = x })["y"], RunGpu(g, x), $"{op} ({string.Join(", ", shape)}) by [{string.Join(", ", p)}]", 0);
        }
    }

    public static TheoryData<string> OfficialCases => new(LayerNormCases.Names);

    [Theory]
    [MemberData(nameof(OfficialCases))]
    public void LayerNorm_OfficialCase_OnY_PassesOnTheGpu(string name)
    {
        OnnxTestResult r = LayerNormCases.Run(name, (graph, inputs) =>
        {
            using var runner = new GpuOnnxRunner(fixture.Context, graph);
            return runner.Run(inputs);
        });
        Assert.True(r.Passed, $"{name}: {r.Detail}");
    }

    [Fact]
    public void Block_OnTheGpuRunner_MatchesTheCpu_OnEveryValue()
    {
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(LayerNormCases.BlockBytes(), "block.onnx"));
        Tensor x = Parity.Random(new Random(9), 3f, 2, 5, 8);
        var input = new Dictionary<string, Tensor> { ["x"] = x };
        Dictionary<string, Tensor> cpu = graph.Run(input);
        using var runner = new GpuOnnxRunner(fixture.Context, graph);
        Dictionary<string, Tensor> gpu = runner.Run(input, downloadAll: true);
        foreach (OnnxOp op in graph.Ops) AssertClose(cpu[op.Output], gpu[op.Output], $"value '{op.Output}'", 2e-4);
        // A second run reuses the uploaded parameters and gives the same values.
        Assert.Equal(gpu["y"].Data, runner.Run(input)["y"].Data);
    }
}
