using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="StridedView.Read"/> (shaders/strided_copy.comp): ONNX Transpose, Slice, Split,
/// Expand and Tile (one view each) and Gather (one view per index). A view that is one contiguous run is a buffer-to-buffer copy.</summary>
public sealed class GpuStridedCopy(GlContext context) : IDisposable
{
    private const int MaxRank = 6, MaxPeeledCopies = 4096;
    private GlProgram? _program;
    private readonly int[] _dims = new int[MaxRank], _inStrides = new int[MaxRank], _outStrides = new int[MaxRank];

    /// <summary>Writes the viewed values of <paramref name="input"/> contiguously into <paramref name="output"/>, resized to <paramref name="storage"/>.</summary>
    public void Run(GpuTensor input, StridedView view, GpuTensor output, (int C, int H, int W) storage)
    {
        if ((long)storage.C * storage.H * storage.W != view.Count) throw new ArgumentException($"storage {storage} does not hold the view's {view.Count} values");
        ComputeOp.CheckDistinct(input, output, "strided copy");
        output.Resize(storage.C, storage.H, storage.W);
        StridedView v = view.Coalesced();
        Copy(input, v, Indexing.Strides(v.Dims), 0, output);
    }

    /// <summary>Writes the viewed values into <paramref name="output"/> (already sized) at <paramref name="outStrides"/> from
    /// <paramref name="outOffset"/>: a block of a bigger output (one index of a Gather).</summary>
    public void Copy(GpuTensor input, StridedView view, long[] outStrides, long outOffset, GpuTensor output)
    {
        context.CheckThread();
        context.FlushDisposables();
        long count = view.Count;
        if (count == 0) return;
        if (view.Dims.Length > MaxRank)
        {
            // More separate axes than the shader indexes (a Tile of every axis of a rank-4 map is 8): one copy per index
            // of the first axis, each a view of one rank less. A few copies; far more would be a slow crawl, so refused.
            long copies = view.Dims[..^MaxRank].Aggregate(1L, (p, d) => p * d);
            if (copies > MaxPeeledCopies)
                throw new ConvGLException($"a copy that steps over {view.Dims.Length} separate axes (after merging contiguous ones) would take {copies} dispatches; the GPU takes up to {MaxRank} axes, or {MaxPeeledCopies} dispatches of them");
            for (int i = 0; i < view.Dims[0]; i++)
                Copy(input, new StridedView(view.Offset + i * view.Strides[0], view.Dims[1..], view.Strides[1..]), outStrides[1..], outOffset + i * outStrides[0], output);
            return;
        }
        GL gl = context.Gl;
        bool contiguous = view.Dims.Length == 1 && view.Strides[0] == 1 && outStrides[0] == 1;
        if (view.Dims.Length == 0 || contiguous)
        {
            ComputeOp.CopyFloats(gl, input, view.Offset, output, outOffset, count);
            return;
        }
        Array.Clear(_dims);
        Array.Clear(_inStrides);
        Array.Clear(_outStrides);
        for (int d = 0; d < view.Dims.Length; d++)
        {
            _dims[d] = view.Dims[d];
            _inStrides[d] = (int)view.Strides[d];
            _outStrides[d] = (int)outStrides[d];
        }
        GlProgram p = _program ??= context.Shaders.Compute("strided_copy.comp");
        p.Use();
        gl.Uniform1(p.Uniform("u_count"), (int)count);
        gl.Uniform1(p.Uniform("u_rank"), view.Dims.Length);
        gl.Uniform1(p.Uniform("u_dims"), _dims);
        gl.Uniform1(p.Uniform("u_in_strides"), _inStrides);
        gl.Uniform1(p.Uniform("u_out_strides"), _outStrides);
        gl.Uniform1(p.Uniform("u_in_offset"), (int)view.Offset);
        gl.Uniform1(p.Uniform("u_out_offset"), (int)outOffset);
        input.Buffer.Bind(0);
        output.Buffer.Bind(3);
        p.DispatchFlat((int)count);
        ComputeOp.Barrier(gl);
    }

    public void Dispose() { }
}
