using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>Conv plans timed on first use (<see cref="GlContext.TuneConvPlans"/>, cuDNN's benchmark mode): the plan kept is
/// the candidate the clock found fastest (a fake clock here, so the choice is known), the context remembers it per shape
/// and options, every choice computes the reference's sums, the real clock on this device times at least two candidates,
/// and <see cref="GlContext.TuneWhereItPays"/> turns it on for real GPUs only.</summary>
[Collection(GlCollection.Name)]
public sealed class ConvTuningTests(GlFixture fixture, ITestOutputHelper log)
{
    private GlContext Context => fixture.Context;

    /// <summary>Tuning <paramref name="on"/> with nothing timed yet, until disposed; then as it was, the timings forgotten.</summary>
    private static IDisposable TuningSetTo(GlContext context, bool on)
    {
        bool was = context.TuneConvPlans;
        context.TuneConvPlans = on;
        context.TunedConvPlans.Clear();
        return new Restore(() =>
        {
            context.TuneConvPlans = was;
            context.TunedConvPlans.Clear();
        });
    }

    /// <summary>For tests of the cost rules' choices: timing off until disposed (a run of the suite with CONVGL_TUNE=1
    /// would otherwise time their layers).</summary>
    internal static IDisposable Rules(GlContext context) => TuningSetTo(context, false);

    private sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    /// <summary>Runs <paramref name="body"/> with tuning on and nothing timed yet, then restores the context.</summary>
    private void Tuning(Action body)
    {
        using IDisposable tuning = TuningSetTo(Context, true);
        body();
    }

    private static (Tensor Input, Tensor Weight, float[] Bias) Layer(int seed, int cin, int cout, int h, int w, int k, int groups = 1)
    {
        var rng = new Random(seed);
        return (Parity.Random(rng, cin, h, w), Parity.Random(rng, 1f / MathF.Sqrt(cin / groups * k * k), cout, cin / groups, k, k),
            Parity.RandomVector(rng, 1f, cout));
    }

    [Fact]
    public void FakeClock_KeepsTheFastestCandidate_AndTheContextRemembersIt()
    {
        Tuning(() =>
        {
            (Tensor input, Tensor weight, float[] bias) = Layer(1, 8, 8, 20, 24, 3);
            var o = new ConvOptions { Border = Border.Reflect };
            var timed = new List<string>();
            bool preferDirect = true;
            // The one-output program is the fastest on this clock, though the rules would never take it for this layer;
            // then the first candidate timed (Auto's pick).
            using var conv = new GpuConv2D(Context, weight, bias, o)
            {
                TuneClock = v => { timed.Add(v); return preferDirect && v.StartsWith("conv2d:", StringComparison.Ordinal) ? 0.25 : 1.0 + timed.Count; },
            };
            Tensor actual = conv.Apply(input);
            log.WriteLine(conv.Variant);
            log.WriteLine(string.Join("\n", timed));
            Assert.StartsWith("conv2d: 1 output/invocation (the direct program asked for)", conv.Variant, StringComparison.Ordinal);
            int distinct = timed.Distinct().Count();
            Assert.True(distinct >= 3, $"{distinct} candidates timed: {string.Join(" | ", timed)}");
            // Each distinct plan twice, the second pass in the opposite order.
            Assert.Equal(2 * distinct, timed.Count);
            Assert.Equal(timed.Take(distinct).Reverse(), timed.Skip(distinct));
            Assert.StartsWith("conv2d_", timed[0], StringComparison.Ordinal); // Auto's own pick first
            Assert.Contains($"(timed on first use: 0.250 ms, fastest of {distinct}, next ", conv.Variant, StringComparison.Ordinal);
            Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, bias, o), actual, "tuned: " + conv.Variant);

            // A second layer of the same shapes and options takes the choice without timing anything.
            (Tensor input2, Tensor weight2, float[] bias2) = Layer(2, 8, 8, 20, 24, 3);
            using var again = new GpuConv2D(Context, weight2, bias2, o) { TuneClock = v => throw new InvalidOperationException($"timed {v} again") };
            Tensor actual2 = again.Apply(input2);
            Assert.Equal(conv.Variant, again.Variant);
            Parity.AssertGpuMatchesReference(Conv2D.Apply(input2, weight2, bias2, o), actual2, "remembered: " + again.Variant);

            // Another input size is another shape: timed afresh (Auto's pick wins on the clock now).
            preferDirect = false;
            int before = timed.Count;
            Tensor bigger = Parity.Random(new Random(3), 8, 21, 40);
            Tensor actual3 = conv.Apply(bigger);
            Assert.True(timed.Count > before);
            Assert.StartsWith(timed[before], conv.Variant, StringComparison.Ordinal);
            Parity.AssertGpuMatchesReference(Conv2D.Apply(bigger, weight, bias, o), actual3, "retimed: " + conv.Variant);
        });
    }

    [Fact]
    public void FakeClock_CanPickTheWinogradSplit()
    {
        Tuning(() =>
        {
            (Tensor input, Tensor weight, float[] bias) = Layer(4, 64, 16, 8, 8, 3);
            var o = new ConvOptions();
            var timed = new List<string>();
            using var conv = new GpuConv2D(Context, weight, bias, o)
            {
                TuneClock = v => { timed.Add(v); return v.Contains("input channels split", StringComparison.Ordinal) ? 0.5 : 2.0; },
            };
            Tensor actual = conv.Apply(input);
            log.WriteLine(string.Join("\n", timed));
            Assert.StartsWith("winograd F(4x4,3x3):", conv.Variant, StringComparison.Ordinal);
            Assert.Contains("input channels split 4 ways", conv.Variant, StringComparison.Ordinal);
            Assert.Contains(timed, v => v.StartsWith("winograd", StringComparison.Ordinal) && !v.Contains("split", StringComparison.Ordinal));
            Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, bias, o), actual, conv.Variant);
        });
    }

    [Fact]
    public void FakeClock_TheRulesPickStays_UnlessAnotherIsFasterByTheMargin()
    {
        Tuning(() =>
        {
            (Tensor input, Tensor weight, float[] bias) = Layer(5, 8, 16, 32, 32, 3);
            string? rule = null;
            // Every other plan 8% faster than the rule's pick (timed first): within the margin, the pick stays.
            using var conv = new GpuConv2D(Context, weight, bias, new ConvOptions())
            {
                TuneClock = v => { rule ??= v; return v == rule ? 1.0 : 0.92; },
            };
            Tensor actual = conv.Apply(input);
            Assert.NotNull(rule);
            log.WriteLine(conv.Variant);
            Assert.StartsWith(rule + " (timed on first use: 1.00 ms, the rule's pick, within 10% of the fastest of ", conv.Variant, StringComparison.Ordinal);
            Assert.Contains("next ", conv.Variant, StringComparison.Ordinal);
            Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, bias, new ConvOptions()), actual, conv.Variant);

            // 12% faster: taken.
            (Tensor input2, Tensor weight2, float[] bias2) = Layer(6, 8, 16, 32, 36, 3);
            string? rule2 = null;
            using var conv2 = new GpuConv2D(Context, weight2, bias2, new ConvOptions())
            {
                TuneClock = v => { rule2 ??= v; return v == rule2 ? 1.0 : v.StartsWith("conv2d:", StringComparison.Ordinal) ? 0.88 : 2.0; },
            };
            Tensor actual2 = conv2.Apply(input2);
            Assert.StartsWith("conv2d: 1 output/invocation", conv2.Variant, StringComparison.Ordinal);
            Assert.Contains("(timed on first use: 0.880 ms, fastest of ", conv2.Variant, StringComparison.Ordinal);
            Parity.AssertGpuMatchesReference(Conv2D.Apply(input2, weight2, bias2, new ConvOptions()), actual2, conv2.Variant);
        });
    }

    [Fact]
    public void ACandidateThatFails_IsLeftOut_TheRulesPickFailingIsTheLayersError()
    {
        Tuning(() =>
        {
            (Tensor input, Tensor weight, float[] bias) = Layer(7, 8, 16, 32, 32, 3);
            var o = new ConvOptions { Border = Border.Reflect };
            string? rule = null;
            // The one-output program fails when it runs (as a driver limit would); every other candidate is timed.
            using var conv = new GpuConv2D(Context, weight, bias, o)
            {
                TuneClock = v =>
                {
                    rule ??= v;
                    return v.StartsWith("conv2d:", StringComparison.Ordinal) ? throw new GpuLimitException("too big for this test", 2, 1) : v == rule ? 1.0 : 0.5;
                },
            };
            Tensor actual = conv.Apply(input);
            log.WriteLine(conv.Variant);
            Assert.DoesNotContain("conv2d: 1 output", conv.Variant, StringComparison.Ordinal);
            Assert.Contains("(timed on first use: 0.500 ms, fastest of ", conv.Variant, StringComparison.Ordinal);
            Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, bias, o), actual, conv.Variant);

            // The rule's pick itself failing is the layer's error, as it is without timing.
            (Tensor input2, Tensor weight2, float[] bias2) = Layer(8, 8, 16, 32, 36, 3);
            using var broken = new GpuConv2D(Context, weight2, bias2, o) { TuneClock = v => throw new GpuLimitException("the rule's pick: too big", 2, 1) };
            Assert.Equal("the rule's pick: too big", Assert.Throws<GpuLimitException>(() => broken.Apply(input2)).Message);
        });
    }

    /// <summary>llvmpipe before Mesa 23 leaves every loop after 65,535 iterations an invocation (GlContext.LoopLimit):
    /// the one-output program refuses a 600-channel 7x7 layer, which the rules run on conv2d_dense. Tuned, the layer
    /// still runs. (On a driver without the limit every candidate runs.)</summary>
    [Fact]
    public void LoopLimit_OnTheOneOutputProgram_LeavesItOut()
    {
        Tuning(() =>
        {
            (Tensor input, Tensor weight, float[] bias) = Layer(9, 600, 4, 8, 8, 7);
            var o = new ConvOptions();
            using var conv = new GpuConv2D(Context, weight, bias, o);
            Tensor actual = conv.Apply(input);
            log.WriteLine(conv.Variant);
            Assert.Contains("(timed on first use: ", conv.Variant, StringComparison.Ordinal);
            if (Context.LoopLimit is not null) Assert.DoesNotContain("conv2d: 1 output", conv.Variant, StringComparison.Ordinal);
            Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, bias, o), actual, conv.Variant);
        });
    }

    [Fact]
    public void BuffersOnlyTheCandidatesUsed_AreLetGo()
    {
        Tuning(() =>
        {
            // Winograd (scratch) and the padded copies run as candidates; the one-output program, which needs neither, wins.
            (Tensor input, Tensor weight, float[] bias) = Layer(10, 16, 16, 24, 32, 3);
            var o = new ConvOptions { Border = Border.Reflect };
            var timed = new List<string>();
            using var conv = new GpuConv2D(Context, weight, bias, o)
            {
                TuneClock = v => { timed.Add(v); return v.StartsWith("conv2d:", StringComparison.Ordinal) ? 0.1 : 1.0; },
            };
            Tensor actual = conv.Apply(input);
            Assert.Contains(timed, v => v.StartsWith("winograd", StringComparison.Ordinal));
            Assert.Contains(timed, v => v.Contains("padded copy", StringComparison.Ordinal));
            Assert.StartsWith("conv2d: 1 output", conv.Variant, StringComparison.Ordinal);
            Assert.False(conv.HoldsScratch);
            Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, bias, o), actual, conv.Variant);
        });
    }

    [Fact]
    public void Timed_OnThisDevice_EveryKindOfLayerStillMatchesTheReference()
    {
        Tuning(() =>
        {
            var cases = new (int Cin, int Cout, int H, int W, int K, int Groups, ConvOptions O)[]
            {
                (8, 16, 40, 40, 3, 1, new ConvOptions { Border = Border.Reflect }),
                (16, 16, 33, 31, 3, 16, new ConvOptions()),
                (32, 16, 24, 24, 1, 1, new ConvOptions { StrideX = 2, StrideY = 2, Padding = PaddingMode.Valid }),
                (4, 8, 30, 26, 5, 1, new ConvOptions { DilationX = 2, DilationY = 2, Border = Border.Replicate, Mode = ConvMode.Convolve }),
                (8, 8, 17, 19, 3, 2, new ConvOptions { Border = Border.Wrap }),
                (32, 32, 7, 7, 3, 1, new ConvOptions()),
            };
            int seed = 10;
            foreach ((int cin, int cout, int h, int w, int k, int groups, ConvOptions o0) in cases)
            {
                ConvOptions o = o0 with { Groups = groups };
                (Tensor input, Tensor weight, float[] bias) = Layer(++seed, cin, cout, h, w, k, groups);
                using var conv = new GpuConv2D(Context, weight, bias, o);
                Tensor actual = conv.Apply(input);
                log.WriteLine($"{cin}->{cout} {h}x{w} k{k} g{groups} {o}: {conv.Variant}");
                Assert.Matches(@"\(timed on first use: [0-9.]+ ms, (fastest of [2-9]|the rule's pick, within 10% of the fastest of [2-9]), next .+ [0-9.]+ ms\)$", conv.Variant);
                Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, bias, o), actual, conv.Variant);
                // The plan stays: later runs time nothing and give the same sums.
                string variant = conv.Variant;
                Parity.AssertGpuMatchesReference(Conv2D.Apply(input, weight, bias, o), conv.Apply(input), "second run");
                Assert.Equal(variant, conv.Variant);
            }
        });
    }

    [Fact]
    public void Off_UnlessAsked_AndWhereItPays_OnRealGpusOnly()
    {
        using IDisposable rules = TuningSetTo(Context, false);
        if (Environment.GetEnvironmentVariable("CONVGL_TUNE") is null)
        {
            Context.TuneWhereItPays();
            Assert.Equal(!Context.IsSoftware, Context.TuneConvPlans);
        }
        Context.TuneConvPlans = false;
        (Tensor input, Tensor weight, float[] bias) = Layer(30, 4, 8, 12, 12, 3);
        using var conv = new GpuConv2D(Context, weight, bias, new ConvOptions())
        {
            TuneClock = v => throw new InvalidOperationException($"timed {v} with tuning off"),
        };
        conv.Apply(input);
        Assert.DoesNotContain("timed on first use", conv.Variant, StringComparison.Ordinal);
        Assert.Empty(Context.TunedConvPlans);
    }
}
