using ConvGL.Gpu.Present;

namespace ConvGL.Gpu.Tests;

/// <summary><see cref="GpuTimer.Wait"/>, the benchmark's read: every span measured (waited for, never skipped), and
/// nothing made up for a span that was not measured. The values are not checked (llvmpipe reads ~0): only that they
/// are there, are times, and belong to the span just ended.</summary>
[Collection(GlCollection.Name)]
public sealed class GpuTimerWaitTests(GlFixture fixture)
{
    [Fact]
    public void Wait_AfterEverySpan_MeasuresEachOnce_AndNothingWhenNoneIsInFlight()
    {
        GlContext ctx = fixture.Context;
        using var timer = new GpuTimer(ctx, ring: 1, label: "wait test");
        using var gt = GpuTensor.From(ctx, Parity.Random(new Random(5), 1, 64, 64));
        using var present = new TensorToImage(ctx);
        Assert.Null(timer.Wait());
        for (int rep = 0; rep < 3; rep++)
        {
            // A one-query ring: Begin would skip the span if the last one were still pending; Wait leaves none.
            timer.Begin();
            present.Run(gt, 0);
            timer.End();
            double? ms = timer.Wait();
            Assert.NotNull(ms);
            Assert.True(ms >= 0 && double.IsFinite(ms.Value), $"rep {rep}: {ms}");
            Assert.Equal(ms, timer.LastMilliseconds);
            Assert.Null(timer.Wait());
        }
    }

    [Fact]
    public void Wait_OnASpanSkippedInsideAnotherTimer_IsNull_AndTheOuterIsMeasured()
    {
        GlContext ctx = fixture.Context;
        using var outer = new GpuTimer(ctx, ring: 1, label: "outer");
        using var inner = new GpuTimer(ctx, ring: 1, label: "inner");
        using var gt = GpuTensor.From(ctx, Parity.Random(new Random(6), 1, 32, 32));
        using var present = new TensorToImage(ctx);
        outer.Begin();
        inner.Begin();
        present.Run(gt, 0);
        inner.End();
        outer.End();
        Assert.Null(inner.Wait());
        Assert.Null(inner.LastMilliseconds);
        Assert.NotNull(outer.Wait());
    }
}
