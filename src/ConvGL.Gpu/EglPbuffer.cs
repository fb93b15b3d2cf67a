namespace ConvGL.Gpu;

/// <summary>An OpenGL 4.3 core context drawing into an EGL pbuffer of a fixed size: a default framebuffer without a
/// window or a display server, on the same EGL displays as <see cref="GlContext.CreateHeadless"/> (NVIDIA's device
/// platform first, else Mesa's surfaceless one). The window's scripted runs use it (<c>convgl --offscreen</c>), so the
/// live app's whole frame (source, pipeline, present, HUD) can be timed and captured on a machine with no display.
/// The context is current on the creating thread; the caller wraps it with <see cref="GlContext.Adopt"/>.</summary>
public sealed class EglPbuffer : IDisposable
{
    private readonly nint _display, _context, _surface;

    /// <summary>Which EGL display it was made on (e.g. "device 0", "surfaceless (Mesa)").</summary>
    public string Name { get; }
    public int Width { get; }
    public int Height { get; }

    private EglPbuffer(nint display, nint context, nint surface, string name, int width, int height)
    {
        (_display, _context, _surface, Name, Width, Height) = (display, context, surface, name, width, height);
    }

    /// <summary>Makes the pbuffer and its context and makes them current. Throws <see cref="EglMissingException"/>
    /// without libEGL, <see cref="GpuException"/> naming every display tried when none gives an RGBA8 pbuffer with an
    /// OpenGL 4.3 core context.</summary>
    public static EglPbuffer Create(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (!Egl.TryLoad(out string reason)) throw new EglMissingException(reason);
        DriverThreads.MarkBaseline();
        var attempts = new List<string>();
        foreach ((string name, Func<nint> display) in GlContext.Displays())
        {
            nint dpy = display();
            if (dpy == 0 || !Egl.Initialize(dpy, out _, out _))
            {
                attempts.Add($"{name}: no display ({Egl.ErrorName(Egl.GetError())})");
                continue;
            }
            if (!Egl.BindApi(Egl.OpenGLApi))
            {
                attempts.Add($"{name}: eglBindAPI(OpenGL) failed ({Egl.ErrorName(Egl.GetError())})");
                continue;
            }
            nint config = Egl.ChooseConfig(dpy, [Egl.RenderableType, Egl.OpenGLBit, Egl.SurfaceType, Egl.PbufferBit,
                Egl.RedSize, 8, Egl.GreenSize, 8, Egl.BlueSize, 8, Egl.AlphaSize, 8, Egl.None]);
            if (config == 0)
            {
                attempts.Add($"{name}: no RGBA8 OpenGL config with pbuffers");
                continue;
            }
            nint ctx = Egl.CreateContext(dpy, config, [.. Egl.Core43, Egl.None]);
            if (ctx == 0)
            {
                attempts.Add($"{name}: eglCreateContext(OpenGL 4.3 core) failed ({Egl.ErrorName(Egl.GetError())})");
                continue;
            }
            nint surface = Egl.CreatePbufferSurface(dpy, config, [Egl.Width, width, Egl.Height, height, Egl.None]);
            if (surface == 0)
            {
                attempts.Add($"{name}: eglCreatePbufferSurface({width}x{height}) failed ({Egl.ErrorName(Egl.GetError())})");
                Egl.DestroyContext(dpy, ctx);
                continue;
            }
            if (!Egl.MakeCurrent(dpy, surface, ctx))
            {
                attempts.Add($"{name}: eglMakeCurrent failed ({Egl.ErrorName(Egl.GetError())})");
                Egl.DestroySurface(dpy, surface);
                Egl.DestroyContext(dpy, ctx);
                continue;
            }
            return new EglPbuffer(dpy, ctx, surface, name, width, height);
        }
        throw new GpuException($"no offscreen OpenGL 4.3 core context ({width}x{height} pbuffer): " + string.Join("; ", attempts) +
                               "; compute shaders need OpenGL 4.3 (Mesa's llvmpipe provides it: apt-get install libegl1 libgl1-mesa-dri)");
    }

    public static nint GetProcAddress(string name) => Egl.GetProcAddress(name);

    public void MakeCurrent() => Egl.MakeCurrent(_display, _surface, _context);

    /// <summary>eglSwapBuffers: a pbuffer has one buffer, so this only ends the frame (the driver flushes).</summary>
    public void SwapBuffers() => Egl.SwapBuffers(_display, _surface);

    public void Dispose()
    {
        Egl.MakeCurrent(_display, 0);
        Egl.DestroySurface(_display, _surface);
        Egl.DestroyContext(_display, _context);
        Egl.ReleaseThread();
    }
}
