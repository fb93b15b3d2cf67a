using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Stacks;

/// <summary>Runs a <see cref="Stack"/> on the GPU, every layer's output kept in its own <see cref="GpuTensor"/> so
/// the window can show any of them. Built for a per-frame loop: the ops (with their weights uploaded once) and
/// the tensors are created once per (stack, input size); <see cref="Run()"/> only dispatches. Changing the size
/// or the enabled layers re-plans and resizes tensors in place (storage only ever grows), so it allocates only
/// when something got bigger or a conv layer's algorithm choice changed (that layer's op is made anew).
///
/// Toggling: a disabled layer passes its input through (<see cref="Output"/> of it is the previous tensor); the
/// rule for which sets are allowed is <see cref="StackPlan"/>'s. <see cref="TrySetEnabled"/> refuses, with the
/// reason, a change that would break a later layer's channel count. Use it on the GL thread.
///
/// A stack with a <see cref="Stack.Preprocess"/> (a packaged model) takes the window's source image in
/// <see cref="Input"/> at any size: <see cref="Run()"/> and <see cref="Run(GpuTensor)"/> preprocess it on the GPU into
/// the model's input first, and the plan is the model's size whatever the source's. <see cref="Run(Tensor)"/> takes the
/// model's input as it is (preprocessed on the CPU, or an array).
///
/// Only what is read: by default every layer's map is computed. <see cref="SetObserved"/> names the maps someone will read
/// (the window: the shown layer and its input; the bench: the last). A run then computes only the layers those maps depend
/// on (the window showing ResNet18's first conv runs one layer of 52), and an activation (relu, tanh, sigmoid, ...) whose only input is a
/// conv (on the direct programs) or an add that nothing else reads, with that layer not observed, is applied by that layer
/// as it stores its results (<see cref="FusedActivation"/>), writing the activation's map in one pass instead of two; so
/// is a mul of such a layer's map and its own activation (SiLU as Mul(x, Sigmoid(x))) where nothing else reads the two,
/// writing the mul's map in one pass instead of three (the activation's own map is then not computed either). A
/// map not computed that way (a layer no observed map needs, a conv or add whose activation was fused, the activation
/// inside a fused mul): <see cref="Output"/> of it throws, <see cref="MapComputed"/> says false.</summary>
public sealed class GpuStackRunner : IDisposable
{
    private readonly GlContext _context;
    private readonly IGpuStackOp[] _ops;
    private readonly GpuTensor[] _outputs;
    private readonly GpuTensor[][] _inputBuffers;
    // Each layer's input indices, resolved once: InputsOf allocates for a default (chain) layer, and a frame must not.
    private readonly int[][] _reads;
    private readonly GpuTensor _input;
    private readonly Onnx.GpuImagePreprocess? _preprocess;
    private readonly GpuTensor? _prepared;
    private GpuTensor _source;
    private bool[] _enabled;
    private GpuTimer?[]? _timers;
    private bool _disposed;
    // Fusion candidates, fixed by the graph: _fusableAfter[i] = j when layer j is an activation FusedActivation supports whose
    // only input is layer i and no other layer reads layer i, or j is a mul of layer i and such an activation g of it
    // (_gate[j] = g; SiLU as x * sigmoid(x)) and nothing else reads i or g; else -1. _activation[j]: that activation
    // (gated for such a mul), made once.
    private readonly int[] _fusableAfter;
    private readonly int[] _gate;
    private readonly FusedActivation?[] _activation;
    // Under the current fusion: _fusedInto[i] = j when layer i's op applies activation j and writes j's map (i's own map
    // is not computed), else -1; _fusedAway[j] when activation j is computed that way (not run itself).
    private readonly int[] _fusedInto;
    private readonly bool[] _fusedAway;
    // Per activation layer that may be fused, its Variant line then, made once (the HUD asks every time it redraws).
    private readonly string?[] _fusedVariant;
    // Per layer, whether its map is read (SetObserved); null: every map.
    private bool[]? _observed;
    // Per layer, whether a run computes it: every layer without SetObserved, else those the observed maps depend on.
    private readonly bool[] _needed;

    public Stack Stack { get; }
    public StackPlan Plan { get; private set; }

    /// <summary>The stack's input, (C_in, H, W): upload to it (or write it from a texture) before <see cref="Run()"/>.</summary>
    public GpuTensor Input => _input;

