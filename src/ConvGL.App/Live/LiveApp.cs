using System.Diagnostics;
using System.Globalization;
using System.Text;
using ConvGL.App.Glfw;
using ConvGL.App.Sources;
using ConvGL.Core;
using ConvGL.Gpu;
using ConvGL.Gpu.Present;
using Silk.NET.OpenGL;
using SkiaSharp;

namespace ConvGL.App.Live;

/// <summary>The live window: a source texture goes through the filter or the stack on the GPU and is presented in
/// one of four views with a HUD, a probe and a help overlay. Everything GPU-side is created once and re-created only
/// when the source size or the pipeline changes; a steady frame allocates nothing (the HUD's text is rebuilt on a
/// change and twice a second, not per frame).</summary>
internal sealed unsafe class LiveApp : IDisposable
{
    /// <summary>The filters f cycles through: each shows one idea (smoothing, derivatives, orientation, sharpening).</summary>
    public static readonly string[] Filters =
    [
        "sobel-x", "sobel-y", "gaussian:9,2", "box:5", "sharpen", "unsharp", "emboss", "outline", "scharr-x",
        "laplacian", "laplacian:8", "log", "dog", "gabor:theta=0", "gabor:theta=45", "gabor:theta=90", "motion-blur:15,30",
        "vertical-edge", "identity",
    ];

    private readonly LiveOptions _start;
    private readonly IAppWindow _window;
    private readonly GlContext _context;
    private readonly GL _gl;
    private readonly Presenter _presenter;
    private readonly Hud _hud;
    private readonly Probe _probe;
    private readonly GpuImage _sourceImage;
    private readonly ImageToTensor _toTensor;
    private readonly TensorToImage _toImage;
    private readonly GpuTimer _timer;
    private readonly GpuTensor _outRange, _inRange;
    private readonly List<string> _lines = [], _probeLines = [];
    private readonly IReadOnlyList<string> _stacks;
    private readonly StringBuilder _sb = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private IFrameSource _source;
    private ILivePipeline _pipeline;
    private bool _haveFrame, _dirty = true, _hudDirty = true;

    private ViewKind _view;
    private int _layer, _channel, _enlarged = -1;
    private int _filterIndex, _stackIndex;
    private bool _paused, _help, _quit, _pinned, _screenshotRequested, _infoHidden;
    private int _pinX, _pinY, _pinChannel;
    private double _mouseX = -1, _mouseY = -1, _appTime, _lastTime;
    private string? _error, _shaderError, _fileError, _message;
    private double _messageUntil, _nextCheck, _nextHud;
    private int _frames, _steadyFrames;
    private long _steadyBytes;
    private bool _hudRedrawn;
    private double _softwarePassMs;
    private string? _title;
    private readonly FrameStats _stats = new();

    // The layout of the last HUD redraw (panels beside and below the picture, never over it) and the text it was
    // made for: rebuilt only with the HUD, so a steady frame reuses both.
    private LiveLayout _layout = LiveLayout.Compute(1, 1, 0, 0);
    private int _layoutWidth, _layoutHeight;
    private List<string> _sideLines = [], _kernelLines = [], _errorLines = [], _messageLines = [];

    // Where the selected layer's output is on screen this frame, for mapping the mouse to tensor coordinates.
    private PixelRect _outputRect;
    private int _gridCols = 1, _gridRows = 1;

    /// <summary>Takes ownership of <paramref name="source"/>.</summary>
    public LiveApp(LiveOptions options, IAppWindow window, IFrameSource source)
    {
        _start = options;
        _window = window;
        _context = GlContext.Adopt(window.GetProcAddress);
        _gl = _context.Gl;
        _presenter = new Presenter(_context);
        _hud = new Hud(_context);
        _probe = new Probe(_gl);
        _sourceImage = new GpuImage(_context, 1, 1, "source frame");
        _toTensor = new ImageToTensor(_context);
        _toImage = new TensorToImage(_context);
        _timer = new GpuTimer(_context, label: "pipeline");
        _outRange = new GpuTensor(_context, label: "output range");
        _inRange = new GpuTensor(_context, label: "input range");
        _stacks = StackPipeline.Shipped();
        _source = source;
        _view = options.View;
        _pipeline = CreateInitialPipeline(options);
        if (options.Layer >= _pipeline.LayerCount)
            throw new ConvGLException($"--layer {options.Layer + 1}: {_pipeline.Name} has {_pipeline.LayerCount} layer(s)");
        _layer = options.Layer < 0 ? _pipeline.LayerCount - 1 : options.Layer;
        if (_presenter.Error is not null) ReportShaderError(_presenter.Error);

        window.KeyDown += OnKey;
        window.MouseMove += (x, y) =>
        {
            (_mouseX, _mouseY) = (x, y);
            if (!_pinned) _hudDirty = true;
        };
        window.MouseDown += OnMouseDown;
        window.FileDrop += OnDrop;
        window.FramebufferResize += (_, _) => _hudDirty = true;
        if (options.Probes.Count > 0)
        {
            // The first --probe point is pinned, so the screenshot shows the probe panel.
            (_pinX, _pinY) = options.Probes[0];
            _pinned = true;
        }
        foreach (string k in options.Keys)
        {
            (Key key, KeyMods mods) = Controls.Parse(k);
            OnKey(key, mods);
        }
        if (options.Drop is not null) OnDrop([options.Drop]);
    }

