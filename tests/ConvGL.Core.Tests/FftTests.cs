using System.Numerics;
using ConvGL.Core.Ops;

namespace ConvGL.Core.Tests;

public class FftTests
{
    [Fact]
    public void Forward_MatchesNaiveDft_ForPowersOfTwoAndOtherLengths()
    {
        var rng = new Random(21);
        foreach (int n in new[] { 1, 2, 3, 4, 5, 7, 8, 12, 16, 17, 30, 64, 97, 100 })
        {
            var x = Enumerable.Range(0, n).Select(_ => new Complex(rng.NextDouble() - 0.5, rng.NextDouble() - 0.5)).ToArray();
            Complex[] expected = Fft.NaiveDft(x);
            var fast = (Complex[])x.Clone();
            Fft.Forward(fast);
            for (int k = 0; k < n; k++)
                Assert.True((fast[k] - expected[k]).Magnitude < 1e-10 * n, $"n={n} k={k}: {fast[k]} vs {expected[k]}");
            Fft.Inverse(fast);
            for (int k = 0; k < n; k++)
                Assert.True((fast[k] - x[k]).Magnitude < 1e-12 * n, $"n={n} k={k}: inverse {fast[k]} vs {x[k]}");
        }
    }

    [Fact]
    public void Dft_OfImpulseAndConstant_HandKnown()
    {
        var impulse = new Complex[6];
        impulse[0] = 1;
        Fft.Forward(impulse);
        Assert.All(impulse, v => Assert.True((v - Complex.One).Magnitude < 1e-12));
        Complex[] constant = Enumerable.Repeat(Complex.One, 5).ToArray();
        Fft.Forward(constant);
        Assert.True((constant[0] - new Complex(5, 0)).Magnitude < 1e-12);
        for (int k = 1; k < 5; k++) Assert.True(constant[k].Magnitude < 1e-12);
    }

    /// <summary>Every mode, padding, stride and dilation at random, with the given border and groups.</summary>
    private static ConvOptions RandomOptions(Random rng, Border border, int groups) => new()
    {
        Mode = (ConvMode)rng.Next(2),
        Border = border,
        Padding = (PaddingMode)rng.Next(4),
        PadY = rng.Next(0, 7),
        PadX = rng.Next(0, 7),
        StrideY = rng.Next(1, 4),
        StrideX = rng.Next(1, 4),
        DilationY = rng.Next(1, 4),
        DilationX = rng.Next(1, 4),
        Groups = groups,
    };

    [Fact]
    public void FftConv2D_EqualsDirect_OverRandomOptions()
    {
        var rng = new Random(22);
        int ran = 0;
        for (int trial = 0; trial < 150; trial++)
        {
            int cin = rng.Next(1, 5), groups = new[] { 1, cin }[rng.Next(2)], cout = groups * rng.Next(1, 3);
            int h = rng.Next(1, 13), w = rng.Next(1, 13), kh = rng.Next(1, 6), kw = rng.Next(1, 6);
            // Zero and wrap are the theorem's own borders; the others go through an explicit pad first.
            ConvOptions o = RandomOptions(rng, trial % 3 == 0 ? Border.Zero : trial % 3 == 1 ? Border.Wrap : Borders.All[rng.Next(Borders.All.Count)], groups);
            try { ConvGeometry.Compute(h, w, kh, kw, o); }
            catch (ConvGLException) { continue; }
            Tensor x = TestData.Random(rng, cin, h, w), wgt = TestData.Random(rng, cout, cin / groups, kh, kw);
            float[]? bias = rng.Next(2) == 0 ? null : TestData.RandomArray(rng, cout);
            Tensor direct = Conv2D.Apply(x, wgt, bias, o);
            Tensor fft = FftConv2D.Apply(x, wgt, bias, o);
            TestData.AssertClose(direct, fft, 1e-5, 1e-5, $"trial {trial} {o} input ({cin},{h},{w}) weight {wgt.ShapeString} bias {bias is not null}");
            ran++;
        }
        Assert.True(ran > 80, $"only {ran} cases ran");
    }

    /// <summary>In bands of output rows (frames forced small): equal to the direct reference over every border,
    /// padding, stride, dilation, group and mode, the bands' seams included (one output row a band at the least).</summary>
    [Fact]
    public void FftConv2D_InBandsOfRows_EqualsDirect_OverRandomOptions()
    {
        var rng = new Random(24);
        int ran = 0, banded = 0;
        for (int trial = 0; trial < 150; trial++)
        {
            int cin = rng.Next(1, 4), groups = new[] { 1, cin }[rng.Next(2)], cout = groups * rng.Next(1, 3);
            // Tall enough for bands: a band's frame is at least 8 dilated kernel heights.
            int h = rng.Next(1, 200), w = rng.Next(1, 14), kh = rng.Next(1, 6), kw = rng.Next(1, 6);
            ConvOptions o = RandomOptions(rng, Borders.All[rng.Next(Borders.All.Count)], groups);
            try { ConvGeometry.Compute(h, w, kh, kw, o); }
            catch (ConvGLException) { continue; }
            Tensor x = TestData.Random(rng, cin, h, w), wgt = TestData.Random(rng, cout, cin / groups, kh, kw);
            float[]? bias = rng.Next(2) == 0 ? null : TestData.RandomArray(rng, cout);
            // A limit of a few rows of the band frame's width: the smallest band frame the plan allows.
            FftConv2D.CpuPlan whole = FftConv2D.Plan(h, w, kh, kw, o, long.MaxValue);
            long limit = (long)rng.Next(1, 9) * Fft.NextPowerOfTwo(w + 2 * o.DilationX * kw + 2 * Math.Max(o.PadX, kw));
            FftConv2D.CpuPlan plan = FftConv2D.Plan(h, w, kh, kw, o, limit);
            Tensor direct = Conv2D.Apply(x, wgt, bias, o);
            Tensor fft = FftConv2D.Apply(x, wgt, bias, o, limit);
            TestData.AssertClose(direct, fft, 1e-5, 1e-5, $"trial {trial} {o} input ({cin},{h},{w}) weight {wgt.ShapeString} plan {plan} (whole {whole})");
            int outH = direct.H;
            Assert.True(plan.Bands == 1 ? plan == whole : plan.Bands == (outH + plan.BandRows - 1) / plan.BandRows && plan.Bands * plan.BandRows - outH < plan.Bands,
                $"trial {trial}: plan {plan} for {outH} output rows");
            if (plan.Bands > 1) banded++;
            ran++;
        }
        Assert.True(ran > 80 && banded > 40, $"only {ran} cases ran, {banded} in bands");
    }

