using ConvGL.Core.Onnx;

namespace ConvGL.Core.Tests.Onnx;

public class ResNet18Tests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CpuReference_MatchesOnnxRuntime_EmbeddingAndEveryIntermediateMap(bool structured)
    {
        OnnxGraph graph = OnnxGraph.Load(ResNet18.ModelPath);
        Tensor input = ResNet18.GeneratedInput(structured);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { [ResNet18.Input] = input });
        string[] names = graph.Ops.Select(o => o.Output).ToArray();
        Assert.Contains(ResNet18.Output, names);
        Dictionary<string, float[]> ort = ResNet18.RunOnnxRuntime(ResNet18.ModelPath, input, names);
        Assert.Equal([1, 512, 1, 1], ours[ResNet18.Output].Shape);
        foreach (string name in names)
        {
            double e = ResNet18.RelativeMaxError(ours[name].Data, ort[name]);
            Assert.True(e <= 1e-3, $"{name}: max |ConvGL - ORT| is {e:G3} of the map's max");
        }
        Assert.True(ort[ResNet18.Output].Max() > 0.1f, "a ResNet18 embedding of a structured input has clearly positive entries");
    }
}
