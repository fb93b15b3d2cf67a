using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Stacks;
using Google.Protobuf;
using static ConvGL.Core.Tests.Onnx.BranchyOpsTests;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>LayerNormalization, Celu, ThresholdedRelu, Mish, Expand and Tile on the CPU reference: worked examples with
/// hand-checked numbers, IEEE edges, the GPU's strided views of Expand and Tile held against the plain index loops over
/// random shapes, size checks before allocating, the official LayerNormalization cases on Y, and a block of all of
/// them against ONNX Runtime.</summary>
public class LayerNormTileTests
{
    private static OnnxGraph Build(ModelProto m) => OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx"));

    private static Tensor Iota(params int[] shape)
    {
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = i + 1;
        return t;
    }

    // ---- activations ----

    [Theory]
    [InlineData(ActivationKind.Celu, 1f, -1f, -0.63212056)]            // e^-1 - 1
    [InlineData(ActivationKind.Celu, 2f, -2f, -1.26424112)]            // 2 (e^-1 - 1)
    [InlineData(ActivationKind.Celu, 0.5f, 3f, 3.0)]
    [InlineData(ActivationKind.Celu, 1f, float.NegativeInfinity, -1.0)] // -alpha
    [InlineData(ActivationKind.ThresholdedRelu, 1f, 1f, 0.0)]          // not above alpha
    [InlineData(ActivationKind.ThresholdedRelu, 1f, 1.5f, 1.5)]
    [InlineData(ActivationKind.ThresholdedRelu, 2f, -3f, 0.0)]
    [InlineData(ActivationKind.ThresholdedRelu, -2f, -1f, -1.0)]       // a negative threshold keeps -1
    [InlineData(ActivationKind.Mish, 1f, 1f, 0.86509839)]              // 1 tanh(ln(1 + e))
    [InlineData(ActivationKind.Mish, 1f, -1f, -0.30340146)]            // -tanh(ln(1 + 1/e))
    [InlineData(ActivationKind.Mish, 1f, 2f, 1.94395896)]
    [InlineData(ActivationKind.Mish, 1f, -5f, -0.03357624)]
    [InlineData(ActivationKind.Mish, 1f, 0f, 0.0)]
    [InlineData(ActivationKind.Mish, 1f, 100f, 100.0)]                 // softplus without overflow
    [InlineData(ActivationKind.Mish, 1f, float.PositiveInfinity, double.PositiveInfinity)]
    public void NewActivations_WorkedExamples(ActivationKind kind, float alpha, float x, double expected)
    {
        float y = Activation.Apply(kind, x, alpha);
        if (double.IsInfinity(expected)) Assert.Equal((float)expected, y);
        else Assert.Equal(expected, y, 6);
    }

    [Fact]
    public void NewActivations_NaNAndFarNegative()
    {
        Assert.True(float.IsNaN(Activation.Apply(ActivationKind.Celu, float.NaN, 1f)));
        Assert.True(float.IsNaN(Activation.Apply(ActivationKind.Mish, float.NaN)));
        // ONNX's formula: -inf * tanh(softplus(-inf)) = -inf * 0.
        Assert.True(float.IsNaN(Activation.Apply(ActivationKind.Mish, float.NegativeInfinity)));
        // ThresholdedRelu keeps x only where x > alpha: a NaN is not.
        Assert.Equal(0f, Activation.Apply(ActivationKind.ThresholdedRelu, float.NaN, 1f));
        // Mish(-100) = -100 e^-100 (1 + ...) in double, a float32 subnormal of the right sign, not 0 from a cancelled tanh.
        float far = Activation.Apply(ActivationKind.Mish, -100f);
        Assert.True(far < 0 && far > -1e-40f, $"{far}");
        Assert.Equal(-0.01f, Activation.Apply(ActivationKind.Celu, -100f, 0.01f), 6);
    }

