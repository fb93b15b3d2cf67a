using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu.Stacks;

namespace ConvGL.Gpu.Tests.Stacks;

/// <summary>GpuStackRunner's relu fusion (<see cref="GpuStackRunner.SetObserved"/>): with only the last map read, exactly the
/// relus whose only input is a conv or add that nothing else reads are applied by that layer's stores; every map still
/// computed equals the CPU reference (the relus' maps included), a fused-away map says so and refuses to be read, and a map
/// named as observed, a disabled relu or observing everything again turns the fusion of that layer off.</summary>
[Collection(GlCollection.Name)]
public sealed class FusionTests(GlFixture fixture)
{
    private static bool[] Observe(int layers, params int[] read)
    {
        var observed = new bool[layers];
        foreach (int i in read) observed[i] = true;
        return observed;
    }

    /// <summary>The activation layer the rule fuses into layer i under <paramref name="observed"/> and every layer enabled, or
    /// -1: a conv or add, not observed, whose only reader is a relu, leaky relu or clip reading nothing else.</summary>
    private static int ExpectedFused(Stack stack, int i, bool[] observed)
    {
        if (observed[i] || stack.Layers[i] is not (ConvLayer or AddLayer)) return -1;
        int[] Readers(int m) => Enumerable.Range(0, stack.Layers.Count).Where(j => stack.Layers[j].InputsOf(j).Contains(m)).ToArray();
        int[] readers = Readers(i);
        if (readers is [int j] && stack.Layers[j] is ActivationLayer && stack.Layers[j].InputsOf(j).Count == 1) return j;
        // A mul of the map and its own activation (SiLU as x * sigmoid(x)), the activation read by the mul alone and not observed.
        foreach (int g in readers)
            if (stack.Layers[g] is ActivationLayer && stack.Layers[g].InputsOf(g) is [int from] && from == i && !observed[g] && Readers(g) is [int k]
                && stack.Layers[k] is MulLayer && readers.Length == 2 && readers.Contains(k))
                return k;
        return -1;
    }

    /// <summary>Runs <paramref name="input"/> under <paramref name="observed"/> and checks every layer: fused as the rule says,
    /// else equal to the reference. Returns how many relus were fused.</summary>
    private static int RunAndCheck(GpuStackRunner runner, StackResult cpu, Tensor input, bool[] observed, string spec, bool relativeToMax = false)
    {
        Stack stack = runner.Stack;
        runner.SetObserved(observed);
        runner.RunPrepared(input);
        int fused = 0;
        // The activations inside fused muls (x * act(x)): not computed, said fused.
        var gates = new HashSet<int>();
        for (int i = 0; i < stack.Layers.Count; i++)
            if (ExpectedFused(stack, i, observed) is var k and >= 0 && stack.Layers[k] is MulLayer)
                gates.Add(stack.Layers[k].InputsOf(k).Single(from => from != i));
        for (int i = 0; i < stack.Layers.Count; i++)
        {
            if (gates.Contains(i))
            {
                Assert.False(runner.MapComputed(i), $"layer {i} ({stack.Layers[i].Type}) of {spec}: a fused mul's activation, computed");
                Assert.True(runner.FusedAway(i));
                continue;
            }
            int j = ExpectedFused(stack, i, observed);
            Assert.True(runner.MapComputed(i) == (j < 0), $"layer {i} ({stack.Layers[i].Type}) of {spec}: computed {runner.MapComputed(i)}, expected relu {j}");
            Assert.Equal(j, runner.FusedLayer(i));
            if (j >= 0)
            {
                fused++;
                Assert.True(runner.FusedAway(j));
                Assert.Throws<InvalidOperationException>(() => runner.Output(i));
                Assert.Equal($"fused: computed by layer {i}'s stores", runner.Variant(j));
                if (stack.Layers[i] is ConvLayer) Assert.Contains($", {runner.FusedName(i)} fused", runner.Variant(i), StringComparison.Ordinal);
                continue;
            }
            if (!relativeToMax)
            {
                Parity.AssertGpuMatchesReference(cpu.Outputs[i], runner.Output(i).Download(), $"layer {i} ({stack.Layers[i].Type}) of {spec}");
                continue;
            }
            // A deep network's maps: within 1e-4 of the map's largest value (as ResNet18GpuTests), not elementwise.
            double e = ResNet18.RelativeMaxError(runner.Output(i).Download().Data, cpu.Outputs[i].Data);
            Assert.True(e <= 1e-4, $"layer {i} ({stack.Layers[i].Type}) of {spec}: max |GPU - CPU| is {e:G3} of the map's max");
        }
        return fused;
    }

