namespace ConvGL.Core.Tests;

public class TensorTests
{
    [Theory]
    // 2^16 four times is 2^64: a 64-bit element count wraps to exactly 0 and an empty array would pass as
    // "the right length" for a shape whose indexer then reads far outside it.
    [InlineData(new[] { 65536, 65536, 65536, 65536 })]
    [InlineData(new[] { 2097152, 2097152, 2097152, 2 })]
    public void Constructor_ShapeProductOverflowingLong_Throws(int[] shape)
    {
        var e = Assert.Throws<ArgumentException>(() => new Tensor(shape));
        Assert.Contains("too large", e.Message);
        Assert.Throws<ArgumentException>(() => new Tensor(shape, []));
    }

    [Fact]
    public void Constructor_ZeroDimension_IsEmptyEvenWithHugeOtherDimensions()
    {
        var t = new Tensor([int.MaxValue, 0, int.MaxValue]);
        Assert.Equal(0, t.Length);
    }

    [Theory]
    [InlineData(new int[0], "()")]
    [InlineData(new[] { 7 }, "(7,)")]
    [InlineData(new[] { 2, 3 }, "(2, 3)")]
    [InlineData(new[] { 3, 1080, 1920 }, "(3, 1080, 1920)")]
    public void ShapeText_IsNumpysTuple_WithTheCommaOfAOneElementTuple(int[] shape, string text)
    {
        // A 1-D .npy named in an error is (7,) as NumPy prints it; (7) read as a bare number in parentheses.
        Assert.Equal(text, Tensor.ShapeText(shape));
        Assert.Equal(text, new Tensor(shape).ShapeString);
        Assert.Equal(text, Tensor.ShapeText(shape.Select(d => (long)d)));
    }

    [Fact]
    public void Range_IsTheFiniteValues_AndToBytesStretchesThem_InfinitiesAtTheEnds()
    {
        // The display range skips NaN and infinities (as the window's min/max pass): a map holding +inf is stretched over
        // its finite values, +inf written 255 and -inf 0, NaN 0.
        var t = new Tensor([1, 1, 6], [float.PositiveInfinity, -1f, 0f, 1f, float.NaN, float.NegativeInfinity]);
        Assert.Equal((-1f, 1f), t.Range());
        Assert.Equal(new byte[] { 255, 0, 128, 255, 0, 0 }, ConvGL.Core.IO.ImageIO.ToBytes(t, ConvGL.Core.IO.PngScaling.MinMax));
        // No finite value, or no spread: clamped to [0, 1] as before.
        var none = new Tensor([1, 1, 3], [float.PositiveInfinity, float.NaN, float.NegativeInfinity]);
        Assert.Equal((float.PositiveInfinity, float.NegativeInfinity), none.Range());
        Assert.Equal(new byte[] { 255, 0, 0 }, ConvGL.Core.IO.ImageIO.ToBytes(none, ConvGL.Core.IO.PngScaling.MinMax));
        var flat = new Tensor([1, 1, 3], [0.5f, float.PositiveInfinity, 0.5f]);
        Assert.Equal(new byte[] { 128, 255, 128 }, ConvGL.Core.IO.ImageIO.ToBytes(flat, ConvGL.Core.IO.PngScaling.MinMax));
    }
}
