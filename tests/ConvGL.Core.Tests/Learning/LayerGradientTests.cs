using ConvGL.Core.Learning;
using ConvGL.Core.Ops;

namespace ConvGL.Core.Tests.Learning;

/// <summary>Every layer's backward pass against central finite differences (see <see cref="GradCheck"/> for the rule).</summary>
public class LayerGradientTests
{
    // Linear in input and in weights: exact at any eps; a large step keeps float32 output rounding (~1e-7
    // relative per output) far below the tolerance.
    private static readonly GradCheck.Tolerance LinearTol = new(Eps: 0.25, Abs: 2e-5, Rel: 1e-4);
    // Piecewise linear with inputs kept > eps from every kink: the outputs are copies of inputs, so exact.
    private static readonly GradCheck.Tolerance PiecewiseTol = new(Eps: 1e-3, Abs: 1e-6, Rel: 1e-5);

    public static TheoryData<string, int, int, int, int, int, int, int, ConvOptions> ConvCases => new()
    {
        // name, C_in, C_out, kH, kW, H, W, bias(1/0), options
        { "1x1 ch, 3x3, same, zero", 1, 1, 3, 3, 5, 5, 1, new ConvOptions() },
        { "3->4, 3x2 kernel, valid, stride 2", 3, 4, 3, 2, 7, 6, 1, new ConvOptions { Padding = PaddingMode.Valid, StrideY = 2, StrideX = 2 } },
        { "4->6, groups 2, dilation 2, same", 4, 6, 3, 3, 9, 8, 1, new ConvOptions { Groups = 2, DilationY = 2, DilationX = 2 } },
        { "2->3, explicit pad 2, stride (2,1), dilation (1,2)", 2, 3, 3, 3, 6, 7, 1,
            new ConvOptions { Padding = PaddingMode.Explicit, PadY = 2, PadX = 2, StrideY = 2, DilationX = 2 } },
        { "depthwise 3 groups, 5x5, full, no bias", 3, 3, 5, 5, 6, 5, 0, new ConvOptions { Groups = 3, Padding = PaddingMode.Full } },
        { "reflect border, convolve, 2->2, 3x3", 2, 2, 3, 3, 5, 6, 1, new ConvOptions { Border = Border.Reflect, Mode = ConvMode.Convolve } },
        { "wrap border, stride 2, 1->3, 4x3 kernel", 1, 3, 4, 3, 7, 7, 1, new ConvOptions { Border = Border.Wrap, StrideY = 2, StrideX = 2 } },
        { "symmetric border, dilation 3, 2->2", 2, 2, 3, 3, 5, 5, 1, new ConvOptions { Border = Border.Symmetric, DilationY = 3, DilationX = 3 } },
        { "replicate border, 5x5 kernel larger than 4x4 image, groups 2", 2, 4, 5, 5, 4, 4, 1, new ConvOptions { Border = Border.Replicate, Groups = 2 } },
        { "1x1 kernel, 4->2, stride 3", 4, 2, 1, 1, 7, 8, 1, new ConvOptions { StrideY = 3, StrideX = 3 } },
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2d_BackwardMatchesFiniteDifferences(string name, int cin, int cout, int kh, int kw, int h, int w, int bias, ConvOptions options)
    {
        var rng = new Random(11);
        Tensor weight = GradCheck.Random([cout, cin / options.Groups, kh, kw], rng);
        Tensor? b = bias == 1 ? GradCheck.Random([cout], rng) : null;
        var layer = new Conv2dLayer(weight, b, options);
        GradCheck.Check(layer, GradCheck.Random([cin, h, w], rng), LinearTol, 12, $"conv {name} ({options})");
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2d_ForwardIsBitIdenticalToTheReferenceConv(string name, int cin, int cout, int kh, int kw, int h, int w, int bias, ConvOptions options)
    {
        // The layer's loop adds the same double products in the same order as Conv2D.Apply: equal to the bit.
        var rng = new Random(3);
        Tensor weight = GradCheck.Random([cout, cin / options.Groups, kh, kw], rng);
        Tensor? b = bias == 1 ? GradCheck.Random([cout], rng) : null;
        Tensor input = GradCheck.Random([cin, h, w], rng);
        Tensor expected = Conv2D.Apply(input, weight, b?.Data, options);
        Tensor actual = new Conv2dLayer(weight, b, options).Forward(input);
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.True(expected.Data.SequenceEqual(actual.Data), $"conv {name} ({options}): layer forward differs from Conv2D.Apply");
    }

    [Fact]
    public void Relu_BackwardMatchesFiniteDifferences()
    {
        var rng = new Random(5);
        Tensor input = GradCheck.Random([3, 5, 4], rng);
        // Keep every input at least 0.05 from the kink at 0.
        for (int i = 0; i < input.Length; i++)
            if (Math.Abs(input.Data[i]) < 0.05f) input.Data[i] = i % 2 == 0 ? 0.3f : -0.3f;
        GradCheck.Check(new ReluLayer(), input, PiecewiseTol, 6, "relu");
    }

    public static TheoryData<string, int, int, int, int, int, int> PoolCases => new()
    {
        // name, C, H, W, size, stride (0 = size), pad
        { "2x2", 2, 6, 6, 2, 0, 0 },
        { "2x2 on odd size (last row dropped)", 1, 7, 5, 2, 0, 0 },
        { "3x3 stride 2 (overlapping)", 2, 7, 7, 3, 2, 0 },
        { "3x3 stride 1 pad 1", 1, 5, 6, 3, 1, 1 },
    };

    /// <summary>Distinct values 0.01 apart in random order, so every window has a unique maximum by a margin
    /// far larger than eps.</summary>
    private static Tensor DistinctInput(int c, int h, int w, int seed)
    {
        int n = c * h * w;
        float[] values = [.. Enumerable.Range(0, n).Select(i => (i - n / 2) * 0.01f)];
        new Random(seed).Shuffle(values);
        return Tensor.Chw(c, h, w, values);
    }

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void MaxPool_BackwardMatchesFiniteDifferences(string name, int c, int h, int w, int size, int stride, int pad)
    {
        var layer = new MaxPool2dLayer(PoolOptions.Square(PoolKind.Max, size, stride, pad));
        GradCheck.Check(layer, DistinctInput(c, h, w, 9), PiecewiseTol, 10, $"maxpool {name}");
    }

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void MaxPool_ForwardEqualsReferencePool(string name, int c, int h, int w, int size, int stride, int pad)
    {
        PoolOptions o = PoolOptions.Square(PoolKind.Max, size, stride, pad);
        Tensor input = GradCheck.Random([c, h, w], new Random(4));
        Assert.True(Pool2D.Apply(input, o).Data.SequenceEqual(new MaxPool2dLayer(o).Forward(input).Data), $"maxpool {name}");
    }

    [Fact]
    public void MaxPool_TieRoutesGradientToFirstMaximumOnly()
    {
        // One 2x2 window of equal values: PyTorch routes the gradient to the first (top-left) one.
        var layer = new MaxPool2dLayer(2);
        layer.Forward(Tensor.Chw(1, 2, 2, [0.5f, 0.5f, 0.5f, 0.5f]));
        Tensor g = layer.Backward(Tensor.Chw(1, 1, 1, [3f]));
        Assert.Equal([3f, 0f, 0f, 0f], g.Data);
    }

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void AvgPool_BackwardMatchesFiniteDifferences(string name, int c, int h, int w, int size, int stride, int pad)
    {
        var layer = new AvgPool2dLayer(PoolOptions.Square(PoolKind.Average, size, stride, pad));
        GradCheck.Check(layer, GradCheck.Random([c, h, w], new Random(7)), LinearTol, 8, $"avgpool {name}");
    }

    [Fact]
    public void Flatten_BackwardMatchesFiniteDifferences() =>
        GradCheck.Check(new FlattenLayer(), GradCheck.Random([2, 3, 4], new Random(2)), LinearTol, 3, "flatten");

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(50, 10)]
    public void Linear_BackwardMatchesFiniteDifferences(int inFeatures, int outFeatures)
    {
        var rng = new Random(inFeatures * 31 + outFeatures);
        LinearLayer layer = LinearLayer.Create(inFeatures, outFeatures, rng);
        GradCheck.Check(layer, GradCheck.Random([inFeatures], rng), LinearTol, 4, $"linear {inFeatures}->{outFeatures}");
    }

    [Theory]
    [InlineData(2, 0)]
    [InlineData(10, 3)]
    [InlineData(10, 9)]
    public void SoftmaxCrossEntropy_GradientMatchesFiniteDifferences(int classes, int label)
    {
        // Smooth: truncation error is eps^2 * (third derivative <= 1) / 6 ~ 2e-7 at eps 1e-3; the loss itself is
        // computed in double from the float logits.
        var rng = new Random(classes + label);
        Tensor logits = GradCheck.Random([classes], rng, -3, 3);
        SoftmaxCrossEntropy.Loss(logits, label, out Tensor grad);
        for (int k = 0; k < classes; k++)
        {
            float saved = logits.Data[k];
            float plus = saved + 1e-3f, minus = saved - 1e-3f;
            logits.Data[k] = plus;
            double lPlus = SoftmaxCrossEntropy.Loss(logits, label);
            logits.Data[k] = minus;
            double lMinus = SoftmaxCrossEntropy.Loss(logits, label);
            logits.Data[k] = saved;
            double numeric = (lPlus - lMinus) / ((double)plus - minus);
            Assert.True(Math.Abs(grad.Data[k] - numeric) <= 1e-6 + 1e-5 * Math.Abs(numeric),
                $"classes {classes} label {label} logit {k}: analytic {grad.Data[k]:G9} numeric {numeric:G9}");
        }
    }

    [Fact]
    public void SoftmaxCrossEntropy_WorkedExample()
    {
        // Logits (0, ln 3): softmax (1/4, 3/4). Loss for label 1 = -ln(3/4); gradient (1/4, -1/4).
        Tensor logits = new([2], [0f, (float)Math.Log(3)]);
        double loss = SoftmaxCrossEntropy.Loss(logits, 1, out Tensor grad);
        Assert.Equal(-Math.Log(0.75), loss, 6);
        Assert.Equal(0.25, grad.Data[0], 6);
        Assert.Equal(-0.25, grad.Data[1], 6);
        // Huge logits must not overflow (log-sum-exp shift).
        Assert.Equal(0.0, SoftmaxCrossEntropy.Loss(new Tensor([2], [1000f, -1000f]), 0), 9);
    }

    [Fact]
    public void SmallCnn_EndToEndGradientMatchesFiniteDifferences()
    {
        // The whole chain conv -> relu -> pool -> conv -> relu -> pool -> flatten -> linear -> cross-entropy.
        // Not piecewise linear in the weights (products of two layers), so a small eps and a looser tolerance.
        var rng = new Random(21);
        Sequential model = SmallCnn.Create(12, 4, 3, 4, rng);
        Tensor image = GradCheck.Random([1, 12, 12], rng, 0, 1);
        const int label = 2;
        model.ZeroGrad();
        SoftmaxCrossEntropy.Loss(model.Forward(image), label, out Tensor g);
        model.Backward(g);
        foreach ((string name, Parameter p) in model.NamedParameters)
        {
            double[] analytic = (double[])p.Grad.Clone();
            for (int i = 0; i < p.Value.Length; i += Math.Max(1, p.Value.Length / 25))
            {
                float saved = p.Value.Data[i];
                float plus = saved + 1e-3f, minus = saved - 1e-3f;
                p.Value.Data[i] = plus;
                double lPlus = SoftmaxCrossEntropy.Loss(model.Forward(image), label);
                p.Value.Data[i] = minus;
                double lMinus = SoftmaxCrossEntropy.Loss(model.Forward(image), label);
                p.Value.Data[i] = saved;
                double numeric = (lPlus - lMinus) / ((double)plus - minus);
                Assert.True(Math.Abs(analytic[i] - numeric) <= 2e-4 + 1e-2 * Math.Abs(numeric),
                    $"{name}[{i}]: analytic {analytic[i]:G9} numeric {numeric:G9} (eps 1e-3, tolerance 2e-4 + 1e-2*|numeric|)");
            }
        }
    }
}