    public IReadOnlyList<bool> Enabled => _enabled;

    /// <summary>When set, every enabled layer's dispatch is timed with GL_TIME_ELAPSED queries (one
    /// <see cref="GpuTimer"/> ring per layer, made on first use): read them with <see cref="LayerMilliseconds"/>.</summary>
    public bool TimeLayers { get; set; }

    /// <summary>When set, called with each enabled layer's index once its work has finished (glFinish after the
    /// layer: for progress displays such as `convgl features`; the window leaves it null and never waits).</summary>
    public Action<int>? LayerFinished { get; set; }

    /// <summary>Called with the layer's index after each enabled layer's dispatch, or null (the default). For profilers
    /// on a software rasteriser (`convgl bench` calls glFinish in it and reads the clock), where GL_TIME_ELAPSED reads ~0.</summary>
    public Action<int>? AfterLayer { get; set; }

    /// <summary>The latest finished GPU time of layer i in milliseconds, or null when not measured (timing off, the
    /// layer disabled so far, or its queries still in flight). Reads ~0 on llvmpipe (see GpuTimer).</summary>
    public double? LayerMilliseconds(int layer)
    {
        if (_fusedAway[layer] || !_needed[layer]) return null;
        GpuTimer? timer = _timers?[layer];
        timer?.Poll();
        return timer?.LastMilliseconds;
    }

    /// <summary>Whether a run computes layer <paramref name="layer"/> (every layer, unless <see cref="SetObserved"/> left it
    /// out: no observed map depends on it). A fused layer counts (its conv or add does its work), the activation inside a
    /// fused mul too, though its own map is not stored (<see cref="MapComputed"/>).</summary>
    public bool Needed(int layer) => _needed[layer] || _fusedAway[layer];

    /// <summary>How each conv layer runs at the current plan (null for other layers; all null when the runner was made
    /// with <see cref="ConvAlgorithm.Direct"/>, the default).</summary>
    public IReadOnlyList<AlgorithmChoice?> Algorithms => _algorithms;

    /// <summary>The shader variant layer <paramref name="layer"/>'s op ran (a direct conv's plan: "winograd F(4x4,3x3): ...",
    /// "conv2d_dense: ..."), or null for an op with one program; "(not run yet)" before the first run.</summary>
    public string? Variant(int layer) => _fusedAway[layer] ? _fusedVariant[layer] : _ops[layer].Variant;

    /// <summary>The layer whose map layer <paramref name="layer"/> writes in its stores (see <see cref="SetObserved"/>): the
    /// activation after it, or the mul of its map and its activation; -1 when nothing is fused into it.</summary>
    public int FusedLayer(int layer) => _fusedInto[layer];

    /// <summary>The name of what layer <paramref name="layer"/> applies in its stores ("relu", "silu" for a mul of its map
    /// and its sigmoid), or null when nothing is fused into it.</summary>
    public string? FusedName(int layer) => _fusedInto[layer] is var j and >= 0 ? _activation[j]!.Name : null;

    /// <summary>Whether layer <paramref name="layer"/> is not run itself because the layer before it does its work: an
    /// activation (or a mul of a map and its activation) whose map that layer's stores write, or the activation inside such
    /// a mul (whose own map is then not computed).</summary>
    public bool FusedAway(int layer) => _fusedAway[layer];
    private AlgorithmChoice?[] _algorithms;
    // The algorithm each layer's op was made for: a re-plan that changes a choice replaces that layer's op only.
    private readonly ConvAlgorithm[] _opAlgorithms;
    private readonly ConvAlgorithm _algorithm;
    private readonly ConvCostModel _model;
    private readonly bool _chose;

