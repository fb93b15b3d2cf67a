using ConvGL.Core.Ops;

namespace ConvGL.Core.Onnx;

/// <summary>ONNX Identity, and Dropout at inference (what ONNX Runtime runs: the input passes through; the ratio and
/// seed only matter in training). A training_mode input that is not a stored false is an error; so is a mask output
/// that a node reads or the graph outputs (one that nothing reads, as training-mode exports leave it, is left out).
/// In a stack it is no layer at all: readers of its output read its input.</summary>
public sealed class IdentityOp : OnnxOp
{
    private IdentityOp(OnnxNode node, string where) : base(node, where, node.Inputs.Take(1).ToArray(), node.Outputs[0]) { }

    /// <param name="read">Every value a node reads or the graph outputs: a Dropout's mask must be none of them.</param>
    internal static IdentityOp Read(OnnxNode node, NodeAttributes a, IReadOnlyDictionary<string, Tensor> initializers, IReadOnlySet<string> read)
    {
        if (node.OpType == "Identity")
        {
            a.CheckArity(1, 1);
        }
        else
        {
            a.CheckArity(1, 3, read);
            // ratio (attribute to opset 10, input from 12), seed, is_test (opset 1-6) and consumed_inputs (opset 1) only
            // shape training; ONNX Runtime passes the input through at inference whatever they say.
            a.Ignore("ratio");
            a.Ignore("seed");
            a.Ignore("is_test");
            a.Ignore("consumed_inputs");
            if (node.Inputs.Count > 2 && node.Inputs[2].Length > 0
                && !(initializers.TryGetValue(node.Inputs[2], out Tensor? mode) && mode.Data.All(v => v == 0f)))
                throw a.Error($"input 'training_mode' ('{node.Inputs[2]}') is not supported unless it is a stored false (ConvGL runs inference: Dropout passes its input through)");
        }
        a.Finish();
        return new IdentityOp(node, a.Where);
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs) => inputs[0]!.Clone();
}

/// <summary>ONNX Concat: its inputs joined along <c>axis</c> (negative counts from the end), see <see cref="Ops.Concat"/>.</summary>
public sealed class ConcatOp : OnnxOp
{
    public int Axis { get; }

    private ConcatOp(OnnxNode node, string where, int axis) : base(node, where, node.Inputs, node.Outputs[0]) => Axis = axis;

    internal static ConcatOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(1, 4096);
        if (node.Inputs.Any(i => i.Length == 0)) throw a.Error("an input is empty: every Concat input must name a value");
        // Opset 1-3 default the axis to 1; from opset 4 it is required.
        long axis = a.Int("axis", 1);
        if (axis is < -64 or > 64) throw a.Error($"axis {axis} is out of range");
        a.Finish();
        return new ConcatOp(node, a.Where, (int)axis);
    }

    /// <summary>The axis for inputs of <paramref name="rank"/>, in [0, rank).</summary>
    public int AxisFor(int rank) => AxisIndex(Axis, rank, "inputs of rank");

    public int[] OutputShape(IReadOnlyList<int[]> shapes)
    {
        try
        {
            return Ops.Concat.OutputShape(shapes, AxisFor(shapes[0].Length));
        }
        catch (ConvGLException e) when (!e.Message.StartsWith(Where, StringComparison.Ordinal))
        {
            throw Error(e.Message);
        }
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        OutputShape(inputs.Select(t => t!.Shape).ToArray());
        return Ops.Concat.Apply(inputs.Select(t => t!).ToArray(), AxisFor(inputs[0]!.Rank));
    }
}

