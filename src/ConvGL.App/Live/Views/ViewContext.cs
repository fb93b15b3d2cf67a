using ConvGL.Gpu;
using ConvGL.Gpu.Present;

namespace ConvGL.App.Live.Views;

/// <summary>What every view draws with, created once by LiveApp: the presenter's programs, the source texture, the running pipeline, the controls' state and the per-channel range buffers.
/// Views hold this and nothing GPU-side of their own.</summary>
internal sealed class ViewContext(Presenter presenter, GpuImage source, LivePipelines pipelines, ViewState state) : IDisposable
{
    public Presenter Presenter { get; } = presenter;
    /// <summary>The source frame as uploaded (the split view shows it beside the output).</summary>
    public GpuImage Source { get; } = source;
    public ViewState State { get; } = state;
    public ILivePipeline Pipeline => pipelines.Current;
    /// <summary>Changes whenever the pipeline ran (so its maps may differ from the last frame's).</summary>
    public long PipelineRuns => pipelines.Runs;
    /// <summary>Channel ranges of the selected layer's output: a view computes the entries it shows (DrawMap does
    /// for its map) before drawing with them, once per frame.</summary>
    public ChannelRanges OutRanges { get; } = new(presenter.Context, "output ranges");
    /// <summary>The same for the layer's input, for views that need it (the profile).</summary>
    public ChannelRanges InRanges { get; } = new(presenter.Context, "input ranges");
    /// <summary>The filters view's kernel images (one strip, re-uploaded when the weights change).</summary>
    public GpuImage Kernels { get; } = new(presenter.Context, 1, 1, "filter kernels");
    /// <summary>The filters view's hand-made Gabor bank beside a learned one: its kernels and its maps' ranges.</summary>
    public GpuImage DesignedKernels { get; } = new(presenter.Context, 1, 1, "designed kernels");
    public ChannelRanges DesignedRanges { get; } = new(presenter.Context, "designed ranges");
    /// <summary>The hand-made Gabor bank, run with the next frames (<see cref="LivePipelines.AskDesigned"/>); null until
    /// its maps are of the shown frame.</summary>
    public StackPipeline? AskDesigned() => pipelines.AskDesigned();
    /// <summary>Why the Gabor bank could not be loaded, else null.</summary>
    public string? DesignedError => pipelines.DesignedError;

    /// <summary>The theorem view's direct and FFT runs, difference and spectra: made the first time that view draws.</summary>
    public TheoremPass Theorem => _theorem ??= new TheoremPass(Presenter.Context);
    private TheoremPass? _theorem;

    /// <summary>--stats: views time their parts (ranges, colouring, drawing) into these stages' parts line.</summary>
    public FrameStages? Stages { get; set; }

    /// <summary>The HUD's line height in pixels (it grows with the window: 15 at 960x600), for views that leave room for
    /// HUD text in their layout (the theorem's legend, the profile's).</summary>
    public float LineHeight { get; set; } = 15;

    /// <summary>Whether the source has delivered a frame (set by the main loop); views label nothing before.</summary>
    public bool HaveFrame { get; set; }

    /// <summary>The pointer in framebuffer pixels (set by the main loop each frame; negative when unknown).</summary>
    public double MouseX { get; set; } = -1;
    public double MouseY { get; set; } = -1;

    /// <summary>The selected layer's output.</summary>
    public GpuTensor Output => Pipeline.LayerOutput(State.Layer);

    /// <summary>The selected channel, clamped to <paramref name="t"/>'s channels.</summary>
    public int Channel(GpuTensor t) => Math.Clamp(State.Channel, 0, t.C - 1);

    /// <summary>The colour map a layer's maps get in every view (output, split, grid, profile, filters, the theorem
    /// view's direct and FFT results): grey for a one-map output (a filtered image), viridis for a layer's maps. The
    /// HUD's colour bar says which, with the shown map's min and max.</summary>
    public static ColorMap MapColour(GpuTensor t) => t.C == 1 ? ColorMap.Gray : ColorMap.Viridis;

    /// <summary>The convolution a view of one conv layer shows (filters, theorem): the selected layer when it is a
    /// convolution, else the nearest one before it (the one `c` `b` `+` `d` act on: deep's max pool after its learned conv1
    /// showed the pre-blur, the first conv), else the first one; -1 when the stack has none.</summary>
    public static int ConvFor(ILivePipeline p, int selected, out ConvView? conv)
    {
        conv = null;
        if (p.LayerCount == 0) return -1;
        selected = Math.Clamp(selected, 0, p.LayerCount - 1);
        for (int i = selected; i >= 0; i--)
            if ((conv = p.Conv(i)) is not null) return i;
        for (int i = selected + 1; i < p.LayerCount; i++)
            if ((conv = p.Conv(i)) is not null) return i;
        return -1;
    }

