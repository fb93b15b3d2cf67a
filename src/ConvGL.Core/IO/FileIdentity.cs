using System.Runtime.InteropServices;

namespace ConvGL.Core.IO;

/// <summary>Where a path really leads (every symbolic link and <c>..</c> resolved), so that a command can refuse to
/// write over a file it reads: <c>apply in.png in.png</c>, or <c>a/x.npy</c> and <c>b/x.npy</c> where b links to a,
/// would otherwise replace the input with the output (the write renames a new file over the path).</summary>
public static partial class FileIdentity
{
    /// <summary>The path with every link resolved (POSIX realpath); for a path that does not exist yet, its existing
    /// folder resolved and the rest appended. Elsewhere than Linux and macOS, the full path.</summary>
    public static string Real(string path)
    {
        string full = Path.GetFullPath(path);
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return full;
        string rest = "";
        string? at = full;
        while (at is not null)
        {
            if (RealPath(at) is { } real) return rest.Length == 0 ? real : Path.Combine(real, rest);
            rest = rest.Length == 0 ? Path.GetFileName(at) : Path.Combine(Path.GetFileName(at), rest);
            at = Path.GetDirectoryName(at);
        }
        return full;
    }

    /// <summary>Whether the two paths lead to the same file or folder.</summary>
    public static bool Same(string a, string b) => string.Equals(Real(a), Real(b), StringComparison.Ordinal);

    /// <summary>Whether <paramref name="path"/> leads to something inside folder <paramref name="folder"/> (at any depth).</summary>
    public static bool Inside(string path, string folder)
    {
        string f = Path.TrimEndingDirectorySeparator(Real(folder)) + Path.DirectorySeparatorChar;
        return Real(path).StartsWith(f, StringComparison.Ordinal);
    }

    /// <summary>Refuses an output that is one of the files the command reads: "apply: OUTPUT 'a.png' is the input
    /// 'a.png'; ..." (<paramref name="command"/> null for the window's options: no prefix).</summary>
    public static void CheckNotRead(string? command, string what, string output, params (string Role, string? Path)[] inputs)
    {
        foreach ((string role, string? input) in inputs)
            if (input is not null && File.Exists(input) && Same(output, input))
                throw new ConvGLException($"{(command is null ? "" : command + ": ")}{what} '{ErrorText.Echo(output)}' is the {role} '{ErrorText.Echo(input)}', which writing it would replace; write to another path (nothing was written)");
    }

    private static string? RealPath(string path)
    {
        IntPtr resolved;
        try
        {
            resolved = realpath(path, IntPtr.Zero);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return Path.GetFullPath(path);
        }
        if (resolved == IntPtr.Zero) return null;
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            free(resolved);
        }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr realpath(string path, IntPtr resolved);

    [LibraryImport("libc")]
    private static partial void free(IntPtr pointer);
}
