using ConvGL.Core.Onnx;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using static ConvGL.Core.Tests.Onnx.BranchyOpsTests;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>The `attention` layer (dot-product attention over the positions, <see cref="Attention"/>): a worked example by
/// hand, properties (weights sum to 1; scale 0 averages the values; one key gives its value everywhere; key positions
/// shuffled together with their values change nothing), the shape and size errors, and the stack file's fields and round
/// trip. ONNX exports of SAGAN's and a diffusion UNet's attention blocks are checked against ONNX Runtime in
/// <see cref="ArchitectureGraphs"/>.</summary>
public class AttentionTests
{
    [Fact]
    public void WorkedExample_ByHand()
    {
        // Two positions of one channel. Query 1 at p0, 0 at p1; keys ln 2 and 0; values 3 and 6.
        // p0: logits (ln 2, 0) -> weights (2/3, 1/3) -> 2 + 2 = 4. p1: logits (0, 0) -> (1/2, 1/2) -> 4.5.
        Tensor q = Tensor.Chw(1, 1, 2, [1f, 0f]);
        Tensor k = Tensor.Chw(1, 1, 2, [MathF.Log(2f), 0f]);
        Tensor v = Tensor.Chw(1, 1, 2, [3f, 6f]);
        Tensor o = Attention.Apply(q, k, v, 1f);
        Assert.Equal([1, 1, 2], o.Shape);
        Assert.Equal(4f, o.Data[0], 5);
        Assert.Equal(4.5f, o.Data[1], 5);
        Assert.Equal([2f / 3f, 1f / 3f], Attention.Weights(q, k, 1f, 0));
        // Scale 2 doubles the logits: (2 ln 2, 0) -> (4/5, 1/5) -> 2.4 + 1.2 = 3.6.
        Assert.Equal(3.6f, Attention.Apply(q, k, v, 2f).Data[0], 5);
        // The layer's default scale is 1 / sqrt(channels of q): 1 here.
        Assert.Equal(o.Data, new AttentionLayer().Forward([q, k, v]).Data);
        Assert.Equal(0.5f, new AttentionLayer().ScaleFor(4));
        Assert.Equal(0.25f, new AttentionLayer(0.25f).ScaleFor(4));
    }

    /// <summary>Two heads by hand: head 0 takes q's and k's channel 0 and weighs v's channel 0, head 1 channels 1 of each.</summary>
    [Fact]
    public void WorkedExample_TwoHeads()
    {
        // One query position, two keys. Head 0: q 1, keys (0, ln 2) -> weights (1/3, 2/3); values (3, 6) -> 1 + 4 = 5.
        // Head 1: q 1, keys (ln 3, 0) -> weights (3/4, 1/4); values (4, 12) -> 3 + 3 = 6.
        Tensor q = Tensor.Chw(2, 1, 1, [1f, 1f]);
        Tensor k = Tensor.Chw(2, 1, 2, [0f, MathF.Log(2f), MathF.Log(3f), 0f]);
        Tensor v = Tensor.Chw(2, 1, 2, [3f, 6f, 4f, 12f]);
        Tensor o = Attention.Apply(q, k, v, 1f, heads: 2);
        Assert.Equal(5f, o.Data[0], 5);
        Assert.Equal(6f, o.Data[1], 5);
        float[] w0 = Attention.Weights(q, k, 1f, 0, head: 0, heads: 2), w1 = Attention.Weights(q, k, 1f, 0, head: 1, heads: 2);
        Assert.Equal((1 / 3.0, 2 / 3.0), (Math.Round(w0[0], 6), Math.Round(w0[1], 6)), (a, b) => Math.Abs(a.Item1 - b.Item1) < 1e-6 && Math.Abs(a.Item2 - b.Item2) < 1e-6);
        Assert.Equal((0.75, 0.25), (w1[0], w1[1]), (a, b) => Math.Abs(a.Item1 - b.Item1) < 1e-6 && Math.Abs(a.Item2 - b.Item2) < 1e-6);
        // One head over both channels: logits (ln 3, ln 2) -> (3/5, 2/5): channel 0 3 x 3/5 + 6 x 2/5 = 4.2.
        Assert.Equal(4.2f, Attention.Apply(q, k, v, 1f).Data[0], 5);
        // The layer's default scale is 1 / sqrt(channels a head): 8 channels in 2 heads -> 1/2.
        Assert.Equal(0.5f, new AttentionLayer(heads: 2).ScaleFor(8));
        Assert.Equal(o.Data, new AttentionLayer(1f, heads: 2).Forward([q, k, v]).Data);
    }

