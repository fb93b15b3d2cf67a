using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;

namespace ConvGL.Core.Onnx;

/// <summary>An ONNX model as a ConvGL <see cref="Stack"/>, so everything that takes a stack (features, the window,
/// the GPU stack runner) takes the model: one layer per graph op after BatchNormalization folding, named after its
/// node, reading the layers its node reads (residual Adds name two). The model must take one (1, C, H, W) input
/// with C = 1 (a gray stack) or 3 (RGB), or the same channels-last, (1, H, W, C), as Keras and TensorFlow exports take it
/// (<see cref="ChannelsLastInput"/>), fed as is unless a preprocessing is given (<see cref="Stack.Preprocess"/>). Convs
/// and pools with auto_pad SAME_* keep it as a padding mode, resolved for each input size; weights that are not
/// initializers are one error naming the node.</summary>
public static class OnnxStack
{
    /// <summary>Imports a model file. A packaged model (<see cref="PackagedModels"/>) is named after it and gets its
    /// package's image preprocessing; any other file is named after the file and takes images as they are, resized to
    /// its declared input size when it declares one (<see cref="DeclaredSize"/>).
    /// <paramref name="until"/>: node or value names the stack ends at (the layers that compute them, nothing after;
    /// <see cref="StackCatalog"/>'s <c>MODEL.onnx#NAME,...</c>), for a model whose head no stack layer holds.</summary>
    public static Stack Load(string path, IReadOnlyList<string>? until = null)
    {
        PackagedModel? packaged = PackagedModels.Of(path);
        OnnxGraph graph = OnnxGraph.Load(path);
        string name = packaged?.Name ?? Path.GetFileNameWithoutExtension(path);
        // Said wherever the stack is named (the window's stack line, features' summary): not the whole model.
        if (until is not null) name += $" up to {string.Join(", ", until)}";
        return FromGraph(graph, name, PackagedModels.PreprocessFor(path) ?? DeclaredSize(graph), until);
    }

    /// <summary>The ops that compute the values <paramref name="names"/> name (a value, or a node: all its outputs), in
    /// graph order, and those values; an unknown name is one error with a suggestion.</summary>
    private static (List<OnnxOp> Ops, HashSet<string> Values) Until(OnnxGraph graph, IReadOnlyList<string> names)
    {
        string src = graph.Model.Source;
        var values = new HashSet<string>(StringComparer.Ordinal);
        // The layers' own names too: an activation or norm written out in several nodes is one layer named after their
        // common path ("/model.0/act/Silu"), which the window shows.
        List<OnnxOp>? fused = null;
        foreach (string name in names)
        {
            string[] outputs = graph.Ops.Any(o => o.Output == name) ? [name]
                : graph.Ops.Where(o => o.Node.Name == name && o.Node.Name.Length > 0).Select(o => o.Output).ToArray();
            if (outputs.Length == 0)
            {
                fused ??= ImportPatterns.Apply(graph.Ops, graph.Initializers, graph.Outputs.Select(o => o.Name), src);
                outputs = fused.Where(o => o.Node.Name == name && o.Node.Name.Length > 0).Select(o => o.Output).ToArray();
            }
            if (outputs.Length == 0 && graph.Inputs.Any(i => i.Name == name))
                throw new ConvGLException($"{src}: '#{ErrorText.Echo(name)}' is the model's input; name a node after it");
            // A name '#' cannot carry (a review: a node named 'c,d' was "'#c' names no node ... did you mean 'e'?"): its
            // output's name can.
            if (outputs.Length == 0 && graph.Ops.FirstOrDefault(o => o.Node.Name != name &&
                    (o.Node.Name.Trim() == name || (o.Node.Name.Contains(',') && o.Node.Name.Split(',').Any(part => part.Trim() == name)))) is { } odd)
                throw new ConvGLException($"{src}: '#{ErrorText.Echo(name)}' names no node; node '{ErrorText.Echo(odd.Node.Name)}' has " +
                                          (odd.Node.Name.Contains(',') ? "a ',' in its name, where '#' splits names" : "spaces around its name, which '#' trims") +
                                          $": name its output '{ErrorText.Echo(odd.Output)}' instead");
            if (outputs.Length == 0)
            {
                string guess = Kernels.KernelLibrary.DidYouMean(name, graph.Ops.Select(o => o.Node.Name).Where(n => n.Length > 0).Concat(graph.Ops.Select(o => o.Output)));
                throw new ConvGLException($"{src}: '#{ErrorText.Echo(name)}' names no node and no value of the model ({guess}after '#' give a node's name or an output's name, as Netron shows them, or a layer's name as the window shows it; several separated by ',')");
            }
            if (outputs.FirstOrDefault(graph.HostValues.Contains) is { } size)
                throw new ConvGLException($"{src}: '#{ErrorText.Echo(name)}' names '{ErrorText.Echo(size)}', a size computed from shapes, not a map; name a node that makes a map");
            values.UnionWith(outputs);
        }
        var needed = new HashSet<string>(values, StringComparer.Ordinal);
        var kept = new List<OnnxOp>();
        for (int i = graph.Ops.Count - 1; i >= 0; i--)
        {
            OnnxOp op = graph.Ops[i];
            if (!needed.Contains(op.Output)) continue;
            kept.Add(op);
            needed.UnionWith(op.Inputs.Where(v => v.Length > 0));
        }
        kept.Reverse();
        return (kept, values);
    }

    /// <summary>An RGB or gray model that declares a fixed input size (a PyTorch export without dynamic axes) takes images
    /// at that size, as ONNX Runtime would insist: resized as the packaged model's are (aspect kept, centre crop,
    /// bilinear), values as they are (0..1), channels in RGB order (a gray model: the image's gray), nothing subtracted.
    /// Null for other inputs (a dynamic size): images as they are. (A gray model's fixed size was ignored: a (1, 1, 28,
    /// 28) model ran on a 64x48 picture at 64x48, a hostile-input review found.)
    /// A fixed size that no image could be resized to (0 or negative), or one whose input map would pass ConvGL's map
    /// limit (C x H x W values, <see cref="Limits.StackMapValues"/>) or this machine's memory, is one error naming the input
    /// and its declared shape, before anything is allocated (such a model was run at the image's own size).</summary>
    public static ImagePreprocess? DeclaredSize(OnnxGraph graph)
    {
        CheckDeclaredInput(graph);
        if (graph.Inputs.Count != 1) return null;
        OnnxValueInfo input = graph.Inputs[0];
        if (DeclaredChw(input) is not [{ } c, { } dh, { } dw] || c is not (1 or 3)) return null;
        string where = $"{graph.Model.Source}: input '{ErrorText.Echo(input.Name)}' declares the fixed size {input.DeclaredString}, so images are resized to {dw}x{dh}";
        const string fix = "export the model with a smaller input size, or with H and W dynamic (dynamic_axes) to run images at their own size";
        if (dh > Limits.ImageSide || dw > Limits.ImageSide || c * dh * dw > Limits.StackMapValues)
            throw new ConvGLException($"{where}: over ConvGL's limits (each side at most {Limits.ImageSide}, and the input's {c} x H x W values at most {Limits.StackMapValues}); {fix}");
        int h = (int)dh, w = (int)dw, channels = (int)c;
        // The resized input and the (zero) mean image: 4 bytes a value each.
        MemoryBudget.Check(where, 2 * 4L * channels * h * w, fix);
        return new ImagePreprocess(h, w, channels == 1 ? [0] : [0, 1, 2], 1f, Tensor.Chw(channels, h, w), $"{graph.Model.Source}: its declared input " + (ChannelsLastInput(input.Shape) ? $"(1, {h}, {w}, {channels})" : $"(1, {channels}, {h}, {w})"));
    }

    /// <summary>A model used as a stack declares its input's dimensions as symbols (free) or as sizes of at least 1: a
    /// written 0 or negative size is a damaged declaration, not a free one (ONNX spells a free dimension as a dim_param
    /// or leaves it unset).</summary>
    private static void CheckDeclaredInput(OnnxGraph graph)
    {
        foreach (OnnxValueInfo input in graph.Inputs)
        {
            if (input.Declared?.Any(d => d <= 0) == true)
                throw new ConvGLException($"{graph.Model.Source}: input '{ErrorText.Echo(input.Name)}' declares the shape {input.DeclaredString}; a fixed dimension must be at least 1 " +
                                          "(a free one is a symbol, dim_param): export the model again");
            // A fixed size past ConvGL's limits (a gray model declaring 100000x100000 was taken; an RGB model's is
            // DeclaredSize's, which says images would be resized to it).
            if (DeclaredChw(input) is [var c, var dh, var dw] && c != 3 &&
                (dh > Limits.ImageSide || dw > Limits.ImageSide || (double)(c ?? 1) * (dh ?? 1) * (dw ?? 1) > Limits.StackMapValues))
                throw new ConvGLException($"{graph.Model.Source}: input '{ErrorText.Echo(input.Name)}' declares the fixed size {input.DeclaredString}: over ConvGL's limits " +
                                          $"(each side at most {Limits.ImageSide}, and the input's C x H x W values at most {Limits.StackMapValues}); " +
                                          "export the model with a smaller input size, or with H and W dynamic (dynamic_axes)");
        }
    }

    /// <summary>Whether a model's input is channels-last, (1, H, W, C) with C = 1 or 3, as Keras and TensorFlow exports
    /// (tf2onnx) take it, usually with a Transpose [0, 3, 1, 2] after it: its last dimension 1 or 3 and its second neither
    /// (a (1, 3, H, 3) input is channels-first). The stack's input map stays (C, H, W); the model's ops read it as a
    /// channels-last value, as inside ConvNeXt's Transposes.</summary>
    public static bool ChannelsLastInput(int[]? shape) => shape is [1 or -1, var d1, _, 1 or 3] && d1 is not (1 or 3);

    /// <summary>The input's declared (C, H, W), channels-last or not (<see cref="ChannelsLastInput"/>); null for a
    /// declaration of another rank.</summary>
    private static long?[]? DeclaredChw(OnnxValueInfo input) => input.Declared is [_, var d1, var d2, var d3]
        ? ChannelsLastInput(input.Shape) ? [d3, d1, d2] : [d1, d2, d3]
        : null;