/// <summary>ONNX Pad on the last two axes (the spatial ones of (N, C, H, W); see <see cref="Pad2D"/>): mode constant
/// (with the constant value), reflect, edge or wrap. The pads come from the <c>pads</c> attribute (opset 1-10) or the
/// second input (opset 11 on: an initializer, or a graph input when run as a graph); the constant from the
/// <c>value</c> attribute or the third input. Pads on any other axis are one error naming the axis.</summary>
public sealed class PadOp : OnnxOp
{
    public Border Border { get; }
    /// <summary>The attribute form's pads (ONNX order: every axis's begin, then every axis's end); null when they are an input.</summary>
    public long[]? AttributePads { get; }
    public float AttributeValue { get; }

    private PadOp(OnnxNode node, string where, Border border, long[]? pads, float value) : base(node, where, node.Inputs, node.Outputs[0])
    {
        Border = border;
        AttributePads = pads;
        AttributeValue = value;
    }

    /// <summary>The pads input, an integer tensor (so an INT64 graph input is fine here).</summary>
    public override IEnumerable<string> IntegerInputs => AttributePads is null && Inputs.Count > 1 ? [Inputs[1]] : [];

    internal static PadOp Read(OnnxNode node, NodeAttributes a)
    {
        string mode = a.String("mode", "constant");
        Border border = mode switch
        {
            "constant" => Border.Zero,
            "reflect" => Border.Reflect,
            "edge" => Border.Replicate,
            "wrap" => Border.Wrap,
            _ => throw a.Error($"mode '{mode}' is not supported (supported: constant, reflect, edge, wrap)"),
        };
        long[]? pads = a.Ints("pads") ?? a.Ints("paddings");
        float value = a.Float("value", 0f, infinite: true);
        if (pads is null)
        {
            a.CheckArity(2, 4);
            if (node.Inputs.Count > 3 && node.Inputs[3].Length > 0)
                throw a.Error("input 'axes' is not supported (supported: pads for every axis, the first two zero)");
        }
        else
        {
            a.CheckArity(1, 1);
        }
        a.Finish();
        return new PadOp(node, a.Where, border, pads, value);
    }

    /// <summary>The options for an input of <paramref name="rank"/>, from the attribute or the pads / constant_value tensors.
    /// <paramref name="channelsLast"/>: the input is a channels-last (N, H, W, C) value in a stack (Keras' ZeroPadding2D as
    /// tf2onnx may leave it), whose rows and columns are axes 1 and 2.</summary>
    public PadOptions Options(int rank, Tensor? padsInput, Tensor? valueInput, bool channelsLast = false)
    {
        long[] pads = AttributePads ?? ReadPads(padsInput);
        if (channelsLast && rank == 4 && pads.Length == 8)
        {
            if (pads[0] != 0 || pads[3] != 0 || pads[4] != 0 || pads[7] != 0)
                throw Error($"pads [{string.Join(", ", pads)}] pad the batch or the channels (axes 0 and 3) of a channels-last value; ConvGL pads only its rows and columns (axes 1 and 2)");
            pads = [0, 0, pads[1], pads[2], 0, 0, pads[5], pads[6]];
        }
        if (pads.Length != 2 * rank) throw Error($"pads has {pads.Length} entries, an input of rank {rank} needs {2 * rank} (every axis's begin, then every axis's end)");
        if (rank < 2) throw Error($"ConvGL pads the last two axes of a map; the input has rank {rank}");
        for (int d = 0; d < rank - 2; d++)
            if (pads[d] != 0 || pads[rank + d] != 0)
                throw Error($"pads [{string.Join(", ", pads)}] pad axis {d}; ConvGL pads only the last two (spatial) axes");
        foreach (long p in pads)
            if (p is < -(1 << 20) or > 1 << 20) throw Error($"pads [{string.Join(", ", pads)}] must be in [-2^20, 2^20]");
        float value = AttributeValue;
        if (valueInput is not null)
        {
            if (valueInput.Length != 1) throw Error($"constant_value {valueInput.ShapeString} must be one value");
            value = valueInput.Data[0];
        }
        return new PadOptions((int)pads[rank - 2], (int)pads[rank - 1], (int)pads[2 * rank - 2], (int)pads[2 * rank - 1], Border, Border == Border.Zero ? value : 0f);
    }

