using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu.Stacks;
using ConvGL.Gpu.Tests.Stacks;

namespace ConvGL.Gpu.Tests.Onnx;

/// <summary>Every architecture block the Core tests import and check against ONNX Runtime (ArchitectureGraphs: EfficientNet,
/// MobileNetV3, DenseNet, Inception, YOLOv5 with its Focus stem, UNet with its dynamic-size pad and resize to the skip,
/// RegNet, SqueezeNet, ResNet50, ...) on the GPU stack runner: every layer equal to the CPU reference's, at the block's
/// size and at an odd one where the block takes it (the dynamic-size pads and resizes, the slices: remade for the size).</summary>
[Collection(GlCollection.Name)]
public sealed class ArchitectureGpuTests(GlFixture fixture)
{
    [Theory]
    [MemberData(nameof(ArchitectureGraphs.Importing), MemberType = typeof(ArchitectureGraphs))]
    public void Architecture_GpuStack_MatchesCpu_EveryLayer(string arch, long opset)
    {
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(ArchitectureGraphs.Build(arch, opset), arch + ".onnx")), arch);
        (int h, int w) = ArchitectureGraphs.SizeFor(arch);
        using var runner = new GpuStackRunner(fixture.Context, stack, h, w);
        int sizes = 0;
        foreach ((int y, int x) in new[] { (h, w), (h + 1, w + 3) })
        {
            Tensor image = GpuStackTests.TestImage(3, y, x, seed: y * 31 + x);
            StackResult cpu;
            // The odd size only where the block takes it (a static UNet's skip, Focus's phases and an upsampled join need
            // even sizes, as in PyTorch; the dynamic-size pad and resize take any).
            try { cpu = StackRunner.Run(stack, image); }
            catch (ConvGLException) when (sizes > 0) { continue; }
            StackResult gpu = runner.Run(image);
            sizes++;
            for (int i = 0; i < cpu.Outputs.Count; i++)
                Parity.AssertGpuMatchesReference(cpu.Outputs[i], gpu.Outputs[i], $"{arch} opset {opset} at {y}x{x}: layer {i} ({stack.Layers[i].Type} '{stack.Layers[i].Label}')");
        }
        // The dynamic-size forms take the odd size too: their pad or resize follows the skip's size.
        if (arch is "unet_convt_dynpad" or "resize_to_skip" or "resize_to_input") Assert.Equal(2, sizes);
    }
}
