using System.Globalization;
using System.Text;

namespace ConvGL.Core.Kernels;

/// <summary>One parameter of a named kernel. Integer parameters (sizes, counts) reject fractions, <see cref="Odd"/> ones
/// (the size of a kernel centred on a pixel) even values. A value must lie in [<see cref="Min"/>, <see cref="Max"/>],
/// or be 0 where <see cref="ZeroAllowed"/> (0 then has a documented meaning: OpenCV's default sigma, the automatic
/// Gabor size), or be one of <see cref="Values"/> when given: the domains keep every kernel finite in float32, where
/// sigma 1e-200 used to give NaN and an angle of 1e308 degrees an infinite argument to cos. The same record
/// validates a spec and writes `apply --help`, so the help cannot drift from what is accepted.</summary>
public sealed record KernelParameter(string Name, double Default, string Description, bool Integer = false,
    double Min = double.MinValue, double Max = double.MaxValue, bool ZeroAllowed = false, bool Odd = false, IReadOnlyList<double>? Values = null)
{
    /// <summary>The whole domain, for --help: "odd integer, between 1 and 1025", "number, at least 0.01", "4 or 8".</summary>
    public string FullDomain => Values is not null
        ? string.Join(" or ", Values.Select(Bound))
        : $"{(Odd ? "odd " : "")}{(Integer ? "integer" : "number")}, {Domain}";

    /// <summary>The domain in words, for messages and the README table: "between 0.01 and 10000 or 0".</summary>
    public string Domain => (Min, Max) switch
    {
        (double.MinValue, double.MaxValue) => "any number",
        (_, double.MaxValue) => $"at least {Bound(Min)}",
        _ => $"between {Bound(Min)} and {Bound(Max)}",
    } + (ZeroAllowed ? " or 0" : "");

    private static string Bound(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}

/// <summary>A named kernel: its parameters in positional order, and the function that builds it.</summary>
public sealed record KernelDefinition(string Name, string Description, IReadOnlyList<KernelParameter> Parameters, Func<double[], Tensor> Build);

/// <summary>The named kernels of DESIGN.md, all (kH, kW) float32 tensors in the orientation `correlate` uses
/// (sobel-x = [[-1,0,1],[-2,0,2],[-1,0,1]] responds positively to dark-to-bright, left to right; the y kernels
/// respond positively to dark-to-bright, top to bottom). Angles are in degrees, counter-clockwise as seen on the
/// screen (x right, y down), 0 pointing right.
///
/// Name syntax: `NAME`, `NAME:v1,v2,...` (positional, in the order of <see cref="Describe"/>) or
/// `NAME:key=value,...`; both may be mixed (positional first), e.g. `gaussian:5,1.5` == `gaussian:size=5,sigma=1.5`,
/// `laplacian:8`, `gabor:theta=45,lambda=6`. Names are case-sensitive lower case.
///
/// Kernels built around a centre pixel (identity, gaussian, unsharp, log, dog, gabor, motion-blur) need an odd
/// size; an even size is a <see cref="ConvGLException"/>. A box filter may be even: a mean is meaningful at any
/// size, and `same` padding then puts the extra row/column after (PyTorch's rule; OpenCV's default blur anchor, k/2,
/// puts it before).</summary>
public static class KernelLibrary
{
    private static readonly KernelDefinition[] Definitions =
    [
        new("identity", "1 at the centre: output = input", [Size(3, odd: true)], p => Identity((int)p[0])),
        new("box", "mean of a size x size window (1/size^2 each)", [Size(3)], p => Box((int)p[0])),
        new("gaussian", "normalised Gaussian blur; sigma 0 = OpenCV's default (getGaussianKernel's fixed kernel for size <= 9, else sigma 0.3*((size-1)/2 - 1) + 0.8)",
            [Size(5, odd: true), Sigma(0, "standard deviation in pixels; 0 = OpenCV's default (its fixed kernel up to size 9)", zero: true)], p => Gaussian((int)p[0], p[1])),
        new("sharpen", "[[0,-1,0],[-1,5,-1],[0,-1,0]]", [], _ => M([0, -1, 0], [-1, 5, -1], [0, -1, 0])),
        new("unsharp", "unsharp mask (1 + amount) * identity - amount * gaussian(size, sigma)",
            [Size(5, odd: true), Sigma(1, "blur standard deviation; 0 = OpenCV's default as for gaussian", zero: true), new("amount", 1, "sharpening strength", Min: -100, Max: 100)],
            p => Unsharp((int)p[0], p[1], p[2])),
        new("emboss", "[[-2,-1,0],[-1,1,1],[0,1,2]]", [], _ => M([-2, -1, 0], [-1, 1, 1], [0, 1, 2])),
        new("outline", "[[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]", [], _ => M([-1, -1, -1], [-1, 8, -1], [-1, -1, -1])),
        new("sobel-x", "[[-1,0,1],[-2,0,2],[-1,0,1]]", [], _ => M([-1, 0, 1], [-2, 0, 2], [-1, 0, 1])),
        new("sobel-y", "[[-1,-2,-1],[0,0,0],[1,2,1]]", [], _ => M([-1, -2, -1], [0, 0, 0], [1, 2, 1])),
        new("scharr-x", "[[-3,0,3],[-10,0,10],[-3,0,3]]", [], _ => M([-3, 0, 3], [-10, 0, 10], [-3, 0, 3])),
        new("scharr-y", "[[-3,-10,-3],[0,0,0],[3,10,3]]", [], _ => M([-3, -10, -3], [0, 0, 0], [3, 10, 3])),
        new("prewitt-x", "[[-1,0,1],[-1,0,1],[-1,0,1]]", [], _ => M([-1, 0, 1], [-1, 0, 1], [-1, 0, 1])),
        new("prewitt-y", "[[-1,-1,-1],[0,0,0],[1,1,1]]", [], _ => M([-1, -1, -1], [0, 0, 0], [1, 1, 1])),
        new("laplacian", "4-neighbour [[0,1,0],[1,-4,1],[0,1,0]] or 8-neighbour [[1,1,1],[1,-8,1],[1,1,1]]",
            [new("neighbours", 4, "4 or 8 neighbours", Integer: true, Min: 4, Max: 8, Values: [4, 8])], p => Laplacian(p[0])),
        new("log", "Laplacian of Gaussian -(1 - r^2/2s^2) exp(-r^2/2s^2) / (pi s^4), shifted to sum 0 (negative centre)",
            [Size(9, min: 3, odd: true), Sigma(1.4, "standard deviation")], p => LaplacianOfGaussian((int)p[0], p[1])),
        new("dog", "difference of Gaussians gaussian(sigma1) - gaussian(sigma2), each summing to 1 (sum 0, positive centre)",
            [Size(9, min: 3, odd: true), Sigma(1, "inner standard deviation", "sigma1"), Sigma(1.6, "outer standard deviation", "sigma2")],
            p => DifferenceOfGaussians((int)p[0], p[1], p[2])),
        new("gabor", "exp(-(x'^2 + gamma^2 y'^2) / 2 sigma^2) cos(2 pi x'/lambda + psi), x' along theta; not normalised",
            [Angle("theta", "orientation of the wave vector, degrees"),
             // No upper bound on sigma here: the automatic size (at most 1025) bounds it, and with a given size a wide
             // envelope is simply flat.
             new("sigma", 2, "envelope standard deviation", Min: 0.01),
             new("lambda", 6, "wavelength in pixels", Min: 0.01, Max: 1e6), new("gamma", 0.5, "aspect ratio of the envelope", Min: -100, Max: 100),
             Angle("psi", "phase offset, degrees (90 = odd/sine Gabor)"),
             new("size", 0, "kernel width and height; 0 = 2*ceil(3*sigma)+1", Integer: true, Min: 1, Max: 1025, ZeroAllowed: true, Odd: true)],
            p => Gabor(p[0], p[1], p[2], p[3], p[4], p[5])),
        new("motion-blur", "an anti-aliased line of the given length through the centre, summing to 1",
            [new("length", 9, "length in pixels (the kernel is length x length)", Integer: true, Min: 1, Max: 1025, Odd: true), Angle("angle", "degrees, 0 = horizontal")],
            p => MotionBlur((int)p[0], p[1])),
        new("vertical-edge", "[[1,0,-1],[1,0,-1],[1,0,-1]] (the textbook vertical edge detector)", [], _ => M([1, 0, -1], [1, 0, -1], [1, 0, -1])),
        new("horizontal-edge", "[[1,1,1],[0,0,0],[-1,-1,-1]]", [], _ => M([1, 1, 1], [0, 0, 0], [-1, -1, -1])),
    ];

    /// <summary>A size; the zero-sum kernels (log, dog) start at 3, as a 1x1 one is 0.</summary>
    private static KernelParameter Size(int d, int min = 1, bool odd = false) => new("size", d, "kernel width and height", Integer: true, Min: min, Max: 1025, Odd: odd);

    /// <summary>Standard deviations: below 0.01 the Gaussian's exponent divides by an underflowed 2 sigma^2 (NaN at
    /// the centre), above 10000 sigma^4 in the LoG's normaliser heads for overflow; neither is a useful blur.</summary>
    private static KernelParameter Sigma(double d, string description, string name = "sigma", bool zero = false) =>
        new(name, d, description, Min: 0.01, Max: 10000, ZeroAllowed: zero);

    /// <summary>Angles in degrees, within ten turns: 1e308 degrees in radians is infinite, and cos(inf) is NaN.</summary>
    private static KernelParameter Angle(string name, string description) => new(name, 0, description, Min: -3600, Max: 3600);

    public static IReadOnlyList<KernelDefinition> All => Definitions;

    public static IEnumerable<string> Names => Definitions.Select(d => d.Name);

    /// <summary>True when the part of <paramref name="spec"/> before ':' names a library kernel.</summary>
    public static bool IsName(string spec) => Find(spec.Split(':', 2)[0]) is not null;

    private static KernelDefinition? Find(string name) => Array.Find(Definitions, d => d.Name == name);

    /// <summary>"did you mean 'sobel-x'? " for a name one or two edits from a known one (a missing dash, a typo), else "".</summary>
    internal static string DidYouMean(string name) => DidYouMean(name, Definitions.Select(d => d.Name));

    /// <summary>The same among <paramref name="known"/> names (the shipped stacks and models too).</summary>
    internal static string DidYouMean(string name, IEnumerable<string> known)
    {
        string lower = name.ToLowerInvariant();
        string? best = null;
        int bestDistance = 3;
        foreach (string k in known)
        {
            int distance = EditDistance(lower, k);
            if (distance < bestDistance) (best, bestDistance) = (k, distance);
        }
        return best is null ? "" : $"did you mean '{best}'? ";
    }

    // Levenshtein distance (insertions, deletions, substitutions), two rows.
    private static int EditDistance(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 2 || a.Length > 64) return int.MaxValue;
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    /// <summary>Builds the kernel a spec names, e.g. "sobel-x", "gaussian:5,1.5", "gabor:theta=45".</summary>
    public static Tensor Get(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string[] parts = spec.Split(':', 2);
        string name = parts[0].Trim();
        KernelDefinition def = Find(name)
            ?? throw new ConvGLException($"unknown kernel '{ErrorText.Echo(name)}' ({DidYouMean(name)}known: {string.Join(", ", Names)}; or give a kernel file path)");
        double[] values = ParseArguments(def, parts.Length > 1 ? parts[1] : "", ErrorText.Echo(spec));
        Tensor kernel = def.Build(values);
        // Defence in depth behind the domains: a kernel is finite in float32 or it is not returned.
        for (int i = 0; i < kernel.Length; i++)
            if (!float.IsFinite(kernel.Data[i]))
                throw new ConvGLException($"kernel '{ErrorText.Echo(spec)}': entry ({i / kernel.W}, {i % kernel.W}) is {kernel.Data[i]} in float32; choose parameters within the documented domains");
        return kernel;
    }

    private static double[] ParseArguments(KernelDefinition def, string args, string spec)
    {
        var values = def.Parameters.Select(p => p.Default).ToArray();
        var given = new bool[values.Length];
        if (args.Trim().Length == 0)
        {
            // "gaussian:" with nothing after the colon was taken as the defaults, "gaussian:," refused (a review):
            // a colon promises parameters.
            if (spec.Contains(':', StringComparison.Ordinal))
                throw new ConvGLException($"kernel '{spec}': nothing after the ':'; give parameters ({ParameterList(def)}) or drop the ':' for the defaults");
            return values;
        }
        int position = 0;
        bool namedSeen = false;
        foreach (string raw in args.Split(','))
        {
            string item = raw.Trim();
            int index;
            string text;
            int eq = item.IndexOf('=');
            if (eq >= 0)
            {
                string key = item[..eq].Trim();
                text = item[(eq + 1)..].Trim();
                index = def.Parameters.ToList().FindIndex(p => p.Name == key);
                if (index < 0)
                    throw new ConvGLException($"kernel '{spec}': '{def.Name}' has no parameter '{ErrorText.Echo(key)}' (parameters: {ParameterList(def)})");
                namedSeen = true;
            }
            else
            {
                if (namedSeen) throw new ConvGLException($"kernel '{spec}': positional value '{ErrorText.Echo(item)}' after a key=value one; put positional values first");
                if (position >= def.Parameters.Count)
                    throw new ConvGLException($"kernel '{spec}': '{def.Name}' takes {def.Parameters.Count} parameter(s) ({ParameterList(def)}), got more");
                index = position++;
                text = item;
            }
            KernelParameter p = def.Parameters[index];
            if (given[index]) throw new ConvGLException($"kernel '{spec}': parameter '{p.Name}' given twice");
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                throw new ConvGLException($"kernel '{spec}': parameter '{p.Name}' must be a number, got '{ErrorText.Echo(text)}'");
            // A value too small for a double reads as 0, which may mean "automatic" (gaussian:5,1e-400 ran as sigma 0).
            if (v == 0 && text.TakeWhile(ch => ch is not ('e' or 'E')).Any(ch => ch is >= '1' and <= '9'))
                throw new ConvGLException($"kernel '{spec}': parameter '{p.Name}' '{ErrorText.Echo(text)}' is too small to represent (it would read as 0); must be {p.Domain}");
            if (p.Integer && v != Math.Floor(v))
                throw new ConvGLException($"kernel '{spec}': parameter '{p.Name}' must be an integer, got '{ErrorText.Echo(text)}'");
            if (!(v == 0 && p.ZeroAllowed) && (v < p.Min || v > p.Max))
                throw new ConvGLException($"kernel '{spec}': parameter '{p.Name}' must be {p.Domain}, got '{ErrorText.Echo(text)}'");
            if (p.Values is not null && !p.Values.Contains(v))
                throw new ConvGLException($"kernel '{spec}': parameter '{p.Name}' must be {p.FullDomain}, got '{ErrorText.Echo(text)}'");
            if (p.Odd && v % 2 == 0 && !(v == 0 && p.ZeroAllowed)) throw EvenSize(def.Name, p.Name, (int)v);
            values[index] = v;
            given[index] = true;
        }
        return values;
    }

    private static string ParameterList(KernelDefinition def) =>
        def.Parameters.Count == 0 ? "none" : string.Join(", ", def.Parameters.Select(p => $"{p.Name}={Format(p.Default)}"));

    // Up to 3 decimals; a huge or tiny value in 4 significant digits with its exponent (sigma=1e300 printed 301 digits,
    // twice, in a 700-character error).
    private static string Format(double v) =>
        v != 0 && (Math.Abs(v) >= 1e7 || Math.Abs(v) < 1e-3)
            ? v.ToString("G4", CultureInfo.InvariantCulture).Replace('E', 'e')
            : v.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>Every name with what it is, then each of its parameters (positional order) with its default, its
    /// domain and what it means: `apply --help` prints this, made from the definitions that validate a spec.</summary>
    public static string Describe()
    {
        var sb = new StringBuilder();
        foreach (KernelDefinition d in Definitions)
        {
            sb.Append("  ").Append(d.Name.PadRight(17)).Append(' ').AppendLine(d.Description);
            foreach (KernelParameter p in d.Parameters)
                sb.Append("      ").Append($"{p.Name}={Format(p.Default)}".PadRight(14)).Append(p.FullDomain).Append(": ").AppendLine(p.Description);
        }
        return sb.ToString();
    }

    // ---- size checks --------------------------------------------------------------------------------------

    private static int PositiveSize(string name, double v, string what = "size")
    {
        if (v < 1 || v > 1025)
            throw new ConvGLException($"kernel '{name}': {what} {Format(v)} must be between 1 and 1025" +
                                      (what.StartsWith("size (automatic", StringComparison.Ordinal) ? "; give a smaller sigma, or size= explicitly" : ""));
        return (int)v;
    }

    private static int OddSize(string name, double v, string what = "size")
    {
        int n = PositiveSize(name, v, what);
        if (n % 2 == 0) throw EvenSize(name, what, n);
        return n;
    }

    private static ConvGLException EvenSize(string name, string what, int n) =>
        new($"kernel '{name}': {what} {n} is even; this kernel is centred on a pixel and needs an odd {what}, e.g. {n + 1}");

    // ---- builders (double precision, one rounding to float32 at the end) -----------------------------------

    private static Tensor M(params double[][] rows) => FromDouble(rows.Length, rows[0].Length, (y, x) => rows[y][x]);

    private static Tensor FromDouble(int h, int w, Func<int, int, double> f)
    {
        var t = new Tensor([h, w]);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) t[y, x] = (float)f(y, x);
        return t;
    }

    private static double[,] Grid(int h, int w, Func<int, int, double> f)
    {
        var g = new double[h, w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) g[y, x] = f(y, x);
        return g;
    }

    private static Tensor ToTensor(double[,] g) => FromDouble(g.GetLength(0), g.GetLength(1), (y, x) => g[y, x]);

    private static Tensor Identity(int n) => FromDouble(n, n, (y, x) => y == n / 2 && x == n / 2 ? 1 : 0);

    private static Tensor Box(int n) => FromDouble(n, n, (_, _) => 1.0 / (n * n));

    /// <summary>OpenCV's getGaussianKernel default when sigma &lt;= 0.</summary>
    public static double DefaultSigma(int size) => 0.3 * ((size - 1) * 0.5 - 1) + 0.8;

    /// <summary>OpenCV's getGaussianKernel does not sample a Gaussian when sigma &lt;= 0 and the size is 1 to 9: it
    /// returns these fixed kernels (binomial up to 5), the ones cv::GaussianBlur(ksize, 0) really uses. Indexed by n / 2.</summary>
    private static readonly double[][] SmallDefaultGaussians =
    [
        [1],
        [0.25, 0.5, 0.25],
        [0.0625, 0.25, 0.375, 0.25, 0.0625],
        [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
        [4 / 256.0, 13 / 256.0, 30 / 256.0, 51 / 256.0, 60 / 256.0, 51 / 256.0, 30 / 256.0, 13 / 256.0, 4 / 256.0],
    ];

    /// <summary>The normalised 1D Gaussian of odd length n (sum 1). sigma &lt;= 0 means OpenCV's default: its fixed
    /// kernel for n &lt;= 9, else the Gaussian of <see cref="DefaultSigma"/>.</summary>
    public static double[] Gaussian1D(int n, double sigma)
    {
        if (sigma <= 0 && n % 2 == 1 && n / 2 < SmallDefaultGaussians.Length) return (double[])SmallDefaultGaussians[n / 2].Clone();
        if (sigma <= 0) sigma = DefaultSigma(n);
        var g = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double x = i - n / 2;
            g[i] = Math.Exp(-x * x / (2 * sigma * sigma));
            sum += g[i];
        }
        for (int i = 0; i < n; i++) g[i] /= sum;
        return g;
    }

    private static double[,] Gaussian2D(int n, double sigma)
    {
        double[] g = Gaussian1D(n, sigma);
        return Grid(n, n, (y, x) => g[y] * g[x]);
    }

    private static Tensor Gaussian(int n, double sigma) => ToTensor(Gaussian2D(n, sigma));

    private static Tensor Unsharp(int n, double sigma, double amount)
    {
        double[,] g = Gaussian2D(n, sigma);
        return FromDouble(n, n, (y, x) => (y == n / 2 && x == n / 2 ? 1 + amount : 0) - amount * g[y, x]);
    }

    private static Tensor Laplacian(double neighbours) => neighbours switch
    {
        4 => M([0, 1, 0], [1, -4, 1], [0, 1, 0]),
        8 => M([1, 1, 1], [1, -8, 1], [1, 1, 1]),
        _ => throw new ConvGLException($"kernel 'laplacian': neighbours must be 4 or 8, got {Format(neighbours)}"),
    };

    private static Tensor LaplacianOfGaussian(int n, double sigma)
    {
        if (sigma <= 0) throw new ConvGLException($"kernel 'log': sigma must be positive, got {Format(sigma)}");
        int c = n / 2;
        double s2 = sigma * sigma;
        double[,] g = Grid(n, n, (y, x) =>
        {
            double r2 = (x - c) * (x - c) + (y - c) * (y - c);
            return -(1 - r2 / (2 * s2)) * Math.Exp(-r2 / (2 * s2)) / (Math.PI * s2 * s2);
        });
        // A truncated LoG does not sum to 0; shifting it makes flat regions respond exactly 0.
        double mean = g.Cast<double>().Average();
        return FromDouble(n, n, (y, x) => g[y, x] - mean);
    }

    private static Tensor DifferenceOfGaussians(int n, double sigma1, double sigma2)
    {
        if (sigma1 <= 0 || sigma2 <= 0) throw new ConvGLException($"kernel 'dog': sigmas must be positive, got {Format(sigma1)}, {Format(sigma2)}");
        double[,] a = Gaussian2D(n, sigma1), b = Gaussian2D(n, sigma2);
        return FromDouble(n, n, (y, x) => a[y, x] - b[y, x]);
    }

    private static Tensor Gabor(double thetaDeg, double sigma, double lambda, double gamma, double psiDeg, double size)
    {
        if (sigma <= 0 || lambda <= 0) throw new ConvGLException($"kernel 'gabor': sigma and lambda must be positive, got {Format(sigma)}, {Format(lambda)}");
        // The automatic size goes through the same bounds as a given one: a huge sigma must be a clear error,
        // not an int overflow (2 * ceil(3e9) + 1 wraps negative) or a kernel of millions of taps.
        int n = OddSize("gabor", size == 0 ? 2 * Math.Ceiling(3 * sigma) + 1 : size,
            size == 0 ? $"size (automatic 2*ceil(3*sigma)+1 for sigma {Format(sigma)})" : "size");
        int c = n / 2;
        double theta = thetaDeg * Math.PI / 180, psi = psiDeg * Math.PI / 180;
        double cos = Math.Cos(theta), sin = Math.Sin(theta);
        return FromDouble(n, n, (row, col) =>
        {
            // Screen coordinates: x right, y up (so that a positive angle turns counter-clockwise on screen).
            double x = col - c, y = c - row;
            double xr = x * cos + y * sin, yr = -x * sin + y * cos;
            return Math.Exp(-(xr * xr + gamma * gamma * yr * yr) / (2 * sigma * sigma)) * Math.Cos(2 * Math.PI * xr / lambda + psi);
        });
    }

    private static Tensor MotionBlur(int length, double angleDeg)
    {
        int c = length / 2;
        double a = angleDeg * Math.PI / 180;
        double dx = Math.Cos(a), dy = Math.Sin(a);
        // Each cell is weighted by 1 - (its distance to the segment), clipped at 0: an anti-aliased line one pixel
        // wide whose cells along an axis-aligned segment get exactly 1 and their neighbours 0.
        double[,] g = Grid(length, length, (row, col) =>
        {
            double x = col - c, y = c - row;
            double t = Math.Clamp(x * dx + y * dy, -c, c);
            double ex = x - t * dx, ey = y - t * dy;
            return Math.Max(0, 1 - Math.Sqrt(ex * ex + ey * ey));
        });
        double sum = g.Cast<double>().Sum();
        return FromDouble(length, length, (y, x) => g[y, x] / sum);
    }
}
