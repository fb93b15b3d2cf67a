using ConvGL.App.Live.Views;
using ConvGL.Gpu;
using SkiaSharp;

namespace ConvGL.App.Live;

/// <summary>The HUD's panels and the layout they make: any error or message, then the info and kernel panels, in a
/// column on the right, the probe in a strip below the picture, the help overlay while h is on; the picture takes
/// the rest and is never covered. Rebuilt only when the HUD is (on a change and twice a second), so a steady frame
/// reuses the layout and the uploaded texture.</summary>
internal sealed class HudPanels(GlContext context) : IDisposable
{
    private readonly Hud _hud = new(context);
    private int _width, _height;
    private List<string> _side = [], _kernel = [], _error = [], _message = [];
    // The colour bar's title while the column keeps room for the bar (its title's lines, the bar between min and max),
    // null while it does not.
    private string? _colourBarTitle;

    public Hud Hud => _hud;

    /// <summary>Where the help overlay was drawn at the last <see cref="Redraw"/> (window pixels), null while h is off.</summary>
    public PixelRect? HelpRect { get; private set; }
    public LiveLayout Layout { get; private set; } = LiveLayout.Compute(1, 1, 0, 0);

    /// <summary>What the column's panels took at the last <see cref="Redraw"/>: from the window's top to the last panel's
    /// bottom (a test checks it stays inside the column, above the probe strip, in small windows too).</summary>
    public PixelRect ColumnRect { get; private set; }

    /// <summary>Characters a line of the probe strip holds (<see cref="HudText.ProbeLines"/> fits its rows to it).</summary>
    public int ProbeChars => HudText.CharsIn(Layout.Bottom.Width - 2 * LiveLayout.Margin - 12, _hud.CharWidth);

    /// <summary>Framebuffer pixels per window unit (2 on a HiDPI screen): the text is sized for the window's units.</summary>
    public float PixelsPerUnit { get; set; } = 1;

    /// <summary>Whether the framebuffer changed size since the last layout.</summary>
    public bool SizeChanged(int width, int height) => width != _width || height != _height;

