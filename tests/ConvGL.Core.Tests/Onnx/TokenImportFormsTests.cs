using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Stacks;
using static ConvGL.Core.Tests.Onnx.BranchyOpsTests;
using static ConvGL.Core.Tests.Onnx.ArchitectureGraphs;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>Forms a review (2026-12-06, 17:40 UTC) built against the flattened-map / tokens import, torch's attention scale
/// and group norm: each must be refused (one error naming a node) or equal ONNX Runtime; the first four imported with
/// other numbers than ONNX Runtime's before.</summary>
public class TokenImportFormsTests(ITestOutputHelper log)
{
    private const int H = 6, W = 10;

    /// <summary>Imported: the stack's output against ONNX Runtime's, either layout (null when refused: the message).</summary>
    private (bool Imported, double Diff, string Text) Compare(string name, byte[] bytes)
    {
        if (AttentionImportFormsTests.TryImport(name, bytes, log, out string refusal) is not { } stack) return (false, 0, refusal);
        Tensor x = Random(3, H, W, 1);
        string o = ModelProto.Parser.ParseFrom(bytes).Graph.Output[0].Name;
        float[] ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, H, W), [o])[o];
        Tensor got = StackRunner.Run(stack, x).Outputs[^1];
        if (ort.Length != got.Length) return (true, double.PositiveInfinity, $"{name}: {ort.Length} values from ONNX Runtime, {got.ShapeString} from the stack");
        int c = got.C, n = ort.Length / c;
        double direct = 0, last = 0;
        for (int p = 0; p < n; p++)
            for (int ch = 0; ch < c; ch++)
            {
                direct = Math.Max(direct, Math.Abs((double)ort[ch * n + p] - got.Data[ch * n + p]));
                last = Math.Max(last, Math.Abs((double)ort[p * c + ch] - got.Data[ch * n + p]));
            }
        double d = Math.Min(direct, last) / Math.Max(1e-6, ort.Max(v => Math.Abs((double)v)));
        string text = $"{name}: imported as [{string.Join(", ", stack.Layers.Select(l => l.Type))}]; relative |diff| {d:G3}";
        log.WriteLine(text);
        return (true, d, text);
    }

    /// <summary>torch's default sdpa scale root, sqrt(1 / sqrt(E)) with E the last dimension of <paramref name="of"/>'s Shape:
    /// after the Div a Cast to FLOAT (<paramref name="afterDiv"/> 1), a round trip through INT64 (7), or none (0).</summary>
    private static string TorchRoot(TorchGraph t, string of, int afterDiv)
    {
        string last = t.Node("/a/Slice_e", "Slice", [t.Node("/a/Shape_e", "Shape", [of]), t.ConstI("/a/st", [-1]), t.ConstI("/a/en", [long.MaxValue])]);
        string div = t.Node("/a/Div_s", "Div", [t.ConstF("/a/one", 1f), t.Node("/a/Sqrt_e", "Sqrt", [t.Node("/a/Cast_e", "Cast", [last], ProtoBuilders.Int("to", 1))])]);
        if (afterDiv == 1) div = t.Node("/a/Cast_s", "Cast", [div], ProtoBuilders.Int("to", 1));
        if (afterDiv == 7) div = t.Node("/a/Cast_i", "Cast", [t.Node("/a/Cast_j", "Cast", [div], ProtoBuilders.Int("to", 7))], ProtoBuilders.Int("to", 1));
        return t.Node("/a/Sqrt_s", "Sqrt", [div]);
    }

    private static string Flat(TorchGraph t, string stem, string x, int c) => t.Node(stem + "/Reshape", "Reshape", [x, t.ConstI(stem + "/Constant", [1, c, -1])]);
    private static string T021(TorchGraph t, string name, string x) => t.Node(name, "Transpose", [x], ProtoBuilders.Ints("perm", 0, 2, 1));

    /// <summary>A flattened (1, 4, H*W) map times a (1, 4, 1, 1) gate: ONNX broadcasts to (1, 4, 4, H*W), no map of the
    /// stack's; it imported as a gated map (a quarter of the values).</summary>
    [Theory]
    [InlineData("Mul")]
    [InlineData("Add")]
    public void FlattenedMap_WithAMapOfAnotherLayout_IsOneError(string op)
    {
        var t = new TorchGraph(1, 13);
        string x = t.Conv("/c/Conv", "x", 3, 4, 3);
        string g = t.Node("/g/Sigmoid", "Sigmoid", [t.Gap("/g/GAP", x)]);
        var r = Compare("flat_" + op, t.Bytes(t.Node("/m/" + op, op, [Flat(t, "/f", x, 4), g])));
        Assert.False(r.Imported, r.Text);
        Assert.Equal($"flat_{op}.onnx: node '/m/{op}' ({op}): in a stack {op} joins a map flattened to (1, C, H*W) and a value of another layout", r.Text.Split("; to see")[0]);
    }

    /// <summary>Gather on axis -3 of a flattened (1, C, H*W) value picks from the batch, not a channel (it imported as a
    /// channel slice); on axis 1 it is a channel of a flattened map, refused too (no layer holds it).</summary>
    [Theory]
    [InlineData(-3L)]
    [InlineData(1L)]
    public void GatherOfAFlattenedMap_IsRefusedOrMatches(long axis)
    {
        var t = new TorchGraph(1, 13);
        string x = t.Conv("/c/Conv", "x", 3, 4, 3);
        var r = Compare($"gather_{axis}", t.Bytes(t.Node("/g/Gather", "Gather", [Flat(t, "/f", x, 4), t.ConstI("/g/idx", [0])], ProtoBuilders.Int("axis", axis))));
        Assert.True(!r.Imported || r.Diff < 1e-4, r.Text);
    }

    /// <summary>torch's default scale read from the Shape of q's flattening (1, C, H*W) rather than of the transposed q it
    /// multiplies: ONNX's E is H*W there (it imported with 1 / sqrt(C)); read from the transposed q it is C and imports.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TorchScale_ReadFromTheFlattening_IsRefused_FromTheQueryImports(bool ofFlattening)
    {
        var t = new TorchGraph(3, 17);
        string x = t.Conv("/c/Conv", "x", 3, 8, 3);
        string q = t.Conv("/q/Conv", x, 8, 8, 1), k = t.Conv("/k/Conv", x, 8, 8, 1), v = t.Conv("/v/Conv", x, 8, 8, 1);
        string fq = Flat(t, "/fq", q, 8), fk = Flat(t, "/fk", k, 8), fv = Flat(t, "/fv", v, 8);
        string tq = T021(t, "/tq", fq);
        string root = TorchRoot(t, ofFlattening ? fq : tq, afterDiv: 1);
        string wts = t.Node("/a/Softmax", "Softmax", [t.Node("/a/MatMul", "MatMul", [t.Node("/a/Mul_q", "Mul", [tq, root]), t.Node("/a/Mul_k", "Mul", [fk, root])])], ProtoBuilders.Int("axis", -1));
        string o = t.Node("/a/MatMul_1", "MatMul", [wts, T021(t, "/tv", fv)]);
        o = t.Node("/a/Reshape_o", "Reshape", [T021(t, "/to", o), t.Node("/a/Shape_o", "Shape", [x])]);
        var r = Compare("torchscale_" + (ofFlattening ? "flattening" : "query"), t.Bytes(o));
        if (ofFlattening)
        {
            Assert.True(!r.Imported || r.Diff < 1e-4, r.Text);
            // Refused: the error's hint says which scales the attention form takes.
            if (!r.Imported) Assert.True(r.Text.Contains("if it is the scale of an attention, as torch's scaled_dot_product_attention computes its default: the attention " +
                                                       "imports as one layer where the scale is read from the Shape of the very q it multiplies, Slice [-1:], Sqrt, 1 / it, Sqrt)"), r.Text);
        }
        else
        {
            Assert.True(r.Imported && r.Diff < 1e-4, r.Text);
            Assert.Contains("attention", r.Text);
        }
    }

    /// <summary>A Cast to INT64 and back inside torch's scale truncates 1 / sqrt(E) to 0 (uniform weights in ONNX Runtime);
    /// it imported as the default scale. Only casts that keep the values are passed over now.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TorchScale_ThroughATruncatingCast_IsRefusedOrMatches(bool intCast)
    {
        var t = new TorchGraph(80, 17);
        string x = t.Conv("/conv_in/Conv", "x", 3, 16, 3);
        string tokens = t.Node("/Reshape", "Reshape", [t.Node("/Transpose", "Transpose", [x], ProtoBuilders.Ints("perm", 0, 2, 3, 1)), t.ConstI("/Constant", [1, -1, 16])]);
        string Split(string name, string m) => t.Node($"/a/Transpose_{name}", "Transpose",
            [t.Node($"/a/Reshape_{name}", "Reshape", [m, t.ConstI($"/a/Constant_{name}", [1, -1, 2, 8])])], ProtoBuilders.Ints("perm", 0, 2, 1, 3));
        string q = Split("q", Linear(t, "/a/to_q", tokens, 16, 16)), k = Split("k", Linear(t, "/a/to_k", tokens, 16, 16)), v = Split("v", Linear(t, "/a/to_v", tokens, 16, 16));
        string root = TorchRoot(t, q, afterDiv: intCast ? 7 : 0);
        string ks = t.Node("/a/Mul_k", "Mul", [t.Node("/a/Transpose_kt", "Transpose", [k], ProtoBuilders.Ints("perm", 0, 1, 3, 2)), root]);
        string o = t.Node("/a/MatMul_1", "MatMul", [t.Node("/a/Softmax", "Softmax", [t.Node("/a/MatMul", "MatMul", [t.Node("/a/Mul_q", "Mul", [q, root]), ks])], ProtoBuilders.Int("axis", -1)), v]);
        o = t.Node("/a/Reshape_o", "Reshape", [t.Node("/a/Transpose_o", "Transpose", [o], ProtoBuilders.Ints("perm", 0, 2, 1, 3)), t.ConstI("/a/Constant_o", [1, -1, 16])]);
        string Dim(string name, long i) => t.Unsqueeze($"/Unsqueeze_{name}", t.Dim("", x, i, name), 0);
        string back = t.Node("/Concat_back", "Concat", [Dim("b", 0), Dim("h", 2), Dim("w", 3), t.ConstI("/Constant_c", [16])], ProtoBuilders.Int("axis", 0));
        var r = Compare("intcast_" + intCast, t.Bytes(t.Node("/Transpose_back", "Transpose", [t.Node("/Reshape_back", "Reshape", [o, back])], ProtoBuilders.Ints("perm", 0, 3, 1, 2))));
        Assert.True(intCast ? !r.Imported || r.Diff < 1e-4 : r.Imported && r.Diff < 1e-4, r.Text);
    }

    /// <summary>x / sqrt(W) with W read from the map's Shape at a dynamic size: the divisor is not known at import (it was
    /// a batchnorm layer of NaN scales); one error naming the node.</summary>
    [Fact]
    public void AConstantComputedFromAMapsSize_IsOneErrorNamingTheNode()
    {
        var t = new TorchGraph(3, 13);
        string x = t.Conv("/c/Conv", "x", 3, 4, 3);
        string w = t.Node("/cast", "Cast", [t.Dim("", x, 3, "w")], ProtoBuilders.Int("to", 1));
        var r = Compare("size_divisor", t.Bytes(t.Node("/div", "Div", [x, t.Node("/sqrt", "Sqrt", [w])])));
        Assert.False(r.Imported, r.Text);
        Assert.StartsWith("size_divisor.onnx: node '/div' (Div): in a stack its other input is computed from a map's height or width (Shape)", r.Text);
    }

    /// <summary>ONNX's GroupNormalization (opset 21) on a flattened (1, C, H*W) map, as an export of diffusers' group_norm
    /// on (b, c, h*w) writes it: imports (it was refused with a message that allowed it) and matches; and the per-channel
    /// constants' error on a flattened map names the shapes it takes.</summary>
    [Fact]
    public void GroupNormalizationOnAFlattenedMap_Matches_AndConstantErrorsNameTheShapesTaken()
    {
        var t = new TorchGraph(4, 21);
        string x = t.Conv("/c/Conv", "x", 3, 4, 3);
        string f = t.Node("/gn", "GroupNormalization", [Flat(t, "/f", x, 4), t.Rand("gs", 1f, 4), t.Rand("gb", 1f, 4)], ProtoBuilders.Int("num_groups", 2));
        var r = Compare("flat_gno", t.Bytes(t.Node("/r/Reshape", "Reshape", [f, t.Node("/r/Shape", "Shape", [x])])));
        Assert.True(r.Imported && r.Diff < 1e-4, r.Text);
        Assert.Contains("groupnorm", r.Text);
        var t2 = new TorchGraph(4, 13);
        x = t2.Conv("/c/Conv", "x", 3, 4, 3);
        var bad = Compare("flat_c11", t2.Bytes(t2.Node("/m/Mul", "Mul", [Flat(t2, "/f", x, 4), t2.Rand("k", 1f, 4, 1, 1)])));
        Assert.False(bad.Imported, bad.Text);
        Assert.Contains("(C, 1) or (1, C, 1) on a map flattened to (1, C, H*W)", bad.Text);
    }
}
