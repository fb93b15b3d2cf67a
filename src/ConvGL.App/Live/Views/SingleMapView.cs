using ConvGL.Gpu;

namespace ConvGL.App.Live.Views;

/// <summary>A view that shows one map of the selected layer in <see cref="OutputRect"/>: the pointer maps to that
/// map's pixels, a click pins (or unpins) the probe there, and the probe's marker is drawn on it.</summary>
internal abstract class SingleMapView(ViewContext context) : ILiveView
{
    protected ViewContext Context { get; } = context;

    public abstract ViewKind Kind { get; }
    public PixelRect OutputRect { get; protected set; }
    public virtual bool ShowsProbeMarker => true;
    public virtual PixelRect? ProbeClip => null;
    public virtual PixelRect? SourceField(int layer, int x, int y) => null;

    public ColourBarMap? ColourBarMap => new ColourBarMap(Context.Output, Context.State.Layer, Context.Channel(Context.Output), false, Context.ShowsColour(Context.Output));

    public virtual (int Width, int Height) ContentSize(PixelRect window) => (Context.Output.W, Context.Output.H);

    public abstract void Draw(PixelRect area);

    public virtual bool HitTest(double x, double y, out TensorPoint point)
    {
        GpuTensor output = Context.Output;
        return MapHit(OutputRect, x, y, output.W, output.H, Context.State.Channel, out point);
    }

    public virtual void Click(bool over, TensorPoint point)
    {
        ViewState s = Context.State;
        if (over && !s.Pinned) s.Pin(point.X, point.Y, point.Channel);
        else s.Pinned = false;
    }

    public virtual void DrawLabels(Hud hud, PixelRect area)
    {
    }

    /// <summary>The pixel of a <paramref name="w"/> x <paramref name="h"/> map drawn in <paramref name="r"/> under
    /// (<paramref name="x"/>, <paramref name="y"/>); false outside it.</summary>
    public static bool MapHit(PixelRect r, double x, double y, int w, int h, int channel, out TensorPoint point)
    {
        point = new TensorPoint(0, 0, channel);
        if (!r.Contains(x, y)) return false;
        double u = (x - r.X) / r.Width, v = (y - r.Y) / r.Height;
        point = new TensorPoint(Math.Clamp((int)(u * w), 0, w - 1), Math.Clamp((int)(v * h), 0, h - 1), channel);
        return true;
    }
}

/// <summary>The selected layer's output (or the filter's) filling the picture.</summary>
internal sealed class OutputView(ViewContext context) : SingleMapView(context)
{
    public override ViewKind Kind => ViewKind.Output;

    public override void Draw(PixelRect area)
    {
        GpuTensor output = Context.Output;
        OutputRect = area.Fit(output.W, output.H);
        Context.DrawMap(output, Context.Channel(output), OutputRect);
    }
}

/// <summary>Source and output side by side, or one above the other where that draws them larger (a 16:9 picture in a
/// window not twice as wide as it is tall): what went in next to what came out. The output is registered on the source:
/// drawn at the source's scale where its pixels' windows lie (<see cref="ProfileView.OnSource"/>), so a valid conv's
/// output leaves the border it cannot compute empty, a stride-2 pixel covers 2x2 source pixels and a model's output
/// covers its centre crop; a full conv's wider output is cut at the panel's edge.</summary>
internal sealed class SplitView(ViewContext context) : SingleMapView(context)
{
    private PixelRect _sourceRect, _panel, _shown;
    private PixelRect? _crop;

    /// <summary>Where <paramref name="crop"/> (source pixels) lies in the source drawn at <paramref name="shown"/>; null
    /// for no crop or one that is the whole frame. Pure: a unit test holds it.</summary>
    public static PixelRect? CropRect(PixelRect shown, int width, int height, (double Top, double Left, double Height, double Width)? crop)
    {
        if (crop is not { } c || (c.Top <= 0.5 && c.Left <= 0.5 && c.Height >= height - 1 && c.Width >= width - 1)) return null;
        float sx = shown.Width / width, sy = shown.Height / height;
        return new PixelRect(shown.X + (float)c.Left * sx, shown.Y + (float)c.Top * sy, (float)c.Width * sx, (float)c.Height * sy);
    }

