using ConvGL.App.Live;

namespace ConvGL.App.Tests;

/// <summary>The window soak (issue 9): a scripted run cycles every control and hot reload while it counts GL objects
/// (where ConvGL creates and deletes them, and the driver's own count), the managed heap, resident memory and GL
/// errors; after warm-up all must stay flat. The CI version runs about four cycles (600 frames); scripts/soak.sh
/// runs 10,000.</summary>
[Collection("window")]
public sealed class SoakTests(DisplayFixture display)
{
    [Fact]
    public void SixHundredFrames_OfEveryControlAndHotReload_LeaveEverythingFlat()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"convgl-app-tests-{Environment.ProcessId}", "soak");
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--size", "160x120", "--source", "scene:160x90", "--frames", "600", "--soak", dir]);
        string verdict = r.Stdout.Split('\n').SingleOrDefault(l => l.StartsWith("soak: ", StringComparison.Ordinal)) ?? "(no verdict line)";
        Assert.True(r.ExitCode == 0, $"{verdict}\n{r}");
        Assert.StartsWith("soak: flat", verdict);
        Assert.DoesNotContain("internal error", r.Stderr);

        List<SoakSample> samples = r.Stdout.Split('\n').Where(l => l.StartsWith("soak frame=", StringComparison.Ordinal)).Select(SoakSample.Parse).ToList();
        Assert.True(samples.Count >= 4, $"{samples.Count} samples: the run should span the warm-up and two more cycles\n{r}");
        SoakSample end = samples[^1];
        // The counts ConvGL keeps where it creates and deletes objects agree with the driver's (glIs* over the names).
        foreach (string kind in new[] { "buffer", "texture", "program", "vertexarray" })
            foreach (SoakSample s in samples)
                Assert.True(s.Counters["gl." + kind] == s.Counters["driver." + kind],
                    $"frame {s.Frame}: ConvGL counts {s.Counters["gl." + kind]} live {kind}s, the driver {s.Counters["driver." + kind]}");
        Assert.True(end.Counters["gl.buffer"] > 0 && end.Counters["gl.program"] > 0, end.Line());
        // The cycle really reloaded: the soak stack was re-read and the touched shader's programs rebuilt.
        Assert.True(end.Counters["touches"] >= 3 && end.Counters["filesreread"] >= end.Counters["touches"] && end.Counters["programsrebuilt"] >= end.Counters["touches"], end.Line());
        Assert.All(samples, s => Assert.Equal(0, s.Counters["glerrors"] + s.Counters["debugerrors"]));
    }

    [Fact]
    public void SoakCheck_NamesTheCounterThatGrew()
    {
        var warm = new SoakSample(280, new Dictionary<string, long>
        {
            ["gl.buffer"] = 9, ["driver.texture"] = 5, ["heap"] = 500_000, ["rss"] = 200_000_000, ["glerrors"] = 0, ["touches"] = 2,
        });
        var flat = new SoakSample(560, new Dictionary<string, long>
        {
            // Fewer objects, a little more heap and memory (within the slack), more touches: all fine.
            ["gl.buffer"] = 8, ["driver.texture"] = 5, ["heap"] = 500_000 + SoakCheck.HeapSlackBytes, ["rss"] = 200_000_000 + SoakCheck.RssSlackBytes,
            ["glerrors"] = 0, ["touches"] = 4,
        });
        Assert.Empty(SoakCheck.Problems(warm, flat));

        var grew = new SoakSample(560, new Dictionary<string, long>
        {
            ["gl.buffer"] = 10, ["driver.texture"] = 6, ["heap"] = 500_001 + SoakCheck.HeapSlackBytes, ["rss"] = 200_000_000, ["glerrors"] = 1, ["touches"] = 4,
        });
        List<string> problems = SoakCheck.Problems(warm, grew);
        Assert.Equal(
        [
            "gl.buffer grew from 9 at frame 280 to 10 at frame 560",
            "driver.texture grew from 5 at frame 280 to 6 at frame 560",
            $"heap grew from 500000 at frame 280 to {500_001 + SoakCheck.HeapSlackBytes} at frame 560 (more than 1024 KiB)",
            "glerrors: 1 GL error(s) by frame 560",
        ], problems);
    }

    [Fact]
    public void SoakSampleLine_RoundTrips()
    {
        var s = new SoakSample(140, new Dictionary<string, long> { ["gl.buffer"] = 9, ["rss"] = 123456789 });
        Assert.Equal("soak frame=140 gl.buffer=9 rss=123456789", s.Line());
        SoakSample back = SoakSample.Parse(s.Line());
        Assert.Equal(140, back.Frame);
        Assert.Equal(s.Counters, back.Counters);
    }

    [Fact]
    public void SoakCycle_UndoesEveryOptionKey_AndVisitsEveryFilterAndStack()
    {
        string[] cycle = SoakRun.Cycle(19, 4);
        // Each option change is undone within the cycle, so every cycle ends in the state it began in: a key and its
        // reverse as often, a toggle an even number of times.
        foreach ((string a, string b) in new[] { ("b", "B"), ("+", "-"), ("d", "D"), ("tab", "shift+tab"), ("]", "["), (".", ",") })
            Assert.True(cycle.Count(k => k == a) == cycle.Count(k => k == b), $"{a} and {b} are not balanced");
        foreach (string toggle in new[] { "c", "pin", "space", "i", "h", "v", "1", "2" })
            Assert.True(cycle.Count(k => k == toggle) % 2 == 0, $"{toggle} is pressed an odd number of times");
        Assert.Equal(20, cycle.Count(k => k == "f"));
        Assert.Equal(5, cycle.Count(k => k == "s"));
        Assert.Contains("touch", cycle);
        Assert.Equal("open", cycle[0]);
    }
}
