using ConvGL.App.Glfw;

namespace ConvGL.App.Live.Views;

/// <summary>One way of showing the selected layer: it draws into the picture's rectangle, maps a window position
/// back to the tensor position under it (for the probe and clicks), and adds its labels to the HUD. Views keep only
/// what they drew last (their rectangles); what the controls change lives in <see cref="ViewState"/>, and the GPU
/// objects they share in <see cref="ViewContext"/>. A view's Draw runs every frame and must not allocate.</summary>
/// <remarks>
/// How to add a view (the "theorem" and "filters" views are meant to arrive this way):
/// 1. Add a value to <see cref="ViewKind"/> (src/ConvGL.App/Live/LiveOptions.cs). Its position is its place in the
///    Tab cycle, and its lower-case name is what <c>--view NAME</c> accepts (WindowCommand reads the enum).
/// 2. Write <c>Views/YourView.cs</c>: a sealed class implementing this interface (derive from
///    <see cref="SingleMapView"/> when it shows one map of the selected layer: it brings the hit-test, the click
///    that pins the probe and the probe marker). Draw with <see cref="ViewContext.Presenter"/> and
///    <see cref="ViewContext.DrawMap"/>; set <see cref="OutputRect"/> to where the selected layer's output went.
/// 3. Register it in <see cref="ViewCatalog.All"/> with its key and a few words: the key binding, the help overlay
///    (h), the Tab cycle and the HUD's "view:" name all come from that one entry.
/// 4. Text the view draws over the picture (labels, a legend) goes in <see cref="DrawLabels"/>: it runs only when
///    the HUD is redrawn (on a change and twice a second), so it may build strings.
/// 5. Cover it with a window test (WindowTests.EveryView_ScreenshotIsARealPicture_AndTheViewsDiffer lists views)
///    and add it to README's Controls table.
/// </remarks>
internal interface ILiveView
{
    ViewKind Kind { get; }

    /// <summary>Where the selected layer's output was drawn last (framebuffer pixels, origin top left): the probe
    /// marker and the scripted run's layout line use it.</summary>
    PixelRect OutputRect { get; }

    /// <summary>Whether the probe's marker square belongs on <see cref="OutputRect"/> (views that show one map).</summary>
    bool ShowsProbeMarker { get; }

    /// <summary>Where map <paramref name="channel"/> of the probe's layer (<see cref="ProbeLayer"/>) was drawn last, for
    /// the marker square on the probed pixel; null where the view shows no single place for it. By default
    /// <see cref="OutputRect"/> when <see cref="ShowsProbeMarker"/>; a view of many maps (the filters view) gives the
    /// probed map's own rectangle.</summary>
    PixelRect? ProbeMapRect(int channel) => ShowsProbeMarker ? OutputRect : null;
    /// <summary>Where the probed map is seen, where it is cut (the split view's output half: a full conv's registered
    /// output passes it); null where it is seen whole. The probe's marker stays inside it.</summary>
    PixelRect? ProbeClip => null;
    /// <summary>Where the source pixels that output pixel (<paramref name="x"/>, <paramref name="y"/>) of
    /// <paramref name="layer"/> depends on are drawn (the split view: its receptive field on the source); null where the
    /// view shows no source.</summary>
    PixelRect? SourceField(int layer, int x, int y) => null;

    /// <summary>Whether the probe's strip goes below the picture (views where hovering takes a pixel's convolution apart);
    /// a view without that probe (the theorem view) gets the window's height instead.</summary>
    bool ProbeStrip => true;

    /// <summary>The layer whose maps <see cref="HitTest"/> points into, so the probe (and the kernel panel) take
    /// apart that layer: the selected one, except in a view that shows a fixed layer (the filters view's conv).</summary>
    int ProbeLayer(int selected) => selected;

    /// <summary>A second pipeline's conv layer the view draws maps of beside the shown one (the filters view's hand-made
    /// Gabor bank under a learned first layer), which the probe takes apart where <see cref="HitTest"/> returns a point
    /// with <see cref="TensorPoint.Designed"/> set; null where the view shows none (or its maps are not of this frame yet).</summary>
    (ILivePipeline Pipeline, int Layer)? DesignedProbe => null;

    /// <summary>Where map <paramref name="channel"/> of <see cref="DesignedProbe"/>'s layer was drawn last (the marker on
    /// a probed pixel there); null where the view shows none.</summary>
    PixelRect? DesignedMapRect(int channel) => null;

