using ConvGL.Core.Ops;

namespace ConvGL.Core.Onnx;

/// <summary>One op of an <see cref="OnnxGraph"/>: a node whose attributes were read and checked when the graph was
/// built, so running it can only fail on the shapes it is given. <see cref="Run"/> is the CPU reference (ONNX
/// tensors keep their batch dimension: (N, C, H, W) for the 2D ops).</summary>
public abstract class OnnxOp
{
    private protected OnnxOp(OnnxNode node, string where, IReadOnlyList<string> inputs, string output)
    {
        Node = node;
        Where = where;
        Inputs = inputs;
        Output = output;
    }

    public OnnxNode Node { get; }
    /// <summary>"model.onnx: node 'conv1' (Conv)", for messages.</summary>
    public string Where { get; }
    /// <summary>Value names this op reads; empty for an omitted optional input.</summary>
    public IReadOnlyList<string> Inputs { get; }
    public string Output { get; }

    public abstract Tensor Run(IReadOnlyList<Tensor?> inputs);

    /// <summary>Inputs that carry integers (Pad's pads, Reshape's shape): a graph input of an integer type may feed them.</summary>
    public virtual IEnumerable<string> IntegerInputs => [];

    private protected ConvGLException Error(string message) => new($"{Where}: {message}");

    /// <summary>An integer parameter tensor's values (INT64 arrives converted to float32, exact): one error naming
    /// <paramref name="name"/> and the entry when one is not a whole number.</summary>
    private protected long[] Integers(Tensor t, string name) =>
        t.Data.Select((v, i) => float.IsFinite(v) && v == MathF.Round(v) ? Saturated(v) : throw Error($"{name} entry {i} is {(float.IsNaN(v) ? "unknown (NaN)" : v)}, not an integer")).ToArray();

    /// <summary>A whole float32 as a long, INT64_MAX / INT64_MIN (2^63 rounded, as the reader stores them) saturated
    /// rather than wrapped: Slice's "to the end" sentinel stays the largest value.</summary>
    private static long Saturated(float v) => v >= 9.2233720e18f ? long.MaxValue : v <= -9.2233720e18f ? long.MinValue : (long)v;

    /// <summary>Checks an output's size, computed from the shapes, before it is allocated: one error naming the op.</summary>
    private protected void CheckValues(IEnumerable<long> shape)
    {
        long n = 1;
        foreach (long d in shape) n = d == 0 || n == 0 ? 0 : n > Limits.StackMapValues / Math.Max(1, d) ? Limits.StackMapValues + 1 : n * d;
        if (n > Limits.StackMapValues) throw Error($"its output {Tensor.ShapeText(shape)} is more than {Limits.StackMapValues} values");
        // The room a graph run leaves this op (OnnxGraph.RunHolding): refused here with the shape, before allocating.
        if (Tensor.AllocationRoom is { } room && n > room)
            throw Error($"its output {Tensor.ShapeText(shape)} would bring the values held together past {OnnxGraph.CapText}; " +
                        "run the model on a smaller input, or export it with smaller constants");
    }

    /// <summary>An axis attribute as an index into a value of <paramref name="rank"/> dimensions (negative counts from the
    /// end): one error when it is outside, "axis 5 is out of range for <paramref name="what"/> 3".</summary>
    private protected int AxisIndex(long axis, int rank, string what) =>
        axis >= -rank && axis < rank ? (int)(axis < 0 ? axis + rank : axis) : throw Error($"axis {axis} is out of range for {what} {rank}");

    private protected Tensor Image(Tensor t, int n) =>
        Tensor.Chw(t.Shape[1], t.Shape[2], t.Shape[3], t.Data.AsSpan(n * t.Shape[1] * t.Shape[2] * t.Shape[3], t.Shape[1] * t.Shape[2] * t.Shape[3]).ToArray());

    /// <summary>Runs a (C, H, W) -> (C', H', W') function on every image of an (N, C, H, W) batch, or, for a 1D op
    /// (<paramref name="oneD"/>), on every (C, 1, L) one-row map of an (N, C, L) batch, the result (N, C', L').</summary>
    private protected Tensor PerImage(Tensor x, bool oneD, string what, Func<Tensor, Tensor> f)
    {
        if (!oneD) return PerImage(x, f);
        if (x.Rank != 3) throw Error($"input must be (N, C, L) for a 1D {what}, got {x.ShapeString}");
        return SpatialAttributes.Unrow(PerImage(SpatialAttributes.Row(x), f));
    }

