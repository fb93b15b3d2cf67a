using System.Diagnostics;
using System.Globalization;
using ConvGL.App.Glfw;
using ConvGL.App.Live.Views;
using ConvGL.App.Sources;
using ConvGL.Core;
using ConvGL.Gpu;
using ConvGL.Gpu.Present;
using Silk.NET.OpenGL;

namespace ConvGL.App.Live;

/// <summary>The live window's main loop and wiring: a source texture goes through the filter or the stack on the GPU
/// (<see cref="LivePipelines"/>) and is presented by one of the views (<see cref="ViewCatalog"/>) with the HUD's
/// panels (<see cref="HudPanels"/>), the probe and the help overlay; the controls change <see cref="ViewState"/>,
/// <see cref="HotReload"/> watches the files, <see cref="ScriptedOutput"/> runs --frames. Everything GPU-side is
/// created once and re-created only when the source size or the pipeline changes; a steady frame allocates nothing
/// (the HUD's text is rebuilt on a change and twice a second, not per frame).</summary>
internal sealed class LiveApp : IDisposable
{
    private readonly IAppWindow _window;
    private readonly GlContext _context;
    private readonly GL _gl;
    private readonly Presenter _presenter;
    private readonly HudPanels _panels;
    private readonly Probe _probe;
    private readonly GpuImage _sourceImage;
    // The attention spotlight (AttentionSpotlight): the probe's weights as a key-map-sized picture, made again only when the
    // probe was taken again (its bytes reused; the texture re-created only for a new key map size).
    private readonly GpuImage _spot;
    private byte[] _spotBytes = [];
    private int _spotTakes = -1;
    // Whether the last probe taken is one the strip shows (the pointer on a map, or pinned): a probe left from a pointer
    // that moved off the maps, or from the layer selected before [ ], draws no spotlight.
    private bool _probeCurrent;
    private readonly ViewState _state;
    private readonly LiveMessages _messages;
    private readonly LivePipelines _pipelines;
    private readonly ViewContext _views;
    private readonly ILiveView[] _viewObjects;
    private readonly HotReload _reload;
    private readonly ScriptedOutput _script;
    private readonly FrameStats _stats = new();
    private readonly FrameStages _stages;
    private readonly SoakRun? _soak;
    private readonly List<string> _info = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private IFrameSource _source;
    private readonly SourceFit _sourceFit;
    // Videos' and cameras' box (smaller on a software rasteriser unless --source-max was given: SourceFit.ForMoving).
    private readonly SourceFit _movingFit;
    // --ui-scale: the text's scale; null takes the desktop's content scale (HiDPI).
    private readonly float? _uiScale;
    private bool _haveFrame;
    private double _appTime, _lastTime, _nextHud;
    private int _frames;
    // Times the scripted run's last frame came again for programs built ahead (LiveApp.Run).
    private int _lastFrameAgain;
    private bool _hudRedrawn;
    private string? _title;

    /// <summary>Takes ownership of <paramref name="source"/>.</summary>
    public LiveApp(LiveOptions options, IAppWindow window, IFrameSource source)
    {
        _window = window;
        _sourceFit = options.SourceFit;
        _uiScale = options.UiScale;
        // A soak run works on its own copy of the shaders (set up before the context's library looks for them) and
        // counts GL debug errors.
        if (options.Soak is not null) Environment.SetEnvironmentVariable("CONVGL_SHADERS", SoakRun.Prepare(options.Soak));
        _context = GlContext.Adopt(window.GetProcAddress, debug: options.Soak is not null);
        _gl = _context.Gl;
        // A shader that does not build is an error on screen until its file is fixed (hot reload), at start-up too.
        _context.Shaders.KeepBroken = true;
        // On a real GPU each conv layer's plan is timed the first time it runs (GlContext.TuneWhereItPays).
        _context.TuneWhereItPays();
        // llvmpipe compiles a layer with its weights compiled in for seconds: in an interactive window that happens on a
        // thread of its own while the general programs run (LivePipelines says so on screen).
        if (ShaderWarmer.Wanted(_context, interactive: !options.Scripted))
        {
            // Set before the start: a thread whose context is slow to come keeps running after TryStart gives up on it.
            Program.WarmerStarted = true;
            _context.Warmer = ShaderWarmer.TryStart(out string? why);
            if (why is not null) Console.Error.WriteLine($"convgl: programs are not built ahead ({why}); the window waits while llvmpipe compiles them");
        }
        _movingFit = SourceFit.ForMoving(options.SourceFit, options.SourceFitGiven, _context.IsSoftware);
        _state = new ViewState { View = options.View };
        _messages = new LiveMessages(_state, options.Scripted);
        _presenter = new Presenter(_context);
        _panels = new HudPanels(_context);
        _probe = new Probe(_gl);
        _sourceImage = new GpuImage(_context, 1, 1, "source frame");
        _spot = new GpuImage(_context, 1, 1, "attention spotlight");
        _source = source;
        _pipelines = new LivePipelines(_context, window, _state, _messages, options, (source.Height, source.Width));
        _views = new ViewContext(_presenter, _sourceImage, _pipelines, _state);
        _viewObjects = ViewCatalog.CreateAll(_views);
        _reload = new HotReload(_context, _presenter, _pipelines, _state, _messages);
        _script = new ScriptedOutput(options, _gl, window, _messages);
        _stages = new FrameStages(_gl, options.Stats);
        if (options.Stats)
        {
            _pipelines.Stages = _stages;
            _views.Stages = _stages;
        }
        if (options.Soak is not null) _soak = new SoakRun(options.Soak, _context, _pipelines, _reload, OnKey, ClickMiddle);
        if ((_presenter.Error ?? _context.Shaders.UnbuiltError) is { } unbuilt) _messages.SetShaderError(unbuilt, nothingKept: true);

        window.KeyDown += OnKey;
        // A scripted run ignores wherever the display's pointer rests (Xvfb's idle pointer picked a theorem readout, so a
        // screenshot depended on the screen's size); --probe pins its points, and the soak clicks through MouseMoved.
        window.MouseMove += (x, y) =>
        {
            if (!_script.Active) _state.MouseMoved(x, y);
        };
        window.MouseDown += OnMouseDown;
        window.FileDrop += OnDrop;
        window.FramebufferResize += (_, _) => _state.HudDirty = true;
        // The first --probe point is pinned, so the screenshot shows the probe panel.
        if (options.Probes.Count > 0) _state.Pin(options.Probes[0].X, options.Probes[0].Y, 0, options.Probes[0].Designed);
        _script.ApplyStartInput(OnKey, OnDrop);
    }

