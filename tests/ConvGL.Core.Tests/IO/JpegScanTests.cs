using System.Buffers.Binary;
using System.Diagnostics;
using ConvGL.Core.IO;
using OpenCvSharp;
using SkiaSharp;

namespace ConvGL.Core.Tests.IO;

/// <summary><see cref="JpegScan"/>: every JPEG the encoders at hand write (OpenCV's libjpeg-turbo with its sampling,
/// restart and optimisation options, Skia's) is covered in full and still loads; a frame header claiming more than the
/// scan data holds, or data cut in its scan, is refused before the pixel buffer exists.</summary>
public class JpegScanTests
{
    // OpenCV's IMWRITE_JPEG_SAMPLING_FACTOR (7), which OpenCvSharp's enum lacks, and its values: luma H and V in the
    // high byte, chroma 1x1.
    private const ImwriteFlags SamplingFactor = (ImwriteFlags)7;

    /// <summary>A photo-like colour picture: gradients, a checker texture and a product term, so that every block has
    /// AC coefficients and the Huffman codes vary.</summary>
    private static Mat Picture(int w, int h, bool gray)
    {
        var mat = new Mat(h, w, MatType.CV_8UC3);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                mat.Set(y, x, new Vec3b((byte)(x * 255 / Math.Max(w - 1, 1)), (byte)(y * 7 + 40), (byte)((x * y + 37 * ((x / 8 + y / 8) % 2)) % 256)));
        if (!gray) return mat;
        Mat g = mat.CvtColor(ColorConversionCodes.BGR2GRAY);
        mat.Dispose();
        return g;
    }

    private static byte[] OpenCvJpeg(int w, int h, bool gray, int sampling = 0x221111, int quality = 90, int restart = 0, bool optimize = false,
        bool progressive = false)
    {
        using Mat mat = Picture(w, h, gray);
        return mat.ImEncode(".jpg",
            new ImageEncodingParam(ImwriteFlags.JpegQuality, quality),
            new ImageEncodingParam(SamplingFactor, sampling),
            new ImageEncodingParam(ImwriteFlags.JpegRstInterval, restart),
            new ImageEncodingParam(ImwriteFlags.JpegOptimize, optimize ? 1 : 0),
            new ImageEncodingParam(ImwriteFlags.JpegProgressive, progressive ? 1 : 0));
    }

