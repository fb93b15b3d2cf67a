using ConvGL.Core.Onnx;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Onnx;

namespace ConvGL.Core.Tests.Stacks;

/// <summary><c>--normalize</c>: PyTorch's transforms.Normalize as a stack's first layer (InputNormalization).</summary>
public class InputNormalizationTests
{
    private static Tensor Picture(int h, int w, int seed)
    {
        var rng = new Random(seed);
        return Tensor.Chw(3, h, w, Enumerable.Range(0, 3 * h * w).Select(_ => (float)rng.NextDouble()).ToArray());
    }

    /// <summary>(x - mean[c]) / std[c] as PyTorch computes it, in float32.</summary>
    private static Tensor ByHand(Tensor x, float[] mean, float[] std)
    {
        var y = new Tensor(x.Shape);
        int plane = x.H * x.W;
        for (int i = 0; i < x.Length; i++) y.Data[i] = (x.Data[i] - mean[i / plane]) / std[i / plane];
        return y;
    }

    [Fact]
    public void Parse_ImageNet_OneNumberEach_AndOnePerChannel()
    {
        InputNormalization n = InputNormalization.Parse("imagenet");
        Assert.Equal([0.485f, 0.456f, 0.406f], n.Mean);
        Assert.Equal([0.229f, 0.224f, 0.225f], n.Std);
        Assert.Same(n, InputNormalization.Parse(" ImageNet "));
        n = InputNormalization.Parse("0.5/0.25");
        Assert.Equal([0.5f], n.Mean);
        Assert.Equal([0.25f], n.Std);
        n = InputNormalization.Parse("0.1, 0.2, 0.3/1,2,4");
        Assert.Equal([0.1f, 0.2f, 0.3f], n.Mean);
        Assert.Equal([1f, 2f, 4f], n.Std);
        Assert.Equal("(x - mean) / std, mean 0.1, 0.2, 0.3, std 1, 2, 4", n.Describe());
    }

    [Fact]
    public void Parse_Bgr_TheNumbersInTheModelsOrder_ImageNetReversed()
    {
        InputNormalization n = InputNormalization.Parse("bgr:imagenet");
        Assert.True(n.Bgr);
        Assert.Equal([0.406f, 0.456f, 0.485f], n.Mean);
        Assert.Equal([0.225f, 0.224f, 0.229f], n.Std);
        Assert.False(InputNormalization.ImageNet.Bgr);
        n = InputNormalization.Parse("BGR: 0.40784,0.45882,0.48235/0.0039215686");
        Assert.True(n.Bgr);
        Assert.Equal([0.40784f, 0.45882f, 0.48235f], n.Mean);
        Assert.Equal("B, G, R (the picture's channels reversed), then (x - mean) / std, mean 0.40784, 0.45882, 0.48235, std 0.003922", n.Describe());
        Assert.StartsWith("--normalize 'bgr:bgr:0.5/0.5': the mean entry 'bgr:0.5' is not a finite number",
            Assert.Throws<ConvGLException>(() => InputNormalization.Parse("bgr:bgr:0.5/0.5")).Message);
        var gray = Assert.Throws<ConvGLException>(() => InputNormalization.Parse("bgr:0.5/0.5").Apply(StackCatalog.Load("edges")));
        Assert.Equal("--normalize 'bgr:0.5/0.5': bgr: reorders three channels, and stack 'edges' takes 1 (gray); leave bgr: out", gray.Message);
    }

