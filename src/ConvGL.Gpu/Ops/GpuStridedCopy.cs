using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="StridedView.Read"/> (shaders/strided_copy.comp): ONNX Transpose, Slice, Split,
/// Expand and Tile (one view each) and Gather (one view per index). A view that is one contiguous run is a buffer-to-buffer copy.</summary>
public sealed class GpuStridedCopy(GlContext context) : IDisposable
{
    private const int MaxRank = 6, MaxPeeledCopies = 4096;
    // strided_copy.comp per (rank, vec4 stores, texel-view input), made on first use.
    private readonly GlProgram?[] _programs = new GlProgram?[MaxRank * 4];
    private readonly int[] _dims = new int[MaxRank], _inStrides = new int[MaxRank], _outStrides = new int[MaxRank];
    // The last view run, merged, and its output strides: a caller that keeps its view (a stack layer) allocates nothing per run.
    private StridedView? _view, _merged;
    private long[] _mergedStrides = [];

    /// <summary>Whether the last shader copy stored 4 values per invocation (tests; <see cref="Variant"/>).</summary>
    internal bool LastVec4 { get; private set; }

    /// <summary>Whether the last copy ran transpose4.comp (a plain 2D transpose in 4 x 4 or 4 x 8 blocks).</summary>
    internal bool LastTranspose4 { get; private set; }

    /// <summary>How the last shader copy ran, for the bench table.</summary>
    public string Variant => LastTranspose4 ? (_lastWide ? "transpose4.comp: 4 x 8 blocks, rgba32f loads, 32-byte stores" : "transpose4.comp: 4 x 4 blocks, rgba32f loads, vec4 stores") : $"strided_copy.comp: {(LastVec4 ? "4 values/invocation, vec4 stores" : "1 value/invocation")}, input through {(_lastTexel ? "a texel view" : "a storage block")}";
    private bool _lastTexel;
    // transpose4.comp with 4 and with 8 output columns per invocation, made on first use; whether the last ran 8.
    private GlProgram? _transpose4, _transpose8;
    private bool _lastWide;

    /// <summary>Writes the viewed values of <paramref name="input"/> contiguously into <paramref name="output"/>, resized to <paramref name="storage"/>.</summary>
    public void Run(GpuTensor input, StridedView view, GpuTensor output, (int C, int H, int W) storage)
    {
        if ((long)storage.C * storage.H * storage.W != view.Count) throw new ArgumentException($"storage {storage} does not hold the view's {view.Count} values");
        ComputeOp.CheckDistinct(input, output, "strided copy");
        output.Resize(storage.C, storage.H, storage.W);
        if (!ReferenceEquals(view, _view))
        {
            _merged = view.Coalesced();
            _mergedStrides = Indexing.Strides(_merged.Dims);
            _view = view;
        }
        Copy(input, _merged!, _mergedStrides, 0, output);
    }

