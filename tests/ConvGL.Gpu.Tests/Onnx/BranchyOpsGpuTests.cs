using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu.Onnx;
using ConvGL.Gpu.Ops;
using ConvGL.Gpu.Stacks;

namespace ConvGL.Gpu.Tests.Onnx;

/// <summary>The GPU side of Clip, PRelu, Sub, Mul, Div, Concat, Pad, Identity and Dropout: each shader swept against its
/// CPU reference (pad.comp over every border, negative pads and widths around the work-group size; concat.comp on every
/// axis; add.comp's OP variants with broadcasting, rank 5 merged to 4; clip in both activation shaders with NaN and
/// infinities), and the branchy model on the GPU graph runner and the GPU stack runner.</summary>
[Collection(GlCollection.Name)]
public sealed class BranchyOpsGpuTests(GlFixture fixture)
{
    private static void AssertClose(Tensor want, Tensor got, string what, double tolerance = 1e-4)
    {
        Assert.True(want.SameShape(got), $"{what}: CPU {want.ShapeString}, GPU {got.ShapeString}");
        double scale = Math.Max(1e-6, want.Data.Where(float.IsFinite).Select(v => Math.Abs((double)v)).DefaultIfEmpty(0).Max());
        double diff = 0;
        for (int i = 0; i < want.Length; i++)
        {
            if (!float.IsFinite(want.Data[i]))
            {
                Assert.True(want.Data[i].Equals(got.Data[i]), $"{what}: element {i} is {got.Data[i]}, the reference {want.Data[i]}");
                continue;
            }
            diff = Math.Max(diff, Math.Abs((double)want.Data[i] - got.Data[i]));
        }
        Assert.True(diff <= tolerance * scale, $"{what}: max |GPU - CPU| {diff:G3} of max {scale:G3}");
    }

    public static TheoryData<Border> Borders => new(Enum.GetValues<Border>());

    [Theory]
    [MemberData(nameof(Borders))]
    public void Pad_Sweep_MatchesReference(Border border)
    {
        var rng = new Random(40 + (int)border);
        using var pad = new GpuPad(fixture.Context, new PadOptions(0, 0, 0, 0));
        foreach ((int c, int h, int w) in new[] { (1, 1, 1), (2, 5, 7), (3, 17, 8), (1, 1, 9), (2, 3, 33) })
            foreach (int[] p in new[] { new[] { 1, 2, 0, 3 }, [0, 0, 0, 0], [4, 0, 2, 17], [-1, 0, 0, -1], [5, 9, 6, 10], [0, 3, 0, -2], [-2, -1, 3, 4], [-1, -5, 2, 9] })
            {
                var o = new PadOptions(p[0], p[1], p[2], p[3], border, border == Border.Zero ? -2.5f : 0f);
                if (h + p[0] + p[2] < 1 || w + p[1] + p[3] < 1) continue;
                // (Crops before the border extends: a crop of everything leaves only a zero border's fill.)
                (int keptH, int keptW) = Pad2D.Kept(h, w, o);
                if (border != Border.Zero && (keptH < 1 || keptW < 1)) continue;
                Tensor x = Parity.Random(rng, c, h, w);
                x[0, 0, 0] = float.NaN; // copied through as it is (and reflected where the border repeats it)
                pad.Options = o;
                AssertClose(Pad2D.Apply(x, o), pad.Apply(x), $"pad {o} on {c}x{h}x{w}", 0);
            }
    }

    [Fact]
    public void Concat_EveryAxis_MatchesReference()
    {
        var rng = new Random(5);
        using var concat = new GpuConcat(fixture.Context);
        using var output = new GpuTensor(fixture.Context);
        int[] shape = [2, 3, 4, 5];
        for (int axis = 0; axis < 4; axis++)
        {
            var parts = new List<Tensor>();
            foreach (int size in new[] { 1, 3, 2 })
            {
                int[] s = (int[])shape.Clone();
                s[axis] = size;
                parts.Add(Parity.Random(rng, s));
            }
            Tensor want = Concat.Apply(parts, axis);
            var gpu = parts.Select(t => GpuTensor.From(fixture.Context, t.Reshape(1, 1, t.Length))).ToArray();
            try
            {
                concat.Run(gpu, parts.Select(t => t.Shape).ToArray(), axis, output, (1, 1, want.Length));
                Assert.Equal(want.Data, output.Download().Data);
            }
            finally
            {
                foreach (GpuTensor g in gpu) g.Dispose();
            }
        }
    }

    [Theory]
    [InlineData(BinaryKind.Sub)]
    [InlineData(BinaryKind.Mul)]
    [InlineData(BinaryKind.Div)]
    [InlineData(BinaryKind.PRelu)]
    [InlineData(BinaryKind.Max)]
    [InlineData(BinaryKind.Min)]
    [InlineData(BinaryKind.Pow)]
    public void BinaryOps_Broadcasting_MatchReference(BinaryKind kind)
    {
        var rng = new Random(11 + (int)kind);
        using var op = new GpuAdd(fixture.Context, kind);
        (int[] a, int[] b)[] cases =
        [
            ([3, 4, 5], [3, 4, 5]), ([4, 8], [4, 8]), ([7], [7]), ([2, 3, 4, 5], [3, 1, 1]), ([2, 3, 4, 5], [5]), ([2, 3, 4, 5], [1]),
            ([2, 3, 4, 5, 6], [3, 1, 1, 1]), ([2, 3, 4, 5, 6], [1, 3, 4, 1, 1]),
        ];
        foreach ((int[] sa, int[] sb) in cases)
        {
            Tensor a = Parity.Random(rng, sa), b = Parity.Random(rng, sb);
            if (kind == BinaryKind.Div) b = new Tensor(sb, b.Data.Select(v => MathF.Abs(v) + 0.5f).ToArray());
            a.Data[0] = float.NaN;
            if (b.Length > 1) b.Data[1] = float.NaN; // a NaN on the second side too (max / min keep it)
            Tensor want = Elementwise.Apply(kind, a, b);
            AssertClose(want, op.Apply(a, b), $"{kind} ({string.Join(", ", sa)}) with ({string.Join(", ", sb)})", kind switch { BinaryKind.Div => 1e-6, BinaryKind.Pow => 1e-5, _ => 0 });
        }
    }

    [Theory]
    [InlineData("direct")]
    [InlineData("fast")]
    public void Clip_SpecialValues_MatchReference(string shader)
    {
        var rng = new Random(3);
        foreach (int n in new[] { 1, 4, 7, 64, 257 })
            foreach ((float lo, float hi) in new[] { (0f, 6f), (float.NegativeInfinity, 0.25f), (-0.5f, float.PositiveInfinity), (1f, -1f) })
            {
                Tensor x = Parity.Random(rng, 1, 1, n);
                x.Data[0] = float.NaN;
                if (n > 2) (x.Data[1], x.Data[2]) = (float.PositiveInfinity, float.NegativeInfinity);
                using var clip = new GpuActivation(fixture.Context, ActivationKind.Clip) { Min = lo, Max = hi, Choice = shader == "fast" ? ConvPath.Fast : ConvPath.Direct };
                Tensor got = clip.Apply(x);
                Assert.StartsWith(shader == "fast" ? "activation_fast" : "activation:", clip.Variant);
                Assert.Equal(Activation.Apply(x, ActivationKind.Clip, min: lo, max: hi).Data, got.Data);
            }
    }

