using System.Globalization;
using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Gpu;

namespace ConvGL.App.Live.Views;

/// <summary>A layer's window along one axis: where output o's window is centred (<paramref name="Axis"/>) and how far
/// its reads reach either side of that centre (<paramref name="Half"/>, input pixels): the pixels in [At - Half,
/// At + Half], or strictly inside it where <paramref name="Open"/> (an interpolation: bilinear reads the two pixels around
/// a fractional position, one where it is whole); a read past the map's edge is the <paramref name="Border"/>'s pixel
/// (zero: none).</summary>
internal readonly record struct LayerWindow(ProfileAxis Axis, double Half, Border Border = Border.Zero, bool Open = false, NearestResize? Nearest = null,
                                            TapLattice? Taps = null)
{
    /// <summary>Marks in <paramref name="into"/> the pixels of an <paramref name="n"/>-pixel input that output
    /// <paramref name="o"/> reads (each read past the edge through the border: a zero border's are none; a reflected one lands inside the map). The
    /// receptive field follows these sets down a chain, so a pixel that
    /// only outputs outside the field read is not counted.</summary>
    public void Mark(int o, int n, bool[] into)
    {
        if (n < 1) return;
        if (Nearest is { } r)
        {
            into[r.Read(o, n)] = true;
            return;
        }
        if (Taps is { } t)
        {
            t.Mark(o, n, Border, into);
            return;
        }
        (long lo, long hi) = Span(o);
        switch (Border)
        {
            case Border.Zero:
                for (long i = Math.Max(lo, 0); i <= Math.Min(hi, n - 1); i++) into[i] = true;
                break;
            case Border.Replicate:
                if (hi < lo) break;
                for (long i = Math.Clamp(lo, 0, n - 1); i <= Math.Clamp(hi, 0, n - 1); i++) into[i] = true;
                break;
            default:
                for (long i = lo; i <= Math.Min(hi, lo + 4L * n); i++) into[Borders.Map((int)Math.Clamp(i, int.MinValue / 2, int.MaxValue / 2), n, Border)] = true;
                break;
        }
    }

    // The whole pixels an interval window at output o spans (an open one's ends excluded; at a whole position an open
    // one, an interpolation, reads that pixel alone: linear's and cubic's other weights are exactly 0 there).
    private (long Lo, long Hi) Span(int o)
    {
        double at = Axis.At(o);
        if (Open && Math.Abs(at - Math.Round(at)) < 1e-9) return ((long)Math.Round(at), (long)Math.Round(at));
        double a = at - Half, b = at + Half;
        return (Open ? (long)Math.Floor(a) + 1 : (long)Math.Ceiling(a - 1e-9), Open ? (long)Math.Ceiling(b) - 1 : (long)Math.Floor(b + 1e-9));
    }
}

/// <summary>The input rows a pool's output row reads, as the profile plots them: <see cref="Count"/> rows from
/// <see cref="First"/>, <see cref="Step"/> apart, reduced by their max (<see cref="Max"/>) or their sum over
/// <see cref="Divisor"/>: the rows the average counts, the padding's zeros included where the pool counts them.</summary>
internal readonly record struct PoolRowSet(int First, int Count, int Step, bool Max, int Divisor);

/// <summary>A window's taps along one axis, for the pixels they land on: a conv's output o reads input
/// o <paramref name="Stride"/> + <paramref name="Offset"/> + <paramref name="Dilation"/> j for each tap j in 0 ..
/// <paramref name="Count"/> - 1 (Offset: minus the padding before); a transposed conv's (<paramref name="Transposed"/>)
/// output o gathers input i wherever i Stride + Dilation j + Offset = o (Offset: minus its padding).</summary>
internal readonly record struct TapLattice(int Count, int Stride, int Dilation, int Offset, bool Transposed = false)
{
    /// <summary>Marks in <paramref name="into"/> the pixels of an <paramref name="n"/>-pixel input that output
    /// <paramref name="o"/>'s taps land on (through <paramref name="border"/>: a zero border's past the edge are none).</summary>
    public void Mark(int o, int n, Border border, bool[] into)
    {
        for (int j = 0; j < Count; j++)
        {
            if (Transposed)
            {
                long q = o - Offset - (long)Dilation * j;
                if (q % Stride == 0 && q >= 0 && q / Stride < n) into[q / Stride] = true;
            }
            else
            {
                long p = (long)o * Stride + Offset + (long)Dilation * j;
                int m = Borders.Map((int)Math.Clamp(p, int.MinValue / 2, int.MaxValue / 2), n, border);
                if (m >= 0) into[m] = true;
            }
        }
    }
}

/// <summary>The sets <see cref="ProfileView.FieldOnSource"/> follows, kept between calls: per layer the output columns
/// and rows the field holds, the stack input's, the source frame's, and two for a layer's reads. Arrays grow to the sizes
/// seen and are cleared, never reallocated, after that.</summary>
internal sealed class FieldSets
{
    public bool[][] Cols = [], Rows = [];
    public bool[] Any = [], InputCols = [], InputRows = [], SourceCols = [], SourceRows = [], TmpCols = [], TmpRows = [];

