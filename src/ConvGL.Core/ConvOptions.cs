namespace ConvGL.Core;

/// <summary>Correlate uses the kernel as stored (CNNs, OpenCV filter2D, PyTorch); convolve rotates it 180 degrees first.</summary>
public enum ConvMode { Correlate, Convolve }

/// <summary>How much of the padded input the output covers. See <see cref="ConvGeometry"/>. SameUpper and SameLower are
/// ONNX's auto_pad: ceil(n / stride) outputs, the odd padding pixel after (upper) or before (lower).</summary>
public enum PaddingMode { Same, Valid, Full, Explicit, SameUpper, SameLower }

public static class PaddingModes
{
    /// <summary>The stack file's name of a padding mode: "same", "valid", "full", "explicit", "same_upper", "same_lower".</summary>
    public static string Name(this PaddingMode p) => p switch
    {
        PaddingMode.SameUpper => "same_upper",
        PaddingMode.SameLower => "same_lower",
        _ => p.ToString().ToLowerInvariant(),
    };
}

/// <summary>Every option of a 2D convolution (DESIGN.md, "Convolution semantics").</summary>
public sealed record ConvOptions
{
    public ConvMode Mode { get; init; } = ConvMode.Correlate;
    public Border Border { get; init; } = Border.Zero;
    public PaddingMode Padding { get; init; } = PaddingMode.Same;
    /// <summary>Rows added above and below when <see cref="Padding"/> is Explicit.</summary>
    public int PadY { get; init; }
    /// <summary>Columns added left and right when <see cref="Padding"/> is Explicit.</summary>
    public int PadX { get; init; }
    /// <summary>Rows added below when <see cref="Padding"/> is Explicit and the padding is asymmetric (ONNX pads
    /// [top, left, bottom, right]); null means <see cref="PadY"/>. Only the output size depends on it.</summary>
    public int? PadBottom { get; init; }
    /// <summary>Columns added on the right when asymmetric; null means <see cref="PadX"/>.</summary>
    public int? PadRight { get; init; }
    public int StrideY { get; init; } = 1;
    public int StrideX { get; init; } = 1;
    public int DilationY { get; init; } = 1;
    public int DilationX { get; init; } = 1;
    public int Groups { get; init; } = 1;

    /// <summary>The defaults for an image filter: OpenCV's default border.</summary>
    public static ConvOptions ImageFilter => new() { Border = Border.Reflect };

    public override string ToString() =>
        $"{Mode.ToString().ToLowerInvariant()} border={Border.Name()} padding={Padding.ToString().ToLowerInvariant()}" +
        (Padding == PaddingMode.Explicit ? $"({PadY},{PadX})" : "") +
        (Padding == PaddingMode.Explicit && (PadBottom ?? PadY, PadRight ?? PadX) != (PadY, PadX) ? $"-({PadBottom ?? PadY},{PadRight ?? PadX})" : "") +
        $" stride=({StrideY},{StrideX}) dilation=({DilationY},{DilationX}) groups={Groups}";
}

/// <summary>Padding and output size along one axis.</summary>
public readonly record struct AxisGeometry(int PadBefore, int PadAfter, int Output)
{
    /// <summary>DESIGN.md's rule: valid pads 0; same pads d*(k-1) in total, floor half before (PyTorch);
    /// full pads d*(k-1) on both sides; explicit pads p on both sides (or p before, explicitPadAfter after); ONNX's
    /// SAME_UPPER / SAME_LOWER pad max(0, (ceil(n/s) - 1) s + d(k-1) + 1 - n) in total, the larger half after / before.
    /// out = floor((n + pad_total - d*(k-1) - 1) / s) + 1. Throws when that is below 1.</summary>
    public static AxisGeometry Compute(int n, int k, int stride, int dilation, PaddingMode mode, int explicitPad = 0, string axis = "",
        int? explicitPadAfter = null)
    {
        if (n < 1) throw new ConvGLException($"input {axis} size {n} must be at least 1");
        if (k < 1) throw new ConvGLException($"kernel {axis} size {k} must be at least 1");
        if (stride < 1) throw new ConvGLException($"stride {stride} must be at least 1");
        if (dilation < 1) throw new ConvGLException($"dilation {dilation} must be at least 1");
        // In long: dilation * (k - 1) and n + pads overflow int for a large --dilation (1.5e9 * 2 wraps negative and
        // then reads as a huge valid output), and every index a conv computes lies within the padded length.
        long span = (long)dilation * (k - 1);
        (long before, long after) = mode switch
        {
            PaddingMode.Valid => (0L, 0L),
            PaddingMode.Same => (span / 2, span - span / 2),
            PaddingMode.Full => (span, span),
            PaddingMode.SameUpper or PaddingMode.SameLower => OnnxSame(n, stride, span, mode == PaddingMode.SameUpper),
            PaddingMode.Explicit when explicitPad >= 0 && (explicitPadAfter ?? 0) >= 0 => (explicitPad, explicitPadAfter ?? explicitPad),
            PaddingMode.Explicit => throw new ConvGLException($"padding ({explicitPad}, {explicitPadAfter ?? explicitPad}) must not be negative"),
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };
        long padded = n + before + after;
        if (padded > int.MaxValue)
            throw new ConvGLException(
                $"{axis} padding too large: input {n} padded by {before} + {after} (kernel {k}, dilation {dilation}, padding {mode.ToString().ToLowerInvariant()}) " +
                $"exceeds {int.MaxValue}; use a smaller dilation or padding");
        long numerator = padded - span - 1;
        if (numerator < 0)
            throw new ConvGLException(
                $"output {axis} size would be below 1: input {n}, kernel {k}, dilation {dilation}, padding {mode.ToString().ToLowerInvariant()} " +
                $"(the dilated kernel spans {span + 1} but the padded input is {padded})");
        return new AxisGeometry((int)before, (int)after, (int)(numerator / stride) + 1);
    }

    private static (long Before, long After) OnnxSame(long n, long stride, long span, bool upper)
    {
        long total = Math.Max(0, ((n + stride - 1) / stride - 1) * stride + span + 1 - n);
        return upper ? (total / 2, total - total / 2) : (total - total / 2, total / 2);
    }
}

/// <summary>Output shape and padding of a 2D convolution.</summary>
public readonly record struct ConvGeometry(AxisGeometry Y, AxisGeometry X)
{
    /// <summary>The geometry, refused (before anything is allocated) when one output channel would hold more than
    /// <see cref="Limits.ConvPlaneValues"/> values: each axis alone can fit an int while their product does not
    /// (`apply --size 100000` asked for 200000 x 200000 outputs and failed inside the tensor constructor).</summary>
    public static ConvGeometry Compute(int h, int w, int kh, int kw, ConvOptions o)
    {
        var g = new ConvGeometry(
            AxisGeometry.Compute(h, kh, o.StrideY, o.DilationY, o.Padding, o.PadY, "height", o.PadBottom),
            AxisGeometry.Compute(w, kw, o.StrideX, o.DilationX, o.Padding, o.PadX, "width", o.PadRight));
        long plane = (long)g.Y.Output * g.X.Output;
        if (plane > Limits.ConvPlaneValues)
            throw new ConvGLException($"the output would be {g.X.Output}x{g.Y.Output} = {plane} values a channel (input {w}x{h}, kernel {kw}x{kh}, " +
                                      $"padding {o.Padding.ToString().ToLowerInvariant()}{(o.Padding == PaddingMode.Explicit ? $" {o.PadY},{o.PadX}" : "")}), " +
                                      $"over the limit of {Limits.ConvPlaneValues}; use less padding or dilation, or a larger stride");
        return g;
    }
}
