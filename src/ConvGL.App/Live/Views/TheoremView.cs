using System.Globalization;
using System.Numerics;
using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu;
using ConvGL.Gpu.Present;

namespace ConvGL.App.Live.Views;

/// <summary>The convolution theorem, live: the selected convolution (the selected layer when it is one, else the first
/// conv layer that is on; the filter in filter mode) run both ways on its live input for the shown output channel
/// (<see cref="TheoremPass"/>, kept in <see cref="ViewContext.Theorem"/>; recomputed only when the pipeline ran or the
/// convolution or channel changed):
///   top row:    direct | FFT | |direct - FFT|   (direct and FFT on one colour scale, so equal numbers look equal)
///   bottom row: log(1 + |F|) of the padded input frame's spectrum | the kernel's (zero-padded to the same frame) |
///               their product (with several input maps a group: the first map's In and K, and the product summed over
///               every map's In_c conj(K_c)), each with DC centred, in a square (equal cycles per pixel on both axes): the product's inverse
///               transform (read at the stride) plus the bias is the FFT result above
///   under them: the same theorem on one scanline (<see cref="ScanlineTheorem"/>): the input row under the kernel's
///               centre row (or its nearest nonzero row) for the marked output row, correlated with that kernel row as
///               applied directly (grey) and by a 1D FFT (orange); the row's and the kernel row's spectra; their product.
/// (That is the 3 x 2 arrangement; wide and tall windows put the six panels in one row or one column: <see cref="Layout"/>.)
/// The spectra are GpuFftConv2D's own numbers (captured from the passes that produced the FFT result), so what is
/// drawn is what was multiplied. The legend above the grid says the max |direct - FFT| of the shown map and the
/// tolerance it must be within (<see cref="PanelLines"/>), and, with the pointer over a spectrum, the frequency under
/// it and the three spectra's magnitude and phase there (<see cref="BinLine"/>). The row is the one under the pointer
/// in a top-row map, else the pinned one (a click there pins it), else the middle one. There is no per-pixel probe
/// here, so no probe strip: the view takes the window's height.</summary>
internal sealed class TheoremView(ViewContext context) : ILiveView
{
    // The legend's lines (six where the window is wide enough, as many as it wraps to where not, up to MaxLegendLines)
    // and the panel's padding above the grid, one label line above the scanline plots: in the HUD's line height, which
    // grows with the window (15 px at 960x600).
    public const int MinLegendLines = 6, MaxLegendLines = 12;
    private static float LegendHeight(float lineHeight, int lines) => lines * lineHeight + 8 + 4;
    // The legend's last text (unwrapped), and by width the most lines it wrapped to there: the lines a layout reserves
    // come from these for the width being laid out (LegendLinesAt). They came from the last frame's width, and the
    // window's layout, which asks the view's size for several picture widths, then cycled between arrangements at some
    // window sizes (1100x350: four widths in turn, never settling; the review).
    private List<string>? _legendText;
    private readonly Dictionary<int, int> _legendLinesAt = [];
    // The lines the last Draw's layout reserved (DrawLabels draws no more: a longer legend waits for the next frame's).
    private int _reservedLines = MinLegendLines;
    private static float BandLabel(float lineHeight, int lines = 1) => lines * lineHeight + 2;

    // The longest scanline title ("1D: row grey, kernel orange, log(1+|F|)"): a third of the grid narrower than this
    // wraps it to two lines, which the layout then reserves (the second sat on the plot's top).
    private const int BandTitleChars = 40;

    /// <summary>The scanline titles' lines for a plot <paramref name="bandWidth"/> wide: 1, or 2 where it holds fewer than
    /// <see cref="BandTitleChars"/> of the HUD's characters (<see cref="Hud.CharWidthFor"/>).</summary>
    public static int BandLabelLines(float bandWidth, float lineHeight) =>
        (bandWidth - 8) / Hud.CharWidthFor(lineHeight) >= BandTitleChars ? 1 : 2;
    // The scanline plots are this share of a map's height (the grid is two maps high).
    private const float BandShare = 0.75f;

    /// <summary>The spectra's row height as a share of a map's: the spectra are drawn square (<see cref="SpectrumSquare"/>),
    /// so for portrait maps (w &lt; h) the row is w tall, not h: the height it left empty above and below each square went
    /// to the maps (a 288x512 picture's theorem view had a third of its grid empty). Pure.</summary>
    public static float SpectrumRowShare(int w, int h) => Math.Min(1f, (float)w / h);


    private int _layer = -1, _row, _channel;
    private ILivePipeline? _layerOf;