    /// <summary>The three ConvTranspose paths (conv_transpose.comp; the spread-out input through the fast conv; the parity
    /// split: a conv per output phase + conv_transpose_interleave.comp, the default where it applies) against
    /// ConvTranspose2D.Apply over strides, dilations, asymmetric and negative pads, output padding, groups, even and
    /// non-square kernels, kernels smaller than the stride, with and without bias, sizes around the work group.</summary>
    [Theory]
    [InlineData("direct")]
    [InlineData("spread")]
    [InlineData("parity")]
    public void ConvTranspose_Sweep_MatchesReference(string path)
    {
        var rng = new Random(21);
        int cases = 0, parity = 0, woven = 0, wide = 0, interleaved = 0;
        // (2, 8, 12): outputs of whole multiples of 8 along x at stride 2 (the woven pass's 32-byte stores).
        foreach ((int c, int h, int w) in new[] { (1, 1, 1), (2, 5, 7), (4, 17, 9), (2, 3, 33), (2, 8, 12) })
            foreach ((int kh, int kw) in new[] { (1, 1), (3, 3), (2, 4), (4, 4) })
                foreach ((int s, int d, int[] pads, int op) in new[]
                {
                    (1, 1, new[] { 0, 0, 0, 0 }, 0), (2, 1, [1, 0, 2, 1], 1), (3, 2, [0, 1, 1, 0], 2), (2, 3, [-1, 0, 0, -2], 0),
                    (2, 1, [0, 0, 0, 0], 0), (2, 1, [1, 1, 1, 1], 1), (3, 1, [1, 2, 0, 1], 2), (2, 1, [-1, 0, 0, -2], 0),
                    (3, 1, [0, 0, 0, 0], 0), // stride 3 split by parity (3x3 and 4x4 kernels): each phase written apart
                })
                    foreach (int groups in new[] { 1, 2 })
                    {
                        if (c % groups != 0) continue;
                        var o = new ConvTransposeOptions
                        {
                            StrideY = s, StrideX = s, DilationY = d, DilationX = d, PadTop = pads[0], PadLeft = pads[1], PadBottom = pads[2], PadRight = pads[3],
                            OutputPadY = op, OutputPadX = op, Groups = groups,
                        };
                        (int oh, int ow) = (0, 0);
                        try
                        {
                            (oh, ow) = ConvTranspose2D.OutputSize(h, w, kh, kw, o);
                        }
                        catch (ConvGLException)
                        {
                            continue; // pads larger than the output
                        }
                        Tensor x = Parity.Random(rng, c, h, w), weight = Parity.Random(rng, c, 3, kh, kw);
                        float[]? bias = cases % 2 == 0 ? Parity.RandomVector(rng, 1f, 3 * groups) : null;
                        Tensor want = ConvTranspose2D.Apply(x, weight, bias, o);
                        using var gpu = new GpuConvTranspose2D(fixture.Context, weight, bias, o)
                        {
                            Choice = path switch { "direct" => ConvPath.Direct, "spread" => ConvPath.Fast, _ => ConvPath.Auto },
                        };
                        AssertClose(want, gpu.Apply(x), $"({c}, {h}, {w}) k {kh}x{kw} {o}", 1e-5);
                        if (path == "parity" && gpu.Variant.StartsWith("conv_transpose parity split: ", StringComparison.Ordinal))
                        {
                            parity++;
                            // Strides up to 2 weave every phase into the output in one pass; stride 3 writes each phase apart.
                            Assert.EndsWith(s <= 2 ? (ow % 8 == 0 ? "woven, 8 outputs/invocation, 32-byte stores" : "woven, 8 outputs/invocation") : "interleaved", gpu.Variant);
                            if (s <= 2) woven++;
                            else interleaved++;
                            if (gpu.Variant.EndsWith("32-byte stores", StringComparison.Ordinal)) wide++;
                        }
                        else Assert.StartsWith(path == "direct" ? "conv_transpose:" : "conv_transpose spread + ", gpu.Variant);
                        Assert.Equal([3 * groups, oh, ow], want.Shape);
                        cases++;
                    }
        Assert.True(cases >= 160, $"{cases} cases"); // the rest leave an empty output
        // Dilation 1 with a stride above 1 splits by parity unless a phase has no tap (a kernel smaller than the stride)
        // or skips input rows (a negative pad): most of those cases.
        if (path == "parity") Assert.True(parity >= 60 && woven >= 40 && wide >= 4 && interleaved >= 10, $"{parity} parity cases: {woven} woven ({wide} with 32-byte stores), {interleaved} interleaved");
    }

    /// <summary>The sweep above runs small inputs, whose inner convs all take conv2d.comp. At decoder sizes the parity
    /// split's phase convs (explicit asymmetric pads worked out per phase, 1- and 2-tap kernels) and the spread path's conv
    /// take the fast programs (dense, depthwise, pointwise, literal): those against the reference too, asserting no inner
    /// conv fell back to conv2d.comp.</summary>
    [Theory]
    [InlineData("spread")]
    [InlineData("parity")]
    public void ConvTranspose_AtDecoderSizes_InnerConvsRunTheFastPrograms(string path)
    {
        var rng = new Random(2026_12_05);
        int cases = 0;
        foreach ((int c, int h, int w, int k, int s, int[] pads, int groups) in new[]
        {
            (8, 32, 32, 4, 2, new[] { 1, 1, 1, 1 }, 1), (16, 24, 40, 3, 2, [1, 0, 0, 1], 1), (16, 24, 40, 3, 2, [1, 1, 1, 1], 2),
            (4, 20, 33, 5, 3, [2, 1, 0, 2], 1), (6, 17, 31, 2, 2, [0, 0, 0, 0], 2), (8, 32, 32, 4, 2, [0, 1, 2, 0], 1),
        })
        {
            var o = new ConvTransposeOptions { StrideY = s, StrideX = s, PadTop = pads[0], PadLeft = pads[1], PadBottom = pads[2], PadRight = pads[3], Groups = groups };
            Tensor x = Parity.Random(rng, c, h, w), weight = Parity.Random(rng, 0.3f, c, 8 / groups, k, k);
            float[]? bias = cases % 2 == 0 ? Parity.RandomVector(rng, 1f, 8) : null;
            Tensor want = ConvTranspose2D.Apply(x, weight, bias, o);
            using var gpu = new GpuConvTranspose2D(fixture.Context, weight, bias, o) { Choice = path == "spread" ? ConvPath.Fast : ConvPath.Auto };
            string what = $"({c}, {h}, {w}) k {k}x{k} {o}";
            AssertClose(want, gpu.Apply(x), what, 1e-4);
            Assert.StartsWith(path == "spread" ? "conv_transpose spread + " : "conv_transpose parity split: ", gpu.Variant);
            Assert.DoesNotContain("conv2d:", gpu.Variant, StringComparison.Ordinal);
            cases++;
        }
    }

    /// <summary>resize.comp against Resize2D.Apply: every mode, coordinate mapping and rounding, up and down, by scales
    /// and by sizes, non-square. A scale of 0.6 puts half_pixel's output 1 at 1.99999990 (0.6f is a little above 0.6):
    /// floor's boundary, where float coordinates would disagree with the reference's double ones.</summary>
    [Fact]
    public void Resize_Sweep_MatchesReference()
    {
        var rng = new Random(33);
        Tensor x = Parity.Random(rng, 2, 7, 10);
        using var resize = new GpuResize(fixture.Context, new ResizeOptions());
        int cases = 0;
        foreach (ResizeMode mode in Enum.GetValues<ResizeMode>())
            foreach (ResizeCoordinates c in Enum.GetValues<ResizeCoordinates>())
                foreach (ResizeRounding r in mode == ResizeMode.Nearest ? Enum.GetValues<ResizeRounding>() : [ResizeRounding.RoundPreferFloor])
                    foreach (ResizeOptions size in new[]
                    {
                        new ResizeOptions { ScaleY = 2, ScaleX = 3 }, new ResizeOptions { ScaleY = 0.5f, ScaleX = 0.6f },
                        new ResizeOptions { SizeY = 13, SizeX = 4 }, new ResizeOptions { SizeY = 1, SizeX = 33 },
                    })
                    {
                        ResizeOptions o = size with { Mode = mode, Coordinates = c, Rounding = r };
                        if (mode == ResizeMode.Cubic) o = o with { CubicA = cases % 3 == 0 ? -0.5f : -0.75f, ExcludeOutside = cases % 2 == 1 };
                        resize.Options = o;
                        Tensor wantR = Resize2D.Apply(x, o), gotR = resize.Apply(x);
                        AssertClose(wantR, gotR, $"{o} {o.Rounding}", mode == ResizeMode.Nearest ? 0 : 1e-5);
                        cases++;
                    }
        Assert.Equal((4 + 1 + 1) * 5 * 4, cases); // nearest's four roundings, linear, cubic; five mappings; four sizes
    }

