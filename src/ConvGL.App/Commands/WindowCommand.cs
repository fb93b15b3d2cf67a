using System.Globalization;
using System.CommandLine;
using ConvGL.App.Cli;
using ConvGL.App.Glfw;
using ConvGL.App.Live;
using ConvGL.App.Sources;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Stacks;
using ConvGL.Core.Kernels;
using ConvGL.Gpu;

namespace ConvGL.App.Commands;

/// <summary>`convgl` with no subcommand: the live window. With --frames N it is a scripted run: N frames, the
/// screenshot, the probe's numbers on stdout, exit 0 (tests and README pictures). Its options live on the root
/// command (<see cref="CliRoot.Root"/>).</summary>
internal static class WindowCommand
{
    private static readonly Dictionary<string, ViewKind> s_views = Enum.GetValues<ViewKind>().ToDictionary(LiveApp.ViewName);

    private static readonly Option<string> Source = Opt.TextOr("--source",
        "scene, scene:WxH, an image or video file, camera, camera:N or /dev/videoN", "scene", "SOURCE");
    private static readonly Option<SourceFit> SourceMax = Opt.Parsed("--source-max",
        "images, videos and camera frames larger than this are scaled down to fit it, aspect kept, either way round " +
        "(full: their own size, which big stacks may not fit on a software rasteriser); video files 960x540 " +
        "on a software rasteriser unless this is given, for a live frame rate",
        ParseSourceMax, SourceFit.Default, "WxH|full");
    private static readonly Option<string?> NormalizeOption = Opt.Normalize("a model's input normalisation as the stack's first layer (needs --stack)");
    private static readonly Option<string?> StackOption = Opt.Text("--stack", "a stack name (assets/stacks) or file, or an ONNX model (MODEL.onnx, or MODEL.onnx#NODE,... for the model up to those nodes); the default is edges", "NAME|FILE");
    private static readonly Option<string?> Filter = Opt.Text("--filter", "start in filter mode on this kernel (a library name or a kernel file)", "KERNEL");
    private static readonly Option<ViewKind> View = Opt.Choice("--view", "what the window shows", ViewKind.Output, s_views);
    private static readonly Option<int> Layer = Opt.Int("--layer", "the selected layer, 1-based (default the last; the first when the last's maps are 1x1, as a classifier's pooled features)", 0, min: 1);
    private static readonly Option<(int Width, int Height)?> Size = Opt.Size("--size", "window size in pixels (default: fits the monitor, 16:10 within 85% of it)", 8, 8192);
    private static readonly Option<float?> UiScale = Opt.Parsed<float?>("--ui-scale",
        "text size factor, 0.5 to 4 (default: the desktop's scale, Xft.dpi / 96 on X11: 2 on a 200% HiDPI screen)",
        s => Parsers.Number(s) is var v && v >= 0.5 && v <= 4 ? (float)v : throw new ConvGLException($"must be from 0.5 to 4, got {s}"), null, "X");
    private static readonly Option<int> Frames = Opt.Int("--frames", "scripted run: render N frames, then write the screenshot and the probe values, and exit", 0, min: 1);
    private static readonly Option<string?> ScreenshotOption = Opt.Text("--screenshot",
        "with --frames: write the last frame to this .png or .jpg (press p in the window otherwise)", "PATH");
    private static readonly Option<ProbePoint[]?> Probe = Opt.Parsed("--probe",
        "probe these points of the selected layer's output (in the filters view, the conv layer it shows: the selected one, else the nearest before it, else the first; designed:X,Y a point of the hand-made Gabor bank it shows beside a learned first layer; the first point is pinned); scripted runs print their values, and a point outside that output is an error (exit 2)",
        s => s.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } points
            ? points.Select(Parsers.ProbePoint).ToArray()
            : throw new ConvGLException($"'{ErrorText.Echo(s)}' names no point; give X,Y or X,Y;X,Y..."), null, "X,Y[;X,Y...]");
    private static readonly Option<string[]?> Keys = Opt.Parsed("--keys", "keys pressed before the first frame, e.g. \"2 c tab\"",
        s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(k => { Controls.Parse(k); return k; }).ToArray(), null, "\"KEY KEY ...\"");
    private static readonly Option<string?> Drop = Opt.Text("--drop", "a file dropped on the window before the first frame", "FILE");
    private static readonly Option<bool> Stats = Opt.Flag("--stats", "scripted run: print the render thread's allocation over steady frames and the milliseconds per frame of each stage");
    private static readonly Option<string?> Soak = Opt.Text("--soak", "scripted run: cycle every control and hot reload, check GL objects and memory stay flat (DIR: a scratch folder)", "DIR");
    private static readonly Option<bool> Hidden = Opt.Flag("--hidden", "no window on screen (scripted runs on a desktop)");
    private static readonly Option<bool> Offscreen = Opt.Flag("--offscreen",
        "scripted runs without a display: draw into an offscreen EGL buffer of --size (default 1280x720) instead of a window (needs --frames)");

    public static int Run(ParseResult args)
    {
        // Every argument, the filter or stack and the source are checked before a window (or the lack of a display)
        // is: a typo is one line naming it, whatever the machine has.
        LiveOptions options = Parse(args);
        IFrameSource? source = SourceFactory.Open(options.Source, options.Scripted, options.SourceFit);
        try
        {
            // A scripted --drop is checked as --source is, before any window (a FIFO or an undecodable file was found
            // only after the first frame).
            if (options.Drop is not null)
            {
                try
                {
                    SourceFactory.Open(options.Drop, options.Scripted, options.SourceFit).Dispose();
                }
                catch (ConvGLException e)
                {
                    throw new ConvGLException("--drop: " + e.Message);
                }
            }
            // --hidden: no window on screen (scripted runs on a desktop); Mesa renders hidden windows fully.
            // --offscreen: an EGL pbuffer, no display server needed (a GPU machine, CI without Xvfb).
            using IAppWindow window = args.GetValue(Offscreen)
                ? OffscreenWindow.Create(options.Width > 0 ? options.Width : 1280, options.Height > 0 ? options.Height : 720)
                : GlfwWindow.Create(options.Width, options.Height, "ConvGL", visible: !args.GetValue(Hidden));
            source = FitMovingSource(source, options, window);
            LiveApp app;
            try
            {
                app = new LiveApp(options, window, source);
            }
            catch (GpuLimitException e)
            {
                // The stack was planned for the source's frames and one of its tensors is larger than this driver holds;
                // a model that resizes every frame to its declared input size is helped by no source size (the fuzz
                // audit's model declaring 8192x8192 was told "--source-max 12x9 fits").
                if (options.Stack is not null && FixedInput(options.Stack) is (int w, int h))
                    throw new GpuLimitException($"{e.Message}; the model resizes every frame to its declared {w}x{h} input, whatever the source's size: " +
                                                "export it with a smaller input size, or with H and W dynamic", e.NeededBytes, e.LimitBytes);
                throw new GpuLimitException(SourceFit.LimitHint(e, source.Width, source.Height), e.NeededBytes, e.LimitBytes);
            }
            catch (MapsTooLargeException e) when (options.Stack is not null && !options.Source.StartsWith("scene", StringComparison.Ordinal))
            {
                // The stack's maps at the source's frame size pass ConvGL's limits: in the window the size is the source's,
                // which --source-max bounds (a picture, a video or a camera; the scene is never scaled, and its error
                // already names the scene sizes that run).
                throw new ConvGLException($"{e.Reason}; the window runs the stack on the source's {source.Width}x{source.Height} frames: " +
                                          SourceMaxThatFits(options.Stack, source.Width, source.Height));
            }
            using var owned = app;
            source = null; // the app owns it now
            return app.Run();
        }
        finally
        {
            source?.Dispose();
        }
    }

    /// <summary>A video file opened (before the GL was known) at frames larger than a software rasteriser's box for moving
    /// sources (<see cref="SourceFit.ForMoving"/>), where --source-max was not given: opened again in that box, said on
    /// stderr, the first one closed only once the second opened. A camera is left as it is (a second handle on a streaming
    /// V4L2 device fails, and cameras mostly deliver 640x480 unless asked).</summary>
    private static IFrameSource FitMovingSource(IFrameSource source, LiveOptions options, IAppWindow window)
    {
        if (source is not VideoSource { IsFile: true } || options.SourceFitGiven) return source;
        SourceFit moving = SourceFit.ForMoving(options.SourceFit, given: false, GlContext.CurrentIsSoftware(window.GetProcAddress));
        (int w, int h) = (source.Width, source.Height);
        if (moving == options.SourceFit || moving.Apply(w, h) == (w, h)) return source;
        IFrameSource smaller = SourceFactory.Open(options.Source, options.Scripted, options.SourceFit, moving);
        source.Dispose();
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"convgl: --source {ErrorText.Echo(options.Source)}: frames shown at {smaller.Width}x{smaller.Height} rather than {w}x{h} on a software rasteriser, for a live frame rate (--source-max {w}x{h} keeps {w}x{h})"));
        return smaller;
    }

    /// <summary>The input size a stack's model resizes every frame to (its preprocessing), or null (none, or the stack
    /// cannot be read again: the error at hand is said as it is).</summary>
    private static (int W, int H)? FixedInput(string stack)
    {
        try
        {
            return StackCatalog.Load(stack).Preprocess is { } p ? (p.Width, p.Height) : null;
        }
        catch (ConvGLException)
        {
            return null;
        }
    }

    /// <summary>"--source-max WxH fits" for the largest halving of the frames whose plan passes the limits.</summary>
    private static string SourceMaxThatFits(string stackName, int width, int height)
    {
        Stack stack = StackCatalog.Load(stackName);
        return StackInputSizes.LargestHalving(stack, height, width) is { } fit
            ? $"--source-max {fit.W}x{fit.H} scales them down to a size whose maps fit"
            : "a smaller --source-max scales them down";
    }

    private static SourceFit ParseSourceMax(string s)
    {
        if (s == "full") return SourceFit.Full;
        try
        {
            (int w, int h) = Parsers.Size(s, 8, 8192);
            return new SourceFit(w, h);
        }
        catch (ConvGLException e)
        {
            throw new ConvGLException($"{e.Message}, or full");
        }
    }

    public static LiveOptions Parse(ParseResult args)
    {
        string? stack = args.GetValue(StackOption), filter = args.GetValue(Filter);
        if (stack is not null && filter is not null) throw new ConvGLException("give --stack or --filter, not both");
        InputNormalization? normalize = null;
        if (args.GetValue(NormalizeOption) is { } normalizeText)
        {
            if (stack is null) throw new ConvGLException("--normalize needs --stack: it becomes the first layer of the stack (a model's input normalisation)");
            normalize = InputNormalization.Parse(normalizeText);
        }
        // Not given: 0 x 0, the window then fits the monitor.
        (int w, int h) = args.GetValue(Size) ?? (0, 0);
        string? screenshot = args.GetValue(ScreenshotOption);
        int frames = args.GetValue(Frames);
        string? soak = args.GetValue(Soak);
        if (soak is not null && frames == 0) throw new ConvGLException("--soak needs --frames N (how long to run)");
        if (args.GetValue(Offscreen) && frames == 0)
            throw new ConvGLException("--offscreen needs --frames N: nothing is on screen to look at or close, so the run must end by itself");
        // A hidden window has nothing to close either: without --frames it ran until killed (the newcomer review).
        if (args.GetValue(Hidden) && frames == 0)
            throw new ConvGLException("--hidden needs --frames N: the window is not on screen to look at or close, so the run must end by itself");
        // The figures are printed when a scripted run ends: an interactive window would measure and print nothing.
        if (args.GetValue(Stats) && frames == 0) throw new ConvGLException("--stats needs --frames N (the frames to measure; the figures print when they are done)");
        if (soak is not null) SoakRun.CheckFolder(soak);
        if (soak is not null && frames < SoakRun.MinimumFrames)
            throw new ConvGLException($"--soak needs --frames {SoakRun.MinimumFrames} or more (its warm-up cycles and one to compare); {frames} are too few to judge");
        // The shaders' folder before any window opens (a CONVGL_SHADERS that names nothing printed its error three times
        // around "first frame shown"): a CONVGL_SHADERS naming nothing is bad input (exit 2), no shaders/ at all a broken
        // installation (exit 1), as in the commands; a soak points CONVGL_SHADERS at its own copy later.
        if (soak is null)
        {
            ShaderLibrary.FindRoot();
        }
        if (screenshot is not null && frames == 0) throw new ConvGLException("--screenshot needs --frames N (the frame to capture); press p in the window instead");
        if (screenshot is not null)
        {
            Screenshot.FormatOf(screenshot); // a name that is neither .png nor .jpg is refused now, not after the run
            if (Directory.Exists(screenshot)) throw new ConvGLException($"--screenshot {screenshot} is a folder; give a .png or .jpg file name");
            // Checked before any window opens: a scripted run should not render its frames only to fail at the end (a
            // missing folder; a read-only file system or a folder this user may not write, the environment audit).
            try
            {
                AtomicFile.CheckWritable(screenshot);
            }
            catch (ConvGLException e)
            {
                throw new ConvGLException($"--screenshot: {e.Message}", e);
            }
            FileIdentity.CheckNotRead(null, "--screenshot", screenshot, ("--source", args.GetValue(Source)), ("--drop", args.GetValue(Drop)),
                ("--stack file", stack), ("--filter file", filter));
        }
        // 1-based like the HUD and the 1..9 keys; 0 (not given) selects the last layer.
        int layer = args.GetValue(Layer) - 1;
        if (filter is not null)
        {
            Tensor kernel;
            try
            {
                kernel = KernelSource.Resolve(filter);
            }
            catch (ConvGLException e) when (e.Message.StartsWith("unknown kernel", StringComparison.Ordinal) && StackCatalog.ShippedNames().Contains(filter))
            {
                // An audit: `--filter edges` listed the kernels only; edges is a stack.
                throw new ConvGLException($"--filter '{filter}': not a kernel, but a shipped stack: run it with --stack {filter}", e);
            }
            if (kernel.Rank != 2) throw new ConvGLException($"filter '{filter}': a filter kernel must be 2D, got shape {kernel.ShapeString}");
            if (layer > 0) throw new ConvGLException($"--layer {layer + 1}: a filter has 1 layer");
        }
        if (stack is not null)
        {
            int layers;
            IReadOnlyList<string> stackFiles;
            try
            {
                layers = StackPipeline.Check(stack, normalize, out stackFiles);
            }
            catch (ConvGLException e) when (e.Message.Contains("not a shipped stack name", StringComparison.Ordinal) && KernelLibrary.IsName(stack))
            {
                // An audit: `--stack sobel-x` listed the stacks only; sobel-x is a kernel.
                throw new ConvGLException($"--stack '{stack}': not a stack, but a kernel: run it with --filter {stack}", e);
            }
            if (layer >= layers) throw new ConvGLException($"--layer {layer + 1}: stack '{stack}' has {layers} layer(s)");
            // Nor over a file the stack reads (its weights, a kernel file it names).
            if (screenshot is not null)
                FileIdentity.CheckNotRead(null, "--screenshot", screenshot, stackFiles.Select(f => ("file the stack reads", (string?)f)).ToArray());
        }
        return new LiveOptions
        {
            Source = args.GetValue(Source)!,
            SourceFit = args.GetValue(SourceMax),
            SourceFitGiven = args.GetResult(SourceMax) is { Implicit: false },
            Stack = stack,
            Normalize = normalize,
            Filter = filter,
            View = args.GetValue(View),
            Layer = layer,
            Frames = frames,
            Screenshot = screenshot,
            Width = w,
            Height = h,
            Probes = args.GetValue(Probe) ?? [],
            Keys = args.GetValue(Keys) ?? [],
            Stats = args.GetValue(Stats),
            Drop = args.GetValue(Drop),
            Soak = soak,
            UiScale = args.GetValue(UiScale),
        };
    }
}
