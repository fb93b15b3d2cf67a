using ConvGL.App.Cli;
using ConvGL.App.Glfw;
using ConvGL.App.Live;
using ConvGL.App.Live.Views;
using ConvGL.Core;

namespace ConvGL.App.Tests;

/// <summary>The live window's pieces that need no display: what the controls do to the view state, the views'
/// mapping of a window position to a tensor position, the view table the keys and help come from, and the HUD's
/// pure text builders.</summary>
public sealed class LiveStructureTests
{
    [Fact]
    public void ViewState_LayerClampsChannelWraps_AndNewPipelineResets()
    {
        var s = new ViewState { Layer = 1, Enlarged = 3 };
        s.HudDirty = s.Dirty = false;
        s.SelectLayer(+5, 3);
        Assert.Equal(2, s.Layer);
        Assert.Equal(-1, s.Enlarged); // a new layer shows its whole grid
        Assert.True(s.Dirty && s.HudDirty);
        s.SelectLayer(-9, 3);
        Assert.Equal(0, s.Layer);

        s.SelectChannel(-1, 4); // wraps backwards: 0 -> 3
        Assert.Equal(3, s.Channel);
        Assert.Equal(3, s.PinChannel); // a pinned probe follows the channel
        s.SelectChannel(+2, 4);
        Assert.Equal(1, s.Channel);
        // A channel kept from a layer with more maps (12, on a layer of 8, shown as its last, 7) steps from the one shown.
        s.Channel = 12;
        s.SelectChannel(+1, 8);
        Assert.Equal(0, s.Channel);
        s.Channel = 12;
        s.SelectChannel(-1, 8);
        Assert.Equal(6, s.Channel);
        // f / s from a filter or stack that is not in their list go to its first (or, backwards, its last).
        Assert.Equal([0, 4, 3, 0], new[] { LivePipelines.Step(-1, +1, 5), LivePipelines.Step(-1, -1, 5), LivePipelines.Step(4, -1, 5), LivePipelines.Step(4, +1, 5) });

        s.Enlarged = 2;
        s.Pin(35, 5, 0);
        s.NewPipeline(4);
        Assert.Equal((4, 0, -1), (s.Layer, s.Channel, s.Enlarged));
        Assert.True(s.Pinned); // another filter: the pin stays (maps of the source's size)
        s.NewPipeline(2, unpin: true);
        Assert.False(s.Pinned); // another stack: a map coordinate names another place there
    }

    [Fact]
    public void ViewState_TabCyclesEveryViewInOrder_BothWays()
    {
        var s = new ViewState();
        int n = Enum.GetValues<ViewKind>().Length;
        var seen = new List<ViewKind>();
        for (int i = 0; i < n; i++)
        {
            seen.Add(s.View);
            s.CycleView(+1);
        }
        Assert.Equal(Enum.GetValues<ViewKind>(), seen);
        Assert.Equal(ViewKind.Output, s.View); // back to the first after n steps
        s.CycleView(-1);
        Assert.Equal(Enum.GetValues<ViewKind>()[^1], s.View);
        s.Enlarged = 1;
        s.SetView(ViewKind.Grid);
        Assert.Equal(-1, s.Enlarged);
    }

    [Fact]
    public void ViewState_KInTheFiltersView_HidesAndShowsTheHandMadeBank()
    {
        var s = new ViewState();
        Assert.True(s.DesignedBank);
        s.SetView(ViewKind.Filters); // from another view: only the view changes
        Assert.Equal((ViewKind.Filters, true), (s.View, s.DesignedBank));
        s.SetView(ViewKind.Filters); // k again
        Assert.Equal((ViewKind.Filters, false), (s.View, s.DesignedBank));
        s.SetView(ViewKind.Grid);
        s.SetView(ViewKind.Filters);
        Assert.False(s.DesignedBank); // kept while other views show
        s.SetView(ViewKind.Filters);
        Assert.True(s.DesignedBank);
    }

    [Fact]
    public void ViewState_APinSaysWhichBankItIsOn()
    {
        var s = new ViewState();
        s.Pin(3, 4, 5, designed: true);
        Assert.Equal((true, true, 3, 4, 5), (s.Pinned, s.PinDesigned, s.PinX, s.PinY, s.PinChannel));
        s.Pinned = false;
        s.Pin(6, 7, 1);
        Assert.Equal((true, false, 6, 7, 1), (s.Pinned, s.PinDesigned, s.PinX, s.PinY, s.PinChannel));
        Assert.Equal(new ProbePoint(10, 20, true), Parsers.ProbePoint("designed:10,20"));
        Assert.Equal(new ProbePoint(10, 20), Parsers.ProbePoint("10,20"));
        Assert.Equal("expects designed:X,Y in the hand-made bank's maps, e.g. designed:100,80, got 'designed:10'",
            Assert.Throws<ConvGLException>(() => Parsers.ProbePoint("designed:10")).Message);
    }

