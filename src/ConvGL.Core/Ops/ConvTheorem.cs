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
