namespace ConvGL.Core.Learning;

/// <summary>(C, H, W) to a vector of C*H*W in row-major order: the order PyTorch's nn.Flatten uses, so a
/// Linear layer's weight columns line up with a PyTorch model's.</summary>
public sealed class FlattenLayer : Layer
{
    public override string Kind => "flatten";

    public override Tensor Forward(Tensor input)
    {
        Input = input;
        return new Tensor([input.Length], (float[])input.Data.Clone());
    }

    public override Tensor Backward(Tensor gradOutput)
    {
        Tensor input = SavedInput("flatten");
        CheckGradShape(gradOutput, [input.Length], "flatten");
        return new Tensor(input.Shape, (float[])gradOutput.Data.Clone());
    }

    public override int[] OutputShape(int[] inputShape) => [inputShape.Aggregate(1, (a, b) => a * b)];

    public override Layer Replica() => new FlattenLayer();
}
