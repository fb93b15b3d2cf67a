namespace ConvGL.Core.Stacks;

/// <summary>A feature map's shape (C, H, W).</summary>
public readonly record struct MapShape(int C, int H, int W)
{
    public int Length => C * H * W;
    /// <summary>C * H * W without overflow.</summary>
    public long Values => (long)C * H * W;
    public int[] ToArray() => [C, H, W];
    public override string ToString() => $"({C}, {H}, {W})";
}

/// <summary>The shape of every layer's output for one input size and one set of enabled layers, computed before
/// anything runs: the window lays out its views from it and the GPU runner allocates its tensors from it.
///
/// Toggling rule: a disabled layer is the identity (its output is its input). A set of enabled flags is valid
/// when the stack still plans with those layers as identities: every later layer must get the channel count it
/// was built for (so a conv that changes the channel count, or a magnitude, can only be disabled when nothing
/// after it depends on its count), and every size must stay at least 1. Activations, and pools followed only by
/// layers that accept any size, can always be toggled. <see cref="TryCreate"/> says why a set is refused.</summary>
public sealed class StackPlan
{
    public Stack Stack { get; }
    public MapShape Input { get; }
    /// <summary>Output shape after layer i (equal to its input when the layer is disabled).</summary>
    public IReadOnlyList<MapShape> Outputs { get; }
    public IReadOnlyList<bool> Enabled { get; }

    private StackPlan(Stack stack, MapShape input, MapShape[] outputs, bool[] enabled)
    {
        Stack = stack;
        Input = input;
        Outputs = outputs;
        Enabled = enabled;
    }

    /// <summary>The (first) input shape of layer i: the map it reads, by default the previous layer's.</summary>
    public MapShape InputOf(int layer)
    {
        int from = Stack.Layers[layer].InputsOf(layer)[0];
        return from < 0 ? Input : Outputs[from];
    }

    public MapShape Output => Outputs[^1];

    /// <summary>Plans the stack for a (height, width) input; throws a <see cref="ConvGLException"/> naming the
    /// stack file, the layer and the field when a layer does not fit, a <see cref="MapsTooLargeException"/> when the
    /// maps at this size pass ConvGL's limits.</summary>
    public static StackPlan Create(Stack stack, int height, int width, IReadOnlyList<bool>? enabled = null) =>
        TryPlan(stack, height, width, enabled, out StackPlan? plan, out string? error, out bool tooLarge) ? plan!
            : throw (tooLarge ? new MapsTooLargeException(error!, error!) : new ConvGLException(error!));

    /// <summary><see cref="Create"/> without the exception: the error, or null. <paramref name="layerBase"/>: the number
    /// the error gives layer 0 (0, a stack file's array index; 1 in the window, whose HUD counts layers from 1).</summary>
    public static bool TryCreate(Stack stack, int height, int width, IReadOnlyList<bool>? enabled, out StackPlan? plan, out string? error,
                                 int layerBase = 0) =>
        TryPlan(stack, height, width, enabled, out plan, out error, out _, layerBase);

