using ConvGL.Core.Stacks;

namespace ConvGL.App.Live;

/// <summary>A name for every feature map of every layer, from the stack itself, so a grid shows "sobel-x" and
/// "|sobel-x, sobel-y|" rather than "0" and "1": a fixed conv's map is its kernel's name (and the input map it read,
/// when there are several; the maps it summed, for a summed bank), a learned conv's is its weight's name and the output channel ("conv2 3"), a magnitude
/// map names the pair it combines, an add's maps are its own ("add3 0", or its node's name), a sub's, div's, max's, min's
/// or pow's name both maps ("gaussian:3 - gaussian:9", "max(a, b)"), a channel reduction what it reduced ("max of the 8
/// inputs"), a slice's what it takes ("R [1::2, ::2]"), a concat's maps keep their inputs' names in order, and a channelwise layer (activation, pooling) or a layer that is off keeps the
/// names of its input's maps, except in an ONNX model, where every node names its own output: there maps named only by
/// a layer and a number ("Plus391 0") take a named map-by-map layer's own name ("ReLU393 0": the pool read "Plus391 0"
/// over its ReLU's values). In a stack file a layer's name is for wiring, and a learned conv's maps keep theirs.</summary>
internal static class MapNames
{
    /// <summary>[layer][channel] names; <paramref name="enabled"/>[i] false means layer i passes its input through.</summary>
    public static string[][] For(Stack stack, IReadOnlyList<bool> enabled, IReadOnlyList<string>?[] kernelNames)
    {
        string[] input = InputNames(stack);
        // An ONNX model's layers are its nodes, each naming its output (a stack file's names are for wiring).
        bool model = stack.FromOnnx;
        var result = new string[stack.Layers.Count][];
        // Whether layer i's maps are named by a layer and a number (not by kernels, pairs or the input's channels).
        var numbered = new bool[stack.Layers.Count];
        string[]? Names(int j) => j < 0 ? input : result[j];
        for (int i = 0; i < stack.Layers.Count; i++)
        {
            StackLayer layer = stack.Layers[i];
            // A graph layer reads the maps it names (a residual add, a branch), not always the previous layer's.
            int from = layer.InputsOf(i)[0];
            string[] current = from < 0 ? input : result[from];
            bool byNumber = from >= 0 && numbered[from];
            if (enabled[i])
                current = layer switch
                {
                    // A bank summed over its inputs ("sum": true: each map reads every input map) names them all;
                    // else each kernel is applied to each input map in turn (depthwise: map o is kernel o % k of input o / k).
                    ConvLayer c when kernelNames[i] is { Count: > 0 } k && c.Weight.Shape[1] > 1 => Enumerable.Range(0, c.Weight.Shape[0])
                        .Select(o => $"{k[o % k.Count]} of {Summed(current)}").ToArray(),
                    ConvLayer c when kernelNames[i] is { Count: > 0 } k => Enumerable.Range(0, c.Weight.Shape[0])
                        .Select(o => current.Length == 1 ? k[o % k.Count] : $"{k[o % k.Count]} of {Input(current, o / k.Count)}").ToArray(),
                    // --normalize bgr:'s 1x1 conv moves the picture's channels: B, G, R.
                    ConvLayer c when IsReorder(c, i, current) => [.. current.Reverse()],
                    ConvLayer c => Enumerable.Range(0, c.Weight.Shape[0]).Select(o => $"{Stem(c, i)} {o}").ToArray(),
                    MagnitudeLayer => Enumerable.Range(0, current.Length / 2).Select(o => Pair(current[2 * o], current[2 * o + 1])).ToArray(),
                    ConvTransposeLayer t => Enumerable.Range(0, t.Weight.Shape[1] * t.Options.Groups).Select(o => $"{t.Label ?? "conv_transpose"} {o}").ToArray(),
                    LinearLayer lin => Enumerable.Range(0, lin.Out).Select(o => $"{lin.Label ?? "linear"} {o}").ToArray(),
                    // A sum of maps is its own map, not its first input's (ResNet18's last layer read "Convolution387 0"
                    // three layers after that conv, through an add): named after the add.
                    AddLayer => Enumerable.Range(0, current.Length).Select(o => $"{layer.Label ?? $"add{i + 1}"} {o}").ToArray(),
                    FlattenLayer => [],
                    // A global pool in a stack file names what it took of each map ("mean of R": a map less its mean then
                    // reads "R - mean of R", not "R - R").
                    GlobalAvgPoolLayer when !model => current.Select(n => $"mean of {n}").ToArray(),
                    GlobalMaxPoolLayer when !model => current.Select(n => $"max of {n}").ToArray(),
                    // A difference or quotient in a stack file names both maps ("gaussian:3 - gaussian:9": a difference of
                    // Gaussians); a one-value-per-channel input names its channel alike.
                    // A map and a number: "R ^ 2", "max(R, 0.5)".
                    ElementwiseLayer { Value: { } k } e when !model => current.Select(n => Combined(e.Kind, n, HudText.Significant(k))).ToArray(),
                    ElementwiseLayer e when !model && layer.InputsOf(i) is [var p, var q] && Names(p) is { } na && Names(q) is { } nb && Broadcast(na, nb) is { } pairs =>
                        pairs.Select(ab => Combined(e.Kind, ab.A, ab.B)).ToArray(),
                    // A map of one channel broadcast over another's channels (a spatial gate first): the other's names.
                    MulLayer or ElementwiseLayer when layer.InputsOf(i) is [_, var q] && current.Length == 1 && Names(q) is { Length: > 1 } wider => wider,
                    // Attention: each map is its value map averaged with the attention weights ("attended v 3").
                    AttentionLayer when layer.InputsOf(i) is [_, _, var vi] && Names(vi) is { } values => values.Select(n => $"attended {n}").ToArray(),
                    // A reduction over the channels: one map, named by what it reduced ("max of the 8 inputs").
                    ChannelReduceLayer r => [$"{r.Op} of {Summed(current)}"],
                    // Coordinates: where each pixel is, not what it holds.
                    CoordsLayer => ["x", "y"],
                    // A join's maps keep their names, each input's in turn.
                    ConcatLayer => layer.InputsOf(i).SelectMany(j => j < 0 ? input : result[j]).ToArray(),
                    // A slice keeps the names of the channels it takes, with the rows and columns it takes as Python's index
                    // (Focus's four phases of R: "R [::2, ::2]", "R [1::2, ::2]", ...).
                    SliceLayer sl when (sl.End ?? current.Length) <= current.Length && sl.Start < (sl.End ?? current.Length) =>
                        current[sl.Start..(sl.End ?? current.Length)].Select(n => sl.ChannelsOnly ? n : $"{n} [{sl.Rows?.ToString() ?? ":"}, {sl.Cols?.ToString() ?? ":"}]").ToArray(),
                    // A shuffle moves its maps, names and all.
                    ChannelShuffleLayer cs when current.Length % cs.Groups == 0 => Enumerable.Range(0, current.Length).Select(o => current[cs.Source(o, current.Length)]).ToArray(),
                    _ when model && byNumber && layer.Label is { Length: > 0 } own => Enumerable.Range(0, current.Length).Select(o => $"{own} {o}").ToArray(),
                    _ => current,
                };
            if (enabled[i])
                byNumber = layer switch
                {
                    ConvLayer c => !(kernelNames[i] is { Count: > 0 }) && !IsReorder(c, i, current),
                    ConvTransposeLayer or LinearLayer or AddLayer => true,
                    AttentionLayer => layer.InputsOf(i) is [_, _, var vj] && vj >= 0 && numbered[vj],
                    MagnitudeLayer or FlattenLayer or ConcatLayer or ChannelReduceLayer or CoordsLayer => false,
                    _ => byNumber,
                };
            result[i] = current;
            numbered[i] = byNumber;
        }
        return result;
    }