    /// <summary>The panels' text and, from its size, the layout. <paramref name="info"/> is null while the info panels
    /// are hidden (i); <paramref name="conv"/> is the selected layer's convolution, whose kernel size sets the probe
    /// strip's height (never the pointer, so the picture does not jump while the mouse moves); <paramref name="alsoProbed"/> a
    /// second conv the strip may take apart (the filters view's hand-made bank), whose rows it keeps room for too.</summary>
    public void UpdateLayout(int width, int height, IReadOnlyList<string>? info, ConvView? conv, int channel, string? error, string? message,
        Func<PixelRect, (int Width, int Height)> content, bool probeStrip = true, string? colourBarTitle = null, Func<int, int>? formulaLines = null,
        ErrorKind errorKind = ErrorKind.File, Func<int, int>? probeColumns = null, Func<int, int>? stripLines = null,
        IReadOnlyList<ConvView>? allConvs = null, IReadOnlyList<LayerInfo>? layerInfo = null, ConvView? alsoProbed = null)
    {
        _colourBarTitle = colourBarTitle;
        (_width, _height) = (width, height);
        // The text scales with the window (a small window keeps its picture, a large one readable text).
        _hud.SetSize(Hud.SizeFor(width, height, PixelsPerUnit));
        _side.Clear();
        _kernel.Clear();
        if (info is not null)
        {
            _side.AddRange(info);
            // The column is laid out for the largest kernel panel of the stack's convs (allConvs), whichever layer is
            // selected, so it keeps its width and the picture its place while [ ] step through the layers (a window
            // review: edges' conv had a 300 px column, its magnitude 268, and the probe read another pixel under a still
            // pointer). The selected layer's own panel replaces it once the layout is chosen (below).
            if (allConvs is { Count: > 0 }) _kernel = ReservedKernel(allConvs, channel);
            else if (conv is not null) _kernel = HudText.KernelLines(conv, channel);
        }
        _error = error is null ? [] : HudText.ErrorLines(error, errorKind);
        _message.Clear();
        if (message is not null) _message.Add(message);
        float side = 0;
        // The column's width and height are chosen for its lines as the layout measures them (HudText.ForLayout), the
        // selected layer's and every other layer's (layerInfo), so the picture keeps its place while [ ] step through the
        // layers, the programs built ahead land, and the figures change.
        List<(List<string> Side, string? Title)> layouts =
            [(HudText.ForLayout(_side), colourBarTitle), .. (layerInfo ?? []).Select(v => (HudText.ForLayout(v.Info), v.ColourBarTitle))];
        foreach (List<string> panel in layouts.Select(l => l.Side).Append(_kernel).Append(_error))
            if (panel.Count > 0) side = Math.Max(side, _hud.Measure(panel));
        // A passing message wraps to the column the other panels set: it must not move the picture for its 4 s (a window
        // review saw "faster programs ready (...)" narrow the picture from 798 to 775 px, and the probe read another
        // pixel under a still pointer). Alone (the panels hidden), it sets the column.
        if (side == 0 && _message.Count > 0) side = _hud.Measure(_message);
        // A pool's or relu's rule written out (formulaLines: the lines it wraps to in the strip's characters) takes its
        // lines; a conv's kernel rows reserve theirs, with the long lines wrapped as the strip wraps them.
        int stripChars = HudText.CharsIn(width - 2 * LiveLayout.Margin - 12, _hud.CharWidth);
        // stripLines, where given, is the strip's height in lines for the tallest layer of the stack: the strip keeps it
        // whichever layer is selected, so the picture does not move under a still pointer while [ ] step through them.
        int probeLines = stripLines?.Invoke(stripChars) ?? StripLinesFor(conv, formulaLines, stripChars);
        float bottom = probeStrip ? probeLines * _hud.LineHeight + 8 + LiveLayout.Margin : 0;
        // The column as wide as its longest line, or narrower (wrapping more) where that makes the picture larger.
        float narrowest = Math.Min(side, MinColumnChars * _hud.CharWidth + 12);
        // Where the layers' lines cannot all fit even at the wanted width (ResNet18's 52), they are elided anyway (below):
        // the width is then chosen for the column as it will be, a few layers around the selected one (it kept the width
        // of the longest layer line, 519 px at 1366x768, and the theorem view's maps got 190 px each).
        LiveLayout wide = LiveLayout.Compute(width, height, side, bottom);
        Func<float, float> columnHeight = OverLayouts(layouts, ColumnHeight)(wide.Side.Width) > wide.Side.Height
            ? OverLayouts(layouts, ElidedColumnHeight) : OverLayouts(layouts, ColumnHeight);
        side = LiveLayout.ChooseSide(width, height, bottom, side, narrowest, content, columnHeight);
        Layout = LiveLayout.Compute(width, height, side, bottom).Hug(content);
        Layout = StripBesideWhereLarger(Layout, width, height, conv, probeLines, stripChars, formulaLines, probeColumns, content, alsoProbed);
        Layout = ColumnBelowWhereLarger(Layout, width, height, content);
        if (conv is null) _kernel = [];
        int chars = HudText.CharsIn(Layout.Side.Width - 2 * LiveLayout.Margin - 12, _hud.CharWidth);
        // A column too narrow for the status line in two lines (a small window at a large --ui-scale) gets its short
        // form: the fps and the pass, not the render thread's time and vsync (the layers' lines need the room more).
        if (info is not null && _side.Count > 0 && HudText.Wrap([_side[0]], chars).Count > 2) _side[0] = HudText.ShortStatus(_side[0]);
        // The kernel's rows cut to the centre columns that fit, rather than wrapped (a wrapped row no longer reads as
        // one); before the layer lines are counted, so the rows it no longer takes go to them.
        if (info is not null && conv is not null)
        {
            // A big kernel's rows, as many as the column has room for beside the rest (up to MaxKernelRows); else the
            // usual MaxTaps: the layers' lines come first.
            _kernel = HudText.KernelLines(conv, channel, maxChars: chars, maxRows: MaxKernelRows);
            if (ColumnHeight(Layout.Side.Width) > Layout.Side.Height) _kernel = HudText.KernelLines(conv, channel, maxChars: chars);
        }
        // More layers than the column holds (ResNet18's 52): only those around the selected one, the rest counted.
        if (ColumnHeight(Layout.Side.Width) > Layout.Side.Height)
        {
            List<string> all = _side;
            for (int keep = all.Count(HudText.IsLayerLine) - 1; keep >= 1; keep--)
            {
                _side = HudText.ElideLayers(all, keep);
                if (ColumnHeight(Layout.Side.Width) <= Layout.Side.Height) break;
            }
        }
        // Text wider than its column wraps: nothing runs off a panel.
        _side = HudText.Wrap(_side, chars);
        _kernel = HudText.Wrap(_kernel, chars);
        _error = HudText.Wrap(_error, chars);
        _message = HudText.Wrap(_message, chars);
        // A column still taller than the window (a small window): the kernel panel goes first (the probe strip shows
        // the kernel too), then the info panel's last lines, with a line that says so: no panel runs under the probe
        // strip or off the window.
        float room = Layout.Side.Height;
        if (ColumnHeight(Layout.Side.Width) > room) _kernel.Clear();
        if (ColumnHeight(Layout.Side.Width) > room) _colourBarTitle = null;
        if (ColumnHeight(Layout.Side.Width) > room && _side.Count > 1)
        {
            float others = ColumnHeight(Layout.Side.Width) - (_side.Count * _hud.LineHeight + 8 + 6);
            _side = HudText.CutToLines(_side, (int)((room - others - 8 - 6) / _hud.LineHeight), chars);
        }
    }

