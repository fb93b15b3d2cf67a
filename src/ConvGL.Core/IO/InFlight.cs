using System.Collections.Concurrent;

namespace ConvGL.Core.IO;

/// <summary>The temporary files and folders being written right now (<see cref="AtomicFile"/>'s hidden files, the
/// features command's hidden folder). When the process is interrupted (Ctrl+C, SIGTERM) the executable removes them
/// before it ends, so an interrupted command leaves nothing of its output behind, hidden or not.</summary>
public static class InFlight
{
    private static readonly ConcurrentDictionary<string, byte> Paths = new(StringComparer.Ordinal);

    /// <summary>A temporary path that exists from now until <see cref="Done"/>.</summary>
    public static void Add(string path) => Paths[path] = 0;

    /// <summary>The path was renamed into place or removed.</summary>
    public static void Done(string path) => Paths.TryRemove(path, out _);

    /// <summary>The paths in flight now (tests).</summary>
    public static IReadOnlyCollection<string> Now => Paths.Keys.ToArray();

    /// <summary>Removes every path in flight (best effort: the process is ending); returns how many were removed.</summary>
    public static int RemoveAll()
    {
        int removed = 0;
        foreach (string path in Paths.Keys)
        {
            try
            {
                if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
                else if (File.Exists(path)) File.Delete(path);
                else continue;
                removed++;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            Paths.TryRemove(path, out _);
        }
        return removed;
    }
}