    public void Prepare(ILivePipeline pipeline, int layer, int sourceH, int sourceW)
    {
        if (Cols.Length <= layer)
        {
            Array.Resize(ref Cols, pipeline.LayerCount);
            Array.Resize(ref Rows, pipeline.LayerCount);
            for (int i = 0; i < Cols.Length; i++)
            {
                Cols[i] ??= [];
                Rows[i] ??= [];
            }
            Any = new bool[pipeline.LayerCount];
        }
        for (int i = 0; i <= layer; i++)
        {
            (int h, int w) = pipeline.LayerOutputSize(i);
            Cleared(ref Cols[i], w);
            Cleared(ref Rows[i], h);
            Any[i] = false;
        }
        (int ih, int iw) = pipeline.LayerOutputSize(-1);
        Cleared(ref InputCols, iw);
        Cleared(ref InputRows, ih);
        Cleared(ref SourceCols, sourceW);
        Cleared(ref SourceRows, sourceH);
    }

    /// <summary><paramref name="a"/> at least <paramref name="n"/> long (grown if shorter), its first n cleared.</summary>
    public static bool[] Cleared(ref bool[] a, int n)
    {
        if (a.Length < n) a = new bool[n];
        else Array.Clear(a, 0, Math.Max(n, 0));
        return a;
    }
}

/// <summary>A nearest resize along one axis: output o reads the input pixel <see cref="Resize2D.Nearest"/> picks at
/// <see cref="Resize2D.Source"/>(o), computed as the op does (an affine axis's rounding put a tie at 0.5000000000000001).</summary>
internal readonly record struct NearestResize(int In, int Out, double Scale, ResizeCoordinates Coordinates, ResizeRounding Rounding)
{
    public int Read(int o, int n) => Resize2D.Nearest(Resize2D.Source(o, In, Out, Scale, Coordinates), n, Rounding);
}

/// <summary>Where a layer's output samples sit on its input along one axis: output o's window is centred at input
/// position <see cref="At"/>(o) = Offset + Step o, in input pixels (pixel i at i).</summary>
internal readonly record struct ProfileAxis(double Offset, double Step)
{
    /// <summary>Output o reads input o (activations, adds, same-size layers).</summary>
    public static readonly ProfileAxis Identity = new(0, 1);

    /// <summary>A sliding window of k taps, <paramref name="dilation"/> apart, moved by <paramref name="stride"/>, over an
    /// input padded by <paramref name="g"/>'s PadBefore: output o's taps are at o s - pad + d j, centred at
    /// o s - pad + d (k - 1) / 2 (the same under the kernel's flip, which reverses the taps, not the window).</summary>
    public static ProfileAxis Window(AxisGeometry g, int k, int stride, int dilation) => new(-g.PadBefore + dilation * (k - 1) / 2.0, stride);

    /// <summary>No known geometry: the output spread evenly over the input (a resize's half-pixel centres).</summary>
    public static ProfileAxis Proportional(int inN, int outN) =>
        inN == outN ? Identity : new((inN / (double)outN - 1) / 2, inN / (double)outN);

    public double At(double o) => Offset + Step * o;

    /// <summary>This axis after <paramref name="inner"/>: where <paramref name="inner"/> puts output o on this layer's
    /// output, this axis puts that position on its input (both are affine, so the chain is too).</summary>
    public ProfileAxis Of(ProfileAxis inner) => new(Offset + Step * inner.Offset, Step * inner.Step);

    /// <summary>A map of <paramref name="n"/> pixels resampled (half-pixel centres) from <paramref name="length"/> pixels
    /// of its source starting at <paramref name="start"/> (a model's centre crop; the whole frame: 0 and its size).</summary>
    public static ProfileAxis Crop(double start, double length, int n) =>
        new(start + 0.5 * length / n - 0.5, length / n);

    /// <summary>The plot under a map: a <paramref name="outW"/>-pixel-wide output drawn in <paramref name="map"/> puts
    /// input position u (output o's window centre when u = At(o)) at window x map.X + ((u - Offset) / Step + 0.5) px an
    /// output pixel; the plot spans <see cref="Span"/> on that scale, cut to [<paramref name="left"/>, <paramref name="right"/>]
    /// (full padding reaches beyond the map), so a point of the row on the map stands right above its sample in the plot.
    /// Returns the plot's left and right edges and the input positions there.</summary>
    public (float Left, float Right, double X0, double X1) UnderMap(int inW, int outW, PixelRect map, float left, float right)
    {
        double px = map.Width / Math.Max(1, outW), offset = Offset, step = Step, mx = map.X;
        double Screen(double u) => mx + ((u - offset) / step + 0.5) * px;
        double Input(double x) => ((x - mx) / px - 0.5) * step + offset;
        (double x0, double x1) = Span(inW, outW);
        // A negative step (a slice that flips the columns) puts the input's start on the right: the plot still runs left
        // to right on screen, its input positions then falling.
        double a = Screen(x0), b = Screen(x1);
        double s0 = Math.Max(left, Math.Min(a, b)), s1 = Math.Min(right, Math.Max(a, b));
        return ((float)s0, (float)s1, Input(s0), Input(s1));
    }

    /// <summary>The input row shown for output row o: the window's centre row (the upper of the two middle rows for an
    /// even span), clamped to the input.</summary>
    public int InputIndex(int o, int n) => Math.Clamp((int)Math.Floor(At(o)), 0, n - 1);

    /// <summary>The plot's x range in input pixels: every input sample and every output sample's window centre.</summary>
    public (double X0, double X1) Span(int inN, int outN) =>
        (Math.Min(-0.5, At(0) - Step / 2), Math.Max(inN - 0.5, At(outN - 1) + Step / 2));
}