    [Fact]
    public void OnnxNodes_ReadAlpha_AndCeluRefusesZero()
    {
        static AttributeProto Alpha(float v) => new() { Name = "alpha", Type = 1, F = v };
        Tensor x = Iota(1, 2, 4, 5);
        foreach (float v in x.Data.ToArray()) x.Data[(int)v - 1] = v / 10f - 2f;
        var input = new Dictionary<string, Tensor> { ["x"] = x };
        Assert.Equal(Activation.Apply(x, ActivationKind.Celu, 0.5f).Data, Build(ProtoBuilders.OneNode("Celu", Alpha(0.5f))).Run(input)["y"].Data);
        Assert.Equal(Activation.Apply(x, ActivationKind.ThresholdedRelu, 0.2f).Data, Build(ProtoBuilders.OneNode("ThresholdedRelu", Alpha(0.2f))).Run(input)["y"].Data);
        Assert.Equal(Activation.Apply(x, ActivationKind.ThresholdedRelu, 1f).Data, Build(ProtoBuilders.OneNode("ThresholdedRelu")).Run(input)["y"].Data);
        Assert.Equal(Activation.Apply(x, ActivationKind.Mish).Data, Build(ProtoBuilders.OneNode("Mish")).Run(input)["y"].Data);
        var e = Assert.Throws<ConvGLException>(() => Build(ProtoBuilders.OneNode("Celu", Alpha(0f))));
        Assert.Equal("m.onnx: node 'n0' (Celu): alpha 0 must be finite and not 0", e.Message);
        e = Assert.Throws<ConvGLException>(() => Build(ProtoBuilders.OneNode("Mish", Alpha(1f))));
        Assert.Equal("m.onnx: node 'n0' (Mish): attribute 'alpha' is not supported (supported: none)", e.Message);
    }

    [Fact]
    public void StackLayers_Fields_RoundTrip_AndErrors()
    {
        using var dir = new StackDir();
        Stack s = dir.Load("""{"input": "rgb", "layers": [{"type": "celu", "alpha": 0.5}, {"type": "thresholded_relu", "alpha": -0.25}, {"type": "mish"}, {"type": "celu"}]}""");
        Assert.Equal(["celu", "thresholded_relu", "mish", "celu"], s.Layers.Select(l => l.Type));
        Assert.Equal([0.5f, -0.25f, 1f], s.Layers.Where(l => l.Type != "mish").Select(l => ((ActivationLayer)l).Slope));
        Tensor x = TestKernels.Random(new Random(3), 3, 3, 4);
        Tensor want = Activation.Apply(Activation.Apply(Activation.Apply(Activation.Apply(x, ActivationKind.Celu, 0.5f), ActivationKind.ThresholdedRelu, -0.25f),
            ActivationKind.Mish), ActivationKind.Celu, 1f);
        StackResult r = StackRunner.Run(s, x);
        Assert.Equal(want.Data, r.Outputs[^1].Data);
        StackWriter.Write(dir.File("again.json"), s);
        Stack again = StackFile.Load(dir.File("again.json"));
        Assert.Equal(s.Layers.Select(l => (l.Type, ((ActivationLayer)l).Slope)), again.Layers.Select(l => (l.Type, ((ActivationLayer)l).Slope)));
        Assert.Equal(r.Outputs[^1].Data, StackRunner.Run(again, x).Outputs[^1].Data);

        string Error(string layer) => Assert.Throws<ConvGLException>(() => dir.Load($$"""{"layers": [{{layer}}]}""", "bad.json")).Message;
        Assert.Contains("layers[0] (celu) field 'alpha': must not be 0 (celu divides by it)", Error("""{"type": "celu", "alpha": 0}"""));
        Assert.Contains("field 'alpha'", Error("""{"type": "mish", "alpha": 1}"""));
        Assert.Contains("mish", Error("""{"type": "swish2"}"""));
    }

    // ---- LayerNormalization ----

    private static ModelProto LayerNormModel(long[] xShape, float[] scale, long[] scaleShape, float[]? bias, params AttributeProto[] attributes)
    {
        ModelProto m = ProtoBuilders.OneNode("LayerNormalization", attributes);
        m.Graph.Input[0] = ProtoBuilders.Value("x", xShape);
        m.Graph.Initializer.Add(ProtoBuilders.FloatData("s", scale, scaleShape));
        m.Graph.Node[0].Input.Add("s");
        if (bias is not null)
        {
            m.Graph.Initializer.Add(ProtoBuilders.FloatData("b", bias, scaleShape));
            m.Graph.Node[0].Input.Add("b");
        }
        m.OpsetImport[0].Version = 17;
        return m;
    }