    [Theory]
    [InlineData("edges", 0)]
    [InlineData("gabor", 1)]
    [InlineData("deep", 2)]
    [InlineData("learned", 2)]
    public void ShippedStack_LastMapRead_FusesEveryConvRelu(string name, int relus)
    {
        Stack stack = StackCatalog.Load(name);
        Tensor image = GpuStackTests.TestImage(3, 37, 45, seed: 3);
        StackResult cpu = StackRunner.Run(stack, image);
        using var runner = new GpuStackRunner(fixture.Context, stack, 37, 45);
        int last = stack.Layers.Count - 1;
        Assert.Equal(relus, RunAndCheck(runner, cpu, image, Observe(stack.Layers.Count, last), $"{name}, last map read"));

        // Every map read: nothing fused, every map the reference's.
        Assert.Equal(0, RunAndCheck(runner, cpu, image, Observe(stack.Layers.Count, Enumerable.Range(0, stack.Layers.Count).ToArray()), $"{name}, every map read"));
        runner.SetObserved(null);
        Assert.All(Enumerable.Range(0, stack.Layers.Count), i => Assert.True(runner.MapComputed(i)));
    }

    [Fact]
    public void ObservedConv_AndDisabledRelu_AreNotFused()
    {
        Stack stack = StackCatalog.Load("learned"); // conv, relu, pool, conv, relu, pool
        Tensor image = GpuStackTests.TestImage(3, 28, 28, seed: 8);
        using var runner = new GpuStackRunner(fixture.Context, stack, 28, 28);
        StackResult cpu = StackRunner.Run(stack, image);
        // The first conv's map is read (the window shows it): only the second pair fuses.
        Assert.Equal(1, RunAndCheck(runner, cpu, image, Observe(6, 0, 5), "learned, conv 0 and the output read"));
        Assert.True(runner.MapComputed(0));
        Assert.False(runner.MapComputed(3));

        // The second relu off: its conv has no relu to fuse, and the relu's map is the conv's.
        runner.SetEnabled(4, false);
        runner.SetObserved(Observe(6, 5));
        runner.RunPrepared(image);
        Assert.True(runner.MapComputed(3));
        Assert.True(runner.MapComputed(4));
        Assert.False(runner.MapComputed(0));
        Assert.Same(runner.Output(3), runner.Output(4));
        StackResult flagged = StackRunner.Run(stack, image, [true, true, true, true, false, true]);
        for (int i = 1; i < 6; i++)
            Parity.AssertGpuMatchesReference(flagged.Outputs[i], runner.Output(i).Download(), $"layer {i} of learned with relu 4 off");

        // A disabled layer named as observed stands for the map it passes on: observing relu 1 while it is off keeps conv 0.
        runner.SetEnabled(4, true);
        runner.SetEnabled(1, false);
        runner.SetObserved(Observe(6, 1, 5));
        Assert.True(runner.MapComputed(0));
        Assert.False(runner.MapComputed(3));
    }

