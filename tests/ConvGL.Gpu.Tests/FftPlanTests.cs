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
}
