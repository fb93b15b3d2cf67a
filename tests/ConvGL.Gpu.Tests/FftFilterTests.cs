using ConvGL.Core;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary><see cref="GpuFilter"/> with every algorithm equals the reference filter, the cost model picks what the
/// kernel and image call for, and the big Gaussian of issue 11 comes out equal to the separable reference.</summary>
[Collection(GlCollection.Name)]
public sealed class FftFilterTests(GlFixture fixture)
{
    /// <summary>Parity's abs 1e-5 + rel 1e-4, plus FftConv2DTests' FFT term for kernels with sum|k| * max|in| = S.</summary>
    private static void AssertClose(Tensor expected, Tensor actual, double s, string spec)
    {
        Assert.True(expected.SameShape(actual), $"shape {expected.ShapeString} vs {actual.ShapeString} -- {spec}");
        double fft = 2e-7 * 40 * s; // log2 of any frame here is below 40
        for (int i = 0; i < expected.Length; i++)
        {
            double r = expected.Data[i], g = actual.Data[i];
            Assert.True(Math.Abs(g - r) <= 1e-5 + 1e-4 * Math.Abs(r) + fft, $"value {i}: reference {r:R}, GPU {g:R} -- {spec}");
        }
    }

    private static double AbsSum(Tensor t) => t.Data.Sum(v => Math.Abs((double)v));

    [Fact]
    public void EveryAlgorithm_EqualsConv2DFilter_OverOptions()
    {
        var rng = new Random(11_0101);
        Tensor gauss = KernelLibrary.Get("gaussian:7");
        Tensor odd = Parity.Random(rng, 0.3f, 5, 4); // not rank 1
        using var filter = new GpuFilter(fixture.Context);
        foreach (Border border in Borders.All)
            foreach (ConvMode mode in new[] { ConvMode.Correlate, ConvMode.Convolve })
            {
                var o = new ConvOptions { Border = border, Mode = mode, StrideX = rng.Next(1, 3), DilationY = rng.Next(1, 3), Padding = (PaddingMode)rng.Next(3) };
                Tensor image = Parity.Random(rng, 3, 23, 31);
                foreach (Tensor kernel in new[] { gauss, odd })
                {
                    Tensor expected = Conv2D.Filter(image, kernel, o);
                    foreach (ConvAlgorithm a in new[] { ConvAlgorithm.Direct, ConvAlgorithm.Separable, ConvAlgorithm.Fft, ConvAlgorithm.Auto })
                    {
                        if (a == ConvAlgorithm.Separable && kernel == odd) continue;
                        filter.Algorithm = a;
                        Tensor got = filter.Filter(image, kernel, o);
                        Assert.Equal(a == ConvAlgorithm.Auto ? filter.LastChoice!.Algorithm : a, filter.LastChoice!.Algorithm);
                        AssertClose(expected, got, AbsSum(kernel) * 1.2, $"{a} kernel {kernel.ShapeString} {o}");
                    }
                }
            }
    }

    [Fact]
    public void Separable_OfAKernelThatIsNotRankOne_IsAnErrorNamingIt()
    {
        using var filter = new GpuFilter(fixture.Context) { Algorithm = ConvAlgorithm.Separable };
        var e = Assert.Throws<ConvGLException>(() => filter.Filter(Parity.Random(new Random(1), 1, 8, 8), KernelLibrary.Get("laplacian"), ConvOptions.ImageFilter));
        Assert.Contains("rank-1", e.Message);
        Assert.Contains("3x3", e.Message);
    }

    [Fact]
    public void Gaussian501_Rgb_EqualsTheSeparableReference_ByEveryAlgorithmAutoMayPick()
    {
        // Issue 11's case, small: a 501-tap Gaussian on a 3x48x40 image, reflect border. The reference is Core's
        // Separable.Filter (the 2D sum would be 3 G taps), itself proven equal to Conv2D.Filter for every option.
        Tensor kernel = KernelLibrary.Get("gaussian:501");
        Tensor image = Parity.Random(new Random(11_0102), 1f, 3, 48, 40);
        ConvOptions o = ConvOptions.ImageFilter;
        Assert.True(Separable.TryFactor(kernel, out double[] column, out double[] row));
        Tensor expected = Separable.Filter(image, column, row, o);
        using var filter = new GpuFilter(fixture.Context);
        Tensor auto = filter.Filter(image, kernel, o);
        Assert.Contains(filter.LastChoice!.Algorithm, new[] { ConvAlgorithm.Separable, ConvAlgorithm.Fft });
        AssertClose(expected, auto, AbsSum(kernel), $"auto ({filter.LastChoice})");
        foreach (ConvAlgorithm a in new[] { ConvAlgorithm.Separable, ConvAlgorithm.Fft })
        {
            filter.Algorithm = a;
            AssertClose(expected, filter.Filter(image, kernel, o), AbsSum(kernel), a.ToString());
        }
    }