    [Fact]
    public void LayerNorm_WorkedExamples()
    {
        // Rows of the last axis: [1, 2, 3, 4] has mean 2.5 and variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25, so
        // (x - mean) / sqrt(1.25 + 1e-5) = [-1.3416354, -0.4472118, 0.4472118, 1.3416354]; times [1, 2, 1, 1] plus
        // [0, 0, 1, -1]. The constant row [10, 10, 10, 10] has no deviation: y is B.
        OnnxGraph g = Build(LayerNormModel([2, 4], [1, 2, 1, 1], [4], [0, 0, 1, -1]));
        Tensor y = g.Run(new Dictionary<string, Tensor> { ["x"] = new Tensor([2, 4], [1, 2, 3, 4, 10, 10, 10, 10]) })["y"];
        Assert.Equal([2, 4], y.Shape);
        double[] want = [-1.34163542, -0.89442361, 1.44721181, 0.34163542, 0, 0, 1, -1];
        for (int i = 0; i < 8; i++) Assert.Equal(want[i], y.Data[i], 5);

        // axis 0: the whole (2, 2) tensor is one row; mean 2.75, variance 35/16, so y = (x - 2.75) 4 / sqrt(35) (epsilon 0;
        // Scale (1) broadcast over (2, 2), no B).
        g = Build(LayerNormModel([2, 2], [1], [1], null, new AttributeProto { Name = "axis", Type = 2, I = 0 }, new AttributeProto { Name = "epsilon", Type = 1, F = 0 }));
        y = g.Run(new Dictionary<string, Tensor> { ["x"] = new Tensor([2, 2], [1, 2, 3, 5]) })["y"];
        double[] whole = [-7 / Math.Sqrt(35), -3 / Math.Sqrt(35), 1 / Math.Sqrt(35), 9 / Math.Sqrt(35)];
        for (int i = 0; i < 4; i++) Assert.Equal(whole[i], y.Data[i], 6);
    }

    [Fact]
    public void LayerNorm_Properties_ScaleBroadcast_FarFromZero_AgreesWithInstanceNorm()
    {
        var rng = new Random(4);
        Tensor x = TestKernels.Random(rng, 3, 4, 5).Reshape(1, 3, 4, 5);
        // Over (H, W) with Scale 1 and B 0 it is InstanceNorm of every plane with unit parameters.
        LayerNormOp op = (LayerNormOp)Build(LayerNormModel([1, 3, 4, 5], [1], [1], null, new AttributeProto { Name = "axis", Type = 2, I = -2 })).Ops[0];
        Tensor ln = op.Run([x, new Tensor([1], [1f]), null]);
        Tensor inorm = new InstanceNorm([1, 1, 1], [0, 0, 0], 1e-5f).Apply(x.Reshape(3, 4, 5));
        for (int i = 0; i < x.Length; i++) Assert.Equal(inorm.Data[i], ln.Data[i], 6);
        // Scale (5) over rows of (4, 5) multiplies column j by scale[j], whatever the row.
        Tensor scale = new([5], [1, -2, 0.5f, 3, 0]);
        Tensor scaled = op.Run([x, scale, null]);
        for (int i = 0; i < x.Length; i++) Assert.Equal(ln.Data[i] * scale.Data[i % 5], scaled.Data[i], 5);
        // A row far from zero keeps its precision (two-pass variance): 1e4 + [0, 1, 2, 3] normalises as [0, 1, 2, 3].
        LayerNorm norm = op.Parameters([1, 4], new Tensor([1], [1f]), null);
        Tensor near = norm.Apply(new Tensor([1, 4], [0, 1, 2, 3])), far = norm.Apply(new Tensor([1, 4], [1e4f, 1e4f + 1, 1e4f + 2, 1e4f + 3]));
        for (int i = 0; i < 4; i++) Assert.Equal(near.Data[i], far.Data[i], 5);
    }