    private static byte[] SkiaJpeg(int w, int h, bool gray, SKJpegEncoderDownsample downsample, int quality)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, gray ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 255 / Math.Max(w - 1, 1)), (byte)(y * 7 + 40), (byte)((x * y + 37 * ((x / 8 + y / 8) % 2)) % 256)));
        using SKPixmap pixmap = bitmap.PeekPixels();
        using SKData? data = pixmap.Encode(new SKJpegEncoderOptions(quality, downsample, SKJpegEncoderAlphaOption.Ignore));
        Assert.NotNull(data);
        return data.ToArray();
    }

    /// <summary>The offset of the first FF marker segment with this code before the first scan, following the lengths
    /// (a table's bytes can look like a marker).</summary>
    private static int Segment(byte[] jpeg, byte marker)
    {
        int pos = 2;
        while (pos + 4 <= jpeg.Length && jpeg[pos] == 0xFF)
        {
            if (jpeg[pos + 1] == marker) return pos;
            if (jpeg[pos + 1] == 0xDA) break;
            pos += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(pos + 2));
        }
        throw new InvalidOperationException($"no FF {marker:X2} segment before the first scan");
    }

    /// <summary>Where the first scan's entropy-coded data starts (after its SOS segment).</summary>
    private static int ScanData(byte[] jpeg)
    {
        int sos = Segment(jpeg, 0xDA);
        return sos + 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(sos + 2));
    }

    private static byte[] Claiming(byte[] jpeg, int w, int h)
    {
        byte[] copy = (byte[])jpeg.Clone();
        int sof = Segment(copy, 0xC0);
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(sof + 5), (ushort)h);
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(sof + 7), (ushort)w);
        return copy;
    }

    private static void AssertComplete(byte[] jpeg, int w, int h, string what)
    {
        JpegScanResult r = JpegScan.Walk(jpeg);
        Assert.True(r.Coverage == JpegCoverage.Complete, $"{what}: {r}");
        Assert.Equal((w, h), (r.Width, r.Height));
        bool gray = jpeg[Segment(jpeg, 0xC0) + 9] == 1;
        Tensor t = ImageIO.Decode(jpeg, ImageChannels.Auto, "ok.jpg");
        Assert.Equal([gray ? 1 : 3, h, w], t.Shape);
    }

    private static ConvGLException AssertRefused(byte[] jpeg, string name = "bad.jpg")
    {
        Exception? e = ImageLimitTests.DecodeWithin(jpeg, TimeSpan.FromSeconds(10), name);
        var c = Assert.IsType<ConvGLException>(e);
        Assert.Contains($"'{name}'", c.Message);
        Assert.True(ErrorText.IsOneLine(c.Message), c.Message);
        return c;
    }

    public static TheoryData<int, int> Sizes => new() { { 1, 1 }, { 7, 13 }, { 17, 9 }, { 640, 400 } };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void OpenCvJpegs_EverySamplingQualityAndOption_AreCoveredInFull_AndLoad(int w, int h)
    {
        // 4:4:4, 4:2:2, 4:4:0, 4:2:0 and 4:1:1 (luma 4x1: 32x8-pixel MCUs).
        foreach (int sampling in new[] { 0x111111, 0x211111, 0x121111, 0x221111, 0x411111 })
            foreach (int quality in new[] { 30, 75, 100 })
                AssertComplete(OpenCvJpeg(w, h, false, sampling, quality), w, h, $"{w}x{h} sampling {sampling:X} quality {quality}");
        AssertComplete(OpenCvJpeg(w, h, false, optimize: true), w, h, $"{w}x{h} optimised Huffman tables");
        AssertComplete(OpenCvJpeg(w, h, true, quality: 60), w, h, $"{w}x{h} gray");
        AssertComplete(OpenCvJpeg(w, h, true, optimize: true), w, h, $"{w}x{h} gray, optimised");
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void SkiaJpegs_ColourAndGray_AreCoveredInFull_AndLoad(int w, int h)
    {
        foreach (SKJpegEncoderDownsample d in new[] { SKJpegEncoderDownsample.Downsample420, SKJpegEncoderDownsample.Downsample422, SKJpegEncoderDownsample.Downsample444 })
            foreach (int quality in new[] { 40, 90 })
                AssertComplete(SkiaJpeg(w, h, false, d, quality), w, h, $"{w}x{h} {d} quality {quality}");
        AssertComplete(SkiaJpeg(w, h, true, SKJpegEncoderDownsample.Downsample420, 80), w, h, $"{w}x{h} gray");
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(3, false)]
    [InlineData(7, true)]
    [InlineData(2, true)]
    public void RestartMarkers_AreFollowed(int interval, bool gray)
    {
        // OpenCV's restart interval counts MCUs; a gray scan's MCU is one block.
        byte[] jpeg = OpenCvJpeg(100, 60, gray, restart: interval);
        Assert.True(jpeg.AsSpan(ScanData(jpeg)).IndexOf([(byte)0xFF, (byte)0xD7]) > 0, "expected at least eight restart intervals");
        AssertComplete(jpeg, 100, 60, $"restart every {interval}");
        // A restart marker taken out (with the interval before it) is a gap in the data.
        int rst = jpeg.AsSpan(ScanData(jpeg)).IndexOf([(byte)0xFF, (byte)0xD3]) + ScanData(jpeg);
        byte[] gap = [.. jpeg[..rst], .. jpeg[(rst + 2)..]];
        JpegScanResult r = JpegScan.Walk(gap);
        Assert.Equal(JpegCoverage.Short, r.Coverage);
        Assert.Contains("where RST3 belongs", r.Reason);
        AssertRefused(gap);
    }

    [Fact]
    public void Progressive_IsUnknown_AndStillLoads()
    {
        byte[] jpeg = OpenCvJpeg(160, 120, false, progressive: true);
        JpegScanResult r = JpegScan.Walk(jpeg);
        Assert.Equal(JpegCoverage.Unknown, r.Coverage);
        Assert.Contains("SOF2", r.Reason);
        Assert.Equal([3, 120, 160], ImageIO.Decode(jpeg, ImageChannels.Auto, "p.jpg").Shape);
    }

    [Theory]
    [InlineData(640, 401)]
    [InlineData(641, 400)]
    [InlineData(640, 800)]
    [InlineData(1280, 400)]
    public void FrameHeaderClaimingMore_IsRefused(int w, int h)
    {
        byte[] jpeg = Claiming(OpenCvJpeg(640, 400, false), w, h);
        JpegScanResult r = JpegScan.Walk(jpeg);
        Assert.Equal(JpegCoverage.Short, r.Coverage);
        Assert.True(r.Fraction < 1, r.ToString());
        var e = AssertRefused(jpeg);
        Assert.Contains($"the JPEG's image data covers only", e.Message);
        Assert.EndsWith($"% of its {w}x{h} header (damaged or truncated file)", e.Message);
        // A header claiming less than the data holds is not this check's business: the decoder stops where it says.
        AssertComplete(Claiming(OpenCvJpeg(640, 400, false), 600, 300), 600, 300, "a header claiming less");
    }

    /// <summary>The audit's file: a 640x400 photo whose SOF0 says 4000x8000 took 12 s and 1.9 GB to decode into 98.7%
    /// grey. It is now refused from the scan data before the 128 MB pixel buffer, in a fraction of a second.</summary>
    [Fact]
    public void Photo_PatchedTo4000x8000_IsRefusedQuickly_BeforeThePixelBuffer()
    {
        byte[] jpeg = Claiming(OpenCvJpeg(640, 400, false), 4000, 8000);
        _ = JpegScan.Walk(jpeg); // warm up the code paths before timing
        var clock = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ConvGLException>(() => ImageIO.Decode(jpeg, ImageChannels.Auto, "mid.jpg"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        clock.Stop();
        Assert.Equal($"cannot decode 'mid.jpg' as an image ({ImageIO.Formats}): the JPEG's image data covers only 0.8% of its 4000x8000 header " +
                     "(damaged or truncated file)", e.Message);
        Assert.True(allocated < 16 << 20, $"{allocated} bytes allocated before the refusal");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.999)]
    public void ScanDataCut_ThenGivenAnEndMarker_IsRefused(double at)
    {
        byte[] jpeg = OpenCvJpeg(640, 400, false);
        int start = ScanData(jpeg), end = jpeg.Length - 2;
        int cut = start + (int)((end - start) * at);
        byte[] damaged = [.. jpeg[..cut], 0xFF, 0xD9];
        JpegScanResult r = JpegScan.Walk(damaged);
        Assert.Equal(JpegCoverage.Short, r.Coverage);
        Assert.InRange(r.Fraction, Math.Max(at - 0.2, 0), at + 0.01);
        Assert.Contains("damaged or truncated file", AssertRefused(damaged).Message);
        // Without the end marker too (the end-of-image check would have caught this one already).
        Assert.Equal(JpegCoverage.Short, JpegScan.Walk(jpeg[..cut]).Coverage);
    }

    [Fact]
    public void ScanDataOverwrittenWithInvalidCodes_IsRefused()
    {
        // All-ones bits (stuffed FF 00) are no code of a valid table: the walk stops at the first of them.
        byte[] jpeg = OpenCvJpeg(640, 400, false);
        int start = ScanData(jpeg), end = jpeg.Length - 2;
        for (int i = start + (end - start) / 2; i + 1 < end; i += 2)
        {
            jpeg[i] = 0xFF;
            jpeg[i + 1] = 0x00;
        }
        JpegScanResult r = JpegScan.Walk(jpeg);
        Assert.Equal(JpegCoverage.Short, r.Coverage);
        Assert.Contains("an invalid Huffman code", r.Reason);
        AssertRefused(jpeg);
    }

    /// <summary>A sequential JPEG with one scan per component (non-interleaved), put together from three gray JPEGs:
    /// Y at 2x2 sampling over 17x9, Cb and Cr at 1x1 over 9x5, each scan with its own Huffman tables (optimised). A
    /// non-interleaved scan holds the component's own blocks (3x2 and 2x1), not whole MCUs.</summary>
    private static byte[] ThreeScans(int scans = 3)
    {
        byte[][] planes = [OpenCvJpeg(17, 9, true, optimize: true), OpenCvJpeg(9, 5, true, optimize: true), OpenCvJpeg(9, 5, true, optimize: true)];
        // Every segment with this marker before the first scan (libjpeg writes each Huffman table in its own DHT).
        static IEnumerable<byte> SegmentOf(byte[] jpeg, byte marker)
        {
            for (int pos = 2; jpeg[pos + 1] != 0xDA; pos += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(pos + 2)))
                if (jpeg[pos + 1] == marker)
                    foreach (byte x in jpeg[pos..(pos + 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(pos + 2)))]) yield return x;
        }
        var file = new List<byte> { 0xFF, 0xD8 };
        file.AddRange(SegmentOf(planes[0], 0xDB)); // the same quality: the same table 0 in all three
        file.AddRange([0xFF, 0xC0, 0, 17, 8, 0, 9, 0, 17, 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0]);
        for (int i = 0; i < scans; i++)
        {
            file.AddRange(SegmentOf(planes[i], 0xC4));
            file.AddRange([0xFF, 0xDA, 0, 8, 1, (byte)(i + 1), 0x00, 0, 63, 0]);
            file.AddRange(planes[i][ScanData(planes[i])..^2]);
        }
        file.AddRange([0xFF, 0xD9]);
        return [.. file];
    }

    [Fact]
    public void NonInterleavedScans_AreCoveredInFull_AndAMissingScanIsRefused()
    {
        AssertComplete(ThreeScans(), 17, 9, "three non-interleaved scans");
        byte[] two = ThreeScans(scans: 2);
        JpegScanResult r = JpegScan.Walk(two);
        Assert.Equal(JpegCoverage.Short, r.Coverage);
        Assert.Equal("no scan holds component 3", r.Reason);
        // Y's 6 blocks and Cb's 2 of the frame's 10.
        Assert.Equal(0.8, r.Fraction, 1e-9);
        Assert.Contains("covers only 80% of its 17x9 header", AssertRefused(two).Message);
    }

    [Fact]
    public void EveryPrefix_IsWalkedWithoutAnException()
    {
        byte[] jpeg = OpenCvJpeg(40, 24, false, restart: 2);
        for (int n = 0; n <= jpeg.Length; n++)
        {
            JpegScanResult r = JpegScan.Walk(jpeg.AsSpan(0, n));
            if (n >= ScanData(jpeg) && n < jpeg.Length - 2) Assert.True(r.Coverage == JpegCoverage.Short, $"cut at {n} of {jpeg.Length}: {r}");
        }
    }
}
