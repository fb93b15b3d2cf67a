using ConvGL.App.Commands;
using ConvGL.Core;

namespace ConvGL.App.Tests.Onnx;

/// <summary>The bench's whole-model case: ResNet18's multiply-adds counted from its layers, and its whole-output check
/// accepts ONNX Runtime's embedding (the peer) and refuses a wrong one. Timing is not tested (no timed tests).</summary>
public sealed class BenchResNet18Tests
{
    [Fact]
    public void ResNet18Case_CountsItsMacs_AndItsCheckAcceptsOnnxRuntime_AndRefusesAWrongEmbedding()
    {
        BenchCase c = Assert.Single(BenchModels.ResNet18());
        Assert.Equal("resnet18-224", c.Name);
        Assert.Contains(BenchCases.All(quick: false), x => x.Name == c.Name);
        Assert.DoesNotContain(BenchCases.All(quick: true), x => x.Name == c.Name);
        // ResNet18 at 224x224: about 1.81 G multiply-adds in its 22 convs (the published 1.8 GFLOPs counts multiply-adds).
        Assert.InRange(c.Macs, 1_800_000_000, 1_830_000_000);
        Tensor input = c.MakeInput();
        Assert.Equal([3, 224, 224], input.Shape);
        using BenchPeer peer = c.Peer!(input);
        peer.Run();
        Tensor ort = peer.Output();
        Verification ok = c.Verify!(input, ort);
        Assert.True(ok.Ok, ok.Message);
        ort.Data[100] += 0.1f * ort.Data.Max();
        Assert.False(c.Verify(input, ort).Ok);
    }
}
