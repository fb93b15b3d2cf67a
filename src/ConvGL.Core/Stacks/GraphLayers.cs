using ConvGL.Core.Ops;

namespace ConvGL.Core.Stacks;

/// <summary>Element-wise sum of two maps of the same shape (a residual connection): <c>"type": "add"</c> with
/// <c>"inputs": [a, b]</c>.</summary>
public sealed class AddLayer : StackLayer
{
    public override string Type => "add";
    public override int InputCount => 2;

    public override int OutputChannels(IReadOnlyList<int> inputChannels, out string? error) => TwoEqualChannelCounts(inputChannels, out error);

    public override (int H, int W) OutputSize(IReadOnlyList<(int H, int W)> inputSizes)
    {
        if (inputSizes.Count != 2 || inputSizes[0] != inputSizes[1])
            throw new ConvGLException($"add needs two inputs of equal size, got {string.Join(" and ", inputSizes.Select(s => $"{s.W}x{s.H}"))}");
        return inputSizes[0];
    }

    public override Tensor Forward(Tensor input) => throw new InvalidOperationException("add takes two inputs");

    public override Tensor Forward(IReadOnlyList<Tensor> inputs)
    {
        if (inputs.Count != 2 || !inputs[0].SameShape(inputs[1]))
            throw new ConvGLException($"add needs two inputs of equal shape, got {string.Join(" and ", inputs.Select(t => t.ShapeString))}");
        return Elementwise.Add(inputs[0], inputs[1]);
    }

    internal override string SizeField => "inputs";
}

/// <summary>Inference batch normalisation as a per-channel affine map (see <see cref="BatchNorm"/>):
/// <c>"type": "batchnorm"</c> with <c>"scale"</c> and <c>"shift"</c> tensors. An imported BatchNormalization right after a conv is folded into that conv instead.</summary>
public sealed class BatchNormLayer(BatchNorm parameters) : StackLayer
{
    public BatchNorm Parameters { get; } = parameters;
    /// <summary>The tensor names a stack file gives the scale and shift (null: made up from the label when written).</summary>
    public string? ScaleName { get; init; }
    public string? ShiftName { get; init; }

    public override string Type => "batchnorm";

    public override int OutputChannels(int inputChannels, out string? error)
    {
        error = inputChannels == Parameters.Channels ? null : $"batchnorm has statistics for {Parameters.Channels} channels, its input has {inputChannels}";
        return inputChannels;
    }

    public override Tensor Forward(Tensor input) => Parameters.Apply(input);

    internal override string SizeField => "type";
}

/// <summary>Max or average pooling with ONNX's options (per-side pads, dilation, ceil_mode, count_include_pad; see
/// <see cref="PaddedPoolOptions"/>): the <c>"maxpool"</c> / <c>"avgpool"</c> types with any of those fields.</summary>
public sealed class PaddedPoolLayer(PaddedPoolOptions options) : StackLayer
{
    public PaddedPoolOptions Options { get; } = options;

    public override string Type => PoolLayer.TypeName(Options.Kind);

    public override (int H, int W) OutputSize(int h, int w)
    {
        ConvGeometry g = PaddedPool2D.Geometry(h, w, Options);
        return (g.Y.Output, g.X.Output);
    }

    public override Tensor Forward(Tensor input) => PaddedPool2D.Apply(input, Options);

    internal override string? TooMuchWork(IReadOnlyList<MapShape> inputs, string name) =>
        Pool2D.TooMuchWork(name, inputs[0].C, PaddedPool2D.Geometry(inputs[0].H, inputs[0].W, Options), Options.SizeY, Options.SizeX);

    internal override string SizeField => "size";
}

/// <summary>The mean of each map: (C, H, W) -> (C, 1, 1), <c>"type": "globalavgpool"</c>.</summary>
public sealed class GlobalAvgPoolLayer : StackLayer
{
    public override string Type => "globalavgpool";

    public override (int H, int W) OutputSize(int h, int w) => (1, 1);

    public override Tensor Forward(Tensor input) => GlobalAveragePool.Apply(input);

    internal override string SizeField => "type";
}

/// <summary>(C, H, W) -> (C*H*W, 1, 1), the values in the same order: <c>"type": "flatten"</c>, before a linear layer.</summary>
public sealed class FlattenLayer : StackLayer
{
    public override string Type => "flatten";

    /// <summary>The values the flattened map must hold (<c>"values": K</c>: an imported Reshape to (1, K) or (-1, K), which
    /// ONNX defines only where K is the map's C*H*W; (-1, K) of a larger map is K-value rows, not one flatten), or null:
    /// whatever the map holds.</summary>
    public long? Values { get; init; }

    /// <summary>Read the map pixel by pixel, each pixel's channels together, (H, W, C) order (<c>"order": "hwc"</c>): a Keras
    /// model's Flatten, which tf2onnx writes as a Reshape of the channels-last value; its Dense weights expect that order.
    /// False: (C, H, W) order, PyTorch's.</summary>
    public bool ChannelsLast { get; init; }

    /// <summary>Channels after flattening depend on the input's size too, so this has them; the channel-only rule
    /// (<see cref="StackLayer.OutputChannels(int, out string?)"/>, inherited) passes the count through unchecked.</summary>
    public override MapShape OutputShape(IReadOnlyList<MapShape> inputs, out string? error)
    {
        error = Values is { } k && k != inputs[0].Values
            ? $"flattens to {k} values (\"values\": its model's Reshape to (1, {k})), but its input {inputs[0]} holds {inputs[0].Values}: give the model an input of the size it was exported for"
            : null;
        return new MapShape((int)Math.Min(int.MaxValue, inputs[0].Values), 1, 1);
    }

    public override (int H, int W) OutputSize(int h, int w) => (1, 1);

    public override Tensor Forward(Tensor input) =>
        ChannelsLast ? Indexing.Transpose(input, [1, 2, 0]).Reshape(input.Length, 1, 1) : input.Reshape(input.Length, 1, 1).Clone();

