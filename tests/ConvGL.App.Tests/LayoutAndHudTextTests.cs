using ConvGL.App.Glfw;
using ConvGL.App.Live;
using ConvGL.Core;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;

namespace ConvGL.App.Tests;

/// <summary>The window's pure parts: frame statistics, the HUD's text (the kernel as applied), the layout (the picture
/// never under a panel), the maps' names and the start-up size.</summary>
public sealed class LayoutAndHudTextTests
{
    [Fact]
    public void ColumnLayout_MeasuresWhatMayChangeAtItsWidest()
    {
        // A conv layer's tag as the literal Winograd program's, which may replace it when built; a tagless or short tag
        // as "[not run]", which a layer the view does not need shows; time figures wide. Fused suffixes, longer names,
        // other bracketed text and lines that are not layer lines are kept as they are.
        string nr = "[not\u00A0run]";
        Assert.Equal(
            ["ConvGL  888.8 fps  render\u00A0thread\u00A0888.8\u00A0ms  pass 888.8 ms",
             ">1 [x] edges: conv 3x3 1->4 reflect s1 d1 [conv2d_literal_winograd] -> (4, 180, 320)",
             " 2 [x] conv 5x5 4->8 [conv2d_literal_winograd+relu] -> (8, 90, 160)  888.8 ms",
             " 3 [x] maxpool 2x2 s2 [pool2d_fast] -> (8, 45, 80)",
             " 4 [ ] magnitude " + nr + " -> (4, 45, 80)",
             " 5 [x] add " + nr + " -> (4, 45, 80)",
             " 6 [x] pad [1, 1, 1, 1] zero " + nr + " -> (4, 47, 82)",
             "layer 1: output (4, 180, 320), channel 0 sobel-x"],
            HudText.ForLayout([
                "ConvGL  12 fps  render\u00A0thread\u00A08.1\u00A0ms  pass 0.8 ms",
                ">1 [x] edges: conv 3x3 1->4 reflect s1 d1 [conv2d_dense] -> (4, 180, 320)",
                " 2 [x] conv 5x5 4->8 [conv2d_depthwise+relu] -> (8, 90, 160)  1.250 ms",
                " 3 [x] maxpool 2x2 s2 [pool2d_fast] -> (8, 45, 80)",
                " 4 [ ] magnitude -> (4, 45, 80)",
                " 5 [x] add [add] -> (4, 45, 80)",
                " 6 [x] pad [1, 1, 1, 1] zero -> (4, 47, 82)",
                "layer 1: output (4, 180, 320), channel 0 sobel-x"]));
    }

    /// <summary>--stats says which steady frames allocated (the first 8 that did), so a run that should allocate nothing
    /// points at the frame: frames that allocated nothing are counted but not listed.</summary>
    [Fact]
    public void FrameStats_SteadyFrames_SumTheBytes_AndListTheFirstEightThatAllocated()
    {
        var s = new FrameStats();
        s.SteadyFrame(4, 0);
        s.SteadyFrame(5, 24_624);
        s.SteadyFrame(6, 0);
        for (int f = 7; f < 20; f++) s.SteadyFrame(f, f);
        Assert.Equal(16, s.SteadyFrames);
        Assert.Equal(24_624 + Enumerable.Range(7, 13).Sum(), s.SteadyBytes);
        Assert.Equal([(5, 24_624L), (7, 7L), (8, 8L), (9, 9L), (10, 10L), (11, 11L), (12, 12L), (13, 13L)], s.AllocatingFrames);
    }

    [Fact]
    public void FrameStats_HasNoRateUntilARealIntervalPassed_ThenFramesOverThatInterval()
    {
        var s = new FrameStats();
        Assert.Equal("fps: measuring", s.FpsText);
        s.FrameDone(10.0, 3430); // the first frame starts the clock (start-up is not a frame)
        Assert.Null(s.Fps);
        Assert.Equal("fps: measuring", s.FpsText);
        s.FrameDone(13.43, 3430); // one slow frame: 1 frame in 3.43 s
        Assert.Equal(1 / 3.43, s.Fps!.Value, 9);
        Assert.Equal("0.3 fps", s.FpsText);
        Assert.Equal(3430, s.FrameMs);
        // Fast frames: 30 frames over 0.5 s = 60 fps, and nothing until the interval is full.
        for (int i = 1; i < 30; i++) s.FrameDone(13.43 + i / 60.0, 16);
        Assert.Equal(1 / 3.43, s.Fps!.Value, 9);
        s.FrameDone(13.43 + 0.5, 16);
        Assert.Equal(60, s.Fps!.Value, 6);
        Assert.Equal("60 fps", s.FpsText);
        Assert.Equal(32, s.Frames);
    }