    [Fact]
    public void LayerNorm_Errors()
    {
        var input = new Dictionary<string, Tensor> { ["x"] = new Tensor([2, 4]) };
        string Error(Action f) => Assert.Throws<ConvGLException>(f).Message;
        Assert.Equal("m.onnx: node 'n0' (LayerNormalization): stash_type 0 is not supported (supported: 1, float32 statistics)",
            Error(() => Build(LayerNormModel([2, 4], [1, 1, 1, 1], [4], null, new AttributeProto { Name = "stash_type", Type = 2, I = 0 }))));
        Assert.Equal("m.onnx: node 'n0' (LayerNormalization): Scale (3,) does not broadcast to the normalised shape (4,)",
            Error(() => Build(LayerNormModel([2, 4], [1, 1, 1], [3], null)).Run(input)));
        ModelProto wideB = LayerNormModel([2, 4], [1, 1, 1, 1], [4], null);
        wideB.Graph.Initializer.Add(ProtoBuilders.FloatData("b", new float[8], 2, 4));
        wideB.Graph.Node[0].Input.Add("b");
        Assert.Equal("m.onnx: node 'n0' (LayerNormalization): B (2, 4) does not broadcast to the normalised shape (4,)",
            Error(() => Build(wideB).Run(input)));
        Assert.Equal("m.onnx: node 'n0' (LayerNormalization): axis 2 is out of range for X of rank 2",
            Error(() => Build(LayerNormModel([2, 4], [1], [1], null, new AttributeProto { Name = "axis", Type = 2, I = 2 })).Run(input)));
    }

    /// <summary>The optional Mean and InvStdDev outputs by hand: rows (1, 2, 3, 4) and (2, 2, 2, 2) have means 2.5 and 2,
    /// variances 1.25 and 0, so InvStdDev 1 / sqrt(1.25 + 1e-5) and 1 / sqrt(1e-5).</summary>
    [Fact]
    public void LayerNorm_MeanAndInvStdDevOutputs_WorkedExample()
    {
        ModelProto m = LayerNormModel([2, 4], [1], [1], null);
        m.Graph.Node[0].Output.Add("mean");
        m.Graph.Node[0].Output.Add("inv");
        Dictionary<string, Tensor> v = Build(m).Run(new Dictionary<string, Tensor> { ["x"] = new Tensor([2, 4], [1, 2, 3, 4, 2, 2, 2, 2]) });
        Assert.Equal([2, 1], v["mean"].Shape);
        Assert.Equal([2.5f, 2f], v["mean"].Data);
        Assert.Equal(1 / Math.Sqrt(1.25 + 1e-5), v["inv"].Data[0], 1e-6);
        Assert.Equal(1 / Math.Sqrt(1e-5), v["inv"].Data[1], 1e-3);
    }

    public static TheoryData<string> OfficialCases => new(LayerNormCases.Names);

    [Theory]
    [MemberData(nameof(OfficialCases))]
    public void LayerNorm_OfficialCase_OnY_PassesOnTheCpuReference(string name)
    {
        OnnxTestResult r = LayerNormCases.Run(name, OnnxTestCase.RunCpu);
        Assert.True(r.Passed, $"{name}: {r.Detail}");
        Assert.True(r.MaxError <= 1e-4, $"{name}: max error {r.MaxError}");
    }

    // ---- Expand and Tile ----

    [Fact]
    public void Expand_WorkedExamples()
    {
        // (3, 1) [[1], [2], [3]] to [2, 1, 2]: broadcast((3, 1), (2, 1, 2)) = (2, 3, 2), each row's value twice, the whole twice.
        Tensor y = Indexing.Expand(Iota(3, 1), [2, 1, 2]);
        Assert.Equal([2, 3, 2], y.Shape);
        Assert.Equal([1f, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3], y.Data);
        // A shape with 1s where the input is bigger keeps the input's dimensions (ONNX's test_expand_dim_unchanged).
        Tensor same = Indexing.Expand(Iota(2, 3), [1, 3]);
        Assert.Equal([2, 3], same.Shape);
        Assert.Equal(Iota(2, 3).Data, same.Data);
        // (2, 1) to [3]: (2, 3).
        Assert.Equal([1f, 1, 1, 2, 2, 2], Indexing.Expand(Iota(2, 1), [3]).Data);
    }