    // The layer last drawn, while the pipeline it was found in is the one shown: a stack switched (s) or reloaded with
    // fewer layers left it past the end before the next draw (the live-window audit: an internal error, exit 1).
    private int Layer => ReferenceEquals(_layerOf, context.Pipeline) && _layer < context.Pipeline.LayerCount ? _layer : -1;
    // The shown convolution's input maps a group (its product sums over them) and its bias, for the labels.
    private int _inputs = 1, _kernelHeight = 1;
    private float[]? _bias;
    // Its stride (y, x): the FFT map is the inverse transform read at it.
    private (int Y, int X) _stride = (1, 1);
    private bool _ran;
    private string? _error;
    // The error is a shader's that does not build (the fix is the file).
    private bool _errorIsShader;
    // --stats' part callback, made once (a frame allocates nothing).
    private Action<string>? _part;

    public ViewKind Kind => ViewKind.Theorem;

    /// <summary>The direct and FFT maps' one colour scale (the layer's colours, from the direct map's min to max: the FFT
    /// map is drawn on it too, so equal numbers look equal); the difference map and the spectra are each stretched to
    /// their own range, as their titles and the legend say. Null until the view has run a convolution.</summary>
    public ColourBarMap? ColourBarMap =>
        _ran && _error is null && Layer >= 0
            ? new ColourBarMap(context.Pipeline.LayerOutput(Layer), Layer, _channel, false, Ranges: context.Theorem.DirectRange)
            : null;
    public string? RunError => _ran ? null : _error;

    public int ShownLayer(int selected) => Layer >= 0 ? Layer : selected;
    public PixelRect OutputRect { get; private set; }
    // Six maps of two kinds: no one map for the probe's marker, and no probe strip.
    public bool ShowsProbeMarker => false;
    public bool ProbeStrip => false;

    /// <summary>The convolution shown (<see cref="ViewContext.ConvFor"/>: the selected one, else the nearest before it, else the first).</summary>
    private int ShownConv(out ConvView? conv) => ViewContext.ConvFor(context.Pipeline, context.State.Layer, out conv);

    public (int Width, int Height) ContentSize(PixelRect window)
    {
        GpuTensor output = ShownConv(out _) is int i and >= 0 ? context.Pipeline.LayerOutput(i) : context.Output;
        return Content(window, output.W, output.H, context.LineHeight, LegendLinesAt(window));
    }

    /// <summary>The view's content for <paramref name="window"/> in units of a map pixel at the scale <see cref="Layout"/>
    /// gives there (in the arrangement it chooses there): the maps grow with the window, the legend's and labels' lines do
    /// not, so in map pixels they are their height over that scale (counted as map pixels as they are, they made a 14x14
    /// map's view a narrow column: 146 px wide in a 1920x1080 window). At least <see cref="LegendChars"/> characters
    /// wide, for the legend above a grid narrower than that (portrait maps: their legend wrapped to a few words a line
    /// and was cut). Scaled up to about 1000 wide so whole numbers keep the aspect. Pure: a unit test holds it.</summary>
    public static (int Width, int Height) Content(PixelRect window, int w, int h, float lineHeight, int legendLines = MinLegendLines)
    {
        TheoremLayout l = Layout(window, w, h, lineHeight, legendLines);
        float scale = Math.Max(1e-3f, l.Scale);
        int bandRows = l.Bands.Length / BandColumns(l.Columns);
        float text = LegendHeight(lineHeight, legendLines) + bandRows * BandLabel(lineHeight, l.TitleLines) + 4;
        double rows = l.Grid.Height / scale + bandRows * BandShare * h;
        double width = Math.Max(l.Columns * w, Math.Min(window.Width, LegendChars * Hud.CharWidthFor(lineHeight) + 32) / scale);
        double k = Math.Max(1, Math.Ceiling(1000.0 / width));
        return ((int)Math.Ceiling(width * k), (int)Math.Ceiling((rows + text / scale) * k));
    }

    /// <summary>The legend's width the view asks for, in characters, where its grid is narrower.</summary>
    public const int LegendChars = 64;

    /// <summary>The arrangements the view chooses from, in order of preference: 3 columns (the maps over their spectra,
    /// the scanline plots under the three columns), 6 (all six panels in one row, each plot under two of them: a wide,
    /// low window), 2 (the maps in the left column, their spectra in the right, the plots one under another: a
    /// portrait window) and 1 (one column, the plots one under another: a tall, narrow window).</summary>
    public static readonly int[] Arrangements = [3, 6, 2, 1];

    // The scanline plots stand side by side under a grid of 3 or 6 columns, one under another under 1 or 2.
    private static int BandColumns(int columns) => columns <= 2 ? 1 : 3;

    // Panel i's column and row: row by row, except in 2 columns, where the maps fill the left column and the spectra
    // the right.
    private static (int Column, int Row) PanelAt(int i, int columns) => columns == 2 ? (i / 3, i % 3) : (i % columns, i / columns);

