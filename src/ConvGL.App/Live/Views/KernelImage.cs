using ConvGL.Core;

namespace ConvGL.App.Live.Views;

/// <summary>A conv layer's kernels as pixels, for the filters view: each weight w becomes 128 + 127 w / s, where s is
/// the largest |w| of its own kernel (all its input channels), so 0 is mid-grey and each kernel's strongest weight is
/// black or white. One scale for the whole bank hid most of a trained one: in ResNet18's first layer (batchnorm folded)
/// half the 64 kernels peak below 0.2 of the bank's largest weight, within 25 grey levels of flat; the kernel panel
/// gives the numbers of the selected one. Three input channels give a colour image (input channel c is RGB channel
/// <c>order[c]</c>: a BGR model's kernels show in their real colours); any other count shows the first input channel's
/// slice in grey. Each kernel is drawn as the layer applies it (<see cref="Strip"/>: rotated under convolve, dilated).</summary>
internal static class KernelImage
{
    /// <summary>Kernel <paramref name="o"/>'s scale: its largest finite |weight| over every input channel (1 for an
    /// all-zero kernel, which then draws flat grey).</summary>
    public static float Scale(Tensor weight, int o)
    {
        int size = weight.Shape[1] * weight.Shape[2] * weight.Shape[3];
        float s = 0;
        foreach (float w in weight.Data.AsSpan(o * size, size))
            if (float.IsFinite(w)) s = Math.Max(s, Math.Abs(w));
        return s > 0 ? s : 1;
    }

    /// <summary>The byte for weight <paramref name="w"/> at scale <paramref name="scale"/>: 128 for 0, 1 for -scale,
    /// 255 for +scale (symmetric, so a sign flip mirrors around mid-grey); 128 for a non-finite weight.</summary>
    public static byte Level(float w, float scale) =>
        float.IsFinite(w) ? (byte)Math.Clamp(128 + (int)MathF.Round(127 * w / scale), 1, 255) : (byte)128;

    /// <summary>The picture of one kernel as applied: the taps spread by the dilation, ((kH - 1) dY + 1) rows of
    /// ((kW - 1) dX + 1) pixels.</summary>
    public static (int H, int W) Drawn(Tensor weight, ConvOptions? options) =>
        ((weight.Shape[2] - 1) * (options?.DilationY ?? 1) + 1, (weight.Shape[3] - 1) * (options?.DilationX ?? 1) + 1);

    /// <summary>The level of an input pixel a dilated kernel skips: mid-grey, a weight of 0, which is what it is (a dilated
    /// kernel is the kernel with zeros between its taps, as the theorem view transforms it; the kernel panel writes it
    /// '.'). It was grey 24, which this scale reads as a weight of -0.81 times the largest (a teaching review).</summary>
    public const byte Skipped = 128;

    /// <summary>Every output channel's kernel of <paramref name="weight"/> (C_out, C_in, kH, kW) as tightly packed
    /// RGBA, as <paramref name="options"/> apply it (null: as stored): rotated 180 degrees under convolve (the taps the
    /// sum multiplies with the window read top-left first, as the kernel panel and the probe show them) and spread by
    /// the dilation, the pixels between taps <see cref="Skipped"/>. <see cref="Drawn"/> (H, W) a kernel: W wide and
    /// C_out * H tall, kernel o in rows o * H .. (o + 1) * H - 1, top row first. <paramref name="order"/> (null: RGB) is
    /// the input's channel order, as <c>ImagePreprocess.ChannelOrder</c>.</summary>
    public static byte[] Strip(Tensor weight, IReadOnlyList<int>? order, ConvOptions? options = null)
    {
        int outC = weight.Shape[0], inC = weight.Shape[1], kh = weight.Shape[2], kw = weight.Shape[3];
        int dy = options?.DilationY ?? 1, dx = options?.DilationX ?? 1;
        bool flip = options?.Mode == ConvMode.Convolve;
        (int h, int w) = Drawn(weight, options);
        var rgba = new byte[outC * h * w * 4];
        for (int o = 0; o < outC; o++)
        {
            float scale = Scale(weight, o);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int p = ((o * h + y) * w + x) * 4;
                    rgba[p + 3] = 255;
                    if (y % dy != 0 || x % dx != 0)
                    {
                        rgba[p] = rgba[p + 1] = rgba[p + 2] = Skipped;
                        continue;
                    }
                    // The tap drawn here: (i, j) as stored, or (kH - 1 - i, kW - 1 - j) under convolve.
                    int i = flip ? kh - 1 - y / dy : y / dy, j = flip ? kw - 1 - x / dx : x / dx;
                    if (inC == 3)
                        for (int c = 0; c < 3; c++)
                            rgba[p + (order is { Count: 3 } ? order[c] : c)] = Level(weight.Data[((o * inC + c) * kh + i) * kw + j], scale);
                    else
                        rgba[p] = rgba[p + 1] = rgba[p + 2] = Level(weight.Data[(o * inC * kh + i) * kw + j], scale);
                }
        }
        return rgba;
    }
}
