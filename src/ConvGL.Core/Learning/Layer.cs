namespace ConvGL.Core.Learning;

/// <summary>One differentiable step of a network on a single sample (no batch dimension: DESIGN.md's tensors
/// are (C, H, W)). <see cref="Forward"/> remembers what <see cref="Backward"/> needs, so a layer instance
/// serves one sample at a time; threads get their own instances through <see cref="Replica"/>.</summary>
public abstract class Layer
{
    /// <summary>The stack-file type of the layer ("conv", "relu", "maxpool", ...).</summary>
    public abstract string Kind { get; }

    public virtual IReadOnlyList<Parameter> Parameters => [];

    /// <summary>Computes the output and keeps what the backward pass needs.</summary>
    public abstract Tensor Forward(Tensor input);

    /// <summary>Given dLoss/dOutput of the last <see cref="Forward"/>, adds dLoss/dParameter into every
    /// parameter's <see cref="Parameter.Grad"/> and returns dLoss/dInput.</summary>
    public abstract Tensor Backward(Tensor gradOutput);

    /// <summary>The output shape for an input shape, without running anything.</summary>
    public abstract int[] OutputShape(int[] inputShape);

    /// <summary>A copy that shares the parameter values but has its own cached state and gradient buffers.</summary>
    public abstract Layer Replica();

    private protected Tensor? Input;

    private protected Tensor SavedInput(string layer) =>
        Input ?? throw new InvalidOperationException($"{layer}: Backward called before Forward");

    private protected static void CheckGradShape(Tensor gradOutput, int[] expected, string layer)
    {
        if (!gradOutput.Shape.AsSpan().SequenceEqual(expected))
            throw new ArgumentException($"{layer}: gradient shape {gradOutput.ShapeString} does not match the output shape {Tensor.ShapeText(expected)}");
    }
}