    /// <summary>Where output value <paramref name="o"/> comes from in the (C, H, W) input (the probe's source).</summary>
    public (int C, int Y, int X) Source(int o, int c, int h, int w) => ChannelsLast
        ? (o % c, o / c / w, o / c % w)
        : (o / (h * w), o % (h * w) / w, o % w);

    internal override string SizeField => "type";

    /// <summary>Only "values" can refuse the input's size.</summary>
    internal override string ChannelFieldFor(IReadOnlyList<MapShape> inputs) => "values";
}

/// <summary>A fully connected layer, PyTorch Linear: y = W x + b with weight (out, in), on the flattened input
/// (C*H*W values), giving (out, 1, 1): <c>"type": "linear"</c>.</summary>
public sealed class LinearLayer : StackLayer
{
    public override string Type => "linear";
    public Tensor Weight { get; }
    public float[]? Bias { get; }
    public string WeightName { get; }
    public string? BiasName { get; }

    public LinearLayer(Tensor weight, float[]? bias, string weightName, string? biasName)
    {
        if (weight.Rank != 2) throw new ConvGLException($"linear weight must be (out, in), got {weight.ShapeString}");
        if (bias is not null && bias.Length != weight.Shape[0]) throw new ConvGLException($"linear bias has {bias.Length} entries, the weight {weight.Shape[0]} outputs");
        Weight = weight;
        Bias = bias;
        WeightName = weightName;
        BiasName = bias is null ? null : biasName ?? weightName + ".bias";
    }

    public int In => Weight.Shape[1];
    public int Out => Weight.Shape[0];

    /// <summary>The input's channel count alone cannot be checked (H and W count too); the plan checks C*H*W against <see cref="In"/>.</summary>
    public override int OutputChannels(int inputChannels, out string? error)
    {
        error = null;
        return Out;
    }

    public override (int H, int W) OutputSize(int h, int w) => (1, 1);

    public override MapShape OutputShape(IReadOnlyList<MapShape> inputs, out string? error)
    {
        // Sizes in words: an imported Gemm holds its weight as (in, out) or (out, in) by transB, a stack file as (out, in).
        error = inputs[0].Values == In ? null
            : $"takes {In} values (a linear layer of {In} inputs and {Out} outputs), its input {inputs[0]} has {inputs[0].Values}: " +
              $"use an input of the size its weight was made for{(inputs[0].Values <= int.MaxValue ? $", or a weight of ({Out}, {inputs[0].Values})" : "")}";
        return new MapShape(Out, 1, 1);
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Length != In) throw new ConvGLException($"linear takes {In} values, its input {input.ShapeString} has {input.Length}");
        Tensor y = Ops.Gemm.Apply(input.Reshape(1, In), Weight, Bias is null ? null : new Tensor([Out], Bias), transB: true);
        return y.Reshape(Out, 1, 1);
    }

    internal override string SizeField => "weight";
}

/// <summary>Maps of one size joined along the channels (ONNX Concat on axis 1, torch.cat(dim=1)): the first input's
/// channels, then the second's, ...: <c>"type": "concat"</c> with <c>"inputs"</c> naming two or more maps.</summary>
public sealed class ConcatLayer : StackLayer
{
    public ConcatLayer(int inputs)
    {
        if (inputs < 2) throw new ConvGLException($"concat joins two or more maps, got {inputs}");
        InputCount = inputs;
    }

    public override string Type => "concat";
    public override int InputCount { get; }

    public override int OutputChannels(int inputChannels, out string? error)
    {
        error = null;
        return inputChannels * InputCount;
    }

    public override int OutputChannels(IReadOnlyList<int> inputChannels, out string? error)
    {
        long sum = inputChannels.Sum(c => (long)c);
        error = sum > Limits.StackChannels ? $"concat gives {sum} channels, more than {Limits.StackChannels}" : null;
        return (int)Math.Min(sum, int.MaxValue);
    }

    public override (int H, int W) OutputSize(IReadOnlyList<(int H, int W)> inputSizes)
    {
        if (inputSizes.Distinct().Count() != 1)
            throw new ConvGLException($"concat needs inputs of one size, got {string.Join(", ", inputSizes.Select(s => $"{s.W}x{s.H}"))}");
        return inputSizes[0];
    }

    public override Tensor Forward(Tensor input) => throw new InvalidOperationException("concat takes several inputs");

    public override Tensor Forward(IReadOnlyList<Tensor> inputs)
    {
        OutputSize(inputs.Select(t => (t.H, t.W)).ToArray());
        return Ops.Concat.Apply(inputs, 0);
    }

    internal override string SizeField => "inputs";
}

/// <summary>Padding (or cropping) of every channel (see <see cref="Pad2D"/>): <c>"type": "pad"</c> with
/// <c>"padding"</c> N, [y, x] or [top, left, bottom, right] (negative crops), <c>"border"</c> (zero, replicate,
/// reflect, symmetric, wrap; default zero) and <c>"value"</c> (the zero border's fill, default 0); or, reading two maps
/// (<c>"inputs": [x, like]</c>) and without <c>"padding"</c>, to the second map's size (<see cref="ToSecondInput"/>).</summary>
public sealed class PadLayer(PadOptions options, bool toSecondInput = false) : StackLayer
{
    /// <summary>The pads (for <see cref="ToSecondInput"/>, the border and fill only: see <see cref="For"/>).</summary>
    public PadOptions Options { get; } = options;

    /// <summary>Reads two maps and pads (or crops) the first to the second's size, half of the difference before and the
    /// rest after (top = floor(d / 2)): UNet's F.pad(x, [dX // 2, dX - dX // 2, dY // 2, dY - dY // 2]) to its skip.</summary>
    public bool ToSecondInput { get; } = toSecondInput;

    public override int InputCount => ToSecondInput ? 2 : 1;

    public override string Type => "pad";

    /// <summary>The pads that take an <paramref name="h"/> x <paramref name="w"/> map to <paramref name="toH"/> x <paramref name="toW"/>
    /// (<see cref="ToSecondInput"/>), or <see cref="Options"/>.</summary>
    public PadOptions For(int h, int w, int toH, int toW)
    {
        if (!ToSecondInput) return Options;
        int dy = toH - h, dx = toW - w, top = (int)Math.Floor(dy / 2.0), left = (int)Math.Floor(dx / 2.0);
        return Options with { Top = top, Bottom = dy - top, Left = left, Right = dx - left };
    }

