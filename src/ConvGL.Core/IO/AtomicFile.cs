namespace ConvGL.Core.IO;

/// <summary>Writes a file so that it either appears whole or not at all: the bytes go to a hidden temporary
/// file in the same directory (same file system, so the final rename is atomic), which is renamed over the
/// target only after the writer returned (a symbolic link is written through: its target is replaced, the link kept). A failing writer leaves no partial file behind (DESIGN.md: "no
/// partial output left behind"). Every writer in ConvGL goes through here.</summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        WriteTogether([(path, write)]);
    }

    /// <summary>Several files that belong together (a stack file and its weights), all or none: every file's bytes
    /// are written to its temporary file first, and only when all of them are down are they renamed into place, in the
    /// order given. A failing write (a full disk) leaves none of them, and no file the user had is touched.</summary>
    public static void WriteAll(IReadOnlyList<(string Path, byte[] Bytes)> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        WriteTogether(files.Select(f => (f.Path, (Action<Stream>)(s => s.Write(f.Bytes)))).ToArray());
    }

    private static void WriteTogether(IReadOnlyList<(string Path, Action<Stream> Write)> files)
    {
        var temps = new List<(string Temp, string Full, string Shown)>();
        try
        {
            string[] targets = files.Select(f => Target(f.Path)).ToArray();
            for (int i = 0; i < files.Count; i++) CheckTarget(files[i].Path, targets[i]);
            for (int i = 0; i < files.Count; i++)
            {
                (string path, Action<Stream> write) = files[i];
                string full = targets[i];
                string dir = Path.GetDirectoryName(full) ?? ".";
                if (!Directory.Exists(dir))
                    throw new ConvGLException($"cannot write '{path}': directory '{dir}' does not exist");
                string temp = TempFor(full);
                temps.Add((temp, full, path));
                InFlight.Add(temp);
                try
                {
                    using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                    {
                        write(stream);
                        stream.Flush(flushToDisk: false);
                    }
                    KeepMode(full, temp);
                }
                catch (UnauthorizedAccessException e)
                {
                    // The hidden temporary file's name means nothing to the user (a review: "Access to the path
                    // '.../.convgl-28761-954b0269dbd54e41.tmp' is denied"): the folder is what they can change.
                    throw new ConvGLException($"cannot write '{ErrorText.Echo(path)}': the folder '{ErrorText.Echo(dir)}' does not let you create files " +
                                              "(permission denied); choose a folder you can write to", e);
                }
                catch (IOException e)
                {
                    throw new ConvGLException($"cannot write '{ErrorText.Echo(path)}': {ErrorText.IoReason(e)}", e);
                }
            }
            foreach ((string temp, string full, string shown) in temps)
            {
                try
                {
                    File.Move(temp, full, overwrite: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new ConvGLException($"cannot write '{shown}': {ErrorText.IoReason(e)}", e);
                }
            }
        }
        finally
        {
            foreach ((string temp, _, _) in temps)
            {
                if (File.Exists(temp)) TryDelete(temp);
                InFlight.Done(temp);
            }
        }
    }

    /// <summary>Refuses, before any work, a path a later <see cref="Write"/> would refuse for what it names: a folder, a
    /// device, FIFO or socket, a file this user may not write (a command that computes for minutes checks its outputs
    /// first: `train` found a folder named like its weights file only after training).</summary>
    public static void Check(string path) => CheckTarget(path, Target(path));

    /// <summary><see cref="Check"/>, and that the file's folder exists and takes a new file (one is created there and
    /// removed): a command that computes first then found a missing folder, a read-only file system or a folder the user
    /// may not write only at its end (the environment audit: `apply` of a 14 s FFT, a scripted window's frames, a whole
    /// bench run). The errors are the ones <see cref="Write"/> would give.</summary>
    public static void CheckWritable(string path)
    {
        string full = Target(path);
        CheckTarget(path, full);
        string dir = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(dir))
            throw new ConvGLException(File.Exists(dir)
                ? $"cannot write '{ErrorText.Echo(path)}': '{ErrorText.Echo(dir)}' is a file, not a folder"
                : $"cannot write '{ErrorText.Echo(path)}': directory '{ErrorText.Echo(dir)}' does not exist");
        switch (CannotCreateIn(dir))
        {
            case UnauthorizedAccessException e:
                throw new ConvGLException($"cannot write '{ErrorText.Echo(path)}': the folder '{ErrorText.Echo(dir)}' does not let you create files " +
                                          "(permission denied); choose a folder you can write to", e);
            case { } e:
                throw new ConvGLException($"cannot write '{ErrorText.Echo(path)}': {ErrorText.IoReason(e)}", e);
        }
    }

    /// <summary>Why no file can be made in <paramref name="folder"/> (an existing folder): a hidden file is created there and
    /// removed, and the refusal (an <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/>: a read-only
    /// file system, a folder the user may not write, /proc) returned; null where it could be made.</summary>
    public static Exception? CannotCreateIn(string folder)
    {
        string probe = InFlight.TempName(folder);
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None)) { }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e;
        }
        finally
        {
            TryDelete(probe);
        }
    }

    /// <summary>The nearest folder of <paramref name="path"/> that exists (the path itself where it is one), walking up;
    /// <paramref name="file"/> is the first step of the walk that is a file instead (nothing can be made under it), then
    /// the result is null.</summary>
    public static string? NearestFolder(string path, out string? file)
    {
        file = null;
        string? existing = Path.GetFullPath(path);
        while (existing is not null && !Directory.Exists(existing))
        {
            if (File.Exists(existing))
            {
                file = existing;
                return null;
            }
            existing = Path.GetDirectoryName(existing);
        }
        return existing;
    }

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>Where a write to <paramref name="path"/> really lands (<see cref="Target"/>, every linked folder resolved
    /// too): two paths that give the same one would replace the same file.</summary>
    public static string WrittenAt(string path) => FileIdentity.Real(Target(path));

    /// <summary>The file a path names: a symbolic link's final target (the rename then replaces the file, keeping the
    /// link, as writing through it would), otherwise the path itself, made absolute.</summary>
    private static string Target(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            var info = new FileInfo(full);
            return info.LinkTarget is null ? full : info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        }
        catch (IOException e)
        {
            throw new ConvGLException($"cannot write '{ErrorText.Echo(path)}': {ErrorText.IoReason(e)}", e);
        }
    }

    /// <summary>The rename would replace whatever the path names: a folder is refused, and so is a device, FIFO or
    /// socket (run as root, `--out /dev/null` replaced the system's /dev/null with a regular file), and a file this user
    /// may not write (a read-only file in a folder anyone may write to was replaced; `cp` refuses it too).</summary>
    private static void CheckTarget(string path, string full)
    {
        if (Directory.Exists(full)) throw new ConvGLException($"cannot write '{ErrorText.Echo(path)}': it is a folder; give a file name");
        if (!File.Exists(full)) return;
        if (!BoundedFile.IsRegularFile(full))
            throw new ConvGLException($"cannot write '{ErrorText.Echo(path)}': it is a device, FIFO or socket, not a file; give a file name");
        try
        {
            // Opened for writing without truncating: nothing changes, the permission is checked as a write would be.
            using var probe = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        }
        catch (UnauthorizedAccessException)
        {
            throw new ConvGLException($"cannot write '{ErrorText.Echo(path)}': the file exists and you may not write it (read-only); " +
                                      "change its mode or give another name");
        }
        catch (IOException)
        {
            // Locked or busy: the rename reports what is wrong, as before.
        }
    }

    /// <summary>A replaced file keeps its permission bits (a private 600 file stayed private, as `cp` keeps them; the new
    /// file had the default 644). Its owner is the writer's, as for any new file.</summary>
    private static void KeepMode(string full, string temp)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(full)) return;
        File.SetUnixFileMode(temp, File.GetUnixFileMode(full));
    }

    /// <summary>A hidden temporary name beside <paramref name="full"/> (same folder, so the rename is atomic): short, so any
    /// name the file system takes can be written (the whole name plus 45 characters failed past 205 bytes).</summary>
    private static string TempFor(string full)
    {
        string folder = Path.GetDirectoryName(full) ?? ".";
        InFlight.RemoveStale(folder);
        return InFlight.TempName(folder);
    }

    private static void TryDelete(string temp)
    {
        try { File.Delete(temp); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
