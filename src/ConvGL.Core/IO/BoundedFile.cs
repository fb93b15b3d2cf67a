using System.Runtime.InteropServices;
using System.Text;

namespace ConvGL.Core.IO;

/// <summary>Reads a file whole only after checking it is a regular file no larger than a cap (<see cref="Limits"/>),
/// so that /dev/zero, a FIFO or a 40 GB file given as an image, kernel or stack is one clear error instead of a hang
/// or an out-of-memory abort. Every error names the file and, for size, the cap.</summary>
public static partial class BoundedFile
{
    /// <summary>The whole file, at most <paramref name="cap"/> bytes. <paramref name="kind"/> names what the file
    /// should be ("image", "stack file") in errors.</summary>
    public static byte[] ReadAllBytes(string path, long cap, string kind)
    {
        using FileStream stream = OpenRead(path, cap, kind, out long length);
        var bytes = new byte[length];
        try
        {
            stream.ReadExactly(bytes);
            // A file that grew since it was measured is read up to its measured size only; one byte more says so.
            if (stream.ReadByte() >= 0) throw Error(path, kind, "it changed size while being read");
        }
        catch (EndOfStreamException)
        {
            throw Error(path, kind, "it shrank while being read");
        }
        catch (IOException e)
        {
            throw Error(path, kind, ErrorText.IoReason(e), e);
        }
        return bytes;
    }

    /// <summary>The whole file as UTF-8 text (a BOM is skipped), at most <paramref name="cap"/> bytes.</summary>
    public static string ReadAllText(string path, long cap, string kind)
    {
        byte[] bytes = ReadAllBytes(path, cap, kind);
        return Encoding.UTF8.GetString(WithoutBom(bytes));
    }

    /// <summary>Text bytes without a leading UTF-8 byte-order mark.</summary>
    public static ReadOnlySpan<byte> WithoutBom(ReadOnlySpan<byte> bytes) =>
        bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? bytes[3..] : bytes;

    /// <summary>Opens a regular file of at most <paramref name="cap"/> bytes for reading; <paramref name="length"/>
    /// is its size when opened.</summary>
    public static FileStream OpenRead(string path, long cap, string kind, out long length)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) throw Error(path, kind, "it is a folder");
        if (!File.Exists(path)) throw Error(path, kind, "no such file");
        // Checked before opening: opening a FIFO for reading blocks until someone writes to it.
        if (!IsRegularFile(path)) throw Error(path, kind, "not a regular file (a device, FIFO or socket)");
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error(path, kind, e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : ErrorText.IoReason(e), e);
        }
        length = stream.Length;
        if (length > cap)
        {
            stream.Dispose();
            throw Error(path, kind, $"it is {length} bytes, over the {Limits.Bytes(cap)} limit for {("aeiou".Contains(char.ToLowerInvariant(kind[0]), StringComparison.Ordinal) ? "an" : "a")} {kind}");
        }
        return stream;
    }

    private static ConvGLException Error(string path, string kind, string why, Exception? inner = null) =>
        new($"cannot read {kind} '{path}': {why}", inner);

    /// <summary>True unless the file system says the path is something other than a regular file (a device, FIFO or
    /// socket: reading those can block forever or never end), following links. Linux answers through statx (whose
    /// buffer layout is the same on every architecture); elsewhere every file passes, and the size cap still bounds
    /// what is read.</summary>
    public static bool IsRegularFile(string path)
    {
        if (!OperatingSystem.IsLinux()) return true;
        const int AtFdCwd = -100;
        const uint StatxType = 0x0001;
        const ushort TypeMask = 0xF000, Regular = 0x8000;
        Span<byte> buffer = stackalloc byte[256];
        try
        {
            // struct statx: stx_mask (u32, offset 0) ... stx_mode (u16, offset 28). Flags 0: follow symbolic links.
            if (Statx(AtFdCwd, path, 0, StatxType, ref MemoryMarshal.GetReference(buffer)) != 0) return true;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return true;
        }
        if ((BitConverter.ToUInt32(buffer) & StatxType) == 0) return true;
        return (BitConverter.ToUInt16(buffer[28..]) & TypeMask) == Regular;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, ref byte buffer);
}