    /// <summary>The first layer of <c>--normalize bgr:</c> (InputNormalization): a 1x1 conv named normalize on the three
    /// input channels, output c reading input 2 - c only.</summary>
    private static bool IsReorder(ConvLayer c, int i, string[] current) =>
        i == 0 && c.Label == InputNormalization.LayerName && current.Length == 3 && c.Weight.Shape is [3, 3, 1, 1]
        && Enumerable.Range(0, 9).All(k => (c.Weight.Data[k] != 0f) == (k % 3 == 2 - k / 3));

    /// <summary>The stack input's channels: "gray", or R, G, B; a packaged model's preprocessed input in the order its
    /// preprocessing writes them (B, G, R for ResNet18).</summary>
    public static string[] InputNames(Stack stack) =>
        stack.InputChannels == 1 ? ["gray"]
        : stack.Preprocess is { } p ? p.ChannelOrder.Select(c => "RGB"[c].ToString()).ToArray()
        : ["R", "G", "B"];

    // A magnitude's map: "|a, b|", a shared " of X" said once after it ("|sobel-x, sobel-y| of conv2 10": the deep stack's
    // grid cut "|sobel-x of conv2 10, sobel-y of conv2 10|" to "|sobel-x of con~", all 16 alike).
    private static string Pair(string a, string b)
    {
        int of = a.IndexOf(" of ", StringComparison.Ordinal);
        return of > 0 && b.IndexOf(" of ", StringComparison.Ordinal) == b.Length - (a.Length - of) && b.EndsWith(a[of..], StringComparison.Ordinal)
            ? $"|{a[..of]}, {b[..^(a.Length - of)]}|{a[of..]}"
            : $"|{a}, {b}|";
    }

    // Two maps' names side by side for an element-wise layer: channel by channel, or a single one against each of the other's.
    private static (string A, string B)[]? Broadcast(string[] a, string[] b) =>
        a.Length == b.Length ? a.Zip(b).ToArray()
        : a.Length == 1 ? b.Select(n => (a[0], n)).ToArray()
        : b.Length == 1 ? a.Select(n => (n, b[0])).ToArray()
        : null;

    // "a - b", "a / b", "a ^ b", "max(a, b)", "min(a, b)".
    private static string Combined(Core.Ops.BinaryKind kind, string a, string b) => kind switch
    {
        Core.Ops.BinaryKind.Sub => $"{a} - {b}",
        Core.Ops.BinaryKind.Div => $"{a} / {b}",
        Core.Ops.BinaryKind.Pow => $"{a} ^ {b}",
        Core.Ops.BinaryKind.Max => $"max({a}, {b})",
        _ => $"min({a}, {b})",
    };

    private static string Input(string[] names, int i) => i < names.Length ? names[i] : $"input {i}";

    // The maps a summed bank adds up: "R+G+B" for an image's few channels, "the 16 inputs" for more.
    private static string Summed(string[] names) => names.Length <= 3 ? string.Join('+', names) : $"the {names.Length} inputs";

    // An imported layer's node name; "conv2" for "conv2.weight", the file's stem for "w.npy", the layer's label, else
    // "conv" and its number.
    internal static string Stem(ConvLayer c, int index)
    {
        if (c.Imported && c.Label is { Length: > 0 } node) return node;
        string? n = c.WeightName;
        if (n is null or "live") return c.Label ?? $"conv{index + 1}";
        if (n.EndsWith(".weight", StringComparison.Ordinal)) return n[..^".weight".Length];
        return Path.GetFileNameWithoutExtension(n);
    }
}
