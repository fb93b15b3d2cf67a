using ConvGL.App.Cli;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Onnx;

namespace ConvGL.App.Tests.Onnx;

/// <summary><c>convgl features INPUT --stack MODEL.onnx</c>: an ONNX model is a stack; a .npy input is fed as is.</summary>
public sealed class FeaturesOnnxTests : IDisposable
{
    private const string Case = "/usr/share/libonnx-testdata/data/node/test_maxpool_2d_pads";
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-features-onnx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public void OnnxModelAsStack_WritesEachOpsMap_EqualToTheOfficialExpectedOutput(string device)
    {
        if (!Directory.Exists(Case)) Assert.Skip($"ONNX backend test data absent: {Case} (apt-get install libonnx-testdata; scripts/install-deps.sh --test does)");
        Tensor x = OnnxReader.ReadTensorFile(Path.Combine(Case, "test_data_set_0", "input_0.pb")).Tensor;
        Tensor expected = OnnxReader.ReadTensorFile(Path.Combine(Case, "test_data_set_0", "output_0.pb")).Tensor;
        string input = Path.Combine(_dir, "x.npy"), outDir = Path.Combine(_dir, "maps");
        Npy.Write(input, x.Reshape(x.Shape[1..]));
        Assert.Equal(0, CliRoot.Execute(["features", input, "--stack", Path.Combine(Case, "model.onnx"), "--out", outDir, "--device", device]));
        // The node has no name: its map is named after its output value, "y".
        Assert.Equal(["00-maxpool-y.npy", "00-maxpool-y.png", "input.npy"], Directory.GetFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Tensor got = Npy.Read(Path.Combine(outDir, "00-maxpool-y.npy"));
        Assert.Equal(expected.Shape[1..], got.Shape);
        Assert.Equal(expected.Data, got.Data);
    }

    /// <summary>The CLI audit: an array of another channel count went into a model converted as an image's (a 4th channel
    /// dropped, 1 repeated to 3), where the model takes it as it is and ONNX Runtime refuses it: exit 2, nothing written.</summary>
    [Fact]
    public void AnArrayOfAnotherChannelCount_IsRefused_ForAModel()
    {
        if (!Directory.Exists(Case)) Assert.Skip($"ONNX backend test data absent: {Case} (apt-get install libonnx-testdata; scripts/install-deps.sh --test does)");
        Tensor x = OnnxReader.ReadTensorFile(Path.Combine(Case, "test_data_set_0", "input_0.pb")).Tensor;
        int c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        string input = Path.Combine(_dir, "wrong.npy"), outDir = Path.Combine(_dir, "maps");
        Npy.Write(input, Tensor.Chw(c + 1, h, w));
        var e = Assert.Throws<ConvGLException>(() => CliRoot.Execute(["features", input, "--stack", Path.Combine(Case, "model.onnx"), "--out", outDir]));
        Assert.Equal($"features: '{input}' has {c + 1} channels; the model 'model' takes {c} and an array goes into a model as it is, " +
                     $"unconverted: give a ({c}, H, W) array or the model's own input tensor, (1, {c}, H, W)", e.Message);
        Assert.False(Directory.Exists(outDir));
        // Of another size too: the channels are said first (the newcomer walk: the size was, then, cropped, the channels).
        Npy.Write(input, Tensor.Chw(c + 1, 2 * h + 7, w + 3));
        e = Assert.Throws<ConvGLException>(() => CliRoot.Execute(["features", input, "--stack", Path.Combine(Case, "model.onnx"), "--out", outDir]));
        Assert.StartsWith($"features: '{input}' has {c + 1} channels; the model 'model' takes {c}", e.Message);
    }

    /// <summary>A model takes an array as it is: <c>--size</c> would have resampled it (a (1, 2, 3, 3) case's (2, 3, 3) array
    /// went in as 4x5), which the model is never given by ONNX Runtime: exit 2, nothing written, before the array is read.</summary>
    [Fact]
    public void SizeWithAnArray_IsRefused_ForAModel()
    {
        if (!Directory.Exists(Case)) Assert.Skip($"ONNX backend test data absent: {Case} (apt-get install libonnx-testdata; scripts/install-deps.sh --test does)");
        Tensor x = OnnxReader.ReadTensorFile(Path.Combine(Case, "test_data_set_0", "input_0.pb")).Tensor;
        string input = Path.Combine(_dir, "x.npy"), outDir = Path.Combine(_dir, "maps");
        Npy.Write(input, x.Reshape(x.Shape[1..]));
        var e = Assert.Throws<ConvGLException>(() => CliRoot.Execute(["features", input, "--stack", Path.Combine(Case, "model.onnx"), "--out", outDir, "--size", "8x6"]));
        Assert.Equal($"features: --size 8x6 does not apply to '{input}': an array goes into a model as it is, never resized; leave --size out " +
                     "(or give an image, which is resized)", e.Message);
        Assert.False(Directory.Exists(outDir));
        // Without --size the same array runs.
        Assert.Equal(0, CliRoot.Execute(["features", input, "--stack", Path.Combine(Case, "model.onnx"), "--out", outDir]));
    }

    /// <summary><c>--normalize</c>: the model's input normalisation is the first layer, 00-batchnorm-normalize, equal to
    /// (x - mean) / std computed by hand, and every later map equals the ONNX graph run on that normalised input (which
    /// ONNX Runtime checks in Core's InputNormalizationTests); input.npy stays what was given. A bad value writes nothing.</summary>
    [Theory]
    [InlineData("cpu", "imagenet")]
    [InlineData("gpu", "imagenet")]
    [InlineData("cpu", "bgr:imagenet")]
    [InlineData("gpu", "bgr:imagenet")]
    public void Normalize_IsTheFirstLayer_AndTheModelSeesTheNormalisedInput(string device, string spec)
    {
        string model = Path.Combine(_dir, "residual.onnx"), input = Path.Combine(_dir, "x.npy"), outDir = Path.Combine(_dir, "maps");
        byte[] bytes = ConvGL.Core.Tests.Onnx.SmallGraphs.ResidualWithHeadBytes();
        File.WriteAllBytes(model, bytes);
        var rng = new Random(5);
        Tensor x = Tensor.Chw(3, 10, 14, Enumerable.Range(0, 3 * 10 * 14).Select(_ => (float)rng.NextDouble()).ToArray());
        Npy.Write(input, x);
        var bad = Assert.Throws<ConvGLException>(() => CliRoot.Execute(["features", input, "--stack", model, "--out", outDir, "--normalize", "0.5/0"]));
        Assert.Equal("--normalize '0.5/0': std entry 0 is 0; each std must be positive (it divides)", bad.Message);
        Assert.False(Directory.Exists(outDir));

        Assert.Equal(0, CliRoot.Execute(["features", input, "--stack", model, "--out", outDir, "--device", device, "--normalize", spec]));
        string[] files = Directory.GetFiles(outDir, "*.npy").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        bool bgr = spec.StartsWith("bgr:", StringComparison.Ordinal);
        Assert.Equal(bgr ? "00-conv-normalize.npy" : "00-batchnorm-normalize.npy", files[0]);
        Assert.Equal(x.Data, Npy.Read(Path.Combine(outDir, "input.npy")).Data);
        // The model's channel c is the picture's channel c, or 2 - c after bgr: (imagenet's statistics then reversed too).
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        Tensor normalised = new(x.Shape, x.Data.Select((_, i) =>
        {
            int c = i / 140, from = bgr ? 2 - c : c;
            return (x.Data[from * 140 + i % 140] - mean[from]) / std[from];
        }).ToArray());
        Tensor first = Npy.Read(Path.Combine(outDir, files[0]));
        for (int i = 0; i < x.Length; i++) Assert.Equal(normalised.Data[i], first.Data[i], 1e-5);
        Dictionary<string, Tensor> graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "residual.onnx"))
            .Run(new Dictionary<string, Tensor> { ["x"] = normalised.Reshape(1, 3, 10, 14) });
        Tensor y = Npy.Read(Path.Combine(outDir, files[^2]));
        Assert.Matches(@"^\d\d-sigmoid-sig\.npy$", files[^2]);
        for (int i = 0; i < y.Length; i++) Assert.Equal(graph["y"].Data[i], y.Data[i], 1e-5);
    }

    /// <summary>A channels-last model, (1, H, W, 3) as Keras exports take it (Sub mean and Mul scale on the last axis,
    /// Transpose [0, 3, 1, 2], two convs, Transpose back): features of a (C, H, W) array writes every layer's map as
    /// (C, H, W), equal to the ONNX graph run on the same picture channels-last (which ONNX Runtime checks in Core's
    /// ChannelsLastInputTests); the output's map is the graph's channels-last output turned round.</summary>
    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public void AChannelsLastModel_TakesThePicture_AndWritesItsMapsChannelsFirst(string device)
    {
        string model = Path.Combine(_dir, "keras.onnx"), input = Path.Combine(_dir, "x.npy"), outDir = Path.Combine(_dir, "maps");
        File.WriteAllBytes(model, ConvGL.Core.Tests.Onnx.BranchyGraphs.KerasLikeBytes());
        var rng = new Random(8);
        Tensor x = Tensor.Chw(3, 11, 17, Enumerable.Range(0, 3 * 11 * 17).Select(_ => (float)rng.NextDouble()).ToArray());
        Npy.Write(input, x);
        Assert.Equal(0, CliRoot.Execute(["features", input, "--stack", model, "--out", outDir, "--device", device]));
        string[] npy = Directory.GetFiles(outDir, "*.npy").Select(Path.GetFileName).Where(n => n != "input.npy").Order(StringComparer.Ordinal).ToArray()!;
        Assert.Matches(@"^\d\d-conv-conv1\.npy$", npy[^3]);
        Assert.Matches(@"^\d\d-conv-conv2\.npy$", npy[^1]);
        Tensor nhwc = ConvGL.Core.Ops.Indexing.Transpose(x, [1, 2, 0]).Reshape(1, 11, 17, 3);
        Dictionary<string, Tensor> graph = OnnxGraph.Build(OnnxReader.Parse(File.ReadAllBytes(model), model)).Run(new Dictionary<string, Tensor> { ["x"] = nhwc });
        Tensor c1 = Npy.Read(Path.Combine(outDir, npy[^3])), y = Npy.Read(Path.Combine(outDir, npy[^1]));
        Assert.Equal([8, 11, 17], c1.Shape);
        for (int i = 0; i < c1.Length; i++) Assert.Equal(graph["c1"].Data[i], c1.Data[i], 1e-4);
        Assert.Equal([4, 11, 17], y.Shape);
        Tensor yLast = ConvGL.Core.Ops.Indexing.Transpose(y, [1, 2, 0]);
        for (int i = 0; i < y.Length; i++) Assert.Equal(graph["y"].Data[i], yLast.Data[i], 1e-4);

        // The model's own input tensor, (1, H, W, 3) as ONNX Runtime takes it, is the same picture: the same maps.
        string own = Path.Combine(_dir, "x-nhwc.npy"), ownDir = Path.Combine(_dir, "maps-nhwc");
        Npy.Write(own, nhwc);
        Assert.Equal(0, CliRoot.Execute(["features", own, "--stack", model, "--out", ownDir, "--device", device]));
        Assert.Equal(x.Data, Npy.Read(Path.Combine(ownDir, "input.npy")).Data);
        Assert.Equal(y.Data, Npy.Read(Path.Combine(ownDir, npy[^1])).Data);
        // (1, 3, H, W) is not this model's input: one error saying what is, nothing written.
        string wrong = Path.Combine(_dir, "x-nchw.npy"), wrongDir = Path.Combine(_dir, "maps-nchw");
        Npy.Write(wrong, x.Reshape(1, 3, 11, 17));
        var e = Assert.Throws<ConvGLException>(() => CliRoot.Execute(["features", wrong, "--stack", model, "--out", wrongDir, "--device", device]));
        Assert.Equal($"features: '{wrong}' has 17 channels; the model 'keras' takes 3 and an array goes into a model as it is, unconverted: give a (3, H, W) array or the model's own input tensor, (1, H, W, 3)", e.Message);
        Assert.False(Directory.Exists(wrongDir));
    }

    /// <summary>A channels-first model's own input tensor, (1, 3, H, W), is the (3, H, W) array: the same maps. A rank-4
    /// array with a batch of 2 is one error that names the forms taken.</summary>
    [Fact]
    public void AModelsOwnInputTensor_IsTheSamePicture()
    {
        string model = Path.Combine(_dir, "residual.onnx");
        File.WriteAllBytes(model, ConvGL.Core.Tests.Onnx.SmallGraphs.ResidualWithHeadBytes());
        var rng = new Random(9);
        Tensor x = Tensor.Chw(3, 10, 14, Enumerable.Range(0, 3 * 10 * 14).Select(_ => (float)rng.NextDouble()).ToArray());
        string chw = Path.Combine(_dir, "x.npy"), nchw = Path.Combine(_dir, "x4.npy"), batch = Path.Combine(_dir, "x2.npy");
        Npy.Write(chw, x);
        Npy.Write(nchw, x.Reshape(1, 3, 10, 14));
        Npy.Write(batch, new Tensor([2, 3, 10, 14]));
        Assert.Equal(0, CliRoot.Execute(["features", chw, "--stack", model, "--out", Path.Combine(_dir, "a")]));
        Assert.Equal(0, CliRoot.Execute(["features", nchw, "--stack", model, "--out", Path.Combine(_dir, "b")]));
        foreach (string f in Directory.GetFiles(Path.Combine(_dir, "a"), "*.npy"))
            Assert.Equal(Npy.Read(f).Data, Npy.Read(Path.Combine(_dir, "b", Path.GetFileName(f))).Data);
        var e = Assert.Throws<ConvGLException>(() => CliRoot.Execute(["features", batch, "--stack", model, "--out", Path.Combine(_dir, "c")]));
        Assert.Equal($"{batch}: a .npy input must be (C, H, W) or (H, W), or the model's own input tensor, (1, C, H, W); got (2, 3, 10, 14)", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_dir, "c")));
    }

    /// <summary>A branchy model (Sub / Div normalisation, Clip, reflect and edge Pads, PRelu, Concat, Dropout, Identity,
    /// a cropping Pad, a Gemm head) through the command on both devices: every layer's map written, equal to the ONNX
    /// graph's value (which ONNX Runtime checks in Core's BranchyOpsTests).</summary>
    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public void BranchyModelAsStack_WritesEveryLayersMap_EqualToTheGraph(string device)
    {
        string model = Path.Combine(_dir, "branchy.onnx"), input = Path.Combine(_dir, "x.npy"), outDir = Path.Combine(_dir, "maps");
        File.WriteAllBytes(model, ConvGL.Core.Tests.Onnx.BranchyGraphs.MobileLikeBytes());
        var rng = new Random(4);
        Tensor x = Tensor.Chw(3, 12, 10, Enumerable.Range(0, 360).Select(_ => (float)rng.NextDouble()).ToArray());
        Npy.Write(input, x);
        Assert.Equal(0, CliRoot.Execute(["features", input, "--stack", model, "--out", outDir, "--device", device]));
        string[] npy = Directory.GetFiles(outDir, "*.npy").Select(Path.GetFileName).Where(n => n != "input.npy").Order(StringComparer.Ordinal).ToArray()!;
        // 14 layers: mul_b's per-channel constant is folded into conv_b (07-conv-conv_b.npy is their map), the input
        // normalisation's Div into its Sub (00-batchnorm-center.npy), and copy_b pads nothing.
        Assert.Equal(14, npy.Length);
        Assert.Equal("08-concat-join.npy", npy[8]);
        Assert.Equal("10-pad-crop.npy", npy[10]);
        OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(File.ReadAllBytes(model), model));
        Dictionary<string, Tensor> values = graph.Run(new Dictionary<string, Tensor> { ["x"] = x.Reshape(1, 3, 12, 10) });
        foreach ((string file, string value) in new[] { ("00-batchnorm-center.npy", "xn"), ("03-pad-pad_a.npy", "pa"), ("07-conv-conv_b.npy", "b"), ("08-concat-join.npy", "j"), ("10-pad-crop.npy", "cr"), ("13-linear-fc.npy", "y") })
        {
            Tensor got = Npy.Read(Path.Combine(outDir, file)), want = values[value];
            Assert.Equal(want.Length, got.Length);
            double scale = want.Data.Max(v => Math.Abs((double)v));
            Assert.True(want.Data.Zip(got.Data).All(p => Math.Abs(p.First - p.Second) <= 1e-4 * scale), $"{device} {file}");
        }
    }
}
