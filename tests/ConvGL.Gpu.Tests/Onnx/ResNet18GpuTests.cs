using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu.Onnx;

namespace ConvGL.Gpu.Tests.Onnx;

/// <summary>A real trained network on the GPU: ResNet18's embedding from the GPU runner equals ONNX Runtime's
/// (max |diff| &lt;= 1e-3 of the output's max), and every intermediate map equals the CPU reference's. At 96x96
/// through <see cref="ResNet18.ModelAtSize"/> (the same trained weights; llvmpipe takes minutes at 224x224, which the
/// CPU test covers against ONNX Runtime).</summary>
[Collection(GlCollection.Name)]
public sealed class ResNet18GpuTests(GlFixture fixture)
{
    [Fact]
    public void GpuRunner_MatchesOnnxRuntime_AndTheCpuReferenceOnEveryMap()
    {
        GlContext context = fixture.Context;
        byte[] model = ResNet18.ModelAtSize(96);
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(model, "ResNet18.onnx at 96"));
        Tensor input = ResNet18.GeneratedInput(structured: true, size: 96);
        var inputs = new Dictionary<string, Tensor> { [ResNet18.Input] = input };
        using var runner = new GpuOnnxRunner(context, graph);
        Dictionary<string, Tensor> gpu = runner.Run(inputs, downloadAll: true);
        Dictionary<string, Tensor> cpu = graph.Run(inputs);
        float[] ort = ResNet18.RunOnnxRuntime(model, input, [ResNet18.Output])[ResNet18.Output];
        double e = ResNet18.RelativeMaxError(gpu[ResNet18.Output].Data, ort);
        Assert.True(e <= 1e-3, $"GPU embedding: max |GPU - ORT| is {e:G3} of the output's max");
        foreach (OnnxOp op in graph.Ops)
        {
            double m = ResNet18.RelativeMaxError(gpu[op.Output].Data, cpu[op.Output].Data);
            Assert.True(m <= 1e-4, $"{op.Where}: max |GPU - CPU| is {m:G3} of the map's max");
        }
    }
}
