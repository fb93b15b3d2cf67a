using ConvGL.Core.Ops;

namespace ConvGL.Core.Onnx;

/// <summary>ONNX Resize (opset 10 on) and Upsample (opset 7-9) on the two spatial axes, modes nearest, linear and cubic (see
/// <see cref="Resize2D"/>): scales from the <c>scales</c> attribute (Upsample-7) or input (an initializer, or a graph
/// input when run as a graph), or an output size from the <c>sizes</c> input (integers). Before opset 11 the mapping
/// is asymmetric and nearest floors (Upsample's repeat). The batch and channel axes must keep their size;
/// tf_crop_and_resize, antialias and axes are one error each.</summary>
public sealed class ResizeOp : OnnxOp
{
    public ResizeMode Mode { get; }
    public ResizeCoordinates Coordinates { get; }
    public ResizeRounding Rounding { get; }
    public float[]? AttributeScales { get; }

    private ResizeOp(OnnxNode node, string where, ResizeMode mode, ResizeCoordinates coordinates, ResizeRounding rounding, float[]? scales)
        : base(node, where, node.Inputs, node.Outputs[0])
    {
        Mode = mode;
        Coordinates = coordinates;
        Rounding = rounding;
        AttributeScales = scales;
    }

    /// <summary>Resize's <c>sizes</c> (input 3).</summary>
    public override IEnumerable<string> IntegerInputs => Node.OpType == "Resize" && Inputs.Count > 3 && Inputs[3].Length > 0 ? [Inputs[3]] : [];

    /// <summary>The input names of the scales and sizes (empty when absent).</summary>
    public string ScalesInput => Node.OpType == "Upsample" ? (Inputs.Count > 1 ? Inputs[1] : "") : Inputs.Count > 2 ? Inputs[2] : Inputs.Count == 2 ? Inputs[1] : "";
    public string SizesInput => Node.OpType == "Resize" && Inputs.Count > 3 ? Inputs[3] : "";

    internal static ResizeOp Read(OnnxNode node, NodeAttributes a, long opset)
    {
        bool upsample = node.OpType == "Upsample";
        a.CheckArity(1, upsample ? 2 : 4);
        string mode = a.String("mode", "nearest");
        ResizeMode m = mode switch
        {
            "nearest" => ResizeMode.Nearest,
            "linear" or "bilinear" => ResizeMode.Linear,
            "cubic" => ResizeMode.Cubic,
            _ => throw a.Error($"mode '{mode}' is not supported (supported: nearest, linear, cubic)"),
        };
        bool legacy = upsample || opset < 11;
        string coordinates = a.String("coordinate_transformation_mode", legacy ? "asymmetric" : "half_pixel");
        ResizeCoordinates c = coordinates switch
        {
            "half_pixel" => ResizeCoordinates.HalfPixel,
            "pytorch_half_pixel" => ResizeCoordinates.PytorchHalfPixel,
            "align_corners" => ResizeCoordinates.AlignCorners,
            "asymmetric" => ResizeCoordinates.Asymmetric,
            "tf_half_pixel_for_nn" => ResizeCoordinates.TfHalfPixelForNn,
            _ => throw a.Error($"coordinate_transformation_mode '{coordinates}' is not supported (supported: half_pixel, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn)"),
        };
        string nearest = a.String("nearest_mode", legacy ? "floor" : "round_prefer_floor");
        ResizeRounding r = nearest switch
        {
            "round_prefer_floor" => ResizeRounding.RoundPreferFloor,
            "round_prefer_ceil" => ResizeRounding.RoundPreferCeil,
            "floor" => ResizeRounding.Floor,
            "ceil" => ResizeRounding.Ceil,
            _ => throw a.Error($"nearest_mode '{nearest}' is not supported (supported: round_prefer_floor, round_prefer_ceil, floor, ceil)"),
        };
        float cubicA = a.Float("cubic_coeff_a", -0.75f);
        long exclude = a.Int("exclude_outside", 0);
        if (exclude is not (0 or 1)) throw a.Error($"exclude_outside {exclude} must be 0 or 1");
        // tf_crop_and_resize's parameter: meaningless for the mappings ConvGL runs.
        a.Ignore("extrapolation_value");
        if (a.Int("antialias", 0) != 0) throw a.Error("antialias = 1 is not supported (supported: 0)");
        if (a.Ints("axes") is not null) throw a.Error("attribute 'axes' is not supported (supported: scales or sizes for every axis)");
        if (a.String("keep_aspect_ratio_policy", "stretch") != "stretch") throw a.Error("keep_aspect_ratio_policy other than stretch is not supported");
        float[]? scales = upsample ? a.Floats("scales") : null;
        a.Ignore("scales");
        a.Finish();
        return new ResizeOp(node, a.Where, m, c, r, scales) { CubicA = cubicA, ExcludeOutside = exclude == 1 };
    }

