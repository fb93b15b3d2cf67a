using System.Diagnostics;
using System.Globalization;
using ConvGL.App.Glfw;
using ConvGL.App.Sources;
using ConvGL.Core;
using ConvGL.Core.Stacks;
using ConvGL.Gpu;
using ConvGL.Gpu.Present;
using Silk.NET.OpenGL;

namespace ConvGL.App.Live;

/// <summary>The running filter or stack and everything that changes it: f/s cycle the filters and shipped stacks,
/// 1..9/0 toggle layers, c/b/+/-/d change the convolution's options. <see cref="Run"/> is the frame's pipeline
/// stage: the source texture into the pipeline's input tensor, every enabled layer, timed.</summary>
internal sealed class LivePipelines : IDisposable
{
    /// <summary>The filters f cycles through: each shows one idea (smoothing, derivatives, orientation, sharpening).</summary>
    public static readonly string[] Filters =
    [
        "sobel-x", "sobel-y", "gaussian:9,2", "box:5", "sharpen", "unsharp", "emboss", "outline", "scharr-x",
        "laplacian", "laplacian:8", "log", "dog", "gabor:theta=0", "gabor:theta=45", "gabor:theta=90", "motion-blur:15,30",
        "vertical-edge", "identity",
    ];

    private readonly GlContext _context;
    private readonly IAppWindow _window;
    private readonly ViewState _state;
    private readonly LiveMessages _messages;
    private readonly IReadOnlyList<string> _stacks;
    private readonly ImageToTensor _toTensor;
    private readonly GpuTimer _timer;
    private int _filterIndex, _stackIndex;
    // The filter the window opened on when it is not in Filters (a kernel file, gaussian:9), for f from a stack.
    private string? _offListFilter;
    private double _softwarePassMs;
    // Whether that figure is the current pipeline's first run (its programs built in it where not cached).
    private bool _softwarePassFirst;
    // The source's frame size: stacks are planned for it when opened (and re-planned when it changes).
    private (int Height, int Width) _sourceSize;
    private Action<int>? _afterLayer;

    public ILivePipeline Current
    {
        get => _current;
        private set
        {
            _current = value;
            _runsOfCurrent = 0;
            // A run a view started (a map the last run skipped) reports its failure as the frame's run would.
            if (value is StackPipeline stack) stack.RunFailed = _runFailed ??= Report;
        }
    }

    private ILivePipeline _current = null!;
    // Good runs of the current pipeline (its first may compile programs for a long while: SlowFirstRun).
    private int _runsOfCurrent;
    private readonly bool _scripted;
    // Programs built ahead (the context's Warmer): when they began, while the general programs stand in for them.
    private long? _buildingSince;
    private bool _buildingSaid;
    private long _finishedSeen;
    private bool _notServedSaid;
    private Action<Exception>? _runFailed;

    /// <summary>The hand-made Gabor bank (the shipped gabor stack), run on the same frames as the current pipeline while
    /// the filters view shows it beside a learned first-layer bank: what learning found next to what was designed.
    /// Made the first time it is asked for (<see cref="AskDesigned"/>), then kept until the window closes; null before,
    /// or where the gabor stack could not be loaded (<see cref="DesignedError"/>).</summary>
    public StackPipeline? Designed { get; private set; }
    /// <summary>Why the Gabor bank could not be loaded beside the learned one (said in the view), else null.</summary>
    public string? DesignedError { get; private set; }
    private bool _designedAsked, _lastRunGood;
    // The run (Runs) in which the designed bank last ran: its maps are of that run's frame.
    private long _designedRun = -1;

    /// <summary>The filters view asks for the designed bank each frame it shows it; the next <see cref="Run"/> runs it
    /// too (a still picture runs once more for it). Returns the bank when its maps are of the current run's frame.</summary>
    public StackPipeline? AskDesigned()
    {
        _designedAsked = true;
        if (_designedRun == Runs && Designed is not null) return Designed;
        // Once more for it, after a good run (a still picture whose run failed is not run again every frame for it).
        if (DesignedError is null && _lastRunGood) _state.Dirty = true;
        return null;
    }

