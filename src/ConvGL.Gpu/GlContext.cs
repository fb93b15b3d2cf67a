using System.Runtime.InteropServices;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu;

/// <summary>Owns one OpenGL 4.3+ core context and everything every op shares: the <see cref="GL"/> API, the
/// shader library, the disposal queue and the live-object count. Either headless through EGL
/// (<see cref="CreateHeadless"/>) or adopting a window's context that is current on this thread
/// (<see cref="Adopt"/>). All GL calls must come from the thread that created or adopted it.</summary>
public sealed class GlContext : IDisposable
{
    private readonly nint _eglDisplay;
    private readonly nint _eglContext;
    private readonly int _threadId;
    // Veldrid's pattern: Dispose() may run on any thread (or from a finaliser-like path), so it only queues
    // the delete; the GL thread drains the queue at the next dispatch or FlushDisposables().
    private readonly Queue<(int Kind, Action<GL> Delete)> _disposals = new();
    // Live objects per kind (index: KindIndex), for soak runs that must name which kind grew.
    private readonly int[] _liveByKind = new int[CountedKinds.Count + 1];
    private readonly object _disposalLock = new();
    // Kept in a field on purpose: GL holds only a native function pointer to this delegate. If it lived only in
    // a local, the GC could collect it and the driver would call into freed memory on the next message.
    private readonly DebugProc? _debugProc;
    private ShaderLibrary? _shaders;
    private int _liveObjects;
    private int _debugErrors, _debugMessages;
    private bool _disposed;

    public GL Gl { get; }
    /// <summary>"GL_VERSION / GL_RENDERER / GL_VENDOR" plus how the context was made (EGL platform or adopted).</summary>
    public string Description { get; }
    public string Renderer { get; }
    /// <summary>True on Mesa's software rasteriser, where GL_TIME_ELAPSED reads ~0.</summary>
    public bool IsSoftware { get; }
    /// <summary>GL_MAX_SHADER_STORAGE_BLOCK_SIZE in bytes: the largest tensor one binding can see.</summary>
    public long MaxStorageBlockBytes { get; }

    /// <summary>GL_MAX_COMPUTE_WORK_GROUP_COUNT per axis: the most workgroups one dispatch may launch along x, y, z.
    /// GL guarantees only 65535 on each; a dispatch above it is GL_INVALID_VALUE and silently runs nothing.</summary>
    public (uint X, uint Y, uint Z) MaxWorkGroupCount { get; }

    /// <summary>Whether shaders may write 8 floats as one 32-byte u64vec4 store (include/store8.glsl): true where the
    /// driver has GL_ARB_gpu_shader_int64 (llvmpipe does; on llvmpipe such a store costs what a vec4 store does, for
    /// twice the data). Plans read it when they are made; tests set it false to hold the vec4 path to the reference too.</summary>
    public bool WideStores { get; set; }

    /// <summary>Whether depthwise kernels of more than <see cref="Ops.ConvPlan.MaxUniformBlockTaps"/> taps read their
    /// weights through the texel view rather than the uniform block: true on a software rasteriser (every uniform-block
    /// load at a per-channel address is a gather there), false on real GPUs. Plans read it when they are made; tests flip
    /// it so each driver's parity run covers both reads.</summary>
    public bool BigDepthwiseKernelsThroughTexelView { get; set; }

    /// <summary>Whether a conv layer's plan is timed on first use (cuDNN's benchmark mode: GpuConv2D times every kind of
    /// program that computes the layer and keeps the rule's pick unless another is clearly faster; <see
    /// cref="TunedConvPlans"/> remembers it per shape) instead
    /// of chosen by the cost rules alone, which were measured on llvmpipe. Off unless <c>CONVGL_TUNE=1</c>; long-running
    /// users (the window, the bench) call <see cref="TuneWhereItPays"/>. Plans read it when they are made.</summary>
    public bool TuneConvPlans { get; set; } = Environment.GetEnvironmentVariable("CONVGL_TUNE") == "1";