    /// <summary>Runs a (C, H, W) -> (C', H', W') function on every image of an (N, C, H, W) batch.</summary>
    private protected Tensor PerImage(Tensor x, Func<Tensor, Tensor> f)
    {
        if (x.Rank != 4) throw Error($"input must be (N, C, H, W) (ConvGL runs 2D ops), got {x.ShapeString}");
        var outputs = new Tensor[x.Shape[0]];
        for (int n = 0; n < outputs.Length; n++) outputs[n] = f(Image(x, n));
        Tensor first = outputs.Length > 0 ? outputs[0] : f(Tensor.Chw(x.Shape[1], Math.Max(1, x.Shape[2]), Math.Max(1, x.Shape[3])));
        var y = new Tensor([x.Shape[0], .. first.Shape]);
        for (int n = 0; n < outputs.Length; n++) outputs[n].Data.CopyTo(y.Data, n * first.Length);
        return y;
    }
}

public enum AutoPad { NotSet, SameUpper, SameLower, Valid }

/// <summary>Spatial attributes shared by Conv, MaxPool and AveragePool, in [H, W] order; pads are
/// [top, left, bottom, right] (ONNX's [x1_begin, x2_begin, x1_end, x2_end]). A 1D op (<see cref="OneD"/>: inputs (N, C, L),
/// attributes of one entry, [L]) is held as the 2D op of a one-row map: kernel (1, k), stride (1, s), pads (0, b, 0, e).</summary>
public sealed record SpatialAttributes(int KernelY, int KernelX, int StrideY, int StrideX, int DilationY, int DilationX, AutoPad AutoPad, int[] Pads)
{
    /// <summary>A 1D op: its input is (N, C, L), run as (N, C, 1, L).</summary>
    public bool OneD { get; init; }

    /// <summary>How many spatial dimensions the given attributes and the weight's kernel (<paramref name="weightDims"/>,
    /// null where unknown) agree on: 1 or 2, null where nothing says (ONNX's defaults: the input's rank decides). One error
    /// naming the attribute otherwise (ConvGL runs 1D and 2D ops).</summary>
    internal static int? Dims(NodeAttributes a, int? weightDims, params string[] names)
    {
        int? dims = weightDims;
        string? from = weightDims is null ? null : "the weight";
        if (weightDims is not null and not (1 or 2))
            throw a.Error($"the weight has {weightDims} spatial dimensions: ConvGL runs 1D and 2D ops");
        foreach (string name in names)
        {
            if (a.Ints(name) is not { } v) continue;
            bool pairs = name is "pads";
            if (pairs && v.Length % 2 != 0) throw a.Error($"attribute 'pads' has {v.Length} entries, expected 4 ([top, left, bottom, right]) or 2 ([begin, end] of a 1D op)");
            int n = pairs ? v.Length / 2 : v.Length;
            if (n is not (1 or 2))
                throw a.Error($"attribute '{name}' has {v.Length} entries, expected {(pairs ? "4 or 2" : "2 or 1")} (ConvGL runs 2D ops, [H, W], and 1D ops, [L])");
            if (dims is not null && dims != n)
                throw a.Error($"attribute '{name}' has {v.Length} entries, but {from} {(dims == 1 ? "is 1D" : "is 2D")}; give every spatial attribute for the same dimensions");
            (dims, from) = (n, $"attribute '{name}'");
        }
        return dims;
    }

    /// <summary>A 1D attribute lifted to the 2D op of a one-row map: [v] -> [fill, v]; pads [b, e] -> [0, b, 0, e].</summary>
    internal static long[]? Lift(long[]? v, long fill) => v switch
    {
        null => null,
        [var x] => [fill, x],
        _ => v,
    };

    internal static long[]? LiftPads(long[]? p) => p is [var b, var e] ? [0, b, 0, e] : p;

    /// <summary>A rank-3 (N, C, L) value as (N, C, 1, L), and a 1D weight (C_out, C_in / group, k) as (C_out, C_in / group, 1, k):
    /// the same values.</summary>
    public static Tensor Row(Tensor t) => t.Rank == 3 ? t.Reshape(t.Shape[0], t.Shape[1], 1, t.Shape[2]) : t;

