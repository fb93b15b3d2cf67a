using System.Runtime.InteropServices;
using SkiaSharp;

namespace ConvGL.App.Sources;

/// <summary>The built-in animated scene: gradients, sharp-edged shapes at every orientation, a rotating grating,
/// a checkerboard, smooth noise and text, so that every filter and every layer has something to respond to.
/// Everything is generated here (fixed seed); no third-party pictures. The picture is a pure function of time,
/// which makes scripted runs reproducible. Interactive runs draw on a background thread at the app's clock;
/// scripted runs (<c>synchronous</c>) draw on the render thread at the frame's time.</summary>
internal sealed class SceneSource : IFrameSource
{
    public const int DefaultWidth = 640, DefaultHeight = 360;

    /// <summary>The text along the bottom of the scene (the modes and borders the window switches between).</summary>
    internal const string BottomLabel = "correlate | convolve   zero replicate reflect symmetric wrap";
    // Smallest font size (pixels) text is drawn at: below it, glyphs are noise.
    private const float MinLabelSize = 4;

    private readonly FrameExchange _exchange;
    private readonly bool _synchronous;
    private readonly SKBitmap _canvasBitmap;
    private readonly SKCanvas _canvas;
    // Images, not bitmaps: drawing a bitmap wraps it in a new SKImage (an allocation) on every call.
    private readonly SKImage _grating;
    // Everything that does not move (the gradient, the noise patch, the checkerboard), drawn once: filling the gradient
    // cost more than the rest of a frame together; a frame starts by copying this.
    private readonly SKImage _static;
    private readonly SKPaint _copy = new() { BlendMode = SKBlendMode.Src };
    private readonly SKPaint _fill = new() { IsAntialias = true, Style = SKPaintStyle.Fill };
    private readonly SKPaint _stroke = new() { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = 3 };
    private readonly SKPaint _image = new();
    private readonly SKFont _bigFont, _smallFont, _namesFont;
    private readonly SKPath _star;
    // Text shaped once: drawing a string re-shapes it (and allocates) on every frame.
    private readonly SKTextBlob _title, _formula;
    private readonly SKTextBlob? _names;
    private static readonly SKSamplingOptions s_linear = new(SKFilterMode.Linear);
    private readonly Thread? _thread;
    private volatile bool _stop;
    private double _requested = double.NaN, _drawn = double.NaN;
    private readonly Lock _clock = new();

    public SceneSource(int width = DefaultWidth, int height = DefaultHeight, bool synchronous = false)
    {
        _exchange = new FrameExchange(width, height);
        _synchronous = synchronous;
        _canvasBitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        _canvas = new SKCanvas(_canvasBitmap);
        using (SKBitmap grating = MakeGrating(128, 128, wavelength: 9)) _grating = SKImage.FromBitmap(grating);
        _static = MakeStatic(width, height);
        SKTypeface face = SKTypeface.FromFamilyName("DejaVu Sans", SKFontStyle.Bold) ?? SKTypeface.Default;
        // The title starts at 4% of the width and must end inside the picture (a tall, narrow scene shrinks it).
        _bigFont = FittingFont(face, height / 7f, "ConvGL", 0.94f * width);
        _smallFont = new SKFont(SKTypeface.FromFamilyName("DejaVu Sans Mono") ?? SKTypeface.Default, Math.Max(9, height / 30f));
        using (var star = new SKPathBuilder())
        {
            for (int i = 0; i < 10; i++)
            {
                double a = Math.PI * i / 5 - Math.PI / 2;
                float r = i % 2 == 0 ? 1f : 0.45f;
                var p = new SKPoint((float)(r * Math.Cos(a)), (float)(r * Math.Sin(a)));
                if (i == 0) star.MoveTo(p);
                else star.LineTo(p);
            }
            star.Close();
            _star = star.Detach();
        }
        _title = Shape("ConvGL", _bigFont);
        _formula = Shape("out[o,y,x] = b[o] + sum w[o,c,i,j] * in[c, y*s+i*d, x*s+j*d]", _smallFont);
        // The bottom label starts at 36% of the width: its font shrinks until it ends inside the picture, 2% short of
        // the right edge; a scene too small for it at a readable size has no label.
        _namesFont = FittingFont(_smallFont.Typeface, _smallFont.Size, BottomLabel, 0.62f * width);
        _names = _namesFont.Size >= MinLabelSize ? Shape(BottomLabel, _namesFont) : null;
        if (!synchronous)
        {
            _thread = new Thread(Loop) { IsBackground = true, Name = "scene" };
            _thread.Start();
        }
    }

