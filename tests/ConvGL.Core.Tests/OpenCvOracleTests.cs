using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using OpenCvSharp;

namespace ConvGL.Core.Tests;

/// <summary>An oracle nobody here wrote: OpenCV's filter2D on the same inputs.
///
/// filter2D is a correlation, dst(y, x) = sum k(i, j) src(y + i - anchor.y, x + j - anchor.x). Its default anchor
/// is (k / 2), while DESIGN.md's `same` puts floor((k - 1) / 2) rows before (PyTorch); the two agree for odd
/// kernels, and for even kernels the test passes the anchor (k - 1) / 2 explicitly. Borders OpenCV shares with
/// DESIGN.md: BORDER_CONSTANT (zero), BORDER_REPLICATE, BORDER_REFLECT_101 (reflect), BORDER_REFLECT (symmetric).
/// filter2D rejects BORDER_WRAP, so wrap is covered by the FFT theorem test instead.
/// Convolve, stride, dilation and valid padding are not filter2D options; they are reached through identities
/// that hold by DESIGN.md's definition: convolve = correlate with the kernel rotated 180 degrees; dilation =
/// a kernel with d - 1 zeros between taps (same padding is then identical); stride = every s-th output of the
/// stride-1 result; valid = the stride-1 same result cropped by the pad.</summary>
public class OpenCvOracleTests
{
    private static readonly (Border Ours, BorderTypes Cv)[] SharedBorders =
    [
        (Border.Zero, BorderTypes.Constant),
        (Border.Replicate, BorderTypes.Replicate),
        (Border.Reflect, BorderTypes.Reflect101),
        (Border.Symmetric, BorderTypes.Reflect),
    ];

    private static Tensor Filter2D(Tensor image, Tensor kernel, BorderTypes border)
    {
        var result = Tensor.Chw(image.C, image.H, image.W);
        using Mat k = Mat.FromPixelData(kernel.H, kernel.W, MatType.CV_32FC1, kernel.Data);
        var anchor = new Point((kernel.W - 1) / 2, (kernel.H - 1) / 2);
        for (int c = 0; c < image.C; c++)
        {
            float[] plane = image.Channel(c).Data;
            using Mat src = Mat.FromPixelData(image.H, image.W, MatType.CV_32FC1, plane);
            using var dst = new Mat();
            Cv2.Filter2D(src, dst, MatType.CV_32F, k, anchor, 0, border);
            Assert.Equal(image.H, dst.Rows);
            dst.GetArray(out float[] values);
            values.CopyTo(result.Data, c * image.H * image.W);
        }
        return result;
    }

    private static Tensor Dilate(Tensor k, int dy, int dx)
    {
        var d = new Tensor([dy * (k.H - 1) + 1, dx * (k.W - 1) + 1]);
        for (int y = 0; y < k.H; y++)
            for (int x = 0; x < k.W; x++) d[y * dy, x * dx] = k[y, x];
        return d;
    }

    /// <summary>The DESIGN.md result for `options` built from OpenCV's stride-1 same correlation.</summary>
    private static Tensor ViaOpenCv(Tensor image, Tensor kernel, ConvOptions o, BorderTypes border)
    {
        Tensor k = o.Mode == ConvMode.Convolve ? Conv2D.Rot180(kernel) : kernel;
        k = Dilate(k, o.DilationY, o.DilationX);
        Tensor dense = Filter2D(image, k, border);
        ConvGeometry same = ConvGeometry.Compute(image.H, image.W, k.H, k.W, new ConvOptions());
        ConvGeometry want = ConvGeometry.Compute(image.H, image.W, kernel.H, kernel.W, o);
        // Offset of the wanted padded frame within the same-padded frame (valid: +pad, same: 0).
        int offY = same.Y.PadBefore - want.Y.PadBefore, offX = same.X.PadBefore - want.X.PadBefore;
        var r = Tensor.Chw(image.C, want.Y.Output, want.X.Output);
        for (int c = 0; c < image.C; c++)
            for (int y = 0; y < r.H; y++)
                for (int x = 0; x < r.W; x++) r[c, y, x] = dense[c, offY + y * o.StrideY, offX + x * o.StrideX];
        return r;
    }

