using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using Google.Protobuf;
using static ConvGL.Core.Tests.Onnx.BranchyOpsTests;
using static ConvGL.Core.Tests.Onnx.IndexOpsTests;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>Slices of rows and columns (Python's x[:, c0:c1, r0:r1:rs, q0:q1:qs]) as a stack layer: the range's
/// normalisation against ONNX's clamping on every size, a worked example by hand, the stack file's fields and errors, the
/// writer's round trip, and ONNX Slices on H and W (YOLOv5's Focus, a crop, a flip) imported and checked against ONNX
/// Runtime.</summary>
public class SpatialSliceTests
{
    /// <summary>A range stored normalised takes exactly the elements ONNX's (start, end, step) takes, on every axis
    /// length up to the image side: random bounds, the INT64 sentinels exporters write, and bounds around the side.</summary>
    [Fact]
    public void SliceRange_TakesWhatOnnxTakes_OnEveryLength()
    {
        var rng = new Random(77);
        long S = Limits.ImageSide;
        long[] special = [long.MinValue, long.MaxValue, -S - 2, -S - 1, -S, -S + 1, S - 2, S - 1, S, S + 1, S + 2, 0, -1, 1, int.MaxValue, int.MinValue];
        long Bound() => rng.Next(3) == 0 ? special[rng.Next(special.Length)] : rng.Next(-45, 46);
        int[] lengths = [.. Enumerable.Range(1, 40), (int)S - 1, (int)S];
        for (int k = 0; k < 4000; k++)
        {
            long start = Bound(), end = Bound();
            long step = rng.Next(6) switch { 0 => -1, 1 => 1, 2 => rng.Next(2, 5), 3 => -rng.Next(2, 5), 4 => special[rng.Next(special.Length)] is var s && s != 0 ? s : 3, _ => rng.Next(-50, 50) is var t && t != 0 ? t : 1 };
            SliceRange r = SliceRange.Of(start, end, step);
            foreach (int n in lengths)
            {
                Indexing.SliceAxis want = Indexing.ClampSlice(start, end, step, n), got = r.Resolve(n);
                Assert.True(want.Count == got.Count && (want.Count == 0 || (want.Start, want.Step) == (got.Start, got.Step) || want.Count == 1 && want.Start == got.Start),
                    $"[{start}:{end}:{step}] stored as [{r}] on {n}: want start {want.Start} step {want.Step} count {want.Count}, got {got.Start} {got.Step} {got.Count}");
            }
        }
        // The sentinels are open ends; Python's spelling.
        Assert.Equal("1::2", SliceRange.Of(1, long.MaxValue, 2).ToString());
        Assert.Equal("::-1", SliceRange.Of(-1, long.MinValue, -1).ToString());
        Assert.Equal(":-1", SliceRange.Of(0, -1, 1).ToString());
        Assert.True(SliceRange.Of(0, long.MaxValue, 1).IsWhole);
    }

    /// <summary>x = iota (2, 4, 5): x[c, r, q] = 20 c + 5 r + q. Rows 1::2 are 1 and 3, cols ::-2 are 4, 2, 0.</summary>
    [Fact]
    public void SliceLayer_RowsAndCols_WorkedExample_AndErrors()
    {
        Tensor x = Iota(2, 4, 5);
        var layer = new SliceLayer(0, null, SliceRange.Of(1, null, 2), SliceRange.Of(null, null, -2));
        Tensor y = layer.Forward(x);
        Assert.Equal([2, 2, 3], y.Shape);
        Assert.Equal([9f, 7, 5, 19, 17, 15, 29, 27, 25, 39, 37, 35], y.Data);
        Assert.Equal("rows 1::2 cols ::-2", layer.Describe());
        // Channel 1, the last row: [35 .. 39].
        var last = new SliceLayer(1, 2, SliceRange.Of(-1, null, 1), null);
        Assert.Equal([35f, 36, 37, 38, 39], last.Forward(x).Data);
        Assert.Equal("channels 1..1 rows -1:", last.Describe());
        // Rows 5: of a map 4 high are none: one error at the size that has none; a map 6 high has one.
        var past = new SliceLayer(0, null, SliceRange.Of(5, null, 1), null);
        Assert.Equal((1, 5), past.OutputSize(6, 5));
        var e = Assert.Throws<ConvGLException>(() => past.Forward(x));
        Assert.Equal("slice rows [5:] of a map 4 high take no row", e.Message);
        // A slice of everything is no slice.
        Assert.Throws<ConvGLException>(() => new SliceLayer(0, null, SliceRange.Of(0, null, 1), null));
    }

    /// <summary>`start` alone takes the channels from start to the last, as assets/stacks/README.md says (a docs audit found
    /// it refused: "field 'end': is missing"); `start` 0 alone takes everything, which is no slice.</summary>
    [Fact]
    public void StackFile_StartAlone_TakesTheChannelsToTheLast()
    {
        Stack stack = StackFile.Parse("""{"input": "rgb", "layers": [{"type": "slice", "start": 1}]}""", "s.json");
        Tensor x = Iota(3, 2, 2);
        Tensor y = StackRunner.Run(stack, x).Outputs[0];
        Assert.Equal([2, 2, 2], y.Shape);
        Assert.Equal(x.Data[4..], y.Data);
        var e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""{"input": "rgb", "layers": [{"type": "slice", "start": 0}]}""", "s.json"));
        Assert.Contains("s.json: layers[0] (slice) field 'start': 0 alone takes every channel", e.Message);
    }

    [Fact]
    public void StackFile_RowsAndCols_ParseWriteAndReload()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("s.json"), """
            {"input": "rgb", "layers": [
              {"type": "slice", "name": "phase", "rows": [1, null, 2], "cols": [null, null, 2]},
              {"type": "slice", "inputs": [-1], "start": 1, "cols": [-1, null, -1]},
              {"type": "slice", "inputs": [-1], "start": 0, "end": 2, "rows": [1, -1]}
            ]}
            """);
        Stack stack = StackFile.Load(dir.File("s.json"));
        Tensor x = Iota(3, 5, 6);
        StackResult r = StackRunner.Run(stack, x);
        // Rows 1, 3 and cols 0, 2, 4 of every channel: x[c, r, q] = 30 c + 6 r + q.
        Assert.Equal([3, 2, 3], r.Outputs[0].Shape);
        Assert.Equal([6f, 8, 10, 18, 20, 22], r.Outputs[0].Data[..6]);
        // Channels 1.., cols reversed.
        Assert.Equal([2, 5, 6], r.Outputs[1].Shape);
        Assert.Equal([35f, 34, 33, 32, 31, 30], r.Outputs[1].Data[..6]);
        // Channels 0..1, rows 1..3.
        Assert.Equal([2, 3, 6], r.Outputs[2].Shape);
        Assert.Equal(6f, r.Outputs[2].Data[0]);
        // Written and read back: the same layers, the same maps.
        StackWriter.Write(dir.File("back.json"), stack);
        string json = File.ReadAllText(dir.File("back.json"));
        Assert.Contains("\"rows\": [\n        1,\n        null,\n        2\n      ]", json.Replace("\r", ""));
        StackResult again = StackRunner.Run(StackFile.Load(dir.File("back.json")), x);
        for (int i = 0; i < 3; i++) Assert.Equal(r.Outputs[i].Data, again.Outputs[i].Data);
    }

    [Theory]
    [InlineData("\"rows\": [1]", "field 'rows': must be [start, end] or [start, end, step]")]
    [InlineData("\"rows\": [0, null, 0]", "field 'rows': step must be a non-zero integer")]
    [InlineData("\"cols\": [0, \"a\"]", "field 'cols': end must be an integer from -32769 to 32769 or null, found \"a\"")]
    [InlineData("\"cols\": 2", "field 'cols': must be [start, end] or [start, end, step]")]
    // From a hostile-input review: the smallest 64-bit integer crashed the loader (Math.Abs overflows on it), a running
    // window too on hot reload.
    [InlineData("\"cols\": [null, null, -9223372036854775808]", "field 'cols': step must be a non-zero integer")]
    [InlineData("\"rows\": [-9223372036854775808, null]", "field 'rows': start must be an integer from -32769 to 32769 or null, found -9223372036854775808")]
    [InlineData("\"rows\": [0, -9223372036854775808]", "field 'rows': end must be an integer from -32769 to 32769 or null")]
    [InlineData("\"rows\": [null, null]", "field 'start': is missing (the first channel taken, from 0; or give rows / cols)")]
    [InlineData("\"start\": 0", "field 'start': 0 alone takes every channel, which is no slice; give end (one past the last channel taken), or rows / cols")]
    public void StackFile_BadSliceFields_AreOneError(string fields, string message)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("s.json"), $$"""{"input": "rgb", "layers": [{"type": "slice", {{fields}}}]}""");
        var e = Assert.Throws<ConvGLException>(() => StackFile.Load(dir.File("s.json")));
        Assert.Contains("s.json: layers[0] (slice) " + message, e.Message);
    }

    /// <summary>A model of Slices on H and W: a crop x[:, :, 1:-1, 2:], a flip x[..., ::-1] (step -1 from -1 to INT64_MIN,
    /// as exporters write it), a channel and a row step together x[:, 1:, ::3], and Focus's pair (rows, then cols; merged
    /// into one layer). Each imports as one slice layer and the stack's maps equal ONNX Runtime's on two sizes.</summary>
    [Fact]
    public void SlicesOfRowsAndCols_ImportAsSliceLayers_AndMatchOnnxRuntime()
    {
        var g = new GraphProto { Name = "g" };
        ProtoBuilders.AddImageInput(g, 3);
        void Slice(string name, string x, long[] starts, long[] ends, long[] axes, long[] steps, string y)
        {
            g.Initializer.Add(ProtoBuilders.Int64Data(name + "_s", starts));
            g.Initializer.Add(ProtoBuilders.Int64Data(name + "_e", ends));
            g.Initializer.Add(ProtoBuilders.Int64Data(name + "_a", axes));
            g.Initializer.Add(ProtoBuilders.Int64Data(name + "_t", steps));
            ProtoBuilders.Node(g, name, "Slice", [x, name + "_s", name + "_e", name + "_a", name + "_t"], y);
        }
        Slice("crop", "x", [1, 2], [-1, long.MaxValue], [2, 3], [1, 1], "crop");
        Slice("flip", "crop", [-1], [long.MinValue], [-1], [-1], "flip");
        Slice("every3", "x", [1, 0], [long.MaxValue, long.MaxValue], [1, 2], [1, 3], "every3");
        Slice("focus_r", "x", [1], [long.MaxValue], [2], [2], "fr");
        Slice("focus_c", "fr", [0], [long.MaxValue], [3], [2], "fc");
        g.Output.Add(ProtoBuilders.Value("flip"));
        g.Output.Add(ProtoBuilders.Value("every3"));
        g.Output.Add(ProtoBuilders.Value("fc"));
        byte[] bytes = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "slices.onnx")), "slices");
        Assert.Equal(["crop", "flip", "every3", "focus_c"], stack.Layers.Select(l => l.Label));
        Assert.All(stack.Layers, l => Assert.IsType<SliceLayer>(l));
        Assert.Equal(["rows 1:-1 cols 2:", "cols ::-1", "channels 1..2 rows ::3", "rows 1::2 cols ::2"], stack.Layers.Select(l => ((SliceLayer)l).Describe()));
        foreach ((int h, int w) in new[] { (7, 9), (12, 5) })
        {
            Tensor x = Random(3, h, w, h * w);
            Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, h, w), ["crop", "flip", "every3", "fc"]);
            StackResult r = StackRunner.Run(stack, x);
            string[] values = ["crop", "flip", "every3", "fc"];
            for (int i = 0; i < 4; i++) Assert.Equal(ort[values[i]], r.Outputs[i].Data);
        }
    }

    [Fact]
    public void ASliceOfTheBatch_OrAChannelStep_IsOneError()
    {
        foreach ((long[] starts, long[] axes, long[] steps, string name) in new[] { (new long[] { 1L }, new long[] { 0L }, new long[] { 1L }, "batch"), ([0L], [1L], [2L], "chstep") })
        {
            var g = new GraphProto { Name = "g" };
            ProtoBuilders.AddImageInput(g, 3);
            g.Initializer.Add(ProtoBuilders.Int64Data("s", starts));
            g.Initializer.Add(ProtoBuilders.Int64Data("e", long.MaxValue));
            g.Initializer.Add(ProtoBuilders.Int64Data("a", axes));
            g.Initializer.Add(ProtoBuilders.Int64Data("t", steps));
            ProtoBuilders.Node(g, name, "Slice", ["x", "s", "e", "a", "t"], "y");
            g.Output.Add(ProtoBuilders.Value("y"));
            var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
            var e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(m.ToByteArray(), name + ".onnx")), name));
            Assert.Equal($"{name}.onnx: node '{name}' (Slice): in a stack Slice takes a run of channels (axis 1 of (N, C, H, W), step 1) and any rows and columns, and leaves N whole", e.Message);
        }
    }

    /// <summary>YOLOv5 v5.0's Focus stem (four pairs of Slices, Concat, conv): four slice layers, one per phase, in the
    /// Concat's order (rows 0, 1, 0, 1 and cols 0, 0, 1, 1 from the start, step 2).</summary>
    [Fact]
    public void Focus_IsFourSliceLayers()
    {
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(ArchitectureGraphs.Yolo(13, true), "focus.onnx")), "focus");
        Assert.Equal(["slice", "slice", "slice", "slice", "concat", "conv"], stack.Layers.Take(6).Select(l => l.Type));
        Assert.Equal(["rows ::2 cols ::2", "rows 1::2 cols ::2", "rows ::2 cols 1::2", "rows 1::2 cols 1::2"], stack.Layers.Take(4).Select(l => ((SliceLayer)l).Describe()));
        Assert.Equal(12, StackRunner.Run(stack, Random(3, 8, 10, 1)).Outputs[4].C);
    }

    /// <summary>The Focus test model (BranchyGraphs.Focus: the stem, a conv, a crop and a flip merged into one slice):
    /// the graph's every value and the stack's output equal ONNX Runtime's on two even sizes; an odd one is
    /// one error.</summary>
    [Theory]
    [InlineData(8, 6)]
    [InlineData(10, 14)]
    public void FocusModel_GraphAndStack_MatchOnnxRuntime(int h, int w)
    {
        byte[] bytes = BranchyGraphs.FocusBytes();
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "focus.onnx"));
        Tensor x = Random(3, h, w, h + w);
        Dictionary<string, Tensor> ours = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, h, w) });
        string[] values = graph.Ops.Where(o => !graph.HostValues.Contains(o.Output)).Select(o => o.Output).ToArray();
        Dictionary<string, float[]> ort = RunOnnxRuntime(bytes, x.Reshape(1, 3, h, w), values);
        foreach (string v in values) AssertClose(ort[v], ours[v].Data, $"{h}x{w} value '{v}'");
        Stack stack = OnnxStack.FromGraph(graph, "focus");
        Assert.Equal(["slice", "slice", "slice", "slice", "concat", "conv", "relu", "slice"], stack.Layers.Select(l => l.Type));
        Assert.Equal("rows 1:-1 cols ::-1", ((SliceLayer)stack.Layers[^1]).Describe());
        AssertClose(ort["y"], StackRunner.Run(stack, x).Outputs[^1].Data, $"{h}x{w} stack output");
        // An odd size splits into phases of two sizes, as in PyTorch: one error, at the join.
        var e = Assert.Throws<ConvGLException>(() => StackRunner.Run(stack, Random(3, h + 1, w, 1)));
        Assert.Contains("concat needs inputs of one size", e.Message);
    }

    /// <summary>The review's edge cases: a step past the image side (an ONNX INT64_MAX step) is stored as one a stack file
    /// reads back; an error about cols names the field 'cols'; an open channel end says "the last".</summary>
    [Fact]
    public void HugeSteps_ColsErrors_AndOpenChannelEnds()
    {
        var huge = new SliceLayer(0, null, SliceRange.Of(0, null, long.MaxValue), null);
        Assert.Equal(Limits.ImageSide, huge.Rows!.Value.Step);
        using var dir = new TempDir();
        StackWriter.Write(dir.File("huge.json"), new Stack("huge", StackInput.Rgb, [huge]));
        Tensor x = Iota(3, 5, 4);
        Assert.Equal(huge.Forward(x).Data, StackRunner.Run(StackFile.Load(dir.File("huge.json")), x).Outputs[0].Data);
        Assert.Equal([3, 1, 4], huge.Forward(x).Shape);

        Stack cols = StackFile.Parse("""{"input": "rgb", "layers": [{"type": "slice", "cols": [2000, null]}]}""", "c.json");
        var e = Assert.Throws<ConvGLException>(() => StackRunner.Run(cols, x));
        Assert.Contains("field 'cols'", e.Message);
        Assert.Contains("slice cols [2000:] of a map 4 wide take no column", e.Message);
        e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""{"input": "rgb", "layers": [{"type": "slice", "start": 5, "rows": [1, null, 2]}]}""", "o.json"));
        Assert.Equal("o.json: layers[0] (slice) field 'start': slice takes channels 5..the last; its input has 3", e.Message);
    }
}
