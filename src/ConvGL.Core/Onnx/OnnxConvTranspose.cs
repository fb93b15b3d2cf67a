using ConvGL.Core.Ops;

namespace ConvGL.Core.Onnx;

/// <summary>ONNX ConvTranspose (2D, and 1D as a one-row map): inputs X (N, C, H, W), W (C, C_out / group, kH, kW), optional B (C_out), through
/// <see cref="ConvTranspose2D"/>. Pads come from <c>pads</c>, or from <c>output_shape</c> / <c>auto_pad</c> SAME_*
/// (output H * stride) as ONNX defines them: the total padding stride (H - 1) + output_padding + (kH - 1) dilation + 1 -
/// output, split in two with the odd one at the end for SAME_UPPER and at the start otherwise.</summary>
public sealed class ConvTransposeOp : OnnxOp
{
    public int KernelY { get; }
    public int KernelX { get; }
    public int StrideY { get; }
    public int StrideX { get; }
    public int DilationY { get; }
    public int DilationX { get; }
    public int Groups { get; }
    public AutoPad AutoPad { get; }
    public int[] Pads { get; }
    public int[] OutputPadding { get; }
    /// <summary>The requested output (H, W), or null.</summary>
    public int[]? OutputShape { get; }
    /// <summary>1D (inputs (N, C, L), weight (C, C_out / group, k), run as a one-row map), 2D, or null where neither the
    /// attributes nor a stored weight say (the input's and weight's ranks decide at run time).</summary>
    public bool? OneD { get; private init; }

    private ConvTransposeOp(OnnxNode node, string where, int[] k, int[] s, int[] d, int groups, AutoPad autoPad, int[] pads, int[] outputPadding, int[]? outputShape)
        : base(node, where, node.Inputs, node.Outputs[0])
    {
        (KernelY, KernelX, StrideY, StrideX, DilationY, DilationX) = (k[0], k[1], s[0], s[1], d[0], d[1]);
        Groups = groups;
        AutoPad = autoPad;
        Pads = pads;
        OutputPadding = outputPadding;
        OutputShape = outputShape;
    }

    internal static ConvTransposeOp Read(OnnxNode node, NodeAttributes a, Tensor? weight)
    {
        a.CheckArity(2, 3);
        if (weight is not null && weight.Rank is not (3 or 4))
            throw a.Error($"weight {weight.ShapeString} is not (C_in, C_out/group, kH, kW), or (C_in, C_out/group, k) for a 1D one: ConvGL runs 1D and 2D transposed convolutions");
        int? dims = SpatialAttributes.Dims(a, weight is null ? null : weight.Rank - 2, "kernel_shape", "strides", "dilations", "pads", "output_padding");
        long[]? shape = a.Ints("output_shape");
        // output_shape: the spatial sizes, or (as some exporters write) N and C before them; where nothing else says, its
        // length says which.
        if (dims is null && shape is { Length: 1 or 3 }) dims = 1;
        int shapeDims = dims ?? 2;
        if (shape is not null && shape.Length != shapeDims && shape.Length != shapeDims + 2)
            throw a.Error($"attribute 'output_shape' has {shape.Length} entries, expected {shapeDims} ({(shapeDims == 1 ? "[L]" : "[H, W]")})");
        if (shape is not null && dims == 1) shape = [1, shape[^1]];
        // Without kernel_shape or a stored weight, the kernel is the weight's when it arrives (0: not known yet).
        long[] k = SpatialAttributes.Lift(a.Ints("kernel_shape"), 1)
                   ?? (weight is null ? [0, 0] : weight.Rank == 3 ? [1, weight.Shape[2]] : [weight.Shape[2], weight.Shape[3]]);
        if (weight is not null && (weight.Rank == 3 ? k[1] != weight.Shape[2] : k[0] != weight.Shape[2] || k[1] != weight.Shape[3]))
            throw a.Error(weight.Rank == 3 ? $"kernel_shape [{k[1]}] does not match the weight's [{weight.Shape[2]}]"
                : $"kernel_shape [{k[0]}, {k[1]}] does not match the weight's [{weight.Shape[2]}, {weight.Shape[3]}]");
        long[] s = SpatialAttributes.Lift(a.Ints("strides"), 1) ?? [1, 1], d = SpatialAttributes.Lift(a.Ints("dilations"), 1) ?? [1, 1];
        long[] p = SpatialAttributes.LiftPads(a.Ints("pads")) ?? [0, 0, 0, 0], op = SpatialAttributes.Lift(a.Ints("output_padding"), 0) ?? [0, 0];
        long group = a.Int("group", 1);
        AutoPad mode = SpatialAttributes.ReadAutoPad(a);
        foreach (long v in k.Where(v => v != 0 || a.Ints("kernel_shape") is not null).Concat(s).Concat(d))
            if (v < 1 || v > 1 << 20) throw a.Error($"kernel_shape, strides and dilations must be in [1, 2^20], got [{string.Join(", ", k.Concat(s).Concat(d))}]");
        foreach (long v in p.Concat(op).Concat(shape ?? []))
            if (v < 0 || v > 1 << 20) throw a.Error($"pads, output_padding and output_shape must be in [0, 2^20], got [{string.Join(", ", p.Concat(op).Concat(shape ?? []))}]");
        if (group < 1) throw a.Error($"group {group} must be at least 1");
        if (group > 1 << 20)
            throw a.Error($"group {group} is too large: it must divide the input and output channels (at most 2^20)");
        a.Finish();
        int[] I(long[] v) => v.Select(x => (int)x).ToArray();
        var result = new ConvTransposeOp(node, a.Where, I(k), I(s), I(d), (int)group, mode, I(p), I(op), shape is null ? null : I(shape[^2..]))
        {
            OneD = dims is null ? null : dims == 1,
        };
        if (weight is not null) result.CheckWeight(weight);
        return result;
    }

