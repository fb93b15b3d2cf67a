using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="BatchNorm.Apply"/> (shaders/channel_affine.comp): y = a[c] * x + b[c].
/// The parameters are uploaded once per <see cref="SetParameters"/>.</summary>
public sealed class GpuChannelAffine : IDisposable
{
    private readonly GlContext _context;
    private readonly GlBuffer _affine;
    private GlProgram? _program;
    private ScratchTensors? _scratch;

    public int Channels { get; private set; }

    public GpuChannelAffine(GlContext context, BatchNorm parameters)
    {
        _context = context;
        _affine = new GlBuffer(context, "channel affine parameters");
        SetParameters(parameters);
    }

    public void SetParameters(BatchNorm parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _affine.Write([.. parameters.Scale, .. parameters.Shift]);
        Channels = parameters.Channels;
    }

    /// <summary>Applies per channel to a tensor of channel-major planes of <paramref name="inner"/>
    /// values each, repeated over any leading batch: (C, H, W) is inner = H*W; (N*C, H, W) works the same.</summary>
    public void Run(GpuTensor input, GpuTensor output, int inner)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        if (inner < 1 || input.Length % (inner * Channels) != 0)
            throw new ConvGLException($"batchnorm over {Channels} channels of {inner} values cannot take a tensor of {input.Length} values");
        if (!ReferenceEquals(input, output)) output.Resize(input.C, input.H, input.W);
        _program ??= _context.Shaders.Compute("channel_affine.comp");
        GL gl = _context.Gl;
        GlProgram p = _program;
        p.Use();
        gl.Uniform1(p.Uniform("u_count"), input.Length);
        gl.Uniform1(p.Uniform("u_inner"), inner);
        gl.Uniform1(p.Uniform("u_channels"), Channels);
        input.Buffer.Bind(0);
        _affine.Bind(1);
        output.Buffer.Bind(3);
        p.DispatchFlat(input.Length);
        ComputeOp.Barrier(gl);
    }

    /// <summary>(C, H, W) in, (C, H, W) out.</summary>
    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(_context, "channel affine");
        return _scratch.Apply(input, (i, o) => Run(i, o, input.H * input.W));
    }

    public void Dispose()
    {
        _affine.Dispose();
        _scratch?.Dispose();
    }
}
