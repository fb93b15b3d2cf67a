using System.Globalization;

namespace ConvGL.App.Live;

/// <summary>Frame rate and frame time as the HUD shows them. The rate is frames completed over a real interval of
/// at least <see cref="Interval"/> seconds, measured from the first completed frame (start-up and shader compiles
/// are not frames); until one such interval has passed there is no rate ("-"), never a made-up 0.</summary>
internal sealed class FrameStats
{
    public const double Interval = 0.5;

    private double _since = double.NaN;
    private int _frames;

    /// <summary>Frames per second over the last completed interval; null until one has completed.</summary>
    public double? Fps { get; private set; }
    /// <summary>CPU milliseconds of the last frame (events, upload, pipeline, drawing).</summary>
    public double FrameMs { get; private set; }
    public int Frames { get; private set; }

    /// <summary>A frame finished at <paramref name="now"/> (seconds) after <paramref name="frameMs"/> of CPU time.</summary>
    public void FrameDone(double now, double frameMs)
    {
        Frames++;
        FrameMs = frameMs;
        if (double.IsNaN(_since))
        {
            _since = now;
            return;
        }
        _frames++;
        if (now - _since < Interval) return;
        Fps = _frames / (now - _since);
        _frames = 0;
        _since = now;
    }

    /// <summary>Frames past warm-up that rebuilt no HUD text, and the managed bytes the render thread allocated over
    /// them (<c>--stats</c>: a steady frame allocates nothing).</summary>
    public int SteadyFrames { get; private set; }
    public long SteadyBytes { get; private set; }

    public void SteadyFrame(long allocatedBytes)
    {
        SteadyFrames++;
        SteadyBytes += allocatedBytes;
    }

    public string FpsText => Fps is { } f ? f.ToString(f < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " fps" : "- fps";
}