    /// <summary>bgr: (a Caffe-style model fed B, G, R, here 0..255 minus a mean: std 1/255) is one 1x1 conv, output channel c
    /// = (x[2 - c] - mean[c]) / std[c]; the model's maps equal ONNX Runtime's on that input made by hand.</summary>
    [Fact]
    public void Bgr_IsOneConv_ReorderAndNormalise_EqualsOnnxRuntimeOnTheInputByHand()
    {
        byte[] bytes = SmallGraphs.ResidualWithHeadBytes();
        InputNormalization n = InputNormalization.Parse("bgr:0.40784,0.45882,0.48235/0.0039215686");
        Stack stack = n.Apply(OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "small.onnx")), "small"));
        ConvLayer first = Assert.IsType<ConvLayer>(stack.Layers[0]);
        Assert.Equal("normalize", first.Label);
        Assert.Equal([3, 3, 1, 1], first.Weight.Shape);
        Tensor x = Picture(9, 10, 8);
        int plane = 90;
        var byHand = new Tensor(x.Shape);
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < plane; p++) byHand.Data[c * plane + p] = (x.Data[(2 - c) * plane + p] - n.Mean[c]) / n.Std[0];
        StackResult ours = StackRunner.Run(stack, x);
        TestData.AssertClose(byHand, ours.Outputs[0], 1e-4, 1e-6, "bgr: the normalize layer");
        Dictionary<string, float[]> ort = BranchyOpsTests.RunOnnxRuntime(bytes, byHand.Reshape(1, 3, 9, 10), ["y"]);
        BranchyOpsTests.AssertClose(ort["y"], ours.Outputs[^1].Data, "bgr: the head", 1e-5);
    }

    [Theory]
    [InlineData("imagenet1k", "--normalize 'imagenet1k': expected imagenet, or MEAN/STD with one number or one per input channel on each side")]
    [InlineData("0.5", "--normalize '0.5': expected imagenet, or MEAN/STD")]
    [InlineData("0.5/0.5/0.5", "--normalize '0.5/0.5/0.5': expected imagenet, or MEAN/STD")]
    [InlineData("1,2/3", "--normalize '1,2/3': the mean has 2 numbers; give one, or one per channel (3 for RGB)")]
    [InlineData("0.5/1,2,3,4", "--normalize '0.5/1,2,3,4': the std has 4 numbers; give one, or one per channel (3 for RGB)")]
    [InlineData("0.5/0", "--normalize '0.5/0': std entry 0 is 0; each std must be positive (it divides)")]
    [InlineData("0.5/1,-2,1", "--normalize '0.5/1,-2,1': std entry 1 is -2; each std must be positive (it divides)")]
    [InlineData("nan/1", "--normalize 'nan/1': the mean entry 'nan' is not a finite number")]
    [InlineData("0.5/inf", "--normalize '0.5/inf': the std entry 'inf' is not a finite number")]
    [InlineData("0.5/1e-40", "--normalize '0.5/1e-40': std entry 0 is too small for float32")]
    public void Parse_RefusesWithOneLine(string text, string start)
    {
        var e = Assert.Throws<ConvGLException>(() => InputNormalization.Parse(text));
        Assert.StartsWith(start, e.Message);
    }

    /// <summary>A residual model whose add reads the model's input: after the normalisation every layer that read the stack
    /// input reads the normalised one (the add too), every other index moves up by one, and each map equals ONNX Runtime's
    /// for the same model fed (x - mean) / std computed by hand.</summary>
    [Fact]
    public void ResidualModel_NormalisedFirst_EqualsOnnxRuntimeOnTheNormalisedInput_AtEveryLayer()
    {
        byte[] bytes = SmallGraphs.ResidualWithHeadBytes();
        Stack plain = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "small.onnx")), "small");
        int add = plain.Layers.ToList().FindIndex(l => l.Label == "add1");
        Assert.Contains(-1, plain.Layers[add].InputsOf(add));

        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        Stack stack = InputNormalization.ImageNet.Apply(OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "small.onnx")), "small"));
        Assert.Equal(plain.Layers.Count + 1, stack.Layers.Count);
        Assert.IsType<BatchNormLayer>(stack.Layers[0]);
        Assert.Equal("normalize", stack.Layers[0].Label);
        Assert.True(stack.FromOnnx);
        for (int i = 0; i < plain.Layers.Count; i++)
            Assert.Equal(plain.Layers[i].InputsOf(i).Select(j => j + 1), stack.Layers[i + 1].InputsOf(i + 1));
        Assert.Equal([-1], stack.Layers[0].InputsOf(0));
        for (int i = 1; i < stack.Layers.Count; i++) Assert.DoesNotContain(-1, stack.Layers[i].InputsOf(i));
        Assert.Contains(0, stack.Layers[add + 1].InputsOf(add + 1));

        Tensor x = Picture(13, 17, 4);
        StackResult ours = StackRunner.Run(stack, x);
        Tensor normalised = ByHand(x, mean, std);
        TestData.AssertClose(normalised, ours.Outputs[0], 1e-6, 1e-6, "the normalize layer");
        Dictionary<string, float[]> ort = BranchyOpsTests.RunOnnxRuntime(bytes, normalised.Reshape(1, 3, 13, 17), ["a1", "y"]);
        BranchyOpsTests.AssertClose(ort["a1"], ours.Outputs[add + 1].Data, "add1 (reads the normalised input)", 1e-5);
        BranchyOpsTests.AssertClose(ort["y"], ours.Outputs[^1].Data, "the head", 1e-5);
        // Without the normalisation the same model gives other values: the layer is not a no-op.
        Assert.NotEqual(ort["y"], StackRunner.Run(plain, x).Outputs[^1].Data);
    }

    [Fact]
    public void OneNumberEach_SpreadsOverTheChannels_AGrayStackTakesOne()
    {
        Stack gray = StackCatalog.Load("edges");
        Stack stack = InputNormalization.Parse("0.5/0.25").Apply(StackCatalog.Load("edges"));
        Assert.Equal(gray.Layers.Count + 1, stack.Layers.Count);
        var x = Tensor.Chw(1, 4, 4, [0f, 0.25f, 0.5f, 1f, 0f, 0.25f, 0.5f, 1f, 0f, 0.25f, 0.5f, 1f, 0f, 0.25f, 0.5f, 1f]);
        Assert.Equal([-2f, -1f, 0f, 2f, -2f, -1f, 0f, 2f, -2f, -1f, 0f, 2f, -2f, -1f, 0f, 2f], StackRunner.Run(stack, x).Outputs[0].Data);
        var e = Assert.Throws<ConvGLException>(() => InputNormalization.ImageNet.Apply(StackCatalog.Load("edges")));
        Assert.Equal("--normalize 'imagenet': 3 mean values for stack 'edges', which takes 1 channel(s) (gray); give one value or 1", e.Message);
    }

    /// <summary>A model with a preprocessing of its own (the packaged ResNet18's BGR, 0..255, minus a mean image) is not
    /// normalised again; a model whose declared size is its only preprocessing (resized, RGB, 0..1) is.</summary>
    [Fact]
    public void APreprocessingOfItsOwn_IsRefused_ADeclaredSizeIsNot()
    {
        byte[] bytes = SmallGraphs.ResidualWithHeadBytes();
        var own = new ImagePreprocess(16, 16, [2, 1, 0], 255f, Tensor.Chw(3, 16, 16), "pre.onnx");
        Stack model = OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "small.onnx")), "small", own);
        var e = Assert.Throws<ConvGLException>(() => InputNormalization.ImageNet.Apply(model));
        Assert.Equal("--normalize 'imagenet': stack 'small' has its own preprocessing (resized to 16x16 (aspect kept, centre crop), BGR, 0..255); " +
                     "--normalize is for models fed 0..1 pictures", e.Message);
        var size = new ImagePreprocess(16, 16, [0, 1, 2], 1f, Tensor.Chw(3, 16, 16), "small.onnx: its declared input (1, 3, 16, 16)");
        Stack sized = InputNormalization.ImageNet.Apply(OnnxStack.FromGraph(OnnxGraph.Build(OnnxReader.Parse(bytes, "small.onnx")), "small", size));
        Assert.Same(size, sized.Preprocess);
        Assert.Equal("normalize", sized.Layers[0].Label);
    }
}
