namespace ConvGL.Core.Ops;

/// <summary>Instance normalisation (ONNX InstanceNormalization, PyTorch InstanceNorm2d with affine weights; the layer of
/// fast style-transfer nets): every channel's map normalised by its own mean and (population) variance, then scaled and
/// shifted per channel: y = scale[c] (x - mean) / sqrt(var + epsilon) + shift[c]. Statistics in double, the variance from
/// the deviations (two passes), so a map far from zero keeps its precision.</summary>
public sealed class InstanceNorm
{
    public InstanceNorm(float[] scale, float[] shift, float epsilon)
    {
        if (scale.Length != shift.Length || scale.Length == 0)
            throw new ConvGLException($"instancenorm needs one scale and one shift per channel, got {scale.Length} and {shift.Length}");
        if (!(epsilon >= 0) || !float.IsFinite(epsilon)) throw new ConvGLException($"instancenorm epsilon {epsilon} must be finite and not negative");
        Scale = scale;
        Shift = shift;
        Epsilon = epsilon;
    }

    public float[] Scale { get; }
    public float[] Shift { get; }
    public float Epsilon { get; }
    public int Channels => Scale.Length;

    /// <summary>Normalises planes of <paramref name="plane"/> values; plane p is channel p % C (so (N, C, H, W) batches
    /// work as (N*C, H, W)).</summary>
    public Tensor Apply(Tensor input, int plane)
    {
        if (plane < 1 || input.Length % ((long)plane * Channels) != 0)
            throw new ConvGLException($"instancenorm over {Channels} channels of {plane} values cannot take a tensor of {input.Length} values");
        var output = new Tensor(input.Shape);
        for (int p = 0; p < input.Length / plane; p++)
        {
            ReadOnlySpan<float> x = input.Data.AsSpan(p * plane, plane);
            double mean = 0;
            foreach (float v in x) mean += v;
            mean /= plane;
            double var = 0;
            foreach (float v in x) var += (v - mean) * (v - mean);
            var /= plane;
            int c = p % Channels;
            double a = Scale[c] / Math.Sqrt(var + Epsilon);
            for (int i = 0; i < plane; i++) output.Data[p * plane + i] = (float)(a * (x[i] - mean) + Shift[c]);
        }
        return output;
    }

    /// <summary>Group normalisation (PyTorch GroupNorm, the norm of diffusion UNets' blocks): the C channels in
    /// <paramref name="groups"/> groups of C / groups consecutive channels, each group's values (all its planes together)
    /// normalised by their own mean and population variance, then scaled and shifted per channel: y = scale[c] (x -
    /// mean_g) / sqrt(var_g + epsilon) + shift[c]. Groups = C is <see cref="Apply(Tensor)"/>; 1 group normalises the whole map.
    /// Statistics in double, two passes (<see cref="LayerNorm.MeanAndVariance"/>), as <see cref="Apply(Tensor, int)"/>.</summary>
    public Tensor ApplyInGroups(Tensor input, int groups)
    {
        if (input.Rank != 3 || input.C != Channels)
            throw new ConvGLException($"groupnorm has {Channels} channels of parameters; its input is {input.ShapeString}");
        CheckGroups(groups, Channels);
        int perGroup = Channels / groups, plane = input.H * input.W, n = perGroup * plane;
        var output = new Tensor(input.Shape);
        for (int g = 0; g < groups; g++)
        {
            (double mean, double var) = LayerNorm.MeanAndVariance(input.Data.AsSpan(g * n, n));
            for (int c = g * perGroup; c < (g + 1) * perGroup; c++)
            {
                double a = Scale[c] / Math.Sqrt(var + Epsilon);
                for (int i = c * plane; i < (c + 1) * plane; i++) output.Data[i] = (float)(a * (input.Data[i] - mean) + Shift[c]);
            }
        }
        return output;
    }

    /// <summary>Throws unless <paramref name="groups"/> (at least 1) divides <paramref name="channels"/>.</summary>
    public static void CheckGroups(int groups, int channels)
    {
        if (groups < 1 || channels % groups != 0)
            throw new ConvGLException($"groupnorm: {groups} groups do not divide the {channels} channels; each group takes an equal share (32 groups of a 64- or 128-channel map, as diffusion UNets)");
    }

    /// <summary>A (C, H, W) map.</summary>
    public Tensor Apply(Tensor input) =>
        input.Rank == 3 && input.C == Channels ? Apply(input, input.H * input.W)
            : throw new ConvGLException($"instancenorm has {Channels} channels of parameters; its input is {input.ShapeString}");
}
