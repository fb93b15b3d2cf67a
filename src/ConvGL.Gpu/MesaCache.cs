using ConvGL.Core;
using ConvGL.Core.IO;

namespace ConvGL.Gpu;

/// <summary>Mesa's on-disk shader cache, checked before the first GL context. Mesa memory-maps the cache's index file,
/// and on a full disk a write to one of its pages kills the process with SIGBUS: every GPU command and the window died
/// as "Bus error", exit 135, without a word (the environment audit of 2026-12-08). A folder it cannot create printed
/// Mesa's "Failed to create ... ---disabling." on every run. Where the cache's folder cannot take files, or its disk has
/// less than <see cref="MinFreeBytes"/> free, the cache is turned off for this run (MESA_SHADER_CACHE_DISABLE, set
/// where Mesa's getenv reads it) and one note on stderr says why: shaders then compile every run, as on a first run.</summary>
public static class MesaCache
{
    /// <summary>Below this much free space on the cache's disk the cache is turned off: Mesa's index alone is a 1.3 MB
    /// sparse file whose pages take room when first written, and an entry is up to a few hundred KB.</summary>
    public const long MinFreeBytes = 32L << 20;

    private static int s_checked;

    /// <summary>Checks the cache once per process (later calls return at once); call before any GL library starts.</summary>
    public static void Guard()
    {
        if (Interlocked.Exchange(ref s_checked, 1) != 0 || !OperatingSystem.IsLinux() || ShaderWarmer.CacheDisabled() is not null) return;
        string folder = Folder();
        if (Problem(folder, MinFreeBytes) is not { } why) return;
        NativeProcess.SetEnvironment("MESA_SHADER_CACHE_DISABLE", "true", overwrite: true);
        Console.Error.WriteLine($"convgl: note: Mesa's shader cache ({ErrorText.Echo(folder)}) is off for this run: {why}; shaders compile on every run (slower starts)");
    }

    /// <summary>The folder Mesa 22's disk cache uses: MESA_SHADER_CACHE_DIR (or the older MESA_GLSL_CACHE_DIR), else
    /// XDG_CACHE_HOME, else ~/.cache, each with mesa_shader_cache under it.</summary>
    public static string Folder()
    {
        static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        string root = Env("MESA_SHADER_CACHE_DIR") ?? Env("MESA_GLSL_CACHE_DIR") ?? Env("XDG_CACHE_HOME")
                      ?? Path.Combine(Env("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "mesa_shader_cache");
    }

    /// <summary>Why the cache cannot be used in <paramref name="folder"/>, or null: a part of its path is a file, the
    /// nearest folder of it that exists takes no new file (read-only, not the user's, a /proc path), or that folder's
    /// disk has less than <paramref name="minFree"/> bytes free.</summary>
    public static string? Problem(string folder, long minFree)
    {
        string? existing;
        try
        {
            existing = AtomicFile.NearestFolder(folder, out string? file);
            if (file is not null) return $"'{ErrorText.Echo(file)}' is a file, not a folder";
            if (existing is null) return "no folder of it exists";
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or IOException)
        {
            return ErrorText.OneLine(e.Message);
        }
        if (AtomicFile.CannotCreateIn(existing) is { } refused)
            return $"its folder '{ErrorText.Echo(existing)}' takes no new file ({ErrorText.IoReason(refused)})";
        try
        {
            long free = new DriveInfo(existing).AvailableFreeSpace;
            if (free < minFree) return $"its disk has {Limits.Bytes(free)} free, under the {Limits.Bytes(minFree)} it needs (a full disk under its index crashes the process); free some space, or point MESA_SHADER_CACHE_DIR at another disk";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // No size known (an odd file system): the probe file was made, so Mesa may use it.
        }
        return null;
    }
}
