using ConvGL.Core.Kernels;

namespace ConvGL.Core.Tests.Kernels;

public class KernelLibraryTests
{
    private static double Sum(Tensor t) => t.Data.Sum(v => (double)v);

    [Fact]
    public void Sobel_Scharr_Prewitt_FollowTheOrientationConvention()
    {
        Assert.Equal([-1f, 0, 1, -2, 0, 2, -1, 0, 1], KernelLibrary.Get("sobel-x").Data);
        Assert.Equal([-1f, -2, -1, 0, 0, 0, 1, 2, 1], KernelLibrary.Get("sobel-y").Data);
        Assert.Equal([-3f, 0, 3, -10, 0, 10, -3, 0, 3], KernelLibrary.Get("scharr-x").Data);
        Assert.Equal([-3f, -10, -3, 0, 0, 0, 3, 10, 3], KernelLibrary.Get("scharr-y").Data);
        Assert.Equal([-1f, 0, 1, -1, 0, 1, -1, 0, 1], KernelLibrary.Get("prewitt-x").Data);
        Assert.Equal([-1f, -1, -1, 0, 0, 0, 1, 1, 1], KernelLibrary.Get("prewitt-y").Data);
        Assert.Equal([1f, 0, -1, 1, 0, -1, 1, 0, -1], KernelLibrary.Get("vertical-edge").Data);
    }

    [Fact]
    public void Laplacian_4And8()
    {
        Assert.Equal([0f, 1, 0, 1, -4, 1, 0, 1, 0], KernelLibrary.Get("laplacian").Data);
        Assert.Equal([0f, 1, 0, 1, -4, 1, 0, 1, 0], KernelLibrary.Get("laplacian:4").Data);
        Assert.Equal([1f, 1, 1, 1, -8, 1, 1, 1, 1], KernelLibrary.Get("laplacian:8").Data);
        Assert.Equal([1f, 1, 1, 1, -8, 1, 1, 1, 1], KernelLibrary.Get("laplacian:neighbours=8").Data);
        Assert.Throws<ConvGLException>(() => KernelLibrary.Get("laplacian:6"));
    }

    [Fact]
    public void Gaussian_PositionalEqualsNamed_SumsToOne_MatchesFormula()
    {
        Tensor a = KernelLibrary.Get("gaussian:5,1.5"), b = KernelLibrary.Get("gaussian:size=5,sigma=1.5");
        Assert.Equal(a.Data, b.Data);
        Assert.Equal([5, 5], a.Shape);
        Assert.Equal(1.0, Sum(a), 1e-6);
        // Ratio of the centre to its right neighbour is exp(1/(2 sigma^2)) by the Gaussian's definition.
        Assert.Equal(Math.Exp(1 / (2 * 1.5 * 1.5)), a[2, 2] / (double)a[2, 3], 1e-5);
        Assert.Equal(a[0, 1], a[1, 0]);
    }

    [Fact]
    public void Gaussian_DefaultSigmaIsOpenCvs()
    {
        // OpenCV: sigma = 0.3*((ksize-1)*0.5 - 1) + 0.8; for ksize 5 that is 1.1, for 11 it is 2.0. OpenCV applies
        // the formula only above size 9 (below, a fixed kernel: OpenCvOracleTests.Gaussian_MatchesGetGaussianKernel).
        Assert.Equal(1.1, KernelLibrary.DefaultSigma(5), 12);
        Assert.Equal(2.0, KernelLibrary.DefaultSigma(11), 12);
        Assert.Equal(KernelLibrary.Get("gaussian:11,2").Data, KernelLibrary.Get("gaussian:11").Data);
        // Size 5 is binomial [1 4 6 4 1]/16 in each direction: the corner is 1/256, the centre 36/256.
        Assert.Equal(1 / 256f, KernelLibrary.Get("gaussian:5")[0, 0]);
        Assert.Equal(36 / 256f, KernelLibrary.Get("gaussian:5")[2, 2]);
    }

