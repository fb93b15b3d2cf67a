using System.Buffers.Binary;
using System.Diagnostics;
using ConvGL.Core.Stacks;

namespace ConvGL.Core.Tests.Stacks;

/// <summary>The shipped stacks in assets/stacks load and plan, and the edges stack matches SciPy.</summary>
public sealed class ShippedStackTests : IDisposable
{
    private readonly StackDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Shipped()
    {
        var data = new TheoryData<string>();
        foreach (string name in StackCatalog.ShippedNames()) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shipped))]
    public void ShippedStack_LoadsAndPlansForSmallAndOddSizes(string name)
    {
        Stack stack = StackCatalog.Load(name);
        Assert.Equal(name, stack.Name);
        foreach ((int h, int w) in new[] { (28, 28), (37, 51), (240, 320) })
        {
            StackPlan plan = StackPlan.Create(stack, h, w);
            Assert.Equal(stack.Channels(), plan.Outputs.Select(o => o.C));
        }
    }

    [Fact]
    public void Shipped_LearnedUsesTrainedWeights_DeepMixesFixedAndLearned()
    {
        Stack learned = StackCatalog.Load("learned"), deep = StackCatalog.Load("deep");
        Assert.Equal("learned.safetensors", learned.WeightsFile);
        Assert.All(learned.Layers.OfType<ConvLayer>(), c => Assert.False(c.IsFixed));
        Assert.Equal(2, learned.Layers.OfType<ConvLayer>().Count());
        ConvLayer[] convs = deep.Layers.OfType<ConvLayer>().ToArray();
        Assert.Contains(convs, c => c.IsFixed);
        Assert.Contains(convs, c => !c.IsFixed);
        // deep's learned layers are learned's, tensor for tensor.
        foreach (ConvLayer c in convs.Where(c => !c.IsFixed))
        {
            ConvLayer same = learned.Layers.OfType<ConvLayer>().Single(l => l.WeightName == c.WeightName);
            Assert.Equal(same.Weight.Data, c.Weight.Data);
            Assert.Equal(same.Options, c.Options);
        }
        Assert.True(deep.Layers.Count > learned.Layers.Count);
    }

    /// <summary>dog: fine blur less coarse blur equals one convolution with the difference of the two kernels (the library's
    /// dog: convolution is linear), to float rounding; a band-pass: a constant image gives 0 everywhere (both kernels sum
    /// to 1; reflect border), a step gives a positive and a negative lobe about the edge.</summary>
    [Fact]
    public void Shipped_Dog_TheDifferenceOfTwoBlurs_IsOneConvolution()
    {
        Stack dog = StackCatalog.Load("dog");
        var rng = new Random(5);
        Tensor x = Tensor.Chw(1, 31, 40, Enumerable.Range(0, 31 * 40).Select(_ => (float)rng.NextDouble()).ToArray());
        StackResult r = StackRunner.Run(dog, x);
        Tensor band = r.Outputs[2], one = r.Outputs[3];
        for (int i = 0; i < band.Length; i++) Assert.True(Math.Abs(band.Data[i] - one.Data[i]) <= 2e-7, $"value {i}: {band.Data[i]} against {one.Data[i]}");
        Assert.All(StackRunner.Run(dog, Tensor.Chw(1, 12, 12, Enumerable.Repeat(0.7f, 144).ToArray())).Outputs[2].Data, v => Assert.True(Math.Abs(v) <= 1e-6));
        // A vertical step (0 left, 1 right): the band is negative just left of it and positive just right, 0 far away.
        Tensor step = Tensor.Chw(1, 9, 30, Enumerable.Range(0, 9 * 30).Select(i => i % 30 >= 15 ? 1f : 0f).ToArray());
        float[] row = StackRunner.Run(dog, step).Outputs[2].Data[(4 * 30)..(5 * 30)];
        Assert.True(row[14] < -0.01f && row[15] > 0.01f, $"{row[14]} {row[15]}");
        Assert.True(Math.Abs(row[2]) < 1e-6 && Math.Abs(row[27]) < 1e-6);
    }

    /// <summary>The attention stack is non-local means with one-pixel patches: each pooled pixel the average of all pooled
    /// pixels weighted by exp(-|c_p - c_j|^2 / h^2), h = 0.1, written out here directly from the colours (no attention,
    /// no softmax) and compared; two colours far apart stay apart (a two-colour image comes out as its two colours).</summary>
    [Fact]
    public void Shipped_Attention_IsNonLocalMeansOfThePooledColours()
    {
        Stack att = StackCatalog.Load("attention");
        var rng = new Random(8);
        Tensor x = Tensor.Chw(3, 40, 56, Enumerable.Range(0, 3 * 40 * 56).Select(_ => (float)rng.NextDouble()).ToArray());
        StackResult r = StackRunner.Run(att, x);
        Tensor pooled = r.Outputs[0], o = r.Outputs[^1];
        int n = pooled.H * pooled.W;
        Assert.Equal((3, 5, 7), (o.C, o.H, o.W));
        for (int p = 0; p < n; p++)
        {
            double[] want = BellAverage(pooled, pooled, p, 0.01);
            for (int c = 0; c < 3; c++) Assert.Equal(want[c], o.Data[c * n + p], 4);
        }
        // Left half red, right half blue (after pooling too): each pixel averages its own colour only (e^-200 is 0).
        Tensor two = Tensor.Chw(3, 16, 32, Enumerable.Range(0, 3 * 16 * 32).Select(i => (i / 512, i % 32 < 16) switch { (0, true) or (2, false) => 1f, _ => 0f }).ToArray());
        Tensor same = StackRunner.Run(att, two).Outputs[^1];
        Assert.Equal(StackRunner.Run(att, two).Outputs[0].Data, same.Data);
    }

    /// <summary>Position <paramref name="p"/>'s average of <paramref name="values"/>' maps over every position j, weighted by
    /// exp(-|f_p - f_j|^2 / h2) with f the <paramref name="features"/>' values there (what the attention stacks compute).</summary>
    internal static double[] BellAverage(Tensor features, Tensor values, int p, double h2)
    {
        int n = features.H * features.W;
        double total = 0;
        var sums = new double[values.C];
        for (int j = 0; j < n; j++)
        {
            double d2 = 0;
            for (int c = 0; c < features.C; c++) d2 += Math.Pow(features.Data[c * n + p] - features.Data[c * n + j], 2);
            double w = Math.Exp(-d2 / h2);
            total += w;
            for (int c = 0; c < values.C; c++) sums[c] += w * values.Data[c * n + j];
        }
        return sums.Select(v => v / total).ToArray();
    }

    [Fact]
    public void Catalog_ResolvesNamesAndFiles_AndListsShippedOnError()
    {
        Assert.EndsWith(Path.Combine("assets", "stacks", "edges.json"), StackCatalog.Resolve("edges"));
        string file = _dir.Write("mine.json", """{"layers": [{"type": "abs"}]}""");
        Assert.Equal(file, StackCatalog.Resolve(file));
        var e = Assert.Throws<ConvGLException>(() => StackCatalog.Resolve("nonesuch"));
        Assert.Contains("edges", e.Message);
        Assert.Contains("gabor", e.Message);
    }

    /// <summary>edges = depthwise [sobel-x, sobel-y, scharr-x, scharr-y] with the reflect border, then magnitude of
    /// the pairs; SciPy's ndimage.correlate with mode='mirror' (d c b | a b c d) is the same border, and
    /// np.hypot the magnitude. Tolerance abs 1e-5 + rel 1e-5 (float32 outputs of float64 sums).</summary>
    [Fact]
    public void Edges_MatchesScipyCorrelateMirrorAndHypot()
    {
        Assert.SkipWhen(!File.Exists("/usr/bin/python3"), "/usr/bin/python3 is not installed (scripts/install-deps.sh --test)");
        var rng = new Random(21);
        Tensor image = TestKernels.Random(rng, 1, 19, 26);
        for (int i = 0; i < image.Length; i++) image.Data[i] = MathF.Abs(image.Data[i]) / 1.2f; // a [0, 1] image
        string input = _dir.File("img.bin"), output = _dir.File("edges.bin");
        var bytes = new byte[image.Length * 4];
        for (int i = 0; i < image.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), image.Data[i]);
        File.WriteAllBytes(input, bytes);
        string script = $$"""
            import numpy as np
            from scipy import ndimage
            x = np.fromfile(r'{{input}}', dtype='<f4').astype(np.float64).reshape(19, 26)
            sx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float)
            cx = np.array([[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]], float)
            maps = [ndimage.correlate(x, k, mode='mirror') for k in (sx, sx.T, cx, cx.T)]
            out = np.concatenate([np.stack(maps).ravel(), np.hypot(maps[0], maps[1]).ravel(), np.hypot(maps[2], maps[3]).ravel()])
            out.astype('<f8').tofile(r'{{output}}')
            """;
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-");
        using (Process p = Process.Start(psi)!)
        {
            p.StandardInput.Write(script);
            p.StandardInput.Close();
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"scipy failed: {err}");
        }
        byte[] raw = File.ReadAllBytes(output);
        StackResult r = StackRunner.Run(StackCatalog.Load("edges"), image);
        float[] ours = [.. r.Outputs[0].Data, .. r.Outputs[1].Data];
        Assert.Equal(raw.Length / 8, ours.Length);
        for (int i = 0; i < ours.Length; i++)
        {
            double e = BinaryPrimitives.ReadDoubleLittleEndian(raw.AsSpan(i * 8));
            Assert.True(Math.Abs(e - ours[i]) <= 1e-5 + 1e-5 * Math.Abs(e), $"edges flat index {i} (of 4 gradient maps then 2 magnitudes, 19x26): ours {ours[i]}, scipy {e}");
        }
    }
}
