using ConvGL.Core.Ops;

namespace ConvGL.Core.Tests;

public class Conv2DWorkedExamples
{
    private static readonly Tensor Window = Tensor.Chw(1, 3, 3, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    private static readonly Tensor VerticalEdge = Tensor.Matrix([[1, 0, -1], [1, 0, -1], [1, 0, -1]]);

    [Fact]
    public void Correlate_VerticalEdgeKernelOn1To9Window_GivesMinus6()
    {
        // Centre output, valid padding: (1-3) + (4-6) + (7-9) = -6. Some tutorials print -5; that is an arithmetic slip.
        Tensor r = Conv2D.Filter(Window, VerticalEdge, new ConvOptions { Padding = PaddingMode.Valid });
        Assert.Equal([1, 1, 1], r.Shape);
        Assert.Equal(-6f, r.Data[0]);
    }

    [Fact]
    public void Convolve_VerticalEdgeKernelOn1To9Window_GivesPlus6()
    {
        // Convolution flips the kernel to [[-1,0,1]]*3: (3-1) + (6-4) + (9-7) = +6.
        Tensor r = Conv2D.Filter(Window, VerticalEdge, new ConvOptions { Padding = PaddingMode.Valid, Mode = ConvMode.Convolve });
        Assert.Equal(6f, r.Data[0]);
    }
}
