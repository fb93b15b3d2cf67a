using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Softmax.Apply"/> (shaders/softmax.comp): softmax or log-softmax along the middle
/// dimension of (outer, n, inner) blocks of a tensor's values (its storage shape is kept).</summary>
public sealed class GpuSoftmax(GlContext context, bool log) : IDisposable
{
    private GlProgram? _program;
    private ScratchTensors? _scratch;

    public bool Log { get; } = log;

    public void Run(GpuTensor input, GpuTensor output, int outer, int n, int inner)
    {
        context.CheckThread();
        context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "softmax");
        if ((long)outer * n * inner != input.Length) throw new ArgumentException($"softmax: ({outer}, {n}, {inner}) does not cover {input.ShapeString}");
        // Three passes over the axis: the largest value, the sum of exponentials, the outputs.
        long loops = 3L * n;
        if (ComputeOp.PastLoopLimit(context, loops)) throw ComputeOp.LoopLimitError(context, "softmax", loops, $"an axis of {n:N0} values");
        output.Resize(input.C, input.H, input.W);
        GL gl = context.Gl;
        GlProgram p = _program ??= context.Shaders.Compute("softmax.comp", ("LOG", Log ? 1 : 0));
        p.Use();
        gl.Uniform1(p.Uniform("u_outer"), outer);
        gl.Uniform1(p.Uniform("u_n"), n);
        gl.Uniform1(p.Uniform("u_inner"), inner);
        input.Buffer.Bind(0);
        output.Buffer.Bind(3);
        if (outer * inner > 0) p.DispatchFlat(outer * inner);
        ComputeOp.Barrier(gl);
    }

    /// <summary>Softmax over the channels at every pixel of a (C, H, W) map (a stack's softmax layer).</summary>
    public void Run(GpuTensor input, GpuTensor output) => Run(input, output, 1, input.C, input.H * input.W);

    public Tensor Apply(Tensor input, int outer, int n, int inner)
    {
        _scratch ??= new ScratchTensors(context, "softmax");
        return _scratch.Apply(input.Reshape(1, 1, input.Length), (i, o) => Run(i, o, outer, n, inner)).Reshape(input.Shape);
    }

    public void Dispose() => _scratch?.Dispose();
}
