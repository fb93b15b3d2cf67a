using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Reduce.Apply"/> and <see cref="Reduce.Arg"/> (shaders/reduce.comp) for reduced
/// axes that are adjacent once size-1 axes are set aside: the tensor seen as (outer, R, inner), one invocation per kept
/// value. <paramref name="selectLast"/>: ArgMax / ArgMin take the last index on a tie.</summary>
public sealed class GpuReduce(GlContext context, ReduceKind kind, bool selectLast = false) : IDisposable
{
    private GlProgram? _program;

    public ReduceKind Kind { get; } = kind;
    public bool SelectLast { get; } = selectLast;

    /// <summary>(outer, R, inner) of <paramref name="shape"/> reduced over <paramref name="axes"/>; null when the reduced
    /// axes (of size above 1) are not adjacent.</summary>
    public static (int Outer, int Count, int Inner)? Blocks(int[] shape, IReadOnlyCollection<int> axes)
    {
        int first = -1, last = -1;
        for (int d = 0; d < shape.Length; d++)
            if (axes.Contains(d) && shape[d] != 1)
            {
                if (first < 0) first = d;
                last = d;
            }
        if (first < 0) return (shape.Aggregate(1, (p, d) => p * d), 1, 1);
        for (int d = first; d <= last; d++)
            if (!axes.Contains(d) && shape[d] != 1) return null;
        int outer = shape[..first].Aggregate(1, (p, d) => p * d), count = shape[first..(last + 1)].Aggregate(1, (p, d) => p * d);
        return (outer, count, shape[(last + 1)..].Aggregate(1, (p, d) => p * d));
    }

    /// <summary>Reduces into <paramref name="output"/>, resized to <paramref name="storage"/> (outer * inner values).</summary>
    public void Run(GpuTensor input, GpuTensor output, int outer, int count, int inner, (int C, int H, int W) storage)
    {
        context.CheckThread();
        context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "reduce");
        if ((long)outer * count * inner != input.Length || (long)storage.C * storage.H * storage.W != (long)outer * inner)
            throw new ArgumentException($"reduce: ({outer}, {count}, {inner}) and storage {storage} do not fit {input.ShapeString}");
        // One pass over the reduced values, two for L2 and log-sum-exp (they find their scale first).
        long passes = Kind is ReduceKind.L2 or ReduceKind.LogSumExp ? 2 : 1;
        long loops = passes * count;
        if (ComputeOp.PastLoopLimit(context, loops)) throw ComputeOp.LoopLimitError(context, "reduce", loops, $"{count:N0} values reduced into each output");
        output.Resize(storage.C, storage.H, storage.W);
        GL gl = context.Gl;
        GlProgram p = _program ??= context.Shaders.Compute("reduce.comp", ("MODE", (int)Kind), ("LAST", SelectLast ? 1 : 0));
        p.Use();
        gl.Uniform1(p.Uniform("u_outer"), outer);
        gl.Uniform1(p.Uniform("u_count"), count);
        gl.Uniform1(p.Uniform("u_inner"), inner);
        input.Buffer.Bind(0);
        output.Buffer.Bind(3);
        if (outer * inner > 0) p.DispatchFlat(outer * inner);
        ComputeOp.Barrier(gl);
    }

    public void Dispose() { }
}
