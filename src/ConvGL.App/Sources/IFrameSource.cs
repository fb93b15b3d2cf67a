namespace ConvGL.App.Sources;

/// <summary>Where the pictures come from: RGBA8 frames, rows top first, of a fixed size per source.</summary>
internal interface IFrameSource : IDisposable
{
    /// <summary>What the HUD shows, e.g. "scene" or "camera 0" or "video clip.mp4".</summary>
    string Name { get; }
    int Width { get; }
    int Height { get; }

    /// <summary>The newest frame if one arrived since the last call, else null. <paramref name="time"/> is the
    /// app's clock in seconds; only sources rendered on the calling thread (the scripted scene) use it.</summary>
    byte[]? TakeFrame(double time);

    /// <summary>A failure after start-up (camera unplugged, decode error) for the HUD, else null.</summary>
    string? Error { get; }
}

/// <summary>A source fed by a background thread through a <see cref="FrameExchange"/>. Subclasses implement
/// <see cref="Capture"/>; the thread stops on <see cref="Dispose"/>.</summary>
internal abstract class CaptureSource : IFrameSource
{
    private readonly Thread _thread;
    private volatile bool _stop;
    private volatile string? _error;
    protected FrameExchange Exchange { get; }

    protected CaptureSource(int width, int height)
    {
        Exchange = new FrameExchange(width, height);
        _thread = new Thread(Loop) { IsBackground = true, Name = GetType().Name };
    }

    protected void Start() => _thread.Start();

    public abstract string Name { get; }
    public int Width => Exchange.Width;
    public int Height => Exchange.Height;
    public string? Error => _error;
    protected bool Stopping => _stop;

    public byte[]? TakeFrame(double time)
    {
        byte[]? frame = Exchange.TakeLatest();
        if (frame is not null && !_shown)
        {
            FirstShown();
            _shown = true; // after FirstShown: the capture thread that sees it sees what FirstShown wrote
        }
        return frame;
    }

    private volatile bool _shown;

    /// <summary>Whether the render thread has taken the first frame (the capture thread reads it).</summary>
    protected bool Shown => _shown;

    /// <summary>Called on the render thread when the first frame is taken, before <see cref="Shown"/> turns true (a file
    /// paces its frames from then on).</summary>
    protected virtual void FirstShown() { }

    /// <summary>Fills <paramref name="rgba"/> with the next frame, waiting for it as long as needed (paced by the
    /// device or the file's frame rate). False ends the thread; <see cref="Error"/> says why.</summary>
    protected abstract bool Capture(byte[] rgba, out string? error);

    private void Loop()
    {
        try
        {
            while (!_stop)
            {
                if (!Capture(Exchange.Back, out string? error))
                {
                    _error = error;
                    return;
                }
                Exchange.Publish();
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A capture thread must never take the window down: the HUD shows the reason instead.
            _error = $"{Name}: {e.Message}";
        }
    }

    public void Dispose()
    {
        _stop = true;
        if (_thread.IsAlive) _thread.Join(TimeSpan.FromSeconds(2));
        DisposeCore();
    }

    protected virtual void DisposeCore() { }
}
