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

    [Fact]
    public void FftConv2D_EqualsDirect_OverRandomOptions()
    {
        var rng = new Random(22);
        int ran = 0;
        for (int trial = 0; trial < 150; trial++)
        {
            int cin = rng.Next(1, 5), groups = new[] { 1, cin }[rng.Next(2)], cout = groups * rng.Next(1, 3);
            int h = rng.Next(1, 13), w = rng.Next(1, 13), kh = rng.Next(1, 6), kw = rng.Next(1, 6);
            var o = new ConvOptions
            {
                Mode = (ConvMode)rng.Next(2),
                // Zero and wrap are the theorem's own borders; the others go through an explicit pad first.
                Border = trial % 3 == 0 ? Border.Zero : trial % 3 == 1 ? Border.Wrap : Borders.All[rng.Next(Borders.All.Count)],
                Padding = (PaddingMode)rng.Next(4),
                PadY = rng.Next(0, 7),
                PadX = rng.Next(0, 7),
                StrideY = rng.Next(1, 4),
                StrideX = rng.Next(1, 4),
                DilationY = rng.Next(1, 4),
                DilationX = rng.Next(1, 4),
                Groups = groups,
            };
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
