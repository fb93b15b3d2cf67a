using ConvGL.Gpu;

namespace ConvGL.App.Sources;

/// <summary>The largest frame the window works on: a larger image, video or camera frame is scaled down once it is
/// read (aspect kept; OpenCV's INTER_AREA, the usual filter for shrinking) to fit inside a box of
/// <see cref="Width"/> x <see cref="Height"/> in either orientation, so a portrait photo gets the box turned. A phone's
/// 12-megapixel photo through the Gabor bank needs 96 M floats a map set, 3x the 128 MiB a storage block holds on
/// llvmpipe (and ~6x the work of 1920x1080 on every frame); the screen shows no more than this anyway. The built-in
/// scene is drawn at the size asked for and is never scaled.</summary>
internal readonly record struct SourceFit(int Width, int Height)
{
    /// <summary>1920 x 1080: full HD either way round.</summary>
    public static readonly SourceFit Default = new(1920, 1080);

    /// <summary>No box: every frame at its own size (<c>--source-max full</c>).</summary>
    public static readonly SourceFit Full = new(0, 0);

    /// <summary>960 x 540: video files' box on a software rasteriser when --source-max is not given (a camera keeps
    /// the default: it is not opened twice). A moving
    /// source runs the pipeline on every frame, and llvmpipe ran the Gabor bank and the deep stack at 5-6 fps on 1080p
    /// video (about 4x that at 960x540); a still picture runs it once, so it keeps <see cref="Default"/>.</summary>
    public static readonly SourceFit SoftwareMoving = new(960, 540);

    /// <summary>The box for videos and cameras: <paramref name="asked"/> where --source-max was <paramref name="given"/>
    /// or the GL is a GPU, else <see cref="SoftwareMoving"/> where that is smaller. Pure: a unit test holds it.</summary>
    public static SourceFit ForMoving(SourceFit asked, bool given, bool software) =>
        given || !software || asked == Full || (long)asked.Width * asked.Height <= (long)SoftwareMoving.Width * SoftwareMoving.Height
            ? asked : SoftwareMoving;

    /// <summary>The size a <paramref name="w"/> x <paramref name="h"/> frame is shown at: itself when it fits the box
    /// (never enlarged), else the largest size of its aspect that fits, rounded, at least 1 x 1.</summary>
    public (int Width, int Height) Apply(int w, int h)
    {
        if (this == Full) return (w, h);
        int longSide = Math.Max(Width, Height), shortSide = Math.Min(Width, Height);
        (int bw, int bh) = w >= h ? (longSide, shortSide) : (shortSide, longSide);
        if (w <= bw && h <= bh) return (w, h);
        double scale = Math.Min((double)bw / w, (double)bh / h);
        return (Math.Clamp((int)Math.Round(w * scale), 1, bw), Math.Clamp((int)Math.Round(h * scale), 1, bh));
    }

    /// <summary>As --source-max takes it (and --help shows the default): "1920x1080", or "full".</summary>
    public override string ToString() => this == Full ? "full" : $"{Width}x{Height}";

    /// <summary>What the HUD and the window title call a source shown at another size than its own, e.g.
    /// "image photo.jpg (4000x3000, scaled)".</summary>
    public static string Named(string name, int w, int h, (int Width, int Height) shown) =>
        shown == (w, h) ? name : $"{name} ({w}x{h}, scaled)";

    /// <summary><paramref name="e"/>'s message with what to do in the window: the source size whose maps would fit the
    /// limit (<see cref="GpuLimitException.FittingSize"/>), as a --source-max value and as a scene's size.</summary>
    public static string LimitHint(GpuLimitException e, int w, int h)
    {
        (int fw, int fh) = e.FittingSize(w, h);
        // Both ways to get that size: --source-max does nothing to the scene, which is drawn at its own size (the
        // hostile-input audit was told --source-max for the default scene, and the same error came back).
        return $"{e.Message}; the source's frames are {w}x{h}: frames of {fw}x{fh} fit (--source-max {fw}x{fh} for a picture, video or camera; " +
               $"--source scene:{fw}x{fh} for the scene)";
    }
}
