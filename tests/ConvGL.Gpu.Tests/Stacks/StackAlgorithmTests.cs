using ConvGL.Core;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Gpu.Stacks;

namespace ConvGL.Gpu.Tests.Stacks;

/// <summary>Stacks choose an algorithm per conv layer (GpuStackRunner / StackRunner with Auto, Fft or Separable): the
/// cost model sends big kernels to the FFT and a depthwise layer of one rank-1 kernel to the separable passes, and
/// every layer that went through them equals the direct CPU reference (StackRunner.Run). Tolerance: Parity's abs 1e-5 +
/// rel 1e-4 plus FftConv2DTests' FFT term 2e-7 * log2(frame) * S * M (S = the largest sum |w| + |bias| of an output
/// channel, M = max |input|; log2 frame below 40 here).</summary>
[Collection(GlCollection.Name)]
public sealed class StackAlgorithmTests(GlFixture fixture)
{
    private static Tensor Random(int seed, float scale, params int[] shape)
    {
        var rng = new Random(seed);
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return t;
    }

    private static double MaxAbsSum(ConvLayer conv)
    {
        int cout = conv.Weight.Shape[0], per = conv.Weight.Length / cout;
        double worst = 0;
        for (int o = 0; o < cout; o++)
            worst = Math.Max(worst, conv.Weight.Data.Skip(o * per).Take(per).Sum(v => Math.Abs((double)v)) + Math.Abs(conv.Bias?[o] ?? 0));
        return worst;
    }

    private static void AssertLayersClose(StackResult expected, StackResult actual, double s, double m, string spec)
    {
        for (int layer = 0; layer < expected.Outputs.Count; layer++)
        {
            Tensor e = expected.Outputs[layer], a = actual.Outputs[layer];
            Assert.Equal(e.Shape, a.Shape);
            double fft = 2e-7 * 40 * s * m;
            for (int i = 0; i < e.Length; i++)
            {
                double r = e.Data[i], g = a.Data[i];
                Assert.True(Math.Abs(g - r) <= 1e-5 + 1e-4 * Math.Abs(r) + fft, $"{spec}, layer {layer}: value {i}: reference {r:R}, got {g:R}");
            }
        }
    }

    /// <summary>RGB -> 4 channels, k x k random kernels with bias, reflect border, stride 2; then ReLU.</summary>
    private static Stack MixingStack(int k, int seed)
    {
        Tensor weight = Random(seed, 1f / (3 * k), 4, 3, k, k);
        float[] bias = [0.1f, -0.2f, 0.3f, 0f];
        var conv = ConvLayer.Learned(weight, bias, new ConvOptions { Border = Border.Reflect, StrideY = 2, StrideX = 2 }, "conv.weight", "conv.bias");
        return new Stack("mixing", StackInput.Rgb, [conv, new ActivationLayer(ActivationKind.Relu)]);
    }

    [Fact]
    public void FftRequested_GpuAndCpu_EqualTheDirectReference()
    {
        Stack stack = MixingStack(21, 11_0401);
        Tensor image = Random(11_0402, 1f, 3, 37, 44);
        StackResult reference = StackRunner.Run(stack, image);
        double s = MaxAbsSum((ConvLayer)stack.Layers[0]);

        using var runner = new GpuStackRunner(fixture.Context, stack, 37, 44, algorithm: ConvAlgorithm.Fft);
        StackResult gpu = runner.Run(image);
        Assert.Equal(ConvAlgorithm.Fft, gpu.Algorithms![0]!.Algorithm);
        Assert.Null(gpu.Algorithms[1]); // not a conv layer
        AssertLayersClose(reference, gpu, s, 1, "gpu, fft");

        StackResult cpu = StackRunner.Run(stack, image, null, ConvAlgorithm.Fft, ConvCostModel.Cpu);
        Assert.Equal(ConvAlgorithm.Fft, cpu.Algorithms![0]!.Algorithm);
        AssertLayersClose(reference, cpu, s, 1, "cpu, fft");
    }

    [Fact]
    public void Auto_BigKernelOnABigMap_RunsFft_AndEqualsTheReference()
    {
        // 63x63 on 128x128: 65 M direct taps against a few 128-ish frames; llvmpipe's model picks the FFT.
        var conv = ConvLayer.Learned(Random(11_0403, 1f / 4000, 1, 1, 63, 63), null, new ConvOptions { Border = Border.Symmetric }, "big.weight");
        var stack = new Stack("big", StackInput.Gray, [conv]);
        Tensor image = Random(11_0404, 1f, 1, 128, 128);
        using var runner = new GpuStackRunner(fixture.Context, stack, 128, 128, algorithm: ConvAlgorithm.Auto);
        Assert.Equal(ConvAlgorithm.Fft, runner.Algorithms[0]!.Algorithm);
        Assert.StartsWith("fft (63x63 kernel, ", runner.Algorithms[0]!.ToString());
        AssertLayersClose(StackRunner.Run(stack, image), runner.Run(image), MaxAbsSum(conv), 1, "gpu, auto");
    }

