using System.Globalization;
using ConvGL.Core.Stacks;
using ConvGL.Gpu;
using ConvGL.Gpu.Present;

namespace ConvGL.App.Live.Views;

/// <summary>A conv layer's filter bank (<see cref="ViewContext.ConvFor"/>: the selected layer when it is a conv, else the nearest conv before it, else the first): each output channel's kernel as applied (<see cref="KernelImage"/>: colour
/// for an RGB input, each at its own scale, rotated under convolve, dilated) beside that channel's live response, in a grid of (kernel, map) pairs labelled
/// with the map names. The kernels are one texture strip (<see cref="ViewContext.Kernels"/>), rebuilt only when the
/// layer's weights change (a new ConvView: reload, live option change, another stack or filter). The probe follows the
/// pointer over the maps (a click pins it): that map's output channel of the shown conv layer, taken apart with its kernel.
/// Under a learned first-layer bank (<see cref="BesideDesigned"/>: ResNet18's conv1, the learned and deep stacks' conv1)
/// the view adds the hand-made Gabor bank (the gabor stack's kernels and their live maps on the grey picture): what
/// learning found next to what was designed; k in this view hides and shows it.</summary>
internal sealed class FiltersView(ViewContext context) : ILiveView
{
    private ConvView? _shown;
    private int _layer = -1, _cols = 1, _rows = 1;
    private ILivePipeline? _layerOf;

    // The layer last drawn, while the pipeline it was found in is the one shown: a stack switched (s) or reloaded with
    // fewer layers left it past the end before the next draw (the live-window audit: an internal error, exit 1).
    private int Layer => ReferenceEquals(_layerOf, context.Pipeline) && _layer < context.Pipeline.LayerCount ? _layer : -1;
    private float _kernelW;
    // The hand-made bank under a learned one: the conv it shows (its kernels uploaded for it), its grid and where.
    private ConvView? _designedShown;
    private int _designedLayer = -1, _designedCols = 1, _designedRows = 1;
    private float _designedKernelW;
    private PixelRect _designedRect, _designedArea;
    private StackPipeline? _designed;
    private bool _beside;

    /// <summary>The share of the view's height the hand-made bank takes under a learned one (its title line included).</summary>
    public const float DesignedShare = 0.3f;

    public ViewKind Kind => ViewKind.Filters;
    public PixelRect OutputRect { get; private set; }
    // Not on OutputRect (every map of the shown conv layer is there): the marker goes on the probed map (ProbeMapRect).
    public bool ShowsProbeMarker => false;

    /// <summary>The probed map's rectangle in the grid of (kernel, map) pairs: the marker sits on the pixel the probe
    /// panel takes apart.</summary>
    public PixelRect? ProbeMapRect(int channel)
    {
        if (Layer < 0) return null;
        GpuTensor output = context.Pipeline.LayerOutput(Layer);
        return (uint)channel < (uint)output.C ? MapRect(OutputRect, _cols, _rows, _kernelW, channel, output.W, output.H) : null;
    }

    /// <summary>The conv layer shown (<see cref="ViewContext.ConvFor"/>: the selected one, else the nearest before it,
    /// else the first; `[` `]` reach the deep stack's learned conv1 past its fixed pre-blur), else -1.</summary>
    private int FirstConv(out ConvView? conv) => ViewContext.ConvFor(context.Pipeline, context.State.Layer, out conv);

    // A pair's size: the kernel scaled to the map's height, then the map.
    private static (int W, int H) Cell(ConvView conv, GpuTensor output)
    {
        (int kh, int kw) = KernelImage.Drawn(conv.Weight, conv.Options);
        return (output.W + Math.Max(1, output.H * kw / kh), output.H);
    }

    public (int Width, int Height) ContentSize(PixelRect window)
    {
        int layer = FirstConv(out ConvView? conv);
        if (conv is null) return (context.Output.W, context.Output.H);
        GpuTensor output = context.Pipeline.LayerOutput(layer);
        (int w, int h) = Cell(conv, output);
        (int cols, int rows) = GridView.Shape(output.C, w, h, window);
        // The hand-made bank under it takes a share of the height.
        return Beside(layer) ? (cols * w, (int)MathF.Ceiling(rows * h / (1 - DesignedShare))) : (cols * w, rows * h);
    }

