using ConvGL.Core.IO;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;

namespace ConvGL.Core.Tests.Stacks;

public sealed class StackFileTests : IDisposable
{
    private readonly StackDir _dir = new();

    public StackFileTests()
    {
        var rng = new Random(7);
        Tensor nan = TestKernels.Random(rng, 4, 1, 3, 3);
        nan.Data[5] = float.NaN;
        Tensor inf = new([4], [0, 1, float.PositiveInfinity, 2]);
        SafeTensors.Write(_dir.File("w.safetensors"), new Dictionary<string, Tensor>
        {
            ["c1.weight"] = TestKernels.Random(rng, 4, 1, 3, 3),
            ["c1.bias"] = TestKernels.Random(rng, 4),
            ["rank2"] = TestKernels.Random(rng, 3, 3),
            ["nan.weight"] = nan,
            ["inf.bias"] = inf,
            ["c2.weight"] = TestKernels.Random(rng, 2, 4, 3, 3),
            ["b3"] = TestKernels.Random(rng, 3),
            ["g.weight"] = TestKernels.Random(rng, 6, 2, 1, 1),
        });
        File.WriteAllBytes(_dir.File("broken.safetensors"), [1, 2, 3]);
    }

    public void Dispose() => _dir.Dispose();

    private const string Conv1 = """{"type": "conv", "weight": "c1.weight", "bias": "c1.bias"}""";

    private static string Stack(string layers, string extra = "\"weights\": \"w.safetensors\",") =>
        $$"""{ "name": "t", "input": "gray", {{extra}} "layers": [ {{layers}} ] }""";