    /// <summary>A (N, C, 1, L) result back as the 1D op's (N, C, L).</summary>
    public static Tensor Unrow(Tensor t) => t.Reshape(t.Shape[0], t.Shape[1], t.Shape[3]);

    /// <summary>The explicit pads for an input of (h, w): <see cref="Pads"/> for NOTSET, zero for VALID, and for
    /// SAME_UPPER / SAME_LOWER the total that gives ceil(n / stride) outputs, the odd one at the end (upper) or the start (lower).</summary>
    public (int Top, int Left, int Bottom, int Right) Resolve(int h, int w)
    {
        switch (AutoPad)
        {
            case AutoPad.NotSet: return (Pads[0], Pads[1], Pads[2], Pads[3]);
            case AutoPad.Valid: return (0, 0, 0, 0);
            default:
                (int ty, int by) = Same(h, KernelY, StrideY, DilationY);
                (int tx, int bx) = Same(w, KernelX, StrideX, DilationX);
                return (ty, tx, by, bx);
        }
    }

    private (int Before, int After) Same(int n, int k, int s, int d)
    {
        long output = ((long)n + s - 1) / s;
        long total = Math.Max(0, (output - 1) * s + (long)d * (k - 1) + 1 - n);
        if (total > int.MaxValue / 2) throw new ConvGLException($"auto_pad {AutoPad} needs padding {total}, too large");
        int small = (int)(total / 2), large = (int)(total - total / 2);
        return AutoPad == AutoPad.SameUpper ? (small, large) : (large, small);
    }

    /// <summary>The <c>auto_pad</c> attribute (Conv, ConvTranspose, the pools).</summary>
    internal static AutoPad ReadAutoPad(NodeAttributes a)
    {
        string autoPad = a.String("auto_pad", "NOTSET");
        return autoPad switch
        {
            "NOTSET" or "" => AutoPad.NotSet,
            "SAME_UPPER" => AutoPad.SameUpper,
            "SAME_LOWER" => AutoPad.SameLower,
            "VALID" => AutoPad.Valid,
            _ => throw a.Error($"auto_pad '{autoPad}' is not supported (supported: NOTSET, SAME_UPPER, SAME_LOWER, VALID)"),
        };
    }

    internal static SpatialAttributes Read(NodeAttributes a, bool hasDilations, int[]? weightKernel)
    {
        int dims = (hasDilations ? Dims(a, weightKernel?.Length, "kernel_shape", "strides", "dilations", "pads")
            : Dims(a, weightKernel?.Length, "kernel_shape", "strides", "pads")) ?? 2;
        long[]? kernel = Lift(a.Ints("kernel_shape"), 1);
        if (weightKernel is [var only]) weightKernel = [1, only];
        if (kernel is null && weightKernel is null) throw a.Error("attribute 'kernel_shape' is required");
        long[] k = kernel ?? [weightKernel![0], weightKernel[1]];
        if (weightKernel is not null && (k[0] != weightKernel[0] || k[1] != weightKernel[1]))
            throw a.Error(dims == 1 ? $"kernel_shape [{k[1]}] does not match the weight's [{weightKernel[1]}]"
                : $"kernel_shape [{k[0]}, {k[1]}] does not match the weight's [{weightKernel[0]}, {weightKernel[1]}]");
        long[] s = Lift(a.Ints("strides"), 1) ?? [1, 1];
        long[] d = hasDilations ? Lift(a.Ints("dilations"), 1) ?? [1, 1] : [1, 1];
        long[] p = LiftPads(a.Ints("pads")) ?? [0, 0, 0, 0];
        AutoPad mode = ReadAutoPad(a);
        foreach (long v in k.Concat(s).Concat(d))
            if (v < 1 || v > 1 << 20) throw a.Error($"kernel_shape, strides and dilations must be in [1, 2^20], got [{string.Join(", ", k.Concat(s).Concat(d))}]");
        foreach (long v in p)
            if (v < 0 || v > 1 << 20) throw a.Error($"pads must be in [0, 2^20], got [{string.Join(", ", p)}]");
        return new SpatialAttributes((int)k[0], (int)k[1], (int)s[0], (int)s[1], (int)d[0], (int)d[1], mode, p.Select(v => (int)v).ToArray()) { OneD = dims == 1 };
    }
}

