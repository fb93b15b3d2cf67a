using ConvGL.Gpu;

namespace ConvGL.App.Live.Views;

/// <summary>Every feature map of the selected layer, each normalised by its own min/max, colour-mapped and labelled
/// with its name; a click enlarges one map (and selects its channel), another click goes back to the grid.</summary>
internal sealed class GridView(ViewContext context) : ILiveView
{
    private int _cols = 1, _rows = 1;

    public ViewKind Kind => ViewKind.Grid;
    public PixelRect OutputRect { get; private set; }
    // Not on OutputRect (the whole grid): the marker goes on the probed map (ProbeMapRect).
    public bool ShowsProbeMarker => false;

    /// <summary>The probed map's rectangle: the enlarged map, or its cell of the grid (the marker sits on the probed
    /// pixel there too, as in the filters view).</summary>
    public PixelRect? ProbeMapRect(int channel)
    {
        GpuTensor output = context.Output;
        if ((uint)channel >= (uint)output.C) return null;
        int enlarged = Enlarged;
        if (enlarged >= 0) return enlarged == channel ? OutputRect : null;
        return MapIn(Cell(OutputRect, _cols, _rows, channel), _inset);
    }

    // The gutter's share of a cell on each axis (Inset), for the drawn grid.
    private float _inset;

    // The enlarged map, or -1: one the layer no longer has (a toggle cut its maps from 16 to 8) is the whole grid.
    private int Enlarged => context.State.Enlarged < context.Output.C ? context.State.Enlarged : -1;

    public (int Width, int Height) ContentSize(PixelRect window)
    {
        GpuTensor output = context.Output;
        if (Enlarged >= 0) return (output.W, output.H);
        (int cols, int rows) = Shape(output.C, output.W, output.H, window);
        return (cols * output.W, rows * output.H);
    }

    public ColourBarMap? ColourBarMap
    {
        get
        {
            GpuTensor output = context.Output;
            int enlarged = Enlarged;
            return enlarged >= 0
                ? new ColourBarMap(output, context.State.Layer, enlarged, false)
                : new ColourBarMap(output, context.State.Layer, context.Channel(output), true);
        }
    }

    public void Draw(PixelRect area)
    {
        GpuTensor output = context.Output;
        int enlarged = Enlarged;
        // An enlarged map the layer no longer has is dropped for good (the label said "map 15 15" over 8 maps).
        if (enlarged < 0) context.State.Enlarged = -1;
        // Every map is normalised by its own range; one dispatch computes them all.
        context.Stages?.BeginParts();
        context.OutRanges.Compute(output);
        context.Stages?.Part("ranges");
        if (enlarged >= 0)
        {
            OutputRect = area.Fit(output.W, output.H);
            context.Presenter.DrawTensor(output, context.OutRanges, OutputRect, 1, enlarged, map: ViewContext.MapColour(output));
            (_cols, _rows) = (1, 1);
        }
        else
        {
            (_cols, _rows) = Shape(output.C, output.W, output.H, area);
            OutputRect = area.Fit(_cols * output.W, _rows * output.H);
            _inset = Inset(OutputRect.Width / _cols, OutputRect.Height / _rows);
            context.Presenter.DrawTensor(output, context.OutRanges, OutputRect, 2, 0, _cols, _rows, ViewContext.MapColour(output), inset: _inset);
            // The selected channel's cell outlined: the map the colour bar, the output and profile views and , . refer to.
            if (output.C > 1) context.Presenter.DrawFrame(Cell(OutputRect, _cols, _rows, context.Channel(output)), 2, 1, 1, 1);
        }
        context.Stages?.Part("draw-grid");
    }

    /// <summary>Cell <paramref name="c"/> (row-major) of a <paramref name="cols"/> x <paramref name="rows"/> grid drawn in
    /// <paramref name="r"/>.</summary>
    public static PixelRect Cell(PixelRect r, int cols, int rows, int c)
    {
        float w = r.Width / cols, h = r.Height / rows;
        return new PixelRect(r.X + c % cols * w, r.Y + c / cols * h, w, h);
    }

    /// <summary>The gutter's share of a <paramref name="cellWidth"/> x <paramref name="cellHeight"/> cell on each axis: the
    /// same share both ways (the map inside keeps its aspect), 4 window pixels on the cell's shorter side (2 a side), none
    /// where a cell is under 12 pixels (a map of a few pixels keeps them all). Pure: a unit test holds it.</summary>
    public static float Inset(float cellWidth, float cellHeight)
    {
        float side = Math.Min(cellWidth, cellHeight);
        return side < 12 ? 0 : 4 / side;
    }

