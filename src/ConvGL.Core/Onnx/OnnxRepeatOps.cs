using ConvGL.Core.Ops;

namespace ConvGL.Core.Onnx;

/// <summary>ONNX Expand: the input broadcast (NumPy's rules) against the <c>shape</c> input, so the output's shape is
/// broadcast(input's shape, shape): a dimension of 1 on either side takes the other's; see <see cref="Indexing.Expand"/>.
/// The size is checked before anything is allocated.</summary>
public sealed class ExpandOp : OnnxOp
{
    private ExpandOp(OnnxNode node, string where) : base(node, where, node.Inputs, node.Outputs[0]) { }

    public override IEnumerable<string> IntegerInputs => [Inputs[1]];

    internal static ExpandOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(2, 2);
        a.Finish();
        return new ExpandOp(node, a.Where);
    }

    /// <summary>The output's shape for an input of <paramref name="shape"/>, checked for size.</summary>
    public int[] OutputShape(int[] shape, Tensor target)
    {
        if (target.Rank != 1) throw Error($"shape {target.ShapeString} must be one-dimensional");
        long[] dims = Integers(target, "shape");
        if (dims.Any(d => d < 0)) throw Error($"shape [{string.Join(", ", dims)}] has a negative dimension");
        if (dims.Length > 64) throw Error($"shape has {dims.Length} dimensions; at most 64");
        // Each side's dimension as the broadcast takes it (a 1 gives way), sized before the shape is built in ints.
        int rank = Math.Max(shape.Length, dims.Length);
        var to = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long x = i >= rank - shape.Length ? shape[i - (rank - shape.Length)] : 1;
            long s = i >= rank - dims.Length ? dims[i - (rank - dims.Length)] : 1;
            if (x != s && x != 1 && s != 1)
                throw Error($"the input {Tensor.ShapeText(shape)} does not broadcast to shape [{string.Join(", ", dims)}] (dimension {i}: {x} vs {s})");
            to[i] = x == 1 ? s : x;
        }
        CheckValues(to);
        return to.Select(d => (int)d).ToArray();
    }

    public StridedView View(int[] shape, Tensor target) => Indexing.ExpandView(shape, OutputShape(shape, target));

    public override Tensor Run(IReadOnlyList<Tensor?> inputs) => Indexing.Expand(inputs[0]!, OutputShape(inputs[0]!.Shape, inputs[1]!));
}

/// <summary>ONNX Tile: the input repeated <c>repeats</c>[d] times along every axis d (one count per axis, 0 or more);
/// see <see cref="Indexing.Tile"/>. The size is checked before anything is allocated.</summary>
public sealed class TileOp : OnnxOp
{
    private TileOp(OnnxNode node, string where) : base(node, where, node.Inputs, node.Outputs[0]) { }

    public override IEnumerable<string> IntegerInputs => [Inputs[1]];

    internal static TileOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(2, 2);
        a.Finish();
        return new TileOp(node, a.Where);
    }

    /// <summary>The repeat counts for an input of <paramref name="shape"/>, with the output's size checked.</summary>
    public int[] Repeats(int[] shape, Tensor repeats)
    {
        if (repeats.Rank != 1 || repeats.Length != shape.Length)
            throw Error($"repeats {repeats.ShapeString} must hold one count per axis of the input {Tensor.ShapeText(shape)}");
        long[] r = Integers(repeats, "repeats");
        if (r.Any(v => v < 0)) throw Error($"repeats [{string.Join(", ", r)}] has a negative count");
        CheckValues(shape.Select((n, d) => n == 0 || r[d] == 0 ? 0 : r[d] > int.MaxValue ? long.MaxValue : n * r[d]).ToArray());
        return r.Select(v => (int)Math.Min(v, int.MaxValue)).ToArray();
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs) => Indexing.Tile(inputs[0]!, Repeats(inputs[0]!.Shape, inputs[1]!));
}
