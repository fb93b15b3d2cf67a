using System.Globalization;
using ConvGL.App.Cli;
using ConvGL.Bench;
using ConvGL.Core;

namespace ConvGL.App.Tests;

/// <summary>`convgl bench` as a tool: it runs every case, heads its table with the machine, writes --out, refuses bad
/// options, and its GPU check catches a wrong result. No assertion here is about speed: figures belong to
/// bench/README.md, quoted with the machine they ran on, never to a test.</summary>
public sealed class BenchCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-bench-test-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    private string P(string name) => Path.Combine(_dir, name);

    private static int Bench(params string[] args) => CliRoot.Execute(["bench", .. args]);

    /// <summary>A peer whose native library is missing (a GPU machine given only ConvGL's files) is a skipped row with
    /// the library's name, found behind a type initializer too; any other exception is not taken for one.</summary>
    [Fact]
    public void MissingNative_NamesTheLibraryFromTheFirstSentence()
    {
        var dll = new DllNotFoundException("Unable to load shared library 'onnxruntime' or one of its dependencies. In order to help diagnose loading problems, consider ...\n/path/a: cannot open");
        Assert.Equal("Unable to load shared library 'onnxruntime' or one of its dependencies", BenchHarness.MissingNative(dll));
        Assert.Equal("Unable to load shared library 'onnxruntime' or one of its dependencies",
            BenchHarness.MissingNative(new TypeInitializationException("OpenCvSharp.Internal.NativeMethods", dll)));
        Assert.Equal("libfoo.so", BenchHarness.MissingNative(new DllNotFoundException("libfoo.so.")));
        Assert.Null(BenchHarness.MissingNative(new TypeInitializationException("X", new InvalidOperationException("bad"))));
        Assert.Null(BenchHarness.MissingNative(new InvalidOperationException("bad")));
    }

    /// <summary>--list: one line per case, every name in one column, a space before its description (the longest,
    /// conv1-s2-64to128-56, ran into its description).</summary>
    /// <summary>--quick's settings line says the case names keep the full run's, and `--case chshuffle-116` must find the
    /// case in both runs (it ran as chshuffle-16 under --quick, which no --case of the README's names matched).</summary>
    [Fact]
    public void Quick_KeepsEveryCaseName_ButResnet18()
    {
        string[] full = BenchCases.All(quick: false).Select(c => c.Name).ToArray();
        string[] quick = BenchCases.All(quick: true).Select(c => c.Name).ToArray();
        Assert.Equal(full.Where(n => n != "resnet18-224"), quick);
        Assert.Contains("chshuffle-116", quick);
        Assert.Contains("groupnorm-128", quick);
    }

    [Fact]
    public void List_PutsEveryDescriptionInOneColumn_AfterTheLongestName()
    {
        foreach (bool quick in new[] { false, true })
        {
            var text = new StringWriter();
            BenchHarness.List(quick, text);
            string[] lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            IReadOnlyList<BenchCase> cases = BenchCases.All(quick);
            Assert.Equal(cases.Count, lines.Length);
            int column = cases.Max(c => c.Name.Length) + 2;
            for (int i = 0; i < cases.Count; i++)
            {
                Assert.StartsWith(cases[i].Name + " ", lines[i]);
                Assert.Equal(' ', lines[i][column - 1]);
                Assert.NotEqual(' ', lines[i][column]);
            }
        }
    }

    /// <summary>A GPU row and its peer are timed in turn, one call each, and stop together: every row gets the reps
    /// asked for, or, once one row has used the budget, all stop with the same count.</summary>
    [Fact]
    public void Alternate_TimesRowsInTurnAndStopsThemTogether()
    {
        var order = new List<int>();
        Func<double> Row(int id, double ms) => () => { order.Add(id); return ms; };

        List<double>[] t = BenchHarness.Alternate([Row(0, 10), Row(1, 1)], reps: 5, budgetMs: 1000);
        Assert.Equal([0, 1, 0, 1, 0, 1, 0, 1, 0, 1], order);
        Assert.Equal([10.0, 10, 10, 10, 10], t[0]);
        Assert.Equal([1.0, 1, 1, 1, 1], t[1]);

        // Row 0 uses its 1000 ms budget in 4 calls (1200 ms): row 1, far under its own, stops with it at 4.
        order.Clear();
        t = BenchHarness.Alternate([Row(0, 300), Row(1, 1)], reps: 10, budgetMs: 1000);
        Assert.Equal(4, t[0].Count);
        Assert.Equal(4, t[1].Count);
        Assert.Equal([0, 1, 0, 1, 0, 1, 0, 1], order);

        // The slow row second: the pair still completes its round, then stops.
        t = BenchHarness.Alternate([Row(0, 1), Row(1, 600)], reps: 10, budgetMs: 1000);
        Assert.Equal([2, 2], t.Select(x => x.Count));

        // One call each even when the first already exceeds the budget; no rows, no calls.
        t = BenchHarness.Alternate([Row(0, 5000)], reps: 3, budgetMs: 1000);
        Assert.Single(t[0]);
        Assert.Empty(BenchHarness.Alternate([], reps: 3, budgetMs: 1000));
    }

    /// <summary>The clock warm-up a real GPU's rows get (250 ms of back-to-back runs right before the timed reps), forced
    /// on the software rasteriser so CI runs the code the GPU machine will: the rows still verify and time, and say so;
    /// without it they do not.</summary>
    [Fact]
    public void GpuRows_ClockWarmUp_ForcedOnSoftware_RunsAndIsNamed()
    {
        foreach (bool warm in new[] { true, false })
        {
            var output = new StringWriter();
            var error = new StringWriter();
            int rc = BenchHarness.Run(new BenchSettings(Quick: true, Reps: 2, Device: BenchDevice.Gpu, Cases: "gauss5-2d,conv3-64to64",
                WarmGpuClocks: warm), output: output, error: error);
            Assert.True(rc == 0, $"bench exited {rc}: {error}");
            string[] rows = [.. output.ToString().Split('\n').Where(l => l.Contains("| gpu |", StringComparison.Ordinal))];
            Assert.Equal(2, rows.Length);
            Assert.All(rows, r => Assert.Equal(warm, r.Contains("; after 250 ms of back-to-back runs (clocks up)", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public void Bench_QuickOneRep_ProcessWritesEveryCaseOnBothDevicesUnderTheMachineLines()
    {
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "bench", "--quick", "--reps", "1", "--out", "x.md");

        Assert.True(r.ExitCode == 0, $"bench --quick exited {r.ExitCode}\nstdout:\n{r.Stdout}\nstderr:\n{r.Stderr}");
        string md = File.ReadAllText(P("x.md"));
        string[] lines = md.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("- machine: ", StringComparison.Ordinal) && l.Contains("logical cores", StringComparison.Ordinal));
        // The quick run's sizes are not the ones its case names carry: said so beside the settings.
        Assert.Contains(lines, l => l.StartsWith("- settings: up to 1 timed reps per row", StringComparison.Ordinal) && l.EndsWith("; --quick: small sizes (the HxW column), the case names keep the full run's (conv3-16to16-1080 runs at 36x64)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("| conv3-16to16-1080 |", StringComparison.Ordinal) && l.Contains("| 36x64 |", StringComparison.Ordinal));
        string gl = Assert.Single(lines, l => l.StartsWith("- gl: OpenGL ", StringComparison.Ordinal));
        // On llvmpipe with two or more CPUs its compute threads are found and pinned one per CPU (ConvGL.Gpu.DriverThreads).
        IReadOnlyList<int> allowed = ConvGL.Gpu.DriverThreads.AllowedCpus("self");
        if (gl.Contains("llvmpipe", StringComparison.Ordinal) && allowed.Count >= 2)
        {
            System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(gl, @"(\d+) llvmpipe compute threads pinned to CPUs ([\d,]+)");
            // A pool smaller than the CPU count (llvmpipe caps it) is left unpinned, and says so.
            System.Text.RegularExpressions.Match fewer = System.Text.RegularExpressions.Regex.Match(gl, @"not pinned \((\d+) llvmpipe compute threads for (\d+) CPUs\)");
            if (fewer.Success)
            {
                Assert.Equal(allowed.Count, int.Parse(fewer.Groups[2].Value));
                Assert.True(int.Parse(fewer.Groups[1].Value) < allowed.Count, gl);
            }
            else
            {
                Assert.True(m.Success, $"llvmpipe's compute threads not pinned: {gl}");
                int[] cpus = [.. m.Groups[2].Value.Split(',').Select(int.Parse)];
                Assert.Equal(int.Parse(m.Groups[1].Value), cpus.Length);
                Assert.True(cpus.Length >= allowed.Count, gl);
                Assert.All(cpus, c => Assert.Contains(c, allowed));
                Assert.Equal(allowed.Count, cpus.Distinct().Count()); // every allowed CPU gets one
            }
        }
        Assert.DoesNotContain("MISMATCH", md, StringComparison.Ordinal);
        foreach (BenchCase c in BenchCases.Select(BenchCases.All(quick: true), null))
        {
            string cpu = Assert.Single(lines, l => l.StartsWith($"| {c.Name} |", StringComparison.Ordinal) && l.Contains("| cpu |", StringComparison.Ordinal));
            Assert.Contains($"| {c.H}x{c.W} |", cpu, StringComparison.Ordinal);
            Assert.Contains("| 1 |", cpu, StringComparison.Ordinal); // one timed rep, as asked
            string[] gpu = lines.Where(l => l.StartsWith($"| {c.Name} |", StringComparison.Ordinal) && l.Contains("| gpu |", StringComparison.Ordinal)).ToArray();
            if (c.Gpu is null)
            {
                Assert.Empty(gpu);
                continue;
            }
            // Every GPU row passed the corner-crop check against the CPU reference before it was timed, and names the
            // shader variant its op's plan chose.
            string gpuRow = Assert.Single(gpu);
            // A case whose output is no window of its input (a resize, a normalisation, a shuffle) is checked whole.
            string verified = c.Verify is null ? "verified on 2 corner crops" : "whole output verified";
            Assert.Contains(verified, gpuRow, StringComparison.Ordinal);
            // Direct variants say their blocking ("8 x/invocation"), the FFT rows their passes and frame size, the others
            // their GPU class and how it works.
            Assert.Matches(c.GpuAlgo.Contains("Fft", StringComparison.Ordinal) ? @"fft_pass\.comp .*[0-9]+x[0-9]+ frames"
                : c.Verify is null ? "/invocation" : $@"{c.GpuAlgo}: [a-z]", gpuRow);
            if (c.Peer is null) continue;
            // The peer row comes right after ConvGL's rows (timed in turn with the GPU row), passed the same check, and both ConvGL rows carry the ratio.
            int peerAt = Array.FindIndex(lines, l => l.StartsWith($"| {c.Name} |", StringComparison.Ordinal) &&
                                                     (l.Contains("| opencv |", StringComparison.Ordinal) || l.Contains("| onnxrt |", StringComparison.Ordinal)));
            Assert.True(peerAt > 0, $"{c.Name}: no peer row");
            Assert.Equal(gpuRow, lines[peerAt - 1]);
            Assert.Contains(verified, lines[peerAt], StringComparison.Ordinal);
            Assert.Matches(@"\| [0-9.]+x \|", gpuRow);
            Assert.Matches(@"\| [0-9.]+x \|", cpu);
        }
        // The conv layers are compared with ONNX Runtime, the image filters with OpenCV.
        Assert.Contains(lines, l => l.StartsWith("| conv3-16to32 |", StringComparison.Ordinal) && l.Contains("| onnxrt |", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("| gauss5-sep |", StringComparison.Ordinal) && l.Contains("Cv2.SepFilter2D", StringComparison.Ordinal));
        // The same table went to stdout, and nothing but x.md was left in the folder.
        Assert.Contains("| maxpool2-32 |", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(["x.md"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    /// <summary>A kernel that is 1% off (a shader tree whose conv2d_depthwise.comp, the variant gauss5-2d's plan picks,
    /// scales its result, through CONVGL_SHADERS) is caught before it is timed: a loud MISMATCH line, exit 1, and no
    /// --out file.</summary>
    [Fact]
    public void Bench_BrokenShader_MismatchExitsOneAndWritesNothing()
    {
        // Every tap's weight 1% too big, compiled in (a software rasteriser's image filters) or from the uniform block:
        // both definitions of TAP renamed, each after a TAP that scales it.
        const string tap = "#define TAP(base, i, j) ";
        string shaders = ShadersWith("conv2d_depthwise.comp", tap, "#define TAP(base, i, j) (1.01 * TAP_EXACT(base, i, j))\n#define TAP_EXACT(base, i, j) ");

        ApplyProcess.Result r = ConvglWithShaders(shaders, "bench", "--quick", "--case", "gauss5-2d", "--reps", "1", "--out", "x.md");

        Assert.True(r.ExitCode == 1, $"exit {r.ExitCode}\nstdout:\n{r.Stdout}\nstderr:\n{r.Stderr}");
        Assert.Contains("MISMATCH gauss5-2d gpu", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("| gauss5-2d |", r.Stdout, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    /// <summary>A review: the check before timing read two corner crops (0.3% of a 1080p output), and a depthwise shader
    /// off by 50% on its middle third of rows was timed and "verified". The GPU's whole output must also agree with the
    /// peer's (itself checked on the corners): a full-size run with that fault is a MISMATCH, exit 1, no file; the
    /// shaders as they are pass and say every value was compared.</summary>
    [Fact]
    public void Bench_AShaderWrongAwayFromTheCorners_IsAMismatch()
    {
        const string act = "for (int k = 0; k < OY * OX; k++) acc[k] = fused_act(acc[k]);";
        string shaders = ShadersWith("conv2d_depthwise.comp", act,
            act + "\n    if (out_pos.y > u_out_size.y / 3 && out_pos.y < 2 * u_out_size.y / 3) for (int k = 0; k < OY * OX; k++) acc[k] *= 1.5;");

        ApplyProcess.Result r = ConvglWithShaders(shaders, "bench", "--case", "gauss5-2d", "--reps", "1", "--out", "x.md");
        Assert.True(r.ExitCode == 1, $"exit {r.ExitCode}\nstdout:\n{r.Stdout}\nstderr:\n{r.Stderr}");
        Assert.Contains("MISMATCH gauss5-2d gpu: output (c=0, y=", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("so one of them is wrong away from the corners", r.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir));

        ApplyProcess.Result ok = ConvglWithShaders(ShaderLibraryRoot(), "bench", "--case", "gauss5-2d", "--reps", "1");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains("all 2073600 values equal to opencv's", ok.Stdout, StringComparison.Ordinal);
    }

    /// <summary>An audit: on a map smaller than the corner crops both crops are the whole map, and the note counted its
    /// values twice ("65536 values" for conv3-16to32's 32x32x32 quick output). Each value now counts once.</summary>
    [Fact]
    public void Bench_CornerCropsOfASmallMap_CountEachValueOnce()
    {
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "bench", "--quick", "--case", "conv3-16to32", "--reps", "1", "--device", "gpu");
        Assert.True(r.ExitCode == 0, r.ToString());
        string gpu = r.Stdout.Split('\n').Single(l => l.Contains(" | gpu | 1 | ", StringComparison.Ordinal));
        Assert.Contains("verified on 2 corner crops (32768 values, ", gpu, StringComparison.Ordinal);
        Assert.Contains("all 32768 values equal to onnxrt's", gpu, StringComparison.Ordinal);
    }

    /// <summary><c>--ab-shaders DIR</c>: every GPU row also built from a second copy of shaders/ (row gpu-b) and timed in
    /// turn with the tree's, with the ratio pair by pair; the copy's output is checked like the tree's (a copy wrong away
    /// from the corners is its row's MISMATCH, exit 1), and a folder without shaders is refused before timing.</summary>
    [Fact]
    public void Bench_AbShaders_TimesTheCopyInTurnAndChecksItsOutput()
    {
        string same = P("same");
        CopyTree(ShaderLibraryRoot(), same);
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "bench", "--quick", "--case", "gauss5-2d", "--reps", "3", "--device", "gpu", "--ab-shaders", same);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("| gauss5-2d | ", r.Stdout, StringComparison.Ordinal);
        Assert.Contains(" | gpu | 3 | ", r.Stdout, StringComparison.Ordinal);
        Assert.Contains(" | gpu-b | 3 | ", r.Stdout, StringComparison.Ordinal);
        Assert.Contains($"built from {Path.GetFullPath(same)}; ", r.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"rep by rep against the gpu row: median \d\.\d{3}x \(min \d\.\d{3}x, max \d+\.\d{3}x, 3 pairs\)", r.Stdout);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(r.Stdout, "all 57600 values equal to opencv's").Count);

        const string act = "for (int k = 0; k < OY * OX; k++) acc[k] = fused_act(acc[k]);";
        string wrong = ShadersWith("conv2d_depthwise.comp", act,
            act + "\n    if (out_pos.y > u_out_size.y / 3 && out_pos.y < 2 * u_out_size.y / 3) for (int k = 0; k < OY * OX; k++) acc[k] *= 1.5;");
        ApplyProcess.Result bad = ApplyProcess.Convgl(_dir, "bench", "--quick", "--case", "gauss5-2d", "--reps", "1", "--device", "gpu", "--ab-shaders", wrong);
        Assert.True(bad.ExitCode == 1, bad.ToString());
        Assert.Contains("MISMATCH gauss5-2d gpu-b: output (c=0, y=", bad.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("MISMATCH gauss5-2d gpu:", bad.Stderr, StringComparison.Ordinal);
        Assert.Contains(" | gpu | 1 | ", bad.Stdout, StringComparison.Ordinal);

        // A copy whose shader does not compile: the gpu-b row fails (a review: its failure was put on the gpu row, which the
        // timing then overwrote, and the run exited 0 without a gpu-b row).
        string broken = P("broken");
        CopyTree(ShaderLibraryRoot(), broken);
        File.AppendAllText(Path.Combine(broken, "conv2d_depthwise.comp"), "\nthis is not GLSL: deliberately broken by BenchCommandTests\n");
        ApplyProcess.Result fails = ApplyProcess.Convgl(_dir, "bench", "--quick", "--case", "gauss5-2d", "--reps", "1", "--device", "gpu", "--ab-shaders", broken);
        Assert.True(fails.ExitCode == 1, fails.ToString());
        Assert.Contains("FAILED gauss5-2d gpu-b: conv2d_depthwise.comp", fails.Stderr, StringComparison.Ordinal);
        // One line: the compiler's log joined to it (the hostile-input audit: the log went over several lines).
        Assert.Matches(@"FAILED gauss5-2d gpu-b: conv2d_depthwise\.comp:\d+: shader compile failed [^\n]* \| conv2d_depthwise\.comp:\d+: error: ", fails.Stderr);
        Assert.DoesNotContain("FAILED gauss5-2d gpu:", fails.Stderr, StringComparison.Ordinal);
        Assert.Contains(" | gpu-b | - | - | - | - | - | - | - | FAILED: ", fails.Stdout, StringComparison.Ordinal);
        Assert.Contains(" | gpu | 1 | ", fails.Stdout, StringComparison.Ordinal);

        Directory.CreateDirectory(P("empty"));
        ApplyProcess.Result none = ApplyProcess.Convgl(_dir, "bench", "--quick", "--case", "gauss5-2d", "--ab-shaders", "empty");
        Assert.True(none.ExitCode == 2, none.ToString());
        Assert.StartsWith("convgl: bench: --ab-shaders 'empty' holds no .comp files", none.Stderr);
        Assert.DoesNotContain("| gauss5-2d |", none.Stdout, StringComparison.Ordinal);
    }

    /// <summary><c>--ab-env NAME=VALUE</c>: the gpu-b row's plan is made with the variable set (CONVGL_SPLIT_K=2 splits the
    /// Winograd products' input channels, which its variant names) and the gpu row's without it; a malformed value is
    /// refused before timing.</summary>
    [Fact]
    public void Bench_AbEnv_MakesTheSecondRowWithTheVariableSet()
    {
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "bench", "--quick", "--case", "conv3-64to64-56", "--reps", "2", "--device", "gpu",
            "--ab-env", "CONVGL_SPLIT_K=2");
        Assert.True(r.ExitCode == 0, r.ToString());
        string a = r.Stdout.Split('\n').Single(l => l.Contains(" | gpu | 2 | ", StringComparison.Ordinal));
        string b = r.Stdout.Split('\n').Single(l => l.Contains(" | gpu-b | 2 | ", StringComparison.Ordinal));
        Assert.DoesNotContain("split", a, StringComparison.Ordinal);
        Assert.Contains("with CONVGL_SPLIT_K=2; GpuConv2D: winograd F(4x4,3x3)", b, StringComparison.Ordinal);
        Assert.Contains("input channels split 2 ways", b, StringComparison.Ordinal);
        Assert.Contains("rep by rep against the gpu row: median ", b, StringComparison.Ordinal);

        ApplyProcess.Result bad = ApplyProcess.Convgl(_dir, "bench", "--quick", "--case", "conv3", "--ab-env", "CONVGL_SPLIT_K");
        Assert.True(bad.ExitCode == 2, bad.ToString());
        Assert.StartsWith("convgl: bench: --ab-env 'CONVGL_SPLIT_K' must be NAME=VALUE", bad.Stderr);
        // An empty value would unset the variable; a switch read once per process would leave both rows alike (a review).
        bad = ApplyProcess.Convgl(_dir, "bench", "--quick", "--case", "conv3", "--ab-env", "CONVGL_SPLIT_K=");
        Assert.True(bad.ExitCode == 2, bad.ToString());
        Assert.StartsWith("convgl: bench: --ab-env 'CONVGL_SPLIT_K=' gives no value", bad.Stderr);
        bad = ApplyProcess.Convgl(_dir, "bench", "--quick", "--case", "conv3", "--ab-env", "CONVGL_TUNE=1");
        Assert.True(bad.ExitCode == 2, bad.ToString());
        Assert.StartsWith("convgl: bench: --ab-env CONVGL_TUNE is read once per process, so both rows would run alike", bad.Stderr);
        // A value the switch does not take, or a misspelt switch, timed the default plan as gpu-b (the audit of 2026-12-07).
        bad = ApplyProcess.Convgl(_dir, "bench", "--quick", "--case", "conv3", "--ab-env", "CONVGL_SPLIT_K=two");
        Assert.True(bad.ExitCode == 2, bad.ToString());
        Assert.StartsWith("convgl: bench: --ab-env: environment variable CONVGL_SPLIT_K='two' is not a value it takes", bad.Stderr);
        bad = ApplyProcess.Convgl(_dir, "bench", "--quick", "--case", "conv3", "--ab-env", "CONVGL_LITERAL_PLAN=0");
        Assert.True(bad.ExitCode == 2, bad.ToString());
        Assert.StartsWith("convgl: bench: --ab-env: environment variable CONVGL_LITERAL_PLAN is not one ConvGL reads", bad.Stderr);

        // A switch read when a plan is made: the literal plans off in the gpu-b row only.
        ApplyProcess.Result literal = ApplyProcess.Convgl(_dir, "bench", "--quick", "--case", "gabor15-1to8", "--reps", "1", "--device", "gpu",
            "--ab-env", "CONVGL_LITERAL_PLANS=0");
        Assert.True(literal.ExitCode == 0, literal.ToString());
        Assert.Contains("conv2d_literal", literal.Stdout.Split('\n').Single(l => l.Contains(" | gpu | 1 | ", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.DoesNotContain("conv2d_literal", literal.Stdout.Split('\n').Single(l => l.Contains(" | gpu-b | 1 | ", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    /// <summary>A review: an --out that is a folder was refused only after the whole run; it is refused first.</summary>
    [Fact]
    public void Bench_AnOutThatIsAFolder_IsRefusedBeforeTiming()
    {
        Directory.CreateDirectory(P("run.md"));
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "bench", "--quick", "--case", "gauss5-2d", "--reps", "1", "--out", "run.md");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("convgl: bench: --out: cannot write 'run.md': it is a folder; give a file name (nothing was timed)", r.Stderr);
        Assert.DoesNotContain("| gauss5-2d |", r.Stdout, StringComparison.Ordinal);
    }

    /// <summary>A copy of the shader tree (for CONVGL_SHADERS) whose <paramref name="file"/> has <paramref name="find"/>
    /// (which must be there) replaced by <paramref name="replace"/>.</summary>
    private string ShadersWith(string file, string find, string replace)
    {
        string shaders = P("shaders");
        CopyTree(ShaderLibraryRoot(), shaders);
        string comp = Path.Combine(shaders, file);
        string text = File.ReadAllText(comp);
        Assert.Contains(find, text, StringComparison.Ordinal);
        File.WriteAllText(comp, text.Replace(find, replace, StringComparison.Ordinal));
        return shaders;
    }

    /// <summary>A shader that does not compile fails its row (the message on stderr), and the run exits 1 with no file.
    /// gauss5-sep is planned as one separable_fast.comp pass, the file broken here.</summary>
    [Fact]
    public void Bench_ShaderThatDoesNotCompile_FailsItsRowExitsOneAndWritesNothing()
    {
        string shaders = P("shaders");
        CopyTree(ShaderLibraryRoot(), shaders);
        File.AppendAllText(Path.Combine(shaders, "separable_fast.comp"), "\nthis is not GLSL: deliberately broken by BenchCommandTests\n");

        ApplyProcess.Result r = ConvglWithShaders(shaders, "bench", "--quick", "--case", "gauss5-sep", "--reps", "1", "--out", "x.md");

        Assert.True(r.ExitCode == 1, $"exit {r.ExitCode}\nstdout:\n{r.Stdout}\nstderr:\n{r.Stderr}");
        Assert.Contains("FAILED gauss5-sep gpu: separable_fast.comp", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("| gpu | - | - | - | - | - | - | - | FAILED: ", r.Stdout, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Bench_CsvOnCpu_OneRowPerSelectedCaseWithTheMachineInEveryRow()
    {
        Assert.Equal(0, Bench("--quick", "--device", "cpu", "--case", "maxpool,gauss5-sep", "--reps", "2", "--out", P("r.csv")));

        string[] lines = File.ReadAllLines(P("r.csv"));
        Assert.Equal(5, lines.Length);
        string[] header = SplitCsv(lines[0]);
        Assert.Equal(["case", "op", "c_in", "c_out", "h", "w", "kernel", "stride_dilation", "border", "device", "reps",
                      "median_ms", "min_ms", "vs_peer", "gmac_per_s", "mpix_per_s", "timing", "note", "cpu", "cores", "gl_renderer"], header);
        var rows = lines[1..].Select(SplitCsv).ToArray();
        // Each case: the reference row, then its peer (OpenCV's sepFilter2D, ONNX Runtime's MaxPool).
        Assert.Equal(["gauss5-sep", "gauss5-sep", "maxpool2-32", "maxpool2-32"], rows.Select(f => f[0]));
        Assert.Equal(["cpu", "opencv", "cpu", "onnxrt"], rows.Select(f => f[9]));
        foreach (string[] f in rows)
        {
            string row = string.Join(" ; ", f);
            Assert.True(f.Length == header.Length, row);
            int reps = int.Parse(f[10], CultureInfo.InvariantCulture);
            Assert.True(reps is 1 or 2, row);
            double median = double.Parse(f[11], CultureInfo.InvariantCulture), min = double.Parse(f[12], CultureInfo.InvariantCulture);
            Assert.True(min > 0 && min <= median, row);
            Assert.Equal(Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), f[19]);
            Assert.NotEqual("", f[18]);
        }
        // The reference rows carry their median over the peer's (the same run's figures), the peer rows none.
        foreach (int i in new[] { 0, 2 })
        {
            double ratio = double.Parse(rows[i][11], CultureInfo.InvariantCulture) / double.Parse(rows[i + 1][11], CultureInfo.InvariantCulture);
            double shown = double.Parse(rows[i][13], CultureInfo.InvariantCulture);
            Assert.True(Math.Abs(shown - ratio) <= 1e-4 * ratio, $"vs_peer {shown}, medians give {ratio}");
        }
        Assert.Equal("", rows[1][13]);
        Assert.Equal("", rows[2][14]); // a pool has no multiply-adds: no GMAC/s
        Assert.NotEqual("", rows[0][14]);
    }

    [Theory]
    [InlineData("--out", "x.txt", ".md")]
    [InlineData("--case", "nosuch", "gauss5-2d")]
    [InlineData("--reps", "0", "at least 1")]
    [InlineData("--device", "tpu", "cpu|gpu|both")]
    [InlineData("--budget", "0", "above 0")]
    public void Bench_BadOption_IsOneClearErrorBeforeAnythingRuns(string option, string value, string mentioned)
    {
        var e = Assert.Throws<ConvGLException>(() => Bench("--quick", option, value));
        Assert.Contains(mentioned, e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    /// <summary>A selection with no GPU row on --device gpu (the CPU-only FFT case) printed an empty table and exited 0;
    /// a selection where one case has a GPU row still runs.</summary>
    [Fact]
    public void Bench_DeviceGpu_OnCpuOnlyCases_IsAnErrorNamingThem()
    {
        var e = Assert.Throws<ConvGLException>(() => Bench("--case", "gabor15-1to8-fft", "--device", "gpu"));
        Assert.Equal("bench: --device gpu: gabor15-1to8-fft has no GPU row (CPU only); run with --device cpu or both, or pick a case with a GPU row (convgl bench --list)", e.Message);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    /// <summary>The machine line every table starts with, without a GPU: the CPU model (BenchmarkDotNet's detector), the
    /// cores this process may use (the peers' thread count), the OS and the runtime; the CSV's cpu/cores/gl fields.</summary>
    [Fact]
    public void Machine_WithoutGpu_NamesTheCpuTheCoresTheOsAndTheRuntime()
    {
        BenchMachine m = BenchMachine.Describe(null, null);

        Assert.Equal(3, m.Lines.Count);
        Assert.StartsWith($"machine: {m.Cpu}, ", m.Lines[0], StringComparison.Ordinal);
        Assert.Contains($" {Environment.ProcessorCount} logical cores", m.Lines[0], StringComparison.Ordinal);
        Assert.Contains(System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription, m.Lines[0], StringComparison.Ordinal);
        Assert.Matches(@"[0-9.]+ GiB RAM; ", m.Lines[0]);
        if (OperatingSystem.IsLinux()) Assert.DoesNotContain("model unknown", m.Cpu, StringComparison.Ordinal); // /proc/cpuinfo is there
        Assert.Equal("gl: not used (--device cpu)", m.Lines[1]);
        Assert.StartsWith("date: ", m.Lines[2], StringComparison.Ordinal);
        Assert.Equal(Environment.ProcessorCount, m.Cores);
        Assert.Equal("-", m.Gl);
    }

    /// <summary>The check that guards against timing a broken kernel, without a GPU: the CPU reference's own full
    /// output passes, and the same output with one wrong value in either corner fails naming that value. Cases
    /// chosen for their awkward geometry: a 15x15 reflect kernel, a 2x2 stride-2 pool, an image smaller than the crop.</summary>
    /// <summary>The review's two ratio faults, by hand-made rows: a GL_TIME_ELAPSED row is compared with a CPU peer by its
    /// wall+glFinish median (the peer's clock), and a row whose median is over twice its minimum says NOISY in its note
    /// (10 reps with one busy minute can flip a ratio). A steady row and a one-rep row are not marked.</summary>
    [Fact]
    public void Rows_TheRatioUsesThePeersClock_AndASpreadRowIsMarkedNoisy()
    {
        BenchCase c = Assert.Single(BenchCases.All(quick: true), x => x.Name == "gauss5-2d");
        BenchRow gpu = BenchRow.Timed(c, "gpu", [1.0, 1.1, 1.2], 3, "GL_TIME_ELAPSED", "n") with { WallMedianMs = 3.0 };
        Assert.Equal(3.0, gpu.PeerComparableMs);
        BenchRow software = BenchRow.Timed(c, "gpu", [2.0, 2.5, 3.0], 3, "wall+glFinish", "n");
        Assert.Equal(2.5, software.PeerComparableMs);

        Assert.Equal("n", software.MarkedIfNoisy().Note);
        BenchRow spread = BenchRow.Timed(c, "opencv", [1.0, 2.5, 12.0], 3, "cpu wall", "n").MarkedIfNoisy();
        Assert.StartsWith("n; NOISY: median 2.5x the minimum", spread.Note);
        Assert.Equal("n", BenchRow.Timed(c, "cpu", [9.0], 1, "cpu wall", "n").MarkedIfNoisy().Note);
        // Exactly twice is not yet noisy.
        Assert.Equal("n", BenchRow.Timed(c, "cpu", [1.0, 2.0, 2.0], 3, "cpu wall", "n").MarkedIfNoisy().Note);
    }

    /// <summary>A name selects every case it starts; the explicit-only 1080p 32->32 layer (llvmpipe cannot hold its input)
    /// is in no default run and no prefix, only when named in full.</summary>
    [Fact]
    public void Select_ExplicitOnlyCase_OnlyByItsWholeName()
    {
        IReadOnlyList<BenchCase> all = BenchCases.All(quick: true);
        BenchCase big = Assert.Single(all, c => c.Name == "conv3-32to32-1080");
        Assert.True(big.ExplicitOnly);
        Assert.Equal(32L * 36 * 64 * 32 * 9, big.Macs);
        Assert.DoesNotContain(BenchCases.Select(all, null), c => c.ExplicitOnly);
        Assert.Equal(all.Count - 1, BenchCases.Select(all, null).Count);
        Assert.Equal(["conv3-16to32", "conv3-16to16-1080", "conv3-32to32-512", "conv3-64to64-56", "conv3-256to256-14", "conv3-512to512-7"],
            BenchCases.Select(all, "conv3").Select(c => c.Name));
        Assert.Equal(["conv3-32to32-512"], BenchCases.Select(all, "conv3-32to32").Select(c => c.Name));
        Assert.Equal(["conv3-32to32-1080"], BenchCases.Select(all, "conv3-32to32-1080").Select(c => c.Name));
        Assert.Equal(["conv3-32to32-1080", "gauss9-2d", "gauss9-sep"],
            BenchCases.Select(all, "gauss9,conv3-32to32-1080").Select(c => c.Name).Order());
        Assert.Throws<ConvGLException>(() => BenchCases.Select(all, "conv3-32to32-10"));
    }

    [Theory]
    [InlineData("gabor15-1to8")]
    [InlineData("maxpool2-32")]
    [InlineData("conv3-16to32")]
    [InlineData("sobel3-rgb")]
    [InlineData("conv1-s2-64to128-56")]
    [InlineData("conv7-s2-3to64-224")]
    public void Verify_ReferenceOutputPasses_OneWrongCornerValueFails(string name)
    {
        BenchCase c = Assert.Single(BenchCases.All(quick: true), x => x.Name == name);
        Tensor input = c.MakeInput();
        Tensor good = c.Reference(input);

        Verification ok = BenchVerify.Check(c, input, good);
        Assert.True(ok.Ok, $"{name}: {ok.Message}");
        Assert.Contains("verified on 2 corner crops", ok.Message, StringComparison.Ordinal);

        foreach ((int ch, int y, int x) in new[] { (0, 0, 0), (good.C - 1, good.H - 1, good.W - 1) })
        {
            Tensor bad = good.Clone();
            bad[ch, y, x] += 0.01f;
            Verification v = BenchVerify.Check(c, input, bad);
            Assert.False(v.Ok, $"{name}: a wrong value at ({ch}, {y}, {x}) was not caught: {v.Message}");
            Assert.Contains($"(c={ch}, y={y}, x={x})", v.Message, StringComparison.Ordinal);
        }

        Verification shape = BenchVerify.Check(c, input, Tensor.Chw(good.C, good.H - 1, good.W));
        Assert.False(shape.Ok, $"{name}: a wrong output shape was not caught");
    }

    /// <summary>The ONNX model the bench writes by hand is the conv it claims to be: ONNX Runtime running it equals the
    /// reference for strides, dilations, explicit and same padding, groups and bias (so the peer's figures time the
    /// same work as ConvGL's rows).</summary>
    [Theory]
    [InlineData(4, 6, 1, 3, 3, 1, 1, PaddingMode.Same, true)]
    [InlineData(4, 4, 4, 3, 3, 2, 1, PaddingMode.Same, false)]
    [InlineData(6, 4, 2, 4, 2, 1, 2, PaddingMode.Explicit, true)]
    [InlineData(1, 8, 1, 5, 5, 2, 2, PaddingMode.Valid, false)]
    public void OnnxPeer_OneNodeConvModel_EqualsTheReference(int cin, int cout, int groups, int kh, int kw, int stride, int dilation, PaddingMode padding, bool bias)
    {
        var rng = new Random(cin * 100 + cout);
        Tensor input = Tensor.Chw(cin, 13, 17);
        for (int i = 0; i < input.Length; i++) input.Data[i] = rng.NextSingle() * 2 - 1;
        var weight = new Tensor([cout, cin / groups, kh, kw]);
        for (int i = 0; i < weight.Length; i++) weight.Data[i] = (rng.NextSingle() * 2 - 1) * 0.3f;
        float[]? b = bias ? Enumerable.Range(0, cout).Select(i => i * 0.25f - 0.5f).ToArray() : null;
        var o = new ConvOptions
        {
            Padding = padding, PadY = 2, PadX = 1, StrideY = stride, StrideX = 1, DilationY = 1, DilationX = dilation, Groups = groups,
        };
        using OnnxRuntimeNode peer = OnnxRuntimeNode.Conv(input, weight, b, o);
        peer.Run();
        Tensor expected = ConvGL.Core.Ops.Conv2D.Apply(input, weight, b, o), actual = peer.Output();
        Assert.Equal(expected.Shape, actual.Shape);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected.Data[i] - actual.Data[i]) <= 1e-5 + 1e-4 * Math.Abs(expected.Data[i]), $"value {i}: {expected.Data[i]} vs {actual.Data[i]}");
    }

    /// <summary>The source tree's shaders/ (the tests run from tests/ConvGL.App.Tests/bin/...).</summary>
    private static string ShaderLibraryRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "ConvGL.sln")) && Directory.Exists(Path.Combine(d.FullName, "shaders")))
                return Path.Combine(d.FullName, "shaders");
        throw new DirectoryNotFoundException($"no shaders/ above {AppContext.BaseDirectory}");
    }

    private static void CopyTree(string from, string to)
    {
        foreach (string dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }

    /// <summary>`convgl ARGS` as <see cref="ApplyProcess.Convgl"/> runs it, with CONVGL_SHADERS set for the child only.</summary>
    private ApplyProcess.Result ConvglWithShaders(string shaders, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "convgl.dll");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var psi = new System.Diagnostics.ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _dir,
        };
        psi.Environment["CONVGL_SHADERS"] = shaders;
        psi.ArgumentList.Add(dll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException($"could not start {host}");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(300_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"convgl {string.Join(' ', args)} did not finish in 300 s");
        }
        return new ApplyProcess.Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>RFC 4180 fields: quoted when they hold a comma or a quote, quotes doubled.</summary>
    private static string[] SplitCsv(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else field.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(ch);
        }
        fields.Add(field.ToString());
        return fields.ToArray();
    }
}