    /// <summary>From a review: cubic resizes of maps holding an infinity or a NaN, where a coordinate is whole along one
    /// axis (a one-row map's half-pixel rows, asymmetric 2x columns): the reference reads that pixel alone, the GPU
    /// multiplied its other taps by weight 0 as well (0 * inf = NaN where the reference has +-inf). Every mapping,
    /// exclude_outside both ways, against Resize2D.Apply, infinities and NaN exactly.</summary>
    [Fact]
    public void Resize_CubicWithInfinities_WholeCoordinates_MatchReference()
    {
        using var resize = new GpuResize(fixture.Context, new ResizeOptions());
        var maps = new[]
        {
            new Tensor([1, 1, 6], [1f, 2f, float.PositiveInfinity, 3f, 4f, 5f]),
            new Tensor([1, 3, 5], [1f, 2f, 3f, 4f, 5f, 6f, float.NegativeInfinity, 8f, 9f, 10f, 11f, 12f, float.NaN, 14f, 15f]),
        };
        int infinite = 0;
        foreach (Tensor x in maps)
            foreach (ResizeCoordinates c in Enum.GetValues<ResizeCoordinates>())
                foreach (bool exclude in new[] { false, true })
                    foreach (ResizeOptions size in new[] { new ResizeOptions { SizeY = 1, SizeX = 11 }, new ResizeOptions { ScaleY = 2, ScaleX = 2 }, new ResizeOptions { SizeY = 4, SizeX = 5 } })
                    {
                        ResizeOptions o = size with { Mode = ResizeMode.Cubic, Coordinates = c, ExcludeOutside = exclude };
                        resize.Options = o;
                        Tensor want = Resize2D.Apply(x, o);
                        AssertClose(want, resize.Apply(x), $"{o} on ({string.Join(", ", x.Shape)})", 1e-5);
                        infinite += want.Data.Count(float.IsInfinity);
                    }
        Assert.True(infinite > 50, $"{infinite} infinite outputs");
    }

    /// <summary>resize.comp's exact-2x linear path (UP2: half-pixel or pytorch_half_pixel, 2x on both axes, input rows of
    /// whole vec4s; 8 outputs per invocation from rgba32f texels) against Resize2D.Apply: widths 4 to 36 (one to nine
    /// texels a row: both row ends clamped in the same texel, and apart), heights 1 to 6, by scales and by sizes, 32-byte
    /// stores on and off; and the cases beside it that must keep the general program (a row not of whole vec4s, 2x3,
    /// align_corners, asymmetric, nearest).</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Resize_Exact2xLinear_MatchesReference(bool wide)
    {
        var rng = new Random(34);
        using var resize = new GpuResize(fixture.Context, new ResizeOptions());
        FastConvTests.WithWideStores(fixture.Context, wide, () =>
        {
            foreach (int w in new[] { 4, 8, 12, 36 })
                foreach (int h in new[] { 1, 2, 3, 6 })
                    foreach (ResizeCoordinates c in new[] { ResizeCoordinates.HalfPixel, ResizeCoordinates.PytorchHalfPixel })
                    {
                        Tensor x = Parity.Random(rng, 3, h, w);
                        ResizeOptions o = (w + h) % 2 == 0
                            ? new ResizeOptions { Mode = ResizeMode.Linear, Coordinates = c, ScaleY = 2, ScaleX = 2 }
                            : new ResizeOptions { Mode = ResizeMode.Linear, Coordinates = c, SizeY = 2 * h, SizeX = 2 * w };
                        resize.Options = o;
                        Tensor want = Resize2D.Apply(x, o), got = resize.Apply(x);
                        Assert.True(resize.LastUp2, $"{o} on {h}x{w}");
                        AssertClose(want, got, $"{o} on {h}x{w}", 1e-6);
                    }
        });
        Tensor y = Parity.Random(rng, 2, 5, 10);
        foreach (ResizeOptions o in new[]
        {
            new ResizeOptions { Mode = ResizeMode.Linear, ScaleY = 2, ScaleX = 2 },                       // rows of 10
            new ResizeOptions { Mode = ResizeMode.Linear, ScaleY = 2, ScaleX = 3 },
            new ResizeOptions { Mode = ResizeMode.Linear, ScaleY = 2, ScaleX = 2, Coordinates = ResizeCoordinates.AlignCorners },
            new ResizeOptions { Mode = ResizeMode.Linear, ScaleY = 2, ScaleX = 2, Coordinates = ResizeCoordinates.Asymmetric },
            new ResizeOptions { Mode = ResizeMode.Nearest, ScaleY = 2, ScaleX = 2 },
        })
        {
            Tensor x = o.ScaleX == 3 || o.Coordinates != ResizeCoordinates.HalfPixel || o.Mode == ResizeMode.Nearest ? Parity.Random(rng, 2, 5, 8) : y;
            resize.Options = o;
            Tensor want = Resize2D.Apply(x, o), got = resize.Apply(x);
            Assert.False(resize.LastUp2, o.ToString());
            AssertClose(want, got, o.ToString(), o.Mode == ResizeMode.Nearest ? 0 : 1e-5);
        }
    }

    /// <summary>instance_norm.comp against InstanceNorm.Apply: planes smaller and larger than the 64-invocation work group
    /// (chunked planes of a multiple of 4 values read 4 per fetch: 8192 and 9200, whose last chunk is partial),
    /// a map far from zero (the two-pass variance), epsilons, and a batch of two images of C planes.</summary>
    [Theory]
    [InlineData("direct")]
    [InlineData("chunked")]
    public void InstanceNorm_Sweep_MatchesReference(string path)
    {
        var rng = new Random(44);
        foreach ((int c, int h, int w) in new[] { (1, 1, 1), (3, 4, 5), (2, 9, 17), (4, 33, 31), (2, 64, 128), (1, 65, 71), (2, 90, 161), (3, 100, 92) })
            foreach (float epsilon in new[] { 1e-5f, 1e-2f })
                foreach (float offset in new[] { 0f, 1000f })
                {
                    float[] scale = Parity.RandomVector(rng, 2f, c), shift = Parity.RandomVector(rng, 1f, c);
                    var norm = new InstanceNorm(scale, shift, epsilon);
                    using var gpu = new GpuInstanceNorm(fixture.Context, norm) { Choice = path == "direct" ? ConvPath.Direct : ConvPath.Fast };
                    Tensor x = Parity.Random(rng, 2 * c, h, w);
                    for (int i = 0; i < x.Length; i++) x.Data[i] += offset;
                    using var gin = GpuTensor.From(fixture.Context, x);
                    using var gout = new GpuTensor(fixture.Context);
                    gpu.Run(gin, gout, h * w);
                    AssertClose(norm.Apply(x, h * w), gout.Download(), $"({2 * c}, {h}, {w}) epsilon {epsilon} offset {offset}", offset == 0 ? 1e-5 : 1e-3);
                    Assert.Equal(path == "chunked" && h * w >= PlaneStats.LaneChunk ? "plane_stats + channel_affine_fast" : "instance_norm: a workgroup per plane", gpu.Variant);
                }
    }

    /// <summary>Statistics of huge and tiny maps (squares past float's range, and below its normal range): the instance
    /// norm on both paths (a workgroup per plane; chunked statistics for planes past 4096 values) and the layer norm over
    /// rows, against the reference's doubles. The shaders sum squared deviations in units of a power of 2 above the
    /// largest value (before, a map of 1e25 came out as the shift alone).</summary>
    [Theory]
    [InlineData("direct")]
    [InlineData("chunked")]
    public void Norms_OfHugeAndTinyMaps_MatchReference(string path)
    {
        var rng = new Random(47);
        foreach (float magnitude in new[] { 1e25f, 1e33f, 1e-22f })
            foreach ((int c, int h, int w) in new[] { (2, 9, 17), (1, 100, 92), (2, 64, 65) })
            {
                var norm = new InstanceNorm(Parity.RandomVector(rng, 2f, c), Parity.RandomVector(rng, 1f, c), 1e-5f);
                using var gpu = new GpuInstanceNorm(fixture.Context, norm) { Choice = path == "direct" ? ConvPath.Direct : ConvPath.Fast };
                Tensor x = Parity.Random(rng, c, h, w);
                for (int i = 0; i < x.Length; i++) x.Data[i] = x.Data[i] * magnitude + (i % 7 == 0 ? magnitude : 0f);
                using var gin = GpuTensor.From(fixture.Context, x);
                using var gout = new GpuTensor(fixture.Context);
                gpu.Run(gin, gout, h * w);
                AssertClose(norm.Apply(x, h * w), gout.Download(), $"instance norm ({c}, {h}, {w}) of {magnitude:G2}, {gpu.Variant}", 1e-4);
                var layer = new LayerNorm(Parity.RandomVector(rng, 2f, w), Parity.RandomVector(rng, 1f, w), 1e-5f);
                using var gpuLayer = new GpuLayerNorm(fixture.Context, layer);
                AssertClose(layer.Apply(x), gpuLayer.Apply(x), $"layer norm over rows of {w}, ({c}, {h}, {w}) of {magnitude:G2}", 1e-4);
            }
    }

