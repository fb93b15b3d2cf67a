using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Ops;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu.Onnx;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests.Onnx;

/// <summary>The GPU side of the ONNX import: every supported official node case on the GPU runner, and each new
/// op's shader swept against its CPU reference.</summary>
[Collection(GlCollection.Name)]
public sealed class OnnxGpuTests(GlFixture fixture)
{
    public static TheoryData<string> Cases => new(OnnxCases.Supported);

    [Theory]
    [MemberData(nameof(Cases))]
    public void NodeCase_PassesOnTheGpu(string name) => AssertPassesOnTheGpu(OnnxCases.Dir(name), name);

    private void AssertPassesOnTheGpu(string dir, string name)
    {
        GlContext context = fixture.Context;
        OnnxTestResult r = OnnxTestCase.Load(dir).Run((graph, inputs) =>
        {
            using var runner = new GpuOnnxRunner(context, graph);
            return runner.Run(inputs);
        });
        Assert.True(r.Passed, $"{name}: {r.Detail}");
    }

    public static TheoryData<string> PyTorchCases => new(OnnxCases.PyTorchConverted.Concat(OnnxCases.PyTorchOperator).ToArray());

    /// <summary>PyTorch exports with batches of 2: the conv runs image by image, the rest on (N*C, H, W) storage.</summary>
    [Theory]
    [MemberData(nameof(PyTorchCases))]
    public void PyTorchConvertedCase_PassesOnTheGpu(string name) => AssertPassesOnTheGpu(OnnxCases.PyTorchCase(name), name);

    /// <summary>NaN and infinities through both shaders, as the reference has them: a NaN in a max window is the output
    /// (and only in the windows that hold it), +inf wins a max and makes an average +inf, +inf and -inf in one average
    /// window give NaN; padding is never a NaN's neighbour (taps outside the image are dropped, not read).</summary>
    [Theory]
    [InlineData("direct", PoolKind.Max)]
    [InlineData("fast", PoolKind.Max)]
    [InlineData("direct", PoolKind.Average)]
    [InlineData("fast", PoolKind.Average)]
    public void PaddedPool_SpecialValues_MatchReference(string shader, PoolKind kind)
    {
        Tensor input = Parity.Random(new Random(7), 2, 6, 19);
        input[0, 0, 0] = float.NaN;        // the corner: windows that pad around it
        input[0, 3, 9] = float.PositiveInfinity;
        input[0, 3, 10] = float.NegativeInfinity;
        input[1, 5, 18] = float.NaN;       // the far corner
        input[1, 2, 4] = float.NegativeInfinity;
        var o = new PaddedPoolOptions
        {
            Kind = kind, SizeY = 3, SizeX = 3, StrideY = 2, StrideX = 2, PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1,
            CountIncludePad = kind == PoolKind.Average,
        };
        Tensor expected = PaddedPool2D.Apply(input, o);
        using var pool = new GpuPaddedPool2D(fixture.Context, o) { Choice = shader == "fast" ? ConvPath.Fast : ConvPath.Direct };
        Tensor actual = pool.Apply(input);
        Assert.Equal(shader == "fast", pool.Variant.StartsWith("padded_pool2d_fast", StringComparison.Ordinal));
        Assert.Equal(expected.Data.Select(float.IsNaN), actual.Data.Select(float.IsNaN));
        Assert.Equal(expected.Data.Select(float.IsPositiveInfinity), actual.Data.Select(float.IsPositiveInfinity));
        Assert.Equal(expected.Data.Select(float.IsNegativeInfinity), actual.Data.Select(float.IsNegativeInfinity));
        Assert.Contains(actual.Data, float.IsNaN); // the case is not vacuous
        Parity.AssertGpuMatchesReference(
            new Tensor(expected.Shape, [.. expected.Data.Select(v => float.IsFinite(v) ? v : 0f)]),
            new Tensor(actual.Shape, [.. actual.Data.Select(v => float.IsFinite(v) ? v : 0f)]), $"{shader} {kind}");
    }

