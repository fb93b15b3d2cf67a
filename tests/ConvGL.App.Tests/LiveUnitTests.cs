using ConvGL.App.Glfw;
using ConvGL.App.Live;
using ConvGL.App.Sources;
using ConvGL.Core;

namespace ConvGL.App.Tests;

/// <summary>The window's pieces that need no display: the frame handover, key parsing, layout.</summary>
public sealed class LiveUnitTests
{
    /// <summary>A first run that froze the window for seconds (llvmpipe compiling a stack's literal-weight programs: the
    /// deep stack ~8 s on a fresh machine) is explained once; a quick one says nothing.</summary>
    [Fact]
    public void SlowFirstRun_IsExplained_OnlyWhenItTookSeconds()
    {
        Assert.Null(LivePipelines.SlowFirstRun(1499, software: true));
        Assert.Equal("the first run took 8.2 s: llvmpipe compiled its programs (weights compiled in take longest); Mesa keeps them on disk, so next time it starts at once",
            LivePipelines.SlowFirstRun(8210, software: true));
        Assert.Equal("the first run took 1.5 s: the driver compiled its programs; they are cached for next time", LivePipelines.SlowFirstRun(1500, software: false));
        Assert.StartsWith("the first run took 3.0 s: the driver compiled the programs each conv layer could run and each was timed, a clearly faster one kept (CONVGL_TUNE=0",
            LivePipelines.SlowFirstRun(3000, software: false, tuned: true));
    }

    /// <summary>Programs built ahead: what the window says when they are ready, with the seconds since they began (one
    /// decimal, invariant culture).</summary>
    [Fact]
    public void BuiltAhead_SaysTheSecondsItTook()
    {
        Assert.Equal("faster programs ready (5.7 s to compile; Mesa keeps them on disk: next time at once)", LivePipelines.BuiltAhead(5.71));
        Assert.Equal("faster programs ready (0.0 s to compile; Mesa keeps them on disk: next time at once)", LivePipelines.BuiltAhead(0.04));
    }

    [Fact]
    public void FrameExchange_HandsOverTheNewestFrame_Once_AndNeverTheBufferBeingWritten()
    {
        var x = new FrameExchange(2, 1);
        Assert.Null(x.TakeLatest());
        x.Back[0] = 1;
        x.Publish();
        x.Back[0] = 2;
        x.Publish(); // the consumer was slow: frame 1 is dropped, frame 2 is the newest
        byte[]? taken = x.TakeLatest();
        Assert.NotNull(taken);
        Assert.Equal(2, taken[0]);
        Assert.Null(x.TakeLatest());
        Assert.NotSame(taken, x.Back);
        x.Back[0] = 3;
        Assert.Equal(2, taken[0]); // writing the next frame leaves the taken one alone
        x.Publish();
        byte[]? next = x.TakeLatest();
        Assert.Equal(3, next![0]);
        Assert.NotSame(next, x.Back);
    }

    [Fact]
    public void FrameExchange_UnderAProducerThread_DeliversIncreasingFramesWithoutTearing()
    {
        var x = new FrameExchange(64, 64);
        int n = x.Back.Length;
        var producer = new Thread(() =>
        {
            for (int f = 1; f <= 2000; f++)
            {
                Array.Fill(x.Back, (byte)(f % 251));
                x.Back[0] = (byte)(f >> 8);
                x.Back[1] = (byte)f;
                x.Publish();
            }
        });
        producer.Start();
        int last = 0, seen = 0;
        while (producer.IsAlive || seen == 0)
        {
            byte[]? frame = x.TakeLatest();
            if (frame is null) continue;
            int f = frame[0] << 8 | frame[1];
            Assert.True(f > last, $"frame {f} after {last}: frames must only move forward");
            byte fill = (byte)(f % 251);
            for (int i = 2; i < n; i++) Assert.True(frame[i] == fill, $"frame {f} torn at byte {i}");
            last = f;
            seen++;
        }
        producer.Join();
        Assert.True(seen > 0);
    }

