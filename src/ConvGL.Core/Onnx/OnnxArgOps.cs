using ConvGL.Core.Ops;

namespace ConvGL.Core.Onnx;

/// <summary>ONNX ArgMax / ArgMin (axis, negative from the end; keepdims; opset 12's select_last_index): the index of the
/// largest / smallest value along one axis. ONNX's output is INT64; ConvGL holds it as float32 (exact to 2^24, far beyond
/// any axis it can hold), and OnnxGraph.Build accepts an INT64 graph output that one of these computes. See
/// <see cref="Reduce.Arg"/>.</summary>
public sealed class ArgReduceOp : OnnxOp
{
    public ReduceKind Kind { get; }
    public long Axis { get; }
    public bool KeepDims { get; }
    public bool SelectLast { get; }

    private ArgReduceOp(OnnxNode node, string where, ReduceKind kind, long axis, bool keepDims, bool selectLast)
        : base(node, where, node.Inputs, node.Outputs[0])
    {
        Kind = kind;
        Axis = axis;
        KeepDims = keepDims;
        SelectLast = selectLast;
    }

    internal static ArgReduceOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(1, 1);
        long axis = a.Int("axis", 0), keep = a.Int("keepdims", 1), last = a.Int("select_last_index", 0);
        if (keep is not (0 or 1) || last is not (0 or 1)) throw a.Error($"keepdims {keep} and select_last_index {last} must be 0 or 1");
        a.Finish();
        return new ArgReduceOp(node, a.Where, node.OpType == "ArgMax" ? ReduceKind.ArgMax : ReduceKind.ArgMin, axis, keep == 1, last == 1);
    }

    /// <summary>The axis in [0, rank).</summary>
    public int AxisOf(int rank) => AxisIndex(Axis, rank, "rank");

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!;
        try
        {
            return Reduce.Arg(x, Kind == ReduceKind.ArgMax, AxisOf(x.Rank), KeepDims, SelectLast);
        }
        catch (ConvGLException e) when (!e.Message.StartsWith(Where, StringComparison.Ordinal))
        {
            throw Error(e.Message);
        }
    }
}
