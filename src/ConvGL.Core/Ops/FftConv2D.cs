using System.Numerics;

namespace ConvGL.Core.Ops;

/// <summary>2D convolution by the convolution theorem, for the same cases as <see cref="Conv2D.Apply"/>: every
/// padding mode, stride and dilation per axis, multi-channel with groups and bias, correlate and convolve.
/// It exists to cross-check the direct reference with an independent computation.
///
/// The dense (stride 1) correlation of the padded input with the dilated kernel is computed by FFT, then
/// sampled every stride. How the border enters:
/// - zero: a linear convolution. Input and flipped dilated kernel are zero-padded to powers of two at least
///   H + kH' - 1 by W + kW' - 1 (kH' = d*(kH-1)+1), so the circular product has no wrap-around.
/// - wrap: a circular correlation with an exact H x W DFT (Bluestein for lengths that are not powers of two);
///   a dilated kernel larger than the image is folded modulo (H, W) first, which is what periodic padding means.
/// - replicate, reflect, symmetric: the input is padded explicitly (<see cref="Borders.Pad"/>) and the
///   zero-border path runs with valid padding on that copy.
/// A picture whose frame would pass <see cref="MaxFrameTexels"/> (a 16384x8192 picture's is 2^29 values, 8 GiB) runs in
/// bands of output rows instead (<see cref="Plan"/>): the input padded explicitly by its border (wrap too: periodic
/// padding), then each band a valid correlation of the padded rows it reads, through a frame of that band's height.</summary>
public static class FftConv2D
{
    /// <summary>The most complex values (16 bytes each) one frame may hold before the rows run in bands: 2^20, 16 MiB. Bands
    /// are not slower (2026-12-05, one core: 2048x2048 under a 31x31 kernel 1.9 s in 11 bands of 4096x256 frames, 3.9 s in
    /// one 4096x4096 frame, whose power-of-two sides also hold more padding); a band must hold 2 dkH - 1 rows besides its own.</summary>
    public const long MaxFrameTexels = 1L << 20;

    /// <summary>The frame (height, width) the CPU transforms in for an (H, W) input and a (kH, kW) kernel, and the bands
    /// of output rows it runs in (1: the whole picture at once, as the class comment says; more: each band's frame, its
    /// rows <paramref name="BandRows"/> output rows). Pure: the cost model and apply's memory check read it.</summary>
    public readonly record struct CpuPlan(int FrameH, int FrameW, int Bands, int BandRows)
    {
        public long Plane => (long)FrameH * FrameW;
    }

    /// <summary>The longest frame side (before rounding up to a power of two) the CPU FFT plans: 2^28.</summary>
    public const long MaxFrameSide = 1L << 28;

    /// <summary>The plan <see cref="Apply(Tensor, Tensor, float[], ConvOptions, long)"/> runs: a whole-picture frame where it holds at most
    /// <paramref name="maxFrameTexels"/>, else the fewest bands whose frame does, a frame at least 8 dkH rows tall (a taller
    /// kernel's bands pass the limit); the whole frame where one such band would hold every row. A frame side past
    /// <see cref="MaxFrameSide"/> is an error (no FFT for that kernel and input).</summary>
    public static CpuPlan Plan(int h, int w, int kh, int kw, ConvOptions options, long maxFrameTexels = MaxFrameTexels)
    {
        ConvGeometry g = ConvGeometry.Compute(h, w, kh, kw, options);
        // The frame's sides before rounding up, in long: a dilation of 10^9 overflowed them (a hostile-input audit: a
        // negative side made a frame of 1 and the padded copy failed inside the tensor constructor; a side past 2^30 made
        // the power-of-two search loop forever). Past MaxFrameSide there is no frame: the FFT is not a candidate.
        long dkhL = (long)options.DilationY * (kh - 1) + 1, dkwL = (long)options.DilationX * (kw - 1) + 1;
        long sideH = options.Border == Border.Wrap ? h : h + dkhL - 1 + (options.Border == Border.Zero ? 0 : (long)g.Y.PadBefore + g.Y.PadAfter);
        long sideW = options.Border == Border.Wrap ? w : w + dkwL - 1 + (options.Border == Border.Zero ? 0 : (long)g.X.PadBefore + g.X.PadAfter);
        if (sideH > MaxFrameSide || sideW > MaxFrameSide || 8 * dkhL > MaxFrameSide)
            throw new ConvGLException($"the FFT of a {kh}x{kw} kernel spanning {dkwL}x{dkhL} pixels (dilation {options.DilationX}x{options.DilationY}) on a {w}x{h} input " +
                                      $"needs frames of at least {sideW}x{sideH}, past the FFT's {MaxFrameSide} a side (use --algorithm direct)");
        int dkh = (int)dkhL, dkw = (int)dkwL;
        int ph = h + g.Y.PadBefore + g.Y.PadAfter, pw = w + g.X.PadBefore + g.X.PadAfter;
        (int fh, int fw) = options.Border switch
        {
            Border.Wrap => (h, w),
            Border.Zero => (Fft.NextPowerOfTwo(h + dkh - 1), Fft.NextPowerOfTwo(w + dkw - 1)),
            _ => (Fft.NextPowerOfTwo(ph + dkh - 1), Fft.NextPowerOfTwo(pw + dkw - 1)),
        };
        int outH = g.Y.Output;
        if ((long)fh * fw <= maxFrameTexels) return new CpuPlan(fh, fw, 1, outH);
        // Banded: valid correlations of padded row slices, (R - 1) sy + dkH rows for R output rows.
        int bandW = Fft.NextPowerOfTwo(pw + dkw - 1);
        int FrameRows(int rows) => Fft.NextPowerOfTwo((rows - 1) * options.StrideY + 2 * dkh - 1);
        // The tallest power-of-two frame that fits, but at least 8 dkH rows, so that three quarters of it at least are the
        // band's own rows (a 501-tall kernel in frames of 1024 rows ran one output row a band); then the most output rows
        // whose slice fits in it.
        long f = 1;
        while (2 * f * bandW <= maxFrameTexels) f *= 2;
        f = Math.Max(f, Fft.NextPowerOfTwo(8 * dkh));
        long most = (f - 2 * dkh + 1) / options.StrideY + 1;
        if (most >= outH) return new CpuPlan(fh, fw, 1, outH);
        int r = (int)Math.Max(1, most);
        int bands = (outH + r - 1) / r;
        r = (outH + bands - 1) / bands; // evened out: never taller, so the frame still fits
        return new CpuPlan(FrameRows(r), bandW, bands, r);
    }

