namespace ConvGL.Core.Ops;

/// <summary>Per-side amounts (negative ones crop) and what fills the new border: <see cref="Border"/> maps outside
/// coordinates as a conv's border does (np.pad "constant" with <see cref="Value"/> for <see cref="Border.Zero"/>,
/// "reflect", "edge" = <see cref="Border.Replicate"/>, "symmetric", "wrap").</summary>
public sealed record PadOptions(int Top, int Left, int Bottom, int Right, Border Border = Border.Zero, float Value = 0f)
{
    public override string ToString() =>
        $"[{Top}, {Left}, {Bottom}, {Right}] {Border.Name()}{(Border == Border.Zero && Value != 0f ? $" {Value}" : "")}";
}

/// <summary>Padding of every channel of a (C, H, W) map, ONNX Pad on the two spatial axes (PyTorch's ZeroPad2d,
/// ReflectionPad2d, ReplicationPad2d, CircularPad2d): output (C, H + top + bottom, W + left + right). A negative amount
/// removes that many rows or columns first, and the border then extends the map that is left (ONNX's reference slices
/// before it pads, and PyTorch's CircularPad2d wraps the cropped map: a wrap beside a crop on the other side takes the
/// columns the crop kept; a docs audit found it took the cropped ones): output (y, x) holds the kept map's (y - top,
/// x - left) for the positive amounts, mapped through the border (<see cref="Borders.Map"/>, periodic, so pads wider
/// than the map keep reflecting as np.pad does).</summary>
public static class Pad2D
{
    public static (int H, int W) OutputSize(int h, int w, PadOptions o)
    {
        long oh = (long)h + o.Top + o.Bottom, ow = (long)w + o.Left + o.Right;
        if (oh < 1 || ow < 1)
            throw new ConvGLException($"pad {o} leaves nothing of a {w}x{h} map (output {ow}x{oh})");
        if (oh * ow > Limits.ConvPlaneValues)
            throw new ConvGLException($"pad {o} makes a {ow}x{oh} map, more than {Limits.ConvPlaneValues} values per channel");
        if (o.Border != Border.Zero && (h == 0 || w == 0))
            throw new ConvGLException($"pad {o}: an empty map has nothing to reflect or repeat");
        (int keptH, int keptW) = Kept(h, w, o);
        if (o.Border != Border.Zero && (keptH < 1 || keptW < 1))
            throw new ConvGLException($"pad {o} crops all of a {w}x{h} map, leaving nothing to {o.Border.Name()} (a {o.Border.Name()} border extends the map left after the crops)");
        return ((int)oh, (int)ow);
    }

    /// <summary>The first row and column kept (the negative top and left amounts) and the positive top and left pads.</summary>
    public static (int Row, int Col, int Top, int Left) Origin(PadOptions o) =>
        (Math.Max(0, -o.Top), Math.Max(0, -o.Left), Math.Max(0, o.Top), Math.Max(0, o.Left));

    /// <summary>The size of the map left after the negative amounts (0 or more), which the border extends.</summary>
    public static (int H, int W) Kept(int h, int w, PadOptions o) =>
        ((int)Math.Max(0, (long)h - Math.Max(0, -(long)o.Top) - Math.Max(0, -(long)o.Bottom)),
         (int)Math.Max(0, (long)w - Math.Max(0, -(long)o.Left) - Math.Max(0, -(long)o.Right)));

    public static Tensor Apply(Tensor input, PadOptions o)
    {
        if (input.Rank != 3) throw new ConvGLException($"pad takes a (C, H, W) map, got {input.ShapeString}");
        (int oh, int ow) = OutputSize(input.H, input.W, o);
        if ((long)input.C * oh * ow > Limits.StackMapValues)
            throw new ConvGLException($"pad {o} makes {input.C} maps of {ow}x{oh}, more than {Limits.StackMapValues} values");
        var output = Tensor.Chw(input.C, oh, ow);
        (int row, int col, int top, int left) = Origin(o);
        (int kh, int kw) = Kept(input.H, input.W, o);
        for (int c = 0; c < input.C; c++)
            for (int y = 0; y < oh; y++)
            {
                int sy = Borders.Map(y - top, kh, o.Border);
                for (int x = 0; x < ow; x++)
                {
                    int sx = Borders.Map(x - left, kw, o.Border);
                    output[c, y, x] = sy < 0 || sx < 0 ? o.Value : input[c, row + sy, col + sx];
                }
            }
        return output;
    }
}