    /// <summary>How many times <see cref="Run"/> has run: a number that changes whenever the layers' maps may have.</summary>
    public long Runs { get; private set; }

    /// <summary>--stats: the pass is timed part by part (the conversion, each layer) into these stages' parts line.</summary>
    public FrameStages? Stages { get; set; }

    /// <summary>Opens the filter or stack <paramref name="options"/> asks for (the default stack otherwise) and
    /// selects its <c>--layer</c>.</summary>
    public LivePipelines(GlContext context, IAppWindow window, ViewState state, LiveMessages messages, LiveOptions options,
        (int Height, int Width) sourceSize)
    {
        _context = context;
        _sourceSize = sourceSize;
        _window = window;
        _state = state;
        _messages = messages;
        _stacks = StackPipeline.Shipped();
        _scripted = options.Scripted;
        _toTensor = new ImageToTensor(context);
        _timer = new GpuTimer(context, label: "pipeline");
        Current = CreateInitial(options);
        if (options.Layer >= Current.LayerCount)
        {
            Current.Dispose();
            _timer.Dispose();
            throw new ConvGLException($"--layer {options.Layer + 1}: {Current.Name} has {Current.LayerCount} layer(s)");
        }
        state.Layer = options.Layer < 0 ? Current.DefaultLayer : options.Layer;
    }

    private ILivePipeline CreateInitial(LiveOptions o)
    {
        if (o.Filter is not null)
        {
            // -1 for one not in the list (gaussian:9, a kernel file): f then goes to the list's first, F to its last;
            // s and S likewise to the first and last stack (both opened the first).
            _filterIndex = Array.IndexOf(Filters, o.Filter);
            _offListFilter = _filterIndex < 0 ? o.Filter : null;
            _stackIndex = -1;
            return new FilterPipeline(_context, o.Filter);
        }
        // The window opens on a stack, live: the one asked for, else "edges", else the first shipped one.
        string? stack = o.Stack ?? (_stacks.Contains("edges") ? "edges" : _stacks.FirstOrDefault());
        if (stack is null) return new FilterPipeline(_context, Filters[0]);
        // Opened on a stack: f goes to the first filter, F to the last (both opened the first).
        _filterIndex = -1;
        _stackIndex = IndexOf(_stacks, stack);
        _normalized = o.Normalize is null ? null : (stack, o.Normalize);
        return new StackPipeline(_context, stack, _sourceSize, _normalized?.Normalize);
    }

    // --normalize and the --stack it is for: s and S keep it on that stack when they come back to it.
    private (string Stack, InputNormalization Normalize)? _normalized;

    private InputNormalization? NormalizeFor(string stack) => _normalized is { } n && n.Stack == stack ? n.Normalize : null;

