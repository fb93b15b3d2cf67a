using ConvGL.Core.Onnx;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>MaxPool / AveragePool with auto_pad SAME_UPPER / SAME_LOWER as a stack layer: the padding mode is kept and
/// resolved per input size (PaddedPool2D.SamePads), written as "padding": "same_upper" / "same_lower" and read back.</summary>
public class SamePoolTests
{
    private static Tensor Ramp(int h, int w) => Tensor.Chw(1, h, w, Enumerable.Range(1, h * w).Select(v => (float)v).ToArray());

    private static PaddedPoolOptions Same(PoolKind kind, int size, int stride, bool upper, bool includePad = false) => new()
    {
        Kind = kind, SizeY = size, SizeX = size, StrideY = stride, StrideX = stride, CountIncludePad = includePad,
        Padding = upper ? PaddingMode.SameUpper : PaddingMode.SameLower,
    };

    /// <summary>5x5 ramp 1..25, 3x3 max, stride 2, SAME_UPPER: total padding (3 - 1) * 2 + 3 - 5 = 2, one each side, 3x3
    /// out. (0, 0) covers rows/cols -1..1: max(1, 2, 6, 7) = 7; (0, 1) covers cols 1..3: 9; (0, 2) cols 3..5: 10.</summary>
    [Fact]
    public void MaxSameUpper_Stride2_WorkedExample()
    {
        Tensor y = PaddedPool2D.Apply(Ramp(5, 5), Same(PoolKind.Max, 3, 2, upper: true));
        Assert.Equal([1, 3, 3], y.Shape);
        Assert.Equal([7f, 9, 10, 17, 19, 20, 22, 24, 25], y.Data);
    }

    /// <summary>3x3 ramp 1..9, 2x2, stride 1: total padding 1. SAME_LOWER puts it before, so window (y, x) is rows
    /// y-1..y and the ramp's max is in[y, x]; SAME_UPPER after, rows y..y+1. Average, SAME_UPPER: (0, 0) = (1+2+4+5)/4 = 3;
    /// (2, 2) sees 9 alone, 9 without the padded taps counted, 9/4 = 2.25 with them; (0, 2) = (3+6)/2 = 4.5 or 9/4.</summary>
    [Fact]
    public void SameLowerAndUpper_Kernel2_PadBeforeOrAfter_WorkedExample()
    {
        Tensor x = Ramp(3, 3);
        Assert.Equal(x.Data, PaddedPool2D.Apply(x, Same(PoolKind.Max, 2, 1, upper: false)).Data);
        Assert.Equal([5f, 6, 6, 8, 9, 9, 8, 9, 9], PaddedPool2D.Apply(x, Same(PoolKind.Max, 2, 1, upper: true)).Data);
        Tensor avg = PaddedPool2D.Apply(x, Same(PoolKind.Average, 2, 1, upper: true));
        Assert.Equal([3f, 4, 4.5f, 6, 7, 7.5f, 7.5f, 8.5f, 9], avg.Data);
        Tensor withPad = PaddedPool2D.Apply(x, Same(PoolKind.Average, 2, 1, upper: true, includePad: true));
        Assert.Equal([3f, 4, 2.25f, 6, 7, 3.75f, 3.75f, 4.25f, 2.25f], withPad.Data);
    }

    /// <summary>ceil(n / stride) outputs for every size, and the pads are exactly an explicit pool's with those pads.</summary>
    [Fact]
    public void Same_EqualsExplicitPoolWithTheResolvedPads_OverSizesStridesKernelsAndDilations()
    {
        var rng = new Random(12);
        foreach (PoolKind kind in new[] { PoolKind.Max, PoolKind.Average })
            foreach (bool upper in new[] { true, false })
                for (int n = 1; n <= 9; n++)
                    foreach ((int k, int s, int d) in new[] { (1, 1, 1), (2, 2, 1), (3, 2, 1), (4, 3, 1), (3, 1, 2), (2, 3, 2) })
                    {
                        Tensor x = Tensor.Chw(2, n, n + 2, Enumerable.Range(0, 2 * n * (n + 2)).Select(_ => (float)rng.NextDouble() * 4 - 2).ToArray());
                        PaddedPoolOptions same = Same(kind, k, s, upper) with { DilationY = d, DilationX = d };
                        (int t, int b) = PaddedPool2D.SamePads(n, k, s, d, upper);
                        (int l, int r) = PaddedPool2D.SamePads(n + 2, k, s, d, upper);
                        Assert.True(upper ? b - t is 0 or 1 : t - b is 0 or 1, $"n {n} k {k} s {s} d {d}: pads ({t}, {b})");
                        // A dilated window whose taps all land in the padding (a 1-pixel axis under k 2, d 2) is refused
                        // (DamagedModelTests); found here tap by tap.
                        if (PaddingAlone(n, k, s, d, t) || PaddingAlone(n + 2, k, s, d, l))
                        {
                            Assert.Contains("holds padding alone", Assert.Throws<ConvGLException>(() => PaddedPool2D.Apply(x, same)).Message);
                            continue;
                        }
                        Tensor got = PaddedPool2D.Apply(x, same);
                        Tensor want = PaddedPool2D.Apply(x, same with { Padding = PaddingMode.Explicit, PadTop = t, PadBottom = b, PadLeft = l, PadRight = r });
                        Assert.Equal([2, (n + s - 1) / s, (n + 2 + s - 1) / s], got.Shape);
                        Assert.Equal(want.Data, got.Data);
                    }
    }

