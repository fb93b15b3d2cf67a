using ConvGL.App.Cli;
using ConvGL.App.Commands;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Onnx;
using Google.Protobuf;

namespace ConvGL.App.Tests.Onnx;

/// <summary><c>convgl convert MODEL OUT.json</c>: the written stack runs to the model's maps on every layer through
/// <c>features</c>; ResNet18 by name gets the note about its preprocessing; every bad input is one error and writes
/// nothing.</summary>
public sealed class ConvertCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-convert-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private string[] Files() => Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    /// <summary>A residual block with a head (batchnorm folded and standalone, asymmetric pads, ceil-mode pools, a Gemm)
    /// converted, then <c>features</c> on the same .npy with <c>--stack</c> the model and the written stack: the same
    /// files, and every map equal (the written weights are the folded ones the model runs with; 1e-5 of each map's
    /// largest value).</summary>
    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public void ConvertedModel_RunsToTheModelsMaps_OnEveryLayer(string device)
    {
        File.WriteAllBytes(P("small.onnx"), SmallGraphs.ResidualWithHeadBytes());
        var output = new StringWriter();
        Assert.Equal(0, ConvertCommand.Run(P("small.onnx"), P("mine.json"), output));
        Assert.Matches($"^wrote {System.Text.RegularExpressions.Regex.Escape(P("mine.json"))} \\(13 layers, from small.onnx\\) and mine.safetensors \\([0-9.]+ KB\\)", output.ToString());
        Assert.Equal(["912 bytes", "1.0 KB", "99.9 KB", "0.1 MB", "63.6 MB"], new long[] { 912, 1_000, 99_949, 100_000, 63_600_000 }.Select(ConvertCommand.Size));
        Assert.DoesNotContain("note:", output.ToString());
        Assert.Equal(["mine.json", "mine.safetensors", "small.onnx"], Files());
        Assert.Equal("mine.safetensors", StackFile.Load(P("mine.json")).WeightsFile);

        var rng = new Random(12);
        Npy.Write(P("x.npy"), Tensor.Chw(3, 13, 18, Enumerable.Range(0, 3 * 13 * 18).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()));
        Assert.Equal(0, CliRoot.Execute(["features", P("x.npy"), "--stack", P("small.onnx"), "--out", P("model-maps"), "--device", device]));
        Assert.Equal(0, CliRoot.Execute(["features", P("x.npy"), "--stack", P("mine.json"), "--out", P("stack-maps"), "--device", device]));
        // The model's maps are named after its nodes (00-conv-conv1.npy), the stack file's after their layer types
        // (00-conv.npy): the same layers in the same order.
        string[] Maps(string dir) => Directory.GetFiles(P(dir), "*.npy").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        string[] model = Maps("model-maps"), mine = Maps("stack-maps");
        Assert.Equal(14, model.Length); // the input and 13 layers
        Assert.Equal(model.Select(n => n.Split('-')[0]), mine.Select(n => n.Split('-')[0]));
        for (int i = 0; i < model.Length; i++)
        {
            Assert.StartsWith(Path.GetFileNameWithoutExtension(mine[i]), model[i], StringComparison.Ordinal);
            Tensor want = Npy.Read(Path.Combine(P("model-maps"), model[i])), got = Npy.Read(Path.Combine(P("stack-maps"), mine[i]));
            Assert.Equal(want.Shape, got.Shape);
            double scale = Math.Max(1e-6, want.Data.Max(v => Math.Abs((double)v)));
            Assert.True(want.Data.Zip(got.Data).All(p => Math.Abs(p.First - p.Second) <= 1e-5 * scale), $"{device} {mine[i]}");
        }
    }

    [Fact]
    public void PackagedResNet18_ByName_WritesItsFoldedWeights_AndSaysItsPreprocessingIsNotInTheFile()
    {
        var output = new StringWriter();
        Assert.Equal(0, ConvertCommand.Run("resnet18", P("r.json"), output));
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"wrote {P("r.json")} (52 layers, from ResNet18.onnx) and r.safetensors (", lines[0]);
        Assert.Equal("note: the model's image preprocessing (resized to 224x224, values x255, channels BGR, minus a mean image) is not part " +
                     "of a stack file: the written stack takes its input as it is (give it a preprocessed .npy, or run images through --stack resnet18)", lines[1]);
        Stack written = StackFile.Load(P("r.json"));
        Assert.Equal(52, written.Layers.Count);
        Assert.Null(written.Preprocess);
        // ResNet18's 11.69 M parameters less the 0.51 M of the classifier this export lacks, plus its two extra 512->512
        // 3x3 convs (2.36 M each) and the folded convs' biases (a few thousand): 15.9 M float32s, and the header.
        long values = StackWriter.CollectTensors(written).Values.Sum(t => (long)t.Length);
        Assert.InRange(values, 15_880_000, 15_920_000);
        Assert.InRange(new FileInfo(P("r.safetensors")).Length, 4 * values, 4 * values + 65_536);
        Assert.Equal("r", written.Name);
        Assert.Equal("ResNet18.onnx (ONNX model (CNTK 2.6, opset 8)), written by convgl convert", written.Description);
        ConvLayer stem = Assert.IsType<ConvLayer>(written.Layers[0]);
        // The folded tensors are named after their conv's node, as PyTorch names a module's.
        Assert.Equal("Convolution249", stem.Label);
        Assert.Equal(("Convolution249.weight", "Convolution249.bias"), (stem.WeightName, stem.BiasName));
        Assert.Equal([64, 3, 7, 7], stem.Weight!.Shape);
        Assert.NotNull(stem.Bias);
    }

    /// <summary>(MODEL, OUT, the error's start); "~/" stands for the test's scratch folder; an empty error: the
    /// command succeeds.</summary>
    public static TheoryData<string, string, string> BadInputs() => new()
    {
        { "~/small.onnx", "~/mine.txt", "convert: OUT '~/mine.txt' must be a .json file name" },
        { "~/small.onnx", "~/.json", "convert: OUT '~/.json' has no name before .json" },
        { "~/small.onnx", "~/no-such-folder/mine.json", "convert: OUT '~/no-such-folder/mine.json': folder '~/no-such-folder' does not exist" },
        { "~/small.onnx", "~/sub.json", "convert: OUT '~/sub.json' is a folder" },
        { "~/missing.onnx", "~/mine.json", "convert: MODEL '~/missing.onnx': no such model file, and not a packaged model's name (models: resnet18)" },
        { "~/sub.json", "~/mine.json", "convert: MODEL '~/sub.json' is a folder; give an .onnx model file in it" },
        { "~/garbage.onnx", "~/mine.json", "~/garbage.onnx: not a readable ONNX model" },
        { "~/lstm.onnx", "~/mine.json", "~/lstm.onnx: node 'rnn' (LSTM): op LSTM is not supported" },
        { "edges", "~/mine.json", "convert: MODEL 'edges' is not an .onnx file" },
        { "~/small.onnx", "~/small.onnx.json", "" },
        { "~/model.onnx", "~/model.json", "" },
    };

    /// <summary>Each is one error (exit 2 through Program) and no file is written or changed; the two fine cases write
    /// the stack and its weights and nothing else.</summary>
    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInput_IsOneError_AndWritesNothing(string model, string output, string expected)
    {
        string Here(string s) => s.Replace("~/", _dir + "/", StringComparison.Ordinal).Replace("~", _dir, StringComparison.Ordinal);
        File.WriteAllBytes(P("small.onnx"), SmallGraphs.ResidualWithHeadBytes());
        File.WriteAllBytes(P("model.onnx"), SmallGraphs.ResidualWithHeadBytes());
        File.WriteAllText(P("garbage.onnx"), "not a protobuf\n");
        File.WriteAllBytes(P("lstm.onnx"), LstmModel());
        Directory.CreateDirectory(P("sub.json"));
        string[] before = Files();
        DateTime[] times = before.Select(f => File.GetLastWriteTimeUtc(P(f))).ToArray();
        if (expected.Length == 0)
        {
            Assert.Equal(0, ConvertCommand.Run(Here(model), Here(output), new StringWriter()));
            string stem = Path.GetFileNameWithoutExtension(output);
            Assert.Equal(before.Append(stem + ".json").Append(stem + ".safetensors").Order(StringComparer.Ordinal), Files());
            return;
        }
        var e = Assert.Throws<ConvGLException>(() => CliRoot.Execute(["convert", Here(model), Here(output)]));
        Assert.StartsWith(Here(expected), e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(before, Files());
        Assert.Equal(times, before.Select(f => File.GetLastWriteTimeUtc(P(f))));
    }

    private static byte[] LstmModel()
    {
        var g = new GraphProto { Name = "rnn" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Node.Add(new NodeProto { Name = "rnn", OpType = "LSTM", Input = { "x" }, Output = { "y" } });
        g.Output.Add(ProtoBuilders.Value("y"));
        return new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
    }
}
