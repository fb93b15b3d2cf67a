namespace ConvGL.Core.Ops;

public enum ActivationKind { Relu, LeakyRelu, Tanh, Sigmoid, Abs, Clip }

/// <summary>Element-wise activations. Leaky ReLU's slope defaults to PyTorch's 0.01. Clip is min(max(x, lo), hi)
/// (ONNX Clip, PyTorch clamp and ReLU6 = clip to [0, 6]): a NaN stays NaN, and lo &gt; hi gives hi everywhere, as
/// NumPy's clip.</summary>
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

    public static float Apply(ActivationKind kind, float x, float slope = DefaultLeakySlope,
        float min = float.NegativeInfinity, float max = float.PositiveInfinity) => kind switch
    {
        ActivationKind.Relu => x > 0f ? x : 0f,
        ActivationKind.LeakyRelu => x > 0f ? x : slope * x,
        ActivationKind.Tanh => MathF.Tanh(x),
        ActivationKind.Sigmoid => (float)(1.0 / (1.0 + Math.Exp(-(double)x))),
        ActivationKind.Abs => MathF.Abs(x),
        // MathF.Max / Min propagate NaN (IEEE 754-2019 maximum / minimum).
        ActivationKind.Clip => MathF.Min(MathF.Max(x, min), max),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static Tensor Apply(Tensor input, ActivationKind kind, float slope = DefaultLeakySlope,
        float min = float.NegativeInfinity, float max = float.PositiveInfinity)
    {
        var output = new Tensor(input.Shape);
        for (int i = 0; i < input.Length; i++) output.Data[i] = Apply(kind, input.Data[i], slope, min, max);
        return output;
    }
}
