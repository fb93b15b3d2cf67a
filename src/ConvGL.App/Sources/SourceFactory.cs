using System.Runtime.InteropServices;
using ConvGL.App.Cli;
using ConvGL.Core;
using ConvGL.Core.IO;
using OpenCvSharp;

namespace ConvGL.App.Sources;

/// <summary>Turns a --source value (or a dropped file) into a source:
/// <c>scene</c> or <c>scene:WxH</c>, <c>camera</c> / <c>camera:N</c> / <c>/dev/videoN</c>, an image file, a video file.</summary>
internal static class SourceFactory
{
    private static readonly HashSet<string> s_imageExtensions =
        new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".tga", ".gif", ".webp" };

    /// <summary>Opens the source; anything that cannot be opened is a <see cref="ConvGLException"/> naming it. Images,
    /// videos and cameras larger than <paramref name="fit"/> are scaled down to it (the scene never is).</summary>
    public static IFrameSource Open(string spec, bool synchronous, SourceFit fit) => Open(spec, synchronous, fit, fit);

    /// <summary><see cref="Open(string, bool, SourceFit)"/> with another box for moving sources, videos and cameras
    /// (<paramref name="movingFit"/>; <see cref="SourceFit.ForMoving"/>).</summary>
    public static IFrameSource Open(string spec, bool synchronous, SourceFit fit, SourceFit movingFit)
    {
        if (spec == "scene") return new SceneSource(synchronous: synchronous);
        if (spec.StartsWith("scene:", StringComparison.Ordinal))
        {
            (int w, int h) = ParseSize(spec[6..]);
            return new SceneSource(w, h, synchronous);
        }
        if (spec == "camera") return VideoSource.OpenCamera("0", movingFit);
        if (spec.StartsWith("camera:", StringComparison.Ordinal)) return VideoSource.OpenCamera(spec[7..], movingFit);
        if (spec.StartsWith("/dev/video", StringComparison.Ordinal)) return VideoSource.OpenCamera(spec, movingFit);
        if (Directory.Exists(spec))
            throw new ConvGLException($"source '{spec}' is a folder; give an image or a video file in it");
        if (!File.Exists(spec))
            throw new ConvGLException($"source '{spec}': no such file (sources: scene, scene:WxH, camera, camera:N, /dev/videoN, an image or a video file)");
        // OpenCV would block opening a FIFO for good (and read a device without end).
        if (!BoundedFile.IsRegularFile(spec))
            throw new ConvGLException($"source '{spec}' is not a regular file (a device, FIFO or socket); give an image or a video file");
        string extension = Path.GetExtension(spec);
        if (s_otherStillExtensions.Contains(extension))
            throw new ConvGLException($"source '{spec}': {extension} images are not read ({ImageIO.Formats} are, with their size checked before decoding); convert it to PNG");
        if (extension.Equals(".json", StringComparison.OrdinalIgnoreCase) || extension.Equals(".onnx", StringComparison.OrdinalIgnoreCase))
            throw new ConvGLException($"source '{spec}' is a stack or a model, not a picture: run it with --stack {spec}");
        if (extension.Equals(".txt", StringComparison.OrdinalIgnoreCase))
            throw new ConvGLException($"source '{spec}' is a text file, not a picture (a kernel file? run it with --filter {spec})");
        return s_imageExtensions.Contains(extension) ? OpenImage(spec, fit) : VideoSource.OpenFile(spec, movingFit, stillFit: fit);
    }

    // Still formats only OpenCV decodes: its imread allocates from the header's size with no cap of ConvGL's (a 25000x25000
    // PGM took 4.3 GB and overflowed), so they are refused with the formats ImageIO reads named.
    private static readonly HashSet<string> s_otherStillExtensions =
        new(StringComparer.OrdinalIgnoreCase) { ".ppm", ".pgm", ".pnm", ".pbm", ".pfm", ".tif", ".tiff", ".jp2", ".exr", ".hdr", ".pic", ".sr", ".ras", ".psd" };

    private static (int Width, int Height) ParseSize(string s)
    {
        try
        {
            return Parsers.Size(s, 8, 8192);
        }
        catch (ConvGLException e)
        {
            throw new ConvGLException($"--source scene:WxH {e.Message}");
        }
    }

    private static ImageSource OpenImage(string path, SourceFit fit)
    {
        (byte[] pixels, int w, int h) = DecodeImage(path);
        return Still($"image {Path.GetFileName(path)}", pixels, w, h, fit);
    }

    // The image as RGBA8, rows top first, through ImageIO (its formats, its limits checked before decoding).
    private static (byte[] Rgba, int Width, int Height) DecodeImage(string path)
    {
        Tensor t = ImageIO.Load(path, ImageChannels.Rgb);
        int plane = t.H * t.W;
        byte[] decoded = new byte[plane * 4];
        for (int i = 0; i < plane; i++)
        {
            for (int c = 0; c < 3; c++) decoded[4 * i + c] = (byte)Math.Round(Math.Clamp(t.Data[c * plane + i], 0f, 1f) * 255f);
            decoded[4 * i + 3] = 255;
        }
        return (decoded, t.W, t.H);
    }

    /// <summary>A still picture from RGBA8 pixels, scaled down to <paramref name="fit"/> as an image file is (a video
    /// of one frame plays as this).</summary>
    internal static ImageSource Still(string name, byte[] rgba, int w, int h, SourceFit fit)
    {
        (int W, int H) shown = fit.Apply(w, h);
        return shown == (w, h) ? new ImageSource(name, w, h, rgba)
            : new ImageSource(SourceFit.Named(name, w, h, shown), shown.W, shown.H, Shrink(rgba, w, h, shown));
    }

    // RGBA8 pixels of w x h shrunk to the shown size with INTER_AREA (each output pixel the mean of the input area it
    // covers), once, when the image is opened.
    private static byte[] Shrink(byte[] rgba, int w, int h, (int W, int H) shown)
    {
        using Mat full = Mat.FromPixelData(h, w, MatType.CV_8UC4, rgba);
        using var small = new Mat();
        Cv2.Resize(full, small, new Size(shown.W, shown.H), 0, 0, InterpolationFlags.Area);
        byte[] pixels = new byte[shown.W * shown.H * 4];
        Marshal.Copy(small.Data, pixels, 0, pixels.Length);
        return pixels;
    }
}
