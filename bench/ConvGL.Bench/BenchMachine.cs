using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using ConvGL.Gpu;

namespace ConvGL.Bench;

/// <summary>What the figures ran on: printed at the top of every table and written into every CSV row.</summary>
internal sealed record BenchMachine(string Cpu, int Cores, string Gl, IReadOnlyList<string> Lines)
{
    public static BenchMachine Describe(GlContext? gl, string? gpuMissing)
    {
        string cpu = CpuModel();
        int cores = Environment.ProcessorCount;
        string mem = MemTotal();
        string config = typeof(BenchHarness).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "?";
        string glText = gl is not null
            ? $"{gl.Description}; {(gl.IsSoftware ? "software rasteriser: GPU rows are wall clock + glFinish" : "GPU rows are GL_TIME_ELAPSED")}"
            : gpuMissing is not null ? $"unavailable: {gpuMissing}" : "not used (--device cpu)";
        var lines = new List<string>
        {
            $"machine: {cpu}, {cores} logical cores, {mem}; {RuntimeInformation.OSDescription}; {RuntimeInformation.FrameworkDescription} ({config} build{(config == "Release" ? "" : ": CPU figures are NOT representative, use ./convgl")})",
            $"gl: {glText}",
            $"date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; load average at start {LoadAverage()} (another process's load slows every row)",
        };
        return new(cpu, cores, gl?.Renderer ?? "-", lines);
    }

    private static string CpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int i and > 0)
                    return line[(i + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture + " CPU (model unknown: no /proc/cpuinfo)";
    }

    private static string MemTotal()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal) &&
                    long.TryParse(line[9..].Trim().Split(' ')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long kb))
                    return $"{kb / 1048576.0:0.#} GiB RAM";
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return "RAM unknown";
    }

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return "unknown";
    }
}