    [Fact]
    public void OnlyTheLayersTheObservedMapsNeed_Run()
    {
        Stack stack = StackCatalog.Load("learned"); // conv, relu, pool, conv, relu, pool
        Tensor image = GpuStackTests.TestImage(3, 30, 34, seed: 2);
        StackResult cpu = StackRunner.Run(stack, image);
        using var runner = new GpuStackRunner(fixture.Context, stack, 30, 34);
        var ran = new List<int>();
        runner.AfterLayer = ran.Add;

        // The first conv's map only (the window showing layer 1): one layer runs, its relu not fused (nothing needs it).
        runner.SetObserved(Observe(6, 0));
        runner.RunPrepared(image);
        Assert.Equal([0], ran);
        Assert.Equal(-1, runner.FusedLayer(0));
        Parity.AssertGpuMatchesReference(cpu.Outputs[0], runner.Output(0).Download(), "learned layer 0, observed alone");
        for (int i = 1; i < 6; i++)
        {
            Assert.False(runner.MapComputed(i));
            Assert.Throws<InvalidOperationException>(() => runner.Output(i));
        }

        // The second conv's map: layers 0..3 run, the first relu fused into its conv, the second pair not run at all.
        ran.Clear();
        runner.SetObserved(Observe(6, 3));
        runner.RunPrepared(image);
        Assert.Equal([0, 2, 3], ran);
        Assert.Equal([false, true, true, true, false, false], Enumerable.Range(0, 6).Select(runner.MapComputed).ToArray());
        for (int i = 1; i <= 3; i++)
            Parity.AssertGpuMatchesReference(cpu.Outputs[i], runner.Output(i).Download(), $"learned layer {i}, layer 3 observed");

        // Every map again: every layer runs.
        ran.Clear();
        runner.SetObserved(null);
        runner.RunPrepared(image);
        Assert.Equal([0, 1, 2, 3, 4, 5], ran);
    }

    [Fact]
    public void LeakyReluClipAndTanh_AreFusedToo()
    {
        // conv -> leaky relu -> conv -> clip [0, 6] (ReLU6) -> conv -> tanh: each activation fuses into its conv.
        var rng = new Random(5);
        ConvLayer Conv(int cin, int cout) => ConvLayer.Learned(Parity.Random(rng, 1f / MathF.Sqrt(cin * 9), cout, cin, 3, 3), Parity.RandomVector(rng, 0.2f, cout), new ConvOptions(), "w", "b");
        var stack = new Stack("acts", StackInput.Rgb,
        [
            Conv(3, 4), new ActivationLayer(ActivationKind.LeakyRelu, 0.15f), Conv(4, 4), new ActivationLayer(ActivationKind.Clip) { Min = 0, Max = 0.4f },
            Conv(4, 3), new ActivationLayer(ActivationKind.Tanh),
        ]);
        Tensor image = GpuStackTests.TestImage(3, 21, 25, seed: 7);
        StackResult cpu = StackRunner.Run(stack, image);
        using var runner = new GpuStackRunner(fixture.Context, stack, 21, 25);
        Assert.Equal(3, RunAndCheck(runner, cpu, image, Observe(6, 5), "conv, leaky relu, conv, clip, conv, tanh"));
        Assert.Contains(", leaky_relu fused", runner.Variant(0), StringComparison.Ordinal);
        Assert.Contains(", clip fused", runner.Variant(2), StringComparison.Ordinal);
        Assert.Contains(", tanh fused", runner.Variant(4), StringComparison.Ordinal);
        Assert.Equal(5, runner.FusedLayer(4));
    }