    /// <param name="algorithm">Direct (the default): every conv layer runs the direct shaders. Auto (the window's and
    /// `features`'): each conv layer by the algorithm <see cref="ConvAlgorithms.ChooseLayer"/> picks for its input at
    /// the planned size under <paramref name="model"/> (llvmpipe's by default): FFT for big kernels on big maps,
    /// separable for a depthwise layer of one rank-1 kernel. Fft / Separable: that for every conv layer (separable
    /// refused, naming the layer, where it does not apply). The choice is made when the stack is planned for an input
    /// size (here, and again on a new size or a toggle that changes a layer's input), never per frame; every algorithm
    /// computes the same maps.</param>
    public GpuStackRunner(GlContext context, Stack stack, int height, int width, IReadOnlyList<bool>? enabled = null,
                          ConvAlgorithm algorithm = ConvAlgorithm.Direct, ConvCostModel? model = null)
    {
        _context = context;
        Stack = stack;
        _algorithm = algorithm;
        _model = model ?? ConvCostModel.Llvmpipe;
        _chose = algorithm != ConvAlgorithm.Direct;
        // With preprocessing the plan is the model's size (the source's size is the preprocessing's business).
        if (stack.Preprocess is { } preprocess) (height, width) = (preprocess.Height, preprocess.Width);
        Plan = StackPlan.Create(stack, height, width, enabled);
        _enabled = Plan.Enabled.ToArray();
        _ops = new IGpuStackOp[stack.Layers.Count];
        _outputs = new GpuTensor[stack.Layers.Count];
        _opAlgorithms = new ConvAlgorithm[stack.Layers.Count];
        // Every choice first: one refused (separable asked of a mixing layer) throws before any GPU object exists.
        _algorithms = Choose(Plan);
        for (int i = 0; i < _ops.Length; i++)
        {
            StackLayer layer = stack.Layers[i];
            _opAlgorithms[i] = _algorithms[i]?.Algorithm ?? ConvAlgorithm.Direct;
            _ops[i] = GpuStackOps.Create(context, layer, i, _opAlgorithms[i]);
            _outputs[i] = new GpuTensor(context, label: $"stack {stack.Name} layer {i} {layer.Type}");
        }
        // One reusable array per layer for the tensors it reads: a frame allocates nothing.
        _reads = stack.Layers.Select((l, i) => l.InputsOf(i).ToArray()).ToArray();
        _inputBuffers = _reads.Select(r => new GpuTensor[r.Length]).ToArray();
        (_fusableAfter, _gate) = FusableAfter(stack, _reads);
        _activation = stack.Layers.Select((l, j) => l is ActivationLayer a && FusedActivation.Supports(a.Kind) ? new FusedActivation(a.Kind, a.Slope, a.Min, a.Max, a.Beta)
            : _gate[j] >= 0 && stack.Layers[_gate[j]] is ActivationLayer g ? new FusedActivation(g.Kind, g.Slope, g.Min, g.Max, g.Beta, Gated: true) : null).ToArray();
        _fusedVariant = new string?[_ops.Length];
        for (int i = 0; i < _ops.Length; i++)
            if (_fusableAfter[i] is var j and >= 0)
            {
                _fusedVariant[j] = $"fused: computed by layer {i}'s stores";
                if (_gate[j] is var g and >= 0) _fusedVariant[g] = $"fused: layer {i}'s stores compute the mul (layer {j}) of its map and this";
            }
        _fusedInto = Enumerable.Repeat(-1, _ops.Length).ToArray();
        _fusedAway = new bool[_ops.Length];
        _needed = Enumerable.Repeat(true, _ops.Length).ToArray();
        _input = new GpuTensor(context, label: $"stack {stack.Name} input");
        if (stack.Preprocess is { } pre)
        {
            _preprocess = new Onnx.GpuImagePreprocess(context, pre);
            _prepared = new GpuTensor(context, pre.Channels, pre.Height, pre.Width, $"stack {stack.Name} preprocessed input");
        }
        _source = _input;
        Allocate();
    }

    /// <summary>Each conv layer's algorithm for its input under <paramref name="plan"/> (null everywhere for Direct);
    /// throws, naming the layer, when the requested algorithm does not apply.</summary>
    private AlgorithmChoice?[] Choose(StackPlan plan)
    {
        var choices = new AlgorithmChoice?[Stack.Layers.Count];
        for (int i = 0; i < choices.Length && _chose; i++)
            if (Stack.Layers[i] is ConvLayer conv)
            {
                MapShape x = plan.InputOf(i);
                choices[i] = ConvAlgorithms.ChooseLayer(x.C, x.H, x.W, conv.Weight, conv.Bias, conv.Options, _model, _algorithm, $"layers[{i}] (conv)",
                    GpuFftConv2D.BufferTexels(_context));
            }
        return choices;
    }

