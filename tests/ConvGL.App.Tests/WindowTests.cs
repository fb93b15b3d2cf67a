using System.Globalization;
using System.Text.RegularExpressions;
using ConvGL.App.Live;
using ConvGL.App.Live.Views;
using ConvGL.App.Sources;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;

namespace ConvGL.App.Tests;

/// <summary>The live window, driven by scripted runs (--frames N renders N frames, writes the screenshot, prints the
/// probe, exits 0) under the fixture's X display. Small windows and a small scene keep llvmpipe fast.</summary>
[Collection("window")]
public sealed class WindowTests(DisplayFixture display)
{
    private const string Size = "320x240";
    private const int SceneW = 320, SceneH = 180, Frames = 4;
    private static readonly string[] Small = ["--size", Size, "--source", $"scene:{SceneW}x{SceneH}", "--frames", Frames.ToString(CultureInfo.InvariantCulture)];

    private static string Temp(string name) => Path.Combine(Path.GetTempPath(), $"convgl-app-tests-{Environment.ProcessId}", name);

    /// <summary>A stack file of <paramref name="json"/> in the tests' temporary folder; its path.</summary>
    private static string TempStack(string name, string json)
    {
        string file = Temp(name);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, json);
        return file;
    }

    private static string TempDir()
    {
        string dir = Temp("");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private WindowProcess.Result Run(params string[] args) => WindowProcess.Run(WindowProcess.Require(display), args);

    [Fact]
    public void Profile_PlotsTheChannelsThatFeedTheMap_OnOneScaleWhereTheUnitsAreTheSame()
    {
        // The edges stack's magnitude (layer 2): map 1 is |scharr-x, scharr-y|, fed by input maps 2 and 3, a gradient's
        // length in the gradients' units: one scale. (The grey curve was input map 1, sobel-y, which does not feed it.)
        WindowProcess.Result mag = Run([.. Small, "--stack", "edges", "--view", "profile", "--layer", "2", "--keys", "."]);
        Assert.True(mag.ExitCode == 0, mag.ToString());
        Assert.Contains("profile layer=2 channel=1 in_first=2 in_count=2 shared=1", mag.Stdout);
        // Its conv (layer 1): Sobel-x of the gray input, in other units than the picture: two scales.
        WindowProcess.Result conv = Run([.. Small, "--stack", "edges", "--view", "profile", "--layer", "1"]);
        Assert.True(conv.ExitCode == 0, conv.ToString());
        Assert.Contains("profile layer=1 channel=0 in_first=0 in_count=1 shared=0", conv.Stdout);
        // The learned stack's relu (layer 2, not fused in the view's plan: its own map): one scale.
        WindowProcess.Result relu = Run([.. Small, "--stack", "learned", "--view", "profile", "--layer", "2", "--keys", ". ."]);
        Assert.True(relu.ExitCode == 0, relu.ToString());
        Assert.Contains("profile layer=2 channel=2 in_first=2 in_count=1 shared=1", relu.Stdout);
        // A 2x2 max pool of stride 2 (the deep stack's layer 9), probed on output row 5: the grey curve is the max of
        // input rows 10 and 11, which its output lies on (a window review: only row 10 was plotted, the output above it).
        WindowProcess.Result pool = Run([.. Small, "--stack", "deep", "--view", "profile", "--layer", "9", "--probe", "5,5"]);
        Assert.True(pool.ExitCode == 0, pool.ToString());
        Assert.Contains("shared=1 in_rows=10:2:1 max", pool.Stdout);
        // A 3x3 average pool of padding 1 (zeros counted, PyTorch's default) on its top output row: rows 0 and 1 summed
        // over the 3 rows it averages, the padding's row among them.
        string avg = TempStack("avg.json", """{ "name": "avg", "input": "gray", "layers": [ { "type": "avgpool", "size": 3, "stride": 2, "padding": 1 } ] }""");
        WindowProcess.Result edge = Run([.. Small, "--stack", avg, "--view", "profile", "--probe", "5,0"]);
        Assert.True(edge.ExitCode == 0, edge.ToString());
        Assert.Contains("shared=1 in_rows=0:2:1 sum/3", edge.Stdout);
    }

    /// <summary>From a window review: the theorem view on a later layer showed the conv's map of the selected number (the
    /// deep stack's pool, map 5: the sobel conv's map 5), not the map the selected one is made from: pool map 5 is |map
    /// 10, map 11| of the conv, so the view shows map 10.</summary>
    [Fact]
    public void TheoremView_OnALaterLayer_ShowsTheConvsMapTheSelectedOneIsMadeFrom()
    {
        WindowProcess.Result r = Run([.. Small, "--stack", "deep", "--layer", "9", "--keys", ". . . . . t"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("theorem layer=7 output=10 input=5 ", r.Stdout);
        WindowProcess.Result conv = Run([.. Small, "--stack", "deep", "--layer", "7", "--keys", ". . . . . t"]);
        Assert.Contains("theorem layer=7 output=5 ", conv.Stdout);
        // Through unary math too (a review: a sqrt after the magnitude lost the mapping): map 2 of sqrt |a, b| is |4, 5|.
        string file = TempStack("sqrt-mag.json", """{ "name": "m", "input": "rgb", "layers": [ { "type": "conv", "kernels": ["sobel-x", "sobel-y"] }, { "type": "magnitude" }, { "type": "sqrt" } ] }""");
        WindowProcess.Result sqrt = Run([.. Small, "--stack", file, "--keys", ". . t"]);
        Assert.True(sqrt.ExitCode == 0, sqrt.ToString());
        Assert.Contains("theorem layer=1 output=4 ", sqrt.Stdout);
    }

    /// <summary>The rows a pool's profile reduces: its window's rows inside the map, dilated ones apart; none for a
    /// conv (one row, the window's centre) or a one-row window.</summary>
    [Fact]
    public void PoolRows_AreTheWindowsRowsInsideTheMap()
    {
        var pool = new PoolLayer(new PoolOptions { Kind = PoolKind.Max, SizeY = 3, SizeX = 3, StrideY = 2, StrideX = 2, PadY = 1, PadX = 1 });
        (LayerWindow wy, _) = ProfileView.Windows(null, pool, 10, 10, 5, 5);
        // Output row 0 reads rows -1..1: 0 and 1 inside; row 2 reads 3..5; row 4 reads 7..9.
        Assert.Equal(new PoolRowSet(0, 2, 1, true, 3), ProfileView.PoolRows(pool, wy, 0, 10));
        Assert.Equal(new PoolRowSet(3, 3, 1, true, 3), ProfileView.PoolRows(pool, wy, 2, 10));
        Assert.Equal(new PoolRowSet(7, 3, 1, true, 3), ProfileView.PoolRows(pool, wy, 4, 10));
        var dilated = new PaddedPoolLayer(new PaddedPoolOptions { Kind = PoolKind.Average, SizeY = 2, SizeX = 2, StrideY = 1, StrideX = 1, DilationY = 3, DilationX = 3 });
        (LayerWindow dy, _) = ProfileView.Windows(null, dilated, 10, 10, 7, 7);
        Assert.Equal(new PoolRowSet(4, 2, 3, false, 2), ProfileView.PoolRows(dilated, dy, 4, 10));
        Assert.Null(ProfileView.PoolRows(new ActivationLayer(ActivationKind.Relu), dy, 4, 10));
        // An average that counts the padding's zeros divides the rows inside by every row it counts (a review: at a padded
        // edge the output sat below the mean of the rows inside). A stack file's avgpool counts all 3 rows of output row 0
        // (rows -1..1). An imported one (9 rows, pads top 1, ceil_mode: 5 output rows) with count_include_pad counts
        // row -1 of output row 0, and of output row 4's rows 7..9 row 9 only where a bottom pad puts it in the padded
        // input (ceil_mode's rows beyond the padding never count); without count_include_pad, the rows inside.
        var avg = new PoolLayer(new PoolOptions { Kind = PoolKind.Average, SizeY = 3, SizeX = 3, StrideY = 2, StrideX = 2, PadY = 1, PadX = 1 });
        Assert.Equal(new PoolRowSet(0, 2, 1, false, 3), ProfileView.PoolRows(avg, wy, 0, 10));
        PaddedPoolLayer Imported(bool include, int bottom) => new(new PaddedPoolOptions
        {
            Kind = PoolKind.Average, SizeY = 3, SizeX = 3, StrideY = 2, StrideX = 2, PadTop = 1, PadLeft = 1, PadBottom = bottom, PadRight = bottom,
            CeilMode = true, CountIncludePad = include,
        });
        foreach (int bottom in new[] { 0, 1 })
        {
            Assert.Equal(5, PaddedPool2D.Geometry(9, 9, Imported(true, bottom).Options).Y.Output);
            (LayerWindow iy, _) = ProfileView.Windows(null, Imported(true, bottom), 9, 9, 5, 5);
            Assert.Equal(new PoolRowSet(0, 2, 1, false, 3), ProfileView.PoolRows(Imported(true, bottom), iy, 0, 9));
            Assert.Equal(new PoolRowSet(7, 2, 1, false, 2 + bottom), ProfileView.PoolRows(Imported(true, bottom), iy, 4, 9));
            Assert.Equal(new PoolRowSet(0, 2, 1, false, 2), ProfileView.PoolRows(Imported(false, bottom), iy, 0, 9));
            Assert.Equal(new PoolRowSet(7, 2, 1, false, 2), ProfileView.PoolRows(Imported(false, bottom), iy, 4, 9));
        }
    }

    // A scripted run that builds its literal-weight programs ahead (forced: scripted runs wait for them by default), with a
    // Mesa cache of its own so they really compile; its last frame waits for them.
    private WindowProcess.Result RunBuildingAhead(params string[] args)
    {
        string cache = Path.Combine(TempDir(), "mesa-cache-" + Guid.NewGuid().ToString("N"));
        var env = new Dictionary<string, string?>
        {
            ["CONVGL_BUILD_AHEAD"] = "1", ["MESA_SHADER_CACHE_DIR"] = cache, ["MESA_SHADER_CACHE_DISABLE"] = null, ["MESA_GLSL_CACHE_DISABLE"] = null,
            ["CONVGL_LITERAL_PLANS"] = null,
        };
        return WindowProcess.Run(WindowProcess.Require(display), args, env);
    }

    /// <summary>On llvmpipe the window builds a stack's literal-weight programs ahead, on a thread of its own: it says so,
    /// shows its frames meanwhile with the general programs, and runs the built ones once they are ready (the last frame's
    /// shaders line); it exits 0. A one-frame run, whose layers first ask for their programs in that last frame, draws it
    /// again once they are built (it showed the stand-ins).</summary>
    [Fact]
    public void LiteralProgramsBuiltAhead_FramesMeanwhile_ThenTheBuiltOnes()
    {
        const string Built = "shaders 1=conv2d_depthwise 2=conv2d_literal_winograd+relu 3=fused 5=conv2d_literal_winograd+relu 6=fused 7=conv2d_literal";
        string shot = Temp("built-ahead.png");
        WindowProcess.Result r = RunBuildingAhead("--size", "640x400", "--source", "scene:640x360", "--stack", "deep", "--frames", "3", "--screenshot", shot);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains(LivePipelines.BuildingAhead, r.Stderr, StringComparison.Ordinal);
        Assert.Equal(Built, r.Stdout.Split('\n').Single(l => l.StartsWith("shaders", StringComparison.Ordinal)).TrimEnd());
        Assert.DoesNotContain("compiling", r.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(shot), r.ToString());

        WindowProcess.Result one = RunBuildingAhead("--size", "640x400", "--source", "scene:640x360", "--stack", "deep", "--frames", "1");
        Assert.True(one.ExitCode == 0, one.ToString());
        Assert.Equal(Built, one.Stdout.Split('\n').Single(l => l.StartsWith("shaders", StringComparison.Ordinal)).TrimEnd());
    }

    /// <summary>A still picture runs its layers only when something changed: a layer that stood in for its literal program
    /// runs again once it is built (it stayed on the general program, its line saying "literal compiling", for good).</summary>
    [Fact]
    public void LiteralProgramsBuiltAhead_AStillPictureRunsThemToo()
    {
        var picture = Tensor.Chw(3, 360, 640);
        for (int i = 0; i < picture.Length; i++) picture.Data[i] = (i * 7919 % 1000) / 1000f;
        string png = Temp("still-640x360.png");
        Directory.CreateDirectory(Path.GetDirectoryName(png)!);
        ImageIO.SavePng(png, picture);
        WindowProcess.Result r = RunBuildingAhead("--size", "640x400", "--source", png, "--stack", "edges", "--frames", "3");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("shaders 1=conv2d_literal_winograd", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("compiling", r.Stdout, StringComparison.Ordinal);
    }

    /// <summary>From a window review: the picture moved under a still pointer when [ ] stepped to another layer (edges'
    /// conv had a 7-line probe strip and a 300 px column with its kernel panel, its magnitude 3 lines and 268 px: the
    /// picture grew and moved 33 px, and the probe read a pixel 11 rows away). The strip and the column are now laid out
    /// for the stack's largest layer whichever is selected, so every layer's picture is the same rectangle.</summary>
    [Theory]
    [InlineData("edges")]
    [InlineData("gabor")]
    public void ThePicture_StaysPut_AcrossTheLayers(string stack)
    {
        int layers = stack == "edges" ? 2 : 3;
        Area? first = null;
        for (int layer = 1; layer <= layers; layer++)
        {
            WindowProcess.Result r = Run("--size", "800x500", "--source", "scene:320x180", "--stack", stack, "--layer", $"{layer}", "--frames", "2");
            Assert.True(r.ExitCode == 0, r.ToString());
            Area picture = Area.Of(r), bottom = Area.Of(r, "bottom");
            Assert.True(picture.W > 400 && bottom.H > 0, $"layer {layer}: picture {picture}, strip {bottom}");
            first ??= picture;
            Assert.True(picture == first, $"{stack} layer {layer}: picture {picture}, layer 1's {first}");
        }
    }

    /// <summary>A column whose layers' lines must be elided anyway (ResNet18's 52) is as wide as the elided column needs,
    /// not as its longest layer line: the grid of layer 10's 64 maps at 1366x768 got 690 px of width beside a 519 px
    /// column; the picture now takes the width the column does not need.</summary>
    [Fact]
    public void AColumnThatElidesLayers_IsChosenForTheElidedLines()
    {
        WindowProcess.Result r = Run(["--size", "1366x768", "--stack", "resnet18", "--view", "grid", "--layer", "10", "--frames", "2"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Area picture = Area.Of(r), side = Area.Of(r, "side");
        // (The column and the probe strip are laid out for the stack's largest kernel, the 7x7 stem's, whichever layer is
        // selected, so that the picture stays put across the layers: a 460 px column here, where layer 10's own 3x3 panel
        // alone gave 440, and the stem's taller strip stands in the column, leaving the picture 768x768 where it was
        // 906x546 with layer 10's strip under it.)
        Assert.True(picture.W * picture.H >= 906 * 546 && side.W < 470, $"picture {picture}, column {side}");
    }

    /// <summary>From a window review: on a stack with no conv at all (attention) the option keys said "no convolution
    /// at or before layer 8: select one with [ ]", advice that could never work; now they say the stack has none. A
    /// stack whose conv comes after the selected layer keeps the advice.</summary>
    [Fact]
    public void OptionKeys_OnAStackWithoutAConv_SayItHasNone()
    {
        WindowProcess.Result none = Run([.. Small, "--stack", "attention", "--keys", "c d"]);
        Assert.True(none.ExitCode == 0, none.ToString());
        Assert.Contains("the attention stack has no convolution layer: c, b, +, - and d change a conv's mode, border, stride and dilation", none.Stderr);
        Assert.DoesNotContain("select one with", none.Stderr);
        string file = TempStack("pool-first.json", """{ "name": "pool-first", "input": "gray", "layers": [ { "type": "maxpool", "size": 2 }, { "type": "conv", "kernels": ["sobel-x"] } ] }""");
        WindowProcess.Result later = Run([.. Small, "--stack", file, "--layer", "1", "--keys", "c"]);
        Assert.True(later.ExitCode == 0, later.ToString());
        Assert.Contains("no convolution at or before layer 1: select one with [ ]", later.Stderr);
    }

    /// <summary>The math audit: on ResNet18 every option key was refused ("does not fit its 1x1 input") and the stem
    /// stayed as it was: a change was checked at the raw source tensor's size (1x1 before the first frame), not at the
    /// model's 224x224. Convolve flips the stem's 7x7 kernels, so the probed value changes; the stride and dilation keys
    /// are checked at 224x224 too (stride 2 -> 3 on the stem: a later residual add's two inputs no longer match).</summary>
    [Fact]
    public void OptionKeys_OnAModelWithPreprocessing_AreCheckedAtTheModelsInputSize()
    {
        string[] common = [.. Small, "--stack", "resnet18", "--layer", "1", "--probe", "40,40"];
        WindowProcess.Result plain = Run(common), flipped = Run([.. common, "--keys", "c"]);
        Assert.True(plain.ExitCode == 0 && flipped.ExitCode == 0, plain.ToString() + flipped);
        Assert.DoesNotContain("refused", flipped.Stderr);
        string Value(WindowProcess.Result r) => r.Stdout.Split('\n').Single(l => l.StartsWith("probe layer=", StringComparison.Ordinal)).Split(' ').Single(f => f.StartsWith("cpu=", StringComparison.Ordinal));
        Assert.NotEqual(Value(plain), Value(flipped));
        WindowProcess.Result stride = Run([.. common, "--keys", "+"]);
        Assert.Contains("stride 3 on layer 1 refused", stride.Stderr);
        Assert.DoesNotContain("1x1 input", stride.Stderr);
    }

    /// <summary>v says what it did (the newcomer audit pressed it and saw nothing: a narrow column's short status line
    /// leaves vsync out); a scripted run writes the message to stderr as the window shows it.</summary>
    [Fact]
    public void VSyncKey_SaysOnOrOff()
    {
        WindowProcess.Result r = Run([.. Small, "--stack", "edges", "--keys", "v"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains(r.Stderr.Split('\n'), l => l is "convgl: vsync on" or "convgl: vsync off");
    }

    /// <summary>Opened on a filter, s and S go to the first and last stack (both opened the first: the newcomer audit);
    /// opened on a stack, f and F to the first and last filter. The scripted run's `shown` line names what is on screen.</summary>
    [Fact]
    public void FromAFilter_sAndShiftS_OpenTheFirstAndLastStack_AndFromAStack_fAndShiftF_TheFirstAndLastFilter()
    {
        IReadOnlyList<string> stacks = StackPipeline.Shipped();
        foreach ((string[] start, string key, string expected) in new[]
        {
            (new[] { "--filter", "sobel-x" }, "s", "stack " + stacks[0]),
            (["--filter", "sobel-x"], "shift+s", "stack " + stacks[^1]),
            (["--stack", "edges"], "f", "filter " + LivePipelines.Filters[0]),
            (["--stack", "edges"], "shift+f", "filter " + LivePipelines.Filters[^1]),
            // Back from a stack to a filter that is not in the list (the audit: f went to the list's first), then on into it.
            (["--filter", "gaussian:9"], "s f", "filter gaussian:9"),
            (["--filter", "gaussian:9"], "s f f", "filter " + LivePipelines.Filters[0]),
        })
        {
            WindowProcess.Result r = WindowProcess.Run(null, [.. Small, .. start, "--keys", key, "--offscreen"]);
            Assert.True(r.ExitCode == 0, r.ToString());
            string shown = r.Stdout.Split('\n').Single(l => l.StartsWith("shown ", StringComparison.Ordinal));
            Assert.EndsWith(" pipeline=" + expected, shown);
        }
    }

    /// <summary>The split view draws a layer's output where its windows lie on the source, at the source's scale (it
    /// was stretched to the source's size): a 5x5 valid conv's output is 2 source pixels in from each edge, after a 2x2
    /// pool too (each pooled pixel 2 source pixels wide), and a stride-2 valid conv's half a pixel less (its first window
    /// is centred on source pixel 2, a pooled pixel's on 2.5).</summary>
    [Fact]
    public void SplitView_RegistersTheOutputOnTheSource_ValidPaddingStrideAndPool()
    {
        string dir = TempDir();
        string Stack(string name, string layers)
        {
            string file = Path.Combine(dir, name + ".json");
            File.WriteAllText(file, $$"""{ "name": "{{name}}", "input": "gray", "layers": [ {{layers}} ] }""");
            return file;
        }
        const string Conv = """{ "type": "conv", "kernels": ["gaussian:5,1"]""";
        foreach ((string name, string layers, double inset, double outW, double outH) in new[]
        {
            ("same", Conv + " }", 0.0, SceneW, SceneH),
            ("valid", Conv + """, "padding": "valid" }""", 2.0, SceneW - 4.0, SceneH - 4.0),
            ("pooled", Conv + """, "padding": "valid" }, { "type": "maxpool", "size": 2 }""", 2.0, 2 * ((SceneW - 4) / 2), 2 * ((SceneH - 4) / 2)),
            ("strided", Conv + """, "padding": "valid", "stride": 2 }""", 1.5, 2 * ((SceneW - 5) / 2 + 1), 2 * ((SceneH - 5) / 2 + 1)),
        })
        {
            WindowProcess.Result r = Run(["--size", "1280x960", "--source", $"scene:{SceneW}x{SceneH}", "--frames", "3", "--stack", Stack(name, layers), "--view", "split"]);
            Assert.True(r.ExitCode == 0, r.ToString());
            string line = r.Stdout.Split('\n').Single(l => l.StartsWith("split ", StringComparison.Ordinal));
            double[] Field(string key) => line.Split(' ').Single(f => f.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..]
                .Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            double[] source = Field("source"), got = Field("output");
            double s = source[2] / SceneW; // window pixels a source pixel
            Assert.Equal(source[3] / SceneH, s, 2);
            Assert.True(s >= 1.5, $"test setup: a source pixel is {s} px");
            double[] want = [source[0] + inset * s, source[1] + inset * s, outW * s, outH * s];
            for (int i = 0; i < 4; i++)
                Assert.True(Math.Abs(got[i] - want[i]) <= 0.15, $"{name}: output {string.Join(',', got)}, expected {string.Join(',', want.Select(w => w.ToString("0.00", CultureInfo.InvariantCulture)))}");
        }

        // A full conv's output reaches past the output's half: a probed pixel there is cut with it, its marker too (the
        // cyan square sat on the source: the audit of the registration). The probe's numbers are still printed.
        string shot = Path.Combine(dir, "full.png");
        WindowProcess.Result full = Run(["--size", "1280x960", "--source", $"scene:{SceneW}x{SceneH}", "--frames", "3", "--view", "split", "--probe", "100,20",
            "--stack", Stack("full", """{ "type": "conv", "kernels": ["box:31"], "padding": "full", "dilation": 4 }"""), "--screenshot", shot]);
        Assert.True(full.ExitCode == 0, full.ToString());
        // (Output pixel (100, 20) is drawn at about (115, 269), inside the source's half: 51 cyan pixels there before.)
        Assert.Contains(full.Stdout.Split('\n'), l => l.StartsWith("probe layer=1 channel=0 x=100 y=20 ", StringComparison.Ordinal));
        // The source's half spans rows 0..359 here; the pixel's receptive field is framed in the same cyan on it (its window
        // centred on source (40, -40), 60 either way: columns -20..100 and rows -100..20, of which the zero border's
        // reads are no source pixels: 0..100 and 0..20, window rows 0..42), so rows 200..359, where the marker was, must
        // have none.
        string split = full.Stdout.Split('\n').Single(l => l.StartsWith("split ", StringComparison.Ordinal));
        Assert.Contains(" source=77.0,360.0,640.0,360.0 ", split);
        Assert.EndsWith(" field=0,0,100,20", split);
        var picture = new Picture(shot);
        int cyan = 0;
        for (int y = 200; y < 360; y++)
            for (int x = 0; x < picture.Width; x++)
            {
                int i = 4 * (y * picture.Width + x);
                if (picture.Rgba[i] is >= 40 and <= 60 && picture.Rgba[i + 1] >= 250 && picture.Rgba[i + 2] >= 250) cyan++;
            }
        Assert.Equal(0, cyan);
    }

    /// <summary>The split view frames the probed pixel's receptive field on the source: the source pixels it depends on,
    /// through every layer's window (the deep stack's last pool: a 5x5 blur, 3x3 convs and two 2x2 pools make an 18x18
    /// field), and through both inputs of a residual add, whichever comes first (a 5x5 path beside a 3x3 one: 5x5).</summary>
    [Fact]
    public void SplitView_FramesTheProbedPixelsReceptiveField_ThroughEveryLayerAndBothInputsOfAnAdd()
    {
        const string DilatedTwice = """{ "type": "conv", "kernels": ["box:3"], "dilation": 2 }, { "type": "conv", "kernels": ["box:3"], "dilation": 2 }""";
        string dir = TempDir();
        string Graph(string name, string first, string second)
        {
            string file = Path.Combine(dir, name + ".json");
            File.WriteAllText(file, $$"""
                { "name": "{{name}}", "input": "gray", "layers": [
                  { "type": "conv", "name": "wide", "kernels": ["box:5"] },
                  { "type": "conv", "name": "narrow", "kernels": ["box:3"], "inputs": ["input"] },
                  { "type": "add", "inputs": ["{{first}}", "{{second}}"] } ] }
                """);
            return file;
        }
        string Layers(string name, string layers)
        {
            string file = Path.Combine(dir, name + ".json");
            File.WriteAllText(file, $$"""{ "name": "{{name}}", "input": "gray", "layers": [ {{layers}} ] }""");
            return file;
        }
        foreach ((string[] args, string probe, string field) in new[]
        {
            // Pool 2x2 s2 (80..81), magnitude, sobel 3x3 (79..82), conv 3x3 (78..83), relu, pool 2x2 s2 (156..167),
            // conv 3x3 (155..168), gaussian 5x5 (153..170); rows likewise from 30: 113..130.
            (new[] { "--stack", "deep", "--layer", "9" }, "40,30", "153,113,170,130"),
            (["--stack", "edges", "--layer", "1"], "40,30", "39,29,41,31"),
            (["--stack", Graph("wide-first", "wide", "narrow"), "--layer", "3"], "40,30", "38,28,42,32"),
            (["--stack", Graph("narrow-first", "narrow", "wide"), "--layer", "3"], "40,30", "38,28,42,32"),
            // The perturbation audit: a reflect pad's output 0 reads source pixel 4 (it pointed at -4, off the frame); a
            // wrap pad's the far edge; a zero border's reads are no pixels (a 3x3 conv at the corner reads 0..1).
            (["--stack", Layers("reflect", """{ "type": "pad", "padding": 4, "border": "reflect" }""")], "0,0", "4,4,4,4"),
            (["--stack", Layers("wrap", """{ "type": "pad", "padding": 3, "border": "wrap" }""")], "0,0", $"{SceneW - 3},{SceneH - 3},{SceneW - 3},{SceneH - 3}"),
            (["--stack", Layers("zero", """{ "type": "conv", "kernels": ["box:3"] }""")], "0,0", "0,0,1,1"),
            // The receptive-field audit (perturbation through the CPU ops): a dilated conv on a dilated conv. Output 1
            // reads 1 and 3 (-1 is zero padding), they read 1, 3, 5: the box of the layer between (1..3) read 0..5.
            (["--stack", Layers("dil2", DilatedTwice), "--layer", "2"], "1,10", "1,6,5,14"),
            ([ "--stack", Layers("dil2r", DilatedTwice), "--layer", "2"], $"{SceneW - 2},10", $"{SceneW - 6},6,{SceneW - 2},14"),
            // A stride-3 transposed conv (2x2 taps: every third output row and column is a gap) under a dilation-3 wrap
            // conv: output 41 reads 38, 41 and 44, all gaps (no source pixel: no field; a box printed 13,9,14,11), and
            // output 0 reads 0, 3 and the wrapped gap 956 (source 0..1; the box 0..956 printed 0..26).
            (["--stack", Transposed(), "--layer", "2"], "41,31", ""),
            (["--stack", Transposed(), "--layer", "2"], "0,0", "0,0,1,1"),
        })
        {
            WindowProcess.Result r = Run(["--size", "640x480", "--source", $"scene:{SceneW}x{SceneH}", "--frames", "3", "--view", "split", "--probe", probe, .. args]);
            Assert.True(r.ExitCode == 0, r.ToString());
            string line = r.Stdout.Split('\n').Single(l => l.StartsWith("split ", StringComparison.Ordinal));
            if (field == "") Assert.DoesNotContain("field=", line);
            else Assert.EndsWith(" field=" + field, line);
        }
        string Transposed()
        {
            Npy.Write(Path.Combine(dir, "w.npy"), new Tensor([1, 1, 2, 2], [0.5f, 0.5f, 0.5f, 0.5f]));
            return Layers("transposed", """{ "type": "conv_transpose", "weight": "w.npy", "stride": 3 },""" +
                                        """{ "type": "conv", "kernels": ["box:3"], "dilation": 3, "border": "wrap" }""");
        }
    }

    /// <summary>space among --keys paused the source before its first frame was read: the run waited 120 s for it, then
    /// failed ("no frame within 120 s"). The first frame is read paused too.</summary>
    [Fact]
    public void PausedBeforeTheFirstFrame_StillShowsIt()
    {
        TempDir();
        string png = Temp("paused.png");
        // (It exited 2 after the wait: the exit code tells the two apart.)
        WindowProcess.Result r = Run([.. Small, "--stack", "edges", "--keys", "space", "--screenshot", png]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(new Picture(png).Contrast(Area.Of(r)) > 8, "the paused run's picture looks blank");
    }

    [Fact]
    public void NoDisplay_ExitsOne_WithOneLineNamingXvfb()
    {
        // The machine, not the input: exit 1, as a missing OpenGL in --offscreen and the commands (the environment audit:
        // the window exited 2).
        WindowProcess.Result r = WindowProcess.Run(null, ["--frames", "1"]);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Equal(
            "convgl: no display (DISPLAY/WAYLAND_DISPLAY unset or unreachable); run it under a virtual display: xvfb-run -a ./convgl " +
            "(a scripted run can also draw offscreen: --offscreen --frames N)",
            r.Stderr.TrimEnd('\n'));
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void EveryView_ScreenshotIsARealPicture_AndTheViewsDiffer()
    {
        TempDir();
        string[] views = ["output", "split", "grid", "profile", "filters", "theorem"];
        var pictures = new Dictionary<string, (Picture Picture, Area Area)>();
        foreach (string view in views)
        {
            string png = Temp($"view-{view}.png");
            WindowProcess.Result r = Run([.. Small, "--stack", "edges", "--view", view, "--screenshot", png]);
            Assert.True(r.ExitCode == 0, $"view {view}: {r}");
            var p = new Picture(png);
            Assert.Equal((320, 240), (p.Width, p.Height));
            // Non-blank: real contrast inside the picture's area (beside and above the panels) and many colours.
            Area area = Area.Of(r);
            double contrast = p.Contrast(area);
            int colours = p.DistinctColors();
            Assert.True(contrast > 8 && colours > 200, $"view {view}: contrast {contrast:0.0} in {area}, {colours} colours: looks blank");
            pictures[view] = (p, area);
        }
        for (int i = 0; i < views.Length; i++)
            for (int j = i + 1; j < views.Length; j++)
            {
                Area both = pictures[views[i]].Area.Intersect(pictures[views[j]].Area);
                double d = pictures[views[i]].Picture.MeanDifference(pictures[views[j]].Picture, both);
                Assert.True(d > 4, $"views {views[i]} and {views[j]} differ by only {d:0.00} per channel value in {both}");
            }
    }

    /// <summary>The filters view on the Gabor bank (grey input): its 8 kernels are grey images, symmetric around mid-grey,
    /// so the view holds many distinct grey levels, dark and bright lobes both; the maps beside them are heat-coloured.</summary>
    [Fact]
    public void FiltersView_OnTheGaborBank_DrawsGreyKernelsBesideTheMaps()
    {
        TempDir();
        string png = Temp("filters-gabor.png");
        WindowProcess.Result r = Run([.. Small, "--stack", "gabor", "--view", "filters", "--screenshot", png]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var p = new Picture(png);
        Area view = Area.Of(r, "view");
        Assert.True(view.W > 20 && view.H > 20, $"the filters view drew nothing: {r.Stdout}");
        var greys = new HashSet<int>();
        int dark = 0, bright = 0;
        for (int y = view.Y; y < view.Y + view.H; y++)
            for (int x = view.X; x < view.X + view.W; x++)
            {
                int i = (y * p.Width + x) * 4;
                byte red = p.Rgba[i], green = p.Rgba[i + 1], blue = p.Rgba[i + 2];
                if (red != green || green != blue) continue;
                greys.Add(red);
                if (red < 100) dark++;
                if (red > 156) bright++;
            }
        Assert.True(greys.Count > 20 && dark > 20 && bright > 20,
            $"kernels look empty or uniform: {greys.Count} grey levels, {dark} dark and {bright} bright grey pixels in {view}");
    }

    /// <summary>Under a learned first-layer bank (the learned stack's conv1) the filters view adds the hand-made Gabor bank:
    /// the gabor stack's conv run on the same frame in grey, its 8 maps equal to the gabor stack's own (channel 0's range,
    /// read back, to the bit against that stack's colour bar in a run of the same frames), drawn below the learned bank
    /// and not blank; k in the view hides it; a bank of library kernels (edges), a learned conv after a learned one
    /// (conv2) and the gabor stack itself get none.</summary>
    [Fact]
    public void FiltersView_UnderALearnedFirstLayer_ShowsTheHandMadeGaborBank()
    {
        TempDir();
        string png = Temp("filters-designed.png");
        WindowProcess.Result learned = Run([.. Small, "--stack", "learned", "--layer", "1", "--view", "filters", "--screenshot", png]);
        WindowProcess.Result gabor = Run([.. Small, "--stack", "gabor", "--view", "filters"]);
        Assert.True(learned.ExitCode == 0 && gabor.ExitCode == 0, $"{learned}\n{gabor}");
        Dictionary<string, string> d = Fields(learned, "filters ");
        Assert.Equal(("1", "stack_gabor", "8"), (d["layer"], d["designed"], d["maps"]));
        Assert.Equal($"8x{SceneH}x{SceneW}", d["shape"]);
        Dictionary<string, string> own = Fields(gabor, "colours ");
        Assert.Equal(("1", "0"), (own["layer"], own["channel"]));
        Assert.Equal((own["min"], own["max"]), (d["min0"], d["max0"]));
        Assert.True(float.Parse(d["max0"], CultureInfo.InvariantCulture) > float.Parse(d["min0"], CultureInfo.InvariantCulture), d["min0"]);
        int[] r = d["rect"].Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var designed = new Area(r[0], r[1], r[2], r[3]);
        Area bank = Area.Of(learned, "view"), picture = Area.Of(learned);
        Assert.True(designed.W > 20 && designed.H > 10 && designed.Y >= bank.Y + bank.H && designed.Y + designed.H <= picture.Y + picture.H + 1,
            $"the designed bank at {designed}, the learned one at {bank}, the picture {picture}");
        double contrast = new Picture(png).Contrast(designed);
        Assert.True(contrast > 8, $"the designed bank looks blank: contrast {contrast:0.0} in {designed}");

        // The deep stack's learned conv1 comes after a fixed blur: still the first layer learning made.
        WindowProcess.Result deep = Run([.. Small, "--stack", "deep", "--layer", "2", "--view", "filters"]);
        Assert.True(deep.ExitCode == 0, deep.ToString());
        Assert.Equal(("2", "stack_gabor"), (Fields(deep, "filters ")["layer"], Fields(deep, "filters ")["designed"]));

        WindowProcess.Result hidden = Run([.. Small, "--stack", "learned", "--layer", "1", "--view", "filters", "--keys", "k"]);
        WindowProcess.Result conv2 = Run([.. Small, "--stack", "learned", "--view", "filters"]);
        WindowProcess.Result edges = Run([.. Small, "--stack", "edges", "--view", "filters"]);
        foreach ((WindowProcess.Result run, string layer) in new[] { (hidden, "1"), (conv2, "4"), (edges, "1"), (gabor, "1") })
        {
            Assert.True(run.ExitCode == 0, run.ToString());
            Dictionary<string, string> f = Fields(run, "filters ");
            Assert.Equal((layer, "none"), (f["layer"], f["designed"]));
        }
    }

    /// <summary>The hand-made bank beside a learned first layer is probed as the layer above it is (issue 12: the probe on
    /// every conv the window shows): a designed:X,Y point takes apart the Gabor bank's map there, and its numbers (the GPU's
    /// value, the CPU's sum, the window, the kernel) are the gabor stack's own at that point of the same frames, to the bit.
    /// The strip keeps one height whichever bank the probe is on (its rows are reserved for both kernels), and a point of
    /// a bank the view does not show, or outside its maps, is the run's error.</summary>
    [Fact]
    public void FiltersView_TheHandMadeBank_IsProbed_AsTheGaborStackProbesItself()
    {
        TempDir();
        string png = Temp("filters-designed-probe.png");
        // Channel 2 of both (. twice), the designed point first (pinned), then a point of the learned layer.
        WindowProcess.Result learned = Run([.. Small, "--stack", "learned", "--layer", "1", "--view", "filters", "--keys", ". .",
            "--probe", "designed:60,140;30,20", "--screenshot", png]);
        WindowProcess.Result gabor = Run([.. Small, "--stack", "gabor", "--layer", "1", "--keys", ". .", "--probe", "60,140"]);
        WindowProcess.Result plain = Run([.. Small, "--stack", "learned", "--layer", "1", "--view", "filters", "--keys", ". .", "--probe", "60,140"]);
        Assert.True(learned.ExitCode == 0 && gabor.ExitCode == 0 && plain.ExitCode == 0, $"{learned}\n{gabor}\n{plain}");
        string[] mine = ProbeBlock(learned, 0), own = ProbeBlock(gabor, 0);
        Assert.StartsWith("probe layer=1 channel=2 x=60 y=140 shape=8x", mine[0]);
        Assert.EndsWith(" of=stack_gabor", mine[0]);
        Assert.Equal(own[0] + " of=stack_gabor", mine[0]);
        Assert.Equal(own[1..], mine[1..]);
        Assert.Equal("probe inputs=gray", mine[3]);
        // The kernel is a 15x15 Gabor (225 taps), the window not flat (the scene's edges at that point).
        Assert.Equal(225, mine[2].Split(',').Length);
        Assert.True(mine[1].Split(',').Distinct().Count() > 10, mine[1]);
        // The second point is the learned layer's own: its 3x3 kernel, no bank named.
        string[] second = ProbeBlock(learned, 1);
        Assert.StartsWith("probe layer=1 channel=2 x=30 y=20 ", second[0]);
        Assert.DoesNotContain(" of=", second[0]);
        Assert.Equal(9, second[2].Split(',').Length);
        // The same layout as with the learned layer's pixel pinned: the strip does not move with the bank probed.
        Assert.Equal(Area.Of(plain), Area.Of(learned));
        Assert.Equal(Area.Of(plain, "bottom"), Area.Of(learned, "bottom"));

        WindowProcess.Result noBank = Run([.. Small, "--stack", "edges", "--view", "filters", "--probe", "designed:10,10"]);
        WindowProcess.Result hidden = Run([.. Small, "--stack", "learned", "--layer", "1", "--view", "filters", "--keys", "k", "--probe", "designed:10,10"]);
        WindowProcess.Result outside = Run([.. Small, "--stack", "learned", "--layer", "1", "--view", "filters", "--probe", $"designed:{SceneW},0"]);
        foreach (WindowProcess.Result bad in new[] { noBank, hidden })
        {
            Assert.True(bad.ExitCode == 2, bad.ToString());
            Assert.Contains("--probe designed:10,10: the view shows no hand-made bank", bad.Stderr);
        }
        Assert.True(outside.ExitCode == 2, outside.ToString());
        Assert.Contains($"--probe designed:{SceneW},0 is outside the hand-made Gabor bank's maps, {SceneW}x{SceneH}", outside.Stderr);
        foreach (WindowProcess.Result bad in new[] { noBank, hidden, outside }) Assert.DoesNotContain("probe layer=", bad.Stdout);
    }

    // The lines of the n-th probe a scripted run printed: its "probe layer=" line and the window, kernel and inputs lines after it.
    private static string[] ProbeBlock(WindowProcess.Result r, int n)
    {
        string[] lines = r.Stdout.Split('\n');
        int at = Enumerable.Range(0, lines.Length).Where(i => lines[i].StartsWith("probe layer=", StringComparison.Ordinal)).ElementAt(n);
        return lines[at..(at + 4)];
    }

    // The name=value fields of the one stdout line that starts with prefix.
    private static Dictionary<string, string> Fields(WindowProcess.Result r, string prefix)
    {
        string line = r.Stdout.Split('\n').SingleOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"no '{prefix}' line: {r}");
        return line.Split(' ').Where(f => f.Contains('=', StringComparison.Ordinal))
            .ToDictionary(f => f[..f.IndexOf('=', StringComparison.Ordinal)], f => f[(f.IndexOf('=', StringComparison.Ordinal) + 1)..]);
    }

    [Fact]
    public void TogglingALayer_ChangesThePicture()
    {
        TempDir();
        string on = Temp("toggle-on.png"), off = Temp("toggle-off.png");
        WindowProcess.Result a = Run([.. Small, "--stack", "edges", "--view", "output", "--screenshot", on]);
        // Key 2 turns layer 2 (magnitude) off: the view then shows the Sobel/Scharr maps it was computed from.
        WindowProcess.Result b = Run([.. Small, "--stack", "edges", "--view", "output", "--keys", "2", "--screenshot", off]);
        Assert.True(a.ExitCode == 0 && b.ExitCode == 0, $"{a}\n{b}");
        double d = new Picture(on).MeanDifference(new Picture(off), Area.Of(a).Intersect(Area.Of(b)));
        Assert.True(d > 4, $"toggling layer 2 changed the picture by only {d:0.00} per channel value");
    }

    /// <summary>The help overlay (h) is opaque: two runs that differ in everything under it (the layer shown, the side
    /// panels' text) give the same pixels inside its rectangle. Translucent, as the other panels are, it let the info
    /// panel's text show through as a second, dim layer (assets/screenshots/help.png before 2026-12-03); the info and
    /// kernel panels are not drawn while it shows (their edges stuck out beside it).</summary>
    [Fact]
    public void HelpOverlay_IsOpaque_WhatIsUnderItDoesNotShowThrough()
    {
        TempDir();
        string one = Temp("help-layer1.png"), two = Temp("help-layer2.png");
        WindowProcess.Result a = Run([.. Small, "--stack", "edges", "--layer", "1", "--keys", "h", "--screenshot", one]);
        WindowProcess.Result b = Run([.. Small, "--stack", "edges", "--layer", "2", "--keys", "h", "--screenshot", two]);
        WindowProcess.Result off = Run([.. Small, "--stack", "edges", "--layer", "1"]);
        Assert.True(a.ExitCode == 0 && b.ExitCode == 0 && off.ExitCode == 0, $"{a}\n{b}\n{off}");
        Assert.DoesNotContain(" help=", off.Stdout);
        Area help = Area.Of(a, "help");
        Assert.Equal(help, Area.Of(b, "help"));
        Area window = new(0, 0, 320, 240);
        help = help.Intersect(window);
        Assert.True(help.W > 100 && help.H > 100, $"the help overlay is only {help}");
        var pa = new Picture(one);
        var pb = new Picture(two);
        // The control: the two runs differ (outside the overlay, at least: the picture shows another layer).
        Assert.True(pa.MeanDifference(pb, window) > 1, "test setup: layers 1 and 2 gave the same window");
        Assert.Equal(0.0, pa.MeanDifference(pb, help));
    }

    /// <summary>In small windows every panel stays on screen: the column's panels (info, kernel, colour bar) end above the
    /// probe strip (at 640x400 the kernel panel ran into the probe's rows), and the help overlay fits the window's height
    /// (it ran off the bottom: smaller text, then the lines that fit). The text scales with the window (Hud.SizeFor).</summary>
    [Theory]
    [InlineData("640x400")]
    [InlineData("480x300")]
    [InlineData("320x240")]
    public void SmallWindows_KeepEveryPanelOnScreen_AndTheHelpInTheWindow(string size)
    {
        int w = int.Parse(size.Split('x')[0], CultureInfo.InvariantCulture), h = int.Parse(size.Split('x')[1], CultureInfo.InvariantCulture);
        string[] common = ["--size", size, "--source", $"scene:{SceneW}x{SceneH}", "--frames", Frames.ToString(CultureInfo.InvariantCulture)];
        foreach (string[] args in new[]
        {
            new[] { "--filter", "sobel-x", "--view", "split", "--probe", "150,60" },
            ["--stack", "edges", "--layer", "1", "--view", "grid", "--probe", "40,30"],
            ["--stack", "gabor", "--view", "filters"],
        })
        {
            WindowProcess.Result r = Run([.. common, .. args]);
            Assert.True(r.ExitCode == 0, r.ToString());
            Area side = Area.Of(r, "side"), column = Area.Of(r, "column"), bottom = Area.Of(r, "bottom");
            Assert.True(column.H > 0, $"{size} {string.Join(' ', args)}: nothing drawn in the column: {r.Stdout}");
            Assert.True(column.Y + column.H <= side.Y + side.H + 1,
                $"{size} {string.Join(' ', args)}: the column's panels end at y {column.Y + column.H}, below the column {side} (probe strip {bottom})");
            WindowProcess.Result help = Run([.. common, .. args, "--keys", "h"]);
            Assert.True(help.ExitCode == 0, help.ToString());
            Area overlay = Area.Of(help, "help");
            Assert.True(overlay.Y >= 0 && overlay.Y + overlay.H <= h && overlay.X >= 0 && overlay.X + overlay.W <= w,
                $"{size}: the help overlay {overlay} leaves the {w}x{h} window");
        }
    }

    /// <summary>A window review: in a 300x1000 window the side column was ~95 px wide (every line wrapped, inside words) and
    /// the picture 186 px wide, with hundreds of empty rows. A portrait window puts the column under the picture, across
    /// the width: the picture takes the width, the panels stand between it and the probe strip, nothing overlaps.</summary>
    [Fact]
    public void PortraitWindow_PutsTheColumnUnderThePicture()
    {
        foreach (string[] args in new[]
        {
            new[] { "--stack", "deep", "--layer", "5", "--probe", "40,30" },
            ["--filter", "sobel-x", "--view", "split", "--probe", "150,60"],
        })
        {
            WindowProcess.Result r = Run(["--size", "300x1000", "--source", $"scene:{SceneW}x{SceneH}", "--frames", Frames.ToString(CultureInfo.InvariantCulture), .. args]);
            Assert.True(r.ExitCode == 0, r.ToString());
            Area picture = Area.Of(r), side = Area.Of(r, "side"), column = Area.Of(r, "column"), bottom = Area.Of(r, "bottom");
            string all = $"{string.Join(' ', args)}: {r.Stdout}";
            Assert.True(picture.W == 300 && picture.X == 0 && picture.Y == 0, all);
            Assert.True(side.X == 0 && side.W == 300 && side.Y >= picture.Y + picture.H, all);
            Assert.True(column.H > 0 && column.Y >= side.Y && column.Y + column.H <= side.Y + side.H + 1, all);
            Assert.True(bottom.Y >= side.Y + side.H && bottom.Y + bottom.H == 1000 && bottom.W == 300, all);
            Assert.True(Area.Of(r, "view").W >= 280, $"the picture does not take the width: {all}");
        }
    }

    /// <summary>The panels dock beside the picture and the probe below it: the picture's area and theirs never overlap,
    /// nothing of the view is drawn outside the picture's area, and i (panels hidden) gives the picture the width back.</summary>
    [Fact]
    public void Panels_DockBesideAndBelowThePicture_AndIGivesTheWidthBack()
    {
        TempDir();
        foreach (string view in new[] { "grid", "output", "profile" })
        {
            string shown = Temp($"dock-{view}-shown.png"), hidden = Temp($"dock-{view}-hidden.png");
            WindowProcess.Result a = Run([.. Small, "--stack", "edges", "--layer", "1", "--view", view, "--probe", "40,30", "--screenshot", shown]);
            WindowProcess.Result b = Run([.. Small, "--stack", "edges", "--layer", "1", "--view", view, "--probe", "40,30", "--keys", "i", "--screenshot", hidden]);
            Assert.True(a.ExitCode == 0 && b.ExitCode == 0, $"{a}\n{b}");
            Area picture = Area.Of(a), side = Area.Of(a, "side"), bottom = Area.Of(a, "bottom"), drawn = Area.Of(a, "view");
            Assert.True(side.W > 0 && bottom.H > 0, $"{view}: panels shown, yet no side column or probe strip: {a.Stdout}");
            Assert.Equal(0, picture.Intersect(side).W * picture.Intersect(side).H);
            Assert.Equal(0, picture.Intersect(bottom).W * picture.Intersect(bottom).H);
            // The view's own rectangle (what the mouse maps from) lies inside the picture's area.
            Assert.True(drawn.W > 0 && drawn.X >= picture.X - 1 && drawn.Y >= picture.Y - 1 &&
                        drawn.X + drawn.W <= picture.X + picture.W + 1 && drawn.Y + drawn.H <= picture.Y + picture.H + 1,
                $"{view}: the view {drawn} leaves the picture's area {picture}");
            var withPanels = new Picture(shown);
            Assert.True(withPanels.Contrast(picture) > 8, $"{view}: the picture beside the panels looks blank");
            Area hiddenPicture = Area.Of(b);
            Assert.True(hiddenPicture.W == 320 && Area.Of(b, "side").W == 0, $"{view}: i did not give the picture the width back: {b.Stdout}");
            Assert.True(new Picture(hidden).Contrast(hiddenPicture) > 8, $"{view}: with i the picture looks blank");
        }
    }

    [Fact]
    public void RefusedToggle_IsAMessage_NotACrash()
    {
        // Layer 1 (the 1 -> 4 derivative bank) off would hand the magnitude layer 1 channel: the plan refuses it.
        WindowProcess.Result r = Run([.. Small, "--stack", "edges", "--keys", "1"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("magnitude", r.Stderr);
        Assert.Contains("can't turn layer 1 off, it stays on: ", r.Stderr);
    }

    /// <summary>The source frame the app rendered last, as the (3, H, W) tensor its ImageToTensor made of it.</summary>
    private static Tensor SceneImage()
    {
        using var scene = new SceneSource(SceneW, SceneH, synchronous: true);
        byte[] rgba = new byte[SceneW * SceneH * 4];
        scene.Render((Frames - 1) / 30.0, rgba);
        var t = Tensor.Chw(3, SceneH, SceneW);
        for (int i = 0; i < SceneW * SceneH; i++)
            for (int c = 0; c < 3; c++)
                t.Data[c * SceneW * SceneH + i] = rgba[4 * i + c] / 255f;
        return t;
    }

    private sealed record ProbeLine(int Layer, int Channel, int X, int Y, double Gpu, double Cpu, float[] Window, float[] Kernel);

    private static List<ProbeLine> ParseProbes(string stdout)
    {
        var result = new List<ProbeLine>();
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("probe layer=", StringComparison.Ordinal)) continue;
            Dictionary<string, string> f = lines[i]["probe ".Length..].Split(' ').Select(kv => kv.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]);
            Assert.True(f.ContainsKey("gpu"), $"probe line without a value: {lines[i]}");
            float[] Floats(string line, string key) =>
                line.StartsWith(key, StringComparison.Ordinal) ? line[key.Length..].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray()
                : throw new InvalidOperationException($"expected '{key}...' after the probe line, got '{line}'");
            result.Add(new ProbeLine(int.Parse(f["layer"], CultureInfo.InvariantCulture), int.Parse(f["channel"], CultureInfo.InvariantCulture),
                int.Parse(f["x"], CultureInfo.InvariantCulture), int.Parse(f["y"], CultureInfo.InvariantCulture),
                double.Parse(f["gpu"], CultureInfo.InvariantCulture), double.Parse(f["cpu"], CultureInfo.InvariantCulture),
                Floats(lines[i + 1], "probe window="), Floats(lines[i + 2], "probe kernel=")));
        }
        return result;
    }

    /// <summary>Corners (borders in play) plus the strongest responses of the reference (where a wrong tap shows).</summary>
    private static List<(int X, int Y)> Points(Tensor reference, int channel)
    {
        int h = reference.H, w = reference.W;
        var points = new List<(int, int)> { (0, 0), (w - 1, h - 1), (w - 1, 0), (0, h / 2) };
        points.AddRange(Enumerable.Range(0, h * w)
            .OrderByDescending(i => Math.Abs(reference[channel, i / w, i % w])).ThenBy(i => i)
            .Where((_, k) => k % 7 == 0).Take(3).Select(i => (i % w, i / w)));
        return points;
    }

    private static void AssertProbes(List<ProbeLine> probes, List<(int X, int Y)> points, Tensor reference, int channel, string what)
    {
        Assert.True(probes.Count == points.Count, $"{what}: expected {points.Count} probe lines, got {probes.Count}");
        foreach (ProbeLine p in probes)
        {
            double expected = reference[channel, p.Y, p.X];
            double tolerance = 1e-5 + 1e-4 * Math.Abs(expected);
            Assert.True(p.Channel == channel, $"{what}: probe channel {p.Channel}, expected {channel}");
            Assert.True(Math.Abs(p.Gpu - expected) <= tolerance,
                $"{what} at (x {p.X}, y {p.Y}) channel {channel}: GPU wrote {p.Gpu:R}, CPU reference {expected:R} (tolerance {tolerance:0.0e0})");
            Assert.True(Math.Abs(p.Cpu - expected) <= tolerance,
                $"{what} at (x {p.X}, y {p.Y}) channel {channel}: the probe's sum {p.Cpu:R}, CPU reference {expected:R} (tolerance {tolerance:0.0e0})");
        }
    }

    [Fact]
    public void FilterProbe_EqualsCpuReference_UnderConvolveStrideDilationAndBorder()
    {
        // Keys: c = convolve, + = stride 2, d = dilation 2, b = next border (reflect -> symmetric), . = channel 1.
        Tensor kernel = KernelLibrary.Get("sobel-x");
        ConvOptions options = ConvOptions.ImageFilter with
        {
            Mode = ConvMode.Convolve, StrideY = 2, StrideX = 2, DilationY = 2, DilationX = 2, Border = Border.Symmetric,
        };
        Tensor image = SceneImage();
        Tensor reference = Conv2D.Filter(image, kernel, options);
        List<(int X, int Y)> points = Points(reference, 1);
        string probe = string.Join(';', points.Select(p => $"{p.X},{p.Y}"));
        WindowProcess.Result r = Run([.. Small, "--filter", "sobel-x", "--keys", "c + d b .", "--probe", probe]);
        Assert.True(r.ExitCode == 0, r.ToString());
        List<ProbeLine> probes = ParseProbes(r.Stdout);
        AssertProbes(probes, points, reference, 1, $"sobel-x {options}");

        // The probe's window is the padded input under the dilated taps, its kernel the one rotated for convolve.
        float[] rotated = Conv2D.Rot180(kernel).Data;
        ConvGeometry g = ConvGeometry.Compute(image.H, image.W, 3, 3, options);
        foreach (ProbeLine p in probes)
        {
            Assert.Equal(rotated, p.Kernel);
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                {
                    int sy = Borders.Map(p.Y * 2 + i * 2 - g.Y.PadBefore, image.H, Border.Symmetric);
                    int sx = Borders.Map(p.X * 2 + j * 2 - g.X.PadBefore, image.W, Border.Symmetric);
                    // The GPU's unorm-to-float conversion of a byte may differ from byte / 255f in the last bit.
                    Assert.True(Math.Abs(image[1, sy, sx] - p.Window[i * 3 + j]) <= 1e-6,
                        $"window tap ({i}, {j}) at (x {p.X}, y {p.Y}): probe {p.Window[i * 3 + j]:R}, input {image[1, sy, sx]:R}");
                }
        }
    }

    [Fact]
    public void StackProbe_EqualsCpuStackRunner_OnTheDerivativeLayer()
    {
        Stack stack = StackFile.Load(StackCatalog.Resolve("edges"), KernelLibrary.Get, Npy.Read);
        StackResult cpu = StackRunner.Run(stack, SceneImage());
        Tensor reference = cpu.Outputs[0];
        List<(int X, int Y)> points = Points(reference, 1);
        string probe = string.Join(';', points.Select(p => $"{p.X},{p.Y}"));
        WindowProcess.Result r = Run([.. Small, "--stack", "edges", "--layer", "1", "--keys", ".", "--probe", probe]);
        Assert.True(r.ExitCode == 0, r.ToString());
        AssertProbes(ParseProbes(r.Stdout), points, reference, 1, "edges layer 1 (sobel-y)");
    }

    /// <summary>The colour bar's min and max are the shown map's, as the CPU computes that map: a conv layer's channel in
    /// the output view, the same channel in the grid (each map its own range), a magnitude's map, and a filter's three
    /// maps drawn as one RGB picture (one range over the three), and the theorem view's direct and FFT maps.</summary>
    [Fact]
    public void ColourBar_GivesTheShownMapsMinAndMax_AsTheCpuComputesThem()
    {
        Stack stack = StackFile.Load(StackCatalog.Resolve("edges"), KernelLibrary.Get, Npy.Read);
        StackResult cpu = StackRunner.Run(stack, SceneImage());
        Tensor sobelX = Conv2D.Filter(SceneImage(), KernelLibrary.Get("sobel-x"), ConvOptions.ImageFilter);
        foreach ((string[] args, Tensor reference, int[] channels, string map, int eachOwn, int rgb) in new[]
        {
            (new[] { "--stack", "edges", "--layer", "1", "--keys", ".", "--view", "output" }, cpu.Outputs[0], new[] { 1 }, "viridis", 0, 0),
            (["--stack", "edges", "--layer", "1", "--keys", ".", "--view", "grid"], cpu.Outputs[0], [1], "viridis", 1, 0),
            (["--stack", "edges", "--layer", "2", "--view", "output"], cpu.Outputs[1], [0], "viridis", 0, 0),
            (["--filter", "sobel-x", "--view", "split"], sobelX, [0, 1, 2], "gray", 0, 1),
            // The theorem view's direct and FFT maps: their one scale is the direct map's (the view's own range).
            (["--stack", "edges", "--layer", "1", "--keys", ".", "--view", "theorem"], cpu.Outputs[0], [1], "viridis", 0, 0),
        })
        {
            WindowProcess.Result r = Run([.. Small, .. args]);
            Assert.True(r.ExitCode == 0, r.ToString());
            string line = r.Stdout.Split('\n').SingleOrDefault(l => l.StartsWith("colours ", StringComparison.Ordinal))
                ?? throw new InvalidOperationException($"no colours line: {r.Stdout}");
            Dictionary<string, string> f = line["colours ".Length..].Split(' ').Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
            string what = string.Join(' ', args);
            Assert.Equal((map, eachOwn.ToString(CultureInfo.InvariantCulture), rgb.ToString(CultureInfo.InvariantCulture)), (f["map"], f["each_own"], f["rgb"]));
            float min = channels.Min(c => reference.Channel(c).Range().Min), max = channels.Max(c => reference.Channel(c).Range().Max);
            double gotMin = double.Parse(f["min"], CultureInfo.InvariantCulture), gotMax = double.Parse(f["max"], CultureInfo.InvariantCulture);
            Assert.True(Math.Abs(gotMin - min) <= 1e-5 + 1e-4 * Math.Abs(min) && Math.Abs(gotMax - max) <= 1e-5 + 1e-4 * Math.Abs(max),
                $"{what}: the colour bar says {gotMin:R}..{gotMax:R}, the CPU's map {min:R}..{max:R}");
            Assert.True(max - min > 0.1, $"{what}: test setup: a flat map ({min}..{max})");
        }
    }

    /// <summary>--offscreen (an EGL pbuffer, no display server): with DISPLAY unset the scripted run still draws the frame
    /// and its probe equals the CPU stack runner, and the picture is the one a window shows, value for value. Without
    /// --frames it is refused (nothing would end the run).</summary>
    [Fact]
    public void Offscreen_WithoutADisplay_ProbesAsTheCpu_AndDrawsTheWindowsPicture()
    {
        TempDir();
        Stack stack = StackFile.Load(StackCatalog.Resolve("edges"), KernelLibrary.Get, Npy.Read);
        Tensor reference = StackRunner.Run(stack, SceneImage()).Outputs[0];
        List<(int X, int Y)> points = Points(reference, 1);
        string probe = string.Join(';', points.Select(p => $"{p.X},{p.Y}"));
        string[] args = [.. Small, "--stack", "edges", "--layer", "1", "--keys", ".", "--probe", probe];
        string offPng = Temp("offscreen.png"), windowPng = Temp("window.png");

        WindowProcess.Result off = WindowProcess.Run(null, [.. args, "--offscreen", "--screenshot", offPng]);
        Assert.True(off.ExitCode == 0, off.ToString());
        AssertProbes(ParseProbes(off.Stdout), points, reference, 1, "offscreen edges layer 1 (sobel-y)");
        var offPicture = new Picture(offPng);
        Assert.Equal((320, 240), (offPicture.Width, offPicture.Height));
        Area area = Area.Of(off);
        Assert.True(offPicture.Contrast(area) > 8, $"offscreen picture looks blank in {area}");

        WindowProcess.Result window = Run([.. args, "--screenshot", windowPng]);
        Assert.True(window.ExitCode == 0, window.ToString());
        Assert.Equal(area, Area.Of(window));
        Assert.Equal(0, offPicture.MeanDifference(new Picture(windowPng), area));

        WindowProcess.Result refused = WindowProcess.Run(null, ["--offscreen", "--stack", "edges"]);
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Equal("convgl: --offscreen needs --frames N: nothing is on screen to look at or close, so the run must end by itself",
            refused.Stderr.TrimEnd('\n'));
        Assert.Equal("", refused.Stdout);
        refused = WindowProcess.Run(null, ["--hidden", "--stack", "edges"]);
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Equal("convgl: --hidden needs --frames N: the window is not on screen to look at or close, so the run must end by itself",
            refused.Stderr.TrimEnd('\n'));
        // --stats prints when a scripted run ends: without --frames (a newcomer's walk) the window ran until killed and
        // printed nothing.
        refused = WindowProcess.Run(null, ["--stats", "--stack", "edges"]);
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Equal("convgl: --stats needs --frames N (the frames to measure; the figures print when they are done)", refused.Stderr.TrimEnd('\n'));
    }

    /// <summary>The filters view shows the first conv layer whichever layer is selected (here the magnitude, which has no
    /// probe of its own), and its probe takes that layer's map apart: layer 1 (as --layer and the HUD count), channel 1 (sobel-y).</summary>
    [Fact]
    public void FiltersViewProbe_TakesTheFirstConvLayerApart_EvenWithANonConvLayerSelected()
    {
        Stack stack = StackFile.Load(StackCatalog.Resolve("edges"), KernelLibrary.Get, Npy.Read);
        Assert.IsNotType<ConvLayer>(stack.Layers[^1]);
        Tensor reference = StackRunner.Run(stack, SceneImage()).Outputs[0];
        List<(int X, int Y)> points = Points(reference, 1);
        string probe = string.Join(';', points.Select(p => $"{p.X},{p.Y}"));
        WindowProcess.Result r = Run([.. Small, "--stack", "edges", "--view", "filters", "--keys", ".", "--probe", probe]);
        Assert.True(r.ExitCode == 0, r.ToString());
        List<ProbeLine> probes = ParseProbes(r.Stdout);
        Assert.All(probes, p => Assert.Equal(1, p.Layer));
        AssertProbes(probes, points, reference, 1, "filters view, edges layer 1 (sobel-y)");
        // The edges stack reads the gray image: its one input channel is named so.
        string[] inputs = r.Stdout.Split('\n').Where(l => l.StartsWith("probe inputs=", StringComparison.Ordinal)).ToArray();
        Assert.True(inputs.Length == points.Count && inputs.All(l => l == "probe inputs=gray"), string.Join(" / ", inputs));
    }

    /// <summary>With a conv layer selected, the filters view shows that layer's bank: the deep stack's learned conv1
    /// (layer 2, 8 kernels) rather than its fixed 5x5 pre-blur (layer 1, one kernel), which it always showed.</summary>
    [Fact]
    public void FiltersView_ShowsTheSelectedConvLayer()
    {
        Stack stack = StackFile.Load(StackCatalog.Resolve("deep"), KernelLibrary.Get, Npy.Read);
        Tensor reference = StackRunner.Run(stack, SceneImage()).Outputs[1];
        List<(int X, int Y)> points = Points(reference, 3);
        string probe = string.Join(';', points.Select(p => $"{p.X},{p.Y}"));
        WindowProcess.Result r = Run([.. Small, "--stack", "deep", "--view", "filters", "--layer", "2", "--keys", ". . .", "--probe", probe]);
        Assert.True(r.ExitCode == 0, r.ToString());
        List<ProbeLine> probes = ParseProbes(r.Stdout);
        Assert.All(probes, p => Assert.Equal(2, p.Layer));
        AssertProbes(probes, points, reference, 3, "filters view, deep layer 2 (learned conv1), map 3");
    }

    /// <summary>The filters view marks the probed pixel on its map in the grid: the marker's cyan square (0.2, 1, 1) is
    /// absent without a probe, inside the view with one, and moves right and down with the probed pixel.</summary>
    [Fact]
    public void FiltersView_MarksTheProbedPixel_OnItsMap()
    {
        TempDir();
        (double X, double Y, int N) Marker(string? probe)
        {
            string png = Temp($"filters-marker-{probe?.Replace(',', '-') ?? "none"}.png");
            WindowProcess.Result r = Run([.. Small, "--stack", "edges", "--view", "filters", "--screenshot", png, .. probe is null ? Array.Empty<string>() : ["--probe", probe]]);
            Assert.True(r.ExitCode == 0, r.ToString());
            var p = new Picture(png);
            Area view = Area.Of(r, "view");
            double sx = 0, sy = 0;
            int n = 0;
            for (int y = view.Y; y < view.Y + view.H; y++)
                for (int x = view.X; x < view.X + view.W; x++)
                {
                    int i = (y * p.Width + x) * 4;
                    if (Math.Abs(p.Rgba[i] - 51) > 2 || p.Rgba[i + 1] < 253 || p.Rgba[i + 2] < 253) continue;
                    (sx, sy, n) = (sx + x, sy + y, n + 1);
                }
            return n == 0 ? (double.NaN, double.NaN, 0) : ((sx / n) - view.X, (sy / n) - view.Y, n);
        }
        Assert.Equal(0, Marker(null).N);
        (double ax, double ay, int an) = Marker("20,20");
        (double bx, double by, int bn) = Marker($"{SceneW - 20},{SceneH - 20}");
        Assert.True(an > 8 && bn > 8, $"no marker square: {an} and {bn} cyan pixels");
        Assert.True(bx > ax + 5 && by > ay + 5, $"the marker did not follow the probe: ({ax:0.0}, {ay:0.0}) for (20, 20), ({bx:0.0}, {by:0.0}) for the far corner");
    }

    [Fact]
    public void StackWithAKernelFileNextToIt_LoadsAsFeaturesDoes_AndTheProbeFollowsTheFile()
    {
        // A kernel named by a file beside the stack (not a library name): `convgl features` resolves it, so must the window.
        string dir = Path.Combine(TempDir(), "kernel-file-stack");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "tilt.txt"), "# an asymmetric kernel: a flip or a transpose would show\nscale 1/8\n1 2 0\n0 0 -1\n3 0 -5\n");
        string file = Path.Combine(dir, "tilted.json");
        File.WriteAllText(file, """
            { "name": "tilted", "input": "gray",
              "layers": [ { "type": "conv", "kernels": ["tilt.txt"], "border": "reflect" } ] }
            """);
        Stack stack = StackCatalog.Load(file);
        Tensor reference = StackRunner.Run(stack, SceneImage()).Outputs[0];
        List<(int X, int Y)> points = Points(reference, 0);
        string probe = string.Join(';', points.Select(p => $"{p.X},{p.Y}"));
        WindowProcess.Result r = Run([.. Small, "--stack", file, "--layer", "1", "--probe", probe]);
        Assert.True(r.ExitCode == 0, r.ToString());
        AssertProbes(ParseProbes(r.Stdout), points, reference, 0, $"{file} layer 1 (kernel file tilt.txt)");
    }

    /// <summary>A stack whose layers need a larger map than a small default (a valid 21x21 conv) opens on the source's
    /// frames and its probe equals the reference (it was planned at 16x16 first and refused); one that does not fit the
    /// frames at all (a residual add of maps a pixel apart at 180 rows) is one error naming the layer and the nearest
    /// sizes it runs at, and exits 2 before a frame.</summary>
    [Fact]
    public void StackNeedingLargeMaps_OpensOnTheSourcesFrames_AndOneThatDoesNotFitNamesTheSizesThatDo()
    {
        string dir = Path.Combine(TempDir(), "large-map-stack");
        Directory.CreateDirectory(dir);
        string big = Path.Combine(dir, "big.json");
        File.WriteAllText(big, """
            { "name": "big", "input": "gray",
              "layers": [ { "type": "conv", "kernels": ["gaussian:21"], "padding": "valid" } ] }
            """);
        Tensor reference = StackRunner.Run(StackCatalog.Load(big), SceneImage()).Outputs[0];
        Assert.Equal([1, SceneH - 20, SceneW - 20], reference.Shape);
        List<(int X, int Y)> points = Points(reference, 0);
        WindowProcess.Result r = Run([.. Small, "--stack", big, "--probe", string.Join(';', points.Select(p => $"{p.X},{p.Y}"))]);
        Assert.True(r.ExitCode == 0, r.ToString());
        AssertProbes(ParseProbes(r.Stdout), points, reference, 0, "big.json (valid 21x21)");

        // A stride-2 3x3 branch padded on the top and left only, as ResNet18's export pads its stem, and a stride-2 1x1
        // shortcut: (H + 1 - 3) / 2 + 1 rows against (H - 1) / 2 + 1, equal only for an even H.
        string odd = Path.Combine(dir, "residual.json");
        File.WriteAllText(odd, """
            { "name": "residual", "input": "gray",
              "layers": [ { "type": "conv", "kernels": ["box:3"], "stride": 2, "padding": [1, 1, 0, 0] },
                          { "type": "conv", "kernels": ["identity"], "stride": 2, "inputs": ["input"] },
                          { "type": "add", "inputs": [0, 1] } ] }
            """);
        WindowProcess.Result bad = Run([.. Small[..2], "--source", $"scene:{SceneW}x{SceneH + 1}", "--frames", "1", "--stack", odd]);
        Assert.True(bad.ExitCode == 2, bad.ToString());
        Assert.Equal($"convgl: {odd}: layers[2] (add) field 'inputs': does not fit its 160x90 input (stack input {SceneW}x{SceneH + 1}): add needs " +
                     $"two inputs of equal size, got 160x90 and 160x91", bad.Stderr.TrimEnd('\n').Split("; the nearest")[0]);
        Assert.EndsWith($"; the nearest sizes it runs at: height {SceneH} or {SceneH + 2} instead of {SceneH + 1}, width {SceneW} is fine " +
                        $"(e.g. --source scene:{SceneW}x{SceneH}, or a picture of that size)", bad.Stderr.TrimEnd('\n'));
        Assert.Equal("", bad.Stdout);
    }

    [Fact]
    public void ZeroKey_TogglesTheSelectedLayer_BeyondTheNinthToo()
    {
        // Eleven layers: keys 1..9 cannot reach the last (a conv), so 0 toggles whichever layer [ ] selected.
        string dir = Path.Combine(TempDir(), "eleven-layers");
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, "eleven.json");
        string relus = string.Concat(Enumerable.Repeat("""{ "type": "relu" }, """, 9));
        File.WriteAllText(file, $$"""
            { "name": "eleven", "input": "gray",
              "layers": [ { "type": "conv", "kernels": ["sobel-x"] }, {{relus}}{ "type": "conv", "kernels": ["box:5"] } ] }
            """);
        Stack stack = StackCatalog.Load(file);
        Assert.Equal(11, stack.Layers.Count);
        Tensor reference = StackRunner.Run(stack, SceneImage()).Outputs[10];
        List<(int X, int Y)> points = Points(reference, 0);
        string probe = string.Join(';', points.Select(p => $"{p.X},{p.Y}"));

        WindowProcess.Result on = Run([.. Small, "--stack", file, "--layer", "11", "--probe", probe]);
        Assert.True(on.ExitCode == 0, on.ToString());
        AssertProbes(ParseProbes(on.Stdout), points, reference, 0, $"{file} layer 11 (box:5), on");

        // 0 on the selected layer 11 turns it off (the probe says so).
        WindowProcess.Result off = Run([.. Small, "--stack", file, "--layer", "11", "--keys", "0", "--probe", probe]);
        Assert.True(off.ExitCode == 0, off.ToString());
        string[] offLines = off.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("probe layer=", StringComparison.Ordinal)).ToArray();
        Assert.True(offLines.Length == points.Count && offLines.All(l => l.StartsWith("probe layer=11 ", StringComparison.Ordinal) && l.EndsWith("invalid: layer is off", StringComparison.Ordinal)),
            $"after 0 on layer 11 every probe line should say the layer is off:\n{off.Stdout}");

        // 0 again turns it back on.
        WindowProcess.Result back = Run([.. Small, "--stack", file, "--layer", "11", "--keys", "0 0", "--probe", probe]);
        Assert.True(back.ExitCode == 0, back.ToString());
        AssertProbes(ParseProbes(back.Stdout), points, reference, 0, $"{file} layer 11 after 0 twice");
    }

    [Fact]
    public void StackProbe_OnALearnedMultiChannelConv_SumsEveryInputChannelAndTheBias()
    {
        // learned layer 4: conv 8 -> 16 with bias, after relu and maxpool (a 90x160 map from the 180x320 scene).
        Stack stack = StackFile.Load(StackCatalog.Resolve("learned"), KernelLibrary.Get, Npy.Read);
        Assert.IsType<ConvLayer>(stack.Layers[3]);
        Tensor reference = StackRunner.Run(stack, SceneImage()).Outputs[3];
        List<(int X, int Y)> points = Points(reference, 3);
        string probe = string.Join(';', points.Select(p => $"{p.X},{p.Y}"));
        WindowProcess.Result r = Run([.. Small, "--stack", "learned", "--layer", "4", "--keys", ". . .", "--probe", probe]);
        Assert.True(r.ExitCode == 0, r.ToString());
        List<ProbeLine> probes = ParseProbes(r.Stdout);
        AssertProbes(probes, points, reference, 3, "learned layer 4 (conv 8 -> 16)");
        Assert.All(probes, p => Assert.Equal(8 * 3 * 3, p.Window.Length));
    }

    [Fact]
    public void StackOptionKeys_RebuildTheLayer_AndTheProbeFollowsTheReference()
    {
        // c and + on the magnitude layer act on the conv before it: convolve, stride 2.
        Stack stack = StackFile.Load(StackCatalog.Resolve("edges"), KernelLibrary.Get, Npy.Read);
        var conv = (ConvLayer)stack.Layers[0];
        Tensor input = StackRunner.Run(stack, SceneImage()).Input;
        ConvOptions options = conv.Options with { Mode = ConvMode.Convolve, StrideY = 2, StrideX = 2 };
        Tensor reference = Conv2D.Apply(input, conv.Weight, conv.Bias, options);
        List<(int X, int Y)> points = Points(reference, 2);
        string probe = string.Join(';', points.Select(p => $"{p.X},{p.Y}"));
        WindowProcess.Result r = Run([.. Small, "--stack", "edges", "--keys", "c + [ . .", "--probe", probe]);
        Assert.True(r.ExitCode == 0, r.ToString());
        AssertProbes(ParseProbes(r.Stdout), points, reference, 2, $"edges layer 1 {options}");
    }

    [Theory]
    [InlineData("--filter", "gaussian:5,1", "output", 40)]
    [InlineData("--stack", "edges", "split", 40)]
    [InlineData("--stack", "edges", "grid", 40)]
    [InlineData("--stack", "learned", "profile", 40)]
    // ResNet18 at 224x224 whatever the window (preprocessing on the GPU, residual adds): ~0.5 s a frame on llvmpipe.
    [InlineData("--stack", "resnet18", "filters", 16)]
    // A probe in the split view frames its receptive field every frame (the sets it follows are kept between frames).
    [InlineData("--stack", "deep", "split", 40, "5,5")]
    public void SteadyFrames_AllocateNothing(string kind, string name, string view, int frames, string probe = "")
    {
        // Measured on the render thread over frames that did not rebuild the HUD text (the numbers refresh twice a
        // second; that allocates a few strings, by design). The scripted scene is drawn on the render thread too.
        WindowProcess.Result r = Run(["--size", "160x120", "--source", "scene:160x90", "--frames", frames.ToString(CultureInfo.InvariantCulture), kind, name, "--view", view, "--stats",
                                       .. (probe == "" ? Array.Empty<string>() : ["--probe", probe])]);
        Assert.True(r.ExitCode == 0, r.ToString());
        string line = r.Stdout.Split('\n').Single(l => l.StartsWith("stats:", StringComparison.Ordinal));
        // "stats: steady frames=N allocated=B bytes", then, where B is not 0, "(in frames F: B, ...)": which frames allocated.
        Match m = Regex.Match(line, @"^stats: steady frames=(\d+) allocated=(\d+) bytes");
        Assert.True(m.Success, $"unexpected stats line: {line}");
        long frameCount = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), allocated = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.True(frameCount >= 10, $"only {frameCount} steady frames measured: {line}");
        Assert.True(allocated == 0, $"{kind} {name}, view {view}: {allocated} bytes allocated over {frameCount} steady frames ({line})");
        Assert.DoesNotContain("(in frames", line, StringComparison.Ordinal);
    }

    /// <summary>A stack none of whose layers has a shader tag (here one max pool) says so: "shaders none", not a bare
    /// "shaders".</summary>
    [Fact]
    public void AStackWithoutShaderTags_SaysShadersNone()
    {
        string stack = TempStack("pools.json", "{\"name\": \"pools\", \"input\": \"gray\", \"layers\": [{\"type\": \"maxpool\", \"size\": 2}]}");
        WindowProcess.Result r = Run(["--size", "320x200", "--source", "scene:160x90", "--frames", "2", "--stack", stack]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("shaders none", r.Stdout.Split('\n').Single(l => l.StartsWith("shaders", StringComparison.Ordinal)).TrimEnd());
    }

    /// <summary>Showing a relu whose conv is fused with it (nothing probed, so no view reads the conv's map): every frame runs
    /// the fused pass and only it. The idle probe strip's sum needs the layer's input shape only; it asked for the map, and
    /// twice a second an unfused run came on top, so the window said fused and the scripted line did not (a report-only
    /// review's finding).</summary>
    [Fact]
    public void ShowingAFusedRelu_RunsOnlyTheFusedPass()
    {
        WindowProcess.Result r = Run(["--size", "480x300", "--source", "scene:320x180", "--frames", "40", "--stack", "gabor", "--layer", "2", "--stats"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"shaders 1=\S+\+relu 2=fused", r.Stdout);
        string parts = r.Stdout.Split('\n').Single(l => l.StartsWith("parts:", StringComparison.Ordinal));
        Assert.Contains(" 1:conv+relu=", parts, StringComparison.Ordinal);
        Assert.DoesNotContain(" 1:conv=", parts, StringComparison.Ordinal);
        Assert.DoesNotContain(" 2:relu=", parts, StringComparison.Ordinal);
    }

    /// <summary>A model ending in pooled features (ResNet18's last layer is 512 maps of 1x1: one flat colour each) opens on
    /// its first layer (the first conv's response to the picture), not on a blank picture; the HUD marks that layer.</summary>
    [Fact]
    public void ResNet18_OpensOnItsFirstLayer_NotOnThePooledFeatures()
    {
        TempDir();
        string png = Temp("resnet18-open.png");
        WindowProcess.Result r = Run(["--size", "320x200", "--source", "scene:160x90", "--frames", "3", "--stack", "resnet18", "--screenshot", png]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(new Picture(png).Contrast(Area.Of(r)) > 8, "resnet18's opening picture looks blank");
    }

    [Fact]
    public void EveryKey_RunsThroughTheControlsTable_WithoutAnError()
    {
        // Every binding but p (screenshot to the working folder) and Esc (tested below), in stack and filter mode.
        const string keys = "1 1 2 2 0 0 ] [ . , tab shift+tab o l g w c b B + - d D space space v v r i i h h s S F f f c + d";
        string png = Temp("all-keys.png");
        TempDir();
        WindowProcess.Result r = Run([.. Small, "--stack", "edges", "--keys", keys, "--screenshot", png]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("internal error", r.Stderr);
        Assert.True(new Picture(png).Contrast(Area.Of(r)) > 8, "picture after every key looks blank");
    }

    /// <summary>A .jpg screenshot is a JPEG (not PNG bytes under a .jpg name) showing the same picture as the PNG.</summary>
    [Fact]
    public void Screenshot_Jpg_IsAJpegOfTheSamePicture()
    {
        TempDir();
        string jpg = Temp("shot.jpg"), png = Temp("shot-same.png");
        WindowProcess.Result a = Run([.. Small, "--filter", "gaussian:5,1", "--screenshot", jpg]);
        WindowProcess.Result b = Run([.. Small, "--filter", "gaussian:5,1", "--screenshot", png]);
        Assert.True(a.ExitCode == 0 && b.ExitCode == 0, $"{a}\n{b}");
        byte[] bytes = File.ReadAllBytes(jpg);
        Assert.True(bytes.Length > 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF, "the .jpg does not start with a JPEG SOI marker");
        // The scene is animated by frame number, so both runs drew the same frame: only JPEG's loss separates them
        // (in the picture: the HUD's timings differ from run to run).
        double d = new Picture(jpg).MeanDifference(new Picture(png), Area.Of(a).Intersect(Area.Of(b)));
        Assert.True(d < 4, $"the JPEG differs from the PNG of the same frame by {d:0.00} per channel value");
    }

    [Fact]
    public void ScreenshotKey_WhereNothingCanBeWritten_IsAMessage_NotACrash()
    {
        // p writes convgl-DATE.png to the working folder; /proc takes no new files, even from root.
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display), [.. Small, "--filter", "sobel-x", "--keys", "p"], workingDirectory: "/proc");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("not written", r.Stderr);
        Assert.DoesNotContain("internal error", r.Stderr);
    }

    [Fact]
    public void Escape_Quits()
    {
        // A billion frames cannot be rendered within the limit, so only Esc can end this run in time; the limit is
        // generous because start-up alone can take a while on a loaded 2-core CI machine.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        WindowProcess.Result r = Run(["--size", "160x120", "--source", "scene:160x90", "--frames", "1000000000", "--keys", "esc"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(240), $"Esc did not end the run ({clock.Elapsed.TotalSeconds:0} s)");
    }

    /// <summary>A scripted run asked for a screenshot but ended by an Esc among its keys wrote nothing and said nothing,
    /// exit 0: now one line saying so, exit 1.</summary>
    [Fact]
    public void Escape_BeforeTheScreenshot_IsAFailureSayingSo()
    {
        string png = Path.Combine(Path.GetTempPath(), $"convgl-esc-{Environment.ProcessId}-{Guid.NewGuid():N}.png");
        WindowProcess.Result r = Run(["--size", "160x120", "--source", "scene:160x90", "--frames", "3", "--keys", "esc", "--screenshot", png]);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("the scripted run was closed at frame 0 of 3", r.Stderr);
        Assert.False(File.Exists(png));
        // --stats too: its figures come after the last frame (the newcomer review: it printed nothing, exit 0).
        r = Run(["--size", "160x120", "--source", "scene:160x90", "--frames", "3", "--keys", "esc", "--stats"]);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("so its --screenshot, --probe or --stats output was not written", r.Stderr);
    }

    [Fact]
    public void BadOptions_AreOneLineAndExitTwo()
    {
        foreach (string[] args in new[]
        {
            new[] { "--view", "sideways", "--frames", "1" },
            ["--source", "/nonexistent/clip.png", "--frames", "1"],
            ["--screenshot", "x.png"],
            ["--stack", "no-such-stack", "--frames", "1"],
            ["--keys", "ctrl+q", "--frames", "1"],
            ["--source", "camera:9", "--frames", "1"],
            ["--stack", "edges", "--layer", "3", "--frames", "1"],
            ["--stack", "edges", "--filter", "sobel-x", "--frames", "1"],
            ["--probe", "10;20", "--frames", "1"],
            ["--frames", "1", "--screenshot", "/nonexistent/folder/x.png"],
        })
        {
            WindowProcess.Result r = Run(args);
            Assert.True(r.ExitCode == 2, $"{string.Join(' ', args)}: {r}");
            Assert.True(r.Stderr.TrimEnd('\n').Split('\n').Length == 1 && r.Stderr.StartsWith("convgl: ", StringComparison.Ordinal),
                $"{string.Join(' ', args)}: expected one line, got: {r.Stderr}");
            Assert.False(r.Stderr.StartsWith("convgl: convgl:", StringComparison.Ordinal), $"{string.Join(' ', args)}: prefix doubled: {r.Stderr}");
        }
        // "camera:" names none (it said "no camera there ( does not exist ...)").
        WindowProcess.Result none = Run("--source", "camera:", "--frames", "1");
        Assert.True(none.ExitCode == 2, none.ToString());
        Assert.Equal("convgl: source 'camera:': no camera named after the colon; give camera:0 (the first, /dev/video0), camera:N, or a path (camera:/dev/video2)",
            none.Stderr.TrimEnd('\n'));
        // A broken video: OpenCV's FFmpeg logs "moov atom not found" on its own unless told not to.
        string broken = Path.Combine(Path.GetTempPath(), $"convgl-app-tests-{Environment.ProcessId}-broken.mp4");
        File.WriteAllBytes(broken, [.. Enumerable.Range(0, 3000).Select(i => (byte)(i * 7919 % 251))]);
        try
        {
            WindowProcess.Result video = Run("--source", broken, "--frames", "1");
            Assert.True(video.ExitCode == 2 && video.Stderr.TrimEnd('\n').Split('\n').Length == 1
                && video.Stderr.StartsWith("convgl: source ", StringComparison.Ordinal) && video.Stderr.Contains("not an image or a video", StringComparison.Ordinal),
                $"broken video: expected one line, got: {video}");
        }
        finally
        {
            File.Delete(broken);
        }
        WindowProcess.Result folder = Run("--source", Path.GetTempPath(), "--frames", "1");
        Assert.True(folder.ExitCode == 2 && folder.Stderr.Contains("is a folder", StringComparison.Ordinal), folder.ToString());
    }

    /// <summary>A probe on an attention layer lights where that position looks: every key's pixel of the map is the map
    /// without the spotlight (key a hides it) darkened by 0.8 x (1 - w / max w), w the weights the probe prints; the
    /// most-weighted key is shown as it is and a key of weight ~0 at a fifth of its brightness. The shipped attention
    /// stack on a small scene (8x8 pooled: 9x16 = 144 keys, every weight printed).</summary>
    [Fact]
    public void AttentionProbe_DimsEveryKeyByItsWeight_AndTheAKeyHidesTheSpotlight()
    {
        string dir = TempDir();
        WindowProcess.Result Shot(string name, params string[] extra)
        {
            WindowProcess.Result r = Run(["--size", "320x240", "--source", "scene:128x72", "--frames", "3", "--stack", "attention", "--probe", "4,3",
                "--screenshot", Path.Combine(dir, name), .. extra]);
            Assert.True(r.ExitCode == 0, r.ToString());
            return r;
        }
        WindowProcess.Result lit = Shot("lit.png"), plain = Shot("plain.png", "--keys", "a");
        string windowLine = lit.Stdout.Split('\n').Single(l => l.StartsWith("probe window=", StringComparison.Ordinal));
        float[] w = windowLine["probe window=".Length..].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(144, w.Length);
        Assert.Equal(1.0, w.Sum(v => (double)v), 4);
        Assert.Equal(windowLine, plain.Stdout.Split('\n').Single(l => l.StartsWith("probe window=", StringComparison.Ordinal)));
        // The probe line names its extra number for what it is: the largest logit, not a "bias".
        string probeLine = lit.Stdout.Split('\n').Single(l => l.StartsWith("probe layer=", StringComparison.Ordinal));
        Assert.Matches(@" max_logit=[-0-9.eE+]+ kind=attention$", probeLine);
        Assert.DoesNotContain(" bias=", probeLine);
        Area map = Area.Of(lit, "view");
        Assert.Equal(map, Area.Of(plain, "view"));
        var a = new Picture(Path.Combine(dir, "lit.png"));
        var b = new Picture(Path.Combine(dir, "plain.png"));
        float max = w.Max();
        int checkedKeys = 0, dimmed = 0;
        for (int j = 0; j < w.Length; j++)
        {
            (int ky, int kx) = (j / 16, j % 16);
            // The pixel at the key's centre; the probe's marker (three map pixels around (4, 3)) is drawn over both.
            if (Math.Abs(kx - 4) <= 2 && Math.Abs(ky - 3) <= 2) continue;
            int px = map.X + (int)((kx + 0.5) * map.W / 16), py = map.Y + (int)((ky + 0.5) * map.H / 9);
            int i = 4 * (py * a.Width + px);
            double keep = 1 - Math.Round(255 * 0.8 * (1 - w[j] / max)) / 255;
            for (int c = 0; c < 3; c++)
                Assert.True(Math.Abs(a.Rgba[i + c] - b.Rgba[i + c] * keep) <= 1.5,
                    $"key (x {kx}, y {ky}) w {w[j]} (max {max}) channel {c}: {a.Rgba[i + c]} with the spotlight, {b.Rgba[i + c]} without");
            checkedKeys++;
            if (keep < 0.5 && b.Rgba[i] + b.Rgba[i + 1] + b.Rgba[i + 2] > 60) dimmed++;
        }
        Assert.Equal(144 - 25, checkedKeys);
        Assert.True(dimmed > 20, $"only {dimmed} keys visibly dimmed");
    }
}

/// <summary>Image and video files as sources (a camera cannot be assumed in CI; its absence is a bad-option case).</summary>
[Collection("window")]
public sealed class FileSourceTests(DisplayFixture display)
{
    private static string Dir()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"convgl-app-tests-{Environment.ProcessId}", "sources");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A generated test card: a bright square on a horizontal ramp (no third-party pictures).</summary>
    private static byte[] Card(int w, int h, int frame)
    {
        byte[] bgr = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                bool square = x >= 10 + frame * 3 && x < 40 + frame * 3 && y >= 20 && y < 50;
                byte v = square ? (byte)250 : (byte)(x * 200 / w);
                int i = (y * w + x) * 3;
                (bgr[i], bgr[i + 1], bgr[i + 2]) = (v, (byte)(square ? 60 : v), (byte)(255 - v));
            }
        return bgr;
    }

    [Fact]
    public void ImageFile_IsFiltered_AndTheProbeSeesItsPixels()
    {
        string png = Path.Combine(Dir(), "card.png");
        byte[] bgr = Card(96, 64, 0);
        var t = Tensor.Chw(3, 64, 96);
        for (int i = 0; i < 96 * 64; i++)
            for (int c = 0; c < 3; c++) t.Data[c * 96 * 64 + i] = bgr[3 * i + 2 - c] / 255f;
        ImageIO.SavePng(png, t);
        Tensor reference = Conv2D.Filter(t, KernelLibrary.Get("sobel-x"), ConvOptions.ImageFilter);
        string shot = Path.Combine(Dir(), "card-shot.png");
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--source", png, "--filter", "sobel-x", "--size", "240x160", "--frames", "2", "--probe", "10,30;39,30", "--screenshot", shot]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(File.Exists(shot), $"no screenshot: {r}");
        double[] gpu = r.Stdout.Split('\n').Where(l => l.StartsWith("probe layer=", StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(' ').Single(f => f.StartsWith("gpu=", StringComparison.Ordinal))[4..], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(2, gpu.Length);
        Assert.True(Math.Abs(gpu[0] - reference[0, 30, 10]) < 1e-4 && Math.Abs(gpu[1] - reference[0, 30, 39]) < 1e-4,
            $"probe on the square's edges: GPU {gpu[0]}, {gpu[1]}; CPU {reference[0, 30, 10]}, {reference[0, 30, 39]}");
        Assert.True(Math.Abs(reference[0, 30, 10]) > 0.5, "the test card should have a strong edge at x 10");
    }

    [Fact]
    public void ImageLargerThanFullHd_IsScaledDown_AndFullSizeNamesTheSizeThatFitsWhereTheDriverCannotHoldIt()
    {
        // 2400 x 1800: over 1920 x 1080, and the learned stack's 8 full-size maps (138 MB) are more than llvmpipe's
        // 128 MiB storage blocks hold.
        string png = Path.Combine(Dir(), "big.png");
        var t = Tensor.Chw(3, 1800, 2400);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (i % 2400 / 37 + i / 2400 % 1800 / 29) % 2 * 0.8f + 0.1f;
        ImageIO.SavePng(png, t);

        WindowProcess.Result scaled = WindowProcess.Run(WindowProcess.Require(display),
            ["--source", png, "--filter", "sobel-x", "--size", "240x160", "--frames", "2", "--probe", "10,10"]);
        Assert.True(scaled.ExitCode == 0, scaled.ToString());
        Assert.Contains("shape=3x1080x1440", scaled.Stdout);

        WindowProcess.Result boxed = WindowProcess.Run(WindowProcess.Require(display),
            ["--source", png, "--source-max", "600x600", "--filter", "sobel-x", "--size", "240x160", "--frames", "2", "--probe", "10,10"]);
        Assert.True(boxed.ExitCode == 0, boxed.ToString());
        Assert.Contains("shape=3x450x600", boxed.Stdout);

        string[] full = ["--source", png, "--source-max", "full", "--stack", "learned", "--layer", "1", "--size", "240x160", "--frames", "2", "--probe", "10,10"];
        WindowProcess.Result own = WindowProcess.Run(WindowProcess.Require(display), full);
        if (own.ExitCode == 0)
        {
            // A driver whose storage blocks hold 138 MB (a real GPU's do).
            Assert.Contains("shape=8x1800x2400", own.Stdout);
            return;
        }
        Assert.True(own.ExitCode == 1 && own.Stderr.TrimEnd('\n').Split('\n').Length == 1, own.ToString());
        System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(own.Stderr, @"the source's frames are 2400x1800: frames of \d+x\d+ fit \(--source-max (\d+x\d+) for a picture, video or camera; --source scene:\d+x\d+ for the scene\)");
        Assert.True(m.Success, own.ToString());
        full[3] = m.Groups[1].Value; // the size it named runs
        WindowProcess.Result named = WindowProcess.Run(WindowProcess.Require(display), full);
        Assert.True(named.ExitCode == 0, named.ToString());
        Assert.Contains("shape=8x", named.Stdout);
    }

    [Fact]
    public void DroppingAFile_SwitchesTheSource_AndAnUnreadableOneIsTheScriptedRunsError()
    {
        string png = Path.Combine(Dir(), "dropped.png");
        var t = Tensor.Chw(3, 40, 60);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (i % 60) / 59f; // a ramp: sobel-x sees a constant slope
        ImageIO.SavePng(png, t);
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--size", "160x120", "--source", "scene:160x90", "--filter", "sobel-x", "--frames", "2", "--drop", png, "--probe", "30,20"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("shape=3x40x60", r.Stdout);

        string junk = Path.Combine(Dir(), "notes.txt");
        File.WriteAllText(junk, "not a picture");
        string shot = Path.Combine(Dir(), "after-drop.png");
        // In the window the file's error is a message and the source stays; a scripted run ends with it as its error,
        // exit 2 (it exited 0: a CI script could not tell), and writes no screenshot of the source it did not switch to.
        WindowProcess.Result bad = WindowProcess.Run(WindowProcess.Require(display),
            ["--size", "160x120", "--source", "scene:160x90", "--filter", "sobel-x", "--frames", "2", "--drop", junk, "--probe", "30,20", "--screenshot", shot]);
        Assert.True(bad.ExitCode == 2, bad.ToString());
        Assert.Contains("convgl: --drop: ", bad.Stderr);
        Assert.Single(bad.Stderr.Split('\n'), l => l.Contains("notes.txt", StringComparison.Ordinal)); // said once
        Assert.Contains("notes.txt", bad.Stderr);
        Assert.False(File.Exists(shot));
        // Found before the window opened, as a bad --source is (it was found after the first frame).
        Assert.DoesNotContain("first frame shown", bad.Stderr);
        Assert.Single(bad.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>The live-window audit: a dropped 50x1 picture the deep stack cannot fit (its 2x2 max pool has no output
    /// row) was told the layer but not the sizes it runs at, which the same picture as --source is told.</summary>
    [Fact]
    public void DroppedPictureTheStackCannotFit_IsToldTheNearestSizes_AsAsSource()
    {
        string png = Path.Combine(Dir(), "thin.png");
        var t = Tensor.Chw(3, 1, 50);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (i % 50) / 49f;
        ImageIO.SavePng(png, t);
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--size", "240x160", "--source", "scene:160x90", "--stack", "deep", "--frames", "3", "--drop", png]);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("does not fit its 50x1 input", r.Stderr);
        Assert.Contains("the nearest sizes it runs at: height 4 instead of 1, width 50 is fine (e.g. --source scene:50x4, or a picture of that size)", r.Stderr);
    }

    [Fact]
    public void VideoLargerThanTheBox_IsScaledDownEveryFrame()
    {
        string avi = CardVideo("wide.avi", 960, 540, 4);
        // A 320x320 box: the 16:9 frames are shown at 320x180, each one shrunk as it is read.
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--source", avi, "--source-max", "320x320", "--filter", "sobel-x", "--size", "240x160", "--frames", "6", "--probe", "10,10"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("shape=3x180x320", r.Stdout);
        Assert.DoesNotContain("ended", r.Stderr);
    }

    /// <summary>An MJPG .avi of <paramref name="frames"/> test cards (<see cref="Card"/>), w x h, 25 fps.</summary>
    private static string CardVideo(string name, int w, int h, int frames)
    {
        string avi = Path.Combine(Dir(), name);
        using var writer = new OpenCvSharp.VideoWriter(avi, OpenCvSharp.FourCC.MJPG, 25, new OpenCvSharp.Size(w, h));
        Assert.True(writer.IsOpened(), "OpenCV could not open an MJPG writer");
        for (int f = 0; f < frames; f++)
        {
            using var mat = OpenCvSharp.Mat.FromPixelData(h, w, OpenCvSharp.MatType.CV_8UC3, Card(w, h, f));
            writer.Write(mat);
        }
        return avi;
    }

    /// <summary>On a software rasteriser (llvmpipe, here) a video larger than 960x540 is shown at 960x540 unless
    /// --source-max is given, and stderr says so once; given, the frames keep the size asked for.</summary>
    [Fact]
    public void Video_OnASoftwareRasteriser_IsShownAt960x540_UnlessSourceMaxIsGiven()
    {
        string avi = CardVideo("hd.avi", 1280, 720, 3);
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--source", avi, "--filter", "box:1", "--size", "240x160", "--frames", "4", "--probe", "10,10"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("shape=3x540x960", r.Stdout);
        Assert.Single(r.Stderr.Split('\n'), l => l.Contains("frames shown at 960x540 rather than 1280x720 on a software rasteriser", StringComparison.Ordinal));
        Assert.Contains("--source-max 1280x720 keeps 1280x720", r.Stderr);
        // Given, even as the default's own size: the whole 1280x720, and nothing said.
        r = WindowProcess.Run(WindowProcess.Require(display),
            ["--source", avi, "--source-max", "1920x1080", "--filter", "box:1", "--size", "240x160", "--frames", "4", "--probe", "10,10"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("shape=3x720x1280", r.Stdout);
        Assert.DoesNotContain("software rasteriser", r.Stderr);
        // A stack too large for the shown frames names their shown size (the review: it named the 1280x720 the first
        // opening had, and the size it suggested failed again).
        string stack = Path.Combine(Dir(), "up12.json");
        File.WriteAllText(stack, """{"input":"gray","layers":[{"type":"conv","kernels":["box:3","box:5","box:7","box:9"]},{"type":"resize","scale":12}]}""");
        r = WindowProcess.Run(WindowProcess.Require(display), ["--source", avi, "--stack", stack, "--size", "240x160", "--frames", "2"]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("the source's frames are 960x540: frames of ", r.Stderr);
    }

    /// <summary>A wide, low window (1900x300): the probe strip under the picture took 57 of its 300 rows for text a third
    /// of its width holds, and the picture was 432x243. The strip stands at the foot of the side column there (the
    /// probe's rows unwrapped), and the picture takes the whole height; a usual window keeps the strip under the picture.</summary>
    [Fact]
    public void WideLowWindow_ProbeStripStandsInTheColumn_PictureTakesTheWholeHeight()
    {
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--source", "scene:640x360", "--stack", "edges", "--layer", "1", "--size", "1900x300", "--frames", "2", "--probe", "100,100"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Area picture = Area.Of(r), side = Area.Of(r, "side"), bottom = Area.Of(r, "bottom"), column = Area.Of(r, "column");
        Assert.Equal(300, picture.H);
        Assert.True(Area.Of(r, "view").W >= 530, r.Stdout);
        Assert.Equal(side.X, bottom.X);
        Assert.Equal(side.W, bottom.W);
        Assert.Equal(300, bottom.Y + bottom.H);
        Assert.True(column.Y + column.H <= bottom.Y, $"the column's panels run into the strip: {r.Stdout}");
        Assert.Equal(0, picture.Intersect(bottom).W * picture.Intersect(bottom).H);

        WindowProcess.Result usual = WindowProcess.Run(WindowProcess.Require(display),
            ["--source", "scene:640x360", "--stack", "edges", "--layer", "1", "--size", "1280x720", "--frames", "2", "--probe", "100,100"]);
        Assert.True(usual.ExitCode == 0, usual.ToString());
        Assert.Equal(new Area(0, Area.Of(usual).H, 1280, 720 - Area.Of(usual).H), Area.Of(usual, "bottom"));

        // From a layout audit (helper): a passing message (v's "vsync off") moved everything for its 4 s; hiding the panels
        // (i) made the picture smaller than with them; a 15x15 kernel showed 3 of its 7 columns in the column's strip.
        foreach (string keys in new[] { "v", "i" })
        {
            WindowProcess.Result k = WindowProcess.Run(WindowProcess.Require(display),
                ["--source", "scene:640x360", "--stack", "edges", "--layer", "1", "--size", "1900x300", "--frames", "2", "--probe", "100,100", "--keys", keys]);
            Assert.True(k.ExitCode == 0, k.ToString());
            Assert.True(Area.Of(k).H == 300 && Area.Of(k, "view").W >= 530, $"--keys {keys}: {k.Stdout}");
        }
        // A conv layer of a stack whose layer lines are elided in that column either way (learned, deep: 7 and 9 layers)
        // gets the strip there too: its panels keep the room they had beside the strip under the picture (it stayed
        // under: 354x199).
        // A relu's or pool's rule written out wraps to more lines in the column: the strip is taller there (it stayed
        // under the picture, 432x243 and 354x199).
        foreach ((string stack, string layer) in new[] { ("learned", "1"), ("deep", "7"), ("learned", "2"), ("learned", "3") })
        {
            WindowProcess.Result many = WindowProcess.Run(WindowProcess.Require(display),
                ["--source", "scene:640x360", "--stack", stack, "--layer", layer, "--size", "1900x300", "--frames", "2", "--probe", "100,100"]);
            Assert.True(many.ExitCode == 0, many.ToString());
            Assert.True(Area.Of(many).H == 300 && Area.Of(many, "view").W >= 530, $"{stack}: {many.Stdout}");
            Area manyColumn = Area.Of(many, "column"), manyBottom = Area.Of(many, "bottom");
            Assert.True(manyColumn.Y + manyColumn.H <= manyBottom.Y && manyBottom.X == Area.Of(many, "side").X, $"{stack}: {many.Stdout}");
        }
        WindowProcess.Result gabor = WindowProcess.Run(WindowProcess.Require(display),
            ["--source", "scene:640x360", "--stack", "gabor", "--layer", "1", "--size", "1900x500", "--frames", "2", "--probe", "320,180"]);
        Assert.True(gabor.ExitCode == 0, gabor.ToString());
        Assert.Equal(1900, Area.Of(gabor, "bottom").W);
    }

    /// <summary>The live-window audit: a probed sum past float32's range (weights of 3e38 on pixels of ~0.25) said
    /// gpu=Infinity cpu=1.75e39: the CPU value was the double sum, where the CPU reference stores float32's infinity.</summary>
    [Fact]
    public void ProbedSumPastFloat32_CpuSaysInfinity_AsTheGpuAndTheReference()
    {
        string kernel = Path.Combine(Dir(), "huge.txt");
        File.WriteAllText(kernel, "3e38 3e38 3e38\n3e38 3e38 3e38\n3e38 3e38 3e38\n");
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--source", "scene:160x90", "--filter", kernel, "--size", "240x160", "--frames", "2", "--probe", "40,40"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        string line = r.Stdout.Split('\n').Single(l => l.StartsWith("probe layer=", StringComparison.Ordinal));
        Assert.Contains(" gpu=Infinity cpu=Infinity ", line);
    }

    /// <summary>The live-window audit: an MJPEG AVI cut inside its first frame opened, FFmpeg's decoder drew that frame
    /// half grey, and the video played as that still. The first frame's chunk is checked before OpenCV opens the file:
    /// cut short (its chunk promises more bytes than the file has), or whole but with its JPEG data cut (the chunk's
    /// length rewritten to match), it is one error line and exit 2; the whole file plays.</summary>
    [Fact]
    public void AviCutInsideItsFirstFrame_IsRefused_AsACutPictureIs()
    {
        string avi = Path.Combine(Dir(), "whole.avi");
        using (var writer = new OpenCvSharp.VideoWriter(avi, OpenCvSharp.FourCC.MJPG, 10, new OpenCvSharp.Size(64, 48)))
        {
            Assert.True(writer.IsOpened(), "OpenCV could not open an MJPG writer");
            var rng = new Random(3);
            for (int f = 0; f < 4; f++)
            {
                using var frame = new OpenCvSharp.Mat(48, 64, OpenCvSharp.MatType.CV_8UC3);
                var noise = new byte[48 * 64 * 3];
                rng.NextBytes(noise);
                System.Runtime.InteropServices.Marshal.Copy(noise, 0, frame.Data, noise.Length);
                writer.Write(frame);
            }
        }
        byte[] b = File.ReadAllBytes(avi);
        int movi = b.AsSpan().IndexOf("movi"u8), first = movi + b.AsSpan(movi).IndexOf("00dc"u8);
        int size = BitConverter.ToInt32(b, first + 4);
        Assert.True(movi > 0 && size > 1000, $"movi at {movi}, first frame {size} bytes");
        string cut = Path.Combine(Dir(), "cut.avi");
        File.WriteAllBytes(cut, b[..(first + 8 + size / 2)]);
        byte[] shortened = b[..(first + 8 + size / 2)];
        BitConverter.GetBytes(size / 2).CopyTo(shortened, first + 4);
        string cutJpeg = Path.Combine(Dir(), "cut-jpeg.avi");
        File.WriteAllBytes(cutJpeg, shortened);

        WindowProcess.Result whole = WindowProcess.Run(WindowProcess.Require(display), ["--source", avi, "--filter", "box:1", "--size", "240x160", "--frames", "2"]);
        Assert.True(whole.ExitCode == 0, whole.ToString());
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display), ["--source", cut, "--filter", "box:1", "--size", "240x160", "--frames", "2"]);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Equal($"convgl: source '{cut}': its first video frame needs {size} bytes from byte {first + 8}, the file ends {size / 2} bytes into it (a truncated file)",
            r.Stderr.Trim());
        WindowProcess.Result j = WindowProcess.Run(WindowProcess.Require(display), ["--source", cutJpeg, "--filter", "box:1", "--size", "240x160", "--frames", "2"]);
        Assert.True(j.ExitCode == 2, j.ToString());
        Assert.Matches(@"^convgl: source '.*cut-jpeg\.avi': its first video frame \(a 64x48 JPEG picture\) holds data for only \d+(\.\d)?% of its blocks \(a damaged or truncated file\)$", j.Stderr.Trim());
    }

    /// <summary>The helper audit of 2026-12-05: a video opened on its 3rd to 5th frame (the file was paced from the moment
    /// it opened, while the window was still being made), and files of 1 fps or less, or of 240, played at 30 fps. Each
    /// frame here is one grey level, 10 + 20 f, so the probe says which frame is shown.</summary>
    [Fact]
    public void VideoFile_OpensOnItsFirstFrame_AndPlaysAtItsOwnRate_Even1FpsOrLess()
    {
        int Shown(string avi, int frames)
        {
            WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
                ["--source", avi, "--filter", "box:1", "--size", "240x160", "--frames", frames.ToString(CultureInfo.InvariantCulture), "--probe", "10,10"]);
            Assert.True(r.ExitCode == 0, r.ToString());
            string cpu = r.Stdout.Split('\n').Single(l => l.StartsWith("probe layer=", StringComparison.Ordinal)).Split(' ').Single(f => f.StartsWith("cpu=", StringComparison.Ordinal))[4..];
            return (int)Math.Round((double.Parse(cpu, CultureInfo.InvariantCulture) * 255 - 10) / 20);
        }
        string Clip(string name, double fps)
        {
            string avi = Path.Combine(Dir(), name);
            using var writer = new OpenCvSharp.VideoWriter(avi, OpenCvSharp.FourCC.MJPG, fps, new OpenCvSharp.Size(32, 24));
            Assert.True(writer.IsOpened(), "OpenCV could not open an MJPG writer");
            for (int f = 0; f < 12; f++)
            {
                using var mat = new OpenCvSharp.Mat(24, 32, OpenCvSharp.MatType.CV_8UC3, OpenCvSharp.Scalar.All(10 + 20 * f));
                writer.Write(mat);
            }
            return avi;
        }
        Assert.Equal(0, Shown(Clip("grey25.avi", 25), 1));
        // Half a frame a second: the next frame is due 2 s after the first was shown; 10 frames take well under that
        // (at the 30 fps it was played at, they reached frame 5 and more).
        Assert.InRange(Shown(Clip("grey05.avi", 0.5), 10), 0, 1);
        Assert.Equal(2.0, VideoSource.PlaybackSeconds(0.5, file: true), 9);
        Assert.Equal(1.0, VideoSource.PlaybackSeconds(1, file: true), 9);
        Assert.Equal(1 / 240.0, VideoSource.PlaybackSeconds(240, file: true), 9);
        Assert.Equal(1 / 30.0, VideoSource.PlaybackSeconds(0, file: true), 9);       // no rate in the container
        Assert.Equal(1 / 30.0, VideoSource.PlaybackSeconds(double.NaN, file: true), 9);
        Assert.Equal(1 / 30.0, VideoSource.PlaybackSeconds(90_000, file: true), 9);  // a time base, not a rate
        Assert.Equal(0, VideoSource.PlaybackSeconds(30, file: false));                // a camera paces itself
    }

    /// <summary>The camera's read path, with a file standing in for the device (no camera here): frames are read as fast
    /// as they come (a camera paces itself), in order, scaled into the box the camera was given, never rewound; when the
    /// stream stops (a camera unplugged) the source says so once, for the HUD, and hands out no more frames.</summary>
    [Fact]
    public void CameraReadPath_ReadsUnpaced_InOrder_AndSaysWhenTheDeviceStops()
    {
        string avi = CardVideo("camera.avi", 320, 240, 8);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using IFrameSource camera = VideoSource.OpenAsCamera(avi, new SourceFit(160, 160));
        Assert.Equal("camera camera.avi (320x240, scaled)", camera.Name);
        Assert.Equal((160, 120), (camera.Width, camera.Height));
        // The card's square moves 3 pixels right a frame (1.5 once scaled): where it starts on row 17 says which frame.
        static int SquareX(byte[] rgba, int w)
        {
            for (int x = 0; x < w; x++)
                if (rgba[(17 * w + x) * 4 + 2] - rgba[(17 * w + x) * 4 + 1] > 100) return x;
            return -1;
        }
        var squares = new List<int>();
        while (camera.Error is null)
        {
            if (camera.TakeFrame(0) is { } f) squares.Add(SquareX(f, camera.Width));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the stream never ended");
            Thread.Sleep(1);
        }
        if (camera.TakeFrame(0) is { } last) squares.Add(SquareX(last, camera.Width));
        Assert.Null(camera.TakeFrame(0));
        Assert.Equal("camera camera.avi (320x240, scaled): the device stopped delivering frames (unplugged, or taken by another program?)", camera.Error);
        // Frames may be taken fewer than read (the newest wins), never out of order or twice, and the probe frame (frame
        // 0, square at 5) is not shown: the last taken is the file's last frame (square at 5 + 1.5 * 7, 15 or 16).
        Assert.NotEmpty(squares);
        Assert.True(squares.Count <= 7, $"{squares.Count} frames from 7");
        Assert.True(squares.Zip(squares.Skip(1)).All(p => p.First < p.Second), string.Join(",", squares));
        Assert.InRange(squares[0], 6, 16);
        Assert.InRange(squares[^1], 15, 16);
    }

    [Fact]
    public void VideoFile_Loops_AndRenders()
    {
        string avi = Path.Combine(Dir(), "clip.avi");
        using (var writer = new OpenCvSharp.VideoWriter(avi, OpenCvSharp.FourCC.MJPG, 25, new OpenCvSharp.Size(96, 64)))
        {
            Assert.True(writer.IsOpened(), "OpenCV could not open an MJPG writer");
            for (int f = 0; f < 8; f++)
            {
                using var mat = OpenCvSharp.Mat.FromPixelData(64, 96, OpenCvSharp.MatType.CV_8UC3, Card(96, 64, f));
                writer.Write(mat);
            }
        }
        string shot = Path.Combine(Dir(), "clip-shot.png");
        // 40 frames at up to 60 fps outlast the 8-frame clip at 25 fps: the source must loop, not end.
        WindowProcess.Result r = WindowProcess.Run(WindowProcess.Require(display),
            ["--source", avi, "--filter", "gaussian:5,1", "--view", "split", "--size", "240x160", "--frames", "40", "--screenshot", shot]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("ended", r.Stderr);
        var p = new Picture(shot);
        Assert.True(p.Contrast(Area.Of(r)) > 8, $"video screenshot looks blank (contrast {p.Contrast(Area.Of(r)):0.0} in {Area.Of(r)})");
    }
}
