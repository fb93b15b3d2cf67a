using System.Buffers;
using System.Text;
using System.Text.Json;
using ConvGL.Core.IO;
using ConvGL.Core.Ops;
using static ConvGL.Core.ErrorText;

namespace ConvGL.Core.Stacks;

/// <summary>Loads a stack file (DESIGN.md, "Stack files"): JSON with // and /* */ comments and trailing commas
/// allowed. Everything is validated before a stack is returned -- unknown fields, types and names, tensor
/// ranks and shapes, NaN/Inf weights, channel counts from the input through the last layer -- and every error
/// is one line naming the file, the layer index and the field.
///
/// Top level: <c>name</c> (string, default: the file name), <c>input</c> (gray|rgb, default gray),
/// <c>weights</c> (a safetensors file relative to the stack file), <c>description</c> (string), <c>layers</c>.
///
/// Layers (all accept <c>"name"</c>, a label):
/// - <c>conv</c>, learned: <c>weight</c> and optional <c>bias</c>: tensor names in <c>weights</c>, or paths to
///   .npy files (relative to the stack file); <c>groups</c> (default 1).
/// - <c>conv</c>, fixed: <c>kernels</c>: library kernel specs (<c>"sobel-x"</c>, <c>"gabor:theta=45,lambda=6"</c>)
///   or kernel files (text or .npy) relative to the stack file; <c>sum</c> (default false; see <see cref="ConvLayer"/>
///   for how a bank meets the input channels).
/// - both convs: <c>stride</c>, <c>dilation</c> (N or [y, x], default 1), <c>padding</c> (same|valid|full, N or
///   [y, x]; default same), <c>border</c> (zero|replicate|reflect|symmetric|wrap; default zero, as PyTorch's
///   layers), <c>mode</c> (correlate|convolve; default correlate).
/// - <c>relu</c>, <c>tanh</c>, <c>sigmoid</c>, <c>abs</c>, <c>hard_swish</c>, <c>softplus</c>, <c>softsign</c>, <c>mish</c>;
///   <c>leaky_relu</c> with <c>slope</c> (default 0.01); <c>elu</c>, <c>celu</c> (alpha not 0), <c>thresholded_relu</c>
///   with <c>alpha</c> (1); <c>selu</c> with <c>alpha</c>, <c>gamma</c> (ONNX's); <c>hard_sigmoid</c> with <c>alpha</c>
///   (0.2), <c>beta</c> (0.5).
/// - <c>maxpool</c>, <c>avgpool</c>: <c>size</c> (N or [y, x], required), <c>stride</c> (default size),
///   <c>padding</c> (N or [y, x], at most half the size; default 0).
/// - <c>magnitude</c>: sqrt(a^2 + b^2) of channel pairs (2i, 2i+1).
/// - <c>conv_transpose</c>: <c>weight</c> (C_in, C_out / groups, kH, kW), <c>bias</c>, <c>stride</c>, <c>dilation</c>,
///   <c>padding</c> (N, [y, x] or [top, left, bottom, right]), <c>output_padding</c>, <c>groups</c>.
/// - <c>resize</c>: <c>scale</c> (N or [y, x]) or <c>size</c> ([H, W]), <c>mode</c> (nearest, linear),
///   <c>coordinates</c> (ONNX's coordinate_transformation_mode names), <c>rounding</c> (nearest_mode's names).
/// - <c>clip</c> with <c>min</c> and / or <c>max</c> (ReLU6: 0 and 6); <c>prelu</c> with <c>slope</c> (a number or one per channel).
/// - <c>add</c> (two inputs of one shape), <c>mul</c> (two of one shape, or one (C, 1, 1) gate), <c>concat</c> (two or more inputs of one size, channels joined in order),
///   <c>pad</c> (<c>padding</c> N, [y, x] or [top, left, bottom, right], negative crops; <c>border</c>; <c>value</c>),
///   <c>globalavgpool</c> ((C, H, W) -> (C, 1, 1)), <c>flatten</c> (-> (C*H*W, 1, 1)), <c>softmax</c> and
///   <c>log_softmax</c> (over the channels at each pixel).
/// - every layer: <c>inputs</c>, the maps it reads (earlier layers' <c>name</c>s or indices, <c>"input"</c> or -1 for the
///   stack input); default the previous layer. <c>add</c> names two.</summary>
public static class StackFile
{
    private static readonly JsonDocumentOptions JsonOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Loads and validates a stack file. <paramref name="kernels"/> resolves a kernel spec to a (kH, kW)
    /// tensor (throwing <see cref="ConvGLException"/> for an unknown name); <paramref name="npy"/> reads a .npy
    /// file. Both default to Core's kernel library (and kernel files) and .npy reader.</summary>
    public static Stack Load(string path, Func<string, Tensor>? kernels = null, Func<string, Tensor>? npy = null)
    {
        byte[] bytes = BoundedFile.ReadAllBytes(path, Limits.StackFileBytes, "stack file");
        // An ONNX model under another name (the hostile-input audit's model saved as .json was "byte 8 (0xC9) is not UTF-8").
        if (LooksLikeOnnx(bytes))
            throw new ConvGLException($"{path}: an ONNX model (protobuf bytes), not a stack file: ConvGL reads a model by its .onnx name " +
                                      $"(rename it {Path.ChangeExtension(Path.GetFileName(path), ".onnx")})");
        ReadOnlySpan<byte> body = BoundedFile.WithoutBom(bytes);
        string text = Encoding.UTF8.GetString(body);
        // Bytes that are not UTF-8 became U+FFFD in the text (a name read as "\uFFFD\uFFFD", the fuzz audit): a file that
        // is not text at all is said as such by Parse; one with a stray byte in its text is one error naming where.
        if (!System.Text.Unicode.Utf8.IsValid(body) && NotJsonText(text) is null)
        {
            int at = FirstInvalidUtf8(body);
            int line = 1 + body[..at].Count((byte)'\n');
            throw new ConvGLException($"{path}: line {line}: byte {at + (bytes.Length - body.Length)} (0x{body[at]:X2}) is not UTF-8 text; save the file as UTF-8");
        }
        return Parse(text, path, kernels, npy);
    }

    /// <summary>Whether the text reads as a kernel file (rows of numbers, # comments).</summary>
    private static bool IsKernelText(string text, string path)
    {
        try
        {
            Kernels.KernelFile.ParseText(text, path);
            return true;
        }
        catch (ConvGLException)
        {
            return false;
        }
    }

    /// <summary>Whether System.Text.Json stopped at the end of the text: the JSON is cut short.</summary>
    private static bool EndsEarly(JsonException e) =>
        e.Message.Contains("end of data", StringComparison.Ordinal) ||
        e.Message.Contains("at the end of the JSON payload", StringComparison.Ordinal);