    /// <summary>The channel of layer <paramref name="conv"/>'s output that channel <paramref name="channel"/> of layer
    /// <paramref name="selected"/> is made from, followed back through each layer's first input: the same channel
    /// through channelwise layers (pools, activations, unary math, norms, adds, a disabled layer), the pair's first map through a magnitude (map c
    /// of |a, b| reads 2c and 2c + 1); where another layer mixes channels, or the path does not reach the conv, the
    /// selected channel as it is (a window review: on the deep stack's pool, map 5 showed the conv's map 5, not 10).</summary>
    public static int ChannelFrom(ILivePipeline p, int selected, int channel, int conv)
    {
        int c = channel;
        for (int i = selected; i > conv;)
        {
            Core.Stacks.StackLayer? layer = p.StackLayer(i);
            if (layer is Core.Stacks.MagnitudeLayer) c *= 2;
            else if (!KeepsChannels(layer)) return channel;
            IReadOnlyList<int> reads = p.InputLayers(i);
            if (reads.Count == 0 || reads[0] >= i) return channel;
            i = reads[0];
            if (i < conv) return channel;
        }
        return c;
    }

    // Layers whose map c is made from map c of their first input (a disabled layer passes it on): pools, activations
    // and unary math, per-channel affines and norms, pads and resizes, a residual add or a gate; a review found sqrt
    // after a magnitude lost the mapping. Channel-mixing or re-indexing layers (shuffle, concat, slices, depth-to-space,
    // linear, attention) are not followed.
    private static bool KeepsChannels(Core.Stacks.StackLayer? layer) => layer is null
        or Core.Stacks.PoolLayer or Core.Stacks.PaddedPoolLayer or Core.Stacks.GlobalAvgPoolLayer or Core.Stacks.GlobalMaxPoolLayer
        or Core.Stacks.ActivationLayer or Core.Stacks.UnaryLayer or Core.Stacks.PReluLayer or Core.Stacks.ElementwiseLayer
        or Core.Stacks.BatchNormLayer or Core.Stacks.InstanceNormLayer or Core.Stacks.GroupNormLayer or Core.Stacks.ChannelLayerNormLayer
        or Core.Stacks.LrnLayer or Core.Stacks.SoftmaxLayer or Core.Stacks.PadLayer or Core.Stacks.ResizeLayer
        or Core.Stacks.AddLayer or Core.Stacks.MulLayer;

    /// <summary>Whether the selected layer's <paramref name="output"/> is drawn as one colour picture: three maps that are
    /// the image's red, green and blue (see <see cref="IsColourPicture"/>).</summary>
    public bool ShowsColour(GpuTensor output) => output.C == 3 && IsColourPicture(Pipeline, State.Layer);

    /// <summary>Whether layer <paramref name="layer"/>'s three maps are the RGB input's red, green and blue, each carried
    /// on its own: followed back through layers whose map c is made from map c of their first input (pools, activations,
    /// per-channel math, norms, pads, resizes, adds), depthwise convs (a blur of each colour) and attention's values
    /// (a weighted average of pixels) to an RGB input. A review found three unrelated maps (sobel-x, sobel-y and a
    /// laplacian of a gray image; a learned 3-channel layer) drawn as one colour picture: those are drawn as maps, the
    /// selected one through the colour map, as a layer of any other count is. A BGR model input is not RGB.</summary>
    public static bool IsColourPicture(ILivePipeline p, int layer)
    {
        if (layer < 0 || layer >= p.LayerCount || p.OutputChannels(layer) != 3) return false;
        for (int i = layer; i >= 0;)
        {
            Core.Stacks.StackLayer? l = p.StackLayer(i);
            IReadOnlyList<int> reads = p.InputLayers(i);
            int from;
            if (l is Core.Stacks.AttentionLayer && reads.Count == 3) from = reads[2];
            else if ((KeepsChannels(l) || IsDepthwise(l)) && reads.Count > 0) from = reads[0];
            else return false;
            if (from >= i) return false;
            i = from;
        }
        return p.InputChannels == 3 && p.InputChannelOrder is null;
    }

    // A conv whose output map c reads input map c alone (groups = channels, one kernel each): a fixed kernel on an RGB image.
    private static bool IsDepthwise(Core.Stacks.StackLayer? layer) =>
        layer is Core.Stacks.ConvLayer c && c.Weight.Shape[1] == 1 && c.Options.Groups == c.OutputChannelCount;

    /// <summary>The output as one picture: three channels as RGB, one as grey, more than three as the selected channel
    /// through viridis (<see cref="MapColour"/>); each normalised by its GPU-computed min/max (computed here into <see cref="OutRanges"/>, for
    /// the shown channels only) and drawn by tensor.frag straight from the tensor's buffer. One pass over the shown
    /// pixels: on llvmpipe the former image of the map (TensorToImage) plus a textured rectangle cost 2-3x as much.</summary>
    public void DrawMap(GpuTensor output, int channel, PixelRect r)
    {
        Stages?.BeginParts();
        bool colour = ShowsColour(output);
        if (colour) OutRanges.Compute(output);
        else OutRanges.Compute(output, channel, 1);
        Stages?.Part("ranges");
        if (colour) Presenter.DrawTensor(output, OutRanges, r, 3, empty: 0);
        else Presenter.DrawTensor(output, OutRanges, r, 1, channel, map: MapColour(output), empty: 0);
        Stages?.Part("draw-map");
    }

    public void Dispose()
    {
        OutRanges.Dispose();
        InRanges.Dispose();
        Kernels.Dispose();
        DesignedKernels.Dispose();
        DesignedRanges.Dispose();
        _theorem?.Dispose();
    }
}
