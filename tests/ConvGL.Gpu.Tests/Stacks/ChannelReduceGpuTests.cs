using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Gpu.Stacks;

namespace ConvGL.Gpu.Tests.Stacks;

/// <summary>The `reduce_channels` layer (reduce.comp over the channels) and the broadcasting two-map layers (`mul` with a
/// one-channel gate, `max`, `min`, `pow`, `sub`, `div` against a single channel, one value per channel or one value) on the
/// GPU against the CPU reference, on sizes that straddle the vec4 paths (widths 1, 7, 8, 9, 33; heights 1, 5, 17), channel
/// counts 1, 3 and 17, again after a size change on one runner, and with NaNs in the maps (a NaN wins a max or a min).</summary>
[Collection(GlCollection.Name)]
public sealed class ChannelReduceGpuTests(GlFixture fixture)
{
    // A bank of fixed kernels on each input channel: 1 (gray, one kernel), 3 (RGB, one) or 18 (RGB, six) maps.
    private static Stack Layers(int channels) => StackFile.Parse($$"""
        {"input": "{{(channels == 1 ? "gray" : "rgb")}}", "layers": [
          {"type": "conv", "name": "maps", "kernels": {{(channels == 18 ? "[\"sobel-x\", \"sobel-y\", \"laplacian\", \"sharpen\", \"gaussian:3\", \"scharr-x\"]" : "[\"sobel-x\"]")}}, "border": "reflect"},
          {"type": "reduce_channels", "name": "mean", "op": "mean"},
          {"type": "reduce_channels", "name": "max", "inputs": ["maps"], "op": "max"},
          {"type": "reduce_channels", "name": "min", "inputs": ["maps"], "op": "min"},
          {"type": "reduce_channels", "name": "sum", "inputs": ["maps"], "op": "sum"},
          {"type": "sigmoid", "name": "gate", "inputs": ["max"]},
          {"type": "mul", "name": "gated", "inputs": ["maps", "gate"]},
          {"type": "mul", "name": "gated2", "inputs": ["gate", "maps"]},
          {"type": "max", "inputs": ["maps", "mean"]},
          {"type": "min", "inputs": ["min", "maps"]},
          {"type": "sub", "inputs": ["maps", "mean"]},
          {"type": "div", "inputs": ["gate", "gated"]},
          {"type": "globalavgpool", "name": "each", "inputs": ["maps"]},
          {"type": "globalmaxpool", "name": "top", "inputs": ["mean"]},
          {"type": "pow", "inputs": ["gate", "each"]},
          {"type": "max", "inputs": ["top", "maps"]},
          {"type": "min", "inputs": ["each", "top"]},
          {"type": "mul", "inputs": ["each", "gate"]},
          {"type": "pow", "inputs": ["gate"], "value": 2},
          {"type": "max", "inputs": ["maps"], "value": 0.1},
          {"type": "sub", "inputs": ["each"], "value": -1.5}
        ]}
        """, "reduce.json");

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(18)]
    public void ChannelReductions_AndBroadcasts_GpuMatchesCpu(int channels)
    {
        Stack stack = Layers(channels);
        Assert.Equal(channels, stack.Layers[0].OutputChannels(channels == 1 ? 1 : 3, out _));
        using var runner = new GpuStackRunner(fixture.Context, stack, 5, 8);
        foreach ((int h, int w) in new[] { (5, 8), (1, 1), (5, 7), (17, 9), (1, 33), (5, 8) })
        {
            Tensor image = GpuStackTests.TestImage(channels == 1 ? 1 : 3, h, w, seed: h * 40 + w);
            StackResult cpu = StackRunner.Run(stack, image), gpu = runner.Run(image);
            for (int i = 0; i < cpu.Outputs.Count; i++)
                Parity.AssertGpuMatchesReference(cpu.Outputs[i], gpu.Outputs[i], $"layer {i} ({stack.Layers[i].Type} '{stack.Layers[i].Label}') at {channels} channels, {h}x{w}");
        }
    }

    /// <summary>NaNs in the maps: each pixel's max and min over the channels is NaN where one of its values is (the CPU's
    /// Reduce and the GPU's reduce.comp alike), and so is a max or min of two maps.</summary>
    [Fact]
    public void NaNs_WinChannelMaxAndMin_OnTheGpuToo()
    {
        Stack stack = StackFile.Parse("""
            {"input": "rgb", "layers": [
              {"type": "log", "name": "maps"},
              {"type": "reduce_channels", "op": "max"},
              {"type": "reduce_channels", "inputs": ["maps"], "op": "min"},
              {"type": "max", "inputs": ["maps", 1]},
              {"type": "min", "inputs": [2, "maps"]}
            ]}
            """, "nan.json");
        using var runner = new GpuStackRunner(fixture.Context, stack, 3, 9);
        Tensor image = GpuStackTests.TestImage(3, 3, 9, seed: 5);
        // log of a negative value is NaN: a few pixels in one channel each.
        image.Data[4] = -1f;
        image.Data[27 + 10] = -2f;
        image.Data[54 + 26] = -0.5f;
        StackResult cpu = StackRunner.Run(stack, image), gpu = runner.Run(image);
        Assert.True(float.IsNaN(cpu.Outputs[1].Data[4]) && float.IsNaN(cpu.Outputs[2].Data[10]) && float.IsNaN(cpu.Outputs[1].Data[26]));
        for (int i = 0; i < cpu.Outputs.Count; i++)
        {
            // NaN where the reference has NaN, the rest within the parity tolerance.
            Tensor want = cpu.Outputs[i].Clone(), got = gpu.Outputs[i].Clone();
            for (int k = 0; k < want.Length; k++)
            {
                Assert.True(float.IsNaN(want.Data[k]) == float.IsNaN(got.Data[k]), $"layer {i} ({stack.Layers[i].Type}) value {k}: reference {want.Data[k]}, GPU {got.Data[k]}");
                if (float.IsNaN(want.Data[k])) want.Data[k] = got.Data[k] = 0f;
            }
            Parity.AssertGpuMatchesReference(want, got, $"layer {i} ({stack.Layers[i].Type})");
        }
    }
}

