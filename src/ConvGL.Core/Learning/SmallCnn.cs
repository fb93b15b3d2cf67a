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

    public static string Describe(Sequential model, int imageSize)
    {
        IReadOnlyList<int[]> shapes = model.Shapes([1, imageSize, imageSize]);
        return string.Join(" -> ", model.Layers.Select((l, i) => $"{l.Name} ({string.Join("x", shapes[i])})"));
    }
}