    private long[] ReadPads(Tensor? t)
    {
        if (t is null) throw Error("input 'pads' has no value");
        if (t.Rank != 1) throw Error($"pads {t.ShapeString} must be one-dimensional");
        return Integers(t, "pads");
    }

    /// <summary>The options for this op's inputs (null entries for omitted optional ones).</summary>
    public PadOptions Options(IReadOnlyList<Tensor?> inputs) =>
        Options(inputs[0]!.Rank, inputs.Count > 1 ? inputs[1] : null, inputs.Count > 2 ? inputs[2] : null);

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!;
        PadOptions o = Options(inputs);
        int planes = (int)x.Shape[..^2].Aggregate(1L, (p, d) => p * d);
        try
        {
            Tensor y = Pad2D.Apply(x.Reshape(planes, x.Shape[^2], x.Shape[^1]), o);
            return y.Reshape([.. x.Shape[..^2], y.H, y.W]);
        }
        catch (ConvGLException e)
        {
            throw Error(e.Message);
        }
    }
}

/// <summary>ONNX Clip: min(max(x, min), max) (see <see cref="Activation"/>), the bounds from the <c>min</c> / <c>max</c>
/// attributes (opset 1-10) or the optional second and third inputs (opset 11 on: initializers, Constant outputs, or
/// graph inputs when run as a graph); an absent bound is no bound.</summary>
public sealed class ClipOp : OnnxOp
{
    public float AttributeMin { get; }
    public float AttributeMax { get; }

    private ClipOp(OnnxNode node, string where, float min, float max) : base(node, where, node.Inputs, node.Outputs[0])
    {
        AttributeMin = min;
        AttributeMax = max;
    }

    internal static ClipOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(1, 3);
        float min = a.Float("min", float.NegativeInfinity, infinite: true), max = a.Float("max", float.PositiveInfinity, infinite: true);
        a.Ignore("consumed_inputs");
        a.Finish();
        return new ClipOp(node, a.Where, min, max);
    }

    public (float Min, float Max) Bounds(IReadOnlyList<Tensor?> inputs) => (Bound(inputs, 1, "min") ?? AttributeMin, Bound(inputs, 2, "max") ?? AttributeMax);

    private float? Bound(IReadOnlyList<Tensor?> inputs, int i, string name)
    {
        if (inputs.Count <= i || inputs[i] is null) return null;
        if (inputs[i]!.Length != 1) throw Error($"{name} {inputs[i]!.ShapeString} must be one value");
        return inputs[i]!.Data[0];
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        (float min, float max) = Bounds(inputs);
        return Activation.Apply(inputs[0]!, ActivationKind.Clip, min: min, max: max);
    }
}

/// <summary>ONNX Softmax and LogSoftmax. From opset 13 along one <c>axis</c> (default -1); before it the input is seen
/// as 2D at <c>axis</c> (default 1) and every row of the dimensions from <c>axis</c> on is one softmax.</summary>
public sealed class SoftmaxOp : OnnxOp
{
    public int Axis { get; }
    public bool Log { get; }
    /// <summary>Opset 1-12's 2D coercion (the dimensions from the axis on are one line).</summary>
    public bool Coerced { get; }

    private SoftmaxOp(OnnxNode node, string where, int axis, bool log, bool coerced) : base(node, where, node.Inputs, node.Outputs[0])
    {
        Axis = axis;
        Log = log;
        Coerced = coerced;
    }

    internal static SoftmaxOp Read(OnnxNode node, NodeAttributes a, long opset)
    {
        a.CheckArity(1, 1);
        bool coerced = opset < 13;
        long axis = a.Int("axis", coerced ? 1 : -1);
        if (axis is < -64 or > 64) throw a.Error($"axis {axis} is out of range");
        a.Finish();
        return new SoftmaxOp(node, a.Where, (int)axis, node.OpType == "LogSoftmax", coerced);
    }