/// <summary>Reductions of long lines in two passes (<see cref="Ops.GpuReduce.ChunkAbove"/>): a mean, sum, max and min
/// over 70,001 values (past llvmpipe's 65,535-iteration loop limit, not a multiple of the 256-value chunk) with the kept
/// values one apart (inner 1) and three apart (inner 3: the reduced axis in the middle), a NaN reaching the max and min,
/// and a global max pool of a 300x420 map in a stack (CBAM's channel attention at full size): GPU == CPU.</summary>
[Collection(GlCollection.Name)]
public sealed class LongReductionGpuTests(GlFixture fixture)
{
    [Theory]
    [InlineData(ReduceKind.Mean, 1)]
    [InlineData(ReduceKind.Sum, 1)]
    [InlineData(ReduceKind.Max, 3)]
    [InlineData(ReduceKind.Min, 3)]
    [InlineData(ReduceKind.Mean, 3)]
    public void LongLines_TwoPasses_MatchTheReference(ReduceKind kind, int inner)
    {
        const int count = 70001, outer = 2;
        var rng = new Random(count + inner);
        Tensor x = Parity.Random(rng, outer, count, inner);
        // Values far from zero, so the mean's float32 partial sums are checked against a mean that is not ~0.
        for (int i = 0; i < x.Length; i++) x.Data[i] += 2f;
        using var reduce = new Ops.GpuReduce(fixture.Context, kind);
        using var input = GpuTensor.From(fixture.Context, x);
        using var result = new GpuTensor(fixture.Context);
        reduce.Run(input, result, outer, count, inner, (outer, 1, inner));
        Assert.Equal("two passes of 256-value chunks", reduce.Variant);
        Tensor want = Reduce.Apply(x, kind, [1], keepDims: true);
        Parity.AssertGpuMatchesReference(want, result.Download(), $"{kind} over {count} values, inner {inner}");
        if (kind is ReduceKind.Max or ReduceKind.Min)
        {
            // A NaN in line (1, 2) at the last value (the short last chunk): that output alone is NaN.
            x.Data[(1 * count + count - 1) * inner + 2] = float.NaN;
            input.Upload(x);
            reduce.Run(input, result, outer, count, inner, (outer, 1, inner));
            float[] got = result.Download().Data;
            Assert.True(float.IsNaN(got[1 * inner + 2]), $"{kind}: {got[1 * inner + 2]} where a NaN was");
            Assert.Equal(inner * outer - 1, got.Count(v => !float.IsNaN(v)));
        }
    }

