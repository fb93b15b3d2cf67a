using ConvGL.Core.Ops;

namespace ConvGL.Core.Onnx;

/// <summary>ONNX Shape: the input's dimensions as a 1-D tensor (whole numbers; opset 15's <c>start</c> / <c>end</c> pick
/// a range of them, clamped). It reads no values, only the shape, so the GPU runner computes it on the CPU.</summary>
public sealed class ShapeOp : OnnxOp
{
    public long Start { get; }
    public long? End { get; }

    private ShapeOp(OnnxNode node, string where, long start, long? end) : base(node, where, node.Inputs, node.Outputs[0])
    {
        Start = start;
        End = end;
    }

    internal static ShapeOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(1, 1);
        long start = a.Int("start", 0);
        long? end = node.Attributes.ContainsKey("end") ? a.Int("end", 0) : null;
        a.Ignore("end");
        a.Finish();
        return new ShapeOp(node, a.Where, start, end);
    }

    public Tensor Of(int[] shape) => Of(shape.Select(d => (float)d).ToArray());

    /// <summary>The dimensions as given (a stack's import passes NaN for the ones it does not know).</summary>
    public Tensor Of(float[] shape)
    {
        int rank = shape.Length;
        long Clamp(long i) => Math.Clamp(i < 0 ? i + rank : i, 0, rank);
        int start = (int)Clamp(Start), end = (int)Clamp(End ?? rank);
        float[] dims = shape[start..Math.Max(start, end)];
        return new Tensor([dims.Length], dims);
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs) => Of(inputs[0]!.Shape);
}

/// <summary>ONNX Gather (not GatherElements): slabs of the data along <c>axis</c> at the <c>indices</c> (whole numbers,
/// negative from the end); see <see cref="Indexing.Gather"/>.</summary>
public sealed class GatherOp : OnnxOp
{
    public int Axis { get; }

    private GatherOp(OnnxNode node, string where, int axis) : base(node, where, node.Inputs, node.Outputs[0]) => Axis = axis;

    public override IEnumerable<string> IntegerInputs => [Inputs[1]];

    internal static GatherOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(2, 2);
        long axis = a.Int("axis", 0);
        if (axis is < -64 or > 64) throw a.Error($"axis {axis} is out of range");
        a.Finish();
        return new GatherOp(node, a.Where, (int)axis);
    }

    public int AxisFor(int rank) => AxisIndex(Axis, rank, "data of rank");

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!;
        int axis = AxisFor(x.Rank);
        CheckValues([.. x.Shape[..axis].Select(d => (long)d), .. inputs[1]!.Shape.Select(d => (long)d), .. x.Shape[(axis + 1)..].Select(d => (long)d)]);
        try
        {
            return Indexing.Gather(x, axis, inputs[1]!);
        }
        catch (ConvGLException e) when (!e.Message.StartsWith(Where, StringComparison.Ordinal))
        {
            throw Error($"indices: {e.Message}");
        }
    }
}

/// <summary>ONNX Unsqueeze and Squeeze: the values unchanged under a shape with dimensions of 1 inserted at (removed
/// from) <c>axes</c> (attribute to opset 12, input from 13; negative axes count from the end of the output's rank for
/// Unsqueeze, the input's for Squeeze). Squeeze without axes removes every dimension of 1.</summary>
public sealed class SqueezeOp : OnnxOp
{
    public bool Unsqueeze { get; }
    public long[]? AttributeAxes { get; }

    private SqueezeOp(OnnxNode node, string where, bool unsqueeze, long[]? axes) : base(node, where, node.Inputs, node.Outputs[0])
    {
        Unsqueeze = unsqueeze;
        AttributeAxes = axes;
    }

    public override IEnumerable<string> IntegerInputs => Inputs.Count > 1 && Inputs[1].Length > 0 ? [Inputs[1]] : [];

    /// <summary>The axes as the file stores them (the attribute, or the axes input where <paramref name="known"/> holds it),
    /// negative ones counted from the end of a rank-<paramref name="rank"/> value (Squeeze's input, Unsqueeze's output);
    /// null where they are not stored.</summary>
    public long[]? StoredAxes(IReadOnlyDictionary<string, Tensor> known, int rank) =>
        (AttributeAxes ?? (Inputs.Count > 1 && Inputs[1].Length > 0 && known.TryGetValue(Inputs[1], out Tensor? t) ? t.Data.Select(v => (long)v).ToArray() : null))
        ?.Select(a => a < 0 ? a + rank : a).ToArray();

