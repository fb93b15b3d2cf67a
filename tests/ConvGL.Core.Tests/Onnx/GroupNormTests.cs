using ConvGL.Core.Onnx;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using static ConvGL.Core.Tests.Onnx.BranchyOpsTests;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>The `groupnorm` layer (<see cref="InstanceNorm.ApplyInGroups"/>): a worked example by hand, the two ends
/// (groups = C is instance normalisation, 1 group normalises the whole map), errors, the stack file, and PyTorch's
/// GroupNorm export importing as one groupnorm layer with its weight and bias folded in (the diffusion mid-block of
/// <see cref="ArchitectureGraphs"/> matches ONNX Runtime in ArchitectureImportTests).</summary>
public class GroupNormTests
{
    [Fact]
    public void WorkedExample_TwoGroupsOfTwoChannels()
    {
        // 4 channels of 1x2. Group 0 = channels 0, 1: values 1 3 | 5 7, mean 4, variance (9 + 1 + 1 + 9) / 4 = 5.
        // Group 1 = channels 2, 3: values 0 0 | 0 4: mean 1, variance (1 + 1 + 1 + 9) / 4 = 3.
        Tensor x = Tensor.Chw(4, 1, 2, [1f, 3f, 5f, 7f, 0f, 0f, 0f, 4f]);
        var norm = new InstanceNorm([1f, 2f, 1f, 1f], [0f, 10f, -1f, 3f], 0f);
        Tensor y = norm.ApplyInGroups(x, 2);
        float s = 1 / MathF.Sqrt(5), t = 1 / MathF.Sqrt(3);
        float[] want = [-3 * s, -1 * s, 2 * (1 * s) + 10, 2 * (3 * s) + 10, -t - 1, -t - 1, -t + 3, 3 * t + 3];
        // (A constant group with epsilon 0 is 0 / 0, NaN, as instance normalisation's plane.)
        Assert.True(float.IsNaN(norm.ApplyInGroups(Tensor.Chw(4, 1, 2, [1f, 3f, 5f, 7f, 2f, 2f, 2f, 2f]), 2).Data[4]));
        for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], y.Data[i], 5);
    }

    [Fact]
    public void GroupsEqualToChannels_IsInstanceNorm_OneGroup_NormalisesTheWholeMap()
    {
        Tensor x = Random(6, 5, 7, 3);
        var norm = new InstanceNorm([1f, 2f, 0.5f, -1f, 3f, 1f], [0f, 1f, -1f, 2f, 0f, 0.5f], 1e-5f);
        Assert.Equal(norm.Apply(x).Data, norm.ApplyInGroups(x, 6).Data);
        // One group: every value against the map's own mean and variance.
        (double mean, double var) = LayerNorm.MeanAndVariance(x.Data);
        Tensor one = norm.ApplyInGroups(x, 1);
        for (int c = 0; c < 6; c++)
            for (int i = 0; i < 35; i++)
                Assert.Equal((float)(norm.Scale[c] * (x.Data[c * 35 + i] - mean) / Math.Sqrt(var + 1e-5) + norm.Shift[c]), one.Data[c * 35 + i], 5);
        // Three groups of two: each pair of planes has mean 0 and variance 1 before the affine (scale 1, shift 0).
        var plain = new InstanceNorm(Enumerable.Repeat(1f, 6).ToArray(), new float[6], 0f);
        Tensor three = plain.ApplyInGroups(x, 3);
        for (int g = 0; g < 3; g++)
        {
            (double m, double v) = LayerNorm.MeanAndVariance(three.Data.AsSpan(g * 70, 70));
            Assert.Equal(0, m, 5);
            Assert.Equal(1, v, 4);
        }
    }

    [Fact]
    public void StackFile_ReadsWritesAndRefuses()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("g.json"), """
            {"input": "rgb", "layers": [
              {"type": "conv", "kernels": ["sobel-x", "sobel-y", "laplacian", "box:3"], "sum": true},
              {"type": "groupnorm", "name": "gn", "groups": 2, "scale": "s.npy", "shift": "t.npy", "epsilon": 0.001}
            ]}
            """);
        ConvGL.Core.IO.Npy.Write(dir.File("s.npy"), new Tensor([4], [1f, 2f, 0.5f, -1f]));
        ConvGL.Core.IO.Npy.Write(dir.File("t.npy"), new Tensor([4], [0f, 1f, 2f, 3f]));
        Stack stack = StackFile.Load(dir.File("g.json"));
        var gn = Assert.IsType<GroupNormLayer>(stack.Layers[1]);
        Assert.Equal((2, 0.001f), (gn.Groups, gn.Parameters.Epsilon));
        Tensor image = Random(3, 6, 8, 7);
        StackResult r = StackRunner.Run(stack, image);
        Assert.Equal(gn.Parameters.ApplyInGroups(r.Outputs[0], 2).Data, r.Outputs[1].Data);
        StackWriter.WriteWithWeights(dir.File("back.json"), stack);
        string back = File.ReadAllText(dir.File("back.json"));
        Assert.Contains("\"groups\": 2", back);
        StackResult again = StackRunner.Run(StackFile.Load(dir.File("back.json")), image);
        Assert.Equal(r.Outputs[1].Data, again.Outputs[1].Data);

        var e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""{"input": "rgb", "layers": [{"type": "groupnorm", "groups": 2, "scale": "a", "shift": "b"}]}""", "s.json"));
        Assert.Equal("s.json: layers[0] (groupnorm) field 'groups': 2 groups do not divide the 3 channels of the stack input; each group takes an equal share", e.Message);
        e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""{"input": "rgb", "layers": [{"type": "groupnorm", "scale": "a", "shift": "b"}]}""", "s.json"));
        Assert.Contains("field 'groups': is missing", e.Message);
        e = Assert.Throws<ConvGLException>(() => new InstanceNorm([1f, 1f, 1f], [0f, 0f, 0f], 0f).ApplyInGroups(Tensor.Chw(3, 2, 2), 2));
        Assert.StartsWith("groupnorm: 2 groups do not divide the 3 channels", e.Message);
    }

    /// <summary>torch's GroupNorm export (Reshape [0, groups, -1], InstanceNormalization of ones and zeros, Reshape to
    /// Shape(x) or a stored shape, Mul weight, Add bias): one groupnorm layer of the model's groups, its weight and bias
    /// folded in (no affine layers left), named after the InstanceNormalization's module.</summary>
    [Theory]
    [InlineData("ldm_mid", 11)]
    [InlineData("ldm_mid", 17)]
    [InlineData("ldm_mid_fixed", 13)]
    public void TorchExport_ImportsAsGroupNormLayers_WithWeightAndBiasFolded(string arch, long opset)
    {
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(ArchitectureGraphs.Build(arch, opset), arch + ".onnx")), arch);
        GroupNormLayer[] norms = stack.Layers.OfType<GroupNormLayer>().ToArray();
        Assert.Equal(["/mid/block_1/norm1/GroupNorm", "/mid/block_1/norm2/GroupNorm", "/mid/attn_1/norm/GroupNorm"], norms.Select(n => n.Label));
        Assert.All(norms, n => Assert.Equal((4, 16, 1e-6f), (n.Groups, n.Parameters.Channels, n.Parameters.Epsilon)));
        Assert.All(norms, n => Assert.Contains(n.Parameters.Scale, v => v != 1f));
        Assert.DoesNotContain(stack.Layers, l => l is BatchNormLayer or InstanceNormLayer);
        Assert.Single(stack.Layers.OfType<AttentionLayer>());
    }

    /// <summary>ONNX's own GroupNormalization (opset 18: scale and bias per group; opset 21: per channel) as a groupnorm
    /// layer: the stack's output and the graph run equal ONNX Runtime's, 2 and 4 groups of 8 channels.</summary>
    [Theory]
    [InlineData(18L, 2)]
    [InlineData(18L, 4)]
    [InlineData(21L, 2)]
    [InlineData(21L, 8)]
    public void GroupNormalizationOp_MatchesOnnxRuntime(long opset, int groups)
    {
        var t = new TorchGraph(9, opset);
        string x = t.Conv("/conv/Conv", "x", 3, 8, 3);
        int n = opset < 21 ? groups : 8;
        string y = t.Node("/gn/GroupNormalization", "GroupNormalization", [x, t.Rand("gn.scale", 1.5f, n), t.Rand("gn.bias", 0.5f, n)],
            ProtoBuilders.Int("num_groups", groups), new ConvGL.Core.Onnx.Proto.AttributeProto { Name = "epsilon", Type = 1, F = 1e-3f });
        byte[] bytes = t.Bytes(t.Relu("/act", y));
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "gn.onnx")), "gn");
        var gn = Assert.Single(stack.Layers.OfType<GroupNormLayer>());
        Assert.Equal(groups, gn.Groups);
        Tensor image = Random(3, 9, 13, 4);
        var model = ConvGL.Core.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes);
        string o = model.Graph.Output[0].Name;
        float[] ort = RunOnnxRuntime(bytes, image.Reshape(1, 3, 9, 13), [o])[o];
        AssertClose(ort, StackRunner.Run(stack, image).Outputs[^1].Data, $"opset {opset}, {groups} groups", 1e-4);
        var graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "gn.onnx"));
        AssertClose(ort, graph.Run(new Dictionary<string, Tensor> { [model.Graph.Input[0].Name] = image.Reshape(1, 3, 9, 13) })[o].Data, "graph run", 1e-4);
    }

    /// <summary>A Reshape back to another shape than the map's (a stored [1, C, W, H] in a fixed-size export) is one error
    /// naming the node.</summary>
    [Fact]
    public void StoredBackTarget_OfAnotherShape_IsOneErrorNamingTheNode()
    {
        var t = new TorchGraph(5, 13);
        t.FixInput(6, 10);
        string x = t.Conv("/conv/Conv", "x", 3, 8, 3);
        string r = t.Node("/gn/Reshape", "Reshape", [x, t.ConstI("/gn/Constant", [0, 2, -1])]);
        string n = t.Node("/gn/InstanceNormalization", "InstanceNormalization", [r, t.Init("ones", [1f, 1f], 2), t.Init("zeros", [0f, 0f], 2)]);
        string y = t.Node("/gn/Reshape_1", "Reshape", [n, t.ConstI("/gn/Constant_1", [1, 8, 10, 6])]);
        var e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(t.Bytes(y), "gn.onnx")), "gn"));
        Assert.StartsWith("gn.onnx: node '/gn/InstanceNormalization' (group normalisation as ", e.Message);
        Assert.Contains("makes (1, 8, 10, 6) of a (1, 8, 6, 10) map", e.Message);
    }
}
