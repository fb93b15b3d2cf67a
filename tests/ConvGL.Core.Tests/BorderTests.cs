using ConvGL.Core.Ops;

namespace ConvGL.Core.Tests;

public class BorderTests
{
    private static float[] Pad1D(float[] a, int before, int after, Border b)
    {
        Tensor p = Borders.Pad(Tensor.Chw(1, 1, a.Length, a), 0, 0, before, after, b);
        return p.Data;
    }

    [Theory]
    [InlineData(Border.Zero, new float[] { 0, 0, 1, 2, 3, 4, 0, 0 })]
    [InlineData(Border.Replicate, new float[] { 1, 1, 1, 2, 3, 4, 4, 4 })]
    [InlineData(Border.Reflect, new float[] { 3, 2, 1, 2, 3, 4, 3, 2 })]
    [InlineData(Border.Symmetric, new float[] { 2, 1, 1, 2, 3, 4, 4, 3 })]
    [InlineData(Border.Wrap, new float[] { 3, 4, 1, 2, 3, 4, 1, 2 })]
    public void Pad_1234_By2_MatchesNpPad(Border b, float[] expected)
    {
        // np.pad([1,2,3,4], 2, mode=constant|edge|reflect|symmetric|wrap), listed by hand.
        Assert.Equal(expected, Pad1D([1, 2, 3, 4], 2, 2, b));
    }

    [Theory]
    [InlineData(Border.Reflect, new float[] { 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1 })]
    [InlineData(Border.Symmetric, new float[] { 1, 1, 2, 3, 3, 2, 1, 1, 2, 3, 3, 2, 1, 1, 2, 3 })]
    [InlineData(Border.Wrap, new float[] { 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3 })]
    public void Pad_WiderThanTheImage_KeepsReflectingLikeNpPad(Border b, float[] expected)
    {
        // np.pad([1,2,3], (7,6), mode): the extension is periodic (period 4, 6 and 3).
        Assert.Equal(expected, Pad1D([1, 2, 3], 7, 6, b));
    }

    /// <summary>An independent border rule: unfold by repeated mirroring (the way one reasons about it on paper),
    /// not by the modulo formulas of <see cref="Borders.Map"/>.</summary>
    private static int Unfold(int i, int n, Border b)
    {
        switch (b)
        {
            case Border.Zero:
                return i >= 0 && i < n ? i : -1;
            case Border.Replicate:
                return Math.Clamp(i, 0, n - 1);
            case Border.Wrap:
                while (i < 0) i += n;
                while (i >= n) i -= n;
                return i;
            case Border.Reflect:
                if (n == 1) return 0;
                while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
                return i;
            case Border.Symmetric:
                while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - 1 - i;
                return i;
            default:
                throw new ArgumentOutOfRangeException(nameof(b));
        }
    }

    [Fact]
    public void Map_AgreesWithUnfolding_ForEverySizeAndOffset()
    {
        foreach (Border b in Borders.All)
            for (int n = 1; n <= 7; n++)
                for (int i = -30; i < 30; i++)
                    Assert.True(Unfold(i, n, b) == Borders.Map(i, n, b), $"border {b.Name()} n={n} i={i}: Map {Borders.Map(i, n, b)} vs unfold {Unfold(i, n, b)}");
    }

    /// <summary>Padding built by the test's own unfolding rule.</summary>
    private static Tensor IndependentPad(Tensor t, int top, int bottom, int left, int right, Border b)
    {
        var p = Tensor.Chw(t.C, t.H + top + bottom, t.W + left + right);
        for (int c = 0; c < t.C; c++)
            for (int y = 0; y < p.H; y++)
                for (int x = 0; x < p.W; x++)
                {
                    int sy = Unfold(y - top, t.H, b), sx = Unfold(x - left, t.W, b);
                    p[c, y, x] = sy < 0 || sx < 0 ? 0 : t[c, sy, sx];
                }
        return p;
    }

    [Fact]
    public void Conv2D_EveryBorder_EqualsValidConvOfAnExplicitlyPaddedCopy()
    {
        var rng = new Random(7);
        int cases = 0;
        foreach (Border b in Borders.All)
            for (int trial = 0; trial < 40; trial++)
            {
                int c = rng.Next(1, 3), h = rng.Next(1, 8), w = rng.Next(1, 8), kh = rng.Next(1, 7), kw = rng.Next(1, 7);
                int dy = rng.Next(1, 4), dx = rng.Next(1, 4), sy = rng.Next(1, 4), sx = rng.Next(1, 4);
                PaddingMode mode = (PaddingMode)rng.Next(4);
                var o = new ConvOptions
                {
                    Border = b, Padding = mode, PadY = rng.Next(0, 9), PadX = rng.Next(0, 9), StrideY = sy, StrideX = sx,
                    DilationY = dy, DilationX = dx, Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                };
                ConvGeometry g;
                try { g = ConvGeometry.Compute(h, w, kh, kw, o); }
                catch (ConvGLException) { continue; } // output below 1x1 for this draw
                Tensor img = TestData.Random(rng, c, h, w), k = TestData.Random(rng, kh, kw);
                Tensor padded = IndependentPad(img, g.Y.PadBefore, g.Y.PadAfter, g.X.PadBefore, g.X.PadAfter, b);
                Tensor expected = Conv2D.Filter(padded, k, o with { Border = Border.Zero, Padding = PaddingMode.Valid });
                Tensor actual = Conv2D.Filter(img, k, o);
                TestData.AssertClose(expected, actual, 1e-6, 1e-6, $"{o} input ({c},{h},{w}) kernel ({kh},{kw})");
                Assert.Equal(padded.Data, Borders.Pad(img, g.Y.PadBefore, g.Y.PadAfter, g.X.PadBefore, g.X.PadAfter, b).Data);
                cases++;
            }
        Assert.True(cases > 100, $"only {cases} cases ran");
    }
}