    /// <summary>(why, stack JSON, expected layer index or -1 for a top-level field, expected field, a phrase of the message).</summary>
    public static TheoryData<string, string, int, string, string> BadStacks() => new()
    {
        { "unknown type", Stack("""{"type": "conv2"}"""), 0, "type", "unknown layer type 'conv2'" },
        { "unknown type, no near one", Stack("""{"type": "convolution2d"}"""), 0, "type", "unknown layer type 'convolution2d' (types: conv, conv_transpose, relu," },
        { "a type's typo", Stack("""{"type": "magnitud"}"""), 0, "type", "unknown layer type 'magnitud': did you mean 'magnitude'? (every type: assets/stacks/README.md)" },
        { "missing type", Stack(Conv1 + """, {"size": 2}"""), 1, "type", "missing or not a string (e.g. \"conv\", \"relu\", \"maxpool\", \"magnitude\"; every type: assets/stacks/README.md)" },
        { "a type in capitals", Stack("""{"type": "RELU"}"""), 0, "type", "unknown layer type 'RELU': did you mean 'relu'?" },
        { "unknown field", Stack(Conv1 + """, {"type": "relu", "size": 2}"""), 1, "size", "unknown field" },
        { "misspelt field", Stack("""{"type": "maxpool", "size": 2, "strde": 2}"""), 0, "strde", "did you mean 'stride'?" },
        { "first layer channels", Stack("""{"type": "conv", "weight": "c2.weight"}"""), 0, "weight", "but the stack input gives 1" },
        { "duplicate field", Stack("""{"type": "conv", "weight": "c1.weight", "weight": "c1.weight"}"""), 0, "weight", "appears twice" },
        { "missing tensor", Stack("""{"type": "conv", "weight": "conv9.weight"}"""), 0, "weight", "no tensor 'conv9.weight'" },
        { "tensor without weights file", Stack("""{"type": "conv", "weight": "c1.weight"}""", ""), 0, "weight", "no \"weights\" file" },
        { "missing npy", Stack("""{"type": "conv", "weight": "missing.npy"}"""), 0, "weight", "does not exist" },
        { "wrong weight rank", Stack("""{"type": "conv", "weight": "rank2"}"""), 0, "weight", "must be rank 4" },
        // A weights-file tensor is named with its file (the fuzz audit: the .safetensors was not named).
        { "NaN weight", Stack("""{"type": "conv", "weight": "nan.weight"}"""), 0, "weight", ".safetensors holds NaN at flat index" },
        { "Inf bias", Stack("""{"type": "conv", "weight": "c1.weight", "bias": "inf.bias"}"""), 0, "bias", ".safetensors holds" },
        { "bias wrong size", Stack("""{"type": "conv", "weight": "c1.weight", "bias": "b3"}"""), 0, "bias", "must be (4,)" },
        { "channel mismatch", Stack(Conv1 + """, {"type": "relu"}, {"type": "conv", "weight": "c1.weight"}"""), 2, "weight", "but layers[1] gives 4" },
        { "groups do not divide", Stack(Conv1 + """, {"type": "conv", "weight": "c2.weight", "groups": 3}"""), 1, "groups", "must divide" },
        { "groups zero", Stack("""{"type": "conv", "weight": "c1.weight", "groups": 0}"""), 0, "groups", "at least 1" },
        { "groups mismatch", Stack(Conv1 + """, {"type": "conv", "weight": "g.weight", "groups": 1}"""), 1, "weight", "takes 2 input channels" },
        { "stride zero", Stack("""{"type": "conv", "weight": "c1.weight", "stride": 0}"""), 0, "stride", "at least 1" },
        { "stride string", Stack("""{"type": "conv", "weight": "c1.weight", "stride": "2"}"""), 0, "stride", "must be an integer" },
        { "stride fraction", Stack("""{"type": "conv", "weight": "c1.weight", "stride": 1.5}"""), 0, "stride", "must be an integer" },
        { "dilation triple", Stack("""{"type": "conv", "weight": "c1.weight", "dilation": [1, 2, 3]}"""), 0, "dilation", "[y, x]" },
        { "padding word", Stack("""{"type": "conv", "weight": "c1.weight", "padding": "half"}"""), 0, "padding", "same, valid, full" },
        { "padding negative", Stack("""{"type": "conv", "weight": "c1.weight", "padding": -1}"""), 0, "padding", "at least 0" },
        { "border", Stack("""{"type": "conv", "weight": "c1.weight", "border": "mirror"}"""), 0, "border", "zero|replicate|reflect|symmetric|wrap" },
        { "mode", Stack("""{"type": "conv", "weight": "c1.weight", "mode": "conv"}"""), 0, "mode", "correlate or convolve" },
        { "neither weight nor kernels", Stack("""{"type": "conv", "stride": 1}"""), 0, "weight", "needs" },
        { "both weight and kernels", Stack("""{"type": "conv", "weight": "c1.weight", "kernels": ["sobel-x"]}"""), 0, "kernels", "not both" },
        { "unknown kernel", Stack("""{"type": "conv", "kernels": ["sobel-x", "sobel-z"]}"""), 0, "kernels[1]", "unknown kernel 'sobel-z'" },
        { "kernel not a string", Stack("""{"type": "conv", "kernels": [3]}"""), 0, "kernels[0]", "kernel name" },
        { "empty bank", Stack("""{"type": "conv", "kernels": []}"""), 0, "kernels", "non-empty" },
        { "uncentrable bank", Stack("""{"type": "conv", "kernels": ["sobel-x", "even2"]}"""), 0, "kernels", "even amount" },
        { "NaN kernel", Stack("""{"type": "conv", "kernels": ["nan"]}"""), 0, "kernels[0]", "must be finite" },
        { "sum on learned", Stack("""{"type": "conv", "weight": "c1.weight", "sum": true}"""), 0, "sum", "fixed conv" },
        { "groups on fixed", Stack("""{"type": "conv", "kernels": ["sobel-x"], "groups": 1}"""), 0, "groups", "sets its own groups" },
        { "sum not bool", Stack("""{"type": "conv", "kernels": ["sobel-x"], "sum": 1}"""), 0, "sum", "true or false" },
        { "pool size missing", Stack("""{"type": "maxpool"}"""), 0, "size", "missing" },
        { "pool size zero", Stack("""{"type": "avgpool", "size": 0}"""), 0, "size", "at least 1" },
        { "pool padding too big", Stack("""{"type": "maxpool", "size": 2, "padding": 2}"""), 0, "padding", "at most half" },
        { "pool stride zero", Stack("""{"type": "maxpool", "size": 2, "stride": 0}"""), 0, "stride", "at least 1" },
        { "slope not a number", Stack("""{"type": "leaky_relu", "slope": "x"}"""), 0, "slope", "finite number" },
        { "slope on relu", Stack("""{"type": "relu", "slope": 0.1}"""), 0, "slope", "unknown field" },
        { "magnitude of odd channels", Stack("""{"type": "magnitude"}"""), 0, "type", "odd count" },
        { "layer not an object", Stack("\"relu\""), 0, "", "must be an object" },
        { "unknown top-level field", Stack(Conv1, "\"weigths\": \"w.safetensors\","), -1, "weigths", "unknown field" },
        { "bad input", """{ "input": "bgr", "layers": [{"type": "relu"}] }""", -1, "input", "gray\" or \"rgb" },
        { "empty layers", Stack(""), -1, "layers", "non-empty" },
        { "missing weights file", Stack(Conv1, "\"weights\": \"nope.safetensors\","), -1, "weights", "does not exist" },
        { "broken weights file", Stack(Conv1, "\"weights\": \"broken.safetensors\","), -1, "weights", "truncated" },
        { "weights a folder", Stack(Conv1, "\"weights\": \".\","), -1, "weights", "is a folder; name a .safetensors file" },
        { "name with an escape sequence", """{ "name": "\u001b[31mRED", "layers": [{"type": "relu"}] }""", -1, "name", "control character" },
        { "name with a line break", """{ "name": "a\nb", "layers": [{"type": "relu"}] }""", -1, "name", "control character, a line break" },
        { "name with a right-to-left override", """{ "name": "abc\u202Egnp.exe", "layers": [{"type": "relu"}] }""", -1, "name", "a bidirectional override ('abc\\u202egnp.exe')" },
        { "layer name with an isolate", """{ "layers": [{"type": "relu", "name": "r\u2067elu"}] }""", 0, "name", "bidirectional override" },
        { "name too long", $$"""{ "name": "{{new string('n', 201)}}", "layers": [{"type": "relu"}] }""", -1, "name", "201 characters long; keep it to 200" },
        { "description with a NUL", """{ "description": "a\u0000b", "layers": [{"type": "relu"}] }""", -1, "description", "control character" },
        { "inputs naming 'input' where a layer is named so", Stack("""{"type": "relu", "name": "input"}, {"type": "relu", "inputs": ["input"]}""", ""), 1, "inputs", "'input' names the stack input and an earlier layer named \"input\"; refer to the stack input as -1 and to the layer by its index" },
        { "inputs naming a shared name", Stack("""{"type": "relu", "name": "r"}, {"type": "relu", "name": "r"}, {"type": "add", "inputs": ["r", 0]}""", ""), 2, "inputs", "more than one earlier layer is named 'r'; refer to the one meant by its index" },
        { "layer name with an escape", Stack("""{"type": "relu", "name": "x\u001b[2J"}"""), 0, "name", "control character" },
    };

