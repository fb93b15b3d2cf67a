using System.Globalization;
using ConvGL.Core;

namespace ConvGL.App.Cli;

/// <summary>What a command accepts: its positional argument names, its valued options and its flags.</summary>
internal sealed record CommandSpec(string Name, string[] Positionals, string[] Options, string[] Flags, int RequiredPositionals = -1)
{
    public int Required => RequiredPositionals < 0 ? Positionals.Length : RequiredPositionals;
}

/// <summary>A small, strict parser: `--name value` or `--name=value`, `--flag`, positionals in order.
/// Unknown options and missing values are a <see cref="ConvGLException"/> (exit 2) naming the option.</summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly List<string> _positionals = [];

    public CommandSpec Spec { get; }
    public IReadOnlyList<string> Positionals => _positionals;

    private CommandLine(CommandSpec spec) => Spec = spec;

    public static CommandLine Parse(string[] args, CommandSpec spec)
    {
        var cl = new CommandLine(spec);
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                string name = a[2..];
                string? value = null;
                int eq = name.IndexOf('=');
                if (eq >= 0)
                {
                    value = name[(eq + 1)..];
                    name = name[..eq];
                }
                if (spec.Flags.Contains(name))
                {
                    if (value is not null) throw new ConvGLException($"{spec.Name}: --{name} takes no value");
                    cl._flags.Add(name);
                }
                else if (spec.Options.Contains(name))
                {
                    if (value is null)
                    {
                        if (i + 1 >= args.Length) throw new ConvGLException($"{spec.Name}: --{name} needs a value");
                        value = args[++i];
                    }
                    if (!cl._options.TryAdd(name, value)) throw new ConvGLException($"{spec.Name}: --{name} given twice");
                }
                else
                {
                    throw new ConvGLException($"{spec.Name}: unknown option --{name} (options: {string.Join(", ", spec.Options.Concat(spec.Flags).Select(o => "--" + o))})");
                }
            }
            else
            {
                cl._positionals.Add(a);
            }
        }
        if (cl._positionals.Count > spec.Positionals.Length)
            throw new ConvGLException($"{spec.Name}: unexpected argument '{cl._positionals[spec.Positionals.Length]}'");
        if (cl._positionals.Count < spec.Required)
            throw new ConvGLException($"{spec.Name}: missing {spec.Positionals[cl._positionals.Count]}");
        return cl;
    }

    public string? Positional(int i) => i < _positionals.Count ? _positionals[i] : null;

    public bool Flag(string name) => _flags.Contains(name);

    public string? Get(string name) => _options.GetValueOrDefault(name);

    public string Get(string name, string fallback) => _options.GetValueOrDefault(name) ?? fallback;

    public string Require(string name) =>
        _options.GetValueOrDefault(name) ?? throw new ConvGLException($"{Spec.Name}: --{name} is required");

    public int GetInt(string name, int fallback, int min = int.MinValue)
    {
        string? s = Get(name);
        if (s is null) return fallback;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
            throw new ConvGLException($"{Spec.Name}: --{name} must be an integer, got '{s}'");
        if (v < min) throw new ConvGLException($"{Spec.Name}: --{name} must be at least {min}, got {v}");
        return v;
    }

    public double GetDouble(string name, double fallback)
    {
        string? s = Get(name);
        if (s is null) return fallback;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new ConvGLException($"{Spec.Name}: --{name} must be a number, got '{s}'");
        return v;
    }

    /// <summary>One of a fixed set of names.</summary>
    public T GetChoice<T>(string name, T fallback, IReadOnlyDictionary<string, T> choices)
    {
        string? s = Get(name);
        if (s is null) return fallback;
        return choices.TryGetValue(s, out T? v) ? v
            : throw new ConvGLException($"{Spec.Name}: --{name} must be one of {string.Join("|", choices.Keys)}, got '{s}'");
    }
}
