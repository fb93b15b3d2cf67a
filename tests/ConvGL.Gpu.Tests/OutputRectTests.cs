using ConvGL.Core;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>The interior/rim split of the fast variants: every output in exactly one rectangle, and every output of the
/// interior rectangle reads only taps inside the image (checked tap by tap against the definition).</summary>
public sealed class OutputRectTests
{
    [Fact]
    public void Split_CoversEveryOutputOnce_InteriorTapsInsideTheImage()
    {
        var rng = new Random(5);
        for (int n = 0; n < 2000; n++)
        {
            int size = rng.Next(1, 40), k = rng.Next(1, 12), stride = rng.Next(1, 4), dilation = rng.Next(1, 4), pad = rng.Next(0, 15);
            int sizeY = rng.Next(1, 40), kY = rng.Next(1, 12);
            long outX = ((long)size + 2 * pad - (long)dilation * (k - 1) - 1) / stride + 1;
            long outY = ((long)sizeY + 2 * pad - (long)dilation * (kY - 1) - 1) / stride + 1;
            if (size + 2 * pad - dilation * (k - 1) - 1 < 0 || sizeY + 2 * pad - dilation * (kY - 1) - 1 < 0) continue;
            (int Lo, int Hi) x = OutputRect.InteriorSpan(size, (int)outX, k, stride, dilation, pad);
            (int Lo, int Hi) y = OutputRect.InteriorSpan(sizeY, (int)outY, kY, stride, dilation, pad);
            string spec = $"n={n} size {sizeY}x{size} k {kY}x{k} stride {stride} dilation {dilation} pad {pad}";
            // The span is exactly the outputs whose taps all lie inside.
            for (int o = 0; o < outX; o++)
            {
                bool inside = o * stride - pad >= 0 && o * stride - pad + (k - 1) * dilation < size;
                Assert.True(inside == (o >= x.Lo && o < x.Hi), $"{spec}: output x {o} inside={inside}, span [{x.Lo}, {x.Hi})");
            }
            var count = new int[outY, outX];
            foreach (OutputRect r in OutputRect.Split((int)outX, (int)outY, x, y, 8))
            {
                if (!r.Rim)
                {
                    Assert.Equal(0, r.Width % 8);
                    Assert.True(r.X >= x.Lo && r.X + r.Width <= x.Hi && r.Y >= y.Lo && r.Y + r.Height <= y.Hi, $"{spec}: interior {r}");
                }
                for (int yy = r.Y; yy < r.Y + r.Height; yy++)
                    for (int xx = r.X; xx < r.X + r.Width; xx++) count[yy, xx]++;
            }
            foreach (int c in count) Assert.True(c == 1, $"{spec}: an output covered {c} times");
        }
    }

    [Fact]
    public void InteriorSpan_ByHand()
    {
        // n = 10, k = 3, same padding 1: outputs 1..8 see only real pixels; 0 and 9 touch the border.
        Assert.Equal((1, 9), OutputRect.InteriorSpan(10, 10, 3, 1, 1, 1));
        // A kernel wider than the image: no interior.
        (int lo, int hi) = OutputRect.InteriorSpan(2, 6, 5, 1, 1, 4);
        Assert.Equal(lo, hi);
        Assert.Equal(6, ConvGeometry.Compute(2, 2, 5, 5, new ConvOptions { Padding = PaddingMode.Full }).X.Output);
    }
}
