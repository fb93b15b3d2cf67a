using System.Globalization;
using System.Text;

namespace ConvGL.Core;

/// <summary>Bad input from the user (a file, a name, a shape, an option): the message is one line that says
/// what was wrong and, where it can, the fix. The command line maps it to exit code 2. The message is passed
/// through <see cref="ErrorText.OneLine"/>, so input echoed into it can never break it over several lines.</summary>
public class ConvGLException(string message, Exception? inner = null) : Exception(ErrorText.OneLine(message), inner);

/// <summary>The machine cannot do what was asked, though the input was fine: no display for the window, no OpenGL 4.3
/// window on it, no GLFW library. One line with the fix, as a <see cref="ConvGLException"/>, but a runtime failure: the
/// command line maps it to exit code 1 (DESIGN.md), as it does a GPU failure in a command (the window exited 2 where
/// `--offscreen` and `apply --device gpu` exited 1 for the same missing OpenGL: the environment audit).</summary>
public sealed class MachineException(string message, Exception? inner = null) : Exception(ErrorText.OneLine(message), inner);

/// <summary>A tensor of <see cref="Values"/> values was asked for where <see cref="Tensor.AllocationRoom"/> leaves only
/// <see cref="Room"/>; thrown before anything is allocated. Not a <see cref="ConvGLException"/>, so that no op's own error
/// handling words it or takes it for a refusal it can work around: whoever set the room catches it and words the one
/// error line (OnnxGraph names the node and the limit).</summary>
public sealed class AllocationRoomException(int[] shape, long values, long room)
    : Exception($"a value of shape {Tensor.ShapeText(shape)} ({values} values) is past the {room} values left to allocate")
{
    public int[] Shape { get; } = (int[])shape.Clone();
    public long Values { get; } = values;
    public long Room { get; } = room;
}

/// <summary>Makes text safe to print as (part of) one error line: every error message goes to a terminal or a
/// log line, and a file's bytes echoed raw (a newline in a kernel spec, NULs in a PNG chunk name, a JSON value
/// spanning lines) would split it, garble it or hide the rest.</summary>
public static class ErrorText
{
    /// <summary>System.Text.Json's message without the " Path: ... | LineNumber: ... | BytePositionInLine: ..." it appends
    /// (a stack file's error names the line already; a safetensors header is one line).</summary>
    public static string JsonReason(string message)
    {
        foreach (string marker in new[] { " Path:", " LineNumber:" })
        {
            int cut = message.IndexOf(marker, StringComparison.Ordinal);
            if (cut > 0) message = message[..cut];
        }
        return message;
    }

    /// <summary>A file operation's failure in words for an error line that names the path already: "permission denied"
    /// for an access refusal (.NET: "Access to the path '...' is denied."), else the system's reason without the
    /// " : '/the/path'" .NET appends on Unix ("Read-only file system : '/tmp/ro'", "Too many levels of symbolic links :
    /// '/tmp/loop'": the environment audit), one line.</summary>
    public static string IoReason(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e is UnauthorizedAccessException) return "permission denied";
        // "Could not find file '/proc/.convgl-123-....tmp'.": a file made in a folder that takes none (/proc) names ours.
        if (e is FileNotFoundException or DirectoryNotFoundException) return "no such file or folder (a folder such as /proc or /sys takes no new files)";
        string m = e.Message;
        int cut = m.LastIndexOf(" : '", StringComparison.Ordinal);
        if (cut > 0 && m.EndsWith('\'')) m = m[..cut];
        return OneLine(m.TrimEnd('.'));
    }

    /// <summary>How many characters of user input an error message echoes before cutting it with an ellipsis.</summary>
    public const int MaxEcho = 80;

    /// <summary>The text with every control character escaped: \n, \r, \t and \0 by name, other C0/C1 controls, bidi
    /// overrides and lone surrogates as \uXXXX (and \ itself left as is: the escapes are for reading, not for round trips).</summary>
    public static string OneLine(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        if (!NeedsEscape(text)) return text;
        var sb = new StringBuilder(text.Length + 16);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb.Append(c).Append(text[++i]);
                continue;
            }
            switch (c)
            {
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\0': sb.Append("\\0"); break;
                default:
                    if (IsUnsafe(c)) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>A message of several lines (a shader compiler's log under its first line) as one: the lines joined by
    /// " | ", each made safe by <see cref="OneLine"/>. Errors are one line on stderr.</summary>
    public static string JoinLines(string? text) =>
        OneLine(string.Join(" | ", (text ?? "").Split('\n').Select(l => l.TrimEnd('\r').Trim()).Where(l => l.Length > 0)));

    /// <summary>User input to quote in a message: <see cref="OneLine"/>, cut to <see cref="MaxEcho"/> characters with
    /// an ellipsis (a 10 MB line in a file must not come back as a 10 MB error).</summary>
    public static string Echo(string? text, int max = MaxEcho)
    {
        string s = text ?? "";
        // Cut before escaping (escapes only lengthen), then again after, never inside a surrogate pair.
        if (s.Length > max) s = s[..Cut(s, max)];
        string line = OneLine(s);
        bool cut = (text?.Length ?? 0) > max || line.Length > max;
        if (line.Length > max) line = line[..Cut(line, max)];
        return cut ? line + "..." : line;
    }

    /// <summary>A value a message quotes as an index or a count: a whole number in all its digits (an int64 index of 2^62
    /// read into float32 is "4611686018427387904", not "4.611686E+18"), anything else as the float it is.</summary>
    public static string Index(float value) =>
        float.IsFinite(value) && value == MathF.Floor(value) ? new System.Numerics.BigInteger((double)value).ToString(System.Globalization.CultureInfo.InvariantCulture)
            : value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>True when the text holds nothing <see cref="OneLine"/> would change.</summary>
    public static bool IsOneLine(string text) => !NeedsEscape(text);

    private static int Cut(string s, int max) => max > 0 && char.IsHighSurrogate(s[max - 1]) ? max - 1 : max;

    private static bool NeedsEscape(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (IsUnsafe(c)) return true;
        }
        return false;
    }

    /// <summary>C0 and C1 controls, DEL, the Unicode line and paragraph separators, lone surrogates, and the bidirectional
    /// embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which reorder what a terminal shows after them
    /// (a stack named "abc\u202Egnp.exe" displays as "abcexe.png"; CVE-2021-42574's "Trojan Source"). The marks (U+200E,
    /// U+200F) and the joiners stay: right-to-left and joined scripts use them as text.</summary>
    private static bool IsUnsafe(char c) =>
        c < 0x20 || (c >= 0x7f && c <= 0x9f) || c is '\u2028' or '\u2029' || char.IsSurrogate(c) || c is >= '\u202a' and <= '\u202e' or >= '\u2066' and <= '\u2069';
}
