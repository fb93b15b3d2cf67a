using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>Dense layers with their weights compiled in as literals (LiteralConvPlan: one generated program per block of
/// 4 output channels, 8 outputs along x per invocation, over a padded copy) against Conv2D.Apply, forced on
/// (<see cref="ConvPath.Literal"/>) whatever the size, over sweeps that straddle its blocking: widths 1 to 257 (blocks
/// of 8, the 32-byte, vec4 and scalar stores), heights 1 to 17, 1 to 17 output channels (blocks of 4 and the last, partial
/// one), kernels 1 to 7 even and non-square, strides and dilations 1 to 3, every border and padding mode, both modes,
/// bias or none, weights that are not exactly representable in few digits (each literal must parse back to the same
/// float), groups (blocks within, across and spanning several). Also which layers Auto gives it, and that its programs are deleted when the weights change.</summary>
[Collection(GlCollection.Name)]
public sealed class LiteralConvTests(GlFixture fixture)
{
    private void Check(int cin, int cout, int h, int w, int kh, int kw, ConvOptions o, bool bias, int seed)
    {
        var rng = new Random(seed);
        int cinG = cin / o.Groups;
        Tensor input = Parity.Random(rng, cin, h, w);
        Tensor weight = Parity.Random(rng, 1f / MathF.Sqrt(cinG * kh * kw), cout, cinG, kh, kw);
        float[]? b = bias ? Parity.RandomVector(rng, 1f, cout) : null;
        string spec = $"seed={seed} in=({cin},{h},{w}) weight=({cout},{cinG},{kh},{kw}) bias={bias} {o}";
        using var conv = new GpuConv2D(fixture.Context, weight, b, o) { Choice = ConvPath.Literal };
        Tensor expected = Conv2D.Apply(input, weight, b, o);
        Tensor actual = conv.Apply(input);
        Assert.StartsWith("conv2d_literal:", conv.Variant, StringComparison.Ordinal);
        Assert.Equal(fixture.Context.WideStores && expected.W % 8 == 0 ? "32-byte" : expected.W % 4 == 0 ? "vec4" : "scalar", FastConvTests.Stores(conv.Variant));
        Parity.AssertGpuMatchesReference(expected, actual, spec + " -- " + conv.Variant);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EveryWidthHeightAndChannelCount(bool wide)
    {
        int seed = 0;
        FastConvTests.WithWideStores(fixture.Context, wide, () =>
        {
            foreach (int w in new[] { 1, 2, 4, 7, 8, 9, 31, 33, 257 })
                foreach (int h in new[] { 1, 5, 17 })
                {
                    int cout = new[] { 1, 4, 5, 8, 9, 17 }[seed % 6];
                    Check(1 + seed % 3, cout, h, w, 3, 3, new ConvOptions(), bias: seed % 3 != 0, ++seed);
                }
        });
    }

    [Fact]
    public void KernelsStridesDilationsBordersPaddingAndModes()
    {
        var rng = new Random(4242);
        Border[] borders = [.. Borders.All];
        PaddingMode[] paddings = Enum.GetValues<PaddingMode>();
        for (int n = 0; n < 30; n++)
        {
            int kh = rng.Next(1, 8), kw = rng.Next(1, 8);
            var o = new ConvOptions
            {
                Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                Border = borders[n % borders.Length],
                Padding = paddings[rng.Next(paddings.Length)],
                PadY = rng.Next(0, 3),
                PadX = rng.Next(0, 3),
                StrideX = rng.Next(1, 4),
                StrideY = rng.Next(1, 4),
                DilationX = rng.Next(1, 4),
                DilationY = rng.Next(1, 4),
            };
            if (o.Padding == PaddingMode.Explicit) o = o with { PadBottom = rng.Next(0, 5), PadRight = rng.Next(0, 5) };
            int h = rng.Next(kh * o.DilationY, 30), w = rng.Next(kw * o.DilationX, 40);
            if (o.Padding == PaddingMode.Full && o.Border != Border.Zero) o = o with { Border = Border.Zero };
            try
            {
                ConvGeometry.Compute(h, w, kh, kw, o);
            }
            catch (ConvGLException)
            {
                continue; // a geometry the reference refuses (e.g. same padding with a stride); other tests cover the message
            }
            Check(rng.Next(1, 4), rng.Next(1, 10), h, w, kh, kw, o, rng.Next(2) == 0, 1000 + n);
        }
    }

    /// <summary>Each input channel is its own unrolled block of the generated program: 8 and 17 of them (the sweep above
    /// draws 1-3), the Gabor bank's 1 -> 8 15x15 as Auto gives it this plan, and a wide dilated row.</summary>
    [Fact]
    public void ManyInputChannels_AndTheGaborBanksShape()
    {
        Check(8, 5, 9, 33, 3, 3, new ConvOptions { Border = Border.Reflect, Padding = PaddingMode.SameLower }, bias: true, 600);
        Check(17, 3, 7, 20, 3, 3, new ConvOptions { Padding = PaddingMode.Explicit, PadY = 1, PadX = 0, PadBottom = 2, PadRight = 3 }, bias: false, 601);
        Check(1, 8, 20, 40, 15, 15, new ConvOptions { Border = Border.Reflect }, bias: false, 602);
        Check(2, 4, 6, 64, 3, 5, new ConvOptions { DilationX = 3, StrideX = 2, Padding = PaddingMode.SameUpper }, bias: true, 603);
    }

    [Fact]
    public void Groups_EveryBlockReadsItsGroupsChannels()
    {
        // A block of 4 output channels spans one group, part of one, or several (2 output channels a group: the deep
        // stack's Sobel x/y of each map); depthwise forced on; strides, a 5x5 kernel and the borders.
        Check(4, 8, 9, 16, 3, 3, new ConvOptions { Groups = 2 }, bias: true, 500);
        Check(6, 6, 7, 13, 3, 3, new ConvOptions { Groups = 3, Border = Border.Reflect }, bias: false, 501);
        Check(4, 8, 11, 20, 3, 3, new ConvOptions { Groups = 4, Border = Border.Reflect, Mode = ConvMode.Convolve }, bias: true, 502);
        Check(6, 18, 8, 9, 5, 5, new ConvOptions { Groups = 2, Border = Border.Replicate }, bias: true, 503);
        Check(5, 5, 6, 12, 3, 3, new ConvOptions { Groups = 5 }, bias: false, 504);
        Check(8, 8, 12, 17, 3, 3, new ConvOptions { Groups = 2, StrideX = 2, StrideY = 2, Padding = PaddingMode.Valid }, bias: true, 505);
    }

    /// <summary>The literal plans are the automatic choice on a software rasteriser only (LiteralConvPlan.InAuto): there
    /// the variant starts with <paramref name="literal"/>; on a real GPU the same layer must get a plan without weights
    /// compiled in.</summary>
    internal static void AssertAutoPicksLiteral(GlContext context, string literal, string variant)
    {
        if (context.IsSoftware) Assert.StartsWith(literal, variant, StringComparison.Ordinal);
        else Assert.DoesNotContain("literal", variant, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_TakesSmallWeightSetsOnLargeMaps_Only()
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
        // The Gabor bank's shape (8 15x15 kernels on one channel, 1,800 weights) on a 160x120 map: 34.6 M multiply-adds.
        AssertAutoPicksLiteral(fixture.Context, "conv2d_literal:", Variant(1, 8, 15, 120, 160));
        // 4 -> 16 5x5 (1,600 weights) on 128x128: 26.2 M. (A 3x3 layer of this kind is LiteralWinogradPlan's.)
        AssertAutoPicksLiteral(fixture.Context, "conv2d_literal:", Variant(4, 16, 5, 128, 128));
        // Too few multiply-adds to pay for compiling (16 -> 32 3x3 on 32x32: 4.7 M).
        Assert.StartsWith("conv2d_dense", Variant(16, 32, 3, 32, 32), StringComparison.Ordinal);
        // Too many weights (16 -> 64 3x3: 9,216 above 4,608).
        Assert.StartsWith("conv2d_dense", Variant(16, 64, 3, 96, 96), StringComparison.Ordinal);
        // Fewer than 4 output channels: a 5x5 and a 9x9 filter on one channel of a 1080p frame (51.8 M and 168 M).
        Assert.StartsWith("conv2d_depthwise", Variant(1, 1, 5, 1080, 1920), StringComparison.Ordinal);
        Assert.StartsWith("conv2d_depthwise", Variant(1, 1, 9, 1080, 1920), StringComparison.Ordinal);
        Assert.StartsWith("conv2d_dense", Variant(8, 3, 3, 512, 512), StringComparison.Ordinal);
        // Groups: the deep stack's Sobel x/y of each of 16 maps (16 -> 32, 16 groups, 288 weights) at 320x180: 16.6 M
        // multiply-adds, above 4,096 a weight (LiteralWinogradPlan.MinMacs). A depthwise layer keeps conv2d_depthwise.
        AssertAutoPicksLiteral(fixture.Context, "conv2d_literal:", Variant(16, 32, 3, 180, 320, new ConvOptions { Groups = 16 }));
        Assert.StartsWith("conv2d_depthwise", Variant(32, 32, 3, 256, 256, new ConvOptions { Groups = 32 }), StringComparison.Ordinal);
    }

    [Fact]
    public void NewWeights_DeleteTheOldPrograms()
    {
        var rng = new Random(11);
        using var conv = new GpuConv2D(fixture.Context, Parity.Random(rng, 0.3f, 6, 2, 3, 3), null) { Choice = ConvPath.Literal };
        Tensor input = Parity.Random(rng, 2, 9, 16);
        conv.Apply(input);
        fixture.Context.FlushDisposables();
        int programs = fixture.Context.LiveObjectsOf(Silk.NET.OpenGL.ObjectIdentifier.Program);
        for (int n = 0; n < 5; n++)
        {
            Tensor weight = Parity.Random(rng, 0.3f, 6, 2, 3, 3);
            conv.SetWeights(weight, null);
            Tensor actual = conv.Apply(input);
            Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, null, new ConvOptions()), actual, $"weights {n}");
        }
        fixture.Context.FlushDisposables();
        Assert.Equal(programs, fixture.Context.LiveObjectsOf(Silk.NET.OpenGL.ObjectIdentifier.Program));
    }
}