    /// <summary>Writes the viewed values into <paramref name="output"/> (already sized) at <paramref name="outStrides"/> from
    /// <paramref name="outOffset"/>: a block of a bigger output (one index of a Gather).</summary>
    public void Copy(GpuTensor input, StridedView view, long[] outStrides, long outOffset, GpuTensor output)
    {
        context.CheckThread();
        context.FlushDisposables();
        LastTranspose4 = false;
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
        // Long contiguous rows (a channel shuffle's planes, a Split of channels in a batch): one buffer copy each, which
        // llvmpipe does as a memcpy, rather than one storage load and store per value.
        long rows = count / view.Dims[^1];
        if (view.Strides[^1] == 1 && outStrides[^1] == 1 && view.Dims[^1] >= MinCopyRow && rows <= MaxCopyRows)
        {
            CopyRows(gl, input, view, outStrides, outOffset, output);
            return;
        }
        if (Transposes4(input, view, outStrides, outOffset, gl))
        {
            Transpose4(gl, input, view, outStrides, outOffset, output);
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
        // 4 outputs per invocation and a vec4 store where every group of 4 consecutive outputs is one aligned vec4: the
        // innermost dimension contiguous in the output and a multiple of 4 long, every other output stride and the offset
        // multiples of 4. transpose-16 (16 channels to channels-last): 20-30 ms with one value per invocation, storage
        // loads and the rank a uniform (bench/README.md).
        int rank = view.Dims.Length;
        bool vec4 = outStrides[^1] == 1 && view.Dims[^1] % 4 == 0 && outOffset % 4 == 0;
        for (int d = 0; d < rank - 1; d++) vec4 &= outStrides[d] % 4 == 0;
        bool texel = input.Length <= ComputeOp.MaxTexelViewFloats(gl);
        int key = ((rank - 1) * 2 + (vec4 ? 1 : 0)) * 2 + (texel ? 1 : 0);
        GlProgram p = _programs[key] ??= context.Shaders.Compute("strided_copy.comp", ("RANK", rank), ("VEC4", vec4 ? 1 : 0), ("TEXEL_INPUT", texel ? 1 : 0));
        (LastVec4, _lastTexel) = (vec4, texel);
        p.Use();
        gl.Uniform1(p.Uniform("u_count"), (int)count);
        gl.Uniform1(p.Uniform("u_dims"), _dims);
        gl.Uniform1(p.Uniform("u_in_strides"), _inStrides);
        gl.Uniform1(p.Uniform("u_out_strides"), _outStrides);
        gl.Uniform1(p.Uniform("u_in_offset"), (int)view.Offset);
        gl.Uniform1(p.Uniform("u_out_offset"), (int)outOffset);
        if (texel)
        {
            ComputeOp.BeforeTexelReads(gl);
            input.Buffer.BindTexelView(ComputeOp.InputUnit);
        }
        else input.Buffer.Bind(0);
        output.Buffer.Bind(3);
        p.DispatchFlat((int)(vec4 ? count / 4 : count));
        ComputeOp.Barrier(gl);
    }

    /// <summary>Whether the view is a plain 2D transpose transpose4.comp copies: two axes, the outer stepping 1 value and
    /// the inner a whole input row (at least the outer's length), written row-major into rows of whole vec4s, every
    /// length, pitch and offset a multiple of 4, the input within the texel-buffer size.</summary>
    private static bool Transposes4(GpuTensor input, StridedView view, long[] outStrides, long outOffset, GL gl) =>
        view.Dims.Length == 2 && view.Strides[0] == 1 && view.Strides[1] >= view.Dims[0] && outStrides[1] == 1 &&
        view.Dims[0] % 4 == 0 && view.Dims[1] % 4 == 0 && view.Strides[1] % 4 == 0 && outStrides[0] % 4 == 0 &&
        view.Offset % 4 == 0 && outOffset % 4 == 0 && input.Length <= ComputeOp.MaxTexelViewFloats(gl);

    private void Transpose4(GL gl, GpuTensor input, StridedView view, long[] outStrides, long outOffset, GpuTensor output)
    {
        // 8 output columns per invocation and one 32-byte store per output row where the columns, pitch and offset allow.
        bool wide = context.WideStores && view.Dims[1] % 8 == 0 && outStrides[0] % 8 == 0 && outOffset % 8 == 0;
        GlProgram p = wide ? _transpose8 ??= context.Shaders.Compute("transpose4.comp", ("WIDE", 1))
            : _transpose4 ??= context.Shaders.Compute("transpose4.comp", ("WIDE", 0));
        (LastVec4, _lastTexel, LastTranspose4, _lastWide) = (true, true, true, wide);
        p.Use();
        gl.Uniform2(p.Uniform("u_dims"), (int)view.Dims[0], (int)view.Dims[1]);
        gl.Uniform2(p.Uniform("u_pitch"), (int)view.Strides[1], (int)outStrides[0]);
        gl.Uniform2(p.Uniform("u_offset"), (int)view.Offset, (int)outOffset);
        ComputeOp.BeforeTexelReads(gl);
        input.Buffer.BindTexelView(ComputeOp.InputUnit, vec4: true);
        output.Buffer.Bind(3);
        p.DispatchFlat((int)(view.Dims[0] / 4 * (view.Dims[1] / (wide ? 8 : 4))));
        ComputeOp.Barrier(gl);
    }

    private const int MinCopyRow = 256, MaxCopyRows = 4096;

    private void CopyRows(GL gl, GpuTensor input, StridedView view, long[] outStrides, long outOffset, GpuTensor output)
    {
        int outer = view.Dims.Length - 1;
        Array.Clear(_dims);
        long source = view.Offset, target = outOffset;
        while (true)
        {
            ComputeOp.CopyFloats(gl, input, source, output, target, view.Dims[^1]);
            // Odometer over the outer dimensions (_dims as the index: no allocation).
            int d = outer - 1;
            for (; d >= 0; d--)
            {
                source += view.Strides[d];
                target += outStrides[d];
                if (++_dims[d] < view.Dims[d]) break;
                source -= view.Strides[d] * view.Dims[d];
                target -= outStrides[d] * view.Dims[d];
                _dims[d] = 0;
            }
            if (d < 0) break;
        }
    }

    public void Dispose() { }
}