    private ILivePipeline CreateInitialPipeline(LiveOptions o)
    {
        if (o.Filter is not null)
        {
            _filterIndex = Math.Max(0, Array.IndexOf(Filters, o.Filter));
            return new FilterPipeline(_context, o.Filter);
        }
        // The window opens on a stack, live: the one asked for, else "edges", else the first shipped one.
        string? stack = o.Stack ?? (_stacks.Contains("edges") ? "edges" : _stacks.FirstOrDefault());
        if (stack is null) return new FilterPipeline(_context, Filters[0]);
        _stackIndex = Math.Max(0, IndexOf(_stacks, stack));
        return new StackPipeline(_context, stack);
    }

    /// <summary>Runs until the window closes, Esc, or (scripted) the last frame; returns the exit code.</summary>
    public int Run()
    {
        _lastTime = _window.Time;
        while (!_window.IsClosing && !_quit)
        {
            _window.DoEvents();
            double now = _window.Time;
            if (!_paused) _appTime += now - _lastTime;
            _lastTime = now;
            double frameStart = _clock.Elapsed.TotalMilliseconds;
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            _hudRedrawn = false;

            double t = _start.Scripted ? _frames / 30.0 : _appTime;
            if (!_paused && UploadSource(t)) _dirty = true;
            if (_start.Scripted && !_haveFrame)
            {
                // A scripted run counts frames from the source's first picture (a video or camera thread may
                // take a moment to deliver it), so its screenshot never shows an empty window.
                // The clock runs from start-up (shader compiles included), so the limit is generous for a loaded
                // machine; a source that failed says so at once instead of waiting it out.
                if (_source.Error is { } e) throw new ConvGLException($"source {_source.Name}: no frame: {e}");
                if (_clock.Elapsed.TotalSeconds > 120) throw new ConvGLException($"source {_source.Name}: no frame within 120 s");
                Thread.Sleep(5);
                continue;
            }
            if (_dirty && _haveFrame) RunPipeline();
            Render();

            bool last = _start.Scripted && _frames == _start.Frames - 1;
            if (_screenshotRequested || (last && _start.Screenshot is not null)) TakeScreenshot(last ? _start.Screenshot : null);
            if (last)
            {
                foreach ((int px, int py) in _start.Probes) PrintProbe(px, py);
                // Where the picture and the panels were (tests check nothing overlaps and look inside the picture).
                Console.WriteLine(F($"layout picture={Rect(_layout.Picture)} side={Rect(_layout.Side)} bottom={Rect(_layout.Bottom)} view={Rect(_outputRect)}"));
                if (_start.Stats) Console.WriteLine(F($"stats: steady frames={_steadyFrames} allocated={_steadyBytes} bytes"));
                if ((_shaderError ?? _presenter.Error ?? _fileError ?? _error) is { } shown) Console.Error.WriteLine($"convgl: on screen: {shown.Split('\n')[0]}");
                return 0;
            }
            _window.SwapBuffers();
            _frames++;
            _stats.FrameDone(_clock.Elapsed.TotalSeconds, _clock.Elapsed.TotalMilliseconds - frameStart);
            // Steady state: past the first frames (programs compiled, textures sized) and no HUD text rebuilt.
            if (_frames > 3 && !_hudRedrawn)
            {
                _steadyBytes += GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
                _steadyFrames++;
            }
            if (_frames == 1 && _start.Scripted) Console.Error.WriteLine("convgl: first frame shown");
            Periodic(now);
        }
        return 0;
    }

    private void Periodic(double now)
    {
        // The HUD's numbers refresh twice a second; a scripted run counts that second in its own frames (as its
        // scene does) so what it draws, and which frames count as steady for --stats, never depends on how fast
        // a loaded machine renders.
        double hudClock = _start.Scripted ? _frames / 30.0 : now;
        if (hudClock >= _nextHud)
        {
            _nextHud = hudClock + 0.5;
            _hudDirty = true;
        }
        if (now >= _nextCheck)
        {
            _nextCheck = now + 0.5;
            CheckFiles(force: false);
        }
        if (_message is not null && now > _messageUntil)
        {
            _message = null;
            _hudDirty = true;
        }
    }