    /// <summary>In a wide, low window the picture is bound by its height, and the strip under it takes that height for
    /// text that needs a fraction of the window's width (1900x300: 57 of the 300 rows). There the strip stands at the
    /// foot of the side column instead (or, with the panels hidden, in a column of its own: 38% of the width), when its
    /// rows fit the column as they are (as many kernel or window columns: a row must stay one line and whole; text that
    /// wraps to more lines there makes the strip taller), the column's panels still fit above it (a passing message left
    /// out: it must not move the picture for its 4 s) or have at least the room they have beside the strip under the
    /// picture (where they elide layer lines either way), and the picture comes out at least 10% larger in area.</summary>
    private LiveLayout StripBesideWhereLarger(LiveLayout layout, int width, int height, ConvView? conv, int probeLines, int stripChars,
        Func<int, int>? formulaLines, Func<int, int>? probeColumns, Func<PixelRect, (int Width, int Height)> content, ConvView? alsoProbed)
    {
        if (layout.Bottom.Height <= 0) return layout;
        float columnWidth = layout.Side.Width > 0 ? layout.Side.Width : MathF.Floor(width * 0.38f);
        int columnChars = HudText.CharsIn(columnWidth - 2 * LiveLayout.Margin - 12, _hud.CharWidth);
        // The selected layer's lines in the column (not the stack's tallest: a deep stack's widest rule, wrapped to the
        // column, would keep every layer's strip under the picture in a wide, low window, where it stood beside it).
        int inColumn = StripLinesFor(conv, formulaLines, columnChars);
        // (And the filters view's hand-made bank's, probed in the same strip.)
        if (alsoProbed is not null) inColumn = Math.Max(inColumn, StripLinesFor(alsoProbed, null, columnChars));
        // The idle hint (one line across the window) must not wrap past the strip's rows either. Text that wraps to more
        // lines in the column (a relu's or pool's rule written out, a conv's long sums) makes the strip there taller.
        int hint = HudText.Wrap([ProbeHint], columnChars).Count;
        int lines = Math.Max(inColumn, probeLines);
        if (hint > lines) return layout;
        if (probeColumns is not null && probeColumns(columnChars) < probeColumns(stripChars)) return layout;
        float stripHeight = lines == probeLines ? layout.Bottom.Height : lines * _hud.LineHeight + 8 + LiveLayout.Margin;
        var beside = LiveLayout.StripInColumn(width, height, columnWidth, stripHeight).Hug(content);
        // The panels must fit above the strip, or (where they already elide layer lines, as a deep stack's do in a low
        // window) have no less room than beside the strip under the picture.
        if (ColumnHeight(beside.Side.Width, withMessage: false) > beside.Side.Height
            && (beside.Side.Height < layout.Side.Height || beside.Side.Width < layout.Side.Width)) return layout;
        return DrawnArea(beside.Picture, content) >= DrawnArea(layout.Picture, content) * 1.1f ? beside : layout;
    }

