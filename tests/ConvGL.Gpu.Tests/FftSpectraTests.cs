using System.Numerics;
using ConvGL.Core;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;
using ConvGL.Gpu.Present;

namespace ConvGL.Gpu.Tests;

/// <summary>The spectra GpuFftConv2D captures for the theorem view (<see cref="GpuFftConv2D.CaptureSpectra"/>) are the
/// convolution theorem's, as Core's double-precision <see cref="ConvTheorem"/> computes them with <see cref="Fft"/>;
/// the view's pass (<see cref="TheoremPass"/>) reports max |direct - FFT| exactly as a CPU finds it from the two
/// read-back results; and a run with unchanged shapes allocates nothing (the window runs it every frame).
///
/// Spectrum tolerance: a float32 FFT's error at any frequency is about 2^-24 log2(F_h F_w) times the sum of |x| over
/// the frame, so |gpu - cpu| &lt;= 1e-6 + PerLog * log2(F_h F_w) * L, with L = sum |frame| for the input and kernel
/// spectra and sum over the group of L_in * L_k for the product. PerLog is ~3.6x the worst ratio these sweeps measured (4.1e-8).</summary>
[Collection(GlCollection.Name)]
public sealed class FftSpectraTests(GlFixture fixture, ITestOutputHelper log)
{
    private const double PerLog = 1.5e-7;
    private double _worst;

    private static double L1(Complex[] frame) => frame.Sum(z => z.Magnitude);

    private void AssertSpectrum(Complex[] expected, Complex[] actual, double l, double logPlane, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double allowed = 1e-6 + PerLog * logPlane * l;
        for (int t = 0; t < expected.Length; t++)
        {
            double err = (expected[t] - actual[t]).Magnitude;
            if (l > 0) _worst = Math.Max(_worst, err / (logPlane * l));
            if (!(err <= allowed))
                Assert.Fail($"{what}: at texel {t}, CPU {expected[t]}, GPU {actual[t]}, |diff| {err:G3} > {allowed:G3} (L={l:G4})");
        }
    }

    /// <summary>Runs the capturing FFT and checks every spectrum of output channel o and its group, and the result.</summary>
    private void Check(Tensor input, Tensor weight, float[]? bias, ConvOptions o, string spec)
    {
        using var fft = new GpuFftConv2D(fixture.Context, weight, bias, o) { CaptureSpectra = true };
        Tensor actual = fft.Apply(input);
        FftPlan plan = fft.LastPlan!;
        Assert.Equal(ConvTheorem.Plan(input, weight, o), plan);
        double logPlane = Math.Log2(Math.Max(2, plan.Plane));
        int cout = weight.Shape[0], cinPerGroup = weight.Shape[1], coutPerGroup = cout / o.Groups;
        for (int c = 0; c < input.C; c++)
        {
            Complex[] frame = ConvTheorem.InputFrame(input, c, weight, o, plan);
            AssertSpectrum(ConvTheorem.InputSpectrum(input, c, weight, o, plan), fft.ReadSpectrum(FftSpectrum.Input, c), L1(frame), logPlane, $"input {c} -- {spec}");
        }
        for (int q = 0; q < cout * cinPerGroup; q++)
        {
            Complex[] frame = ConvTheorem.KernelFrame(weight, q, o, plan);
            AssertSpectrum(ConvTheorem.KernelSpectrum(weight, q, o, plan), fft.ReadSpectrum(FftSpectrum.Kernel, q), L1(frame), logPlane, $"kernel {q} -- {spec}");
        }
        for (int oc = 0; oc < cout; oc++)
        {
            double l = 0;
            for (int c = 0; c < cinPerGroup; c++)
                l += L1(ConvTheorem.InputFrame(input, oc / coutPerGroup * cinPerGroup + c, weight, o, plan)) * L1(ConvTheorem.KernelFrame(weight, oc * cinPerGroup + c, o, plan));
            AssertSpectrum(ConvTheorem.Product(input, weight, o, plan, oc), fft.ReadSpectrum(FftSpectrum.Product, oc), l, logPlane, $"product {oc} -- {spec}");
        }
        // And the one-tile frame still computes the convolution.
        Tensor expected = Conv2D.Apply(input, weight, bias, o);
        double m = input.Data.Max(MathF.Abs);
        for (int oc = 0; oc < cout; oc++)
        {
            double maxRef = 0;
            int plane = expected.H * expected.W;
            for (int i = oc * plane; i < (oc + 1) * plane; i++) maxRef = Math.Max(maxRef, Math.Abs(expected.Data[i]));
            double tol = ConvTheorem.Tolerance(ConvTheorem.KernelAbsSum(weight, bias, oc), m, maxRef, plan.Plane);
            for (int i = oc * plane; i < (oc + 1) * plane; i++)
                Assert.True(Math.Abs(expected.Data[i] - actual.Data[i]) <= tol, $"result at {i}: direct {expected.Data[i]}, fft {actual.Data[i]} (tolerance {tol:G3}) -- {spec}");
        }
    }

