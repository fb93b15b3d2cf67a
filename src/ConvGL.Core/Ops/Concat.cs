namespace ConvGL.Core.Ops;

/// <summary>Joins tensors along one axis (ONNX Concat, torch.cat): every other dimension must agree; the output's
/// <c>axis</c> dimension is the sum of the inputs'. Along axis 1 of (N, C, H, W) (or axis 0 of a (C, H, W) map) it
/// stacks channels, the inputs' maps one after the other.</summary>
public static class Concat
{
    /// <summary>The output shape; <paramref name="axis"/> is already in [0, rank).</summary>
    public static int[] OutputShape(IReadOnlyList<int[]> shapes, int axis)
    {
        if (shapes.Count == 0) throw new ConvGLException("concat needs at least one input");
        int[] first = shapes[0];
        if (axis < 0 || axis >= first.Length) throw new ConvGLException($"concat axis {axis} is out of range for rank {first.Length}");
        long total = 0;
        foreach (int[] s in shapes)
        {
            bool ok = s.Length == first.Length;
            for (int d = 0; ok && d < s.Length; d++) ok = d == axis || s[d] == first[d];
            if (!ok)
                throw new ConvGLException($"concat along axis {axis}: shapes {string.Join(" and ", shapes.Select(Text))} differ in another dimension");
            total += s[axis];
        }
        if (total > int.MaxValue) throw new ConvGLException($"concat along axis {axis}: {total} entries is too many");
        int[] shape = (int[])first.Clone();
        shape[axis] = (int)total;
        if (shape.Aggregate(1L, (a, d) => a * d) > Limits.StackMapValues)
            throw new ConvGLException($"concat along axis {axis} gives {Tensor.ShapeText(shape)}, more than {Limits.StackMapValues} values");
        return shape;
    }

    public static Tensor Apply(IReadOnlyList<Tensor> inputs, int axis)
    {
        int[] shape = OutputShape(inputs.Select(t => t.Shape).ToArray(), axis);
        var output = new Tensor(shape);
        // outer blocks (the dimensions before the axis), each the inputs' slabs one after the other.
        long outer = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        int at = 0;
        for (long o = 0; o < outer; o++)
            foreach (Tensor t in inputs)
            {
                int slab = t.Length / (int)Math.Max(1, outer);
                if (outer > 0 && slab > 0) Array.Copy(t.Data, (int)(o * slab), output.Data, at, slab);
                at += slab;
            }
        return output;
    }

    private static string Text(int[] s) => "(" + string.Join(", ", s) + ")";
}
