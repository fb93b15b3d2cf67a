using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Stacks;
using Google.Protobuf;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>StackWriter saves an imported model as a stack file + safetensors (batchnorm folded, standalone batchnorm,
/// ONNX pools, linear, globalavgpool, add with inputs, asymmetric and auto_pad SAME_* convs); the written stack reloads
/// to the same outputs on every layer.</summary>
public class StackWriterOnnxTests
{
    private static void AssertClose(Tensor want, Tensor got, string what, double tolerance = 1e-5)
    {
        Assert.True(want.SameShape(got), $"{what}: {want.ShapeString} vs {got.ShapeString}");
        double scale = Math.Max(1e-6, want.Data.Max(v => Math.Abs((double)v)));
        double diff = 0;
        for (int i = 0; i < want.Length; i++) diff = Math.Max(diff, Math.Abs((double)want.Data[i] - got.Data[i]));
        Assert.True(diff <= tolerance * scale, $"{what}: max |diff| {diff:G3} of max {scale:G3}");
    }

    private static Tensor Random(int c, int h, int w, int seed)
    {
        var rng = new Random(seed);
        return Tensor.Chw(c, h, w, Enumerable.Range(0, c * h * w).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray());
    }

    [Fact]
    public void ResidualGraphWithHead_WrittenAndReloaded_GivesTheSameMapsOnEveryLayer()
    {
        Stack imported = OnnxStack.FromGraph(SmallGraphs.ResidualWithHead(), "small");
        using var dir = new TempDir();
        string path = dir.File("small.json");
        StackWriter.WriteWithWeights(path, imported);
        Assert.Equal(["small.json", "small.safetensors"], dir.Names());
        string json = File.ReadAllText(path);
        foreach (string field in new[] { "\"batchnorm\"", "\"linear\"", "\"ceil_mode\": true", "\"count_include_pad\": false", "\"globalavgpool\"", "\"inputs\"" })
            Assert.Contains(field, json);
        Assert.Matches(@"""padding"": \[\s*3,\s*3,\s*2,\s*2\s*\]", json); // conv2's asymmetric pads

        Stack reloaded = StackFile.Load(path);
        Assert.Equal(imported.Layers.Select(l => l.Type), reloaded.Layers.Select(l => l.Type));
        Assert.Equal(imported.Layers.Select(l => l.Label), reloaded.Layers.Select(l => l.Label));
        foreach ((int h, int w) in new[] { (17, 14), (9, 30) })
        {
            Tensor x = Random(3, h, w, h * w);
            StackResult a = StackRunner.Run(imported, x), b = StackRunner.Run(reloaded, x);
            for (int i = 0; i < imported.Layers.Count; i++) AssertClose(a.Outputs[i], b.Outputs[i], $"{h}x{w} layer {i} ({imported.Layers[i].Type})");
        }
    }

    /// <summary>The layers that take their size from the map they meet (slices of rows and columns: YOLOv5's Focus; a pad
    /// and a resize to a second map's size: a dynamic-size UNet and FPN) survive the stack file: written, reloaded, the
    /// same maps on even and odd sizes.</summary>
    [Theory]
    [InlineData("focus")]
    [InlineData("dynpad")]
    [InlineData("toskip")]
    public void SizeTakingLayers_WrittenAndReloaded_GiveTheSameMaps(string model)
    {
        byte[] bytes = model switch
        {
            "focus" => BranchyGraphs.FocusBytes(),
            "dynpad" => ArchitectureGraphs.UNet(13, "convt", "dynpad"),
            _ => ArchitectureGraphs.ResizeToSkip(13),
        };
        Stack imported = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, model + ".onnx")), model);
        using var dir = new TempDir();
        string path = dir.File(model + ".json");
        StackWriter.WriteWithWeights(path, imported);
        Stack reloaded = StackFile.Load(path);
        Assert.Equal(imported.Layers.Select(l => l.Type), reloaded.Layers.Select(l => l.Type));
        Assert.Equal(imported.Layers.Select((l, i) => l.InputsOf(i)), reloaded.Layers.Select((l, i) => l.InputsOf(i)));
        foreach ((int h, int w) in model == "focus" ? new[] { (8, 6), (12, 10) } : new[] { (12, 16), (13, 17) })
        {
            Tensor x = Random(3, h, w, h * w);
            StackResult a = StackRunner.Run(imported, x), b = StackRunner.Run(reloaded, x);
            for (int i = 0; i < imported.Layers.Count; i++) AssertClose(a.Outputs[i], b.Outputs[i], $"{model} {h}x{w} layer {i} ({imported.Layers[i].Type})");
        }
    }

    /// <summary>auto_pad SAME_UPPER / SAME_LOWER with stride 2 and an even kernel (odd total padding): the stack's conv
    /// (ConvGeometry's same_upper / same_lower) gives the ONNX graph's output (SpatialAttributes.Resolve), and so does the
    /// written and reloaded stack.</summary>
    [Theory]
    [InlineData("SAME_UPPER", "same_upper")]
    [InlineData("SAME_LOWER", "same_lower")]
    public void AutoPadSameConv_AsAStack_MatchesTheGraph_AndSurvivesTheStackFile(string autoPad, string jsonPadding)
    {
        var rng = new Random(8);
        var g = new GraphProto { Name = "same" };
        g.Input.Add(ProtoBuilders.Value("x", 1, 1, -1, -1));
        g.Input[0].Type.TensorType.Shape.Dim[2] = new Dimension { DimParam = "H" };
        g.Input[0].Type.TensorType.Shape.Dim[3] = new Dimension { DimParam = "W" };
        g.Initializer.Add(ProtoBuilders.FloatData("w", Enumerable.Range(0, 2 * 4 * 4).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray(), 2, 1, 4, 4));
        var strides = new AttributeProto { Name = "strides", Type = 7 };
        strides.Ints.AddRange([2, 2]);
        g.Node.Add(new NodeProto
        {
            Name = "conv", OpType = "Conv", Input = { "x", "w" }, Output = { "y" },
            Attribute = { strides, new AttributeProto { Name = "auto_pad", Type = 3, S = ByteString.CopyFromUtf8(autoPad) } },
        });
        g.Output.Add(ProtoBuilders.Value("y"));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "same.onnx"));
        Stack stack = OnnxStack.FromGraph(graph, "same");
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("same.json"), stack);
        Assert.Contains($"\"padding\": \"{jsonPadding}\"", File.ReadAllText(dir.File("same.json")));
        Stack reloaded = StackFile.Load(dir.File("same.json"));
        foreach ((int h, int w) in new[] { (7, 9), (8, 8), (5, 12) })
        {
            Tensor x = Random(1, h, w, h + 10 * w);
            Tensor want = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 1, h, w) })["y"];
            Assert.Equal([1, 2, (h + 1) / 2, (w + 1) / 2], want.Shape);
            AssertClose(want.Reshape(want.Shape[1..]), StackRunner.Run(stack, x).Outputs[0], $"{autoPad} {h}x{w} imported");
            AssertClose(want.Reshape(want.Shape[1..]), StackRunner.Run(reloaded, x).Outputs[0], $"{autoPad} {h}x{w} reloaded");
        }
    }

    [Fact]
    public void ResNet18_WrittenAsAStack_ReloadsToTheSameEmbedding()
    {
        Stack imported = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(ResNet18.ModelAtSize(64), "ResNet18.onnx at 64")), "resnet18");
        using var dir = new TempDir();
        StackWriter.WriteWithWeights(dir.File("resnet18.json"), imported);
        Stack reloaded = StackFile.Load(dir.File("resnet18.json"));
        Assert.Equal(52, reloaded.Layers.Count);
        Assert.Equal(9, reloaded.Layers.Count(l => l is AddLayer));
        // Batchnorms were folded at import: the written convs carry the folded weights and biases.
        Assert.All(reloaded.Layers.OfType<ConvLayer>(), c => Assert.NotNull(c.Bias));
        Tensor x = ResNet18.GeneratedInput(structured: true, size: 64).Reshape(3, 64, 64);
        AssertClose(StackRunner.Run(imported, x).Outputs[^1], StackRunner.Run(reloaded, x).Outputs[^1], "embedding", 1e-4);
    }

    [Fact]
    public void StackFileBatchnormAndLinear_BadFields_AreOneErrorNamingTheField()
    {
        using var dir = new TempDir();
        Core.IO.Npy.Write(dir.File("s.npy"), new Tensor([2], [1f, 2f]));
        Core.IO.Npy.Write(dir.File("w.npy"), new Tensor([4], [1f, 2f, 3f, 4f]));
        string file = dir.File("bad.json");
        File.WriteAllText(file, """{ "input": "rgb", "layers": [ { "type": "batchnorm", "scale": "s.npy", "shift": "s.npy" } ] }""");
        var e = Assert.Throws<ConvGLException>(() => StackFile.Load(file));
        Assert.Contains("layers[0] (batchnorm) field 'scale': 's.npy' has shape (2,); it must be (3,)", e.Message);
        File.WriteAllText(file, """{ "layers": [ { "type": "linear", "weight": "w.npy" } ] }""");
        e = Assert.Throws<ConvGLException>(() => StackFile.Load(file));
        Assert.Contains("layers[0] (linear) field 'weight': 'w.npy' has shape (4,); a linear weight must be (out, in)", e.Message);
        File.WriteAllText(file, """{ "layers": [ { "type": "maxpool", "size": 2, "ceil_mode": 1 } ] }""");
        e = Assert.Throws<ConvGLException>(() => StackFile.Load(file));
        Assert.Contains("layers[0] (maxpool) field 'ceil_mode': must be true or false", e.Message);
    }
}
