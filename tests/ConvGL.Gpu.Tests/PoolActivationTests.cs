using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

[Collection(GlCollection.Name)]
public sealed class PoolActivationTests(GlFixture fixture)
{
    [Fact]
    public void MaxAndAverage2x2_ByHand()
    {
        var input = Tensor.Chw(1, 2, 4, [1, -2, 3, 4, 5, 6, -7, 8]);
        using var pool = new GpuPool2D(fixture.Context, PoolOptions.Square(PoolKind.Max, 2));
        Assert.Equal(new float[] { 6, 8 }, pool.Apply(input).Data);
        pool.Options = PoolOptions.Square(PoolKind.Average, 2);
        Assert.Equal(new float[] { 2.5f, 2f }, pool.Apply(input).Data);
    }

    [Fact]
    public void Pool_Sweep_MatchesReference()
    {
        var rng = new Random(99);
        (int H, int W)[] sizes = [(1, 1), (7, 13), (64, 64), (333, 257)];
        int ran = 0, direct = 0;
        for (int n = 0; n < 80; n++)
        {
            (int h, int w) = sizes[rng.Next(sizes.Length)];
            int c = h * w > 10000 ? rng.Next(1, 3) : rng.Next(1, 17);
            int sy = rng.Next(1, 6), sx = rng.Next(1, 6);
            var o = new PoolOptions
            {
                Kind = rng.Next(2) == 0 ? PoolKind.Max : PoolKind.Average,
                SizeY = sy, SizeX = sx,
                StrideY = rng.Next(0, 4), StrideX = rng.Next(0, 4),
                PadY = rng.Next(0, sy / 2 + 1), PadX = rng.Next(0, sx / 2 + 1),
            };
            int seed = rng.Next();
            Tensor input = Parity.Random(new Random(seed), c, h, w);
            string spec = $"seed={seed} in=({c},{h},{w}) {o}";
            Tensor expected;
            try
            {
                expected = Pool2D.Apply(input, o);
            }
            catch (ConvGLException)
            {
                continue;
            }
            using var pool = new GpuPool2D(fixture.Context, o);
            Parity.AssertGpuMatchesReference(expected, pool.Apply(input), spec);
            ran++;
            // The one-output shader (these outputs are small) reads through the texel view: every input here fits it.
            if (pool.Variant.StartsWith("pool2d: ", StringComparison.Ordinal))
            {
                Assert.EndsWith("texel view", pool.Variant, StringComparison.Ordinal);
                direct++;
            }
        }
        Assert.True(ran > 50, $"only {ran} of 80 pooling cases had an output");
        Assert.True(direct > 25, $"only {direct} of {ran} cases ran pool2d.comp");
    }

    [Fact]
    public void FastPool_EveryWidthAndHeight_RandomWindows()
    {
        // pool2d_fast.comp forced on whatever the size: widths across its blocks of 8 outputs (1..257), heights 1, 5, 17,
        // channels 1..17; windows and x strides from a short list (compiled in), y strides and padding random.
        var rng = new Random(808);
        int[] widths = [1, 7, 8, 9, 31, 33, 257], heights = [1, 5, 17];
        (int Y, int X, int StrideX)[] windows = [(2, 2, 2), (3, 3, 1), (3, 2, 3)];
        int ran = 0;
        for (int n = 0; n < 40; n++)
        {
            (int seed, Tensor input, PoolOptions o, Tensor? reference) = RandomFastPoolCase(rng, windows, widths, heights);
            if (reference is not Tensor expected) continue;
            using var pool = new GpuPool2D(fixture.Context, o) { Choice = ConvPath.Fast };
            Tensor actual = pool.Apply(input);
            Assert.StartsWith("pool2d_fast", pool.Variant, StringComparison.Ordinal);
            Parity.AssertGpuMatchesReference(expected, actual, $"seed={seed} in={input.ShapeString} {o}");
            ran++;
        }
        Assert.True(ran >= 25, $"only {ran} of 40 pooling cases had an output");
    }