    /// <summary>GpuGroupNorm (instance norm over each group's run of planes, then the channels' affine) against
    /// InstanceNorm.ApplyInGroups: 1 group, groups = C, groups of 2-8 channels, planes below and above the chunked statistics'
    /// threshold (a group of 4 planes of 45x80), a map far from zero.</summary>
    [Fact]
    public void GroupNorm_Sweep_MatchesReference()
    {
        var rng = new Random(46);
        foreach ((int c, int groups, int h, int w) in new[] { (1, 1, 1, 1), (4, 1, 3, 5), (4, 4, 3, 5), (6, 3, 9, 17), (16, 4, 45, 80), (32, 8, 12, 16), (8, 2, 1, 1) })
            foreach (float offset in new[] { 0f, 1000f })
            {
                float[] scale = Parity.RandomVector(rng, 2f, c), shift = Parity.RandomVector(rng, 1f, c);
                var norm = new InstanceNorm(scale, shift, 1e-5f);
                Tensor x = Parity.Random(rng, c, h, w);
                for (int i = 0; i < x.Length; i++) x.Data[i] += offset;
                foreach (ConvPath path in new[] { ConvPath.Fast, ConvPath.Direct })
                {
                    using var gpu = new GpuGroupNorm(fixture.Context, norm, groups) { Choice = path };
                    AssertClose(norm.ApplyInGroups(x, groups), gpu.Apply(x), $"({c}, {h}, {w}) in {groups} groups, offset {offset}, {path}", offset == 0 ? 1e-5 : 1e-3);
                    // Runs of 256 values or more take the composed path unless forced to the two normalisation passes.
                    bool composed = path == ConvPath.Fast && c / groups * h * w >= PlaneStats.LaneChunk;
                    Assert.Equal(composed, gpu.Variant.Contains("composed", StringComparison.Ordinal));
                }
            }
        Assert.Throws<ConvGLException>(() => new GpuGroupNorm(fixture.Context, new InstanceNorm([1f, 1f, 1f], [0f, 0f, 0f], 0f), 2));
    }

    /// <summary>depth_to_space.comp against DepthToSpace: both modes and space to depth, blocks 1-3, a batch of two images
    /// (ONNX's (N C, H, W) storage), NaN copied through.</summary>
    [Fact]
    public void DepthToSpace_Sweep_MatchesReference()
    {
        var rng = new Random(55);
        foreach (int block in new[] { 1, 2, 3 })
            foreach ((int c, int h, int w) in new[] { (block * block, 1, 1), (2 * block * block, 5, 7), (3 * block * block, 6, 9) })
            {
                Tensor x = Parity.Random(rng, 2 * c, h * block, w * block);
                x.Data[1] = float.NaN;
                foreach ((bool toSpace, DepthToSpaceMode mode) in new[] { (true, DepthToSpaceMode.Dcr), (true, DepthToSpaceMode.Crd), (false, DepthToSpaceMode.Dcr) })
                {
                    using var op = new GpuDepthToSpace(fixture.Context, block, toSpace, mode);
                    using var gin = GpuTensor.From(fixture.Context, x);
                    using var gout = new GpuTensor(fixture.Context);
                    op.Run(gin, gout, 2, c);
                    Tensor want = Tensor.Concat(Enumerable.Range(0, 2).Select(n =>
                    {
                        Tensor image = Tensor.Chw(c, h * block, w * block, x.Data.AsSpan(n * c * h * w * block * block, c * h * w * block * block).ToArray());
                        return toSpace ? DepthToSpace.ToSpace(image, block, mode) : DepthToSpace.ToDepth(image, block);
                    }).ToArray());
                    Assert.Equal(want.Data, gout.Download().Data);
                }
            }
    }

    /// <summary>reduce.comp against Reduce.Apply: every kind over adjacent axes of rank-2 to rank-4 shapes (inner and outer
    /// both present, size-1 axes between), a NaN reaching only its own line of a max or min; non-adjacent axes refused.</summary>
    [Theory]
    [InlineData(ReduceKind.Mean)]
    [InlineData(ReduceKind.Sum)]
    [InlineData(ReduceKind.Max)]
    [InlineData(ReduceKind.Min)]
    [InlineData(ReduceKind.L1)]
    [InlineData(ReduceKind.L2)]
    [InlineData(ReduceKind.SumSquare)]
    [InlineData(ReduceKind.LogSum)]
    [InlineData(ReduceKind.LogSumExp)]
    [InlineData(ReduceKind.Prod)]
    public void Reduce_Sweep_MatchesReference(ReduceKind kind)
    {
        var rng = new Random(60 + (int)kind);
        using var reduce = new GpuReduce(fixture.Context, kind);
        using var output = new GpuTensor(fixture.Context);
        foreach ((int[] shape, int[] axes) in new (int[], int[])[]
        {
            ([5, 7], [1]), ([5, 7], [0]), ([2, 3, 4, 5], [2, 3]), ([2, 3, 4, 5], [1]), ([2, 3, 4, 5], [0, 1, 2, 3]), ([3, 1, 4, 6], [1, 2]), ([2, 65, 3], [1]),
        })
        {
            Tensor x = Parity.Random(rng, shape);
            // LogSum's sums stay positive (a sum near 0 would be NaN on one side and not the other); LogSumExp sees
            // values whose exp overflows.
            if (kind == ReduceKind.LogSum) for (int i = 0; i < x.Length; i++) x.Data[i] = Math.Abs(x.Data[i]) + 0.01f;
            if (kind == ReduceKind.LogSumExp) for (int i = 0; i < x.Length; i++) x.Data[i] *= 200f;
            x.Data[0] = float.NaN;
            using var input = GpuTensor.From(fixture.Context, x.Reshape(1, 1, x.Length));
            (int outer, int count, int inner) = GpuReduce.Blocks(shape, axes)!.Value;
            Tensor want = Reduce.Apply(x, kind, axes, keepDims: true);
            reduce.Run(input, output, outer, count, inner, (1, 1, want.Length));
            AssertClose(want, output.Download().Reshape(want.Shape), $"{kind} over [{string.Join(", ", axes)}] of ({string.Join(", ", shape)})", 1e-5);
        }
        Assert.Null(GpuReduce.Blocks([2, 3, 4], [0, 2]));
    }

    /// <summary>Rows of special values (infinities of both signs, NaN, zeros of both signs, values whose squares or exp
    /// overflow float32 while the result does not, ties, NaN among ties) reduced along each row by every kind, ArgMax and
    /// ArgMin with and without select_last_index: NaN where the reference has NaN, equal infinities, equal indices, and
    /// values within 1e-5 of the reference's own size.</summary>
    [Fact]
    public void Reduce_SpecialValues_EveryKind_MatchReference()
    {
        const float Inf = float.PositiveInfinity, NaN = float.NaN;
        float[][] rows =
        [
            [1000, 1000, 999, -5], [-Inf, -Inf, -Inf, -Inf], [Inf, 1, 2, 3], [-Inf, 0, 1, 2], [NaN, Inf, 0, 1], [3e20f, 4e20f, 1, 1],
            [0, 0, 0, 0], [-0f, -0f, -0f, -0f], [-1, -2, 0, 0], [2, 7, 7, 1], [NaN, 1, NaN, 5], [-88, -89, -90, -200], [3, -4, 0.5f, 0.25f],
        ];
        var x = new Tensor([rows.Length, 4], rows.SelectMany(r => r).ToArray());
        using var input = GpuTensor.From(fixture.Context, x.Reshape(1, 1, x.Length));
        using var output = new GpuTensor(fixture.Context);
        foreach (ReduceKind kind in Enum.GetValues<ReduceKind>())
            foreach (bool last in kind is ReduceKind.ArgMax or ReduceKind.ArgMin ? new[] { false, true } : [false])
            {
                Tensor want = kind is ReduceKind.ArgMax or ReduceKind.ArgMin
                    ? Reduce.Arg(x, kind == ReduceKind.ArgMax, 1, keepDims: false, selectLast: last)
                    : Reduce.Apply(x, kind, [1], keepDims: false);
                using var reduce = new GpuReduce(fixture.Context, kind, last);
                reduce.Run(input, output, rows.Length, 4, 1, (1, 1, rows.Length));
                float[] got = output.Download().Data;
                for (int r = 0; r < rows.Length; r++)
                {
                    float w = want.Data[r], g = got[r];
                    string what = $"{kind}{(last ? " (last)" : "")} of [{string.Join(", ", rows[r])}]: GPU {g}, reference {w}";
                    if (!float.IsFinite(w)) Assert.True(w.Equals(g), what);
                    else Assert.True(Math.Abs(w - g) <= 1e-5 * Math.Max(1, Math.Abs(w)), what);
                }
            }
    }