    /// <summary>The frame's pipeline stage: <paramref name="source"/> into the input tensor, then every enabled layer.
    /// A failure is the run error on screen (the previous output stays).</summary>
    public void Run(GpuImage source)
    {
        _state.Dirty = false;
        _sourceSize = (source.Height, source.Width);
        // Every layer's maps may change from here: views that cache work on them (the theorem view) compare this.
        Runs++;
        GL gl = _context.Gl;
        try
        {
            // A real GPU answers GL_TIME_ELAPSED queries without stalling; llvmpipe reads them as ~0, so there the
            // pass is timed by the wall clock between two glFinish calls (it all runs on the CPU anyway).
            if (_context.IsSoftware) gl.Finish();
            long passStart = Stopwatch.GetTimestamp();
            _timer.Begin();
            try
            {
                Stages?.BeginParts();
                _toTensor.Run(source, Current.Input, gray: Current.InputChannels == 1);
                Stages?.Part("to-tensor");
                if (Current is StackPipeline stack) stack.AfterLayer = Stages is null ? null : _afterLayer ??= i => Stages.Part(((StackPipeline)Current).PartName(i));
                // A pipeline that times its layers needs the query slot free (queries cannot nest): this timer then
                // covers the conversion only, and the HUD adds the layers' figures.
                if (Current.TimesLayers) _timer.End();
                _lastRunGood = false;
                Current.Run();
                if (Current is FilterPipeline) Stages?.Part("filter");
                _lastRunGood = true;
                RunDesigned(source);
            }
            finally
            {
                // An active query left open would make the next Begin a GL error.
                _timer.End();
            }
            if (_context.IsSoftware) gl.Finish();
            double passMs = Stopwatch.GetElapsedTime(passStart).TotalMilliseconds;
            if (_context.IsSoftware) (_softwarePassMs, _softwarePassFirst) = (passMs, _runsOfCurrent == 0);
            _messages.ClearRunError();
            // The window froze for it: say why, once (not in a scripted run: its stderr is for what went wrong).
            if (++_runsOfCurrent == 1 && !_scripted && SlowFirstRun(passMs, _context.IsSoftware, _context.TuneConvPlans) is { } slow) Flash(slow);
        }
        catch (Exception e) when (e is ConvGLException or GpuException)
        {
            Report(e);
        }
    }

    // The designed bank, when the view asked for it since the last run: the same source frame in grey.
    private void RunDesigned(GpuImage source)
    {
        bool asked = _designedAsked;
        _designedAsked = false;
        if (!asked || DesignedError is not null) return;
        if (Designed is null)
        {
            try
            {
                Designed = new StackPipeline(_context, "gabor", _sourceSize);
                // A map a view computes late that fails: said in the view, not as the shown pipeline's error.
                Designed.RunFailed = e => DesignedError = "the gabor stack beside it failed: " + Describe(e);
            }
            catch (Exception e) when (e is ConvGLException or GpuException or IOException)
            {
                DesignedError = "the gabor stack could not be loaded beside it: " + Describe(e);
                return;
            }
        }
        try
        {
            _toTensor.Run(source, Designed.Input, gray: Designed.InputChannels == 1);
            Designed.Run();
            _designedRun = Runs;
        }
        catch (Exception e) when (e is ConvGLException or GpuException)
        {
            DesignedError = "the gabor stack beside it failed: " + Describe(e);
        }
        Stages?.Part("designed-bank");
    }

    // A failed run: its error on screen (the views draw the source until a run succeeds).
    private void Report(Exception e)
    {
        if (e is ShaderBuildException build)
        {
            // A program that has not built since it was asked for (a shader broken at start-up, or before a switch to
            // a stack that needs it): the file to fix, not the run; it runs once a reload builds it.
            _messages.SetShaderError(build.Message, nothingKept: true, build.Program);
            _messages.SetRunError(build.Message, said: true);
        }
        else _messages.SetRunError(Describe(e));
    }

    /// <summary>The HUD's pass figure: GPU timer queries (the conversion plus each layer's own) on a GPU, the
    /// glFinish wall clock on llvmpipe, "timing..." until the first query result arrives.</summary>
    public string PassText()
    {
        _timer.Poll();
        return HudText.PassText(_context.IsSoftware, _softwarePassMs, _timer.LastMilliseconds, LayersMilliseconds(), _softwarePassFirst);
    }

    // The layers' own GPU times, when the pipeline measures them (then the pass timer covered the conversion only).
    private double LayersMilliseconds()
    {
        if (!Current.TimesLayers) return 0;
        double sum = 0;
        for (int i = 0; i < Current.LayerCount; i++) sum += Current.LayerMilliseconds(i);
        return sum;
    }

    public void ToggleLayer(int i)
    {
        if (i >= Current.LayerCount)
        {
            Flash($"no layer {i + 1}: this {Current.Name} has {Current.LayerCount}");
            return;
        }
        if (Current.Toggle(i) is { } refused) Flash(refused);
        _state.Changed();
    }

