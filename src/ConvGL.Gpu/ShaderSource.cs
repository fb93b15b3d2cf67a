using System.Text;
using System.Text.RegularExpressions;

namespace ConvGL.Gpu;

/// <summary>A shader after the pre-pass: the text handed to the driver and, for every line of it, the file and
/// line it came from, so a driver message "0:57(3): error" can be reported as "include/border.glsl:12".</summary>
internal sealed partial class ShaderSource
{
    public string Text { get; }
    public IReadOnlyList<(string File, int Line)> LineMap { get; }

    private ShaderSource(string text, List<(string, int)> map)
    {
        Text = text;
        LineMap = map;
    }

    /// <summary>Reads <paramref name="path"/>, inlines every <c>#include "file"</c> (relative to the including file,
    /// then to <paramref name="root"/>; each file at most once, like #pragma once; a cycle is an error naming the
    /// chain) and inserts <c>#define NAME VALUE</c> lines right after <c>#version</c>, where GLSL requires them.</summary>
    /// <remarks>With <paramref name="generated"/> the main file is that text (a program generated at run time, e.g.
    /// LiteralConvPlan's), named <paramref name="path"/> in messages; its includes are read and watched as usual.
    /// Every file it reads, or looks for and does not find, is added to <paramref name="read"/> as it goes, so a caller
    /// whose load failed still knows which files to watch for the fix.</remarks>
    public static ShaderSource Load(string path, string root, IReadOnlyList<KeyValuePair<string, string>> defines, string? generated = null,
        List<string>? read = null)
    {
        string generatedPath = Path.GetFullPath(path);
        var text = new StringBuilder();
        var map = new List<(string, int)>();
        List<string> files = read ?? [];
        var included = new HashSet<string>(StringComparer.Ordinal);
        var stack = new List<string>();
        bool versionSeen = false;

        void Emit(string line, string file, int lineNumber)
        {
            text.Append(line).Append('\n');
            map.Add((file, lineNumber));
        }

        void Include(string file)
        {
            string full = Path.GetFullPath(file);
            if (stack.Contains(full))
                throw new ShaderBuildException($"{Rel(full)}: #include cycle: {string.Join(" -> ", stack.Select(Rel))} -> {Rel(full)}");
            if (!included.Add(full)) return;
            bool isGenerated = generated is not null && full == generatedPath;
            if (!isGenerated) files.Add(full);
            if (!isGenerated && !File.Exists(full)) throw new ShaderBuildException($"shader file {full} not found");
            if (!isGenerated && !ConvGL.Core.IO.BoundedFile.IsRegularFile(full))
                throw new ShaderBuildException($"shader file {full} is not a regular file (a device, FIFO or socket); put the shader's text there");
            stack.Add(full);
            string[] lines = (isGenerated ? generated! : ReadText(full)).Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
            if (lines.Length > 0 && lines[^1].Length == 0) lines = lines[..^1];
            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i];
                Match m = IncludeRegex().Match(line);
                if (m.Success)
                {
                    string name = m.Groups[1].Value;
                    string local = Path.Combine(Path.GetDirectoryName(full)!, name);
                    string target = File.Exists(local) ? local : Path.Combine(root, name);
                    if (!File.Exists(target))
                    {
                        // Either place the message names may be where the file appears: both are watched.
                        files.Add(Path.GetFullPath(local));
                        files.Add(Path.GetFullPath(target));
                        throw new ShaderBuildException($"{Rel(full)}:{i + 1}: #include \"{name}\" not found next to the file or in {root}");
                    }
                    // Keep the line count stable for readers of the expanded text: the directive becomes a comment.
                    Emit("// " + line.Trim(), Rel(full), i + 1);
                    Include(target);
                    continue;
                }
                Emit(line, Rel(full), i + 1);
                if (!versionSeen && line.TrimStart().StartsWith("#version", StringComparison.Ordinal))
                {
                    versionSeen = true;
                    foreach ((string key, string value) in defines) Emit($"#define {key} {value}", "<defines>", 0);
                }
            }
            stack.RemoveAt(stack.Count - 1);
        }

        static string ReadText(string full)
        {
            try
            {
                return File.ReadAllText(full);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ShaderBuildException($"shader file {full} cannot be read ({e.Message}); make it readable");
            }
        }

        string Rel(string full) => Path.GetRelativePath(root, full).Replace('\\', '/');

        Include(path);
        if (!versionSeen) throw new ShaderBuildException($"{Rel(Path.GetFullPath(path))}:1: shader has no #version line");
        return new ShaderSource(text.ToString(), map);
    }

    /// <summary>Rewrites a driver info log so every "source:line" reference names our file and line.
    /// Mesa writes "0:12(5): error: ...", NVIDIA "0(12) : error C1008: ...", AMD "ERROR: 0:12: ...".</summary>
    public string MapLog(string log)
    {
        var sb = new StringBuilder();
        foreach (string raw in log.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            if (raw.Trim().Length == 0) continue;
            Match m = LogLineRegex().Match(raw);
            if (m.Success && int.TryParse(m.Groups["line"].Value, out int line) && line >= 1 && line <= LineMap.Count)
            {
                (string file, int fileLine) = LineMap[line - 1];
                sb.Append(file).Append(':').Append(fileLine).Append(": ").Append(raw[(m.Index + m.Length)..].TrimStart(' ', ':')).Append('\n');
            }
            else
            {
                sb.Append(raw).Append('\n');
            }
        }
        return sb.ToString().TrimEnd();
    }

    [GeneratedRegex("""^\s*#\s*include\s+"([^"]+)"\s*(//.*)?$""")]
    private static partial Regex IncludeRegex();

    // "0:12(5)", "0(12)", "ERROR: 0:12" -- the source-string index, then the line.
    [GeneratedRegex("""^\s*(?:ERROR:\s*|WARNING:\s*)?\d+(?::(?<line>\d+)(?:\(\d+\))?|\((?<line>\d+)\))""")]
    private static partial Regex LogLineRegex();
}
