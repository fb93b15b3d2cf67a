using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu.Stacks;

namespace ConvGL.Gpu.Tests.Onnx;

/// <summary>Graph stacks on the GPU stack runner (IGpuStackOp per layer) == the CPU stack runner, every layer,
/// with layers toggled too.</summary>
[Collection(GlCollection.Name)]
public sealed class OnnxStackGpuTests(GlFixture fixture)
{
    private static void AssertClose(Tensor want, Tensor got, string what, double tolerance)
    {
        Assert.True(want.SameShape(got), $"{what}: CPU {want.ShapeString}, GPU {got.ShapeString}");
        double scale = Math.Max(1e-6, want.Data.Max(v => Math.Abs((double)v)));
        double diff = 0;
        for (int i = 0; i < want.Length; i++) diff = Math.Max(diff, Math.Abs((double)want.Data[i] - got.Data[i]));
        Assert.True(diff <= tolerance * scale, $"{what}: max |GPU - CPU| {diff:G3} of max {scale:G3}");
    }

    [Theory]
    [InlineData(17, 14)]
    [InlineData(9, 30)]
    public void ResidualGraphWithHead_GpuStackRunner_MatchesCpu_EveryLayer_AndWithALayerOff(int h, int w)
    {
        Stack stack = OnnxStack.FromGraph(SmallGraphs.ResidualWithHead(), "small");
        var rng = new Random(h * w);
        Tensor x = Tensor.Chw(3, h, w, Enumerable.Range(0, 3 * h * w).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray());
        using var runner = new GpuStackRunner(fixture.Context, stack, h, w);
        foreach (int off in new[] { -1, 1, 4, 6 })
        {
            bool[] on = Enumerable.Repeat(true, stack.Layers.Count).ToArray();
            if (off >= 0) on[off] = false;
            for (int i = 0; i < on.Length; i++) runner.SetEnabled(i, on[i]);
            StackResult cpu = StackRunner.Run(stack, x, on), gpu = runner.Run(x);
            for (int i = 0; i < stack.Layers.Count; i++)
                AssertClose(cpu.Outputs[i], gpu.Outputs[i], $"({h}x{w}) layer {i} ({stack.Layers[i].Type}), layer {off} off", 1e-4);
        }
    }

    [Fact]
    public void ResNet18_GpuStackRunner_MatchesCpuStackRunner()
    {
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(ResNet18.ModelAtSize(64), "ResNet18.onnx at 64")), "resnet18");
        Tensor x = ResNet18.GeneratedInput(structured: true, size: 64).Reshape(3, 64, 64);
        using var runner = new GpuStackRunner(fixture.Context, stack, 64, 64);
        StackResult cpu = StackRunner.Run(stack, x), gpu = runner.Run(x);
        for (int i = 0; i < stack.Layers.Count; i++)
            AssertClose(cpu.Outputs[i], gpu.Outputs[i], $"layer {i} ({stack.Layers[i].Label})", 1e-4);
        // Which plan each conv ran (the window's layer lines name it): by Winograd the four 64-channel 3x3 layers on the
        // 16x16 map (16 tiles: two blocks of 8) and the three stride-1 128-channel ones on the 8x8 map (4 tiles, 8-channel
        // products: WinogradPlan.Pays); every other conv direct (the 4x4 and 2x2 maps are one tile; the stem and the
        // stride-2 layers are no F(4x4, 3x3) case); other layers name no variant.
        int winograd = 0;
        for (int i = 0; i < stack.Layers.Count; i++)
        {
            string? variant = runner.Variant(i);
            if (stack.Layers[i] is not ConvLayer c)
            {
                Assert.Null(variant);
                continue;
            }
            int h = runner.Plan.Outputs[i].H;
            bool expected = c.Weight.Shape[2] == 3 && c.Options.StrideY == 1 &&
                ((c.Weight.Shape[1] == 64 && h == 16) || (c.Weight.Shape[1] == 128 && c.Weight.Shape[0] == 128 && h == 8));
            Assert.True(expected == variant!.StartsWith("winograd", StringComparison.Ordinal), $"layer {i}: {variant}");
            if (expected) winograd++;
        }
        Assert.Equal(7, winograd);
    }
}