    /// <summary>(outer, n, inner) for an input shape.</summary>
    public (int Outer, int N, int Inner) Blocks(int[] shape)
    {
        int axis = Axis < 0 ? Axis + shape.Length : Axis;
        if (axis < 0 || axis >= Math.Max(1, shape.Length)) throw Error($"axis {Axis} is out of range for an input of rank {shape.Length}");
        long outer = 1, n = 1, inner = 1;
        for (int d = 0; d < shape.Length; d++)
        {
            if (d < axis) outer *= shape[d];
            else if (d == axis || Coerced) n *= shape[d];
            else inner *= shape[d];
        }
        return ((int)outer, (int)n, (int)inner);
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!;
        (int outer, int n, int inner) = Blocks(x.Shape);
        return Softmax.Apply(x, outer, n, inner, Log);
    }
}

/// <summary>ONNX Reshape: the values in the same order under a new shape from the <c>shape</c> input (an initializer,
/// or an integer graph input when run as a graph; opset 1-4: the attribute): 0 keeps the input's dimension (unless
/// <c>allowzero</c> = 1), -1 takes what is left.</summary>
public sealed class ReshapeOp : OnnxOp
{
    public long[]? AttributeShape { get; }
    public bool AllowZero { get; }

    private ReshapeOp(OnnxNode node, string where, long[]? shape, bool allowZero) : base(node, where, node.Inputs, node.Outputs[0])
    {
        AttributeShape = shape;
        AllowZero = allowZero;
    }

    public override IEnumerable<string> IntegerInputs => AttributeShape is null && Inputs.Count > 1 ? [Inputs[1]] : [];

    internal static ReshapeOp Read(OnnxNode node, NodeAttributes a)
    {
        long[]? shape = a.Ints("shape");
        a.CheckArity(shape is null ? 2 : 1, shape is null ? 2 : 1);
        long allowZero = a.Int("allowzero", 0);
        if (allowZero is not (0 or 1)) throw a.Error($"allowzero {allowZero} must be 0 or 1");
        a.Ignore("consumed_inputs");
        a.Finish();
        return new ReshapeOp(node, a.Where, shape, allowZero == 1);
    }

    /// <summary>The target shape as stored (0 and -1 unresolved).</summary>
    public long[] Target(Tensor? shapeInput)
    {
        if (AttributeShape is not null) return AttributeShape;
        if (shapeInput is null) throw Error("input 'shape' has no value");
        if (shapeInput.Rank != 1) throw Error($"shape {shapeInput.ShapeString} must be one-dimensional");
        return Integers(shapeInput, "shape");
    }

    public int[] OutputShape(int[] input, long[] target)
    {
        long total = input.Aggregate(1L, (p, d) => p * d), known = 1;
        int infer = -1;
        var shape = new long[target.Length];
        for (int i = 0; i < target.Length; i++)
        {
            long t = target[i];
            if (t == 0 && !AllowZero)
            {
                if (i >= input.Length) throw Error($"shape [{string.Join(", ", target)}] keeps dimension {i} (0), which the input {Tensor.ShapeText(input)} does not have");
                t = input[i];
            }
            if (t == -1)
            {
                if (infer >= 0) throw Error($"shape [{string.Join(", ", target)}] has more than one -1");
                infer = i;
                continue;
            }
            if (t < 0 || t > int.MaxValue) throw Error($"shape [{string.Join(", ", target)}] entry {i} is {t}");
            shape[i] = t;
            known *= t;
        }
        if (infer >= 0) shape[infer] = known == 0 ? 0 : total / known;
        if (shape.Aggregate(1L, (p, d) => p * d) != total)
            throw Error($"shape [{string.Join(", ", target)}] does not hold the {total} values of {Tensor.ShapeText(input)}");
        return shape.Select(d => (int)d).ToArray();
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!;
        return x.Reshape(OutputShape(x.Shape, Target(inputs.Count > 1 ? inputs[1] : null))).Clone();
    }
}

