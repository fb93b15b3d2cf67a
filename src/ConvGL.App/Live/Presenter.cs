using ConvGL.Gpu;
using ConvGL.Gpu.Present;
using Silk.NET.OpenGL;

namespace ConvGL.App.Live;

/// <summary>A rectangle in window pixels, origin top left (as the cursor reports positions).</summary>
internal readonly record struct PixelRect(float X, float Y, float Width, float Height)
{
    public bool Contains(double x, double y) => x >= X && y >= Y && x < X + Width && y < Y + Height;

    /// <summary>The largest rectangle of the given aspect ratio centred in this one (letterboxing).</summary>
    public PixelRect Fit(int contentWidth, int contentHeight)
    {
        float scale = Math.Min(Width / contentWidth, Height / contentHeight);
        float w = contentWidth * scale, h = contentHeight * scale;
        return new PixelRect(X + (Width - w) / 2, Y + (Height - h) / 2, w, h);
    }
}

/// <summary>Draws the views with the programs in shaders/app: textured rectangles (the source, the HUD's regions), feature
/// maps (one, RGB, the grid) read straight from the tensor's buffer through texel views, and the row profile, normalised by
/// the Gpu project's ChannelRanges (the one min/max pass). Programs are fetched once and kept: the library swaps their
/// handles in place on hot reload, and a lookup per frame would build its cache key (an allocation) every time.</summary>
internal sealed class Presenter : IDisposable
{
    private readonly GlContext _context;
    private readonly GL _gl;
    private readonly uint _vao;
    private GlProgram? _texture, _profile;
    // tensor.frag by [mode - 1, colour map], compiled on first use (a failed compile is Error, as at start-up).
    private readonly GlProgram?[,] _tensor = new GlProgram?[3, 4];
    private int _fbWidth = 1, _fbHeight = 1;
    // Texture units of tensor.frag's texel views (unit 0 is the 2D textures').
    private const uint TensorUnit = 1, RangesUnit = 2;
    private bool _retry = true;

    public Presenter(GlContext context)
    {
        _context = context;
        _gl = context.Gl;
        // Core profile draws need a bound VAO even when no attribute is read.
        _vao = _gl.GenVertexArray();
        context.CountRawObject(ObjectIdentifier.VertexArray, +1);
        LoadPrograms();
    }

    public GlContext Context => _context;

    /// <summary>Why a presentation program is missing (it failed to compile at start-up and no good version
    /// exists yet), else null. Programs that compiled once keep their last good version on a failed reload.</summary>
    public string? Error { get; private set; }

    /// <summary>Asks for another attempt at programs that never compiled (after the files changed).</summary>
    public void RetryMissing() => _retry = true;

    private void LoadPrograms()
    {
        if (!_retry) return;
        _retry = false;
        Error = null;
        _texture ??= Load(() => _context.Shaders.Graphics("app/quad.vert", "app/texture.frag"));
        // The grid's program: at start-up, so a broken tensor.frag is reported before anything is drawn.
        TensorProgram(2, ColorMap.Viridis);
        _profile ??= Load(() => _context.Shaders.Graphics("app/quad.vert", "app/profile.frag"));
    }

    private GlProgram? Load(Func<GlProgram> get)
    {
        try
        {
            GlProgram program = get();
            // The window's library keeps a program that does not build (ShaderLibrary.KeepBroken): missing until it does.
            if (program.BuildError is null) return program;
            Error ??= program.BuildError;
            return null;
        }
        catch (GpuException e)
        {
            Error ??= e.Message;
            return null;
        }
    }

    /// <summary>Starts a frame: viewport, clear, blending for the HUD.</summary>
    public void BeginFrame(int framebufferWidth, int framebufferHeight)
    {
        _fbWidth = Math.Max(1, framebufferWidth);
        _fbHeight = Math.Max(1, framebufferHeight);
        _gl.BindFramebuffer(FramebufferTarget.Framebuffer, 0);
        _gl.Viewport(0, 0, (uint)_fbWidth, (uint)_fbHeight);
        _gl.ClearColor(0.05f, 0.05f, 0.07f, 1f);
        _gl.Clear(ClearBufferMask.ColorBufferBit);
        _gl.BindVertexArray(_vao);
        LoadPrograms();
    }

    /// <summary>Draws after this only inside <paramref name="r"/> (a scissor; null: everywhere again).</summary>
    public void Clip(PixelRect? r)
    {
        if (r is not { } c)
        {
            _gl.Disable(EnableCap.ScissorTest);
            return;
        }
        int x0 = (int)MathF.Floor(c.X), x1 = (int)MathF.Ceiling(c.X + c.Width);
        int y0 = (int)MathF.Floor(c.Y), y1 = (int)MathF.Ceiling(c.Y + c.Height);
        _gl.Enable(EnableCap.ScissorTest);
        _gl.Scissor(x0, _fbHeight - y1, (uint)Math.Max(0, x1 - x0), (uint)Math.Max(0, y1 - y0));
    }

