namespace ConvGL.Gpu.Tests;

/// <summary>Mesa's shader cache is turned off where its folder cannot take files or its disk is (nearly) full: a full
/// disk under the cache's memory-mapped index killed every GPU command with SIGBUS (the environment audit).</summary>
public sealed class MesaCacheTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-mesa-cache-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AUsableFolder_IsNoProblem_AndTheProbeLeavesNothing()
    {
        Assert.Null(MesaCache.Problem(Path.Combine(_dir, "a", "mesa_shader_cache"), minFree: 0));
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public void TooLittleFreeSpace_IsNamedWithTheFix()
    {
        string? why = MesaCache.Problem(Path.Combine(_dir, "mesa_shader_cache"), minFree: long.MaxValue);
        Assert.NotNull(why);
        Assert.StartsWith("its disk has ", why);
        Assert.EndsWith("free some space, or point MESA_SHADER_CACHE_DIR at another disk", why);
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public void AFileInThePath_OrAFolderThatTakesNoFile_IsNamed()
    {
        File.WriteAllText(Path.Combine(_dir, "f"), "x");
        Assert.Equal($"'{Path.Combine(_dir, "f")}' is a file, not a folder", MesaCache.Problem(Path.Combine(_dir, "f", "mesa_shader_cache"), 0));
        if (Directory.Exists("/proc"))
            Assert.Equal("its folder '/proc' takes no new file (no such file or folder (a folder such as /proc or /sys takes no new files))",
                MesaCache.Problem("/proc/convgl-none/mesa_shader_cache", 0));
    }

    [Fact]
    public void TheFolder_FollowsMesasOrder()
    {
        string? dir = Environment.GetEnvironmentVariable("MESA_SHADER_CACHE_DIR");
        string? glsl = Environment.GetEnvironmentVariable("MESA_GLSL_CACHE_DIR");
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        try
        {
            Environment.SetEnvironmentVariable("MESA_SHADER_CACHE_DIR", null);
            Environment.SetEnvironmentVariable("MESA_GLSL_CACHE_DIR", null);
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", "/x/cache");
            Assert.Equal("/x/cache/mesa_shader_cache", MesaCache.Folder());
            Environment.SetEnvironmentVariable("MESA_GLSL_CACHE_DIR", "/old");
            Assert.Equal("/old/mesa_shader_cache", MesaCache.Folder());
            Environment.SetEnvironmentVariable("MESA_SHADER_CACHE_DIR", "/new");
            Assert.Equal("/new/mesa_shader_cache", MesaCache.Folder());
        }
        finally
        {
            Environment.SetEnvironmentVariable("MESA_SHADER_CACHE_DIR", dir);
            Environment.SetEnvironmentVariable("MESA_GLSL_CACHE_DIR", glsl);
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", xdg);
        }
    }
}
