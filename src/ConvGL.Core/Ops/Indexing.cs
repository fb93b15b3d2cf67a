namespace ConvGL.Core.Ops;

/// <summary>A read pattern over a row-major tensor: element (i0, ..., i[r-1]) of the result is
/// <c>x.Data[Offset + i0 * Strides[0] + ... ]</c>, for i_k in [0, Dims[k]). Transpose and Slice are such views of their
/// input (<see cref="Indexing"/>); the GPU copies them with one shader (strided_copy.comp). Strides may be negative (a
/// slice with a negative step).</summary>
public sealed record StridedView(long Offset, int[] Dims, long[] Strides)
{
    public long Count => Dims.Aggregate(1L, (p, d) => p * d);

    /// <summary>The same read pattern with neighbouring dimensions merged where one steps exactly over the other
    /// (a contiguous run), and dimensions of 1 dropped: fewer index steps, same elements in the same order.</summary>
    public StridedView Coalesced()
    {
        var dims = new List<int>();
        var strides = new List<long>();
        for (int k = 0; k < Dims.Length; k++)
        {
            if (Dims[k] == 1) continue;
            if (dims.Count > 0 && strides[^1] == Strides[k] * Dims[k])
            {
                dims[^1] *= Dims[k];
                strides[^1] = Strides[k];
                continue;
            }
            dims.Add(Dims[k]);
            strides.Add(Strides[k]);
        }
        return new StridedView(Offset, [.. dims], [.. strides]);
    }

    /// <summary>The viewed elements as a new tensor of shape <paramref name="shape"/> (holding <see cref="Count"/> values).</summary>
    public Tensor Read(Tensor x, int[] shape)
    {
        var y = new Tensor(shape);
        if (y.Length != Count) throw new ArgumentException($"a view of {Count} values read into shape {Tensor.ShapeText(shape)}");
        int rank = Dims.Length;
        var index = new int[rank];
        long source = Offset;
        for (int k = 0; k < y.Length; k++)
        {
            y.Data[k] = x.Data[source];
            // Odometer: advance the last index, carrying into earlier ones.
            for (int d = rank - 1; d >= 0; d--)
            {
                source += Strides[d];
                if (++index[d] < Dims[d]) break;
                source -= Strides[d] * Dims[d];
                index[d] = 0;
            }
        }
        return y;
    }
}

/// <summary>Ops that move values without changing them, on row-major tensors of any rank (ONNX Transpose, Slice,
/// Gather, Split, Expand, Tile): the reference the GPU's strided copies are checked against.</summary>
public static class Indexing
{
    /// <summary>Row-major strides of a shape (in elements).</summary>
    public static long[] Strides(int[] shape)
    {
        var s = new long[shape.Length];
        long step = 1;
        for (int k = shape.Length - 1; k >= 0; k--)
        {
            s[k] = step;
            step *= shape[k];
        }
        return s;
    }

    /// <summary>Transpose: output dimension k is input dimension <c>perm[k]</c>, so y[i0, i1, ...] = x[j] with
    /// j[perm[k]] = i[k]. <paramref name="perm"/> must be a permutation of 0..rank-1.</summary>
    public static StridedView TransposeView(int[] shape, int[] perm)
    {
        if (perm.Length != shape.Length || perm.Order().Where((p, k) => p != k).Any())
            throw new ConvGLException($"perm [{string.Join(", ", perm)}] is not a permutation of the {shape.Length} axes of {Tensor.ShapeText(shape)}");
        long[] strides = Strides(shape);
        return new StridedView(0, perm.Select(p => shape[p]).ToArray(), perm.Select(p => strides[p]).ToArray());
    }

    public static Tensor Transpose(Tensor x, int[] perm)
    {
        StridedView v = TransposeView(x.Shape, perm);
        return v.Read(x, v.Dims);
    }

    /// <summary>One axis of a slice, already clamped: <paramref name="Count"/> elements from <paramref name="Start"/>
    /// stepping by <paramref name="Step"/> (never 0).</summary>
    public readonly record struct SliceAxis(int Start, int Step, int Count);

