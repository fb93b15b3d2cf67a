using ConvGL.Core.Onnx;

namespace ConvGL.Core.Tests.Onnx;

public class ResNet18Tests
{
    /// <summary>At the model's own 224x224 on a structured input, and on noise through the same network at 96x96
    /// (<see cref="ResNet18.ModelAtSize"/>).</summary>
    [Theory]
    [InlineData(true, 224)]
    [InlineData(false, 96)]
    public void CpuReference_MatchesOnnxRuntime_EmbeddingAndEveryIntermediateMap(bool structured, int size)
    {
        byte[] model = size == 224 ? File.ReadAllBytes(ResNet18.ModelPath) : ResNet18.ModelAtSize(size);
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(model, $"ResNet18.onnx at {size}"));
        Assert.Equal(52, graph.Ops.Count); // 22 Conv (each with its BatchNormalization folded in), 19 Relu, 9 Add, 2 pools
        Tensor input = ResNet18.GeneratedInput(structured, size);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { [ResNet18.Input] = input });
        string[] names = graph.Ops.Select(o => o.Output).ToArray();
        Assert.Contains(ResNet18.Output, names);
        Dictionary<string, float[]> ort = ResNet18.RunOnnxRuntime(model, input, names);
        Assert.Equal([1, 512, 1, 1], ours[ResNet18.Output].Shape);
        foreach (string name in names)
        {
            double e = ResNet18.RelativeMaxError(ours[name].Data, ort[name]);
            Assert.True(e <= 1e-3, $"{name}: max |ConvGL - ORT| is {e:G3} of the map's max");
        }
        Assert.True(ort[ResNet18.Output].Max() > 0.1f, "a ResNet18 embedding has clearly positive entries");
    }
}