    /// <summary>Both shaders (padded_pool2d.comp, and padded_pool2d_fast.comp forced wherever it applies) against the
    /// reference over random windows, strides, dilations, pads, ceil_mode and count_include_pad; widths straddle the fast
    /// shader's 8 outputs per invocation.</summary>
    [Theory]
    [InlineData("direct")]
    [InlineData("fast")]
    public void PaddedPool_Sweep_MatchesReference(string shader)
    {
        var rng = new Random(1212);
        // Widths of whole vec4s (4, 8, 16, 36, 64) give the fast shader's rgba32f loads, and its vec4 stores where the
        // output's are too.
        (int H, int W)[] sizes = [(1, 1), (5, 4), (9, 7), (18, 17), (33, 25), (3, 41), (12, 64), (7, 8), (6, 16), (10, 36)];
        using var pool = new GpuPaddedPool2D(fixture.Context, new PaddedPoolOptions());
        pool.Choice = shader == "fast" ? ConvPath.Fast : ConvPath.Direct;
        int ran = 0, fast = 0, vec4Loads = 0, vec4Stores = 0, wideStores = 0;
        for (int n = 0; n < 160; n++)
        {
            (int h, int w) = sizes[rng.Next(sizes.Length)];
            int ky = rng.Next(1, 5), kx = rng.Next(1, 5), dy = rng.Next(1, 3), dx = rng.Next(1, 3);
            int spanY = dy * (ky - 1) + 1, spanX = dx * (kx - 1) + 1;
            var o = new PaddedPoolOptions
            {
                Kind = rng.Next(2) == 0 ? PoolKind.Max : PoolKind.Average,
                SizeY = ky, SizeX = kx, DilationY = dy, DilationX = dx,
                StrideY = rng.Next(1, 4), StrideX = rng.Next(1, 4),
                PadTop = rng.Next(0, spanY), PadLeft = rng.Next(0, spanX), PadBottom = rng.Next(0, spanY), PadRight = rng.Next(0, spanX),
                CeilMode = rng.Next(2) == 0, CountIncludePad = rng.Next(2) == 0,
            };
            int c = rng.Next(1, 6);
            Tensor input = Parity.Random(new Random(n), c, h, w);
            Tensor expected;
            try
            {
                expected = PaddedPool2D.Apply(input, o);
            }
            catch (ConvGLException)
            {
                continue; // window longer than the padded input: no output to compare
            }
            pool.Options = o;
            Parity.AssertGpuMatchesReference(expected, pool.Apply(input), $"in=({c},{h},{w}) {o} {pool.Variant}");
            ran++;
            if (pool.Variant.StartsWith("padded_pool2d_fast", StringComparison.Ordinal)) fast++;
            if (pool.Variant.Contains("vec4 loads", StringComparison.Ordinal)) vec4Loads++;
            if (pool.Variant.Contains("vec4 stores", StringComparison.Ordinal) || pool.Variant.Contains("32-byte stores", StringComparison.Ordinal)) vec4Stores++;
            if (pool.Variant.Contains("32-byte stores", StringComparison.Ordinal)) wideStores++;
            // The one-output shader reads through the texel view wherever the input fits it (every input here).
            Assert.True(fast > 0 || pool.Variant.EndsWith("texel view", StringComparison.Ordinal), pool.Variant);
        }
        Assert.True(ran >= 80, $"only {ran} of 160 random configurations had an output");
        // Forced fast, every window here fits its span (at most 7 * 3 + 3 * 2 + 1 = 28 inputs); forced direct, none runs it.
        Assert.Equal(shader == "fast" ? ran : 0, fast);
        if (shader == "fast") Assert.True(vec4Loads >= 20 && vec4Stores >= 10 && (wideStores >= 3 || !fixture.Context.WideStores),
            $"vec4 loads {vec4Loads}, vec4 or 32-byte stores {vec4Stores} ({wideStores} 32-byte) of {ran}");
    }

    /// <summary>Every path: one workgroup per plane (forced), and by the size rule one invocation per plane (planes up to
    /// 4096 values) or chunked statistics (above: chunks of 4096 with a partial last one, a plane of exactly two chunks,
    /// a map far from zero).</summary>
    [Theory]
    [InlineData("direct")]
    [InlineData("chunked")]
    public void GlobalAveragePool_MatchesReference_OnPlanesAroundTheWorkgroupSize(string path)
    {
        using var pool = new GpuGlobalAveragePool(fixture.Context) { Choice = path == "direct" ? ConvPath.Direct : ConvPath.Fast };
        foreach ((int c, int h, int w) in new[] { (1, 1, 1), (3, 7, 7), (13, 8, 8), (2, 9, 15), (512, 7, 7), (4, 56, 56), (2, 64, 128), (3, 65, 71), (1, 361, 641) })
        {
            Tensor input = Parity.Random(new Random(c * h * w), c, h, w);
            if (h == 65) for (int i = 0; i < input.Length; i++) input.Data[i] += 500f;
            Parity.AssertGpuMatchesReference(GlobalAveragePool.Apply(input), pool.Apply(input), $"({c}, {h}, {w})");
            Assert.Equal(path == "direct" ? "global_avgpool: a workgroup per plane" : h * w > 4096 ? "plane_stats: chunked" : "global_avgpool: an invocation per plane", pool.Variant);
        }
    }

