namespace ConvGL.Core;

/// <summary>A dense float32 array in C (row-major) order. Images and feature maps are rank 3 (C, H, W);
/// conv weights are rank 4 (C_out, C_in / groups, kH, kW); a single kernel is rank 2 (kH, kW).</summary>
public sealed class Tensor
{
    public int[] Shape { get; }
    public float[] Data { get; }

    public Tensor(int[] shape, float[]? data = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long n = ElementCount(shape);
        if (n < 0) throw new ArgumentException($"negative dimension in shape {Tensor.ShapeText(shape)}");
        if (data is null && t_limited && n > t_room) throw new AllocationRoomException(shape, n, t_room);
        if (n > int.MaxValue) throw new ArgumentException($"shape {Tensor.ShapeText(shape)} is too large");
        Shape = (int[])shape.Clone();
        if (data is not null && data.Length != n)
            throw new ArgumentException($"data has {data.Length} elements, shape {Tensor.ShapeText(shape)} needs {n}");
        Data = data ?? new float[n];
    }

    [ThreadStatic] private static bool t_limited;
    [ThreadStatic] private static long t_room;

    /// <summary>The most values one tensor allocated on this thread may hold, or null (no limit but each shape's own). A
    /// graph run sets it around each op (OnnxGraph: the values it may still add to those it holds), so that whatever an
    /// op computes (a broadcast, a pad, a resize, a transposed conv's stride, a matrix product) it stops before it
    /// allocates past the room, not after (a review: a 320 KB model of two 40000-value constants added with
    /// broadcasting took 6.4 GB at load before its error).</summary>
    public static long? AllocationRoom
    {
        get => t_limited ? t_room : null;
        set => (t_limited, t_room) = (value is not null, value ?? 0);
    }

    /// <summary>The product of the dimensions, saturated at int.MaxValue + 1 ("too large") so that it never wraps:
    /// a plain 64-bit product of four 2^16 dimensions is 2^64 = 0, which would pass for an empty tensor. -1 when
    /// a dimension is negative. A zero dimension gives 0 whatever the others are.</summary>
    internal static long ElementCount(ReadOnlySpan<int> shape)
    {
        long n = 1;
        bool tooLarge = false;
        foreach (int d in shape)
        {
            if (d < 0) return -1;
            if (d == 0) n = 0;
            // Both factors are at most int.MaxValue here, so the product fits in a long.
            else if (n != 0 && !tooLarge && (n *= d) > int.MaxValue) tooLarge = true;
        }
        return n == 0 ? 0 : tooLarge ? (long)int.MaxValue + 1 : n;
    }

    public static Tensor Chw(int c, int h, int w, float[]? data = null) => new([c, h, w], data);

    /// <summary>A (kH, kW) kernel from a jagged row list.</summary>
    public static Tensor Matrix(float[][] rows)
    {
        int h = rows.Length, w = h == 0 ? 0 : rows[0].Length;
        var t = new Tensor([h, w]);
        for (int y = 0; y < h; y++)
        {
            if (rows[y].Length != w) throw new ArgumentException($"row {y} has {rows[y].Length} entries, row 0 has {w}");
            rows[y].CopyTo(t.Data, y * w);
        }
        return t;
    }

    public int Rank => Shape.Length;
    public int Length => Data.Length;

    /// <summary>The flat index of the first NaN or infinity, or -1 when every value is finite (the loaders' and
    /// writers' checks: weights, kernels, input arrays, a trained model's parameters).</summary>
    public int FirstNonFinite() => Array.FindIndex(Data, v => !float.IsFinite(v));

    /// <summary>Channels of a rank-3 tensor.</summary>
    public int C => Dim(3, 0);
    /// <summary>Height: dim 1 of a rank-3 tensor, dim 0 of a rank-2 kernel.</summary>
    public int H => Rank == 2 ? Shape[0] : Dim(3, 1);
    /// <summary>Width: the last dimension of a rank-2 or rank-3 tensor.</summary>
    public int W => Rank == 2 ? Shape[1] : Dim(3, 2);

    private int Dim(int rank, int i) =>
        Rank == rank ? Shape[i] : throw new InvalidOperationException($"expected a rank-{rank} tensor, this one has shape {ShapeString}");

    public string ShapeString => ShapeText(Shape);

    /// <summary>A shape as NumPy prints it: (2, 3), and (7,) for one dimension (a tuple), () for none.</summary>
    public static string ShapeText(IEnumerable<int> shape) => DimsText(shape.Select(d => d.ToString()));

    /// <inheritdoc cref="ShapeText(IEnumerable{int})"/>
    public static string ShapeText(IEnumerable<long> shape) => DimsText(shape.Select(d => d.ToString()));

    /// <summary>Dimensions already written out (a '?' for an unknown one) as a NumPy shape.</summary>
    public static string DimsText(IEnumerable<string> dims)
    {
        var list = dims.ToList();
        return list.Count == 1 ? $"({list[0]},)" : "(" + string.Join(", ", list) + ")";
    }

    public float this[int c, int y, int x]
    {
        get => Data[(c * Shape[1] + y) * Shape[2] + x];
        set => Data[(c * Shape[1] + y) * Shape[2] + x] = value;
    }

    public float this[int y, int x]
    {
        get => Data[y * Shape[1] + x];
        set => Data[y * Shape[1] + x] = value;
    }

    public Tensor Clone()
    {
        var copy = new Tensor(Shape);
        Data.CopyTo(copy.Data, 0);
        return copy;
    }

    /// <summary>Channel c of a (C, H, W) tensor as a (1, H, W) copy.</summary>
    public Tensor Channel(int c)
    {
        int plane = H * W;
        return Chw(1, H, W, Data.AsSpan(c * plane, plane).ToArray());
    }

    /// <summary>Stacks (1, H, W) or (C_i, H, W) tensors of equal H and W along C.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> parts)
    {
        if (parts.Count == 0) throw new ArgumentException("nothing to concatenate");
        int h = parts[0].H, w = parts[0].W, c = 0;
        foreach (Tensor p in parts)
        {
            if (p.H != h || p.W != w) throw new ArgumentException($"cannot concatenate {p.ShapeString} with height {h} width {w}");
            c += p.C;
        }
        var t = Chw(c, h, w);
        int offset = 0;
        foreach (Tensor p in parts)
        {
            p.Data.CopyTo(t.Data, offset);
            offset += p.Length;
        }
        return t;
    }

    public Tensor Reshape(params int[] shape) => new(shape, Data);

    public bool SameShape(Tensor other) => Shape.AsSpan().SequenceEqual(other.Shape);

    /// <summary>The least and greatest finite values, NaN and infinities skipped ((+inf, -inf) where there is none): the
    /// display range the window's min/max pass (shaders/present/minmax.comp) and the PNG writer stretch a map over.</summary>
    public (float Min, float Max) Range()
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in Data)
        {
            if (!float.IsFinite(v)) continue;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return (min, max);
    }

    public override string ToString() => $"Tensor{ShapeString}";
}