    /// <summary>Whether conv layer <paramref name="layer"/> of <paramref name="p"/> gets the hand-made Gabor bank beside it:
    /// its weights were learned (an imported model's, a stack's weights file; not library kernels or kernel files) and no
    /// learned conv comes before it (the first layer that learning made: ResNet18's conv1, the deep stack's conv1 after its
    /// fixed blur); never on the gabor stack itself (WindowTests.FiltersView_UnderALearnedFirstLayer_* holds the cases).</summary>
    public static bool BesideDesigned(ILivePipeline p, int layer)
    {
        if (layer < 0 || layer >= p.LayerCount || p.StackLayer(layer) is not ConvLayer { IsFixed: false }) return false;
        for (int i = 0; i < layer; i++)
            if (p.StackLayer(i) is ConvLayer { IsFixed: false }) return false;
        return true;
    }

    // Shown (its title says why where the gabor stack failed) while k has not hidden it.
    private bool Beside(int layer) => context.State.DesignedBank && BesideDesigned(context.Pipeline, layer);

    public ColourBarMap? ColourBarMap
    {
        get
        {
            if (Layer < 0) return null;
            GpuTensor output = context.Pipeline.LayerOutput(Layer);
            // The channel the kernel panel and the probe take apart (the selected one, clamped to this layer's maps).
            return new ColourBarMap(output, Layer, context.Channel(output), true);
        }
    }

    public void Draw(PixelRect area)
    {
        _layerOf = context.Pipeline;
        _layer = FirstConv(out ConvView? conv);
        if (conv is null)
        {
            OutputRect = default;
            return;
        }
        if (!ReferenceEquals(conv, _shown))
        {
            // Once per weights change, never per frame.
            // As applied: rotated under convolve, spread by the dilation (the probe's kernel panel shows the same taps).
            (int kh, int kw) = KernelImage.Drawn(conv.Weight, conv.Options);
            context.Kernels.Upload(KernelImage.Strip(conv.Weight, context.Pipeline.InputChannelOrder, conv.Options), kw, conv.Weight.Shape[0] * kh);
            _shown = conv;
        }
        GpuTensor output = context.Pipeline.LayerOutput(Layer);
        (int w, int h) = Cell(conv, output);
        // Under a learned first bank, the hand-made one in the bottom share (a title line above it).
        _beside = Beside(Layer);
        PixelRect bank = area;
        if (_beside)
        {
            float below = area.Height * DesignedShare, title = context.LineHeight + 4;
            bank = new PixelRect(area.X, area.Y, area.Width, area.Height - below);
            _designedArea = new PixelRect(area.X, area.Y + area.Height - below + title, area.Width, Math.Max(1, below - title));
        }
        (_cols, _rows) = GridView.Shape(output.C, w, h, bank);
        OutputRect = bank.Fit(_cols * w, _rows * h);
        context.OutRanges.Compute(output);
        float kernelW = _kernelW = OutputRect.Width / _cols * (w - output.W) / w;
        DrawPairs(context.Kernels, context.OutRanges, output, OutputRect, _cols, _rows, kernelW);
        // The selected channel's pair outlined: the kernel the kernel panel shows, the map the colour bar explains.
        if (output.C > 1) context.Presenter.DrawFrame(GridView.Cell(OutputRect, _cols, _rows, context.Channel(output)), 2, 1, 1, 1);
        _designed = _beside ? context.AskDesigned() : null;
        if (_designed is not null) DrawDesigned(_designed);
    }

    // Each map of output beside its kernel (row c of the kernels' strip), in a grid of cols x rows cells of r.
    private void DrawPairs(GpuImage kernels, ChannelRanges ranges, GpuTensor output, PixelRect r, int cols, int rows, float kernelW)
    {
        for (int c = 0; c < output.C; c++)
        {
            PixelRect cell = GridView.Cell(r, cols, rows, c);
            // A one-pixel margin keeps neighbouring pairs apart.
            context.Presenter.DrawTexture(kernels.Handle, new PixelRect(cell.X + 1, cell.Y + 1, kernelW - 1, cell.Height - 2), vTop: (float)c / output.C, vBottom: (float)(c + 1) / output.C);
            context.Presenter.DrawTensor(output, ranges, MapRect(r, cols, rows, kernelW, c, output.W, output.H), 1, c, map: ViewContext.MapColour(output));
        }
    }

    // The hand-made bank: the gabor stack's conv, its kernels and live maps, in the bottom share.
    private void DrawDesigned(StackPipeline designed)
    {
        _designedLayer = ViewContext.ConvFor(designed, 0, out ConvView? conv);
        if (conv is null) return;
        if (!ReferenceEquals(conv, _designedShown))
        {
            (int kh, int kw) = KernelImage.Drawn(conv.Weight, conv.Options);
            context.DesignedKernels.Upload(KernelImage.Strip(conv.Weight, null, conv.Options), kw, conv.Weight.Shape[0] * kh);
            _designedShown = conv;
        }
        GpuTensor output = designed.LayerOutput(_designedLayer);
        (int w, int h) = Cell(conv, output);
        (_designedCols, _designedRows) = GridView.Shape(output.C, w, h, _designedArea);
        _designedRect = _designedArea.Fit(_designedCols * w, _designedRows * h);
        context.DesignedRanges.Compute(output);
        _designedKernelW = _designedRect.Width / _designedCols * (w - output.W) / w;
        DrawPairs(context.DesignedKernels, context.DesignedRanges, output, _designedRect, _designedCols, _designedRows, _designedKernelW);
    }

