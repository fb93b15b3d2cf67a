using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;

namespace ConvGL.Core.Tests;

public class Conv2DWorkedExamples
{
    private static readonly Tensor Window = Tensor.Chw(1, 3, 3, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    private static readonly Tensor VerticalEdge = Tensor.Matrix([[1, 0, -1], [1, 0, -1], [1, 0, -1]]);

    [Fact]
    public void Correlate_VerticalEdgeKernelOn1To9Window_GivesMinus6()
    {
        // Centre output, valid padding: (1-3) + (4-6) + (7-9) = -6. Some tutorials print -5 for this window;
        // that is an arithmetic slip (every row contributes exactly -2), not a different convention.
        Tensor r = Conv2D.Filter(Window, VerticalEdge, new ConvOptions { Padding = PaddingMode.Valid });
        Assert.Equal([1, 1, 1], r.Shape);
        Assert.Equal(-6f, r.Data[0]);
        Assert.NotEqual(-5f, r.Data[0]);
    }

    [Fact]
    public void Convolve_VerticalEdgeKernelOn1To9Window_GivesPlus6()
    {
        // Convolution flips the kernel to [[-1,0,1]]*3: (3-1) + (6-4) + (9-7) = +6.
        Tensor r = Conv2D.Filter(Window, VerticalEdge, new ConvOptions { Padding = PaddingMode.Valid, Mode = ConvMode.Convolve });
        Assert.Equal(6f, r.Data[0]);
        Assert.Equal(VerticalEdge.Data, KernelLibrary.Get("vertical-edge").Data);
    }

    [Fact]
    public void MeanFilter_SingleSpike_SpreadsOneNinthToItsNeighbours()
    {
        var img = Tensor.Chw(1, 5, 5);
        img[0, 2, 2] = 1;
        Tensor r = Conv2D.Filter(img, KernelLibrary.Get("box:3"), new ConvOptions { Border = Border.Zero });
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 5; x++)
            {
                float expected = Math.Abs(y - 2) <= 1 && Math.Abs(x - 2) <= 1 ? 1 / 9f : 0f;
                Assert.Equal(expected, r[0, y, x]);
            }
    }

    [Fact]
    public void SobelX_DarkToBrightStep_RespondsPositively()
    {
        // Left half 0, right half 1: under correlate, sobel-x gives (1+2+1) * 1 = 4 at the two columns beside the step.
        var img = Tensor.Chw(1, 4, 6);
        for (int y = 0; y < 4; y++)
            for (int x = 3; x < 6; x++) img[0, y, x] = 1;
        Tensor r = Conv2D.Filter(img, KernelLibrary.Get("sobel-x"), new ConvOptions { Padding = PaddingMode.Valid });
        Assert.Equal([1, 2, 4], r.Shape);
        Assert.Equal([0f, 4, 4, 0, 0, 4, 4, 0], r.Data);
    }

    [Fact]
    public void StrideAndDilation_HandComputed()
    {
        // 1x5 row 1..5, kernel [1, 10] dilation 2 valid: out[x] = in[x] + 10 in[x+2] -> 31, 42, 53; stride 2 keeps 31, 53.
        var img = Tensor.Chw(1, 1, 5, [1, 2, 3, 4, 5]);
        var k = Tensor.Matrix([[1, 10]]);
        var o = new ConvOptions { Padding = PaddingMode.Valid, DilationX = 2 };
        Assert.Equal([31f, 42, 53], Conv2D.Filter(img, k, o).Data);
        Assert.Equal([31f, 53], Conv2D.Filter(img, k, o with { StrideX = 2 }).Data);
        // same with an even kernel pads 0 before and 1 after (PyTorch): out[x] = in[x] + 10 in[x+1], last reads the zero pad.
        Assert.Equal([21f, 32, 43, 54, 5], Conv2D.Filter(img, k, new ConvOptions()).Data);
    }

    [Fact]
    public void MultiChannel_GroupsAndBias_HandComputed()
    {
        // Two input channels of constant 1 and 2; weight (2 out, 1 in/group, 1x1) = [3], [5]; groups 2; bias [0.5, -1].
        var img = Tensor.Chw(2, 1, 2, [1, 1, 2, 2]);
        var w = new Tensor([2, 1, 1, 1], [3, 5]);
        Tensor r = Conv2D.Apply(img, w, [0.5f, -1f], new ConvOptions { Groups = 2 });
        Assert.Equal([3.5f, 3.5f, 9f, 9f], r.Data);
        // groups 1: each output sums both inputs, weight (1 out, 2 in, 1x1) = [3, 5] -> 3*1 + 5*2 = 13.
        Tensor s = Conv2D.Apply(img, new Tensor([1, 2, 1, 1], [3, 5]), null, new ConvOptions());
        Assert.Equal([13f, 13f], s.Data);
    }
}