    // ---- source -> texture -> tensor ----

    /// <summary>Takes the newest frame, if any, into the source texture (one glTexSubImage2D from the source's
    /// reused buffer; the texture is re-created only when the size changes).</summary>
    private bool UploadSource(double t)
    {
        byte[]? frame = _source.TakeFrame(t);
        if (frame is null) return false;
        if (_source.Width != _sourceImage.Width || _source.Height != _sourceImage.Height) _hudDirty = true;
        _sourceImage.Upload(frame, _source.Width, _source.Height);
        _haveFrame = true;
        return true;
    }

    private void RunPipeline()
    {
        _dirty = false;
        try
        {
            // A real GPU answers GL_TIME_ELAPSED queries without stalling; llvmpipe reads them as ~0, so there the
            // pass is timed by the wall clock between two glFinish calls (it all runs on the CPU anyway).
            if (_context.IsSoftware) _gl.Finish();
            long passStart = Stopwatch.GetTimestamp();
            _timer.Begin();
            try
            {
                _toTensor.Run(_sourceImage, _pipeline.Input, gray: _pipeline.InputChannels == 1);
                // A pipeline that times its layers needs the query slot free (queries cannot nest): this timer then
                // covers the conversion only, and the HUD adds the layers' figures.
                if (_pipeline.TimesLayers) _timer.End();
                _pipeline.Run();
            }
            finally
            {
                // An active query left open would make the next Begin a GL error.
                _timer.End();
            }
            if (_context.IsSoftware)
            {
                _gl.Finish();
                _softwarePassMs = Stopwatch.GetElapsedTime(passStart).TotalMilliseconds;
            }
            _error = null;
        }
        catch (Exception e) when (e is ConvGLException or GpuException)
        {
            SetError(e.Message);
        }
    }

    // ---- presentation ----

    private void Render()
    {
        (int fw, int fh) = _window.FramebufferSize;
        (int ww, int wh) = _window.Size;
        if (fw != _layoutWidth || fh != _layoutHeight) _hudDirty = true;
        if (_hudDirty) UpdateLayout(fw, fh);
        _presenter.BeginFrame(fw, fh);
        PixelRect area = _layout.Picture;
        if (_haveFrame && _error is null)
        {
            DrawView(area);
            DrawProbeMarker();
        }
        else if (_haveFrame) _presenter.DrawTexture(_sourceImage.Handle, area.Fit(_sourceImage.Width, _sourceImage.Height));
        if (_hudDirty) RedrawHud(fw, fh, ww, wh);
        _presenter.DrawTexture(_hud.Texture, new PixelRect(0, 0, fw, fh), blend: true);
    }

    private void DrawView(PixelRect area)
    {
        GpuTensor output = _pipeline.LayerOutput(_layer);
        _presenter.ComputeRange(output, _outRange);
        int channel = Math.Clamp(_channel, 0, output.C - 1);
        switch (_view)
        {
            case ViewKind.Output:
                _outputRect = area.Fit(output.W, output.H);
                DrawOutputImage(output, channel, _outputRect);
                break;
            case ViewKind.Split:
                {
                    var left = new PixelRect(area.X, area.Y, area.Width / 2, area.Height);
                    var right = new PixelRect(area.X + area.Width / 2, area.Y, area.Width / 2, area.Height);
                    _presenter.DrawTexture(_sourceImage.Handle, left.Fit(_sourceImage.Width, _sourceImage.Height));
                    _outputRect = right.Fit(output.W, output.H);
                    DrawOutputImage(output, channel, _outputRect);
                    break;
                }
            case ViewKind.Grid:
                if (_enlarged >= 0 && _enlarged < output.C)
                {
                    _outputRect = area.Fit(output.W, output.H);
                    _presenter.DrawTensor(output, _outRange, _outputRect, 1, _enlarged);
                    (_gridCols, _gridRows) = (1, 1);
                }
                else
                {
                    (_gridCols, _gridRows) = GridShape(output.C, output.W, output.H, area);
                    _outputRect = area.Fit(_gridCols * output.W, _gridRows * output.H);
                    _presenter.DrawTensor(output, _outRange, _outputRect, 2, 0, _gridCols, _gridRows);
                }
                break;
            case ViewKind.Profile:
                {
                    GpuTensor input = _pipeline.LayerInput(_layer);
                    var top = new PixelRect(area.X, area.Y, area.Width, area.Height * 0.55f);
                    var plot = new PixelRect(area.X + 10, area.Y + area.Height * 0.58f, area.Width - 20, area.Height * 0.4f);
                    _outputRect = top.Fit(output.W, output.H);
                    DrawOutputImage(output, channel, _outputRect);
                    int outRow = ProfileRow(output);
                    float rowY = _outputRect.Y + (outRow + 0.5f) * _outputRect.Height / output.H;
                    _presenter.DrawSolid(new PixelRect(_outputRect.X, rowY - 0.5f, _outputRect.Width, 1.5f), 1f, 0.55f, 0.1f, 0.9f);
                    int inRow = (int)Math.Round((outRow + 0.5) * input.H / output.H - 0.5);
                    // The input channels that feed this output channel: its group under a convolution, the same
                    // channel under a channelwise layer (activation, pooling).
                    (int first, int count) = _pipeline.Conv(_layer) is { } conv
                        ? (channel / (conv.Weight.Shape[0] / conv.Options.Groups) * conv.Weight.Shape[1], conv.Weight.Shape[1])
                        : (Math.Min(channel, input.C - 1), 1);
                    _presenter.ComputeRange(input, _inRange);
                    _presenter.DrawProfile(input, _inRange, inRow, first, count, output, _outRange, outRow, channel, plot);
                    break;
                }
        }
    }