    public float CubicA { get; private init; } = -0.75f;
    public bool ExcludeOutside { get; private init; }

    /// <summary>The options for an input shape, from the scales or sizes tensors (null when absent).</summary>
    public ResizeOptions Options(int[] shape, Tensor? scales, Tensor? sizes)
    {
        if (shape.Length < 3) throw Error($"resize takes (N, C, H, W), got an input of rank {shape.Length}");
        var o = new ResizeOptions { Mode = Mode, Coordinates = Coordinates, Rounding = Rounding, CubicA = CubicA, ExcludeOutside = ExcludeOutside };
        float[]? sc = AttributeScales ?? (scales is { Length: > 0 } ? scales.Data : null);
        if (sizes is { Length: > 0 })
        {
            if (sizes.Length != shape.Length) throw Error($"sizes has {sizes.Length} entries for an input of rank {shape.Length}");
            for (int d = 0; d < shape.Length - 2; d++)
                if (sizes.Data[d] != shape[d]) throw Error($"sizes [{string.Join(", ", sizes.Data)}] resize axis {d}; ConvGL resizes only the last two (spatial) axes");
            float hy = sizes.Data[^2], wx = sizes.Data[^1];
            if (!(hy >= 1 && wx >= 1 && hy <= 1 << 20 && wx <= 1 << 20 && hy == MathF.Round(hy) && wx == MathF.Round(wx)))
                throw Error($"sizes [{string.Join(", ", sizes.Data)}] must be whole sizes in [1, 2^20]");
            return o with { SizeY = (int)hy, SizeX = (int)wx };
        }
        if (sc is null) throw Error("has neither scales nor sizes");
        if (sc.Length != shape.Length) throw Error($"scales has {sc.Length} entries for an input of rank {shape.Length}");
        for (int d = 0; d < shape.Length - 2; d++)
            if (sc[d] != 1f) throw Error($"scales [{string.Join(", ", sc)}] resize axis {d}; ConvGL resizes only the last two (spatial) axes");
        if (!(sc[^2] > 0 && sc[^1] > 0 && sc[^2] <= 1 << 16 && sc[^1] <= 1 << 16))
            throw Error($"scales [{string.Join(", ", sc)}] must be positive and at most 2^16");
        return o with { ScaleY = sc[^2], ScaleX = sc[^1] };
    }

    public Tensor? Scales(IReadOnlyList<Tensor?> inputs) => Find(inputs, ScalesInput);
    public Tensor? Sizes(IReadOnlyList<Tensor?> inputs) => Find(inputs, SizesInput);

    private Tensor? Find(IReadOnlyList<Tensor?> inputs, string name)
    {
        if (name.Length == 0) return null;
        int i = Inputs.ToList().IndexOf(name);
        return i >= 0 && i < inputs.Count ? inputs[i] : null;
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!;
        ResizeOptions o = Options(x.Shape, Scales(inputs), Sizes(inputs));
        int planes = (int)x.Shape[..^2].Aggregate(1L, (p, d) => p * d);
        try
        {
            Tensor y = Resize2D.Apply(x.Reshape(planes, x.Shape[^2], x.Shape[^1]), o);
            return y.Reshape([.. x.Shape[..^2], y.H, y.W]);
        }
        catch (ConvGLException e)
        {
            throw Error(e.Message);
        }
    }
}
