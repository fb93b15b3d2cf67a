using System.Numerics;

namespace ConvGL.Core.Ops;

/// <summary>The discrete Fourier transform in double precision, written out so the convolution theorem can be
/// checked without a library: X[k] = sum_j x[j] exp(-2 pi i j k / n), inverse with +i and 1/n.
/// Powers of two use the iterative radix-2 Cooley-Tukey algorithm; any other length uses Bluestein's chirp-z
/// identity jk = (j^2 + k^2 - (k - j)^2) / 2, which turns the DFT into a convolution that is itself done with
/// power-of-two FFTs, so every length costs O(n log n) and is exact-size (needed for circular convolution).</summary>
public static class Fft
{
    public static bool IsPowerOfTwo(int n) => n > 0 && (n & (n - 1)) == 0;

    public static int NextPowerOfTwo(int n)
    {
        // Past 2^30 the doubling below overflows and never ends: callers size frames first (FftConv2D.Plan).
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, 1 << 30);
        int p = 1;
        while (p < n) p <<= 1;
        return p;
    }

    /// <summary>In-place forward DFT of any length.</summary>
    public static void Forward(Span<Complex> data) => Transform(data, inverse: false);

    /// <summary>In-place inverse DFT of any length, including the 1/n factor.</summary>
    public static void Inverse(Span<Complex> data)
    {
        Transform(data, inverse: true);
        double scale = 1.0 / data.Length;
        for (int i = 0; i < data.Length; i++) data[i] *= scale;
    }

    /// <summary>Unscaled transform with exp(-2 pi i jk/n) (forward) or exp(+2 pi i jk/n) (inverse).</summary>
    private static void Transform(Span<Complex> data, bool inverse)
    {
        int n = data.Length;
        if (n <= 1) return;
        if (IsPowerOfTwo(n)) Radix2(data, inverse);
        else Bluestein(data, inverse);
    }

    private static void Radix2(Span<Complex> a, bool inverse)
    {
        int n = a.Length;
        // Bit-reversal permutation.
        for (int i = 1, j = 0; i < n; i++)
        {
            int bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j) (a[i], a[j]) = (a[j], a[i]);
        }
        for (int len = 2; len <= n; len <<= 1)
        {
            int half = len / 2;
            double angle = (inverse ? 2 : -2) * Math.PI / len;
            for (int k = 0; k < half; k++)
            {
                // Twiddles computed directly (not by repeated multiplication) so errors do not accumulate.
                var w = Complex.FromPolarCoordinates(1, angle * k);
                for (int start = 0; start < n; start += len)
                {
                    Complex u = a[start + k], v = a[start + k + half] * w;
                    a[start + k] = u + v;
                    a[start + k + half] = u - v;
                }
            }
        }
    }

    private static void Bluestein(Span<Complex> x, bool inverse)
    {
        int n = x.Length;
        int m = NextPowerOfTwo(2 * n - 1);
        double sign = inverse ? 1 : -1;
        // chirp[k] = exp(sign * i pi k^2 / n); k^2 is reduced mod 2n first, since exp(i pi k^2/n) has period 2n in k^2,
        // which keeps the angle small and exact for large k.
        var chirp = new Complex[n];
        for (int k = 0; k < n; k++)
        {
            long k2 = (long)k * k % (2L * n);
            chirp[k] = Complex.FromPolarCoordinates(1, sign * Math.PI * k2 / n);
        }
        var a = new Complex[m];
        var b = new Complex[m];
        for (int k = 0; k < n; k++) a[k] = x[k] * chirp[k];
        b[0] = Complex.Conjugate(chirp[0]);
        for (int k = 1; k < n; k++) b[k] = b[m - k] = Complex.Conjugate(chirp[k]);
        Radix2(a, inverse: false);
        Radix2(b, inverse: false);
        for (int i = 0; i < m; i++) a[i] *= b[i];
        Radix2(a, inverse: true);
        for (int k = 0; k < n; k++) x[k] = a[k] / m * chirp[k];
    }

    /// <summary>In-place 2D transform of a row-major (h, w) array: rows, then columns.</summary>
    public static void Forward2D(Complex[] data, int h, int w) => Transform2D(data, h, w, inverse: false);

    public static void Inverse2D(Complex[] data, int h, int w) => Transform2D(data, h, w, inverse: true);

    private static void Transform2D(Complex[] data, int h, int w, bool inverse)
    {
        if (data.Length != h * w) throw new ArgumentException($"data has {data.Length} elements, ({h}, {w}) needs {h * w}");
        for (int y = 0; y < h; y++)
        {
            Span<Complex> row = data.AsSpan(y * w, w);
            if (inverse) Inverse(row);
            else Forward(row);
        }
        var column = new Complex[h];
        for (int x = 0; x < w; x++)
        {
            for (int y = 0; y < h; y++) column[y] = data[y * w + x];
            if (inverse) Inverse(column);
            else Forward(column);
            for (int y = 0; y < h; y++) data[y * w + x] = column[y];
        }
    }

    /// <summary>The textbook O(n^2) DFT, the definition the fast paths are tested against.</summary>
    public static Complex[] NaiveDft(ReadOnlySpan<Complex> x, bool inverse = false)
    {
        int n = x.Length;
        var r = new Complex[n];
        for (int k = 0; k < n; k++)
        {
            Complex sum = Complex.Zero;
            for (int j = 0; j < n; j++)
                sum += x[j] * Complex.FromPolarCoordinates(1, (inverse ? 2 : -2) * Math.PI * ((long)j * k % n) / n);
            r[k] = inverse ? sum / n : sum;
        }
        return r;
    }
}