    /// <summary>SiLU as ONNX models write it, Mul(x, Sigmoid(x)), and Mul(HardSigmoid(x), x) (the other order): the conv's
    /// stores compute the mul's map, the activation's map is not computed at all; where the activation is also read by
    /// another layer, or observed, only the plain rule applies (nothing here). Every computed map is the reference's.</summary>
    [Fact]
    public void MulOfAMapAndItsActivation_IsFused_SiLU()
    {
        var rng = new Random(12);
        ConvLayer Conv(int cin, int cout) => ConvLayer.Learned(Parity.Random(rng, 1f / MathF.Sqrt(cin * 9), cout, cin, 3, 3), Parity.RandomVector(rng, 0.2f, cout), new ConvOptions(), "w", "b");
        var layers = new List<StackLayer>
        {
            Conv(3, 6),                                                                            // 0
            new ActivationLayer(ActivationKind.Sigmoid) { Inputs = [0] },                          // 1
            new MulLayer { Inputs = [0, 1] },                                                      // 2: silu(0)
            Conv(6, 5),                                                                            // 3
            new ActivationLayer(ActivationKind.HardSigmoid, 0.2f) { Beta = 0.5f, Inputs = [3] },   // 4
            new MulLayer { Inputs = [4, 3] },                                                      // 5: hard swish(3), the other order
            Conv(5, 4),                                                                            // 6
            new ActivationLayer(ActivationKind.Sigmoid) { Inputs = [6] },                          // 7
            new MulLayer { Inputs = [6, 7] },                                                      // 8
            new AddLayer { Inputs = [8, 7] },                                                      // 9: reads the sigmoid too: 6 keeps its map
        };
        var stack = new Stack("silu", StackInput.Rgb, layers);
        Tensor image = GpuStackTests.TestImage(3, 21, 26, seed: 9);
        StackResult cpu = StackRunner.Run(stack, image);
        using var runner = new GpuStackRunner(fixture.Context, stack, 21, 26);
        Assert.Equal(2, RunAndCheck(runner, cpu, image, Observe(layers.Count, 9), "silu, hard swish, silu read twice"));
        Assert.Equal(2, runner.FusedLayer(0));
        Assert.Equal("silu", runner.FusedName(0));
        Assert.Contains(", silu fused", runner.Variant(0), StringComparison.Ordinal);
        Assert.Equal(5, runner.FusedLayer(3));
        Assert.Equal("x*hard_sigmoid", runner.FusedName(3));
        Assert.Equal(-1, runner.FusedLayer(6));
        // The activations inside the fused muls are not computed (their layer lines say fused); the third one is.
        foreach (int g in new[] { 1, 4 })
        {
            Assert.False(runner.MapComputed(g));
            Assert.True(runner.FusedAway(g));
            Assert.StartsWith("fused: layer ", runner.Variant(g), StringComparison.Ordinal);
        }
        Assert.True(runner.MapComputed(7));
        Parity.AssertGpuMatchesReference(cpu.Outputs[2], runner.Output(2).Download(), "silu's map, from the conv's stores");
        Parity.AssertGpuMatchesReference(cpu.Outputs[5], runner.Output(5).Download(), "hard swish's map, from the conv's stores");

        // The sigmoid observed (a view reads it): that mul runs as its own layer again, and the sigmoid too.
        Assert.Equal(1, RunAndCheck(runner, cpu, image, Observe(layers.Count, 9, 1), "silu with its sigmoid observed"));
        Assert.Equal(-1, runner.FusedLayer(0));
        Assert.True(runner.MapComputed(1));
        Assert.True(runner.MapComputed(2));
    }

