using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;

namespace ConvGL.Core.Tests.Stacks;

/// <summary>The coords layer (CoordConv's coordinate maps) and the shipped heads stack, whose second attention head reads
/// them.</summary>
public sealed class CoordsTests
{
    /// <summary>A 3x4 map by hand: x runs -1, -1/3, 1/3, 1 along every row, y -1, 0, 1 down every column; an axis of one
    /// pixel is 0.</summary>
    [Fact]
    public void Coordinates_WorkedExample_AndOnePixelAxes()
    {
        Tensor c = Coordinates.Apply(3, 4);
        Assert.Equal([2, 3, 4], c.Shape);
        float third = (float)(1.0 / 3);
        for (int y = 0; y < 3; y++)
        {
            Assert.Equal([-1f, -third, third, 1f], c.Data[(y * 4)..(y * 4 + 4)]);
            for (int x = 0; x < 4; x++) Assert.Equal(y - 1, c[1, y, x]);
        }
        Assert.Equal([0f, 0f, 0f, -1f, 0f, 1f], Coordinates.Apply(3, 1).Data);
        Assert.Equal([-1f, 1f, 0f, 0f], Coordinates.Apply(1, 2).Data);
        Assert.Throws<ConvGLException>(() => Coordinates.Apply(0, 4));
    }

    /// <summary>In a stack file: two maps at the input's size whatever its channels and values (a NaN input too); a field
    /// it does not take is one error naming it; the writer writes it back as it was.</summary>
    [Fact]
    public void CoordsLayer_InAStackFile_ReadsOnlyTheSize_AndWritesBack()
    {
        const string json = """{ "name": "c", "input": "rgb", "layers": [ { "type": "maxpool", "size": 2 }, { "type": "coords", "name": "where" } ] }""";
        Stack stack = StackFile.Parse(json, "c.json");
        var coords = Assert.IsType<CoordsLayer>(stack.Layers[1]);
        Assert.Equal("where", coords.Label);
        Assert.Equal([3, 2], stack.Channels());
        var image = Tensor.Chw(3, 10, 14);
        image.Data[7] = float.NaN;
        StackResult r = StackRunner.Run(stack, image);
        Assert.Equal(Coordinates.Apply(5, 7).Data, r.Outputs[1].Data);

        var e = Assert.Throws<ConvGLException>(() => StackFile.Parse("""{ "layers": [ { "type": "coords", "size": 3 } ] }""", "bad.json"));
        Assert.Contains("bad.json", e.Message);
        Assert.Contains("size", e.Message);

        Stack back = StackFile.Parse(StackWriter.ToJson(stack), "back.json");
        Assert.IsType<CoordsLayer>(back.Layers[1]);
        Assert.Equal("where", back.Layers[1].Label);
    }

    /// <summary>The heads stack is two attentions: head 0 (output channels 0-2) is the attention stack's non-local means of
    /// the pooled colours, head 1 (channels 3-5) weighs every pooled pixel by exp(-|p_q - p_k|^2 / h^2), h = 0.1, p the
    /// coordinates: each written out here from the colours and positions directly and compared.</summary>
    [Fact]
    public void Shipped_Heads_IsColourAttentionAndAPositionBlur()
    {
        Stack heads = StackCatalog.Load("heads");
        var rng = new Random(31);
        Tensor x = Tensor.Chw(3, 48, 72, Enumerable.Range(0, 3 * 48 * 72).Select(_ => (float)rng.NextDouble()).ToArray());
        StackResult r = StackRunner.Run(heads, x);
        Tensor pooled = r.Outputs[0], o = r.Outputs[^1];
        Assert.Equal((6, 6, 9), (o.C, o.H, o.W));
        Tensor where = Coordinates.Apply(pooled.H, pooled.W);
        int n = pooled.H * pooled.W;
        for (int p = 0; p < n; p++)
            foreach ((Tensor features, int head) in new[] { (pooled, 0), (where, 1) })
            {
                double[] want = ShippedStackTests.BellAverage(features, pooled, p, 0.01);
                for (int c = 0; c < 3; c++) Assert.Equal(want[c], o.Data[(3 * head + c) * n + p], 4);
            }
        // Head 0 is the attention stack's output.
        Assert.Equal(StackRunner.Run(StackCatalog.Load("attention"), x).Outputs[^1].Data, o.Data[..(3 * n)]);
    }
}
