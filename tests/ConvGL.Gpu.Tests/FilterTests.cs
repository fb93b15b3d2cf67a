using ConvGL.Core;
using ConvGL.Core.Ops;

namespace ConvGL.Gpu.Tests;

[Collection(GlCollection.Name)]
public sealed class FilterTests(GlFixture fixture)
{
    [Fact]
    public void Filter_EqualsConv2DFilter_AcrossCallsWithChangingKernelsAndChannels()
    {
        using var filter = new GpuFilter(fixture.Context);
        var rng = new Random(11);
        Tensor sobelX = Tensor.Matrix([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]);
        Tensor box = Tensor.Matrix([[1 / 6f, 1 / 6f, 1 / 6f], [1 / 6f, 1 / 6f, 1 / 6f]]);
        foreach ((Tensor kernel, int c, ConvOptions o) in new[]
        {
            (sobelX, 3, ConvOptions.ImageFilter),
            (sobelX, 3, ConvOptions.ImageFilter with { Mode = ConvMode.Convolve }),
            (box, 1, ConvOptions.ImageFilter with { Padding = PaddingMode.Valid }),
            (sobelX, 1, new ConvOptions { Border = Border.Wrap, StrideX = 2 }),
            (box, 3, ConvOptions.ImageFilter with { DilationY = 2 }),
        })
        {
            Tensor image = Parity.Random(rng, c, 37, 45);
            Parity.AssertGpuMatchesReference(Conv2D.Filter(image, kernel, o), filter.Filter(image, kernel, o), $"kernel {kernel.ShapeString} C={c} {o}");
        }
    }

    [Fact]
    public void ImageLargerThanOneStorageBlock_IsFilteredChannelByChannel_WithTheSameResult()
    {
        using var filter = new GpuFilter(fixture.Context) { SplitAboveBytes = 1000 };
        Tensor image = Parity.Random(new Random(12), 3, 21, 17); // 4284 bytes: over the lowered limit
        Tensor kernel = Tensor.Matrix([[0, 1, 0], [1, -4, 1], [0, 1, 0.5f]]);
        ConvOptions o = ConvOptions.ImageFilter with { Mode = ConvMode.Convolve };
        Parity.AssertGpuMatchesReference(Conv2D.Filter(image, kernel, o), filter.Filter(image, kernel, o), "split per channel");
    }
}
