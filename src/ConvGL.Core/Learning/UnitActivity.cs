namespace ConvGL.Core.Learning;

/// <summary>How often one channel after a ReLU is positive: <see cref="PositiveFraction"/> of all its output pixels
/// over a set of images, and the largest value it took.</summary>
public sealed record UnitActivity(string Layer, int Channel, double PositiveFraction, float Max)
{
    /// <summary>Below this fraction of positive pixels a unit counts as inactive ("dead"): it passes nothing on, and
    /// with no gradient through its ReLU it cannot learn its way back.</summary>
    public const double InactiveBelow = 1e-3;

    public bool Inactive => PositiveFraction < InactiveBelow;

    /// <summary>Every channel of every ReLU layer of <paramref name="model"/>, run on <paramref name="images"/>
    /// (each a (C, H, W) input the model accepts), in layer then channel order.</summary>
    public static IReadOnlyList<UnitActivity> Measure(Sequential model, IEnumerable<Tensor> images)
    {
        Sequential net = model.Replica();
        var reluNames = new List<string>();
        long[][]? positive = null;
        long[]? total = null;
        float[][]? max = null;
        foreach (Tensor image in images)
        {
            Tensor x = image;
            int r = 0;
            foreach ((string name, Layer layer) in net.Layers)
            {
                x = layer.Forward(x);
                if (layer is not ReluLayer) continue;
                if (positive is null || r >= reluNames.Count)
                {
                    reluNames.Add(name);
                    positive = [.. positive ?? [], new long[x.Shape[0]]];
                    max = [.. max ?? [], new float[x.Shape[0]]];
                    total = [.. total ?? [], 0];
                }
                int plane = x.Length / x.Shape[0];
                for (int c = 0; c < x.Shape[0]; c++)
                {
                    long n = 0;
                    float m = max![r][c];
                    for (int i = c * plane; i < (c + 1) * plane; i++)
                    {
                        float v = x.Data[i];
                        if (v > 0f) n++;
                        if (v > m) m = v;
                    }
                    positive[r][c] += n;
                    max[r][c] = m;
                }
                total![r] += plane;
                r++;
            }
        }
        var result = new List<UnitActivity>();
        for (int r = 0; r < reluNames.Count; r++)
            for (int c = 0; c < positive![r].Length; c++)
                result.Add(new UnitActivity(reluNames[r], c, (double)positive[r][c] / total![r], max![r][c]));
        return result;
    }
}
