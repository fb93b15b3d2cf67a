using System.Runtime.InteropServices;

namespace ConvGL.App.Glfw;

/// <summary>The few GLFW 3.3 entry points the window needs, bound to Debian's libglfw.so.3. The registry here
/// serves no Silk.NET.Windowing or Silk.NET.GLFW, so this file and <see cref="GlfwWindow"/> are the whole
/// binding; nothing else in the app calls GLFW. Constants are GLFW's own values (glfw3.h).</summary>
internal static unsafe partial class GlfwNative
{
    private const string Lib = "libglfw.so.3";

    public const int True = 1, False = 0;
    public const int ContextVersionMajor = 0x00022002, ContextVersionMinor = 0x00022003;
    public const int OpenGLForwardCompat = 0x00022006, OpenGLProfile = 0x00022008, OpenGLCoreProfile = 0x00032001;
    public const int Visible = 0x00020004, Resizable = 0x00020003;
    public const int Press = 1, Release = 0, Repeat = 2;
    public const int ModShift = 0x0001, ModControl = 0x0002;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void ErrorCallback(int code, byte* description);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void KeyCallback(nint window, int key, int scancode, int action, int mods);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void MouseButtonCallback(nint window, int button, int action, int mods);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void CursorPosCallback(nint window, double x, double y);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void DropCallback(nint window, int count, byte** paths);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void SizeCallback(nint window, int width, int height);

    [DllImport(Lib, EntryPoint = "glfwInit")] public static extern int Init();
    [DllImport(Lib, EntryPoint = "glfwTerminate")] public static extern void Terminate();
    [DllImport(Lib, EntryPoint = "glfwSetErrorCallback")] public static extern nint SetErrorCallback(ErrorCallback? callback);
    [DllImport(Lib, EntryPoint = "glfwWindowHint")] public static extern void WindowHint(int hint, int value);
    [DllImport(Lib, EntryPoint = "glfwCreateWindow")] public static extern nint CreateWindow(int width, int height, byte* title, nint monitor, nint share);
    [DllImport(Lib, EntryPoint = "glfwDestroyWindow")] public static extern void DestroyWindow(nint window);
    [DllImport(Lib, EntryPoint = "glfwMakeContextCurrent")] public static extern void MakeContextCurrent(nint window);
    [DllImport(Lib, EntryPoint = "glfwSwapInterval")] public static extern void SwapInterval(int interval);
    [DllImport(Lib, EntryPoint = "glfwSwapBuffers")] public static extern void SwapBuffers(nint window);
    [DllImport(Lib, EntryPoint = "glfwGetProcAddress")] public static extern nint GetProcAddress(byte* name);
    [DllImport(Lib, EntryPoint = "glfwPollEvents")] public static extern void PollEvents();
    [DllImport(Lib, EntryPoint = "glfwWindowShouldClose")] public static extern int WindowShouldClose(nint window);
    [DllImport(Lib, EntryPoint = "glfwSetWindowShouldClose")] public static extern void SetWindowShouldClose(nint window, int value);
    [DllImport(Lib, EntryPoint = "glfwGetFramebufferSize")] public static extern void GetFramebufferSize(nint window, out int width, out int height);
    [DllImport(Lib, EntryPoint = "glfwGetWindowSize")] public static extern void GetWindowSize(nint window, out int width, out int height);
    [DllImport(Lib, EntryPoint = "glfwSetWindowTitle")] public static extern void SetWindowTitle(nint window, byte* title);
    [DllImport(Lib, EntryPoint = "glfwGetTime")] public static extern double GetTime();
    [DllImport(Lib, EntryPoint = "glfwSetKeyCallback")] public static extern nint SetKeyCallback(nint window, KeyCallback? callback);
    [DllImport(Lib, EntryPoint = "glfwSetMouseButtonCallback")] public static extern nint SetMouseButtonCallback(nint window, MouseButtonCallback? callback);
    [DllImport(Lib, EntryPoint = "glfwSetCursorPosCallback")] public static extern nint SetCursorPosCallback(nint window, CursorPosCallback? callback);
    [DllImport(Lib, EntryPoint = "glfwSetDropCallback")] public static extern nint SetDropCallback(nint window, DropCallback? callback);
    [DllImport(Lib, EntryPoint = "glfwGetPrimaryMonitor")] public static extern nint GetPrimaryMonitor();
    /// <summary>The monitor's current GLFWvidmode: width, height, red/green/blue bits, refresh rate (six ints).</summary>
    [DllImport(Lib, EntryPoint = "glfwGetVideoMode")] public static extern int* GetVideoMode(nint monitor);
    /// <summary>The desktop's scale for text and controls on the window's monitor (GLFW 3.3: on X11 Xft.dpi / 96).</summary>
    [DllImport(Lib, EntryPoint = "glfwGetWindowContentScale")] public static extern void GetWindowContentScale(nint window, out float x, out float y);
    [DllImport(Lib, EntryPoint = "glfwGetMonitorContentScale")] public static extern void GetMonitorContentScale(nint monitor, out float x, out float y);
    [DllImport(Lib, EntryPoint = "glfwSetFramebufferSizeCallback")] public static extern nint SetFramebufferSizeCallback(nint window, SizeCallback? callback);
}
