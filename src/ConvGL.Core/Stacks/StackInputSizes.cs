namespace ConvGL.Core.Stacks;

/// <summary>The input sizes a stack runs at, for the one error an array input of another size gets. An array (.npy)
/// goes into a stack as it is, never resized, so its size must be one the stack's layers line up at: a residual Add
/// needs its two maps equal after their different strides and pads, a pool or a kernel wider than its map has no
/// output. For ResNet18 (this export) the map must be even before each of the three residual downsamplings (the 3x3
/// stride-2 conv's output and the 1x1 stride-2 shortcut's differ by one otherwise) and 7x7 or more before the final
/// 7x7 AveragePool: ONNX Runtime refuses the same sizes, so this is the model's limit, not ConvGL's.</summary>
public static class StackInputSizes
{
    /// <summary>How far from the given size the search for sizes that work goes (plans are cheap; this is an error path).</summary>
    public const int SearchRange = 512;

    /// <summary>Nothing when the stack plans at (<paramref name="height"/>, <paramref name="width"/>); else one error
    /// naming <paramref name="file"/>, the array's <paramref name="shape"/>, the layer that does not fit and the nearest
    /// heights and widths that do.
    /// An array past the limits (attention's work on a large map) is told the largest halving that runs:
    /// <paramref name="smaller"/> says how to get it (features: --size for a stack, which resizes arrays it is given
    /// with it; cropping for a model, which never resizes one).</summary>
    public static void CheckArray(Stack stack, string file, IReadOnlyList<int> shape, int height, int width, Func<(int H, int W), string>? smaller = null)
    {
        if (StackPlan.TryPlan(stack, height, width, null, out _, out string? error, out bool tooLarge)) return;
        string where = stack.SourcePath is { } source ? source + ": " : "";
        string why = error!.StartsWith(where, StringComparison.Ordinal) ? error[where.Length..] : error;
        // Sizes as the array's own shape, (C, H, W): the plan's texts say W x H, and "e.g. 227x224, H x W" beside
        // "stack input 224x230" read as two orders in one line.
        string Array((int H, int W) e) => Tensor.ShapeText([.. shape.Take(shape.Count - 2), e.H, e.W]);
        string fix = tooLarge
            ? LargestHalving(stack, height, width) is { } fit
                ? $"it runs at {Array(fit)} ({(smaller ?? (e => $"e.g. crop the array to {Array(e)}"))(fit)})"
                : "no halving of the size down to 8x8 runs"
            : Accepted(stack, height, width, e => $"e.g. the array {Array(e)}; crop or pad it");
        throw new ConvGLException($"{file}: the array {Tensor.ShapeText(shape)} goes in as it is and does not fit stack '{stack.Name}': {why}; {fix}");
    }

    /// <summary>Nothing when the stack plans for frames of (<paramref name="height"/>, <paramref name="width"/>) (the
    /// live window's source); else one error: the layer that does not fit, and the nearest frame sizes that do with a
    /// scene of one of them as the example. Maps over ConvGL's limits are a <see cref="MapsTooLargeException"/>, whose
    /// fix for a picture, a video or a camera is the window's --source-max.</summary>
    public static void CheckFrames(Stack stack, int height, int width) =>
        CheckSize(stack, height, width, e => $"e.g. --source scene:{e.W}x{e.H}, or a picture of that size", e => $"e.g. --source scene:{e.W}x{e.H}");

    /// <summary><see cref="CheckFrames"/> with the command's own way to ask for a size: <paramref name="fits"/> for the
    /// nearest sizes that line up, <paramref name="smaller"/> for a size under the limits (features: "e.g. --size WxH").</summary>
    public static void CheckSize(Stack stack, int height, int width, Func<(int H, int W), string> fits, Func<(int H, int W), string> smaller)
    {
        if (StackPlan.TryPlan(stack, height, width, null, out _, out string? error, out bool tooLarge)) return;
        if (!tooLarge) throw new ConvGLException($"{error}; {Accepted(stack, height, width, fits)}");
        string halved = LargestHalving(stack, height, width) is { } fit
            ? $"it runs at {fit.W}x{fit.H} ({smaller(fit)})"
            : "no halving of the size down to 8x8 runs";
        throw new MapsTooLargeException($"{error}; {halved}", error!);
    }

