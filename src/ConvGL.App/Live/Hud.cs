using ConvGL.Gpu;
using Silk.NET.OpenGL;
using SkiaSharp;

namespace ConvGL.App.Live;

/// <summary>The text overlay: SkiaSharp draws panels and text into one reused bitmap the size of the window, which is
/// uploaded to one reused texture only when its content changed (the app redraws it on a state change and a few
/// times a second for the numbers, never every frame). Every frame draws only <see cref="Drawn"/>, the rectangles that
/// hold something: blending the whole window-sized texture cost a software rasteriser more than the picture did.</summary>
internal sealed unsafe class Hud : IDisposable
{
    private readonly GlContext _context;
    private readonly GL _gl;
    private readonly SKFont _font, _bold;
    private readonly SKPaint _text = new() { IsAntialias = true, Color = new SKColor(235, 235, 235) };
    private readonly SKPaint _panel = new() { Color = new SKColor(0, 0, 0, 215) };
    // The help overlay's backing: opaque, so the panels it covers do not show through it as a second, dim layer of text.
    private readonly SKPaint _opaquePanel = new() { Color = new SKColor(0, 0, 0, 255) };
    private SKBitmap? _bitmap;
    private SKCanvas? _canvas;
    private uint _texture;
    private readonly List<PixelRect> _drawn = [];

    public Hud(GlContext context)
    {
        _context = context;
        _gl = context.Gl;
        SKTypeface mono = SKTypeface.FromFamilyName("DejaVu Sans Mono") ?? SKTypeface.Default;
        _font = new SKFont(mono, 12);
        _bold = new SKFont(SKTypeface.FromFamilyName("DejaVu Sans Mono", SKFontStyle.Bold) ?? mono, 12);
        // The widest glyph of the bold face: wrapping by this many pixels a character never overflows a panel.
        CharWidth = Math.Max(_font.MeasureText("W"), _bold.MeasureText("W"));
    }

    /// <summary>Pixels per character of the (monospace) HUD font.</summary>
    public float CharWidth { get; }

    public uint Texture => _texture;
    public int Width => _bitmap?.Width ?? 0;
    public int Height => _bitmap?.Height ?? 0;
    public float LineHeight => 15;

    /// <summary>The rectangles drawn since <see cref="Begin"/>, merged until none overlap (a region composited twice
    /// would darken), in window pixels: all of the texture that is not transparent.</summary>
    public IReadOnlyList<PixelRect> Drawn => _drawn;

    /// <summary>Starts a redraw: (re)creates the bitmap and texture when the window size changed, clears to transparent.</summary>
    public SKCanvas Begin(int width, int height)
    {
        width = Math.Max(1, width);
        height = Math.Max(1, height);
        if (_bitmap is null || _bitmap.Width != width || _bitmap.Height != height)
        {
            _canvas?.Dispose();
            _bitmap?.Dispose();
            _bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
            _canvas = new SKCanvas(_bitmap);
            DeleteTexture();
            _texture = _gl.GenTexture();
            _context.CountRawObject(ObjectIdentifier.Texture, +1);
            _gl.BindTexture(TextureTarget.Texture2D, _texture);
            _gl.TexStorage2D(TextureTarget.Texture2D, 1, SizedInternalFormat.Rgba8, (uint)width, (uint)height);
            _gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureMinFilter, (int)TextureMinFilter.Nearest);
            _gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureMagFilter, (int)TextureMagFilter.Nearest);
        }
        _canvas!.Clear(SKColors.Transparent);
        _drawn.Clear();
        return _canvas;
    }

    /// <summary>A translucent panel (<paramref name="opaque"/>: an opaque one, for the help overlay) with one line of text
    /// per entry; returns its height.</summary>
    public float Panel(float x, float y, IReadOnlyList<string> lines, SKColor? color = null, bool boldFirst = false, bool opaque = false)
    {
        if (_canvas is null || lines.Count == 0) return 0;
        float width = 0;
        for (int i = 0; i < lines.Count; i++) width = Math.Max(width, _font.MeasureText(lines[i]));
        float height = lines.Count * LineHeight + 8;
        _canvas.DrawRect(x, y, width + 12, height, opaque ? _opaquePanel : _panel);
        Mark(x, y, width + 12, height);
        _text.Color = color ?? new SKColor(235, 235, 235);
        for (int i = 0; i < lines.Count; i++)
            _canvas.DrawText(lines[i], x + 6, y + 4 + (i + 1) * LineHeight - 4, SKTextAlign.Left, boldFirst && i == 0 ? _bold : _font, _text);
        return height;
    }

    /// <summary>The width of the panel <see cref="Panel"/> would draw for these lines.</summary>
    public float Measure(IReadOnlyList<string> lines)
    {
        float width = 0;
        for (int i = 0; i < lines.Count; i++) width = Math.Max(width, _font.MeasureText(lines[i]));
        return width + 12;
    }

    /// <summary>A short label with a dark backing (channel numbers on the grid).</summary>
    public void Label(float x, float y, string text)
    {
        if (_canvas is null) return;
        float w = _font.MeasureText(text);
        _canvas.DrawRect(x, y, w + 6, LineHeight, _panel);
        Mark(x, y, w + 6, LineHeight);
        _text.Color = SKColors.White;
        _canvas.DrawText(text, x + 3, y + LineHeight - 4, SKTextAlign.Left, _font, _text);
    }

    // Records a drawn rectangle, a pixel wider on every side for antialiased edges, merged with any it overlaps (and
    // the merged one again with the rest) so that the list stays disjoint.
    private void Mark(float x, float y, float width, float height)
    {
        float x0 = MathF.Floor(x) - 1, y0 = MathF.Floor(y) - 1, x1 = MathF.Ceiling(x + width) + 1, y1 = MathF.Ceiling(y + height) + 1;
        for (int i = 0; i < _drawn.Count; i++)
        {
            PixelRect r = _drawn[i];
            if (r.X >= x1 || x0 >= r.X + r.Width || r.Y >= y1 || y0 >= r.Y + r.Height) continue;
            (x0, y0, x1, y1) = (Math.Min(x0, r.X), Math.Min(y0, r.Y), Math.Max(x1, r.X + r.Width), Math.Max(y1, r.Y + r.Height));
            _drawn.RemoveAt(i);
            i = -1;
        }
        _drawn.Add(new PixelRect(x0, y0, x1 - x0, y1 - y0));
    }

    /// <summary>Uploads the finished bitmap.</summary>
    public void End()
    {
        if (_bitmap is null) return;
        _gl.BindTexture(TextureTarget.Texture2D, _texture);
        _gl.PixelStore(PixelStoreParameter.UnpackAlignment, 4);
        _gl.TexSubImage2D(TextureTarget.Texture2D, 0, 0, 0, (uint)_bitmap.Width, (uint)_bitmap.Height,
            PixelFormat.Rgba, PixelType.UnsignedByte, (void*)_bitmap.GetPixels());
    }

    private void DeleteTexture()
    {
        if (_texture == 0) return;
        _gl.DeleteTexture(_texture);
        _context.CountRawObject(ObjectIdentifier.Texture, -1);
        _texture = 0;
    }

    public void Dispose()
    {
        DeleteTexture();
        _canvas?.Dispose();
        _bitmap?.Dispose();
        _font.Dispose();
        _bold.Dispose();
        _text.Dispose();
        _panel.Dispose();
        _opaquePanel.Dispose();
    }
}
