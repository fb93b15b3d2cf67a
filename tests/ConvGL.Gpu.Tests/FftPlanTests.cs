using ConvGL.Core;
using ConvGL.Core.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>The frame arithmetic the GPU FFT relies on (Core's <see cref="FftPlan"/>); no GL needed.</summary>
public sealed class FftPlanTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 8)]
    [InlineData(17, 20)]     // 4*5 in 2 passes (40) beats 18 = 2*3*3 in 3 (54)
    [InlineData(318, 320)]
    [InlineData(1000, 1024)] // 16*16*4, 3 passes, beats 1000 = 8*5*5*5 in 4
    [InlineData(1086, 1280)] // 16*16*5
    public void GoodSize_PicksTheCheapestSmoothLength(int n, int expected) => Assert.Equal(expected, FftPlan.GoodSize(n));

    [Fact]
    public void GoodSize_IsSmoothAndAtLeastN_ForEveryLengthUpTo5000()
    {
        for (int n = 1; n <= 5000; n++)
        {
            int m = FftPlan.GoodSize(n);
            Assert.True(m >= n && m <= 2 * n, $"GoodSize({n}) = {m}");
            int product = 1;
            foreach (int r in FftPlan.Radices(m)) product *= r;
            Assert.Equal(m, product);
        }
    }

    [Theory]
    [InlineData(1, new int[0])]
    [InlineData(2, new[] { 2 })]
    [InlineData(1280, new[] { 16, 16, 5 })]
    [InlineData(320, new[] { 16, 4, 5 })]
    [InlineData(1152, new[] { 16, 8, 3, 3 })]
    public void Radices_SixteensFirst(int n, int[] expected) => Assert.Equal(expected, FftPlan.Radices(n));

    [Fact]
    public void Radices_RefusesAPrimeAbove5() => Assert.Throws<ArgumentException>(() => FftPlan.Radices(14));

    [Fact]
    public void For_Conv63On1024_FourTilesOf256Rows()
    {
        // 1024 dense rows in 4 tiles of 256, each reading 256 + 62 padded rows: a 320-row frame; 1086 columns: 1280.
        FftPlan p = FftPlan.For(1024, 1024, 63, 63, new ConvOptions { Border = Border.Reflect });
        Assert.Equal((320, 1280, 256, 1086, 1086), (p.FrameH, p.FrameW, p.TileRows, p.NeedH, p.NeedW));
    }

    [Fact]
    public void For_StrideAndDilation_CountOnlyTheSampledRows()
    {
        // same, stride 3: ceil(10/3) = 4 outputs at dense 0, 3, 6, 9; dilation 2 spans 5 for k = 3.
        FftPlan p = FftPlan.For(10, 10, 3, 3, new ConvOptions { StrideY = 3, StrideX = 3, DilationY = 2, DilationX = 2 });
        Assert.Equal((10, 3, 14, 14), (p.DenseH, p.TileRows, p.NeedH, p.NeedW));
        Assert.True(p.FrameH >= 3 + 4 && p.FrameW >= 14);
    }

    [Fact]
    public void For_MaxPlane_BandsOfTheTallestTileThatFits()
    {
        // 1024 dense rows, 63x63: one band needs 320x1280 frames (409,600 texels). At most 200,000: a tile of t rows
        // needs GoodSize(t + 62) x 1280, so GoodSize(t + 62) <= 156. That is 144 (16 * 3 * 3) at most: lengths 145..150
        // take 160 (16 * 2 * 5, 3 passes, is cheaper than 150's 4). So t <= 82, 328 rows a band, 4 bands, evened out
        // to tiles of 1024 / 16 = 64 rows in frames of GoodSize(64 + 62) = 128 rows.
        FftPlan p = FftPlan.For(1024, 1024, 63, 63, new ConvOptions { Border = Border.Reflect }, maxPlane: 200_000);
        Assert.Equal((4, 64, 128, 1280), (p.Bands, p.TileRows, p.FrameH, p.FrameW));
        Assert.Equal(144, FftPlan.GoodSize(144));
        Assert.Equal(160, FftPlan.GoodSize(145));
        Assert.True(p.Bands * FftPlan.Tiles * p.TileRows >= p.DenseH && p.Plane <= 200_000);
        // Within the limit: one band, as without it.
        Assert.Equal(FftPlan.For(1024, 1024, 63, 63, new ConvOptions()), FftPlan.For(1024, 1024, 63, 63, new ConvOptions(), maxPlane: 409_600));
    }

    [Fact]
    public void For_MaxPlane_EveryBandFits_AndTheBandsCoverEveryDenseRow()
    {
        var rng = new Random(7);
        for (int n = 0; n < 400; n++)
        {
            int h = rng.Next(1, 3000), w = rng.Next(1, 300), k = rng.Next(1, 40), s = rng.Next(1, 4), tiles = rng.Next(1, 5);
            var o = new ConvOptions { StrideY = s, DilationY = rng.Next(1, 3) };
            FftPlan whole = FftPlan.For(h, w, k, k, o, tiles);
            long cap = rng.Next(1, 20) * (long)whole.FrameW * FftPlan.GoodSize(o.DilationY * (k - 1) + 1);
            FftPlan p = FftPlan.For(h, w, k, k, o, tiles, cap);
            string at = $"h={h} w={w} k={k} s={s} tiles={tiles} cap={cap}: {p}";
            Assert.True(p.Plane <= Math.Max(cap, whole.FrameW * (long)FftPlan.GoodSize(o.DilationY * (k - 1) + 1)), at);
            Assert.True((long)p.Bands * tiles * p.TileRows >= p.DenseH, at);
            Assert.True((long)(p.Bands - 1) * tiles * p.TileRows < p.DenseH, at);   // no empty band
            Assert.True(p.FrameH >= p.TileRows + o.DilationY * (k - 1), at);       // no wrap-around into outputs
            Assert.Equal((whole.FrameW, whole.NeedH, whole.DenseH), (p.FrameW, p.NeedH, p.DenseH));
            if (whole.Plane <= cap) Assert.Equal(whole, p);
        }
    }
}
