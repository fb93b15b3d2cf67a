using ConvGL.App.Cli;

namespace ConvGL.App.Commands;

internal static class FeaturesCommand
{
    public static readonly CommandSpec Spec = new("features", ["INPUT"], ["stack", "out", "device", "size"], []);

    public static int Run(CommandLine args)
    {
        Console.Error.WriteLine("convgl features: not built yet");
        return 1;
    }
}
