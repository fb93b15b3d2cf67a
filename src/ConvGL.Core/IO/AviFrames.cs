using System.Buffers.Binary;

namespace ConvGL.Core.IO;

/// <summary>Whether an AVI file's first video frame is whole, read from its RIFF chunks without decoding it. OpenCV's
/// reader (FFmpeg's MJPEG decoder) turns a frame cut short into a picture that is half grey and reports success, and a
/// file cut inside its first frame then plays as that still; an MJPEG frame is checked as a JPEG picture is
/// (<see cref="JpegScan"/>), any frame for the bytes its chunk header promises.</summary>
public static class AviFrames
{
    /// <summary>The largest first frame whose data is read for the JPEG check (larger ones: the chunk's length only).</summary>
    public const int MaxCheckedFrameBytes = 64 << 20;

    /// <summary>Why the AVI's first video frame is not whole (in words), or null: it is whole, the file is not an AVI, or
    /// its chunks are laid out in a way this walk does not follow (OpenCV's own checks then apply).</summary>
    public static string? FirstFrameCutShort(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
        Span<byte> header = stackalloc byte[12];
        if (f.Read(header) < 12 || !header[..4].SequenceEqual("RIFF"u8) || !header[8..12].SequenceEqual("AVI "u8)) return null;
        long end = Math.Min(f.Length, 8 + (long)BinaryPrimitives.ReadUInt32LittleEndian(header[4..]));
        int chunks = 0;
        return Walk(f, 12, end, depth: 0, ref chunks);
    }

    /// <summary>The most chunk headers read before the first frame (a file of tiny chunks gives up, never hangs).</summary>
    private const int MaxChunks = 100_000;

    // Walks the chunks in [pos, end): into LIST 'movi' (depth 1) and its LIST 'rec ' groups (depth 2, never deeper: a file
    // of nested lists must not exhaust the stack), to the first video frame ('##dc' or '##db') that holds data.
    private static string? Walk(FileStream f, long pos, long end, int depth, ref int chunks)
    {
        bool inMovi = depth > 0;
        Span<byte> head = stackalloc byte[12];
        while (pos + 8 <= end)
        {
            if (++chunks > MaxChunks) return null;
            f.Position = pos;
            if (f.Read(head) < 8) return null;
            ReadOnlySpan<byte> id = head[..4];
            long size = BinaryPrimitives.ReadUInt32LittleEndian(head[4..8]);
            if (id.SequenceEqual("LIST"u8))
            {
                if (pos + 12 > f.Length) return null;
                ReadOnlySpan<byte> type = head[8..12];
                if ((depth == 0 && type.SequenceEqual("movi"u8)) || (depth == 1 && type.SequenceEqual("rec "u8)))
                    return Walk(f, pos + 12, Math.Min(f.Length, pos + 8 + size), depth + 1, ref chunks);
            }
            else if (inMovi && IsVideoFrame(id) && size > 0)
                return FrameCutShort(f, pos + 8, size);
            pos += 8 + size + (size & 1);
        }
        return null;
    }

    private static bool IsVideoFrame(ReadOnlySpan<byte> id) =>
        char.IsAsciiDigit((char)id[0]) && char.IsAsciiDigit((char)id[1]) && id[2] == 'd' && (id[3] == 'c' || id[3] == 'b');

    private static string? FrameCutShort(FileStream f, long start, long size)
    {
        long have = f.Length - start;
        if (have < size)
            return $"its first video frame needs {size} bytes from byte {start}, the file ends {Math.Max(0, have)} bytes into it (a truncated file)";
        if (size > MaxCheckedFrameBytes) return null;
        byte[] data = new byte[size];
        f.Position = start;
        f.ReadExactly(data);
        if (data.Length < 2 || data[0] != 0xFF || data[1] != 0xD8) return null;
        JpegScanResult scan = JpegScan.Walk(data);
        if (scan.Coverage != JpegCoverage.Short && scan.Coverage != JpegCoverage.TooSmall) return null;
        double percent = Math.Floor(scan.Fraction * 1000) / 10;
        return $"its first video frame (a {scan.Width}x{scan.Height} JPEG picture) holds data for only " +
               $"{percent.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)}% of its blocks (a damaged or truncated file)";
    }
}
