using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>GpuConv2D (shaders/conv2d.comp) against Conv2D.Apply: hand-checked goldens, then a seeded random
/// subset of the option cross product plus targeted edge cases, all through <see cref="Parity"/>.</summary>
[Collection(GlCollection.Name)]
public sealed class Conv2DTests(GlFixture fixture, ITestOutputHelper log)
{
    private static readonly PaddingMode[] Paddings = Enum.GetValues<PaddingMode>();

    /// <summary>One GPU run against the reference; every parameter goes into the failure message. Returns false
    /// when the option set has no output (the dilated kernel is larger than the padded input), which the
    /// reference rejects and the GPU must reject with the same ConvGLException.</summary>
    private bool Check(int cin, int cout, int h, int w, int kh, int kw, ConvOptions o, bool bias, int seed)
    {
        var rng = new Random(seed);
        Tensor input = Parity.Random(rng, cin, h, w);
        // PyTorch's default init scale keeps the sums O(1), where abs 1e-5 + rel 1e-4 is meaningful.
        float scale = 1f / MathF.Sqrt(cin / o.Groups * kh * kw);
        Tensor weight = Parity.Random(rng, scale, cout, cin / o.Groups, kh, kw);
        float[]? b = bias ? Parity.RandomVector(rng, 1f, cout) : null;
        string spec = $"seed={seed} in=({cin},{h},{w}) weight=({cout},{cin / o.Groups},{kh},{kw}) bias={bias} {o}";
        Tensor expected;
        try
        {
            expected = Conv2D.Apply(input, weight, b, o);
        }
        catch (ConvGLException e)
        {
            using var rejecting = new GpuConv2D(fixture.Context, weight, b, o);
            var gpuError = Assert.Throws<ConvGLException>(() => rejecting.Apply(input));
            Assert.Equal(e.Message, gpuError.Message);
            return false;
        }
        using var conv = new GpuConv2D(fixture.Context, weight, b, o);
        Parity.AssertGpuMatchesReference(expected, conv.Apply(input), spec);
        return true;
    }

    private static ConvOptions RandomOptions(Random rng, int groups = 1) => new()
    {
        Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
        Border = Borders.All[rng.Next(Borders.All.Count)],
        Padding = Paddings[rng.Next(Paddings.Length)],
        PadY = rng.Next(0, 5),
        PadX = rng.Next(0, 5),
        StrideY = rng.Next(1, 4),
        StrideX = rng.Next(1, 4),
        DilationY = rng.Next(1, 4),
        DilationX = rng.Next(1, 4),
        Groups = groups,
    };

    // ---- hand-checked goldens (names encode the shape, TFLite-style) ----

    [Fact]
    public void O1H2W3I1_Identity3x3_CopiesInput()
    {
        var input = Tensor.Chw(1, 2, 3, [1, 2, 3, 4, 5, 6]);
        var weight = new Tensor([1, 1, 3, 3], [0, 0, 0, 0, 1, 0, 0, 0, 0]);
        using var conv = new GpuConv2D(fixture.Context, weight, null, new ConvOptions());
        Assert.Equal(input.Data, conv.Apply(input).Data);
    }

    [Fact]
    public void O1H1W3I1_Kernel1x2_CorrelateVsConvolve_ByHand()
    {
        // in = [1 2 3], k = [10 1], valid: correlate -> [1*10+2*1, 2*10+3*1] = [12, 23];
        // convolve uses [1 10] -> [1+20, 2+30] = [21, 32].
        var input = Tensor.Chw(1, 1, 3, [1, 2, 3]);
        var weight = new Tensor([1, 1, 1, 2], [10, 1]);
        using var conv = new GpuConv2D(fixture.Context, weight, [0.5f], new ConvOptions { Padding = PaddingMode.Valid });
        Assert.Equal(new[] { 12.5f, 23.5f }, conv.Apply(input).Data);
        conv.Options = conv.Options with { Mode = ConvMode.Convolve };
        Assert.Equal(new[] { 21.5f, 32.5f }, conv.Apply(input).Data);
    }

