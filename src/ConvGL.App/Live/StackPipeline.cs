using System.Globalization;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Onnx;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Gpu;
using ConvGL.Gpu.Stacks;

namespace ConvGL.App.Live;

/// <summary>A stack file on <see cref="GpuStackRunner"/>: every layer's output stays on the GPU for the views and the
/// probe; layers toggle under <see cref="StackPlan"/>'s rule. Each conv layer runs by the algorithm the cost model
/// picks for its input at the planned size (<see cref="ConvAlgorithm.Auto"/>, as `features` does: direct, separable
/// or FFT), chosen when the stack is planned, never per frame; the layer line names it. The stack and weights files are re-read when they
/// change on disk; a broken file keeps the running stack and reports the error.
///
/// Only what is read: the maps the views read (<see cref="LayerInput"/>, <see cref="LayerOutput"/>) since the last run are the
/// ones the next run keeps (GpuStackRunner.SetObserved): it runs only the layers they depend on, and an activation (or a
/// mul of a map and its own activation: SiLU) after a conv or an add whose own map no view reads is applied by that layer
/// as it stores. A map asked for that the
/// last run did not compute (the view or the selected layer changed) runs the stack again at once with it kept, so a view
/// never shows another frame's numbers.</summary>
internal sealed class StackPipeline : ILivePipeline
{
    private readonly GlContext _context;
    private readonly string _file;
    // MODEL.onnx#NAMES: the names (the stack up to those nodes), null for a whole stack.
    private readonly string? _until;
    // --normalize's first layer, added at every load (null: none).
    private readonly InputNormalization? _normalize;
    private GpuStackRunner _runner;
    private ConvView?[] _convs;
    // Kernel names per layer as the file gave them: a live option change rebuilds the layer without them.
    private IReadOnlyList<string>?[] _kernelNames;
    private IReadOnlyList<FileWatch> _watches;
    private Action<int>? _afterLayer;
    // "layer 1 conv", per layer: --stats' part names, made once per stack.
    private string?[] _partNames = [];
    // Per layer: the maps the views asked for since the last run, and the maps that run was told to keep.
    private bool[] _asked = [], _kept = [];

    /// <summary>Loads and plans the stack for frames of <paramref name="size"/> (the source's; a stack whose layers need a
    /// larger map than a small default, such as a valid 21x21 conv or a converted ResNet18, would not plan at one).
    /// Frames of another size re-plan it in <see cref="Run"/>.</summary>
    public StackPipeline(GlContext context, string nameOrFile, (int Height, int Width)? size = null, InputNormalization? normalize = null)
    {
        _context = context;
        _normalize = normalize;
        (string file, _until) = StackCatalog.ResolveParts(nameOrFile);
        _file = Path.GetFullPath(file);
        (int h, int w) = size ?? (16, 16);
        (_runner, _convs) = Load(Math.Max(1, h), Math.Max(1, w));
        _kernelNames = KernelNames(_runner.Stack);
        _watches = Watches(_runner.Stack);
    }

    private static IReadOnlyList<string>?[] KernelNames(Stack stack) => stack.Layers.Select(l => (l as ConvLayer)?.Kernels).ToArray();

    /// <summary>The stacks s cycles through: the shipped ones (assets/stacks), then the packaged models that are in the
    /// NuGet cache (resnet18 after a build; s never reached it, so leaving it with s could not come back).</summary>
    public static IReadOnlyList<string> Shipped() =>
        [.. StackCatalog.ShippedNames(), .. PackagedModels.All.Where(m => File.Exists(PackagedModels.ModelFile(m))).Select(m => m.Name)];

    /// <summary>Loads the stack as the window will (every file it names read and checked) and returns its layer
    /// count: the command line calls it before a window opens.</summary>
    public static int Check(string nameOrFile) => Check(nameOrFile, null, out _);

