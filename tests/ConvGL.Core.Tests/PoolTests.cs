using ConvGL.Core.Learning;
using ConvGL.Core.Ops;

namespace ConvGL.Core.Tests;

public class PoolTests
{
    [Fact]
    public void O1H1W3_Size1x3Pad1_CountIncludePadAverage_AndMax_ByHand()
    {
        // torch.nn.AvgPool2d((1, 3), stride=1, padding=(0, 1)) on [1 2 3]: windows [0 1 2] [1 2 3] [2 3 0] over 3
        // (count_include_pad=True) -> [1, 2, 5/3]; MaxPool2d never picks the padding -> [2, 3, 3].
        var input = Tensor.Chw(1, 1, 3, [1, 2, 3]);
        var avg = new PoolOptions { Kind = PoolKind.Average, SizeY = 1, SizeX = 3, StrideY = 1, StrideX = 1, PadX = 1 };
        Assert.Equal([1f, 2f, 5f / 3f], Pool2D.Apply(input, avg).Data);
        Assert.Equal([2f, 3f, 3f], Pool2D.Apply(input, avg with { Kind = PoolKind.Max }).Data);
    }

    [Fact]
    public void MaxPool_NaNInAWindow_GivesNaN_InTheReferenceAndTheTrainingLayer()
    {
        // PyTorch's max pooling propagates NaN (its kernels take val when `val > max || isnan(val)`), so a NaN
        // anywhere in a window is that window's output, wherever it sits in the scan order.
        var input = Tensor.Chw(1, 2, 6, [1, float.NaN, 3, 4, 5, 6, 7, 8, 9, 10, 11, float.NaN]);
        PoolOptions o = PoolOptions.Square(PoolKind.Max, 2);
        foreach ((string who, Tensor output) in new[] { ("Pool2D", Pool2D.Apply(input, o)), ("MaxPool2dLayer", new MaxPool2dLayer(o).Forward(input)) })
        {
            Assert.True(float.IsNaN(output.Data[0]), $"{who}: window 0 holds a NaN first-row second, got {output.Data[0]}");
            Assert.Equal(10f, output.Data[1]);
            Assert.True(float.IsNaN(output.Data[2]), $"{who}: window 2 holds a NaN last, got {output.Data[2]}");
        }
    }
}