    public override (int H, int W) OutputSize(IReadOnlyList<(int H, int W)> inputSizes) =>
        ToSecondInput ? Pad2D.OutputSize(inputSizes[0].H, inputSizes[0].W, For(inputSizes[0].H, inputSizes[0].W, inputSizes[1].H, inputSizes[1].W))
            : OutputSize(inputSizes[0].H, inputSizes[0].W);

    public override (int H, int W) OutputSize(int h, int w) => Pad2D.OutputSize(h, w, Options);

    public override Tensor Forward(IReadOnlyList<Tensor> inputs) =>
        ToSecondInput ? Pad2D.Apply(inputs[0], For(inputs[0].H, inputs[0].W, inputs[1].H, inputs[1].W)) : Forward(inputs[0]);

    public override Tensor Forward(Tensor input) => ToSecondInput
        ? throw new ConvGLException("this pad takes its size from a second map; run it with both")
        : Pad2D.Apply(input, Options);

    internal override string SizeField => ToSecondInput ? "inputs" : "padding";
}

/// <summary>PReLU with a learned slope per channel (or one for all): x where x &gt;= 0, slope[c] * x where x &lt; 0
/// (<see cref="Elementwise.PRelu"/>; PyTorch's nn.PReLU): <c>"type": "prelu"</c> with <c>"slope"</c>, a number or an
/// array of one number per channel.</summary>
public sealed class PReluLayer : StackLayer
{
    public PReluLayer(float[] slopes)
    {
        if (slopes.Length == 0) throw new ConvGLException("prelu needs at least one slope");
        Slopes = slopes;
    }

    public float[] Slopes { get; }

    public override string Type => "prelu";

    public override int OutputChannels(int inputChannels, out string? error)
    {
        error = Slopes.Length is 1 || Slopes.Length == inputChannels ? null
            : $"prelu has {Slopes.Length} slopes; its input has {inputChannels} channels (give one slope, or one per channel)";
        return inputChannels;
    }

    /// <summary>The slopes as a tensor that broadcasts over a (C, H, W) map: (C, 1, 1), or (1) for a shared one.</summary>
    public Tensor SlopeTensor => Slopes.Length == 1 ? new Tensor([1], Slopes) : Tensor.Chw(Slopes.Length, 1, 1, Slopes);

    public override Tensor Forward(Tensor input) => Elementwise.PRelu(input, SlopeTensor);

    internal override string SizeField => "slope";
}

/// <summary>Softmax (or log-softmax) over the channels at every pixel (see <see cref="Softmax"/>): a classifier head's
/// probabilities after a linear layer's (K, 1, 1), or per-pixel class scores of a segmentation net:
/// <c>"type": "softmax"</c> or <c>"log_softmax"</c>.</summary>
public sealed class SoftmaxLayer(bool log) : StackLayer
{
    public bool Log { get; } = log;

    public override string Type => Log ? "log_softmax" : "softmax";

    public override Tensor Forward(Tensor input) => Softmax.Apply(input, 1, input.C, input.H * input.W, Log);

    internal override string SizeField => "type";
}

/// <summary>Element-wise product of two maps (<c>"type": "mul"</c> with <c>"inputs": [a, b]</c>): of one shape (SiLU as
/// x * sigmoid(x)), or one of them broadcast (<see cref="StackLayer.BroadcastSize"/>): (C, 1, 1) scales each channel of
/// the other (a squeeze-and-excitation gate), (1, H, W) each pixel of every channel (CBAM's spatial attention).</summary>
public sealed class MulLayer : StackLayer
{
    public override string Type => "mul";
    public override int InputCount => 2;

    public override int OutputChannels(IReadOnlyList<int> inputChannels, out string? error) => BroadcastChannels(inputChannels, out error);

    public override (int H, int W) OutputSize(IReadOnlyList<(int H, int W)> inputSizes) => BroadcastSize(inputSizes);

    public override Tensor Forward(Tensor input) => throw new InvalidOperationException("mul takes two inputs");

    public override Tensor Forward(IReadOnlyList<Tensor> inputs)
    {
        CheckBroadcast(inputs);
        return Elementwise.Mul(inputs[0], inputs[1]);
    }

    internal override string SizeField => "inputs";
}

/// <summary>Element-wise math on two maps (<see cref="Elementwise.Apply"/>), <c>"inputs": [a, b]</c>: <c>"type": "sub"</c>
/// (a - b: a difference of Gaussians, a map less its mean), <c>"div"</c> (a / b, IEEE: x / 0 is an infinity, 0 / 0
/// NaN), <c>"max"</c> and <c>"min"</c> (a NaN on either side wins, as NumPy's maximum) or <c>"pow"</c> (C's pow: a
/// negative base takes whole exponents only). Two maps of one shape, or one of them broadcast as
/// <see cref="StackLayer.BroadcastSize"/> says; ONNX Sub, Div, Pow, Max and Min of two maps. Or one map and a number,
/// <c>"value"</c> (<see cref="Value"/>: x^2, max(x, 0.5); ONNX Pow, Max and Min by a stored single value).</summary>
public sealed class ElementwiseLayer : StackLayer
{
    public ElementwiseLayer(BinaryKind kind, float? value = null)
    {
        if (kind is not (BinaryKind.Sub or BinaryKind.Div or BinaryKind.Max or BinaryKind.Min or BinaryKind.Pow))
            throw new ArgumentException($"sub, div, max, min or pow, not {kind}", nameof(kind));
        Kind = kind;
        Value = value;
    }

    public BinaryKind Kind { get; }

    /// <summary>The second operand as a number (one input: x OP value), or null for two maps.</summary>
    public float? Value { get; }

