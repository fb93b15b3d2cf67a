using ConvGL.Core.Ops;

namespace ConvGL.Core.Learning;

/// <summary>PyTorch's Conv2d on one (C_in, H, W) sample: weight (C_out, C_in / groups, kH, kW), bias (C_out).
/// The forward pass is <see cref="Conv2D.Apply"/> itself, so a trained layer computes exactly what the
/// reference (and so the GPU) computes when the weights are loaded into a stack.
///
/// Backward, for every output (o, y, x) with upstream gradient g and every tap (c, i, j) that reads
/// in_pad[c, y*sy + i*dy, x*sx + j*dx]:
///
///     dBias[o] += g
///     dW[o, c, i, j] += g * in_pad[...]
///     dIn[source of in_pad[...]] += g * w[o, c, i, j]
///
/// "Source" is the pixel the border maps the padded position to (<see cref="Borders.Map"/>): under zero
/// padding a tap outside the image reads a constant and passes no gradient, under reflect or wrap it reads a
/// real pixel and the gradient flows back to that pixel. Under convolve the kernel index is rotated first.</summary>
public sealed class Conv2dLayer : Layer
{
    public Parameter Weight { get; }
    public Parameter? Bias { get; }
    public ConvOptions Options { get; }

    public override string Kind => "conv";
    public override IReadOnlyList<Parameter> Parameters => Bias is null ? [Weight] : [Weight, Bias];

    public int OutChannels => Weight.Value.Shape[0];
    public int InChannels => Weight.Value.Shape[1] * Options.Groups;

    public Conv2dLayer(Tensor weight, Tensor? bias, ConvOptions options)
        : this(new Parameter("weight", weight), bias is null ? null : new Parameter("bias", bias), options)
    {
        if (weight.Rank != 4) throw new ArgumentException($"conv weight must be (C_out, C_in/groups, kH, kW), got {weight.ShapeString}");
        if (bias is not null && (bias.Rank != 1 || bias.Length != weight.Shape[0]))
            throw new ArgumentException($"conv bias must be ({weight.Shape[0]}), got {bias.ShapeString}");
        if (options.Groups < 1 || weight.Shape[0] % options.Groups != 0)
            throw new ArgumentException($"groups {options.Groups} must divide C_out {weight.Shape[0]}");
    }

    private Conv2dLayer(Parameter weight, Parameter? bias, ConvOptions options)
    {
        Weight = weight;
        Bias = bias;
        Options = options;
    }

    /// <summary>A new layer with Kaiming-uniform weights for a following ReLU (bound sqrt(6 / fan_in), fan_in =
    /// C_in/groups * kH * kW) and PyTorch's default bias range (+-1/sqrt(fan_in)).</summary>
    public static Conv2dLayer Create(int inChannels, int outChannels, int kernelSize, ConvOptions options, Random rng)
    {
        int cinPerGroup = inChannels / options.Groups;
        int fanIn = cinPerGroup * kernelSize * kernelSize;
        var weight = new Tensor([outChannels, cinPerGroup, kernelSize, kernelSize]);
        Init.Uniform(weight.Data, Math.Sqrt(6.0 / fanIn), rng);
        var bias = new Tensor([outChannels]);
        Init.Uniform(bias.Data, 1.0 / Math.Sqrt(fanIn), rng);
        return new Conv2dLayer(weight, bias, options);
    }

    public override Tensor Forward(Tensor input)
    {
        Input = input;
        return Conv2D.Apply(input, Weight.Value, Bias?.Value.Data, Options);
    }

    public override int[] OutputShape(int[] inputShape) => Conv2D.OutputShape(inputShape, Weight.Value.Shape, Options);

    public override Tensor Backward(Tensor gradOutput)
    {
        Tensor input = SavedInput("conv");
        CheckGradShape(gradOutput, OutputShape(input.Shape), "conv");
        ConvOptions op = Options;
        Tensor w = Weight.Value;
        int h = input.H, wIn = input.W;
        int cout = w.Shape[0], cinPerGroup = w.Shape[1], kh = w.Shape[2], kw = w.Shape[3];
        int coutPerGroup = cout / op.Groups;
        int outH = gradOutput.H, outW = gradOutput.W;
        ConvGeometry g = ConvGeometry.Compute(h, wIn, kh, kw, op);
        bool flip = op.Mode == ConvMode.Convolve;

        // The kernel-row and kernel-column source indices do not depend on the channel: map them once
        // (-1 where a zero border reads nothing).
        int[] rowSource = new int[outH * kh], colSource = new int[outW * kw];
        for (int y = 0; y < outH; y++)
            for (int i = 0; i < kh; i++)
                rowSource[y * kh + i] = Borders.Map(y * op.StrideY + i * op.DilationY - g.Y.PadBefore, h, op.Border);
        for (int x = 0; x < outW; x++)
            for (int j = 0; j < kw; j++)
                colSource[x * kw + j] = Borders.Map(x * op.StrideX + j * op.DilationX - g.X.PadBefore, wIn, op.Border);

        double[] gradIn = new double[input.Length];
        double[] gradW = Weight.Grad;
        float[] inData = input.Data, wData = w.Data, gData = gradOutput.Data;
        for (int o = 0; o < cout; o++)
        {
            int firstInput = o / coutPerGroup * cinPerGroup;
            double biasSum = 0.0;
            for (int y = 0; y < outH; y++)
                for (int x = 0; x < outW; x++)
                {
                    double go = gData[(o * outH + y) * outW + x];
                    biasSum += go;
                    if (go == 0.0) continue; // common after a ReLU; contributes nothing below
                    for (int c = 0; c < cinPerGroup; c++)
                    {
                        int plane = (firstInput + c) * h;
                        for (int i = 0; i < kh; i++)
                        {
                            int sy = rowSource[y * kh + i];
                            if (sy < 0) continue;
                            int wi = flip ? kh - 1 - i : i;
                            for (int j = 0; j < kw; j++)
                            {
                                int sx = colSource[x * kw + j];
                                if (sx < 0) continue;
                                int wj = flip ? kw - 1 - j : j;
                                int wIndex = ((o * cinPerGroup + c) * kh + wi) * kw + wj;
                                int inIndex = (plane + sy) * wIn + sx;
                                gradW[wIndex] += go * inData[inIndex];
                                gradIn[inIndex] += go * wData[wIndex];
                            }
                        }
                    }
                }
            if (Bias is not null) Bias.Grad[o] += biasSum;
        }
        return Init.ToTensor(input.Shape, gradIn);
    }

    public override Layer Replica() => new Conv2dLayer(Weight.ShareValue(), Bias?.ShareValue(), Options);
}