    [Fact]
    public void EveryKeyNameInTheHelp_ParsesToABinding()
    {
        string[] names = ["1", "9", "[", "]", ",", ".", "f", "F", "s", "c", "b", "+", "-", "d", "tab", "shift+tab", "o", "l", "g", "w", "space", "p", "v", "r", "i", "h", "f1", "esc"];
        foreach (string name in names)
        {
            (Key key, KeyMods mods) = Controls.Parse(name);
            Assert.True(Controls.All.Any(c => c.Matches(key, mods)), $"key '{name}' ({key}, {mods}) has no binding");
        }
        Assert.Equal((Key.F, KeyMods.Shift), Controls.Parse("F"));
        Assert.Throws<ConvGLException>(() => Controls.Parse("ctrl+x"));
        Assert.All(Controls.All, c => Assert.False(string.IsNullOrWhiteSpace(c.Description), $"{c.Keys} has no description"));
    }

    [Fact]
    public void Fit_Letterboxes_KeepingTheAspectRatio()
    {
        var area = new PixelRect(0, 0, 800, 400);
        PixelRect r = area.Fit(640, 360);
        Assert.Equal(400, r.Height, 3);
        Assert.Equal(400 * 640 / 360.0, r.Width, 3);
        Assert.Equal((800 - r.Width) / 2, r.X, 3);
        Assert.Equal(0, r.Y, 3);
    }

    [Theory]
    [InlineData(640, 360)]
    [InlineData(512, 512)]
    [InlineData(1280, 720)]
    [InlineData(320, 180)]
    public void Scene_BottomLabel_EndsInsideThePicture(int w, int h)
    {
        // The label is (255, 255, 210): the only blue above 150 in the bottom rows (the gradient there has blue <= 110,
        // the star 90). Its pixels must exist, and none may touch the last 1.5% of the columns (it used to run off the
        // edge as "...symmetric wra": hinting rounds a monospace advance to whole pixels, so scaling the font by the
        // measured overshoot did not make it narrower).
        using var scene = new SceneSource(w, h, synchronous: true);
        byte[] rgba = new byte[w * h * 4];
        scene.Render(0, rgba);
        int inside = 0, edge = 0;
        for (int y = (int)(0.9 * h); y < h; y++)
            for (int x = (int)(0.36 * w); x < w; x++)
                if (rgba[4 * (y * w + x) + 2] > 150)
                {
                    if (x >= 0.985 * w) edge++;
                    else inside++;
                }
        Assert.True(inside > 100, $"{w}x{h}: the label drew {inside} pixels");
        Assert.True(edge == 0, $"{w}x{h}: {edge} label pixels within 1.5% of the right edge");
    }

    /// <summary>The UX audit: a portrait scene (360x640) scaled its shapes by its height alone, 1.8 times too large for
    /// its width, so they piled on each other. They scale by the smaller side against the 640x360 design: the red square
    /// covers no more of a portrait frame than of the landscape one of the same area.</summary>
    [Fact]
    public void Scene_ShapesScaleByTheSmallerSide()
    {
        Assert.Equal(1f, SceneSource.Scale(640, 360));
        Assert.Equal(0.5625f, SceneSource.Scale(360, 640));
        Assert.Equal(1f, SceneSource.Scale(1280, 360)); // a panorama: by its height
        int Red(int w, int h)
        {
            using var scene = new SceneSource(w, h, synchronous: true);
            byte[] rgba = new byte[w * h * 4];
            scene.Render(0, rgba);
            int n = 0;
            for (int i = 0; i < w * h; i++)
                if (rgba[4 * i] > 200 && rgba[4 * i + 1] < 90 && rgba[4 * i + 2] < 90) n++;
            return n;
        }
        int landscape = Red(640, 360), portrait = Red(360, 640);
        Assert.True(landscape > 5000, $"the red square drew {landscape} pixels at 640x360");
        Assert.True(portrait <= landscape, $"the red square drew {portrait} pixels at 360x640, {landscape} at 640x360");
    }

    [Fact]
    public void Scene_IsAPureFunctionOfTime()
    {
        using var a = new SceneSource(96, 64, synchronous: true);
        using var b = new SceneSource(96, 64, synchronous: true);
        byte[] x = new byte[96 * 64 * 4], y = new byte[96 * 64 * 4], z = new byte[96 * 64 * 4];
        a.Render(1.5, x);
        b.Render(1.5, y);
        b.Render(2.5, z);
        Assert.Equal(x, y);
        Assert.NotEqual(x, z);
    }
}
