using ConvGL.Core.Learning;
using ConvGL.Core.Ops;

namespace ConvGL.Core.Tests.Learning;

/// <summary>Learning works end to end: the small CNN learns the synthetic classes, and kernel fitting recovers
/// a hidden filter.</summary>
public class TrainingTests(ITestOutputHelper output)
{
    /// <summary>A small, fast configuration (a few seconds on 2 cores): 20x20 images, 1500 training samples.</summary>
    private static readonly TrainConfig Small = new()
    {
        ImageSize = 20, TrainSamples = 1500, TestSamples = 500, Epochs = 4, BatchSize = 10,
        Optimizer = OptimizerKind.Adam, LearningRate = 3e-3, Seed = 7, Conv1Channels = 6, Conv2Channels = 12,
    };

    [Fact]
    public void SmallCnn_BeatsChanceByAWideMarginOnHeldOutData_AndLossDecreases()
    {
        TrainResult r = Trainer.Train(Small, e => output.WriteLine(e.ToString()));
        EpochStats last = r.History[^1];
        output.WriteLine($"initial test accuracy {r.InitialTestAccuracy:P1}, loss {r.InitialTestLoss:F3}; final {last}");
        // Chance is 10% (ten balanced classes). Held-out data come from a different seed (TestDataSeed).
        Assert.True(last.TestAccuracy >= 0.60,
            $"held-out accuracy {last.TestAccuracy:P1} is below 60% (chance 10%) with {Small}");
        Assert.True(last.TestLoss < 0.5 * r.InitialTestLoss,
            $"test loss went from {r.InitialTestLoss:F4} to only {last.TestLoss:F4} with {Small}");
        Assert.True(r.History[^1].TrainLoss < r.History[0].TrainLoss,
            $"training loss did not decrease: {string.Join(", ", r.History.Select(e => e.TrainLoss.ToString("F4")))}");
    }

    [Fact]
    public void SgdWithMomentum_AlsoLearns()
    {
        TrainConfig sgd = Small with { Optimizer = OptimizerKind.Sgd, LearningRate = 0.02, Momentum = 0.9, TrainSamples = 1000, Epochs = 3 };
        TrainResult r = Trainer.Train(sgd, e => output.WriteLine(e.ToString()));
        // Plain SGD starts slowly on this small net (about 43% after these 300 steps); the bar is three times
        // chance (10%), well clear of a network that learned nothing.
        Assert.True(r.History[^1].TestAccuracy >= 0.30, $"SGD held-out accuracy {r.History[^1].TestAccuracy:P1} below 30% with {sgd}");
        Assert.True(r.History[^1].TestLoss < r.InitialTestLoss, $"SGD test loss went from {r.InitialTestLoss:F4} to {r.History[^1].TestLoss:F4} with {sgd}");
    }

    [Fact]
    public void Training_IsDeterministic_WhateverTheThreadCount()
    {
        TrainConfig tiny = Small with { TrainSamples = 200, TestSamples = 50, Epochs = 1, ImageSize = 16 };
        TrainResult one = Trainer.Train(tiny with { Workers = 1 });
        TrainResult three = Trainer.Train(tiny with { Workers = 3 });
        foreach (((string name, Parameter a), (_, Parameter b)) in one.Model.NamedParameters.Zip(three.Model.NamedParameters))
            Assert.True(a.Value.Data.SequenceEqual(b.Value.Data), $"{name} differs between 1 and 3 workers with {tiny}");
        Assert.Equal(one.History[0].TrainLoss, three.History[0].TrainLoss);
    }

    [Fact]
    public void SyntheticShapes_SameSeedSameImages_OtherSeedOtherImages()
    {
        IReadOnlyList<Sample> a = SyntheticShapes.Generate(20, 5, 16), b = SyntheticShapes.Generate(20, 5, 16), c = SyntheticShapes.Generate(20, 6, 16);
        for (int n = 0; n < 20; n++)
        {
            Assert.Equal(n % 10, a[n].Label);
            Assert.True(a[n].Image.Data.SequenceEqual(b[n].Image.Data), $"sample {n} differs for the same seed");
            Assert.False(a[n].Image.Data.SequenceEqual(c[n].Image.Data), $"sample {n} is identical for seeds 5 and 6");
            (float min, float max) = a[n].Image.Range();
            Assert.True(min >= 0f && max <= 1f && max - min >= 0.2f, $"sample {n} (class {SyntheticShapes.ClassNames[n % 10]}) range [{min}, {max}]");
        }
    }

    private static readonly Tensor SobelX = Tensor.Matrix([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]);

    /// <summary>A textured input: one synthetic sample per class tiled, plus uniform noise, so every 3x3
    /// neighbourhood pattern is represented and the least-squares problem has a unique answer.</summary>
    private static Tensor TexturedImage(int seed)
    {
        var rng = new Random(seed);
        var image = Tensor.Chw(1, 40, 40);
        IReadOnlyList<Sample> tiles = SyntheticShapes.Generate(4, seed, 20);
        for (int y = 0; y < 40; y++)
            for (int x = 0; x < 40; x++)
                image[0, y, x] = 0.7f * tiles[y / 20 * 2 + x / 20].Image[0, y % 20, x % 20] + 0.3f * (float)rng.NextDouble();
        return image;
    }