    internal static SqueezeOp Read(OnnxNode node, NodeAttributes a)
    {
        bool unsqueeze = node.OpType == "Unsqueeze";
        long[]? axes = a.Ints("axes");
        a.CheckArity(unsqueeze && axes is null ? 2 : 1, axes is null ? 2 : 1);
        a.Finish();
        return new SqueezeOp(node, a.Where, unsqueeze, axes);
    }

    public int[] OutputShape(int[] shape, Tensor? axesInput)
    {
        long[]? axes = AttributeAxes ?? (axesInput is null ? null : Integers(axesInput, "axes"));
        if (Unsqueeze)
        {
            if (axes is null) throw Error("input 'axes' has no value");
            int rank = shape.Length + axes.Length;
            var inserted = new bool[rank];
            foreach (long a in axes)
            {
                long k = a < 0 ? a + rank : a;
                if (k < 0 || k >= rank || inserted[k]) throw Error($"axes [{string.Join(", ", axes)}] must be distinct axes of the rank-{rank} output");
                inserted[k] = true;
            }
            var result = new int[rank];
            for (int k = 0, j = 0; k < rank; k++) result[k] = inserted[k] ? 1 : shape[j++];
            return result;
        }
        var removed = new bool[shape.Length];
        if (axes is null)
        {
            for (int k = 0; k < shape.Length; k++) removed[k] = shape[k] == 1;
        }
        else
        {
            foreach (long a in axes)
            {
                long k = a < 0 ? a + shape.Length : a;
                if (k < 0 || k >= shape.Length || removed[k]) throw Error($"axes [{string.Join(", ", axes)}] must be distinct axes of the input {Tensor.ShapeText(shape)}");
                if (shape[k] != 1) throw Error($"axis {a} of {Tensor.ShapeText(shape)} has {shape[k]} entries; Squeeze removes only dimensions of 1");
                removed[k] = true;
            }
        }
        return shape.Where((_, k) => !removed[k]).ToArray();
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs) =>
        inputs[0]!.Reshape(OutputShape(inputs[0]!.Shape, inputs.Count > 1 ? inputs[1] : null)).Clone();
}

/// <summary>ONNX Cast. ConvGL holds every value as float32, so a cast to FLOAT, DOUBLE or FLOAT16 (rounded to half
/// precision) keeps a number a number, one to an integer type truncates toward zero (as C and NumPy do; NaN stays NaN,
/// for the stack import's unknown sizes) and one to BOOL gives 0 or 1. Integer results are exact up to 2^24.</summary>
public sealed class CastOp : OnnxOp
{
    public int To { get; }

    private CastOp(OnnxNode node, string where, int to) : base(node, where, node.Inputs, node.Outputs[0]) => To = to;

    internal static CastOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(1, 1);
        long to = a.Int("to", -1);
        a.Ignore("saturate");
        a.Finish();
        if (to is not (1 or 2 or 3 or 4 or 5 or 6 or 7 or 9 or 10 or 11 or 12 or 13))
            throw a.Error($"cast to {OnnxReader.DataTypeName((int)to)} is not supported (ConvGL casts to FLOAT, DOUBLE, FLOAT16, the integer types and BOOL)");
        return new CastOp(node, a.Where, (int)to);
    }

    /// <summary>True when the cast leaves every float32 value as it is (FLOAT, DOUBLE).</summary>
    public bool KeepsValues => To is 1 or 11;

    public float Apply(float v) => To switch
    {
        1 or 11 => v,
        10 => (float)(Half)v,
        9 => float.IsNaN(v) ? 1f : v != 0 ? 1f : 0f,
        _ => MathF.Truncate(v),
    };

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!;
        var y = new Tensor(x.Shape);
        for (int i = 0; i < x.Length; i++) y.Data[i] = Apply(x.Data[i]);
        return y;
    }
}

/// <summary>ONNX ConstantOfShape: a tensor of the shape given by its input, every entry the one-element <c>value</c>
/// attribute (default 0). The size is checked before anything is allocated.</summary>
public sealed class ConstantOfShapeOp : OnnxOp
{
    public float Value { get; }

    private ConstantOfShapeOp(OnnxNode node, string where, float value) : base(node, where, node.Inputs, node.Outputs[0]) => Value = value;

    public override IEnumerable<string> IntegerInputs => [Inputs[0]];

