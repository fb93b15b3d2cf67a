using ConvGL.Core.Ops;

namespace ConvGL.Core.Tests;

/// <summary>The convolution theorem as the GPU's FFT applies it (one-tile frame, kernel at the origin, product with its
/// conjugate): equal to the direct sum, and the view's helpers (fftshift, tolerance) on hand-checked numbers.</summary>
public class ConvTheoremTests
{
    [Fact]
    public void Apply_EqualsDirect_OverBordersModesStridesDilationsAndGroups()
    {
        var rng = new Random(11_0201);
        PaddingMode[] paddings = [PaddingMode.Same, PaddingMode.Valid, PaddingMode.Full];
        int ran = 0;
        for (int n = 0; n < 40; n++)
        {
            int groups = 1 + rng.Next(2), cin = groups * (1 + rng.Next(2)), cout = groups * (1 + rng.Next(2));
            int h = 1 + rng.Next(14), w = 1 + rng.Next(14), kh = 1 + rng.Next(5), kw = 1 + rng.Next(5);
            var o = new ConvOptions
            {
                Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                Border = Borders.All[rng.Next(5)],
                Padding = paddings[rng.Next(paddings.Length)],
                StrideY = 1 + rng.Next(2), StrideX = 1 + rng.Next(2),
                DilationY = 1 + rng.Next(2), DilationX = 1 + rng.Next(2),
                Groups = groups,
            };
            Tensor input = Random(rng, cin, h, w), weight = Random(rng, cout, cin / groups, kh, kw);
            float[]? bias = rng.Next(2) == 0 ? null : [.. Enumerable.Range(0, cout).Select(_ => (float)rng.NextDouble())];
            Tensor expected;
            try
            {
                expected = Conv2D.Apply(input, weight, bias, o);
            }
            catch (ConvGLException)
            {
                continue;
            }
            Tensor actual = ConvTheorem.Apply(input, weight, bias, o);
            Assert.Equal(expected.Shape, actual.Shape);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected.Data[i] - actual.Data[i]) < 1e-5, $"case {n} ({o}) at {i}: direct {expected.Data[i]}, theorem {actual.Data[i]}");
            ran++;
        }
        Assert.True(ran > 25, $"only {ran} cases had an output");
    }

    [Fact]
    public void InputFrame_HoldsThePaddedInputAtTheOrigin()
    {
        // [1 2 3] with a 1x3 kernel, reflect, same: in_pad = [2 | 1 2 3 | 2]; the frame (good size 5) holds exactly that.
        var input = Tensor.Chw(1, 1, 3, [1, 2, 3]);
        var weight = new Tensor([1, 1, 1, 3], [0, 1, 0]);
        var o = new ConvOptions { Border = Border.Reflect };
        FftPlan plan = ConvTheorem.Plan(input, weight, o);
        Assert.Equal((1, 5), (plan.FrameH, plan.FrameW));
        Assert.Equal([2.0, 1, 2, 3, 2], ConvTheorem.InputFrame(input, 0, weight, o, plan).Select(z => z.Real));
    }

    [Fact]
    public void Shifted_PutsDcInTheMiddle_AsNumPysFftshift()
    {
        // np.fft.fftshift(np.arange(4)) = [2 3 0 1]: index 0 drawn at 2; np.fft.fftshift(np.arange(5)) = [3 4 0 1 2].
        Assert.Equal([2, 3, 0, 1], Enumerable.Range(0, 4).Select(k => ConvTheorem.Shifted(k, 4)));
        Assert.Equal([2, 3, 4, 0, 1], Enumerable.Range(0, 5).Select(k => ConvTheorem.Shifted(k, 5)));
        Assert.Equal(0, ConvTheorem.Shifted(0, 1));
    }

    [Fact]
    public void Tolerance_WorkedNumbers()
    {
        // 1e-5 + 1e-4 * 2 + 2e-7 * log2(1024) * 3 * 0.5 = 1e-5 + 2e-4 + 3e-6.
        Assert.Equal(2.13e-4, ConvTheorem.Tolerance(3, 0.5, 2, 1024), 12);
        var w = new Tensor([2, 1, 1, 2], [1, -2, 0.5f, 0.25f]);
        Assert.Equal(3.5, ConvTheorem.KernelAbsSum(w, [0.5f, -1], 0), 12);
        Assert.Equal(1.75, ConvTheorem.KernelAbsSum(w, [0.5f, -1], 1), 12);
    }

    private static Tensor Random(Random rng, params int[] shape)
    {
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (float)(rng.NextDouble() * 2 - 1);
        return t;
    }
}
