using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;

namespace ConvGL.Core.Learning;

/// <summary>The network `convgl train` learns, named like this PyTorch module so its state_dict names match:
///
///     class SmallCnn(nn.Module):
///         def __init__(self, c1=8, c2=16, size=28, classes=10):
///             self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
///             self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
///             self.fc = nn.Linear(c2 * (size // 4) ** 2, classes)
///         def forward(self, x):
///             x = F.max_pool2d(F.relu(self.conv1(x)), 2)
///             x = F.max_pool2d(F.relu(self.conv2(x)), 2)
///             return self.fc(torch.flatten(x, 1))
///
/// Conv padding 1 with a 3x3 kernel is DESIGN.md's `same` with the zero border.</summary>
public static class SmallCnn
{
    public static readonly ConvOptions ConvOptions = new() { Padding = PaddingMode.Same, Border = Border.Zero };

    public static Sequential Create(int imageSize, int classes, int conv1Channels, int conv2Channels, Random rng)
    {
        int pooled = imageSize / 4;
        return new Sequential(
        [
            ("conv1", Conv2dLayer.Create(1, conv1Channels, 3, ConvOptions, rng)),
            ("relu1", new ReluLayer()),
            ("pool1", new MaxPool2dLayer(2)),
            ("conv2", Conv2dLayer.Create(conv1Channels, conv2Channels, 3, ConvOptions, rng)),
            ("relu2", new ReluLayer()),
            ("pool2", new MaxPool2dLayer(2)),
            ("flatten", new FlattenLayer()),
            ("fc", LinearLayer.Create(conv2Channels * pooled * pooled, classes, rng)),
        ]);
    }

    /// <summary>Rebuilds the network from its state_dict tensors (as read back from a safetensors file), checking
    /// that every tensor is there with a consistent shape.</summary>
    public static Sequential FromTensors(IReadOnlyDictionary<string, Tensor> tensors, int imageSize, string source = "weights")
    {
        Tensor Get(string name, int rank)
        {
            if (!tensors.TryGetValue(name, out Tensor? t)) throw new ConvGLException($"{source}: no tensor '{name}' (a SmallCnn needs conv1, conv2 and fc weights and biases)");
            if (t.Rank != rank) throw new ConvGLException($"{source}: tensor '{name}' has shape {t.ShapeString}, expected rank {rank}");
            return t.Clone();
        }
        Tensor w1 = Get("conv1.weight", 4), w2 = Get("conv2.weight", 4), fcw = Get("fc.weight", 2);
        int pooled = imageSize / 4;
        if (w1.Shape[1] != 1 || w2.Shape[1] != w1.Shape[0] || fcw.Shape[1] != w2.Shape[0] * pooled * pooled)
            throw new ConvGLException($"{source}: shapes conv1 {w1.ShapeString}, conv2 {w2.ShapeString}, fc {fcw.ShapeString} do not chain for {imageSize}x{imageSize} gray input");
        return new Sequential(
        [
            ("conv1", new Conv2dLayer(w1, Get("conv1.bias", 1), ConvOptions)),
            ("relu1", new ReluLayer()),
            ("pool1", new MaxPool2dLayer(2)),
            ("conv2", new Conv2dLayer(w2, Get("conv2.bias", 1), ConvOptions)),
            ("relu2", new ReluLayer()),
            ("pool2", new MaxPool2dLayer(2)),
            ("flatten", new FlattenLayer()),
            ("fc", new LinearLayer(fcw, Get("fc.bias", 1))),
        ]);
    }

    /// <summary>The feature-extraction part of a network (its conv, ReLU and max-pool layers, up to the classifier)
    /// as a gray-input stack whose learned convs name their tensors ("conv1.weight", ...) in <paramref name="weightsFile"/>.</summary>
    public static Stack ToStack(Sequential model, string name, string weightsFile, string? description = null)
    {
        var layers = new List<StackLayer>();
        foreach ((string layerName, Layer layer) in model.Layers)
        {
            switch (layer)
            {
                case Conv2dLayer conv:
                    layers.Add(ConvLayer.Learned(conv.Weight.Value, conv.Bias?.Value.Data, conv.Options, $"{layerName}.weight", conv.Bias is null ? null : $"{layerName}.bias"));
                    break;
                case ReluLayer:
                    layers.Add(new ActivationLayer(ActivationKind.Relu));
                    break;
                case MaxPool2dLayer pool:
                    layers.Add(new PoolLayer(pool.Options));
                    break;
                case AvgPool2dLayer pool:
                    layers.Add(new PoolLayer(pool.Options));
                    break;
                case FlattenLayer:
                    return Build();
                default:
                    throw new ArgumentException($"layer '{layerName}' ({layer.Kind}) has no stack equivalent");
            }
        }
        return Build();

        Stack Build() => new(name, StackInput.Gray, layers, weightsFile) { Description = description };
    }

    public static string Describe(Sequential model, int imageSize)
    {
        IReadOnlyList<int[]> shapes = model.Shapes([1, imageSize, imageSize]);
        return string.Join(" -> ", model.Layers.Select((l, i) => $"{l.Name} ({string.Join("x", shapes[i])})"));
    }
}