    public void CycleFilter(int delta)
    {
        // Back from a stack to the filter the window opened on where it is not in the list (gaussian:9: f went to the
        // list's first); f and F then step from there into the list as from any such filter.
        if (Current is not FilterPipeline && _filterIndex < 0 && _offListFilter is { } spec)
        {
            Switch(() => new FilterPipeline(_context, spec));
            return;
        }
        if (Current is FilterPipeline || _filterIndex < 0) _filterIndex = Step(_filterIndex, delta, Filters.Length);
        ConvOptions? keep = (Current as FilterPipeline)?.Options;
        Switch(() => new FilterPipeline(_context, Filters[_filterIndex], keep));
    }

    /// <summary>The next (previous) shipped stack; <paramref name="loading"/> hears its name first, before the load that
    /// blocks the window (ResNet18's ~2 s: the title named the previous stack meanwhile, a window review).</summary>
    public void CycleStack(int delta, Action<string>? loading = null)
    {
        if (_stacks.Count == 0)
        {
            Flash("no stacks found in assets/stacks");
            return;
        }
        if (Current is not FilterPipeline || _stackIndex < 0) _stackIndex = Step(_stackIndex, delta, _stacks.Count);
        loading?.Invoke(_stacks[_stackIndex]);
        Switch(() => new StackPipeline(_context, _stacks[_stackIndex], _sourceSize, NormalizeFor(_stacks[_stackIndex])));
    }

    /// <summary>Switches to the stack in <paramref name="file"/> (the soak run's own stack; keys only reach the
    /// shipped ones). A broken file is a message and the running pipeline stays.</summary>
    public void OpenStack(string file) => Switch(() => new StackPipeline(_context, file, _sourceSize));

    private void Switch(Func<ILivePipeline> create)
    {
        try
        {
            ILivePipeline next = create();
            bool filters = Current is FilterPipeline && next is FilterPipeline;
            Current.Dispose();
            Current = next;
            _messages.ClearRunError();
            _messages.FileError = null;
            _state.NewPipeline(Current.DefaultLayer, unpin: !filters);
        }
        catch (Exception e) when (e is ConvGLException or GpuException)
        {
            Flash(Describe(e));
        }
    }

    public void ToggleMode() => Adjust(o => o with { Mode = o.Mode == ConvMode.Correlate ? ConvMode.Convolve : ConvMode.Correlate });

    public void CycleBorder(int delta) => Adjust(o =>
    {
        int n = Borders.All.Count;
        return o with { Border = Borders.All[(((int)o.Border + delta) % n + n) % n] };
    });

    public void ChangeStride(int delta) => Adjust(o =>
    {
        int s = Math.Clamp(o.StrideY + delta, 1, 4);
        return o with { StrideY = s, StrideX = s };
    });

    public void ChangeDilation(int delta) => Adjust(o =>
    {
        int d = Math.Clamp(o.DilationY + delta, 1, 4);
        return o with { DilationY = d, DilationX = d };
    });

    private void Adjust(Func<ConvOptions, ConvOptions> change)
    {
        try
        {
            if (!Current.Adjust(change, _state.Layer)) Flash(string.Create(CultureInfo.InvariantCulture, $"no convolution at or before layer {_state.Layer + 1}: select one with [ ]"));
            _state.Changed();
        }
        catch (ConvGLException e)
        {
            Flash(e.Message);
        }
    }

    private void Flash(string message) => _messages.Flash(message, _window.Time);

