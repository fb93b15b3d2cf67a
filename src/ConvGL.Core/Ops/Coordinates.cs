namespace ConvGL.Core.Ops;

/// <summary>Coordinate maps (CoordConv's, Liu et al. 2018): for an H x W map, channel 0 is x and channel 1 is y, each
/// running evenly from -1 at the first pixel to 1 at the last:
///
///   out[0, y, x] = 2 x / (W - 1) - 1,   out[1, y, x] = 2 y / (H - 1) - 1
///
/// (computed in double, stored as float32); an axis of one pixel is 0 all along it.</summary>
public static class Coordinates
{
    public static Tensor Apply(int h, int w)
    {
        if (h < 1 || w < 1) throw new ConvGLException($"coords: a {h}x{w} map has no pixels");
        var output = Tensor.Chw(2, h, w);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                output[0, y, x] = Along(x, w);
                output[1, y, x] = Along(y, h);
            }
        return output;
    }

    /// <summary>Position <paramref name="i"/> of <paramref name="n"/> on [-1, 1].</summary>
    public static float Along(int i, int n) => n == 1 ? 0f : (float)(2.0 * i / (n - 1) - 1.0);
}