/// <summary>One scanline of the layer's input and output plotted under the output picture: 1D convolution, seen.
/// The row is the one under the pointer, else the pinned probe's, else the middle one.</summary>
internal sealed class ProfileView(ViewContext context) : SingleMapView(context)
{
    // One HUD line and its panel's padding, between the profile's image and its plot (the line grows with the window).
    private float LegendHeight => Context.LineHeight + 8 + 4;
    /// <summary>The share of the picture's height the image takes (the legend and the plot the rest): 0.52 for a
    /// landscape map (w >= 1.5 h), more for a narrower one, up to 0.70 for a portrait map of w &lt;= h / 2, whose plot is
    /// as narrow as the map: a plot as tall as the map left a 288x512 picture's map 180 px wide at 1280x720. Pure.</summary>
    public static float ImageShareFor(int w, int h) => Math.Clamp(0.52f + 0.18f * (1.5f - (float)w / Math.Max(1, h)), 0.52f, 0.70f);

    // Where the last Draw put the plot's legend (DrawLabels draws it there).
    private float _legendY;

    /// <summary>The map's rectangle in <paramref name="area"/> (right of the <paramref name="gutter"/>), the legend's top
    /// and the plot's: the map fitted into the top <see cref="ImageShareFor"/> of the height, centred in it where the
    /// height bounds it; where the width does (a tall window), at the top, with the legend and the plot right under it,
    /// so the plot gets the height the map leaves (in a 300x1100 window the map sat in the middle of 570 px with 230 px
    /// empty above and below it). Pure: a unit test holds it.</summary>
    public static (PixelRect Map, float LegendY, float PlotY) Place(PixelRect area, float gutter, int w, int h, float legendHeight)
    {
        var top = new PixelRect(area.X + gutter, area.Y, area.Width - gutter, area.Height * ImageShareFor(w, h));
        PixelRect map = top.Fit(w, h);
        float bottom = map.Y + map.Height < top.Y + top.Height - 1 ? map.Height : top.Height;
        if (bottom == map.Height) map = map with { Y = area.Y };
        return (map, area.Y + bottom + 2, area.Y + bottom + legendHeight);
    }

    private readonly List<string> _legend = [];
    private PixelRect _plot;
    // What the last Draw plotted: the input channels averaged and the output channel (their ranges are computed).
    private int _first = -1, _count, _channel;
    // Whether the last Draw put both curves on one scale (SharesScale).
    private bool _shared;

    public override ViewKind Kind => ViewKind.Profile;

    // The image takes ImageShareFor of the height; the plot below it the rest (less the legend); a gutter on the left holds the
    // plot's scale labels (they sat over the curves' left ends).
    public override (int Width, int Height) ContentSize(PixelRect window) =>
        Content(window, Context.Output.W, Context.Output.H, GutterFor(window, Context.LineHeight));

    /// <summary>The view's content in map pixels for <paramref name="window"/>: the map and, left of it, the gutter's
    /// <paramref name="gutter"/> window pixels at the scale the map is drawn at there; scaled up to about 1000 wide so
    /// whole numbers keep the aspect. Pure: a unit test holds it.</summary>
    public static (int Width, int Height) Content(PixelRect window, int w, int h, float gutter)
    {
        float share = ImageShareFor(w, h);
        float scale = Math.Max(1e-3f, Math.Min(Math.Max(1, window.Width - gutter) / w, window.Height * share / h));
        double width = w + gutter / scale, k = Math.Max(1, Math.Ceiling(1000.0 / width));
        return ((int)Math.Ceiling(width * k), (int)Math.Ceiling(h / share * k));
    }

    /// <summary>The scale labels' gutter: <see cref="GutterChars"/> of the HUD's characters (<see cref="Hud.CharWidthFor"/>),
    /// none in a window too narrow for it and 4 lines' width of map, or where it would take more than half the width
    /// (the labels then sit on the plot: in a 300x1100 window the gutter took 127 of the picture's 186 px and left the map
    /// 62 px wide; at 30% it left common 600x400 windows' labels over the curves). The rule depends on the width only through those floors, so a picture fitted to its content
    /// (LiveLayout.Hug) keeps its gutter.</summary>
    public static float GutterFor(PixelRect window, float lineHeight)
    {
        float gutter = GutterChars * Hud.CharWidthFor(lineHeight) + 8;
        return window.Width >= gutter + 4 * lineHeight && gutter <= 0.5f * window.Width ? gutter : 0;
    }

    // "in -34.95 / out 2.827" is 21 characters (a conv's labels, two scales); a shared scale's are shorter.
    private const int GutterChars = 22;

