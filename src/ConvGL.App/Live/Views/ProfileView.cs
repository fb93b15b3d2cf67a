using System.Globalization;
using ConvGL.Gpu;

namespace ConvGL.App.Live.Views;

/// <summary>One scanline of the layer's input and output plotted under the output picture: 1D convolution, seen.
/// The row is the one under the pointer, else the pinned probe's, else the middle one.</summary>
internal sealed class ProfileView(ViewContext context) : SingleMapView(context)
{
    // One HUD line (15 px) and its panel's padding, between the profile's image and its plot.
    private const float LegendHeight = 15 + 8 + 4;
    // The image takes this share of the picture's height; the legend and the plot the rest.
    private const float ImageShare = 0.52f;

    private readonly List<string> _legend = [];

    public override ViewKind Kind => ViewKind.Profile;

    // The image takes ImageShare of the height; the plot below it wants as much again.
    public override (int Width, int Height) ContentSize(PixelRect window) => (Context.Output.W, (int)(Context.Output.H / ImageShare));

    public override void Draw(PixelRect area)
    {
        ILivePipeline pipeline = Context.Pipeline;
        int layer = Context.State.Layer;
        GpuTensor output = pipeline.LayerOutput(layer), input = pipeline.LayerInput(layer);
        int channel = Context.Channel(output);
        Presenter presenter = Context.Presenter;
        // The image on top, then a line for the plot's legend (drawn by the HUD), then the plot: nothing overlaps.
        var top = new PixelRect(area.X, area.Y, area.Width, area.Height * ImageShare);
        float plotY = area.Y + area.Height * ImageShare + LegendHeight;
        var plot = new PixelRect(area.X + 10, plotY, area.Width - 20, Math.Max(1, area.Y + area.Height - plotY - 4));
        OutputRect = top.Fit(output.W, output.H);
        Context.DrawMap(output, channel, OutputRect);
        int outRow = Row(output);
        float rowY = OutputRect.Y + (outRow + 0.5f) * OutputRect.Height / output.H;
        presenter.DrawSolid(new PixelRect(OutputRect.X, rowY - 0.5f, OutputRect.Width, 1.5f), 1f, 0.55f, 0.1f, 0.9f);
        int inRow = (int)Math.Round((outRow + 0.5) * input.H / output.H - 0.5);
        // The input channels that feed this output channel: its group under a convolution, the same
        // channel under a channelwise layer (activation, pooling).
        (int first, int count) = pipeline.Conv(layer) is { } conv
            ? (channel / (conv.Weight.Shape[0] / conv.Options.Groups) * conv.Weight.Shape[1], conv.Weight.Shape[1])
            : (Math.Min(channel, input.C - 1), 1);
        // The plot scales the input by its first channel's range (DrawMap computed the output channel's).
        first = Math.Clamp(first, 0, input.C - 1);
        Context.InRanges.Compute(input, first, 1);
        presenter.DrawProfile(input, Context.InRanges, inRow, first, count, output, Context.OutRanges, outRow, channel, plot);
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
        _legend.Add("row profile: grey = input, orange = output channel " + Context.Channel(output).ToString(CultureInfo.InvariantCulture));
        List<string> legend = HudText.Wrap(_legend, HudText.CharsIn(area.Width - 32, hud.CharWidth));
        hud.Panel(area.X + 10, area.Y + area.Height * ImageShare + 2, legend.Count > 1 ? legend[..1] : legend);
    }
}
