using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Reduce.Apply"/> and <see cref="Reduce.Arg"/> (shaders/reduce.comp) for reduced
/// axes that are adjacent once size-1 axes are set aside: the tensor seen as (outer, R, inner), one invocation per kept
/// value. <paramref name="selectLast"/>: ArgMax / ArgMin take the last index on a tie.</summary>
public sealed class GpuReduce(GlContext context, ReduceKind kind, bool selectLast = false) : IDisposable
{
    /// <summary>Lines longer than this many values of a mean, sum, max or min are reduced in two passes: chunks of
    /// <see cref="Chunk"/> values into partials, then the partials (a global pool of a 640x360 map: 900 chunks).</summary>
    public const int ChunkAbove = 4096;

    /// <summary>Values per partial of the first pass.</summary>
    public const int Chunk = 256;

    private GlProgram? _program, _chunked, _vec4;
    private GpuTensor? _partials;

    /// <summary>Which form the last run took, for tests: "one pass", "one pass, 4 values an invocation" or "two passes of
    /// 256-value chunks".</summary>
    internal string Variant { get; private set; } = "(not run yet)";

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
        // Long lines of a mean, sum, max or min: partials of chunks, then the partials (each pass loops at most a chunk
        // or the chunk count).
        bool chunked = count > ChunkAbove && Kind is ReduceKind.Mean or ReduceKind.Sum or ReduceKind.Max or ReduceKind.Min;
        int chunks = (count + Chunk - 1) / Chunk;
        // One pass over the reduced values, two for L2 and log-sum-exp (they find their scale first).
        long passes = Kind is ReduceKind.L2 or ReduceKind.LogSumExp ? 2 : 1;
        long loops = chunked ? chunks : passes * count;
        if (ComputeOp.PastLoopLimit(context, loops)) throw ComputeOp.LoopLimitError(context, "reduce", loops, $"{count:N0} values reduced into each output");
        if (chunked && (long)outer * inner * chunks > int.MaxValue / 2)
            throw new ConvGLException($"reduce: {outer:N0} x {inner:N0} lines of {chunks:N0} chunks are more partial results than one buffer holds");
        output.Resize(storage.C, storage.H, storage.W);
        GL gl = context.Gl;
        // Short lines whose kept values come in fours (a reduction over the channels of a map): 4 per invocation.
        if (!chunked && inner % 4 == 0 && Kind is ReduceKind.Mean or ReduceKind.Sum or ReduceKind.Max or ReduceKind.Min && input.Length <= ComputeOp.MaxTexelViewFloats(gl))
        {
            GlProgram p4 = _vec4 ??= context.Shaders.Compute("reduce.comp", ("MODE", (int)Kind), ("VEC4", 1));
            Variant = "one pass, 4 values an invocation";
            ComputeOp.BeforeTexelReads(gl);
            input.Buffer.BindTexelView(0, vec4: true);
            Dispatch(p4, outer, count, inner, count, 0, output, outer * inner / 4);
            return;
        }
        GlProgram p = _program ??= context.Shaders.Compute("reduce.comp", ("MODE", (int)Kind), ("LAST", SelectLast ? 1 : 0));
        // (Constant strings: a per-frame run allocates nothing.)
        Variant = chunked ? "two passes of 256-value chunks" : "one pass";
        GpuTensor source = input;
        int lineCount = count;
        if (chunked)
        {
            // Pass 1: a mean's chunks are summed (the join divides by the whole count).
            GlProgram p1 = _chunked ??= context.Shaders.Compute("reduce.comp", ("MODE", (int)(Kind == ReduceKind.Mean ? ReduceKind.Sum : Kind)), ("CHUNK", Chunk));
            _partials ??= new GpuTensor(context, label: "reduce partials");
            _partials.Resize(1, outer * chunks, inner);
            input.Buffer.Bind(0);
            Dispatch(p1, outer, count, inner, count, chunks, _partials, outer * inner * chunks);
            (source, lineCount) = (_partials, chunks);
        }
        source.Buffer.Bind(0);
        Dispatch(p, outer, lineCount, inner, count, 0, output, outer * inner);
    }

    // One run of reduce.comp (its input already bound at 0): the (outer, count, inner) blocks, the mean's divisor, the
    // chunks per line (pass 1 of two), `invocations` of them.
    private void Dispatch(GlProgram p, int outer, int count, int inner, int divisor, int chunks, GpuTensor output, int invocations)
    {
        GL gl = context.Gl;
        p.Use();
        gl.Uniform1(p.Uniform("u_outer"), outer);
        gl.Uniform1(p.Uniform("u_count"), count);
        gl.Uniform1(p.Uniform("u_inner"), inner);
        gl.Uniform1(p.Uniform("u_divisor"), divisor);
        gl.Uniform1(p.Uniform("u_chunks"), chunks);
        output.Buffer.Bind(3);
        if (invocations > 0) p.DispatchFlat(invocations);
        ComputeOp.Barrier(gl);
    }

    public void Dispose() => _partials?.Dispose();
}
