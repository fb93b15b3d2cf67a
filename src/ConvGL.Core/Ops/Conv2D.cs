namespace ConvGL.Core.Ops;

/// <summary>The reference 2D convolution: a plain loop nest accumulating in double. It is the
/// specification every GPU shader is tested against, so it is written to be read, not to be fast.
///
///     out[o, y, x] = bias[o] + sum_{c, i, j} w[o, c, i, j] * in_pad[g*Cin/G + c, y*sy + i*dy, x*sx + j*dx]
///
/// with g = o / (C_out / G) the group of output channel o, and w rotated 180 degrees first under convolve.</summary>
public static class Conv2D
{
    /// <summary>Multi-channel convolution with PyTorch Conv2d layout: input (C_in, H, W), weight
    /// (C_out, C_in / groups, kH, kW), optional bias (C_out).</summary>
    public static Tensor Apply(Tensor input, Tensor weight, float[]? bias, ConvOptions options)
    {
        CheckShapes(input, weight, bias, options);
        int h = input.H, w = input.W;
        int cout = weight.Shape[0], cinPerGroup = weight.Shape[1], kh = weight.Shape[2], kw = weight.Shape[3];
        int coutPerGroup = cout / options.Groups;
        ConvGeometry g = ConvGeometry.Compute(h, w, kh, kw, options);
        var output = Tensor.Chw(cout, g.Y.Output, g.X.Output);
        bool flip = options.Mode == ConvMode.Convolve;

        for (int o = 0; o < cout; o++)
        {
            int firstInput = o / coutPerGroup * cinPerGroup;
            for (int y = 0; y < g.Y.Output; y++)
                for (int x = 0; x < g.X.Output; x++)
                {
                    double sum = bias?[o] ?? 0.0;
                    for (int c = 0; c < cinPerGroup; c++)
                        for (int i = 0; i < kh; i++)
                        {
                            int sy = Borders.Map(y * options.StrideY + i * options.DilationY - g.Y.PadBefore, h, options.Border);
                            if (sy < 0) continue;
                            for (int j = 0; j < kw; j++)
                            {
                                int sx = Borders.Map(x * options.StrideX + j * options.DilationX - g.X.PadBefore, w, options.Border);
                                if (sx < 0) continue;
                                int wi = flip ? kh - 1 - i : i, wj = flip ? kw - 1 - j : j;
                                sum += (double)weight.Data[((o * cinPerGroup + c) * kh + wi) * kw + wj] * input[firstInput + c, sy, sx];
                            }
                        }
                    output[o, y, x] = (float)sum;
                }
        }
        return output;
    }

    /// <summary>An image filter: the 2D kernel (kH, kW) applied to every channel of a (C, H, W) image alone
    /// (a depthwise convolution with C groups).</summary>
    public static Tensor Filter(Tensor image, Tensor kernel, ConvOptions options) =>
        Apply(image, DepthwiseWeight(kernel, image.C), null, options with { Groups = image.C });

    /// <summary>The (C, 1, kH, kW) weight that applies one (kH, kW) kernel to each of C channels alone.</summary>
    public static Tensor DepthwiseWeight(Tensor kernel, int channels)
    {
        if (kernel.Rank != 2) throw new ConvGLException($"a filter kernel must be 2D, got shape {kernel.ShapeString}");
        var weight = new Tensor([channels, 1, kernel.H, kernel.W]);
        for (int o = 0; o < channels; o++) kernel.Data.CopyTo(weight.Data, o * kernel.Length);
        return weight;
    }

    /// <summary>The output shape (C_out, H_out, W_out) for an input shape, without running anything.</summary>
    public static int[] OutputShape(int[] inputShape, int[] weightShape, ConvOptions options)
    {
        ConvGeometry g = ConvGeometry.Compute(inputShape[1], inputShape[2], weightShape[2], weightShape[3], options);
        return [weightShape[0], g.Y.Output, g.X.Output];
    }

    internal static void CheckShapes(Tensor input, Tensor weight, float[]? bias, ConvOptions o)
    {
        if (input.Rank != 3) throw new ConvGLException($"conv input must be (C, H, W), got {input.ShapeString}");
        if (weight.Rank != 4) throw new ConvGLException($"conv weight must be (C_out, C_in/groups, kH, kW), got {weight.ShapeString}");
        if (o.Groups < 1) throw new ConvGLException($"groups {o.Groups} must be at least 1");
        int cout = weight.Shape[0];
        if (input.C % o.Groups != 0 || cout % o.Groups != 0)
            throw new ConvGLException($"groups {o.Groups} must divide both C_in {input.C} and C_out {cout}");
        if (weight.Shape[1] != input.C / o.Groups)
            throw new ConvGLException($"weight {weight.ShapeString} expects {weight.Shape[1] * o.Groups} input channels with groups {o.Groups}, the input has {input.C}");
        if (bias is not null && bias.Length != cout)
            throw new ConvGLException($"bias has {bias.Length} entries, C_out is {cout}");
    }

    /// <summary>Every (kH, kW) plane of a kernel or weight rotated by 180 degrees: convolve(k) == correlate(Rot180(k)).</summary>
    public static Tensor Rot180(Tensor kernel)
    {
        if (kernel.Rank < 2) throw new ConvGLException($"a kernel must be at least 2D, got {kernel.ShapeString}");
        var r = new Tensor(kernel.Shape);
        int plane = kernel.Shape[^1] * kernel.Shape[^2];
        for (int p = 0; p < kernel.Length; p += plane)
            for (int i = 0; i < plane; i++)
                r.Data[p + plane - 1 - i] = kernel.Data[p + i];
        return r;
    }
}