    /// <summary>h heads are h attentions side by side: each head's output channels equal a one-head attention of that head's
    /// channel slices of q, k and v (random maps, a pooled key map, 1 to 4 heads).</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Heads_AreSeparateAttentionsOverTheirChannelSlices(int heads)
    {
        int dq = 2, dv = 3;
        Tensor q = Random(dq * heads, 3, 5, 11), k = Random(dq * heads, 2, 3, 12), v = Random(dv * heads, 2, 3, 13);
        Tensor all = Attention.Apply(q, k, v, 0.8f, heads);
        static Tensor Slice(Tensor t, int first, int count) => Tensor.Chw(count, t.H, t.W, t.Data.AsSpan(first * t.H * t.W, count * t.H * t.W).ToArray());
        for (int h = 0; h < heads; h++)
        {
            Tensor one = Attention.Apply(Slice(q, h * dq, dq), Slice(k, h * dq, dq), Slice(v, h * dv, dv), 0.8f);
            Assert.Equal(one.Data, Slice(all, h * dv, dv).Data);
        }
    }

    /// <summary>Two query channels against three keys of a 1x3 map, values of two channels, all by hand.</summary>
    [Fact]
    public void WorkedExample_SeveralChannels()
    {
        // q at p0 = (1, 1), p1 = (0, 2); keys k0 = (1, 0), k1 = (0, 1), k2 = (0, 0).
        Tensor q = Tensor.Chw(2, 1, 2, [1f, 0f, 1f, 2f]);
        Tensor k = Tensor.Chw(2, 1, 3, [1f, 0f, 0f, 0f, 1f, 0f]);
        Tensor v = Tensor.Chw(2, 1, 3, [1f, 2f, 3f, 10f, 0f, -10f]);
        Tensor o = Attention.Apply(q, k, v, 1f);
        // p0: logits (1, 1, 0): weights (e, e, 1) / (2e + 1).
        double e = Math.E, z = 2 * e + 1;
        Assert.Equal((float)((e * 1 + e * 2 + 3) / z), o.Data[0], 5);
        Assert.Equal((float)((e * 10 - 10) / z), o.Data[2], 5);
        // p1: logits (0, 2, 0): weights (1, e^2, 1) / (e^2 + 2).
        double e2 = Math.Exp(2), z2 = e2 + 2;
        Assert.Equal((float)((1 + 2 * e2 + 3) / z2), o.Data[1], 5);
        Assert.Equal((float)((10 - 10) / z2), o.Data[3], 5);
    }

