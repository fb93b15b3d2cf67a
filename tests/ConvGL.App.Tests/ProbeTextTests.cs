using ConvGL.App.Live;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;

namespace ConvGL.App.Tests;

/// <summary>The probe panel's text (<see cref="HudText.ProbeLines"/>), from probes filled by hand: the header, the input
/// window named by its channel (B for ResNet18's preprocessed input, not "channel 0"), the rows of window, kernel and
/// products, the sums (each beside its channel's name for an image's 1-3 channels), the bias, the CPU sum and the GPU value.</summary>
public sealed class ProbeTextTests
{
    private static readonly string[] Bgr = ["B", "G", "R"];

    /// <summary>A 2x2 kernel over 3 channels: window [1 2; 3 4], [0 0; 0 0], [-1 0; 0 1]; kernel [1 0; 0 -1] on each.
    /// Sums: 1 - 4 = -3, 0, -1 - 1 = -2; + bias 0.5 = -4.5.</summary>
    private static Probe ThreeChannels() => new(null!)
    {
        Valid = true, Layer = 0, Channel = 2, X = 5, Y = 7, KernelHeight = 2, KernelWidth = 2, InputChannels = 3, FirstInput = 0,
        Window = [1, 2, 3, 4, 0, 0, 0, 0, -1, 0, 0, 1],
        Kernel = [1, 0, 0, -1, 1, 0, 0, -1, 1, 0, 0, -1],
        ChannelSums = [-3, 0, -2], Bias = 0.5f, Sum = -4.5, Gpu = -4.5f,
    };

    [Fact]
    public void ImageInput_NamesTheWindowsChannel_AndEachSum()
    {
        List<string> lines = HudText.ProbeLines(ThreeChannels(), pinned: true, c => Bgr[c]);
        Assert.Equal(
        [
            "probe (pinned): layer 1, out channel 2, (x 5, y 7)",
            "input window (channel 0: B)  kernel as applied  products",
            "  1.0000  2.0000  |      1      0  |  1.0000  0.0000",
            "  3.0000  4.0000  |      0     -1  |  0.0000 -4.0000",
            "sum over 3 input channel(s): B -3.0000 G 0.0000 R -2.0000, total -5.0000",
            "+ bias 0.5000 = -4.500000 (CPU, from the GPU's input)   GPU wrote -4.500000   |diff| 0.0e+0",
        ], lines);
    }

    /// <summary>A window review: a conv probe on the zero border showed the border's taps as 0.0000, like real zeros of
    /// the input. They read "pad 0" (the value the padding supplies), and their products stay 0.</summary>
    [Fact]
    public void ZeroBorderTaps_ReadPad0()
    {
        var p = new Probe(null!)
        {
            Valid = true, Layer = 0, Channel = 0, X = 0, Y = 0, KernelHeight = 2, KernelWidth = 2, InputChannels = 1, FirstInput = 0,
            Window = [0, 0, 0, 4], Kernel = [1, 1, 1, -1], ZeroPad = [true, true, true, false],
            ChannelSums = [-4], Bias = 0, Sum = -4, Gpu = -4,
        };
        List<string> lines = HudText.ProbeLines(p, pinned: false, _ => "gray");
        Assert.Equal("   pad 0   pad 0  |      1      1  |  0.0000  0.0000", lines[2]);
        // Where the window lies: at stride 2 with a pad of 1 and dilation 3 on x, output (0, 0) reads rows -1..0 and
        // columns -1..2 (taps 3 apart), all but the last of them padding.
        p.Reach = (-1, -1, 1, 3);
        Assert.Equal("probe: layer 1, out channel 0, (x 0, y 0): window at input rows -1..0, cols -1..2, taps 1 row and 3 columns apart",
            HudText.ProbeLines(p, pinned: false, _ => "gray")[0]);
        p.Reach = (4, 6, 2, 2);
        Assert.EndsWith("window at input rows 4..6, cols 6..8, taps 2 apart", HudText.ProbeLines(p, pinned: false, _ => "gray")[0], StringComparison.Ordinal);
        Assert.Equal("   pad 0  4.0000  |      1     -1  |  0.0000 -4.0000", lines[3]);
    }