    /// <summary>The stack file's type of each kind this layer takes.</summary>
    public static string TypeOf(BinaryKind kind) => kind switch
    {
        BinaryKind.Sub => "sub", BinaryKind.Div => "div", BinaryKind.Max => "max", BinaryKind.Min => "min", BinaryKind.Pow => "pow",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public override string Type => TypeOf(Kind);
    public override int InputCount => Value is null ? 2 : 1;

    public override int OutputChannels(IReadOnlyList<int> inputChannels, out string? error) =>
        Value is null ? BroadcastChannels(inputChannels, out error) : OutputChannels(inputChannels[0], out error);

    public override (int H, int W) OutputSize(IReadOnlyList<(int H, int W)> inputSizes) => Value is null ? BroadcastSize(inputSizes) : inputSizes[0];

    public override Tensor Forward(Tensor input) => Value is { } v ? Elementwise.Apply(Kind, input, new Tensor([1], [v]))
        : throw new InvalidOperationException($"{Type} takes two inputs");

    public override Tensor Forward(IReadOnlyList<Tensor> inputs)
    {
        if (Value is not null) return Forward(inputs[0]);
        CheckBroadcast(inputs);
        return Elementwise.Apply(Kind, inputs[0], inputs[1]);
    }

    internal override string SizeField => "inputs";
}

/// <summary>Each pixel's values over the channels reduced to one (<see cref="Reduce.Apply"/> over axis 0): (C, H, W) ->
/// (1, H, W), <c>"type": "reduce_channels"</c> with <c>"op"</c> mean, max, min or sum (PyTorch's x.mean(1, keepdim=True),
/// x.amax(1, keepdim=True); CBAM's spatial attention pools the channels so; ONNX ReduceMean / ReduceMax / ReduceMin /
/// ReduceSum over axis 1). A NaN among a pixel's values is its max and min; mean and sum are computed in double.</summary>
public sealed class ChannelReduceLayer : StackLayer
{
    public ChannelReduceLayer(ReduceKind kind)
    {
        if (kind is not (ReduceKind.Mean or ReduceKind.Max or ReduceKind.Min or ReduceKind.Sum))
            throw new ArgumentException($"mean, max, min or sum, not {kind}", nameof(kind));
        Kind = kind;
    }

    public ReduceKind Kind { get; }

    /// <summary>The stack file's <c>"op"</c>: mean, max, min or sum.</summary>
    public string Op => Kind.ToString().ToLowerInvariant();

    public override string Type => "reduce_channels";

    public override int OutputChannels(int inputChannels, out string? error)
    {
        error = null;
        return 1;
    }

    public override Tensor Forward(Tensor input) => Reduce.Apply(input, Kind, [0], keepDims: true);

    internal override string SizeField => "op";
}

/// <summary>Dot-product attention over the positions (<see cref="Attention.Apply"/>): <c>"type": "attention"</c> with
/// <c>"inputs": [q, k, v]</c>, optional <c>"heads"</c> (default 1: the channels split into that many equal groups, each
/// attending on its own) and <c>"scale"</c> (default 1 / sqrt(channels of q a head), as PyTorch's
/// scaled_dot_product_attention). The output has v's channels at q's size; every position's weights over the key positions
/// sum to 1. The self-attention block of SAGAN, non-local networks, diffusion UNets and BoTNet (q, k, v 1x1 convs of one
/// map); ONNX exports of them (Reshape, Transpose, MatMul, Softmax, MatMul, Reshape, into heads or not) import as one such
/// layer.</summary>
public sealed class AttentionLayer(float? scale = null, int heads = 1) : StackLayer
{
    /// <summary>The stack file's scale, or null for the default 1 / sqrt(channels of q a head).</summary>
    public float? Scale { get; } = scale;

    /// <summary>The heads: q's, k's and v's channels split into this many equal groups, each one attention.</summary>
    public int Heads { get; } = heads >= 1 ? heads : throw new ConvGLException($"attention: heads {heads}; give 1 or more");

    /// <summary>Whether the heads split q's and v's channels into equal shares.</summary>
    public bool HeadsFit(int queryChannels, int valueChannels) => queryChannels % Heads == 0 && valueChannels % Heads == 0;

    /// <summary>"heads 1 or 3 would": the head counts that divide both channel counts.</summary>
    internal static string HeadsThatFit(int queryChannels, int valueChannels)
    {
        int[] fit = Enumerable.Range(1, Math.Max(1, Math.Min(queryChannels, valueChannels))).Where(h => queryChannels % h == 0 && valueChannels % h == 0).ToArray();
        return fit.Length == 1 ? "only 1 head would" : $"heads {string.Join(", ", fit[..^1])} or {fit[^1]} would";
    }

    /// <summary>The factor applied to the dot products for a query of <paramref name="queryChannels"/> channels (all heads).</summary>
    public float ScaleFor(int queryChannels) => Scale ?? (float)(1 / Math.Sqrt(Math.Max(1, queryChannels / Heads)));

    public override string Type => "attention";
    public override int InputCount => 3;

    public override int OutputChannels(IReadOnlyList<int> inputChannels, out string? error)
    {
        error = inputChannels.Count != 3 ? $"attention reads three maps (\"inputs\": [q, k, v]), got {inputChannels.Count}"
            : inputChannels[0] != inputChannels[1] ? $"attention: the query has {inputChannels[0]} channels and the keys {inputChannels[1]}; q and k need one channel count (their dot product runs over it)"
            : !HeadsFit(inputChannels[0], inputChannels[2]) ? $"attention: {Heads} heads do not divide the query's {inputChannels[0]} and the values' {inputChannels[2]} channels; each head takes an equal share of both ({HeadsThatFit(inputChannels[0], inputChannels[2])})"
            : null;
        return inputChannels[^1];
    }

    public override MapShape OutputShape(IReadOnlyList<MapShape> inputs, out string? error)
    {
        int c = OutputChannels(inputs.Select(s => s.C).ToArray(), out error);
        if (error is not null) return default;
        Attention.CheckMatch("attention", (inputs[0].C, inputs[0].H, inputs[0].W), (inputs[1].C, inputs[1].H, inputs[1].W), (inputs[2].C, inputs[2].H, inputs[2].W), Heads);
        return new MapShape(c, inputs[0].H, inputs[0].W);
    }

