using StbImageSharp;
using StbImageWriteSharp;

namespace ConvGL.Core.IO;

/// <summary>Which channels an image is loaded as.</summary>
public enum ImageChannels
{
    /// <summary>Gray when the file stores gray (1 or 2 components), RGB when it stores colour (3 or 4).</summary>
    Auto,
    /// <summary>One channel: the file's gray, or 0.299 R + 0.587 G + 0.114 B of its colour (BT.601, as OpenCV's cvtColor).</summary>
    Gray,
    /// <summary>Three channels: the file's colour, or its gray repeated three times.</summary>
    Rgb,
}

/// <summary>How float values become the 8-bit samples of a PNG.</summary>
public enum PngScaling
{
    /// <summary>byte = round(255 * clamp(v, 0, 1)): a [0, 1] image comes back as it was loaded.</summary>
    Clamp,
    /// <summary>Min-max over the whole tensor (all channels together, so colour balance is kept) to [0, 1],
    /// then <see cref="Clamp"/>: for signed maps such as edge responses, where 0 lands mid-range.
    /// A constant tensor has no range and is written with <see cref="Clamp"/>.</summary>
    MinMax,
}

/// <summary>Image files to and from (C, H, W) float32 tensors with values in [0, 1] (byte / 255).
/// Decoding by StbImageSharp: PNG, JPEG, BMP, TGA, GIF (first frame), PSD, HDR; 16-bit PNGs are reduced to
/// 8 bits by stb; alpha is dropped (not composited). Encoding by StbImageWriteSharp: PNG, 1 or 3 channels.</summary>
public static class ImageIO
{
    public static Tensor Load(string path, ImageChannels channels = ImageChannels.Auto)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConvGLException($"cannot read '{path}': {(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message)}", e);
        }
        return Decode(bytes, channels, path);
    }

    /// <summary>Decodes image bytes; <paramref name="name"/> is only used in error messages.</summary>
    public static Tensor Decode(byte[] bytes, ImageChannels channels = ImageChannels.Auto, string name = "<memory>")
    {
        ImageResult image;
        try
        {
            // Default keeps the file's own component count: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
            image = ImageResult.FromMemory(bytes, StbImageSharp.ColorComponents.Default);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ConvGLException($"cannot decode '{name}' as an image (PNG, JPEG, BMP, TGA): {e.Message}", e);
        }
        if (image is null || image.Data is null || image.Width < 1 || image.Height < 1)
            throw new ConvGLException($"cannot decode '{name}' as an image (PNG, JPEG, BMP, TGA)");

        int comp = image.Comp switch
        {
            StbImageSharp.ColorComponents.Grey => 1,
            StbImageSharp.ColorComponents.GreyAlpha => 2,
            StbImageSharp.ColorComponents.RedGreenBlue => 3,
            StbImageSharp.ColorComponents.RedGreenBlueAlpha => 4,
            _ => throw new ConvGLException($"cannot decode '{name}': unexpected component layout {image.Comp}"),
        };
        bool colour = comp >= 3;
        bool gray = channels == ImageChannels.Gray || (channels == ImageChannels.Auto && !colour);
        int h = image.Height, w = image.Width;
        CheckSize(name, gray ? 1 : 3, h, w);
        byte[] px = image.Data;
        var t = Tensor.Chw(gray ? 1 : 3, h, w);
        int plane = h * w;
        for (int p = 0; p < plane; p++)
        {
            int s = p * comp;
            if (!colour)
            {
                float v = px[s] / 255f;
                t.Data[p] = v;
                if (!gray)
                {
                    t.Data[plane + p] = v;
                    t.Data[2 * plane + p] = v;
                }
            }
            else if (gray)
            {
                t.Data[p] = GrayOf(px[s] / 255f, px[s + 1] / 255f, px[s + 2] / 255f);
            }
            else
            {
                t.Data[p] = px[s] / 255f;
                t.Data[plane + p] = px[s + 1] / 255f;
                t.Data[2 * plane + p] = px[s + 2] / 255f;
            }
        }
        return t;
    }

    /// <summary>stb decodes up to 2^31 bytes, but a (C, H, W) float tensor holds at most int.MaxValue values: a gray
    /// 30000 x 30000 image read as RGB (2.7e9 values) must be a clear error naming the file, not an ArgumentException
    /// from the tensor constructor.</summary>
    internal static void CheckSize(string name, int channels, int h, int w)
    {
        long n = (long)channels * h * w;
        if (n > int.MaxValue)
            throw new ConvGLException($"'{name}' is {w}x{h}: as {channels} channel(s) that is {n} values, more than a tensor holds ({int.MaxValue}); use a smaller image or --channels gray");
    }

    /// <summary>BT.601 luma on [0, 1] values, in double then rounded once to float32. (OpenCV's cvtColor on
    /// 8-bit input would also round to a byte; ConvGL keeps the fraction.)</summary>
    public static float GrayOf(float r, float g, float b) => (float)(0.299 * r + 0.587 * g + 0.114 * b);

    /// <summary>A (3, H, W) image to (1, H, W) gray with <see cref="GrayOf"/>; a (1, H, W) tensor is returned as a copy.</summary>
    public static Tensor ToGray(Tensor image)
    {
        if (image.Rank != 3 || (image.C != 1 && image.C != 3))
            throw new ConvGLException($"gray conversion needs a (1, H, W) or (3, H, W) tensor, got {image.ShapeString}");
        if (image.C == 1) return image.Clone();
        int plane = image.H * image.W;
        var t = Tensor.Chw(1, image.H, image.W);
        for (int p = 0; p < plane; p++)
            t.Data[p] = GrayOf(image.Data[p], image.Data[plane + p], image.Data[2 * plane + p]);
        return t;
    }

    /// <summary>The scaling `convgl apply` uses for a .png when it has no better knowledge: <see cref="PngScaling.Clamp"/>
    /// when every value already lies in [0, 1] (the output is an image), else <see cref="PngScaling.MinMax"/>
    /// (a signed or unbounded response).</summary>
    public static PngScaling AutoScaling(Tensor t)
    {
        (float min, float max) = t.Range();
        return min >= 0f && max <= 1f ? PngScaling.Clamp : PngScaling.MinMax;
    }

    /// <summary>The 8-bit samples, interleaved (H, W, C), of a (1, H, W), (3, H, W) or (H, W) tensor.
    /// Rounding is half-to-even (as OpenCV's saturate_cast); NaN becomes 0.</summary>
    public static byte[] ToBytes(Tensor t, PngScaling scaling)
    {
        (int c, int h, int w) = PngShape(t);
        double offset = 0, scale = 1;
        if (scaling == PngScaling.MinMax)
        {
            (float min, float max) = t.Range();
            if (float.IsFinite(min) && float.IsFinite(max) && max > min)
            {
                offset = min;
                scale = 1.0 / ((double)max - min);
            }
        }
        int plane = h * w;
        var bytes = new byte[plane * c];
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < plane; p++)
            {
                double v = (t.Data[ch * plane + p] - offset) * scale;
                bytes[p * c + ch] = double.IsNaN(v) ? (byte)0 : (byte)Math.Round(Math.Clamp(v, 0.0, 1.0) * 255.0, MidpointRounding.ToEven);
            }
        return bytes;
    }

    /// <summary>Writes a PNG (8-bit gray or RGB) atomically.</summary>
    public static void SavePng(string path, Tensor t, PngScaling scaling = PngScaling.Clamp)
    {
        (int c, int h, int w) = PngShape(t);
        byte[] bytes = ToBytes(t, scaling);
        var comps = c == 1 ? StbImageWriteSharp.ColorComponents.Grey : StbImageWriteSharp.ColorComponents.RedGreenBlue;
        AtomicFile.Write(path, s => new ImageWriter().WritePng(bytes, w, h, comps, s));
    }

    private static (int C, int H, int W) PngShape(Tensor t)
    {
        if (t.Rank == 2) return (1, t.H, t.W);
        if (t.Rank == 3 && (t.C == 1 || t.C == 3)) return (t.C, t.H, t.W);
        throw new ConvGLException($"a PNG holds 1 (gray) or 3 (RGB) channels, the tensor is {t.ShapeString}; write .npy instead");
    }
}
