using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Unary.Apply(Tensor, UnaryKind)"/> (shaders/unary.comp): 4 values per invocation
/// where the count is a multiple of 4 (VEC4), else one. Input and output may be the same tensor.</summary>
public sealed class GpuUnary(GlContext context, UnaryKind kind) : IDisposable
{
    private GlProgram? _program, _program4;
    private ScratchTensors? _scratch;

    public UnaryKind Kind { get; } = kind;

    /// <summary>The program the last run used.</summary>
    public string Variant { get; private set; } = "(not run yet)";

    public void Run(GpuTensor input, GpuTensor output)
    {
        context.CheckThread();
        context.FlushDisposables();
        GL gl = context.Gl;
        if (input.Length > ComputeOp.MaxTexelViewFloats(gl))
            throw new ConvGLException($"{Kind.Name()}: an input of {input.Length} values is beyond this driver's texel-buffer size");
        if (!ReferenceEquals(input, output)) output.Resize(input.C, input.H, input.W);
        bool vec4 = input.Length % 4 == 0;
        GlProgram p = vec4 ? _program4 ??= context.Shaders.Compute("unary.comp", ("OP", (int)Kind), ("VEC4", 1))
            : _program ??= context.Shaders.Compute("unary.comp", ("OP", (int)Kind), ("VEC4", 0));
        Variant = vec4 ? "unary: 4 values/invocation" : "unary: 1 value/invocation";
        int count = vec4 ? input.Length / 4 : input.Length;
        ComputeOp.BeforeTexelReads(gl);
        p.Use();
        gl.Uniform1(p.Uniform("u_count"), count);
        input.Buffer.BindTexelView(ComputeOp.InputUnit, vec4);
        output.Buffer.Bind(3);
        if (count > 0) p.DispatchFlat(count);
        ComputeOp.Barrier(gl);
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(context, Kind.Name());
        return _scratch.Apply(input.Rank == 3 ? input : input.Reshape(1, 1, input.Length), Run).Reshape(input.Shape);
    }

    public void Dispose() => _scratch?.Dispose();
}
