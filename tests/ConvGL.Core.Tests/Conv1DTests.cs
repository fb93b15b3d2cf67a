using ConvGL.Core.Ops;

namespace ConvGL.Core.Tests;

public class Conv1DTests
{
    [Fact]
    public void Convolve_2_4_With_7_3_1_Gives_14_34_14_4()
    {
        // (2 + 4x)(7 + 3x + x^2) = 14 + 34x + 14x^2 + 4x^3.
        Assert.Equal([14.0, 34, 14, 4], Conv1D.Convolve([2.0, 4], [7.0, 3, 1]));
    }

    [Fact]
    public void Multiply_42_By_137_ByConvolvingDigitsThenCarrying_Gives5754()
    {
        // Digits least significant first: 42 -> (2, 4), 137 -> (7, 3, 1). Multiplication of numbers is convolution
        // of their digit sequences followed by carrying.
        double[] raw = Conv1D.Convolve([2.0, 4], [7.0, 3, 1]);
        Assert.Equal([14.0, 34, 14, 4], raw);
        long value = 0, place = 1, carry = 0;
        var digits = new List<long>();
        foreach (double d in raw)
        {
            long s = (long)d + carry;
            digits.Add(s % 10);
            carry = s / 10;
        }
        while (carry > 0) { digits.Add(carry % 10); carry /= 10; }
        Assert.Equal([4L, 5, 7, 5], digits); // 14 -> 4 carry 1; 35 -> 5 carry 3; 17 -> 7 carry 1; 5
        foreach (long d in digits) { value += d * place; place *= 10; }
        Assert.Equal(42 * 137, value);
        Assert.Equal(5754, value);
    }

    [Fact]
    public void TwoDice_SumDistribution_IsTriangular_P4Is3Over36()
    {
        double[] die = [1, 1, 1, 1, 1, 1]; // counts of faces 1..6
        double[] counts = Conv1D.Convolve(die, die);
        // Sums 2..12: ways 1,2,3,4,5,6,5,4,3,2,1 (36 in all).
        Assert.Equal([1.0, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1], counts);
        Assert.Equal(36.0, counts.Sum());
        Assert.Equal(3.0, counts[4 - 2]); // sum 4 = (1,3), (2,2), (3,1)
        double[] p = Conv1D.Convolve(Enumerable.Repeat(1.0 / 6, 6).ToArray(), Enumerable.Repeat(1.0 / 6, 6).ToArray());
        Assert.Equal(3.0 / 36, p[2], 15);
        Assert.Equal(6.0 / 36, p[5], 15);
    }

    [Fact]
    public void Modes_MatchNumPyValuesCheckedByHand()
    {
        // np.convolve([1,2,3],[0,1,0.5],'same') = [1, 2.5, 4]: full is [0,1,2.5,4,1.5], NumPy keeps it from index 1.
        Assert.Equal([0.0, 1, 2.5, 4, 1.5], Conv1D.Convolve([1.0, 2, 3], [0.0, 1, 0.5], Conv1DMode.Full));
        Assert.Equal([1.0, 2.5, 4], Conv1D.Convolve([1.0, 2, 3], [0.0, 1, 0.5], Conv1DMode.Same));
        Assert.Equal([2.5], Conv1D.Convolve([1.0, 2, 3], [0.0, 1, 0.5], Conv1DMode.Valid));
        // Even kernel: np.convolve([1,2,3,4],[1,1],'same') = [1,3,5,7] (full [1,3,5,7,4] from index 0).
        Assert.Equal([1.0, 3, 5, 7], Conv1D.Convolve([1.0, 2, 3, 4], [1.0, 1], Conv1DMode.Same));
        // np.convolve([1,2,3,4,5],[1,2,3,4],'same') = [4,10,20,30,34] (full [1,4,10,20,30,34,31,20] from index 1).
        Assert.Equal([4.0, 10, 20, 30, 34], Conv1D.Convolve([1.0, 2, 3, 4, 5], [1.0, 2, 3, 4], Conv1DMode.Same));
        // The longer argument second: NumPy swaps, the result is the same.
        Assert.Equal([4.0, 10, 20, 30, 34], Conv1D.Convolve([1.0, 2, 3, 4], [1.0, 2, 3, 4, 5], Conv1DMode.Same));
    }

