using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>A ReLU fused into the stores of every program a conv plan may choose (<see cref="GpuConv2D.Fused"/>) and of
/// the add's (<see cref="GpuAdd.Fused"/>) against the reference relu(conv) and relu(a + b) (Activation: max(x, 0), a NaN
/// kept), and leaky relu and clip (ReLU6) on every conv program and the add: conv2d.comp, conv2d_dense.comp with rim strips or a padded copy and scalar, vec4 and 32-byte stores,
/// conv2d_depthwise.comp one dispatch per channel, whole plane and with rims, Winograd (its three store kinds and the
/// direct fix-up of tiles holding NaN or infinity) and the 1x1 matrix product (direct and gathered input). Each case asserts
/// which program ran and that the conv's own output has negative values for the relu to zero.</summary>
[Collection(GlCollection.Name)]
public sealed class FusedActivationTests(GlFixture fixture)
{
    /// <summary>The fused conv against the activation of Conv2D.Apply (relu unless <paramref name="act"/> says otherwise), and,
    /// the activation turned off again, the plain conv against Conv2D.Apply.</summary>
    private void Check(int cin, int cout, int groups, int h, int w, int k, ConvOptions o, ConvPath choice, string program, string? stores, int seed,
        Action<Tensor>? spoil = null, FusedActivation? act = null, int split = 0, long scratch = 0, string? layout = null)
    {
        act ??= FusedActivation.Relu;
        var rng = new Random(seed);
        Tensor input = Parity.Random(rng, cin, h, w);
        spoil?.Invoke(input);
        Tensor weight = Parity.Random(rng, 1f / MathF.Sqrt(cin / groups * k * k), cout, cin / groups, k, k);
        float[] bias = Parity.RandomVector(rng, 0.3f, cout);
        o = o with { Groups = groups };
        string spec = $"seed={seed} in=({cin},{h},{w}) weight=({cout},{cin / groups},{k},{k}) {o}";
        Tensor conv = Conv2D.Apply(input, weight, bias, o);
        Assert.True(conv.Data.Count(v => v < 0) > conv.Length / 10, $"the conv has too few negative outputs for the test to mean anything -- {spec}");
        using var gpu = new GpuConv2D(fixture.Context, weight, bias, o) { Choice = choice, Fused = act, SplitK = split, WinogradScratchFloats = scratch };
        Tensor fused = gpu.Apply(input);
        Assert.StartsWith(program, gpu.Variant, StringComparison.Ordinal);
        if (layout is not null) Assert.Contains(layout, gpu.Variant, StringComparison.Ordinal);
        Assert.EndsWith($", {act.Name} fused", gpu.Variant, StringComparison.Ordinal);
        if (stores is not null) Assert.Equal(stores, FastConvTests.Stores(gpu.Variant));
        Tensor activated = Activation.Apply(conv, act.Kind, act.Slope, act.Min, act.Max, act.Beta);
        // Gated: the mul of the map and its activation, each a float32 as the reference's layers store them.
        if (act.Gated)
            for (int i = 0; i < activated.Length; i++) activated.Data[i] *= conv.Data[i];
        AssertEqual(activated, fused, spec + " -- " + gpu.Variant);

        gpu.Fused = null;
        Tensor plain = gpu.Apply(input);
        Assert.DoesNotContain("fused", gpu.Variant, StringComparison.Ordinal);
        if (layout is not null) Assert.Contains(layout, gpu.Variant, StringComparison.Ordinal);
        AssertEqual(conv, plain, spec + " -- " + gpu.Variant);
    }

    /// <summary>Parity's tolerance for finite values; an infinity must be the same infinity, and no NaN may appear where the
    /// reference has none, and a NaN where the reference has one (relu, leaky relu and clip all keep it).</summary>
    private static void AssertEqual(Tensor expected, Tensor actual, string spec)
    {
        Assert.True(expected.SameShape(actual), spec);
        for (int i = 0; i < expected.Length; i++)
            if (!float.IsFinite(expected.Data[i]))
            {
                float r = expected.Data[i], g = actual.Data[i];
                Assert.True(r.Equals(g), $"value {i}: reference {r}, GPU {g} -- {spec}");
                expected.Data[i] = actual.Data[i] = 0;
            }
        Parity.AssertGpuMatchesReference(expected, actual, spec);
    }