    public override void Draw(PixelRect area)
    {
        ILivePipeline pipeline = Context.Pipeline;
        int layer = Context.State.Layer;
        GpuTensor output = pipeline.LayerOutput(layer), input = pipeline.LayerInput(layer);
        int channel = Context.Channel(output);
        Presenter presenter = Context.Presenter;
        // The image on top, then a line for the plot's legend (drawn by the HUD), then the plot: nothing overlaps. The
        // gutter on the left is for the plot's scale labels.
        float gutter = GutterFor(area, Context.LineHeight);
        (OutputRect, _legendY, float plotY) = Place(area, gutter, output.W, output.H, LegendHeight);
        Context.DrawMap(output, channel, OutputRect);
        int outRow = Row(output);
        float rowY = OutputRect.Y + (outRow + 0.5f) * OutputRect.Height / output.H;
        presenter.DrawSolid(new PixelRect(OutputRect.X, rowY - 0.5f, OutputRect.Width, 1.5f), 1f, 0.55f, 0.1f, 0.9f);
        ConvView? conv = pipeline.Conv(layer);
        (LayerWindow wy, LayerWindow wx) = Windows(conv, pipeline.StackLayer(layer), input.H, input.W, output.H, output.W);
        (ProfileAxis ay, ProfileAxis ax) = (wy.Axis, wx.Axis);
        // The plot right under the map, on its scale: x in the plot is x on the map.
        (float left, float right, double x0, double x1) = ax.UnderMap(input.W, output.W, OutputRect, area.X + 2, area.X + area.Width - 2);
        var plot = _plot = new PixelRect(left, plotY, Math.Max(1, right - left), Math.Max(1, area.Y + area.Height - plotY - 4));
        int inRow = ay.InputIndex(outRow, input.H);
        // The input channels that feed this output channel: its group under a convolution, the pair under a magnitude,
        // the same channel under a channelwise layer (activation, pooling).
        StackLayer? stackLayer = pipeline.StackLayer(layer);
        // A pool's grey curve is its window's rows reduced as the pool reduces them (the max, or the mean), so the output
        // lies on it (a window review: a 2x2 max pool's output stood above its window's top row, the row plotted before).
        _rows = PoolRows(stackLayer, wy, outRow, input.H);
        (int first, int count) = conv is not null ? (conv.FirstInput(channel), conv.Weight.Shape[1])
            : stackLayer is MagnitudeLayer ? (2 * channel, 2)
            : stackLayer is ChannelReduceLayer ? (0, input.C)
            : (Math.Min(channel, input.C - 1), 1);
        _shared = conv is null && SharesScale(stackLayer);
        first = Math.Clamp(first, 0, input.C - 1);
        count = Math.Clamp(count, 1, input.C - first);
        // The plot scales the input by its channels' ranges together (DrawMap computed the output channel's).
        Context.InRanges.Compute(input, first, count);
        (_first, _count, _channel) = (first, count, channel);
        presenter.DrawProfile(input, Context.InRanges, inRow, first, count, output, Context.OutRanges, outRow, channel, plot, ax, _shared, x0, x1, _rows);
    }

    // The rows of the input a pool's shown output row reads (the grey curve's), or null: one row.
    private PoolRowSet? _rows;

    /// <summary>The input rows a pool's output row <paramref name="outRow"/> reads (first, count, step: its window's rows
    /// inside the map) and whether it takes their max; null for other layers (one row, the window's centre).</summary>
    internal static PoolRowSet? PoolRows(StackLayer? layer, LayerWindow wy, int outRow, int inH)
    {
        // The padding an average counts (its zeros add nothing to the sum, but divide it): a stack file's pool counts all
        // its rows (PyTorch's count_include_pad=True; it has no ceil_mode), an imported one those inside the padded
        // input where count_include_pad is set (ceil_mode's rows beyond it never count), else none.
        (bool? max, int before, int after) = layer switch
        {
            PoolLayer { Options: var p } => (p.Kind == PoolKind.Max, p.PadY, p.PadY),
            PaddedPoolLayer { Options: var p } when CountedPads(p, inH) is var (b, a) => (p.Kind == PoolKind.Max, b, a),
            _ => ((bool?)null, 0, 0),
        };
        if (max is null || wy.Taps is not { Transposed: false } t || t.Count <= 1) return null;
        int first = outRow * t.Stride + t.Offset, step = t.Dilation;
        // The rows inside the map (padding's rows hold nothing a max or a mean of the map's values takes).
        int k0 = 0, k1 = t.Count - 1;
        while (k0 <= k1 && first + k0 * step < 0) k0++;
        while (k1 >= k0 && first + k1 * step >= inH) k1--;
        if (k0 > k1) return null;
        // The rows counted lie in the padded input, which holds the map's: never fewer than the rows inside.
        int divisor = 0;
        for (int k = 0; k < t.Count; k++)
            if (first + k * step >= -before && first + k * step < inH + after) divisor++;
        return new PoolRowSet(first + k0 * step, k1 - k0 + 1, step, max.Value, divisor);
    }

    // The rows of padding above and below the map an imported average pool counts (count_include_pad), or none.
    private static (int Before, int After) CountedPads(PaddedPoolOptions p, int inH) =>
        !p.CountIncludePad ? (0, 0)
        : p.Padding == PaddingMode.Explicit ? (p.PadTop, p.PadBottom)
        : PaddedPool2D.SamePads(inH, p.SizeY, p.StrideY, p.DilationY, p.Padding == PaddingMode.SameUpper);

    /// <summary>The scripted run's line (stdout; the window tests read it): the plotted rows, the input channels averaged
    /// into the grey curve, and whether both curves share one scale.</summary>
    public string ScriptedLine() => _first < 0 ? "profile none" : string.Create(CultureInfo.InvariantCulture,
        $"profile layer={Context.State.Layer + 1} channel={_channel} in_first={_first} in_count={_count} shared={(_shared ? 1 : 0)}") +
        (_rows is { } r ? string.Create(CultureInfo.InvariantCulture, $" in_rows={r.First}:{r.Count}:{r.Step} {(r.Max ? "max" : r.Divisor == r.Count ? "mean" : $"sum/{r.Divisor}")}") : "");

