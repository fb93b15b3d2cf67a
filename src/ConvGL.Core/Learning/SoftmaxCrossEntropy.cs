namespace ConvGL.Core.Learning;

/// <summary>PyTorch's CrossEntropyLoss for one sample: loss = -log softmax(z)[label], computed in double with the
/// log-sum-exp shift so large logits cannot overflow. Its gradient is softmax(z) - onehot(label).</summary>
public static class SoftmaxCrossEntropy
{
    public static double Loss(Tensor logits, int label) => Compute(logits, label, null);

    /// <summary>The loss, and dLoss/dLogits in <paramref name="gradient"/>.</summary>
    public static double Loss(Tensor logits, int label, out Tensor gradient)
    {
        gradient = new Tensor(logits.Shape);
        return Compute(logits, label, gradient);
    }

    public static double[] Softmax(Tensor logits)
    {
        double max = double.NegativeInfinity;
        foreach (float z in logits.Data) max = Math.Max(max, z);
        double[] p = new double[logits.Length];
        double sum = 0.0;
        for (int k = 0; k < p.Length; k++) sum += p[k] = Math.Exp(logits.Data[k] - max);
        for (int k = 0; k < p.Length; k++) p[k] /= sum;
        return p;
    }

    /// <summary>The index of the largest logit (the first on ties).</summary>
    public static int ArgMax(Tensor logits)
    {
        int best = 0;
        for (int k = 1; k < logits.Length; k++)
            if (logits.Data[k] > logits.Data[best]) best = k;
        return best;
    }

    private static double Compute(Tensor logits, int label, Tensor? gradient)
    {
        if (logits.Rank != 1) throw new ArgumentException($"logits must be a vector, got {logits.ShapeString}");
        if ((uint)label >= (uint)logits.Length) throw new ArgumentOutOfRangeException(nameof(label), $"label {label} is not a class of {logits.Length}");
        double max = double.NegativeInfinity;
        foreach (float z in logits.Data) max = Math.Max(max, z);
        double sum = 0.0;
        foreach (float z in logits.Data) sum += Math.Exp(z - max);
        double logSumExp = max + Math.Log(sum);
        if (gradient is not null)
            for (int k = 0; k < logits.Length; k++)
                gradient.Data[k] = (float)(Math.Exp(logits.Data[k] - logSumExp) - (k == label ? 1.0 : 0.0));
        return logSumExp - logits.Data[label];
    }
}
