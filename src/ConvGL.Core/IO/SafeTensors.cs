using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace ConvGL.Core.IO;

/// <summary>The tensors and the free-form <c>__metadata__</c> of one safetensors file.</summary>
public sealed record SafeTensorsContent(IReadOnlyDictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>Each tensor's dtype as the file stores it ("F32", "I64", ...): the tensors are float32 after reading, and a
    /// reader that needs a float weight refuses an integer one by this.</summary>
    public IReadOnlyDictionary<string, string> DTypes { get; init; } = new Dictionary<string, string>();

    /// <summary>The dtypes that hold real numbers (a weight's).</summary>
    public static bool IsFloat(string dtype) => dtype is "F64" or "F32" or "F16" or "BF16";
}

/// <summary>Reads and writes the safetensors format (huggingface/safetensors), so that
/// <c>safetensors.torch.save_file(model.state_dict(), path)</c> from PyTorch plugs into a stack by tensor name.
///
/// Layout: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON, then the data buffer. The JSON maps each
/// tensor name to <c>{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}</c> (offsets relative to the
/// start of the data buffer, little-endian, C order) plus an optional <c>"__metadata__": {string: string}</c>.
/// Names and layouts are PyTorch's own: <c>conv1.weight</c> is (C_out, C_in / groups, kH, kW), <c>conv1.bias</c> (C_out).
///
/// Reading converts F64, F32, F16, BF16 and the integer/bool dtypes to float32 (integers are exact up to 2^24;
/// they are accepted so a state_dict holding e.g. BatchNorm's I64 <c>num_batches_tracked</c> still loads; a stack
/// refuses one named as a weight, by <see cref="SafeTensorsContent.DTypes"/>).
/// Every malformed file is a <see cref="ConvGLException"/> naming the file and what is wrong; nothing is read
/// outside the bytes the file holds. The checks follow the reference implementation: the tensors must tile the
/// data buffer exactly (no overlap, no gap, no trailing bytes).
///
/// Writing stores F32 only, names sorted ordinally, the header padded with spaces to a multiple of 8 bytes so the
/// data buffer is 8-byte aligned (as the reference writer does), and goes through a temporary file and a rename
/// so a failed write never leaves a partial file under the target name.</summary>
public static class SafeTensors
{
    /// <summary>The reference implementation refuses headers above 100 MB; so do we, before allocating anything.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    private static readonly Dictionary<string, int> DTypeSizes = new(StringComparer.Ordinal)
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2,
        ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    /// <summary>The dtypes <see cref="Read(string)"/> accepts.</summary>
    public static IReadOnlyCollection<string> SupportedDTypes => DTypeSizes.Keys;

    /// <summary>Every tensor of the file, as float32, by name.</summary>
    public static IReadOnlyDictionary<string, Tensor> Read(string path) => ReadContent(path).Tensors;

    /// <summary>Every tensor of the file and its <c>__metadata__</c> (empty when absent).</summary>
    public static SafeTensorsContent ReadContent(string path)
    {
        return Parse(BoundedFile.ReadAllBytes(path, Limits.SafeTensorsBytes, "safetensors file"), path);
    }