    /// <summary>The reference options for an input of (h, w) and a weight of (kh, kw).</summary>
    public ConvTransposeOptions Options(int h, int w, int kh, int kw)
    {
        var o = new ConvTransposeOptions
        {
            StrideY = StrideY, StrideX = StrideX, DilationY = DilationY, DilationX = DilationX,
            OutputPadY = OutputPadding[0], OutputPadX = OutputPadding[1], Groups = Groups,
        };
        int[]? target = OutputShape ?? (AutoPad is AutoPad.SameUpper or AutoPad.SameLower ? [h * StrideY, w * StrideX] : null);
        if (target is null)
            return AutoPad == AutoPad.Valid ? o : o with { PadTop = Pads[0], PadLeft = Pads[1], PadBottom = Pads[2], PadRight = Pads[3] };
        (int ty, int by) = Split((long)StrideY * (h - 1) + OutputPadding[0] + (long)(kh - 1) * DilationY + 1 - target[0], "H");
        (int tx, int bx) = Split((long)StrideX * (w - 1) + OutputPadding[1] + (long)(kw - 1) * DilationX + 1 - target[1], "W");
        return o with { PadTop = ty, PadLeft = tx, PadBottom = by, PadRight = bx };
    }

    /// <summary>ONNX's split of the total padding (floor halves, as its reference: a total of -1, an output one larger
    /// than the full one, is an extra row at the end).</summary>
    private (int Start, int End) Split(long total, string axis)
    {
        if (Math.Abs(total) > 1 << 20)
            throw Error($"the requested output {axis} needs padding {total}, beyond [-2^20, 2^20]");
        int half = (int)Math.Floor(total / 2.0), rest = (int)total - half;
        return AutoPad == AutoPad.SameUpper ? (half, rest) : (rest, half);
    }

    /// <summary>Whether a run with this weight is 1D: the attributes' or stored weight's say, else the weight's rank.</summary>
    public bool IsOneD(Tensor w) => OneD ?? w.Rank == 3;

    public void CheckWeight(Tensor w)
    {
        if (IsOneD(w))
        {
            if (w.Rank != 3) throw Error($"weight {w.ShapeString} is not (C_in, C_out/group, k): the node's attributes are 1D");
            if (KernelX > 0 && w.Shape[2] != KernelX) throw Error($"weight {w.ShapeString} does not match kernel_shape [{KernelX}]");
            if (w.Shape[0] % Groups != 0)
                throw Error($"group {Groups} must divide the weight's {w.Shape[0]} input channels (weight {w.ShapeString}); fix the group attribute or the weight");
            return;
        }
        if (w.Rank != 4) throw new OnnxUnsupportedException($"{Where}: weight {w.ShapeString} is not (C_in, C_out/group, kH, kW): ConvGL runs 1D and 2D transposed convolutions (a 1D weight goes with 1D attributes)");
        if (KernelY > 0 && (w.Shape[2] != KernelY || w.Shape[3] != KernelX))
            throw Error($"weight {w.ShapeString} does not match kernel_shape [{KernelY}, {KernelX}]");
        if (w.Shape[0] % Groups != 0)
            throw Error($"group {Groups} must divide the weight's {w.Shape[0]} input channels (weight {w.ShapeString}); fix the group attribute or the weight");
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!, w = inputs[1]!;
        CheckWeight(w);
        float[]? bias = inputs.Count > 2 ? inputs[2]?.Data : null;
        try
        {
            Tensor row = SpatialAttributes.Row(w);
            return PerImage(x, IsOneD(w), "transposed conv", image => ConvTranspose2D.Apply(image, row, bias, Options(image.H, image.W, row.Shape[2], row.Shape[3])));
        }
        catch (ConvGLException e) when (!e.Message.StartsWith(Where, StringComparison.Ordinal))
        {
            throw Error(e.Message);
        }
    }
}
