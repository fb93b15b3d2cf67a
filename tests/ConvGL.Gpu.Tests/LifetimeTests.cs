using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;
using ConvGL.Gpu.Present;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Tests;

/// <summary>Objects are created once and reused, and everything created is deleted: counted both by ConvGL's own
/// live-object counter and, independently, by asking the driver which names are still objects.</summary>
[Collection(GlCollection.Name)]
public sealed class LifetimeTests(GlFixture fixture)
{
    /// <summary>Buffers, textures and programs the driver still knows, probing names 1..4096 (GL hands out
    /// small names first, so every object this process made is in range).</summary>
    private static int DriverObjects(GL gl)
    {
        int n = 0;
        for (uint name = 1; name <= 4096; name++)
        {
            if (gl.IsBuffer(name)) n++;
            if (gl.IsTexture(name)) n++;
            if (gl.IsProgram(name)) n++;
        }
        return n;
    }

    [Fact]
    public void ThousandDispatches_CreateNoNewObjects()
    {
        GlContext ctx = fixture.Context;
        var rng = new Random(1);
        using var input = GpuTensor.From(ctx, Parity.Random(rng, 2, 17, 23));
        using var a = new GpuTensor(ctx);
        using var b = new GpuTensor(ctx);
        using var conv = new GpuConv2D(ctx, Parity.Random(rng, 0.3f, 4, 2, 3, 3), [0.1f, 0.2f, 0.3f, 0.4f]);
        using var act = new GpuActivation(ctx, ActivationKind.Relu);
        using var pool = new GpuPool2D(ctx, PoolOptions.Square(PoolKind.Max, 2));
        using var sep = new GpuSeparableConv(ctx, [1, 2, 1], [1, 0, -1]);
        using var present = new TensorToImage(ctx);
        using var timer = new GpuTimer(ctx);
        void Frame(int i)
        {
            timer.Begin();
            conv.Options = conv.Options with { Border = Borders.All[i % 5] };
            conv.Run(input, a);
            act.Run(a, a);
            pool.Run(a, b);
            sep.Run(input, a);
            present.Run(b, i % 4);
            timer.End();
        }
        Frame(0); // warm-up: programs compiled, scratch and output storage sized
        for (int i = 1; i < 5; i++) Frame(i);
        ctx.Gl.Finish();
        int live = ctx.LiveObjects, driver = DriverObjects(ctx.Gl);
        for (int i = 0; i < 200; i++) Frame(i); // 200 frames x 5-7 dispatches: over a thousand dispatches
        ctx.Gl.Finish();
        Assert.Equal(live, ctx.LiveObjects);
        Assert.Equal(driver, DriverObjects(ctx.Gl));
    }

    [Fact]
    public void CreatingAndDisposingOps_ReturnsToTheSameCount()
    {
        GlContext ctx = fixture.Context;
        var image = Parity.Random(new Random(2), 3, 9, 9);
        // Warm the program cache first: programs live as long as the library, by design.
        using (var warm = new GpuFilter(ctx)) warm.Filter(image, Tensor.Matrix([[1, 2], [3, 4]]), ConvOptions.ImageFilter);
        int live = ctx.LiveObjects, driver = DriverObjects(ctx.Gl);
        for (int i = 0; i < 100; i++)
        {
            using var filter = new GpuFilter(ctx);
            filter.Filter(image, Tensor.Matrix([[1, 2], [3, i]]), ConvOptions.ImageFilter);
            using var t = GpuTensor.From(ctx, image);
            using var img = new GpuImage(ctx, 4 + i % 3, 5);
            img.Resize(6 + i % 2, 7);
            t.Dispose(); // double dispose is harmless
        }
        Assert.Equal(live, ctx.LiveObjects);
        Assert.Equal(driver, DriverObjects(ctx.Gl));
    }

    [Fact]
    public void DisposeOnAnotherThread_IsQueuedAndDrainedOnTheGlThread()
    {
        GlContext ctx = fixture.Context;
        int live = ctx.LiveObjects;
        var t = GpuTensor.From(ctx, Tensor.Chw(1, 2, 2));
        uint handle = t.Handle;
        Assert.Equal(live + 1, ctx.LiveObjects);
        var other = new Thread(t.Dispose);
        other.Start();
        other.Join();
        Assert.True(ctx.Gl.IsBuffer(handle), "deleted off the GL thread");
        ctx.FlushDisposables();
        Assert.False(ctx.Gl.IsBuffer(handle));
        Assert.Equal(live, ctx.LiveObjects);
    }

    [Fact]
    public void TensorStorage_GrowsOnlyWhenTheShapeNeedsMore()
    {
        GlContext ctx = fixture.Context;
        using var t = new GpuTensor(ctx, 2, 8, 8);
        int capacity = t.Buffer.Capacity;
        t.Resize(1, 8, 8);
        t.Resize(2, 8, 8);
        Assert.Equal(capacity, t.Buffer.Capacity);
        Tensor big = Parity.Random(new Random(3), 3, 8, 8);
        t.Upload(big);
        Assert.Equal(192, t.Buffer.Capacity);
        Assert.Equal(big.Data, t.Download().Data);
    }

    [Theory]
    [InlineData(65536, 65536, 2)] // 2^33 values: wrapped to 0 in int
    [InlineData(46341, 46341, 1)] // just above int.MaxValue: wrapped negative
    [InlineData(0, 4, 4)]
    public void TensorShape_OutOfRange_IsRefused_NotABufferSmallerThanItsShape(int c, int h, int w)
    {
        GlContext ctx = fixture.Context;
        int before = ctx.LiveObjects;
        var e = Assert.Throws<ArgumentException>(() => new GpuTensor(ctx, c, h, w));
        Assert.Contains($"({c}, {h}, {w})", e.Message);
        using var t = new GpuTensor(ctx, 1, 2, 2);
        e = Assert.Throws<ArgumentException>(() => t.Resize(c, h, w));
        Assert.Contains($"({c}, {h}, {w})", e.Message);
        Assert.Equal((1, 2, 2), (t.C, t.H, t.W));
        Assert.Equal(before + 1, ctx.LiveObjects);
    }
}
