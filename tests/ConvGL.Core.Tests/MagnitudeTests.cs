using ConvGL.Core.Ops;

namespace ConvGL.Core.Tests;

/// <summary><see cref="Magnitude"/>, the gradient magnitude of channel pairs: worked examples, the float32 evaluation
/// that defines its special values, and its properties against the exact hypotenuse.</summary>
public sealed class MagnitudeTests
{
    [Fact]
    public void WorkedExample_PairsChannels_2i_And_2iPlus1_PlaneByPlane()
    {
        // (2 pairs, 1x3): pair 0 is (3, 4) (0, 0) (-6, 8), pair 1 is (5, -12) (1, 0) (1.25, 3): every square and root exact in float32.
        var t = Tensor.Chw(4, 1, 3, [3, 0, -6, 4, 0, 8, 5, 1, 1.25f, -12, 0, 3]);
        Tensor m = Magnitude.Apply(t);
        Assert.Equal([2, 1, 3], m.Shape);
        Assert.Equal([5f, 0f, 10f, 13f, 1f, 3.25f], m.Data);
    }

    [Theory]
    [InlineData(float.NaN, 1f, float.NaN)]
    [InlineData(0f, float.NaN, float.NaN)]
    [InlineData(float.PositiveInfinity, float.NaN, float.NaN)]
    [InlineData(float.NegativeInfinity, 2f, float.PositiveInfinity)]
    [InlineData(-5f, float.PositiveInfinity, float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity, float.PositiveInfinity, float.PositiveInfinity)]
    // 1e-23^2 = 1e-46 is below float32's smallest subnormal (1.4e-45): the square is 0.
    [InlineData(1e-23f, 0f, 0f)]
    // 2e19^2 = 4e38 is beyond float32's range (max 3.4e38): +Inf, where double arithmetic would give 2e19 (the float32
    // evaluation is the definition, as the shaders compute it).
    [InlineData(2e19f, 0f, float.PositiveInfinity)]
    public void SpecialValues_AreThoseOfTheFloat32Expression(float a, float b, float expected)
    {
        Assert.Equal(expected, Magnitude.Of(a, b));
        Assert.Equal(expected, Magnitude.Of(b, a));
        Assert.Equal(expected, Magnitude.Apply(Tensor.Chw(2, 1, 1, [a, b])).Data[0]);
    }

    [Fact]
    public void SquaresThatFitFloat32_StayFinite()
    {
        // 1e19^2 = 1e38 fits (max 3.4e38): sqrt(2) 1e19, within float32 rounding.
        float m = Magnitude.Of(1e19f, -1e19f);
        Assert.True(Math.Abs(m / (Math.Sqrt(2) * 1e19f) - 1) < 1e-6, $"{m}");
    }

    [Fact]
    public void RandomPairs_WithinTwoUlpsOfTheExactHypotenuse_SignAndOrderFree()
    {
        var rng = new Random(7);
        for (int k = 0; k < 20000; k++)
        {
            // Magnitudes from 1e-6 to 1e6: no square leaves float32's normal range.
            float a = (float)((rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-6, 7)));
            float b = (float)((rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-6, 7)));
            float m = Magnitude.Of(a, b);
            double exact = Math.Sqrt((double)a * a + (double)b * b);
            float e = (float)exact;
            double ulp = (double)MathF.BitIncrement(e) - e;
            Assert.True(Math.Abs(m - exact) <= 2 * ulp, $"({a}, {b}): {m} vs exact {exact}");
            Assert.Equal(m, Magnitude.Of(-a, b));
            Assert.Equal(m, Magnitude.Of(b, -a));
            Assert.True(m >= Math.Max(Math.Abs(a), Math.Abs(b)) && m <= (double)Math.Abs(a) + Math.Abs(b), $"({a}, {b}): {m} outside [max, sum]");
        }
    }

    [Fact]
    public void OddChannelCount_OrNotChw_IsRefused()
    {
        Assert.Contains("even C", Assert.Throws<ConvGLException>(() => Magnitude.Apply(Tensor.Chw(3, 4, 5))).Message, StringComparison.Ordinal);
        Assert.Contains("even C", Assert.Throws<ConvGLException>(() => Magnitude.Apply(new Tensor([4, 5]))).Message, StringComparison.Ordinal);
    }
}
