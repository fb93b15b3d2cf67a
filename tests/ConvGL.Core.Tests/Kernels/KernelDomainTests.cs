using System.Globalization;
using ConvGL.Core.Kernels;

namespace ConvGL.Core.Tests.Kernels;

/// <summary>Every kernel is finite in float32, or a clear error: the parameter domains, and text files whose numbers
/// are finite doubles but not finite floats.</summary>
public class KernelDomainTests
{
    [Theory]
    // Each of these used to exit 0 with an all-NaN or all-zero output, or took sigma -1 as sigma 0.
    [InlineData("gaussian:sigma=1e-200", "parameter 'sigma' must be between 0.01 and 10000 or 0, got '1e-200'")]
    [InlineData("gaussian:sigma=-1", "parameter 'sigma' must be between 0.01 and 10000 or 0, got '-1'")]
    [InlineData("gabor:5,9e-324", "parameter 'sigma' must be at least 0.01, got '9e-324'")]
    [InlineData("log:5,9e-32", "parameter 'sigma' must be between 0.01 and 10000, got '9e-32'")]
    [InlineData("dog:5,4e-324", "parameter 'sigma1' must be between 0.01 and 10000, got '4e-324'")]
    [InlineData("dog:1,4e-324", "parameter 'size' must be between 3 and 1025, got '1'")]
    [InlineData("unsharp:amount=1e60", "parameter 'amount' must be between -100 and 100, got '1e60'")]
    [InlineData("motion-blur:5,.7e308", "parameter 'angle' must be between -3600 and 3600, got '.7e308'")]
    [InlineData("gabor:lambda=0", "parameter 'lambda' must be between 0.01 and 1000000, got '0'")]
    [InlineData("gabor:gamma=1e200", "parameter 'gamma' must be between -100 and 100, got '1e200'")]
    // Below a double's range: read as 0, which for sigma means "automatic" (the hardening audit's gaussian:5,1e-400).
    [InlineData("gaussian:5,1e-400", "parameter 'sigma' '1e-400' is too small to represent (it would read as 0); must be between 0.01 and 10000 or 0")]
    [InlineData("gabor:sigma=2.5e-999", "parameter 'sigma' '2.5e-999' is too small to represent (it would read as 0); must be at least 0.01")]
    public void OutOfDomainParameters_AreRefusedNamingTheDomain(string spec, string expected)
    {
        var e = Assert.Throws<ConvGLException>(() => KernelLibrary.Get(spec));
        Assert.Equal($"kernel '{spec}': {expected}", e.Message);
    }

    [Fact]
    public void AHugeAutomaticSize_IsSaidIn4Digits_WithItsFix()
    {
        // sigma=1e300 printed 301 digits, twice, in a 700-character error without the fix.
        var e = Assert.Throws<ConvGLException>(() => KernelLibrary.Get("gabor:sigma=1e300"));
        Assert.Equal("kernel 'gabor': size (automatic 2*ceil(3*sigma)+1 for sigma 1e+300) 6e+300 must be between 1 and 1025; give a smaller sigma, or size= explicitly", e.Message);
    }

    /// <summary>Every parameter of every kernel at both ends of its domain (and 0 where allowed), the others at
    /// their defaults: the kernel is finite, or the spec is refused as a whole (an even size, an automatic Gabor
    /// size past 1025) with a ConvGLException.</summary>
    [Fact]
    public void EveryParameterAtItsDomainEdges_GivesAFiniteKernelOrAClearError()
    {
        int built = 0;
        foreach (KernelDefinition d in KernelLibrary.All)
            foreach (KernelParameter p in d.Parameters)
            {
                var values = new List<double> { p.Min, p.Max, p.Default };
                if (p.ZeroAllowed) values.Add(0);
                foreach (double v0 in values)
                {
                    double v = p.Integer ? Math.Floor(v0) : v0;
                    if (p.Name is "size" or "length" && v is > 9 and < 1025) continue; // the edges are what matter, not every big size
                    string spec = $"{d.Name}:{p.Name}={v.ToString("R", CultureInfo.InvariantCulture)}";
                    Tensor k;
                    try
                    {
                        k = KernelLibrary.Get(spec);
                    }
                    catch (ConvGLException e)
                    {
                        Assert.True(ErrorText.IsOneLine(e.Message));
                        continue;
                    }
                    Assert.All(k.Data, x => Assert.True(float.IsFinite(x), $"{spec}: {x}"));
                    Assert.True(k.Data.Any(x => x != 0), $"{spec} is all zeros");
                    built++;
                }
            }
        Assert.True(built > 40, $"only {built} specs built");
    }

    [Fact]
    public void EvenSize_MessageSaysWhatToDo()
    {
        var e = Assert.Throws<ConvGLException>(() => KernelLibrary.Get("gaussian:4"));
        Assert.Equal("kernel 'gaussian': size 4 is even; this kernel is centred on a pixel and needs an odd size, e.g. 5", e.Message);
    }

    [Fact]
    public void Spec_WithControlCharacters_IsEchoedOnOneLine()
    {
        var e = Assert.Throws<ConvGLException>(() => KernelLibrary.Get("gaussian:5,x\n1"));
        Assert.Equal("kernel 'gaussian:5,x\\n1': parameter 'sigma' must be a number, got 'x\\n1'", e.Message);
        e = Assert.Throws<ConvGLException>(() => KernelLibrary.Get("nope\0" + new string('x', 200)));
        Assert.True(ErrorText.IsOneLine(e.Message));
        Assert.Contains("unknown kernel 'nope\\0xxx", e.Message);
        Assert.Contains("...'", e.Message);
    }

    [Theory]
    [InlineData("1 2\n1e303 4\n", "k.txt:2: entry 1 (1E+303) is outside the float32 range (about +-3.4e38)")]
    [InlineData("scale 1e10\n1 2\n3 1e30\n", "k.txt:3: entry 2 (1E+30 x scale 1E+10) is outside the float32 range (about +-3.4e38)")]
    [InlineData("scale\n\r1 2\n", "k.txt:1: scale '' is not a number or a fraction like 1/16")]
    public void TextKernel_OutOfFloat32Range_NamesLineAndEntry(string text, string expected)
    {
        var e = Assert.Throws<ConvGLException>(() => KernelFile.ParseText(text, "k.txt"));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void TextKernel_TooManyRowsOrColumns_AndDevices_AreRefused()
    {
        string wide = string.Join(' ', Enumerable.Repeat("1", Limits.KernelSide + 1));
        Assert.Contains("over the 1025-column kernel limit", Assert.Throws<ConvGLException>(() => KernelFile.ParseText(wide, "w.txt")).Message);
        string tall = string.Join('\n', Enumerable.Repeat("1", Limits.KernelSide + 1));
        Assert.Contains("more than 1025 rows", Assert.Throws<ConvGLException>(() => KernelFile.ParseText(tall, "t.txt")).Message);
        Assert.Contains("not a regular file", Assert.Throws<ConvGLException>(() => KernelFile.Load("/dev/zero")).Message);
    }
}
