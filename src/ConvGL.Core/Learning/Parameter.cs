namespace ConvGL.Core.Learning;

/// <summary>A trainable tensor and the gradient of the loss with respect to it. The value is float32 (it is
/// what gets saved and run on the GPU); the gradient is double, because it is a sum over many output
/// positions and batch items, and float32 sums of that length lose the small terms that matter late in training.</summary>
public sealed class Parameter
{
    /// <summary>The name within its layer ("weight", "bias"); <see cref="Sequential"/> prefixes the layer name.</summary>
    public string Name { get; }
    public Tensor Value { get; }
    public double[] Grad { get; }

    public Parameter(string name, Tensor value)
    {
        Name = name;
        Value = value;
        Grad = new double[value.Length];
    }

    /// <summary>A parameter that shares this one's value (so an optimiser step is seen by both) but has its own
    /// gradient buffer: how a worker thread gets a private place to accumulate.</summary>
    public Parameter ShareValue() => new(Name, Value);

    public void ZeroGrad() => Array.Clear(Grad);
}