    public static Stack FromGraph(OnnxGraph graph, string name, ImagePreprocess? preprocess = null, IReadOnlyList<string>? until = null)
    {
        string src = graph.Model.Source;
        CheckDeclaredInput(graph);
        if (graph.Inputs.Count != 1)
            throw new ConvGLException($"{src}: a model used as a stack takes one input, this one takes {graph.Inputs.Count} ({string.Join(", ", graph.Inputs.Select(i => i.Name))})");
        OnnxValueInfo input = graph.Inputs[0];
        bool inputLast = ChannelsLastInput(input.Shape);
        if (!inputLast && (input.Shape is not [var n, var c1, _, _] || n is not (1 or -1) || c1 is not (1 or 3)))
            throw new ConvGLException($"{src}: input '{input.Name}' is {input.ShapeString}; a model used as a stack takes (1, C, H, W) with C = 1 or 3, or channels-last (1, H, W, C)" +
                                      (input.Shape is { Length: 3 } ? " (a model of signals, (N, C, L), runs as a graph: convgl onnx-test)" : ""));
        // The input's channels, height and width, whichever way round the model holds them (-1: free).
        (int c, int inH, int inW) = inputLast ? (input.Shape![3], input.Shape[1], input.Shape[2]) : (input.Shape![1], input.Shape[2], input.Shape[3]);
        if (preprocess is not null && c != preprocess.Channels)
            throw new ConvGLException($"{src}: its preprocessing gives {preprocess.Channels} channel(s), the model takes {c}");

        var index = new Dictionary<string, int>(StringComparer.Ordinal) { [input.Name] = -1 };
        // Activations and layer norms written out in several nodes run as one layer each (ImportPatterns).
        var graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        IReadOnlyList<OnnxOp> selected = graph.Ops;
        if (until is not null)
        {
            (List<OnnxOp> upTo, graphOutputs) = Until(graph, until);
            if (!upTo.Any(o => o.Inputs.Contains(input.Name)))
                throw new ConvGLException($"{src}: '#{string.Join(",", until)}' computes nothing from the input '{input.Name}'; name a node after it");
            selected = upTo;
        }
        List<OnnxOp> ops = ImportPatterns.Apply(selected, graph.Initializers, graphOutputs, src);
        // (Inception's per-channel picks of a channels-first input; a channels-last one's constants are per-channel layers.)
        if (!inputLast) ops = InputAffinePattern.Fuse(ops, graph.Initializers, graphOutputs, input.Name, c, src);
        var layers = new List<StackLayer>(ops.Count);
        // For folding a per-channel constant into the conv or linear layer before it: how many ops read each value, the
        // graph's outputs, each layer's value, and the tensor names taken.
        var readers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (OnnxOp op in ops)
            foreach (string v in op.Inputs.Where(v => v.Length > 0).Distinct())
                readers[v] = readers.GetValueOrDefault(v) + 1;
        var outputOf = new List<string>();
        var names = new HashSet<string>(graph.Initializers.Keys, StringComparer.Ordinal);
        // An op that is no layer (Identity, ConvNeXt's Transposes) and the only reader of a layer's value stands for that
        // value: a per-channel constant after it may still fold (torchvision's layer scale comes after the Transpose back).
        void PassOn(OnnxOp alias, int layer)
        {
            string v = alias.Inputs[0];
            if (layer >= 0 && outputOf[layer] == v && readers.GetValueOrDefault(v) == 1 && !graphOutputs.Contains(v)) outputOf[layer] = alias.Output;
        }
        // Stored constants, and the values shape arithmetic computes from them and from the maps' shapes (ShapeOp and
        // the ops after it: x.view(x.size(0), -1)): the batch (1) and the channels are known, heights and widths are not
        // (NaN: a layer that needs one is one error).
        var known = new Dictionary<string, Tensor>(graph.Initializers, StringComparer.Ordinal);
        long knownHeld = 0; // the values the import computes from sizes (capped as a run's: OnnxGraph.RunHolding)
        // The same shape arithmetic at a few sample input sizes (the declared one, if fixed), each map's size there by the
        // layers' own size rules: a Resize or Pad whose sizes come from maps' heights and widths (a dynamic-size export of a
        // UNet or FPN) is one that takes another map's size when that map's size is what it gives at every sample.
        var sizer = new SampleSizes(inH > 0 && inW > 0 ? [(inH, inW)] : SampleSizes.Dynamic, layers);
        // Whether Reshape r turns map j's value of shape input(size) into exactly want(size) at every sample size where the
        // import knows both (enough of them), resolved as ONNX resolves it (0 keeps, -1 takes the rest).
        bool ReshapeGives(ReshapeOp r, int j, Func<(int H, int W), int[]> input, Func<(int H, int W), int[]> want) =>
            ReshapeMatches(known, sizer, r, j, input, want) == true;
        // A channel shuffle under way: value -> (the layer whose map it regroups, the groups, transposed yet).
        var shuffle = new Dictionary<string, (int From, int Groups, bool Transposed)>(StringComparer.Ordinal);
        // One channel picked by a Gather with a scalar index, waiting for its Unsqueeze: value -> (the layer, the channel).
        var picks = new Dictionary<string, (int From, int Channel)>(StringComparer.Ordinal);
        // Reductions over the channels without keepdims: their (N, H, W) values, each a reduce_channels layer already (with
        // N = 1 the same values as (1, 1, H, W)); read only by an Unsqueeze back at axis 1 (or as a graph output).
        var squeezed = new HashSet<string>(StringComparer.Ordinal);
        // Values in a channels-last stretch (see the Transposes below); of them, a transformer block's tokens (1, H*W, C); and
        // maps flattened to (1, C, H*W) on the way to or from tokens. All stand for a (C, H, W) map of the stack.
        var channelsLast = new HashSet<string>(StringComparer.Ordinal);
        if (inputLast) channelsLast.Add(input.Name);
        var tokens = new HashSet<string>(StringComparer.Ordinal);
        var flattened = new HashSet<string>(StringComparer.Ordinal);
        MapLayout LayoutOf(string v) => flattened.Contains(v) ? MapLayout.Flat : tokens.Contains(v) ? MapLayout.Tokens : channelsLast.Contains(v) ? MapLayout.ChannelsLast : MapLayout.Map;
        void SetLayout(string v, MapLayout layout)
        {
            if (layout is MapLayout.ChannelsLast or MapLayout.Tokens) channelsLast.Add(v);
            if (layout == MapLayout.Tokens) tokens.Add(v);
            if (layout == MapLayout.Flat) flattened.Add(v);
        }
        // Channels of every layer so far (index -1: the input), for the per-channel constants of Mul / Add / Sub / Div.
        var channels = new List<int>();
        int ChannelsOf(int j) => j < 0 ? (int)c : channels[j];
        // The ONNX rank of every layer's value (index -1: the (1, C, H, W) input): 2 after Flatten, Gemm or a flattening
        // Reshape, else the first input's. Softmax's axis means the channels at rank 2 and 4 alike only through it.
        var ranks = new List<int>();
        int RankOf(int j) => j < 0 ? 4 : ranks[j];
        // An op that changes nothing (Identity, a one-map Concat, a Pad of zeros, a 1x1 pool): whoever reads its output reads
        // layer `from`'s map, in the layout its input has.
        void Alias(OnnxOp op, int from)
        {
            index[op.Output] = from;
            SetLayout(op.Output, LayoutOf(op.Inputs[0]));
            PassOn(op, from);
        }
        void AddSlice(OnnxOp op, int from, int ch)
        {
            var slice = new SliceLayer(ch, ch + 1) { Label = op.Node.Name.Length > 0 ? op.Node.Name : op.Output };
            if (from != layers.Count - 1) slice.Inputs = [from];
            index[op.Output] = layers.Count;
            layers.Add(slice);
            outputOf.Add(op.Output);
            channels.Add(1);
            ranks.Add(4);
        }
        // A node no layer holds: its error says how to see the layers before it (the model up to the nodes it reads).
        string? Before(OnnxOp op)
        {
            int Layer(string v) => index.TryGetValue(v, out int j) ? j : shuffle.TryGetValue(v, out var s) ? s.From : -1;
            // A name '#' can carry (no ',' or '#' in it) that gives the layer's map: its label where the node (or fused group)
            // of that name makes the map, else the map's value (a layer with a constant folded in gives a later value).
            static bool Plain(string? n) => n is { Length: > 0 } && n.IndexOfAny([',', '#']) < 0;
            string? NameOf(int j) => Plain(layers[j].Label) && ops.Any(o => o.Node.Name == layers[j].Label && o.Output == outputOf[j]) ? layers[j].Label
                : Plain(outputOf[j]) ? outputOf[j] : null;
            string[] producers = DataInputs(known, op).Select(Layer).Where(j => j >= 0).Select(NameOf).OfType<string>().Distinct().ToArray();
            return until is null && producers.Length > 0 ? $"; to see the layers before it, use --stack '{src}#{string.Join(",", producers)}'" : null;
        }
        OnnxOp? current = null;
        try
        {
            foreach (OnnxOp op in ops)
            {
                current = op;
                int i = layers.Count;
                // Identity, and a Concat of one map (DenseNet's torch.cat([x], 1) at the start of each dense block): no layer. (On
                // sizes, shape arithmetic below computes them.)
                if ((op is IdentityOp || op is ConcatOp && op.Inputs.Count == 1) && !graph.HostValues.Contains(op.Output))
                {
                    Alias(op, index.TryGetValue(op.Inputs[0], out int from) ? from
                        : throw new ConvGLException($"{op.Where}: input '{op.Inputs[0]}' is a constant; in a stack every data input must be a map"));
                    continue;
                }
                if (graph.HostValues.Contains(op.Output))
                {
                    if (op.Inputs.FirstOrDefault(v => v.Length > 0 && !index.ContainsKey(v) && !known.ContainsKey(v)) is { } missing)
                        throw new ConvGLException($"{op.Where}: input '{missing}' is no map a stack holds (a value inside a channel shuffle)");
                    if (op is ShapeOp shape)
                    {
                        known[op.Output] = shape.Of(index.TryGetValue(op.Inputs[0], out int j)
                            ? (RankOf(j) == 2 ? [1, ChannelsOf(j)] : LayoutOf(op.Inputs[0]) switch
                            {
                                MapLayout.ChannelsLast => [1, float.NaN, float.NaN, ChannelsOf(j)],
                                MapLayout.Tokens => [1, float.NaN, ChannelsOf(j)],
                                MapLayout.Flat => [1, ChannelsOf(j), float.NaN],
                                _ => [1, ChannelsOf(j), float.NaN, float.NaN],
                            })
                            : known[op.Inputs[0]].Shape.Select(d => (float)d).ToArray());
                        if (index.TryGetValue(op.Inputs[0], out j) && RankOf(j) == 4)
                            sizer.Shape(shape, j, ChannelsOf(j), LayoutOf(op.Inputs[0]));
                    }
                    else
                    {
                        known[op.Output] = OnnxGraph.RunCounted(op, op.Inputs.Select(v => v.Length == 0 ? null : known[v]).ToArray(), ref knownHeld);
                        sizer.Run(op, known);
                    }
                    continue;
                }
                // One channel picked, x[:, i] (torchvision's Inception v3 and GoogLeNet transform_input): a Gather on axis 1 by one
                // stored index, then (a scalar index drops the axis) an Unsqueeze at axis 1: a slice layer of that channel.
                if (op is GatherOp pick && index.TryGetValue(op.Inputs[0], out int picked) && RankOf(picked) == 4 && LayoutOf(op.Inputs[0]) == MapLayout.Map
                    && pick.AxisFor(4) == 1 && known.TryGetValue(op.Inputs[1], out Tensor? at) && at.Length == 1 && at.Rank <= 1)
                {
                    int count = ChannelsOf(picked), ch = (int)at.Data[0] + (at.Data[0] < 0 ? count : 0);
                    if (at.Data[0] != Math.Floor(at.Data[0]) || ch < 0 || ch >= count)
                        throw new ConvGLException($"{op.Where}: index {ErrorText.Index(at.Data[0])} is outside the {count} channels");
                    if (at.Rank == 0)
                    {
                        picks[op.Output] = (picked, ch);
                        continue;
                    }
                    AddSlice(op, picked, ch);
                    continue;
                }
                // A reduction over the channels without keepdims (torch.mean(x, 1).unsqueeze(1), torch.max(x, 1)[0].unsqueeze(1),
                // CBAM's channel pool) is the reduce_channels layer (named after the reduction); the Unsqueeze back at axis 1
                // after it is no layer. Another reader of its (N, H, W) value is one error (a rank-3 value is no map).
                if (op.Inputs.FirstOrDefault(squeezed.Contains) is { } flat)
                {
                    if (op is SqueezeOp { Unsqueeze: true } back && back.Inputs[0] == flat && back.StoredAxes(known, 4) is [1])
                    {
                        Alias(op, index[flat]);
                        continue;
                    }
                    throw new ConvGLException($"{op.Where}: in a stack a reduction over the channels must keep its axis (keepdim=True) or be unsqueezed back at axis 1 (x.mean(1).unsqueeze(1) as (N, 1, H, W))");
                }
                // A reduction with noop_with_empty_axes and no axes passes its input on (ONNX's identity).
                if (op is ReduceOp { NoopWithEmptyAxes: true } noop && index.TryGetValue(op.Inputs[0], out int kept)
                    && noop.Axes(RankOf(kept), noop.Inputs.Count > 1 && noop.Inputs[1].Length > 0 ? Constant(known, noop, noop.Inputs[1]) : null).Length == 0)
                {
                    Alias(op, kept);
                    continue;
                }
                if (op.Inputs.FirstOrDefault(picks.ContainsKey) is { } picked1 && picks[picked1] is var one)
                {
                    if (op is SqueezeOp { Unsqueeze: true } back1 && back1.Inputs[0] == picked1 && back1.StoredAxes(known, 4) is [1])
                    {
                        AddSlice(op, one.From, one.Channel);
                        continue;
                    }
                    throw new ConvGLException($"{op.Where}: in a stack one channel picked by Gather (x[:, i]) must be unsqueezed back at axis 1 (x[:, i:i+1] as (N, 1, H, W))");
                }
                // ShuffleNet's channel shuffle is three ops on a rank-5 value: Reshape (1, C, H, W) -> (1, g, C/g, H, W),
                // Transpose [0, 2, 1, 3, 4], Reshape back to (1, C, H, W). The first two become no layer; the third a
                // channel_shuffle layer reading the first one's map.
                if (op.Inputs.Count > 0 && shuffle.TryGetValue(op.Inputs[0], out (int From, int Groups, bool Transposed) pending))
                {
                    if (!pending.Transposed && op is TransposeOp tr && tr.Perm is [0, 2, 1, 3, 4])
                    {
                        shuffle[op.Output] = pending with { Transposed = true };
                        continue;
                    }
                    if (pending.Transposed && op is ReshapeOp back && Target(known, back) is { Length: 4 } t4
                        && t4[0] is 1 or 0 or -1 && (t4[1] == ChannelsOf(pending.From) || t4[1] == -1))
                    {
                        var shuffled = new ChannelShuffleLayer(pending.Groups) { Label = op.Node.Name.Length > 0 ? op.Node.Name : op.Output };
                        if (pending.From != layers.Count - 1) shuffled.Inputs = [pending.From];
                        index[op.Output] = layers.Count;
                        layers.Add(shuffled);
                        outputOf.Add(op.Output);
                        channels.Add(ChannelsOf(pending.From));
                        ranks.Add(4);
                        continue;
                    }
                    throw new ConvGLException($"{op.Where}: in a stack a rank-5 value is only ShuffleNet's channel shuffle: Reshape to (1, g, C/g, H, W), Transpose [0, 2, 1, 3, 4], Reshape back to (1, C, H, W) " +
                                              "(a detection head's reshape to (1, anchors, outputs, H, W) is not a stack layer)");
                }
                if (op is ReshapeOp grouped && index.TryGetValue(op.Inputs[0], out int source) && RankOf(source) == 4
                    && Target(known, grouped) is { Length: 5 } t5 && t5[0] is 1 or 0 or -1)
                {
                    int count = ChannelsOf(source);
                    long g = t5[1], per = t5[2];
                    if (g == -1 && per > 0 && count % per == 0) g = count / per;
                    if (per == -1 && g > 0 && count % g == 0) per = count / g;
                    if (g < 1 || per < 1 || g * per != count)
                        throw new ConvGLException($"{op.Where}: in a stack a rank-5 Reshape must group the {count} channels as (1, g, C/g, H, W) for a channel shuffle, got [{string.Join(", ", t5)}]");
                    shuffle[op.Output] = (source, (int)g, false);
                    continue;
                }
                // A transformer block's stretch over tokens: a map flattened to (1, C, H*W) and transposed to (1, H*W, C)
                // (x.view(b, c, h*w).transpose(1, 2)), or a channels-last (1, H, W, C) reshaped to (1, H*W, C)
                // (x.permute(0, 2, 3, 1).reshape(b, h*w, c)); ops on the tokens' last axis as in the channels-last stretch; back
                // the same ways. Each Reshape must give exactly that shape at every sample size; they and the Transposes [0, 2, 1]
                // become no layer.
                if (op is ReshapeOp flattening && index.TryGetValue(op.Inputs[0], out int rj) && RankOf(rj) == 4)
                {
                    int rc = ChannelsOf(rj);
                    MapLayout? to = LayoutOf(op.Inputs[0]) switch
                    {
                        MapLayout.Map when ReshapeGives(flattening, rj, z => [1, rc, z.H, z.W], z => [1, rc, z.H * z.W]) => MapLayout.Flat,
                        MapLayout.Flat when ReshapeGives(flattening, rj, z => [1, rc, z.H * z.W], z => [1, rc, z.H, z.W]) => MapLayout.Map,
                        MapLayout.Tokens when ReshapeGives(flattening, rj, z => [1, z.H * z.W, rc], z => [1, z.H, z.W, rc]) => MapLayout.ChannelsLast,
                        MapLayout.ChannelsLast when ReshapeGives(flattening, rj, z => [1, z.H, z.W, rc], z => [1, z.H * z.W, rc]) => MapLayout.Tokens,
                        _ => null,
                    };
                    if (to is { } layout)
                    {
                        index[op.Output] = rj;
                        SetLayout(op.Output, layout);
                        PassOn(op, rj);
                        continue;
                    }
                }
                if (op is TransposeOp { Perm: [0, 2, 1] } && index.TryGetValue(op.Inputs[0], out int fj) && LayoutOf(op.Inputs[0]) is MapLayout.Flat or MapLayout.Tokens)
                {
                    index[op.Output] = fj;
                    SetLayout(op.Output, LayoutOf(op.Inputs[0]) == MapLayout.Flat ? MapLayout.Tokens : MapLayout.Flat);
                    PassOn(op, fj);
                    continue;
                }
                // ConvNeXt's channels-last stretch: Transpose [0, 2, 3, 1], ops on the last axis, Transpose [0, 3, 1, 2]. The maps
                // stay (C, H, W); the two Transposes become no layer and the ops between read "the last axis" as the channels.
                if (op is TransposeOp tp && index.TryGetValue(op.Inputs[0], out int tj) && RankOf(tj) == 4)
                {
                    bool last = channelsLast.Contains(op.Inputs[0]);
                    if ((!last && tp.Perm is [0, 2, 3, 1]) || (last && tp.Perm is [0, 3, 1, 2]))
                    {
                        index[op.Output] = tj;
                        if (!last) channelsLast.Add(op.Output);
                        PassOn(op, tj);
                        continue;
                    }
                }
                bool inLast = op.Inputs.Any(channelsLast.Contains), inTokens = op.Inputs.Any(tokens.Contains), inFlat = op.Inputs.Any(flattened.Contains);
                if (inTokens && op is AttentionOp) inLast = false;
                // (A global pool or a flatten of a channels-last map, not of tokens: Keras' GlobalAveragePooling2D and Flatten as
                // tf2onnx writes them, on the channels-last value.)
                if (inLast && op is not (LayerNormOp or ChannelNormOp or MatMulOp or BinaryOp or UnaryOp or ActivationOp or ClipOp or VariadicOp)
                    && !(op is ReduceOp or FlattenOp or ReshapeOp or SoftmaxOp or ConcatOp or SliceOp or PadOp && !inTokens))
                    throw new ConvGLException(inTokens
                        ? $"{op.Where}: in a stack tokens (1, H*W, C) may only go through LayerNormalization over the last axis, MatMul by a stored weight, per-channel constants, element-wise ops, attention, and back by Transpose [0, 2, 1] or a Reshape to (1, H, W, C)"
                        : $"{op.Where}: in a stack a channels-last value (the (1, H, W, C) input, or after Transpose [0, 2, 3, 1]) may only go through LayerNormalization over the last axis, MatMul by a stored weight, per-channel constants, element-wise ops, a global pool (ReduceMean or ReduceMax over axes [1, 2]), a flatten (Keras' order), Softmax and Concat over the last axis, Pad and Slice, and Transpose [0, 3, 1, 2] back");
                if (inFlat && op is not (GroupNormOp or GroupNormalizationOp or BinaryOp or UnaryOp or ActivationOp or ClipOp))
                    throw new ConvGLException($"{op.Where}: in a stack a map flattened to (1, C, H*W) may only be transposed to tokens (Transpose [0, 2, 1]), group-normalised, scaled and shifted per channel, go through element-wise ops, or be reshaped back to (1, C, H, W)");
                int[] reads = DataInputs(known, op).Select(v => index.TryGetValue(v, out int j) ? j
                    : throw new ConvGLException($"{op.Where}: input '{v}' is a constant; in a stack every data input must be a map")).ToArray();
                // A Resize's sizes or a Pad's pads from maps' heights and widths: to another map's size.
                StackLayer? sized = null;
                if (op is ResizeOp { SizesInput.Length: > 0 } toSize && known.TryGetValue(toSize.SizesInput, out Tensor? sz) && sz.Data.Any(float.IsNaN))
                {
                    ResizeOptions o = toSize.Options([1, ChannelsOf(reads[0]), 1, 1], null, new Tensor([4], [1, ChannelsOf(reads[0]), 1, 1])) with { SizeY = 0, SizeX = 0 };
                    if (sizer.MapOfSizes(toSize, toSize.SizesInput) is { } like)
                    {
                        sized = new ResizeLayer(o, toSecondInput: true);
                        reads = [reads[0], like];
                    }
                    else if (sizer.WholeFactors(toSize.SizesInput, reads[0]) is { } factors)
                        sized = new ResizeLayer(o with { ScaleY = factors.Y, ScaleX = factors.X });
                    else
                        throw SizeError(toSize, "sizes", Array.FindIndex(sz.Data, float.IsNaN));
                }
                else if (op is PadOp { AttributePads: null } toPad && known.TryGetValue(op.Inputs[1], out Tensor? pz) && pz.Data.Any(float.IsNaN))
                {
                    int like = sizer.MapOfPads(toPad, reads[0]) ?? throw SizeError(toPad, "pads", Array.FindIndex(pz.Data, float.IsNaN));
                    if (like == reads[0])
                    {
                        Alias(op, reads[0]);
                        continue;
                    }
                    sized = new PadLayer(toPad.Options(4, new Tensor([8]), op.Inputs.Count > 2 && op.Inputs[2].Length > 0 ? Constant(known, op, op.Inputs[2]) : null), toSecondInput: true);
                    reads = [reads[0], like];
                }
                StackLayer layer = sized ?? op switch
                {
                    ConvOp conv => Conv(known, conv),
                    ConvTransposeOp t => ConvTranspose(known, t),
                    GroupNormOp gn => GroupNormLayerOf(sizer, gn, reads[0], ChannelsOf(reads[0]), RankOf(reads[0]), inFlat),
                    GroupNormalizationOp gno when RankOf(reads[0]) == 4 && !inLast =>
                        new GroupNormLayer(gno.Parameters(Constant(known, op, op.Inputs[1]), Constant(known, op, op.Inputs[2]), ChannelsOf(reads[0])), gno.Groups),
                    InstanceNormOp norm => new InstanceNormLayer(norm.Parameters(Constant(known, op, op.Inputs[1]), Constant(known, op, op.Inputs[2]))),
                    BatchNormOp bn => new BatchNormLayer(bn.StoredParameters([null, .. op.Inputs.Skip(1).Select(v => Constant(known, op, v))])),
                    ChannelAffineOp perChannel => new BatchNormLayer(BatchNorm.FromAffine(perChannel.Scale, perChannel.Shift)),
                    PoolOp pool => new PaddedPoolLayer(pool.SizeIndependentOptions()),
                    GlobalAveragePoolOp => new GlobalAvgPoolLayer(),
                    ActivationOp a => new ActivationLayer(a.Kind, a.Slope) { Beta = a.Beta },
                    ClipOp clip => Clip(known, clip),
                    UnaryOp u => new UnaryLayer(u.Kind),
                    LrnOp l => new LrnLayer(l.Parameters),
                    BinaryOp b when inLast && reads.Length == 2 && !(channelsLast.Contains(op.Inputs[0]) && channelsLast.Contains(op.Inputs[1])) =>
                        throw new ConvGLException($"{op.Where}: in a stack {op.Node.OpType} joins a channels-last map and a channels-first one"),
                    BinaryOp b when reads.Length == 2 && inFlat && !(flattened.Contains(op.Inputs[0]) && flattened.Contains(op.Inputs[1])) =>
                        throw new ConvGLException($"{op.Where}: in a stack {op.Node.OpType} joins a map flattened to (1, C, H*W) and a value of another layout"),
                    BinaryOp b when reads.Length == 2 => TwoMaps(b, b.Kind, [ChannelsOf(reads[0]), ChannelsOf(reads[1])], [RankOf(reads[0]), RankOf(reads[1])]),
                    BinaryOp b => Binary(known, b, reads.Length, ChannelsOf(reads[0]), RankOf(reads[0]), inLast, inFlat),
                    LayerNormOp ln when inLast => ChannelLayerNorm(known, ln, ChannelsOf(reads[0]), inTokens ? 3 : 4),
                    ChannelNormOp cn when (RankOf(reads[0]) == 4 ? (inTokens ? cn.AxisFor(3) == 2 : cn.AxisFor(4) == (inLast ? 3 : 1)) : cn.AxisFor(2) == 1) =>
                        new ChannelLayerNormLayer(new LayerNorm(Enumerable.Repeat(1f, ChannelsOf(reads[0])).ToArray(), new float[ChannelsOf(reads[0])], cn.Epsilon)),
                    ChannelNormOp cn => throw new ConvGLException($"{op.Where}: in a stack a layer normalisation written out runs over the channels (axis 1 of (N, C, H, W), " +
                        $"the last axis inside a channels-last stretch, or the features of a flattened (N, K)), got axis {cn.Axis} of a {(inLast ? "channels-last " : "")}rank-{RankOf(reads[0])} value"),
                    MatMulOp mm when inLast => PointwiseConv(known, mm, ChannelsOf(reads[0])),
                    VariadicOp { Step: BinaryKind.Add or BinaryKind.Max or BinaryKind.Min, Mean: false } v when reads.Length == 2 && op.Inputs.Count == 2 =>
                        TwoMaps(v, v.Step, [ChannelsOf(reads[0]), ChannelsOf(reads[1])], [RankOf(reads[0]), RankOf(reads[1])]),
                    VariadicOp { Step: BinaryKind.Max or BinaryKind.Min, Mean: false } v when reads.Length == 1 && op.Inputs.Count == 2 =>
                        NumberOperand(v, v.Step, Constant(known, op, op.Inputs.First(known.ContainsKey)), false),
                    VariadicOp => throw new ConvGLException($"{op.Where}: in a stack {op.Node.OpType} is supported only of two maps (Sum: an add layer; Max, Min: max, min layers) or, for Max and Min, of a map and one stored value"),
                    // (Of channels-last maps, all of them, the channels are the last axis: Keras' Concatenate(axis=-1).)
                    ConcatOp when inLast && !op.Inputs.Where(v => v.Length > 0).All(channelsLast.Contains) =>
                        throw new ConvGLException($"{op.Where}: in a stack Concat joins a channels-last map and a channels-first one"),
                    ConcatOp cat when inLast => cat.AxisFor(4) == 3 ? new ConcatLayer(reads.Length)
                        : throw new ConvGLException($"{op.Where}: in a stack Concat of channels-last maps joins channels (axis 3 or -1 of (N, H, W, C)), got axis {cat.Axis}"),
                    ConcatOp cat => cat.AxisFor(4) == 1 ? new ConcatLayer(reads.Length)
                        : throw new ConvGLException($"{op.Where}: in a stack Concat joins channels (axis 1 of (N, C, H, W)), got axis {cat.Axis}"),
                    SoftmaxOp sm => Softmax(sm, RankOf(reads[0]), inLast),
                    ReshapeOp r => Flattening(known, r, inLast),
                    DepthToSpaceOp d => new DepthToSpaceLayer(d.Block, d.ToSpace, d.Mode),
                    ReduceOp rd => SpatialReduce(known, rd, RankOf(reads[0]), inLast),
                    ResizeOp rs => new ResizeLayer(rs.Options([1, ChannelsOf(reads[0]), 1, 1],
                        rs.ScalesInput.Length > 0 ? Sized(known, rs, rs.ScalesInput, "scales") : null,
                        rs.SizesInput.Length > 0 ? SizesOf(known, rs, ChannelsOf(reads[0])) : null)),
                    PadOp pad => new PadLayer(pad.Options(4, pad.AttributePads is null ? Sized(known, op, op.Inputs[1], "pads") : null,
                        op.Inputs.Count > 2 && op.Inputs[2].Length > 0 ? Constant(known, op, op.Inputs[2]) : null, inLast)),
                    FlattenOp f => f.Axis == 1 ? new FlattenLayer { ChannelsLast = inLast } : throw new ConvGLException($"{op.Where}: in a stack Flatten takes axis 1 (the image's values), got {f.Axis}"),
                    GemmOp g => Linear(known, g),
                    MatMulOp mm => Linear(known, mm, RankOf(reads[0])),
                    SplitOp sp => ChannelSlice(sp, shape => sp.Axes(shape, sp.Inputs.Count > 1 && sp.Inputs[1].Length > 0 ? Constant(known, sp, sp.Inputs[1]) : null),
                        ChannelsOf(reads[0]), RankOf(reads[0])),
                    SliceOp sl => Slice(known, sl, ChannelsOf(reads[0]), RankOf(reads[0]), inLast),
                    SqueezeOp { Unsqueeze: false } sq when RankOf(reads[0]) == 4 && SqueezesSpatial(known, sq) => new FlattenLayer(),
                    AttentionOp att => AttentionLayerOf(known, sizer, att, reads, reads.Select(ChannelsOf).ToArray(), reads.Select(RankOf).ToArray(),
                        op.Inputs.Take(3).Select(LayoutOf).ToArray()),
                    _ => throw new ConvGLException($"{op.Where}: no stack layer for {op.Node.OpType}"),
                };
                // A Pad of nothing (a static UNet's pad-to-match that came out 0) and a 1x1 pool of stride 1 (an adaptive pool on a
                // map already at its size): no layer either.
                if (layer is PadLayer { ToSecondInput: false, Options: { Top: 0, Left: 0, Bottom: 0, Right: 0 } }
                    || layer is PaddedPoolLayer { Options: { SizeY: 1, SizeX: 1, StrideY: 1, StrideX: 1, PadTop: 0, PadLeft: 0, PadBottom: 0, PadRight: 0 } })
                {
                    Alias(op, reads[0]);
                    continue;
                }
                // A per-channel constant (a MatMul's bias Add, ConvNeXt's layer scale) right after a conv or linear layer that
                // nothing else reads folds into its weight and bias, as a batchnorm after a conv does (OnnxGraph).
                if (layer is BatchNormLayer affine && op is BinaryOp && reads is [var producerIndex] && producerIndex >= 0 && producerIndex == i - 1
                    && DataInputs(known, op).First() is var read && outputOf[producerIndex] == read && readers.GetValueOrDefault(read) == 1 && !graphOutputs.Contains(read)
                    && FoldAffine(layers[producerIndex], affine.Parameters, op, known, names) is { } folded)
                {
                    layers[producerIndex] = folded;
                    index[op.Output] = producerIndex;
                    outputOf[producerIndex] = op.Output;
                    if (inLast) channelsLast.Add(op.Output);
                    if (inTokens) tokens.Add(op.Output);
                    if (inFlat) flattened.Add(op.Output);
                    continue;
                }
                // A slice of a slice that nothing else reads (Focus: rows, then columns): one layer.
                if (layer is SliceLayer second && reads is [var sliced] && sliced >= 0 && sliced == i - 1 && layers[sliced] is SliceLayer first
                    && outputOf[sliced] == op.Inputs[0] && readers.GetValueOrDefault(op.Inputs[0]) == 1 && !graphOutputs.Contains(op.Inputs[0])
                    && Merged(first, second) is { } both)
                {
                    both.Label = op.Node.Name.Length > 0 ? op.Node.Name : op.Output;
                    both.Inputs = first.Inputs;
                    layers[sliced] = both;
                    sizer.Forget(sliced);
                    index[op.Output] = sliced;
                    outputOf[sliced] = op.Output;
                    channels[sliced] = both.OutputChannels(ChannelsOf(first.InputsOf(sliced)[0]), out _);
                    if (inLast) channelsLast.Add(op.Output); // (Keras' Cropping2D then a channel pick, channels-last)
                    continue;
                }
                layer.Label = op.Node.Name.Length > 0 ? op.Node.Name : op.Output;
                if (reads.Length != 1 || reads[0] != i - 1) layer.Inputs = reads;
                index[op.Output] = i;
                layers.Add(layer);
                outputOf.Add(op.Output);
                channels.Add(layer.OutputChannels(reads.Select(ChannelsOf).ToArray(), out _));
                // (A channels-last global pool without keepdims is (1, C): the channels-first pool's values; a flatten's values
                // are in the channels-last order, and its value is no longer a map.)
                bool stillLast = inLast && op is not (ReduceOp { KeepDims: false } or FlattenOp or ReshapeOp);
                if (stillLast) channelsLast.Add(op.Output);
                if (inTokens && (op is not AttentionOp attention || attention.OutputTokens)) SetLayout(op.Output, MapLayout.Tokens);
                if (inFlat) flattened.Add(op.Output);
                // (A channel reduction without keepdims: its map is (1, H, W) in the stack, rank 4 for the Unsqueeze after it.)
                bool overChannels = layer is ChannelReduceLayer;
                if (overChannels && op is ReduceOp { KeepDims: false }) squeezed.Add(op.Output);
                ranks.Add(stillLast ? 4 : op is FlattenOp or GemmOp or ReshapeOp or MatMulOp or SqueezeOp || op is ReduceOp { KeepDims: false } && !overChannels ? 2 : RankOf(reads[0]));
            }
        }
        catch (ConvGLException e) when (current is not null && !e.Message.StartsWith(src, StringComparison.Ordinal))
        {
            // A layer's own check (its constructor's: a ConvTranspose's output padding past its stride) names no node (the
            // fuzzer's finding): said at the node, with the layers before it.
            throw new ConvGLException($"{current.Where}: {e.Message}" + Before(current), e);
        }
        catch (ConvGLException e) when (current is not null && e.Message.StartsWith(current.Where, StringComparison.Ordinal) && Before(current) is { } hint)
        {
            throw new ConvGLException(e.Message + hint, e);
        }
        try
        {
            return new Stack(name, c == 1 ? StackInput.Gray : StackInput.Rgb, layers) { SourcePath = src, Description = $"ONNX model ({(graph.Model.Producer.Length > 0 ? graph.Model.Producer + ", " : "")}opset {graph.Model.Opset})", Preprocess = preprocess, FromOnnx = true, ChannelsLastInput = inputLast };
        }
        catch (ConvGLException e)
        {
            throw new ConvGLException($"{src}: {e.Message}", e);
        }
    }