    [Fact]
    public void Auto_DepthwiseSharedGaussian_RunsSeparable_AndEqualsTheReference()
    {
        // One gaussian:31 on every channel (a fixed bank of one kernel, depthwise): rank 1, past the unrolled direct sizes.
        ConvLayer blur = ConvLayer.Fixed(["gaussian:31"], [KernelLibrary.Get("gaussian:31")], 3, sum: false, new ConvOptions { Border = Border.Replicate });
        var stack = new Stack("blur", StackInput.Rgb, [blur]);
        Tensor image = Random(11_0405, 1f, 3, 96, 120);
        Assert.NotNull(ConvAlgorithms.SharedKernel(blur.Weight, blur.Bias, blur.Options));
        using var runner = new GpuStackRunner(fixture.Context, stack, 96, 120, algorithm: ConvAlgorithm.Auto);
        Assert.Equal(ConvAlgorithm.Separable, runner.Algorithms[0]!.Algorithm);
        StackResult reference = StackRunner.Run(stack, image);
        AssertLayersClose(reference, runner.Run(image), MaxAbsSum(blur), 1, "gpu, auto");
        StackResult cpu = StackRunner.Run(stack, image, null, ConvAlgorithm.Separable, ConvCostModel.Cpu);
        AssertLayersClose(reference, cpu, MaxAbsSum(blur), 1, "cpu, separable");
    }

    [Fact]
    public void Direct_IsTheDefault_AndSeparableOfAMixingLayerIsAnErrorNamingIt()
    {
        Stack stack = MixingStack(5, 11_0406);
        using (var runner = new GpuStackRunner(fixture.Context, stack, 20, 20))
            Assert.All(runner.Algorithms, a => Assert.Null(a)); // the window's default: no choice made, every conv direct
        var e = Assert.Throws<ConvGLException>(() => new GpuStackRunner(fixture.Context, stack, 20, 20, algorithm: ConvAlgorithm.Separable));
        Assert.Contains("layers[0] (conv)", e.Message);
        Assert.Contains("separable", e.Message);
        e = Assert.Throws<ConvGLException>(() => StackRunner.Run(stack, Random(1, 1f, 3, 20, 20), null, ConvAlgorithm.Separable, ConvCostModel.Cpu));
        Assert.Contains("layers[0] (conv)", e.Message);
    }

    /// <summary>A stack file with a 61x61 kernel file, run by the runner the window uses (Auto): the choice is made per
    /// planned size (direct on a tiny map, FFT on a bigger one, direct again when it shrinks back), and every size's
    /// maps equal the CPU reference within the FFT tolerance.</summary>
    [Fact]
    public void Auto_KernelFile61_ChoosesPerPlannedSize_AndEqualsTheReference()
    {
        string dir = Directory.CreateTempSubdirectory("convgl-stack-fft-").FullName;
        try
        {
            var rng = new Random(11_0407);
            double[] taps = Enumerable.Range(0, 61 * 61).Select(_ => rng.NextDouble() - 0.3).ToArray();
            double sum = taps.Sum(Math.Abs);
            File.WriteAllLines(Path.Combine(dir, "big61.txt"),
                taps.Chunk(61).Select(row => string.Join(' ', row.Select(v => (v / sum).ToString("R", System.Globalization.CultureInfo.InvariantCulture)))));
            string file = Path.Combine(dir, "big.json");
            File.WriteAllText(file, """
                { "name": "big", "input": "gray",
                  "layers": [ { "type": "conv", "kernels": ["big61.txt"], "border": "replicate" }, { "type": "relu" } ] }
                """);
            Stack stack = StackFile.Load(file);
            var conv = (ConvLayer)stack.Layers[0];
            Assert.Equal([1, 1, 61, 61], conv.Weight.Shape);

            using var runner = new GpuStackRunner(fixture.Context, stack, 8, 8, algorithm: ConvAlgorithm.Auto);
            Assert.Equal(ConvAlgorithm.Direct, runner.Algorithms[0]!.Algorithm);
            Assert.Null(runner.Algorithms[1]);
            foreach ((int h, int w, ConvAlgorithm expected) in new[] { (120, 160, ConvAlgorithm.Fft), (9, 7, ConvAlgorithm.Direct), (97, 131, ConvAlgorithm.Fft) })
            {
                Tensor image = Random(11_0408 + h, 1f, 1, h, w);
                StackResult gpu = runner.Run(image);
                AlgorithmChoice choice = gpu.Algorithms![0]!;
                Assert.Equal(expected, choice.Algorithm);
                // The same choice `features --device gpu` makes (ChooseLayer, llvmpipe's model) for that input.
                Assert.Equal(ConvAlgorithms.ChooseLayer(1, h, w, conv.Weight, conv.Bias, conv.Options, ConvCostModel.Llvmpipe).ToString(), choice.ToString());
                AssertLayersClose(StackRunner.Run(stack, image), gpu, MaxAbsSum(conv), 1, $"gpu, auto, {h}x{w} ({choice})");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
