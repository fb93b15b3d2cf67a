using System.Globalization;
using ConvGL.Core.Ops;

namespace ConvGL.Core.Stacks;

/// <summary>The per-channel normalisation a model was trained on, PyTorch's <c>transforms.Normalize(mean, std)</c>:
/// each input value becomes (x - mean[c]) / std[c]. ConvGL feeds a model pictures with values 0..1 (RGB or gray); a
/// torchvision-style model expects them normalised so (ImageNet's mean 0.485, 0.456, 0.406 and std 0.229, 0.224, 0.225),
/// and without it its maps are not the ones it learned to make. Given with <c>--normalize</c> (the window, features,
/// convert), it becomes the stack's first layer, a per-channel affine (<see cref="BatchNormLayer"/>: scale 1 / std,
/// shift -mean / std, equal to the quotient within float32 rounding) named <see cref="LayerName"/>, which every
/// layer that read the stack input now reads: shown, probed and run as any layer, on the CPU and the GPU.
/// A model fed BGR (Caffe's, OpenCV's order: <c>bgr:</c> before the numbers, which are then in the model's B, G, R order)
/// gets a 1x1 conv instead, output channel c = input channel 2 - c times 1 / std[c], plus -mean[c] / std[c]: the reorder
/// and the normalisation in one layer, the same arithmetic per value (the other two taps are zeros).</summary>
public sealed class InputNormalization
{
    /// <summary>The name of the layer it becomes.</summary>
    public const string LayerName = "normalize";

