using System.Diagnostics;
using System.Runtime.InteropServices;
using SkiaSharp;

[assembly: AssemblyFixture(typeof(ConvGL.App.Tests.DisplayFixture))]

namespace ConvGL.App.Tests;

/// <summary>An X display for the window tests: $DISPLAY when set, else an Xvfb this fixture starts on a free
/// display number (and stops at the end), so a plain `dotnet test` works on a headless CI machine.</summary>
public sealed partial class DisplayFixture : IDisposable
{
    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int SendSignal(int pid, int signal);
    private const int SigTerm = 15;

    private readonly Process? _xvfb;

    /// <summary>":N", or null when there is no display and no Xvfb (then <see cref="Why"/> says so).</summary>
    public string? Display { get; }
    public string? Why { get; }
    /// <summary>Xvfb is installed but would not start: the window tests fail (a machine that should run them
    /// cannot), rather than skip as they do where no display server is installed at all.</summary>
    public bool StartFailed { get; }

    public DisplayFixture()
    {
        string? env = Environment.GetEnvironmentVariable("DISPLAY");
        if (!string.IsNullOrEmpty(env))
        {
            Display = env;
            return;
        }
        string? xvfb = XvfbPath;
        if (xvfb is null)
        {
            Why = "DISPLAY is unset and Xvfb is not installed (apt-get install xvfb, or run scripts/install-deps.sh)";
            return;
        }
        if (Start(xvfb, out _xvfb, out string? display, out string? failed))
        {
            Display = display;
            return;
        }
        Why = $"could not start Xvfb: {failed}";
        StartFailed = true;
    }

    /// <summary>Where Xvfb is installed, or null.</summary>
    public static string? XvfbPath => new[] { "/usr/bin/Xvfb", "/usr/local/bin/Xvfb" }.FirstOrDefault(File.Exists);

    /// <summary>Starts an Xvfb of its own (the HiDPI test sets a desktop property on it that other tests must not see):
    /// true with the process and ":N", or false with why.</summary>
    public static bool Start(string xvfb, out Process? process, out string? display, out string? why)
    {
        // -displayfd: Xvfb picks a free display number itself (its lock file is taken atomically, so test runs
        // started side by side cannot both claim one) and writes that number to the fd only once it accepts
        // connections, so no guessing from socket files and no race with a display that is still starting.
        // The budget is generous: a fresh 2-core CI machine may be building and testing three projects at once.
        var failures = new System.Text.StringBuilder();
        for (int attempt = 1; attempt <= 3; attempt++)
        {
            var psi = new ProcessStartInfo(xvfb) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (string a in new[] { "-displayfd", "1", "-screen", "0", "1280x1024x24", "-nolisten", "tcp" }) psi.ArgumentList.Add(a);
            Process p = Process.Start(psi)!;
            var stderr = new System.Text.StringBuilder();
            p.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (stderr) stderr.AppendLine(e.Data);
            };
            p.BeginErrorReadLine();
            Task<string?> line = p.StandardOutput.ReadLineAsync();
            bool answered = line.Wait(TimeSpan.FromSeconds(60));
            if (answered && int.TryParse(line.Result?.Trim(), out int n) && n >= 0 && !p.HasExited)
            {
                (process, display, why) = (p, $":{n}", null);
                return true;
            }
            if (!p.HasExited) p.Kill();
            p.WaitForExit(5000);
            lock (stderr) failures.Append($"attempt {attempt}: {(answered ? "exited" : "no display number within 60 s")}: {stderr.ToString().Trim()}; ");
            p.Dispose();
        }
        (process, display, why) = (null, null, failures.ToString());
        return false;
    }

    /// <summary>Stops an Xvfb <see cref="Start"/> started.</summary>
    public static void Stop(Process xvfb)
    {
        // SIGTERM, not Process.Kill's SIGKILL: Xvfb then removes its /tmp/.X11-unix socket and lock file.
        if (!xvfb.HasExited) SendSignal(xvfb.Id, SigTerm);
        if (!xvfb.WaitForExit(5000)) xvfb.Kill();
        xvfb.Dispose();
    }

    public void Dispose()
    {
        // The window tests' scratch folder (screenshots, generated sources, shader copies), one per test process.
        string scratch = Path.Combine(Path.GetTempPath(), $"convgl-app-tests-{Environment.ProcessId}");
        try
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover scratch folder in /tmp must not fail the run.
        }
        if (_xvfb is not null) Stop(_xvfb);
    }
}

/// <summary>Runs the built `convgl` (convgl.dll next to this test assembly) as a user would, on the fixture's display.</summary>
internal static class WindowProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public static ProcessStartInfo StartInfo(string? display, IEnumerable<string> args, IDictionary<string, string?>? env = null)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "convgl.dll");
        Assert.True(File.Exists(dll), $"convgl.dll not found next to the tests at {dll}");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var psi = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        psi.ArgumentList.Add(dll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("WAYLAND_DISPLAY");
        if (display is null) psi.Environment.Remove("DISPLAY");
        else psi.Environment["DISPLAY"] = display;
        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
        {
            if (v is null) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        }
        return psi;
    }

    /// <summary>The default limit only catches a hung window: a scripted run takes seconds, but on a loaded 2-core
    /// CI machine (three test projects at once, llvmpipe) it can take many times that.</summary>
    public static Result Run(string? display, IEnumerable<string> args, IDictionary<string, string?>? env = null, int timeoutMs = 300_000,
        string? workingDirectory = null)
    {
        string[] list = args.ToArray();
        ProcessStartInfo psi = StartInfo(display, list, env);
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"convgl {string.Join(' ', list)} did not finish in {timeoutMs} ms");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    public static string Require(DisplayFixture fixture)
    {
        if (fixture.Display is null && fixture.StartFailed) Assert.Fail(fixture.Why);
        if (fixture.Display is null) Assert.Skip(fixture.Why ?? "no display");
        return fixture.Display!;
    }
}

