using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace ConvGL.Gpu;

/// <summary>Builds generated programs ahead of the GL thread, on a thread and in a headless context of its own, so that
/// the window stays live while llvmpipe compiles them (the literal-weight programs: seconds each the first time).
///
/// How it helps: Mesa keeps what it compiles in its disk cache (the linked program, and llvmpipe's machine code per
/// "variant": the program with the formats of the images bound at the dispatch, and whether each image's buffer has a
/// power-of-two size). This thread compiles and links the program and dispatches it once with buffers of those formats
/// and that kind of size (the plan says which; both where it cannot), so the cache holds the variant the GL thread will
/// need; then the GL thread's own build and first dispatch of the same text are cache hits: ~16 ms against seconds
/// (bench/README.md, "Literal programs compiled in the background"). Nothing GL is shared between the two contexts: the
/// cache is the only thing they have in common. Where Mesa's cache is off (<c>MESA_SHADER_CACHE_DISABLE</c>,
/// <c>MESA_GLSL_CACHE_DISABLE</c>), where the headless context cannot be made, and once a program built ahead was not a
/// cache hit on the GL thread (<see cref="NotServed"/>), there is nothing to gain: the GL thread builds as it always did.
///
/// A program it cannot mimic (an image that is not a buffer image of a known format, a sampler or a uniform block) or
/// that does not build here is marked done all the same: the GL thread then builds it itself, as without a warmer, and
/// reports its errors as always.</summary>
public sealed class ShaderWarmer : IDisposable
{
    /// <summary>One program's warm-up. <see cref="Done"/> turns true once the disk cache holds it (or it could not be
    /// warmed: the GL thread builds it then, as it would have).</summary>
    public sealed class Job
    {
        internal Job(string key, string name, string source, bool? powerOfTwo)
        {
            Key = key;
            Name = name;
            Source = source;
            PowerOfTwo = powerOfTwo;
        }

        internal string Key { get; }
        // Requests not yet released (under the warmer's lock): a queued job nobody waits for any more is skipped.
        internal int Waiters;

        /// <summary>Whether the buffers the program's images will view have power-of-two sizes in bytes (null: unknown,
        /// both are built).</summary>
        public bool? PowerOfTwo { get; }

        public string Name { get; }
        internal string? Source { get; set; }
        private volatile bool _done;
        public bool Done => _done;
        internal void Finish() => _done = true;
        /// <summary>Why the program was not warmed (then the GL thread's build takes as long as before), or null.</summary>
        public string? Skipped { get; internal set; }
        /// <summary>Seconds this thread spent on it.</summary>
        public double Seconds { get; internal set; }
    }

    /// <summary>A build of a warmed program on the GL thread slower than this was no cache hit (a hit takes ~10 ms, a
    /// literal program's compile and link seconds).</summary>
    public const double CacheHitMs = 400;

    // Mesa writes its cache entries on a queue thread of its own, after the dispatch that made them has finished: a job that
    // compiled is called done this long after, so the GL thread's build finds them written.
    private static readonly TimeSpan CacheWriteGrace = TimeSpan.FromMilliseconds(100);

    private readonly Dictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    private readonly Queue<Job> _queue = new();
    private readonly object _lock = new();
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _started = new();
    private bool _stopping;
    private int _busy;
    private long _finished;
    private volatile string? _notServed;
    // Why the thread's context is of no use (set before _started), or null.
    private string? _unavailable;
    // Every warmer thread of the process, for ExitNowIfWarming.
    private static readonly List<Thread> s_threads = [];

    private ShaderWarmer()
    {
        _thread = new Thread(Work) { IsBackground = true, Name = "convgl shader warmer" };
        lock (s_threads) s_threads.Add(_thread);
        _thread.Start();
    }

    /// <summary>Starts the thread and waits for its headless context (tens of milliseconds); returns null and says why
    /// where building ahead cannot help: Mesa's disk cache off, no second context, or not a software rasteriser's.</summary>
    public static ShaderWarmer? TryStart(out string? why)
    {
        why = CacheDisabled();
        if (why is not null) return null;
        var warmer = new ShaderWarmer();
        warmer._started.Wait(TimeSpan.FromSeconds(30));
        why = warmer._unavailable ?? (warmer._started.IsSet ? null : "its headless context took more than 30 s to make");
        if (why is null) return warmer;
        warmer.Dispose();
        return null;
    }

