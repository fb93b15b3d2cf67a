using System.Buffers.Binary;
using System.Text;
using ConvGL.Core.IO;

namespace ConvGL.Core.Tests.IO;

public class NpyTests
{
    /// <summary>A .npy file assembled by hand from the format spec, independent of <see cref="Npy.ToBytes(Tensor)"/>.</summary>
    private static byte[] HandMade(string dict, byte[] data, int major = 1, bool pad = true)
    {
        int preamble = major == 1 ? 10 : 12;
        string header = dict;
        if (pad)
        {
            while ((preamble + header.Length + 1) % 64 != 0) header += " ";
        }
        header += "\n";
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0]);
        if (major == 1)
        {
            ms.WriteByte((byte)(header.Length & 0xff));
            ms.WriteByte((byte)(header.Length >> 8));
        }
        else
        {
            var len = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(len, header.Length);
            ms.Write(len);
        }
        ms.Write(Encoding.ASCII.GetBytes(header));
        ms.Write(data);
        return ms.ToArray();
    }

    private static byte[] F32(params float[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    private static byte[] F64(params double[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void Parse_HandBuiltFloat32_2x3_ReadsCOrder()
    {
        byte[] file = HandMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", F32(1, 2, 3, 4, 5, 6));
        Tensor t = Npy.Parse(file);
        Assert.Equal([2, 3], t.Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6], t.Data);
        Assert.Equal(6f, t[1, 2]);
    }

    [Fact]
    public void Parse_HandBuiltFloat64Version2_Rank1_NarrowsToFloat32()
    {
        byte[] file = HandMade("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", F64(0.1, -2.5, 1e10), major: 2);
        Tensor t = Npy.Parse(file);
        Assert.Equal([3], t.Shape);
        Assert.Equal([0.1f, -2.5f, 1e10f], t.Data);
    }

    [Fact]
    public void Parse_BigEndianFloat32_SwapsBytes()
    {
        byte[] data = new byte[8];
        BinaryPrimitives.WriteSingleBigEndian(data, 1.5f);
        BinaryPrimitives.WriteSingleBigEndian(data.AsSpan(4), -3f);
        Tensor t = Npy.Parse(HandMade("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", data));
        Assert.Equal([1.5f, -3f], t.Data);
    }

    [Fact]
    public void Parse_ScalarAndRank4_Shapes()
    {
        Assert.Equal([], Npy.Parse(HandMade("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", F32(7))).Shape);
        Tensor t = Npy.Parse(HandMade("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 1, 2), }", F32(1, 2, 3, 4)));
        Assert.Equal([1, 2, 1, 2], t.Shape);
    }

    [Fact]
    public void ToBytes_HeaderIsPaddedTo64AndParsesBack()
    {
        var t = new Tensor([2, 1, 3], [1, -2, 3.25f, 4, 5, float.MaxValue]);
        byte[] bytes = Npy.ToBytes(t);
        int headerLen = bytes[8] | bytes[9] << 8;
        Assert.Equal(0, (10 + headerLen) % 64);
        Assert.Equal((byte)'\n', bytes[10 + headerLen - 1]);
        string header = Encoding.ASCII.GetString(bytes, 10, headerLen);
        Assert.Contains("'descr': '<f4'", header);
        Assert.Contains("'shape': (2, 1, 3)", header);
        Assert.Equal(10 + headerLen + 24, bytes.Length);
        Assert.Equal(3.25f, BitConverter.ToSingle(bytes, 10 + headerLen + 8));
    }

    [Theory]
    [InlineData(new int[0])]
    [InlineData(new[] { 5 })]
    [InlineData(new[] { 3, 4 })]
    [InlineData(new[] { 3, 7, 5 })]
    [InlineData(new[] { 2, 3, 4, 5 })]
    [InlineData(new[] { 0, 3 })]
    public void WriteRead_RoundTripsEveryRank(int[] shape)
    {
        using var dir = new TempDir();
        var rng = new Random(42);
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (float)(rng.NextDouble() * 4 - 2);
        string path = dir.File("a.npy");
        Npy.Write(path, t);
        Tensor back = Npy.Read(path);
        Assert.Equal(shape, back.Shape);
        Assert.Equal(t.Data, back.Data);
        Assert.Equal(["a.npy"], dir.Names());
    }

    /// <summary>A key given twice: NumPy takes the last (a dict literal), so reading the first would make a different
    /// array of the same bytes (the audit's header, '&lt;f8' then '&lt;f4').</summary>
    [Theory]
    [InlineData("{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", "descr")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'shape': (2, 2), }", "shape")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'fortran_order': False, 'shape': (4,), }", "fortran_order")]
    public void Parse_AKeyGivenTwice_Throws(string header, string key)
    {
        var e = Assert.Throws<ConvGLException>(() => Npy.Parse(HandMade(header, F32(1, 2, 3, 4)), "twice.npy"));
        Assert.Contains($"'twice.npy': .npy header gives '{key}' twice", e.Message);
    }

    [Fact]
    public void Parse_FortranOrder_Throws()
    {
        byte[] file = HandMade("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", F32(1, 2, 3, 4));
        var e = Assert.Throws<ConvGLException>(() => Npy.Parse(file, "w.npy"));
        Assert.Contains("w.npy", e.Message);
        Assert.Contains("Fortran", e.Message);
    }

    [Theory]
    [InlineData("<i4")]
    [InlineData("|u1")]
    [InlineData("<f2")]
    [InlineData("<c8")]
    public void Parse_OtherDtype_ThrowsNamingIt(string dtype)
    {
        byte[] file = HandMade($"{{'descr': '{dtype}', 'fortran_order': False, 'shape': (2,), }}", new byte[16]);
        var e = Assert.Throws<ConvGLException>(() => Npy.Parse(file, "d.npy"));
        Assert.Contains("d.npy", e.Message);
        Assert.Contains(dtype, e.Message);
    }

    [Fact]
    public void Parse_TruncatedData_Throws()
    {
        byte[] file = HandMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", F32(1, 2, 3, 4, 5));
        var e = Assert.Throws<ConvGLException>(() => Npy.Parse(file, "t.npy"));
        Assert.Contains("t.npy", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Theory]
    // Products that wrap a 64-bit count to 0 (2^16 four times = 2^64) or to a small positive number
    // (2^32 * 2^32 + 1 after the wrap is impossible, so: 2^21 three times = 2^63, then * 2 = 2^64 -> 0).
    [InlineData("(65536, 65536, 65536, 65536)")]
    [InlineData("(2097152, 2097152, 2097152, 2)")]
    public void Parse_ShapeProductOverflowingLong_ThrowsTooLarge(string shape)
    {
        byte[] file = HandMade($"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}", []);
        var e = Assert.Throws<ConvGLException>(() => Npy.Parse(file, "huge.npy"));
        Assert.Contains("huge.npy", e.Message);
        Assert.Contains("too large", e.Message);
    }

    [Theory]
    // Within a long but above the largest .NET array: failed as a bare out-of-memory when the array was made.
    [InlineData("(1, 1, 2147483647)", "2147483647 values, over the 2147483591 one array can hold")]
    // The count said as it is (the audit's 1e12 values read "2147483648 values", the count capped).
    [InlineData("(1000000, 1000000)", "(1000000, 1000000) is too large: 1000000000000 values, over the 2147483591 one array can hold")]
    // A dimension above int: said so, not "not a non-negative integer".
    [InlineData("(2147483648, 1)", "entry 2147483648 is too large (a dimension is at most 2147483647)")]
    public void Parse_ShapeAboveWhatAnArrayHolds_ThrowsSayingSo(string shape, string expected)
    {
        byte[] file = HandMade($"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}", []);
        var e = Assert.Throws<ConvGLException>(() => Npy.Parse(file, "big.npy"));
        Assert.Contains("big.npy", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    // NumPy refuses a header with a key it does not know ("Header does not contain the correct keys"): so does ConvGL,
    // rather than read an array whose header says something it ignored.
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'evil': __import__('os'), }")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } trailing")]
    public void Parse_AKeyBesideTheThree_Throws(string header)
    {
        var e = Assert.Throws<ConvGLException>(() => Npy.Parse(HandMade(header, F32(1, 2)), "k.npy"));
        Assert.Contains("'k.npy': .npy header holds more than 'descr', 'fortran_order' and 'shape'", e.Message);
        // The three keys in any order, with or without the trailing comma, still read.
        Assert.Equal([1f, 2f], Npy.Parse(HandMade("{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}", F32(1, 2)), "ok.npy").Data);
    }

    [Fact]
    public void Parse_OnlyTheMagic_IsTruncated_NotABadMagic()
    {
        var e = Assert.Throws<ConvGLException>(() => Npy.Parse(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' }, "m.npy"));
        Assert.Equal("'m.npy': the .npy file is truncated: it ends 6 bytes in, inside the preamble before its header", e.Message);
    }

    [Fact]
    public void Parse_TruncatedHeader_Throws()
    {
        byte[] file = HandMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", F32(1, 2, 3, 4, 5, 6));
        var e = Assert.Throws<ConvGLException>(() => Npy.Parse(file.AsSpan(0, 40), "h.npy"));
        Assert.Contains("h.npy", e.Message);
    }

    [Fact]
    public void Parse_BadMagic_Throws()
    {
        byte[] file = HandMade("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", F32(1));
        file[1] = (byte)'X';
        var e = Assert.Throws<ConvGLException>(() => Npy.Parse(file, "m.npy"));
        Assert.Contains("m.npy", e.Message);
        Assert.Contains("magic", e.Message);
    }

    [Fact]
    public void Read_MissingFile_ThrowsNamingIt()
    {
        var e = Assert.Throws<ConvGLException>(() => Npy.Read("/nonexistent/dir/x.npy"));
        Assert.Contains("/nonexistent/dir/x.npy", e.Message);
    }

    [Fact]
    public void Write_MissingDirectory_ThrowsAndLeavesNothing()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ConvGLException>(() => Npy.Write(dir.File("no/such/a.npy"), new Tensor([1])));
        Assert.Contains("does not exist", e.Message);
        Assert.Empty(dir.Names());
    }

    /// <summary>A picture saved as NumPy holds it, (H, W, C), is refused naming the transpose; (C, H, W) arrays, narrow maps
    /// and other channel counts go in as given.</summary>
    [Theory]
    [InlineData(new[] { 30, 40, 3 }, true)]
    [InlineData(new[] { 480, 640, 4 }, true)]
    [InlineData(new[] { 28, 28, 1 }, true)]
    [InlineData(new[] { 3, 30, 40 }, false)]
    [InlineData(new[] { 5, 4, 3 }, false)]
    [InlineData(new[] { 300, 400, 2 }, false)]
    [InlineData(new[] { 30, 40 }, false)]
    public void RequireChannelsFirst_RefusesPicturesInNumPysOrder(int[] shape, bool refused)
    {
        var t = new Tensor(shape);
        if (!refused)
        {
            Npy.RequireChannelsFirst(t, "apply", "a.npy");
            return;
        }
        var e = Assert.Throws<ConvGLException>(() => Npy.RequireChannelsFirst(t, "apply", "a.npy"));
        Assert.Contains($"has shape ({string.Join(", ", shape)}), which reads as (H, W, C)", e.Message);
        Assert.EndsWith($"a ({shape[2]}, {shape[0]}, {shape[1]}) array", e.Message);
    }
}
