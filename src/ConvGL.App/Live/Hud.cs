using ConvGL.Gpu;
using ConvGL.Gpu.Present;
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
    private readonly SKTypeface _mono, _monoBold;
    private SKFont _font, _bold;
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
        _mono = SKTypeface.FromFamilyName("DejaVu Sans Mono") ?? SKTypeface.Default;
        _monoBold = SKTypeface.FromFamilyName("DejaVu Sans Mono", SKFontStyle.Bold) ?? _mono;
        _font = new SKFont(_mono, BaseSize);
        _bold = new SKFont(_monoBold, BaseSize);
        SetSize(BaseSize);
    }

    /// <summary>The text size (pixels) in a window of <see cref="BaseWidth"/> x <see cref="BaseHeight"/>, the README's
    /// pictures' size.</summary>
    public const float BaseSize = 12;
    public const float BaseWidth = 960, BaseHeight = 600;
    public const float MinSize = 8, MaxSize = 96;

    /// <summary>The text size for a <paramref name="width"/> x <paramref name="height"/> window: 12 pixels at 960x600,
    /// growing and shrinking with the square root of the window's scale (text grows slower than the window, so a larger
    /// window shows more picture, and a small one keeps readable text: 10 pixels at 640x400, 16 at 1920x1080), in whole
    /// pixels from 9 to 24. <paramref name="width"/> and <paramref name="height"/> are the framebuffer's; on a HiDPI
    /// screen it has <paramref name="pixelsPerUnit"/> (2: a Retina display) pixels to a window unit, and the text is sized
    /// for the window's units and drawn that many times larger, so it reads the same size as on a plain screen.</summary>
    public static float SizeFor(int width, int height, float pixelsPerUnit = 1)
    {
        pixelsPerUnit = Math.Clamp(pixelsPerUnit, 0.5f, 4);
        float scale = Math.Min(width / pixelsPerUnit / BaseWidth, height / pixelsPerUnit / BaseHeight);
        return MathF.Round(Math.Clamp(MathF.Round(BaseSize * MathF.Sqrt(Math.Max(scale, 0))), 9, 24) * pixelsPerUnit);
    }

    /// <summary>Pixels from one line to the next for text of <paramref name="size"/> pixels.</summary>
    public static float LineHeightFor(float size) => MathF.Round(size * 1.25f);

    /// <summary>About how wide a character of the (monospace) HUD font is at <paramref name="lineHeight"/>: for layouts
    /// made before the fonts are (a view's content size); <see cref="CharWidth"/> is the measured one.</summary>
    public static float CharWidthFor(float lineHeight) => 0.48f * lineHeight;

    /// <summary>The size the text is drawn at now.</summary>
    public float Size { get; private set; }

    /// <summary>Sets the text size (from <see cref="MinSize"/> to <see cref="MaxSize"/>); the fonts are rebuilt only when
    /// it changes, so a steady window keeps them.</summary>
    public void SetSize(float size)
    {
        size = Math.Clamp(size, MinSize, MaxSize);
        if (size == Size) return;
        Size = size;
        _font.Dispose();
        _bold.Dispose();
        _font = new SKFont(_mono, size);
        _bold = new SKFont(_monoBold, size);
        // The widest glyph of the bold face: wrapping by this many pixels a character never overflows a panel.
        CharWidth = Math.Max(_font.MeasureText("W"), _bold.MeasureText("W"));
        LineHeight = LineHeightFor(size);
    }

    /// <summary>Pixels per character of the (monospace) HUD font.</summary>
    public float CharWidth { get; private set; }

    public uint Texture => _texture;
    public int Width => _bitmap?.Width ?? 0;
    public int Height => _bitmap?.Height ?? 0;

    /// <summary>Pixels from one line of text to the next (15 at the base size).</summary>
    public float LineHeight { get; private set; }

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

    /// <summary>The colour bar panel, <paramref name="width"/> wide: <paramref name="bar"/>'s title (two lines at most),
    /// then its colour map from the min (left, printed there) to the max (right); a constant map says its one value
    /// beside the one colour it is drawn in (the map's lowest). Returns its height.</summary>
    public float ColourBar(float x, float y, float width, ColourBar bar)
    {
        if (_canvas is null) return 0;
        int chars = HudText.CharsIn(width - 12, CharWidth);
        List<string> title = HudText.ColourBarTitle(bar.Title, chars);
        // As wide as its title, as the other panels are as wide as their text, but with room for a bar of 12 characters.
        string min = Live.ColourBar.Number(bar.Min), max = Live.ColourBar.Number(bar.Max);
        width = Math.Min(width, Math.Max(Measure(title), _font.MeasureText(min) + _font.MeasureText(max) + 12 * CharWidth + 24));
        float height = (title.Count + 1) * LineHeight + 8;
        _canvas.DrawRect(x, y, width, height, _panel);
        Mark(x, y, width, height);
        _text.Color = new SKColor(235, 235, 235);
        for (int i = 0; i < title.Count; i++) _canvas.DrawText(title[i], x + 6, y + (i + 1) * LineHeight, SKTextAlign.Left, _font, _text);
        float baseline = y + (title.Count + 1) * LineHeight, top = baseline - LineHeight + 4, barHeight = LineHeight - 4;
        if (bar.Constant || float.IsNaN(bar.Min))
        {
            string text = float.IsNaN(bar.Min) ? "no values yet" : "every value " + min;
            FillColour(bar.Map, 0);
            _canvas.DrawRect(x + 6, top, 2 * LineHeight, barHeight, _swatch);
            _canvas.DrawText(text, x + 12 + 2 * LineHeight, baseline, SKTextAlign.Left, _font, _text);
            return height;
        }
        float left = x + 6 + _font.MeasureText(min) + 6, right = x + width - 6 - _font.MeasureText(max) - 6;
        _canvas.DrawText(min, x + 6, baseline, SKTextAlign.Left, _font, _text);
        _canvas.DrawText(max, x + width - 6, baseline, SKTextAlign.Right, _font, _text);
        // The colour map sampled per pixel column of the bar: exactly the colours the shader gives (ColorMaps.At).
        for (float px = left; px < right; px += 1)
        {
            FillColour(bar.Map, (px - left + 0.5f) / Math.Max(1, right - left));
            _canvas.DrawRect(px, top, 1.01f, barHeight, _swatch);
        }
        return height;
    }

    private readonly SKPaint _swatch = new() { IsAntialias = false };

    private void FillColour(ColorMap map, float t)
    {
        (float r, float g, float b) = ColorMaps.At(map, t);
        _swatch.Color = new SKColor((byte)MathF.Round(Math.Clamp(r, 0, 1) * 255), (byte)MathF.Round(Math.Clamp(g, 0, 1) * 255),
            (byte)MathF.Round(Math.Clamp(b, 0, 1) * 255));
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
        _swatch.Dispose();
    }
}
