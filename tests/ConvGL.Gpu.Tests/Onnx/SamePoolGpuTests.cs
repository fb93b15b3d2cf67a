using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu.Ops;
using ConvGL.Gpu.Stacks;

namespace ConvGL.Gpu.Tests.Onnx;

/// <summary>Pools with auto_pad SAME_UPPER / SAME_LOWER on the GPU (GpuPaddedPool2D takes the pads its geometry resolves
/// for each input size) == the CPU reference; as stack layers on the GPU stack runner, including the official cases.</summary>
[Collection(GlCollection.Name)]
public sealed class SamePoolGpuTests(GlFixture fixture)
{
    [Fact]
    public void SamePool_Sweep_MatchesReference()
    {
        var rng = new Random(77);
        (int H, int W)[] sizes = [(1, 1), (1, 6), (5, 4), (9, 7), (18, 17), (33, 25)];
        using var pool = new GpuPaddedPool2D(fixture.Context, new PaddedPoolOptions());
        for (int n = 0; n < 80; n++)
        {
            (int h, int w) = sizes[n % sizes.Length];
            var o = new PaddedPoolOptions
            {
                Kind = rng.Next(2) == 0 ? PoolKind.Max : PoolKind.Average,
                Padding = rng.Next(2) == 0 ? PaddingMode.SameUpper : PaddingMode.SameLower,
                SizeY = rng.Next(1, 5), SizeX = rng.Next(1, 5), DilationY = rng.Next(1, 3), DilationX = rng.Next(1, 3),
                StrideY = rng.Next(1, 4), StrideX = rng.Next(1, 4),
                CeilMode = rng.Next(2) == 0, CountIncludePad = rng.Next(2) == 0,
            };
            int c = rng.Next(1, 6);
            Tensor input = Parity.Random(new Random(n), c, h, w);
            if (Refusal(() => PaddedPool2D.Apply(input, o)) is { } refused)
            {
                // A dilated window of padding alone on a small map: both sides refuse it alike.
                Assert.Contains("holds padding alone", refused);
                pool.Options = o;
                Assert.Equal(refused, Refusal(() => pool.Apply(input)));
                continue;
            }
            Tensor expected = PaddedPool2D.Apply(input, o);
            Assert.Equal([c, (h + o.StrideY - 1) / o.StrideY, (w + o.StrideX - 1) / o.StrideX], expected.Shape);
            pool.Options = o;
            Parity.AssertGpuMatchesReference(expected, pool.Apply(input), $"in=({c},{h},{w}) {o}");
        }
    }

    private static string? Refusal(Func<Tensor> run)
    {
        try
        {
            run();
            return null;
        }
        catch (ConvGLException e)
        {
            return e.Message;
        }
    }

    [Fact]
    public void SamePoolStack_GpuStackRunner_MatchesCpu_AtSeveralSizes()
    {
        Stack stack = OnnxStack.FromGraph(SmallGraphs.SamePools(), "samepools");
        foreach ((int h, int w) in new[] { (7, 9), (8, 8), (1, 3), (20, 13) })
        {
            Tensor x = Parity.Random(new Random(h * w), 3, h, w);
            using var runner = new GpuStackRunner(fixture.Context, stack, h, w);
            StackResult cpu = StackRunner.Run(stack, x), gpu = runner.Run(x);
            for (int i = 0; i < stack.Layers.Count; i++)
                Parity.AssertGpuMatchesReference(cpu.Outputs[i], gpu.Outputs[i], $"{h}x{w} layer {i} ({stack.Layers[i].Type})");
        }
    }

    public static TheoryData<string> Cases => new(OnnxCases.SamePools);

    [Theory]
    [MemberData(nameof(Cases))]
    public void OfficialSamePoolCase_ImportedAsAStack_PassesOnTheGpu(string name)
    {
        OnnxTestCase c = OnnxTestCase.Load(OnnxCases.Dir(name));
        OnnxTestResult r = c.Run(OnnxCases.AsStack((stack, x) =>
        {
            using var runner = new GpuStackRunner(fixture.Context, stack, x.H, x.W);
            return runner.Run(x).Outputs[^1];
        }));
        Assert.True(r.Passed, $"{name}: {r.Detail}");
    }
}