    private void SetRect(GlProgram p, PixelRect r)
    {
        float x0 = r.X / _fbWidth * 2 - 1, x1 = (r.X + r.Width) / _fbWidth * 2 - 1;
        float yTop = 1 - r.Y / _fbHeight * 2, yBottom = 1 - (r.Y + r.Height) / _fbHeight * 2;
        _gl.Uniform4(p.Uniform("uRect"), x0, yBottom, x1, yTop);
        // Every picture here is stored top row first: v = 1 at the bottom edge, 0 at the top.
        _gl.Uniform4(p.Uniform("uUv"), 0f, 1f, 1f, 0f);
    }

    // GpuTensor's buffer by its public handle: the storage buffer a shader's binding = N block reads.
    private void BindStorage(uint binding, GpuTensor t) => _gl.BindBufferBase(BufferTargetARB.ShaderStorageBuffer, binding, t.Handle);

    private void Draw() => _gl.DrawArrays(PrimitiveType.TriangleStrip, 0, 4);

    /// <summary>A top-row-first RGBA texture; <paramref name="blend"/> for premultiplied overlays (the HUD). Only the rows
    /// from <paramref name="vTop"/> to <paramref name="vBottom"/> (fractions of its height) are drawn: one image of a strip.</summary>
    public void DrawTexture(uint texture, PixelRect r, bool blend = false, float vTop = 0, float vBottom = 1)
    {
        if (_texture is null) return;
        if (blend)
        {
            _gl.Enable(EnableCap.Blend);
            _gl.BlendFunc(BlendingFactor.One, BlendingFactor.OneMinusSrcAlpha);
        }
        _texture.Use();
        SetRect(_texture, r);
        _gl.Uniform4(_texture.Uniform("uUv"), 0f, vBottom, 1f, vTop);
        _gl.Uniform4(_texture.Uniform("uSolid"), 0f, 0f, 0f, 0f);
        _gl.ActiveTexture(TextureUnit.Texture0);
        _gl.BindTexture(TextureTarget.Texture2D, texture);
        _gl.Uniform1(_texture.Uniform("uTexture"), 0);
        Draw();
        if (blend) _gl.Disable(EnableCap.Blend);
    }

    /// <summary>Only <paramref name="regions"/> of a premultiplied overlay texture the size of the framebuffer (the HUD),
    /// each blended in place: a software rasteriser pays per pixel drawn, and most of the overlay is transparent.</summary>
    public void DrawOverlay(uint texture, IReadOnlyList<PixelRect> regions)
    {
        if (regions.Count == 0) return;
        if (_texture is null)
        {
            BlitOverlay(texture, regions);
            return;
        }
        _gl.Enable(EnableCap.Blend);
        _gl.BlendFunc(BlendingFactor.One, BlendingFactor.OneMinusSrcAlpha);
        _texture.Use();
        _gl.Uniform4(_texture.Uniform("uSolid"), 0f, 0f, 0f, 0f);
        _gl.ActiveTexture(TextureUnit.Texture0);
        _gl.BindTexture(TextureTarget.Texture2D, texture);
        _gl.Uniform1(_texture.Uniform("uTexture"), 0);
        for (int i = 0; i < regions.Count; i++)
        {
            // The part of the framebuffer-sized texture under the region: the same pixels, one to one.
            PixelRect r = regions[i];
            float x0 = Math.Max(0, r.X), y0 = Math.Max(0, r.Y), x1 = Math.Min(_fbWidth, r.X + r.Width), y1 = Math.Min(_fbHeight, r.Y + r.Height);
            if (x1 <= x0 || y1 <= y0) continue;
            SetRect(_texture, new PixelRect(x0, y0, x1 - x0, y1 - y0));
            _gl.Uniform4(_texture.Uniform("uUv"), x0 / _fbWidth, y1 / _fbHeight, x1 / _fbWidth, y0 / _fbHeight);
            Draw();
        }
        _gl.Disable(EnableCap.Blend);
    }

    // The HUD texture as a read framebuffer, made only when texture.frag never built (BlitOverlay).
    private uint _overlayFramebuffer;

