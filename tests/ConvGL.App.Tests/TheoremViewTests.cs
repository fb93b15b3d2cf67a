using System.Globalization;
using System.Numerics;
using ConvGL.App.Live;
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
            "convolution theorem, gaussian:15 B: FFT frame 768x384, input map 2 -> output map 2",
            "max |direct - FFT| = 1.01e-06 <= tolerance 1.12e-04: equal (float32 rounding)",
            "tolerance = 1e-5 + 1e-4 max|out| + 2e-7 log2(frame) S M,",
            "  max|out| = 0.984, S = sum|w| = 1, M = max|in| = 1",
            "inverse(product) is a circular correlation over the frame; the frame holds every padded input value the outputs read, so they never wrap",
        ], TheoremView.PanelLines(f, "gaussian:15 B"));
        // Above the tolerance the legend says so, loudly.
        string over = TheoremView.PanelLines(f with { MaxDifference = 2e-4 }, "x")[1];
        Assert.Equal("max |direct - FFT| = 2.00e-04 > tolerance 1.12e-04: OUTSIDE THE TOLERANCE", over);
    }

    [Fact]
    public void Layout_PutsTheGridUnderTheLegend_AspectCorrect_AndTheScanlinePlotsUnderIt_InsideTheArea()
    {
        foreach ((float w, float h) in new[] { (960f, 600f), (692f, 600f), (480f, 360f), (1600f, 500f) })
        {
            var area = new PixelRect(0, 0, w, h);
            TheoremLayout l = TheoremView.Layout(area, 640, 360);
            (PixelRect grid, float bandY, float bandH) = (l.Grid, l.Bands[0].Y, l.Bands[0].Height);
            // Three maps across, two down (1600x500: all six in one row), undistorted.
            Assert.Equal(w == 1600 ? 6 : 3, l.Columns);
            Assert.Equal(l.Columns * 640 / (6.0 / l.Columns * 360), grid.Width / grid.Height, 3);
            Assert.True(grid.Y >= 80 && grid.X >= 0 && grid.X + grid.Width <= w + 0.01f, $"{w}x{h}: grid {grid}");
            Assert.Equal(w / 2, grid.X + grid.Width / 2, 2); // centred across
            Assert.True(bandY > grid.Y + grid.Height && bandY + bandH <= h, $"{w}x{h}: band at {bandY} + {bandH} under grid {grid}");
            Assert.True(bandH >= 0.7f * grid.Height / 2 || bandY + bandH >= h - 5, $"{w}x{h}: band {bandH} px: too thin where there was room");
        }
    }

    [Fact]
    public void Legend_ReservesTheLinesItWrapsTo_OnlyGrowingAtOneWidth_AndTheGridMovesDownForThem()
    {
        Assert.Equal(6, TheoremView.LegendLinesFor(4, 0));   // a wide window: six lines, as always
        Assert.Equal(9, TheoremView.LegendLinesFor(9, 0));   // 640x400 wraps it to 9: all of them
        Assert.Equal(9, TheoremView.LegendLinesFor(8, 9));   // a number a digit shorter does not move the maps
        Assert.Equal(12, TheoremView.LegendLinesFor(20, 0)); // a tiny window keeps most of its height for the maps
        Assert.Equal(12, TheoremView.LegendLinesFor(20, 0, 600, 15));
        Assert.Equal(18, TheoremView.LegendLinesFor(20, 0, 1100, 15)); // a tall one gives it a quarter of its height
        var area = new PixelRect(0, 0, 640, 400);
        PixelRect six = TheoremView.Layout(area, 640, 360, 10).Grid;
        TheoremLayout l = TheoremView.Layout(area, 640, 360, 10, 9);
        (PixelRect nine, float bandY, float bandH) = (l.Grid, l.Bands[0].Y, l.Bands[0].Height);
        Assert.Equal(six.Y + 3 * 10, nine.Y, 3);
        Assert.True(bandY + bandH <= 400, $"band {bandY} + {bandH}");
    }

    [Fact]
    public void SpectrumBin_MapsADrawnPositionToItsSignedFrequency_DcInTheMiddle()
    {
        // A 4 x 8 frame drawn in 200 x 100 pixels at (10, 20): a bin is 25 x 25 px; DC is drawn at bin (2, 4).
        var r = new PixelRect(10, 20, 200, 100);
        Assert.True(TheoremView.SpectrumBin(r, 10 + 4 * 25 + 3, 20 + 2 * 25 + 3, 4, 8, out int ky, out int kx));
        Assert.Equal((0, 0), (ky, kx));
        Assert.True(TheoremView.SpectrumBin(r, 10.5, 20.5, 4, 8, out ky, out kx));
        Assert.Equal((-2, -4), (ky, kx)); // the top-left bin: the most negative frequencies
        Assert.True(TheoremView.SpectrumBin(r, 209, 119, 4, 8, out ky, out kx));
        Assert.Equal((1, 3), (ky, kx));
        Assert.Equal(3, ConvTheorem.Shifted(1, 4)); // drawn row 3 shows frequency 1, as the shader draws it
        Assert.False(TheoremView.SpectrumBin(r, 9, 50, 4, 8, out _, out _));
        Assert.False(TheoremView.SpectrumBin(r, 100, 121, 4, 8, out _, out _));
    }

    [Fact]
    public void BinAndScanlineLines_SayMagnitudesPhasesAndTheDifference()
    {
        // In = 3 + 4i: |In| 5 at atan2(4, 3) = 53.13 deg; K = -1: 1 at 180 deg; P = In conj(K) = -3 - 4i: 5 at -126.87 deg.
        Assert.Equal("frequency (ky -2, kx 5) = (-0.005, 0.007) cycles/pixel in the 768x384 frame: In 5 at 53 deg, K 1 at 180 deg, P = In conj(K) 5 at -127 deg",
            TheoremView.BinLine(-2, 5, 384, 768, new Complex(3, 4), new Complex(-1, 0), new Complex(-3, -4)));
        Assert.Equal("scanline: input 2 row 17 correlated with kernel row 4 as applied (its centre), N = 1024: max |direct - FFT| 4.4e-16",
            TheoremView.ScanlineLine(17, 2, 1024, 4.44e-16, 4, 9));
        Assert.Equal("scanline: input 0 row (zero border) correlated with kernel row 0 as applied (its centre row is zero), N = 64: max |direct - FFT| 0.0e+00",
            TheoremView.ScanlineLine(-1, 0, 64, 0, 0, 3));
        // An even kernel's row (kH - 1) / 2 is the upper of its two middle rows (the profile view's row), not a centre.
        Assert.Contains("kernel row 0 as applied (its middle row, the upper of two)", TheoremView.ScanlineLine(3, 0, 64, 0, 0, 2), StringComparison.Ordinal);
        Assert.Contains("kernel row 1 as applied (its middle row, the upper of two)", TheoremView.ScanlineLine(3, 0, 64, 0, 1, 4), StringComparison.Ordinal);
        Assert.Contains("kernel row 2 as applied (its middle rows are zero)", TheoremView.ScanlineLine(3, 0, 64, 0, 2, 4), StringComparison.Ordinal);
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
        Assert.Equal($"{plan.FrameW}x{plan.FrameH}", v["frame"]); // W x H, as the legend and every picture size on screen
        Assert.Equal(("1", "0", "0"), (v["layer"], v["output"], v["input"])); // layers count from 1, as --layer; maps from 0
        // The scanline: the middle row (no pointer, nothing pinned), the kernel's centre row reading the same input row
        // (same padding, stride 1), a power-of-two frame over the 320 + 8 padded values, and the 1D FFT equal to the
        // direct sum in double precision.
        Assert.Equal(("90", "90", "512"), (v["scanline_row"], v["scanline_input_row"], v["scanline_frame"]));
        Assert.True(double.Parse(v["scanline_max_diff"], CultureInfo.InvariantCulture) < 1e-12, line);
        // No probe in this view: no probe strip under it.
        Assert.Contains(" bottom=0,360,480,0 ", r.Stdout);

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

    [Fact]
    public void Spectra_AreDrawnInSquares_SoA45DegreeGaborsLobesLieAt45Degrees()
    {
        // A square, centred in its cell: both axes span -0.5..0.5 cycles per pixel.
        Assert.Equal(new PixelRect(110, 20, 100, 100), TheoremView.SpectrumSquare(new PixelRect(10, 20, 300, 100)));
        Assert.Equal(new PixelRect(10, 45, 50, 50), TheoremView.SpectrumSquare(new PixelRect(10, 20, 50, 100)));

        // On screen: a 45-degree Gabor (wavelength 5 px: lobes at 0.2 cycles per pixel) over a 320x180 scene, whose FFT
        // frame is about twice as wide as tall. Drawn to the frame's aspect, its lobes were at ~27 degrees.
        string dir = Path.Combine(Path.GetTempPath(), $"convgl-app-tests-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string png = Path.Combine(dir, "theorem-gabor45.png");
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--size", "640x480", "--source", "scene:320x180", "--frames", "3", "--filter", "gabor:theta=45,lambda=5", "--view", "theorem", "--screenshot", png]);
        Assert.True(r.ExitCode == 0, r.ToString());
        string line = r.Stdout.Split('\n').Single(l => l.StartsWith("theorem ", StringComparison.Ordinal));
        string[] frame = line.Split(' ').Single(f => f.StartsWith("frame=", StringComparison.Ordinal))[6..].Split('x');
        Assert.True(int.Parse(frame[0], CultureInfo.InvariantCulture) >= 1.5 * int.Parse(frame[1], CultureInfo.InvariantCulture), line); // W x H
        var p = new Picture(png);
        Area view = Area.Of(r, "view");
        double cellW = view.W / 3.0, cellH = view.H / 2.0;
        PixelRect sq = TheoremView.SpectrumSquare(new PixelRect((float)(view.X + cellW + 1), (float)(view.Y + cellH + 1), (float)(cellW - 2), (float)(cellH - 2)));
        double cx = sq.X + sq.Width / 2, cy = sq.Y + sq.Height / 2, best = -1, bx = 0, by = 0;
        for (int y = (int)sq.Y + 2; y < sq.Y + sq.Height - 2; y++)
            for (int x = (int)sq.X + 2; x < sq.X + sq.Width - 2; x++)
            {
                double dx = x - cx, dy = y - cy;
                if (Math.Sqrt(dx * dx + dy * dy) < 0.08 * sq.Width) continue; // away from DC
                // Viridis' bright end is yellow (253, 231, 37): scored by yellowness, so the cell's white label is not
                // taken for a lobe.
                int i = (y * p.Width + x) * 4;
                double l = Math.Min(p.Rgba[i], p.Rgba[i + 1]) - p.Rgba[i + 2];
                if (l > best) (best, bx, by) = (l, dx, dy);
            }
        double angle = Math.Atan2(Math.Abs(by), Math.Abs(bx)) * 180 / Math.PI, radius = Math.Sqrt(bx * bx + by * by) / sq.Width;
        Assert.True(Math.Abs(angle - 45) < 7, $"the brightest lobe is at {angle:0.0} degrees ({bx:0}, {by:0} px from DC in a {sq.Width:0} px square)");
        Assert.True(Math.Abs(radius - 0.2) < 0.05, $"the brightest lobe is {radius:0.000} of the square from DC, not 0.2 cycles per pixel");
    }

    [Fact]
    public void Content_CountsTheTextInMapPixelsAtTheMapsScale_SoSmallMapsGetTheWidth()
    {
        // A 14x14 map (ResNet18's 256-channel layers) in a 1200x1080 area with 15 px lines: the text (legend 6 lines,
        // band label, padding: 90 + 12 + 17 + 4 = 123 px) over the grid's scale min(1200 / 42, 957 / 38.5) = 24.86, not
        // 123 map pixels; so the content is 42 x (38.5 + 4.95) map pixels, about as wide as the area allows.
        var area = new PixelRect(0, 0, 1200, 1080);
        (int w, int h) = TheoremView.Content(area, 14, 14, 15);
        double aspect = (double)w / h;
        Assert.Equal(42 / (38.5 + 123 / 24.857), aspect, 0.005);
        // Fitted to the area, the grid then comes out at the scale Layout gives it.
        PixelRect fit = area.Fit(w, h);
        PixelRect grid = TheoremView.Layout(fit, 14, 14, 15).Grid;
        PixelRect full = TheoremView.Layout(area, 14, 14, 15).Grid;
        Assert.Equal(full.Width, grid.Width, 0);
        // A 640x360 map: the text is a few map pixels, as before.
        (w, h) = TheoremView.Content(new PixelRect(0, 0, 1000, 800), 640, 360, 15);
        Assert.Equal(1920 / (990 + 123 / 0.5208), (double)w / h, 0.005);
        // Portrait maps (300x600) in a 600x600 area: the maps' row 600 tall, the spectra's squares 300, the plots 450:
        // the grid is height-bound at (600 - 123) / 1350 = 0.353, 318 px wide; the content is as wide as the legend's 64
        // characters (64 x 7.2 + 32 = 493 px), not the grid.
        (w, h) = TheoremView.Content(new PixelRect(0, 0, 600, 600), 300, 600, 15);
        double s = 477.0 / 1350;
        Assert.Equal((64 * 0.48 * 15 + 32) / s / (1350 + 123 / s), (double)w / h, 0.005);
    }

    [Fact]
    public void PortraitMaps_TheSpectraRowIsAsTallAsItsSquares_SoTheMapsGetTheHeight()
    {
        Assert.Equal(1f, TheoremView.SpectrumRowShare(640, 360));   // landscape: a map's height, the squares h x h
        Assert.Equal(1f, TheoremView.SpectrumRowShare(512, 512));
        Assert.Equal(0.5625f, TheoremView.SpectrumRowShare(288, 512)); // portrait: w tall
        // A 288x512 map in 900x720 with 15 px lines, in the 3 x 2 grid: height-bound, (720 - 90 - 12 - 32 - 4) / ((1 +
        // 0.5625 + 0.75) x 512) = 0.4916 a map pixel (its 145 px plots take two title lines); with two map-high rows it
        // was 582 / (2.75 x 512) = 0.413. (Layout itself puts all six in one row there: 0.52, 6% larger.)
        var area = new PixelRect(0, 0, 900, 720);
        TheoremLayout l = TheoremView.Arrange(area, 288, 512, 15, TheoremView.MinLegendLines, 3);
        (PixelRect grid, float bandY, float bandH) = (l.Grid, l.Bands[0].Y, l.Bands[0].Height);
        double scale = grid.Width / (3.0 * 288);
        Assert.True(BandLinesAt(grid) is 1 or 2);
        Assert.True(scale > 0.48 && scale < 0.51, $"scale {scale:0.000}");
        Assert.Equal(1.5625 * 512 * scale, grid.Height, 1);
        Assert.True(bandY > grid.Y + grid.Height && bandY + bandH <= 720.01f, $"band {bandY} + {bandH} under {grid}");
    }

    private static int BandLinesAt(PixelRect grid) => TheoremView.BandLabelLines(grid.Width / 3, 15);

    [Fact]
    public void Layout_WideWindows_PutAllSixPanelsInOneRow_TallOnesInOneColumn_EveryPartInsideTheArea()
    {
        // 640x360 maps, 15 px lines (legend 6 x 15 + 12 = 102 px; a plot title 17 px).
        // 1900x300: 3 columns are height-bound at (300 - 102 - 17 - 4) / (2.75 x 360) = 0.179 a map pixel; 6 columns at
        // (300 - 123) / (1.75 x 360) = 0.281 (1080 px of maps across): 57% larger, so one row of six.
        TheoremLayout wide = TheoremView.Layout(new PixelRect(0, 0, 1900, 300), 640, 360);
        Assert.Equal(6, wide.Columns);
        Assert.Equal(177f / (1.75f * 360), wide.Scale, 4);
        // The spectra stand right of the maps in the same row; each plot spans two panels.
        Assert.Equal(wide.Cells[0].Y, wide.Cells[5].Y);
        Assert.True(wide.Cells[3].X > wide.Cells[2].X + wide.Cells[2].Width, "spectra right of the maps");
        Assert.Equal(2 * 640 * wide.Scale - 6, wide.Bands[1].Width, 2);
        // 300x1100: 3 columns are width-bound at 300 / 1920 = 0.156; one column at min(300 / 640, (1100 - 102 - 3 x 32
        // - 4) / (8.25 x 360)) = 0.302 (its 203 px plots hold 27 characters: two title lines each), so one column: six
        // panels one under another, then the three plots.
        TheoremLayout tall = TheoremView.Layout(new PixelRect(0, 0, 300, 1100), 640, 360);
        Assert.Equal(1, tall.Columns);
        Assert.Equal(2, tall.TitleLines);
        Assert.Equal(898f / (8.25f * 360), tall.Scale, 4);
        for (int i = 1; i < 6; i++) Assert.True(tall.Cells[i].Y >= tall.Cells[i - 1].Y + tall.Cells[i - 1].Height, $"panel {i} under {i - 1}");
        for (int b = 1; b < 3; b++) Assert.True(tall.TitleY[b] >= tall.Bands[b - 1].Y + tall.Bands[b - 1].Height, $"plot {b} under {b - 1}");
        // 533x1200 (a portrait window's picture): 3 columns width-bound at 533 / 1920 = 0.278; 2 columns (the maps left,
        // the spectra right, the plots one under another) at min(533 / 1280, (1200 - 102 - 3 x 17 - 4) / (5.25 x 360))
        // = 0.416: 1.5x larger.
        TheoremLayout portrait = TheoremView.Layout(new PixelRect(0, 0, 533, 1200), 640, 360);
        Assert.Equal(2, portrait.Columns);
        Assert.Equal(533f / 1280, portrait.Scale, 4);
        Assert.Equal(portrait.Cells[0].Y, portrait.Cells[3].Y); // the input spectrum beside the direct map
        Assert.True(portrait.Cells[3].X > portrait.Cells[0].X + portrait.Cells[0].Width && portrait.Cells[1].Y > portrait.Cells[0].Y);
        // A common window keeps the 3 x 2 grid (1280x800's picture area: 980x800).
        Assert.Equal(3, TheoremView.Layout(new PixelRect(0, 0, 980, 800), 640, 360).Columns);
        // Whatever the window, every panel and plot lies inside it, the maps undistorted, nothing overlapping.
        foreach ((float w, float h) in new[] { (10f, 10f), (40f, 30f), (1900f, 300f), (300f, 1100f), (2560f, 200f), (200f, 1600f), (960f, 600f), (533f, 1200f) })
            foreach ((int mw, int mh) in new[] { (640, 360), (288, 512), (14, 14) })
            {
                var area = new PixelRect(5, 7, w, h);
                TheoremLayout l = TheoremView.Layout(area, mw, mh);
                foreach (PixelRect r in l.Cells.Concat(l.Bands))
                    Assert.True(r.X >= area.X - 0.01f && r.Y >= area.Y - 0.01f && r.X + r.Width <= area.X + w + 0.01f && r.Y + r.Height <= area.Y + h + 0.01f,
                        $"{w}x{h}, {mw}x{mh} maps: {r} outside the area ({l.Columns} columns)");
                if (l.Cells[0].Width > 10)
                    Assert.Equal((double)mw / mh, (l.Cells[0].Width + 2) / (l.Cells[0].Height + 2), 3);
                for (int i = 0; i < 6; i++)
                    for (int j = i + 1; j < 6; j++)
                        Assert.False(Overlap(l.Cells[i], l.Cells[j]), $"{w}x{h}: panels {i} and {j} overlap");
            }
    }

    private static bool Overlap(PixelRect a, PixelRect b) =>
        a.Width > 0 && b.Width > 0 && a.Height > 0 && b.Height > 0 &&
        a.X < b.X + b.Width && b.X < a.X + a.Width && a.Y < b.Y + b.Height && b.Y < a.Y + a.Height;

    [Fact]
    public void BandTitles_WrapInTwoLines_ElseShortForms_NeverCutMidWord()
    {
        // Wide cells: one line each, the full titles.
        Assert.Equal(["1D: direct grey, FFT orange"], TheoremView.BandTitles(60)[0]);
        Assert.Equal(["1D: row x conj(kernel row), log(1+|F|)"], TheoremView.BandTitles(60)[2]);
        // 25 characters: the full titles in two lines.
        List<string>[] t = TheoremView.BandTitles(25);
        Assert.Equal(["1D: row grey, kernel", "  orange, log(1+|F|)"], t[1]);
        // 12 (a portrait picture's cells at 1280x720): the short forms, whole words ("1D: row x c" / "onj(kerne" was drawn).
        t = TheoremView.BandTitles(12);
        Assert.Equal(["1D: direct,", "  FFT"], t[0]);
        Assert.Equal(["1D: row,", "  kernel |F|"], t[1]);
        Assert.Equal(["1D: product", "  |F|"], t[2]);
        foreach (int chars in new[] { 4, 8, 10, 12, 16, 20, 30, 40, 80 })
            foreach (List<string> title in TheoremView.BandTitles(chars))
                Assert.True(title.Count is 1 or 2 && title.All(l => l.Length <= Math.Max(chars, 1)), $"{chars}: [{string.Join(" | ", title)}]");
    }

    [Fact]
    public void ScanlineScaleLabels_StandInAGutter_LeftOfTheFirstPlotsCurves()
    {
        // Pure: 10 characters of the HUD's font and padding where the cell keeps 4 lines' width of plot beside it.
        Assert.Equal(10 * Hud.CharWidthFor(16) + 8, TheoremView.ScaleGutter(326, 16), 3);
        Assert.Equal(0, TheoremView.ScaleGutter(10 * Hud.CharWidthFor(16) + 8 + 4 * 16, 16));
        Assert.Equal(6 * Hud.CharWidthFor(16) + 8, TheoremView.ScaleGutter(326, 16, chars: 6), 3); // labels of 6: "0.4781"
        // On screen (1280x720, text 13 px: 16 px lines): the first plot's curves start right of the gutter; its labels
        // sat over the row's first ~60 pixels, where a border's effects show.
        string dir = Path.Combine(Path.GetTempPath(), $"convgl-app-tests-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string png = Path.Combine(dir, "theorem-gutter.png");
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--size", "1280x720", "--source", "scene:320x180", "--frames", "3", "--filter", "gabor:theta=0", "--view", "theorem", "--screenshot", png]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains(" text=13 ", r.Stdout);
        // The grid is centred a hair left of 0 here: printed as 0, not "-0".
        string layout = r.Stdout.Split('\n').Single(l => l.StartsWith("layout ", StringComparison.Ordinal));
        Assert.DoesNotContain("=-0,", layout);
        Assert.DoesNotContain(",-0,", layout);
        var p = new Picture(png);
        Area grid = Area.Of(r, "view");
        // The gutter is as wide as the labels (4 to 10 characters): at least the 4-character one is free of curve.
        float gutter = TheoremView.ScaleGutter(grid.W / 3f - 2, Hud.LineHeightFor(13), chars: 4);
        Assert.True(gutter > 30, $"gutter {gutter}");
        int x0 = grid.X + 1, y0 = grid.Y + grid.H + 2 * 16, y1 = Math.Min(p.Height, grid.Y + grid.H + (int)(grid.H * 0.7));
        int InOrange(int from, int to)
        {
            int n = 0;
            for (int y = y0; y < y1; y++)
                for (int x = from; x < to; x++)
                {
                    int i = (y * p.Width + x) * 4;
                    if (p.Rgba[i] > 200 && p.Rgba[i + 1] is > 100 and < 180 && p.Rgba[i + 2] < 70) n++;
                }
            return n;
        }
        Assert.Equal(0, InOrange(x0, x0 + (int)gutter));
        float widest = TheoremView.ScaleGutter(grid.W / 3f - 2, Hud.LineHeightFor(13));
        Assert.True(InOrange(x0 + (int)widest + 3, x0 + (int)widest + 40) > 10, "no orange curve right of the gutter");
    }

    /// <summary>The UX audit: a scripted theorem screenshot showed a spectrum readout no one asked for, wherever Xvfb's idle
    /// pointer rested over the window (so the same command drew different pictures on different screens). A scripted run
    /// ignores the display's pointer (--probe pins its points without it).</summary>
    [Fact]
    public void AScriptedRun_IgnoresTheDisplaysPointer()
    {
        // A window as large as the test display's screen: its resting pointer (the screen's centre) is over the window.
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--size", "1280x1024", "--source", "scene:320x180", "--frames", "3", "--filter", "gaussian:5", "--view", "theorem"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains(" pointer=none", r.Stdout);
        Assert.Contains(" scanline_row=90 ", r.Stdout); // the middle row, not one under the pointer
    }

    [Fact]
    public void OnANonConvLayer_ShowsTheSelectedChannelOfTheConvItRuns()
    {
        // The learned stack opens on its last max pool: the view runs the conv before it (conv2, layer 4, 16 maps: the one
        // `c` would act on; it was the first conv) for the selected channel (3, as the HUD names it), not channel 0.
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--size", "480x360", "--source", "scene:160x90", "--frames", "3", "--stack", "learned", "--view", "theorem", "--keys", ". . ."]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("theorem layer=4 output=3 ", r.Stdout);
        Assert.Contains(" within=True ", r.Stdout);
        // The deep stack's max pool after its learned conv1 (layer 4): conv1 (layer 2), not the fixed pre-blur before it
        // (layer 1, the first conv, which the UX audit saw there).
        r = WindowProcess.Run(WindowProcess.Require(display),
            ["--size", "480x360", "--source", "scene:160x90", "--frames", "3", "--stack", "deep", "--layer", "4", "--view", "theorem"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("theorem layer=2 output=0 ", r.Stdout);
    }

    private static double Luma(Picture p, int x, int y)
    {
        int i = (y * p.Width + x) * 4;
        return 0.299 * p.Rgba[i] + 0.587 * p.Rgba[i + 1] + 0.114 * p.Rgba[i + 2];
    }
}
