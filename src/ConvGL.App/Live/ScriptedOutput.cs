using System.Globalization;
using System.Text;
using ConvGL.App.Glfw;
using ConvGL.App.Sources;
using ConvGL.Core;
using ConvGL.Gpu;
using Silk.NET.OpenGL;

namespace ConvGL.App.Live;

/// <summary>The scripted run (<c>--frames N</c>) and screenshots: the keys and the drop applied before the first
/// frame, frames counted from the source's first picture, then on the last frame the screenshot, the probes, the
/// layout and the statistics on stdout (what the window tests read), and the on-screen error on stderr. Also the p
/// key's screenshot, which shares the writing.</summary>
internal sealed class ScriptedOutput(LiveOptions options, GL gl, IAppWindow window, LiveMessages messages)
{
    private const double FirstFrameLimitSeconds = 120;

    private readonly StringBuilder _sb = new();

    public bool Active => options.Scripted;
    /// <summary>The frames the run was asked for (--frames).</summary>
    public int Frames => options.Frames;
    /// <summary>Whether the run was asked to print probe values (--probe).</summary>
    public bool ProbesRequested => options.Probes.Count > 0;

    /// <summary>Whether the run was asked for its frame-time statistics (printed after the last frame).</summary>
    public bool StatsRequested => options.Stats;

    /// <summary>The keys of <c>--keys</c>, then the <c>--drop</c> file, as if typed and dropped before the first frame.</summary>
    public void ApplyStartInput(Action<Key, KeyMods> key, Action<string[]> drop)
    {
        foreach (string k in options.Keys)
        {
            (Key code, KeyMods mods) = Controls.Parse(k);
            key(code, mods);
        }
        if (options.Drop is not null) drop([options.Drop]);
    }

    /// <summary>A scripted run counts frames from the source's first picture (a video or camera thread may take a
    /// moment to deliver it), so its screenshot never shows an empty window: true while it should wait. The clock
    /// runs from start-up (shader compiles included), so the limit is generous for a loaded machine; a source that
    /// failed says so at once instead of waiting it out.</summary>
    public bool WaitingForFirstFrame(IFrameSource source, bool haveFrame, TimeSpan sinceStart)
    {
        if (!Active || haveFrame) return false;
        if (source.Error is { } e) throw new ConvGLException($"source {source.Name}: no frame: {e}");
        if (sinceStart.TotalSeconds > FirstFrameLimitSeconds) throw new ConvGLException($"source {source.Name}: no frame within 120 s");
        Thread.Sleep(5);
        return true;
    }

    /// <summary>Whether frame <paramref name="frame"/> (0-based) is the scripted run's last.</summary>
    public bool IsLast(int frame) => Active && frame == options.Frames - 1;

    /// <summary>The screenshot of the last frame, if asked for.</summary>
    public string? FinalScreenshot => options.Screenshot;

    /// <summary>The first <c>--probe</c> point outside the probed layer's output map, as the run's one error line
    /// (checked on the last frame before anything is written: the layer is known only after --keys and the source's
    /// size); null when every point is inside.</summary>
    public string? ProbeOutside(ILivePipeline pipeline, int layer, (ILivePipeline Pipeline, int Layer)? designed)
    {
        foreach ((int x, int y, bool isDesigned) in options.Probes)
        {
            if (isDesigned && designed is null)
                return F($"--probe designed:{x},{y}: the view shows no hand-made bank; it is the filters view's beside a learned first layer ") +
                       "(--view filters with --stack learned, deep or resnet18, or an imported model, on its first learned conv; not hidden by k) (nothing was written)";
            (ILivePipeline p, int l) = isDesigned ? designed.GetValueOrDefault() : (pipeline, layer);
            GpuTensor output = p.LayerOutput(l);
            string what = isDesigned ? "the hand-made Gabor bank's maps" : F($"layer {layer + 1}'s output");
            if ((uint)x >= (uint)output.W || (uint)y >= (uint)output.H)
                return F($"--probe {(isDesigned ? "designed:" : "")}{x},{y} is outside {what}, {output.W}x{output.H} (x 0..{output.W - 1}, y 0..{output.H - 1}); ") +
                       "probe a pixel inside it (nothing was written)";
        }
        return null;
    }

