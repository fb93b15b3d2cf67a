using System.Text.Json;
using ConvGL.Core.IO;
using ConvGL.Core.Ops;

namespace ConvGL.Core.Stacks;

/// <summary>Writes a <see cref="Stack"/> as a stack file that <see cref="StackFile.Load"/> reads back to the same
/// layers (used by <c>convgl train</c>). Learned layers' tensors are written too: those named by a .npy path as
/// that .npy file, the others to the stack's <see cref="Stack.WeightsFile"/> as F32 safetensors (both relative to
/// the stack file). All files are written together or not at all (AtomicFile.WriteAll: every temporary file first, then the renames,
/// the weights first), so a stack file never names tensors that are not there and a full disk leaves nothing behind.</summary>
public static class StackWriter
{
    public static void Write(string path, Stack stack, IReadOnlyDictionary<string, string>? weightsMetadata = null)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Dictionary<string, Tensor> tensors = CollectTensors(stack);
        Dictionary<string, Tensor> npy = tensors.Where(t => IsNpy(t.Key)).ToDictionary(t => t.Key, t => t.Value);
        Dictionary<string, Tensor> named = tensors.Where(t => !IsNpy(t.Key)).ToDictionary(t => t.Key, t => t.Value);
        var files = new List<(string, byte[])>();
        if (named.Count > 0)
        {
            if (stack.WeightsFile is null)
                throw new ConvGLException($"{path}: stack '{stack.Name}' has learned layers; give it a weights file name to write their tensors to");
            files.Add((Path.Combine(dir, stack.WeightsFile), SafeTensors.Serialize(named, weightsMetadata)));
        }
        foreach ((string name, Tensor t) in npy) files.Add((Path.Combine(dir, name), Npy.Serialize(t)));
        byte[] json = System.Text.Encoding.UTF8.GetBytes(ToJson(stack));
        // A stack file the loader would refuse is not written (the fifth audit: convert wrote 6.3 MB for 100,000 relus).
        if (json.Length > Limits.StackFileBytes)
            throw new ConvGLException($"{path}: the stack file would be {Limits.Bytes(json.Length)} ({stack.Layers.Count} layers), over the " +
                                      $"{Limits.Bytes(Limits.StackFileBytes)} a stack file may have; nothing was written");
        files.Add((path, json));
        AtomicFile.WriteAll(files);
    }

    private static bool IsNpy(string name) => name.EndsWith(".npy", StringComparison.OrdinalIgnoreCase);

    /// <summary>The tensors the learned layers name (tensor names and .npy paths), by name; one name used for two
    /// different tensors is an error.</summary>
    public static Dictionary<string, Tensor> CollectTensors(Stack stack)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        void Add(string name, Tensor t, int layer)
        {
            if (tensors.TryGetValue(name, out Tensor? existing) && !(existing.SameShape(t) && existing.Data.AsSpan().SequenceEqual(t.Data)))
                throw new ConvGLException($"stack '{stack.Name}': layer {layer} names tensor '{name}', which an earlier layer uses for different values");
            tensors[name] = t;
        }
        for (int i = 0; i < stack.Layers.Count; i++)
        {
            switch (stack.Layers[i])
            {
                case ConvLayer { IsFixed: false } conv:
                    Add(conv.WeightName!, conv.Weight, i);
                    if (conv.Bias is not null) Add(conv.BiasName!, new Tensor([conv.Bias.Length], conv.Bias), i);
                    break;
                case ConvTransposeLayer t:
                    Add(t.WeightName, t.Weight, i);
                    if (t.Bias is not null) Add(t.BiasName!, new Tensor([t.Bias.Length], t.Bias), i);
                    break;
                case LinearLayer linear:
                    Add(linear.WeightName, linear.Weight, i);
                    if (linear.Bias is not null) Add(linear.BiasName!, new Tensor([linear.Bias.Length], linear.Bias), i);
                    break;
                case BatchNormLayer bn:
                    (string scale, string shift) = BatchNormNames(bn, i);
                    Add(scale, new Tensor([bn.Parameters.Channels], bn.Parameters.Scale), i);
                    Add(shift, new Tensor([bn.Parameters.Channels], bn.Parameters.Shift), i);
                    break;
                case ChannelLayerNormLayer lnorm:
                    (string lscale, string lshift) = LayerNormNames(lnorm, i);
                    Add(lscale, new Tensor([lnorm.Parameters.Length], lnorm.Parameters.Scale), i);
                    Add(lshift, new Tensor([lnorm.Parameters.Length], lnorm.Parameters.Shift), i);
                    break;
                case InstanceNormLayer inorm:
                    (string iscale, string ishift) = InstanceNormNames(inorm, i);
                    Add(iscale, new Tensor([inorm.Parameters.Channels], inorm.Parameters.Scale), i);
                    Add(ishift, new Tensor([inorm.Parameters.Channels], inorm.Parameters.Shift), i);
                    break;
                case GroupNormLayer gnorm:
                    (string gscale, string gshift) = GroupNormNames(gnorm, i);
                    Add(gscale, new Tensor([gnorm.Parameters.Channels], gnorm.Parameters.Scale), i);
                    Add(gshift, new Tensor([gnorm.Parameters.Channels], gnorm.Parameters.Shift), i);
                    break;
            }
        }
        return tensors;
    }

    /// <summary>A batchnorm's tensor names: as read from a stack file, else from its label (an imported node) or index.</summary>
    private static (string Scale, string Shift) BatchNormNames(BatchNormLayer bn, int index)
    {
        string stem = bn.Label is { Length: > 0 } label ? label : $"batchnorm{index}";
        return (bn.ScaleName ?? stem + ".scale", bn.ShiftName ?? stem + ".shift");
    }

    private static (string Scale, string Shift) LayerNormNames(ChannelLayerNormLayer n, int index)
    {
        string stem = n.Label is { Length: > 0 } label ? label : $"layernorm{index}";
        return (n.ScaleName ?? stem + ".scale", n.ShiftName ?? stem + ".shift");
    }

    private static (string Scale, string Shift) GroupNormNames(GroupNormLayer n, int index)
    {
        string stem = n.Label is { Length: > 0 } label ? label : $"groupnorm{index}";
        return (n.ScaleName ?? stem + ".scale", n.ShiftName ?? stem + ".shift");
    }

    private static (string Scale, string Shift) InstanceNormNames(InstanceNormLayer n, int index)
    {
        string stem = n.Label is { Length: > 0 } label ? label : $"instancenorm{index}";
        return (n.ScaleName ?? stem + ".scale", n.ShiftName ?? stem + ".shift");
    }

    /// <summary>The weights file <see cref="WriteWithWeights"/> writes beside the stack file at <paramref name="path"/>
    /// (its name, relative to the stack file): OUT.json's is OUT.safetensors.</summary>
    public static string WeightsFileName(string path) => Path.GetFileNameWithoutExtension(path) + ".safetensors";

    /// <summary>Saves a stack imported from an ONNX model (or any stack with learned layers) as a stack file plus
    /// <c>STEM.safetensors</c> next to it: batchnorms already folded into their convs stay folded (the folded weights
    /// are written), standalone batchnorms, ONNX pools, linear layers and graph inputs keep their fields. The
    /// model's image preprocessing is not part of the format: the written stack takes the model's input as it is. A
    /// stack without tensors to hold (pools and activations only) gets no weights file and names none. Returns the
    /// weights file's path, or null when none was written.</summary>
    public static string? WriteWithWeights(string path, Stack stack, IReadOnlyDictionary<string, string>? weightsMetadata = null)
    {
        string? weights = CollectTensors(stack).Keys.Any(k => !IsNpy(k)) ? WeightsFileName(path) : null;
        var copy = new Stack(stack.Name, stack.Input, stack.Layers, weights) { SourcePath = stack.SourcePath, Description = stack.Description };
        Write(path, copy, weightsMetadata);
        return weights is null ? null : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, weights);
    }

    /// <summary>Control characters escaped, cut to <paramref name="max"/> characters with an ellipsis.</summary>
    private static string Printable(string text, int max) => ErrorText.IsOneLine(text) && text.Length <= max ? text : ErrorText.Echo(text, max - 3);

    public static string ToJson(Stack stack)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            // Names and descriptions as StackFile reads them back: one printable line within its limits (an imported
            // model's node names and producer are whatever the model says).
            w.WriteString("name", Printable(stack.Name, Limits.StackNameChars));
            if (stack.Description is not null) w.WriteString("description", Printable(stack.Description, Limits.StackDescriptionChars));
            w.WriteString("input", stack.Input == StackInput.Gray ? "gray" : "rgb");
            if (stack.WeightsFile is not null) w.WriteString("weights", stack.WeightsFile);
            w.WriteStartArray("layers");
            string?[] refNames = ReferenceNames(stack);
            bool inputNamed = stack.Layers.Any(l => l.Label == "input");
            for (int i = 0; i < stack.Layers.Count; i++) WriteLayer(w, stack.Layers[i], i, refNames, inputNamed);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>How an <c>"inputs"</c> entry names each layer: its name where that is one no other layer has (written as
    /// is, and not "input"), else null (its index). Names survive hand edits that add or drop layers, which shift every
    /// later index (the CLI audit: dropping one of ResNet18's blocks from a converted stack meant renumbering each
    /// residual's inputs).</summary>
    private static string?[] ReferenceNames(Stack stack)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (StackLayer l in stack.Layers)
            if (l.Label is { Length: > 0 } label) counts[label] = counts.GetValueOrDefault(label) + 1;
        return stack.Layers.Select(l => l.Label is { Length: > 0 } label && counts[label] == 1 && label != "input"
                                        && Printable(label, Limits.StackNameChars) == label ? label : null).ToArray();
    }

    private static void WriteLayer(Utf8JsonWriter w, StackLayer layer, int index, string?[] refNames, bool inputNamed)
    {
        w.WriteStartObject();
        w.WriteString("type", layer.Type);
        if (layer.Label is not null) w.WriteString("name", Printable(layer.Label, Limits.StackNameChars));
        if (layer.Inputs is not null)
        {
            // By name where the layer has a name of its own, else by index; the stack input as "input", or -1 where a layer
            // is named "input" (the loader refuses "input" then: it would name both).
            w.WriteStartArray("inputs");
            foreach (int i in layer.Inputs)
            {
                if (i < 0 && inputNamed) w.WriteNumberValue(-1);
                else if (i < 0) w.WriteStringValue("input");
                else if (refNames[i] is { } name) w.WriteStringValue(name);
                else w.WriteNumberValue(i);
            }
            w.WriteEndArray();
        }
        switch (layer)
        {
            case BatchNormLayer bn:
                {
                    (string scale, string shift) = BatchNormNames(bn, index);
                    w.WriteString("scale", scale);
                    w.WriteString("shift", shift);
                    break;
                }
            case ChannelLayerNormLayer lnorm:
                {
                    (string scale, string shift) = LayerNormNames(lnorm, index);
                    w.WriteString("scale", scale);
                    w.WriteString("shift", shift);
                    w.WriteNumber("epsilon", lnorm.Parameters.Epsilon);
                    break;
                }
            case InstanceNormLayer inorm:
                {
                    (string scale, string shift) = InstanceNormNames(inorm, index);
                    w.WriteString("scale", scale);
                    w.WriteString("shift", shift);
                    w.WriteNumber("epsilon", inorm.Parameters.Epsilon);
                    break;
                }
            case GroupNormLayer gnorm:
                {
                    (string scale, string shift) = GroupNormNames(gnorm, index);
                    w.WriteNumber("groups", gnorm.Groups);
                    w.WriteString("scale", scale);
                    w.WriteString("shift", shift);
                    w.WriteNumber("epsilon", gnorm.Parameters.Epsilon);
                    break;
                }
            case LrnLayer lrn:
                w.WriteNumber("size", lrn.Parameters.Size);
                w.WriteNumber("alpha", lrn.Parameters.Alpha);
                w.WriteNumber("beta", lrn.Parameters.Beta);
                w.WriteNumber("bias", lrn.Parameters.Bias);
                break;
            case LinearLayer linear:
                w.WriteString("weight", linear.WeightName);
                if (linear.BiasName is not null) w.WriteString("bias", linear.BiasName);
                break;
            case PaddedPoolLayer pool:
                {
                    PaddedPoolOptions o = pool.Options;
                    Pair(w, "size", o.SizeY, o.SizeX, -1);
                    Pair(w, "stride", o.StrideY, o.StrideX, -1);
                    if (o.Padding == PaddingMode.Explicit)
                    {
                        w.WriteStartArray("padding");
                        foreach (int p in new[] { o.PadTop, o.PadLeft, o.PadBottom, o.PadRight }) w.WriteNumberValue(p);
                        w.WriteEndArray();
                    }
                    else
                    {
                        w.WriteString("padding", o.Padding.Name());
                    }
                    Pair(w, "dilation", o.DilationY, o.DilationX, 1);
                    // Always written: it marks the ONNX pool (PaddedPoolOptions) for the reader.
                    w.WriteBoolean("ceil_mode", o.CeilMode);
                    if (o.Kind == PoolKind.Average) w.WriteBoolean("count_include_pad", o.CountIncludePad);
                    break;
                }
            case ConvLayer conv:
                {
                    ConvOptions o = conv.Options;
                    if (conv.IsFixed)
                    {
                        w.WriteStartArray("kernels");
                        foreach (string k in conv.Kernels!) w.WriteStringValue(k);
                        w.WriteEndArray();
                        if (conv.Sum) w.WriteBoolean("sum", true);
                    }
                    else
                    {
                        w.WriteString("weight", conv.WeightName);
                        if (conv.BiasName is not null) w.WriteString("bias", conv.BiasName);
                        if (o.Groups != 1) w.WriteNumber("groups", o.Groups);
                    }
                    Pair(w, "stride", o.StrideY, o.StrideX, 1);
                    Pair(w, "dilation", o.DilationY, o.DilationX, 1);
                    if (o.Padding == PaddingMode.Explicit && ((o.PadBottom ?? o.PadY) != o.PadY || (o.PadRight ?? o.PadX) != o.PadX))
                    {
                        w.WriteStartArray("padding");
                        foreach (int p in new[] { o.PadY, o.PadX, o.PadBottom ?? o.PadY, o.PadRight ?? o.PadX }) w.WriteNumberValue(p);
                        w.WriteEndArray();
                    }
                    else if (o.Padding == PaddingMode.Explicit)
                    {
                        Pair(w, "padding", o.PadY, o.PadX, -1);
                    }
                    else
                    {
                        w.WriteString("padding", o.Padding.Name());
                    }
                    w.WriteString("border", o.Border.Name());
                    if (o.Mode == ConvMode.Convolve) w.WriteString("mode", "convolve");
                    break;
                }
            case PoolLayer pool:
                {
                    PoolOptions o = pool.Options;
                    Pair(w, "size", o.SizeY, o.SizeX, -1);
                    if (o.StrideY > 0 || o.StrideX > 0) Pair(w, "stride", o.EffectiveStrideY, o.EffectiveStrideX, -1);
                    Pair(w, "padding", o.PadY, o.PadX, 0);
                    break;
                }
            case ActivationLayer { Kind: ActivationKind.LeakyRelu } act:
                w.WriteNumber("slope", act.Slope);
                break;
            case ActivationLayer { Kind: ActivationKind.Elu or ActivationKind.Selu or ActivationKind.HardSigmoid or ActivationKind.Celu or ActivationKind.ThresholdedRelu } act:
                w.WriteNumber("alpha", act.Slope);
                if (act.Kind == ActivationKind.Selu) w.WriteNumber("gamma", act.Beta);
                if (act.Kind == ActivationKind.HardSigmoid) w.WriteNumber("beta", act.Beta);
                break;
            case ActivationLayer { Kind: ActivationKind.Clip } clip:
                if (float.IsFinite(clip.Min)) w.WriteNumber("min", clip.Min);
                if (float.IsFinite(clip.Max)) w.WriteNumber("max", clip.Max);
                break;
            case ConvTransposeLayer t:
                {
                    ConvTransposeOptions o = t.Options;
                    w.WriteString("weight", t.WeightName);
                    if (t.BiasName is not null) w.WriteString("bias", t.BiasName);
                    if (o.Groups != 1) w.WriteNumber("groups", o.Groups);
                    Pair(w, "stride", o.StrideY, o.StrideX, 1);
                    Pair(w, "dilation", o.DilationY, o.DilationX, 1);
                    Pair(w, "output_padding", o.OutputPadY, o.OutputPadX, 0);
                    w.WriteStartArray("padding");
                    foreach (int p in new[] { o.PadTop, o.PadLeft, o.PadBottom, o.PadRight }) w.WriteNumberValue(p);
                    w.WriteEndArray();
                    break;
                }
            case DepthToSpaceLayer d:
                w.WriteNumber("block", d.Block);
                if (d.ToSpace) w.WriteString("mode", d.Mode == DepthToSpaceMode.Crd ? "crd" : "dcr");
                break;
            case ResizeLayer resize:
                {
                    ResizeOptions o = resize.Options;
                    if (resize.ToSecondInput)
                    {
                        // The size is the second input's (the layer's "inputs").
                    }
                    else if (o.SizeY > 0)
                    {
                        w.WriteStartArray("size");
                        w.WriteNumberValue(o.SizeY);
                        w.WriteNumberValue(o.SizeX);
                        w.WriteEndArray();
                    }
                    else
                    {
                        w.WriteStartArray("scale");
                        w.WriteNumberValue(o.ScaleY);
                        w.WriteNumberValue(o.ScaleX);
                        w.WriteEndArray();
                    }
                    w.WriteString("mode", o.Mode.ToString().ToLowerInvariant());
                    if (o.Mode == ResizeMode.Cubic)
                    {
                        w.WriteNumber("cubic_a", o.CubicA);
                        if (o.ExcludeOutside) w.WriteBoolean("exclude_outside", true);
                    }
                    w.WriteString("coordinates", ResizeLayer.Name(o.Coordinates));
                    if (o.Mode == ResizeMode.Nearest) w.WriteString("rounding", ResizeLayer.Name(o.Rounding));
                    break;
                }
            case ChannelShuffleLayer shuffle:
                w.WriteNumber("groups", shuffle.Groups);
                break;
            case FlattenLayer flatten:
                if (flatten.Values is { } values) w.WriteNumber("values", values);
                if (flatten.ChannelsLast) w.WriteString("order", "hwc");
                break;
            case ChannelReduceLayer reduce:
                w.WriteString("op", reduce.Op);
                break;
            case AttentionLayer attention:
                if (attention.Heads != 1) w.WriteNumber("heads", attention.Heads);
                if (attention.Scale is { } factor) w.WriteNumber("scale", factor);
                break;
            case ElementwiseLayer { Value: { } value }:
                w.WriteNumber("value", value);
                break;
            case SliceLayer slice:
                if (slice.End is { } end)
                {
                    w.WriteNumber("start", slice.Start);
                    w.WriteNumber("end", end);
                }
                else if (slice.Start > 0) w.WriteNumber("start", slice.Start);
                foreach ((string field, SliceRange? range) in new[] { ("rows", slice.Rows), ("cols", slice.Cols) })
                {
                    if (range is not { } r) continue;
                    w.WriteStartArray(field);
                    if (r.Start is { } a) w.WriteNumberValue(a); else w.WriteNullValue();
                    if (r.End is { } b) w.WriteNumberValue(b); else w.WriteNullValue();
                    if (r.Step != 1) w.WriteNumberValue(r.Step);
                    w.WriteEndArray();
                }
                break;
            case PReluLayer prelu:
                if (prelu.Slopes.Length == 1)
                {
                    w.WriteNumber("slope", prelu.Slopes[0]);
                }
                else
                {
                    w.WriteStartArray("slope");
                    foreach (float v in prelu.Slopes) w.WriteNumberValue(v);
                    w.WriteEndArray();
                }
                break;
            case PadLayer pad:
                {
                    PadOptions o = pad.Options;
                    if (!pad.ToSecondInput) // else the size is the second input's
                    {
                        w.WriteStartArray("padding");
                        foreach (int p in new[] { o.Top, o.Left, o.Bottom, o.Right }) w.WriteNumberValue(p);
                        w.WriteEndArray();
                    }
                    w.WriteString("border", o.Border.Name());
                    if (o.Value != 0f) w.WriteNumber("value", o.Value);
                    break;
                }
        }
        w.WriteEndObject();
    }

    /// <summary>Writes N when y == x, else [y, x]; nothing when both equal <paramref name="skip"/>.</summary>
    private static void Pair(Utf8JsonWriter w, string name, int y, int x, int skip)
    {
        if (y == skip && x == skip) return;
        if (y == x)
        {
            w.WriteNumber(name, y);
            return;
        }
        w.WriteStartArray(name);
        w.WriteNumberValue(y);
        w.WriteNumberValue(x);
        w.WriteEndArray();
    }
}
