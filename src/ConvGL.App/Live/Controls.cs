using ConvGL.App.Glfw;
using ConvGL.App.Live.Views;
using ConvGL.Core;

namespace ConvGL.App.Live;

/// <summary>One binding: the keys (as the help shows them), what it does, and the handler.</summary>
internal sealed record Control(string Keys, string Description, Func<Key, KeyMods, bool> Matches, Action<LiveApp, Key, KeyMods> Run);

/// <summary>Every key the window understands, in one table: the key handler dispatches through it and the help
/// overlay (h / F1) prints it, so the two cannot disagree.</summary>
internal static class Controls
{
    private static bool Is(Key k, params Key[] keys) => Array.IndexOf(keys, k) >= 0;

    public static readonly IReadOnlyList<Control> All =
    [
        new("1 .. 9", "toggle layer 1..9 of the stack on/off", (k, _) => k is >= Key.D1 and <= Key.D9, (a, k, _) => a.ToggleLayer(k - Key.D1)),
        new("0", "toggle the selected layer on/off (with [ ], any layer, also 10 and beyond)", (k, _) => k == Key.D0, (a, _, _) => a.ToggleLayer(a.SelectedLayer)),
        new("[  ]", "select the previous / next layer (grid, probe, profile)", (k, _) => Is(k, Key.LeftBracket, Key.RightBracket),
            (a, k, _) => a.SelectLayer(k == Key.RightBracket ? +1 : -1)),
        new(",  .", "select the previous / next channel (output, profile, probe)", (k, _) => Is(k, Key.Comma, Key.Period),
            (a, k, _) => a.SelectChannel(k == Key.Period ? +1 : -1)),
        new("f / F", "next / previous filter (switches to filter mode)", (k, _) => k == Key.F, (a, _, m) => a.CycleFilter(m.HasFlag(KeyMods.Shift) ? -1 : +1)),
        new("s / S", "next / previous stack (switches to stack mode)", (k, _) => k == Key.S, (a, _, m) => a.CycleStack(m.HasFlag(KeyMods.Shift) ? -1 : +1)),
        new("c", "correlate <-> convolve (kernel rotated 180 degrees): the selected conv layer, or the nearest conv before it", (k, _) => k == Key.C, (a, _, _) => a.ToggleMode()),
        new("b / B", "next / previous border: zero replicate reflect symmetric wrap (that conv layer too)", (k, _) => k == Key.B, (a, _, m) => a.CycleBorder(m.HasFlag(KeyMods.Shift) ? -1 : +1)),
        new("+  -", "stride up / down (1..4) (that conv layer too)", (k, _) => Is(k, Key.Equal, Key.KeypadAdd, Key.Minus, Key.KeypadSubtract),
            (a, k, _) => a.ChangeStride(Is(k, Key.Equal, Key.KeypadAdd) ? +1 : -1)),
        new("d / D", "dilation up / down (1..4) (that conv layer too)", (k, _) => k == Key.D, (a, _, m) => a.ChangeDilation(m.HasFlag(KeyMods.Shift) ? -1 : +1)),
        // The view keys and their help lines come from the views' own table (ViewCatalog), so a new view needs no
        // edit here.
        new("Tab / Shift+Tab", "next / previous view: " + string.Join(", ", ViewCatalog.All.Select(v => ViewCatalog.Name(v.Kind))),
            (k, _) => k == Key.Tab, (a, _, m) => a.CycleView(m.HasFlag(KeyMods.Shift) ? -1 : +1)),
        new(string.Join("  ", ViewCatalog.All.Select(v => v.KeyName)), "view: " + string.Join(", ", ViewCatalog.All.Select(v => v.Description)),
            (k, _) => ViewCatalog.All.Any(v => v.Key == k), (a, k, _) => a.SetView(ViewCatalog.All.First(v => v.Key == k).Kind)),
        new("mouse", "hover: probe that pixel; click: pin/unpin the probe; click a map in the grid: enlarge / back; theorem view: hover a top-row map to pick the scanline (click pins it), hover a spectrum to read it", (_, _) => false, (_, _, _) => { }),
        new("a", "probe on an attention layer: hide / show its weights over the map as a spotlight (where that position looks)", (k, _) => k == Key.A, (a, _, _) => a.ToggleSpotlight()),
        new("space", "pause / resume the source", (k, _) => k == Key.Space, (a, _, _) => a.TogglePause()),
        new("p", "screenshot to convgl-YYYYMMDD-HHMMSS.png", (k, _) => k == Key.P, (a, _, _) => a.RequestScreenshot()),
        new("v", "vsync on / off", (k, _) => k == Key.V, (a, _, _) => a.ToggleVSync()),
        new("r", "reload shaders, kernel and stack files now (also automatic on change)", (k, _) => k == Key.R, (a, _, _) => a.Reload()),
        new("i", "hide / show the info, kernel and colour-bar panels (errors and the probe stay)", (k, _) => k == Key.I, (a, _, _) => a.ToggleInfo()),
        new("h / F1", "this help", (k, _) => Is(k, Key.H, Key.F1), (a, _, _) => a.ToggleHelp()),
        new("Esc", "quit", (k, _) => k == Key.Escape, (a, _, _) => a.Quit()),
    ];

    /// <summary>Runs the binding of a key; false when no binding matches.</summary>
    public static bool Dispatch(LiveApp app, Key key, KeyMods mods)
    {
        foreach (Control c in All)
        {
            if (!c.Matches(key, mods)) continue;
            c.Run(app, key, mods);
            return true;
        }
        return false;
    }

    /// <summary>Parses a --keys entry: a character ("2", "f", "[", "+"), a name ("tab", "space", "f1", "esc"),
    /// with an optional "shift+" prefix.</summary>
    public static (Key Key, KeyMods Mods) Parse(string name)
    {
        KeyMods mods = KeyMods.None;
        string s = name;
        if (s.StartsWith("shift+", StringComparison.OrdinalIgnoreCase))
        {
            mods = KeyMods.Shift;
            s = s[6..];
        }
        Key key = s.ToLowerInvariant() switch
        {
            "tab" => Key.Tab,
            "space" => Key.Space,
            "esc" or "escape" => Key.Escape,
            "f1" => Key.F1,
            "+" or "=" => Key.Equal,
            "-" => Key.Minus,
            "[" => Key.LeftBracket,
            "]" => Key.RightBracket,
            "," => Key.Comma,
            "." => Key.Period,
            _ when s.Length == 1 && char.IsAsciiLetter(s[0]) => Key.A + (char.ToLowerInvariant(s[0]) - 'a'),
            _ when s.Length == 1 && char.IsAsciiDigit(s[0]) => Key.D0 + (s[0] - '0'),
            _ => throw new ConvGLException($"--keys: unknown key '{name}' (a letter, a digit, [ ] , . + -, tab, space, esc, f1, with an optional shift+)"),
        };
        if (s.Length == 1 && char.IsAsciiLetterUpper(s[0])) mods |= KeyMods.Shift;
        return (key, mods);
    }
}
