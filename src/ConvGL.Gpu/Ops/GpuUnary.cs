using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Unary.Apply(Tensor, UnaryKind)"/> (shaders/unary.comp). Input and output may be
/// the same tensor.</summary>
public sealed class GpuUnary(GlContext context, UnaryKind kind) : IDisposable
{
    private GlProgram? _program;
    private ScratchTensors? _scratch;

    public UnaryKind Kind { get; } = kind;

    public void Run(GpuTensor input, GpuTensor output)
    {
        context.CheckThread();
        context.FlushDisposables();
        GL gl = context.Gl;
        if (input.Length > ComputeOp.MaxTexelViewFloats(gl))
            throw new ConvGLException($"{Kind.Name()}: an input of {input.Length} values is beyond this driver's texel-buffer size");
        if (!ReferenceEquals(input, output)) output.Resize(input.C, input.H, input.W);
        GlProgram p = _program ??= context.Shaders.Compute("unary.comp", ("OP", (int)Kind));
        ComputeOp.BeforeTexelReads(gl);
        p.Use();
        gl.Uniform1(p.Uniform("u_count"), input.Length);
        input.Buffer.BindTexelView(ComputeOp.InputUnit);
        output.Buffer.Bind(3);
        if (input.Length > 0) p.DispatchFlat(input.Length);
        ComputeOp.Barrier(gl);
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(context, Kind.Name());
        return _scratch.Apply(input.Rank == 3 ? input : input.Reshape(1, 1, input.Length), Run).Reshape(input.Shape);
    }

    public void Dispose() => _scratch?.Dispose();
}