    /// <summary>Whether a layer's output is in its input's units, so both curves go on one scale: an activation keeps
    /// what it passes (a ReLU's output lies on its input wherever that is positive, which two scales hid), a pool picks
    /// or averages input values, an add sums them (a max or a min picks one of two maps, a channel reduction's mean, max or
    /// min one pixel's values), a magnitude is a gradient's length. A convolution's output is in other units (an edge
    /// filter's -4..4 against an image's 0..1), and so are a batchnorm's and a softmax's, and a sub's: a difference of two
    /// maps is a new quantity, small where they agree (a difference of Gaussians, a band of +-0.17 on a 0..1 image, was a
    /// flat line on the input's scale); each on its own scale, the labels giving both. Pure: a unit test holds it.</summary>
    public static bool SharesScale(StackLayer? layer) =>
        layer is ActivationLayer or PReluLayer or UnaryLayer or PoolLayer or PaddedPoolLayer or GlobalAvgPoolLayer
            or GlobalMaxPoolLayer or AddLayer or MagnitudeLayer or ElementwiseLayer { Kind: Core.Ops.BinaryKind.Max or Core.Ops.BinaryKind.Min }
            or ChannelReduceLayer { Kind: not Core.Ops.ReduceKind.Sum };

    /// <summary>How layer's output lines up with its input along y and x: a convolution's or a pool's window
    /// geometry, else the identity for a same-size output, else an even spread. Pure: a unit test holds it.</summary>
    public static (ProfileAxis Y, ProfileAxis X) Axes(ConvView? conv, StackLayer? layer, int inH, int inW, int outH, int outW)
    {
        (LayerWindow y, LayerWindow x) = Windows(conv, layer, inH, inW, outH, outW);
        return (y.Axis, x.Axis);
    }

    /// <summary><see cref="Axes"/> with each output's reach about its window's centre: the inputs output o reads span
    /// At(o) - Half .. At(o) + Half (a conv's d (k - 1) / 2; a transposed conv's d (k - 1) / (2 s); a layer spread evenly
    /// over its input covers its Step - 1 neighbours (a global pool all of them), an upsampling one its two neighbours).
    /// Pure: a unit test holds it.</summary>
    public static (LayerWindow Y, LayerWindow X) Windows(ConvView? conv, StackLayer? layer, int inH, int inW, int outH, int outW)
    {
        try
        {
            if (conv is not null)
            {
                ConvOptions o = conv.Options;
                int kh = conv.Weight.Shape[2], kw = conv.Weight.Shape[3];
                ConvGeometry g = ConvGeometry.Compute(inH, inW, kh, kw, o);
                return (new(ProfileAxis.Window(g.Y, kh, o.StrideY, o.DilationY), o.DilationY * (kh - 1) / 2.0, o.Border,
                            Taps: new(kh, o.StrideY, o.DilationY, -g.Y.PadBefore)),
                        new(ProfileAxis.Window(g.X, kw, o.StrideX, o.DilationX), o.DilationX * (kw - 1) / 2.0, o.Border,
                            Taps: new(kw, o.StrideX, o.DilationX, -g.X.PadBefore)));
            }
            switch (layer)
            {
                case PoolLayer { Options: var p }:
                {
                    ConvGeometry g = Pool2D.Geometry(inH, inW, p);
                    return (new(ProfileAxis.Window(g.Y, p.SizeY, p.EffectiveStrideY, 1), (p.SizeY - 1) / 2.0, Taps: new(p.SizeY, p.EffectiveStrideY, 1, -g.Y.PadBefore)),
                            new(ProfileAxis.Window(g.X, p.SizeX, p.EffectiveStrideX, 1), (p.SizeX - 1) / 2.0, Taps: new(p.SizeX, p.EffectiveStrideX, 1, -g.X.PadBefore)));
                }
                case PaddedPoolLayer { Options: var p }:
                {
                    ConvGeometry g = PaddedPool2D.Geometry(inH, inW, p);
                    return (new(ProfileAxis.Window(g.Y, p.SizeY, p.StrideY, p.DilationY), p.DilationY * (p.SizeY - 1) / 2.0,
                                Taps: new(p.SizeY, p.StrideY, p.DilationY, -g.Y.PadBefore)),
                            new(ProfileAxis.Window(g.X, p.SizeX, p.StrideX, p.DilationX), p.DilationX * (p.SizeX - 1) / 2.0,
                                Taps: new(p.SizeX, p.StrideX, p.DilationX, -g.X.PadBefore)));
                }
                // A transposed conv: input i's taps land on i s + j d - pad, so output o gathers inputs
                // (o + pad - j d) / s, centred at (o + pad - d (k - 1) / 2) / s.
                case ConvTransposeLayer { Options: var t, Weight: var wt }:
                    return (new(new ProfileAxis((t.PadTop - t.DilationY * (wt.Shape[2] - 1) / 2.0) / t.StrideY, 1.0 / t.StrideY), t.DilationY * (wt.Shape[2] - 1) / (2.0 * t.StrideY),
                                Taps: new(wt.Shape[2], t.StrideY, t.DilationY, -t.PadTop, Transposed: true)),
                            new(new ProfileAxis((t.PadLeft - t.DilationX * (wt.Shape[3] - 1) / 2.0) / t.StrideX, 1.0 / t.StrideX), t.DilationX * (wt.Shape[3] - 1) / (2.0 * t.StrideX),
                                Taps: new(wt.Shape[3], t.StrideX, t.DilationX, -t.PadLeft, Transposed: true)));
                // Output o is input o - top (a negative padding crops: o + the rows cut).
                // A slice: output o is input start + step o on each axis (a flip's step is -1, a Focus phase's 2).
                case SliceLayer slice:
                {
                    Core.Ops.Indexing.SliceAxis r = slice.Rows?.Resolve(inH) ?? new(0, 1, inH), q = slice.Cols?.Resolve(inW) ?? new(0, 1, inW);
                    return (new(new ProfileAxis(r.Start, r.Step), 0), new(new ProfileAxis(q.Start, q.Step), 0));
                }
                case PadLayer pad:
                {
                    PadOptions pads = pad.For(inH, inW, outH, outW);
                    return (new(new ProfileAxis(-pads.Top, 1), 0, pads.Border), new(new ProfileAxis(-pads.Left, 1), 0, pads.Border));
                }
                // Output o samples the input at Resize2D.Source(o), affine in o for every coordinate mode (asymmetric: o /
                // scale, align_corners, half-pixel, ...), read by its interpolation: linear the two pixels around it (one
                // at a whole position: an open interval), cubic four, nearest the one it rounds to (a closed interval: a
                // tie, as asymmetric 2x puts at 0.5, counts both neighbours, where the open one counted none).
                case ResizeLayer resize:
                {
                    ResizeOptions r = resize.For(outH, outW);
                    (double sy, double sx) = Resize2D.Scales(inH, inW, r);
                    double half = r.Mode switch { ResizeMode.Nearest => 0.5, ResizeMode.Linear => 1, _ => 2 };
                    bool open = r.Mode != ResizeMode.Nearest;
                    bool nearest = r.Mode == ResizeMode.Nearest;
                    return (new(ResizeAxis(inH, outH, sy, r.Coordinates), half, Border.Replicate, open, nearest ? new(inH, outH, sy, r.Coordinates, r.Rounding) : null),
                            new(ResizeAxis(inW, outW, sx, r.Coordinates), half, Border.Replicate, open, nearest ? new(inW, outW, sx, r.Coordinates, r.Rounding) : null));
                }
            }
        }
        catch (ConvGLException)
        {
            // A geometry the layer's own run refused draws no output anyway; fall through to the even spread.
        }
        return (Spread(inH, outH), Spread(inW, outW));
    }

