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

/// <summary>Source | output side by side: what went in next to what came out.</summary>
internal sealed class SplitView(ViewContext context) : SingleMapView(context)
{
    public override ViewKind Kind => ViewKind.Split;

    public override (int Width, int Height) ContentSize(PixelRect window) => (2 * Context.Output.W, Context.Output.H);

    public override void Draw(PixelRect area)
    {
        GpuTensor output = Context.Output;
        var left = new PixelRect(area.X, area.Y, area.Width / 2, area.Height);
        var right = new PixelRect(area.X + area.Width / 2, area.Y, area.Width / 2, area.Height);
        Context.Presenter.DrawTexture(Context.Source.Handle, left.Fit(Context.Source.Width, Context.Source.Height));
        OutputRect = right.Fit(output.W, output.H);
        Context.DrawMap(output, Context.Channel(output), OutputRect);
    }
}
