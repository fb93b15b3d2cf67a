using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu.Onnx;

namespace ConvGL.Gpu.Tests.Onnx;

/// <summary>1D ops on the GPU graph runner (the one-row 2D programs, the input's storage read as (N C, 1, L)): every value
/// of the signal network (OneDGraphs: a strided 1D conv with auto_pad, a 1D batchnorm, a grouped strided 1D transposed conv,
/// 1D pools) equal to the CPU reference, batches of 1 to 3, one runner over several lengths.</summary>
[Collection(GlCollection.Name)]
public sealed class OneDOpsGpuTests(GlFixture fixture)
{
    [Fact]
    public void ASignalNetwork_MatchesTheCpu_OnEveryValue()
    {
        OnnxGraph graph = OneDGraphs.Graph();
        using var runner = new GpuOnnxRunner(fixture.Context, graph);
        foreach ((int batch, int length) in new[] { (1, 37), (2, 16), (3, 5), (1, 64), (2, 1) })
        {
            Tensor x = OneDGraphs.Input(batch, length, seed: batch * 100 + length);
            var inputs = new Dictionary<string, Tensor> { ["x"] = x };
            Dictionary<string, Tensor> cpu = graph.Run(inputs);
            Dictionary<string, Tensor> gpu = runner.Run(inputs, downloadAll: true);
            foreach (string name in graph.Ops.Select(op => op.Output))
            {
                Tensor want = cpu[name], got = gpu[name];
                Assert.True(want.Shape.SequenceEqual(got.Shape), $"({batch}, 4, {length}): value '{name}' is {got.ShapeString} on the GPU, {want.ShapeString} on the CPU");
                for (int i = 0; i < want.Length; i++)
                    Assert.True(Math.Abs(got.Data[i] - want.Data[i]) <= 1e-5 + 1e-5 * Math.Abs(want.Data[i]),
                        $"({batch}, 4, {length}): value '{name}'[{i}] is {got.Data[i]} on the GPU, {want.Data[i]} on the CPU");
            }
        }
    }

    /// <summary>The input read again after a 1D conv (an Add of the conv's output and the input), at two lengths through one
    /// runner: equal to the CPU (a review: no test read a 1D op's input twice; the GPU ops read values by their logical
    /// shapes, so the conv's reading the input's storage as a one-row map leaves nothing for a later reader to see).</summary>
    [Fact]
    public void AnInputReadAgainAfterA1DConv_MatchesTheCpu()
    {
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(OneDGraphs.ReadAgainBytes(), "again.onnx"));
        using var runner = new GpuOnnxRunner(fixture.Context, graph);
        foreach (int length in new[] { 9, 16 })
        {
            var x = new Tensor([1, 2, length], Enumerable.Range(0, 2 * length).Select(i => (float)Math.Sin(i * 0.7) * 2).ToArray());
            var inputs = new Dictionary<string, Tensor> { ["x"] = x };
            Tensor want = graph.Run(inputs)["y"], got = runner.Run(inputs)["y"];
            Assert.Equal([1, 2, length], got.Shape);
            for (int i = 0; i < want.Length; i++)
                Assert.True(Math.Abs(got.Data[i] - want.Data[i]) <= 1e-5, $"L {length}: y[{i}] is {got.Data[i]} on the GPU, {want.Data[i]} on the CPU");
        }
    }

    /// <summary>A 1D ConvTranspose whose weight is fed and whose one attribute is output_shape [6]: the same values on the GPU.</summary>
    [Fact]
    public void A1DConvTranspose_WithAFedWeight_MatchesTheCpu()
    {
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(OneDGraphs.FedTransposeBytes(), "t.onnx"));
        (Tensor x, Tensor w) = OneDGraphs.FedTransposeInputs();
        var inputs = new Dictionary<string, Tensor> { ["x"] = x, ["w"] = w };
        Tensor want = graph.Run(inputs)["y"];
        using var runner = new GpuOnnxRunner(fixture.Context, graph);
        Tensor got = runner.Run(inputs)["y"];
        Assert.Equal([1, 3, 6], got.Shape);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got.Data[i] - want.Data[i]) <= 1e-5, $"y[{i}] is {got.Data[i]} on the GPU, {want.Data[i]} on the CPU");
    }
}
