using ConvGL.App.Live;
using ConvGL.App.Live.Views;

namespace ConvGL.App.Tests;

/// <summary>The filters view's hit test: the pointer over a (kernel, map) pair's map gives that map's channel and
/// pixel (the probe follows it); over a kernel, a margin or an empty cell it gives nothing.</summary>
public sealed class FiltersViewTests
{
    // Two cells of 100x100, kernels 40 wide: each map spans x 40..99 (59 wide) and y 1..99 (98 high) of its cell.
    private static readonly PixelRect Area = new(0, 0, 200, 100);

    [Fact]
    public void PairHit_MapsThePointerToTheMapPixel_AndNothingOverAKernelOrAMargin()
    {
        Assert.True(FiltersView.PairHit(Area, 40, 1, 2, 1, 40, 2, 30, 49, out TensorPoint p));
        Assert.Equal(new TensorPoint(0, 0, 0), p);
        Assert.True(FiltersView.PairHit(Area, 98.9, 98.9, 2, 1, 40, 2, 30, 49, out p));
        Assert.Equal(new TensorPoint(29, 48, 0), p); // 58.9 / 59 * 30 = 29.9, 97.9 / 98 * 49 = 48.95
        Assert.True(FiltersView.PairHit(Area, 169.5, 50, 2, 1, 40, 2, 30, 49, out p));
        Assert.Equal(new TensorPoint(15, 24, 1), p); // 29.5 / 59 * 30 = 15, 49 / 98 * 49 = 24.5
        Assert.False(FiltersView.PairHit(Area, 10, 50, 2, 1, 40, 2, 30, 49, out _)); // the kernel of cell 0
        Assert.False(FiltersView.PairHit(Area, 120, 50, 2, 1, 40, 2, 30, 49, out _)); // the kernel of cell 1
        Assert.False(FiltersView.PairHit(Area, 99.5, 50, 2, 1, 40, 2, 30, 49, out _)); // the margin after map 0
        Assert.False(FiltersView.PairHit(Area, 60, 0.5, 2, 1, 40, 2, 30, 49, out _)); // the top margin
        Assert.False(FiltersView.PairHit(Area, 169.5, 50, 2, 1, 40, 1, 30, 49, out _)); // one map: cell 1 is empty
        Assert.False(FiltersView.PairHit(Area, 200, 50, 2, 1, 40, 2, 30, 49, out _)); // outside
    }

    [Fact]
    public void MapRect_IsTheMapPairHitFinds_EveryPixelCentreOfEveryMap()
    {
        Assert.Equal(new PixelRect(140, 1, 59, 98), FiltersView.MapRect(Area, 2, 1, 40, 1));
        // A 3 x 2 grid of 5 maps (7 x 4 pixels) in a 300 x 120 area, kernels 30 wide: the centre of pixel (x, y) of map
        // c in MapRect (where the marker goes) hits (x, y, c).
        var area = new PixelRect(10, 20, 300, 120);
        for (int c = 0; c < 5; c++)
        {
            PixelRect r = FiltersView.MapRect(area, 3, 2, 30, c);
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 7; x++)
                {
                    Assert.True(FiltersView.PairHit(area, r.X + (x + 0.5) * r.Width / 7, r.Y + (y + 0.5) * r.Height / 4, 3, 2, 30, 5, 7, 4, out TensorPoint p), $"map {c} ({x}, {y})");
                    Assert.Equal(new TensorPoint(x, y, c), p);
                }
        }
    }
}
