namespace ConvGL.Core.Ops;

/// <summary>The frame an FFT convolution runs in (the GPU's shaders/fft*.comp; the cost model of
/// <see cref="ConvAlgorithms"/> prices it). Overlap-save: the dense (stride 1) correlation of the padded input
/// with a kernel spanning dkH x dkW is exact, without wrap-around, at the outputs that are read whenever the
/// frame is at least as tall as the rows those outputs read; it does not need H + dkH - 1 rows. The dense rows
/// are cut into <see cref="Tiles"/> tiles along y, each of <see cref="TileRows"/> rows plus dkH - 1 rows of
/// overlap, and the tiles of one channel share a frame (the GPU packs them as the four floats of a texel).
/// Frame sides are 2^a 3^b 5^c so the transforms run as Stockham passes of radix 16, 8, 4, 2, 5, 3.
/// Where a frame of the whole input would pass a limit (the GPU's largest buffer), the dense rows run in
/// <see cref="Bands"/> bands one after the other through the same smaller frame: band b holds the tiles of dense
/// rows [b * tiles * TileRows, (b + 1) * tiles * TileRows) for the tile count the plan was made with.</summary>
public sealed record FftPlan(int FrameH, int FrameW, int TileRows, int NeedH, int NeedW, int DenseH, int DenseW, int Bands = 1)
{
    /// <summary>Real tiles per frame: four floats per texel.</summary>
    public const int Tiles = 4;

    /// <summary>Texels per frame.</summary>
    public long Plane => (long)FrameH * FrameW;

    /// <summary>The frame for an input (H, W) and kernel (kH, kW) under <paramref name="options"/>.
    /// <paramref name="tiles"/> (1..<see cref="Tiles"/>) cuts the dense rows into that many tiles: 4, the fastest, by
    /// default; 1 makes the frame hold every padded input value the outputs read in its first float (the convolution theorem view, whose
    /// spectra are then those of the input itself, not of a quarter of it).</summary>
    /// <paramref name="maxPlane"/>: the most texels a frame may hold; a taller input then runs in bands of fewer rows
    /// (the fewest bands whose frame fits). A frame one dense row tall that still does not fit is returned as is, with
    /// as many bands as dense rows: the caller's size check refuses it.
    public static FftPlan For(int h, int w, int kh, int kw, ConvOptions options, int tiles = Tiles, long maxPlane = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tiles, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tiles, Tiles);
        ConvGeometry g = ConvGeometry.Compute(h, w, kh, kw, options);
        // Dense positions up to the last one the stride samples; the padded rows they read end dk - 1 later.
        long denseH = (long)(g.Y.Output - 1) * options.StrideY + 1, denseW = (long)(g.X.Output - 1) * options.StrideX + 1;
        long dkh = (long)options.DilationY * (kh - 1) + 1, dkw = (long)options.DilationX * (kw - 1) + 1;
        long tileRows = (denseH + tiles - 1) / tiles;
        long frameH = tileRows + dkh - 1, needW = denseW + dkw - 1;
        const long limit = 1 << 24;
        if (frameH > limit || needW > limit)
            throw new ConvGLException($"an FFT frame of {frameH} x {needW} is beyond {limit} per side (kernel {kh}x{kw}, dilation {options.DilationY}x{options.DilationX}); use the direct algorithm");
        int frameW = GoodSize((int)needW);
        long bands = 1;
        if ((long)GoodSize((int)frameH) * frameW > maxPlane)
        {
            // The tallest tile whose frame fits (frame heights grow with the tile: GoodSize is monotone), then as
            // many bands as that needs, their tiles evened out (never taller, so the frame still fits).
            long lo = 1, hi = tileRows - 1;
            while (lo < hi)
            {
                long mid = (lo + hi + 1) / 2;
                if ((long)GoodSize((int)(mid + dkh - 1)) * frameW <= maxPlane) lo = mid;
                else hi = mid - 1;
            }
            long perBand = (long)tiles * lo;
            bands = (denseH + perBand - 1) / perBand;
            tileRows = (denseH + tiles * bands - 1) / (tiles * bands);
            frameH = tileRows + dkh - 1;
        }
        return new FftPlan(GoodSize((int)frameH), frameW, (int)tileRows, (int)(denseH + dkh - 1), (int)needW, (int)denseH, (int)denseW, (int)bands);
    }

    /// <summary>The smallest-cost length >= n made of 2, 3 and 5, where a length costs n * (its number of
    /// passes): 1024 (16 * 16 * 4, 3 passes) beats 1000 (8 * 5 * 5 * 5, 4 passes).</summary>
    public static int GoodSize(int n)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "a transform length must be at least 1");
        long best = long.MaxValue;
        int bestSize = 0;
        // A power of two at or above n is always a candidate, so nothing past it can win.
        long ceiling = 1;
        while (ceiling < n) ceiling <<= 1;
        for (long p2 = 1; p2 <= ceiling; p2 *= 2)
            for (long p3 = p2; p3 <= ceiling; p3 *= 3)
                for (long m = p3; m <= ceiling; m *= 5)
                {
                    if (m < n) continue;
                    long cost = m * Math.Max(1, Radices((int)m).Length);
                    if (cost < best || (cost == best && m < bestSize))
                    {
                        best = cost;
                        bestSize = (int)m;
                    }
                }
        return bestSize;
    }

    /// <summary>The radices of the Stockham passes for a 2^a 3^b 5^c length: sixteens, then an eight, four or two,
    /// then fives and threes. Length 1 needs no pass.</summary>
    public static int[] Radices(int n)
    {
        var r = new List<int>();
        int m = n;
        int twos = 0;
        while (m % 2 == 0)
        {
            m /= 2;
            twos++;
        }
        for (; twos >= 4; twos -= 4) r.Add(16);
        if (twos > 0) r.Add(1 << twos);
        for (; m % 5 == 0; m /= 5) r.Add(5);
        for (; m % 3 == 0; m /= 3) r.Add(3);
        if (m != 1) throw new ArgumentException($"FFT length {n} has a prime factor above 5", nameof(n));
        return [.. r];
    }
}