    /// <summary>Where the six panels (the direct, FFT and difference maps, then the input, kernel and product spectra,
    /// each a map's size, a pixel of margin inside) and the three scanline plots go in <paramref name="area"/>, under the
    /// legend's lines: in whichever of <see cref="Arrangements"/> draws the maps largest (another than 3 columns only
    /// where it is at least 5% larger, so a common window keeps the usual grid). The grid is centred across; a row holding
    /// a map is a map tall, a row of spectra only as tall as their squares (<see cref="SpectrumRowShare"/>); the plots get
    /// <see cref="BandShare"/> of a map's height each and fill what is left, up to 1.5 maps' height. Pure: a unit test
    /// holds it.</summary>
    public static TheoremLayout Layout(PixelRect area, int w, int h, float lineHeight = 15, int legendLines = MinLegendLines)
    {
        TheoremLayout best = Arrange(area, w, h, lineHeight, legendLines, Arrangements[0]);
        foreach (int columns in Arrangements.Skip(1))
        {
            TheoremLayout l = Arrange(area, w, h, lineHeight, legendLines, columns);
            if (l.Scale > best.Scale * (best.Columns == Arrangements[0] ? 1.05f : 1f)) best = l;
        }
        return best;
    }

    /// <summary><see cref="Layout"/> in <paramref name="columns"/> columns (pure).</summary>
    public static TheoremLayout Arrange(PixelRect area, int w, int h, float lineHeight, int legendLines, int columns)
    {
        // The legend takes at most half a tiny window's height (a 10x10 window put the grid 144 px below its bottom).
        float legend = Math.Min(LegendHeight(lineHeight, legendLines), area.Height / 2), spectra = SpectrumRowShare(w, h);
        int panelRows = (6 + columns - 1) / columns, bandColumns = BandColumns(columns), bandRows = 3 / bandColumns;
        // A row holding any of the three maps is a map tall.
        float RowShare(int row) => columns == 2 || row * columns < 3 ? 1 : spectra;
        float gridRows = 0;
        for (int r = 0; r < panelRows; r++) gridRows += RowShare(r);
        float ScaleFor(int titleLines)
        {
            float room = Math.Max(1, area.Height - legend - bandRows * BandLabel(lineHeight, titleLines) - 4);
            return Math.Min(area.Width / (columns * w), room / ((gridRows + bandRows * BandShare) * h));
        }
        float scale = ScaleFor(1);
        int lines = BandLabelLines(columns * w * scale / bandColumns, lineHeight);
        if (lines == 2) scale = ScaleFor(2);
        float top = area.Y + legend, gw = columns * w * scale, gh = gridRows * h * scale;
        var grid = new PixelRect(area.X + (area.Width - gw) / 2, top, gw, gh);
        var cells = new PixelRect[6];
        for (int i = 0; i < 6; i++)
        {
            (int column, int row) = PanelAt(i, columns);
            float y = top;
            for (int r = 0; r < row; r++) y += RowShare(r) * h * scale;
            cells[i] = new PixelRect(grid.X + column * w * scale + 1, y + 1, Math.Max(0, w * scale - 2), Math.Max(0, RowShare(row) * h * scale - 2));
        }
        float label = BandLabel(lineHeight, lines), bandWidth = gw / bandColumns;
        float free = area.Y + area.Height - (top + gh) - 4 - bandRows * label;
        float bandHeight = Math.Max(1, Math.Min(1.5f * h * scale, free / bandRows));
        var bands = new PixelRect[3];
        var titles = new float[3];
        for (int b = 0; b < 3; b++)
        {
            float y = top + gh + b / bandColumns * (label + bandHeight);
            titles[b] = y + 1;
            // Inside the area even where its text leaves no room (a window a few pixels tall).
            float bandY = Math.Min(y + label, area.Y + area.Height);
            bands[b] = new PixelRect(grid.X + b % bandColumns * bandWidth + 3, bandY, Math.Max(0, bandWidth - 6),
                Math.Clamp(area.Y + area.Height - bandY, 0, bandHeight));
        }
        return new TheoremLayout(columns, scale, grid, cells, bands, titles, lines);
    }

    /// <summary>The legend's lines for a layout of <paramref name="area"/>: the last legend wrapped at its width, or the
    /// most it wrapped to when drawn at that width, whichever is more (a number a digit shorter does not move the maps),
    /// within <see cref="LegendLinesFor"/>'s bounds; the same for a width whenever asked, so the window's choice of
    /// picture width settles.</summary>
    private int LegendLinesAt(PixelRect area)
    {
        float lineHeight = context.LineHeight;
        int wrapped = _legendText is null ? MinLegendLines
            : HudText.Wrap(_legendText, HudText.CharsIn(area.Width - 32, Hud.CharWidthFor(lineHeight))).Count;
        return LegendLinesFor(wrapped, _legendLinesAt.GetValueOrDefault((int)area.Width), area.Height, lineHeight);
    }