    /// <summary>Gated fusion under the window's churn: 250 steps on a 20-layer stack (SiLU after a conv, hard swish after an
    /// add with the mul's inputs reversed, one map feeding two muls, a gate whose producer is an activation, elu / tanh and
    /// selu gates), each toggling layers on or off and observing a random set of maps (sometimes twice before the run, as
    /// frames do); every map the runner calls computed equals the reference with the same layers enabled, every other one
    /// refuses to be read, and gated fusions happen. (From a report-only review's fuzz of the change.)</summary>
    [Fact]
    public void GatedFusion_UnderRandomTogglesAndObservedMaps_EveryComputedMapIsTheReference()
    {
        var rng = new Random(5);
        ConvLayer Conv(int cin, int cout, int input = -2)
        {
            var c = ConvLayer.Learned(Parity.Random(rng, 1f / MathF.Sqrt(cin * 9), cout, cin, 3, 3), Parity.RandomVector(rng, 0.2f, cout), new ConvOptions(), "w", "b");
            if (input != -2) c.Inputs = [input];
            return c;
        }
        var layers = new List<StackLayer>
        {
            Conv(3, 4),                                                                              // 0
            new ActivationLayer(ActivationKind.Sigmoid) { Inputs = [0] },                            // 1
            new MulLayer { Inputs = [0, 1] },                                                        // 2: silu
            Conv(4, 4, 2),                                                                           // 3
            new AddLayer { Inputs = [3, 2] },                                                        // 4
            new ActivationLayer(ActivationKind.HardSigmoid, 0.2f) { Beta = 0.5f, Inputs = [4] },     // 5
            new MulLayer { Inputs = [5, 4] },                                                        // 6: the add gated, reversed
            Conv(4, 4, 6),                                                                           // 7
            new ActivationLayer(ActivationKind.Sigmoid) { Inputs = [7] },                            // 8
            new MulLayer { Inputs = [7, 8] },                                                        // 9
            new MulLayer { Inputs = [8, 7] },                                                        // 10: two muls
            new AddLayer { Inputs = [9, 10] },                                                       // 11
            new ActivationLayer(ActivationKind.Relu) { Inputs = [11] },                              // 12
            Conv(4, 4, 12),                                                                          // 13
            new ActivationLayer(ActivationKind.Elu) { Inputs = [13] },                               // 14
            new ActivationLayer(ActivationKind.Tanh) { Inputs = [14] },                              // 15
            new MulLayer { Inputs = [14, 15] },                                                      // 16: an activation's map gated
            Conv(4, 4, 16),                                                                          // 17
            new ActivationLayer(ActivationKind.Selu, 1.6732632f) { Beta = 1.050701f, Inputs = [17] }, // 18
            new MulLayer { Inputs = [18, 17] },                                                      // 19
        };
        var stack = new Stack("gates", StackInput.Rgb, layers);
        int n = layers.Count;
        Tensor image = GpuStackTests.TestImage(3, 13, 17, seed: 4);
        using var runner = new GpuStackRunner(fixture.Context, stack, 13, 17);
        var steps = new Random(77);
        int gated = 0;
        for (int step = 0; step < 250; step++)
        {
            int t = steps.Next(n);
            runner.TrySetEnabled(t, !runner.Enabled[t], out _);
            if (steps.Next(3) == 0)
            {
                int t2 = steps.Next(n);
                runner.TrySetEnabled(t2, !runner.Enabled[t2], out _);
            }
            var observed = new bool[n];
            int mode = steps.Next(4);
            if (mode == 0) observed[n - 1] = true;
            else
                for (int i = 0; i < n; i++) observed[i] = steps.NextDouble() < (mode == 1 ? 0.1 : 0.25);
            if (steps.Next(4) == 0)
            {
                var before = new bool[n];
                before[steps.Next(n)] = true;
                runner.SetObserved(before);
            }
            runner.SetObserved(observed);
            runner.RunPrepared(image);
            StackResult cpu = StackRunner.Run(stack, image, runner.Enabled);
            string spec = $"step {step}: enabled {string.Concat(runner.Enabled.Select(e => e ? '1' : '0'))} observed {string.Concat(observed.Select(e => e ? '1' : '0'))}";
            for (int i = 0; i < n; i++)
            {
                if (runner.FusedLayer(i) is var k and >= 0 && layers[k] is MulLayer) gated++;
                if (observed[i]) Assert.True(runner.MapComputed(i), $"{spec}: observed layer {i} not computed");
                if (!runner.MapComputed(i))
                {
                    Assert.Throws<InvalidOperationException>(() => runner.Output(i));
                    continue;
                }
                Parity.AssertGpuMatchesReference(cpu.Outputs[i], runner.Output(i).Download(), $"{spec}: layer {i} ({layers[i].Type})");
            }
        }
        Assert.True(gated > 50, $"{gated} gated fusions in 250 steps");
    }