    [Fact]
    public void Add_WithBroadcasting_MatchesReference()
    {
        using var add = new GpuAdd(fixture.Context);
        int[][][] pairs =
        [
            [[2, 3, 4, 5], [2, 3, 4, 5]], [[3, 4, 5], [5]], [[2, 3, 4, 5], [3, 1, 1]], [[1, 6, 1, 7], [5, 1, 4, 1]],
            [[4, 1], [1, 3]], [[7], [1]], [[], [3, 2]],
        ];
        var rng = new Random(5);
        foreach (int[][] p in pairs)
        {
            Tensor a = Rand(rng, p[0]), b = Rand(rng, p[1]);
            Parity.AssertGpuMatchesReference(Elementwise.Add(a, b), add.Apply(a, b), $"{a.ShapeString} + {b.ShapeString}");
        }
    }

    /// <summary>Both shaders (channel_affine.comp and the fast one: VEC 4 where a plane holds a multiple of 4 values, VEC 1
    /// elsewhere, 4 elements per invocation), planes straddling 4 and 16 values, and a batch of two images of C planes.</summary>
    [Theory]
    [InlineData("direct")]
    [InlineData("fast")]
    public void ChannelAffine_MatchesBatchNormReference(string shader)
    {
        var rng = new Random(8);
        // (64, 16, 16) and (2, 3, 8): planes of an even count of vec4s (32-byte stores; 6 vec4s: a last invocation of 2).
        foreach ((int c, int h, int w) in new[] { (1, 1, 1), (3, 5, 4), (13, 9, 7), (64, 16, 16), (2, 1, 17), (5, 3, 33), (2, 3, 8) })
        {
            float[] R(int n, float lo, float hi) => Enumerable.Range(0, n).Select(_ => lo + (float)rng.NextDouble() * (hi - lo)).ToArray();
            BatchNorm bn = BatchNorm.FromStatistics(R(c, -2, 2), R(c, -1, 1), R(c, -1, 1), R(c, 0.01f, 3), 1e-5f);
            using var gpu = new GpuChannelAffine(fixture.Context, bn) { Choice = shader == "fast" ? ConvPath.Fast : ConvPath.Direct };
            Tensor input = Parity.Random(new Random(c), c, h, w);
            Parity.AssertGpuMatchesReference(bn.Apply(input), gpu.Apply(input), $"({c}, {h}, {w})");
            Assert.StartsWith(shader == "fast" ? "channel_affine_fast" : "channel_affine:", gpu.Variant);
            Assert.Equal(shader == "fast" && h * w % 8 == 0 && fixture.Context.WideStores, gpu.Variant.EndsWith("32-byte stores", StringComparison.Ordinal));
            // (2, C, H, W) as (2C, H, W) storage: plane p is channel p % C.
            Tensor batch = Parity.Random(new Random(c + 1), 2 * c, h, w);
            using var gin = GpuTensor.From(fixture.Context, batch);
            using var gout = new GpuTensor(fixture.Context);
            gpu.Run(gin, gout, h * w);
            Parity.AssertGpuMatchesReference(bn.Apply(batch.Reshape(2, c, h, w), 1).Reshape(2 * c, h, w), gout.Download(), $"batch of 2 ({c}, {h}, {w})");
        }
    }