    [Fact]
    public void FastPool_Vec4LoadsAndStores_RowsOfWholeVec4s()
    {
        // Input and output rows of whole vec4s: rgba32f loads (texels outside the row are the padding value) and vec4
        // stores (a last block of 8 half outside the row: output widths 4, 12, 36). Widths 8..132, heights 1, 5, 17,
        // channels 1..17, the windows above with every left padding they allow (VEC4_SHIFT 0..1 here; 3 with pad 1 of 3),
        // max and average.
        var rng = new Random(4242);
        int[] widths = [8, 16, 24, 36, 68, 72, 132], heights = [1, 5, 17];
        (int Y, int X, int StrideX)[] windows = [(2, 2, 2), (3, 3, 1), (3, 2, 3), (3, 3, 2)];
        int ran = 0, vec4 = 0, wide = 0;
        for (int n = 0; n < 60; n++)
        {
            (int seed, Tensor input, PoolOptions o, Tensor? reference) = RandomFastPoolCase(rng, windows, widths, heights);
            if (reference is not Tensor expected) continue;
            using var pool = new GpuPool2D(fixture.Context, o) { Choice = ConvPath.Fast };
            Tensor actual = pool.Apply(input);
            string spec = $"seed={seed} in={input.ShapeString} {o} -- {pool.Variant}";
            Assert.True(pool.Variant.Contains("vec4", StringComparison.Ordinal) == (expected.W % 4 == 0), spec);
            // Output rows of whole multiples of 8: one 32-byte store per block.
            Assert.True(pool.Variant.EndsWith("32-byte stores", StringComparison.Ordinal) == (expected.W % 8 == 0 && fixture.Context.WideStores), spec);
            Parity.AssertGpuMatchesReference(expected, actual, spec);
            ran++;
            if (expected.W % 4 == 0) vec4++;
            if (expected.W % 8 == 0) wide++;
        }
        Assert.True(ran >= 35 && vec4 >= 15 && wide >= 5, $"only {ran} of 60 pooling cases had an output, {vec4} with vec4 rows, {wide} of whole multiples of 8");
    }

    /// <summary>One random case of the fast pool sweeps: a window from <paramref name="windows"/> (compiled in), max or
    /// average, random y stride and padding, 1..17 channels; the CPU reference, or null where the options give no output.</summary>
    private static (int Seed, Tensor Input, PoolOptions Options, Tensor? Expected) RandomFastPoolCase(
        Random rng, (int Y, int X, int StrideX)[] windows, int[] widths, int[] heights)
    {
        (int sy, int sx, int strideX) = windows[rng.Next(windows.Length)];
        var o = new PoolOptions
        {
            Kind = rng.Next(2) == 0 ? PoolKind.Max : PoolKind.Average,
            SizeY = sy, SizeX = sx, StrideY = rng.Next(0, 4), StrideX = strideX,
            PadY = rng.Next(0, sy / 2 + 1), PadX = rng.Next(0, sx / 2 + 1),
        };
        int seed = rng.Next();
        Tensor input = Parity.Random(new Random(seed), rng.Next(1, 18), heights[rng.Next(heights.Length)], widths[rng.Next(widths.Length)]);
        try
        {
            return (seed, input, o, Pool2D.Apply(input, o));
        }
        catch (ConvGLException)
        {
            return (seed, input, o, null);
        }
    }

    [Fact]
    public void FastMaxPool_Vec4_NaNLeftOfTheWindowStaysOut()
    {
        // 3x3 stride 2 pad 1 on a 16-wide row: the first window's tap x = -1 is component 3 of the clamped texel x = 0..3,
        // which holds a NaN at x = 3; it must read as padding there, while the windows over x = 3 give NaN.
        var input = new Tensor([1, 2, 16]);
        for (int i = 0; i < input.Length; i++) input.Data[i] = i;
        input[0, 0, 3] = float.NaN;
        var o = new PoolOptions { Kind = PoolKind.Max, SizeY = 3, SizeX = 3, StrideY = 2, StrideX = 2, PadY = 1, PadX = 1 };
        using var pool = new GpuPool2D(fixture.Context, o) { Choice = ConvPath.Fast };
        Tensor actual = pool.Apply(input);
        Assert.Contains("vec4", pool.Variant, StringComparison.Ordinal);
        Tensor expected = Pool2D.Apply(input, o);
        Assert.Equal(expected.Data.Select(float.IsNaN), actual.Data.Select(float.IsNaN));
        Assert.False(float.IsNaN(actual[0, 0, 0]));
        Assert.True(float.IsNaN(actual[0, 0, 1]));
        Assert.Equal(expected.Data.Where(v => !float.IsNaN(v)), actual.Data.Where(v => !float.IsNaN(v)));
    }

