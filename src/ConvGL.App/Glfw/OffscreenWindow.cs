using System.Diagnostics;
using ConvGL.Gpu;

namespace ConvGL.App.Glfw;

/// <summary>The app's window without a window: an EGL pbuffer of a fixed size (<see cref="EglPbuffer"/>) behind
/// <see cref="IAppWindow"/>, for scripted runs on a machine with no display (<c>convgl --offscreen --frames N</c>): a GPU
/// machine, or CI without Xvfb. No input arrives (scripted keys and drops go through the app as in a window), VSync
/// is off (nothing to wait for), and the frame ends with eglSwapBuffers, which on a pbuffer only flushes.</summary>
internal sealed class OffscreenWindow : IAppWindow
{
    private readonly EglPbuffer _pbuffer;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private bool _closing;

    private OffscreenWindow(EglPbuffer pbuffer) => _pbuffer = pbuffer;

    public static OffscreenWindow Create(int width, int height) => new(EglPbuffer.Create(width, height));

    public (int Width, int Height) FramebufferSize => (_pbuffer.Width, _pbuffer.Height);
    public (int Width, int Height) Size => (_pbuffer.Width, _pbuffer.Height);
    public float ContentScale => 1;
    public bool IsClosing => _closing;
    public bool VSync { get => false; set { } }
    public string Title { set { } }
    public double Time => _clock.Elapsed.TotalSeconds;

    public nint GetProcAddress(string name) => EglPbuffer.GetProcAddress(name);
    public void MakeCurrent() => _pbuffer.MakeCurrent();
    public void DoEvents() { }
    public void SwapBuffers() => _pbuffer.SwapBuffers();
    public void Close() => _closing = true;

    // Nothing to raise: there is no keyboard, mouse or desktop.
    public event Action<Key, KeyMods>? KeyDown { add { } remove { } }
    public event Action<int, KeyMods>? MouseDown { add { } remove { } }
    public event Action<double, double>? MouseMove { add { } remove { } }
    public event Action<string[]>? FileDrop { add { } remove { } }
    public event Action<int, int>? FramebufferResize { add { } remove { } }

    public void Dispose() => _pbuffer.Dispose();
}