    /// <summary>The inputs that carry maps (not weights): a binary op's inputs that are not stored constants, every
    /// input of a Concat, the first of the others.</summary>
    private static IEnumerable<string> DataInputs(IReadOnlyDictionary<string, Tensor> known, OnnxOp op) => op switch
    {
        BinaryOp => op.Inputs.Take(2).Where(v => !known.ContainsKey(v)),
        ConcatOp => op.Inputs,
        AttentionOp => op.Inputs.Take(3),
        VariadicOp => op.Inputs.Where(v => !known.ContainsKey(v)),
        _ => op.Inputs.Take(1),
    };

    /// <summary>Softmax over the channels: axis 1 of (N, C, H, W) or of a head's (N, K); before opset 13 (the
    /// dimensions from the axis on as one line) only on a head's (N, K).</summary>
    private static SoftmaxLayer Softmax(SoftmaxOp sm, int rank, bool channelsLast)
    {
        int axis = sm.Axis < 0 ? sm.Axis + rank : sm.Axis;
        // Over the last axis of a channels-last (N, H, W, C) map (a Keras segmentation head's softmax), before opset 13 too:
        // coerced to (N H W, C) it is the same softmax over each pixel's channels.
        if (channelsLast)
            return rank == 4 && axis == 3 ? new SoftmaxLayer(sm.Log)
                : throw new ConvGLException($"{sm.Where}: in a stack {sm.Node.OpType} of a channels-last (N, H, W, C) map runs over the channels (axis 3 or -1), got axis {sm.Axis}");
        if (axis == 1 && (!sm.Coerced || rank == 2)) return new SoftmaxLayer(sm.Log);
        throw new ConvGLException($"{sm.Where}: in a stack {sm.Node.OpType} runs over the channels (axis 1 of (N, C, H, W), or of (N, K) after a flatten{(sm.Coerced ? "; before opset 13 only on (N, K)" : "")}), got axis {sm.Axis} of a rank-{rank} value");
    }