    /// <summary>ONNX Slice's clamping for one axis of length <paramref name="n"/>: negative start / end count from the
    /// end; then start is clamped to [0, n] (to [0, n - 1] for a negative step) and end to [0, n] ([-1, n - 1] for a
    /// negative step); the count is how many of start, start + step, ... lie before end.</summary>
    public static SliceAxis ClampSlice(long start, long end, long step, int n)
    {
        if (step == 0) throw new ConvGLException("slice step 0");
        // A step beyond the axis's length takes at most one element (and -long.MinValue would overflow below).
        step = Math.Clamp(step, -n - 1L, n + 1L);
        if (start < 0) start += n;
        if (end < 0) end += n;
        long count;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, n);
            end = Math.Clamp(end, 0, n);
            count = end > start ? (end - start + step - 1) / step : 0;
        }
        else
        {
            start = Math.Clamp(start, 0, n - 1);
            end = Math.Clamp(end, -1, n - 1);
            count = start > end ? (start - end + (-step) - 1) / -step : 0;
        }
        return new SliceAxis((int)start, (int)step, (int)count);
    }

    /// <summary>The view of a slice: one <see cref="SliceAxis"/> per dimension of <paramref name="shape"/>.</summary>
    public static StridedView SliceView(int[] shape, IReadOnlyList<SliceAxis> axes)
    {
        long[] strides = Strides(shape);
        long offset = 0;
        for (int k = 0; k < shape.Length; k++)
            if (axes[k].Count > 0) offset += axes[k].Start * strides[k];
        return new StridedView(offset, axes.Select(a => a.Count).ToArray(), strides.Select((s, k) => s * axes[k].Step).ToArray());
    }

    public static Tensor Slice(Tensor x, IReadOnlyList<SliceAxis> axes)
    {
        StridedView v = SliceView(x.Shape, axes);
        return v.Read(x, v.Dims);
    }

    /// <summary>Gather along <paramref name="axis"/>: output shape x[:axis] + indices' shape + x[axis+1:], taking for
    /// every index j the slab x[..., j, ...]. Indices are whole numbers in [-n, n - 1] (negative count from the end).</summary>
    public static Tensor Gather(Tensor x, int axis, Tensor indices)
    {
        int n = x.Shape[axis];
        int[] shape = [.. x.Shape[..axis], .. indices.Shape, .. x.Shape[(axis + 1)..]];
        var y = new Tensor(shape);
        long outer = x.Shape[..axis].Aggregate(1L, (p, d) => p * d);
        long inner = x.Shape[(axis + 1)..].Aggregate(1L, (p, d) => p * d);
        for (long o = 0; o < outer; o++)
            for (int j = 0; j < indices.Length; j++)
            {
                long index = GatherIndex(indices.Data[j], n, j);
                Array.Copy(x.Data, (o * n + index) * inner, y.Data, (o * indices.Length + j) * inner, inner);
            }
        return y;
    }

    /// <summary>Gather's index <paramref name="value"/> (entry <paramref name="entry"/>) as a position on an axis of <paramref name="n"/>.</summary>
    public static long GatherIndex(float value, int n, int entry)
    {
        if (!(value == MathF.Round(value)))
            throw new ConvGLException($"index {ErrorText.Index(value)} (entry {entry}) is not a whole number (an axis of {n} takes -{n} to {n - 1})");
        if (value < -n || value >= n)
            throw new ConvGLException($"index {ErrorText.Index(value)} (entry {entry}) is outside [-{n}, {n - 1}] for an axis of {n}");
        return value < 0 ? (long)value + n : (long)value;
    }
    /// <summary>NumPy broadcasting of <paramref name="x"/> to the shape broadcast(x's shape, <paramref name="shape"/>) (ONNX
    /// Expand): shapes aligned at the right, a dimension of 1 (or a missing leading one) repeated along the other's.
    /// Written as a plain index loop, independent of <see cref="ExpandView"/>, which the tests hold against it.</summary>
    public static Tensor Expand(Tensor x, int[] shape)
    {
        int[] to = Elementwise.BroadcastShape(x.Shape, shape, "Expand");
        int skip = to.Length - x.Rank;
        return Gathered(x, to, (d, i) => d < skip ? -1 : x.Shape[d - skip] == 1 ? 0 : i);
    }

    /// <summary>Expand as a strided view of the input: stride 0 on every broadcast axis. <paramref name="to"/> must be
    /// broadcast(<paramref name="shape"/>, to).</summary>
    public static StridedView ExpandView(int[] shape, int[] to)
    {
        long[] strides = Strides(shape);
        int skip = to.Length - shape.Length;
        var result = new long[to.Length];
        for (int d = 0; d < to.Length; d++)
            result[d] = d < skip || shape[d - skip] == 1 ? 0 : strides[d - skip];
        return new StridedView(0, (int[])to.Clone(), result);
    }

    /// <summary>ONNX Tile: <paramref name="x"/> repeated <paramref name="repeats"/>[d] times along every axis d (one whole
    /// number, not negative, per axis), so output index i on axis d reads input index i mod n_d. A plain index loop,
    /// independent of <see cref="TileView"/>.</summary>
    public static Tensor Tile(Tensor x, int[] repeats)
    {
        if (repeats.Length != x.Rank || repeats.Any(r => r < 0))
            throw new ConvGLException($"repeats [{string.Join(", ", repeats)}] must be one count (0 or more) per axis of {x.ShapeString}");
        int[] to = x.Shape.Select((n, d) => n * repeats[d]).ToArray();
        return Gathered(x, to, (d, i) => i % x.Shape[d]);
    }

    /// <summary>Tile as a strided view of the input: each axis of n values (stride s) repeated r times becomes two
    /// dimensions [r, n] with strides [0, s] (output index t n + i reads input index i); axes repeated once stay as
    /// they are. The view's dimensions multiply out, in order, to the output's shape.</summary>
    public static StridedView TileView(int[] shape, int[] repeats)
    {
        long[] strides = Strides(shape);
        var dims = new List<int>();
        var steps = new List<long>();
        for (int d = 0; d < shape.Length; d++)
        {
            if (repeats[d] != 1)
            {
                dims.Add(repeats[d]);
                steps.Add(0);
            }
            dims.Add(shape[d]);
            steps.Add(strides[d]);
        }
        return new StridedView(0, [.. dims], [.. steps]);
    }

    /// <summary>A tensor of <paramref name="shape"/> whose element (i0, i1, ...) is x's element at the index
    /// <paramref name="source"/>(d, i_d) gives on each of x's axes (x right-aligned; -1 for an output axis x lacks).</summary>
    private static Tensor Gathered(Tensor x, int[] shape, Func<int, int, int> source)
    {
        var y = new Tensor(shape);
        long[] strides = Strides(x.Shape);
        int skip = shape.Length - x.Rank;
        var index = new int[shape.Length];
        for (long k = 0; k < y.Length; k++)
        {
            long from = 0;
            for (int d = 0; d < shape.Length; d++)
            {
                int j = source(d, index[d]);
                if (j >= 0) from += j * strides[d - skip];
            }
            y.Data[k] = x.Data[from];
            for (int d = shape.Length - 1; d >= 0 && ++index[d] == shape[d]; d--) index[d] = 0;
        }
        return y;
    }
}
