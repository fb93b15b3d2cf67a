using System.Numerics;
using ConvGL.App.Live;
using ConvGL.App.Live.Views;
using ConvGL.Core;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Gpu;
using ConvGL.Gpu.Present;

namespace ConvGL.App.Tests;

/// <summary>What the views draw and say against what the math says, on hand-checked numbers: where a profile puts an
/// output sample on its input, the filters view's kernel pictures as applied, summed banks' map names, the theorem
/// view's labels for layers with several input maps and a bias, the kernel panel's input map number in a grouped layer.
/// (A math-truth audit of 2026-12-05 found each of these wrong.)</summary>
public sealed class ViewMathTests
{
    private static ConvView Conv(int kh, int kw, ConvOptions o, int outC = 1, int inC = 1) =>
        new(new Tensor([outC, inC, kh, kw]), null, o);

    /// <summary>A review: every three-map output was drawn as one RGB picture, three unrelated maps too. Only maps that are
    /// the RGB input's colours, each carried on its own, are: through a depthwise blur, an activation and attention's
    /// values; not a bank of three kernels summed over the colours, what a pool makes of it, or three maps of a gray image.</summary>
    [Fact]
    public void ColourPicture_OnlyForTheImagesOwnColoursCarriedApart()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        string dir = Directory.CreateTempSubdirectory("convgl-viewmath-").FullName;
        try
        {
            string rgb = Path.Combine(dir, "rgb.json"), gray = Path.Combine(dir, "gray.json");
            File.WriteAllText(rgb, """
                { "name": "rgb", "input": "rgb", "layers": [
                  { "type": "conv", "name": "blur", "kernels": ["gaussian:5"], "border": "reflect" },
                  { "type": "relu" },
                  { "type": "conv", "name": "bank", "kernels": ["sobel-x", "sobel-y", "box:3"], "sum": true, "border": "reflect" },
                  { "type": "maxpool", "size": 2 },
                  { "type": "attention", "inputs": ["bank", "bank", "blur"], "scale": 0.5 } ] }
                """);
            File.WriteAllText(gray, """
                { "name": "gray", "input": "gray", "layers": [
                  { "type": "conv", "kernels": ["sobel-x", "sobel-y", "box:3"], "border": "reflect" },
                  { "type": "abs" } ] }
                """);
            using GlContext context = GlContext.CreateHeadless();
            using (var p = new StackPipeline(context, rgb, (12, 16)))
            {
                Assert.Equal([3, 3, 3, 3, 3], Enumerable.Range(0, 5).Select(p.OutputChannels));
                Assert.Equal([true, true, false, false, true], Enumerable.Range(0, 5).Select(i => ViewContext.IsColourPicture(p, i)));
            }
            using (var p = new StackPipeline(context, gray, (12, 16)))
                Assert.Equal([false, false], Enumerable.Range(0, 2).Select(i => ViewContext.IsColourPicture(p, i)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ProfileAxes_PutEachOutputSampleAtItsWindowsCentre()
    {
        // identity:41 with valid padding: out[x] = in[x + 20], so output 0 sits on input 20 and the steps are 1.
        (ProfileAxis y, ProfileAxis x) = ProfileView.Axes(Conv(41, 41, new ConvOptions { Padding = PaddingMode.Valid }), null, 120, 160, 80, 120);
        Assert.Equal((20.0, 1.0), (x.Offset, x.Step));
        Assert.Equal(20, y.InputIndex(0, 120));
        Assert.Equal(99, y.InputIndex(79, 120));
        // 3x3, same padding (1 before), stride 2: output o reads 2o - 1 .. 2o + 1, centred on 2o.
        (_, x) = ProfileView.Axes(Conv(3, 3, new ConvOptions { StrideY = 2, StrideX = 2 }), null, 10, 10, 5, 5);
        Assert.Equal((0.0, 2.0), (x.Offset, x.Step));
        // Dilation 2, stride 3 on x only, explicit pads (top 1, left 2): taps at 3o - 2 + 2j, j = 0..2: centre 3o.
        var o = new ConvOptions { Padding = PaddingMode.Explicit, PadY = 1, PadX = 2, StrideX = 3, DilationX = 2 };
        (y, x) = ProfileView.Axes(Conv(3, 3, o), null, 20, 30, 20, 10);
        Assert.Equal((0.0, 3.0), (x.Offset, x.Step));
        Assert.Equal((0.0, 1.0), (y.Offset, y.Step));
        // Full padding of a 5-tap kernel: output 0's window is input -4 .. 0, centred on -2, and the plot reaches it.
        (_, x) = ProfileView.Axes(Conv(1, 5, new ConvOptions { Padding = PaddingMode.Full }), null, 1, 8, 1, 12);
        Assert.Equal((-2.0, 1.0), (x.Offset, x.Step));
        Assert.Equal((-2.5, 9.5), x.Span(8, 12));
        // An even kernel's centre falls between two inputs: 2 taps valid, output 0 reads inputs 0 and 1.
        (y, _) = ProfileView.Axes(Conv(2, 2, new ConvOptions { Padding = PaddingMode.Valid }), null, 6, 6, 5, 5);
        Assert.Equal(0.5, y.At(0));
        Assert.Equal(0, y.InputIndex(0, 6));
        // Convolve flips the taps, not the window: the same centres.
        (_, ProfileAxis flipped) = ProfileView.Axes(Conv(3, 3, new ConvOptions { Mode = ConvMode.Convolve, StrideX = 2 }), null, 10, 10, 5, 5);
        Assert.Equal((0.0, 2.0), (flipped.Offset, flipped.Step));
    }

    [Fact]
    public void ProfilePlotScale_IsZeroToOneForImages_ElseSymmetricAboutZero()
    {
        Assert.Equal((0.0, 1.0), ProfileView.PlotScale(0.05f, 0.9f));
        Assert.Equal((0.0, 1.0), ProfileView.PlotScale(0, 1));
        // A Sobel response: -3.45 .. 2 on -3.45 .. 3.45, zero on the middle line; a ReLU's 0 .. 1.5 on 0 .. 1.5.
        Assert.Equal((-3.45, 3.45), ProfileView.PlotScale(-3.45f, 2f) is var (b, t) ? (Math.Round(b, 5), Math.Round(t, 5)) : default);
        Assert.Equal((0.0, 1.5), ProfileView.PlotScale(0, 1.5f));
        // Rounding below zero is none (an FFT curve's -1e-16); a real negative value is a signed map.
        Assert.Equal((0.0, (double)1.569f), ProfileView.PlotScale(-1e-16f, 1.569f));
        Assert.Equal((-1.569, 1.569), ProfileView.PlotScale(-1e-5f, 1.569f) is var (lo, hi) ? (Math.Round(lo, 3), Math.Round(hi, 3)) : default);
        Assert.True(double.IsNaN(ProfileView.PlotScale(float.NaN, float.NaN).Top));
    }

    [Fact]
    public void SplitView_FramesTheModelsCentreCrop_OnTheSourceAsDrawn()
    {
        // ResNet18's preprocessing on a 640x360 frame: scaled by 224 / 360, the centre 360x360 kept (left 140). Drawn at
        // half size from (10, 20): the frame at (80, 20), 180 px square.
        var crop = new Core.Onnx.ImagePreprocess(224, 224, [2, 1, 0], 255, Tensor.Chw(3, 224, 224), "mean.onnx").Crop(360, 640);
        Assert.Equal((0.0, 140.0), (crop.Top, crop.Left));
        Assert.Equal(new PixelRect(80, 20, 180, 180),
            SplitView.CropRect(new PixelRect(10, 20, 320, 180), 640, 360, (crop.Top, crop.Left, 224 / crop.Scale, 224 / crop.Scale)));
        // No crop, or one that is the whole frame: no frame.
        Assert.Null(SplitView.CropRect(new PixelRect(0, 0, 640, 360), 640, 360, null));
        Assert.Null(SplitView.CropRect(new PixelRect(0, 0, 640, 360), 640, 360, (0, 0, 360, 640)));
    }

    [Fact]
    public void ProbeMarker_ThreeMapPixelsWide_JustOutsideALargePixel_KeptOnItsMap()
    {
        var map = new PixelRect(100, 50, 640, 360);
        // 2 px map pixels: the 10 px minimum, centred.
        Assert.Equal(new PixelRect(295, 145, 10, 10), LiveApp.MarkerRect(map, 300, 150, 2));
        // 8 px: three of them (1.5 x 8 = 12 each side... capped at half a pixel + 6 = 10).
        Assert.Equal(new PixelRect(290, 140, 20, 20), LiveApp.MarkerRect(map, 300, 150, 8));
        // A 1x1 map drawn 360 px wide: just outside its one pixel, cut to 3 px around the map (it was a 1,080 px square).
        var one = new PixelRect(100, 50, 360, 360);
        Assert.Equal(new PixelRect(97, 47, 366, 366), LiveApp.MarkerRect(one, 280, 230, 360));
    }

    [Fact]
    public void RefusedKey_NamesWhatItChanged()
    {
        var o = new ConvOptions();
        Assert.Equal("stride 3", StackPipeline.ChangeText(o, o with { StrideY = 3, StrideX = 3 }));
        Assert.Equal("dilation 4", StackPipeline.ChangeText(o, o with { DilationY = 4, DilationX = 4 }));
        Assert.Equal("border wrap", StackPipeline.ChangeText(o, o with { Border = Border.Wrap }));
        Assert.Equal("convolve", StackPipeline.ChangeText(o, o with { Mode = ConvMode.Convolve }));
    }

    [Fact]
    public void ProfileContent_KeepsAGutterForTheScaleLabels_LeftOfTheMap()
    {
        // 15 px lines: a gutter of 22 characters (22 x 7.2 + 8 = 166.4 px), room for "in -34.95 / out 2.827". A 640x360
        // map in a 620x600 area: the map is drawn at min((620 - 166.4) / 640, 600 x 0.52 / 360) = 0.709, and the
        // gutter is 166.4 / 0.709 map pixels of the content's width.
        var area = new PixelRect(0, 0, 620, 600);
        float gutter = ProfileView.GutterFor(area, 15);
        Assert.Equal(166.4f, gutter, 0.01f);
        (int w, int h) = ProfileView.Content(area, 640, 360, gutter);
        double scale = (620 - 166.4) / 640;
        Assert.Equal((640 + 166.4 / scale) / (360 / 0.52), (double)w / h, 0.005);
        // A window too narrow for it and 4 lines of map (226.4 px), or where it would take more than half the width
        // (166.4 / 0.5 = 332.8 px), keeps the whole width for the map.
        Assert.Equal(0, ProfileView.GutterFor(new PixelRect(0, 0, 220, 200), 15));
        Assert.Equal(0, ProfileView.GutterFor(new PixelRect(0, 0, 332, 200), 15));
        Assert.Equal(166.4f, ProfileView.GutterFor(new PixelRect(0, 0, 333, 200), 15), 0.01f);
    }

    [Fact]
    public void ProfilePlace_AMapBoundByTheHeight_IsCentredInItsShare_ByTheWidth_AtTheTopWithThePlotUnderIt()
    {
        // 640x360 in 980x688 with a 166.4 px gutter: the top 52% (357.76 px) bounds it: 636.0 x 357.76, centred across
        // the 813.6 px right of the gutter; the legend 2 px under the share, the plot 27 px (one 15 px line's panel) under it.
        (PixelRect map, float legendY, float plotY) = ProfileView.Place(new PixelRect(0, 0, 980, 688), 166.4f, 640, 360, 27);
        Assert.Equal(357.76f, map.Height, 2);
        Assert.Equal(0, map.Y, 2);
        Assert.Equal(166.4f + (813.6f - 636.0f) / 2, map.X, 1);
        Assert.Equal(359.76f, legendY, 2);
        Assert.Equal(384.76f, plotY, 2);
        // The same map in a 186x988 column (no gutter): the width bounds it at 186 x 104.6, at the top (it sat at
        // y = 205, the middle of its 513.8 px share), the legend and the plot right under it.
        (map, legendY, plotY) = ProfileView.Place(new PixelRect(10, 20, 186, 988), 0, 640, 360, 27);
        Assert.Equal(new PixelRect(10, 20, 186, 104.625f), map);
        Assert.Equal(20 + 104.625f + 2, legendY, 3);
        Assert.Equal(20 + 104.625f + 27, plotY, 3);
    }

    /// <summary>The picture audit: the map pixel a hover names is the one drawn under the pointer. tensor.frag colours a
    /// screen pixel from its centre (px + 0.5); the hit test took the pixel's corner, so wherever a map pixel's edge crossed
    /// that screen pixel it named the neighbour (6.6% of positions at 7.6 screen px a map pixel; every column of a map
    /// drawn at 0.46 px a map pixel).</summary>
    [Theory]
    [InlineData(0f, 54.71f, 734f, 461.59f, 97, 61)]    // 7.567 screen px a map pixel
    [InlineData(2.5f, 10f, 733f, 73.7f, 1601, 161)]   // a wide map drawn smaller than its size
    public void HitTest_NamesTheMapPixelDrawnUnderThePointer(float x0, float y0, float width, float height, int w, int h)
    {
        var r = new PixelRect(x0, y0, width, height);
        for (int px = (int)Math.Ceiling(x0); px < x0 + width - 1; px++)
        {
            Assert.True(SingleMapView.MapHit(r, LiveApp.PixelCentre(px), LiveApp.PixelCentre(y0 + 1), w, h, 0, out TensorPoint p));
            int drawn = Math.Clamp((int)Math.Floor((px + 0.5 - x0) / width * w), 0, w - 1);
            Assert.True(drawn == p.X, $"screen pixel {px}: drawn from map column {drawn}, the hit test named {p.X}");
        }
    }

    /// <summary>The picture audit: the grid's gutter was painted over each map's edge pixels (half of a 7x7 map's edge
    /// columns and rows). Each map is now drawn whole inside its cell (tensor.frag's inMap, shrunk by GridView.Inset on both
    /// axes), every map pixel shows, and a hover names the pixel drawn under it.</summary>
    [Theory]
    [InlineData(23, 23, 7, 7, 702f, 702f)]     // ResNet18's 512 7x7 maps: ~30 px cells
    [InlineData(4, 4, 640, 360, 734f, 413f)]   // edges' 4 maps
    [InlineData(13, 10, 7, 7, 735f, 565f)]     // 128 maps of 7x7
    public void GridMaps_AreDrawnWhole_InsideTheGutter_AndHitWhereDrawn(int cols, int rows, int w, int h, float width, float height)
    {
        var r = new PixelRect(10, 20, width, height);
        float inset = GridView.Inset(width / cols, height / rows);
        Assert.InRange(inset, 0f, 0.2f);
        PixelRect cell = GridView.Cell(r, cols, rows, cols + 1), map = GridView.MapIn(cell, inset);
        Assert.Equal(cell.Width / cell.Height, map.Width / map.Height, 3); // the aspect kept
        var seen = new HashSet<int>();
        for (int px = (int)cell.X; px < cell.X + cell.Width; px++)
        {
            double x = px + 0.5, y = cell.Y + cell.Height / 2;
            // tensor.frag: the cell's fraction, then the map's.
            double u = (x - r.X) / r.Width * cols, inCell = u - Math.Floor(u), inMap = (inCell - 0.5 * inset) / (1 - inset);
            if (inMap < 0 || inMap >= 1)
            {
                // The gutter: no map (it probed the nearest map's edge pixel).
                Assert.False(GridView.CellHit(r, x, y, cols, rows, cols * rows, w, h, out _, inset), $"screen x {px} is in the gutter");
                continue;
            }
            int drawn = Math.Clamp((int)(inMap * w), 0, w - 1);
            seen.Add(drawn);
            Assert.True(GridView.CellHit(r, x, y, cols, rows, cols * rows, w, h, out TensorPoint p, inset));
            Assert.True(p.Channel == cols + 1 && p.X == drawn, $"screen x {px}: drawn from column {drawn} of map {cols + 1}, hit {p.X} of {p.Channel}");
        }
        Assert.Equal(Math.Min(w, (int)map.Width), seen.Count); // every column shows (each at least a pixel wide)
    }

    [Fact]
    public void ProfileImageShare_GrowsForNarrowMaps_WhosePlotIsAsNarrow()
    {
        Assert.Equal(0.52f, ProfileView.ImageShareFor(640, 360));   // landscape, as before
        Assert.Equal(0.52f, ProfileView.ImageShareFor(1920, 300));
        Assert.Equal(0.61f, ProfileView.ImageShareFor(512, 512), 4); // square
        Assert.Equal(0.70f, ProfileView.ImageShareFor(100, 400));   // portrait, capped
        // A 288x512 map in 600x616: drawn min(600 / 288, 616 x 0.6888 / 512) = 0.829 (was 616 x 0.52 / 512 = 0.626).
        (int w, int h) = ProfileView.Content(new PixelRect(0, 0, 600, 616), 288, 512, 0);
        Assert.Equal(288 / (512 / 0.68875), (double)w / h, 0.005);
    }

    [Fact]
    public void ProfileScale_SharedWhereTheOutputIsInTheInputsUnits()
    {
        // A ReLU's output lies on its input where that is positive: one scale. A pool picks input values, a magnitude is
        // a gradient's length, an add sums: one scale too.
        Assert.True(ProfileView.SharesScale(new ActivationLayer(ActivationKind.Relu)));
        Assert.True(ProfileView.SharesScale(new PoolLayer(new PoolOptions())));
        Assert.True(ProfileView.SharesScale(new MagnitudeLayer()));
        // A batchnorm rescales and a softmax normalises: their own scales, as a convolution's (no stack layer here).
        Assert.False(ProfileView.SharesScale(new SoftmaxLayer(false)));
        // A max picks one of two maps: one scale; a difference of two maps (the dog stack's band) is small where they
        // agree: its own.
        Assert.True(ProfileView.SharesScale(new ElementwiseLayer(BinaryKind.Max)));
        Assert.False(ProfileView.SharesScale(new ElementwiseLayer(BinaryKind.Sub)));
        Assert.False(ProfileView.SharesScale(null));
    }

    [Fact]
    public void ProfilePlot_StandsUnderItsMap_OnTheMapsScale()
    {
        // Same size: input pixel u under map pixel u; the plot as wide as the map (320 px for 640 pixels).
        Assert.Equal((100f, 420f, -0.5, 639.5), ProfileAxis.Identity.UnderMap(640, 640, new PixelRect(100, 0, 320, 180), 0, 1000));
        // A 3-tap window moved by 2 over 9 inputs, valid: output o centred on input 1 + 2o. Map pixel 0 spans x 0..100,
        // its centre (x 50) is input 1; the span (-0.5 .. 8.5) reaches 25 px past each edge of the map, cut to the area.
        var ax = new ProfileAxis(1, 2);
        (float left, float right, double x0, double x1) = ax.UnderMap(9, 4, new PixelRect(0, 0, 400, 100), 0, 400);
        Assert.Equal((0f, 400f), (left, right));
        Assert.Equal(0, x0, 12);
        Assert.Equal(8, x1, 12);
        // With room, the whole span: 25 px left and right of the map.
        (left, right, x0, x1) = ax.UnderMap(9, 4, new PixelRect(100, 0, 400, 100), 0, 1000);
        Assert.Equal((75f, 525f), (left, right));
        Assert.Equal((-0.5, 8.5), (Math.Round(x0, 9), Math.Round(x1, 9)));
    }

    /// <summary>The split view's registration: axes chain affinely (a 5x5 valid conv then a 2x2 pool puts pooled pixel o
    /// on source 2.5 + 2o), a pad layer shifts by its top/left (a crop by minus it), a model's centre crop maps its
    /// input's pixel centres into the crop, and the drawn rectangle centres output o's pixel over At(o).</summary>
    [Fact]
    public void ProfileAxes_Chain_Crop_Pad_AndTheSplitViewsRegisteredRectangle()
    {
        ProfileAxis conv = ProfileView.Axes(Conv(5, 5, new ConvOptions { Padding = PaddingMode.Valid }), null, 20, 20, 16, 16).X;
        ProfileAxis pool = ProfileView.Axes(null, new PoolLayer(PoolOptions.Square(PoolKind.Max, 2)), 16, 16, 8, 8).X;
        ProfileAxis chained = conv.Of(pool);
        Assert.Equal((2.5, 2.0), (chained.Offset, chained.Step));
        Assert.Equal(2 + (2 * 3 + 0.5), chained.At(3));
        // A transposed conv, 4x4, stride 2, pad 1 (the usual 2x upsampling): output o gathers inputs (o + 1 - j) / 2,
        // j = 0..3, centred at (o - 0.5) / 2: output 1 at input 0.25, between inputs 0 and 1 as its taps (j = 0, 2) are.
        var weight = Tensor.Chw(2, 3, 16).Reshape(2, 3, 4, 4);
        var transposed = new ConvTransposeLayer(weight, null, new ConvTransposeOptions { StrideY = 2, StrideX = 2, PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 }, "w", null);
        ProfileAxis up = ProfileView.Axes(null, transposed, 5, 5, 10, 10).X;
        Assert.Equal((-0.25, 0.5), (up.Offset, up.Step));
        Assert.Equal(0.25, up.At(1));
        (ProfileAxis py, ProfileAxis px) = ProfileView.Axes(null, new PadLayer(new PadOptions(1, -3, 0, 0)), 10, 10, 11, 7);
        Assert.Equal((-1.0, 3.0), (py.At(0), px.At(0)));
        // ResNet18's 224x224 input of a 640x360 frame: the centre 360x360 (left 140), 360/224 source pixels a pixel.
        ProfileAxis crop = ProfileAxis.Crop(140, 360, 224);
        Assert.Equal(140 + 0.5 * 360 / 224 - 0.5, crop.At(0), 12);
        Assert.Equal(500 - 0.5 * 360 / 224 - 0.5, crop.At(223), 12);
        Assert.Equal(ProfileAxis.Identity, ProfileAxis.Crop(0, 640, 640));
        // Source 320 px wide shown 640 px wide at x 100: 2 px a source pixel. The chained output (8 pixels, 2 source
        // pixels each) starts at source pixel 2: 100 + 2 * 2 = 104, 8 * 2 * 2 = 32 wide.
        Assert.Equal(new PixelRect(104, 54, 32, 32), SplitView.Registered(new PixelRect(100, 50, 640, 360), 320, chained, chained, 8, 8));
        Assert.Equal(new PixelRect(100, 50, 640, 360), SplitView.Registered(new PixelRect(100, 50, 640, 360), 320, ProfileAxis.Identity, ProfileAxis.Identity, 180, 320));
    }

    /// <summary>A receptive field on the source drawn shown: pixel edges (the last pixel's right edge included), cut to
    /// the source's rectangle (padding reaches past it), nothing where it lies wholly outside.</summary>
    [Fact]
    public void SplitView_FieldRect_FramesPixelEdges_CutToTheSource()
    {
        var shown = new PixelRect(100, 50, 640, 360); // a 320x180 source, 2 px a pixel
        Assert.Equal(new PixelRect(178, 108, 10, 6), SplitView.FieldRect(shown, 320, (39, 29, 43, 31)));
        Assert.Equal(new PixelRect(100, 50, 6, 4), SplitView.FieldRect(shown, 320, (-2, -2, 2, 1)));
        Assert.Null(SplitView.FieldRect(shown, 320, (-9, 0, -5, 3)));
        // Its label, in whole source pixels (a model's resize: fractional ends rounded outwards).
        Assert.Equal("receptive field 18x18", SplitView.FieldLabel((153, 113, 170, 130)));
        Assert.Equal("receptive field 135x135", SplitView.FieldLabel((202.68, 62.68, 335.07, 195.07)));
        // Receptive reach: a 5x5 conv dilated 2 reads 4 pixels either side; a 2x2 pool 0.5; a global pool all its input.
        Assert.Equal(4.0, ProfileView.Windows(Conv(5, 5, new ConvOptions { DilationX = 2 }), null, 20, 20, 20, 20).X.Half);
        Assert.Equal(0.5, ProfileView.Windows(null, new PoolLayer(PoolOptions.Square(PoolKind.Max, 2)), 8, 8, 4, 4).X.Half);
        LayerWindow global = ProfileView.Windows(null, null, 7, 9, 1, 1).X;
        Assert.Equal((0.0, 8.0), (global.Axis.At(0) - global.Half, global.Axis.At(0) + global.Half));
        Assert.Equal(0.0, ProfileView.Windows(null, new ActivationLayer(ActivationKind.Relu), 9, 9, 9, 9).X.Half);
        // A slice's outputs sit on the input pixels it takes: a flip (cols ::-1) reads 7, 6, ...; rows 2: read 2, 3, ...;
        // a Focus phase (1::2) reads 1, 3, ... (they were spread as if the map were resized).
        (LayerWindow sy, LayerWindow sx) = ProfileView.Windows(null, new SliceLayer(0, null, SliceRange.Of(2, null, 1), SliceRange.Of(null, null, -1)), 8, 8, 6, 8);
        Assert.Equal((new ProfileAxis(2, 1), new ProfileAxis(7, -1), 0.0), (sy.Axis, sx.Axis, sy.Half));
        Assert.Equal(new ProfileAxis(1, 2), ProfileView.Windows(null, new SliceLayer(0, null, SliceRange.Of(1, null, 2), null), 8, 8, 4, 8).Y.Axis);
        // The flip's plot still spans the map (it was 1 px wide at its right edge: left past right), input positions falling.
        (float left, float right, double x0, double x1) = sx.Axis.UnderMap(8, 8, new PixelRect(100, 0, 400, 400), 0, 1000);
        Assert.Equal((100f, 500f), (left, right));
        Assert.True(x0 > x1, $"x0 {x0}, x1 {x1}");
        Assert.Equal((7.5, -0.5), (x0, x1));
        // A pad to a second map's size: 3 -> 6 rows puts input row 0 at output row 1 (floor(3 / 2) above).
        Assert.Equal(new ProfileAxis(-1, 1), ProfileView.Windows(null, new PadLayer(new PadOptions(0, 0, 0, 0), toSecondInput: true), 3, 3, 6, 3).Y.Axis);
    }

    /// <summary>A resize's outputs sit where Resize2D samples the input, in every coordinate mode (they were spread evenly,
    /// right for half-pixel only), and a nearest resize reads the pixel its rounding mode picks.</summary>
    [Fact]
    public void ResizeAxis_IsWhereEachCoordinateModeSamples_AndNearestReadsItsPixel()
    {
        ProfileAxis half = ProfileView.ResizeAxis(80, 160, 2, ResizeCoordinates.HalfPixel);
        Assert.Equal(ProfileAxis.Proportional(80, 160), half);                                    // (o + 0.5) / 2 - 0.5
        Assert.Equal(new ProfileAxis(0, 0.5), ProfileView.ResizeAxis(80, 160, 2, ResizeCoordinates.Asymmetric)); // o / 2
        Assert.Equal(new ProfileAxis(0.25, 0.5), ProfileView.ResizeAxis(80, 160, 2, ResizeCoordinates.TfHalfPixelForNn));
        Assert.Equal(new ProfileAxis(0, 0.5), ProfileView.ResizeAxis(4, 7, 1.75, ResizeCoordinates.AlignCorners)); // o 3 / 6
        Assert.Equal(0, ProfileView.ResizeAxis(5, 1, 0.2, ResizeCoordinates.PytorchHalfPixel).At(0)); // one pixel: at 0
        // An asymmetric 2x nearest upsampling (a YOLO export's): output 1 samples 0.5, a tie: round_prefer_floor reads
        // pixel 0, round_prefer_ceil pixel 1; output 2 samples 1: pixel 1 alone; output 15 samples 7.5: 7 either way (8
        // is past the map). PyTorch's nn.Upsample exports floor: at scale 3 output 2 samples 0.667 and reads pixel 0 (the
        // review: a window of Source +- 0.5 claimed pixel 1). Bilinear at 0.5 reads 0 and 1, at a whole 1 only 1.
        LayerWindow Nearest(ResizeRounding rounding, float scale) => ProfileView.Windows(null, new ResizeLayer(new ResizeOptions
            { Mode = ResizeMode.Nearest, Coordinates = ResizeCoordinates.Asymmetric, Rounding = rounding, ScaleY = scale, ScaleX = scale }), 8, 8, (int)(8 * scale), (int)(8 * scale)).X;
        LayerWindow nx = Nearest(ResizeRounding.RoundPreferFloor, 2);
        Assert.Equal(new ProfileAxis(0, 0.5), nx.Axis);
        Assert.Equal((0, 0), Reads(nx, 1, 1, 8));
        Assert.Equal((1, 1), Reads(nx, 2, 2, 8));
        Assert.Equal((7, 7), Reads(nx, 15, 15, 8));
        Assert.Equal((0, 1), Reads(nx, 0, 2, 8));
        Assert.Equal((1, 1), Reads(Nearest(ResizeRounding.RoundPreferCeil, 2), 1, 1, 8));
        Assert.Equal((0, 0), Reads(Nearest(ResizeRounding.Floor, 3), 2, 2, 8));
        Assert.Equal((1, 1), Reads(Nearest(ResizeRounding.Ceil, 3), 2, 2, 8));
        // Every output's read pixel is the one Resize2D reads, over the rounding modes and coordinate modes.
        foreach (ResizeRounding rounding in Enum.GetValues<ResizeRounding>())
            foreach (ResizeCoordinates c in Enum.GetValues<ResizeCoordinates>())
            {
                var o = new ResizeOptions { Mode = ResizeMode.Nearest, Coordinates = c, Rounding = rounding, ScaleY = 2.5f, ScaleX = 2.5f };
                (int oh, int ow) = Resize2D.OutputSize(7, 7, o);
                LayerWindow x = ProfileView.Windows(null, new ResizeLayer(o), 7, 7, oh, ow).X;
                for (int k = 0; k < ow; k++)
                {
                    int expected = Resize2D.Nearest(Resize2D.Source(k, 7, ow, 2.5, c), 7, rounding);
                    Assert.Equal((expected, expected), Reads(x, k, k, 7));
                }
            }
        var linear = new ResizeLayer(new ResizeOptions { Mode = ResizeMode.Linear, Coordinates = ResizeCoordinates.Asymmetric, ScaleY = 2, ScaleX = 2 });
        LayerWindow lx = ProfileView.Windows(null, linear, 8, 8, 16, 16).X;
        Assert.Equal((0, 1), Reads(lx, 1, 1, 8));
        Assert.Equal((1, 1), Reads(lx, 2, 2, 8));
    }

    /// <summary>A layer's reads in whole pixels of its input (from the perturbation audit of the receptive field): a zero
    /// border's past the edge are none (a crop's cut pixels too), a reflect border's fold back inside (pad 4 reflect: output
    /// 0 reads pixel 4), a wrap border's come from the far edge, a replicate one's clamp; bilinear reads the two pixels
    /// around a fractional position (an open interval), cubic four.</summary>
    [Fact]
    public void LayerWindow_Reads_WholePixels_WithTheBorderFoldedIn()
    {
        var pad4 = new LayerWindow(new ProfileAxis(-4, 1), 0, Border.Reflect);
        Assert.Equal((4, 4), Reads(pad4, 0, 0, 160));
        Assert.Equal((2, 2), Reads(pad4, 2, 2, 160));
        Assert.Equal((157, 157), Reads(new LayerWindow(new ProfileAxis(-3, 1), 0, Border.Wrap), 0, 0, 160));
        Assert.Equal((0, 0), Reads(new LayerWindow(new ProfileAxis(-3, 1), 0, Border.Replicate), 0, 0, 160));
        Assert.Null(Reads(new LayerWindow(new ProfileAxis(-3, 1), 0), 0, 2, 160)); // a zero border's constant pixels
        Assert.Equal((0, 1), Reads(new LayerWindow(ProfileAxis.Identity, 1), 0, 0, 160)); // a 3x3 same window at the edge
        // A 2x bilinear upsampling: output 101 sits at input 50.25, between 50 and 51; output 100 at 49.75 (49, 50).
        var bilinear = new LayerWindow(ProfileAxis.Proportional(80, 160), 1, Border.Replicate, Open: true);
        Assert.Equal((50, 51), Reads(bilinear, 101, 101, 80));
        Assert.Equal((49, 51), Reads(bilinear, 100, 101, 80));
        var whole = new LayerWindow(ProfileAxis.Identity, 1, Border.Replicate, Open: true);
        Assert.Equal((7, 7), Reads(whole, 7, 7, 80)); // at a whole position bilinear reads that pixel alone
    }

    /// <summary>Dilated and transposed windows read the pixels their taps land on, not the span around them (a perturbation
    /// audit found the receptive field 1-3 px too wide where a dilated window is cut by the map's edge or a transposed
    /// conv's stride leaves gaps; a stride longer than the window skips pixels too). The oracle is the op itself: an all-ones kernel over a one-row input holding a single 1
    /// (a positive value, so nothing cancels) shows which outputs read that pixel; every range of outputs must read, first
    /// to last, what those impulses say. Swept over sizes, kernel lengths, strides, dilations, paddings and borders, for convs, pools and transposed convs.</summary>
    [Fact]
    public void LayerWindow_OfGappyTaps_ReadsWhatTheOpReads_ByPerturbation()
    {
        int cases = 0;
        foreach (int n in new[] { 1, 2, 3, 5, 8, 13 })
            foreach (int k in new[] { 1, 2, 3, 4 })
                foreach (int d in new[] { 1, 2, 3 })
                    foreach (int stride in new[] { 1, 2, 3 })
                        foreach (int pad in new[] { 0, 1, 4 })
                        {
                            foreach (Border border in new[] { Border.Zero, Border.Reflect, Border.Replicate, Border.Wrap })
                            {
                                var o = new ConvOptions { Padding = PaddingMode.Explicit, PadX = pad, StrideX = stride, DilationX = d, Border = border };
                                Tensor weight = new([1, 1, 1, k], Enumerable.Repeat(1f, k).ToArray());
                                int w;
                                try { w = ConvGeometry.Compute(1, n, 1, k, o).X.Output; }
                                catch (ConvGLException) { continue; }
                                if (w < 1 || (border == Border.Reflect && pad >= n)) continue;
                                LayerWindow x = ProfileView.Windows(new ConvView(weight, null, o), null, 1, n, 1, w).X;
                                AssertReads(x, n, w, i => Conv2D.Apply(Impulse(n, i), weight, null, o), $"conv n={n} k={k} d={d} s={stride} pad={pad} {border}");
                                cases++;
                            }
                            if (d == 1 && pad * 2 <= k)
                                foreach (PoolKind kind in new[] { PoolKind.Max, PoolKind.Average })
                                {
                                    var po = new PoolOptions { Kind = kind, SizeY = 1, SizeX = k, StrideY = 1, StrideX = stride, PadX = pad };
                                    int pw;
                                    try { pw = Pool2D.Geometry(1, n, po).X.Output; }
                                    catch (ConvGLException) { continue; }
                                    if (pw < 1) continue;
                                    LayerWindow px = ProfileView.Windows(null, new PoolLayer(po), 1, n, 1, pw).X;
                                    AssertReads(px, n, pw, i => Pool2D.Apply(Impulse(n, i), po), $"{kind} pool n={n} k={k} s={stride} pad={pad}");
                                    cases++;
                                }
                            var t = new ConvTransposeOptions { StrideX = stride, DilationX = d, PadLeft = pad, PadRight = pad };
                            Tensor tw = new([1, 1, 1, k], Enumerable.Repeat(1f, k).ToArray());
                            int th, tW;
                            try { (th, tW) = ConvTranspose2D.OutputSize(1, n, 1, k, t); }
                            catch (ConvGLException) { continue; }
                            LayerWindow tx = ProfileView.Windows(null, new ConvTransposeLayer(tw, null, t, "w", null), 1, n, th, tW).X;
                            AssertReads(tx, n, tW, i => ConvTranspose2D.Apply(Impulse(n, i), tw, null, t), $"transposed n={n} k={k} d={d} s={stride} pad={pad}");
                            cases++;
                        }
        Assert.True(cases > 1000, $"{cases} cases");

        static Tensor Impulse(int n, int i)
        {
            var x = Tensor.Chw(1, 1, n);
            x[0, 0, i] = 1;
            return x;
        }
        static void AssertReads(LayerWindow window, int n, int w, Func<int, Tensor> run, string what)
        {
            var reads = new List<int>[w];
            for (int o = 0; o < w; o++) reads[o] = [];
            for (int i = 0; i < n; i++)
            {
                Tensor y = run(i);
                Assert.Equal(w, y.Shape[2]);
                for (int o = 0; o < w; o++)
                    if (y[0, 0, o] != 0) reads[o].Add(i);
            }
            // Each output's set, not only its ends: the field follows these sets down a chain, so a gap marked would count.
            for (int o = 0; o < w; o++)
            {
                var marked = new bool[n];
                window.Mark(o, n, marked);
                Assert.True(reads[o].SequenceEqual(Enumerable.Range(0, n).Where(i => marked[i])),
                            $"{what}: output {o} reads [{string.Join(",", reads[o])}], the window marks [{string.Join(",", Enumerable.Range(0, n).Where(i => marked[i]))}]");
            }
            for (int o0 = 0; o0 < w; o0++)
                for (int o1 = o0; o1 < w; o1++)
                {
                    List<int> all = reads[o0..(o1 + 1)].SelectMany(r => r).ToList();
                    (int, int)? want = all.Count == 0 ? null : (all.Min(), all.Max());
                    Assert.True(want == Reads(window, o0, o1, n), $"{what}: outputs {o0}..{o1} read {want}, the window says {Reads(window, o0, o1, n)}");
                }
        }
    }

    /// <summary>A resize's window reads what the op reads, pixel by pixel (the review of 2026-12-05: a cubic output on a
    /// whole input position reads that pixel alone, its other weights exactly 0, but three were counted): an impulse through
    /// Resize2D over modes, coordinate modes, up- and downscales, compared with each output's marked set.</summary>
    [Fact]
    public void ResizeWindow_MarksWhatTheResizeReads_ByPerturbation()
    {
        int cases = 0;
        foreach (ResizeMode mode in new[] { ResizeMode.Nearest, ResizeMode.Linear, ResizeMode.Cubic })
            foreach (ResizeCoordinates c in Enum.GetValues<ResizeCoordinates>())
                foreach (float scale in new[] { 0.5f, 0.75f, 1.5f, 2f, 2.5f, 3f })
                    foreach (int n in new[] { 1, 2, 5, 8 })
                    {
                        var o = new ResizeOptions { Mode = mode, Coordinates = c, ScaleY = 1, ScaleX = scale };
                        int w;
                        try { w = Resize2D.OutputSize(1, n, o).W; }
                        catch (ConvGLException) { continue; }
                        if (w < 1) continue;
                        LayerWindow x = ProfileView.Windows(null, new ResizeLayer(o), 1, n, 1, w).X;
                        var reads = new List<int>[w];
                        for (int k = 0; k < w; k++) reads[k] = [];
                        for (int i = 0; i < n; i++)
                        {
                            var impulse = Tensor.Chw(1, 1, n);
                            impulse[0, 0, i] = 1;
                            Tensor y = Resize2D.Apply(impulse, o);
                            for (int k = 0; k < w; k++)
                                if (y[0, 0, k] != 0) reads[k].Add(i);
                        }
                        for (int k = 0; k < w; k++)
                        {
                            var marked = new bool[n];
                            x.Mark(k, n, marked);
                            int[] got = Enumerable.Range(0, n).Where(i => marked[i]).ToArray();
                            Assert.True(reads[k].SequenceEqual(got), $"{mode} {c} x{scale} n={n}: output {k} reads [{string.Join(",", reads[k])}], marked [{string.Join(",", got)}]");
                        }
                        cases++;
                    }
        Assert.True(cases > 300, $"{cases} cases");
    }

    [Fact]
    public void ProfileAxes_ForPools_AndLayersWithoutAWindow()
    {
        // A 2x2 max pool, stride 2: output o covers inputs 2o and 2o + 1, centred on 2o + 0.5.
        (ProfileAxis y, ProfileAxis x) = ProfileView.Axes(null, new PoolLayer(PoolOptions.Square(PoolKind.Max, 2)), 8, 8, 4, 4);
        Assert.Equal((0.5, 2.0), (x.Offset, x.Step));
        // A 3x3 average pool, stride 2, padded by 1: output o covers 2o - 1 .. 2o + 1.
        (_, x) = ProfileView.Axes(null, new PoolLayer(PoolOptions.Square(PoolKind.Average, 3, 2, 1)), 8, 8, 4, 4);
        Assert.Equal((0.0, 2.0), (x.Offset, x.Step));
        // ResNet's max pool as imported: 3x3, stride 2, pads 1.
        var padded = new PaddedPoolLayer(new PaddedPoolOptions { SizeY = 3, SizeX = 3, StrideY = 2, StrideX = 2, PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 });
        (y, _) = ProfileView.Axes(null, padded, 112, 112, 56, 56);
        Assert.Equal((0.0, 2.0), (y.Offset, y.Step));
        // An activation: the identity. A 2x resize: half-pixel centres, output o at (o + 0.5) / 2 - 0.5 of the input.
        Assert.Equal(ProfileAxis.Identity, ProfileView.Axes(null, new ActivationLayer(ActivationKind.Relu), 9, 9, 9, 9).X);
        (_, x) = ProfileView.Axes(null, null, 4, 4, 8, 8);
        Assert.Equal(-0.25, x.At(0), 12);
        Assert.Equal(3.25, x.At(7), 12);
    }

    [Fact]
    public void FiltersKernelPicture_IsRotatedUnderConvolve_AndSpreadByTheDilation()
    {
        // One grey 2x3 kernel [[1, 0, 0], [0, 0, -1]]: its scale is 1, so 1 -> 255, 0 -> 128, -1 -> 1.
        var w = new Tensor([1, 1, 2, 3], [1, 0, 0, 0, 0, -1]);
        static byte[] Reds(byte[] rgba) => rgba.Where((_, i) => i % 4 == 0).ToArray();
        Assert.Equal(new byte[] { 255, 128, 128, 128, 128, 1 }, Reds(KernelImage.Strip(w, null, new ConvOptions())));
        // Convolve: the sum multiplies the window's top-left pixel by the last tap, so the picture is rotated 180 degrees.
        Assert.Equal(new byte[] { 1, 128, 128, 128, 128, 255 }, Reds(KernelImage.Strip(w, null, new ConvOptions { Mode = ConvMode.Convolve })));
        // Dilation 2 on x: 2 rows of 5 pixels, the skipped input pixels weights of 0 (mid-grey): a dilated kernel is the
        // kernel with zeros between its taps (they were drawn dark, which this scale reads as a large negative weight).
        var dilated = new ConvOptions { DilationX = 2 };
        Assert.Equal((2, 5), KernelImage.Drawn(w, dilated));
        Assert.Equal(new byte[] { 255, 128, 128, 128, 128, 128, 128, 128, 128, 1 }, Reds(KernelImage.Strip(w, null, dilated)));
        Assert.Equal(KernelImage.Skipped, KernelImage.Level(0, 1));
        // From a review: a gray model's channel order is [0]; its first conv may still read 3 maps (x.repeat(1, 3, 1, 1)),
        // drawn in RGB order (it indexed order[1] and crashed the filters view). A BGR order [2, 1, 0] swaps red and blue.
        var rgb = new Tensor([1, 3, 1, 1], [1, 0, -1]);
        Assert.Equal(new byte[] { 255, 128, 1, 255 }, KernelImage.Strip(rgb, [0], new ConvOptions()));
        Assert.Equal(new byte[] { 1, 128, 255, 255 }, KernelImage.Strip(rgb, [2, 1, 0], new ConvOptions()));
        // convert's note names a gray model's preprocessing "gray" (it said "channels R").
        Assert.Equal("resized to 28x28, gray", ConvGL.App.Commands.ConvertCommand.Describe(new ConvGL.Core.Onnx.ImagePreprocess(28, 28, [0], 1f, new Tensor([1, 28, 28]), "g")));
    }

    [Fact]
    public void MapNames_OfASummedBank_NameEveryInputItAdds()
    {
        Stack stack = StackFile.Parse("""
            { "input": "rgb", "layers": [ { "type": "conv", "kernels": ["sobel-x", "sobel-y"], "sum": true },
                                          { "type": "conv", "kernels": ["box:3"] } ] }
            """, "sum.json", KernelLibrary.Get);
        string[][] names = MapNames.For(stack, [true, true], stack.Layers.Select(l => (l as ConvLayer)?.Kernels).ToArray());
        Assert.Equal(["sobel-x of R+G+B", "sobel-y of R+G+B"], names[0]);
        // The next bank is applied to each map in turn (depthwise): one input each.
        Assert.Equal(["box:3 of sobel-x of R+G+B", "box:3 of sobel-y of R+G+B"], names[1]);
    }

    [Fact]
    public void MapNames_OfAMagnitude_SayTheSharedInputOnce()
    {
        // The deep stack's edge strengths: each map's x and y derivative of the same map.
        Stack stack = StackFile.Parse("""
            { "input": "rgb", "layers": [ { "type": "conv", "kernels": ["sobel-x", "sobel-y"] }, { "type": "magnitude" },
                                          { "type": "conv", "kernels": ["box:3", "box:5"] }, { "type": "magnitude" } ] }
            """, "mag.json", KernelLibrary.Get);
        string[][] names = MapNames.For(stack, [true, true, true, true], stack.Layers.Select(l => (l as ConvLayer)?.Kernels).ToArray());
        Assert.Equal(["sobel-x of R", "sobel-y of R", "sobel-x of G", "sobel-y of G", "sobel-x of B", "sobel-y of B"], names[0]);
        Assert.Equal(["|sobel-x, sobel-y| of R", "|sobel-x, sobel-y| of G", "|sobel-x, sobel-y| of B"], names[1]);
        // Two levels: the shared input said once at each.
        Assert.Equal("|box:3, box:5| of |sobel-x, sobel-y| of R", names[3][0]);
    }

    [Fact]
    public void TheoremLabels_InNarrowCells_KeepTheBiasAndTheSum()
    {
        // ResNet18's first layer (3 inputs, a bias) in 22-character cells: short forms, not "FFT: inverse(product) ~".
        Assert.Equal(["direct", "FFT + bias", "|direct - FFT|", "in 2 of 3", "kernel, in 2", "sum of 3"], TheoremView.FittedMapLabels(2, 3, 0.5f, 22));
        // Wide cells keep the full labels; cells narrower than a short form cut it.
        Assert.Equal(TheoremView.MapLabels(2, 3, 0.5f), TheoremView.FittedMapLabels(2, 3, 0.5f, 40));
        Assert.Equal("FFT + b~", TheoremView.FittedMapLabels(0, 1, 1f, 8)[1]);
        // A strided layer's FFT map is the inverse read at the stride: said in both forms.
        Assert.Equal("FFT: inverse(product) at stride 2 + bias", TheoremView.FittedMapLabels(0, 8, 0.5f, 40, (2, 2))[1]);
        Assert.Equal("FFT s2,1 + bias", TheoremView.FittedMapLabels(0, 8, 0.5f, 22, (2, 1))[1]);
        Assert.Equal("FFT: inverse(product)", TheoremView.FittedMapLabels(0, 8, 0, 40, (1, 1))[1]);
    }

    [Fact]
    public void TheoremLabels_SayTheProductSumsTheGroupsInputs_AndTheBias()
    {
        Assert.Equal(["direct", "FFT: inverse(product)", "|direct - FFT|", "input 2 spectrum", "kernel spectrum", "product spectrum"],
            TheoremView.MapLabels(2, 1, 0));
        Assert.Equal(["direct", "FFT: inverse(product) + bias", "|direct - FFT|", "input 0 spectrum (1 of 8)", "kernel spectrum, input 0",
                      "product: sum over 8 inputs"], TheoremView.MapLabels(0, 8, 0.615f));
        var f = new TheoremFigures(MaxDifference: 1e-6, Tolerance: 1e-4, KernelAbsSum: 15.4, MaxAbsInput: 1, MaxAbsResult: 2,
                                   FrameH: 64, FrameW: 128, OutputChannel: 3, InputChannel: 0, Kernel: 3);
        Assert.Equal("  max|out| = 2, S = sum|w| + |b| = 15.4, M = max|in| = 1", TheoremView.PanelLines(f, "conv2 3", 0.615f)[3]);
        Assert.Equal("  max|out| = 2, S = sum|w| = 15.4, M = max|in| = 1", TheoremView.PanelLines(f, "conv2 3")[3]);
        Assert.EndsWith("P = sum of 8 In_c conj(K_c) 5 at -127 deg",
            TheoremView.BinLine(0, 1, 64, 128, new Complex(3, 4), new Complex(-1, 0), new Complex(-3, -4), inputs: 8));
        // The tolerance's S is what ConvTheorem counts: sum |w| plus |bias|.
        Assert.Equal(1 + 2 + 0.5, ConvTheorem.KernelAbsSum(new Tensor([1, 1, 1, 2], [1, -2]), [-0.5f], 0));
    }

    [Fact]
    public void KernelPanel_InAGroupedLayer_NamesTheInputMapByItsNumberInTheLayersInput()
    {
        // 6 inputs in 3 groups of 2, 6 outputs (2 a group): output 4 is in group 2 and reads input maps 4 and 5.
        var grouped = new ConvView(new Tensor([6, 2, 1, 1]), null, new ConvOptions { Groups = 3 });
        Assert.Equal("kernel 1x1 as applied, out 4, in 4 of 6", HudText.KernelLines(grouped, 4)[0]);
        Assert.Equal("kernel 1x1 as applied, out 1, in 0 of 6", HudText.KernelLines(grouped, 1)[0]);
        // Depthwise: output o reads input o.
        var depthwise = new ConvView(new Tensor([16, 1, 3, 3]), null, new ConvOptions { Groups = 16 });
        Assert.Equal("kernel 3x3 as applied, out 9, in 9 of 16", HudText.KernelLines(depthwise, 9)[0]);
    }

    [Fact]
    public void ProbeProducts_ThatRoundToZero_ShowNoMinusSign()
    {
        Assert.Equal("  0.0000", HudText.ProductText(-0.00001));
        Assert.Equal(" -0.0001", HudText.ProductText(-0.00006));
        Assert.Equal("  1.2346", HudText.ProductText(1.23456));
    }

    [Fact]
    public void LayerLines_WriteBothAxesWhereTheyDiffer()
    {
        Assert.Equal("2", HudText.Axes(2, 2));
        Assert.Equal("2x3", HudText.Axes(2, 3));
    }

    /// <summary>In the window (a stack pipeline on the headless GL): a refused toggle numbers layers from 1, as the HUD
    /// does; a live option key keeps the conv's name and the maps it reads (a graph's shortcut conv read the previous
    /// layer's map after `c`); the layer line says convolve and the padding.</summary>
    [Fact]
    public void StackPipeline_NumbersAsTheHud_AndALiveKeyKeepsTheLayersNameAndInputs()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        string dir = Directory.CreateTempSubdirectory("convgl-viewmath-").FullName;
        try
        {
            string file = Path.Combine(dir, "graph.json");
            File.WriteAllText(file, """
                { "name": "graph", "input": "gray", "layers": [
                  { "type": "conv", "name": "edges", "kernels": ["sobel-x", "sobel-y"], "padding": [1, 1, 1, 1] },
                  { "type": "conv", "name": "shortcut", "kernels": ["box:1", "identity:1"], "inputs": ["input"] },
                  { "type": "add", "inputs": ["edges", "shortcut"] },
                  { "type": "magnitude" },
                  { "type": "conv_transpose", "weight": "up.npy", "stride": 2 } ] }
                """);
            Core.IO.Npy.Write(Path.Combine(dir, "up.npy"), new Tensor([1, 1, 3, 3], [1f, 2f, 1f, 2f, 4f, 2f, 1f, 2f, 1f]));
            using GlContext context = GlContext.CreateHeadless();
            using var pipeline = new StackPipeline(context, file, (12, 12));
            // Layer 1 off: the add gets the 1-channel input and the shortcut's 2 maps. Said as the HUD numbers them.
            string refused = pipeline.Toggle(0)!;
            Assert.EndsWith("layer 3 (add) (with layer 1 disabled): add needs two inputs of equal channel counts, got 1 and 2", refused);
            // The stack by name, not its file's path: "graph.json: layer 3" read as the file's 0-based index.
            Assert.StartsWith("can't turn layer 1 off, it stays on: stack '", refused, StringComparison.Ordinal);
            Assert.Contains("edges: conv 3x3 1->2 pad 1,1,1,1 zero s1 d1", pipeline.LayerLabel(0), StringComparison.Ordinal);
            string[] names = [pipeline.MapName(1, 0), pipeline.MapName(1, 1)];
            Assert.Equal(["box:1", "identity:1"], names);

            Assert.True(pipeline.Adjust(o => o with { Mode = ConvMode.Convolve }, 1));
            Assert.Equal(new[] { -1 }, pipeline.StackLayer(1)!.Inputs);
            Assert.Contains("shortcut: conv 1x1 1->2 convolve zero s1 d1", pipeline.LayerLabel(1), StringComparison.Ordinal);
            Assert.Equal(names, new[] { pipeline.MapName(1, 0), pipeline.MapName(1, 1) });

            // Every layer is taken apart: the transposed conv (the inputs that scatter onto the pixel), the add (its two maps)
            // and the magnitude (where a stack opens).
            pipeline.Input.Resize(1, 12, 12);
            pipeline.Run();
            var probe = new Probe(context.Gl);
            probe.Take(pipeline, 4, 0, 3, 2);
            Assert.True(probe.Valid && probe.Kind == ProbeKind.Transposed, probe.Why);
            probe.Take(pipeline, 2, 0, 2, 2);
            Assert.True(probe.Valid && probe.Kind == ProbeKind.TwoMaps, probe.Why);
            probe.Take(pipeline, 3, 0, 2, 2);
            Assert.True(probe.Valid && probe.Kind == ProbeKind.Magnitude, probe.Why);

            // The info panel names the layer a view draws when it is not the selected one (the filters view's first conv).
            var info = new List<string>();
            HudText.AddInfoLines(info, "status", "scene", 12, 12, "filters", pipeline, "llvmpipe", 3, 0, shownLayer: 0);
            Assert.Equal("the filters view shows layer 1", info[^1]);
            Assert.StartsWith(">4 [x] magnitude", info[^4], StringComparison.Ordinal);
            info.Clear();
            HudText.AddInfoLines(info, "status", "scene", 12, 12, "grid", pipeline, "llvmpipe", 3, 0, shownLayer: 3);
            Assert.StartsWith("layer 4: output", info[^1], StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The first and last pixel outputs <paramref name="o0"/> .. <paramref name="o1"/> of
    /// <paramref name="window"/> read (the bounds of <see cref="LayerWindow.Mark"/> over them), null where they read none.</summary>
    private static (int First, int Last)? Reads(LayerWindow window, int o0, int o1, int n)
    {
        var into = new bool[Math.Max(n, 0)];
        for (int o = o0; o <= o1; o++) window.Mark(o, n, into);
        int first = Array.IndexOf(into, true);
        return first < 0 ? null : (first, Array.LastIndexOf(into, true));
    }
}
