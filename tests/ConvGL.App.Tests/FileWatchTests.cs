using ConvGL.App.Live;
using ConvGL.Core.IO;
using ConvGL.Gpu;

namespace ConvGL.App.Tests;

/// <summary>Hot reload's change detection (<see cref="FileWatch"/>) and the three places that use it: the filter's
/// kernel file, a stack's files, shaders. The hard case is an edit that keeps the length and lands in the same
/// modification-time tick as the previous one: simulated by restoring the old time after writing.</summary>
public sealed class FileWatchTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"convgl-filewatch-{Environment.ProcessId}-{Guid.NewGuid():N}");

    public FileWatchTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    /// <summary>Writes <paramref name="text"/> and puts the file's previous modification time back: what two saves
    /// within one clock tick look like.</summary>
    private static void WriteInSameTick(string file, string text)
    {
        DateTime before = File.GetLastWriteTimeUtc(file);
        long length = new FileInfo(file).Length;
        File.WriteAllText(file, text);
        File.SetLastWriteTimeUtc(file, before);
        Assert.True(new FileInfo(file).Length == length, $"test setup: '{text}' must keep the length {length}");
    }

    [Fact]
    public void SameLengthEdit_InTheSameTick_IsAChange_ReportedOnce()
    {
        string f = P("k.txt");
        File.WriteAllText(f, "1 2 3\n");
        var watch = new FileWatch(f);
        Assert.False(watch.Changed(), "nothing was written since the watch started");
        WriteInSameTick(f, "1 2 4\n");
        Assert.True(watch.Changed(), "same time, same length, different content: must be a change");
        Assert.False(watch.Changed(), "the change was reported already");
        WriteInSameTick(f, "1 2 4\n");
        Assert.False(watch.Changed(), "rewriting the same bytes is not a change");
    }

    [Fact]
    public void TimeLengthAppearingAndVanishing_AreChanges()
    {
        string f = P("w.txt");
        var watch = new FileWatch(f);
        Assert.False(watch.Changed(), "a missing file that stays missing is no change");
        File.WriteAllText(f, "a");
        Assert.True(watch.Changed(), "the file appeared");
        DateTime t = File.GetLastWriteTimeUtc(f);
        File.WriteAllText(f, "ab");
        File.SetLastWriteTimeUtc(f, t);
        Assert.True(watch.Changed(), "the length changed (same time)");
        File.SetLastWriteTimeUtc(f, t.AddHours(-3));
        Assert.True(watch.Changed(), "an older time (an editor restoring it) is a change too");
        Assert.False(watch.Changed(), "and it was reported once");
        File.Delete(f);
        Assert.True(watch.Changed(), "the file vanished");
        Assert.False(watch.Changed(), "and it was reported once");
    }

    [Fact]
    public void FilterKernelFile_SameTickEdit_IsReloaded()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        string f = P("filter.txt");
        File.WriteAllText(f, "0 1 0\n1 -4 1\n0 1 0\n");
        using GlContext context = GlContext.CreateHeadless();
        using var pipeline = new FilterPipeline(context, f);
        Assert.Equal(-4f, pipeline.Kernel[1, 1]);
        Assert.Equal((false, (string?)null), pipeline.ReloadChanged(false));
        WriteInSameTick(f, "0 1 0\n1 -8 1\n0 1 0\n");
        Assert.Equal((true, (string?)null), pipeline.ReloadChanged(false));
        Assert.True(pipeline.Kernel[1, 1] == -8f, $"after the reload the centre is {pipeline.Kernel[1, 1]}, the file says -8");
    }

    [Fact]
    public void StackKernelFile_NextToTheStack_SameTickEdit_IsReloaded()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        File.WriteAllText(P("mine.txt"), "1 2 3\n");
        File.WriteAllText(P("s.json"), """{ "name": "s", "input": "gray", "layers": [ { "type": "conv", "kernels": ["mine.txt"] } ] }""");
        using GlContext context = GlContext.CreateHeadless();
        using var pipeline = new StackPipeline(context, P("s.json"));
        Assert.Equal([1f, 2f, 3f], pipeline.Conv(0)!.Weight.Data);
        Assert.Equal((false, (string?)null), pipeline.ReloadChanged(false));
        WriteInSameTick(P("mine.txt"), "1 2 7\n");
        Assert.Equal((true, (string?)null), pipeline.ReloadChanged(false));
        Assert.Equal([1f, 2f, 7f], pipeline.Conv(0)!.Weight.Data);
    }

    [Fact]
    public void Shader_SameTickEdit_IsRebuilt()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        string f = P("t.comp");
        File.WriteAllText(f, "#version 430\nlayout(local_size_x = 2) in;\nvoid main() {}\n");
        using GlContext context = GlContext.CreateHeadless();
        using var library = new ShaderLibrary(context, _dir);
        GlProgram program = library.Compute("t.comp");
        Assert.Equal(2u, program.WorkgroupSize.X);
        Assert.Equal((0, (string?)null), library.ReloadChanged());
        WriteInSameTick(f, "#version 430\nlayout(local_size_x = 8) in;\nvoid main() {}\n");
        Assert.Equal((1, (string?)null), library.ReloadChanged());
        Assert.True(program.WorkgroupSize.X == 8u, $"after the reload local_size_x is {program.WorkgroupSize.X}, the file says 8");
    }
}