/// <summary>ONNX Conv (2D, and 1D as a one-row map: X (N, C, L), W (C_out, C / group, k)): inputs X (N, C, H, W), W (C_out, C / group, kH, kW), optional B (C_out), with
/// asymmetric explicit padding, through <see cref="DirectConv2D"/> (held equal to the reference <see cref="Conv2D"/>
/// by tests; float32 accumulation like ONNX Runtime).</summary>
public sealed class ConvOp : OnnxOp
{
    public SpatialAttributes Spatial { get; }
    public int Groups { get; }

    internal ConvOp(OnnxNode node, string where, IReadOnlyList<string> inputs, string output, SpatialAttributes spatial, int groups)
        : base(node, where, inputs, output)
    {
        Spatial = spatial;
        Groups = groups;
    }

    internal static ConvOp Read(OnnxNode node, NodeAttributes a, Tensor? weight)
    {
        a.CheckArity(2, 3);
        if (weight is not null && weight.Rank is not (3 or 4))
            throw a.Error($"weight {weight.ShapeString} is not (C_out, C_in/group, kH, kW), or (C_out, C_in/group, k) for a 1D conv: ConvGL runs 1D and 2D convolutions");
        SpatialAttributes s = SpatialAttributes.Read(a, true, weight is null ? null : weight.Shape[2..]);
        long group = a.Int("group", 1);
        if (group < 1) throw a.Error($"group {group} must be at least 1");
        if (group > 1 << 20)
            throw a.Error($"group {group} is too large: it must divide the input and output channels (at most 2^20)");
        a.Finish();
        var op = new ConvOp(node, a.Where, node.Inputs, node.Outputs[0], s, (int)group);
        if (weight is not null) op.CheckWeight(weight);
        return op;
    }

    /// <summary>The reference options for an input of (h, w).</summary>
    public ConvOptions Options(int h, int w)
    {
        (int t, int l, int b, int r) = Spatial.Resolve(h, w);
        return new ConvOptions
        {
            Padding = PaddingMode.Explicit, PadY = t, PadX = l, PadBottom = b, PadRight = r,
            StrideY = Spatial.StrideY, StrideX = Spatial.StrideX, DilationY = Spatial.DilationY, DilationX = Spatial.DilationX,
            Groups = Groups, Border = Border.Zero, Mode = ConvMode.Correlate,
        };
    }

    /// <summary>The weight's checks every user of the op shares (the graph at load, the stack import, batchnorm folding,
    /// a run): 2D, the kernel_shape's size, and C_out split evenly into the groups.</summary>
    public void CheckWeight(Tensor w)
    {
        if (Spatial.OneD)
        {
            if (w.Rank != 3) throw Error($"weight {w.ShapeString} is not (C_out, C_in/group, k): the node's attributes are 1D");
            if (w.Shape[2] != Spatial.KernelX) throw Error($"weight {w.ShapeString} does not match kernel_shape [{Spatial.KernelX}]");
        }
        else
        {
            if (w.Rank != 4) throw Error($"weight {w.ShapeString} is not (C_out, C_in/group, kH, kW): ConvGL runs 1D and 2D convolutions (a 1D weight goes with 1D attributes)");
            if (w.Shape[2] != Spatial.KernelY || w.Shape[3] != Spatial.KernelX)
                throw Error($"weight {w.ShapeString} does not match kernel_shape [{Spatial.KernelY}, {Spatial.KernelX}]");
        }
        if (w.Shape[0] % Groups != 0)
            throw Error($"group {Groups} must divide the weight's {w.Shape[0]} output channels (weight {w.ShapeString}); fix the group attribute or the weight");
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!, w = inputs[1]!;
        CheckWeight(w);
        float[]? bias = inputs.Count > 2 ? inputs[2]?.Data : null;
        try
        {
            Tensor row = SpatialAttributes.Row(w);
            return PerImage(x, Spatial.OneD, "conv", image => DirectConv2D.Apply(image, row, bias, Options(image.H, image.W)));
        }
        catch (ConvGLException e) when (!e.Message.StartsWith(Where, StringComparison.Ordinal))
        {
            throw Error(e.Message);
        }
    }
}

