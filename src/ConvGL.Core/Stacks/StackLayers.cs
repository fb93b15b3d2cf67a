using ConvGL.Core.Ops;

namespace ConvGL.Core.Stacks;

/// <summary>One layer of a feature-extraction stack: its file-level description (what <see cref="StackWriter"/>
/// writes back) and everything resolved at load time (weights), so running it needs nothing else.
/// A layer knows its channel rule and its spatial size rule, and has a CPU reference <see cref="Forward(Tensor)"/>.</summary>
public abstract class StackLayer
{
    /// <summary>The layer's <c>"type"</c> in the stack file, also the <c>NN-&lt;type&gt;</c> of feature dumps.</summary>
    public abstract string Type { get; }

    /// <summary>An optional label (the layer's <c>"name"</c> field), shown by the window.</summary>
    public string? Label { get; internal set; }

    /// <summary>The maps this layer reads, by layer index (-1 for the stack's input), in order; null means the
    /// previous layer (the stack input for layer 0), which is every layer of a plain chain. A residual network
    /// names them: an <see cref="AddLayer"/> reads two.</summary>
    public IReadOnlyList<int>? Inputs { get; internal set; }

    /// <summary>How many maps the layer reads.</summary>
    public virtual int InputCount => 1;

    /// <summary>The indices of the maps layer <paramref name="index"/> reads (-1 = the stack input).</summary>
    public IReadOnlyList<int> InputsOf(int index) => Inputs ?? [index - 1];

    /// <summary>Output channels for several inputs (multi-input layers override; others read the first).</summary>
    public virtual int OutputChannels(IReadOnlyList<int> inputChannels, out string? error) => OutputChannels(inputChannels[0], out error);

    /// <summary>The channel rule of the element-wise two-input layers (<see cref="AddLayer"/>, <see cref="MulLayer"/>):
    /// exactly two inputs with one channel count, which the output keeps. Their size rules differ (mul also takes a
    /// 1x1 gate), so only this part is shared; the message names the layer by its <see cref="Type"/>.</summary>
    private protected int TwoEqualChannelCounts(IReadOnlyList<int> inputChannels, out string? error)
    {
        error = inputChannels.Count == 2 && inputChannels[0] == inputChannels[1] ? null
            : $"{Type} needs two inputs of equal channel counts, got {string.Join(" and ", inputChannels)}";
        return inputChannels[0];
    }

    /// <summary>The channel rule of the broadcasting two-map layers (<see cref="MulLayer"/>, <see cref="ElementwiseLayer"/>):
    /// one channel count, or one of them 1 (one map for every channel of the other: a spatial gate); the output has the
    /// larger.</summary>
    private protected int BroadcastChannels(IReadOnlyList<int> inputChannels, out string? error)
    {
        error = inputChannels.Count == 2 && (inputChannels[0] == inputChannels[1] || inputChannels[0] == 1 || inputChannels[1] == 1) ? null
            : $"{Type} needs two inputs of one channel count, or one of them a single channel, got {string.Join(" and ", inputChannels)}";
        return inputChannels.Count == 2 ? Math.Max(inputChannels[0], inputChannels[1]) : inputChannels[0];
    }

    /// <summary>The size rule of the broadcasting two-map layers: one size, or one of them 1x1 (one value per channel,
    /// or with a single channel one value for the whole map); the output has the larger.</summary>
    private protected (int H, int W) BroadcastSize(IReadOnlyList<(int H, int W)> inputSizes)
    {
        if (inputSizes.Count == 2 && (inputSizes[0] == inputSizes[1] || inputSizes[1] == (1, 1))) return inputSizes[0];
        if (inputSizes.Count == 2 && inputSizes[0] == (1, 1)) return inputSizes[1];
        throw new ConvGLException($"{Type} needs two inputs of one size, or one of them 1x1 (one value per channel), got {string.Join(" and ", inputSizes.Select(s => $"{s.W}x{s.H}"))}");
    }

    /// <summary>Throws the broadcasting rules' messages for two tensors (a direct <see cref="Forward(IReadOnlyList{Tensor})"/>).</summary>
    private protected void CheckBroadcast(IReadOnlyList<Tensor> inputs)
    {
        if (inputs.Count != 2) throw new ConvGLException($"{Type} takes two inputs, got {inputs.Count}");
        BroadcastChannels([inputs[0].C, inputs[1].C], out string? error);
        if (error is not null) throw new ConvGLException(error);
        BroadcastSize([(inputs[0].H, inputs[0].W), (inputs[1].H, inputs[1].W)]);
    }

