using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>GPU FFT convolution == the direct CPU reference (<see cref="Conv2D.Apply"/>) for every option.
///
/// Tolerance: a float32 FFT spreads rounding over the whole frame, so the error of an output does not scale with
/// that output but with what went into the transforms: for output channel o,
///     |gpu - ref| &lt;= 1e-5 + 1e-4 |ref| + 2e-7 * log2(F_h F_w) * S_o * M
/// where S_o = sum over o's kernels of |w| (plus |bias|), M = max |input|, F_h x F_w the frame. The constant is
/// ~4x the worst error measured over these sweeps (4.7e-8) (2^-24 = 6e-8 per operation, a few operations per pass).</summary>
[Collection(GlCollection.Name)]
public sealed class FftConv2DTests(GlFixture fixture, ITestOutputHelper log)
{
    private const double PerLogTexel = 2e-7;
    private const long MaxTaps = 4_000_000;
    private double _worstRatio;

    /// <summary>Runs one case on both sides; false when the reference rejects the geometry (no output).</summary>
    private bool Check(Tensor input, Tensor weight, float[]? bias, ConvOptions o, string spec, long? maxFrameTexels = null, int minBands = 1)
    {
        Tensor expected;
        try
        {
            // The direct reference is a plain loop nest (~60 ns a tap here): past a few million taps the case is
            // checked against Core's FftConv2D instead, the double-precision FFT that Core's tests prove equal to it.
            ConvGeometry geometry = ConvGeometry.Compute(input.H, input.W, weight.Shape[2], weight.Shape[3], o);
            bool direct = (long)geometry.Y.Output * geometry.X.Output * weight.Length <= MaxTaps;
            expected = direct ? Conv2D.Apply(input, weight, bias, o) : FftConv2D.Apply(input, weight, bias, o);
            spec += direct ? " [vs Conv2D]" : " [vs FftConv2D]";
        }
        catch (ConvGLException)
        {
            return false;
        }
        using var fft = new GpuFftConv2D(fixture.Context, weight, bias, o) { MaxFrameTexels = maxFrameTexels };
        Tensor actual = fft.Apply(input);
        Assert.True(expected.SameShape(actual), $"shape: reference {expected.ShapeString}, GPU {actual.ShapeString} -- {spec}");
        FftPlan plan = fft.LastPlan!;
        Assert.True(plan.Bands >= minBands, $"{plan.Bands} band(s), expected at least {minBands} -- {spec}");
        if (maxFrameTexels is { } cap && plan.Bands > 1) Assert.True(plan.Plane <= cap, $"frame {plan.FrameH}x{plan.FrameW} passes {cap} texels -- {spec}");
        spec += $" [{plan.Bands} band(s) of {plan.TileRows}-row tiles in {plan.FrameH}x{plan.FrameW}]";
        double m = input.Data.Max(MathF.Abs);
        int cout = weight.Shape[0], per = weight.Length / cout, plane = expected.H * expected.W;
        double logFrame = Math.Log2(Math.Max(2, plan.Plane));
        for (int oc = 0; oc < cout; oc++)
        {
            double s = Math.Abs(bias?[oc] ?? 0);
            for (int i = 0; i < per; i++) s += Math.Abs(weight.Data[oc * per + i]);
            double allowed = PerLogTexel * logFrame * s * m;
            for (int i = oc * plane; i < (oc + 1) * plane; i++)
            {
                double r = expected.Data[i], g = actual.Data[i], err = Math.Abs(g - r);
                if (s * m > 0) _worstRatio = Math.Max(_worstRatio, err / (logFrame * s * m));
                if (!(err <= 1e-5 + 1e-4 * Math.Abs(r) + allowed))
                {
                    int y = (i - oc * plane) / expected.W, x = (i - oc * plane) % expected.W;
                    Assert.Fail($"at ({oc}, {y}, {x}): reference {r:R}, GPU {g:R}, |diff| {err:G3} > allowed {1e-5 + 1e-4 * Math.Abs(r) + allowed:G3} " +
                                $"(S={s:G4}, M={m:G3}, frame {plan.FrameH}x{plan.FrameW}) -- {spec}");
                }
            }
        }
        return true;
    }

