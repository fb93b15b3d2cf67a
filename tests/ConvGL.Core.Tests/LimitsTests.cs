namespace ConvGL.Core.Tests;

/// <summary>Sizes checked as products before anything is allocated.</summary>
public class LimitsTests
{
    [Fact]
    public void ConvGeometry_OutputPlaneOverTheCap_IsOneClearError()
    {
        // `apply --size 100000` on a 20x16 image: each axis fits an int, the plane (200016 x 200020) does not.
        var o = new ConvOptions { Padding = PaddingMode.Explicit, PadY = 100000, PadX = 100000 };
        var e = Assert.Throws<ConvGLException>(() => ConvGeometry.Compute(16, 20, 3, 3, o));
        Assert.Equal($"the output would be 200018x200014 = {200018L * 200014} values a channel (input 20x16, kernel 3x3, padding explicit 100000,100000), " +
                     $"over the limit of {Limits.ConvPlaneValues}; use less padding or dilation, or a larger stride", e.Message);
        // Just under the cap: 16384 x 16384 of output from padding alone.
        o = o with { PadY = (16384 - 16 + 2) / 2, PadX = (16384 - 20 + 2) / 2 };
        ConvGeometry g = ConvGeometry.Compute(16, 20, 3, 3, o);
        Assert.Equal(16384, g.Y.Output);
        Assert.Equal(16384, g.X.Output);
    }
}
