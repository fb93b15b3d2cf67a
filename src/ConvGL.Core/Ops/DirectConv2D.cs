namespace ConvGL.Core.Ops;

/// <summary>A fast CPU convolution for what networks use: zero border, correlate, any stride, dilation, groups
/// and (asymmetric) explicit padding. Same definition as <see cref="Conv2D.Apply"/>, which stays the readable
/// specification (tests hold the two equal); this one is what makes a ResNet run on the CPU in seconds instead of
/// minutes: per (output channel, input channel, tap) it adds w * one input row to one output row over the
/// columns whose tap lands inside the image, so the inner loop has no border logic, and output channels run in
/// parallel. Accumulates in float32 (as ONNX Runtime and PyTorch do), so results differ from the double
/// reference by rounding only.</summary>
public static class DirectConv2D
{
    /// <summary>True when <paramref name="options"/> are ones this path computes (zero border, correlate).</summary>
    public static bool Supports(ConvOptions options) => options.Border == Border.Zero && options.Mode == ConvMode.Correlate;

    public static Tensor Apply(Tensor input, Tensor weight, float[]? bias, ConvOptions options)
    {
        if (!Supports(options)) throw new ArgumentException($"DirectConv2D runs zero-border correlation only, got {options}");
        Conv2D.CheckShapes(input, weight, bias, options);
        int h = input.H, w = input.W;
        int cout = weight.Shape[0], cinPerGroup = weight.Shape[1], kh = weight.Shape[2], kw = weight.Shape[3];
        int coutPerGroup = cout / options.Groups;
        ConvGeometry g = ConvGeometry.Compute(h, w, kh, kw, options);
        int hout = g.Y.Output, wout = g.X.Output;
        var output = Tensor.Chw(cout, hout, wout);
        int sy = options.StrideY, sx = options.StrideX, dy = options.DilationY, dx = options.DilationX;
        int padTop = g.Y.PadBefore, padLeft = g.X.PadBefore;
        float[] src = input.Data, wt = weight.Data, dst = output.Data;

        Parallel.For(0, cout, o =>
        {
            Span<float> plane = dst.AsSpan(o * hout * wout, hout * wout);
            plane.Fill(bias?[o] ?? 0f);
            int firstInput = o / coutPerGroup * cinPerGroup;
            for (int c = 0; c < cinPerGroup; c++)
            {
                int inPlane = (firstInput + c) * h * w;
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++)
                    {
                        float k = wt[((o * cinPerGroup + c) * kh + i) * kw + j];
                        if (k == 0f) continue;
                        int offX = j * dx - padLeft;
                        // Output columns x with 0 <= x*sx + offX < w.
                        int x0 = offX >= 0 ? 0 : (-offX + sx - 1) / sx;
                        int x1 = Math.Min(wout, (w - 1 - offX) / sx + 1);
                        if (w - 1 - offX < 0 || x0 >= x1) continue;
                        for (int y = 0; y < hout; y++)
                        {
                            int iy = y * sy + i * dy - padTop;
                            if ((uint)iy >= (uint)h) continue;
                            int row = inPlane + iy * w + offX;
                            int outRow = y * wout;
                            if (sx == 1)
                            {
                                Span<float> d = plane.Slice(outRow + x0, x1 - x0);
                                ReadOnlySpan<float> s = src.AsSpan(row + x0, x1 - x0);
                                for (int x = 0; x < d.Length; x++) d[x] += k * s[x];
                            }
                            else
                            {
                                for (int x = x0; x < x1; x++) plane[outRow + x] += k * src[row + x * sx];
                            }
                        }
                    }
            }
        });
        return output;
    }
}
