using ConvGL.Core.IO;
using ConvGL.Core.Kernels;

namespace ConvGL.Core.Tests.Kernels;

public class KernelFileTests
{
    [Fact]
    public void ParseText_CommentsBlankLinesCommasAndScaleFraction()
    {
        const string text = """
            # a 3x3 binomial blur

            scale 1/16   # normalise
            1, 2, 1
            2  4	2   # tab and spaces

            1,2,1
            """;
        Tensor k = KernelFile.ParseText(text);
        Assert.Equal([3, 3], k.Shape);
        Assert.Equal([1 / 16f, 2 / 16f, 1 / 16f, 2 / 16f, 4 / 16f, 2 / 16f, 1 / 16f, 2 / 16f, 1 / 16f], k.Data);
    }

    /// <summary>The fuzz audit: "1,,2" was read as "1 2" (a 1x2 kernel). An empty entry between commas is a missing
    /// number; a comma ending the row, as copied arrays have, is not.</summary>
    [Fact]
    public void ParseText_AnEmptyEntryBetweenCommas_IsAnError_ATrailingCommaIsNot()
    {
        Assert.Equal("k.txt:1: an empty entry between commas 1 and 2: a number is missing",
            Assert.Throws<ConvGLException>(() => KernelFile.ParseText("1,,2\n", "k.txt")).Message);
        Assert.Equal("k.txt:2: an empty entry before the first comma: a number is missing",
            Assert.Throws<ConvGLException>(() => KernelFile.ParseText("1 2\n , 3\n", "k.txt")).Message);
        Assert.Equal([1f, 2f, 1f, 2f, 4f, 2f], KernelFile.ParseText("1, 2, 1,\n2, 4, 2,\n").Data);
    }

    [Fact]
    public void ParseText_DecimalScaleAndNonSquare()
    {
        Tensor k = KernelFile.ParseText("scale 0.5\n1 -2 3e0 4\n");
        Assert.Equal([1, 4], k.Shape);
        Assert.Equal([0.5f, -1f, 1.5f, 2f], k.Data);
    }

    [Fact]
    public void ParseText_WindowsLineEndings()
    {
        Tensor k = KernelFile.ParseText("1 2\r\n3 4\r\n");
        Assert.Equal([1f, 2, 3, 4], k.Data);
    }

    [Theory]
    [InlineData("1 2 3\n4 5 6\n7 8\n", 3, "ragged")]
    [InlineData("# c\n\n1 2\n3 x\n", 4, "'x' is not a number")]
    [InlineData("1 2\nscale 2\n3 4\n", 2, "before the first row")]
    [InlineData("scale 2\nscale 3\n1\n", 2, "second scale")]
    [InlineData("scale 1/0\n1\n", 1, "not a number or a fraction")]
    [InlineData("scale abc\n1\n", 1, "not a number or a fraction")]
    [InlineData("1 2\n3 nan\n", 2, "not a number")]
    [InlineData(" , ,\n1 2\n", 1, "no numbers")]
    [InlineData("# c\n,\n", 2, "no numbers")]
    [InlineData("# typo for 1/16\nscale 0\n1 2 1\n", 2, "scale '0' makes every entry 0")]
    [InlineData("scale 0/16\n1 2 1\n", 1, "makes every entry 0")]
    public void ParseText_Malformed_ThrowsNamingFileAndLine(string text, int line, string what)
    {
        var e = Assert.Throws<ConvGLException>(() => KernelFile.ParseText(text, "k.txt"));
        Assert.StartsWith($"k.txt:{line}: ", e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void ParseText_NoRows_Throws()
    {
        var e = Assert.Throws<ConvGLException>(() => KernelFile.ParseText("# only a comment\nscale 2\n\n", "k.txt"));
        Assert.Contains("k.txt", e.Message);
        Assert.Contains("no kernel rows", e.Message);
    }

    [Fact]
    public void Load_Npy2D_AndRejectsOtherRanks()
    {
        using var dir = new TempDir();
        string ok = dir.File("k.npy");
        Npy.Write(ok, new Tensor([2, 3], [1, 2, 3, 4, 5, 6]));
        Tensor k = KernelFile.Load(ok);
        Assert.Equal([2, 3], k.Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6], k.Data);

        string bad = dir.File("k3.npy");
        Npy.Write(bad, new Tensor([1, 2, 3]));
        var e = Assert.Throws<ConvGLException>(() => KernelFile.Load(bad));
        Assert.Contains("k3.npy", e.Message);
        Assert.Contains("2D", e.Message);
    }

    [Fact]
    public void Resolve_PicksLibraryNameOrFile()
    {
        using var dir = new TempDir();
        string path = dir.File("mine.txt");
        File.WriteAllText(path, "0 1\n1 0\n");
        Assert.Equal([0f, 1, 1, 0], KernelSource.Resolve(path).Data);
        Assert.Equal([-1f, 0, 1, -2, 0, 2, -1, 0, 1], KernelSource.Resolve("sobel-x").Data);
        var missing = Assert.Throws<ConvGLException>(() => KernelSource.Resolve(dir.File("nope.txt")));
        Assert.Contains("does not exist", missing.Message);
        var unknown = Assert.Throws<ConvGLException>(() => KernelSource.Resolve("sobelx"));
        Assert.Contains("unknown kernel 'sobelx'", unknown.Message);
        Assert.Contains("sobel-x", unknown.Message);
        // The file named without its extension (a newcomer's `--kernel my-kernel` for my-kernel.txt).
        var bare = Assert.Throws<ConvGLException>(() => KernelSource.Resolve(dir.File("mine")));
        Assert.Equal($"unknown kernel '{dir.File("mine")}': did you mean the file '{path}'? (a kernel file is named with its extension)", bare.Message);
        // A typo with a dot is a name with its did-you-mean (it read as a missing file 'sobel.x'); the extensions of
        // kernel files, stacks and models read as files, as in a stack file's kernels.
        var dotted = Assert.Throws<ConvGLException>(() => KernelSource.Resolve("sobel.x"));
        Assert.StartsWith("unknown kernel 'sobel.x' (did you mean 'sobel-x'?", dotted.Message);
        foreach (string file in new[] { "gone.txt", "gone.NPY", "edges.json", "model.onnx", "sub/gone" })
            Assert.Equal($"kernel file '{file}' does not exist", Assert.Throws<ConvGLException>(() => KernelSource.Resolve(file)).Message);
    }
}
