using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>The ops a PyTorch export of a MobileNet- or Inception-like net brings beyond ResNet's (Clip, PRelu, Sub, Mul,
/// Div, Concat, Pad, Identity, Dropout, Constant): worked examples with hand-checked numbers, a branchy model against
/// ONNX Runtime on every intermediate value, the same model as a stack, and its stack file round trip.</summary>
public class BranchyOpsTests
{
    internal static void AssertClose(float[] want, float[] got, string what, double tolerance = 1e-5)
    {
        Assert.Equal(want.Length, got.Length);
        double scale = Math.Max(1e-6, want.Max(v => Math.Abs((double)v)));
        double diff = 0;
        for (int i = 0; i < want.Length; i++) diff = Math.Max(diff, Math.Abs((double)want[i] - got[i]));
        Assert.True(diff <= tolerance * scale, $"{what}: max |diff| {diff:G3} of max {scale:G3}");
    }

    internal static Tensor Random(int c, int h, int w, int seed)
    {
        var rng = new Random(seed);
        return Tensor.Chw(c, h, w, Enumerable.Range(0, c * h * w).Select(_ => (float)rng.NextDouble()).ToArray());
    }

    // ---- worked examples ----

    /// <summary>Row [1 2 3] padded by 2 on the left and 1 on the right (np.pad by hand).</summary>
    [Theory]
    [InlineData(Border.Zero, 0f, new float[] { 0, 0, 1, 2, 3, 0 })]
    [InlineData(Border.Zero, 9f, new float[] { 9, 9, 1, 2, 3, 9 })]
    [InlineData(Border.Reflect, 0f, new float[] { 3, 2, 1, 2, 3, 2 })]
    [InlineData(Border.Replicate, 0f, new float[] { 1, 1, 1, 2, 3, 3 })]
    [InlineData(Border.Wrap, 0f, new float[] { 2, 3, 1, 2, 3, 1 })]
    [InlineData(Border.Symmetric, 0f, new float[] { 2, 1, 1, 2, 3, 3 })]
    public void Pad2D_WorkedExamples(Border border, float value, float[] expected)
    {
        Tensor y = Pad2D.Apply(Tensor.Chw(1, 1, 3, [1, 2, 3]), new PadOptions(0, 2, 0, 1, border, value));
        Assert.Equal([1, 1, 6], y.Shape);
        Assert.Equal(expected, y.Data);
    }

    [Fact]
    public void Pad2D_NegativeAmountsCrop_AndWidePadsKeepReflecting()
    {
        // [[1 2 3] [4 5 6]]: drop the top row and the first column, add a zero column on the right.
        Tensor y = Pad2D.Apply(Tensor.Chw(1, 2, 3, [1, 2, 3, 4, 5, 6]), new PadOptions(-1, -1, 0, 1));
        Assert.Equal([1, 1, 3], y.Shape);
        Assert.Equal([5f, 6f, 0f], y.Data);
        // Reflect by 5 on [1 2 3] (period 4): np.pad([1, 2, 3], (5, 0), 'reflect') = [2 1 2 3 2 1 2 3].
        Assert.Equal([2f, 1f, 2f, 3f, 2f, 1f, 2f, 3f], Pad2D.Apply(Tensor.Chw(1, 1, 3, [1, 2, 3]), new PadOptions(0, 5, 0, 0, Border.Reflect)).Data);
        var e = Assert.Throws<ConvGLException>(() => Pad2D.Apply(Tensor.Chw(1, 2, 3), new PadOptions(-1, 0, -1, 0)));
        Assert.Contains("leaves nothing of a 3x2 map", e.Message);
        // The crops come first and the border extends what they kept (ONNX's reference slices, then pads; PyTorch's
        // CircularPad2d wraps the cropped map): [1 2 3 4 5] less 2 on the right, then 2 wrapped on the left, is
        // [2 3 1 2 3] (a docs audit: it wrapped the cropped 4 and 5 in); reflect by 4 is np.pad([1, 2, 3], (4, 0), 'reflect').
        Tensor row = Tensor.Chw(1, 1, 5, [1, 2, 3, 4, 5]);
        Assert.Equal([2f, 3f, 1f, 2f, 3f], Pad2D.Apply(row, new PadOptions(0, 2, 0, -2, Border.Wrap)).Data);
        Assert.Equal([1f, 2f, 3f, 2f, 1f, 2f, 3f], Pad2D.Apply(row, new PadOptions(0, 4, 0, -2, Border.Reflect)).Data);
        Assert.Equal([3f, 4f, 5f, 5f, 5f], Pad2D.Apply(row, new PadOptions(0, -2, 0, 2, Border.Replicate)).Data);
        Assert.Equal([3f, 4f, 5f, 3f, 4f, 5f], Pad2D.Apply(row, new PadOptions(0, -2, 0, 3, Border.Wrap)).Data);
        // A crop of everything leaves a zero border's fill, and nothing for another border to extend.
        Assert.Equal([7f, 7f], Pad2D.Apply(row, new PadOptions(0, -5, 0, 2, Border.Zero, 7f)).Data);
        e = Assert.Throws<ConvGLException>(() => Pad2D.Apply(row, new PadOptions(0, -5, 0, 2, Border.Wrap)));
        Assert.Contains("crops all of a 5x1 map, leaving nothing to wrap", e.Message);
    }

    [Fact]
    public void Concat_JoinsAlongEachAxis()
    {
        var a = new Tensor([2, 2], [1, 2, 3, 4]);
        var b = new Tensor([2, 1], [5, 6]);
        Tensor y = Concat.Apply([a, b], 1);
        Assert.Equal([2, 3], y.Shape);
        Assert.Equal([1f, 2f, 5f, 3f, 4f, 6f], y.Data);
        Tensor z = Concat.Apply([a, new Tensor([1, 2], [7, 8])], 0);
        Assert.Equal([1f, 2f, 3f, 4f, 7f, 8f], z.Data);
        var e = Assert.Throws<ConvGLException>(() => Concat.Apply([a, b], 0));
        Assert.Contains("differ in another dimension", e.Message);
    }