/// <summary>ONNX BatchNormalization at inference: inputs X (N, C, ...), scale, B, mean, var (C each).</summary>
public sealed class BatchNormOp : OnnxOp
{
    public float Epsilon { get; }

    internal BatchNormOp(OnnxNode node, string where, float epsilon) : base(node, where, node.Inputs, node.Outputs[0]) => Epsilon = epsilon;

    internal static BatchNormOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(5, 5);
        float epsilon = a.Float("epsilon", 1e-5f);
        if (!(epsilon >= 0)) throw a.Error($"epsilon {epsilon} must not be negative");
        if (a.Int("spatial", 1) != 1) throw a.Error("spatial = 0 (per-activation statistics) is not supported (supported: spatial = 1)");
        if (a.Int("training_mode", 0) != 0) throw a.Error("training_mode = 1 is not supported (supported: inference, training_mode = 0)");
        // Inference ignores the running-statistics momentum; is_test and consumed_inputs are opset 1-6 bookkeeping.
        a.Ignore("momentum");
        a.Ignore("is_test");
        a.Ignore("consumed_inputs");
        a.Finish();
        return new BatchNormOp(node, a.Where, epsilon);
    }

    public BatchNorm Parameters(IReadOnlyList<Tensor?> inputs) =>
        BatchNorm.FromStatistics(inputs[1]!.Data, inputs[2]!.Data, inputs[3]!.Data, inputs[4]!.Data, Epsilon);

    /// <summary>The parameters from statistics the model stores (the graph at load, batchnorm folding, the stack import):
    /// var + epsilon must be positive in every channel (var = -1 with epsilon 0 folded to NaN weights and ran to NaN
    /// maps) and the per-channel scale and shift finite in float32. One error naming the node and the channel. Statistics
    /// fed to a run are its data and go through <see cref="Parameters"/> unchecked, as ONNX Runtime runs them.</summary>
    public BatchNorm StoredParameters(IReadOnlyList<Tensor?> inputs)
    {
        BatchNorm norm;
        try
        {
            norm = Parameters(inputs);
        }
        catch (ConvGLException e)
        {
            throw Error(e.Message);
        }
        float[] variance = inputs[4]!.Data;
        for (int c = 0; c < variance.Length; c++)
            if (!((double)variance[c] + Epsilon > 0))
                throw Error($"channel {c}: var + epsilon must be positive, got var {variance[c]} + epsilon {Epsilon} (a variance is never negative); fix the statistics or export the model again");
        for (int c = 0; c < norm.Channels; c++)
            if (!float.IsFinite(norm.Scale[c]) || !float.IsFinite(norm.Shift[c]))
                throw Error($"channel {c}: scale / sqrt(var + epsilon) = {norm.Scale[c]} and shift {norm.Shift[c]} must be finite in float32 " +
                            $"(scale {inputs[1]!.Data[c]}, var {variance[c]}, epsilon {Epsilon}); fix the statistics or export the model again");
        return norm;
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!;
        if (x.Rank < 2) throw Error($"input {x.ShapeString} has no channel dimension");
        try
        {
            return Parameters(inputs).Apply(x, 1);
        }
        catch (ConvGLException e)
        {
            throw Error(e.Message);
        }
    }
}

/// <summary>ONNX MaxPool / AveragePool (2D, and 1D as a one-row map) through <see cref="PaddedPool2D"/>.</summary>
public sealed class PoolOp : OnnxOp
{
    public PoolKind Kind { get; }
    public SpatialAttributes Spatial { get; }
    public bool CeilMode { get; }
    public bool CountIncludePad { get; }

    private PoolOp(OnnxNode node, string where, PoolKind kind, SpatialAttributes spatial, bool ceil, bool includePad)
        : base(node, where, node.Inputs, node.Outputs[0])
    {
        Kind = kind;
        Spatial = spatial;
        CeilMode = ceil;
        CountIncludePad = includePad;
    }