/// <summary>ONNX InstanceNormalization: inputs X (N, C, ...), scale (C), B (C); <c>epsilon</c> (1e-5). See <see cref="InstanceNorm"/>.</summary>
public sealed class InstanceNormOp : OnnxOp
{
    public float Epsilon { get; }

    private InstanceNormOp(OnnxNode node, string where, float epsilon) : base(node, where, node.Inputs, node.Outputs[0]) => Epsilon = epsilon;

    internal static InstanceNormOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(3, 3);
        float epsilon = a.Float("epsilon", 1e-5f);
        if (!(epsilon >= 0) || !float.IsFinite(epsilon)) throw a.Error($"epsilon {epsilon} must be finite and not negative");
        a.Finish();
        return new InstanceNormOp(node, a.Where, epsilon);
    }

    public InstanceNorm Parameters(Tensor scale, Tensor shift)
    {
        if (scale.Rank != 1 || shift.Rank != 1 || scale.Length != shift.Length)
            throw Error($"scale {scale.ShapeString} and B {shift.ShapeString} must be one value per channel each");
        return new InstanceNorm(scale.Data, shift.Data, Epsilon);
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!;
        InstanceNorm norm = Parameters(inputs[1]!, inputs[2]!);
        if (x.Rank < 3 || x.Shape[1] != norm.Channels)
            throw Error($"input {x.ShapeString} must be (N, C, ...) with C = {norm.Channels}");
        int plane = (int)x.Shape[2..].Aggregate(1L, (p, d) => p * d);
        try
        {
            return norm.Apply(x, plane);
        }
        catch (ConvGLException e)
        {
            throw Error(e.Message);
        }
    }
}

/// <summary>ONNX GroupNormalization (opset 18: <c>scale</c> and <c>bias</c> one value per group; opset 21: one per channel;
/// <c>num_groups</c>, <c>epsilon</c>, <c>stash_type</c>) on (N, C, ...): see <see cref="InstanceNorm.ApplyInGroups"/>
/// (statistics in double: stash_type's float32 and double both read as it).</summary>
public sealed class GroupNormalizationOp : OnnxOp
{
    public int Groups { get; }
    public float Epsilon { get; }
    /// <summary>Opset 18's form: scale and bias per group (each channel takes its group's).</summary>
    public bool PerGroup { get; }

    private GroupNormalizationOp(OnnxNode node, string where, int groups, float epsilon, bool perGroup) : base(node, where, node.Inputs, node.Outputs[0]) =>
        (Groups, Epsilon, PerGroup) = (groups, epsilon, perGroup);

    internal static GroupNormalizationOp Read(OnnxNode node, NodeAttributes a, long opset)
    {
        a.CheckArity(3, 3);
        long groups = a.Int("num_groups", 0);
        if (groups < 1 || groups > int.MaxValue) throw a.Error($"num_groups {groups} must be at least 1 (the attribute is required)");
        float epsilon = a.Float("epsilon", 1e-5f);
        if (!(epsilon >= 0)) throw a.Error($"epsilon {epsilon} must not be negative");
        long stash = a.Int("stash_type", 1);
        if (stash is not (1 or 11)) throw a.Error($"stash_type {stash} must be 1 (float) or 11 (double)");
        a.Finish();
        return new GroupNormalizationOp(node, a.Where, (int)groups, epsilon, opset < 21);
    }