    [Fact]
    public void ViewState_MouseMovesRedrawTheHud_OnlyWhileNotPinned()
    {
        var s = new ViewState { HudDirty = false };
        s.MouseMoved(10, 20);
        Assert.True(s.HudDirty);
        Assert.Equal((10.0, 20.0), (s.MouseX, s.MouseY));
        s.Pin(3, 4, 1);
        s.HudDirty = false;
        s.MouseMoved(11, 21);
        Assert.False(s.HudDirty);
        Assert.Equal((true, 3, 4, 1), (s.Pinned, s.PinX, s.PinY, s.PinChannel));
    }

    [Fact]
    public void EveryViewKind_IsRegistered_WithItsOwnKey_AndTheKeysSelectIt()
    {
        Assert.Equal(Enum.GetValues<ViewKind>(), ViewCatalog.All.Select(e => e.Kind).Order());
        Assert.Equal(ViewCatalog.All.Count, ViewCatalog.All.Select(e => e.Key).Distinct().Count());
        foreach (ViewEntry e in ViewCatalog.All)
        {
            (Key key, KeyMods mods) = Controls.Parse(e.KeyName);
            Assert.Equal(e.Key, key);
            Control c = Controls.All.First(c => c.Matches(key, mods));
            Assert.Contains(e.KeyName, c.Keys);
            Assert.Contains(e.Description, c.Description);
        }
        Assert.Equal("o  l  g  w  k  t", Controls.All.Single(c => c.Description.StartsWith("view: ", StringComparison.Ordinal)).Keys);
        Assert.Contains("next / previous view: output, split, grid, profile, filters, theorem", HudText.HelpLines().Single(l => l.StartsWith("Tab", StringComparison.Ordinal)));
    }

    [Fact]
    public void MapHit_MapsAWindowPointToThePixelUnderIt()
    {
        var r = new PixelRect(100, 50, 200, 100); // a 20x10 map drawn 10x
        Assert.True(SingleMapView.MapHit(r, 100, 50, 20, 10, 2, out TensorPoint p));
        Assert.Equal(new TensorPoint(0, 0, 2), p);
        Assert.True(SingleMapView.MapHit(r, 299.9, 149.9, 20, 10, 2, out p));
        Assert.Equal(new TensorPoint(19, 9, 2), p);
        Assert.True(SingleMapView.MapHit(r, 135, 77, 20, 10, 0, out p));
        Assert.Equal(new TensorPoint(3, 2, 0), p);
        Assert.False(SingleMapView.MapHit(r, 300, 100, 20, 10, 0, out _)); // the right edge is outside
        Assert.False(SingleMapView.MapHit(r, 99, 100, 20, 10, 0, out _));
    }

    [Fact]
    public void GridCellHit_FindsTheMapAndItsPixel_AndNothingPastTheLastMap()
    {
        // 3 maps of 10x5 in a 2x2 grid drawn at 2x: cells are 20x10.
        var r = new PixelRect(0, 0, 40, 20);
        Assert.True(GridView.CellHit(r, 25, 3, 2, 2, 3, 10, 5, out TensorPoint p));
        Assert.Equal(new TensorPoint(2, 1, 1), p);
        Assert.True(GridView.CellHit(r, 19, 19, 2, 2, 3, 10, 5, out p));
        Assert.Equal(new TensorPoint(9, 4, 2), p);
        Assert.False(GridView.CellHit(r, 30, 15, 2, 2, 3, 10, 5, out _)); // the empty fourth cell
        Assert.False(GridView.CellHit(r, 41, 5, 2, 2, 3, 10, 5, out _));
    }

    [Fact]
    public void GridCell_IsWhereCellHitFindsThatMap()
    {
        // Every cell of a 3 x 2 grid drawn at (10, 20) 300 x 100: its centre hits its own map.
        var r = new PixelRect(10, 20, 300, 100);
        for (int c = 0; c < 5; c++)
        {
            PixelRect cell = GridView.Cell(r, 3, 2, c);
            Assert.Equal((100f, 50f), (cell.Width, cell.Height));
            Assert.True(GridView.CellHit(r, cell.X + cell.Width / 2, cell.Y + cell.Height / 2, 3, 2, 5, 10, 5, out var p));
            Assert.Equal(c, p.Channel);
        }
        Assert.Equal(new PixelRect(110, 70, 100, 50), GridView.Cell(r, 3, 2, 4));
    }