    /// <summary>Parses a whole safetensors file held in memory; <paramref name="source"/> names it in errors.</summary>
    public static SafeTensorsContent Parse(ReadOnlySpan<byte> file, string source)
    {
        string Fail(string what) => throw new ConvGLException($"{source}: not a valid safetensors file: {what}");

        if (file.Length < 8)
            Fail($"truncated: the file has {file.Length} bytes, fewer than the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > MaxHeaderBytes)
            Fail($"header length {headerLength} is above the {MaxHeaderBytes}-byte limit (is this a safetensors file?)");
        if (headerLength > (ulong)(file.Length - 8))
            Fail($"header length {headerLength} is larger than the {file.Length - 8} bytes after the length field (truncated file?)");
        if (headerLength < 2)
            Fail($"header length {headerLength} is too small to hold a JSON object");
        ReadOnlySpan<byte> header = file.Slice(8, (int)headerLength);
        ReadOnlySpan<byte> data = file[(8 + (int)headerLength)..];

        JsonDocument doc;
        try
        {
            // Strict UTF-8 decoding first: JsonDocument would otherwise report invalid UTF-8 with a less clear message.
            _ = new UTF8Encoding(false, true).GetCharCount(header);
            doc = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (Exception e) when (e is JsonException or DecoderFallbackException)
        {
            throw new ConvGLException($"{source}: not a valid safetensors file: header is not valid UTF-8 JSON: {ErrorText.Echo(ErrorText.JsonReason(e.Message), 160)}", e);
        }

        using (doc)
        {
            JsonText.CheckStrings(doc.RootElement, (where, e) => new ConvGLException($"{source}: not a valid safetensors file: {where} {JsonText.NotText}", e));
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                Fail($"header must be a JSON object, found {doc.RootElement.ValueKind}");

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<(string Name, string DType, int[] Shape, ulong Begin, ulong End)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(p.Name)) Fail($"'{ErrorText.Echo(p.Name)}' appears twice in the header");
                if (p.Name == MetadataKey)
                {
                    if (p.Value.ValueKind != JsonValueKind.Object) Fail($"{MetadataKey} must be an object of strings, found {p.Value.ValueKind}");
                    foreach (JsonProperty m in p.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String)
                            Fail($"{MetadataKey}.{ErrorText.Echo(m.Name)} must be a string, found {m.Value.ValueKind}");
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                entries.Add(ParseEntry(p, Fail));
            }

            // The tensors must tile the data buffer exactly, in offset order (the reference implementation's rule):
            // this catches overlapping tensors, holes and trailing garbage, and bounds every read below.
            entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            ulong expected = 0;
            string? previous = null;
            foreach (var e in entries)
            {
                if (e.Begin < expected)
                    Fail($"tensor '{ErrorText.Echo(e.Name)}' data_offsets [{e.Begin}, {e.End}] overlap tensor '{ErrorText.Echo(previous)}' which ends at {expected}");
                if (e.Begin > expected)
                    Fail($"tensor '{ErrorText.Echo(e.Name)}' data_offsets start at {e.Begin} but the previous tensor{(previous is null ? "s end" : $" '{ErrorText.Echo(previous)}' ends")} at {expected} (gap in the data buffer)");
                if (e.End > (ulong)data.Length)
                    Fail($"tensor '{ErrorText.Echo(e.Name)}' data_offsets [{e.Begin}, {e.End}] run past the end of the {data.Length}-byte data buffer (truncated file?)");
                expected = e.End;
                previous = e.Name;
            }
            if (expected != (ulong)data.Length)
                Fail($"the data buffer has {data.Length} bytes but the tensors cover only {expected} (trailing bytes)");

            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var e in entries)
                tensors[e.Name] = Decode(e.DType, e.Shape, data[(int)e.Begin..(int)e.End]);
            return new SafeTensorsContent(tensors, metadata) { DTypes = entries.ToDictionary(e => e.Name, e => e.DType, StringComparer.Ordinal) };
        }
    }