    [Theory]
    [InlineData("gaussian:4")]
    [InlineData("identity:2")]
    [InlineData("log:size=8")]
    [InlineData("dog:6")]
    [InlineData("gabor:size=10")]
    [InlineData("motion-blur:4")]
    [InlineData("unsharp:6")]
    public void CentredKernels_EvenSize_Throw(string spec)
    {
        var e = Assert.Throws<ConvGLException>(() => KernelLibrary.Get(spec));
        Assert.Contains("even", e.Message);
    }

    [Fact]
    public void Box_EvenSizeAllowed_AllEqual()
    {
        Tensor b = KernelLibrary.Get("box:4");
        Assert.Equal([4, 4], b.Shape);
        Assert.All(b.Data, v => Assert.Equal(1 / 16f, v));
    }

    [Fact]
    public void ZeroSumAndUnitSumKernels()
    {
        foreach (string s in new[] { "sobel-x", "sobel-y", "scharr-x", "prewitt-y", "laplacian:8", "log", "log:7,1", "dog", "outline", "vertical-edge" })
            Assert.True(Math.Abs(Sum(KernelLibrary.Get(s))) < 1e-6, $"{s} should sum to 0, sums to {Sum(KernelLibrary.Get(s))}");
        foreach (string s in new[] { "identity", "box:5", "gaussian:7,2", "sharpen", "unsharp", "emboss", "motion-blur:9,30" })
            Assert.True(Math.Abs(Sum(KernelLibrary.Get(s)) - 1) < 1e-6, $"{s} should sum to 1, sums to {Sum(KernelLibrary.Get(s))}");
    }

    [Fact]
    public void Log_HasNegativeCentre_Dog_HasPositiveCentre()
    {
        Tensor log = KernelLibrary.Get("log:9,1.4"), dog = KernelLibrary.Get("dog:9,1,1.6");
        Assert.True(log[4, 4] < 0 && log[4, 4] == log.Data.Min());
        Assert.True(dog[4, 4] > 0 && dog[4, 4] == dog.Data.Max());
    }