    /// <summary>A max window whose real taps are all -inf is -inf, as in Pool2D.Apply (its accumulator starts at -inf and
    /// padding is skipped). Both GPU programs started at -FLT_MAX (pool2d.comp's accumulator, pool2d_fast.comp's padding
    /// value) and gave -3.4028235e38 there (an NVIDIA-portability review, 2026-12-07). Widths 16 (vec4 loads, 32-byte
    /// stores), 12 (vec4) and 9 (scalar); padded and unpadded windows; a finite tap beside the -inf ones still wins.</summary>
    [Theory]
    [InlineData(false, 16)]
    [InlineData(true, 16)]
    [InlineData(true, 12)]
    [InlineData(true, 9)]
    public void MaxPool_WindowOfMinusInfinity_IsMinusInfinity(bool fast, int width)
    {
        ConvPath path = fast ? ConvPath.Fast : ConvPath.Direct;
        var input = new Tensor([2, 5, width]);
        Array.Fill(input.Data, float.NegativeInfinity);
        input[1, 2, width - 1] = -7f; // one finite value: the windows over it give it
        foreach (var o in new[]
                 {
                     new PoolOptions { Kind = PoolKind.Max, SizeY = 3, SizeX = 3, StrideY = 1, StrideX = 1, PadY = 1, PadX = 1 },
                     new PoolOptions { Kind = PoolKind.Max, SizeY = 2, SizeX = 2, StrideY = 1, StrideX = 1 },
                 })
        {
            using var pool = new GpuPool2D(fixture.Context, o) { Choice = path };
            Tensor actual = pool.Apply(input), expected = Pool2D.Apply(input, o);
            Assert.StartsWith(path == ConvPath.Fast ? "pool2d_fast" : "pool2d: ", pool.Variant, StringComparison.Ordinal);
            Assert.Contains(float.NegativeInfinity, expected.Data);
            Assert.Contains(-7f, expected.Data);
            Assert.Equal(expected.Data, actual.Data);
        }
    }

    [Fact]
    public void FastMaxPool_NaNInAWindow_GivesNaN()
    {
        var input = Tensor.Chw(1, 2, 4, [1, float.NaN, 3, 4, 5, 6, 7, 8]);
        using var pool = new GpuPool2D(fixture.Context, PoolOptions.Square(PoolKind.Max, 2)) { Choice = ConvPath.Fast };
        Tensor actual = pool.Apply(input);
        Assert.StartsWith("pool2d_fast", pool.Variant, StringComparison.Ordinal);
        Assert.True(float.IsNaN(actual.Data[0]));
        Assert.Equal(8f, actual.Data[1]);
    }

    [Fact]
    public void MaxPool_NaNInAWindow_GivesNaN_LikeTheReference()
    {
        // GLSL's max() leaves NaN handling undefined (NVIDIA and llvmpipe return the other operand); PyTorch and
        // Pool2D.Apply propagate it. The parity helper counts any GPU NaN as a mismatch, so this is checked here.
        var input = Tensor.Chw(1, 2, 6, [1, float.NaN, 3, 4, 5, 6, 7, 8, 9, 10, 11, float.NaN]);
        using var pool = new GpuPool2D(fixture.Context, PoolOptions.Square(PoolKind.Max, 2));
        float[] gpu = pool.Apply(input).Data, cpu = Pool2D.Apply(input, pool.Options).Data;
        Assert.True(float.IsNaN(cpu[0]) && float.IsNaN(cpu[2]) && cpu[1] == 10f, $"reference {string.Join(", ", cpu)}");
        Assert.True(float.IsNaN(gpu[0]) && float.IsNaN(gpu[2]) && gpu[1] == 10f, $"GPU {string.Join(", ", gpu)}, reference {string.Join(", ", cpu)}");
    }

    public static TheoryData<ActivationKind> Kinds => [.. Enum.GetValues<ActivationKind>()];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Activation_MatchesReference_IncludingLargeValues(ActivationKind kind)
    {
        foreach ((int c, int h, int w) in new[] { (1, 1, 1), (3, 7, 13), (2, 333, 257) })
        {
            Tensor input = Parity.Random(new Random(c * h * w), c, h, w);
            // Beyond [-1.2, 1.2] as well: the saturating ends of tanh and sigmoid, where naive formulas give NaN.
            float[] extremes = [-100f, -30f, -10f, -1e-7f, 0f, 1e-7f, 10f, 30f, 100f];
            for (int i = 0; i < Math.Min(extremes.Length, input.Length); i++) input.Data[i] = extremes[i];
            float beta = Activation.Defaults(kind).Beta; // selu's gamma, hard_sigmoid's beta
            foreach (float slope in new[] { 0.01f, 0.2f, Activation.Defaults(kind).Alpha })
            {
                using var act = new GpuActivation(fixture.Context, kind, slope) { Beta = beta, Min = -0.5f, Max = 0.75f };
                Parity.AssertGpuMatchesReference(Activation.Apply(input, kind, slope, -0.5f, 0.75f, beta), act.Apply(input), $"{kind.Name()} slope={slope} in=({c},{h},{w})");
            }
        }
    }

