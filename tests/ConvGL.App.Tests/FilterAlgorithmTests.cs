using ConvGL.App.Live;
using ConvGL.Core;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using ConvGL.Gpu;

namespace ConvGL.App.Tests;

/// <summary>The window's single filter runs by the cost model's choice (<see cref="ConvAlgorithms.ChooseFilter"/>, as
/// <c>apply</c>): the layer line names it, and whatever it picked, the picture is the filter's.</summary>
public sealed class FilterAlgorithmTests
{
    [Fact]
    public void FilterPipeline_RunsTheChosenAlgorithm_NamesIt_AndEqualsTheReference()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        using GlContext context = GlContext.CreateHeadless();
        var rng = new Random(11_0301);
        var image = new Tensor([3, 90, 160]);
        for (int i = 0; i < image.Length; i++) image.Data[i] = (float)rng.NextDouble();
        var picked = new HashSet<ConvAlgorithm>();
        foreach (string spec in new[] { "sobel-x", "motion-blur:61,30" })
        {
            using var pipeline = new FilterPipeline(context, spec);
            pipeline.Input.Upload(image);
            pipeline.Run();
            Tensor kernel = KernelSource.Resolve(spec);
            AlgorithmChoice expected = ConvAlgorithms.ChooseFilter(3, 90, 160, kernel, pipeline.Options, ConvCostModel.Llvmpipe);
            picked.Add(expected.Algorithm);
            Assert.EndsWith(", " + expected, pipeline.LayerLabel(0));
            // The reference: Core's double-precision FFT for the big kernel (Core's tests prove it equal to the direct sum,
            // which would take seconds here), the direct sum for the small one.
            Tensor reference = kernel.H > 15 ? FftConv2D.Filter(image, kernel, pipeline.Options with { Groups = 1 }) : Conv2D.Filter(image, kernel, pipeline.Options with { Groups = 1 });
            Tensor actual = pipeline.LayerOutput(0).Download();
            Assert.Equal(reference.Shape, actual.Shape);
            double tolerance = ConvTheorem.Tolerance(kernel.Data.Sum(MathF.Abs), 1, reference.Data.Max(MathF.Abs), 1 << 20);
            for (int i = 0; i < reference.Length; i++)
                Assert.True(Math.Abs(reference.Data[i] - actual.Data[i]) <= tolerance, $"{spec} ({expected}) at {i}: reference {reference.Data[i]}, window {actual.Data[i]}");
        }
        Assert.Equal([ConvAlgorithm.Direct, ConvAlgorithm.Fft], picked.Order());
    }
}
