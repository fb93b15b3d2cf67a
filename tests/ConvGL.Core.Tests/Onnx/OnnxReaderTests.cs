using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Ops;
using Google.Protobuf;

namespace ConvGL.Core.Tests.Onnx;

public class OnnxReaderTests
{
    [Fact]
    public void Initializers_FromFloatDataAndRawData_ReadTheSameValues()
    {
        float[] w = [1.5f, -2f, 0.25f, 3e-8f, -0f, 7f];
        ModelProto m = ProtoBuilders.OneNode("Relu");
        m.Graph.Initializer.Add(ProtoBuilders.FloatData("a", w, 2, 3));
        m.Graph.Initializer.Add(ProtoBuilders.RawData("b", w, 2, 3));
        OnnxModel model = OnnxReader.Parse(m.ToByteArray(), "t.onnx");
        Assert.Equal([2, 3], model.Initializers["a"].Shape);
        Assert.Equal(w, model.Initializers["a"].Data);
        Assert.Equal(w, model.Initializers["b"].Data);
        Assert.Equal(13, model.Opset);
        Assert.Equal("x", Assert.Single(model.Inputs).Name);
        Assert.Equal([1, 2, 4, 5], model.Inputs[0].Shape!);
    }

    [Fact]
    public void RawData_OfTheWrongLength_IsAnErrorNamingTheInitializer_BeforeAllocating()
    {
        ModelProto m = ProtoBuilders.OneNode("Relu");
        TensorProto t = ProtoBuilders.RawData("w", [1, 2, 3], 3);
        t.Dims[0] = 1 << 30; // claims 4 GiB of floats; the 12 bytes present are checked first
        m.Graph.Initializer.Add(t);
        var e = Assert.Throws<ConvGLException>(() => OnnxReader.Parse(m.ToByteArray(), "t.onnx"));
        Assert.Contains("t.onnx: initializer 'w': raw_data holds 12 bytes", e.Message);
    }