    internal static PoolOp Read(OnnxNode node, NodeAttributes a, PoolKind kind)
    {
        a.CheckArity(1, 1);
        // AveragePool has dilations from opset 19 on; read them for both so either opset's file works.
        SpatialAttributes s = SpatialAttributes.Read(a, true, null);
        long ceil = a.Int("ceil_mode", 0);
        if (ceil is not (0 or 1)) throw a.Error($"ceil_mode {ceil} must be 0 or 1");
        bool includePad = false;
        if (kind == PoolKind.Average)
        {
            long c = a.Int("count_include_pad", 0);
            if (c is not (0 or 1)) throw a.Error($"count_include_pad {c} must be 0 or 1");
            includePad = c == 1;
        }
        else
        {
            // storage_order only changes the Indices output, which ConvGL does not produce.
            a.Ignore("storage_order");
        }
        a.Finish();
        return new PoolOp(node, a.Where, kind, s, ceil == 1, includePad);
    }

    /// <summary>The options for any input size: auto_pad SAME_* kept as a padding mode (<see cref="PaddedPool2D.SamePads"/>
    /// resolves it per size, as <see cref="SpatialAttributes.Resolve"/> does), NOTSET and VALID as their explicit pads.
    /// What a stack layer holds.</summary>
    public PaddedPoolOptions SizeIndependentOptions() =>
        Spatial.AutoPad is AutoPad.SameUpper or AutoPad.SameLower
            ? Options(1, 1) with
            {
                Padding = Spatial.AutoPad == AutoPad.SameUpper ? PaddingMode.SameUpper : PaddingMode.SameLower,
                PadTop = 0, PadLeft = 0, PadBottom = 0, PadRight = 0,
            }
            : Options(1, 1);

    public PaddedPoolOptions Options(int h, int w)
    {
        (int t, int l, int b, int r) = Spatial.Resolve(h, w);
        return new PaddedPoolOptions
        {
            Kind = Kind, SizeY = Spatial.KernelY, SizeX = Spatial.KernelX, StrideY = Spatial.StrideY, StrideX = Spatial.StrideX,
            DilationY = Spatial.DilationY, DilationX = Spatial.DilationX, PadTop = t, PadLeft = l, PadBottom = b, PadRight = r,
            CeilMode = CeilMode, CountIncludePad = CountIncludePad,
        };
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        try
        {
            return PerImage(inputs[0]!, Spatial.OneD, "pool", image => PaddedPool2D.Apply(image, Options(image.H, image.W)));
        }
        catch (ConvGLException e) when (!e.Message.StartsWith(Where, StringComparison.Ordinal))
        {
            throw Error(e.Message);
        }
    }
}

/// <summary>ONNX GlobalAveragePool (2D): (N, C, H, W) -> (N, C, 1, 1).</summary>
public sealed class GlobalAveragePoolOp : OnnxOp
{
    private GlobalAveragePoolOp(OnnxNode node, string where) : base(node, where, node.Inputs, node.Outputs[0]) { }

    internal static GlobalAveragePoolOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(1, 1);
        a.Finish();
        return new GlobalAveragePoolOp(node, a.Where);
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs) => PerImage(inputs[0]!, GlobalAveragePool.Apply);
}

/// <summary>ONNX Relu, LeakyRelu (alpha, default 0.01), Sigmoid, Tanh, Abs, Elu, Selu, HardSigmoid, HardSwish, Softplus,
/// Softsign, Celu (alpha, default 1, not 0), ThresholdedRelu (alpha, default 1), Mish: element-wise on any shape, with
/// ONNX's default parameters.</summary>
public sealed class ActivationOp : OnnxOp
{
    public ActivationKind Kind { get; }
    /// <summary>alpha: LeakyRelu's slope, Elu's, Selu's, HardSigmoid's, Celu's and ThresholdedRelu's alpha.</summary>
    public float Slope { get; }
    /// <summary>Selu's gamma, HardSigmoid's beta.</summary>
    public float Beta { get; }

    private ActivationOp(OnnxNode node, string where, ActivationKind kind, float slope, float beta) : base(node, where, node.Inputs, node.Outputs[0])
    {
        Kind = kind;
        Slope = slope;
        Beta = beta;
    }