    /// <summary>Output size for several inputs (multi-input layers override and check they agree).</summary>
    public virtual (int H, int W) OutputSize(IReadOnlyList<(int H, int W)> inputSizes) => OutputSize(inputSizes[0].H, inputSizes[0].W);

    /// <summary>The output shape for the input shapes: channels by <see cref="OutputChannels(IReadOnlyList{int}, out string?)"/>,
    /// size by <see cref="OutputSize(IReadOnlyList{ValueTuple{int, int}})"/> (which throws when empty); flatten and linear
    /// override it since their channels depend on the input size. A non-null error says why the channels do not fit.</summary>
    public virtual MapShape OutputShape(IReadOnlyList<MapShape> inputs, out string? error)
    {
        int c = OutputChannels(inputs.Select(s => s.C).ToArray(), out error);
        if (error is not null) return default;
        (int h, int w) = OutputSize(inputs.Select(s => (s.H, s.W)).ToArray());
        return new MapShape(c, h, w);
    }

    /// <summary>Why this layer's work on inputs of these shapes is past ConvGL's limit (the plan then takes the input as too
    /// large, as for maps past the size limits), or null; <paramref name="name"/> starts the message. Only a layer whose
    /// work grows faster than its maps (attention, a pool's window) overrides it.</summary>
    internal virtual string? TooMuchWork(IReadOnlyList<MapShape> inputs, string name) => null;

    /// <summary>The CPU reference for several inputs (multi-input layers override; others take the first).</summary>
    public virtual Tensor Forward(IReadOnlyList<Tensor> inputs) => Forward(inputs[0]);

    /// <summary>Output channels for <paramref name="inputChannels"/> input channels, or a message saying why that
    /// count does not fit (null message on success).
    ///
    /// The default passes the count through unchecked, because that is what about half the layers do (activations,
    /// pooling, padding, resizing, element-wise maths); written out in each of them it hid the layers whose
    /// rule differs. A layer that changes the count, or needs a particular one, overrides it.</summary>
    public virtual int OutputChannels(int inputChannels, out string? error)
    {
        error = null;
        return inputChannels;
    }

    /// <summary>Output (H, W) for an input (H, W); throws <see cref="ConvGLException"/> when it would be empty.
    ///
    /// The default keeps the size, as every element-wise or per-pixel layer does (so it never throws); like
    /// <see cref="OutputChannels(int, out string?)"/> it is a default so that only the layers with a window, a
    /// stride, padding or a resize have to say anything.</summary>
    public virtual (int H, int W) OutputSize(int h, int w) => (h, w);

    /// <summary>The CPU reference: the definition the GPU runner is tested against.</summary>
    public abstract Tensor Forward(Tensor input);

    /// <summary>Throws the channel rule's own message when <paramref name="inputChannels"/> does not fit: for the
    /// <see cref="Forward(Tensor)"/> of layers whose rule can fail, so a direct call stops with the message the plan
    /// would give rather than somewhere inside the op.</summary>
    private protected void CheckChannels(int inputChannels)
    {
        OutputChannels(inputChannels, out string? error);
        if (error is not null) throw new ConvGLException(error);
    }

    /// <summary>The field a size error is about, for messages ("size" for a pool, "padding" for a conv).</summary>
    internal abstract string SizeField { get; }

    /// <summary>The field to blame when the layer does not fit inputs of these shapes: <see cref="SizeField"/>, unless the
    /// shapes say which of several fields it is (a transposed conv's map too large or too small).</summary>
    internal virtual string SizeFieldFor(IReadOnlyList<MapShape> inputs) => SizeField;

    /// <summary>The field to blame when the layer's channels do not fit inputs of these shapes in a plan (a stack file
    /// checks channel counts when it loads; what only a size can refuse is a linear layer's weight or a flatten's values):
    /// <see cref="SizeFieldFor"/> unless the layer overrides it.</summary>
    internal virtual string ChannelFieldFor(IReadOnlyList<MapShape> inputs) => SizeFieldFor(inputs);
}

