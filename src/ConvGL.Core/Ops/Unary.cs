namespace ConvGL.Core.Ops;

/// <summary>The ONNX element-wise math ops, in the order shaders/unary.comp's OP define numbers them.</summary>
public enum UnaryKind { Neg, Exp, Log, Sqrt, Reciprocal, Floor, Ceil, Sign, Erf }

/// <summary>Element-wise math (ONNX Neg, Exp, Log, Sqrt, Reciprocal, Floor, Ceil, Sign) with IEEE results at the edges,
/// as NumPy gives them: log of 0 is -inf and of a negative NaN, sqrt of a negative NaN, 1/0 is +inf (-inf for -0), the
/// sign of 0 is 0 and of NaN NaN. Exp, Log and Erf (the error function, GELU's) in double, rounded once.</summary>
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
        UnaryKind.Erf => (float)Erf(x),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static Tensor Apply(Tensor input, UnaryKind kind)
    {
        var output = new Tensor(input.Shape);
        for (int i = 0; i < input.Length; i++) output.Data[i] = Apply(kind, input.Data[i]);
        return output;
    }

    /// <summary>The error function erf(x) = 2/sqrt(pi) * integral from 0 to x of exp(-t^2) dt, in double: its Maclaurin
    /// series sum over n of (-1)^n x^(2n+1) / (n! (2n+1)) for |x| &lt; 3 (terms fall below 1e-17 of the sum; the largest
    /// is under e^9, so cancellation costs at most 4 of double's 16 digits), and 1 - erfc(x) with erfc's continued
    /// fraction exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))) beyond (60 levels, evaluated from
    /// the bottom up). Odd: erf(-x) = -erf(x); erf(+-inf) = +-1; NaN stays NaN.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double a = Math.Abs(x);
        double result;
        if (a < 3)
        {
            double term = a, sum = a, x2 = a * a;
            for (int n = 1; n < 200 && Math.Abs(term) > 1e-17 * sum; n++)
            {
                term *= -x2 / n;
                sum += term / (2 * n + 1);
            }
            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else if (a > 6)
        {
            result = 1; // erfc(6) is 2e-17: 1 in double.
        }
        else
        {
            result = 1 - Erfc(a);
        }
        return x < 0 ? -result : result;
    }

    /// <summary>The complementary error function erfc(x) = 1 - erf(x), accurate where erf(x) rounds to 1: below 3 it is
    /// 1 - <see cref="Erf"/> (erfc(3) is 2e-5, so the subtraction keeps 11 of double's 16 digits), from 3 on erfc's
    /// continued fraction (60 levels, from the bottom up), which tends to 0 without underflow trouble (erfc(+inf) = 0).
    /// NaN stays NaN.</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x < 3) return 1 - Erf(x);
        double t = x;
        for (int k = 60; k >= 1; k--) t = x + k / 2.0 / t;
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / t;
    }
}