    /// <summary>A scripted run's line: the conv layer shown and the hand-made bank beside it (`designed=none`, or its
    /// stack, maps, where it is drawn and channel 0's range, read back: a test compares it with the gabor stack's own).</summary>
    public string ScriptedLine()
    {
        string shown = string.Create(CultureInfo.InvariantCulture, $"filters layer={Layer + 1}");
        if (!_beside || _designed is null || _designedLayer < 0) return shown + " designed=none";
        GpuTensor output = _designed.LayerOutput(_designedLayer);
        (float min, float max) = output.Download().Channel(0).Range();
        return string.Create(CultureInfo.InvariantCulture,
            $"{shown} designed={_designed.Name.Replace(' ', '_')} designed_layer={_designedLayer + 1} maps={output.C} shape={output.C}x{output.H}x{output.W} rect={_designedRect.X:0},{_designedRect.Y:0},{_designedRect.Width:0},{_designedRect.Height:0} min0={min:R} max0={max:R}");
    }

    // The probe takes apart the layer shown here, whichever layer [ ] selected.
    public int ProbeLayer(int selected) => Layer >= 0 ? Layer : selected;

    /// <summary>The hand-made bank's conv layer, while this view shows it with this frame's maps (the probe takes its
    /// pixels apart as it does the learned layer's: window x kernel over the grey picture + bias); not between a reload of
    /// gabor.json and the next draw (a click comes before it: its layers may have changed).</summary>
    public (ILivePipeline Pipeline, int Layer)? DesignedProbe =>
        Layer >= 0 && _beside && _designed is not null && (uint)_designedLayer < (uint)_designed.LayerCount &&
        ReferenceEquals(_designedShown, _designed.Conv(_designedLayer))
            ? (_designed, _designedLayer) : null;

    public bool ShowsDesigned => Layer >= 0 && _beside;

    /// <summary>Where the hand-made bank's map <paramref name="channel"/> was drawn (the marker on its probed pixel).</summary>
    public PixelRect? DesignedMapRect(int channel)
    {
        if (DesignedProbe is not { } d) return null;
        GpuTensor output = d.Pipeline.LayerOutput(d.Layer);
        return (uint)channel < (uint)output.C ? MapRect(_designedRect, _designedCols, _designedRows, _designedKernelW, channel, output.W, output.H) : null;
    }

    /// <summary>The map pixel under the pointer: the right part of a (kernel, map) cell, of the shown layer or of the
    /// hand-made bank under it (<see cref="TensorPoint.Designed"/>). The kernel part is no map.</summary>
    public bool HitTest(double x, double y, out TensorPoint point)
    {
        point = default;
        if (Layer < 0) return false;
        GpuTensor output = context.Pipeline.LayerOutput(Layer);
        if (PairHit(OutputRect, x, y, _cols, _rows, _kernelW, output.C, output.W, output.H, out point)) return true;
        if (DesignedProbe is not { } d) return false;
        GpuTensor designed = d.Pipeline.LayerOutput(d.Layer);
        if (!PairHit(_designedRect, x, y, _designedCols, _designedRows, _designedKernelW, designed.C, designed.W, designed.H, out point)) return false;
        point = point with { Designed = true };
        return true;
    }

    /// <summary>The map and its pixel under (<paramref name="x"/>, <paramref name="y"/>) in a grid of
    /// <paramref name="cols"/> x <paramref name="rows"/> (kernel, map) cells drawn in <paramref name="r"/>, each kernel
    /// <paramref name="kernelW"/> wide on the cell's left and its map in the rest (a one-pixel margin round it, as
    /// <see cref="Draw"/> leaves); false over a kernel, a margin, outside or on an empty cell past the last map.</summary>
    public static bool PairHit(PixelRect r, double x, double y, int cols, int rows, float kernelW, int maps, int w, int h, out TensorPoint point)
    {
        point = default;
        if (!r.Contains(x, y)) return false;
        float cellW = r.Width / cols, cellH = r.Height / rows;
        int col = Math.Min((int)((x - r.X) / cellW), cols - 1), row = Math.Min((int)((y - r.Y) / cellH), rows - 1);
        int channel = row * cols + col;
        if (channel >= maps) return false;
        return SingleMapView.MapHit(MapRect(r, cols, rows, kernelW, channel, w, h), x, y, w, h, channel, out point);
    }

