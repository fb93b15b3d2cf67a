using System.Globalization;
using ConvGL.Core;
using ConvGL.Gpu;
using ConvGL.Gpu.Present;

namespace ConvGL.App.Live.Views;

/// <summary>The convolution theorem, live: the selected convolution (the selected layer when it is one, else the first
/// conv layer that is on; the filter in filter mode) run both ways on its live input, every frame
/// (<see cref="TheoremPass"/>, kept in <see cref="ViewContext.Theorem"/>):
///   top row:    direct | FFT | |direct - FFT|   (direct and FFT on one colour scale, so equal numbers look equal)
///   bottom row: log(1 + |F|) of the padded input frame's spectrum | the kernel's (zero-padded to the same frame) |
///               their product, each with DC centred: the product's inverse transform is the FFT result above
///   under them: one row of the direct and FFT results overlaid (the 1D profile of the same theorem: grey direct,
///               orange FFT; they coincide, the difference is the number in the legend).
/// The spectra are GpuFftConv2D's own numbers (captured from the passes that produced the FFT result), so what is
/// drawn is what was multiplied. The legend above the grid says the max |direct - FFT| of the shown map and the
/// tolerance it must be within (<see cref="PanelLines"/>).</summary>
internal sealed class TheoremView(ViewContext context) : ILiveView
{
    // Four legend lines (15 px each) and the panel's padding, above the grid.
    private const float LegendLines = 4, LegendHeight = LegendLines * 15 + 8 + 4;
    // The grid takes this share of what is left under the legend; the row profile the rest.
    private const float GridShare = 0.7f;

    private int _layer = -1, _row;
    private bool _ran;
    private string? _error;
    private PixelRect _plot;

    public ViewKind Kind => ViewKind.Theorem;
    public PixelRect OutputRect { get; private set; }
    // Six maps of two kinds: no one map for the probe's marker.
    public bool ShowsProbeMarker => false;

    /// <summary>The convolution shown: the selected layer when it is a convolution that is on, else the first one.</summary>
    private int ShownConv(out ConvView? conv)
    {
        ILivePipeline p = context.Pipeline;
        int selected = Math.Clamp(context.State.Layer, 0, p.LayerCount - 1);
        if ((conv = p.Conv(selected)) is not null) return selected;
        for (int i = 0; i < p.LayerCount; i++)
            if ((conv = p.Conv(i)) is not null) return i;
        return -1;
    }

    public (int Width, int Height) ContentSize(PixelRect window)
    {
        GpuTensor output = ShownConv(out _) is int i and >= 0 ? context.Pipeline.LayerOutput(i) : context.Output;
        return (3 * output.W, (int)(2 * output.H / GridShare) + (int)LegendHeight);
    }

    public void Draw(PixelRect area)
    {
        _ran = false;
        _layer = ShownConv(out ConvView? conv);
        OutputRect = default;
        if (conv is null) return;
        ILivePipeline pipeline = context.Pipeline;
        TheoremPass theorem = context.Theorem;
        int channel = _layer == context.State.Layer ? context.State.Channel : 0;
        try
        {
            theorem.Run(pipeline.LayerInput(_layer), conv.Weight, conv.Bias, conv.Options, channel);
            _error = null;
        }
        catch (Exception e) when (e is ConvGLException or GpuException)
        {
            // Too big a frame for this driver, or a shader that does not compile: said on screen, the app runs on.
            _error = e.Message;
            return;
        }
        _ran = true;
        GpuTensor direct = theorem.Direct;
        int o = theorem.OutputChannel;
        var grid = new PixelRect(area.X, area.Y + LegendHeight, area.Width, Math.Max(1, (area.Height - LegendHeight) * GridShare));
        OutputRect = grid.Fit(3 * direct.W, 2 * direct.H);
        Presenter presenter = context.Presenter;
        presenter.DrawTensor(direct, theorem.DirectRange, Cell(0, 0), 1, o);
        presenter.DrawTensor(theorem.Fft, theorem.DirectRange, Cell(1, 0), 1, o);
        presenter.DrawTensor(theorem.Difference, theorem.DifferenceRange, Cell(2, 0), 1, 0);
        GpuTensor spectra = theorem.Spectra;
        for (int s = 0; s < 3; s++) presenter.DrawTensor(spectra, theorem.SpectraRanges, Cell(s, 1).Fit(spectra.W, spectra.H), 1, s);

        _row = Row(direct);
        float cellH = OutputRect.Height / 2;
        float rowY = OutputRect.Y + (_row + 0.5f) * cellH / direct.H;
        presenter.DrawSolid(new PixelRect(OutputRect.X, rowY - 0.5f, OutputRect.Width, 1.5f), 1f, 0.55f, 0.1f, 0.9f);
        float plotY = grid.Y + grid.Height + 4;
        _plot = new PixelRect(area.X + 10, plotY, area.Width - 20, Math.Max(1, area.Y + area.Height - plotY - 4));
        presenter.DrawProfile(direct, theorem.DirectRange, _row, o, 1, theorem.Fft, theorem.DirectRange, _row, o, _plot);
    }

