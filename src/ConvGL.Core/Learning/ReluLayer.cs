namespace ConvGL.Core.Learning;

/// <summary>max(0, x). The gradient passes where the input was positive; at exactly 0 it is taken as 0,
/// as PyTorch does.</summary>
public sealed class ReluLayer : Layer
{
    public override string Kind => "relu";

    public override Tensor Forward(Tensor input)
    {
        Input = input;
        var output = new Tensor(input.Shape);
        for (int i = 0; i < input.Length; i++) output.Data[i] = input.Data[i] > 0f ? input.Data[i] : 0f;
        return output;
    }

    public override Tensor Backward(Tensor gradOutput)
    {
        Tensor input = SavedInput("relu");
        CheckGradShape(gradOutput, input.Shape, "relu");
        var gradIn = new Tensor(input.Shape);
        for (int i = 0; i < input.Length; i++) gradIn.Data[i] = input.Data[i] > 0f ? gradOutput.Data[i] : 0f;
        return gradIn;
    }

    public override int[] OutputShape(int[] inputShape) => (int[])inputShape.Clone();

    public override Layer Replica() => new ReluLayer();
}