    [Theory]
    // in = [1 2 3 4]; a 1x7 one-hot kernel at tap 0 with same padding (3 each side) reads in_pad[x - 3]:
    // the three values left of the image, then the first pixel, as np.pad writes them by hand.
    [InlineData(Border.Zero, new float[] { 0, 0, 0, 1 })]
    [InlineData(Border.Replicate, new float[] { 1, 1, 1, 1 })]
    [InlineData(Border.Reflect, new float[] { 4, 3, 2, 1 })]    // d c b | a b c d
    [InlineData(Border.Symmetric, new float[] { 3, 2, 1, 1 })]  // c b a | a b c d
    [InlineData(Border.Wrap, new float[] { 2, 3, 4, 1 })]       // b c d | a b c d
    public void O1H1W4I1_OneHotTap0_ReadsTheLeftBorder(Border border, float[] expected)
    {
        var input = Tensor.Chw(1, 1, 4, [1, 2, 3, 4]);
        var weight = new Tensor([1, 1, 1, 7], [1, 0, 0, 0, 0, 0, 0]);
        using var conv = new GpuConv2D(fixture.Context, weight, null, new ConvOptions { Border = border });
        Assert.Equal(expected, conv.Apply(input).Data);
    }

    [Fact]
    public void O2H2W2I2_Groups2_KeepsChannelsApart()
    {
        // Depthwise 1x1 weights 2 and 3: each output channel scales only its own input channel.
        var input = Tensor.Chw(2, 2, 2, [1, 2, 3, 4, 10, 20, 30, 40]);
        var weight = new Tensor([2, 1, 1, 1], [2, 3]);
        using var conv = new GpuConv2D(fixture.Context, weight, null, new ConvOptions { Groups = 2 });
        Assert.Equal(new float[] { 2, 4, 6, 8, 30, 60, 90, 120 }, conv.Apply(input).Data);
    }

    // ---- sweeps ----

    [Fact]
    public void Sweep_SmallShapes_RandomSubsetOfEveryOption()
    {
        // Sizes 1x1 and 7x13 (not a multiple of the 16x16 workgroup), kernels 1..15 incl. even and non-square,
        // C_in and C_out up to 16, groups 1 / a divisor / depthwise, every border, padding, mode, stride, dilation.
        var rng = new Random(20261123);
        (int H, int W)[] sizes = [(1, 1), (7, 13), (13, 7), (2, 3)];
        int ran = 0, rejected = 0;
        for (int n = 0; n < 500; n++)
        {
            (int h, int w) = sizes[rng.Next(sizes.Length)];
            int cin = rng.Next(1, 17);
            int groupChoice = rng.Next(3);
            int groups = groupChoice == 0 ? 1 : groupChoice == 1 ? Divisor(rng, cin) : cin;
            int cout = groups * rng.Next(1, Math.Max(2, 16 / groups + 1));
            cout = Math.Min(cout, 16 - 16 % groups);
            bool small = rng.Next(4) != 0; // mostly small kernels, a quarter up to 15
            int kh = rng.Next(1, small ? 6 : 16), kw = rng.Next(1, small ? 6 : 16);
            if (Check(cin, cout, h, w, kh, kw, RandomOptions(rng, groups), rng.Next(2) == 0, rng.Next())) ran++;
            else rejected++;
        }
        log.WriteLine($"{ran} compared, {rejected} rejected alike by both");
        Assert.True(ran > 300, $"only {ran} of 500 random cases had an output");
    }

    private static int Divisor(Random rng, int n)
    {
        int[] divisors = Enumerable.Range(1, n).Where(d => n % d == 0).ToArray();
        return divisors[rng.Next(divisors.Length)];
    }

    [Fact]
    public void Sweep_64x64_FewChannels()
    {
        var rng = new Random(64);
        int ran = 0;
        for (int n = 0; n < 40; n++)
        {
            int cin = rng.Next(1, 5), cout = rng.Next(1, 5);
            bool depthwise = rng.Next(3) == 0;
            if (depthwise) cout = cin;
            if (Check(cin, cout, 64, 64, rng.Next(1, 8), rng.Next(1, 8), RandomOptions(rng, depthwise ? cin : 1), rng.Next(2) == 0, rng.Next())) ran++;
        }
        Assert.True(ran >= 35, $"only {ran} of 40 cases had an output");
    }

