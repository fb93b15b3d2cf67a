using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>1x1 convs as a matrix product (PointwisePlan: pointwise_gather.comp, pointwise_gemm.comp) against
/// Conv2D.Apply, forced on (<see cref="ConvPath.Pointwise"/>) whatever the size, over sweeps that straddle its blocking:
/// 8 output channels per invocation (1..17 channels), 8 pixels per invocation (outputs of 1 to 257 pixels a row, pixel
/// counts around multiples of 4 and 8: the 32-byte, vec4 and scalar stores), strides 1 to 3, padding with every border
/// (the gathered input), the input read as it is (stride 1, no padding, pixels a multiple of 8), bias or none, both
/// modes. Also which layers Auto gives it.</summary>
[Collection(GlCollection.Name)]
public sealed class PointwiseTests(GlFixture fixture, ITestOutputHelper log)
{
    private void Check(int cin, int cout, int h, int w, ConvOptions o, bool bias, int seed)
    {
        var rng = new Random(seed);
        Tensor input = Parity.Random(rng, cin, h, w);
        Tensor weight = Parity.Random(rng, 1f / MathF.Sqrt(cin), cout, cin, 1, 1);
        float[]? b = bias ? Parity.RandomVector(rng, 1f, cout) : null;
        string spec = $"seed={seed} in=({cin},{h},{w}) weight=({cout},{cin},1,1) bias={bias} {o}";
        using var conv = new GpuConv2D(fixture.Context, weight, b, o) { Choice = ConvPath.Pointwise };
        Tensor expected = Conv2D.Apply(input, weight, b, o);
        Tensor actual = conv.Apply(input);
        Assert.StartsWith("pointwise:", conv.Variant, StringComparison.Ordinal);
        int pixels = expected.H * expected.W;
        Assert.Equal(fixture.Context.WideStores && pixels % 8 == 0 ? "32-byte" : pixels % 4 == 0 ? "vec4" : "scalar", FastConvTests.Stores(conv.Variant));
        bool asIs = o.StrideX == 1 && o.StrideY == 1 && expected.H == h && expected.W == w && pixels % 8 == 0 &&
                    (o.Padding != PaddingMode.Explicit || (o.PadX == 0 && o.PadY == 0));
        Assert.Equal(!asIs, conv.Variant.Contains("gathered input", StringComparison.Ordinal));
        Parity.AssertGpuMatchesReference(expected, actual, spec + " -- " + conv.Variant);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EveryWidthHeightAndChannelCount(bool wide)
    {
        // Stride 1, no padding: pixel counts 1 .. 257 x 5 (the input read as it is where they are whole blocks of 8, else
        // gathered), output channels around the blocks of 8 and 4.
        int seed = 0;
        FastConvTests.WithWideStores(fixture.Context, wide, () =>
        {
            foreach (int w in new[] { 1, 2, 3, 4, 7, 8, 9, 31, 33, 257 })
                foreach (int h in new[] { 1, 5, 17 })
                {
                    int cout = new[] { 1, 4, 7, 8, 9, 16, 17 }[seed % 7];
                    Check(1 + seed % 17, cout, h, w, new ConvOptions(), bias: seed % 3 != 0, ++seed);
                }
        });
    }

    /// <summary>wide false: the 4-values-an-invocation gather a driver without 64-bit integers gets, with strides, pads
    /// and borders too.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void StridesPaddingBordersAndModes(bool wide)
    {
        var rng = new Random(wide ? 8080 : 8081);
        Border[] borders = [.. Borders.All];
        FastConvTests.WithWideStores(fixture.Context, wide, () => Sweep(rng, borders));
    }

    private void Sweep(Random rng, Border[] borders)
    {
        for (int n = 0; n < 40; n++)
        {
            int s = rng.Next(1, 4);
            var o = new ConvOptions
            {
                Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                Border = borders[n % borders.Length],
                Padding = PaddingMode.Explicit,
                PadY = rng.Next(0, 3),
                PadX = rng.Next(0, 3),
                PadBottom = rng.Next(0, 3),
                PadRight = rng.Next(0, 3),
                StrideX = s,
                StrideY = rng.Next(1, 4),
            };
            int[] sizes = [1, 2, 5, 8, 9, 16, 23];
            Check(rng.Next(1, 20), rng.Next(1, 20), sizes[rng.Next(sizes.Length)], sizes[rng.Next(sizes.Length)], o, rng.Next(2) == 0, rng.Next());
        }
    }

    [Theory]
    [InlineData(64, 128, 56, 2)]
    [InlineData(256, 512, 14, 2)]
    [InlineData(512, 64, 7, 1)]
    public void ResNetShapes(int cin, int cout, int size, int stride)
    {
        // ResNet's downsampling 1x1 layers (stride 2, no padding) and a wide layer on the 7x7 map: the sums run over
        // hundreds of input channels in the reference's order.
        Check(cin, cout, size, size, new ConvOptions { Padding = PaddingMode.Explicit, StrideX = stride, StrideY = stride }, bias: true, seed: cin + size);
    }

    [Fact]
    public void AutoTakesItForEvery1x1LayerOfOneGroup_ButTinyOnes()
    {
        var rng = new Random(5);
        string Variant(int cin, int cout, int h, int w, ConvOptions o)
        {
            using var conv = new GpuConv2D(fixture.Context, Parity.Random(rng, 0.2f, cout, cin / o.Groups, 1, 1), null, o);
            conv.Apply(Parity.Random(rng, cin, h, w));
            log.WriteLine($"{cin}->{cout} {h}x{w} {o}: {conv.Variant}");
            return conv.Variant;
        }
        Assert.StartsWith("pointwise", Variant(64, 128, 56, 56, new ConvOptions { Padding = PaddingMode.Explicit, StrideX = 2, StrideY = 2 }), StringComparison.Ordinal);
        Assert.StartsWith("pointwise", Variant(3, 16, 64, 64, new ConvOptions()), StringComparison.Ordinal);
        Assert.StartsWith("pointwise", Variant(512, 512, 7, 7, new ConvOptions()), StringComparison.Ordinal);
        // Groups (ShuffleNet's grouped 1x1 layers) take the direct programs; a handful of outputs keeps conv2d.comp.
        Assert.StartsWith("conv2d_dense", Variant(32, 32, 64, 64, new ConvOptions { Groups = 2 }), StringComparison.Ordinal);
        Assert.StartsWith("conv2d:", Variant(2, 2, 4, 4, new ConvOptions()), StringComparison.Ordinal);
    }
}
