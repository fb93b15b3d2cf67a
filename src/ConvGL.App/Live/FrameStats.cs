using System.Diagnostics;
using System.Globalization;
using System.Text;
using Silk.NET.OpenGL;

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

    /// <summary>The first steady frames that allocated (frame number, bytes), so that a run that allocates says where:
    /// <c>--stats</c> prints them after the total.</summary>
    public IReadOnlyList<(int Frame, long Bytes)> AllocatingFrames => _allocating;
    private readonly List<(int Frame, long Bytes)> _allocating = new(MaxAllocatingFrames);
    private const int MaxAllocatingFrames = 8;

    public void SteadyFrame(int frame, long allocatedBytes)
    {
        SteadyFrames++;
        SteadyBytes += allocatedBytes;
        if (allocatedBytes != 0 && _allocating.Count < MaxAllocatingFrames) _allocating.Add((frame, allocatedBytes));
    }

    public string FpsText => Fps is { } f ? f.ToString(f < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " fps" : "fps: measuring";
}

/// <summary>Where a frame's time goes, for <c>--stats</c>: the wall clock between glFinish calls placed after each
/// stage (source upload, the filter or stack pass, presenting the view, the HUD, the buffer swap), summed over the
/// frames past warm-up. The glFinish calls serialise CPU and GPU, so the stages add up to the frame, and the rate
/// they give is a little below an unmeasured run's. Off (no glFinish, nothing measured) without --stats.</summary>
internal sealed class FrameStages(GL gl, bool enabled)
{
    public static readonly string[] Names = ["upload", "pipeline", "present", "hud", "swap"];

    private readonly double[] _ms = new double[Names.Length];
    // Parts of a stage (--stats' second line): names in first-seen order, summed like the stages.
    private readonly List<string> _partNames = new(32);
    private readonly List<double> _partMs = new(32);
    private long _start, _last, _partLast;
    private bool _counting;

    public bool Enabled => enabled;
    public int Frames { get; private set; }
    /// <summary>Counted frames that ran the pipeline: a video's or camera's new frames, a changed setting; a frame that
    /// only redraws (a 25 fps video in a 250 fps window: 9 frames in 10) runs none.</summary>
    public int PipelineRuns { get; private set; }

    /// <summary>This frame ran the pipeline (its stage's time is one run's, not a redraw's).</summary>
    public void Ran()
    {
        if (enabled && _counting) PipelineRuns++;
    }
    public double TotalMs { get; private set; }

    /// <summary>Starts a frame; <paramref name="count"/> false for warm-up frames (not summed).</summary>
    public void Begin(bool count)
    {
        if (!enabled) return;
        gl.Finish();
        _counting = count;
        _start = _last = Stopwatch.GetTimestamp();
    }

    /// <summary>Stage <paramref name="stage"/> (an index into <see cref="Names"/>) is done.</summary>
    public void Mark(int stage)
    {
        if (!enabled) return;
        gl.Finish();
        long now = Stopwatch.GetTimestamp();
        if (_counting) _ms[stage] += Stopwatch.GetElapsedTime(_last, now).TotalMilliseconds;
        _last = now;
    }

    /// <summary>Starts timing the parts of a stage (glFinish, then the clock): each <see cref="Part"/> after it
    /// measures from the previous one.</summary>
    public void BeginParts()
    {
        if (!enabled) return;
        gl.Finish();
        _partLast = Stopwatch.GetTimestamp();
    }

    /// <summary>The work since <see cref="BeginParts"/> or the previous part is done: it is summed under
    /// <paramref name="name"/> (a string made once: a steady frame allocates nothing here).</summary>
    public void Part(string name)
    {
        if (!enabled) return;
        gl.Finish();
        long now = Stopwatch.GetTimestamp();
        // Names are recorded from the first (warm-up) frame on, summed only when counting: a steady frame adds none.
        int i = _partNames.IndexOf(name);
        if (i < 0)
        {
            _partNames.Add(name);
            _partMs.Add(0);
            i = _partNames.Count - 1;
        }
        if (_counting) _partMs[i] += Stopwatch.GetElapsedTime(_partLast, now).TotalMilliseconds;
        _partLast = now;
    }

    public void End()
    {
        if (!enabled || !_counting) return;
        Frames++;
        TotalMs += Stopwatch.GetElapsedTime(_start).TotalMilliseconds;
    }

    /// <summary>Mean milliseconds per counted frame of stage <paramref name="stage"/>.</summary>
    public double Mean(int stage) => Frames == 0 ? 0 : _ms[stage] / Frames;

    /// <summary>"stages: frames=N fps=F frame=T upload=U pipeline=P present=R hud=H swap=S (ms per frame, glFinish after
    /// each stage) pipeline_runs=N pipeline_per_run=P": per frame, and the pipeline per frame that ran it (a video's
    /// frames arrive at its own rate, so most window frames of a fast window run nothing: the per-frame mean alone read
    /// ~10x too fast).</summary>
    public string Line()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"stages: frames={Frames} fps={(TotalMs > 0 ? Frames * 1000 / TotalMs : 0):0.0} frame={(Frames == 0 ? 0 : TotalMs / Frames):0.00}");
        for (int i = 0; i < Names.Length; i++) sb.Append(CultureInfo.InvariantCulture, $" {Names[i]}={Mean(i):0.00}");
        sb.Append(" (ms per frame, glFinish after each stage)");
        return sb.Append(CultureInfo.InvariantCulture, $" pipeline_runs={PipelineRuns} pipeline_per_run={(PipelineRuns == 0 ? 0 : _ms[1] / PipelineRuns):0.00}").ToString();
    }

    /// <summary>"parts: to-tensor=T layer 1 conv=C ... (ms per frame)": where the stages' time goes, part by part.</summary>
    public string PartsLine()
    {
        var sb = new StringBuilder("parts:");
        for (int i = 0; i < _partNames.Count; i++) sb.Append(CultureInfo.InvariantCulture, $" {_partNames[i]}={(Frames == 0 ? 0 : _partMs[i] / Frames):0.00}");
        return sb.Append(" (ms per frame, glFinish after each part)").ToString();
    }
}