    /// <summary>Whether the view draws that second bank (its maps may not be of this frame yet, on its first run): a pin on
    /// it holds while it does.</summary>
    bool ShowsDesigned => false;

    /// <summary>The view's own failure on screen (the theorem view's FFT that did not run), null where none: a scripted
    /// run ending on it exits 1, as on a broken shader.</summary>
    string? RunError => null;

    /// <summary>The layer whose maps the view draws: the selected one, except where the view picks its own (the filters
    /// view's conv, the theorem view's conv); the info panel names it when it is not the selected one.</summary>
    int ShownLayer(int selected) => ProbeLayer(selected);

    /// <summary>The map whose colours the HUD's colour bar explains (its range must be in the window's output ranges after
    /// <see cref="Draw"/>); null where the view draws none of the selected layer's maps that way (the theorem view has
    /// its own legend).</summary>
    ColourBarMap? ColourBarMap => null;

    /// <summary>The size of what the view draws (its aspect ratio decides how wide the side panels may be, so the
    /// picture gets the space they leave); <paramref name="window"/> is the whole window.</summary>
    (int Width, int Height) ContentSize(PixelRect window);

    /// <summary>Draws the view into <paramref name="area"/> (the picture's part of the window). Runs every frame
    /// after the pipeline; must not allocate.</summary>
    void Draw(PixelRect area);

    /// <summary>The output position and map under framebuffer position (<paramref name="x"/>, <paramref name="y"/>);
    /// false when the point is outside every map.</summary>
    bool HitTest(double x, double y, out TensorPoint point);

    /// <summary>A left click; <paramref name="over"/> says whether it hit a map (then <paramref name="point"/> is
    /// where).</summary>
    void Click(bool over, TensorPoint point);

    /// <summary>The view's text over the picture (map labels, a legend) in <paramref name="area"/> (the picture's part of the window), drawn when the HUD is redrawn.</summary>
    void DrawLabels(Hud hud, PixelRect area);
}

/// <summary>A position in a layer's output: column, row and map (channel); <paramref name="Designed"/>: in the maps of the
/// view's <see cref="ILiveView.DesignedProbe"/> (the filters view's hand-made bank), not the shown layer's.</summary>
internal readonly record struct TensorPoint(int X, int Y, int Channel, bool Designed = false);

/// <summary>A view's entry: the view it builds, the key that selects it and what the help says about it.</summary>
internal sealed record ViewEntry(ViewKind Kind, Key Key, string KeyName, string Description, Func<ViewContext, ILiveView> Create);

/// <summary>Every view, in one table: the Tab cycle follows <see cref="ViewKind"/>'s order, and the key binding and
/// the help line are generated from here, so a new view is one line (see <see cref="ILiveView"/>).</summary>
internal static class ViewCatalog
{
    public static readonly IReadOnlyList<ViewEntry> All =
    [
        new(ViewKind.Output, Key.O, "o", "output", c => new OutputView(c)),
        new(ViewKind.Split, Key.L, "l", "split (source and output)", c => new SplitView(c)),
        new(ViewKind.Grid, Key.G, "g", "grid", c => new GridView(c)),
        new(ViewKind.Profile, Key.W, "w", "profile (wave: one scanline before / after)", c => new ProfileView(c)),
        new(ViewKind.Filters, Key.K, "k", "filters (the selected conv's kernels | maps, else the conv before it; under a learned first layer the hand-made Gabor bank, k again hides it)", c => new FiltersView(c)),
        new(ViewKind.Theorem, Key.T, "t", "theorem (direct = FFT, spectra)", c => new TheoremView(c)),
    ];

    /// <summary>The entry of <paramref name="kind"/>; every ViewKind must have one (a test checks).</summary>
    public static ViewEntry Of(ViewKind kind)
    {
        foreach (ViewEntry e in All)
            if (e.Kind == kind) return e;
        throw new InvalidOperationException($"view {kind} is not registered in ViewCatalog.All");
    }

    /// <summary>One view object per kind, indexed by <see cref="ViewKind"/>.</summary>
    public static ILiveView[] CreateAll(ViewContext context)
    {
        var views = new ILiveView[Enum.GetValues<ViewKind>().Length];
        for (int i = 0; i < views.Length; i++) views[i] = Of((ViewKind)i).Create(context);
        return views;
    }

    /// <summary>"--view" and HUD name of a view: its enum name in lower case.</summary>
    public static string Name(ViewKind v) => v.ToString().ToLowerInvariant();
}
