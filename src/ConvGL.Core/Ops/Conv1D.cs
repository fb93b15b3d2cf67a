namespace ConvGL.Core.Ops;

/// <summary>numpy.convolve / numpy.correlate output modes.</summary>
public enum Conv1DMode
{
    /// <summary>Every overlap: length N + M - 1.</summary>
    Full,
    /// <summary>Length max(N, M), centred as NumPy does it (see <see cref="Conv1D"/>).</summary>
    Same,
    /// <summary>Only complete overlaps: length max(N, M) - min(N, M) + 1.</summary>
    Valid,
}

/// <summary>1D convolution and correlation with exactly NumPy's results (DESIGN.md: "numpy.convolve modes
/// full/same/valid"), accumulating in double.
///
/// NumPy's core loop (multiarray's _pyarray_correlate) takes the longer array L (length n1) and the shorter S
/// (length n) and computes ret[k] = sum_j L[k - left + j] * S[j], zeros outside L, with left = 0 (valid),
/// n / 2 (same, integer division) or n - 1 (full). numpy.convolve(a, v) swaps so the longer comes first and
/// runs that loop with S reversed. numpy.correlate(a, v) runs it on (a, v) when a is at least as long, and
/// otherwise on (v, a) with the result reversed -- so for an even-length v longer than a, correlate's `same`
/// is NOT convolve(a, reversed v)'s `same` (they are shifted by one); both are reproduced here.</summary>
public static class Conv1D
{
    public static double[] Convolve(ReadOnlySpan<double> a, ReadOnlySpan<double> v, Conv1DMode mode = Conv1DMode.Full)
    {
        Check(a, v);
        bool swap = v.Length > a.Length;
        ReadOnlySpan<double> longer = swap ? v : a, shorter = swap ? a : v;
        double[] reversed = shorter.ToArray();
        Array.Reverse(reversed);
        return Core(longer, reversed, mode);
    }

    public static double[] Correlate(ReadOnlySpan<double> a, ReadOnlySpan<double> v, Conv1DMode mode = Conv1DMode.Valid)
    {
        Check(a, v);
        if (a.Length >= v.Length) return Core(a, v, mode);
        double[] r = Core(v, a, mode);
        Array.Reverse(r);
        return r;
    }

    public static float[] Convolve(float[] a, float[] v, Conv1DMode mode = Conv1DMode.Full) =>
        ToFloat(Convolve(ToDouble(a), ToDouble(v), mode));

    public static float[] Correlate(float[] a, float[] v, Conv1DMode mode = Conv1DMode.Valid) =>
        ToFloat(Correlate(ToDouble(a), ToDouble(v), mode));

    /// <summary>The output length NumPy gives for inputs of lengths n and m.</summary>
    public static int OutputLength(int n, int m, Conv1DMode mode) => mode switch
    {
        Conv1DMode.Full => n + m - 1,
        Conv1DMode.Same => Math.Max(n, m),
        Conv1DMode.Valid => Math.Max(n, m) - Math.Min(n, m) + 1,
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    private static double[] Core(ReadOnlySpan<double> longer, ReadOnlySpan<double> shorter, Conv1DMode mode)
    {
        int n1 = longer.Length, n = shorter.Length;
        int left = mode switch
        {
            Conv1DMode.Full => n - 1,
            Conv1DMode.Same => n / 2,
            Conv1DMode.Valid => 0,
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };
        var ret = new double[OutputLength(n1, n, mode)];
        for (int k = 0; k < ret.Length; k++)
        {
            double sum = 0;
            for (int j = 0; j < n; j++)
            {
                int i = k - left + j;
                if ((uint)i < (uint)n1) sum += longer[i] * shorter[j];
            }
            ret[k] = sum;
        }
        return ret;
    }

    private static void Check(ReadOnlySpan<double> a, ReadOnlySpan<double> v)
    {
        if (a.Length == 0 || v.Length == 0) throw new ConvGLException("1D convolution of an empty array (NumPy raises ValueError too)");
    }

    private static double[] ToDouble(float[] a) => Array.ConvertAll(a, x => (double)x);

    private static float[] ToFloat(double[] a) => Array.ConvertAll(a, x => (float)x);
}
