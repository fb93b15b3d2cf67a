using System.Globalization;
using System.Runtime.InteropServices;
using ConvGL.Core;
using ConvGL.Gpu;

namespace ConvGL.App;

/// <summary>The one `convgl` executable. With no subcommand (or only window options) it opens the window;
/// subcommands run headless (the command line: <see cref="Cli.CliRoot"/>). Exit codes (DESIGN.md): 0 ok, 2 bad input, 1 runtime failure.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        // Numbers print with '.' whatever the locale: the build sets InvariantGlobalization, but
        // DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=0 overrides it, and under LC_ALL=de_DE.UTF-8 `train` then printed "0,1 s",
        // the limits "1,5 GiB" and bench's machine line "2100.00 GHz" (the environment audit). Every thread, this one too.
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;
        Cli.StdoutGuard.Install();
        // Ctrl+C and SIGTERM end the process as before, but first remove what was being written: an interrupted features
        // run left its hidden, half-written folder beside --out (.convgl-<pid>-<id>.tmp, hundreds of MB), apply its hidden file.
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupted);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupted);
        int code = Run(args);
        // Interrupted: the command failed because its output was taken away under it (or ended anyway), and the handler
        // may still be removing that output. Returning now would end the process before it is done; the signal's own
        // action ends it once the handler returns.
        if (ConvGL.Core.IO.InFlight.Ending)
        {
            ConvGL.Core.IO.InFlight.Removed.Wait(TimeSpan.FromSeconds(10));
            Thread.Sleep(TimeSpan.FromSeconds(10));
        }
        // The window's shader warmer may still be compiling: exit handlers would pull the driver out from under it. Only
        // where one was started: the check loads the GPU assemblies, which a command under a memory limit may not afford.
        if (WarmerStarted) ShaderWarmer.ExitNowIfWarming(code);
        return code;
    }

    /// <summary>Set by the window when it starts a <see cref="ShaderWarmer"/>.</summary>
    internal static volatile bool WarmerStarted;

    private static int Run(string[] args)
    {
        try
        {
            CheckUtf8(args);
            EnvSwitches.Check();
            return Cli.CliRoot.Execute(args);
        }
        catch (ConvGLException e)
        {
            // A write that failed because an interrupt took its folder away says nothing: "interrupted" is the news.
            if (!ConvGL.Core.IO.InFlight.Ending) Console.Error.WriteLine($"convgl: {e.Message}");
            return 2;
        }
        catch (AggregateException e) when (e.Flatten().InnerExceptions.All(i => i is ConvGLException))
        {
            // Work split over channels: the same bad input fails every task; say it once.
            Console.Error.WriteLine($"convgl: {e.Flatten().InnerExceptions[0].Message}");
            return 2;
        }
        catch (Cli.StandardOutputException e)
        {
            Console.Error.WriteLine($"convgl: {e.Message}");
            return 1;
        }
        catch (MachineException e)
        {
            // The input was fine; this machine cannot show or run it (no display, no OpenGL 4.3 window): exit 1.
            Console.Error.WriteLine($"convgl: {e.Message}");
            return 1;
        }
        catch (GpuException e)
        {
            // The input was fine; this machine's OpenGL could not run it (no 4.3 context, a driver limit).
            Console.Error.WriteLine($"convgl: GPU: {ErrorText.JoinLines(e.Message)}");
            return 1;
        }
        catch (Exception e) when (IsOutOfMemory(e))
        {
            // Past every size check (a machine with less memory than .NET reports, a process limit): one line, not a
            // bare "Out of memory." or an AggregateException of a worker's failure. The work's arrays are unreachable here.
            // An address-space limit (ulimit -v) is named: the memory checks go by the machine's memory, not by it.
            string limit = MemoryBudget.AddressSpaceLimit() is { } a ? $"; an address-space limit of {Limits.Bytes(a)} is set (ulimit -v), which the checks before the work do not count" : "";
            Console.Error.WriteLine($"convgl: out of memory (this machine gives the process {Limits.Bytes(MemoryBudget.Machine)}{limit}): " +
                                    "use a smaller input or --size, or close other programs");
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

    /// <summary>.NET decodes the command line as UTF-8, each byte it cannot decode becoming U+FFFD: a file name in another
    /// encoding ("lat\xe9.png") was then "no such file", and an output name was written as another name ("o\uFFFD.png";
    /// the hostile-input audit). Such an argument is one error before anything runs.</summary>
    private static void CheckUtf8(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
            if (args[i].Contains('\uFFFD', StringComparison.Ordinal))
                throw new ConvGLException($"argument {i + 1} '{ErrorText.Echo(args[i], 160)}' is not UTF-8 text (each '\uFFFD' stands for bytes that " +
                                          "are not): ConvGL opens files by UTF-8 names; rename the file or folder (e.g. convmv -f latin1 -t utf-8)");
    }

    internal static bool IsOutOfMemory(Exception e) =>
        e is OutOfMemoryException || (e is AggregateException a && a.Flatten().InnerExceptions.Any(i => i is OutOfMemoryException)) ||
        (e.InnerException is { } inner && IsOutOfMemory(inner));

    /// <summary>The signal's default action (the process ends, exit 128 + the signal) follows this.</summary>
    private static void Interrupted(PosixSignalContext context)
    {
        int removed = ConvGL.Core.IO.InFlight.RemoveAll();
        // On a terminal the progress line is redrawn in place (no newline yet): the message starts a line of its own.
        // Redirected, progress writes whole lines, and a newline first left a blank line in the log.
        string start = Console.IsErrorRedirected ? "" : "\n";
        Console.Error.WriteLine($"{start}convgl: interrupted ({context.Signal}){(removed > 0 ? "; the unfinished output was removed" : "")}");
    }
}
