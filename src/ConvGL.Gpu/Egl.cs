using System.Runtime.InteropServices;

namespace ConvGL.Gpu;

/// <summary>The few EGL 1.5 entry points a headless OpenGL context needs, bound by hand from libEGL.so.1
/// (libglvnd's dispatcher on Debian, which routes to Mesa or to the NVIDIA driver). Extension functions
/// (device enumeration, platform displays) come from eglGetProcAddress, as the EGL spec requires.</summary>
internal static unsafe class Egl
{
    public const int None = 0x3038;
    public const int Vendor = 0x3053;
    public const int Extensions = 0x3055;
    public const int SurfaceType = 0x3033;
    public const int RenderableType = 0x3040;
    public const int OpenGLBit = 0x0008;
    public const int OpenGLApi = 0x30A2;
    public const int ContextMajorVersion = 0x3098;
    public const int ContextMinorVersion = 0x30FB;
    public const int ContextOpenGLProfileMask = 0x30FD;
    public const int ContextOpenGLCoreProfileBit = 0x0001;
    public const int ContextOpenGLDebug = 0x31B0;
    public const int PlatformDeviceExt = 0x313F;
    public const int PlatformSurfacelessMesa = 0x31DD;
    /// <summary>eglCreateContext's attributes for an OpenGL 4.3 core context, without the closing <see cref="None"/>.</summary>
    public static readonly int[] Core43 = [ContextMajorVersion, 4, ContextMinorVersion, 3, ContextOpenGLProfileMask, ContextOpenGLCoreProfileBit];
    public const int PbufferBit = 0x0001;
    public const int RedSize = 0x3024, GreenSize = 0x3023, BlueSize = 0x3022, AlphaSize = 0x3021;
    public const int Width = 0x3057, Height = 0x3056;

    private static nint s_library;
    private static delegate* unmanaged<byte*, nint> s_getProcAddress;
    private static delegate* unmanaged<int> s_getError;
    private static delegate* unmanaged<nint, int*, int*, int> s_initialize;
    private static delegate* unmanaged<nint, int> s_terminate;
    private static delegate* unmanaged<nint, int, byte*> s_queryString;
    private static delegate* unmanaged<int, int> s_bindApi;
    private static delegate* unmanaged<nint, int*, nint*, int, int*, int> s_chooseConfig;
    private static delegate* unmanaged<nint, nint, nint, int*, nint> s_createContext;
    private static delegate* unmanaged<nint, nint, int> s_destroyContext;
    private static delegate* unmanaged<nint, nint, nint, nint, int> s_makeCurrent;
    private static delegate* unmanaged<int> s_releaseThread;
    private static delegate* unmanaged<int, nint*, int*, int> s_queryDevices;
    private static delegate* unmanaged<nint, int, byte*> s_queryDeviceString;
    private static delegate* unmanaged<int, nint, int*, nint> s_getPlatformDisplay;
    private static delegate* unmanaged<nint, nint, int*, nint> s_createPbufferSurface;
    private static delegate* unmanaged<nint, nint, int> s_destroySurface;
    private static delegate* unmanaged<nint, nint, int> s_swapBuffers;

    /// <summary>Loads libEGL.so.1 once. Returns false only when the library itself cannot be loaded:
    /// the one situation in which GPU tests may skip.</summary>
    public static bool TryLoad(out string reason)
    {
        // Before Mesa starts: a cache folder on a full disk crashes it (MesaCache).
        MesaCache.Guard();
        if (s_library != 0)
        {
            reason = "";
            return true;
        }
        if (!NativeLibrary.TryLoad("libEGL.so.1", out nint lib) && !NativeLibrary.TryLoad("libEGL.so", out lib))
        {
            reason = "libEGL.so.1 could not be loaded (install Debian's libegl1 libegl-mesa0 libgl1-mesa-dri)";
            return false;
        }
        s_getProcAddress = (delegate* unmanaged<byte*, nint>)NativeLibrary.GetExport(lib, "eglGetProcAddress");
        s_getError = (delegate* unmanaged<int>)NativeLibrary.GetExport(lib, "eglGetError");
        s_initialize = (delegate* unmanaged<nint, int*, int*, int>)NativeLibrary.GetExport(lib, "eglInitialize");
        s_terminate = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(lib, "eglTerminate");
        s_queryString = (delegate* unmanaged<nint, int, byte*>)NativeLibrary.GetExport(lib, "eglQueryString");
        s_bindApi = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(lib, "eglBindAPI");
        s_chooseConfig = (delegate* unmanaged<nint, int*, nint*, int, int*, int>)NativeLibrary.GetExport(lib, "eglChooseConfig");
        s_createContext = (delegate* unmanaged<nint, nint, nint, int*, nint>)NativeLibrary.GetExport(lib, "eglCreateContext");
        s_destroyContext = (delegate* unmanaged<nint, nint, int>)NativeLibrary.GetExport(lib, "eglDestroyContext");
        s_makeCurrent = (delegate* unmanaged<nint, nint, nint, nint, int>)NativeLibrary.GetExport(lib, "eglMakeCurrent");
        s_releaseThread = (delegate* unmanaged<int>)NativeLibrary.GetExport(lib, "eglReleaseThread");
        s_createPbufferSurface = (delegate* unmanaged<nint, nint, int*, nint>)NativeLibrary.GetExport(lib, "eglCreatePbufferSurface");
        s_destroySurface = (delegate* unmanaged<nint, nint, int>)NativeLibrary.GetExport(lib, "eglDestroySurface");
        s_swapBuffers = (delegate* unmanaged<nint, nint, int>)NativeLibrary.GetExport(lib, "eglSwapBuffers");
        s_queryDevices = (delegate* unmanaged<int, nint*, int*, int>)GetProcAddress("eglQueryDevicesEXT");
        s_queryDeviceString = (delegate* unmanaged<nint, int, byte*>)GetProcAddress("eglQueryDeviceStringEXT");
        s_getPlatformDisplay = (delegate* unmanaged<int, nint, int*, nint>)GetProcAddress("eglGetPlatformDisplayEXT");
        s_library = lib;
        reason = "";
        return true;
    }