    [Fact]
    public void Conv2dComp_OneOutputPerInvocation()
    {
        Check(3, 5, 1, 9, 11, 3, new ConvOptions { Border = Border.Reflect }, ConvPath.Direct, "conv2d:", null, 1);
        Check(4, 4, 2, 7, 13, 2, new ConvOptions { StrideX = 2, StrideY = 2, Mode = ConvMode.Convolve }, ConvPath.Direct, "conv2d:", null, 2);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Dense_RimStripsAndPaddedCopy_EveryStoreKind(bool wide)
    {
        FastConvTests.WithWideStores(fixture.Context, wide, () =>
        {
            // Rim strips (FastRim): an odd width stores one value at a time; 32 wide stores runs of 4 or 8.
            Check(3, 6, 1, 17, 33, 3, new ConvOptions { Border = Border.Replicate }, ConvPath.FastRim, "conv2d_dense", "scalar", 10);
            Check(3, 5, 1, 9, 32, 3, new ConvOptions { Border = Border.Symmetric }, ConvPath.FastRim, "conv2d_dense", wide ? "32-byte" : "vec4", 11);
            // The padded copy (Fast): rows of 32 (whole 8s), 36 (whole 4s), 30 (neither); groups and a stride.
            Check(4, 8, 1, 16, 32, 3, new ConvOptions(), ConvPath.Fast, "conv2d_dense", wide ? "32-byte" : "vec4", 12);
            Check(4, 7, 1, 12, 36, 5, new ConvOptions { Border = Border.Wrap }, ConvPath.Fast, "conv2d_dense", "vec4", 13);
            Check(6, 6, 3, 11, 30, 3, new ConvOptions { Border = Border.Reflect, DilationX = 2, DilationY = 2 }, ConvPath.Fast, "conv2d_dense", "scalar", 14);
            Check(4, 8, 1, 15, 29, 3, new ConvOptions { StrideX = 2, StrideY = 2 }, ConvPath.Fast, "conv2d_dense", null, 15);
        });
    }

    [Fact]
    public void Depthwise_PerChannelDispatches_WholePlane_AndRims()
    {
        // 3 channels: one dispatch per channel (constant weight addresses); 8 at a zero border on rows of whole vec4s: the
        // whole plane; 8 at reflect with a stride: interior and rim strips.
        Check(3, 3, 3, 13, 21, 5, new ConvOptions { Border = Border.Reflect }, ConvPath.Fast, "conv2d_depthwise", null, 20);
        Check(8, 8, 8, 16, 32, 3, new ConvOptions(), ConvPath.Fast, "conv2d_depthwise", null, 21);
        Check(8, 8, 8, 17, 31, 3, new ConvOptions { Border = Border.Reflect, StrideX = 2 }, ConvPath.FastRim, "conv2d_depthwise", null, 22);
    }

    [Theory]
    [InlineData(9, 9, "scalar")]
    [InlineData(12, 12, "vec4")]
    [InlineData(8, 16, "32-byte")]
    public void Winograd_EveryStoreKind(int h, int w, string stores)
    {
        if (stores == "32-byte" && !fixture.Context.WideStores) stores = "vec4";
        Check(6, 8, 1, h, w, 3, new ConvOptions { Border = h == 9 ? Border.Reflect : Border.Zero }, ConvPath.Winograd, "winograd", stores, 30 + w);
    }

    [Fact]
    public void Winograd_TilesWithNaNAndInfinity_FixedUpThenRelu()
    {
        // A NaN, +inf and -inf in the input: their tiles are recomputed directly (winograd_fixup.comp), whose stores apply
        // the relu too: NaN sums stay NaN, infinities keep their sign's relu (+inf, or 0).
        Check(4, 8, 1, 12, 16, 3, new ConvOptions(), ConvPath.Winograd, "winograd", null, 40, input =>
        {
            input[0, 2, 3] = float.NaN;
            input[1, 7, 12] = float.PositiveInfinity;
            input[3, 10, 1] = float.NegativeInfinity;
        });
    }

    /// <summary>Winograd's split K (each slice's products added by the output transform, which then applies the activation)
    /// and its bands of tile rows (each band's output transform and fix-up storing its rows through the activation), and
    /// both together: relu, leaky relu and clip on each product variant (16 x 4, 8 x 8, 4 x 8), uneven slices, one tile
    /// row a band and uneven bands, partial tiles, reflect, wrap and zero borders, the three store kinds, and the fix-up
    /// of non-finite tiles in each band. Each asserts the split and the bands in the variant that ran, fused and plain.
    /// (Slices 2 and 3 only, to share programs: WinogradTests.SplitK_EveryProductVariant_EvenAndUnevenSlices holds the
    /// others, unfused.)</summary>
    [Fact]
    public void Winograd_SplitKAndBands_FusedActivation()
    {
        FusedActivation relu = FusedActivation.Relu, leaky = new(ActivationKind.LeakyRelu, Slope: 0.1f),
            narrow = new(ActivationKind.Clip, Min: -0.25f, Max: 0.3f);
        var reflect = new ConvOptions { Border = Border.Reflect };
        // Split K alone: 16 x 4 (7x7, 16 channels; 17 in slices of 6, 6 and 5), 8 x 8 (scalar stores at 31 wide), 4 x 8
        // on whole vec4 rows (12 wide; 5 channels in slices of 3 and 2), 8 x 8 on rows of 8 (16 wide).
        Check(17, 16, 1, 7, 7, 3, reflect, ConvPath.Winograd, "winograd", "scalar", 200, act: relu, split: 3,
            layout: "16 channels x 4 tiles/invocation, input channels split 3 ways");
        Check(9, 8, 1, 9, 31, 3, new ConvOptions { Mode = ConvMode.Convolve }, ConvPath.Winograd, "winograd", "scalar", 201, act: leaky, split: 2,
            layout: "8 channels x 8 tiles/invocation, input channels split 2 ways");
        Check(5, 3, 1, 5, 12, 3, new ConvOptions { Border = Border.Wrap }, ConvPath.Winograd, "winograd", "vec4", 202, act: narrow, split: 2,
            layout: "4 channels x 8 tiles/invocation, input channels split 2 ways");
        Check(8, 8, 1, 8, 16, 3, new ConvOptions(), ConvPath.Winograd, "winograd", fixture.Context.WideStores ? "32-byte" : "vec4", 203,
            act: relu, split: 3, layout: "8 channels x 8 tiles/invocation, input channels split 3 ways");
        // Bands alone: 3 -> 5 at 17x9 in 2,304 floats, bands of 2, 2 and 1 tile rows (WinogradTests.Bands_OfTileRows_...).
        Check(3, 5, 1, 17, 9, 3, reflect, ConvPath.Winograd, "winograd", "scalar", 210, act: leaky, scratch: 2304,
            layout: ", 3 bands of 2 tile rows,");
        // Both: 17 -> 4 at 33x33 in 30,000 floats keeps split 2 in bands of 5 and 4 tile rows.
        Check(17, 4, 1, 33, 33, 3, reflect with { Mode = ConvMode.Convolve }, ConvPath.Winograd, "winograd", "scalar", 220, act: narrow, split: 2,
            scratch: 30000, layout: "input channels split 2 ways, 2 bands of 5 tile rows,");
        // A NaN, +inf and -inf in the three bands of one tile row each (8 -> 4 at 12x24 in 2,304 floats: 8 tiles a band,
        // the transformed input's bound, so split 2 is kept): each band's fix-up recomputes its tiles and stores them
        // through the activation.
        foreach ((FusedActivation act, int seed) in new[] { (relu, 230), (leaky, 231) })
            Check(8, 4, 1, 12, 24, 3, new ConvOptions(), ConvPath.Winograd, "winograd", fixture.Context.WideStores ? "32-byte" : "vec4", seed, input =>
            {
                input[0, 2, 3] = float.NaN;
                input[1, 7, 12] = float.PositiveInfinity;
                input[3, 10, 1] = float.NegativeInfinity;
            }, act, split: 2, scratch: 2304, layout: "input channels split 2 ways, 3 bands of 1 tile row,");
    }

    [Fact]
    public void Pointwise_DirectAndGathered()
    {
        Check(5, 9, 1, 16, 16, 1, new ConvOptions(), ConvPath.Pointwise, "pointwise", null, 50);
        Check(5, 9, 1, 17, 19, 1, new ConvOptions { StrideX = 2, StrideY = 2 }, ConvPath.Pointwise, "pointwise", null, 51);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Literal_EveryStoreKind_AndNonFiniteInputs(bool wide)
    {
        FastConvTests.WithWideStores(fixture.Context, wide, () =>
        {
            Check(3, 6, 1, 16, 32, 3, new ConvOptions(), ConvPath.Literal, "conv2d_literal", wide ? "32-byte" : "vec4", 90);
            Check(3, 5, 1, 9, 12, 3, new ConvOptions { Border = Border.Reflect }, ConvPath.Literal, "conv2d_literal", "vec4", 91);
            Check(2, 5, 1, 13, 21, 5, new ConvOptions { Border = Border.Replicate }, ConvPath.Literal, "conv2d_literal", "scalar", 92);
            // A NaN, +inf and -inf in the input: the sums they reach become NaN or an infinity, the relu then NaN, 0 or +inf.
            Check(4, 8, 1, 12, 16, 3, new ConvOptions(), ConvPath.Literal, "conv2d_literal", null, 93, input =>
            {
                input[0, 2, 3] = float.NaN;
                input[1, 7, 12] = float.PositiveInfinity;
                input[3, 10, 1] = float.NegativeInfinity;
            });
            foreach ((FusedActivation act, int seed) in new[] { (new FusedActivation(ActivationKind.LeakyRelu, Slope: 0.1f), 94), (new FusedActivation(ActivationKind.Clip, Min: -0.25f, Max: 0.3f), 95) })
                Check(3, 6, 1, 16, 32, 3, new ConvOptions(), ConvPath.Literal, "conv2d_literal", null, seed, act: act);
        });
    }

    [Fact]
    public void LiteralWinograd_EveryStoreKind_AndTheFixUp()
    {
        Check(3, 6, 1, 16, 32, 3, new ConvOptions(), ConvPath.LiteralWinograd, "conv2d_literal_winograd", fixture.Context.WideStores ? "32-byte" : "vec4", 96);
        Check(2, 5, 1, 9, 12, 3, new ConvOptions { Border = Border.Reflect }, ConvPath.LiteralWinograd, "conv2d_literal_winograd", "vec4", 97);
        Check(2, 5, 1, 13, 21, 3, new ConvOptions { Border = Border.Replicate }, ConvPath.LiteralWinograd, "conv2d_literal_winograd", "scalar", 98);
        // A NaN, +inf and -inf: their tiles are computed directly by the fix-up, which fuses the activation too.
        Check(3, 4, 1, 12, 16, 3, new ConvOptions(), ConvPath.LiteralWinograd, "conv2d_literal_winograd", null, 99, input =>
        {
            input[0, 2, 3] = float.NaN;
            input[1, 7, 12] = float.PositiveInfinity;
            input[2, 10, 1] = float.NegativeInfinity;
        });
        Check(3, 6, 1, 16, 32, 3, new ConvOptions(), ConvPath.LiteralWinograd, "conv2d_literal_winograd", null, 100,
            act: new FusedActivation(ActivationKind.Clip, Min: -0.25f, Max: 0.3f));
    }

    /// <summary>Leaky relu (slope 0.1, its float bits compiled in) and clip to [0, 6] (ReLU6) and to [-0.25, 0.3] (both bounds
    /// inside the values) on each conv program, NaN and infinities included on the Winograd fix-up.</summary>
    [Fact]
    public void LeakyReluAndClip_OnEveryProgram()
    {
        FusedActivation leaky = new(ActivationKind.LeakyRelu, Slope: 0.1f), relu6 = new(ActivationKind.Clip, Min: 0, Max: 6),
            narrow = new(ActivationKind.Clip, Min: -0.25f, Max: 0.3f);
        foreach ((FusedActivation act, int seed) in new[] { (leaky, 60), (relu6, 70), (narrow, 80) })
        {
            Check(3, 5, 1, 9, 11, 3, new ConvOptions { Border = Border.Reflect }, ConvPath.Direct, "conv2d:", null, seed, act: act);
            Check(4, 8, 1, 16, 32, 3, new ConvOptions(), ConvPath.Fast, "conv2d_dense", null, seed + 1, act: act);
            Check(3, 6, 1, 17, 33, 3, new ConvOptions { Border = Border.Replicate }, ConvPath.FastRim, "conv2d_dense", "scalar", seed + 2, act: act);
            Check(8, 8, 8, 16, 32, 3, new ConvOptions(), ConvPath.Fast, "conv2d_depthwise", null, seed + 3, act: act);
            Check(6, 8, 1, 9, 9, 3, new ConvOptions(), ConvPath.Winograd, "winograd", null, seed + 4, act: act);
            Check(5, 9, 1, 16, 16, 1, new ConvOptions(), ConvPath.Pointwise, "pointwise", null, seed + 5, act: act);
            Check(4, 8, 1, 12, 16, 3, new ConvOptions(), ConvPath.Winograd, "winograd", null, seed + 6, input =>
            {
                input[0, 2, 3] = float.NaN;
                input[1, 7, 12] = float.PositiveInfinity;
                input[3, 10, 1] = float.NegativeInfinity;
            }, act);
        }
    }

    /// <summary>Every other activation (include/activation_fn.glsl through FUSED_ACT 4, its constants compiled in as float
    /// bits) with the constants a model would give it, on each conv program; NaN and infinities through the Winograd fix-up.</summary>
    public static TheoryData<ActivationKind> OtherKinds =>
        [.. Enum.GetValues<ActivationKind>().Where(k => k is not (ActivationKind.Relu or ActivationKind.LeakyRelu or ActivationKind.Clip))];

    internal static FusedActivation WithModelConstants(ActivationKind kind) => kind switch
    {
        ActivationKind.Elu => new(kind, Slope: 0.7f),
        ActivationKind.Selu => new(kind, Slope: 1.6732632f, Beta: 1.050701f),
        ActivationKind.HardSigmoid => new(kind, Slope: 0.2f, Beta: 0.5f),
        ActivationKind.Celu => new(kind, Slope: 1.3f),
        ActivationKind.ThresholdedRelu => new(kind, Slope: 0.1f),
        _ => new(kind),
    };

    /// <summary><paramref name="act"/> on each conv program; NaN and infinities through the Winograd fix-up.</summary>
    private void OnEveryProgram(FusedActivation act, int seed)
    {
        Check(3, 5, 1, 9, 11, 3, new ConvOptions { Border = Border.Reflect }, ConvPath.Direct, "conv2d:", null, seed, act: act);
        Check(4, 8, 1, 16, 32, 3, new ConvOptions(), ConvPath.Fast, "conv2d_dense", null, seed + 1, act: act);
        Check(3, 6, 1, 17, 33, 3, new ConvOptions { Border = Border.Replicate }, ConvPath.FastRim, "conv2d_dense", "scalar", seed + 2, act: act);
        Check(8, 8, 8, 16, 32, 3, new ConvOptions(), ConvPath.Fast, "conv2d_depthwise", null, seed + 3, act: act);
        Check(5, 9, 1, 16, 16, 1, new ConvOptions(), ConvPath.Pointwise, "pointwise", null, seed + 4, act: act);
        Check(2, 5, 1, 13, 21, 3, new ConvOptions(), ConvPath.Literal, "conv2d_literal", null, seed + 5, act: act);
        Check(2, 4, 1, 9, 12, 3, new ConvOptions { Border = Border.Reflect }, ConvPath.LiteralWinograd, "conv2d_literal_winograd", null, seed + 6, act: act);
        Check(4, 8, 1, 12, 16, 3, new ConvOptions(), ConvPath.Winograd, "winograd", null, seed + 7, input =>
        {
            input[0, 2, 3] = float.NaN;
            input[1, 7, 12] = float.PositiveInfinity;
            input[3, 10, 1] = float.NegativeInfinity;
        }, act);
    }

    [Theory]
    [MemberData(nameof(OtherKinds))]
    public void EveryOtherActivation_OnEveryProgram(ActivationKind kind) => OnEveryProgram(WithModelConstants(kind), 300 + 10 * (int)kind);

    /// <summary>x * act(x) in the stores (FUSED_GATE: SiLU as x * sigmoid(x), hard swish as x * hard_sigmoid(x)) on each conv
    /// program.</summary>
    [Theory]
    [InlineData(ActivationKind.Sigmoid)]
    [InlineData(ActivationKind.HardSigmoid)]
    public void Gated_OnEveryProgram(ActivationKind kind)
    {
        FusedActivation act = WithModelConstants(kind) with { Gated = true };
        Assert.Equal(kind == ActivationKind.Sigmoid ? "silu" : "x*hard_sigmoid", act.Name);
        OnEveryProgram(act, 500 + 10 * (int)kind);
    }

    [Theory]
    [InlineData(ActivationKind.LeakyRelu)]
    [InlineData(ActivationKind.Clip)]
    [InlineData(ActivationKind.Tanh)]
    [InlineData(ActivationKind.Sigmoid)]
    [InlineData(ActivationKind.HardSwish)]
    [InlineData(ActivationKind.Selu)]
    public void Add_FusedActivations(ActivationKind kind)
    {
        FusedActivation act = kind is ActivationKind.LeakyRelu or ActivationKind.Clip ? new(kind, Slope: 0.2f, Min: -0.5f, Max: 0.75f) : WithModelConstants(kind);
        var rng = new Random(99);
        Tensor a = Parity.Random(rng, 1, 1, 64), b = Parity.Random(rng, 1, 1, 64);
        a.Data[0] = float.NaN;
        using var add = new GpuAdd(fixture.Context) { Fused = act };
        using GpuTensor ga = GpuTensor.From(fixture.Context, a, "a"), gb = GpuTensor.From(fixture.Context, b, "b");
        using var output = new GpuTensor(fixture.Context, label: "out");
        add.Run(ga, gb, output);
        Assert.EndsWith($", {kind.Name()} fused", add.Variant, StringComparison.Ordinal);
        float[] got = output.Download().Data;
        // relu, leaky relu and clip bit for bit; the transcendental ones within the parity tolerance (the GPU's exp and tanh).
        var expected = new Tensor([64]);
        for (int i = 0; i < 64; i++) expected.Data[i] = Activation.Apply(kind, a.Data[i] + b.Data[i], act.Slope, act.Min, act.Max, act.Beta);
        if (kind is ActivationKind.LeakyRelu or ActivationKind.Clip)
            Assert.Equal(expected.Data, got);
        else
            AssertEqual(expected, new Tensor([64], got), kind.Name());
    }

    /// <summary>Activations whose multiplying constant is 0 (or -0): "leaky_relu 0" is a leaky relu of slope 0, "selu
    /// 1.67 0" a selu of alpha 1.67 and gamma 0.</summary>
    public static TheoryData<string> ZeroFactors => ["leaky_relu 0", "leaky_relu -0", "hard_sigmoid 0 0.5", "elu 0", "selu 0 1.05", "selu 1.67 0"];

    private static FusedActivation ZeroFactor(string which)
    {
        string[] parts = which.Split(' ');
        float a = float.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        float b = parts.Length > 2 ? float.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture) : 0f;
        Assert.True(Activation.TryParse(parts[0], out ActivationKind kind), parts[0]);
        return new FusedActivation(kind, Slope: a, Beta: b);
    }

    [Fact]
    public void Equality_IsByTheConstantsBits()
    {
        // A slope of 0 and one of -0 compile to different programs (u_act_zero and its negation): setting one after the
        // other must plan again, so they are not equal; the same constants are.
        var zero = new FusedActivation(ActivationKind.LeakyRelu, Slope: 0f);
        Assert.NotEqual(zero, new FusedActivation(ActivationKind.LeakyRelu, Slope: -0f));
        Assert.Equal(zero, new FusedActivation(ActivationKind.LeakyRelu, Slope: 0f));
        Assert.Equal(zero.GetHashCode(), new FusedActivation(ActivationKind.LeakyRelu, Slope: 0f).GetHashCode());
        Assert.NotEqual(zero, zero with { Gated = true });
        Assert.Equal(new FusedActivation(ActivationKind.Clip, Min: float.NaN), new FusedActivation(ActivationKind.Clip, Min: float.NaN));
    }

    [Theory]
    [MemberData(nameof(ZeroFactors))]
    public void ZeroFactors_KeepNaNAndInfinities_OnEveryProgram(string which)
    {
        // Mesa folded a product by a literal zero away, NaN and infinities with it: a leaky relu of slope 0 stored 0 for a
        // NaN (the reference: 0 * NaN = NaN), a hard sigmoid of alpha 0 its beta. Every conv program and the add.
        FusedActivation act = ZeroFactor(which);
        Action<Tensor> spoil = input =>
        {
            input[0, 2, 3] = float.NaN;
            input[1, 5, 7] = float.PositiveInfinity;
            input[0, 7, 1] = float.NegativeInfinity;
        };
        int seed = 700;
        Check(3, 5, 1, 9, 11, 3, new ConvOptions { Border = Border.Reflect }, ConvPath.Direct, "conv2d:", null, seed, spoil, act);
        Check(4, 8, 1, 16, 32, 3, new ConvOptions(), ConvPath.Fast, "conv2d_dense", null, seed + 1, spoil, act);
        Check(3, 6, 1, 17, 33, 3, new ConvOptions { Border = Border.Replicate }, ConvPath.FastRim, "conv2d_dense", "scalar", seed + 2, spoil, act);
        Check(8, 8, 8, 16, 32, 3, new ConvOptions(), ConvPath.Fast, "conv2d_depthwise", null, seed + 3, spoil, act);
        Check(5, 9, 1, 16, 16, 1, new ConvOptions(), ConvPath.Pointwise, "pointwise", null, seed + 4, spoil, act);
        Check(2, 5, 1, 13, 21, 3, new ConvOptions(), ConvPath.Literal, "conv2d_literal", null, seed + 5, spoil, act);
        Check(2, 4, 1, 9, 12, 3, new ConvOptions { Border = Border.Reflect }, ConvPath.LiteralWinograd, "conv2d_literal_winograd", null, seed + 6, spoil, act);
        Check(4, 8, 1, 12, 16, 3, new ConvOptions(), ConvPath.Winograd, "winograd", null, seed + 7, spoil, act);

        var rng = new Random(98);
        Tensor x = Parity.Random(rng, 1, 1, 64), y = Parity.Random(rng, 1, 1, 64);
        (x.Data[0], x.Data[9], x.Data[17]) = (float.NaN, float.PositiveInfinity, float.NegativeInfinity);
        using var add = new GpuAdd(fixture.Context) { Fused = act };
        using GpuTensor gx = GpuTensor.From(fixture.Context, x, "x"), gy = GpuTensor.From(fixture.Context, y, "y");
        using var output = new GpuTensor(fixture.Context, label: "out");
        add.Run(gx, gy, output);
        var expected = new Tensor([64]);
        for (int i = 0; i < 64; i++) expected.Data[i] = Activation.Apply(act.Kind, x.Data[i] + y.Data[i], act.Slope, act.Min, act.Max, act.Beta);
        Assert.Contains(expected.Data, float.IsNaN);
        AssertEqual(expected, new Tensor([64], output.Download().Data), $"add, {which}");
    }

    [Theory]
    [InlineData(64, "same shape: pairs of vec4s, 32-byte stores")]
    [InlineData(12, "same shape: vec4")]
    [InlineData(7, "same shape: 1 value")]
    public void Add_SameShape_FusedRelu(int n, string variant)
    {
        if (!fixture.Context.WideStores && n == 64) variant = "same shape: vec4";
        var rng = new Random(n);
        Tensor a = Parity.Random(rng, 1, 1, n), b = Parity.Random(rng, 1, 1, n);
        a.Data[0] = float.NaN;
        a.Data[1] = float.NegativeInfinity;
        using var add = new GpuAdd(fixture.Context) { Fused = FusedActivation.Relu };
        using GpuTensor ga = GpuTensor.From(fixture.Context, a, "a"), gb = GpuTensor.From(fixture.Context, b, "b");
        using var output = new GpuTensor(fixture.Context, label: "out");
        add.Run(ga, gb, output);
        Assert.Equal(variant + ", relu fused", add.Variant);
        float[] got = output.Download().Data;
        // Float addition is exact IEEE on both sides: bit for bit.
        for (int i = 0; i < n; i++)
            Assert.Equal(Activation.Apply(ActivationKind.Relu, a.Data[i] + b.Data[i]), got[i]);
        Assert.Contains(got, v => v == 0f);
        // relu(NaN) is NaN, as max(x, 0) in ONNX's reference, PyTorch and ONNX Runtime.
        Assert.True(float.IsNaN(got[0]), $"relu(NaN) gave {got[0]}");
    }

    [Fact]
    public void Add_Broadcast_FusedRelu()
    {
        var rng = new Random(7);
        Tensor a = Parity.Random(rng, 3, 5, 6), b = Parity.Random(rng, 3, 1, 1);
        using var add = new GpuAdd(fixture.Context) { Fused = FusedActivation.Relu };
        using GpuTensor ga = GpuTensor.From(fixture.Context, a, "a"), gb = GpuTensor.From(fixture.Context, b, "b");
        using var output = new GpuTensor(fixture.Context, label: "out");
        add.Run(ga, [3, 5, 6], gb, [3, 1, 1], output, (3, 5, 6));
        Assert.Equal("broadcast, relu fused", add.Variant);
        Tensor got = output.Download();
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 30; i++)
                Assert.Equal(Activation.Apply(ActivationKind.Relu, a.Data[c * 30 + i] + b.Data[c]), got.Data[c * 30 + i]);
    }
}
