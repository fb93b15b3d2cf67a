using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Detectors;
using ConvGL.Gpu;
using Perfolizer.Models;

namespace ConvGL.Bench;

/// <summary>What the figures ran on: printed at the top of every table and written into every CSV row. The CPU and
/// the OS come from BenchmarkDotNet's detectors (/proc/cpuinfo and lscpu on Linux, the registry or sysctl elsewhere:
/// the model, its nominal clock and physical cores on every platform), the rest from the runtime.</summary>
internal sealed record BenchMachine(string Cpu, int Cores, string Gl, IReadOnlyList<string> Lines)
{
    public static BenchMachine Describe(GlContext? gl, string? gpuMissing)
    {
        CpuInfo? cpuInfo = Detect(() => CpuDetector.Cpu);
        OsInfo? os = Detect(OsDetector.GetOs);
        string cpu = cpuInfo?.ProcessorName is { Length: > 0 } name ? name : $"{RuntimeInformation.ProcessArchitecture} CPU (model unknown)";
        string clock = cpuInfo?.NominalFrequencyHz is > 0 and long hz ? string.Create(CultureInfo.InvariantCulture, $" {hz / 1e9:0.00} GHz nominal,") : "";
        // The cores this process may use (what the peers' thread counts are), then the chip's physical ones.
        int cores = Environment.ProcessorCount;
        string physical = cpuInfo?.PhysicalCoreCount is > 0 and int p ? $" ({p} physical)" : "";
        string ram = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes is > 0 and long bytes
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.#} GiB RAM") : "RAM unknown";
        string osText = os?.Version is { Length: > 0 } version ? version : RuntimeInformation.OSDescription;
        string config = typeof(BenchHarness).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "?";
        string glText = gl is not null
            ? $"{gl.Description}; {(gl.IsSoftware ? $"software rasteriser: GPU rows are wall clock + glFinish; {DriverThreads.Status ?? "threads not pinned"}" : "GPU rows are GL_TIME_ELAPSED")}; conv plans {(gl.TuneConvPlans ? "timed on first use (CONVGL_TUNE=0: the cost rules)" : "by the cost rules")}"
            : gpuMissing is not null ? $"unavailable: {gpuMissing}" : "not used (--device cpu)";
        var lines = new List<string>
        {
            $"machine: {cpu},{clock} {cores} logical cores{physical}, {ram}; {osText}; {RuntimeInformation.FrameworkDescription} ({config} build{(config == "Release" ? "" : ": CPU figures are NOT representative, use ./convgl")})",
            $"gl: {glText}",
            $"date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; load average at start {LoadAverage()} (another process's load slows every row)",
        };
        return new(cpu, cores, gl?.Renderer ?? "-", lines);
    }

    /// <summary>A detector's answer, or null when it fails (a missing tool, an unreadable file): the machine line then
    /// says less, and the bench still runs.</summary>
    private static T? Detect<T>(Func<T?> detect) where T : class
    {
        try
        {
            return detect();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
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