    [Theory]
    [MemberData(nameof(BadStacks))]
    public void Load_BadStack_ErrorNamesFileLayerAndField(string why, string json, int layer, string field, string phrase)
    {
        string path = _dir.Write("bad.json", json);
        var e = Assert.Throws<ConvGLException>(() => StackFile.Load(path, TestKernels.Resolve));
        string m = e.Message;
        Assert.True(m.StartsWith(path + ": ", StringComparison.Ordinal), $"{why}: no file name in: {m}");
        // The layer by its index in the file's array, "layers[1]" (the window's HUD numbers layers from 1).
        if (layer >= 0) Assert.True(m.Contains($": layers[{layer}]", StringComparison.Ordinal), $"{why}: expected layers[{layer}] in: {m}");
        else Assert.False(m.Contains("layers[", StringComparison.Ordinal), $"{why}: unexpected layer in: {m}");
        if (field.Length > 0) Assert.True(m.Contains($"field '{field}'", StringComparison.Ordinal), $"{why}: expected field '{field}' in: {m}");
        Assert.True(m.Contains(phrase, StringComparison.Ordinal), $"{why}: expected '{phrase}' in: {m}");
        Assert.DoesNotContain('\n', m);
    }

    /// <summary>The fuzz audit: a name of bytes that are not UTF-8 ("\xff\xfe") was read as two U+FFFD characters. A stray
    /// byte in otherwise text is one error naming its line and offset (after a UTF-8 BOM too).</summary>
    [Fact]
    public void Load_ABytePastUtf8InTheText_IsOneErrorNamingWhere()
    {
        string path = _dir.File("bad-utf8.json");
        byte[] head = "{\n  \"name\": \""u8.ToArray(), tail = "\",\n  \"layers\": [{\"type\": \"relu\"}] }"u8.ToArray();
        File.WriteAllBytes(path, [.. head, 0xFF, 0xFE, .. tail]);
        var e = Assert.Throws<ConvGLException>(() => StackFile.Load(path, TestKernels.Resolve));
        Assert.Equal($"{path}: line 2: byte {head.Length} (0xFF) is not UTF-8 text; save the file as UTF-8", e.Message);
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. head, 0xC3, .. tail]); // a cut two-byte sequence, after a BOM
        Assert.Equal($"{path}: line 2: byte {head.Length + 3} (0xC3) is not UTF-8 text; save the file as UTF-8",
            Assert.Throws<ConvGLException>(() => StackFile.Load(path, TestKernels.Resolve)).Message);
        File.WriteAllBytes(path, [.. head, .. "caf\u00e9"u8.ToArray(), .. tail]); // valid UTF-8 text loads
        Assert.Equal("caf\u00e9", StackFile.Load(path, TestKernels.Resolve).Name);
    }

    /// <summary>A picture, UTF-16 text or other binary data given as a stack: said as such, not as JSON's "'0xEF' is an
    /// invalid start of a value" (a byte of the replacement character the UTF-8 decoding made).</summary>
    [Theory]
    [InlineData(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 0, 0, 0, 13 }, "a PNG image")]
    [InlineData(new byte[] { 0xFF, 0xFE, (byte)'{', 0, (byte)'}', 0 }, "binary data or UTF-16 text")]
    [InlineData(new byte[] { 0xC3, 0x28, 1, 2, 3 }, "binary data")]
    public void Load_NotJsonText_SaysWhatItLooksLike(byte[] bytes, string what)
    {
        string path = _dir.File("not-json.json");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ConvGLException>(() => StackFile.Load(path, TestKernels.Resolve));
        Assert.Contains($"{path}: {what}", e.Message);
        Assert.Contains("not a stack file (UTF-8 JSON text", e.Message);
    }

    [Fact]
    public void Load_InvalidJson_NamesFileAndLine()
    {
        string path = _dir.Write("broken.json", "{\n  \"name\": \"x\",\n  \"layers\": [ {\"type\": \"relu\"} \n  oops\n}");
        var e = Assert.Throws<ConvGLException>(() => StackFile.Load(path, TestKernels.Resolve));
        Assert.StartsWith($"{path}: line 4: not valid JSON", e.Message);
    }

    /// <summary>From a hostile-input review: a kernel named as a file that is not there was listed against the library's
    /// names ("unknown kernel 'missing.txt' (known: identity, box, ...)"); a path says the file is missing, and where it
    /// was looked for. A stack file given as a kernel says what it is.</summary>
    [Fact]
    public void Load_AMissingKernelFile_SaysTheFileIsMissing()
    {
        string path = _dir.Write("k.json", """{"input": "gray", "layers": [{"type": "conv", "kernels": ["missing.txt"]}]}""");
        var e = Assert.Throws<ConvGLException>(() => StackFile.Load(path));
        Assert.Equal($"{path}: layers[0] (conv) field 'kernels[0]': kernel file 'missing.txt' does not exist (looked for {Path.Combine(Path.GetDirectoryName(path)!, "missing.txt")}; a stack's kernel files are found beside it)", e.Message);
        // A library name is still one (gaussian:5,1.5 holds a dot but is a spec).
        Assert.Single(StackFile.Load(_dir.Write("g.json", """{"input": "gray", "layers": [{"type": "conv", "kernels": ["gaussian:5,1.5"]}]}""")).Layers);
        string stackAsKernel = _dir.Write("s.json", """{"input": "gray", "layers": [{"type": "conv", "kernels": ["k.json"]}]}""");
        Assert.Contains("kernel file", Assert.Throws<ConvGLException>(() => StackFile.Load(stackAsKernel)).Message);
        Assert.Contains("is a stack file, not a kernel", Assert.Throws<ConvGLException>(() => StackFile.Load(stackAsKernel)).Message);
    }

    /// <summary>From a hostile-input review: a transposed conv whose stride makes its map too large blamed the field
    /// 'padding'; the stride is the field to change (at stride 1 the dilation, else the padding).</summary>
    [Fact]
    public void ATransposedConvTooLargeForItsStride_BlamesTheStride()
    {
        Npy.Write(Path.Combine(Path.GetDirectoryName(_dir.Write("x", ""))!, "wt.npy"), new Tensor([1, 4, 2, 2]));
        string path = _dir.Write("stride.json", """{"input": "gray", "layers": [{"type": "conv_transpose", "weight": "wt.npy", "stride": 4096}]}""");
        Assert.False(StackPlan.TryCreate(StackFile.Load(path), 48, 64, null, out _, out string? error));
        Assert.Contains("(conv_transpose) field 'stride': does not fit its 64x48 input", error);
        // Too small for its padding: the padding, at stride 2 too.
        string padded = _dir.Write("padding.json", """{"input": "gray", "layers": [{"type": "conv_transpose", "weight": "wt.npy", "stride": 2, "padding": 45}]}""");
        Assert.False(StackPlan.TryCreate(StackFile.Load(padded), 40, 50, null, out _, out error));
        Assert.Contains("(conv_transpose) field 'padding': does not fit its 50x40 input", error);
    }

    /// <summary>An empty file (or white space alone) is said so, not in System.Text.Json's words ("does not contain any
    /// JSON tokens ... when isFinalBlock is true", a hostile-input review read).</summary>
    [Theory]
    [InlineData("")]
    [InlineData(" \n\t\n")]
    public void Load_AnEmptyFile_SaysItIsEmpty(string text)
    {
        string path = _dir.Write("empty.json", text);
        var e = Assert.Throws<ConvGLException>(() => StackFile.Load(path, TestKernels.Resolve));
        Assert.Equal($"{path}: the file is empty; a stack file is a JSON object with \"layers\" (assets/stacks/README.md)", e.Message);
    }

    /// <summary>An audit: a kernel file given as a stack said "'#' is an invalid start of a value", and a file cut short
    /// said System.Text.Json's "does not contain any JSON tokens ... isFinalBlock". Each now says what the file is.</summary>
    [Fact]
    public void Load_AKernelFileOrAFileCutShort_SaysWhatItIs()
    {
        string kernel = _dir.Write("my-kernel.txt", "# sobel\n1 0 -1\n2 0 -2\n1 0 -1\n");
        var e = Assert.Throws<ConvGLException>(() => StackFile.Load(kernel, TestKernels.Resolve));
        Assert.Equal($"{kernel}: rows of numbers, a kernel file, not a stack file (a JSON object with \"layers\"); " +
                     $"a kernel runs as a single filter (--filter {kernel}) or as a stack layer's \"kernel\"", e.Message);

        string comments = _dir.Write("comments.json", "// Gradient edges: Sobel and Scharr\n// The depthwise ba");
        e = Assert.Throws<ConvGLException>(() => StackFile.Load(comments, TestKernels.Resolve));
        Assert.Equal($"{comments}: no JSON after the comments (the file is cut short, or holds comments only); " +
                     "a stack file is a JSON object with \"layers\" (assets/stacks/README.md)", e.Message);

        foreach (string cut in new[] { "{\"layers\": [", "{\"layers\": [{\"type\": \"conv\", ", "{\"layers\": [{\"type\": \"co" })
        {
            string path = _dir.Write("cut.json", cut);
            e = Assert.Throws<ConvGLException>(() => StackFile.Load(path, TestKernels.Resolve));
            Assert.Equal($"{path}: line 1: the JSON ends before it is complete (the file is cut short, or a closing '}}' or ']' is missing)", e.Message);
        }

        // More after the object (the hostile-input audit: said "ends before it is complete"): where it begins.
        foreach ((string text, int line, int column) in new[] { ("{\"layers\": [{\"type\": \"relu\"}]} garbage", 1, 32), ("{\"layers\": []}\n{\"x\": 1}", 2, 1), ("{\"layers\": []}]", 1, 15) })
        {
            string path = _dir.Write("trailing.json", text);
            e = Assert.Throws<ConvGLException>(() => StackFile.Load(path, TestKernels.Resolve));
            Assert.Equal($"{path}: line {line}, column {column}: more after the end of the stack's JSON object; a stack file is one object: " +
                         "remove what follows its closing '}'", e.Message);
        }

        // An ONNX model under a stack's name (the audit: "byte 8 (0xC9) is not UTF-8 text"): what it is, and the name to give.
        string onnx = _dir.File("model.json");
        var g = new ConvGL.Core.Onnx.Proto.GraphProto { Name = "g" };
        foreach (var model in new[] { new ConvGL.Core.Onnx.Proto.ModelProto { IrVersion = 7, ProducerName = "pytorch", Graph = g }, new ConvGL.Core.Onnx.Proto.ModelProto { IrVersion = 3, Graph = g } })
        {
            File.WriteAllBytes(onnx, Google.Protobuf.MessageExtensions.ToByteArray(model));
            e = Assert.Throws<ConvGLException>(() => StackFile.Load(onnx, TestKernels.Resolve));
            Assert.Equal($"{onnx}: an ONNX model (protobuf bytes), not a stack file: ConvGL reads a model by its .onnx name (rename it model.onnx)", e.Message);
        }

        // Not a kernel either: the JSON reader's own words, as before.
        string words = _dir.Write("words.json", "hello world");
        e = Assert.Throws<ConvGLException>(() => StackFile.Load(words, TestKernels.Resolve));
        Assert.StartsWith($"{words}: line 1: not valid JSON: ", e.Message);
    }

    [Fact]
    public void Load_CommentsAndTrailingCommas_AreAccepted_DefaultsApplied()
    {
        Stack s = _dir.Load("""
            // a comment
            { "name": "c", /* inline */ "weights": "w.safetensors",
              "layers": [ {"type": "conv", "weight": "c1.weight", "bias": "c1.bias", "name": "first"},
                          {"type": "leaky_relu", "slope": 0.2}, {"type": "maxpool", "size": [2, 3]}, ] }
            """);
        Assert.Equal(StackInput.Gray, s.Input);
        var conv = Assert.IsType<ConvLayer>(s.Layers[0]);
        Assert.Equal("first", conv.Label);
        Assert.Equal(new ConvOptions(), conv.Options); // correlate, zero border, same padding, stride/dilation 1, groups 1
        Assert.Equal("c1.weight", conv.WeightName);
        Assert.Equal(0.2f, Assert.IsType<ActivationLayer>(s.Layers[1]).Slope);
        PoolOptions p = Assert.IsType<PoolLayer>(s.Layers[2]).Options;
        Assert.Equal((2, 3, 2, 3), (p.SizeY, p.SizeX, p.EffectiveStrideY, p.EffectiveStrideX));
        Assert.Equal([4, 4, 4], s.Channels());
    }

    [Fact]
    public void FixedBank_Depthwise_OrdersChannelsInputMajor_SumAddsOverInputs()
    {
        Stack dw = _dir.Load("""{"input": "rgb", "layers": [{"type": "conv", "kernels": ["sobel-x", "sobel-y", "box5"]}]}""");
        var conv = (ConvLayer)dw.Layers[0];
        Assert.Equal([9, 1, 5, 5], conv.Weight.Shape);
        Assert.Equal(3, conv.Options.Groups);
        // Output channel c*k + j is kernel j on input channel c; 3x3 kernels sit centred in the 5x5 bank.
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(-2f, conv.Weight.Data[((c * 3 + 0) * 25) + 2 * 5 + 1]); // sobel-x row 1, col 0 -> (2, 1)
            Assert.Equal(2f, conv.Weight.Data[((c * 3 + 1) * 25) + 3 * 5 + 2]);  // sobel-y row 2, col 1 -> (3, 2)
            Assert.Equal(0f, conv.Weight.Data[((c * 3 + 0) * 25) + 0]);          // padding ring
            Assert.Equal(1f, conv.Weight.Data[((c * 3 + 2) * 25) + 0]);          // box5 corner
        }

        Stack sum = _dir.Load("""{"input": "rgb", "layers": [{"type": "conv", "kernels": ["sobel-x", "sobel-y"], "sum": true}]}""");
        var sc = (ConvLayer)sum.Layers[0];
        Assert.Equal([2, 3, 3, 3], sc.Weight.Shape);
        Assert.Equal(1, sc.Options.Groups);

        // On an image whose three channels are equal, the sum bank is three times the single-channel response.
        var rng = new Random(3);
        Tensor gray = TestKernels.Random(rng, 1, 6, 7);
        Tensor rgb = Tensor.Concat([gray, gray, gray]);
        Tensor one = Conv2D.Apply(gray, Tensor.Matrix(StackDir.Kernels["sobel-x"]).Reshape(1, 1, 3, 3), null, new ConvOptions());
        Tensor three = sc.Forward(rgb);
        for (int i = 0; i < one.Length; i++) Assert.Equal(3 * one.Data[i], three.Data[i], 1e-5f);
    }

    [Fact]
    public void Plan_ComputesEveryLayerShapeBeforeRunning()
    {
        // Hand-computed with out = floor((n + pad_total - d*(k-1) - 1) / s) + 1.
        Stack s = _dir.Load("""
            { "weights": "w.safetensors", "layers": [
              {"type": "conv", "kernels": ["sobel-x", "sobel-y"]},
              {"type": "magnitude"},
              {"type": "conv", "weight": "c1.weight", "stride": 2, "padding": "valid"},
              {"type": "relu"},
              {"type": "maxpool", "size": 2},
              {"type": "avgpool", "size": [2, 3], "stride": [1, 2], "padding": 1},
              {"type": "conv", "weight": "c2.weight", "dilation": [1, 2], "padding": "full"}
            ] }
            """);
        StackPlan plan = StackPlan.Create(s, 17, 23);
        MapShape[] expected =
        [
            new(2, 17, 23),  // same
            new(1, 17, 23),
            new(4, 8, 11),   // (17-2-1)/2+1 = 8, (23-2-1)/2+1 = 11
            new(4, 8, 11),
            new(4, 4, 5),    // floor(8/2), floor(11/2)
            new(4, 5, 3),    // (4+2-2)/1+1 = 5, (5+2-3)/2+1 = 3
            new(2, 7, 7),    // full: 5+4-2-1+1 = 7; 3+8-4-1+1 = 7
        ];
        Assert.Equal(new MapShape(1, 17, 23), plan.Input);
        Assert.Equal(expected, plan.Outputs);
    }

    [Fact]
    public void Plan_InputTooSmall_NamesLayerAndField()
    {
        Stack s = _dir.Load("""{ "weights": "w.safetensors", "layers": [ {"type": "conv", "weight": "c1.weight", "padding": "valid"}, {"type": "maxpool", "size": 4} ] }""");
        var e = Assert.Throws<ConvGLException>(() => StackPlan.Create(s, 5, 9));
        Assert.Contains("s.json: layers[1] (maxpool) field 'size'", e.Message);
        e = Assert.Throws<ConvGLException>(() => StackPlan.Create(s, 2, 9));
        Assert.Contains("layers[0] (conv) field 'padding'", e.Message);
    }

    [Fact]
    public void Plan_MapAboveInt32Elements_IsRefusedNamingTheLayer()
    {
        // C*H*W must fit the int indices of Tensor and the shaders: 8 maps of 20000x20000 are 3.2e9 values, which
        // MapShape.Length used to wrap negative and the runners then failed on with OverflowException/ArgumentException.
        Stack s = _dir.Load("""{ "layers": [ {"type": "relu"}, {"type": "conv", "kernels": ["sobel-x", "sobel-y", "sobel-x", "sobel-y", "sobel-x", "sobel-y", "sobel-x", "sobel-y"]} ] }""");
        var e = Assert.Throws<MapsTooLargeException>(() => StackPlan.Create(s, 20000, 20000));
        Assert.Contains("s.json: layers[1] (conv)", e.Message);
        Assert.Contains("(8, 20000, 20000)", e.Message);
        // The input alone too: 3 x 30000 x 30000 rgb.
        Stack rgb = _dir.Load("""{ "input": "rgb", "layers": [ {"type": "relu"} ] }""");
        e = Assert.Throws<MapsTooLargeException>(() => StackPlan.Create(rgb, 30000, 30000));
        Assert.Contains("input", e.Message);
        Assert.True(StackPlan.TryCreate(s, 4000, 4000, null, out _, out _));
    }

    [Fact]
    public void Plan_Toggling_DisabledLayerIsIdentity_RefusedWhenChannelsBreak()
    {
        Stack s = _dir.Load("""
            { "weights": "w.safetensors", "layers": [
              {"type": "conv", "kernels": ["sobel-x", "sobel-y"]}, {"type": "magnitude"},
              {"type": "conv", "weight": "c1.weight"}, {"type": "relu"}, {"type": "maxpool", "size": 2} ] }
            """);
        StackPlan off = StackPlan.Create(s, 8, 10, [true, true, true, false, false]);
        Assert.Equal(new MapShape(4, 8, 10), off.Outputs[3]);
        Assert.Equal(new MapShape(4, 8, 10), off.Outputs[4]);

        Assert.False(StackPlan.TryCreate(s, 8, 10, [true, false, true, true, true], out _, out string? why));
        Assert.Contains("layers[2] (conv) (with layers[1] disabled)", why);
        Assert.Contains("expects 1 input channels, its input has 2", why);

        // With magnitude gone too, disabling the sobel bank keeps the channel count at 1: allowed.
        Assert.True(StackPlan.TryCreate(s, 8, 10, [false, false, true, true, true], out StackPlan? p, out _));
        Assert.Equal(new MapShape(4, 4, 5), p!.Output);

        StackResult r = StackRunner.Run(s, TestKernels.Random(new Random(1), 1, 8, 10), [true, true, true, false, false]);
        Assert.Same(r.Outputs[2], r.Outputs[3]);
        Assert.Same(r.Outputs[2], r.Outputs[4]);
    }

    [Fact]
    public void Writer_RoundTripsLayersAndWeights()
    {
        var rng = new Random(11);
        var layers = new List<StackLayer>
        {
            ConvLayer.Fixed(["sobel-x", "sobel-y"], [TestKernels.Resolve("sobel-x"), TestKernels.Resolve("sobel-y")], 3, sum: true,
                new ConvOptions { Border = Border.Reflect, Mode = ConvMode.Convolve }),
            new ActivationLayer(ActivationKind.Abs),
            ConvLayer.Learned(TestKernels.Random(rng, 4, 1, 3, 5), TestKernels.Random(rng, 4).Data,
                new ConvOptions { Groups = 2, StrideY = 2, StrideX = 1, DilationX = 2, Padding = PaddingMode.Explicit, PadY = 1, PadX = 0 },
                "conv1.weight", "conv1.bias"),
            new ActivationLayer(ActivationKind.LeakyRelu, 0.125f),
            new PoolLayer(new PoolOptions { Kind = PoolKind.Average, SizeY = 3, SizeX = 2, StrideY = 1, StrideX = 2, PadY = 1 }),
            new MagnitudeLayer(),
        };
        layers[2].Label = "learned";
        var stack = new Stack("round", StackInput.Rgb, layers, "round.safetensors") { Description = "written by a test" };
        string path = _dir.File("round.json");
        StackWriter.Write(path, stack);

        Stack back = StackFile.Load(path, TestKernels.Resolve);
        Assert.Equal(stack.Name, back.Name);
        Assert.Equal(stack.Description, back.Description);
        Assert.Equal(StackInput.Rgb, back.Input);
        Assert.Equal(layers.Count, back.Layers.Count);
        for (int i = 0; i < layers.Count; i++)
        {
            Assert.Equal(layers[i].Type, back.Layers[i].Type);
            Assert.Equal(layers[i].Label, back.Layers[i].Label);
            switch (layers[i])
            {
                case ConvLayer c:
                    var bc = (ConvLayer)back.Layers[i];
                    Assert.Equal(c.Options, bc.Options);
                    Assert.Equal(c.Weight.Shape, bc.Weight.Shape);
                    Assert.Equal(c.Weight.Data, bc.Weight.Data);
                    Assert.Equal(c.Bias, bc.Bias);
                    Assert.Equal(c.Kernels, bc.Kernels);
                    Assert.Equal(c.Sum, bc.Sum);
                    break;
                case PoolLayer pl:
                    Assert.Equal(pl.Options with { StrideY = pl.Options.EffectiveStrideY, StrideX = pl.Options.EffectiveStrideX },
                        ((PoolLayer)back.Layers[i]).Options with { StrideY = pl.Options.EffectiveStrideY, StrideX = pl.Options.EffectiveStrideX });
                    break;
                case ActivationLayer a:
                    Assert.Equal((a.Kind, a.Slope), (((ActivationLayer)back.Layers[i]).Kind, ((ActivationLayer)back.Layers[i]).Slope));
                    break;
            }
        }
        Assert.Equal(new[] { "broken.safetensors", "round.json", "round.safetensors", "w.safetensors" }, Directory.GetFiles(_dir.Dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void LearnedConv_FromNpyPaths_AndFixedKernelFromAFileNextToTheStack()
    {
        var rng = new Random(5);
        Tensor w = TestKernels.Random(rng, 2, 1, 3, 3);
        Npy.Write(_dir.File("w.npy"), w);
        Npy.Write(_dir.File("b.npy"), new Tensor([2], [0.5f, -0.5f]));
        File.WriteAllText(_dir.File("k.txt"), "# a hand-written kernel\nscale 1/4\n0 1 0\n1 0 1\n0 1 0\n");
        string path = _dir.Write("npy.json", """
            { "layers": [ {"type": "conv", "weight": "w.npy", "bias": "b.npy"},
                          {"type": "conv", "kernels": ["k.txt", "sobel-x"], "sum": true} ] }
            """);
        Stack s = StackFile.Load(path); // Core's own kernel library, kernel files and .npy reader
        var learned = (ConvLayer)s.Layers[0];
        Assert.Equal(w.Data, learned.Weight.Data);
        Assert.Equal([0.5f, -0.5f], learned.Bias!);
        var bank = (ConvLayer)s.Layers[1];
        Assert.Equal([2, 2, 3, 3], bank.Weight.Shape);
        Assert.Equal([0f, 0.25f, 0f, 0.25f, 0f, 0.25f, 0f, 0.25f, 0f], bank.Weight.Data.AsSpan(0, 9).ToArray());
        Assert.Equal([-1f, 0f, 1f, -2f, 0f, 2f, -1f, 0f, 1f], bank.Weight.Data.AsSpan(2 * 9, 9).ToArray());
    }

    [Fact]
    public void Writer_NpyNamedLayer_WritesItsNpyFiles_AndRefusesOneNameForTwoTensors()
    {
        var rng = new Random(12);
        Tensor w = TestKernels.Random(rng, 3, 1, 1, 3);
        float[] b = TestKernels.Random(rng, 3).Data;
        var stack = new Stack("npy", StackInput.Gray, [ConvLayer.Learned(w, b, new ConvOptions(), "w1.npy", "b1.npy")]);
        StackWriter.Write(_dir.File("npy-out.json"), stack);
        Assert.Equal(w.Data, Npy.Read(_dir.File("w1.npy")).Data);
        var back = (ConvLayer)StackFile.Load(_dir.File("npy-out.json")).Layers[0];
        Assert.Equal(w.Data, back.Weight.Data);
        Assert.Equal(b, back.Bias!);

        var clash = new Stack("clash", StackInput.Gray,
        [
            ConvLayer.Learned(TestKernels.Random(rng, 1, 1, 3, 3), null, new ConvOptions(), "k"),
            ConvLayer.Learned(TestKernels.Random(rng, 1, 1, 3, 3), null, new ConvOptions(), "k"),
        ], "clash.safetensors");
        var e = Assert.Throws<ConvGLException>(() => StackWriter.Write(_dir.File("clash.json"), clash));
        Assert.Contains("layer 1 names tensor 'k'", e.Message);
        Assert.False(File.Exists(_dir.File("clash.json")));
        Assert.False(File.Exists(_dir.File("clash.safetensors")));
    }

    [Fact]
    public void ConvLayerForward_SplitAcrossCores_IsBitIdenticalToOneReferenceCall()
    {
        // Forced onto the parallel path (minParallelWork 0), with 1, 2, 3 and depthwise groups.
        var rng = new Random(31);
        foreach ((int cin, int cout, int groups, int k) in new[] { (3, 7, 1, 3), (4, 6, 2, 5), (6, 9, 3, 3), (5, 10, 5, 7) })
        {
            Tensor input = TestKernels.Random(rng, cin, 19, 23);
            var o = new ConvOptions { Groups = groups, Border = Border.Reflect, StrideX = 2, DilationY = 2 };
            ConvLayer layer = ConvLayer.Learned(TestKernels.Random(rng, cout, cin / groups, k, k), TestKernels.Random(rng, cout).Data, o, "w", "b");
            Tensor expected = Conv2D.Apply(input, layer.Weight, layer.Bias, o);
            Tensor actual = layer.Forward(input, minParallelWork: 0);
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.True(expected.Data.AsSpan().SequenceEqual(actual.Data), $"cin {cin} cout {cout} groups {groups} k {k}: parallel split differs");
        }
    }

    [Fact]
    public void Magnitude_WorkedExample_PairsAdjacentChannels()
    {
        // Channels (3, 4) -> 5 and (-5, 12) -> 13 at pixel 0; (0, 0) -> 0 and (8, -6) -> 10 at pixel 1.
        var t = Tensor.Chw(4, 1, 2, [3, 0, 4, 0, -5, 8, 12, -6]);
        Tensor m = Magnitude.Apply(t);
        Assert.Equal([2, 1, 2], m.Shape);
        Assert.Equal([5f, 0f, 13f, 10f], m.Data);
    }

    /// <summary>From a hostile-input review: a layer named "input" and a reference to "input" read the stack input
    /// silently; now the reference is refused (above), -1 and the index say which is meant, and a stack with such a layer
    /// is written with -1 for its stack input, so it loads again.</summary>
    [Fact]
    public void ALayerNamedInput_IsReachedByItsIndex_AndWrittenStacksSayMinusOne()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("s.json"), """{"input": "gray", "layers": [{"type": "leaky_relu", "slope": 0.5, "name": "input"}, {"type": "add", "inputs": [-1, 0]}]}""");
        Stack stack = StackFile.Load(dir.File("s.json"));
        var x = new Tensor([1, 1, 2], [-2f, 3f]);
        // -2 + leaky(-2) = -3; 3 + 3 = 6.
        Assert.Equal([-3f, 6f], StackRunner.Run(stack, x).Outputs[1].Data);
        string json = StackWriter.ToJson(stack);
        Assert.Contains("\"inputs\": [\n        -1,\n        0\n      ]", json.Replace("\r", ""));
        File.WriteAllText(dir.File("back.json"), json);
        Assert.Equal([-3f, 6f], StackRunner.Run(StackFile.Load(dir.File("back.json")), x).Outputs[1].Data);
    }
}