    /// <summary>The per-channel parameters for <paramref name="channels"/> channels (opset 18's per-group ones repeated over
    /// their group's channels).</summary>
    public InstanceNorm Parameters(Tensor scale, Tensor bias, int channels)
    {
        if (channels % Groups != 0) throw Error($"num_groups {Groups} does not divide the input's {channels} channels");
        int want = PerGroup ? Groups : channels;
        if (scale.Rank != 1 || bias.Rank != 1 || scale.Length != want || bias.Length != want)
            throw Error($"scale {scale.ShapeString} and bias {bias.ShapeString} must be ({want},) each: one value per {(PerGroup ? "group (opset 18)" : "channel (opset 21)")}");
        int per = channels / Groups;
        float[] Spread(Tensor t) => PerGroup ? Enumerable.Range(0, channels).Select(c => t.Data[c / per]).ToArray() : t.Data;
        return new InstanceNorm(Spread(scale), Spread(bias), Epsilon);
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!;
        if (x.Rank < 3) throw Error($"input {x.ShapeString} must be (N, C, ...)");
        int n = x.Shape[0], c = x.Shape[1], plane = (int)(x.Length / Math.Max(1L, (long)n * c));
        InstanceNorm norm = Parameters(inputs[1]!, inputs[2]!, c);
        var output = new Tensor(x.Shape);
        for (int b = 0; b < n; b++)
        {
            Tensor image = norm.ApplyInGroups(new Tensor([c, 1, plane], x.Data.AsSpan(b * c * plane, c * plane).ToArray()), Groups);
            image.Data.CopyTo(output.Data, b * c * plane);
        }
        return output;
    }
}

/// <summary>ONNX DepthToSpace (<c>blocksize</c>, <c>mode</c> DCR or CRD) and SpaceToDepth (<c>blocksize</c>) on
/// (N, C, H, W); see <see cref="Ops.DepthToSpace"/>.</summary>
public sealed class DepthToSpaceOp : OnnxOp
{
    public int Block { get; }
    public bool ToSpace { get; }
    public DepthToSpaceMode Mode { get; }

    private DepthToSpaceOp(OnnxNode node, string where, int block, bool toSpace, DepthToSpaceMode mode) : base(node, where, node.Inputs, node.Outputs[0])
    {
        Block = block;
        ToSpace = toSpace;
        Mode = mode;
    }

    internal static DepthToSpaceOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(1, 1);
        long block = a.Int("blocksize", 0);
        if (block is < 1 or > 4096) throw a.Error($"attribute 'blocksize' must be in [1, 4096], got {block}");
        bool toSpace = node.OpType == "DepthToSpace";
        DepthToSpaceMode mode = DepthToSpaceMode.Dcr;
        if (toSpace)
        {
            string m = a.String("mode", "DCR");
            mode = m switch
            {
                "DCR" => DepthToSpaceMode.Dcr,
                "CRD" => DepthToSpaceMode.Crd,
                _ => throw a.Error($"mode '{m}' is not supported (supported: DCR, CRD)"),
            };
        }
        a.Finish();
        return new DepthToSpaceOp(node, a.Where, (int)block, toSpace, mode);
    }

    public int[] OutputShape(int[] shape)
    {
        if (shape.Length != 4) throw Error($"input must be (N, C, H, W), got {Tensor.ShapeText(shape)}");
        try
        {
            (int c, int h, int w) = DepthToSpace.OutputShape(shape[1], shape[2], shape[3], Block, ToSpace);
            return [shape[0], c, h, w];
        }
        catch (ConvGLException e)
        {
            throw Error(e.Message);
        }
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        OutputShape(inputs[0]!.Shape);
        return PerImage(inputs[0]!, image => ToSpace ? DepthToSpace.ToSpace(image, Block, Mode) : DepthToSpace.ToDepth(image, Block));
    }
}

/// <summary>ONNX ReduceMean / ReduceSum / ReduceMax / ReduceMin / ReduceL1 / ReduceL2 / ReduceSumSquare / ReduceLogSum /
/// ReduceLogSumExp / ReduceProd (axes from the attribute, or the input of ReduceSum from opset 13 and the others from 18:
/// an initializer or an integer graph input; no axes: all of them, or none with noop_with_empty_axes; keepdims) and
/// GlobalMaxPool (max over the spatial axes, kept as 1). See <see cref="Reduce"/>.</summary>
public sealed class ReduceOp : OnnxOp
{
    public ReduceKind Kind { get; }
    public long[]? AttributeAxes { get; }
    public bool KeepDims { get; }
    public bool NoopWithEmptyAxes { get; }
    public bool GlobalPool { get; }

