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

    public ColourBarMap? ColourBarMap => new ColourBarMap(Context.Output, Context.State.Layer, Context.Channel(Context.Output), false, Context.Output.C == 3);

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
/// window not twice as wide as it is tall): what went in next to what came out.</summary>
internal sealed class SplitView(ViewContext context) : SingleMapView(context)
{
    private PixelRect _sourceRect;
    private PixelRect? _crop;

    /// <summary>Where <paramref name="crop"/> (source pixels) lies in the source drawn at <paramref name="shown"/>; null
    /// for no crop or one that is the whole frame. Pure: a unit test holds it.</summary>
    public static PixelRect? CropRect(PixelRect shown, int width, int height, (double Top, double Left, double Height, double Width)? crop)
    {
        if (crop is not { } c || (c.Top <= 0.5 && c.Left <= 0.5 && c.Height >= height - 1 && c.Width >= width - 1)) return null;
        float sx = shown.Width / width, sy = shown.Height / height;
        return new PixelRect(shown.X + (float)c.Left * sx, shown.Y + (float)c.Top * sy, (float)c.Width * sx, (float)c.Height * sy);
    }

    public override ViewKind Kind => ViewKind.Split;

    public override (int Width, int Height) ContentSize(PixelRect window)
    {
        GpuTensor output = Context.Output;
        return Stacked(window, output.W, output.H) ? (output.W, 2 * output.H) : (2 * output.W, output.H);
    }

    /// <summary>Whether two <paramref name="w"/> x <paramref name="h"/> pictures drawn one above the other in
    /// <paramref name="area"/> come out larger than side by side.</summary>
    public static bool Stacked(PixelRect area, int w, int h)
    {
        float beside = Math.Min(area.Width / (2f * w), area.Height / h), above = Math.Min(area.Width / w, area.Height / (2f * h));
        return above > beside;
    }

    public override void Draw(PixelRect area)
    {
        GpuTensor output = Context.Output;
        PixelRect first, second;
        if (Stacked(area, output.W, output.H))
        {
            first = new PixelRect(area.X, area.Y, area.Width, area.Height / 2);
            second = new PixelRect(area.X, area.Y + area.Height / 2, area.Width, area.Height / 2);
        }
        else
        {
            first = new PixelRect(area.X, area.Y, area.Width / 2, area.Height);
            second = new PixelRect(area.X + area.Width / 2, area.Y, area.Width / 2, area.Height);
        }
        _sourceRect = first.Fit(Context.Source.Width, Context.Source.Height);
        Context.Presenter.DrawTexture(Context.Source.Handle, _sourceRect);
        // A model that sees a centre crop of the source (ResNet18's 224x224): that part framed, so the output is seen
        // to be of it.
        _crop = CropRect(_sourceRect, Context.Source.Width, Context.Source.Height, Context.Pipeline.InputCrop(Context.Source.Height, Context.Source.Width));
        if (_crop is { } c) Context.Presenter.DrawFrame(c, 2, 1f, 0.55f, 0.1f);
        OutputRect = second.Fit(output.W, output.H);
        Context.DrawMap(output, Context.Channel(output), OutputRect);
    }

    public override void DrawLabels(Hud hud, PixelRect area)
    {
        if (!Context.HaveFrame) return;
        hud.Label(_sourceRect.X + 3, _sourceRect.Y + 3, _crop is null ? "source" : "source (framed: the model's input)");
        hud.Label(OutputRect.X + 3, OutputRect.Y + 3, "output");
    }
}
