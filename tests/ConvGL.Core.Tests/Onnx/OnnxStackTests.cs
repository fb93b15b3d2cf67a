using ConvGL.Core.Onnx;
using ConvGL.Core.Stacks;
using Google.Protobuf;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>ONNX models as stacks: the stack runner (a graph walk over stack layers) gives what the ONNX graph
/// gives, layer by layer.</summary>
public class OnnxStackTests
{
    private static void AssertClose(Tensor want, Tensor got, string what, double tolerance = 1e-5)
    {
        Assert.Equal(want.Length, got.Length);
        double scale = Math.Max(1e-6, want.Data.Max(v => Math.Abs((double)v)));
        double diff = 0;
        for (int i = 0; i < want.Length; i++) diff = Math.Max(diff, Math.Abs((double)want.Data[i] - got.Data[i]));
        Assert.True(diff <= tolerance * scale, $"{what}: max |diff| {diff:G3} of max {scale:G3}");
    }

    [Fact]
    public void ResidualGraphWithHead_AsAStack_MatchesTheOnnxGraph_EveryLayer()
    {
        OnnxGraph graph = SmallGraphs.ResidualWithHead();
        Stack stack = OnnxStack.FromGraph(graph, "small");
        Assert.Equal(StackInput.Rgb, stack.Input);
        Assert.Equal(["conv", "relu", "add", "conv", "relu", "batchnorm", "leaky_relu", "maxpool", "avgpool", "globalavgpool", "flatten", "linear", "sigmoid"],
            stack.Layers.Select(l => l.Type));
        // bn1 folded into conv1 (named after the conv node); the add reads relu1 (layer 1) and the stack input (-1).
        Assert.Equal("conv1", stack.Layers[0].Label);
        Assert.Equal([1, -1], stack.Layers[2].Inputs!);
        Assert.Null(stack.Layers[3].Inputs);

        var rng = new Random(9);
        Tensor x = Tensor.Chw(3, 17, 14, Enumerable.Range(0, 3 * 17 * 14).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray());
        StackResult r = StackRunner.Run(stack, x);
        Dictionary<string, Tensor> onnx = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, 17, 14) });
        for (int i = 0; i < stack.Layers.Count; i++)
        {
            Assert.Equal(r.Plan.Outputs[i].ToArray(), r.Outputs[i].Shape);
            AssertClose(onnx[graph.Ops[i].Output], r.Outputs[i], $"layer {i} ({stack.Layers[i].Type})");
        }
        Assert.Equal([5, 1, 1], r.Outputs[^1].Shape);
    }

    [Fact]
    public void DisablingALayer_PassesItsFirstInputThrough_AndTheAddStillSeesBothMaps()
    {
        Stack stack = OnnxStack.FromGraph(SmallGraphs.ResidualWithHead(), "small");
        var rng = new Random(2);
        Tensor x = Tensor.Chw(3, 9, 9, Enumerable.Range(0, 243).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray());
        bool[] on = Enumerable.Repeat(true, stack.Layers.Count).ToArray();
        on[1] = false; // relu1 off: the add gets conv1's map and x
        StackResult r = StackRunner.Run(stack, x, on);
        Assert.Same(r.Outputs[0], r.Outputs[1]);
        Tensor want = Core.Ops.Elementwise.Add(r.Outputs[0], x);
        Assert.Equal(want.Data, r.Outputs[2].Data);
    }

    [Fact]
    public void ResNet18_AsAStack_MatchesTheGraph()
    {
        byte[] model = ResNet18.ModelAtSize(64);
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(model, "ResNet18.onnx at 64"));
        Stack stack = OnnxStack.FromGraph(graph, "resnet18");
        Assert.Equal(52, stack.Layers.Count);
        Assert.Equal(9, stack.Layers.Count(l => l is AddLayer));
        Assert.Equal("Convolution249", stack.Layers[0].Label);
        Tensor x = ResNet18.GeneratedInput(structured: true, size: 64);
        StackResult r = StackRunner.Run(stack, x.Reshape(3, 64, 64));
        Tensor y = graph.Run(new Dictionary<string, Tensor> { [ResNet18.Input] = x })[ResNet18.Output];
        Assert.Equal([512, 1, 1], r.Outputs[^1].Shape);
        AssertClose(y, r.Outputs[^1], "embedding");
    }

    [Fact]
    public void StackCatalog_LoadsAnOnnxFile_AndAModelThatIsNotAnImageStackIsOneError()
    {
        using var dir = new TempDir();
        string path = dir.File("resnet.onnx");
        File.WriteAllBytes(path, ResNet18.ModelAtSize(64));
        Stack stack = StackCatalog.Load(path);
        Assert.Equal("resnet", stack.Name);
        Assert.Equal(52, stack.Layers.Count);
        File.WriteAllBytes(path, ProtoBuilders.OneNode("Relu").ToByteArray());
        var e = Assert.Throws<ConvGLException>(() => StackCatalog.Load(path));
        Assert.Contains("takes (1, C, H, W) with C = 1 or 3", e.Message);
    }

    /// <summary>A review found an imported model's plan errors naming the layer by the stack's index and type with
    /// ConvGL's (out, in) weight shape ("layers[1] (linear): linear weight (3, 4) takes 4 values"), where the file holds
    /// a Gemm node 'fc' whose B is (4, 3): they name the node, and the linear's sizes in words, not a layout.</summary>
    [Fact]
    public void PlanErrors_OfAnImportedModel_NameTheNode_AndTheLinearsSizesInWords()
    {
        var g = new ConvGL.Core.Onnx.Proto.GraphProto { Name = "head" };
        ProtoBuilders.AddImageInput(g, 1);
        g.Initializer.Add(ProtoBuilders.FloatData("B", new float[12], 4, 3));
        ProtoBuilders.Node(g, "flat", "Flatten", ["x"], "f");
        ProtoBuilders.Node(g, "fc", "Gemm", ["f", "B"], "y");
        g.Output.Add(ProtoBuilders.Value("y"));
        using var dir = new TempDir();
        Stack stack = LoadAsStack(g, dir, "head.onnx", out string path);
        Assert.Equal(new MapShape(3, 1, 1), StackPlan.Create(stack, 2, 2).Output); // 4 values: fits
        var e = Assert.Throws<ConvGLException>(() => StackPlan.Create(stack, 3, 3));
        Assert.Equal($"{path}: node 'fc' (linear): takes 4 values (a linear layer of 4 inputs and 3 outputs), its input (9, 1, 1) has 9: use an input of the size its weight was made for, or a weight of (3, 9)", e.Message);
        // The window counts layers from 1, as its HUD does, and names the node too.
        Assert.False(StackPlan.TryCreate(stack, 3, 3, null, out _, out string? error, layerBase: 1));
        Assert.Equal("stack 'head': layer 2 'fc' (linear): takes 4 values (a linear layer of 4 inputs and 3 outputs), its input (9, 1, 1) has 9: use an input of the size its weight was made for, or a weight of (3, 9)", error);
        // A stack file's layers keep their index (its "inputs" count them).
        var file = new Stack("plain", StackInput.Gray, [new FlattenLayer(), new LinearLayer(new Tensor([3, 4], new float[12]), null, "w", null)]) { SourcePath = "plain.json" };
        e = Assert.Throws<ConvGLException>(() => StackPlan.Create(file, 3, 3));
        Assert.Equal("plain.json: layers[1] (linear) field 'weight': takes 4 values (a linear layer of 4 inputs and 3 outputs), its input (9, 1, 1) has 9: use an input of the size its weight was made for, or a weight of (3, 9)", e.Message);
        // A flatten's "values" is the field that refuses the size.
        var flat = new Stack("flat", StackInput.Gray, [new FlattenLayer { Values = 4 }]) { SourcePath = "flat.json" };
        e = Assert.Throws<ConvGLException>(() => StackPlan.Create(flat, 3, 3));
        Assert.StartsWith("flat.json: layers[0] (flatten) field 'values': flattens to 4 values", e.Message);
    }

    /// <summary><paramref name="g"/> as an opset-13 model file <paramref name="name"/> in <paramref name="dir"/>, imported
    /// as a stack.</summary>
    private static Stack LoadAsStack(ConvGL.Core.Onnx.Proto.GraphProto g, TempDir dir, string name, out string path)
    {
        var m = new ConvGL.Core.Onnx.Proto.ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new ConvGL.Core.Onnx.Proto.OperatorSetIdProto { Version = 13 } } };
        path = dir.File(name);
        File.WriteAllBytes(path, m.ToByteArray());
        return StackCatalog.Load(path);
    }

    /// <summary>A review: a Reshape to (-1, K) or (1, K) imported as a flatten without K checked, so (-1, 256) of a
    /// (1, 3, 16, 16) map (three rows of 256 in ONNX) ran as one 768-value flatten and the Softmax after it took all 768
    /// (it sums to 1 where ONNX's three sum to 3). K is now the flatten's "values", checked when the stack is planned: (1,
    /// 768), (-1, 768) and (1, -1) flatten that map, (-1, 256) and (1, 1000) are one error naming the node; the field
    /// survives a save and load.</summary>
    [Theory]
    [InlineData(1L, 768L, null)]
    [InlineData(-1L, 768L, null)]
    [InlineData(1L, -1L, null)]
    [InlineData(-1L, 256L, "flattens to 256 values")]
    [InlineData(1L, 1000L, "flattens to 1000 values")]
    public void AReshapeToKValues_FlattensOnlyAMapOfKValues(long batch, long k, string? error)
    {
        var g = new ConvGL.Core.Onnx.Proto.GraphProto { Name = "rows" };
        ProtoBuilders.AddImageInput(g, 3);
        g.Initializer.Add(ProtoBuilders.Int64Data("target", batch, k));
        ProtoBuilders.Node(g, "rs", "Reshape", ["x", "target"], "f");
        ProtoBuilders.Node(g, "sm", "Softmax", ["f"], "y");
        g.Output.Add(ProtoBuilders.Value("y"));
        using var dir = new TempDir();
        Stack stack = LoadAsStack(g, dir, "rows.onnx", out string path);
        var flatten = Assert.IsType<FlattenLayer>(stack.Layers[0]);
        Assert.Equal(k == -1 ? null : k, flatten.Values);
        Stack reloaded = StackFile.Parse(StackWriter.ToJson(stack), dir.File("rows.json"));
        Assert.Equal(flatten.Values, Assert.IsType<FlattenLayer>(reloaded.Layers[0]).Values);
        if (error is null)
        {
            Assert.Equal(new MapShape(768, 1, 1), StackPlan.Create(stack, 16, 16).Output);
            return;
        }
        var e = Assert.Throws<ConvGLException>(() => StackPlan.Create(stack, 16, 16));
        Assert.Equal($"{path}: node 'rs' (flatten): {error} (\"values\": its model's Reshape to (1, {k})), but its input (3, 16, 16) holds 768: " +
                     "give the model an input of the size it was exported for", e.Message);
    }
}
