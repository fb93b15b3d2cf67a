namespace ConvGL.Core.Ops;

public enum ResizeMode { Nearest, Linear, Cubic }

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
    /// <summary>Cubic's coefficient (ONNX's cubic_coeff_a: -0.75, PyTorch's bicubic; -0.5 is Keys' / TensorFlow's).</summary>
    public float CubicA { get; init; } = -0.75f;
    /// <summary>Cubic: taps outside the map get weight 0 and the others are renormalised (ONNX's exclude_outside).</summary>
    public bool ExcludeOutside { get; init; }

    public override string ToString() =>
        $"{Mode.ToString().ToLowerInvariant()} {(SizeY > 0 ? $"to {SizeX}x{SizeY}" : $"by ({ScaleY}, {ScaleX})")} {Coordinates}";
}

/// <summary>ONNX Resize (Upsample) on the two spatial axes of a (C, H, W) map, modes nearest and linear (bilinear,
/// no antialiasing): output (oy, ox) reads the input at x = f(ox) per <see cref="ResizeCoordinates"/>
/// (half_pixel: (o + 1/2) / scale - 1/2; pytorch_half_pixel: the same, 0 for a one-pixel output; align_corners:
/// o (in - 1) / (in scale - 1), the resized length unfloored as ONNX's reference has it; asymmetric: o / scale;
/// tf_half_pixel_for_nn: (o + 1/2) / scale). Nearest rounds x per
/// <see cref="ResizeRounding"/> and clamps it into the map; linear weights the two neighbours, cubic the four, the map's
/// edge repeated beyond it (or, with exclude_outside, outside taps dropped and the weights renormalised). Cubic reads a
/// whole-number coordinate's pixel alone, as ONNX's reference; linear always weights both neighbours, (1 - w) a + w b, as
/// ONNX's reference, ONNX Runtime and PyTorch do, so an infinity beside it at weight 0 still makes NaN (0 x inf).
/// Coordinates in double.</summary>
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

    /// <summary>The weights of the taps at floor(x) - 1 .. floor(x) + 2 for the fractional part t (Keys' cubic
    /// convolution kernel with coefficient a, ONNX's formula).</summary>
    public static (double, double, double, double) CubicWeights(double t, double a) =>
    (
        ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
        ((a + 2) * t - (a + 3)) * t * t + 1,
        ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
        ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a
    );

    /// <summary>Cubic interpolation along both axes at (fy, fx) of plane c.</summary>
    private static double Cubic(Tensor input, int c, double fy, double fx, ResizeOptions o)
    {
        (int[] ys, double[] wy) = Taps(fy, input.H, o);
        (int[] xs, double[] wx) = Taps(fx, input.W, o);
        double sum = 0;
        for (int i = 0; i < ys.Length; i++)
        {
            double row = 0;
            for (int j = 0; j < xs.Length; j++) row += wx[j] * input[c, ys[i], xs[j]];
            sum += wy[i] * row;
        }
        return sum;
    }

    /// <summary>The four taps (indices clamped into the map) and weights around x; one tap of weight 1 when x is whole.</summary>
    public static (int[] Index, double[] Weight) Taps(double x, int n, ResizeOptions o)
    {
        double f = Math.Floor(x);
        if (x == f) return ([Math.Clamp((int)f, 0, n - 1)], [1.0]);
        (double w0, double w1, double w2, double w3) = CubicWeights(x - f, o.CubicA);
        double[] w = [w0, w1, w2, w3];
        int[] idx = new int[4];
        double total = 0;
        for (int k = 0; k < 4; k++)
        {
            int i = (int)f - 1 + k;
            if (o.ExcludeOutside && (i < 0 || i >= n)) w[k] = 0;
            idx[k] = Math.Clamp(i, 0, n - 1);
            total += w[k];
        }
        if (o.ExcludeOutside)
            for (int k = 0; k < 4; k++) w[k] /= total;
        return (idx, w);
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
                    if (o.Mode == ResizeMode.Cubic)
                    {
                        output[c, y, x] = (float)Cubic(input, c, fy, fx, o);
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
