namespace ConvGL.Core.Ops;

/// <summary>The ONNX element-wise math ops, in the order shaders/unary.comp's OP define numbers them.</summary>
public enum UnaryKind { Neg, Exp, Log, Sqrt, Reciprocal, Floor, Ceil, Sign }

/// <summary>Element-wise math (ONNX Neg, Exp, Log, Sqrt, Reciprocal, Floor, Ceil, Sign) with IEEE results at the edges,
/// as NumPy gives them: log of 0 is -inf and of a negative NaN, sqrt of a negative NaN, 1/0 is +inf (-inf for -0), the
/// sign of 0 is 0 and of NaN NaN. Exp and Log in double, rounded once.</summary>
public static class Unary
{
    public static string Name(this UnaryKind k) => k.ToString().ToLowerInvariant();

    public static float Apply(UnaryKind kind, float x) => kind switch
    {
        UnaryKind.Neg => -x,
        UnaryKind.Exp => (float)Math.Exp(x),
        UnaryKind.Log => (float)Math.Log(x),
        UnaryKind.Sqrt => MathF.Sqrt(x),
        UnaryKind.Reciprocal => 1f / x,
        UnaryKind.Floor => MathF.Floor(x),
        UnaryKind.Ceil => MathF.Ceiling(x),
        UnaryKind.Sign => float.IsNaN(x) ? float.NaN : MathF.Sign(x),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static Tensor Apply(Tensor input, UnaryKind kind)
    {
        var output = new Tensor(input.Shape);
        for (int i = 0; i < input.Length; i++) output.Data[i] = Apply(kind, input.Data[i]);
        return output;
    }
}