    /// <summary>A Resize's stored sizes, checked against the channels the layer reads (the stack's batch is 1).</summary>
    private static Tensor SizesOf(IReadOnlyDictionary<string, Tensor> known, ResizeOp rs, int channels)
    {
        Tensor sizes = Sized(known, rs, rs.SizesInput, "sizes");
        if (sizes.Length == 4 && (sizes.Data[0] != 1 || sizes.Data[1] != channels))
            throw new ConvGLException($"{rs.Where}: sizes [{string.Join(", ", sizes.Data)}] must keep the batch (1) and the {channels} channels");
        return sizes.Length == 4 ? new Tensor([4], [1, channels, sizes.Data[2], sizes.Data[3]]) : sizes;
    }

    /// <summary>A mean or max over the two spatial axes of (N, C, H, W) (x.mean((2, 3)), GlobalMaxPool): the global pool
    /// layers; with keepdims 0 the (N, C) result holds the same values as the stack's (C, 1, 1). A mean, max, min or sum
    /// over the channels, axis 1 (x.mean(1, keepdim=True)): a reduce_channels layer (without keepdims too: its value is
    /// then read only by an Unsqueeze back at axis 1, which is no layer, or is a graph output).</summary>
    private static StackLayer SpatialReduce(IReadOnlyDictionary<string, Tensor> known, ReduceOp rd, int rank, bool channelsLast)
    {
        int[] axes = rd.Axes(rank, rd.Inputs.Count > 1 && rd.Inputs[1].Length > 0 ? Constant(known, rd, rd.Inputs[1]) : null);
        // Of a channels-last (N, H, W, C) value the spatial axes are 1 and 2 (Keras' GlobalAveragePooling2D, tf2onnx).
        if (channelsLast)
            return rank == 4 && axes is [1, 2] && rd.Kind is ReduceKind.Mean or ReduceKind.Max
                ? rd.Kind == ReduceKind.Mean ? new GlobalAvgPoolLayer() : new GlobalMaxPoolLayer()
                : throw new ConvGLException($"{rd.Where}: in a stack a reduction of a channels-last (N, H, W, C) value runs as a global pool (ReduceMean or ReduceMax over axes [1, 2]); " +
                                            $"{rd.Node.OpType} over axes [{string.Join(", ", axes)}] is not supported");
        if (rank == 4 && axes is [2, 3])
        {
            if (rd.Kind == ReduceKind.Mean) return new GlobalAvgPoolLayer();
            if (rd.Kind == ReduceKind.Max) return new GlobalMaxPoolLayer();
        }
        if (ChannelReduction(known, rd, rank) is { } overChannels) return new ChannelReduceLayer(overChannels);
        throw new ConvGLException($"{rd.Where}: in a stack a reduction runs as a global pool (ReduceMean or ReduceMax over axes [2, 3] of (N, C, H, W)) " +
                                  $"or over the channels (ReduceMean, ReduceMax, ReduceMin or ReduceSum over axis 1); {rd.Node.OpType} over axes [{string.Join(", ", axes)}] of a rank-{rank} value is not supported");
    }

