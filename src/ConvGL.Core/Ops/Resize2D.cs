namespace ConvGL.Core.Ops;

public enum ResizeMode { Nearest, Linear }

/// <summary>How an output coordinate maps to an input one (ONNX Resize's coordinate_transformation_mode).</summary>
public enum ResizeCoordinates { HalfPixel, PytorchHalfPixel, AlignCorners, Asymmetric, TfHalfPixelForNn }

/// <summary>How nearest mode rounds a fractional input coordinate (ONNX Resize's nearest_mode).</summary>
public enum ResizeRounding { RoundPreferFloor, RoundPreferCeil, Floor, Ceil }

/// <summary>A resize of the two spatial axes: the output size (fixed, or the input's times <see cref="ScaleY"/> /
/// <see cref="ScaleX"/>, floored), the interpolation and the coordinate mapping. With <see cref="SizeY"/> set the scales
/// are output / input, as ONNX computes them from <c>sizes</c>.</summary>
public sealed record ResizeOptions
{
    public ResizeMode Mode { get; init; } = ResizeMode.Nearest;
    public ResizeCoordinates Coordinates { get; init; } = ResizeCoordinates.HalfPixel;
    public ResizeRounding Rounding { get; init; } = ResizeRounding.RoundPreferFloor;
    public float ScaleY { get; init; } = 1f;
    public float ScaleX { get; init; } = 1f;
    /// <summary>A fixed output height and width (0: from the scales).</summary>
    public int SizeY { get; init; }
    public int SizeX { get; init; }

    public override string ToString() =>
        $"{Mode.ToString().ToLowerInvariant()} {(SizeY > 0 ? $"to {SizeX}x{SizeY}" : $"by ({ScaleY}, {ScaleX})")} {Coordinates}";
}

/// <summary>ONNX Resize (Upsample) on the two spatial axes of a (C, H, W) map, modes nearest and linear (bilinear,
/// no antialiasing): output (oy, ox) reads the input at x = f(ox) per <see cref="ResizeCoordinates"/>
/// (half_pixel: (o + 1/2) / scale - 1/2; pytorch_half_pixel: the same, 0 for a one-pixel output; align_corners:
/// o (in - 1) / (in scale - 1), the resized length unfloored as ONNX's reference has it; asymmetric: o / scale;
/// tf_half_pixel_for_nn: (o + 1/2) / scale). Nearest rounds x per
/// <see cref="ResizeRounding"/> and clamps it into the map; linear weights the two neighbours, the map's edge repeated
/// beyond it. Coordinates in double.</summary>
public static class Resize2D
{
    public static (int H, int W) OutputSize(int h, int w, ResizeOptions o)
    {
        long oh = o.SizeY > 0 ? o.SizeY : (long)Math.Floor(h * (double)o.ScaleY);
        long ow = o.SizeX > 0 ? o.SizeX : (long)Math.Floor(w * (double)o.ScaleX);
        if (!(o.ScaleY > 0 && o.ScaleX > 0 && float.IsFinite(o.ScaleY) && float.IsFinite(o.ScaleX)))
            throw new ConvGLException($"resize scales must be positive and finite, got ({o.ScaleY}, {o.ScaleX})");
        if (h < 1 || w < 1 || oh < 1 || ow < 1)
            throw new ConvGLException($"resize {o} of a {w}x{h} map leaves an empty output ({ow}x{oh})");
        if (oh * ow > Limits.ConvPlaneValues)
            throw new ConvGLException($"resize {o} of a {w}x{h} map gives {ow}x{oh}, more than {Limits.ConvPlaneValues} values per channel");
        return ((int)oh, (int)ow);
    }

    /// <summary>The scales the coordinate mapping uses: the given ones, or output / input for a fixed size.</summary>
    public static (double Y, double X) Scales(int h, int w, ResizeOptions o)
    {
        (int oh, int ow) = OutputSize(h, w, o);
        return (o.SizeY > 0 ? (double)oh / h : o.ScaleY, o.SizeX > 0 ? (double)ow / w : o.ScaleX);
    }

    /// <summary>The input coordinate of output index <paramref name="o"/> along an axis of <paramref name="n"/> values
    /// resized to <paramref name="outN"/> by <paramref name="scale"/>.</summary>
    public static double Source(int o, int n, int outN, double scale, ResizeCoordinates c) => c switch
    {
        ResizeCoordinates.HalfPixel => (o + 0.5) / scale - 0.5,
        ResizeCoordinates.PytorchHalfPixel => outN > 1 ? (o + 0.5) / scale - 0.5 : 0,
        // ONNX's resized length is n * scale, not floored (equal to the output size when sizes were given).
        ResizeCoordinates.AlignCorners => n * scale == 1 ? 0 : o * (double)(n - 1) / (n * scale - 1),
        ResizeCoordinates.Asymmetric => o / scale,
        ResizeCoordinates.TfHalfPixelForNn => (o + 0.5) / scale,
        _ => throw new ArgumentOutOfRangeException(nameof(c)),
    };

    public static int Nearest(double x, int n, ResizeRounding r)
    {
        double f = Math.Floor(x);
        double i = r switch
        {
            ResizeRounding.Floor => f,
            ResizeRounding.Ceil => Math.Ceiling(x),
            ResizeRounding.RoundPreferFloor => x - f == 0.5 ? f : Math.Round(x, MidpointRounding.AwayFromZero),
            _ => x - f == 0.5 ? f + 1 : Math.Round(x, MidpointRounding.AwayFromZero),
        };
        return (int)Math.Clamp(i, 0, n - 1);
    }

    public static Tensor Apply(Tensor input, ResizeOptions o)
    {
        if (input.Rank != 3) throw new ConvGLException($"resize takes a (C, H, W) map, got {input.ShapeString}");
        (int oh, int ow) = OutputSize(input.H, input.W, o);
        if ((long)input.C * oh * ow > Limits.StackMapValues)
            throw new ConvGLException($"resize {o} makes {input.C} maps of {ow}x{oh}, more than {Limits.StackMapValues} values");
        (double sy, double sx) = Scales(input.H, input.W, o);
        var output = Tensor.Chw(input.C, oh, ow);
        for (int y = 0; y < oh; y++)
        {
            double fy = Source(y, input.H, oh, sy, o.Coordinates);
            for (int x = 0; x < ow; x++)
            {
                double fx = Source(x, input.W, ow, sx, o.Coordinates);
                for (int c = 0; c < input.C; c++)
                {
                    if (o.Mode == ResizeMode.Nearest)
                    {
                        output[c, y, x] = input[c, Nearest(fy, input.H, o.Rounding), Nearest(fx, input.W, o.Rounding)];
                        continue;
                    }
                    double y0 = Math.Floor(fy), x0 = Math.Floor(fx), wy = fy - y0, wx = fx - x0;
                    int ya = Math.Clamp((int)y0, 0, input.H - 1), yb = Math.Clamp((int)y0 + 1, 0, input.H - 1);
                    int xa = Math.Clamp((int)x0, 0, input.W - 1), xb = Math.Clamp((int)x0 + 1, 0, input.W - 1);
                    double top = (1 - wx) * input[c, ya, xa] + wx * input[c, ya, xb];
                    double bottom = (1 - wx) * input[c, yb, xa] + wx * input[c, yb, xb];
                    output[c, y, x] = (float)((1 - wy) * top + wy * bottom);
                }
            }
        }
        return output;
    }
}