    /// <summary>L2 scales each line by its largest |x| so that squares near float's top do not overflow; the division by
    /// that scale is exact here, but GLSL promises division only for divisors up to 2^126 (~8.5e37), and an approximate
    /// reciprocal there is 0 (an NVIDIA-portability review): the shader scales both sides by 2^-64 first for scales above
    /// 2^100. Lines with a largest |x| of 2e38, 1e38, 9e37 (past 2^126), 1e30 and 3 (the plain path) against the
    /// reference, and one whose L2 (4.2e38) overflows to +inf in float32 as the reference's double result does when cast.</summary>
    [Fact]
    public void L2_OfValuesNearFloatsTop_MatchesTheReference()
    {
        float[][] lines =
        [
            [2e38f, 1e38f, 0f, -1e38f], [1e38f, 1e38f, 1e38f, 1e38f], [9e37f, -4e37f, 1e-30f, 2e37f],
            [1e30f, 1e30f, -2e29f, 0f], [3f, 4f, 0f, 0f], [3e38f, -3e38f, 0f, 0f],
        ];
        var x = new Tensor([lines.Length, 4, 1], lines.SelectMany(l => l).ToArray());
        using var reduce = new Ops.GpuReduce(fixture.Context, ReduceKind.L2);
        using var input = GpuTensor.From(fixture.Context, x);
        using var result = new GpuTensor(fixture.Context);
        reduce.Run(input, result, lines.Length, 4, 1, (lines.Length, 1, 1));
        float[] got = result.Download().Data, want = Reduce.Apply(x, ReduceKind.L2, [1], keepDims: true).Data;
        Assert.Equal(Math.Sqrt(6) * 1e38, want[0], 1e-6 * 2.5e38); // sqrt(4 + 1 + 1) x 1e38
        Assert.Equal(2e38f, want[1], 1e-6 * 2e38);
        Assert.Equal(5f, want[4]);
        Assert.Equal(float.PositiveInfinity, want[5]); // sqrt(18) x 1e38 is past float's top
        for (int i = 0; i < lines.Length; i++)
            Assert.True(float.IsInfinity(want[i]) ? got[i] == want[i] : Math.Abs(got[i] - want[i]) <= 1e-6 * Math.Abs(want[i]),
                $"line {i}: GPU {got[i]:R}, reference {want[i]:R}");
    }

    /// <summary>Short lines (a reduction over 5 channels) of kept values that come in fours (inner 12: 4 per invocation
    /// through an rgba32f view) and that do not (inner 10: one), a NaN reaching only its own output.</summary>
    [Theory]
    [InlineData(ReduceKind.Mean)]
    [InlineData(ReduceKind.Sum)]
    [InlineData(ReduceKind.Max)]
    [InlineData(ReduceKind.Min)]
    public void ShortLines_FourKeptValuesAnInvocation_MatchTheReference(ReduceKind kind)
    {
        using var reduce = new Ops.GpuReduce(fixture.Context, kind);
        using var result = new GpuTensor(fixture.Context);
        foreach (int inner in new[] { 12, 10 })
        {
            Tensor x = Parity.Random(new Random(inner), 2, 5, inner);
            x.Data[(1 * 5 + 3) * inner + 7] = float.NaN;
            using var input = GpuTensor.From(fixture.Context, x);
            reduce.Run(input, result, 2, 5, inner, (2, 1, inner));
            Assert.Equal(inner % 4 == 0 ? "one pass, 4 values an invocation" : "one pass", reduce.Variant);
            float[] got = result.Download().Data, want = Reduce.Apply(x, kind, [1], keepDims: true).Data;
            Assert.True(float.IsNaN(got[inner + 7]), $"{kind}, inner {inner}: {got[inner + 7]} where a NaN was");
            got[inner + 7] = want[inner + 7] = 0f;
            Parity.AssertGpuMatchesReference(new Tensor([2, 1, inner], want), new Tensor([2, 1, inner], got), $"{kind}, inner {inner}");
        }
    }

    [Fact]
    public void GlobalPoolsOfABigMap_InAStack_MatchTheCpu()
    {
        Stack stack = StackFile.Parse("""
            {"input": "rgb", "layers": [
              {"type": "globalmaxpool", "name": "top"},
              {"type": "globalavgpool", "name": "mean", "inputs": ["input"]},
              {"type": "mul", "inputs": ["input", "top"]},
              {"type": "reduce_channels", "name": "least", "inputs": ["input"], "op": "min"},
              {"type": "globalmaxpool", "inputs": ["least"]}
            ]}
            """, "big.json");
        using var runner = new GpuStackRunner(fixture.Context, stack, 300, 420);
        Tensor image = GpuStackTests.TestImage(3, 300, 420, seed: 7);
        StackResult cpu = StackRunner.Run(stack, image), gpu = runner.Run(image);
        for (int i = 0; i < cpu.Outputs.Count; i++)
            Parity.AssertGpuMatchesReference(cpu.Outputs[i], gpu.Outputs[i], $"layer {i} ({stack.Layers[i].Type}) at 3x300x420");
    }
}