    // ---- worked examples ----

    [Fact]
    public void TwoByTwo_TimesTwo_HandCheckedSpectra()
    {
        // [[1, 2], [3, 4]] with a 1x1 kernel [2], valid: the frame is the image itself (2x2). Its DFT:
        // DC 1+2+3+4 = 10; (0,1) = (1-2)+(3-4) = -2; (1,0) = (1+2)-(3+4) = -4; (1,1) = 1-2-3+4 = 0.
        // The kernel's spectrum is flat 2, so the product is 20, -4, -8, 0, and the result 2, 4, 6, 8.
        var input = Tensor.Chw(1, 2, 2, [1, 2, 3, 4]);
        var weight = new Tensor([1, 1, 1, 1], [2]);
        using var fft = new GpuFftConv2D(fixture.Context, weight, null, new ConvOptions { Padding = PaddingMode.Valid }) { CaptureSpectra = true };
        Tensor result = fft.Apply(input);
        Assert.Equal((2, 2), (fft.LastPlan!.FrameH, fft.LastPlan.FrameW));
        double[] inputSpectrum = [10, -2, -4, 0], product = [20, -4, -8, 0];
        Complex[] a = fft.ReadSpectrum(FftSpectrum.Input, 0), k = fft.ReadSpectrum(FftSpectrum.Kernel, 0), p = fft.ReadSpectrum(FftSpectrum.Product, 0);
        for (int t = 0; t < 4; t++)
        {
            Assert.True((a[t] - inputSpectrum[t]).Magnitude < 1e-5, $"input spectrum [{t}] = {a[t]}, expected {inputSpectrum[t]}");
            Assert.True((k[t] - 2).Magnitude < 1e-6, $"kernel spectrum [{t}] = {k[t]}, expected 2");
            Assert.True((p[t] - product[t]).Magnitude < 1e-5, $"product [{t}] = {p[t]}, expected {product[t]}");
            Assert.Equal(2 * (t + 1), result.Data[t], 4);
        }
    }

    [Fact]
    public void DeltaKernel_HasAFlatMagnitudeSpectrum_AndLeavesTheInputsMagnitude()
    {
        // identity:3 is a 1 at (1, 1): at the frame's origin its spectrum is exp(-2 pi i (ky / F_h + kx / F_w)),
        // magnitude 1 at every frequency; the product's magnitude is then the input's.
        var rng = new Random(11_0101);
        Tensor input = Parity.Random(rng, 1, 13, 17);
        Tensor weight = KernelSource.Resolve("identity:3").Reshape(1, 1, 3, 3);
        using var fft = new GpuFftConv2D(fixture.Context, weight, null, ConvOptions.ImageFilter) { CaptureSpectra = true };
        fft.Apply(input);
        Complex[] k = fft.ReadSpectrum(FftSpectrum.Kernel, 0), a = fft.ReadSpectrum(FftSpectrum.Input, 0), p = fft.ReadSpectrum(FftSpectrum.Product, 0);
        for (int t = 0; t < k.Length; t++)
        {
            Assert.True(Math.Abs(k[t].Magnitude - 1) < 1e-6, $"|K| at {t} = {k[t].Magnitude}, expected 1");
            Assert.True(Math.Abs(p[t].Magnitude - a[t].Magnitude) < 1e-5 * (1 + a[t].Magnitude), $"|P| {p[t].Magnitude} vs |In| {a[t].Magnitude} at {t}");
        }
    }

