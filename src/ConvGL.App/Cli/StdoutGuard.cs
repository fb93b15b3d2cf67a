using System.Text;
using ConvGL.Core;

namespace ConvGL.App.Cli;

/// <summary>Standard output that could not be written (a full disk under `convgl bench > table.md`, /dev/full): the
/// command line says so in one line, exit 1. It was "internal error: IOException: No space left on device" (the
/// environment audit). A closed pipe (`| head`) stays quiet, as .NET already leaves it.</summary>
internal sealed class StandardOutputException(IOException inner) : Exception(
    $"cannot write to standard output ({ErrorText.IoReason(inner)}); free some space where it goes, or send it elsewhere", inner);

/// <summary>Console.Out with its write failures turned into a <see cref="StandardOutputException"/>.</summary>
internal sealed class StdoutGuard(TextWriter inner) : TextWriter
{
    public override Encoding Encoding => inner.Encoding;
    public override IFormatProvider FormatProvider => inner.FormatProvider;
    public override string NewLine
    {
        get => inner.NewLine;
#pragma warning disable CS8765 // the base's setter takes null (the default newline); so does the inner writer's
        set => inner.NewLine = value;
#pragma warning restore CS8765
    }

    /// <summary>Wraps the process's Console.Out (synchronised, as Console's own writer is).</summary>
    public static void Install() => Console.SetOut(Synchronized(new StdoutGuard(Console.Out)));

    public override void Write(char value)
    {
        try { inner.Write(value); }
        catch (IOException e) { throw new StandardOutputException(e); }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        try { inner.Write(buffer, index, count); }
        catch (IOException e) { throw new StandardOutputException(e); }
    }

    public override void Write(string? value)
    {
        try { inner.Write(value); }
        catch (IOException e) { throw new StandardOutputException(e); }
    }

    public override void WriteLine(string? value)
    {
        try { inner.WriteLine(value); }
        catch (IOException e) { throw new StandardOutputException(e); }
    }

    public override void Flush()
    {
        try { inner.Flush(); }
        catch (IOException e) { throw new StandardOutputException(e); }
    }
}
