namespace ConvGL.Gpu.Tests;

/// <summary>The pre-pass, the defines, error locations and hot reload, on shader files written to a temporary
/// root so the real shaders/ folder is never touched.</summary>
[Collection(GlCollection.Name)]
public sealed class ShaderLibraryTests(GlFixture fixture) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("convgl-shaders-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Write(string name, string text, int secondsFromNow = 0)
    {
        string path = Path.Combine(_root, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        // File systems stamp with a coarse clock; set the time explicitly so "changed" is unambiguous.
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(secondsFromNow));
    }

    /// <summary>No shader writes NaN or infinity as a constant division (<c>0.0 / 0.0</c>, <c>1.0 / 0.0</c>): NVIDIA's compiler
    /// folds those to 0 (seen on an H200, driver 580.159: log, sqrt, pow, softmax and the reductions returned 0 where NaN
    /// is right) while llvmpipe keeps IEEE, so CI alone would never see it. Bit patterns (<c>uintBitsToFloat(0x7FC00000u)</c>)
    /// are the way. Comments are left out of the scan.</summary>
    [Fact]
    public void NoShader_DividesAConstantByZero()
    {
        var division = new System.Text.RegularExpressions.Regex(@"(?<![\w.])\d+(\.\d*)?\s*/\s*0+(\.0*)?(?![\w.])");
        var comments = new System.Text.RegularExpressions.Regex(@"//[^\n]*|/\*.*?\*/", System.Text.RegularExpressions.RegexOptions.Singleline);
        string root = ShaderLibrary.FindRoot();
        string[] files = [.. Directory.EnumerateFiles(root, "*.comp", SearchOption.AllDirectories),
            .. Directory.EnumerateFiles(root, "*.glsl", SearchOption.AllDirectories)];
        Assert.True(files.Length > 40, $"only {files.Length} shaders under {root}");
        var found = new List<string>();
        foreach (string f in files)
        {
            string[] lines = comments.Replace(File.ReadAllText(f), m => new string('\n', m.Value.Count(c => c == '\n'))).Split('\n');
            for (int i = 0; i < lines.Length; i++)
                if (division.Match(lines[i]) is { Success: true } m) found.Add($"{Path.GetRelativePath(root, f)}:{i + 1}: {m.Value}");
        }
        Assert.True(found.Count == 0, "constant divided by zero (use uintBitsToFloat bit patterns): " + string.Join("; ", found));
        // The pattern itself: it finds the forms NVIDIA folds, and leaves real divisions and decimals alone.
        Assert.Equal(["0.0 / 0.0", "1.0/0.0", "1 / 0"], new[] { "x = 0.0 / 0.0;", "y = -1.0/0.0;", "z = 1 / 0;", "a = b / 0.5;", "c = 2.0 / 10.0;", "d = x / 0.0;" }
            .Select(l => division.Match(l)).Where(m => m.Success).Select(m => m.Value));
    }

    private const string Fill = """
        #version 430
        #include "lib/value.glsl"
        layout(local_size_x = 4) in;
        layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };
        uniform int u_count;
        void main()
        {
            int i = int(gl_GlobalInvocationID.x);
            if (i >= u_count) return;
            out_data[i] = value();
        }
        """;

    private float[] RunFill(GlProgram p, int n = 5)
    {
        GlContext ctx = fixture.Context;
        using var t = new GpuTensor(ctx, 1, 1, n);
        p.Use();
        ctx.Gl.Uniform1(p.Uniform("u_count"), n);
        t.Buffer.Bind(3);
        p.DispatchCovering(n, 1, 1);
        return t.Download().Data;
    }

    [Fact]
    public void IncludeAndDefines_AreApplied_AndProgramsAreCachedByDefines()
    {
        Write("lib/value.glsl", "#ifndef VALUE_GLSL\n#define VALUE_GLSL\nfloat value() { return float(SCALE) * 2.0; }\n#endif\n");
        Write("fill.comp", Fill);
        using var lib = new ShaderLibrary(fixture.Context, _root);
        GlProgram three = lib.Compute("fill.comp", ("SCALE", 3));
        Assert.Equal(new float[] { 6, 6, 6, 6, 6 }, RunFill(three));
        Assert.Same(three, lib.Compute("fill.comp", ("SCALE", 3)));
        GlProgram five = lib.Compute("fill.comp", ("SCALE", 5));
        Assert.NotSame(three, five);
        Assert.Equal(new float[] { 10, 10, 10 }, RunFill(five, 3));
        Assert.Equal((4u, 1u, 1u), five.WorkgroupSize);
    }

    [Fact]
    public void CompileErrorInAnInclude_NamesTheIncludedFileAndLine()
    {
        Write("lib/value.glsl", "// line 1\n// line 2\nfloat value() { return undefined_thing; }\n");
        Write("fill.comp", Fill);
        using var lib = new ShaderLibrary(fixture.Context, _root);
        var e = Assert.Throws<ShaderBuildException>(() => lib.Compute("fill.comp", ("SCALE", 1)));
        Assert.StartsWith("lib/value.glsl:3: ", e.Message);
        Assert.Contains("undefined_thing", e.Message);
    }

    [Fact]
    public void CompileErrorInTheMainFile_NamesItsLine_AfterInjectedDefines()
    {
        Write("lib/value.glsl", "float value() { return 1.0; }\n");
        Write("broken.comp", "#version 430\nlayout(local_size_x = 1) in;\nvoid main()\n{\n    float x = ;\n}\n");
        using var lib = new ShaderLibrary(fixture.Context, _root);
        var e = Assert.Throws<ShaderBuildException>(() => lib.Compute("broken.comp", ("A", 1), ("B", 2), ("C", 3)));
        Assert.StartsWith("broken.comp:5: ", e.Message);
    }

    [Fact]
    public void IncludeCycle_And_MissingInclude_AreNamed()
    {
        Write("a.glsl", "#include \"b.glsl\"\n");
        Write("b.glsl", "#include \"a.glsl\"\n");
        Write("cycle.comp", "#version 430\n#include \"a.glsl\"\nlayout(local_size_x = 1) in;\nvoid main() {}\n");
        Write("missing.comp", "#version 430\n\n#include \"nowhere.glsl\"\nvoid main() {}\n");
        using var lib = new ShaderLibrary(fixture.Context, _root);
        var cycle = Assert.Throws<ShaderBuildException>(() => lib.Compute("cycle.comp"));
        Assert.Contains("cycle.comp -> a.glsl -> b.glsl -> a.glsl", cycle.Message);
        var missing = Assert.Throws<ShaderBuildException>(() => lib.Compute("missing.comp"));
        Assert.StartsWith("missing.comp:3: #include \"nowhere.glsl\" not found", missing.Message);
    }

    [Fact]
    public void ReloadChanged_RebuildsEditedIncludes_AndKeepsTheLastGoodProgramOnError()
    {
        Write("lib/value.glsl", "float value() { return 1.0; }\n");
        Write("fill.comp", Fill);
        using var lib = new ShaderLibrary(fixture.Context, _root);
        GlProgram p = lib.Compute("fill.comp");
        Assert.Equal((0, (string?)null), lib.ReloadChanged());

        Write("lib/value.glsl", "float value() { return 7.0; }\n", secondsFromNow: 5);
        Assert.Equal((1, (string?)null), lib.ReloadChanged());
        Assert.Equal(new float[] { 7, 7, 7, 7, 7 }, RunFill(p));

        Write("lib/value.glsl", "float value() { return 8.0 }\n", secondsFromNow: 10);
        (int rebuilt, string? error) = lib.ReloadChanged();
        Assert.Equal(0, rebuilt);
        Assert.NotNull(error);
        Assert.StartsWith("lib/value.glsl:1: ", error);
        Assert.Equal(new float[] { 7, 7, 7, 7, 7 }, RunFill(p)); // last good program still serves
        Assert.Equal((0, (string?)null), lib.ReloadChanged()); // the same broken file is reported once

        Write("lib/value.glsl", "float value() { return 9.0; }\n", secondsFromNow: 15);
        Assert.Equal((1, (string?)null), lib.ReloadChanged());
        Assert.Equal(new float[] { 9, 9, 9, 9, 9 }, RunFill(p));
    }

    /// <summary>The live window's setting: a program that does not build at first is returned unbuilt (using it throws its
    /// error), rebuilt once a file it read, or looked for and missed, changes; off, the same request throws.</summary>
    [Fact]
    public void KeepBroken_ReturnsAnUnbuiltProgram_ThatBuildsOnceItsFilesAreFixed()
    {
        Write("lib/value.glsl", "float value() { return 2.0 }\n");
        Write("fill.comp", Fill);
        Write("needs.comp", "#version 430\n#include \"lib/later.glsl\"\nlayout(local_size_x = 4) in;\nlayout(std430, binding = 3) writeonly buffer Output { float out_data[]; };\nuniform int u_count;\nvoid main() { int i = int(gl_GlobalInvocationID.x); if (i < u_count) out_data[i] = later(); }\n");
        using var lib = new ShaderLibrary(fixture.Context, _root);
        Assert.Throws<ShaderBuildException>(() => lib.Compute("fill.comp"));
        lib.KeepBroken = true;
        GlProgram p = lib.Compute("fill.comp", ("X", 1));
        GlProgram q = lib.Compute("needs.comp");
        Assert.Equal(0u, p.Handle);
        Assert.StartsWith("lib/value.glsl:1: ", p.BuildError);
        Assert.StartsWith("lib/value.glsl:1: ", lib.UnbuiltError);
        Assert.StartsWith("needs.comp:2: #include \"lib/later.glsl\" not found", q.BuildError);
        var e = Assert.Throws<ShaderBuildException>(() => p.Use());
        Assert.Equal(p.BuildError, e.Message);
        Assert.Equal((0, (string?)null), lib.ReloadChanged()); // nothing changed: nothing tried, nothing said again

        Write("lib/value.glsl", "float value() { return 2.0; }\n", secondsFromNow: 5);
        Assert.Equal((1, (string?)null), lib.ReloadChanged());
        Assert.Null(p.BuildError);
        Assert.Equal(new float[] { 2, 2, 2, 2, 2 }, RunFill(p));
        Assert.StartsWith("needs.comp:2: ", lib.UnbuiltError);

        // The include it looked for and did not find appears: that is a change too.
        Write("lib/later.glsl", "float later() { return 4.0; }\n", secondsFromNow: 5);
        Assert.Equal((1, (string?)null), lib.ReloadChanged());
        Assert.Null(lib.UnbuiltError);
        Assert.Equal(new float[] { 4, 4, 4 }, RunFill(q, 3));

        // An include looked for next to a file in a folder: it may appear there (as the message says) or in the root.
        Write("sub/near.comp", "#version 430\n#include \"near.glsl\"\nlayout(local_size_x = 4) in;\nlayout(std430, binding = 3) writeonly buffer Output { float out_data[]; };\nuniform int u_count;\nvoid main() { int i = int(gl_GlobalInvocationID.x); if (i < u_count) out_data[i] = near(); }\n");
        GlProgram r = lib.Compute("sub/near.comp");
        Assert.StartsWith("sub/near.comp:2: #include \"near.glsl\" not found", r.BuildError);
        // r (retryUnbuilt) tries it again, unchanged: the same error, and it is one of a program that never built.
        (int rebuilt, string? again) = lib.ReloadChanged(retryUnbuilt: true);
        Assert.Equal(0, rebuilt);
        Assert.StartsWith("sub/near.comp:2: ", again);
        Assert.True(lib.LastFailureUnbuilt);
        Assert.Equal((0, (string?)null), lib.ReloadChanged());
        Assert.False(lib.LastFailureUnbuilt);
        Write("sub/near.glsl", "float near() { return 5.0; }\n", secondsFromNow: 5);
        Assert.Equal((1, (string?)null), lib.ReloadChanged());
        Assert.Equal(new float[] { 5, 5 }, RunFill(r, 2));
    }

    /// <summary>A program generated at run time (weights compiled in) is rebuilt when an include it reads changes, as a
    /// file's program is (it was not: an edited include never reached it), until its owner deletes it.</summary>
    [Fact]
    public void GeneratedPrograms_RebuildWhenTheirIncludesChange_UntilDeleted()
    {
        Write("lib/value.glsl", "float value() { return 3.0; }\n");
        using var lib = new ShaderLibrary(fixture.Context, _root);
        GlProgram p = lib.ComputeGenerated("generated/fill.comp", Fill.Replace("value()", "value() + 0.5", StringComparison.Ordinal));
        Assert.Equal(new float[] { 3.5f, 3.5f }, RunFill(p, 2));
        Write("lib/value.glsl", "float value() { return 6.0; }\n", secondsFromNow: 5);
        Assert.Equal((1, (string?)null), lib.ReloadChanged());
        Assert.Equal(new float[] { 6.5f, 6.5f }, RunFill(p, 2));
        p.Delete();
        Write("lib/value.glsl", "float value() { return 7.0; }\n", secondsFromNow: 10);
        Assert.Equal((0, (string?)null), lib.ReloadChanged());
        Assert.Equal(0u, p.Handle);
    }

    [Fact]
    public void FindRoot_FindsTheSourceTreeShaders()
    {
        string root = ShaderLibrary.FindRoot();
        Assert.True(File.Exists(Path.Combine(root, "conv2d.comp")), root);
        Assert.True(File.Exists(Path.Combine(root, "include", "border.glsl")), root);
    }

    [Fact]
    public void EveryShippedComputeShader_Compiles()
    {
        // The defines each op uses; a shader that fails here fails for every user of that op.
        GlContext ctx = fixture.Context;
        using var lib = new ShaderLibrary(ctx, ShaderLibrary.FindRoot());
        for (int border = 0; border < 5; border++)
        {
            lib.Compute("conv2d.comp", ("BORDER", border), ("CONVOLVE", border % 2), ("HAS_BIAS", 1 - border % 2));
            lib.Compute("separable.comp", ("AXIS", border % 2), ("BORDER", border), ("CONVOLVE", 0), ("HAS_BIAS", 1));
            lib.Compute("activation.comp", ("ACTIVATION", border));
            lib.Compute("activation_fast.comp", ("ACTIVATION", border), ("VEC", 4), ("NV", 2));
        }
        lib.Compute("activation_fast.comp", ("ACTIVATION", 0), ("VEC", 1), ("NV", 1));
        lib.Compute("magnitude_fast.comp", ("VEC", 4), ("NV", 2));
        lib.Compute("magnitude_fast.comp", ("VEC", 1), ("NV", 1));
        lib.Compute("pool2d.comp", ("POOL_MAX", 0));
        lib.Compute("present/minmax.comp", ("VEC", 4));
        lib.Compute("present/minmax.comp", ("VEC", 1));
        lib.Compute("present/image_to_tensor.comp", ("GRAY", 0));
        lib.Compute("present/tensor_to_image.comp", ("RGB", 0), ("COLORMAP", 2));
    }
}