    /// <summary>The output as one picture through TensorToImage: three channels as RGB, one as grey, more than three
    /// as the selected channel through the heat map; each normalised by its GPU-computed min/max.</summary>
    private void DrawOutputImage(GpuTensor output, int channel, PixelRect r)
    {
        if (output.C == 3)
        {
            _toImage.RunRgb(output, 0, 1, 2);
        }
        else
        {
            _toImage.ColorMap = output.C == 1 ? ColorMap.Gray : ColorMap.Heat;
            _toImage.Run(output, channel);
        }
        _presenter.DrawTexture(_toImage.Image.Handle, r);
    }

    /// <summary>A small square around the probed output pixel (single-map views), so the numbers have a place.</summary>
    private void DrawProbeMarker()
    {
        if (!_probe.Valid || (_view == ViewKind.Grid && _enlarged < 0)) return;
        GpuTensor output = _pipeline.LayerOutput(_layer);
        if (_probe.X >= output.W || _probe.Y >= output.H) return;
        float sx = _outputRect.Width / output.W, sy = _outputRect.Height / output.H;
        float cx = _outputRect.X + (_probe.X + 0.5f) * sx, cy = _outputRect.Y + (_probe.Y + 0.5f) * sy;
        float r = Math.Max(5, 1.5f * Math.Max(sx, sy));
        _presenter.DrawSolid(new PixelRect(cx - r, cy - r, 2 * r, 1.5f), 0.2f, 1f, 1f, 1f);
        _presenter.DrawSolid(new PixelRect(cx - r, cy + r - 1.5f, 2 * r, 1.5f), 0.2f, 1f, 1f, 1f);
        _presenter.DrawSolid(new PixelRect(cx - r, cy - r, 1.5f, 2 * r), 0.2f, 1f, 1f, 1f);
        _presenter.DrawSolid(new PixelRect(cx + r - 1.5f, cy - r, 1.5f, 2 * r), 0.2f, 1f, 1f, 1f);
    }

    /// <summary>The grid's columns and rows: the layout of C maps that makes each map largest in the area.</summary>
    private static (int Cols, int Rows) GridShape(int c, int w, int h, PixelRect area)
    {
        (int, int) best = (c, 1);
        float bestScale = 0;
        for (int cols = 1; cols <= c; cols++)
        {
            int rows = (c + cols - 1) / cols;
            float scale = Math.Min(area.Width / (cols * w), area.Height / (rows * h));
            if (scale > bestScale)
            {
                bestScale = scale;
                best = (cols, rows);
            }
        }
        return best;
    }

    private int ProfileRow(GpuTensor output)
    {
        if (MouseToOutput(out _, out int y, out _)) return y;
        return _pinned ? Math.Clamp(_pinY, 0, output.H - 1) : output.H / 2;
    }

    /// <summary>The output position (and, in the grid, the map) under the mouse.</summary>
    private bool MouseToOutput(out int x, out int y, out int channel)
    {
        x = y = 0;
        channel = _enlarged >= 0 && _view == ViewKind.Grid ? _enlarged : _channel;
        GpuTensor output = _pipeline.LayerOutput(_layer);
        (int ww, int wh) = _window.Size;
        (int fw, int fh) = _window.FramebufferSize;
        double mx = _mouseX * fw / Math.Max(1, ww), my = _mouseY * fh / Math.Max(1, wh);
        if (!_outputRect.Contains(mx, my) || !_haveFrame) return false;
        double u = (mx - _outputRect.X) / _outputRect.Width, v = (my - _outputRect.Y) / _outputRect.Height;
        if (_view == ViewKind.Grid && _enlarged < 0)
        {
            int col = (int)(u * _gridCols), row = (int)(v * _gridRows);
            channel = row * _gridCols + col;
            if (channel >= output.C) return false;
            u = u * _gridCols - col;
            v = v * _gridRows - row;
        }
        x = Math.Clamp((int)(u * output.W), 0, output.W - 1);
        y = Math.Clamp((int)(v * output.H), 0, output.H - 1);
        return true;
    }