    /// <summary>Where a resize's output o samples its input: <see cref="Resize2D.Source"/>, which is affine in o (a
    /// one-pixel output: its one position). Pure: a unit test holds it.</summary>
    public static ProfileAxis ResizeAxis(int inN, int outN, double scale, ResizeCoordinates c)
    {
        double first = Resize2D.Source(0, inN, outN, scale, c);
        return new ProfileAxis(first, outN > 1 ? Resize2D.Source(1, inN, outN, scale, c) - first : inN / (double)Math.Max(1, outN));
    }

    // A layer with no window of its own, spread evenly: the same pixel at the same size; a downsampling one (a global
    // pool, space-to-depth) its Step inputs; an upsampling one (depth-to-space) the one pixel under each output.
    private static LayerWindow Spread(int inN, int outN)
    {
        ProfileAxis a = ProfileAxis.Proportional(inN, outN);
        return inN == outN ? new(a, 0) : a.Step >= 1 ? new(a, (a.Step - 1) / 2) : new(a, 0.5, Border.Replicate, Open: true);
    }

    /// <summary>The source pixels output pixel (<paramref name="x"/>, <paramref name="y"/>) of <paramref name="layer"/>
    /// depends on (its receptive field), as first and last column and row. Each axis is followed as a set of pixels, layer
    /// by layer (<see cref="LayerWindow.Mark"/>: the pixels each output of the set reads, a border's reads folded back into
    /// the map), through every input of every layer it reads (a residual add's both paths; an input broadcast from
    /// another size, such as a (C, 1, 1) gate, all of it), back to the stack input and through a model's bilinear resize
    /// onto the <paramref name="sourceH"/> x <paramref name="sourceW"/> frame; NaN where it depends on no source pixel (a
    /// zero border's output, a transposed conv's gap). A bounding box of those sets: a wrap border's field split over both
    /// edges spans what lies between. Reads only planned sizes; <paramref name="sets"/> is reused between calls (a hover
    /// asks every frame: nothing is allocated then).</summary>
    public static (double X0, double Y0, double X1, double Y1) FieldOnSource(ILivePipeline pipeline, int layer, int x, int y, int sourceH, int sourceW,
                                                                            FieldSets sets)
    {
        var none = (double.NaN, 0.0, 0.0, 0.0);
        (int layerH, int layerW) = pipeline.LayerOutputSize(layer);
        if ((uint)x >= (uint)layerW || (uint)y >= (uint)layerH || sourceH < 1 || sourceW < 1) return none;
        sets.Prepare(pipeline, layer, sourceH, sourceW);
        sets.Cols[layer][x] = sets.Rows[layer][y] = sets.Any[layer] = true;
        bool input = false;
        for (int i = layer; i >= 0; i--)
        {
            if (!sets.Any[i]) continue;
            IReadOnlyList<int> reads = pipeline.InputLayers(i);
            (int inH, int inW) = pipeline.LayerOutputSize(reads[0]);
            (int outH, int outW) = pipeline.LayerOutputSize(i);
            (LayerWindow wy, LayerWindow wx) = Windows(pipeline.Conv(i), pipeline.StackLayer(i), inH, inW, outH, outW);
            bool[] cols = FieldSets.Cleared(ref sets.TmpCols, inW), rows = FieldSets.Cleared(ref sets.TmpRows, inH);
            if (!MarkAll(wx, sets.Cols[i], outW, inW, cols) | !MarkAll(wy, sets.Rows[i], outH, inH, rows)) continue;
            // A layer that is off passes its first input on; one that is on reads all of them.
            for (int r = 0; r < (pipeline.IsEnabled(i) ? reads.Count : 1); r++)
            {
                int from = reads[r];
                if (from >= i) continue; // (a graph reads earlier layers only)
                (int h, int w) = pipeline.LayerOutputSize(from);
                bool[] toCols = from < 0 ? sets.InputCols : sets.Cols[from], toRows = from < 0 ? sets.InputRows : sets.Rows[from];
                bool same = (h, w) == (inH, inW);
                for (int c = 0; c < w; c++) toCols[c] |= !same || cols[c];
                for (int rr = 0; rr < h; rr++) toRows[rr] |= !same || rows[rr];
                if (from < 0) input = true;
                else sets.Any[from] = true;
            }
        }
        if (!input) return none;
        (ProfileAxis iy, ProfileAxis ix) = InputOnSource(pipeline, sourceH, sourceW);
        (int stackH, int stackW) = pipeline.LayerOutputSize(-1);
        if (!MarkAll(Resample(ix), sets.InputCols, stackW, sourceW, sets.SourceCols) | !MarkAll(Resample(iy), sets.InputRows, stackH, sourceH, sets.SourceRows))
            return none;
        return (Array.IndexOf(sets.SourceCols, true, 0, sourceW), Array.IndexOf(sets.SourceRows, true, 0, sourceH),
                Array.LastIndexOf(sets.SourceCols, true, sourceW - 1, sourceW), Array.LastIndexOf(sets.SourceRows, true, sourceH - 1, sourceH));
    }

