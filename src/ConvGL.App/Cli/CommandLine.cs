using System.CommandLine;
using ConvGL.Core;

namespace ConvGL.App.Cli;

/// <summary>What a command accepts, by name only: its valued options and its flags (see
/// <see cref="CliRoot.Define(CommandSpec, string, Func{CommandLine, int})"/>). Commands declared with typed
/// <see cref="Opt"/> fields do not need it.</summary>
internal sealed record CommandSpec(string Name, string[] Positionals, string[] Options, string[] Flags, int RequiredPositionals = -1);

/// <summary>A parsed <see cref="CommandSpec"/> command: string values read by name and checked here, a bad one a
/// <see cref="ConvGLException"/> (exit 2) naming the option.</summary>
internal sealed class CommandLine
{
    private readonly ParseResult _result;
    private readonly IReadOnlyDictionary<string, Option> _options;

    public CommandSpec Spec { get; }

    public CommandLine(CommandSpec spec, ParseResult result, IReadOnlyDictionary<string, Option> options)
    {
        Spec = spec;
        _result = result;
        _options = options;
    }

    public bool Flag(string name) => _options.TryGetValue(name, out Option? o) && o is Option<bool> flag && _result.GetValue(flag);

    public string? Get(string name) => _options.TryGetValue(name, out Option? o) && o is Option<string> text ? _result.GetValue(text) : null;

    public string Get(string name, string fallback) => Get(name) ?? fallback;

    public string Require(string name) => Get(name) ?? throw new ConvGLException($"{Spec.Name}: --{name} is required");

    public int GetInt(string name, int fallback, int min = int.MinValue) => Get(name) is { } s ? Checked(name, () => Parsers.Int(s, min)) : fallback;

    public double GetDouble(string name, double fallback) => Get(name) is { } s ? Checked(name, () => Parsers.Number(s)) : fallback;

    /// <summary>One of a fixed set of names.</summary>
    public T GetChoice<T>(string name, T fallback, IReadOnlyDictionary<string, T> choices) =>
        Get(name) is { } s ? Checked(name, () => Parsers.Choice(s, choices)) : fallback;

    private T Checked<T>(string name, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (ConvGLException e)
        {
            throw new ConvGLException($"{Spec.Name}: --{name} {e.Message}");
        }
    }
}