    // ---- HUD ----

    // The layers' own GPU times, when the pipeline measures them (then the pass timer covered the conversion only).
    private double LayersMilliseconds()
    {
        if (!_pipeline.TimesLayers) return 0;
        double sum = 0;
        for (int i = 0; i < _pipeline.LayerCount; i++) sum += _pipeline.LayerMilliseconds(i);
        return sum;
    }

    /// <summary>The HUD's text and, from its size, the layout: the info and kernel panels (and any error or message)
    /// in a column on the right, the probe in a strip below the picture, the picture in the rest. The strip's height
    /// depends only on the selected layer (its kernel's size), never on where the mouse is, so the picture does not
    /// jump while the pointer moves.</summary>
    private void UpdateLayout(int fw, int fh)
    {
        (_layoutWidth, _layoutHeight) = (fw, fh);
        _sideLines.Clear();
        _kernelLines.Clear();
        if (!_infoHidden)
        {
            AddInfoLines(_sideLines);
            if (_pipeline.Conv(_layer) is { } conv) _kernelLines = HudText.KernelLines(conv, _channel);
        }
        _errorLines.Clear();
        if ((_shaderError ?? _presenter.Error ?? _fileError ?? _error ?? _source.Error) is { } error)
        {
            _errorLines.Add("error (the last good version keeps running; fix the file, it reloads by itself):");
            _errorLines.AddRange(error.Split('\n').Take(8));
        }
        _messageLines.Clear();
        if (_message is not null) _messageLines.Add(_message);
        float side = 0;
        foreach (List<string> panel in new[] { _sideLines, _kernelLines, _errorLines, _messageLines })
            if (panel.Count > 0) side = Math.Max(side, _hud.Measure(panel));
        ConvView? c = _pipeline.Conv(_layer);
        int kh = c?.Weight.Shape[2] ?? 0, kw = c?.Weight.Shape[3] ?? 0;
        int probeLines = c is null ? 2 : Math.Min(kh, HudText.MaxTaps) + 4 + (kh > HudText.MaxTaps || kw > HudText.MaxTaps ? 1 : 0);
        _layout = LiveLayout.Compute(fw, fh, side, probeLines * _hud.LineHeight + 8 + LiveLayout.Margin);
        // Text wider than its column wraps: nothing runs off a panel.
        int chars = (int)((_layout.Side.Width - 2 * LiveLayout.Margin - 12) / _hud.CharWidth);
        _sideLines = HudText.Wrap(_sideLines, chars);
        _kernelLines = HudText.Wrap(_kernelLines, chars);
        _errorLines = HudText.Wrap(_errorLines, chars);
        _messageLines = HudText.Wrap(_messageLines, chars);
    }

    private void AddInfoLines(List<string> lines)
    {
        GpuTensor output = _pipeline.LayerOutput(_layer);
        _timer.Poll();
        string gpuMs = _context.IsSoftware ? F($"pass {_softwarePassMs:0.0} ms (llvmpipe, glFinish)")
            : _timer.LastMilliseconds is { } ms0 ? F($"pass {ms0 + LayersMilliseconds():0.000} ms GPU") : "pass: timing...";
        lines.Add(HudText.StatusLine(_stats, gpuMs, _window.VSync, _paused));
        lines.Add(F($"source: {_source.Name} {_source.Width}x{_source.Height}   view: {ViewName(_view)}   h: help"));
        lines.Add(F($"{_pipeline.Name}   GPU: {_context.Renderer}"));
        for (int i = 0; i < _pipeline.LayerCount; i++)
        {
            double ms = _pipeline.LayerMilliseconds(i);
            lines.Add(F($"{(i == _layer ? '>' : ' ')}{(i < 9 ? (i + 1).ToString(CultureInfo.InvariantCulture) : " ")} [{(_pipeline.IsEnabled(i) ? 'x' : ' ')}] {_pipeline.LayerLabel(i)}{(ms > 0 ? F($"  {ms:0.000} ms") : "")}"));
        }
        int channel = Math.Clamp(_channel, 0, output.C - 1);
        lines.Add(F($"layer {_layer + 1}: output {output.ShapeString}, channel {channel} ({_pipeline.MapName(_layer, channel)})"));
    }