    /// <summary>The reductions model (every new kind, INT64 ArgMax / ArgMin outputs) on the GPU graph runner: every value
    /// equals the CPU reference's, indices exactly; as a stack it is refused with one error naming the first reduction.</summary>
    [Fact]
    public void ReduceModel_GpuGraphRunner_MatchesCpu_OnEveryValue()
    {
        OnnxGraph graph = ReduceGraphs.Graph();
        var inputs = new Dictionary<string, Tensor> { ["x"] = ReduceGraphs.Input(22) };
        Dictionary<string, Tensor> cpu = graph.Run(inputs);
        using var runner = new GpuOnnxRunner(fixture.Context, graph);
        Dictionary<string, Tensor> gpu = runner.Run(inputs, downloadAll: true);
        foreach (OnnxOp op in graph.Ops)
            if (op is ArgReduceOp) Assert.Equal(cpu[op.Output].Data, gpu[op.Output].Data);
            else AssertClose(cpu[op.Output], gpu[op.Output], $"value '{op.Output}' ({op.Node.OpType})");
        var e = Assert.Throws<ConvGLException>(() => OnnxStack.FromGraph(graph, "reductions"));
        Assert.Contains("(ReduceL1): in a stack a reduction runs as a global pool", e.Message);
    }

    /// <summary>ArgMax / ArgMin on the GPU against Reduce.Arg along every axis of rank-1 to rank-4 shapes, keepdims both
    /// ways, select_last_index both ways, on values in steps of 0.5 (many ties) with a few NaN: equal indices.</summary>
    [Fact]
    public void ArgMaxArgMin_Sweep_MatchesReference()
    {
        var rng = new Random(71);
        using var output = new GpuTensor(fixture.Context);
        foreach (int[] shape in new[] { new[] { 9 }, [5, 7], [2, 3, 4, 5], [3, 1, 70], [1, 2, 1, 3] })
        {
            Tensor x = Parity.Random(rng, shape);
            for (int i = 0; i < x.Length; i++) x.Data[i] = MathF.Round(x.Data[i] * 4) / 2;
            x.Data[x.Length / 2] = float.NaN;
            x.Data[^1] = float.NaN;
            using var input = GpuTensor.From(fixture.Context, x.Reshape(1, 1, x.Length));
            foreach (ReduceKind kind in new[] { ReduceKind.ArgMax, ReduceKind.ArgMin })
                foreach (bool last in new[] { false, true })
                {
                    using var reduce = new GpuReduce(fixture.Context, kind, last);
                    for (int axis = 0; axis < shape.Length; axis++)
                    {
                        Tensor want = Reduce.Arg(x, kind == ReduceKind.ArgMax, axis, keepDims: axis % 2 == 0, selectLast: last);
                        (int outer, int count, int inner) = GpuReduce.Blocks(shape, [axis])!.Value;
                        reduce.Run(input, output, outer, count, inner, (1, 1, want.Length));
                        Assert.True(want.Data.SequenceEqual(output.Download().Data), $"{kind} last {last} axis {axis} of ({string.Join(", ", shape)})");
                    }
                }
        }
    }

    /// <summary>unary.comp against Unary.Apply for every op on the IEEE edges (0, -0, negatives, infinities, NaN) and a
    /// random sweep: NaN where the reference has NaN, equal infinities, and the values within 1e-6 (exp and log are
    /// polynomial approximations on llvmpipe).</summary>
    /// <summary>pow's edges, which GLSL leaves undefined: negative bases with whole and fractional exponents, zero bases,
    /// x^0 and 1^y with NaN on the other side, infinities.</summary>
    [Fact]
    public void Pow_Edges_MatchReference()
    {
        using var pow = new GpuAdd(fixture.Context, BinaryKind.Pow);
        float[] bases = [-2f, -2f, -2f, 0f, 0f, float.NaN, 1f, 2f, -0.5f, float.PositiveInfinity, 3f];
        float[] powers = [3f, 2f, 0.5f, 2f, -1f, 0f, float.NaN, -2f, -3f, 0.5f, float.NegativeInfinity];
        Tensor a = new([bases.Length], bases), b = new([powers.Length], powers);
        Tensor want = Elementwise.Apply(BinaryKind.Pow, a, b);
        Assert.Equal([-8f, 4f, float.NaN, 0f, float.PositiveInfinity, 1f, 1f, 0.25f, -8f, float.PositiveInfinity, 0f], want.Data);
        AssertClose(want, pow.Apply(a, b), "pow edges", 1e-6);
    }

