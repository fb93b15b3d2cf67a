using System.Globalization;
using ConvGL.Core.Ops;

namespace ConvGL.Gpu.Ops;

/// <summary>An activation a producer applies as it stores its results (shaders/include/fused_act.glsl): any element-wise
/// <see cref="ActivationKind"/>, with its constants (<see cref="Slope"/>: leaky relu's slope and the others' alpha;
/// <see cref="Min"/>, <see cref="Max"/>: clip's bounds, ReLU6 as 0 and 6; <see cref="Beta"/>: selu's gamma, hard
/// sigmoid's beta) and the reference's values (<see cref="Activation.Apply(ActivationKind, float, float, float, float,
/// float)"/>): relu, leaky relu and clip written out, the others through include/activation_fn.glsl, which
/// activation_fast.comp computes them with. The stack runner fuses such a layer into the conv or add before it; see
/// GpuStackRunner.SetObserved.</summary>
public sealed record FusedActivation(ActivationKind Kind, float Slope = Activation.DefaultLeakySlope, float Min = float.NegativeInfinity,
    float Max = float.PositiveInfinity, float Beta = 0f)
{
    /// <summary>Whether a layer of this kind can be fused: every element-wise activation can.</summary>
    public static bool Supports(ActivationKind kind) => Enum.IsDefined(kind);

    public static FusedActivation Relu { get; } = new(ActivationKind.Relu);

    /// <summary>The program defines: FUSED_ACT (1 relu, 2 leaky relu, 3 clip, 4 any other with ACTIVATION its kind) and
    /// the constants as exact float bits.</summary>
    public (string, object)[] Defines() => Kind switch
    {
        ActivationKind.Relu => [("FUSED_ACT", 1)],
        ActivationKind.LeakyRelu => [("FUSED_ACT", 2), ("ACT_A", Literal(Slope))],
        ActivationKind.Clip => [("FUSED_ACT", 3), ("ACT_A", Literal(Min)), ("ACT_B", Literal(Max))],
        _ => [("FUSED_ACT", 4), ("ACTIVATION", (int)Kind), ("ACT_A", Literal(Slope)), ("ACT_B", Literal(Beta)), ("ACT_LO", Literal(Min)), ("ACT_HI", Literal(Max))],
    };

    /// <summary>The defines of an optional fused activation: FUSED_ACT 0 without one.</summary>
    public static (string, object)[] Defines(FusedActivation? act) => act?.Defines() ?? [("FUSED_ACT", 0)];

    /// <summary>What a variant line ends with: ", relu fused", ", leaky_relu fused", ", tanh fused" ...</summary>
    public string Suffix { get; } = $", {Kind.Name()} fused";

    private static string Literal(float v) =>
        string.Create(CultureInfo.InvariantCulture, $"uintBitsToFloat(0x{BitConverter.SingleToUInt32Bits(v):X8}u)");
}