    /// <summary>torchvision's ImageNet statistics (RGB), what its pretrained models and most fine-tuned from them expect.</summary>
    public static InputNormalization ImageNet { get; } = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f], "imagenet");

    /// <summary>One value, or one per input channel (R, G, B for an RGB stack).</summary>
    public IReadOnlyList<float> Mean { get; }
    public IReadOnlyList<float> Std { get; }
    /// <summary>As the user gave it ("imagenet", or "0.5/0.5"), for messages.</summary>
    public string Text { get; }
    /// <summary>The model takes B, G, R: the layer reorders the picture's R, G, B too (<see cref="Mean"/> and
    /// <see cref="Std"/> are in the model's order).</summary>
    public bool Bgr { get; }

    private InputNormalization(float[] mean, float[] std, string text, bool bgr = false) => (Mean, Std, Text, Bgr) = (mean, std, text, bgr);

    private const string Form = "expected imagenet, or MEAN/STD with one number or one per input channel on each side " +
                                "(the values of a 0..1 picture: 0.485,0.456,0.406/0.229,0.224,0.225 is imagenet; 0.5/0.5 maps 0..1 to -1..1), " +
                                "either after bgr: for a model that takes B, G, R";

    /// <summary>"imagenet", or "MEAN/STD" where each side is one number or comma-separated numbers (one per channel),
    /// either after "bgr:" for a model that takes B, G, R (the numbers then in its order; bgr:imagenet reverses imagenet's).
    /// One error line naming the option and the value otherwise; every std must be a positive finite number.</summary>
    public static InputNormalization Parse(string text)
    {
        string shown = ErrorText.Echo(text);
        string t = text.Trim();
        bool bgr = t.StartsWith("bgr:", StringComparison.OrdinalIgnoreCase);
        string body = bgr ? t[4..].Trim() : t;
        if (body.Equals("imagenet", StringComparison.OrdinalIgnoreCase))
            return bgr ? new InputNormalization([.. ImageNet.Mean.Reverse()], [.. ImageNet.Std.Reverse()], t, bgr: true) : ImageNet;
        string[] sides = body.Split('/');
        if (sides.Length != 2) throw new ConvGLException($"--normalize '{shown}': {Form}");
        float[] Numbers(string side, string what)
        {
            string[] parts = side.Split(',');
            if (parts.Length is not (1 or 3)) throw new ConvGLException($"--normalize '{shown}': {what} has {parts.Length} numbers; give one, or one per channel (3 for RGB)");
            var values = new float[parts.Length];
            for (int i = 0; i < parts.Length; i++)
                if (!float.TryParse(parts[i].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
                    throw new ConvGLException($"--normalize '{shown}': {what} entry '{ErrorText.Echo(parts[i].Trim())}' is not a finite number; {Form}");
            return values;
        }
        float[] mean = Numbers(sides[0], "the mean");
        float[] std = Numbers(sides[1], "the std");
        for (int i = 0; i < std.Length; i++)
            if (!(std[i] > 0f)) throw new ConvGLException($"--normalize '{shown}': std entry {i} is {std[i].ToString(CultureInfo.InvariantCulture)}; each std must be positive (it divides)");
        for (int i = 0; i < std.Length; i++)
            if (!float.IsFinite(1f / std[i]) || !float.IsFinite(mean[Math.Min(i, mean.Length - 1)] / std[i]))
                throw new ConvGLException($"--normalize '{shown}': std entry {i} is too small for float32 (1 / std or mean / std is beyond its range)");
        return new InputNormalization(mean, std, t, bgr);
    }

    /// <summary>The stack with the normalisation as its first layer: layers that read the stack input read it instead, and
    /// every other index moves up by one. The layers are taken over (their inputs renumbered), so call it on a stack
    /// just loaded. Refused for a stack with a preprocessing of its own (the packaged ResNet18: BGR, 0..255, minus a mean
    /// image) and for counts that do not match the stack's input channels.</summary>
    public Stack Apply(Stack stack)
    {
        int c = stack.InputChannels;
        string who = $"--normalize '{ErrorText.Echo(Text)}'";
        if (stack.Preprocess is { ResizesOnly: false } pre)
            throw new ConvGLException($"{who}: stack '{stack.Name}' has its own preprocessing ({pre.Describe()}); --normalize is for models fed 0..1 pictures");
        if (Bgr && c != 3)
            throw new ConvGLException($"{who}: bgr: reorders three channels, and stack '{stack.Name}' takes {c} ({stack.Input.ToString().ToLowerInvariant()}); leave bgr: out");
        foreach ((IReadOnlyList<float> side, string what) in new[] { (Mean, "mean"), (Std, "std") })
            if (side.Count != 1 && side.Count != c)
                throw new ConvGLException($"{who}: {side.Count} {what} values for stack '{stack.Name}', which takes {c} channel(s) ({stack.Input.ToString().ToLowerInvariant()}); give one value or {c}");
        var scale = new float[c];
        var shift = new float[c];
        for (int i = 0; i < c; i++)
        {
            float m = Mean[Mean.Count == 1 ? 0 : i], s = Std[Std.Count == 1 ? 0 : i];
            scale[i] = 1f / s;
            shift[i] = -m / s;
        }
        StackLayer first = Bgr ? Reorder(scale, shift) : new BatchNormLayer(BatchNorm.FromAffine(scale, shift)) { ScaleName = "normalize.scale", ShiftName = "normalize.shift" };
        first.Label = LayerName;
        var layers = new List<StackLayer>(stack.Layers.Count + 1) { first };
        for (int i = 0; i < stack.Layers.Count; i++)
        {
            StackLayer layer = stack.Layers[i];
            if (layer.Inputs is { } inputs) layer.Inputs = inputs.Select(j => j + 1).ToArray();
            layers.Add(layer);
        }
        return new Stack(stack.Name, stack.Input, layers, stack.WeightsFile)
        {
            SourcePath = stack.SourcePath,
            Description = stack.Description,
            FromOnnx = stack.FromOnnx,
            ChannelsLastInput = stack.ChannelsLastInput,
            Preprocess = stack.Preprocess,
        };
    }

    /// <summary>The 1x1 conv of <c>bgr:</c>: output channel c reads input channel 2 - c (B from R's place), times
    /// scale[c], plus shift[c].</summary>
    private static ConvLayer Reorder(float[] scale, float[] shift)
    {
        var weight = new Tensor([3, 3, 1, 1]);
        for (int c = 0; c < 3; c++) weight.Data[c * 3 + (2 - c)] = scale[c];
        return ConvLayer.Learned(weight, shift, new ConvOptions(), "normalize.weight", "normalize.bias");
    }

    /// <summary>"(x - mean) / std, mean 0.485, 0.456, 0.406, std 0.229, 0.224, 0.225" ("B, G, R = R, G, B reversed, then
    /// ..." after <c>bgr:</c>).</summary>
    public string Describe() =>
        (Bgr ? "B, G, R (the picture's channels reversed), then " : "") +
        $"(x - mean) / std, mean {string.Join(", ", Mean.Select(F))}, std {string.Join(", ", Std.Select(F))}";

    private static string F(float v) => v.ToString("0.######", CultureInfo.InvariantCulture);
}
