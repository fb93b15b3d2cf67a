namespace ConvGL.Core.Ops;

/// <summary>Rank-1 (separable) kernels: K = column * row^T, so a kH x kW filter costs kH + kW taps per pixel in
/// two passes instead of kH * kW. Detection takes the entry of largest magnitude K[p, q] as pivot, proposes
/// column = K[:, q] and row = K[p, :] / K[p, q] (one step of Gaussian elimination with full pivoting), and
/// accepts when no entry of K - column * row^T exceeds tolerance * max|K|. For an exactly rank-1 matrix the
/// residual is zero; the pivot keeps the division well conditioned.</summary>
public static class Separable
{
    public const double DefaultTolerance = 1e-6;

    public static bool TryFactor(Tensor kernel, out double[] column, out double[] row, double tolerance = DefaultTolerance)
    {
        if (kernel.Rank != 2) throw new ConvGLException($"a separable kernel must be 2D, got {kernel.ShapeString}");
        int h = kernel.H, w = kernel.W;
        int p = 0, q = 0;
        double peak = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (Math.Abs(kernel[y, x]) > peak)
                {
                    peak = Math.Abs(kernel[y, x]);
                    p = y;
                    q = x;
                }
        column = new double[h];
        row = new double[w];
        if (peak == 0) return true; // the zero kernel is 0 * 0^T
        double pivot = kernel[p, q];
        for (int y = 0; y < h; y++) column[y] = kernel[y, q];
        for (int x = 0; x < w; x++) row[x] = kernel[p, x] / pivot;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (Math.Abs(kernel[y, x] - column[y] * row[x]) > tolerance * peak)
                {
                    column = [];
                    row = [];
                    return false;
                }
        // No rebalancing of the gain between the factors: in double it cannot overflow or underflow for any float32
        // kernel, and leaving the column as a column of K keeps integer kernels (sobel: column (-1,-2,-1), row (1,0,-1))
        // integer, so their two-pass results are exact.
        return true;
    }

    /// <summary>The two-pass image filter (each channel alone), equal to
    /// <see cref="Conv2D.Filter"/>(image, column * row^T, options) for every option. Pass 1 runs the column down
    /// every input column at the output rows; pass 2 runs the row along those rows at the output columns. Because
    /// every border maps rows and columns independently (in_pad[y, x] = in[mapY(y), mapX(x)], 0 if either is
    /// outside), applying the x border to the pass-1 result reads exactly the padded values the 2D sum reads.
    /// The intermediate stays in double.</summary>
    public static Tensor Filter(Tensor image, double[] column, double[] row, ConvOptions options)
    {
        if (image.Rank != 3) throw new ConvGLException($"filter input must be (C, H, W), got {image.ShapeString}");
        if (column.Length == 0 || row.Length == 0) throw new ConvGLException("separable factors must not be empty");
        int c = image.C, h = image.H, w = image.W, kh = column.Length, kw = row.Length;
        ConvGeometry g = ConvGeometry.Compute(h, w, kh, kw, options);
        bool flip = options.Mode == ConvMode.Convolve;
        var output = Tensor.Chw(c, g.Y.Output, g.X.Output);
        var pass1 = new double[g.Y.Output * w];
        for (int ch = 0; ch < c; ch++)
        {
            for (int y = 0; y < g.Y.Output; y++)
                for (int x = 0; x < w; x++)
                {
                    double sum = 0;
                    for (int i = 0; i < kh; i++)
                    {
                        int sy = Borders.Map(y * options.StrideY + i * options.DilationY - g.Y.PadBefore, h, options.Border);
                        if (sy >= 0) sum += column[flip ? kh - 1 - i : i] * image[ch, sy, x];
                    }
                    pass1[y * w + x] = sum;
                }
            for (int y = 0; y < g.Y.Output; y++)
                for (int x = 0; x < g.X.Output; x++)
                {
                    double sum = 0;
                    for (int j = 0; j < kw; j++)
                    {
                        int sx = Borders.Map(x * options.StrideX + j * options.DilationX - g.X.PadBefore, w, options.Border);
                        if (sx >= 0) sum += row[flip ? kw - 1 - j : j] * pass1[y * w + sx];
                    }
                    output[ch, y, x] = (float)sum;
                }
        }
        return output;
    }

    /// <summary>The kernel column * row^T as a (kH, kW) tensor.</summary>
    public static Tensor Outer(double[] column, double[] row)
    {
        var t = new Tensor([column.Length, row.Length]);
        for (int y = 0; y < column.Length; y++)
            for (int x = 0; x < row.Length; x++) t[y, x] = (float)(column[y] * row[x]);
        return t;
    }
}
