using System.Diagnostics;

namespace ConvGL.App.Tests;

/// <summary>Runs external programs for the apply tests: the built `convgl` (as a user would, to see its exit code and
/// stderr) and Debian's /usr/bin/python3 (the NumPy/SciPy oracle).</summary>
internal static class ApplyProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(string file, IEnumerable<string> args, string workingDirectory, int timeoutMs = 300_000,
                             IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        if (environment is not null)
            foreach ((string name, string value) in environment) psi.Environment[name] = value;
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeoutMs} ms");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>`convgl ARGS` through the dotnet host, using the convgl.dll built next to this test assembly.</summary>
    public static Result Convgl(string workingDirectory, params string[] args) => ConvglWith(null, workingDirectory, args);

    /// <summary>`convgl ARGS` with extra environment variables (DOTNET_GCHeapHardLimit stands in for a small machine).</summary>
    public static Result ConvglWith(IReadOnlyDictionary<string, string>? environment, string workingDirectory, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "convgl.dll");
        Assert.True(File.Exists(dll), $"convgl.dll not found next to the tests at {dll}");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        return Run(host, [dll, .. args], workingDirectory, environment: environment);
    }

    public const string Python = "/usr/bin/python3";

    /// <summary>Fails (never skips) when Debian's python3 lacks NumPy or SciPy: CI installs them.</summary>
    public static void RequireNumpyScipy()
    {
        Result r;
        try
        {
            r = Run(Python, ["-c", "import numpy, scipy.ndimage; print(numpy.__version__, scipy.__version__)"], Path.GetTempPath());
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"{Python} is missing ({e.Message}); the apply oracle needs it: sudo apt-get install -y python3 python3-numpy python3-scipy");
            return;
        }
        Assert.True(r.ExitCode == 0,
            $"{Python} lacks numpy/scipy ({r.Stderr.Trim()}); the apply oracle needs them: sudo apt-get install -y python3-numpy python3-scipy");
    }
}