    /// <summary>Makes <paramref name="plan"/> current with its choices (made first: a refused one leaves the runner
    /// as it was), replacing the op of every layer whose algorithm changed, then sizes the tensors.</summary>
    private void Commit(StackPlan plan, bool[] enabled)
    {
        AlgorithmChoice?[] choices = Choose(plan);
        var before = (Plan, _enabled, _algorithms);
        MatchOps(choices);
        (Plan, _enabled, _algorithms) = (plan, enabled, choices);
        try
        {
            Allocate();
        }
        catch (GpuLimitException)
        {
            // Maps past a driver limit: back to the plan that fit (its maps fit before), so the runner stays usable.
            (Plan, _enabled, _algorithms) = before;
            MatchOps(_algorithms);
            Allocate();
            throw;
        }
        ApplyObserved();
    }

    // Each layer's op made for the algorithm chosen for it (kept where it already is).
    private void MatchOps(AlgorithmChoice?[] choices)
    {
        for (int i = 0; i < _ops.Length; i++)
        {
            ConvAlgorithm a = choices[i]?.Algorithm ?? ConvAlgorithm.Direct;
            if (a == _opAlgorithms[i]) continue;
            IGpuStackOp op = GpuStackOps.Create(_context, Stack.Layers[i], i, a);
            _ops[i].Dispose();
            (_ops[i], _opAlgorithms[i]) = (op, a);
        }
    }

    /// <summary>Per layer i, the layer j that may be fused into it: j is an activation whose only input is i, and no other
    /// layer reads i (a residual branch, a disabled layer passing i on); or j is a mul of i and an activation g whose only
    /// input is i (in either order), and no other layer reads i or g (gate[j] = g); else -1.</summary>
    private static (int[] After, int[] Gate) FusableAfter(Stack stack, int[][] reads)
    {
        var after = Enumerable.Repeat(-1, reads.Length).ToArray();
        var gate = Enumerable.Repeat(-1, reads.Length).ToArray();
        var readers = new int[reads.Length];
        foreach (int[] r in reads)
            foreach (int from in r.Distinct())
                if (from >= 0) readers[from]++;
        bool ActivationOf(int g, int i) => g >= 0 && stack.Layers[g] is ActivationLayer a && FusedActivation.Supports(a.Kind) && reads[g] is [int from] && from == i;
        for (int j = 0; j < reads.Length; j++)
            if (stack.Layers[j] is ActivationLayer a && FusedActivation.Supports(a.Kind) && reads[j] is [int i] && i >= 0 && readers[i] == 1)
                after[i] = j;
            else if (stack.Layers[j] is MulLayer && reads[j] is [int x, int y] && x != y)
                foreach ((int map, int g) in new[] { (x, y), (y, x) })
                    if (map >= 0 && ActivationOf(g, map) && readers[map] == 2 && readers[g] == 1)
                        (after[map], gate[j]) = (j, g);
        return (after, gate);
    }

    /// <summary>Names the maps that will be read after a run (per layer; a disabled layer stands for the map it passes on),
    /// or null for every map (the default: every layer runs, nothing fused). Runs then compute only the layers the named maps
    /// depend on, and every activation that may be fused into the conv or add before it is, where that layer's own map is not
    /// named: one pass over the map fewer. Cheap when nothing changes; the window calls it every frame with the maps its
    /// views read.</summary>
    public void SetObserved(IReadOnlyList<bool>? observed)
    {
        if (observed is not null && observed.Count != _ops.Length)
            throw new ArgumentException($"observed has {observed.Count} entries, the stack {_ops.Length} layers");
        if (observed is null) _observed = null;
        else
        {
            _observed ??= new bool[_ops.Length];
            Array.Clear(_observed);
            for (int i = 0; i < _ops.Length; i++)
                if (observed[i]) _observed[Resolve(i) is var from and >= 0 ? from : i] = true;
        }
        ApplyObserved();
    }

    /// <summary>Whether the tensor <see cref="Output"/>(<paramref name="layer"/>) returns holds that map after a run: false
    /// for a layer no observed map needs, or one whose activation was fused into it (see <see cref="SetObserved"/>).</summary>
    public bool MapComputed(int layer) => Resolve(layer) is not (var from and >= 0) || (_needed[from] && _fusedInto[from] < 0);

    // The layer whose tensor holds layer i's map (disabled layers pass their first input on), -1 for the stack input.
    private int Resolve(int layer)
    {
        while (layer >= 0 && !_enabled[layer]) layer = _reads[layer][0];
        return layer;
    }