    private static readonly Tensor Asymmetric = new([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);

    [Fact]
    public void KernelLines_ShowTheKernelAsApplied_RotatedUnderConvolve()
    {
        List<string> correlate = HudText.KernelLines(new ConvView(Asymmetric, null, new ConvOptions()), 0);
        Assert.Equal("kernel 3x3 as applied, out 0, in 0 of 1", correlate[0]);
        Assert.Equal(["      1      2      3", "      4      5      6", "      7      8      9"], correlate[1..]);
        List<string> convolve = HudText.KernelLines(new ConvView(Asymmetric, null, new ConvOptions { Mode = ConvMode.Convolve }), 0);
        Assert.Equal("kernel 3x3 as applied (convolve: rotated 180), out 0, in 0 of 1", convolve[0]);
        Assert.Equal(["      9      8      7", "      6      5      4", "      3      2      1"], convolve[1..]);
    }

    [Fact]
    public void KernelLines_SmallTaps_ShowInAPowerOfTen_AndNoMinusZero()
    {
        // ResNet18's first layer has taps of ~0.001-0.01: at 3 decimals most would read 0 or -0. The largest here is
        // 0.009123, so the panel shows thousandths: 9.123, -0.4 (-0.0004), 1.2, 0, every tap with the decimals of the
        // most precise one, so the columns line up.
        var small = new Tensor([1, 1, 2, 2], [0.009123f, -0.0004f, 0.0012f, 0f]);
        List<string> lines = HudText.KernelLines(new ConvView(small, null, new ConvOptions()), 0);
        Assert.Equal("kernel 2x2 as applied, out 0, in 0 of 1 (x 1e-3)", lines[0]);
        Assert.Equal(["  9.123 -0.400", "  1.200  0.000"], lines[1..]);
        // At 0.1 and above the taps show as they are; a tap that rounds to zero shows as 0, not -0.
        var plain = new Tensor([1, 1, 1, 3], [0.25f, -0.0001f, -1.5f]);
        Assert.Equal(["   0.25   0.00  -1.50"], HudText.KernelLines(new ConvView(plain, null, new ConvOptions()), 0)[1..]);
        Assert.Equal(2, HudText.TapDecimals([0.25f, -0.0001f, -1.5f], 0));
        Assert.Equal(0, HudText.TapDecimals([-1f, 0f, 2f], 0)); // a Sobel stays whole numbers
        Assert.Equal(3, HudText.TapDecimals([0.5f, 0.12345f], 0));
        Assert.Equal("kernel 1x3 as applied, out 0, in 0 of 1", HudText.KernelLines(new ConvView(plain, null, new ConvOptions()), 0)[0]);
        // The choice: the largest finite |tap|; all zero or any tap >= 0.1 keeps them as they are.
        Assert.Equal(-3, HudText.TapExponent([0.009f, -0.0004f]));
        Assert.Equal(-2, HudText.TapExponent([-0.05f, 0.01f]));
        Assert.Equal(-3, HudText.TapExponent([float.NaN, 0.003f, float.NegativeInfinity]));
        Assert.Equal(0, HudText.TapExponent([0f, 0f]));
        Assert.Equal(0, HudText.TapExponent([0.1f, 0.0001f]));
        Assert.Equal(-2, HudText.TapExponent([0.0999f])); // shown as 9.99
        Assert.Equal("   -9.5", HudText.Tap(-0.0095f, -3));
        Assert.Equal("    NaN", HudText.Tap(float.NaN, -3));
    }

    [Fact]
    public void KernelLines_DrawDilationAsGaps_AndNameTheStride()
    {
        var o = new ConvOptions { StrideY = 2, StrideX = 2, DilationY = 2, DilationX = 2 };
        List<string> lines = HudText.KernelLines(new ConvView(Asymmetric, null, o), 0);
        Assert.Equal("stride 2x2, dilation 2x2: . = input pixel skipped", lines[1]);
        // 3 taps 2 apart span 5 input pixels: tap, skipped, tap, skipped, tap; a row of dots between tap rows.
        Assert.Equal(["      1      .      2      .      3", "      .      .      .      .      .", "      4      .      5      .      6",
            "      .      .      .      .      .", "      7      .      8      .      9"], lines[2..]);
        // Too wide to draw with gaps: the taps, and how far apart they are.
        var wide = new ConvOptions { DilationY = 4, DilationX = 4 };
        List<string> far = HudText.KernelLines(new ConvView(new Tensor([1, 1, 5, 5]), null, wide), 0);
        Assert.Equal("stride 1x1, dilation 4x4: taps 4 rows and 4 columns apart", far[1]);
        Assert.Equal(5, far.Count - 2);
        // A dilation along one axis names that axis only (a window review read "taps 1 rows, 2 columns apart").
        Assert.Equal("stride 2x1, dilation 1x4: taps 4 columns apart", HudText.KernelLines(new ConvView(new Tensor([1, 1, 3, 5]), null, new ConvOptions { StrideY = 2, DilationX = 4 }), 0)[1]);
        Assert.Equal("2 rows", HudText.TapSpacing(2, 1));
    }

    [Fact]
    public void KernelLines_ShowTheCentreOfALargeKernel_ForTheChosenChannels()
    {
        var w = new Tensor([2, 2, 15, 15]);
        for (int i = 0; i < w.Length; i++) w.Data[i] = i;
        List<string> lines = HudText.KernelLines(new ConvView(w, null, new ConvOptions()), 1, 1);
        Assert.Equal("kernel 15x15 as applied, out 1, in 1 of 2, showing its centre 7x7", lines[0]);
        Assert.Equal(8, lines.Count);
        // Row 4, column 4 of out 1, in 1: ((1*2+1)*15+4)*15+4 = 739.
        Assert.StartsWith("    739", lines[1]);
    }

    [Fact]
    public void KernelLines_WithRoomForMoreRows_ShowAsManyColumns_AsTheWidthHolds()
    {
        var w = new Tensor([1, 1, 9, 9]);
        for (int i = 0; i < w.Length; i++) w.Data[i] = i;
        // The newcomer audit: a 9x9 Gaussian in a 729 px column showed its centre 9x7.
        List<string> lines = HudText.KernelLines(new ConvView(w, null, new ConvOptions()), 0, maxChars: 100, maxRows: 15);
        Assert.Equal("kernel 9x9 as applied, out 0, in 0 of 1", lines[0]);
        Assert.Equal(10, lines.Count);
        Assert.Equal(string.Concat(Enumerable.Range(0, 9).Select(v => $"{v,7}")), lines[1]);
        // 60 characters hold 8 columns: the centre 7 (parity kept).
        Assert.Equal("kernel 9x9 as applied, out 0, in 0 of 1, showing its centre 9x7", HudText.KernelLines(new ConvView(w, null, new ConvOptions()), 0, maxChars: 60, maxRows: 15)[0]);
    }

    [Fact]
    public void KernelLines_InANarrowPanel_ShowTheCentreColumnsThatFit()
    {
        var w = new Tensor([1, 1, 15, 15]);
        for (int i = 0; i < w.Length; i++) w.Data[i] = i;
        // 47 characters hold 6 columns of 7; 5 keep the centre tap (column 7) in the middle: columns 5..9.
        List<string> lines = HudText.KernelLines(new ConvView(w, null, new ConvOptions()), 0, maxChars: 47);
        Assert.Equal("kernel 15x15 as applied, out 0, in 0 of 1, showing its centre 7x5", lines[0]);
        Assert.Equal(8, lines.Count);
        Assert.All(lines.Skip(1), l => Assert.True(l.Length <= 47, l));
        // Row 4 (the first shown), columns 5..9: 4 * 15 + 5 = 65 .. 69.
        Assert.Equal("     65     66     67     68     69", lines[1]);
        // A 3x3 kernel fits whole, with no "centre" note; an even kernel keeps its parity (4 wide, room for 3: 2).
        Assert.Equal("kernel 3x3 as applied, out 0, in 0 of 1", HudText.KernelLines(new ConvView(Asymmetric, null, new ConvOptions()), 0, maxChars: 21)[0]);
        var even = new Tensor([1, 1, 4, 4]);
        List<string> cut = HudText.KernelLines(new ConvView(even, null, new ConvOptions()), 0, maxChars: 21);
        Assert.Equal("kernel 4x4 as applied, out 0, in 0 of 1, showing its centre 4x2", cut[0]);
        // With dilation the gaps count: 3 taps 2 apart need 35 characters. In 30 the spread would show 1 tap (the
        // centre column: a Sobel's is all zeros), so the taps go without their gaps, the spacing said in words.
        var dilated = new ConvOptions { DilationY = 2, DilationX = 2 };
        List<string> gaps = HudText.KernelLines(new ConvView(Asymmetric, null, dilated), 0, maxChars: 30);
        Assert.Equal(["kernel 3x3 as applied, out 0, in 0 of 1", "stride 1x1, dilation 2x2: taps 2 rows and 2 columns apart",
                      "      1      2      3", "      4      5      6", "      7      8      9"], gaps);
        // In 35 they fit spread: the gaps drawn.
        List<string> spread = HudText.KernelLines(new ConvView(Asymmetric, null, dilated), 0, maxChars: 35);
        Assert.Equal("      1      .      2      .      3", spread[2]);
    }

    [Fact]
    public void Wrap_KeepsEveryLineWithinTheWidth_AndLosesNoText()
    {
        string[] lines = ["short", "gabor:theta=0,sigma=2.5,lambda=5,gamma=0.5,size=15, gabor:theta=22.5,sigma=2.5 reflect s1 d1 -> (8, 360, 640)", new string('x', 50)];
        List<string> wrapped = HudText.Wrap(lines, 30);
        Assert.All(wrapped, l => Assert.True(l.Length <= 30, l));
        Assert.Equal(string.Concat(lines).Replace(" ", ""), string.Concat(wrapped).Replace(" ", ""));
        Assert.Equal("short", wrapped[0]);
        // A word that fits a continuation line is not cut: "[conv2d_literal_wi" / "nograd]" read as two words.
        string layer = ">1 [x] conv [conv2d_literal_winograd] -> (4, 360, 640), direct";
        List<string> column = HudText.Wrap([layer], 34);
        Assert.All(column, l => Assert.True(l.Length <= 34, l));
        Assert.All(layer.Split(' '), w => Assert.Contains(column, l => l.Split(' ').Contains(w)));
        Assert.True(column.Any(l => l.Contains("[conv2d_literal_winograd]", StringComparison.Ordinal)), string.Join(" | ", column));
        // Fields three spaces apart break between fields: "view:" stays with "output".
        Assert.Equal(["source: scene 640x360", "  view: output   h: help"], HudText.Wrap(["source: scene 640x360   view: output   h: help"], 34));
        // A word longer than the line breaks after a comma or colon in the line's second half, not mid-name:
        // "gabor:t" / "heta=0,..." read as two words.
        Assert.Equal(["channel 0 gabor:theta=0,", "  sigma=2.5,lambda=5,", "  gamma=0.5,size=15"],
                     HudText.Wrap(["channel 0 gabor:theta=0,sigma=2.5,lambda=5,gamma=0.5,size=15"], 26));
        Assert.Equal(["abcdefghijklmnopqrst", "  uvwxyz"], HudText.Wrap(["abcdefghijklmnopqrstuvwxyz"], 20)); // none: at the limit
        // A path breaks after a slash ("ed" / "ges.json" before).
        Assert.Equal(["/work/main/assets/", "  stacks/edges.json"], HudText.Wrap(["/work/main/assets/stacks/edges.json"], 20));
    }

    /// <summary>A window review: in a 95 px column lines broke inside tokens ("[conv2d_l" / "iteral_winograd] ->") and at
    /// 200x150 inside a number ("pass 27." / "4 ms"). At every width a number shorter than a line stays whole, and a
    /// shader's name longer than a line breaks after an underscore or before its bracket.</summary>
    [Fact]
    public void Wrap_NeverSplitsANumber_AndBreaksLongNamesAtUnderscores()
    {
        string[] lines =
        [
            "ConvGL  fps: 45  pass 27.4 ms  render 3.25 ms  vsync on",
            ">5 [x] conv [conv2d_literal_winograd] -> (16, 180, 320), direct 12.75 ms",
            "[conv2d_depthwise] 3x3 reflect s1 d1 -> (3, 1080, 1920) 1234.5678",
        ];
        for (int width = 12; width <= 40; width++)
            foreach (string line in lines)
            {
                List<string> wrapped = HudText.Wrap([line], width);
                Assert.Equal(line.Replace(" ", ""), string.Concat(wrapped).Replace(" ", ""));
                Assert.All(wrapped, l => Assert.True(l.Length <= width, l));
                for (int i = 0; i + 1 < wrapped.Count; i++)
                {
                    string end = wrapped[i].Split(' ')[^1], start = wrapped[i + 1].TrimStart().Split(' ')[0];
                    if (System.Text.RegularExpressions.Regex.Replace(line, " +", " ").Contains(end + " " + start, StringComparison.Ordinal)) continue; // at a space
                    // Inside a token: never between two digits, only after _ , : ; / = or before a bracket.
                    Assert.False(char.IsAsciiDigit(end[^1]) || char.IsAsciiDigit(start[0]), $"width {width}: '{wrapped[i]}' / '{wrapped[i + 1]}'");
                    Assert.True("_,:;/=".Contains(end[^1]) || start[0] is '[' or '(', $"width {width}: '{wrapped[i]}' / '{wrapped[i + 1]}'");
                }
            }
        Assert.Equal(["x [conv2d_", "  literal_", "  winograd]"], HudText.Wrap(["x [conv2d_literal_winograd]"], 12));
    }

    [Theory]
    [InlineData(1024, 640, 420, 190)]
    [InlineData(320, 240, 420, 190)]
    [InlineData(1920, 1080, 0, 40)]
    [InlineData(800, 600, 300, 0)]
    public void Layout_PanelsBesideAndBelow_NeverOverThePicture(float w, float h, float side, float bottom)
    {
        LiveLayout l = LiveLayout.Compute(w, h, side, bottom);
        Assert.True(l.Picture.Width >= w * 0.62f - 1 && l.Picture.Height >= h * 0.6f - 1, $"{l}");
        // The three areas tile the window without overlapping: picture and column side by side, the strip below both.
        Assert.Equal(w, l.Picture.Width + l.Side.Width, 3);
        Assert.Equal(h, l.Picture.Height + l.Bottom.Height, 3);
        Assert.Equal(w, l.Bottom.Width, 3);
        Assert.Equal(l.Picture.Height, l.Side.Height, 3);
        Assert.True(l.Side.X >= l.Picture.X + l.Picture.Width && l.Bottom.Y >= l.Picture.Y + l.Picture.Height && l.Bottom.Y >= l.Side.Y + l.Side.Height, $"{l}");
        if (side == 0) Assert.Equal(0, l.Side.Width);
        if (bottom == 0) Assert.Equal(0, l.Bottom.Height);
        if (side > 0 && side + 16 <= w * 0.38f) Assert.Equal(side + 16, l.Side.Width);
    }

    /// <summary>A wide, low window's layout with the probe strip at the foot of the column: the picture takes the whole
    /// height, the column and the strip tile the right-hand side, and hugging a height-bound picture moves the strip
    /// with the column.</summary>
    [Fact]
    public void Layout_StripInColumn_TilesTheWindow_AndMovesWithTheColumn()
    {
        LiveLayout l = LiveLayout.StripInColumn(1900, 300, 708, 57);
        Assert.True(l.StripBeside);
        Assert.Equal(new PixelRect(0, 0, 1192, 300), l.Picture);
        Assert.Equal(new PixelRect(1192, 0, 708, 243), l.Side);
        Assert.Equal(new PixelRect(1192, 243, 708, 57), l.Bottom);
        // 640x360 content, height-bound: 533.3 px wide; the pair is centred, the strip under the column.
        LiveLayout h = l.Hug(_ => (640, 360));
        Assert.Equal(534, h.Picture.Width, 3);
        Assert.Equal(h.Picture.X + h.Picture.Width, h.Side.X, 3);
        Assert.Equal(h.Side.X, h.Bottom.X, 3);
        Assert.Equal(h.Side.Y + h.Side.Height, h.Bottom.Y, 3);
        Assert.False(LiveLayout.Compute(1900, 300, 692, 57).StripBeside);
    }

    [Fact]
    public void Layout_Hug_MovesTheColumnAgainstATallPicture()
    {
        // A 640x720 content (the profile view: the picture over its curve) in a 960x600 window beside a 340 px column:
        // height-bound at 600 / 720, so 533.3 px wide in a 620 px area. Hugged: the picture's rectangle is 534 px, the
        // column starts right after it, and the 86 px left over is split on both sides of the pair.
        LiveLayout l = LiveLayout.Compute(960, 600, 324, 0);
        Assert.Equal(620, l.Picture.Width, 3);
        LiveLayout h = l.Hug(_ => (640, 720));
        Assert.Equal(534, h.Picture.Width, 3);
        Assert.Equal(43, h.Picture.X, 3);
        Assert.Equal(h.Picture.X + h.Picture.Width, h.Side.X, 3);
        Assert.Equal(l.Side.Width, h.Side.Width, 3);
        Assert.Equal(l.Bottom, h.Bottom);
        PixelRect before = l.Picture.Fit(640, 720), after = h.Picture.Fit(640, 720);
        Assert.Equal(before.Width, after.Width, 3);
        Assert.Equal(before.Height, after.Height, 3);
        // A picture that fills its width, and a layout without a column, stay as they are.
        Assert.Equal(l, l.Hug(_ => (1920, 1080)));
        LiveLayout none = LiveLayout.Compute(960, 600, 0, 0);
        Assert.Equal(none, none.Hug(_ => (640, 720)));
        // A view whose arrangement depends on the rectangle (the split view: stacked in a tall area, side by side in a
        // wide one) keeps the wide area where the narrower one would draw it smaller.
        Func<PixelRect, (int, int)> flips = r => r.Width >= 600 ? (640, 720) : (1280, 360);
        Assert.Equal(l, l.Hug(flips));
    }

    [Fact]
    public void ShortStatus_KeepsTheFpsAndThePass()
    {
        string nb = HudText.Nb.ToString();
        string status = $"ConvGL  15 fps  render{nb}thread{nb}68.8{nb}ms  pass{nb}7.1{nb}ms (llvmpipe, glFinish)  vsync{nb}on  PAUSED";
        Assert.Equal($"ConvGL  15 fps  pass{nb}7.1{nb}ms  PAUSED", HudText.ShortStatus(status));
    }

    [Fact]
    public void ColourBarTitle_TwoLinesAtMost_TheRestCutWithoutGaps()
    {
        const string title = "each map viridis from its own min to max; channel 0 gabor:theta=0,sigma=2.5,lambda=5,gamma=0.5,size=15:";
        List<string> lines = HudText.ColourBarTitle(title, 46);
        Assert.Equal(["each map viridis from its own min to max;", "channel 0 gabor:theta=0,sigma=2.5,lambda=5,ga~"], lines);
        // Short titles wrap as any text does.
        Assert.Equal(["viridis from min to max: channel 3 conv1"], HudText.ColourBarTitle("viridis from min to max: channel 3 conv1", 46));
        Assert.Equal(["each map viridis from its own min to max;", "  channel 3 conv1:"],
                     HudText.ColourBarTitle("each map viridis from its own min to max; channel 3 conv1:", 46));
    }

    [Fact]
    public void MapNames_ComeFromTheStack()
    {
        Stack edges = StackCatalog.Load("edges");
        string[][] names = MapNames.For(edges, [true, true], edges.Layers.Select(l => (l as ConvLayer)?.Kernels).ToArray());
        Assert.Equal(["sobel-x", "sobel-y", "scharr-x", "scharr-y"], names[0]);
        Assert.Equal(["|sobel-x, sobel-y|", "|scharr-x, scharr-y|"], names[1]);
        // With the conv off, the magnitude pairs the gray input's... nothing: its names pass through.
        Assert.Equal(["gray"], MapNames.For(edges, [false, true], [null, null])[0]);

        Stack learned = StackCatalog.Load("learned");
        string[][] l = MapNames.For(learned, learned.Layers.Select(_ => true).ToArray(), learned.Layers.Select(_ => (IReadOnlyList<string>?)null).ToArray());
        Assert.Equal("conv1 0", l[0][0]);
        Assert.Equal("conv1 7", l[2][7]); // relu and max-pool keep their input's names
        Assert.Equal("conv2 15", l[3][15]);

        // A concat's maps keep each input's names in turn: the prelu's four (conv_a's maps, renamed by the prelu node), then conv_b's two (copy_b, a Pad of zeros, is no layer).
        Stack branchy = Core.Onnx.OnnxStack.FromGraph(ConvGL.Core.Tests.Onnx.BranchyGraphs.MobileLike(), "branchy");
        string[][] b = MapNames.For(branchy, branchy.Layers.Select(_ => true).ToArray(), branchy.Layers.Select(_ => (IReadOnlyList<string>?)null).ToArray());
        Assert.Equal("concat", branchy.Layers[8].Type);
        Assert.Equal(["prelu_a 0", "prelu_a 1", "prelu_a 2", "prelu_a 3", "conv_b 0", "conv_b 1"], b[8]);

        // Slices of rows or columns name what they take as Python's index: Focus's phases joined are R, G, B of each.
        Stack focus = Core.Onnx.OnnxStack.FromGraph(ConvGL.Core.Tests.Onnx.BranchyGraphs.Focus(), "focus", until: ["focus_cat"]);
        string[][] f = MapNames.For(focus, focus.Layers.Select(_ => true).ToArray(), focus.Layers.Select(_ => (IReadOnlyList<string>?)null).ToArray());
        Assert.Equal(["R [::2, ::2]", "G [::2, ::2]", "B [::2, ::2]", "R [1::2, ::2]"], f[4][..4]);
        Assert.Equal("B [1::2, 1::2]", f[4][11]);

        // A difference of Gaussians names both maps; a map less its per-channel mean names the mean's channel.
        Stack dog = StackFile.Parse("""
            { "name": "dog", "input": "rgb", "layers": [
              { "type": "conv", "name": "fine", "kernels": ["gaussian:3"] },
              { "type": "conv", "name": "coarse", "inputs": ["input"], "kernels": ["gaussian:9"] },
              { "type": "sub", "inputs": ["fine", "coarse"] },
              { "type": "globalavgpool", "name": "mean", "inputs": ["input"] },
              { "type": "div", "inputs": ["input", "mean"] }
            ] }
            """, "dog.json");
        string[][] d = MapNames.For(dog, dog.Layers.Select(_ => true).ToArray(), dog.Layers.Select(l => (l as ConvLayer)?.Kernels).ToArray());
        Assert.Equal(["gaussian:3 of R - gaussian:9 of R", "gaussian:3 of G - gaussian:9 of G", "gaussian:3 of B - gaussian:9 of B"], d[2]);
        Assert.Equal(["mean of R", "mean of G", "mean of B"], d[3]);
        Assert.Equal(["R / mean of R", "G / mean of G", "B / mean of B"], d[4]);

        // A reduction over the channels names what it reduced; a one-channel map against three pairs with each; a mul by a
        // one-channel gate (first or second) keeps the three maps' names.
        Stack pooled = StackFile.Parse("""
            { "name": "pooled", "input": "rgb", "layers": [
              { "type": "reduce_channels", "name": "top", "op": "max" },
              { "type": "max", "inputs": ["input", "top"] },
              { "type": "pow", "inputs": ["top", "input"] },
              { "type": "mul", "inputs": ["top", "input"] },
              { "type": "reduce_channels", "inputs": [3], "op": "mean" },
              { "type": "pow", "value": 2 }
            ] }
            """, "pooled.json");
        string[][] p = MapNames.For(pooled, pooled.Layers.Select(_ => true).ToArray(), pooled.Layers.Select(_ => (IReadOnlyList<string>?)null).ToArray());
        Assert.Equal(["max of R+G+B"], p[0]);
        Assert.Equal(["max(R, max of R+G+B)", "max(G, max of R+G+B)", "max(B, max of R+G+B)"], p[1]);
        Assert.Equal(["max of R+G+B ^ R", "max of R+G+B ^ G", "max of R+G+B ^ B"], p[2]);
        Assert.Equal(["R", "G", "B"], p[3]);
        Assert.Equal(["mean of R+G+B"], p[4]);
        Assert.Equal(["mean of R+G+B ^ 2"], p[5]);

        // An add's maps are its own, and what follows it keeps them (they were the first input's: "blur 0" after the add).
        Stack residual = StackFile.Parse("""
            { "name": "res", "input": "gray", "layers": [
              { "type": "conv", "name": "blur", "kernels": ["box:3"] },
              { "type": "relu", "name": "r" },
              { "type": "add", "inputs": ["r", "input"] },
              { "type": "maxpool", "size": 2 } ] }
            """, "res.json");
        string[][] r = MapNames.For(residual, [true, true, true, true], [["box:3"], null, null, null]);
        Assert.Equal(["box:3"], r[1]);
        Assert.Equal(["add3 0"], r[2]);
        Assert.Equal(["add3 0"], r[3]);

        // In an ONNX model, maps named only by a layer and a number take a named map-by-map node's own name (the pool read
        // "Plus391 0" over its ReLU's values); kernel-named maps keep theirs ("box:3" above). In a stack file the names
        // are for wiring: a learned conv's or an add's maps keep theirs through named layers (the review: "w8 0" became "r1 0").
        Stack file = StackFile.Parse("""
            { "name": "num", "input": "gray", "layers": [
              { "type": "conv", "name": "blur", "kernels": ["box:3"] },
              { "type": "add", "name": "Plus1", "inputs": ["blur", "input"] },
              { "type": "relu", "name": "ReLU2" },
              { "type": "maxpool", "size": 2 },
              { "type": "avgpool", "size": 2, "name": "Pool3" } ] }
            """, "num.json");
        Assert.Equal(["Plus1 0"], MapNames.For(file, [true, true, true, true, true], [["box:3"], null, null, null, null])[4]);
        var numbered = new Stack(file.Name, file.Input, file.Layers) { FromOnnx = true };
        string[][] n = MapNames.For(numbered, [true, true, true, true, true], [["box:3"], null, null, null, null]);
        Assert.Equal(["Plus1 0"], n[1]);
        Assert.Equal(["ReLU2 0"], n[2]);
        Assert.Equal(["ReLU2 0"], n[3]); // an unnamed layer keeps its input's names
        Assert.Equal(["Pool3 0"], n[4]);
        // A layer that is off passes its input's names through, and does not rename them.
        Assert.Equal(["Plus1 0"], MapNames.For(numbered, [true, true, false, true, true], [["box:3"], null, null, null, null])[3]);
    }

    [Theory]
    [InlineData(3, "conv2 3", "3 conv2")]                       // a learned map: the index once, first
    [InlineData(249, "Convolution249 249", "249 Convolution249")]
    [InlineData(4, "conv1 4", "4 conv1")]
    [InlineData(20, "conv_a 4", "20 conv_a 4")]                 // after a concat the name's index is another layer's: kept
    [InlineData(0, "sobel-x", "0 sobel-x")]                    // a kernel's name
    [InlineData(1, "|sobel-x, sobel-y|", "1 |sobel-x, sobel-y|")]
    [InlineData(1, "gabor 11", "1 gabor 11")]                  // ends in 11, not in " 1"
    [InlineData(2, "2", "2 2")]                                // a bare number is the whole name, not a suffix
    public void MapLabel_PutsTheIndexFirst_AndDoesNotRepeatIt(int channel, string name, string expected) =>
        Assert.Equal(expected, HudText.MapLabel(channel, name));

    [Theory]
    [InlineData(3, "Convolution249 3", 40, "3 Convolution249")]
    [InlineData(3, "Convolution249 3", 11, "3 Convolut~")]  // 8 of the name left: cut
    [InlineData(3, "Convolution249 3", 7, "3 Conv~")]       // 4 left: still cut
    [InlineData(3, "Convolution249 3", 6, "3")]             // 3 would be left: the index alone
    [InlineData(12, "gabor:theta=45", 6, "12")]
    [InlineData(12, "relu", 7, "12 relu")]                  // fits whole
    [InlineData(1234, "conv 1234", 3, "12~")]               // not even the index fits: cut as any label
    public void FitMapLabel_CutsTheName_OrKeepsTheIndexAlone(int channel, string name, int chars, string expected) =>
        Assert.Equal(expected, HudText.FitMapLabel(channel, name, chars));

    [Fact]
    public void GridLabels_AreTheIndexAlone_WhereEveryMapSharesTheLayersName()
    {
        // ResNet18's first conv: every map "Convolution28 c"; the cells read "0".."63", not "0 Convo~".
        Assert.Equal(Enumerable.Range(0, 11).Select(c => c.ToString()), HudText.GridLabels(11, c => $"Convolution28 {c}", 40));
        // A bank's kernels have names of their own: kept, cut as FitMapLabel cuts them.
        Assert.Equal(["0 sobel-x", "1 sobel-y"], HudText.GridLabels(2, c => c == 0 ? "sobel-x" : "sobel-y", 40));
        Assert.Equal(["0 sobe~", "1 sobe~"], HudText.GridLabels(2, c => c == 0 ? "sobel-x" : "sobel-y", 7));
        // One map: its name is all there is to say.
        Assert.Equal(["0 conv1"], HudText.GridLabels(1, _ => "conv1 0", 40));
        // Names that share a stem only in part are a bank's: "gabor 11" is not the 11th "gabor".
        Assert.Equal(["0 gabor", "1 gabor 11"], HudText.GridLabels(2, c => c == 0 ? "gabor 0" : "gabor 11", 40));
    }

    [Fact]
    public void GridLabels_OfABankTooLongToFit_KeepTheParametersThatDiffer()
    {
        // The Gabor bank's 8 specs differ in theta only: a narrow cell read "5 gabor:theta=11~" (112.5 cut to "11").
        string Spec(int c) => FormattableString.Invariant($"gabor:theta={c * 22.5},sigma=2.5,lambda=5,gamma=0.5,size=15");
        string[] labels = HudText.GridLabels(8, Spec, 18);
        Assert.Equal("0 theta=0", labels[0]);
        Assert.Equal("5 theta=112.5", labels[5]);
        // Where even "5 theta=112.5" is cut ("1 theta=2~" in the filters view's narrow cells): the values alone, where
        // they all fit; where they do not either, the cut field as before.
        Assert.Equal(["0 0", "1 22.5", "2 45", "3 67.5", "4 90", "5 112.5", "6 135", "7 157.5"], HudText.GridLabels(8, Spec, 10));
        Assert.Equal("1", HudText.GridLabels(8, Spec, 6)[1]); // "7 157.5" would not fit: as before (the index alone)
        Assert.Equal("5 gabor:theta=112.5,~", HudText.GridLabels(8, c => c == 0 ? "sobel-x" : Spec(c), 21)[5]);
        // Two parameters differ: the values alone would not say which is which, so the fields are cut as before.
        Assert.Equal("1 sigma=2,s~", HudText.GridLabels(2, c => c == 0 ? "gaussian:sigma=1,size=5" : "gaussian:sigma=2,size=9", 12)[1]);
        // Where the whole spec fits, it is kept.
        Assert.Equal("5 " + Spec(5), HudText.GridLabels(8, Spec, 60)[5]);
        // Two parameters differ: both, in the spec's order.
        Assert.Equal(["sigma=1,size=5", "sigma=2,size=9"], HudText.DistinctFields(["gaussian:sigma=1,size=5", "gaussian:sigma=2,size=9"])!);
        // Not one kind with named parameters: null (the names are cut as before).
        Assert.Null(HudText.DistinctFields(["sobel-x", "sobel-y"]));
        Assert.Null(HudText.DistinctFields(["gabor:theta=0", "log:sigma=1"]));
        Assert.Null(HudText.DistinctFields(["gaussian:5,1", "gaussian:7,1"]));
        Assert.Null(HudText.DistinctFields(["gabor:theta=0", "gabor:theta=0"]));
    }

    [Theory]
    [InlineData(45f, 15f, true)]    // a label is a third of the map's height: drawn
    [InlineData(44.9f, 15f, false)]
    [InlineData(30f, 15f, false)]   // ResNet18's 512 maps in a 1280x800 window: half the map, so none
    [InlineData(390f, 15f, true)]   // one enlarged map
    public void MapLabelsFit_OnlyWhereTheyCoverAThirdOfTheMapAtMost(float cellHeight, float lineHeight, bool expected) =>
        Assert.Equal(expected, HudText.MapLabelsFit(cellHeight, lineHeight));

    [Theory]
    [InlineData(1920, 1080, 1468, 918)]
    [InlineData(3840, 2160, 1600, 1000)]
    [InlineData(1280, 1024, 1088, 680)]
    [InlineData(800, 480, 652, 408)]
    [InlineData(320, 240, 320, 240)]
    public void StartSize_FitsTheMonitor(int mw, int mh, int w, int h)
    {
        Assert.Equal((w, h), GlfwWindow.FitMonitor(mw, mh));
    }

    [Theory]
    [InlineData(3840, 2160, 2f, 2936, 1836)]   // 1920x1080 units: what a plain 1920x1080 monitor opens, twice the pixels
    [InlineData(3840, 2160, 1.5f, 2400, 1500)] // 2560x1440 units: the 1600x1000 cap, in units
    [InlineData(2560, 1600, 2f, 2176, 1360)]   // 1280x800 units -> 1088x680
    [InlineData(1920, 1080, 1f, 1468, 918)]
    [InlineData(1920, 1080, float.NaN, 1468, 918)] // an unusable scale reads as 1
    public void StartSize_FitsTheMonitor_InTheDesktopsUnits(int mw, int mh, float scale, int w, int h)
    {
        Assert.Equal((w, h), GlfwWindow.FitMonitor(mw, mh, scale));
    }

    [Theory]
    [InlineData(960, 600, 12)] // the README's pictures: the base size
    [InlineData(640, 400, 10)] // 12 * sqrt(2/3) = 9.8
    [InlineData(1920, 1080, 16)] // 12 * sqrt(1.8) = 16.1: height-bound
    [InlineData(3840, 2160, 23)] // 12 * sqrt(3.6) = 22.8
    [InlineData(320, 240, 9)] // 12 * sqrt(1/3) = 6.9, kept readable
    [InlineData(10000, 10000, 24)]
    public void HudText_ScalesWithTheSquareRootOfTheWindow(int width, int height, float size)
    {
        Assert.Equal(size, Hud.SizeFor(width, height));
        // A HiDPI screen (2 framebuffer pixels a window unit): the same window, twice the pixels, text twice as many pixels.
        Assert.Equal(2 * size, Hud.SizeFor(2 * width, 2 * height, 2));
    }

    [Fact]
    public void SplitView_StacksSourceAndOutput_WhereTheyComeOutLarger()
    {
        // 640x360 maps in a 700x480 area: side by side at 0.55 (350 px wide each), one above the other at 0.67.
        Assert.True(ConvGL.App.Live.Views.SplitView.Stacked(new PixelRect(0, 0, 700, 480), 640, 360));
        // A wide, short area: side by side (0.83 against 0.42).
        Assert.False(ConvGL.App.Live.Views.SplitView.Stacked(new PixelRect(0, 0, 1600, 300), 640, 360));
        // Square maps in a square area: equal scales keep them side by side.
        Assert.False(ConvGL.App.Live.Views.SplitView.Stacked(new PixelRect(0, 0, 400, 400), 100, 100));
    }

    [Fact]
    public void CutToLines_KeepsWhatFits_AndCountsTheRest()
    {
        List<string> lines = ["a", "b", "c", "d", "e"];
        Assert.Same(lines, HudText.CutToLines(lines, 5, 40));
        Assert.Equal(["a", "b", "... 3 more lines: enlarge the window"], HudText.CutToLines(lines, 3, 40));
        Assert.Equal(["... 5 more lines"], HudText.CutToLines(lines, 0, 22));
        Assert.Equal(["... 5 more~"], HudText.CutToLines(lines, 0, 11));
    }

    [Fact]
    public void ColourBar_NamesTheMapsColours_AndItsRange()
    {
        ColourBar single = ColourBar.Of(16, 3, "conv2 3", eachOwn: false, rgb: false, -1.5f, 2.25f);
        Assert.Equal(new ColourBar("viridis from min to max: channel 3 conv2", ConvGL.Gpu.Present.ColorMap.Viridis, -1.5f, 2.25f), single);
        ColourBar grid = ColourBar.Of(4, 1, "sobel-y", eachOwn: true, rgb: false, 0, 1);
        Assert.Equal("each map viridis from its own min to max; channel 1 sobel-y:", grid.Title);
        // A filter's one map is a grey picture; three maps drawn as a colour picture share one range.
        Assert.Equal(ConvGL.Gpu.Present.ColorMap.Gray, ColourBar.Of(1, 0, "gaussian:5", false, false, 0, 1).Map);
        Assert.Equal("channels 0-2 as red, green, blue, one range:", ColourBar.Of(3, 1, "sobel-x G", false, true, -3, 3).Title);
        Assert.True(ColourBar.Of(2, 0, "x", false, false, 0.5f, 0.5f).Constant);
        Assert.Equal("viridis, one value: channel 0 x", ColourBar.Of(2, 0, "x", false, false, 0.5f, 0.5f).Title);
        // A grid of one map is not "each map".
        Assert.Equal("gray from min to max: channel 0 blur", ColourBar.Of(1, 0, "blur", eachOwn: true, rgb: false, 0, 1).Title);
        Assert.Equal(["-", "0", "3.669", "-0.0001235", "1.235e+05", "2.099e-08"],
            new[] { float.NaN, -0f, 3.6691f, -0.00012346f, 123456f, 2.0991e-8f }.Select(ColourBar.Number));
    }

    [Fact]
    public void FormulaLines_WriteTheLayersSum_WithItsOwnNumbers()
    {
        // Sobel-x as the image filters apply it: correlate, reflect, same padding (1 a side for 3 taps).
        List<string> sobel = HudText.FormulaLines(new ConvView(KernelLibrary.Get("sobel-x").Reshape(1, 1, 3, 3), null, ConvOptions.ImageFilter), 360, 640, 1);
        Assert.Equal(
        [
            "layer 1 (correlate), for o < 1, y < 360, x < 640:",
            "out[o,y,x] = sum over c < 1, i < 3, j < 3 of w[o,c,i,j] x in[c, y+i-1, x+j-1]",
            "in[] outside the 640x360 input: mirrored about the edge pixel (reflect: d c b | a b c d)",
            "hover a pixel to see this sum's numbers (click pins it)",
        ], sobel);
        // Convolve flips both kernel indices; stride 2 and dilation 2, valid (no padding): 20 rows give
        // (20 - (2*4 + 1)) / 2 + 1 = 6 outputs, 30 columns (30 - 5) / 2 + 1 = 13; two groups of 3 inputs and 2 outputs,
        // output o reading inputs 3 (o / 2) .. +2 (Conv2D's firstInput), and a bias.
        var options = new ConvOptions { Mode = ConvMode.Convolve, StrideY = 2, StrideX = 2, DilationY = 2, DilationX = 2, Padding = PaddingMode.Valid, Groups = 2 };
        List<string> grouped = HudText.FormulaLines(new ConvView(new Tensor([4, 3, 5, 3]), new float[4], options), 20, 30, 3);
        Assert.Equal("layer 3 (convolve: the kernel flipped), for o < 4, y < 6, x < 13:", grouped[0]);
        Assert.Equal("out[o,y,x] = b[o] + sum over c < 3, i < 5, j < 3 of w[o,c,4-i,2-j] x in[g+c, y*2+i*2, x*2+j*2]", grouped[1]);
        // Valid: the last windows end at row 5*2 + 2*4 = 18 < 20 and column 12*2 + 2*2 = 28 < 30, so no read falls outside
        // and the border rule is never used (it was stated anyway).
        Assert.Equal("in[] never falls outside the 30x20 input (no padding: every window lies inside); g = 3 x (o / 2), o's group's first input", grouped[2]);
        // No padding before, but the windows reach past the input's end (same_upper pads an even kernel's odd pixel
        // after): the rule is said.
        Assert.Equal("in[] outside the 8x8 input: 0",
            HudText.FormulaLines(new ConvView(new Tensor([1, 1, 2, 2]), null, new ConvOptions { Padding = PaddingMode.SameUpper }), 8, 8, 1)[2]);
        // Depthwise (a filter on each of R, G, B): input o itself, no channel sum; two outputs per input: o / 2.
        var depthwise = new ConvOptions { Groups = 3 };
        Assert.Equal("out[o,y,x] = sum over i < 3, j < 3 of w[o,0,i,j] x in[o, y+i-1, x+j-1]",
            HudText.FormulaLines(new ConvView(new Tensor([3, 1, 3, 3]), null, depthwise), 8, 8, 1)[1]);
        Assert.Equal("in[] outside the 8x8 input: 0; g = o / 2, o's group's first input",
            HudText.FormulaLines(new ConvView(new Tensor([6, 1, 3, 3]), null, depthwise), 8, 8, 1)[2]);
        // With a channel: that channel's response to a flat input, its bias plus v times its weights' sum. Sobel-x's
        // taps sum to 0 (an edge filter); weights 0.5, 0.25 x 8 and a bias of 0.1 on channel 1 of a grouped layer sum
        // to 2.5 over its 3 x 3 (grouped: 1 input) taps.
        Assert.Equal("channel 0: on a flat input, every in[] = v: out = v x 0, the sum of its 9 weights",
            HudText.FormulaLines(new ConvView(KernelLibrary.Get("sobel-x").Reshape(1, 1, 3, 3), null, ConvOptions.ImageFilter), 360, 640, 1, channel: 0)[3]);
        var w = new Tensor([2, 1, 3, 3]);
        for (int i = 9; i < 18; i++) w.Data[i] = i == 9 ? 0.5f : 0.25f;
        List<string> flat = HudText.FormulaLines(new ConvView(w, [7f, 0.1f], new ConvOptions { Groups = 2 }), 8, 8, 2, channel: 1);
        Assert.Equal("channel 1: on a flat input, every in[] = v (away from the border's zeros): out = 0.1 + v x 2.5, the sum of its 9 weights", flat[3]);
        Assert.Equal("hover a pixel to see this sum's numbers (click pins it)", flat[4]);
        Assert.Equal(4, HudText.FormulaLines(new ConvView(w, null, new ConvOptions { Groups = 2 }), 8, 8, 2, channel: 2).Count); // no such channel
        // A kernel larger than a valid input: no formula (the layer's own run says why).
        Assert.Empty(HudText.FormulaLines(new ConvView(new Tensor([1, 1, 5, 5]), null, new ConvOptions { Padding = PaddingMode.Valid }), 3, 3, 1));
    }

    [Fact]
    public void LayerFormulaLines_WritePoolsAndRelu_AsTheReferenceComputesThem()
    {
        // PyTorch's MaxPool2d(2): stride 2, no padding; 360x640 -> 180x320 (Pool2D.Apply).
        Assert.Equal(
        [
            "layer 3 (max pool, every channel apart), for c < 8, y < 180, x < 320:",
            "out[c,y,x] = max over i < 2, j < 2 of in[c, y*2+i, x*2+j]",
        ], HudText.LayerFormulaLines(new PoolLayer(PoolOptions.Square(PoolKind.Max, 2)), 8, 360, 640, 3));
        // AvgPool2d(3, stride 2, padding 1): (5 + 2 - 3) / 2 + 1 = 3 rows, (7 + 2 - 3) / 2 + 1 = 4 columns; the padding's
        // zeros are counted (the sum divided by 9 everywhere, count_include_pad).
        Assert.Equal(
        [
            "layer 2 (average pool, every channel apart), for c < 4, y < 3, x < 4:",
            "out[c,y,x] = (sum over i < 3, j < 3 of in[c, y*2+i-1, x*2+j-1]) / 9",
            "in[] outside the 7x5 input: 0, counted in the average",
        ], HudText.LayerFormulaLines(new PoolLayer(PoolOptions.Square(PoolKind.Average, 3, 2, 1)), 4, 5, 7, 2));
        Assert.Equal("out[c,y,x] = max(0, in[c,y,x]): negative responses become 0, the rest pass unchanged",
            HudText.LayerFormulaLines(new ActivationLayer(ActivationKind.Relu), 8, 10, 10, 2)[1]);
        Assert.Empty(HudText.LayerFormulaLines(new ActivationLayer(ActivationKind.Tanh), 8, 10, 10, 2));
        Assert.Empty(HudText.LayerFormulaLines(null, 1, 10, 10, 1));
        // ResNet18's imported stem pool (ONNX MaxPool 3x3, stride 2, pads [0, 0, 1, 1] as CNTK wrote it): 112 -> 56, the
        // padding after the image only (it showed the conv hint).
        var stem = new PaddedPoolOptions { Kind = PoolKind.Max, SizeY = 3, SizeX = 3, StrideY = 2, StrideX = 2, PadBottom = 1, PadRight = 1 };
        Assert.Equal(
        [
            "layer 4 (max pool, every channel apart), for c < 64, y < 56, x < 56:",
            "out[c,y,x] = max over i < 3, j < 3 of in[c, y*2+i, x*2+j]",
            "in[] outside the 112x112 input (pad 0,0,1,1): left out of the max",
        ], HudText.LayerFormulaLines(new PaddedPoolLayer(stem), 64, 112, 112, 4));
        // An average that counts only the image's taps (ONNX's default), dilated.
        var avg = new PaddedPoolOptions { Kind = PoolKind.Average, SizeY = 2, SizeX = 2, PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1, DilationY = 2, DilationX = 2 };
        Assert.Equal(
        [
            "layer 2 (average pool, every channel apart), for c < 3, y < 5, x < 5:",
            "out[c,y,x] = (sum over i < 2, j < 2 of in[c, y+i*2-1, x+j*2-1]) / the taps counted (inside the input)",
            "in[] outside the 5x5 input (pad 1,1,1,1): left out of the sum and the count",
        ], HudText.LayerFormulaLines(new PaddedPoolLayer(avg), 3, 5, 5, 2));
    }
}
