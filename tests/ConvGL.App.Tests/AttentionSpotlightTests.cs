using ConvGL.App.Live;

namespace ConvGL.App.Tests;

/// <summary>The attention probe's spotlight: black, premultiplied, with opacity 0.8 x (1 - w / max w) per key.</summary>
public sealed class AttentionSpotlightTests
{
    private static byte[] Fill(params float[] weights)
    {
        var rgba = new byte[4 * weights.Length];
        AttentionSpotlight.Fill(weights, rgba);
        for (int j = 0; j < weights.Length; j++) Assert.Equal((byte)0, rgba[4 * j] | rgba[4 * j + 1] | rgba[4 * j + 2]);
        return [.. Enumerable.Range(0, weights.Length).Select(j => rgba[4 * j + 3])];
    }

    [Fact]
    public void Opacity_IsFourFifthsOfOneMinusTheWeightOverTheLargest()
    {
        // max 0.5: t = 0, 0.5, 1, 0.5, 0.1 -> 255 x 0.8 x (1 - t) = 204, 102, 0, 102, 183.6.
        Assert.Equal([204, 102, 0, 102, 184], Fill(0f, 0.25f, 0.5f, 0.25f, 0.05f));
        // A flat softmax dims nothing; one key of all the weight lights only itself.
        Assert.Equal([0, 0, 0, 0], Fill(0.25f, 0.25f, 0.25f, 0.25f));
        Assert.Equal([204, 0, 204], Fill(0f, 1f, 0f));
        // Only the ratio counts: weights scaled by 1e-30 (subnormal products avoided) give the same picture.
        Assert.Equal(Fill(0.1f, 0.2f, 0.7f), Fill(0.1e-30f, 0.2e-30f, 0.7e-30f));
    }

    [Fact]
    public void NotFiniteWeights_NaNEverywhereDimsNothing_ANaNAmongNumbersIsDimmedFully()
    {
        Assert.Equal([0, 0], Fill(float.NaN, float.NaN));
        Assert.Equal([0, 204, 102], Fill(0.5f, float.NaN, 0.25f));
        Assert.Equal([0, 0], Fill(0f, 0f));
        Assert.Throws<ArgumentException>(() => AttentionSpotlight.Fill([1f, 2f], new byte[7]));
    }
}