    internal static ConstantOfShapeOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(1, 1);
        float value = 0;
        if (node.Attributes.TryGetValue("value", out OnnxAttribute? v))
        {
            if (v.Kind != OnnxAttributeKind.Tensor || v.T is null || v.T.Length != 1)
                throw a.Error("attribute 'value' must be a one-element TENSOR");
            value = v.T.Data[0];
            // A fill of +-inf is a mask's value; NaN is no value at all.
            if (float.IsNaN(value)) throw a.Error("attribute 'value' is NaN; the values a model stores must be numbers: export the model again");
        }
        a.Ignore("value");
        a.Finish();
        return new ConstantOfShapeOp(node, a.Where, value);
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor s = inputs[0]!;
        if (s.Rank != 1) throw Error($"input 'input' {s.ShapeString} must be one-dimensional");
        long[] dims = Integers(s, "shape");
        if (dims.Any(d => d < 0)) throw Error($"shape [{string.Join(", ", dims)}] has a negative dimension");
        CheckValues(dims);
        var y = new Tensor(dims.Select(d => (int)d).ToArray());
        Array.Fill(y.Data, Value);
        return y;
    }
}

/// <summary>ONNX Slice: along each listed axis, the elements start, start + step, ... before end (opset 1-9: attributes
/// starts / ends / axes; 10 on: inputs starts, ends, axes, steps). Out-of-range starts and ends are clamped as ONNX
/// says (<see cref="Indexing.ClampSlice"/>); INT64_MAX as an end means "to the end".</summary>
public sealed class SliceOp : OnnxOp
{
    private readonly long[]? _starts, _ends, _axes;

    private SliceOp(OnnxNode node, string where, long[]? starts, long[]? ends, long[]? axes) : base(node, where, node.Inputs, node.Outputs[0])
    {
        _starts = starts;
        _ends = ends;
        _axes = axes;
    }

    public override IEnumerable<string> IntegerInputs => Inputs.Skip(1).Where(i => i.Length > 0);

    internal static SliceOp Read(OnnxNode node, NodeAttributes a)
    {
        long[]? starts = a.Ints("starts"), ends = a.Ints("ends"), axes = a.Ints("axes");
        bool attributes = starts is not null || ends is not null;
        if (attributes && (starts is null || ends is null)) throw a.Error("needs both attributes 'starts' and 'ends'");
        a.CheckArity(attributes ? 1 : 3, attributes ? 1 : 5);
        a.Finish();
        return new SliceOp(node, a.Where, starts, ends, axes);
    }

    /// <summary>One clamped <see cref="Indexing.SliceAxis"/> per dimension of <paramref name="shape"/> (the unlisted
    /// ones whole). <paramref name="parameters"/> are the inputs after the data (starts, ends, axes, steps; null when omitted).</summary>
    public Indexing.SliceAxis[] Axes(int[] shape, IReadOnlyList<Tensor?> parameters) =>
        Ranges(shape.Length, parameters).Select((r, k) => Indexing.ClampSlice(r.Start, r.End, r.Step, shape[k])).ToArray();

    /// <summary>The (start, end, step) of each of <paramref name="rank"/> axes as the node gives them, before clamping to a
    /// size (an unlisted axis: 0, INT64_MAX, 1): what a slice means for every size of a map.</summary>
    public (long Start, long End, long Step)[] Ranges(int rank, IReadOnlyList<Tensor?> parameters)
    {
        long[] Param(int i, string name) => parameters.Count > i && parameters[i] is { } t
            ? t.Rank == 1 ? Integers(t, name) : throw Error($"{name} {t.ShapeString} must be one-dimensional")
            : throw Error($"input '{name}' has no value");
        long[] starts = _starts ?? Param(0, "starts"), ends = _ends ?? Param(1, "ends");
        long[] axes = _starts is not null ? _axes ?? Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray()
            : parameters.Count > 2 && parameters[2] is not null ? Param(2, "axes") : Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        long[] steps = _starts is null && parameters.Count > 3 && parameters[3] is not null ? Param(3, "steps") : Enumerable.Repeat(1L, starts.Length).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
            throw Error($"starts, ends, axes and steps must have one entry each per sliced axis (have {starts.Length}, {ends.Length}, {axes.Length}, {steps.Length})");
        var result = Enumerable.Repeat((0L, long.MaxValue, 1L), rank).ToArray();
        var seen = new bool[rank];
        for (int i = 0; i < starts.Length; i++)
        {
            long k = axes[i] < 0 ? axes[i] + rank : axes[i];
            if (k < 0 || k >= rank || seen[k]) throw Error($"axes [{string.Join(", ", axes)}] must be distinct axes of a rank-{rank} input");
            if (steps[i] == 0) throw Error($"steps [{string.Join(", ", steps)}] has a 0");
            seen[k] = true;
            result[k] = (starts[i], ends[i], steps[i]);
        }
        return result;
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs) => Indexing.Slice(inputs[0]!, Axes(inputs[0]!.Shape, inputs.Skip(1).ToArray()));
}