    // Marks in `into` (an n-pixel input) what each output in `outputs` (m of them) reads; whether anything was marked.
    private static bool MarkAll(LayerWindow window, bool[] outputs, int m, int n, bool[] into)
    {
        for (int o = 0; o < m; o++)
            if (outputs[o]) window.Mark(o, n, into);
        return Array.IndexOf(into, true, 0, n) >= 0;
    }

    // Where the stack input's pixels sit on the source frame: a model's centre crop resampled to its input size; else
    // the frame resampled to the input's size (the identity at the same size).
    private static (ProfileAxis Y, ProfileAxis X) InputOnSource(ILivePipeline pipeline, int sourceH, int sourceW)
    {
        (int inputH, int inputW) = pipeline.LayerOutputSize(-1);
        (double top, double left, double h, double w) = pipeline.InputCrop(sourceH, sourceW) ?? (0, 0, sourceH, sourceW);
        return (ProfileAxis.Crop(top, h, inputH), ProfileAxis.Crop(left, w, inputW));
    }

    // The stack input from the source frame: the same pixels, or (a model's preprocessing) bilinear with half-pixel
    // centres, clamped at the edge: the two source pixels around each position.
    private static LayerWindow Resample(ProfileAxis a) =>
        a == ProfileAxis.Identity ? new(a, 0) : new(a, 1, Border.Replicate, Open: true);

    /// <summary>Where layer <paramref name="layer"/>'s output samples sit on a <paramref name="sourceH"/> x
    /// <paramref name="sourceW"/> source frame: each layer's window geometry (<see cref="Axes"/>) chained back along its
    /// first input to the stack input, then the stack input on the frame (a model's centre crop and resize; else the
    /// frame resampled to the input's size, the identity at the same size). The split view draws the output so. Reads
    /// only planned sizes: no map is computed for it.</summary>
    public static (ProfileAxis Y, ProfileAxis X) OnSource(ILivePipeline pipeline, int layer, int sourceH, int sourceW)
    {
        ProfileAxis y = ProfileAxis.Identity, x = ProfileAxis.Identity;
        for (int i = layer; i >= 0;)
        {
            int from = pipeline.InputLayer(i);
            (int inH, int inW) = pipeline.LayerOutputSize(from);
            (int outH, int outW) = pipeline.LayerOutputSize(i);
            (ProfileAxis ly, ProfileAxis lx) = Axes(pipeline.Conv(i), pipeline.StackLayer(i), inH, inW, outH, outW);
            (y, x) = (ly.Of(y), lx.Of(x));
            if (from >= i) break; // (a graph reads earlier layers only; never loop)
            i = from;
        }
        (ProfileAxis iy, ProfileAxis ix) = InputOnSource(pipeline, sourceH, sourceW);
        return (iy.Of(y), ix.Of(x));
    }

