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
///   zero-border path runs with valid padding on that copy.</summary>
public static class FftConv2D
{
    public static Tensor Apply(Tensor input, Tensor weight, float[]? bias, ConvOptions options)
    {
        Conv2D.CheckShapes(input, weight, bias, options);
        int h = input.H, w = input.W;
        int kh = weight.Shape[2], kw = weight.Shape[3];
        ConvGeometry g = ConvGeometry.Compute(h, w, kh, kw, options);
        Tensor wgt = options.Mode == ConvMode.Convolve ? Conv2D.Rot180(weight) : weight;

        if (options.Border is Border.Replicate or Border.Reflect or Border.Symmetric)
        {
            Tensor padded = Borders.Pad(input, g.Y.PadBefore, g.Y.PadAfter, g.X.PadBefore, g.X.PadAfter, options.Border);
            ConvOptions valid = options with { Border = Border.Zero, Padding = PaddingMode.Valid, Mode = ConvMode.Correlate };
            return Run(padded, wgt, bias, valid, ConvGeometry.Compute(padded.H, padded.W, kh, kw, valid));
        }
        return Run(input, wgt, bias, options, g);
    }

    /// <summary>An image filter by FFT: one (kH, kW) kernel on every channel alone (depthwise).</summary>
    public static Tensor Filter(Tensor image, Tensor kernel, ConvOptions options) =>
        Apply(image, Conv2D.DepthwiseWeight(kernel, image.C), null, options with { Groups = image.C });

    /// <summary>Zero or wrap border, correlate orientation (the weight is already flipped for convolve).</summary>
    private static Tensor Run(Tensor input, Tensor weight, float[]? bias, ConvOptions o, ConvGeometry g)
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
            var s = new Complex[fh * fw];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) s[y * fw + x] = input[c, y, x];
            Fft.Forward2D(s, fh, fw);
            inputSpectra[c] = s;
        }

        var output = Tensor.Chw(cout, g.Y.Output, g.X.Output);
        var acc = new Complex[fh * fw];
        var ker = new Complex[fh * fw];
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
