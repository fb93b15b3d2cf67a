using ConvGL.App.Sources;
using ConvGL.Core.Stacks;

namespace ConvGL.App.Live;

/// <summary>What the window shows.</summary>
internal enum ViewKind
{
    /// <summary>The selected layer's output (or the filter's) filling the window.</summary>
    Output,
    /// <summary>Source | output side by side.</summary>
    Split,
    /// <summary>Every feature map of the selected layer, each normalised, colour-mapped and numbered.</summary>
    Grid,
    /// <summary>One scanline of the layer's input and output plotted: 1D convolution, seen.</summary>
    Profile,
    /// <summary>A conv layer's kernels (the selected one or the one before it), each beside its live response map.</summary>
    Filters,
    /// <summary>The convolution theorem: direct and FFT results, their difference, and the spectra multiplied.</summary>
    Theorem,
}

/// <summary>The window's start-up settings (command line) and, for scripted runs, what to do and when to stop.</summary>
internal sealed record LiveOptions
{
    public string Source { get; init; } = "scene";
    /// <summary>Images, videos and camera frames larger than this are scaled down to it, at start-up and on a drop
    /// (<see cref="Sources.SourceFit.Full"/>: shown at their own size).</summary>
    public SourceFit SourceFit { get; init; } = Sources.SourceFit.Default;
    /// <summary>Whether --source-max was given: where it was not, a software rasteriser shows videos and cameras at
    /// most <see cref="Sources.SourceFit.SoftwareMoving"/> (files; cameras keep the default) (<see cref="Sources.SourceFit.ForMoving"/>).</summary>
    public bool SourceFitGiven { get; init; }
    /// <summary>A stack name (assets/stacks/NAME.json) or file; null opens the default stack, or the filter when
    /// <see cref="Filter"/> is given.</summary>
    public string? Stack { get; init; }
    /// <summary>--normalize: the first layer of <see cref="Stack"/> (a model's input normalisation), or null.</summary>
    public InputNormalization? Normalize { get; init; }
    /// <summary>A kernel name ("sobel-x", "gaussian:7,2") or kernel file: starts in filter mode.</summary>
    public string? Filter { get; init; }
    public ViewKind View { get; init; } = ViewKind.Output;
    /// <summary>Selected layer, 0-based; -1 is the last.</summary>
    public int Layer { get; init; } = -1;
    /// <summary>Frames to render before writing the screenshot and exiting; 0 runs until the window closes.</summary>
    public int Frames { get; init; }
    public string? Screenshot { get; init; }
    /// <summary>Window size; 0 x 0 fits the primary monitor.</summary>
    public int Width { get; init; }
    public int Height { get; init; }
    /// <summary>Probe positions in the selected layer's output (x, y), or (<c>designed:X,Y</c>) in the filters view's
    /// hand-made bank's maps, printed on stdout at the end of a scripted run.</summary>
    public IReadOnlyList<ProbePoint> Probes { get; init; } = [];
    /// <summary>Keys pressed, in order, before the first frame (scripted runs exercise the controls this way).</summary>
    public IReadOnlyList<string> Keys { get; init; } = [];
    /// <summary>A file dropped on the window before the first frame (what drag and drop does, scripted).</summary>
    public string? Drop { get; init; }
    /// <summary>Print the render thread's managed allocation over steady frames (frames that did not redraw the HUD)
    /// at the end of a scripted run.</summary>
    public bool Stats { get; init; }
    /// <summary>A scratch folder: run the soak cycle (<see cref="SoakRun"/>) over the scripted frames and report
    /// whether GL objects, heap and memory stayed flat.</summary>
    public string? Soak { get; init; }

    /// <summary>The text's scale (--ui-scale); null takes the desktop's (<see cref="Glfw.IAppWindow.ContentScale"/>).</summary>
    public float? UiScale { get; init; }

    public bool Scripted => Frames > 0;
}

/// <summary>A --probe point: (x, y) of the probed layer's output, or of the filters view's hand-made bank's maps
/// (<paramref name="Designed"/>: written <c>designed:X,Y</c>).</summary>
internal readonly record struct ProbePoint(int X, int Y, bool Designed = false);
