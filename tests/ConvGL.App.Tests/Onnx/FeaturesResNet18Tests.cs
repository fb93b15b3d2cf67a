using ConvGL.App.Cli;
using ConvGL.Core.IO;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Stacks;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = ConvGL.Core.Tensor;

namespace ConvGL.App.Tests.Onnx;

/// <summary><c>convgl features IMAGE --stack resnet18</c>: the shipped name finds the packaged model, an image gets the
/// model's preprocessing, a .npy goes in as it is, every map's file is named after its node, and the embedding is ONNX
/// Runtime's for the same input. On the GPU: a Debug-build CPU ResNet18 per test took minutes of the CI budget; the
/// CPU graph is checked against ONNX Runtime on every map in the Core tests (ResNet18Tests).</summary>
public sealed class FeaturesResNet18Tests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-features-resnet-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static Tensor Photo(int h, int w)
    {
        var t = Tensor.Chw(3, h, w);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    t[c, y, x] = (x - w / 2) * (x - w / 2) + (y - h / 3) * (y - h / 3) < h * h / 10 ? 0.9f - 0.3f * c : 0.2f + 0.1f * c + 0.3f * x / w;
        return t;
    }

    private static float[] OnnxRuntimeEmbedding(string model, Tensor input)
    {
        using var session = new InferenceSession(model);
        var tensor = new DenseTensor<float>(input.Data, [1, .. input.Shape]);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results =
            session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), tensor)]);
        return results.Single().AsEnumerable<float>().ToArray();
    }

    [Fact]
    public void ImageInput_IsPreprocessed_MapsAreNamedAfterNodes_AndTheEmbeddingIsOnnxRuntimes()
    {
        ImageIO.SavePng(P("photo.png"), Photo(90, 160));
        string outDir = P("maps");
        Assert.Equal(0, CliRoot.Execute(["features", P("photo.png"), "--stack", "resnet18", "--out", outDir, "--device", "gpu"]));

        Stack stack = StackCatalog.Load("resnet18");
        Tensor input = Npy.Read(Path.Combine(outDir, "input.npy"));
        Tensor want = stack.Preprocess!.Apply(ImageIO.Load(P("photo.png"), ImageChannels.Rgb));
        Assert.Equal(want.Data, input.Data);
        string[] files = Directory.GetFiles(outDir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(1 + 2 * 52, files.Length);
        Assert.Contains("00-conv-Convolution249.npy", files);
        for (int i = 0; i < 52; i++)
            Assert.Contains($"{i:D2}-{stack.Layers[i].Type}-{stack.Layers[i].Label}.npy", files);

        Tensor embedding = Npy.Read(Path.Combine(outDir, $"51-{stack.Layers[51].Type}-{stack.Layers[51].Label}.npy"));
        Assert.Equal([512, 1, 1], embedding.Shape);
        float[] ort = OnnxRuntimeEmbedding(stack.SourcePath!, input);
        double diff = ort.Zip(embedding.Data, (a, b) => Math.Abs((double)a - b)).Max(), scale = ort.Max(v => Math.Abs((double)v));
        Assert.True(diff <= 1e-3 * scale, $"max |ConvGL - ORT| {diff:G3} of {scale:G3}");
    }

    [Fact]
    public void NpyInput_GoesInAsItIs()
    {
        var rng = new Random(4);
        Tensor x = Tensor.Chw(3, 256, 224, Enumerable.Range(0, 3 * 256 * 224).Select(_ => (float)(rng.NextDouble() * 200 - 100)).ToArray());
        Npy.Write(P("x.npy"), x);
        string outDir = P("maps");
        Assert.Equal(0, CliRoot.Execute(["features", P("x.npy"), "--stack", "resnet18", "--out", outDir, "--device", "gpu"]));
        Assert.Equal(x.Data, Npy.Read(Path.Combine(outDir, "input.npy")).Data);
        Assert.Equal([64, 128, 112], Npy.Read(Path.Combine(outDir, "00-conv-Convolution249.npy")).Shape);
    }

    /// <summary>A .npy is not resized, so its size must be one the model's residual adds line up at (ResNet18: even maps
    /// before each downsampling, 7x7 before the last pool). 230x230 is not: ONNX Runtime refuses it too, so the limit is
    /// the model's (ONNX Runtime on a copy whose declared input size is free, H and W, as ConvGL treats it); ConvGL says
    /// so in one line naming the file, its shape, the layer and the nearest sizes that work (227 or 256), and exits 2
    /// writing nothing. 226x226, which the README once ruled out, runs in ONNX Runtime.</summary>
    [Fact]
    public void NpyInput_OfASizeTheModelCannotTake_IsOneErrorNamingTheFileShapeAndNearestSizes_AsOnnxRuntimeAgrees()
    {
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(StackCatalog.Load("resnet18").SourcePath!));
        TensorShapeProto shape = proto.Graph.Input.Single(i => i.Name == "Input247").Type.TensorType.Shape;
        shape.Dim[2] = new Dimension { DimParam = "H" };
        shape.Dim[3] = new Dimension { DimParam = "W" };
        string model = P("free-size.onnx");
        File.WriteAllBytes(model, proto.ToByteArray());
        Assert.ThrowsAny<OnnxRuntimeException>(() => OnnxRuntimeEmbedding(model, Tensor.Chw(3, 230, 230)));
        Assert.Equal(512, OnnxRuntimeEmbedding(model, Tensor.Chw(3, 226, 226)).Length);

        Npy.Write(P("x.npy"), Tensor.Chw(3, 230, 230));
        var r = ProgressTests.Convgl(_dir, "0", "features", "x.npy", "--stack", "resnet18", "--out", "maps", "--device", "gpu");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Equal("", r.Stdout);
        string line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("convgl: x.npy: the array (3, 230, 230) goes in as it is and does not fit stack 'resnet18': node 'Plus299' (add) field 'inputs':", line);
        Assert.EndsWith("the nearest sizes it runs at: height 227 or 256 instead of 230, width 227 or 256 instead of 230 (e.g. the array (3, 227, 227); crop or pad it)", line);
        Assert.False(Directory.Exists(P("maps")), "nothing is written");
    }
    /// <summary>The model's preprocessing resizes every image to 224x224, so --size would only resample twice (the fifth
    /// audit's --size 16384x16384 took 3.9 GB to end at 224x224): refused, naming why.</summary>
    [Fact]
    public void SizeForAModelWithItsOwnPreprocessing_IsRefused()
    {
        ImageIO.SavePng(P("photo.png"), Photo(90, 160));
        var e = Assert.Throws<ConvGL.Core.ConvGLException>(() =>
            CliRoot.Execute(["features", P("photo.png"), "--stack", "resnet18", "--out", P("maps"), "--size", "4000x4000"]));
        Assert.Equal("features: --size does nothing for resnet18: its preprocessing resizes every image to 224x224; leave --size out", e.Message);
        Assert.False(Directory.Exists(P("maps")));
    }
}
