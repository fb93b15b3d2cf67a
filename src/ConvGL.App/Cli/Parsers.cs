using System.Globalization;
using ConvGL.Core;

namespace ConvGL.App.Cli;

/// <summary>Where a command runs its work: the CPU reference or the GPU (a headless context).</summary>
internal enum Device { Cpu, Gpu }

/// <summary>The one place the command line's value syntaxes are parsed (sizes, modes, borders, devices, padding):
/// every command and the window's controls go through these, so `320x240` or `convolve` means the same everywhere.
/// Each parser is pure: the value, or a <see cref="ConvGLException"/> whose message names the accepted forms
/// (the caller prefixes the option's name).</summary>
internal static class Parsers
{
    public static readonly IReadOnlyDictionary<string, ConvMode> Modes =
        new Dictionary<string, ConvMode> { ["correlate"] = ConvMode.Correlate, ["convolve"] = ConvMode.Convolve };

    public static readonly IReadOnlyDictionary<string, Device> Devices =
        new Dictionary<string, Device> { ["cpu"] = Device.Cpu, ["gpu"] = Device.Gpu };

    public static readonly IReadOnlyDictionary<string, Border> BorderNames = Borders.All.ToDictionary(b => b.Name());

    /// <summary>The lower-case name a value has on the command line (the inverse of a choice map).</summary>
    public static string NameOf<T>(IReadOnlyDictionary<string, T> choices, T value) =>
        choices.First(kv => EqualityComparer<T>.Default.Equals(kv.Value, value)).Key;

    /// <summary>One of a fixed set of names, matched exactly.</summary>
    public static T Choice<T>(string s, IReadOnlyDictionary<string, T> choices) =>
        choices.TryGetValue(s, out T? v) ? v : throw new ConvGLException($"must be one of {string.Join("|", choices.Keys)}, got '{s}'");

    /// <summary>WIDTHxHEIGHT (x or X), both within [min, max].</summary>
    public static (int Width, int Height) Size(string s, int min, int max)
    {
        string[] parts = s.Split('x', 'X');
        if (parts.Length == 2 && Natural(parts[0], out int w) && Natural(parts[1], out int h) &&
            w >= min && w <= max && h >= min && h <= max)
            return (w, h);
        throw new ConvGLException($"must be WIDTHxHEIGHT between {min}x{min} and {max}x{max}, e.g. 320x240, got '{s}'");
    }

    /// <summary>A kernel size: N (square) or HxW, each 1..15.</summary>
    public static (int H, int W) KernelSize(string s)
    {
        string[] parts = s.Split('x', 'X');
        if (parts.Length is 1 or 2 && parts.All(p => Natural(p, out int v) && v is >= 1 and <= 15))
        {
            int h = int.Parse(parts[0], CultureInfo.InvariantCulture);
            return (h, parts.Length == 2 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : h);
        }
        throw new ConvGLException($"must be N or HxW with sizes 1..15, got '{s}'");
    }

    public static Border Border(string s) =>
        Borders.TryParse(s, out Border b) ? b : throw new ConvGLException($"must be one of {Borders.Names}, got '{s}'");

    /// <summary>Output size of a convolution: same, valid, full, or N pixels of explicit padding on every side.</summary>
    public static (PaddingMode Mode, int Pad) Padding(string s) => s switch
    {
        "same" => (PaddingMode.Same, 0),
        "valid" => (PaddingMode.Valid, 0),
        "full" => (PaddingMode.Full, 0),
        _ when Natural(s, out int pad) => (PaddingMode.Explicit, pad),
        // More digits than any padding ConvGL takes (the review: "--size 1000000" said "must be ... a padding N >= 0").
        _ when s.Length > 6 && s.All(char.IsAsciiDigit) => throw new ConvGLException($"a padding of {s} pixels is past the largest ConvGL takes (999999): the output would pass every map limit; use less padding"),
        _ => throw new ConvGLException($"must be same, valid, full or a padding N >= 0, got '{s}'"),
    };

    public static int Int(string s, int min)
    {
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
            throw new ConvGLException($"must be an integer, got '{s}'");
        return v >= min ? v : throw new ConvGLException($"must be at least {min}, got {v}");
    }

    public static double Number(string s)
    {
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new ConvGLException($"must be a number, got '{s}'");
        return v;
    }

    /// <summary>X,Y with non-negative integers.</summary>
    public static (int X, int Y) Point(string s) =>
        TryPoint(s) ?? throw new ConvGLException($"expects X,Y[;X,Y...] in the selected layer's output, e.g. 100,80, got '{s}'");

    /// <summary>A --probe point: X,Y, or designed:X,Y for the filters view's hand-made bank.</summary>
    public static Live.ProbePoint ProbePoint(string s)
    {
        const string designed = "designed:";
        if (!s.StartsWith(designed, StringComparison.OrdinalIgnoreCase))
        {
            (int x, int y) = Point(s);
            return new Live.ProbePoint(x, y);
        }
        return TryPoint(s[designed.Length..]) is (int dx, int dy)
            ? new Live.ProbePoint(dx, dy, true)
            : throw new ConvGLException($"expects designed:X,Y in the hand-made bank's maps, e.g. designed:100,80, got '{s}'");
    }

    private static (int X, int Y)? TryPoint(string s)
    {
        string[] parts = s.Split(',');
        return parts.Length == 2 && Natural(parts[0], out int x) && Natural(parts[1], out int y) ? (x, y) : null;
    }

    private static bool Natural(string s, out int v) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v) && s.Length <= 6;
}
