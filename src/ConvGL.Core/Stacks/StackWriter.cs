using System.Text.Json;
using ConvGL.Core.IO;
using ConvGL.Core.Ops;

namespace ConvGL.Core.Stacks;

/// <summary>Writes a <see cref="Stack"/> as a stack file that <see cref="StackFile.Load"/> reads back to the same
/// layers (used by <c>convgl train</c>). Learned layers' tensors are written too: those named by a .npy path as
/// that .npy file, the others to the stack's <see cref="Stack.WeightsFile"/> as F32 safetensors (both relative to
/// the stack file). Every file is written atomically (temporary file, then rename); the weights go first so a stack file never
/// names tensors that are not there.</summary>
public static class StackWriter
{
    public static void Write(string path, Stack stack, IReadOnlyDictionary<string, string>? weightsMetadata = null)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Dictionary<string, Tensor> tensors = CollectTensors(stack);
        Dictionary<string, Tensor> npy = tensors.Where(t => IsNpy(t.Key)).ToDictionary(t => t.Key, t => t.Value);
        Dictionary<string, Tensor> named = tensors.Where(t => !IsNpy(t.Key)).ToDictionary(t => t.Key, t => t.Value);
        if (named.Count > 0)
        {
            if (stack.WeightsFile is null)
                throw new ConvGLException($"{path}: stack '{stack.Name}' has learned layers; give it a weights file name to write their tensors to");
            SafeTensors.Write(Path.Combine(dir, stack.WeightsFile), named, weightsMetadata);
        }
        foreach ((string name, Tensor t) in npy) Npy.Write(Path.Combine(dir, name), t);
        AtomicFile.WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(ToJson(stack)));
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
            if (stack.Layers[i] is not ConvLayer { IsFixed: false } conv) continue;
            Add(conv.WeightName!, conv.Weight, i);
            if (conv.Bias is not null) Add(conv.BiasName!, new Tensor([conv.Bias.Length], conv.Bias), i);
        }
        return tensors;
    }

    public static string ToJson(Stack stack)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("name", stack.Name);
            if (stack.Description is not null) w.WriteString("description", stack.Description);
            w.WriteString("input", stack.Input == StackInput.Gray ? "gray" : "rgb");
            if (stack.WeightsFile is not null) w.WriteString("weights", stack.WeightsFile);
            w.WriteStartArray("layers");
            foreach (StackLayer layer in stack.Layers) WriteLayer(w, layer);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteLayer(Utf8JsonWriter w, StackLayer layer)
    {
        w.WriteStartObject();
        w.WriteString("type", layer.Type);
        if (layer.Label is not null) w.WriteString("name", layer.Label);
        if (layer.Inputs is not null)
        {
            // Indices, not names: labels need not be unique.
            w.WriteStartArray("inputs");
            foreach (int i in layer.Inputs) w.WriteNumberValue(i);
            w.WriteEndArray();
        }
        switch (layer)
        {
            case BatchNormLayer or PaddedPoolLayer or LinearLayer:
            case ConvLayer { Options: { Padding: PaddingMode.Explicit } o } when (o.PadBottom ?? o.PadY) != o.PadY || (o.PadRight ?? o.PadX) != o.PadX:
                // Imported from ONNX; the stack file format has no fields for these yet (see assets/stacks/README.md).
                throw new ConvGLException($"layer '{layer.Label ?? layer.Type}' ({layer.Type}{(layer is ConvLayer ? " with asymmetric padding" : "")}) cannot be written to a stack file yet; run the .onnx model as the stack instead");
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
                    if (o.Padding == PaddingMode.Explicit) Pair(w, "padding", o.PadY, o.PadX, -1);
                    else w.WriteString("padding", o.Padding.ToString().ToLowerInvariant());
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
