using ConvGL.App.Cli;

namespace ConvGL.App.Commands;

internal static class ApplyCommand
{
    public static readonly CommandSpec Spec = new("apply", ["INPUT", "OUTPUT"], ["kernel", "mode", "border", "size", "stride", "dilation", "channels", "device"], []);

    public static int Run(CommandLine args)
    {
        Console.Error.WriteLine("convgl apply: not built yet");
        return 1;
    }
}
