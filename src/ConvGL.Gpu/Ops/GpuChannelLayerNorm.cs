using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="ChannelLayerNormLayer.Forward"/> (shaders/channel_norm.comp): each pixel's channels
/// normalised, 4 pixels per invocation where the plane is a multiple of 4 pixels (VEC4), else one. The parameters are
/// uploaded once.</summary>
public sealed class GpuChannelLayerNorm : IDisposable
{
    private readonly GlContext _context;
    private readonly GlBuffer _params;
    private readonly LayerNorm _parameters;
    private GlProgram? _program, _program4;
    private ScratchTensors? _scratch;

    public GpuChannelLayerNorm(GlContext context, LayerNorm parameters)
    {
        _context = context;
        _parameters = parameters;
        _params = new GlBuffer(context, "channel layernorm parameters");
        _params.Write([.. parameters.Scale, .. parameters.Shift]);
    }

    /// <summary>The program the last run used.</summary>
    public string Variant { get; private set; } = "(not run yet)";

    public void Run(GpuTensor input, GpuTensor output)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "layernorm");
        if (input.C != _parameters.Length)
            throw new ConvGLException($"layernorm has parameters for {_parameters.Length} channels, its input has {input.C}");
        GL gl = _context.Gl;
        if (input.Length > ComputeOp.MaxTexelViewFloats(gl))
            throw new ConvGLException($"layernorm: an input of {input.Length} values is beyond this driver's texel-buffer size");
        output.Resize(input.C, input.H, input.W);
        int plane = input.H * input.W;
        bool vec4 = plane % 4 == 0;
        GlProgram p = vec4 ? _program4 ??= _context.Shaders.Compute("channel_norm.comp", ("VEC4", 1))
            : _program ??= _context.Shaders.Compute("channel_norm.comp", ("VEC4", 0));
        Variant = vec4 ? "channel_norm: 4 pixels/invocation" : "channel_norm: 1 pixel/invocation";
        if (vec4) plane /= 4;
        ComputeOp.BeforeTexelReads(gl);
        p.Use();
        gl.Uniform1(p.Uniform("u_channels"), input.C);
        gl.Uniform1(p.Uniform("u_plane"), plane);
        gl.Uniform1(p.Uniform("u_epsilon"), _parameters.Epsilon);
        input.Buffer.BindTexelView(ComputeOp.InputUnit, vec4);
        _params.BindTexelView(ComputeOp.ParamsUnit);
        output.Buffer.Bind(3);
        if (plane > 0) p.DispatchFlat(plane);
        ComputeOp.Barrier(gl);
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(_context, "layernorm");
        return _scratch.Apply(input, Run);
    }

    public void Dispose()
    {
        _params.Dispose();
        _scratch?.Dispose();
    }
}