/// <summary>A 2D convolution with PyTorch Conv2d layout. Learned: <see cref="WeightName"/> / <see cref="BiasName"/>
/// name tensors of the stack's safetensors file (or .npy paths). Fixed: <see cref="Kernels"/> name library kernels,
/// turned into a weight at load time for the known input channel count:
///
/// - depthwise (default): each of the k kernels is applied to each of the C_in channels alone, giving C_in*k maps
///   in PyTorch's depth-multiplier order, output channel c*k + j = kernel j on input channel c (weight
///   (C_in*k, 1, kH, kW), groups C_in). With the bank [sobel-x, sobel-y] the maps alternate x, y per channel,
///   which is what <see cref="MagnitudeLayer"/> pairs up.
/// - <c>"sum": true</c>: each kernel is applied to every input channel and the results summed, giving k maps
///   (weight (k, C_in, kH, kW), groups 1).
///
/// Kernels of different sizes in one bank are zero-padded around their centre to the largest size (so odd
/// sizes stay centred; an even difference is required), which leaves each kernel's response unchanged.</summary>
public sealed class ConvLayer : StackLayer
{
    public override string Type => "conv";

    public ConvOptions Options { get; }
    /// <summary>(C_out, C_in / groups, kH, kW).</summary>
    public Tensor Weight { get; }
    /// <summary>(C_out) or null.</summary>
    public float[]? Bias { get; }

    public string? WeightName { get; }
    public string? BiasName { get; }
    public IReadOnlyList<string>? Kernels { get; }
    public bool Sum { get; }

    public bool IsFixed => Kernels is not null;
    /// <summary>Imported from an ONNX model: <see cref="Forward(Tensor)"/> uses <see cref="DirectConv2D"/> (float32
    /// accumulation, like ONNX Runtime) so a ResNet runs in seconds on the CPU; file stacks keep the reference loop.</summary>
    public bool Imported { get; private init; }
    public int InputChannels => Weight.Shape[1] * Options.Groups;
    public int OutputChannelCount => Weight.Shape[0];

    private ConvLayer(ConvOptions options, Tensor weight, float[]? bias, string? weightName, string? biasName, IReadOnlyList<string>? kernels, bool sum)
    {
        if (weight.Rank != 4) throw new ArgumentException($"conv weight must be (C_out, C_in/groups, kH, kW), got {weight.ShapeString}");
        if (options.Groups < 1 || weight.Shape[0] % options.Groups != 0)
            throw new ArgumentException($"groups {options.Groups} must divide C_out {weight.Shape[0]}");
        if (bias is not null && bias.Length != weight.Shape[0])
            throw new ArgumentException($"bias has {bias.Length} entries, C_out is {weight.Shape[0]}");
        Options = options;
        Weight = weight;
        Bias = bias;
        WeightName = weightName;
        BiasName = biasName;
        Kernels = kernels;
        Sum = sum;
    }

    /// <summary>A learned conv whose tensors a stack file names (<c>"weight": weightName</c>).</summary>
    public static ConvLayer Learned(Tensor weight, float[]? bias, ConvOptions options, string weightName, string? biasName = null)
    {
        if (bias is not null && biasName is null) throw new ArgumentException("a bias needs a name to be written to a stack file");
        return new(options, weight, bias, weightName, biasName, null, false);
    }

    /// <summary>A conv imported from an ONNX model (zero border, correlate; asymmetric padding through
    /// <see cref="ConvOptions.PadBottom"/> / <see cref="ConvOptions.PadRight"/>).</summary>
    public static ConvLayer FromOnnx(Tensor weight, float[]? bias, ConvOptions options, string weightName, string? biasName) =>
        new(options, weight, bias, weightName, bias is null ? null : biasName ?? weightName + ".bias", null, false) { Imported = true };

    /// <summary>This layer with other options (the window's live keys: mode, border, stride, dilation), its groups kept:
    /// the same weights, bias, names, bank, label and inputs, so a bank keeps its kernels' names and a graph layer
    /// the maps it reads.</summary>
    public ConvLayer WithOptions(ConvOptions options) =>
        new(options with { Groups = Options.Groups }, Weight, Bias, WeightName, BiasName, Kernels, Sum) { Imported = Imported, Label = Label, Inputs = Inputs };

