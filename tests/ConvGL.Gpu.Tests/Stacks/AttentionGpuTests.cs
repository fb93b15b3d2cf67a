using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Gpu.Ops;
using ConvGL.Gpu.Stacks;

namespace ConvGL.Gpu.Tests.Stacks;

/// <summary>attention.comp (<see cref="GpuAttention"/>) against <see cref="Attention.Apply"/>: query sizes that straddle
/// the 64-invocation workgroups (1x1, 5x7, 17x9, 1x65), key maps of another size, query channels on both sides of the
/// register cache (1, 3, 8, 32, 33), value channels on both sides of each vec4 block (1, 3, 4, 5, 16, 17, 33), 4, 2 and 1 queries an invocation with a last
/// invocation part-filled (1, 35, 153 queries), scales
/// that make the softmax flat and sharp (where the running max is replaced often), non-finite logits, and the layer in a
/// stack on the GPU runner, again after a size change.</summary>
[Collection(GlCollection.Name)]
public sealed class AttentionGpuTests(GlFixture fixture)
{
    [Theory]
    [InlineData(1, 1, 1, 1, 1)]
    [InlineData(3, 4, 5, 7, 0)]
    [InlineData(8, 16, 17, 9, 1)]
    [InlineData(32, 17, 1, 65, 2)]
    [InlineData(33, 5, 5, 7, 3)]
    [InlineData(1, 33, 4, 4, 1)]
    [InlineData(8, 3, 9, 8, 2)]
    public void GpuMatchesCpu_OverShapes(int cq, int cv, int hq, int wq, int keySize)
    {
        var rng = new Random(cq * 100 + cv * 10 + hq + wq);
        // Keys at another size than the queries (as behind a pool), at the same size, or a single position.
        (int hk, int wk) = keySize switch { 0 => (hq, wq), 1 => (3, 5), 2 => (1, 1), _ => (9, 2) };
        Tensor q = Parity.Random(rng, cq, hq, wq), k = Parity.Random(rng, cq, hk, wk), v = Parity.Random(rng, cv, hk, wk);
        using var gpu = new GpuAttention(fixture.Context);
        foreach (float scale in new[] { 1 / MathF.Sqrt(cq), 0f, 6f })
            Parity.AssertGpuMatchesReference(Attention.Apply(q, k, v, scale), gpu.Apply(q, k, v, scale), $"q {cq}x{hq}x{wq}, k/v {hk}x{wk}, {cv} value channels, scale {scale}");
    }

    /// <summary>Heads (a dispatch's z): channels a head on both sides of the register cache (1, 4, 33 query channels a head)
    /// and of the vec4 blocks (1, 3, 5, 17 value channels a head: a head's last block part-filled, never reaching into the
    /// next head's channels), 2 to 8 heads, queries 1 to 4 an invocation.</summary>
    [Theory]
    [InlineData(2, 4, 3, 5, 7)]
    [InlineData(3, 1, 1, 9, 8)]
    [InlineData(4, 2, 5, 4, 4)]
    [InlineData(8, 4, 17, 3, 11)]
    [InlineData(2, 33, 4, 6, 5)]
    [InlineData(2, 16, 8, 17, 9)]
    public void Heads_GpuMatchesCpu(int heads, int cqHead, int cvHead, int hq, int wq)
    {
        var rng = new Random(heads * 1000 + cqHead * 10 + cvHead);
        Tensor q = Parity.Random(rng, 0.5f, heads * cqHead, hq, wq), k = Parity.Random(rng, 0.5f, heads * cqHead, 4, 3), v = Parity.Random(rng, heads * cvHead, 4, 3);
        using var gpu = new GpuAttention(fixture.Context);
        foreach (float scale in new[] { 1 / MathF.Sqrt(cqHead), 4f })
        {
            Tensor cpu = Attention.Apply(q, k, v, scale, heads);
            Parity.AssertGpuMatchesReference(cpu, gpu.Apply(q, k, v, scale, heads), $"{heads} heads of {cqHead} / {cvHead} channels, q {hq}x{wq}, scale {scale}");
            // Not the one-head result (the heads really split the channels).
            Assert.NotEqual(Attention.Apply(q, k, v, scale).Data, cpu.Data);
        }
    }

    /// <summary>Query channels read per key (over 32) with many keys: under llvmpipe's loop limit the dot product's loop
    /// counts too (the review: 40 channels over 48x48 keys, 512 over 16x16, every value wrong there).</summary>
    [Theory]
    [InlineData(40, 6, 48, 48)]
    [InlineData(33, 4, 64, 16)]
    [InlineData(512, 4, 16, 16)]
    [InlineData(64, 2, 16, 128)]
    public void ManyQueryChannels_ManyKeys_GpuMatchesCpu(int cq, int cv, int hk, int wk)
    {
        var rng = new Random(cq + hk);
        Tensor q = Parity.Random(rng, 0.3f, cq, 3, 5), k = Parity.Random(rng, 0.3f, cq, hk, wk), v = Parity.Random(rng, cv, hk, wk);
        using var gpu = new GpuAttention(fixture.Context);
        Parity.AssertGpuMatchesReference(Attention.Apply(q, k, v, 0.125f), gpu.Apply(q, k, v, 0.125f), $"q {cq} channels, {hk}x{wk} keys");
    }

