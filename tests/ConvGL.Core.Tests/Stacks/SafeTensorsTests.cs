using System.Buffers.Binary;
using System.Text;
using ConvGL.Core.IO;

namespace ConvGL.Core.Tests.Stacks;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A file from its JSON header text and data bytes, exactly as the format lays it out.</summary>
    private static byte[] Build(string headerJson, byte[] data, ulong? lengthField = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(headerJson);
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, lengthField ?? (ulong)header.Length);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }

    private static byte[] Bytes(params int[] b) => b.Select(x => (byte)x).ToArray();

    [Fact]
    public void Parse_HandBuiltFile_F32F16BF16F64_ReadBackExactly()
    {
        // F32 1.5 = 0x3FC00000 and -0.25 = 0xBE800000, little-endian.
        byte[] f32 = Bytes(0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x80, 0xBE);
        // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800, 65504 = 0x7BFF (max), 2^-24 = 0x0001 (smallest subnormal), -0 = 0x8000.
        byte[] f16 = Bytes(0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38, 0xFF, 0x7B, 0x01, 0x00, 0x00, 0x80);
        // BF16 is the top 16 bits of a float32: 1.0 = 0x3F80, -1.5 = 0xBFC0, 3.140625 = 0x4049.
        byte[] bf16 = Bytes(0x80, 0x3F, 0xC0, 0xBF, 0x49, 0x40);
        // F64 0.375 = 0x3FD8000000000000.
        byte[] f64 = Bytes(0, 0, 0, 0, 0, 0, 0xD8, 0x3F);
        byte[] data = [.. f32, .. f16, .. bf16, .. f64];
        string header =
            """{"__metadata__":{"format":"pt","who":"test"}""" +
            ""","conv1.weight":{"dtype":"F32","shape":[1,1,1,2],"data_offsets":[0,8]}""" +
            ""","h":{"dtype":"F16","shape":[2,3],"data_offsets":[8,20]}""" +
            ""","b":{"dtype":"BF16","shape":[3],"data_offsets":[20,26]}""" +
            ""","d":{"dtype":"F64","shape":[],"data_offsets":[26,34]}}""";
        SafeTensorsContent c = SafeTensors.Parse(Build(header, data), "hand.safetensors");

        Assert.Equal(["b", "conv1.weight", "d", "h"], c.Tensors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([1, 1, 1, 2], c.Tensors["conv1.weight"].Shape);
        Assert.Equal([1.5f, -0.25f], c.Tensors["conv1.weight"].Data);
        Assert.Equal([2, 3], c.Tensors["h"].Shape);
        Assert.Equal([1f, -2f, 0.5f, 65504f, MathF.Pow(2, -24), -0f], c.Tensors["h"].Data);
        Assert.True(float.IsNegative(c.Tensors["h"].Data[5]), "F16 0x8000 must decode to negative zero");
        Assert.Equal([1f, -1.5f, 3.140625f], c.Tensors["b"].Data);
        Assert.Empty(c.Tensors["d"].Shape);
        Assert.Equal([0.375f], c.Tensors["d"].Data);
        Assert.Equal("pt", c.Metadata["format"]);
        Assert.Equal("test", c.Metadata["who"]);
    }

    [Fact]
    public void Parse_IntegerDTypes_ConvertToFloat()
    {
        // I64 7, I8 -3, U8 200, BOOL true/false.
        byte[] data = [.. Bytes(7, 0, 0, 0, 0, 0, 0, 0), .. Bytes(0xFD), .. Bytes(200), .. Bytes(1, 0)];
        string header = """{"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"i":{"dtype":"I8","shape":[1],"data_offsets":[8,9]}""" +
                        ""","u":{"dtype":"U8","shape":[1],"data_offsets":[9,10]},"z":{"dtype":"BOOL","shape":[2],"data_offsets":[10,12]}}""";
        var t = SafeTensors.Parse(Build(header, data), "ints").Tensors;
        Assert.Equal([7f], t["n"].Data);
        Assert.Equal([-3f], t["i"].Data);
        Assert.Equal([200f], t["u"].Data);
        Assert.Equal([1f, 0f], t["z"].Data);
    }

    [Fact]
    public void AStackNamingAnIntegerTensorAsAWeight_IsOneErrorNamingTheFileTensorAndDType()
    {
        // F32 w = [0.5]; I64 num_batches_tracked = 7 (a PyTorch state_dict holds one per BatchNorm); I32 k = 3.
        byte[] data = [.. Bytes(0x00, 0x00, 0x00, 0x3F), .. Bytes(7, 0, 0, 0, 0, 0, 0, 0), .. Bytes(3, 0, 0, 0)];
        string header = """{"w":{"dtype":"F32","shape":[1,1,1,1],"data_offsets":[0,4]}""" +
                        ""","bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[4,12]},"k":{"dtype":"I32","shape":[1,1,1,1],"data_offsets":[12,16]}}""";
        File.WriteAllBytes(Path.Combine(_dir, "w.safetensors"), Build(header, data));
        string Stack(string weight, string bias)
        {
            string path = Path.Combine(_dir, "s.json");
            File.WriteAllText(path, $$"""{"input": "gray", "weights": "w.safetensors", "layers": [{"type": "conv", "weight": "{{weight}}"{{bias}}}]}""");
            return path;
        }
        // The audit's dtype_i64.json ran an I64 tensor as conv weights.
        var e = Assert.Throws<ConvGLException>(() => Core.Stacks.StackFile.Load(Stack("k", "")));
        Assert.Equal($"{Path.Combine(_dir, "s.json")}: layers[0] (conv) field 'weight': 'k' in {Path.Combine(_dir, "w.safetensors")} is I32; " +
                     "a weight must be a float tensor (F32, F16, BF16 or F64): save it as float", e.Message);
        e = Assert.Throws<ConvGLException>(() => Core.Stacks.StackFile.Load(Stack("w", ", \"bias\": \"bn.num_batches_tracked\"")));
        Assert.Contains("field 'bias': 'bn.num_batches_tracked' in", e.Message);
        Assert.Contains("is I64; a weight must be a float tensor", e.Message);
        // An integer tensor the stack does not name is fine: the state_dict loads.
        Assert.Single(Core.Stacks.StackFile.Load(Stack("w", "")).Layers);
    }

    [Fact]
    public void WriteThenRead_RoundTripsEveryValueShapeAndMetadata()
    {
        var rng = new Random(1234);
        var tensors = new Dictionary<string, Tensor>
        {
            ["conv1.weight"] = new Tensor([4, 3, 3, 3], Enumerable.Range(0, 108).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray()),
            ["conv1.bias"] = new Tensor([4], [0f, -1f, float.MaxValue, float.Epsilon]),
            ["fc.weight"] = new Tensor([10, 5], Enumerable.Range(0, 50).Select(i => i * 0.1f).ToArray()),
            ["empty"] = new Tensor([0, 3]),
            ["scalar"] = new Tensor([], [float.NaN]),
        };
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "\"quoted\" ü" };
        string path = Path.Combine(_dir, "rt.safetensors");
        SafeTensors.Write(path, tensors, meta);

        SafeTensorsContent back = SafeTensors.ReadContent(path);
        Assert.Equal(tensors.Keys.Order(StringComparer.Ordinal), back.Tensors.Keys.Order(StringComparer.Ordinal));
        foreach ((string name, Tensor t) in tensors)
        {
            Assert.Equal(t.Shape, back.Tensors[name].Shape);
            Assert.Equal(t.Data, back.Tensors[name].Data); // bitwise-equal floats (NaN == NaN under Assert.Equal)
        }
        Assert.Equal(meta, back.Metadata);
        Assert.Equal([path], Directory.GetFiles(_dir)); // no temporary left behind
    }

    [Fact]
    public void Write_LayoutMatchesReference_SortedNamesAlignedHeaderContiguousData()
    {
        var tensors = new Dictionary<string, Tensor> { ["b"] = new Tensor([1], [2f]), ["a"] = new Tensor([2], [1f, -1f]) };
        byte[] file = SafeTensors.Serialize(tensors);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.Equal(0UL, n % 8);
        string header = Encoding.UTF8.GetString(file, 8, (int)n);
        Assert.Equal("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", header.TrimEnd(' '));
        Assert.Equal(8 + (int)n + 12, file.Length);
        Assert.Equal(1f, BitConverter.ToSingle(file, 8 + (int)n));
        Assert.Equal(-1f, BitConverter.ToSingle(file, 12 + (int)n));
        Assert.Equal(2f, BitConverter.ToSingle(file, 16 + (int)n));
    }

    public static TheoryData<string, byte[], string> Malformed()
    {
        byte[] eight = new byte[8];
        const string ok = """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""";
        return new TheoryData<string, byte[], string>
        {
            { "empty file", [], "truncated" },
            { "5 bytes", Bytes(1, 2, 3, 4, 5), "truncated" },
            { "length beyond file", Build(ok, eight, lengthField: 1000), "larger than" },
            { "absurd length", Build(ok, eight, lengthField: ulong.MaxValue), "above" },
            { "data truncated", Build(ok, Bytes(1, 2, 3, 4)), "run past the end" },
            { "invalid json", Build("""{"w":{"dtype":"F32",""", eight), "not valid UTF-8 JSON" },
            { "invalid utf8", [.. Build("{\"", []), 0xFF, 0xFE, .. Encoding.UTF8.GetBytes("\":1}")], "not valid UTF-8 JSON" },
            { "header not object", Build("[1,2]", []), "must be a JSON object" },
            { "unknown dtype", Build("""{"w":{"dtype":"F7","shape":[2],"data_offsets":[0,8]}}""", eight), "unsupported dtype 'F7'" },
            { "negative dim", Build("""{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", eight), "negative dimension" },
            { "fractional dim", Build("""{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}""", eight), "must be integers" },
            { "size mismatch", Build("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", eight), "needs 12" },
            { "f16 size mismatch", Build("""{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}""", eight), "needs 4" },
            { "end before begin", Build("""{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}""", eight), "end before" },
            { "negative offset", Build("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}""", eight), "non-negative" },
            { "offsets wrong arity", Build("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}}""", eight), "[begin, end]" },
            { "overlap", Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", eight), "overlap" },
            { "gap", Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", eight), "gap" },
            { "trailing bytes", Build(ok, new byte[12]), "trailing bytes" },
            { "offset far out", Build("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551600,18446744073709551608]}}""", eight), "gap" },
            { "huge shape", Build("""{"w":{"dtype":"F32","shape":[100000,100000,100000],"data_offsets":[0,8]}}""", eight), "too many elements" },
            { "missing dtype", Build("""{"w":{"shape":[2],"data_offsets":[0,8]}}""", eight), "no dtype" },
            { "missing shape", Build("""{"w":{"dtype":"F32","data_offsets":[0,8]}}""", eight), "no shape" },
            { "unknown field", Build("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}""", eight), "unknown field 'x'" },
            { "duplicate name", Build("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", eight), "appears twice" },
            { "metadata not strings", Build("""{"__metadata__":{"a":1}}""", []), "must be a string" },
            { "tensor not object", Build("""{"w":3}""", []), "must be an object" },
        };
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Read_MalformedFile_GivesClearErrorNamingFile(string why, byte[] file, string expected)
    {
        string path = Path.Combine(_dir, "bad.safetensors");
        File.WriteAllBytes(path, file);
        var e = Assert.Throws<ConvGLException>(() => SafeTensors.Read(path));
        Assert.True(e.Message.StartsWith(path + ":", StringComparison.Ordinal), $"{why}: message does not start with the file: {e.Message}");
        Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), $"{why}: expected '{expected}' in: {e.Message}");
        // System.Text.Json's " LineNumber: 0 | BytePositionInLine: 10." is cut (a hostile-input review read it).
        Assert.DoesNotContain("LineNumber", e.Message);
    }

    [Fact]
    public void Read_EveryTruncationOfAValidFile_IsAClearError()
    {
        byte[] file = SafeTensors.Serialize(new Dictionary<string, Tensor> { ["a"] = new Tensor([3], [1f, 2f, 3f]), ["b"] = new Tensor([2, 2]) });
        for (int n = 0; n < file.Length; n++)
        {
            byte[] cut = file[..n];
            var e = Assert.Throws<ConvGLException>(() => SafeTensors.Parse(cut, $"cut{n}"));
            Assert.StartsWith($"cut{n}: not a valid safetensors file", e.Message);
        }
    }

    [Fact]
    public void Read_MissingFile_IsAClearError()
    {
        string path = Path.Combine(_dir, "nope.safetensors");
        var e = Assert.Throws<ConvGLException>(() => SafeTensors.Read(path));
        Assert.Contains(path, e.Message);
    }
}
