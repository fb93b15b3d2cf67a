using ConvGL.App.Cli;

namespace ConvGL.App.Commands;

internal static class BenchCommand
{
    public static readonly CommandSpec Spec = new("bench", [], [], []);

    public static int Run(CommandLine args)
    {
        Console.Error.WriteLine("convgl bench: not built yet");
        return 1;
    }
}