    /// <summary>The lines the legend reserves: what it wrapped to (<paramref name="wrapped"/>), at least
    /// <see cref="MinLegendLines"/> and as many as it had at this width before (<paramref name="before"/>), at most
    /// <see cref="MaxLegendLines"/> (the maps keep most of a small window), or a quarter of a tall window's
    /// <paramref name="height"/> where that holds more lines of <paramref name="lineHeight"/> (a 300x1100 window cut the
    /// legend to 12 lines and left 400 px empty under the maps). Pure: a unit test holds it.</summary>
    public static int LegendLinesFor(int wrapped, int before, float height = 0, float lineHeight = 15) =>
        Math.Clamp(Math.Max(wrapped, before), MinLegendLines, Math.Max(MaxLegendLines, (int)(height / 4 / Math.Max(1, lineHeight))));

    public void Draw(PixelRect area)
    {
        _ran = false;
        _layerOf = context.Pipeline;
        _layer = ShownConv(out ConvView? conv);
        OutputRect = default;
        if (conv is null) return;
        (_inputs, _bias, _kernelHeight) = (conv.Weight.Shape[1], conv.Bias, conv.Weight.Shape[2]);
        _stride = (conv.Options.StrideY, conv.Options.StrideX);
        ILivePipeline pipeline = context.Pipeline;
        TheoremPass theorem = context.Theorem;
        // The selected channel (, .), clamped to this conv's maps as the filters view clamps it (it was channel 0 whenever
        // the selected layer was another one, while the HUD named the selected channel).
        // On a later layer, the conv's map the selected one is made from (ViewContext.ChannelFrom).
        int channel = _channel = Math.Clamp(ViewContext.ChannelFrom(pipeline, context.State.Layer, context.State.Channel, _layer), 0, conv.Weight.Shape[0] - 1);
        GpuTensor input = pipeline.LayerInput(Layer);
        context.Stages?.BeginParts();
        theorem.Part = context.Stages is null ? null : _part ??= context.Stages.Part;
        try
        {
            theorem.Run(input, conv.Weight, conv.Bias, conv.Options, channel, context.PipelineRuns);
            _error = null;
        }
        catch (Exception e) when (e is ConvGLException or GpuException)
        {
            // Too big a frame for this driver, or a shader that does not compile: said on screen, the app runs on.
            _error = e.Message;
            _errorIsShader = e is ShaderBuildException;
            return;
        }
        _ran = true;
        GpuTensor direct = theorem.Direct;
        _reservedLines = LegendLinesAt(area);
        // Laid out again only when something it depends on changed (not every frame).
        var key = (area, direct.W, direct.H, context.LineHeight, _reservedLines);
        if (_layout is null || key != _layoutKey) (_layout, _layoutKey) = (Layout(area, direct.W, direct.H, context.LineHeight, _reservedLines), key);
        OutputRect = _layout.Grid;
        _row = Row(direct);
        try
        {
            theorem.RunScanline(input, _row);
        }
        catch (Exception e) when (e is ConvGLException or GpuException)
        {
            // A read-back the driver refused: said on screen, as a failed run is; the app runs on.
            _error = e.Message;
            _errorIsShader = e is ShaderBuildException;
            _ran = false;
            return;
        }
        context.Stages?.Part("theorem-scanline");
        Presenter presenter = context.Presenter;
        // Direct and FFT results in the layer's colours (a filter's output grey, a layer's maps viridis).
        ColorMap colours = ViewContext.MapColour(pipeline.LayerOutput(Layer));
        presenter.DrawTensor(direct, theorem.DirectRange, Cell(0), 1, map: colours);
        presenter.DrawTensor(theorem.Fft, theorem.DirectRange, Cell(1), 1, map: colours);
        presenter.DrawTensor(theorem.Difference, theorem.DifferenceRange, Cell(2), 1);
        GpuTensor spectra = theorem.Spectra;
        for (int s = 0; s < 3; s++) presenter.DrawTensor(spectra, theorem.SpectraRanges, SpectrumRect(s), 1, s);

        // The scanline's row across each map (across the three together where they stand in one row, as they always did).
        for (int m = 0; m < 3; m++)
        {
            PixelRect c = Cell(m);
            float rowY = c.Y + (_row + 0.5f) * c.Height / direct.H;
            bool joined = m + 1 < 3 && Cell(m + 1).Y == c.Y;
            presenter.DrawSolid(new PixelRect(c.X - 1, rowY - 0.5f, c.Width + (joined ? 2 : 1), 1.5f), 1f, 0.55f, 0.1f, 0.9f);
        }
        // The scanline: its 1D results (grey direct, orange FFT), the row's and kernel row's spectra, their product.
        GpuTensor results = theorem.ScanlineResults, line = theorem.ScanlineSpectra;
        // Direct and FFT on one scale: equal numbers must draw as one curve (each on its own scale, rounding noise just
        // below zero in one put it on a signed scale and the other on [0, 1]).
        _resultsBand = Band(0);
        presenter.DrawProfile(results, theorem.ScanlineRanges, 0, 0, 1, results, theorem.ScanlineRanges, 0, 1, _resultsBand, ProfileAxis.Identity, shared: true);
        presenter.DrawProfile(line, theorem.ScanlineSpectraRanges, 0, 0, 1, line, theorem.ScanlineSpectraRanges, 0, 1, Band(1), ProfileAxis.Identity);
        presenter.DrawProfile(line, theorem.ScanlineSpectraRanges, 0, 2, 1, line, theorem.ScanlineSpectraRanges, 0, 2, Band(2), ProfileAxis.Identity);
        context.Stages?.Part("theorem-draw");
    }

