namespace ConvGL.Core.Learning;

/// <summary>Data-dependent bias initialisation against dead ReLU units (issue 10).
///
/// The cause of the dead units: every input a layer sees is non-negative (images in [0, 1], then ReLU and max-pool
/// maps), while the weights start zero-mean. A unit's pre-activation on flat areas is then (sum of its weights) x
/// (the level there), so a unit whose weights happen to sum negative is negative on nearly every pixel before
/// training starts (seed 1 of the shipped run: conv2 channels 3 and 8 at 0.0% of pixels positive, conv1 channels 0
/// and 1 at 0.4%), gets almost no gradient through its ReLU, and Adam's first full-size steps push such units
/// and others (conv2 channels 2, 4 and 9 within 30 steps) the rest of the way: they never come back.
///
/// The fix centres every conv unit that feeds a ReLU on the training data before the first step: its bias becomes
/// minus the mean of its pre-activation (weights alone) over the first images of the training set, one layer after
/// the other (each measured on the output of the layers already centred), so every unit starts positive on a
/// good part of the pixels, in the spirit of LSUV and Kraehenbuehl et al.'s data-dependent init. The weights keep
/// their He-uniform draw; only biases move, and a network run on other data is unchanged in kind.</summary>
public static class CentredBiasInit
{
    /// <summary>Sets the bias of every conv layer that a ReLU follows (layers without a bias are skipped) so its
    /// mean pre-activation over <paramref name="images"/> is 0. Deterministic: sums run in image, then pixel order.</summary>
    public static void Apply(Sequential model, IReadOnlyList<Tensor> images)
    {
        if (images.Count == 0) return;
        IReadOnlyList<(string Name, Layer Layer)> layers = model.Layers;
        var inputs = images.ToArray();
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i].Layer is Conv2dLayer { Bias: { } bias } conv && i + 1 < layers.Count && layers[i + 1].Layer is ReluLayer)
            {
                int channels = conv.OutChannels;
                var sum = new double[channels];
                long plane = 0;
                foreach (Tensor x in inputs)
                {
                    Tensor z = conv.Forward(x);
                    int n = z.Length / channels;
                    for (int c = 0; c < channels; c++)
                    {
                        double s = 0;
                        for (int k = c * n; k < (c + 1) * n; k++) s += z.Data[k];
                        sum[c] += s;
                    }
                    plane += n;
                }
                // The forward pass included the current bias: subtracting the mean leaves the weights' part centred.
                for (int c = 0; c < channels; c++) bias.Value.Data[c] = (float)(bias.Value.Data[c] - sum[c] / plane);
            }
            for (int k = 0; k < inputs.Length; k++) inputs[k] = layers[i].Layer.Forward(inputs[k]);
            if (layers[i].Layer is FlattenLayer) break;
        }
    }
}
