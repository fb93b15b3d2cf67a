using System.Buffers.Binary;
using ConvGL.Core.Onnx.Proto;
using Google.Protobuf;

namespace ConvGL.Core.Onnx;

/// <summary>Reads ONNX files: models (ModelProto, <c>*.onnx</c>) and single tensors (TensorProto, the
/// <c>input_N.pb</c> / <c>output_N.pb</c> files of the ONNX backend test cases).
///
/// Protobuf runtime: Google.Protobuf (Google's own, maintained C# runtime) with Onnx/onnx_model.proto, our own
/// declaration of the ONNX messages ConvGL reads (field numbers from the ONNX IR specification), compiled by protoc
/// (Grpc.Tools) at build time. Chosen over OnnxSharp, which wraps the same runtime with generated classes of the
/// whole schema plus its own graph-editing API that ConvGL does not need, and over a hand-written wire-format
/// reader, which would re-implement (and have to test) varints, packed fields and unknown-field skipping that
/// the runtime already gets right. Declaring only the fields we read keeps the generated surface small;
/// everything else in a file is skipped as an unknown field.
///
/// Bounded: the file size is checked against <see cref="MaxFileBytes"/> before it is read; the whole file is then
/// parsed from memory, so every length prefix is checked by the runtime against the bytes that are really there
/// (a lying length is a truncation error, not an allocation); a tensor's element count is checked against its
/// data before its float array is allocated. Every failure is one <see cref="ConvGLException"/> naming the file.</summary>
public static class OnnxReader
{
    /// <summary>Protobuf messages cannot exceed 2 GiB; 1 GiB is far above ResNet-sized models (ResNet18 is 64 MB).</summary>
    public const long MaxFileBytes = Limits.OnnxFileBytes;

    private const int Float = 1, Int32 = 6, Int64 = 7, Bool = 9, Float16 = 10, Double = 11;

    /// <summary>The ONNX TensorProto.DataType name of an element type number, for messages.</summary>
    public static string DataTypeName(int t) => t switch
    {
        0 => "UNDEFINED", 1 => "FLOAT", 2 => "UINT8", 3 => "INT8", 4 => "UINT16", 5 => "INT16", 6 => "INT32", 7 => "INT64",
        8 => "STRING", 9 => "BOOL", 10 => "FLOAT16", 11 => "DOUBLE", 12 => "UINT32", 13 => "UINT64", 14 => "COMPLEX64",
        15 => "COMPLEX128", 16 => "BFLOAT16", _ => $"type {t}",
    };

    public static OnnxModel Load(string path)
    {
        byte[] bytes = ReadBounded(path, "ONNX model");
        return Parse(bytes, path);
    }

