using ConvGL.Core.Ops;

namespace ConvGL.Core.Onnx;

/// <summary>ONNX LayerNormalization (opset 17): X normalised over the axes from <c>axis</c> (default -1) to the end,
/// then times Scale plus B (optional), both broadcast over those axes (NumPy's rules, one way: to the normalised
/// shape); see <see cref="LayerNorm"/>. Only the output Y: the optional Mean and InvStdDev outputs (training) are
/// refused, as other ops' extra outputs, and <c>stash_type</c> must be 1 (float32 statistics; ConvGL's are float32 on
/// the GPU and double on the CPU).</summary>
public sealed class LayerNormOp : OnnxOp
{
    public int Axis { get; }
    public float Epsilon { get; }

    private LayerNormOp(OnnxNode node, string where, int axis, float epsilon) : base(node, where, node.Inputs, node.Outputs[0])
    {
        Axis = axis;
        Epsilon = epsilon;
    }

    internal static LayerNormOp Read(OnnxNode node, NodeAttributes a)
    {
        a.CheckArity(2, 3);
        long axis = a.Int("axis", -1);
        if (axis is < -64 or > 64) throw a.Error($"axis {axis} is out of range");
        float epsilon = a.Float("epsilon", 1e-5f);
        if (!(epsilon >= 0) || !float.IsFinite(epsilon)) throw a.Error($"epsilon {epsilon} must be finite and not negative");
        long stash = a.Int("stash_type", 1);
        if (stash != 1) throw a.Error($"stash_type {stash} is not supported (supported: 1, float32 statistics)");
        a.Finish();
        return new LayerNormOp(node, a.Where, (int)axis, epsilon);
    }

    public int AxisFor(int rank) => AxisIndex(Axis, rank, "X of rank");

    /// <summary>The row parameters for X of <paramref name="shape"/>: Scale and B broadcast to the normalised shape
    /// (X's from <see cref="Axis"/> on); B absent is 0.</summary>
    public LayerNorm Parameters(int[] shape, Tensor scale, Tensor? shift)
    {
        int[] row = shape[AxisFor(shape.Length)..];
        float[] Spread(Tensor t, string name)
        {
            int[] to;
            try
            {
                to = Elementwise.BroadcastShape(t.Shape, row, "LayerNormalization");
            }
            catch (ConvGLException)
            {
                to = [];
            }
            if (!to.AsSpan().SequenceEqual(row))
                throw Error($"{name} {t.ShapeString} does not broadcast to the normalised shape {Tensor.ShapeText(row)}");
            return Indexing.Expand(t, row).Data;
        }
        if (row.Contains(0)) throw Error($"X {Tensor.ShapeText(shape)} has no values to normalise along the axes from {Axis}");
        float[] s = Spread(scale, "Scale");
        return new LayerNorm(s, shift is null ? new float[s.Length] : Spread(shift, "B"), Epsilon);
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!;
        AxisFor(x.Rank);
        if (x.Length == 0) return new Tensor(x.Shape);
        return Parameters(x.Shape, inputs[1]!, inputs.Count > 2 ? inputs[2] : null).Apply(x);
    }
}

/// <summary>LayerNormalization's optional outputs Mean and InvStdDev (1 / sqrt(variance + epsilon)), each as its own op
/// reading X: X's shape with the normalised axes (from <c>axis</c> on) set to 1; statistics in double, rounded once.
/// The GPU runner computes them with layer_norm.comp's STATS programs (in float).</summary>
public sealed class LayerNormStatOp : OnnxOp
{
    public int Axis { get; }
    public float Epsilon { get; }
    /// <summary>True for InvStdDev (output 2), false for Mean (output 1).</summary>
    public bool InvStdDev { get; }

    private LayerNormStatOp(OnnxNode node, string where, string output, int axis, float epsilon, bool invStdDev)
        : base(node, where, node.Inputs.Take(1).ToArray(), output)
    {
        Axis = axis;
        Epsilon = epsilon;
        InvStdDev = invStdDev;
    }

    /// <summary>A LayerNormalization node of several outputs as ops: Y (<see cref="LayerNormOp"/>), then Mean and
    /// InvStdDev where named.</summary>
    internal static IEnumerable<OnnxOp> ReadAll(OnnxNode node, string source)
    {
        OnnxNode yNode = node with { Outputs = [node.Outputs[0]] };
        LayerNormOp y = LayerNormOp.Read(yNode, new NodeAttributes(yNode, source));
        yield return y;
        for (int k = 1; k < Math.Min(3, node.Outputs.Count); k++)
            if (node.Outputs[k].Length > 0) yield return new LayerNormStatOp(node, y.Where, node.Outputs[k], y.Axis, y.Epsilon, k == 2);
    }

    public int AxisFor(int rank) => AxisIndex(Axis, rank, "X of rank");

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!;
        int axis = AxisFor(x.Rank);
        int n = x.Shape[axis..].Aggregate(1, (p, d) => p * d);
        var y = new Tensor([.. x.Shape[..axis], .. Enumerable.Repeat(1, x.Rank - axis)]);
        for (int r = 0; r < y.Length; r++)
        {
            (double mean, double variance) = LayerNorm.MeanAndVariance(x.Data.AsSpan(r * n, n));
            y.Data[r] = (float)(InvStdDev ? 1 / Math.Sqrt(variance + Epsilon) : mean);
        }
        return y;
    }
}
