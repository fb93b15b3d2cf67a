namespace ConvGL.Core.Tests;

/// <summary>The CONVGL_ switches' values (README, "Speed switches"): what each reader takes, nothing else.</summary>
public class EnvSwitchesTests
{
    [Theory]
    [InlineData("CONVGL_TUNE", "0")]
    [InlineData("CONVGL_TUNE", "1")]
    [InlineData("CONVGL_SPLIT_K", "1")]
    [InlineData("CONVGL_SPLIT_K", "1024")]
    [InlineData("CONVGL_SPLIT_K", "auto")]
    [InlineData("CONVGL_PROGRESS", "off")]
    [InlineData("CONVGL_SHADERS", "/any/path")]
    [InlineData("CONVGL_TUNE", "")]
    [InlineData("CONVGL_TUNE", null)]
    [InlineData("LP_NUM_THREADS", "x")]
    [InlineData("convgl_tune", "x")]
    public void ValuesTheReadersTake_AndOtherNames_PassUnremarked(string name, string? value) => Assert.Null(EnvSwitches.Problem(name, value));

    [Theory]
    [InlineData("CONVGL_TUNE", "true", "CONVGL_TUNE='true' is not a value it takes (0, 1: ")]
    [InlineData("CONVGL_TUNE", " 1", "CONVGL_TUNE=' 1' is not a value it takes")]
    [InlineData("CONVGL_SPLIT_K", "+3", "CONVGL_SPLIT_K='+3' is not a value it takes")]
    [InlineData("CONVGL_SPLIT_K", "1025", "CONVGL_SPLIT_K='1025' is not a value it takes (a number of slices (1 to 1024) or auto)")]
    [InlineData("CONVGL_SPLIT_K", "AUTO", "CONVGL_SPLIT_K='AUTO' is not a value it takes")]
    [InlineData("CONVGL_WINOGRAD_BAND", "0", "CONVGL_WINOGRAD_BAND is not one ConvGL reads")]
    public void OtherValues_AndUnknownNames_AreNamed(string name, string value, string says)
    {
        string? problem = EnvSwitches.Problem(name, value);
        Assert.NotNull(problem);
        Assert.Contains(says, problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', problem);
    }

    /// <summary>Every switch the source reads is listed (a new one would otherwise be refused as unknown).</summary>
    [Fact]
    public void EverySwitchTheSourceReads_IsListed()
    {
        string? root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "ConvGL.sln"))) root = Path.GetDirectoryName(root);
        Assert.NotNull(root);
        var read = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
                     .Concat(Directory.EnumerateFiles(Path.Combine(root, "tests"), "*.cs", SearchOption.AllDirectories)))
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(file), "GetEnvironmentVariable\\(\"(CONVGL_[A-Z0-9_]+)\"\\)"))
                read.Add(m.Groups[1].Value);
        Assert.NotEmpty(read);
        Assert.Empty(read.Except(EnvSwitches.All.Select(s => s.Name)));
    }
}
