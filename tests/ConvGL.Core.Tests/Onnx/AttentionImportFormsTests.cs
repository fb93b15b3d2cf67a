using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Stacks;
using static ConvGL.Core.Tests.Onnx.BranchyOpsTests;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>Attention forms a review (2026-12-06) built against the import: targets that are not (1, C, H*W) or back to the
/// query's size, a rank-4 scale that moves the Softmax's axis, Softmax over either axis at opsets 11 and 13, BigGAN's
/// pooled keys; each must be refused or equal ONNX Runtime (the first four imported with other numbers before).</summary>
public class AttentionImportFormsTests(ITestOutputHelper log)
{
    private const int H = 4, W = 8;

    /// <summary>Imported: the stack's output against ONNX Runtime's (null when the import refuses: the message).</summary>
    private (bool Imported, double Diff, string Text) Compare(string name, byte[] bytes, int h = H, int w = W)
    {
        if (TryImport(name, bytes, log, out string refusal) is not { } stack) return (false, 0, refusal);
        Tensor x = Random(3, h, w, 7);
        ModelProto model = ModelProto.Parser.ParseFrom(bytes);
        string o = model.Graph.Output[0].Name;
        float[] ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, h, w), [o])[o];
        StackResult r = StackRunner.Run(stack, x);
        float[] ours = r.Outputs[^1].Data;
        double d = ort.Length != ours.Length ? double.PositiveInfinity : ort.Zip(ours).Max(p => Math.Abs((double)p.First - p.Second));
        string text = $"{name}: imported as [{string.Join(", ", stack.Layers.Select(l => l.Type))}]; ORT {ort.Length} values max {ort.Max(Math.Abs):G3}, stack {r.Outputs[^1].ShapeString}; max |diff| {d:G3}";
        log.WriteLine(text);
        return (true, d, text);
    }

    /// <summary>The model imported as a stack, or null with the import's one error (logged).</summary>
    internal static Stack? TryImport(string name, byte[] bytes, ITestOutputHelper log, out string refusal)
    {
        refusal = "";
        try
        {
            return OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, name + ".onnx")), name);
        }
        catch (ConvGLException e)
        {
            log.WriteLine($"{name}: refused: {e.Message}");
            refusal = e.Message;
            return null;
        }
    }

    private static string Flat(TorchGraph t, string n, string map, long[] target) => t.Node($"/a/Reshape_{n}", "Reshape", [map, t.ConstI($"/a/Constant_{n}", target)]);

    /// <summary>SAGAN's form (q^T k, softmax(-1), v w^T) on q, k, v 1x1 convs (cq, cq, cv channels) of an 8-channel map,
    /// with the given flatten targets and the given unflatten target; <paramref name="after"/> a 3x3 conv after it.</summary>
    private static byte[] Sagan(long opset, long[] flatQk, long[] flatV, long[] back, int cq = 4, int cv = 4, bool after = false, long axis = -1)
    {
        var t = new TorchGraph(61, opset);
        t.FixInput(H, W);
        string x = t.Relu("/c/act", t.Conv("/c/Conv", "x", 3, 8, 3));
        string q = t.Conv("/a/q/Conv", x, 8, cq, 1), k = t.Conv("/a/k/Conv", x, 8, cq, 1), v = t.Conv("/a/v/Conv", x, 8, cv, 1);
        string pq = t.Node("/a/Transpose", "Transpose", [Flat(t, "q", q, flatQk)], ProtoBuilders.Ints("perm", 0, 2, 1));
        string e = t.Node("/a/MatMul", "MatMul", [pq, Flat(t, "k", k, flatQk)]);
        string s = t.Node("/a/Softmax", "Softmax", [e], ProtoBuilders.Int("axis", axis));
        string o = t.Node("/a/MatMul_1", "MatMul", [Flat(t, "v", v, flatV), t.Node("/a/Transpose_1", "Transpose", [s], ProtoBuilders.Ints("perm", 0, 2, 1))]);
        o = t.Node("/a/Reshape_o", "Reshape", [o, t.ConstI("/a/Constant_o", back)]);
        if (after) o = t.Conv("/post/Conv", o, cv, 2, 3);
        return t.Bytes(o);
    }

    [Fact]
    public void Baseline_ProperTargets_Match()
    {
        var r = Compare("baseline", Sagan(13, [1, 4, -1], [1, 4, -1], [1, 4, H, W], after: true));
        Assert.True(r.Imported && r.Diff < 1e-4, r.Text);
    }

    /// <summary>x.view(1, -1, 16) on 4-channel 4x8 maps: (1, 8, 16) tokens, not (1, 4, 32). ORT runs it (attention over 16
    /// "positions" of 8 channels); the check takes [1, -1, 16] for (N, C, H*W).</summary>
    [Fact]
    public void FlattenTarget_OtherPositionCount_IsRefusedOrMatches()
    {
        var r = Compare("view_1_m1_16", Sagan(13, [1, -1, 16], [1, -1, 16], [1, 4, H, W]));
        Assert.True(!r.Imported || r.Diff < 1e-4, r.Text);
    }

    /// <summary>[-1, 4, 16]: a batch of 2 (each half of the positions attends within itself).</summary>
    [Fact]
    public void FlattenTarget_BatchSplit_IsRefusedOrMatches()
    {
        var r = Compare("view_m1_4_16", Sagan(13, [-1, 4, 16], [-1, 4, 16], [1, 4, H, W]));
        Assert.True(!r.Imported || r.Diff < 1e-4, r.Text);
    }

    /// <summary>x.view(b, -1, w) with w from Shape: (1, C*H, W), attention along the width (rows as channels).</summary>
    [Fact]
    public void FlattenTarget_WidthFromShape_IsRefusedOrMatches()
    {
        var t = new TorchGraph(67, 13);
        string x = t.Relu("/c/act", t.Conv("/c/Conv", "x", 3, 8, 3));
        string q = t.Conv("/a/q/Conv", x, 8, 4, 1), k = t.Conv("/a/k/Conv", x, 8, 4, 1), v = t.Conv("/a/v/Conv", x, 8, 4, 1);
        string Dim(string n, long i) => t.Unsqueeze($"/a/Unsqueeze_{n}", t.Dim("/a", x, i, n, "Constant_g"), 0);
        string byW(string n) => t.Node($"/a/Concat_{n}", "Concat", [t.ConstI($"/a/Constant_{n}", [1, -1]), Dim(n, 3)], ProtoBuilders.Int("axis", 0));
        string R(string n, string m) => t.Node($"/a/Reshape_{n}", "Reshape", [m, byW(n)]);
        string pq = t.Node("/a/Transpose", "Transpose", [R("q", q)], ProtoBuilders.Ints("perm", 0, 2, 1));
        string s = t.Node("/a/Softmax", "Softmax", [t.Node("/a/MatMul", "MatMul", [pq, R("k", k)])], ProtoBuilders.Int("axis", -1));
        string o = t.Node("/a/MatMul_1", "MatMul", [R("v", v), t.Node("/a/Transpose_1", "Transpose", [s], ProtoBuilders.Ints("perm", 0, 2, 1))]);
        string back = t.Node("/a/Concat_o", "Concat", [t.ConstI("/a/Constant_o", [1, 4]), Dim("oh", 2), Dim("ow", 3)], ProtoBuilders.Int("axis", 0));
        var r = Compare("view_b_m1_w", t.Bytes(t.Node("/a/Reshape_o", "Reshape", [o, back])));
        Assert.True(!r.Imported || r.Diff < 1e-4, r.Text);
    }

    /// <summary>The result reshaped to (1, C, W, H) (not the queries' H x W), then a 3x3 conv.</summary>
    [Fact]
    public void UnflattenTarget_SwappedSize_IsRefusedOrMatches()
    {
        var r = Compare("unflatten_w_h", Sagan(13, [1, 4, -1], [1, 4, -1], [1, 4, W, H], after: true));
        Assert.True(!r.Imported || r.Diff < 1e-4, r.Text);
    }

    /// <summary>Keys-first logits scaled by a single stored value of shape (1, 1, 1, 1): broadcasting makes them rank 4
    /// (1, 1, keys, queries), so Softmax axis 1 is over a dimension of 1 (every weight 1) in ONNX; the pattern reads axis 1
    /// as rank 3's keys axis.</summary>
    [Theory]
    [InlineData(1L)]
    [InlineData(-3L)]
    public void Rank4ScalarScale_SoftmaxAxis_IsRefusedOrMatches(long axis)
    {
        var t = new TorchGraph(71, 13);
        string x = t.Relu("/c/act", t.Conv("/c/Conv", "x", 3, 6, 3));
        string q = t.Conv("/a/q/Conv", x, 6, 3, 1), k = t.Conv("/a/k/Conv", x, 6, 3, 1), v = t.Conv("/a/v/Conv", x, 6, 5, 1);
        string kt = t.Node("/a/Transpose", "Transpose", [Flat(t, "k", k, [1, 3, -1])], ProtoBuilders.Ints("perm", 0, 2, 1));
        string logits = t.Node("/a/MatMul", "MatMul", [kt, Flat(t, "q", q, [1, 3, -1])]);
        logits = t.Node("/a/Mul", "Mul", [logits, t.Init("scale4d", [0.5f], 1, 1, 1, 1)]);
        string w = t.Node("/a/Softmax", "Softmax", [logits], ProtoBuilders.Int("axis", axis));
        string o = t.Node("/a/MatMul_1", "MatMul", [Flat(t, "v", v, [1, 5, -1]), w]);
        var r = Compare($"rank4_scale_axis{axis}", t.Bytes(t.Node("/a/Reshape_o", "Reshape", [o, t.ConstI("/a/Constant_o", [1, 5, H, W])])));
        Assert.True(!r.Imported || r.Diff < 1e-4, r.Text);
    }

    /// <summary>Two heads ((1, 2, 2, H*W) tokens, Transposes [0, 1, 3, 2]) with the logits scaled by a stored (1, 1, 1, 1)
    /// value: on rank-4 logits it changes no axis, so it imports (the review: refused as on rank-3 logits) and equals ONNX
    /// Runtime.</summary>
    [Fact]
    public void Rank4ScalarScale_OnHeads_ImportsAndMatches()
    {
        var t = new TorchGraph(73, 13);
        t.FixInput(H, W);
        string x = t.Relu("/c/act", t.Conv("/c/Conv", "x", 3, 6, 3));
        string q = t.Conv("/a/q/Conv", x, 6, 4, 1), k = t.Conv("/a/k/Conv", x, 6, 4, 1), v = t.Conv("/a/v/Conv", x, 6, 4, 1);
        string Heads(string n, string m) => t.Node($"/a/Reshape_{n}", "Reshape", [m, t.ConstI($"/a/Constant_{n}", [1, 2, 2, H * W])]);
        string Swap(string n, string m) => t.Node($"/a/Transpose_{n}", "Transpose", [m], ProtoBuilders.Ints("perm", 0, 1, 3, 2));
        string logits = t.Node("/a/MatMul", "MatMul", [Swap("q", Heads("q", q)), Heads("k", k)]);
        logits = t.Node("/a/Mul", "Mul", [logits, t.Init("scale4d", [0.5f], 1, 1, 1, 1)]);
        string w = t.Node("/a/Softmax", "Softmax", [logits], ProtoBuilders.Int("axis", -1));
        string o = t.Node("/a/MatMul_1", "MatMul", [Heads("v", v), Swap("w", w)]);
        var r = Compare("rank4_scale_heads", t.Bytes(t.Node("/a/Reshape_o", "Reshape", [o, t.ConstI("/a/Constant_o", [1, 4, H, W])])));
        Assert.True(r.Imported && r.Diff < 1e-4, r.Text);
        Assert.Contains("attention", r.Text);
    }

    /// <summary>Softmax over axis 1 of SAGAN's (queries, keys) logits: over the queries. Then weights x v^T -> should be refused or equal.</summary>
    [Theory]
    [InlineData(11L, 2L)]
    [InlineData(11L, -1L)]
    [InlineData(13L, 1L)]
    [InlineData(13L, 2L)]
    public void Sagan_SoftmaxAxes_RefusedOrMatch(long opset, long axis)
    {
        var r = Compare($"sagan_op{opset}_axis{axis}", Sagan(opset, [1, 4, -1], [1, 4, -1], [1, 4, H, W], axis: axis));
        Assert.True(!r.Imported || r.Diff < 1e-4, r.Text);
    }

    /// <summary>BigGAN's attention: phi and g max-pooled 2x2 before their view(-1, C, H*W/4) (Shape arithmetic).</summary>
    [Fact]
    public void BigGan_PooledKeys_ImportsAndMatches()
    {
        var t = new TorchGraph(73, 13);
        string x = t.Relu("/c/act", t.Conv("/c/Conv", "x", 3, 8, 3));
        string theta = t.Conv("/a/theta/Conv", x, 8, 2, 1);
        string phi = t.MaxPool("/a/MaxPool", t.Conv("/a/phi/Conv", x, 8, 2, 1), 2, 2, 0);
        string g = t.MaxPool("/a/MaxPool_1", t.Conv("/a/g/Conv", x, 8, 4, 1), 2, 2, 0);
        string Dim(string n, long i) => t.Dim("/a", x, i, n, "Constant_g");
        string hw = t.Node("/a/Mul_hw", "Mul", [Dim("h", 2), Dim("w", 3)]);
        string hw4 = t.Node("/a/Div_hw", "Div", [hw, t.ConstI("/a/Constant_4", [4], scalar: true)]);
        string Target(string n, long c, string p) => t.Node($"/a/Concat_{n}", "Concat", [t.ConstI($"/a/Constant_{n}", [-1, c]), t.Unsqueeze($"/a/Unsqueeze_{n}", p, 0)], ProtoBuilders.Int("axis", 0));
        string th = t.Node("/a/Reshape", "Reshape", [theta, Target("t", 2, hw)]);
        string ph = t.Node("/a/Reshape_1", "Reshape", [phi, Target("p", 2, hw4)]);
        string gg = t.Node("/a/Reshape_2", "Reshape", [g, Target("g", 4, hw4)]);
        string beta = t.Node("/a/Softmax", "Softmax", [t.Node("/a/MatMul", "MatMul", [t.Node("/a/Transpose", "Transpose", [th], ProtoBuilders.Ints("perm", 0, 2, 1)), ph])], ProtoBuilders.Int("axis", -1));
        string o = t.Node("/a/MatMul_1", "MatMul", [gg, t.Node("/a/Transpose_1", "Transpose", [beta], ProtoBuilders.Ints("perm", 0, 2, 1))]);
        string back = t.Node("/a/Concat_o", "Concat", [t.ConstI("/a/Constant_o", [-1, 4]), t.Unsqueeze("/a/Unsqueeze_oh", Dim("oh", 2), 0), t.Unsqueeze("/a/Unsqueeze_ow", Dim("ow", 3), 0)], ProtoBuilders.Int("axis", 0));
        var r = Compare("biggan", t.Bytes(t.Node("/a/Reshape_o", "Reshape", [o, back])));
        Assert.True(r.Imported && r.Diff < 1e-4, r.Text);
    }

    /// <summary>Plain self-attention of x itself (no projections): one flattening read by the Transpose and both MatMuls
    /// (refused before, the review's form); and the same with that flattening also a graph output (then it must stay).</summary>
    [Fact]
    public void SharedFlattening_ImportsAndMatches_UnlessReadOutside()
    {
        foreach (bool outside in new[] { false, true })
        {
            var t = new TorchGraph(79, 13);
            t.FixInput(H, W);
            string x = t.Relu("/c/act", t.Conv("/c/Conv", "x", 3, 4, 3));
            string f = Flat(t, "x", x, [1, 4, -1]);
            string s = t.Node("/a/Softmax", "Softmax", [t.Node("/a/MatMul", "MatMul", [t.Node("/a/Transpose", "Transpose", [f], ProtoBuilders.Ints("perm", 0, 2, 1)), f])], ProtoBuilders.Int("axis", -1));
            string o = t.Node("/a/MatMul_1", "MatMul", [f, t.Node("/a/Transpose_1", "Transpose", [s], ProtoBuilders.Ints("perm", 0, 2, 1))]);
            o = t.Node("/a/Reshape_o", "Reshape", [o, t.ConstI("/a/Constant_o", [1, 4, H, W])]);
            var r = Compare("shared", outside ? t.Bytes(o, f) : t.Bytes(o));
            if (outside) Assert.False(r.Imported, r.Text);
            else
            {
                Assert.True(r.Imported && r.Diff < 1e-4, r.Text);
                Assert.Contains("attention", r.Text);
            }
        }
    }
}