    public static Tensor Apply(Tensor input, Tensor weight, float[]? bias, ConvOptions options) =>
        Apply(input, weight, bias, options, MaxFrameTexels);

    /// <summary><see cref="Apply(Tensor, Tensor, float[], ConvOptions)"/> with another frame limit (tests force bands).</summary>
    public static Tensor Apply(Tensor input, Tensor weight, float[]? bias, ConvOptions options, long maxFrameTexels)
    {
        Conv2D.CheckShapes(input, weight, bias, options);
        int h = input.H, w = input.W;
        int kh = weight.Shape[2], kw = weight.Shape[3];
        ConvGeometry g = ConvGeometry.Compute(h, w, kh, kw, options);
        Tensor wgt = options.Mode == ConvMode.Convolve ? Conv2D.Rot180(weight) : weight;
        CpuPlan plan = Plan(h, w, kh, kw, options, maxFrameTexels);
        if (plan.Bands > 1) return Banded(input, wgt, bias, options, g, plan);

        if (options.Border is Border.Replicate or Border.Reflect or Border.Symmetric)
        {
            Tensor padded = Borders.Pad(input, g.Y.PadBefore, g.Y.PadAfter, g.X.PadBefore, g.X.PadAfter, options.Border);
            ConvOptions valid = options with { Border = Border.Zero, Padding = PaddingMode.Valid, Mode = ConvMode.Correlate };
            return Run(padded, wgt, bias, valid, ConvGeometry.Compute(padded.H, padded.W, kh, kw, valid));
        }
        return Run(input, wgt, bias, options, g);
    }

    /// <summary>Output rows in bands: the input padded by its border once, then per band the valid correlation of the
    /// padded rows its outputs read (output row y reads padded rows y sy .. y sy + dkH - 1), in that band's frame.</summary>
    private static Tensor Banded(Tensor input, Tensor weight, float[]? bias, ConvOptions o, ConvGeometry g, CpuPlan plan)
    {
        Tensor padded = Borders.Pad(input, g.Y.PadBefore, g.Y.PadAfter, g.X.PadBefore, g.X.PadAfter, o.Border);
        int kh = weight.Shape[2], kw = weight.Shape[3], dkh = o.DilationY * (kh - 1) + 1;
        ConvOptions valid = o with { Border = Border.Zero, Padding = PaddingMode.Valid, Mode = ConvMode.Correlate };
        var output = Tensor.Chw(weight.Shape[0], g.Y.Output, g.X.Output);
        int planeOut = g.Y.Output * g.X.Output, rowOut = g.X.Output, planeIn = padded.H * padded.W;
        // The bands' spectra in the same arrays (a 16384x8192 picture's 84 bands left 16 GB of them to the GC).
        var work = new Spectra();
        for (int y0 = 0; y0 < g.Y.Output; y0 += plan.BandRows)
        {
            int rows = Math.Min(plan.BandRows, g.Y.Output - y0);
            int first = y0 * o.StrideY, count = (rows - 1) * o.StrideY + dkh;
            var slice = Tensor.Chw(padded.C, count, padded.W);
            for (int c = 0; c < padded.C; c++)
                Array.Copy(padded.Data, c * planeIn + first * padded.W, slice.Data, c * count * padded.W, count * padded.W);
            Tensor band = Run(slice, weight, bias, valid, ConvGeometry.Compute(count, padded.W, kh, kw, valid), work);
            for (int c = 0; c < output.C; c++)
                Array.Copy(band.Data, c * rows * rowOut, output.Data, c * planeOut + y0 * rowOut, rows * rowOut);
        }
        return output;
    }