    /// <summary>A file that is no ONNX model says what it looks like (from the newcomer walk: a stack file, a photo or a
    /// text renamed .onnx gave protobuf's message alone): JSON, an image, a .npy array, else the general question.</summary>
    [Fact]
    public void NotAModel_SaysWhatTheFileLooksLike()
    {
        string Message(byte[] bytes) => Assert.Throws<ConvGLException>(() => OnnxReader.Parse(bytes, "m.onnx")).Message;
        Assert.EndsWith("; it looks like JSON: a stack file is named .json (an ONNX model is the binary file torch.onnx.export writes)",
            Message("\n  { \"name\": \"edges\", \"layers\": [ { \"type\": \"abs\" } ] }\n"u8.ToArray()));
        Assert.EndsWith("it looks like JSON: a stack file is named .json (an ONNX model is the binary file torch.onnx.export writes)",
            Message("// a stack\n{ \"layers\": [] }"u8.ToArray()));
        Assert.EndsWith("; it looks like an image: give it as --source (or to apply / features), and the model as --stack",
            Message([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]));
        Assert.EndsWith("; it looks like an image: give it as --source (or to apply / features), and the model as --stack",
            Message([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R']));
        Assert.EndsWith(" (is this an ONNX file? one is the binary ModelProto torch.onnx.export writes)", Message("hello, world: not a model\n"u8.ToArray()));
        Assert.Equal("m.onnx: the ONNX model has no graph (is this an ONNX file? one is the binary ModelProto torch.onnx.export writes)", Message([]));
    }

    [Fact]
    public void TruncatedOrLyingLengths_AreOneErrorNamingTheFile()
    {
        ModelProto m = ProtoBuilders.OneNode("Relu");
        m.Graph.Initializer.Add(ProtoBuilders.FloatData("w", new float[1000], 1000));
        byte[] bytes = m.ToByteArray();
        var e = Assert.Throws<ConvGLException>(() => OnnxReader.Parse(bytes[..(bytes.Length - 100)], "cut.onnx"));
        // Said in one clause (a hostile-input review read protobuf's two sentences about embedded messages).
        Assert.StartsWith("cut.onnx: not a readable ONNX model (it ends in the middle of a field: truncated, or a length inside it is wrong)", e.Message);
        // A graph field whose length prefix claims ~2 GB in a 6-byte file.
        e = Assert.Throws<ConvGLException>(() => OnnxReader.Parse([0x3a, 0xff, 0xff, 0xff, 0xff, 0x07], "lie.onnx"));
        Assert.StartsWith("lie.onnx: not a readable ONNX model", e.Message);
    }

    [Fact]
    public void FileAboveTheSizeCap_IsRejectedBeforeReading()
    {
        using var dir = new TempDir();
        string path = dir.File("big.onnx");
        using (FileStream f = File.Create(path)) f.SetLength(OnnxReader.MaxFileBytes + 1); // sparse: costs no disk
        var e = Assert.Throws<ConvGLException>(() => OnnxReader.Load(path));
        Assert.Equal($"cannot read ONNX model '{path}': it is {OnnxReader.MaxFileBytes + 1} bytes, over the 1 GiB limit for an ONNX model", e.Message);
    }

    /// <summary>Header fields a damaged file may hold: an operator set version below 1 or absurdly high, and a graph
    /// with no outputs (it loaded and computed nothing).</summary>
    [Theory]
    [InlineData(-5L)]
    [InlineData(0L)]     // written as 0 (the fuzz audit's was taken as the implied 1 of a file with no opset_import)
    [InlineData(41L)]
    [InlineData(999L)]   // the fuzz audit's: read as if it were today's
    [InlineData(1L << 62)]
    public void OpsetOutOfRange_IsOneError(long version)
    {
        ModelProto m = ProtoBuilders.OneNode("Relu");
        m.OpsetImport[0].Version = version;
        var e = Assert.Throws<ConvGLException>(() => OnnxReader.Parse(m.ToByteArray(), "m.onnx"));
        Assert.Equal($"m.onnx: opset_import gives the ONNX operator set version {version}; ConvGL reads versions 1 to 40 (export the model again, with a released opset)", e.Message);
    }

    [Fact]
    public void OpsetInRange_OrNoneImported_Loads()
    {
        ModelProto m = ProtoBuilders.OneNode("Relu");
        foreach (long v in new[] { 1L, 13L, 23L, 40L })
        {
            m.OpsetImport[0].Version = v;
            Assert.Equal(v, OnnxReader.Parse(m.ToByteArray(), "m.onnx").Opset);
        }
        m.OpsetImport.Clear();
        m.IrVersion = 2; // an IR 1-2 file: opset 1 implied
        Assert.Equal(1, OnnxReader.Parse(m.ToByteArray(), "m.onnx").Opset);
    }

    /// <summary>A review: a 10 KB node name or op_type was echoed whole (a 10,351-character error line); both are cut to
    /// the echo length, as every other name the user did not type is.</summary>
    [Fact]
    public void HugeNodeNamesAndOpTypes_AreCutInErrors()
    {
        string longName = new('n', 10_240), longOp = new('N', 10_240);
        ModelProto m = ProtoBuilders.OneNode(longOp);
        m.Graph.Node[0].Name = longName;
        var e = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx")));
        Assert.StartsWith($"m.onnx: node '{new string('n', ErrorText.MaxEcho)}...' ({new string('N', ErrorText.MaxEcho)}...): op {new string('N', ErrorText.MaxEcho)}... is not supported", e.Message);
        Assert.True(e.Message.Length < 3000, $"{e.Message.Length} characters");
        m = ProtoBuilders.OneNode("Relu");
        m.Graph.Node[0].Input[0] = longName;
        e = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx")));
        Assert.Contains($"input '{new string('n', ErrorText.MaxEcho)}...' is neither", e.Message);
        Assert.True(e.Message.Length < 600, $"{e.Message.Length} characters");
    }

    /// <summary>A review: exporters write opset_import after the graph, so a model cut in its last bytes is well-formed
    /// protobuf without it, and was read as opset 1 (ResNet18 cut 6 bytes short ran; a Softmax case FAILed by 0.81). From
    /// IR 3 on the specification requires it: such a file is one error saying it is probably cut short.</summary>
    [Fact]
    public void AModelCutBeforeItsOpsetImport_IsOneError()
    {
        byte[] whole = ProtoBuilders.OneNode("Softmax").ToByteArray();
        var opset = new ModelProto { OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
        // The field is the serialised message's last bytes (Google.Protobuf writes fields in number order; it is field 8).
        Assert.Equal(opset, whole[^opset.Length..]);
        byte[] cut = whole[..^opset.Length];
        var e = Assert.Throws<ConvGLException>(() => OnnxReader.Parse(cut, "m.onnx"));
        Assert.Equal("m.onnx: the model declares IR version 7 but no opset_import for the default ONNX domain, which that version requires " +
                     "(exporters write it last: the file is probably cut short); copy or export it again", e.Message);
    }

    /// <summary>The fuzz audit: a Conv whose weight initializer was stored as INT64 ran with it as floats. Integers are
    /// sizes, axes and indices; a weight stored so is one error naming the node and the input.</summary>
    [Fact]
    public void AnIntegerWeight_IsOneErrorNamingTheNodeAndInput()
    {
        var w = new TensorProto { Name = "W", DataType = 7 };
        w.Dims.AddRange([1L, 1, 3, 3]);
        w.Int64Data.AddRange(new long[9]);
        var node = new NodeProto { Name = "c0", OpType = "Conv", Input = { "x", "W" }, Output = { "y" } };
        var graph = new GraphProto { Name = "g", Node = { node }, Initializer = { w }, Input = { ProtoBuilders.Value("x", 1, 1, 8, 8) }, Output = { ProtoBuilders.Value("y", 1, 1, 6, 6) } };
        var m = new ModelProto { IrVersion = 7, Graph = graph, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        var e = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx")));
        Assert.Equal("m.onnx: node 'c0' (Conv): input 'W' is stored as INT64; Conv takes float weights (FLOAT, DOUBLE or FLOAT16): export the model again", e.Message);
        w.DataType = 1;
        w.Int64Data.Clear();
        w.FloatData.AddRange(new float[9]);
        Assert.Single(OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx")).Ops);
        // The same weight as a Constant node's INT64 value (the review's way around the check) is refused too.
        var k = new TensorProto { Name = "k", DataType = 7 };
        k.Dims.AddRange([1L, 1, 3, 3]);
        k.Int64Data.AddRange(new long[9]);
        graph.Initializer.Clear();
        graph.Node.Insert(0, new NodeProto { Name = "k0", OpType = "Constant", Output = { "W" }, Attribute = { new AttributeProto { Name = "value", Type = 4, T = k } } });
        e = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx")));
        Assert.Equal("m.onnx: node 'c0' (Conv): input 'W' is stored as INT64; Conv takes float weights (FLOAT, DOUBLE or FLOAT16): export the model again", e.Message);
    }

    /// <summary>A review: a Reshape whose shape was stored as FLOAT ran (ONNX Runtime refuses such a model: the shape
    /// input is INT64). A size, axes or indices input stored as a float is one error naming the node and the input,
    /// as an initializer and as a Constant; the same model with the shape stored as INT64 reshapes.</summary>
    [Fact]
    public void AFloatShape_IsOneErrorNamingTheNodeAndInput_TheInt64OneReshapes()
    {
        var shape = new TensorProto { Name = "s", DataType = 1 };
        shape.Dims.Add(2);
        shape.FloatData.AddRange([4f, 16f]);
        var node = new NodeProto { Name = "r0", OpType = "Reshape", Input = { "x", "s" }, Output = { "y" } };
        var graph = new GraphProto { Name = "g", Node = { node }, Initializer = { shape }, Input = { ProtoBuilders.Value("x", 1, 1, 8, 8) }, Output = { ProtoBuilders.Value("y", 4, 16) } };
        var m = new ModelProto { IrVersion = 7, Graph = graph, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        const string Want = "m.onnx: node 'r0' (Reshape): input 's' is stored as a floating-point tensor; Reshape takes INT64 there (sizes, axes and indices are integers): export the model again";
        var e = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx")));
        Assert.Equal(Want, e.Message);

        graph.Initializer.Clear();
        graph.Node.Insert(0, new NodeProto { Name = "k0", OpType = "Constant", Output = { "s" }, Attribute = { new AttributeProto { Name = "value", Type = 4, T = shape } } });
        e = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx")));
        Assert.Equal(Want, e.Message);

        shape.DataType = 7;
        shape.FloatData.Clear();
        shape.Int64Data.AddRange([4L, 16]);
        OnnxGraph g = OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx"));
        Tensor x = new([1, 1, 8, 8], Enumerable.Range(0, 64).Select(i => (float)i).ToArray());
        Tensor y = g.Run(new Dictionary<string, Tensor> { ["x"] = x })["y"];
        Assert.Equal([4, 16], y.Shape);
        Assert.Equal(x.Data, y.Data);
    }

    /// <summary>A review: INT64 parameters are held as float32, and one above 2^24 that float32 cannot hold (a Reshape to
    /// (1, 16777217)) was used rounded. It is one error naming the tensor and the entry, from int64_data and raw_data alike;
    /// the "to the end" sentinels (INT64_MAX, INT32_MAX) and exact large values still load.</summary>
    [Fact]
    public void AnInteger_Float32CannotHold_IsOneError_SentinelsLoad()
    {
        foreach (bool raw in new[] { false, true })
        {
            ModelProto With(params long[] values)
            {
                var s = new TensorProto { Name = "shape", DataType = 7 };
                s.Dims.Add(values.Length);
                if (raw) s.RawData = Google.Protobuf.ByteString.CopyFrom(values.SelectMany(BitConverter.GetBytes).ToArray());
                else s.Int64Data.AddRange(values);
                var node = new NodeProto { Name = "r0", OpType = "Reshape", Input = { "x", "shape" }, Output = { "y" } };
                var graph = new GraphProto { Name = "g", Node = { node }, Initializer = { s }, Input = { ProtoBuilders.Value("x", 1, 1, 8, 8) }, Output = { ProtoBuilders.Value("y", 1, 64) } };
                return new ModelProto { IrVersion = 7, Graph = graph, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
            }
            var e = Assert.Throws<ConvGLException>(() => OnnxReader.Parse(With(1, 16_777_217).ToByteArray(), "m.onnx"));
            Assert.Contains("entry 1 is 16777217, which ConvGL's float32 values cannot hold exactly", e.Message);
            Assert.Contains("'shape'", e.Message);
            // Exact ones load: 2^24 + 2 and the sentinels (rounded, and saturated where they are read).
            OnnxReader.Parse(With(1, 16_777_218, long.MaxValue, int.MaxValue, long.MinValue).ToByteArray(), "m.onnx");
        }
    }

    [Fact]
    public void AGraphWithoutOutputs_IsOneError()
    {
        ModelProto m = ProtoBuilders.OneNode("Relu");
        m.Graph.Output.Clear();
        var e = Assert.Throws<ConvGLException>(() => OnnxReader.Parse(m.ToByteArray(), "m.onnx"));
        Assert.StartsWith("m.onnx: the graph declares no outputs", e.Message);
    }

    [Fact]
    public void UnsupportedAttribute_IsOneErrorNamingNodeOpAndTheSupportedOnes()
    {
        ModelProto m = ProtoBuilders.OneNode("LeakyRelu", new AttributeProto { Name = "gamma", Type = 1, F = 2 });
        var e = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx")));
        Assert.Equal("m.onnx: node 'n0' (LeakyRelu): attribute 'gamma' is not supported (supported: alpha)", e.Message);
    }

    [Fact]
    public void UnsupportedOp_ListsTheSupportedOps()
    {
        ModelProto m = ProtoBuilders.OneNode("Range");
        var e = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx")));
        Assert.Equal($"m.onnx: node 'n0' (Range): op Range is not supported (supported: {string.Join(", ", OnnxGraph.SupportedOps)}); if it computes sizes (PyTorch exports do this for a free input size): export with a fixed input size and do_constant_folding=True (ConvGL runs Shape, Gather, Slice, Unsqueeze, Concat and Cast on sizes)", e.Message);
        Assert.Subset(OnnxGraph.SupportedOps.ToHashSet(), new HashSet<string> { "Conv", "BatchNormalization", "MaxPool", "Relu", "Add", "Gemm", "Shape", "Transpose", "Tile" });
        Assert.DoesNotContain("Range", OnnxGraph.SupportedOps);
        // Every other unsupported op type of the model is named in the same line.
        m.Graph.Node.Add(new NodeProto { Name = "n1", OpType = "NonZero", Input = { "y" }, Output = { "z" } });
        m.Graph.Node.Add(new NodeProto { Name = "n2", OpType = "Where", Input = { "z" }, Output = { "z2" } });
        m.Graph.Node.Add(new NodeProto { Name = "n3", OpType = "Where", Input = { "z2" }, Output = { "z3" } });
        m.Graph.Node.Add(new NodeProto { Name = "n4", OpType = "Relu", Input = { "z3" }, Output = { "z4" } });
        var all = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx")));
        Assert.StartsWith("m.onnx: node 'n0' (Range): op Range is not supported", all.Message);
        Assert.EndsWith("; the model also uses these unsupported ops: NonZero, Where (2 nodes)", all.Message);
        // An op with no hint names only what is supported.
        var lstm = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(ProtoBuilders.OneNode("LSTM").ToByteArray(), "m.onnx")));
        Assert.EndsWith($"(supported: {string.Join(", ", OnnxGraph.SupportedOps)})", lstm.Message);
    }

    [Fact]
    public void UnsupportedAutoPad_And_WrongAttributeType_AreNamed()
    {
        ModelProto m = ProtoBuilders.OneNode("MaxPool",
            new AttributeProto { Name = "kernel_shape", Type = 7, Ints = { 2, 2 } },
            new AttributeProto { Name = "auto_pad", Type = 3, S = ByteString.CopyFromUtf8("SAME") });
        var e = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx")));
        Assert.Equal("m.onnx: node 'n0' (MaxPool): auto_pad 'SAME' is not supported (supported: NOTSET, SAME_UPPER, SAME_LOWER, VALID)", e.Message);
        m = ProtoBuilders.OneNode("MaxPool", new AttributeProto { Name = "kernel_shape", Type = 2, I = 2 });
        e = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "m.onnx")));
        Assert.Equal("m.onnx: node 'n0' (MaxPool): attribute 'kernel_shape' must be INTS, the file has INT", e.Message);
    }

    [Fact]
    public void ConvThenBatchNorm_FoldsIntoOneConv_WithTheSameOutput()
    {
        var rng = new Random(7);
        float[] R(int n, float lo = -1, float hi = 1) => Enumerable.Range(0, n).Select(_ => lo + (float)rng.NextDouble() * (hi - lo)).ToArray();
        var conv = new NodeProto { Name = "conv", OpType = "Conv", Input = { "x", "w" }, Output = { "c" } };
        conv.Attribute.Add(new AttributeProto { Name = "pads", Type = 7, Ints = { 1, 0, 2, 1 } });
        conv.Attribute.Add(new AttributeProto { Name = "strides", Type = 7, Ints = { 2, 1 } });
        var bn = new NodeProto { Name = "bn", OpType = "BatchNormalization", Input = { "c", "s", "b", "m", "v" }, Output = { "y" } };
        var graph = new GraphProto
        {
            Node = { conv, bn }, Input = { ProtoBuilders.Value("x", 1, 2, 7, 6) }, Output = { ProtoBuilders.Value("y") },
            Initializer =
            {
                ProtoBuilders.FloatData("w", R(3 * 2 * 3 * 3), 3, 2, 3, 3), ProtoBuilders.FloatData("s", R(3), 3), ProtoBuilders.FloatData("b", R(3), 3),
                ProtoBuilders.FloatData("m", R(3), 3), ProtoBuilders.FloatData("v", R(3, 0.1f, 2f), 3),
            },
        };
        OnnxModel model = OnnxReader.Parse(new ModelProto { Graph = graph, OpsetImport = { new OperatorSetIdProto { Version = 9 } } }.ToByteArray(), "f.onnx");
        OnnxGraph folded = OnnxGraph.Build(model), plain = OnnxGraph.Build(model, foldBatchNorm: false);
        Assert.IsType<ConvOp>(Assert.Single(folded.Ops));
        Assert.Equal(2, plain.Ops.Count);
        var x = new Tensor([1, 2, 7, 6], R(84));
        Tensor a = folded.Run(new Dictionary<string, Tensor> { ["x"] = x })["y"], b = plain.Run(new Dictionary<string, Tensor> { ["x"] = x })["y"];
        // (7 + 1 + 2 - 3) / 2 + 1 = 4 rows, (6 + 0 + 1 - 3) + 1 = 5 columns.
        Assert.Equal([1, 3, 4, 5], a.Shape);
        for (int i = 0; i < a.Length; i++) Assert.Equal(b.Data[i], a.Data[i], 1e-5f);
    }

    [Fact]
    public void PaddedPool_CeilModeAndCountIncludePad_ByHand()
    {
        // 1x5 row [1 2 3 4 5], window 3, stride 2, pads (1 left, 1 right), ceil: ceil((5 + 2 - 3) / 2) + 1 = 3 windows,
        // starting at -1, 1, 3: [p 1 2] [2 3 4] [4 5 p]. Averages exclude the padding (1.5, 3, 4.5) or count it (1, 3, 3).
        var x = Tensor.Chw(1, 1, 5, [1, 2, 3, 4, 5]);
        var o = new PaddedPoolOptions { Kind = PoolKind.Average, SizeY = 1, SizeX = 3, StrideY = 1, StrideX = 2, PadLeft = 1, PadRight = 1, CeilMode = true };
        Assert.Equal([1.5f, 3f, 4.5f], PaddedPool2D.Apply(x, o).Data);
        Assert.Equal([1f, 3f, 3f], PaddedPool2D.Apply(x, o with { CountIncludePad = true }).Data);
        Assert.Equal([2f, 4f, 5f], PaddedPool2D.Apply(x, o with { Kind = PoolKind.Max }).Data);
        // Without ceil: floor((5 + 2 - 3) / 2) + 1 = 3 too; with stride 3: floor(4/3)+1 = 2, ceil gives 3 but the 3rd
        // window would start at 6 - 1 = 5 >= n: dropped (PyTorch's rule), so still 2.
        Assert.Equal(2, PaddedPool2D.Apply(x, o with { StrideX = 3 }).W);
        // Dilation 2, no padding: taps (0, 2, 4) -> max 5, one output.
        Assert.Equal([5f], PaddedPool2D.Apply(x, new PaddedPoolOptions { SizeY = 1, SizeX = 3, DilationX = 2 }).Data);
    }
}