    private void RedrawHud(int fw, int fh, int ww, int wh)
    {
        _hudDirty = false;
        _hudRedrawn = true;
        string title = F($"ConvGL - {_pipeline.Name} - {_source.Name}");
        if (title != _title) _window.Title = _title = title;
        _hud.Begin(fw, fh);
        GpuTensor output = _pipeline.LayerOutput(_layer);
        float x = _layout.Side.X + LiveLayout.Margin, y = LiveLayout.Margin;
        if (_sideLines.Count > 0) y += _hud.Panel(x, y, _sideLines, boldFirst: true) + 6;
        if (_kernelLines.Count > 0) y += _hud.Panel(x, y, _kernelLines) + 6;
        if (_errorLines.Count > 0) y += _hud.Panel(x, y, _errorLines, new SKColor(255, 120, 110)) + 6;
        _hud.Panel(x, y, _messageLines, new SKColor(255, 230, 120));
        if (_view == ViewKind.Grid && _enlarged < 0 && _haveFrame)
        {
            float cellW = _outputRect.Width / _gridCols;
            for (int c = 0; c < output.C; c++)
            {
                float cx = _outputRect.X + c % _gridCols * cellW;
                float cy = _outputRect.Y + c / _gridCols * _outputRect.Height / _gridRows;
                _hud.Label(cx + 3, cy + 3, Fit(F($"{c} {_pipeline.MapName(_layer, c)}"), cellW - 12));
            }
        }
        else if (_view == ViewKind.Grid && _haveFrame)
        {
            _hud.Label(_outputRect.X + 3, _outputRect.Y + 3, Fit(F($"map {_enlarged} {_pipeline.MapName(_layer, _enlarged)} (click: back to the grid)"), _outputRect.Width - 12));
        }
        if (_view == ViewKind.Profile)
        {
            _lines.Clear();
            _lines.Add("row profile: grey = layer input, orange = output channel " + Math.Clamp(_channel, 0, output.C - 1));
            PixelRect a = _layout.Picture;
            _hud.Panel(a.X + 10, a.Y + a.Height * 0.58f - 26, HudText.Wrap(_lines, (int)((a.Width - 32) / _hud.CharWidth)));
        }
        DrawProbe();
        if (_help) DrawHelp(fw, fh);
        _hud.End();
    }

    /// <summary>A label cut to fit a width (with an ellipsis), so a long map name never spills onto the next map.</summary>
    private string Fit(string text, float width)
    {
        int chars = Math.Max(1, (int)(width / _hud.CharWidth));
        return text.Length <= chars ? text : text[..Math.Max(0, chars - 1)] + "~";
    }

    private bool UpdateProbe()
    {
        if (!_haveFrame || _error is not null) return false;
        if (!_pinned)
        {
            // Scripted runs ignore wherever the display's pointer happens to be: pictures must not depend on it.
            if (_start.Scripted) return false;
            if (!MouseToOutput(out int x, out int y, out int channel)) return false;
            _probe.Take(_pipeline, _layer, channel, x, y);
        }
        else
        {
            _probe.Take(_pipeline, _layer, _pinChannel, _pinX, _pinY);
        }
        return true;
    }

    private void DrawProbe()
    {
        PixelRect strip = _layout.Bottom;
        if (strip.Height <= 0) return;
        List<string> lines = UpdateProbe() ? HudText.ProbeLines(_probe, _pinned)
            : ["probe: hover over the picture to take a pixel's convolution apart; click to pin it"];
        lines = HudText.Wrap(lines, (int)((strip.Width - 2 * LiveLayout.Margin - 12) / _hud.CharWidth));
        int fits = Math.Max(1, (int)((strip.Height - LiveLayout.Margin - 8) / _hud.LineHeight));
        if (lines.Count > fits) lines.RemoveRange(fits, lines.Count - fits);
        _hud.Panel(strip.X + LiveLayout.Margin, strip.Y, lines, new SKColor(200, 240, 255), boldFirst: true);
    }

    private void DrawHelp(int fw, int fh)
    {
        _lines.Clear();
        _lines.Add("ConvGL controls");
        foreach (Control c in Controls.All) _lines.Add(F($"{c.Keys,-16} {c.Description}"));
        _lines.Add("");
        _lines.Add("drop an image or video file on the window to switch the source");
        float height = _lines.Count * _hud.LineHeight + 8;
        _hud.Panel(Math.Max(8, fw / 2 - 330), Math.Max(8, fh / 2 - height / 2), _lines, boldFirst: true);
    }

