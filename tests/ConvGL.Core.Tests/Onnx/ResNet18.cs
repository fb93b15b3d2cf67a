using System.Reflection;
using ConvGL.Core.Onnx;
using ConvGL.Core.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>The real trained model the tests use: ResNet18 (ImageNet) from the NuGet package
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1, which the test project restores with a PackageDownload into
/// the NuGet cache (never committed), and ONNX Runtime as the independent oracle.</summary>
public static class ResNet18
{
    public const string Input = "Input247";
    public const string Output = "Pooling395_Output_0";

    /// <summary>The model's path in the NuGet cache (the package root is baked in at build time; where it is absent, the
    /// one <see cref="PackagedModels.PackageRoot"/> finds).</summary>
    public static string ModelPath
    {
        get
        {
            string root = typeof(ResNet18).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .First(a => a.Key == "NuGetPackageRoot").Value ?? "";
            // A build carried to another machine (scripts/gpu-machine.sh): the cache there, as the app looks for it.
            if (!Directory.Exists(root)) root = PackagedModels.PackageRoot();
            string path = Path.Combine(root, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.23.1", "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
            Assert.True(File.Exists(path), $"{path} is missing: `dotnet restore` of the test project downloads it (PackageDownload)");
            return path;
        }
    }

    /// <summary>The package's preprocessing model (BGR, minus a mean image), next to the model in the same package.</summary>
    public static string PreprocessPath => Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(ModelPath)!)!, "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    /// <summary>ONNX Runtime running ResNetPreprocess.onnx on a (1, 3, 224, 224) input.</summary>
    public static float[] RunPreprocessOnnxRuntime(Tensor input)
    {
        using var session = new InferenceSession(PreprocessPath);
        var tensor = new DenseTensor<float>(input.Data, [1, 3, 224, 224]);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results =
            session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), tensor)]);
        return results.Single().AsEnumerable<float>().ToArray();
    }

    /// <summary>The model's bytes for a (1, 3, size, size) input: the declared input shape changed and the final 7x7
    /// AveragePool (the whole 224-input map) replaced by the GlobalAveragePool it equals, so the same trained network
    /// runs on a smaller input in a fraction of the time. Unknown fields survive the round trip.</summary>
    public static byte[] ModelAtSize(int size)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(ModelPath));
        TensorShapeProto shape = model.Graph.Input.Single(i => i.Name == Input).Type.TensorType.Shape;
        shape.Dim[2].DimValue = size;
        shape.Dim[3].DimValue = size;
        NodeProto pool = model.Graph.Node.Single(n => n.OpType == "AveragePool");
        pool.OpType = "GlobalAveragePool";
        pool.Attribute.Clear();
        return model.ToByteArray();
    }

    /// <summary>A (1, 3, 224, 224) input in the model's preprocessed range (BGR 0..255 minus the mean, so about
    /// -128..128): smooth oriented gratings and a disc (photo-like structure: edges, blobs, gradients) when
    /// <paramref name="structured"/>, else uniform noise. Deterministic.</summary>
    public static Tensor GeneratedInput(bool structured, int size = 224, int seed = 12)
    {
        var rng = new Random(seed);
        var t = new Tensor([1, 3, size, size]);
        double f = 224.0 / size;
        for (int c = 0; c < 3; c++)
            for (int yi = 0; yi < size; yi++)
                for (int xi = 0; xi < size; xi++)
                {
                    double v, x = xi * f, y = yi * f;
                    if (structured)
                    {
                        double grating = Math.Sin((x * Math.Cos(0.5 * c) + y * Math.Sin(0.5 * c)) * 0.15);
                        bool disc = (x - 120) * (x - 120) + (y - 100) * (y - 100) < 45 * 45;
                        v = 60 * grating + (disc ? 70 - 30 * c : -20) + 0.3 * (x - 112) + 8 * (rng.NextDouble() - 0.5);
                    }
                    else
                    {
                        v = 256 * (rng.NextDouble() - 0.5);
                    }
                    t.Data[(c * size + yi) * size + xi] = (float)v;
                }
        return t;
    }

    /// <summary>ONNX Runtime's values for <paramref name="names"/> (the graph output and any intermediate value,
    /// exposed by adding graph outputs to a copy of the model: unknown fields survive the round trip).</summary>
    public static Dictionary<string, float[]> RunOnnxRuntime(byte[] modelBytes, Tensor input, IReadOnlyCollection<string> names)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(modelBytes);
        foreach (string n in names)
            if (model.Graph.Output.All(o => o.Name != n))
                model.Graph.Output.Add(new ValueInfoProto { Name = n, Type = new TypeProto { TensorType = new TensorTypeProto { ElemType = 1 } } });
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(model.ToByteArray(), options);
        var tensor = new DenseTensor<float>(input.Data, input.Shape);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results =
            session.Run([NamedOnnxValue.CreateFromTensor(Input, tensor)], names.ToArray());
        return results.ToDictionary(r => r.Name, r => r.AsEnumerable<float>().ToArray());
    }

    /// <summary>max |a - b| over max |b|.</summary>
    public static double RelativeMaxError(float[] got, float[] expected)
    {
        Assert.Equal(expected.Length, got.Length);
        double diff = 0, scale = 0;
        for (int i = 0; i < got.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs((double)got[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }
        return diff / scale;
    }
}
