using ConvGL.App.Live;
using ConvGL.App.Live.Views;

namespace ConvGL.App.Tests;

/// <summary>The filters view's hit test: the pointer over a (kernel, map) pair's map gives that map's channel and
/// pixel (the probe follows it); over a kernel, a margin or an empty cell it gives nothing.</summary>
public sealed class FiltersViewTests
{
    // Two cells of 100x100, kernels 40 wide: each map's margin box spans x 40..99 (59 wide) and y 1..99 (98 high) of
    // its cell; a 59 x 98 map fills it.
    private static readonly PixelRect Area = new(0, 0, 200, 100);

    [Fact]
    public void PairHit_MapsThePointerToTheMapPixel_AndNothingOverAKernelOrAMargin()
    {
        Assert.True(FiltersView.PairHit(Area, 40, 1, 2, 1, 40, 2, 59, 98, out TensorPoint p));
        Assert.Equal(new TensorPoint(0, 0, 0), p);
        Assert.True(FiltersView.PairHit(Area, 98.9, 98.9, 2, 1, 40, 2, 59, 98, out p));
        Assert.Equal(new TensorPoint(58, 97, 0), p);
        Assert.True(FiltersView.PairHit(Area, 169.5, 50, 2, 1, 40, 2, 59, 98, out p));
        Assert.Equal(new TensorPoint(29, 49, 1), p);
        Assert.False(FiltersView.PairHit(Area, 10, 50, 2, 1, 40, 2, 59, 98, out _)); // the kernel of cell 0
        Assert.False(FiltersView.PairHit(Area, 120, 50, 2, 1, 40, 2, 59, 98, out _)); // the kernel of cell 1
        Assert.False(FiltersView.PairHit(Area, 99.5, 50, 2, 1, 40, 2, 59, 98, out _)); // the margin after map 0
        Assert.False(FiltersView.PairHit(Area, 60, 0.5, 2, 1, 40, 2, 59, 98, out _)); // the top margin
        Assert.False(FiltersView.PairHit(Area, 169.5, 50, 2, 1, 40, 1, 59, 98, out _)); // one map: cell 1 is empty
        Assert.False(FiltersView.PairHit(Area, 200, 50, 2, 1, 40, 2, 59, 98, out _)); // outside
    }

    [Fact]
    public void MapRect_IsTheMapPairHitFinds_EveryPixelCentreOfEveryMap()
    {
        Assert.Equal(new PixelRect(140, 1, 59, 98), FiltersView.MapRect(Area, 2, 1, 40, 1, 59, 98));
        // A map of another aspect keeps it, centred in the margin box: 30 x 49 at min(59 / 30, 98 / 49) px a pixel is
        // 59 x 96.37, 0.82 px down.
        PixelRect fitted = FiltersView.MapRect(Area, 2, 1, 40, 1, 30, 49);
        Assert.Equal(30.0 / 49, fitted.Width / fitted.Height, 5);
        Assert.Equal((140f, 59f), (fitted.X, fitted.Width));
        Assert.Equal(1 + (98 - 59f / 30 * 49) / 2, fitted.Y, 4);
        // A 3 x 2 grid of 5 maps (7 x 4 pixels) in a 300 x 120 area, kernels 30 wide: the centre of pixel (x, y) of map
        // c in MapRect (where the marker goes) hits (x, y, c).
        var area = new PixelRect(10, 20, 300, 120);
        for (int c = 0; c < 5; c++)
        {
            PixelRect r = FiltersView.MapRect(area, 3, 2, 30, c, 7, 4);
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 7; x++)
                {
                    Assert.True(FiltersView.PairHit(area, r.X + (x + 0.5) * r.Width / 7, r.Y + (y + 0.5) * r.Height / 4, 3, 2, 30, 5, 7, 4, out TensorPoint p), $"map {c} ({x}, {y})");
                    Assert.Equal(new TensorPoint(x, y, c), p);
                }
        }
    }
}
