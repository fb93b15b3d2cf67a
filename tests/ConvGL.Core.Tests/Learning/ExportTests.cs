using System.Diagnostics;
using System.Globalization;
using ConvGL.Core.IO;
using ConvGL.Core.Learning;
using ConvGL.Core.Stacks;

namespace ConvGL.Core.Tests.Learning;

/// <summary>What training writes plugs into the rest of ConvGL: the safetensors round trip rebuilds the same
/// network, the exported stack computes the network's own feature maps, and the shipped learned weights work.</summary>
public class ExportTests(ITestOutputHelper output)
{
    [Fact]
    public void ExportedStackAndWeights_ReproduceTheNetworkExactly()
    {
        Sequential model = SmallCnn.Create(16, 10, 4, 6, new Random(5));
        using var dir = new TempDir();
        SafeTensors.Write(dir.File("net.safetensors"), model.NamedParameters.ToDictionary(p => p.Name, p => p.Parameter.Value));
        Stack stack = SmallCnn.ToStack(model, "net", "net.safetensors");
        File.WriteAllText(dir.File("net.json"), StackWriter.ToJson(stack));

        Tensor image = SyntheticShapes.Generate(3, 9, 16)[2].Image;
        // The network's maps after each of its first six layers (conv1 .. pool2).
        var expected = new List<Tensor>();
        Tensor x = image;
        foreach ((_, Layer layer) in model.Layers.Take(6)) expected.Add(x = layer.Forward(x));

        StackResult run = StackRunner.Run(StackFile.Load(dir.File("net.json")), image);
        Assert.Equal(6, run.Outputs.Count);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(expected[i].Shape, run.Outputs[i].Shape);
            Assert.True(expected[i].Data.SequenceEqual(run.Outputs[i].Data), $"layer {i} ({model.Layers[i].Name}): stack output differs from the network's");
        }

        Sequential reloaded = SmallCnn.FromTensors(SafeTensors.Read(dir.File("net.safetensors")), 16);
        Assert.True(model.Forward(image).Data.SequenceEqual(reloaded.Forward(image).Data), "logits differ after the safetensors round trip");
    }

    [Fact]
    public void FromTensors_MissingOrMismatchedTensor_IsAClearError()
    {
        Sequential model = SmallCnn.Create(16, 10, 4, 6, new Random(5));
        var tensors = model.NamedParameters.ToDictionary(p => p.Name, p => p.Parameter.Value);
        tensors.Remove("fc.bias");
        Assert.Contains("'fc.bias'", Assert.Throws<ConvGLException>(() => SmallCnn.FromTensors(tensors, 16, "w.safetensors")).Message);
        tensors["fc.bias"] = new Tensor([10]);
        Assert.Contains("do not chain", Assert.Throws<ConvGLException>(() => SmallCnn.FromTensors(tensors, 20, "w.safetensors")).Message);
    }

    private static string OracleScript
    {
        get
        {
            for (string? d = AppContext.BaseDirectory; d is not null; d = Path.GetDirectoryName(d))
            {
                string candidate = Path.Combine(d, "tests", "ConvGL.Core.Tests", "Learning", "numpy_cnn_oracle.py");
                if (File.Exists(candidate)) return candidate;
            }
            throw new InvalidOperationException("numpy_cnn_oracle.py not found above " + AppContext.BaseDirectory);
        }
    }

    private static void RunPython(params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"/usr/bin/python3 {string.Join(" ", args)} failed ({p.ExitCode}): {err}");
    }

    /// <summary>The shipped assets/stacks/learned.safetensors (made by `convgl train`, see learned.json) classifies
    /// fresh synthetic images, drawn with a seed training never used, far above chance (10%): at least 90%.</summary>
    [Fact]
    public void ShippedLearnedWeights_ClassifyFreshImages()
    {
        string dir = StackCatalog.ShippedDirectory() ?? throw new InvalidOperationException("assets/stacks not found above the test binary");
        string path = Path.Combine(dir, "learned.safetensors");
        Assert.True(File.Exists(path), $"{path} is missing: run the command in assets/stacks/learned.json");
        SafeTensorsContent content = SafeTensors.ReadContent(path);
        int size = content.Tensors["fc.weight"].Shape[1] / content.Tensors["conv2.weight"].Shape[0];
        size = (int)Math.Round(Math.Sqrt(size)) * 4;
        Sequential model = SmallCnn.FromTensors(content.Tensors, size, path);
        IReadOnlyList<Sample> fresh = SyntheticShapes.Generate(500, 424242, size);
        (double loss, double accuracy) = Trainer.Evaluate(model, fresh);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{path}: {content.Metadata.GetValueOrDefault("command")}; fresh accuracy {accuracy:P1}, loss {loss:F4}"));
        Assert.True(accuracy >= 0.90, $"shipped weights reach only {accuracy:P1} on 500 fresh {size}x{size} images (seed 424242)");

        // An independent NumPy forward pass (numpy_cnn_oracle.py, sharing no code) on the same file gives the same
        // logits: float64 there, float32 storage with double accumulation here, so abs 1e-4 + rel 1e-4.
        using var tmp = new TempDir();
        IReadOnlyList<Sample> some = fresh.Take(40).ToArray();
        var batch = new Tensor([some.Count, 1, size, size]);
        for (int n = 0; n < some.Count; n++) some[n].Image.Data.CopyTo(batch.Data, n * size * size);
        Npy.Write(tmp.File("images.npy"), batch);
        RunPython(OracleScript, path, tmp.File("images.npy"), tmp.File("logits.npy"));
        Tensor expected = Npy.Read(tmp.File("logits.npy"));
        for (int n = 0; n < some.Count; n++)
        {
            Tensor logits = model.Forward(some[n].Image);
            TestData.AssertClose(new Tensor([logits.Length], expected.Data.AsSpan(n * logits.Length, logits.Length).ToArray()), logits, 1e-4, 1e-4,
                $"shipped SmallCnn logits vs NumPy, image {n} (class {SyntheticShapes.ClassNames[some[n].Label]})");
        }

        // And the shipped stack file loads them.
        Stack stack = StackFile.Load(Path.Combine(dir, "learned.json"));
        Assert.Equal("learned.safetensors", stack.WeightsFile);
        Assert.True(((ConvLayer)stack.Layers[0]).Weight.Data.SequenceEqual(content.Tensors["conv1.weight"].Data));
    }
}
