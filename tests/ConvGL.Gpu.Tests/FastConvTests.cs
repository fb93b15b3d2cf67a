using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>The fast conv variants (conv2d_depthwise.comp, conv2d_dense.comp: 8 outputs along x per invocation, 4 output
/// channels per invocation for layers, channel blocks numbered flat with the spatial blocks, an interior dispatch without
/// border code and up to four rim dispatches, or for layers one interior dispatch over a padded copy, conv2d_pad.comp)
/// against Conv2D.Apply, forced on (<see cref="ConvPath.Fast"/>: dense layers through the padded copy;
/// <see cref="ConvPath.FastRim"/>: through the rim split) whatever the size, over sweeps that straddle the blocking:
/// widths 1, 7, 8, 9, 31, 33, 257 (x blocks of 8, the vec4 loads on widths that are multiples of 4), heights 1, 5, 17,
/// channels 1..17 (blocks of 4 output channels), every border, mode, stride, dilation, groups, bias, even and
/// non-square kernels. Seeded; every parameter in the failure message. The kernels stay in the uniform block (the
/// programs a real GPU runs; LiteralFilterTests sweeps the image filters with theirs compiled in). Programs are cached by their defines (border,
/// kernel size, x stride and dilation, rim), so the sweeps draw those from short lists to keep the compile count small.</summary>
[Collection(GlCollection.Name)]
public sealed class FastConvTests(GlFixture fixture, ITestOutputHelper log)
{
    private static readonly int[] Widths = [1, 7, 8, 9, 31, 33, 257];
    private static readonly int[] Heights = [1, 5, 17];
    // Kernel shapes and x (stride, dilation) pairs are compile-time in the fast programs: short lists, different per
    // sweep, keep the compile count (and the suite time) down; y strides and dilations are uniforms and vary freely.
    private static readonly (int H, int W)[] DepthwiseKernels = [(3, 3), (2, 4), (5, 1)];
    private static readonly (int H, int W)[] DenseKernels = [(3, 3), (4, 2), (1, 5)];
    // Both above 1 as well: the span, the 16-wide depthwise rule and the vec4 shift depend on SX * 8 + (KW - 1) * DX.
    private static readonly (int Stride, int Dilation)[] XSteps = [(1, 1), (2, 1), (1, 2), (2, 2), (2, 3)];
    private static readonly PaddingMode[] Paddings = Enum.GetValues<PaddingMode>();
    /// <summary>The stores each <see cref="Check"/> of this test ran ("32-byte", "vec4", "scalar"): a sweep run with the
    /// 32-byte stores off asserts it reached the vec4 stores (<see cref="AssertStoreKinds"/>).</summary>
    private readonly Dictionary<string, int> _stores = new();

    /// <summary>One forced-fast run against the reference; false when the reference has no output for the options (the
    /// GPU must then refuse with the same message). Asserts the variant that ran.</summary>
    private bool Check(int cin, int cout, int h, int w, int kh, int kw, ConvOptions o, bool bias, int seed, string variant,
        ConvPath choice = ConvPath.Fast)
    {
        var rng = new Random(seed);
        Tensor input = Parity.Random(rng, cin, h, w);
        float scale = 1f / MathF.Sqrt(cin / o.Groups * kh * kw);
        Tensor weight = Parity.Random(rng, scale, cout, cin / o.Groups, kh, kw);
        float[]? b = bias ? Parity.RandomVector(rng, 1f, cout) : null;
        string spec = $"seed={seed} in=({cin},{h},{w}) weight=({cout},{cin / o.Groups},{kh},{kw}) bias={bias} {o}";
        using var conv = new GpuConv2D(fixture.Context, weight, b, o) { Choice = choice, LiteralFilters = false };
        if (Parity.ReferenceOrSameRefusal(() => Conv2D.Apply(input, weight, b, o), () => conv.Apply(input)) is not { } expected) return false;
        Tensor actual = conv.Apply(input);
        Assert.StartsWith(variant, conv.Variant, StringComparison.Ordinal);
        string stores = Stores(conv.Variant);
        _stores[stores] = _stores.GetValueOrDefault(stores) + 1;
        Assert.True(stores != "32-byte" || fixture.Context.WideStores, $"{spec}: 32-byte stores with the switch off: {conv.Variant}");
        // Dense layers: Fast reads the padded copy, FastRim the interior and rim strips. Through the padded copy a dense
        // layer stores vec4s exactly where output rows are whole vec4s (the rim split also needs an interior of a block).
        if (variant == "conv2d_dense") Assert.Equal(choice == ConvPath.Fast, conv.Variant.Contains("padded copy", StringComparison.Ordinal));
        // Through the padded copy: 32-byte stores where rows are whole multiples of 8 and the driver stores them, else vec4
        // stores where rows are whole vec4s.
        if (variant == "conv2d_dense" && choice == ConvPath.Fast)
            Assert.True(Stores(conv.Variant) == (fixture.Context.WideStores && expected.W % 8 == 0 ? "32-byte" : expected.W % 4 == 0 ? "vec4" : "scalar"),
                $"{spec}: {conv.Variant}");
        // One block of output channels (depthwise: one channel) is never run flat (Plan_PaddedCopyWhereTheRimIsAQuarterOrMore
        // holds the rule for several); the sweeps' small images run flat, their wide ones not.
        int zBlocks = variant == "conv2d_dense" ? o.Groups * ((cout / o.Groups + 3) / 4) : cout;
        if (zBlocks == 1) Assert.DoesNotContain("channel blocks flat", conv.Variant, StringComparison.Ordinal);
        Parity.AssertGpuMatchesReference(expected, actual, spec + " -- " + conv.Variant);
        return true;
    }

    /// <summary>After a sweep run with the 32-byte stores off (<paramref name="wide"/> false): no case stored 32 bytes and at
    /// least <paramref name="vec4"/> stored vec4s, so the sweep held the vec4 stores to the reference.</summary>
    private void AssertStoreKinds(bool wide, int vec4)
    {
        string tally = string.Join(", ", _stores.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}"));
        log.WriteLine($"stores: {tally}");
        if (wide) return;
        Assert.False(_stores.ContainsKey("32-byte"), tally);
        Assert.True(_stores.GetValueOrDefault("vec4") >= vec4, $"only {_stores.GetValueOrDefault("vec4")} cases with vec4 stores: {tally}");
    }

    private static ConvOptions RandomOptions(Random rng, int groups)
    {
        (int sx, int dx) = XSteps[rng.Next(XSteps.Length)];
        PaddingMode padding = Paddings[rng.Next(Paddings.Length)];
        return new ConvOptions
        {
            Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
            Border = Borders.All[rng.Next(Borders.All.Count)],
            Padding = padding,
            PadY = rng.Next(0, 4),
            PadX = rng.Next(0, 4),
            // Explicit pads after the map drawn apart from those before (ONNX models and the ConvTranspose phases use them).
            PadBottom = padding == PaddingMode.Explicit ? rng.Next(0, 6) : null,
            PadRight = padding == PaddingMode.Explicit ? rng.Next(0, 6) : null,
            StrideY = rng.Next(1, 4),
            StrideX = sx,
            DilationY = rng.Next(1, 4),
            DilationX = dx,
            Groups = groups,
        };
    }

    [Theory]
    [InlineData(Border.Reflect)]
    [InlineData(Border.Zero)]
    public void Depthwise_EveryWidthAndHeight_Filter3x3(Border border)
    {
        // One program pair (3x3, stride 1): every size crossing of the x blocks, the vec4 loads (widths 8 and 257 vs the
        // rest) and images smaller than the kernel (all rim, no interior).
        int seed = 0;
        foreach (int w in Widths)
            foreach (int h in Heights)
                Assert.True(Check(3, 3, h, w, 3, 3, new ConvOptions { Border = border, Groups = 3 }, bias: h == 5, ++seed, "conv2d_depthwise"));
    }

    /// <summary>Which stores a variant names: "32-byte", "vec4" or "scalar".</summary>
    internal static string Stores(string variant) =>
        variant.Contains("32-byte stores", StringComparison.Ordinal) ? "32-byte" : variant.Contains("vec4 stores", StringComparison.Ordinal) ? "vec4" : "scalar";

    /// <summary>Runs <paramref name="body"/> with the context's 32-byte stores on or off (plans read the switch when made).</summary>
    internal static void WithWideStores(GlContext context, bool wide, Action body)
    {
        bool was = context.WideStores;
        context.WideStores = wide && was;
        try { body(); }
        finally { context.WideStores = was; }
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Dense_EveryWidthAndHeight_Layer3x3(bool padded, bool wide)
    {
        ConvPath choice = padded ? ConvPath.Fast : ConvPath.FastRim;
        int seed = 100;
        WithWideStores(fixture.Context, wide, () =>
        {
            foreach (int w in Widths.Append(16).Append(40))
                foreach (int h in Heights)
                    Assert.True(Check(2, 5, h, w, 3, 3, new ConvOptions { Border = Border.Zero }, bias: true, ++seed, "conv2d_dense", choice));
        });
    }

    /// <summary>wide: 32-byte stores where the driver has them (llvmpipe does); off, the vec4 and scalar stores a driver
    /// without 64-bit integers gets (and the padded copy's rows rounded to 4 instead of 8).</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Depthwise_RandomOptions_Channels1To17(bool wide)
    {
        var rng = new Random(wide ? 20261202 : 20261205);
        int ran = 0;
        WithWideStores(fixture.Context, wide, () =>
        {
            for (int n = 0; n < 40; n++)
            {
                int c = rng.Next(1, 18);
                (int kh, int kw) = DepthwiseKernels[rng.Next(DepthwiseKernels.Length)];
                int w = Widths[rng.Next(Widths.Length)], h = Heights[rng.Next(Heights.Length)];
                if (Check(c, c, h, w, kh, kw, RandomOptions(rng, c), rng.Next(2) == 0, rng.Next(), "conv2d_depthwise")) ran++;
            }
        });
        log.WriteLine($"{ran} of 40 compared");
        Assert.True(ran >= 20, $"only {ran} of 40 random cases had an output");
        AssertStoreKinds(wide, vec4: 2);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public void Dense_RandomOptionsAndGroups_Channels1To17(bool padded, bool wide)
    {
        ConvPath choice = padded ? ConvPath.Fast : ConvPath.FastRim;
        var rng = new Random(wide ? 17 : padded ? 1705 : 1707);
        // The rim strips' vec4 stores: 20 draws of rows of whole vec4s (same padding, x stride 1, over maps with room for
        // an interior; the padded copy's vec4 stores: 40 draws as with 32-byte stores).
        bool vec4Rows = !padded && !wide;
        int ran = 0, cases = vec4Rows ? 20 : 40;
        WithWideStores(fixture.Context, wide, () => ran = Dense(rng, choice, cases, vec4Rows));
        log.WriteLine($"{ran} of {cases} compared");
        Assert.True(ran >= cases / 2, $"only {ran} of {cases} random cases had an output");
        AssertStoreKinds(wide, vec4: vec4Rows ? 8 : 2);
    }

    private int Dense(Random rng, ConvPath choice, int cases, bool vec4Rows = false)
    {
        int ran = 0;
        for (int n = 0; n < cases; n++)
        {
            int cin = rng.Next(1, 18);
            int[] divisors = Enumerable.Range(1, cin).Where(d => cin % d == 0).ToArray();
            int groups = divisors[rng.Next(divisors.Length)];
            int cout = groups * rng.Next(1, Math.Max(2, 17 / groups + 1));
            if (cin / groups == 1 && cout == groups) cout = 2 * groups; // depthwise weights take the other variant
            (int kh, int kw) = DenseKernels[rng.Next(DenseKernels.Length)];
            int[] widths = vec4Rows ? [16, 32, 40, 64, 257] : Widths;
            int w = widths[rng.Next(widths.Length)], h = Heights[rng.Next(Heights.Length)];
            ConvOptions o = RandomOptions(rng, groups);
            if (vec4Rows) o = o with { Padding = PaddingMode.Same, StrideX = 1 };
            if (Check(cin, cout, h, w, kh, kw, o, rng.Next(2) == 0, rng.Next(), "conv2d_dense", choice)) ran++;
        }
        return ran;
    }

    [Theory]
    [InlineData(Border.Zero)]
    [InlineData(Border.Replicate)]
    [InlineData(Border.Reflect)]
    [InlineData(Border.Symmetric)]
    [InlineData(Border.Wrap)]
    public void Rim_PadWiderThanImage_FoldsLikeTheReference(Border border)
    {
        // 7x7 kernel, full padding with dilation 2 (pad 12) around 1-, 2- and 5-wide images: the branch-free border
        // index must keep folding far outside the image. Both variants.
        foreach ((int h, int w) in new[] { (1, 1), (2, 5), (5, 2) })
        {
            var o = new ConvOptions { Border = border, Padding = PaddingMode.Full, DilationY = 2, DilationX = 2, Mode = ConvMode.Convolve };
            Assert.True(Check(1, 1, h, w, 7, 7, o, false, h * 10 + w, "conv2d_depthwise"));
            Assert.True(Check(2, 3, h, w, 7, 7, o, true, h * 10 + w, "conv2d_dense"));
            Assert.True(Check(2, 3, h, w, 7, 7, o, true, h * 10 + w, "conv2d_dense", ConvPath.FastRim));
        }
    }

    [Fact]
    public void Gabor15_And_Wide9x9_AtRealSizes()
    {
        // The bench's shapes, smaller: 15x15 (1 -> 8, reflect) and 9x9 depthwise on a 3-channel 64x96 image.
        var reflect = new ConvOptions { Border = Border.Reflect };
        Assert.True(Check(1, 8, 40, 72, 15, 15, reflect, false, 15, "conv2d_dense"));
        Assert.True(Check(3, 3, 64, 96, 9, 9, reflect with { Groups = 3 }, false, 9, "conv2d_depthwise"));
    }

    [Fact]
    public void Vec4Loads_EveryShift_StridesPadsAndDilations()
    {
        // Widths that are multiples of 4 (the interior reads rgba32f texels) with room for several blocks of 8: every
        // offset of the interior's first tap past a multiple of 4 (VEC4_SHIFT 0..3, from stride * first interior output
        // - pad), strides 1..3 (ResNet's stride-2 convs with pad 1 and 3 are never aligned), dilation 2, both variants.
        int seed = 300;
        foreach (int w in new[] { 36, 68 })
            foreach (int stride in new[] { 1, 2, 3 })
                foreach (int pad in new[] { 0, 1, 2, 3 })
                {
                    var o = new ConvOptions { Border = Border.Zero, Padding = PaddingMode.Explicit, PadX = pad, PadY = pad, StrideX = stride, StrideY = stride };
                    Assert.True(Check(3, 3, 9, w, 3, 3, o with { Groups = 3, Border = Border.Reflect }, true, ++seed, "conv2d_depthwise"));
                    Assert.True(Check(2, 5, 9, w, pad == 3 ? 7 : 3, 3, o, pad == 1, ++seed, "conv2d_dense"));
                    Assert.True(Check(2, 5, 9, w, pad == 3 ? 7 : 3, 3, o, pad == 1, seed, "conv2d_dense", ConvPath.FastRim));
                }
        var dilated = new ConvOptions { Border = Border.Symmetric, DilationX = 2, Padding = PaddingMode.Same, Mode = ConvMode.Convolve };
        Assert.True(Check(4, 4, 6, 40, 3, 5, dilated with { Groups = 4 }, false, 400, "conv2d_depthwise"));
        Assert.True(Check(4, 6, 6, 40, 3, 5, dilated, true, 401, "conv2d_dense"));
        Assert.True(Check(4, 6, 6, 40, 3, 5, dilated, true, 401, "conv2d_dense", ConvPath.FastRim));
    }

    /// <summary>wide false: 12 other draws, with the vec4 stores where a driver has no 32-byte ones.</summary>
    [Fact]
    public void Depthwise_SlidingStrips_EveryHeightAroundTheStrip()
    {
        // Image filters (1..4 channels, one dispatch each) with kernels of 4 or 5 rows walk strips of
        // ConvPlan.DepthwiseSlideRows rows down the interior (or the whole zero-border plane), keeping a ring of the last kH
        // input rows: interiors just below a strip (blocks of 2 rows then), one strip, one plus a row (the last strip moved
        // up), several; every border and padding, both modes, x strides and dilations, bias, widths with and without whole
        // vec4s. The variant says whether the strips ran, and must where the rule holds; a fused ReLU is stored the same way.
        var rng = new Random(6060);
        (int H, int W)[] kernels = [(5, 5), (4, 3), (5, 1), (4, 7)];
        int[] widths = [9, 16, 20, 36, 45, 68];
        int ran = 0, slid = 0;
        for (int n = 0; n < 30; n++)
        {
            (int kh, int kw) = kernels[n % kernels.Length];
            int strip = ConvPlan.DepthwiseSlideRows / kh * kh;
            int c = rng.Next(1, ConvPlan.MaxUniformChannels + 1);
            (int sx, int dx) = XSteps[rng.Next(3)];
            var o = new ConvOptions
            {
                Border = Borders.All[rng.Next(Borders.All.Count)], Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                Padding = Paddings[rng.Next(Paddings.Length)], PadY = rng.Next(0, 4), PadX = rng.Next(0, 4),
                StrideX = sx, DilationX = dx, Groups = c,
            };
            int h = strip + kh - 1 + new[] { -1, 0, 1, 7, strip + 3 }[rng.Next(5)], w = widths[rng.Next(widths.Length)];
            if (!Check(c, c, h, w, kh, kw, o, rng.Next(2) == 0, rng.Next(), "conv2d_depthwise")) continue;
            ran++;
            using var conv = new GpuConv2D(fixture.Context, Parity.Random(rng, 0.3f, c, 1, kh, kw), null, o) { Choice = ConvPath.Fast, LiteralFilters = false };
            conv.Apply(Parity.Random(rng, c, h, w));
            if (conv.Variant.Contains($"strips of {strip} rows sliding", StringComparison.Ordinal)) slid++;
        }
        log.WriteLine($"{ran} of 30 compared, {slid} in strips");
        // The strips are a software rasteriser's (measured there); a GPU keeps its blocks of 2 rows.
        bool software = fixture.Context.IsSoftware;
        Assert.True(ran >= 20 && (software ? slid >= 10 : slid == 0), $"{ran} of 30 random cases had an output, {slid} ran in strips");

        // A fused ReLU in the strips, zero border (the whole plane) and reflect (interior and rims): relu(reference).
        foreach (Border border in new[] { Border.Zero, Border.Reflect })
        {
            var r = new Random(61);
            var o = new ConvOptions { Border = border, Groups = 1 };
            Tensor x = Parity.Random(r, 1, 130, 40), weight = Parity.Random(r, 0.3f, 1, 1, 5, 5);
            float[] bias = [-0.1f];
            using var conv = new GpuConv2D(fixture.Context, weight, bias, o) { Choice = ConvPath.Fast, Fused = FusedActivation.Relu, LiteralFilters = false };
            Tensor got = conv.Apply(x);
            Assert.Contains(software ? "strips of 60 rows sliding" : "2 rows x 8", conv.Variant, StringComparison.Ordinal);
            Tensor want = Conv2D.Apply(x, weight, bias, o);
            for (int i = 0; i < want.Length; i++) want.Data[i] = MathF.Max(want.Data[i], 0);
            Parity.AssertGpuMatchesReference(want, got, $"relu fused, {border}: {conv.Variant}");
        }
        // Many channels (weights gathered) and 3-row kernels keep their blocks.
        using (var many = new GpuConv2D(fixture.Context, Parity.Random(rng, 0.3f, 8, 1, 5, 5), null, new ConvOptions { Groups = 8 }) { Choice = ConvPath.Fast, LiteralFilters = false })
        {
            many.Apply(Parity.Random(rng, 8, 130, 40));
            Assert.Contains("2 rows x 8", many.Variant, StringComparison.Ordinal);
        }
        using (var three = new GpuConv2D(fixture.Context, Parity.Random(rng, 0.3f, 1, 1, 3, 3), null, new ConvOptions { Groups = 1 }) { Choice = ConvPath.Fast, LiteralFilters = false })
        {
            three.Apply(Parity.Random(rng, 1, 130, 40));
            Assert.Contains("2 rows x 16", three.Variant, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Depthwise_TwoRowsPerInvocation_EveryHeightAndBorder(bool wide) =>
        WithWideStores(fixture.Context, wide, () => DepthwiseTwoRows(wide));

    private void DepthwiseTwoRows(bool wide)
    {
        // A y stride and dilation of 1 with 2..7 kernel rows: blocks of 2 output rows (each loaded input row serves both;
        // the interior's last row of blocks moves up, a rim strip's odd last row is predicated). Heights 1..6 and 17
        // (odd and even, an interior of 1 row: all rim), widths across the x blocks and the vec4 loads and stores, every
        // border and padding, both modes, x strides and dilations, channels 1..6; kernels 3x3, 2x4, 5x1, 7x7 and 9x1 (one row
        // per invocation above MaxTwoRowKernel; 16 outputs along x for kernels up to 3 wide: widths 15..24 straddle them).
        var rng = new Random(wide ? 2222 : 2223);
        // Without the 32-byte stores, 12 draws of rows of whole vec4s (same padding over widths that are multiples of 4).
        int cases = wide ? 36 : 12;
        int[] widths = wide ? [7, 8, 9, 15, 16, 17, 20, 24, 33, 36, 40] : [8, 16, 20, 24, 36, 40], heights = [1, 2, 3, 4, 5, 6, 17];
        (int H, int W)[] kernels = [(3, 3), (2, 4), (5, 1), (7, 7), (9, 1)];
        int ran = 0, twoRows = 0;
        for (int n = 0; n < cases; n++)
        {
            int c = rng.Next(1, 7);
            (int kh, int kw) = kernels[rng.Next(kernels.Length)];
            int w = widths[rng.Next(widths.Length)], h = heights[rng.Next(heights.Length)];
            // The first three x steps: a 7-wide kernel at stride 2 and dilation 3 spans more than the fast programs take.
            (int sx, int dx) = XSteps[rng.Next(3)];
            var o = new ConvOptions
            {
                Border = Borders.All[rng.Next(Borders.All.Count)], Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                Padding = Paddings[rng.Next(Paddings.Length)], PadY = rng.Next(0, 4), PadX = rng.Next(0, 4),
                StrideX = sx, DilationX = dx, Groups = c,
            };
            if (!wide) o = o with { Padding = PaddingMode.Same };
            int seed = rng.Next();
            if (!Check(c, c, h, w, kh, kw, o, rng.Next(2) == 0, seed, "conv2d_depthwise")) continue;
            ran++;
            int hOut = ConvGeometry.Compute(h, w, kh, kw, o).Y.Output;
            using var conv = new GpuConv2D(fixture.Context, Parity.Random(rng, 0.3f, c, 1, kh, kw), null, o) { Choice = ConvPath.Fast, LiteralFilters = false };
            conv.Apply(Parity.Random(rng, c, h, w));
            bool two = conv.Variant.Contains("2 rows x", StringComparison.Ordinal);
            Assert.True(two == (kh <= ConvPlan.MaxTwoRowKernel && hOut >= 2), $"{kh}x{kw} {o} height {h} -> {hOut}: {conv.Variant}");
            bool sixteen = kw <= 3 && 15 * sx + (kw - 1) * dx + 1 <= ConvPlan.MaxSpan;
            Assert.Contains(sixteen ? " 16 x/invocation" : " 8 x/invocation", conv.Variant, StringComparison.Ordinal);
            if (two) twoRows++;
        }
        log.WriteLine($"{ran} of {cases} compared, {twoRows} with 2 rows per invocation");
        Assert.True(ran >= cases * 5 / 9 && twoRows >= cases * 5 / 18, $"only {ran} of {cases} random cases had an output, {twoRows} with 2 rows");
        AssertStoreKinds(wide, vec4: 5);
    }

    /// <summary>wide false: 12 other draws, with the vec4 stores where a driver has no 32-byte ones.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Depthwise_ZeroBorderWholePlane_AgainstTheRimSplit(bool wide) =>
        WithWideStores(fixture.Context, wide, () => DepthwiseZeroBorderWholePlane(wide));

    private void DepthwiseZeroBorderWholePlane(bool wide)
    {
        // Zero border on rows of whole vec4s (input and output widths multiples of 4): the whole plane is one dispatch
        // whose texels outside the image read as zeros (ZERO_PLANE), never the rim strips; FastRim keeps the split. Widths
        // 4..68 across the x blocks of 8 (a last block half outside: 4, 12, 36), heights 1, 5, 17, pads 0..3 and x strides
        // 1..2 (every VEC4_SHIFT), dilations, kernels 3x3, 2x4, 5x1, channels 1..6 (one dispatch per channel up to 4).
        var rng = new Random(wide ? 4040 : 4041);
        int cases = wide ? 36 : 12;
        int[] widths = [4, 8, 12, 36, 68];
        int ran = 0, planes = 0;
        for (int n = 0; n < cases; n++)
        {
            int c = rng.Next(1, 7);
            (int kh, int kw) = DepthwiseKernels[rng.Next(DepthwiseKernels.Length)];
            int w = widths[rng.Next(widths.Length)], h = Heights[rng.Next(Heights.Length)];
            (int sx, int dx) = XSteps[rng.Next(XSteps.Length)];
            var o = new ConvOptions
            {
                Border = Border.Zero, Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                Padding = rng.Next(3) == 0 ? PaddingMode.Same : PaddingMode.Explicit, PadY = rng.Next(0, 4), PadX = rng.Next(0, 4),
                StrideY = rng.Next(1, 3), StrideX = sx, DilationY = rng.Next(1, 3), DilationX = dx, Groups = c,
            };
            bool bias = rng.Next(2) == 0;
            int seed = rng.Next();
            if (!Check(c, c, h, w, kh, kw, o, bias, seed, "conv2d_depthwise")) continue;
            Assert.True(Check(c, c, h, w, kh, kw, o, bias, seed, "conv2d_depthwise", ConvPath.FastRim));
            ran++;
            int wOut = ConvGeometry.Compute(h, w, kh, kw, o).X.Output;
            using var conv = new GpuConv2D(fixture.Context, Parity.Random(rng, 0.3f, c, 1, kh, kw), null, o) { Choice = ConvPath.Fast, LiteralFilters = false };
            conv.Apply(Parity.Random(rng, c, h, w));
            bool plane = conv.Variant.Contains("whole plane", StringComparison.Ordinal);
            Assert.True(plane == (wOut % 4 == 0), $"{o} width {w} -> {wOut}: {conv.Variant}");
            Assert.True(c <= ConvPlan.MaxUniformChannels == conv.Variant.Contains("one dispatch per channel", StringComparison.Ordinal), conv.Variant);
            if (plane) planes++;
        }
        log.WriteLine($"{ran} of {cases} compared, {planes} as a whole plane");
        Assert.True(ran >= cases * 5 / 9 && planes >= cases * 5 / 18, $"only {ran} of {cases} random cases had an output, {planes} as a whole plane");
        AssertStoreKinds(wide, vec4: 5);
    }

    [Fact]
    public void Depthwise_ZeroBorderWholePlane_TexelsOutsideTheImageReadAsZeros()
    {
        // A NaN in the texel a clamped fetch reads for taps left of the image (x = 3: the tap x = -1 is its component 3),
        // right of it (x = 4, for the tap x = 8) and above it (row 0, for the tap row -1 of output row 1 under a y
        // dilation of 2, whose real taps are rows 1 and 3) must not reach an output through the zero border.
        var input = new Tensor([1, 6, 8]);
        for (int i = 0; i < input.Length; i++) input.Data[i] = i * 0.01f;
        input[0, 0, 3] = float.NaN;
        input[0, 0, 4] = float.NaN;
        var weight = new Tensor([1, 1, 3, 3], [1, 1, 1, 1, 1, 1, 1, 1, 1]);
        var o = new ConvOptions { Border = Border.Zero, Padding = PaddingMode.Same, DilationY = 2 };
        using var conv = new GpuConv2D(fixture.Context, weight, null, o) { Choice = ConvPath.Fast, LiteralFilters = false };
        Tensor actual = conv.Apply(input);
        Assert.Contains("whole plane", conv.Variant, StringComparison.Ordinal);
        Tensor expected = Conv2D.Apply(input, weight, null, o);
        Assert.Equal(expected.Data.Select(float.IsNaN), actual.Data.Select(float.IsNaN));
        Assert.Contains(expected.Data, float.IsNaN);
        Assert.Contains(expected.Data, v => !float.IsNaN(v));
        for (int i = 0; i < expected.Length; i++)
            if (float.IsNaN(expected.Data[i])) expected.Data[i] = actual.Data[i] = 0;
        Parity.AssertGpuMatchesReference(expected, actual, "NaN in texels outside the image");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Depthwise_Vec4StoresAndOneDispatchPerChannel_EveryAlignment(bool wide) =>
        WithWideStores(fixture.Context, wide, DepthwiseEveryAlignment);

    private void DepthwiseEveryAlignment()
    {
        // Output rows of whole vec4s: the interior starts at the next multiple of 4 (the left rim strip grows by 0..3
        // columns, pads 0..3 under strides 1..2) and stores vec4s; up to 4 channels run one dispatch each with the
        // parameter block bound at their weights, more share one dispatch. Reflect and symmetric borders (the rim strips
        // stay), widths 36..72, channels 1..6, 3x3 and 5x1.
        int wideRuns = 0;
        int seed = 500;
        foreach (int c in new[] { 1, 3, 4, 5, 6 })
            foreach (int pad in new[] { 0, 1, 2, 3 })
            {
                int stride = 1 + pad % 2, w = stride == 1 ? 40 - 2 * pad + 2 : 72;
                (int kh, int kw) = c % 2 == 0 ? (5, 1) : (3, 3);
                var o = new ConvOptions
                {
                    Border = c % 3 == 0 ? Border.Symmetric : Border.Reflect, Padding = PaddingMode.Explicit, PadX = pad, PadY = 1,
                    StrideX = stride, Groups = c, Mode = pad == 2 ? ConvMode.Convolve : ConvMode.Correlate,
                };
                int wOut = ConvGeometry.Compute(9, w, kh, kw, o).X.Output;
                Assert.True(Check(c, c, 9, w, kh, kw, o, c != 4, ++seed, "conv2d_depthwise"));
                var rng = new Random(seed);
                using var conv = new GpuConv2D(fixture.Context, Parity.Random(rng, 0.3f, c, 1, kh, kw), null, o) { Choice = ConvPath.Fast, LiteralFilters = false };
                conv.Apply(Parity.Random(rng, c, 9, w));
                // Rows of whole vec4s store vec4s or, where rows are whole multiples of 8 (and the interior still holds a block
                // once it starts at a multiple of 8) and the driver has them, 32-byte stores.
                string stores = Stores(conv.Variant);
                if (stores == "32-byte") wideRuns++;
                Assert.True((stores != "scalar") == (wOut % 4 == 0), $"{o} width {w} -> {wOut}: {conv.Variant}");
                Assert.True(stores != "32-byte" || (wOut % 8 == 0 && fixture.Context.WideStores), $"{o} width {w} -> {wOut}: {conv.Variant}");
                Assert.True(c <= ConvPlan.MaxUniformChannels == conv.Variant.Contains("one dispatch per channel", StringComparison.Ordinal), conv.Variant);
            }
        // The sweep reaches the 32-byte path whenever the driver has it.
        Assert.True(wideRuns > 0 == fixture.Context.WideStores, $"{wideRuns} runs with 32-byte stores");
    }

    [Fact]
    public void WeightsAboveTheUniformBlock_GoThroughATexelView()
    {
        // 64 -> 64 3x3: 36,864 weights (+ bias) packed are 148 KiB, above every driver's 64 KiB uniform block. Shapes with
        // an interior (33 wide: vec4 loads) and without (9 wide), a padded last block of output channels (70 = 17 * 4 + 2),
        // groups (two groups of 64 -> 35), a stride 2 and a reflect border.
        Assert.True(Check(64, 64, 5, 9, 3, 3, new ConvOptions { Border = Border.Reflect }, true, 64, "conv2d_dense"));
        Assert.True(Check(64, 70, 9, 33, 3, 3, new ConvOptions { Border = Border.Zero }, true, 65, "conv2d_dense"));
        Assert.True(Check(128, 70, 17, 31, 3, 3, new ConvOptions { Border = Border.Zero, Groups = 2 }, false, 66, "conv2d_dense"));
        Assert.True(Check(64, 72, 17, 33, 3, 3, new ConvOptions { Border = Border.Reflect, StrideY = 2, StrideX = 2 }, true, 67, "conv2d_dense"));
        Assert.True(Check(64, 70, 9, 33, 3, 3, new ConvOptions { Border = Border.Symmetric }, true, 68, "conv2d_dense", ConvPath.FastRim));
        Assert.True(Check(128, 70, 17, 31, 3, 3, new ConvOptions { Border = Border.Wrap, Groups = 2 }, false, 69, "conv2d_dense", ConvPath.FastRim));
        var rng = new Random(1);
        using var conv = new GpuConv2D(fixture.Context, Parity.Random(rng, 0.05f, 64, 64, 3, 3), null) { Choice = ConvPath.Fast, LiteralFilters = false };
        conv.Apply(Parity.Random(rng, 64, 5, 9));
        Assert.Contains("texel view", conv.Variant, StringComparison.Ordinal);
    }

    [Fact]
    public void Depthwise_KernelsAbove9Taps_ReadWeightsThroughATexelView_OnASoftwareRasteriser()
    {
        Assert.Equal(fixture.Context.IsSoftware, fixture.Context.BigDepthwiseKernelsThroughTexelView);
        DepthwiseAbove9Taps(fixture.Context.IsSoftware);
    }

    /// <summary>The other driver's rule on this one: big depthwise kernels from the uniform block (a real GPU's read) on
    /// llvmpipe, through the texel view on a real GPU, against the reference.</summary>
    [Fact]
    public void Depthwise_KernelsAbove9Taps_TheOtherDriversRead()
    {
        GlContext gl = fixture.Context;
        bool was = gl.BigDepthwiseKernelsThroughTexelView;
        gl.BigDepthwiseKernelsThroughTexelView = !was;
        try { DepthwiseAbove9Taps(!was); }
        finally { gl.BigDepthwiseKernelsThroughTexelView = was; }
    }

    private void DepthwiseAbove9Taps(bool soft)
    {
        // More than MaxUniformChannels channels (no per-channel dispatch): 3x3 keeps the uniform block; 5x5, 7x7 and 1x11
        // read the packed weights through the texel view on llvmpipe (each uniform-block load is a gather there). Zero
        // border (the whole-plane program, flat channel blocks on the small map) and reflect (interior and rim strips),
        // bias, both modes; every variant against the reference. soft: the rule in force (the context's switch).
        var rng = new Random(909);
        foreach ((int k1, int k2, ConvOptions o) in new[]
        {
            (3, 3, new ConvOptions { Border = Border.Zero }),
            (5, 5, new ConvOptions { Border = Border.Zero }),
            (7, 7, new ConvOptions { Border = Border.Zero, Mode = ConvMode.Convolve }),
            (7, 7, new ConvOptions { Border = Border.Reflect }),
            (1, 11, new ConvOptions { Border = Border.Replicate }),
        })
        {
            const int c = 6;
            Tensor input = Parity.Random(rng, c, 19, 36);
            Tensor weight = Parity.Random(rng, 0.2f, c, 1, k1, k2);
            float[] bias = Parity.RandomVector(rng, 1f, c);
            ConvOptions oc = o with { Groups = c };
            using var conv = new GpuConv2D(fixture.Context, weight, bias, oc) { Choice = ConvPath.Fast, LiteralFilters = false };
            Tensor actual = conv.Apply(input);
            string spec = $"{k1}x{k2} {oc} -- {conv.Variant}";
            Assert.StartsWith("conv2d_depthwise", conv.Variant, StringComparison.Ordinal);
            bool texel = soft && k1 * k2 > ConvPlan.MaxUniformBlockTaps;
            Assert.True(texel == conv.Variant.Contains("weights through a texel view (more than 9 taps)", StringComparison.Ordinal), spec);
            Assert.True(!texel == conv.Variant.Contains("weights in a uniform block", StringComparison.Ordinal), spec);
            Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, bias, oc), actual, spec);
        }
    }

    [Fact]
    public void Plan_ByCostRule_AndKeptAcrossRuns()
    {
        var rng = new Random(3);
        using var filter = new GpuConv2D(fixture.Context, Parity.Random(rng, 0.2f, 1, 1, 5, 5), null, new ConvOptions { Border = Border.Reflect });
        Assert.Equal("(not run yet)", filter.Variant);
        filter.Apply(Parity.Random(rng, 1, 64, 64));
        Assert.StartsWith("conv2d_depthwise", filter.Variant, StringComparison.Ordinal);
        // Tiny outputs keep the straightforward shader (not worth compiling a specialised one).
        filter.Apply(Parity.Random(rng, 1, 5, 7));
        Assert.StartsWith("conv2d: 1 output/invocation", filter.Variant, StringComparison.Ordinal);

        using var layer = new GpuConv2D(fixture.Context, Parity.Random(rng, 0.1f, 8, 4, 3, 3), null);
        layer.Apply(Parity.Random(rng, 4, 32, 32));
        Assert.StartsWith("conv2d_dense", layer.Variant, StringComparison.Ordinal);
        // Kernels too large to unroll stay on conv2d.comp, whatever the size.
        using var big = new GpuConv2D(fixture.Context, Parity.Random(rng, 0.01f, 1, 1, 27, 27), null);
        big.Apply(Parity.Random(rng, 1, 64, 64));
        Assert.StartsWith("conv2d: 1 output/invocation", big.Variant, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_PaddedCopyWhereTheRimIsAQuarterOrMore_OrTheBorderIsZeroOnASoftwareRasteriser()
    {
        // The cost rule (no forcing): ResNet's small maps read a padded copy (a 7x7 map is all rim, 14x14 mostly); a 1x1
        // stride-2 layer without padding has no border (at 56x56 its last 4 of 28 columns are a rim strip without border
        // taps), and a 96x96 map's rim is 17% of its blocks: it keeps the split under a reflect border, and on a real GPU
        // under a zero border too; on a software rasteriser a zero border always reads the copy (its rgba32f path beat
        // the rim strips' scalar gathers on every shape measured, bench/README.md).
        // Dense layers read their weights through a texel view (a uniform-block load inside the input-channel loop is a
        // gather on llvmpipe), so with more than one block of 4 output channels the blocks always run flat.
        // Channel counts 4k - 1, 4k, 4k + 1 around the blocks of 4, stride 2 with pad 1 (ResNet's downsampling 3x3); every
        // output count above the 4096 below which conv2d.comp runs.
        var zero = new ConvOptions { Border = Border.Zero, Padding = PaddingMode.Explicit, PadX = 1, PadY = 1 };
        bool soft = fixture.Context.IsSoftware;
        foreach ((int cin, int cout, int size, int k, ConvOptions o, bool padded, bool flat) in new[]
        {
            (64, 96, 7, 3, zero, true, true),
            (31, 33, 14, 3, zero, true, true),
            (17, 95, 14, 3, zero with { StrideX = 2, StrideY = 2 }, true, true),
            (16, 65, 16, 1, new ConvOptions { StrideX = 2, StrideY = 2 }, false, true),
            (16, 33, 56, 1, new ConvOptions { StrideX = 2, StrideY = 2 }, false, true),
            (8, 9, 96, 3, zero, soft, true),
            (8, 4, 96, 3, zero, soft, false),
            (8, 9, 96, 3, new ConvOptions { Border = Border.Reflect }, false, true),
            (8, 9, 96, 3, zero with { StrideX = 2, StrideY = 2 }, soft, true),
        })
        {
            var rng = new Random(cin * 100 + cout);
            Tensor input = Parity.Random(rng, cin, size, size);
            Tensor weight = Parity.Random(rng, 1f / MathF.Sqrt(cin * k * k), cout, cin, k, k);
            float[] bias = Parity.RandomVector(rng, 1f, cout);
            // Fused: the direct programs' own rule (Auto gives 64 -> 96 at 7x7 to Winograd, WinogradTests holds that).
            using var conv = new GpuConv2D(fixture.Context, weight, bias, o) { Choice = ConvPath.Fused };
            Tensor actual = conv.Apply(input);
            string spec = $"in=({cin},{size},{size}) weight=({cout},{cin},{k},{k}) {o} -- {conv.Variant}";
            Assert.StartsWith("conv2d_dense", conv.Variant, StringComparison.Ordinal);
            Assert.True(padded == conv.Variant.Contains("padded copy", StringComparison.Ordinal), spec);
            Assert.True(flat == conv.Variant.Contains("channel blocks flat", StringComparison.Ordinal), spec);
            Assert.True(conv.Variant.Contains("weights through a texel view", StringComparison.Ordinal), spec);
            Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, bias, o), actual, spec);
        }
    }

    [Fact]
    public void OptionsChange_ReplansAndStaysExact()
    {
        var rng = new Random(11);
        Tensor input = Parity.Random(rng, 4, 17, 33);
        Tensor weight = Parity.Random(rng, 0.3f, 4, 2, 3, 4);
        float[] bias = Parity.RandomVector(rng, 1f, 4);
        using var conv = new GpuConv2D(fixture.Context, weight, bias, new ConvOptions { Groups = 2 }) { Choice = ConvPath.Fast, LiteralFilters = false };
        foreach (Border border in Borders.All)
            foreach (ConvMode mode in new[] { ConvMode.Correlate, ConvMode.Convolve })
            {
                var o = new ConvOptions { Border = border, Mode = mode, StrideY = 2, DilationX = 2, Groups = 2 };
                conv.Options = o;
                Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, bias, o), conv.Apply(input), o.ToString());
            }
        // New weights (no bias now) replan too.
        Tensor weight2 = Parity.Random(rng, 0.3f, 4, 2, 3, 4);
        conv.SetWeights(weight2, null);
        Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight2, null, conv.Options), conv.Apply(input), "after SetWeights");
    }

    [Fact]
    public void NaNOutsideAZeroBorderTap_DoesNotLeakIn()
    {
        // The rim clamps a zero-border tap into the image and selects 0: a NaN at the clamped pixel must not reach
        // outputs whose window holds it only through the (zero) border.
        var input = Tensor.Chw(1, 1, 9, [float.NaN, 1, 2, 3, 4, 5, 6, 7, 8]);
        var weight = new Tensor([1, 1, 1, 3], [1, 1, 1]);
        using var conv = new GpuConv2D(fixture.Context, weight, null, new ConvOptions { Padding = PaddingMode.Full }) { Choice = ConvPath.Fast, LiteralFilters = false };
        Tensor actual = conv.Apply(input);
        Tensor expected = Conv2D.Apply(input, weight, null, conv.Options);
        Assert.Equal(expected.Data.Select(float.IsNaN), actual.Data.Select(float.IsNaN));
        Assert.Equal(expected.Data.Where(v => !float.IsNaN(v)), actual.Data.Where(v => !float.IsNaN(v)));

        // The same for a layer through the padded copy: the copy holds 0, not the clamped NaN, in the zero border.
        var layer = new Tensor([2, 1, 1, 3], [1, 1, 1, 0.5f, 0.5f, 0.5f]);
        using var dense = new GpuConv2D(fixture.Context, layer, null, new ConvOptions { Padding = PaddingMode.Full }) { Choice = ConvPath.Fast, LiteralFilters = false };
        actual = dense.Apply(input);
        Assert.Contains("padded copy", dense.Variant, StringComparison.Ordinal);
        expected = Conv2D.Apply(input, layer, null, dense.Options);
        Assert.Equal(expected.Data.Select(float.IsNaN), actual.Data.Select(float.IsNaN));
        Assert.Equal(expected.Data.Where(v => !float.IsNaN(v)), actual.Data.Where(v => !float.IsNaN(v)));
    }
}
