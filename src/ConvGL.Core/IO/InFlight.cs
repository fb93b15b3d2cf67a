using System.Collections.Concurrent;

namespace ConvGL.Core.IO;

/// <summary>The temporary files and folders being written right now (<see cref="AtomicFile"/>'s hidden files, the
/// features command's hidden folder). When the process is interrupted (Ctrl+C, SIGTERM) the executable removes them
/// before it ends, so an interrupted command leaves nothing of its output behind, hidden or not.</summary>
public static partial class InFlight
{
    private static readonly ConcurrentDictionary<string, byte> Paths = new(StringComparer.Ordinal);

    /// <summary>A hidden name for a temporary file or folder in <paramref name="folder"/>, ".convgl-PID-ID.<paramref name="kind"/>":
    /// short (a name the file system takes stays writable), and naming this process, so a later run can tell one whose
    /// process was killed (SIGKILL leaves it: no handler runs) from one still being written (<see cref="RemoveStale(string)"/>).</summary>
    public static string TempName(string folder, string kind = "tmp") =>
        Path.Combine(folder, $".convgl-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..16]}.{kind}");

    [System.Text.RegularExpressions.GeneratedRegex(@"^\.convgl-([0-9]+)-[0-9a-f]{16}\.(tmp|old)(\.[0-9a-f]{32}\.removing)?$")]
    private static partial System.Text.RegularExpressions.Regex TempPattern();

    /// <summary>Removes, from <paramref name="folder"/>, the hidden temporary files and folders (<see cref="TempName"/>)
    /// of ConvGL processes that no longer run (a killed `features` left a 568 MB hidden folder that no later run removed);
    /// best effort, Linux only (it asks /proc whether the process runs). Returns how many were removed.</summary>
    public static int RemoveStale(string folder) => RemoveStale(folder, DefaultStaleAfter);

    /// <summary>How long a leftover must have been untouched before <see cref="RemoveStale(string)"/> removes it.</summary>
    public static readonly TimeSpan DefaultStaleAfter = TimeSpan.FromMinutes(5);

    /// <summary><see cref="RemoveStale(string)"/> with its own age.</summary>
    public static int RemoveStale(string folder, TimeSpan staleAfter)
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/proc/self") || !Directory.Exists(folder)) return 0;
        int removed = 0;
        try
        {
            foreach (string entry in Directory.EnumerateFileSystemEntries(folder, ".convgl-*"))
            {
                System.Text.RegularExpressions.Match m = TempPattern().Match(Path.GetFileName(entry));
                if (!m.Success || !int.TryParse(m.Groups[1].Value, out int pid) || pid == Environment.ProcessId || Directory.Exists($"/proc/{pid}")) continue;
                // Untouched for staleAfter too: a process this one cannot see in /proc (another PID namespace, hidepid)
                // writing into the same folder keeps its file's or folder's time fresh.
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(entry) < staleAfter) continue;
                try
                {
                    if (Directory.Exists(entry) && new DirectoryInfo(entry).LinkTarget is null) Directory.Delete(entry, recursive: true);
                    else File.Delete(entry);
                    removed++;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return removed;
    }

    /// <summary>A temporary path that exists from now until <see cref="Done"/>.</summary>
    public static void Add(string path)
    {
        // Once the process is ending nothing new is started: a writer thread would leave it behind.
        if (_ending) throw new ConvGLException("interrupted");
        Paths[path] = 0;
    }

    private static volatile bool _ending;

    /// <summary>Whether <see cref="RemoveAll"/> ran for an ending process (an interrupt).</summary>
    public static bool Ending => _ending;

    /// <summary>Set once <see cref="RemoveAll"/> has finished: the main thread waits for it before it lets the process end.</summary>
    public static ManualResetEventSlim Removed { get; } = new(false);

    /// <summary>The path was renamed into place or removed.</summary>
    public static void Done(string path) => Paths.TryRemove(path, out _);

    /// <summary>The paths in flight now (tests).</summary>
    public static IReadOnlyCollection<string> Now => Paths.Keys.ToArray();

    /// <summary>Removes every path in flight (best effort: the process is ending, and from then on <see cref="Add"/>
    /// refuses; tests pass <paramref name="processEnding"/> false); returns how many were removed.</summary>
    public static int RemoveAll(bool processEnding = true)
    {
        _ending = processEnding;
        int removed = 0;
        foreach (string path in Paths.Keys)
        {
            // A writer thread may still be putting files into a folder being removed (features' hidden folder of
            // maps): a recursive delete then fails "not empty" and left the folder behind. Renamed first, the folder
            // takes no new file (the writer's paths name the old name), and its delete then finishes.
            bool existed = false;
            for (int attempt = 0; attempt < 20; attempt++)
            {
                try
                {
                    if (Directory.Exists(path))
                    {
                        existed = true;
                        string doomed = $"{path}.{Guid.NewGuid():N}.removing";
                        Directory.Move(path, doomed);
                        for (int again = 0; again < 20 && Directory.Exists(doomed); again++)
                        {
                            try { Directory.Delete(doomed, recursive: true); }
                            catch (IOException) { Thread.Sleep(10); } // a file being closed: once more
                        }
                    }
                    else if (File.Exists(path))
                    {
                        existed = true;
                        File.Delete(path);
                    }
                    else break;
                }
                catch (IOException) { Thread.Sleep(10); }
                catch (UnauthorizedAccessException) { break; }
            }
            if (existed) removed++;
            Paths.TryRemove(path, out _);
        }
        if (processEnding) Removed.Set();
        return removed;
    }
}
