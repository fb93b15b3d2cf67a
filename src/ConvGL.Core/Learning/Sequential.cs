namespace ConvGL.Core.Learning;

/// <summary>Named layers run in order, like PyTorch's nn.Module with attributes conv1, conv2, fc: parameters are
/// named "layer.parameter" ("conv1.weight", "fc.bias"), the names a PyTorch state_dict and a safetensors file use.</summary>
public sealed class Sequential
{
    private readonly List<(string Name, Layer Layer)> _layers;

    public Sequential(IEnumerable<(string Name, Layer Layer)> layers)
    {
        _layers = [.. layers];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string name, _) in _layers)
            if (!seen.Add(name)) throw new ArgumentException($"layer name '{name}' is used twice");
    }

    public IReadOnlyList<(string Name, Layer Layer)> Layers => _layers;

    /// <summary>Every parameter with its full name, in layer order then parameter order (a fixed order: the
    /// optimiser state and the gradient reduction both rely on it).</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> NamedParameters =>
        [.. _layers.SelectMany(l => l.Layer.Parameters.Select(p => ($"{l.Name}.{p.Name}", p)))];

    public IReadOnlyList<Parameter> Parameters => [.. _layers.SelectMany(l => l.Layer.Parameters)];

    public int ParameterCount => Parameters.Sum(p => p.Value.Length);

    public Tensor Forward(Tensor input)
    {
        Tensor x = input;
        foreach ((_, Layer layer) in _layers) x = layer.Forward(x);
        return x;
    }

    /// <summary>Backpropagates dLoss/dOutput through every layer (last first) and returns dLoss/dInput.</summary>
    public Tensor Backward(Tensor gradOutput)
    {
        Tensor g = gradOutput;
        for (int i = _layers.Count - 1; i >= 0; i--) g = _layers[i].Layer.Backward(g);
        return g;
    }

    public void ZeroGrad()
    {
        foreach (Parameter p in Parameters) p.ZeroGrad();
    }

    /// <summary>The shape after every layer for an input shape (what a stack view would lay out).</summary>
    public IReadOnlyList<int[]> Shapes(int[] inputShape)
    {
        var shapes = new List<int[]>();
        int[] s = inputShape;
        foreach ((_, Layer layer) in _layers) shapes.Add(s = layer.OutputShape(s));
        return shapes;
    }

    /// <summary>Same parameter values, private caches and gradient buffers: one per worker thread.</summary>
    public Sequential Replica() => new(_layers.Select(l => (l.Name, l.Layer.Replica())));
}