    [Theory]
    [InlineData(4, 100, 100, 400, 400, 2, 2)] // square maps in a square area: 2x2
    [InlineData(4, 100, 100, 800, 200, 4, 1)] // a wide area: one row
    [InlineData(4, 100, 100, 200, 800, 1, 4)] // a tall one: one column
    [InlineData(3, 160, 90, 320, 240, 2, 2)]
    [InlineData(1, 7, 3, 10, 10, 1, 1)]
    public void GridShape_MakesEachMapLargest(int c, int w, int h, float aw, float ah, int cols, int rows)
    {
        Assert.Equal((cols, rows), GridView.Shape(c, w, h, new PixelRect(0, 0, aw, ah)));
    }

    [Fact]
    public void PassText_NamesHowThePassWasTimed()
    {
        // No-break spaces keep the figure with its label and unit when the column wraps.
        Assert.Equal("pass\u00A012.3\u00A0ms (llvmpipe, glFinish)", HudText.PassText(true, 12.34, 5, 1));
        Assert.Equal("pass\u00A01.750\u00A0ms\u00A0GPU", HudText.PassText(false, 0, 0.5, 1.25));
        Assert.Equal(["pass\u00A012.3\u00A0ms", "  (llvmpipe,", "  glFinish)"], HudText.Wrap([HudText.PassText(true, 12.34, 5, 1)], 13));
        Assert.Equal("pass: timing...", HudText.PassText(false, 0, null, 3));
        // A still picture's one run says it is the first (its programs built in it), not a frame's cost.
        Assert.Equal("first\u00A0pass\u00A0740.1\u00A0ms (llvmpipe, glFinish)", HudText.PassText(true, 740.1, null, 0, first: true));
        Assert.Equal("ConvGL  94 fps  first\u00A0pass\u00A0740.1\u00A0ms", HudText.ShortStatus("ConvGL  94 fps  first\u00A0pass\u00A0740.1\u00A0ms (llvmpipe, glFinish)  vsync on"));
    }

    [Fact]
    public void LayerLine_MarksSelectionKeyStateAndTime()
    {
        Assert.Equal(">1 [x] conv 3x3  0.250 ms", HudText.LayerLine(0, true, true, "conv 3x3", 0.25));
        Assert.Equal(" 9 [ ] relu", HudText.LayerLine(8, false, false, "relu", 0));
        Assert.Equal(" 10 [x] pool", HudText.LayerLine(9, false, true, "pool", 0)); // no key, but --layer's number
        Assert.Equal(">  7 [x] relu", HudText.LayerLine(6, true, true, "relu", 0, digits: 3)); // aligned with layer 100 and up
        Assert.True(HudText.IsLayerLine(">  7 [x] relu") && HudText.IsLayerLine(" 52 [ ] Convolution277"));
    }

    [Fact]
    public void Fit_CutsLongLabelsWithATilde_AndKeepsShortOnes()
    {
        Assert.Equal("3 sobel-x", HudText.Fit("3 sobel-x", 9));
        Assert.Equal("3 sobel~", HudText.Fit("3 sobel-x", 8));
        Assert.Equal("~", HudText.Fit("abc", 0));
        Assert.Equal(12, HudText.CharsIn(100, 8));
    }

    [Fact]
    public void ErrorLines_TheErrorFirst_ThenWhatToDo_TheFirstEightLines()
    {
        List<string> lines = HudText.ErrorLines(string.Join('\n', Enumerable.Range(1, 12).Select(i => $"line {i}")));
        Assert.Equal("error: line 1", lines[0]);
        Assert.Equal(Enumerable.Range(2, 7).Select(i => $"line {i}"), lines[1..8]);
        Assert.Equal("(the last good version keeps running; fix the file: it reloads by itself)", lines[8]);
        Assert.Equal(9, lines.Count);
        // A run's error (a dropped picture its stack does not fit) is no file's to fix (it said "fix the file").
        Assert.Equal("(the run stopped here; it clears when a run succeeds: another source, --source-max, or another layer set)",
            HudText.ErrorLines("stack 'p' does not fit a 120x90 input", ErrorKind.Run)[^1]);
        // A source's (a raw stream that ended): neither --source-max nor a layer set brings it back.
        Assert.Equal("(the last frame stays; drop a picture or video on the window, or start again with another --source)",
            HudText.ErrorLines("video a.mjpeg: the stream ended and cannot be rewound to loop", ErrorKind.Source)[^1]);
    }

    [Fact]
    public void ProbeStripLines_DependOnTheKernelOnly()
    {
        Assert.Equal(2, HudText.ProbeStripLines(false, 0, 0));
        Assert.Equal(3 + 4, HudText.ProbeStripLines(true, 3, 3));
        Assert.Equal(HudText.MaxTaps + 4 + 1, HudText.ProbeStripLines(true, 15, 15)); // plus the "showing" line
        Assert.Equal(1 + 4 + 1, HudText.ProbeStripLines(true, 1, 9));
    }

