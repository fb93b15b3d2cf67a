using ConvGL.Core;
using ConvGL.Core.IO;
using Silk.NET.OpenGL;
using SkiaSharp;

namespace ConvGL.App.Live;

/// <summary>Writes what the window shows to a PNG or a JPEG (by the name's extension): glReadPixels of the back buffer (after the frame is drawn,
/// before the swap), rows flipped to top-first, encoded by SkiaSharp, written to a temporary name and moved into
/// place so a failed write never leaves a partial file.</summary>
internal static unsafe class Screenshot
{
    /// <summary>The format a screenshot name asks for: .png, or .jpg / .jpeg (quality 95); anything else is refused.</summary>
    public static SKEncodedImageFormat FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => SKEncodedImageFormat.Png,
        ".jpg" or ".jpeg" => SKEncodedImageFormat.Jpeg,
        _ => throw new ConvGLException($"--screenshot {path}: the name must end in .png or .jpg"),
    };

    public static void Save(GL gl, int width, int height, string path)
    {
        SKEncodedImageFormat format = FormatOf(path);
        byte[] pixels = new byte[width * height * 4];
        gl.BindFramebuffer(FramebufferTarget.ReadFramebuffer, 0);
        gl.ReadBuffer(ReadBufferMode.Back);
        gl.PixelStore(PixelStoreParameter.PackAlignment, 4);
        fixed (byte* p = pixels) gl.ReadPixels(0, 0, (uint)width, (uint)height, PixelFormat.Rgba, PixelType.UnsignedByte, p);
        // GL's row 0 is the bottom of the window; PNG's is the top.
        byte[] flipped = new byte[pixels.Length];
        int stride = width * 4;
        for (int y = 0; y < height; y++) System.Buffer.BlockCopy(pixels, (height - 1 - y) * stride, flipped, y * stride, stride);
        for (int i = 3; i < flipped.Length; i += 4) flipped[i] = 255;
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (dir is not null && !Directory.Exists(dir)) throw new ConvGLException($"--screenshot {path}: folder {dir} does not exist");
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        fixed (byte* src = flipped) System.Buffer.MemoryCopy(src, (void*)bitmap.GetPixels(), flipped.Length, flipped.Length);
        using SKData encoded = bitmap.Encode(format, format == SKEncodedImageFormat.Jpeg ? 95 : 100);
        // Whole or not at all (a temporary file renamed into place); a folder in the way, a folder that takes no files or
        // a full disk is one error naming the screenshot.
        AtomicFile.WriteAllBytes(full, encoded.AsSpan());
    }
}