    // Where the last frame put its parts (Layout), and what that layout was made for.
    private TheoremLayout? _layout;
    private (PixelRect, int, int, float, int) _layoutKey;

    /// <summary>Panel i's rectangle (0-2: the direct, FFT and difference maps; 3-5: the spectra).</summary>
    private PixelRect Cell(int i) => _layout?.Cells[i] ?? default;

    /// <summary>Spectrum s's rectangle: the largest square in its panel (<see cref="SpectrumSquare"/>).</summary>
    private PixelRect SpectrumRect(int s) => SpectrumSquare(Cell(3 + s));

    /// <summary>Where a spectrum is drawn in <paramref name="cell"/>: the largest square, centred. Both frequency axes
    /// span -0.5 to 0.5 cycles per pixel whatever the frame's shape, so a direction in the picture keeps its angle in
    /// the spectrum (a 45-degree Gabor's lobes at 45 degrees, a Gaussian's a circle); a bin of a W x H frame is then
    /// 1/W by 1/H cycles, drawn wider than tall in a wide frame. Drawn to the frame's aspect (square bins), a 768x384
    /// frame put a 45-degree kernel's lobes at 27 degrees. Pure: a unit test holds it.</summary>
    public static PixelRect SpectrumSquare(PixelRect cell) => cell.Fit(1, 1);

    // Where the scanline's direct and FFT results were plotted last (its scale is labelled on it).
    private PixelRect _resultsBand;

    /// <summary>Scanline plot b's rectangle; the first leaves a gutter on its left for its scale's labels.</summary>
    private PixelRect Band(int b)
    {
        PixelRect r = _layout?.Bands[b] ?? default;
        float gutter = b == 0 ? ScaleGutter(r.Width + 4, context.LineHeight, _gutterChars) : 0;
        return new PixelRect(r.X + gutter, r.Y, r.Width - gutter, r.Height);
    }

    // The widest scale label the last frame drew (4 to 10 characters; 7 before the first: "-0.4781"), so the gutter is
    // as wide as its labels (10 characters left ResNet18's 190 px cell a 100 px plot beside labels of 6).
    private int _gutterChars = 7;

    /// <summary>The first scanline plot's gutter for its scale labels of <paramref name="chars"/> characters
    /// (ColourBar.Number: "-1.234e-08" at most, 10), left of the curve, so the labels no longer hide the row's first
    /// pixels (a border's effects sit there); none in a cell too narrow to keep 4 lines' width of plot (the labels then
    /// sit on it, as before).</summary>
    public static float ScaleGutter(float cellWidth, float lineHeight, int chars = 10)
    {
        float gutter = chars * Hud.CharWidthFor(lineHeight) + 8;
        return cellWidth >= gutter + 4 * lineHeight + 4 ? gutter : 0;
    }

    /// <summary>The scanline's row: the one under the pointer in a top-row map, else the pinned one, else the middle.</summary>
    private int Row(GpuTensor output)
    {
        if (HitTest(context.MouseX, context.MouseY, out TensorPoint p)) return p.Y;
        ViewState s = context.State;
        return s.Pinned ? Math.Clamp(s.PinY, 0, output.H - 1) : output.H / 2;
    }

    /// <summary>Over a top-row map (direct, FFT or difference): that output pixel (a click pins its row).</summary>
    public bool HitTest(double x, double y, out TensorPoint point)
    {
        point = default;
        if (!_ran) return false;
        GpuTensor direct = context.Theorem.Direct;
        for (int c = 0; c < 3; c++)
            if (SingleMapView.MapHit(Cell(c), x, y, direct.W, direct.H, context.Theorem.OutputChannel, out point)) return true;
        return false;
    }

    public void Click(bool over, TensorPoint point)
    {
        ViewState s = context.State;
        if (over && !s.Pinned) s.Pin(point.X, point.Y, s.Channel);
        else s.Pinned = false;
    }

    /// <summary>The signed frequency (ky, kx) drawn at (<paramref name="x"/>, <paramref name="y"/>) of a spectrum of an
    /// <paramref name="fh"/> x <paramref name="fw"/> frame drawn with DC centred in <paramref name="r"/> (position p shows
    /// frequency p - n/2, <see cref="ConvTheorem.Shifted"/>'s inverse); false outside it. Pure: a unit test holds it.</summary>
    public static bool SpectrumBin(PixelRect r, double x, double y, int fh, int fw, out int ky, out int kx)
    {
        ky = kx = 0;
        if (!r.Contains(x, y)) return false;
        int px = Math.Clamp((int)((x - r.X) / r.Width * fw), 0, fw - 1), py = Math.Clamp((int)((y - r.Y) / r.Height * fh), 0, fh - 1);
        (ky, kx) = (py - fh / 2, px - fw / 2);
        return true;
    }