    private static readonly int[] s_widths = [1, 7, 8, 9, 31, 33, 257], s_heights = [1, 5, 17];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void FastActivation_EveryWidthHeightAndChannelCount_MatchesReference(ActivationKind kind)
    {
        // activation_fast.comp: 4 values per texel, 4 texels per invocation, the n % 4 tail as its own dispatch. Every
        // width x height x channels (1..17) of the blocking sweep gives every tail length and invocation remainder.
        float beta = Activation.Defaults(kind).Beta;
        using var act = new GpuActivation(fixture.Context, kind, 0.15f) { Beta = beta, Min = -1f, Max = 2f };
        int cases = 0, wide = 0;
        foreach (int w in s_widths)
            foreach (int h in s_heights)
                for (int c = 1; c <= 17; c++)
                {
                    Tensor input = Parity.Random(new Random(w * 1000 + h * 20 + c), 3f, c, h, w);
                    Tensor actual = act.Apply(input);
                    Assert.StartsWith("activation_fast", act.Variant, StringComparison.Ordinal);
                    Parity.AssertGpuMatchesReference(Activation.Apply(input, kind, 0.15f, -1f, 2f, beta), actual, $"{kind.Name()} in=({c},{h},{w})");
                    // An even count of whole texels (n / 4) stores pairs of them as 32-byte stores.
                    bool pairs = fixture.Context.WideStores && input.Length / 4 % 2 == 0 && input.Length >= 4;
                    Assert.Equal(pairs, act.Variant.EndsWith("32-byte stores", StringComparison.Ordinal));
                    if (pairs) wide++;
                    cases++;
                }
        Assert.Equal(7 * 3 * 17, cases);
        Assert.True(!fixture.Context.WideStores || wide >= 100, $"{wide} of {cases} cases with 32-byte stores");
    }

    /// <summary>A NaN goes through every activation as the reference has it (ReLU's max(x, 0) included: ONNX's reference,
    /// PyTorch and ONNX Runtime keep it; ConvGL's relu made it 0), on both shaders, scalar tail and vec4 texels alike.</summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public void Activation_NaN_AsTheReference_FastAndPlain(ActivationKind kind)
    {
        Tensor input = Parity.Random(new Random(7), 3f, 2, 3, 7);
        foreach (int i in new[] { 0, 5, 13, 40 }) input.Data[i] = float.NaN;
        float beta = Activation.Defaults(kind).Beta;
        Tensor expected = Activation.Apply(input, kind, 0.15f, -1f, 2f, beta);
        Assert.Equal(kind != ActivationKind.ThresholdedRelu, float.IsNaN(expected.Data[0]));
        foreach (ConvPath? choice in new ConvPath?[] { null, ConvPath.Direct })
        {
            using var act = new GpuActivation(fixture.Context, kind, 0.15f) { Beta = beta, Min = -1f, Max = 2f };
            if (choice is { } c) act.Choice = c;
            Tensor actual = act.Apply(input);
            string spec = $"{kind.Name()} {act.Variant}";
            Assert.Equal(expected.Data.Select(float.IsNaN), actual.Data.Select(float.IsNaN));
            Parity.AssertGpuMatchesReference(Without(expected), Without(actual), spec);
        }

        static Tensor Without(Tensor t) => new(t.Shape, t.Data.Select(v => float.IsNaN(v) ? 0f : v).ToArray());
    }

    [Fact]
    public void FastAndPlainActivation_Agree_AndZeroIsNotPositive()
    {
        // Both shaders pick x only where x > 0: relu(0) = 0, relu(-0) = 0, leaky(-2) = slope * -2.
        var input = Tensor.Chw(1, 1, 9, [0f, -0f, -2f, 2f, 1e-30f, -1e-30f, 5f, -5f, 0.5f]);
        using var fast = new GpuActivation(fixture.Context, ActivationKind.LeakyRelu, 0.25f);
        using var plain = new GpuActivation(fixture.Context, ActivationKind.LeakyRelu, 0.25f) { Choice = ConvPath.Direct };
        float[] f = fast.Apply(input).Data, p = plain.Apply(input).Data;
        Assert.StartsWith("activation_fast", fast.Variant, StringComparison.Ordinal);
        Assert.StartsWith("activation:", plain.Variant, StringComparison.Ordinal);
        Assert.Equal(new float[] { 0f, -0f, -0.5f, 2f, 1e-30f, -0.25e-30f, 5f, -1.25f, 0.5f }, f);
        Assert.Equal(f, p);
    }

    [Fact]
    public void Activation_InPlaceAndOutOfPlace_Agree()
    {
        GlContext ctx = fixture.Context;
        Tensor input = Parity.Random(new Random(1), 4, 5, 6);
        using var a = GpuTensor.From(ctx, input);
        using var b = new GpuTensor(ctx);
        using var act = new GpuActivation(ctx, ActivationKind.LeakyRelu, 0.1f);
        act.Run(a, b);
        act.Run(a, a);
        Assert.Equal(b.Download().Data, a.Download().Data);
        Parity.AssertGpuMatchesReference(Activation.Apply(input, ActivationKind.LeakyRelu, 0.1f), a.Download(), "leaky_relu in place");
    }
}