    /// <summary>In a portrait window the column goes under the picture, across the width (<see cref="LiveLayout.ColumnBelow"/>),
    /// where its panels (a passing message left out: it must not move the picture) fit under a picture that keeps at
    /// least a quarter of the height, and the picture comes out at least 10% larger in area than beside the column.</summary>
    private LiveLayout ColumnBelowWhereLarger(LiveLayout layout, int width, int height, Func<PixelRect, (int Width, int Height)> content)
    {
        if (height <= width || layout.Side.Width <= 0 || layout.StripBeside) return layout;
        float strip = layout.Bottom.Height;
        float room = height - strip - ColumnHeight(width, withMessage: false);
        if (room < height * 0.25f) return layout;
        var area = new PixelRect(0, 0, width, room);
        (int cw, int ch) = content(area);
        LiveLayout below = LiveLayout.ColumnBelow(width, height, MathF.Ceiling(area.Fit(Math.Max(1, cw), Math.Max(1, ch)).Height), strip);
        return DrawnArea(below.Picture, content) >= DrawnArea(layout.Picture, content) * 1.1f ? below : layout;
    }

    // ReservedKernel's answer, for the list of convs, the channel and the text size it was chosen for.
    private List<string> _reserved = [];
    private (IReadOnlyList<ConvView>? Convs, int Channel, float LineHeight) _reservedFor;

    /// <summary>The kernel panel of <paramref name="convs"/> that takes the most room (the widest, then the longest), each
    /// at <paramref name="channel"/> or its last output channel.</summary>
    private List<string> ReservedKernel(IReadOnlyList<ConvView> convs, int channel)
    {
        if (_reservedFor == (convs, channel, _hud.LineHeight)) return [.. _reserved];
        (float Width, int Lines) most = (-1, 0);
        foreach (ConvView c in convs)
        {
            List<string> lines = HudText.KernelLines(c, Math.Clamp(channel, 0, c.Weight.Shape[0] - 1));
            float w = _hud.Measure(lines);
            if (w > most.Width || (w == most.Width && lines.Count > most.Lines))
            {
                most = (w, lines.Count);
                _reserved = lines;
            }
        }
        _reservedFor = (convs, channel, _hud.LineHeight);
        return [.. _reserved];
    }

    /// <summary>The probe strip's lines for one layer in <paramref name="chars"/> characters: a conv's kernel rows and its
    /// wrapped sums, or (<paramref name="formulaLines"/>) another layer's rule written out.</summary>
    public static int StripLinesFor(ConvView? conv, Func<int, int>? formulaLines, int chars) =>
        Math.Max(HudText.ProbeStripLines(conv is not null, conv?.Weight.Shape[2] ?? 0, conv?.Weight.Shape[3] ?? 0, chars, conv?.Weight.Shape[1] ?? 1,
                conv is not null && HudText.ShowsReach(conv.Options)),
            formulaLines?.Invoke(chars) ?? 0);

    /// <summary>The window pixels the view's content takes fitted into <paramref name="picture"/> (compared in pixels: a
    /// view's content units may depend on the rectangle, as the profile view's do).</summary>
    private static float DrawnArea(PixelRect picture, Func<PixelRect, (int Width, int Height)> content)
    {
        (int w, int h) = content(picture);
        PixelRect fitted = picture.Fit(Math.Max(1, w), Math.Max(1, h));
        return fitted.Width * fitted.Height;
    }

