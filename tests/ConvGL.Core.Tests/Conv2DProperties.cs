using ConvGL.Core.Ops;

namespace ConvGL.Core.Tests;

public class Conv2DProperties
{
    private static ConvOptions RandomOptions(Random rng, bool anyBorder = true) => new()
    {
        Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
        Border = anyBorder ? Borders.All[rng.Next(Borders.All.Count)] : Border.Zero,
        Padding = (PaddingMode)rng.Next(4),
        PadY = rng.Next(0, 4),
        PadX = rng.Next(0, 4),
        StrideY = rng.Next(1, 4),
        StrideX = rng.Next(1, 4),
        DilationY = rng.Next(1, 3),
        DilationX = rng.Next(1, 3),
    };

    private static bool Fits(int h, int w, int kh, int kw, ConvOptions o)
    {
        try { ConvGeometry.Compute(h, w, kh, kw, o); return true; }
        catch (ConvGLException) { return false; }
    }

    [Fact]
    public void Linearity_AlphaXPlusBetaY()
    {
        var rng = new Random(11);
        for (int trial = 0; trial < 60; trial++)
        {
            int c = rng.Next(1, 4), h = rng.Next(2, 10), w = rng.Next(2, 10), kh = rng.Next(1, 5), kw = rng.Next(1, 5);
            ConvOptions o = RandomOptions(rng);
            if (!Fits(h, w, kh, kw, o)) continue;
            Tensor x = TestData.Random(rng, c, h, w), y = TestData.Random(rng, c, h, w), k = TestData.Random(rng, kh, kw);
            float alpha = (float)(rng.NextDouble() * 4 - 2), beta = (float)(rng.NextDouble() * 4 - 2);
            var mix = new Tensor(x.Shape);
            for (int i = 0; i < mix.Length; i++) mix.Data[i] = alpha * x.Data[i] + beta * y.Data[i];
            Tensor lhs = Conv2D.Filter(mix, k, o);
            Tensor cx = Conv2D.Filter(x, k, o), cy = Conv2D.Filter(y, k, o);
            var rhs = new Tensor(cx.Shape);
            for (int i = 0; i < rhs.Length; i++) rhs.Data[i] = alpha * cx.Data[i] + beta * cy.Data[i];
            TestData.AssertClose(rhs, lhs, 1e-5, 1e-5, $"trial {trial} {o} input ({c},{h},{w}) kernel ({kh},{kw}) alpha {alpha} beta {beta}");
        }
    }

    [Fact]
    public void Convolve_EqualsCorrelateWithRot180Kernel()
    {
        var rng = new Random(12);
        for (int trial = 0; trial < 60; trial++)
        {
            int cin = rng.Next(1, 5), groups = new[] { 1, cin }[rng.Next(2)], cout = groups * rng.Next(1, 3);
            int h = rng.Next(2, 9), w = rng.Next(2, 9), kh = rng.Next(1, 5), kw = rng.Next(1, 5);
            ConvOptions o = RandomOptions(rng) with { Mode = ConvMode.Convolve, Groups = groups };
            if (!Fits(h, w, kh, kw, o)) continue;
            Tensor x = TestData.Random(rng, cin, h, w), wgt = TestData.Random(rng, cout, cin / groups, kh, kw);
            float[] bias = TestData.RandomArray(rng, cout);
            Tensor conv = Conv2D.Apply(x, wgt, bias, o);
            Tensor corr = Conv2D.Apply(x, Conv2D.Rot180(wgt), bias, o with { Mode = ConvMode.Correlate });
            Assert.True(conv.Data.SequenceEqual(corr.Data), $"trial {trial} {o} input ({cin},{h},{w}) weight {wgt.ShapeString}");
        }
    }

    [Fact]
    public void ShiftEquivariance_AwayFromBorders()
    {
        // Shifting the input by (ty, tx) shifts a stride-1 output by the same amount wherever neither window
        // touches the border. Outputs use valid padding so every output position reads only real pixels.
        var rng = new Random(13);
        for (int trial = 0; trial < 40; trial++)
        {
            int h = rng.Next(6, 14), w = rng.Next(6, 14), kh = rng.Next(1, 4), kw = rng.Next(1, 4);
            int ty = rng.Next(0, 3), tx = rng.Next(0, 3);
            var o = new ConvOptions { Padding = PaddingMode.Valid, DilationY = rng.Next(1, 3), DilationX = rng.Next(1, 3), Mode = (ConvMode)rng.Next(2) };
            if (!Fits(h - ty, w - tx, kh, kw, o)) continue;
            Tensor x = TestData.Random(rng, 1, h, w), k = TestData.Random(rng, kh, kw);
            var shifted = Tensor.Chw(1, h, w);
            for (int y = ty; y < h; y++)
                for (int xx = tx; xx < w; xx++) shifted[0, y, xx] = x[0, y - ty, xx - tx];
            Tensor a = Conv2D.Filter(x, k, o), b = Conv2D.Filter(shifted, k, o);
            for (int y = 0; y + ty < b.H && y < a.H; y++)
                for (int xx = 0; xx + tx < b.W && xx < a.W; xx++)
                {
                    // a[y, xx] reads x rows y..y+span; in shifted these are rows y+ty.., all real pixels of x when in range.
                    if (y + ty + o.DilationY * (kh - 1) >= h || xx + tx + o.DilationX * (kw - 1) >= w) continue;
                    Assert.True(a[0, y, xx] == b[0, y + ty, xx + tx], $"trial {trial} shift ({ty},{tx}) at ({y},{xx}) {o}");
                }
        }
    }