    /// <summary>The legend's line for the scanline theorem (pure): the input row, correlated (as the 2D layer does) with
    /// kernel row <paramref name="kernelRow"/> as the layer applies it (rotated under convolve) of a kernel
    /// <paramref name="kernelHeight"/> tall: its centre row, or the nearest nonzero one where the centre row is all zeros
    /// (ScanlineTheorem.ShownRow).</summary>
    public static string ScanlineLine(int inputRow, int inputChannel, int frame, double maxDifference, int kernelRow, int kernelHeight)
    {
        string row = inputRow < 0 ? "(zero border)" : inputRow.ToString(CultureInfo.InvariantCulture);
        // An even kernel has two middle rows; (kH - 1) / 2 is the upper one, the row the profile view shows too (a teaching
        // review: 2x2 said "its centre"; the audit of 2026-12-08: the two views took different rows).
        string middle = kernelHeight % 2 == 1 ? "its centre" : "its middle row, the upper of two";
        string which = kernelRow == (kernelHeight - 1) / 2 ? middle : kernelHeight % 2 == 1 ? "its centre row is zero" : "its middle rows are zero";
        return F($"scanline: input {inputChannel} row {row} correlated with kernel row {kernelRow} as applied ({which}), N = {frame}: max |direct - FFT| {maxDifference:0.0e+00}");
    }

    /// <summary>The legend's line for frequency (ky, kx): each spectrum's magnitude and phase there (pure). With
    /// <paramref name="inputs"/> input maps a group, P is the sum over them of In_c conj(K_c), of which In and K are the
    /// first map's terms.</summary>
    public static string BinLine(int ky, int kx, int fh, int fw, Complex input, Complex kernel, Complex product, int inputs = 1)
    {
        static string Polar(string name, Complex z) => F($"{name} {z.Magnitude:G3} at {z.Phase * 180 / Math.PI:0} deg");
        string p = inputs > 1 ? F($"P = sum of {inputs} In_c conj(K_c)") : "P = In conj(K)";
        // The bin in cycles per pixel too (ky / H, kx / W), the unit of the spectra's axes.
        return F($"frequency (ky {ky}, kx {kx}) = ({(double)ky / fh:0.###}, {(double)kx / fw:0.###}) cycles/pixel in the {fw}x{fh} frame: {Polar("In", input)}, {Polar("K", kernel)}, {Polar(p, product)}");
    }

    /// <summary>The legend's lines (pure: a unit test holds them): what is compared, max |direct - FFT| against the
    /// tolerance, and what the tolerance is made of. <paramref name="bias"/>: the output map's bias, which S counts (<see cref="ConvTheorem.KernelAbsSum"/>).</summary>
    public static List<string> PanelLines(TheoremFigures f, string map, float bias = 0) =>
    [
        F($"convolution theorem, {map}: FFT frame {f.FrameW}x{f.FrameH}, input map {f.InputChannel} -> output map {f.OutputChannel}"),
        F($"max |direct - FFT| = {f.MaxDifference:0.00e+00} {(f.Within ? "<=" : ">")} tolerance {f.Tolerance:0.00e+00}: {(f.Within ? "equal (float32 rounding)" : "OUTSIDE THE TOLERANCE")}"),
        "tolerance = 1e-5 + 1e-4 max|out| + 2e-7 log2(frame) S M,",
        F($"  max|out| = {f.MaxAbsResult:G3}, S = sum|w|{(bias != 0 ? " + |b|" : "")} = {f.KernelAbsSum:G3}, M = max|in| = {f.MaxAbsInput:G3}"),
        // The lesson the frame's size carries (a teaching review: the view never said "circular").
        "inverse(product) is a circular correlation over the frame; the frame holds every padded input value the outputs read, so they never wrap",
    ];

    /// <summary>The six maps' labels (pure): the FFT result is the product's inverse (read at the stride where it is
    /// more than 1: a strided layer's output is every s-th value of the inverse, plus the bias); with several input
    /// maps a group, the input and kernel spectra are the first map's terms and the product sums all of them.</summary>
    public static string[] MapLabels(int inputChannel, int inputs, float bias, (int Y, int X) stride = default) =>
    [
        "direct", "FFT: inverse(product)" + StrideText(stride, " at stride ") + (bias != 0 ? " + bias" : ""), "|direct - FFT|",
        inputs > 1 ? F($"input {inputChannel} spectrum (1 of {inputs})") : F($"input {inputChannel} spectrum"),
        inputs > 1 ? F($"kernel spectrum, input {inputChannel}") : "kernel spectrum",
        inputs > 1 ? F($"product: sum over {inputs} inputs") : "product spectrum",
    ];

