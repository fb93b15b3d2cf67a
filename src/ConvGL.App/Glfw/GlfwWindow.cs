using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Text;
using ConvGL.Core;

namespace ConvGL.App.Glfw;

/// <summary>A GLFW window with an OpenGL 4.3 core context (compute shaders need 4.3).</summary>
internal sealed unsafe class GlfwWindow : IAppWindow
{
    public const string NoDisplayMessage =
        "no display (DISPLAY/WAYLAND_DISPLAY unset or unreachable); run it under a virtual display: xvfb-run -a ./convgl " +
        "(a scripted run can also draw offscreen: --offscreen --frames N)";

    // GLFW keeps raw function pointers to these; the fields keep the delegates alive for the window's lifetime
    // (a collected delegate would turn the next callback into a crash).
    private static readonly GlfwNative.ErrorCallback s_error = OnError;
    private readonly GlfwNative.KeyCallback _key;
    private readonly GlfwNative.MouseButtonCallback _mouse;
    private readonly GlfwNative.CursorPosCallback _cursor;
    private readonly GlfwNative.DropCallback _drop;
    private readonly GlfwNative.SizeCallback _fbSize;
    [ThreadStatic] private static string? t_lastError;

    private nint _handle;
    private bool _vsync;
    private ExceptionDispatchInfo? _callbackError;

    public event Action<Key, KeyMods>? KeyDown;
    public event Action<int, KeyMods>? MouseDown;
    public event Action<double, double>? MouseMove;
    public event Action<string[]>? FileDrop;
    public event Action<int, int>? FramebufferResize;

    private GlfwWindow(nint handle)
    {
        _handle = handle;
        // An exception must not unwind through GLFW's C frames (the runtime would abort with a stack trace):
        // each callback keeps the first one and DoEvents rethrows it once glfwPollEvents has returned, so it
        // reaches Program's one-line handler like any other error.
        _key = (_, key, _, action, mods) =>
        {
            try
            {
                if (action != GlfwNative.Release) KeyDown?.Invoke(Enum.IsDefined((Key)key) ? (Key)key : Key.Unknown, (KeyMods)mods);
            }
            catch (Exception e) { _callbackError ??= ExceptionDispatchInfo.Capture(e); }
        };
        _mouse = (_, button, action, mods) =>
        {
            try
            {
                if (action == GlfwNative.Press) MouseDown?.Invoke(button, (KeyMods)mods);
            }
            catch (Exception e) { _callbackError ??= ExceptionDispatchInfo.Capture(e); }
        };
        _cursor = (_, x, y) =>
        {
            try { MouseMove?.Invoke(x, y); }
            catch (Exception e) { _callbackError ??= ExceptionDispatchInfo.Capture(e); }
        };
        _drop = (_, count, paths) =>
        {
            try
            {
                var list = new string[count];
                for (int i = 0; i < count; i++) list[i] = Marshal.PtrToStringUTF8((nint)paths[i]) ?? "";
                FileDrop?.Invoke(list);
            }
            catch (Exception e) { _callbackError ??= ExceptionDispatchInfo.Capture(e); }
        };
        _fbSize = (_, w, h) =>
        {
            try { FramebufferResize?.Invoke(w, h); }
            catch (Exception e) { _callbackError ??= ExceptionDispatchInfo.Capture(e); }
        };
        GlfwNative.SetKeyCallback(handle, _key);
        GlfwNative.SetMouseButtonCallback(handle, _mouse);
        GlfwNative.SetCursorPosCallback(handle, _cursor);
        GlfwNative.SetDropCallback(handle, _drop);
        GlfwNative.SetFramebufferSizeCallback(handle, _fbSize);
    }