    private int Row(GpuTensor output)
    {
        if (HitTest(Context.MouseX, Context.MouseY, out TensorPoint p)) return p.Y;
        ViewState s = Context.State;
        return s.Pinned ? Math.Clamp(s.PinY, 0, output.H - 1) : output.H / 2;
    }

    public override void DrawLabels(Hud hud, PixelRect area)
    {
        GpuTensor output = Context.Output;
        _legend.Clear();
        // From the plot's left edge, or the gutter's where the legend is longer than the room right of it (a narrow
        // portrait map's plot cut it to "grey in, orange ou~").
        float x = Math.Min(_plot.X, area.X + area.Width - 40);
        int chars = HudText.CharsIn(area.X + area.Width - x - 22, hud.CharWidth);
        string channelName = Context.Channel(output).ToString(CultureInfo.InvariantCulture);
        // The grey curve averages the input maps that feed the shown one (a conv's group, a magnitude's pair): said so.
        string mean = _count > 1 ? string.Create(CultureInfo.InvariantCulture, $" (mean of {_count})") : "";
        if (("grey in" + mean + ", orange out ch " + channelName).Length > chars && x > area.X + 2)
        {
            x = area.X + 2;
            chars = HudText.CharsIn(area.X + area.Width - x - 22, hud.CharWidth);
        }
        // The long legend where it fits on one line, else the short one (the channel's number must stay).
        string channel = Context.Channel(output).ToString(CultureInfo.InvariantCulture);
        // (An average that counts padding: the rows inside summed over every row it counts, as the scripted line's sum/N.)
        string rows = _rows is { } r && (r.Count > 1 || r.Divisor != r.Count) ? string.Create(CultureInfo.InvariantCulture,
            $" ({(r.Max ? "max" : r.Divisor == r.Count ? "mean" : "sum")} of the window's rows {r.First}-{r.First + (r.Count - 1) * r.Step}{(!r.Max && r.Divisor != r.Count ? $" / {r.Divisor}, padding counted" : "")})") : "";
        string full = "row profile: grey = input" + (_count > 1 ? string.Create(CultureInfo.InvariantCulture, $" (the mean of its {_count} maps)") : "") + rows +
                      ", orange = output channel " + channel;
        _legend.Add(full.Length <= chars ? full : HudText.Fit("grey in" + mean + ", orange out ch " + channel, chars));
        hud.Panel(x, _legendY, _legend);
        if (!Context.HaveFrame || _first < 0 || _plot.Height < 3 * hud.LineHeight) return;
        // The plot's scale, read back with the HUD: the values at its top, middle line and bottom, input / output.
        (float inMin, float inMax) = Context.InRanges.Read(_first);
        for (int c = _first + 1; c < _first + _count; c++)
        {
            (float lo, float hi) = Context.InRanges.Read(c);
            (inMin, inMax) = (Math.Min(inMin, lo), Math.Max(inMax, hi));
        }
        (float outMin, float outMax) = Context.OutRanges.Read(_channel);
        // On one scale (profile.frag's uShared): the union of the two ranges, one number a line.
        if (_shared) (inMin, inMax, outMin, outMax) = (Math.Min(inMin, outMin), Math.Max(inMax, outMax), Math.Min(inMin, outMin), Math.Max(inMax, outMax));
        (double inBottom, double inTop) = PlotScale(inMin, inMax);
        (double outBottom, double outTop) = PlotScale(outMin, outMax);
        string Label(double i, double o) => _shared ? "in, out " + ColourBar.Number((float)o)
            : "in " + ColourBar.Number((float)i) + " / out " + ColourBar.Number((float)o);
        string top = Label(inTop, outTop), middle = Label((inBottom + inTop) / 2, (outBottom + outTop) / 2), bottom = Label(inBottom, outBottom);
        // Left of the plot where the picture has room for them there, else on its left edge (over the curves).
        float width = hud.Measure([top, middle, bottom]) - 6;
        float lx = _plot.X - area.X >= width + 4 ? _plot.X - width - 2 : _plot.X + 2;
        hud.Label(lx, _plot.Y + 1, top);
        hud.Label(lx, _plot.Y + _plot.Height / 2 - hud.LineHeight / 2, middle);
        hud.Label(lx, _plot.Y + _plot.Height - hud.LineHeight - 1, bottom);
    }

    /// <summary>The values at the plot's bottom and top edges for a curve whose values span [<paramref name="min"/>,
    /// <paramref name="max"/>], as profile.frag scales it: 0 to 1 when they lie there (an image), 0 to max when none is
    /// negative (a ReLU's map), else -m to m with m the largest |value| (signed responses: 0 on the middle line).</summary>
    public static (double Bottom, double Top) PlotScale(float min, float max)
    {
        if (float.IsNaN(min) || float.IsNaN(max)) return (double.NaN, double.NaN);
        // A minimum within 1e-6 of the maximum below zero is rounding, not a signed map (the picture audit: the theorem's
        // FFT curve of a row of zeros and positives dipped to -1e-16 and put both curves on a signed scale); profile.frag's rule.
        bool noneNegative = min >= -1e-6 * Math.Max(max, 0);
        if (noneNegative && max <= 1) return (0, 1);
        if (noneNegative) return (0, max);
        double m = Math.Max(Math.Max(Math.Abs(min), Math.Abs(max)), 1e-6);
        return (-m, m);
    }
}
