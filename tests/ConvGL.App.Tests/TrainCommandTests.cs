using ConvGL.Core.IO;

namespace ConvGL.App.Tests;

/// <summary>`convgl train` through the executable: where it writes by default and what it reports.</summary>
public sealed class TrainCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Without --out the files go to ./trained (never over the shipped assets/stacks/learned.*), and the run
    /// ends with the units that stayed inactive on the held-out images.</summary>
    [Fact]
    public void Train_Default_WritesToTrained_AndReportsInactiveUnits()
    {
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "train", "--epochs", "1", "--samples", "60", "--test-samples", "20", "--size", "12");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        string trained = Path.Combine(_dir, "trained");
        Assert.Equal(["learned-curve.png", "learned.json", "learned.safetensors"],
            Directory.GetFiles(trained).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(16, SafeTensors.Read(Path.Combine(trained, "learned.safetensors"))["conv2.weight"].Shape[0]);
        Assert.Contains("--out trained ", r.Stdout);
        string report = r.Stdout.Split('\n').Single(l => l.StartsWith("inactive units on the held-out images", StringComparison.Ordinal));
        // 8 conv1 + 16 conv2 channels are measured; the line either names the inactive ones or says none.
        Assert.True(report.Contains("of 24", StringComparison.Ordinal), report);
    }

    /// <summary>The choices that map to a bool (--schedule, --init) take their word, and the run's reproduction line
    /// spells every setting out, the dead-unit fixes included.</summary>
    [Fact]
    public void Train_ScheduleInitAndWarmupChoices_AreParsedAndEchoed()
    {
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "train", "--epochs", "1", "--samples", "60", "--test-samples", "20", "--size", "12",
            "--schedule", "constant", "--init", "uniform", "--warmup", "0", "--out", "run");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        Assert.Contains("--schedule constant --warmup 0 --init uniform", r.Stdout);
        Assert.Contains("inactive units ", r.Stdout.Split('\n').Single(l => l.TrimStart().StartsWith("epoch ", StringComparison.Ordinal)));
        ApplyProcess.Result bad = ApplyProcess.Convgl(_dir, "train", "--warmup", "1", "--out", "run2");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--warmup (a fraction of the steps) must be in [0, 1), got 1", bad.Stderr);
    }
}