    /// <summary>The plan: a whole frame where it fits (power-of-two sides of the picture plus the kernel's reach, the
    /// wrap border's exact size), else the fewest bands whose frame fits, at least 8 kernel heights tall: a 16384x8192
    /// picture under a 31x31 kernel (its whole frame 2^29 values, 8 GiB) runs in 84 bands of 196 rows through 256x16384
    /// frames (a band of R rows reads R + 30 padded rows, and its frame holds them and the kernel's reach: R + 60 &lt;= 256).</summary>
    [Fact]
    public void FftConv2D_Plan_WholeWhereItFits_BandsOtherwise()
    {
        var reflect = new ConvOptions { Border = Border.Reflect };
        Assert.Equal(new FftConv2D.CpuPlan(1024, 1024, 1, 500), FftConv2D.Plan(500, 500, 31, 31, reflect));
        Assert.Equal(new FftConv2D.CpuPlan(512, 2048, 3, 367), FftConv2D.Plan(1100, 1100, 31, 31, reflect));
        Assert.Equal(new FftConv2D.CpuPlan(37, 53, 1, 37), FftConv2D.Plan(37, 53, 5, 5, new ConvOptions { Border = Border.Wrap }));
        FftConv2D.CpuPlan big = FftConv2D.Plan(16384, 8192, 31, 31, reflect);
        Assert.Equal(new FftConv2D.CpuPlan(256, 16384, 84, 196), big);
        Assert.True(big.Plane <= 4 * FftConv2D.MaxFrameTexels);
        // A 501-tall kernel: frames of 4096 rows (8 x 501 = 4008), 2 bands on a 2000-row picture instead of its whole 4096 x 4096.
        Assert.Equal(new FftConv2D.CpuPlan(4096, 4096, 1, 2000), FftConv2D.Plan(2000, 1500, 501, 501, reflect));
        Assert.Equal(new FftConv2D.CpuPlan(4096, 4096, 2, 2000), FftConv2D.Plan(4000, 1500, 501, 501, reflect));
    }

    /// <summary>A dilation of 10^9 (the hostile-input audit's `apply --dilation 1000000000`): the frame's sides overflowed
    /// int, so the zero border's power-of-two search looped forever (apply never ended) and the reflect border's planned a
    /// frame of 1 and failed inside the tensor constructor ("internal error"). The plan is now an error, the FFT no candidate,
    /// and the auto choice runs the direct or separable sum, which gives the centre tap's term alone.</summary>
    [Fact]
    public void FftConv2D_Plan_OfAHugeDilation_IsAnError_AndAutoRunsTheDirectSum()
    {
        foreach (Border border in new[] { Border.Zero, Border.Reflect, Border.Replicate, Border.Symmetric })
        {
            var o = new ConvOptions { Border = border, DilationY = 1_000_000_000, DilationX = 1_000_000_000 };
            var e = Assert.Throws<ConvGLException>(() => FftConv2D.Plan(4, 4, 3, 3, o));
            Assert.Contains("past the FFT's 268435456 a side (use --algorithm direct)", e.Message);
            var kernel = new Tensor([3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
            AlgorithmChoice auto = ConvAlgorithms.ChooseFilter(1, 4, 4, kernel, o, ConvCostModel.Cpu);
            Assert.NotEqual(ConvAlgorithm.Fft, auto.Algorithm);
            Assert.Throws<ConvGLException>(() => ConvAlgorithms.ChooseFilter(1, 4, 4, kernel, o, ConvCostModel.Cpu, ConvAlgorithm.Fft));
            var input = new Tensor([1, 4, 4], Enumerable.Range(1, 16).Select(v => (float)v).ToArray());
            Tensor out1 = Conv2D.Filter(input, kernel, o);
            // Every tap but the centre lands a billion pixels away: zero outside for the zero border; the other borders
            // map it back into the picture, and the direct sum is the definition either way.
            if (border == Border.Zero) Assert.Equal(input.Data.Select(v => 5 * v), out1.Data);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Fft.NextPowerOfTwo((1 << 30) + 1));
        Assert.Equal(1 << 30, Fft.NextPowerOfTwo(1 << 30));
    }

    [Fact]
    public void FftConv2D_LargerImage_WrapWithPrimeSize()
    {
        var rng = new Random(23);
        Tensor x = TestData.Random(rng, 3, 37, 53), k = TestData.Random(rng, 7, 5);
        foreach (Border b in new[] { Border.Zero, Border.Wrap })
        {
            var o = new ConvOptions { Border = b, DilationX = 2 };
            TestData.AssertClose(Conv2D.Filter(x, k, o), FftConv2D.Filter(x, k, o), 1e-5, 1e-5, $"{o}");
        }
    }
}
