using ConvGL.Core;
using ConvGL.Gpu.Present;

namespace ConvGL.Gpu.Tests;

/// <summary>The presentation path's one min/max pass (shaders/present/minmax.comp through ChannelRanges) against the
/// CPU's per-channel range, and the shared colour-map include.</summary>
[Collection(GlCollection.Name)]
public sealed class ChannelRangesTests(GlFixture fixture)
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(5, 7, 13)]
    [InlineData(3, 16, 16)]      // 256 values: exactly one workgroup's width
    [InlineData(2, 257, 1)]      // one past it
    [InlineData(2, 257, 333)]    // 85,581 values: several workgroups a channel, each invocation striding over ~67
    public void EveryChannel_IsTheCpuRange_InOneDispatch(int c, int h, int w)
    {
        GlContext ctx = fixture.Context;
        Tensor t = Parity.Random(new Random(c * h + w), c, h, w);
        // A spike far from the rest in the last channel's last value: the reduction must reach the very end.
        t.Data[^1] = 50f;
        using var gt = GpuTensor.From(ctx, t);
        using var ranges = new ChannelRanges(ctx);
        ranges.Compute(gt);
        for (int k = 0; k < c; k++) Assert.Equal(t.Channel(k).Range(), ranges.Read(k));
    }

    [Fact]
    public void EveryWidthAndHeight_BothTexelWidths_NaNsIgnored_MatchTheCpuRange()
    {
        // Planes of a multiple of 4 values are read as rgba32f texels, others as r32f: widths x heights of the blocking
        // sweep give both, with a NaN and a spike in every channel (the NaN inside a 4-value texel).
        GlContext ctx = fixture.Context;
        using var ranges = new ChannelRanges(ctx);
        using var gt = new GpuTensor(ctx);
        foreach (int w in new[] { 1, 7, 8, 9, 31, 33, 257 })
            foreach (int h in new[] { 1, 5, 17 })
            {
                int c = 1 + (w + h) % 17, plane = h * w;
                Tensor t = Parity.Random(new Random(w * 31 + h), c, h, w);
                for (int k = 0; k < c; k++)
                {
                    t.Data[k * plane + (k * 7) % plane] = k % 2 == 0 ? 9f + k : -9f - k;
                    if (plane > 1) t.Data[k * plane + (k * 7 + 1) % plane] = float.NaN;
                }
                gt.Upload(t);
                ranges.Compute(gt);
                for (int k = 0; k < c; k++)
                {
                    float[] values = t.Channel(k).Data.Where(v => !float.IsNaN(v)).ToArray();
                    Assert.True((values.Min(), values.Max()) == ranges.Read(k), $"({c}, {h}, {w}) channel {k}: CPU ({values.Min()}, {values.Max()}), GPU {ranges.Read(k)}");
                }
            }
    }

    [Fact]
    public void Infinities_AreIgnoredAsNaNs_TheFiniteRange()
    {
        // A map holding an infinity is stretched over its finite values (the infinities drawn at the ends): with them in
        // its range every finite value was drawn at one end. Both texel widths (planes of a multiple of 4 values or not).
        GlContext ctx = fixture.Context;
        foreach ((int h, int w) in new[] { (8, 12), (9, 11) })
        {
            Tensor t = Parity.Random(new Random(h * w), 3, h, w);
            int plane = h * w;
            t.Data[5] = float.PositiveInfinity;
            t.Data[plane + 7] = float.NegativeInfinity;
            t.Data[plane + 8] = float.NaN;
            for (int i = 0; i < plane; i++) t.Data[2 * plane + i] = i % 2 == 0 ? float.PositiveInfinity : float.NegativeInfinity;
            using var gt = GpuTensor.From(ctx, t);
            using var ranges = new ChannelRanges(ctx);
            ranges.Compute(gt);
            for (int k = 0; k < 2; k++)
            {
                float[] finite = t.Channel(k).Data.Where(float.IsFinite).ToArray();
                Assert.Equal((finite.Min(), finite.Max()), ranges.Read(k));
                Assert.Equal((finite.Min(), finite.Max()), t.Channel(k).Range());
            }
            (float lo, float hi) = ranges.Read(2);
            Assert.True(float.IsNaN(lo) && float.IsNaN(hi), $"a channel of infinities reads ({lo}, {hi}), expected nothing seen");

            // Drawn: the finite values stretched, +inf at the top, -inf at the bottom.
            using var present = new TensorToImage(ctx);
            present.Run(gt, 0);
            byte[] bytes = present.Image.Download();
            (float min, float max) = t.Channel(0).Range();
            Assert.Equal(255, bytes[4 * 5]);
            int spread = Enumerable.Range(0, plane).Select(i => (int)bytes[4 * i]).Distinct().Count();
            Assert.True(spread > plane / 2, $"{spread} distinct grey levels: the map is not stretched");
            present.Run(gt, 1);
            Assert.Equal(0, present.Image.Download()[4 * 7]);
        }
    }

    [Fact]
    public void ASubsetOfChannels_LeavesTheOtherEntriesAlone_AndNaNsAreIgnored()
    {
        GlContext ctx = fixture.Context;
        Tensor t = Parity.Random(new Random(9), 4, 9, 11);
        t.Data[2 * 99 + 5] = float.NaN; // inside channel 2
        for (int i = 0; i < 99; i++) t.Data[3 * 99 + i] = float.NaN; // channel 3: nothing but NaN
        using var gt = GpuTensor.From(ctx, t);
        using var ranges = new ChannelRanges(ctx);
        ranges.Compute(gt, 0, 1);
        (float, float) first = ranges.Read(0);
        Assert.Equal(t.Channel(0).Range(), first);
        ranges.Compute(gt, 2, 2);
        Assert.Equal(first, ranges.Read(0)); // untouched by the second pass
        float[] two = t.Channel(2).Data.Where(v => !float.IsNaN(v)).ToArray();
        Assert.Equal((two.Min(), two.Max()), ranges.Read(2));
        (float lo, float hi) = ranges.Read(3);
        Assert.True(float.IsNaN(lo) && float.IsNaN(hi), $"an all-NaN channel reads ({lo}, {hi}), expected nothing seen (NaN, NaN)");
        Assert.Throws<ArgumentOutOfRangeException>(() => ranges.Compute(gt, 3, 2));
    }

    [Fact]
    public void TensorToImage_WithPrecomputedRanges_EqualsComputingItsOwn()
    {
        GlContext ctx = fixture.Context;
        Tensor t = Parity.Random(new Random(4), 5, 21, 17);
        using var gt = GpuTensor.From(ctx, t);
        using var ranges = new ChannelRanges(ctx);
        using var own = new TensorToImage(ctx) { ColorMap = ColorMap.Heat };
        using var shared = new TensorToImage(ctx) { ColorMap = ColorMap.Heat };
        ranges.Compute(gt);
        own.Run(gt, 3);
        shared.Run(gt, 3, ranges);
        Assert.Equal(own.Image.Download(), shared.Image.Download());
        Assert.Equal(t.Channel(3).Range(), shared.ReadRange());
        // RGB from three channels that are not neighbours: one range shared by the three.
        own.RunRgb(gt, 4, 0, 2);
        shared.RunRgb(gt, 4, 0, 2, ranges);
        Assert.Equal(own.Image.Download(), shared.Image.Download());
        float min = new[] { 4, 0, 2 }.Min(k => t.Channel(k).Range().Min), max = new[] { 4, 0, 2 }.Max(k => t.Channel(k).Range().Max);
        Assert.Equal((min, max), own.ReadRange());
    }

    [Fact]
    public void Viridis_FromTheSharedColourMapInclude_HasItsEndpoints()
    {
        GlContext ctx = fixture.Context;
        using var gt = GpuTensor.From(ctx, Tensor.Chw(1, 1, 2, [-1f, 1f]));
        using var present = new TensorToImage(ctx) { ColorMap = ColorMap.Viridis };
        present.Run(gt, 0);
        byte[] b = present.Image.Download();
        // t = 0: the polynomial's constant term (0.2777, 0.0054, 0.3341); t = 1: the sum of its coefficients
        // (0.9869, 0.9064, 0.1314): dark violet to yellow, as matplotlib's viridis.
        int[] low = [71, 1, 85], high = [252, 231, 34];
        for (int k = 0; k < 3; k++)
        {
            Assert.InRange(b[k], low[k] - 1, low[k] + 1);
            Assert.InRange(b[4 + k], high[k] - 1, high[k] + 1);
        }
    }

    [Theory]
    [InlineData(ColorMap.Gray)]
    [InlineData(ColorMap.Heat)]
    [InlineData(ColorMap.Diverging)]
    [InlineData(ColorMap.Viridis)]
    public void CpuColourMap_EqualsTheShaders_AlongARamp(ColorMap map)
    {
        // The HUD's colour bar is drawn with ColorMaps.At: it must give the colour the shader gives a value at t.
        GlContext ctx = fixture.Context;
        const int n = 101;
        var values = new float[n];
        for (int i = 0; i < n; i++) values[i] = -2f + 5f * i / (n - 1);
        using var gt = GpuTensor.From(ctx, Tensor.Chw(1, 1, n, values));
        using var present = new TensorToImage(ctx) { ColorMap = map };
        present.Run(gt, 0);
        byte[] b = present.Image.Download();
        for (int i = 0; i < n; i++)
        {
            (float r, float g, float bl) = ColorMaps.At(map, i / (float)(n - 1));
            float[] want = [r, g, bl];
            for (int k = 0; k < 3; k++)
                Assert.True(Math.Abs(b[4 * i + k] - Math.Clamp(want[k], 0, 1) * 255) <= 1.01,
                    $"{map} t={i / (float)(n - 1)} component {k}: shader {b[4 * i + k]}, CPU {want[k] * 255:F2}");
        }
    }
}
