using ConvGL.App.Cli;
using ConvGL.App.Commands;
using ConvGL.Core;
using ConvGL.Gpu;

namespace ConvGL.App;

/// <summary>The one `convgl` executable. With no subcommand (or only window options) it opens the window;
/// subcommands run headless. Exit codes (DESIGN.md): 0 ok, 2 bad input, 1 runtime failure.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        // `--help` / `-h` are verbs too; any other leading option belongs to the window command.
        string? verb = args.Length > 0 && (!args[0].StartsWith('-') || args[0] is "--help" or "-h") ? args[0] : null;
        string[] rest = verb is null ? args : args[1..];
        try
        {
            return verb switch
            {
                null => WindowCommand.Run(CommandLine.Parse(rest, WindowCommand.Spec)),
                "apply" => ApplyCommand.Run(CommandLine.Parse(rest, ApplyCommand.Spec)),
                "features" => FeaturesCommand.Run(CommandLine.Parse(rest, FeaturesCommand.Spec)),
                "train" => TrainCommand.Run(CommandLine.Parse(rest, TrainCommand.Spec)),
                "bench" => BenchCommand.Run(CommandLine.Parse(rest, BenchCommand.Spec)),
                "help" or "--help" or "-h" => Help(),
                _ => throw new ConvGLException($"unknown command '{verb}' (commands: apply, features, train, bench; none opens the window)"),
            };
        }
        catch (ConvGLException e)
        {
            Console.Error.WriteLine($"convgl: {e.Message}");
            return 2;
        }
        catch (AggregateException e) when (e.Flatten().InnerExceptions.All(i => i is ConvGLException))
        {
            // Work split over channels: the same bad input fails every task; say it once.
            Console.Error.WriteLine($"convgl: {e.Flatten().InnerExceptions[0].Message}");
            return 2;
        }
        catch (GpuException e)
        {
            // The input was fine; this machine's OpenGL could not run it (no 4.3 context, a driver limit).
            Console.Error.WriteLine($"convgl: GPU: {ErrorText.OneLine(e.Message)}");
            return 1;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The last line of defence: whatever the message holds, it prints as one line.
            Console.Error.WriteLine($"convgl: internal error: {e.GetType().Name}: {ErrorText.OneLine(e.Message)}");
            if (Environment.GetEnvironmentVariable("CONVGL_TRACE") == "1") Console.Error.WriteLine(e);
            return 1;
        }
    }

    private static int Help()
    {
        Console.WriteLine("""
            convgl                         open the window (press h in it for the controls)
              [--source scene|scene:WxH|PATH|camera[:N]|/dev/videoN] [--stack NAME|FILE | --filter KERNEL]
              [--view output|split|grid|profile] [--layer N (1-based)] [--size WxH]
              [--frames N --screenshot PATH] [--probe X,Y[;X,Y...]] [--keys "KEY KEY ..."] [--drop FILE]
              [--stats] [--hidden]
            convgl apply INPUT OUTPUT --kernel NAME|FILE [--mode correlate|convolve]
                         [--border zero|replicate|reflect|symmetric|wrap] [--size same|valid|full|N]
                         [--stride N] [--dilation N] [--channels gray|rgb] [--device cpu|gpu]
            convgl features INPUT --stack STACK.json --out DIR [--device cpu|gpu] [--size WxH]
            convgl train [--help]
            convgl bench [--help]
            """);
        return 0;
    }
}
