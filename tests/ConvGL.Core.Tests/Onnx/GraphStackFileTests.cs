using ConvGL.Core.Stacks;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>Graph stack files: <c>"inputs"</c> naming earlier layers, and the weight-free graph layer types.</summary>
public class GraphStackFileTests
{
    private const string Residual = """
        {
          "input": "gray",
          "layers": [
            { "type": "conv", "name": "blur", "kernels": ["box:3"] },
            { "type": "relu", "name": "r" },
            { "type": "add", "name": "sum", "inputs": ["r", "input"] },
            { "type": "add", "inputs": [2, 0] },
            { "type": "globalavgpool" },
            { "type": "flatten" }
          ]
        }
        """;

    [Fact]
    public void ResidualFile_Loads_AndRunsAsTheGraphSays_ByHand()
    {
        Stack stack = StackFile.Parse(Residual, "res.json");
        Assert.Equal([1, -1], stack.Layers[2].Inputs!);
        Assert.Equal([2, 0], stack.Layers[3].Inputs!);
        Assert.Null(stack.Layers[4].Inputs);
        var x = Tensor.Chw(1, 3, 3, [1, -2, 3, 4, 5, -6, 7, 8, 9]);
        StackResult r = StackRunner.Run(stack, x);
        Tensor blur = r.Outputs[0];
        // sum = relu(blur) + x; layer 3 = sum + blur.
        for (int i = 0; i < 9; i++)
        {
            Assert.Equal(Math.Max(blur.Data[i], 0f) + x.Data[i], r.Outputs[2].Data[i], 1e-6f);
            Assert.Equal(r.Outputs[2].Data[i] + blur.Data[i], r.Outputs[3].Data[i], 1e-6f);
        }
        Assert.Equal(r.Outputs[3].Data.Average(), r.Outputs[4].Data[0], 1e-5f);
        Assert.Equal([1, 1, 1], r.Outputs[5].Shape);
    }

    [Theory]
    [InlineData("""{ "layers": [ { "type": "relu" }, { "type": "add", "inputs": ["nope", "input"] } ] }""",
        "g.json: layers[1] field 'inputs': no earlier layer is named 'nope'")]
    [InlineData("""{ "layers": [ { "type": "relu" }, { "type": "add", "inputs": [1, 0] } ] }""",
        "g.json: layers[1] field 'inputs': 1 is not an earlier layer's name or index (0 to 0, or -1 for the stack input)")]
    [InlineData("""{ "layers": [ { "type": "add", "inputs": ["input"] } ] }""",
        "g.json: layers[0] (add) field 'inputs': names 1 map(s), this type reads 2")]
    [InlineData("""{ "layers": [ { "type": "conv", "name": "c", "kernels": ["sobel-x", "sobel-y"] }, { "type": "add", "inputs": ["c", "input"] } ] }""",
        "g.json: layers[1] (add) field 'inputs': add needs two inputs of equal channel counts, got 2 and 1")]
    public void BadInputs_AreOneErrorNamingFileLayerAndField(string json, string expected)
    {
        var e = Assert.Throws<ConvGLException>(() => StackFile.Parse(json, "g.json"));
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void AddOfDifferentSizes_IsAPlanError()
    {
        Stack stack = StackFile.Parse("""{ "layers": [ { "type": "maxpool", "size": 2 }, { "type": "add", "inputs": [0, "input"] } ] }""", "g.json");
        var e = Assert.Throws<ConvGLException>(() => StackPlan.Create(stack, 8, 8));
        Assert.Contains("layers[1] (add) field 'inputs'", e.Message);
        Assert.Contains("add needs two inputs of equal size, got 4x4 and 8x8", e.Message);
    }

    [Fact]
    public void Writer_RoundTripsInputs_AndWritesEveryImportedLayerType()
    {
        Stack stack = StackFile.Parse(Residual, "res.json");
        Stack back = StackFile.Parse(StackWriter.ToJson(stack), "back.json");
        Assert.Equal(stack.Layers.Select(l => l.Type), back.Layers.Select(l => l.Type));
        for (int i = 0; i < stack.Layers.Count; i++) Assert.Equal(stack.Layers[i].InputsOf(i), back.Layers[i].InputsOf(i));
        // Imported layers have fields now (StackWriterOnnxTests reloads them with their weights and compares every map).
        string json = StackWriter.ToJson(Core.Onnx.OnnxStack.FromGraph(SmallGraphs.ResidualWithHead(), "small"));
        foreach (string type in new[] { "batchnorm", "linear", "globalavgpool", "flatten", "add", "avgpool", "maxpool" })
            Assert.Contains($"\"type\": \"{type}\"", json);
    }

    /// <summary>The CLI audit: convert wrote a residual's inputs as indices, so dropping a block from a converted ResNet18
    /// meant renumbering every later add. Layers with a name of their own are written by name (the stack input as
    /// "input"); a name two layers share stays an index. Dropping a layer before them leaves the references right.</summary>
    [Fact]
    public void Writer_NamesInputsByUniqueLayerNames_SoDroppingALayerKeepsThemRight()
    {
        const string json = """
            { "name": "named", "input": "gray",
              "layers": [
                { "type": "conv", "name": "stem", "kernels": ["gaussian:3"] },
                { "type": "relu", "name": "same" },
                { "type": "relu", "name": "same" },
                { "type": "add", "name": "sum", "inputs": [2, 0] },
                { "type": "add", "inputs": ["sum", "input"] }
              ] }
            """;
        string written = StackWriter.ToJson(StackFile.Parse(json, "n.json"));
        string Compact(string text) => string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
        Assert.Contains(Compact("\"inputs\": [2, \"stem\"]"), Compact(written));     // "same" is shared: its index
        Assert.Contains(Compact("\"inputs\": [\"sum\", \"input\"]"), Compact(written));
        Stack back = StackFile.Parse(written, "back.json");
        Assert.Equal([2, 0], back.Layers[3].Inputs!);
        Assert.Equal([3, -1], back.Layers[4].Inputs!);
        // A hand edit that drops the second relu: the named references still point at "stem" and "sum".
        var doc = System.Text.Json.Nodes.JsonNode.Parse(written)!;
        var layers = doc["layers"]!.AsArray();
        layers.RemoveAt(1);                        // the first "same" relu
        layers[2]!["inputs"] = new System.Text.Json.Nodes.JsonArray(1, "stem"); // the shared name's index, renumbered by hand
        Stack dropped = StackFile.Parse(doc.ToJsonString(), "dropped.json");
        Assert.Equal([1, 0], dropped.Layers[2].Inputs!);
        Assert.Equal([2, -1], dropped.Layers[3].Inputs!); // "sum" found by name at its new index
    }
}
