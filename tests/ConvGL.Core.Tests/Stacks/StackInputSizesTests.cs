using ConvGL.Core.Stacks;

namespace ConvGL.Core.Tests.Stacks;

/// <summary>An array input that the stack's layers do not line up at is one error naming the file, its shape, the layer
/// and the nearest heights and widths that work.</summary>
public class StackInputSizesTests
{
    // A residual downsampling as in ResNet: a 3x3 stride-2 conv with pads [1, 1, 0, 0] gives floor(n / 2), the 1x1
    // stride-2 shortcut ceil(n / 2), so the add needs an even n; the 4x4 pool then needs n / 2 >= 4. Runs at even n >= 8.
    private const string Json = """
        { "name": "align", "input": "gray", "layers": [
          { "type": "conv", "name": "a", "kernels": ["box:3"], "stride": 2, "padding": [1, 1, 0, 0] },
          { "type": "conv", "name": "b", "kernels": ["box:1"], "stride": 2, "inputs": ["input"] },
          { "type": "add", "inputs": ["a", "b"] },
          { "type": "maxpool", "size": 4 } ] }
        """;

    [Fact]
    public void SizesTheLayersLineUpAt_PassQuietly()
    {
        Stack stack = StackFile.Parse(Json, "align.json");
        foreach (int n in new[] { 8, 10, 64, 100 }) StackInputSizes.CheckArray(stack, "x.npy", [1, n, n + 2], n, n + 2);
    }

    [Fact]
    public void OddHeightAndTooNarrow_OneErrorNamingFileShapeLayerAndTheNearestSizes()
    {
        Stack stack = StackFile.Parse(Json, "align.json");
        var e = Assert.Throws<ConvGLException>(() => StackInputSizes.CheckArray(stack, "x.npy", [1, 9, 6], 9, 6));
        Assert.Equal("x.npy: the array (1, 9, 6) goes in as it is and does not fit stack 'align': layers[2] (add) field 'inputs': " +
                     "does not fit its 3x4 input (stack input 6x9): add needs two inputs of equal size, got 3x4 and 3x5; " +
                     "the nearest sizes it runs at: height 8 or 10 instead of 9, width 8 instead of 6 (e.g. the array (1, 8, 8); crop or pad it)", e.Message);
    }

    /// <summary>A pool then a linear layer of 189 inputs: (3, H/2, W/2) must hold 189 values, 63 = 7 x 9 per channel, which
    /// no square size gives. The error said "no size within 512 of 9x7 runs" (a docs audit: 18x14 runs); the nearest
    /// pair is named.</summary>
    [Fact]
    public void LayersThatTieHeightAndWidth_AreToldTheNearestPairThatRuns()
    {
        using var dir = new StackDir();
        const string json = """{"input": "rgb", "layers": [{"type": "maxpool", "size": 2}, {"type": "linear", "weight": "lw.npy"}]}""";
        ConvGL.Core.IO.Npy.Write(dir.File("lw.npy"), new Tensor([5, 189]));
        Stack stack = StackFile.Load(dir.Write("tied.json", json));
        var e = Assert.Throws<ConvGLException>(() => StackInputSizes.CheckArray(stack, "x.npy", [3, 7, 9], 7, 9));
        Assert.EndsWith("; it runs at 18x14 (W x H), the nearest size found (e.g. the array (3, 14, 18); crop or pad it)", e.Message);
        StackInputSizes.CheckArray(stack, "x.npy", [3, 14, 18], 14, 18);
        // Nothing near: said so, with both ranges.
        ConvGL.Core.IO.Npy.Write(dir.File("lw.npy"), new Tensor([5, 3 * 1009]));
        Stack never = StackFile.Load(dir.Write("never.json", json));
        e = Assert.Throws<ConvGLException>(() => StackInputSizes.CheckArray(never, "x.npy", [3, 7, 9], 7, 9));
        Assert.EndsWith($"; no size within {StackInputSizes.PairRange} of 9x7 (W x H) runs, and no square size within {StackInputSizes.SearchRange}", e.Message);
    }

    [Fact]
    public void OneAxisFine_IsSaidSo()
    {
        Stack stack = StackFile.Parse(Json, "align.json");
        var e = Assert.Throws<ConvGLException>(() => StackInputSizes.CheckArray(stack, "in.npy", [1, 12, 13], 12, 13));
        Assert.EndsWith("the nearest sizes it runs at: height 12 is fine, width 12 or 14 instead of 13 (e.g. the array (1, 12, 12); crop or pad it)", e.Message);
    }

    /// <summary>The window's frames: a size the layers do not line up at is a plain error naming a scene that runs; maps
    /// over ConvGL's limits are a <see cref="MapsTooLargeException"/> (the window names --source-max for pictures, videos
    /// and cameras), whose Reason is the plan's words without the scene hint.</summary>
    [Fact]
    public void Frames_MisalignedIsAPlainError_TooLargeIsMapsTooLarge_WithTheBareReason()
    {
        Stack stack = StackFile.Parse(Json, "align.json");
        var e = Assert.Throws<ConvGLException>(() => StackInputSizes.CheckFrames(stack, 9, 8));
        Assert.EndsWith("the nearest sizes it runs at: height 8 or 10 instead of 9, width 8 is fine (e.g. --source scene:8x8, or a picture of that size)", e.Message);

        // A gray input of 32768 x 32768 is 2^30 values, over the 2^29 a map may hold; 16384 x 16384 runs.
        Stack wide = StackFile.Parse("""{ "name": "wide", "layers": [ { "type": "relu" } ] }""", "wide.json");
        var big = Assert.Throws<MapsTooLargeException>(() => StackInputSizes.CheckFrames(wide, 32768, 32768));
        Assert.StartsWith("wide.json: the input (1, 32768, 32768) has 1073741824 values, over the limit of 536870912", big.Reason);
        Assert.EndsWith("; use a smaller size", big.Reason);
        Assert.Equal(big.Reason + "; it runs at 16384x16384 (e.g. --source scene:16384x16384)", big.Message);
        StackInputSizes.CheckFrames(wide, 16384, 16384);
    }
}