    /// <summary>A smooth image (a synthetic sample enlarged 3x by pixel repetition, then box-blurred): its 3x3
    /// neighbourhoods are nearly collinear, the ill-conditioned case photos present.</summary>
    private static Tensor SmoothImage(int seed)
    {
        Tensor small = SyntheticShapes.Generate(6, seed, 16)[5].Image;
        var big = Tensor.Chw(1, 48, 48);
        for (int y = 0; y < 48; y++)
            for (int x = 0; x < 48; x++) big[0, y, x] = small[0, y / 3, x / 3];
        return Conv2D.Filter(big, Tensor.Matrix([[1 / 9f, 1 / 9f, 1 / 9f], [1 / 9f, 1 / 9f, 1 / 9f], [1 / 9f, 1 / 9f, 1 / 9f]]), ConvOptions.ImageFilter);
    }

    [Theory]
    [InlineData(FitMethod.ConjugateGradient, ConvMode.Correlate, Border.Reflect, false)]
    [InlineData(FitMethod.ConjugateGradient, ConvMode.Convolve, Border.Zero, false)]
    [InlineData(FitMethod.ConjugateGradient, ConvMode.Correlate, Border.Reflect, true)]
    [InlineData(FitMethod.Adam, ConvMode.Correlate, Border.Reflect, false)]
    [InlineData(FitMethod.Adam, ConvMode.Convolve, Border.Zero, false)]
    public void KernelFit_RecoversHiddenSobel(FitMethod method, ConvMode mode, Border border, bool smooth)
    {
        var options = new ConvOptions { Mode = mode, Border = border };
        Tensor input = smooth ? SmoothImage(3) : TexturedImage(3);
        Tensor target = Conv2D.Filter(input, SobelX, options);
        KernelFitResult r = KernelFit.Fit(input, target, 3, 3, options, method);
        output.WriteLine($"{method} {options} smooth={smooth}: {r.LossHistory.Count - 1} steps, loss {r.LossHistory[0]:G4} -> {r.FinalLoss:G4}; " +
                         $"bias {r.Bias:G4}; kernel {string.Join(" ", r.Kernel.Data.Select(v => v.ToString("F4")))}");
        // Stated tolerance: every entry within 2e-3 of Sobel (entries are up to 2 in size), bias within 0.01 of 0.
        for (int i = 0; i < 9; i++)
            Assert.True(Math.Abs(r.Kernel.Data[i] - SobelX.Data[i]) <= 2e-3,
                $"{method} {options} smooth={smooth}: entry {i} is {r.Kernel.Data[i]}, hidden {SobelX.Data[i]}; kernel {string.Join(" ", r.Kernel.Data)}");
        Assert.True(Math.Abs(r.Bias) <= 0.01, $"{method} {options} smooth={smooth}: bias {r.Bias}, hidden 0");
        Assert.True(r.FinalLoss < 1e-3 * r.LossHistory[0], $"{method} {options} smooth={smooth}: loss only fell from {r.LossHistory[0]} to {r.FinalLoss}");
    }

    [Fact]
    public void KernelFit_ConjugateGradient_StopsOnceTheLossStopsFalling()
    {
        // 10 unknowns: the default budget is 100 steps; CG has the minimum to rounding in ~20 and then only stalls.
        var options = new ConvOptions { Mode = ConvMode.Correlate, Border = Border.Reflect };
        Tensor input = TexturedImage(3);
        KernelFitResult r = KernelFit.Fit(input, Conv2D.Filter(input, SobelX, options), 3, 3, options);
        int steps = r.LossHistory.Count - 1;
        Assert.NotNull(r.Stopped);
        Assert.Contains("in a row lowered the mse", r.Stopped);
        Assert.True(steps < 60, $"ran {steps} of 100 steps");
        // Its last StallSteps + 1 losses differ by less than the stall ratio, and the ones before them fell.
        double[] h = [.. r.LossHistory.Take(steps)];
        for (int i = h.Length - KernelFit.StallSteps; i < h.Length; i++)
            Assert.True(h[i] >= Math.Min(h[..i].Min(), double.MaxValue) * (1 - KernelFit.StallRatio), $"step {i}: {h[i]} after {h[..i].Min()}");
        Assert.True(h[h.Length - KernelFit.StallSteps - 1] < h[0] * 1e-12, $"stopped at loss {h[^1]} from {h[0]}");
        for (int i = 0; i < 9; i++) Assert.Equal(SobelX.Data[i], r.Kernel.Data[i], 1e-4);
        // A budget smaller than convergence is spent whole, and says nothing stopped it.
        KernelFitResult shortFit = KernelFit.Fit(input, Conv2D.Filter(input, SobelX, options), 3, 3, options, steps: 4);
        Assert.Null(shortFit.Stopped);
        Assert.Equal(4 + 1, shortFit.LossHistory.Count);
    }

    [Fact]
    public void KernelFit_MismatchedTargetSize_IsAClearError()
    {
        Tensor input = TexturedImage(1);
        var e = Assert.Throws<ConvGLException>(() => KernelFit.Fit(input, Tensor.Chw(1, 38, 40), 3, 3, new ConvOptions()));
        Assert.Contains("40x38", e.Message);
    }
}