    /// <summary>Where a map is drawn in its <paramref name="cell"/>: shrunk by <paramref name="inset"/> on both axes, centred.</summary>
    public static PixelRect MapIn(PixelRect cell, float inset) =>
        new(cell.X + 0.5f * inset * cell.Width, cell.Y + 0.5f * inset * cell.Height, (1 - inset) * cell.Width, (1 - inset) * cell.Height);

    public bool HitTest(double x, double y, out TensorPoint point)
    {
        GpuTensor output = context.Output;
        int enlarged = Enlarged;
        if (enlarged >= 0) return SingleMapView.MapHit(OutputRect, x, y, output.W, output.H, enlarged, out point);
        return CellHit(OutputRect, x, y, _cols, _rows, output.C, output.W, output.H, out point, _inset);
    }

    public void Click(bool over, TensorPoint point)
    {
        ViewState s = context.State;
        s.Enlarged = s.Enlarged >= 0 ? -1 : over ? point.Channel : -1;
        if (over) s.Channel = point.Channel;
    }

    public void DrawLabels(Hud hud, PixelRect area)
    {
        if (!context.HaveFrame) return;
        GpuTensor output = context.Output;
        ILivePipeline pipeline = context.Pipeline;
        int layer = context.State.Layer, enlarged = Enlarged;
        if (enlarged < 0)
        {
            if (!HudText.MapLabelsFit(OutputRect.Height / _rows, hud.LineHeight))
            {
                // Cells too small for every label (ResNet18's 512 maps): the hovered map's alone, kept inside the picture
                // (README: "hovering a map names it there"; a window review found it did not).
                if (!HitTest(context.MouseX, context.MouseY, out TensorPoint hovered)) return;
                PixelRect at = Cell(OutputRect, _cols, _rows, hovered.Channel);
                string name = HudText.MapLabel(hovered.Channel, pipeline.MapName(layer, hovered.Channel));
                float width = name.Length * hud.CharWidth + 8;
                hud.Label(Math.Max(OutputRect.X, Math.Min(at.X + 3, OutputRect.X + OutputRect.Width - width)), Math.Max(OutputRect.Y, at.Y - hud.LineHeight), name);
                return;
            }
            int chars = HudText.CharsIn(OutputRect.Width / _cols - 12, hud.CharWidth);
            string[] labels = HudText.GridLabels(output.C, c => pipeline.MapName(layer, c), chars);
            for (int c = 0; c < output.C; c++)
            {
                PixelRect cell = Cell(OutputRect, _cols, _rows, c);
                hud.Label(cell.X + 3, cell.Y + 3, labels[c]);
            }
        }
        else
        {
            string label = $"map {HudText.MapLabel(enlarged, pipeline.MapName(layer, enlarged))} (click: back to the grid)";
            hud.Label(OutputRect.X + 3, OutputRect.Y + 3, HudText.Fit(label, HudText.CharsIn(OutputRect.Width - 12, hud.CharWidth)));
        }
    }

    /// <summary>The grid's columns and rows: the layout of <paramref name="c"/> maps of <paramref name="w"/> x
    /// <paramref name="h"/> that makes each map largest in <paramref name="area"/>.</summary>
    public static (int Cols, int Rows) Shape(int c, int w, int h, PixelRect area)
    {
        (int, int) best = (c, 1);
        float bestScale = 0;
        for (int cols = 1; cols <= c; cols++)
        {
            int rows = (c + cols - 1) / cols;
            float scale = Math.Min(area.Width / (cols * w), area.Height / (rows * h));
            if (scale > bestScale)
            {
                bestScale = scale;
                best = (cols, rows);
            }
        }
        return best;
    }

    /// <summary>The map (cell, row-major) and its pixel under (<paramref name="x"/>, <paramref name="y"/>) in a grid
    /// of <paramref name="cols"/> x <paramref name="rows"/> cells drawn in <paramref name="r"/>; false outside the
    /// grid or on an empty cell past the last map.</summary>
    public static bool CellHit(PixelRect r, double x, double y, int cols, int rows, int maps, int w, int h, out TensorPoint point, float inset = 0)
    {
        point = default;
        if (!r.Contains(x, y)) return false;
        double u = (x - r.X) / r.Width * cols, v = (y - r.Y) / r.Height * rows;
        int col = (int)u, row = (int)v;
        int channel = row * cols + col;
        if (channel >= maps) return false;
        // Within the map drawn in the cell (tensor.frag's inMap). The gutter between maps is no map (it probed the nearest
        // edge pixel: a window review).
        double mu = (u - col - 0.5 * inset) / (1 - inset), mv = (v - row - 0.5 * inset) / (1 - inset);
        if (mu < 0 || mu >= 1 || mv < 0 || mv >= 1) return false;
        point = new TensorPoint(Math.Clamp((int)Math.Floor(mu * w), 0, w - 1), Math.Clamp((int)Math.Floor(mv * h), 0, h - 1), channel);
        return true;
    }
}
