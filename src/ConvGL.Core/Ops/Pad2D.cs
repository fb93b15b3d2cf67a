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
/// ReflectionPad2d, ReplicationPad2d, CircularPad2d): output (C, H + top + bottom, W + left + right), where output
/// (y, x) holds input (y - top, x - left) mapped through the border (<see cref="Borders.Map"/>, periodic, so pads
/// wider than the map keep reflecting as np.pad does). A negative amount removes that many rows or columns.</summary>
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
        return ((int)oh, (int)ow);
    }

    public static Tensor Apply(Tensor input, PadOptions o)
    {
        if (input.Rank != 3) throw new ConvGLException($"pad takes a (C, H, W) map, got {input.ShapeString}");
        (int oh, int ow) = OutputSize(input.H, input.W, o);
        if ((long)input.C * oh * ow > Limits.StackMapValues)
            throw new ConvGLException($"pad {o} makes {input.C} maps of {ow}x{oh}, more than {Limits.StackMapValues} values");
        var output = Tensor.Chw(input.C, oh, ow);
        for (int c = 0; c < input.C; c++)
            for (int y = 0; y < oh; y++)
            {
                int sy = Borders.Map(y - o.Top, input.H, o.Border);
                for (int x = 0; x < ow; x++)
                {
                    int sx = Borders.Map(x - o.Left, input.W, o.Border);
                    output[c, y, x] = sy < 0 || sx < 0 ? o.Value : input[c, sy, sx];
                }
            }
        return output;
    }
}