    private bool CheckRandom(Random rng, int cin, int cout, int h, int w, int kh, int kw, ConvOptions o, bool bias,
                             long? maxFrameTexels = null, int minBands = 1)
    {
        int seed = rng.Next();
        var r = new Random(seed);
        Tensor input = Parity.Random(r, cin, h, w);
        int cinPerGroup = cin / o.Groups;
        Tensor weight = Parity.Random(r, 1f / MathF.Sqrt(cinPerGroup * kh * kw), cout, cinPerGroup, kh, kw);
        float[]? b = bias ? Parity.RandomVector(r, 1f, cout) : null;
        return Check(input, weight, b, o, $"seed={seed} in=({cin},{h},{w}) weight=({cout},{cinPerGroup},{kh},{kw}) bias={bias} {o}",
                     maxFrameTexels, minBands);
    }

    // ---- worked examples ----

    [Fact]
    public void O1H1W4I1_OneHotTaps_ReadEveryBorderAsNpPad()
    {
        // As Conv2DTests' direct version: a 1x7 one-hot kernel at tap 0, same padding (3 each side), reads in_pad[x - 3].
        var input = Tensor.Chw(1, 1, 4, [1, 2, 3, 4]);
        var weight = new Tensor([1, 1, 1, 7], [1, 0, 0, 0, 0, 0, 0]);
        (Border Border, float[] Expected)[] cases =
        [
            (Border.Zero, [0, 0, 0, 1]), (Border.Replicate, [1, 1, 1, 1]), (Border.Reflect, [4, 3, 2, 1]),
            (Border.Symmetric, [3, 2, 1, 1]), (Border.Wrap, [2, 3, 4, 1]),
        ];
        foreach ((Border border, float[] expected) in cases)
        {
            using var fft = new GpuFftConv2D(fixture.Context, weight, null, new ConvOptions { Border = border });
            float[] got = fft.Apply(input).Data;
            for (int i = 0; i < 4; i++) Assert.True(Math.Abs(got[i] - expected[i]) < 1e-5, $"{border.Name()}: [{string.Join(", ", got)}] vs [{string.Join(", ", expected)}]");
        }
    }

    [Fact]
    public void EdgeKernel_CorrelateMinus6_ConvolvePlus6()
    {
        // DESIGN's [[1,0,-1]]x3 on a left-dark, right-bright ramp: -6 correlated, +6 convolved at the centre.
        var input = Tensor.Chw(1, 3, 3, [0, 1, 2, 0, 1, 2, 0, 1, 2]);
        var weight = new Tensor([1, 1, 3, 3], [1, 0, -1, 1, 0, -1, 1, 0, -1]);
        using var fft = new GpuFftConv2D(fixture.Context, weight, null, new ConvOptions { Padding = PaddingMode.Valid });
        Assert.Equal(-6f, fft.Apply(input).Data[0], 4);
        fft.Options = fft.Options with { Mode = ConvMode.Convolve };
        Assert.Equal(6f, fft.Apply(input).Data[0], 4);
    }

    // ---- sweeps ----

    [Fact]
    public void Sweep_SizesAndKernels_EveryBorderAndPadding()
    {
        // Sizes odd, prime, power of two; kernels 1..127 (large ones on small images so the reference stays fast);
        // every border, padding and mode, single channel.
        var rng = new Random(11_0001);
        (int H, int W)[] sizes = [(1, 1), (7, 13), (31, 17), (64, 64), (97, 101), (128, 40)];
        int[] kernels = [1, 2, 3, 5, 8, 15, 31, 63, 127];
        PaddingMode[] paddings = Enum.GetValues<PaddingMode>();
        int ran = 0;
        foreach ((int h, int w) in sizes)
            foreach (int k in kernels)
            {
                var o = new ConvOptions
                {
                    Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                    Border = Borders.All[rng.Next(5)],
                    Padding = paddings[rng.Next(paddings.Length)],
                    PadY = rng.Next(0, k + 2), PadX = rng.Next(0, k + 2),
                };
                int kw = Math.Max(1, k - rng.Next(0, 3));
                if (CheckRandom(rng, 1, 1, h, w, k, kw, o, rng.Next(2) == 0)) ran++;
            }
        foreach (Border border in Borders.All)
            foreach (PaddingMode padding in paddings)
                if (CheckRandom(rng, 1, 1, 37, 29, 9, 11, new ConvOptions { Border = border, Padding = padding, PadY = 6, PadX = 3 }, false)) ran++;
        log.WriteLine($"{ran} cases, worst error / (log2 frame * S * M) = {_worstRatio:G3}");
        Assert.True(ran > 60, $"only {ran} cases had an output");
    }