    [Fact]
    public void OutputSize_MatchesBruteForceCountOfWindowPositions()
    {
        for (int n = 1; n <= 9; n++)
            for (int k = 1; k <= 5; k++)
                for (int s = 1; s <= 4; s++)
                    for (int d = 1; d <= 3; d++)
                        foreach (PaddingMode mode in Enum.GetValues<PaddingMode>())
                            for (int p = 0; p <= (mode == PaddingMode.Explicit ? 3 : 0); p++)
                            {
                                int span = d * (k - 1);
                                (int before, int after) = mode switch
                                {
                                    PaddingMode.Valid => (0, 0),
                                    PaddingMode.Same => (span / 2, span - span / 2),
                                    PaddingMode.Full => (span, span),
                                    // ONNX auto_pad: ceil(n/s) outputs, the odd pixel after (upper) or before (lower).
                                    PaddingMode.SameUpper or PaddingMode.SameLower when Math.Max(0, ((n + s - 1) / s - 1) * s + span + 1 - n) is int t =>
                                        mode == PaddingMode.SameUpper ? (t / 2, t - t / 2) : (t - t / 2, t / 2),
                                    _ => (p, p),
                                };
                                // Count top-left positions 0, s, 2s, ... whose dilated window fits in the padded length.
                                int count = 0;
                                for (int start = 0; start + span <= n + before + after - 1; start += s) count++;
                                string ctx = $"n={n} k={k} s={s} d={d} {mode} p={p}";
                                if (count == 0)
                                {
                                    Assert.Throws<ConvGLException>(() => AxisGeometry.Compute(n, k, s, d, mode, p));
                                    continue;
                                }
                                AxisGeometry g = AxisGeometry.Compute(n, k, s, d, mode, p);
                                Assert.True(count == g.Output && before == g.PadBefore && after == g.PadAfter, $"{ctx}: {g} vs count {count}");
                                if (mode is PaddingMode.Same or PaddingMode.SameUpper or PaddingMode.SameLower)
                                    Assert.True((n + s - 1) / s == g.Output, $"{ctx}: same must give ceil(n/s)");
                                if (mode == PaddingMode.Full && s == 1) Assert.Equal(n + span, g.Output);
                                // The reference really produces that many outputs.
                                var o = new ConvOptions { Padding = mode, PadX = p, StrideX = s, DilationX = d };
                                Assert.Equal([1, 1, count], Conv2D.Filter(Tensor.Chw(1, 1, n), new Tensor([1, k]), o).Shape);
                            }
    }

    [Theory]
    // `convgl apply --dilation 1500000000`: d*(k-1) = 3e9 wrapped to -1294967296 in int, and valid padding then
    // "fit" with an output of 1294967306 values; same padding gave negative pads. An explicit pad of int.MaxValue
    // wrapped n + 2p. Every one must be a clear error, never a geometry built from wrapped numbers.
    [InlineData(PaddingMode.Valid, 1_500_000_000, 0)]
    [InlineData(PaddingMode.Same, 1_500_000_000, 0)]
    [InlineData(PaddingMode.Full, 1_500_000_000, 0)]
    [InlineData(PaddingMode.Same, 1_100_000_000, 0)]
    [InlineData(PaddingMode.Explicit, 1, int.MaxValue)]
    public void HugeDilationOrPadding_IsAClearErrorNotAnIntOverflow(PaddingMode mode, int dilation, int pad)
    {
        string ctx = $"{mode} dilation {dilation} pad {pad}";
        var e = Assert.Throws<ConvGLException>(() => AxisGeometry.Compute(10, 3, 1, dilation, mode, pad, "width"));
        Assert.True(e.Message.Contains("width", StringComparison.Ordinal), $"{ctx}: {e.Message}");
        Assert.Throws<ConvGLException>(() => Conv2D.Filter(Tensor.Chw(1, 4, 4), new Tensor([3, 3]),
            new ConvOptions { Padding = mode, PadX = pad, PadY = pad, DilationX = dilation, DilationY = dilation }));
    }

    [Fact]
    public void ZeroStride_AndTooSmallOutput_AreClearErrors()
    {
        var e = Assert.Throws<ConvGLException>(() => Conv2D.Filter(Tensor.Chw(1, 4, 4), new Tensor([3, 3]), new ConvOptions { StrideX = 0 }));
        Assert.Contains("stride", e.Message);
        var f = Assert.Throws<ConvGLException>(() => Conv2D.Filter(Tensor.Chw(1, 2, 2), new Tensor([3, 3]), new ConvOptions { Padding = PaddingMode.Valid }));
        Assert.Contains("below 1", f.Message);
    }
}