    /// <summary>The kind of a mean, max, min or sum over axis 1 of a (N, C, H, W) map; null for any other reduction.</summary>
    private static ReduceKind? ChannelReduction(IReadOnlyDictionary<string, Tensor> known, ReduceOp rd, int rank) =>
        rank == 4 && rd.Kind is ReduceKind.Mean or ReduceKind.Max or ReduceKind.Min or ReduceKind.Sum
            && rd.Axes(rank, rd.Inputs.Count > 1 && rd.Inputs[1].Length > 0 ? Constant(known, rd, rd.Inputs[1]) : null) is [1] ? rd.Kind : null;

    /// <summary>A Reshape's target with entries it cannot know at import (a map's height or width) as -2; null when the
    /// target is not stored.</summary>
    /// <summary>The groupnorm layer (scale 1, shift 0) of a <see cref="GroupNormOp"/> on a (1, C, H, W) map whose groups divide
    /// C and whose Reshape back gives the map's own shape at every sample size where it is known (a stored target: a
    /// fixed-size export).</summary>
    /// <summary>Whether Reshape <paramref name="r"/> of map <paramref name="map"/>'s value, of shape <paramref name="input"/>
    /// at a sample size, gives exactly <paramref name="want"/> there: true where it does at every sample size where its target
    /// is known (and at enough of them), false where it gives another shape at one, null where too few samples tell.</summary>
    private static bool? ReshapeMatches(IReadOnlyDictionary<string, Tensor> known, SampleSizes sizer, ReshapeOp r, int map,
                                        Func<(int H, int W), int[]> input, Func<(int H, int W), int[]> want)
    {
        Tensor?[]? sampled = r.AttributeShape is null && r.Inputs.Count > 1 ? sizer.ValuesOf(r.Inputs[1]) : null;
        long[]? stored = Target(known, r);
        (int H, int W)?[] sizes = sizer.SizesOf(map);
        int agreeing = 0;
        for (int k = 0; k < sizer.Count; k++)
        {
            long[]? t = sampled is not null ? sampled[k]?.Data.Select(v => (long)v).ToArray() : stored;
            if (sizes[k] is not { } z || t is null || t.Any(d => d == -2)) continue;
            int[] shape;
            try { shape = r.OutputShape(input(z), t); }
            catch (ConvGLException) { continue; }
            if (!shape.SequenceEqual(want(z))) return false;
            agreeing++;
        }
        return agreeing >= sizer.Needed ? true : null;
    }

    private static GroupNormLayer GroupNormLayerOf(SampleSizes sizer, GroupNormOp gn, int map, int channels, int rank, bool flatMap = false)
    {
        if (rank != 4)
            throw new ConvGLException($"{gn.Where}: in a stack group normalisation runs over a map (N, C, H, W), got a rank-{rank} value");
        if (channels % gn.Groups != 0)
            throw new ConvGLException($"{gn.Where}: {gn.Groups} groups do not divide the map's {channels} channels");
        if (gn.BackTarget is { } back)
        {
            (int H, int W)?[] sizes = sizer.SizesOf(map);
            int agreeing = 0;
            for (int k = 0; k < sizer.Count; k++)
            {
                if (sizes[k] is not { } sz) continue;
                int[] got;
                int[] own = flatMap ? [1, channels, sz.H * sz.W] : [1, channels, sz.H, sz.W];
                try { got = gn.ResolveBack(own); }
                catch (ConvGLException) { continue; }
                if (!got.SequenceEqual(own))
                    throw new ConvGLException($"{gn.Where}: its Reshape back to [{string.Join(", ", back)}] makes {Tensor.ShapeText(got)} of a {Tensor.ShapeText(own)} map; a stack needs the map's own shape");
                agreeing++;
            }
            if (agreeing < sizer.Needed)
                throw new ConvGLException($"{gn.Where}: its Reshape back to [{string.Join(", ", back)}] does not fit the map's size (a fixed size needs a model that declares its input's size)");
        }
        return new GroupNormLayer(new InstanceNorm(Enumerable.Repeat(1f, channels).ToArray(), new float[channels], gn.Epsilon), gn.Groups);
    }

