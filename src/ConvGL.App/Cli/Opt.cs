using System.CommandLine;
using System.CommandLine.Parsing;
using ConvGL.Core;
using ConvGL.Core.Ops;

namespace ConvGL.App.Cli;

/// <summary>Option and argument factories on System.CommandLine, each value parsed by <see cref="Parsers"/>. A bad
/// value is a parse error naming the option ("--size must be WIDTHxHEIGHT ..."), reported before the command runs.
/// A command declares its options as static fields (see <see cref="CliRoot"/>), so adding one is one line.</summary>
internal static class Opt
{
    /// <summary>A value turned into T by <paramref name="parse"/>; not given, it is <paramref name="fallback"/> (shown in
    /// --help unless it is T's default, such as null or the enum's first value).</summary>
    public static Option<T> Parsed<T>(string name, string description, Func<string, T> parse, T fallback, string? helpName = null)
    {
        var option = new Option<T>(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = result => Convert(result, name, parse),
        };
        if (!EqualityComparer<T>.Default.Equals(fallback, default)) option.DefaultValueFactory = _ => fallback;
        return option;
    }

    /// <summary>A plain string; null when not given unless required.</summary>
    public static Option<string?> Text(string name, string description, string? helpName = null, bool required = false) =>
        new(name) { Description = description, HelpName = helpName, Required = required };

    /// <summary>A string with a default shown in --help.</summary>
    public static Option<string> TextOr(string name, string description, string fallback, string? helpName = null) =>
        new(name) { Description = description, HelpName = helpName, DefaultValueFactory = _ => fallback };

    public static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    public static Option<int> Int(string name, string description, int fallback, int min, string helpName = "N") =>
        Parsed(name, description, s => Parsers.Int(s, min), fallback, helpName);

    /// <summary>An integer that is null when not given (its default depends on other options).</summary>
    public static Option<int?> OptionalInt(string name, string description, int min, string helpName = "N") =>
        Parsed<int?>(name, description, s => Parsers.Int(s, min), null, helpName);

    public static Option<double?> OptionalNumber(string name, string description, string helpName = "X") =>
        Parsed<double?>(name, description, s => Parsers.Number(s), null, helpName);

    public static Option<T> Choice<T>(string name, string description, T fallback, IReadOnlyDictionary<string, T> choices) =>
        Parsed(name, description, s => Parsers.Choice(s, choices), fallback, string.Join("|", choices.Keys));

    public static Option<ConvMode> ModeChoice(string description = "correlate (default; what CNNs and OpenCV's filter2D compute) or convolve (the kernel flipped)") =>
        Choice("--mode", description, ConvMode.Correlate, Parsers.Modes);

    public static Option<Border> BorderChoice(Border fallback, string description = "what the padded input holds outside the image (np.pad names)") =>
        Parsed("--border", description, Parsers.Border, fallback, Borders.Names);

    /// <summary>--algorithm auto|direct|separable|fft (ConvAlgorithm.cs: the cost model behind auto).</summary>
    public static Option<ConvAlgorithm> AlgorithmChoice(string description) => Choice("--algorithm", description, ConvAlgorithm.Auto,
        new Dictionary<string, ConvAlgorithm> { ["auto"] = ConvAlgorithm.Auto, ["direct"] = ConvAlgorithm.Direct, ["separable"] = ConvAlgorithm.Separable, ["fft"] = ConvAlgorithm.Fft });

    public static Option<Device> DeviceChoice(string description = "where the work runs: the CPU reference (default) or the GPU (headless OpenGL 4.3)") =>
        Choice("--device", description, Device.Cpu, Parsers.Devices);

    /// <summary>--normalize [bgr:]imagenet|MEAN/STD (InputNormalization, parsed by the command: its errors name the option
    /// and value as they are), <paramref name="what"/> leading what it does in that command.</summary>
    public static Option<string?> Normalize(string what) => Text("--normalize",
        what + ": (x - mean) / std per channel on the 0..1 picture, imagenet (torchvision's 0.485,0.456,0.406/0.229,0.224,0.225) " +
        "or MEAN/STD, one number or one per channel each (0.5/0.5 maps 0..1 to -1..1); bgr: before either for a model that takes " +
        "B, G, R (the numbers then in its order; the layer is then a 1x1 conv that reorders too)", "[bgr:]imagenet|MEAN/STD");

    /// <summary>WIDTHxHEIGHT within [min, max]; null when not given.</summary>
    public static Option<(int Width, int Height)?> Size(string name, string description, int min, int max) =>
        Parsed<(int, int)?>(name, description, s => Parsers.Size(s, min, max), null, "WxH");

    /// <summary>A required positional argument: missing, it is the parse error "missing NAME" (see
    /// <see cref="CliRoot"/>).</summary>
    public static Argument<string> Arg(string name, string description) => new(name) { Description = description };

    private static T Convert<T>(ArgumentResult result, string name, Func<string, T> parse)
    {
        if (result.Tokens.Count == 0) return default!;
        try
        {
            return parse(result.Tokens[^1].Value);
        }
        catch (ConvGLException e)
        {
            result.AddError(e.Message.StartsWith(name, StringComparison.Ordinal) ? e.Message : $"{name} {e.Message}");
            return default!;
        }
    }
}
