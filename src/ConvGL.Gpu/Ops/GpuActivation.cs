using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Activation.Apply(Tensor, ActivationKind, float)"/> (shaders/activation.comp).
/// Input and output may be the same tensor (in place).</summary>
public sealed class GpuActivation : IDisposable
{
    private readonly GlContext _context;
    private ActivationKind _kind;
    private GlProgram? _program;
    private GpuTensor? _scratch;

    public float Slope { get; set; }

    public GpuActivation(GlContext context, ActivationKind kind, float slope = Activation.DefaultLeakySlope)
    {
        _context = context;
        _kind = kind;
        Slope = slope;
    }

    public ActivationKind Kind
    {
        get => _kind;
        set
        {
            if (value != _kind) _program = null;
            _kind = value;
        }
    }

    public void Run(GpuTensor input, GpuTensor output)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        if (!ReferenceEquals(input, output)) output.Resize(input.C, input.H, input.W);
        _program ??= _context.Shaders.Compute("activation.comp", ("ACTIVATION", (int)_kind));
        GL gl = _context.Gl;
        GlProgram p = _program;
        int n = input.Length;
        p.Use();
        gl.Uniform1(p.Uniform("u_count"), n);
        gl.Uniform1(p.Uniform("u_slope"), Slope);
        input.Buffer.Bind(0);
        output.Buffer.Bind(3);
        p.DispatchFlat(n);
        ComputeOp.Barrier(gl);
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new GpuTensor(_context, label: "activation scratch");
        _scratch.Upload(input.Rank == 3 ? input : input.Reshape(1, 1, input.Length));
        Run(_scratch, _scratch);
        return _scratch.Download().Reshape(input.Shape);
    }

    public void Dispose() => _scratch?.Dispose();
}
