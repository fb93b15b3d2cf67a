using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu.Onnx;
using ConvGL.Gpu.Stacks;

namespace ConvGL.Gpu.Tests.Onnx;

/// <summary>A packaged model's preprocessing on the GPU (shaders/image_preprocess.comp) == ImagePreprocess.Apply, for
/// sources smaller, larger, wider and taller than the model; and the stack runner preprocesses the window's source
/// before its layers.</summary>
[Collection(GlCollection.Name)]
public sealed class ImagePreprocessGpuTests(GlFixture fixture)
{
    private static Tensor Random01(int c, int h, int w, int seed)
    {
        var rng = new Random(seed);
        return Tensor.Chw(c, h, w, Enumerable.Range(0, c * h * w).Select(_ => (float)rng.NextDouble()).ToArray());
    }

    private static void AssertClose(Tensor want, Tensor got, double abs, string what)
    {
        Assert.True(want.SameShape(got), $"{what}: CPU {want.ShapeString}, GPU {got.ShapeString}");
        double diff = 0;
        for (int i = 0; i < want.Length; i++) diff = Math.Max(diff, Math.Abs((double)want.Data[i] - got.Data[i]));
        Assert.True(diff <= abs, $"{what}: max |GPU - CPU| {diff:G3} > {abs}");
    }

    [Theory]
    [InlineData(224, 224)]
    [InlineData(360, 640)]
    [InlineData(480, 270)]
    [InlineData(97, 61)]
    [InlineData(1, 1)]
    public void GpuPreprocess_EqualsCpu_OnTheResNetPreprocessing(int h, int w)
    {
        ImagePreprocess p = PackagedModels.PreprocessFor(ResNet18.ModelPath)!;
        Tensor image = Random01(3, h, w, h + w);
        using var op = new GpuImagePreprocess(fixture.Context, p);
        using GpuTensor input = GpuTensor.From(fixture.Context, image);
        using var output = new GpuTensor(fixture.Context);
        op.Run(input, output);
        // Values are 0..255 minus ~100..130. The GPU computes sample positions in float32 (about 3e-5 pixel off at
        // coordinates of a few hundred), and noise changes by up to 255 per pixel: 1e-4 of the 0..255 range.
        AssertClose(p.Apply(image), output.Download(), 255 * 1e-4, $"{h}x{w}");
    }

    [Fact]
    public void StackRunner_WithPreprocessing_RunsTheSourceThroughItFirst_AndPlansAtTheModelSize()
    {
        var rng = new Random(5);
        var mean = Tensor.Chw(3, 20, 24, Enumerable.Range(0, 3 * 20 * 24).Select(_ => (float)rng.NextDouble() * 100).ToArray());
        var pre = new ImagePreprocess(20, 24, [2, 1, 0], 255f, mean, "test");
        Stack stack = OnnxStack.FromGraph(SmallGraphs.ResidualWithHead(), "small", pre);
        Tensor source = Random01(3, 45, 70, 6);
        using var runner = new GpuStackRunner(fixture.Context, stack, 45, 70);
        Assert.Equal((20, 24), (runner.Plan.Input.H, runner.Plan.Input.W));
        runner.Input.Upload(source);
        runner.Run();
        StackResult cpu = StackRunner.Run(stack, pre.Apply(source));
        AssertClose(cpu.Input, runner.StackInput.Download(), 255 * 1e-4, "preprocessed input");
        for (int i = 0; i < stack.Layers.Count; i++)
        {
            Tensor want = cpu.Outputs[i], got = runner.Output(i).Download();
            double scale = Math.Max(1e-6, want.Data.Max(v => Math.Abs((double)v)));
            AssertClose(want, got, 1e-3 * scale, $"layer {i} ({stack.Layers[i].Type})");
        }
    }
}