    /// <summary>From a review: C's pow on every pair of IEEE edges, bit for bit where the reference is 0 or infinite (a
    /// -0 base, a -inf base with a fractional exponent, -1 to an infinite power; the GPU gave +0 for (-0)^7, +inf for
    /// (-0)^-1 and NaN for (-inf)^0.5), elsewhere within 2e-5 (GLSL's pow is exp2(y log2 x): 1e30^1 is 1.0000011e30 here).</summary>
    [Fact]
    public void Pow_EveryPairOfEdges_MatchesTheReference_SignedZerosToo()
    {
        float[] edges = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1f, -1f, 0.5f, -0.5f, 2f, -2f, 3.7f, -3.7f,
            1e30f, -1e30f, 3f, -3f, 7f, -7f, 2.5f, -2.5f, 3e7f, -3e7f, 16777215f, -16777215f];
        int n = edges.Length;
        float[] bases = [.. Enumerable.Range(0, n * n).Select(i => edges[i / n])], powers = [.. Enumerable.Range(0, n * n).Select(i => edges[i % n])];
        Tensor a = new([bases.Length], bases), b = new([powers.Length], powers);
        Tensor want = Elementwise.Apply(BinaryKind.Pow, a, b);
        using var pow = new GpuAdd(fixture.Context, BinaryKind.Pow);
        Tensor got = pow.Apply(a, b);
        for (int i = 0; i < want.Length; i++)
        {
            float w = want.Data[i], g = got.Data[i];
            string what = $"pow({bases[i]:R}, {powers[i]:R})";
            if (float.IsNaN(w)) Assert.True(float.IsNaN(g), $"{what}: {g:R}, the reference NaN");
            else if (w == 0f || float.IsInfinity(w)) Assert.True(BitConverter.SingleToInt32Bits(w) == BitConverter.SingleToInt32Bits(g), $"{what}: {g:R}, the reference {w:R}");
            else Assert.True(Math.Abs((double)w - g) <= 2e-5 * Math.Abs((double)w), $"{what}: {g:R}, the reference {w:R}");
        }
        // (-0)^7 is -0 in the reference (edges 4 and 17).
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(want.Data[4 * n + 17]));
    }

    [Theory]
    [InlineData(UnaryKind.Neg)]
    [InlineData(UnaryKind.Exp)]
    [InlineData(UnaryKind.Log)]
    [InlineData(UnaryKind.Sqrt)]
    [InlineData(UnaryKind.Reciprocal)]
    [InlineData(UnaryKind.Floor)]
    [InlineData(UnaryKind.Ceil)]
    [InlineData(UnaryKind.Sign)]
    [InlineData(UnaryKind.Erf)]
    public void Unary_EdgesAndSweep_MatchReference(UnaryKind kind)
    {
        using var op = new GpuUnary(fixture.Context, kind);
        float[] edges = [0f, -0f, 1f, -1f, 2.5f, -2.5f, 1e-30f, 80f, -80f, float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        float[] all = [.. edges, .. Parity.Random(new Random((int)kind), 4f, 257).Data];
        // 269 values (one per invocation), 268 and 12 (4 per invocation: the edges in every lane of a vec4), 3.
        foreach (int n in new[] { 269, 268, 12, 3 })
        {
            Tensor x = Tensor.Chw(1, 1, n, all[..n]);
            Tensor want = Unary.Apply(x, kind), got = op.Apply(x);
            AssertClose(want, got, $"{kind.Name()} of {n} values", 1e-6);
            Assert.Equal(n % 4 == 0 ? "unary: 4 values/invocation" : "unary: 1 value/invocation", op.Variant);
            // In place: the same tensor read and written.
            using var t = new GpuTensor(fixture.Context, label: "unary in place");
            t.Upload(x);
            op.Run(t, t);
            AssertClose(want, t.Download(), $"{kind.Name()} of {n} values, in place", 1e-6);
        }
    }

    /// <summary>lrn.comp against Lrn.Apply: odd and even sizes (1 to 6, wider than some channel counts), channel counts
    /// 1 to 17, odd widths 1 to 33 (one output per invocation, numbered flat), a batch of two images
    /// (ONNX's (N C, H, W) storage: the window must not cross into the other image), NaN and infinities reaching their
    /// window only.</summary>
    [Fact]
    public void Lrn_Sweep_MatchesReference()
    {
        var rng = new Random(66);
        (float Alpha, float Beta, float Bias)[] parameters = [(1e-4f, 0.75f, 1f), (0.5f, 0.75f, 2f), (2f, 0.5f, 0.5f)];
        int cases = 0;
        foreach (int size in new[] { 1, 2, 3, 5, 6 })
            foreach (int c in new[] { 1, 3, 7, 17 })
                foreach ((int h, int w) in new[] { (1, 1), (3, 7), (2, 9), (5, 33) })
                {
                    (float alpha, float beta, float bias) = parameters[cases % parameters.Length];
                    var lrn = new Lrn(size, alpha, beta, bias);
                    using var gpu = new GpuLrn(fixture.Context, lrn);
                    Tensor x = Parity.Random(rng, 2f, 2 * c, h, w);
                    if (h * w > 1)
                    {
                        x.Data[1] = float.NaN;
                        x.Data[x.Length - 2] = float.PositiveInfinity;
                        x.Data[x.Length / 2] = float.NegativeInfinity;
                    }
                    using var gin = GpuTensor.From(fixture.Context, x);
                    using var gout = new GpuTensor(fixture.Context);
                    gpu.Run(gin, gout, c);
                    AssertClose(lrn.Apply(x, c, h * w), gout.Download(), $"size {size} alpha {alpha} beta {beta} bias {bias} on 2 x ({c}, {h}, {w})", 1e-5);
                    cases++;
                }
        Assert.Equal(80, cases);
    }

    /// <summary>The power's edges, which GLSL's pow leaves undefined (include/powc.glsl): a base of 0 (bias 0), negative bases
    /// (a negative bias) with whole and fractional betas, beta 0, a negative beta; one channel, size 1, alpha 1, so the
    /// base is bias + x^2.</summary>
    [Fact]
    public void Lrn_PowerEdges_MatchReference()
    {
        Tensor x = Tensor.Chw(1, 1, 8, [0f, 0.5f, -0.5f, 2f, 1e-3f, float.NaN, float.PositiveInfinity, float.NegativeInfinity]);
        foreach ((float beta, float bias) in new[] { (2f, -1f), (0.75f, -1f), (0.75f, 0f), (0f, 0f), (-1f, 0f), (1f, -4f), (3f, -1f) })
        {
            var lrn = new Lrn(1, 1f, beta, bias);
            using var gpu = new GpuLrn(fixture.Context, lrn);
            AssertClose(lrn.Apply(x), gpu.Apply(x), $"beta {beta} bias {bias}", 1e-5);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Softmax_Sweep_MatchesReference(bool log)
    {
        var rng = new Random(log ? 2 : 1);
        using var softmax = new GpuSoftmax(fixture.Context, log);
        foreach ((int outer, int n, int inner) in new[] { (1, 1, 1), (1, 5, 1), (3, 7, 1), (1, 4, 33), (2, 17, 9), (1, 1000, 1) })
        {
            Tensor x = Parity.Random(rng, 20f, outer * n * inner);
            x.Data[^1] = 88f; // exp(88) is near float's limit: the max must come off first
            if (outer * inner > 1) x.Data[0] = float.NaN; // NaN on the first line only
            AssertClose(Softmax.Apply(x, outer, n, inner, log), softmax.Apply(x, outer, n, inner), $"({outer}, {n}, {inner})", 1e-5);
        }
    }

    /// <summary>Every stack test model but the MobileNet-like one (its own tests below run it with layers toggled).</summary>
    public static TheoryData<string> StackModels => new(BranchyGraphs.StackModels.Where(m => m != "branchy").ToArray());

    [Theory]
    [MemberData(nameof(StackModels))]
    public void HeadGateAndDecoderModels_GpuGraphAndStackRunners_MatchCpu(string model)
    {
        OnnxGraph graph = BranchyGraphs.ByName(model);
        var rng = new Random(7);
        // (A channels-last model, a Keras-like one, takes the same picture as (1, H, W, C); the digits model one channel.)
        bool last = OnnxStack.ChannelsLastInput(graph.Inputs[0].Shape);
        int c = last ? graph.Inputs[0].Shape![3] : 3;
        Tensor x = Tensor.Chw(c, 8, 6, Enumerable.Range(0, c * 48).Select(_ => (float)rng.NextDouble() * 4 - 2).ToArray());
        Tensor fed = last ? Indexing.Transpose(x, [1, 2, 0]).Reshape(1, 8, 6, c) : x.Reshape(1, 3, 8, 6);
        var inputs = new Dictionary<string, Tensor> { ["x"] = fed };
        Dictionary<string, Tensor> cpu = graph.Run(inputs);
        using var runner = new GpuOnnxRunner(fixture.Context, graph);
        Dictionary<string, Tensor> gpu = runner.Run(inputs, downloadAll: true);
        foreach (OnnxOp op in graph.Ops) AssertClose(cpu[op.Output], gpu[op.Output], $"value '{op.Output}' ({op.Node.OpType})");
        Stack stack = OnnxStack.FromGraph(graph, model);
        using var stackRunner = new GpuStackRunner(fixture.Context, stack, 8, 6);
        StackResult a = StackRunner.Run(stack, x), b = stackRunner.Run(x);
        for (int i = 0; i < stack.Layers.Count; i++) AssertClose(a.Outputs[i], b.Outputs[i], $"layer {i} ({stack.Layers[i].Type})");
    }

    /// <summary>Keras' Flatten, pixel by pixel (a flatten layer of order hwc: the map transposed to (H, W, C) on the GPU):
    /// equal to the CPU reference over channel counts and sizes around the transpose's 4 x 8 blocks.</summary>
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 7, 9)]
    [InlineData(4, 8, 8)]
    [InlineData(5, 9, 7)]
    [InlineData(16, 4, 33)]
    [InlineData(17, 5, 31)]
    public void FlattenPixelByPixel_MatchesCpu(int c, int h, int w)
    {
        var rng = new Random(c * 100 + h * w);
        var g = new Core.Onnx.Proto.GraphProto { Name = "flat" };
        g.Input.Add(ProtoBuilders.Value("x", 1, 3, h, w));
        g.Initializer.Add(ProtoBuilders.FloatData("w", ProtoBuilders.R(rng, c * 3), c, 3, 1, 1));
        ProtoBuilders.Node(g, "conv", "Conv", ["x", "w"], "m");
        ProtoBuilders.Node(g, "to_nhwc", "Transpose", ["m"], "t", ProtoBuilders.Ints("perm", 0, 2, 3, 1));
        ProtoBuilders.Node(g, "flatten", "Flatten", ["t"], "y", ProtoBuilders.Int("axis", 1));
        g.Output.Add(ProtoBuilders.Value("y"));
        var model = new Core.Onnx.Proto.ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new Core.Onnx.Proto.OperatorSetIdProto { Version = 13 } } };
        Stack stack = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(Google.Protobuf.MessageExtensions.ToByteArray(model), "flat.onnx")), "flat");
        Assert.True(stack.Layers[^1] is FlattenLayer { ChannelsLast: true });
        Tensor x = Tensor.Chw(3, h, w, ProtoBuilders.R(rng, 3 * h * w));
        using var runner = new GpuStackRunner(fixture.Context, stack, h, w);
        Tensor want = StackRunner.Run(stack, x).Outputs[^1], got = runner.Run(x).Outputs[^1];
        Assert.Equal(want.Shape, got.Shape);
        Assert.Equal(want.Data, got.Data);
    }

    [Theory]
    [InlineData(9, 11)]
    [InlineData(16, 7)]
    public void MobileLikeModel_GpuGraphRunner_MatchesCpu_OnEveryValue(int h, int w)
    {
        OnnxGraph graph = BranchyGraphs.MobileLike();
        var rng = new Random(h * w);
        Tensor x = Tensor.Chw(3, h, w, Enumerable.Range(0, 3 * h * w).Select(_ => (float)rng.NextDouble()).ToArray()).Reshape(1, 3, h, w);
        var inputs = new Dictionary<string, Tensor> { ["x"] = x };
        Dictionary<string, Tensor> cpu = graph.Run(inputs);
        using var runner = new GpuOnnxRunner(fixture.Context, graph);
        for (int run = 0; run < 2; run++) // the second run reuses every GPU tensor
        {
            Dictionary<string, Tensor> gpu = runner.Run(inputs, downloadAll: true);
            foreach (OnnxOp op in graph.Ops) AssertClose(cpu[op.Output], gpu[op.Output], $"run {run} value '{op.Output}' ({op.Node.OpType})");
        }
    }

    [Theory]
    [InlineData(9, 11)]
    [InlineData(5, 20)]
    public void MobileLikeModel_GpuStackRunner_MatchesCpu_EveryLayer_AndWithALayerOff(int h, int w)
    {
        Stack stack = OnnxStack.FromGraph(BranchyGraphs.MobileLike(), "branchy");
        var rng = new Random(h + w);
        Tensor x = Tensor.Chw(3, h, w, Enumerable.Range(0, 3 * h * w).Select(_ => (float)rng.NextDouble()).ToArray());
        using var runner = new GpuStackRunner(fixture.Context, stack, h, w);
        // Off: the input's normalisation, clip, prelu, the Add's affine layer (layers whose shapes stay; the Mul's affine is
        // folded into conv_b, the Div's into the Sub's, and copy_b pads nothing).
        foreach (int off in new[] { -1, 0, 2, 5, 9 })
        {
            bool[] on = Enumerable.Repeat(true, stack.Layers.Count).ToArray();
            if (off >= 0) on[off] = false;
            for (int i = 0; i < on.Length; i++) runner.SetEnabled(i, on[i]);
            StackResult cpu = StackRunner.Run(stack, x, on), gpu = runner.Run(x);
            for (int i = 0; i < stack.Layers.Count; i++)
                AssertClose(cpu.Outputs[i], gpu.Outputs[i], $"({h}x{w}) layer {i} ({stack.Layers[i].Type}), layer {off} off");
        }
        // A pad off leaves the concat's maps of two sizes: one error naming the layer, and the runner keeps working.
        for (int i = 0; i < stack.Layers.Count; i++) runner.SetEnabled(i, true);
        Assert.Equal("pad_a", stack.Layers[3].Label);
        var e = Assert.Throws<ConvGLException>(() => runner.SetEnabled(3, false));
        Assert.Contains("node 'join' (concat) field 'inputs'", e.Message); // an imported model's layers are its nodes
        Assert.Contains("concat needs inputs of one size", e.Message);
        AssertClose(StackRunner.Run(stack, x).Outputs[^1], runner.Run(x).Outputs[^1], "after the refused toggle");
    }

    /// <summary>The ShuffleNet-style unit (Split, Transpose, Slice with a step, Gather, Squeeze, shape arithmetic) on the
    /// GPU graph runner, twice (the second run reuses every tensor), against the CPU reference on every value.</summary>
    [Theory]
    [InlineData(5, 7)]
    [InlineData(17, 33)]
    public void ShuffleModel_GpuGraphRunner_MatchesCpu_OnEveryValue(int h, int w)
    {
        OnnxGraph graph = BranchyGraphs.Shuffle();
        Tensor x = Parity.Random(new Random(h * w), 2f, 4 * h * w).Reshape(1, 4, h, w);
        var inputs = new Dictionary<string, Tensor> { ["x"] = x };
        Dictionary<string, Tensor> cpu = graph.Run(inputs);
        using var runner = new GpuOnnxRunner(fixture.Context, graph);
        for (int run = 0; run < 2; run++)
        {
            Dictionary<string, Tensor> gpu = runner.Run(inputs, downloadAll: true);
            foreach (OnnxOp op in graph.Ops) AssertClose(cpu[op.Output], gpu[op.Output], $"run {run} value '{op.Output}' ({op.Node.OpType})", 1e-6);
        }
    }

    /// <summary>transpose4.comp (GpuStridedCopy's plain 2D transposes: the outer axis stepping 1, the inner a whole input
    /// row, everything in whole vec4s) against StridedView.Read: to channels-last and back, a square, a view whose input
    /// rows are longer than it reads (a slice of columns), and a slab written at an offset of a bigger output; in 4 x 8
    /// blocks with 32-byte stores where the output's columns are whole multiples of 8 (and the driver has them), else 4 x 4
    /// with vec4 stores, both ways.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void StridedCopy_PlainTransposes_InBlocks(bool wide)
    {
        using var copy = new GpuStridedCopy(fixture.Context);
        using var input = new GpuTensor(fixture.Context, label: "transpose in");
        using var output = new GpuTensor(fixture.Context, label: "transpose out");
        var rng = new Random(17);
        FastConvTests.WithWideStores(fixture.Context, wide, () =>
        {
            foreach ((int[] shape, StridedView view) in new (int[], StridedView)[]
            {
                ([16, 5, 8], Indexing.TransposeView([16, 5, 8], [1, 2, 0])),   // (40, 16): to channels-last
                ([12, 4, 3], Indexing.TransposeView([12, 4, 3], [1, 2, 0])),   // (12, 12): 12 columns, 4 x 4 blocks
                ([5, 8, 24], Indexing.TransposeView([5, 8, 24], [2, 0, 1])),   // (24, 40): channels-last back
                ([4, 4], Indexing.TransposeView([4, 4], [1, 0])),
                ([8, 12], new StridedView(4, [4, 8], [1, 12])),                // columns 4..7 of 8 rows of 12, transposed
            })
            {
                Tensor x = Parity.Random(rng, 1f, shape.Aggregate(1, (p, d) => p * d));
                input.Upload(x.Reshape(1, 1, x.Length));
                copy.Run(input, view, output, (1, 1, (int)view.Count));
                Assert.Equal(view.Read(x, [(int)view.Count]).Data, output.Download().Data);
                Assert.True(copy.LastTranspose4, $"{string.Join("x", view.Dims)}: {copy.Variant}");
                Assert.True((fixture.Context.WideStores && view.Coalesced().Dims[^1] % 8 == 0) == copy.Variant.Contains("32-byte", StringComparison.Ordinal), $"{string.Join("x", view.Dims)} wide={fixture.Context.WideStores}: {copy.Variant}");
            }
            {
                // A (4, 8) transpose written at offset 8 of an output of rows of 16 (a slab of a bigger tensor): the rest untouched.
                Tensor x = Parity.Random(rng, 1f, 32);
                input.Upload(x.Reshape(1, 1, 32));
                StridedView view = Indexing.TransposeView([8, 4], [1, 0]);
                output.Resize(1, 1, 80);
                output.Upload(new Tensor([1, 1, 80]));
                copy.Copy(input, view, [16, 1], 8, output);
                Assert.True(copy.LastTranspose4);
                float[] got = output.Download().Data;
                Tensor expected = view.Read(x, [4, 8]);
                for (int a = 0; a < 4; a++)
                    for (int b = 0; b < 16; b++)
                    {
                        int at = 8 + a * 16 + b;
                        Assert.Equal(b < 8 ? expected.Data[a * 8 + b] : 0f, got[at]);
                    }
                Assert.Equal(0f, got[7]);
            }
        });
    }

    /// <summary>strided_copy.comp against StridedView.Read: random transposes (rank 1-6) and slices (negative steps too)
    /// of random shapes, written contiguously and, for a Gather's slab, into a bigger output at an offset.</summary>
    [Fact]
    public void StridedCopy_TransposesAndSlices_MatchReference()
    {
        using var copy = new GpuStridedCopy(fixture.Context);
        using var input = new GpuTensor(fixture.Context, label: "strided in");
        using var output = new GpuTensor(fixture.Context, label: "strided out");
        var rng = new Random(5);
        for (int trial = 0; trial < 60; trial++)
        {
            int rank = rng.Next(1, 7);
            int[] shape = Enumerable.Range(0, rank).Select(_ => rng.Next(1, rank > 4 ? 4 : 9)).ToArray();
            Tensor x = Parity.Random(rng, 1f, shape.Aggregate(1, (p, d) => p * d));
            StridedView view = trial % 2 == 0
                ? Indexing.TransposeView(shape, Enumerable.Range(0, rank).OrderBy(_ => rng.Next()).ToArray())
                : Indexing.SliceView(shape, shape.Select(n => Indexing.ClampSlice(rng.Next(-n, n), rng.Next(-n - 1, n + 1), rng.Next(3) == 0 ? -1 - rng.Next(2) : 1 + rng.Next(2), n)).ToArray());
            if (view.Count == 0) continue;
            input.Upload(x.Reshape(1, 1, x.Length));
            copy.Run(input, view, output, (1, 1, (int)view.Count));
            Assert.Equal(view.Read(x, [(int)view.Count]).Data, output.Download().Data);
        }
        // 4 values per invocation and vec4 stores where the innermost output dimension is a multiple of 4: to channels-last
        // (16 and 8 channels innermost), a channels-last map back, a reversed innermost axis of 12, a Gather's slab at an
        // offset; and one where an outer output stride is not (innermost 4, in an output of odd rows: the scalar path).
        int vec4Runs = 0;
        foreach ((int[] shape, Func<int[], StridedView> make) in new (int[], Func<int[], StridedView>)[]
        {
            ([16, 5, 7], sh => Indexing.TransposeView(sh, [1, 2, 0])),
            ([3, 8, 9, 6], sh => Indexing.TransposeView(sh, [0, 2, 3, 1])),
            ([9, 8, 6], sh => Indexing.TransposeView(sh, [2, 0, 1])),
            ([5, 12], sh => Indexing.SliceView(sh, [new(0, 1, 5), new(11, -1, 12)])),
        })
        {
            Tensor x = Parity.Random(rng, 1f, shape.Aggregate(1, (p, d) => p * d));
            StridedView view = make(shape);
            input.Upload(x.Reshape(1, 1, x.Length));
            copy.Run(input, view, output, (1, 1, (int)view.Count));
            Assert.Equal(view.Read(x, [(int)view.Count]).Data, output.Download().Data);
            if (copy.LastVec4) vec4Runs++;
        }
        Assert.Equal(4, vec4Runs);
        {
            // A Gather's slab: the view (4, 8) written at offset 8 of a (3, 4, 8) output, then at offset 2 (not a multiple
            // of 4: scalar stores), into an output of 6 x 5 values (rows of 5: scalar).
            int[] shape = [4, 8];
            Tensor x = Parity.Random(rng, 1f, 32);
            input.Upload(x.Reshape(1, 1, 32));
            StridedView view = Indexing.TransposeView(shape, [0, 1]);
            output.Resize(1, 1, 96);
            output.Upload(new Tensor([1, 1, 96]));
            copy.Copy(input, view, [8, 1], 8, output);
            Assert.True(copy.LastVec4 || view.Coalesced().Dims.Length == 1);
            float[] slab = output.Download().Data;
            for (int i = 0; i < 32; i++) Assert.Equal(x.Data[i], slab[8 + i]);
            Assert.Equal(0f, slab[7]);
            Assert.Equal(0f, slab[40]);
        }
        {
            StridedView view = Indexing.TransposeView([4, 6], [1, 0]); // (6, 4): innermost 4, contiguous output
            Tensor x = Parity.Random(rng, 1f, 24);
            input.Upload(x.Reshape(1, 1, 24));
            output.Resize(1, 1, 40);
            output.Upload(new Tensor([1, 1, 40]));
            copy.Copy(input, view, [5, 1], 2, output); // rows of 5 at offset 2
            Assert.False(copy.LastVec4);
            float[] slab = output.Download().Data;
            for (int r = 0; r < 6; r++)
                for (int c = 0; c < 4; c++) Assert.Equal(x.Data[c * 6 + r], slab[2 + r * 5 + c]);
        }
        // Long contiguous rows go as one buffer copy each: a plane transpose (a channel shuffle's pattern), a channel
        // slice of a batch, and a row-reversing slice (negative step: not contiguous, the shader).
        foreach ((int[] shape, Func<int[], StridedView> make) in new (int[], Func<int[], StridedView>)[]
        {
            ([3, 4, 300], sh => Indexing.TransposeView(sh, [1, 0, 2])),
            ([2, 5, 257], sh => Indexing.SliceView(sh, [new(0, 1, 2), new(1, 1, 3), new(0, 1, 257)])),
            ([2, 3, 256], sh => Indexing.SliceView(sh, [new(1, -1, 2), new(0, 1, 3), new(255, -1, 256)])),
        })
        {
            Tensor x = Parity.Random(rng, 1f, shape.Aggregate(1, (p, d) => p * d));
            StridedView view = make(shape);
            input.Upload(x.Reshape(1, 1, x.Length));
            copy.Run(input, view, output, (1, 1, (int)view.Count));
            Assert.Equal(view.Read(x, [(int)view.Count]).Data, output.Download().Data);
        }
        // A (3, 4) block written at rows 2.. of a (6, 5) output: row stride 5, offset 2 * 5 + 1.
        Tensor block = Parity.Random(rng, 1f, 12);
        input.Upload(block.Reshape(1, 1, 12));
        output.Upload(new Tensor([1, 6, 5]));
        copy.Copy(input, new StridedView(0, [3, 4], [4, 1]), [5, 1], 11, output);
        float[] got = output.Download().Data;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++) Assert.Equal(block.Data[i * 4 + j], got[(2 + i) * 5 + 1 + j]);
        Assert.Equal(0f, got[10]);
    }

    /// <summary>channel_norm.comp (the stack's layernorm over the channels at each pixel) against the reference: channels
    /// 1 to 17, planes around the 64-invocation work group, of a multiple of 4 pixels (4 per invocation, VEC4) and not,
    /// a map far from zero, and a NaN that stays in its pixel. Then maps of huge and of tiny values (squares past float's
    /// range, and below its normal range): the reference's doubles hold them, the shader sums its squares in units of the
    /// largest deviation (a map of 8.8e20 came out as the shift alone, the GPU fuzz test's finding).</summary>
    [Fact]
    public void ChannelLayerNorm_Sweep_MatchesReference()
    {
        var big = new Random(62);
        foreach (float magnitude in new[] { 1e25f, 3e36f, 1e-22f })
            foreach ((int c, int h, int w) in new[] { (8, 6, 4), (3, 5, 5) })
            {
                var layer = new ChannelLayerNormLayer(new LayerNorm(Parity.RandomVector(big, 2f, c), Parity.RandomVector(big, 1f, c), 1e-5f));
                Tensor x = Parity.Random(big, c, h, w);
                for (int i = 0; i < x.Length; i++) x.Data[i] *= magnitude;
                using var gpu = new GpuChannelLayerNorm(fixture.Context, layer.Parameters);
                AssertClose(layer.Forward(x), gpu.Apply(x), $"({c}, {h}, {w}) values of {magnitude:G2}", 1e-4);
            }
        var rng = new Random(61);
        int four = 0;
        foreach ((int c, int h, int w) in new[] { (1, 1, 1), (2, 3, 5), (3, 8, 8), (8, 9, 11), (17, 5, 13), (4, 33, 65),
                                                  (1, 2, 2), (5, 4, 7), (17, 12, 5), (9, 16, 16), (2, 1, 260) })
            foreach (float offset in new[] { 0f, 500f })
            {
                var layer = new ChannelLayerNormLayer(new LayerNorm(Parity.RandomVector(rng, 2f, c), Parity.RandomVector(rng, 1f, c), 1e-5f));
                Tensor x = Parity.Random(rng, c, h, w);
                for (int i = 0; i < x.Length; i++) x.Data[i] += offset;
                if (h * w > 2) x.Data[1] = float.NaN; // pixel 1 of channel 0: that pixel's every channel is NaN, no other
                using var gpu = new GpuChannelLayerNorm(fixture.Context, layer.Parameters);
                Tensor want = layer.Forward(x), got = gpu.Apply(x);
                AssertClose(want, got, $"({c}, {h}, {w}) offset {offset}", 1e-4);
                Assert.Equal(h * w % 4 == 0 ? "channel_norm: 4 pixels/invocation" : "channel_norm: 1 pixel/invocation", gpu.Variant);
                if (h * w % 4 == 0) four++;
                if (h * w > 2)
                    for (int ch = 0; ch < c; ch++)
                    {
                        Assert.True(float.IsNaN(got.Data[ch * h * w + 1]), $"channel {ch} of the NaN pixel");
                        Assert.False(float.IsNaN(got.Data[ch * h * w]), $"channel {ch} of pixel 0");
                    }
            }
        Assert.Equal(12, four);
    }

    /// <summary>The shader's float erf (a series near 0, Abramowitz and Stegun's 7.1.26 beyond) within 3e-7 of the
    /// reference's double erf on a dense grid over [-5, 5] (both sides of the switch at 0.5), and small values keep their
    /// relative accuracy (erf(x) ~ 1.128 x).</summary>
    [Fact]
    public void Erf_FloatApproximation_IsWithin3e7_OfTheReference()
    {
        using var op = new GpuUnary(fixture.Context, UnaryKind.Erf);
        float[] xs = Enumerable.Range(-5000, 10001).Select(i => i / 1000f).Concat([1e-20f, -3e-8f, 1e-4f, 0.4999999f, 0.5000001f]).ToArray();
        Tensor got = op.Apply(Tensor.Chw(1, 1, xs.Length, xs));
        double worst = 0;
        for (int i = 0; i < xs.Length; i++) worst = Math.Max(worst, Math.Abs(got.Data[i] - Unary.Erf(xs[i])));
        Assert.True(worst <= 3e-7, $"max |erf error| {worst:G3}");
        Assert.Equal(1.1283791670955126e-20, got.Data[^5], 1e-26);
        Assert.Equal(1.1283791670955126e-4 * (1 - 1e-8 / 3), got.Data[^3], 1e-11);
    }
}