    [Fact]
    public void BoxKernel_DcIsItsSum_AndNothingExceedsIt()
    {
        // box:5 is 25 taps of 1/25: the spectrum at DC is the kernel's sum, 1, and |K| <= sum |k| = 1 everywhere.
        // The input's DC is the sum of its padded frame.
        var rng = new Random(11_0102);
        Tensor input = Parity.Random(rng, 1, 11, 9);
        Tensor weight = KernelSource.Resolve("box:5").Reshape(1, 1, 5, 5);
        var o = new ConvOptions { Border = Border.Replicate };
        using var fft = new GpuFftConv2D(fixture.Context, weight, null, o) { CaptureSpectra = true };
        fft.Apply(input);
        Complex[] k = fft.ReadSpectrum(FftSpectrum.Kernel, 0), a = fft.ReadSpectrum(FftSpectrum.Input, 0);
        Assert.True((k[0] - 1).Magnitude < 1e-6, $"K[0] = {k[0]}, expected 1");
        Assert.All(k, z => Assert.True(z.Magnitude <= 1 + 1e-6, $"|K| = {z.Magnitude} > 1"));
        double frameSum = ConvTheorem.InputFrame(input, 0, weight, o, fft.LastPlan!).Sum(z => z.Real);
        Assert.True(Math.Abs(a[0].Real - frameSum) < 1e-4 && Math.Abs(a[0].Imaginary) < 1e-4, $"In[0] = {a[0]}, frame sum {frameSum}");
    }

    // ---- sweeps ----

    [Fact]
    public void Sweep_GpuSpectraEqualCpuSpectra_OddPrimePowerOfTwoSizes()
    {
        var rng = new Random(11_0103);
        (int H, int W)[] sizes = [(1, 1), (7, 13), (31, 17), (64, 64), (97, 101), (128, 40), (45, 32)];
        int[] kernels = [1, 2, 3, 5, 8, 15, 31];
        int ran = 0;
        foreach ((int h, int w) in sizes)
            foreach (int k in kernels)
            {
                if (k > 2 * Math.Max(h, w) + 1) continue;
                var o = new ConvOptions
                {
                    Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                    Border = Borders.All[rng.Next(5)],
                    Padding = rng.Next(3) == 0 ? PaddingMode.Full : PaddingMode.Same,
                    DilationY = 1 + rng.Next(2), DilationX = 1 + rng.Next(2),
                    StrideY = 1 + rng.Next(2), StrideX = 1,
                };
                int seed = rng.Next();
                var r = new Random(seed);
                int kw = Math.Max(1, k - r.Next(0, 2));
                Tensor input = Parity.Random(r, 1, h, w);
                Tensor weight = Parity.Random(r, 1f / k, 1, 1, k, kw);
                try
                {
                    ConvGeometry.Compute(h, w, k, kw, o);
                }
                catch (ConvGLException)
                {
                    continue;
                }
                Check(input, weight, r.Next(2) == 0 ? [0.25f] : null, o, $"seed={seed} in=({h},{w}) k=({k},{kw}) {o}");
                ran++;
            }
        // Channels, groups and banks: one input spectrum per channel shared by the bank, products summed over a group.
        Tensor rgb = Parity.Random(rng, 3, 19, 23);
        Check(rgb, Conv2D.DepthwiseWeight(KernelSource.Resolve("sobel-x"), 3), null, ConvOptions.ImageFilter with { Groups = 3 }, "depthwise sobel-x on rgb");
        Check(rgb, Parity.Random(rng, 0.3f, 4, 3, 5, 5), Parity.RandomVector(rng, 1f, 4), new ConvOptions { Border = Border.Wrap }, "dense 3->4 5x5, bias, wrap");
        Tensor six = Parity.Random(rng, 6, 16, 15);
        Check(six, Parity.Random(rng, 0.3f, 4, 3, 3, 3), null, new ConvOptions { Groups = 2, Border = Border.Symmetric }, "groups 2, 6->4");
        log.WriteLine($"{ran + 3} cases, worst |gpu - cpu| / (log2 plane * L) = {_worst:G3}");
        Assert.True(ran > 35, $"only {ran} cases ran");
    }

    // ---- the view's pass ----

