using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Concat.Apply"/> (shaders/concat.comp): inputs joined along an axis of their
/// logical shapes, one dispatch per input. Along the channels of (C, H, W) maps (a stack's concat layer, or any axis
/// with nothing before it) each input is one contiguous block of the output: a buffer-to-buffer copy.</summary>
public sealed class GpuConcat(GlContext context) : IDisposable
{
    private GlProgram? _program;

    /// <summary>Joins <paramref name="inputs"/> (logical shapes <paramref name="shapes"/>) along <paramref name="axis"/>
    /// into <paramref name="output"/>, resized to <paramref name="storage"/> (which must hold the joined shape's values).</summary>
    public void Run(IReadOnlyList<GpuTensor> inputs, IReadOnlyList<int[]> shapes, int axis, GpuTensor output, (int C, int H, int W) storage)
    {
        context.CheckThread();
        context.FlushDisposables();
        foreach (GpuTensor t in inputs)
            if (ReferenceEquals(t, output)) throw new ArgumentException("concat: the output must be a different tensor");
        int[] shape = Concat.OutputShape(shapes, axis);
        long n = shape.Aggregate(1L, (a, d) => a * d);
        if ((long)storage.C * storage.H * storage.W != n) throw new ArgumentException($"storage {storage} does not hold the {n} values of the joined shape");
        output.Resize(storage.C, storage.H, storage.W);
        long outer = shape[..axis].Aggregate(1L, (a, d) => a * d);
        if (outer == 0 || n == 0) return;
        Copy(inputs, (int)outer, (int)(n / outer), output);
    }

    /// <summary>One dispatch per input: its <paramref name="outer"/> slabs into the output's slabs of <paramref name="outSlab"/> values.</summary>
    private void Copy(IReadOnlyList<GpuTensor> inputs, int outer, int outSlab, GpuTensor output)
    {
        GL gl = context.Gl;
        if (outer == 1)
        {
            // Each input is one block of the output (channels of a stack's maps): buffer-to-buffer copies.
            long offset = 0;
            for (int k = 0; k < inputs.Count; k++)
            {
                ComputeOp.CopyFloats(gl, inputs[k], 0, output, offset, inputs[k].Length);
                offset += inputs[k].Length;
            }
            return;
        }
        GlProgram p = _program ??= context.Shaders.Compute("concat.comp");
        p.Use();
        output.Buffer.Bind(3);
        int at = 0;
        for (int k = 0; k < inputs.Count; k++)
        {
            int slab = inputs[k].Length / outer;
            if (slab > 0)
            {
                gl.Uniform1(p.Uniform("u_slab"), slab);
                gl.Uniform1(p.Uniform("u_outer"), outer);
                gl.Uniform1(p.Uniform("u_out_slab"), outSlab);
                gl.Uniform1(p.Uniform("u_at"), at);
                inputs[k].Buffer.Bind(0);
                p.DispatchFlat(inputs[k].Length);
            }
            at += slab;
        }
        ComputeOp.Barrier(gl);
    }

    /// <summary>(C, H, W) maps of one size joined along the channels (a stack's concat layer): each input one block of
    /// the output. Allocates nothing, so a per-frame stack run can call it.</summary>
    public void Run(IReadOnlyList<GpuTensor> inputs, GpuTensor output)
    {
        context.CheckThread();
        context.FlushDisposables();
        int c = 0;
        for (int k = 0; k < inputs.Count; k++)
        {
            GpuTensor t = inputs[k];
            if (ReferenceEquals(t, output)) throw new ArgumentException("concat: the output must be a different tensor");
            if (t.H != inputs[0].H || t.W != inputs[0].W)
                throw new ConvGLException($"concat needs maps of one size, got {string.Join(" and ", inputs.Select(i => i.ShapeString))}");
            c += t.C;
        }
        output.Resize(c, inputs[0].H, inputs[0].W);
        if (output.Length > 0) Copy(inputs, 1, output.Length, output);
    }

    public void Dispose() { }
}
