using System.Globalization;
using ConvGL.App.Cli;
using ConvGL.App.Glfw;
using ConvGL.App.Live;
using ConvGL.App.Sources;
using ConvGL.Core;

namespace ConvGL.App.Commands;

/// <summary>`convgl` with no subcommand: the live window. With --frames N it is a scripted run: N frames, the
/// screenshot, the probe's numbers on stdout, exit 0 (tests and README pictures).</summary>
internal static class WindowCommand
{
    // Named "window", not "convgl": errors are printed as "convgl: <spec name>: ...", and the window is the
    // command a user gets with no verb.
    public static readonly CommandSpec Spec = new("window",
        [],
        ["source", "stack", "view", "layer", "frames", "screenshot", "size", "filter", "probe", "keys", "drop"],
        ["hidden", "stats"]);

    private static readonly Dictionary<string, ViewKind> s_views = Enum.GetValues<ViewKind>().ToDictionary(LiveApp.ViewName);

    public static int Run(CommandLine args)
    {
        LiveOptions options = Parse(args);
        // The source first: a missing file or camera is one line before any window flashes up.
        IFrameSource? source = SourceFactory.Open(options.Source, options.Scripted);
        try
        {
            // --hidden: no window on screen (scripted runs on a desktop); Mesa renders hidden windows fully.
            using IAppWindow window = GlfwWindow.Create(options.Width, options.Height, "ConvGL", visible: !args.Flag("hidden"));
            using var app = new LiveApp(options, window, source);
            source = null; // the app owns it now
            return app.Run();
        }
        finally
        {
            source?.Dispose();
        }
    }

    public static LiveOptions Parse(CommandLine args)
    {
        if (args.Get("stack") is not null && args.Get("filter") is not null)
            throw new ConvGLException("give --stack or --filter, not both");
        (int w, int h) = args.Get("size") is { } size ? SourceFactory.ParseSize(size, "--size") : (1024, 640);
        string? screenshot = args.Get("screenshot");
        int frames = args.GetInt("frames", 0, min: 1);
        string[] keys = args.Get("keys") is { } k ? k.Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
        foreach (string key in keys) Controls.Parse(key); // a typo is one line before any window opens
        if (screenshot is not null && frames == 0) throw new ConvGLException("--screenshot needs --frames N (the frame to capture); press p in the window instead");
        // Checked before any window opens: a scripted run should not render its frames only to fail at the end.
        if (screenshot is not null && Path.GetDirectoryName(Path.GetFullPath(screenshot)) is { } folder && !Directory.Exists(folder))
            throw new ConvGLException($"--screenshot {screenshot}: folder {folder} does not exist");
        return new LiveOptions
        {
            Source = args.Get("source", "scene"),
            Stack = args.Get("stack"),
            Filter = args.Get("filter"),
            View = args.GetChoice("view", ViewKind.Output, s_views),
            // 1-based like the HUD and the 1..9 keys; 0 (not given) selects the last layer.
            Layer = args.GetInt("layer", 0, min: 1) - 1,
            Frames = frames,
            Screenshot = screenshot,
            Width = w,
            Height = h,
            Probes = args.Get("probe") is { } p ? p.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(ParsePoint).ToArray() : [],
            Keys = keys,
            Stats = args.Flag("stats"),
            Drop = args.Get("drop"),
        };
    }

    private static (int X, int Y) ParsePoint(string s)
    {
        string[] parts = s.Split(',');
        if (parts.Length == 2 &&
            int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int x) &&
            int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int y))
            return (x, y);
        throw new ConvGLException($"--probe expects X,Y[;X,Y...] in the selected layer's output, e.g. 100,80, got '{s}'");
    }
}