    [Fact]
    public void Sweep_StrideDilationChannelsGroupsBanks()
    {
        var rng = new Random(11_0002);
        PaddingMode[] paddings = Enum.GetValues<PaddingMode>();
        (int H, int W)[] sizes = [(5, 5), (17, 23), (40, 33), (64, 64)];
        int ran = 0;
        for (int n = 0; n < 120; n++)
        {
            (int h, int w) = sizes[rng.Next(sizes.Length)];
            int cin = rng.Next(1, 7);
            int groupChoice = rng.Next(3);
            int groups = groupChoice == 0 ? 1 : groupChoice == 1 ? Divisors(cin)[rng.Next(Divisors(cin).Length)] : cin;
            int cout = groups * rng.Next(1, 4); // banks: several kernels per group
            var o = new ConvOptions
            {
                Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                Border = Borders.All[rng.Next(5)],
                Padding = paddings[rng.Next(paddings.Length)],
                PadY = rng.Next(0, 6), PadX = rng.Next(0, 6),
                StrideY = rng.Next(1, 4), StrideX = rng.Next(1, 4),
                DilationY = rng.Next(1, 4), DilationX = rng.Next(1, 4),
                Groups = groups,
            };
            if (CheckRandom(rng, cin, cout, h, w, rng.Next(1, 12), rng.Next(1, 12), o, rng.Next(2) == 0)) ran++;
        }
        log.WriteLine($"{ran} cases, worst error / (log2 frame * S * M) = {_worstRatio:G3}");
        Assert.True(ran > 70, $"only {ran} of 120 random cases had an output");
    }

    [Fact]
    public void Bands_FramesCutToALimit_EqualTheReference_EveryOption()
    {
        // Where the frames of a whole input would pass the driver's largest buffer, the dense rows run in bands through
        // smaller frames (FftPlan.Bands). The limit is forced low here so small inputs take 2..many bands: every border
        // (the band's rows read the border map at their own offset), strides (a band's first row need not be sampled),
        // dilation, padding, groups and bias, tile heights down to one row.
        var rng = new Random(11_0003);
        PaddingMode[] paddings = Enum.GetValues<PaddingMode>();
        (int H, int W)[] sizes = [(9, 7), (17, 23), (40, 33), (64, 31), (97, 16)];
        int ran = 0, banded = 0;
        for (int n = 0; n < 60; n++)
        {
            (int h, int w) = sizes[rng.Next(sizes.Length)];
            int cin = rng.Next(1, 5), groups = rng.Next(2) == 0 ? 1 : cin, cout = groups * rng.Next(1, 3);
            int kh = rng.Next(1, 10), kw = rng.Next(1, 10);
            var o = new ConvOptions
            {
                Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                Border = Borders.All[rng.Next(5)],
                Padding = paddings[rng.Next(paddings.Length)],
                PadY = rng.Next(0, 5), PadX = rng.Next(0, 5),
                StrideY = rng.Next(1, 4), StrideX = rng.Next(1, 3),
                DilationY = rng.Next(1, 3), DilationX = rng.Next(1, 3),
                Groups = groups,
            };
            // A frame a few tile rows tall: the frame's width times the kernel's reach plus 1..8 rows.
            int dkh = o.DilationY * (kh - 1) + 1, dkw = o.DilationX * (kw - 1) + 1;
            long frameW = FftPlan.GoodSize(w + 2 * dkw + 8);
            long cap = frameW * FftPlan.GoodSize(dkh + rng.Next(1, 9));
            if (!CheckRandom(rng, cin, cout, h, w, kh, kw, o, rng.Next(2) == 0, cap)) continue;
            ran++;
        }
        // A tall picture in one-row tiles (8 columns: 16-wide frames, 3 rows for a 3-tall kernel), and a 1080-row one in
        // a few bands: the band count as planned.
        foreach ((int h, int w, int k, long cap, int bands) in new[] { (64, 8, 3, 16L * 3, 16), (1080, 24, 5, 32L * 256, 2) })
        {
            Assert.True(CheckRandom(rng, 2, 2, h, w, k, k, new ConvOptions { Border = Border.Reflect, Groups = 2 }, true, cap, bands));
            banded++;
        }
        log.WriteLine($"{ran} random cases, {banded} planned, worst error / (log2 frame * S * M) = {_worstRatio:G3}");
        Assert.True(ran > 35, $"only {ran} of 60 random cases had an output");
    }

    private static int[] Divisors(int n) => Enumerable.Range(1, n).Where(d => n % d == 0).ToArray();
}
