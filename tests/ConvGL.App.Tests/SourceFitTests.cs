using ConvGL.App.Sources;
using ConvGL.Gpu;

namespace ConvGL.App.Tests;

/// <summary>The window's largest source frame (--source-max): hand-checked sizes, and the hint a driver limit gets.</summary>
public sealed class SourceFitTests
{
    [Theory]
    [InlineData(4000, 3000, 1440, 1080)]   // a 12 MP photo: the height binds (1080 / 3000 = 0.36)
    [InlineData(3000, 4000, 1080, 1440)]   // the same photo upright: the box turns with it
    [InlineData(1920, 1080, 1920, 1080)]   // exactly the box: kept
    [InlineData(640, 480, 640, 480)]       // smaller: never enlarged
    [InlineData(5000, 100, 1920, 38)]      // a panorama strip: the width binds (100 x 0.384 = 38.4)
    [InlineData(100, 5000, 38, 1920)]
    [InlineData(2000, 1000, 1920, 960)]    // just over in width
    [InlineData(1080, 1081, 1080, 1081)]   // portrait, inside the turned box
    [InlineData(8192, 1, 1920, 1)]         // at least one pixel
    public void Default_FitsFullHdEitherWayRound(int w, int h, int fw, int fh) =>
        Assert.Equal((fw, fh), SourceFit.Default.Apply(w, h));

    [Fact]
    public void Full_KeepsEverySize_AndAnyBoxTurnsWithTheFrame()
    {
        Assert.Equal((4000, 3000), SourceFit.Full.Apply(4000, 3000));
        Assert.Equal((600, 450), new SourceFit(600, 600).Apply(4000, 3000));
        Assert.Equal((480, 640), new SourceFit(640, 480).Apply(3000, 4000));
        Assert.Equal((480, 640), new SourceFit(480, 640).Apply(3000, 4000)); // the same box given upright
    }

    [Fact]
    public void ForMoving_OnASoftwareRasteriser_IsTheSmallerBox_UnlessSourceMaxWasGiven()
    {
        Assert.Equal(SourceFit.SoftwareMoving, SourceFit.ForMoving(SourceFit.Default, given: false, software: true));
        Assert.Equal((960, 540), SourceFit.SoftwareMoving.Apply(1920, 1080));
        Assert.Equal((960, 540), SourceFit.SoftwareMoving.Apply(1280, 720));
        Assert.Equal((640, 480), SourceFit.SoftwareMoving.Apply(640, 480)); // a common webcam's frames: kept
        Assert.Equal((540, 960), SourceFit.SoftwareMoving.Apply(1080, 1920)); // a phone's upright video: the box turns
        // Given (even as the default's own size), on a GPU, or a box already as small: as asked.
        Assert.Equal(SourceFit.Default, SourceFit.ForMoving(SourceFit.Default, given: true, software: true));
        Assert.Equal(SourceFit.Default, SourceFit.ForMoving(SourceFit.Default, given: false, software: false));
        Assert.Equal(SourceFit.Full, SourceFit.ForMoving(SourceFit.Full, given: true, software: true));
        Assert.Equal(new SourceFit(640, 360), SourceFit.ForMoving(new SourceFit(640, 360), given: false, software: true));
    }

    [Fact]
    public void ToString_IsTheOptionsOwnSpelling()
    {
        Assert.Equal("1920x1080", SourceFit.Default.ToString());
        Assert.Equal("full", SourceFit.Full.ToString());
        Assert.Equal("640x480", new SourceFit(640, 480).ToString());
    }

    [Fact]
    public void Named_SaysWhenTheSourceWasScaled()
    {
        Assert.Equal("image photo.jpg (4000x3000, scaled)", SourceFit.Named("image photo.jpg", 4000, 3000, (1440, 1080)));
        Assert.Equal("image photo.jpg", SourceFit.Named("image photo.jpg", 640, 480, (640, 480)));
    }

    [Fact]
    public void LimitHint_NamesASourceSizeWhoseMapsFit()
    {
        // 8 maps of 2400 x 1800 floats (138,240,000 bytes) against 128 MiB: the scale is sqrt(134217728 / 138240000)
        // = 0.98534, times 0.95 to spare = 0.93607: 2246 x 1684, whose 8 maps take 121 MB.
        var e = new GpuLimitException("conv: too big", 8L * 2400 * 1800 * 4, 128L << 20);
        string hint = SourceFit.LimitHint(e, 2400, 1800);
        Assert.Equal("conv: too big; the source's frames are 2400x1800: frames of 2246x1684 fit (--source-max 2246x1684 for a picture, video or camera; " +
                     "--source scene:2246x1684 for the scene)", hint);
        Assert.True(8L * 2246 * 1684 * 4 <= 128L << 20);
    }
}