/// <summary>One output of ONNX Split: the input cut along <c>axis</c> into pieces of the sizes in <c>split</c>
/// (attribute to opset 12, input from 13), or into equal pieces (opset 18's <c>num_outputs</c>: the last one may be
/// smaller). A Split node with k outputs is built as k of these ops, one per output, each a slice of the input.</summary>
public sealed class SplitOp : OnnxOp
{
    public int Axis { get; }
    /// <summary>Which output of the node this op computes.</summary>
    public int Index { get; }
    public int Count { get; }
    private readonly long[]? _split;
    private readonly bool _ceil;

    private SplitOp(OnnxNode node, string where, int axis, int index, int count, long[]? split, bool ceil)
        : base(node, where, node.Inputs, node.Outputs[index])
    {
        Axis = axis;
        Index = index;
        Count = count;
        _split = split;
        _ceil = ceil;
    }

    public override IEnumerable<string> IntegerInputs => Inputs.Count > 1 && Inputs[1].Length > 0 ? [Inputs[1]] : [];

    internal static IReadOnlyList<SplitOp> Read(OnnxNode node, NodeAttributes a)
    {
        long axis = a.Int("axis", 0);
        long[]? split = a.Ints("split");
        long numOutputs = a.Int("num_outputs", 0);
        a.Finish();
        int present = node.Inputs.Count(i => i.Length > 0);
        if (node.Inputs.Count == 0 || node.Inputs[0].Length == 0 || present > 2) throw a.Error($"has {present} inputs, this op takes 1 to 2");
        if (axis is < -64 or > 64) throw a.Error($"axis {axis} is out of range");
        int outputs = node.Outputs.Count;
        if (outputs == 0 || node.Outputs.Any(o => o.Length == 0)) throw a.Error("every output of a Split must be named (ConvGL computes each)");
        if (split is not null && split.Length != outputs) throw a.Error($"split has {split.Length} entries for {outputs} outputs");
        if (numOutputs != 0 && numOutputs != outputs) throw a.Error($"num_outputs {numOutputs} but the node has {outputs} outputs");
        return Enumerable.Range(0, outputs).Select(k => new SplitOp(node, a.Where, (int)axis, k, outputs, split, numOutputs != 0)).ToArray();
    }

    /// <summary>This output's slice of an input of <paramref name="shape"/> (one <see cref="Indexing.SliceAxis"/> per dimension).</summary>
    public Indexing.SliceAxis[] Axes(int[] shape, Tensor? splitInput)
    {
        int axis = AxisIndex(Axis, shape.Length, "an input of rank");
        int n = shape[axis];
        long[] sizes;
        if (_split is not null || splitInput is not null)
        {
            sizes = _split ?? Integers(splitInput!, "split");
            if (sizes.Length != Count) throw Error($"split has {sizes.Length} entries for {Count} outputs");
            if (sizes.Any(s => s < 0) || sizes.Sum() != n) throw Error($"split [{string.Join(", ", sizes)}] must be sizes that add up to the axis's {n}");
        }
        else if (_ceil)
        {
            long piece = (n + Count - 1) / Count;
            sizes = Enumerable.Range(0, Count).Select(k => Math.Clamp(n - k * piece, 0, piece)).ToArray();
        }
        else
        {
            if (n % Count != 0) throw Error($"an axis of {n} does not split into {Count} equal parts (give 'split' sizes)");
            sizes = Enumerable.Repeat((long)(n / Count), Count).ToArray();
        }
        long start = sizes.Take(Index).Sum();
        var result = shape.Select(d => new Indexing.SliceAxis(0, 1, d)).ToArray();
        result[axis] = new Indexing.SliceAxis((int)start, 1, (int)sizes[Index]);
        return result;
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs) => Indexing.Slice(inputs[0]!, Axes(inputs[0]!.Shape, inputs.Count > 1 ? inputs[1] : null));
}

/// <summary>ONNX Transpose: the axes permuted by <c>perm</c> (default: reversed); see <see cref="Indexing.Transpose"/>.</summary>
public sealed class TransposeOp : OnnxOp
{
    public long[]? Perm { get; }