    /// <summary>Turns <see cref="TuneConvPlans"/> on for a real GPU, where each candidate builds in milliseconds and times
    /// exactly, and leaves it off on a software rasteriser, where the rules were measured and a candidate can take seconds
    /// to build; <c>CONVGL_TUNE=1</c> or <c>0</c> decides instead (any other value: as if unset).</summary>
    public void TuneWhereItPays()
    {
        string? env = Environment.GetEnvironmentVariable("CONVGL_TUNE");
        TuneConvPlans = env is "1" || (env is not "0" && !IsSoftware);
    }

    /// <summary>A conv plan timed on first use: the kind that won, its Winograd split (0: the rule's), and what the
    /// layer's variant says of it.</summary>
    internal sealed record TunedConvPlan(Ops.ConvPath Path, int SplitK, string Summary);

    /// <summary>The plans timed so far, by the layer's shapes and options (see GpuConv2D.Tune).</summary>
    internal Dictionary<string, TunedConvPlan> TunedConvPlans { get; } = [];

    /// <summary>Whether <see cref="WarmClocksOnce"/> has run.</summary>
    internal bool ClocksWarmed { get; private set; }

    /// <summary>Before the first plan is timed on a real GPU: <paramref name="run"/> back to back for 250 ms (a finish every 8
    /// runs), once per context, so the candidates are not timed while the card's clocks are still rising from idle (the
    /// bench's WarmClocks, for the same reason: bench/README.md, "A real GPU").</summary>
    internal void WarmClocksOnce(Action run)
    {
        if (ClocksWarmed) return;
        ClocksWarmed = true;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int n = 1; n <= 20000 && System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds < 250; n++)
        {
            run();
            if (n % 8 == 0) Gl.Finish();
        }
        Gl.Finish();
    }

    /// <summary>The most loop iterations one shader invocation runs on this driver, or null where it has no such limit.
    /// Mesa's llvmpipe before 23 (Debian 12's 22.3 among them) counts every loop back-edge of an invocation, across all
    /// of its loops, and silently leaves every loop once 65,535 are spent (gallivm's loop limiter): a longer reduction
    /// returns a wrong value with no error. Measured once per context on a software rasteriser by a shader that counts
    /// to 70,000 (a compile of a few milliseconds, on first need); real GPUs are not probed. Ops check it through
    /// <c>ComputeOp.PastLoopLimit</c> before a dispatch whose loops could pass it.</summary>
    public long? LoopLimit
    {
        get
        {
            if (!_loopLimitKnown)
            {
                _loopLimit = IsSoftware ? ProbeLoopLimit() : null;
                _loopLimitKnown = true;
            }
            return _loopLimit;
        }
    }

    private long? _loopLimit;
    private bool _loopLimitKnown;

    private long? ProbeLoopLimit()
    {
        const int target = 70000;
        const string source = """
            #version 430
            layout(local_size_x = 1) in;
            layout(std430, binding = 0) writeonly buffer Count { int count; };
            uniform int u_target;
            void main()
            {
                int n = 0;
                for (int i = 0; i < u_target; i++) n++;
                count = n;
            }
            """;
        GlProgram program = Shaders.ComputeGenerated("generated/loop_limit.comp", source);
        using var buffer = new GlBuffer(this, "loop limit probe", 1);
        try
        {
            program.Use();
            Gl.Uniform1(program.Uniform("u_target"), target);
            buffer.Bind(0);
            Gl.DispatchCompute(1, 1, 1);
            Gl.MemoryBarrier(MemoryBarrierMask.BufferUpdateBarrierBit);
            int[] count = new int[1];
            buffer.Read<int>(count);
            return count[0] >= target ? null : count[0];
        }
        finally
        {
            program.Delete();
        }
    }

    /// <summary>Where set (the live window on a software rasteriser), the literal-weight programs are built ahead on the
    /// warmer's own thread, and the layers that need them run their general programs until they are ready
    /// (<see cref="ShaderLibrary.ComputeGeneratedWhenWarm"/>). Owned by this context from then on: disposed with it.</summary>
    public ShaderWarmer? Warmer { get; set; }

    /// <summary>Where KHR_debug messages go. Defaults to stderr for high/medium severity only.</summary>
    public Action<string> Log { get; set; } = static m => Console.Error.WriteLine(m);

    /// <summary>True while a <see cref="GpuTimer"/> has a GL_TIME_ELAPSED query open. Such queries cannot nest (a
    /// second glBeginQuery is GL_INVALID_OPERATION), so an inner timer checks this and skips its span.</summary>
    internal bool TimeElapsedQueryActive { get; set; }

    /// <summary>GL objects created through ConvGL's wrappers and not yet deleted. Leak tests compare it before and after.</summary>
    public int LiveObjects => Volatile.Read(ref _liveObjects);

    /// <summary>The kinds <see cref="LiveObjectsOf"/> counts separately; any other kind counts under "other".</summary>
    public static readonly IReadOnlyList<ObjectIdentifier> CountedKinds =
        [ObjectIdentifier.Buffer, ObjectIdentifier.Texture, ObjectIdentifier.Program, ObjectIdentifier.Query, ObjectIdentifier.Framebuffer, ObjectIdentifier.VertexArray];

    /// <summary>Live objects of one kind (see <see cref="LiveObjects"/>); a kind not in <see cref="CountedKinds"/>
    /// reads the "other" count. Objects whose delete was queued without its kind stay counted under their kind and
    /// are subtracted from "other" (use the kinded <see cref="EnqueueDisposal(ObjectIdentifier, Action{GL})"/>).</summary>
    public int LiveObjectsOf(ObjectIdentifier kind) => Volatile.Read(ref _liveByKind[KindIndex(kind)]);

    private static int KindIndex(ObjectIdentifier kind)
    {
        for (int i = 0; i < CountedKinds.Count; i++)
            if (CountedKinds[i] == kind) return i;
        return CountedKinds.Count;
    }

    /// <summary>GL objects the caller made with raw GL calls (a window's own texture or vertex array): counted with
    /// ConvGL's, so a leak of those shows too. +1 after creating one, -1 after deleting it.</summary>
    public void CountRawObject(ObjectIdentifier kind, int change)
    {
        Interlocked.Add(ref _liveObjects, change);
        Interlocked.Add(ref _liveByKind[KindIndex(kind)], change);
    }

    /// <summary>KHR_debug messages of type error (API misuse the driver reported), since the context was made with
    /// debug output on; 0 without it.</summary>
    public int DebugErrors => Volatile.Read(ref _debugErrors);
    /// <summary>KHR_debug messages above notification severity (errors included).</summary>
    public int DebugMessages => Volatile.Read(ref _debugMessages);

    private GlContext(GL gl, string how, nint eglDisplay, nint eglContext, bool debug)
    {
        Gl = gl;
        _eglDisplay = eglDisplay;
        _eglContext = eglContext;
        _threadId = Environment.CurrentManagedThreadId;
        string version = gl.GetStringS(StringName.Version) ?? "?";
        Renderer = gl.GetStringS(StringName.Renderer) ?? "?";
        string vendor = gl.GetStringS(StringName.Vendor) ?? "?";
        gl.GetInteger(GetPName.MajorVersion, out int major);
        gl.GetInteger(GetPName.MinorVersion, out int minor);
        gl.GetInteger(GetPName.ContextProfileMask, out int profile);
        // Compute shaders and SSBOs are core in 4.3; everything here relies on both. Compatibility profiles
        // (a window toolkit's default) are accepted because they include the core feature set.
        if (major < 4 || (major == 4 && minor < 3))
            throw new GpuException(
                $"ConvGL needs OpenGL 4.3 core (compute shaders); this context is '{version}' from '{vendor}' on '{Renderer}' ({how}, profile mask {profile}) -- update the driver or use --device cpu");
        Description = $"OpenGL {version} / {Renderer} / {vendor} ({how})";
        IsSoftware = IsSoftwareRenderer(Renderer);
        gl.GetInteger64(GLEnum.MaxShaderStorageBlockSize, out long maxBlock);
        MaxStorageBlockBytes = maxBlock;
        gl.GetInteger(GLEnum.MaxComputeWorkGroupCount, 0u, out int gx);
        gl.GetInteger(GLEnum.MaxComputeWorkGroupCount, 1u, out int gy);
        gl.GetInteger(GLEnum.MaxComputeWorkGroupCount, 2u, out int gz);
        // Read as signed ints: NVIDIA reports 2^31 - 1 for x, which fits; a driver reporting more would read negative.
        MaxWorkGroupCount = (gx > 0 ? (uint)gx : int.MaxValue, gy > 0 ? (uint)gy : int.MaxValue, gz > 0 ? (uint)gz : int.MaxValue);
        WideStores = HasExtension(gl, "GL_ARB_gpu_shader_int64");
        BigDepthwiseKernelsThroughTexelView = IsSoftware;
        if (debug)
        {
            _debugProc = OnDebugMessage;
            gl.Enable(EnableCap.DebugOutput);
            gl.Enable(EnableCap.DebugOutputSynchronous);
            unsafe { gl.DebugMessageCallback(_debugProc, null); }
        }
        // llvmpipe: its compute threads one per core (DriverThreads says why and what it measured).
        DriverThreads.PinAfterContext(IsSoftware);
    }

    /// <summary>Whether the context lists the GL extension <paramref name="name"/> (GL_NUM_EXTENSIONS, glGetStringi).</summary>
    private static bool HasExtension(GL gl, string name)
    {
        gl.GetInteger(GetPName.NumExtensions, out int count);
        for (uint i = 0; i < count; i++)
            if (gl.GetStringS(StringName.Extensions, i) == name) return true;
        return false;
    }

    /// <summary>Checks whether EGL can be loaded at all, without creating anything.</summary>
    public static bool EglAvailable(out string reason) => Egl.TryLoad(out reason);

    /// <summary>A headless context: EGL's device platform on a vendor driver that enumerates devices (NVIDIA),
    /// else Mesa's surfaceless platform (llvmpipe in CI). Throws <see cref="EglMissingException"/> when libEGL
    /// is absent, <see cref="GpuException"/> naming every attempt when no display gives a 4.3 core context.</summary>
    public static GlContext CreateHeadless(bool debug = true)
    {
        if (!Egl.TryLoad(out string reason)) throw new EglMissingException(reason);
        DriverThreads.MarkBaseline();
        var attempts = new List<string>();
        foreach ((string name, Func<nint> display) in Displays())
        {
            nint dpy = display();
            if (dpy == 0)
            {
                attempts.Add($"{name}: no display ({Egl.ErrorName(Egl.GetError())})");
                continue;
            }
            if (!Egl.Initialize(dpy, out int eglMajor, out int eglMinor))
            {
                attempts.Add($"{name}: eglInitialize failed ({Egl.ErrorName(Egl.GetError())})");
                continue;
            }
            nint ctx = TryCreateContext(dpy, debug, out string why);
            if (ctx == 0)
            {
                attempts.Add($"{name} (EGL {eglMajor}.{eglMinor}, {Egl.QueryString(dpy, Egl.Vendor)}): {why}");
                // Not terminated: other EGL displays in the process (or the other platform) may share
                // driver state on some vendors; terminating is safe but buys nothing here.
                continue;
            }
            GL gl = GL.GetApi(Egl.GetProcAddress);
            try
            {
                return new GlContext(gl, $"EGL {name}", dpy, ctx, debug);
            }
            catch
            {
                Egl.MakeCurrent(dpy, 0);
                Egl.DestroyContext(dpy, ctx);
                throw;
            }
        }
        throw new GpuException("no headless OpenGL 4.3 core context: " + string.Join("; ", attempts));
    }

    /// <summary>Wraps the context current on this thread (a GLFW window's). The caller keeps owning it;
    /// Dispose deletes ConvGL's objects but not the context.</summary>
    /// <summary>Whether a GL_RENDERER string names a software rasteriser (Mesa's llvmpipe or softpipe).</summary>
    public static bool IsSoftwareRenderer(string renderer) =>
        renderer.Contains("llvmpipe", StringComparison.OrdinalIgnoreCase) || renderer.Contains("softpipe", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether the context current on this thread (a window's, before the app adopts it) renders in software.</summary>
    public static bool CurrentIsSoftware(Func<string, nint> getProcAddress)
    {
        ArgumentNullException.ThrowIfNull(getProcAddress);
        return IsSoftwareRenderer(GL.GetApi(getProcAddress).GetStringS(StringName.Renderer) ?? "");
    }

    public static GlContext Adopt(Func<string, nint> getProcAddress, bool debug = false)
    {
        ArgumentNullException.ThrowIfNull(getProcAddress);
        return new GlContext(GL.GetApi(getProcAddress), "adopted window context", 0, 0, debug);
    }

    internal static IEnumerable<(string Name, Func<nint> Display)> Displays()
    {
        // Vendor drivers (NVIDIA) expose GPUs as EGL devices and have no surfaceless platform; a device
        // display needs no X server. Mesa also lists a software device (EGL_MESA_device_software) which
        // we leave for last, so a real GPU wins whenever one is there.
        nint[] devices = Egl.QueryDevices();
        var hardware = new List<(string, Func<nint>)>();
        var software = new List<(string, Func<nint>)>();
        for (int i = 0; i < devices.Length; i++)
        {
            nint device = devices[i];
            string ext = Egl.QueryDeviceExtensions(device);
            bool isSoftware = ext.Contains("EGL_MESA_device_software", StringComparison.Ordinal);
            (isSoftware ? software : hardware).Add(($"device {i}{(isSoftware ? " (software)" : "")}",
                () => Egl.GetPlatformDisplay(Egl.PlatformDeviceExt, device)));
        }
        foreach (var d in hardware) yield return d;
        // Mesa's surfaceless platform: what CI's llvmpipe offers without any display server.
        yield return ("surfaceless (Mesa)", () => Egl.GetPlatformDisplay(Egl.PlatformSurfacelessMesa, 0));
        foreach (var d in software) yield return d;
    }

    private static nint TryCreateContext(nint dpy, bool debug, out string why)
    {
        if (!Egl.BindApi(Egl.OpenGLApi))
        {
            why = $"eglBindAPI(OpenGL) failed ({Egl.ErrorName(Egl.GetError())}): this EGL offers only OpenGL ES";
            return 0;
        }
        string ext = Egl.QueryString(dpy, Egl.Extensions);
        if (!ext.Contains("EGL_KHR_surfaceless_context", StringComparison.Ordinal))
        {
            why = "no EGL_KHR_surfaceless_context (needed to make a context current without a surface)";
            return 0;
        }
        // Surface type 0 matches every config: we never create a surface, we only need an OpenGL-renderable one.
        nint config = Egl.ChooseConfig(dpy, [Egl.RenderableType, Egl.OpenGLBit, Egl.SurfaceType, 0, Egl.None]);
        if (config == 0 && !ext.Contains("EGL_KHR_no_config_context", StringComparison.Ordinal))
        {
            why = "no OpenGL config and no EGL_KHR_no_config_context";
            return 0;
        }
        // Where the surfaceless display offers no matching config, EGL_KHR_no_config_context lets us create the
        // context with EGL_NO_CONFIG_KHR (0): fine, since we render only into buffers and textures.
        int[] core = Egl.Core43;
        nint ctx = debug ? Egl.CreateContext(dpy, config, [.. core, Egl.ContextOpenGLDebug, 1, Egl.None]) : 0;
        // Some EGL 1.4 drivers reject EGL_CONTEXT_OPENGL_DEBUG (a 1.5 attribute): retry without the debug flag.
        if (ctx == 0) ctx = Egl.CreateContext(dpy, config, [.. core, Egl.None]);
        if (ctx == 0)
        {
            why = $"eglCreateContext(OpenGL 4.3 core) failed ({Egl.ErrorName(Egl.GetError())})";
            return 0;
        }
        if (!Egl.MakeCurrent(dpy, ctx))
        {
            why = $"eglMakeCurrent without a surface failed ({Egl.ErrorName(Egl.GetError())})";
            Egl.DestroyContext(dpy, ctx);
            return 0;
        }
        why = "";
        return ctx;
    }

    private void OnDebugMessage(GLEnum source, GLEnum type, int id, GLEnum severity, int length, nint message, nint userParam)
    {
        // Notifications (buffer placement hints, shader recompiles) are noise; warnings and errors are not.
        if (severity == GLEnum.DebugSeverityNotification) return;
        Interlocked.Increment(ref _debugMessages);
        if (type == GLEnum.DebugTypeError) Interlocked.Increment(ref _debugErrors);
        string text = Marshal.PtrToStringAnsi(message, length);
        Log($"GL {Short(type)} [{Short(severity)}] {id}: {text}");
    }

    private static string Short(GLEnum e) => e.ToString().Replace("Debug", "", StringComparison.Ordinal);

    /// <summary>The shader library serving this context (shaders/ found at run time; see <see cref="ShaderLibrary"/>).</summary>
    public ShaderLibrary Shaders => _shaders ??= new ShaderLibrary(this, ShaderLibrary.FindRoot());

    /// <summary>A second shader library over another shaders/ folder (<paramref name="root"/>), for <see cref="UseShaders"/>:
    /// the bench's same-process A/B (<c>convgl bench --ab-shaders DIR</c>). The caller disposes it, after the programs
    /// built from it are done with.</summary>
    public ShaderLibrary CreateShaderLibrary(string root)
    {
        if (!Directory.Exists(root)) throw new GpuException($"shader folder {root} is not a folder");
        return new ShaderLibrary(this, root);
    }

    /// <summary>Serves programs from <paramref name="library"/> (one made by <see cref="CreateShaderLibrary"/>) until the
    /// returned scope is disposed, when the library before it serves again. Programs already built keep their own text.</summary>
    public IDisposable UseShaders(ShaderLibrary library)
    {
        ShaderLibrary before = Shaders;
        _shaders = library;
        return new ShaderScope(this, before);
    }

    private sealed class ShaderScope(GlContext context, ShaderLibrary before) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            context._shaders = before;
        }
    }

    internal void ObjectCreated(ObjectIdentifier kind, uint handle, string label)
    {
        Interlocked.Increment(ref _liveObjects);
        Interlocked.Increment(ref _liveByKind[KindIndex(kind)]);
        if (handle == 0 || label.Length == 0) return;
        // GL_MAX_LABEL_LENGTH (256 on Mesa) includes the terminator: a longer label is GL_INVALID_VALUE (a program named by
        // its defines, a literal kernel among them, once was); the label is cut to fit.
        if (_maxLabel == 0) _maxLabel = Math.Max(2, Gl.GetInteger(GetPName.MaxLabelLength));
        if (label.Length >= _maxLabel) label = label[..(_maxLabel - 1)];
        Gl.ObjectLabel(kind, handle, (uint)label.Length, label);
    }

    private int _maxLabel;

    /// <summary>Queues the delete of a GL object; it runs on the GL thread at the next flush. Idempotence is
    /// the caller's job (each wrapper guards its own Dispose).</summary>
    internal void EnqueueDisposal(Action<GL> delete) => Enqueue(CountedKinds.Count, delete);

    /// <summary>Queues the delete of a GL object of <paramref name="kind"/> (see <see cref="EnqueueDisposal(Action{GL})"/>),
    /// so the per-kind count goes down with it.</summary>
    internal void EnqueueDisposal(ObjectIdentifier kind, Action<GL> delete) => Enqueue(KindIndex(kind), delete);

    private void Enqueue(int kind, Action<GL> delete)
    {
        lock (_disposalLock) _disposals.Enqueue((kind, delete));
        if (Environment.CurrentManagedThreadId == _threadId && !_disposed) FlushDisposables();
    }

    /// <summary>Runs queued deletes. Must be called on the GL thread; ops call it before each dispatch.</summary>
    public void FlushDisposables()
    {
        if (Environment.CurrentManagedThreadId != _threadId) return;
        while (true)
        {
            (int Kind, Action<GL> Delete) d;
            lock (_disposalLock)
            {
                if (!_disposals.TryDequeue(out d)) return;
            }
            d.Delete(Gl);
            Interlocked.Decrement(ref _liveObjects);
            Interlocked.Decrement(ref _liveByKind[d.Kind]);
        }
    }

    internal void CheckThread()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Environment.CurrentManagedThreadId != _threadId)
            throw new InvalidOperationException("GL calls must come from the thread that created the GlContext");
    }

    public void Dispose()
    {
        if (_disposed) return;
        Warmer?.Dispose();
        _shaders?.Dispose();
        FlushDisposables();
        _disposed = true;
        if (_eglContext != 0)
        {
            Egl.MakeCurrent(_eglDisplay, 0);
            Egl.DestroyContext(_eglDisplay, _eglContext);
            Egl.ReleaseThread();
        }
    }
}
