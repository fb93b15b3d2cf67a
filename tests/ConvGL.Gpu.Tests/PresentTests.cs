using ConvGL.Core;
using ConvGL.Gpu.Present;

namespace ConvGL.Gpu.Tests;

[Collection(GlCollection.Name)]
public sealed class PresentTests(GlFixture fixture)
{
    private static byte[] RandomRgba(int seed, int w, int h)
    {
        var bytes = new byte[w * h * 4];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 13)]
    [InlineData(333, 257)]
    [InlineData(4, 3)] // rows of whole vec4s: 4 pixels per invocation
    [InlineData(36, 19)]
    public void ImageToTensor_Gray_IsBT601OfBytesOver255(int w, int h)
    {
        GlContext ctx = fixture.Context;
        byte[] rgba = RandomRgba(w * 1000 + h, w, h);
        using var image = new GpuImage(ctx, w, h);
        image.Upload(rgba, w, h);
        using var tensor = new GpuTensor(ctx);
        new ImageToTensor(ctx).Run(image, tensor, gray: true);
        var expected = Tensor.Chw(1, h, w);
        for (int i = 0; i < w * h; i++)
            expected.Data[i] = (float)((0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255.0);
        Parity.AssertGpuMatchesReference(expected, tensor.Download(), $"gray {w}x{h}");
    }

    [Theory]
    [InlineData(7, 13, false)]
    [InlineData(64, 64, true)] // rows of whole vec4s: 4 pixels per invocation
    [InlineData(68, 17, false)]
    [InlineData(4, 1, true)]
    [InlineData(18, 5, true)]
    public void ImageToTensor_Rgb_IsChannelPlanesOver255(int w, int h, bool flipY)
    {
        GlContext ctx = fixture.Context;
        byte[] rgba = RandomRgba(w + h, w, h);
        using var image = new GpuImage(ctx, w, h);
        image.Upload(rgba, w, h);
        using var tensor = new GpuTensor(ctx);
        new ImageToTensor(ctx).Run(image, tensor, gray: false, flipY);
        var expected = Tensor.Chw(3, h, w);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int sy = flipY ? h - 1 - y : y;
                    expected[c, y, x] = rgba[(sy * w + x) * 4 + c] / 255f;
                }
        Parity.AssertGpuMatchesReference(expected, tensor.Download(), $"rgb {w}x{h} flipY={flipY}");
    }

    [Fact]
    public void RgbRoundTrip_WithUnitRange_GivesTheSameBytes()
    {
        GlContext ctx = fixture.Context;
        const int w = 19, h = 11;
        byte[] rgba = RandomRgba(5, w, h);
        for (int i = 3; i < rgba.Length; i += 4) rgba[i] = 255;
        using var image = new GpuImage(ctx, w, h);
        image.Upload(rgba, w, h);
        using var tensor = new GpuTensor(ctx);
        new ImageToTensor(ctx).Run(image, tensor, gray: false);
        using var present = new TensorToImage(ctx);
        present.RunRgb(tensor, 0, 1, 2, (0f, 1f));
        Assert.Equal(rgba, present.Image.Download());
    }

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(7, 13, 2)]
    [InlineData(333, 257, 1)]
    public void TensorToImage_ComputedRange_IsTheChannelsMinMax(int w, int h, int channel)
    {
        GlContext ctx = fixture.Context;
        Tensor t = Parity.Random(new Random(w * h), 3, h, w);
        using var gt = GpuTensor.From(ctx, t);
        using var present = new TensorToImage(ctx);
        present.Run(gt, channel);
        (float min, float max) = t.Channel(channel).Range();
        Assert.Equal((min, max), present.ReadRange());
        byte[] bytes = present.Image.Download();
        float scale = max > min ? 1f / (max - min) : 0f;
        for (int i = 0; i < w * h; i++)
        {
            float v = Math.Clamp((t.Data[channel * w * h + i] - min) * scale, 0f, 1f);
            int expected = (int)MathF.Round(v * 255f);
            for (int c = 0; c < 3; c++)
                Assert.True(Math.Abs(bytes[4 * i + c] - expected) <= 1, $"pixel {i} component {c}: {bytes[4 * i + c]} vs {expected} ({w}x{h} channel {channel})");
            Assert.Equal(255, bytes[4 * i + 3]);
        }
    }

    [Theory]
    [InlineData(3e38f)]
    [InlineData(1e-30f)]
    [InlineData(1f)]
    public void TensorToImage_ExtremeRanges_AreStretchedAsThePngWriterDoes(float magnitude)
    {
        // The window's normalisation (shaders/present/ranges.glsl) against the PNG writer's (ImageIO.ToBytes, in double),
        // within one level: ranges as wide as float32 allows (1 / width is denormal above ~8.5e37 and was flushed to zero:
        // the map drawn black), and tiny ones.
        GlContext ctx = fixture.Context;
        Tensor t = Parity.Random(new Random(3), 1f, 1, 24, 40);
        for (int i = 0; i < t.Length; i++) t.Data[i] *= magnitude;
        using var gt = GpuTensor.From(ctx, t);
        using var present = new TensorToImage(ctx);
        present.Run(gt, 0);
        byte[] gpu = present.Image.Download();
        byte[] cpu = ConvGL.Core.IO.ImageIO.ToBytes(t, ConvGL.Core.IO.PngScaling.MinMax);
        for (int i = 0; i < t.Length; i++)
            Assert.True(Math.Abs(gpu[4 * i] - cpu[i]) <= 1, $"pixel {i} ({t.Data[i]:R}): window {gpu[4 * i]}, PNG {cpu[i]}");
        Assert.True(cpu.Distinct().Count() > 100, "the map is stretched");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TensorToImage_InfinitiesWithoutAFiniteRange_AreDrawnAtTheirEnds(bool constantBeside)
    {
        // A map with no finite spread (nothing but infinities and NaN, or one finite value beside them): the window drew
        // its infinities as a dead map (the empty colour); the PNG writer clamps them, +inf at 255 and -inf at 0.
        GlContext ctx = fixture.Context;
        float c = constantBeside ? 0.25f : float.NaN;
        var t = Tensor.Chw(1, 2, 3, [float.PositiveInfinity, float.NegativeInfinity, c, float.PositiveInfinity, c, float.NegativeInfinity]);
        using var gt = GpuTensor.From(ctx, t);
        using var present = new TensorToImage(ctx);
        present.Run(gt, 0);
        byte[] b = present.Image.Download();
        Assert.Equal(new byte[] { 255, 0, 0, 255, 0, 0 }, Enumerable.Range(0, 6).Select(i => b[4 * i]).ToArray());
        byte[] png = ConvGL.Core.IO.ImageIO.ToBytes(t, ConvGL.Core.IO.PngScaling.MinMax);
        foreach (int i in new[] { 0, 1, 3, 5 }) Assert.Equal(png[i], b[4 * i]);
    }

    [Fact]
    public void TensorToImage_GivenRange_ClampsOutside()
    {
        GlContext ctx = fixture.Context;
        using var gt = GpuTensor.From(ctx, Tensor.Chw(1, 1, 4, [-5f, 0f, 0.5f, 9f]));
        using var present = new TensorToImage(ctx);
        present.Run(gt, 0, (0f, 1f));
        byte[] b = present.Image.Download();
        Assert.Equal(new byte[] { 0, 0, 128, 255 }, new[] { b[0], b[4], b[8], b[12] });
    }

    [Fact]
    public void TensorToImage_ColorMaps_HaveTheirEndpoints()
    {
        GlContext ctx = fixture.Context;
        using var gt = GpuTensor.From(ctx, Tensor.Chw(1, 1, 3, [-2f, 0f, 2f]));
        using var present = new TensorToImage(ctx) { ColorMap = ColorMap.Heat };
        present.Run(gt, 0);
        byte[] heat = present.Image.Download();
        Assert.Equal(new byte[] { 0, 0, 0 }, heat[0..3]);        // min: black
        Assert.Equal(new byte[] { 255, 255, 255 }, heat[8..11]); // max: white
        present.ColorMap = ColorMap.Diverging;
        present.Run(gt, 0);
        byte[] div = present.Image.Download();
        Assert.Equal(new byte[] { 0, 0, 255 }, div[0..3]);       // min: blue
        Assert.Equal(new byte[] { 255, 255, 255 }, div[4..7]);   // middle: white
        Assert.Equal(new byte[] { 255, 0, 0 }, div[8..11]);      // max: red
    }

    [Fact]
    public void ConstantTensor_MapsToZeroNotNaN()
    {
        GlContext ctx = fixture.Context;
        using var gt = GpuTensor.From(ctx, Tensor.Chw(1, 2, 2, [3f, 3f, 3f, 3f]));
        using var present = new TensorToImage(ctx);
        present.Run(gt, 0);
        Assert.All(present.Image.Download().Where((_, i) => i % 4 != 3), v => Assert.Equal(0, v));
    }

    [Fact]
    public void GpuTimer_ReportsANonNegativeTimeWithoutStalling()
    {
        GlContext ctx = fixture.Context;
        using var timer = new GpuTimer(ctx);
        using var gt = GpuTensor.From(ctx, Parity.Random(new Random(3), 1, 64, 64));
        using var present = new TensorToImage(ctx);
        for (int frame = 0; frame < 3; frame++)
        {
            timer.Begin();
            present.Run(gt, 0);
            timer.End();
        }
        ctx.Gl.Finish();
        timer.Poll();
        Assert.NotNull(timer.LastMilliseconds);
        Assert.True(timer.LastMilliseconds >= 0);
    }

    [Fact]
    public void GpuTimer_NestedInAnotherTimer_SkipsInsteadOfAGlError()
    {
        // GL_TIME_ELAPSED queries cannot nest: glBeginQuery while one is active is GL_INVALID_OPERATION (and the
        // inner glEndQuery would end the outer query). A per-layer timer inside the window's whole-pass timer
        // (GpuStackRunner.TimeLayers within LiveApp's pipeline timer) must leave the outer one measuring.
        GlContext ctx = fixture.Context;
        using var outer = new GpuTimer(ctx, label: "outer");
        using var inner = new GpuTimer(ctx, label: "inner");
        using var gt = GpuTensor.From(ctx, Parity.Random(new Random(4), 1, 32, 32));
        using var present = new TensorToImage(ctx);
        ctx.Gl.GetError();
        lock (fixture.Messages) fixture.Messages.Clear();
        for (int frame = 0; frame < 3; frame++)
        {
            outer.Begin();
            inner.Begin();
            present.Run(gt, 0);
            inner.End();
            outer.End();
        }
        ctx.Gl.Finish();
        outer.Poll();
        inner.Poll();
        Silk.NET.OpenGL.GLEnum error = ctx.Gl.GetError();
        // Errors only: vendor drivers also log performance notes (NVIDIA: buffer moves on read-back) at this severity.
        lock (fixture.Messages)
        {
            string[] errors = fixture.Messages.Where(m => m.Contains("TypeError", StringComparison.Ordinal)).ToArray();
            Assert.True(errors.Length == 0, "GL errors: " + string.Join(" | ", errors));
        }
        Assert.Equal(Silk.NET.OpenGL.GLEnum.NoError, error);
        Assert.NotNull(outer.LastMilliseconds);
        Assert.Null(inner.LastMilliseconds);
    }
}