    private static int IndexOf(IReadOnlyList<string> list, string item)
    {
        for (int i = 0; i < list.Count; i++)
            if (list[i] == item) return i;
        return -1;
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static string Rect(PixelRect r) => F($"{r.X:0},{r.Y:0},{r.Width:0},{r.Height:0}");

    public static string ViewName(ViewKind v) => v.ToString().ToLowerInvariant();

    // ---- scripted output ----

    private void PrintProbe(int x, int y)
    {
        GpuTensor output = _pipeline.LayerOutput(_layer);
        int channel = Math.Clamp(_channel, 0, output.C - 1);
        _probe.Take(_pipeline, _layer, channel, x, y);
        Probe p = _probe;
        if (!p.Valid)
        {
            Console.WriteLine(F($"probe layer={_layer} channel={channel} x={x} y={y} invalid: {p.Why}"));
            return;
        }
        Console.WriteLine(F($"probe layer={_layer} channel={channel} x={x} y={y} shape={output.C}x{output.H}x{output.W} gpu={p.Gpu:R} cpu={p.Sum:R} bias={p.Bias:R}"));
        _sb.Clear();
        for (int i = 0; i < p.InputChannels * p.KernelHeight * p.KernelWidth; i++) _sb.Append(i == 0 ? "" : ",").Append(F($"{p.Window[i]:R}"));
        Console.WriteLine("probe window=" + _sb);
        _sb.Clear();
        for (int i = 0; i < p.InputChannels * p.KernelHeight * p.KernelWidth; i++) _sb.Append(i == 0 ? "" : ",").Append(F($"{p.Kernel[i]:R}"));
        Console.WriteLine("probe kernel=" + _sb);
    }

    private void TakeScreenshot(string? path)
    {
        _screenshotRequested = false;
        bool requested = path is null;
        path ??= $"convgl-{DateTime.Now:yyyyMMdd-HHmmss}.png";
        (int fw, int fh) = _window.FramebufferSize;
        try
        {
            Screenshot.Save(_gl, fw, fh, path);
        }
        catch (Exception e) when (requested && e is IOException or UnauthorizedAccessException or ConvGLException)
        {
            // The p key in a folder the user cannot write to is a message on screen, never the end of the session.
            Flash($"screenshot {Path.GetFullPath(path)} not written: {e.Message}");
            return;
        }
        Console.Error.WriteLine($"convgl: screenshot {path} ({fw}x{fh})");
        if (!_start.Scripted) Flash($"screenshot saved: {path}");
    }

    // ---- controls (called through Controls.All) ----

    /// <summary>The layer [ ] select: the grid, probe and profile show it, and 0 toggles it.</summary>
    public int SelectedLayer => _layer;

    public void ToggleLayer(int i)
    {
        if (i >= _pipeline.LayerCount)
        {
            Flash($"no layer {i + 1}: this {_pipeline.Name} has {_pipeline.LayerCount}");
            return;
        }
        if (_pipeline.Toggle(i) is { } refused) Flash(refused);
        Changed();
    }

    public void SelectLayer(int delta)
    {
        _layer = Math.Clamp(_layer + delta, 0, _pipeline.LayerCount - 1);
        _enlarged = -1;
        Changed();
    }

    public void SelectChannel(int delta)
    {
        int c = _pipeline.OutputChannels(_layer);
        _channel = ((_channel + delta) % c + c) % c;
        _pinChannel = _channel;
        Changed();
    }

    public void CycleFilter(int delta)
    {
        if (_pipeline is FilterPipeline) _filterIndex = ((_filterIndex + delta) % Filters.Length + Filters.Length) % Filters.Length;
        ConvOptions? keep = (_pipeline as FilterPipeline)?.Options;
        SwitchPipeline(() => new FilterPipeline(_context, Filters[_filterIndex], keep));
    }

    public void CycleStack(int delta)
    {
        if (_stacks.Count == 0)
        {
            Flash("no stacks found in assets/stacks");
            return;
        }
        if (_pipeline is not FilterPipeline) _stackIndex = ((_stackIndex + delta) % _stacks.Count + _stacks.Count) % _stacks.Count;
        SwitchPipeline(() => new StackPipeline(_context, _stacks[_stackIndex]));
    }

    private void SwitchPipeline(Func<ILivePipeline> create)
    {
        try
        {
            ILivePipeline next = create();
            _pipeline.Dispose();
            _pipeline = next;
            _layer = _pipeline.LayerCount - 1;
            _channel = 0;
            _enlarged = -1;
            _error = null;
            _fileError = null;
            Changed();
        }
        catch (Exception e) when (e is ConvGLException or GpuException)
        {
            Flash(e.Message);
        }
    }

    public void ToggleMode() => AdjustOptions(o => o with { Mode = o.Mode == ConvMode.Correlate ? ConvMode.Convolve : ConvMode.Correlate });

    public void CycleBorder(int delta) => AdjustOptions(o =>
    {
        int n = Borders.All.Count;
        return o with { Border = Borders.All[(((int)o.Border + delta) % n + n) % n] };
    });

    public void ChangeStride(int delta) => AdjustOptions(o =>
    {
        int s = Math.Clamp(o.StrideY + delta, 1, 4);
        return o with { StrideY = s, StrideX = s };
    });

    public void ChangeDilation(int delta) => AdjustOptions(o =>
    {
        int d = Math.Clamp(o.DilationY + delta, 1, 4);
        return o with { DilationY = d, DilationX = d };
    });

    private void AdjustOptions(Func<ConvOptions, ConvOptions> change)
    {
        try
        {
            if (!_pipeline.Adjust(change, _layer)) Flash($"no convolution at or before layer {_layer + 1}: select one with [ ]");
            Changed();
        }
        catch (ConvGLException e)
        {
            Flash(e.Message);
        }
    }

    public void CycleView(int delta)
    {
        int n = Enum.GetValues<ViewKind>().Length;
        SetView((ViewKind)((((int)_view + delta) % n + n) % n));
    }

    public void SetView(ViewKind view)
    {
        _view = view;
        _enlarged = -1;
        Changed();
    }

    public void TogglePause()
    {
        _paused = !_paused;
        _hudDirty = true;
    }

    public void RequestScreenshot() => _screenshotRequested = true;

    public void ToggleVSync()
    {
        _window.VSync = !_window.VSync;
        _hudDirty = true;
    }

    public void Reload()
    {
        CheckFiles(force: true);
        Flash(_shaderError ?? _error ?? "reloaded shaders, kernel and stack files");
    }

    public void ToggleInfo()
    {
        _infoHidden = !_infoHidden;
        _hudDirty = true;
    }

    public void ToggleHelp()
    {
        _help = !_help;
        _hudDirty = true;
    }

    public void Quit() => _quit = true;

    private void Changed()
    {
        _dirty = true;
        _hudDirty = true;
    }

    private void Flash(string message)
    {
        _message = message;
        _messageUntil = _window.Time + 4;
        _hudDirty = true;
        if (_start.Scripted) Console.Error.WriteLine($"convgl: {message}");
    }

    private void SetError(string message)
    {
        if (message != _error) Console.Error.WriteLine($"convgl: {message}");
        _error = message;
        _hudDirty = true;
    }

    private void ReportShaderError(string message)
    {
        if (message != _shaderError) Console.Error.WriteLine($"convgl: shader error, keeping the last good program: {message.Split('\n')[0]}");
        _shaderError = message;
        _hudDirty = true;
    }

    /// <summary>Hot reload: shaders (the library keeps the last good program of each), then the presentation
    /// programs that never compiled, then the pipeline's kernel or stack file.</summary>
    private void CheckFiles(bool force)
    {
        (int rebuilt, string? error) = _context.Shaders.ReloadChanged();
        if (error is not null) ReportShaderError(error);
        else if (rebuilt > 0 || force)
        {
            if (_shaderError is not null) Console.Error.WriteLine("convgl: shaders reloaded");
            _shaderError = null;
            _hudDirty = true;
        }
        if (_presenter.Error is not null || force) _presenter.RetryMissing();
        (bool reread, string? fileError) = _pipeline.ReloadChanged(force);
        if (reread && fileError != _fileError)
        {
            Console.Error.WriteLine(fileError is null ? "convgl: reloaded " + _pipeline.Name : $"convgl: {fileError} (keeping the running version)");
            _fileError = fileError;
            _hudDirty = true;
        }
        // Re-run on the current frame: a reloaded shader, kernel or stack shows even while paused.
        _dirty = true;
    }

    // ---- input ----

    private void OnKey(Key key, KeyMods mods) => Controls.Dispatch(this, key, mods);

    private void OnMouseDown(int button, KeyMods mods)
    {
        if (button != 0) return;
        bool over = MouseToOutput(out int x, out int y, out int channel);
        if (_view == ViewKind.Grid)
        {
            _enlarged = _enlarged >= 0 ? -1 : over ? channel : -1;
            if (over) _channel = channel;
        }
        else if (over && !_pinned)
        {
            (_pinX, _pinY, _pinChannel) = (x, y, channel);
            _pinned = true;
        }
        else
        {
            _pinned = false;
        }
        Changed();
    }

    private void OnDrop(string[] paths)
    {
        if (paths.Length == 0) return;
        try
        {
            IFrameSource next = SourceFactory.Open(paths[0], _start.Scripted);
            _source.Dispose();
            _source = next;
            _haveFrame = false;
            Changed();
        }
        catch (ConvGLException e)
        {
            Flash(e.Message);
        }
    }

    public void Dispose()
    {
        _source.Dispose();
        _pipeline.Dispose();
        _presenter.Dispose();
        _hud.Dispose();
        _outRange.Dispose();
        _inRange.Dispose();
        _sourceImage.Dispose();
        _toImage.Dispose();
        _timer.Dispose();
        _context.Dispose();
    }
}