    /// <summary>The HUD's regions copied with glBlitFramebuffer, which needs no program: where app/texture.frag (which
    /// draws the HUD) has never built, its own error panel still reaches the screen (it was on stderr only). No blending:
    /// the panels' pixels replace what is under them (nothing else can be drawn then anyway).</summary>
    private void BlitOverlay(uint texture, IReadOnlyList<PixelRect> regions)
    {
        if (_overlayFramebuffer == 0)
        {
            _overlayFramebuffer = _gl.GenFramebuffer();
            _context.CountRawObject(ObjectIdentifier.Framebuffer, +1);
        }
        _gl.BindFramebuffer(FramebufferTarget.ReadFramebuffer, _overlayFramebuffer);
        _gl.FramebufferTexture2D(FramebufferTarget.ReadFramebuffer, FramebufferAttachment.ColorAttachment0, TextureTarget.Texture2D, texture, 0);
        _gl.BindFramebuffer(FramebufferTarget.DrawFramebuffer, 0);
        for (int i = 0; i < regions.Count; i++)
        {
            PixelRect r = regions[i];
            int x0 = (int)Math.Max(0, MathF.Floor(r.X)), y0 = (int)Math.Max(0, MathF.Floor(r.Y));
            int x1 = (int)Math.Min(_fbWidth, MathF.Ceiling(r.X + r.Width)), y1 = (int)Math.Min(_fbHeight, MathF.Ceiling(r.Y + r.Height));
            if (x1 <= x0 || y1 <= y0) continue;
            // The texture's first row is the window's top; the window's first row is its bottom: flipped on the way.
            _gl.BlitFramebuffer(x0, y0, x1, y1, x0, _fbHeight - y0, x1, _fbHeight - y1, ClearBufferMask.ColorBufferBit, BlitFramebufferFilter.Nearest);
        }
        _gl.BindFramebuffer(FramebufferTarget.Framebuffer, 0);
    }

    /// <summary>A frame <paramref name="thickness"/> pixels wide just inside <paramref name="r"/>, opaque: the probe's
    /// marker, the selected map's outline.</summary>
    public void DrawFrame(PixelRect r, float thickness, float red, float green, float blue)
    {
        DrawSolid(new PixelRect(r.X, r.Y, r.Width, thickness), red, green, blue, 1);
        DrawSolid(new PixelRect(r.X, r.Y + r.Height - thickness, r.Width, thickness), red, green, blue, 1);
        DrawSolid(new PixelRect(r.X, r.Y, thickness, r.Height), red, green, blue, 1);
        DrawSolid(new PixelRect(r.X + r.Width - thickness, r.Y, thickness, r.Height), red, green, blue, 1);
    }

    public void DrawSolid(PixelRect r, float red, float green, float blue, float alpha)
    {
        if (_texture is null) return;
        _gl.Enable(EnableCap.Blend);
        _gl.BlendFunc(BlendingFactor.One, BlendingFactor.OneMinusSrcAlpha);
        _texture.Use();
        SetRect(_texture, r);
        _gl.Uniform4(_texture.Uniform("uSolid"), red, green, blue, alpha);
        Draw();
        _gl.Disable(EnableCap.Blend);
    }

    // Split in two: a lambda capturing the parameters would allocate its closure on every call, compiled or not.
    private GlProgram? TensorProgram(int mode, ColorMap map) => _tensor[mode - 1, (int)map] ?? LoadTensorProgram(mode, map);

    private GlProgram? LoadTensorProgram(int mode, ColorMap map) =>
        _tensor[mode - 1, (int)map] = Load(() => _context.Shaders.Graphics("app/quad.vert", "app/tensor.frag", ("MODE", mode), ("COLORMAP", (int)map)));

    /// <summary>Mode 1: one channel colour-mapped; 2: the grid of every channel; 3: channels <paramref name="channel"/>..+2
    /// as RGB sharing one range. <paramref name="ranges"/> holds the drawn channels' ranges, computed for
    /// <paramref name="t"/>; a constant map (max == min) shows colour-map position <paramref name="empty"/> (by default the
    /// lowest colour, in every view: a dead map reads as dark, as the colour bar says).</summary>
    public void DrawTensor(GpuTensor t, ChannelRanges ranges, PixelRect r, int mode, int channel = 0, int cols = 1, int rows = 1,
                           ColorMap map = ColorMap.Viridis, float empty = 0, float inset = 0)
    {
        if (mode is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(mode), $"mode {mode}: 1 (one map), 2 (the grid) or 3 (RGB)");
        if (TensorProgram(mode, mode == 3 ? ColorMap.Gray : map) is not { } p) return;
        p.Use();
        SetRect(p, r);
        _gl.Uniform1(p.Uniform("uC"), t.C);
        _gl.Uniform1(p.Uniform("uH"), t.H);
        _gl.Uniform1(p.Uniform("uW"), t.W);
        _gl.Uniform1(p.Uniform("uChannel"), Math.Clamp(channel, 0, t.C - (mode == 3 ? 3 : 1)));
        _gl.Uniform1(p.Uniform("uCols"), cols);
        _gl.Uniform1(p.Uniform("uRows"), rows);
        if (mode == 2) _gl.Uniform1(p.Uniform("uInset"), inset);
        _gl.Uniform1(p.Uniform("uEmpty"), empty);
        // Written by compute shaders (their barriers name storage blocks): visible to texel fetches too.
        _gl.MemoryBarrier(MemoryBarrierMask.TextureFetchBarrierBit);
        t.BindTexelView(TensorUnit);
        ranges.BindTexelView(RangesUnit);
        Draw();
    }