    /// <summary>The live-window audit: a sum past float32's range printed gpu=Infinity cpu=1.75e39 and |diff| Infinity,
    /// though the CPU reference stores that sum as infinity too. The CPU value is the float32 the reference stores, and
    /// equal values (infinities included) differ by 0.</summary>
    [Fact]
    public void SumPastFloat32_IsInfinityOnBothSides_DifferenceZero()
    {
        Probe p = ThreeChannels();
        p.Sum = (float)1.75e39;
        p.Gpu = float.PositiveInfinity;
        Assert.Equal(double.PositiveInfinity, p.Sum);
        Assert.Equal(0, p.Difference);
        Assert.EndsWith("GPU wrote Infinity   |diff| 0.0e+0", HudText.ProbeLines(p, pinned: true, c => Bgr[c])[^1]);
        p.Gpu = 3;
        Assert.Equal(double.PositiveInfinity, p.Difference);
        p.Sum = double.NaN;
        p.Gpu = float.NaN;
        Assert.Equal(0, p.Difference);
    }

    /// <summary>A window review: a pin left outside the map after a smaller source was dropped said "(144, 91) channel 0 is
    /// outside the output (16, 30, 50)" and nothing of the way out.</summary>
    [Fact]
    public void APinOutsideTheMap_SaysAClickUnpinsIt()
    {
        var p = new Probe(null!) { Valid = false, Layer = 4, X = 144, Y = 91, Why = "(144, 91) channel 0 is outside the output (16, 30, 50)" };
        Assert.Equal("(144, 91) channel 0 is outside the output (16, 30, 50); a click unpins the probe", HudText.ProbeLines(p, pinned: true, _ => "")[1]);
        Assert.Equal("(144, 91) channel 0 is outside the output (16, 30, 50)", HudText.ProbeLines(p, pinned: false, _ => "")[1]);
    }

    /// <summary>A window review: at --ui-scale 4 the probe strip kept the header and a window row and cut the result
    /// line (out, GPU wrote, |diff|), the point of the probe. A cut keeps the result, with a line counting what is left out.</summary>
    [Fact]
    public void ACutProbeStrip_KeepsTheResultLines()
    {
        List<string> lines = ["header", "columns", "row 0", "row 1", "row 2", "sums", "result part 1", "result part 2"];
        Assert.Equal(["header", "columns", "... 4 more lines: enlarge the window", "result part 1", "result part 2"],
            HudText.CutKeepingTail(lines, 2, 5, 80));
        Assert.Equal(["header", "... 5 more lines", "result part 1", "result part 2"], HudText.CutKeepingTail(lines, 2, 4, 20));
        // No room for a line before the result and the count: the plain cut.
        Assert.Equal(HudText.CutToLines(lines, 3, 80), HudText.CutKeepingTail(lines, 2, 3, 80));
        Assert.Same(lines, HudText.CutKeepingTail(lines, 2, 8, 80));
    }

    /// <summary>The CPU's value and what the GPU wrote print alike when they are equal: the window review saw "=
    /// -0.234393 (CPU ...)   GPU wrote -0.234394   |diff| 0.0e+0", .NET rounding the float to 7 significant digits
    /// (-0.2343935) before the format's 6 decimals. The float -0.23439348 is exactly -0.2343934774..., i.e. -0.234393.</summary>
    [Fact]
    public void EqualCpuAndGpuValues_PrintTheSameDigits()
    {
        const float value = -0.23439348f;
        var p = new Probe(null!)
        {
            Valid = true, KernelHeight = 1, KernelWidth = 1, InputChannels = 1, Window = [value], Kernel = [1], ChannelSums = [value],
            Bias = 0.25f, Sum = value, Gpu = value,
        };
        Assert.Equal("+ bias 0.2500 = -0.234393 (CPU, from the GPU's input)   GPU wrote -0.234393   |diff| 0.0e+0", HudText.ProbeLines(p, false, _ => "gray")[^1]);
    }

