using ConvGL.App.Live;
using ConvGL.Gpu;

namespace ConvGL.App.Tests;

/// <summary>Per-layer GPU times in the HUD: measured with GL_TIME_ELAPSED on a real GPU only. On a software
/// rasteriser (llvmpipe, where those queries read ~0) the stack does not time its layers, so the window keeps its
/// glFinish wall-clock figure for the whole pass and shows no per-layer numbers.</summary>
public sealed class LayerTimingTests
{
    [Fact]
    public void StackPipeline_TimesLayers_ExactlyOnARealGpu_AndReportsNothingOtherwise()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        using GlContext context = GlContext.CreateHeadless();
        using var pipeline = new StackPipeline(context, "edges");
        Assert.True(pipeline.TimesLayers == !context.IsSoftware, $"renderer '{context.Renderer}' (software {context.IsSoftware}): TimesLayers {pipeline.TimesLayers}");
        pipeline.Input.Resize(pipeline.InputChannels, 48, 64);
        for (int run = 0; run < 6; run++) pipeline.Run();
        context.Gl.Finish();
        for (int i = 0; i < pipeline.LayerCount; i++)
        {
            double ms = pipeline.LayerMilliseconds(i);
            if (context.IsSoftware) Assert.True(ms == 0, $"{context.Renderer}: layer {i} reports {ms} ms; software GL must show no per-layer figure");
            else Assert.True(ms > 0 && ms < 1000, $"{context.Renderer}: layer {i} reports {ms} ms after six finished runs");
        }
        // A layer that is off ran nothing: no figure for it.
        Assert.Null(pipeline.Toggle(1));
        pipeline.Run();
        Assert.Equal(0, pipeline.LayerMilliseconds(1));
    }
}
