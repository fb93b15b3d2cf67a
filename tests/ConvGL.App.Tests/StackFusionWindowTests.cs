using ConvGL.App.Live;
using ConvGL.Core;
using ConvGL.Core.Stacks;
using ConvGL.Gpu;

namespace ConvGL.App.Tests;

/// <summary>The window's stacks fuse a relu into the conv before it when no view reads that conv's map (StackPipeline passes
/// the maps its views read to GpuStackRunner.SetObserved), and a view that then asks for the conv's map gets this frame's
/// numbers, not the relu's or a stale frame's: the pipeline runs again with the map kept, and keeps it from then on.</summary>
public sealed class StackFusionWindowTests
{
    [Fact]
    public void LearnedStack_ConvMapAskedAfterItsReluWasFused_IsTheReference_AndStaysUnfused()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        Stack stack = StackCatalog.Load("learned"); // conv, relu, pool, conv, relu, pool
        var rng = new Random(12_0301);
        var image = Tensor.Chw(1, 40, 48);
        for (int i = 0; i < image.Length; i++) image.Data[i] = (float)rng.NextDouble();
        StackResult cpu = StackRunner.Run(stack, image);
        Assert.Contains(cpu.Outputs[3].Data, v => v < -0.01f); // the second conv's map has negatives for its relu to zero

        using GlContext context = GlContext.CreateHeadless();
        using var pipeline = new StackPipeline(context, "learned");
        pipeline.Input.Upload(image);
        // Frames showing the output: only the last map is read, so both conv -> relu pairs fuse.
        for (int frame = 0; frame < 2; frame++)
        {
            pipeline.Run();
            AssertClose(cpu.Outputs[5], pipeline.LayerOutput(5).Download(), "the output");
        }
        Assert.Contains("+relu]", pipeline.LayerLabel(3));
        Assert.Contains("[fused]", pipeline.LayerLabel(4));

        // The user selects the second conv: its map, asked for once, is computed at once (with negatives), ...
        AssertClose(cpu.Outputs[3], pipeline.LayerOutput(3).Download(), "conv 2 on the frame it was first asked for");
        Assert.DoesNotContain("relu", pipeline.LayerLabel(3));
        Assert.DoesNotContain("fused", pipeline.LayerLabel(4));
        // ... and on the next frames, still asked for, it is kept (the first pair, whose map no one reads, stays fused).
        for (int frame = 0; frame < 2; frame++)
        {
            pipeline.Run();
            Assert.DoesNotContain("relu", pipeline.LayerLabel(3));
            AssertClose(cpu.Outputs[3], pipeline.LayerOutput(3).Download(), "conv 2, kept");
            AssertClose(cpu.Outputs[4], pipeline.LayerInput(5).Download(), "relu 2, the pool's input");
        }
        Assert.Contains("+relu]", pipeline.LayerLabel(0));
    }

    [Fact]
    public void LearnedStack_ShowingItsFirstLayer_RunsOnlyThat_AndALaterMapAskedForIsComputedAtOnce()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        Stack stack = StackCatalog.Load("learned");
        var rng = new Random(12_0302);
        var image = Tensor.Chw(1, 36, 44);
        for (int i = 0; i < image.Length; i++) image.Data[i] = (float)rng.NextDouble();
        StackResult cpu = StackRunner.Run(stack, image);

        using GlContext context = GlContext.CreateHeadless();
        using var pipeline = new StackPipeline(context, "learned");
        var ran = new List<string>();
        pipeline.AfterLayer = i => ran.Add(pipeline.PartName(i));
        pipeline.Input.Upload(image);
        for (int frame = 0; frame < 3; frame++)
        {
            ran.Clear();
            pipeline.Run();
            AssertClose(cpu.Outputs[0], pipeline.LayerOutput(0).Download(), $"layer 1, frame {frame}");
        }
        // Frames after the first: only the shown layer runs (the first ran nothing, then the shown map at once).
        Assert.Equal(["1:conv"], ran);

        // The user switches to the output: computed at once on that frame, every layer run (the first conv, still read this
        // frame, keeps its map; the second's relu is fused into it).
        ran.Clear();
        AssertClose(cpu.Outputs[5], pipeline.LayerOutput(5).Download(), "the output, first asked for");
        Assert.Equal(["1:conv", "2:relu", "3:maxpool", "4:conv+relu", "6:maxpool"], ran);
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected.Data[i] - actual.Data[i]) <= 1e-5f + 1e-4f * MathF.Abs(expected.Data[i]),
                $"{what}, value {i}: reference {expected.Data[i]}, window {actual.Data[i]}");
    }
}