    // Whether some output of ceil(n / s) has every tap o s - before + j d (j < k) outside 0..n-1.
    private static bool PaddingAlone(int n, int k, int s, int d, int before) =>
        Enumerable.Range(0, (n + s - 1) / s).Any(o => Enumerable.Range(0, k).All(j => o * s - before + j * d is var p && (p < 0 || p >= n)));

    [Fact]
    public void SamePools_AsAStack_MatchTheGraph_AndSurviveTheStackFile()
    {
        OnnxGraph graph = SmallGraphs.SamePools();
        Stack stack = OnnxStack.FromGraph(graph, "samepools");
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("samepools.json"), stack);
        string json = File.ReadAllText(dir.File("samepools.json"));
        Assert.Equal(2, json.Split("\"padding\": \"same_upper\"").Length - 1);
        Assert.Single(json.Split("\"padding\": \"same_lower\"").Skip(1));
        Stack reloaded = StackFile.Load(dir.File("samepools.json"));
        Assert.Equal(["maxpool", "avgpool", "avgpool"], reloaded.Layers.Select(l => l.Type));
        var rng = new Random(3);
        foreach ((int h, int w) in new[] { (7, 9), (8, 8), (5, 12), (1, 3) })
        {
            Tensor x = Tensor.Chw(3, h, w, Enumerable.Range(0, 3 * h * w).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray());
            Tensor want = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, h, w) })["y"];
            Assert.Equal([1, 3, ((h + 1) / 2 + 2) / 3, ((w + 1) / 2 + 1) / 2], want.Shape);
            Assert.Equal(want.Data, StackRunner.Run(stack, x).Outputs[2].Data);
            Assert.Equal(want.Data, StackRunner.Run(reloaded, x).Outputs[2].Data);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OfficialSamePoolCase_ImportedAsAStack_PassesOnTheCpu(string name)
    {
        OnnxTestCase c = OnnxTestCase.Load(OnnxCases.Dir(name));
        OnnxTestResult r = c.Run(OnnxCases.AsStack((stack, x) => StackRunner.Run(stack, x).Outputs[^1]));
        Assert.True(r.Passed, $"{name}: {r.Detail}");
    }

    public static TheoryData<string> Cases => new(OnnxCases.SamePools);

    [Theory]
    [InlineData("""{ "layers": [ { "type": "maxpool", "size": 2, "padding": "same" } ] }""",
        "p.json: layers[0] (maxpool) field 'padding': a pool's padding must be N, [y, x], [top, left, bottom, right], same_upper or same_lower, found \"same\"")]
    [InlineData("""{ "layers": [ { "type": "avgpool", "size": 2, "padding": "SAME_UPPER" } ] }""",
        "p.json: layers[0] (avgpool) field 'padding': a pool's padding must be N, [y, x], [top, left, bottom, right], same_upper or same_lower, found \"SAME_UPPER\"")]
    public void BadPoolPaddingWord_IsOneErrorNamingTheField(string json, string expected)
    {
        var e = Assert.Throws<ConvGLException>(() => StackFile.Parse(json, "p.json"));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void SamePoolInAStackFile_PlansCeilOfSizeOverStride()
    {
        Stack stack = StackFile.Parse("""{ "input": "gray", "layers": [ { "type": "maxpool", "size": 3, "stride": 2, "padding": "same_lower" } ] }""", "p.json");
        var pool = Assert.IsType<PaddedPoolLayer>(stack.Layers[0]);
        Assert.Equal(PaddingMode.SameLower, pool.Options.Padding);
        Assert.Equal(new MapShape(1, 4, 5), StackPlan.Create(stack, 7, 10).Output);
    }
}