    [Fact]
    public void Properties_HoldOnRandomMaps()
    {
        Tensor q = Random(3, 4, 5, 1), k = Random(3, 3, 2, 2), v = Random(4, 3, 2, 3);
        for (int p = 0; p < 20; p++) Assert.Equal(1.0, Attention.Weights(q, k, 0.7f, p).Sum(w => (double)w), 5);
        // Scale 0: every weight 1 / keys, every position the mean of the values.
        Tensor mean = Attention.Apply(q, k, v, 0f);
        for (int c = 0; c < 4; c++)
            for (int p = 0; p < 20; p++)
                Assert.Equal(v.Data.Skip(c * 6).Take(6).Average(), mean.Data[c * 20 + p], 5);
        // One key position: its value at every query position, whatever the logits.
        Tensor one = Attention.Apply(q, Random(3, 1, 1, 4), Tensor.Chw(2, 1, 1, [7f, -3f]), 5f);
        Assert.All(one.Data.Take(20), x => Assert.Equal(7f, x));
        Assert.All(one.Data.Skip(20), x => Assert.Equal(-3f, x));
        // Keys and their values moved to other positions together: the same output (attention has no notion of where).
        int[] perm = [4, 0, 5, 2, 1, 3];
        Tensor kp = Tensor.Chw(3, 3, 2), vp = Tensor.Chw(4, 3, 2);
        for (int j = 0; j < 6; j++)
        {
            for (int d = 0; d < 3; d++) kp.Data[d * 6 + perm[j]] = k.Data[d * 6 + j];
            for (int c = 0; c < 4; c++) vp.Data[c * 6 + perm[j]] = v.Data[c * 6 + j];
        }
        Tensor a = Attention.Apply(q, k, v, 0.7f), b = Attention.Apply(q, kp, vp, 0.7f);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a.Data[i], b.Data[i], 5);
        // A big scale picks the best-matching key alone (softmax -> argmax), with no overflow.
        Tensor sharp = Attention.Apply(Tensor.Chw(1, 1, 1, [1f]), Tensor.Chw(1, 1, 3, [1f, 2f, 3f]), Tensor.Chw(1, 1, 3, [10f, 20f, 30f]), 1000f);
        Assert.Equal(30f, sharp.Data[0]);
    }

    [Fact]
    public void NonFiniteLogits_AsTheSoftmaxReference()
    {
        Tensor v = Tensor.Chw(1, 1, 2, [1f, 2f]);
        Tensor k = Tensor.Chw(1, 1, 2, [1f, 0f]);
        Assert.True(float.IsNaN(Attention.Apply(Tensor.Chw(1, 1, 1, [float.NaN]), k, v, 1f).Data[0]));
        Assert.True(float.IsNaN(Attention.Apply(Tensor.Chw(1, 1, 1, [float.PositiveInfinity]), k, v, 1f).Data[0]));
        // -inf times key 1 is -inf (weight 0), times key 0 NaN: NaN.
        Assert.True(float.IsNaN(Attention.Apply(Tensor.Chw(1, 1, 1, [float.NegativeInfinity]), k, v, 1f).Data[0]));
        // A -inf logit beside finite ones has weight 0: keys (-inf, 0).
        Assert.Equal(2f, Attention.Apply(Tensor.Chw(1, 1, 1, [1f]), Tensor.Chw(1, 1, 2, [float.NegativeInfinity, 0f]), v, 1f).Data[0]);
    }

    [Fact]
    public void Shapes_AndTheirErrors()
    {
        var layer = new AttentionLayer();
        Assert.Equal(3, layer.InputCount);
        Assert.Equal(new MapShape(16, 5, 7), layer.OutputShape([new MapShape(2, 5, 7), new MapShape(2, 3, 4), new MapShape(16, 3, 4)], out string? error));
        Assert.Null(error);
        layer.OutputShape([new MapShape(2, 5, 7), new MapShape(3, 5, 7), new MapShape(16, 5, 7)], out error);
        Assert.Equal("attention: the query has 2 channels and the keys 3; q and k need one channel count (their dot product runs over it)", error);
        var e = Assert.Throws<ConvGLException>(() => layer.OutputShape([new MapShape(2, 5, 7), new MapShape(2, 5, 7), new MapShape(16, 5, 6)], out _));
        Assert.Equal("attention: the keys are 7x5 and the values 6x5; k and v need one size (one value per key position)", e.Message);
        // 640x360 attending over itself: 2.3e5 x 2.3e5 positions, one error before any work.
        e = Assert.Throws<ConvGLException>(() => Attention.CheckShapes("attention", (8, 360, 640), (8, 360, 640), (64, 360, 640)));
        Assert.StartsWith("attention: 640x360 queries attending over 640x360 keys take 3.82e+12 multiply-adds, over ConvGL's limit", e.Message);
        // In a stack that is maps too large for the input: the window's frames get the halving that runs (the review: a
        // search axis by axis named 175x175 "for one", or a square as "the nearest sizes").
        Stack stack = StackFile.Parse("""
            {"input": "rgb", "layers": [{"type": "conv", "kernels": ["sobel-x"], "sum": true}, {"type": "attention", "inputs": [0, 0, 0]}]}
            """, "big.json");
        var big = Assert.Throws<MapsTooLargeException>(() => StackInputSizes.CheckFrames(stack, 360, 640));
        Assert.Equal("big.json: layers[1] (attention): 640x360 queries attending over 640x360 keys take 1.06e+11 multiply-adds, over ConvGL's limit of 1.72e+10; " +
                     "run it on a smaller input (attention blocks sit on small maps deep in a network) (stack input 640x360); it runs at 320x180 (e.g. --source scene:320x180)", big.Message);
        Assert.Throws<ConvGLException>(() => Attention.Apply(Tensor.Chw(2, 2, 2), Tensor.Chw(2, 2, 2), Tensor.Chw(1, 2, 3), 1f));
        // Heads must divide q's and v's channels.
        new AttentionLayer(heads: 2).OutputShape([new MapShape(4, 5, 7), new MapShape(4, 3, 4), new MapShape(6, 3, 4)], out error);
        Assert.Null(error);
        new AttentionLayer(heads: 2).OutputShape([new MapShape(4, 5, 7), new MapShape(4, 3, 4), new MapShape(5, 3, 4)], out error);
        Assert.Equal("attention: 2 heads do not divide the query's 4 and the values' 5 channels; each head takes an equal share of both (only 1 head would)", error);
        e = Assert.Throws<ConvGLException>(() => Attention.Apply(Tensor.Chw(3, 2, 2), Tensor.Chw(3, 2, 2), Tensor.Chw(2, 2, 2), 1f, heads: 2));
        Assert.Equal("attention: 2 heads do not divide the query's 3 and the values' 2 channels; each head takes an equal share of both (only 1 head would)", e.Message);
        Assert.Throws<ConvGLException>(() => new AttentionLayer(heads: 0));
    }

    [Fact]
    public void StackFile_ReadsWritesAndRefuses()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("a.json"), """
            {"input": "rgb", "layers": [
              {"type": "conv", "name": "x", "kernels": ["sobel-x", "sobel-y"], "sum": true, "border": "reflect"},
              {"type": "maxpool", "name": "small", "size": 2},
              {"type": "attention", "name": "self", "inputs": ["x", "small", "small"]},
              {"type": "attention", "name": "scaled", "inputs": ["x", "x", "input"], "scale": 0.125}
            ]}
            """);
        Stack stack = StackFile.Load(dir.File("a.json"));
        Tensor image = Random(3, 6, 8, 7);
        StackResult r = StackRunner.Run(stack, image);
        Assert.Equal([2, 6, 8], r.Outputs[2].Shape);
        Assert.Equal([3, 6, 8], r.Outputs[3].Shape);
        Tensor expected = Attention.Apply(r.Outputs[0], r.Outputs[1], r.Outputs[1], 1 / MathF.Sqrt(2));
        Assert.Equal(expected.Data, r.Outputs[2].Data);
        Assert.Equal(Attention.Apply(r.Outputs[0], r.Outputs[0], image, 0.125f).Data, r.Outputs[3].Data);
        StackWriter.Write(dir.File("back.json"), stack);
        string back = File.ReadAllText(dir.File("back.json"));
        Assert.Contains("\"scale\": 0.125", back);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(back, "\"scale\""));
        StackResult again = StackRunner.Run(StackFile.Load(dir.File("back.json")), image);
        for (int i = 0; i < r.Outputs.Count; i++) Assert.Equal(r.Outputs[i].Data, again.Outputs[i].Data);

        // "heads": read, run as Attention.Apply in heads, written back (and left out at 1).
        Stack headed = StackFile.Parse("""
            {"input": "rgb", "layers": [
              {"type": "conv", "name": "x", "kernels": ["sobel-x", "sobel-y", "laplacian", "box:3"], "sum": true},
              {"type": "attention", "inputs": ["x", "x", "x"], "heads": 2}
            ]}
            """, "h.json");
        Assert.Equal(2, Assert.IsType<AttentionLayer>(headed.Layers[1]).Heads);
        StackResult hr = StackRunner.Run(headed, image);
        Assert.Equal(Attention.Apply(hr.Outputs[0], hr.Outputs[0], hr.Outputs[0], 1 / MathF.Sqrt(2), heads: 2).Data, hr.Outputs[1].Data);
        StackWriter.Write(dir.File("headed.json"), headed);
        Assert.Contains("\"heads\": 2", File.ReadAllText(dir.File("headed.json")));
        Assert.Equal(2, Assert.IsType<AttentionLayer>(StackFile.Load(dir.File("headed.json")).Layers[1]).Heads);
        Assert.DoesNotContain("heads", back);
        var e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""{"input": "gray", "layers": [{"type": "attention", "inputs": ["input", "input", "input"], "heads": 0}]}""", "s.json"));
        Assert.Equal("s.json: layers[0] (attention) field 'heads': must be at least 1, found 0", e.Message);
        e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""{"input": "rgb", "layers": [{"type": "attention", "inputs": ["input", "input", "input"], "heads": 2}]}""", "s.json"));
        Assert.Equal("s.json: layers[0] (attention) field 'heads': attention: 2 heads do not divide the query's 3 and the values' 3 channels; each head takes an equal share of both (heads 1 or 3 would)", e.Message);
        e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""{"input": "rgb", "layers": [{"type": "conv", "kernels": ["sobel-x", "sobel-y", "laplacian", "box:3"], "sum": true}, {"type": "attention", "inputs": [0, 0, "input"], "heads": 5}]}""", "s.json"));
        Assert.EndsWith("field 'heads': attention: 5 heads do not divide the query's 4 and the values' 3 channels; each head takes an equal share of both (only 1 head would)", e.Message);
        e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""{"input": "gray", "layers": [{"type": "attention", "inputs": ["input", "input"]}]}""", "s.json"));
        Assert.Equal("s.json: layers[0] (attention) field 'inputs': attention reads three maps, \"inputs\": [q, k, v] (query, keys, values), got 2", e.Message);
        e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""{"input": "gray", "layers": [{"type": "attention", "inputs": ["input", "input", "input"], "scale": "x"}]}""", "s.json"));
        Assert.Contains("field 'scale': must be a finite number", e.Message);
        e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""
            {"input": "rgb", "layers": [{"type": "conv", "kernels": ["sobel-x"], "sum": true},
              {"type": "attention", "inputs": [0, "input", "input"]}]}
            """, "s.json"));
        Assert.Equal("s.json: layers[1] (attention) field 'inputs': attention: the query has 1 channels and the keys 3; q and k need one channel count (their dot product runs over it)", e.Message);
    }

    /// <summary>The exported forms (<see cref="ArchitectureGraphs"/>: SAGAN, latent diffusion's AttnBlock, a non-local block,
    /// logits written keys first) each import as one attention layer reading the q, k and v convs, named after the block,
    /// with the scale the export applies (their outputs equal ONNX Runtime's in ArchitectureImportTests).</summary>
    [Theory]
    [InlineData("sagan", 13, "/attn/Attention", 1f, 16)]
    [InlineData("sagan", 11, "/attn/Attention", 1f, 16)]
    [InlineData("ldm_attn", 17, "/attn_1/Attention", 0.35355339f, 8)]
    [InlineData("nonlocal", 13, "/nl/Attention", 0.5f, 4)]
    [InlineData("attn_keys_first", 13, "/att/Attention", 0.5f, 5)]
    public void ExportedForms_ImportAsOneAttentionLayer(string arch, long opset, string label, float scale, int channels)
    {
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(ArchitectureGraphs.Build(arch, opset), arch + ".onnx")), arch);
        var att = Assert.Single(stack.Layers.OfType<AttentionLayer>());
        Assert.Equal(label, att.Label);
        Assert.Equal(scale, att.Scale!.Value, 6);
        Assert.DoesNotContain(stack.Layers, l => l is SoftmaxLayer or FlattenLayer or LinearLayer);
        int at = stack.Layers.ToList().IndexOf(att);
        string[] reads = att.Inputs!.Select(j => stack.Layers[j].Label!).ToArray();
        Assert.Equal(3, reads.Length);
        Assert.All(reads, r => Assert.Contains("/", r));
        (int h, int w) = ArchitectureGraphs.SizeFor(arch);
        Assert.Equal(channels, StackRunner.Run(stack, Random(3, h, w, 2)).Outputs[at].C);
    }

    /// <summary>Multi-head forms (<see cref="ArchitectureGraphs"/>: BoTNet's MHSA in 4 heads from Shape arithmetic, 2 heads with
    /// the values last, 2 heads as a bmm's batch; attention over a transformer block's tokens, diffusers' Attention in 1 and
    /// 4 heads and a Stable Diffusion style block in 2) import as one attention layer with the heads q's flattening or
    /// split makes.</summary>
    [Theory]
    [InlineData("botnet_mhsa", 11, "/mhsa/Attention", 4, 1f, 16)]
    [InlineData("botnet_mhsa", 17, "/mhsa/Attention", 4, 1f, 16)]
    [InlineData("mhsa_values_last", 13, "/attn/Attention", 2, 0.5f, 6)]
    [InlineData("heads_as_batch", 13, "/attn/Attention", 2, 0.5f, 6)]
    [InlineData("diffusers_attn", 17, "/mid_block/attentions.0/Attention", 1, 0.25f, 16)]
    [InlineData("diffusers_attn_heads", 17, "/mid_block/attentions.0/Attention", 4, 0.5f, 16)]
    [InlineData("transformer_block", 17, "/transformer_blocks.0/attn1/Attention", 2, 0.35355339f, 16)]
    [InlineData("diffusers_attn_torchscale", 17, "/mid_block/attentions.0/Attention", 2, float.NaN, 16)]
    public void MultiHeadForms_ImportAsOneAttentionLayerInHeads(string arch, long opset, string label, int heads, float scale, int channels)
    {
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(ArchitectureGraphs.Build(arch, opset), arch + ".onnx")), arch);
        var att = Assert.Single(stack.Layers.OfType<AttentionLayer>());
        Assert.Equal((label, heads), (att.Label, att.Heads));
        // (NaN: torch's default, computed from the query's shape in the export: the layer's own default, 1 / sqrt(C / heads).)
        if (float.IsNaN(scale)) Assert.Null(att.Scale);
        else Assert.Equal(scale, att.Scale!.Value, 6);
        Assert.DoesNotContain(stack.Layers, l => l is SoftmaxLayer or FlattenLayer or LinearLayer);
        (int h, int w) = ArchitectureGraphs.SizeFor(arch);
        Assert.Equal(channels, StackRunner.Run(stack, Random(3, h, w, 2)).Outputs[stack.Layers.ToList().IndexOf(att)].C);
    }

    /// <summary>q and k in 2 heads, v flattened whole (3 channels, which ONNX Runtime broadcasts over the heads): the
    /// error names v's Reshape and the heads (the review: it blamed q's Reshape, saying attention needs one head).</summary>
    [Fact]
    public void HeadsThatDoNotSplitTheValues_AreOneErrorNamingTheValuesReshape()
    {
        var t = new TorchGraph(7, 13);
        t.FixInput(6, 8);
        string x = t.Conv("/conv/Conv", "x", 3, 8, 3);
        string v = t.Conv("/v/Conv", "x", 3, 3, 3);
        string Heads(string n) => t.Node($"/a/Reshape_{n}", "Reshape", [x, t.ConstI($"/a/Constant_{n}", [1, 2, 4, 48])]);
        string Swap(string n, string m) => t.Node($"/a/Transpose_{n}", "Transpose", [m], ProtoBuilders.Ints("perm", 0, 1, 3, 2));
        string w = t.Node("/a/Softmax", "Softmax", [t.Node("/a/MatMul", "MatMul", [Swap("q", Heads("q")), Heads("k")])], ProtoBuilders.Int("axis", -1));
        string o = t.Node("/a/MatMul_1", "MatMul", [t.Node("/a/Reshape_v", "Reshape", [v, t.ConstI("/a/Constant_v", [1, 3, 48])]), Swap("w", w)]);
        o = t.Node("/a/Reshape_o", "Reshape", [o, t.ConstI("/a/Constant_o", [1, 6, 6, 8])]);
        var e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(t.Bytes(o), "v.onnx")), "v"));
        Assert.Equal("v.onnx: node '/a/Reshape_v' (Reshape): in a stack attention's heads split v too: q's Reshape makes 2 heads, and the values' 3 channels do not split into 2", e.Message);
    }

    /// <summary>A flattening that is not (N, C, H*W) (here [1, 2, -1]: two rows of four channels' positions, not heads) is one error naming the
    /// Reshape and what it got; logits over the channels (C x C, DANet's channel attention) are no attention layer: the
    /// MatMul of two maps stays one error naming its node.</summary>
    [Fact]
    public void OtherFlattenings_AndChannelAttention_AreOneErrorNamingANode()
    {
        byte[] Model(bool heads)
        {
            var t = new TorchGraph(5, 13);
            string x = t.Conv("/conv/Conv", "x", 3, 8, 3);
            string tq = t.Node("/a/Transpose", "Transpose", [t.Node("/a/Reshape", "Reshape", [x, t.ConstI("/a/Constant", heads ? [1, 2, -1] : [1, 8, -1])])], ProtoBuilders.Ints("perm", 0, 2, 1));
            string tk = t.Node("/a/Reshape_1", "Reshape", [x, t.ConstI("/a/Constant_1", [1, 8, -1])]);
            // heads: positions x positions as before; else channels x channels: (C, P) x (P, C).
            string logits = heads ? t.Node("/a/MatMul", "MatMul", [tq, tk]) : t.Node("/a/MatMul", "MatMul", [tk, tq]);
            string wts = t.Node("/a/Softmax", "Softmax", [logits], ProtoBuilders.Int("axis", -1));
            string tv = t.Node("/a/Reshape_2", "Reshape", [x, t.ConstI("/a/Constant_2", [1, 8, -1])]);
            string o = heads ? t.Node("/a/MatMul_1", "MatMul", [tv, t.Node("/a/Transpose_1", "Transpose", [wts], ProtoBuilders.Ints("perm", 0, 2, 1))])
                : t.Node("/a/MatMul_1", "MatMul", [wts, tv]);
            return t.Bytes(t.Node("/a/Reshape_3", "Reshape", [o, t.ConstI("/a/Constant_3", [1, 8, 5, 6])]));
        }
        var e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(Model(true), "heads.onnx")), "heads"));
        Assert.Equal("heads.onnx: node '/a/Reshape' (Reshape): in a stack attention's Reshape flattens q (a map of 8 channels) to (1, C, H*W), got [1, 2, -1], " +
                     "which makes (1, 2, 258048) of (1, 8, 224, 288) where attention needs (1, 8, 64512) (at a sample input size, 288x224)", e.Message);
        e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(Model(false), "cam.onnx")), "cam"));
        Assert.StartsWith("cam.onnx: node '/a/", e.Message);
        Assert.DoesNotContain("Attention", e.Message);
    }
}