    /// <summary><see cref="TryCreate"/>, also saying
    /// whether the refusal is a size limit (<paramref name="tooLarge"/>: a smaller input fixes it).</summary>
    internal static bool TryPlan(Stack stack, int height, int width, IReadOnlyList<bool>? enabled, out StackPlan? plan, out string? error,
                                 out bool tooLarge, int layerBase = 0)
    {
        tooLarge = false;
        ArgumentNullException.ThrowIfNull(stack);
        plan = null;
        // The file where errors count layers as it does (layers[i]); the stack by name where they count as the window's
        // HUD (layer i+1): a path before "layer 2" read as the file's index.
        string where = layerBase == 0 ? stack.SourcePath ?? $"stack '{stack.Name}'" : $"stack '{stack.Name}'";
        int n = stack.Layers.Count;
        if (enabled is not null && enabled.Count != n)
        {
            error = $"{where}: {enabled.Count} enabled flags given for {n} layers";
            return false;
        }
        if (height < 1 || width < 1)
        {
            error = $"{where}: input size {width}x{height} must be at least 1x1";
            return false;
        }
        bool[] on = enabled?.ToArray() ?? Enumerable.Repeat(true, n).ToArray();
        var input = new MapShape(stack.InputChannels, height, width);
        if (TooLarge(input))
        {
            tooLarge = true;
            error = $"{where}: the input {input} has {input.Values} values, over the limit of {Limits.StackMapValues} values a layer's output (all its maps together) may have; use a smaller size";
            return false;
        }
        long total = input.Values;
        var outputs = new MapShape[n];
        for (int i = 0; i < n; i++)
        {
            StackLayer layer = stack.Layers[i];
            // A layer reads the maps it names (graph stacks), by default the previous one.
            MapShape[] ins = layer.InputsOf(i).Select(j => j < 0 ? input : outputs[j]).ToArray();
            if (!on[i])
            {
                outputs[i] = ins[0];
                continue;
            }
            MapShape current;
            string? channelError;
            try
            {
                current = layer.OutputShape(ins, out channelError);
            }
            catch (ConvGLException e)
            {
                error = $"{where}: {Name(stack, i, layerBase)} ({layer.Type}) field '{layer.SizeFieldFor(ins)}': does not fit its {ins[0].W}x{ins[0].H} input " +
                        $"(stack input {width}x{height}): {e.Message}";
                return false;
            }
            if (channelError is not null)
            {
                // A stack file's layer names the field whose value does not fit the maps it gets (a linear layer's
                // weight, a flatten's values); not where layers before it are off (turning them back on is the fix), in
                // an imported model (no fields) or in the window (its HUD counts layers).
                string disabled = Disabled(stack, on, i, layerBase);
                string field = disabled.Length == 0 && layerBase == 0 && !stack.FromOnnx ? $" field '{layer.ChannelFieldFor(ins)}'" : "";
                error = $"{where}: {Name(stack, i, layerBase)} ({layer.Type}){field}{disabled}: {channelError}";
                return false;
            }
            // Work past a layer's limit (an attention's grows as the square of its positions): a smaller input is the fix, as
            // for maps too large (the window then offers one; a search over sizes axis by axis would not find it).
            if (layer.TooMuchWork(ins, $"{where}: {Name(stack, i, layerBase)} ({layer.Type})") is { } work)
            {
                tooLarge = true;
                error = $"{work} (stack input {width}x{height})";
                return false;
            }
            if (TooLarge(current))
            {
                tooLarge = true;
                error = $"{where}: {Name(stack, i, layerBase)} ({layer.Type}): its output {current} has {current.Values} values, over the limit of " +
                        $"{Limits.StackMapValues} values a layer's output (all its maps together) may have (stack input {width}x{height}); use a smaller size";
                return false;
            }
            total += current.Values;
            if (total > Limits.StackPlanValues)
            {
                tooLarge = true;
                error = $"{where}: {Name(stack, i, layerBase)} ({layer.Type}): the maps up to this layer hold {total} values together, over the limit of " +
                        $"{Limits.StackPlanValues} for a whole stack (stack input {width}x{height}); use a smaller size";
                return false;
            }
            outputs[i] = current;
        }
        plan = new StackPlan(stack, input, outputs, on);
        error = null;
        return true;
    }

    /// <summary>A map holds at most <see cref="Limits.StackMapValues"/> values (well inside the int indexing of tensors
    /// and shaders), and all the maps of a plan together at most <see cref="Limits.StackPlanValues"/>: both are
    /// checked here, before the runners allocate anything, so a stack too big for the input size is one error line.</summary>
    private static bool TooLarge(MapShape s) => s.Values > Limits.StackMapValues;

    private static string Disabled(Stack stack, bool[] on, int upTo, int layerBase)
    {
        string[] off = Enumerable.Range(0, upTo).Where(i => !on[i]).Select(i => Name(stack, i, layerBase)).ToArray();
        return off.Length == 0 ? "" : $" (with {string.Join(", ", off)} disabled)";
    }

    // Layer i as the error names it: "layers[i]", the stack file's array index (as its "inputs" count), or, where the
    // window counts layers from 1 (layerBase 1), "layer i+1" as its HUD does. An imported model's layers are its nodes:
    // "node 'fc'" (the file has no layers[]), in the window "layer 3 'fc'".
    private static string Name(Stack stack, int i, int layerBase)
    {
        string? node = stack.FromOnnx && stack.Layers[i].Label is { Length: > 0 } label ? ErrorText.Echo(label) : null;
        return layerBase == 0 ? node is null ? $"layers[{i}]" : $"node '{node}'" : $"layer {i + layerBase}{(node is null ? "" : $" '{node}'")}";
    }
}

/// <summary>A stack's maps at one input size pass ConvGL's limits (<see cref="Limits.StackMapValues"/>,
/// <see cref="Limits.StackPlanValues"/>): the fix is a smaller input, which the window offers as --source-max.
/// <see cref="Reason"/> is the plan's own words, without the hints a caller added to the message.</summary>
public sealed class MapsTooLargeException(string message, string reason) : ConvGLException(message)
{
    public string Reason { get; } = reason;
}
