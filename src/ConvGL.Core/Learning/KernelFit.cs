namespace ConvGL.Core.Learning;

/// <summary>What fitting found: the kernel (kH, kW) as used under the fit's mode, the bias, and the mean squared
/// error at every step.</summary>
public sealed record KernelFitResult(Tensor Kernel, double Bias, IReadOnlyList<double> LossHistory)
{
    public double FinalLoss => LossHistory[^1];
}

/// <summary>Recovers a filter from what it did: given an image and the image filtered by an unknown kernel,
/// learn the kernel by gradient descent on the mean squared error, through the same <see cref="Conv2dLayer"/>
/// (forward and backward) the CNN trains with. Starting from zero, with Adam and a learning rate that decays
/// linearly to 0 (so the last steps settle instead of jittering around the minimum).
///
/// The problem is linear least squares, so it has one minimum when the input has enough texture; on a flat
/// input many kernels explain the target equally well and the result is only one of them.</summary>
public static class KernelFit
{
    public static KernelFitResult Fit(Tensor input, Tensor target, int kernelHeight, int kernelWidth, ConvOptions options,
                                      int steps = 600, double learningRate = 0.05, bool fitBias = true, Action<int, double>? progress = null)
    {
        if (input.Rank != 3 || input.C != 1) throw new ConvGLException($"fit input must be one gray channel (1, H, W), got {input.ShapeString}");
        if (target.Rank != 3 || target.C != 1) throw new ConvGLException($"fit target must be one gray channel (1, H, W), got {target.ShapeString}");
        if (kernelHeight < 1 || kernelWidth < 1) throw new ConvGLException($"kernel size {kernelHeight}x{kernelWidth} must be at least 1x1");
        if (steps < 1) throw new ConvGLException($"steps must be at least 1, got {steps}");
        if (options.Groups != 1) throw new ConvGLException("a fitted kernel has one input and one output channel: groups must be 1");
        var layer = new Conv2dLayer(new Tensor([1, 1, kernelHeight, kernelWidth]), fitBias ? new Tensor([1]) : null, options);
        int[] outShape = layer.OutputShape(input.Shape);
        if (!target.Shape.AsSpan().SequenceEqual(outShape))
            throw new ConvGLException(
                $"the target is {target.W}x{target.H} but a {kernelWidth}x{kernelHeight} kernel with padding " +
                $"{options.Padding.ToString().ToLowerInvariant()} and stride ({options.StrideY},{options.StrideX}) makes {outShape[2]}x{outShape[1]} " +
                "from the input; give a target of the same size as the input");
        foreach (float v in input.Data.Concat(target.Data))
            if (!float.IsFinite(v)) throw new ConvGLException("the fit images contain NaN or infinity");

        var adam = new Adam(learningRate);
        var history = new List<double>(steps);
        double n = target.Length;
        for (int step = 0; step < steps; step++)
        {
            foreach (Parameter p in layer.Parameters) p.ZeroGrad();
            Tensor output = layer.Forward(input);
            var grad = new Tensor(output.Shape);
            double loss = 0.0;
            for (int i = 0; i < output.Length; i++)
            {
                double diff = (double)output.Data[i] - target.Data[i];
                loss += diff * diff;
                grad.Data[i] = (float)(2.0 * diff / n);
            }
            history.Add(loss / n);
            progress?.Invoke(step, loss / n);
            layer.Backward(grad);
            adam.LearningRate = learningRate * (1.0 - (double)step / steps);
            adam.Step(layer.Parameters);
        }
        foreach (Parameter p in layer.Parameters) p.ZeroGrad();
        history.Add(Mse(layer.Forward(input), target));
        var kernel = new Tensor([kernelHeight, kernelWidth], (float[])layer.Weight.Value.Data.Clone());
        return new KernelFitResult(kernel, layer.Bias?.Value.Data[0] ?? 0.0, history);
    }

    public static double Mse(Tensor a, Tensor b)
    {
        double sum = 0.0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = (double)a.Data[i] - b.Data[i];
            sum += d * d;
        }
        return sum / a.Length;
    }
}
