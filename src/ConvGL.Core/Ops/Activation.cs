namespace ConvGL.Core.Ops;

public enum ActivationKind { Relu, LeakyRelu, Tanh, Sigmoid, Abs, Clip, Elu, Selu, HardSigmoid, HardSwish, Softplus, Softsign, Celu, ThresholdedRelu, Mish, Gelu, GeluTanh, Silu }

/// <summary>Element-wise activations. ReLU is max(x, 0) and keeps a NaN (as NumPy's maximum, PyTorch and ONNX Runtime;
/// every activation here lets a NaN through except ThresholdedRelu, whose x &gt; alpha test ONNX defines to give 0). Leaky
/// ReLU's slope defaults to PyTorch's 0.01. Clip is min(max(x, lo), hi)
/// (ONNX Clip, PyTorch clamp and ReLU6 = clip to [0, 6]): a NaN stays NaN, and lo &gt; hi gives hi everywhere, as
/// NumPy's clip. The ONNX activations with parameters take them as <c>slope</c> (alpha) and <c>beta</c>: Elu
/// x &gt;= 0 ? x : alpha (e^x - 1); Selu x &gt; 0 ? gamma x : gamma (alpha e^x - alpha) (gamma is <c>beta</c>);
/// HardSigmoid max(0, min(1, alpha x + beta)); HardSwish x max(0, min(1, x / 6 + 1/2)); Softplus ln(1 + e^x)
/// (computed as max(x, 0) + ln(1 + e^-|x|), which does not overflow); Softsign x / (1 + |x|); Celu x &gt; 0 ? x :
/// alpha (e^(x / alpha) - 1) (alpha not 0); ThresholdedRelu x &gt; alpha ? x : 0; Mish x tanh(softplus(x)) (so Mish(-inf)
/// is -inf * 0 = NaN, as ONNX's formula); Gelu x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, computed as x erfc(-x / sqrt 2) / 2 (the
/// same value, without 1 + erf's cancellation for negative x); GeluTanh, ONNX Gelu's approximate = "tanh",
/// x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2, computed as x sigmoid(2 sqrt(2 / pi) (x + 0.044715 x^3)) (the same
/// identity). Both give -inf * 0 = NaN at -inf, as ONNX's formula. Silu (swish) x sigmoid(x), as ONNX models write it
/// (Sigmoid, then Mul by x): NaN at -inf too.</summary>
public static class Activation
{
    public const float DefaultLeakySlope = 0.01f;

    public static string Name(this ActivationKind k) => k switch
    {
        ActivationKind.Relu => "relu",
        ActivationKind.LeakyRelu => "leaky_relu",
        ActivationKind.Tanh => "tanh",
        ActivationKind.Sigmoid => "sigmoid",
        ActivationKind.Abs => "abs",
        ActivationKind.Clip => "clip",
        ActivationKind.Elu => "elu",
        ActivationKind.Selu => "selu",
        ActivationKind.HardSigmoid => "hard_sigmoid",
        ActivationKind.HardSwish => "hard_swish",
        ActivationKind.Softplus => "softplus",
        ActivationKind.Softsign => "softsign",
        ActivationKind.Celu => "celu",
        ActivationKind.ThresholdedRelu => "thresholded_relu",
        ActivationKind.Mish => "mish",
        ActivationKind.Gelu => "gelu",
        ActivationKind.GeluTanh => "gelu_tanh",
        ActivationKind.Silu => "silu",
        _ => throw new ArgumentOutOfRangeException(nameof(k)),
    };

    public static bool TryParse(string name, out ActivationKind kind)
    {
        foreach (ActivationKind k in Enum.GetValues<ActivationKind>())
        {
            if (k.Name() == name || (k == ActivationKind.LeakyRelu && name == "leakyrelu"))
            {
                kind = k;
                return true;
            }
        }
        kind = default;
        return false;
    }