    /// <summary><see cref="Check(string)"/>, with every file the stack reads (<see cref="FilesRead"/>).</summary>
    public static int Check(string nameOrFile, InputNormalization? normalize, out IReadOnlyList<string> files)
    {
        (string resolved, string? until) = StackCatalog.ResolveParts(nameOrFile);
        string file = Path.GetFullPath(resolved);
        Stack stack = LoadStack(file, until, normalize);
        files = FilesRead(stack, file);
        return stack.Layers.Count;
    }

    // Exactly as `convgl features` loads it: library kernels, kernel files next to the stack, .npy weights.
    // --normalize adds its layer at every load, so a hot reload keeps it.
    private static Stack LoadStack(string file, string? until, InputNormalization? normalize) =>
        normalize is null ? StackCatalog.Load(file, until) : normalize.Apply(StackCatalog.Load(file, until));

    private (GpuStackRunner, ConvView?[]) Load(int height, int width)
    {
        Stack stack = LoadStack(_file, _until, _normalize);
        // A stack that does not fit the frames (a residual net whose adds need even maps): the sizes it runs at.
        if (stack.Preprocess is null) StackInputSizes.CheckFrames(stack, height, width);
        return (new GpuStackRunner(_context, stack, height, width, algorithm: ConvAlgorithm.Auto) { TimeLayers = TimesLayers, AfterLayer = _afterLayer }, Views(stack));
    }

    // One view per conv layer, made once: the probe and the profile ask for them every frame.
    private static ConvView?[] Views(Stack stack) =>
        stack.Layers.Select(l => l is ConvLayer c ? new ConvView(c.Weight, c.Bias, c.Options) : null).ToArray();

    // Every file the stack reads, watched; a kernel spec that is a library name is watched as a file too: it stays
    // missing, which is no change.
    private IReadOnlyList<FileWatch> Watches(Stack stack) => FilesRead(stack, _file).Select(p => new FileWatch(p)).ToArray();

