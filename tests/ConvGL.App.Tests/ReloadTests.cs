using System.Diagnostics;
using System.Text;

namespace ConvGL.App.Tests;

/// <summary>Broken shaders and stack files, at start-up and while running: the app keeps going (the last good version
/// where there is one), says what broke with its file and line, and picks up the fix by itself.</summary>
[Collection("window")]
public sealed class ReloadTests(DisplayFixture display)
{
    private static string RepoShaders()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "ConvGL.sln")) && Directory.Exists(Path.Combine(d.FullName, "shaders")))
                return Path.Combine(d.FullName, "shaders");
        throw new InvalidOperationException($"no shaders/ above {AppContext.BaseDirectory}");
    }

    /// <summary>A private copy of shaders/ that a test may break.</summary>
    private static string CopyShaders(string name)
    {
        string root = Path.Combine(Path.GetTempPath(), $"convgl-app-tests-{Environment.ProcessId}", name);
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        string src = RepoShaders();
        foreach (string f in Directory.GetFiles(src, "*", SearchOption.AllDirectories))
        {
            string to = Path.Combine(root, Path.GetRelativePath(src, f));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(f, to);
        }
        return root;
    }

    /// <summary>Inserts a line that is not GLSL right after #version, so the error is on line 2 of that file.</summary>
    private static void Break(string file)
    {
        string[] lines = File.ReadAllLines(file);
        WriteWhole(file, string.Join('\n', [lines[0], "this line is not glsl;", .. lines[1..]]) + "\n");
    }

    /// <summary>Writes a temporary file and renames it over the target, as editors do: the running app, which checks
    /// for changes twice a second, can never read a half-written file (and then miss the rest of the write when
    /// its modification time lands in the same clock tick).</summary>
    private static void WriteWhole(string file, string text)
    {
        string temp = file + ".writing";
        File.WriteAllText(temp, text);
        File.Move(temp, file, overwrite: true);
    }

    /// <summary>Pixels of the error panel's text colour (anti-aliasing blends the glyphs' edges; their cores keep it).</summary>
    private static int ErrorTextPixels(Picture p)
    {
        int error = 0;
        for (int i = 0; i < p.Width * p.Height; i++)
        {
            byte red = p.Rgba[4 * i], green = p.Rgba[4 * i + 1], blue = p.Rgba[4 * i + 2];
            if (Math.Abs(red - 255) <= 20 && Math.Abs(green - 120) <= 25 && Math.Abs(blue - 110) <= 25) error++;
        }
        return error;
    }

    [Fact]
    public void ShaderBroken_ApplyOnTheGpu_SaysItOnOneLine_WithTheIncludedFilesLine()
    {
        // A broken include: the compiler's log has several lines (the error, then what it caused); stderr has one.
        string shaders = CopyShaders("broken-include");
        Break(Path.Combine(shaders, "include", "border.glsl"));
        string dir = Path.GetDirectoryName(shaders)!;
        File.WriteAllText(Path.Combine(dir, "k.txt"), "0 1 0\n1 1 1\n0 1 0\n");
        ApplyProcess.Result r = ApplyProcess.ConvglWith(new Dictionary<string, string> { ["CONVGL_SHADERS"] = shaders }, dir,
            "apply", "--device", "gpu", "--kernel", "k.txt", Path.Combine(RepoShaders(), "..", "assets", "images", "dataset-preview.png"), "out-broken.npy");
        Assert.True(r.ExitCode == 1, r.ToString());
        string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, r.ToString());
        Assert.StartsWith("convgl: apply: --device gpu failed: include/border.glsl:2: shader compile failed (", lines[0]);
        Assert.Contains(" | include/border.glsl:2: ", lines[0]);
        Assert.EndsWith("(use --device cpu)", lines[0]);
        Assert.False(File.Exists(Path.Combine(dir, "out-broken.npy")));
    }

    [Fact]
    public void ShaderBrokenAtStartUp_AppRunsAndShowsTheError()
    {
        string shaders = CopyShaders("broken-at-start");
        Break(Path.Combine(shaders, "app", "tensor.frag"));
        string png = Path.Combine(shaders, "shot.png");
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--size", "320x240", "--source", "scene:320x180", "--frames", "3", "--view", "grid", "--stack", "edges", "--screenshot", png],
            new Dictionary<string, string?> { ["CONVGL_SHADERS"] = shaders });
        // The window runs on and shows the error; the script is told by the exit status and one line.
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("tensor.frag:2", r.Stderr);
        Assert.Contains("convgl: on screen at the end of the run (exit 1): ", r.Stderr);
        var p = new Picture(png);
        Assert.True(p.Contrast() > 8, $"screenshot with a broken shader looks blank (contrast {p.Contrast():0.0})");

        // A file already there is left as it was: the run fails (the hostile-input audit: it was replaced by the error).
        string kept = Path.Combine(shaders, "kept.png");
        File.WriteAllText(kept, "precious");
        r = WindowProcess.Run(WindowProcess.Require(display),
            ["--size", "320x240", "--source", "scene:320x180", "--frames", "3", "--view", "grid", "--stack", "edges", "--screenshot", kept],
            new Dictionary<string, string?> { ["CONVGL_SHADERS"] = shaders });
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains($"convgl: screenshot {kept} not written: the run ends with an error on screen (below), and a failed run leaves the file there as it was", r.Stderr);
        Assert.Contains("convgl: on screen at the end of the run (exit 1): ", r.Stderr);
        Assert.Equal("precious", File.ReadAllText(kept));
    }

    /// <summary>The error about a presentation shader broken at start-up is on screen: in a small window (320x200, tensor.frag),
    /// where the info panel alone fills the column, at the top of the column (it was drawn below the info panel, out of
    /// sight); and with app/texture.frag broken, which draws the HUD itself (nothing of the error reached the screen), its
    /// panels copied to the screen without a program.</summary>
    [Theory]
    [InlineData("tensor.frag", "320x200")]
    [InlineData("texture.frag", "640x400")]
    public void PresentationShaderBrokenAtStartUp_TheErrorIsOnScreen(string file, string size)
    {
        string shaders = CopyShaders("broken-" + file);
        Break(Path.Combine(shaders, "app", file));
        string png = Path.Combine(shaders, "shot.png");
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--size", size, "--source", "scene:320x180", "--frames", "3", "--stack", "edges", "--screenshot", png],
            new Dictionary<string, string?> { ["CONVGL_SHADERS"] = shaders });
        Assert.True(r.ExitCode == 1, r.ToString()); // the error is still on screen at the end
        Assert.Contains($"app/{file}:2", r.Stderr);
        int error = ErrorTextPixels(new Picture(png));
        Assert.True(error > 40, $"{error} pixels of the error colour in the {size} screenshot: the error is not on screen");
    }

    /// <summary>The live-window audit: a theorem-view shader broken at start-up was on screen but the scripted run exited 0
    /// (the view's own error was not the run's), and its line printed the compiler's log over two lines.</summary>
    [Fact]
    public void TheoremShaderBrokenAtStartUp_ExitsOne_WithOneLine()
    {
        string shaders = CopyShaders("theorem-broken");
        Break(Path.Combine(shaders, "present", "spectrum.comp"));
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--size", "320x240", "--source", "scene:320x180", "--frames", "3", "--view", "theorem"],
            new Dictionary<string, string?> { ["CONVGL_SHADERS"] = shaders });
        Assert.True(r.ExitCode == 1, r.ToString());
        string line = Assert.Single(r.Stdout.Split('\n'), l => l.StartsWith("theorem ", StringComparison.Ordinal));
        Assert.StartsWith("theorem error: present/spectrum.comp:", line);
        Assert.DoesNotContain(r.Stdout.Split('\n'), l => l.StartsWith("present/spectrum.comp", StringComparison.Ordinal));
        Assert.Contains("convgl: on screen at the end of the run (exit 1): theorem view: present/spectrum.comp:", r.Stderr);
    }

    [Fact]
    public void ConvShaderBrokenAtStartUp_SourceShownWithTheError()
    {
        string shaders = CopyShaders("conv-broken");
        // A one-kernel filter runs on the depthwise fast variant (GpuConv2D's plan), so that is the shader to break.
        Break(Path.Combine(shaders, "conv2d_depthwise.comp"));
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--size", "320x240", "--source", "scene:320x180", "--frames", "3", "--filter", "sobel-x"],
            new Dictionary<string, string?> { ["CONVGL_SHADERS"] = shaders });
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("conv2d_depthwise.comp:2", r.Stderr);
    }

    /// <summary>The live-window audit: a compute shader a stack's layer needs, broken at start-up, ended the window
    /// before it opened (exit 1 with the compiler's line, no screenshot, no window to fix it in). It is an error on
    /// screen like any other: the source under it, the screenshot written, exit 1.</summary>
    [Fact]
    public void StackShaderBrokenAtStartUp_WindowShowsTheError_ScreenshotWritten()
    {
        string shaders = CopyShaders("stack-broken-at-start");
        // edges' conv reads a reflect-padded copy (conv2d_pad.comp), whose border code is this include.
        Break(Path.Combine(shaders, "include", "border.glsl"));
        string png = Path.Combine(shaders, "shot.png");
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--size", "480x300", "--source", "scene:320x180", "--frames", "40", "--stack", "edges", "--screenshot", png, "--stats"],
            new Dictionary<string, string?> { ["CONVGL_SHADERS"] = shaders });
        Assert.True(r.ExitCode == 1, r.ToString());
        // Said once, and the HUD not redrawn every frame for it (a review: the run's error was cleared by a run that
        // computed nothing and set again, every other frame).
        Assert.Single(r.Stderr.Split('\n'), l => l.StartsWith("convgl: shader error", StringComparison.Ordinal));
        int steady = int.Parse(System.Text.RegularExpressions.Regex.Match(r.Stdout, @"steady frames=(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(steady >= 30, r.Stdout);
        Assert.Contains("convgl: shader error (nothing of it runs until the file is fixed; it reloads by itself): include/border.glsl:2: ", r.Stderr);
        Assert.Contains("convgl: on screen at the end of the run (exit 1): include/border.glsl:2: ", r.Stderr);
        // The compiler's reason is on both lines, not on screen only (a newcomer review: stderr named the file and the
        // defines, and an --offscreen run never showed why).
        Assert.Matches(@"convgl: shader error \(nothing[^\n]* \| include/border\.glsl:2: error: ", r.Stderr);
        Assert.Matches(@"convgl: on screen at the end of the run[^\n]* \| include/border\.glsl:2: error: ", r.Stderr);
        Assert.DoesNotContain("keeping the last good program", r.Stderr);
        Assert.DoesNotContain("convgl: GPU:", r.Stderr);
        var p = new Picture(png);
        int error = ErrorTextPixels(p);
        Assert.True(error > 40, $"{error} pixels of the error colour: the error is not on screen");
        Assert.True(p.Contrast() > 8, $"the screenshot looks blank (contrast {p.Contrast():0.0}): the source should show under the error");
    }

    /// <summary>Broken at start-up, then fixed while the window runs: the programs that never built are built then, the
    /// generated ones (weights compiled in, whose includes were not watched) too, and the stack runs: no error comes
    /// back after "shaders reloaded".</summary>
    [Fact]
    public void ShaderBrokenAtStartUp_FixedWhileRunning_TheStackRuns()
    {
        string shaders = CopyShaders("broken-then-fixed");
        // An include of edges' generated program (conv2d_literal_winograd: its weights as literals).
        string include = Path.Combine(shaders, "include", "fused_act.glsl");
        string good = File.ReadAllText(include);
        Break(include);
        using var live = new RunningWindow(WindowProcess.StartInfo(WindowProcess.Require(display),
            ["--size", "320x200", "--source", "scene:320x180", "--frames", "1000000", "--stack", "edges"],
            new Dictionary<string, string?> { ["CONVGL_SHADERS"] = shaders }));
        live.WaitFor("include/fused_act.glsl:2", "broken at start-up");
        Assert.Contains("(generated/conv2d_literal_winograd.comp)", live.Log());
        live.WaitFor("first frame shown", "the window opened");
        Assert.Contains("nothing of it runs until the file is fixed", live.Log());
        // Saved again, still broken (the error on line 3): still nothing kept, never "keeping the last good program".
        WriteWhole(include, "// a comment line\n// another\nthis line is not glsl either;\n" + good);
        live.WaitFor("nothing of it runs until the file is fixed; it reloads by itself): include/fused_act.glsl:3", "the second broken save said");
        Assert.DoesNotContain("keeping the last good program", live.Log());
        WriteWhole(include, good);
        live.WaitFor("shaders reloaded", "fix picked up");
        Thread.Sleep(2000);
        string after = live.Log()[live.Log().IndexOf("shaders reloaded", StringComparison.Ordinal)..];
        Assert.False(live.Process.HasExited, $"the app stopped after the fix; stderr:\n{live.Log()}");
        Assert.DoesNotContain("shader error", after);
        Assert.DoesNotContain("fused_act", after);
    }

    [Fact]
    public void ShaderAndStackBrokenWhileRunning_KeepRunning_ThenReloadTheFix()
    {
        string shaders = CopyShaders("broken-live");
        string stackDir = Path.Combine(shaders, "..", "stack-live");
        Directory.CreateDirectory(stackDir);
        string stack = Path.Combine(stackDir, "mine.json");
        string goodStack = """
            { "name": "mine", "input": "gray",
              "layers": [ { "type": "conv", "kernels": ["sobel-x", "sobel-y"], "border": "reflect" }, { "type": "magnitude" } ] }
            """;
        File.WriteAllText(stack, goodStack);
        string frag = Path.Combine(shaders, "app", "texture.frag");
        string goodFrag = File.ReadAllText(frag);

        // A pinned probe (on the magnitude, layer 2): the reload below that removes its layer must not end the window.
        using var live = new RunningWindow(WindowProcess.StartInfo(WindowProcess.Require(display),
            ["--size", "240x160", "--source", "scene:160x90", "--frames", "1000000", "--stack", stack, "--probe", "5,5"],
            new Dictionary<string, string?> { ["CONVGL_SHADERS"] = shaders }));
        live.WaitFor("first frame shown", "start");
        Break(frag);
        WriteWhole(stack, goodStack.Replace("sobel-y", "no-such-kernel", StringComparison.Ordinal));
        live.WaitFor("texture.frag:2", "broken shader reported");
        live.WaitFor("no-such-kernel", "broken stack reported");
        Thread.Sleep(1000);
        Assert.False(live.Process.HasExited, $"the app stopped after the broken files; stderr:\n{live.Log()}");
        Assert.Contains("keeping the running version", live.Log());

        WriteWhole(frag, goodFrag);
        WriteWhole(stack, goodStack.Replace("sobel-y", "scharr-y", StringComparison.Ordinal));
        live.WaitFor("shaders reloaded", "fixed shader picked up");
        live.WaitFor("reloaded stack mine", "fixed stack picked up");
        Assert.False(live.Process.HasExited, $"the app stopped after the fix; stderr:\n{live.Log()}");

        // A valid edit that removes the selected layer (the magnitude, layer 2, selected at start): the window keeps
        // running on the reloaded stack's last layer (it ended with an index error).
        WriteWhole(stack, """{ "name": "one", "input": "gray", "layers": [ { "type": "conv", "kernels": ["sobel-x"], "border": "reflect" } ] }""");
        live.WaitFor("reloaded stack one", "shorter stack picked up");
        Thread.Sleep(1500);
        Assert.False(live.Process.HasExited, $"the app stopped after a reload removed the selected layer; stderr:\n{live.Log()}");
        Assert.DoesNotContain("internal error", live.Log());
    }

    /// <summary>The live-window audit: a stack file an editor saves in place (cut to its first part, the rest written
    /// a moment later) was reported once as bad JSON ("keeping the running version") before the reload. A file that
    /// new is read again at the next check; only an error that outlives the save is said.</summary>
    [Fact]
    public void StackFileCaughtMidSave_IsNotReportedBroken_OnlyReloaded()
    {
        string dir = Directory.CreateTempSubdirectory("convgl-midsave-").FullName;
        try
        {
            string stack = Path.Combine(dir, "s.json");
            const string Before = """{ "name": "before", "input": "gray", "layers": [ { "type": "conv", "kernels": ["sobel-x"] } ] }""";
            const string After = """{ "name": "after", "input": "gray", "layers": [ { "type": "conv", "kernels": ["sobel-y", "box:3"] }, { "type": "relu" } ] }""";
            File.WriteAllText(stack, Before);
            using var live = new RunningWindow(WindowProcess.StartInfo(WindowProcess.Require(display),
                ["--size", "240x160", "--source", "scene:160x90", "--frames", "1000000", "--stack", stack]));
            live.WaitFor("first frame shown", "start");
            // In place, as an editor that truncates and writes: the first half, then (past at least one 0.5 s check) the whole.
            File.WriteAllText(stack, After[..40]);
            Thread.Sleep(800);
            File.WriteAllText(stack, After);
            live.WaitFor("reloaded stack after", "the whole file reloaded");
            Thread.Sleep(1000);
            Assert.DoesNotContain("keeping the running version", live.Log());

            // A save that stays broken is still said, once its file has settled.
            File.WriteAllText(stack, After[..40]);
            live.WaitFor("keeping the running version", "a broken save said");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The live-window audit: in the theorem and filters views a stack reloaded with fewer layers (or switched
    /// with s) ended the window with an internal error (IndexOutOfRange): the view kept the old stack's layer until its
    /// next draw, and the HUD asked for it first. The window keeps running on the shorter stack.</summary>
    [Theory]
    [InlineData("theorem")]
    [InlineData("filters")]
    public void StackReloadedWithFewerLayers_InTheTheoremAndFiltersViews_KeepsRunning(string view)
    {
        string dir = Directory.CreateTempSubdirectory("convgl-reload-views-").FullName;
        try
        {
            string stack = Path.Combine(dir, "s.json");
            const string Four = """{ "input": "gray", "layers": [ { "type": "conv", "kernels": ["sobel-x", "sobel-y"] }, { "type": "relu" }, { "type": "conv", "kernels": ["box:3"], "stride": 2 }, { "type": "maxpool", "size": 2 } ] }""";
            File.WriteAllText(stack, Four);
            using var live = new RunningWindow(WindowProcess.StartInfo(WindowProcess.Require(display),
                ["--size", "320x200", "--source", "scene:160x90", "--frames", "1000000", "--stack", stack, "--view", view]));
            live.WaitFor("first frame shown", view);
            WriteWhole(stack, """{ "input": "gray", "layers": [ { "type": "conv", "kernels": ["sobel-x", "sobel-y"] }, { "type": "relu" } ] }""");
            live.WaitFor("reloaded stack s", view);
            Thread.Sleep(1500);
            Assert.False(live.Process.HasExited, $"{view}: the app stopped after the shorter stack was reloaded; stderr:\n{live.Log()}");
            Assert.DoesNotContain("internal error", live.Log());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>A window process left running for hot-reload tests: its stderr collected as it comes, waited on for a line,
/// killed when disposed.</summary>
internal sealed class RunningWindow : IDisposable
{
    private readonly StringBuilder _stderr = new();

    public RunningWindow(ProcessStartInfo psi)
    {
        Process = Process.Start(psi)!;
        Process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_stderr) _stderr.AppendLine(e.Data);
        };
        Process.OutputDataReceived += (_, _) => { };
        Process.BeginErrorReadLine();
        Process.BeginOutputReadLine();
    }

    public Process Process { get; }

    public string Log()
    {
        lock (_stderr) return _stderr.ToString();
    }

    /// <summary>Waits until stderr holds <paramref name="text"/>; fails naming <paramref name="step"/> if the app exits
    /// first or 180 s pass (start-up and each 0.5 s file check can be slow on a loaded 2-core CI machine with llvmpipe).</summary>
    public void WaitFor(string text, string step)
    {
        var clock = Stopwatch.StartNew();
        while (!Log().Contains(text, StringComparison.Ordinal))
        {
            Assert.False(Process.HasExited, $"{step}: the app exited (code {(Process.HasExited ? Process.ExitCode : 0)}); stderr:\n{Log()}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(180), $"{step}: no '{text}' within 180 s; stderr:\n{Log()}");
            Thread.Sleep(100);
        }
    }

    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill();
        Process.WaitForExit(10_000);
        Process.Dispose();
    }
}
