using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Stacks;
using Google.Protobuf;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>The fifth audit's sizes that passed every cap: 400 MB of tiny ONNX nodes (27 bytes of memory a byte of file
/// before anything was read: out of memory), a stack of 100,000 relus (the window for minutes), a 300-byte model whose
/// values together took 9.2 GB, and convert writing a stack file its loader refused.</summary>
public class GraphLimitTests
{
    /// <summary>A chain of <paramref name="n"/> Relu nodes, x -> v1 -> ... -> y.</summary>
    private static byte[] ReluChain(int n)
    {
        var g = new GraphProto { Name = "chain", Input = { ProtoBuilders.Value("x", 1, 1, 2, 2) }, Output = { ProtoBuilders.Value("y") } };
        for (int i = 0; i < n; i++) ProtoBuilders.Node(g, "", "Relu", [i == 0 ? "x" : $"v{i}"], i == n - 1 ? "y" : $"v{i + 1}");
        return new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
    }

    [Fact]
    public void OnnxNodes_OverTheLayerCap_AreCountedFromTheBytes_BeforeParsing()
    {
        OnnxGraph ok = OnnxGraph.Build(OnnxReader.Parse(ReluChain(Limits.Layers), "ok.onnx"));
        Assert.Equal(Limits.Layers, ok.Ops.Count);
        Assert.Equal([0f, 2f, 0f, 4f], ok.Run(new Dictionary<string, Tensor> { ["x"] = new([1, 1, 2, 2], [-1f, 2, -3, 4]) })["y"].Data);

        var e = Assert.Throws<ConvGLException>(() => OnnxReader.Parse(ReluChain(Limits.Layers + 1), "many.onnx"));
        Assert.Equal("many.onnx: the graph has 10001 nodes, over the limit of 10000 ConvGL runs (ResNet18 has 69)", e.Message);
    }

    [Fact]
    public void OnnxEntries_OverTheirCap_AreRefused_ANodeOfAMillionInputs()
    {
        var g = new GraphProto { Name = "wide", Input = { ProtoBuilders.Value("x", 1) }, Output = { ProtoBuilders.Value("y") } };
        var node = new NodeProto { OpType = "Sum", Output = { "y" } };
        for (int i = 0; i < Limits.GraphEntries; i++) node.Input.Add("x");
        g.Node.Add(node);
        byte[] bytes = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
        var e = Assert.Throws<ConvGLException>(() => OnnxReader.Parse(bytes, "wide.onnx"));
        Assert.Equal($"wide.onnx: the graph has {Limits.GraphEntries + 3} node inputs, outputs, attributes and tensor records, over the limit of {Limits.GraphEntries}",
                     e.Message);
    }

    [Fact]
    public void NotWellFormedBytes_AreLeftToTheParser()
    {
        // The counter stops at bytes that are not protobuf; the parser's own error names the file.
        var e = Assert.Throws<ConvGLException>(() => OnnxReader.Parse([0x3a, 0xff, 0xff, 0xff, 0xff, 0x07], "lie.onnx"));
        Assert.StartsWith("lie.onnx: not a readable ONNX model", e.Message);
    }

    [Fact]
    public void HeldValues_OverThePlanCap_NameTheNode()
    {
        OnnxGraph g = OnnxGraph.Build(OnnxReader.Parse(ReluChain(2), "two.onnx"));
        OnnxGraph.CheckHeld(g.Ops[1], Limits.StackPlanValues);
        var e = Assert.Throws<ConvGLException>(() => OnnxGraph.CheckHeld(g.Ops[1], Limits.StackPlanValues + 1));
        Assert.StartsWith(g.Ops[1].Where + ": the values computed up to this node hold 1073741825 values together, over the limit of 1073741824", e.Message);
    }

    /// <summary>A review: each folded constant was capped at 2^29 values but not their total (eight 16000x16000
    /// ConstantOfShapes of a 582-byte model passed 6 GB), and a run checked its cap after each value was allocated. A
    /// run and the load's folding now tell each op the room left (Tensor.AllocationRoom), and an op that computes its output's size
    /// refuses before allocating past it: checked here on a ConstantOfShape with a small room (the real one is 2^30 values,
    /// gigabytes to reach).</summary>
    [Fact]
    public void AnOpThatKnowsItsSize_RefusesBeforeAllocatingPastTheRoomLeft()
    {
        ModelProto m = ProtoBuilders.OneNode("ConstantOfShape");
        m.Graph.Input[0] = new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TensorTypeProto { ElemType = 7 } } };
        OnnxOp op = OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "c.onnx")).Ops[0];
        var shape = new Tensor([4], [1f, 1f, 4f, 4f]);
        try
        {
            Tensor.AllocationRoom = 16;
            Assert.Equal(16, op.Run([shape]).Length);
            Tensor.AllocationRoom = 15;
            var e = Assert.Throws<ConvGLException>(() => op.Run([shape]));
            Assert.Equal($"c.onnx: node 'n0' (ConstantOfShape): its output (1, 1, 4, 4) would bring the values held together past {Limits.StackPlanValues}, " +
                         "the limit for a run's values and for a model's constants computed at load; run the model on a smaller input, or export it with smaller constants", e.Message);
            Tensor.AllocationRoom = null;
            Assert.Equal(16, op.Run([shape]).Length);
        }
        finally
        {
            Tensor.AllocationRoom = null;
        }
    }

    [Fact]
    public void StackFile_OverTheLayerCap_IsOneError()
    {
        using var dir = new TempDir();
        string relus = string.Join(", ", Enumerable.Repeat("""{ "type": "relu" }""", Limits.Layers + 1));
        File.WriteAllText(dir.File("many.json"), $$"""{ "name": "many", "input": "gray", "layers": [ {{relus}} ] }""");
        var e = Assert.Throws<ConvGLException>(() => StackFile.Load(dir.File("many.json")));
        Assert.EndsWith("many.json: field 'layers': has 10001 layers, over the limit of 10000; split the stack", e.Message);
    }

    [Fact]
    public void StackWriter_AFileTheLoaderWouldRefuse_IsNotWritten()
    {
        using var dir = new TempDir();
        // 1000 learned 1x1 layers whose weights have 5000-character names (tensor names are not truncated): 5 MB of JSON.
        var layers = Enumerable.Range(0, 1000).Select(i => (StackLayer)ConvLayer.Learned(new Tensor([1, 1, 1, 1], [0.5f]), null, new ConvOptions(),
            $"w{i}".PadRight(5000, 'x'))).ToList();
        var e = Assert.Throws<ConvGLException>(() => StackWriter.Write(dir.File("big.json"), new Stack("big", StackInput.Gray, layers, "big.safetensors")));
        Assert.Contains("big.json: the stack file would be ", e.Message);
        Assert.EndsWith("(1000 layers), over the 4 MiB a stack file may have; nothing was written", e.Message);
        Assert.Empty(dir.Names());
    }
}
