using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Stacks;
using Google.Protobuf;
using OpenCvSharp;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>The shipped resnet18 stack's image preprocessing: read from the package's ResNetPreprocess.onnx, run by
/// ConvGL, equal to ONNX Runtime running that model; the resize equal to OpenCV's INTER_LINEAR on the centre crop.</summary>
public class ImagePreprocessTests
{
    private static Tensor Photo(int h, int w, int seed)
    {
        var rng = new Random(seed);
        var t = Tensor.Chw(3, h, w);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    t[c, y, x] = (float)Math.Clamp(0.5 + 0.4 * Math.Sin(0.07 * x * (c + 1) + 0.05 * y) + 0.1 * (rng.NextDouble() - 0.5), 0, 1);
        return t;
    }

    private static double MaxAbs(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs((double)a[i] - b[i]));
        return m;
    }

    [Fact]
    public void ResNetPreprocess_FromThePackage_IsBgr0To255MinusTheMeanImageAt224()
    {
        ImagePreprocess p = PackagedModels.PreprocessFor(ResNet18.ModelPath)!;
        Assert.Equal((224, 224), (p.Height, p.Width));
        Assert.Equal([2, 1, 0], p.ChannelOrder);
        Assert.Equal(255f, p.PixelScale);
        // The mean image: per-pixel values around the classic ImageNet BGR means (about 103, 116, 123).
        for (int c = 0; c < 3; c++)
        {
            double mean = p.Mean.Data.Skip(c * 224 * 224).Take(224 * 224).Average(v => (double)v);
            Assert.InRange(mean, new[] { 98.0, 111.0, 118.0 }[c], new[] { 108.0, 121.0, 128.0 }[c]);
        }
        Assert.True(p.Mean.Data.Take(224 * 224).Distinct().Count() > 1000, "a mean image, not one value per channel");
    }

    [Fact]
    public void Apply_At224_EqualsOnnxRuntimeRunningResNetPreprocess()
    {
        ImagePreprocess p = PackagedModels.PreprocessFor(ResNet18.ModelPath)!;
        Tensor image = Photo(224, 224, 1);
        Tensor ours = p.Apply(image);
        var bytes = new Tensor([1, 3, 224, 224], image.Data.Select(v => v * 255f).ToArray());
        float[] ort = ResNet18.RunPreprocessOnnxRuntime(bytes);
        Assert.True(MaxAbs(ours.Data, ort) <= 1e-4, $"max |ConvGL - ORT| {MaxAbs(ours.Data, ort):G3}");
    }

    /// <summary>A 448x600 image: scale 1/2, a 448x448 centre crop starting at column 76. OpenCV's INTER_LINEAR resize of
    /// that crop, then ONNX Runtime's ResNetPreprocess, must give what ConvGL gives.</summary>
    [Theory]
    [InlineData(448, 600)]
    [InlineData(672, 336)]
    public void Apply_ResizesAndCropsLikeOpenCvOnTheCentreCrop(int h, int w)
    {
        ImagePreprocess p = PackagedModels.PreprocessFor(ResNet18.ModelPath)!;
        Tensor image = Photo(h, w, 2);
        (double top, double left, double scale) = p.Crop(h, w);
        Assert.Equal(224.0 / Math.Min(h, w), scale);
        int side = Math.Min(h, w);
        Assert.Equal(((h - side) / 2.0, (w - side) / 2.0), (top, left));
        var resized = new Tensor([1, 3, 224, 224]);
        for (int c = 0; c < 3; c++)
        {
            using var plane = new Mat(side, side, MatType.CV_32FC1);
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++)
                    plane.Set(y, x, image[c, (int)top + y, (int)left + x]);
            using var small = new Mat();
            Cv2.Resize(plane, small, new Size(224, 224), 0, 0, InterpolationFlags.Linear);
            for (int y = 0; y < 224; y++)
                for (int x = 0; x < 224; x++)
                    resized.Data[(c * 224 + y) * 224 + x] = small.At<float>(y, x) * 255f;
        }
        float[] oracle = ResNet18.RunPreprocessOnnxRuntime(resized);
        Tensor ours = p.Apply(image);
        Assert.True(MaxAbs(ours.Data, oracle) <= 2e-3, $"max |ConvGL - OpenCV+ORT| {MaxAbs(ours.Data, oracle):G3} (0..255 scale)");
    }

    [Fact]
    public void Apply_WorkedExample_OnePixelImageIsItsValueEverywhere()
    {
        // A 1x1 image covers any target: every output pixel samples it. RGB (0.2, 0.4, 0.6) -> BGR * 10 - mean.
        var mean = Tensor.Chw(3, 2, 3, Enumerable.Range(0, 18).Select(i => (float)i).ToArray());
        var p = new ImagePreprocess(2, 3, [2, 1, 0], 10f, mean, "test");
        Tensor y = p.Apply(Tensor.Chw(3, 1, 1, [0.2f, 0.4f, 0.6f]));
        float[] want = Enumerable.Range(0, 18).Select(i => new[] { 6f, 4f, 2f }[i / 6] - i).ToArray();
        for (int i = 0; i < 18; i++) Assert.Equal(want[i], y.Data[i], 5);
    }

    [Fact]
    public void PreprocessingModel_WithAnUnsupportedNode_IsOneErrorNamingIt()
    {
        var g = new GraphProto { Name = "pre" };
        g.Input.Add(ProtoBuilders.Value("img", 1, 3, 4, 4));
        g.Output.Add(ProtoBuilders.Value("out"));
        g.Node.Add(new NodeProto { Name = "scale", OpType = "Mul", Input = { "img", "k" }, Output = { "out" } });
        g.Initializer.Add(ProtoBuilders.FloatData("k", [2f], 1));
        var m = new ModelProto { IrVersion = 7, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        var e = Assert.Throws<ConvGLException>(() => ImagePreprocess.FromModel(OnnxReader.Parse(m.ToByteArray(), "pre.onnx"), 255f));
        Assert.StartsWith("pre.onnx: node 'scale' (Mul): op Mul is not supported in a preprocessing model", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Resnet18_ResolvesToThePackagedModel_WithItsPreprocessing()
    {
        Assert.Equal(Path.GetFullPath(ResNet18.ModelPath), Path.GetFullPath(StackCatalog.Resolve("resnet18")));
        Stack stack = StackCatalog.Load("resnet18");
        Assert.Equal("resnet18", stack.Name);
        Assert.Equal(52, stack.Layers.Count);
        Assert.NotNull(stack.Preprocess);
        // A copy of the same file elsewhere is an ordinary .onnx: fed as is.
        using var dir = new TempDir();
        string copy = dir.File("ResNet18.onnx");
        File.Copy(ResNet18.ModelPath, copy);
        Assert.Null(PackagedModels.PreprocessFor(copy));
    }

    [Fact]
    public void MissingPackagedModel_IsOneErrorSayingHowToFetchIt()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ConvGLException>(() => PackagedModels.Locate(PackagedModels.ResNet18, dir.Path));
        Assert.Contains("stack 'resnet18': ResNet18.onnx is not in the NuGet cache", e.Message);
        Assert.Contains("dotnet build src/ConvGL.App", e.Message);
        Assert.Contains("Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