    private ReduceOp(OnnxNode node, string where, ReduceKind kind, long[]? axes, bool keepDims, bool noop, bool global)
        : base(node, where, node.Inputs, node.Outputs[0])
    {
        Kind = kind;
        AttributeAxes = axes;
        KeepDims = keepDims;
        NoopWithEmptyAxes = noop;
        GlobalPool = global;
    }

    public override IEnumerable<string> IntegerInputs => Inputs.Count > 1 && Inputs[1].Length > 0 ? [Inputs[1]] : [];

    internal static ReduceOp Read(OnnxNode node, NodeAttributes a)
    {
        if (node.OpType == "GlobalMaxPool")
        {
            a.CheckArity(1, 1);
            a.Finish();
            return new ReduceOp(node, a.Where, ReduceKind.Max, null, true, false, true);
        }
        ReduceKind kind = node.OpType switch
        {
            "ReduceMean" => ReduceKind.Mean,
            "ReduceSum" => ReduceKind.Sum,
            "ReduceMax" => ReduceKind.Max,
            "ReduceL1" => ReduceKind.L1,
            "ReduceL2" => ReduceKind.L2,
            "ReduceSumSquare" => ReduceKind.SumSquare,
            "ReduceLogSum" => ReduceKind.LogSum,
            "ReduceLogSumExp" => ReduceKind.LogSumExp,
            "ReduceProd" => ReduceKind.Prod,
            _ => ReduceKind.Min,
        };
        a.CheckArity(1, 2);
        long[]? axes = a.Ints("axes");
        long keep = a.Int("keepdims", 1), noop = a.Int("noop_with_empty_axes", 0);
        if (keep is not (0 or 1) || noop is not (0 or 1)) throw a.Error($"keepdims {keep} and noop_with_empty_axes {noop} must be 0 or 1");
        a.Finish();
        return new ReduceOp(node, a.Where, kind, axes, keep == 1, noop == 1, false);
    }

    /// <summary>The reduced axes in [0, rank), sorted and distinct.</summary>
    public int[] Axes(int rank, Tensor? axesInput)
    {
        if (GlobalPool)
            return rank >= 3 ? Enumerable.Range(2, rank - 2).ToArray() : throw Error($"GlobalMaxPool takes (N, C, ...), got rank {rank}");
        long[]? axes = AttributeAxes ?? (axesInput is null ? null : Integers(axesInput, "axes"));
        if (axes is null || axes.Length == 0) return NoopWithEmptyAxes ? [] : Enumerable.Range(0, rank).ToArray();
        int[] resolved = axes.Select(v => v < -rank || v >= rank ? throw Error($"axis {v} is out of range for rank {rank}") : (int)(v < 0 ? v + rank : v)).ToArray();
        // As NumPy (the ONNX reference's reduction) and ONNX Runtime: an axis named twice (2 and 2, or 3 and -1) is an error.
        if (resolved.Distinct().Count() != resolved.Length)
            throw Error($"axes [{string.Join(", ", axes)}] name an axis twice (rank {rank})");
        return resolved.Order().ToArray();
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!;
        int[] axes = Axes(x.Rank, inputs.Count > 1 ? inputs[1] : null);
        try
        {
            // No axes with noop_with_empty_axes: a reduction of each value alone (ONNX's spec since 2025: ReduceL2 gives |x|,
            // ReduceSumSquare x^2, ReduceLogSum log x), the value itself for mean, sum, max and min.
            return axes.Length == 0 && Kind is ReduceKind.Mean or ReduceKind.Sum or ReduceKind.Max or ReduceKind.Min ? x.Clone() : Reduce.Apply(x, Kind, axes, KeepDims);
        }
        catch (ConvGLException e)
        {
            throw Error(e.Message);
        }
    }
}

