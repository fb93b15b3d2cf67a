using System.Globalization;
using ConvGL.Core.IO;

namespace ConvGL.Core.Kernels;

/// <summary>Kernel files (DESIGN.md "Kernel files and names").
///
/// Text: one kernel row per line, numbers separated by spaces, tabs and/or commas; `#` starts a comment that
/// runs to the end of the line; blank lines are ignored anywhere; one optional `scale S` line before the
/// first row, where S is a number (`scale 0.5`) or a fraction (`scale 1/16`), multiplies every entry.
/// Ragged rows, non-numbers, a misplaced or repeated scale, or no rows are errors naming the file and line.
///
/// `.npy`: a 2D float32 or float64 array (kH, kW).</summary>
public static class KernelFile
{
    public static Tensor Load(string path)
    {
        if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            Tensor t = Npy.Read(path);
            if (t.Rank != 2 || t.H < 1 || t.W < 1)
                throw new ConvGLException($"kernel file '{path}': a .npy kernel must be a 2D (kH, kW) array, got shape {t.ShapeString}");
            CheckFinite(t, path);
            return t;
        }
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConvGLException($"cannot read kernel file '{path}': {(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message)}", e);
        }
        return ParseText(text, path);
    }

    /// <summary>Parses the text format; <paramref name="name"/> is used in error messages.</summary>
    public static Tensor ParseText(string text, string name = "<text>")
    {
        double scale = 1;
        int scaleLine = 0;
        var rows = new List<double[]>();
        int firstRowLine = 0;
        string[] lines = text.Split('\n');
        for (int li = 0; li < lines.Length; li++)
        {
            int lineNo = li + 1;
            string line = lines[li];
            int hash = line.IndexOf('#');
            if (hash >= 0) line = line[..hash];
            line = line.Trim();
            if (line.Length == 0) continue;

            if (line.StartsWith("scale", StringComparison.OrdinalIgnoreCase))
            {
                if (scaleLine != 0) throw new ConvGLException($"{name}:{lineNo}: a second scale line (the first is on line {scaleLine})");
                if (rows.Count > 0) throw new ConvGLException($"{name}:{lineNo}: the scale line must come before the first row (line {firstRowLine})");
                string arg = line[5..].Trim();
                scale = ParseScale(arg) ?? throw new ConvGLException($"{name}:{lineNo}: scale '{arg}' is not a number or a fraction like 1/16");
                scaleLine = lineNo;
                continue;
            }

            string[] tokens = line.Split([' ', '\t', ',', '\r'], StringSplitOptions.RemoveEmptyEntries);
            // A line of separators only (", ,") is not blank after trimming, but it holds no entries: as a first row
            // it would make a zero-width kernel that only fails much later, far from this file and line.
            if (tokens.Length == 0) throw new ConvGLException($"{name}:{lineNo}: a row with no numbers (only separators)");
            var row = new double[tokens.Length];
            for (int i = 0; i < tokens.Length; i++)
            {
                if (!double.TryParse(tokens[i], NumberStyles.Float, CultureInfo.InvariantCulture, out row[i]) || !double.IsFinite(row[i]))
                    throw new ConvGLException($"{name}:{lineNo}: '{tokens[i]}' is not a number (entry {i + 1} of the row)");
            }
            if (rows.Count == 0)
            {
                firstRowLine = lineNo;
            }
            else if (row.Length != rows[0].Length)
            {
                throw new ConvGLException($"{name}:{lineNo}: ragged rows: this row has {row.Length} numbers, the first row (line {firstRowLine}) has {rows[0].Length}");
            }
            rows.Add(row);
        }
        if (rows.Count == 0) throw new ConvGLException($"{name}: no kernel rows (expected lines of numbers such as '1 2 1')");

        var t = new Tensor([rows.Count, rows[0].Length]);
        for (int y = 0; y < rows.Count; y++)
            for (int x = 0; x < rows[0].Length; x++) t[y, x] = (float)(rows[y][x] * scale);
        return t;
    }

    private static double? ParseScale(string s)
    {
        int slash = s.IndexOf('/');
        if (slash < 0)
            return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v : null;
        if (double.TryParse(s[..slash].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double a)
            && double.TryParse(s[(slash + 1)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double b)
            && b != 0 && double.IsFinite(a / b))
            return a / b;
        return null;
    }

    private static void CheckFinite(Tensor t, string path)
    {
        for (int i = 0; i < t.Length; i++)
            if (!float.IsFinite(t.Data[i]))
                throw new ConvGLException($"kernel file '{path}': entry ({i / t.W}, {i % t.W}) is {t.Data[i]}; kernels must be finite");
    }
}