    /// <summary>Parses stack JSON; <paramref name="path"/> names it in errors and anchors relative paths.</summary>
    public static Stack Parse(string json, string path, Func<string, Tensor>? kernels = null, Func<string, Tensor>? npy = null)
    {
        // An empty file (or one of white space) is said so, not in System.Text.Json's words ("does not contain any JSON
        // tokens ... when isFinalBlock is true", a hostile-input review read).
        if (string.IsNullOrWhiteSpace(json))
            throw new ConvGLException($"{path}: the file is empty; a stack file is a JSON object with \"layers\" (assets/stacks/README.md)");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, JsonOptions);
        }
        catch (JsonException e)
        {
            if (NotJsonText(json) is { } what)
                throw new ConvGLException($"{path}: {what}, not a stack file (UTF-8 JSON text; an ONNX model goes by its .onnx name)", e);
            // A kernel file given as a stack (an audit: `--stack my-kernel.txt` said "'#' is an invalid start of a value").
            if (json.TrimStart() is { Length: > 0 } start && start[0] is not ('{' or '[') && IsKernelText(json, path))
                throw new ConvGLException($"{path}: rows of numbers, a kernel file, not a stack file (a JSON object with \"layers\"); " +
                                          $"a kernel runs as a single filter (--filter {path}) or as a stack layer's \"kernel\"", e);
            // Cut short (an audit: System.Text.Json's "does not contain any JSON tokens ... when isFinalBlock is true" for a
            // file cut inside its leading comments).
            if (e.Message.Contains("does not contain any JSON tokens", StringComparison.Ordinal))
                throw new ConvGLException($"{path}: no JSON after the comments (the file is cut short, or holds comments only); " +
                                          "a stack file is a JSON object with \"layers\" (assets/stacks/README.md)", e);
            // Text after the object's closing '}' (a second object, a stray ']'): System.Text.Json's "... is invalid after a
            // single JSON value. Expected end of data." read as "ends before it is complete" (the hostile-input audit).
            if (e.Message.Contains("is invalid after a single JSON value", StringComparison.Ordinal))
                throw new ConvGLException($"{path}: line {e.LineNumber + 1}, column {e.BytePositionInLine + 1}: more after the end of the stack's " +
                                          "JSON object; a stack file is one object: remove what follows its closing '}'", e);
            if (EndsEarly(e))
                throw new ConvGLException($"{path}: line {e.LineNumber + 1}: the JSON ends before it is complete (the file is cut short, " +
                                          "or a closing '}' or ']' is missing)", e);
            throw new ConvGLException($"{path}: line {e.LineNumber + 1}: not valid JSON: {Echo(ErrorText.JsonReason(e.Message), 160)}", e);
        }
        using (doc)
        {
            JsonText.CheckStrings(doc.RootElement, (where, e) => new ConvGLException($"{path}: {where} {JsonText.NotText}", e));
            string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
            return new Parser(path, kernels ?? (spec => StackDefaults.Kernel(spec, dir)), npy ?? StackDefaults.Npy).Stack(doc.RootElement);
        }
    }

    /// <summary>The offset of the first byte of <paramref name="b"/> that does not start or continue a valid UTF-8 sequence.</summary>
    private static int FirstInvalidUtf8(ReadOnlySpan<byte> b)
    {
        int i = 0;
        while (i < b.Length)
        {
            OperationStatus status = System.Text.Rune.DecodeFromUtf8(b[i..], out _, out int used);
            if (status != OperationStatus.Done) return i;
            i += used;
        }
        return b.Length - 1;
    }

    /// <summary>Whether <paramref name="b"/> begins as an ONNX ModelProto does: field 1 (ir_version, a varint of 1 to 20)
    /// followed by another of its fields' tags (producer name or version, domain, model version, doc string, graph,
    /// opset import, metadata, functions). No JSON text begins with byte 8.</summary>
    public static bool LooksLikeOnnx(ReadOnlySpan<byte> b) =>
        b.Length >= 3 && b[0] == 0x08 && b[1] is >= 1 and <= 20 && b[2] is 0x12 or 0x1A or 0x22 or 0x28 or 0x32 or 0x3A or 0x42 or 0x72 or 0x7A;

    /// <summary>What a file that is not JSON text at all looks like from its first characters (a picture, UTF-16 text,
    /// other binary data), or null: System.Text.Json's own message ("'0xEF' is an invalid start of a value") names
    /// a byte of the replacement character the UTF-8 decoding made.</summary>
    private static string? NotJsonText(string text)
    {
        string head = text.Length > 64 ? text[..64] : text;
        if (head.StartsWith("\uFFFDPNG", StringComparison.Ordinal)) return "a PNG image";
        if (head.StartsWith("\uFFFD\uFFFD\uFFFD", StringComparison.Ordinal) && head.Contains("JFIF", StringComparison.Ordinal)) return "a JPEG image";
        if (head.Contains('\0')) return "binary data or UTF-16 text (it holds NUL bytes)";
        if (head.StartsWith('\uFFFD')) return "binary data (its first byte is not text)";
        return null;
    }

    /// <summary>One parse: knows the file, tracks the channel count, reads tensors once.</summary>
    private sealed class Parser(string path, Func<string, Tensor> kernels, Func<string, Tensor> npy)
    {
        private readonly string _dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        private IReadOnlyDictionary<string, Tensor>? _weights;
        private IReadOnlyDictionary<string, string> _dtypes = new Dictionary<string, string>();
        /// <summary>Weights of the conv layers read so far, against <see cref="Limits.StackWeights"/>.</summary>
        private long _weightCount;
        private string? _weightsPath;

        private ConvGLException Top(string field, string message) => new($"{path}: field '{field}': {message}");

        /// <summary>Why a name or description cannot be shown as it is (the HUD and the commands print them: a control
        /// character would move the terminal's cursor or colour it), or null when it can.</summary>
        private static string? Printable(string text, int max) =>
            text.Length > max ? $"is {text.Length} characters long; keep it to {max}"
            : !ErrorText.IsOneLine(text) ? $"holds a control character, a line break or a bidirectional override ('{ErrorText.Echo(text)}'); names and descriptions are one line of printable text"
            : null;

        public Stack Stack(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object) throw new ConvGLException($"{path}: a stack file must hold a JSON object, found {Kind(root)}");
            var fields = Fields(root, null, ["name", "input", "weights", "description", "layers"]);

            string name = Path.GetFileNameWithoutExtension(path);
            if (fields.TryGetValue("name", out JsonElement n))
                name = n.ValueKind == JsonValueKind.String && n.GetString()!.Length > 0 ? n.GetString()! : throw Top("name", "must be a non-empty string");
            if (Printable(name, Limits.StackNameChars) is { } badName) throw Top("name", badName);
            string? description = null;
            if (fields.TryGetValue("description", out JsonElement d))
                description = d.ValueKind == JsonValueKind.String ? d.GetString() : throw Top("description", "must be a string");
            if (description is not null && Printable(description, Limits.StackDescriptionChars) is { } badDescription) throw Top("description", badDescription);

            StackInput input = StackInput.Gray;
            if (fields.TryGetValue("input", out JsonElement inp))
            {
                input = (inp.ValueKind == JsonValueKind.String ? inp.GetString() : null) switch
                {
                    "gray" => StackInput.Gray,
                    "rgb" => StackInput.Rgb,
                    _ => throw Top("input", $"must be \"gray\" or \"rgb\", found {Raw(inp)}"),
                };
            }

            string? weightsFile = null;
            if (fields.TryGetValue("weights", out JsonElement wf))
            {
                if (wf.ValueKind != JsonValueKind.String || wf.GetString()!.Length == 0) throw Top("weights", "must be a path to a .safetensors file, relative to the stack file");
                weightsFile = wf.GetString()!;
                _weightsPath = Path.Combine(_dir, weightsFile);
                if (!File.Exists(_weightsPath))
                    throw Top("weights", Directory.Exists(_weightsPath) ? $"'{_weightsPath}' is a folder; name a .safetensors file" : $"file '{_weightsPath}' does not exist");
                try
                {
                    SafeTensorsContent content = SafeTensors.ReadContent(_weightsPath);
                    _weights = content.Tensors;
                    _dtypes = content.DTypes;
                }
                catch (ConvGLException e)
                {
                    throw Top("weights", e.Message);
                }
            }

            if (!fields.TryGetValue("layers", out JsonElement layersEl)) throw Top("layers", "is missing: a stack needs a list of layers");
            if (layersEl.ValueKind != JsonValueKind.Array || layersEl.GetArrayLength() == 0) throw Top("layers", "must be a non-empty array of layer objects");
            if (layersEl.GetArrayLength() > Limits.Layers)
                throw Top("layers", $"has {layersEl.GetArrayLength()} layers, over the limit of {Limits.Layers}; split the stack");

            var layers = new List<StackLayer>();
            int inputChannels = input == StackInput.Gray ? 1 : 3;
            var channels = new List<int>();
            var names = new Dictionary<string, int>(StringComparer.Ordinal) { ["input"] = -1 };
            int index = 0;
            foreach (JsonElement el in layersEl.EnumerateArray())
            {
                int[]? reads = el.ValueKind == JsonValueKind.Object && el.TryGetProperty("inputs", out JsonElement ie) ? Inputs(ie, index, names) : null;
                int[] from = reads ?? [index - 1];
                int[] inChannels = from.Select(j => j < 0 ? inputChannels : channels[j]).ToArray();
                StackLayer layer = Layer(el, index, inChannels[0], from.Length);
                if (from.Length != layer.InputCount)
                    throw new ConvGLException($"{path}: layers[{index}] ({layer.Type}) field 'inputs': names {from.Length} map(s), this type reads {layer.InputCount}");
                layer.Inputs = reads;
                int next = layer.OutputChannels(inChannels, out string? error);
                if (error is not null)
                {
                    // Heads that do not divide the channels: the "heads" field is the one to change (a typed count, not the maps).
                    string field = layer is AttentionLayer att && inChannels.Length == 3 && inChannels[0] == inChannels[1]
                                   && !att.HeadsFit(inChannels[0], inChannels[2]) ? "heads"
                        : reads is null ? ChannelField(layer) : "inputs";
                    throw new ConvGLException($"{path}: layers[{index}] ({layer.Type}) field '{field}': {error}");
                }
                channels.Add(next);
                layers.Add(layer);
                // A name two layers share refers to neither (Inputs refuses it): labels need not be unique, references must be.
                if (layer.Label is { Length: > 0 } label) names[label] = label == "input" ? InputNamed : names.ContainsKey(label) ? Shared : index;
                index++;
            }
            return new Stack(name, input, layers, weightsFile) { SourcePath = path, Description = description };
        }

        /// <summary>The index recorded for a name that more than one layer has.</summary>
        private const int Shared = int.MinValue;

        /// <summary>The index recorded for "input" once a layer is named "input": it would name both that layer and the
        /// stack input (a review's relu "of the layer named input" read the stack input silently).</summary>
        private const int InputNamed = int.MinValue + 1;

        /// <summary>A layer's <c>"inputs"</c>: earlier layers by <c>"name"</c> or index, <c>"input"</c> (or -1) for the stack input.</summary>
        private int[] Inputs(JsonElement el, int index, Dictionary<string, int> names)
        {
            ConvGLException Bad(string m) => new($"{path}: layers[{index}] field 'inputs': {m}");
            if (el.ValueKind != JsonValueKind.Array || el.GetArrayLength() is < 1 or > 8)
                throw Bad("must be an array of 1 to 8 earlier layers (their \"name\" or index) or \"input\"");
            var reads = new List<int>();
            foreach (JsonElement e in el.EnumerateArray())
            {
                if (e.ValueKind == JsonValueKind.String)
                    reads.Add(!names.TryGetValue(e.GetString()!, out int j)
                        ? throw Bad($"no earlier layer is named '{Echo(e.GetString()!)}' (names so far: {string.Join(", ", names.Keys.Select(k => Echo(k)))})")
                        : j == Shared ? throw Bad($"more than one earlier layer is named '{Echo(e.GetString()!)}'; refer to the one meant by its index")
                        : j == InputNamed ? throw Bad("'input' names the stack input and an earlier layer named \"input\"; refer to the stack input as -1 and to the layer by its index") : j);
                else if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int k) && k >= -1 && k < index)
                    reads.Add(k);
                else
                    throw Bad($"{Raw(e)} is not an earlier layer's name or index (0 to {index - 1}, or -1 for the stack input)");
            }
            return reads.ToArray();
        }

        private static string ChannelField(StackLayer layer) => layer switch
        {
            ConvLayer { IsFixed: true } => "kernels",
            ConvLayer or ConvTransposeLayer => "weight",
            // The field whose value the channel count does not fit.
            PReluLayer => "slope",
            ChannelShuffleLayer => "groups",
            SliceLayer { End: null } => "start",
            SliceLayer => "end",
            DepthToSpaceLayer => "block",
            _ => "type",
        };

        private StackLayer Layer(JsonElement el, int index, int channels, int reads)
        {
            if (el.ValueKind != JsonValueKind.Object) throw new ConvGLException($"{path}: layers[{index}]: must be an object with a \"type\", found {Kind(el)}");
            if (!el.TryGetProperty("type", out JsonElement typeEl) || typeEl.ValueKind != JsonValueKind.String)
                throw new ConvGLException($"{path}: layers[{index}] field 'type': missing or not a string (e.g. \"conv\", \"relu\", \"maxpool\", \"magnitude\"; every type: assets/stacks/README.md)");
            string type = typeEl.GetString()!;
            var at = new LayerContext(path, index, type);
            string? label = null;
            if (el.TryGetProperty("name", out JsonElement labelEl))
                label = labelEl.ValueKind == JsonValueKind.String ? labelEl.GetString() : throw at.Error("name", "must be a string");
            if (label is not null && Printable(label, Limits.StackNameChars) is { } badLabel) throw at.Error("name", badLabel);

            StackLayer layer;
            if (type == "conv")
            {
                layer = Conv(el, at, channels);
            }
            else if (type is "maxpool" or "avgpool")
            {
                layer = Pool(el, at, type == "maxpool" ? PoolKind.Max : PoolKind.Average);
            }
            else if (type == "magnitude")
            {
                Fields(el, at, ["type", "name", "inputs"]);
                layer = new MagnitudeLayer();
            }
            else if (type == "batchnorm")
            {
                layer = BatchNormFields(el, at, channels);
            }
            else if (type == "instancenorm")
            {
                layer = InstanceNormFields(el, at, channels);
            }
            else if (type == "groupnorm")
            {
                var f = Fields(el, at, ["type", "name", "inputs", "groups", "scale", "shift", "epsilon"]);
                if (!f.TryGetValue("groups", out JsonElement ge)) throw at.Error("groups", "is missing (how many groups of channels share their statistics, e.g. 32)");
                int groups = Int(ge, "groups", at, 1);
                if (channels % groups != 0) throw at.Error("groups", $"{groups} groups do not divide the {channels} channels of {at.Source}; each group takes an equal share");
                (string scaleName, float[] scale) = ChannelVector(f, "scale", at, channels);
                (string shiftName, float[] shift) = ChannelVector(f, "shift", at, channels);
                float epsilon = f.TryGetValue("epsilon", out JsonElement e) ? Finite(e, "epsilon", at) : 1e-5f;
                if (epsilon < 0) throw at.Error("epsilon", $"must not be negative, found {epsilon}");
                layer = new GroupNormLayer(new InstanceNorm(scale, shift, epsilon), groups) { ScaleName = scaleName, ShiftName = shiftName };
            }
            else if (type == "layernorm")
            {
                var f = Fields(el, at, ["type", "name", "inputs", "scale", "shift", "epsilon"]);
                (string scaleName, float[] scale) = ChannelVector(f, "scale", at, channels);
                (string shiftName, float[] shift) = ChannelVector(f, "shift", at, channels);
                float epsilon = f.TryGetValue("epsilon", out JsonElement e) ? Finite(e, "epsilon", at) : 1e-5f;
                if (epsilon < 0) throw at.Error("epsilon", $"must not be negative, found {epsilon}");
                layer = new ChannelLayerNormLayer(new LayerNorm(scale, shift, epsilon)) { ScaleName = scaleName, ShiftName = shiftName };
            }
            else if (type == "lrn")
            {
                layer = LrnFields(el, at);
            }
            else if (type == "linear")
            {
                layer = Linear(el, at);
            }
            else if (type == "concat")
            {
                Fields(el, at, ["type", "name", "inputs"]);
                if (reads < 2) throw at.Error("inputs", "concat joins two or more maps: name them in \"inputs\"");
                layer = new ConcatLayer(reads);
            }
            else if (type == "pad")
            {
                layer = PadFields(el, at, reads);
            }
            else if (type == "conv_transpose")
            {
                layer = ConvTransposeFields(el, at);
            }
            else if (type is "depth_to_space" or "space_to_depth")
            {
                var f = Fields(el, at, type == "depth_to_space" ? ["type", "name", "inputs", "block", "mode"] : ["type", "name", "inputs", "block"]);
                if (!f.TryGetValue("block", out JsonElement be)) throw at.Error("block", "is missing (the block size, e.g. 2)");
                int block = Int(be, "block", at, 1);
                DepthToSpaceMode mode = !f.TryGetValue("mode", out JsonElement me) ? DepthToSpaceMode.Dcr
                    : (me.ValueKind == JsonValueKind.String ? me.GetString() : null) switch
                    {
                        "dcr" => DepthToSpaceMode.Dcr,
                        "crd" => DepthToSpaceMode.Crd,
                        _ => throw at.Error("mode", $"must be dcr or crd (PyTorch's PixelShuffle), found {Raw(me)}"),
                    };
                layer = new DepthToSpaceLayer(block, type == "depth_to_space", mode);
            }
            else if (Enum.GetValues<UnaryKind>().FirstOrDefault(k => k.Name() == type) is var unary && unary.Name() == type)
            {
                Fields(el, at, ["type", "name", "inputs"]);
                layer = new UnaryLayer(unary);
            }
            else if (type == "channel_shuffle")
            {
                var f = Fields(el, at, ["type", "name", "inputs", "groups"]);
                if (!f.TryGetValue("groups", out JsonElement ge)) throw at.Error("groups", "is missing (the groups the channels are seen as, e.g. 2)");
                layer = new ChannelShuffleLayer(Int(ge, "groups", at, 1));
            }
            else if (type == "slice")
            {
                var f = Fields(el, at, ["type", "name", "inputs", "start", "end", "rows", "cols"]);
                SliceRange? rows = f.TryGetValue("rows", out JsonElement re) ? Range(re, "rows", at) : null;
                SliceRange? cols = f.TryGetValue("cols", out JsonElement ce) ? Range(ce, "cols", at) : null;
                bool spatial = rows is { IsWhole: false } || cols is { IsWhole: false };
                if (!spatial && !f.ContainsKey("start")) throw at.Error("start", "is missing (the first channel taken, from 0; or give rows / cols)");
                // (`start` alone takes the channels to the last, as the format says: a review found it refused, "'end' is missing".)
                int start = f.TryGetValue("start", out JsonElement se) ? Int(se, "start", at, 0) : 0;
                int? end = f.TryGetValue("end", out JsonElement ee) ? Int(ee, "end", at, 1) : null;
                if (end <= start) throw at.Error("end", $"must be greater than start ({start}), found {end}");
                if (!spatial && start == 0 && end is null)
                    throw at.Error("start", "0 alone takes every channel, which is no slice; give end (one past the last channel taken), or rows / cols");
                layer = new SliceLayer(start, end, rows, cols);
            }
            else if (type == "resize")
            {
                layer = ResizeFields(el, at, reads);
            }
            else if (type == "prelu")
            {
                var f = Fields(el, at, ["type", "name", "inputs", "slope"]);
                if (!f.TryGetValue("slope", out JsonElement sl)) throw at.Error("slope", "is missing (a number, or an array of one number per channel)");
                float[] slopes = sl.ValueKind == JsonValueKind.Array && sl.GetArrayLength() is >= 1 and <= Limits.StackChannels
                    ? sl.EnumerateArray().Select(v => Finite(v, "slope", at)).ToArray()
                    : sl.ValueKind == JsonValueKind.Number ? [Finite(sl, "slope", at)]
                    : throw at.Error("slope", $"must be a number or an array of 1 to {Limits.StackChannels} numbers, found {Raw(sl)}");
                layer = new PReluLayer(slopes);
            }
            else if (type == "clip")
            {
                var f = Fields(el, at, ["type", "name", "inputs", "min", "max"]);
                var clip = new ActivationLayer(ActivationKind.Clip)
                {
                    Min = f.TryGetValue("min", out JsonElement lo) ? Finite(lo, "min", at) : float.NegativeInfinity,
                    Max = f.TryGetValue("max", out JsonElement hi) ? Finite(hi, "max", at) : float.PositiveInfinity,
                };
                // min(max(x, 5), 1) is 1 everywhere: a typo, not a clip (an imported ONNX Clip with min > max is written as min = max).
                if (clip.Min > clip.Max)
                    throw at.Error("min", $"{clip.Min} is above 'max' {clip.Max}; a clip's min must be at most its max (swap them?)");
                layer = clip;
            }
            else if (type is "softmax" or "log_softmax")
            {
                Fields(el, at, ["type", "name", "inputs"]);
                layer = new SoftmaxLayer(type == "log_softmax");
            }
            else if (type is "sub" or "div" or "max" or "min" or "pow")
            {
                // Two maps, or one map and a number ("value": x^2, max(x, 0)).
                var f = Fields(el, at, ["type", "name", "inputs", "value"]);
                float? value = f.TryGetValue("value", out JsonElement v) ? Finite(v, "value", at) : null;
                if (value is not null && reads > 1)
                    throw at.Error("value", $"a {type} of a map and a number reads one map, but \"inputs\" names {reads}; drop \"value\" for two maps, or name one input");
                if (value is null && reads < 2)
                    throw at.Error("inputs", $"a {type} reads two maps (\"inputs\": [a, b]), or one map and a number (\"value\")");
                layer = new ElementwiseLayer(type switch
                {
                    "sub" => BinaryKind.Sub, "div" => BinaryKind.Div, "max" => BinaryKind.Max, "min" => BinaryKind.Min, _ => BinaryKind.Pow,
                }, value);
            }
            else if (type == "flatten")
            {
                var f = Fields(el, at, ["type", "name", "inputs", "values", "order"]);
                bool hwc = false;
                if (f.TryGetValue("order", out JsonElement order))
                    hwc = order.ValueKind == JsonValueKind.String && order.GetString() is "chw" or "hwc"
                        ? order.GetString() == "hwc"
                        : throw at.Error("order", "must be \"chw\" (channel by channel, PyTorch's Flatten; the default) or \"hwc\" (pixel by pixel, Keras' Flatten)");
                layer = new FlattenLayer { Values = f.TryGetValue("values", out JsonElement v) ? PositiveValues(v, at) : null, ChannelsLast = hwc };
            }
            else if (type is "add" or "mul" or "globalavgpool" or "globalmaxpool" or "coords")
            {
                // A number added or multiplied: said how (sub and div take one), not only "unknown field".
                if (type is "add" or "mul" && el.TryGetProperty("value", out _))
                    throw at.Error("value", type == "add" ? "an add takes two maps; for x + k use {\"type\": \"sub\", \"value\": -k}"
                        : "a mul takes two maps; for x * k use {\"type\": \"div\", \"value\": 1/k}, or a batchnorm with scale k");
                Fields(el, at, ["type", "name", "inputs"]);
                layer = type switch
                {
                    "add" => new AddLayer(), "mul" => new MulLayer(),
                    "globalavgpool" => new GlobalAvgPoolLayer(), "globalmaxpool" => new GlobalMaxPoolLayer(),
                    _ => new CoordsLayer(),
                };
            }
            else if (type == "attention")
            {
                var f = Fields(el, at, ["type", "name", "inputs", "scale", "heads"]);
                if (reads != 3) throw at.Error("inputs", $"attention reads three maps, \"inputs\": [q, k, v] (query, keys, values), got {reads}");
                float? scale = f.TryGetValue("scale", out JsonElement sc) ? Finite(sc, "scale", at) : null;
                layer = new AttentionLayer(scale, f.TryGetValue("heads", out JsonElement he) ? Int(he, "heads", at, 1) : 1);
            }
            else if (type == "reduce_channels")
            {
                var f = Fields(el, at, ["type", "name", "inputs", "op"]);
                if (!f.TryGetValue("op", out JsonElement opEl)) throw at.Error("op", "missing: mean, max, min or sum (each pixel's values over the channels reduced to one)");
                string? op = opEl.ValueKind == JsonValueKind.String ? opEl.GetString() : null;
                layer = new ChannelReduceLayer(op switch
                {
                    "mean" => ReduceKind.Mean, "max" => ReduceKind.Max, "min" => ReduceKind.Min, "sum" => ReduceKind.Sum,
                    _ => throw at.Error("op", $"{(op is null ? $"must be a string, got {opEl.ValueKind.ToString().ToLowerInvariant()}" : $"unknown '{Echo(op)}'")}; use mean, max, min or sum"),
                });
            }
            else if (Activation.TryParse(type, out ActivationKind kind) && type == kind.Name() && kind != ActivationKind.Clip)
            {
                // leaky_relu: slope; elu, celu, thresholded_relu: alpha; selu: alpha, gamma; hard_sigmoid: alpha, beta (ONNX's defaults).
                string[] parameters = kind switch
                {
                    ActivationKind.LeakyRelu => ["slope"],
                    ActivationKind.Elu or ActivationKind.Celu or ActivationKind.ThresholdedRelu => ["alpha"],
                    ActivationKind.Selu => ["alpha", "gamma"],
                    ActivationKind.HardSigmoid => ["alpha", "beta"],
                    _ => [],
                };
                var f = Fields(el, at, ["type", "name", "inputs", .. parameters]);
                (float alpha, float beta) = Activation.Defaults(kind);
                if (f.TryGetValue(kind == ActivationKind.LeakyRelu ? "slope" : "alpha", out JsonElement s)) alpha = Finite(s, kind == ActivationKind.LeakyRelu ? "slope" : "alpha", at);
                if (f.TryGetValue(kind == ActivationKind.Selu ? "gamma" : "beta", out JsonElement b)) beta = Finite(b, kind == ActivationKind.Selu ? "gamma" : "beta", at);
                if (kind == ActivationKind.Celu && alpha == 0) throw at.Error("alpha", "must not be 0 (celu divides by it)");
                layer = new ActivationLayer(kind, alpha) { Beta = beta };
            }
            else
            {
                // A typo of a known type is named (the whole list wrapped to 24 lines in the window's error panel).
                // The kernel library's rule: in any case, one or two edits away (a name of 64 or more is nobody's typo).
                string near = type.Length <= 64 ? Kernels.KernelLibrary.DidYouMean(type, Types.Split(", ")) : "";
                throw at.Error("type", near.Length == 0
                    ? $"unknown layer type '{Echo(type)}' (types: {Types})"
                    : $"unknown layer type '{Echo(type)}': {near}(every type: assets/stacks/README.md)");
            }
            layer.Label = label;
            return layer;
        }

        private const string Types = "conv, conv_transpose, relu, leaky_relu, tanh, sigmoid, abs, elu, selu, hard_sigmoid, hard_swish, softplus, softsign, celu, thresholded_relu, mish, gelu, gelu_tanh, silu, clip, prelu, neg, exp, log, sqrt, reciprocal, floor, ceil, sign, erf, maxpool, avgpool, magnitude, add, mul, sub, div, max, min, pow, reduce_channels, attention, coords, concat, pad, resize, depth_to_space, space_to_depth, globalavgpool, globalmaxpool, flatten, softmax, log_softmax, batchnorm, instancenorm, groupnorm, layernorm, lrn, linear, slice, channel_shuffle";

        private static float Finite(JsonElement el, string field, LayerContext at) =>
            el.ValueKind == JsonValueKind.Number && el.TryGetDouble(out double v) && double.IsFinite(v) && float.IsFinite((float)v) ? (float)v
                : throw at.Error(field, $"must be a finite number, found {Raw(el)}");

        /// <summary>A transposed conv: weight (C_in, C_out / groups, kH, kW), bias, stride, dilation, padding (N, [y, x] or
        /// [top, left, bottom, right]), output_padding, groups.</summary>
        private ConvTransposeLayer ConvTransposeFields(JsonElement el, LayerContext at)
        {
            var f = Fields(el, at, ["type", "name", "inputs", "weight", "bias", "stride", "dilation", "padding", "output_padding", "groups"]);
            if (!f.TryGetValue("weight", out JsonElement we)) throw at.Error("weight", "is missing (a tensor name or .npy path: (C_in, C_out / groups, kH, kW))");
            (string weightName, Tensor weight) = ReadTensor(we, "weight", at);
            if (weight.Rank != 4) throw at.Error("weight", $"'{Echo(weightName)}' has shape {weight.ShapeString}; it must be (C_in, C_out / groups, kH, kW)");
            CheckFinite(weight, weightName, "weight", at);
            CountWeights(weight.Length, "weight", at);
            string? biasName = null;
            float[]? bias = null;
            int groups = f.TryGetValue("groups", out JsonElement ge) ? Int(ge, "groups", at, 1) : 1;
            if (f.TryGetValue("bias", out JsonElement be))
            {
                (biasName, Tensor b) = ReadTensor(be, "bias", at);
                if (b.Rank != 1 || b.Length != weight.Shape[1] * groups)
                    throw at.Error("bias", $"'{Echo(biasName)}' has shape {b.ShapeString}; it must be ({weight.Shape[1] * groups},), one value per output channel");
                CheckFinite(b, biasName, "bias", at);
                bias = b.Data;
            }
            (int sy, int sx) = Pair(f, "stride", at, 1, min: 1);
            (int dy, int dx) = Pair(f, "dilation", at, 1, min: 1);
            (int oy, int ox) = Pair(f, "output_padding", at, 0, min: 0);
            int[] pads = f.TryGetValue("padding", out JsonElement pe) && pe.ValueKind == JsonValueKind.Array && pe.GetArrayLength() == 4
                ? Pads(pe, "padding", at) : Pair(f, "padding", at, 0, min: 0) is var (y, x) ? [y, x, y, x] : [];
            var options = new ConvTransposeOptions
            {
                StrideY = sy, StrideX = sx, DilationY = dy, DilationX = dx, PadTop = pads[0], PadLeft = pads[1], PadBottom = pads[2], PadRight = pads[3],
                OutputPadY = oy, OutputPadX = ox, Groups = groups,
            };
            try
            {
                return new ConvTransposeLayer(weight, bias, options, weightName, biasName);
            }
            catch (ConvGLException e)
            {
                throw at.Error("output_padding", e.Message);
            }
        }

        /// <summary>A resize layer: <c>scale</c> (N or [y, x]) or <c>size</c> ([H, W]), <c>mode</c>, <c>coordinates</c>, <c>rounding</c>.</summary>
        /// <summary>A resize layer: <c>scale</c> or <c>size</c>, or neither when it reads two maps (to the second's size).</summary>
        private ResizeLayer ResizeFields(JsonElement el, LayerContext at, int reads)
        {
            var f = Fields(el, at, ["type", "name", "inputs", "scale", "size", "mode", "coordinates", "rounding", "cubic_a", "exclude_outside"]);
            var o = new ResizeOptions();
            bool toSecond = reads == 2;
            if (toSecond && (f.ContainsKey("scale") || f.ContainsKey("size")))
                throw at.Error(f.ContainsKey("scale") ? "scale" : "size", "a resize that reads two maps takes the second's size; give no scale or size (or read one map)");
            if (!toSecond && f.ContainsKey("scale") == f.ContainsKey("size"))
                throw at.Error("scale", "give exactly one of \"scale\" (N or [y, x]) and \"size\" ([H, W]), or read two maps (\"inputs\": [x, like]) to resize to the second's size");
            if (f.TryGetValue("scale", out JsonElement se))
            {
                float[] sc = se.ValueKind == JsonValueKind.Array && se.GetArrayLength() == 2 ? [Finite(se[0], "scale", at), Finite(se[1], "scale", at)]
                    : se.ValueKind == JsonValueKind.Number ? [Finite(se, "scale", at), Finite(se, "scale", at)]
                    : throw at.Error("scale", $"must be a number or [y, x], found {Raw(se)}");
                if (sc.Any(v => !(v > 0 && v <= 1 << 16))) throw at.Error("scale", $"must be positive and at most 65536, found {Raw(se)}");
                o = o with { ScaleY = sc[0], ScaleX = sc[1] };
            }
            else if (!toSecond)
            {
                JsonElement ze = f["size"];
                if (ze.ValueKind != JsonValueKind.Array || ze.GetArrayLength() != 2) throw at.Error("size", $"must be [H, W], found {Raw(ze)}");
                o = o with { SizeY = Int(ze[0], "size", at, 1), SizeX = Int(ze[1], "size", at, 1) };
            }
            string Choice(string field, string fallback, string[] names)
            {
                if (!f.TryGetValue(field, out JsonElement v)) return fallback;
                string? text = v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                return text is not null && names.Contains(text) ? text : throw at.Error(field, $"must be one of {string.Join(", ", names)}, found {Raw(v)}");
            }
            string mode = Choice("mode", "nearest", ["nearest", "linear", "cubic"]);
            string[] coordinateNames = Enum.GetValues<ResizeCoordinates>().Select(ResizeLayer.Name).ToArray();
            string[] roundingNames = Enum.GetValues<ResizeRounding>().Select(ResizeLayer.Name).ToArray();
            string coordinates = Choice("coordinates", "half_pixel", coordinateNames), rounding = Choice("rounding", "round_prefer_floor", roundingNames);
            if (mode != "cubic" && (f.ContainsKey("cubic_a") || f.ContainsKey("exclude_outside")))
                throw at.Error(f.ContainsKey("cubic_a") ? "cubic_a" : "exclude_outside", "applies to mode cubic only");
            return new ResizeLayer(o with
            {
                Mode = mode switch { "linear" => ResizeMode.Linear, "cubic" => ResizeMode.Cubic, _ => ResizeMode.Nearest },
                CubicA = f.TryGetValue("cubic_a", out JsonElement ca) ? Finite(ca, "cubic_a", at) : -0.75f,
                ExcludeOutside = Bool(f, "exclude_outside", at, false),
                Coordinates = Enum.GetValues<ResizeCoordinates>()[Array.IndexOf(coordinateNames, coordinates)],
                Rounding = Enum.GetValues<ResizeRounding>()[Array.IndexOf(roundingNames, rounding)],
            }, toSecond);
        }

        /// <summary>A pad layer: <c>padding</c> N, [y, x] or [top, left, bottom, right] (negative crops),
        /// <c>border</c> (default zero) and <c>value</c> (the zero border's fill).</summary>
        private PadLayer PadFields(JsonElement el, LayerContext at, int reads)
        {
            var f = Fields(el, at, ["type", "name", "inputs", "padding", "border", "value"]);
            bool toSecond = reads == 2;
            if (toSecond && f.ContainsKey("padding")) throw at.Error("padding", "a pad that reads two maps pads the first to the second's size; give no padding (or read one map)");
            if (!toSecond && !f.ContainsKey("padding")) throw at.Error("padding", "is missing (N, [y, x] or [top, left, bottom, right]; or read two maps, \"inputs\": [x, like], to pad to the second's size)");
            int[] pads = toSecond ? [0, 0, 0, 0]
                : f["padding"] is var pe && pe.ValueKind == JsonValueKind.Array && pe.GetArrayLength() == 4 ? pe.EnumerateArray().Select(v => Int(v, "padding", at, -4096)).ToArray()
                : Pair(f, "padding", at, 0, min: -4096) is var (y, x) ? [y, x, y, x] : [];
            Border border = Border.Zero;
            if (f.TryGetValue("border", out JsonElement b) && (b.ValueKind != JsonValueKind.String || !Borders.TryParse(b.GetString()!, out border)))
                throw at.Error("border", $"must be one of {Borders.Names}, found {Raw(b)}");
            float value = 0f;
            if (f.TryGetValue("value", out JsonElement v))
            {
                if (border != Border.Zero) throw at.Error("value", $"fills a zero border only; this layer's border is {border.Name()}");
                value = Finite(v, "value", at);
            }
            return new PadLayer(new PadOptions(pads[0], pads[1], pads[2], pads[3], border, value), toSecond);
        }

        private StackLayer Conv(JsonElement el, LayerContext at, int channels)
        {
            var f = Fields(el, at, ["type", "name", "inputs", "weight", "bias", "kernels", "sum", "groups", "stride", "dilation", "padding", "border", "mode"]);
            bool learned = f.ContainsKey("weight"), fixedBank = f.ContainsKey("kernels");
            if (learned && fixedBank) throw at.Error("kernels", "a conv takes either \"weight\" (learned) or \"kernels\" (fixed), not both");
            if (!learned && !fixedBank) throw at.Error("weight", "a conv needs \"weight\" (a tensor name or .npy path) or \"kernels\" (library kernel names)");

            (int sy, int sx) = Pair(f, "stride", at, 1, min: 1);
            (int dy, int dx) = Pair(f, "dilation", at, 1, min: 1);
            var options = new ConvOptions { StrideY = sy, StrideX = sx, DilationY = dy, DilationX = dx };
            if (f.TryGetValue("padding", out JsonElement p))
            {
                if (p.ValueKind == JsonValueKind.String)
                {
                    options = options with
                    {
                        Padding = p.GetString() switch
                        {
                            "same" => PaddingMode.Same,
                            "valid" => PaddingMode.Valid,
                            "full" => PaddingMode.Full,
                            "same_upper" => PaddingMode.SameUpper,
                            "same_lower" => PaddingMode.SameLower,
                            _ => throw at.Error("padding", $"must be same, valid, full, same_upper, same_lower, an integer, [y, x] or [top, left, bottom, right], found {Raw(p)}"),
                        },
                    };
                }
                else if (p.ValueKind == JsonValueKind.Array && p.GetArrayLength() == 4)
                {
                    int[] pads = Pads(p, "padding", at);
                    options = options with { Padding = PaddingMode.Explicit, PadY = pads[0], PadX = pads[1], PadBottom = pads[2], PadRight = pads[3] };
                }
                else
                {
                    (int py, int px) = Pair(f, "padding", at, 0, min: 0);
                    options = options with { Padding = PaddingMode.Explicit, PadY = py, PadX = px };
                }
            }
            if (f.TryGetValue("border", out JsonElement b))
            {
                if (b.ValueKind != JsonValueKind.String || !Borders.TryParse(b.GetString()!, out Border border))
                    throw at.Error("border", $"must be one of {Borders.Names}, found {Raw(b)}");
                options = options with { Border = border };
            }
            if (f.TryGetValue("mode", out JsonElement m))
            {
                options = options with
                {
                    Mode = (m.ValueKind == JsonValueKind.String ? m.GetString() : null) switch
                    {
                        "correlate" => ConvMode.Correlate,
                        "convolve" => ConvMode.Convolve,
                        _ => throw at.Error("mode", $"must be correlate or convolve, found {Raw(m)}"),
                    },
                };
            }

            return learned ? LearnedConv(f, at, channels, options) : FixedConv(f, at, channels, options);
        }

        private ConvLayer LearnedConv(Dictionary<string, JsonElement> f, LayerContext at, int channels, ConvOptions options)
        {
            if (f.ContainsKey("sum")) throw at.Error("sum", "only applies to a fixed conv (\"kernels\")");
            int groups = f.ContainsKey("groups") ? Int(f["groups"], "groups", at, min: 1) : 1;
            options = options with { Groups = groups };

            (string weightName, Tensor weight) = ReadTensor(f["weight"], "weight", at);
            if (weight.Rank != 4)
                throw at.Error("weight", $"'{Echo(weightName)}' has shape {weight.ShapeString}; a conv weight must be rank 4 (C_out, C_in/groups, kH, kW)");
            if (weight.Shape.Any(s => s == 0)) throw at.Error("weight", $"'{Echo(weightName)}' has an empty shape {weight.ShapeString}");
            int cout = weight.Shape[0];
            if (channels % groups != 0 || cout % groups != 0)
                throw at.Error("groups", $"groups {groups} must divide both the {channels} input channels and C_out {cout} of '{Echo(weightName)}'");
            if (weight.Shape[1] * groups != channels)
                throw at.Error("weight", $"'{Echo(weightName)}' has shape {weight.ShapeString}: with groups {groups} it takes {weight.Shape[1] * groups} input channels, but {at.Source} gives {channels}");
            CheckFinite(weight, weightName, "weight", at);
            if (cout > Limits.StackChannels)
                throw at.Error("weight", $"'{Echo(weightName)}' has {cout} output channels, over the limit of {Limits.StackChannels} output channels a layer may have");
            CountWeights(weight.Length, "weight", at);

            string? biasName = null;
            float[]? bias = null;
            if (f.TryGetValue("bias", out JsonElement b) && b.ValueKind != JsonValueKind.Null)
            {
                (biasName, Tensor biasTensor) = ReadTensor(b, "bias", at);
                if (biasTensor.Rank != 1 || biasTensor.Shape[0] != cout)
                    throw at.Error("bias", $"'{Echo(biasName)}' has shape {biasTensor.ShapeString}; it must be ({cout},), one entry per output channel of '{Echo(weightName)}'");
                CheckFinite(biasTensor, biasName, "bias", at);
                bias = biasTensor.Data;
            }
            return ConvLayer.Learned(weight, bias, options, weightName, biasName);
        }

        private ConvLayer FixedConv(Dictionary<string, JsonElement> f, LayerContext at, int channels, ConvOptions options)
        {
            if (f.ContainsKey("groups")) throw at.Error("groups", "a fixed conv sets its own groups (depthwise, or 1 with \"sum\": true)");
            if (f.ContainsKey("bias")) throw at.Error("bias", "only applies to a learned conv (\"weight\")");
            bool sum = false;
            if (f.TryGetValue("sum", out JsonElement s))
                sum = s.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw at.Error("sum", $"must be true or false, found {Raw(s)}"),
                };
            JsonElement list = f["kernels"];
            if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
                throw at.Error("kernels", "must be a non-empty array of kernel names");
            var names = new List<string>();
            var bank = new List<Tensor>();
            long pending = 0;
            int i = 0;
            foreach (JsonElement k in list.EnumerateArray())
            {
                string field = $"kernels[{i}]";
                if (k.ValueKind != JsonValueKind.String) throw at.Error(field, $"must be a kernel name, found {Raw(k)}");
                string name = k.GetString()!;
                Tensor kernel;
                try
                {
                    kernel = kernels(name);
                }
                catch (ConvGLException e)
                {
                    throw at.Error(field, e.Message);
                }
                if (kernel.Rank != 2 || kernel.Length == 0) throw at.Error(field, $"'{Echo(name)}' is not a 2D kernel (shape {kernel.ShapeString})");
                if (kernel.H > Limits.KernelSide || kernel.W > Limits.KernelSide)
                    throw at.Error(field, $"'{Echo(name)}' is {kernel.H}x{kernel.W}, over the {Limits.KernelSide}x{Limits.KernelSide} kernel limit");
                CheckFinite(kernel, name, field, at);
                // Counted as the bank is read, not after: a list of thousands of 1025x1025 kernels stops here.
                pending += (long)kernel.Length * channels;
                if (_weightCount + pending > Limits.StackWeights)
                    throw at.Error(field, $"the stack's conv weights reach {_weightCount + pending} values with this kernel, over the limit of {Limits.StackWeights}");
                names.Add(name);
                bank.Add(kernel);
                i++;
            }
            // The bank is expanded over the input channels (depthwise: C_in * k maps): checked before that
            // allocation, so that repeated depthwise banks (channels growing k-fold per layer) stop here.
            long outChannels = sum ? bank.Count : (long)channels * bank.Count;
            if (outChannels > Limits.StackChannels)
                throw at.Error("kernels", $"{bank.Count} kernel(s) applied depthwise to the {channels} channels from {at.Source} give {outChannels} maps, " +
                                          $"over the limit of {Limits.StackChannels} channels (set \"sum\": true, or use fewer kernels)");
            CountWeights((long)bank.Count * channels * bank.Max(t => t.H) * bank.Max(t => t.W), "kernels", at);
            try
            {
                return ConvLayer.Fixed(names, bank, channels, sum, options);
            }
            catch (ConvGLException e)
            {
                throw at.Error("kernels", e.Message);
            }
        }

        /// <summary>A tensor by safetensors name, or from a .npy path relative to the stack file.</summary>
        private (string Name, Tensor Tensor) ReadTensor(JsonElement el, string field, LayerContext at)
        {
            if (el.ValueKind != JsonValueKind.String || el.GetString()!.Length == 0)
                throw at.Error(field, $"must be a tensor name or a .npy path, found {Raw(el)}");
            string name = el.GetString()!;
            if (name.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            {
                string file = Path.Combine(_dir, name);
                if (!File.Exists(file))
                    throw at.Error(field, Directory.Exists(file) ? $"'{file}' is a folder; name a .npy file" : $"file '{file}' does not exist");
                // A conv weight's size is checked from the file's header before its values are read (a 20000x20000
                // weight took 1.6 GB and 7 s before the limit refused it).
                if (field == "weight" && HeaderValues(file) is long values && _weightCount + values > Limits.StackWeights)
                    throw at.Error(field, $"the stack's conv weights reach {_weightCount + values} values with this layer ('{Echo(name)}' holds {values}), over the limit of {Limits.StackWeights}");
                try
                {
                    return (name, npy(file));
                }
                catch (ConvGLException e)
                {
                    throw at.Error(field, e.Message);
                }
            }
            if (_weights is null)
                throw at.Error(field, $"'{Echo(name)}' names a tensor but the stack has no \"weights\" file (add \"weights\": \"FILE.safetensors\" or give a .npy path)");
            if (_weights.TryGetValue(name, out Tensor? t))
            {
                // Every tensor a stack names is a learned weight: an integer one (a state_dict's I64 num_batches_tracked,
                // named by mistake) would run as its float32 conversion.
                if (_dtypes.TryGetValue(name, out string? dtype) && !SafeTensorsContent.IsFloat(dtype))
                    throw at.Error(field, $"'{Echo(name)}' in {_weightsPath} is {dtype}; a weight must be a float tensor (F32, F16, BF16 or F64): save it as float");
                return (name, t);
            }
            string known = string.Join(", ", _weights.Keys.Order(StringComparer.Ordinal).Take(12).Select(k => Echo(k, 40))) + (_weights.Count > 12 ? ", ..." : "");
            throw at.Error(field, $"no tensor '{Echo(name)}' in {_weightsPath} (it holds: {known})");
        }

        /// <summary>The values a .npy file's header declares, or null where it is no readable .npy (the reader then
        /// says what is wrong with it).</summary>
        private static long? HeaderValues(string file)
        {
            try
            {
                long n = 1;
                foreach (int d in Npy.ReadShape(file)) n *= d;
                return n;
            }
            catch (ConvGLException)
            {
                return null;
            }
        }

        private void CountWeights(long count, string field, LayerContext at)
        {
            _weightCount += count;
            if (_weightCount > Limits.StackWeights)
                throw at.Error(field, $"the stack's conv weights reach {_weightCount} values with this layer, over the limit of {Limits.StackWeights}");
        }

        private void CheckFinite(Tensor t, string name, string field, LayerContext at)
        {
            // A tensor of the weights file is named with that file (the fuzz audit: the message named the stack and the
            // tensor, not the .safetensors holding it).
            string where = _weights is not null && _weights.ContainsKey(name) && !name.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) ? $" in {_weightsPath}" : "";
            if (t.FirstNonFinite() is int i and >= 0)
                throw at.Error(field, $"'{Echo(name)}'{where} holds {t.Data[i]} at flat index {i}; weights must be finite");
        }

        private StackLayer Pool(JsonElement el, LayerContext at, PoolKind kind)
        {
            string[] onnxFields = kind == PoolKind.Max ? ["dilation", "ceil_mode"] : ["dilation", "ceil_mode", "count_include_pad"];
            var f = Fields(el, at, ["type", "name", "inputs", "size", "stride", "padding", .. onnxFields]);
            if (!f.ContainsKey("size")) throw at.Error("size", "is missing (the pool window, N or [y, x])");
            (int ky, int kx) = Pair(f, "size", at, 0, min: 1);
            (int sy, int sx) = Pair(f, "stride", at, 0, min: 1);
            bool fourPads = f.TryGetValue("padding", out JsonElement pe) && pe.ValueKind == JsonValueKind.Array && pe.GetArrayLength() == 4;
            // ONNX's auto_pad: pads resolved per input size (PaddedPool2D.SamePads).
            PaddingMode mode = pe.ValueKind != JsonValueKind.String ? PaddingMode.Explicit : pe.GetString() switch
            {
                "same_upper" => PaddingMode.SameUpper,
                "same_lower" => PaddingMode.SameLower,
                _ => throw at.Error("padding", $"a pool's padding must be N, [y, x], [top, left, bottom, right], same_upper or same_lower, found {Raw(pe)}"),
            };
            if (fourPads || mode != PaddingMode.Explicit || onnxFields.Any(f.ContainsKey))
            {
                // ONNX's pooling (PaddedPoolOptions): per-side pads or auto_pad, dilation, ceil_mode, count_include_pad.
                int[] pads = fourPads ? Pads(pe, "padding", at) : mode != PaddingMode.Explicit ? [0, 0, 0, 0]
                    : Pair(f, "padding", at, 0, min: 0) is var (y, x) ? [y, x, y, x] : [];
                (int dy, int dx) = Pair(f, "dilation", at, 1, min: 1);
                // Whatever the input's size, a pad as wide as the window would let a window hold padding alone.
                long spanY = PaddedPool2D.WindowSpan(ky, dy), spanX = PaddedPool2D.WindowSpan(kx, dx);
                if (pads[0] >= spanY || pads[2] >= spanY || pads[1] >= spanX || pads[3] >= spanX)
                    throw at.Error("padding", $"[{pads[0]}, {pads[1]}, {pads[2]}, {pads[3]}] (top, left, bottom, right) must each be smaller than the " +
                                              $"window's span ({spanY}, {spanX}), or a window could hold padding alone");
                var options = new PaddedPoolOptions
                {
                    Kind = kind, SizeY = ky, SizeX = kx, StrideY = sy == 0 ? ky : sy, StrideX = sx == 0 ? kx : sx,
                    PadTop = pads[0], PadLeft = pads[1], PadBottom = pads[2], PadRight = pads[3], Padding = mode, DilationY = dy, DilationX = dx,
                    CeilMode = Bool(f, "ceil_mode", at, false),
                    // Absent: zeros counted, as this format's plain avgpool (PyTorch's default).
                    CountIncludePad = Bool(f, "count_include_pad", at, true),
                };
                return new PaddedPoolLayer(options);
            }
            (int py, int px) = Pair(f, "padding", at, 0, min: 0);
            if (py * 2 > ky || px * 2 > kx)
                throw at.Error("padding", $"({py}, {px}) must be at most half the pool size ({ky}, {kx}): at most ({ky / 2}, {kx / 2}), as in PyTorch");
            return new PoolLayer(new PoolOptions { Kind = kind, SizeY = ky, SizeX = kx, StrideY = sy, StrideX = sx, PadY = py, PadX = px });
        }

        /// <summary>[top, left, bottom, right], each at least 0.</summary>
        private static int[] Pads(JsonElement el, string field, LayerContext at) =>
            el.EnumerateArray().Select(v => Int(v, field, at, 0)).ToArray();

        private static bool Bool(Dictionary<string, JsonElement> f, string field, LayerContext at, bool fallback) =>
            !f.TryGetValue(field, out JsonElement el) ? fallback
                : el.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw at.Error(field, $"must be true or false, found {Raw(el)}"),
                };

        /// <summary>A per-channel affine map y = scale[c] x + shift[c] (inference batchnorm): <c>scale</c> and <c>shift</c>
        /// name tensors of <c>channels</c> values each.</summary>
        private BatchNormLayer BatchNormFields(JsonElement el, LayerContext at, int channels)
        {
            var f = Fields(el, at, ["type", "name", "inputs", "scale", "shift"]);
            (string scaleName, float[] scale) = ChannelVector(f, "scale", at, channels);
            (string shiftName, float[] shift) = ChannelVector(f, "shift", at, channels);
            return new BatchNormLayer(BatchNorm.FromAffine(scale, shift)) { ScaleName = scaleName, ShiftName = shiftName };
        }

        /// <summary>A tensor of one finite value per channel (a batchnorm's or instancenorm's scale and shift).</summary>
        private (string Name, float[] Values) ChannelVector(Dictionary<string, JsonElement> f, string field, LayerContext at, int channels)
        {
            if (!f.TryGetValue(field, out JsonElement v)) throw at.Error(field, "is missing (a tensor name or .npy path: one value per channel)");
            (string name, Tensor t) = ReadTensor(v, field, at);
            if (t.Rank != 1 || t.Length != channels)
                throw at.Error(field, $"'{Echo(name)}' has shape {t.ShapeString}; it must be ({channels},), one value per channel of {at.Source}");
            CheckFinite(t, name, field, at);
            return (name, t.Data);
        }

        /// <summary>Instance normalisation: <c>scale</c> and <c>shift</c> of one value per channel, <c>epsilon</c> (1e-5).</summary>
        private InstanceNormLayer InstanceNormFields(JsonElement el, LayerContext at, int channels)
        {
            var f = Fields(el, at, ["type", "name", "inputs", "scale", "shift", "epsilon"]);
            (string scaleName, float[] scale) = ChannelVector(f, "scale", at, channels);
            (string shiftName, float[] shift) = ChannelVector(f, "shift", at, channels);
            float epsilon = f.TryGetValue("epsilon", out JsonElement e) ? Finite(e, "epsilon", at) : 1e-5f;
            if (epsilon < 0) throw at.Error("epsilon", $"must not be negative, found {epsilon}");
            return new InstanceNormLayer(new InstanceNorm(scale, shift, epsilon)) { ScaleName = scaleName, ShiftName = shiftName };
        }

        /// <summary>Local response normalisation: <c>size</c> (required), <c>alpha</c> (1e-4), <c>beta</c> (0.75), <c>bias</c> (1).</summary>
        private LrnLayer LrnFields(JsonElement el, LayerContext at)
        {
            var f = Fields(el, at, ["type", "name", "inputs", "size", "alpha", "beta", "bias"]);
            if (!f.TryGetValue("size", out JsonElement se)) throw at.Error("size", "is missing (the channels each sum of squares spans, e.g. 5)");
            int size = Int(se, "size", at, 1);
            float Number(string field, float fallback) => f.TryGetValue(field, out JsonElement v) ? Finite(v, field, at) : fallback;
            return new LrnLayer(new Lrn(size, Number("alpha", 1e-4f), Number("beta", 0.75f), Number("bias", 1f)));
        }

        /// <summary>PyTorch Linear: <c>weight</c> (out, in) and optional <c>bias</c> (out).</summary>
        private LinearLayer Linear(JsonElement el, LayerContext at)
        {
            var f = Fields(el, at, ["type", "name", "inputs", "weight", "bias"]);
            if (!f.TryGetValue("weight", out JsonElement we)) throw at.Error("weight", "is missing (a tensor name or .npy path of shape (out, in))");
            (string weightName, Tensor weight) = ReadTensor(we, "weight", at);
            if (weight.Rank != 2 || weight.Length == 0)
                throw at.Error("weight", $"'{Echo(weightName)}' has shape {weight.ShapeString}; a linear weight must be (out, in)");
            CheckFinite(weight, weightName, "weight", at);
            CountWeights(weight.Length, "weight", at);
            string? biasName = null;
            float[]? bias = null;
            if (f.TryGetValue("bias", out JsonElement be))
            {
                (biasName, Tensor b) = ReadTensor(be, "bias", at);
                if (b.Rank != 1 || b.Length != weight.Shape[0])
                    throw at.Error("bias", $"'{Echo(biasName)}' has shape {b.ShapeString}; it must be ({weight.Shape[0]},), one value per output");
                CheckFinite(b, biasName, "bias", at);
                bias = b.Data;
            }
            return new LinearLayer(weight, bias, weightName, biasName);
        }

        /// <summary>N or [y, x]; absent gives (fallback, fallback).</summary>
        private static (int Y, int X) Pair(Dictionary<string, JsonElement> f, string field, LayerContext at, int fallback, int min)
        {
            if (!f.TryGetValue(field, out JsonElement el)) return (fallback, fallback);
            if (el.ValueKind == JsonValueKind.Array)
            {
                if (el.GetArrayLength() != 2) throw at.Error(field, $"must be an integer or [y, x], found {Raw(el)}");
                return (Int(el[0], field, at, min), Int(el[1], field, at, min));
            }
            int v = Int(el, field, at, min);
            return (v, v);
        }

        /// <summary>A slice's rows or cols: [start, end] or [start, end, step], integers (negative ones count from the end)
        /// or null for an open end, as Python's start:end:step.</summary>
        private static SliceRange Range(JsonElement el, string field, LayerContext at)
        {
            const string form = "[start, end] or [start, end, step] as in Python's start:end:step (null for an open end, e.g. [1, null, 2] for 1::2)";
            if (el.ValueKind != JsonValueKind.Array || el.GetArrayLength() is not (2 or 3)) throw at.Error(field, $"must be {form}, found {Raw(el)}");
            JsonElement[] v = el.EnumerateArray().ToArray();
            long? Bound(JsonElement b, string part) => b.ValueKind == JsonValueKind.Null ? null
                : b.ValueKind == JsonValueKind.Number && b.TryGetInt64(out long x) && x >= -(Limits.ImageSide + 1L) && x <= Limits.ImageSide + 1L ? x
                : throw at.Error(field, $"{part} must be an integer from -{Limits.ImageSide + 1} to {Limits.ImageSide + 1} or null, found {Raw(b)}");
            long step = 1;
            if (v.Length == 3 && !(v[2].ValueKind == JsonValueKind.Number && v[2].TryGetInt64(out step) && step != 0 && step >= -Limits.ImageSide && step <= Limits.ImageSide))
                throw at.Error(field, $"step must be a non-zero integer (negative walks backwards), found {Raw(v[2])}");
            return SliceRange.Of(Bound(v[0], "start"), Bound(v[1], "end"), step);
        }

        /// <summary>A flatten's "values": the count its input map must hold, 1 to the limit of one map's values.</summary>
        private static long PositiveValues(JsonElement el, LayerContext at)
        {
            if (el.ValueKind != JsonValueKind.Number || !el.TryGetInt64(out long v) || v < 1 || v > Limits.StackMapValues)
                throw at.Error("values", $"must be a whole number of values from 1 to {Limits.StackMapValues} (the input map's C*H*W), found {Raw(el)}");
            return v;
        }

        private static int Int(JsonElement el, string field, LayerContext at, int min)
        {
            if (el.ValueKind != JsonValueKind.Number || !el.TryGetInt32(out int v))
                throw at.Error(field, $"must be an integer, found {Raw(el)}");
            if (v < min) throw at.Error(field, $"must be at least {min}, found {v}");
            if (v > 4096) throw at.Error(field, $"{v} is implausibly large (at most 4096)");
            return v;
        }

        /// <summary>The object's fields by name; an unknown or repeated field is an error.</summary>
        private Dictionary<string, JsonElement> Fields(JsonElement obj, LayerContext? at, string[] allowed)
        {
            var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (JsonProperty p in obj.EnumerateObject())
            {
                if (!allowed.Contains(p.Name))
                {
                    string? near = allowed.FirstOrDefault(a => p.Name.Length <= 64 && EditDistance(a, p.Name) <= 2);
                    string msg = $"unknown field{(near is null ? "" : $" (did you mean '{near}'?)")}; allowed here: {string.Join(", ", allowed)}";
                    throw at is null ? Top(Echo(p.Name), msg) : at.Error(Echo(p.Name), msg);
                }
                if (!fields.TryAdd(p.Name, p.Value))
                    throw at is null ? Top(Echo(p.Name), "appears twice") : at.Error(Echo(p.Name), "appears twice");
            }
            return fields;
        }

        private static int EditDistance(string a, string b)
        {
            var d = new int[a.Length + 1, b.Length + 1];
            for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
            for (int j = 0; j <= b.Length; j++) d[0, j] = j;
            for (int i = 1; i <= a.Length; i++)
                for (int j = 1; j <= b.Length; j++)
                    d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            return d[a.Length, b.Length];
        }

        private static string Raw(JsonElement el) => Echo(el.GetRawText());

        private static string Kind(JsonElement el) => el.ValueKind.ToString().ToLowerInvariant();
    }

    private sealed class LayerContext(string path, int index, string type)
    {
        /// <summary>What feeds this layer, for channel messages.</summary>
        public string Source => index == 0 ? "the stack input" : $"layers[{index - 1}]";

        public ConvGLException Error(string field, string message) => new($"{path}: layers[{index}] ({type}) field '{field}': {message}");
    }
}