    /// <summary>The scale-only mode (a stack's mul layer gating a (C, H, W) map by a (C, 1, 1) one): planes straddling 4
    /// and 16 values, NaN and infinities in the map and the gate, both orders of the mul layer's inputs.</summary>
    [Fact]
    public void ChannelAffine_ScaleByAMap_MatchesMulReference()
    {
        var rng = new Random(13);
        using var gate = new GpuChannelAffine(fixture.Context, BatchNorm.FromAffine([1f], [0f]));
        foreach ((int c, int h, int w) in new[] { (1, 1, 1), (3, 5, 4), (4, 9, 7), (2, 1, 33), (6, 16, 16) })
        {
            Tensor x = Parity.Random(rng, c, h, w), g = Parity.Random(rng, c, 1, 1);
            x.Data[0] = float.NaN;
            if (c > 1) g.Data[1] = float.PositiveInfinity;
            using var gx = GpuTensor.From(fixture.Context, x);
            using var gg = GpuTensor.From(fixture.Context, g);
            using var gout = new GpuTensor(fixture.Context);
            Assert.True(gate.TryRunScale(gx, gg, gout));
            Assert.Equal(Elementwise.Mul(x, g).Data, gout.Download().Data);
            Assert.Equal("channel_affine_fast: scale by a map", gate.Variant);
        }
        // The stack's mul layer takes the gate first or second: the same map either way.
        var layer = new Core.Stacks.MulLayer();
        Tensor m = Parity.Random(rng, 3, 6, 5), k = Parity.Random(rng, 3, 1, 1);
        Assert.Equal(layer.Forward([m, k]).Data, layer.Forward([k, m]).Data);
    }

    [Fact]
    public void ChannelAffine_PReluMode_MatchesPReluReference_WithSpecialValues()
    {
        var rng = new Random(12);
        foreach ((int c, int h, int w) in new[] { (1, 1, 1), (3, 5, 4), (4, 9, 7), (1, 2, 33), (2, 4, 8) })
            foreach (bool shared in new[] { false, true })
            {
                float[] slopes = Enumerable.Range(0, shared ? 1 : c).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray();
                using var gpu = new GpuChannelAffine(fixture.Context, BatchNorm.FromAffine(slopes, new float[slopes.Length])) { PRelu = true };
                Tensor input = Parity.Random(new Random(c * w), c, h, w);
                input.Data[0] = float.NaN;
                if (input.Length > 2) (input.Data[1], input.Data[2]) = (float.NegativeInfinity, float.PositiveInfinity);
                Tensor slope = shared ? new Tensor([1], slopes) : Tensor.Chw(c, 1, 1, slopes);
                Tensor want = Elementwise.PRelu(input, slope), got = gpu.Apply(input);
                Assert.Equal(want.Data, got.Data);
            }
    }

    [Fact]
    public void Gemm_AllTransposesAndBiasShapes_MatchReference()
    {
        var rng = new Random(3);
        using var gemm = new GpuGemm(fixture.Context);
        foreach ((int m, int n, int k) in new[] { (1, 1, 1), (3, 4, 5), (17, 9, 33), (1, 1000, 512) })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    foreach (int[]? cShape in new int[]?[] { null, [], [n], [m, 1], [m, n] })
                    {
                        Tensor a = Rand(rng, ta ? [k, m] : [m, k]), b = Rand(rng, tb ? [n, k] : [k, n]);
                        Tensor? c = cShape is null ? null : Rand(rng, cShape);
                        (gemm.Alpha, gemm.Beta, gemm.TransA, gemm.TransB) = (0.7f, -1.3f, ta, tb);
                        Tensor expected = Gemm.Apply(a, b, c, 0.7f, -1.3f, ta, tb);
                        Parity.AssertGpuMatchesReference(expected, gemm.Apply(a, b, c),
                            $"M={m} N={n} K={k} transA={ta} transB={tb} C={(cShape is null ? "none" : "(" + string.Join(",", cShape) + ")")}");
                    }
    }

    [Fact]
    public void Conv_WithAsymmetricPads_MatchesReference()
    {
        var rng = new Random(44);
        foreach ((int t, int l, int b, int r, int s) in new[] { (3, 3, 2, 2, 2), (0, 1, 2, 0, 1), (2, 0, 0, 3, 3), (1, 2, 1, 2, 2) })
        {
            Tensor input = Parity.Random(new Random(t * 10 + l), 3, 18, 17);
            var weight = new Tensor([5, 3, 4, 3], Enumerable.Range(0, 180).Select(_ => (float)(rng.NextDouble() - 0.5) * 0.5f).ToArray());
            var o = new ConvOptions { Padding = PaddingMode.Explicit, PadY = t, PadX = l, PadBottom = b, PadRight = r, StrideY = s, StrideX = s };
            using var conv = new GpuConv2D(fixture.Context, weight, null, o);
            Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, null, o), conv.Apply(input), o.ToString());
        }
    }

    private static Tensor Rand(Random rng, int[] shape)
    {
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (float)(rng.NextDouble() * 2.4 - 1.2);
        return t;
    }
}