    /// <summary>Where a <paramref name="outW"/> x <paramref name="outH"/> output whose samples sit on the source at
    /// (<paramref name="y"/>, <paramref name="x"/>) is drawn over a <paramref name="sourceW"/>-pixel-wide source shown at
    /// <paramref name="shown"/>: output o's pixel centred over source position At(o), Step source pixels wide. Pure: a
    /// unit test holds it.</summary>
    public static PixelRect Registered(PixelRect shown, int sourceW, ProfileAxis y, ProfileAxis x, int outH, int outW)
    {
        float s = shown.Width / sourceW;
        return new PixelRect(shown.X + (float)((x.At(0) - x.Step / 2 + 0.5) * s), shown.Y + (float)((y.At(0) - y.Step / 2 + 0.5) * s),
                             (float)(outW * x.Step * s), (float)(outH * y.Step * s));
    }

    public override ViewKind Kind => ViewKind.Split;

    // Both halves hold the source's frame (the output is drawn where it lies on it).
    public override (int Width, int Height) ContentSize(PixelRect window)
    {
        (int w, int h) = (Context.Source.Width, Context.Source.Height);
        return Stacked(window, w, h) ? (w, 2 * h) : (2 * w, h);
    }

    /// <summary>Whether two <paramref name="w"/> x <paramref name="h"/> pictures drawn one above the other in
    /// <paramref name="area"/> come out larger than side by side.</summary>
    public static bool Stacked(PixelRect area, int w, int h)
    {
        float beside = Math.Min(area.Width / (2f * w), area.Height / h), above = Math.Min(area.Width / w, area.Height / (2f * h));
        return above > beside;
    }

    public override bool HitTest(double x, double y, out TensorPoint point) =>
        base.HitTest(x, y, out point) && _panel.Contains(x, y);

    public override PixelRect? ProbeClip => _panel;

    // The last receptive field drawn (source pixels, first and last per axis), for the scripted line; NaN: none.
    private (double X0, double Y0, double X1, double Y1) _field = (double.NaN, 0, 0, 0);
    private PixelRect? _fieldRect;
    private readonly FieldSets _fieldSets = new();

    /// <summary>The probed pixel's receptive field (<see cref="ProfileView.FieldOnSource"/>) framed on the source, cut to
    /// the source's rectangle (padding lies outside it).</summary>
    public override PixelRect? SourceField(int layer, int x, int y)
    {
        int sw = Context.Source.Width, sh = Context.Source.Height;
        _field = ProfileView.FieldOnSource(Context.Pipeline, layer, x, y, sh, sw, _fieldSets);
        _fieldRect = FieldRect(_sourceRect, sw, _field);
        return _fieldRect;
    }