    // The probe strip's line while nothing is probed: for every stack (a conv layer's sum, a pool's or relu's rule, an
    // attention layer's weights; "take a pixel's convolution apart (on a conv layer ...)" read wrong on the attention
    // stacks, which have none).
    private const string ProbeHint = "probe: hover over the picture to see the numbers that make a pixel ([ ] selects the layer); click to pin it";

    /// <summary>The error panel's text colour.</summary>
    public static readonly SKColor ErrorColour = new(255, 120, 110);

    // The most kernel rows the kernel panel shows where the column has room (a 15x15 Gabor whole).
    private const int MaxKernelRows = 15;

    // The column is never wrapped narrower than this many characters: shorter lines would be hard to read.
    private const int MinColumnChars = 34;

    /// <summary><paramref name="height"/> of the tallest of <paramref name="layouts"/>' columns (each its info lines and
    /// colour bar title, the other panels as they are).</summary>
    private Func<float, float> OverLayouts(List<(List<string> Side, string? Title)> layouts, Func<float, float> height) => w =>
    {
        (List<string> side, string? title) = (_side, _colourBarTitle);
        float h = 0;
        try
        {
            foreach ((List<string> s, string? t) in layouts)
            {
                (_side, _colourBarTitle) = (s, t);
                h = Math.Max(h, height(w));
            }
        }
        finally
        {
            (_side, _colourBarTitle) = (side, title);
        }
        return h;
    };

    /// <summary><see cref="ColumnHeight(float)"/> with the layers' lines elided to <see cref="MinLayerLines"/> around the
    /// selected one (as the layout then does where they do not fit).</summary>
    private float ElidedColumnHeight(float columnWidth)
    {
        if (_side.Count(HudText.IsLayerLine) <= MinLayerLines) return ColumnHeight(columnWidth);
        List<string> all = _side;
        _side = HudText.ElideLayers(all, MinLayerLines);
        try
        {
            return ColumnHeight(columnWidth);
        }
        finally
        {
            _side = all;
        }
    }

    // The layer lines a column that must elide keeps at least, for choosing its width.
    private const int MinLayerLines = 5;

    /// <summary>The height the column's panels take when wrapped to a column <paramref name="columnWidth"/> wide.</summary>
    private float ColumnHeight(float columnWidth) => ColumnHeight(columnWidth, withMessage: true);

    /// <summary><see cref="ColumnHeight(float)"/>, the flashed message's panel counted or not.</summary>
    private float ColumnHeight(float columnWidth, bool withMessage)
    {
        int chars = HudText.CharsIn(columnWidth - 2 * LiveLayout.Margin - 12, _hud.CharWidth);
        float h = LiveLayout.Margin;
        foreach (List<string> panel in new[] { _side, _kernel, _error, withMessage ? _message : [] })
            if (panel.Count > 0) h += HudText.Wrap(panel, chars).Count * _hud.LineHeight + 8 + 6;
        // The colour bar: its title's lines (two at most, as Hud.ColourBar wraps it to this width), then the bar.
        if (_colourBarTitle is not null) h += (HudText.ColourBarTitle(_colourBarTitle, chars).Count + 1) * _hud.LineHeight + 8 + 6;
        return h;
    }