    /// <summary>The largest (height, width) halved from the given size, both at least 8, at which the stack's maps pass
    /// ConvGL's limits, or null.</summary>
    public static (int H, int W)? LargestHalving(Stack stack, int height, int width)
    {
        for (int h = height / 2, w = width / 2; w >= 8 && h >= 8; w /= 2, h /= 2)
            if (StackPlan.TryCreate(stack, h, w, null, out _, out _))
                return (h, w);
        return null;
    }

    /// <summary>"it runs at ..." naming the nearest sizes (with <paramref name="example"/> of the first pair), or why
    /// none are named.</summary>
    private static string Accepted(Stack stack, int height, int width, Func<(int H, int W), string> example)
    {
        bool Plans(int h, int w) => h >= 1 && w >= 1 && StackPlan.TryCreate(stack, h, w, null, out _, out _);
        // A square size that works, to hold one axis while the other is searched: each axis's sizes are independent
        // for convs, pools and adds (a flatten before a linear layer ties them; then the pair is checked below).
        int square = Nearest(Math.Max(height, width), n => Plans(n, n)).FirstOrDefault();
        if (square == 0)
        {
            // No square runs: the layers tie height and width (a flatten or linear layer takes a fixed number of values,
            // 63 = 7 x 9 of them after a pool: "no size within 512 runs" was false, a docs audit found). The nearest pair
            // near the given size, both axes searched together (a bounded search: this is an error path).
            (int H, int W)? pair = null;
            for (int d = 0; d <= PairRange && pair is null; d++)
                foreach ((int h, int w) in Ring(height, width, d))
                    if (Plans(h, w))
                    {
                        pair = (h, w);
                        break;
                    }
            return pair is { } p ? $"it runs at {p.W}x{p.H} (W x H), the nearest size found ({example(p)})"
                : $"no size within {PairRange} of {width}x{height} (W x H) runs, and no square size within {SearchRange}";
        }
        int[] heights = Plans(height, square) ? [height] : Nearest(height, h => Plans(h, square));
        int[] widths = Plans(square, width) ? [width] : Nearest(width, w => Plans(square, w));
        var pairs = heights.SelectMany(h => widths.Select(w => (H: h, W: w))).Where(p => Plans(p.H, p.W)).ToArray();
        if (pairs.Length == 0) return $"it runs at {square}x{square}, for one (no size nearer {width}x{height} (W x H) runs)";
        string Axis(string name, int[] sizes, int given) =>
            sizes.Length == 1 && sizes[0] == given ? $"{name} {given} is fine" : $"{name} {string.Join(" or ", sizes)} instead of {given}";
        return $"the nearest sizes it runs at: {Axis("height", heights, height)}, {Axis("width", widths, width)} " +
               $"({example(pairs[0])})";
    }

    /// <summary>How far from the given size the search over (height, width) pairs goes where no square size runs.</summary>
    public const int PairRange = 48;

    // The sizes d steps from (h, w) in either axis (Chebyshev distance d), at least 1 each: d = 0 is (h, w) itself.
    private static IEnumerable<(int H, int W)> Ring(int h, int w, int d)
    {
        for (int dy = -d; dy <= d; dy++)
            for (int dx = -d; dx <= d; dx++)
                if ((Math.Abs(dy) == d || Math.Abs(dx) == d) && h + dy >= 1 && w + dx >= 1)
                    yield return (h + dy, w + dx);
    }

    /// <summary>The nearest n below and the nearest above <paramref name="around"/> (within <see cref="SearchRange"/>)
    /// for which <paramref name="works"/> holds, nearest first; <paramref name="around"/> itself when it works.</summary>
    private static int[] Nearest(int around, Func<int, bool> works)
    {
        if (works(around)) return [around];
        int below = 0, above = 0;
        for (int d = 1; d <= SearchRange && (below == 0 || above == 0); d++)
        {
            if (below == 0 && around - d >= 1 && works(around - d)) below = around - d;
            if (above == 0 && works(around + d)) above = around + d;
        }
        return new[] { below, above }.Where(n => n > 0).OrderBy(n => Math.Abs(n - around)).ThenBy(n => n).ToArray();
    }
}
