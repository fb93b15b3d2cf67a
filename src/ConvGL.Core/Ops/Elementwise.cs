namespace ConvGL.Core.Ops;

/// <summary>The element-wise binary ops, in the order shaders/add.comp's OP define numbers them.</summary>
public enum BinaryKind { Add, Sub, Mul, Div, PRelu, Max, Min, Pow }

/// <summary>Element-wise binary ops with NumPy broadcasting (ONNX's multidirectional broadcasting): shapes are
/// aligned on the right, and each dimension pair must be equal or one of them 1.</summary>
public static class Elementwise
{
    public static Tensor Add(Tensor a, Tensor b) => Binary(a, b, static (x, y) => x + y, "add");
    public static Tensor Sub(Tensor a, Tensor b) => Binary(a, b, static (x, y) => x - y, "sub");
    public static Tensor Mul(Tensor a, Tensor b) => Binary(a, b, static (x, y) => x * y, "mul");
    public static Tensor Div(Tensor a, Tensor b) => Binary(a, b, static (x, y) => x / y, "div");

    /// <summary>ONNX PRelu: x where x &gt;= 0 (and NaN), slope * x where x &lt; 0, the slope broadcast to x's shape
    /// (one slope per channel as (C, 1, 1), one for all, or one per value).</summary>
    public static Tensor PRelu(Tensor x, Tensor slope)
    {
        Tensor y = Binary(x, slope, static (v, s) => v < 0f ? s * v : v, "prelu");
        if (!y.SameShape(x))
            throw new ConvGLException($"prelu: slope {Tensor.ShapeText(slope.Shape)} must broadcast to the input's shape {Tensor.ShapeText(x.Shape)}");
        return y;
    }

    /// <summary>The op by its ONNX name (Add, Sub, Mul, Div, PRelu; Max, Min as the two-input steps of ONNX's variadic ones).</summary>
    public static Tensor Apply(BinaryKind kind, Tensor a, Tensor b) => kind switch
    {
        BinaryKind.Add => Add(a, b),
        BinaryKind.Sub => Sub(a, b),
        BinaryKind.Mul => Mul(a, b),
        BinaryKind.Div => Div(a, b),
        BinaryKind.PRelu => PRelu(a, b),
        // MathF.Max / Min propagate NaN (IEEE 754-2019), as NumPy's maximum / minimum.
        BinaryKind.Max => Binary(a, b, static (x, y) => MathF.Max(x, y), "max"),
        BinaryKind.Min => Binary(a, b, static (x, y) => MathF.Min(x, y), "min"),
        // C's pow: a negative base takes only whole exponents (its sign by their parity), x^0 = 1, 1^y = 1, 0^-y = inf.
        BinaryKind.Pow => Binary(a, b, static (x, y) => (float)Math.Pow(x, y), "pow"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static int[] BroadcastShape(int[] a, int[] b, string op)
    {
        int rank = Math.Max(a.Length, b.Length);
        var shape = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            int db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ConvGLException($"{op}: shapes {Tensor.ShapeText(a)} and {Tensor.ShapeText(b)} do not broadcast (dimension {i}: {da} vs {db})");
            shape[i] = da == 1 ? db : da;
        }
        return shape;
    }

    private static Tensor Binary(Tensor a, Tensor b, Func<float, float, float> f, string op)
    {
        if (a.SameShape(b))
        {
            var same = new Tensor(a.Shape);
            for (int i = 0; i < a.Length; i++) same.Data[i] = f(a.Data[i], b.Data[i]);
            return same;
        }
        int[] shape = BroadcastShape(a.Shape, b.Shape, op);
        var output = new Tensor(shape);
        int[] sa = BroadcastStrides(a.Shape, shape), sb = BroadcastStrides(b.Shape, shape);
        var index = new int[shape.Length];
        for (int i = 0; i < output.Length; i++)
        {
            int ia = 0, ib = 0;
            for (int d = 0; d < shape.Length; d++)
            {
                ia += index[d] * sa[d];
                ib += index[d] * sb[d];
            }
            output.Data[i] = f(a.Data[ia], b.Data[ib]);
            for (int d = shape.Length - 1; d >= 0 && ++index[d] == shape[d]; d--) index[d] = 0;
        }
        return output;
    }

    /// <summary>Element strides of <paramref name="shape"/> seen through the broadcast <paramref name="target"/>
    /// shape: 0 along a broadcast (size 1 or missing) dimension.</summary>
    private static int[] BroadcastStrides(int[] shape, int[] target)
    {
        var strides = new int[target.Length];
        int stride = 1;
        for (int d = target.Length - 1; d >= 0; d--)
        {
            int s = d - (target.Length - shape.Length);
            int dim = s >= 0 ? shape[s] : 1;
            strides[d] = dim == 1 ? 0 : stride;
            stride *= dim;
        }
        return strides;
    }
}
