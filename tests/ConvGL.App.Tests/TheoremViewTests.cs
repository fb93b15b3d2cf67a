using System.Globalization;
using ConvGL.App.Live.Views;
using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Present;

namespace ConvGL.App.Tests;

/// <summary>The theorem view (t): its legend text on hand-picked numbers, and a scripted window run that prints the
/// view's figures and writes a screenshot whose maps are where and what the theorem says.</summary>
[Collection("window")]
public sealed class TheoremViewTests(DisplayFixture display)
{
    [Fact]
    public void PanelLines_SayTheMaxDifference_TheTolerance_AndWhatItIsMadeOf()
    {
        var f = new TheoremFigures(MaxDifference: 1.0132789611816406e-06, Tolerance: 1.1198563645077783e-4, KernelAbsSum: 1, MaxAbsInput: 1,
                                   MaxAbsResult: 0.984, FrameH: 384, FrameW: 768, OutputChannel: 2, InputChannel: 2, Kernel: 2);
        Assert.Equal(
        [
            "convolution theorem, gaussian:15 B: FFT frame 384x768, input map 2 -> output map 2",
            "max |direct - FFT| = 1.01e-06 <= tolerance 1.12e-04: equal (float32 rounding)",
            "tolerance = 1e-5 + 1e-4 max|out| + 2e-7 log2(frame) S M,",
            "  max|out| = 0.984, S = sum|w| = 1, M = max|in| = 1",
        ], TheoremView.PanelLines(f, "gaussian:15 B"));
        // Above the tolerance the legend says so, loudly.
        string over = TheoremView.PanelLines(f with { MaxDifference = 2e-4 }, "x")[1];
        Assert.Equal("max |direct - FFT| = 2.00e-04 > tolerance 1.12e-04: OUTSIDE THE TOLERANCE", over);
    }

    [Fact]
    public void ScriptedRun_PrintsAMaxDifferenceWithinTolerance_AndDrawsTheKernelSpectrumWithDcInTheMiddle()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"convgl-app-tests-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string png = Path.Combine(dir, "theorem.png");
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--size", "480x360", "--source", "scene:320x180", "--frames", "4", "--filter", "gaussian:9,2", "--view", "theorem", "--screenshot", png]);
        Assert.True(r.ExitCode == 0, r.ToString());
        string line = r.Stdout.Split('\n').Single(l => l.StartsWith("theorem ", StringComparison.Ordinal));
        Dictionary<string, string> v = line.Split(' ').Skip(1).Select(kv => kv.Split('=')).ToDictionary(kv => kv[0], kv => kv[1]);
        double maxDiff = double.Parse(v["max_diff"], CultureInfo.InvariantCulture), tolerance = double.Parse(v["tolerance"], CultureInfo.InvariantCulture);
        // Float32 rounding shows (the two algorithms do not agree to the bit), within the stated bound.
        Assert.True(maxDiff > 0 && maxDiff <= tolerance && v["within"] == "True", line);
        // The frame is Core's one-tile plan for the 320x180 scene and a 9x9 kernel, reflect, same.
        FftPlan plan = FftPlan.For(180, 320, 9, 9, ConvOptions.ImageFilter, tiles: 1);
        Assert.Equal($"{plan.FrameH}x{plan.FrameW}", v["frame"]);
        Assert.Equal(("0", "0", "0"), (v["layer"], v["output"], v["input"]));

        var p = new Picture(png);
        Area view = Area.Of(r, "view");
        Assert.True(view.W > 60 && view.H > 40, $"the theorem view drew nothing: {r.Stdout}");
        Assert.True(p.Contrast(view) > 8 && p.DistinctColors() > 200, "the theorem view looks blank");
        // The kernel's spectrum (bottom middle cell): a Gaussian's is a Gaussian around DC, so the cell's centre is the
        // colour map's bright end and a point 0.4 of the cell to the side is its dark end.
        double cellW = view.W / 3.0, cellH = view.H / 2.0;
        int cx = (int)(view.X + 1.5 * cellW), cy = (int)(view.Y + 1.5 * cellH), side = (int)(view.X + 1.1 * cellW);
        double centre = Luma(p, cx, cy), edge = Luma(p, side, cy);
        Assert.True(centre > 180 && edge < 80, $"kernel spectrum: centre luma {centre:0}, side luma {edge:0}");
    }

    private static double Luma(Picture p, int x, int y)
    {
        int i = (y * p.Width + x) * 4;
        return 0.299 * p.Rgba[i] + 0.587 * p.Rgba[i + 1] + 0.114 * p.Rgba[i + 2];
    }
}