    /// <summary>Opens a resizable window and makes its context current; a width or height of 0 picks a size that fits
    /// the primary monitor (<see cref="FitMonitor"/>). No display (or a display GLFW cannot reach) is a
    /// <see cref="MachineException"/> with <see cref="NoDisplayMessage"/> (exit 1: the machine, not the input); a display
    /// without GL 4.3 is another.</summary>
    public static GlfwWindow Create(int width, int height, string title, bool visible = true)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DISPLAY")) &&
            string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WAYLAND_DISPLAY")))
            throw new MachineException(NoDisplayMessage);
        try
        {
            GlfwNative.SetErrorCallback(s_error);
        }
        catch (DllNotFoundException)
        {
            throw new MachineException("libglfw.so.3 not found; install it: apt-get install libglfw3 (or run scripts/install-deps.sh)");
        }
        // Before the driver starts: a shader cache on a full disk crashes Mesa (MesaCache).
        ConvGL.Gpu.MesaCache.Guard();
        // The threads before the driver starts its own (GlContext pins llvmpipe's compute threads once the context is adopted).
        ConvGL.Gpu.DriverThreads.MarkBaseline();
        if (GlfwNative.Init() != GlfwNative.True) throw new MachineException(NoDisplayMessage);
        GlfwNative.WindowHint(GlfwNative.ContextVersionMajor, 4);
        GlfwNative.WindowHint(GlfwNative.ContextVersionMinor, 3);
        GlfwNative.WindowHint(GlfwNative.OpenGLProfile, GlfwNative.OpenGLCoreProfile);
        GlfwNative.WindowHint(GlfwNative.OpenGLForwardCompat, GlfwNative.True);
        GlfwNative.WindowHint(GlfwNative.Visible, visible ? GlfwNative.True : GlfwNative.False);
        GlfwNative.WindowHint(GlfwNative.Resizable, GlfwNative.True);
        if (width <= 0 || height <= 0)
        {
            nint monitor = GlfwNative.GetPrimaryMonitor();
            int* mode = monitor == 0 ? null : GlfwNative.GetVideoMode(monitor);
            float scale = 1;
            if (monitor != 0)
            {
                GlfwNative.GetMonitorContentScale(monitor, out float sx, out float sy);
                scale = ValidScale(Math.Max(sx, sy));
            }
            (width, height) = mode is null ? (DefaultWidth, DefaultHeight) : FitMonitor(mode[0], mode[1], scale);
        }
        // Mesa's own "libGL error: ..." lines for a driver it cannot load are silenced: GLFW's error callback says why,
        // in the one line below (the environment audit).
        byte[] titleBytes = Utf8(title);
        (int w, int h) = (width, height);
        nint handle = ConvGL.Core.IO.NativeProcess.WithoutNativeStderr(() =>
        {
            fixed (byte* t = titleBytes) return GlfwNative.CreateWindow(w, h, t, 0, 0);
        });
        if (handle == 0)
        {
            string why = t_lastError ?? "unknown reason";
            GlfwNative.Terminate();
            throw new MachineException($"cannot open an OpenGL 4.3 core window ({why}); compute shaders need OpenGL 4.3 (Mesa llvmpipe provides it: apt-get install libgl1-mesa-dri; a scripted run can draw offscreen: --offscreen --frames N)");
        }
        GlfwNative.MakeContextCurrent(handle);
        var window = new GlfwWindow(handle);
        window.VSync = true;
        return window;
    }

    /// <summary>The size used when the monitor cannot be asked.</summary>
    public const int DefaultWidth = 1024, DefaultHeight = 640;

    /// <summary>A start-up size for a monitor of <paramref name="width"/> x <paramref name="height"/>: 16:10 within
    /// 85% of it (room for the desktop's panels and the title bar), at most 1600x1000, at least 640x400, in the units of
    /// a desktop that scales text and controls by <paramref name="scale"/> (2 on a 200% HiDPI screen): a 3840x2160
    /// monitor at 200% opens what a 1920x1080 one at 100% does (1468x918) in twice the pixels.</summary>
    public static (int Width, int Height) FitMonitor(int width, int height, float scale = 1)
    {
        float s = ValidScale(scale);
        double fit = Math.Min(Math.Min(width / s * 0.85 / 16, height / s * 0.85 / 10), 100);
        int w = (int)(Math.Max(640, (int)(fit * 16)) * s), h = (int)(Math.Max(400, (int)(fit * 10)) * s);
        return (Math.Min(w, Math.Max(1, width)), Math.Min(h, Math.Max(1, height)));
    }

    private static void OnError(int code, byte* description) =>
        t_lastError = $"GLFW error 0x{code:x}: {Marshal.PtrToStringUTF8((nint)description)}";

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s + "\0");

    /// <summary>A content scale GLFW reported, or 1 where it is not a usable one (0, NaN, or past 1/4..8).</summary>
    public static float ValidScale(float scale) => float.IsFinite(scale) && scale >= 0.25f && scale <= 8 ? scale : 1;

    public float ContentScale
    {
        get
        {
            GlfwNative.GetWindowContentScale(_handle, out float x, out float y);
            return ValidScale(Math.Max(x, y));
        }
    }

    public (int Width, int Height) FramebufferSize
    {
        get
        {
            GlfwNative.GetFramebufferSize(_handle, out int w, out int h);
            return (w, h);
        }
    }

    public (int Width, int Height) Size
    {
        get
        {
            GlfwNative.GetWindowSize(_handle, out int w, out int h);
            return (w, h);
        }
    }

    public bool IsClosing => GlfwNative.WindowShouldClose(_handle) != 0;

    public bool VSync
    {
        get => _vsync;
        set
        {
            _vsync = value;
            GlfwNative.SwapInterval(value ? 1 : 0);
        }
    }

    public string Title
    {
        set
        {
            fixed (byte* t = Utf8(value)) GlfwNative.SetWindowTitle(_handle, t);
        }
    }

    public double Time => GlfwNative.GetTime();

    public nint GetProcAddress(string name)
    {
        fixed (byte* n = Utf8(name)) return GlfwNative.GetProcAddress(n);
    }

    public void MakeCurrent() => GlfwNative.MakeContextCurrent(_handle);
    public void DoEvents()
    {
        GlfwNative.PollEvents();
        if (_callbackError is { } error)
        {
            _callbackError = null;
            error.Throw();
        }
    }
    public void SwapBuffers() => GlfwNative.SwapBuffers(_handle);
    public void Close() => GlfwNative.SetWindowShouldClose(_handle, GlfwNative.True);

    public void Dispose()
    {
        if (_handle == 0) return;
        GlfwNative.DestroyWindow(_handle);
        _handle = 0;
        GlfwNative.Terminate();
    }
}