    /// <summary>After the last frame: the probes, where the picture and the panels were (tests check nothing overlaps
    /// and look inside the picture; the help overlay's rectangle while h is on), the steady-frame statistics and the error shown.</summary>
    public void Finish(ILivePipeline pipeline, ViewState state, int probeLayer, (ILivePipeline Pipeline, int Layer)? designed, Probe probe, LiveLayout layout, PixelRect view, FrameStats stats, string? shownError,
                       string? viewLine = null, PixelRect? help = null, PixelRect? column = null, string? colourLine = null,
                       (float Size, float Scale)? text = null)
    {
        // What is on screen: the filter or stack (its name as the HUD gives it), the selected layer (from 1) and channel, the view.
        Console.WriteLine(F($"shown layer={state.Layer + 1} channel={state.Channel} view={Views.ViewCatalog.Name(state.View)} pipeline={pipeline.Name}"));
        // The shader each layer ran in this last frame (its layer line's tag; spaces as underscores), where it has one.
        // "shaders none" where no layer has a tag (an FFT-only stack, a stack of pools).
        if (pipeline is StackPipeline stack)
        {
            string tags = string.Concat(Enumerable.Range(0, stack.LayerCount)
                .Select(i => stack.ShaderTag(i) is { } tag ? F($" {i + 1}={tag.Replace(HudText.Nb, '_').Replace(' ', '_')}") : ""));
            Console.WriteLine("shaders" + (tags.Length > 0 ? tags : " none"));
        }
        // (A designed:X,Y point: the filters view's hand-made bank, ProbeOutside saw it shown.)
        foreach ((int px, int py, bool isDesigned) in options.Probes)
        {
            if (isDesigned && designed is { } d) PrintProbe(d.Pipeline, state, d.Layer, probe, px, py, d.Pipeline.Name);
            else PrintProbe(pipeline, state, probeLayer, probe, px, py);
        }
        // A view's own figures (the theorem view's max |direct - FFT| and tolerance).
        if (viewLine is not null) Console.WriteLine(viewLine);
        // The colour bar's map and range (what the HUD prints beside it).
        if (colourLine is not null) Console.WriteLine(colourLine);
        Console.WriteLine(F($"layout picture={Rect(layout.Picture)} side={Rect(layout.Side)} bottom={Rect(layout.Bottom)} view={Rect(view)}") +
            (help is { } h ? $" help={Rect(h)}" : "") + (column is { } c ? $" column={Rect(c)}" : "") +
            (text is { } t ? F($" text={t.Size:0.##} scale={t.Scale:0.##}") : "") +
            // Where the views saw the pointer: none unless a --probe point moved it (the display's own pointer is ignored).
            (state.MouseX < 0 ? " pointer=none" : F($" pointer={Px((float)state.MouseX)},{Px((float)state.MouseY)}")));
        if (options.Stats)
        {
            Console.WriteLine(F($"stats: steady frames={stats.SteadyFrames} allocated={stats.SteadyBytes} bytes") +
                (stats.SteadyFrames == 0 ? " (none: the first 3 frames and those that redraw the HUD are not counted; give --frames 20 or more)" : "") +
                // Where it allocated (the first frames that did, numbered from 1): a run that should allocate nothing says where.
                (stats.AllocatingFrames.Count > 0 ? " (in frames " + string.Join(", ", stats.AllocatingFrames.Select(a => F($"{a.Frame}: {a.Bytes}"))) + ")" : ""));
            // On llvmpipe: whether its compute threads were pinned one per core (ConvGL.Gpu.DriverThreads).
            if (ConvGL.Gpu.DriverThreads.Status is { } threads) Console.WriteLine($"threads: {threads}");
        }
        if (shownError is not null) Console.Error.WriteLine($"convgl: on screen at the end of the run (exit 1): {ErrorText.JoinLines(shownError)}");
    }

