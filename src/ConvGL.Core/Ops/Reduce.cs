namespace ConvGL.Core.Ops;

public enum ReduceKind { Mean, Sum, Max, Min }

/// <summary>Reductions over a set of axes (ONNX ReduceMean / ReduceSum / ReduceMax / ReduceMin, GlobalMaxPool; PyTorch's
/// x.mean((2, 3)), amax): the output keeps the other axes, and the reduced ones as size 1 with <c>keepDims</c>. Sums in
/// double; a NaN in a max or min reaches the output (NumPy's max).</summary>
public static class Reduce
{
    public static int[] OutputShape(int[] shape, IReadOnlyCollection<int> axes, bool keepDims) =>
        keepDims ? shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray() : shape.Where((_, i) => !axes.Contains(i)).ToArray();

    public static Tensor Apply(Tensor x, ReduceKind kind, int[] axes, bool keepDims)
    {
        foreach (int a in axes)
            if (a < 0 || a >= x.Rank) throw new ConvGLException($"reduce axis {a} is out of range for {x.ShapeString}");
        int[] kept = x.Shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray();
        int n = (int)kept.Aggregate(1L, (p, d) => p * d);
        long count = axes.Distinct().Aggregate(1L, (p, a) => p * x.Shape[a]);
        if (count == 0) throw new ConvGLException($"reduce over an empty axis of {x.ShapeString}");
        var acc = new double[n];
        if (kind is ReduceKind.Max or ReduceKind.Min) Array.Fill(acc, kind == ReduceKind.Max ? double.NegativeInfinity : double.PositiveInfinity);
        var index = new int[x.Rank];
        for (int i = 0; i < x.Length; i++)
        {
            int o = 0;
            for (int d = 0; d < x.Rank; d++) o = o * kept[d] + (kept[d] == 1 ? 0 : index[d]);
            double v = x.Data[i];
            acc[o] = kind switch
            {
                ReduceKind.Max => double.IsNaN(v) || double.IsNaN(acc[o]) ? double.NaN : Math.Max(acc[o], v),
                ReduceKind.Min => double.IsNaN(v) || double.IsNaN(acc[o]) ? double.NaN : Math.Min(acc[o], v),
                _ => acc[o] + v,
            };
            for (int d = x.Rank - 1; d >= 0 && ++index[d] == x.Shape[d]; d--) index[d] = 0;
        }
        var y = new Tensor(OutputShape(x.Shape, axes, keepDims));
        for (int o = 0; o < n; o++) y.Data[o] = (float)(kind == ReduceKind.Mean ? acc[o] / count : acc[o]);
        return y;
    }
}
