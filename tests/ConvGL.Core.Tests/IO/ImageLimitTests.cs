using System.Buffers.Binary;
using ConvGL.Core.IO;

namespace ConvGL.Core.Tests.IO;

/// <summary>Images that lie about themselves: truncated, bombs, other formats. Each is refused from its header
/// (or its structure) with one line naming the file, quickly, before a large buffer exists.</summary>
public class ImageLimitTests
{
    private static byte[] Jpeg(int w, int h)
    {
        var rgb = new byte[w * h * 3];
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)(i * 7);
        using var s = new MemoryStream();
        new StbImageWriteSharp.ImageWriter().WriteJpg(rgb, w, h, StbImageWriteSharp.ColorComponents.RedGreenBlue, s, 90);
        return s.ToArray();
    }

    /// <summary>Decodes on a worker thread: a decoder loop would otherwise hang the test run instead of failing it.</summary>
    internal static Exception? DecodeWithin(byte[] bytes, TimeSpan limit, string name = "x.img")
    {
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try { ImageIO.Decode(bytes, ImageChannels.Auto, name); }
            catch (Exception e) { error = e; }
        }) { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(limit), $"decoding {bytes.Length} bytes did not finish within {limit.TotalSeconds} s");
        return error;
    }

    [Fact]
    public void Jpeg_CutAnywhere_IsATruncationError_NeverAHang()
    {
        // StbImageSharp looped forever on a JPEG cut inside its JFIF header (8 to 19 bytes).
        byte[] full = Jpeg(24, 16);
        for (int n = 0; n < full.Length; n += n < 40 ? 1 : 37)
        {
            Exception? e = DecodeWithin(full[..n], TimeSpan.FromSeconds(10), "cut.jpg");
            var c = Assert.IsType<ConvGLException>(e);
            Assert.Contains("'cut.jpg'", c.Message);
            Assert.True(ErrorText.IsOneLine(c.Message), c.Message);
        }
        Assert.Null(DecodeWithin(full, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Bmp_ClaimingAHugeSide_IsRefusedFromItsHeader()
    {
        // 1.5 KB whose header claims 16777216 x 16777216 pixels: it took 13 GB before it was killed.
        byte[] bmp = new byte[1536];
        "BM"u8.CopyTo(bmp);
        BinaryPrimitives.WriteUInt32LittleEndian(bmp.AsSpan(2), (uint)bmp.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(bmp.AsSpan(10), 54);
        BinaryPrimitives.WriteUInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), 16777216);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), 16777216);
        BinaryPrimitives.WriteUInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(bmp.AsSpan(28), 24);
        var e = Assert.IsType<ConvGLException>(DecodeWithin(bmp, TimeSpan.FromSeconds(10), "bomb.bmp"));
        Assert.Contains("'bomb.bmp'", e.Message);

        // Within the caps but far more pixels than the file holds: the row data must be there.
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), 16000);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), 16000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        e = Assert.Throws<ConvGLException>(() => ImageIO.Decode(bmp, ImageChannels.Auto, "bomb.bmp"));
        Assert.Contains("the BMP is truncated: 16000x16000 at 24 bits needs 768000054 bytes, the file has 1536", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);
    }

    [Fact]
    public void HeaderSizeOverTheCaps_NamesTheCap()
    {
        var e = Assert.Throws<ConvGLException>(() => ImageIO.CheckDimensions("big.png", 20000, 20000));
        Assert.Equal($"cannot decode 'big.png' as an image ({ImageIO.Formats}): its header says 20000x20000 pixels, over the limit of " +
                     $"{Limits.ImageSide} a side and {Limits.ImagePixels} pixels (16384x16384) in all", e.Message);
        Assert.Throws<ConvGLException>(() => ImageIO.CheckDimensions("wide.png", 40000, 1));
        ImageIO.CheckDimensions("ok.png", 16384, 16384);
    }

    [Fact]
    public void Tga_PromisingMorePixelsThanItHolds_IsRefused()
    {
        byte[] tga = new byte[60];
        tga[2] = 2; // uncompressed true colour
        BinaryPrimitives.WriteUInt16LittleEndian(tga.AsSpan(12), 16384);
        BinaryPrimitives.WriteUInt16LittleEndian(tga.AsSpan(14), 16384);
        tga[16] = 24;
        var e = Assert.Throws<ConvGLException>(() => ImageIO.Decode(tga, ImageChannels.Auto, "big.tga"));
        Assert.Contains("the TGA is truncated", e.Message);
        tga[2] = 10; // RLE: at most 128 pixels a packet
        e = Assert.Throws<ConvGLException>(() => ImageIO.Decode(tga, ImageChannels.Auto, "big.tga"));
        Assert.Contains("the TGA is truncated", e.Message);
    }

    [Fact]
    public void PsdAndHdr_AreRefusedByName_BeforeAnyDecoding()
    {
        byte[] psd = new byte[40];
        "8BPS"u8.CopyTo(psd);
        BinaryPrimitives.WriteUInt32BigEndian(psd.AsSpan(14), 300000); // a huge height ran the stb decoder for 15 s
        var e = Assert.IsType<ConvGLException>(DecodeWithin(psd, TimeSpan.FromSeconds(10), "a.psd"));
        Assert.Contains("Photoshop (PSD) files are not supported", e.Message);
        e = Assert.IsType<ConvGLException>(DecodeWithin("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 9 +X 9\n"u8.ToArray(), TimeSpan.FromSeconds(10), "a.hdr"));
        Assert.Contains("HDR files are not supported", e.Message);
    }

    [Fact]
    public void Png_WithAGarbledChunk_IsOneCleanLine()
    {
        // The old decoder echoed a chunk type's raw bytes (NULs included) into its message.
        using var dir = new TempDir();
        string path = dir.File("p.png");
        ImageIO.SavePng(path, Tensor.Chw(1, 4, 4));
        byte[] png = File.ReadAllBytes(path);
        // Overwrite the type of the chunk after IHDR (offset 8 + 25 + 4) with NULs and a newline.
        png.AsSpan(37, 4).Fill(0);
        png[38] = (byte)'\n';
        var e = Assert.IsType<ConvGLException>(DecodeWithin(png, TimeSpan.FromSeconds(10), "p.png"));
        Assert.Contains("'p.png'", e.Message);
        Assert.True(ErrorText.IsOneLine(e.Message), e.Message);
    }

    [Fact]
    public void Gif_HandBuilt_DecodesItsPalette()
    {
        // GIF89a, 2x1, a global palette of two colours, LZW (minimum code size 2) of the codes clear(4), 0, 1, end(5)
        // at 3 bits each, least significant bit first: 0x44 0x0A.
        byte[] gif =
        [
            .. "GIF89a"u8, 2, 0, 1, 0, 0x80, 0, 0,
            10, 20, 30, 200, 100, 50,
            0x2C, 0, 0, 0, 0, 2, 0, 1, 0, 0,
            2, 2, 0x44, 0x0A, 0, 0x3B,
        ];
        Tensor t = ImageIO.Decode(gif, ImageChannels.Auto, "a.gif");
        Assert.Equal([3, 1, 2], t.Shape);
        Assert.Equal([10 / 255f, 200 / 255f, 20 / 255f, 100 / 255f, 30 / 255f, 50 / 255f], t.Data);
        Tensor gray = ImageIO.Decode(gif, ImageChannels.Gray, "a.gif");
        Assert.Equal(ImageIO.GrayOf(10 / 255f, 20 / 255f, 30 / 255f), gray.Data[0]);
        var e = Assert.Throws<ConvGLException>(() => ImageIO.Decode(gif[..^5], ImageChannels.Auto, "cut.gif"));
        Assert.Contains("'cut.gif'", e.Message);
    }

    [Fact]
    public void Load_DevZeroAndOversizedFiles_AreRefusedBeforeReading()
    {
        var e = Assert.Throws<ConvGLException>(() => ImageIO.Load("/dev/zero"));
        Assert.Equal("cannot read image '/dev/zero': not a regular file (a device, FIFO or socket)", e.Message);
        using var dir = new TempDir();
        string big = dir.File("big.png");
        using (var f = File.Create(big)) f.SetLength(Limits.ImageFileBytes + 1);
        e = Assert.Throws<ConvGLException>(() => ImageIO.Load(big));
        Assert.Contains("over the 1.5 GiB limit for an image", e.Message);
    }
}