    // bank: the hand-made bank's stack, named at the end of the probe's first line (of=NAME), else null.
    private void PrintProbe(ILivePipeline pipeline, ViewState state, int layer, Probe p, int x, int y, string? bank = null)
    {
        GpuTensor output = pipeline.LayerOutput(layer);
        int channel = Math.Clamp(state.Channel, 0, output.C - 1);
        p.Take(pipeline, layer, channel, x, y);
        if (!p.Valid)
        {
            Console.WriteLine(F($"probe layer={layer + 1} channel={channel} x={x} y={y} invalid: {p.Why}"));
            return;
        }
        // The probe's one extra number, named for what it is in this kind (the newcomer walk read an attention's largest
        // logit as a "bias"); kinds without one print none.
        string extra = p.Kind switch
        {
            ProbeKind.Conv or ProbeKind.Linear or ProbeKind.Transposed => F($" bias={p.Bias:R}"),
            ProbeKind.Affine or ProbeKind.Norm => F($" shift={p.Bias:R}"),
            ProbeKind.Attention => F($" max_logit={p.Bias:R}"),
            ProbeKind.Softmax => F($" max={p.Bias:R}"),
            _ => "",
        };
        Console.WriteLine(F($"probe layer={layer + 1} channel={channel} x={x} y={y} shape={output.C}x{output.H}x{output.W} gpu={p.Gpu:R} cpu={p.Sum:R}{extra}") +
            (p.Kind == ProbeKind.Conv ? "" : F($" kind={p.LayerName.Replace(' ', '_')}")) + (bank is null ? "" : $" of={bank.Replace(' ', '_')}"));
        _sb.Clear();
        // A pool's taps in the padding print as "pad".
        // (A conv's or a pool's window whole; the other kinds' values (a global pool's plane, a linear layer's input, ...)
        // their first 256, then "...".)
        int taps = p.InputChannels * p.KernelHeight * p.KernelWidth, shown = p.Kind is ProbeKind.Conv or ProbeKind.Pool ? taps : Math.Min(taps, 256);
        for (int i = 0; i < shown; i++)
            _sb.Append(i == 0 ? "" : ",").Append(p.Kind == ProbeKind.Pool && !p.Inside[i] ? "pad" : F($"{p.Window[i]:R}"));
        Console.WriteLine("probe window=" + _sb + (taps > shown ? ",..." : ""));
        if (p.Kind != ProbeKind.Conv) return;
        _sb.Clear();
        for (int i = 0; i < p.InputChannels * p.KernelHeight * p.KernelWidth; i++) _sb.Append(i == 0 ? "" : ",").Append(F($"{p.Kernel[i]:R}"));
        Console.WriteLine("probe kernel=" + _sb);
        // The window's channels by name (the stack input's R, G, B or a BGR model's B, G, R; an earlier layer's maps).
        _sb.Clear();
        for (int c = 0; c < p.InputChannels; c++) _sb.Append(c == 0 ? "" : " | ").Append(pipeline.InputMapName(layer, p.FirstInput + c));
        Console.WriteLine("probe inputs=" + _sb);
    }

    /// <summary>Writes the back buffer to <paramref name="path"/>, or (the p key, null) to a dated name in the working
    /// folder; a p-key screenshot that cannot be written is a message on screen, never the end of the session.</summary>
    public void Screenshot(string? path)
    {
        bool requested = path is null;
        path ??= $"convgl-{DateTime.Now:yyyyMMdd-HHmmss}.png";
        (int fw, int fh) = window.FramebufferSize;
        try
        {
            Live.Screenshot.Save(gl, fw, fh, path);
        }
        catch (Exception e) when (requested && e is IOException or UnauthorizedAccessException or ConvGLException)
        {
            messages.Flash($"screenshot {Path.GetFullPath(path)} not written: {e.Message}", window.Time);
            return;
        }
        Console.Error.WriteLine($"convgl: screenshot {path} ({fw}x{fh})");
        if (!Active) messages.Flash($"screenshot saved: {path}", window.Time);
    }

    /// <summary>The frame after which the first "first frame shown" line goes to stderr (tests wait for it).</summary>
    public void FrameShown(int frames)
    {
        if (frames == 1 && Active) Console.Error.WriteLine("convgl: first frame shown");
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    // Whole pixels; a value that rounds to zero prints 0, not "-0" (a centred view a hair left of 0 did).
    private static string Rect(PixelRect r) => F($"{Px(r.X)},{Px(r.Y)},{Px(r.Width)},{Px(r.Height)}");

    private static double Px(float v) => Math.Round(v) + 0.0;
}
