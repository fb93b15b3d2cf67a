using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>llvmpipe before Mesa 23 (Debian 12's 22.3, which CI installs) leaves every loop of a shader invocation once
/// 65,535 back-edges have been spent across all of its loops, silently (gallivm's loop limiter): a longer reduction
/// gives a wrong number. <see cref="GlContext.LoopLimit"/> measures it; ops whose loops could pass it either stay under
/// it (gemm: 8 terms a pass) or refuse with a clear error instead of a wrong result. Where the driver has no limit (a
/// GPU, a newer Mesa) the same shapes must simply match the reference.</summary>
[Collection(GlCollection.Name)]
public sealed class LoopLimitTests(GlFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public void LoopLimit_IsMesa22sLimiter_OrNone()
    {
        GlContext ctx = fixture.Context;
        output.WriteLine($"{ctx.Description}: loop limit {ctx.LoopLimit?.ToString() ?? "none"}");
        if (!ctx.IsSoftware) Assert.Null(ctx.LoopLimit);
        // Debian 12's llvmpipe, what CI runs: the probe must find the limiter there.
        if (ctx.Description.Contains("Mesa 22.", StringComparison.Ordinal) && ctx.IsSoftware) Assert.Equal(65535L, ctx.LoopLimit);
        if (ctx.LoopLimit is long limit) Assert.InRange(limit, 1000L, 69999L);
    }

    [Fact]
    public void Gemm_InnerSizeAboveTheLimit_MatchesTheReference()
    {
        // K = 70,000: one loop of K passes would stop at 65,535 on Mesa 22's llvmpipe (the last 4,465 products lost);
        // 8 terms a pass needs 8,750.
        var rng = new Random(70000);
        const int k = 70000;
        Tensor a = Parity.Random(rng, 1, 1, k).Reshape(1, k), b = Parity.Random(rng, 1, k, 3).Reshape(k, 3);
        for (int i = k - 4000; i < k; i++) a.Data[i] = 1f; // the tail a cut loop would drop weighs a lot
        using var gemm = new GpuGemm(fixture.Context);
        Tensor expected = Gemm.Apply(a, b, null, 1f, 1f, false, false), actual = gemm.Apply(a, b, null);
        double scale = 0;
        for (int i = 0; i < k; i++) scale += Math.Abs(a.Data[i]) * (Math.Abs(b.Data[3 * i]) + Math.Abs(b.Data[3 * i + 1]) + Math.Abs(b.Data[3 * i + 2]));
        for (int j = 0; j < 3; j++)
            Assert.True(Math.Abs(expected.Data[j] - actual.Data[j]) <= 1e-5 * scale, $"column {j}: CPU {expected.Data[j]}, GPU {actual.Data[j]}");
    }

    [Fact]
    public void ReduceUnderTheLimit_Runs_OnEveryDriver()
    {
        // One pass over 50,000 values stays under 65,535 (only L2 and log-sum-exp take two): no refusal, the reference's sum.
        var rng = new Random(50000);
        Tensor x = Parity.Random(rng, 1, 1, 50000);
        using var reduce = new GpuReduce(fixture.Context, ReduceKind.Sum);
        using var input = GpuTensor.From(fixture.Context, x);
        using var result = new GpuTensor(fixture.Context);
        reduce.Run(input, result, 1, 50000, 1, (1, 1, 1));
        float want = Reduce.Apply(x.Reshape(50000), ReduceKind.Sum, [0], keepDims: true).Data[0], got = result.Download().Data[0];
        Assert.True(Math.Abs(want - got) <= 1e-5 * x.Data.Sum(v => Math.Abs((double)v)), $"CPU {want}, GPU {got}");
    }

    [Fact]
    public void OpsBeyondTheLimit_RefuseClearly_OrMatchTheReference()
    {
        GlContext ctx = fixture.Context;
        var rng = new Random(65536);

        // A sum over 40,000 values (two passes at most: 80,000 iterations for L2).
        Tensor x = Parity.Random(rng, 1, 1, 40000);
        using (var reduce = new GpuReduce(ctx, ReduceKind.L2))
        using (var input = GpuTensor.From(ctx, x))
        using (var result = new GpuTensor(ctx))
            Expect(ctx, "reduce", () => { reduce.Run(input, result, 1, 40000, 1, (1, 1, 1)); return result.Download(); },
                () => Reduce.Apply(x.Reshape(40000), ReduceKind.L2, [0], keepDims: true).Reshape(1, 1, 1), 1e-5);

        // Softmax over an axis of 30,000 (three passes: 90,000).
        Tensor s = Parity.Random(rng, 4f, 30000);
        using (var softmax = new GpuSoftmax(ctx, log: false))
            Expect(ctx, "softmax", () => softmax.Apply(s, 1, 30000, 1), () => Softmax.Apply(s, 1, 30000, 1, false), 1e-5);

        // A 300x300 max pool window (300 x 301 passes).
        Tensor plane = Parity.Random(rng, 1, 300, 300);
        var pool = new PoolOptions { Kind = PoolKind.Max, SizeY = 300, SizeX = 300 };
        using (var gpuPool = new GpuPool2D(ctx, pool))
            Expect(ctx, "pool2d", () => gpuPool.Apply(plane), () => Pool2D.Apply(plane, pool), 0);

        // A direct conv with a 200x200 kernel (two loop nests of 200 x 201).
        Tensor image = Parity.Random(rng, 1, 210, 210), kernel = Parity.Random(rng, 1e-4f, 1, 1, 200, 200);
        var conv = new ConvOptions { Border = Border.Zero, Padding = PaddingMode.Valid };
        using (var gpuConv = new GpuConv2D(ctx, kernel, null, conv) { Choice = ConvPath.Direct })
            Expect(ctx, "conv2d", () => gpuConv.Apply(image), () => Conv2D.Apply(image, kernel, null, conv), 1e-4);

        // Attention with 40 query channels (read per key, 8 channels an iteration: 6 iterations a key) over 128x96 keys:
        // 73,728 (the review: it counted the keys alone and gave wrong numbers past 48x48 keys on llvmpipe).
        Tensor q = Parity.Random(rng, 40, 2, 3), k = Parity.Random(rng, 40, 128, 96), v = Parity.Random(rng, 3, 128, 96);
        using (var attention = new GpuAttention(ctx))
            Expect(ctx, "attention", () => attention.Apply(q, k, v, 0.2f), () => Attention.Apply(q, k, v, 0.2f), 1e-5);
    }

    /// <summary>The other guarded ops, each at the smallest shape past 65,535 iterations of its estimate (their plans
    /// forced where the automatic one would not loop that long): refused on a limited driver, the reference elsewhere.</summary>
    [Fact]
    public void NormsPoolsAndTransposedConvsBeyondTheLimit_RefuseClearly_OrMatchTheReference()
    {
        GlContext ctx = fixture.Context;
        var rng = new Random(65537);

        // Layer norm over rows of 1,400,000 values: 3 passes of 21,875 strides + 16 = 65,641.
        const int row = 1_400_000;
        var layer = new LayerNorm(Parity.RandomVector(rng, 2f, row), Parity.RandomVector(rng, 1f, row), 1e-5f);
        Tensor rowInput = Parity.Random(rng, 1, 1, row);
        using (var gpuLayer = new GpuLayerNorm(ctx, layer))
            Expect(ctx, "layernorm", () => gpuLayer.Apply(rowInput), () => layer.Apply(rowInput), 1e-4);

        // Instance norm's workgroup per plane (forced: the automatic plan takes chunked statistics) on a plane of
        // 1,000 x 1,400 values: the same 65,641.
        var instance = new InstanceNorm([1.5f], [0.25f], 1e-5f);
        Tensor plane = Parity.Random(rng, 1, 1000, 1400);
        using (var gpuInstance = new GpuInstanceNorm(ctx, instance) { Choice = ConvPath.Direct })
            Expect(ctx, "instancenorm", () => gpuInstance.Apply(plane), () => instance.Apply(plane, plane.Length), 1e-4);

        // Global average pool's workgroup per plane (forced) on 2,048 x 2,049: 65,568 + 8 strides.
        Tensor big = Parity.Random(rng, 1, 2048, 2049);
        using (var gpuGlobal = new GpuGlobalAveragePool(ctx) { Choice = ConvPath.Direct })
            Expect(ctx, "global average pool", () => gpuGlobal.Apply(big), () => GlobalAveragePool.Apply(big), 1e-4);

        // The automatic global average pool on 2,900 x 2,900 (8,410,000 values): chunked statistics whose combining pass
        // walks 32,852 chunks twice.
        Tensor huge = Parity.Random(rng, 1, 2900, 2900);
        using (var gpuChunked = new GpuGlobalAveragePool(ctx))
            Expect(ctx, "plane statistics", () => gpuChunked.Apply(huge), () => GlobalAveragePool.Apply(huge), 1e-4);

        // The direct transposed conv (forced) with 2 input channels of a 200x200 kernel: 2 x 200 x 201 + 2 = 80,402;
        // padding crops the 200x200 output to 2x2.
        Tensor x = Parity.Random(rng, 2, 1, 1), weight = Parity.Random(rng, 2, 1, 200, 200);
        var transpose = new ConvTransposeOptions { PadTop = 99, PadLeft = 99, PadBottom = 99, PadRight = 99 };
        using (var gpuTranspose = new GpuConvTranspose2D(ctx, weight, null, transpose) { Choice = ConvPath.Direct })
            Expect(ctx, "conv_transpose", () => gpuTranspose.Apply(x), () => ConvTranspose2D.Apply(x, weight, null, transpose), 1e-5);
    }

    /// <summary>On a driver with a loop limit, <paramref name="gpu"/> must refuse with the one-line error naming
    /// <paramref name="op"/>; elsewhere it must match <paramref name="cpu"/> within <paramref name="tolerance"/> of the
    /// reference's largest |value|.</summary>
    private void Expect(GlContext ctx, string op, Func<Tensor> gpu, Func<Tensor> cpu, double tolerance)
    {
        if (ctx.LoopLimit is not null)
        {
            var e = Assert.Throws<GpuException>(() => gpu());
            output.WriteLine(e.Message);
            Assert.StartsWith(op + ":", e.Message, StringComparison.Ordinal);
            Assert.Contains("loop iterations", e.Message, StringComparison.Ordinal);
            Assert.Contains("--device cpu", e.Message, StringComparison.Ordinal);
            return;
        }
        Tensor want = cpu(), got = gpu();
        double scale = Math.Max(1e-6, want.Data.Max(v => Math.Abs((double)v)));
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want.Data[i] - got.Data[i]) <= tolerance * scale, $"{op} [{i}]: CPU {want.Data[i]}, GPU {got.Data[i]}");
    }
}
