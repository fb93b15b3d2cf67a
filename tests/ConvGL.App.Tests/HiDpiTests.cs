using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace ConvGL.App.Tests;

/// <summary>A HiDPI desktop, as X11 says it: Xft.dpi in the root window's RESOURCE_MANAGER property (what a desktop's
/// 200% setting writes; GLFW reads it as the content scale, Xft.dpi / 96). Set on an Xvfb of this test's own, so the
/// other window tests' display keeps its plain 96 dpi.</summary>
[Collection("window")]
public sealed partial class HiDpiTests
{
    [LibraryImport("libX11.so.6", EntryPoint = "XOpenDisplay", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint XOpenDisplay(string name);
    [LibraryImport("libX11.so.6", EntryPoint = "XDefaultRootWindow")]
    private static partial nuint XDefaultRootWindow(nint display);
    [LibraryImport("libX11.so.6", EntryPoint = "XInternAtom", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nuint XInternAtom(nint display, string name, int onlyIfExists);
    [LibraryImport("libX11.so.6", EntryPoint = "XChangeProperty")]
    private static partial int XChangeProperty(nint display, nuint window, nuint property, nuint type, int format, int mode, byte[] data, int count);
    [LibraryImport("libX11.so.6", EntryPoint = "XFlush")]
    private static partial int XFlush(nint display);
    [LibraryImport("libX11.so.6", EntryPoint = "XCloseDisplay")]
    private static partial int XCloseDisplay(nint display);
    private const nuint XaString = 31;
    private const int PropModeReplace = 0;

    /// <summary>Runs convgl on an Xvfb whose desktop says Xft.dpi = <paramref name="dpi"/>.</summary>
    private static WindowProcess.Result RunAtDpi(int dpi, params string[] args)
    {
        string xvfb = DisplayFixture.XvfbPath ?? throw new InvalidOperationException("Xvfb is not installed (scripts/install-deps.sh)");
        Assert.True(DisplayFixture.Start(xvfb, out Process? server, out string? display, out string? why), $"could not start Xvfb: {why}");
        try
        {
            nint d = XOpenDisplay(display!);
            Assert.True(d != 0, $"cannot open {display}");
            try
            {
                byte[] resources = Encoding.ASCII.GetBytes($"Xft.dpi:\t{dpi}\n");
                XChangeProperty(d, XDefaultRootWindow(d), XInternAtom(d, "RESOURCE_MANAGER", 0), XaString, 8, PropModeReplace, resources, resources.Length);
                XFlush(d);
                // The connection stays open while convgl runs: Xvfb resets (and forgets the property) when its last
                // client leaves.
                return WindowProcess.Run(display, args);
            }
            finally
            {
                XCloseDisplay(d);
            }
        }
        finally
        {
            DisplayFixture.Stop(server!);
        }
    }

    private static (float Text, float Scale) TextOf(WindowProcess.Result r)
    {
        string line = r.Stdout.Split('\n').Single(l => l.StartsWith("layout ", StringComparison.Ordinal));
        float Field(string key) => float.Parse(line.Split(' ').Single(f => f.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..],
            System.Globalization.CultureInfo.InvariantCulture);
        return (Field("text"), Field("scale"));
    }

    [Fact]
    public void A200PercentDesktop_DoublesTheText_AndTheStartSize()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"convgl-app-tests-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string[] small = ["--source", "scene:320x180", "--frames", "2"];

        // 1920x1200 pixels at 200% is 960x600 units: the text of a plain 960x600 window (12 px), drawn twice as large.
        WindowProcess.Result hi = RunAtDpi(192, [.. small, "--size", "1920x1200"]);
        Assert.True(hi.ExitCode == 0, hi.ToString());
        Assert.Equal((24f, 2f), TextOf(hi));
        // At 96 dpi the same window is a plain 1920x1200 one: 12 * sqrt(2) = 17 px.
        WindowProcess.Result plain = RunAtDpi(96, [.. small, "--size", "1920x1200"]);
        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.Equal((17f, 1f), TextOf(plain));
        // --ui-scale overrides the desktop's.
        WindowProcess.Result forced = RunAtDpi(192, [.. small, "--size", "1920x1200", "--ui-scale", "1"]);
        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.Equal((17f, 1f), TextOf(forced));

        // Without --size the window fits the 1280x1024 screen in the desktop's units (640x512 at 200%: 640x400 units,
        // 1280x800 pixels), where a plain desktop opens 1088x680 (16:10 within 85%).
        string shot = Path.Combine(dir, "hidpi-start.png");
        WindowProcess.Result start = RunAtDpi(192, [.. small, "--screenshot", shot]);
        Assert.True(start.ExitCode == 0, start.ToString());
        var picture = new Picture(shot);
        Assert.Equal((1280, 800), (picture.Width, picture.Height));
        Assert.Equal((20f, 2f), TextOf(start));
    }

    [Fact]
    public void UiScale_OutOfRange_IsOneLine()
    {
        WindowProcess.Result r = WindowProcess.Run(null, ["--ui-scale", "9", "--frames", "1"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("convgl: --ui-scale must be from 0.5 to 4, got 9", r.Stderr.TrimEnd('\n'));
    }
}