    [Fact]
    public void Clip_And_PRelu_WorkedExamples_WithSpecialValues()
    {
        var x = new Tensor([6], [-7f, -1f, 0.5f, 9f, float.NaN, float.NegativeInfinity]);
        Assert.Equal([0f, 0f, 0.5f, 6f, float.NaN, 0f], Activation.Apply(x, ActivationKind.Clip, min: 0f, max: 6f).Data);
        // lo > hi gives hi everywhere (NumPy's clip: minimum(maximum(x, lo), hi)); NaN stays.
        Assert.Equal([1f, 1f, 1f, 1f, float.NaN, 1f], Activation.Apply(x, ActivationKind.Clip, min: 2f, max: 1f).Data);
        // Per-channel slopes over (2, 1, 2): channel 0 slope 0.5, channel 1 slope -2.
        Tensor p = Elementwise.PRelu(Tensor.Chw(2, 1, 2, [-2f, 3f, -1f, float.NaN]), Tensor.Chw(2, 1, 1, [0.5f, -2f]));
        Assert.Equal([-1f, 3f, 2f, float.NaN], p.Data);
        Assert.Throws<ConvGLException>(() => Elementwise.PRelu(new Tensor([3], [1, 2, 3]), new Tensor([2, 3])));
    }

    [Fact]
    public void Unary_WorkedExamples_AtTheEdges()
    {
        Assert.Equal(float.NegativeInfinity, Unary.Apply(UnaryKind.Log, 0f));
        Assert.True(float.IsNaN(Unary.Apply(UnaryKind.Log, -1f)));
        Assert.True(float.IsNaN(Unary.Apply(UnaryKind.Sqrt, -4f)));
        Assert.Equal(3f, Unary.Apply(UnaryKind.Sqrt, 9f));
        Assert.Equal(float.NegativeInfinity, Unary.Apply(UnaryKind.Reciprocal, -0f));
        Assert.Equal([-1f, 0f, 1f], new[] { -2.5f, 0f, 7f }.Select(v => Unary.Apply(UnaryKind.Sign, v)).ToArray());
        Assert.Equal((-3f, -2f), (Unary.Apply(UnaryKind.Floor, -2.5f), Unary.Apply(UnaryKind.Ceil, -2.5f)));
        Assert.Equal(MathF.E, Unary.Apply(UnaryKind.Exp, 1f), 6);
        Stack s = StackFile.Parse("""{ "layers": [ { "type": "exp" }, { "type": "log" } ] }""", "u.json");
        Assert.Equal(["exp", "log"], s.Layers.Select(l => l.Type));
        Assert.Equal(0.5f, StackRunner.Run(s, Tensor.Chw(1, 1, 1, [0.5f])).Outputs[^1].Data[0], 6);
    }

    /// <summary>Hand-checked values of the ONNX activations with their default parameters.</summary>
    [Theory]
    [InlineData(ActivationKind.Elu, -1f, -0.63212056)]        // e^-1 - 1
    [InlineData(ActivationKind.Elu, 2f, 2.0)]
    [InlineData(ActivationKind.Selu, 1f, 1.05070102)]         // gamma
    [InlineData(ActivationKind.Selu, -1f, -1.11133074)]       // gamma alpha (e^-1 - 1)
    [InlineData(ActivationKind.HardSigmoid, 1f, 0.7)]         // 0.2 + 0.5
    [InlineData(ActivationKind.HardSigmoid, -5f, 0.0)]
    [InlineData(ActivationKind.HardSwish, 3f, 3.0)]
    [InlineData(ActivationKind.HardSwish, -1f, -0.33333333)]  // -1 (-1/6 + 1/2)
    [InlineData(ActivationKind.Softplus, 0f, 0.69314718)]     // ln 2
    [InlineData(ActivationKind.Softplus, 100f, 100.0)]        // no overflow
    [InlineData(ActivationKind.Softsign, 3f, 0.75)]
    public void OnnxActivations_WorkedExamples(ActivationKind kind, float x, double expected)
    {
        (float alpha, float beta) = Activation.Defaults(kind);
        Assert.Equal(expected, Activation.Apply(kind, x, alpha, beta: beta), 6);
    }

    // ---- the branchy model ----