    [Fact]
    public void Tile_WorkedExamples()
    {
        // [[1, 2], [3, 4]] tiled [2, 3]: each row three times across, the pair of rows twice down.
        Tensor y = Indexing.Tile(Iota(2, 2), [2, 3]);
        Assert.Equal([4, 6], y.Shape);
        Assert.Equal([1f, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4], y.Data);
        // Repeats of 1 change nothing; a 0 empties the axis.
        Assert.Equal(Iota(2, 3).Data, Indexing.Tile(Iota(2, 3), [1, 1]).Data);
        Assert.Equal([2, 0], Indexing.Tile(Iota(2, 3), [1, 0]).Shape);
        // The view: axis 1 of (2, 2) repeated 3 times is dims [2, 3, 2] with strides [2, 0, 1].
        StridedView v = Indexing.TileView([2, 2], [1, 3]);
        Assert.Equal([2, 3, 2], v.Dims);
        Assert.Equal([2L, 0, 1], v.Strides);
    }

    /// <summary>The GPU's views (stride 0 on broadcast axes; a tiled axis as [repeats, n] with strides [0, s]) read the
    /// same values as the plain index loops, merged (as the GPU copies them) or not, over random shapes of rank 1 to 5;
    /// and Tile is Expand of the input with a 1 before each axis, reshaped (two references agreeing).</summary>
    [Fact]
    public void ExpandAndTileViews_MatchTheIndexLoops_OverRandomShapes()
    {
        var rng = new Random(12);
        for (int trial = 0; trial < 300; trial++)
        {
            int rank = rng.Next(1, 6);
            int[] shape = Enumerable.Range(0, rank).Select(_ => rng.Next(1, 5)).ToArray();
            Tensor x = Iota(shape);

            int[] repeats = shape.Select(_ => rng.Next(0, 4)).ToArray();
            if (trial % 3 == 0) repeats = repeats.Select(r => Math.Max(r, 1)).ToArray();
            Tensor tiled = Indexing.Tile(x, repeats);
            StridedView tv = Indexing.TileView(shape, repeats);
            Assert.Equal(tiled.Data, tv.Read(x, tiled.Shape).Data);
            if (tv.Count > 0) Assert.Equal(tiled.Data, tv.Coalesced().Read(x, tiled.Shape).Data);
            int[] spread = shape.SelectMany(n => new[] { 1, n }).ToArray(), target = shape.SelectMany((n, d) => new[] { repeats[d], n }).ToArray();
            Assert.Equal(tiled.Data, Indexing.Expand(x.Reshape(spread), target).Data);

            // A target that broadcasts: each axis of the input's size, 1, or (where the input has 1) anything; maybe more axes in front.
            int extra = rng.Next(0, 3);
            int[] to = [.. Enumerable.Range(0, extra).Select(_ => rng.Next(1, 4)), .. shape.Select(n => rng.Next(3) switch { 0 => 1, 1 => n, _ => n == 1 ? rng.Next(1, 5) : n })];
            Tensor expanded = Indexing.Expand(x, to);
            StridedView ev = Indexing.ExpandView(shape, expanded.Shape);
            Assert.Equal(expanded.Data, ev.Read(x, expanded.Shape).Data);
            Assert.Equal(expanded.Data, ev.Coalesced().Read(x, expanded.Shape).Data);
            // Every output element is the input element its index names, broadcast axes held at 0 (checked at the last one).
            long[] strides = Indexing.Strides(shape);
            long last = shape.Select((n, d) => (long)(n - 1) * strides[d]).Sum();
            Assert.Equal(x.Data[last], expanded.Data[^1]);
        }
    }