    public string Name => "scene";
    public int Width => _exchange.Width;
    public int Height => _exchange.Height;
    public string? Error => null;

    public byte[]? TakeFrame(double time)
    {
        if (_synchronous)
        {
            if (time == _drawn) return null;
            Render(time, _exchange.Back);
            _drawn = time;
            _exchange.Publish();
            return _exchange.TakeLatest();
        }
        lock (_clock) _requested = time;
        return _exchange.TakeLatest();
    }

    private void Loop()
    {
        while (!_stop)
        {
            double t;
            lock (_clock) t = _requested;
            if (double.IsNaN(t) || t == _drawn)
            {
                Thread.Sleep(2);
                continue;
            }
            Render(t, _exchange.Back);
            _drawn = t;
            _exchange.Publish();
        }
    }

    /// <summary>The shapes' size against the 640x360 design: by the height in a wide frame, by the width in a narrow one
    /// (scaled by the height alone, a 360x640 scene drew its shapes 1.8 times too large for its width, piled on each other).</summary>
    internal static float Scale(int w, int h) => Math.Min(h / 360f, w / 640f);

    /// <summary>Draws the scene at time <paramref name="t"/> seconds into an RGBA8 buffer.</summary>
    public void Render(double t, byte[] rgba)
    {
        int w = Width, h = Height;
        float s = Scale(w, h);
        SKCanvas c = _canvas;
        c.ResetMatrix();
        c.DrawImage(_static, 0, 0, SKSamplingOptions.Default, _copy);

        // A grating turning slowly: oriented filters (Sobel, Gabor) light up as it passes their angle.
        c.Save();
        c.Translate(0.82f * w, 0.28f * h);
        c.RotateDegrees((float)(t * 20));
        c.DrawImage(_grating, new SKRect(-60 * s, -60 * s, 60 * s, 60 * s), s_linear, _image);
        c.Restore();

        // Moving shapes with hard edges at every orientation.
        float bx = (float)(0.5 + 0.35 * Math.Sin(t * 0.9)) * w, by = (float)(0.35 + 0.15 * Math.Cos(t * 1.3)) * h;
        _fill.Color = new SKColor(240, 200, 40);
        c.DrawCircle(bx, by, 38 * s, _fill);
        _stroke.Color = new SKColor(30, 220, 230);
        c.DrawCircle(bx, by, 52 * s, _stroke);

        c.Save();
        c.Translate((float)(0.22 + 0.08 * Math.Cos(t * 0.7)) * w, 0.3f * h);
        c.RotateDegrees((float)(t * 45));
        _fill.Color = new SKColor(230, 60, 60);
        c.DrawRect(-40 * s, -40 * s, 80 * s, 80 * s, _fill);
        c.Restore();

        c.Save();
        c.Translate(0.72f * w, (float)(0.72 + 0.1 * Math.Sin(t * 1.1)) * h);
        c.RotateDegrees((float)(-t * 30));
        c.Scale(55 * s);
        _fill.Color = new SKColor(70, 200, 90);
        c.DrawPath(_star, _fill);
        c.Restore();

        // Text: thin strokes, the finest detail in the picture.
        _fill.Color = SKColors.White;
        c.DrawText(_title, 0.04f * w, 0.2f * h, _fill);
        float scroll = (float)(t * 40 % (w + 400));
        _fill.Color = new SKColor(255, 255, 210);
        c.DrawText(_formula, w - scroll, 0.5f * h, _fill);
        if (_names is not null) c.DrawText(_names, 0.36f * w, 0.97f * h, _fill);
        c.Flush();

        // Opaque scene: premultiplied equals straight alpha, so the pixels copy as they are.
        Marshal.Copy(_canvasBitmap.GetPixels(), rgba, 0, rgba.Length);
    }

