namespace ConvGL.Core;

/// <summary>What the padded input holds outside the image. Names follow NumPy's np.pad.</summary>
public enum Border
{
    /// <summary>Constant 0 (np.pad "constant", OpenCV BORDER_CONSTANT, PyTorch padding).</summary>
    Zero,
    /// <summary>Repeat the edge pixel: a a a | a b c d | d d d (np.pad "edge", OpenCV BORDER_REPLICATE).</summary>
    Replicate,
    /// <summary>Mirror without repeating the edge: d c b | a b c d | c b a (np.pad "reflect", OpenCV BORDER_REFLECT_101).</summary>
    Reflect,
    /// <summary>Mirror repeating the edge: c b a | a b c d | d c b (np.pad "symmetric", OpenCV BORDER_REFLECT).</summary>
    Symmetric,
    /// <summary>Circular: b c d | a b c d | a b c (np.pad "wrap", OpenCV BORDER_WRAP).</summary>
    Wrap,
}

public static class Borders
{
    public static readonly IReadOnlyList<Border> All = Enum.GetValues<Border>();

    public static string Name(this Border b) => b.ToString().ToLowerInvariant();

    public static bool TryParse(string s, out Border border)
    {
        foreach (Border b in All)
        {
            if (b.Name() == s)
            {
                border = b;
                return true;
            }
        }
        border = default;
        return false;
    }

    public static string Names => string.Join("|", All.Select(Name));

    /// <summary>Maps a coordinate i (possibly outside [0, n)) to the source index the border reads,
    /// or -1 for <see cref="Border.Zero"/> outside the image. The reflections are periodic, so a pad
    /// wider than the image keeps reflecting, as np.pad does. The same formulas live in
    /// shaders/include/border.glsl.</summary>
    public static int Map(int i, int n, Border border)
    {
        if ((uint)i < (uint)n) return i;
        switch (border)
        {
            case Border.Zero:
                return -1;
            case Border.Replicate:
                return i < 0 ? 0 : n - 1;
            case Border.Reflect:
                {
                    if (n == 1) return 0;
                    int period = 2 * (n - 1);
                    int m = Mod(i, period);
                    return m < n ? m : period - m;
                }
            case Border.Symmetric:
                {
                    int period = 2 * n;
                    int m = Mod(i, period);
                    return m < n ? m : period - 1 - m;
                }
            case Border.Wrap:
                return Mod(i, n);
            default:
                throw new ArgumentOutOfRangeException(nameof(border), border, null);
        }
    }

    private static int Mod(int a, int n)
    {
        int m = a % n;
        return m < 0 ? m + n : m;
    }

    /// <summary>An explicitly padded copy of a (C, H, W) tensor: the slow, obvious definition of a border.</summary>
    public static Tensor Pad(Tensor input, int top, int bottom, int left, int right, Border border)
    {
        int c = input.C, h = input.H, w = input.W;
        var output = Tensor.Chw(c, h + top + bottom, w + left + right);
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < output.H; y++)
            {
                int sy = Map(y - top, h, border);
                for (int x = 0; x < output.W; x++)
                {
                    int sx = Map(x - left, w, border);
                    output[ch, y, x] = sy < 0 || sx < 0 ? 0f : input[ch, sy, sx];
                }
            }
        return output;
    }
}
