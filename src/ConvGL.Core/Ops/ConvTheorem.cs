using System.Numerics;

namespace ConvGL.Core.Ops;

/// <summary>The convolution theorem as the GPU's FFT convolution applies it, in double precision: the reference for
/// the window's theorem view and for the spectra <c>GpuFftConv2D</c> captures. In the frame of an
/// <see cref="FftPlan"/> with one tile, the padded input of channel c (DESIGN's in_pad, rows and columns up to the
/// plan's NeedH x NeedW, zero beyond) has spectrum In_c; kernel (o, c), rotated 180 degrees under convolve and dilated,
/// placed at the frame's origin and zero-padded, has spectrum K_{o,c}; then
///     P_o = sum over o's group of In_c conj(K_{o,c})
/// is the spectrum of the dense correlation corr_o[m] = sum_u k[u] in_pad[m + u] (circular in the frame, exact
/// where outputs are read), and output (o, y, x) = corr_o[y s_y, x s_x] + bias[o]: <see cref="Conv2D.Apply"/>'s
/// numbers by another road. Transforms by <see cref="Fft"/> (any length).</summary>
public static class ConvTheorem
{
    /// <summary>The one-tile frame the theorem view and this reference use.</summary>
    public static FftPlan Plan(Tensor input, Tensor weight, ConvOptions options) =>
        FftPlan.For(input.H, input.W, weight.Shape[2], weight.Shape[3], options, tiles: 1);

    /// <summary>Input channel <paramref name="channel"/> padded by its border into the frame (row-major F_h x F_w).</summary>
    public static Complex[] InputFrame(Tensor input, int channel, Tensor weight, ConvOptions options, FftPlan plan)
    {
        ConvGeometry g = ConvGeometry.Compute(input.H, input.W, weight.Shape[2], weight.Shape[3], options);
        var frame = new Complex[plan.Plane];
        for (int py = 0; py < plan.NeedH; py++)
        {
            int sy = Borders.Map(py - g.Y.PadBefore, input.H, options.Border);
            if (sy < 0) continue;
            for (int px = 0; px < plan.NeedW; px++)
            {
                int sx = Borders.Map(px - g.X.PadBefore, input.W, options.Border);
                if (sx >= 0) frame[py * plan.FrameW + px] = input[channel, sy, sx];
            }
        }
        return frame;
    }

    /// <summary>Kernel q = o * C_in/groups + c as the correlation applies it (rotated under convolve, dilated) at the
    /// frame's origin, zero elsewhere.</summary>
    public static Complex[] KernelFrame(Tensor weight, int q, ConvOptions options, FftPlan plan)
    {
        int kh = weight.Shape[2], kw = weight.Shape[3];
        bool flip = options.Mode == ConvMode.Convolve;
        var frame = new Complex[plan.Plane];
        for (int i = 0; i < kh; i++)
            for (int j = 0; j < kw; j++)
            {
                int wi = flip ? kh - 1 - i : i, wj = flip ? kw - 1 - j : j;
                frame[i * options.DilationY * plan.FrameW + j * options.DilationX] += weight.Data[(q * kh + wi) * kw + wj];
            }
        return frame;
    }

    public static Complex[] InputSpectrum(Tensor input, int channel, Tensor weight, ConvOptions options, FftPlan plan) =>
        Forward(InputFrame(input, channel, weight, options, plan), plan);

    public static Complex[] KernelSpectrum(Tensor weight, int q, ConvOptions options, FftPlan plan) =>
        Forward(KernelFrame(weight, q, options, plan), plan);

    /// <summary>P_o = sum over output channel o's group of In_c conj(K_{o,c}).</summary>
    public static Complex[] Product(Tensor input, Tensor weight, ConvOptions options, FftPlan plan, int o)
    {
        int cinPerGroup = weight.Shape[1], coutPerGroup = weight.Shape[0] / options.Groups;
        int first = o / coutPerGroup * cinPerGroup;
        var sum = new Complex[plan.Plane];
        for (int c = 0; c < cinPerGroup; c++)
        {
            Complex[] a = InputSpectrum(input, first + c, weight, options, plan);
            Complex[] k = KernelSpectrum(weight, o * cinPerGroup + c, options, plan);
            for (int t = 0; t < sum.Length; t++) sum[t] += a[t] * Complex.Conjugate(k[t]);
        }
        return sum;
    }

