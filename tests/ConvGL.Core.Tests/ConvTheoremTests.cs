using ConvGL.Core.Ops;

namespace ConvGL.Core.Tests;

/// <summary>The convolution theorem as the GPU's FFT applies it (one-tile frame, kernel at the origin, product with its
/// conjugate): equal to the direct sum, and the view's helpers (fftshift, tolerance) on hand-checked numbers.</summary>
public class ConvTheoremTests
{
    [Fact]
    public void Apply_EqualsDirect_OverBordersModesStridesDilationsAndGroups()
    {
        var rng = new Random(11_0201);
        PaddingMode[] paddings = [PaddingMode.Same, PaddingMode.Valid, PaddingMode.Full];
        int ran = 0;
        for (int n = 0; n < 40; n++)
        {
            int groups = 1 + rng.Next(2), cin = groups * (1 + rng.Next(2)), cout = groups * (1 + rng.Next(2));
            int h = 1 + rng.Next(14), w = 1 + rng.Next(14), kh = 1 + rng.Next(5), kw = 1 + rng.Next(5);
            var o = new ConvOptions
            {
                Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                Border = Borders.All[rng.Next(5)],
                Padding = paddings[rng.Next(paddings.Length)],
                StrideY = 1 + rng.Next(2), StrideX = 1 + rng.Next(2),
                DilationY = 1 + rng.Next(2), DilationX = 1 + rng.Next(2),
                Groups = groups,
            };
            Tensor input = Random(rng, cin, h, w), weight = Random(rng, cout, cin / groups, kh, kw);
            float[]? bias = rng.Next(2) == 0 ? null : [.. Enumerable.Range(0, cout).Select(_ => (float)rng.NextDouble())];
            Tensor expected;
            try
            {
                expected = Conv2D.Apply(input, weight, bias, o);
            }
            catch (ConvGLException)
            {
                continue;
            }
            Tensor actual = ConvTheorem.Apply(input, weight, bias, o);
            Assert.Equal(expected.Shape, actual.Shape);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected.Data[i] - actual.Data[i]) < 1e-5, $"case {n} ({o}) at {i}: direct {expected.Data[i]}, theorem {actual.Data[i]}");
            ran++;
        }
        Assert.True(ran > 25, $"only {ran} cases had an output");
    }

    [Fact]
    public void InputFrame_HoldsThePaddedInputAtTheOrigin()
    {
        // [1 2 3] with a 1x3 kernel, reflect, same: in_pad = [2 | 1 2 3 | 2]; the frame (good size 5) holds exactly that.
        var input = Tensor.Chw(1, 1, 3, [1, 2, 3]);
        var weight = new Tensor([1, 1, 1, 3], [0, 1, 0]);
        var o = new ConvOptions { Border = Border.Reflect };
        FftPlan plan = ConvTheorem.Plan(input, weight, o);
        Assert.Equal((1, 5), (plan.FrameH, plan.FrameW));
        Assert.Equal([2.0, 1, 2, 3, 2], ConvTheorem.InputFrame(input, 0, weight, o, plan).Select(z => z.Real));
    }

    [Fact]
    public void Shifted_PutsDcInTheMiddle_AsNumPysFftshift()
    {
        // np.fft.fftshift(np.arange(4)) = [2 3 0 1]: index 0 drawn at 2; np.fft.fftshift(np.arange(5)) = [3 4 0 1 2].
        Assert.Equal([2, 3, 0, 1], Enumerable.Range(0, 4).Select(k => ConvTheorem.Shifted(k, 4)));
        Assert.Equal([2, 3, 4, 0, 1], Enumerable.Range(0, 5).Select(k => ConvTheorem.Shifted(k, 5)));
        Assert.Equal(0, ConvTheorem.Shifted(0, 1));
    }

    [Fact]
    public void Tolerance_WorkedNumbers()
    {
        // 1e-5 + 1e-4 * 2 + 2e-7 * log2(1024) * 3 * 0.5 = 1e-5 + 2e-4 + 3e-6.
        Assert.Equal(2.13e-4, ConvTheorem.Tolerance(3, 0.5, 2, 1024), 12);
        var w = new Tensor([2, 1, 1, 2], [1, -2, 0.5f, 0.25f]);
        Assert.Equal(3.5, ConvTheorem.KernelAbsSum(w, [0.5f, -1], 0), 12);
        Assert.Equal(1.75, ConvTheorem.KernelAbsSum(w, [0.5f, -1], 1), 12);
    }

    // ---- one scanline (ScanlineTheorem) ----

    [Fact]
    public void Scanline_WorkedExample_DirectFftAndSpectra()
    {
        // Row [1, 2, 3, 4], taps [1, 0, -1], zero border, same: the padded row is [0, 1, 2, 3, 4, 0] and
        // out[m] = pad[m] - pad[m + 2] = [0 - 2, 1 - 3, 2 - 4, 3 - 0] = [-2, -2, -2, 3]. The padded length 6 gives an
        // 8-point frame; the row spectrum's DC is its sum 10, the kernel's 1 + 0 - 1 = 0, so the product's DC is 0.
        AxisGeometry x = AxisGeometry.Compute(4, 3, 1, 1, PaddingMode.Same);
        var line = new ScanlineTheorem();
        line.Run([1, 2, 3, 4], [1, 0, -1], Border.Zero, x, 1, 1);
        Assert.Equal(8, line.Frame);
        Assert.Equal([-2.0, -2, -2, 3], line.Direct.ToArray());
        for (int m = 0; m < 4; m++) Assert.Equal(line.Direct[m], line.ByFft[m], 12);
        Assert.True(line.MaxDifference < 1e-12, $"max difference {line.MaxDifference}");
        Assert.Equal(10, line.InputSpectrum[0].Real, 12);
        Assert.Equal(0, line.KernelSpectrum[0].Magnitude, 12);
        Assert.Equal(0, line.Product[0].Magnitude, 12);
        // Frequency 4 of 8 (Nyquist): sum (-1)^i pad[i] = 0 - 1 + 2 - 3 + 4 - 0 = 2; the kernel's 1 + (-1)(-1)^2 = 0.
        Assert.Equal(2, line.InputSpectrum[4].Real, 12);
    }

    [Fact]
    public void ShownRow_IsTheCentre_OrTheNearestNonzeroRowWhereTheCentreIsZero()
    {
        // sobel-y: rows -1 -2 -1 / 0 0 0 / 1 2 1: the centre row is zero; rows 0 and 2 are as near: the upper, under
        // either mode (convolve applies the kernel rotated: its row 0 is the stored row 2, reversed).
        var sobelY = new Tensor([1, 1, 3, 3], [-1, -2, -1, 0, 0, 0, 1, 2, 1]);
        Assert.Equal(0, ScanlineTheorem.ShownRow(sobelY, 0, new ConvOptions()));
        Assert.Equal(0, ScanlineTheorem.ShownRow(sobelY, 0, new ConvOptions { Mode = ConvMode.Convolve }));
        var taps = new float[3];
        ScanlineTheorem.KernelRow(sobelY, 0, 0, new ConvOptions { Mode = ConvMode.Convolve }, taps);
        Assert.Equal([1f, 2f, 1f], taps);
        // A 5-row kernel with only stored row 4 nonzero: row 4 correlating, row 0 convolving; an all-zero kernel: the centre.
        var low = new Tensor([2, 1, 5, 1], [0, 0, 0, 0, 7, 1, 1, 1, 1, 1]);
        Assert.Equal(4, ScanlineTheorem.ShownRow(low, 0, new ConvOptions()));
        Assert.Equal(0, ScanlineTheorem.ShownRow(low, 0, new ConvOptions { Mode = ConvMode.Convolve }));
        Assert.Equal(2, ScanlineTheorem.ShownRow(low, 1, new ConvOptions()));
        Assert.Equal(1, ScanlineTheorem.ShownRow(new Tensor([1, 1, 3, 2]), 0, new ConvOptions()));
        // An even kernel: the upper of its two middle rows, the row under the output pixel's own row as the profile view
        // shows it (2 rows, padding 0 before: row 0 reads input row y; 4 rows, padding 1 before: row 1 reads y).
        Assert.Equal(0, ScanlineTheorem.ShownRow(new Tensor([1, 1, 2, 2], [1, 1, 1, 1]), 0, new ConvOptions()));
        Assert.Equal(1, ScanlineTheorem.ShownRow(new Tensor([1, 1, 4, 1], [1, 1, 1, 1]), 0, new ConvOptions()));
        AxisGeometry four = AxisGeometry.Compute(10, 4, 1, 1, PaddingMode.Same);
        Assert.Equal(1, four.PadBefore);
        Assert.Equal(5, ScanlineTheorem.InputRow(5, 10, 1, new ConvOptions(), four));
    }

    [Fact]
    public void Scanline_IsTheShownRowsShareOfThe2DConvolution_AndTheFftEqualsDirect_OverBordersModesStridesDilations()
    {
        // A 2D kernel that is zero but for one row (as applied; the centre row in half the cases) computes, on output row
        // y, exactly the 1D correlation of input row InputRow(y) with that row; ShownRow finds that row (the centre
        // where it is nonzero, else the nearest nonzero one): Conv2D.Apply is the reference for ShownRow, InputRow,
        // KernelRow and the x geometry; the FFT way must equal the direct way to double rounding.
        var rng = new Random(11_0202);
        PaddingMode[] paddings = [PaddingMode.Same, PaddingMode.Valid, PaddingMode.Full];
        var line = new ScanlineTheorem();
        int ran = 0;
        for (int n = 0; n < 60; n++)
        {
            int h = 1 + rng.Next(9), w = 1 + rng.Next(30), kh = 1 + rng.Next(5), kw = 1 + rng.Next(7);
            var o = new ConvOptions
            {
                Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                Border = Borders.All[rng.Next(5)],
                Padding = paddings[rng.Next(paddings.Length)],
                StrideY = 1 + rng.Next(2), StrideX = 1 + rng.Next(3),
                DilationY = 1 + rng.Next(2), DilationX = 1 + rng.Next(3),
            };
            Tensor input = Random(rng, 1, h, w), weight = new Tensor([1, 1, kh, kw]);
            // The stored row that is the applied row: applied correlating, kh - 1 - applied convolving (rotated).
            int applied = rng.Next(2) == 0 ? kh / 2 : rng.Next(kh);
            int stored = o.Mode == ConvMode.Convolve ? kh - 1 - applied : applied;
            for (int j = 0; j < kw; j++) weight.Data[stored * kw + j] = (float)(rng.NextDouble() * 2 - 1);
            Tensor expected;
            ConvGeometry g;
            try
            {
                g = ConvGeometry.Compute(h, w, kh, kw, o);
                expected = Conv2D.Apply(input, weight, null, o);
            }
            catch (ConvGLException)
            {
                continue;
            }
            var taps = new float[kw];
            Assert.Equal(applied, ScanlineTheorem.ShownRow(weight, 0, o));
            ScanlineTheorem.KernelRow(weight, 0, applied, o, taps);
            var row = new float[w];
            for (int y = 0; y < expected.H; y++)
            {
                int r = ScanlineTheorem.InputRow(y, h, applied, o, g.Y);
                for (int x = 0; x < w; x++) row[x] = r < 0 ? 0 : input[0, r, x];
                line.Run(row, taps, o.Border, g.X, o.StrideX, o.DilationX);
                Assert.Equal(expected.W, line.Length);
                for (int x = 0; x < expected.W; x++)
                {
                    Assert.True(Math.Abs(line.Direct[x] - expected[0, y, x]) <= 1e-5, $"case {n} ({o}, {h}x{w}, k {kh}x{kw}) row {y} x {x}: 1D {line.Direct[x]}, 2D {expected[0, y, x]}");
                    Assert.True(Math.Abs(line.ByFft[x] - line.Direct[x]) <= 1e-12, $"case {n} row {y} x {x}: fft {line.ByFft[x]}, direct {line.Direct[x]}");
                }
                Assert.True(line.MaxDifference <= 1e-12);
            }
            ran++;
        }
        Assert.True(ran > 30, $"only {ran} cases had an output");
    }

    [Fact]
    public void Scanline_Spectra_AreTheDftsOfThePaddedRowAndTaps_AndRepeatedRunsAllocateNothing()
    {
        // Replicate border, pad 2 before and after (same, 5 taps, dilation 1) on a 5-value row: padded length 9, frame 16.
        float[] row = [3, -1, 4, 1, -5], taps = [0.5f, -2, 1, 0.25f, 2];
        AxisGeometry x = AxisGeometry.Compute(5, 5, 1, 1, PaddingMode.Same);
        var line = new ScanlineTheorem();
        line.Run(row, taps, Border.Replicate, x, 1, 1);
        Assert.Equal(16, line.Frame);
        var pad = new System.Numerics.Complex[16];
        double[] padded = [3, 3, 3, -1, 4, 1, -5, -5, -5];
        for (int i = 0; i < padded.Length; i++) pad[i] = padded[i];
        var k = new System.Numerics.Complex[16];
        for (int j = 0; j < taps.Length; j++) k[j] = taps[j];
        System.Numerics.Complex[] a = Fft.NaiveDft(pad), b = Fft.NaiveDft(k);
        for (int t = 0; t < 16; t++)
        {
            Assert.True((a[t] - line.InputSpectrum[t]).Magnitude < 1e-9, $"row spectrum at {t}");
            Assert.True((b[t] - line.KernelSpectrum[t]).Magnitude < 1e-9, $"kernel spectrum at {t}");
            Assert.True((a[t] * System.Numerics.Complex.Conjugate(b[t]) - line.Product[t]).Magnitude < 1e-9, $"product at {t}");
        }
        line.Run(row, taps, Border.Replicate, x, 1, 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) line.Run(row, taps, Border.Replicate, x, 1, 1);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static Tensor Random(Random rng, params int[] shape)
    {
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (float)(rng.NextDouble() * 2 - 1);
        return t;
    }
}