    [Fact]
    public void MotionBlur_AxisAngles_AreExactLines()
    {
        Tensor h = KernelLibrary.Get("motion-blur:5,0");
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 5; x++) Assert.Equal(y == 2 ? 0.2f : 0f, h[y, x]);
        Tensor v = KernelLibrary.Get("motion-blur:length=5,angle=90");
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 5; x++) Assert.Equal(x == 2 ? 0.2f : 0f, v[y, x], 1e-7f);
        // 45 degrees counter-clockwise on screen runs from bottom-left to top-right: the anti-diagonal.
        Tensor d = KernelLibrary.Get("motion-blur:5,45");
        Assert.True(d[0, 4] > 0 && d[4, 0] > 0 && d[0, 0] == 0 && d[4, 4] == 0);
    }

    [Fact]
    public void Gabor_Theta0_IsEvenCosineAlongX_AndRotates()
    {
        Tensor g = KernelLibrary.Get("gabor:theta=0,sigma=2,lambda=4,gamma=1,psi=0,size=7");
        Assert.Equal([7, 7], g.Shape);
        // At the centre row: exp(-x^2/8) cos(2 pi x / 4).
        for (int x = -3; x <= 3; x++)
            Assert.Equal(Math.Exp(-x * x / 8.0) * Math.Cos(Math.PI * x / 2), g[3, x + 3], 1e-6);
        Tensor r = KernelLibrary.Get("gabor:theta=90,sigma=2,lambda=4,gamma=1,psi=0,size=7");
        for (int y = 0; y < 7; y++)
            for (int x = 0; x < 7; x++) Assert.Equal(g[y, x], r[x, y], 1e-6);
        Assert.Equal([13, 13], KernelLibrary.Get("gabor:sigma=2").Shape);
    }

    [Theory]
    // Automatic size 2*ceil(3*sigma)+1: 1201 for sigma 200 is past the 1025 limit a given size has; for 1e9
    // the int arithmetic used to wrap negative and surface as an ArgumentException from the tensor.
    [InlineData("gabor:sigma=200")]
    [InlineData("gabor:sigma=1e9")]
    public void Gabor_HugeSigma_AutomaticSizeIsBoundedLikeAGivenOne(string spec)
    {
        var e = Assert.Throws<ConvGLException>(() => KernelLibrary.Get(spec));
        Assert.Contains("gabor", e.Message);
        Assert.Contains("1025", e.Message);
    }

    [Fact]
    public void Unsharp_IsTwoIdentityMinusGaussian()
    {
        Tensor u = KernelLibrary.Get("unsharp:5,1,1"), g = KernelLibrary.Get("gaussian:5,1");
        for (int i = 0; i < 25; i++) Assert.Equal((i == 12 ? 2 : 0) - g.Data[i], u.Data[i], 1e-6);
    }

    [Theory]
    [InlineData("sobelx", "did you mean 'sobel-x'? ")]
    [InlineData("Sobel-Y", "did you mean 'sobel-y'? ")]
    [InlineData("gausian", "did you mean 'gaussian'? ")]
    [InlineData("nope", "")]
    [InlineData("something-else-entirely", "")]
    public void UnknownName_SuggestsTheNearestKnownOne(string name, string suggestion)
    {
        Assert.Equal(suggestion, KernelLibrary.DidYouMean(name));
        var e = Assert.Throws<ConvGLException>(() => KernelLibrary.Get(name));
        Assert.StartsWith($"unknown kernel '{name}' ({suggestion}known: ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("edge", "did you mean 'edges'? ")]
    [InlineData("Resnet-18", "did you mean 'resnet18'? ")]
    [InlineData("lerned", "did you mean 'learned'? ")]
    [InlineData("mobilenet", "")]
    public void UnknownStackName_SuggestsTheNearestShippedStackOrModel(string name, string suggestion)
    {
        var e = Assert.Throws<ConvGLException>(() => ConvGL.Core.Stacks.StackCatalog.Resolve(name));
        Assert.StartsWith($"stack '{name}': no such file, and not a shipped stack name ({suggestion}shipped: ", e.Message, StringComparison.Ordinal);
    }

    /// <summary>An image given as a kernel file echoed its bytes: "photo.jpg:1: '\u0010JFIF...' is not a number".</summary>
    [Fact]
    public void ABinaryFileAsAKernel_IsSaidToBeNoTextKernel()
    {
        string file = Path.Combine(Path.GetTempPath(), $"convgl-kernel-{Environment.ProcessId}.jpg");
        try
        {
            File.WriteAllBytes(file, [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0, 1]);
            var e = Assert.Throws<ConvGLException>(() => KernelFile.Load(file));
            Assert.Equal($"kernel file '{file}' is not a text kernel (it holds binary data: an image?); a kernel file is rows of numbers, or a 2D .npy array", e.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("nope", "unknown kernel 'nope'")]
    [InlineData("gaussian:size=5,bogus=1", "no parameter 'bogus'")]
    [InlineData("gaussian:5,1,3", "takes 2 parameter")]
    [InlineData("gaussian:size=5,7", "positional value")]
    [InlineData("gaussian:x", "must be a number")]
    [InlineData("gaussian:5.5", "must be an integer")]
    [InlineData("gaussian:5,sigma=1,sigma=2", "given twice")]
    [InlineData("box:0", "between 1 and")]
    public void Get_BadSpecs_Throw(string spec, string what)
    {
        var e = Assert.Throws<ConvGLException>(() => KernelLibrary.Get(spec));
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void UnknownName_ListsEveryKnownName()
    {
        var e = Assert.Throws<ConvGLException>(() => KernelLibrary.Get("blurr"));
        foreach (string n in KernelLibrary.Names) Assert.Contains(n, e.Message);
    }

    [Fact]
    public void EveryNameBuildsWithDefaults_AndDescribeListsIt()
    {
        string table = KernelLibrary.Describe();
        foreach (KernelDefinition d in KernelLibrary.All)
        {
            Tensor k = KernelLibrary.Get(d.Name);
            Assert.Equal(2, k.Rank);
            Assert.All(k.Data, v => Assert.True(float.IsFinite(v)));
            Assert.Contains(d.Name, table);
        }
        Assert.Contains("\n  gaussian          normalised Gaussian blur", table);
        Assert.Contains("\n      size=5        odd integer, between 1 and 1025: kernel width and height\n", table);
        Assert.Contains("\n      sigma=0       number, between 0.01 and 10000 or 0: standard deviation in pixels", table);
        Assert.Contains("\n      neighbours=4  4 or 8: 4 or 8 neighbours\n", table);
    }

    /// <summary>The help text is made from the definitions that validate: every parameter of every kernel is listed
    /// with its default and domain, and the domain it states is the one enforced (its bounds accepted, one step past
    /// them refused, an even value refused where it says odd, a fraction where it says integer).</summary>
    [Fact]
    public void Describe_StatesEachParametersDomain_AndThatDomainIsTheOneEnforced()
    {
        string table = KernelLibrary.Describe();
        int checkedBounds = 0;
        foreach (KernelDefinition d in KernelLibrary.All)
        {
            Assert.Contains($"\n  {d.Name} ", "\n" + table);
            string Spec(KernelParameter p, double v) => $"{d.Name}:{p.Name}={v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}";
            foreach (KernelParameter p in d.Parameters)
            {
                Assert.Contains($"{p.Name}={p.Default.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}", table);
                Assert.Contains(p.FullDomain + ": " + p.Description, table);
                Assert.Equal(p.Odd, p.FullDomain.StartsWith("odd ", StringComparison.Ordinal));
                // The stated bounds are accepted (an odd parameter's bounds are odd here) unless another parameter's
                // rule refuses them first (gabor's automatic size for a huge sigma), and one step past them is refused.
                double step = p.Integer ? 1 : Math.Max(1e-9, Math.Abs(p.Min) * 1e-6);
                if (p.Min > double.MinValue)
                {
                    double below = p.Min - step == 0 && p.ZeroAllowed ? p.Min - 2 * step : p.Min - step; // 0 is the documented exception
                    Assert.Contains("must be", Assert.Throws<ConvGLException>(() => KernelLibrary.Get(Spec(p, below))).Message);
                    if (p.Values is null || p.Values.Contains(p.Min)) AcceptedOrOtherRule(Spec(p, p.Min), p.Name);
                    checkedBounds++;
                }
                if (p.Max < double.MaxValue)
                {
                    step = p.Integer ? 1 : Math.Max(1e-9, Math.Abs(p.Max) * 1e-6);
                    Assert.Contains("must be", Assert.Throws<ConvGLException>(() => KernelLibrary.Get(Spec(p, p.Max + step))).Message);
                    if (p.Values is null || p.Values.Contains(p.Max)) AcceptedOrOtherRule(Spec(p, p.Max), p.Name);
                    checkedBounds++;
                }
                if (p.Odd) Assert.Contains("is even", Assert.Throws<ConvGLException>(() => KernelLibrary.Get(Spec(p, p.Min + 1))).Message);
                if (p.Integer) Assert.Contains("must be an integer", Assert.Throws<ConvGLException>(() => KernelLibrary.Get(Spec(p, p.Default + 0.5))).Message);
                if (p.ZeroAllowed) AcceptedOrOtherRule(Spec(p, 0), p.Name);
                foreach (double v in p.Values ?? []) Assert.Equal(2, KernelLibrary.Get(Spec(p, v)).Rank);
                if (p.Values is not null)
                    Assert.Contains($"must be {p.FullDomain}", Assert.Throws<ConvGLException>(() => KernelLibrary.Get(Spec(p, p.Values[0] + 1))).Message);
            }
        }
        Assert.True(checkedBounds > 30, $"only {checkedBounds} bounds checked");
    }

    /// <summary>A spec at a stated bound builds, or is refused by a rule about another quantity (never about this
    /// parameter's own domain).</summary>
    private static void AcceptedOrOtherRule(string spec, string parameter)
    {
        try
        {
            Assert.Equal(2, KernelLibrary.Get(spec).Rank);
        }
        catch (ConvGLException e)
        {
            Assert.DoesNotContain($"parameter '{parameter}' must be", e.Message);
        }
    }
}
