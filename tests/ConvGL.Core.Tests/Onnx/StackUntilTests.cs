using ConvGL.Core.Onnx.Proto;
using Google.Protobuf;
using ConvGL.Core.Stacks;
using static ConvGL.Core.Tests.Onnx.BranchyOpsTests;

namespace ConvGL.Core.Tests.Onnx;

/// <summary><c>MODEL.onnx#NAME,...</c>: a model's stack up to the named nodes or values, for a model whose head no stack
/// layer holds (YOLOv5's Detect), checked against ONNX Runtime; the refused head's error says which names to give; unknown
/// names and '#' after a stack file are one error each.</summary>
public class StackUntilTests
{
    [Fact]
    public void ADetectionHead_IsRefused_WithTheNamesThatShowTheLayersBeforeIt_AndThoseNamesImport()
    {
        byte[] bytes = ArchitectureGraphs.YoloDetect(13, 8, 10);
        using var dir = new TempDir();
        string path = dir.File("detect.onnx");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ConvGLException>(() => StackCatalog.Load(path));
        Assert.EndsWith($"; to see the layers before it, use --stack '{path}#/model.24/m.0/Conv'", e.Message);

        Stack stack = StackCatalog.Load(path + "#/model.24/m.0/Conv");
        Assert.Equal(["conv", "silu", "conv"], stack.Layers.Select(l => l.Type));
        Assert.Equal("/model.24/m.0/Conv", stack.Layers[^1].Label);
        Assert.Equal("detect up to /model.24/m.0/Conv", stack.Name);
        Tensor x = Random(3, 16, 20, 5); // the stem halves it to the head's 8 x 10
        string conv = ModelProto.Parser.ParseFrom(bytes).Graph.Node.Single(n => n.Name == "/model.24/m.0/Conv").Output[0];
        AssertClose(RunOnnxRuntime(bytes, x.Reshape(1, 3, 16, 20), [conv])[conv], StackRunner.Run(stack, x).Outputs[^1].Data, "the head's conv", 1e-4);
        // By value name as well, and several names.
        Assert.Equal(3, StackCatalog.Load($"{path}#{conv}").Layers.Count);
        Assert.Equal(3, StackCatalog.Load($"{path}#/model.0/act/Mul, {conv}").Layers.Count);
        Assert.Equal(["conv", "silu"], StackCatalog.Load(path + "#/model.0/act/Mul").Layers.Select(l => l.Type));
        // A fused layer's own name (Sigmoid and Mul are one silu layer, named as the window shows it).
        Stack silu = StackCatalog.Load(path + "#/model.0/act/Silu");
        Assert.Equal(["conv", "silu"], silu.Layers.Select(l => l.Type));
        Assert.Equal("/model.0/act/Silu", silu.Layers[^1].Label);
    }

    [Fact]
    public void UnknownNames_AndHashAfterAStackFile_AreOneError()
    {
        using var dir = new TempDir();
        string path = dir.File("detect.onnx");
        File.WriteAllBytes(path, ArchitectureGraphs.YoloDetect(13, 8, 10));
        var e = Assert.Throws<ConvGLException>(() => StackCatalog.Load(path + "#/model.24/m.0/Cnv"));
        Assert.Equal($"{path}: '#/model.24/m.0/Cnv' names no node and no value of the model (did you mean '/model.24/m.0/Conv'? after '#' give a node's name or an output's name, as Netron shows them, or a layer's name as the window shows it; several separated by ',')", e.Message);
        e = Assert.Throws<ConvGLException>(() => StackCatalog.Load(path + "#"));
        Assert.Contains("give node or value names after '#'", e.Message);
        e = Assert.Throws<ConvGLException>(() => StackCatalog.Load("edges#conv"));
        Assert.Equal("stack 'edges#conv': '#' picks the nodes an ONNX model's stack ends at; 'edges' is no ONNX model", e.Message);
    }