    internal static ActivationOp Read(OnnxNode node, NodeAttributes a, ActivationKind kind)
    {
        a.CheckArity(1, 1);
        (float alpha, float beta) = Activation.Defaults(kind);
        if (kind is ActivationKind.LeakyRelu or ActivationKind.Elu or ActivationKind.Selu or ActivationKind.HardSigmoid or ActivationKind.Celu or ActivationKind.ThresholdedRelu)
            alpha = a.Float("alpha", alpha);
        // Celu divides by alpha (x / alpha): 0 has no value there.
        if (kind == ActivationKind.Celu && !(alpha != 0 && float.IsFinite(alpha))) throw a.Error($"alpha {alpha} must be finite and not 0");
        if (kind == ActivationKind.Selu) beta = a.Float("gamma", beta);
        if (kind == ActivationKind.HardSigmoid) beta = a.Float("beta", beta);
        a.Finish();
        return new ActivationOp(node, a.Where, kind, alpha, beta);
    }

    /// <summary>Gelu (opset 20): approximate "none" (the erf form) or "tanh".</summary>
    internal static ActivationOp ReadGelu(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(1, 1);
        string approximate = a.String("approximate", "none");
        ActivationKind kind = approximate switch
        {
            "none" => ActivationKind.Gelu,
            "tanh" => ActivationKind.GeluTanh,
            _ => throw a.Error($"attribute 'approximate' is '{ErrorText.Echo(approximate)}'; Gelu's are 'none' (the erf form) and 'tanh'"),
        };
        a.Finish();
        return new ActivationOp(node, a.Where, kind, 0f, 0f);
    }

    /// <summary>An activation that stands for several nodes of the file (GELU written out as Div, Erf, Add, Mul, Mul):
    /// <paramref name="node"/> names it, it reads <paramref name="input"/> and writes <paramref name="output"/>.</summary>
    internal static ActivationOp Standing(OnnxNode node, string where, ActivationKind kind, string input, string output, float? slope = null, float? beta = null) =>
        new(node, where, kind, [input], output, slope ?? Activation.Defaults(kind).Alpha, beta ?? Activation.Defaults(kind).Beta);

    private ActivationOp(OnnxNode node, string where, ActivationKind kind, IReadOnlyList<string> inputs, string output, float slope, float beta)
        : base(node, where, inputs, output)
    {
        Kind = kind;
        Slope = slope;
        Beta = beta;
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs) => Activation.Apply(inputs[0]!, Kind, Slope, beta: Beta);
}

/// <summary>ONNX Add, Sub, Mul, Div, Pow (multidirectional, NumPy broadcasting) and PRelu (the slope broadcast to the input),
/// see <see cref="Elementwise"/>. Opset 1-6 files may say <c>broadcast</c> = 1 with an <c>axis</c> where the second
/// input's dimensions start (the legacy form): it is read as NumPy broadcasting of that input padded with size-1
/// dimensions around it, and the output must keep the first input's shape.</summary>
public sealed class BinaryOp : OnnxOp
{
    public BinaryKind Kind { get; }
    /// <summary>The legacy broadcast's axis (null: NumPy's right alignment).</summary>
    public int? LegacyAxis { get; }
    /// <summary>A Div of integer values (shape arithmetic: UNet's diff // 2): the quotient truncated toward zero, as ONNX
    /// divides integers. Set by <see cref="OnnxGraph"/>, which knows the values' element types.</summary>
    public bool IntegerDivision { get; internal set; }

    private BinaryOp(OnnxNode node, string where, BinaryKind kind, int? axis) : base(node, where, node.Inputs, node.Outputs[0])
    {
        Kind = kind;
        LegacyAxis = axis;
    }

    internal static BinaryOp Read(OnnxNode node, NodeAttributes a, BinaryKind kind, long opset)
    {
        a.CheckArity(2, 2);
        // PRelu before opset 7 takes one slope or one per channel (axis 1), not NumPy broadcasting.
        int? axis = kind == BinaryKind.PRelu && opset < 7 ? 1 : null;
        if (kind != BinaryKind.PRelu)
        {
            long broadcast = a.Int("broadcast", 1);
            if (broadcast is not (0 or 1)) throw a.Error($"broadcast {broadcast} must be 0 or 1");
            long ax = a.Int("axis", long.MinValue);
            if (ax != long.MinValue && (ax < -64 || ax > 64)) throw a.Error($"axis {ax} is out of range");
            if (ax != long.MinValue) axis = (int)ax;
        }
        a.Ignore("consumed_inputs");
        a.Finish();
        return new BinaryOp(node, a.Where, kind, axis);
    }

