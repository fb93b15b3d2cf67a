using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>The Winograd F(4x4, 3x3) plan (WinogradPlan: winograd_input/gemm/output.comp over conv2d_pad.comp's padded copy)
/// against Conv2D.Apply, forced on (<see cref="ConvPath.Winograd"/>) whatever the size, over sweeps that straddle its
/// blocking: tiles of 4x4 outputs (widths and heights 1..9, 17, 31, 33, 257: partial tiles on both edges), 4 tiles per
/// transform invocation and 8 per product invocation (tile counts around multiples of 4 and 8), blocks of 4 output
/// channels (1..17), every border, padding and mode, bias or none, the 32-byte stores (output widths multiples of 8, with
/// and without), the vec4 stores (multiples of 4) and the
/// scalar ones. Also the cost rule (which layers Auto gives it) and the tolerance over many input channels.</summary>
[Collection(GlCollection.Name)]
public sealed class WinogradTests(GlFixture fixture, ITestOutputHelper log)
{
    private static readonly PaddingMode[] Paddings = Enum.GetValues<PaddingMode>();

    private Tensor? Check(int cin, int cout, int h, int w, ConvOptions o, bool bias, int seed, ConvPath choice = ConvPath.Winograd, float inputScale = 1.2f,
        float abs = Parity.Abs, int split = 0, long scratch = 0, int? slicesExpected = null)
    {
        var rng = new Random(seed);
        Tensor input = Parity.Random(rng, inputScale, cin, h, w);
        Tensor weight = Parity.Random(rng, 1f / MathF.Sqrt(cin * 9), cout, cin, 3, 3);
        float[]? b = bias ? Parity.RandomVector(rng, 1f, cout) : null;
        string spec = $"seed={seed} in=({cin},{h},{w}) weight=({cout},{cin},3,3) bias={bias} {o}";
        using var conv = new GpuConv2D(fixture.Context, weight, b, o) { Choice = choice, SplitK = split, WinogradScratchFloats = scratch };
        if (Parity.ReferenceOrSameRefusal(() => Conv2D.Apply(input, weight, b, o), () => conv.Apply(input)) is not { } expected) return null;
        Tensor actual = conv.Apply(input);
        Assert.StartsWith("winograd F(4x4,3x3)", conv.Variant, StringComparison.Ordinal);
        // Products of 16 output channels x 4 tiles on maps of at most 4 tiles where the blocks of 4 come in fours (cout
        // 13..16, 29..32); else in blocks of 8 output channels where the blocks of 4 pair up (cout 5..8), else of 4.
        int tiles = (expected.H + 3) / 4 * ((expected.W + 3) / 4), blocks = (cout + 3) / 4;
        string products = tiles <= 4 && blocks % 4 == 0 ? "16 channels x 4 tiles" : blocks % 2 == 0 ? "8 channels x 8 tiles" : "4 channels x 8 tiles";
        Assert.Contains(products, conv.Variant, StringComparison.Ordinal);
        Assert.Equal(fixture.Context.WideStores && expected.W % 8 == 0 ? "32-byte" : expected.W % 4 == 0 ? "vec4" : "scalar", FastConvTests.Stores(conv.Variant));
        int slices = slicesExpected ?? Math.Min(split, cin);
        if (slices > 1) Assert.Contains($"input channels split {slices} ways", conv.Variant, StringComparison.Ordinal);
        else Assert.DoesNotContain("split", conv.Variant, StringComparison.Ordinal);
        if (scratch == 0) Assert.DoesNotContain("bands", conv.Variant, StringComparison.Ordinal);
        Parity.AssertGpuMatchesReference(expected, actual, spec + " -- " + conv.Variant, abs);
        return actual;
    }

    /// <summary>The bands <paramref name="conv"/>'s plan runs in: (count, tile rows each), or (1, all) for none.</summary>
    private static (int Bands, int Rows) Bands(GpuConv2D conv, int th)
    {
        System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(conv.Variant, @"(\d+) bands of (\d+) tile rows?");
        return m.Success ? (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value)) : (1, th);
    }

    /// <summary>Maps whose transformed tensors pass the scratch run in bands of tile rows (WinogradPlan.BandRows), each
    /// band's padded copy, transforms, products and outputs in turn through the same scratch: forced here with a small
    /// scratch. One tile row a band, uneven last bands, with split K, every product variant, reflect, wrap and zero
    /// borders (the copy of a band reads the rows above and below it through the border), convolve, bias, 32-byte,
    /// vec4 and scalar stores.</summary>
    [Fact]
    public void Bands_OfTileRows_WhereTheScratchIsSmall()
    {
        int seed = 1300;
        foreach ((int cin, int cout, int h, int w, long scratch, int split, (int Bands, int Rows) expect, Border border) in new[]
        {
            // 3 -> 5 at 17x9: 5 x 3 tiles; 2,304 floats hold 2 tile rows (6 tiles, padded to 8: products 36 x 8 x 8 =
            // 2,304 floats; transformed input 36 x 3 x 8 = 864; the band's copy 3 x 10 x 16 = 480): bands of 2, 2 and 1.
            (3, 5, 17, 9, 2304L, 0, (3, 2), Border.Reflect),
            // one tile row a band (8 x 6 tiles; a row's 6 padded to 8: products 36 x 4 x 8 = 1,152 floats, two rows need 16)
            (2, 3, 32, 24, 1152L, 0, (8, 1), Border.Zero),
            (6, 16, 25, 40, 40000L, 0, (2, 4), Border.Wrap), // 7 tile rows, at most 6 a band: 4 and 3
            // split 2 kept (the transformed input binds first, not the products' two copies): bands of 5 and 4 tile rows
            (17, 4, 33, 33, 30000L, 2, (2, 5), Border.Reflect),
            // split 2 dropped (its two copies of the products would halve the bands)
            (9, 12, 19, 64, 20000L, 2, (3, 2), Border.Zero),
        })
        {
            var o = new ConvOptions { Border = border, Mode = seed % 2 == 0 ? ConvMode.Convolve : ConvMode.Correlate };
            var rng = new Random(++seed);
            Tensor input = Parity.Random(rng, 1.2f, cin, h, w);
            Tensor weight = Parity.Random(rng, 1f / MathF.Sqrt(cin * 9), cout, cin, 3, 3);
            float[] b = Parity.RandomVector(rng, 1f, cout);
            using var conv = new GpuConv2D(fixture.Context, weight, b, o) { Choice = ConvPath.Winograd, SplitK = split, WinogradScratchFloats = scratch };
            Tensor actual = conv.Apply(input);
            string spec = $"seed={seed} in=({cin},{h},{w}) cout={cout} scratch={scratch} split={split} {o} -- {conv.Variant}";
            int th = (h + 3) / 4, tw = (w + 3) / 4;
            (int bands, int rows) = Bands(conv, th);
            Assert.True(bands > 1, spec);
            int paddedW = ConvPlan.PadRowWidth(fixture.Context, 4 * tw + 4);
            System.Text.RegularExpressions.Match sm = System.Text.RegularExpressions.Regex.Match(conv.Variant, @"split (\d+) ways");
            int slices = sm.Success ? int.Parse(sm.Groups[1].Value) : 1;
            // As few bands as the scratch allows, as even as they go.
            int most = WinogradPlan.BandRows(th, tw, cin, (cout + 3) / 4, paddedW, slices, scratch);
            Assert.Equal((th + most - 1) / most, bands);
            Assert.Equal((th + bands - 1) / bands, rows);
            Assert.Equal(expect, (bands, rows));
            Assert.Equal(split == 2 && cout == 4 ? 2 : 1, slices);
            Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, b, o), actual, spec);
        }
    }

    /// <summary>Split K (the products' input channels in slices, each slice's sums in its own copy of M, added by the
    /// output transform): every product variant (16 x 4, 8 x 8, 4 x 8), slices that divide the channels and slices that
    /// do not (the last one short, or empty: 17 channels in 5 slices of 4 leaves the fifth with 1; 6 channels in 4 slices
    /// of 2 leaves the last with none), partial tiles, borders, bias, and one slice per channel. Off by default
    /// (WinogradPlan.SplitK); these force it.</summary>
    [Fact]
    public void SplitK_EveryProductVariant_EvenAndUnevenSlices()
    {
        int seed = 900;
        foreach ((int cin, int cout, int h, int w, int split) in new[]
        {
            (17, 16, 7, 7, 5), (32, 32, 5, 8, 2), (6, 16, 8, 8, 4),  // 16 channels x 4 tiles
            (17, 8, 9, 13, 3), (40, 6, 17, 17, 4),                   // 8 channels x 8 tiles
            (9, 5, 12, 31, 2), (5, 3, 33, 9, 5), (3, 1, 4, 4, 8),    // 4 channels x 8 tiles; slices past the channels: one each
        })
            Assert.NotNull(Check(cin, cout, h, w, new ConvOptions { Border = seed % 2 == 0 ? Border.Zero : Border.Reflect }, bias: seed % 3 != 0,
                ++seed, split: split));
        // ResNet18's last stage, split 16 ways as CONVGL_SPLIT_K=auto would on a GPU (16 output channels here: 36
        // invocations of 16 x 4, so auto's most, 16): the sums in another order, within the same bound as unsplit
        // (SevenBySevenMap_512InputChannels_16ChannelProducts).
        int auto = WinogradPlan.AutoSplitK(512, WinogradPlan.GemmInvocations(4, 4, 8));
        Assert.Equal(16, auto);
        Assert.NotNull(Check(512, 16, 7, 7, new ConvOptions(), bias: true, seed: 512, abs: 2e-5f, split: auto));
    }

    /// <summary>CONVGL_SPLIT_K=auto's arithmetic (WinogradPlan.AutoSplitK over GemmInvocations), by hand: slices =
    /// clamp(32768 / invocations, 1, min(16, C_in / 16)) (at least 1 where C_in &lt; 32).</summary>
    [Fact]
    public void SplitKAuto_SlicesFromTheProductInvocations_HandChecked()
    {
        // GemmInvocations(blocks of 4 output channels, tiles, tiles padded to 8): 36 positions x
        //   16 x 4 (tiles <= 4, blocks in fours): blocks / 4 x tile groups of 4;
        //   8 x 8 (blocks even): blocks / 2 x padded / 8; 4 x 8 (blocks odd): blocks x padded / 8.
        Assert.Equal(36 * 32 * 1, WinogradPlan.GemmInvocations(128, 4, 8));     // 512 -> 512 at 7x7: 1,152
        Assert.Equal(36 * 32 * 2, WinogradPlan.GemmInvocations(64, 16, 16));    // 256 -> 256 at 14x14: 2,304
        Assert.Equal(36 * 16 * 7, WinogradPlan.GemmInvocations(32, 49, 56));    // 128 -> 128 at 28x28: 4,032
        Assert.Equal(36 * 8 * 25, WinogradPlan.GemmInvocations(16, 196, 200));  // 64 -> 64 at 56x56: 7,200
        Assert.Equal(36 * 9 * 1, WinogradPlan.GemmInvocations(9, 4, 8));        // 36 output channels at 7x7: 4 x 8, 324
        Assert.Equal(36 * 2 * 1, WinogradPlan.GemmInvocations(8, 3, 8));        // 32 output channels on 3 tiles: 16 x 4, 72
        // ResNet18's stages: 32768 / 1,152 = 28 -> 16 (the most); / 2,304 = 14 (cap 16); / 4,032 = 8 (cap 128 / 16 = 8);
        // / 7,200 = 4 (cap 64 / 16 = 4).
        Assert.Equal(16, WinogradPlan.AutoSplitK(512, 1152));
        Assert.Equal(14, WinogradPlan.AutoSplitK(256, 2304));
        Assert.Equal(8, WinogradPlan.AutoSplitK(128, 4032));
        Assert.Equal(4, WinogradPlan.AutoSplitK(64, 7200));
        // The channel cap: 40 channels hold 2 slices of 16 at most, 47 still 2, 48 three; under 32 channels, no split.
        Assert.Equal(2, WinogradPlan.AutoSplitK(40, 324));
        Assert.Equal(2, WinogradPlan.AutoSplitK(47, 36));
        Assert.Equal(3, WinogradPlan.AutoSplitK(48, 36));
        Assert.Equal(1, WinogradPlan.AutoSplitK(31, 36));
        Assert.Equal(1, WinogradPlan.AutoSplitK(3, 1));
        // The target: at or past 32,768 invocations, none; just under half of it, 2; 0 invocations read as 1.
        Assert.Equal(1, WinogradPlan.AutoSplitK(512, 32768));
        Assert.Equal(1, WinogradPlan.AutoSplitK(512, 16385));
        Assert.Equal(2, WinogradPlan.AutoSplitK(512, 16384));
        Assert.Equal(1, WinogradPlan.AutoSplitK(64, 112896)); // 64 -> 64 at 224x224: 3,136 tiles, 36 x 8 x 392
        Assert.Equal(16, WinogradPlan.AutoSplitK(1024, 0));
    }

    /// <summary>CONVGL_SPLIT_K read from the environment when the conv asks for no split of its own: "auto" gives
    /// AutoSplitK's slices on a GPU and none on a software rasteriser (llvmpipe's lanes are busy already), a number that
    /// many slices (at most one per input channel), and either way the reference's values.</summary>
    [Fact]
    public void SplitKSetting_AutoAndANumber_FromTheEnvironment()
    {
        string? was = Environment.GetEnvironmentVariable("CONVGL_SPLIT_K");
        try
        {
            // 48 -> 16 at 7x7: 4 tiles, 16 x 4 products, 36 invocations: auto on a GPU takes its channel cap, 3.
            int auto = fixture.Context.IsSoftware ? 1 : WinogradPlan.AutoSplitK(48, WinogradPlan.GemmInvocations(4, 4, 8));
            Assert.Equal(fixture.Context.IsSoftware ? 1 : 3, auto);
            Environment.SetEnvironmentVariable("CONVGL_SPLIT_K", "auto");
            Assert.NotNull(Check(48, 16, 7, 7, new ConvOptions { Border = Border.Reflect }, bias: true, seed: 4801, slicesExpected: auto));
            Environment.SetEnvironmentVariable("CONVGL_SPLIT_K", "3");
            Assert.NotNull(Check(48, 16, 7, 7, new ConvOptions { Border = Border.Reflect }, bias: true, seed: 4802, slicesExpected: 3));
            Assert.NotNull(Check(17, 6, 9, 13, new ConvOptions(), bias: false, seed: 4803, slicesExpected: 3)); // 8 x 8, uneven slices
            Environment.SetEnvironmentVariable("CONVGL_SPLIT_K", "9");
            Assert.NotNull(Check(5, 3, 5, 9, new ConvOptions(), bias: true, seed: 4804, slicesExpected: 5)); // one per channel
            // A split asked for by the conv itself wins over the setting.
            Assert.NotNull(Check(48, 16, 7, 7, new ConvOptions(), bias: true, seed: 4805, split: 2));
        }
        finally
        {
            Environment.SetEnvironmentVariable("CONVGL_SPLIT_K", was);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EveryWidthAndHeight_PartialTiles(bool wide)
    {
        // Same padding, zero border: the output is the input's size, so every width and height leaves a different partial
        // last tile (and 1..3 wide images are one partial tile); tile counts 1 .. 65 x 5 cross the blocks of 4 and 8. With
        // and without the 32-byte stores (the padded copy's 8 elements per invocation, the input transform's stores).
        int seed = 0;
        FastConvTests.WithWideStores(fixture.Context, wide, () =>
        {
            foreach (int w in new[] { 1, 2, 3, 4, 5, 7, 8, 9, 17, 31, 33, 257 })
                foreach (int h in new[] { 1, 3, 4, 5, 9, 17 })
                    Assert.NotNull(Check(3, w % 2 == 0 ? 5 : 3, h, w, new ConvOptions(), bias: (w + h) % 2 == 0, ++seed)); // 8- and 4-channel products
        });
    }

    /// <summary>Partial last tiles on both axes under every border and explicit pads, symmetric and not: (before, after)
    /// pads of (1, 1), (2, 2), (0, 3), (3, 0), (2, 5), (1, 0) in turn on each axis (the next one where the output,
    /// n + before + after - 2, would be empty or whole tiles), so the padded copy starts at another offset and the output
    /// ends at another place in its last tile; widths 1, 7, 9, 31, 33, 257 and heights 1, 5, 17 (a 1-wide map and a pad
    /// of 5 fold far past the image), channels 1..17, both modes, bias or none. EveryWidthAndHeight_PartialTiles holds
    /// the zero border at same padding, whole tiles included.</summary>
    [Theory]
    [InlineData(Border.Replicate)]
    [InlineData(Border.Reflect)]
    [InlineData(Border.Symmetric)]
    [InlineData(Border.Wrap)]
    [InlineData(Border.Zero)]
    public void PartialTiles_EveryBorder_AsymmetricPads(Border border)
    {
        (int Before, int After)[] pads = [(1, 1), (2, 2), (0, 3), (3, 0), (2, 5), (1, 0)];
        int next = (int)border;
        (int, int) Pads(int n)
        {
            (int before, int after) = pads[next++ % pads.Length];
            while ((n + before + after - 2) % 4 == 0 || n + before + after - 2 < 1) (before, after) = pads[next++ % pads.Length];
            return (before, after);
        }
        int seed = 2000 + 100 * (int)border;
        foreach (int w in new[] { 1, 7, 9, 31, 33, 257 })
            foreach (int h in new[] { 1, 5, 17 })
            {
                ++seed;
                (int left, int right) = Pads(w);
                (int top, int bottom) = Pads(h);
                var o = new ConvOptions
                {
                    Border = border, Mode = seed % 2 == 0 ? ConvMode.Convolve : ConvMode.Correlate, Padding = PaddingMode.Explicit,
                    PadX = left, PadRight = right, PadY = top, PadBottom = bottom,
                };
                Tensor? actual = Check(1 + seed * 7 % 17, 1 + seed * 5 % 17, h, w, o, bias: seed % 3 != 0, seed);
                Assert.NotNull(actual);
                Assert.Equal((top + bottom + h - 2, left + right + w - 2), (actual.H, actual.W));
            }
    }

    [Fact]
    public void SmallMaps_16ChannelProducts()
    {
        // Maps of 1 to 4 tiles (outputs 1..8 a side, partial tiles included) with whole blocks of 16 output channels (and
        // 13, whose last block of 4 is part padding): 16 channels x 4 tiles per product invocation. Past 4 tiles (9 a
        // side, 12 x 6) the 8-tile products again.
        int seed = 100;
        foreach (int cout in new[] { 13, 16, 32 })
            foreach ((int h, int w) in new[] { (1, 1), (3, 5), (4, 4), (5, 8), (7, 7), (8, 8), (9, 9), (6, 12) })
                Assert.NotNull(Check(cout == 32 ? 40 : 6, cout, h, w, new ConvOptions { Border = (h + w) % 3 == 0 ? Border.Reflect : Border.Zero }, bias: cout != 13, ++seed));
    }

    [Fact]
    public void SevenBySevenMap_512InputChannels_16ChannelProducts()
    {
        // ResNet18's last stage as its plan runs it (4 tiles, 16 channels x 4 tiles; the sums in the same order as the
        // 8-tile products, so the same values bit for bit, checked when this was written). Winograd's float32 error at 512
        // input channels reaches the parity bound here: one value of 784, -0.0167636 against the GPU's -0.0167765
        // (1.3e-5; bound 1.2e-5), so this case is held to abs 2e-5 (bench/README.md, "Winograd F(4x4, 3x3)", has the
        // error measured against channels in NumPy: 8.5e-6 at 512 there).
        Assert.NotNull(Check(512, 16, 7, 7, new ConvOptions(), bias: true, seed: 512, abs: 2e-5f));
    }

    [Fact]
    public void EveryBorderPaddingAndMode_Channels1To17()
    {
        var rng = new Random(4343);
        int ran = 0;
        for (int n = 0; n < 40; n++)
        {
            var o = new ConvOptions
            {
                Mode = rng.Next(2) == 0 ? ConvMode.Correlate : ConvMode.Convolve,
                Border = Borders.All[rng.Next(Borders.All.Count)],
                Padding = Paddings[rng.Next(Paddings.Length)],
                PadY = rng.Next(0, 4),
                PadX = rng.Next(0, 4),
            };
            if (o.Padding == PaddingMode.Explicit) o = o with { PadBottom = rng.Next(0, 6), PadRight = rng.Next(0, 6) };
            int[] sizes = [1, 2, 5, 7, 8, 12, 17, 33];
            int h = sizes[rng.Next(sizes.Length)], w = sizes[rng.Next(sizes.Length)];
            if (Check(rng.Next(1, 18), rng.Next(1, 18), h, w, o, rng.Next(2) == 0, rng.Next()) is not null) ran++;
        }
        log.WriteLine($"{ran} of 40 compared");
        Assert.True(ran >= 30, $"only {ran} of 40 random cases had an output");
    }

    [Theory]
    [InlineData(64, 56)]
    [InlineData(256, 14)]
    [InlineData(512, 7)]
    public void ResNetShapes_ManyInputChannels_WithinTheParityBound(int channels, int size)
    {
        // ResNet18's 3x3 layers (fewer output channels to keep the reference's time down): the transforms' rounding grows
        // with the number of input channels summed; with PyTorch-scaled weights it stays in bounds.
        Assert.NotNull(Check(channels, 12, size, size, new ConvOptions(), bias: true, seed: channels));
    }

    [Fact]
    public void CostRule_AutoTakesItForWideLayersOnMapsOfSeveralTiles()
    {
        using IDisposable rules = ConvTuningTests.Rules(fixture.Context);
        var rng = new Random(9);
        string Variant(int cin, int cout, int h, int w, ConvOptions o)
        {
            using var conv = new GpuConv2D(fixture.Context, Parity.Random(rng, 0.2f, cout, cin / o.Groups, 3, 3), null, o);
            conv.Apply(Parity.Random(rng, cin, h, w));
            return conv.Variant;
        }
        // 32 -> 48 at 40x40: 100 tiles (104 padded), 36 * 13 * 3 = 1404 product fetches per channel pair block against the
        // direct program's 5 * 40 * 18 = 3600: under half. 64 -> 32 at 17x23 (reflect, convolve): 30 tiles, 432 vs 918.
        Assert.StartsWith("winograd", Variant(32, 48, 40, 40, new ConvOptions()), StringComparison.Ordinal);
        Assert.StartsWith("winograd", Variant(64, 32, 17, 23, new ConvOptions { Border = Border.Reflect, Mode = ConvMode.Convolve }), StringComparison.Ordinal);
        Assert.True(WinogradPlan.Pays(64, 64, 56, 56, 200) && WinogradPlan.Pays(256, 256, 14, 14, 16));
        // A 7x7 map: 4 tiles, one block of 8, half of it padding: with 8-channel products it still pays (measured); with
        // 4-channel ones (36 output channels: 9 blocks) and for a single tile (4x4) it does not.
        Assert.True(WinogradPlan.Pays(512, 512, 7, 7, 8) && WinogradPlan.Pays(128, 128, 7, 7, 8));
        Assert.False(WinogradPlan.Pays(512, 36, 7, 7, 8));
        Assert.False(WinogradPlan.Pays(512, 512, 4, 4, 8));
        Assert.StartsWith("winograd", Variant(128, 128, 7, 7, new ConvOptions()), StringComparison.Ordinal);
        // Fewer channels (an RGB stem, 16 -> 32), a small map, strides, dilations and groups take the direct programs.
        Assert.DoesNotContain("winograd", Variant(16, 32, 40, 40, new ConvOptions()), StringComparison.Ordinal);
        Assert.DoesNotContain("winograd", Variant(3, 64, 40, 40, new ConvOptions()), StringComparison.Ordinal);
        // 64 -> 64 on a 7x7 map: 3,136 outputs (under ConvPlan.MinFastOutputs, so not Winograd) but 1.8 M multiply-adds
        // (over ConvPlan.MinFastMacs): the direct fast program, not conv2d.comp (which took 14-26 ms there); a layer that
        // small in both (8 -> 8 on 7x7: 392 outputs, 28 k multiply-adds) keeps conv2d.comp.
        Assert.StartsWith("conv2d_dense", Variant(64, 64, 7, 7, new ConvOptions()), StringComparison.Ordinal);
        Assert.StartsWith("conv2d:", Variant(8, 8, 7, 7, new ConvOptions()), StringComparison.Ordinal);
        Assert.DoesNotContain("winograd", Variant(32, 32, 40, 40, new ConvOptions { StrideX = 2, StrideY = 2 }), StringComparison.Ordinal);
        Assert.DoesNotContain("winograd", Variant(32, 32, 40, 40, new ConvOptions { DilationY = 2 }), StringComparison.Ordinal);
        Assert.DoesNotContain("winograd", Variant(32, 32, 40, 40, new ConvOptions { Groups = 2 }), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Border.Zero, ConvMode.Correlate, 0L)]
    [InlineData(Border.Reflect, ConvMode.Convolve, 0L)]
    [InlineData(Border.Wrap, ConvMode.Correlate, 0L)]
    [InlineData(Border.Reflect, ConvMode.Correlate, 2304L)] // bands of one tile row: the fix-up per band, its rows placed
    public void NaNAndInfinity_ReachExactlyTheOutputsTheReferenceGives(Border border, ConvMode mode, long scratch)
    {
        // The transforms mix a tile's 36 inputs into all 16 of its outputs (and inf - inf into NaN): the tiles holding a
        // non-finite value are recomputed directly (winograd_fixup.comp). A NaN in two channels at one place (the tile
        // listed once), a NaN at the right edge (tiles past the image through the border), +inf and -inf in one tile
        // (NaN where both meet a window, infinities elsewhere), and finite values everywhere else.
        var rng = new Random(77);
        Tensor input = Parity.Random(rng, 1.2f, 3, 13, 17);
        input[0, 5, 6] = float.NaN;
        input[2, 5, 6] = float.NaN;
        input[1, 0, 16] = float.NaN;
        input[1, 9, 2] = float.PositiveInfinity;
        input[0, 10, 3] = float.NegativeInfinity;
        Tensor weight = Parity.Random(rng, 0.2f, 5, 3, 3, 3);
        float[] bias = Parity.RandomVector(rng, 1f, 5);
        var o = new ConvOptions { Border = border, Mode = mode };
        using var conv = new GpuConv2D(fixture.Context, weight, bias, o) { Choice = ConvPath.Winograd, WinogradScratchFloats = scratch };
        Tensor actual = conv.Apply(input), expected = Conv2D.Apply(input, weight, bias, o);
        Assert.StartsWith("winograd", conv.Variant, StringComparison.Ordinal);
        Assert.Equal(scratch > 0, conv.Variant.Contains("4 bands of 1 tile row,", StringComparison.Ordinal));
        Assert.Contains(expected.Data, float.IsNaN);
        Assert.Contains(expected.Data, float.IsInfinity);
        for (int i = 0; i < expected.Length; i++)
        {
            float r = expected.Data[i], g = actual.Data[i];
            if (float.IsFinite(r)) continue;
            Assert.True(float.IsNaN(r) ? float.IsNaN(g) : r == g, $"value {i}: reference {r}, GPU {g}");
            expected.Data[i] = actual.Data[i] = 0f;
        }
        Parity.AssertGpuMatchesReference(expected, actual, $"{border} {mode}, finite values around non-finite inputs");
        // The next run, with every input finite again, lists no tile: the same results as a fresh plan's.
        Tensor finite = Parity.Random(rng, 1.2f, 3, 13, 17);
        Parity.AssertGpuMatchesReference(Conv2D.Apply(finite, weight, bias, o), conv.Apply(finite), "finite input after a non-finite one");
    }

    [Fact]
    public void WeightTransform_OfAUnitTap_IsTheOuterProductOfAColumnOfG()
    {
        // U = G g G^T: for g with a single 1 at tap (i, j), U[p, q] = G[p, i] * G[q, j]. Tap (1, 1): G's middle column is
        // (0, -1/6, 1/6, 1/12, -1/12, 0), so U[1, 2] = -1/36 and U[3, 3] = 1/144; row and column 0 and 5 are zero.
        // Under convolve the kernel turns by 180 degrees: tap (0, 0) is read as tap (2, 2), whose G column is (0, -1/6,
        // -1/6, 1/6, 1/6, 1): U[5, 5] = 1.
        var g = new float[9];
        g[4] = 1f;
        float[] u = WinogradPlan.PackWeights(g, [0.5f], 1, 1, flip: false);
        Assert.Equal(-1.0 / 36, u[(1 * 6 + 2) * 4], 7);
        Assert.Equal(1.0 / 144, u[(3 * 6 + 3) * 4], 7);
        for (int k = 0; k < 6; k++)
        {
            Assert.Equal(0f, u[(0 * 6 + k) * 4]);
            Assert.Equal(0f, u[(k * 6 + 5) * 4]);
        }
        Assert.Equal(0.5f, u[36 * 4]); // the bias vec4 after the 36 positions
        var corner = new float[9];
        corner[0] = 1f;
        float[] flipped = WinogradPlan.PackWeights(corner, null, 1, 1, flip: true);
        Assert.Equal(1f, flipped[(5 * 6 + 5) * 4]);
        Assert.Equal(1.0 / 36, flipped[(3 * 6 + 4) * 4], 7);
    }
}