    private ILivePipeline Pipeline => _pipelines.Current;
    private ILiveView View => _viewObjects[(int)_state.View];

    /// <summary>Runs until the window closes, Esc, or (scripted) the last frame; returns the exit code.</summary>
    public int Run()
    {
        _lastTime = _window.Time;
        while (!_window.IsClosing && !_state.Quit)
        {
            _window.DoEvents();
            // A scripted run that builds ahead (CONVGL_BUILD_AHEAD=1) shows the finished plans in its last frame (the wait
            // is outside the frame's timing).
            if (_script.IsLast(_frames) && _context.Warmer is { } warmer) warmer.WaitIdle(TimeSpan.FromMinutes(5));
            double now = _window.Time;
            if (!_state.Paused) _appTime += now - _lastTime;
            _lastTime = now;
            double frameStart = _clock.Elapsed.TotalMilliseconds;
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            _hudRedrawn = false;

            double t = _script.Active ? _frames / 30.0 : _appTime;
            _stages.Begin(count: _frames > 3);
            // Paused before the first frame (space among --keys, or pressed while a video opens): that frame is still
            // read, or the window would wait for it forever.
            if ((!_state.Paused || !_haveFrame) && UploadSource(t)) _state.Dirty = true;
            if (_script.WaitingForFirstFrame(_source, _haveFrame, _clock.Elapsed)) continue;
            _stages.Mark(0);
            bool replanned = _pipelines.PollBuilds();
            if (_state.Dirty && _haveFrame)
            {
                _pipelines.Run(_sourceImage);
                _stages.Ran();
            }
            _stages.Mark(1);
            // A scripted run's last frame (its screenshot, its printed probe) shows this frame's numbers, not those of
            // the HUD's last twice-a-second refresh, which on a moving scene belonged to another picture.
            if (_script.IsLast(_frames)) _state.HudDirty = true;
            Render();
            _soak?.AfterFrame(_frames);

            // A scripted run that builds ahead: a layer that first asked for its programs in this last frame (a one-frame
            // run, a view's draw) stood in for them; the last frame comes again once they are built (the wait at the top of
            // the loop), twice at most.
            bool again = _script.IsLast(_frames) && _context.Warmer is { Busy: true } && _lastFrameAgain++ < 2;
            bool last = _script.IsLast(_frames) && !again;
            // The last frame is not swapped (its screenshot reads the back buffer): its stages end here.
            if (last) _stages.End();
            if (last && _script.ProbeOutside(Pipeline, View.ProbeLayer(_state.Layer), View.DesignedProbe) is { } outside)
            {
                Console.Error.WriteLine($"convgl: {outside}");
                return 2;
            }
            // A scripted --drop that could not be opened: on screen it is a message, for a script the run's error
            // (it exited 0, so a CI script could not tell), and no screenshot of the source it did not switch to.
            if (last && _dropError is not null)
            {
                Console.Error.WriteLine($"convgl: --drop: {_dropError}");
                return 2;
            }
            string? shownError = last ? ShownError() ?? (View.RunError is { } viewError ? $"{ViewCatalog.Name(_state.View)} view: {ErrorText.JoinLines(viewError)}" : null) : null;
            if (_state.ScreenshotRequested || (last && _script.FinalScreenshot is not null))
            {
                _state.ScreenshotRequested = false;
                string? final = last ? _script.FinalScreenshot : null;
                // A run that ends with an error on screen fails (exit 1), and a failed run leaves a file already there as
                // it was (the hostile-input audit: a broken shader's run replaced the user's shot.png with the error);
                // a new name still gets the picture of the error.
                if (final is not null && shownError is not null && Path.Exists(final))
                    Console.Error.WriteLine($"convgl: screenshot {final} not written: the run ends with an error on screen (below), and a failed run leaves the file there as it was");
                else _script.Screenshot(final);
            }
            if (last)
            {
                _script.Finish(Pipeline, _state, View.ProbeLayer(_state.Layer), View.DesignedProbe, _probe, _panels.Layout, View.OutputRect, _stats, shownError,
                    View switch { TheoremView theoremView => theoremView.ScriptedLine(), FiltersView filtersView => filtersView.ScriptedLine(), ProfileView profileView => profileView.ScriptedLine(), SplitView splitView => splitView.ScriptedLine(), _ => null }, _panels.HelpRect, _panels.ColumnRect, ColourBarLine(), (_panels.Hud.Size, _panels.PixelsPerUnit));
                if (_stages.Enabled)
                {
                    Console.WriteLine(_stages.Line());
                    Console.WriteLine(_stages.PartsLine());
                }
                if (_soak is not null && !_soak.Finish(_frames + 1)) return 1;
                // An error still on screen at the end (a broken shader or stack file, a view that cannot run, a source
                // that failed): the screenshot shows it, and the script is told by the exit status (it exited 0).
                return shownError is null ? 0 : 1;
            }
            _window.SwapBuffers();
            _stages.Mark(4);
            _stages.End();
            if (!again) _frames++;
            _stats.FrameDone(_clock.Elapsed.TotalSeconds, _clock.Elapsed.TotalMilliseconds - frameStart);
            // Steady state: past the first frames (programs compiled, textures sized), no HUD text rebuilt, and no layer
            // planned again for programs built ahead.
            if (_frames > 3 && !_hudRedrawn && !replanned) _stats.SteadyFrame(_frames, GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
            _script.FrameShown(_frames);
            Periodic(now);
        }
        // A scripted run closed before its last frame (an Esc among --keys, the window closed) wrote none of the
        // screenshot, probe values or statistics it was asked for: say so, and fail (a run that was to write nothing just ends).
        if (_script.Active && (_script.FinalScreenshot is not null || _script.ProbesRequested || _script.StatsRequested))
        {
            Console.Error.WriteLine($"convgl: the scripted run was closed at frame {_frames} of {_script.Frames} (Esc or the window's close), " +
                                    "so its --screenshot, --probe or --stats output was not written; leave Esc out of --keys");
            return 1;
        }
        return 0;
    }

    private void Periodic(double now)
    {
        // The HUD's numbers refresh twice a second; a scripted run counts that second in its own frames (as its
        // scene does) so what it draws, and which frames count as steady for --stats, never depends on how fast
        // a loaded machine renders.
        double hudClock = _script.Active ? _frames / 30.0 : now;
        if (hudClock >= _nextHud)
        {
            _nextHud = hudClock + 0.5;
            _state.HudDirty = true;
        }
        _reload.Poll(now);
        _messages.Expire(now);
    }

    /// <summary>Takes the newest frame, if any, into the source texture (one glTexSubImage2D from the source's
    /// reused buffer; the texture is re-created only when the size changes).</summary>
    private bool UploadSource(double t)
    {
        _stages.BeginParts();
        byte[]? frame = _source.TakeFrame(t);
        _stages.Part("source-frame");
        if (frame is null) return false;
        if (_source.Width != _sourceImage.Width || _source.Height != _sourceImage.Height) _state.HudDirty = true;
        _sourceImage.Upload(frame, _source.Width, _source.Height);
        _stages.Part("source-upload");
        _haveFrame = true;
        return true;
    }

    // ---- presentation ----

    private void Render()
    {
        (int fw, int fh) = _window.FramebufferSize;
        if (_panels.SizeChanged(fw, fh)) _state.HudDirty = true;
        if (_state.HudDirty) UpdateLayout(fw, fh);
        _presenter.BeginFrame(fw, fh);
        PixelRect area = _panels.Layout.Picture;
        _views.HaveFrame = _haveFrame;
        UpdateMouse();
        bool probeTaken = false, probed = false;
        // A presentation program that has never built: the view cannot draw its maps, so the source shows under the error.
        if (_haveFrame && _messages.RunError is null && _presenter.Error is null)
        {
            try
            {
                View.Draw(area);
                // The probe the HUD is about to show, taken after the view drew (a hovered pixel is found in this frame's
                // layout) and before the marker and the attention spotlight, which draw from it: the picture and the strip
                // show the same frame's numbers (taken after the HUD, the spotlight was a refresh late, on a moving source
                // another picture's weights). Its reads are the present stage's "probe" part.
                if (_state.HudDirty)
                {
                    _stages.BeginParts();
                    probeTaken = true;
                    _probeCurrent = probed = _panels.Layout.Bottom.Height > 0 && UpdateProbe();
                    _stages.Part("probe");
                }
                DrawProbeMarker();
            }
            catch (ShaderBuildException e)
            {
                // A view's program that has not built since start-up (its file broken): the error on screen, the source
                // under it, until a reload builds it.
                _messages.SetShaderError(e.Message, nothingKept: true, e.Program);
                _presenter.DrawTexture(_sourceImage.Handle, area.Fit(_sourceImage.Width, _sourceImage.Height));
            }
        }
        else if (_haveFrame) _presenter.DrawTexture(_sourceImage.Handle, area.Fit(_sourceImage.Width, _sourceImage.Height));
        _stages.Mark(2);
        _stages.BeginParts();
        if (_state.HudDirty)
        {
            // (Where the view did not draw, or its draw made the HUD dirty, the probe is taken now.)
            if (!probeTaken) _probeCurrent = probed = _panels.Layout.Bottom.Height > 0 && UpdateProbe();
            RedrawHud(fw, fh, probed);
            _stages.Part("hud-redraw");
        }
        _presenter.DrawOverlay(_panels.Hud.Texture, _panels.Hud.Drawn);
        _stages.Part("hud-draw");
        _stages.Mark(3);
    }

    /// <summary>A small square around the probed output pixel on the map the view drew it in (the single map, or the
    /// probed map of the filters view's grid), so the numbers have a place; in the split view also the source pixels it
    /// depends on (its receptive field). On any layer, whether or not its probe can take it apart.</summary>
    private void DrawProbeMarker()
    {
        // A probe of a layer a hot reload removed (its number past the reloaded stack's) draws nothing until it is taken
        // again (it ended the window with an index error when pinned).
        // Nor one no longer taken: a hover left behind by a view switch (Tab into the split view with the pointer over no
        // map kept the old square and receptive field beside the strip's "hover a pixel"; a newcomer review).
        if (!_probeCurrent || !_probe.InRange || _probe.Pipeline is not { } probed || _probe.Layer >= probed.LayerCount) return;
        // On the shown pipeline's map, or on the hand-made bank's beside it (the filters view).
        bool designed = View.DesignedProbe is { } d && ReferenceEquals(d.Pipeline, probed);
        if (!designed && !ReferenceEquals(probed, Pipeline)) return;
        if ((designed ? View.DesignedMapRect(_probe.Channel) : View.ProbeMapRect(_probe.Channel)) is not { } o) return;
        GpuTensor output = probed.LayerOutput(_probe.Layer);
        if (_probe.X >= output.W || _probe.Y >= output.H) return;
        // The source pixels it depends on, framed on the source where the view shows it (the split view).
        if (!designed && View.SourceField(_probe.Layer, _probe.X, _probe.Y) is { } field) _presenter.DrawFrame(field, 1.5f, 0.2f, 1f, 1f);
        float sx = o.Width / output.W, sy = o.Height / output.H;
        float cx = o.X + (_probe.X + 0.5f) * sx, cy = o.Y + (_probe.Y + 0.5f) * sy;
        PixelRect frame = MarkerRect(o, cx, cy, Math.Max(sx, sy));
        // A pixel drawn outside what the view shows of its map (a full conv's registered output past the split view's
        // half) has no marker there: it sat over the source.
        if (!designed && View.ProbeClip is { } clip)
        {
            if (!clip.Contains(cx, cy)) return;
            _presenter.Clip(clip);
        }
        if (!designed) DrawAttentionSpotlight(o);
        _presenter.DrawFrame(frame, 1.5f, 0.2f, 1f, 1f);
        _presenter.Clip(null);
    }

    /// <summary>A probe on an attention layer: its weights over the keys laid over the probed map (<see cref="AttentionSpotlight"/>),
    /// the key map stretched over the map's rectangle (the keys of the layers here cover the same picture as the queries,
    /// at the same or a pooled resolution).</summary>
    private void DrawAttentionSpotlight(PixelRect map)
    {
        if (!_state.Spotlight || !_probeCurrent || !_probe.Valid || _probe.Kind != ProbeKind.Attention || _probe.Layer != View.ProbeLayer(_state.Layer)) return;
        int keys = _probe.KeysHigh * _probe.KeysWide;
        if (keys <= 0 || keys > _probe.Window.Length) return;
        if (_spotTakes != _probe.Takes)
        {
            _spotTakes = _probe.Takes;
            if (_spotBytes.Length != 4 * keys) _spotBytes = new byte[4 * keys];
            AttentionSpotlight.Fill(_probe.Window.AsSpan(0, keys), _spotBytes);
            _spot.Upload(_spotBytes, _probe.KeysWide, _probe.KeysHigh);
        }
        _presenter.DrawTexture(_spot.Handle, map, blend: true);
    }

    /// <summary>The probe marker around the pixel centred at (<paramref name="cx"/>, <paramref name="cy"/>) of a map drawn
    /// in <paramref name="map"/> at <paramref name="pixel"/> window pixels a map pixel: three map pixels wide (at least
    /// 10 window pixels), just outside a large pixel (a 1x1 map drawn 426 px wide made it a 1,278 px square), kept
    /// within the map and 3 px around it. Pure: a unit test holds it.</summary>
    public static PixelRect MarkerRect(PixelRect map, float cx, float cy, float pixel)
    {
        float r = Math.Max(5, Math.Min(1.5f * pixel, 0.5f * pixel + 6));
        float x0 = Math.Max(cx - r, map.X - 3), y0 = Math.Max(cy - r, map.Y - 3);
        float x1 = Math.Min(cx + r, map.X + map.Width + 3), y1 = Math.Min(cy + r, map.Y + map.Height + 3);
        return new PixelRect(x0, y0, Math.Max(1, x1 - x0), Math.Max(1, y1 - y0));
    }

    /// <summary>The pointer in framebuffer pixels (HiDPI windows have more pixels than window units), at the centre of
    /// the pixel it is over: the maps colour each screen pixel from its centre, so the map pixel a hit test names is the
    /// one drawn under the pointer (at the pixel's corner it named the neighbour drawn left of it wherever a map pixel's
    /// edge crossed that screen pixel: always on a map drawn smaller than its size; the picture audit).</summary>
    private void UpdateMouse()
    {
        (int ww, int wh) = _window.Size;
        (int fw, int fh) = _window.FramebufferSize;
        _views.MouseX = _state.MouseX < 0 ? -1 : PixelCentre(_state.MouseX) * fw / Math.Max(1, ww);
        _views.MouseY = _state.MouseY < 0 ? -1 : PixelCentre(_state.MouseY) * fh / Math.Max(1, wh);
    }

    /// <summary>The centre of the window pixel that position <paramref name="p"/> (window units) lies in.</summary>
    internal static double PixelCentre(double p) => Math.Floor(p) + 0.5;

    /// <summary>The output position (and, in the grid, the map) under the mouse.</summary>
    private bool MouseToOutput(out TensorPoint point)
    {
        UpdateMouse();
        if (!_haveFrame)
        {
            point = default;
            return false;
        }
        return View.HitTest(_views.MouseX, _views.MouseY, out point);
    }

    private string? ShownError() => _messages.Shown(_presenter.Error, _source.Error);

    private void UpdateLayout(int fw, int fh)
    {
        // The HUD's line height at this window size, for the views that leave room for HUD text in their layout.
        (int ww, _) = _window.Size;
        // Framebuffer pixels to a window unit where the system scales the framebuffer (macOS, Wayland), the desktop's
        // content scale where it does not (X11: the same pixels, Xft.dpi says the screen is HiDPI); --ui-scale over both.
        _panels.PixelsPerUnit = _uiScale ?? Math.Max(ww > 0 ? (float)fw / ww : 1, _window.ContentScale);
        _views.LineHeight = Hud.LineHeightFor(Hud.SizeFor(fw, fh, _panels.PixelsPerUnit));
        IReadOnlyList<string>? info = null;
        List<LayerInfo>? layerInfo = null;
        if (!_state.InfoHidden)
        {
            _info.Clear();
            GpuTensor output = _views.Output;
            string status = HudText.StatusLine(_stats, _pipelines.PassText(), _window.VSync, _state.Paused);
            HudText.AddInfoLines(_info, status, _source.Name, _source.Width, _source.Height, ViewCatalog.Name(_state.View), Pipeline,
                _context.Renderer, _state.Layer, Math.Clamp(_state.Channel, 0, output.C - 1), View.ShownLayer(_state.Layer));
            info = _info;
            layerInfo = OtherLayersInfo(status);
        }
        _panels.UpdateLayout(fw, fh, info, Pipeline.Conv(View.ProbeLayer(_state.Layer)), _state.Channel, ShownError(), _messages.Message,
            View.ContentSize, View.ProbeStrip, info is not null ? ColourBarLayoutTitle() : null, LayerFormulaLineCount,
            _messages.ShownKind(_presenter.Error, _source.Error), ProbeColumnCount, StripLinesOverLayers, LayoutConvs(), layerInfo, DesignedConv);
    }

    /// <summary>Stacks of up to this many layers choose their column for every layer's lines (a few strings each); a
    /// longer one (ResNet18's 52) elides its layer lines around the selected one anyway.</summary>
    private const int MaxLayoutLayers = 16;

    /// <summary>The info lines and colour bar title as they would be with each other layer selected (the shapes as
    /// planned: nothing runs), so the column, and with it the picture, stays put while [ ] step through the layers.</summary>
    private List<LayerInfo>? OtherLayersInfo(string status)
    {
        int n = Pipeline.LayerCount;
        if (n < 2 || n > MaxLayoutLayers) return null;
        ColourBarMap? shown = View.ColourBarMap;
        var list = new List<LayerInfo>(n);
        for (int l = 0; l < n; l++)
        {
            if (l == _state.Layer) continue;
            int c = Pipeline.OutputChannels(l), channel = Math.Clamp(_state.Channel, 0, Math.Max(0, c - 1));
            var lines = new List<string>();
            HudText.AddInfoLines(lines, status, _source.Name, _source.Width, _source.Height, ViewCatalog.Name(_state.View), Pipeline,
                _context.Renderer, l, channel, View.ShownLayer(l), planned: true);
            string? title = shown is { } m
                ? ColourBar.Of(c, channel, Pipeline.MapName(l, channel), m.EachOwn, !m.EachOwn && c == 3 && ViewContext.IsColourPicture(Pipeline, l), 0, 1).Title
                : null;
            list.Add(new LayerInfo(lines, title));
        }
        return list;
    }

    // The layout's view of the layers, kept for one state of them (LayersSignature): the enabled convs, whose largest kernel
    // panel the column is laid out for (HudPanels), and the strip's lines for the tallest layer, by the strip's characters.
    private List<ConvView> _layoutConvs = [];
    private readonly Dictionary<int, int> _stripLines = [];
    private int? _layoutFor;

    /// <summary>The convs of the enabled layers, computed again only when the layers change (a reload, an option key,
    /// another stack or source size: a rule's text names the maps' sizes).</summary>
    private List<ConvView> LayoutConvs()
    {
        int key = LayersSignature();
        if (key == _layoutFor) return _layoutConvs;
        _layoutFor = key;
        _stripLines.Clear();
        _layoutConvs = [];
        for (int layer = 0; layer < Pipeline.LayerCount; layer++)
            if (Pipeline.Conv(layer) is { } conv) _layoutConvs.Add(conv);
        return _layoutConvs;
    }

    /// <summary>The probe strip's lines in <paramref name="chars"/> characters for the stack's tallest layer, so the strip
    /// keeps one height whichever layer is selected: a window review saw the picture move 11 rows under a still pointer
    /// when ] stepped from edges' conv (7 lines) to its magnitude (3), and the probe then read another pixel. Kept with
    /// <see cref="LayoutConvs"/> (asked first in the same layout).</summary>
    private int StripLinesOverLayers(int chars)
    {
        if (_stripLines.TryGetValue(chars, out int lines)) return lines;
        // The filters view's hand-made bank beside the layer: its probe shows in the same strip.
        lines = HudPanels.StripLinesFor(DesignedConv, null, chars);
        for (int layer = 0; layer < Pipeline.LayerCount; layer++)
        {
            int l = layer;
            lines = Math.Max(lines, HudPanels.StripLinesFor(Pipeline.Conv(l), c => FormulaLineCount(l, c), chars));
        }
        return _stripLines[chars] = lines;
    }

    /// <summary>The conv of the hand-made bank the filters view shows beside a learned first layer (its probe shares the
    /// strip), from its first run until the view no longer shows it; else null.</summary>
    private ConvView? DesignedConv => View.ShowsDesigned && _pipelines.Designed is { } d && ViewContext.ConvFor(d, 0, out ConvView? conv) >= 0 ? conv : null;

    // What the layout's view of the layers depends on: each layer's conv, its stack layer and its input's shape, and the
    // hand-made bank's conv beside them (no allocation).
    private int LayersSignature()
    {
        var h = new HashCode();
        h.Add(Pipeline);
        h.Add(DesignedConv);
        h.Add(Pipeline.LayerCount);
        for (int layer = 0; layer < Pipeline.LayerCount; layer++)
        {
            h.Add(Pipeline.Conv(layer));
            h.Add(Pipeline.StackLayer(layer));
            h.Add(Pipeline.LayerInputShape(layer));
        }
        return h.ToHashCode();
    }

    /// <summary>The title the colour bar will have, for the column's layout: the one of a map with a range (a constant
    /// map's title is no longer), without reading the range back.</summary>
    private string? ColourBarLayoutTitle()
    {
        if (View.ColourBarMap is not { } m) return null;
        return ColourBar.Of(m.Tensor.C, m.Channel, Pipeline.MapName(m.Layer, m.Channel), m.EachOwn, m.Rgb, 0, 1).Title;
    }

    /// <summary>The colour bar of the map the view shows: its range as the view computed it as it drew this frame (read
    /// back here, when the HUD is redrawn: on a change and twice a second, never every frame); null before a frame or
    /// where the view has no such map.</summary>
    private ColourBar? ShownColourBar() => ShownColourBar(out _);

    /// <summary>The scripted run's line for the colour bar (the window tests check its min and max against the CPU).</summary>
    private string? ColourBarLine()
    {
        if (ShownColourBar(out ColourBarMap m) is not { } bar) return null;
        return string.Create(CultureInfo.InvariantCulture,
            $"colours layer={m.Layer + 1} channel={m.Channel} map={ColorMaps.Name(bar.Map)} each_own={(m.EachOwn ? 1 : 0)} rgb={(m.Rgb ? 1 : 0)} min={bar.Min:R} max={bar.Max:R}");
    }

    private ColourBar? ShownColourBar(out ColourBarMap map)
    {
        map = default;
        if (!_haveFrame || _messages.RunError is not null || View.ColourBarMap is not { } m) return null;
        map = m;
        ChannelRanges ranges = m.Ranges ?? _views.OutRanges;
        int first = m.Ranges is not null ? 0 : m.Rgb ? 0 : m.Channel, count = m.Rgb ? 3 : 1;
        if (first + count > ranges.Capacity || (m.Ranges is null && first + count > m.Tensor.C)) return null;
        float min = float.NaN, max = float.NaN;
        for (int c = first; c < first + count; c++)
        {
            (float lo, float hi) = ranges.Read(c);
            min = float.IsNaN(min) || lo < min ? lo : min;
            max = float.IsNaN(max) || hi > max ? hi : max;
        }
        return ColourBar.Of(m.Tensor.C, m.Channel, Pipeline.MapName(m.Layer, m.Channel), m.EachOwn, m.Rgb, min, max);
    }

    // The lines a non-conv layer's rule takes in a probe strip of `chars` characters (wrapped as the strip wraps
    // them), 0 for a conv (its kernel rows reserve the strip).
    private int LayerFormulaLineCount(int chars) => FormulaLineCount(View.ProbeLayer(_state.Layer), chars);

    private int FormulaLineCount(int layer, int chars)
    {
        if (Pipeline.Conv(layer) is not null) return 0;
        return Math.Max(HudText.LayerProbeStripLines(Pipeline.StackLayer(layer), chars), HudText.Wrap(IdleProbeLines(layer), chars).Count);
    }

    /// <summary>The kernel or window columns the probed layer's probe shows in <paramref name="chars"/> characters (0 for a
    /// layer whose probe has no window rows).</summary>
    private int ProbeColumnCount(int chars)
    {
        int layer = View.ProbeLayer(_state.Layer);
        // The hand-made bank's kernel beside it is probed in the same strip: the wider of the two.
        if (Pipeline.Conv(layer) is { } conv) return HudText.ProbeColumns(Math.Max(conv.Weight.Shape[3], DesignedConv?.Weight.Shape[3] ?? 0), chars);
        return Pipeline.StackLayer(layer) switch
        {
            Core.Stacks.PoolLayer { Options: var p } => HudText.PoolProbeColumns(p.SizeX, chars),
            Core.Stacks.PaddedPoolLayer { Options: var p } => HudText.PoolProbeColumns(p.SizeX, chars),
            _ => 0,
        };
    }

    /// <summary>What the probe strip says while no pixel is probed: a conv layer's sum written out; a pool's or a relu's
    /// rule and how to reach a conv to probe; nothing for other layers (the strip's hint).</summary>
    private List<string> IdleProbeLines(int layer)
    {
        // Only the input's shape: asking for its map would run the layers again where the last run fused it away.
        (int inC, int inH, int inW) = Pipeline.LayerInputShape(layer);
        // The selected map's channel, within this layer's maps where the view probes another layer than the selected one
        // (the filters view probes the selected conv or the one before it: gabor's opened on its max pool and lost the flat-input line).
        if (Pipeline.Conv(layer) is { } conv)
            return HudText.FormulaLines(conv, inH, inW, layer + 1, Math.Clamp(_state.Channel, 0, conv.Weight.Shape[0] - 1));
        // A two-map layer's second map's planned shape (its rule shows which map is broadcast).
        (int, int, int)? second = Pipeline.InputLayers(layer) is [_, int b] ? (Pipeline.OutputChannels(b), Pipeline.LayerOutputSize(b).H, Pipeline.LayerOutputSize(b).W) : null;
        List<string> rule = HudText.LayerFormulaLines(Pipeline.StackLayer(layer), inC, inH, inW, layer + 1, second);
        if (rule.Count > 0) rule.Add("hover a pixel to see this rule's numbers (click pins it); [ ] select a conv layer to take its sum apart");
        return rule;
    }

    /// <summary>Redraws the HUD; <paramref name="probed"/>: the probe was taken this frame (Render, before the view) and the
    /// strip shows it.</summary>
    private void RedrawHud(int fw, int fh, bool probed)
    {
        _state.HudDirty = false;
        _hudRedrawn = true;
        string title = string.Create(CultureInfo.InvariantCulture, $"ConvGL - {Pipeline.Name} - {_source.Name}");
        if (title != _title) _window.Title = _title = title;
        ILivePipeline p = _probe.Pipeline ?? Pipeline;
        // The hand-made bank's probe is named for it (its layer 1 is not the shown stack's).
        string? bank = ReferenceEquals(p, Pipeline) ? null : DesignedBankName;
        List<string>? probe = probed ? HudText.ProbeLines(_probe, _state.Pinned, c => p.InputMapName(_probe.Layer, c), _panels.ProbeChars, p.MapName, _state.Spotlight, bank) : null;
        // No pixel probed: the strip writes out what the layer computes (a conv's sum, a pool's or relu's rule).
        if (probe is null && !_state.Help && _panels.Layout.Bottom.Height > 0 && _haveFrame &&
            IdleProbeLines(View.ProbeLayer(_state.Layer)) is { Count: > 0 } idle)
            probe = idle;
        _panels.Redraw(fw, fh, View, probe, _state.Help, _state.InfoHidden ? null : ShownColourBar());
    }

    private bool UpdateProbe()
    {
        if (!_haveFrame || _messages.RunError is not null) return false;
        if (!_state.Pinned)
        {
            // Scripted runs ignore wherever the display's pointer happens to be: pictures must not depend on it.
            if (_script.Active) return false;
            if (!MouseToOutput(out TensorPoint p)) return false;
            if (p.Designed && View.DesignedProbe is { } d) _probe.Take(d.Pipeline, d.Layer, p.Channel, p.X, p.Y);
            else _probe.Take(Pipeline, View.ProbeLayer(_state.Layer), p.Channel, p.X, p.Y);
        }
        else if (_state.PinDesigned)
        {
            // A pin on the filters view's hand-made bank holds while the view shows it (another view, layer or stack, or k
            // hiding it, ends it: the hover takes over).
            if (View.DesignedProbe is not { } d)
            {
                // Its maps not of this frame yet (the bank's first run): nothing to take apart now.
                if (View.ShowsDesigned) return false;
                _state.Pinned = _state.PinDesigned = false;
                return UpdateProbe();
            }
            int channel = Math.Clamp(_state.PinChannel, 0, Math.Max(0, d.Pipeline.LayerOutput(d.Layer).C - 1));
            _probe.Take(d.Pipeline, d.Layer, channel, _state.PinX, _state.PinY);
        }
        else
        {
            // The pinned channel as the views show it: one kept from a layer with more maps is the last of this one's
            // (it said "channel 12 is outside the output (8, ...)" beside a view, bar and scripted line of channel 7).
            int layer = View.ProbeLayer(_state.Layer);
            int channel = Math.Clamp(_state.PinChannel, 0, Math.Max(0, Pipeline.LayerOutput(layer).C - 1));
            _probe.Take(Pipeline, layer, channel, _state.PinX, _state.PinY);
        }
        return true;
    }

    /// <summary>The probe strip's name for the filters view's hand-made bank, in place of "layer N" (the header
    /// HudText.ProbeStripLines reserves room for has it).</summary>
    internal const string DesignedBankName = "Gabor bank";

    /// <summary>"--view" and HUD name of a view.</summary>
    public static string ViewName(ViewKind v) => ViewCatalog.Name(v);

    // ---- controls (called through Controls.All) ----

    /// <summary>The layer [ ] select: the grid, probe and profile show it, and 0 toggles it.</summary>
    public int SelectedLayer => _state.Layer;

    public void ToggleLayer(int i) => _pipelines.ToggleLayer(i);
    public void SelectLayer(int delta) => _state.SelectLayer(delta, Pipeline.LayerCount);
    public void SelectChannel(int delta) => _state.SelectChannel(delta, Pipeline.OutputChannels(_state.Layer));
    public void CycleFilter(int delta) => _pipelines.CycleFilter(delta);
    // The title says what is loading while the load holds the window (the frame after it sets the stack's own title).
    public void CycleStack(int delta) => _pipelines.CycleStack(delta, name => _window.Title = _title = $"ConvGL - loading {name} ...");
    public void ToggleMode() => _pipelines.ToggleMode();
    public void CycleBorder(int delta) => _pipelines.CycleBorder(delta);
    public void ChangeStride(int delta) => _pipelines.ChangeStride(delta);
    public void ChangeDilation(int delta) => _pipelines.ChangeDilation(delta);
    public void CycleView(int delta) => _state.CycleView(delta);
    public void SetView(ViewKind view) => _state.SetView(view);
    public void TogglePause() => _state.TogglePause();
    public void RequestScreenshot() => _state.ScreenshotRequested = true;
    public void ToggleInfo() => _state.ToggleInfo();
    public void ToggleSpotlight() => _state.ToggleSpotlight();
    public void ToggleHelp() => _state.ToggleHelp();
    public void Quit() => _state.Quit = true;

    public void ToggleVSync()
    {
        _window.VSync = !_window.VSync;
        // Said for a moment: the status line's short form (a narrow column) leaves vsync out.
        _messages.Flash(_window.VSync ? "vsync on" : "vsync off", _window.Time);
        _state.HudDirty = true;
    }

    public void Reload()
    {
        _reload.Check(force: true);
        _messages.Flash(_messages.ShaderError ?? _messages.RunError ?? "reloaded shaders, kernel and stack files", _window.Time);
    }

    // ---- input ----

    private void OnKey(Key key, KeyMods mods) => Controls.Dispatch(this, key, mods);

    /// <summary>A click in the middle of the view's picture (the soak run's probe pin).</summary>
    private void ClickMiddle()
    {
        PixelRect r = View.OutputRect;
        (int ww, int wh) = _window.Size;
        (int fw, int fh) = _window.FramebufferSize;
        _state.MouseMoved((r.X + r.Width / 2) * ww / Math.Max(1, fw), (r.Y + r.Height / 2) * wh / Math.Max(1, fh));
        OnMouseDown(0, KeyMods.None);
    }

    private void OnMouseDown(int button, KeyMods mods)
    {
        if (button != 0) return;
        bool over = MouseToOutput(out TensorPoint p);
        View.Click(over, p);
        _state.Changed();
    }

    // The scripted run's --drop that failed (null: none, or it opened).
    private string? _dropError;

    private void OnDrop(string[] paths)
    {
        if (paths.Length == 0) return;
        try
        {
            IFrameSource next = SourceFactory.Open(paths[0], _script.Active, _sourceFit, _movingFit);
            _source.Dispose();
            _source = next;
            _haveFrame = false;
            _state.Changed();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A file the user dropped that cannot be opened (OpenCV's own exceptions included) is a message on screen,
            // never the end of the session.
            string message = e is ConvGLException ? e.Message : $"{ErrorText.Echo(paths[0])}: cannot open it: {ErrorText.OneLine(e.Message)}";
            // A scripted run says it once, as its error at the end (a flash would print it a second time).
            if (_script.Active) _dropError = message;
            else _messages.Flash(message, _window.Time);
        }
    }

    public void Dispose()
    {
        _source.Dispose();
        _pipelines.Dispose();
        _views.Dispose();
        _presenter.Dispose();
        _panels.Dispose();
        _sourceImage.Dispose();
        _spot.Dispose();
        _context.Dispose();
    }
}