    /// <summary>A stride above 1 after <paramref name="prefix"/> ("2", or "2,1" for y, x), else nothing: a strided
    /// layer's FFT map is the inverse transform read every s-th pixel.</summary>
    private static string StrideText((int Y, int X) s, string prefix) =>
        s.Y <= 1 && s.X <= 1 ? "" : prefix + (s.Y == s.X ? F($"{s.Y}") : F($"{s.Y},{s.X}"));

    /// <summary>The six maps' labels in a cell of <paramref name="chars"/> characters: the full ones where they fit, else
    /// short forms that keep what matters (ResNet18's cells cut "FFT: inverse(product) + bias" to "FFT: inverse(product) ~",
    /// losing the bias), cut only where even those do not fit. Pure: a unit test holds it.</summary>
    public static string[] FittedMapLabels(int inputChannel, int inputs, float bias, int chars, (int Y, int X) stride = default)
    {
        string[] full = MapLabels(inputChannel, inputs, bias, stride);
        string[] brief =
        [
            "direct", "FFT" + StrideText(stride, " s") + (bias != 0 ? " + bias" : ""), "|diff|",
            inputs > 1 ? F($"in {inputChannel} of {inputs}") : F($"in {inputChannel} spectrum"),
            inputs > 1 ? F($"kernel, in {inputChannel}") : "kernel",
            inputs > 1 ? F($"sum of {inputs}") : "product",
        ];
        return full.Select((l, i) => l.Length <= chars ? l : HudText.Fit(brief[i], chars)).ToArray();
    }

    /// <summary>The scanline plots' titles in a third of the grid <paramref name="chars"/> characters wide, at most two
    /// lines each: wrapped where they fit in two (960x600 cut them to "kernel orange, l~"), else short forms that keep
    /// what is drawn ("1D: row, kernel |F|"; a portrait picture's 12-character cells split "conj(kernel" mid-word and
    /// cut the colours), cut only where even those do not fit. The spectra curves are log(1 + |F|), each divided by its
    /// own maximum (TheoremPass.Spectrum). Pure: a unit test holds it.</summary>
    public static List<string>[] BandTitles(int chars)
    {
        string[] full = ["1D: direct grey, FFT orange", "1D: row grey, kernel orange, log(1+|F|)", "1D: row x conj(kernel row), log(1+|F|)"];
        string[] brief = ["1D: direct, FFT", "1D: row, kernel |F|", "1D: product |F|"];
        var titles = new List<string>[full.Length];
        for (int i = 0; i < full.Length; i++)
        {
            List<string> wrapped = HudText.Wrap([full[i]], chars);
            if (wrapped.Count > 2 || wrapped.Any(l => l.Length > chars)) wrapped = HudText.Wrap([brief[i]], chars);
            titles[i] = wrapped.Count <= 2 && wrapped.All(l => l.Length <= chars) ? wrapped : [HudText.Fit(brief[i], chars)];
        }
        return titles;
    }