    /// <summary>The convolution by the theorem: the inverse of every <see cref="Product"/>, sampled by the stride,
    /// plus the bias. Equal to <see cref="Conv2D.Apply"/> (Core's tests).</summary>
    public static Tensor Apply(Tensor input, Tensor weight, float[]? bias, ConvOptions options)
    {
        Conv2D.CheckShapes(input, weight, bias, options);
        FftPlan plan = Plan(input, weight, options);
        ConvGeometry g = ConvGeometry.Compute(input.H, input.W, weight.Shape[2], weight.Shape[3], options);
        var output = Tensor.Chw(weight.Shape[0], g.Y.Output, g.X.Output);
        for (int o = 0; o < output.C; o++)
        {
            Complex[] p = Product(input, weight, options, plan, o);
            Fft.Inverse2D(p, plan.FrameH, plan.FrameW);
            for (int y = 0; y < output.H; y++)
                for (int x = 0; x < output.W; x++)
                    output[o, y, x] = (float)(p[y * options.StrideY * plan.FrameW + x * options.StrideX].Real + (bias?[o] ?? 0));
        }
        return output;
    }

    /// <summary>How far a float32 FFT convolution may be from the direct sum (the GPU parity tests' bound, one number
    /// for a whole map): 1e-5 + 1e-4 max|ref| + 2e-7 log2(F_h F_w) S M, where S is the output channel's sum of |w|
    /// (plus |bias|) and M the largest |input|: float32 transforms spread rounding over the frame, so the error
    /// scales with what went in, not with each output.</summary>
    public static double Tolerance(double kernelAbsSum, double maxAbsInput, double maxAbsResult, long framePlane) =>
        1e-5 + 1e-4 * maxAbsResult + 2e-7 * Math.Log2(Math.Max(2, framePlane)) * kernelAbsSum * maxAbsInput;

    /// <summary>S for output channel o: the sum of |w| over its kernels, plus |bias[o]|.</summary>
    public static double KernelAbsSum(Tensor weight, float[]? bias, int o)
    {
        int per = weight.Length / weight.Shape[0];
        double s = Math.Abs(bias?[o] ?? 0);
        for (int i = o * per; i < (o + 1) * per; i++) s += Math.Abs(weight.Data[i]);
        return s;
    }

    /// <summary>What the view draws of a spectrum value: log(1 + |z|).</summary>
    public static double LogMagnitude(Complex z) => Math.Log(1 + z.Magnitude);

    /// <summary>Where frequency index k of an n-point spectrum is drawn with DC centred: (k + n/2) mod n, NumPy's
    /// fftshift.</summary>
    public static int Shifted(int k, int n) => (k + n / 2) % n;

    private static Complex[] Forward(Complex[] frame, FftPlan plan)
    {
        Fft.Forward2D(frame, plan.FrameH, plan.FrameW);
        return frame;
    }
}

/// <summary>The convolution theorem on one scanline, in double precision: the 1D counterpart of the theorem view's
/// maps. For output row y of a 2D convolution, a kernel row (as the layer applies it: rotated under convolve, its taps
/// spread by the x dilation; the centre row, <see cref="ShownRow"/>) reads input row <see cref="InputRow"/>; that row, padded by the layer's
/// border along x (<see cref="AxisGeometry"/>: DESIGN's in_pad), correlated with those taps at the x stride, is one 1D
/// convolution, computed both ways:
///   direct: out[m] = sum_j tap[j] row_pad[m s + j d]
///   FFT:    N = the next power of two >= the padded length; In = DFT_N(row_pad, zero beyond), K = DFT_N(taps at j d),
///           P = In conj(K), corr = IDFT_N(P) (circular, exact where outputs are read), out[m] = corr[m s].
/// Buffers are kept and grow only, so repeated runs on one size allocate nothing (the window runs it when the input
/// or the row changes).</summary>
public sealed class ScanlineTheorem
{
    private Complex[] _in = [], _k = [], _p = [], _corr = [];
    private double[] _direct = [], _fft = [], _pad = [];

    /// <summary>N, the transforms' length.</summary>
    public int Frame { get; private set; }
    /// <summary>The 1D output's length (the 2D output's width).</summary>
    public int Length { get; private set; }
    public ReadOnlySpan<Complex> InputSpectrum => _in.AsSpan(0, Frame);
    public ReadOnlySpan<Complex> KernelSpectrum => _k.AsSpan(0, Frame);
    /// <summary>In conj(K): the spectrum of the correlation.</summary>
    public ReadOnlySpan<Complex> Product => _p.AsSpan(0, Frame);
    public ReadOnlySpan<double> Direct => _direct.AsSpan(0, Length);
    public ReadOnlySpan<double> ByFft => _fft.AsSpan(0, Length);
    /// <summary>max over m of |direct[m] - FFT[m]|.</summary>
    public double MaxDifference { get; private set; }

    /// <summary>The input row that kernel row <paramref name="kernelRow"/> (as applied, 0 at the top) reads for output
    /// row <paramref name="outputRow"/> (the border applied), or -1 when that row is outside a zero-bordered input.</summary>
    public static int InputRow(int outputRow, int height, int kernelRow, ConvOptions options, AxisGeometry y) =>
        Borders.Map(outputRow * options.StrideY - y.PadBefore + kernelRow * options.DilationY, height, options.Border);