    private void ApplyObserved()
    {
        // The layers the observed maps depend on: each observed map's layer, then (latest first, so every reader of a layer
        // is decided before it) the layers a needed layer reads.
        if (_observed is null) Array.Fill(_needed, true);
        else
        {
            Array.Clear(_needed);
            for (int i = 0; i < _ops.Length; i++)
                if (_observed[i] && Resolve(i) is var m and >= 0) _needed[m] = true;
            for (int j = _ops.Length - 1; j >= 0; j--)
                if (_needed[j])
                    foreach (int read in _reads[j])
                        if (Resolve(read) is var m and >= 0) _needed[m] = true;
        }
        for (int i = 0; i < _ops.Length; i++)
        {
            int j = _fusableAfter[i], g = j >= 0 ? _gate[j] : -1;
            bool fuse = _observed is not null && j >= 0 && _enabled[i] && _enabled[j] && _needed[j] && !_observed[i] && _ops[i].CanFuse
                && (g < 0 || (_enabled[g] && !_observed[g]));
            if (_fusedInto[i] >= 0)
            {
                _fusedAway[_fusedInto[i]] = false;
                if (_gate[_fusedInto[i]] is var was and >= 0) _fusedAway[was] = false;
            }
            _fusedInto[i] = fuse ? j : -1;
            if (fuse)
            {
                _fusedAway[j] = true;
                // The mul's activation is part of i's stores: its own map is not computed.
                if (g >= 0) (_fusedAway[g], _needed[g]) = (true, false);
            }
            if (_ops[i].CanFuse) _ops[i].Fuse(fuse ? _activation[j] : null);
        }
    }

    /// <summary>Sizes the input and every output tensor to the plan (a no-op for tensors already that shape).</summary>
    private void Allocate()
    {
        // With preprocessing the source keeps its own size (ImageToTensor or an upload sets it).
        if (_preprocess is null) _input.Resize(Plan.Input.C, Plan.Input.H, Plan.Input.W);
        for (int i = 0; i < _outputs.Length; i++)
        {
            MapShape s = Plan.Outputs[i];
            if (_enabled[i]) _outputs[i].Resize(s.C, s.H, s.W);
        }
    }

    /// <summary>Re-plans for a new input size (for example when the window's source changes); with preprocessing the
    /// source's size does not matter: the plan is the model's size.</summary>
    public void Resize(int height, int width)
    {
        if (_preprocess is not null) (height, width) = (_preprocess.Preprocess.Height, _preprocess.Preprocess.Width);
        Replan(height, width);
    }

    private void Replan(int height, int width)
    {
        if (height == Plan.Input.H && width == Plan.Input.W) return;
        Commit(StackPlan.Create(Stack, height, width, _enabled), _enabled);
    }

    /// <summary>Enables or disables one layer; false (and the reason) when the resulting stack would not plan.</summary>
    public bool TrySetEnabled(int layer, bool enabled, out string? error, int layerBase = 0)
    {
        if ((uint)layer >= (uint)_enabled.Length) throw new ArgumentOutOfRangeException(nameof(layer), $"the stack has {_enabled.Length} layers");
        error = null;
        if (_enabled[layer] == enabled) return true;
        bool[] next = (bool[])_enabled.Clone();
        next[layer] = enabled;
        if (!StackPlan.TryCreate(Stack, Plan.Input.H, Plan.Input.W, next, out StackPlan? plan, out error, layerBase)) return false;
        try
        {
            Commit(plan!, next);
        }
        catch (Exception e) when (e is ConvGLException or GpuLimitException)
        {
            // A requested algorithm (fft, separable) that the layer's new input cannot take, or maps that grow past a
            // driver limit (a pool switched off on a large source): refused like a bad plan.
            error = e.Message;
            return false;
        }
        return true;
    }

    /// <summary>Like <see cref="TrySetEnabled"/>, throwing a <see cref="ConvGLException"/> with the reason.</summary>
    public void SetEnabled(int layer, bool enabled)
    {
        if (!TrySetEnabled(layer, enabled, out string? error)) throw new ConvGLException(error!);
    }

