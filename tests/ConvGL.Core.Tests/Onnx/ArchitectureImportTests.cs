using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Stacks;
using Google.Protobuf;
using static ConvGL.Core.Tests.Onnx.BranchyOpsTests;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>Real architectures' blocks as torch.onnx.export writes them (<see cref="ArchitectureGraphs"/>; opsets 10-17,
/// written node for node by a coverage probe, 2026-12-06): each imports as a stack whose output, and every layer's map
/// that a node of the model names, equals ONNX Runtime's (a layer with a per-channel constant folded in may equal the
/// constant's node's value); the forms a stack cannot hold are one error naming a node of the model.</summary>
public class ArchitectureImportTests
{
    /// <summary>Imports, runs the stack and compares with ONNX Runtime: the output, and each layer whose label is a node's
    /// name against that node's value or, where constants were folded into it, the value a chain of Add / Sub / Mul / Div
    /// nodes after it reaches (the map the layer now gives).</summary>
    private static void AssertImportsAndMatches(string arch, byte[] bytes, int h, int w)
    {
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, arch + ".onnx"));
        Stack stack = OnnxStack.FromGraph(graph, arch);
        Tensor x = Random(3, h, w, 1);
        ModelProto model = ModelProto.Parser.ParseFrom(bytes);
        string[] outs = model.Graph.Output.Select(o => o.Name).ToArray();
        var nodes = model.Graph.Node.ToList();
        var byName = nodes.Where(n => n.Name.Length > 0).GroupBy(n => n.Name).ToDictionary(g => g.Key, g => g.First());
        List<string> Chain(NodeProto n)
        {
            var values = new List<string> { n.Output[0] };
            for (int step = 0; step < 3; step++)
            {
                var readers = nodes.Where(r => r.Input.Contains(values[^1])).ToList();
                if (readers is not [{ OpType: "Add" or "Sub" or "Mul" or "Div" } next]) break;
                values.Add(next.Output[0]);
            }
            return values;
        }
        var chains = stack.Layers.Select(l => l.Label is { } label && byName.TryGetValue(label, out NodeProto? n) ? Chain(n) : null).ToArray();
        string[] want = chains.OfType<List<string>>().SelectMany(c => c).Concat(outs).Distinct().ToArray();
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, h, w), want);
        StackResult r = StackRunner.Run(stack, x);
        static bool Close(float[] a, float[] b)
        {
            if (a.Length != b.Length) return false;
            double scale = Math.Max(1e-6, a.Max(v => Math.Abs((double)v))), d = 0;
            for (int i = 0; i < a.Length; i++) d = Math.Max(d, Math.Abs((double)a[i] - b[i]));
            return d <= 1e-4 * scale;
        }
        // A value the model holds channels last (a transformer block's tokens (1, H*W, C), a ConvNeXt stretch's (1, H, W, C))
        // is the stack's (C, H, W) map with its axes swapped: compared as such too.
        static float[] ChannelsFirst(float[] a, int channels)
        {
            int n = a.Length / channels;
            var t = new float[a.Length];
            for (int p = 0; p < n; p++)
                for (int c = 0; c < channels; c++) t[c * n + p] = a[p * channels + c];
            return t;
        }
        for (int i = 0; i < stack.Layers.Count; i++)
            if (chains[i] is { } chain)
                Assert.True(chain.Any(v => Close(ort[v], r.Outputs[i].Data) || ort[v].Length == r.Outputs[i].Length && Close(ChannelsFirst(ort[v], r.Outputs[i].C), r.Outputs[i].Data)),
                    $"{arch}: layer {i} ({stack.Layers[i].Type} '{stack.Layers[i].Label}') equals none of {string.Join(", ", chain)}");
        AssertClose(ort[outs[0]], r.Outputs[^1].Data, $"{arch}: the output", 1e-4);
    }


    public static IEnumerable<object[]> Refused() =>
        [["yolo_detect", 13L]];



    [Theory]
    [MemberData(nameof(ArchitectureGraphs.Importing), MemberType = typeof(ArchitectureGraphs))]
    public void Architecture_ImportsAsAStack_AndMatchesOnnxRuntime(string arch, long opset)
    {
        (int h, int w) = ArchitectureGraphs.SizeFor(arch);
        AssertImportsAndMatches($"{arch}_op{opset}", ArchitectureGraphs.Build(arch, opset), h, w);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void Architecture_AFormAStackCannotHold_IsOneErrorNamingANode(string arch, long opset)
    {
        byte[] bytes = ArchitectureGraphs.Build(arch, opset);
        var e = Assert.ThrowsAny<ConvGLException>(() => OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, arch + ".onnx")), arch));
        Assert.Matches(@"^" + System.Text.RegularExpressions.Regex.Escape(arch) + @"\.onnx: (node '[^']+' \(\w+|graph value)", e.Message);
        Assert.DoesNotContain("NaN", e.Message);
    }

    /// <summary>A Dropout's mask (training-mode exports give it) is left out when nothing reads it (above); read, or a
    /// graph output, it is one error naming the node and the output; a stored training_mode of true is one error too.</summary>
    [Fact]
    public void ADropoutMaskThatIsRead_OrTrainingModeTrue_IsOneError()
    {
        foreach (bool maskOut in new[] { true, false })
        {
            var g = new GraphProto { Name = "g" };
            ProtoBuilders.AddImageInput(g, 3);
            var flag = new TensorProto { Name = "train", DataType = 9 };
            flag.Int32Data.Add(maskOut ? 0 : 1);
            g.Initializer.Add(flag);
            ProtoBuilders.Node(g, "drop", "Dropout", ["x", "", "train"], ["y", "mask"]);
            g.Output.Add(ProtoBuilders.Value("y"));
            if (maskOut) g.Output.Add(ProtoBuilders.Value("mask"));
            var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
            var e = Assert.Throws<ConvGLException>(() => OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), "drop.onnx")));
            Assert.Equal(maskOut ? "drop.onnx: node 'drop' (Dropout): output 'mask' is read by another node or is a graph output; ConvGL computes only the first output"
                : "drop.onnx: node 'drop' (Dropout): input 'training_mode' ('train') is not supported unless it is a stored false (ConvGL runs inference: Dropout passes its input through)", e.Message);
        }
    }
}
