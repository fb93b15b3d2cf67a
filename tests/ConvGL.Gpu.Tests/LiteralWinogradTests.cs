using System.Diagnostics;
using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>Small dense 3x3 layers as Winograd F(4x4, 3x3) with the transformed weights compiled in
/// (<see cref="LiteralWinogradPlan"/>: one generated program, 4x4 tiles, 2 of them side by side along x for up to 16 input
/// channels, else 1) against Conv2D.Apply, forced on (<see cref="ConvPath.LiteralWinograd"/>) whatever the size, over
/// sweeps that straddle its blocking: widths 1 to 64 (the tile of 4, the block of 8, the last partial block and the
/// 32-byte, vec4 and scalar stores), heights 1 to 17 (the last partial row of tiles), 1 to 17 input channels (the 1- and
/// 2-tile programs), 1 to 9 output channels, every border and padding mode (explicit and asymmetric pads), both modes,
/// bias or none; NaN and infinity reaching exactly the outputs the reference gives them (the direct fix-up); which layers
/// Auto gives it; and that its program is deleted when the weights change. The weight sets are kept small: the programs
/// compile at ~1 ms a literal on llvmpipe.</summary>
[Collection(GlCollection.Name)]
public sealed class LiteralWinogradTests(GlFixture fixture, ITestOutputHelper log)
{
    private void Check(int cin, int cout, int h, int w, ConvOptions o, bool bias, int seed, Action<Tensor>? spoil = null)
    {
        var rng = new Random(seed);
        Tensor input = Parity.Random(rng, cin, h, w);
        spoil?.Invoke(input);
        Tensor weight = Parity.Random(rng, 1f / MathF.Sqrt(cin * 9), cout, cin, 3, 3);
        float[]? b = bias ? Parity.RandomVector(rng, 1f, cout) : null;
        string spec = $"seed={seed} in=({cin},{h},{w}) weight=({cout},{cin},3,3) bias={bias} {o}";
        using var conv = new GpuConv2D(fixture.Context, weight, b, o) { Choice = ConvPath.LiteralWinograd };
        Tensor expected = Conv2D.Apply(input, weight, b, o);
        var clock = Stopwatch.StartNew();
        Tensor actual = conv.Apply(input);
        log.WriteLine($"{spec}: {conv.Variant} ({clock.ElapsedMilliseconds} ms with the compile)");
        Assert.StartsWith("conv2d_literal_winograd:", conv.Variant, StringComparison.Ordinal);
        int tiles = expected.W > 4 && cin <= 16 ? 2 : 1;
        Assert.Contains(tiles == 2 ? "2 tiles x" : "1 tile x", conv.Variant, StringComparison.Ordinal);
        Assert.Contains(o.Border == Border.Zero && w % 4 == 0 ? "input read directly" : "padded copy", conv.Variant, StringComparison.Ordinal);
        Assert.Equal(fixture.Context.WideStores && tiles == 2 && expected.W % 8 == 0 ? "32-byte" : expected.W % 4 == 0 ? "vec4" : "scalar",
            FastConvTests.Stores(conv.Variant));
        for (int i = 0; i < expected.Length; i++)
        {
            float r = expected.Data[i], g = actual.Data[i];
            if (float.IsFinite(r)) continue;
            Assert.True(float.IsNaN(r) ? float.IsNaN(g) : r == g, $"value {i}: reference {r}, GPU {g} -- {spec}");
            expected.Data[i] = actual.Data[i] = 0f;
        }
        Parity.AssertGpuMatchesReference(expected, actual, spec + " -- " + conv.Variant);
    }

    [Fact]
    public void EveryWidthHeightAndChannelCount()
    {
        int seed = 0;
        foreach (int w in new[] { 1, 3, 4, 5, 8, 9, 12, 17, 64 })
            foreach (int h in new[] { 1, 4, 17 })
            {
                int cin = 1 + seed % 2, cout = new[] { 1, 3, 4 }[seed % 3];
                Check(cin, cout, h, w, new ConvOptions(), bias: seed % 3 != 0, ++seed);
            }
        // 9 input channels hold two tiles' patches an invocation; 17 only one (two would not stay in the L1 cache).
        Check(9, 2, 5, 21, new ConvOptions(), bias: false, 100);
        Check(17, 2, 9, 24, new ConvOptions(), bias: true, 101);
    }

    [Fact]
    public void WithoutWideStores_RowsOf8_StoreVec4s()
    {
        FastConvTests.WithWideStores(fixture.Context, false, () =>
        {
            Check(2, 3, 5, 8, new ConvOptions(), bias: true, 200);
            Check(1, 4, 9, 64, new ConvOptions { Border = Border.Reflect }, bias: false, 201);
        });
    }