    /// <summary>The attention layer of an <see cref="AttentionOp"/> whose Reshapes flatten each (1, C, H, W) map to exactly
    /// (1, C, H*W) and turn the (1, C_v, H_q*W_q) result back into exactly (1, C_v, H_q, W_q): each target resolved as ONNX
    /// resolves it (0 keeps, -1 takes the rest) at every sample size where the import knows the maps' sizes (targets from
    /// Shape arithmetic computed there; a stored target must fit them too, so a fixed one only in a model that declares
    /// its size). Anything else is one error naming the Reshape (the review: [1, -1, 16], a batch split, view(b, -1, w)
    /// and a back-reshape to (W, H) all imported as attention of other numbers than ONNX Runtime's).</summary>
    private static AttentionLayer AttentionLayerOf(IReadOnlyDictionary<string, Tensor> known, SampleSizes sizer, AttentionOp att, int[] reads, int[] channels, int[] ranks,
                                                   MapLayout[] layouts)
    {
        if (ranks.Any(r => r != 4))
            throw new ConvGLException($"{att.Where}: in a stack attention runs over maps (N, C, H, W); one of q, k, v is a flattened (N, K) value");
        // Over tokens (1, H*W, C) split into heads, a transformer block's; else over maps flattened.
        bool overTokens = att.OutputTokens;
        MapLayout wanted = overTokens ? MapLayout.Tokens : MapLayout.Map;
        if (layouts.Any(l => l != wanted))
            throw new ConvGLException(overTokens
                ? $"{att.Where}: in a stack attention over tokens reads q, k and v as tokens (1, H*W, C) of a map (x.view(b, c, h*w).transpose(1, 2), then per-token Linears); one of them is held another way"
                : $"{att.Where}: in a stack attention flattens q, k and v from maps (1, C, H, W); one of them is held another way (channels-last, or tokens)");
        if (channels[0] != channels[1])
            throw new ConvGLException($"{att.Where}: the query has {channels[0]} channels and the keys {channels[1]}; q and k need one channel count");
        // The heads: what q's flattening makes of its map at the first sample size where it resolves, (1, heads, C / heads,
        // H*W) or (heads, C / heads, H*W) (1 head: (1, C, H*W)); every Reshape is then checked against them.
        int heads = 0;
        {
            ReshapeOp r = att.Flattens[0];
            Tensor?[]? sampled = r.AttributeShape is null && r.Inputs.Count > 1 ? sizer.ValuesOf(r.Inputs[1]) : null;
            long[]? stored = Target(known, r);
            (int H, int W)?[] sizes = sizer.SizesOf(reads[0]);
            for (int k = 0; k < sizer.Count && heads == 0; k++)
            {
                long[]? t = sampled is not null ? sampled[k]?.Data.Select(v => (long)v).ToArray() : stored;
                if (sizes[k] is not { } s || t is null || t.Any(d => d == -2)) continue;
                try { heads = att.HeadsOf(overTokens ? [1, s.H * s.W, channels[0]] : [1, channels[0], s.H, s.W], t) ?? 0; }
                catch (ConvGLException) { }
            }
            if (heads > 1 && channels[2] % heads != 0)
                throw new ConvGLException($"{att.Flattens[2].Where}: in a stack attention's heads split v too: q's Reshape makes {heads} heads, and the values' {channels[2]} channels do not split into {heads}");
            if (heads < 1 || channels[0] % heads != 0) heads = 1;
        }
        // The token shapes for a map of c channels and n positions: (N, C, H*W) with one head, else as the export wrote them.
        int[] Tokens(int c, int n) => att.Rank == 4 ? [1, heads, c / heads, n] : heads == 1 ? [1, c, n] : [heads, c / heads, n];
        void Check(ReshapeOp r, int map, int c, bool back, string what)
        {
            Tensor?[]? sampled = r.AttributeShape is null && r.Inputs.Count > 1 ? sizer.ValuesOf(r.Inputs[1]) : null;
            long[]? stored = Target(known, r);
            (int H, int W)?[] sizes = sizer.SizesOf(map);
            int agreeing = 0;
            string? got = null;
            for (int k = 0; k < sizer.Count; k++)
            {
                long[]? t = sampled is not null ? sampled[k]?.Data.Select(v => (long)v).ToArray() : stored;
                if (sizes[k] is not { } s || t is null || t.Any(d => d == -2)) continue;
                int n = s.H * s.W;
                int[] input = overTokens ? (back ? [1, n, heads, c / heads] : [1, n, c]) : back ? Tokens(c, n) : [1, c, s.H, s.W];
                int[] want = overTokens ? (back ? [1, n, c] : [1, n, heads, c / heads]) : back ? [1, c, s.H, s.W] : Tokens(c, n);
                // A size where the target cannot hold the values is one the model does not run at (ONNX Runtime refuses it
                // too: BigGAN's H*W/4 keys at an odd size): skipped. A target that takes other values is wrong.
                int[] shape;
                try { shape = r.OutputShape(input, t); }
                catch (ConvGLException) { continue; }
                if (!shape.SequenceEqual(want))
                {
                    string at = sizer.Count > 1 && sizer.SizesOf(-1)[k] is { } sample ? $" (at a sample input size, {sample.W}x{sample.H})" : "";
                    got = $"[{string.Join(", ", t)}], which makes {Tensor.ShapeText(shape)} of {Tensor.ShapeText(input)} where attention needs {Tensor.ShapeText(want)}{at}";
                    agreeing = -1;
                    break;
                }
                agreeing++;
            }
            if (agreeing < sizer.Needed)
                throw new ConvGLException($"{r.Where}: in a stack attention's Reshape {what}, got " +
                    (got ?? (stored is null ? "a shape computed from values a stack does not know"
                        : $"[{string.Join(", ", stored.Select(d => d == -2 ? "?" : d.ToString()))}], which does not fit the map's size (a fixed size needs a model that declares its input's size)")));
        }
        string[] roles = ["q", "k", "v"];
        string heading = heads == 1 ? "" : $" ({heads} heads, as q's flattening makes them)";
        if (overTokens)
        {
            for (int i = 0; i < 3; i++) Check(att.Flattens[i], reads[i], channels[i], back: false, $"splits {roles[i]}'s tokens (1, H*W, {channels[i]}) into heads (1, H*W, {heads}, C / {heads}){heading}");
            Check(att.Unflatten, reads[0], channels[2], back: true, $"merges the heads (1, H*W, {heads}, C / {heads}) back into tokens (1, H*W, C) of the query's positions{heading}");
            return new AttentionLayer(att.HeadScale && att.Scale == 1 ? null : att.ScaleFor(channels[0] / heads), heads);
        }
        string tokens = att.Rank == 4 ? $"(1, {heads}, C / {heads}, H*W)" : heads == 1 ? "(1, C, H*W)" : $"({heads}, C / {heads}, H*W)";
        for (int i = 0; i < 3; i++) Check(att.Flattens[i], reads[i], channels[i], back: false, $"flattens {roles[i]} (a map of {channels[i]} channels) to {tokens}{heading}");
        Check(att.Unflatten, reads[0], channels[2], back: true, $"turns the {tokens} result back into (1, C, H, W) of the query's size{heading}");
        return new AttentionLayer(att.HeadScale && att.Scale == 1 ? null : att.ScaleFor(channels[0] / heads), heads);
    }

    private static long[]? Target(IReadOnlyDictionary<string, Tensor> known, ReshapeOp r)
    {
        if (r.AttributeShape is { } a) return a;
        if (r.Inputs.Count < 2 || !known.TryGetValue(r.Inputs[1], out Tensor? t) || t.Rank != 1) return null;
        return t.Data.Select(v => float.IsNaN(v) ? -2L : (long)v).ToArray();
    }

    /// <summary>A Reshape to (1, -1), (0, -1) or (1, K): a flatten (the head's input).</summary>
    private static FlattenLayer Flattening(IReadOnlyDictionary<string, Tensor> known, ReshapeOp r, bool channelsLast)
    {
        Tensor? shape = r.AttributeShape is null ? Constant(known, r, r.Inputs[1]) : null;
        int unknown = shape is null ? -1 : Array.FindIndex(shape.Data, float.IsNaN);
        if (unknown >= 0)
            throw new ConvGLException($"{r.Where}: in a stack a Reshape's shape may use the batch and channel counts only; entry {unknown} depends on the map's height or width");
        long[] target = r.Target(shape);
        // (1, K) and (-1, K) are a flatten only where K is the map's C*H*W (ONNX refuses the first otherwise, and the
        // second is rows of K values): the layer checks K when the stack is planned for its input's size (a review: a
        // Reshape to (-1, 256) of 768 values ran as one flatten, and the Softmax after it over all 768).
        if (target is [1 or 0 or -1, var k] && (k == -1 || k > 0) && !(target[0] == -1 && k == -1) && !(r.AllowZero && target[0] == 0))
            return new FlattenLayer { Values = k == -1 ? null : k, ChannelsLast = channelsLast };
        // A rank-3 target is most likely attention written out that the pattern did not take (the review: one flatten shared
        // by q, k and v, or the values scaled): say which form imports.
        string attention = target.Length is 3 or 4
            ? " (attention over the positions imports as one layer where q, k and v are flattened to (N, C, H*W), or into heads as (N, heads, C / heads, H*W) or (heads, C / heads, H*W), by Reshapes that only its nodes read, with no stored factor on v, and a scale that is stored or torch's default read from the query's own shape (Shape of the q it multiplies, Slice [-1:], Sqrt, 1 / it, Sqrt);" +
              " a group normalisation as PyTorch exports it, a Reshape to (N, groups, -1) into InstanceNormalization of stored ones and zeros and a Reshape back to the input's own shape, as one groupnorm layer)"
            : "";
        throw new ConvGLException($"{r.Where}: in a stack Reshape flattens ((1, -1) or (1, K)); shape [{string.Join(", ", target)}] is not supported{attention}");
    }

    private static ActivationLayer Clip(IReadOnlyDictionary<string, Tensor> known, ClipOp clip)
    {
        (float min, float max) = clip.Bounds([null, .. clip.Inputs.Skip(1).Select(v => v.Length == 0 ? null : Constant(known, clip, v))]);
        // ONNX defines min > max: every output is max (Min(max, Max(x, min)); a NaN stays NaN). A stack file refuses
        // min > max as a typo, so the layer says the same thing as min = max, which convert writes and the loader reads.
        return new ActivationLayer(ActivationKind.Clip) { Min = Math.Min(min, max), Max = max };
    }

    /// <summary>Add, Sub, Mul, Div or Pow of two maps (and Max, Min of two: <paramref name="kind"/>): layers that take two
    /// maps of one rank (a flattened (1, C) against a (1, C, H, W) map lines C up with W under ONNX broadcasting, which a
    /// stack layer does not do) and one channel count, or (all but Add) one of them a single channel, broadcast over the
    /// other's channels as ONNX does (CBAM's spatial gate: x * sigmoid(conv(...)) of (1, 1, H, W)).</summary>
    private static StackLayer TwoMaps(OnnxOp op, BinaryKind kind, int[] channels, int[] ranks)
    {
        if (kind is BinaryKind.PRelu)
            throw new ConvGLException($"{op.Where}: in a stack {op.Node.OpType} of two maps is not supported (Add, Sub, Mul, Div, Pow, Max and Min of two maps are; PRelu's slope must be stored)");
        if (ranks[0] != ranks[1])
            throw new ConvGLException($"{op.Where}: in a stack {op.Node.OpType} joins two maps of one rank; these are rank {ranks[0]} and rank {ranks[1]} (a flattened value and a map broadcast along the width in ONNX)");
        bool broadcast = kind != BinaryKind.Add && ranks[0] == 4 && (channels[0] == 1 || channels[1] == 1);
        if (channels[0] != channels[1] && !broadcast)
            throw new ConvGLException($"{op.Where}: in a stack {op.Node.OpType} joins two maps of one channel count{(kind == BinaryKind.Add ? "" : ", or one of them a single channel")}; these have {channels[0]} and {channels[1]}");
        return kind switch
        {
            BinaryKind.Add => new AddLayer(),
            BinaryKind.Mul => new MulLayer(),
            _ => new ElementwiseLayer(kind),
        };
    }