    /// <summary>Once a frame, for programs built ahead (the context's Warmer; a layer asks for them when it first runs,
    /// which may be in a view's draw): whenever a job finishes the layers run again (one that waited plans again and takes
    /// its programs then; a still picture runs only when something changed), and the window says when they begin, when
    /// they are ready, and if building ahead stopped. True when the layers run again for finished jobs (that frame plans
    /// again: not a steady frame).</summary>
    public bool PollBuilds()
    {
        if (_context.Warmer is not { } warmer) return false;
        long finished = warmer.Finished;
        bool rerun = finished != _finishedSeen;
        if (rerun)
        {
            _finishedSeen = finished;
            _state.Dirty = true;
        }
        if (warmer.NotServed is { } stopped && !_notServedSaid)
        {
            _notServedSaid = true;
            Flash(stopped);
        }
        bool busy = warmer.Busy;
        if (busy && _buildingSince is null) _buildingSince = Stopwatch.GetTimestamp();
        if (busy && !_buildingSaid && Stopwatch.GetElapsedTime(_buildingSince!.Value).TotalSeconds >= (_scripted ? 0 : QuietBuildSeconds))
        {
            _buildingSaid = true;
            Flash(BuildingAhead);
        }
        else if (!busy && _buildingSince is { } since)
        {
            _buildingSince = null;
            if (_buildingSaid && warmer.NotServed is null) Flash(BuiltAhead(Stopwatch.GetElapsedTime(since).TotalSeconds));
            _buildingSaid = false;
        }
        return rerun;
    }

    /// <summary>Building ahead that ends within this many seconds is not mentioned (programs Mesa's cache held: every start
    /// after the first); a scripted run says it at once.</summary>
    public const double QuietBuildSeconds = 1.0;

    /// <summary>What the window says while llvmpipe builds the layers' literal-weight programs on a thread of its own.</summary>
    public const string BuildingAhead =
        "compiling faster programs (weights compiled in) on another thread; the general ones run meanwhile";

    /// <summary>What the window says when they are ready, <paramref name="seconds"/> after it began. Pure: a unit test
    /// holds it.</summary>
    public static string BuiltAhead(double seconds) => string.Create(CultureInfo.InvariantCulture,
        $"faster programs ready ({seconds:0.0} s to compile; Mesa keeps them on disk: next time at once)");

    /// <summary>What the window says after a pipeline's first run took <paramref name="ms"/> (its programs compiled then:
    /// on llvmpipe a layer with its weights compiled in takes seconds the first time), or null when it was quick (under
    /// 1.5 s; <paramref name="tuned"/>: each conv layer's candidate plans were timed, GlContext.TuneConvPlans). Pure: a
    /// unit test holds it.</summary>
    public static string? SlowFirstRun(double ms, bool software, bool tuned = false) => ms < 1500 ? null
        : string.Create(CultureInfo.InvariantCulture, $"the first run took {ms / 1000:0.0} s: ") + (software
            ? "llvmpipe compiled its programs (weights compiled in take longest); Mesa keeps them on disk, so next time it starts at once"
            : tuned ? "the driver compiled the programs each conv layer could run and each was timed, a clearly faster one kept (CONVGL_TUNE=0: the rules alone); compiled programs are cached for next time"
            : "the driver compiled its programs; they are cached for next time");

    // What the HUD says of a failure: a driver limit also names the --source-max whose maps fit the source's frames.
    private string Describe(Exception e) =>
        e is GpuLimitException limit ? SourceFit.LimitHint(limit, _sourceSize.Width, _sourceSize.Height) : e.Message;

    /// <summary>The next (<paramref name="delta"/> 1) or previous (-1) of <paramref name="count"/> entries, wrapping around;
    /// from -1 (a start not in the list) the first or the last. Pure: a unit test holds it.</summary>
    public static int Step(int index, int delta, int count) =>
        index < 0 ? (delta > 0 ? 0 : count - 1) : ((index + delta) % count + count) % count;

    private static int IndexOf(IReadOnlyList<string> list, string item)
    {
        for (int i = 0; i < list.Count; i++)
            if (list[i] == item) return i;
        return -1;
    }

    public void Dispose()
    {
        Current.Dispose();
        Designed?.Dispose();
        _timer.Dispose();
    }
}
