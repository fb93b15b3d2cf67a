using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Reflection;
using ConvGL.App.Commands;
using ConvGL.Core;

namespace ConvGL.App.Cli;

/// <summary>The `convgl` command line on System.CommandLine: the window's options on the root (no subcommand opens
/// the window), one subcommand per verb. Parsing, validation and --help all come from the same definitions.
///
/// Adding a command: one line in <see cref="Commands"/> (a class with a <c>Create()</c> that calls
/// <see cref="Define(string, string, Type, Func{ParseResult, int}, Func{string})"/>). Adding an option to a command: one static readonly field in that class
/// (<see cref="Opt"/> has the shared kinds), read in its Run with <c>result.GetValue(Field)</c>.</summary>
internal static class CliRoot
{
    /// <summary>Every subcommand, in the order --help lists them.</summary>
    private static Command[] Commands() =>
    [
        ApplyCommand.Create(),
        FeaturesCommand.Create(),
        TrainCommand.Create(),
        BenchCommand.Create(),
        OnnxTestCommand.Create(),
        ConvertCommand.Create(),
    ];

    /// <summary>The root command: the window's options and action, and every subcommand.</summary>
    public static RootCommand Root()
    {
        var root = new RootCommand("ConvGL: image convolution on OpenGL compute shaders, with a CPU reference.\n" +
                                   "With no command it opens the live window (press h in it for the controls).");
        AddSymbols(root, typeof(WindowCommand));
        root.SetAction(WindowCommand.Run);
        foreach (Command command in Commands()) root.Add(command);
        // Help: the generated text, then the command's own epilogue (apply's kernel library).
        HelpOption help = root.Options.OfType<HelpOption>().Single();
        help.Action = new HelpWithEpilogue((HelpAction)help.Action!);
        return root;
    }