    internal static Dictionary<string, float[]> RunOnnxRuntime(byte[] modelBytes, Tensor x, IReadOnlyCollection<string> names)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(modelBytes);
        foreach (string n in names)
            if (model.Graph.Output.All(o => o.Name != n))
                model.Graph.Output.Add(new ValueInfoProto { Name = n, Type = new TypeProto { TensorType = new TensorTypeProto { ElemType = 1 } } });
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(model.ToByteArray(), options);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results =
            session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x.Data, x.Shape))], names.ToArray());
        return results.ToDictionary(r => r.Name, r => r.AsEnumerable<float>().ToArray());
    }

    [Theory]
    [InlineData(9, 11)]
    [InlineData(16, 7)]
    public void MobileLikeModel_MatchesOnnxRuntime_OnEveryValue(int h, int w)
    {
        byte[] bytes = BranchyGraphs.MobileLikeBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "branchy.onnx"));
        // The Constants became initializers; Dropout and Identity are ops that pass their input through.
        Assert.DoesNotContain(graph.Ops, op => op.Node.OpType == "Constant");
        Assert.Equal(0f, graph.Initializers["zero"].Data[0]);
        Tensor x = Random(3, h, w, h * w).Reshape(1, 3, h, w);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x });
        string[] names = graph.Ops.Select(o => o.Output).ToArray();
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x, names);
        foreach (string n in names) AssertClose(ort[n], ours[n].Data, $"{h}x{w} value '{n}'");
        Assert.Equal([1, 6, h + 1, w + 1], ours["j"].Shape);
        Assert.Equal([1, 6, h, w - 1], ours["cr"].Shape);
        Assert.Equal([1, 3], ours["y"].Shape);
    }

    [Fact]
    public void ClassifierModel_MatchesOnnxRuntime_AndAsAStack_EveryLayer()
    {
        byte[] bytes = BranchyGraphs.ClassifierBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "classifier.onnx"));
        Tensor x = Random(3, 7, 9, 2);
        x.Data[0] = 40f; // a large logit: the max is subtracted before exp
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, 7, 9) });
        string[] names = graph.Ops.Select(o => o.Output).ToArray();
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, 7, 9), names);
        foreach (string n in names) AssertClose(ort[n], ours[n].Data, $"value '{n}'");
        Assert.Equal(1.0, ours["y"].Data.Sum(v => (double)v), 5);

        Stack stack = OnnxStack.FromGraph(graph, "classifier");
        Assert.Equal(["conv", "softmax", "log_softmax", "globalavgpool", "flatten", "linear", "softmax"], stack.Layers.Select(l => l.Type));
        StackResult r = StackRunner.Run(stack, x);
        for (int i = 0; i < names.Length; i++) AssertClose(ours[names[i]].Data, r.Outputs[i].Data, $"layer {i} ({stack.Layers[i].Type})");
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("c.json"), stack);
        Assert.Equal(stack.Layers.Select(l => l.Type), StackFile.Load(dir.File("c.json")).Layers.Select(l => l.Type));
    }

    [Fact]
    public void SqueezeExciteModel_MatchesOnnxRuntime_AndAsAStack_EveryLayer()
    {
        byte[] bytes = BranchyGraphs.SqueezeExciteBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "se.onnx"));
        Tensor x = Random(3, 9, 8, 5);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, 9, 8) });
        string[] names = graph.Ops.Select(o => o.Output).ToArray();
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, 9, 8), names);
        foreach (string n in names) AssertClose(ort[n], ours[n].Data, $"value '{n}'");

        Stack stack = OnnxStack.FromGraph(graph, "se");
        // SiLU (the conv times its sigmoid) is one silu layer; the gate's HardSigmoid times another map stays two.
        Assert.Equal(["conv", "silu", "globalavgpool", "conv", "relu", "conv", "hard_sigmoid", "mul", "hard_swish", "elu"], stack.Layers.Select(l => l.Type));
        Assert.Equal("silu", stack.Layers[1].Label);
        Assert.Equal([1, 6], stack.Layers[7].Inputs!); // the gate (4, 1, 1) over the SiLU's (4, 9, 8)
        StackResult r = StackRunner.Run(stack, x);
        string[] maps = graph.Ops.Where(o => o.Node.OpType != "Sigmoid").Select(o => o.Output).ToArray();
        for (int i = 0; i < maps.Length; i++) AssertClose(ours[maps[i]].Data, r.Outputs[i].Data, $"layer {i} ({stack.Layers[i].Type})");
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("se.json"), stack);
        StackResult again = StackRunner.Run(StackFile.Load(dir.File("se.json")), x);
        AssertClose(r.Outputs[^1].Data, again.Outputs[^1].Data, "reloaded");
    }

    [Fact]
    public void ConvTranspose_WorkedExamples()
    {
        // Stride 2 with a 2x2 kernel of ones: each input value becomes a 2x2 block.
        Tensor blocks = ConvTranspose2D.Apply(Tensor.Chw(1, 2, 2, [1, 2, 3, 4]), new Tensor([1, 1, 2, 2], [1, 1, 1, 1]), null,
            new ConvTransposeOptions { StrideY = 2, StrideX = 2 });
        Assert.Equal([1, 4, 4], blocks.Shape);
        Assert.Equal([1f, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], blocks.Data);
        // Stride 1: overlapping copies of the kernel summed. [1 2] with kernel [1 10] is [1, 10 + 2, 20]; pads [0, 1, 0, 0]
        // take the first column off; a bias of 0.5 is added everywhere.
        Tensor y = ConvTranspose2D.Apply(Tensor.Chw(1, 1, 2, [1, 2]), new Tensor([1, 1, 1, 2], [1, 10]), [0.5f],
            new ConvTransposeOptions { PadLeft = 1 });
        Assert.Equal([12.5f, 20.5f], y.Data);
        // Output padding adds a last row that only the bias reaches.
        Tensor z = ConvTranspose2D.Apply(Tensor.Chw(1, 1, 1, [3]), new Tensor([1, 1, 1, 1], [2]), [1f],
            new ConvTransposeOptions { StrideY = 2, OutputPadY = 1 });
        Assert.Equal([7f, 1f], z.Data);
    }

    /// <summary>The transposed convolution is the adjoint of the convolution with the same weight: for every x and y,
    /// &lt;conv(x), y&gt; = &lt;x, conv_transpose(y)&gt;, over strides, dilations, asymmetric pads and groups (the output
    /// padding chosen so conv_transpose gives back x's size).</summary>
    [Theory]
    [InlineData(1, 1, 0, 0, 0, 0, 1)]
    [InlineData(2, 1, 1, 1, 1, 1, 1)]
    [InlineData(2, 1, 1, 0, 2, 1, 2)]
    [InlineData(3, 2, 2, 1, 0, 3, 1)]
    [InlineData(2, 2, 0, 2, 1, 0, 2)]
    public void ConvTranspose_IsTheAdjointOfConv(int stride, int dilation, int top, int left, int bottom, int right, int groups)
    {
        var rng = new Random(stride * 31 + dilation * 7 + top + 3 * groups);
        int cin = 2 * groups, cout = 2 * groups, h = 11, w = 9;
        Tensor x = Tensor.Chw(cin, h, w, Enumerable.Range(0, cin * h * w).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray());
        var weight = new Tensor([cout, cin / groups, 3, 2], Enumerable.Range(0, cout * cin / groups * 6).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray());
        var conv = new ConvOptions
        {
            Padding = PaddingMode.Explicit, PadY = top, PadX = left, PadBottom = bottom, PadRight = right, StrideY = stride, StrideX = stride,
            DilationY = dilation, DilationX = dilation, Groups = groups, Border = Border.Zero, Mode = ConvMode.Correlate,
        };
        Tensor cx = DirectConv2D.Apply(x, weight, null, conv);
        Tensor yv = Tensor.Chw(cx.C, cx.H, cx.W, Enumerable.Range(0, cx.Length).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray());
        var t = new ConvTransposeOptions { StrideY = stride, StrideX = stride, DilationY = dilation, DilationX = dilation, PadTop = top, PadLeft = left, PadBottom = bottom, PadRight = right, Groups = groups };
        // The output padding that gives back h x w (a stride > 1 leaves the last rows ambiguous).
        (int th, int tw) = ConvTranspose2D.OutputSize(cx.H, cx.W, 3, 2, t);
        t = t with { OutputPadY = h - th, OutputPadX = w - tw };
        Tensor ty = ConvTranspose2D.Apply(yv, weight, null, t);
        Assert.Equal(x.Shape, ty.Shape);
        double left1 = cx.Data.Zip(yv.Data).Sum(p => (double)p.First * p.Second), right1 = x.Data.Zip(ty.Data).Sum(p => (double)p.First * p.Second);
        Assert.Equal(left1, right1, 4);
    }

    [Fact]
    public void DecoderModel_MatchesOnnxRuntime_AndAsAStack_EveryLayer()
    {
        byte[] bytes = BranchyGraphs.DecoderBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "decoder.onnx"));
        foreach ((int h, int w) in new[] { (8, 10), (7, 5) })
        {
            Tensor x = Random(3, h, w, h * w);
            Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, h, w) });
            string[] names = graph.Ops.Select(o => o.Output).ToArray();
            Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, h, w), names);
            foreach (string n in names) AssertClose(ort[n], ours[n].Data, $"{h}x{w} value '{n}'");
            Assert.Equal([1, 2, 2 * ((h + 1) / 2), 2 * ((w + 1) / 2)], ours["u"].Shape);

            Stack stack = OnnxStack.FromGraph(graph, "decoder");
            Assert.Equal(["conv", "relu", "conv_transpose", "relu", "conv_transpose", "sigmoid"], stack.Layers.Select(l => l.Type));
            StackResult r = StackRunner.Run(stack, x);
            for (int i = 0; i < names.Length; i++) AssertClose(ours[names[i]].Data, r.Outputs[i].Data, $"{h}x{w} layer {i} ({stack.Layers[i].Type})");
            using var dir = new TempDir();
            StackWriter.WriteWithWeights(dir.File("decoder.json"), stack);
            Assert.Contains("\"output_padding\": 1", File.ReadAllText(dir.File("decoder.json")));
            StackResult again = StackRunner.Run(StackFile.Load(dir.File("decoder.json")), x);
            AssertClose(r.Outputs[^1].Data, again.Outputs[^1].Data, "reloaded");
        }
    }

    [Fact]
    public void Resize_WorkedExamples()
    {
        Tensor row = Tensor.Chw(1, 1, 2, [1, 2]);
        // Nearest, asymmetric, floor, 2x: each value repeated.
        Assert.Equal([1f, 1f, 2f, 2f], Resize2D.Apply(row, new ResizeOptions { ScaleX = 2, Coordinates = ResizeCoordinates.Asymmetric, Rounding = ResizeRounding.Floor }).Data);
        // Linear, half_pixel, 2x: x = (o + 1/2) / 2 - 1/2 = -0.25, 0.25, 0.75, 1.25; the edge repeats beyond the map.
        Assert.Equal([1f, 1.25f, 1.75f, 2f], Resize2D.Apply(row, new ResizeOptions { Mode = ResizeMode.Linear, ScaleX = 2 }).Data);
        // Linear, align_corners, 3 -> 5: x = o / 2.
        Assert.Equal([1f, 1.5f, 2f, 2.5f, 3f], Resize2D.Apply(Tensor.Chw(1, 1, 3, [1, 2, 3]), new ResizeOptions { Mode = ResizeMode.Linear, SizeY = 1, SizeX = 5, Coordinates = ResizeCoordinates.AlignCorners }).Data);
        // Nearest, half_pixel, round_prefer_ceil vs floor at x = 0.5 exactly (4 -> 2: x = 2o + 1/2).
        Tensor four = Tensor.Chw(1, 1, 4, [10, 20, 30, 40]);
        Assert.Equal([20f, 40f], Resize2D.Apply(four, new ResizeOptions { ScaleX = 0.5f, Rounding = ResizeRounding.RoundPreferCeil }).Data);
        Assert.Equal([10f, 30f], Resize2D.Apply(four, new ResizeOptions { ScaleX = 0.5f, Rounding = ResizeRounding.RoundPreferFloor }).Data);
        // Cubic: Keys' weights sum to 1 (a constant map stays constant), at t = 0.5 with a = -0.75 they are
        // (-0.09375, 0.59375, 0.59375, -0.09375); a whole-number coordinate reads its pixel alone.
        (double c0, double c1, double c2, double c3) = Resize2D.CubicWeights(0.5, -0.75);
        Assert.Equal((-0.09375, 0.59375, 0.59375, -0.09375), (c0, c1, c2, c3));
        foreach (bool exclude in new[] { false, true })
            Assert.All(Resize2D.Apply(Tensor.Chw(1, 3, 4, Enumerable.Repeat(3.5f, 12).ToArray()), new ResizeOptions { Mode = ResizeMode.Cubic, ScaleY = 1.7f, ScaleX = 2.5f, ExcludeOutside = exclude }).Data,
                v => Assert.Equal(3.5, v, 5));
        Assert.Equal([10f, 20f, 30f, 40f], Resize2D.Apply(four, new ResizeOptions { Mode = ResizeMode.Cubic, ScaleX = 1, Coordinates = ResizeCoordinates.Asymmetric }).Data);
    }

    /// <summary>OpenCV's INTER_LINEAR upsampling is half_pixel bilinear with the edge repeated: an oracle nobody here wrote.</summary>
    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(4, 3)]
    public void ResizeLinearUpsample_MatchesOpenCv(int sy, int sx)
    {
        Tensor x = Random(1, 7, 9, sy * 10 + sx);
        using var src = OpenCvSharp.Mat.FromPixelData(7, 9, OpenCvSharp.MatType.CV_32FC1, x.Data);
        using var dst = new OpenCvSharp.Mat();
        OpenCvSharp.Cv2.Resize(src, dst, new OpenCvSharp.Size(9 * sx, 7 * sy), 0, 0, OpenCvSharp.InterpolationFlags.Linear);
        dst.GetArray(out float[] cv);
        Tensor ours = Resize2D.Apply(x, new ResizeOptions { Mode = ResizeMode.Linear, ScaleY = sy, ScaleX = sx });
        AssertClose(cv, ours.Data, $"x{sy},{sx}", 1e-5);
    }

    [Fact]
    public void UpsamplerModel_MatchesOnnxRuntime_AndAsAStack_EveryLayer()
    {
        byte[] bytes = BranchyGraphs.UpsamplerBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "upsampler.onnx"));
        Tensor x = Random(3, 8, 6, 11);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, 8, 6) });
        string[] names = graph.Ops.Select(o => o.Output).ToArray();
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, 8, 6), names);
        foreach (string n in names) AssertClose(ort[n], ours[n].Data, $"value '{n}'");
        Assert.Equal([1, 12, 8, 6], ours["y"].Shape);

        Stack stack = OnnxStack.FromGraph(graph, "upsampler");
        Assert.Equal(["conv", "resize", "resize", "resize", "concat"], stack.Layers.Select(l => l.Type));
        StackResult r = StackRunner.Run(stack, x);
        for (int i = 0; i < names.Length; i++) AssertClose(ours[names[i]].Data, r.Outputs[i].Data, $"layer {i} ({stack.Layers[i].Type})");
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("up.json"), stack);
        string json = File.ReadAllText(dir.File("up.json"));
        Assert.Contains("\"coordinates\": \"align_corners\"", json);
        Assert.Contains("\"rounding\": \"floor\"", json);
        StackResult again = StackRunner.Run(StackFile.Load(dir.File("up.json")), x);
        AssertClose(r.Outputs[^1].Data, again.Outputs[^1].Data, "reloaded");
    }

    [Fact]
    public void InstanceNorm_WorkedExample()
    {
        // [1 2 3]: mean 2, population variance 2/3, so (x - 2) / sqrt(2/3) = -1.2247, 0, 1.2247; then 2 y + 1.
        Tensor y = new InstanceNorm([2f], [1f], 0f).Apply(Tensor.Chw(1, 1, 3, [1, 2, 3]));
        double k = 1 / Math.Sqrt(2.0 / 3.0);
        Assert.Equal(-2 * k + 1, y.Data[0], 5);
        Assert.Equal(1.0, y.Data[1], 6);
        Assert.Equal(2 * k + 1, y.Data[2], 5);
        // A constant map has variance 0: epsilon keeps it finite, the output is the shift.
        Assert.Equal([1f, 1f], new InstanceNorm([2f], [1f], 1e-5f).Apply(Tensor.Chw(1, 1, 2, [7, 7])).Data);
    }

    [Fact]
    public void StyleTransferModel_MatchesOnnxRuntime_AndAsAStack_EveryLayer()
    {
        byte[] bytes = BranchyGraphs.StyleTransferBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "style.onnx"));
        Tensor x = Random(3, 10, 8, 13);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, 10, 8) });
        string[] names = graph.Ops.Select(o => o.Output).ToArray();
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, 10, 8), names);
        foreach (string n in names) AssertClose(ort[n], ours[n].Data, $"value '{n}'", 1e-4);

        Stack stack = OnnxStack.FromGraph(graph, "style");
        Assert.Equal(["conv", "instancenorm", "relu", "conv", "instancenorm", "relu", "resize", "conv", "instancenorm", "add", "tanh"], stack.Layers.Select(l => l.Type));
        StackResult r = StackRunner.Run(stack, x);
        for (int i = 0; i < names.Length; i++) AssertClose(ours[names[i]].Data, r.Outputs[i].Data, $"layer {i} ({stack.Layers[i].Type})");
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("style.json"), stack);
        Assert.Contains("\"epsilon\": 0.001", File.ReadAllText(dir.File("style.json")));
        StackResult again = StackRunner.Run(StackFile.Load(dir.File("style.json")), x);
        AssertClose(r.Outputs[^1].Data, again.Outputs[^1].Data, "reloaded");
    }

    [Fact]
    public void AlexNetLikeModel_MatchesOnnxRuntime_AndAsAStack_EveryLayer()
    {
        byte[] bytes = BranchyGraphs.AlexNetLikeBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "alexnet.onnx"));
        Tensor x = Random(3, 11, 9, 16);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, 11, 9) });
        string[] names = graph.Ops.Select(o => o.Output).ToArray();
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, 11, 9), names);
        foreach (string n in names) AssertClose(ort[n], ours[n].Data, $"value '{n}'", 1e-5);
        Assert.Equal([1, 6, 5, 4], ours["y"].Shape);
        // The normalisation did something: every map shrank by more than the tolerance (bias 2 and 1 alone divide by >= 1).
        Assert.True(ours["r1"].Data.Zip(ours["n1"].Data).Max(p => p.First - p.Second) > 0.1f);
        Assert.True(ours["r2"].Data.Zip(ours["y"].Data).Max(p => p.First - p.Second) > 1e-3f);

        Stack stack = OnnxStack.FromGraph(graph, "alexnet");
        Assert.Equal(["conv", "relu", "lrn", "maxpool", "conv", "relu", "lrn"], stack.Layers.Select(l => l.Type));
        StackResult r = StackRunner.Run(stack, x);
        for (int i = 0; i < names.Length; i++) AssertClose(ours[names[i]].Data, r.Outputs[i].Data, $"layer {i} ({stack.Layers[i].Type})");
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("alexnet.json"), stack);
        string json = File.ReadAllText(dir.File("alexnet.json"));
        Assert.Contains("\"size\": 5", json);
        Assert.Contains("\"bias\": 2", json);
        AssertClose(r.Outputs[^1].Data, StackRunner.Run(StackFile.Load(dir.File("alexnet.json")), x).Outputs[^1].Data, "reloaded");
    }

    /// <summary>A model file that declares a fixed RGB input size takes images resized to it (as ONNX Runtime would
    /// insist on that size); a dynamic size or a gray input takes them as they are.</summary>
    [Fact]
    public void AModelWithAFixedInputSize_ResizesImagesToIt()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("up.onnx"), BranchyGraphs.UpsamplerBytes());
        File.WriteAllBytes(dir.File("dyn.onnx"), BranchyGraphs.MobileLikeBytes());
        Stack fixedSize = OnnxStack.Load(dir.File("up.onnx"));
        Assert.NotNull(fixedSize.Preprocess);
        Assert.Equal((8, 6), (fixedSize.Preprocess!.Height, fixedSize.Preprocess.Width));
        Assert.Equal([0, 1, 2], fixedSize.Preprocess.ChannelOrder);
        // A 20x30 picture of a horizontal ramp becomes the model's 8x6 input: values kept in 0..1, RGB order.
        Tensor picture = Tensor.Chw(3, 20, 30, Enumerable.Range(0, 3 * 600).Select(i => (i % 30) / 29f).ToArray());
        Tensor prepared = fixedSize.Preprocess.Apply(picture);
        Assert.Equal([3, 8, 6], prepared.Shape);
        Assert.All(prepared.Data, v => Assert.InRange(v, 0f, 1f));
        Assert.True(prepared[0, 0, 5] > prepared[0, 0, 0]);
        Assert.Equal([12, 8, 6], StackRunner.Run(fixedSize, prepared).Outputs[^1].Shape);
        Assert.Null(OnnxStack.Load(dir.File("dyn.onnx")).Preprocess);
    }

    /// <summary>A declared size no image can be resized to, or one past ConvGL's limits, is one error naming the input and
    /// its declared shape (the audit's in0.onnx, input_neg.onnx and in20000.onnx ran at the image's own size); a symbolic
    /// or unset dimension stays free.</summary>
    [Fact]
    public void AModelWithAnUnusableFixedInputSize_IsOneErrorNamingTheInput()
    {
        OnnxGraph WithInput(params Dimension[] dims)
        {
            ModelProto m = ModelProto.Parser.ParseFrom(BranchyGraphs.UpsamplerBytes());
            RepeatedField<Dimension> shape = m.Graph.Input[0].Type.TensorType.Shape.Dim;
            shape.Clear();
            shape.AddRange(dims);
            return OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "fixed.onnx"));
        }
        Dimension D(long v) => new() { DimValue = v };
        foreach (long bad in new[] { 0L, -5L })
        {
            OnnxGraph g = WithInput(D(1), D(3), D(bad), D(bad));
            ConvGLException e = Assert.Throws<ConvGLException>(() => OnnxStack.DeclaredSize(g));
            Assert.Equal($"fixed.onnx: input 'x' declares the shape (1, 3, {bad}, {bad}); a fixed dimension must be at least 1 (a free one is a symbol, dim_param): export the model again", e.Message);
            Assert.Equal(e.Message, Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(g, "fixed")).Message);
        }
        Assert.Contains("declares the shape (0, 3, ?, ?)", Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(WithInput(D(0), D(3), new Dimension { DimParam = "H" }, new Dimension()), "fixed")).Message);
        foreach ((long h, long w) in new[] { (20000L, 20000L), (40000L, 8L), (1L << 40, 1L << 40) })
        {
            ConvGLException e = Assert.Throws<ConvGLException>(() => OnnxStack.DeclaredSize(WithInput(D(1), D(3), D(h), D(w))));
            Assert.StartsWith($"fixed.onnx: input 'x' declares the fixed size (1, 3, {h}, {w}), so images are resized to {w}x{h}: over ConvGL's limits", e.Message);
        }
        // A gray model's fixed size is held to the same limits (the fuzz audit's (1, 1, 100000, 100000) was taken), and
        // a sound one resizes images as an RGB model's does (a hostile-input review: a (1, 1, 1, 1) model ran on 64x48).
        foreach ((long h, long w) in new[] { (100000L, 100000L), (65536L, 65536L), (40000L, 8L), (20000L, 30000L) })
            Assert.Equal($"fixed.onnx: input 'x' declares the fixed size (1, 1, {h}, {w}): over ConvGL's limits (each side at most 32768, and the input's " +
                         "C x H x W values at most 536870912); export the model with a smaller input size, or with H and W dynamic (dynamic_axes)",
                Assert.Throws<ConvGLException>(() => OnnxStack.DeclaredSize(WithInput(D(1), D(1), D(h), D(w)))).Message);
        ImagePreprocess gray = OnnxStack.DeclaredSize(WithInput(D(1), D(1), D(28), D(28)))!;
        Assert.Equal((28, 28, 1), (gray.Height, gray.Width, gray.Channels));
        Assert.Equal("resized to 28x28 (aspect kept, centre crop), gray, 0..1", gray.Describe());
        // Free dimensions (a symbol, or neither value nor symbol) take images as they are; a sound fixed size resizes.
        Assert.Null(OnnxStack.DeclaredSize(WithInput(D(1), D(3), new Dimension { DimParam = "H" }, new Dimension())));
        // -1 is how some exporters write a free dimension: free, not damaged.
        Assert.Null(OnnxStack.DeclaredSize(WithInput(D(-1), D(3), D(-1), D(-1))));
        Assert.Equal((64, 48), OnnxStack.DeclaredSize(WithInput(D(1), D(3), D(64), D(48))) is { } p ? (p.Height, p.Width) : default);
    }

    [Fact]
    public void DepthToSpace_WorkedExamples_AndTheRoundTrip()
    {
        // Four 1x1 channels [a b c d] with block 2: DCR puts channel i*2 + j at pixel (i, j): [[a b] [c d]]; with 8
        // channels (2 outputs) DCR reads channel (i*2 + j)*2 + c, CRD channel c*4 + i*2 + j (PixelShuffle).
        Assert.Equal([1f, 2f, 3f, 4f], DepthToSpace.ToSpace(Tensor.Chw(4, 1, 1, [1, 2, 3, 4]), 2, DepthToSpaceMode.Dcr).Data);
        Tensor eight = Tensor.Chw(8, 1, 1, [0, 1, 2, 3, 4, 5, 6, 7]);
        Assert.Equal([0f, 2f, 4f, 6f, 1f, 3f, 5f, 7f], DepthToSpace.ToSpace(eight, 2, DepthToSpaceMode.Dcr).Data);
        Assert.Equal([0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f], DepthToSpace.ToSpace(eight, 2, DepthToSpaceMode.Crd).Data);
        // SpaceToDepth undoes DCR on any map.
        Tensor x = Random(12, 3, 5, 2);
        Assert.Equal(x.Data, DepthToSpace.ToDepth(DepthToSpace.ToSpace(x, 2, DepthToSpaceMode.Dcr), 2).Data);
        Assert.Contains("divisible by 4", Assert.Throws<ConvGLException>(() => DepthToSpace.ToSpace(Tensor.Chw(6, 2, 2), 2, DepthToSpaceMode.Crd)).Message);
    }

    [Fact]
    public void SuperResolutionModel_MatchesOnnxRuntime_AndAsAStack_EveryLayer()
    {
        byte[] bytes = BranchyGraphs.SuperResolutionBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "espcn.onnx"));
        Tensor x = Random(3, 7, 9, 17);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, 7, 9) });
        string[] names = graph.Ops.Select(o => o.Output).ToArray();
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, 7, 9), names);
        foreach (string n in names) AssertClose(ort[n], ours[n].Data, $"value '{n}'");
        Assert.Equal([1, 3, 14, 18], ours["y"].Shape);
        Assert.Equal(ours["u"].Data, ours["y"].Data); // CRD then SpaceToDepth then DCR: the same pixels

        Stack stack = OnnxStack.FromGraph(graph, "espcn");
        Assert.Equal(["conv", "tanh", "conv", "depth_to_space", "space_to_depth", "depth_to_space"], stack.Layers.Select(l => l.Type));
        StackResult r = StackRunner.Run(stack, x);
        for (int i = 0; i < names.Length; i++) AssertClose(ours[names[i]].Data, r.Outputs[i].Data, $"layer {i} ({stack.Layers[i].Type})");
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("espcn.json"), stack);
        Assert.Contains("\"mode\": \"crd\"", File.ReadAllText(dir.File("espcn.json")));
        AssertClose(r.Outputs[^1].Data, StackRunner.Run(StackFile.Load(dir.File("espcn.json")), x).Outputs[^1].Data, "reloaded");
    }

    [Fact]
    public void Reduce_WorkedExamples()
    {
        // [[1 2 3] [4 5 6]]: over axis 0 the column sums 5 7 9, over axis 1 the row means 2 and 5; max of all 6.
        var x = new Tensor([2, 3], [1, 2, 3, 4, 5, 6]);
        Assert.Equal([5f, 7f, 9f], Reduce.Apply(x, ReduceKind.Sum, [0], keepDims: false).Data);
        Assert.Equal([2, 1], Reduce.Apply(x, ReduceKind.Mean, [1], keepDims: true).Shape);
        Assert.Equal([2f, 5f], Reduce.Apply(x, ReduceKind.Mean, [1], keepDims: true).Data);
        Assert.Equal([6f], Reduce.Apply(x, ReduceKind.Max, [0, 1], keepDims: false).Data);
        Assert.Equal([1f], Reduce.Apply(x, ReduceKind.Min, [0, 1], keepDims: false).Data);
        x.Data[4] = float.NaN;
        Assert.True(float.IsNaN(Reduce.Apply(x, ReduceKind.Max, [0, 1], keepDims: false).Data[0]));
    }

    [Fact]
    public void PoolingHeadModel_MatchesOnnxRuntime_AndAsAStack_EveryLayer()
    {
        byte[] bytes = BranchyGraphs.PoolingHeadBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "poolhead.onnx"));
        Tensor x = Random(3, 9, 7, 19);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, 9, 7) });
        string[] names = graph.Ops.Select(o => o.Output).ToArray();
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, 9, 7), names);
        foreach (string n in names) AssertClose(ort[n], ours[n].Data, $"value '{n}'");
        Stack stack = OnnxStack.FromGraph(graph, "poolhead");
        Assert.Equal(["conv", "globalavgpool", "linear", "globalmaxpool", "flatten", "linear", "add"], stack.Layers.Select(l => l.Type));
        StackResult r = StackRunner.Run(stack, x);
        for (int i = 0; i < names.Length; i++) AssertClose(ours[names[i]].Data, r.Outputs[i].Data, $"layer {i} ({stack.Layers[i].Type})");
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("poolhead.json"), stack);
        AssertClose(r.Outputs[^1].Data, StackRunner.Run(StackFile.Load(dir.File("poolhead.json")), x).Outputs[^1].Data, "reloaded");
    }

    [Fact]
    public void Softmax_WorkedExample_AndSpecialValues()
    {
        // [0, ln 2, ln 3]: exp gives 1, 2, 3 over a sum of 6.
        Tensor y = Softmax.Apply(new Tensor([3], [0f, MathF.Log(2f), MathF.Log(3f)]), 1, 3, 1);
        for (int i = 0; i < 3; i++) Assert.Equal((i + 1) / 6.0, y.Data[i], 6);
        Tensor big = Softmax.Apply(new Tensor([2], [1000f, 1000f]), 1, 2, 1);
        Assert.Equal([0.5f, 0.5f], big.Data);
        Tensor log = Softmax.Apply(new Tensor([2], [1000f, 1000f]), 1, 2, 1, log: true);
        Assert.Equal(-MathF.Log(2f), log.Data[0], 6);
        Assert.All(Softmax.Apply(new Tensor([3], [1f, float.NaN, 2f]), 1, 3, 1).Data, v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void MobileLikeModel_AsAStack_MatchesTheGraph_EveryLayer_AndSurvivesTheStackFile()
    {
        OnnxGraph graph = BranchyGraphs.MobileLike();
        Stack stack = OnnxStack.FromGraph(graph, "branchy");
        // mul_b (a per-channel constant after conv_b, which nothing else reads) is folded into conv_b, the input's
        // normalisation (Sub mean, then Div std) is one affine layer, and copy_b (a Pad of zeros) no layer.
        Assert.Equal(["batchnorm", "conv", "clip", "pad", "conv", "prelu", "pad", "conv", "concat",
            "batchnorm", "pad", "globalavgpool", "flatten", "linear"], stack.Layers.Select(l => l.Type));
        Assert.Equal(("center", "conv_b"), (stack.Layers[0].Label, stack.Layers[7].Label));
        Assert.Equal([5, 7], stack.Layers[8].Inputs!); // concat reads prelu_a and copy_b (conv_b's map)
        Assert.Equal([2], stack.Layers[6].Inputs!);      // pad_b reads relu6
        Assert.Equal(8, stack.Layers[9].InputsOf(9)[0]); // Dropout and Identity left no layer: the Add reads the concat

        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("branchy.json"), stack);
        string json = File.ReadAllText(dir.File("branchy.json"));
        foreach (string field in new[] { "\"concat\"", "\"clip\"", "\"prelu\"", "\"border\": \"reflect\"", "\"border\": \"replicate\"", "\"value\": -1" })
            Assert.Contains(field, json);
        Stack reloaded = StackFile.Load(dir.File("branchy.json"));
        Assert.Equal(stack.Layers.Select(l => l.Type), reloaded.Layers.Select(l => l.Type));

        Dictionary<string, int> layerOf = [];
        int k = 0;
        foreach (OnnxOp op in graph.Ops)
        {
            if (op is IdentityOp) continue;
            if (op.Output is "mb" or "xn")
            {
                // conv_b's and center's own maps went with the folds: their layers now give mul_b's and scale's.
                layerOf.Remove(op.Output == "mb" ? "cb" : "xc");
                layerOf[op.Output] = k - 1;
                continue;
            }
            if (op.Output == "b")
            {
                layerOf[op.Output] = k - 1; // copy_b pads nothing: conv_b's layer gives its map too
                continue;
            }
            layerOf[op.Output] = k++;
        }
        foreach ((int h, int w) in new[] { (9, 11), (5, 20) })
        {
            Tensor x = Random(3, h, w, h + w);
            Dictionary<string, Tensor> values = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, h, w) });
            StackResult a = StackRunner.Run(stack, x), b = StackRunner.Run(reloaded, x);
            foreach ((string name, int i) in layerOf)
            {
                Tensor want = values[name];
                AssertClose(want.Data, a.Outputs[i].Data, $"{h}x{w} layer {i} ({stack.Layers[i].Type}, '{name}')");
                // Reloaded: the same weights (a fixed-kernel reader may sum in another order, hence not bit-equal).
                AssertClose(a.Outputs[i].Data, b.Outputs[i].Data, $"{h}x{w} reloaded layer {i}");
            }
        }
    }

    [Fact]
    public void StackOnlyLimits_AreOneErrorNamingTheNode()
    {
        // PRelu with a computed slope, and Concat along the width, run as graphs but are no stack layer.
        static OnnxGraph Two(string op, params AttributeProto[] attrs)
        {
            var g = new GraphProto { Name = "two" };
            g.Input.Add(ProtoBuilders.Value("x", 1, 3, 4, 5));
            g.Node.Add(new NodeProto { Name = "relu", OpType = "Relu", Input = { "x" }, Output = { "r" } });
            var n = new NodeProto { Name = "both", OpType = op, Input = { "x", "r" }, Output = { "y" } };
            n.Attribute.AddRange(attrs);
            g.Node.Add(n);
            g.Output.Add(ProtoBuilders.Value("y"));
            return OnnxGraph.Build(OnnxReader.Parse(new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray(), "two.onnx"));
        }
        var mul = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(Two("PRelu"), "two"));
        Assert.Equal("two.onnx: node 'both' (PRelu): in a stack PRelu of two maps is not supported (Add, Sub, Mul, Div, Pow, Max and Min of two maps are; PRelu's slope must be stored); to see the layers before it, use --stack 'two.onnx#relu'", mul.Message);
        var cat = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(Two("Concat", new AttributeProto { Name = "axis", Type = 2, I = 3 }), "two"));
        Assert.Equal("two.onnx: node 'both' (Concat): in a stack Concat joins channels (axis 1 of (N, C, H, W)), got axis 3; to see the layers before it, use --stack 'two.onnx#relu'", cat.Message);
        // As graphs they run: Concat along W doubles the width.
        Tensor x = Random(3, 4, 5, 1).Reshape(1, 3, 4, 5);
        Assert.Equal([1, 3, 4, 10], Two("Concat", new AttributeProto { Name = "axis", Type = 2, I = 3 }).Run(new Dictionary<string, Tensor> { ["x"] = x })["y"].Shape);
    }

    [Fact]
    public void StackFile_NewLayerTypes_ParseAndBadFieldsAreOneError()
    {
        using var dir = new TempDir();
        string Write(string layers)
        {
            string path = dir.File("s.json");
            File.WriteAllText(path, $$"""{ "input": "rgb", "layers": [ {{layers}} ] }""");
            return path;
        }
        Stack s = StackFile.Load(Write("""
            { "type": "pad", "name": "p", "padding": [1, 2, 0, -1], "border": "reflect" },
            { "type": "clip", "name": "c", "min": 0, "max": 6 },
            { "type": "prelu", "slope": [0.1, 0.2, 0.3] },
            { "type": "concat", "inputs": ["p", "c", 2] },
            { "type": "selu" },
            { "type": "hard_sigmoid", "alpha": 0.25 },
            { "type": "elu", "alpha": 0.5 },
            { "type": "hard_swish" },
            { "type": "softplus" },
            { "type": "resize", "scale": [2, 1.5], "mode": "cubic", "cubic_a": -0.5, "exclude_outside": true }
            """));
        Assert.Equal(["pad", "clip", "prelu", "concat", "selu", "hard_sigmoid", "elu", "hard_swish", "softplus", "resize"], s.Layers.Select(l => l.Type));
        Assert.Equal(new ResizeOptions { Mode = ResizeMode.Cubic, ScaleY = 2, ScaleX = 1.5f, CubicA = -0.5f, ExcludeOutside = true }, ((ResizeLayer)s.Layers[^1]).Options);
        Assert.Equal((1.67326319217681884765625f, 1.05070102214813232421875f), (((ActivationLayer)s.Layers[4]).Slope, ((ActivationLayer)s.Layers[4]).Beta));
        Assert.Equal((0.25f, 0.5f), (((ActivationLayer)s.Layers[5]).Slope, ((ActivationLayer)s.Layers[5]).Beta));
        Stack again = StackFile.Parse(StackWriter.ToJson(s), dir.File("again.json"));
        Assert.Equal(s.Layers.OfType<ActivationLayer>().Select(l => (l.Kind, l.Slope, l.Beta, l.Min, l.Max)), again.Layers.OfType<ActivationLayer>().Select(l => (l.Kind, l.Slope, l.Beta, l.Min, l.Max)));
        Assert.Equal(((ResizeLayer)s.Layers[^1]).Options, ((ResizeLayer)again.Layers[^1]).Options);
        Assert.Equal(new PadOptions(1, 2, 0, -1, Border.Reflect), ((PadLayer)s.Layers[0]).Options);
        StackResult r = StackRunner.Run(s, Random(3, 4, 5, 3));
        Assert.Equal([9, 5, 6], r.Outputs[3].Shape);
        Assert.Equal([9, 10, 9], r.Outputs[^1].Shape);

        (string layers, string message)[] bad =
        [
            ("""{ "type": "pad", "padding": 1, "border": "reflect", "value": 2 }""", "layers[0] (pad) field 'value': fills a zero border only; this layer's border is reflect"),
            ("""{ "type": "pad" }""", "layers[0] (pad) field 'padding': is missing"),
            ("""{ "type": "clip", "min": "zero" }""", "layers[0] (clip) field 'min': must be a finite number, found \"zero\""),
            ("""{ "type": "clip", "min": 5, "max": 1 }""", "layers[0] (clip) field 'min': 5 is above 'max' 1; a clip's min must be at most its max (swap them?)"),
            // The field whose value does not fit the channels is named (these all said 'type').
            ("""{ "type": "prelu", "slope": [1, 2] }""", "layers[0] (prelu) field 'slope': prelu has 2 slopes; its input has 3 channels"),
            ("""{ "type": "channel_shuffle", "groups": 2 }""", "layers[0] (channel_shuffle) field 'groups': "),
            ("""{ "type": "slice", "start": 2, "end": 5 }""", "layers[0] (slice) field 'end': slice takes channels 2..4; its input has 3"),
            // A pool pad as wide as its window is refused at load, naming the padding (it said 'size', as if the input did not fit).
            ("""{ "type": "maxpool", "size": 3, "stride": 1, "padding": [3, 0, 0, 0] }""",
             "layers[0] (maxpool) field 'padding': [3, 0, 0, 0] (top, left, bottom, right) must each be smaller than the window's span (3, 3)"),
            ("""{ "type": "relu" }, { "type": "concat" }""", "layers[1] (concat) field 'inputs': concat joins two or more maps"),
            ("""{ "type": "resize", "scale": 2, "cubic_a": -0.5 }""", "layers[0] (resize) field 'cubic_a': applies to mode cubic only"),
            ("""{ "type": "selu", "slope": 1 }""", "layers[0] (selu) field 'slope': unknown field; allowed here: type, name, inputs, alpha, gamma"),
        ];
        foreach ((string layers, string message) in bad)
        {
            var e = Assert.Throws<ConvGLException>(() => StackFile.Load(Write(layers)));
            Assert.Contains(message, e.Message);
        }
    }
}
