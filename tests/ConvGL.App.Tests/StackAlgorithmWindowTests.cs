using System.Globalization;
using ConvGL.App.Live;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Gpu;

namespace ConvGL.App.Tests;

/// <summary>The window's stacks choose per conv layer as `features` does (GpuStackRunner with Auto): a stack file whose
/// conv layer is a 61x61 kernel file runs by FFT at a window-sized source, the HUD's layer line names the choice, that
/// choice is the one `features --stack FILE --device gpu --verbose` prints for the same input, and the window's map
/// equals the CPU reference within the FFT tolerance.</summary>
public sealed class StackAlgorithmWindowTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-stack-algorithm-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    [Fact]
    public void LayerLines_ANamedLayerLeadsWithItsName_AndOnlyAnUnnamedBankListsItsKernels()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        string named = Path.Combine(_dir, "named.json"), plain = Path.Combine(_dir, "plain.json");
        File.WriteAllText(named, """{ "input": "gray", "layers": [ { "type": "conv", "name": "edge bank", "kernels": ["sobel-x", "sobel-y"] }, { "type": "relu" } ] }""");
        File.WriteAllText(plain, """{ "input": "gray", "layers": [ { "type": "conv", "kernels": ["sobel-x", "sobel-y"] } ] }""");
        using GlContext context = GlContext.CreateHeadless();
        using (var pipeline = new StackPipeline(context, named))
        {
            Assert.StartsWith("edge bank: conv 3x3 1->2 zero s1 d1 -> ", pipeline.LayerLabel(0));
            Assert.StartsWith("relu -> ", pipeline.LayerLabel(1));
        }
        using (var pipeline = new StackPipeline(context, plain))
            Assert.StartsWith("conv 3x3 1->2 (sobel-x, sobel-y) zero s1 d1 -> ", pipeline.LayerLabel(0));
        // An unnamed learned conv goes by its weight's name, as its maps and the probe call it ("conv1 0".."conv1 7").
        using (var pipeline = new StackPipeline(context, "learned"))
        {
            Assert.StartsWith("conv1: conv 3x3 1->8 zero s1 d1", pipeline.LayerLabel(0));
            Assert.StartsWith("conv2: conv 3x3 8->16 zero s1 d1", pipeline.LayerLabel(3));
            Assert.StartsWith("relu", pipeline.LayerLabel(1));
            // A pool gives its window and stride as a conv does (the math audit: the line said only "maxpool").
            Assert.StartsWith("maxpool 2x2 s2 -> ", pipeline.LayerLabel(2));
        }
        string pools = Path.Combine(_dir, "pools.json");
        File.WriteAllText(pools, """{ "input": "gray", "layers": [ { "type": "avgpool", "size": 3, "stride": 1, "padding": 1 } ] }""");
        using (var pipeline = new StackPipeline(context, pools))
            Assert.StartsWith("avgpool 3x3 s1 pad 1 -> ", pipeline.LayerLabel(0));
    }

    /// <summary>The UX audit: the filters view draws input channel 0's slice of each kernel, and nothing said so (a 3x3
    /// grey cell read as the whole of conv2's 8-input kernel). The info panel says it; 1 and 3 inputs draw whole.</summary>
    [Fact]
    public void FiltersView_SaysWhichSliceOfAMultiInputKernelItDraws()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        using GlContext context = GlContext.CreateHeadless();
        using var pipeline = new StackPipeline(context, "deep");
        pipeline.Input.Upload(Tensor.Chw(1, 36, 64));
        pipeline.Run();
        var info = new List<string>();
        HudText.AddInfoLines(info, "status", "scene", 64, 36, "filters", pipeline, "llvmpipe", 4, 0, shownLayer: 4);
        Assert.Equal("kernels drawn: input channel 0's slice of the 8 each reads", info[^1]);
        info.Clear();
        HudText.AddInfoLines(info, "status", "scene", 64, 36, "filters", pipeline, "llvmpipe", 1, 0, shownLayer: 1); // conv1: 1 input
        Assert.DoesNotContain(info, l => l.StartsWith("kernels drawn", StringComparison.Ordinal));
        info.Clear();
        HudText.AddInfoLines(info, "status", "scene", 64, 36, "grid", pipeline, "llvmpipe", 4, 0, shownLayer: 4);
        Assert.DoesNotContain(info, l => l.StartsWith("kernels drawn", StringComparison.Ordinal));
    }

    /// <summary>The newcomer audit: with deep's layer 5 shown, layers 6-9 lost their shader tags without a word (the
    /// window runs only the layers its view reads). Their lines say so.</summary>
    [Fact]
    public void LayersTheViewDoesNotNeed_SayNotRun()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        using GlContext context = GlContext.CreateHeadless();
        using var pipeline = new StackPipeline(context, "deep");
        pipeline.Input.Upload(Tensor.Chw(1, 36, 64, Enumerable.Range(0, 36 * 64).Select(v => (v % 17) / 17f).ToArray()));
        pipeline.Run();
        _ = pipeline.LayerOutput(4); // the view reads layer 5's map (0-based 4), and only it
        pipeline.Run();
        Assert.DoesNotContain("run]", pipeline.LayerLabel(4));
        Assert.Contains("[conv2d", pipeline.LayerLabel(4));
        for (int i = 5; i < pipeline.LayerCount; i++) Assert.Contains($" [not{HudText.Nb}run] -> ", pipeline.LayerLabel(i)); // one word: a wrap never splits it
        _ = pipeline.LayerOutput(pipeline.LayerCount - 1);
        pipeline.Run();
        for (int i = 0; i < pipeline.LayerCount; i++) Assert.DoesNotContain("run]", pipeline.LayerLabel(i));
    }

    [Fact]
    public void StackPipeline_BigKernelFile_RunsTheFeaturesChoice_NamesIt_AndEqualsTheReference()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        var rng = new Random(11_0601);
        double[] taps = Enumerable.Range(0, 61 * 61).Select(_ => rng.NextDouble() - 0.3).ToArray();
        double sum = taps.Sum(Math.Abs);
        File.WriteAllLines(Path.Combine(_dir, "big61.txt"),
            taps.Chunk(61).Select(row => string.Join(' ', row.Select(v => (v / sum).ToString("R", CultureInfo.InvariantCulture)))));
        string file = Path.Combine(_dir, "big.json");
        File.WriteAllText(file, """
            { "name": "big", "input": "gray",
              "layers": [ { "type": "conv", "kernels": ["big61.txt"], "border": "reflect" }, { "type": "relu" } ] }
            """);
        var image = Tensor.Chw(1, 90, 160);
        for (int i = 0; i < image.Length; i++) image.Data[i] = (float)rng.NextDouble();
        Npy.Write(Path.Combine(_dir, "in.npy"), image);

        using GlContext context = GlContext.CreateHeadless();
        using var pipeline = new StackPipeline(context, file);
        pipeline.Input.Upload(image);
        pipeline.Run();
        string label = pipeline.LayerLabel(0);
        Assert.Contains(", fft (61x61 kernel, ", label);
        Assert.DoesNotContain("kernel, ", pipeline.LayerLabel(1)); // relu: no choice to name

        var features = ProgressTests.Convgl(_dir, "0", "features", "in.npy", "--stack", file, "--out", "maps", "--device", "gpu", "--verbose");
        Assert.True(features.ExitCode == 0, features.Stderr);
        string line = Assert.Single(features.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        const string prefix = "layers[0] (conv): algorithm: ";
        Assert.StartsWith(prefix, line);
        string choice = line[prefix.Length..line.IndexOf(", input ", StringComparison.Ordinal)];
        Assert.EndsWith(", " + choice, label);

        Stack stack = StackCatalog.Load(file);
        Tensor reference = StackRunner.Run(stack, image).Outputs[0];
        Tensor actual = pipeline.LayerOutput(0).Download();
        Assert.Equal(reference.Shape, actual.Shape);
        double tolerance = ConvTheorem.Tolerance(((ConvLayer)stack.Layers[0]).Weight.Data.Sum(MathF.Abs), 1, reference.Data.Max(MathF.Abs), 1 << 20);
        for (int i = 0; i < reference.Length; i++)
            Assert.True(Math.Abs(reference.Data[i] - actual.Data[i]) <= tolerance, $"value {i}: reference {reference.Data[i]}, window {actual.Data[i]}");
    }
}