    /// <summary>The parts of the scene that never move, drawn once: a gradient, smooth noise (texture for blur and
    /// sharpen to act on) and a checkerboard (edges in both axes and corners). Nothing moving passes under them.</summary>
    private static SKImage MakeStatic(int w, int h)
    {
        float s = Scale(w, h);
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var c = new SKCanvas(bitmap);
        using var paint = new SKPaint();
        using (SKShader gradient = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(w, h),
                   [new SKColor(20, 30, 70), new SKColor(90, 40, 110), new SKColor(200, 120, 40)], null, SKShaderTileMode.Clamp))
        {
            paint.Shader = gradient;
            c.DrawRect(0, 0, w, h, paint);
            paint.Shader = null;
        }
        using (SKBitmap noiseBitmap = MakeNoise(128, 128, seed: 1234))
        using (SKImage noise = SKImage.FromBitmap(noiseBitmap))
            c.DrawImage(noise, new SKRect(0.02f * w, 0.55f * h, 0.32f * w, 0.97f * h), s_linear, paint);
        paint.IsAntialias = true;
        float cell = 12 * s, cx0 = 0.36f * w, cy0 = 0.62f * h;
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++)
            {
                paint.Color = (i + j) % 2 == 0 ? new SKColor(235, 235, 235) : new SKColor(15, 15, 15);
                c.DrawRect(cx0 + j * cell, cy0 + i * cell, cell, cell, paint);
            }
        c.Flush();
        return SKImage.FromBitmap(bitmap);
    }

    /// <summary>The font of <paramref name="typeface"/> at <paramref name="size"/>, or smaller until
    /// <paramref name="text"/> measures at most <paramref name="width"/> pixels. Measured at each size, not scaled once:
    /// hinting rounds a monospace font's advance to whole pixels, so 8% smaller can measure exactly as wide (the bottom
    /// label was clipped that way).</summary>
    private static SKFont FittingFont(SKTypeface typeface, float size, string text, float width)
    {
        var font = new SKFont(typeface, size);
        while (font.Size > 1 && font.MeasureText(text) > width)
        {
            float next = font.Size * Math.Min(0.95f, width / font.MeasureText(text));
            font.Dispose();
            font = new SKFont(typeface, next);
        }
        return font;
    }

    private static SKTextBlob Shape(string text, SKFont font) =>
        SKTextBlob.Create(text, font) ?? throw new InvalidOperationException($"SkiaSharp could not shape '{text}'");

    private static SKBitmap MakeNoise(int w, int h, int seed)
    {
        // Value noise: a coarse random lattice, bilinearly interpolated, two octaves.
        var rng = new Random(seed);
        float[] coarse = new float[17 * 17], fine = new float[33 * 33];
        for (int i = 0; i < coarse.Length; i++) coarse[i] = rng.NextSingle();
        for (int i = 0; i < fine.Length; i++) fine[i] = rng.NextSingle();
        var bmp = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float v = 0.65f * Lerp2(coarse, 17, x * 16f / w, y * 16f / h) + 0.35f * Lerp2(fine, 33, x * 32f / w, y * 32f / h);
                byte b = (byte)Math.Clamp(v * 255, 0, 255);
                bmp.SetPixel(x, y, new SKColor(b, (byte)(b * 0.8f), (byte)(255 - b)));
            }
        return bmp;
    }

    private static float Lerp2(float[] lattice, int n, float x, float y)
    {
        int x0 = (int)x, y0 = (int)y;
        float fx = x - x0, fy = y - y0;
        float a = lattice[y0 * n + x0], b = lattice[y0 * n + x0 + 1], c = lattice[(y0 + 1) * n + x0], d = lattice[(y0 + 1) * n + x0 + 1];
        return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
    }

    private static SKBitmap MakeGrating(int w, int h, float wavelength)
    {
        var bmp = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double r = Math.Sqrt((x - w / 2.0) * (x - w / 2.0) + (y - h / 2.0) * (y - h / 2.0)) / (w / 2.0);
                double v = 0.5 + 0.5 * Math.Cos(2 * Math.PI * x / wavelength) * Math.Max(0, 1 - r * r);
                byte b = (byte)Math.Clamp(v * 255, 0, 255);
                bmp.SetPixel(x, y, new SKColor(b, b, b));
            }
        return bmp;
    }

    public void Dispose()
    {
        _stop = true;
        _thread?.Join(TimeSpan.FromSeconds(2));
        _canvas.Dispose();
        _canvasBitmap.Dispose();
        _static.Dispose();
        _copy.Dispose();
        _grating.Dispose();
        _fill.Dispose();
        _stroke.Dispose();
        _image.Dispose();
        _bigFont.Dispose();
        _smallFont.Dispose();
        _namesFont.Dispose();
        _star.Dispose();
        _title.Dispose();
        _formula.Dispose();
        _names?.Dispose();
    }
}