    [Fact]
    public void BordersPaddingAndModes()
    {
        var rng = new Random(4243);
        Border[] borders = [.. Borders.All];
        PaddingMode[] paddings = [PaddingMode.Same, PaddingMode.Valid, PaddingMode.Full, PaddingMode.Explicit, PaddingMode.SameUpper];
        for (int n = 0; n < 14; n++)
        {
            var o = new ConvOptions
            {
                Mode = n % 2 == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                Border = borders[n % borders.Length],
                Padding = paddings[n % paddings.Length],
                PadY = rng.Next(0, 3),
                PadX = rng.Next(0, 3),
                PadBottom = rng.Next(0, 3),
                PadRight = rng.Next(0, 3),
            };
            if (o.Padding == PaddingMode.Full && o.Border != Border.Zero) o = o with { Border = Border.Zero };
            Check(rng.Next(1, 4), rng.Next(1, 4), rng.Next(3, 20), rng.Next(3, 30), o, rng.Next(2) == 0, 1000 + n);
        }
    }

    /// <summary>The sweeps above draw up to 3 input and 4 output channels (their compile time grows with the weights):
    /// here 16 inputs (the most the 2-tile program takes) and 17 (one tile), at widths 31 and 7, same_lower padding,
    /// and 5 outputs with a NaN in the input read directly (the fix-up's second block of 4 channels).</summary>
    [Fact]
    public void SixteenAndSeventeenInputs_FiveOutputsThroughTheFixUp()
    {
        Check(16, 2, 5, 31, new ConvOptions(), bias: true, 700);
        Check(17, 2, 5, 7, new ConvOptions { Padding = PaddingMode.SameLower }, bias: true, 701);
        Check(3, 5, 9, 32, new ConvOptions(), bias: true, 702, spoil: t => t.Data[2 * 9 * 32 + 4 * 32 + 13] = float.NaN);
    }

    [Fact]
    public void ZeroBorder_ReadDirectly_EveryPadding()
    {
        // Rows of whole texels with a zero border: no padded copy, every value outside the input selected to 0 in the
        // program. Left pads 0 to 5 put the block's first column at every offset within a texel (and a whole texel left).
        int seed = 300;
        foreach ((int top, int left, int bottom, int right) in new[] { (0, 0, 0, 0), (1, 1, 1, 1), (2, 2, 0, 1), (0, 3, 2, 0), (1, 4, 1, 5), (3, 5, 0, 2) })
            Check(2, 3, 11, 20, new ConvOptions { Padding = PaddingMode.Explicit, PadY = top, PadX = left, PadBottom = bottom, PadRight = right },
                bias: seed % 2 == 0, seed++, null);
        Check(3, 2, 9, 16, new ConvOptions { Padding = PaddingMode.Full, Mode = ConvMode.Convolve }, bias: true, seed++);
        Check(3, 2, 9, 16, new ConvOptions { Padding = PaddingMode.Valid }, bias: true, seed++);
        Check(2, 3, 1, 4, new ConvOptions(), bias: true, seed);
    }

    [Theory]
    [InlineData(Border.Zero, ConvMode.Correlate, 19)]
    [InlineData(Border.Zero, ConvMode.Convolve, 20)]
    [InlineData(Border.Reflect, ConvMode.Convolve, 19)]
    [InlineData(Border.Wrap, ConvMode.Correlate, 20)]
    public void NaNAndInfinity_ReachExactlyTheOutputsTheReferenceGives(Border border, ConvMode mode, int width)
    {
        // A NaN where two blocks' patches overlap (columns 7 and 8: both tiles of one block and the next block's first),
        // a NaN at the right edge (tiles past the image through the border), +inf and -inf in one tile (NaN where both
        // meet a window, infinities elsewhere), an infinity in the last row, finite values everywhere else. Width 20 with
        // a zero border reads the input directly, and so does the fix-up.
        Check(2, 3, 13, width, new ConvOptions { Border = border, Mode = mode }, bias: true, 77, input =>
        {
            input[0, 5, 8] = float.NaN;
            input[1, 0, width - 1] = float.NaN;
            input[1, 9, 2] = float.PositiveInfinity;
            input[0, 10, 3] = float.NegativeInfinity;
            input[1, 12, 12] = float.PositiveInfinity;
        });
    }

    [Fact]
    public void AFiniteRun_AfterANonFiniteOne_ListsNoTile()
    {
        var rng = new Random(78);
        Tensor weight = Parity.Random(rng, 0.3f, 3, 2, 3, 3);
        float[] bias = Parity.RandomVector(rng, 1f, 3);
        using var conv = new GpuConv2D(fixture.Context, weight, bias) { Choice = ConvPath.LiteralWinograd };
        Tensor spoilt = Parity.Random(rng, 2, 12, 16);
        spoilt[1, 6, 6] = float.NaN;
        Assert.Contains(conv.Apply(spoilt).Data, float.IsNaN);
        Tensor finite = Parity.Random(rng, 2, 12, 16);
        Parity.AssertGpuMatchesReference(Conv2D.Apply(finite, weight, bias, new ConvOptions()), conv.Apply(finite), "finite input after a non-finite one");
    }

