using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Stacks;
using ConvGL.Gpu.Stacks;

namespace ConvGL.Gpu.Tests.Stacks;

/// <summary>GpuStackRunner against the CPU StackRunner, layer by layer, through <see cref="Parity"/> (abs 1e-5 +
/// rel 1e-4): every shipped stack, seeded random stacks (shapes, strides, dilations, groups, borders, modes,
/// pools, activations, banks, magnitude), toggled layers, and the NumPy oracle of the Core tests.
/// The tolerance holds through deep stacks because learned weights use PyTorch's init scale (1/sqrt(fan_in)),
/// keeping every layer's values O(1); the shipped stacks' fixed kernels reach O(10) (Scharr) and the relative
/// term covers them.</summary>
[Collection(GlCollection.Name)]
public sealed class GpuStackTests(GlFixture fixture)
{
    private static void AssertLayersMatch(StackResult cpu, StackResult gpu, string spec)
    {
        Assert.Equal(cpu.Outputs.Count, gpu.Outputs.Count);
        for (int i = 0; i < cpu.Outputs.Count; i++)
            Parity.AssertGpuMatchesReference(cpu.Outputs[i], gpu.Outputs[i], $"layer {i} ({cpu.Plan.Stack.Layers[i].Type}) of {spec}");
    }

