using System.CommandLine;
using ConvGL.App.Cli;
using ConvGL.Core;

namespace ConvGL.App.Tests;

/// <summary>The command line: the shared value parsers, --help generated from the definitions that parse, and bad
/// input reported before anything runs (no display needed).</summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData("320x240", 320, 240)]
    [InlineData("8X9", 8, 9)]
    [InlineData("16384x1", 16384, 1)]
    public void Size_ParsesWidthByHeight(string s, int w, int h) => Assert.Equal((w, h), Parsers.Size(s, 1, 16384));

    [Theory]
    [InlineData("12by10")]
    [InlineData("0x5")]
    [InlineData("16385x2")]
    [InlineData("-3x4")]
    [InlineData("3x4x5")]
    [InlineData("x")]
    [InlineData("")]
    public void Size_RefusesOthers_NamingTheForm(string s)
    {
        var e = Assert.Throws<ConvGLException>(() => Parsers.Size(s, 1, 16384));
        Assert.Contains("WIDTHxHEIGHT", e.Message);
        Assert.Contains($"'{s}'", e.Message);
    }

    [Fact]
    public void KernelSize_Padding_Modes_Borders()
    {
        Assert.Equal((3, 3), Parsers.KernelSize("3"));
        Assert.Equal((5, 1), Parsers.KernelSize("5x1"));
        Assert.Throws<ConvGLException>(() => Parsers.KernelSize("16"));
        Assert.Throws<ConvGLException>(() => Parsers.KernelSize("0x3"));
        Assert.Equal((PaddingMode.Valid, 0), Parsers.Padding("valid"));
        Assert.Equal((PaddingMode.Explicit, 7), Parsers.Padding("7"));
        Assert.Throws<ConvGLException>(() => Parsers.Padding("huge"));
        Assert.Equal(ConvMode.Convolve, Parsers.Choice("convolve", Parsers.Modes));
        Assert.Contains("correlate|convolve", Assert.Throws<ConvGLException>(() => Parsers.Choice("conv", Parsers.Modes)).Message);
        foreach (Border b in Borders.All) Assert.Equal(b, Parsers.Border(b.Name()));
        Assert.Equal((10, 20), Parsers.Point("10,20"));
        Assert.Throws<ConvGLException>(() => Parsers.Point("10"));
    }

    /// <summary>--help of the window and of every command lists every option the parser accepts, and exits 0.</summary>
    [Fact]
    public void Help_OfEveryCommand_ListsEveryOptionItParses()
    {
        RootCommand root = CliRoot.Root();
        Assert.Equal(["apply", "features", "train", "bench"], root.Subcommands.Select(c => c.Name).Take(4));
        foreach (Command command in root.Subcommands.Prepend(root))
        {
            var help = new StringWriter();
            string[] args = command is RootCommand ? ["--help"] : [command.Name, "--help"];
            Assert.Equal(0, CliRoot.Execute(args, help));
            string text = help.ToString();
            Assert.Contains("Usage:", text);
            foreach (Option o in command.Options) Assert.Contains(o.Name, text);
            foreach (Argument a in command.Arguments) Assert.Contains($"<{a.Name}>", text);
        }
    }

    [Fact]
    public void HelpVerb_IsRootHelp()
    {
        var help = new StringWriter();
        Assert.Equal(0, CliRoot.Execute(["help"], help));
        Assert.Contains("apply", help.ToString());
        Assert.Contains("--source", help.ToString());
    }

    [Theory]
    [InlineData(new[] { "features", "in.png", "--stack", "edges", "--out", "o", "--size", "0x5" }, "features: --size must be WIDTHxHEIGHT")]
    [InlineData(new[] { "features", "in.png", "--out", "o" }, "features: option '--stack' is required")]
    [InlineData(new[] { "apply", "a.png", "b.png", "--kernel", "box", "--stride", "x" }, "apply: --stride must be an integer")]
    [InlineData(new[] { "apply", "a.png", "b.png", "--kernel", "box", "--mode", "conv" }, "apply: --mode must be one of correlate|convolve")]
    [InlineData(new[] { "apply", "a.png", "--kernel", "box" }, "apply: missing OUTPUT")]
    [InlineData(new[] { "apply", "a.png", "b.png", "--kernel", "box", "--colour", "red" }, "apply: unknown option --colour")]
    [InlineData(new[] { "convert", "m.onnx", "m.json", "--force" }, "convert: unknown option --force (options: --normalize)")]
    [InlineData(new[] { "--frames", "5", "apply", "a.png", "b.npy", "--kernel", "box" }, "apply: --frames is an option of the window, not of apply (options: --kernel,")]
    [InlineData(new[] { "train", "--fit-kernel", "--kernel-size", "99" }, "train: --kernel-size must be N or HxW")]
    [InlineData(new[] { "train", "--fit-kernel", "--epochs", "2" }, "train: --epochs only applies without --fit-kernel")]
    [InlineData(new[] { "bench", "--reps", "0" }, "bench: --reps must be at least 1")]
    [InlineData(new[] { "--view", "sideways" }, "--view must be one of output|split|grid|profile")]
    [InlineData(new[] { "--frames", "1", "--screenshot", "x.gif" }, "--screenshot x.gif: the name must end in .png or .jpg")]
    [InlineData(new[] { "--filter", "no-such-kernel", "--frames", "1" }, "unknown kernel 'no-such-kernel'")]
    [InlineData(new[] { "--filter", "edges", "--frames", "1" }, "--filter 'edges': not a kernel, but a shipped stack: run it with --stack edges")]
    [InlineData(new[] { "--stack", "sobel-x", "--frames", "1" }, "--stack 'sobel-x': not a stack, but a kernel: run it with --filter sobel-x")]
    [InlineData(new[] { "--stack", "gaussian:5", "--frames", "1" }, "--stack 'gaussian:5': not a stack, but a kernel: run it with --filter gaussian:5")]
    [InlineData(new[] { "--stack", "edges", "--layer", "3" }, "--layer 3: stack 'edges' has 2 layer(s)")]
    [InlineData(new[] { "--size", "4x4" }, "--size must be WIDTHxHEIGHT between 8x8 and 8192x8192")]
    [InlineData(new[] { "photo.jpg" }, "unknown command 'photo.jpg'")]
    public void BadArguments_AreOneClearError_BeforeAnythingRuns(string[] args, string message)
    {
        var e = Assert.Throws<ConvGLException>(() => CliRoot.Execute(args));
        Assert.StartsWith(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    /// <summary>CONVGL_SHADERS naming no folder: one line, exit 2, before any window (it printed its error three times
    /// around "first frame shown" and exited 1).</summary>
    [Fact]
    public void AShadersFolderThatIsNotThere_IsOneLine_BeforeTheWindow()
    {
        using var scratch = new Core.Tests.TempDir();
        string dir = scratch.Path;
        string missing = Path.Combine(dir, "nope");
        ApplyProcess.Result r = ApplyProcess.ConvglWith(new Dictionary<string, string> { ["CONVGL_SHADERS"] = missing }, dir, "--offscreen", "--frames", "3");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Equal($"convgl: CONVGL_SHADERS={missing} is not a folder; point it at a copy of shaders/, or unset it", r.Stderr.TrimEnd('\n'));
        // A command on the GPU says the same, with the same exit code (it exited 1 there).
        Core.IO.Npy.Write(Path.Combine(dir, "x.npy"), Core.Tensor.Chw(1, 4, 4));
        r = ApplyProcess.ConvglWith(new Dictionary<string, string> { ["CONVGL_SHADERS"] = missing }, dir, "apply", "x.npy", "y.npy", "--kernel", "box", "--device", "gpu");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Equal($"convgl: CONVGL_SHADERS={missing} is not a folder; point it at a copy of shaders/, or unset it", r.Stderr.TrimEnd('\n'));
    }

    /// <summary>A CONVGL_ switch with a value it does not take, or a name ConvGL does not read, was taken as unset: a
    /// misspelt switch ran the default plan without a word (the audit of 2026-12-07). One line naming the variable and the
    /// values, exit 2, nothing written; an empty value is unset, as the shell means it.</summary>
    [Fact]
    public void ASwitchWithAValueItDoesNotTake_OrAnUnknownName_IsOneLine_NothingWritten()
    {
        using var scratch = new Core.Tests.TempDir();
        string dir = scratch.Path;
        Core.IO.Npy.Write(Path.Combine(dir, "x.npy"), Core.Tensor.Chw(1, 4, 4));
        (string Name, string Value, string Says)[] bad =
        [
            ("CONVGL_TUNE", "yes", "convgl: environment variable CONVGL_TUNE='yes' is not a value it takes (0, 1: "),
            ("CONVGL_LITERAL_PLANS", "off", "convgl: environment variable CONVGL_LITERAL_PLANS='off' is not a value it takes (0, 1: "),
            ("CONVGL_SPLIT_K", "0", "convgl: environment variable CONVGL_SPLIT_K='0' is not a value it takes (a number of slices (1 to 1024) or auto)"),
            ("CONVGL_PROGRESS", "quiet", "convgl: environment variable CONVGL_PROGRESS='quiet' is not a value it takes (0, off, 1, on, always: "),
            ("CONVGL_PIN_THREAD", "0", "convgl: environment variable CONVGL_PIN_THREAD is not one ConvGL reads (it reads CONVGL_SHADERS, CONVGL_TUNE, "),
        ];
        foreach ((string name, string value, string says) in bad)
        {
            ApplyProcess.Result r = ApplyProcess.ConvglWith(new Dictionary<string, string> { [name] = value }, dir, "apply", "x.npy", "y.npy", "--kernel", "box");
            Assert.True(r.ExitCode == 2, $"{name}={value}: {r}");
            Assert.StartsWith(says, r.Stderr, StringComparison.Ordinal);
            Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.False(File.Exists(Path.Combine(dir, "y.npy")), $"{name}={value} wrote its output");
        }
        // Values the switches take, and an empty one (unset), run.
        foreach ((string name, string value) in new[] { ("CONVGL_SPLIT_K", "auto"), ("CONVGL_SPLIT_K", "3"), ("CONVGL_PROGRESS", "always"), ("CONVGL_TUNE", ""), ("CONVGL_FUZZ_SEED", "7") })
        {
            ApplyProcess.Result r = ApplyProcess.ConvglWith(new Dictionary<string, string> { [name] = value }, dir, "apply", "x.npy", "y.npy", "--kernel", "box");
            Assert.True(r.ExitCode == 0, $"{name}={value}: {r}");
            File.Delete(Path.Combine(dir, "y.npy"));
        }
    }

    /// <summary>DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=0 overrides the build's InvariantGlobalization: under a comma-decimal
    /// locale `train` printed "generated in 0,1 s" and "test loss 2,3163", bench "2100.00 GHz" (the environment audit).
    /// Numbers print with '.' whatever the locale.</summary>
    [Fact]
    public void ACommaDecimalLocale_ChangesNoNumberPrinted()
    {
        using var scratch = new Core.Tests.TempDir();
        string dir = scratch.Path;
        var env = new Dictionary<string, string> { ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "0", ["LC_ALL"] = "de_DE.UTF-8", ["LANG"] = "de_DE.UTF-8" };
        ApplyProcess.Result r = ApplyProcess.ConvglWith(env, dir, "train", "--out", "t", "--epochs", "1", "--samples", "200", "--test-samples", "50", "--batch", "10");
        Assert.SkipWhen(r.ExitCode != 0 && r.Stderr.Contains("ICU", StringComparison.Ordinal), "no ICU here: .NET cannot run with globalization on");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"generated in \d+\.\d s", r.Stdout);
        Assert.Matches(@"test loss \d\.\d{4}", r.Stdout);
        Assert.DoesNotMatch(@"\d,\d", r.Stdout + r.Stderr);
    }

    /// <summary>A shader cache folder that takes no file (here under /proc) is turned off with one note, and the GPU
    /// command runs: Mesa printed "Failed to create ... ---disabling." on every run, and on a full disk its cache killed
    /// the process with SIGBUS (MesaCacheTests; the environment audit).</summary>
    [Fact]
    public void AShaderCacheThatCannotBeWritten_IsOneNote_AndTheCommandRuns()
    {
        using var scratch = new Core.Tests.TempDir();
        string dir = scratch.Path;
        Core.IO.Npy.Write(Path.Combine(dir, "x.npy"), Core.Tensor.Chw(1, 8, 8));
        ApplyProcess.Result r = ApplyProcess.ConvglWith(new Dictionary<string, string> { ["MESA_SHADER_CACHE_DIR"] = "/proc/convgl-none" }, dir,
            "apply", "x.npy", "y.npy", "--kernel", "box", "--device", "gpu");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("convgl: note: Mesa's shader cache (/proc/convgl-none/mesa_shader_cache) is off for this run: its folder '/proc' takes no new file " +
                     "(no such file or folder (a folder such as /proc or /sys takes no new files)); shaders compile on every run (slower starts)", r.Stderr.TrimEnd('\n'));
        Assert.True(File.Exists(Path.Combine(dir, "y.npy")));
    }

    /// <summary>Standard output on a full disk was "internal error: IOException: No space left on device" (the environment
    /// audit): one line saying so, exit 1. /dev/full refuses every write with ENOSPC.</summary>
    [Fact]
    public void StandardOutputThatCannotBeWritten_IsOneLine_ExitOne()
    {
        Assert.SkipUnless(File.Exists("/dev/full"), "no /dev/full here");
        foreach (string args in new[] { "--version", "--help", "bench --list" })
        {
            var psi = new System.Diagnostics.ProcessStartInfo("/bin/sh") { RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add($"exec dotnet \"$0\" {args} > /dev/full");
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "convgl.dll"));
            using var p = System.Diagnostics.Process.Start(psi)!;
            string stderr = p.StandardError.ReadToEnd();
            Assert.True(p.WaitForExit(60_000), args);
            Assert.True(p.ExitCode == 1, $"{args}: exit {p.ExitCode}, '{stderr}'");
            Assert.Equal("convgl: cannot write to standard output (No space left on device); free some space where it goes, or send it elsewhere", stderr.TrimEnd('\n'));
        }
    }

    /// <summary>A driver that cannot start printed its own lines ("libEGL warning: egl: failed to create dri2 screen", three
    /// times for a bad GALLIUM_DRIVER) before ConvGL's one line (the environment audit): only that line is left.</summary>
    [Fact]
    public void ADriverThatCannotStart_IsOneLine()
    {
        using var scratch = new Core.Tests.TempDir();
        string dir = scratch.Path;
        Core.IO.Npy.Write(Path.Combine(dir, "x.npy"), Core.Tensor.Chw(1, 4, 4));
        ApplyProcess.Result r = ApplyProcess.ConvglWith(new Dictionary<string, string> { ["GALLIUM_DRIVER"] = "convgl-none" }, dir,
            "apply", "x.npy", "y.npy", "--kernel", "box", "--device", "gpu");
        Assert.SkipWhen(r.ExitCode == 0, "a GL driver that GALLIUM_DRIVER does not steer (not Mesa)");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.StartsWith("convgl: apply: --device gpu failed: no headless OpenGL 4.3 core context: ", r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Without a display, a bad argument is still reported as itself: everything is checked before the window.</summary>
    [Fact]
    public void NoDisplay_ABadFilterIsReportedAsTheFilter()
    {
        WindowProcess.Result r = WindowProcess.Run(null, ["--filter", "no-such-kernel", "--frames", "1"]);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("convgl: unknown kernel 'no-such-kernel'", r.Stderr);
        Assert.DoesNotContain("display", r.Stderr);
    }
}