    /// <summary>The profile plot of input row <paramref name="inRow"/> against output row <paramref name="outRow"/>,
    /// output sample o drawn at input position <paramref name="axis"/>.At(o); the ranges of input channels
    /// [<paramref name="inFirst"/>, + <paramref name="inCount"/>) and of output channel <paramref name="channel"/> must be
    /// computed. <paramref name="shared"/>: both curves on one scale (two results of the same sum). <paramref name="x0"/>,
    /// <paramref name="x1"/>: the input positions at the plot's left and right edges (default: the axis's span).</summary>
    public void DrawProfile(GpuTensor input, ChannelRanges inRanges, int inRow, int inFirst, int inCount, GpuTensor output, ChannelRanges outRanges,
                            int outRow, int channel, PixelRect r, Views.ProfileAxis axis, bool shared = false, double x0 = double.NaN, double x1 = double.NaN,
                            Views.PoolRowSet? poolRows = null)
    {
        if (_profile is null) return;
        _profile.Use();
        SetRect(_profile, r);
        _gl.Uniform1(_profile.Uniform("uInFirst"), Math.Clamp(inFirst, 0, input.C - 1));
        _gl.Uniform1(_profile.Uniform("uInCount"), Math.Clamp(inCount, 1, input.C - Math.Clamp(inFirst, 0, input.C - 1)));
        _gl.Uniform1(_profile.Uniform("uInH"), input.H);
        _gl.Uniform1(_profile.Uniform("uInW"), input.W);
        // A pool's window rows (all inside the map: ProfileView.PoolRows), reduced by max or mean, else the one row.
        (int first, int rows, int step, bool max, int divisor) = poolRows is { } pr ? (pr.First, pr.Count, pr.Step, pr.Max, pr.Divisor) : (inRow, 1, 1, false, 1);
        first = Math.Clamp(first, 0, input.H - 1);
        _gl.Uniform1(_profile.Uniform("uInRow"), first);
        // (Clamped again here: the shader's reads must stay inside the buffer.)
        _gl.Uniform1(_profile.Uniform("uInRows"), Math.Clamp(rows, 1, (input.H - 1 - first) / Math.Max(1, step) + 1));
        _gl.Uniform1(_profile.Uniform("uInRowStep"), Math.Max(1, step));
        _gl.Uniform1(_profile.Uniform("uInRowMax"), max ? 1 : 0);
        _gl.Uniform1(_profile.Uniform("uInRowDivisor"), (float)Math.Max(1, divisor));
        _gl.Uniform1(_profile.Uniform("uOutC"), output.C);
        _gl.Uniform1(_profile.Uniform("uOutH"), output.H);
        _gl.Uniform1(_profile.Uniform("uOutW"), output.W);
        _gl.Uniform1(_profile.Uniform("uOutRow"), Math.Clamp(outRow, 0, output.H - 1));
        _gl.Uniform1(_profile.Uniform("uChannel"), Math.Clamp(channel, 0, output.C - 1));
        // The plot's x range in input positions: the given one (a plot drawn under its map), else every sample's.
        if (double.IsNaN(x0) || double.IsNaN(x1)) (x0, x1) = axis.Span(input.W, output.W);
        _gl.Uniform1(_profile.Uniform("uOutOffset"), (float)axis.Offset);
        _gl.Uniform1(_profile.Uniform("uOutStep"), (float)axis.Step);
        _gl.Uniform1(_profile.Uniform("uX0"), (float)x0);
        _gl.Uniform1(_profile.Uniform("uX1"), (float)x1);
        _gl.Uniform1(_profile.Uniform("uShared"), shared ? 1 : 0);
        // gl_FragCoord counts from the bottom left of the framebuffer.
        _gl.Uniform4(_profile.Uniform("uPlotPx"), r.X, _fbHeight - r.Y - r.Height, r.Width, r.Height);
        BindStorage(0, input);
        BindStorage(1, output);
        outRanges.Bind(2);
        inRanges.Bind(3);
        Draw();
    }

    public void Dispose()
    {
        _gl.DeleteVertexArray(_vao);
        _context.CountRawObject(ObjectIdentifier.VertexArray, -1);
        if (_overlayFramebuffer != 0)
        {
            _gl.DeleteFramebuffer(_overlayFramebuffer);
            _context.CountRawObject(ObjectIdentifier.Framebuffer, -1);
        }
    }
}
