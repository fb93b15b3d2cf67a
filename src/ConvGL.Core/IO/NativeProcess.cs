using System.Runtime.InteropServices;

namespace ConvGL.Core.IO;

/// <summary>What native libraries read and write of the process outside .NET: their environment (libc's getenv, which
/// .NET's Environment.SetEnvironmentVariable does not reach on Unix) and file descriptor 2, where OpenCV, FFmpeg, EGL
/// and Mesa write their own complaints beside ConvGL's one-line errors.</summary>
public static class NativeProcess
{
    /// <summary>Sets <paramref name="name"/> for native getenv and for .NET alike; with <paramref name="overwrite"/>
    /// false a value the user set is kept (both sides then keep it).</summary>
    public static void SetEnvironment(string name, string value, bool overwrite)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!overwrite && Environment.GetEnvironmentVariable(name) is not null) return;
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) _ = SetEnv(name, value, overwrite ? 1 : 0);
        Environment.SetEnvironmentVariable(name, value);
    }

    /// <summary>Runs <paramref name="work"/> with the process's native stderr (file descriptor 2) sent to /dev/null, then
    /// puts it back; as it is where that cannot be done (not Linux, no /dev/null). .NET's own Console.Error is flushed
    /// first, and nothing should write to it meanwhile.</summary>
    public static T WithoutNativeStderr<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!OperatingSystem.IsLinux()) return work();
        Console.Error.Flush();
        int saved = Dup(2), devNull = saved < 0 ? -1 : Open("/dev/null", 1 /* O_WRONLY */);
        if (devNull < 0 || Dup2(devNull, 2) < 0)
        {
            if (devNull >= 0) _ = Close(devNull);
            if (saved >= 0) _ = Close(saved);
            return work();
        }
        try
        {
            return work();
        }
        finally
        {
            _ = Dup2(saved, 2);
            _ = Close(saved);
            _ = Close(devNull);
        }
    }

    [DllImport("libc", EntryPoint = "dup")]
    private static extern int Dup(int fd);

    [DllImport("libc", EntryPoint = "dup2")]
    private static extern int Dup2(int fd, int fd2);

    [DllImport("libc", EntryPoint = "open")]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
}
