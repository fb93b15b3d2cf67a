using System.Security.Cryptography;

namespace ConvGL.Core.IO;

/// <summary>Tells whether one file changed since it was last looked at, for hot reload (shaders, kernel, stack and
/// weights files, polled about twice a second).
/// The modification time alone misses an edit that lands in the same clock tick as the previous one (the kernel
/// stamps files with a coarse clock), so the length is compared too, and while the recorded time is recent enough
/// that a second write could still carry the same time, a hash of the content as well. Once the time is older than
/// <see cref="Settle"/> any later write must carry a newer time, so a quiet file costs one stat per check.</summary>
public sealed class FileWatch
{
    /// <summary>How long after its modification time a file's time alone is trusted to change on the next write:
    /// far above any file system's timestamp granularity and clock tick.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    private DateTime _modified;
    private long _length;
    private byte[]? _hash; // null once settled (or for a missing file)

    /// <summary>Starts watching <paramref name="path"/> from its current state (a missing file is a state too).</summary>
    public FileWatch(string path)
    {
        Path = path;
        (_modified, _length) = Stat(path);
        _hash = HashIfRecent(path, _modified, _length);
    }

    public string Path { get; }

    /// <summary>True when the file's time, length or (while its time is recent) content differs from what was
    /// recorded, or it appeared or vanished; the new state is then recorded, so each change is reported once.</summary>
    public bool Changed()
    {
        (DateTime modified, long length) = Stat(Path);
        if (modified != _modified || length != _length)
        {
            (_modified, _length) = (modified, length);
            _hash = HashIfRecent(Path, modified, length);
            return true;
        }
        if (_hash is null) return false;
        // Unreadable for a moment (vanishing, locked): look again next time; a vanished file shows in the stat.
        if (Hash(Path) is not { } hash) return false;
        bool changed = !hash.AsSpan().SequenceEqual(_hash);
        // Settled: from now on a write must move the time, so stop reading the file.
        _hash = DateTime.UtcNow - modified > Settle ? null : hash;
        return changed;
    }

    private static (DateTime Modified, long Length) Stat(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
    }

    private static byte[]? HashIfRecent(string path, DateTime modified, long length) =>
        length >= 0 && DateTime.UtcNow - modified <= Settle ? Hash(path) : null;

    private static byte[]? Hash(string path)
    {
        // A FIFO (or a device) put where the file was would block the read for good: not a state to hash; the loader
        // that rereads the path refuses it with its error.
        if (!BoundedFile.IsRegularFile(path)) return null;
        try
        {
            using FileStream stream = File.OpenRead(path);
            return SHA256.HashData(stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Vanished or locked between the stat and the read: the next check sees the new state.
            return null;
        }
    }
}
