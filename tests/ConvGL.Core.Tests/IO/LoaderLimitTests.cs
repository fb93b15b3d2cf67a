using System.Buffers.Binary;
using System.Text;
using ConvGL.Core.IO;

namespace ConvGL.Core.Tests.IO;

/// <summary>.npy and safetensors files that lie: huge claimed shapes, headers with control characters or invalid
/// text, devices instead of files. One line naming the file, nothing large allocated.</summary>
public class LoaderLimitTests
{
    private static byte[] NpyWithHeader(string dict, int dataBytes = 0)
    {
        byte[] head = Encoding.UTF8.GetBytes(dict);
        var b = new byte[10 + head.Length + dataBytes];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }.CopyTo(b, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(8), (ushort)head.Length);
        head.CopyTo(b, 10);
        return b;
    }

    [Fact]
    public void Npy_HugeClaimedShape_InASmallFile_IsRefusedBeforeAllocating()
    {
        using var dir = new TempDir();
        string path = dir.File("big.npy");
        File.WriteAllBytes(path, NpyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (40000, 40000), }\n", 64));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ConvGLException>(() => Npy.Read(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8 << 20);
        Assert.Equal($"'{path}': .npy data is truncated: shape (40000, 40000) of <f4 needs 6400000000 bytes, the file has 64", e.Message);
    }

    [Fact]
    public void Npy_HeaderWithControlCharacters_IsEchoedOnOneShortLine()
    {
        string junk = "{'descr':\n'<f4'\r\0 " + new string('x', 500) + "}\n";
        var e = Assert.Throws<ConvGLException>(() => Npy.Parse(NpyWithHeader(junk), "j.npy"));
        Assert.StartsWith("'j.npy': .npy header is not a dict", e.Message);
        Assert.True(ErrorText.IsOneLine(e.Message), e.Message);
        Assert.Contains("{'descr':\\n'<f4'\\r\\0 xxx", e.Message);
        Assert.EndsWith("...", e.Message);
        Assert.True(e.Message.Length < 200);
    }

    [Fact]
    public void Npy_ReadStreamsTheData_AndWriteStreamsItBack()
    {
        using var dir = new TempDir();
        var t = new Tensor([3, 70, 130]);
        for (int i = 0; i < t.Length; i++) t.Data[i] = i * 0.25f - 7;
        string path = dir.File("t.npy");
        Npy.Write(path, t);
        Assert.Equal(Npy.ToBytes(t), File.ReadAllBytes(path));
        Tensor back = Npy.Read(path);
        Assert.Equal(t.Shape, back.Shape);
        Assert.Equal(t.Data, back.Data);
        Assert.Equal(["t.npy"], dir.Names());
    }

    [Fact]
    public void Npy_FromADevice_IsRefused()
    {
        var e = Assert.Throws<ConvGLException>(() => Npy.Read("/dev/zero"));
        Assert.Contains("not a regular file", e.Message);
    }

    /// <summary>ONNX files go through the same bounded read as every other loader: a device, a FIFO or a folder is
    /// refused before it is opened (a FIFO would block the open), with the file named.</summary>
    [Fact]
    public void Onnx_FromADeviceFifoOrFolder_IsRefusedBeforeReading()
    {
        var e = Assert.Throws<ConvGLException>(() => ConvGL.Core.Onnx.OnnxReader.Load("/dev/zero"));
        Assert.Equal("cannot read ONNX model '/dev/zero': not a regular file (a device, FIFO or socket)", e.Message);
        e = Assert.Throws<ConvGLException>(() => ConvGL.Core.Onnx.OnnxReader.ReadTensorFile("/dev/zero"));
        Assert.Equal("cannot read ONNX tensor '/dev/zero': not a regular file (a device, FIFO or socket)", e.Message);
        using var dir = new TempDir();
        string fifo = dir.File("m.onnx");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo])) mkfifo.WaitForExit();
        e = Assert.Throws<ConvGLException>(() => ConvGL.Core.Onnx.OnnxReader.Load(fifo));
        Assert.Equal($"cannot read ONNX model '{fifo}': not a regular file (a device, FIFO or socket)", e.Message);
        e = Assert.Throws<ConvGLException>(() => ConvGL.Core.Onnx.OnnxReader.Load(dir.Path));
        Assert.Equal($"cannot read ONNX model '{dir.Path}': it is a folder", e.Message);
        e = Assert.Throws<ConvGLException>(() => ConvGL.Core.Onnx.OnnxReader.Load(dir.File("none.onnx")));
        Assert.Equal($"cannot read ONNX model '{dir.File("none.onnx")}': no such file", e.Message);
    }

    private static byte[] SafeTensorsWithHeader(string json)
    {
        byte[] head = Encoding.UTF8.GetBytes(json);
        var b = new byte[8 + head.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)head.Length);
        head.CopyTo(b, 8);
        return b;
    }

    [Theory]
    [InlineData("""{"\ud800": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}""", "a field name in the top-level object")]
    [InlineData("""{"__metadata__": {"k": "\udfff"}}""", "field '__metadata__.k'")]
    [InlineData("""{"a": {"dtype": "F32\ud800", "shape": [0], "data_offsets": [0, 0]}}""", "field 'a.dtype'")]
    public void SafeTensors_LoneSurrogates_AreAFileError_NotInvalidOperation(string json, string where)
    {
        var e = Assert.Throws<ConvGLException>(() => SafeTensors.Parse(SafeTensorsWithHeader(json), "w.safetensors"));
        Assert.Equal($"w.safetensors: not a valid safetensors file: {where} {JsonText.NotText}", e.Message);
    }

    [Fact]
    public void SafeTensors_NamesWithNewlines_AreEscapedAndCut()
    {
        string name = "conv\n1\r\0" + new string('w', 300);
        string escaped = name.Replace("\n", "\\n").Replace("\r", "\\r").Replace("\0", "\\u0000");
        string json = "{\"" + escaped + "\": {\"dtype\": \"X9\", \"shape\": [1], \"data_offsets\": [0, 4]}}";
        var e = Assert.Throws<ConvGLException>(() => SafeTensors.Parse(SafeTensorsWithHeader(json), "w.safetensors"));
        Assert.Contains("tensor 'conv\\n1\\r\\0www", e.Message);
        Assert.Contains("...' has unsupported dtype 'X9'", e.Message);
        Assert.True(ErrorText.IsOneLine(e.Message));
        Assert.True(e.Message.Length < 300);
    }

    [Fact]
    public void ErrorText_EscapesControlsAndLoneSurrogates_KeepsPairs_CutsWithAnEllipsis()
    {
        Assert.Equal("a\\nb\\rc\\0d\\te\\u001bf\\u0085g\\u2028h\\ud800i", ErrorText.OneLine("a\nb\rc\0d\te\u001bf\u0085g\u2028h\ud800i"));
        Assert.Equal("smile \U0001F600", ErrorText.OneLine("smile \U0001F600"));
        // Bidi overrides and isolates reorder what follows them on a terminal: escaped; the marks and joiners are text.
        Assert.Equal("abc\\u202egnp.exe \\u2066x\\u2069", ErrorText.OneLine("abc\u202Egnp.exe \u2066x\u2069"));
        Assert.Equal("\u05e9\u05dc\u05d5\u05dd\u200f a\u200db", ErrorText.OneLine("\u05e9\u05dc\u05d5\u05dd\u200f a\u200db"));
        Assert.Equal(new string('a', 80) + "...", ErrorText.Echo(new string('a', 81)));
        Assert.Equal(new string('a', 80), ErrorText.Echo(new string('a', 80)));
        Assert.Equal("x\\ny", new ConvGLException("x\ny").Message);
        // A compiler's log of several lines: one line, its lines joined (blank ones and CRs dropped, controls escaped).
        Assert.Equal("a.glsl:2: failed | a.glsl:2: error: x | b\\tc", ErrorText.JoinLines("a.glsl:2: failed\r\n  a.glsl:2: error: x\n\nb\tc\n"));
    }
}
