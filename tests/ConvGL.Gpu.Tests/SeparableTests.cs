using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>Two 1D passes must equal the 2D reference with the outer-product kernel for every option, including
/// strides, dilations and paddings that differ per axis (the split across passes is where this breaks).</summary>
[Collection(GlCollection.Name)]
public sealed class SeparableTests(GlFixture fixture)
{
    private static Tensor Outer(float[] column, float[] row)
    {
        var k = new Tensor([column.Length, row.Length]);
        for (int i = 0; i < column.Length; i++)
            for (int j = 0; j < row.Length; j++)
                k[i, j] = column[i] * row[j];
        return k;
    }

    /// <param name="literals">On a software rasteriser the programs take the vectors as literals
    /// (ConvPlan.LiteralFilter: the fused pass always, the two passes up to 4 channels); false: the uniform-block
    /// programs a real GPU runs.</param>
    private bool Check(int c, int h, int w, int kh, int kw, ConvOptions o, bool bias, int seed, ConvPath choice = ConvPath.Auto, bool literals = true)
    {
        var rng = new Random(seed);
        Tensor input = Parity.Random(rng, c, h, w);
        float[] column = Parity.RandomVector(rng, 1f / MathF.Sqrt(kh), kh);
        float[] row = Parity.RandomVector(rng, 1f / MathF.Sqrt(kw), kw);
        float[]? b = bias ? Parity.RandomVector(rng, 1f, c) : null;
        string spec = $"seed={seed} in=({c},{h},{w}) kernel {kh}x{kw} bias={bias} {o}";
        Tensor expected;
        try
        {
            expected = Conv2D.Filter(input, Outer(column, row), o);
        }
        catch (ConvGLException)
        {
            return false;
        }
        if (b is not null)
        {
            int plane = expected.H * expected.W;
            for (int i = 0; i < expected.Length; i++) expected.Data[i] += b[i / plane];
        }
        using var sep = new GpuSeparableConv(fixture.Context, column, row, o, b) { Choice = choice, LiteralFilters = literals };
        Tensor actual = sep.Apply(input);
        if (choice == ConvPath.Fast) Assert.Contains("conv2d_depthwise", sep.Variant, StringComparison.Ordinal);
        if (choice == ConvPath.Fused) Assert.StartsWith("separable_fast", sep.Variant, StringComparison.Ordinal);
        bool literal = literals && fixture.Context.IsSoftware && (choice == ConvPath.Fused || (choice == ConvPath.Fast && c <= ConvPlan.MaxUniformChannels));
        if (choice is ConvPath.Fused or ConvPath.Fast)
            Assert.True(literal == sep.Variant.Contains("weights compiled in", StringComparison.Ordinal), $"{spec}: {sep.Variant}");
        Parity.AssertGpuMatchesReference(expected, actual, spec + " -- " + sep.Variant);
        return true;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FastPasses_EveryWidthAndHeight_RandomOptions(bool literals)
    {
        // The two passes on conv2d_depthwise.comp (1 x kW, then kH x 1), forced on whatever the size, across the x
        // blocks of 8 (widths 1..257) and heights 1, 5, 17; kernel lengths and x steps from short lists (they are
        // compile-time in the fast programs), everything else random.
        var rng = new Random(9090);
        int[] widths = [1, 7, 8, 9, 31, 33, 257], heights = [1, 5, 17], lengths = [1, 3, 4, 5];
        (int Stride, int Dilation)[] xSteps = [(1, 1), (2, 1), (1, 2)];
        PaddingMode[] paddings = Enum.GetValues<PaddingMode>();
        int ran = 0;
        for (int n = 0; n < 40; n++)
        {
            (int sx, int dx) = xSteps[rng.Next(xSteps.Length)];
            var o = new ConvOptions
            {
                Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                Border = Borders.All[rng.Next(5)],
                Padding = paddings[rng.Next(paddings.Length)],
                PadY = rng.Next(0, 4), PadX = rng.Next(0, 4),
                StrideY = rng.Next(1, 4), StrideX = sx,
                DilationY = rng.Next(1, 4), DilationX = dx,
            };
            int w = widths[rng.Next(widths.Length)], h = heights[rng.Next(heights.Length)];
            int kh = lengths[rng.Next(lengths.Length)], kw = lengths[rng.Next(lengths.Length)];
            // Literal programs only up to 4 channels: draw more of those where they are tested.
            int c = literals && n % 2 == 0 ? rng.Next(1, 5) : rng.Next(1, 18);
            if (Check(c, h, w, kh, kw, o, rng.Next(2) == 0, rng.Next(), ConvPath.Fast, literals)) ran++;
        }
        Assert.True(ran >= 20, $"only {ran} of 40 random cases had an output");
    }

    /// <summary>Random options the fused pass takes (y stride and dilation 1): an x step from a short list (compile-time in
    /// the program), then mode, border, padding and pads.</summary>
    private static ConvOptions RandomFusedOptions(Random rng)
    {
        (int Stride, int Dilation)[] xSteps = [(1, 1), (2, 1), (1, 2)];
        PaddingMode[] paddings = Enum.GetValues<PaddingMode>();
        (int sx, int dx) = xSteps[rng.Next(xSteps.Length)];
        return new ConvOptions
        {
            Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
            Border = Borders.All[rng.Next(5)],
            Padding = paddings[rng.Next(paddings.Length)],
            PadY = rng.Next(0, 4), PadX = rng.Next(0, 4),
            StrideX = sx, DilationX = dx,
        };
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FusedPass_EveryWidthAndHeight_RandomOptions(bool literals)
    {
        // separable_fast.comp (one pass, blocks of 4 rows x 8 outputs), forced on whatever the size: heights across the
        // row blocks (1, 3, 4, 5, 9, 17: an interior shorter than a block, a last block moved up to overlap), widths
        // across the x blocks and the rgba32f loads (36, 68), every border, mode, padding, x stride and dilation (y stride
        // and dilation stay 1: the fused pass needs them so), bias, channels 1..17. Kernel shapes from a short list:
        // they are compile-time.
        var rng = new Random(777);
        int[] widths = [1, 7, 8, 9, 31, 33, 36, 68, 257], heights = [1, 3, 4, 5, 9, 17];
        (int H, int W)[] kernels = [(3, 3), (5, 1), (1, 4), (9, 9), (4, 2)];
        int ran = 0;
        for (int n = 0; n < 40; n++)
        {
            ConvOptions o = RandomFusedOptions(rng);
            (int kh, int kw) = kernels[rng.Next(kernels.Length)];
            int w = widths[rng.Next(widths.Length)], h = heights[rng.Next(heights.Length)];
            if (Check(rng.Next(1, 18), h, w, kh, kw, o, rng.Next(2) == 0, rng.Next(), ConvPath.Fused, literals)) ran++;
        }
        Assert.True(ran >= 20, $"only {ran} of 40 random cases had an output");
    }

    [Fact]
    public void FusedPass_SlidingStrips_EveryHeightAroundTheStrip()
    {
        // The interior of a 2- to 5-row column walks down strips of ConvPlan.SlideRows rows (rounded to a multiple of kH),
        // keeping a ring of the last kH filtered rows: interiors just below one strip (whole plane in blocks of 4), one
        // strip exactly, one plus a row (the last strip moved up to overlap), several; every border, mode, padding, x
        // stride and dilation, bias, channels 1..6 (one dispatch per channel up to 4) and 17, widths with and without
        // whole vec4s and an interior narrower than a block. The variant says whether the strips ran, and must where the
        // interior holds one.
        var rng = new Random(4040);
        (int H, int W)[] kernels = [(5, 5), (3, 3), (2, 4), (5, 1), (4, 7)];
        int[] widths = [9, 36, 45, 68, 257];
        int slid = 0, ran = 0;
        for (int n = 0; n < 36; n++)
        {
            (int kh, int kw) = kernels[n % kernels.Length];
            int strip = ConvPlan.SlideRows / kh * kh;
            ConvOptions o = RandomFusedOptions(rng);
            // The interior's rows: the output's, less those whose window leaves the image (at most kH - 1 of them).
            int h = strip + (kh - 1) + new[] { -1, 0, 1, 7, strip + 3 }[rng.Next(5)];
            int c = new[] { 1, 3, 4, 6, 17 }[rng.Next(5)];
            int w = widths[rng.Next(widths.Length)];
            // Every other case with the vectors in the uniform block (literal programs are the software rasteriser's).
            if (!Check(c, h, w, kh, kw, o, rng.Next(2) == 0, rng.Next(), ConvPath.Fused, literals: n % 2 == 0)) continue;
            ran++;
            var r2 = new Random(n);
            using var sep = new GpuSeparableConv(fixture.Context, Parity.RandomVector(r2, 0.5f, kh), Parity.RandomVector(r2, 0.5f, kw), o) { Choice = ConvPath.Fused };
            sep.Apply(Parity.Random(r2, c, h, w));
            if (sep.Variant.Contains("sliding", StringComparison.Ordinal)) slid++;
        }
        Assert.True(ran >= 25, $"only {ran} of 36 random cases had an output");
        // The strips are a software rasteriser's (measured there); a GPU keeps its blocks of 4 rows.
        bool software = fixture.Context.IsSoftware;
        Assert.True(software ? slid >= 10 : slid == 0, $"the strips ran in {slid} of {ran} cases");

        // gauss5-sep's shape, smaller: a 5x5 reflect filter on 1x120x96 takes the strips; a 9x9 one does not.
        var big = new Random(41);
        using (var five = new GpuSeparableConv(fixture.Context, Parity.RandomVector(big, 0.5f, 5), Parity.RandomVector(big, 0.5f, 5), ConvOptions.ImageFilter) { Choice = ConvPath.Fused })
        {
            five.Apply(Parity.Random(big, 1, 120, 96));
            Assert.Contains(software ? "strips of 40 rows sliding" : "4 rows x 8", five.Variant, StringComparison.Ordinal);
        }
        using (var nine = new GpuSeparableConv(fixture.Context, Parity.RandomVector(big, 0.5f, 9), Parity.RandomVector(big, 0.5f, 9), ConvOptions.ImageFilter) { Choice = ConvPath.Fused })
        {
            nine.Apply(Parity.Random(big, 1, 120, 96));
            Assert.Contains("4 rows x 8", nine.Variant, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FusedPass_Vec4StoresAndOneDispatchPerChannel_EveryAlignment(bool wide) =>
        FastConvTests.WithWideStores(fixture.Context, wide, FusedPassEveryAlignment);

    private void FusedPassEveryAlignment()
    {
        // Output rows of whole vec4s: the interior starts at the next multiple of 4 (pads 0..3 move it) and stores vec4s;
        // up to 4 channels run one dispatch each with the parameter block bound at their vectors. Kernels 5x5, 9x9, 3x1,
        // 2x4 (every input row step of the unrolled block: 4 + kH - 1 = 5..12), heights 4..17, channels 1..6, widths with
        // and without whole vec4s.
        int wideRuns = 0;
        int seed = 900;
        (int H, int W)[] kernels = [(5, 5), (9, 9), (3, 1), (2, 4)];
        foreach (int c in new[] { 1, 4, 5, 6 })
            foreach (int pad in new[] { 0, 1, 2, 3 })
            {
                (int kh, int kw) = kernels[(c + pad) % kernels.Length];
                int w = pad % 2 == 0 ? 44 : 45, h = 4 + 4 * pad + c % 2;
                var o = new ConvOptions
                {
                    Border = Borders.All[(c + pad) % 5], Padding = PaddingMode.Explicit, PadX = pad, PadY = kh / 2,
                    Mode = pad == 1 ? ConvMode.Convolve : ConvMode.Correlate,
                };
                Assert.True(Check(c, h, w, kh, kw, o, c != 4, ++seed, ConvPath.Fused));
                int wOut = ConvGeometry.Compute(h, w, kh, kw, o).X.Output;
                var rng = new Random(seed);
                using var sep = new GpuSeparableConv(fixture.Context, Parity.RandomVector(rng, 0.5f, kh), Parity.RandomVector(rng, 0.5f, kw), o) { Choice = ConvPath.Fused };
                sep.Apply(Parity.Random(rng, c, h, w));
                string spec = $"c={c} {h}x{w} kernel {kh}x{kw} {o} -> width {wOut}: {sep.Variant}";
                // vec4 stores where rows are whole vec4s, 32-byte stores (8 floats) only where they are whole multiples of 8.
                string stores = FastConvTests.Stores(sep.Variant);
                if (stores == "32-byte") wideRuns++;
                Assert.True((stores != "scalar") == (wOut % 4 == 0), spec);
                Assert.True(stores != "32-byte" || (wOut % 8 == 0 && fixture.Context.WideStores), spec);
                Assert.True(c <= ConvPlan.MaxUniformChannels == sep.Variant.Contains("one dispatch per channel", StringComparison.Ordinal), spec);
            }
        // The sweep reaches the 32-byte path whenever the driver has it.
        Assert.True(wideRuns > 0 == fixture.Context.WideStores, $"{wideRuns} runs with 32-byte stores");
    }

    [Fact]
    public void FusedPass_AtBenchShape_AndChosenByDefault()
    {
        // gauss9-sep's shape, smaller: the cost rule picks the fused pass for a stride-1 image filter, and the two
        // conv2d_depthwise passes once a y stride rules it out.
        Assert.True(Check(2, 61, 96, 9, 9, new ConvOptions { Border = Border.Reflect }, false, 5, ConvPath.Auto));
        var rng = new Random(6);
        float[] v = Parity.RandomVector(rng, 0.5f, 5);
        using var sep = new GpuSeparableConv(fixture.Context, v, v, ConvOptions.ImageFilter);
        sep.Apply(Parity.Random(rng, 1, 64, 64));
        Assert.StartsWith("separable_fast", sep.Variant, StringComparison.Ordinal);
        sep.Options = ConvOptions.ImageFilter with { StrideY = 2 };
        sep.Apply(Parity.Random(rng, 1, 128, 64)); // 64x64 outputs: enough to plan fast passes
        Assert.Contains("conv2d_depthwise", sep.Variant, StringComparison.Ordinal);
    }

    [Fact]
    public void FusedPass_NaNInARowOutsideTheWindow_DoesNotLeakIn()
    {
        // A block's rows share the input rows they load; a row outside one output's window is skipped by a select, not
        // multiplied by a zero weight (0 * NaN is NaN). NaN in row 0 of a 12x8 image, a 3x1 column, zero border.
        var input = Tensor.Chw(1, 12, 8);
        for (int i = 0; i < input.Length; i++) input.Data[i] = i % 7; // small integers: every sum is exact
        for (int x = 0; x < 8; x++) input[0, 0, x] = float.NaN;
        float[] column = [1, 2, 1], row = [1];
        using var sep = new GpuSeparableConv(fixture.Context, column, row, new ConvOptions()) { Choice = ConvPath.Fused };
        Tensor actual = sep.Apply(input);
        Assert.StartsWith("separable_fast", sep.Variant, StringComparison.Ordinal);
        Tensor expected = Conv2D.Filter(input, Outer(column, row), new ConvOptions());
        Assert.Equal(expected.Data.Select(float.IsNaN), actual.Data.Select(float.IsNaN));
        Assert.Equal(expected.Data.Where(v => !float.IsNaN(v)), actual.Data.Where(v => !float.IsNaN(v)));
        Assert.True(float.IsNaN(actual[0, 1, 3]) && !float.IsNaN(actual[0, 2, 3]), "rows 0 and 1 hold the NaN, row 2 does not");
    }

    [Fact]
    public void Gaussian3_EqualsTheTwoDKernel_ByHand()
    {
        // [1 2 1]/4 both ways on a single bright pixel in the middle of 3x3, zero border: the 2D kernel itself.
        var input = Tensor.Chw(1, 3, 3, [0, 0, 0, 0, 1, 0, 0, 0, 0]);
        float[] v = [0.25f, 0.5f, 0.25f];
        using var sep = new GpuSeparableConv(fixture.Context, v, v, new ConvOptions());
        Assert.Equal(new[] { 1 / 16f, 2 / 16f, 1 / 16f, 2 / 16f, 4 / 16f, 2 / 16f, 1 / 16f, 2 / 16f, 1 / 16f }, sep.Apply(input).Data);
    }

    [Fact]
    public void Sweep_RandomOptions_EqualsTwoDReference()
    {
        var rng = new Random(4242);
        PaddingMode[] paddings = Enum.GetValues<PaddingMode>();
        (int H, int W)[] sizes = [(1, 1), (7, 13), (13, 7), (64, 64)];
        int ran = 0;
        for (int n = 0; n < 200; n++)
        {
            (int h, int w) = sizes[rng.Next(sizes.Length)];
            var o = new ConvOptions
            {
                Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                Border = Borders.All[rng.Next(5)],
                Padding = paddings[rng.Next(paddings.Length)],
                PadY = rng.Next(0, 5), PadX = rng.Next(0, 5),
                StrideY = rng.Next(1, 4), StrideX = rng.Next(1, 4),
                DilationY = rng.Next(1, 4), DilationX = rng.Next(1, 4),
            };
            if (Check(rng.Next(1, 4), h, w, rng.Next(1, 16), rng.Next(1, 16), o, rng.Next(2) == 0, rng.Next())) ran++;
        }
        Assert.True(ran > 120, $"only {ran} of 200 random cases had an output");
    }

    [Fact]
    public void Large333x257_ReflectStride2()
    {
        Assert.True(Check(1, 333, 257, 7, 5, new ConvOptions { Border = Border.Reflect, StrideY = 2, DilationX = 2 }, false, 1));
    }

    [Fact]
    public void TryFactor_SobelIsRankOne_LaplacianIsNot()
    {
        Tensor sobelX = Tensor.Matrix([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]);
        Assert.True(GpuSeparableConv.TryFactor(sobelX, out float[] col, out float[] row));
        // Pivot -2 at (1, 0): column = first column, row = middle row / -2.
        Assert.Equal(new float[] { -1, -2, -1 }, col);
        Assert.Equal(new float[] { 1, 0, -1 }, row);
        Assert.Equal(sobelX.Data, Outer(col, row).Data);
        Assert.False(GpuSeparableConv.TryFactor(Tensor.Matrix([[0, 1, 0], [1, -4, 1], [0, 1, 0]]), out _, out _));
    }

    [Fact]
    public void TryFactor_RandomOuterProducts_RoundTrip_AndFilterAlike()
    {
        var rng = new Random(8);
        for (int n = 0; n < 20; n++)
        {
            float[] c = Parity.RandomVector(rng, 1f, rng.Next(1, 16)), r = Parity.RandomVector(rng, 1f, rng.Next(1, 16));
            Tensor k = Outer(c, r);
            Assert.True(GpuSeparableConv.TryFactor(k, out float[] col, out float[] row, 1e-5f), $"{c.Length}x{r.Length} outer product");
            Tensor input = Parity.Random(rng, 2, 7, 13);
            var o = new ConvOptions { Border = Border.Symmetric, Padding = PaddingMode.Full };
            using var sep = new GpuSeparableConv(fixture.Context, col, row, o);
            Parity.AssertGpuMatchesReference(Conv2D.Filter(input, k, o), sep.Apply(input), $"factored {c.Length}x{r.Length}");
        }
    }
}
