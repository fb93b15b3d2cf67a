using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Pool2D.Apply"/> (shaders/pool2d.comp): max or average, PyTorch semantics.</summary>
public sealed class GpuPool2D : IDisposable
{
    private readonly GlContext _context;
    private PoolOptions _options;
    private GlProgram? _program;
    private GpuTensor? _scratchIn, _scratchOut;

    public GpuPool2D(GlContext context, PoolOptions options)
    {
        _context = context;
        _options = options ?? throw new ArgumentNullException(nameof(options));
    }

    /// <summary>The shader variant that runs, for the bench table and the HUD.</summary>
    public string Variant => "pool2d: 1 output/invocation";

    public PoolOptions Options
    {
        get => _options;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Kind != _options.Kind) _program = null;
            _options = value;
        }
    }

    public void Run(GpuTensor input, GpuTensor output)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "pool2d");
        ConvGeometry g = Pool2D.Geometry(input.H, input.W, _options);
        output.Resize(input.C, g.Y.Output, g.X.Output);
        _program ??= _context.Shaders.Compute("pool2d.comp", ("POOL_MAX", _options.Kind == PoolKind.Max ? 1 : 0));
        GL gl = _context.Gl;
        GlProgram p = _program;
        p.Use();
        gl.Uniform3(p.Uniform("u_in_shape"), input.C, input.H, input.W);
        gl.Uniform3(p.Uniform("u_out_shape"), output.C, output.H, output.W);
        gl.Uniform2(p.Uniform("u_size"), _options.SizeY, _options.SizeX);
        gl.Uniform2(p.Uniform("u_stride"), _options.EffectiveStrideY, _options.EffectiveStrideX);
        gl.Uniform2(p.Uniform("u_pad"), _options.PadY, _options.PadX);
        input.Buffer.Bind(0);
        output.Buffer.Bind(3);
        p.DispatchCovering(output.W, output.H, output.C);
        ComputeOp.Barrier(gl);
    }

    public Tensor Apply(Tensor input)
    {
        _scratchIn ??= new GpuTensor(_context, label: "pool2d scratch in");
        _scratchOut ??= new GpuTensor(_context, label: "pool2d scratch out");
        _scratchIn.Upload(input);
        Run(_scratchIn, _scratchOut);
        return _scratchOut.Download();
    }

    public void Dispose()
    {
        _scratchIn?.Dispose();
        _scratchOut?.Dispose();
    }
}
