using ConvGL.App.Cli;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Onnx;

namespace ConvGL.App.Tests.Onnx;

/// <summary><c>convgl features INPUT --stack MODEL.onnx</c>: an ONNX model is a stack; a .npy input is fed as is.</summary>
public sealed class FeaturesOnnxTests : IDisposable
{
    private const string Case = "/usr/share/libonnx-testdata/data/node/test_maxpool_2d_pads";
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-features-onnx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public void OnnxModelAsStack_WritesEachOpsMap_EqualToTheOfficialExpectedOutput(string device)
    {
        if (!Directory.Exists(Case)) Assert.Skip($"ONNX backend test data absent: {Case} (apt-get install libonnx-testdata; scripts/install-deps.sh --test does)");
        Tensor x = OnnxReader.ReadTensorFile(Path.Combine(Case, "test_data_set_0", "input_0.pb")).Tensor;
        Tensor expected = OnnxReader.ReadTensorFile(Path.Combine(Case, "test_data_set_0", "output_0.pb")).Tensor;
        string input = Path.Combine(_dir, "x.npy"), outDir = Path.Combine(_dir, "maps");
        Npy.Write(input, x.Reshape(x.Shape[1..]));
        Assert.Equal(0, CliRoot.Execute(["features", input, "--stack", Path.Combine(Case, "model.onnx"), "--out", outDir, "--device", device]));
        // The node has no name: its map is named after its output value, "y".
        Assert.Equal(["00-maxpool-y.npy", "00-maxpool-y.png", "input.npy"], Directory.GetFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Tensor got = Npy.Read(Path.Combine(outDir, "00-maxpool-y.npy"));
        Assert.Equal(expected.Shape[1..], got.Shape);
        Assert.Equal(expected.Data, got.Data);
    }
}