    /// <summary>The tensor holding the map after layer i: for a disabled layer, its (first) input's tensor (for the
    /// stack input, the tensor the last run started from).</summary>
    public GpuTensor Output(int layer)
    {
        layer = Resolve(layer);
        if (layer >= 0 && !_needed[layer])
            throw new InvalidOperationException($"layer {layer}'s map is not computed: no observed map needs it (SetObserved)");
        if (layer >= 0 && _fusedInto[layer] >= 0)
            throw new InvalidOperationException($"layer {layer}'s own map is not computed: the activation after it (layer {_fusedInto[layer]}) is fused into its stores (SetObserved)");
        return layer < 0 ? _source : _outputs[layer];
    }

    /// <summary>Runs every enabled layer on <see cref="Input"/> (preprocessed first when the stack has preprocessing).</summary>
    public void Run() => RunSource(_input);

    /// <summary>The model's input of the last run: <see cref="Input"/>, or its preprocessed copy.</summary>
    public GpuTensor StackInput => _source;

    private void RunSource(GpuTensor source)
    {
        if (_preprocess is null)
        {
            RunFrom(source);
            return;
        }
        Resize(0, 0);
        _preprocess.Run(source, _prepared!);
        RunFrom(_prepared!);
    }

    /// <summary>Runs every enabled layer on a tensor the caller owns (for example the window's source converted
    /// by ImageToTensor), re-planning first if its size differs from the plan's. It must have the stack's
    /// input channel count and stay alive while <see cref="Output"/> may return it.</summary>
    public void Run(GpuTensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.C != Plan.Input.C)
            throw new ConvGLException($"stack '{Stack.Name}' takes {Plan.Input.C} input channel(s), the tensor has {input.C}");
        Resize(input.H, input.W);
        RunSource(input);
    }

    private void RunFrom(GpuTensor source)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _source = source;
        for (int i = 0; i < _ops.Length; i++)
        {
            if (!_enabled[i] || _fusedAway[i] || !_needed[i]) continue;
            // A layer with its activation fused writes the activation's map.
            GpuTensor output = _outputs[_fusedInto[i] >= 0 ? _fusedInto[i] : i];
            int[] reads = _reads[i];
            GpuTensor[] inputs = _inputBuffers[i];
            for (int k = 0; k < inputs.Length; k++) inputs[k] = Output(reads[k]);
            GpuTimer? timer = null;
            if (TimeLayers)
            {
                _timers ??= new GpuTimer?[_ops.Length];
                timer = _timers[i] ??= new GpuTimer(_context, label: $"stack {Stack.Name} layer {i}");
                timer.Begin();
            }
            try
            {
                _ops[i].Run(inputs, output);
            }
            finally
            {
                // A query left open by a failing layer would make every later Begin a GL error.
                timer?.End();
            }
            AfterLayer?.Invoke(i);
            if (LayerFinished is not null)
            {
                _context.Gl.Finish();
                LayerFinished(i);
            }
        }
    }

    /// <summary>Uploads an image (converted with <see cref="Stack.PrepareInput"/>; never preprocessed: pass the model's
    /// input), runs, and reads every layer back: the same result shape as the CPU
    /// <see cref="StackRunner.Run(Stack, Tensor, IReadOnlyList{bool}?)"/>. For tests and `convgl features`. Turns fusion
    /// off (every map is read back: <see cref="SetObserved"/>(null)).</summary>
    public StackResult Run(Tensor image)
    {
        SetObserved(null);
        Tensor input = RunPrepared(image);
        var outputs = new Tensor[_outputs.Length];
        for (int i = 0; i < outputs.Length; i++)
        {
            int from = Stack.Layers[i].InputsOf(i)[0];
            outputs[i] = _enabled[i] ? _outputs[i].Download() : from < 0 ? input : outputs[from];
        }
        return new StackResult(Plan, input, outputs, _chose ? _algorithms : null);
    }

    /// <summary>Uploads an image (converted with <see cref="Stack.PrepareInput"/>, never preprocessed) and runs under the
    /// current fusion (<see cref="SetObserved"/>), reading nothing back: <see cref="Output"/> has the maps. Returns the
    /// converted input.</summary>
    public Tensor RunPrepared(Tensor image)
    {
        Tensor input = Stack.PrepareInput(image);
        Replan(input.H, input.W);
        _input.Upload(input);
        RunFrom(_input);
        return input;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (IGpuStackOp op in _ops) op.Dispose();
        foreach (GpuTensor t in _outputs) t.Dispose();
        foreach (GpuTimer? t in _timers ?? []) t?.Dispose();
        _input.Dispose();
        _prepared?.Dispose();
        _preprocess?.Dispose();
    }
}