    /// <summary>Cell (column, row) of the 3 x 2 grid, a pixel of margin inside.</summary>
    private PixelRect Cell(int column, int row)
    {
        float w = OutputRect.Width / 3, h = OutputRect.Height / 2;
        return new PixelRect(OutputRect.X + column * w + 1, OutputRect.Y + row * h + 1, w - 2, h - 2);
    }

    /// <summary>The profile's row: the one under the pointer in a top-row map, else the pinned probe's, else the middle.</summary>
    private int Row(GpuTensor output)
    {
        for (int c = 0; c < 3; c++)
            if (SingleMapView.MapHit(Cell(c, 0), context.MouseX, context.MouseY, output.W, output.H, 0, out TensorPoint p)) return p.Y;
        ViewState s = context.State;
        return s.Pinned ? Math.Clamp(s.PinY, 0, output.H - 1) : output.H / 2;
    }

    public bool HitTest(double x, double y, out TensorPoint point)
    {
        point = default;
        return false;
    }

    public void Click(bool over, TensorPoint point)
    {
    }

    /// <summary>The legend's lines (pure: a unit test holds them): what is compared, max |direct - FFT| against the
    /// tolerance, and what the tolerance is made of.</summary>
    public static List<string> PanelLines(TheoremFigures f, string map) =>
    [
        F($"convolution theorem, {map}: FFT frame {f.FrameH}x{f.FrameW}, input map {f.InputChannel} -> output map {f.OutputChannel}"),
        F($"max |direct - FFT| = {f.MaxDifference:0.00e+00} {(f.Within ? "<=" : ">")} tolerance {f.Tolerance:0.00e+00}: {(f.Within ? "equal (float32 rounding)" : "OUTSIDE THE TOLERANCE")}"),
        "tolerance = 1e-5 + 1e-4 max|out| + 2e-7 log2(frame) S M,",
        F($"  max|out| = {f.MaxAbsResult:G3}, S = sum|w| = {f.KernelAbsSum:G3}, M = max|in| = {f.MaxAbsInput:G3}"),
    ];

    public void DrawLabels(Hud hud, PixelRect area)
    {
        if (!context.HaveFrame) return;
        if (_error is not null)
        {
            hud.Panel(area.X + 3, area.Y + 3, HudText.Wrap(["theorem: " + _error], HudText.CharsIn(area.Width - 20, hud.CharWidth)), new SkiaSharp.SKColor(255, 120, 120));
            return;
        }
        if (_layer < 0)
        {
            hud.Label(area.X + 3, area.Y + 3, "theorem: no conv layer is on");
            return;
        }
        if (!_ran) return;
        TheoremFigures f = context.Theorem.ReadFigures();
        List<string> lines = HudText.Wrap(PanelLines(f, context.Pipeline.MapName(_layer, f.OutputChannel)), HudText.CharsIn(area.Width - 32, hud.CharWidth));
        hud.Panel(area.X + 10, area.Y + 2, lines.Count > LegendLines ? lines[..(int)LegendLines] : lines);
        string[] names =
        [
            // The difference's maximum is in the legend: a third-width cell has no room for it at common window sizes.
            "direct", "FFT", "|direct - FFT|",
            F($"input {f.InputChannel} spectrum"), "kernel spectrum", "product spectrum",
        ];
        int chars = HudText.CharsIn(OutputRect.Width / 3 - 8, hud.CharWidth);
        for (int i = 0; i < names.Length; i++)
        {
            PixelRect c = Cell(i % 3, i / 3);
            hud.Label(c.X + 2, c.Y + 2, HudText.Fit(names[i], chars));
        }
        hud.Label(_plot.X, _plot.Y, HudText.Fit(F($"row {_row}: grey = direct, orange = FFT (on top of it)"), HudText.CharsIn(_plot.Width, hud.CharWidth)));
    }

    /// <summary>The scripted run's line (stdout; the window tests read it): the last frame's figures.</summary>
    public string ScriptedLine()
    {
        if (!_ran) return _error is null ? "theorem none" : "theorem error: " + _error;
        TheoremFigures f = context.Theorem.ReadFigures();
        return F($"theorem layer={_layer} output={f.OutputChannel} input={f.InputChannel} frame={f.FrameH}x{f.FrameW} max_diff={f.MaxDifference:R} tolerance={f.Tolerance:R} within={f.Within}");
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