    [Fact]
    public void Auto_TakesSmall3x3LayersOnLargeMaps_Only()
    {
        using IDisposable rules = ConvTuningTests.Rules(fixture.Context);
        string Variant(int cin, int cout, int k, int h, int w, ConvOptions? o = null)
        {
            var rng = new Random(7);
            using var conv = new GpuConv2D(fixture.Context, Parity.Random(rng, 0.1f, cout, cin / (o?.Groups ?? 1), k, k), null, o);
            using var input = new GpuTensor(fixture.Context, cin, h, w);
            using var output = new GpuTensor(fixture.Context);
            conv.Run(input, output);
            return conv.Variant;
        }
        // 2 -> 4 3x3 (72 weights) on 512x512: 18.9 M multiply-adds.
        LiteralConvTests.AssertAutoPicksLiteral(fixture.Context, "conv2d_literal_winograd:", Variant(2, 4, 3, 512, 512));
        // Not 3x3 (1 -> 4 5x5 on 512x384: 19.7 M), or a stride (the same 2 -> 4 3x3 with stride 2 on 1024x2048: 37.6 M):
        // the literal direct program.
        LiteralConvTests.AssertAutoPicksLiteral(fixture.Context, "conv2d_literal:", Variant(1, 4, 5, 384, 512));
        LiteralConvTests.AssertAutoPicksLiteral(fixture.Context, "conv2d_literal:", Variant(2, 4, 3, 1024, 2048, new ConvOptions { StrideX = 2, StrideY = 2, Padding = PaddingMode.Valid }));
        // A small weight set pays on a smaller map (LiteralWinogradPlan.MinMacs: 4,096 multiply-adds a weight, at least
        // 1 M): 1 -> 8 (72 weights) on the 640x360 frame (16.6 M) and on 160x120 (1.4 M); not on 64x64 (0.3 M).
        LiteralConvTests.AssertAutoPicksLiteral(fixture.Context, "conv2d_literal_winograd:", Variant(1, 8, 3, 360, 640));
        LiteralConvTests.AssertAutoPicksLiteral(fixture.Context, "conv2d_literal_winograd:", Variant(1, 8, 3, 120, 160));
        Assert.DoesNotContain("literal", Variant(1, 8, 3, 64, 64), StringComparison.Ordinal);
        // Too few multiply-adds to pay for compiling (16 -> 32 3x3 on 32x32: 4.7 M, under 4,608 weights' 18.9 M).
        Assert.StartsWith("conv2d_dense", Variant(16, 32, 3, 32, 32), StringComparison.Ordinal);
        // Too many weights (16 -> 64 3x3: 9,216 above 4,608).
        Assert.StartsWith("conv2d_dense", Variant(16, 64, 3, 96, 96), StringComparison.Ordinal);
        // Too many input channels to hold transformed (33 -> 4: 1,188 weights, 19.5 M): the literal direct program.
        LiteralConvTests.AssertAutoPicksLiteral(fixture.Context, "conv2d_literal:", Variant(33, 4, 3, 128, 128));
        // Fewer than 4 output channels: a 3x3 filter on one channel of a 1080p frame keeps the depthwise program.
        Assert.StartsWith("conv2d_depthwise", Variant(1, 1, 3, 1080, 1920), StringComparison.Ordinal);
    }

    [Fact]
    public void NewWeights_DeleteTheOldProgram()
    {
        var rng = new Random(11);
        using var conv = new GpuConv2D(fixture.Context, Parity.Random(rng, 0.3f, 3, 2, 3, 3), null) { Choice = ConvPath.LiteralWinograd };
        Tensor input = Parity.Random(rng, 2, 9, 16);
        conv.Apply(input);
        fixture.Context.FlushDisposables();
        int programs = fixture.Context.LiveObjectsOf(Silk.NET.OpenGL.ObjectIdentifier.Program);
        for (int n = 0; n < 2; n++)
        {
            Tensor weight = Parity.Random(rng, 0.3f, 3, 2, 3, 3);
            conv.SetWeights(weight, null);
            Tensor actual = conv.Apply(input);
            Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, null, new ConvOptions()), actual, $"weights {n}");
        }
        fixture.Context.FlushDisposables();
        Assert.Equal(programs, fixture.Context.LiveObjectsOf(Silk.NET.OpenGL.ObjectIdentifier.Program));
    }
}