    /// <summary>A smooth image with edges and texture in [0, 1], different per channel.</summary>
    internal static Tensor TestImage(int c, int h, int w, int seed)
    {
        var rng = new Random(seed);
        var t = Tensor.Chw(c, h, w);
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double disk = (x - w * 0.5) * (x - w * 0.5) + (y - h * 0.4) * (y - h * 0.4) < h * h * 0.09 ? 0.6 : 0.1;
                    t[ch, y, x] = (float)Math.Clamp(disk + 0.2 * Math.Sin((x + 2 * y) / (2.0 + ch)) + 0.1 * rng.NextDouble(), 0, 1);
                }
        return t;
    }

    public static TheoryData<string> ShippedStacks()
    {
        var data = new TheoryData<string>();
        foreach (string name in StackCatalog.ShippedNames()) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(ShippedStacks))]
    public void ShippedStack_GpuMatchesCpu_EveryLayer(string name)
    {
        GlContext gl = fixture.Context;
        Stack stack = StackCatalog.Load(name);
        Tensor image = TestImage(3, 41, 53, seed: 5);
        StackResult cpu = StackRunner.Run(stack, image);
        using var runner = new GpuStackRunner(gl, stack, cpu.Input.H, cpu.Input.W);
        AssertLayersMatch(cpu, runner.Run(image), $"shipped stack '{name}' on a 3x41x53 image");
    }

    [Fact]
    public void ShippedStacks_AreThere()
    {
        IReadOnlyList<string> names = StackCatalog.ShippedNames();
        Assert.Equal(["attention", "deep", "dog", "edges", "gabor", "heads", "learned"], names);
    }

    /// <summary>A random valid stack: learned and fixed convs over every option, activations, pools, magnitude.</summary>
    private static Stack RandomStack(Random rng, int h, int w, out string description)
    {
        StackInput input = rng.Next(2) == 0 ? StackInput.Gray : StackInput.Rgb;
        int c = input == StackInput.Gray ? 1 : 3;
        var layers = new List<StackLayer>();
        var desc = new List<string>();
        int depth = rng.Next(3, 8);
        for (int guard = 0; layers.Count < depth && guard < 100; guard++)
        {
            StackLayer layer;
            int kind = rng.Next(6);
            if (kind <= 1)
            {
                int kh = rng.Next(1, 6), kw = rng.Next(1, 6);
                int[] divisors = Enumerable.Range(1, c).Where(g => c % g == 0).ToArray();
                int groups = divisors[rng.Next(divisors.Length)];
                int cout = groups * rng.Next(1, 4);
                var o = RandomOptions(rng) with { Groups = groups };
                float scale = 1f / MathF.Sqrt(c / groups * kh * kw);
                layer = ConvLayer.Learned(Parity.Random(rng, scale, cout, c / groups, kh, kw),
                    rng.Next(2) == 0 ? Parity.RandomVector(rng, 0.5f, cout) : null, o, $"l{layers.Count}.weight", $"l{layers.Count}.bias");
                desc.Add($"conv w=({cout},{c / groups},{kh},{kw}) {o}");
            }
            else if (kind == 2)
            {
                string[] names = ["sobel-x", "sobel-y", "box:2", "gaussian:5,1", "laplacian:8"];
                string[] pick = names.OrderBy(_ => rng.Next()).Take(rng.Next(1, 3)).ToArray();
                if (pick.Contains("box:2")) pick = ["box:2"]; // an even kernel cannot share a bank with odd ones
                bool sum = rng.Next(2) == 0;
                ConvOptions o = RandomOptions(rng);
                layer = ConvLayer.Fixed(pick, pick.Select(KernelLibrary.Get).ToArray(), c, sum, o);
                desc.Add($"conv bank [{string.Join(",", pick)}] sum={sum} {o}");
            }
            else if (kind == 3)
            {
                var a = (ActivationKind)rng.Next(5);
                layer = new ActivationLayer(a, 0.1f);
                desc.Add(a.Name());
            }
            else if (kind == 4)
            {
                int k = rng.Next(1, 4);
                var po = new PoolOptions
                {
                    Kind = rng.Next(2) == 0 ? PoolKind.Max : PoolKind.Average, SizeY = k, SizeX = rng.Next(1, 4),
                    StrideY = rng.Next(0, 3), StrideX = rng.Next(0, 3), PadY = rng.Next(0, k / 2 + 1),
                };
                layer = new PoolLayer(po);
                desc.Add($"{layer.Type} size=({po.SizeY},{po.SizeX}) stride=({po.StrideY},{po.StrideX}) pad=({po.PadY},{po.PadX})");
            }
            else
            {
                if (c % 2 != 0) continue;
                layer = new MagnitudeLayer();
                desc.Add("magnitude");
            }
            var trial = new Stack("random", input, [.. layers, layer]);
            if (!StackPlan.TryCreate(trial, h, w, null, out _, out _))
            {
                desc.RemoveAt(desc.Count - 1);
                continue;
            }
            layers.Add(layer);
            c = trial.Channels()[^1];
        }
        description = $"{input.ToString().ToLowerInvariant()} {h}x{w}: " + string.Join(" -> ", desc);
        return new Stack("random", input, layers);
    }

    private static ConvOptions RandomOptions(Random rng)
    {
        PaddingMode p = (PaddingMode)rng.Next(4);
        return new ConvOptions
        {
            Mode = (ConvMode)rng.Next(2), Border = (Border)rng.Next(5), Padding = p,
            PadY = p == PaddingMode.Explicit ? rng.Next(0, 3) : 0, PadX = p == PaddingMode.Explicit ? rng.Next(0, 3) : 0,
            StrideY = rng.Next(1, 3), StrideX = rng.Next(1, 3), DilationY = rng.Next(1, 3), DilationX = rng.Next(1, 3),
        };
    }

    [Fact]
    public void RandomStacks_GpuMatchesCpu_EveryLayer()
    {
        GlContext gl = fixture.Context;
        for (int seed = 0; seed < 24; seed++)
        {
            var rng = new Random(1000 + seed);
            int h = rng.Next(9, 30), w = rng.Next(9, 30);
            Stack stack = RandomStack(rng, h, w, out string desc);
            Tensor image = TestImage(stack.InputChannels, h, w, seed);
            StackResult cpu = StackRunner.Run(stack, image);
            using var runner = new GpuStackRunner(gl, stack, h, w);
            AssertLayersMatch(cpu, runner.Run(image), $"seed {1000 + seed}: {desc}");
        }
    }

    [Fact]
    public void Toggling_GpuMatchesCpuWithSameFlags_AndRefusesChannelBreaks()
    {
        GlContext gl = fixture.Context;
        Stack stack = StackCatalog.Load("gabor");
        Tensor image = TestImage(1, 24, 30, seed: 2);
        using var runner = new GpuStackRunner(gl, stack, 24, 30);
        runner.Run(image);
        uint[] handles = Enumerable.Range(0, stack.Layers.Count).Select(i => runner.Output(i).Handle).ToArray();

        runner.SetEnabled(1, false); // relu off: the pool sees the raw bank
        Assert.Same(runner.Output(0), runner.Output(1));
        AssertLayersMatch(StackRunner.Run(stack, image, [true, false, true]), runner.Run(image), "gabor with relu disabled");
        runner.SetEnabled(2, false);
        Assert.Equal(new MapShape(8, 24, 30), runner.Plan.Output);
        AssertLayersMatch(StackRunner.Run(stack, image, [true, false, false]), runner.Run(image), "gabor with relu and pool disabled");
        runner.SetEnabled(1, true);
        runner.SetEnabled(2, true);
        AssertLayersMatch(StackRunner.Run(stack, image), runner.Run(image), "gabor re-enabled");
        // Same size and flags again: the same GPU buffers serve every run.
        Assert.Equal(handles, Enumerable.Range(0, stack.Layers.Count).Select(i => runner.Output(i).Handle).ToArray());

        Stack edges = StackCatalog.Load("edges");
        var bank = (ConvLayer)edges.Layers[0];
        var chained = new Stack("chained", StackInput.Gray, [bank, new MagnitudeLayer(), ConvLayer.Learned(Parity.Random(new Random(1), 0.3f, 2, 2, 3, 3), null, new ConvOptions(), "w")]);
        using var r2 = new GpuStackRunner(gl, chained, 16, 16);
        Assert.False(r2.TrySetEnabled(1, false, out string? why));
        Assert.Contains("layers[2] (conv)", why);
        Assert.True(r2.Enabled[1]);
    }

    [Fact]
    public void Toggling_APoolOff_PastTheDriversStorageLimit_IsRefused_AndTheRunnerKeepsItsPlan()
    {
        GlContext gl = fixture.Context;
        // A map size where the pooled stack fits and the unpooled one does not: conv1's 8 maps take 2/3 of the limit,
        // conv2's 16 take 1/3 pooled and 4/3 with the pool off. The limit is the driver's storage block (llvmpipe: 128 MiB)
        // or, where that is about as large or larger (NVIDIA: 2 GiB), ConvGL's own per-map limit, checked first.
        long limitFloats = Math.Min(gl.MaxStorageBlockBytes / sizeof(float), Limits.StackMapValues);
        int h = 1000, w = (int)(limitFloats / 12 / h) / 2 * 2;
        var rng = new Random(7);
        var stack = new Stack("pooled", StackInput.Gray,
        [
            ConvLayer.Learned(Parity.Random(rng, 0.3f, 8, 1, 3, 3), null, new ConvOptions(), "conv1"),
            new PoolLayer(PoolOptions.Square(PoolKind.Max, 2)),
            ConvLayer.Learned(Parity.Random(rng, 0.3f, 16, 8, 3, 3), null, new ConvOptions(), "conv2"),
        ]);
        Tensor image = TestImage(1, h, w, seed: 3);
        using var runner = new GpuStackRunner(gl, stack, h, w);
        float[] before = runner.Run(image).Outputs[2].Data.ToArray();

        Assert.False(runner.TrySetEnabled(1, false, out string? why));
        bool overCore = 16L * h * w > Limits.StackMapValues;
        Assert.Contains(overCore ? $"over the limit of {Limits.StackMapValues} values a layer's output (all its maps together) may have" : "GL_MAX_SHADER_STORAGE_BLOCK_SIZE", why);
        Assert.True(runner.Enabled[1]);
        Assert.Equal(new MapShape(16, h / 2, w / 2), runner.Plan.Output);
        // Still the plan that fit, every buffer in place: the same numbers again.
        Assert.Equal(before, runner.Run(image).Outputs[2].Data);
    }

    [Fact]
    public void TimeLayers_MeasuresEveryEnabledLayer_WithoutChangingResults()
    {
        GlContext gl = fixture.Context;
        Stack stack = StackCatalog.Load("gabor");
        Tensor image = TestImage(1, 20, 22, seed: 9);
        using var runner = new GpuStackRunner(gl, stack, 20, 22) { TimeLayers = true };
        runner.SetEnabled(1, false);
        for (int frame = 0; frame < 3; frame++)
        {
            runner.Input.Upload(image);
            runner.Run();
            gl.Gl.Finish();
        }
        Assert.NotNull(runner.LayerMilliseconds(0));
        Assert.True(runner.LayerMilliseconds(0) >= 0);
        Assert.Null(runner.LayerMilliseconds(1)); // disabled: never dispatched
        Assert.NotNull(runner.LayerMilliseconds(2));
        AssertLayersMatch(StackRunner.Run(stack, image, [true, false, true]), runner.Run(image), "gabor timed, relu disabled");
    }

    [Fact]
    public void Resize_ReplansAndMatchesCpu()
    {
        GlContext gl = fixture.Context;
        Stack stack = StackCatalog.Load("edges");
        using var runner = new GpuStackRunner(gl, stack, 32, 40);
        Tensor small = TestImage(1, 17, 23, seed: 4);
        AssertLayersMatch(StackRunner.Run(stack, small), runner.Run(small), "edges resized 32x40 -> 17x23");
        Assert.Equal(new MapShape(2, 17, 23), runner.Plan.Output);

        // A caller-owned input tensor of another size: re-planned, same results as the CPU.
        Tensor other = TestImage(1, 29, 19, seed: 6);
        using var external = GpuTensor.From(gl, other, "external input");
        runner.Run(external);
        StackResult cpu = StackRunner.Run(stack, other);
        for (int i = 0; i < cpu.Outputs.Count; i++)
            Parity.AssertGpuMatchesReference(cpu.Outputs[i], runner.Output(i).Download(), $"layer {i} of edges on an external 1x29x19 tensor");
        using var rgb = new GpuTensor(gl, 3, 29, 19);
        Assert.Throws<ConvGLException>(() => runner.Run(rgb));
    }

    /// <summary>The Core tests' NumPy oracle (tests/ConvGL.Core.Tests/Stacks/numpy_stack_oracle.py) on the GPU runner:
    /// NumPy writes an F16/BF16 PyTorch-layout file and computes the stack in float64.</summary>
    [Fact]
    public void LearnedStack_FromNumpyWrittenSafetensors_GpuMatchesNumpy()
    {
        GlContext gl = fixture.Context;
        Assert.SkipWhen(!File.Exists("/usr/bin/python3"), "/usr/bin/python3 is not installed (scripts/install-deps.sh --test)");
        string dir = Directory.CreateTempSubdirectory("convgl-gpu-oracle-").FullName;
        try
        {
            Tensor input = Parity.Random(new Random(42), 3, 13, 17);
            Tensor[] expected = NumpyStackOracle.Run(dir, input);
            Assert.True(SafeTensors.Read(Path.Combine(dir, "weights.safetensors")).ContainsKey("conv1.weight"));
            File.WriteAllText(Path.Combine(dir, "s.json"), NumpyStackOracle.StackJson);
            Stack stack = StackFile.Load(Path.Combine(dir, "s.json"));
            using var runner = new GpuStackRunner(gl, stack, 13, 17);
            StackResult gpu = runner.Run(input);
            Assert.Equal(expected.Length, gpu.Outputs.Count);
            for (int i = 0; i < expected.Length; i++)
                Parity.AssertGpuMatchesReference(expected[i], gpu.Outputs[i], $"layer {i} ({stack.Layers[i].Type}) vs NumPy, input 3x13x17 seed 42");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