    /// <summary>A map and one stored value under Pow (x^k: the value second), Max or Min: a layer with that value; a
    /// per-channel constant, or k^x, is one error naming the node.</summary>
    private static ElementwiseLayer NumberOperand(OnnxOp op, BinaryKind kind, Tensor k, bool constantFirst)
    {
        if (k.Length != 1)
            throw new ConvGLException($"{op.Where}: in a stack {op.Node.OpType} of a map and a constant takes a single value, got a constant of {k.ShapeString}");
        if (kind == BinaryKind.Pow && constantFirst)
            throw new ConvGLException($"{op.Where}: in a stack Pow of a constant by a map (k^x) is not supported (x^k is)");
        return new ElementwiseLayer(kind, k.Data[0]);
    }

    /// <summary>A map and a stored constant of one value per channel (shape (C, 1, 1), (1, C, 1, 1), (1) or a scalar) is a
    /// per-channel affine layer (x * scale + shift, the batchnorm layer's form): x + k, x - k, k - x, x * k, k * x, x / k
    /// (as x * (1/k), within a rounding of the quotient); Pow, Max and Min by one value a layer with that value; PRelu a
    /// prelu layer.</summary>
    private static StackLayer Binary(IReadOnlyDictionary<string, Tensor> known, BinaryOp b, int maps, int channels, int rank, bool channelsLast, bool flatMap = false)
    {
        if (maps != 1) throw new ConvGLException($"{b.Where}: both inputs are constants; in a stack one must be a map");
        bool constantFirst = known.ContainsKey(b.Inputs[0]);
        if (b.Kind == BinaryKind.PRelu && constantFirst) throw new ConvGLException($"{b.Where}: in a stack PRelu's input must be a map");
        Tensor k = Constant(known, b, b.Inputs[constantFirst ? 0 : 1]);
        // (A value computed from a map's height or width: not known at import; a layer of NaN scales gave NaN maps.)
        if (k.Data.Any(float.IsNaN))
            throw new ConvGLException($"{b.Where}: in a stack its other input is computed from a map's height or width (Shape), which a layer cannot hold; export the model at a fixed input size" +
                // One value computed from a Shape, multiplying a map: torch's scaled_dot_product_attention writes its default scale so.
                (b.Kind is BinaryKind.Mul or BinaryKind.Div && k.Length == 1
                    ? " (if it is the scale of an attention, as torch's scaled_dot_product_attention computes its default: the attention imports as one layer where the scale is read from the Shape of the very q it multiplies, Slice [-1:], Sqrt, 1 / it, Sqrt)"
                    : ""));
        // x^k, and max / min against a number (one stored value): a pow / max / min layer with that value.
        if (b.Kind is BinaryKind.Pow or BinaryKind.Max or BinaryKind.Min)
            return NumberOperand(b, b.Kind, k, constantFirst);
        int[] kept = k.Shape.SkipWhile(d => d == 1).ToArray();
        float[] perChannel = b.Kind == BinaryKind.PRelu ? [] : k.Length == 1 ? Enumerable.Repeat(k.Data[0], channels).ToArray()
            // (C, 1, 1) or (1, C, 1, 1): the channel axis third from the end, as ONNX broadcasting lines it up with (N, C, H, W).
            : rank == 4 && !channelsLast && !flatMap && k.Length == channels && k.Rank >= 3 && k.Shape[^3] == channels && k.Shape[^2] == 1 && k.Shape[^1] == 1 ? k.Data
            // A map flattened to (1, C, H*W): (C, 1) or (1, C, 1), as PyTorch's GroupNorm export scales a (N, C, L) value.
            : flatMap && k.Length == channels && k.Rank is 2 or 3 && k.Shape[^2] == channels && k.Shape[^1] == 1 ? k.Data
            // A head's (1, K): a bias of (K) or (1, K) is one value per output (MatMul + Add, PyTorch's Linear on some exports).
            : rank == 2 && !channelsLast && k.Length == channels && kept.Length == 1 && k.Rank <= 2 ? k.Data
            // Channels-last: a constant of (C), (1, 1, 1, C) or (1, 1, C) scales the channels.
            : channelsLast && k.Length == channels && k.Shape[^1] == channels ? k.Data
            : throw new ConvGLException($"{b.Where}: constant {k.ShapeString} is not one value per channel ({channels}: " +
                (flatMap ? "(C, 1) or (1, C, 1) on a map flattened to (1, C, H*W)"
                    : channelsLast ? "(C), (1, C) or (1, 1, C) on channels-last values and tokens"
                    : "(C, 1, 1), (1, C, 1, 1), (C) after a flatten") + ", or a single value), which a stack needs");
        // PRelu (opset 6: a slope of (C) means one per channel): the slopes as they are, one or one per channel.
        if (b.Kind == BinaryKind.PRelu)
            return new PReluLayer(k.Length == 1 ? [k.Data[0]] : k.Length == channels && (k.Rank == 1 && b.LegacyAxis == 1 || kept.Skip(1).All(d => d == 1) && k.Rank >= 3) ? k.Data
                : throw new ConvGLException($"{b.Where}: slope {k.ShapeString} is not one value per channel ({channels}: (C, 1, 1) or a single value), which a stack needs"));
        float[] ones = Enumerable.Repeat(1f, channels).ToArray(), zeros = new float[channels];
        (float[] scale, float[] shift) = b.Kind switch
        {
            BinaryKind.Add => (ones, perChannel),
            BinaryKind.Sub => constantFirst ? (ones.Select(_ => -1f).ToArray(), perChannel) : (ones, perChannel.Select(v => -v).ToArray()),
            BinaryKind.Mul => (perChannel, zeros),
            BinaryKind.Div when !constantFirst => (perChannel.Select(v => 1f / v).ToArray(), zeros),
            _ => throw new ConvGLException($"{b.Where}: in a stack {b.Node.OpType} {(constantFirst ? "of a constant by a map" : "with a constant")} is not supported (x + k, x - k, k - x, x * k, x / k are)"),
        };
        return new BatchNormLayer(BatchNorm.FromAffine(scale, shift));
    }

    /// <summary>An imported conv, linear, layernorm or per-channel affine layer with a per-channel affine y = a x + b after
    /// it folded in: weight rows (a layernorm's or affine's scale) times a, bias (shift) a bias + b (<see cref="BatchNorm.FoldIntoConv"/>). Null for any other layer, or where a product
    /// leaves float32 (the affine layer then stays). The weight keeps its tensor name when a is all ones; new tensors
    /// are named after the layer (<c>pwconv1.bias</c>) where that names nothing else, else after the affine's value.</summary>
    private static StackLayer? FoldAffine(StackLayer producer, BatchNorm affine, OnnxOp op, IReadOnlyDictionary<string, Tensor> known, HashSet<string> names)
    {
        // Two per-channel affines in a row (a model's own input normalisation, Sub mean then Div std), or a layernorm's scale
        // and shift: a (scale x' + shift) + b, a 1x1 depthwise conv's fold (one weight per channel).
        (float[] Scale, float[] Shift)? Composed(float[] scale, float[] shift)
        {
            (Tensor w, float[] b) = affine.FoldIntoConv(new Tensor([scale.Length, 1, 1, 1], scale), shift);
            return w.FirstNonFinite() >= 0 || b.Any(v => !float.IsFinite(v)) ? null : (w.Data, b);
        }
        if (producer is BatchNormLayer first)
            return Composed(first.Parameters.Scale, first.Parameters.Shift) is var (fs, fb)
                ? new BatchNormLayer(BatchNorm.FromAffine(fs, fb)) { Label = first.Label, Inputs = first.Inputs } : null;
        // (A GroupNorm's weight and bias, the Mul and Add torch exports after it.)
        if (producer is GroupNormLayer gnorm)
            return Composed(gnorm.Parameters.Scale, gnorm.Parameters.Shift) is var (gs, gb)
                ? new GroupNormLayer(new InstanceNorm(gs, gb, gnorm.Parameters.Epsilon), gnorm.Groups) { Label = gnorm.Label, Inputs = gnorm.Inputs } : null;
        if (producer is ChannelLayerNormLayer norm)
            return Composed(norm.Parameters.Scale, norm.Parameters.Shift) is var (ns, nb)
                ? new ChannelLayerNormLayer(new LayerNorm(ns, nb, norm.Parameters.Epsilon)) { Label = norm.Label, Inputs = norm.Inputs } : null;
        (Tensor Weight, float[]? Bias, string WeightName, string Label)? of = producer switch
        {
            ConvLayer { Imported: true, IsFixed: false } c => (c.Weight, c.Bias, c.WeightName!, c.Label ?? ""),
            LinearLayer l => (new Tensor([l.Out, l.In, 1, 1], l.Weight.Data), l.Bias, l.WeightName, l.Label ?? ""),
            _ => null,
        };
        if (of is not var (weight, bias, weightName, label)) return null;
        bool scaled = affine.Scale.Any(a => a != 1f);
        (Tensor w, float[] b) = affine.FoldIntoConv(weight, bias);
        if (!scaled) w = weight;
        if (w.FirstNonFinite() >= 0 || b.Any(v => !float.IsFinite(v))) return null;
        string Fresh(string preferred, string fallback)
        {
            string name = names.Contains(preferred) ? fallback : preferred;
            for (int n = 2; names.Contains(name); n++) name = $"{fallback}{n}";
            names.Add(name);
            return name;
        }
        string stem = label.Length > 0 ? label : op.Output;
        string wName = scaled ? Fresh(stem + ".weight", op.Output + "::folded_weight") : weightName;
        // The Add of a bias to a layer without one: the bias is the stored constant, under its own name.
        string? constant = op.Inputs.FirstOrDefault(known.ContainsKey);
        string bName = !scaled && bias is null && constant is not null && known[constant].Data.AsSpan().SequenceEqual(b) ? constant
            : Fresh(stem + ".bias", op.Output + "::folded_bias");
        StackLayer folded = producer is ConvLayer conv ? ConvLayer.FromOnnx(w, b, conv.Options, wName, bName)
            : new LinearLayer(new Tensor([((LinearLayer)producer).Out, ((LinearLayer)producer).In], w.Data), b, wName, bName);
        folded.Label = producer.Label;
        folded.Inputs = producer.Inputs;
        return folded;
    }

    /// <summary>A stored size input (Pad's pads, Resize's sizes or scales); one computed at import from a map's height or
    /// width (a dynamic-size export's Shape arithmetic: UNet's pad-to-match, a resize to the skip's size) is one error
    /// saying so.</summary>
    private static Tensor Sized(IReadOnlyDictionary<string, Tensor> known, OnnxOp op, string name, string what)
    {
        Tensor t = Constant(known, op, name);
        if (Array.FindIndex(t.Data, float.IsNaN) is int at and >= 0) throw SizeError(op, what, at);
        return t;
    }

