using ConvGL.Core.IO;

namespace ConvGL.Core.Tests.IO;

public class ImageIOTests
{
    /// <summary>A small RGB image with every byte value distinct per channel pattern.</summary>
    private static Tensor Pattern(int h, int w)
    {
        var t = Tensor.Chw(3, h, w);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                t[0, y, x] = (x * 37 + y * 11) % 256 / 255f;
                t[1, y, x] = (x * 5 + y * 53 + 7) % 256 / 255f;
                t[2, y, x] = (255 - x * y % 256) / 255f;
            }
        return t;
    }

    [Theory]
    // Decoding a real 30000x30000 file needs ~1 GB, too much for a unit test; Decode calls this check with the
    // decoded size and the requested channel count before it allocates the tensor.
    [InlineData(3, 30000, 30000, true)]  // 2.7e9 values: a gray file read as RGB
    [InlineData(1, 46341, 46341, true)]  // just above int.MaxValue
    [InlineData(1, 30000, 30000, false)] // 9e8 values: fits
    public void CheckSize_MoreValuesThanATensorHolds_IsAClearErrorNamingTheFile(int c, int h, int w, bool tooLarge)
    {
        if (!tooLarge)
        {
            ImageIO.CheckSize("big.png", c, h, w);
            return;
        }
        var e = Assert.Throws<ConvGLException>(() => ImageIO.CheckSize("big.png", c, h, w));
        Assert.Contains("'big.png'", e.Message);
        Assert.Contains($"{w}x{h}", e.Message);
    }

    [Fact]
    public void SavePngLoad_Rgb_RoundTripsExactly()
    {
        using var dir = new TempDir();
        Tensor img = Pattern(13, 17);
        string path = dir.File("p.png");
        ImageIO.SavePng(path, img);
        Tensor back = ImageIO.Load(path);
        Assert.Equal([3, 13, 17], back.Shape);
        Assert.Equal(img.Data, back.Data);
        Assert.Equal(["p.png"], dir.Names());
    }

    [Fact]
    public void Load_RgbAsGray_UsesBt601()
    {
        using var dir = new TempDir();
        Tensor img = Pattern(5, 6);
        string path = dir.File("p.png");
        ImageIO.SavePng(path, img);
        Tensor g = ImageIO.Load(path, ImageChannels.Gray);
        Assert.Equal([1, 5, 6], g.Shape);
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 6; x++)
            {
                double expected = 0.299 * img[0, y, x] + 0.587 * img[1, y, x] + 0.114 * img[2, y, x];
                Assert.True(Math.Abs(g[0, y, x] - expected) < 1e-6, $"({y},{x}): {g[0, y, x]} vs {expected}");
            }
    }

    [Fact]
    public void Load_GrayPng_IsOneChannelInAutoAndThreeInRgb()
    {
        using var dir = new TempDir();
        var g = Tensor.Chw(1, 4, 3, [0, 1 / 255f, 2 / 255f, 100 / 255f, 128 / 255f, 1, 0.5f, 0.25f, 0.75f, 0, 0, 1]);
        string path = dir.File("g.png");
        ImageIO.SavePng(path, g);
        Tensor auto = ImageIO.Load(path);
        Assert.Equal([1, 4, 3], auto.Shape);
        // 0.5*255 = 127.5 rounds to even (128), 0.25*255 = 63.75 -> 64, 0.75*255 = 191.25 -> 191.
        Assert.Equal(128 / 255f, auto[0, 2, 0]);
        Assert.Equal(64 / 255f, auto[0, 2, 1]);
        Assert.Equal(191 / 255f, auto[0, 2, 2]);
        Tensor rgb = ImageIO.Load(path, ImageChannels.Rgb);
        Assert.Equal([3, 4, 3], rgb.Shape);
        for (int c = 0; c < 3; c++) Assert.Equal(auto.Data, rgb.Channel(c).Data);
    }

    [Fact]
    public void ToBytes_ClampAndMinMax_DocumentedValues()
    {
        var t = Tensor.Chw(1, 1, 4, [-1f, 0.5f, 2f, float.NaN]);
        Assert.Equal(new byte[] { 0, 128, 255, 0 }, ImageIO.ToBytes(t, PngScaling.Clamp));
        var s = Tensor.Chw(1, 1, 3, [-2f, 0f, 2f]);
        Assert.Equal(new byte[] { 0, 128, 255 }, ImageIO.ToBytes(s, PngScaling.MinMax));
        Assert.Equal(PngScaling.MinMax, ImageIO.AutoScaling(s));
        Assert.Equal(PngScaling.Clamp, ImageIO.AutoScaling(Tensor.Chw(1, 1, 2, [0f, 1f])));
    }

    [Fact]
    public void Load_BmpTgaJpeg_Decode()
    {
        using var dir = new TempDir();
        Tensor img = Pattern(16, 24);
        byte[] rgb = ImageIO.ToBytes(img, PngScaling.Clamp);
        var writer = new StbImageWriteSharp.ImageWriter();
        var comps = StbImageWriteSharp.ColorComponents.RedGreenBlue;
        using (var s = File.Create(dir.File("a.bmp"))) writer.WriteBmp(rgb, 24, 16, comps, s);
        using (var s = File.Create(dir.File("a.tga"))) writer.WriteTga(rgb, 24, 16, comps, s);
        using (var s = File.Create(dir.File("a.jpg"))) writer.WriteJpg(rgb, 24, 16, comps, s, 100);
        Assert.Equal(img.Data, ImageIO.Load(dir.File("a.bmp")).Data);
        Assert.Equal(img.Data, ImageIO.Load(dir.File("a.tga")).Data);
        // JPEG is lossy: quality 100 on this pattern stays within a few levels on average.
        Tensor jpg = ImageIO.Load(dir.File("a.jpg"));
        Assert.Equal(img.Shape, jpg.Shape);
        double meanError = img.Data.Zip(jpg.Data, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(meanError < 0.05, $"mean JPEG error {meanError}");
    }

    [Fact]
    public void Load_RgbaPng_DropsAlpha()
    {
        using var dir = new TempDir();
        byte[] rgba = [10, 20, 30, 0, 40, 50, 60, 255];
        using (var s = File.Create(dir.File("a.png")))
            new StbImageWriteSharp.ImageWriter().WritePng(rgba, 2, 1, StbImageWriteSharp.ColorComponents.RedGreenBlueAlpha, s);
        Tensor t = ImageIO.Load(dir.File("a.png"));
        Assert.Equal([3, 1, 2], t.Shape);
        Assert.Equal([10 / 255f, 40 / 255f, 20 / 255f, 50 / 255f, 30 / 255f, 60 / 255f], t.Data);
    }

    [Fact]
    public void Load_Garbage_ThrowsNamingFile()
    {
        using var dir = new TempDir();
        string path = dir.File("bad.png");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        var e = Assert.Throws<ConvGLException>(() => ImageIO.Load(path));
        Assert.Contains("bad.png", e.Message);
        Assert.Contains("decode", e.Message);
    }

    [Theory]
    [InlineData("t.pgm", new byte[] { (byte)'P', (byte)'5', (byte)'\n', (byte)'2', (byte)' ', (byte)'2', (byte)'\n', (byte)'2', (byte)'5', (byte)'5', (byte)'\n', 0, 64, 128, 255 }, "PNM (PBM, PGM, PPM, PAM) files are not read; convert it to PNG")]
    [InlineData("t.ppm", new byte[] { (byte)'P', (byte)'3', (byte)' ', (byte)'1', (byte)' ', (byte)'1', (byte)' ', (byte)'1', (byte)' ', (byte)'0', (byte)' ', (byte)'1', (byte)' ', (byte)'0' }, "PNM (PBM, PGM, PPM, PAM) files are not read; convert it to PNG")]
    [InlineData("t.tif", new byte[] { (byte)'I', (byte)'I', (byte)'*', 0, 8, 0, 0, 0, 0, 0 }, "TIFF files are not read; convert it to PNG")]
    [InlineData("t.tiff", new byte[] { (byte)'M', (byte)'M', 0, (byte)'*', 0, 0, 0, 8, 0, 0 }, "TIFF files are not read; convert it to PNG")]
    public void Load_PnmOrTiff_SaysItIsNotRead_AndToConvertIt(string name, byte[] bytes, string why)
    {
        // A valid 2x2 PGM was called truncated by the decoder, a TIFF "not recognised".
        using var dir = new TempDir();
        string path = dir.File(name);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ConvGLException>(() => ImageIO.Load(path));
        Assert.Equal($"cannot decode '{path}' as an image ({ImageIO.Formats}): {why}", e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0x20, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m', 0, 0 }, "an MP4 / QuickTime")]
    [InlineData(new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 0, 0, 0, 0, (byte)'A', (byte)'V', (byte)'I', (byte)' ', 0, 0 }, "an AVI")]
    [InlineData(new byte[] { 0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 1, 0 }, "a Matroska / WebM")]
    public void Load_AVideoNamedLikeAPicture_SaysItIsAVideo(byte[] bytes, string kind)
    {
        // The helper audit: an .mp4 renamed .png said only "the format is not recognised".
        using var dir = new TempDir();
        string path = dir.File("clip.png");
        File.WriteAllBytes(path, [.. bytes, .. new byte[4096]]); // a container's header, then its data
        var e = Assert.Throws<ConvGLException>(() => ImageIO.Load(path));
        Assert.Equal($"cannot decode '{path}' as an image ({ImageIO.Formats}): it is {kind} video, not a picture: the window plays it " +
                     "(`--source FILE` named .mp4, .avi, .mkv ...); apply and features read pictures", e.Message);
    }

    [Fact]
    public void Load_Missing_ThrowsNamingFile()
    {
        var e = Assert.Throws<ConvGLException>(() => ImageIO.Load("/nonexistent/x.png"));
        Assert.Contains("/nonexistent/x.png", e.Message);
    }

    [Fact]
    public void SavePng_FourChannels_Throws()
    {
        using var dir = new TempDir();
        Assert.Throws<ConvGLException>(() => ImageIO.SavePng(dir.File("x.png"), Tensor.Chw(4, 2, 2)));
        Assert.Empty(dir.Names());
    }
}
