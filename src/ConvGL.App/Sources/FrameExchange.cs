namespace ConvGL.App.Sources;

/// <summary>A triple buffer of RGBA8 frames between one producer thread and the render thread. The producer
/// fills <see cref="Back"/> and publishes it; the render thread takes the newest published frame. Neither side
/// waits for the other: a slow consumer drops frames, a slow producer repeats none. The three arrays are
/// allocated once per source size, so steady state allocates nothing.</summary>
internal sealed class FrameExchange
{
    private readonly byte[][] _buffers;
    private readonly Lock _lock = new();
    private int _back, _ready = 1, _front = 2;
    private bool _fresh;

    public FrameExchange(int width, int height)
    {
        Width = width;
        Height = height;
        _buffers = [new byte[width * height * 4], new byte[width * height * 4], new byte[width * height * 4]];
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>The buffer the producer writes next (only the producer touches it).</summary>
    public byte[] Back => _buffers[_back];

    /// <summary>Hands the back buffer over as the newest frame.</summary>
    public void Publish()
    {
        lock (_lock)
        {
            (_back, _ready) = (_ready, _back);
            _fresh = true;
        }
    }

    /// <summary>The newest frame if one was published since the last call, else null. The array stays the
    /// caller's until its next call.</summary>
    public byte[]? TakeLatest()
    {
        lock (_lock)
        {
            if (!_fresh) return null;
            (_front, _ready) = (_ready, _front);
            _fresh = false;
            return _buffers[_front];
        }
    }
}
