namespace ConvGL.Core.Learning;

/// <summary>What fitting found: the kernel (kH, kW) as used under the fit's mode, the bias, and the mean squared
/// error before every step and after the last.</summary>
/// <summary>A fitted kernel and bias; <paramref name="LossHistory"/> is every step's loss, then the loss of the weights
/// as stored (float32); <paramref name="Stopped"/> says why a fit converged before its last step (null when it ran them all).</summary>
public sealed record KernelFitResult(Tensor Kernel, double Bias, IReadOnlyList<double> LossHistory, string? Stopped = null)
{
    public double FinalLoss => LossHistory[^1];
}

public enum FitMethod
{
    /// <summary>Conjugate gradient (Polak-Ribiere) with an exact line search: the right tool for a quadratic loss,
    /// converging in about as many steps as there are unknowns even on smooth, ill-conditioned images.</summary>
    ConjugateGradient,
    /// <summary>Adam, the optimiser the CNN trains with, learning rate decayed linearly to 0. Fine on textured
    /// input; slow on smooth images, whose 3x3 neighbourhoods are nearly collinear.</summary>
    Adam,
}

/// <summary>Recovers a filter from what it did: given an image and the image filtered by an unknown kernel, learn
/// the kernel (and a bias) by minimising the mean squared error with gradients from the same
/// <see cref="Conv2dLayer"/> backward pass the CNN trains with, starting from zero.
///
/// The output is linear in (kernel, bias), so the loss L(theta) = |A theta - t|^2 / N is quadratic: along a direction
/// p the residual is r + alpha A p, where A p is the layer's forward pass with p as its weights, so the best
/// step is alpha = -(r . Ap) / (Ap . Ap) exactly. With that line search, conjugate directions find the minimum in
/// about as many steps as there are unknowns. The minimum is unique when the input has enough texture; on a flat
/// input many kernels explain the target equally well and the result is one of them.</summary>
public static class KernelFit
{
    public static KernelFitResult Fit(Tensor input, Tensor target, int kernelHeight, int kernelWidth, ConvOptions options,
                                      FitMethod method = FitMethod.ConjugateGradient, int steps = 0, double learningRate = 0.05,
                                      bool fitBias = true, Action<int, double>? progress = null)
    {
        if (input.Rank != 3 || input.C != 1) throw new ConvGLException($"fit input must be one gray channel (1, H, W), got {input.ShapeString}");
        if (target.Rank != 3 || target.C != 1) throw new ConvGLException($"fit target must be one gray channel (1, H, W), got {target.ShapeString}");
        if (kernelHeight < 1 || kernelWidth < 1) throw new ConvGLException($"kernel size {kernelHeight}x{kernelWidth} must be at least 1x1");
        if (steps < 0) throw new ConvGLException($"steps must be at least 1, got {steps}");
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

        string? stopped = null;
        List<double> history = method == FitMethod.Adam
            ? FitAdam(layer, input, target, steps > 0 ? steps : 600, learningRate, progress)
            : FitConjugateGradient(layer, input, target, steps > 0 ? steps : 10 * (kernelHeight * kernelWidth + 1), progress, out stopped);
        history.Add(Mse(layer.Forward(input), target));
        var kernel = new Tensor([kernelHeight, kernelWidth], (float[])layer.Weight.Value.Data.Clone());
        return new KernelFitResult(kernel, layer.Bias?.Value.Data[0] ?? 0.0, history, stopped);
    }

    /// <summary>Forward, loss and backward at the layer's current parameters: returns the loss and the residual
    /// (output - target, in double); the gradient is left in the parameters' Grad.</summary>
    private static (double Loss, double[] Residual) LossAndGradient(Conv2dLayer layer, Tensor input, Tensor target)
    {
        foreach (Parameter p in layer.Parameters) p.ZeroGrad();
        Tensor output = layer.Forward(input);
        var grad = new Tensor(output.Shape);
        double[] residual = new double[output.Length];
        double loss = 0.0, n = output.Length;
        for (int i = 0; i < output.Length; i++)
        {
            residual[i] = (double)output.Data[i] - target.Data[i];
            loss += residual[i] * residual[i];
            grad.Data[i] = (float)(2.0 * residual[i] / n);
        }
        layer.Backward(grad);
        return (loss / n, residual);
    }

    private static List<double> FitAdam(Conv2dLayer layer, Tensor input, Tensor target, int steps, double learningRate, Action<int, double>? progress)
    {
        var adam = new Adam(learningRate);
        var history = new List<double>(steps + 1);
        for (int step = 0; step < steps; step++)
        {
            (double loss, _) = LossAndGradient(layer, input, target);
            history.Add(loss);
            progress?.Invoke(step, loss);
            // Decay to 0 so the last steps settle instead of jittering around the minimum.
            adam.LearningRate = learningRate * (1.0 - (double)step / steps);
            adam.Step(layer.Parameters);
        }
        return history;
    }

