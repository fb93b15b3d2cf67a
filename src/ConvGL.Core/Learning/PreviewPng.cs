using StbImageWriteSharp;

namespace ConvGL.Core.Learning;

/// <summary>Writes a (1, H, W) tensor with values in [0, 1] as an 8-bit gray PNG, optionally enlarged by an integer
/// factor (nearest neighbour: a 28-pixel sample is unreadable at 1:1). Written to a temporary name and moved into
/// place, so a failure leaves no partial file.</summary>
public static class PreviewPng
{
    public static void Save(Tensor image, string path, int scale = 1)
    {
        if (image.Rank != 3 || image.C != 1) throw new ArgumentException($"expected a (1, H, W) image, got {image.ShapeString}");
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale));
        int w = image.W * scale, h = image.H * scale;
        byte[] bytes = new byte[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                bytes[y * w + x] = (byte)Math.Round(Math.Clamp(image[0, y / scale, x / scale], 0f, 1f) * 255f);
        WriteAtomically(path, stream => new ImageWriter().WritePng(bytes, w, h, ColorComponents.Grey, stream));
    }

    /// <summary>Runs <paramref name="write"/> on a temporary file next to <paramref name="path"/>, then renames it.</summary>
    public static void WriteAtomically(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (dir is not null) Directory.CreateDirectory(dir);
        string temp = full + ".partial";
        try
        {
            using (var stream = File.Create(temp)) write(stream);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