    /// <summary>An image filter by FFT: one (kH, kW) kernel on every channel alone (depthwise).</summary>
    public static Tensor Filter(Tensor image, Tensor kernel, ConvOptions options) =>
        Apply(image, Conv2D.DepthwiseWeight(kernel, image.C), null, options with { Groups = image.C });

    /// <summary>Frame-sized complex arrays kept from one band to the next: array <c>slot</c> of length n, zeroed.</summary>
    private sealed class Spectra
    {
        private readonly List<Complex[]> _arrays = [];

        public Complex[] Zeroed(int slot, int n)
        {
            while (_arrays.Count <= slot) _arrays.Add([]);
            if (_arrays[slot].Length != n) _arrays[slot] = new Complex[n];
            else Array.Clear(_arrays[slot]);
            return _arrays[slot];
        }
    }

    /// <summary>Zero or wrap border, correlate orientation (the weight is already flipped for convolve).
    /// <paramref name="work"/>: arrays to reuse (bands), else fresh ones.</summary>
    private static Tensor Run(Tensor input, Tensor weight, float[]? bias, ConvOptions o, ConvGeometry g, Spectra? work = null)
    {
        int cin = input.C, h = input.H, w = input.W;
        int cout = weight.Shape[0], cinPerGroup = weight.Shape[1], kh = weight.Shape[2], kw = weight.Shape[3];
        int coutPerGroup = cout / o.Groups;
        int dkh = o.DilationY * (kh - 1) + 1, dkw = o.DilationX * (kw - 1) + 1;
        bool circular = o.Border == Border.Wrap;
        // Transform size: exact for circular, else a power of two that holds the full linear result.
        int fh = circular ? h : Fft.NextPowerOfTwo(h + dkh - 1);
        int fw = circular ? w : Fft.NextPowerOfTwo(w + dkw - 1);

        var inputSpectra = new Complex[cin][];
        for (int c = 0; c < cin; c++)
        {
            Complex[] s = work?.Zeroed(c, fh * fw) ?? new Complex[fh * fw];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) s[y * fw + x] = input[c, y, x];
            Fft.Forward2D(s, fh, fw);
            inputSpectra[c] = s;
        }

        var output = Tensor.Chw(cout, g.Y.Output, g.X.Output);
        Complex[] acc = work?.Zeroed(cin, fh * fw) ?? new Complex[fh * fw];
        Complex[] ker = work?.Zeroed(cin + 1, fh * fw) ?? new Complex[fh * fw];
        for (int o2 = 0; o2 < cout; o2++)
        {
            Array.Clear(acc);
            int firstInput = o2 / coutPerGroup * cinPerGroup;
            for (int c = 0; c < cinPerGroup; c++)
            {
                Array.Clear(ker);
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++)
                    {
                        double v = weight.Data[((o2 * cinPerGroup + c) * kh + i) * kw + j];
                        int di = i * o.DilationY, dj = j * o.DilationX;
                        if (circular)
                            ker[di % fh * fw + dj % fw] += v; // fold: periodic padding sees the kernel modulo the image
                        else
                            ker[(dkh - 1 - di) * fw + (dkw - 1 - dj)] += v; // flipped: correlation as a convolution
                    }
                Fft.Forward2D(ker, fh, fw);
                Complex[] spectrum = inputSpectra[firstInput + c];
                for (int k = 0; k < acc.Length; k++)
                    acc[k] += circular ? Complex.Conjugate(ker[k]) * spectrum[k] : ker[k] * spectrum[k];
            }
            Fft.Inverse2D(acc, fh, fw);

            double b = bias?[o2] ?? 0.0;
            for (int y = 0; y < g.Y.Output; y++)
            {
                // Dense row Y = y*s in padded coordinates; the input row of the kernel's first tap is Y - padBefore.
                int top = y * o.StrideY - g.Y.PadBefore;
                for (int x = 0; x < g.X.Output; x++)
                {
                    int left = x * o.StrideX - g.X.PadBefore;
                    double v;
                    if (circular)
                    {
                        // corr[m] = sum_u k[u] in[(m + u) mod n]: read at m = top (mod n).
                        v = acc[Mod(top, h) * fw + Mod(left, w)].Real;
                    }
                    else
                    {
                        // full[m] = sum_a in[m - a] kflip[a] = sum_u k[u] in[m - (dk-1) + u]: read at m = top + dk - 1.
                        int fy = top + dkh - 1, fx = left + dkw - 1;
                        bool inside = fy >= 0 && fy < h + dkh - 1 && fx >= 0 && fx < w + dkw - 1;
                        v = inside ? acc[fy * fw + fx].Real : 0.0;
                    }
                    output[o2, y, x] = (float)(v + b);
                }
            }
        }
        return output;
    }

    private static int Mod(int a, int n)
    {
        int m = a % n;
        return m < 0 ? m + n : m;
    }
}
