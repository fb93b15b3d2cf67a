using ConvGL.Core;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>Weights that are exactly zero over inputs that are not finite: the reference's sum multiplies every tap, so
/// 0 * NaN and 0 * inf make the output NaN, and every conv program must give NaN at exactly those outputs (and the same
/// infinities and finite values elsewhere). Programs with weights compiled in as literals are where this can break: Mesa
/// folds a product by a literal zero away, NaN and all (LiteralConvPlan did until 2026-12-07; its zero weights and the
/// image filters' zero taps now read a uniform zero).</summary>
[Collection(GlCollection.Name)]
public sealed class ZeroWeightTests(GlFixture fixture)
{
    /// <summary>The same non-finite outputs (NaN where the reference has NaN, the same infinities), and the finite ones
    /// within the usual tolerance.</summary>
    private static void AssertSameNonFinite(Tensor expected, Tensor actual, string what)
    {
        Assert.Contains(expected.Data, float.IsNaN);
        Assert.True(expected.SameShape(actual), what);
        expected = expected.Clone();
        actual = actual.Clone();
        for (int i = 0; i < expected.Length; i++)
        {
            float r = expected.Data[i], g = actual.Data[i];
            if (float.IsFinite(r)) continue;
            Assert.True(float.IsNaN(r) ? float.IsNaN(g) : r == g, $"value {i}: reference {r}, GPU {g} -- {what}");
            expected.Data[i] = actual.Data[i] = 0f;
        }
        Parity.AssertGpuMatchesReference(expected, actual, what);
    }

    /// <summary>Random values with a NaN, +inf and -inf placed apart in every channel.</summary>
    private static Tensor NonFiniteInput(int c, int h, int w, int seed)
    {
        var rng = new Random(seed);
        Tensor input = Parity.Random(rng, c, h, w);
        for (int k = 0; k < c; k++)
        {
            input[k, h / 2, w / 2] = float.NaN;
            input[k, h - 2, 1 + k % 3] = float.PositiveInfinity;
            input[k, 1, w - 2] = float.NegativeInfinity;
        }
        return input;
    }

    /// <summary>Every other weight zero (and one of them -0).</summary>
    private static Tensor HalfZero(Random rng, params int[] shape)
    {
        Tensor weight = Parity.Random(rng, 0.3f, shape);
        for (int k = 0; k < weight.Length; k += 2) weight.Data[k] = k == 2 ? -0f : 0f;
        return weight;
    }

    public static TheoryData<string> Paths => ["Auto", "Direct", "Fast", "FastRim", "Winograd", "Pointwise", "Literal", "LiteralWinograd"];

    [Theory]
    [MemberData(nameof(Paths))]
    public void DenseLayers_EveryProgram(string path)
    {
        ConvPath choice = Enum.Parse<ConvPath>(path);
        // 3x3 (Winograd's shape) and 1x1 (the pointwise plan's), a grouped 5x3; each program where it applies, another
        // where it does not (the path then plans as the rule says).
        (int[] Shape, ConvOptions O)[] layers =
        [
            ([6, 4, 3, 3], new ConvOptions()),
            ([6, 4, 1, 1], new ConvOptions()),
            ([4, 2, 5, 3], new ConvOptions { Groups = 2, Border = Border.Reflect, Padding = PaddingMode.Same }),
        ];
        var rng = new Random(20261207);
        foreach ((int[] shape, ConvOptions o) in layers)
        {
            Tensor input = NonFiniteInput(4, 14, 24, rng.Next());
            Tensor weight = HalfZero(rng, shape);
            float[] bias = Parity.RandomVector(rng, 1f, shape[0]);
            using var conv = new GpuConv2D(fixture.Context, weight, bias, o) { Choice = choice };
            Tensor actual = conv.Apply(input);
            AssertSameNonFinite(Conv2D.Apply(input, weight, bias, o), actual, $"{path} ({string.Join("x", shape)}): {conv.Variant}");
        }
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void SeparableFilters_ZeroTaps(bool fused, bool literals)
    {
        // Sobel x as a column [1, 2, 1] and a row [-1, 0, 1]: the row's zero tap over the NaN and the infinities, one pass
        // (separable_fast) or two (conv2d_depthwise), the vectors compiled in (a software rasteriser) or not.
        Tensor input = NonFiniteInput(3, 40, 72, 11);
        float[] column = [1, 2, 1], row = [-1, -0f, 1];
        var o = new ConvOptions { Border = Border.Reflect };
        using var sep = new GpuSeparableConv(fixture.Context, column, row, o) { Choice = fused ? ConvPath.Fused : ConvPath.Fast, LiteralFilters = literals };
        Tensor actual = sep.Apply(input);
        Assert.Equal(literals && fixture.Context.IsSoftware, sep.Variant.Contains("weights compiled in", StringComparison.Ordinal));
        AssertSameNonFinite(Conv2D.Filter(input, Tensor.Matrix([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]), o), actual, sep.Variant);
    }

    [Theory]
    [InlineData("sobel-x", 3, true)]
    [InlineData("sobel-x", 3, false)]
    [InlineData("laplacian", 1, true)]
    [InlineData("emboss", 4, false)]
    public void ImageFilters_ZeroTaps(string kernel, int channels, bool forced)
    {
        // One kernel on every channel: on a software rasteriser the interior program takes it as literals (checked by the
        // variant); its zero taps must still see the NaN and the infinities under them.
        Tensor input = NonFiniteInput(channels, 40, 72, channels);
        Tensor k = KernelLibrary.Get(kernel).Clone();
        // One zero tap made -0: its sign is kept (the reference multiplies by -0).
        int first = Array.FindIndex(k.Data, v => v == 0f);
        Assert.True(first >= 0, kernel);
        k.Data[first] = -0f;
        Tensor weight = Conv2D.DepthwiseWeight(k, channels);
        var o = new ConvOptions { Groups = channels, Border = forced ? Border.Zero : Border.Reflect };
        using var conv = new GpuConv2D(fixture.Context, weight, null, o) { Choice = forced ? ConvPath.Fast : ConvPath.Auto };
        Tensor actual = conv.Apply(input);
        if (fixture.Context.IsSoftware) Assert.Contains("weights compiled in", conv.Variant, StringComparison.Ordinal);
        AssertSameNonFinite(Conv2D.Apply(input, weight, null, o), actual, conv.Variant);
    }
}