    /// <summary>The kernel row (as applied) the scanline shows for kernel <paramref name="q"/>: its centre row, (kH - 1)/2
    /// (of an even kernel's two middle rows the upper, as the profile view's input row: the audit of 2026-12-08), or
    /// where every tap of that row is zero (sobel-y's, scharr-y's: the whole 1D demonstration drew zeros while the 2D
    /// map did not), the nearest row that has a nonzero tap, the upper of two as near; the centre where all are zero.</summary>
    public static int ShownRow(Tensor weight, int q, ConvOptions options)
    {
        ArgumentNullException.ThrowIfNull(weight);
        int kh = weight.Shape[2], kw = weight.Shape[3], centre = (kh - 1) / 2;
        bool flip = options.Mode == ConvMode.Convolve;
        bool Nonzero(int row)
        {
            int stored = flip ? kh - 1 - row : row;
            for (int j = 0; j < kw; j++)
                if (weight.Data[(q * kh + stored) * kw + j] != 0) return true;
            return false;
        }
        for (int d = 0; d < kh; d++)
        {
            if (centre - d >= 0 && Nonzero(centre - d)) return centre - d;
            if (centre + d < kh && Nonzero(centre + d)) return centre + d;
        }
        return centre;
    }

    /// <summary>Kernel <paramref name="q"/>'s row <paramref name="row"/> as the layer applies it (rotated under convolve:
    /// row kH - 1 - row of the stored kernel, reversed), into <paramref name="taps"/> (kW values).</summary>
    public static void KernelRow(Tensor weight, int q, int row, ConvOptions options, Span<float> taps)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(options);
        int kh = weight.Shape[2], kw = weight.Shape[3];
        if (taps.Length != kw) throw new ArgumentException($"taps holds {taps.Length} values, the kernel is {kw} wide", nameof(taps));
        if (row < 0 || row >= kh) throw new ArgumentOutOfRangeException(nameof(row), $"row {row} of a kernel {kh} tall");
        bool flip = options.Mode == ConvMode.Convolve;
        int stored = flip ? kh - 1 - row : row;
        for (int j = 0; j < kw; j++) taps[j] = weight.Data[(q * kh + stored) * kw + (flip ? kw - 1 - j : j)];
    }

    /// <summary>Runs both ways. <paramref name="row"/>: the input row (W values); <paramref name="taps"/>: the kernel row as
    /// applied (a correlation's); <paramref name="x"/>: the x axis geometry of the 2D convolution.</summary>
    public void Run(ReadOnlySpan<float> row, ReadOnlySpan<float> taps, Border border, AxisGeometry x, int stride, int dilation)
    {
        if (row.IsEmpty || taps.IsEmpty) throw new ArgumentException("an empty row or kernel");
        int w = row.Length, padded = w + x.PadBefore + x.PadAfter, span = (taps.Length - 1) * dilation;
        if ((long)(x.Output - 1) * stride + span >= padded) throw new ArgumentException($"the geometry {x} does not fit a row of {w} and {taps.Length} taps");
        int n = Fft.NextPowerOfTwo(padded);
        Grow(ref _in, n);
        Grow(ref _k, n);
        Grow(ref _p, n);
        Grow(ref _corr, n);
        Grow(ref _pad, padded);
        Grow(ref _direct, x.Output);
        Grow(ref _fft, x.Output);
        (Frame, Length) = (n, x.Output);
        Span<Complex> a = _in.AsSpan(0, n), k = _k.AsSpan(0, n), p = _p.AsSpan(0, n), corr = _corr.AsSpan(0, n);
        Span<double> pad = _pad.AsSpan(0, padded);
        for (int i = 0; i < padded; i++)
        {
            int s = Borders.Map(i - x.PadBefore, w, border);
            pad[i] = s < 0 ? 0 : row[s];
        }
        for (int m = 0; m < x.Output; m++)
        {
            double sum = 0;
            for (int j = 0; j < taps.Length; j++) sum += taps[j] * pad[m * stride + j * dilation];
            _direct[m] = sum;
        }
        a.Clear();
        k.Clear();
        for (int i = 0; i < padded; i++) a[i] = pad[i];
        for (int j = 0; j < taps.Length; j++) k[j * dilation] += taps[j];
        Fft.Forward(a);
        Fft.Forward(k);
        for (int t = 0; t < n; t++) corr[t] = p[t] = a[t] * Complex.Conjugate(k[t]);
        Fft.Inverse(corr);
        double worst = 0;
        for (int m = 0; m < x.Output; m++)
        {
            _fft[m] = corr[m * stride].Real;
            worst = Math.Max(worst, Math.Abs(_fft[m] - _direct[m]));
        }
        MaxDifference = worst;
    }

    private static void Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
    }
}