    [Fact]
    public void SmallKernelTaps_ShowInThousandths_ProductsAsTheyAre()
    {
        // A ResNet18-like tap size on a preprocessed input of -128..128: the kernel column in thousandths, said in its
        // heading; the products stay true values (100 * 0.0052 = 0.52, -50 * -0.0008 = 0.04).
        var p = new Probe(null!)
        {
            Valid = true, Layer = 0, Channel = 0, X = 1, Y = 2, KernelHeight = 1, KernelWidth = 2, InputChannels = 1, FirstInput = 0,
            Window = [100, -50], Kernel = [0.0052f, -0.0008f], ChannelSums = [0.56f], Bias = 0, Sum = 0.56, Gpu = 0.56f,
        };
        List<string> lines = HudText.ProbeLines(p, pinned: false, _ => "B");
        Assert.Equal("input window (channel 0: B)  kernel x 1e-3    products", lines[1]);
        // Window values to 2 decimals at 100 and above: a space between neighbours ("100.0000-50.0000" otherwise).
        Assert.Equal("  100.00  -50.00  |    5.2   -0.8  |  0.5200  0.0400", lines[2]);
        Assert.Equal(4, HudText.WindowDecimals([9.9f, -1f]));
        Assert.Equal(3, HudText.WindowDecimals([-10f, float.NaN]));
        Assert.Equal(2, HudText.WindowDecimals([-128f]));
        Assert.Equal(1, HudText.WindowDecimals([1000f]));
        Assert.Equal(0, HudText.WindowDecimals([-10000f]));
    }

    [Fact]
    public void ManyInputChannels_NameTheWindowsChannel_SumsStayNumbers()
    {
        // A grouped layer's group starting at input channel 4 of an earlier layer's 8 maps, 1x1 kernel.
        var p = new Probe(null!)
        {
            Valid = true, Layer = 3, Channel = 1, X = 0, Y = 0, KernelHeight = 1, KernelWidth = 1, InputChannels = 8, FirstInput = 4,
            Window = [2, 0, 0, 0, 0, 0, 0, 1], Kernel = [0.5f, 1, 1, 1, 1, 1, 1, 3], ChannelSums = [1, 0, 0, 0, 0, 0, 0, 3], Sum = 4, Gpu = 4,
        };
        string[] names = Enumerable.Range(0, 12).Select(c => $"Convolution28 {c}").ToArray();
        List<string> lines = HudText.ProbeLines(p, pinned: false, c => names[c]);
        Assert.Equal("probe: layer 4, out channel 1, (x 0, y 0)", lines[0]);
        Assert.StartsWith("input window (channel 4: Convolution28 4)", lines[1], StringComparison.Ordinal);
        // With room, every channel's sum (the UX audit's strip hid the 7th of 8, nearly the whole total, beside 800 px of room).
        Assert.Equal("sum over 8 input channel(s): 1.0000 0.0000 0.0000 0.0000 0.0000 0.0000 0.0000 3.0000, total 4.0000", lines[^2]);
        // As many as the strip's width holds, at least 6; the total of all 8 is what the bias is added to.
        Assert.Equal("sum over 8 input channel(s): 1.0000 0.0000 0.0000 0.0000 0.0000 0.0000 0.0000 ..., total 4.0000",
            HudText.ProbeLines(p, pinned: false, c => names[c], maxChars: 100)[^2]);
        Assert.Equal("sum over 8 input channel(s): 1.0000 0.0000 0.0000 0.0000 0.0000 0.0000 ..., total 4.0000",
            HudText.ProbeLines(p, pinned: false, c => names[c], maxChars: 60)[^2]);
    }

