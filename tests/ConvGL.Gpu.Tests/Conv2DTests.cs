using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

[Collection(GlCollection.Name)]
public sealed class Conv2DTests(GlFixture fixture)
{
    private static readonly (int H, int W)[] Sizes = [(1, 1), (7, 13), (64, 64), (333, 257)];

    /// <summary>One GPU run against the reference; every parameter goes into the failure message.</summary>
    private void Check(int cin, int cout, int h, int w, int kh, int kw, ConvOptions o, bool bias, int seed)
    {
        var rng = new Random(seed);
        Tensor input = Parity.Random(rng, cin, h, w);
        float scale = 1f / MathF.Sqrt(cin / o.Groups * kh * kw);
        Tensor weight = Parity.Random(rng, scale, cout, cin / o.Groups, kh, kw);
        float[]? b = bias ? Parity.RandomVector(rng, 1f, cout) : null;
        string spec = $"seed={seed} in=({cin},{h},{w}) weight=({cout},{cin / o.Groups},{kh},{kw}) bias={bias} {o}";
        Tensor expected;
        try
        {
            expected = Conv2D.Apply(input, weight, b, o);
        }
        catch (ConvGLException)
        {
            return; // the option set has no output (kernel larger than the padded input); the reference's rule
        }
        using var conv = new GpuConv2D(fixture.Context, weight, b, o);
        Tensor actual = conv.Apply(input);
        Parity.AssertGpuMatchesReference(expected, actual, spec);
    }

    [Fact]
    public void Identity3x3_CopiesInput()
    {
        var input = Tensor.Chw(1, 2, 3, [1, 2, 3, 4, 5, 6]);
        var weight = new Tensor([1, 1, 3, 3], [0, 0, 0, 0, 1, 0, 0, 0, 0]);
        using var conv = new GpuConv2D(fixture.Context, weight, null, new ConvOptions());
        Assert.Equal(input.Data, conv.Apply(input).Data);
    }

    [Fact]
    public void SweepSmall()
    {
        var rng = new Random(1234);
        PaddingMode[] paddings = Enum.GetValues<PaddingMode>();
        for (int n = 0; n < 60; n++)
        {
            int seed = rng.Next();
            var o = new ConvOptions
            {
                Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                Border = Borders.All[rng.Next(5)],
                Padding = paddings[rng.Next(paddings.Length)],
                PadY = rng.Next(0, 4), PadX = rng.Next(0, 4),
                StrideY = rng.Next(1, 4), StrideX = rng.Next(1, 4),
                DilationY = rng.Next(1, 4), DilationX = rng.Next(1, 4),
            };
            Check(2, 3, 7, 13, rng.Next(1, 8), rng.Next(1, 8), o, rng.Next(2) == 0, seed);
        }
    }
}