    /// <summary>Logits rising key after key (each key's logit the largest so far: the accumulators are rescaled at every
    /// step) and falling (never rescaled), with a spread of 60 between them.</summary>
    [Fact]
    public void GpuMatchesCpu_WhenTheRunningMaxMovesEveryKey()
    {
        int keys = 40;
        Tensor q = Tensor.Chw(1, 1, 2, [1f, -1f]);
        Tensor k = Tensor.Chw(1, 1, keys, Enumerable.Range(0, keys).Select(j => j * 1.5f).ToArray());
        Tensor v = Parity.Random(new Random(3), 5, 1, keys);
        using var gpu = new GpuAttention(fixture.Context);
        Parity.AssertGpuMatchesReference(Attention.Apply(q, k, v, 1f), gpu.Apply(q, k, v, 1f), "rising and falling logits");
    }

    [Fact]
    public void NonFiniteLogits_GiveNaNOrWeightZero_AsTheReference()
    {
        // Query positions: NaN, +inf (times key 1: +inf; NaN times key 0), 1 (finite logits beside a -inf key), -inf.
        Tensor q = Tensor.Chw(1, 1, 4, [float.NaN, float.PositiveInfinity, 1f, float.NegativeInfinity]);
        Tensor k = Tensor.Chw(1, 1, 3, [float.NegativeInfinity, 1f, 2f]);
        Tensor v = Tensor.Chw(2, 1, 3, [5f, 1f, 2f, -5f, 3f, 4f]);
        Tensor cpu = Attention.Apply(q, k, v, 1f);
        using var gpu = new GpuAttention(fixture.Context);
        Tensor g = gpu.Apply(q, k, v, 1f);
        for (int i = 0; i < cpu.Length; i++)
        {
            if (float.IsNaN(cpu.Data[i])) Assert.True(float.IsNaN(g.Data[i]), $"value {i}: reference NaN, GPU {g.Data[i]}");
            else Assert.Equal(cpu.Data[i], g.Data[i], 5);
        }
        // The finite position: keys (-inf, 1, 2) -> weights (0, 1, e) / (1 + e).
        Assert.Equal((1 + 2 * MathF.E) / (1 + MathF.E), g.Data[2], 5);
    }

    [Fact]
    public void InAStack_GpuRunnerMatchesCpu_AcrossASizeChange()
    {
        Stack stack = StackFile.Parse("""
            {"input": "rgb", "layers": [
              {"type": "conv", "name": "x", "kernels": ["sobel-x", "sobel-y", "laplacian", "gaussian:3"], "border": "reflect"},
              {"type": "maxpool", "name": "small", "size": 2, "ceil_mode": true},
              {"type": "conv", "name": "q", "inputs": ["x"], "kernels": ["sobel-x"], "sum": true},
              {"type": "conv", "name": "k", "inputs": ["small"], "kernels": ["sobel-x"], "sum": true},
              {"type": "attention", "name": "att", "inputs": ["q", "k", "small"]},
              {"type": "add", "inputs": ["att", "x"]},
              {"type": "attention", "inputs": ["x", "x", "input"], "scale": 0.3}
            ]}
            """, "attention.json");
        using var runner = new GpuStackRunner(fixture.Context, stack, 6, 9);
        foreach ((int h, int w) in new[] { (6, 9), (2, 3), (7, 5), (17, 9), (6, 9) })
        {
            Tensor image = GpuStackTests.TestImage(3, h, w, seed: h * 31 + w);
            StackResult cpu = StackRunner.Run(stack, image), gpu = runner.Run(image);
            for (int i = 0; i < cpu.Outputs.Count; i++)
                Parity.AssertGpuMatchesReference(cpu.Outputs[i], gpu.Outputs[i], $"layer {i} ({stack.Layers[i].Type}) at {h}x{w}");
        }
    }

    /// <summary>The coords layer on the GPU runner equals the reference exactly at every size the runner goes through
    /// (its coordinates are uploaded when the size changes, copied every run), after a pool and in a two-head attention
    /// whose second head reads them, as the shipped heads stack does.</summary>
    [Fact]
    public void Coords_AndAPositionHead_GpuRunnerMatchesCpu_AcrossSizeChanges()
    {
        Stack stack = StackFile.Parse("""
            {"input": "rgb", "layers": [
              {"type": "avgpool", "name": "pooled", "size": 2},
              {"type": "coords", "name": "where"},
              {"type": "concat", "name": "qk", "inputs": ["pooled", "pooled", "where"]},
              {"type": "attention", "inputs": ["qk", "qk", "qk"], "heads": 4, "scale": 5}
            ]}
            """, "coords.json");
        Assert.Equal("qk", stack.Layers[2].Label);
        using var runner = new GpuStackRunner(fixture.Context, stack, 6, 9);
        foreach ((int h, int w) in new[] { (6, 9), (2, 2), (4, 2), (2, 30), (33, 17), (6, 9) })
        {
            Tensor image = GpuStackTests.TestImage(3, h, w, seed: h * 31 + w);
            StackResult cpu = StackRunner.Run(stack, image), gpu = runner.Run(image);
            Assert.Equal(cpu.Outputs[1].Data, gpu.Outputs[1].Data);
            for (int i = 0; i < cpu.Outputs.Count; i++)
                Parity.AssertGpuMatchesReference(cpu.Outputs[i], gpu.Outputs[i], $"layer {i} ({stack.Layers[i].Type}) at {h}x{w}");
        }
    }
}
