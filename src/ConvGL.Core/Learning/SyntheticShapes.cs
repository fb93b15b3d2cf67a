namespace ConvGL.Core.Learning;

/// <summary>One labelled gray image (1, S, S) with values in [0, 1].</summary>
public sealed record Sample(Tensor Image, int Label);

/// <summary>The images ConvGL learns from, generated here so nothing third-party is needed: ten classes of
/// small gray pictures, each drawn at a random position, size, rotation jitter, contrast polarity and noise level.
///
///     0 h-grating    sinusoidal stripes, horizontal (+-10 degrees), in a disc window
///     1 v-grating    the same, vertical
///     2 d-grating    the same, on either diagonal
///     3 circle       filled disc
///     4 square       filled square, rotated up to +-20 degrees
///     5 triangle     filled equilateral triangle, rotated up to +-20 degrees
///     6 plus         two crossing bars, upright
///     7 x-cross      two crossing bars, diagonal
///     8 dots         4 to 7 small discs scattered over the image
///     9 checkerboard square patch of 3 to 6 pixel cells
///
/// Everything is drawn from one seeded <see cref="Random"/>, sample after sample, so a (count, seed, size)
/// triple always gives the same images; train and test sets use different seeds. Shapes are rendered with 3x3
/// supersampling (anti-aliased edges), then Gaussian noise is added and the result clamped to [0, 1].</summary>
public static class SyntheticShapes
{
    public static readonly IReadOnlyList<string> ClassNames =
        ["h-grating", "v-grating", "d-grating", "circle", "square", "triangle", "plus", "x-cross", "dots", "checkerboard"];

    public static int ClassCount => ClassNames.Count;

    /// <summary><paramref name="count"/> samples with labels 0, 1, ..., 9, 0, 1, ... (balanced classes).</summary>
    public static IReadOnlyList<Sample> Generate(int count, int seed, int size = 28)
    {
        if (count < 1) throw new ConvGLException($"sample count must be at least 1, got {count}");
        if (size < 12) throw new ConvGLException($"image size must be at least 12 pixels, got {size}");
        var rng = new Random(seed);
        var samples = new Sample[count];
        for (int n = 0; n < count; n++)
        {
            int label = n % ClassCount;
            samples[n] = new Sample(Draw(label, size, rng), label);
        }
        return samples;
    }