    /// <summary>The review's cases: '#' naming a size (a Shape's output) or the model's input is one error saying so; a
    /// node whose name has a ',' is suggested by its value's name (which loads); a node name with a '#' in it loads (the
    /// '#' that counts is the one after ".onnx").</summary>
    [Fact]
    public void SizesInputsAndNamesWithCommasOrHashes()
    {
        var g = new GraphProto { Name = "g" };
        ProtoBuilders.AddImageInput(g, 3);
        var rng = new Random(3);
        g.Initializer.Add(ProtoBuilders.FloatData("w", ProtoBuilders.R(rng, 2 * 3 * 9), 2, 3, 3, 3));
        ProtoBuilders.Node(g, "conv,1", "Conv", ["x", "w"], "c", ProtoBuilders.Ints("pads", 1, 1, 1, 1));
        ProtoBuilders.Node(g, "relu#2", "Relu", ["c"], "r");
        ProtoBuilders.Node(g, "shape", "Shape", ["r"], "s");
        ProtoBuilders.Node(g, "turn", "Transpose", ["r"], "y", ProtoBuilders.Ints("perm", 0, 1, 3, 2));
        g.Output.Add(ProtoBuilders.Value("y"));
        g.Output.Add(ProtoBuilders.Value("s"));
        using var dir = new TempDir();
        string path = dir.File("m.onnx");
        File.WriteAllBytes(path, new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray());
        var e = Assert.Throws<ConvGLException>(() => StackCatalog.Load(path + "#shape"));
        Assert.Equal($"{path}: '#shape' names 's', a size computed from shapes, not a map; name a node that makes a map", e.Message);
        e = Assert.Throws<ConvGLException>(() => StackCatalog.Load(path + "#x"));
        Assert.Equal($"{path}: '#x' is the model's input; name a node after it", e.Message);
        // The refused Transpose reads relu#2's map: its value's name 'r' is what the hint gives.
        e = Assert.Throws<ConvGLException>(() => StackCatalog.Load(path));
        Assert.EndsWith($"; to see the layers before it, use --stack '{path}#r'", e.Message);
        Assert.Equal(["conv", "relu"], StackCatalog.Load(path + "#r").Layers.Select(l => l.Type));
        Assert.Equal(["conv", "relu"], StackCatalog.Load(path + "#relu#2").Layers.Select(l => l.Type));
        Assert.Equal(["conv"], StackCatalog.Load(path + "#c").Layers.Select(l => l.Type));
        // A node whose name holds ',' cannot be named after '#' (a review: "'#conv' names no node ... did you mean"):
        // its output can, and the error says so.
        e = Assert.Throws<ConvGLException>(() => StackCatalog.Load(path + "#conv,1"));
        Assert.Equal($"{path}: '#conv' names no node; node 'conv,1' has a ',' in its name, where '#' splits names: name its output 'c' instead", e.Message);
    }

    /// <summary>The second review's cases: a refused node after a conv with a constant folded in (Mul by k) is pointed at the
    /// folded value ('b'), whose stack matches ONNX Runtime ('#conv' would stop before the Mul); a '#' in a folder's name is
    /// part of the path (a missing file there is named whole); a folder called x.onnx#y holds a model that loads with '#'.</summary>
    [Fact]
    public void FoldedLayers_AndHashesInFolderNames()
    {
        var g = new GraphProto { Name = "g" };
        ProtoBuilders.AddImageInput(g, 3);
        var rng = new Random(4);
        g.Initializer.Add(ProtoBuilders.FloatData("w", ProtoBuilders.R(rng, 2 * 3 * 9), 2, 3, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("k", [3f, -2f], 1, 2, 1, 1));
        ProtoBuilders.Node(g, "conv", "Conv", ["x", "w"], "c", ProtoBuilders.Ints("pads", 1, 1, 1, 1));
        ProtoBuilders.Node(g, "scale", "Mul", ["c", "k"], "b");
        ProtoBuilders.Node(g, "turn", "Transpose", ["b"], "y", ProtoBuilders.Ints("perm", 0, 1, 3, 2));
        g.Output.Add(ProtoBuilders.Value("y"));
        byte[] bytes = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("x.onnx#y"));
        string path = Path.Combine(dir.File("x.onnx#y"), "cb.onnx");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ConvGLException>(() => StackCatalog.Load(path));
        Assert.EndsWith($"; to see the layers before it, use --stack '{path}#b'", e.Message);
        Stack stack = StackCatalog.Load(path + "#b");
        Assert.Equal(["conv"], stack.Layers.Select(l => l.Type));
        Tensor x = Random(3, 5, 6, 1);
        AssertClose(RunOnnxRuntime(bytes, x.Reshape(1, 3, 5, 6), ["b"])["b"], StackRunner.Run(stack, x).Outputs[^1].Data, "the folded conv", 1e-5);
        Directory.CreateDirectory(dir.File("d#1"));
        e = Assert.Throws<ConvGLException>(() => StackCatalog.Load(Path.Combine(dir.File("d#1"), "nope.json")));
        Assert.Contains("d#1/nope.json': no such file", e.Message);
    }
}
