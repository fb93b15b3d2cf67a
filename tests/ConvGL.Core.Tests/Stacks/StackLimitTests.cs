using System.Diagnostics;
using ConvGL.Core.Stacks;

namespace ConvGL.Core.Tests.Stacks;

/// <summary>Stack files that are hostile rather than mistaken: sizes that explode, text that is not text, files that
/// are not files. Each must be one error line naming the file, found before anything large is allocated.</summary>
public sealed class StackLimitTests : IDisposable
{
    private readonly StackDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void AssertOneLine(string message)
    {
        Assert.True(ErrorText.IsOneLine(message), $"control characters in: {message}");
    }

    /// <summary>The hardening audit: a conv weight of 20000x20000 in a .npy (1.6 GB) was read whole (1.6 GB resident,
    /// 7 s) before the weight limit refused it; its header says its size, so it is refused from that.</summary>
    [Fact]
    public void AHugeNpyWeight_IsRefusedFromItsHeader_BeforeItsValuesAreRead()
    {
        string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 20000, 20000), }";
        header = header.PadRight(64 * ((10 + header.Length + 1 + 63) / 64) - 10 - 1) + "\n";
        string npy = _dir.File("k20k.npy");
        using (var f = new FileStream(npy, FileMode.CreateNew))
        {
            f.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(header.Length & 0xff), (byte)(header.Length >> 8)]);
            f.Write(System.Text.Encoding.ASCII.GetBytes(header));
            f.SetLength(f.Position + 20000L * 20000 * 4); // sparse: the declared data is there, as zeros
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ConvGLException>(() => StackFile.Load(_dir.Write("s.json", """{ "layers": [ { "type": "conv", "weight": "k20k.npy" } ] }""")));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal($"{_dir.File("s.json")}: layers[0] (conv) field 'weight': the stack's conv weights reach 400000000 values with this layer ('k20k.npy' holds 400000000), over the limit of {Limits.StackWeights}", e.Message);
        Assert.True(allocated < 16 << 20, $"allocated {allocated} bytes before refusing");
    }

    [Fact]
    public void RepeatedDepthwiseBanks_AreRefusedAtLoad_BeforeTheBankIsExpanded()
    {
        // Four kernels depthwise per layer: 1, 4, 16, ... 4^12 channels. The weight of layer n is 4^(n+1) x 1 x 3 x 3;
        // before the check it was allocated layer by layer until OutOfMemoryException.
        string conv = """{"type": "conv", "kernels": ["sobel-x", "sobel-y", "sobel-x", "sobel-y"]}""";
        string json = $$"""{ "layers": [ {{string.Join(", ", Enumerable.Repeat(conv, 12))}} ] }""";
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ConvGLException>(() => _dir.Load(json));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // 4^7 = 16384 channels is the limit: layer 7 would make 65536.
        Assert.Contains("s.json: layers[7] (conv) field 'kernels'", e.Message);
        Assert.Contains($"limit of {Limits.StackChannels} channels", e.Message);
        Assert.True(allocated < 64 << 20, $"allocated {allocated} bytes before refusing");
        AssertOneLine(e.Message);
    }

    [Fact]
    public void TotalWeights_AreCapped_WithTheLimitInTheError()
    {
        // 2 kernels of 1025 x 1025 summed over 1 channel, 40 times: 84 M weights > 2^26.
        string conv = """{"type": "conv", "kernels": ["big", "big"], "sum": true}, {"type": "conv", "kernels": ["big"], "sum": true}""";
        string json = $$"""{ "layers": [ {{string.Join(", ", Enumerable.Repeat(conv, 40))}} ] }""";
        string path = _dir.Write("w.json", json);
        static Tensor Kernels(string name) => name == "big" ? new Tensor([1025, 1025]) : throw new ConvGLException("unknown");
        var e = Assert.Throws<ConvGLException>(() => StackFile.Load(path, Kernels));
        Assert.Contains($"over the limit of {Limits.StackWeights}", e.Message);
        Assert.StartsWith(path + ": layers[", e.Message);
    }

    [Fact]
    public void ALongBankOfBigKernels_IsRefusedAsItIsRead()
    {
        // 200 kernels of 1025 x 1025 in one bank: 210 M weights, refused at the 64th before the rest are built.
        string json = $$"""{ "layers": [ {"type": "conv", "kernels": [{{string.Join(", ", Enumerable.Repeat("\"big\"", 200))}}]} ] }""";
        string path = _dir.Write("bank.json", json);
        int built = 0;
        Tensor Kernels(string name)
        {
            built++;
            return new Tensor([1025, 1025]);
        }
        var e = Assert.Throws<ConvGLException>(() => StackFile.Load(path, Kernels));
        Assert.Contains("layers[0] (conv) field 'kernels[63]'", e.Message);
        Assert.Contains($"over the limit of {Limits.StackWeights}", e.Message);
        Assert.Equal(64, built);
    }

    [Fact]
    public void Plan_AllMapsTogether_AreCapped_AndTheShippedEdgesStackFailsFastAtTheLargestFeaturesSize()
    {
        // Each map fits alone; together the plan is over StackPlanValues.
        Stack chain = _dir.Load("""{ "layers": [ {"type": "relu"}, {"type": "abs"}, {"type": "relu"}, {"type": "abs"}, {"type": "relu"} ] }""");
        var e = Assert.Throws<MapsTooLargeException>(() => StackPlan.Create(chain, 16384, 16384));
        Assert.Contains("layers[3] (abs)", e.Message);
        Assert.Contains($"over the limit of {Limits.StackPlanValues}", e.Message);
        Assert.True(StackPlan.TryCreate(chain, 8192, 8192, null, out _, out _));

        // `features --stack edges --size 16384x16384`: four maps of 16384^2 after layer 0 are 2^30 values.
        string edges = Path.Combine(StackCatalog.ShippedDirectory()!, "edges.json");
        Stack stack = StackFile.Load(edges);
        var sw = Stopwatch.StartNew();
        e = Assert.Throws<MapsTooLargeException>(() => StackPlan.Create(stack, 16384, 16384));
        Assert.Contains("layers[0] (conv): its output (4, 16384, 16384)", e.Message);
        Assert.Contains($"limit of {Limits.StackMapValues}", e.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5));
    }

    public static TheoryData<string, string, string> BadText() => new()
    {
        // System.Text.Json parses these and throws InvalidOperationException only when the string is read.
        { "lone surrogate value", """{ "name": "\ud800", "layers": [ {"type": "relu"} ] }""", "field 'name'" },
        { "lone surrogate kernel", """{ "layers": [ {"type": "conv", "kernels": ["sobel-x", "\udc00x"]} ] }""", "field 'layers[0].kernels[1]'" },
        { "lone surrogate field name", """{ "layers": [ {"type": "relu", "\ud800": 1} ] }""", "a field name in layers[0]" },
        { "value spanning lines", "{ \"input\": {\n \"x\": 1\n}, \"layers\": [ {\"type\": \"relu\"} ] }", "field 'input'" },
        { "control characters in a name", "{ \"layers\": [ {\"type\": \"conv\", \"kernels\": [\"a\\nb\\r\\u0000c\"]} ] }", "kernels[0]" },
        { "long tensor name", $$"""{ "layers": [ {"type": "conv", "weight": "{{new string('k', 5000)}}"} ] }""", "field 'weight'" },
        { "long unknown field", $$"""{ "layers": [ {"type": "relu", "{{new string('f', 100000)}}": 1} ] }""", "unknown field" },
    };

    [Theory]
    [MemberData(nameof(BadText))]
    public void BadText_IsOneShortLineNamingTheFileAndField(string why, string json, string phrase)
    {
        string path = _dir.Write("t.json", json);
        var e = Assert.Throws<ConvGLException>(() => StackFile.Load(path, TestKernels.Resolve));
        Assert.True(e.Message.StartsWith(path + ": ", StringComparison.Ordinal), $"{why}: {e.Message}");
        Assert.True(e.Message.Contains(phrase, StringComparison.Ordinal), $"{why}: expected '{phrase}' in {e.Message}");
        AssertOneLine(e.Message);
        Assert.True(e.Message.Length < 600, $"{why}: {e.Message.Length} characters");
    }

    [Fact]
    public void NotARegularFile_OrTooLarge_IsRefusedBeforeReading()
    {
        var e = Assert.Throws<ConvGLException>(() => StackFile.Load("/dev/zero"));
        Assert.Equal("cannot read stack file '/dev/zero': not a regular file (a device, FIFO or socket)", e.Message);

        string fifo = _dir.File("pipe.json");
        using (var mk = Process.Start("mkfifo", [fifo])) mk.WaitForExit();
        // Opening a FIFO for reading would block until a writer came: the check happens before the open.
        e = Assert.Throws<ConvGLException>(() => StackFile.Load(fifo));
        Assert.Contains("not a regular file", e.Message);

        string big = _dir.File("big.json");
        using (var f = File.Create(big)) f.SetLength(Limits.StackFileBytes + 1);
        e = Assert.Throws<ConvGLException>(() => StackFile.Load(big));
        Assert.Equal($"cannot read stack file '{big}': it is {Limits.StackFileBytes + 1} bytes, over the 4 MiB limit for a stack file", e.Message);

        e = Assert.Throws<ConvGLException>(() => StackFile.Load(_dir.Dir));
        Assert.Contains("it is a folder", e.Message);
    }
}
