namespace ConvGL.Core.Ops;

/// <summary>Gradient magnitude of channel pairs: out[i, y, x] = sqrt(in[2i, y, x]^2 + in[2i+1, y, x]^2), a (2C, H, W)
/// input giving (C, H, W). After a depthwise [x-kernel, y-kernel] bank (the stack's <c>magnitude</c> layer) it is the
/// edge strength of each input channel. The reference of shaders/magnitude.comp and magnitude_fast.comp.
///
/// Evaluated in float32, as the shaders do it (and as NumPy or PyTorch do on float32 arrays): each square and their sum
/// rounded to float32, then the square root. That defines the special values: NaN in either channel gives NaN; an
/// infinity with a number gives +Inf (with NaN: NaN); a square beyond float32's range (|a| above about 1.8e19) gives
/// +Inf; squares below its smallest subnormal add 0 (a GPU may flush subnormals too: within the parity tolerance).</summary>
public static class Magnitude
{
    public static Tensor Apply(Tensor input)
    {
        if (input.Rank != 3 || input.C % 2 != 0)
            throw new ConvGLException($"magnitude needs a (C, H, W) input with an even C, got {input.ShapeString}");
        int plane = input.H * input.W;
        var output = Tensor.Chw(input.C / 2, input.H, input.W);
        float[] x = input.Data, y = output.Data;
        for (int i = 0; i < output.C; i++)
            for (int p = 0; p < plane; p++)
                y[i * plane + p] = Of(x[2 * i * plane + p], x[(2 * i + 1) * plane + p]);
        return output;
    }

    /// <summary>One output value: sqrt(a^2 + b^2) in float32 (see the class summary).</summary>
    public static float Of(float a, float b)
    {
        float sum = a * a + b * b;
        return MathF.Sqrt(sum);
    }
}