    /// <summary>Draws the panels, the view's labels, the probe strip (<paramref name="probe"/>'s lines, or the hint
    /// when there is no probe) and the help overlay into the HUD texture.</summary>
    public void Redraw(int width, int height, ILiveView view, List<string>? probe, bool help, ColourBar? colourBar = null)
    {
        _hud.Begin(width, height);
        float x = Layout.Side.X + LiveLayout.Margin, y = Layout.Side.Y + LiveLayout.Margin;
        // An error or message first, at the top of the column: in a small window the info panel alone can fill the
        // column, and what went wrong (a broken stack or shader on disk) must stay in sight. While the help is shown the
        // info and kernel panels are not drawn: the help would cover most of them and leave their edges showing beside it.
        if (_error.Count > 0) y += _hud.Panel(x, y, _error, ErrorColour) + 6;
        if (_message.Count > 0) y += _hud.Panel(x, y, _message, new SKColor(255, 230, 120)) + 6;
        if (_side.Count > 0 && !help) y += _hud.Panel(x, y, _side, boldFirst: true) + 6;
        if (_kernel.Count > 0 && !help) y += _hud.Panel(x, y, _kernel) + 6;
        if (_colourBarTitle is not null && colourBar is not null && !help)
            y += _hud.ColourBar(x, y, Layout.Side.Width - 2 * LiveLayout.Margin, colourBar) + 6;
        ColumnRect = new PixelRect(Layout.Side.X, Layout.Side.Y, Layout.Side.Width, y - 6 - Layout.Side.Y);
        // While the help is shown the view's labels and the strip are not drawn: the centred help covered part of them
        // and their glyphs at its edges showed around the overlay (a window review; the filters view's title line).
        if (!help) view.DrawLabels(_hud, Layout.Picture);
        if (!help) DrawProbe(probe);
        HelpRect = help ? DrawHelp(width, height) : null;
        _hud.End();
    }

    private void DrawProbe(List<string>? probe)
    {
        PixelRect strip = Layout.Bottom;
        if (strip.Height <= 0) return;
        List<string> lines = HudText.Wrap(probe ?? [ProbeHint], ProbeChars);
        int fits = Math.Max(1, (int)((strip.Height - LiveLayout.Margin - 8) / _hud.LineHeight));
        // More than the strip holds (a small window at a large --ui-scale): a line says how many are not shown, and the
        // result (the probe's last line: out, what the GPU wrote, |diff|) stays, the point of the probe (a window review:
        // at --ui-scale 4 it was the line cut first).
        if (lines.Count > fits)
            lines = HudText.CutKeepingTail(lines, probe is { Count: > 1 } ? HudText.Wrap([probe[^1]], ProbeChars).Count : 0, fits, ProbeChars);
        _hud.Panel(strip.X + LiveLayout.Margin, strip.Y, lines, new SKColor(200, 240, 255), boldFirst: true);
    }

    private PixelRect DrawHelp(int width, int height)
    {
        // Wrapped to the window (a long line continues under its description), centred on what it needs; in a window
        // too short for it at the HUD's size, smaller text (down to Hud.MinSize), then the lines that fit and one that
        // says the rest needs a larger window.
        float size = _hud.Size;
        List<string> lines;
        while (true)
        {
            lines = HudText.Wrap(HudText.HelpLines(), HudText.CharsIn(width - 16 - 12, _hud.CharWidth),
                new string(' ', HudText.HelpDescriptionColumn));
            if (lines.Count * _hud.LineHeight + 8 <= height - 16 || _hud.Size <= Hud.MinSize) break;
            _hud.SetSize(_hud.Size - 1);
        }
        int fits = Math.Max(2, (int)((height - 16 - 8) / _hud.LineHeight));
        if (lines.Count > fits) lines = HudText.CutToLines(lines, fits, HudText.CharsIn(width - 16 - 12, _hud.CharWidth));
        float w = lines.Max(l => l.Length) * _hud.CharWidth + 12, h = lines.Count * _hud.LineHeight + 8;
        // Opaque: the panels it overlaps in a small window would otherwise show through as a second, dim layer of text.
        float x = Math.Max(8, width / 2 - w / 2), y = Math.Max(8, height / 2 - h / 2);
        float drawn = _hud.Panel(x, y, lines, boldFirst: true, opaque: true);
        var rect = new PixelRect(x, y, _hud.Measure(lines), drawn);
        _hud.SetSize(size);
        return rect;
    }

    public void Dispose() => _hud.Dispose();
}

/// <summary>The column's info lines and colour bar title as they would be with another layer selected: the layout is
/// chosen for the tallest of them (HudPanels.UpdateLayout).</summary>
internal sealed record LayerInfo(IReadOnlyList<string> Info, string? ColourBarTitle);