    private static ConvGLException SizeError(OnnxOp op, string what, int at) =>
        new($"{op.Where}: {what} entry {at} depends on a map's height or width (computed from Shape, which a stack knows only " +
            "for the batch and the channels) in a way no stack layer follows (a Resize to another map's size or by whole factors, " +
            "or a Pad to another map's size with half the difference before, does); export the model with a fixed input size (no dynamic_axes) so it is stored");

    private static Tensor Constant(IReadOnlyDictionary<string, Tensor> known, OnnxOp op, string name) =>
        known.TryGetValue(name, out Tensor? t) ? t
            : throw new ConvGLException($"{op.Where}: input '{name}' must be an initializer (a weight stored in the model) for a stack");

    private static ConvLayer Conv(IReadOnlyDictionary<string, Tensor> known, ConvOp conv)
    {
        Tensor w = Constant(known, conv, conv.Inputs[1]);
        conv.CheckWeight(w);
        bool hasBias = conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0;
        float[]? b = hasBias ? Constant(known, conv, conv.Inputs[2]).Data : null;
        if (b is not null && b.Length != w.Shape[0])
            throw new ConvGLException($"{conv.Where}: bias '{ErrorText.Echo(conv.Inputs[2])}' has {b.Length} values, the weight {w.ShapeString} {w.Shape[0]} output channels");
        ConvOptions options = conv.Options(1, 1);
        // auto_pad SAME_*: the pads depend on the input size, which ConvGeometry resolves for every size.
        if (conv.Spatial.AutoPad is AutoPad.SameUpper or AutoPad.SameLower)
            options = options with
            {
                Padding = conv.Spatial.AutoPad == AutoPad.SameUpper ? PaddingMode.SameUpper : PaddingMode.SameLower,
                PadY = 0, PadX = 0, PadBottom = null, PadRight = null,
            };
        return ConvLayer.FromOnnx(w, b, options, conv.Inputs[1], hasBias ? conv.Inputs[2] : null);
    }

    /// <summary>A ConvTranspose with stored weights and explicit pads (auto_pad SAME_* and output_shape depend on the
    /// input size, which a stack layer's options do not).</summary>
    private static ConvTransposeLayer ConvTranspose(IReadOnlyDictionary<string, Tensor> known, ConvTransposeOp t)
    {
        Tensor w = Constant(known, t, t.Inputs[1]);
        t.CheckWeight(w);
        if (t.OutputShape is not null || t.AutoPad is AutoPad.SameUpper or AutoPad.SameLower)
            throw new ConvGLException($"{t.Where}: in a stack ConvTranspose takes explicit pads (output_shape and auto_pad SAME_* depend on the input size)");
        bool hasBias = t.Inputs.Count > 2 && t.Inputs[2].Length > 0;
        return new ConvTransposeLayer(w, hasBias ? Constant(known, t, t.Inputs[2]).Data : null, t.Options(1, 1, w.Shape[2], w.Shape[3]),
            t.Inputs[1], hasBias ? t.Inputs[2] : null);
    }

    private static LinearLayer Linear(IReadOnlyDictionary<string, Tensor> known, GemmOp g)
    {
        if (g.TransA || g.Alpha != 1f || g.Beta != 1f)
            throw new ConvGLException($"{g.Where}: a stack's linear layer is Gemm with transA = 0, alpha = beta = 1 (PyTorch Linear)");
        Tensor b = Constant(known, g, g.Inputs[1]);
        if (b.Rank != 2) throw new ConvGLException($"{g.Where}: weight {b.ShapeString} must be 2D");
        Tensor weight = g.TransB ? b : Transpose(b);
        float[]? bias = null;
        if (g.Inputs.Count > 2 && g.Inputs[2].Length > 0)
        {
            Tensor c = Constant(known, g, g.Inputs[2]);
            if (c.Length != weight.Shape[0] || c.Shape.Count(d => d != 1) > 1)
                throw new ConvGLException($"{g.Where}: bias {c.ShapeString} must hold one value per output ({weight.Shape[0]})");
            bias = c.Data;
        }
        return new LinearLayer(weight, bias, g.Inputs[1], g.Inputs.Count > 2 ? g.Inputs[2] : null);
    }

    /// <summary>A Split or Slice of (N, C, H, W) that takes a run of channels (step 1) and leaves N, H and W whole: a
    /// slice layer. Whole means whole for every size: the op's axes are resolved for H = W = 1 and for H = W = 2^20.</summary>
    private static SliceLayer ChannelSlice(OnnxOp op, Func<int[], Indexing.SliceAxis[]> axesFor, int channels, int rank)
    {
        const int big = 1 << 20;
        Indexing.SliceAxis[] small = axesFor([1, channels, 1, 1]), large = axesFor([1, channels, big, big]);
        bool Whole(Indexing.SliceAxis a, int n) => a.Start == 0 && a.Step == 1 && a.Count == n;
        if (rank != 4 || !Whole(small[0], 1) || !Whole(small[2], 1) || !Whole(small[3], 1) || !Whole(large[2], big) || !Whole(large[3], big)
            || small[1].Step != 1 || small[1].Count == 0)
            throw new ConvGLException($"{op.Where}: in a stack {op.Node.OpType} takes a run of channels (axis 1 of (N, C, H, W), step 1) and leaves N, H and W whole");
        return new SliceLayer(small[1].Start, small[1].Start + small[1].Count);
    }

    /// <summary>A Slice of (N, C, H, W) that leaves N whole and takes a run of channels (step 1): a slice layer, with the
    /// rows and columns it takes as the node gives them (any start, end and step: YOLOv5's Focus x[..., ::2, ::2], a crop,
    /// a flip), so the layer fits every map size as the model does.</summary>
    private static SliceLayer Slice(IReadOnlyDictionary<string, Tensor> known, SliceOp op, int channels, int rank, bool channelsLast = false)
    {
        (long Start, long End, long Step)[] r = op.Ranges(rank, op.Inputs.Skip(1).Select(v => v.Length == 0 ? null : Constant(known, op, v)).ToArray());
        // Of a channels-last (N, H, W, C) value (Keras' Cropping2D as tf2onnx may leave it): the same ranges read as (N, C, H, W).
        if (channelsLast && rank == 4) r = [r[0], r[3], r[1], r[2]];
        Indexing.SliceAxis n = rank == 4 ? Indexing.ClampSlice(r[0].Start, r[0].End, r[0].Step, 1) : default,
            ch = rank == 4 ? Indexing.ClampSlice(r[1].Start, r[1].End, r[1].Step, channels) : default;
        if (rank != 4 || n is not { Start: 0, Count: 1 } || ch.Step != 1 || ch.Count == 0)
            throw new ConvGLException($"{op.Where}: in a stack Slice takes a run of channels (axis 1 of (N, C, H, W), step 1) and any rows and columns, and leaves N whole");
        SliceRange? Spatial(int k) => r[k] == (0, long.MaxValue, 1) ? null : SliceRange.Of(r[k].Start, r[k].End, r[k].Step);
        bool whole = ch.Start == 0 && ch.Count == channels;
        SliceRange? rows = Spatial(2), cols = Spatial(3);
        if (whole && rows is not { IsWhole: false } && cols is not { IsWhole: false }) return new SliceLayer(0, channels);
        return new SliceLayer(ch.Start, whole && (rows is not null || cols is not null) ? null : ch.Start + ch.Count, rows, cols);
    }

    /// <summary>Two slices in a row, the first read by the second only, that take different axes (YOLOv5's Focus slices
    /// the rows, then the columns): one slice layer; null when they cannot merge.</summary>
    private static SliceLayer? Merged(SliceLayer first, SliceLayer second)
    {
        bool firstChannels = first.End is not null || first.Start > 0, secondChannels = second.End is not null || second.Start > 0;
        if ((firstChannels && secondChannels) || (first.Rows is not null && second.Rows is not null) || (first.Cols is not null && second.Cols is not null))
            return null;
        SliceLayer c = firstChannels ? first : second;
        return new SliceLayer(c.Start, c.End, first.Rows ?? second.Rows, first.Cols ?? second.Cols);
    }

    /// <summary>LayerNormalization over the last axis of a channels-last map: a layernorm layer over the channels.</summary>
    private static ChannelLayerNormLayer ChannelLayerNorm(IReadOnlyDictionary<string, Tensor> known, LayerNormOp ln, int channels, int rank = 4)
    {
        if (ln.AxisFor(rank) != rank - 1)
            throw new ConvGLException($"{ln.Where}: in a stack LayerNormalization on a channels-last map normalises the last axis (the channels), got axis {ln.Axis}");
        Tensor scale = Constant(known, ln, ln.Inputs[1]);
        Tensor? shift = ln.Inputs.Count > 2 && ln.Inputs[2].Length > 0 ? Constant(known, ln, ln.Inputs[2]) : null;
        if (scale.Length != channels || (shift is not null && shift.Length != channels))
            throw new ConvGLException($"{ln.Where}: scale {scale.ShapeString} and bias must hold one value per channel ({channels})");
        return new ChannelLayerNormLayer(new LayerNorm(scale.Data, shift?.Data ?? new float[channels], ln.Epsilon));
    }

    /// <summary>A channels-last map times a stored (C, C') weight: a 1x1 conv C -> C' (ConvNeXt's pointwise Linear).</summary>
    private static ConvLayer PointwiseConv(IReadOnlyDictionary<string, Tensor> known, MatMulOp mm, int channels)
    {
        Tensor w = Constant(known, mm, mm.Inputs[1]);
        if (w.Rank != 2 || w.Shape[0] != channels)
            throw new ConvGLException($"{mm.Where}: in a stack MatMul of a channels-last map takes a stored ({channels}, C') weight, got {w.ShapeString}");
        int cout = w.Shape[1];
        var weight = new Tensor([cout, channels, 1, 1]);
        for (int o = 0; o < cout; o++)
            for (int i = 0; i < channels; i++) weight.Data[o * channels + i] = w.Data[i * cout + o];
        return ConvLayer.FromOnnx(weight, null, new ConvOptions { Padding = PaddingMode.Explicit }, mm.Inputs[1], null);
    }

    /// <summary>x @ W on a head's (1, K) with a stored (K, N) W: a linear layer without bias.</summary>
    private static LinearLayer Linear(IReadOnlyDictionary<string, Tensor> known, MatMulOp mm, int rank)
    {
        Tensor w = Constant(known, mm, mm.Inputs[1]);
        if (rank != 2 || w.Rank != 2)
            throw new ConvGLException($"{mm.Where}: in a stack MatMul is a linear layer: a flattened (1, K) map times a stored (K, N) weight, got a rank-{rank} map and {w.ShapeString}");
        return new LinearLayer(Transpose(w), null, mm.Inputs[1], null);
    }

    /// <summary>A Squeeze of (N, C, 1, 1)'s two spatial axes (after a global pool): the head's (N, C), a flatten in a stack.</summary>
    private static bool SqueezesSpatial(IReadOnlyDictionary<string, Tensor> known, SqueezeOp sq) =>
        sq.StoredAxes(known, 4)?.Order().SequenceEqual([2L, 3L]) == true;

    private static Tensor Transpose(Tensor m)
    {
        int r = m.Shape[0], c = m.Shape[1];
        var t = new Tensor([c, r]);
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++)
                t.Data[j * r + i] = m.Data[i * c + j];
        return t;
    }
}
