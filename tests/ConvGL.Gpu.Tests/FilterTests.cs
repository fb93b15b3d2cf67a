using ConvGL.Core;
using ConvGL.Core.Ops;

namespace ConvGL.Gpu.Tests;

[Collection(GlCollection.Name)]
public sealed class FilterTests(GlFixture fixture)
{
    [Fact]
    public void Filter_EqualsConv2DFilter_AcrossCallsWithChangingKernelsAndChannels()
    {
        using var filter = new GpuFilter(fixture.Context);
        var rng = new Random(11);
        Tensor sobelX = Tensor.Matrix([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]);
        Tensor box = Tensor.Matrix([[1 / 6f, 1 / 6f, 1 / 6f], [1 / 6f, 1 / 6f, 1 / 6f]]);
        foreach ((Tensor kernel, int c, ConvOptions o) in new[]
        {
            (sobelX, 3, ConvOptions.ImageFilter),
            (sobelX, 3, ConvOptions.ImageFilter with { Mode = ConvMode.Convolve }),
            (box, 1, ConvOptions.ImageFilter with { Padding = PaddingMode.Valid }),
            (sobelX, 1, new ConvOptions { Border = Border.Wrap, StrideX = 2 }),
            (box, 3, ConvOptions.ImageFilter with { DilationY = 2 }),
        })
        {
            Tensor image = Parity.Random(rng, c, 37, 45);
            Parity.AssertGpuMatchesReference(Conv2D.Filter(image, kernel, o), filter.Filter(image, kernel, o), $"kernel {kernel.ShapeString} C={c} {o}");
        }
    }

    [Fact]
    public void ImageLargerThanOneStorageBlock_IsFilteredChannelByChannel_WithTheSameResult()
    {
        using var filter = new GpuFilter(fixture.Context) { SplitAboveBytes = 1000 };
        Tensor image = Parity.Random(new Random(12), 3, 21, 17); // 4284 bytes: over the lowered limit
        Tensor kernel = Tensor.Matrix([[0, 1, 0], [1, -4, 1], [0, 1, 0.5f]]);
        ConvOptions o = ConvOptions.ImageFilter with { Mode = ConvMode.Convolve };
        Parity.AssertGpuMatchesReference(Conv2D.Filter(image, kernel, o), filter.Filter(image, kernel, o), "split per channel");
    }

    /// <summary>A channel larger than one storage block (an 8192x8192 gray picture: 256 MiB, llvmpipe's blocks 128) runs in
    /// bands of output rows, each band's input rows gathered through the border rule: equal to the reference for every
    /// algorithm, border (wrap reads the far side's rows), padding, stride, dilation and odd or even kernel, with bands of
    /// one to a few rows (the limit lowered).</summary>
    [Fact]
    public void AChannelLargerThanOneStorageBlock_RunsInBandsOfRows_EqualToTheReference()
    {
        var rng = new Random(13);
        PaddingMode[] paddings = [PaddingMode.Same, PaddingMode.Valid, PaddingMode.Full, PaddingMode.Explicit, PaddingMode.SameUpper];
        int ran = 0;
        foreach (ConvAlgorithm algorithm in new[] { ConvAlgorithm.Direct, ConvAlgorithm.Separable, ConvAlgorithm.Fft })
            for (int n = 0; n < 14; n++)
            {
                int kh = rng.Next(1, 6), kw = rng.Next(1, 6);
                // Separable needs a rank-1 kernel: an outer product; the others take any.
                Tensor kernel = algorithm == ConvAlgorithm.Separable
                    ? Outer(Parity.RandomVector(rng, 1f, kh), Parity.RandomVector(rng, 1f, kw))
                    : Parity.Random(rng, 1f, kh, kw);
                var o = new ConvOptions
                {
                    Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                    Border = Borders.All[rng.Next(5)],
                    Padding = paddings[rng.Next(paddings.Length)],
                    PadY = rng.Next(0, 4), PadX = rng.Next(0, 4),
                    StrideY = algorithm == ConvAlgorithm.Separable ? 1 : rng.Next(1, 4), StrideX = rng.Next(1, 3),
                    DilationY = rng.Next(1, 3), DilationX = rng.Next(1, 3),
                };
                int c = rng.Next(1, 3);
                Tensor image = Parity.Random(rng, c, rng.Next(9, 40), rng.Next(5, 30));
                Tensor expected;
                try
                {
                    expected = Conv2D.Filter(image, kernel, o);
                }
                catch (ConvGLException)
                {
                    continue; // a geometry with no output
                }
                // Room for a few rows of the widest side: bands of 1..8 output rows.
                using var filter = new GpuFilter(fixture.Context) { Algorithm = algorithm, SplitAboveBytes = 4L * Math.Max(image.W, expected.W) * rng.Next(8, 14) };
                Parity.AssertGpuMatchesReference(expected, filter.Filter(image, kernel, o), $"{algorithm} kernel {kh}x{kw} C={c} {image.ShapeString} {o}");
                ran++;
            }
        Assert.True(ran > 30, $"only {ran} cases had an output");
    }

    private static Tensor Outer(float[] column, float[] row)
    {
        var t = new Tensor([column.Length, row.Length]);
        for (int i = 0; i < column.Length; i++)
            for (int j = 0; j < row.Length; j++) t.Data[i * row.Length + j] = column[i] * row[j];
        return t;
    }

    /// <summary>The new-paths audit: `--algorithm separable --size full` on an 8192x8192 picture failed in its row pass,
    /// whose intermediate (input rows x output width) is wider than the input under full padding. A band's rows now fit
    /// every buffer of every algorithm: output, input and intermediate.</summary>
    [Theory]
    [InlineData(1, 8192, 8222, 8222, 31, 1)]   // gaussian:31, full padding: the output 30 columns wider
    [InlineData(1, 8192, 8192, 8192, 5, 1)]
    [InlineData(3, 4096, 4096, 2048, 9, 2)]
    [InlineData(1, 8192, 8312, 8312, 121, 1)]  // dilation 4 of a 31-tap kernel, full
    public void BandRows_KeepEveryBufferOfABandWithinTheLimit(int c, int w, int outW, int outH, int reach, int stride)
    {
        const long limit = 128L << 20;
        int band = GpuFilter.BandRows(limit, c, w, outW, outH, reach, stride);
        Assert.InRange(band, 1, outH);
        long inRows = (long)(band - 1) * stride + reach;
        Assert.True(inRows * c * w * 4 <= limit, "input");
        Assert.True(inRows * c * outW * 4 <= limit, "the separable row pass's intermediate");
        Assert.True((long)band * c * outW * 4 <= limit, "output");
        Assert.True(band == outH || ((long)band * stride + reach) * c * Math.Max(w, outW) * 4 > limit || (long)(band + 1) * c * outW * 4 > limit, "not the largest");
        Assert.Equal(0, GpuFilter.BandRows(1000, 1, 1000, 1000, 10, 3, 1)); // not even one row
    }
}
