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

    [Fact]
    public void Write_Success_ReplacesAtomically()
    {
        using var dir = new TempDir();
        string path = dir.File("out.bin");
        AtomicFile.WriteAllBytes(path, [9, 8, 7]);
        Assert.Equal(new byte[] { 9, 8, 7 }, File.ReadAllBytes(path));
        Assert.Equal(["out.bin"], dir.Names());
    }
}