    /// <summary>Where map <paramref name="channel"/> is drawn in a grid of <paramref name="cols"/> x <paramref name="rows"/>
    /// (kernel, map) cells in <paramref name="r"/>: in the cell's right part after the kernel, a one-pixel margin round it,
    /// the <paramref name="w"/> x <paramref name="h"/> map at its own aspect, centred (the margin box itself was 1-2 px off
    /// it: a 1% stretch on ResNet18's small cells).</summary>
    public static PixelRect MapRect(PixelRect r, int cols, int rows, float kernelW, int channel, int w, int h)
    {
        PixelRect cell = GridView.Cell(r, cols, rows, channel);
        return new PixelRect(cell.X + kernelW, cell.Y + 1, cell.Width - kernelW - 1, cell.Height - 2).Fit(w, h);
    }

    /// <summary>Pins the probe on the map pixel clicked (and, on the shown layer, selects its channel, so the kernel panel
    /// shows its kernel); a click while pinned unpins.</summary>
    public void Click(bool over, TensorPoint point)
    {
        ViewState s = context.State;
        if (over && !s.Pinned)
        {
            s.Pin(point.X, point.Y, point.Channel, point.Designed);
            // (A map of the hand-made bank leaves the learned layer's selected channel, its outline and colour bar, as they were.)
            if (!point.Designed) s.Channel = point.Channel;
        }
        else
        {
            s.Pinned = false;
        }
    }

    public void DrawLabels(Hud hud, PixelRect area)
    {
        if (!context.HaveFrame) return;
        if (Layer < 0)
        {
            // "no conv layer is on" read as if one were off on a stack that has none (a window review: attention).
            hud.Label(area.X + 3, area.Y + 3, context.Pipeline.HasConvLayer
                ? "filters: every conv layer is off (1-9 or 0 turn one on)"
                : $"filters: the {context.Pipeline.Name} stack has no conv layer (this view shows a conv layer's kernels)");
            return;
        }
        ILivePipeline pipeline = context.Pipeline;
        int maps = pipeline.OutputChannels(Layer);
        float cellW = OutputRect.Width / _cols, cellH = OutputRect.Height / _rows;
        if (_beside) DrawDesignedLabels(hud);
        if (!HudText.MapLabelsFit(cellH, hud.LineHeight)) return;
        int chars = HudText.CharsIn(cellW - _kernelW - 12, hud.CharWidth);
        // Over the map, not the kernel: the kernel is small and every pixel of it counts.
        string[] labels = HudText.GridLabels(maps, c => pipeline.MapName(Layer, c), chars);
        for (int c = 0; c < maps; c++)
        {
            PixelRect cell = GridView.Cell(OutputRect, _cols, _rows, c);
            hud.Label(cell.X + _kernelW + 3, cell.Y + 3, labels[c]);
        }
    }

    // The hand-made bank's title line and map labels.
    private void DrawDesignedLabels(Hud hud)
    {
        float top = _designedArea.Y - hud.LineHeight - 2;
        if (_designed is null || _designedLayer < 0)
        {
            hud.Label(_designedArea.X + 3, top, context.DesignedError ?? "the hand-made Gabor bank: running ...");
            return;
        }
        GpuTensor output = _designed.LayerOutput(_designedLayer);
        int chars = HudText.CharsIn(_designedArea.Width - 6, hud.CharWidth);
        string title = string.Create(CultureInfo.InvariantCulture,
            $"learned above, designed by hand below: the gabor stack's {output.C} kernels on the grey picture (k hides)");
        hud.Label(_designedArea.X + 3, top, HudText.Fit(title.Length <= chars ? title : "below, designed by hand: the Gabor bank (k hides)", chars));
        float cellW = _designedRect.Width / _designedCols, cellH = _designedRect.Height / _designedRows;
        if (!HudText.MapLabelsFit(cellH, hud.LineHeight)) return;
        string[] labels = HudText.GridLabels(output.C, c => _designed.MapName(_designedLayer, c), HudText.CharsIn(cellW - _designedKernelW - 12, hud.CharWidth));
        for (int c = 0; c < output.C; c++)
        {
            PixelRect cell = GridView.Cell(_designedRect, _designedCols, _designedRows, c);
            hud.Label(cell.X + _designedKernelW + 3, cell.Y + 3, labels[c]);
        }
    }
}
