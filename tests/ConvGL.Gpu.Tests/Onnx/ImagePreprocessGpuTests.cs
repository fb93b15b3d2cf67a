using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu.Onnx;
using ConvGL.Gpu.Stacks;
using Google.Protobuf;

namespace ConvGL.Gpu.Tests.Onnx;

/// <summary>A packaged model's preprocessing on the GPU (shaders/image_preprocess.comp) == ImagePreprocess.Apply, for
/// sources smaller, larger, wider and taller than the model; and the stack runner preprocesses the window's source
/// before its layers.</summary>
[Collection(GlCollection.Name)]
public sealed class ImagePreprocessGpuTests(GlFixture fixture)
{
    private static Tensor Random01(int c, int h, int w, int seed)
    {
        var rng = new Random(seed);
        return Tensor.Chw(c, h, w, Enumerable.Range(0, c * h * w).Select(_ => (float)rng.NextDouble()).ToArray());
    }

    private static void AssertClose(Tensor want, Tensor got, double abs, string what)
    {
        Assert.True(want.SameShape(got), $"{what}: CPU {want.ShapeString}, GPU {got.ShapeString}");
        double diff = 0;
        for (int i = 0; i < want.Length; i++) diff = Math.Max(diff, Math.Abs((double)want.Data[i] - got.Data[i]));
        Assert.True(diff <= abs, $"{what}: max |GPU - CPU| {diff:G3} > {abs}");
    }

    [Theory]
    [InlineData(224, 224)]
    [InlineData(360, 640)]
    [InlineData(480, 270)]
    [InlineData(97, 61)]
    [InlineData(1, 1)]
    public void GpuPreprocess_EqualsCpu_OnTheResNetPreprocessing(int h, int w)
    {
        ImagePreprocess p = PackagedModels.PreprocessFor(ResNet18.ModelPath)!;
        Tensor image = Random01(3, h, w, h + w);
        using var op = new GpuImagePreprocess(fixture.Context, p);
        using GpuTensor input = GpuTensor.From(fixture.Context, image);
        using var output = new GpuTensor(fixture.Context);
        op.Run(input, output);
        // Values are 0..255 minus ~100..130. The GPU computes sample positions in float32 (about 3e-5 pixel off at
        // coordinates of a few hundred), and noise changes by up to 255 per pixel: 1e-4 of the 0..255 range.
        AssertClose(p.Apply(image), output.Download(), 255 * 1e-4, $"{h}x{w}");
    }

    [Fact]
    public void StackRunner_WithPreprocessing_RunsTheSourceThroughItFirst_AndPlansAtTheModelSize()
    {
        var rng = new Random(5);
        var mean = Tensor.Chw(3, 20, 24, Enumerable.Range(0, 3 * 20 * 24).Select(_ => (float)rng.NextDouble() * 100).ToArray());
        var pre = new ImagePreprocess(20, 24, [2, 1, 0], 255f, mean, "test");
        Stack stack = OnnxStack.FromGraph(SmallGraphs.ResidualWithHead(), "small", pre);
        Tensor source = Random01(3, 45, 70, 6);
        using var runner = new GpuStackRunner(fixture.Context, stack, 45, 70);
        Assert.Equal((20, 24), (runner.Plan.Input.H, runner.Plan.Input.W));
        runner.Input.Upload(source);
        runner.Run();
        StackResult cpu = StackRunner.Run(stack, pre.Apply(source));
        AssertClose(cpu.Input, runner.StackInput.Download(), 255 * 1e-4, "preprocessed input");
        for (int i = 0; i < stack.Layers.Count; i++)
        {
            Tensor want = cpu.Outputs[i], got = runner.Output(i).Download();
            double scale = Math.Max(1e-6, want.Data.Max(v => Math.Abs((double)v)));
            AssertClose(want, got, 1e-3 * scale, $"layer {i} ({stack.Layers[i].Type})");
        }
    }

    /// <summary>From a hostile-input review: a gray model that declares a fixed size ((1, 1, 8, 10)) ran on a 45x70
    /// picture at 45x70. Now its image is resized as an RGB model's is (aspect kept, centre crop), its one channel the
    /// picture's gray: the CPU stack, the GPU runner (its preprocessing pass at one channel) and ONNX Runtime on the
    /// preprocessed input agree, and the plan is the model's size.</summary>
    [Fact]
    public void AGrayModelOfAFixedSize_ResizesItsImage_OnBothDevices_AsOnnxRuntimeSees()
    {
        var g = new GraphProto { Name = "g" };
        g.Input.Add(ProtoBuilders.Value("x", 1, 1, 8, 10));
        var rng = new Random(41);
        g.Initializer.Add(ProtoBuilders.FloatData("w", ProtoBuilders.R(rng, 2 * 9), 2, 1, 3, 3));
        g.Initializer.Add(ProtoBuilders.FloatData("b", [0.25f, -0.5f], 2));
        ProtoBuilders.Node(g, "conv", "Conv", ["x", "w", "b"], "y", ProtoBuilders.Ints("pads", 1, 1, 1, 1));
        g.Output.Add(ProtoBuilders.Value("y"));
        byte[] bytes = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }.ToByteArray();
        string file = Path.Combine(Path.GetTempPath(), $"convgl-gray-{Environment.ProcessId}.onnx");
        File.WriteAllBytes(file, bytes);
        Stack stack;
        try
        {
            stack = OnnxStack.Load(file);
        }
        finally
        {
            File.Delete(file);
        }
        Assert.Equal(StackInput.Gray, stack.Input);
        Assert.Equal((8, 10, 1), (stack.Preprocess!.Height, stack.Preprocess.Width, stack.Preprocess.Channels));
        Tensor gray = Random01(1, 45, 70, 9);
        Tensor prepared = stack.Preprocess.Apply(gray);
        StackResult cpu = StackRunner.Run(stack, prepared);
        using var runner = new GpuStackRunner(fixture.Context, stack, 45, 70);
        Assert.Equal((8, 10), (runner.Plan.Input.H, runner.Plan.Input.W));
        runner.Input.Upload(gray);
        runner.Run();
        AssertClose(prepared, runner.StackInput.Download(), 1e-5, "preprocessed input");
        AssertClose(cpu.Outputs[^1], runner.Output(stack.Layers.Count - 1).Download(), 1e-5, "conv");
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(bytes);
        using var results = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("x",
            new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(prepared.Data, [1, 1, 8, 10]))]);
        AssertClose(Tensor.Chw(2, 8, 10, results.First().AsEnumerable<float>().ToArray()), cpu.Outputs[^1], 1e-5, "against ONNX Runtime");
    }
}
