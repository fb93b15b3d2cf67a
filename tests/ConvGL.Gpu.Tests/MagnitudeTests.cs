using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>GpuMagnitude (magnitude_fast.comp with 4-value texels where a plane is a multiple of 4, 1-value texels
/// otherwise; magnitude.comp when forced) against <see cref="Magnitude.Apply"/>: a worked example, a sweep of shapes
/// and channel pairs, and the special values the reference defines (NaN, infinities, squares past float32's range).</summary>
[Collection(GlCollection.Name)]
public sealed class MagnitudeTests(GlFixture fixture)
{
    [Fact]
    public void ThreeFourFive_ByHand()
    {
        // Channel pairs (0, 1) and (2, 3): sqrt(3^2 + 4^2) = 5, sqrt(0 + (-2)^2) = 2, sqrt(5^2 + 12^2) = 13.
        var input = Tensor.Chw(4, 1, 2, [3, 0, 4, -2, 5, 1, 12, 0]);
        GlContext ctx = fixture.Context;
        using var gin = GpuTensor.From(ctx, input);
        using var gout = new GpuTensor(ctx);
        new GpuMagnitude(ctx).Run(gin, gout);
        Assert.Equal(new[] { 2, 1, 2 }, gout.Shape);
        Assert.Equal(new float[] { 5, 2, 13, 1 }, gout.Download().Data);
    }

    [Fact]
    public void EveryWidthHeightAndChannelCount_FastAndPlain_MatchReference()
    {
        // Widths and heights of the blocking sweep (planes with and without a multiple of 4 values: both texel widths),
        // output channels 1..17, 4 elements per invocation with every remainder.
        GlContext ctx = fixture.Context;
        var fast = new GpuMagnitude(ctx);
        var plain = new GpuMagnitude(ctx) { Choice = ConvPath.Direct };
        using var gin = new GpuTensor(ctx);
        using var gout = new GpuTensor(ctx);
        bool sawVec4 = false, sawVec1 = false;
        int wide = 0;
        foreach (int w in new[] { 1, 7, 8, 9, 31, 33, 257 })
            foreach (int h in new[] { 1, 5, 17 })
                for (int c = 1; c <= 17; c++)
                {
                    Tensor input = Parity.Random(new Random(w * 1000 + h * 20 + c), 2 * c, h, w);
                    Tensor expected = Magnitude.Apply(input);
                    gin.Upload(input);
                    string spec = $"in=({2 * c},{h},{w})";
                    fast.Run(gin, gout);
                    Assert.StartsWith("magnitude_fast", fast.Variant, StringComparison.Ordinal);
                    sawVec4 |= fast.Variant.Contains("16 values", StringComparison.Ordinal);
                    sawVec1 |= fast.Variant.Contains(" 4 values", StringComparison.Ordinal);
                    // Planes of whole vec4s and an even count of output vec4s: pairs of them as 32-byte stores.
                    bool pairs = ctx.WideStores && h * w % 4 == 0 && c * h * w / 4 % 2 == 0;
                    Assert.Equal(pairs, fast.Variant.EndsWith("32-byte stores", StringComparison.Ordinal));
                    if (pairs) wide++;
                    Parity.AssertGpuMatchesReference(expected, gout.Download(), "fast " + spec);
                    plain.Run(gin, gout);
                    Parity.AssertGpuMatchesReference(expected, gout.Download(), "plain " + spec);
                }
        Assert.True(sawVec4 && sawVec1, "both texel widths ran");
        Assert.True(!ctx.WideStores || wide >= 20, $"{wide} cases with 32-byte stores");
    }

    /// <summary>Every pairing of 0, 1, -3, 1e19 (its square fits float32), 2e19 (its square does not), +-Inf and NaN,
    /// in both channel orders: NaN where the reference gives NaN, the same infinity where it gives one, and the same
    /// number (parity tolerance) otherwise, on both texel widths and the plain shader.</summary>
    [Fact]
    public void SpecialValues_MatchTheReference_OnEveryVariant()
    {
        float[] specials = [0f, 1f, -3f, 1e19f, 2e19f, float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        int n = specials.Length * specials.Length;
        var pairs = new List<(float A, float B)>();
        foreach (float a in specials)
            foreach (float b in specials)
                pairs.Add((a, b));
        GlContext ctx = fixture.Context;
        using var gin = new GpuTensor(ctx);
        using var gout = new GpuTensor(ctx);
        // A plane of 64 values (VEC 4) and of 65 (VEC 1: the last value of the plane repeats the first pair).
        foreach (int w in new[] { 64, 65 })
        {
            var input = Tensor.Chw(2, 1, w);
            for (int p = 0; p < w; p++)
                (input[0, 0, p], input[1, 0, p]) = pairs[p % n];
            Tensor expected = Magnitude.Apply(input);
            gin.Upload(input);
            foreach (GpuMagnitude op in new[] { new GpuMagnitude(ctx), new GpuMagnitude(ctx) { Choice = ConvPath.Direct } })
            {
                op.Run(gin, gout);
                float[] got = gout.Download().Data;
                for (int p = 0; p < w; p++)
                {
                    float want = expected.Data[p], g = got[p];
                    string spec = $"{op.Variant}, plane {w}: ({input[0, 0, p]}, {input[1, 0, p]}) -> reference {want}, GPU {g}";
                    if (float.IsNaN(want) || float.IsInfinity(want)) Assert.True(want.Equals(g), spec);
                    else Assert.True(Math.Abs(g - want) <= 1e-5 + 1e-4 * Math.Abs(want), spec);
                }
            }
        }
    }
}
