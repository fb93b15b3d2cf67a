using ConvGL.Core;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>Image filters with their kernel compiled in (ConvPlan.LiteralFilter: conv2d_depthwise.comp's LITERAL_W, one
/// kernel on every channel, up to 4 channels, on a software rasteriser) against Conv2D.Apply over sweeps that straddle
/// the blocking (widths 1 to 257, heights 1 to 17, the two-row blocks and the sliding strips of 4- and 5-row kernels),
/// every border, mode, padding, stride and dilation, bias per channel; and which filters take it, and that the op owns
/// its programs (kept across input sizes, deleted with the weights).</summary>
[Collection(GlCollection.Name)]
public sealed class LiteralFilterTests(GlFixture fixture, ITestOutputHelper log)
{
    private static readonly int[] Widths = [1, 7, 8, 9, 31, 33, 64, 257];
    private static readonly int[] Heights = [1, 5, 17, 70];
    private static readonly (int H, int W)[] Kernels = [(3, 3), (5, 5), (4, 2), (1, 7), (9, 9)];

    /// <summary>One kernel (random, a third of its taps zero) on every channel, forced fast; whether it ran literal.</summary>
    private bool Check(Random rng, int c, int h, int w, (int H, int W) k, ConvOptions o, bool bias, string spec)
    {
        Tensor kernel = Parity.Random(rng, 1f / MathF.Sqrt(k.H * k.W), k.H, k.W);
        for (int t = 0; t < kernel.Length; t += 3) kernel.Data[t] = 0f;
        Tensor weight = Conv2D.DepthwiseWeight(kernel, c);
        float[]? b = bias ? Parity.RandomVector(rng, 1f, c) : null;
        Tensor input = Parity.Random(rng, c, h, w);
        using var conv = new GpuConv2D(fixture.Context, weight, b, o) { Choice = ConvPath.Fast };
        if (Parity.ReferenceOrSameRefusal(() => Conv2D.Apply(input, weight, b, o), () => conv.Apply(input)) is not { } expected) return false;
        Tensor actual = conv.Apply(input);
        Assert.StartsWith("conv2d_depthwise", conv.Variant, StringComparison.Ordinal);
        Assert.Equal(fixture.Context.IsSoftware, conv.Variant.Contains("weights compiled in", StringComparison.Ordinal));
        Parity.AssertGpuMatchesReference(expected, actual, $"{spec} in=({c},{h},{w}) k={k} bias={bias} {o} -- {conv.Variant}");
        return true;
    }

    [Fact]
    public void EveryWidthHeightAndKernel()
    {
        var rng = new Random(1207);
        int n = 0;
        foreach (int w in Widths)
            foreach (int h in Heights)
            {
                (int, int) k = Kernels[n % Kernels.Length];
                var o = new ConvOptions { Groups = 1 + n % 4, Border = Borders.All[n % Borders.All.Count], Mode = n % 2 == 0 ? ConvMode.Convolve : ConvMode.Correlate };
                Check(rng, o.Groups, h, w, k, o, bias: n % 3 == 0, $"case {n++}");
            }
    }

    [Fact]
    public void RandomOptions()
    {
        var rng = new Random(20261207);
        PaddingMode[] paddings = Enum.GetValues<PaddingMode>();
        int ran = 0;
        for (int n = 0; n < 30; n++)
        {
            int c = rng.Next(1, 5);
            PaddingMode padding = paddings[rng.Next(paddings.Length)];
            var o = new ConvOptions
            {
                Groups = c,
                Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                Border = Borders.All[rng.Next(Borders.All.Count)],
                Padding = padding,
                PadY = rng.Next(0, 4),
                PadX = rng.Next(0, 4),
                PadBottom = padding == PaddingMode.Explicit ? rng.Next(0, 6) : null,
                PadRight = padding == PaddingMode.Explicit ? rng.Next(0, 6) : null,
                StrideY = rng.Next(1, 3),
                StrideX = rng.Next(1, 3),
                DilationY = rng.Next(1, 3),
                DilationX = rng.Next(1, 3),
            };
            if (Check(rng, c, Heights[rng.Next(Heights.Length)], Widths[rng.Next(Widths.Length)], Kernels[rng.Next(3)], o, rng.Next(2) == 0, $"random {n}")) ran++;
        }
        log.WriteLine($"{ran} of 30 compared");
        Assert.True(ran >= 20, $"only {ran} of 30 random cases had an output");
    }

    [Fact]
    public void OnlyOneKernelOnFewChannels_OnASoftwareRasteriser()
    {
        Assert.SkipUnless(fixture.Context.IsSoftware, "the literal filters are for software rasterisers");
        var rng = new Random(5);
        Tensor input = Parity.Random(rng, 3, 32, 48);
        // Sobel on RGB: literal. Another kernel on one channel: the uniform block. Five channels: a layer, not a filter.
        Tensor same = Conv2D.DepthwiseWeight(KernelLibrary.Get("sobel-x"), 3);
        Tensor differ = same.Clone();
        differ.Data[9 + 4] = 0.5f;
        using var a = new GpuConv2D(fixture.Context, same, null, new ConvOptions { Groups = 3 });
        a.Apply(input);
        Assert.EndsWith("whole plane (zero border), no rim, one dispatch per channel, weights compiled in", a.Variant, StringComparison.Ordinal);
        a.Options = new ConvOptions { Groups = 3, Border = Border.Reflect };
        Parity.AssertGpuMatchesReference(Conv2D.Apply(input, same, null, a.Options), a.Apply(input), a.Variant);
        Assert.EndsWith("one dispatch per channel, weights compiled in (the rim's in a uniform block)", a.Variant, StringComparison.Ordinal);
        using var b = new GpuConv2D(fixture.Context, differ, null, new ConvOptions { Groups = 3 });
        Parity.AssertGpuMatchesReference(Conv2D.Apply(input, differ, null, b.Options), b.Apply(input), b.Variant);
        Assert.Contains("weights in a uniform block", b.Variant, StringComparison.Ordinal);
        Tensor five = Parity.Random(rng, 5, 32, 48);
        using var c = new GpuConv2D(fixture.Context, Conv2D.DepthwiseWeight(KernelLibrary.Get("sobel-x"), 5), null, new ConvOptions { Groups = 5 });
        c.Apply(five);
        Assert.DoesNotContain("compiled in", c.Variant, StringComparison.Ordinal);
        // Kernels above 81 taps keep the uniform block (or texel view).
        using var big = new GpuConv2D(fixture.Context, Conv2D.DepthwiseWeight(KernelLibrary.Get("gaussian:11"), 1), null, new ConvOptions { Groups = 1 });
        big.Apply(Parity.Random(rng, 1, 32, 48));
        Assert.DoesNotContain("compiled in", big.Variant, StringComparison.Ordinal);
        // CONVGL_LITERAL_PLANS=0 is read when a plan is made: off, the uniform block.
        Environment.SetEnvironmentVariable("CONVGL_LITERAL_PLANS", "0");
        try
        {
            using var off = new GpuConv2D(fixture.Context, same, null, new ConvOptions { Groups = 3 });
            off.Apply(input);
            Assert.Contains("weights in a uniform block", off.Variant, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("CONVGL_LITERAL_PLANS", null);
        }
    }

    [Fact]
    public void NegativeZeroTaps_KeepTheirSign()
    {
        // Taps of -0 and a bias of -0 over positive values: the reference's every sum is -0 (-0 + -0 * x + ...). A zero tap
        // compiled in reads a uniform zero (for NaN's sake, ZeroWeightTests); a -0 tap must read its negation.
        var rng = new Random(12);
        Tensor input = Parity.Random(rng, 1, 64, 72);
        for (int i = 0; i < input.Length; i++) input.Data[i] = MathF.Abs(input.Data[i]) + 0.1f;
        Tensor weight = Conv2D.DepthwiseWeight(new Tensor([3, 3], Enumerable.Repeat(-0f, 9).ToArray()), 1);
        var o = new ConvOptions { Border = Border.Reflect };
        Tensor expected = Conv2D.Apply(input, weight, [-0f], o);
        Assert.All(expected.Data, v => Assert.True(v == 0f && float.IsNegative(v)));
        foreach (bool literals in new[] { true, false })
        {
            using var conv = new GpuConv2D(fixture.Context, weight, [-0f], o) { LiteralFilters = literals };
            Tensor actual = conv.Apply(input);
            Assert.True(literals == (fixture.Context.IsSoftware && conv.Variant.Contains("weights compiled in", StringComparison.Ordinal)) || !fixture.Context.IsSoftware, conv.Variant);
            int positive = actual.Data.Count(v => !float.IsNegative(v));
            Assert.True(positive == 0, $"{positive} outputs +0 -- {conv.Variant}");
        }
        using var sep = new GpuSeparableConv(fixture.Context, [1f, 1f, 1f], [-0f, -0f, -0f], o, [-0f]) { Choice = ConvPath.Fused };
        Tensor separable = sep.Apply(input);
        Assert.True(separable.Data.All(float.IsNegative), sep.Variant);
    }

    [Fact]
    public void FusedActivation_OnTheLiteralProgram()
    {
        // A filter whose relu the stack runner fused into its stores: the literal program applies it as it stores.
        var rng = new Random(13);
        Tensor input = Parity.Random(rng, 3, 48, 64);
        input[1, 20, 30] = float.NaN;
        Tensor weight = Conv2D.DepthwiseWeight(KernelLibrary.Get("sobel-x"), 3);
        var o = new ConvOptions { Groups = 3, Border = Border.Reflect };
        foreach (FusedActivation act in new[] { FusedActivation.Relu, new FusedActivation(ActivationKind.LeakyRelu, Slope: 0f) })
        {
            using var conv = new GpuConv2D(fixture.Context, weight, null, o) { Fused = act };
            Tensor actual = conv.Apply(input);
            Assert.True(!fixture.Context.IsSoftware || conv.Variant.Contains("weights compiled in", StringComparison.Ordinal), conv.Variant);
            Assert.EndsWith(act.Suffix, conv.Variant, StringComparison.Ordinal);
            Tensor expected = Activation.Apply(Conv2D.Apply(input, weight, null, o), act.Kind, act.Slope, act.Min, act.Max, act.Beta);
            Assert.Equal(expected.Data.Select(float.IsNaN), actual.Data.Select(float.IsNaN));
            Parity.AssertGpuMatchesReference(new Tensor(expected.Shape, [.. expected.Data.Select(v => float.IsNaN(v) ? 0 : v)]),
                new Tensor(actual.Shape, [.. actual.Data.Select(v => float.IsNaN(v) ? 0 : v)]), conv.Variant);
        }
    }

    [Fact]
    public void TheOpOwnsItsPrograms_KeptAcrossSizes_DeletedWithTheWeights()
    {
        Assert.SkipUnless(fixture.Context.IsSoftware, "the literal filters are for software rasterisers");
        var rng = new Random(6);
        Tensor small = Parity.Random(rng, 3, 32, 48), large = Parity.Random(rng, 3, 40, 64), odd = Parity.Random(rng, 3, 40, 50);
        Tensor sobel = Conv2D.DepthwiseWeight(KernelLibrary.Get("sobel-x"), 3);
        var o = new ConvOptions { Groups = 3 };
        using var conv = new GpuConv2D(fixture.Context, sobel, null, o);
        conv.Apply(small);
        int one = conv.LiteralFilterPrograms;
        Assert.Equal(1, one);
        conv.Apply(large);
        Assert.Equal(1, conv.LiteralFilterPrograms); // another size, the same program (its defines are the same)
        conv.Apply(odd);
        Assert.Equal(2, conv.LiteralFilterPrograms); // rows not whole vec4s: another interior program
        conv.Apply(small);
        Assert.Equal(2, conv.LiteralFilterPrograms); // found again, not rebuilt
        Tensor sobelY = Conv2D.DepthwiseWeight(KernelLibrary.Get("sobel-y"), 3);
        conv.SetWeights(sobelY, null);
        Assert.Equal(0, conv.LiteralFilterPrograms);
        Parity.AssertGpuMatchesReference(Conv2D.Apply(small, sobelY, null, o), conv.Apply(small), "after SetWeights");
        Assert.Equal(1, conv.LiteralFilterPrograms);
        // The same weights again (the ONNX runner sets graph-input weights on every run): nothing is made again.
        conv.SetWeights(sobelY.Clone(), null);
        Assert.Equal(1, conv.LiteralFilterPrograms);
        Parity.AssertGpuMatchesReference(Conv2D.Apply(small, sobelY, null, o), conv.Apply(small), "after the same weights");
        Assert.Equal(1, conv.LiteralFilterPrograms);
        // A bias is a change.
        float[] bias = [0.5f, -1f, 2f];
        conv.SetWeights(sobelY, bias);
        Assert.Equal(0, conv.LiteralFilterPrograms);
        Parity.AssertGpuMatchesReference(Conv2D.Apply(small, sobelY, bias, o), conv.Apply(small), "with a bias");
    }
}

/// <summary>GL object labels longer than GL_MAX_LABEL_LENGTH are cut to fit: a program named by its defines, a literal
/// kernel among them, made glObjectLabel fail with GL_INVALID_VALUE (the window's soak test counted 84 such errors).</summary>
[Collection(GlCollection.Name)]
public sealed class LongLabelTests(GlFixture fixture)
{
    [Fact]
    public void LiteralFilterPrograms_AndLongBufferLabels_RaiseNoGlError()
    {
        int before = fixture.Context.DebugErrors;
        // A 9x9 kernel compiled in: its defines hold 81 literals.
        var rng = new Random(9);
        Tensor kernel = Parity.Random(rng, 0.1f, 9, 9);
        Tensor weight = Conv2D.DepthwiseWeight(kernel, 1);
        using var conv = new GpuConv2D(fixture.Context, weight, null, new ConvOptions { Border = Border.Reflect });
        Tensor input = Parity.Random(rng, 1, 72, 96);
        Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, null, conv.Options), conv.Apply(input), conv.Variant);
        Assert.True(!fixture.Context.IsSoftware || conv.Variant.Contains("weights compiled in", StringComparison.Ordinal), conv.Variant);
        using var buffer = new GlBuffer(fixture.Context, new string('b', 1000));
        buffer.Write(new float[4]);
        fixture.Context.Gl.Finish();
        Assert.Equal(before, fixture.Context.DebugErrors);
    }
}