    [Fact]
    public void Correlate_MatchesNumPy_IncludingTheSwappedEvenSameCase()
    {
        // np.correlate([1,2,3,4],[1,10],'valid') = [21,32,43]; 'full' = [10,21,32,43,4].
        Assert.Equal([21.0, 32, 43], Conv1D.Correlate([1.0, 2, 3, 4], [1.0, 10]));
        Assert.Equal([10.0, 21, 32, 43, 4], Conv1D.Correlate([1.0, 2, 3, 4], [1.0, 10], Conv1DMode.Full));
        // v longer than a: NumPy correlates (v, a) and reverses. np.correlate([1,2],[1,10,100,1000],'same')
        // = [2100, 210, 21, 2], while np.convolve([1,2],[1000,100,10,1],'same') = [1000, 2100, 210, 21].
        Assert.Equal([2100.0, 210, 21, 2], Conv1D.Correlate([1.0, 2], [1.0, 10, 100, 1000], Conv1DMode.Same));
        Assert.Equal([1000.0, 2100, 210, 21], Conv1D.Convolve([1.0, 2], [1000.0, 100, 10, 1], Conv1DMode.Same));
        Assert.Equal([1000.0, 2100, 210, 21, 2], Conv1D.Correlate([1.0, 2], [1.0, 10, 100, 1000], Conv1DMode.Full));
    }

    [Fact]
    public void FullConvolution_Commutes_OverRandomLengths()
    {
        var rng = new Random(1234);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = rng.Next(1, 20), m = rng.Next(1, 20);
            double[] a = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            double[] v = Enumerable.Range(0, m).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            double[] av = Conv1D.Convolve(a, v), va = Conv1D.Convolve(v, a);
            Assert.Equal(n + m - 1, av.Length);
            for (int i = 0; i < av.Length; i++)
                Assert.True(Math.Abs(av[i] - va[i]) < 1e-12, $"trial {trial} n={n} m={m} index {i}: {av[i]} vs {va[i]}");
        }
    }

    [Fact]
    public void AllModes_AgreeWithBruteForceDefinitionSlices()
    {
        // full[k] = sum_i a[i] v[k - i]; 'same' and 'valid' are the centred slices NumPy documents.
        var rng = new Random(99);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = rng.Next(1, 12), m = rng.Next(1, 12);
            double[] a = Enumerable.Range(0, n).Select(_ => (double)rng.Next(-9, 10)).ToArray();
            double[] v = Enumerable.Range(0, m).Select(_ => (double)rng.Next(-9, 10)).ToArray();
            var full = new double[n + m - 1];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < m; j++) full[i + j] += a[i] * v[j];
            int lo = Math.Min(n, m), hi = Math.Max(n, m);
            Assert.Equal(full, Conv1D.Convolve(a, v, Conv1DMode.Full));
            Assert.Equal(full.Skip((lo - 1) - lo / 2).Take(hi).ToArray(), Conv1D.Convolve(a, v, Conv1DMode.Same));
            Assert.Equal(full.Skip(lo - 1).Take(hi - lo + 1).ToArray(), Conv1D.Convolve(a, v, Conv1DMode.Valid));
            // correlate(a, v) == convolve(a, reversed v) whenever a is the longer (or equal) one.
            if (n >= m)
                foreach (Conv1DMode mode in Enum.GetValues<Conv1DMode>())
                    Assert.Equal(Conv1D.Convolve(a, v.Reverse().ToArray(), mode), Conv1D.Correlate(a, v, mode));
        }
    }

    [Fact]
    public void Empty_Throws() => Assert.Throws<ConvGLException>(() => Conv1D.Convolve([], [1.0]));
}
