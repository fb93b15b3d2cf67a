using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ConvGL.Core;

namespace ConvGL.App.Live;

/// <summary>The HUD's text, built from plain values so it can be tested without a window: what the info, kernel and
/// probe panels say. Called when the HUD is redrawn (on a change, twice a second), never per frame.</summary>
internal static class HudText
{
    /// <summary>At most this many kernel taps a side are shown (the centre ones): enough to read a kernel's shape.</summary>
    public const int MaxTaps = 7;

    /// <summary>Dilated kernels are drawn with their gaps (a dot where the kernel skips an input pixel) up to this
    /// many columns; wider ones list the taps and say how far apart they are.</summary>
    public const int MaxSpan = 13;

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>A per-axis option as the layer lines write it: "2" when both axes agree, else "2x3" (y x x, as the
    /// kernel panel's "stride 2x3").</summary>
    public static string Axes(int y, int x) => y == x ? y.ToString(CultureInfo.InvariantCulture) : F($"{y}x{x}");

    /// <summary>The power of ten the kernel panel and the probe show a kernel's taps in: 0 (as they are) while the largest
    /// |tap| is at least 0.1 or every tap is 0; else that of the largest tap, so it shows with 4 significant digits and a
    /// small tap is not rounded to 0 (ResNet18's first layer works on inputs of -128..128 and has taps of ~0.001-0.01: at
    /// 3 decimals most of a 7x7 kernel read 0 or -0). Non-finite taps are left out of the choice.</summary>
    public static int TapExponent(ReadOnlySpan<float> taps)
    {
        double max = MaxFiniteAbs(taps);
        return max is 0 or >= 0.1 ? 0 : (int)Math.Floor(Math.Log10(max));
    }

    private static double MaxFiniteAbs(ReadOnlySpan<float> values)
    {
        double max = 0;
        foreach (float v in values)
            if (float.IsFinite(v)) max = Math.Max(max, Math.Abs(v));
        return max;
    }

    /// <summary>Decimals for the probe's input window: 4 while every finite |value| is below 10 (as many as the products
    /// show, so 0.3098 x -1 reads -0.3098 beside it, not 0.310 x -1), then one fewer for each power of ten (ResNet18's
    /// preprocessed input reaches +-128: 2 decimals), so a value and its sign fit 7 characters and neighbours in an
    /// 8-character column never run together ("100.0000-50.0000").</summary>
    public static int WindowDecimals(ReadOnlySpan<float> values)
    {
        double max = MaxFiniteAbs(values);
        return max < 9.99995 ? 4 : max < 99.9995 ? 3 : max < 999.995 ? 2 : max < 9999.95 ? 1 : 0;
    }

    private static string WindowValue(float v, int decimals) => decimals switch
    {
        4 => F($"{v,8:0.0000}"),
        3 => F($"{v,8:0.000}"),
        2 => F($"{v,8:0.00}"),
        1 => F($"{v,8:0.0}"),
        _ => F($"{v,8:0}"),
    };

    /// <summary>The scale note after a kernel's heading: "" for exponent 0, else " (x 1e-3)".</summary>
    public static string TapScale(int exponent) => exponent == 0 ? "" : F($" (x 1e{exponent})");

    /// <summary>One tap in 7 characters, divided by 10^<paramref name="exponent"/>, with <paramref name="decimals"/>
    /// decimals (-1: as many as it needs, at most 3); a value that rounds to zero shows as 0, not -0.</summary>
    public static string Tap(float value, int exponent, int decimals = -1)
    {
        double v = exponent == 0 ? value : value / Math.Pow(10, exponent);
        if (double.IsFinite(v)) v = Math.Round(v, 3) + 0.0;
        string format = decimals switch { < 0 => "0.###", 0 => "0", _ => "0." + new string('0', decimals) };
        return string.Format(CultureInfo.InvariantCulture, "{0,7:" + format + "}", v);
    }

    /// <summary>The decimals every tap of a kernel is shown with: as many as its most precise tap needs, at most 3, so the
    /// columns line up ("0.25  0.00 -1.50", not "0.25  0  -1.5"; the UX audit's "-0.81   -0.7  0.528"); 0 for a kernel of
    /// whole numbers (a Sobel's -1 0 1).</summary>
    public static int TapDecimals(ReadOnlySpan<float> taps, int exponent)
    {
        int decimals = 0;
        double scale = exponent == 0 ? 1 : Math.Pow(10, exponent);
        foreach (float t in taps)
        {
            double v = t / scale;
            if (!double.IsFinite(v)) continue;
            v = Math.Round(v, 3);
            for (int d = decimals; d < 3 && Math.Abs(v - Math.Round(v, d)) > 1e-9; d++) decimals = d + 1;
            if (decimals == 3) break;
        }
        return decimals;
    }

    /// <summary>The kernel panel: output channel <paramref name="channel"/>'s kernel for input channel
    /// <paramref name="input"/> as the layer applies it — rotated 180 degrees under convolve, its taps spread by the
    /// dilation (dots mark the input pixels it skips) — with the stride named. At most <see cref="MaxTaps"/> taps a side,
    /// and no more columns than a row of <paramref name="maxChars"/> holds (a wrapped row no longer reads as a row):
    /// the centre ones, keeping the kernel width's parity so the centre tap stays in the middle.</summary>
    public static List<string> KernelLines(ConvView conv, int channel, int input = 0, int maxChars = int.MaxValue, int maxRows = MaxTaps)
    {
        Tensor w = conv.Weight;
        ConvOptions o = conv.Options;
        channel = Math.Clamp(channel, 0, w.Shape[0] - 1);
        input = Math.Clamp(input, 0, w.Shape[1] - 1);
        int kh = w.Shape[2], kw = w.Shape[3];
        bool flip = o.Mode == ConvMode.Convolve;
        int dy = o.DilationY, dx = o.DilationX;
        int rows = Math.Min(kh, Math.Max(1, maxRows)), cols;
        // A crop keeps the parity of the kernel's size, so it is centred.
        if (rows < kh && rows > 1 && (kh - rows) % 2 != 0) rows--;
        bool allowSpread = true;
        bool Spread(int c) => allowSpread && (c - 1) * dx + 1 <= MaxSpan && (rows - 1) * dy + 1 <= MaxSpan;
        int RowChars(int c) => 7 * (Spread(c) ? (c - 1) * dx + 1 : c);
        int Fit()
        {
            // As many columns as rows may be shown (a 9x9 Gaussian in a wide column showed its centre 9x7).
            int c = Math.Min(kw, Math.Max(MaxTaps, maxRows));
            while (c > 1 && RowChars(c) > maxChars) c--;
            return c;
        }
        cols = Fit();
        // Spread by the dilation, fewer taps fit: where the taps alone (with the spacing said in words) show more of
        // them, they go that way (a 3x3 Sobel at dilation 4 showed its centre column only: all zeros).
        if (cols < Math.Min(kw, MaxTaps) && Spread(cols))
        {
            allowSpread = false;
            int compact = Fit();
            if (compact > cols) cols = compact;
            else allowSpread = true;
        }
        if (cols < kw && cols > 1 && (kw - cols) % 2 != 0) cols--;
        bool spread = Spread(cols);
        int i0 = (kh - rows) / 2, j0 = (kw - cols) / 2;
        int exponent = TapExponent(w.Data.AsSpan((channel * w.Shape[1] + input) * kh * kw, kh * kw));
        int decimals = TapDecimals(w.Data.AsSpan((channel * w.Shape[1] + input) * kh * kw, kh * kw), exponent);
        var lines = new List<string>
        {
            // The input map by its number in the layer's input (a grouped layer's output reads its own group's maps).
            F($"kernel {kh}x{kw} as applied{(flip ? " (convolve: rotated 180)" : "")}, out {channel}, in {conv.FirstInput(channel) + input} of {w.Shape[1] * o.Groups}") +
            (kh > rows || kw > cols ? F($", showing its centre {rows}x{cols}") : "") + TapScale(exponent),
        };
        if (o.StrideY > 1 || o.StrideX > 1 || dy > 1 || dx > 1)
            lines.Add(F($"stride {o.StrideY}x{o.StrideX}, dilation {dy}x{dx}") +
                      (dy > 1 || dx > 1 ? spread ? ": . = input pixel skipped" : ": taps " + TapSpacing(dy, dx) + " apart" : ""));
        var sb = new StringBuilder();
        for (int r = 0; r < rows; r++)
        {
            sb.Clear();
            for (int c = 0; c < cols; c++)
            {
                int i = i0 + r, j = j0 + c;
                int si = flip ? kh - 1 - i : i, sj = flip ? kw - 1 - j : j;
                if (c > 0 && spread) sb.Append(string.Concat(Enumerable.Repeat("      .", dx - 1)));
                sb.Append(Tap(w.Data[((channel * w.Shape[1] + input) * kh + si) * kw + sj], exponent, decimals));
            }
            lines.Add(sb.ToString());
            if (spread && r < rows - 1)
            {
                string dots = string.Concat(Enumerable.Repeat("      .", (cols - 1) * dx + 1));
                for (int k = 1; k < dy; k++) lines.Add(dots);
            }
        }
        return lines;
    }

    /// <summary>How far apart the dilated taps are, in words: "2 columns", "3 rows", "2 rows and 3 columns" (an axis of
    /// dilation 1 is left out: "taps 1 rows, 2 columns apart" read as a typo).</summary>
    public static string TapSpacing(int dy, int dx) =>
        dy > 1 && dx > 1 ? F($"{dy} rows and {dx} columns") : dy > 1 ? F($"{dy} rows") : F($"{dx} columns");

    /// <summary>The program a conv layer may switch to once programs built ahead are ready (the longest conv tag).</summary>
    public const string LaterConvProgram = "conv2d_literal_winograd";

    /// <summary>The column's lines as the layout measures them, so that what changes while the window runs does not move
    /// the picture: a layer line's program tag as long as any it may show ("[conv2d_dense]" as "[conv2d_literal_winograd]",
    /// which replaces it when the programs built ahead land; a tagless or short tag as "[not run]", which a layer the view
    /// does not need shows), and every time figure ("0.8 ms", "12 fps") as a wide one. CI on a fast machine saw the edges
    /// stack's picture 500 or 508 px wide by whether the build landed before the second frame, and by the layer selected.</summary>
    public static List<string> ForLayout(IEnumerable<string> lines) => lines.Select(l =>
    {
        l = s_timeFigure.Replace(l, "888.8");
        if (!IsLayerLine(l)) return l;
        int arrow = l.LastIndexOf(" -> ", StringComparison.Ordinal);
        if (arrow < 0) return l;
        Match tag = s_tagBeforeArrow.Match(l[..arrow]);
        string name = tag.Success ? tag.Groups[1].Value : "";
        string plus = tag.Success ? tag.Groups[2].Value : "";
        string wide = name.StartsWith("conv2d", StringComparison.Ordinal) && name.Length < LaterConvProgram.Length ? LaterConvProgram : name;
        if (wide.Length + plus.Length < NotRun.Length) wide = NotRun;
        return (tag.Success ? l[..tag.Index] : l[..arrow]) + " [" + wide + plus + "]" + l[arrow..];
    }).ToList();

    // "[not run]" as a layer line shows it (a no-break space: the HUD's wrapping keeps it whole).
    private const string NotRun = "not\u00A0run";
    private static readonly Regex s_tagBeforeArrow = new(@" \[([a-z0-9_\u00A0]+)(\+[^\]]*)?\]$", RegexOptions.CultureInvariant);
    private static readonly Regex s_timeFigure = new(@"\d+(\.\d+)?(?=[ \u00A0]?(ms|fps)\b)", RegexOptions.CultureInvariant);

    /// <summary>The first info line: rate, the render thread's time for the last frame (issuing its work: a pass that runs
    /// on the GPU, or in llvmpipe's own threads, is not in it), the pipeline pass time, vsync, pause.</summary>
    public static string StatusLine(FrameStats stats, string pass, bool vsync, bool paused) =>
        F($"ConvGL  {stats.FpsText}  render{Nb}thread{Nb}{stats.FrameMs:0.0}{Nb}ms  {pass}  vsync{Nb}{(vsync ? "on" : "off")}{(paused ? "  PAUSED" : "")}");

    /// <summary>The status line's short form for a narrow column: its fields (two spaces apart) but the render thread's
    /// time and vsync, and the pass without how it was timed ("ConvGL  15 fps  pass 7.1 ms"). Pure: a unit test holds it.</summary>
    public static string ShortStatus(string status) =>
        string.Join("  ", status.Split("  ").Where(f => !f.StartsWith("render", StringComparison.Ordinal) && !f.StartsWith("vsync", StringComparison.Ordinal))
            .Select(f => f.Replace(" (llvmpipe, glFinish)", "", StringComparison.Ordinal)));

    /// <summary>A no-break space: the HUD's wrapping breaks at plain spaces only, so a figure keeps its label and unit
    /// ("render thread 19.6 ms" was wrapped as "19.6" / "ms"); the font draws it as a space.</summary>
    public const char Nb = '\u00A0';

    /// <summary>The pass figure: GPU timer queries (the conversion's <paramref name="timerMs"/> plus the layers' own
    /// <paramref name="layersMs"/>) on a GPU, the glFinish wall clock on a software rasteriser, "timing..." until
    /// the first query result is in.</summary>
    /// <paramref name="first"/>: the figure is the stack's first run, programs built in it where they were not cached (a
    /// still picture runs once, and its "pass 740 ms" read as if every frame took that long: a window review).
    public static string PassText(bool software, double softwareMs, double? timerMs, double layersMs, bool first = false) =>
        software ? F($"{(first ? $"first{Nb}" : "")}pass{Nb}{softwareMs:0.0}{Nb}ms (llvmpipe, glFinish)")
        : timerMs is { } ms ? F($"pass{Nb}{ms + layersMs:0.000}{Nb}ms{Nb}GPU") : "pass: timing...";

    /// <summary>One layer's line in the info panel: selected marker, the layer's number from 1 (the toggle key for
    /// 1..9, --layer's number for all; right-aligned in <paramref name="digits"/> places, the stack's longest), on/off,
    /// the label and, when measured, its own GPU milliseconds.</summary>
    public static string LayerLine(int i, bool selected, bool enabled, string label, double ms, int digits = 1) =>
        F($"{(selected ? '>' : ' ')}{(i + 1).ToString(CultureInfo.InvariantCulture).PadLeft(digits)} [{(enabled ? 'x' : ' ')}] {label}{(ms > 0 ? F($"  {ms:0.000} ms") : "")}");

    /// <summary>Whether <paramref name="line"/> is one of <see cref="LayerLine"/>'s: marker, the number (spaces before
    /// it), then " [x]" or " [ ]". A wrapped continuation ("  [x] ...", no number) is not.</summary>
    public static bool IsLayerLine(string line)
    {
        if (line.Length < 6 || line[0] is not (' ' or '>')) return false;
        int i = 1;
        while (i < line.Length && line[i] == ' ') i++;
        int digitsStart = i;
        while (i < line.Length && char.IsAsciiDigit(line[i])) i++;
        return i > digitsStart && i + 4 < line.Length && line[i] == ' ' && line[i + 1] == '[' && line[i + 2] is 'x' or ' ' && line[i + 3] == ']';
    }

    /// <summary>The info panel with only <paramref name="keep"/> of its layer lines (a stack of many layers, such as
    /// ResNet18's 52, lists more than the column holds): those around the selected layer (the line marked '>'),
    /// and in place of the others one line above and one below that count them. The other lines stay.</summary>
    public static List<string> ElideLayers(IReadOnlyList<string> lines, int keep)
    {
        int first = -1, count = 0, selected = 0;
        for (int i = 0; i < lines.Count; i++)
            if (IsLayerLine(lines[i]))
            {
                if (first < 0) first = i;
                if (lines[i][0] == '>') selected = count;
                count++;
            }
        keep = Math.Max(1, keep);
        if (count <= keep) return [.. lines];
        int start = Math.Clamp(selected - keep / 2, 0, count - keep), end = start + keep;
        var result = new List<string>(lines.Take(first));
        if (start > 0) result.Add(F($"   ... {start} layer(s) above ([ ] select)"));
        result.AddRange(lines.Skip(first + start).Take(keep));
        if (end < count) result.Add(F($"   ... {count - end} layer(s) below"));
        result.AddRange(lines.Skip(first + count));
        return result;
    }

    /// <summary>The info panel's lines after the status line: source, view, pipeline and GPU, one line per layer,
    /// the selected layer's output shape and channel name, and the layer the view draws when it is another one.</summary>
    public static void AddInfoLines(List<string> lines, string status, string source, int sourceWidth, int sourceHeight, string view,
        ILivePipeline pipeline, string renderer, int layer, int channel, int shownLayer = -1, bool planned = false)
    {
        lines.Add(status);
        lines.Add(F($"source: {source} {sourceWidth}x{sourceHeight}   view: {view}   h: help"));
        // A model's preprocessing: the maps are of the crop it takes, not of the whole source.
        if (pipeline.InputNote is { } note) lines.Add("  model input: " + note);
        lines.Add(F($"{pipeline.Name}   GPU: {renderer}"));
        int digits = pipeline.LayerCount.ToString(CultureInfo.InvariantCulture).Length;
        for (int i = 0; i < pipeline.LayerCount; i++)
            lines.Add(LayerLine(i, i == layer, pipeline.IsEnabled(i), pipeline.LayerLabel(i), pipeline.LayerMilliseconds(i), digits));
        // planned: the shape as planned, not asking for the map (another layer's lines, for the layout: a map the last run
        // did not keep would run the layers again).
        (int oh, int ow) = planned ? pipeline.LayerOutputSize(layer) : (0, 0);
        string shape = planned ? F($"({pipeline.OutputChannels(layer)}, {oh}, {ow})") : pipeline.LayerOutput(layer).ShapeString;
        // The channel as the grid labels it ("0 conv2", "3 sobel-y"): one name for a map everywhere.
        lines.Add(F($"layer {layer + 1}: output {shape}, channel {MapLabel(channel, pipeline.MapName(layer, channel))}"));
        // A view that draws another layer than the selected one (filters, theorem: the conv before it) says which.
        if (shownLayer >= 0 && shownLayer != layer && shownLayer < pipeline.LayerCount)
            lines.Add(F($"the {view} view shows layer {shownLayer + 1}"));
        // The filters view draws one input channel's slice of a kernel that reads several (3 read as one colour picture):
        // said, so a 3x3 grey cell is not taken for the whole of an 8-input kernel.
        int drawn = shownLayer >= 0 ? shownLayer : layer;
        if (view == "filters" && drawn < pipeline.LayerCount && pipeline.Conv(drawn) is { } conv && conv.Weight.Shape[1] is > 1 and not 3)
            lines.Add(F($"kernels drawn: input channel 0's slice of the {conv.Weight.Shape[1]} each reads"));
    }

    /// <summary>The error panel: what to do, then the error's first lines. <paramref name="kind"/>: a shader's or a
    /// kernel or stack file's error, which a fix of the file clears (it reloads by itself); a run's error (a stack that
    /// does not fit a dropped picture's size, a driver limit), which the next good run clears; or the source's (a stream
    /// that ended, a camera that stopped), which another source clears.</summary>
    public static List<string> ErrorLines(string error, ErrorKind kind = ErrorKind.File)
    {
        // What went wrong first (file:line), then what to do: in a narrow column the first lines are what shows.
        string[] given = error.Split('\n');
        var lines = new List<string> { "error: " + given[0] };
        lines.AddRange(given.Skip(1).Take(7));
        lines.Add(kind switch
        {
            ErrorKind.File => "(the last good version keeps running; fix the file: it reloads by itself)",
            ErrorKind.Unbuilt => "(it has never built, so what needs it does not run; fix the file: it reloads by itself)",
            ErrorKind.Source => "(the last frame stays; drop a picture or video on the window, or start again with another --source)",
            _ => "(the run stopped here; it clears when a run succeeds: another source, --source-max, or another layer set)",
        });
        return lines;
    }

    /// <summary>The help overlay: every control of <see cref="Controls.All"/> (the table the keys dispatch through).</summary>
    public static List<string> HelpLines()
    {
        var lines = new List<string> { "ConvGL controls" };
        foreach (Control c in Controls.All) lines.Add(F($"{c.Keys,-17} {c.Description}"));
        lines.Add("");
        lines.Add("drop an image or video file on the window to switch the source");
        return lines;
    }

    /// <summary>What the probe strip says while no pixel is probed on a conv layer: the layer's sum written out with its
    /// own numbers, term for term Core's reference loop (Conv2D.Run): the kernel index flipped under convolve, the input
    /// index from the stride, dilation and padding, the group's first input channel, what the border gives outside the
    /// input; then how to see one pixel's numbers. <paramref name="layer"/> counts from 1.</summary>
    public static List<string> FormulaLines(ConvView conv, int inH, int inW, int layer, int channel = -1)
    {
        ConvOptions o = conv.Options;
        int cout = conv.Weight.Shape[0], cin = conv.Weight.Shape[1], kh = conv.Weight.Shape[2], kw = conv.Weight.Shape[3];
        ConvGeometry g;
        try
        {
            g = ConvGeometry.Compute(inH, inW, kh, kw, o);
        }
        catch (ConvGLException)
        {
            return [];
        }
        bool flip = o.Mode == ConvMode.Convolve;
        string wi = flip ? F($"{kh - 1}-i") : "i", wj = flip ? F($"{kw - 1}-j") : "j";
        // The input channel: c for one group; o itself for a depthwise layer (one input each: c is always 0);
        // else c from the first input of o's group, g.
        int perGroup = cout / o.Groups;
        bool depthwise = o.Groups > 1 && cin == 1 && perGroup == 1;
        string inputIndex = o.Groups == 1 ? "c" : depthwise ? "o" : "g+c";
        string sum = depthwise ? F($"sum over i < {kh}, j < {kw} of w[o,0,{wi},{wj}]") : F($"sum over c < {cin}, i < {kh}, j < {kw} of w[o,c,{wi},{wj}]");
        string bias = conv.Bias is null ? "" : "b[o] + ";
        var lines = new List<string>
        {
            F($"layer {layer} ({(flip ? "convolve: the kernel flipped" : "correlate")}), for o < {cout}, y < {g.Y.Output}, x < {g.X.Output}:"),
            F($"out[o,y,x] = {bias}{sum} x in[{inputIndex}, {Index("y", o.StrideY, "i", o.DilationY, g.Y.PadBefore)}, {Index("x", o.StrideX, "j", o.DilationX, g.X.PadBefore)}]"),
        };
        string outside = o.Border switch
        {
            Border.Zero => "0",
            Border.Replicate => "the nearest edge pixel (replicate)",
            Border.Reflect => "mirrored about the edge pixel (reflect: d c b | a b c d)",
            Border.Symmetric => "mirrored with the edge pixel (symmetric: c b a | a b c d)",
            _ => "the other side's pixel (wrap)",
        };
        string first = perGroup == 1 ? F($"{cin} x o") : cin == 1 ? F($"o / {perGroup}") : F($"{cin} x (o / {perGroup})");
        string groups = o.Groups == 1 || depthwise ? "" : F($"; g = {first}, o's group's first input");
        // Where no window reaches past the input (valid padding), the border rule is never used: said so (the math audit:
        // a valid layer's strip gave a rule for reads that never happen).
        bool readsOutside = g.Y.PadBefore > 0 || g.X.PadBefore > 0
            || (long)(g.Y.Output - 1) * o.StrideY + (long)o.DilationY * (kh - 1) - g.Y.PadBefore >= inH
            || (long)(g.X.Output - 1) * o.StrideX + (long)o.DilationX * (kw - 1) - g.X.PadBefore >= inW;
        lines.Add(readsOutside ? F($"in[] outside the {inW}x{inH} input: {outside}{groups}")
            : F($"in[] never falls outside the {inW}x{inH} input (no padding: every window lies inside){groups}"));
        // The selected channel's sum on a flat input: what the kernel does to an area without detail (its taps sum to
        // 1 for a smoothing filter, which keeps it; to 0 for an edge filter, which leaves only the bias).
        if (channel >= 0 && channel < cout)
        {
            int taps = cin * kh * kw;
            double total = 0;
            foreach (float w in conv.Weight.Data.AsSpan(channel * taps, taps)) total += w;
            string b = conv.Bias is { } bs && channel < bs.Length ? F($"{Math.Round(bs[channel], 4) + 0.0:0.####} + ") : "";
            string border = o.Border == Border.Zero && readsOutside ? " (away from the border's zeros)" : "";
            lines.Add(F($"channel {channel}: on a flat input, every in[] = v{border}: out = {b}v x {Math.Round(total, 4) + 0.0:0.####}, the sum of its {taps} weights"));
        }
        lines.Add("hover a pixel to see this sum's numbers (click pins it)");
        return lines;
    }

    /// <summary>The same for a pooling layer (Core's Pool2D.Apply) and a relu (Activation.Apply): what the probe strip says
    /// on those layers while nothing is probed; empty for other layers.</summary>
    public static List<string> LayerFormulaLines(Core.Stacks.StackLayer? layer, int inC, int inH, int inW, int number, (int C, int H, int W)? second = null)
    {
        switch (layer)
        {
            case Core.Stacks.ConcatLayer:
                return [F($"layer {number} (concat: the inputs' maps one after another), out[c,y,x] = the c-th map of the inputs in order, at [y,x]")];
            case Core.Stacks.CoordsLayer:
                return
                [
                    F($"layer {number} (coords: where each pixel is, its input's values not read), for y < {inH}, x < {inW}:"),
                    "out[0,y,x] = 2 * x / (W - 1) - 1, out[1,y,x] = 2 * y / (H - 1) - 1: from -1 at the first pixel to 1 at the last",
                ];
            case Core.Stacks.SliceLayer sl:
                return [F($"layer {number} (slice {sl.Describe()}), out[c,y,x] = in[c + {sl.Start}, the y-th of its rows, the x-th of its columns]")];
            case Core.Stacks.ConvTransposeLayer t:
                return
                [
                    F($"layer {number} (transposed conv: each input pixel scatters the kernel times its value), for o < {t.Weight.Shape[1] * t.Options.Groups}:"),
                    F($"out[o,y,x] = bias[o] + sum of in[c,iy,ix] x w[c,o,ky,kx] over every c, iy, ky with iy*{t.Options.StrideY} - {t.Options.PadTop} + ky*{t.Options.DilationY} = y (and likewise x)"),
                ];
            case Core.Stacks.InstanceNormLayer:
                return [F($"layer {number} (instance norm: each map by its own mean m and variance v), out[c,y,x] = scale[c] (in[c,y,x] - m[c]) / sqrt(v[c] + eps) + shift[c], over the {inH}x{inW} plane")];
            case Core.Stacks.GroupNormLayer g:
                return [F($"layer {number} (group norm: {g.Groups} groups of {inC / Math.Max(1, g.Groups)} maps, each group by its maps' mean m and variance v together), out[c,y,x] = scale[c] (in[c,y,x] - m[g]) / sqrt(v[g] + eps) + shift[c], g = the group of c")];
            case Core.Stacks.ChannelLayerNormLayer:
                return [F($"layer {number} (layer norm over the channels: each pixel by its {inC} values' mean m and variance v), out[c,y,x] = scale[c] (in[c,y,x] - m[y,x]) / sqrt(v[y,x] + eps) + shift[c]")];
            case Core.Stacks.LrnLayer l:
                return [F($"layer {number} (local response norm over {l.Parameters.Size} channels), out[c,y,x] = in[c,y,x] / ({Significant(l.Parameters.Bias)} + {Significant(l.Parameters.Alpha)} / {l.Parameters.Size} x sum of in[c',y,x]^2 over the window)^{Significant(l.Parameters.Beta)}")];
            case Core.Stacks.PadLayer:
                return [F($"layer {number} (pad), out[c,y,x] = in[c, y - top, x - left] inside the input; outside, the border's rule (a zero border: its fill value)")];
            case Core.Stacks.DepthToSpaceLayer { ToSpace: true } d:
                return [F($"layer {number} (depth to space, block {d.Block}), out[c,y,x] = in[one of the {d.Block * d.Block} channels of c by (y % {d.Block}, x % {d.Block}), y / {d.Block}, x / {d.Block}]")];
            case Core.Stacks.DepthToSpaceLayer d:
                return [F($"layer {number} (space to depth, block {d.Block}), out[c,y,x] = in[c % {inC}, y {d.Block} + i, x {d.Block} + j], (i, j) = the block cell c / {inC} names")];
            case Core.Stacks.ChannelShuffleLayer cs:
                return [F($"layer {number} (channel shuffle, {cs.Groups} groups), out[j {cs.Groups} + i, y, x] = in[i {inC / Math.Max(1, cs.Groups)} + j, y, x]")];
            case Core.Stacks.SoftmaxLayer sm:
                return
                [
                    F($"layer {number} ({sm.Type} over the channels at each pixel), for c < {inC}, y < {inH}, x < {inW}:"),
                    sm.Log ? "out[c,y,x] = in[c,y,x] - m - log(sum over c' of exp(in[c',y,x] - m)), m the pixel's largest in"
                        : "out[c,y,x] = exp(in[c,y,x] - m) / (sum over c' of exp(in[c',y,x] - m)), m the pixel's largest in: the maps' shares, summing to 1",
                ];
            case Core.Stacks.LinearLayer lin:
                return
                [
                    F($"layer {number} (linear: every input value weighted, a fully connected layer), for o < {lin.Out}:"),
                    F($"out[o,0,0] = bias[o] + sum over k < {lin.In} of w[o,k] x in[k], in[] the input's {inC}x{inH}x{inW} values in order"),
                ];
            case Core.Stacks.BatchNormLayer:
                return
                [
                    F($"layer {number} (per-channel affine: a batchnorm with its statistics folded in), for c < {inC}, y < {inH}, x < {inW}:"),
                    "out[c,y,x] = scale[c] x in[c,y,x] + shift[c]",
                ];
            case Core.Stacks.GlobalAvgPoolLayer or Core.Stacks.GlobalMaxPoolLayer:
                return
                [
                    F($"layer {number} ({(layer is Core.Stacks.GlobalMaxPoolLayer ? "global max" : "global average")} pool), for c < {inC}:"),
                    layer is Core.Stacks.GlobalMaxPoolLayer ? F($"out[c,0,0] = max over y < {inH}, x < {inW} of in[c,y,x]")
                        : F($"out[c,0,0] = (sum over y < {inH}, x < {inW} of in[c,y,x]) / {(long)inH * inW}"),
                ];
            case Core.Stacks.ChannelReduceLayer r:
                return
                [
                    F($"layer {number} ({r.Op} over the channels), for y < {inH}, x < {inW}:"),
                    r.Kind switch
                    {
                        Core.Ops.ReduceKind.Mean => F($"out[0,y,x] = (sum over c < {inC} of in[c,y,x]) / {inC}: each pixel's mean over the maps"),
                        Core.Ops.ReduceKind.Sum => F($"out[0,y,x] = sum over c < {inC} of in[c,y,x]"),
                        Core.Ops.ReduceKind.Max => F($"out[0,y,x] = max over c < {inC} of in[c,y,x]: each pixel's strongest response (a NaN wins)"),
                        _ => F($"out[0,y,x] = min over c < {inC} of in[c,y,x] (a NaN wins)"),
                    },
                ];
            case Core.Stacks.ElementwiseLayer { Value: { } k } e:
            {
                string v = Significant(k);
                string op = e.Kind switch
                {
                    Core.Ops.BinaryKind.Sub => $"in[c,y,x] - {v}", Core.Ops.BinaryKind.Div => $"in[c,y,x] / {v}", Core.Ops.BinaryKind.Pow => $"in[c,y,x] ^ {v}",
                    Core.Ops.BinaryKind.Max => $"max(in[c,y,x], {v})", _ => $"min(in[c,y,x], {v})",
                };
                return [F($"layer {number} ({e.Type} by a number, each value on its own), for c < {inC}, y < {inH}, x < {inW}:"), F($"out[c,y,x] = {op}")];
            }
            case Core.Stacks.AddLayer or Core.Stacks.MulLayer or Core.Stacks.ElementwiseLayer when second is { } b:
            {
                // Each map's index where it is broadcast (a single channel, a 1x1 map): 0 on that axis.
                static string At(int c, int h, int w, int outC, int outH, int outW) =>
                    F($"[{(c == 1 && outC != 1 ? "0" : "c")},{(h == 1 && outH != 1 ? "0" : "y")},{(w == 1 && outW != 1 ? "0" : "x")}]");
                int oc = Math.Max(inC, b.C), oh = Math.Max(inH, b.H), ow = Math.Max(inW, b.W);
                string a = "a" + At(inC, inH, inW, oc, oh, ow), bb = "b" + At(b.C, b.H, b.W, oc, oh, ow);
                string op = layer switch
                {
                    Core.Stacks.AddLayer => $"{a} + {bb}",
                    Core.Stacks.MulLayer => $"{a} * {bb}",
                    Core.Stacks.ElementwiseLayer { Kind: Core.Ops.BinaryKind.Sub } => $"{a} - {bb}",
                    Core.Stacks.ElementwiseLayer { Kind: Core.Ops.BinaryKind.Div } => $"{a} / {bb}",
                    Core.Stacks.ElementwiseLayer { Kind: Core.Ops.BinaryKind.Pow } => $"{a} ^ {bb}",
                    Core.Stacks.ElementwiseLayer { Kind: Core.Ops.BinaryKind.Max } => $"max({a}, {bb})",
                    _ => $"min({a}, {bb})",
                };
                return
                [
                    F($"layer {number} ({layer.Type} of two maps, a ({inC}, {inH}, {inW}) and b ({b.C}, {b.H}, {b.W})), for c < {oc}, y < {oh}, x < {ow}:"),
                    F($"out[c,y,x] = {op}") + ((inC, inH, inW) != (oc, oh, ow) && (b.C, b.H, b.W) != (oc, oh, ow) ? ": both maps repeated (broadcast) to the output's shape"
                        : (inC, inH, inW) != (b.C, b.H, b.W) ? ": the smaller map repeated (broadcast) over the other" : ""),
                ];
            }
            case Core.Stacks.PoolLayer { Options: var o }:
            {
                if (TryGeometry(() => Core.Ops.Pool2D.Geometry(inH, inW, o)) is not { } g) return [];
                bool max = o.Kind == Core.Ops.PoolKind.Max;
                string window = F($"i < {o.SizeY}, j < {o.SizeX} of in[c, {Index("y", o.EffectiveStrideY, "i", 1, o.PadY)}, {Index("x", o.EffectiveStrideX, "j", 1, o.PadX)}]");
                var lines = new List<string>
                {
                    PoolHeader(number, max, inC, g),
                    max ? F($"out[c,y,x] = max over {window}") : F($"out[c,y,x] = (sum over {window}) / {o.SizeY * o.SizeX}"),
                };
                if (o.PadY > 0 || o.PadX > 0)
                    lines.Add(F($"in[] outside the {inW}x{inH} input: {(max ? "left out of the max" : "0, counted in the average")}"));
                return lines;
            }
            case Core.Stacks.PaddedPoolLayer { Options: var o }:
            {
                // An imported (ONNX) pool: its own pads, dilation and ceil mode (ResNet18's stem pool showed the conv hint).
                if (TryGeometry(() => Core.Ops.PaddedPool2D.Geometry(inH, inW, o)) is not { } g) return [];
                bool max = o.Kind == Core.Ops.PoolKind.Max;
                string window = F($"i < {o.SizeY}, j < {o.SizeX} of in[c, {Index("y", o.StrideY, "i", o.DilationY, g.Y.PadBefore)}, {Index("x", o.StrideX, "j", o.DilationX, g.X.PadBefore)}]");
                var lines = new List<string>
                {
                    PoolHeader(number, max, inC, g),
                    max ? F($"out[c,y,x] = max over {window}")
                        : F($"out[c,y,x] = (sum over {window}) / the taps counted ({(o.CountIncludePad ? "inside the padded input" : "inside the input")})"),
                };
                if (g.Y.PadBefore > 0 || g.X.PadBefore > 0 || g.Y.PadAfter > 0 || g.X.PadAfter > 0)
                    lines.Add(F($"in[] outside the {inW}x{inH} input (pad {g.Y.PadBefore},{g.X.PadBefore},{g.Y.PadAfter},{g.X.PadAfter}): ") +
                              (max ? "left out of the max" : o.CountIncludePad ? "0, counted in the average" : "left out of the sum and the count"));
                return lines;
            }
            case Core.Stacks.MagnitudeLayer:
                return
                [
                    F($"layer {number} (magnitude of channel pairs), for c < {inC / 2}, y < {inH}, x < {inW}:"),
                    "out[c,y,x] = sqrt(in[2c,y,x]^2 + in[2c+1,y,x]^2): the length of each (x, y) derivative pair, the edge strength",
                ];
            case Core.Stacks.ActivationLayer { Kind: Core.Ops.ActivationKind.Relu }:
                return
                [
                    F($"layer {number} (relu, each value on its own), for c < {inC}, y < {inH}, x < {inW}:"),
                    "out[c,y,x] = max(0, in[c,y,x]): negative responses become 0, the rest pass unchanged",
                ];
            default:
                return [];
        }
    }

    // A pool's output geometry, or null where the input is too small for it (the layer's own run says why).
    private static ConvGeometry? TryGeometry(Func<ConvGeometry> geometry)
    {
        try
        {
            return geometry();
        }
        catch (ConvGLException)
        {
            return null;
        }
    }

    private static string PoolHeader(int number, bool max, int inC, ConvGeometry g) =>
        F($"layer {number} ({(max ? "max" : "average")} pool, every channel apart), for c < {inC}, y < {g.Y.Output}, x < {g.X.Output}:");

    // An input index along one axis as the reference computes it, written as simply as its numbers allow:
    // "y*2+i*2-1", "y+i-1", "y+i".
    private static string Index(string v, int stride, string tap, int dilation, int pad)
    {
        string s = (stride == 1 ? v : F($"{v}*{stride}")) + "+" + (dilation == 1 ? tap : F($"{tap}*{dilation}"));
        return pad > 0 ? F($"{s}-{pad}") : pad < 0 ? F($"{s}+{-pad}") : s;
    }

    /// <summary><paramref name="lines"/> cut to <paramref name="count"/> lines (at least one) where there are more, the
    /// last one saying how many are not shown (cut to <paramref name="chars"/>): a panel in a window too small for it.</summary>
    public static List<string> CutToLines(List<string> lines, int count, int chars)
    {
        count = Math.Max(1, count);
        if (lines.Count <= count) return lines;
        List<string> kept = lines.GetRange(0, count - 1);
        kept.Add(MoreLines(lines.Count - count + 1, chars));
        return kept;
    }

    // The line that stands for the lines a cut leaves out, in at most `chars` characters.
    private static string MoreLines(int left, int chars)
    {
        string more = F($"... {left} more lines: enlarge the window");
        return more.Length <= chars ? more : Fit(F($"... {left} more lines"), chars);
    }

    /// <summary><paramref name="lines"/> cut to <paramref name="count"/> lines keeping their last <paramref name="tail"/>
    /// (a probe's result: out, what the GPU wrote, |diff|), the cut lines before it counted in one line; where the tail
    /// and a line before it do not fit, <see cref="CutToLines"/>.</summary>
    public static List<string> CutKeepingTail(List<string> lines, int tail, int count, int chars)
    {
        if (lines.Count <= count) return lines;
        int head = count - tail - 1;
        if (tail <= 0 || head < 1) return CutToLines(lines, count, chars);
        return [.. lines.GetRange(0, head), MoreLines(lines.Count - tail - head, chars), .. lines.GetRange(lines.Count - tail, tail)];
    }

    /// <summary>Where a help line's description starts: continuation lines of a wrapped help line are indented to it.</summary>
    public const int HelpDescriptionColumn = 18;

    /// <summary>Lines the probe strip reserves for a layer whose kernel is <paramref name="kh"/> x <paramref name="kw"/>
    /// over <paramref name="inputs"/> input channels (no kernel: the hint's two lines): the header, the rows shown, a
    /// "showing" line for large kernels, the sums, in a strip of <paramref name="chars"/> characters, where the long lines
    /// (header, sums, the bias line) wrap as their widest likely text would (<see cref="ProbeTail"/>). It depends only on
    /// the layer and the strip's width, never on the pointer, so the picture does not jump while the mouse moves.</summary>
    public static int ProbeStripLines(bool conv, int kh, int kw, int chars = int.MaxValue, int inputs = 64, bool reach = false) =>
        !conv ? 2 : Math.Min(kh, MaxTaps) + (kh > MaxTaps || kw > MaxTaps ? 1 : 0) + WrappedLines(ProbeTail(kw, chars, inputs, reach), chars);

    /// <summary>Whether a conv probe's header says where its window lies (<see cref="Probe.Reach"/>): under a stride or a
    /// dilation, where the output's (x, y) alone does not say which input pixels the window's rows hold.</summary>
    public static bool ShowsReach(ConvOptions o) => o.StrideY > 1 || o.StrideX > 1 || o.DilationY > 1 || o.DilationX > 1;

    // A conv probe's lines that can outgrow a narrow strip, each slot's forms at their widest likely length (a 4-digit
    // position, 16-character channel names, signs on every number): the header (with the "showing" note where the
    // strip cuts the kernel's columns), the columns' heading, the sums over the input channels (named for up to 3, else
    // 6 numbers; a total for more than one) and the bias line. The strip reserves what the widest form of each wraps to;
    // the rows never wrap (ProbeLines shows the columns that fit).
    private static string[][] ProbeTail(int kw, int chars, int inputs, bool reach)
    {
        const string name = " Convolution249:~ -00.0000";
        string sums = inputs <= 3
            ? F($"sum over {inputs} input channel(s):") + string.Concat(Enumerable.Repeat(name, inputs)) + (inputs > 1 ? ", total -000.0000" : "")
            : F($"sum over {inputs} input channel(s): -00.0000 -00.0000 -00.0000 -00.0000 -00.0000 -00.0000 ..., total -0000.0000");
        bool cut = kw <= MaxTaps && (chars - 6) / 23 < kw;
        return
        [
            // (The layer's name as long as the longest: "layer 100", the filters view's hand-made "Gabor bank".)
            [$"probe (pinned): {LiveApp.DesignedBankName}, out channel 511, (x 1919, y 1079)" + (reach ? ": window at input rows 3837..3841, cols 7677..7681, taps 2 apart" : "") +
                (cut ? "  (showing the centre 5x5 of 7x7)" : "")],
            ["input window (channel 511: Convolution249:~)  kernel as applied       products"],
            [sums],
            ["+ bias -0.0000 = -00.000000 (CPU, from the GPU's input)   GPU wrote -00.000000   |diff| 1.0e-12"],
        ];
    }

    // A pool's or activation's probe lines that can outgrow a narrow strip (as ProbeTailTemplates): the header, the
    // window's heading and the result beside what the GPU wrote.
    private static readonly string[][] PoolTailTemplates =
    [
        ["probe (pinned): layer 52 (average pool 15x15), channel 511, (x 1919, y 1079)"],
        ["input window (channel 511: Convolution249:~) (showing the centre 7x7 of 15x15)"],
        ["max of the window (its pad cells left out) = -00.000000 (CPU, from the GPU's input)   GPU wrote -00.000000   |diff| 1.0e-12",
         "sum -000.0000 / 225 = -00.000000 (CPU, from the GPU's input)   GPU wrote -00.000000   |diff| 1.0e-12"],
    ];

    private static readonly string[][] ActivationTailTemplates =
    [
        ["probe (pinned): layer 52 (leaky_relu), channel 511, (x 1919, y 1079)"],
        ["in[2047, 1079, 1919] (Convolution249:~) = -1.23456e-07"],
        ["thresholded_relu(in) = -1.23456e-07 (CPU, from the GPU's input)   GPU wrote -1.23456e-07   |diff| 1.0e-12"],
    ];

    private static readonly string[][] CoordsTailTemplates =
    [
        ["probe (pinned): layer 52 (coords), channel 1, (x 1919, y 1079)"],
        ["y = 1079 of H = 1080: where the pixel is (the input's values are not read)"],
        ["2 * y / (H - 1) - 1 = 2 * 1079 / 1079 - 1 = -1.23456e-07 (CPU)   GPU wrote -1.23456e-07   |diff| 1.0e-12"],
    ];

    private static readonly string[][] MagnitudeTailTemplates =
    [
        ["probe (pinned): layer 52 (magnitude), channel 511, (x 1919, y 1079)"],
        ["a = in[1022, 1079, 1919] (Convolution249:~) = -1.23456e-07, b = in[1023, 1079, 1919] (Convolution249:~) = -1.23456e-07"],
        ["sqrt(a^2 + b^2) = sqrt(1.23456e-14 + 1.23456e-14) = 1.23456e-07 (CPU, from the GPU's input)   GPU wrote 1.23456e-07   |diff| 1.0e-12"],
    ];

    private static readonly string[][] ChannelsTailTemplates =
    [
        ["probe (pinned): layer 52 (reduce_channels mean), channel 0, (x 1919, y 1079)"],
        ["in[c, 1079, 1919] for c < 512: -1.23456e-07 -1.23456e-07 -1.23456e-07 -1.23456e-07 -1.23456e-07 -1.23456e-07 ...",
         "in[511, y, x] (Convolution249:~), 1079x1919 = 2070551 values: -1.23456e-07 -1.23456e-07 -1.23456e-07 ..."],
        ["(sum over c) / 512 = -1.23456e-07 (CPU, from the GPU's input)   GPU wrote -1.23456e-07   |diff| 1.0e-12",
         "(sum of them) / 2070551 = -1.23456e-07 (CPU, from the GPU's input)   GPU wrote -1.23456e-07   |diff| 1.0e-12"],
    ];

    private static readonly string[][] TransposedTailTemplates =
    [
        ["probe (pinned): layer 152 (conv_transpose), channel 2047, (x 1919, y 1079)"],
        ["4096 input value(s) land here: in[c, iy, ix] x w[c, 2047, ky, kx] with iy s - pad + ky d = 1079, likewise x:"],
        [" in[2047, 1079, 1919] x w[10, 10] = -1.23456e-07 x -1.23456e-07; in[2047, 1079, 1919] x w[10, 10] = -1.23456e-07 x -1.23456e-07 ..."],
        ["bias -1.23456e-07 + sum of the 4096 products = -1.23456e-07 (CPU, from the GPU's input)   GPU wrote -1.23456e-07   |diff| 1.0e-12"],
    ];

    private static readonly string[][] NormTailTemplates =
    [
        ["probe (pinned): layer 152 (instancenorm), channel 2047, (x 1919, y 1079)"],
        ["in[2047, y, x] (Convolution249:~), 1079x1919 = 2070551 values: -1.23456e-07 -1.23456e-07 -1.23456e-07 ...",
         "in[c, 1079, 1919] for c = 2040..2047: -1.23456e-07 -1.23456e-07 -1.23456e-07 -1.23456e-07 -1.23456e-07 ...",
         "in[2040:2048, y, x], the group's 8 maps of 1079x1919 = 16564408 values: -1.23456e-07 -1.23456e-07 ..."],
        ["mean m = -1.23456e-07, variance v = -1.23456e-07, eps = -1.23456e-07; in[2047, 1079, 1919] = -1.23456e-07",
         "sum of their squares s = -1.23456e-07"],
        ["scale (in - m) / sqrt(v + eps) + shift = -1.23456e-07 x -1.23456e-07 + -1.23456e-07 = -1.23456e-07 (CPU, from the GPU's input)   GPU wrote -1.23456e-07   |diff| 1.0e-12",
         "in / (bias + alpha / size x s)^beta = -1.23456e-07 / (...)^beta = -1.23456e-07 (CPU, from the GPU's input)   GPU wrote -1.23456e-07   |diff| 1.0e-12"],
    ];

    private static readonly string[][] ResizeTailTemplates =
    [
        ["probe (pinned): layer 152 (resize nearest), channel 2047, (x 1919, y 1079)"],
        ["source y -1.23456e-07, x -1.23456e-07 in (Convolution249:~): rows 1078 1079 1079 1079, columns 1918 1919 1919 1919"],
        ["sum of value x weight = -1.23456e-07 (CPU, from the GPU's input)   GPU wrote -1.23456e-07   |diff| 1.0e-12"],
    ];

    // One tap row at its widest (extra lines a row wraps to count past the first).
    private static string[][] ResizeRowTemplates(Core.Ops.ResizeMode mode) =>
        [["  row 1079:" + string.Join(";", Enumerable.Repeat(" -1.23456e-07 x -1.23456e-07", mode == Core.Ops.ResizeMode.Cubic ? 4 : mode == Core.Ops.ResizeMode.Linear ? 2 : 1))]];

    private static readonly string[][] CopyTailTemplates =
    [
        ["probe (pinned): layer 152 (channel_shuffle), channel 2047, (x 1919, y 1079)"],
        ["takes layer 151[2047, 1079, 1919] (Convolution249:~) = -1.23456e-07"],
        ["copied: -1.23456e-07 (CPU, from the GPU's input)   GPU wrote -1.23456e-07   |diff| 1.0e-12"],
    ];

    private static readonly string[][] SoftmaxTailTemplates =
    [
        ["probe (pinned): layer 52 (log_softmax), channel 511, (x 1919, y 1079)"],
        ["in[c, 1079, 1919] for c < 512: -1.23456e-07 -1.23456e-07 -1.23456e-07 -1.23456e-07 -1.23456e-07 -1.23456e-07 ..."],
        ["m = max over c = -1.23456e-07, s = sum over c of exp(in[c] - m) = -1.23456e-07"],
        ["in[511] - m - log(s) = -1.23456e-07 (CPU, from the GPU's input)   GPU wrote -1.23456e-07   |diff| 1.0e-12"],
    ];

    private static readonly string[][] LinearTailTemplates =
    [
        ["probe (pinned): layer 152 (linear), channel 2047, (x 0, y 0)"],
        ["in[k] x w[2047, k] for k < 1048576: -1.23456e-07 x -1.23456e-07, -1.23456e-07 x -1.23456e-07, -1.23456e-07 x -1.23456e-07 ..."],
        ["bias -1.23456e-07 + sum of the 1048576 products = -1.23456e-07 (CPU, from the GPU's input)   GPU wrote -1.23456e-07   |diff| 1.0e-12"],
    ];

    private static readonly string[][] AttentionTailTemplates =
    [
        ["probe (pinned): layer 152 (attention), channel 2047, (x 1919, y 1079)"],
        ["head 2047 of 2048: w[j] = softmax over the 1048576 keys of -1.23456e-07 q[2047:2048, 1079, 1919] . k[2047:2048, j] (largest logit -1.23456e-07); most: w = -1.23456e-07 at key (x 1919, y 1079)"],
        ["w[j] x v[2047, j] (Convolution249:~) for j < 1048576: -1.23456e-07 x -1.23456e-07, -1.23456e-07 x -1.23456e-07 ..."],
        ["sum of the 1048576 products = -1.23456e-07 (CPU, from the GPU's input)   GPU wrote -1.23456e-07   |diff| 1.0e-12   lit: w / -1.23456e-07 over the 1024x1024 keys (a hides)"],
    ];

    private static readonly string[][] AffineTailTemplates =
    [
        ["probe (pinned): layer 152 (batchnorm), channel 2047, (x 1919, y 1079)"],
        ["in[2047, 1079, 1919] (Convolution249:~) = -1.23456e-07, scale[2047] = -1.23456e-07, shift[2047] = -1.23456e-07"],
        ["scale x in + shift = -1.23456e-07 (CPU, from the GPU's input)   GPU wrote -1.23456e-07   |diff| 1.0e-12"],
    ];

    private static readonly string[][] TwoMapsTailTemplates =
    [
        ["probe (pinned): layer 52 (mul), channel 511, (x 1919, y 1079)"],
        ["a = layer 51[511, 1079, 1919] (Convolution249:~) = -1.23456e-07, b = layer 50[511, 1079, 1919] (Convolution249:~) = -1.23456e-07"],
        ["max(a, b) = -1.23456e-07 (CPU, from the GPU's input)   GPU wrote -1.23456e-07   |diff| 1.0e-12"],
    ];

    // The lines the slots take wrapped to `chars`: each slot as many as its widest form wraps to.
    private static int WrappedLines(string[][] slots, int chars)
    {
        int lines = 0;
        foreach (string[] forms in slots) lines += forms.Max(f => Wrap([f], chars).Count);
        return lines;
    }

    /// <summary>How many characters of <paramref name="charWidth"/> pixels fit in <paramref name="width"/> pixels.</summary>
    public static int CharsIn(float width, float charWidth) => (int)(width / charWidth);

    /// <summary>A label cut to <paramref name="chars"/> characters (the last one a "~"), so a long map name never
    /// spills onto the next map.</summary>
    public static string Fit(string text, int chars)
    {
        chars = Math.Max(1, chars);
        return text.Length <= chars ? text : text[..Math.Max(0, chars - 1)] + "~";
    }

    /// <summary>The colour bar's title in lines of <paramref name="chars"/>: wrapped, two lines at most; a longer one's
    /// second line is the rest of the title cut to fit (the wrapped lines joined would show their indent, and a break
    /// after a comma, as spaces in the middle of a name: "lambda=5,  ~").</summary>
    public static List<string> ColourBarTitle(string title, int chars)
    {
        List<string> lines = Wrap([title], chars);
        if (lines.Count <= 2) return lines;
        string rest = title.StartsWith(lines[0], StringComparison.Ordinal)
            ? title[lines[0].Length..].TrimStart() : lines[1].TrimStart() + " " + lines[2].TrimStart();
        return [lines[0], Fit(rest, chars)];
    }

    /// <summary>A map's label in a grid: its index first (what a narrow cell keeps when <see cref="Fit"/> cuts the name),
    /// then its name, without the index a second time where the name already ends in it (a learned or imported layer's
    /// "conv2 3" is labelled "3 conv2", not "3 conv2 3").</summary>
    public static string MapLabel(int channel, string name)
    {
        string index = channel.ToString(CultureInfo.InvariantCulture);
        string stem = name.Length > index.Length + 1 && name.EndsWith(" " + index, StringComparison.Ordinal) ? name[..^(index.Length + 1)] : name;
        return $"{index} {stem}";
    }

    /// <summary>Whether maps drawn in cells <paramref name="cellHeight"/> pixels tall get labels of
    /// <paramref name="lineHeight"/>: only where a label covers at most a third of its map (a grid of ResNet18's 512
    /// 7x7 maps has cells ~30 pixels tall, which labels hid half of; hovering or clicking a map still names it).</summary>
    public static bool MapLabelsFit(float cellHeight, float lineHeight) => cellHeight >= 3 * lineHeight;

    /// <summary><see cref="MapLabel"/> cut to <paramref name="chars"/> characters; where fewer than 4 of the name would be
    /// left ("3 Co~" in a narrow cell of ResNet18's filters view), the index alone: a stub of a name says nothing.</summary>
    public static string FitMapLabel(int channel, string name, int chars)
    {
        string label = MapLabel(channel, name), index = channel.ToString(CultureInfo.InvariantCulture);
        return label.Length <= chars || chars - 1 - (index.Length + 1) >= 4 ? Fit(label, chars) : Fit(index, chars);
    }

    /// <summary>The labels of a grid's <paramref name="maps"/> cells, each cut to <paramref name="chars"/>: where every map
    /// has the same name but for its index (a layer's "Convolution28 0".."Convolution28 63", "conv1 0".."conv1 7") the
    /// index alone, as the name is the layer's and the info panel says it once (ResNet18's grid read "0 Convo~" in every
    /// cell); otherwise <see cref="FitMapLabel"/> (a bank's "0 sobel-x", "1 sobel-y").</summary>
    public static string[] GridLabels(int maps, Func<int, string> name, int chars)
    {
        var stems = new string[maps];
        for (int c = 0; c < maps; c++) stems[c] = MapLabel(c, name(c))[(c.ToString(CultureInfo.InvariantCulture).Length + 1)..];
        bool shared = maps > 1 && stems.All(s => s == stems[0]);
        // A bank of one kernel kind whose full specs do not fit: only the parameters that differ ("5 theta=112.5", where
        // "5 gabor:theta=11~" read as a wrong number).
        string[]? distinct = !shared && maps > 1 && Enumerable.Range(0, maps).Any(c => MapLabel(c, name(c)).Length > chars)
            ? DistinctFields(stems) : null;
        // One parameter differs and even "1 theta=22.5" is cut ("1 theta=2~" read as a wrong number too): its values
        // alone ("1 22.5") where they fit; the kernel beside the map, and the probe, say what it is.
        if (distinct is not null && Enumerable.Range(0, maps).Any(c => MapLabel(c, distinct[c]).Length > chars)
            && distinct.All(d => !d.Contains(',', StringComparison.Ordinal)))
        {
            string[] values = distinct.Select(d => d[(d.IndexOf('=', StringComparison.Ordinal) + 1)..]).ToArray();
            if (Enumerable.Range(0, maps).All(c => MapLabel(c, values[c]).Length <= chars)) distinct = values;
        }
        var labels = new string[maps];
        for (int c = 0; c < maps; c++)
            labels[c] = shared ? Fit(c.ToString(CultureInfo.InvariantCulture), chars)
                : FitMapLabel(c, distinct is null ? name(c) : distinct[c], chars);
        return labels;
    }

    /// <summary>For kernel specs of one kind with the same named parameters ("gabor:theta=0,sigma=2.5" ...), each one's
    /// parameters that differ between them ("theta=0", "theta=22.5"); null where the specs are not of that form or
    /// none differs. Pure: a unit test holds it.</summary>
    public static string[]? DistinctFields(IReadOnlyList<string> specs)
    {
        if (specs.Count < 2) return null;
        var fields = new string[specs.Count][];
        string? kind = null;
        for (int i = 0; i < specs.Count; i++)
        {
            int colon = specs[i].IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) return null;
            if (kind is null) kind = specs[i][..colon];
            else if (specs[i][..colon] != kind) return null;
            fields[i] = specs[i][(colon + 1)..].Split(',');
            if (fields[i].Length != fields[0].Length) return null;
            for (int f = 0; f < fields[i].Length; f++)
            {
                int eq = fields[i][f].IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0 || fields[i][f][..eq] != fields[0][f][..fields[0][f].IndexOf('=', StringComparison.Ordinal)]) return null;
            }
        }
        int[] differ = Enumerable.Range(0, fields[0].Length).Where(f => fields.Any(x => x[f] != fields[0][f])).ToArray();
        if (differ.Length == 0) return null;
        return fields.Select(x => string.Join(",", differ.Select(f => x[f]))).ToArray();
    }

    /// <summary>Names of input channels longer than this are cut (with a "~") in the probe panel.</summary>
    private const int ProbeNameChars = 16;

    // A channel's name in the probe strip: 16 characters, more where the strip is wide (up to 40: the deep stack's
    // "sobel-x of conv2 10" was cut to "sobel-x of conv~" in a 1600 px strip), never so many that its lines outgrow it.
    private static int NameChars(int maxChars) => Math.Clamp((int)Math.Min(int.MaxValue, ((long)maxChars - 60) / 4), ProbeNameChars, 40);

    // A channel's name in a probe's "input window (channel N: name)" header: the room its line has, up to 40, at least
    // NameChars (a window review saw "|sobel-x, sobel-y| of c~" cut in a strip with room for all of it).
    private static int HeaderNameChars(int room, int maxChars) => Math.Max(NameChars(maxChars), Math.Min(room, 40));

    /// <summary>The kernel columns a conv probe's rows show in a strip of <paramref name="chars"/> characters (before a crop
    /// keeps the kernel's parity): a row is 8 characters a tap for the window, 7 for the kernel, 8 for the products, and
    /// two "  |" separators; at most <see cref="MaxTaps"/>.</summary>
    public static int ProbeColumns(int kernelWidth, int chars) => Math.Min(Math.Min(kernelWidth, MaxTaps), Math.Max(1, (chars - 6) / 23));

    /// <summary>The window columns a pool probe's rows show in <paramref name="chars"/> characters (8 a tap).</summary>
    public static int PoolProbeColumns(int kernelWidth, int chars) => Math.Min(Math.Min(kernelWidth, MaxTaps), Math.Max(1, (chars - 2) / 8));

    /// <summary>The probe panel for a valid or invalid probe. <paramref name="inputName"/> names an input channel of
    /// the layer (<see cref="ILivePipeline.InputMapName"/>: R, G, B; B, G, R for ResNet18's preprocessed input; gray;
    /// an earlier layer's map): the window's channel is named, and with up to 3 input channels each sum is too.
    /// At most <see cref="MaxTaps"/> taps a side are shown, and no more columns than a row of <paramref name="maxChars"/>
    /// holds (a wrapped row would push the sums out of the strip): the centre ones, said so.</summary>
    public static List<string> ProbeLines(Probe p, bool pinned, Func<int, string> inputName, int maxChars = int.MaxValue, Func<int, int, string>? mapName = null,
                                          bool spotlight = false, string? layerName = null)
    {
        // layerName: what the layer is called in place of "layer N" (the filters view's hand-made bank beside a learned one).
        var lines = new List<string> { F($"probe{(pinned ? " (pinned)" : "")}: {layerName ?? F($"layer {p.Layer + 1}")}, out channel {p.Channel}, (x {p.X}, y {p.Y})") };
        if (!p.Valid)
        {
            // A pin left outside the map (a smaller source dropped, another stack) said nothing of the way out.
            lines.Add((p.Why ?? "") + (pinned ? "; a click unpins the probe" : ""));
            return lines;
        }
        if (p.Kind != ProbeKind.Conv) return LayerProbeLines(p, pinned, inputName, maxChars, mapName, spotlight, layerName);
        // Where the window lies in the input, so stride, padding and dilation show (a teaching review: the window read as a
        // compact block whatever its taps' spacing): rows and columns below 0 or past the input are padding.
        if (p.Reach is { } r)
            lines[0] += F($": window at input rows {r.Y0}..{r.Y0 + (p.KernelHeight - 1) * r.DY}, cols {r.X0}..{r.X0 + (p.KernelWidth - 1) * r.DX}") +
                (r.DY == 1 && r.DX == 1 ? "" : r.DY == r.DX ? F($", taps {r.DY} apart") : F($", taps {r.DY} row{(r.DY == 1 ? "" : "s")} and {r.DX} column{(r.DX == 1 ? "" : "s")} apart"));
        var sb = new StringBuilder();
        const int c = 0;
        // A row is 8 characters a tap for the window, 7 for the kernel, 8 for the products, and two "  |" separators.
        int kh = Math.Min(p.KernelHeight, MaxTaps), kw = ProbeColumns(p.KernelWidth, maxChars);
        // A crop keeps the parity of the kernel's size, so it is centred (5 of 5 taps cut to 4 would show taps 0..3).
        if (kh < p.KernelHeight && kh > 1 && (p.KernelHeight - kh) % 2 != 0) kh--;
        if (kw < p.KernelWidth && kw > 1 && (p.KernelWidth - kw) % 2 != 0) kw--;
        int i0 = (p.KernelHeight - kh) / 2, j0 = (p.KernelWidth - kw) / 2;
        string showing = F($"(showing the centre {kh}x{kw} of {p.KernelHeight}x{p.KernelWidth})");
        // Its own line (the strip reserves one) for a kernel beyond MaxTaps; after the header when only the width cut it.
        bool big = p.KernelHeight > MaxTaps || p.KernelWidth > MaxTaps;
        if (!big && kw < p.KernelWidth) lines[0] += "  " + showing;
        int exponent = TapExponent(p.Kernel.AsSpan(c * p.KernelHeight * p.KernelWidth, p.KernelHeight * p.KernelWidth));
        int tapDecimals = TapDecimals(p.Kernel.AsSpan(c * p.KernelHeight * p.KernelWidth, p.KernelHeight * p.KernelWidth), exponent);
        int decimals = WindowDecimals(p.Window.AsSpan(c * p.KernelHeight * p.KernelWidth, p.KernelHeight * p.KernelWidth));
        string kernel = exponent == 0 ? "kernel as applied" : F($"kernel x 1e{exponent}"); // as narrow as a 3-tap row
        // The channel's name takes the room its header line has beside the kernel's and the products' headings (a
        // window review saw "|sobel-x, sobel-y| of c~" cut in a strip with room for all of it), at least NameChars.
        string prefix = F($"input window (channel {p.FirstInput + c}: ");
        int room = maxChars - Math.Max(kw * 7 + 3, kernel.Length + 2) - "products".Length - prefix.Length - 3;
        int nameChars = NameChars(maxChars);
        string window = prefix + Fit(inputName(p.FirstInput + c), HeaderNameChars(room, maxChars)) + ")";
        lines.Add(window.PadRight(Math.Max(kw * 8 + 3, window.Length + 2)) + kernel.PadRight(Math.Max(kw * 7 + 3, kernel.Length + 2)) + "products");
        for (int i = i0; i < i0 + kh; i++)
        {
            sb.Clear();
            for (int j = j0; j < j0 + kw; j++)
            {
                // A zero border's taps say so (the window review: they read 0.0000, like a real zero of the input).
                int k = (c * p.KernelHeight + i) * p.KernelWidth + j;
                sb.Append(k < p.ZeroPad.Length && p.ZeroPad[k] ? "   pad 0" : WindowValue(p.Window[k], decimals));
            }
            sb.Append("  |");
            for (int j = j0; j < j0 + kw; j++) sb.Append(Tap(p.Kernel[(c * p.KernelHeight + i) * p.KernelWidth + j], exponent, tapDecimals));
            sb.Append("  |");
            for (int j = j0; j < j0 + kw; j++) sb.Append(ProductText(p.Product(c, i, j)));
            lines.Add(sb.ToString());
        }
        if (big) lines.Add(showing);
        sb.Clear().Append(F($"sum over {p.InputChannels} input channel(s):"));
        // An image's channels (gray; R, G, B; B, G, R) are short: each sum beside its name. More: the numbers only, so
        // the line stays one line.
        bool named = p.InputChannels <= 3;
        // More: as many as the strip's width holds (at least 6; the UX audit's 8-channel sum showed 6 of them, the hidden
        // 7th nearly the whole total), the total after them.
        int shown = named ? p.InputChannels : Math.Min(p.InputChannels, SumsThatFit(p, sb.Length, maxChars));
        for (int k = 0; k < shown; k++)
            sb.Append(named ? F($" {Fit(inputName(p.FirstInput + k), nameChars)} {p.ChannelSums[k]:0.0000}") : F($" {p.ChannelSums[k]:0.0000}"));
        if (p.InputChannels > shown) sb.Append(" ...");
        // Their total, which the bias is added to on the next line (with 64 channels most sums are not on screen).
        if (p.InputChannels > 1)
        {
            double total = 0;
            for (int k = 0; k < p.InputChannels && k < p.ChannelSums.Length; k++) total += p.ChannelSums[k];
            sb.Append(F($", total {total:0.0000}"));
        }
        lines.Add(sb.ToString());
        // Floats as doubles: .NET formats a float to 7 significant digits before a custom format rounds it, so -0.23439348f
        // printed -0.234394 beside the CPU's -0.234393 with |diff| 0 (a double rounding; the exact value rounds to ...393).
        lines.Add(F($"+ bias {(double)p.Bias:0.0000} = {p.Sum:0.000000} (CPU, from the GPU's input)   GPU wrote {(double)p.Gpu:0.000000}   |diff| {p.Difference:0.0e+0}"));
        return lines;
    }

    // How many channel sums fit a line of maxChars after `used` characters, with " ..." and the total after them; at
    // least 6 (the strip reserves a line for that many).
    private static int SumsThatFit(Probe p, int used, int maxChars)
    {
        double total = 0;
        for (int k = 0; k < p.InputChannels && k < p.ChannelSums.Length; k++) total += p.ChannelSums[k];
        int room = maxChars - used - F($", total {total:0.0000}").Length - 4, fit = 0, width = 0;
        for (int k = 0; k < p.InputChannels && k < p.ChannelSums.Length; k++)
        {
            width += F($" {p.ChannelSums[k]:0.0000}").Length;
            if (width > room) break;
            fit++;
        }
        return Math.Max(6, fit);
    }

    /// <summary>"<paramref name="heading"/> a x b, a x b, ..." for the first of the probe's <paramref name="n"/> window and
    /// kernel pairs that fit in <paramref name="maxChars"/> (at least one), " ..." where some are left out: a linear layer's
    /// inputs and weights, an attention's weights and values.</summary>
    private static string ProductsLine(string heading, Probe p, int n, int maxChars)
    {
        var products = new StringBuilder(heading);
        int shown = 0;
        for (; shown < n; shown++)
        {
            string v = F($" {Significant(p.Window[shown])} x {Significant(p.Kernel[shown])}") + (shown + 1 < n ? "," : "");
            if (products.Length + v.Length + 5 > maxChars && shown > 0) break;
            products.Append(v);
        }
        if (shown < n) products.Append(" ...");
        return products.ToString();
    }

    /// <summary>The lines <see cref="LayerProbeLines"/> takes for a probe of <paramref name="layer"/>: a pool's header,
    /// its window's heading, rows (at most <see cref="MaxTaps"/>) and result; an activation's three; 0 for a layer the
    /// probe does not take apart; more where a strip of <paramref name="chars"/> characters wraps the long ones.</summary>
    public static int LayerProbeStripLines(Core.Stacks.StackLayer? layer, int chars = int.MaxValue) => layer switch
    {
        Core.Stacks.PoolLayer { Options: var p } => Math.Min(p.SizeY, MaxTaps) + WrappedLines(PoolTailTemplates, chars),
        Core.Stacks.PaddedPoolLayer { Options: var p } => Math.Min(p.SizeY, MaxTaps) + WrappedLines(PoolTailTemplates, chars),
        Core.Stacks.ActivationLayer or Core.Stacks.UnaryLayer or Core.Stacks.PReluLayer => WrappedLines(ActivationTailTemplates, chars),
        Core.Stacks.MagnitudeLayer => WrappedLines(MagnitudeTailTemplates, chars),
        Core.Stacks.CoordsLayer => WrappedLines(CoordsTailTemplates, chars),
        Core.Stacks.ChannelReduceLayer or Core.Stacks.GlobalAvgPoolLayer or Core.Stacks.GlobalMaxPoolLayer => WrappedLines(ChannelsTailTemplates, chars),
        Core.Stacks.BatchNormLayer => WrappedLines(AffineTailTemplates, chars),
        Core.Stacks.InstanceNormLayer or Core.Stacks.GroupNormLayer or Core.Stacks.ChannelLayerNormLayer or Core.Stacks.LrnLayer => WrappedLines(NormTailTemplates, chars),
        Core.Stacks.SoftmaxLayer => WrappedLines(SoftmaxTailTemplates, chars),
        Core.Stacks.ConcatLayer or Core.Stacks.SliceLayer or Core.Stacks.ChannelShuffleLayer or Core.Stacks.PadLayer or Core.Stacks.DepthToSpaceLayer
            or Core.Stacks.FlattenLayer => WrappedLines(CopyTailTemplates, chars),
        // A resize: the position line, a row a tap row (1, 2 or 4 for nearest, linear, cubic), the sum.
        Core.Stacks.ResizeLayer r => (r.Options.Mode switch { Core.Ops.ResizeMode.Nearest => 1, Core.Ops.ResizeMode.Cubic => 4, _ => 2 })
                                     * WrappedLines(ResizeRowTemplates(r.Options.Mode), chars) + WrappedLines(ResizeTailTemplates, chars),
        Core.Stacks.LinearLayer => WrappedLines(LinearTailTemplates, chars),
        Core.Stacks.AttentionLayer => WrappedLines(AttentionTailTemplates, chars),
        Core.Stacks.ConvTransposeLayer => WrappedLines(TransposedTailTemplates, chars),
        Core.Stacks.AddLayer or Core.Stacks.MulLayer or Core.Stacks.ElementwiseLayer => WrappedLines(TwoMapsTailTemplates, chars),
        _ => 0,
    };

    /// <summary>The probe panel of a pool (its window, "pad" where it reaches past the image, and the max or the average
    /// of what counts) or an activation (its input value and the function of it), next to what the GPU wrote.</summary>
    private static List<string> LayerProbeLines(Probe p, bool pinned, Func<int, string> inputName, int maxChars, Func<int, int, string>? mapName, bool spotlight,
                                                string? layerName)
    {
        var lines = new List<string> { F($"probe{(pinned ? " (pinned)" : "")}: {layerName ?? F($"layer {p.Layer + 1}")} ({p.LayerName}), channel {p.Channel}, (x {p.X}, y {p.Y})") };
        string gpu = F($"(CPU, from the GPU's input)   GPU wrote {(double)p.Gpu:0.000000}   |diff| {p.Difference:0.0e+0}"); // a double: see ProbeLines
        string name = Fit(inputName(p.FirstInput), NameChars(maxChars));
        if (p.Kind == ProbeKind.Channels)
        {
            // The pixel's value in each channel (as many as the line holds; the reduction takes them all), then the result.
            int channels = p.KernelWidth;
            lines.Add(ValuesLine(F($"in[c, {p.Y}, {p.X}] for c < {channels}:"), p.Window.AsSpan(0, channels), maxChars));
            string op = p.LayerName.EndsWith(" mean", StringComparison.Ordinal) ? F($"(sum over c) / {channels}")
                : p.LayerName.EndsWith(" sum", StringComparison.Ordinal) ? "sum over c" : p.LayerName.EndsWith(" max", StringComparison.Ordinal) ? "max over c" : "min over c";
            lines.Add(F($"{op} = {Significant(p.Sum)} (CPU, from the GPU's input)   GPU wrote {Significant(p.Gpu)}   |diff| {p.Difference:0.0e+0}"));
            return lines;
        }
        if (p.Kind == ProbeKind.Transposed)
        {
            // The input pixels that scatter onto this output, each times its weight tap, as many as the line holds; the sum.
            int n = p.KernelWidth;
            var products = new StringBuilder(F($"{n} input value(s) land here: in[c, iy, ix] x w[c, {p.Channel}, ky, kx] with iy s - pad + ky d = {p.Y}, likewise x:"));
            lines.Add(products.ToString());
            products.Clear();
            int shown = 0;
            for (; shown < n; shown++)
            {
                var (c, iy, ix, ky, kx) = p.Scattered[shown];
                string v = F($" in[{c}, {iy}, {ix}] x w[{ky}, {kx}] = {Significant(p.Window[shown])} x {Significant(p.Kernel[shown])}") + (shown + 1 < n ? ";" : "");
                if (products.Length + v.Length + 5 > maxChars && shown > 0) break;
                products.Append(v);
            }
            if (shown < n) products.Append(" ...");
            lines.Add(n == 0 ? "  (none: every tap lands between the inputs here)" : products.ToString());
            lines.Add(F($"bias {Significant(p.Bias)} + sum of the {n} products = {Significant(p.Sum)} (CPU, from the GPU's input)   GPU wrote {Significant(p.Gpu)}   |diff| {p.Difference:0.0e+0}"));
            return lines;
        }
        if (p.Kind == ProbeKind.Norm)
        {
            // The values normalised together (an instance norm's plane, a layer norm's pixel over the channels), their
            // mean and variance, then this value scaled and shifted.
            int n = p.KernelHeight * p.KernelWidth;
            lines.Add(p.LayerName == "groupnorm"
                ? ValuesLine(F($"in[{p.FirstInput}:{p.FirstInput + p.InputChannels}, y, x], the group's {p.InputChannels} maps of {p.KernelHeight}x{p.KernelWidth} = {(long)p.InputChannels * n} values:"), p.Window.AsSpan(0, p.InputChannels * n), maxChars)
                : p.LayerName == "instancenorm"
                ? ValuesLine(F($"in[{p.FirstInput}, y, x] ({name}), {p.KernelHeight}x{p.KernelWidth} = {n} values:"), p.Window.AsSpan(0, n), maxChars)
                : ValuesLine(F($"in[c, {p.Y}, {p.X}] for c < {n}:"), p.Window.AsSpan(0, n), maxChars));
            lines.Add(F($"mean m = {Significant(p.NormMean)}, variance v = {Significant(p.NormVariance)}, eps = {Significant(p.NormEpsilon)}; in[{p.FirstInput}, {p.Y}, {p.X}] = {Significant(p.NormValue)}"));
            lines.Add(F($"scale (in - m) / sqrt(v + eps) + shift = {Significant(p.NormScale)} x {Significant((p.NormValue - p.NormMean) / Math.Sqrt(p.NormVariance + p.NormEpsilon))} + {Significant(p.Bias)} = {Significant(p.Sum)} (CPU, from the GPU's input)   GPU wrote {Significant(p.Gpu)}   |diff| {p.Difference:0.0e+0}"));
            return lines;
        }
        if (p.Kind == ProbeKind.Lrn)
        {
            lines.Add(ValuesLine(F($"in[c, {p.Y}, {p.X}] for c = {p.FirstInput}..{p.FirstInput + p.KernelWidth - 1}:"), p.Window.AsSpan(0, p.KernelWidth), maxChars));
            lines.Add(F($"sum of their squares s = {Significant(p.NormMean)}"));
            lines.Add(F($"in / (bias + alpha / size x s)^beta = {Significant(p.NormValue)} / (...)^beta = {Significant(p.Sum)} (CPU, from the GPU's input)   GPU wrote {Significant(p.Gpu)}   |diff| {p.Difference:0.0e+0}"));
            return lines;
        }
        if (p.Kind == ProbeKind.Resize)
        {
            // The source position, the taps' rows and columns with their weights, the values row by row, the weighted sum.
            int ny = p.KernelHeight, nx = p.KernelWidth;
            lines.Add(F($"source y {Significant(p.SourceY)}, x {Significant(p.SourceX)} in ({name}): rows {string.Join(" ", p.TapRows)}, columns {string.Join(" ", p.TapCols)}"));
            // Each row of taps: value x weight (the weight wy[i] wx[j]).
            var row = new StringBuilder();
            for (int i = 0; i < ny; i++)
            {
                row.Clear();
                // Single spaces only: a run of them reads as a field break to Wrap, which then breaks the row early.
                row.Append(F($"  row {p.TapRows[i]}:"));
                for (int j = 0; j < nx; j++) row.Append(F($" {Significant(p.Window[i * nx + j])} x {Significant(p.Kernel[i * nx + j])}")).Append(j + 1 < nx ? ";" : "");
                lines.Add(row.ToString());
            }
            lines.Add(F($"sum of value x weight = {Significant(p.Sum)} (CPU, from the GPU's input)   GPU wrote {Significant(p.Gpu)}   |diff| {p.Difference:0.0e+0}"));
            return lines;
        }
        if (p.Kind == ProbeKind.Copy && p.FirstLayer == Probe.NumberOperand)
        {
            lines.Add(F($"outside the input: the pad's fill, {Significant(p.Window[0])}"));
            lines.Add(F($"copied: {Significant(p.Sum)} (CPU, from the GPU's input)   GPU wrote {Significant(p.Gpu)}   |diff| {p.Difference:0.0e+0}"));
            return lines;
        }
        if (p.Kind == ProbeKind.Copy)
        {
            string from = p.FirstLayer < 0 ? "input" : F($"layer {p.FirstLayer + 1}");
            string source = mapName is null ? F($"{p.FirstInput}") : Fit(mapName(p.FirstLayer, p.FirstInput), NameChars(maxChars));
            lines.Add(F($"takes {from}[{p.FirstInput}, {p.AY}, {p.AX}] ({source}) = {Significant(p.Window[0])}"));
            lines.Add(F($"copied: {Significant(p.Sum)} (CPU, from the GPU's input)   GPU wrote {Significant(p.Gpu)}   |diff| {p.Difference:0.0e+0}"));
            return lines;
        }
        if (p.Kind == ProbeKind.Softmax)
        {
            int n = p.KernelWidth;
            lines.Add(ValuesLine(F($"in[c, {p.Y}, {p.X}] for c < {n}:"), p.Window.AsSpan(0, n), maxChars));
            string ch = F($"{p.Channel}");
            lines.Add(F($"m = max over c = {Significant(p.Bias)}, s = sum over c of exp(in[c] - m) = {Significant(p.Kernel[0])}"));
            lines.Add(F($"{(p.LayerName == "log_softmax" ? $"in[{ch}] - m - log(s)" : $"exp(in[{ch}] - m) / s")} = {Significant(p.Sum)} (CPU, from the GPU's input)   GPU wrote {Significant(p.Gpu)}   |diff| {p.Difference:0.0e+0}"));
            return lines;
        }
        if (p.Kind == ProbeKind.Linear)
        {
            // The products as the line holds them ("in x w"), then the bias and the sum of all of them.
            int n = p.KernelWidth;
            lines.Add(ProductsLine(F($"in[k] x w[{p.Channel}, k] for k < {n}:"), p, n, maxChars));
            lines.Add(F($"bias {Significant(p.Bias)} + sum of the {n} products = {Significant(p.Sum)} (CPU, from the GPU's input)   GPU wrote {Significant(p.Gpu)}   |diff| {p.Difference:0.0e+0}"));
            return lines;
        }
        if (p.Kind == ProbeKind.Attention)
        {
            // The softmax of q . k over the keys (its largest logit and the key weighted most), then the weights times the
            // value map's channel at each key, as many as the line holds, and their sum.
            int n = p.KernelWidth;
            string values = mapName is null ? F($"{p.SecondChannel}") : Fit(mapName(p.SecondLayer, p.SecondChannel), NameChars(maxChars));
            float top = 0;
            for (int j = 0; j < n; j++) top = Math.Max(top, p.Window[j]);
            // With heads: the head's channels of q and k ("head 2 of 4: q[8:12, y, x] . k[8:12, j]").
            string d = p.Heads == 1 ? ":" : F($"{p.Head * p.HeadChannels}:{(p.Head + 1) * p.HeadChannels}");
            string head = p.Heads == 1 ? "" : F($"head {p.Head} of {p.Heads}: ");
            lines.Add(F($"{head}w[j] = softmax over the {n} keys of {Significant(p.Scale)} q[{d}, {p.Y}, {p.X}] . k[{d}, j] (largest logit {Significant(p.Bias)}); most: w = {Significant(top)} at key (x {p.AX}, y {p.AY})"));
            lines.Add(ProductsLine(F($"w[j] x v[{p.SecondChannel}, j] ({values}) for j < {n}:"), p, n, maxChars));
            lines.Add(F($"sum of the {n} products = {Significant(p.Sum)} (CPU, from the GPU's input)   GPU wrote {Significant(p.Gpu)}   |diff| {p.Difference:0.0e+0}")
                      + (spotlight ? F($"   lit: w / {Significant(top)} over the {p.KeysHigh}x{p.KeysWide} keys (a hides)") : "   a: the weights as a spotlight"));
            return lines;
        }
        if (p.Kind == ProbeKind.Affine)
        {
            lines.Add(F($"in[{p.FirstInput}, {p.Y}, {p.X}] ({name}) = {Significant(p.Window[0])}, scale[{p.FirstInput}] = {Significant(p.Window[1])}, shift[{p.FirstInput}] = {Significant(p.Bias)}"));
            lines.Add(F($"scale x in + shift = {Significant(p.Sum)} (CPU, from the GPU's input)   GPU wrote {Significant(p.Gpu)}   |diff| {p.Difference:0.0e+0}"));
            return lines;
        }
        if (p.Kind == ProbeKind.GlobalPool)
        {
            // The plane's first values (as many as the line holds), then its mean or max.
            int n = p.KernelHeight * p.KernelWidth;
            lines.Add(ValuesLine(F($"in[{p.FirstInput}, y, x] ({name}), {p.KernelHeight}x{p.KernelWidth} = {n} values:"), p.Window.AsSpan(0, n), maxChars));
            string op = p.LayerName == "globalmaxpool" ? "max of them" : F($"(sum of them) / {n}");
            lines.Add(F($"{op} = {Significant(p.Sum)} (CPU, from the GPU's input)   GPU wrote {Significant(p.Gpu)}   |diff| {p.Difference:0.0e+0}"));
            return lines;
        }
        if (p.Kind == ProbeKind.TwoMaps)
        {
            // a and b where this output reads them (a single channel or a 1x1 map broadcast: index 0 there), their names, the op.
            static string From(int layer) => layer < 0 ? "input" : F($"layer {layer + 1}");
            string a = F($"a = {From(p.FirstLayer)}[{p.FirstInput}, {p.AY}, {p.AX}] ({name}) = {Significant(p.Window[0])}");
            if (p.SecondLayer == Probe.NumberOperand) lines.Add(F($"{a}, b = {Significant(p.Window[1])} (the layer's value)"));
            else
            {
                string nb = mapName is null ? F($"{p.SecondChannel}") : Fit(mapName(p.SecondLayer, p.SecondChannel), NameChars(maxChars));
                lines.Add(F($"{a}, b = {From(p.SecondLayer)}[{p.SecondChannel}, {p.BY}, {p.BX}] ({nb}) = {Significant(p.Window[1])}"));
            }
            string op = p.LayerName switch
            {
                "add" => "a + b", "sub" => "a - b", "mul" => "a * b", "div" => "a / b", "pow" => "a ^ b", "max" => "max(a, b)", "min" => "min(a, b)", _ => p.LayerName,
            };
            lines.Add(F($"{op} = {Significant(p.Sum)} (CPU, from the GPU's input)   GPU wrote {Significant(p.Gpu)}   |diff| {p.Difference:0.0e+0}"));
            return lines;
        }
        if (p.Kind == ProbeKind.Magnitude)
        {
            // The edges stack opens here: the x and y derivatives of one map and their length.
            string a = Fit(inputName(p.FirstInput), NameChars(maxChars)), b = Fit(inputName(p.FirstInput + 1), NameChars(maxChars));
            // Every number in 6 significant digits: a flat area's derivatives (1e-7) read 0.000000 at 6 decimals.
            lines.Add(F($"a = in[{p.FirstInput}, {p.Y}, {p.X}] ({a}) = {Significant(p.Window[0])}, b = in[{p.FirstInput + 1}, {p.Y}, {p.X}] ({b}) = {Significant(p.Window[1])}"));
            lines.Add(F($"sqrt(a^2 + b^2) = sqrt({Significant((double)p.Window[0] * p.Window[0])} + {Significant((double)p.Window[1] * p.Window[1])}) = {Significant(p.Sum)}") +
                      F($" (CPU, from the GPU's input)   GPU wrote {Significant(p.Gpu)}   |diff| {p.Difference:0.0e+0}"));
            return lines;
        }
        if (p.Kind == ProbeKind.Coords)
        {
            // The pixel's place along x (channel 0) or y (channel 1), from -1 at the first pixel to 1 at the last.
            (string axis, string size) = p.FirstInput == 0 ? ("x", "W") : ("y", "H");
            int i = (int)p.Window[0], n = (int)p.Window[1];
            lines.Add(F($"{axis} = {i} of {size} = {n}: where the pixel is (the input's values are not read)"));
            string gpuWrote = F($"(CPU)   GPU wrote {Significant(p.Gpu)}   |diff| {p.Difference:0.0e+0}");
            lines.Add(n == 1 ? F($"one pixel along {axis}: 0 {gpuWrote}")
                : F($"2 * {axis} / ({size} - 1) - 1 = 2 * {i} / {n - 1} - 1 = {Significant(p.Sum)} {gpuWrote}"));
            return lines;
        }
        if (p.Kind == ProbeKind.Activation)
        {
            // 6 significant digits (exp and reciprocal reach 1e7 and 1e-7, which fixed decimals showed as -0.000000), the
            // CPU's float32 value and the GPU's alike.
            lines.Add(F($"in[{p.FirstInput}, {p.Y}, {p.X}] ({name}) = {Significant(p.Window[0])}"));
            lines.Add(F($"{p.LayerName}(in) = {Significant((float)p.Sum)} (CPU, from the GPU's input)   GPU wrote {Significant(p.Gpu)}   |diff| {p.Difference:0.0e+0}"));
            return lines;
        }
        int kh = Math.Min(p.KernelHeight, MaxTaps), kw = PoolProbeColumns(p.KernelWidth, maxChars);
        int i0 = (p.KernelHeight - kh) / 2, j0 = (p.KernelWidth - kw) / 2;
        string showing = kh < p.KernelHeight || kw < p.KernelWidth ? F($" (showing the centre {kh}x{kw} of {p.KernelHeight}x{p.KernelWidth})") : "";
        // The header's line holds nothing else: the name takes the room it has (up to 40, as a conv's header).
        string header = F($"input window (channel {p.FirstInput}: ");
        int room = maxChars - header.Length - showing.Length - 1;
        lines.Add(header + Fit(inputName(p.FirstInput), HeaderNameChars(room, maxChars)) + ")" + showing);
        int decimals = WindowDecimals(p.Window.AsSpan(0, p.KernelHeight * p.KernelWidth));
        var sb = new StringBuilder();
        for (int i = i0; i < i0 + kh; i++)
        {
            sb.Clear();
            for (int j = j0; j < j0 + kw; j++)
                sb.Append(p.Inside[i * p.KernelWidth + j] ? WindowValue(p.Window[i * p.KernelWidth + j], decimals) : "     pad");
            lines.Add(sb.ToString());
        }
        // "Padding left out" only where this window has pad cells (the math audit: a pool without padding said it too).
        bool padded = false;
        for (int k = 0; k < p.KernelHeight * p.KernelWidth; k++) padded |= !p.Inside[k];
        if (p.PoolMax) lines.Add(F($"max of the window{(padded ? " (its pad cells left out)" : "")} = {p.Sum:0.000000} {gpu}"));
        else
        {
            double sum = 0;
            for (int k = 0; k < p.KernelHeight * p.KernelWidth; k++) if (p.Inside[k]) sum += p.Window[k];
            lines.Add(F($"sum {sum:0.0000} / {p.Divisor} = {p.Sum:0.000000} {gpu}"));
        }
        return lines;
    }

    // A heading and as many of the values as fit maxChars (at least one), " ..." when some are left out.
    private static string ValuesLine(string heading, ReadOnlySpan<float> values, int maxChars)
    {
        var line = new StringBuilder(heading);
        int shown = 0;
        for (; shown < values.Length; shown++)
        {
            string v = " " + Significant(values[shown]);
            if (line.Length + v.Length + 5 > maxChars && shown > 0) break;
            line.Append(v);
        }
        if (shown < values.Length) line.Append(" ...");
        return line.ToString();
    }

    /// <summary>A value in 6 significant digits with a small e exponent where it needs one ("0.00370795", "1.19209e-07");
    /// 0, not -0.</summary>
    public static string Significant(double v) => v == 0 ? "0" : v.ToString("G6", CultureInfo.InvariantCulture).Replace('E', 'e');

    /// <summary>A product in the probe's column: 4 decimals, and a value that rounds to zero as 0.0000, not -0.0000.</summary>
    public static string ProductText(double v) => F($"{(double.IsFinite(v) ? Math.Round(v, 4) + 0.0 : v),8:0.0000}");

    // Whether position i (0 < i < text's length) is inside a number: between a digit and a digit or '.', or a '.' and a digit.
    private static bool InNumber(string text, int i) =>
        i > 0 && i < text.Length && (char.IsAsciiDigit(text[i - 1]) || text[i - 1] == '.') && (char.IsAsciiDigit(text[i]) || text[i] == '.')
        && (char.IsAsciiDigit(text[i - 1]) || char.IsAsciiDigit(text[i]));

    /// <summary>Lines no wider than <paramref name="maxChars"/> characters: longer ones are broken at a space where
    /// one is near the limit (else at the limit) and continued indented by <paramref name="indent"/> (default two
    /// spaces), so no text runs off a panel.</summary>
    public static List<string> Wrap(IEnumerable<string> lines, int maxChars, string indent = "  ")
    {
        maxChars = Math.Max(indent.Length + 8, maxChars);
        var result = new List<string>();
        foreach (string line in lines)
        {
            string rest = line;
            bool first = true;
            while (rest.Length > maxChars)
            {
                // At the last space before the limit, so a word (a shader's name, a number) stays whole; at the limit
                // only where the word is longer than a continuation line holds, or the only space is the indent (a
                // break there would make no progress).
                // A run of three spaces separates the fields of a line ("source: scene 640x360   view: output"):
                // a break there keeps a field's label with its value.
                int field = rest.LastIndexOf("   ", maxChars - 1, StringComparison.Ordinal);
                int cut = field >= maxChars / 3 && (first || field >= indent.Length) ? field : rest.LastIndexOf(' ', maxChars - 1);
                int wordEnd = rest.IndexOf(' ', cut + 1);
                int word = (wordEnd < 0 ? rest.Length : wordEnd) - cut - 1;
                if (cut <= 0 || (!first && cut < indent.Length) || word > maxChars - indent.Length)
                {
                    // A word longer than a line (a kernel spec "gabor:theta=0,sigma=2.5,...", a file's path) breaks
                    // after one of its commas, colons or slashes where one is past the line's first third, else
                    // at the limit.
                    // A shader's name ("[conv2d_literal_winograd]") breaks after an underscore or before its bracket.
                    int punct = rest.LastIndexOfAny([',', ':', ';', '/', '_', '='], maxChars - 2);
                    int bracket = rest.LastIndexOfAny(['[', '('], maxChars - 1);
                    cut = punct >= maxChars / 3 ? punct + 1 : bracket >= maxChars / 3 && bracket > (first ? 0 : indent.Length) ? bracket : maxChars;
                    // Never inside a number ("pass 27." / "4 ms" at 200x150): before it, where it does not start the line.
                    if (cut == maxChars && cut < rest.Length && InNumber(rest, cut))
                    {
                        int start = cut;
                        while (start > 0 && InNumber(rest, start)) start--;
                        if (start > (first ? 0 : indent.Length)) cut = start;
                    }
                }
                result.Add(rest[..cut].TrimEnd());
                rest = indent + rest[cut..].TrimStart();
                first = false;
            }
            if (rest.Length > 0 || first) result.Add(rest);
        }
        return result;
    }
}
