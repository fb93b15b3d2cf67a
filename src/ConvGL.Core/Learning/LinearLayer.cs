namespace ConvGL.Core.Learning;

/// <summary>PyTorch's Linear on one vector: out = W x + b with weight (out, in) and bias (out).
/// Backward: dW[o, i] += g[o] x[i], db[o] += g[o], dx[i] = sum_o W[o, i] g[o].</summary>
public sealed class LinearLayer : Layer
{
    public Parameter Weight { get; }
    public Parameter Bias { get; }

    public override string Kind => "linear";
    public override IReadOnlyList<Parameter> Parameters => [Weight, Bias];

    public int InFeatures => Weight.Value.Shape[1];
    public int OutFeatures => Weight.Value.Shape[0];

    public LinearLayer(Tensor weight, Tensor bias) : this(new Parameter("weight", weight), new Parameter("bias", bias))
    {
        if (weight.Rank != 2) throw new ArgumentException($"linear weight must be (out, in), got {weight.ShapeString}");
        if (bias.Rank != 1 || bias.Length != weight.Shape[0])
            throw new ArgumentException($"linear bias must be ({weight.Shape[0]},), got {bias.ShapeString}");
    }

    private LinearLayer(Parameter weight, Parameter bias)
    {
        Weight = weight;
        Bias = bias;
    }

    /// <summary>PyTorch's default initialisation: weight and bias U(-1/sqrt(in), 1/sqrt(in)).</summary>
    public static LinearLayer Create(int inFeatures, int outFeatures, Random rng)
    {
        var weight = new Tensor([outFeatures, inFeatures]);
        var bias = new Tensor([outFeatures]);
        double bound = 1.0 / Math.Sqrt(inFeatures);
        Init.Uniform(weight.Data, bound, rng);
        Init.Uniform(bias.Data, bound, rng);
        return new LinearLayer(weight, bias);
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 1 || input.Length != InFeatures)
            throw new ConvGLException($"linear layer expects a vector of {InFeatures}, got {input.ShapeString}");
        Input = input;
        var output = new Tensor([OutFeatures]);
        float[] w = Weight.Value.Data;
        for (int o = 0; o < OutFeatures; o++)
        {
            double sum = Bias.Value.Data[o];
            int row = o * InFeatures;
            for (int i = 0; i < InFeatures; i++) sum += (double)w[row + i] * input.Data[i];
            output.Data[o] = (float)sum;
        }
        return output;
    }

    public override Tensor Backward(Tensor gradOutput)
    {
        Tensor input = SavedInput("linear");
        CheckGradShape(gradOutput, [OutFeatures], "linear");
        float[] w = Weight.Value.Data;
        double[] gradIn = new double[InFeatures];
        for (int o = 0; o < OutFeatures; o++)
        {
            double g = gradOutput.Data[o];
            Bias.Grad[o] += g;
            int row = o * InFeatures;
            for (int i = 0; i < InFeatures; i++)
            {
                Weight.Grad[row + i] += g * input.Data[i];
                gradIn[i] += g * w[row + i];
            }
        }
        return Init.ToTensor(input.Shape, gradIn);
    }

    public override int[] OutputShape(int[] inputShape) => [OutFeatures];

    public override Layer Replica() => new LinearLayer(Weight.ShareValue(), Bias.ShareValue());
}