    /// <summary>Whether a window on <paramref name="context"/> should build its programs ahead: on a software rasteriser
    /// with the literal-weight plans on, in an interactive run (a scripted one waits for each program, as the commands do,
    /// so its frames do not depend on timing); <c>CONVGL_BUILD_AHEAD=1</c> or <c>0</c> decides instead.</summary>
    public static bool Wanted(GlContext context, bool interactive)
    {
        ArgumentNullException.ThrowIfNull(context);
        string? env = Environment.GetEnvironmentVariable("CONVGL_BUILD_AHEAD");
        if (env == "1") return true;
        if (env == "0") return false;
        return interactive && Ops.LiteralConvPlan.InAuto(context);
    }

    /// <summary>Why Mesa's disk cache is off (then warming is useless), or null. Mesa reads MESA_SHADER_CACHE_DISABLE as a
    /// boolean (1, true, t, y or yes, in any case) and the older MESA_GLSL_CACHE_DISABLE only where the first is unset.</summary>
    internal static string? CacheDisabled()
    {
        string name = "MESA_SHADER_CACHE_DISABLE";
        string? v = Environment.GetEnvironmentVariable(name);
        if (v is null)
        {
            name = "MESA_GLSL_CACHE_DISABLE";
            v = Environment.GetEnvironmentVariable(name);
        }
        return v?.ToLowerInvariant() is "1" or "true" or "t" or "y" or "yes" ? $"{name}={v}: Mesa's shader cache is off" : null;
    }

    /// <summary>Why building ahead stopped (a program built ahead was no cache hit on the GL thread), or null: from then on
    /// the GL thread builds every program itself, as without a warmer.</summary>
    public string? NotServed => _notServed;

