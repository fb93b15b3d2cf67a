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
            if (t.H > Limits.KernelSide || t.W > Limits.KernelSide)
                throw new ConvGLException($"kernel file '{path}': the kernel is {t.H}x{t.W}, over the {Limits.KernelSide}x{Limits.KernelSide} limit");
            CheckFinite(t, path);
            return t;
        }
        // A stack file or an ONNX model given as a kernel (a hostile-input review's `apply --kernel edges.json` read
        // "'//' is not a number"): said what it is and where it goes.
        if (Path.GetExtension(path).ToLowerInvariant() is (".json" or ".onnx") and var extension)
            throw new ConvGLException($"kernel file '{ErrorText.Echo(path)}' is a {(extension == ".json" ? "stack file" : "model")}, not a kernel " +
                                      "(a .txt of rows of numbers or a 2D .npy); a stack runs with `convgl features IMAGE --stack FILE --out DIR` or `convgl --stack FILE`");
        string text = BoundedFile.ReadAllText(path, Limits.KernelTextBytes, "kernel file");
        // An image or other binary file given as a kernel: said so, not echoed as "'\u0010JFIF...' is not a number".
        // (A NUL byte says binary: images always hold some; a comment in Latin-1 rather than UTF-8 is still text.)
        if (text.Contains('\0'))
            throw new ConvGLException($"kernel file '{path}' is not a text kernel (it holds binary data: an image?); a kernel file is rows of numbers, or a 2D .npy array");
        return ParseText(text, path);
    }

    /// <summary>Parses the text format; <paramref name="name"/> is used in error messages.</summary>
    public static Tensor ParseText(string text, string name = "<text>")
    {
        double scale = 1;
        int scaleLine = 0;
        var rows = new List<double[]>();
        var rowLines = new List<int>();
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
                scale = ParseScale(arg) ?? throw new ConvGLException($"{name}:{lineNo}: scale '{ErrorText.Echo(arg)}' is not a number or a fraction like 1/16");
                if (scale == 0) throw new ConvGLException($"{name}:{lineNo}: scale '{ErrorText.Echo(arg)}' makes every entry 0; give the factor the rows are multiplied by (e.g. scale 1/16) or remove the line");
                scaleLine = lineNo;
                continue;
            }

            string[] tokens = line.Split([' ', '\t', ',', '\r'], StringSplitOptions.RemoveEmptyEntries);
            // A line of separators only (", ,") is not blank after trimming, but it holds no entries: as a first row
            // it would make a zero-width kernel that only fails much later, far from this file and line.
            if (tokens.Length == 0) throw new ConvGLException($"{name}:{lineNo}: a row with no numbers (only separators)");
            // An empty entry between commas ("1,,2") is a missing number, not a separator run (it was read as "1 2");
            // a comma at the row's end, as copied arrays have, is allowed.
            string[] fields = line.Split(',');
            for (int f = 0; f < fields.Length - 1; f++)
                if (string.IsNullOrWhiteSpace(fields[f]))
                    throw new ConvGLException($"{name}:{lineNo}: an empty entry {(f == 0 ? "before the first comma" : $"between commas {f} and {f + 1}")}: a number is missing");
            var row = new double[tokens.Length];
            for (int i = 0; i < tokens.Length; i++)
            {
                if (!double.TryParse(tokens[i], NumberStyles.Float, CultureInfo.InvariantCulture, out row[i]) || !double.IsFinite(row[i]))
                    throw new ConvGLException($"{name}:{lineNo}: '{ErrorText.Echo(tokens[i])}' is not a number (entry {i + 1} of the row)");
            }
            if (row.Length > Limits.KernelSide)
                throw new ConvGLException($"{name}:{lineNo}: a row of {row.Length} numbers, over the {Limits.KernelSide}-column kernel limit");
            if (rows.Count == 0)
            {
                firstRowLine = lineNo;
            }
            else if (row.Length != rows[0].Length)
            {
                throw new ConvGLException($"{name}:{lineNo}: ragged rows: this row has {row.Length} numbers, the first row (line {firstRowLine}) has {rows[0].Length}");
            }
            if (rows.Count == Limits.KernelSide)
                throw new ConvGLException($"{name}:{lineNo}: more than {Limits.KernelSide} rows, over the kernel limit");
            rows.Add(row);
            rowLines.Add(lineNo);
        }
        if (rows.Count == 0) throw new ConvGLException($"{name}: no kernel rows (expected lines of numbers such as '1 2 1')");

        var t = new Tensor([rows.Count, rows[0].Length]);
        for (int y = 0; y < rows.Count; y++)
            for (int x = 0; x < rows[0].Length; x++)
            {
                // Finite as a double is not enough: 1e303 (or 1e30 with scale 1e10) is infinite as float32.
                float v = (float)(rows[y][x] * scale);
                if (!float.IsFinite(v))
                    throw new ConvGLException($"{name}:{rowLines[y]}: entry {x + 1} ({rows[y][x]:G6}{(scale == 1 ? "" : $" x scale {scale:G6}")}) is outside the float32 range (about +-3.4e38)");
                t[y, x] = v;
            }
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
        if (t.FirstNonFinite() is int i and >= 0)
            throw new ConvGLException($"kernel file '{path}': entry ({i / t.W}, {i % t.W}) is {t.Data[i]}; kernels must be finite");
    }
}