/// <summary>ONNX Neg, Exp, Log, Sqrt, Reciprocal, Floor, Ceil, Sign: element-wise on any shape (see <see cref="Unary"/>).</summary>
public sealed class UnaryOp : OnnxOp
{
    public UnaryKind Kind { get; }

    private UnaryOp(OnnxNode node, string where, UnaryKind kind) : base(node, where, node.Inputs, node.Outputs[0]) => Kind = kind;

    internal static UnaryOp Read(OnnxNode node, NodeAttributes a, UnaryKind kind)
    {
        a.CheckArity(1, 1);
        a.Finish();
        return new UnaryOp(node, a.Where, kind);
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs) => Unary.Apply(inputs[0]!, Kind);
}

/// <summary>ONNX Max, Min, Sum, Mean of one or more inputs with NumPy broadcasting: folded two at a time with
/// <see cref="Elementwise"/> (Max / Min keep a NaN), Mean the Sum divided by the count.</summary>
public sealed class VariadicOp : OnnxOp
{
    public BinaryKind Step { get; }
    public bool Mean { get; }

    private VariadicOp(OnnxNode node, string where, BinaryKind step, bool mean) : base(node, where, node.Inputs, node.Outputs[0])
    {
        Step = step;
        Mean = mean;
    }

    internal static VariadicOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(1, 4096);
        if (node.Inputs.Any(i => i.Length == 0)) throw a.Error("an input is empty: every input must name a value");
        a.Finish();
        return node.OpType switch
        {
            "Max" => new VariadicOp(node, a.Where, BinaryKind.Max, false),
            "Min" => new VariadicOp(node, a.Where, BinaryKind.Min, false),
            "Sum" => new VariadicOp(node, a.Where, BinaryKind.Add, false),
            _ => new VariadicOp(node, a.Where, BinaryKind.Add, true),
        };
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        try
        {
            Tensor acc = inputs[0]!.Clone();
            for (int i = 1; i < inputs.Count; i++) acc = Elementwise.Apply(Step, acc, inputs[i]!);
            return Mean ? Elementwise.Div(acc, new Tensor([], [inputs.Count])) : acc;
        }
        catch (ConvGLException e) when (!e.Message.StartsWith(Where, StringComparison.Ordinal))
        {
            throw Error(e.Message);
        }
    }
}

/// <summary>ONNX LRN on (N, C, H, W): <c>size</c> (required), <c>alpha</c> (1e-4), <c>beta</c> (0.75), <c>bias</c> (1). See <see cref="Ops.Lrn"/>.</summary>
public sealed class LrnOp : OnnxOp
{
    public Lrn Parameters { get; }

    private LrnOp(OnnxNode node, string where, Lrn parameters) : base(node, where, node.Inputs, node.Outputs[0]) => Parameters = parameters;

    internal static LrnOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(1, 1);
        long size = a.Int("size", 0);
        if (size < 1 || size > int.MaxValue) throw a.Error($"attribute 'size' must be given and at least 1 (the channels each sum of squares spans, e.g. 5), got {size}");
        float alpha = a.Float("alpha", 1e-4f), beta = a.Float("beta", 0.75f), bias = a.Float("bias", 1f);
        a.Finish();
        try
        {
            return new LrnOp(node, a.Where, new Lrn((int)size, alpha, beta, bias));
        }
        catch (ConvGLException e)
        {
            throw a.Error(e.Message);
        }
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!;
        if (x.Rank != 4) throw Error($"input {x.ShapeString} must be (N, C, H, W)");
        return Parameters.Apply(x, x.Shape[1], x.Shape[2] * x.Shape[3]);
    }
}
