using ConvGL.Core.IO;

namespace ConvGL.Core.Tests.IO;

public class AtomicFileTests
{
    [Fact]
    public void Write_WriterThrows_LeavesNoFileAndKeepsOldContent()
    {
        using var dir = new TempDir();
        string path = dir.File("out.bin");
        File.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write([1, 2, 3]);
            throw new InvalidOperationException("boom");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["out.bin"], dir.Names());
    }

    /// <summary>The hardening audit: a private file (600) came back 644 after being replaced; a name of 206 to 255
    /// bytes could never be written (the temporary file's name was the name plus 45 characters).</summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void AReplacedFile_KeepsItsMode_AndAnyNameTheFileSystemTakes_IsWritten()
    {
        using var dir = new TempDir();
        string path = dir.File("private.npy");
        File.WriteAllText(path, "old");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        AtomicFile.WriteAllBytes(path, [1, 2]);
        Assert.Equal(new byte[] { 1, 2 }, File.ReadAllBytes(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.UserExecute);
        AtomicFile.WriteAllBytes(path, [3]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.UserExecute, File.GetUnixFileMode(path));
        string longName = dir.File(new string('y', 251) + ".npy"); // 255 bytes: the most a name may have
        AtomicFile.WriteAllBytes(longName, [4]);
        Assert.Equal(new byte[] { 4 }, File.ReadAllBytes(longName));
        Assert.Equal(2, dir.Names().Length);
    }

    /// <summary>A process killed by SIGKILL (no handler runs) leaves its hidden temporary file or folder; the next write
    /// in that folder removes those whose process is gone and that were untouched for 5 minutes, never one of a running
    /// process or a fresh one, nor anything else hidden.</summary>
    [Fact]
    public void AWrite_RemovesTheHiddenLeftoversOfKilledRuns_Only()
    {
        using var dir = new TempDir();
        const int gone = 4194305; // above Linux's largest pid_max: no such process
        string file = dir.File($".convgl-{gone}-0123456789abcdef.tmp"), folder = dir.File($".convgl-{gone}-fedcba9876543210.tmp");
        string removing = dir.File($".convgl-{gone}-00000000000000aa.tmp.{new string('b', 32)}.removing");
        string running = dir.File($".convgl-{Environment.ProcessId}-0123456789abcdef.tmp"), mine = dir.File(".convgl-notes");
        foreach (string f in new[] { file, running, mine }) File.WriteAllText(f, "x");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "00-conv.npy"), "x");
        Directory.CreateDirectory(removing);
        // Untouched for an hour (a killed run's); one as fresh as a write in progress by a process this one cannot see
        // (another PID namespace) stays.
        DateTime hourAgo = DateTime.UtcNow.AddHours(-1);
        foreach (string f in new[] { file, running, mine }) File.SetLastWriteTimeUtc(f, hourAgo);
        foreach (string d in new[] { folder, removing }) Directory.SetLastWriteTimeUtc(d, hourAgo);
        string fresh = dir.File($".convgl-{gone}-aaaaaaaaaaaaaaaa.tmp");
        File.WriteAllText(fresh, "being written elsewhere");
        AtomicFile.WriteAllBytes(dir.File("out.bin"), [1]);
        if (OperatingSystem.IsLinux())
        {
            Assert.False(File.Exists(file));
            Assert.False(Directory.Exists(folder));
            Assert.False(Directory.Exists(removing));
        }
        Assert.True(File.Exists(fresh));
        Assert.True(File.Exists(running));
        Assert.True(File.Exists(mine));
        Assert.True(File.Exists(dir.File("out.bin")));
    }

    [Fact]
    public void Write_Success_ReplacesAtomically()
    {
        using var dir = new TempDir();
        string path = dir.File("out.bin");
        AtomicFile.WriteAllBytes(path, [9, 8, 7]);
        Assert.Equal(new byte[] { 9, 8, 7 }, File.ReadAllBytes(path));
        Assert.Equal(["out.bin"], dir.Names());
    }
    /// <summary>A symbolic link is written through (the audit's `bench --out` replaced a link with a file): the link
    /// stays, its target gets the bytes; a link to a link too, and a dangling link creates its target.</summary>
    [Fact]
    public void Write_ThroughASymlink_KeepsTheLink_AndReplacesItsTarget()
    {
        using var dir = new TempDir();
        string target = dir.File("results.md"), link = dir.File("latest.md"), chain = dir.File("chain.md");
        File.WriteAllText(target, "old");
        File.CreateSymbolicLink(link, "results.md");
        File.CreateSymbolicLink(chain, link);
        AtomicFile.WriteAllBytes(chain, [1, 2]);
        Assert.Equal("results.md", new FileInfo(link).LinkTarget);
        Assert.Equal(link, new FileInfo(chain).LinkTarget);
        Assert.Equal(new byte[] { 1, 2 }, File.ReadAllBytes(target));
        Assert.Equal(["chain.md", "latest.md", "results.md"], dir.Names());

        string dangling = dir.File("dangling.md");
        File.CreateSymbolicLink(dangling, "made.md");
        AtomicFile.WriteAllBytes(dangling, [3]);
        Assert.Equal(new byte[] { 3 }, File.ReadAllBytes(dir.File("made.md")));
        Assert.Equal("made.md", new FileInfo(dangling).LinkTarget);
    }

    [Fact]
    public void Write_ThroughALinkLoop_IsOneError_AndWritesNothing()
    {
        using var dir = new TempDir();
        File.CreateSymbolicLink(dir.File("a"), dir.File("b"));
        File.CreateSymbolicLink(dir.File("b"), dir.File("a"));
        var e = Assert.Throws<ConvGLException>(() => AtomicFile.WriteAllBytes(dir.File("a"), [1]));
        Assert.StartsWith($"cannot write '{dir.File("a")}': ", e.Message);
        Assert.Equal(["a", "b"], dir.Names());
    }
}
