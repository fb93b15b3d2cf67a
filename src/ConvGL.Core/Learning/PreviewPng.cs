using ConvGL.Core.IO;

namespace ConvGL.Core.Learning;

/// <summary>Writes a (1, H, W) tensor with values in [0, 1] as an 8-bit gray PNG enlarged by an integer factor
/// (nearest neighbour: a 28-pixel sample is unreadable at 1:1), atomically (<see cref="AtomicFile"/>).</summary>
public static class PreviewPng
{
    /// <summary>The PNG file's bytes (for writers that put several files down together).</summary>
    public static byte[] Encode(Tensor image, int scale = 1)
    {
        if (image.Rank != 3 || image.C != 1) throw new ArgumentException($"expected a (1, H, W) image, got {image.ShapeString}");
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale));
        var big = Tensor.Chw(1, image.H * scale, image.W * scale);
        for (int y = 0; y < big.H; y++)
            for (int x = 0; x < big.W; x++)
                big[0, y, x] = image[0, y / scale, x / scale];
        return ImageIO.EncodePng(big, PngScaling.Clamp);
    }
}
