using ConvGL.Core;
using ConvGL.Core.IO;

namespace ConvGL.App.Commands;

/// <summary>Checks, before a command computes, that its output folder takes files.</summary>
internal static class OutputFolder
{
    /// <summary>Whether files can be made in <paramref name="dir"/>, or (when it does not exist yet) in the nearest folder
    /// above it that does: a file is created there and removed (a read-only folder or file system, and a folder the
    /// user may not write, are found before the work, not after it). <paramref name="what"/> starts the error
    /// ("train: --out"), <paramref name="after"/> ends it ("nothing was trained").</summary>
    public static void CheckWritable(string dir, string what, string after)
    {
        string existing = AtomicFile.NearestFolder(dir, out string? file) ?? throw new ConvGLException(file is not null
            ? $"{what} needs the folder '{ErrorText.Echo(file)}', which is a file; choose another folder"
            : $"{what} '{ErrorText.Echo(dir)}': no folder of it exists");
        if (AtomicFile.CannotCreateIn(existing) is { } e)
            throw new ConvGLException($"{what}: cannot write in '{ErrorText.Echo(existing)}' ({ErrorText.IoReason(e)}); choose a folder you can write to ({after})", e);
    }
}
