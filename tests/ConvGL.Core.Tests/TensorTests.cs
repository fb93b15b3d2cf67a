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
}