    /// <summary>Draws one image of class <paramref name="label"/>.</summary>
    public static Tensor Draw(int label, int size, Random rng)
    {
        if ((uint)label >= (uint)ClassCount) throw new ArgumentOutOfRangeException(nameof(label));
        double s = size;
        // Placement shared by the single-object classes: centre in the middle 40%, radius 18-32% of the image.
        double cx = s * U(rng, 0.35, 0.65), cy = s * U(rng, 0.35, 0.65);
        double r = s * U(rng, 0.18, 0.32);
        double jitter = U(rng, -1, 1);
        Func<double, double, bool> inside = label switch
        {
            0 => Grating(rng, cx, cy, s, 90 + 10 * jitter),
            1 => Grating(rng, cx, cy, s, 10 * jitter),
            2 => Grating(rng, cx, cy, s, (rng.Next(2) == 0 ? 45 : 135) + 10 * jitter),
            3 => (x, y) => Sq(x - cx) + Sq(y - cy) <= r * r,
            4 => Rotated(cx, cy, 20 * jitter, (u, v) => Math.Max(Math.Abs(u), Math.Abs(v)) <= 0.85 * r),
            5 => Rotated(cx, cy, 20 * jitter, (u, v) => Triangle(u, v, 1.1 * r)),
            6 => Rotated(cx, cy, 10 * jitter, Bars(r, U(rng, 0.12, 0.22) * r * 2)),
            7 => Rotated(cx, cy, 45 + 10 * jitter, Bars(r, U(rng, 0.12, 0.22) * r * 2)),
            8 => Dots(rng, s),
            _ => Checkerboard(rng, cx, cy, s),
        };

        // Contrast: a background level, a foreground at least 0.3 away from it, either polarity.
        double low = U(rng, 0.0, 0.45), high = Math.Min(1.0, low + U(rng, 0.3, 0.6));
        (double bg, double fg) = rng.Next(2) == 0 ? (low, high) : (high, low);
        double noise = U(rng, 0.0, 0.08);

        var image = Tensor.Chw(1, size, size);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int hits = 0;
                for (int sy = 0; sy < 3; sy++)
                    for (int sx = 0; sx < 3; sx++)
                        if (inside(x + (sx + 0.5) / 3.0, y + (sy + 0.5) / 3.0)) hits++;
                double v = bg + (fg - bg) * hits / 9.0 + noise * Gaussian(rng);
                image[0, y, x] = (float)Math.Clamp(v, 0.0, 1.0);
            }
        return image;
    }

    /// <summary>A (1, H, W) sheet with one row per class and <paramref name="perClass"/> samples per row,
    /// 2-pixel mid-gray gutters: the preview image of the data set.</summary>
    public static Tensor PreviewGrid(int perClass, int seed, int size = 28)
    {
        IReadOnlyList<Sample> samples = Generate(perClass * ClassCount, seed, size);
        const int gap = 2;
        int cell = size + gap;
        var sheet = Tensor.Chw(1, ClassCount * cell + gap, perClass * cell + gap);
        Array.Fill(sheet.Data, 0.5f);
        for (int n = 0; n < samples.Count; n++)
        {
            int row = samples[n].Label, col = n / ClassCount;
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                    sheet[0, gap + row * cell + y, gap + col * cell + x] = samples[n].Image[0, y, x];
        }
        return sheet;
    }

    private static double U(Random rng, double lo, double hi) => lo + (hi - lo) * rng.NextDouble();

    private static double Sq(double v) => v * v;

    /// <summary>Standard normal by Box-Muller (two uniforms per draw: simple and reproducible).</summary>
    private static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>A shape given in its own frame (u, v), rotated by <paramref name="degrees"/> about (cx, cy).</summary>
    private static Func<double, double, bool> Rotated(double cx, double cy, double degrees, Func<double, double, bool> shape)
    {
        double a = degrees * Math.PI / 180.0, c = Math.Cos(a), s = Math.Sin(a);
        return (x, y) =>
        {
            double dx = x - cx, dy = y - cy;
            return shape(c * dx + s * dy, -s * dx + c * dy);
        };
    }

    /// <summary>Equilateral triangle with circumradius R, apex up: inside when every edge's outward
    /// distance is at most the inradius R/2. The outward normal of each edge points away from its opposite vertex.</summary>
    private static bool Triangle(double u, double v, double circumradius)
    {
        for (int k = 0; k < 3; k++)
        {
            double vertexAngle = -Math.PI / 2 + k * 2 * Math.PI / 3;
            if (-(u * Math.Cos(vertexAngle) + v * Math.Sin(vertexAngle)) > circumradius / 2) return false;
        }
        return true;
    }

    private static Func<double, double, bool> Bars(double halfLength, double thickness) =>
        (u, v) => (Math.Abs(u) <= halfLength && Math.Abs(v) <= thickness / 2) || (Math.Abs(v) <= halfLength && Math.Abs(u) <= thickness / 2);

    /// <summary>Sinusoidal stripes whose crests run along <paramref name="degrees"/> (0 = vertical stripes),
    /// thresholded at a random duty cycle so they stay two-tone like the other classes, in a disc window.</summary>
    private static Func<double, double, bool> Grating(Random rng, double cx, double cy, double s, double degrees)
    {
        double a = degrees * Math.PI / 180.0, nx = Math.Cos(a), ny = Math.Sin(a);
        double period = U(rng, 4.0, 8.0), phase = U(rng, 0, 2 * Math.PI), threshold = U(rng, -0.3, 0.3);
        double window = s * U(rng, 0.3, 0.5);
        return (x, y) =>
            Sq(x - cx) + Sq(y - cy) <= window * window &&
            Math.Sin(2 * Math.PI * (nx * x + ny * y) / period + phase) > threshold;
    }

    private static Func<double, double, bool> Dots(Random rng, double s)
    {
        int n = rng.Next(4, 8);
        var dots = new (double X, double Y, double R)[n];
        for (int k = 0; k < n; k++) dots[k] = (U(rng, 3, s - 3), U(rng, 3, s - 3), U(rng, 1.2, 2.2));
        return (x, y) => dots.Any(d => Sq(x - d.X) + Sq(y - d.Y) <= d.R * d.R);
    }

    private static Func<double, double, bool> Checkerboard(Random rng, double cx, double cy, double s)
    {
        double cell = U(rng, 3.0, 6.0), half = s * U(rng, 0.3, 0.45);
        return (x, y) =>
        {
            double u = x - cx, v = y - cy;
            if (Math.Abs(u) > half || Math.Abs(v) > half) return false;
            return (Math.Floor(u / cell) + Math.Floor(v / cell)) % 2 == 0;
        };
    }
}
