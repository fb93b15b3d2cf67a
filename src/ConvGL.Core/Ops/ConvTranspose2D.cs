namespace ConvGL.Core.Ops;

/// <summary>Options of a transposed convolution (ONNX ConvTranspose, PyTorch ConvTranspose2d): stride, dilation, the
/// pads taken off each side of the full output (top, left, bottom, right; a negative one adds zero rows, as ONNX's
/// output_shape can ask), output padding (extra rows / columns at the bottom and right, which a stride > 1 leaves
/// ambiguous) and groups.</summary>
public sealed record ConvTransposeOptions
{
    public int StrideY { get; init; } = 1;
    public int StrideX { get; init; } = 1;
    public int DilationY { get; init; } = 1;
    public int DilationX { get; init; } = 1;
    public int PadTop { get; init; }
    public int PadLeft { get; init; }
    public int PadBottom { get; init; }
    public int PadRight { get; init; }
    public int OutputPadY { get; init; }
    public int OutputPadX { get; init; }
    public int Groups { get; init; } = 1;

    public override string ToString() =>
        $"stride ({StrideY}, {StrideX}), dilation ({DilationY}, {DilationX}), pads [{PadTop}, {PadLeft}, {PadBottom}, {PadRight}], output padding ({OutputPadY}, {OutputPadX}), groups {Groups}";
}

/// <summary>The transposed convolution (the adjoint of a strided convolution; "deconvolution" in decoders and
/// upsamplers): every input value x[ic, iy, ix] adds x * w[ic, oc, ky, kx] to output
/// (oc, iy * strideY - padTop + ky * dilationY, ix * strideX - padLeft + kx * dilationX), for the output channels oc of
/// its group; taps that land outside the output are dropped. Weight layout (C_in, C_out / groups, kH, kW), as ONNX and
/// PyTorch. Output size: (H - 1) strideY - padTop - padBottom + dilationY (kH - 1) + outputPadY + 1 (and the same along x).
/// Sums are in double; the GPU's float sums are held to it by tests.</summary>
public static class ConvTranspose2D
{
    /// <summary>The output size the formula gives, unchecked: below 1 where the padding eats the map, past int where the
    /// stride or the dilation makes it huge (<see cref="OutputSize"/> refuses both).</summary>
    public static (long H, long W) RawOutputSize(int h, int w, int kh, int kw, ConvTransposeOptions o) =>
        ((long)(h - 1) * o.StrideY - o.PadTop - o.PadBottom + (long)o.DilationY * (kh - 1) + o.OutputPadY + 1,
         (long)(w - 1) * o.StrideX - o.PadLeft - o.PadRight + (long)o.DilationX * (kw - 1) + o.OutputPadX + 1);

    public static (int H, int W) OutputSize(int h, int w, int kh, int kw, ConvTransposeOptions o)
    {
        (long oh, long ow) = RawOutputSize(h, w, kh, kw, o);
        if (h < 1 || w < 1 || oh < 1 || ow < 1)
            throw new ConvGLException($"conv_transpose ({o}) of a {w}x{h} map with a {kw}x{kh} kernel leaves an empty output ({ow}x{oh})");
        if (oh * ow > Limits.ConvPlaneValues)
            throw new ConvGLException($"conv_transpose ({o}) of a {w}x{h} map gives {ow}x{oh}, more than {Limits.ConvPlaneValues} values per channel");
        return ((int)oh, (int)ow);
    }

    /// <summary>Checks the weight against the input's channels; returns C_out.</summary>
    public static int OutputChannels(int inputChannels, int[] weightShape, int groups)
    {
        if (weightShape.Length != 4) throw new ConvGLException($"conv_transpose weight {Tensor.ShapeText(weightShape)} must be (C_in, C_out / groups, kH, kW)");
        if (groups < 1 || inputChannels % groups != 0)
            throw new ConvGLException($"conv_transpose groups {groups} must divide the input's {inputChannels} channels");
        if (weightShape[0] != inputChannels)
            throw new ConvGLException($"conv_transpose weight {Tensor.ShapeText(weightShape)} takes {weightShape[0]} input channels, the input has {inputChannels}");
        long cout = (long)weightShape[1] * groups;
        if (cout > Limits.StackChannels) throw new ConvGLException($"conv_transpose gives {cout} channels, more than {Limits.StackChannels}");
        return (int)cout;
    }

    public static void CheckOptions(ConvTransposeOptions o)
    {
        if (o.StrideY < 1 || o.StrideX < 1 || o.DilationY < 1 || o.DilationX < 1)
            throw new ConvGLException($"conv_transpose strides and dilations must be at least 1 ({o})");
        if (o.OutputPadY < 0 || o.OutputPadX < 0)
            throw new ConvGLException($"conv_transpose output padding must not be negative ({o})");
        if (Math.Abs((long)o.PadTop) + Math.Abs((long)o.PadLeft) + Math.Abs((long)o.PadBottom) + Math.Abs((long)o.PadRight) > 1 << 22)
            throw new ConvGLException($"conv_transpose pads are implausibly large ({o})");
        if (o.OutputPadY >= Math.Max(o.StrideY, o.DilationY) || o.OutputPadX >= Math.Max(o.StrideX, o.DilationX))
            throw new ConvGLException($"conv_transpose output padding must be smaller than the stride or the dilation ({o})");
    }

    public static Tensor Apply(Tensor input, Tensor weight, float[]? bias, ConvTransposeOptions o)
    {
        if (input.Rank != 3) throw new ConvGLException($"conv_transpose takes a (C, H, W) map, got {input.ShapeString}");
        CheckOptions(o);
        int cout = OutputChannels(input.C, weight.Shape, o.Groups);
        if (bias is not null && bias.Length != cout) throw new ConvGLException($"conv_transpose bias has {bias.Length} values for {cout} output channels");
        int kh = weight.Shape[2], kw = weight.Shape[3], perGroupOut = weight.Shape[1], perGroupIn = input.C / o.Groups;
        (int oh, int ow) = OutputSize(input.H, input.W, kh, kw, o);
        if ((long)cout * oh * ow > Limits.StackMapValues)
            throw new ConvGLException($"conv_transpose gives {cout} maps of {ow}x{oh}, more than {Limits.StackMapValues} values");
        var sums = new double[(long)cout * oh * ow];
        for (int ic = 0; ic < input.C; ic++)
        {
            int g = ic / perGroupIn;
            for (int iy = 0; iy < input.H; iy++)
                for (int ix = 0; ix < input.W; ix++)
                {
                    double v = input[ic, iy, ix];
                    for (int j = 0; j < perGroupOut; j++)
                    {
                        int oc = g * perGroupOut + j;
                        for (int ky = 0; ky < kh; ky++)
                        {
                            int oy = iy * o.StrideY - o.PadTop + ky * o.DilationY;
                            if ((uint)oy >= (uint)oh) continue;
                            for (int kx = 0; kx < kw; kx++)
                            {
                                int ox = ix * o.StrideX - o.PadLeft + kx * o.DilationX;
                                if ((uint)ox >= (uint)ow) continue;
                                sums[((long)oc * oh + oy) * ow + ox] += v * weight.Data[((ic * perGroupOut + j) * kh + ky) * kw + kx];
                            }
                        }
                    }
                }
        }
        var output = Tensor.Chw(cout, oh, ow);
        for (int i = 0; i < output.Length; i++) output.Data[i] = (float)(sums[i] + (bias?[i / (oh * ow)] ?? 0f));
        return output;
    }
}