    [Fact]
    public void TheoremPass_MaxDifference_EqualsTheCpusFromTheReadBackResults_AndSpectraMapsAreLogMagnitudesShifted()
    {
        var rng = new Random(11_0104);
        Tensor image = Parity.Random(rng, 0.5f, 3, 21, 26);
        for (int i = 0; i < image.Length; i++) image.Data[i] += 0.5f; // a picture in [0, 1]
        Tensor weight = Conv2D.DepthwiseWeight(KernelSource.Resolve("gabor:30,2,6"), 3);
        ConvOptions o = ConvOptions.ImageFilter with { Groups = 3 };
        using var input = GpuTensor.From(fixture.Context, image);
        using var pass = new TheoremPass(fixture.Context);
        for (int channel = 0; channel < 3; channel++)
        {
            pass.Run(input, weight, null, o, channel);
            TheoremFigures f = pass.ReadFigures();
            Tensor direct = pass.Direct.Download(), fftResult = pass.Fft.Download();
            // Only the shown output channel is computed: (1, H_out, W_out) each.
            Assert.Equal([1, image.H, image.W], direct.Shape);
            Assert.Equal(direct.Shape, fftResult.Shape);
            float cpuMax = 0;
            for (int i = 0; i < direct.Length; i++) cpuMax = Math.Max(cpuMax, Math.Abs(direct.Data[i] - fftResult.Data[i]));
            Assert.Equal(cpuMax, (float)f.MaxDifference);
            Assert.True(cpuMax > 0, "direct and FFT agree to the bit: the difference map would show nothing");
            Assert.True(f.Within, $"max |direct - fft| {f.MaxDifference:G3} above tolerance {f.Tolerance:G3}");
            // The tolerance's parts, independently: S = sum |gabor|, M = max |input channel|.
            Assert.Equal(ConvTheorem.KernelAbsSum(weight, null, channel), f.KernelAbsSum, 12);
            float m = 0;
            for (int i = channel * image.H * image.W; i < (channel + 1) * image.H * image.W; i++) m = Math.Max(m, Math.Abs(image.Data[i]));
            Assert.Equal(m, (float)f.MaxAbsInput);
            Tensor all = Conv2D.Apply(image, weight, null, o);
            int plane = all.H * all.W;
            Parity.AssertGpuMatchesReference(Tensor.Chw(1, all.H, all.W, all.Data.AsSpan(channel * plane, plane).ToArray()), direct, "theorem pass direct");

            // The spectrum maps: log(1 + |F|) of the CPU spectra, fftshifted.
            FftPlan plan = pass.Plan!;
            Tensor maps = pass.Spectra.Download();
            Assert.Equal([3, plan.FrameH, plan.FrameW], maps.Shape);
            Complex[][] cpu =
            [
                ConvTheorem.InputSpectrum(image, channel, weight, o, plan),
                ConvTheorem.KernelSpectrum(weight, channel, o, plan),
                ConvTheorem.Product(image, weight, o, plan, channel),
            ];
            for (int s = 0; s < 3; s++)
                for (int ky = 0; ky < plan.FrameH; ky++)
                    for (int kx = 0; kx < plan.FrameW; kx++)
                    {
                        double expected = ConvTheorem.LogMagnitude(cpu[s][ky * plan.FrameW + kx]);
                        float got = maps[s, ConvTheorem.Shifted(ky, plan.FrameH), ConvTheorem.Shifted(kx, plan.FrameW)];
                        Assert.True(Math.Abs(got - expected) < 2e-4 * (1 + expected), $"map {s} at frequency ({ky}, {kx}): {got} vs {expected}");
                    }
        }
        // DC sits in the middle: for the blur-free Gabor the input's brightest frequency is DC (a picture in [0, 1]).
        Tensor last = pass.Spectra.Download();
        FftPlan p = pass.Plan!;
        Assert.Equal(last.Data.Take(p.FrameH * p.FrameW).Max(), last[0, p.FrameH / 2, p.FrameW / 2]);
    }

