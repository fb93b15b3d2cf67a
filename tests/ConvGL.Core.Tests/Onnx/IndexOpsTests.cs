using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Ops;
using Google.Protobuf;
using ConvGL.Core.Stacks;
using static ConvGL.Core.Tests.Onnx.BranchyOpsTests;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>The ops that move values (Transpose, Slice, Split, Gather, Squeeze / Unsqueeze), shape arithmetic (Shape,
/// Cast, ConstantOfShape), MatMul and Erf: worked examples with hand-checked numbers, properties, two models built here
/// against ONNX Runtime on every value, and the dynamic-batch head as a stack.</summary>
public class IndexOpsTests
{
    /// <summary>A tensor whose values are their own flat indices (0, 1, 2, ...): worked examples read off it.</summary>
    internal static Tensor Iota(params int[] shape)
    {
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = i;
        return t;
    }

    [Fact]
    public void Transpose_WorkedExamples()
    {
        // [[0 1 2] [3 4 5]] transposed is [[0 3] [1 4] [2 5]].
        Tensor t = Indexing.Transpose(Iota(2, 3), [1, 0]);
        Assert.Equal([3, 2], t.Shape);
        Assert.Equal([0f, 3, 1, 4, 2, 5], t.Data);
        // (2, 2, 2) with perm [2, 0, 1]: y[i, j, k] = x[j, k, i]; x[j, k, i] = 4j + 2k + i.
        Tensor y = Indexing.Transpose(Iota(2, 2, 2), [2, 0, 1]);
        Assert.Equal([0f, 2, 4, 6, 1, 3, 5, 7], y.Data);
        Assert.Throws<ConvGLException>(() => Indexing.Transpose(Iota(2, 3), [0, 0]));
    }

    /// <summary>ONNX's clamping rules on a 10-element axis (the slice tests of the ONNX operator doc, by hand).</summary>
    [Theory]
    [InlineData(0, 3, 1, 0, 1, 3)]
    [InlineData(-3, long.MaxValue, 1, 7, 1, 3)]        // from the third last to the end
    [InlineData(20, 1000, 1, 10, 1, 0)]                // start beyond the end: nothing
    [InlineData(-1, long.MinValue, -1, 9, -1, 10)]     // the whole axis backwards
    [InlineData(20, 0, -3, 9, -3, 3)]                  // start clamped to 9: 9, 6, 3 (0 excluded)
    [InlineData(1, -1, 2, 1, 2, 4)]                    // 1, 3, 5, 7
    [InlineData(5, 5, 1, 5, 1, 0)]
    [InlineData(1, -100, long.MinValue, 1, -11, 1)]     // element 1 alone (the step is clamped: -long.MinValue overflows)
    public void ClampSlice_FollowsOnnx(long start, long end, long step, int wantStart, int wantStep, int wantCount)
    {
        Indexing.SliceAxis a = Indexing.ClampSlice(start, end, step, 10);
        Assert.Equal(wantCount, a.Count);
        if (wantCount > 0) Assert.Equal((wantStart, wantStep), (a.Start, a.Step));
    }

    [Fact]
    public void Slice_Gather_WorkedExamples()
    {
        // Rows 1.. of a (3, 4) iota, columns 3, 1 (step -2).
        Tensor s = Indexing.Slice(Iota(3, 4), [new(1, 1, 2), new(3, -2, 2)]);
        Assert.Equal([2, 2], s.Shape);
        Assert.Equal([7f, 5, 11, 9], s.Data);
        // Gather axis 1 with indices [[2, -4]] from a (2, 4): (2, 1, 2) = [[[2, 0]], [[6, 4]]].
        Tensor g = Indexing.Gather(Iota(2, 4), 1, new Tensor([1, 2], [2, -4]));
        Assert.Equal([2, 1, 2], g.Shape);
        Assert.Equal([2f, 0, 6, 4], g.Data);
        var e = Assert.Throws<ConvGLException>(() => Indexing.Gather(Iota(2, 4), 1, new Tensor([1], [4])));
        Assert.Contains("index 4 (entry 0) is outside [-4, 3]", e.Message);
        // An int64 index far out (2^62, held as float32) is quoted in all its digits, a fraction as it is.
        e = Assert.Throws<ConvGLException>(() => Indexing.Gather(Iota(2, 4), 1, new Tensor([2], [1, 4611686018427387904f])));
        Assert.Contains("index 4611686018427387904 (entry 1) is outside [-4, 3]", e.Message);
        e = Assert.Throws<ConvGLException>(() => Indexing.Gather(Iota(2, 4), 1, new Tensor([1], [1.5f])));
        Assert.Contains("index 1.5 (entry 0) is not a whole number (an axis of 4 takes -4 to 3)", e.Message);
    }

    /// <summary>Merging contiguous dimensions never changes what a view reads: random transposes and slices of random
    /// shapes read the same values before and after.</summary>
    [Fact]
    public void StridedView_Coalesced_ReadsTheSameValues()
    {
        var rng = new Random(11);
        for (int trial = 0; trial < 300; trial++)
        {
            int rank = rng.Next(1, 6);
            int[] shape = Enumerable.Range(0, rank).Select(_ => rng.Next(1, 5)).ToArray();
            Tensor x = Iota(shape);
            StridedView view = rng.Next(2) == 0
                ? Indexing.TransposeView(shape, Enumerable.Range(0, rank).OrderBy(_ => rng.Next()).ToArray())
                : Indexing.SliceView(shape, shape.Select(n => Indexing.ClampSlice(rng.Next(-n, n), rng.Next(-n - 1, n + 1), rng.Next(2) == 0 ? 1 : -1 - rng.Next(2), n)).ToArray());
            StridedView merged = view.Coalesced();
            Assert.True(merged.Dims.Length <= view.Dims.Length);
            Assert.Equal(view.Read(x, [(int)view.Count]).Data, merged.Read(x, [(int)view.Count]).Data);
        }
    }

    [Fact]
    public void MatMul_BroadcastsBatches_AndPromotesVectors()
    {
        var g = new GraphProto { Name = "g", Input = { ProtoBuilders.Value("a"), ProtoBuilders.Value("b") }, Output = { ProtoBuilders.Value("y") } };
        ProtoBuilders.Node(g, "mm", "MatMul", ["a", "b"], "y");
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx"));
        var op = (MatMulOp)graph.Ops[0];
        // [[1 2] [3 4]] @ [[5] [6]] = [[17] [39]]; a batch of 2 against one B.
        Tensor a = new([2, 2, 2], [1, 2, 3, 4, 0, 1, 1, 0]);
        Tensor y = op.Run([a, new Tensor([2, 1], [5, 6])]);
        Assert.Equal([2, 2, 1], y.Shape);
        Assert.Equal([17f, 39, 6, 5], y.Data);
        // A vector times a matrix: (2) @ (2, 3) = (3).
        Assert.Equal([3], op.Run([new Tensor([2], [1, 2]), Iota(2, 3)]).Shape);
        Assert.Equal([6f, 9, 12], op.Run([new Tensor([2], [1, 2]), Iota(2, 3)]).Data);
        var e = Assert.Throws<ConvGLException>(() => op.Run([Iota(2, 3), Iota(2, 3)]));
        Assert.Contains("3 columns against 2 rows", e.Message);
    }

    /// <summary>erf from tables (Abramowitz and Stegun 7.1), odd symmetry, the limits, and erf(x) + erfc(x) = 1 where the
    /// two methods meet (x = 3).</summary>
    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.1, 0.1124629160182849)]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(2.0, 0.9953222650189527)]
    [InlineData(2.9, 0.9999589021219005)]
    [InlineData(3.0, 0.9999779095030014)]
    [InlineData(3.5, 0.9999992569016276)]
    [InlineData(5.0, 0.9999999999984626)]
    public void Erf_MatchesTables(double x, double erf)
    {
        // The series loses up to 4 of double's 16 digits to cancellation near x = 3: 1e-12 is what double promises there.
        Assert.Equal(erf, Unary.Erf(x), 1e-12);
        Assert.Equal(-erf, Unary.Erf(-x), 1e-12);
        Assert.Equal((float)erf, Unary.Apply(UnaryKind.Erf, (float)x), 1e-7f);
    }

    [Fact]
    public void Erf_Limits()
    {
        Assert.Equal(1f, Unary.Apply(UnaryKind.Erf, float.PositiveInfinity));
        Assert.Equal(-1f, Unary.Apply(UnaryKind.Erf, float.NegativeInfinity));
        Assert.True(float.IsNaN(Unary.Apply(UnaryKind.Erf, float.NaN)));
        // Monotone across the switch between the series and the continued fraction.
        Assert.True(Unary.Erf(2.9999999) < Unary.Erf(3.0) && Unary.Erf(3.0) < Unary.Erf(3.0000001));
    }

    [Fact]
    public void CastAndConstantOfShape_WorkedExamples()
    {
        OnnxGraph ints = OnnxGraph.Build(OnnxReader.Parse(ProtoBuilders.OneNode("Cast", new AttributeProto { Name = "to", Type = 2, I = 7 }).ToByteArray(), "m.onnx"));
        Tensor y = ints.Ops[0].Run([new Tensor([5], [2.7f, -2.7f, 0.5f, float.NaN, 1e6f])]);
        Assert.Equal([2f, -2f, 0f], y.Data[..3]); // toward zero
        Assert.True(float.IsNaN(y.Data[3]));
        OnnxGraph half = OnnxGraph.Build(OnnxReader.Parse(ProtoBuilders.OneNode("Cast", new AttributeProto { Name = "to", Type = 2, I = 10 }).ToByteArray(), "m.onnx"));
        Assert.Equal(0.33325195f, half.Ops[0].Run([new Tensor([1], [1f / 3])]).Data[0]); // 1/3 in half precision
        var bad = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(ProtoBuilders.OneNode("Cast", new AttributeProto { Name = "to", Type = 2, I = 8 }).ToByteArray(), "m.onnx")));
        Assert.Contains("cast to STRING is not supported", bad.Message);
    }

    [Fact]
    public void DynamicHead_MatchesOnnxRuntime_OnEveryValue_AndImportsAsAStack()
    {
        byte[] bytes = BranchyGraphs.DynamicHeadBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "dynhead.onnx"));
        // The shape arithmetic is computed on the CPU by the GPU runner; the constants GELU reads are not ops.
        Assert.Contains("shp", graph.HostValues);
        Assert.DoesNotContain("g", graph.HostValues);
        Tensor x = Random(3, 9, 7, 21).Reshape(1, 3, 9, 7);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x });
        Assert.Equal([1f, -1f], ours["shp"].Data);
        string[] floats = graph.Ops.Where(o => !graph.HostValues.Contains(o.Output)).Select(o => o.Output).ToArray();
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x, floats);
        foreach (string n in floats) AssertClose(ort[n], ours[n].Data, $"value '{n}'");
        Assert.Equal([1, 4], ours["y"].Shape);

        // As a stack: the shape arithmetic is folded at import (batch 1), the Reshape is a flatten, MatMul + Add a linear
        // layer with the Add's constant as its bias, GELU's five nodes one gelu layer named after their common prefix.
        Stack stack = OnnxStack.FromGraph(graph, "dynhead");
        Assert.Equal(["conv", "relu", "globalavgpool", "flatten", "linear", "gelu"], stack.Layers.Select(l => l.Type));
        Assert.Equal(["conv", "relu", "gap", "view", "fc", "gelu"], stack.Layers.Select(l => l.Label));
        var fc = (LinearLayer)stack.Layers[4];
        Assert.Equal(("fc", "fcb"), (fc.WeightName, fc.BiasName));
        Assert.Equal(graph.Initializers["fcb"].Data, fc.Bias);
        StackResult r = StackRunner.Run(stack, x.Reshape(3, 9, 7));
        AssertClose(ours["y"].Data, r.Outputs[^1].Data, "stack output");
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("h.json"), stack);
        AssertClose(r.Outputs[^1].Data, StackRunner.Run(StackFile.Load(dir.File("h.json")), x.Reshape(3, 9, 7)).Outputs[^1].Data, "reloaded");
    }

    [Fact]
    public void CspBlock_MatchesOnnxRuntime_AndAsAStack_EveryLayer()
    {
        byte[] bytes = BranchyGraphs.CspBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "csp.onnx"));
        Tensor x = Random(3, 7, 10, 31);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, 7, 10) });
        string[] names = graph.Ops.Select(o => o.Output).ToArray();
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, 7, 10), names);
        foreach (string n in names) AssertClose(ort[n], ours[n].Data, $"value '{n}'");

        // Split's two outputs and the channel Slice are slice layers reading the SiLU's map (Sigmoid and Mul: one silu layer).
        Stack stack = OnnxStack.FromGraph(graph, "csp");
        Assert.Equal(["conv", "silu", "slice", "slice", "conv", "relu", "slice", "concat", "conv"], stack.Layers.Select(l => l.Type));
        Assert.Equal([(0, 2), (2, 4), (1, 3)], stack.Layers.OfType<SliceLayer>().Select(l => (l.Start, l.End)));
        Assert.Equal([2, 3, 5, 6], stack.Layers[7].Inputs!);
        StackResult r = StackRunner.Run(stack, x);
        string[] maps = graph.Ops.Where(o => o.Node.OpType != "Sigmoid").Select(o => o.Output).ToArray();
        for (int i = 0; i < maps.Length; i++) AssertClose(ours[maps[i]].Data, r.Outputs[i].Data, $"layer {i} ({stack.Layers[i].Type})");
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("csp.json"), stack);
        AssertClose(r.Outputs[^1].Data, StackRunner.Run(StackFile.Load(dir.File("csp.json")), x).Outputs[^1].Data, "reloaded");
    }

    [Fact]
    public void ShuffleNetUnit_MatchesOnnxRuntime_AndAsAStack_WithAChannelShuffleLayer()
    {
        byte[] bytes = BranchyGraphs.ShuffleUnitBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "shufflenet.onnx"));
        Tensor x = Random(3, 6, 9, 41);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, 6, 9) });
        string[] floats = graph.Ops.Where(o => !graph.HostValues.Contains(o.Output)).Select(o => o.Output).ToArray();
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, 6, 9), floats);
        foreach (string n in floats) AssertClose(ort[n], ours[n].Data, $"value '{n}'");

        // Reshape -> Transpose -> Reshape is one channel_shuffle layer; the sizes came from Shape at import.
        Stack stack = OnnxStack.FromGraph(graph, "shufflenet");
        Assert.Equal(["conv", "relu", "slice", "slice", "conv", "relu", "conv", "conv", "relu", "concat", "channel_shuffle", "conv"], stack.Layers.Select(l => l.Type));
        Assert.Equal(2, ((ChannelShuffleLayer)stack.Layers[10]).Groups);
        StackResult r = StackRunner.Run(stack, x);
        AssertClose(ours["sh"].Data, r.Outputs[10].Data, "the shuffled map");
        AssertClose(ours["y"].Data, r.Outputs[^1].Data, "the output");
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("s.json"), stack);
        AssertClose(r.Outputs[^1].Data, StackRunner.Run(StackFile.Load(dir.File("s.json")), x).Outputs[^1].Data, "reloaded");
    }

    [Fact]
    public void ConvNeXtBlock_MatchesOnnxRuntime_AndAsAStack_ChannelsLastFolded()
    {
        byte[] bytes = BranchyGraphs.ConvNeXtBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "convnext.onnx"));
        Tensor x = Random(3, 9, 11, 43);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, 9, 11) });
        string[] names = graph.Ops.Select(o => o.Output).ToArray();
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, 9, 11), names);
        foreach (string n in names) AssertClose(ort[n], ours[n].Data, $"value '{n}'");

        // The two Transposes are no layer; LayerNormalization over the last axis is a layernorm over the channels, the
        // MatMuls 1x1 convs with the bias Adds (and the layer scale Mul) folded in, GELU's five nodes one gelu layer.
        Stack stack = OnnxStack.FromGraph(graph, "convnext");
        Assert.Equal(["conv", "conv", "layernorm", "conv", "gelu", "conv", "add"], stack.Layers.Select(l => l.Type));
        Assert.Equal(["stem", "dwconv", "norm", "pwconv1", "gelu", "pwconv2", "residual"], stack.Layers.Select(l => l.Label));
        var (pw1, pw2) = ((ConvLayer)stack.Layers[3], (ConvLayer)stack.Layers[5]);
        // pwconv1 keeps its weight (a bias alone is added) and takes the Add's constant as its bias; pwconv2's weight and
        // bias are scaled by the layer scale, new tensors named after the layer.
        Assert.Equal(("w1", "b1"), (pw1.WeightName, pw1.BiasName));
        Assert.Equal(("pwconv2.weight", "pwconv2.bias"), (pw2.WeightName, pw2.BiasName));
        float[] gamma = graph.Initializers["gamma"].Data, b2 = graph.Initializers["b2"].Data;
        Assert.Equal(gamma[5] * b2[5], pw2.Bias![5], 1e-6f);
        Assert.Equal(gamma[2] * graph.Initializers["w2"].Data[7 * 8 + 2], pw2.Weight.Data[2 * 16 + 7], 1e-6f);
        StackResult r = StackRunner.Run(stack, x);
        Tensor ChannelsFirst(string v, int c) => Indexing.Transpose(ours[v].Reshape(9, 11, c), [2, 0, 1]);
        AssertClose(ChannelsFirst("n", 8).Data, r.Outputs[2].Data, "the layernorm (channels-last in ONNX)");
        AssertClose(ChannelsFirst("h", 16).Data, r.Outputs[3].Data, "pwconv1 with its bias");
        AssertClose(ChannelsFirst("gl", 16).Data, r.Outputs[4].Data, "the gelu");
        AssertClose(ChannelsFirst("ls", 8).Data, r.Outputs[5].Data, "pwconv2 with its bias and layer scale");
        AssertClose(ours["y"].Data, r.Outputs[^1].Data, "the output");
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("c.json"), stack);
        AssertClose(r.Outputs[^1].Data, StackRunner.Run(StackFile.Load(dir.File("c.json")), x).Outputs[^1].Data, "reloaded");
    }

    /// <summary>The layernorm layer by hand: the pixel (1, 2, 3) has mean 2 and variance 2/3, so it normalises to
    /// (-1.2247, 0, 1.2247); scale 2 and shift 1 on channel 0 give -1.4495.</summary>
    [Fact]
    public void ChannelLayerNorm_WorkedExample_AndStackFileErrors()
    {
        var layer = new ChannelLayerNormLayer(new LayerNorm([2f, 1f, 1f], [1f, 0f, 0f], 0f));
        Tensor y = layer.Forward(Tensor.Chw(3, 1, 1, [1, 2, 3]));
        Assert.Equal(1 - 2 * 1.2247449f, y.Data[0], 1e-5f);
        Assert.Equal(0f, y.Data[1], 1e-6f);
        Assert.Equal(1.2247449f, y.Data[2], 1e-5f);
        var e = Assert.Throws<ConvGLException>(() => layer.Forward(Tensor.Chw(2, 1, 1)));
        Assert.Equal("layernorm has parameters for 3 channels, its input has 2", e.Message);
    }

    /// <summary>A (1, 1, 1, C) constant against a channels-first map varies along W, not C: no per-channel affine
    /// layer, even when W and C happen to be equal (it used to import as one).</summary>
    [Fact]
    public void AConstantAlongTheWidth_IsNotAChannelConstant()
    {
        var g = new GraphProto { Name = "g" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Initializer.Add(ProtoBuilders.FloatData("k", [1f, 2f, 3f], 1, 1, 1, 3));
        ProtoBuilders.Node(g, "scale", "Mul", ["x", "k"], "y");
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "w.onnx"));
        var e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(graph, "w"));
        Assert.Contains("constant (1, 1, 1, 3) is not one value per channel", e.Message);
    }

    /// <summary>Channels 0..5 in 2 groups of 3 read column by column: 0, 3, 1, 4, 2, 5 (torch.nn.ChannelShuffle(2)).</summary>
    [Fact]
    public void ChannelShuffle_WorkedExample()
    {
        Tensor y = new ChannelShuffleLayer(2).Forward(Iota(6, 1, 1));
        Assert.Equal([0f, 3, 1, 4, 2, 5], y.Data);
        Assert.Equal([0f, 2, 4, 1, 3, 5], new ChannelShuffleLayer(3).Forward(Iota(6, 1, 1)).Data);
        Assert.Equal(Iota(6, 1, 1).Data, new ChannelShuffleLayer(1).Forward(Iota(6, 1, 1)).Data);
        var e = Assert.Throws<ConvGLException>(() => new ChannelShuffleLayer(4).Forward(Iota(6, 1, 1)));
        Assert.Contains("needs channels divisible by 4", e.Message);
        // The strided view reads the same order.
        StridedView v = new ChannelShuffleLayer(2).View(6, 2);
        Assert.Equal(new ChannelShuffleLayer(2).Forward(Iota(6, 1, 2)).Data, v.Read(Iota(6, 1, 2), [12]).Data);
    }

    [Fact]
    public void SliceLayer_WorkedExample_AndErrors()
    {
        Tensor x = Iota(4, 1, 2);
        Assert.Equal([2f, 3, 4, 5], new SliceLayer(1, 3).Forward(x).Data);
        Assert.Throws<ConvGLException>(() => new SliceLayer(2, 2));
        var e = Assert.Throws<ConvGLException>(() => new SliceLayer(3, 5).Forward(x));
        Assert.Equal("slice takes channels 3..4; its input has 4", e.Message);
        using var dir = new TempDir();
        File.WriteAllText(dir.File("s.json"), """{"input": "rgb", "layers": [{"type": "slice", "start": 2, "end": 1}]}""");
        var bad = Assert.Throws<ConvGLException>(() => StackFile.Load(dir.File("s.json")));
        Assert.Contains("layers[0] (slice) field 'end': must be greater than start (2), found 1", bad.Message);
    }

    [Theory]
    [InlineData(5, 7)]
    [InlineData(8, 3)]
    public void ShuffleModel_MatchesOnnxRuntime_OnEveryValue(int h, int w)
    {
        byte[] bytes = BranchyGraphs.ShuffleBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "shuffle.onnx"));
        Assert.Equal(2, graph.Ops.Count(o => o is SplitOp));
        Tensor x = Random(4, h, w, h + w).Reshape(1, 4, h, w);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x });
        string[] floats = graph.Ops.Where(o => !graph.HostValues.Contains(o.Output)).Select(o => o.Output).ToArray();
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x, floats);
        foreach (string n in floats) AssertClose(ort[n], ours[n].Data, $"{h}x{w} value '{n}'");
        int kept = (w - 2 + 1) / 2;
        Assert.Equal([1, 4, 2, h], ours["y"].Shape);
        Assert.Equal([1, 4, kept], ours["y2"].Shape);
    }

    [Fact]
    public void AStackShapeThatNeedsTheMapSize_IsOneError()
    {
        // Reshape(x, [Shape(x)[0], Shape(x)[1] * Shape(x)[2], -1]) depends on the height: a stack cannot know it.
        var g = new GraphProto { Name = "g" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Initializer.Add(ProtoBuilders.Int64Data("first3", 0, 1, 2));
        g.Initializer.Add(ProtoBuilders.Int64Data("minus1", -1));
        ProtoBuilders.Node(g, "shape", "Shape", ["x"], "s");
        ProtoBuilders.Node(g, "dims", "Gather", ["s", "first3"], "d");
        ProtoBuilders.Node(g, "target", "Concat", ["d", "minus1"], "t", new AttributeProto { Name = "axis", Type = 2, I = 0 });
        ProtoBuilders.Node(g, "view", "Reshape", ["x", "t"], "y");
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "view.onnx"));
        Assert.Equal([1, 3, 4, 5], graph.Run(new Dictionary<string, Tensor> { ["x"] = new Tensor([1, 3, 4, 5]) })["y"].Shape);
        var e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(graph, "view"));
        Assert.Equal("view.onnx: node 'view' (Reshape): in a stack a Reshape's shape may use the batch and channel counts only; entry 2 depends on the map's height or width", e.Message);
    }
}