    [Fact]
    public void HelpLines_ListEveryControl()
    {
        List<string> help = HudText.HelpLines();
        Assert.Equal("ConvGL controls", help[0]);
        foreach (Control c in Controls.All) Assert.Contains(help, l => l.StartsWith(c.Keys, StringComparison.Ordinal) && l.EndsWith(c.Description, StringComparison.Ordinal));
    }

    [Fact]
    public void HelpLines_WrappedToANarrowWindow_FitAndContinueUnderTheDescription()
    {
        // 960 px at the HUD's 7.2 px cells leaves ~129 characters; 80 forces the long view-keys line to wrap.
        string indent = new(' ', HudText.HelpDescriptionColumn);
        List<string> help = HudText.HelpLines();
        List<string> wrapped = HudText.Wrap(help, 80, indent);
        Assert.All(wrapped, l => Assert.True(l.Length <= 80, l));
        Assert.True(wrapped.Count > help.Count);
        Assert.All(wrapped.Where(l => !help.Contains(l) && l.StartsWith(' ')), l => Assert.StartsWith(indent, l, StringComparison.Ordinal));
        Assert.Equal(string.Concat(help.Select(l => l.Replace(" ", "", StringComparison.Ordinal))),
            string.Concat(wrapped.Select(l => l.Replace(" ", "", StringComparison.Ordinal))));
        Assert.Equal(HudText.HelpDescriptionColumn, help[1].IndexOf(Controls.All[0].Description, StringComparison.Ordinal));
    }

    [Fact]
    public void Wrap_WithALongIndentInATinyPanel_Ends()
    {
        // A 160 px window leaves ~18 characters; the help's 17-space indent must not make a continuation that breaks
        // inside its own indent forever (the soak's 160x120 window hung on exactly that).
        List<string> wrapped = HudText.Wrap(HudText.HelpLines(), 18, new string(' ', HudText.HelpDescriptionColumn));
        Assert.All(wrapped, l => Assert.True(l.Length <= HudText.HelpDescriptionColumn + 8, l));
        Assert.Equal(string.Concat(HudText.HelpLines().Select(l => l.Replace(" ", "", StringComparison.Ordinal))),
            string.Concat(wrapped.Select(l => l.Replace(" ", "", StringComparison.Ordinal))));
    }

    [Fact]
    public void ChooseSide_NarrowsTheColumn_WhileThePictureGrows_AndItsTextStillFits()
    {
        // A 960x600 window, a 54 px probe strip, a 16:9 picture, a column whose text wants 364 px and wraps to
        // (40000 / width) px of height: the picture is width-bound beside the full column, so the column narrows.
        static float Tall(float w) => 40000 / w;
        float side = LiveLayout.ChooseSide(960, 600, 54, 348, 200, 640, 360, Tall);
        LiveLayout l = LiveLayout.Compute(960, 600, side, 54);
        LiveLayout full = LiveLayout.Compute(960, 600, 348, 54);
        PixelRect picture = l.Picture.Fit(640, 360), before = full.Picture.Fit(640, 360);
        Assert.True(picture.Width > before.Width * 1.15f, $"picture {picture} beside a {l.Side.Width} px column, {before} beside the full one");
        Assert.True(Tall(l.Side.Width) <= l.Side.Height, $"the column's text ({Tall(l.Side.Width)} px) no longer fits its {l.Side.Height} px");
        // Still width-bound at the narrowest column allowed: it stops there.
        Assert.Equal(200, side);

        // A 4:3 picture: the column narrows only until the picture fills the height, and no further (it wraps less).
        float side43 = LiveLayout.ChooseSide(960, 600, 54, 348, 100, 640, 480, Tall);
        LiveLayout l43 = LiveLayout.Compute(960, 600, side43, 54);
        PixelRect p43 = l43.Picture.Fit(640, 480);
        Assert.True(p43.Height >= l43.Picture.Height - 1, $"{p43} does not fill the height of {l43.Picture}");
        Assert.True(p43.Width >= l43.Picture.Width - 8 - 1, $"{p43} beside a {l43.Side.Width} px column: the column could be wider");
        Assert.True(side43 > 100);

        // A wide window: the picture is height-bound already, the column keeps the width its text wants.
        Assert.Equal(348, LiveLayout.ChooseSide(1920, 600, 54, 348, 200, 640, 360, Tall));
        // Text that only fits at full width: the column stays full.
        Assert.Equal(348, LiveLayout.ChooseSide(960, 600, 54, 348, 200, 640, 360, w => w >= 364 ? 100 : 10_000));
        // No column wanted: none.
        Assert.Equal(0, LiveLayout.ChooseSide(960, 600, 54, 0, 200, 640, 360, Tall));
    }
}