    [Fact]
    public void TheoremPass_MixingLayer_ShowsOneOutputChannel_OfItsGroup_EqualToTheFullConvolution()
    {
        // 4 input channels in 2 groups, 6 outputs (3 per group), with bias, stride 2, zero border: output channel 4
        // reads input channels 2 and 3 (the second group), kernels 8 and 9.
        var rng = new Random(11_0106);
        Tensor image = Parity.Random(rng, 4, 23, 19);
        Tensor weight = Parity.Random(rng, 6, 2, 5, 3);
        float[] bias = [0.1f, -0.2f, 0.3f, -0.4f, 0.5f, -0.6f];
        var o = new ConvOptions { Groups = 2, StrideY = 2, StrideX = 2, Border = Border.Symmetric, Mode = ConvMode.Convolve };
        using var input = GpuTensor.From(fixture.Context, image);
        using var pass = new TheoremPass(fixture.Context);
        pass.Run(input, weight, bias, o, 4);
        Assert.Equal((4, 2, 8), (pass.OutputChannel, pass.InputChannel, pass.Kernel));
        Tensor all = Conv2D.Apply(image, weight, bias, o);
        int plane = all.H * all.W;
        var expected = Tensor.Chw(1, all.H, all.W, all.Data.AsSpan(4 * plane, plane).ToArray());
        Parity.AssertGpuMatchesReference(expected, pass.Direct.Download(), "direct, channel 4");
        TheoremFigures f = pass.ReadFigures();
        Assert.True(f.Within, $"max |direct - fft| {f.MaxDifference:G3} above tolerance {f.Tolerance:G3}");
        Assert.Equal(ConvTheorem.KernelAbsSum(weight, bias, 4), f.KernelAbsSum, 12);
        // The product map is that of Core's theorem for output channel 4 (the sum over the group's two channels).
        FftPlan plan = pass.Plan!;
        Assert.Equal(ConvTheorem.Plan(image, weight, o), plan);
        Complex[] product = ConvTheorem.Product(image, weight, o, plan, 4);
        Tensor maps = pass.Spectra.Download();
        for (int t = 0; t < product.Length; t += 7)
        {
            int ky = t / plan.FrameW, kx = t % plan.FrameW;
            double e = ConvTheorem.LogMagnitude(product[t]);
            float got = maps[2, ConvTheorem.Shifted(ky, plan.FrameH), ConvTheorem.Shifted(kx, plan.FrameW)];
            Assert.True(Math.Abs(got - e) < 2e-4 * (1 + e), $"product map at ({ky}, {kx}): {got} vs {e}");
        }
    }

    [Fact]
    public void TheoremPass_SameInputVersion_SkipsTheWork_ANewVersionOrChannelRunsIt()
    {
        var rng = new Random(11_0107);
        Tensor image = Parity.Random(rng, 3, 17, 22);
        Tensor weight = Conv2D.DepthwiseWeight(KernelSource.Resolve("gaussian:5"), 3);
        ConvOptions o = ConvOptions.ImageFilter with { Groups = 3 };
        using var input = GpuTensor.From(fixture.Context, image);
        using var pass = new TheoremPass(fixture.Context);
        pass.Run(input, weight, null, o, 0, inputVersion: 1);
        Tensor first = pass.Direct.Download();
        // New pixels under the same version: the caller says nothing changed, so nothing is recomputed.
        Tensor doubled = image.Clone();
        for (int i = 0; i < doubled.Length; i++) doubled.Data[i] *= 2;
        input.Upload(doubled);
        pass.Run(input, weight, null, o, 0, inputVersion: 1);
        Assert.Equal(1, pass.Computed);
        Assert.Equal(first.Data, pass.Direct.Download().Data);
        // A new version recomputes (the result doubles: a linear filter), and so does another channel.
        pass.Run(input, weight, null, o, 0, inputVersion: 2);
        Assert.Equal(2, pass.Computed);
        Tensor second = pass.Direct.Download();
        for (int i = 0; i < first.Length; i++) Assert.Equal(2 * first.Data[i], second.Data[i], 5);
        pass.Run(input, weight, null, o, 1, inputVersion: 2);
        Assert.Equal(3, pass.Computed);
        Assert.Equal(1, pass.OutputChannel);
    }

    [Fact]
    public void TheoremPass_Scanline_IsCoresOneDimensionalTheoremOnTheRowUnderTheKernelsCentre()
    {
        var rng = new Random(11_0108);
        Tensor image = Parity.Random(rng, 3, 29, 41);
        Tensor weight = Parity.Random(rng, 3, 1, 7, 9);
        var o = new ConvOptions { Groups = 3, Border = Border.Reflect, Mode = ConvMode.Convolve, DilationX = 2 };
        using var input = GpuTensor.From(fixture.Context, image);
        using var pass = new TheoremPass(fixture.Context);
        pass.Run(input, weight, null, o, 2);
        ConvGeometry g = ConvGeometry.Compute(29, 41, 7, 9, o);
        var taps = new float[9];
        ScanlineTheorem.KernelRow(weight, 2, 3, o, taps);
        var line = new ScanlineTheorem();
        foreach (int y in new[] { 0, 13, 28, 99 })
        {
            pass.RunScanline(input, y);
            int row = Math.Min(y, 28), r = ScanlineTheorem.InputRow(row, 29, 3, o, g.Y);
            Assert.Equal((row, r, 3), (pass.ScanlineOutputRow, pass.ScanlineInputRow, pass.ScanlineKernelRow));
            float[] inputRow = [.. Enumerable.Range(0, 41).Select(x => image[2, r, x])];
            line.Run(inputRow, taps, o.Border, g.X, 1, 2);
            Tensor results = pass.ScanlineResults.Download(), spectra = pass.ScanlineSpectra.Download();
            Assert.Equal([2, 1, 41], results.Shape);
            Assert.Equal([3, 1, line.Frame], spectra.Shape);
            for (int x = 0; x < 41; x++)
            {
                Assert.Equal((float)line.Direct[x], results[0, 0, x]);
                Assert.Equal((float)line.ByFft[x], results[1, 0, x]);
            }
            Assert.Equal(line.MaxDifference, pass.Scanline.MaxDifference);
            Assert.True(line.MaxDifference < 1e-12);
            // Each spectrum curve is divided by its maximum: it peaks at 1.
            for (int s = 0; s < 3; s++) Assert.Equal(1f, Enumerable.Range(0, line.Frame).Max(k => spectra[s, 0, k]), 5);
        }
    }

