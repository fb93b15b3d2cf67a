using System.Globalization;
using ConvGL.App.Cli;
using ConvGL.App.Commands;
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

    [Fact]
    public void Bench_QuickOneRep_ProcessWritesEveryCaseOnBothDevicesUnderTheMachineLines()
    {
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "bench", "--quick", "--reps", "1", "--out", "x.md");

        Assert.True(r.ExitCode == 0, $"bench --quick exited {r.ExitCode}\nstdout:\n{r.Stdout}\nstderr:\n{r.Stderr}");
        string md = File.ReadAllText(P("x.md"));
        string[] lines = md.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("- machine: ", StringComparison.Ordinal) && l.Contains("logical cores", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("- gl: OpenGL ", StringComparison.Ordinal));
        Assert.DoesNotContain("MISMATCH", md, StringComparison.Ordinal);
        foreach (BenchCase c in BenchCases.All(quick: true))
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
            // Every GPU row passed the corner-crop check against the CPU reference before it was timed.
            Assert.Contains("verified on 2 corner crops", Assert.Single(gpu), StringComparison.Ordinal);
        }
        // The same table went to stdout, and nothing but x.md was left in the folder.
        Assert.Contains("| maxpool2-32 |", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(["x.md"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    /// <summary>A kernel that is 1% off (a shader tree whose conv2d.comp scales its result, through CONVGL_SHADERS) is
    /// caught before it is timed: a loud MISMATCH line, exit 1, and no --out file.</summary>
    [Fact]
    public void Bench_BrokenShader_MismatchExitsOneAndWritesNothing()
    {
        string shaders = P("shaders");
        CopyTree(ShaderLibraryRoot(), shaders);
        string comp = Path.Combine(shaders, "conv2d.comp");
        string text = File.ReadAllText(comp);
        const string store = "+ pos.x] = sum;";
        Assert.Contains(store, text, StringComparison.Ordinal);
        File.WriteAllText(comp, text.Replace(store, "+ pos.x] = sum * 1.01;", StringComparison.Ordinal));

        ApplyProcess.Result r = ConvglWithShaders(shaders, "bench", "--quick", "--case", "gauss5-2d", "--reps", "1", "--out", "x.md");

        Assert.True(r.ExitCode == 1, $"exit {r.ExitCode}\nstdout:\n{r.Stdout}\nstderr:\n{r.Stderr}");
        Assert.Contains("MISMATCH gauss5-2d gpu", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("| gauss5-2d |", r.Stdout, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    /// <summary>A shader that does not compile fails its row (the message on stderr), and the run exits 1 with no file.</summary>
    [Fact]
    public void Bench_ShaderThatDoesNotCompile_FailsItsRowExitsOneAndWritesNothing()
    {
        string shaders = P("shaders");
        CopyTree(ShaderLibraryRoot(), shaders);
        File.AppendAllText(Path.Combine(shaders, "separable.comp"), "\nthis is not GLSL: deliberately broken by BenchCommandTests\n");

        ApplyProcess.Result r = ConvglWithShaders(shaders, "bench", "--quick", "--case", "gauss5-sep", "--reps", "1", "--out", "x.md");

        Assert.True(r.ExitCode == 1, $"exit {r.ExitCode}\nstdout:\n{r.Stdout}\nstderr:\n{r.Stderr}");
        Assert.Contains("FAILED gauss5-sep gpu: separable.comp", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("| gpu | - | - | - | - | - | - | FAILED: ", r.Stdout, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Bench_CsvOnCpu_OneRowPerSelectedCaseWithTheMachineInEveryRow()
    {
        Assert.Equal(0, Bench("--quick", "--device", "cpu", "--case", "maxpool,gauss5-sep", "--reps", "2", "--out", P("r.csv")));

        string[] lines = File.ReadAllLines(P("r.csv"));
        Assert.Equal(3, lines.Length);
        string[] header = SplitCsv(lines[0]);
        Assert.Equal(["case", "op", "c_in", "c_out", "h", "w", "kernel", "stride_dilation", "border", "device", "reps",
                      "median_ms", "min_ms", "gmac_per_s", "mpix_per_s", "timing", "note", "cpu", "cores", "gl_renderer"], header);
        var rows = lines[1..].Select(SplitCsv).ToArray();
        Assert.Equal(["gauss5-sep", "maxpool2-32"], rows.Select(f => f[0]));
        foreach (string[] f in rows)
        {
            string row = string.Join(" ; ", f);
            Assert.True(f.Length == header.Length, row);
            Assert.Equal("cpu", f[9]);
            int reps = int.Parse(f[10], CultureInfo.InvariantCulture);
            Assert.True(reps is 1 or 2, row);
            double median = double.Parse(f[11], CultureInfo.InvariantCulture), min = double.Parse(f[12], CultureInfo.InvariantCulture);
            Assert.True(min > 0 && min <= median, row);
            Assert.Equal(Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), f[18]);
            Assert.NotEqual("", f[17]);
        }
        Assert.Equal("", rows[1][13]); // a pool has no multiply-adds: no GMAC/s
        Assert.NotEqual("", rows[0][13]);
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

    /// <summary>The check that guards against timing a broken kernel, without a GPU: the CPU reference's own full
    /// output passes, and the same output with one wrong value in either corner fails naming that value. Cases
    /// chosen for their awkward geometry: a 15x15 reflect kernel, a 2x2 stride-2 pool, an image smaller than the crop.</summary>
    [Theory]
    [InlineData("gabor15-1to8")]
    [InlineData("maxpool2-32")]
    [InlineData("conv3-16to32")]
    [InlineData("sobel3-rgb")]
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