    /// <summary>Parses and runs; the exit code (DESIGN.md: 0 ok, 2 bad input, 1 runtime failure). A bad command line
    /// is a <see cref="ConvGLException"/> (the caller prints it as one line and exits 2). --help is written to
    /// <paramref name="output"/> (default stdout).</summary>
    public static int Execute(IReadOnlyList<string> args, TextWriter? output = null)
    {
        RootCommand root = Root();
        if (args.Count > 0 && args[0] == "help") args = ["--help", .. args.Skip(1)];
        // The first word that is not an option must be a command: say which exist rather than "unrecognized".
        if (args.Count > 0 && !args[0].StartsWith('-') && root.Subcommands.All(c => c.Name != args[0]))
            throw new ConvGLException($"unknown command '{args[0]}' (commands: {string.Join(", ", root.Subcommands.Select(c => c.Name))}; none opens the window)");
        // No response files: a path beginning with @ is a path.
        ParseResult result = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        Command command = result.CommandResult.Command;
        // System.CommandLine takes an unknown --option in a free positional's place as its value: it is still unknown.
        string? unknownOption = command.Arguments.Select(a => result.GetResult(a)).OfType<ArgumentResult>()
            .SelectMany(a => a.Tokens).Select(t => t.Value).FirstOrDefault(v => v.StartsWith("--", StringComparison.Ordinal));
        if (unknownOption is not null || (result.Action is ParseErrorAction && result.Errors.Count > 0))
        {
            string where = command is RootCommand ? "" : command.Name + ": ";
            // A word the command does not know first (it explains the errors after it), then this program's own
            // messages (they name the fix), then System.CommandLine's.
            string message = (unknownOption ?? result.UnmatchedTokens.FirstOrDefault()) is { } unknown
                ? unknown.StartsWith('-')
                    ? $"unknown option {unknown} ({OptionList(command)})"
                    : $"unexpected argument '{unknown}'"
                : result.Errors.Select(e => e.Message).FirstOrDefault(m => m.StartsWith("--", StringComparison.Ordinal) || m.StartsWith("missing ", StringComparison.Ordinal))
                  ?? Lower(result.Errors[0].Message.TrimEnd('.'));
            throw new ConvGLException(where + message);
        }
        // A window option before a command's name (`--frames 5 apply ...`) parsed as the window's and was ignored.
        if (command is not RootCommand &&
            result.RootCommandResult.Children.OfType<OptionResult>().FirstOrDefault(o => !o.Implicit && !o.Option.Recursive && o.Option is not HelpOption) is { } stray)
            throw new ConvGLException($"{command.Name}: {stray.Option.Name} is an option of the window, not of {command.Name} ({OptionList(command)})");
        // ProcessTerminationTimeout null: the commands are synchronous and read no cancellation token; Program.cs handles
        // Ctrl+C and SIGTERM (the unfinished output is removed, then the process ends).
        return result.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null, Output = output ?? Console.Out });
    }

    /// <summary>A command whose options and arguments are the static <see cref="Option"/> and <see cref="Argument"/>
    /// fields of <paramref name="owner"/>, in declaration order. A required argument that is missing is the error
    /// "missing NAME".</summary>
    public static Command Define(string name, string description, Type owner, Func<ParseResult, int> run, Func<string>? epilogue = null)
    {
        var command = new Command(name, description);
        AddSymbols(command, owner);
        command.SetAction(run);
        if (epilogue is not null) s_epilogues.Add(command, epilogue);
        return command;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Command, Func<string>> s_epilogues = [];

    private static void AddSymbols(Command command, Type owner)
    {
        var required = new List<Argument>();
        foreach (FieldInfo field in owner.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic).OrderBy(f => f.MetadataToken))
        {
            switch (field.GetValue(null))
            {
                case Option option:
                    command.Add(option);
                    break;
                case Argument argument:
                    if (argument.Arity.MinimumNumberOfValues > 0) required.Add(argument);
                    command.Add(argument);
                    break;
            }
        }
        if (required.Count > 0)
            command.Validators.Add(r =>
            {
                Argument? missing = required.FirstOrDefault(a => r.GetResult(a) is not { Tokens.Count: > 0 });
                if (missing is not null) r.AddError($"missing {missing.Name} (see convgl {command.Name} --help)");
            });
    }

    private static string Lower(string s) => s.Length > 0 && char.IsUpper(s[0]) && (s.Length == 1 || !char.IsUpper(s[1])) ? char.ToLowerInvariant(s[0]) + s[1..] : s;

    /// <summary>The generated help, then the command's epilogue if it has one.</summary>
    private sealed class HelpWithEpilogue(HelpAction inner) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            inner.MaxWidth = 110;
            // An enum default prints as the enum's name ("[default: Reflect]"); the command line spells it in lower
            // case ("--border reflect"), so the help does too.
            TextWriter output = parseResult.InvocationConfiguration.Output;
            var text = new StringWriter();
            parseResult.InvocationConfiguration.Output = text;
            int code;
            try
            {
                code = inner.Invoke(parseResult);
            }
            finally
            {
                parseResult.InvocationConfiguration.Output = output;
            }
            output.Write(System.Text.RegularExpressions.Regex.Replace(text.ToString(), @"\[default: ([A-Z][a-z]+)\]", m => $"[default: {m.Groups[1].Value.ToLowerInvariant()}]"));
            if (s_epilogues.TryGetValue(parseResult.CommandResult.Command, out Func<string>? epilogue))
            {
                parseResult.InvocationConfiguration.Output.WriteLine();
                parseResult.InvocationConfiguration.Output.Write(epilogue());
            }
            return code;
        }
    }

    // "options: --a, --b", or that the command takes none (convert printed "(options: )").
    private static string OptionList(Command command)
    {
        string[] names = command.Options.Where(o => !o.Hidden && o.Name is not ("--help" or "-h" or "-?")).Select(o => o.Name).ToArray();
        return names.Length == 0 ? $"{command.Name} takes no options" : $"options: {string.Join(", ", names)}";
    }
}
