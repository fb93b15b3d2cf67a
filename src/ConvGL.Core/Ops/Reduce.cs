namespace ConvGL.Core.Ops;

/// <summary>The reductions (their numbers are reduce.comp's MODE: keep them). ArgMax / ArgMin reduce one axis to the
/// index (as a float) of its largest / smallest value.</summary>
public enum ReduceKind { Mean, Sum, Max, Min, L1, L2, SumSquare, LogSum, LogSumExp, Prod, ArgMax, ArgMin }

/// <summary>Reductions over a set of axes (ONNX ReduceMean / ReduceSum / ReduceMax / ReduceMin / ReduceL1 / ReduceL2 /
/// ReduceSumSquare / ReduceLogSum / ReduceLogSumExp / ReduceProd, GlobalMaxPool; PyTorch's x.mean((2, 3)), amax,
/// logsumexp, norm): the output keeps the other axes, and the reduced ones as size 1 with <c>keepDims</c>. Accumulates in
/// double; a NaN in a max or min reaches the output (NumPy's max); LogSumExp subtracts the line's largest value first
/// (m + log(sum exp(x - m)), so large values do not overflow; all -inf gives -inf). Over an empty axis each output is
/// its reduction's value for no values (the sum 0, the product 1, the max -inf...). <see cref="Arg"/> is ArgMax /
/// ArgMin.</summary>
public static class Reduce
{
    public static int[] OutputShape(int[] shape, IReadOnlyCollection<int> axes, bool keepDims) =>
        keepDims ? shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray() : shape.Where((_, i) => !axes.Contains(i)).ToArray();

    public static Tensor Apply(Tensor x, ReduceKind kind, int[] axes, bool keepDims)
    {
        if (kind is ReduceKind.ArgMax or ReduceKind.ArgMin)
            throw new ArgumentException("ArgMax and ArgMin reduce one axis to an index: call Reduce.Arg", nameof(kind));
        foreach (int a in axes)
            if (a < 0 || a >= x.Rank) throw new ConvGLException($"reduce axis {a} is out of range for {x.ShapeString}");
        int[] kept = x.Shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray();
        int n = (int)kept.Aggregate(1L, (p, d) => p * d);
        long count = axes.Distinct().Aggregate(1L, (p, a) => p * x.Shape[a]);
        // Over an empty axis every output is the accumulation's start, ONNX's values for an empty set (onnx/onnx#5568):
        // sum, L1, L2 and sum of squares 0, product 1, max -inf, min +inf, log-sum and log-sum-exp -inf; the mean 0 / 0,
        // NaN (NumPy's, where ONNX leaves it undefined).
        // The output index of every input value, in input order.
        var outOf = new int[x.Length];
        var index = new int[x.Rank];
        for (int i = 0; i < x.Length; i++)
        {
            int o = 0;
            for (int d = 0; d < x.Rank; d++) o = o * kept[d] + (kept[d] == 1 ? 0 : index[d]);
            outOf[i] = o;
            for (int d = x.Rank - 1; d >= 0 && ++index[d] == x.Shape[d]; d--) index[d] = 0;
        }
        // LogSumExp's shift: the largest value of each line (NaN when the line holds one).
        double[]? shift = kind == ReduceKind.LogSumExp ? Accumulate(x, outOf, n, ReduceKind.Max, null) : null;
        double[] acc = Accumulate(x, outOf, n, kind, shift);
        var y = new Tensor(OutputShape(x.Shape, axes, keepDims));
        for (int o = 0; o < n; o++)
        {
            y.Data[o] = (float)(kind switch
            {
                ReduceKind.Mean => acc[o] / count,
                ReduceKind.L2 => Math.Sqrt(acc[o]),
                ReduceKind.LogSum => Math.Log(acc[o]),
                // An infinite (or NaN) largest value is the answer itself: x - m would be inf - inf.
                ReduceKind.LogSumExp => double.IsFinite(shift![o]) ? shift[o] + Math.Log(acc[o]) : shift[o],
                _ => acc[o],
            });
        }
        return y;
    }

    /// <summary>One pass of <paramref name="kind"/>'s accumulation (a sum of |x|, x^2, exp(x - shift), a product, a
    /// max...) into one double per output.</summary>
    private static double[] Accumulate(Tensor x, int[] outOf, int n, ReduceKind kind, double[]? shift)
    {
        var acc = new double[n];
        Array.Fill(acc, kind switch
        {
            ReduceKind.Max => double.NegativeInfinity,
            ReduceKind.Min => double.PositiveInfinity,
            ReduceKind.Prod => 1.0,
            _ => 0.0,
        });
        for (int i = 0; i < x.Length; i++)
        {
            int o = outOf[i];
            double v = x.Data[i];
            acc[o] = kind switch
            {
                ReduceKind.Max => double.IsNaN(v) || double.IsNaN(acc[o]) ? double.NaN : Math.Max(acc[o], v),
                ReduceKind.Min => double.IsNaN(v) || double.IsNaN(acc[o]) ? double.NaN : Math.Min(acc[o], v),
                ReduceKind.L1 => acc[o] + Math.Abs(v),
                ReduceKind.L2 or ReduceKind.SumSquare => acc[o] + v * v,
                ReduceKind.LogSumExp => acc[o] + Math.Exp(v - shift![o]),
                ReduceKind.Prod => acc[o] * v,
                _ => acc[o] + v,
            };
        }
        return acc;
    }

    /// <summary>ArgMax / ArgMin (<paramref name="max"/>) over one axis: the index of the line's largest / smallest value,
    /// the first one on a tie, or the last with <paramref name="selectLast"/>. A NaN wins over every number, the first
    /// NaN (NumPy's argmax and argmin), or the last with <paramref name="selectLast"/> (ONNX's reference, which flips the
    /// axis).</summary>
    public static Tensor Arg(Tensor x, bool max, int axis, bool keepDims, bool selectLast)
    {
        if (axis < 0 || axis >= x.Rank) throw new ConvGLException($"arg{(max ? "max" : "min")} axis {axis} is out of range for {x.ShapeString}");
        int count = x.Shape[axis];
        if (count == 0) throw new ConvGLException($"arg{(max ? "max" : "min")} over an empty axis of {x.ShapeString}");
        int outer = x.Shape[..axis].Aggregate(1, (p, d) => p * d), inner = x.Shape[(axis + 1)..].Aggregate(1, (p, d) => p * d);
        var y = new Tensor(OutputShape(x.Shape, [axis], keepDims));
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int at = o * count * inner + i, best = 0;
                for (int k = 1; k < count; k++)
                    if (Beats(x.Data[at + k * inner], x.Data[at + best * inner], max, selectLast)) best = k;
                y.Data[o * inner + i] = best;
            }
        return y;
    }

    /// <summary>Whether value <paramref name="v"/> at a later index replaces the best so far.</summary>
    private static bool Beats(float v, float best, bool max, bool selectLast)
    {
        if (float.IsNaN(best)) return selectLast && float.IsNaN(v);
        if (float.IsNaN(v)) return true;
        return (max ? v > best : v < best) || (selectLast && v == best);
    }
}
