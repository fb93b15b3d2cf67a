using ConvGL.Core.Ops;

namespace ConvGL.Core.Tests.Onnx;

public class DirectConv2DTests
{
    public static TheoryData<int, int, int, int, int, int, int, int, int, int> Shapes => new()
    {
        // cin, cout, groups, kh, kw, stride y/x, dilation y/x, pads (top, left, bottom, right) as the decimal digits t l b r
        { 1, 1, 1, 3, 3, 1, 1, 1, 1, 1111 },
        { 3, 4, 1, 7, 7, 2, 2, 1, 1, 3322 },
        { 4, 6, 2, 3, 2, 1, 2, 2, 1, 1021 },
        { 5, 5, 5, 3, 3, 2, 1, 1, 3, 0 },
        { 2, 3, 1, 1, 1, 2, 2, 1, 1, 0 },
        { 3, 2, 1, 4, 3, 3, 2, 1, 2, 2103 },
        { 8, 4, 4, 5, 5, 1, 1, 2, 2, 4444 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EqualsTheReference_OverStridesDilationsGroupsAndAsymmetricPads(int cin, int cout, int groups, int kh, int kw,
        int sy, int sx, int dy, int dx, int pads)
    {
        var rng = new Random(cin * 31 + cout * 7 + kh);
        foreach ((int h, int w) in new[] { (9, 7), (18, 17), (13, 25) })
        {
            var input = Tensor.Chw(cin, h, w, Enumerable.Range(0, cin * h * w).Select(_ => (float)(rng.NextDouble() * 2.4 - 1.2)).ToArray());
            var weight = new Tensor([cout, cin / groups, kh, kw], Enumerable.Range(0, cout * cin / groups * kh * kw).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray());
            float[] bias = Enumerable.Range(0, cout).Select(_ => (float)rng.NextDouble()).ToArray();
            var o = new ConvOptions
            {
                Padding = PaddingMode.Explicit, PadY = pads / 1000, PadX = pads / 100 % 10, PadBottom = pads / 10 % 10, PadRight = pads % 10,
                StrideY = sy, StrideX = sx, DilationY = dy, DilationX = dx, Groups = groups,
            };
            Tensor want = Conv2D.Apply(input, weight, bias, o), got = DirectConv2D.Apply(input, weight, bias, o);
            Assert.Equal(want.Shape, got.Shape);
            for (int i = 0; i < want.Length; i++)
                Assert.True(Math.Abs(want.Data[i] - got.Data[i]) <= 1e-5 + 1e-5 * Math.Abs(want.Data[i]),
                    $"{o} input ({cin}, {h}, {w}) index {i}: {got.Data[i]} vs reference {want.Data[i]}");
        }
    }

    [Fact]
    public void AsymmetricPads_ByHand()
    {
        // 1x1 input 2x2 [[1 2] [3 4]], 2x2 kernel of ones, pads top 1 left 0 bottom 0 right 1, stride 1:
        // padded rows [0 0 0; 1 2 0; 3 4 0] -> windows: [0+0+1+2, 0+0+2+0; 1+2+3+4, 2+0+4+0] = [3 2; 10 6].
        var x = Tensor.Chw(1, 2, 2, [1, 2, 3, 4]);
        var k = new Tensor([1, 1, 2, 2], [1, 1, 1, 1]);
        var o = new ConvOptions { Padding = PaddingMode.Explicit, PadY = 1, PadX = 0, PadBottom = 0, PadRight = 1 };
        Assert.Equal([3f, 2f, 10f, 6f], DirectConv2D.Apply(x, k, null, o).Data);
        Assert.Equal([3f, 2f, 10f, 6f], Conv2D.Apply(x, k, null, o).Data);
    }
}