    public override (int H, int W) OutputSize(IReadOnlyList<(int H, int W)> inputSizes)
    {
        if (inputSizes.Count == 3 && inputSizes[1] != inputSizes[2])
            throw new ConvGLException($"attention: the keys are {inputSizes[1].W}x{inputSizes[1].H} and the values {inputSizes[2].W}x{inputSizes[2].H}; k and v need one size (one value per key position)");
        return inputSizes[0];
    }

    internal override string? TooMuchWork(IReadOnlyList<MapShape> inputs, string name) =>
        Attention.TooMuchWork(name, (inputs[0].C, inputs[0].H, inputs[0].W), (inputs[1].C, inputs[1].H, inputs[1].W), (inputs[2].C, inputs[2].H, inputs[2].W));

    public override Tensor Forward(Tensor input) => throw new InvalidOperationException("attention takes three inputs");

    public override Tensor Forward(IReadOnlyList<Tensor> inputs)
    {
        if (inputs.Count != 3) throw new ConvGLException($"attention takes three inputs (q, k, v), got {inputs.Count}");
        return Attention.Apply(inputs[0], inputs[1], inputs[2], ScaleFor(inputs[0].C), Heads);
    }

    internal override string SizeField => "inputs";
}

/// <summary>A transposed convolution (<see cref="ConvTranspose2D"/>; PyTorch ConvTranspose2d, ONNX ConvTranspose):
/// <c>"type": "conv_transpose"</c> with <c>weight</c> (C_in, C_out / groups, kH, kW) and optional <c>bias</c> (tensor
/// names or .npy paths, as a learned conv's), <c>stride</c>, <c>dilation</c> (N or [y, x]), <c>padding</c> (N, [y, x]
/// or [top, left, bottom, right]), <c>output_padding</c> (N or [y, x]) and <c>groups</c>. The upsampling layer of
/// decoders and generators.</summary>
public sealed class ConvTransposeLayer : StackLayer
{
    public ConvTransposeLayer(Tensor weight, float[]? bias, ConvTransposeOptions options, string weightName, string? biasName)
    {
        if (weight.Rank != 4) throw new ConvGLException($"conv_transpose weight must be (C_in, C_out / groups, kH, kW), got {weight.ShapeString}");
        ConvTranspose2D.CheckOptions(options);
        if (bias is not null && bias.Length != weight.Shape[1] * options.Groups)
            throw new ConvGLException($"conv_transpose bias has {bias.Length} values, the weight {weight.Shape[1] * options.Groups} output channels");
        Weight = weight;
        Bias = bias;
        Options = options;
        WeightName = weightName;
        BiasName = bias is null ? null : biasName ?? weightName + ".bias";
    }

    public Tensor Weight { get; }
    public float[]? Bias { get; }
    public ConvTransposeOptions Options { get; }
    public string WeightName { get; }
    public string? BiasName { get; }

    public override string Type => "conv_transpose";

    public override int OutputChannels(int inputChannels, out string? error)
    {
        try
        {
            error = null;
            return ConvTranspose2D.OutputChannels(inputChannels, Weight.Shape, Options.Groups);
        }
        catch (ConvGLException e)
        {
            error = e.Message;
            return 0;
        }
    }

    public override (int H, int W) OutputSize(int h, int w) => ConvTranspose2D.OutputSize(h, w, Weight.Shape[2], Weight.Shape[3], Options);

    public override Tensor Forward(Tensor input) => ConvTranspose2D.Apply(input, Weight, Bias, Options);

    internal override string SizeField => "padding";

    // The output grows with the stride and the dilation and shrinks with the padding: a map too small is the padding's
    // doing, one too large the stride's (at stride 1 the dilation's) (a hostile-input review's stride 4096 blamed
    // 'padding'; a review of that fix, a stride-2 layer with padding 45 blamed 'stride').
    internal override string SizeFieldFor(IReadOnlyList<MapShape> inputs)
    {
        ConvTransposeOptions o = Options;
        (long h, long w) = ConvTranspose2D.RawOutputSize(inputs[0].H, inputs[0].W, Weight.Shape[2], Weight.Shape[3], o);
        bool tooSmall = h < 1 || w < 1;
        return tooSmall ? "padding" : o.StrideY > 1 || o.StrideX > 1 ? "stride" : o.DilationY > 1 || o.DilationX > 1 ? "dilation" : "padding";
    }
}

/// <summary>A resize of every map (see <see cref="Resize2D"/>; ONNX Resize / Upsample, PyTorch's Upsample and
/// interpolate): <c>"type": "resize"</c> with <c>"scale"</c> (N or [y, x], any positive number) or <c>"size"</c>
/// ([H, W]), <c>"mode"</c> (nearest, linear, cubic with <c>"cubic_a"</c> (-0.75) and <c>"exclude_outside"</c>; default
/// nearest), <c>"coordinates"</c> (half_pixel, pytorch_half_pixel,
/// align_corners, asymmetric, tf_half_pixel_for_nn; default half_pixel) and <c>"rounding"</c> (round_prefer_floor,
/// round_prefer_ceil, floor, ceil; nearest's, default round_prefer_floor); or, reading two maps (<c>"inputs": [x, like]</c>)
/// and without a scale or size, to the second map's size (<see cref="ToSecondInput"/>).</summary>
public sealed class ResizeLayer(ResizeOptions options, bool toSecondInput = false) : StackLayer
{
    /// <summary>The resize (for <see cref="ToSecondInput"/>, everything but the size: see <see cref="For"/>).</summary>
    public ResizeOptions Options { get; } = options;

    /// <summary>Reads two maps and resizes the first to the second's size: F.interpolate(x, size=skip.shape[-2:]) in a
    /// UNet, FPN or DeepLab decoder.</summary>
    public bool ToSecondInput { get; } = toSecondInput;

    public override int InputCount => ToSecondInput ? 2 : 1;

    public override string Type => "resize";

    /// <summary>The options that resize to <paramref name="toH"/> x <paramref name="toW"/> (<see cref="ToSecondInput"/>), or <see cref="Options"/>.</summary>
    public ResizeOptions For(int toH, int toW) => ToSecondInput ? Options with { SizeY = toH, SizeX = toW } : Options;