/// <summary>A rectangle of the window in pixels, as a scripted run prints it on its "layout" line
/// ("layout picture=X,Y,W,H side=... bottom=... view=...").</summary>
internal readonly record struct Area(int X, int Y, int W, int H)
{
    public static Area Of(WindowProcess.Result r, string key = "picture")
    {
        string line = r.Stdout.Split('\n').SingleOrDefault(l => l.StartsWith("layout ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"no layout line in the run's output: {r}");
        string value = line.Split(' ').Single(f => f.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..];
        int[] v = value.Split(',').Select(n => int.Parse(n, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return new Area(v[0], v[1], v[2], v[3]);
    }

    public Area Intersect(Area o)
    {
        int x0 = Math.Max(X, o.X), y0 = Math.Max(Y, o.Y), x1 = Math.Min(X + W, o.X + o.W), y1 = Math.Min(Y + H, o.Y + o.H);
        return new Area(x0, y0, Math.Max(0, x1 - x0), Math.Max(0, y1 - y0));
    }
}

/// <summary>A decoded screenshot: RGBA bytes, top row first.</summary>
internal sealed class Picture
{
    public int Width { get; }
    public int Height { get; }
    public byte[] Rgba { get; }

    public Picture(string path)
    {
        Assert.True(File.Exists(path), $"screenshot {path} was not written");
        using SKBitmap raw = SKBitmap.Decode(path) ?? throw new InvalidOperationException($"{path} is not a decodable image");
        using SKBitmap bmp = raw.Copy(SKColorType.Rgba8888);
        (Width, Height) = (bmp.Width, bmp.Height);
        Rgba = bmp.Bytes;
    }

    /// <summary>Standard deviation of the grey level over rows [y0, y1).</summary>
    public double Contrast(int y0 = 0, int y1 = -1)
    {
        if (y1 < 0) y1 = Height;
        double s = 0, s2 = 0;
        int n = 0;
        for (int y = y0; y < y1; y++)
            for (int x = 0; x < Width; x++)
            {
                int i = (y * Width + x) * 4;
                double g = 0.299 * Rgba[i] + 0.587 * Rgba[i + 1] + 0.114 * Rgba[i + 2];
                s += g;
                s2 += g * g;
                n++;
            }
        double mean = s / n;
        return Math.Sqrt(Math.Max(0, s2 / n - mean * mean));
    }

    /// <summary>Standard deviation of the grey level inside <paramref name="a"/>.</summary>
    public double Contrast(Area a)
    {
        double s = 0, s2 = 0;
        int n = 0;
        for (int y = a.Y; y < a.Y + a.H; y++)
            for (int x = a.X; x < a.X + a.W; x++)
            {
                int i = (y * Width + x) * 4;
                double g = 0.299 * Rgba[i] + 0.587 * Rgba[i + 1] + 0.114 * Rgba[i + 2];
                s += g;
                s2 += g * g;
                n++;
            }
        Assert.True(n > 0, $"empty area {a}");
        double mean = s / n;
        return Math.Sqrt(Math.Max(0, s2 / n - mean * mean));
    }

    /// <summary>Mean absolute difference per channel value inside <paramref name="a"/>.</summary>
    public double MeanDifference(Picture other, Area a)
    {
        Assert.Equal((Width, Height), (other.Width, other.Height));
        long sum = 0;
        for (int y = a.Y; y < a.Y + a.H; y++)
            for (int x = a.X; x < a.X + a.W; x++)
                for (int c = 0; c < 3; c++)
                {
                    int i = (y * Width + x) * 4 + c;
                    sum += Math.Abs(Rgba[i] - other.Rgba[i]);
                }
        Assert.True(a.W * a.H > 0, $"empty area {a}");
        return sum / (3.0 * a.W * a.H);
    }

    public int DistinctColors()
    {
        var set = new HashSet<int>();
        for (int i = 0; i < Rgba.Length; i += 4) set.Add(Rgba[i] << 16 | Rgba[i + 1] << 8 | Rgba[i + 2]);
        return set.Count;
    }

    /// <summary>Mean absolute difference per channel value over rows [y0, y1).</summary>
    public double MeanDifference(Picture other, int y0 = 0, int y1 = -1)
    {
        Assert.Equal((Width, Height), (other.Width, other.Height));
        if (y1 < 0) y1 = Height;
        long sum = 0;
        for (int i = y0 * Width * 4; i < y1 * Width * 4; i++)
            if (i % 4 != 3) sum += Math.Abs(Rgba[i] - other.Rgba[i]);
        return sum / (3.0 * Width * (y1 - y0));
    }
}
