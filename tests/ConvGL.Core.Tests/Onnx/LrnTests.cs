using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Stacks;
using Google.Protobuf;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>Local response normalisation (ONNX LRN): worked examples with hand-checked numbers (odd and even windows,
/// clipped at both ends), properties (a window of one channel, one channel, batches), the ONNX node's attribute and
/// shape errors, the <c>lrn</c> stack layer's fields and round trip, and NumPy on odd and even sizes. The official node cases run in
/// OnnxNodeCaseTests; ONNX Runtime checks an AlexNet-like model in BranchyOpsTests.</summary>
public sealed class LrnTests
{
    /// <summary>Within float32's rounding of the double result.</summary>
    private static void Close(double want, float got) =>
        Assert.True(Math.Abs(want - got) <= 2e-7 * Math.Max(1, Math.Abs(want)), $"want {want:R}, got {got:R}");

    [Fact]
    public void WorkedExample_OddWindow_ClippedAtBothEnds()
    {
        // Three channels of one pixel [1 2 3], size 3 (one channel each side), alpha 3 (alpha / size = 1), beta 1, bias 1:
        // c0 sums 1 + 4 = 5 -> 1 / 6; c1 sums 1 + 4 + 9 = 14 -> 2 / 15; c2 sums 4 + 9 = 13 -> 3 / 14.
        Tensor y = new Lrn(3, alpha: 3f, beta: 1f, bias: 1f).Apply(Tensor.Chw(3, 1, 1, [1, 2, 3]));
        Close(1 / 6.0, y.Data[0]);
        Close(2 / 15.0, y.Data[1]);
        Close(3 / 14.0, y.Data[2]);
    }

    [Fact]
    public void WorkedExample_EvenWindow_ReachesOneChannelFurtherUp()
    {
        // Size 2: floor(1/2) = 0 channels below, ceil(1/2) = 1 above. alpha 2 (alpha / size = 1), beta 0.5, bias 0, so
        // y = x / sqrt(sum): c0 sums 1 + 4 -> 1 / sqrt 5; c1 sums 4 + 9 -> 2 / sqrt 13; c2 sums 9 alone -> 1.
        var lrn = new Lrn(2, alpha: 2f, beta: 0.5f, bias: 0f);
        Assert.Equal((0, 1), (lrn.Before, lrn.After));
        Tensor y = lrn.Apply(Tensor.Chw(3, 1, 1, [1, 2, 3]));
        Close(1 / Math.Sqrt(5), y.Data[0]);
        Close(2 / Math.Sqrt(13), y.Data[1]);
        Close(1.0, y.Data[2]);
        // Size 4: one below, two above.
        Assert.Equal((1, 2), (new Lrn(4).Before, new Lrn(4).After));
    }

    [Fact]
    public void WorkedExample_PixelsAreIndependent_AndTheDefaults()
    {
        // Two channels of two pixels, size 2, the defaults (alpha 1e-4, beta 0.75, bias 1): pixel 0 is (3, 4), pixel 1
        // (0, 10). c0 at pixel 0 sums 9 + 16 = 25 -> 3 / (1 + 0.5e-4 * 25)^0.75; c1 there sums 16 alone.
        var lrn = new Lrn(2);
        Assert.Equal((1e-4f, 0.75f, 1f), (lrn.Alpha, lrn.Beta, lrn.Bias));
        Tensor y = lrn.Apply(Tensor.Chw(2, 1, 2, [3, 0, 4, 10]));
        Close(3 / Math.Pow(1 + 0.5e-4 * 25, 0.75), y.Data[0]);
        Close(0.0, y.Data[1]);
        Close(4 / Math.Pow(1 + 0.5e-4 * 16, 0.75), y.Data[2]);
        Close(10 / Math.Pow(1 + 0.5e-4 * 100, 0.75), y.Data[3]);
    }

    [Theory]
    [InlineData(1, 0f, 0.75f, 2f)]
    [InlineData(1, 0f, 2f, 0.5f)]
    [InlineData(7, 0f, 0.75f, 3f)]
    public void WithoutAlpha_ItIsADivisionByBiasToTheBeta(int size, float alpha, float beta, float bias)
    {
        Tensor x = TestKernels.Random(new Random(size), 5, 3, 4);
        Tensor y = new Lrn(size, alpha, beta, bias).Apply(x);
        double d = Math.Pow(bias, beta);
        for (int i = 0; i < x.Length; i++) Close(x.Data[i] / d, y.Data[i]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void OneChannel_SeesOnlyItself_WhateverTheSize(int size)
    {
        Tensor x = TestKernels.Random(new Random(3), 1, 4, 5);
        Tensor y = new Lrn(size, 0.7f, 0.75f, 1.5f).Apply(x);
        for (int i = 0; i < x.Length; i++)
        {
            double v = x.Data[i];
            Close(v / Math.Pow(1.5 + 0.7 / size * v * v, 0.75), y.Data[i]);
        }
    }

    [Fact]
    public void ABatch_IsItsImagesOneByOne_AndASignFlipIsKept()
    {
        var rng = new Random(9);
        Tensor a = TestKernels.Random(rng, 4, 3, 2), b = TestKernels.Random(rng, 4, 3, 2);
        var lrn = new Lrn(3, 0.8f, 0.75f, 1f);
        Tensor both = lrn.Apply(Tensor.Concat([a, b]), 4, 6);
        Assert.Equal([.. lrn.Apply(a).Data, .. lrn.Apply(b).Data], both.Data);
        // The sum is of squares: negating the input negates the output exactly.
        Tensor negated = Tensor.Chw(4, 3, 2, a.Data.Select(v => -v).ToArray());
        Assert.Equal(lrn.Apply(a).Data.Select(v => -v), lrn.Apply(negated).Data);
    }

    [Fact]
    public void NaNAndInfinity_ReachTheirWindowOnly()
    {
        // Channel 1 of 4 is NaN at pixel 0 and +inf at pixel 1: with size 3 channels 0-2 are NaN at pixel 0; at pixel 1
        // channels 0 and 2 are x / inf = 0 and channel 1 is inf / inf = NaN; channel 3 is out of both windows.
        Tensor x = Tensor.Chw(4, 1, 2, [1, 1, float.NaN, float.PositiveInfinity, 1, 1, 1, 1]);
        Tensor y = new Lrn(3, 0.3f, 0.75f, 1f).Apply(x);
        Assert.True(float.IsNaN(y.Data[0]) && float.IsNaN(y.Data[2]) && float.IsNaN(y.Data[4]));
        Assert.Equal(0f, y.Data[1]);
        Assert.True(float.IsNaN(y.Data[3]));
        Assert.Equal(0f, y.Data[5]);
        Assert.True(float.IsFinite(y.Data[6]) && float.IsFinite(y.Data[7]));
    }

    /// <summary>The ONNX operator page's formula written in NumPy (slices of the (N, C, H, W) array, float64), for odd and
    /// even sizes, some wider than the channels: the even ones are where ONNX Runtime's CPU LRN cannot be the oracle (it
    /// refuses them).</summary>
    [Fact]
    public void MatchesNumPy_OnOddAndEvenSizes()
    {
        if (!File.Exists(NumpyStackOracle.Python)) Assert.Skip("/usr/bin/python3 is not installed (scripts/install-deps.sh --test installs it with NumPy)");
        const string script = """
            import sys, math
            import numpy as np
            n, c, h, w, size = map(int, sys.argv[1:6])
            alpha, beta, bias = map(float, sys.argv[6:9])
            x = np.array(sys.stdin.read().split(), dtype=np.float64).reshape(n, c, h, w)
            lo, hi = math.floor((size - 1) / 2), math.ceil((size - 1) / 2)
            sq = np.zeros_like(x)
            for k in range(c):
                sq[:, k] = (x[:, max(0, k - lo):min(c - 1, k + hi) + 1] ** 2).sum(axis=1)
            print(" ".join(repr(float(v)) for v in (x / (bias + alpha / size * sq) ** beta).ravel()))
            """;
        var rng = new Random(21);
        foreach ((int size, float alpha, float beta, float bias) in new[] { (1, 0.5f, 0.75f, 1f), (2, 0.9f, 0.75f, 1f), (3, 1e-4f, 0.75f, 1f), (4, 2f, 0.5f, 0.5f), (5, 0.3f, 1.5f, 2f), (6, 1f, 0.75f, 1f), (8, 0.7f, 0.75f, 1f) })
        {
            Tensor x = TestKernels.Random(rng, 2, 5, 3, 4);
            var psi = new System.Diagnostics.ProcessStartInfo(NumpyStackOracle.Python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string arg in new[] { "-c", script, "2", "5", "3", "4", $"{size}" }) psi.ArgumentList.Add(arg);
            foreach (float v in new[] { alpha, beta, bias }) psi.ArgumentList.Add(((double)v).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
            using var p = System.Diagnostics.Process.Start(psi)!;
            p.StandardInput.Write(string.Join(" ", x.Data.Select(v => ((double)v).ToString("R", System.Globalization.CultureInfo.InvariantCulture))));
            p.StandardInput.Close();
            string output = p.StandardOutput.ReadToEnd(), error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"numpy failed: {error}");
            double[] want = output.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Tensor y = new Lrn(size, alpha, beta, bias).Apply(x, 5, 12);
            Assert.Equal(x.Length, want.Length);
            for (int i = 0; i < want.Length; i++) Close(want[i], y.Data[i]);
        }
    }

    [Fact]
    public void BadParameters_AreRefused()
    {
        Assert.Contains("size 0 must be at least 1", Assert.Throws<ConvGLException>(() => new Lrn(0)).Message);
        Assert.Contains("beta NaN must be finite", Assert.Throws<ConvGLException>(() => new Lrn(3, beta: float.NaN)).Message);
        Assert.Contains("(C, H, W)", Assert.Throws<ConvGLException>(() => new Lrn(3).Apply(new Tensor([2, 3]))).Message);
    }

    private static OnnxGraph Build(ModelProto m) => OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx"));

    private static AttributeProto Size(long v) => new() { Name = "size", Type = 2, I = v };

    [Fact]
    public void OnnxNode_AttributeErrors_NameTheNode()
    {
        var missing = Assert.Throws<ConvGLException>(() => Build(ProtoBuilders.OneNode("LRN")));
        Assert.StartsWith("m.onnx: node 'n0' (LRN): attribute 'size' must be given and at least 1", missing.Message);
        var zero = Assert.Throws<ConvGLException>(() => Build(ProtoBuilders.OneNode("LRN", Size(0))));
        Assert.Contains("node 'n0' (LRN): attribute 'size' must be given and at least 1 (the channels each sum of squares spans, e.g. 5), got 0", zero.Message);
        var extra = Assert.Throws<ConvGLException>(() => Build(ProtoBuilders.OneNode("LRN", Size(3), new AttributeProto { Name = "axis", Type = 2, I = 1 })));
        Assert.Contains("attribute 'axis' is not supported (supported: alpha, beta, bias, size)", extra.Message);
        var infinite = Assert.Throws<ConvGLException>(() => Build(ProtoBuilders.OneNode("LRN", Size(3), new AttributeProto { Name = "bias", Type = 1, F = float.PositiveInfinity })));
        // Every FLOAT attribute must be finite (NodeAttributes.Float): the same one line as any node's.
        Assert.StartsWith("m.onnx: node 'n0' (LRN): attribute 'bias' is Infinity; the parameters a model stores must be finite", infinite.Message);
        // An even size is ONNX's too.
        var even = Assert.IsType<LrnOp>(Build(ProtoBuilders.OneNode("LRN", Size(2))).Ops[0]);
        Assert.Equal(2, even.Parameters.Size);
    }

    [Fact]
    public void OnnxNode_RunsOnNchw_AndRefusesOtherRanks()
    {
        OnnxGraph graph = Build(ProtoBuilders.OneNode("LRN", Size(3), new AttributeProto { Name = "alpha", Type = 1, F = 0.6f }));
        Tensor x = TestKernels.Random(new Random(4), 1, 2, 4, 5);
        Tensor y = graph.Run(new Dictionary<string, Tensor> { ["x"] = x })["y"];
        Assert.Equal([1, 2, 4, 5], y.Shape);
        Assert.Equal(new Lrn(3, 0.6f).Apply(x.Reshape(2, 4, 5)).Data, y.Data);

        var m = ProtoBuilders.OneNode("LRN", Size(3));
        m.Graph.Input[0] = ProtoBuilders.Value("x", 2, 4, 5);
        var e = Assert.Throws<ConvGLException>(() => Build(m).Run(new Dictionary<string, Tensor> { ["x"] = new Tensor([2, 4, 5]) }));
        Assert.Equal("m.onnx: node 'n0' (LRN): input (2, 4, 5) must be (N, C, H, W)", e.Message);
    }

    [Fact]
    public void StackLayer_Fields_RoundTrip_AndErrors()
    {
        using var dir = new StackDir();
        Stack s = dir.Load("""{"input": "rgb", "layers": [{"type": "lrn", "size": 4, "alpha": 0.25, "beta": 0.5, "bias": 2, "name": "norm"}, {"type": "lrn", "size": 5}]}""");
        var a = Assert.IsType<LrnLayer>(s.Layers[0]);
        Assert.Equal((4, 0.25f, 0.5f, 2f), (a.Parameters.Size, a.Parameters.Alpha, a.Parameters.Beta, a.Parameters.Bias));
        var b = Assert.IsType<LrnLayer>(s.Layers[1]);
        Assert.Equal((5, 1e-4f, 0.75f, 1f), (b.Parameters.Size, b.Parameters.Alpha, b.Parameters.Beta, b.Parameters.Bias));
        Tensor x = TestKernels.Random(new Random(8), 3, 4, 6);
        StackResult r = StackRunner.Run(s, x);
        Assert.Equal(a.Parameters.Apply(x).Data, r.Outputs[0].Data);

        StackWriter.Write(dir.File("again.json"), s);
        Stack again = StackFile.Load(dir.File("again.json"));
        foreach ((StackLayer l0, StackLayer l1) in s.Layers.Zip(again.Layers))
        {
            Lrn p0 = ((LrnLayer)l0).Parameters, p1 = Assert.IsType<LrnLayer>(l1).Parameters;
            Assert.Equal((p0.Size, p0.Alpha, p0.Beta, p0.Bias), (p1.Size, p1.Alpha, p1.Beta, p1.Bias));
        }
        Assert.Equal("norm", again.Layers[0].Label);
        Assert.Equal(r.Outputs[^1].Data, StackRunner.Run(again, x).Outputs[^1].Data);

        string Error(string layer) => Assert.Throws<ConvGLException>(() => dir.Load($$"""{"layers": [{{layer}}]}""", "bad.json")).Message;
        Assert.Contains("layers[0] (lrn) field 'size': is missing", Error("""{"type": "lrn"}"""));
        Assert.Contains("layers[0] (lrn) field 'size': must be at least 1, found 0", Error("""{"type": "lrn", "size": 0}"""));
        Assert.Contains("layers[0] (lrn) field 'beta': must be a finite number", Error("""{"type": "lrn", "size": 3, "beta": "x"}"""));
        Assert.Contains("field 'epsilon'", Error("""{"type": "lrn", "size": 3, "epsilon": 1}"""));
    }
}