    public void DrawLabels(Hud hud, PixelRect area)
    {
        if (!context.HaveFrame) return;
        if (_error is not null)
        {
            // A shader's error is several lines (where, then the compiler's log): each its own line (a newline drew as a box),
            // and what fixes it.
            string[] given = _error.Split('\n');
            List<string> errorLines = ["theorem: " + given[0], .. given.Skip(1).Take(5)];
            if (_errorIsShader) errorLines.Add("(fix the shader file: it reloads by itself)");
            hud.Panel(area.X + 3, area.Y + 3, HudText.Wrap(errorLines, HudText.CharsIn(area.Width - 20, hud.CharWidth)), new SkiaSharp.SKColor(255, 120, 120));
            return;
        }
        if (Layer < 0)
        {
            // "no conv layer is on" read as if one were off on a stack that has none (a window review: attention).
            hud.Label(area.X + 3, area.Y + 3, context.Pipeline.HasConvLayer
                ? "theorem: every conv layer is off (1-9 or 0 turn one on)"
                : $"theorem: the {context.Pipeline.Name} stack has no conv layer (this view takes a conv layer apart by the convolution theorem)");
            return;
        }
        if (!_ran) return;
        TheoremPass theorem = context.Theorem;
        TheoremFigures f = theorem.ReadFigures();
        float bias = _bias is { } b && f.OutputChannel < b.Length ? b[f.OutputChannel] : 0;
        // The layer it shows by number: the info panel's last line is the selected layer's, which need not be this one.
        List<string> legend = PanelLines(f, F($"layer {Layer + 1} ({context.Pipeline.MapName(Layer, f.OutputChannel)})"), bias);
        ScanlineTheorem line = theorem.Scanline;
        legend.Add(ScanlineLine(theorem.ScanlineInputRow, f.InputChannel, line.Frame, line.MaxDifference, theorem.ScanlineKernelRow, _kernelHeight));
        GpuTensor spectra = theorem.Spectra;
        string bin = "hover over a spectrum: the frequency there, and the spectra's magnitude and phase";
        for (int s = 0; s < 3; s++)
            if (SpectrumBin(SpectrumRect(s), context.MouseX, context.MouseY, spectra.H, spectra.W, out int ky, out int kx))
            {
                (Complex a, Complex k, Complex p) = theorem.ReadBin(ky, kx);
                bin = BinLine(ky, kx, spectra.H, spectra.W, a, k, p, _inputs);
            }
        legend.Add(bin);
        List<string> lines = HudText.Wrap(legend, HudText.CharsIn(area.Width - 32, hud.CharWidth));
        _legendText = legend;
        if (_legendLinesAt.Count > 256) _legendLinesAt.Clear(); // (a window dragged through every width)
        _legendLinesAt[(int)area.Width] = Math.Max(lines.Count, _legendLinesAt.GetValueOrDefault((int)area.Width));
        hud.Panel(area.X + 10, area.Y + 2, lines.Count > _reservedLines ? lines[.._reservedLines] : lines);
        // The difference's maximum is in the legend: a third-width cell has no room for it at common window sizes.
        TheoremLayout layout = _layout!;
        int chars = HudText.CharsIn(Cell(0).Width - 6, hud.CharWidth);
        string[] names = FittedMapLabels(f.InputChannel, _inputs, bias, chars, _stride);
        for (int i = 0; i < names.Length; i++)
        {
            PixelRect c = Cell(i);
            hud.Label(c.X + 2, c.Y + 2, names[i]);
        }
        List<string>[] titles = BandTitles(HudText.CharsIn(layout.Bands[0].Width - 2, hud.CharWidth));
        for (int i = 0; i < titles.Length; i++)
            for (int k = 0; k < titles[i].Count; k++) hud.Label(layout.Bands[i].X, layout.TitleY[i] + k * hud.LineHeight, titles[i][k]);
        float y = layout.TitleY[0];
        int firstLines = titles[0].Count;
        // The results' scale (both curves on one: profile.frag's shared scale) at the band's top, middle line and bottom.
        PixelRect r = _resultsBand;
        // Below the titles where they reach into the band (the layout reserves their lines; the estimate may be short).
        float labelTop = Math.Max(r.Y + 1, y + firstLines * hud.LineHeight + 1);
        if (r.Y + r.Height - labelTop >= 3 * hud.LineHeight)
        {
            (float a0, float b0) = theorem.ScanlineRanges.Read(0);
            (float a1, float b1) = theorem.ScanlineRanges.Read(1);
            (double bottom, double top) = ProfileView.PlotScale(Math.Min(a0, a1), Math.Max(b0, b1));
            // In the plot's gutter (ScaleGutter), at the cell's left edge; the next frame's gutter fits these labels.
            float x = layout.Bands[0].X - 1;
            string high = ColourBar.Number((float)top), middle = ColourBar.Number((float)((top + bottom) / 2)), low = ColourBar.Number((float)bottom);
            hud.Label(x, labelTop, high);
            hud.Label(x, r.Y + r.Height / 2 - hud.LineHeight / 2, middle);
            hud.Label(x, r.Y + r.Height - hud.LineHeight - 1, low);
            _gutterChars = Math.Clamp(Math.Max(high.Length, Math.Max(middle.Length, low.Length)), 4, 10);
        }
    }

    /// <summary>The scripted run's line (stdout; the window tests read it): the last frame's figures.</summary>
    public string ScriptedLine()
    {
        if (!_ran) return _error is null ? "theorem none" : "theorem error: " + ErrorText.JoinLines(_error);
        TheoremFigures f = context.Theorem.ReadFigures();
        TheoremPass t = context.Theorem;
        return F($"theorem layer={Layer + 1} output={f.OutputChannel} input={f.InputChannel} frame={f.FrameW}x{f.FrameH} max_diff={f.MaxDifference:R} tolerance={f.Tolerance:R} within={f.Within}") +
               F($" scanline_row={t.ScanlineOutputRow} scanline_input_row={t.ScanlineInputRow} scanline_frame={t.Scanline.Frame} scanline_max_diff={t.Scanline.MaxDifference:R}");
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Where the theorem view's parts go (<see cref="TheoremView.Layout"/>): <see cref="Columns"/> columns of
/// panels at <see cref="Scale"/> screen pixels a map pixel inside <see cref="Grid"/>; the six panels' rectangles (the
/// direct, FFT and difference maps, then the input, kernel and product spectra); the three scanline plots and the top
/// of each one's title (<see cref="TitleLines"/> lines).</summary>
internal sealed record TheoremLayout(int Columns, float Scale, PixelRect Grid, PixelRect[] Cells, PixelRect[] Bands, float[] TitleY, int TitleLines);