    public static nint GetProcAddress(string name)
    {
        byte[] bytes = new byte[name.Length + 1];
        for (int i = 0; i < name.Length; i++) bytes[i] = (byte)name[i];
        fixed (byte* p = bytes) return s_getProcAddress(p);
    }

    public static int GetError() => s_getError();

    public static string ErrorName(int code) => code switch
    {
        0x3000 => "EGL_SUCCESS",
        0x3001 => "EGL_NOT_INITIALIZED",
        0x3002 => "EGL_BAD_ACCESS",
        0x3003 => "EGL_BAD_ALLOC",
        0x3004 => "EGL_BAD_ATTRIBUTE",
        0x3005 => "EGL_BAD_CONFIG",
        0x3006 => "EGL_BAD_CONTEXT",
        0x3008 => "EGL_BAD_DISPLAY",
        0x3009 => "EGL_BAD_MATCH",
        0x300C => "EGL_BAD_PARAMETER",
        _ => $"EGL error 0x{code:X4}",
    };


    public static nint[] QueryDevices()
    {
        if (s_queryDevices == null) return [];
        int count;
        if (s_queryDevices(0, null, &count) == 0 || count <= 0) return [];
        var devices = new nint[count];
        fixed (nint* p = devices)
        {
            if (s_queryDevices(count, p, &count) == 0) return [];
        }
        return devices[..count];
    }

    public static string QueryDeviceExtensions(nint device) =>
        s_queryDeviceString == null ? "" : Marshal.PtrToStringAnsi((nint)s_queryDeviceString(device, Extensions)) ?? "";

    public static nint GetPlatformDisplay(int platform, nint nativeDisplay) =>
        s_getPlatformDisplay == null ? 0 : s_getPlatformDisplay(platform, nativeDisplay, null);

    /// <summary>eglInitialize, with the driver's own stderr lines silenced ("libEGL warning: egl: failed to create dri2
    /// screen" three times for a bad GALLIUM_DRIVER, before ConvGL's one line naming every attempt: the environment audit).</summary>
    public static bool Initialize(nint display, out int major, out int minor)
    {
        (bool ok, int ma, int mi) = ConvGL.Core.IO.NativeProcess.WithoutNativeStderr(() =>
        {
            int a, b;
            bool r = s_initialize(display, &a, &b) != 0;
            return (r, a, b);
        });
        (major, minor) = (ma, mi);
        return ok;
    }

    public static void Terminate(nint display) => s_terminate(display);

    public static string QueryString(nint display, int name) => Marshal.PtrToStringAnsi((nint)s_queryString(display, name)) ?? "";

    public static bool BindApi(int api) => s_bindApi(api) != 0;

    public static nint ChooseConfig(nint display, int[] attributes)
    {
        nint config = 0;
        int count = 0;
        fixed (int* a = attributes)
        {
            if (s_chooseConfig(display, a, &config, 1, &count) == 0 || count < 1) return 0;
        }
        return config;
    }

    public static nint CreateContext(nint display, nint config, int[] attributes)
    {
        fixed (int* a = attributes) return s_createContext(display, config, 0, a);
    }

    public static void DestroyContext(nint display, nint context) => s_destroyContext(display, context);

    public static bool MakeCurrent(nint display, nint context) => MakeCurrent(display, 0, context);

    public static void ReleaseThread() => s_releaseThread();

    public static nint CreatePbufferSurface(nint display, nint config, int[] attributes)
    {
        fixed (int* a = attributes) return s_createPbufferSurface(display, config, a);
    }

    public static void DestroySurface(nint display, nint surface) => s_destroySurface(display, surface);

    /// <summary>eglMakeCurrent with one surface for drawing and reading.</summary>
    public static bool MakeCurrent(nint display, nint surface, nint context) => s_makeCurrent(display, surface, surface, context) != 0;

    public static bool SwapBuffers(nint display, nint surface) => s_swapBuffers(display, surface) != 0;
}