    /// <summary>The GL thread built a program this thread had warmed and it took <paramref name="ms"/>: past
    /// <see cref="CacheHitMs"/> the cache did not serve it (a cache that cannot be written, a size limit), so waiting for
    /// this thread only delays the programs: it stops (<see cref="NotServed"/>) and every job still queued is finished.</summary>
    public void BuiltOnGlThread(double ms)
    {
        if (ms <= CacheHitMs || _notServed is not null) return;
        _notServed = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"a program built ahead took {ms:0} ms to build again (no hit in Mesa's shader cache): building on the window's thread instead");
        lock (_lock) Monitor.PulseAll(_lock);
    }

    /// <summary>The job for <paramref name="source"/> (the program's whole text, as the GL thread will compile it), queued
    /// the first time it is asked for. <paramref name="imageBytes"/>: the size of the buffer its images will view (llvmpipe
    /// builds one variant for power-of-two sizes and one for the rest); null builds both.</summary>
    public Job Request(string name, string source, long? imageBytes = null)
    {
        bool? powerOfTwo = imageBytes is { } b ? System.Numerics.BitOperations.IsPow2(b) : null;
        string key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(source))) + powerOfTwo switch { true => "+pot", false => "+npot", null => "" };
        lock (_lock)
        {
            if (!_jobs.TryGetValue(key, out Job? job))
            {
                job = new Job(key, name, source, powerOfTwo);
                _jobs.Add(key, job);
                _queue.Enqueue(job);
                Monitor.PulseAll(_lock);
            }
            job.Waiters++;
            return job;
        }
    }

    /// <summary>The requester of <paramref name="job"/> no longer waits for it (its layer planned again or went away: a stack
    /// switched while its programs were queued). A queued job nobody waits for is skipped, so the programs of the stack on
    /// screen are not queued behind those of stacks flipped past.</summary>
    public void Release(Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        lock (_lock)
            if (!job.Done && job.Waiters > 0) job.Waiters--;
    }

    /// <summary>Whether jobs are queued or running.</summary>
    public bool Busy
    {
        get
        {
            lock (_lock) return _queue.Count > 0 || _busy > 0;
        }
    }

    /// <summary>How many jobs have finished (warmed, skipped or not needed): a number that changes whenever a layer that
    /// waits may be able to plan again.</summary>
    public long Finished => Interlocked.Read(ref _finished);

    /// <summary>Waits until every queued job is done (tests); false on timeout.</summary>
    public bool WaitIdle(TimeSpan timeout)
    {
        DateTime end = DateTime.UtcNow + timeout;
        lock (_lock)
        {
            while (_queue.Count > 0 || _busy > 0)
            {
                TimeSpan left = end - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !Monitor.Wait(_lock, left)) return _queue.Count == 0 && _busy == 0;
            }
            return true;
        }
    }

    /// <summary>Ends the process at once with <paramref name="code"/> (the console flushed, then libc's <c>_exit</c>) while a
    /// warmer thread is still alive; otherwise returns. A normal exit runs the process's exit handlers, which tear down
    /// the driver (LLVM's static objects, EGL's displays) under a thread still compiling or closing its context: a
    /// segmentation fault at exit (seen with a window on a still picture closed seconds after a cold start). Call it last,
    /// when everything the process writes is written.</summary>
    public static void ExitNowIfWarming(int code)
    {
        lock (s_threads)
            if (!s_threads.Any(t => t.IsAlive)) return;
        Console.Out.Flush();
        Console.Error.Flush();
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) QuickExit(code);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "_exit")]
    private static extern void QuickExit(int code);

    private void Work()
    {
        GlContext? context = null;
        try
        {
            context = GlContext.CreateHeadless(debug: false);
            // The literal programs are a software rasteriser's; another driver's cache is not the window's.
            if (!context.IsSoftware) _unavailable = $"its headless context is {context.Renderer}, not a software rasteriser";
        }
        catch (Exception e)
        {
            // Whatever it is, on this thread it would end the process: the window builds as it always did instead.
            _unavailable = "no headless context for a second thread: " + e.Message;
        }
        _started.Set();
        try
        {
            if (_unavailable is null) Serve(context!);
        }
        finally
        {
            context?.Dispose();
            lock (s_threads) s_threads.Remove(Thread.CurrentThread);
        }
    }

    private void Serve(GlContext context)
    {
        while (true)
        {
            Job job;
            lock (_lock)
            {
                while (_queue.Count == 0 && !_stopping) Monitor.Wait(_lock);
                if (_stopping) return;
                job = _queue.Dequeue();
                // Nobody waits for it any more (a later request queues it again), or building ahead has stopped.
                string? skip = job.Waiters == 0 ? "no longer needed" : _notServed;
                if (skip is not null)
                {
                    if (job.Waiters == 0) _jobs.Remove(job.Key);
                    Complete(job, skip);
                    continue;
                }
                _busy++;
            }
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            string? skipped;
            try
            {
                skipped = Warm(context, job.Name, job.Source!, job.PowerOfTwo);
                // A quick warm-up was a cache hit itself: nothing new to write.
                if (skipped is null && System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds > CacheHitMs / 4) Thread.Sleep(CacheWriteGrace);
            }
            catch (Exception e)
            {
                skipped = e.Message;
            }
            job.Seconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
            lock (_lock)
            {
                _busy--;
                Complete(job, skipped);
            }
        }
    }

    // Under the lock.
    private void Complete(Job job, string? skipped)
    {
        job.Skipped = skipped;
        job.Source = null;
        job.Finish();
        Interlocked.Increment(ref _finished);
        Monitor.PulseAll(_lock);
    }

    // layout(<format>, binding = N) [qualifiers] uniform [qualifiers] imageBuffer name
    private static readonly Regex ImageDecl = new(
        @"layout\s*\(([^)]*)\)\s*((?:readonly|writeonly|restrict|coherent|volatile)\s+)*uniform\s+((?:readonly|writeonly|restrict|coherent|volatile|highp|mediump|lowp)\s+)*([iu]?image\w+)\s+\w+",
        RegexOptions.CultureInvariant);
    private static readonly Regex BufferDecl = new(
        @"layout\s*\(([^)]*)\)\s*((?:readonly|writeonly|restrict|coherent|volatile)\s+)*buffer\s+\w+",
        RegexOptions.CultureInvariant);
    private static readonly Regex Binding = new(@"binding\s*=\s*(\d+)", RegexOptions.CultureInvariant);
    private static readonly Regex Unmimicked = new(@"\b(uniform\s+[iu]?sampler\w*|uniform\s+\w+\s*\{|std140)", RegexOptions.CultureInvariant);

    // The image formats ConvGL's texel views have (GlBuffer): floats a texel.
    private static readonly Dictionary<string, int> Formats = new(StringComparer.Ordinal) { ["r32f"] = 1, ["rg32f"] = 2, ["rgba32f"] = 4 };

    // Buffers a warm-up dispatch binds: 64 KiB, or 64 KiB + 16 bytes (llvmpipe's variant records whether an image's buffer
    // size is a power of two). Out-of-range image loads read 0 and llvmpipe bounds-checks storage buffers, so the
    // dispatch's one workgroup is safe whatever it indexes; its results are thrown away.
    private const int DummyFloats = 1 << 14;

    /// <summary>Builds <paramref name="source"/> in this thread's context (its own <see cref="ShaderLibrary"/>: the same
    /// text the GL thread's library will compile) and dispatches it once per image-size kind, its buffers bound as the
    /// plans bind theirs (<see cref="GlBuffer"/>'s views); returns why it was not warmed, or null.</summary>
    private static string? Warm(GlContext context, string name, string source, bool? powerOfTwo)
    {
        if (Unmimicked.Match(source) is { Success: true } m) return $"it declares '{m.Value}', which the warm-up does not bind";
        var images = new List<(uint Unit, int Floats)>();
        foreach (Match im in ImageDecl.Matches(source))
        {
            string args = im.Groups[1].Value;
            if (im.Groups[4].Value != "imageBuffer") return $"it declares an {im.Groups[4].Value}, which the warm-up does not bind";
            string? format = args.Split(',').Select(a => a.Trim()).FirstOrDefault(Formats.ContainsKey);
            if (format is null || Binding.Match(args) is not { Success: true } b) return $"an image without a known format and binding ({args})";
            images.Add((uint.Parse(b.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Formats[format]));
        }
        var units = new List<uint>();
        foreach (Match bm in BufferDecl.Matches(source))
            if (Binding.Match(bm.Groups[1].Value) is { Success: true } b)
                units.Add(uint.Parse(b.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

        GlProgram program;
        try
        {
            program = context.Shaders.ComputeGenerated(name, source);
        }
        catch (ShaderBuildException)
        {
            return "it does not compile (the GL thread reports why)";
        }
        var buffers = new List<GlBuffer>();
        try
        {
            program.Use();
            foreach (uint unit in units)
            {
                var buffer = new GlBuffer(context, "warm-up storage", DummyFloats);
                buffers.Add(buffer);
                buffer.Bind(unit);
            }
            foreach (int floats in powerOfTwo switch { true => (int[])[DummyFloats], false => [DummyFloats + 4], null => [DummyFloats, DummyFloats + 4] })
            {
                var storage = new GlBuffer(context, "warm-up images", floats);
                buffers.Add(storage);
                foreach ((uint unit, int texel) in images)
                {
                    if (texel == 2) storage.BindPairTexelView(unit);
                    else storage.BindTexelView(unit, vec4: texel == 4);
                }
                context.Gl.DispatchCompute(1, 1, 1);
                context.Gl.Finish();
            }
            return null;
        }
        finally
        {
            foreach (GlBuffer b in buffers) b.Dispose();
            program.Delete();
            context.FlushDisposables();
        }
    }

    public void Dispose()
    {
        bool idle;
        lock (_lock)
        {
            _stopping = true;
            idle = _busy == 0;
            Monitor.PulseAll(_lock);
        }
        // An idle thread closes its context and ends at once. One in the middle of a compile (which cannot be interrupted)
        // is not waited for: it ends after it, and a process that exits meanwhile does so by ExitNowIfWarming.
        if (idle) _thread.Join(TimeSpan.FromSeconds(2));
    }
}