    private static ModelProto IndexModel(string op, long[] xShape, long[] parameter)
    {
        ModelProto m = ProtoBuilders.OneNode(op);
        m.Graph.Input[0] = ProtoBuilders.Value("x", xShape);
        m.Graph.Initializer.Add(ProtoBuilders.Int64Data("p", parameter));
        m.Graph.Node[0].Input.Add("p");
        return m;
    }

    [Fact]
    public void ExpandAndTile_Errors_AndSizesCheckedBeforeAllocating()
    {
        string Error(ModelProto m, int[] shape) =>
            Assert.Throws<ConvGLException>(() => Build(m).Run(new Dictionary<string, Tensor> { ["x"] = new Tensor(shape) })).Message;
        Assert.Equal("m.onnx: node 'n0' (Expand): the input (2, 3) does not broadcast to shape [2, 2] (dimension 1: 3 vs 2)",
            Error(IndexModel("Expand", [2, 3], [2, 2]), [2, 3]));
        Assert.Equal("m.onnx: node 'n0' (Expand): shape [-1, 3] has a negative dimension", Error(IndexModel("Expand", [2, 3], [-1, 3]), [2, 3]));
        Assert.Equal("m.onnx: node 'n0' (Expand): its output (65536, 65536, 3) is more than 536870912 values",
            Error(IndexModel("Expand", [1, 3], [65536, 65536, 1]), [1, 3]));
        Assert.Equal("m.onnx: node 'n0' (Tile): repeats (3,) must hold one count per axis of the input (2, 3)", Error(IndexModel("Tile", [2, 3], [1, 2, 3]), [2, 3]));
        Assert.Equal("m.onnx: node 'n0' (Tile): repeats [1, -2] has a negative count", Error(IndexModel("Tile", [2, 3], [1, -2]), [2, 3]));
        Assert.Equal("m.onnx: node 'n0' (Tile): its output (131072, 196608) is more than 536870912 values",
            Error(IndexModel("Tile", [2, 3], [65536, 65536]), [2, 3]));
    }

    [Fact]
    public void ExpandAndTile_OfConstants_FoldAtLoad()
    {
        // y = x + Tile(Expand(c, [2, 1]), [1, 2]): c (1, 2) constant, so the Expand and the Tile run once, at load.
        ModelProto m = ProtoBuilders.OneNode("Add");
        m.Graph.Input[0] = ProtoBuilders.Value("x", 2, 4);
        m.Graph.Initializer.Add(ProtoBuilders.FloatData("c", [5, 7], 1, 2));
        m.Graph.Initializer.Add(ProtoBuilders.Int64Data("shape", 2, 1));
        m.Graph.Initializer.Add(ProtoBuilders.Int64Data("repeats", 1, 2));
        m.Graph.Node.Insert(0, new NodeProto { Name = "e", OpType = "Expand", Input = { "c", "shape" }, Output = { "ce" } });
        m.Graph.Node.Insert(1, new NodeProto { Name = "t", OpType = "Tile", Input = { "ce", "repeats" }, Output = { "ct" } });
        m.Graph.Node[2].Input.Add("ct");
        OnnxGraph g = Build(m);
        Assert.IsType<BinaryOp>(Assert.Single(g.Ops));
        Assert.Equal([5f, 7, 5, 7, 5, 7, 5, 7], g.Initializers["ct"].Data);
        Assert.Equal([6f, 8, 6, 8, 6, 8, 6, 8], g.Run(new Dictionary<string, Tensor> { ["x"] = new Tensor([2, 4], Enumerable.Repeat(1f, 8).ToArray()) })["y"].Data);
    }

    // ---- all of them against ONNX Runtime ----

    [Fact]
    public void Block_MatchesOnnxRuntime_OnEveryValue()
    {
        byte[] bytes = LayerNormCases.BlockBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "block.onnx"));
        Tensor x = TestKernels.Random(new Random(9), 2, 5, 8);
        for (int i = 0; i < x.Length; i++) x.Data[i] *= 3f;
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x });
        string[] names = graph.Ops.Select(o => o.Output).ToArray();
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x, names);
        foreach (string n in names) AssertClose(ort[n], ours[n].Data, $"value '{n}'");
        Assert.Equal([3, 2, 10, 24], ours["y"].Shape);
    }
}
