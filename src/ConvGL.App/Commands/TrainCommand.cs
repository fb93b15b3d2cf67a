using ConvGL.App.Cli;

namespace ConvGL.App.Commands;

internal static class TrainCommand
{
    public static readonly CommandSpec Spec = new("train", [], [], []);

    public static int Run(CommandLine args)
    {
        Console.Error.WriteLine("convgl train: not built yet");
        return 1;
    }
}
