using Silk.NET.OpenGL;

namespace ConvGL.Gpu;

/// <summary>GPU time of a span of commands from GL_TIME_ELAPSED queries. A ring of query objects lets a
/// frame's result be read a few frames later, when it is ready, so reading never stalls the pipeline; if every
/// query is still in flight, that frame is simply not measured. On llvmpipe the queries read ~0: time the
/// software rasteriser with glFinish and a wall clock instead. GL_TIME_ELAPSED queries cannot nest: a timer begun
/// while another (on the same context) is open measures nothing for that span, and the outer one keeps measuring.</summary>
public sealed class GpuTimer : IDisposable
{
    private readonly GlContext _context;
    private readonly uint[] _queries;
    private readonly bool[] _pending;
    private int _next;
    private int _active = -1;
    private bool _disposed;

    /// <summary>The most recent completed measurement, in milliseconds (null before the first).</summary>
    public double? LastMilliseconds { get; private set; }

    public GpuTimer(GlContext context, int ring = 4, string label = "timer")
    {
        if (ring < 1) throw new ArgumentOutOfRangeException(nameof(ring));
        _context = context;
        _queries = new uint[ring];
        _pending = new bool[ring];
        for (int i = 0; i < ring; i++)
        {
            _queries[i] = context.Gl.GenQuery();
            // A query name becomes an object only when first begun; label it then (see Begin).
            context.ObjectCreated(ObjectIdentifier.Query, 0, label);
        }
    }

    public void Begin()
    {
        _context.CheckThread();
        Poll();
        if (_pending[_next]) return; // all in flight: skip this span rather than wait
        if (_context.TimeElapsedQueryActive) return; // inside another timer's span: nesting is a GL error
        _active = _next;
        _context.Gl.BeginQuery(QueryTarget.TimeElapsed, _queries[_active]);
        _context.TimeElapsedQueryActive = true;
    }

    public void End()
    {
        if (_active < 0) return;
        _context.Gl.EndQuery(QueryTarget.TimeElapsed);
        _context.TimeElapsedQueryActive = false;
        _pending[_active] = true;
        _next = (_active + 1) % _queries.Length;
        _active = -1;
    }

    /// <summary>Collects every finished query without waiting; updates <see cref="LastMilliseconds"/>.</summary>
    public void Poll()
    {
        GL gl = _context.Gl;
        // Oldest first, so LastMilliseconds ends on the newest finished span.
        for (int k = 0; k < _queries.Length; k++)
        {
            int i = (_next + k) % _queries.Length;
            if (!_pending[i]) continue;
            gl.GetQueryObject(_queries[i], QueryObjectParameterName.ResultAvailable, out int available);
            if (available == 0) continue;
            gl.GetQueryObject(_queries[i], QueryObjectParameterName.Result, out ulong ns);
            _pending[i] = false;
            LastMilliseconds = ns / 1e6;
        }
    }

    /// <summary>Waits for every span in flight and reads it (GL_QUERY_RESULT blocks until the GPU has finished the
    /// span): for a benchmark, which wants every span measured and may stall, where a frame loop uses <see cref="Poll"/>.
    /// Returns the newest span's milliseconds (also <see cref="LastMilliseconds"/>), or null when no span was in flight
    /// (the last Begin was skipped: nested in another timer's span).</summary>
    public double? Wait()
    {
        _context.CheckThread();
        GL gl = _context.Gl;
        double? newest = null;
        for (int k = 0; k < _queries.Length; k++)
        {
            int i = (_next + k) % _queries.Length;
            if (!_pending[i]) continue;
            gl.GetQueryObject(_queries[i], QueryObjectParameterName.Result, out ulong ns);
            _pending[i] = false;
            newest = ns / 1e6;
        }
        if (newest is not null) LastMilliseconds = newest;
        return newest;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (uint q in _queries) _context.EnqueueDisposal(ObjectIdentifier.Query, g => g.DeleteQuery(q));
    }
}
