using ConvGL.Core;

namespace ConvGL.App.Live.Views;

/// <summary>A conv layer's kernels as pixels, for the filters view: each weight w becomes 128 + 127 w / s, where s is
/// the largest |w| of its own kernel (all its input channels), so 0 is mid-grey and each kernel's strongest weight is
/// black or white. One scale for the whole bank hid most of a trained one: in ResNet18's first layer (batchnorm folded)
/// half the 64 kernels peak below 0.2 of the bank's largest weight, within 25 grey levels of flat; the kernel panel
/// gives the numbers of the selected one. Three input channels give a colour image (input channel c is RGB channel
/// <c>order[c]</c>: a BGR model's kernels show in their real colours); any other count shows the first input channel's
/// slice in grey.</summary>
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

    /// <summary>Every output channel's kernel of <paramref name="weight"/> (C_out, C_in, kH, kW) as tightly packed
    /// RGBA, kW wide and C_out * kH tall: kernel o in rows o * kH .. (o + 1) * kH - 1, top row first.
    /// <paramref name="order"/> (null: RGB) is the input's channel order, as <c>ImagePreprocess.ChannelOrder</c>.</summary>
    public static byte[] Strip(Tensor weight, IReadOnlyList<int>? order)
    {
        int outC = weight.Shape[0], inC = weight.Shape[1], kh = weight.Shape[2], kw = weight.Shape[3];
        var rgba = new byte[outC * kh * kw * 4];
        for (int o = 0; o < outC; o++)
        {
            float scale = Scale(weight, o);
            for (int y = 0; y < kh; y++)
                for (int x = 0; x < kw; x++)
                {
                    int p = ((o * kh + y) * kw + x) * 4;
                    if (inC == 3)
                        for (int c = 0; c < 3; c++)
                            rgba[p + (order?[c] ?? c)] = Level(weight.Data[((o * inC + c) * kh + y) * kw + x], scale);
                    else
                        rgba[p] = rgba[p + 1] = rgba[p + 2] = Level(weight.Data[(o * inC * kh + y) * kw + x], scale);
                    rgba[p + 3] = 255;
                }
        }
        return rgba;
    }
}