    public override (int H, int W) OutputSize(IReadOnlyList<(int H, int W)> inputSizes) =>
        ToSecondInput ? inputSizes[1] : OutputSize(inputSizes[0].H, inputSizes[0].W);

    public override (int H, int W) OutputSize(int h, int w) => Resize2D.OutputSize(h, w, Options);

    public override Tensor Forward(IReadOnlyList<Tensor> inputs) => ToSecondInput ? Resize2D.Apply(inputs[0], For(inputs[1].H, inputs[1].W)) : Forward(inputs[0]);

    public override Tensor Forward(Tensor input) => ToSecondInput
        ? throw new ConvGLException("this resize takes its size from a second map; run it with both")
        : Resize2D.Apply(input, Options);

    internal override string SizeField => ToSecondInput ? "inputs" : Options.SizeY > 0 ? "size" : "scale";

    /// <summary>The names the stack file uses (ONNX's).</summary>
    public static string Name(ResizeCoordinates c) => c switch
    {
        ResizeCoordinates.HalfPixel => "half_pixel",
        ResizeCoordinates.PytorchHalfPixel => "pytorch_half_pixel",
        ResizeCoordinates.AlignCorners => "align_corners",
        ResizeCoordinates.Asymmetric => "asymmetric",
        _ => "tf_half_pixel_for_nn",
    };

    public static string Name(ResizeRounding r) => r switch
    {
        ResizeRounding.RoundPreferFloor => "round_prefer_floor",
        ResizeRounding.RoundPreferCeil => "round_prefer_ceil",
        ResizeRounding.Floor => "floor",
        _ => "ceil",
    };
}

/// <summary>Instance normalisation (see <see cref="InstanceNorm"/>; the layer of fast style-transfer nets):
/// <c>"type": "instancenorm"</c> with <c>"scale"</c> and <c>"shift"</c> tensors (one value per channel) and
/// <c>"epsilon"</c> (1e-5).</summary>
public sealed class InstanceNormLayer(InstanceNorm parameters) : StackLayer
{
    public InstanceNorm Parameters { get; } = parameters;
    /// <summary>The tensor names a stack file gives the scale and shift (null: made up from the label when written).</summary>
    public string? ScaleName { get; init; }
    public string? ShiftName { get; init; }

    public override string Type => "instancenorm";

    public override int OutputChannels(int inputChannels, out string? error)
    {
        error = inputChannels == Parameters.Channels ? null : $"instancenorm has parameters for {Parameters.Channels} channels, its input has {inputChannels}";
        return inputChannels;
    }

    public override Tensor Forward(Tensor input) => Parameters.Apply(input);

    internal override string SizeField => "type";
}

/// <summary>Group normalisation (<c>"type": "groupnorm"</c> with <c>"groups"</c>, <c>"scale"</c> and <c>"shift"</c> of one value
/// per channel, <c>"epsilon"</c>): see <see cref="InstanceNorm.ApplyInGroups"/>; ONNX exports of PyTorch's GroupNorm
/// (Reshape to (N, groups, -1), InstanceNormalization, Reshape back) import as it.</summary>
public sealed class GroupNormLayer(InstanceNorm parameters, int groups) : StackLayer
{
    public InstanceNorm Parameters { get; } = parameters;
    public int Groups { get; } = groups >= 1 ? groups : throw new ConvGLException($"groupnorm: groups {groups}; give 1 or more");
    public string? ScaleName { get; init; }
    public string? ShiftName { get; init; }

    public override string Type => "groupnorm";

    public override int OutputChannels(int inputChannels, out string? error)
    {
        error = inputChannels != Parameters.Channels ? $"groupnorm has parameters for {Parameters.Channels} channels, its input has {inputChannels}"
            : inputChannels % Groups != 0 ? $"groupnorm: {Groups} groups do not divide the {inputChannels} channels; each group takes an equal share"
            : null;
        return inputChannels;
    }

    public override Tensor Forward(Tensor input) => Parameters.ApplyInGroups(input, Groups);

    internal override string SizeField => "groups";
}

/// <summary>Channels to pixels (<c>"type": "depth_to_space"</c> with <c>"block"</c> and <c>"mode"</c> crd, PyTorch's
/// PixelShuffle, or dcr, ONNX's default) or pixels to channels (<c>"type": "space_to_depth"</c> with <c>"block"</c>);
/// see <see cref="DepthToSpace"/>: the sub-pixel convolution of super-resolution nets.</summary>
public sealed class DepthToSpaceLayer(int block, bool toSpace, DepthToSpaceMode mode = DepthToSpaceMode.Dcr) : StackLayer
{
    public int Block { get; } = block;
    public bool ToSpace { get; } = toSpace;
    public DepthToSpaceMode Mode { get; } = mode;

    public override string Type => ToSpace ? "depth_to_space" : "space_to_depth";

    public override int OutputChannels(int inputChannels, out string? error)
    {
        long b2 = (long)Block * Block;
        if (ToSpace)
        {
            error = inputChannels % b2 == 0 ? null : $"depth_to_space with block {Block} needs channels divisible by {b2}, got {inputChannels}";
            return (int)(inputChannels / b2);
        }
        error = inputChannels * b2 <= Limits.StackChannels ? null : $"space_to_depth of {inputChannels} channels by {Block} gives more than {Limits.StackChannels}";
        return (int)Math.Min(int.MaxValue, inputChannels * b2);
    }

    public override (int H, int W) OutputSize(int h, int w)
    {
        (_, int oh, int ow) = DepthToSpace.OutputShape(Block * Block, h, w, Block, ToSpace);
        return (oh, ow);
    }

    public override Tensor Forward(Tensor input) => ToSpace ? DepthToSpace.ToSpace(input, Block, Mode) : DepthToSpace.ToDepth(input, Block);

    internal override string SizeField => "block";
}

/// <summary>The maximum of each map: (C, H, W) -> (C, 1, 1), <c>"type": "globalmaxpool"</c> (ONNX GlobalMaxPool,
/// PyTorch's AdaptiveMaxPool2d(1)); a NaN in a map is its maximum.</summary>
public sealed class GlobalMaxPoolLayer : StackLayer
{
    public override string Type => "globalmaxpool";

