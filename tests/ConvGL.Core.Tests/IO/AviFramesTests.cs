using System.Text;
using ConvGL.Core.IO;

namespace ConvGL.Core.Tests.IO;

/// <summary>The AVI walk to the first video frame, on RIFF files built byte by byte: odd chunk sizes and their pad byte,
/// LIST 'rec ' groups, audio chunks and empty (dropped) frames before the first real one.</summary>
public sealed class AviFramesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-avi-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Chunk(string id, byte[] data)
    {
        var b = new List<byte>(Encoding.ASCII.GetBytes(id));
        b.AddRange(BitConverter.GetBytes(data.Length));
        b.AddRange(data);
        if (data.Length % 2 == 1) b.Add(0);
        return [.. b];
    }

    private static byte[] List(string type, params byte[][] chunks) => Chunk("LIST", [.. Encoding.ASCII.GetBytes(type), .. chunks.SelectMany(c => c)]);

    private string Avi(byte[] body, int cut = 0)
    {
        byte[] riff = Chunk("RIFF", [.. "AVI "u8.ToArray(), .. body]);
        string path = Path.Combine(_dir, $"{Guid.NewGuid():N}.avi");
        File.WriteAllBytes(path, riff[..(riff.Length - cut)]);
        return path;
    }

    [Fact]
    public void FirstRealFrame_AfterAudioEmptyFramesAndOddChunks_IsTheOneChecked()
    {
        byte[] frame = Encoding.ASCII.GetBytes("0123456789"); // not a JPEG: only its length is checked
        byte[] body = [.. List("hdrl", Chunk("avih", new byte[3])), .. Chunk("JUNK", new byte[5]),
            .. List("movi", Chunk("01wb", new byte[7]), Chunk("00dc", []), List("rec ", Chunk("00db", frame)))];
        Assert.Null(AviFrames.FirstFrameCutShort(Avi(body)));
        // The frame's last 6 bytes gone (the file ends inside the frame).
        string cut = Avi(body, cut: 6);
        Assert.Equal("its first video frame needs 10 bytes from byte " + (File.ReadAllBytes(cut).Length - 4) + ", the file ends 4 bytes into it (a truncated file)",
            AviFrames.FirstFrameCutShort(cut));
    }

    /// <summary>Lists nested 100,000 deep inside 'movi', and 200,000 empty chunks before any frame: the walk gives up
    /// (OpenCV's own checks apply) instead of exhausting the stack or reading on.</summary>
    [Fact]
    public void NestedListsAndEndlessTinyChunks_GiveUp_NoStackOverflow()
    {
        var nested = new List<byte>();
        for (int i = 0; i < 100_000; i++) nested.AddRange([.. "LIST"u8.ToArray(), 0xFF, 0xFF, 0xFF, 0x00, .. "rec "u8.ToArray()]);
        Assert.Null(AviFrames.FirstFrameCutShort(Avi([.. List("movi", [.. nested])])));
        byte[] junk = [.. Enumerable.Range(0, 200_000).SelectMany(_ => Chunk("JUNK", []))];
        Assert.Null(AviFrames.FirstFrameCutShort(Avi([.. List("movi", junk, Chunk("00dc", new byte[4]))], cut: 2)));
    }

    [Fact]
    public void NotAnAvi_OrNoFrame_SaysNothing()
    {
        string png = Path.Combine(_dir, "x.png");
        File.WriteAllBytes(png, [0x89, (byte)'P', (byte)'N', (byte)'G', 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        Assert.Null(AviFrames.FirstFrameCutShort(png));
        Assert.Null(AviFrames.FirstFrameCutShort(Avi([.. List("hdrl", Chunk("avih", new byte[4])), .. List("movi", Chunk("01wb", new byte[2]))])));
        string tiny = Path.Combine(_dir, "tiny.avi");
        File.WriteAllBytes(tiny, "RIFF"u8.ToArray());
        Assert.Null(AviFrames.FirstFrameCutShort(tiny));
    }
}