    /// <summary>Conjugate gradient on the least-squares loss (CGLS). The residual r = A theta - t is carried along in
    /// double (r += alpha A p) instead of being recomputed from the float32 forward pass: near the minimum r is tiny,
    /// and output - target in float32 would keep only a few significant bits of it, which stalls the descent on
    /// smooth images. The gradient (2/N) A^T r is the layer's backward pass applied to that residual.</summary>
    private static List<double> FitConjugateGradient(Conv2dLayer layer, Tensor input, Tensor target, int steps, Action<int, double>? progress, out string? stopped)
    {
        stopped = null;
        IReadOnlyList<Parameter> parameters = layer.Parameters;
        int count = parameters.Sum(p => p.Value.Length);
        double[] theta = new double[count], direction = new double[count], previousGrad = new double[count];
        Scatter(parameters, theta);
        Tensor output = layer.Forward(input); // also what Backward reads: the input (the gradient wrt weights does not depend on them)
        double n = output.Length;
        double[] residual = new double[output.Length];
        for (int i = 0; i < residual.Length; i++) residual[i] = (double)output.Data[i] - target.Data[i];
        var upstream = new Tensor(output.Shape);
        var history = new List<double>(steps + 1);
        double best = double.PositiveInfinity;
        int stalled = 0;
        for (int step = 0; step < steps; step++)
        {
            double loss = Dot(residual, residual) / n;
            history.Add(loss);
            progress?.Invoke(step, loss);
            // Converged in double precision: CG with an exact line search lowers a quadratic loss at every step until
            // rounding stops it (the sobel-x fit sat at 5.754E-16 from step 20 of 100), so StallSteps steps in a row that
            // lower the loss by less than StallRatio of it end the fit.
            stalled = loss < best * (1.0 - StallRatio) ? 0 : stalled + 1;
            best = Math.Min(best, loss);
            if (stalled >= StallSteps)
            {
                stopped = $"{StallSteps} steps in a row lowered the mse by less than {StallRatio:G2} of itself";
                break;
            }
            foreach (Parameter p in parameters) p.ZeroGrad();
            for (int i = 0; i < residual.Length; i++) upstream.Data[i] = (float)(2.0 * residual[i] / n);
            layer.Backward(upstream);
            double[] grad = Gather(parameters, p => p.Grad);
            double gg = Dot(grad, grad);
            if (gg == 0.0 || loss == 0.0)
            {
                stopped = loss == 0.0 ? "the mse is 0" : "the gradient is 0";
                break;
            }
            // Polak-Ribiere, restarted (beta = 0) every `count` steps (a quadratic in `count` unknowns is done by then
            // in exact arithmetic) and whenever it would point uphill.
            double beta = step % count == 0 ? 0.0 : Math.Max(0.0, (gg - Dot(grad, previousGrad)) / Dot(previousGrad, previousGrad));
            for (int i = 0; i < count; i++) direction[i] = -grad[i] + beta * direction[i];
            grad.CopyTo(previousGrad, 0);

            // A p: the layer's output with the direction as its parameters (the bias part adds a constant map).
            Scatter(parameters, direction);
            Tensor ap = layer.Forward(input);
            double rAp = 0.0, apAp = 0.0;
            for (int i = 0; i < ap.Length; i++)
            {
                rAp += residual[i] * ap.Data[i];
                apAp += (double)ap.Data[i] * ap.Data[i];
            }
            if (apAp == 0.0) // the direction changes nothing in the output: nothing left to learn
            {
                stopped = "no step changes the output any more";
                break;
            }
            double alpha = -rAp / apAp;
            for (int i = 0; i < count; i++) theta[i] += alpha * direction[i];
            for (int i = 0; i < residual.Length; i++) residual[i] += alpha * ap.Data[i];
        }
        Scatter(parameters, theta);
        return history;
    }

    /// <summary>The conjugate gradient fit stops after this many steps in a row that lowered the loss by less than
    /// <see cref="StallRatio"/> of it.</summary>
    public const int StallSteps = 3;
    public const double StallRatio = 1e-6;

    private static double[] Gather(IReadOnlyList<Parameter> parameters, Func<Parameter, double[]> select) => [.. parameters.SelectMany(select)];

    private static void Scatter(IReadOnlyList<Parameter> parameters, double[] values)
    {
        int offset = 0;
        foreach (Parameter p in parameters)
            for (int i = 0; i < p.Value.Length; i++) p.Value.Data[i] = (float)values[offset++];
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0.0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
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
