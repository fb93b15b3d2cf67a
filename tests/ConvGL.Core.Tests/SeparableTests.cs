using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;

namespace ConvGL.Core.Tests;

public class SeparableTests
{
    [Theory]
    [InlineData("sobel-x", true)]
    [InlineData("sobel-y", true)]
    [InlineData("scharr-x", true)]
    [InlineData("prewitt-y", true)]
    [InlineData("box:5", true)]
    [InlineData("gaussian:7,1.3", true)]
    [InlineData("vertical-edge", true)]
    [InlineData("laplacian", false)]
    [InlineData("laplacian:8", false)]
    [InlineData("sharpen", false)]
    [InlineData("log", false)]
    [InlineData("emboss", false)]
    [InlineData("motion-blur:7,30", false)]
    public void TryFactor_LibraryKernels(string name, bool separable)
    {
        Tensor k = KernelLibrary.Get(name);
        Assert.Equal(separable, Separable.TryFactor(k, out double[] col, out double[] row));
        if (!separable) return;
        Tensor back = Separable.Outer(col, row);
        TestData.AssertClose(k, back, 1e-6, 1e-6, name);
    }

    [Fact]
    public void TryFactor_Sobel_GivesSmoothingColumnAndDerivativeRow()
    {
        Assert.True(Separable.TryFactor(KernelLibrary.Get("sobel-x"), out double[] col, out double[] row));
        // Up to a shared scale: column proportional to (1, 2, 1), row to (-1, 0, 1).
        double sc = col[0], sr = row[2];
        Assert.Equal([1.0, 2, 1], col.Select(v => Math.Round(v / sc, 12)).ToArray());
        Assert.Equal([-1.0, 0, 1], row.Select(v => Math.Round(v / sr, 12)).ToArray());
        Assert.Equal(1.0, sc * sr, 12);
    }

    [Fact]
    public void TryFactor_RandomRank1AndRank2()
    {
        var rng = new Random(31);
        for (int trial = 0; trial < 100; trial++)
        {
            int kh = rng.Next(1, 8), kw = rng.Next(1, 8);
            double[] c = Enumerable.Range(0, kh).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            double[] r = Enumerable.Range(0, kw).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            Tensor k = Separable.Outer(c, r);
            Assert.True(Separable.TryFactor(k, out _, out _, 1e-5), $"trial {trial}: rank-1 ({kh},{kw}) not detected");
            if (kh < 2 || kw < 2) continue;
            // Add a second, independent rank-1 term of comparable size: no longer separable.
            Tensor k2 = k.Clone();
            k2[0, 0] += 0.5f;
            k2[kh - 1, kw - 1] -= 0.5f;
            Assert.False(Separable.TryFactor(k2, out _, out _, 1e-5), $"trial {trial}: rank-2 ({kh},{kw}) reported separable");
        }
    }

    [Fact]
    public void TwoPass_EqualsFull2D_ForEveryOption()
    {
        var rng = new Random(32);
        int ran = 0;
        for (int trial = 0; trial < 200; trial++)
        {
            int c = rng.Next(1, 4), h = rng.Next(1, 11), w = rng.Next(1, 11), kh = rng.Next(1, 6), kw = rng.Next(1, 6);
            var o = new ConvOptions
            {
                Mode = (ConvMode)rng.Next(2),
                Border = Borders.All[trial % Borders.All.Count],
                Padding = (PaddingMode)rng.Next(4),
                PadY = rng.Next(0, 5),
                PadX = rng.Next(0, 5),
                StrideY = rng.Next(1, 4),
                StrideX = rng.Next(1, 4),
                DilationY = rng.Next(1, 4),
                DilationX = rng.Next(1, 4),
            };
            try { ConvGeometry.Compute(h, w, kh, kw, o); }
            catch (ConvGLException) { continue; }
            double[] col = Enumerable.Range(0, kh).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            double[] row = Enumerable.Range(0, kw).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            Tensor k = Separable.Outer(col, row);
            Assert.True(Separable.TryFactor(k, out double[] fc, out double[] fr, 1e-5));
            Tensor x = TestData.Random(rng, c, h, w);
            TestData.AssertClose(Conv2D.Filter(x, k, o), Separable.Filter(x, fc, fr, o), 1e-5, 1e-5,
                $"trial {trial} {o} input ({c},{h},{w}) kernel ({kh},{kw})");
            ran++;
        }
        Assert.True(ran > 100, $"only {ran} cases ran");
    }
}
