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

    /// <summary>A progressive JPEG (OpenCV's encoder, a photo-like gradient with texture) cut anywhere after its first
    /// scan: libjpeg-turbo decoded the scans it had into a blurred whole picture and said success (the audit's file cut
    /// at half: 467 of 477 rows off by up to 0.42). Now a truncation error; the whole file decodes.</summary>
    [Fact]
    public void ProgressiveJpeg_CutAfterItsFirstScan_IsATruncationError()
    {
        using var mat = new OpenCvSharp.Mat(120, 160, OpenCvSharp.MatType.CV_8UC3);
        for (int y = 0; y < 120; y++)
            for (int x = 0; x < 160; x++)
                mat.Set(y, x, new OpenCvSharp.Vec3b((byte)(x * 255 / 159), (byte)(y * 2), (byte)((x * y + 37 * ((x / 8 + y / 8) % 2)) % 256)));
        byte[] full = mat.ImEncode(".jpg", new OpenCvSharp.ImageEncodingParam(OpenCvSharp.ImwriteFlags.JpegProgressive, 1));
        int firstScan = full.AsSpan().IndexOf([(byte)0xFF, (byte)0xDA]);
        Assert.True(firstScan > 0 && full.AsSpan(firstScan + 2).IndexOf([(byte)0xFF, (byte)0xDA]) > 0, "expected a progressive JPEG (several scans)");
        Assert.Null(DecodeWithin(full, TimeSpan.FromSeconds(10)));
        foreach (int n in new[] { firstScan + 200, full.Length / 2, full.Length * 3 / 4, full.Length - 2 })
        {
            var c = Assert.IsType<ConvGLException>(DecodeWithin(full[..n], TimeSpan.FromSeconds(10), "cut.jpg"));
            Assert.Contains("'cut.jpg'", c.Message);
            Assert.Contains("truncated", c.Message);
        }
    }

    /// <summary>The fuzz audit: a 1.6 KB progressive JPEG whose frame header was patched to claim 8000x4000 decoded to 32
    /// grey megapixels in 2.5 GB. Its first DC scan takes a bit a block at least: 8000x4000 with 4:2:0 (OpenCV's default)
    /// is 500,000 luma and 2 x 125,000 chroma blocks, 93.75 KB at least; so it is refused before the pixel buffer
    /// exists. A real 640x480 progressive photo of the same kind decodes.</summary>
    [Fact]
    public void ProgressiveJpeg_ClaimingMoreBlocksThanItsBitsHold_IsRefusedBeforeDecoding()
    {
        using var mat = new OpenCvSharp.Mat(24, 32, OpenCvSharp.MatType.CV_8UC3);
        var rng = new Random(1);
        for (int y = 0; y < 24; y++)
            for (int x = 0; x < 32; x++) mat.Set(y, x, new OpenCvSharp.Vec3b((byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256)));
        byte[] jpg = mat.ImEncode(".jpg", new OpenCvSharp.ImageEncodingParam(OpenCvSharp.ImwriteFlags.JpegProgressive, 1));
        int sof = jpg.AsSpan().IndexOf([(byte)0xFF, (byte)0xC2]);
        Assert.True(sof > 0, "expected a progressive JPEG");
        Assert.Null(DecodeWithin(jpg, TimeSpan.FromSeconds(10)));
        jpg[sof + 5] = 4000 >> 8; jpg[sof + 6] = 4000 & 255; // height
        jpg[sof + 7] = 8000 >> 8; jpg[sof + 8] = 8000 & 255; // width
        JpegScanResult scan = JpegScan.Walk(jpg);
        Assert.Equal(JpegCoverage.TooSmall, scan.Coverage);
        Assert.Equal((8000, 4000), (scan.Width, scan.Height));
        Assert.Equal(8.0 * jpg.Length / 750_000, scan.Fraction, 9);
        var c = Assert.IsType<ConvGLException>(DecodeWithin(jpg, TimeSpan.FromSeconds(10), "p.jpg"));
        Assert.Contains("'p.jpg'", c.Message);
        Assert.Contains("cannot hold the 8000x4000 progressive JPEG its header claims (its first scan takes a bit for each of its 750000 blocks at least)", c.Message);
        Assert.True(ErrorText.IsOneLine(c.Message), c.Message);
        // A real photo-sized progressive JPEG is far above the bound (a flat grey 640x480 one: its blocks' bits and more).
        using var flat = new OpenCvSharp.Mat(480, 640, OpenCvSharp.MatType.CV_8UC3, new OpenCvSharp.Scalar(128, 128, 128));
        byte[] grey = flat.ImEncode(".jpg", new OpenCvSharp.ImageEncodingParam(OpenCvSharp.ImwriteFlags.JpegProgressive, 1));
        Assert.Equal(JpegCoverage.Unknown, JpegScan.Walk(grey).Coverage);
        Assert.Null(DecodeWithin(grey, TimeSpan.FromSeconds(10)));
    }

    /// <summary>A PNG whose header is impossible (bit depth 7, a width of 0) was called truncated (the hostile-input audit):
    /// what is wrong with its IHDR is said.</summary>
    [Fact]
    public void Png_WithAnImpossibleHeader_SaysWhatIsWrongWithIt()
    {
        string file = Path.Combine(Path.GetTempPath(), $"convgl-png-ihdr-{Environment.ProcessId}.png");
        try
        {
            ImageIO.SavePng(file, Tensor.Chw(3, 8, 8));
            byte[] png = File.ReadAllBytes(file);
            Assert.Null(ImageIO.PngHeaderProblem(png));
            Assert.Equal(2, png[25]); // RGB
            foreach ((int at, byte[] value, string why) in new[]
            {
                (24, new byte[] { 7 }, "its header is invalid (IHDR: bit depth 7 with colour type 2, which takes 8, 16)"),
                (16, new byte[] { 0, 0, 0, 0 }, "its header is invalid (IHDR: 0x8 pixels)"),
                (25, new byte[] { 5 }, "its header is invalid (IHDR: colour type 5; PNG has 0, 2, 3, 4 and 6)"),
            })
            {
                byte[] bad = (byte[])png.Clone();
                value.CopyTo(bad, at);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bad.AsSpan(29), Crc32(bad.AsSpan(12, 17)));
                Assert.Equal(why, ImageIO.PngHeaderProblem(bad));
                var e = Assert.IsType<ConvGLException>(DecodeWithin(bad, TimeSpan.FromSeconds(10), "bad.png"));
                Assert.Contains(why, e.Message);
            }
            // A palette PNG without its PLTE chunk: a sound header, data the decoder will not read ("the decoder says InvalidInput").
            static byte[] Chunk(string type, byte[] data)
            {
                byte[] c = [0, 0, 0, 0, .. System.Text.Encoding.ASCII.GetBytes(type), .. data, 0, 0, 0, 0];
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(c, data.Length);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(c.AsSpan(8 + data.Length), Crc32(c.AsSpan(4, 4 + data.Length)));
                return c;
            }
            var z = new MemoryStream();
            using (var zs = new System.IO.Compression.ZLibStream(z, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
                zs.Write(new byte[8 * 9]);
            byte[] ihdr = new byte[13];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(ihdr, 8);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), 8);
            (ihdr[8], ihdr[9]) = (8, 3);
            byte[] noPalette = [.. png[..8], .. Chunk("IHDR", ihdr), .. Chunk("IDAT", z.ToArray()), .. Chunk("IEND", [])];
            Assert.Null(ImageIO.PngHeaderProblem(noPalette));
            var p = Assert.IsType<ConvGLException>(DecodeWithin(noPalette, TimeSpan.FromSeconds(10), "noplte.png"));
            Assert.Contains("its data does not decode: damaged, or a variant the decoder does not read (a palette image without its palette", p.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>A PNG whose IDAT holds garbage but which still ends in its IEND chunk was called truncated (libpng says
    /// incomplete for data it cannot inflate): it is damaged; the same file cut short is truncated.</summary>
    [Fact]
    public void Png_WithGarbageImageData_IsDamaged_AndCutShortIsTruncated()
    {
        string file = Path.Combine(Path.GetTempPath(), $"convgl-png-{Environment.ProcessId}.png");
        try
        {
            var t = Tensor.Chw(3, 64, 64);
            var rng = new Random(3);
            for (int i = 0; i < t.Length; i++) t.Data[i] = (float)rng.NextDouble();
            ImageIO.SavePng(file, t);
            byte[] png = File.ReadAllBytes(file);
            Assert.True(ImageIO.EndsWithIend(png));
            int idat = png.AsSpan().IndexOf("IDAT"u8);
            byte[] damaged = (byte[])png.Clone();
            for (int i = idat + 4 + 40; i < idat + 4 + 400; i++) damaged[i] = (byte)rng.Next(256);
            // With its CRC made right again, as the audit's file had it: only the deflate stream is wrong.
            int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(damaged.AsSpan(idat - 4));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(damaged.AsSpan(idat + 4 + length), Crc32(damaged.AsSpan(idat, 4 + length)));
            Assert.Equal(Crc32(png.AsSpan(idat, 4 + length)), System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(idat + 4 + length)));
            var d = Assert.IsType<ConvGLException>(DecodeWithin(damaged, TimeSpan.FromSeconds(10), "bad.png"));
            Assert.Contains("its pixel data is damaged", d.Message);
            // Not even a zlib stream (the audit's 'notzlib' x 10): libpng says incomplete, the file's end says damaged.
            static byte[] Chunk(string type, byte[] data)
            {
                byte[] c = [0, 0, 0, 0, .. System.Text.Encoding.ASCII.GetBytes(type), .. data, 0, 0, 0, 0];
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(c, data.Length);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(c.AsSpan(8 + data.Length), Crc32(c.AsSpan(4, 4 + data.Length)));
                return c;
            }
            byte[] notZlib = [.. png[..33], .. Chunk("IDAT", [.. Enumerable.Repeat("notzlib"u8.ToArray(), 10).SelectMany(b => b)]), .. Chunk("IEND", [])];
            Assert.True(ImageIO.EndsWithIend(notZlib));
            d = Assert.IsType<ConvGLException>(DecodeWithin(notZlib, TimeSpan.FromSeconds(10), "bad.png"));
            Assert.Contains("its pixel data is damaged (the PNG ends properly, but its image data does not decode)", d.Message);
            var c = Assert.IsType<ConvGLException>(DecodeWithin(png[..(png.Length / 2)], TimeSpan.FromSeconds(10), "cut.png"));
            Assert.Contains("truncated", c.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>PNG's CRC-32 (ISO 3309, reflected polynomial 0xEDB88320), bit by bit.</summary>
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
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

    /// <summary>A PNG signature, an IHDR of the given size and colour type (8 bits), a few bytes of IDAT and IEND,
    /// with valid CRCs: a decoder reads its header, and the data ends long before the pixels do.</summary>
    private static byte[] PngHeader(int w, int h, byte colourType)
    {
        var b = new List<byte>([0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10]);
        void Chunk(string type, byte[] data)
        {
            var len = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(len, (uint)data.Length);
            b.AddRange(len);
            b.AddRange(System.Text.Encoding.ASCII.GetBytes(type));
            b.AddRange(data);
            b.AddRange(new byte[4]); // CRC, filled in below
        }
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
        ihdr[8] = 8;
        ihdr[9] = colourType;
        Chunk("IHDR", ihdr);
        Chunk("IDAT", [0x78, 0x9C, 0x62, 0x60, 0x00]);
        Chunk("IEND", []);
        return ConvGL.Core.Tests.Fuzz.Mutator.FixPngCrcs([.. b]);
    }

    /// <summary>The same JPEG with its frame header (SOF0) claiming another size: the scan data stays 24x16.</summary>
    private static byte[] JpegClaiming(int w, int h)
    {
        byte[] jpeg = Jpeg(24, 16);
        int sof = jpeg.AsSpan().IndexOf((ReadOnlySpan<byte>)[0xFF, 0xC0]);
        Assert.True(sof > 0, "no SOF0 marker in stb's JPEG");
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), (ushort)h);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), (ushort)w);
        return jpeg;
    }

    [Fact]
    public void DecodedSizeOverTheCap_IsRefusedFromTheHeader_BeforeAnyPixelBuffer()
    {
        // 6000 x 6000 is within the side and pixel caps; as RGB it needs 36e6 * 16 bytes = 549.3 MiB, over 512 MiB.
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach ((byte[] file, string name) in new[] { (PngHeader(6000, 6000, 2), "bomb.png"), (JpegClaiming(6000, 6000), "bomb.jpg") })
        {
            var e = Assert.IsType<ConvGLException>(DecodeWithin(file, TimeSpan.FromSeconds(10), name));
            Assert.Equal($"cannot decode '{name}' as an image ({ImageIO.Formats}): decoding its 6000x6000 pixels as RGB would take 549.3 MiB " +
                         "(8-bit pixels and the float32 image), over the 512 MiB limit for a decoded image; use a smaller image or --channels gray", e.Message);
        }
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "a pixel buffer was allocated before the refusal");
        // As gray it needs 8 bytes a pixel (275 MiB): allowed, so decoding starts and finds the data damaged.
        var g = Assert.Throws<ConvGLException>(() => ImageIO.Decode(PngHeader(6000, 6000, 2), ImageChannels.Gray, "bomb.png"));
        Assert.Equal($"cannot decode 'bomb.png' as an image ({ImageIO.Formats}): its pixel data is damaged", g.Message);
        // A gray file is loaded as gray unless RGB is asked for.
        Assert.DoesNotContain("limit", Assert.Throws<ConvGLException>(() => ImageIO.Decode(PngHeader(6000, 6000, 0), ImageChannels.Auto, "gray.png")).Message);
        var rgb = Assert.Throws<ConvGLException>(() => ImageIO.Decode(PngHeader(6000, 6000, 0), ImageChannels.Rgb, "gray.png"));
        Assert.EndsWith("over the 512 MiB limit for a decoded image; use a smaller image or --channels gray", rgb.Message);
        // Gray: 9000 x 9000 x 8 bytes = 618 MiB; no hint to load it as gray, it is already.
        var big = Assert.Throws<ConvGLException>(() => ImageIO.Decode(PngHeader(9000, 9000, 0), ImageChannels.Auto, "gray.png"));
        Assert.EndsWith("decoding its 9000x9000 pixels as gray would take 618 MiB (8-bit pixels and the float32 image), over the 512 MiB limit for a decoded image; use a smaller image", big.Message);
        // A colour file too large even as gray (9000 x 9000: 618 MiB either way) is not told to try gray.
        var both = Assert.Throws<ConvGLException>(() => ImageIO.Decode(PngHeader(9000, 9000, 2), ImageChannels.Auto, "colour.png"));
        Assert.EndsWith("over the 512 MiB limit for a decoded image; use a smaller image", both.Message);
        // Exactly at the cap (8192 x 4096 as RGB is 512 MiB) is allowed: the error is the truncation, not the cap.
        Assert.DoesNotContain("limit", Assert.Throws<ConvGLException>(() => ImageIO.Decode(PngHeader(8192, 4096, 2), ImageChannels.Auto, "edge.png")).Message);
        Assert.Contains("limit", Assert.Throws<ConvGLException>(() => ImageIO.Decode(PngHeader(8192, 4097, 2), ImageChannels.Auto, "edge.png")).Message);
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

    /// <summary>The fuzz audit's RLE TGA: 32x24 true colour in 24 rows of two raw packets of 16 pixels (1 + 48 bytes each),
    /// cut at half, decoded with its lower 12 rows black and no error. Now: truncated, naming the pixels covered; the whole
    /// file decodes; a header claiming 33 columns over data for 32 is truncated too.</summary>
    [Fact]
    public void RleTga_WhosePacketsEndBeforeTheLastPixel_IsTruncated()
    {
        var tga = new List<byte>(new byte[18]);
        tga[2] = 10; // RLE true colour
        tga[12] = 32; tga[14] = 24; tga[16] = 24; tga[17] = 0x20; // 32x24, 24 bits, top-left origin
        for (int row = 0; row < 24; row++)
            for (int half = 0; half < 2; half++)
            {
                tga.Add(15); // a raw packet of 16 pixels
                for (int i = 0; i < 48; i++) tga.Add((byte)(row * 10 + i));
            }
        byte[] whole = tga.ToArray();
        Assert.Equal(18 + 24 * 2 * 49, whole.Length);
        Tensor t = ImageIO.Decode(whole, ImageChannels.Auto, "rle.tga");
        Assert.Equal([3, 24, 32], t.Shape);
        Assert.Equal(232 / 255f, t[0, 23, 0], 6); // the last row's first pixel: B G R = 230 231 232
        Assert.Equal(230 / 255f, t[2, 23, 0], 6);
        Assert.Equal((long)(12 * 32), ImageIO.RlePixels(whole[..(18 + 24 * 49)], 18, 768, 3).Covered);
        var e = Assert.Throws<ConvGLException>(() => ImageIO.Decode(whole[..1185], ImageChannels.Auto, "cut.tga"));
        Assert.Contains("'cut.tga'", e.Message);
        Assert.EndsWith("the TGA is truncated: its run-length packets end after 368 of the 32x24 = 768 pixels its header promises", e.Message);
        // A run packet (bit 7) of 128 pixels takes 1 + 3 bytes; one cut inside its pixel covers none.
        Assert.Equal((128L, 200L), ImageIO.RlePixels([0xFF, 1, 2, 3], 0, 200, 3));
        Assert.Equal((0L, 200L), ImageIO.RlePixels([0xFF, 1, 2], 0, 200, 3));
        whole[12] = 33;
        Assert.Contains("the TGA is truncated", Assert.Throws<ConvGLException>(() => ImageIO.Decode(whole, ImageChannels.Auto, "wide.tga")).Message);
    }

    /// <summary>The review: an RLE colour-mapped TGA with a 15-bit map was refused as truncated: each map entry takes two
    /// bytes (as stb reads it), the walk counted 15 bits and started inside the map.</summary>
    [Fact]
    public void RleTga_WithA15BitColourMap_Decodes()
    {
        var tga = new List<byte>(new byte[18]);
        tga[1] = 1; tga[2] = 9;      // a colour map; RLE colour-mapped
        tga[5] = 64; tga[7] = 15;    // 64 entries of 15 bits
        tga[12] = 64; tga[14] = 64;  // 64x64
        tga[16] = 8; tga[17] = 0x20; // 8-bit indices, top-left origin
        for (int e = 0; e < 64; e++) { tga.Add((byte)(e << 2)); tga.Add((byte)(e >> 3)); } // 5-5-5 entries, 2 bytes each
        for (int p = 0; p < 32; p++)
        {
            tga.Add(127); // a raw packet of 128 indices
            for (int i = 0; i < 128; i++) tga.Add((byte)((p * 128 + i) % 64));
        }
        byte[] file = tga.ToArray();
        Assert.Equal((4096L, 4096L), ImageIO.RlePixels(file, 18 + 64 * 2, 4096, 1));
        Tensor t = ImageIO.Decode(file, ImageChannels.Auto, "map15.tga");
        Assert.Equal([3, 64, 64], t.Shape);
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

    /// <summary>The mutation-fuzz audit: a PNG, GIF or WebP missing only its last byte (or a later GIF frame, or a PNG
    /// chunk claiming 0x7fffffff bytes after the image data) decoded as if whole, since the decoders stop once the first
    /// picture is complete. The container is walked after decoding: each is one "truncated" error naming what is cut;
    /// whole files, and bytes a writer appended after the end, still load with the same pixels.</summary>
    [Fact]
    public void PngGifAndWebp_CutAfterTheirPixels_AreTruncated_WholeOnesLoad()
    {
        var t = Tensor.Chw(3, 5, 7);
        for (int i = 0; i < t.Data.Length; i++) t.Data[i] = (i * 37 % 256) / 255f;
        string file = Path.Combine(Path.GetTempPath(), $"convgl-cut-{Guid.NewGuid():N}.png");
        byte[] png;
        try
        {
            ImageIO.SavePng(file, t);
            png = File.ReadAllBytes(file);
        }
        finally { File.Delete(file); }
        byte[][] gifs = Fuzz.FormatSeeds.Gifs(), webps = Fuzz.FormatSeeds.Webps();
        foreach (byte[] whole in new[] { png }.Concat(gifs).Concat(webps))
        {
            Tensor want = ImageIO.Decode(whole);
            Assert.Equal(want.Data, ImageIO.Decode([.. whole, .. "appended"u8]).Data);
            Exception? e = DecodeWithin(whole[..^1], TimeSpan.FromSeconds(20), "cut.img");
            var c = Assert.IsType<ConvGLException>(e);
            Assert.True(c.Message.StartsWith("cannot decode 'cut.img' as an image (PNG, JPEG, BMP, GIF, WebP, TGA): the file is truncated", StringComparison.Ordinal), c.Message);
        }
        // Shorter than the decoder's first look: a PNG's first 20 bytes are a PNG cut short; a text file of 26 bytes named
        // .png, or one byte, is no picture at all (the newcomer review: both were "truncated").
        foreach ((byte[] bytes, string why) in new[] { (png[..20], "the file is truncated"), ("hello world, not an image\n"u8.ToArray(), "the format is not recognised"),
                                                       ("h"u8.ToArray(), "the format is not recognised"), ([0xFF], "the file is truncated"), ([], "the file is empty") })
        {
            var c = Assert.Throws<ConvGLException>(() => ImageIO.Decode(bytes, name: "short.png"));
            Assert.Equal($"cannot decode 'short.png' as an image (PNG, JPEG, BMP, GIF, WebP, TGA): {why}", c.Message);
        }
        Assert.Equal("it ends at byte " + (png.Length - 12) + " before its IEND chunk", ImageIO.ContainerCutShort(png.AsSpan(0, png.Length - 12), SkiaSharp.SKEncodedImageFormat.Png));
        Assert.Equal($"its IEND chunk at byte {png.Length - 12} needs 12 bytes, the file ends 11 bytes after its start",
                     ImageIO.ContainerCutShort(png.AsSpan(0, png.Length - 1), SkiaSharp.SKEncodedImageFormat.Png));
        // A chunk after the image data that claims 0x7fffffff bytes, before an intact IEND.
        byte[] huge = [.. png[..^12], 0x7f, 0xff, 0xff, 0xff, (byte)'t', (byte)'E', (byte)'X', (byte)'t', .. png[^12..]];
        Assert.Contains("its tEXt chunk at byte " + (png.Length - 12) + " needs 2147483659 bytes", ImageIO.ContainerCutShort(huge, SkiaSharp.SKEncodedImageFormat.Png));
        // The two-frame GIF cut inside its second frame: the first decodes whole, the file is still cut.
        byte[] anim = gifs[2];
        Assert.Equal("it ends at byte " + (anim.Length - 6) + " inside a data block", ImageIO.ContainerCutShort(anim.AsSpan(0, anim.Length - 6), SkiaSharp.SKEncodedImageFormat.Gif));
        Assert.Equal("it ends at byte " + (anim.Length - 1) + " before the GIF trailer", ImageIO.ContainerCutShort(anim.AsSpan(0, anim.Length - 1), SkiaSharp.SKEncodedImageFormat.Gif));
        foreach (byte[] w in webps)
            Assert.Equal($"its RIFF header gives {w.Length} bytes, the file has {w.Length - 1}", ImageIO.ContainerCutShort(w.AsSpan(0, w.Length - 1), SkiaSharp.SKEncodedImageFormat.Webp));
    }
}