    /// <summary>Every file the stack at <paramref name="file"/> reads, relative to it: the stack file, its weights file,
    /// .npy weights and kernel files (a library kernel's name too, as a path that does not exist).</summary>
    public static IReadOnlyList<string> FilesRead(Stack stack, string file)
    {
        string dir = Path.GetDirectoryName(file)!;
        var paths = new List<string> { file };
        if (stack.WeightsFile is { } weights) paths.Add(Path.Combine(dir, weights));
        foreach (ConvLayer c in stack.Layers.OfType<ConvLayer>())
        {
            paths.AddRange((c.Kernels ?? []).Select(k => Path.Combine(dir, k)));
            paths.AddRange(new[] { c.WeightName, c.BiasName }.OfType<string>()
                .Where(n => n.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)).Select(n => Path.Combine(dir, n)));
        }
        return paths.Distinct(StringComparer.Ordinal).ToArray();
    }

    public string Name => $"stack {_runner.Stack.Name}";
    public int InputChannels => _runner.Stack.InputChannels;
    public int LayerCount => _runner.Stack.Layers.Count;

    // A classifier's last map is 1x1: it opens on its first layer instead (the model's, past --normalize's).
    public int DefaultLayer => _runner.Plan.Outputs[LayerCount - 1] is { H: 1, W: 1 } ? Math.Min(_normalize is null ? 0 : 1, LayerCount - 1) : LayerCount - 1;
    public GpuTensor Input => _runner.Input;

    /// <summary>The map whose size layer <paramref name="i"/> takes (its second input), as the HUD numbers layers: "layer 2", "the input".</summary>
    private string SizeSource(int i) => _runner.Stack.Layers[i].InputsOf(i)[1] is var j && j < 0 ? "the input" : $"layer {j + 1}";

    public string LayerLabel(int i)
    {
        StackLayer layer = _runner.Stack.Layers[i];
        // A named layer's name leads its line (below) and says what its bank is ("gabor bank 0..157.5 degrees"); only an
        // unnamed bank lists its kernels here (the grid's map labels and the kernel panel name them either way).
        bool named = layer.Label is { Length: > 0 } given && given != layer.Type;
        string what = layer is ConvLayer c
            ? $"conv {c.Weight.Shape[2]}x{c.Weight.Shape[3]} {c.Weight.Shape[1] * c.Options.Groups}->{c.Weight.Shape[0]}" +
              (!named && _kernelNames[i] is { } k ? $" ({(k.Count <= 4 ? string.Join(", ", k) : $"{k[0]}, {k[1]}, ... {k.Count} kernels")})" : "") +
              (c.Options.Mode == ConvMode.Convolve ? " convolve" : "") + Padding(c.Options) +
              $" {c.Options.Border.Name()} s{HudText.Axes(c.Options.StrideY, c.Options.StrideX)} d{HudText.Axes(c.Options.DilationY, c.Options.DilationX)}"
            : layer switch
            {
                // The imported layers' own numbers, as a conv's: what the teaching view needs to read the shapes.
                ConvTransposeLayer t => $"conv_transpose {t.Weight.Shape[2]}x{t.Weight.Shape[3]} {t.Weight.Shape[0]}->{t.Weight.Shape[1] * t.Options.Groups}" +
                    $" s{HudText.Axes(t.Options.StrideY, t.Options.StrideX)} d{HudText.Axes(t.Options.DilationY, t.Options.DilationX)}" +
                    // Its pads crop the output (the math audit: 29 * 2 - 2 + 2 + 1 + 1 = 60 could not be read off the line).
                    Pads(t.Options.PadTop, t.Options.PadLeft, t.Options.PadBottom, t.Options.PadRight) +
                    (t.Options.OutputPadY > 0 || t.Options.OutputPadX > 0 ? $" op{HudText.Axes(t.Options.OutputPadY, t.Options.OutputPadX)}" : ""),
                // A pool's window, stride and padding, as a conv's line gives its own (it said only "maxpool").
                PoolLayer pl => $"{pl.Type} {pl.Options.SizeY}x{pl.Options.SizeX} s{HudText.Axes(pl.Options.EffectiveStrideY, pl.Options.EffectiveStrideX)}" +
                    (pl.Options.PadY > 0 || pl.Options.PadX > 0 ? $" pad {HudText.Axes(pl.Options.PadY, pl.Options.PadX)}" : ""),
                PaddedPoolLayer pp => $"{pp.Type} {pp.Options.SizeY}x{pp.Options.SizeX} s{HudText.Axes(pp.Options.StrideY, pp.Options.StrideX)}" +
                    (pp.Options.DilationY > 1 || pp.Options.DilationX > 1 ? $" d{HudText.Axes(pp.Options.DilationY, pp.Options.DilationX)}" : "") +
                    (pp.Options.Padding != PaddingMode.Explicit ? " " + pp.Options.Padding.Name()
                        : Pads(pp.Options.PadTop, pp.Options.PadLeft, pp.Options.PadBottom, pp.Options.PadRight)) +
                    (pp.Options.CeilMode ? " ceil" : ""),
                ResizeLayer r => $"resize {r.Options.Mode.ToString().ToLowerInvariant()} " +
                    (r.ToSecondInput ? $"to the size of {SizeSource(i)}" : r.Options.SizeY > 0 ? $"to {r.Options.SizeX}x{r.Options.SizeY}" : $"x{r.Options.ScaleY.ToString(System.Globalization.CultureInfo.InvariantCulture)}"),
                PadLayer { ToSecondInput: true } pad => $"pad to the size of {SizeSource(i)}, centred, {pad.Options.Border.Name()}",
                PadLayer pad => $"pad [{pad.Options.Top}, {pad.Options.Left}, {pad.Options.Bottom}, {pad.Options.Right}] {pad.Options.Border.Name()}",
                DepthToSpaceLayer d => $"{d.Type} {d.Block}{(d.ToSpace ? $" {d.Mode.ToString().ToLowerInvariant()}" : "")}",
                LrnLayer l => string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"lrn {l.Parameters.Size} a{l.Parameters.Alpha} b{l.Parameters.Beta} k{l.Parameters.Bias}"),
                ActivationLayer { Kind: Core.Ops.ActivationKind.Clip } clip => $"clip [{clip.Min}, {clip.Max}]",
                // The parameters ONNX gives these (an imported hard_sigmoid's 1/6 and 1/2 are not the 0.2 a stack file defaults to).
                ActivationLayer { Kind: Core.Ops.ActivationKind.LeakyRelu } a => Invariant($"leaky_relu slope {a.Slope:G4}"),
                ActivationLayer { Kind: Core.Ops.ActivationKind.Elu or Core.Ops.ActivationKind.Celu or Core.Ops.ActivationKind.ThresholdedRelu } a =>
                    Invariant($"{a.Type} alpha {a.Slope:G4}"),
                ActivationLayer { Kind: Core.Ops.ActivationKind.Selu } a => Invariant($"selu alpha {a.Slope:G4} gamma {a.Beta:G4}"),
                ActivationLayer { Kind: Core.Ops.ActivationKind.HardSigmoid } a => Invariant($"hard_sigmoid alpha {a.Slope:G4} beta {a.Beta:G4}"),
                SliceLayer sl => $"slice {sl.Describe()}",
                ChannelShuffleLayer cs => $"channel_shuffle {cs.Groups} groups",
                ChannelReduceLayer r => $"reduce_channels {r.Op}",
                GroupNormLayer g => $"groupnorm {g.Groups} group{(g.Groups == 1 ? "" : "s")}",
                CoordsLayer => "coords x, y in [-1, 1]",
                // Keras' order: each pixel's channels together (the Dense weights after it expect it).
                FlattenLayer { ChannelsLast: true } => "flatten pixel by pixel (hwc)",
                AttentionLayer a => $"attention over the positions{(a.Heads > 1 ? $", {a.Heads} heads" : "")}, scale {(a.Scale is { } sc ? HudText.Significant(sc) : a.Heads > 1 ? "1/sqrt(C/heads)" : "1/sqrt(C)")}",
                ElementwiseLayer { Value: { } number } e => $"{e.Type} {HudText.Significant(number)}",
                _ => layer.Type,
            };
        string? name = ShaderTag(i);
        // A layer on but left out of the run (the view needs no map after the shown one): said, so its line's missing
        // shader tag does not read as a fault.
        string shader = _runner.Enabled[i] && !_runner.Needed(i) ? $" [not{HudText.Nb}run]" : name is null ? "" : $" [{name}]";
        // The layer's own name first where it has one, as PyTorch prints a module ("(conv1): Conv2d(...)"): an imported
        // model's node name ("Convolution257: conv 3x3 64->64 ..."), a stack file's "name" field.
        // An unnamed learned conv by its weight's name, as its maps are named ("conv1: conv 3x3 1->8", the maps "conv1 0".."conv1 7").
        string label = named ? $"{layer.Label}: "
            : layer is ConvLayer { WeightName: { Length: > 0 } and not "live" } learned ? $"{MapNames.Stem(learned, i)}: " : "";
        return $"{label}{what}{shader} -> {_runner.Plan.Outputs[i]}" + (_runner.Algorithms[i] is { } choice ? $", {choice}" : "");
    }

    /// <summary>The shader a layer's plan chose, as its layer line shows it, or null: a direct conv's first word only
    /// ("winograd", "conv2d_dense"; the bench table gives the whole variant line), "+relu" (or the other activation) where
    /// the activation after it is fused into its stores ("add+relu" for an add), "fused" on that activation, and
    /// ", literal compiling" while its literal-weight programs compile on the warmer's thread (the window on llvmpipe).</summary>
    public string? ShaderTag(int i)
    {
        string? variant = _runner.Variant(i);
        string? name = _runner.FusedAway(i) ? "fused" : variant is null || variant.StartsWith('(') ? null
            : variant[..(variant.IndexOfAny([':', ' ']) is var end and >= 0 ? end : variant.Length)];
        if (_runner.FusedName(i) is { } fused) name = (name ?? _runner.Stack.Layers[i].Type) + "+" + fused;
        if (variant is not null && variant.EndsWith(Gpu.Ops.GpuConv2D.StandingIn, StringComparison.Ordinal)) name += $",{HudText.Nb}literal{HudText.Nb}compiling";
        return name;
    }

    /// <summary>A conv's padding on its layer line: nothing for same (the default), else " valid", " full",
    /// " same_upper" / " same_lower" or the explicit " pad top,left,bottom,right" (the output size's other half).</summary>
    internal static string Padding(ConvOptions o) => o.Padding switch
    {
        PaddingMode.Same => "",
        // Top, left, bottom, right as the stack file's "padding" lists them; no brackets: "[...]" on a layer line is its shader.
        PaddingMode.Explicit => $" pad {o.PadY},{o.PadX},{o.PadBottom ?? o.PadY},{o.PadRight ?? o.PadX}",
        _ => " " + o.Padding.Name(),
    };

    // An imported layer's explicit pads on its line, as a conv's (top, left, bottom, right); nothing where all are 0.
    private static string Pads(int top, int left, int bottom, int right) =>
        (top | left | bottom | right) == 0 ? "" : $" pad {top},{left},{bottom},{right}";

    public bool IsEnabled(int i) => _runner.Enabled[i];

    // The refusal numbers layers as the HUD does, from 1.
    public string? Toggle(int i)
    {
        bool on = _runner.Enabled[i];
        _unfit = null;
        if (_runner.TrySetEnabled(i, !on, out string? error, layerBase: 1)) return null;
        // Said as a refused key, not as a broken file: the plan's reason names the stack and its layers as the HUD does.
        return $"can't turn layer {i + 1} {(on ? "off" : "on")}, it stays {(on ? "on" : "off")}: {error}";
    }

    public int OutputChannels(int i) => i < 0 ? _runner.Plan.Input.C : _runner.Plan.Outputs[i].C;
    // The map the layer reads (a graph layer names it: a residual add's or a pool's output), and for the stack input
    // the tensor the run started from: the preprocessed copy when the stack has preprocessing, never the raw source.
    // Resolved once per runner: the profile view asks every frame, and InputsOf allocates for a chain layer.
    public GpuTensor LayerInput(int i) => Map(InputLayer(i));

    // A disabled layer's planned output is its input's shape (it passes the map on).
    public (int C, int H, int W) LayerInputShape(int i)
    {
        MapShape s = InputLayer(i) is var k and >= 0 ? _runner.Plan.Outputs[k] : _runner.Plan.Input;
        return (s.C, s.H, s.W);
    }

    public int InputLayer(int i) => InputLayers(i)[0];

    public IReadOnlyList<int> InputLayers(int i)
    {
        if (_readsFor != _runner)
        {
            _reads = _runner.Stack.Layers.Select((l, j) => l.InputsOf(j)).ToArray();
            _readsFor = _runner;
        }
        return _reads[i];
    }

    public (int H, int W) LayerOutputSize(int i)
    {
        MapShape s = i < 0 ? _runner.Plan.Input : _runner.Plan.Outputs[i];
        return (s.H, s.W);
    }

    // Layer i's map for a view (-1: the stack input), noted as read; computed now if the last run skipped it or fused it
    // away, unless the last run failed (its error is on screen; the next run computes it). A failure of this run is
    // handed to RunFailed: a view asked for the map, and the run error is the window's to show.
    private GpuTensor Map(int layer)
    {
        if (layer >= 0)
        {
            SizeFusionMasks();
            _asked[layer] = true;
            if (!_runner.MapComputed(layer) && !_runFailed)
            {
                _kept[layer] = true;
                _runner.SetObserved(_kept);
                try
                {
                    _runner.Run();
                }
                catch (Exception e) when (e is ConvGLException or GpuException)
                {
                    _runFailed = true;
                    RunFailed?.Invoke(e);
                }
            }
        }
        return _runner.Output(layer);
    }

    private bool _runFailed;

    // StackInputSizes' error for the size (the same layer, with the nearest sizes that run), or the re-plan's own where
    // the stack plans with every layer on (a layer switched off made the difference).
    private ConvGLException WithNearestSizes(ConvGLException planError, int h, int w)
    {
        try
        {
            StackInputSizes.CheckFrames(_runner.Stack, h, w);
            return planError;
        }
        catch (ConvGLException hinted)
        {
            return hinted;
        }
    }
    // The last frame size the stack did not fit, and its error with the nearest sizes.
    private ((int H, int W) Size, ConvGLException Error)? _unfit;

    /// <summary>Told of a failure of a run a view's request for a map started (outside <see cref="Run"/>).</summary>
    public Action<Exception>? RunFailed { get; set; }

    private void SizeFusionMasks()
    {
        if (_asked.Length == LayerCount) return;
        (_asked, _kept) = (new bool[LayerCount], new bool[LayerCount]);
    }

    private IReadOnlyList<int>[] _reads = [];
    private GpuStackRunner? _readsFor;
    public GpuTensor LayerOutput(int i) => Map(i);
    public IReadOnlyList<int>? InputChannelOrder => _runner.Stack.Preprocess?.ChannelOrder;
    // A model's input as it is fed: its preprocessing (the packaged ResNet18's, or a declared size's resize), --normalize's
    // layer, and for a model fed plain 0..1 pictures where to give the normalisation it may have been trained on.
    public string? InputNote
    {
        get
        {
            Stack stack = _runner.Stack;
            bool own = stack.Preprocess is { ResizesOnly: false };
            if (own || (!stack.FromOnnx && _normalize is null)) return stack.Preprocess?.Describe();
            string fed = (stack.Preprocess?.Describe() ?? (stack.Input == StackInput.Gray ? "gray, 0..1" : "RGB, 0..1")) +
                         (stack.ChannelsLastInput ? ", channels-last" : "");
            return _normalize is { } n ? $"{fed}; layer 1 normalizes: {n.Describe()}" : $"{fed} (--normalize for one trained on normalised pictures)";
        }
    }

    public (double Top, double Left, double Height, double Width)? InputCrop(int height, int width)
    {
        if (_runner.Stack.Preprocess is not { } p || height <= 0 || width <= 0) return null;
        (double top, double left, double scale) = p.Crop(height, width);
        return (top, left, p.Height / scale, p.Width / scale);
    }
    public ConvView? Conv(int i) => _runner.Enabled[i] ? _convs[i] : null;

    public bool HasConvLayer => _runner.Stack.Layers.Any(l => l is ConvLayer);

    public StackLayer? StackLayer(int i) => _runner.Enabled[i] ? _runner.Stack.Layers[i] : null;

    public string MapName(int layer, int channel)
    {
        // Made when first asked after a change (a toggle, a reload, an option change): the HUD asks, not each frame.
        if (_names is null || _namesFor != _runner || !_namesEnabled.SequenceEqual(_runner.Enabled))
        {
            _names = MapNames.For(_runner.Stack, _runner.Enabled, _kernelNames);
            (_namesFor, _namesEnabled) = (_runner, [.. _runner.Enabled]);
        }
        // -1: the stack input's channels (a two-map layer's second map may be the input).
        string[] names = layer < 0 ? MapNames.InputNames(_runner.Stack) : _names[Math.Clamp(layer, 0, _names.Length - 1)];
        return (uint)channel < (uint)names.Length ? names[channel] : channel.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public string InputMapName(int layer, int channel)
    {
        int from = InputLayer(layer);
        if (from >= 0) return MapName(from, channel);
        // Asked when the HUD or a scripted probe is written, never per frame: no cache to keep in step with reloads.
        string[] input = MapNames.InputNames(_runner.Stack);
        return (uint)channel < (uint)input.Length ? input[channel] : channel.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private string[][]? _names;
    private GpuStackRunner? _namesFor;
    private bool[] _namesEnabled = [];
    public bool TimesLayers => !_context.IsSoftware;
    // A layer that is off runs nothing: its timer's last figure is stale.
    public double LayerMilliseconds(int i) => _runner.Enabled[i] ? _runner.LayerMilliseconds(i) ?? 0 : 0;

    /// <summary>Called after each enabled layer's dispatch (--stats times the layers with it), or null.</summary>
    public Action<int>? AfterLayer
    {
        get => _afterLayer;
        set => _runner.AfterLayer = _afterLayer = value;
    }

    /// <summary>Layer i's name in --stats' parts line: "1:conv", "1:conv+relu" when the activation after it is fused into
    /// its stores (that activation then has no part of its own). Made once per name.</summary>
    public string PartName(int i)
    {
        if (_partNames.Length != 2 * LayerCount) _partNames = new string[2 * LayerCount];
        int j = _runner.FusedLayer(i);
        int at = j < 0 ? i : LayerCount + i;
        if (_partNames[at] is { } name) return name;
        IReadOnlyList<StackLayer> layers = _runner.Stack.Layers;
        return _partNames[at] = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{i + 1}:{layers[i].Type}{(j < 0 ? "" : "+" + _runner.FusedName(i))}");
    }

    public void Run()
    {
        // ImageToTensor sized the input to the source: re-plan only when that changed (a no-op otherwise).
        (int h, int w) = (_runner.Input.H, _runner.Input.W);
        bool failedBefore = _runFailed;
        // Failed until it has run: a re-plan that fails leaves no map a view may compute lazily from the old plan.
        _runFailed = true;
        try
        {
            _runner.Resize(h, w);
        }
        catch (ConvGLException e) when (_runner.Stack.Preprocess is null)
        {
            // A source the stack does not fit (a dropped picture): the error names the nearest sizes it runs at, as the
            // same picture given as --source is told. Searched once per size (a video's every frame would search again).
            if (_unfit is not { } u || u.Size != (h, w)) _unfit = ((h, w), WithNearestSizes(e, h, w));
            throw _unfit.Value.Error;
        }
        SizeFusionMasks();
        // The maps the views read since the last run are the ones to compute. After a failed run the views drew nothing
        // (the error is on screen) and so asked for nothing: the maps of the run that failed stay observed, or this run
        // would compute nothing, "succeed", and clear the error for a frame (it flickered every other frame).
        for (int i = 0; i < _kept.Length; i++) _kept[i] = _asked[i] || (failedBefore && _kept[i]);
        Array.Clear(_asked);
        _runner.SetObserved(_kept);
        _runner.Run();
        _runFailed = false;
    }

    /// <summary>Mode, border, stride and dilation of conv layer <paramref name="layer"/> (or the nearest conv before
    /// it), changed live: the stack is
    /// rebuilt with that layer's new options and re-planned (a later layer that no longer fits is an error, and the
    /// running stack stays). The file is not changed; reloading it restores its options.</summary>
    public bool Adjust(Func<ConvOptions, ConvOptions> change, int layer)
    {
        Stack stack = _runner.Stack;
        // A stack without a conv (attention, heads): selecting another layer would not help.
        if (!stack.Layers.Any(l => l is ConvLayer))
            throw new ConvGLException(stack.Layers.Any(l => l is ConvTransposeLayer)
                ? $"the {stack.Name} stack's convolutions are transposed ones, whose options these keys do not change: c, b, +, - and d change a conv layer's mode, border, stride and dilation"
                : $"the {stack.Name} stack has no convolution layer: c, b, +, - and d change a conv's mode, border, stride and dilation");
        // The selected layer, or else the nearest conv before it (on a magnitude layer, c means its derivatives).
        while (layer >= 0 && stack.Layers[layer] is not ConvLayer) layer--;
        if (layer < 0 || stack.Layers[layer] is not ConvLayer c) return false;
        StackLayer[] layers = [.. stack.Layers];
        // The same layer with the new options: its name, bank and the maps it reads kept (a graph's shortcut conv read
        // the previous layer's map after a key, and a named bank lost its name).
        ConvOptions changed = change(c.Options);
        layers[layer] = c.WithOptions(changed);
        var rebuilt = new Stack(stack.Name, stack.Input, layers, stack.WeightsFile) { SourcePath = stack.SourcePath, Description = stack.Description, Preprocess = stack.Preprocess };
        // A change a later layer cannot take is refused as a toggle is: said with the HUD's layer numbers (from 1; the
        // runner's own error counts as the file does, from 0) and what was refused.
        // Checked at the size the running plan has: the model's own input for a stack with preprocessing (ResNet18 plans at
        // 224x224 whatever the source; its raw source tensor, 1x1 before the first frame, refused every key at 1x1).
        if (!StackPlan.TryCreate(rebuilt, _runner.Plan.Input.H, _runner.Plan.Input.W, _runner.Enabled, out _, out string? error, layerBase: 1))
            throw new ConvGLException(string.Create(CultureInfo.InvariantCulture,
                $"{ChangeText(c.Options, changed)} on layer {layer + 1} refused, it stays as it was: {error}"));
        var runner = new GpuStackRunner(_context, rebuilt, Math.Max(1, _runner.Input.H), Math.Max(1, _runner.Input.W), _runner.Enabled, ConvAlgorithm.Auto) { TimeLayers = TimesLayers, AfterLayer = _afterLayer };
        _runner.Dispose();
        (_runner, _convs) = (runner, Views(rebuilt));
        _unfit = null;
        return true;
    }

    /// <summary>What a key changed in a conv's options, as the refusal names it ("stride 3", "dilation 4", "border wrap",
    /// "convolve"). Pure: a unit test holds it.</summary>
    public static string ChangeText(ConvOptions before, ConvOptions after) =>
        after.StrideY != before.StrideY || after.StrideX != before.StrideX ? string.Create(CultureInfo.InvariantCulture, $"stride {after.StrideY}")
        : after.DilationY != before.DilationY || after.DilationX != before.DilationX ? string.Create(CultureInfo.InvariantCulture, $"dilation {after.DilationY}")
        : after.Border != before.Border ? "border " + after.Border.ToString().ToLowerInvariant()
        : after.Mode != before.Mode ? after.Mode.ToString().ToLowerInvariant() : "the change";

    private readonly MidSaveRetry _midSave = new();

    public (bool Changed, string? Error) ReloadChanged(bool force)
    {
        if (!force && !_midSave.Pending && !_watches.Any(w => w.Changed())) return (false, null);
        // Watch from now on (the old list: a broken file is reported once, and its next save is a change again).
        _watches = Watches(_runner.Stack);
        try
        {
            (GpuStackRunner runner, ConvView?[] convs) = Load(Math.Max(1, _runner.Input.H), Math.Max(1, _runner.Input.W));
            for (int i = 0; i < Math.Min(LayerCount, runner.Stack.Layers.Count); i++)
                if (!_runner.Enabled[i]) runner.TrySetEnabled(i, false, out _);
            _runner.Dispose();
            (_runner, _convs) = (runner, convs);
            _unfit = null;
            _kernelNames = KernelNames(runner.Stack);
            _partNames = [];
            _watches = Watches(runner.Stack);
            _midSave.Loaded();
            return (true, null);
        }
        catch (Exception e) when (e is ConvGLException or GpuException)
        {
            // Caught mid-save (a JSON cut short, a weights file half written): read again at the next check, said only
            // if it is still broken once its files have settled (it was said, then "reloaded" half a second later).
            return _midSave.HoldBack(force, _watches.Select(w => w.Path)) ? (false, null) : (true, e.Message);
        }
    }

    public void Dispose() => _runner.Dispose();

    private static string Invariant(FormattableString s) => FormattableString.Invariant(s);
}