    /// <summary>The second input's shape as broadcasting sees it: under the legacy axis, padded with ones to the first's rank.</summary>
    public int[] SecondShape(int[] a, int[] b)
    {
        if (LegacyAxis is not int axis) return b;
        int start = axis < 0 ? axis + a.Length : axis;
        if (start < 0 || start + b.Length > a.Length)
            throw Error($"legacy broadcast: {Tensor.ShapeText(b)} at axis {axis} does not fit inside {Tensor.ShapeText(a)}");
        var shape = Enumerable.Repeat(1, a.Length).ToArray();
        b.CopyTo(shape, start);
        return shape;
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        try
        {
            Tensor a = inputs[0]!, b = inputs[1]!;
            Tensor y = Elementwise.Apply(Kind, a, b.Reshape(SecondShape(a.Shape, b.Shape)));
            if (IntegerDivision)
                for (int i = 0; i < y.Length; i++) y.Data[i] = MathF.Truncate(y.Data[i]);
            if (LegacyAxis is not null && !y.SameShape(a)) throw Error($"legacy broadcast must keep the first input's shape {a.ShapeString}, got {y.ShapeString}");
            return y;
        }
        catch (ConvGLException e) when (!e.Message.StartsWith(Where, StringComparison.Ordinal))
        {
            throw Error(e.Message);
        }
    }
}

/// <summary>ONNX Flatten: (d0, ..., dn) -> (d0 * ... * d(axis-1), d(axis) * ... * dn); a negative axis counts from the end.</summary>
public sealed class FlattenOp : OnnxOp
{
    public int Axis { get; }

    private FlattenOp(OnnxNode node, string where, int axis) : base(node, where, node.Inputs, node.Outputs[0]) => Axis = axis;

    internal static FlattenOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(1, 1);
        long axis = a.Int("axis", 1);
        if (axis is < -64 or > 64) throw a.Error($"axis {axis} is out of range");
        a.Finish();
        return new FlattenOp(node, a.Where, (int)axis);
    }

    public int[] OutputShape(int[] shape)
    {
        int axis = Axis < 0 ? Axis + shape.Length : Axis;
        if (axis < 0 || axis > shape.Length) throw Error($"axis {Axis} is out of range for an input of rank {shape.Length}");
        long outer = 1, inner = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (i < axis) outer *= shape[i];
            else inner *= shape[i];
        }
        return [(int)outer, (int)inner];
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs) => inputs[0]!.Reshape(OutputShape(inputs[0]!.Shape)).Clone();
}

/// <summary>ONNX Gemm: Y = alpha * A' B' + beta * C (see <see cref="Ops.Gemm"/>).</summary>
public sealed class GemmOp : OnnxOp
{
    public float Alpha { get; }
    public float Beta { get; }
    public bool TransA { get; }
    public bool TransB { get; }

    private GemmOp(OnnxNode node, string where, float alpha, float beta, bool transA, bool transB) : base(node, where, node.Inputs, node.Outputs[0])
    {
        Alpha = alpha;
        Beta = beta;
        TransA = transA;
        TransB = transB;
    }

    internal static GemmOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(2, 3);
        float alpha = a.Float("alpha", 1f), beta = a.Float("beta", 1f);
        long ta = a.Int("transA", 0), tb = a.Int("transB", 0);
        if (ta is not (0 or 1) || tb is not (0 or 1)) throw a.Error($"transA {ta} and transB {tb} must be 0 or 1");
        // Opset 1-6 flag for a broadcast C: opset 7 on always broadcasts, which is what we do.
        if (a.Int("broadcast", 1) != 1) throw a.Error("broadcast = 0 is not supported (supported: broadcast = 1, the opset 7+ behaviour)");
        a.Finish();
        return new GemmOp(node, a.Where, alpha, beta, ta == 1, tb == 1);
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        try
        {
            return Ops.Gemm.Apply(inputs[0]!, inputs[1]!, inputs.Count > 2 ? inputs[2] : null, Alpha, Beta, TransA, TransB);
        }
        catch (ConvGLException e)
        {
            throw Error(e.Message);
        }
    }
}
