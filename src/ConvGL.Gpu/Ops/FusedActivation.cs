using System.Globalization;
using ConvGL.Core.Ops;

namespace ConvGL.Gpu.Ops;

/// <summary>An activation a producer applies as it stores its results (shaders/include/fused_act.glsl): any element-wise
/// <see cref="ActivationKind"/>, with its constants (<see cref="Slope"/>: leaky relu's slope and the others' alpha;
/// <see cref="Min"/>, <see cref="Max"/>: clip's bounds, ReLU6 as 0 and 6; <see cref="Beta"/>: selu's gamma, hard
/// sigmoid's beta) and the reference's values (<see cref="Activation.Apply(ActivationKind, float, float, float, float,
/// float)"/>): relu, leaky relu and clip written out, the others through include/activation_fn.glsl, which
/// activation_fast.comp computes them with. The stack runner fuses such a layer into the conv or add before it; see
/// GpuStackRunner.SetObserved.
///
/// <see cref="Gated"/>: the store is x times the activation of x instead, a mul of a map and its own activation fused too
/// (SiLU as ONNX exports it: Mul(x, Sigmoid(x)); hard swish as Mul(x, HardSigmoid(x))).</summary>
public sealed record FusedActivation(ActivationKind Kind, float Slope = Activation.DefaultLeakySlope, float Min = float.NegativeInfinity,
    float Max = float.PositiveInfinity, float Beta = 0f, bool Gated = false)
{
    /// <summary>Equal when the programs are: the constants bit for bit (a slope of 0 and one of -0 compile differently,
    /// see <see cref="Factor"/>; float equality would call them equal and keep the old program).</summary>
    public bool Equals(FusedActivation? other) => other is not null && Kind == other.Kind && Gated == other.Gated &&
        Bits(Slope) == Bits(other.Slope) && Bits(Min) == Bits(other.Min) && Bits(Max) == Bits(other.Max) && Bits(Beta) == Bits(other.Beta);

    public override int GetHashCode() => HashCode.Combine(Kind, Gated, Bits(Slope), Bits(Min), Bits(Max), Bits(Beta));

    private static int Bits(float v) => BitConverter.SingleToInt32Bits(v);

    /// <summary>Whether a layer of this kind can be fused: every element-wise activation can.</summary>
    public static bool Supports(ActivationKind kind) => Enum.IsDefined(kind);

    public static FusedActivation Relu { get; } = new(ActivationKind.Relu);

    /// <summary>The program defines: FUSED_ACT (1 relu, 2 leaky relu, 3 clip, 4 any other with ACTIVATION its kind) and
    /// the constants as exact float bits.</summary>
    private (string, object)[] KindDefines() => Kind switch
    {
        ActivationKind.Relu => [("FUSED_ACT", 1)],
        ActivationKind.LeakyRelu => [("FUSED_ACT", 2), ("ACT_A", Factor(Slope))],
        ActivationKind.Clip => [("FUSED_ACT", 3), ("ACT_A", Literal(Min)), ("ACT_B", Literal(Max))],
        _ => [("FUSED_ACT", 4), ("ACTIVATION", (int)Kind), ("ACT_A", Factor(Slope)), ("ACT_B", Factor(Beta)), ("ACT_LO", Literal(Min)), ("ACT_HI", Literal(Max))],
    };

    /// <summary>The defines of an optional fused activation: FUSED_ACT 0 without one; FUSED_GATE 1 when gated.</summary>
    public static (string, object)[] Defines(FusedActivation? act) => act is null ? [("FUSED_ACT", 0)]
        : act.Gated ? [.. act.KindDefines(), ("FUSED_GATE", 1)] : act.KindDefines();

    /// <summary>The activation's name: its kind's ("relu", "tanh"), "silu" for x * sigmoid(x), else "x*" and the kind.</summary>
    public string Name => !Gated ? Kind.Name() : Kind == ActivationKind.Sigmoid ? "silu" : $"x*{Kind.Name()}";

    /// <summary>What a variant line ends with: ", relu fused", ", leaky_relu fused", ", silu fused" ...</summary>
    public string Suffix => $", {Name} fused";

    private static string Literal(float v) =>
        string.Create(CultureInfo.InvariantCulture, $"uintBitsToFloat(0x{BitConverter.SingleToUInt32Bits(v):X8}u)");

    /// <summary>A constant the activation multiplies by (a slope, alpha, gamma, beta): its literal, but a zero as the uniform
    /// <c>u_act_zero</c> (negated for -0; include/fused_act.glsl): Mesa folds a product by a literal zero away, NaN and
    /// infinities with it, where the reference's 0 * NaN and 0 * inf are NaN (leaky relu of slope 0 turned a NaN into 0,
    /// hard sigmoid of alpha 0 into its beta; an audit of 2026-12-07).</summary>
    private static string Factor(float v) => v != 0f ? Literal(v) : float.IsNegative(v) ? "(-u_act_zero)" : "u_act_zero";
}