    [Fact]
    public void Filter2D_AgreesWithConv2D_ForEverySharedBorder_RandomKernels()
    {
        var rng = new Random(41);
        int ran = 0;
        foreach ((Border ours, BorderTypes cv) in SharedBorders)
            for (int trial = 0; trial < 40; trial++)
            {
                int c = rng.Next(1, 4), h = rng.Next(1, 24), w = rng.Next(1, 24), kh = rng.Next(1, 8), kw = rng.Next(1, 8);
                var o = new ConvOptions
                {
                    Border = ours,
                    Mode = (ConvMode)rng.Next(2),
                    Padding = rng.Next(3) == 0 ? PaddingMode.Valid : PaddingMode.Same,
                    StrideY = rng.Next(1, 3),
                    StrideX = rng.Next(1, 3),
                    DilationY = rng.Next(1, 3),
                    DilationX = rng.Next(1, 3),
                };
                try { ConvGeometry.Compute(h, w, kh, kw, o); }
                catch (ConvGLException) { continue; }
                // OpenCV's reflect-101 needs at least 2 pixels along an axis it pads; with 1 it is undefined there.
                if (ours == Border.Reflect && (h < 2 || w < 2)) continue;
                Tensor img = TestData.Random(rng, c, h, w), k = TestData.Random(rng, kh, kw);
                TestData.AssertClose(ViaOpenCv(img, k, o, cv), Conv2D.Filter(img, k, o), 1e-5, 1e-5,
                    $"trial {trial} {o} input ({c},{h},{w}) kernel ({kh},{kw}) OpenCV {cv}");
                ran++;
            }
        Assert.True(ran > 120, $"only {ran} cases ran");
    }

    [Theory]
    [InlineData("sobel-x")]
    [InlineData("scharr-y")]
    [InlineData("laplacian:8")]
    [InlineData("gaussian:5,1.2")]
    [InlineData("log")]
    [InlineData("gabor:theta=30")]
    [InlineData("box:4")]
    public void Filter2D_AgreesWithConv2D_LibraryKernelsOnAnImage(string name)
    {
        // A 64x48 RGB gradient-and-checker image; a kernel of 13x13 (gabor) also exercises OpenCV's DFT path.
        var img = Tensor.Chw(3, 48, 64);
        for (int y = 0; y < 48; y++)
            for (int x = 0; x < 64; x++)
            {
                img[0, y, x] = x / 63f;
                img[1, y, x] = ((x / 8 + y / 8) % 2 == 0) ? 0.9f : 0.1f;
                img[2, y, x] = (float)(0.5 + 0.5 * Math.Sin(x * 0.3 + y * 0.2));
            }
        Tensor k = KernelLibrary.Get(name);
        foreach ((Border ours, BorderTypes cv) in SharedBorders)
        {
            var o = new ConvOptions { Border = ours };
            TestData.AssertClose(ViaOpenCv(img, k, o, cv), Conv2D.Filter(img, k, o), 1e-5, 1e-5, $"{name} {o}");
        }
    }

    [Theory]
    // sigma 0 asks for OpenCV's default: for odd sizes up to 9 getGaussianKernel returns its fixed table
    // ([1 4 6 4 1]/16 for 5), not the sampled Gaussian of sigma 0.3*((n-1)/2 - 1) + 0.8; above 9 the formula.
    [InlineData(1, 0.0)]
    [InlineData(3, 0.0)]
    [InlineData(5, 0.0)]
    [InlineData(7, 0.0)]
    [InlineData(9, 0.0)]
    [InlineData(11, 0.0)]
    [InlineData(5, 1.5)]
    [InlineData(7, 0.8)]
    public void Gaussian_MatchesGetGaussianKernel(int size, double sigma)
    {
        using Mat g = Cv2.GetGaussianKernel(size, sigma, MatType.CV_64F) ?? throw new InvalidOperationException("OpenCV returned no kernel");
        Tensor k = KernelLibrary.Get($"gaussian:{size},{sigma.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        Assert.Equal([size, size], k.Shape);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                double expected = g.At<double>(y) * g.At<double>(x);
                Assert.True(Math.Abs(k[y, x] - expected) <= 1e-7,
                    $"gaussian size {size} sigma {sigma}: ({y}, {x}) is {k[y, x]:R}, OpenCV's outer product {expected:R}");
            }
    }
}
