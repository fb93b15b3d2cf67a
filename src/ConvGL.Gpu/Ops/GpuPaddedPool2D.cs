using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="PaddedPool2D.Apply"/> (shaders/padded_pool2d.comp): ONNX MaxPool /
/// AveragePool with per-side pads, dilation, ceil_mode and count_include_pad. Each of the input's C planes is
/// pooled alone, so a batch laid out as (N*C, H, W) works unchanged.</summary>
public sealed class GpuPaddedPool2D : IDisposable
{
    private readonly GlContext _context;
    private PaddedPoolOptions _options;
    private GlProgram? _program;
    private ScratchTensors? _scratch;

    public GpuPaddedPool2D(GlContext context, PaddedPoolOptions options)
    {
        _context = context;
        _options = options ?? throw new ArgumentNullException(nameof(options));
    }

    public PaddedPoolOptions Options
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
        ComputeOp.CheckDistinct(input, output, "padded pool2d");
        ConvGeometry g = PaddedPool2D.Geometry(input.H, input.W, _options);
        output.Resize(input.C, g.Y.Output, g.X.Output);
        _program ??= _context.Shaders.Compute("padded_pool2d.comp", ("POOL_MAX", _options.Kind == PoolKind.Max ? 1 : 0));
        GL gl = _context.Gl;
        GlProgram p = _program;
        PaddedPoolOptions o = _options;
        p.Use();
        gl.Uniform3(p.Uniform("u_in_shape"), input.C, input.H, input.W);
        gl.Uniform3(p.Uniform("u_out_shape"), output.C, output.H, output.W);
        gl.Uniform2(p.Uniform("u_size"), o.SizeY, o.SizeX);
        gl.Uniform2(p.Uniform("u_stride"), o.StrideY, o.StrideX);
        gl.Uniform2(p.Uniform("u_dilation"), o.DilationY, o.DilationX);
        // The geometry's pads: the explicit ones, or SAME_* resolved for this input size.
        gl.Uniform2(p.Uniform("u_pad"), g.Y.PadBefore, g.X.PadBefore);
        gl.Uniform2(p.Uniform("u_pad_end"), g.Y.PadAfter, g.X.PadAfter);
        gl.Uniform1(p.Uniform("u_include_pad"), o.CountIncludePad ? 1 : 0);
        input.Buffer.Bind(0);
        output.Buffer.Bind(3);
        p.DispatchCovering(output.W, output.H, output.C);
        ComputeOp.Barrier(gl);
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(_context, "padded pool2d");
        return _scratch.Apply(input, Run);
    }

    public void Dispose()
    {
        _scratch?.Dispose();
    }
}