    [Theory]
    // (kernel, C, H, W, expected choice under the llvmpipe model)
    [InlineData("sobel-x", 3, 512, 512, ConvAlgorithm.Direct)]            // 9 taps: nothing beats the direct sum
    [InlineData("laplacian", 1, 1080, 1920, ConvAlgorithm.Direct)]
    [InlineData("gaussian:9", 3, 512, 512, ConvAlgorithm.Direct)]         // the unrolled direct variant beats 2 passes
    [InlineData("gaussian:31", 1, 128, 128, ConvAlgorithm.Separable)]     // past the unrolled size, too small for the FFT
    [InlineData("gaussian:501", 3, 512, 512, ConvAlgorithm.Fft)]          // 1002 taps each still lose to the FFT
    [InlineData("gabor:size=31", 1, 1024, 1024, ConvAlgorithm.Fft)]       // not rank 1, 961 taps
    public void CostModel_Llvmpipe_PicksWhatTheKernelCallsFor(string name, int c, int h, int w, ConvAlgorithm expected)
    {
        AlgorithmChoice choice = ConvAlgorithms.ChooseFilter(c, h, w, KernelLibrary.Get(name), ConvOptions.ImageFilter, ConvCostModel.Llvmpipe);
        Assert.Equal(expected, choice.Algorithm);
    }

    [Fact]
    public void CostModel_Random63On1024_IsFft_AndSaysItsFrame()
    {
        Tensor kernel = Parity.Random(new Random(63), 1f, 63, 63);
        AlgorithmChoice choice = ConvAlgorithms.ChooseFilter(1, 1024, 1024, kernel, ConvOptions.ImageFilter, ConvCostModel.Llvmpipe);
        Assert.Equal("fft (63x63 kernel, 1280x320 frame)", choice.ToString());
    }

    /// <summary>The hardening audit: apply's auto choice took the FFT for a 31x31 Gaussian on an 8192-wide picture whose
    /// frames (10240x1280, 200 MiB) pass llvmpipe's 128 MiB buffers, then told the user to choose direct or separable.
    /// Such a picture now runs in bands of rows through frames that fit (FftPlan.Bands; FftConv2DTests proves the bands
    /// equal to the reference). Only a picture so wide that a frame one tile row tall passes the buffers is refused, with
    /// a typed error before anything is allocated, and the choice without the FFT is the next best one (apply then runs
    /// it, saying so).</summary>
    [Fact]
    public void FftFramesPastTheDriversBuffers_RunInBands_AndOnlyTooWideFramesAreATypedRefusal()
    {
        Tensor gauss = KernelLibrary.Get("gaussian:31");
        Assert.Equal(ConvAlgorithm.Fft, ConvAlgorithms.ChooseFilter(1, 4000, 8192, gauss, ConvOptions.ImageFilter, ConvCostModel.Llvmpipe).Algorithm);
        Assert.Equal(ConvAlgorithm.Separable, ConvAlgorithms.ChooseFilter(1, 4000, 8192, gauss, ConvOptions.ImageFilter, ConvCostModel.Llvmpipe, allowFft: false).Algorithm);
        Assert.Equal(ConvAlgorithm.Direct, ConvAlgorithms.ChooseFilter(1, 4000, 8192, Parity.Random(new Random(31), 1f, 31, 31), ConvOptions.ImageFilter,
            ConvCostModel.Llvmpipe, allowFft: false).Algorithm); // not rank 1: direct
        using var fft = new GpuFftConv2D(fixture.Context, gauss.Reshape(1, 1, 31, 31), null, ConvOptions.ImageFilter);
        long perBuffer = GpuFftConv2D.BufferTexels(fixture.Context);
        FftPlan plan = fft.PlanFor(4000, 8192, 1);
        Assert.True(plan.Plane <= perBuffer && plan.Bands * FftPlan.Tiles * plan.TileRows >= 4000, plan.ToString());
        // The cost model, told the driver's buffers, plans the same bands, prices them, and names them.
        AlgorithmChoice banded = ConvAlgorithms.ChooseFilter(1, 4000, 8192, gauss, ConvOptions.ImageFilter, ConvCostModel.Llvmpipe, maxFftBufferTexels: perBuffer);
        AlgorithmChoice whole = ConvAlgorithms.ChooseFilter(1, 4000, 8192, gauss, ConvOptions.ImageFilter, ConvCostModel.Llvmpipe);
        Assert.Equal(ConvAlgorithm.Fft, banded.Algorithm);
        if (plan.Bands > 1)
        {
            Assert.EndsWith($"{plan.FrameW}x{plan.FrameH} frame, {plan.Bands} bands of rows", banded.Detail);
            // Priced as its bands' frames: here 2 x 640 rows against 1280 (GoodSize(1030) rounds the one frame up as far).
            Assert.InRange(banded.EstimatedMs, 0.5 * whole.EstimatedMs, 2 * whole.EstimatedMs);
        }
        if (fixture.Context.MaxStorageBlockBytes <= 200L << 20) Assert.True(plan.Bands >= 2, plan.ToString()); // llvmpipe: 128 MiB
        // 300,000 columns: a 32-row frame is 32 x 327,680 texels, 160 MiB; a driver with larger buffers takes it.
        if (fixture.Context.MaxStorageBlockBytes > 150L << 20) return;
        using var input = new GpuTensor(fixture.Context, 1, 8, 300_000);
        using var output = new GpuTensor(fixture.Context);
        var e = Assert.Throws<FftTooLargeException>(() => fft.Run(input, output));
        Assert.StartsWith("FFT convolution needs 1 frame of 327680x32", e.Message);
    }
}