/// <summary>A (1, H, W) plane against a (C, H, W) map (<see cref="Ops.GpuAdd.RunMaps"/>): add.comp's plane program, on
/// either side, with 4 values a fetch where the plane is a multiple of 4 (8x5) and one where it is not (7x3), for every
/// op the broadcasting layers use, equal to the reference; a (C, 1, 1) against (1, H, W) pair takes the general program.</summary>
[Collection(GlCollection.Name)]
public sealed class PlaneBroadcastGpuTests(GlFixture fixture)
{
    [Theory]
    [InlineData(BinaryKind.Mul)]
    [InlineData(BinaryKind.Sub)]
    [InlineData(BinaryKind.Div)]
    [InlineData(BinaryKind.Max)]
    [InlineData(BinaryKind.Min)]
    [InlineData(BinaryKind.Pow)]
    public void APlaneOverEveryChannel_EitherSide_MatchesTheReference(BinaryKind kind)
    {
        using var op = new Ops.GpuAdd(fixture.Context, kind);
        using var result = new GpuTensor(fixture.Context);
        foreach ((int c, int h, int w) in new[] { (5, 8, 5), (3, 7, 3), (1, 4, 4) })
        {
            var rng = new Random(c * 100 + h * 10 + w);
            // Positive values: pow's base and div's divisor away from 0.
            Tensor map = Parity.Random(rng, c, h, w), plane = Parity.Random(rng, 1, h, w);
            for (int i = 0; i < map.Length; i++) map.Data[i] = 0.5f + Math.Abs(map.Data[i]);
            for (int i = 0; i < plane.Length; i++) plane.Data[i] = 0.5f + Math.Abs(plane.Data[i]);
            using var gm = GpuTensor.From(fixture.Context, map);
            using var gp = GpuTensor.From(fixture.Context, plane);
            foreach (bool planeFirst in new[] { false, true })
            {
                (GpuTensor a, GpuTensor b) = planeFirst ? (gp, gm) : (gm, gp);
                op.RunMaps(a, b, result);
                if (c == 1) Assert.StartsWith("same shape", op.Variant);
                else Assert.Equal(h * w % 4 == 0 ? "a plane over every channel: vec4" : "a plane over every channel: 1 value", op.Variant);
                Tensor want = Elementwise.Apply(kind, planeFirst ? plane : map, planeFirst ? map : plane);
                Parity.AssertGpuMatchesReference(want, result.Download(), $"{kind} {(planeFirst ? "plane first" : "plane second")} at {c}x{h}x{w}");
            }
        }
        // A map and one value (x^2, max(x, 0.5)): 4 values a fetch where the count allows (3x8x5), one where it does not (3x7x3).
        using var value = GpuTensor.From(fixture.Context, Tensor.Chw(1, 1, 1, [kind == BinaryKind.Pow ? 2f : 0.75f]));
        foreach ((int c, int h, int w) in new[] { (3, 8, 5), (3, 7, 3) })
        {
            Tensor map = Parity.Random(new Random(h * w), c, h, w);
            for (int i = 0; i < map.Length; i++) map.Data[i] = 0.5f + Math.Abs(map.Data[i]);
            using var gm = GpuTensor.From(fixture.Context, map);
            op.RunMaps(gm, value, result);
            Assert.Equal(c * h * w % 4 == 0 ? "a map and one value: vec4" : "a map and one value: 1 value", op.Variant);
            Parity.AssertGpuMatchesReference(Elementwise.Apply(kind, map, Tensor.Chw(1, 1, 1, [kind == BinaryKind.Pow ? 2f : 0.75f])), result.Download(), $"{kind} with one value at {c}x{h}x{w}");
        }
        // Per channel against a plane: both broadcast, the general program.
        using var perChannel = GpuTensor.From(fixture.Context, Tensor.Chw(3, 1, 1, [1f, 2f, 3f]));
        using var row = GpuTensor.From(fixture.Context, Tensor.Chw(1, 2, 2, [1f, 0.5f, 2f, 4f]));
        op.RunMaps(perChannel, row, result);
        Assert.Equal("broadcast", op.Variant);
        Parity.AssertGpuMatchesReference(Elementwise.Apply(kind, Tensor.Chw(3, 1, 1, [1f, 2f, 3f]), Tensor.Chw(1, 2, 2, [1f, 0.5f, 2f, 4f])), result.Download(), $"{kind} (3,1,1) with (1,2,2)");
    }
}
