namespace ConvGL.App.Glfw;

/// <summary>Keys by GLFW's key codes (the same numbers Silk.NET.Input.Key uses), only the ones the app binds.</summary>
internal enum Key
{
    Unknown = -1,
    Space = 32, Comma = 44, Minus = 45, Period = 46, Slash = 47,
    D0 = 48, D1, D2, D3, D4, D5, D6, D7, D8, D9,
    Equal = 61,
    A = 65, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P, Q, R, S, T, U, V, W, X, Y, Z,
    LeftBracket = 91, Backslash = 92, RightBracket = 93,
    Escape = 256, Enter = 257, Tab = 258, Backspace = 259,
    Right = 262, Left = 263, Down = 264, Up = 265,
    F1 = 290, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12,
    KeypadSubtract = 333, KeypadAdd = 334,
}

[Flags]
internal enum KeyMods { None = 0, Shift = 1, Control = 2, Alt = 4 }

/// <summary>What the app needs from a window, shaped like Silk.NET.Windowing's IWindow plus the input events of
/// Silk.NET.Input, so that another backend could replace <see cref="GlfwWindow"/> without touching the app.
/// All members are called, and all events raised, on the thread that created the window.</summary>
internal interface IAppWindow : IDisposable
{
    /// <summary>Framebuffer size in pixels (what glViewport and glReadPixels use).</summary>
    (int Width, int Height) FramebufferSize { get; }
    /// <summary>Window size in screen coordinates (what cursor positions are measured in).</summary>
    (int Width, int Height) Size { get; }
    /// <summary>The desktop's scale for text and controls where the window is (2 on a 200% HiDPI screen: on X11 Xft.dpi /
    /// 96), 1 on a plain screen and offscreen. On X11 the framebuffer has as many pixels as the window has units, so this,
    /// not their ratio, is what says the screen is HiDPI.</summary>
    float ContentScale { get; }
    bool IsClosing { get; }
    bool VSync { get; set; }
    string Title { set; }
    /// <summary>Seconds since the window system started, as a double.</summary>
    double Time { get; }

    nint GetProcAddress(string name);
    void MakeCurrent();
    void DoEvents();
    void SwapBuffers();
    void Close();

    event Action<Key, KeyMods>? KeyDown;
    event Action<int, KeyMods>? MouseDown;
    event Action<double, double>? MouseMove;
    event Action<string[]>? FileDrop;
    event Action<int, int>? FramebufferResize;
}