    public override (int H, int W) OutputSize(int h, int w) => (1, 1);

    public override Tensor Forward(Tensor input) => Reduce.Apply(input, ReduceKind.Max, [1, 2], keepDims: true);

    internal override string SizeField => "type";
}

/// <summary>Where each pixel is: two maps at the input's size, x then y, each running from -1 at the first pixel to 1 at
/// the last (<see cref="Coordinates.Apply"/>; CoordConv's coordinate channels, Liu et al. 2018), <c>"type": "coords"</c>.
/// The input's values are not read, only its size. A convolution is the same at every position (shift the image and its
/// output shifts); a layer that also reads these maps can tell where it is, and attention whose queries and keys hold
/// them can weigh keys by their distance from the query (a position head).</summary>
public sealed class CoordsLayer : StackLayer
{
    public override string Type => "coords";

    public override int OutputChannels(int inputChannels, out string? error)
    {
        error = null;
        return 2;
    }

    public override Tensor Forward(Tensor input) => Coordinates.Apply(input.H, input.W);

    internal override string SizeField => "type";
}

/// <summary>Element-wise math (see <see cref="Unary"/>): <c>"type"</c> neg, exp, log, sqrt, reciprocal, floor, ceil, sign or erf.</summary>
public sealed class UnaryLayer(UnaryKind kind) : StackLayer
{
    public UnaryKind Kind { get; } = kind;

    public override string Type => Kind.Name();

    public override Tensor Forward(Tensor input) => Unary.Apply(input, Kind);

    internal override string SizeField => "type";
}

/// <summary>One axis of a <see cref="SliceLayer"/> as Python writes it, <c>start:end:step</c>: null start or end is
/// open (from the first element, or the last for a negative step; to the end, or past the first for a negative step);
/// negative ones count from the end; out-of-range ones clamp as ONNX Slice does (<see cref="Indexing.ClampSlice"/>), so
/// one range fits every map size. A range is stored normalised (<see cref="Of"/>): bounds that mean "open" for every
/// size up to <see cref="Limits.ImageSide"/> are null, the rest clamped to what a map of that size can tell apart.</summary>
public readonly record struct SliceRange
{
    public int? Start { get; }
    public int? End { get; }
    public int Step { get; }

    private SliceRange(int? start, int? end, int step) => (Start, End, Step) = (start, end, step);

    /// <summary>The range ONNX's (start, end, step) or Python's means on every axis of at most <see cref="Limits.ImageSide"/>
    /// elements; a null bound is open.</summary>
    public static SliceRange Of(long? start, long? end, long step)
    {
        const long s = Limits.ImageSide;
        if (step == 0) throw new ConvGLException("a slice step must not be 0");
        // A step of S or more takes one element on every axis of at most S (and a stack file reads steps up to S).
        step = Math.Clamp(step, -s, s);
        if (step > 0)
        {
            // start <= -S reaches 0 for every n <= S; end >= S reaches n.
            long? a = start is null || start <= -s || start == 0 ? null : Math.Min(start.Value, s);
            long? b = end is null || end >= s ? null : Math.Max(end.Value, -s);
            return new SliceRange((int?)a, (int?)b, (int)step);
        }
        // Negative step: start -1 or >= S - 1 is n - 1 (the last); end <= -S - 1 reaches -1 (past the first).
        long? c = start is null || start >= s - 1 || start == -1 ? null : Math.Max(start.Value, -s);
        long? d = end is null || end <= -s - 1 ? null : Math.Min(end.Value, s);
        return new SliceRange((int?)c, (int?)d, (int)step);
    }

    /// <summary>Every element, in order.</summary>
    public bool IsWhole => Start is null && End is null && Step == 1;

    /// <summary>Which elements of an axis of <paramref name="n"/> it takes.</summary>
    public Indexing.SliceAxis Resolve(int n) => Indexing.ClampSlice(
        Start ?? (Step > 0 ? 0 : long.MaxValue), End ?? (Step > 0 ? long.MaxValue : long.MinValue), Step, n);

    /// <summary>Python's spelling: <c>1::2</c>, <c>::-1</c>, <c>2:-2</c>.</summary>
    public override string ToString() => $"{Start}:{End}" + (Step == 1 ? "" : $":{Step}");
}

/// <summary>A sub-block of a map, as Python's x[:, start:end, rows, cols]: channels <see cref="Start"/> to
/// <see cref="End"/> - 1 (all when <see cref="End"/> is null; ONNX Split and Slice on the channels: torch.chunk, a CSP
/// block's halves), and the <see cref="Rows"/> and <see cref="Cols"/> a <see cref="SliceRange"/> picks (whole when null;
/// a Slice on H or W: YOLOv5's Focus takes x[..., ::2, ::2] and its three neighbours, a crop, a flip by step -1):
/// <c>"type": "slice"</c> with <c>"start"</c> and <c>"end"</c> (end exclusive), <c>"rows"</c>, <c>"cols"</c>
/// ([start, end] or [start, end, step], null for an open end).</summary>
public sealed class SliceLayer : StackLayer
{
    public SliceLayer(int start, int end) : this(start, (int?)end, null, null) { }

    public SliceLayer(int start, int? end, SliceRange? rows, SliceRange? cols)
    {
        if (start < 0 || end <= start) throw new ConvGLException($"slice takes channels start..end-1 with 0 <= start < end, got start {start}, end {end}");
        if (end is null && start == 0 && rows is not { IsWhole: false } && cols is not { IsWhole: false })
            throw new ConvGLException("slice takes a run of channels (start, end), rows or cols; this one takes the whole map");
        (Start, End) = (start, end);
        Rows = rows is { IsWhole: true } ? null : rows;
        Cols = cols is { IsWhole: true } ? null : cols;
    }

    public int Start { get; }
    /// <summary>One past the last channel taken; null: through the last.</summary>
    public int? End { get; }
    public SliceRange? Rows { get; }
    public SliceRange? Cols { get; }