    /// <summary>The ONNX defaults of the parameterised kinds: (alpha, beta).</summary>
    public static (float Alpha, float Beta) Defaults(ActivationKind kind) => kind switch
    {
        ActivationKind.LeakyRelu => (DefaultLeakySlope, 0f),
        ActivationKind.Elu => (1f, 0f),
        ActivationKind.Selu => (1.67326319217681884765625f, 1.05070102214813232421875f),
        ActivationKind.HardSigmoid => (0.2f, 0.5f),
        ActivationKind.Celu or ActivationKind.ThresholdedRelu => (1f, 0f),
        _ => (DefaultLeakySlope, 0f),
    };

    public static float Apply(ActivationKind kind, float x, float slope = DefaultLeakySlope,
        float min = float.NegativeInfinity, float max = float.PositiveInfinity, float beta = 0f) => kind switch
    {
        // max(x, 0) as ONNX's reference (np.maximum), PyTorch and ONNX Runtime have it: a NaN stays NaN.
        ActivationKind.Relu => x > 0f || float.IsNaN(x) ? x : 0f,
        ActivationKind.LeakyRelu => x > 0f ? x : slope * x,
        ActivationKind.Tanh => MathF.Tanh(x),
        ActivationKind.Sigmoid => (float)(1.0 / (1.0 + Math.Exp(-(double)x))),
        ActivationKind.Abs => MathF.Abs(x),
        // MathF.Max / Min propagate NaN (IEEE 754-2019 maximum / minimum).
        ActivationKind.Clip => MathF.Min(MathF.Max(x, min), max),
        ActivationKind.Elu => x >= 0f ? x : (float)(slope * (Math.Exp(x) - 1.0)),
        ActivationKind.Selu => x > 0f ? beta * x : (float)(beta * (slope * Math.Exp(x) - slope)),
        ActivationKind.HardSigmoid => MathF.Max(0f, MathF.Min(1f, slope * x + beta)),
        ActivationKind.HardSwish => x * MathF.Max(0f, MathF.Min(1f, x * (1f / 6f) + 0.5f)),
        ActivationKind.Softplus => (float)Softplus(x),
        ActivationKind.Softsign => x / (1f + MathF.Abs(x)),
        ActivationKind.Celu => x > 0f ? x : (float)(slope * (Math.Exp((double)x / slope) - 1.0)),
        ActivationKind.ThresholdedRelu => x > slope ? x : 0f,
        ActivationKind.Mish => (float)(x * Math.Tanh(Softplus(x))),
        ActivationKind.Gelu => (float)(0.5 * x * Unary.Erfc(-x / Math.Sqrt(2.0))),
        ActivationKind.GeluTanh => (float)(x / (1.0 + Math.Exp(-2.0 * Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * (double)x * x * x)))),
        ActivationKind.Silu => (float)(x * (1.0 / (1.0 + Math.Exp(-(double)x)))),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>ln(1 + e^x) as max(x, 0) + ln(1 + e^-|x|): no overflow for large x, and e^x (not 0) for very negative x.</summary>
    private static double Softplus(double x) => Math.Max(x, 0.0) + LogOnePlus(Math.Exp(-Math.Abs(x)));

    /// <summary>ln(1 + u) for u in [0, 1], accurate for tiny u where 1 + u rounds (Goldberg's correction: the rounding
    /// of 1 + u divided out).</summary>
    private static double LogOnePlus(double u)
    {
        double w = 1.0 + u;
        return w == 1.0 ? u : Math.Log(w) * u / (w - 1.0);
    }

    public static Tensor Apply(Tensor input, ActivationKind kind, float slope = DefaultLeakySlope,
        float min = float.NegativeInfinity, float max = float.PositiveInfinity, float beta = 0f)
    {
        var output = new Tensor(input.Shape);
        for (int i = 0; i < input.Length; i++) output.Data[i] = Apply(kind, input.Data[i], slope, min, max, beta);
        return output;
    }
}