    [Fact]
    public void LongChannelNames_AreCut_AndGrayIsNamed()
    {
        var p = new Probe(null!)
        {
            Valid = true, KernelHeight = 1, KernelWidth = 1, InputChannels = 1, Window = [1], Kernel = [1], ChannelSums = [1], Sum = 1, Gpu = 1,
        };
        Assert.StartsWith("input window (channel 0: gray)", HudText.ProbeLines(p, false, _ => "gray")[1], StringComparison.Ordinal);
        // In a strip of 70 characters a name is cut at 16; in a wide one it has up to 40 (the deep stack's "sobel-x of
        // conv2 10" was cut to "sobel-x of conv~" in a 1600 px window). The window's header takes the room its line has
        // beside the kernel's and products' headings (a window review saw "|sobel-x, sobel-y| of c~" in a strip with room
        // for all of it): whole at 100; the channel sums keep 16 there (one name per channel).
        List<string> lines = HudText.ProbeLines(p, false, _ => "a-very-long-kernel-name of R", maxChars: 70);
        Assert.StartsWith("input window (channel 0: a-very-long-ker~)", lines[1], StringComparison.Ordinal);
        Assert.Equal("sum over 1 input channel(s): a-very-long-ker~ 1.0000", lines[^2]);
        lines = HudText.ProbeLines(p, false, _ => "a-very-long-kernel-name of R", maxChars: 100);
        Assert.StartsWith("input window (channel 0: a-very-long-kernel-name of R)", lines[1], StringComparison.Ordinal);
        Assert.True(lines.All(l => l.Length <= 100), string.Join("\n", lines));
        Assert.Equal("sum over 1 input channel(s): a-very-long-ker~ 1.0000", lines[^2]);
        lines = HudText.ProbeLines(p, false, _ => "a-very-long-kernel-name of R", maxChars: 220);
        Assert.StartsWith("input window (channel 0: a-very-long-kernel-name of R)", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void PoolAndActivationProbes_ShowTheWindowAndTheRule()
    {
        // A 2x2 average pool at a corner whose top row is padding, counted (divisor 4): (1 + 3) / 4.
        var pool = new Probe(null!)
        {
            Valid = true, Kind = ProbeKind.Pool, PoolMax = false, Layer = 2, Channel = 1, X = 0, Y = 0, KernelHeight = 2, KernelWidth = 2,
            InputChannels = 1, FirstInput = 1, Window = [0, 0, 1, 3], Inside = [false, false, true, true], Divisor = 4, Sum = 1, Gpu = 1,
            LayerName = "average pool 2x2",
        };
        Assert.Equal(
        [
            "probe (pinned): layer 3 (average pool 2x2), channel 1, (x 0, y 0)",
            "input window (channel 1: conv1 1)",
            "     pad     pad",
            "  1.0000  3.0000",
            "sum 4.0000 / 4 = 1.000000 (CPU, from the GPU's input)   GPU wrote 1.000000   |diff| 0.0e+0",
        ], HudText.ProbeLines(pool, pinned: true, c => $"conv1 {c}"));
        // Its max: the padding left out.
        pool.PoolMax = true;
        pool.LayerName = "max pool 2x2";
        pool.Sum = pool.Gpu = 3;
        Assert.Equal("max of the window (its pad cells left out) = 3.000000 (CPU, from the GPU's input)   GPU wrote 3.000000   |diff| 0.0e+0",
            HudText.ProbeLines(pool, pinned: false, c => $"conv1 {c}")[^1]);
        // A window without pad cells says nothing of padding (the math audit: every max pool probe said it).
        pool.Inside = [true, true, true, true];
        Assert.Equal("max of the window = 3.000000 (CPU, from the GPU's input)   GPU wrote 3.000000   |diff| 0.0e+0",
            HudText.ProbeLines(pool, pinned: false, c => $"conv1 {c}")[^1]);
        // A relu of a negative response.
        var relu = new Probe(null!)
        {
            Valid = true, Kind = ProbeKind.Activation, Layer = 1, Channel = 0, X = 4, Y = 5, KernelHeight = 1, KernelWidth = 1, InputChannels = 1,
            Window = [-0.25f], Inside = [true], Sum = 0, Gpu = 0, LayerName = "relu",
        };
        Assert.Equal(
        [
            "probe: layer 2 (relu), channel 0, (x 4, y 5)",
            "in[0, 5, 4] (conv1 0) = -0.25",
            "relu(in) = 0 (CPU, from the GPU's input)   GPU wrote 0   |diff| 0.0e+0",
        ], HudText.ProbeLines(relu, pinned: false, c => $"conv1 {c}"));
    }

    /// <summary>The filters view's hand-made bank is probed in the same strip as the learned layer above it: its header
    /// names it in place of "layer 1" (the Gabor stack's layer 1 is not the shown stack's), the rest reads as a conv's.</summary>
    [Fact]
    public void AProbeOfTheHandMadeBank_IsNamedForIt()
    {
        var p = new Probe(null!)
        {
            Valid = true, Layer = 0, Channel = 3, X = 200, Y = 100, KernelHeight = 1, KernelWidth = 2, InputChannels = 1,
            Window = [0.5f, 0.25f], Kernel = [2f, -4f], ChannelSums = [0], Sum = 0, Gpu = 0,
        };
        List<string> named = HudText.ProbeLines(p, pinned: true, _ => "gray", layerName: LiveApp.DesignedBankName);
        List<string> plain = HudText.ProbeLines(p, pinned: true, _ => "gray");
        Assert.Equal("probe (pinned): Gabor bank, out channel 3, (x 200, y 100)", named[0]);
        Assert.Equal("probe (pinned): layer 1, out channel 3, (x 200, y 100)", plain[0]);
        Assert.Equal(plain[1..], named[1..]);
    }

    [Fact]
    public void TheStripReserves_WhatTheProbeWrapsTo_AtEveryWidth()
    {
        // The widest probes likely: a far position, many input channels, long names and signed numbers; every width
        // from a phone-sized strip up. At 960x600 with --ui-scale 2 (86 characters) a 3x3 probe's bias line wrapped
        // to 2 lines and its header too: the strip cut "... 2 more lines" where 7 were reserved.
        foreach (int k in new[] { 1, 3, 5, 7, 15 })
            foreach (int inputs in new[] { 1, 3, 64 })
                for (int chars = 40; chars <= 200; chars += 3)
                {
                    var p = new Probe(null!)
                    {
                        Valid = true, Layer = 51, Channel = 511, X = 1919, Y = 1079, KernelHeight = k, KernelWidth = k, InputChannels = inputs,
                        FirstInput = 448, Window = Enumerable.Range(0, k * k).Select(v => -v - 0.123f).ToArray(), Kernel = Enumerable.Repeat(-0.5f, k * k).ToArray(),
                        ChannelSums = Enumerable.Repeat(-9.87654, inputs).ToArray(), Sum = -98.7654321, Gpu = -98.76543f, Bias = -1.5f,
                    };
                    foreach (Func<int, string> name in new Func<int, string>[] { c => $"Convolution249:{c}", c => $"a map name far longer than any strip shows {c}" })
                        foreach (bool strided in new[] { false, true })
                            // (And the filters view's hand-made bank, named in place of "layer N".)
                            foreach (string? layerName in new[] { null, LiveApp.DesignedBankName })
                            {
                                // A strided, dilated layer's header says where the window lies (stride 2, dilation 2 at the far corner).
                                p.Reach = strided ? (1079 * 2 - k + 1, 1919 * 2 - k + 1, 2, 2) : null;
                                List<string> lines = HudText.Wrap(HudText.ProbeLines(p, pinned: true, name, chars, layerName: layerName), chars);
                                int reserved = HudText.ProbeStripLines(true, k, k, chars, inputs, reach: strided);
                                Assert.True(lines.Count <= reserved, $"{k}x{k}, {inputs} inputs, {chars} characters: {lines.Count} lines, {reserved} reserved:\n{string.Join('\n', lines)}");
                            }
                }
        // A wide strip reserves what it always did; a narrow one more.
        Assert.Equal(3 + 4, HudText.ProbeStripLines(true, 3, 3, 200));
        Assert.Equal(3 + 5, HudText.ProbeStripLines(true, 3, 3, 86, 1)); // the bias line takes two
        Assert.Equal(3 + 6, HudText.ProbeStripLines(true, 3, 3, 86, 1, reach: true)); // and a strided layer's header two
        Assert.True(HudText.ProbeStripLines(true, 3, 3, 86, 64) > 3 + 5);
        foreach (int k in new[] { 2, 3, 7, 15 })
            for (int chars = 40; chars <= 200; chars += 3)
            {
                var pool = new Probe(null!)
                {
                    Valid = true, Kind = ProbeKind.Pool, PoolMax = true, Layer = 51, Channel = 511, X = 1919, Y = 1079, KernelHeight = k, KernelWidth = k,
                    InputChannels = 1, FirstInput = 511, Window = Enumerable.Repeat(-12.25f, k * k).ToArray(), Inside = Enumerable.Repeat(true, k * k).ToArray(),
                    Divisor = k * k, Sum = -12.25, Gpu = -12.25f, LayerName = "max pool 15x15",
                };
                int reserved = HudText.LayerProbeStripLines(new PoolLayer(PoolOptions.Square(PoolKind.Max, k)), chars);
                Assert.True(HudText.Wrap(HudText.ProbeLines(pool, pinned: true, c => $"Convolution249:{c}", chars), chars).Count <= reserved, $"pool {k}, {chars} characters");
            }
        for (int chars = 40; chars <= 200; chars += 3)
        {
            var relu = new Probe(null!)
            {
                Valid = true, Kind = ProbeKind.Activation, Layer = 51, Channel = 511, X = 1919, Y = 1079, KernelHeight = 1, KernelWidth = 1, InputChannels = 1,
                FirstInput = 511, Window = [-0.25f], Inside = [true], Sum = -0.025, Gpu = -0.025f, LayerName = "leaky_relu",
            };
            Assert.True(HudText.Wrap(HudText.ProbeLines(relu, pinned: true, c => $"Convolution249:{c}", chars), chars).Count
                        <= HudText.LayerProbeStripLines(new ActivationLayer(ActivationKind.LeakyRelu), chars), $"activation, {chars} characters");
            // A reciprocal of a tiny value (the review's: -16777216.000000 overflowed the strip in fixed decimals).
            var reciprocal = new Probe(null!)
            {
                Valid = true, Kind = ProbeKind.Activation, Layer = 51, Channel = 511, X = 1919, Y = 1079, KernelHeight = 1, KernelWidth = 1, InputChannels = 1,
                FirstInput = 511, Window = [-5.96e-8f], Inside = [true], Sum = -16777216.0, Gpu = -16777220f, LayerName = "reciprocal",
            };
            List<string> lines = HudText.ProbeLines(reciprocal, pinned: true, c => $"Convolution249:{c}", chars);
            Assert.True(HudText.Wrap(lines, chars).Count <= HudText.LayerProbeStripLines(new UnaryLayer(UnaryKind.Reciprocal), chars), $"reciprocal, {chars} characters");
            Assert.StartsWith("reciprocal(in) = -1.67772e+07 (CPU, from the GPU's input)   GPU wrote -1.67772e+07", lines[2]);
        }
    }

    [Fact]
    public void InvalidProbe_IsTheHeaderAndWhy()
    {
        var p = new Probe(null!) { Layer = 2, Channel = 0, X = 3, Y = 4, Why = "not a convolution layer" };
        Assert.Equal(["probe: layer 3, out channel 0, (x 3, y 4)", "not a convolution layer"], HudText.ProbeLines(p, false, _ => throw new InvalidOperationException("no names for an invalid probe")));
    }

    /// <summary>A k x k single-channel probe whose window holds its tap index i*k + j (so the rows shown say which taps).</summary>
    private static Probe Square(int k) => new(null!)
    {
        Valid = true, KernelHeight = k, KernelWidth = k, InputChannels = 1,
        Window = Enumerable.Range(0, k * k).Select(v => (float)v).ToArray(), Kernel = Enumerable.Repeat(1f, k * k).ToArray(),
        ChannelSums = [k * k * (k * k - 1) / 2.0], Sum = k * k * (k * k - 1) / 2.0, Gpu = k * k * (k * k - 1) / 2f,
    };

    [Fact]
    public void ANarrowStrip_ShowsTheCentreColumnsThatFit_AndSaysSo()
    {
        // 7x7 rows are 23 * 7 + 6 = 167 characters: in 162 only 6 columns fit, and 6 of 7 cannot be centred, so the
        // centre 5 (columns 1..5) are shown; 6 would have been columns 0..5, the sums then counting a hidden column 6.
        List<string> lines = HudText.ProbeLines(Square(7), false, _ => "R", maxChars: 162);
        Assert.EndsWith("(showing the centre 7x5 of 7x7)", lines[0], StringComparison.Ordinal);
        List<string> rows = lines[2..9];
        Assert.All(rows, r => Assert.True(r.Length <= 162, $"row of {r.Length} characters: {r}"));
        // The window's values reach 48: 3 decimals (see WindowDecimals).
        Assert.StartsWith("   1.000   2.000   3.000   4.000   5.000  |", rows[0], StringComparison.Ordinal);
        Assert.StartsWith("  43.000  44.000  45.000  46.000  47.000  |", rows[6], StringComparison.Ordinal);
        Assert.Equal(7 + 4, lines.Count); // what ProbeStripLines reserves for a 7x7 kernel
        Assert.Equal(HudText.ProbeStripLines(true, 7, 7), lines.Count);
        // Room for all: no note.
        Assert.DoesNotContain("showing", string.Join('\n', HudText.ProbeLines(Square(7), false, _ => "R", maxChars: 167)), StringComparison.Ordinal);
    }

    [Fact]
    public void AKernelBeyondMaxTaps_ShowsItsCentre_OnTheLineTheStripReserves()
    {
        // 15x15: rows and columns 4..10 (the centre 7), the note on its own line.
        List<string> lines = HudText.ProbeLines(Square(15), false, _ => "R");
        // Values up to 224: 2 decimals, so neighbours stay apart (they ran together as "154.000155.000").
        Assert.StartsWith("   64.00   65.00   66.00   67.00   68.00   69.00   70.00  |", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("  154.00  155.00", lines[8], StringComparison.Ordinal);
        Assert.Equal("(showing the centre 7x7 of 15x15)", lines[9]);
        Assert.Equal(HudText.ProbeStripLines(true, 15, 15), lines.Count);
    }
}
