using ConvGL.Bench;
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
        // At 224x224, by hand: torchvision's ResNet18 convs are 1.814 G multiply-adds; this CNTK export has 22 convs, two more
        // 3x3 512->512 at 7x7 (7*7*512*512*9 = 115.6 M each): 2.045 G.
        Assert.InRange(c.Macs, 2_040_000_000, 2_050_000_000);
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