    /// <summary>What a file that does not parse as a ModelProto seems to be, by its first bytes: a stack or other JSON file,
    /// an image, a text file; else the general question.</summary>
    internal static string WhatItLooksLike(ReadOnlySpan<byte> bytes)
    {
        ReadOnlySpan<byte> start = bytes.TrimStart(" \t\r\n"u8);
        if (start.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) start = start[3..].TrimStart(" \t\r\n"u8);
        if (start.Length > 0 && start[0] is (byte)'{' or (byte)'[' || start.StartsWith("//"u8))
            return "; it looks like JSON: a stack file is named .json (an ONNX model is the binary file torch.onnx.export writes)";
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) || bytes.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']) || bytes.StartsWith("GIF8"u8) || bytes.StartsWith("BM"u8))
            return "; it looks like an image: give it as --source (or to apply / features), and the model as --stack";
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y']))
            return "; it looks like a .npy array: name it .npy";
        return " (is this an ONNX file? one is the binary ModelProto torch.onnx.export writes)";
    }

    /// <summary>Parses a ModelProto held in memory; <paramref name="source"/> names it in errors.</summary>
    public static OnnxModel Parse(byte[] bytes, string source)
    {
        CheckCounts(bytes, source);
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ConvGLException($"{source}: not a readable ONNX model ({ProtobufReason(e)}){WhatItLooksLike(bytes)}", e);
        }
        if (proto.Graph is null) throw new ConvGLException($"{source}: the ONNX model has no graph{WhatItLooksLike(bytes)}");
        GraphProto g = proto.Graph;
        if (g.SparseInitializer.Count > 0)
            throw new ConvGLException($"{source}: sparse initializers ('{g.SparseInitializer[0].Values?.Name}') are not supported; store the weights dense");

        long opset = 0;
        bool declared = false;
        foreach (OperatorSetIdProto o in proto.OpsetImport)
            if (o.Domain is "" or "ai.onnx") (opset, declared) = (o.Version, true);
        // IR 1-2 files may carry no opset_import: the specification says opset 1 is implied. From IR 3 on one is required,
        // and exporters write it after the graph, so a file cut in its last bytes is still well-formed protobuf without
        // it: read as opset 1 it ran (a Softmax then takes the old rule: max error 0.81 on a conformance case).
        if (!declared && proto.IrVersion >= 3)
            throw new ConvGLException($"{source}: the model declares IR version {proto.IrVersion} but no opset_import for the default ONNX domain, " +
                                      "which that version requires (exporters write it last: the file is probably cut short); copy or export it again");
        if (!declared) opset = 1;
        // The default domain's versions count up from 1 (23 in 2025, one or two a year); attribute forms are read by
        // version, so a written 0, a negative one or one far past today's is a damaged file, not a newer one.
        if (opset < 1 || opset > MaxOpset)
            throw new ConvGLException($"{source}: opset_import gives the ONNX operator set version {opset}; ConvGL reads versions 1 to {MaxOpset} (export the model again, with a released opset)");
        if (g.Output.Count == 0)
            throw new ConvGLException($"{source}: the graph declares no outputs, so running it would compute nothing; export the model with its outputs");

        var initializers = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (TensorProto t in g.Initializer)
        {
            if (t.Name.Length == 0) throw new ConvGLException($"{source}: an initializer has no name");
            if (!initializers.TryAdd(t.Name, ToTensor(t, $"{source}: initializer '{t.Name}'")))
                throw new ConvGLException($"{source}: initializer '{t.Name}' is given twice");
        }

        var nodes = new List<OnnxNode>(g.Node.Count);
        foreach (NodeProto n in g.Node)
        {
            var attributes = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
            foreach (AttributeProto a in n.Attribute)
            {
                string context = $"{source}: node '{(n.Name.Length > 0 ? n.Name : n.OpType)}' ({n.OpType}) attribute '{a.Name}'";
                if (a.RefAttrName.Length > 0) throw new ConvGLException($"{context} refers to a function attribute; only plain graphs are supported");
                if (!attributes.TryAdd(a.Name, ToAttribute(a, context))) throw new ConvGLException($"{context} is given twice");
            }
            nodes.Add(new OnnxNode(n.Name, n.OpType, n.Domain, n.Input.ToArray(), n.Output.ToArray(), attributes));
        }

        return new OnnxModel
        {
            Source = source,
            IrVersion = proto.IrVersion,
            Opset = opset,
            Producer = (proto.ProducerName + " " + proto.ProducerVersion).Trim(),
            GraphName = g.Name,
            Inputs = g.Input.Where(i => !initializers.ContainsKey(i.Name)).Select(ToValueInfo).ToArray(),
            Outputs = g.Output.Select(ToValueInfo).ToArray(),
            Initializers = initializers,
            IntegerInitializers = g.Initializer.Where(t => t.DataType is not (1 or 10 or 11)).ToDictionary(t => t.Name, t => t.DataType, StringComparer.Ordinal),
            Nodes = nodes,
        };
    }

    /// <summary>The newest default-domain operator set a model may import: ONNX released opset 23 in 2025 and adds one or
    /// two a year; well past that is a damaged number (the fuzz audit's 999 was read as if it were 23).</summary>
    public const long MaxOpset = 40;

    /// <summary>One TensorProto file (an ONNX backend test case's <c>input_N.pb</c> or <c>output_N.pb</c>).</summary>
    /// <summary>Counts the main graph's nodes and entries (<see cref="Limits.Layers"/>, <see cref="Limits.GraphEntries"/>)
    /// from the protobuf wire format, before any object is built: parsing builds an object per entry, about 27 bytes of
    /// memory a byte of file for a file of tiny nodes. Bytes that are not well-formed are left to the parser to report.</summary>
    internal static void CheckCounts(ReadOnlySpan<byte> model, string source)
    {
        var top = new Wire(model);
        while (top.Next(out int field, out int type, out ReadOnlySpan<byte> body))
        {
            if (field != 7 || type != 2) continue;
            long nodes = 0, entries = 0;
            var graph = new Wire(body);
            while (graph.Next(out int f, out int t, out ReadOnlySpan<byte> item))
            {
                if (t != 2) continue;
                if (f == 1)
                {
                    nodes++;
                    var node = new Wire(item);
                    while (node.Next(out int nf, out int nt, out _))
                        if (nt == 2 && nf is 1 or 2 or 5) entries++;
                }
                else if (f is 5 or 11 or 12 or 13) entries++;
            }
            if (nodes > Limits.Layers)
                throw new ConvGLException($"{source}: the graph has {nodes} nodes, over the limit of {Limits.Layers} ConvGL runs (ResNet18 has 69)");
            if (entries > Limits.GraphEntries)
                throw new ConvGLException($"{source}: the graph has {entries} node inputs, outputs, attributes and tensor records, over the limit of {Limits.GraphEntries}");
        }
    }

    /// <summary>A reader of protobuf's wire format: each field's number, wire type and (for length-delimited fields) body.</summary>
    private ref struct Wire(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _at;

        /// <summary>The next field, or false at the end or at bytes that are not well-formed.</summary>
        public bool Next(out int field, out int type, out ReadOnlySpan<byte> body)
        {
            field = type = 0;
            body = default;
            if (_at >= _bytes.Length || !Varint(out ulong tag)) return false;
            field = (int)Math.Min(tag >> 3, int.MaxValue);
            type = (int)(tag & 7);
            switch (type)
            {
                case 0:
                    return Varint(out _);
                case 1:
                    return Skip(8);
                case 5:
                    return Skip(4);
                case 2:
                    if (!Varint(out ulong length) || length > (ulong)(_bytes.Length - _at)) return false;
                    body = _bytes.Slice(_at, (int)length);
                    _at += (int)length;
                    return true;
                default:
                    return false;
            }
        }

        private bool Skip(int n)
        {
            if (_bytes.Length - _at < n) return false;
            _at += n;
            return true;
        }

        private bool Varint(out ulong value)
        {
            value = 0;
            for (int shift = 0; shift < 64 && _at < _bytes.Length; shift += 7)
            {
                byte b = _bytes[_at++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80) return true;
            }
            return false;
        }
    }

    public static (string Name, Tensor Tensor) ReadTensorFile(string path) => ReadTensorFile(path, out _);

    /// <summary>Why protobuf could not read the bytes, in one short clause: a truncated file said so (protobuf's own two
    /// sentences about "an embedded message misreporting its own length" read as noise), else its first sentence.</summary>
    private static string ProtobufReason(InvalidProtocolBufferException e)
    {
        if (e.Message.Contains("ended unexpectedly", StringComparison.Ordinal))
            return "it ends in the middle of a field: truncated, or a length inside it is wrong";
        int stop = e.Message.IndexOf(". ", StringComparison.Ordinal);
        return "protobuf: " + ErrorText.Echo(stop > 0 ? e.Message[..stop] : e.Message.TrimEnd('.'), 160);
    }

    /// <summary><see cref="ReadTensorFile(string)"/>, and the file's element type (ONNX's data_type: 1 FLOAT, 7 INT64...).</summary>
    public static (string Name, Tensor Tensor) ReadTensorFile(string path, out int dataType)
    {
        byte[] bytes = ReadBounded(path, "ONNX tensor");
        // An empty file parses as an empty TensorProto, "element type UNDEFINED is not supported" (the hostile-input audit).
        if (bytes.Length == 0) throw new ConvGLException($"{path}: the file is empty; an ONNX TensorProto was expected (a test case's input_N.pb or output_N.pb)");
        TensorProto proto;
        try
        {
            proto = TensorProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ConvGLException($"{path}: not a readable ONNX TensorProto ({ProtobufReason(e)})", e);
        }
        dataType = proto.DataType;
        return (proto.Name, ToTensor(proto, path));
    }

    private static byte[] ReadBounded(string path, string what) => IO.BoundedFile.ReadAllBytes(path, MaxFileBytes, what);

    private static OnnxValueInfo ToValueInfo(ValueInfoProto v)
    {
        TensorTypeProto? t = v.Type?.TensorType;
        int[]? shape = t?.Shape is null ? null : t.Shape.Dim.Select(d => d.DimParam.Length == 0 && d.DimValue is > 0 and <= int.MaxValue ? (int)d.DimValue : -1).ToArray();
        // A dim_value of -1 is how some exporters (keras2onnx, older tf2onnx) write a free dimension: read as free.
        long?[]? declared = t?.Shape?.Dim.Select(d => d.ValueCase == Dimension.ValueOneofCase.DimValue && d.DimValue != -1 ? d.DimValue : (long?)null).ToArray();
        return new OnnxValueInfo(v.Name, shape, t?.ElemType ?? 0) { Declared = declared };
    }

    private static OnnxAttribute ToAttribute(AttributeProto a, string context)
    {
        // AttributeProto.AttributeType; files from before IR 0.0.2 leave it 0, so then the set field decides.
        int type = a.Type != 0 ? a.Type
            : a.Floats.Count > 0 ? 6 : a.Ints.Count > 0 ? 7 : a.Strings.Count > 0 ? 8 : a.T is not null ? 4 : !a.S.IsEmpty ? 3 : a.F != 0 ? 1 : 2;
        return type switch
        {
            1 => new OnnxAttribute(a.Name, OnnxAttributeKind.Float) { F = a.F },
            2 => new OnnxAttribute(a.Name, OnnxAttributeKind.Int) { I = a.I },
            3 => new OnnxAttribute(a.Name, OnnxAttributeKind.String) { S = a.S.ToStringUtf8() },
            4 => new OnnxAttribute(a.Name, OnnxAttributeKind.Tensor) { T = a.T is null ? throw new ConvGLException($"{context}: tensor attribute without a tensor") : ToTensor(a.T, context), TensorType = a.T.DataType },
            6 => new OnnxAttribute(a.Name, OnnxAttributeKind.Floats) { Floats = a.Floats.ToArray() },
            7 => new OnnxAttribute(a.Name, OnnxAttributeKind.Ints) { Ints = a.Ints.ToArray() },
            8 => new OnnxAttribute(a.Name, OnnxAttributeKind.Strings) { Strings = a.Strings.Select(s => s.ToStringUtf8()).ToArray() },
            // Graphs, sparse tensors, type protos: no supported op takes them; the op's own check names the attribute.
            _ => new OnnxAttribute(a.Name, OnnxAttributeKind.Other),
        };
    }

    /// <summary>A TensorProto as float32: FLOAT as is; DOUBLE, INT32, INT64 and FLOAT16 converted (integers exact up to
    /// 2^24). The data comes from <c>raw_data</c> (little-endian) when present, else from the typed field.</summary>
    internal static Tensor ToTensor(TensorProto t, string context)
    {
        if (t.DataLocation == 1 || t.ExternalData.Count > 0)
            throw new ConvGLException($"{context}: weights stored in an external file are not supported; save the model with its weights inside");
        var shape = new int[t.Dims.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            long d = t.Dims[i];
            if (d < 0 || d > int.MaxValue) throw new ConvGLException($"{context}: dimension {i} is {d}");
            shape[i] = (int)d;
        }
        long count = Tensor.ElementCount(shape);
        if (count > int.MaxValue) throw new ConvGLException($"{context}: shape {Tensor.ShapeText(shape)} is too large");
        int size = t.DataType switch { Float or Int32 => 4, Int64 or Double => 8, Float16 => 2, Bool => 1, _ => 0 };
        if (size == 0)
            throw new ConvGLException($"{context}: element type {DataTypeName(t.DataType)} is not supported (FLOAT, DOUBLE, FLOAT16, INT32, INT64 and BOOL are)");

        if (!t.RawData.IsEmpty)
        {
            ReadOnlySpan<byte> raw = t.RawData.Span;
            if (raw.Length != count * size)
                throw new ConvGLException($"{context}: raw_data holds {raw.Length} bytes, shape {Tensor.ShapeText(shape)} of {DataTypeName(t.DataType)} needs {count * size}");
            var data = new float[count];
            for (int i = 0; i < data.Length; i++)
            {
                ReadOnlySpan<byte> b = raw.Slice(i * size, size);
                data[i] = t.DataType switch
                {
                    Float => BinaryPrimitives.ReadSingleLittleEndian(b),
                    Int32 => Exact(BinaryPrimitives.ReadInt32LittleEndian(b), context, i),
                    Int64 => Exact(BinaryPrimitives.ReadInt64LittleEndian(b), context, i),
                    Double => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
                    Bool => b[0] != 0 ? 1f : 0f,
                    _ => (float)BinaryPrimitives.ReadHalfLittleEndian(b),
                };
            }
            return new Tensor(shape, data);
        }

        // Typed fields: FLOAT in float_data, DOUBLE in double_data, INT64 in int64_data, INT32, BOOL and FLOAT16 (as bits) in int32_data.
        int found = t.DataType switch
        {
            Float => t.FloatData.Count,
            Double => t.DoubleData.Count,
            Int64 => t.Int64Data.Count,
            _ => t.Int32Data.Count,
        };
        if (found != count)
            throw new ConvGLException($"{context}: holds {found} values, shape {Tensor.ShapeText(shape)} needs {count}");
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = t.DataType switch
            {
                Float => t.FloatData[i],
                Double => (float)t.DoubleData[i],
                Int64 => Exact(t.Int64Data[i], context, i),
                Int32 => Exact(t.Int32Data[i], context, i),
                Bool => t.Int32Data[i] != 0 ? 1f : 0f,
                _ => (float)BitConverter.UInt16BitsToHalf((ushort)t.Int32Data[i]),
            };
        }
        return new Tensor(shape, values);
    }

    /// <summary>An integer as the float32 ConvGL holds it, exact up to 2^24. A size, axis or index between 2^24 and
    /// 2^31 - 1 that float32 cannot hold (16777217) would be used rounded, silently (a review): one error. Past that only
    /// sentinels occur ("to the end": INT32_MAX, INT64_MAX) and values that are clamped, which rounding does not change.</summary>
    private static float Exact(long v, string context, int i) =>
        v is > 1 << 24 and < int.MaxValue or < -(1 << 24) and > -int.MaxValue && (long)(float)v != v
            ? throw new ConvGLException($"{context}: entry {i} is {v}, which ConvGL's float32 values cannot hold exactly (integers are exact up to 16777216): a size or index that large is not supported")
            : v;
}