    [Theory]
    [InlineData(1, 1, 3, 3, Border.Reflect, PaddingMode.Same, 1, 1, ConvMode.Correlate)]
    [InlineData(1, 2, 5, 4, Border.Symmetric, PaddingMode.Full, 2, 1, ConvMode.Convolve)]
    [InlineData(2, 2, 4, 5, Border.Wrap, PaddingMode.Valid, 3, 2, ConvMode.Correlate)]
    [InlineData(1, 1, 2, 2, Border.Replicate, PaddingMode.Same, 1, 3, ConvMode.Convolve)]
    [InlineData(2, 1, 3, 1, Border.Zero, PaddingMode.Explicit, 2, 2, ConvMode.Correlate)]
    public void Sweep_333x257_FewChannelsSmallKernels(int cin, int cout, int kh, int kw, Border border, PaddingMode padding, int stride, int dilation, ConvMode mode)
    {
        var o = new ConvOptions
        {
            Mode = mode, Border = border, Padding = padding, PadY = 2, PadX = 1,
            StrideY = stride, StrideX = stride == 1 ? 2 : 1, DilationY = dilation, DilationX = 1,
        };
        Assert.True(Check(cin, cout, 333, 257, kh, kw, o, bias: cout == 1, seed: kh * 100 + kw));
    }

    [Theory]
    [InlineData(Border.Zero)]
    [InlineData(Border.Replicate)]
    [InlineData(Border.Reflect)]
    [InlineData(Border.Symmetric)]
    [InlineData(Border.Wrap)]
    public void PadWiderThanImage_ReflectsPeriodically(Border border)
    {
        // 15x15 kernels, full padding of 14 (and dilation 3: 42) around 1x1, 2x3 and 3x2 images:
        // the border formulas must keep folding far outside the image, as np.pad does.
        foreach ((int h, int w) in new[] { (1, 1), (2, 3), (3, 2) })
            foreach (int d in new[] { 1, 3 })
                Assert.True(Check(1, 1, h, w, 15, 15, new ConvOptions { Border = border, Padding = PaddingMode.Full, DilationY = d, DilationX = d, Mode = ConvMode.Convolve }, false, h * 10 + w));
    }

    [Fact]
    public void Channels16_Groups1And4AndDepthwise_EvenNonSquareKernel()
    {
        foreach (int groups in new[] { 1, 4, 16 })
            Assert.True(Check(16, 16, 7, 13, 4, 2, new ConvOptions { Groups = groups, Border = Border.Reflect, StrideX = 2 }, true, groups));
    }

    [Fact]
    public void OptionsChangeBetweenDispatches_WithoutNewWeights()
    {
        var rng = new Random(7);
        Tensor input = Parity.Random(rng, 3, 9, 11);
        Tensor weight = Parity.Random(rng, 0.3f, 2, 3, 3, 4);
        using var conv = new GpuConv2D(fixture.Context, weight, null, new ConvOptions());
        foreach (Border border in Borders.All)
            foreach (ConvMode mode in new[] { ConvMode.Correlate, ConvMode.Convolve })
            {
                var o = new ConvOptions { Border = border, Mode = mode, StrideY = 2, DilationX = 2 };
                conv.Options = o;
                Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, null, o), conv.Apply(input), o.ToString());
            }
    }

    [Fact]
    public void COut65536_AboveTheZWorkgroupLimit_MatchesOrThrowsGpuException_NeverSilentlyWrong()
    {
        // One workgroup per output channel along z: 65536 channels need 65536 z groups, one more than GL's
        // guaranteed 65535 (Mesa's and NVIDIA's actual limit). A rejected dispatch runs nothing, so the output
        // must not come back as if it had.
        const int cout = 65536;
        var rng = new Random(65536);
        Tensor input = Tensor.Chw(1, 1, 1, [0.75f]);
        Tensor weight = Parity.Random(rng, 1f, cout, 1, 1, 1);
        Tensor expected = Conv2D.Apply(input, weight, null, new ConvOptions());
        using var conv = new GpuConv2D(fixture.Context, weight, null, new ConvOptions());
        Tensor actual;
        try
        {
            actual = conv.Apply(input);
        }
        catch (GpuException e)
        {
            Assert.Contains("GL_MAX_COMPUTE_WORK_GROUP_COUNT", e.Message);
            Assert.Contains("65536", e.Message);
            return;
        }
        Parity.AssertGpuMatchesReference(expected, actual, $"C_out={cout} 1x1 conv on a 1x1 image");
    }

    [Fact]
    public void BadShapes_AreOneLineConvGLExceptions()
    {
        using var conv = new GpuConv2D(fixture.Context, new Tensor([4, 2, 3, 3]), null, new ConvOptions { Groups = 2 });
        var e = Assert.Throws<ConvGLException>(() => conv.Apply(Tensor.Chw(3, 5, 5)));
        Assert.Contains("groups 2", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Throws<ConvGLException>(() => conv.SetWeights(new Tensor([4, 2, 3, 3]), new float[3]));
    }
}