    /// <summary>A fixed conv from a bank of (kH, kW) kernels applied to <paramref name="inputChannels"/> channels
    /// (see the class summary for the channel order).</summary>
    public static ConvLayer Fixed(IReadOnlyList<string> names, IReadOnlyList<Tensor> kernels, int inputChannels, bool sum, ConvOptions options)
    {
        if (names.Count != kernels.Count || kernels.Count == 0) throw new ArgumentException("one name per kernel, at least one kernel");
        if (options.Groups != 1) throw new ArgumentException("a fixed conv sets its own groups");
        Tensor[] bank = PadToCommonSize(kernels, names);
        int k = bank.Length, kh = bank[0].H, kw = bank[0].W, plane = kh * kw;
        Tensor weight;
        if (sum)
        {
            weight = new Tensor([k, inputChannels, kh, kw]);
            for (int j = 0; j < k; j++)
                for (int c = 0; c < inputChannels; c++)
                    bank[j].Data.CopyTo(weight.Data, (j * inputChannels + c) * plane);
        }
        else
        {
            weight = new Tensor([inputChannels * k, 1, kh, kw]);
            for (int c = 0; c < inputChannels; c++)
                for (int j = 0; j < k; j++)
                    bank[j].Data.CopyTo(weight.Data, (c * k + j) * plane);
            options = options with { Groups = inputChannels };
        }
        return new(options, weight, null, null, null, names.ToArray(), sum);
    }

    private static Tensor[] PadToCommonSize(IReadOnlyList<Tensor> kernels, IReadOnlyList<string> names)
    {
        int kh = kernels.Max(t => t.H), kw = kernels.Max(t => t.W);
        var bank = new Tensor[kernels.Count];
        for (int j = 0; j < kernels.Count; j++)
        {
            Tensor t = kernels[j];
            if (t.Rank != 2) throw new ConvGLException($"kernel '{names[j]}' must be 2D, got {t.ShapeString}");
            if ((kh - t.H) % 2 != 0 || (kw - t.W) % 2 != 0)
                throw new ConvGLException($"kernel '{names[j]}' is {t.H}x{t.W} but the bank's largest is {kh}x{kw}: sizes in one bank must differ by an even amount so they can be centred");
            var padded = new Tensor([kh, kw]);
            int oy = (kh - t.H) / 2, ox = (kw - t.W) / 2;
            for (int y = 0; y < t.H; y++)
                for (int x = 0; x < t.W; x++)
                    padded[y + oy, x + ox] = t[y, x];
            bank[j] = padded;
        }
        return bank;
    }

    public override int OutputChannels(int inputChannels, out string? error)
    {
        error = inputChannels == InputChannels ? null
            : IsFixed
                ? $"the kernel bank was built for {InputChannels} input channels, this layer gets {inputChannels}"
                : $"weight {Weight.ShapeString} with groups {Options.Groups} expects {InputChannels} input channels, its input has {inputChannels}";
        return Weight.Shape[0];
    }

    public override (int H, int W) OutputSize(int h, int w)
    {
        ConvGeometry g = ConvGeometry.Compute(h, w, Weight.Shape[2], Weight.Shape[3], Options);
        return (g.Y.Output, g.X.Output);
    }

    /// <summary>The reference <see cref="Conv2D.Apply"/>, split over output channels across cores when the layer is
    /// big enough to be worth it. Each slice is itself a <see cref="Conv2D.Apply"/> on whole groups (or, with one
    /// group, on a range of output channels), so every output value comes from the same loop in the same order:
    /// the result is bit-identical to one call.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, minParallelWork: 2_000_000);