    /// <summary>The models built in the tests with only the last map read (every fusion on, SiLU's in the squeeze-excite and
    /// CSP models among them): every map still computed is the CPU graph's.</summary>
    [Fact]
    public void OnnxModels_LastMapRead_FusedMapsMatchTheCpuGraph()
    {
        int silu = 0;
        foreach (string model in BranchyGraphs.StackModels)
        {
            Stack stack = OnnxStack.FromGraph(BranchyGraphs.ByName(model), model);
            var rng = new Random(7);
            const int h = 8, w = 6;
            Tensor x = Tensor.Chw(3, h, w, [.. Enumerable.Range(0, 3 * h * w).Select(_ => (float)rng.NextDouble() * 4 - 2)]);
            StackResult cpu = StackRunner.Run(stack, x);
            using var runner = new GpuStackRunner(fixture.Context, stack, h, w);
            runner.SetObserved(Observe(stack.Layers.Count, stack.Layers.Count - 1));
            runner.RunPrepared(x);
            silu += Enumerable.Range(0, stack.Layers.Count).Count(i => runner.FusedName(i) == "silu");
            for (int i = 0; i < stack.Layers.Count; i++)
                if (runner.MapComputed(i))
                {
                    Tensor want = cpu.Outputs[i], got = runner.Output(i).Download();
                    double scale = Math.Max(1e-6, want.Data.Where(float.IsFinite).Select(v => Math.Abs((double)v)).DefaultIfEmpty(0).Max());
                    for (int e = 0; e < want.Length; e++)
                        Assert.True(float.IsFinite(want.Data[e]) ? Math.Abs(want.Data[e] - got.Data[e]) <= 1e-4 * scale : want.Data[e].Equals(got.Data[e]),
                            $"{model} layer {i} ({stack.Layers[i].Type}{(runner.FusedName(i) is { } f ? "+" + f : "")}) element {e}: CPU {want.Data[e]}, GPU {got.Data[e]}");
                }
        }
        Assert.True(silu >= 2, $"{silu} SiLU fusions in the test models");
    }

    [Fact]
    public void ConvReadByARelu_AndByAnotherLayer_IsNotFused()
    {
        // conv -> relu, and an add of the relu's map and the conv's own (a branch reading the map before its relu): the conv's
        // map must be computed, so that relu is not fused; the add's relu is.
        var rng = new Random(4);
        var conv = ConvLayer.Learned(Parity.Random(rng, 0.4f, 4, 3, 3, 3), Parity.RandomVector(rng, 0.2f, 4), new ConvOptions(), "w", "b");
        var relu = new ActivationLayer(ActivationKind.Relu) { Inputs = [0] };
        var add = new AddLayer { Inputs = [1, 0] };
        var stack = new Stack("branch", StackInput.Rgb, [conv, relu, add, new ActivationLayer(ActivationKind.Relu)]);
        Tensor image = GpuStackTests.TestImage(3, 19, 23, seed: 6);
        StackResult cpu = StackRunner.Run(stack, image);
        using var runner = new GpuStackRunner(fixture.Context, stack, 19, 23);
        Assert.Equal(1, RunAndCheck(runner, cpu, image, Observe(4, 3), "conv -> relu, add(relu, conv) -> relu"));
        Assert.True(runner.MapComputed(0));
        Assert.False(runner.MapComputed(2));
    }

    [Fact]
    public void ResNet18_LastMapRead_FusesEveryRelu_AndEveryOtherMapIsTheReference()
    {
        // ResNet18 at 96x96 (the trained weights; ResNet18GpuTests checks it against ONNX Runtime): all 19 relus of this
        // export, each after a conv or a residual add; the downsample convs keep their maps (the add reads them), and so does
        // every relu's output (the next block's conv and its add read it).
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(ResNet18.ModelAtSize(96), "ResNet18.onnx at 96"));
        Stack stack = OnnxStack.FromGraph(graph, "resnet18-96");
        Tensor input = ResNet18.GeneratedInput(structured: true, size: 96).Reshape(3, 96, 96);
        StackResult cpu = StackRunner.Run(stack, input);
        using var runner = new GpuStackRunner(fixture.Context, stack, 96, 96);
        int last = stack.Layers.Count - 1;
        Assert.Equal(19, stack.Layers.Count(l => l is ActivationLayer { Kind: ActivationKind.Relu }));
        Assert.Equal(19, RunAndCheck(runner, cpu, input, Observe(stack.Layers.Count, last), "resnet18 at 96, last map read", relativeToMax: true));
        // Every residual add (9 in this export) writes its relu's map.
        Assert.Equal(9, stack.Layers.Count(l => l is AddLayer));
        Assert.Equal(9, Enumerable.Range(0, stack.Layers.Count).Count(i => stack.Layers[i] is AddLayer && !runner.MapComputed(i)));
    }
}