    private TransposeOp(OnnxNode node, string where, long[]? perm) : base(node, where, node.Inputs, node.Outputs[0]) => Perm = perm;

    internal static TransposeOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(1, 1);
        long[]? perm = a.Ints("perm");
        a.Finish();
        return new TransposeOp(node, a.Where, perm);
    }

    public int[] PermFor(int rank)
    {
        int[] perm = Perm is null ? Enumerable.Range(0, rank).Reverse().ToArray() : Perm.Select(p => (int)Math.Clamp(p, -1, 64)).ToArray();
        if (perm.Length != rank || perm.Order().Where((p, k) => p != k).Any())
            throw Error($"perm [{string.Join(", ", Perm ?? [])}] is not a permutation of the input's {rank} axes");
        return perm;
    }

    public StridedView View(int[] shape) => Indexing.TransposeView(shape, PermFor(shape.Length));

    public override Tensor Run(IReadOnlyList<Tensor?> inputs) => Indexing.Transpose(inputs[0]!, PermFor(inputs[0]!.Rank));
}

/// <summary>ONNX MatMul (NumPy's matmul): the last two axes are matrices, the leading ones broadcast as batches; a 1-D
/// first input is a row (prepended 1, removed after), a 1-D second input a column (appended 1, removed after). Sums in
/// double, rounded once.</summary>
public sealed class MatMulOp : OnnxOp
{
    private MatMulOp(OnnxNode node, string where) : base(node, where, node.Inputs, node.Outputs[0]) { }

    internal static MatMulOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(2, 2);
        a.Finish();
        return new MatMulOp(node, a.Where);
    }

    /// <summary>The output shape, and (batch, M, K, N) with batch the broadcast leading dimensions.</summary>
    public (int[] Shape, int[] Batch, int M, int K, int N) Shapes(int[] a, int[] b)
    {
        if (a.Length == 0 || b.Length == 0) throw Error("MatMul takes no scalars");
        int[] a2 = a.Length == 1 ? [1, a[0]] : a, b2 = b.Length == 1 ? [b[0], 1] : b;
        int m = a2[^2], k = a2[^1], kb = b2[^2], n = b2[^1];
        if (k != kb) throw Error($"{Tensor.ShapeText(a)} @ {Tensor.ShapeText(b)}: {k} columns against {kb} rows");
        int[] batch;
        try
        {
            batch = Elementwise.BroadcastShape(a2[..^2], b2[..^2], "MatMul");
        }
        catch (ConvGLException)
        {
            throw Error($"the batch dimensions of {Tensor.ShapeText(a)} and {Tensor.ShapeText(b)} do not broadcast");
        }
        var shape = new List<int>(batch);
        if (a.Length > 1) shape.Add(m);
        if (b.Length > 1) shape.Add(n);
        return ([.. shape], batch, m, k, n);
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor a = inputs[0]!, b = inputs[1]!;
        (int[] shape, int[] batch, int m, int k, int n) = Shapes(a.Shape, b.Shape);
        CheckValues([.. batch.Select(d => (long)d), m, n]);
        var y = new Tensor(shape);
        int[] aBatch = a.Rank > 2 ? a.Shape[..^2] : [], bBatch = b.Rank > 2 ? b.Shape[..^2] : [];
        long batches = batch.Aggregate(1L, (p, d) => p * d);
        var index = new int[batch.Length];
        for (long t = 0; t < batches; t++)
        {
            // This batch's matrix in each input: its batch index with broadcast dimensions (1) held at 0.
            long aBase = BatchOffset(index, aBatch) * m * k, bBase = BatchOffset(index, bBatch) * k * n;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = 0;
                    for (int p = 0; p < k; p++) sum += (double)a.Data[aBase + (long)i * k + p] * b.Data[bBase + (long)p * n + j];
                    y.Data[(t * m + i) * n + j] = (float)sum;
                }
            for (int d = batch.Length - 1; d >= 0 && ++index[d] == batch[d]; d--) index[d] = 0;
        }
        return y;
    }

    /// <summary>Which matrix of an input with leading dimensions <paramref name="dims"/> batch <paramref name="index"/> (of the
    /// broadcast batch shape) reads: dimensions of 1 broadcast (held at 0), missing leading ones too.</summary>
    public static long BatchOffset(int[] index, int[] dims)
    {
        long offset = 0;
        int skip = index.Length - dims.Length;
        for (int d = 0; d < dims.Length; d++) offset = offset * dims[d] + (dims[d] == 1 ? 0 : index[skip + d]);
        return offset;
    }
}