    /// <summary><see cref="Forward(Tensor)"/> with the multiply-add count from which it splits (tests pass 0).</summary>
    internal Tensor Forward(Tensor input, long minParallelWork)
    {
        if (Imported && DirectConv2D.Supports(Options)) return DirectConv2D.Apply(input, Weight, Bias, Options);
        Conv2D.CheckShapes(input, Weight, Bias, Options);
        (int h, int w) = OutputSize(input.H, input.W);
        int cout = Weight.Shape[0], groups = Options.Groups;
        long work = (long)cout * h * w * Weight.Shape[1] * Weight.Shape[2] * Weight.Shape[3];
        // Units that can run alone: whole groups, or single output channels when there is one group.
        int units = groups > 1 ? groups : cout;
        int slices = Math.Min(units, Environment.ProcessorCount);
        if (work < minParallelWork || slices < 2) return Conv2D.Apply(input, Weight, Bias, Options);

        int coutPerUnit = groups > 1 ? cout / groups : 1, cinPerGroup = Weight.Shape[1];
        int plane = h * w, weightPerOut = Weight.Length / cout, inPlane = input.H * input.W;
        var output = Tensor.Chw(cout, h, w);
        Parallel.For(0, slices, s =>
        {
            int u0 = (int)((long)units * s / slices), u1 = (int)((long)units * (s + 1) / slices);
            int o0 = u0 * coutPerUnit, o1 = u1 * coutPerUnit;
            var part = new Tensor([o1 - o0, .. Weight.Shape[1..]], Weight.Data.AsSpan(o0 * weightPerOut, (o1 - o0) * weightPerOut).ToArray());
            float[]? bias = Bias?.AsSpan(o0, o1 - o0).ToArray();
            Tensor slice;
            if (groups > 1)
            {
                int c0 = u0 * cinPerGroup, c1 = u1 * cinPerGroup;
                Tensor inputSlice = Tensor.Chw(c1 - c0, input.H, input.W, input.Data.AsSpan(c0 * inPlane, (c1 - c0) * inPlane).ToArray());
                slice = Conv2D.Apply(inputSlice, part, bias, Options with { Groups = u1 - u0 });
            }
            else
            {
                slice = Conv2D.Apply(input, part, bias, Options);
            }
            slice.Data.CopyTo(output.Data, o0 * plane);
        });
        return output;
    }

    internal override string SizeField => "padding";
}

/// <summary>An element-wise activation: relu, leaky_relu (with <see cref="Slope"/>), tanh, sigmoid, abs.</summary>
public sealed class ActivationLayer(ActivationKind kind, float slope = Activation.DefaultLeakySlope) : StackLayer
{
    public ActivationKind Kind { get; } = kind;
    /// <summary>Leaky ReLU's negative slope (PyTorch's negative_slope); unused by the others.</summary>
    public float Slope { get; } = slope;
    /// <summary>Clip's bounds (ReLU6: 0 and 6); infinite means unbounded on that side. Unused by the others.</summary>
    public float Min { get; init; } = float.NegativeInfinity;
    public float Max { get; init; } = float.PositiveInfinity;
    /// <summary>Selu's gamma, hard_sigmoid's beta (<see cref="Slope"/> is their alpha, and elu's).</summary>
    public float Beta { get; init; }

    public override string Type => Kind.Name();

    public override Tensor Forward(Tensor input) => Activation.Apply(input, Kind, Slope, Min, Max, Beta);

    internal override string SizeField => "type";
}

/// <summary>Max or average pooling with PyTorch semantics (see <see cref="PoolOptions"/>).</summary>
public sealed class PoolLayer(PoolOptions options) : StackLayer
{
    public PoolOptions Options { get; } = options;

    public override string Type => TypeName(Options.Kind);

    /// <summary>The stack-file type of a pooling kind, shared with <see cref="PaddedPoolLayer"/>: both are written as
    /// "maxpool" / "avgpool" and told apart by their fields, so the two must not drift apart.</summary>
    internal static string TypeName(PoolKind kind) => kind == PoolKind.Max ? "maxpool" : "avgpool";

    public override (int H, int W) OutputSize(int h, int w)
    {
        ConvGeometry g = Pool2D.Geometry(h, w, Options);
        return (g.Y.Output, g.X.Output);
    }

    public override Tensor Forward(Tensor input) => Pool2D.Apply(input, Options);

    internal override string? TooMuchWork(IReadOnlyList<MapShape> inputs, string name) =>
        Pool2D.TooMuchWork(name, inputs[0].C, Pool2D.Geometry(inputs[0].H, inputs[0].W, Options), Options.SizeY, Options.SizeX);

    internal override string SizeField => "size";
}

/// <summary>Gradient magnitude of channel pairs: out[i] = sqrt(in[2i]^2 + in[2i+1]^2), C/2 maps (the op and its
/// float32 semantics: <see cref="Magnitude"/>). After a depthwise [x-kernel, y-kernel] bank this is the edge strength
/// of each input channel.</summary>
public sealed class MagnitudeLayer : StackLayer
{
    public override string Type => "magnitude";

    public override int OutputChannels(int inputChannels, out string? error)
    {
        error = inputChannels % 2 == 0 ? null
            : $"magnitude pairs channels (2i, 2i+1) but gets {inputChannels} {(inputChannels == 1 ? "channel" : "channels")}, an odd count";
        return inputChannels / 2;
    }

    public override Tensor Forward(Tensor input) => Magnitude.Apply(input);

    internal override string SizeField => "type";
}