    /// <summary>Whether it takes whole planes (a run of channels): one contiguous copy.</summary>
    public bool ChannelsOnly => Rows is null && Cols is null;

    public override string Type => "slice";

    public override int OutputChannels(int inputChannels, out string? error)
    {
        int end = End ?? inputChannels;
        error = end > inputChannels || Start >= end
            ? $"slice takes channels {Start}..{(End is null ? "the last" : end - 1)}; its input has {inputChannels}" : null;
        return end - Start;
    }

    public override (int H, int W) OutputSize(int h, int w)
    {
        int oh = Rows?.Resolve(h).Count ?? h, ow = Cols?.Resolve(w).Count ?? w;
        if (oh == 0) throw new ConvGLException($"slice rows [{Rows}] of a map {h} high take no row");
        if (ow == 0) throw new ConvGLException($"slice cols [{Cols}] of a map {w} wide take no column");
        return (oh, ow);
    }

    /// <summary>The slice as a strided read of a (C, H, W) input.</summary>
    public StridedView View(int c, int h, int w)
    {
        Indexing.SliceAxis ch = new(Start, 1, (End ?? c) - Start), r = Rows?.Resolve(h) ?? new(0, 1, h), q = Cols?.Resolve(w) ?? new(0, 1, w);
        return Indexing.SliceView([c, h, w], [ch, r, q]);
    }

    public override Tensor Forward(Tensor input)
    {
        CheckChannels(input.C);
        (int oh, int ow) = OutputSize(input.H, input.W);
        int oc = (End ?? input.C) - Start;
        return View(input.C, input.H, input.W).Read(input, [oc, oh, ow]);
    }

    /// <summary>What it takes, as Python's index: <c>channels 0..3</c>, <c>rows 1::2 cols ::2</c>.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (End is not null || Start > 0) parts.Add($"channels {Start}..{(End is { } e ? e - 1 : "end")}");
        if (Rows is { } r) parts.Add($"rows {r}");
        if (Cols is { } q) parts.Add($"cols {q}");
        return string.Join(" ", parts);
    }

    internal override string SizeField => Rows is not null ? "rows" : Cols is not null ? "cols" : End is null ? "start" : "end";
}

/// <summary>Local response normalisation across channels (see <see cref="Lrn"/>; AlexNet's and GoogLeNet's layer):
/// <c>"type": "lrn"</c> with <c>"size"</c> (required), <c>"alpha"</c> (1e-4), <c>"beta"</c> (0.75), <c>"bias"</c> (1).</summary>
public sealed class LrnLayer(Lrn parameters) : StackLayer
{
    public Lrn Parameters { get; } = parameters;

    public override string Type => "lrn";

    public override Tensor Forward(Tensor input) => Parameters.Apply(input);

    internal override string SizeField => "size";
}

/// <summary>ShuffleNet's channel shuffle (PyTorch nn.ChannelShuffle): the C channels seen as g groups of C/g, read
/// column by column, so output channel j g + i is input channel i (C/g) + j: <c>"type": "channel_shuffle"</c> with
/// <c>"groups"</c>. An ONNX Reshape -> Transpose [0, 2, 1, 3, 4] -> Reshape imports as it.</summary>
public sealed class ChannelShuffleLayer : StackLayer
{
    public ChannelShuffleLayer(int groups)
    {
        if (groups < 1) throw new ConvGLException($"channel_shuffle needs groups >= 1, got {groups}");
        Groups = groups;
    }

    public int Groups { get; }

    public override string Type => "channel_shuffle";

    public override int OutputChannels(int inputChannels, out string? error)
    {
        error = inputChannels % Groups != 0 ? $"channel_shuffle with {Groups} groups needs channels divisible by {Groups}, its input has {inputChannels}" : null;
        return inputChannels;
    }

    /// <summary>The input channel that output channel <paramref name="o"/> takes.</summary>
    public int Source(int o, int channels) => o % Groups * (channels / Groups) + o / Groups;

    public override Tensor Forward(Tensor input)
    {
        CheckChannels(input.C);
        int plane = input.H * input.W;
        var y = Tensor.Chw(input.C, input.H, input.W);
        for (int o = 0; o < input.C; o++) Array.Copy(input.Data, (long)Source(o, input.C) * plane, y.Data, (long)o * plane, plane);
        return y;
    }

    /// <summary>The shuffle as a strided read of the (C, H W) input: output (j, i, p) from input (i, j, p).</summary>
    public StridedView View(int channels, int plane) =>
        new(0, [channels / Groups, Groups, plane], [plane, (long)(channels / Groups) * plane, 1]);

    internal override string SizeField => "groups";
}

/// <summary>Layer normalisation over the channels at each pixel (PyTorch's LayerNorm2d; ConvNeXt's permute + LayerNorm +
/// permute back): each pixel's C values normalised by their own mean and variance, then y = scale[c] x + shift[c]:
/// <c>"type": "layernorm"</c> with <c>"scale"</c>, <c>"shift"</c> (one value per channel) and <c>"epsilon"</c> (1e-5).
/// The reference is <see cref="LayerNorm"/> on the (H, W, C) view.</summary>
public sealed class ChannelLayerNormLayer(LayerNorm parameters) : StackLayer
{
    public LayerNorm Parameters { get; } = parameters;
    /// <summary>The tensor names a stack file gives the scale and shift (null: made up from the label when written).</summary>
    public string? ScaleName { get; init; }
    public string? ShiftName { get; init; }

    public override string Type => "layernorm";

    public override int OutputChannels(int inputChannels, out string? error)
    {
        error = inputChannels == Parameters.Length ? null : $"layernorm has parameters for {Parameters.Length} channels, its input has {inputChannels}";
        return inputChannels;
    }

    public override Tensor Forward(Tensor input)
    {
        CheckChannels(input.C);
        Tensor pixels = Indexing.Transpose(input, [1, 2, 0]); // (H, W, C): one row per pixel
        return Indexing.Transpose(Parameters.Apply(pixels), [2, 0, 1]);
    }

    internal override string SizeField => "type";
}