    /// <summary>The label on a field's frame: "receptive field 18x18" in source pixels (a field's ends are whole pixels;
    /// any fraction would be rounded outwards). Pure: a unit test holds it.</summary>
    public static string FieldLabel((double X0, double Y0, double X1, double Y1) f)
    {
        int x0 = (int)Math.Floor(f.X0 + 1e-9), y0 = (int)Math.Floor(f.Y0 + 1e-9), x1 = (int)Math.Ceiling(f.X1 - 1e-9), y1 = (int)Math.Ceiling(f.Y1 - 1e-9);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"receptive field {x1 - x0 + 1}x{y1 - y0 + 1}");
    }

    /// <summary>Source pixels <paramref name="field"/> (first and last per axis, inclusive) on a <paramref name="sourceW"/>-wide
    /// source drawn at <paramref name="shown"/>, cut to it; null where nothing of it is inside. Pure: a unit test holds it.</summary>
    public static PixelRect? FieldRect(PixelRect shown, int sourceW, (double X0, double Y0, double X1, double Y1) field)
    {
        float s = shown.Width / sourceW;
        float x0 = Math.Max(shown.X, shown.X + (float)field.X0 * s), y0 = Math.Max(shown.Y, shown.Y + (float)field.Y0 * s);
        float x1 = Math.Min(shown.X + shown.Width, shown.X + (float)(field.X1 + 1) * s), y1 = Math.Min(shown.Y + shown.Height, shown.Y + (float)(field.Y1 + 1) * s);
        return x1 > x0 && y1 > y0 ? new PixelRect(x0, y0, x1 - x0, y1 - y0) : null;
    }

    public override void Draw(PixelRect area)
    {
        GpuTensor output = Context.Output;
        int sw = Context.Source.Width, sh = Context.Source.Height;
        PixelRect first, second;
        if (Stacked(area, sw, sh))
        {
            first = new PixelRect(area.X, area.Y, area.Width, area.Height / 2);
            second = new PixelRect(area.X, area.Y + area.Height / 2, area.Width, area.Height / 2);
        }
        else
        {
            first = new PixelRect(area.X, area.Y, area.Width / 2, area.Height);
            second = new PixelRect(area.X + area.Width / 2, area.Y, area.Width / 2, area.Height);
        }
        _sourceRect = first.Fit(sw, sh);
        _panel = second;
        // The probe's field is framed after the view draws (SourceField), only while a pixel is probed.
        (_field, _fieldRect) = ((double.NaN, 0, 0, 0), null);
        Context.Presenter.DrawTexture(Context.Source.Handle, _sourceRect);
        // A model that sees a centre crop of the source (ResNet18's 224x224): that part framed, so the output is seen
        // to be of it.
        _crop = CropRect(_sourceRect, sw, sh, Context.Pipeline.InputCrop(sh, sw));
        if (_crop is { } c) Context.Presenter.DrawFrame(c, 2, 1f, 0.55f, 0.1f);
        (ProfileAxis ay, ProfileAxis ax) = ProfileView.OnSource(Context.Pipeline, Context.State.Layer, sh, sw);
        _shown = second.Fit(sw, sh);
        OutputRect = Registered(_shown, sw, ay, ax, output.H, output.W);
        Context.Presenter.Clip(second);
        Context.DrawMap(output, Context.Channel(output), OutputRect);
        Context.Presenter.Clip(null);
    }

    /// <summary>The scripted run's line: the source's rectangle in the output's half (where the output is registered)
    /// and the output's, to a tenth of a pixel (a window test checks the registration), and the last probed pixel's
    /// receptive field in source pixels (first and last column and row).</summary>
    public string ScriptedLine() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"split source={_shown.X:0.0},{_shown.Y:0.0},{_shown.Width:0.0},{_shown.Height:0.0} output={OutputRect.X:0.0},{OutputRect.Y:0.0},{OutputRect.Width:0.0},{OutputRect.Height:0.0}") +
        (double.IsNaN(_field.X0) ? "" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $" field={_field.X0:0.##},{_field.Y0:0.##},{_field.X1:0.##},{_field.Y1:0.##}"));

    public override void DrawLabels(Hud hud, PixelRect area)
    {
        if (!Context.HaveFrame) return;
        hud.Label(_sourceRect.X + 3, _sourceRect.Y + 3, _crop is null ? "source" : "source (framed: the model's input)");
        hud.Label(Math.Max(OutputRect.X, _panel.X) + 3, Math.Max(OutputRect.Y, _panel.Y) + 3, "output");
        // The probed pixel's field, named under its frame (inside the source, at the frame's foot where there is room).
        if (_fieldRect is { } f && !double.IsNaN(_field.X0))
        {
            string label = FieldLabel(_field);
            float y = f.Y + f.Height + 3, width = (label.Length + 1) * hud.CharWidth;
            if (y + hud.LineHeight > _sourceRect.Y + _sourceRect.Height) y = Math.Max(_sourceRect.Y, f.Y - hud.LineHeight - 3);
            hud.Label(Math.Max(_sourceRect.X, Math.Min(f.X, _sourceRect.X + _sourceRect.Width - width)), y, label);
        }
    }
}