    [Fact]
    public void TheoremPass_ReadBin_IsTheCapturedSpectraAtThatFrequency_NegativeFrequenciesWrapping()
    {
        var rng = new Random(11_0109);
        Tensor image = Parity.Random(rng, 0.5f, 3, 14, 18);
        Tensor weight = Conv2D.DepthwiseWeight(KernelSource.Resolve("gabor:30,2,6"), 3);
        ConvOptions o = ConvOptions.ImageFilter with { Groups = 3 };
        using var input = GpuTensor.From(fixture.Context, image);
        using var pass = new TheoremPass(fixture.Context);
        pass.Run(input, weight, null, o, 1);
        FftPlan plan = pass.Plan!;
        Complex[] a = pass.FftOp!.ReadSpectrum(FftSpectrum.Input, 0), k = pass.FftOp.ReadSpectrum(FftSpectrum.Kernel, 0),
                  p = pass.FftOp.ReadSpectrum(FftSpectrum.Product, 0);
        // And against Core's theorem for channel 1 (the pass's one-channel convolution is channel 1's).
        Complex[] cpu = ConvTheorem.Product(image, weight, o, plan, 1);
        foreach ((int ky, int kx) in new[] { (0, 0), (1, 2), (-1, -3), (plan.FrameH / 2, -plan.FrameW / 2), (plan.FrameH - 1, 5) })
        {
            int t = (ky + plan.FrameH) % plan.FrameH * plan.FrameW + (kx + plan.FrameW) % plan.FrameW;
            (Complex bi, Complex bk, Complex bp) = pass.ReadBin(ky, kx);
            Assert.Equal((a[t], k[t], p[t]), (bi, bk, bp));
            Assert.True((bp - cpu[t]).Magnitude < 1e-3 * (1 + cpu[t].Magnitude), $"product at ({ky}, {kx}): GPU {bp}, CPU {cpu[t]}");
        }
        // DC of a picture's spectrum is its padded frame's sum: real.
        Assert.Equal(0, pass.ReadBin(0, 0).Input.Imaginary, 3);
    }

    [Fact]
    public void RepeatedRuns_AllocateNothing()
    {
        var rng = new Random(11_0105);
        Tensor image = Parity.Random(rng, 3, 40, 52);
        Tensor weight = Conv2D.DepthwiseWeight(KernelSource.Resolve("gaussian:9"), 3);
        ConvOptions o = ConvOptions.ImageFilter with { Groups = 3 };
        using var input = GpuTensor.From(fixture.Context, image);
        using var output = new GpuTensor(fixture.Context);
        foreach (bool capture in new[] { false, true })
        {
            using var fft = new GpuFftConv2D(fixture.Context, weight, null, o) { CaptureSpectra = capture };
            fft.Run(input, output);
            fft.Run(input, output);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++) fft.Run(input, output);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated == 0, $"5 runs (capture={capture}) allocated {allocated} bytes");
        }
        using var pass = new TheoremPass(fixture.Context);
        pass.Run(input, weight, null, o, 1);
        pass.RunScanline(input, 0);
        pass.Run(input, weight, null, o, 1);
        pass.RunScanline(input, 1);
        long start = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
        {
            pass.Run(input, weight, null, o, 1);
            pass.RunScanline(input, i);
        }
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - start == 0, $"5 theorem passes allocated {GC.GetAllocatedBytesForCurrentThread() - start} bytes");
    }
}