    private static (string Name, string DType, int[] Shape, ulong Begin, ulong End) ParseEntry(JsonProperty p, Func<string, string> fail)
    {
        string name = p.Name, shown = ErrorText.Echo(name);
        if (p.Value.ValueKind != JsonValueKind.Object) fail($"tensor '{shown}' must be an object with dtype, shape and data_offsets, found {p.Value.ValueKind}");
        JsonElement? dtypeEl = null, shapeEl = null, offsetsEl = null;
        foreach (JsonProperty f in p.Value.EnumerateObject())
        {
            switch (f.Name)
            {
                case "dtype": dtypeEl = f.Value; break;
                case "shape": shapeEl = f.Value; break;
                case "data_offsets": offsetsEl = f.Value; break;
                default: fail($"tensor '{shown}' has unknown field '{ErrorText.Echo(f.Name)}' (expected dtype, shape, data_offsets)"); break;
            }
        }
        if (dtypeEl is null) fail($"tensor '{shown}' has no dtype");
        if (shapeEl is null) fail($"tensor '{shown}' has no shape");
        if (offsetsEl is null) fail($"tensor '{shown}' has no data_offsets");

        if (dtypeEl!.Value.ValueKind != JsonValueKind.String) fail($"tensor '{shown}' dtype must be a string");
        string dtype = dtypeEl.Value.GetString()!;
        if (!DTypeSizes.TryGetValue(dtype, out int elementSize))
            fail($"tensor '{shown}' has unsupported dtype '{ErrorText.Echo(dtype)}' (supported: {string.Join(", ", DTypeSizes.Keys)})");

        if (shapeEl!.Value.ValueKind != JsonValueKind.Array) fail($"tensor '{shown}' shape must be an array of integers");
        var shape = new List<int>();
        ulong count = 1;
        foreach (JsonElement d in shapeEl.Value.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim))
                fail($"tensor '{shown}' shape entries must be integers, found {ErrorText.Echo(d.GetRawText())}");
            else if (dim < 0)
                fail($"tensor '{shown}' shape has a negative dimension {dim}");
            else if (dim > int.MaxValue)
                fail($"tensor '{shown}' shape dimension {dim} is too large");
            else
            {
                shape.Add((int)dim);
                count = dim == 0 ? 0 : count > int.MaxValue / (ulong)dim ? ulong.MaxValue : count * (ulong)dim;
            }
        }
        if (count > int.MaxValue) fail($"tensor '{shown}' shape {Tensor.ShapeText(shape)} has too many elements");

        if (offsetsEl!.Value.ValueKind != JsonValueKind.Array || offsetsEl.Value.GetArrayLength() != 2)
            fail($"tensor '{shown}' data_offsets must be an array [begin, end]");
        ulong[] off = new ulong[2];
        int k = 0;
        foreach (JsonElement o in offsetsEl.Value.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetUInt64(out off[k]))
                fail($"tensor '{shown}' data_offsets must be non-negative integers, found {ErrorText.Echo(o.GetRawText())}");
            k++;
        }
        if (off[1] < off[0]) fail($"tensor '{shown}' data_offsets [{off[0]}, {off[1]}] end before they begin");
        ulong bytes = count * (ulong)elementSize;
        if (off[1] - off[0] != bytes)
            fail($"tensor '{shown}' data_offsets [{off[0]}, {off[1]}] span {off[1] - off[0]} bytes but {dtype} shape {Tensor.ShapeText(shape)} needs {bytes}");
        return (name, dtype, shape.ToArray(), off[0], off[1]);
    }

    private static Tensor Decode(string dtype, int[] shape, ReadOnlySpan<byte> raw)
    {
        int size = DTypeSizes[dtype];
        var values = new float[raw.Length / size];
        for (int i = 0; i < values.Length; i++)
        {
            ReadOnlySpan<byte> b = raw.Slice(i * size, size);
            values[i] = dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(b),
                "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(b),
                // bfloat16 is the top half of a float32: shifting it back up is exact.
                "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16),
                "I64" => BinaryPrimitives.ReadInt64LittleEndian(b),
                "I32" => BinaryPrimitives.ReadInt32LittleEndian(b),
                "I16" => BinaryPrimitives.ReadInt16LittleEndian(b),
                "I8" => (sbyte)b[0],
                "U8" => b[0],
                "BOOL" => b[0] != 0 ? 1f : 0f,
                _ => throw new InvalidOperationException($"dtype {dtype} passed validation but has no decoder"),
            };
        }
        return new Tensor(shape, values);
    }

    /// <summary>Writes every tensor as F32, atomically (<see cref="AtomicFile"/>: a temporary file, then a rename).</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        AtomicFile.WriteAllBytes(path, Serialize(tensors, metadata));

    /// <summary>The bytes of a safetensors file holding every tensor as F32.</summary>
    public static byte[] Serialize(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        string[] names = tensors.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();
        using var headerStream = new MemoryStream();
        using (var w = new Utf8JsonWriter(headerStream))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject(MetadataKey);
                foreach (string key in metadata.Keys.OrderBy(n => n, StringComparer.Ordinal)) w.WriteString(key, metadata[key]);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (string name in names)
            {
                if (name.Length == 0 || name == MetadataKey) throw new ConvGLException($"'{name}' cannot name a tensor in a safetensors file");
                Tensor t = tensors[name];
                w.WriteStartObject(name);
                w.WriteString("dtype", "F32");
                w.WriteStartArray("shape");
                foreach (int d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                offset += 4L * t.Length;
                w.WriteNumberValue(offset);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        byte[] json = headerStream.ToArray();
        // Pad with spaces (valid JSON whitespace) so the data buffer starts 8-byte aligned, as the reference writer does.
        int headerLength = (json.Length + 7) / 8 * 8;
        long dataLength = names.Sum(n => 4L * tensors[n].Length);
        var file = new byte[8 + headerLength + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)headerLength);
        json.CopyTo(file, 8);
        file.AsSpan(8 + json.Length, headerLength - json.Length).Fill((byte)' ');
        int pos = 8 + headerLength;
        foreach (string name in names)
            foreach (float v in tensors[name].Data)
            {
                BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(pos), v);
                pos += 4;
            }
        return file;
    }
}
