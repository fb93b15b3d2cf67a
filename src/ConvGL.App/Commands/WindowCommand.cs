using ConvGL.App.Cli;

namespace ConvGL.App.Commands;

internal static class WindowCommand
{
    public static readonly CommandSpec Spec = new("convgl", [], ["source", "stack", "view", "layer", "frames", "screenshot"], []);

    public static int Run(CommandLine args)
    {
        Console.Error.WriteLine("convgl window: not built yet");
        return 1;
    }
}
