using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Pool2D.Apply"/>: max or average, PyTorch semantics. Planned once per (input shape,
/// options): shaders/pool2d_fast.comp (8 outputs along x per invocation, input through a texel view, window size and x
/// stride compiled in), or pool2d.comp (one output per invocation; input through the texel view too where it fits) for
/// small outputs, wide windows or inputs beyond the driver's texel-buffer size.</summary>
public sealed class GpuPool2D : IDisposable
{
    private readonly GlContext _context;
    private PoolOptions _options;
    private GlProgram? _program;
    private bool _fast, _vec4, _texel, _u64;
    private (int C, int H, int W) _plannedFor;
    private ScratchTensors? _scratch;

    public GpuPool2D(GlContext context, PoolOptions options)
    {
        _context = context;
        _options = options ?? throw new ArgumentNullException(nameof(options));
    }

    /// <summary>The shader variant of the last <see cref="Run"/>, for the bench table and the HUD.</summary>
    public string Variant => _program is null ? "(not run yet)"
        : _fast ? $"pool2d_fast: {BlockX} x/invocation{(_vec4 ? ", vec4 loads and stores" : "")}{(_u64 ? ", 32-byte stores" : "")}"
        : $"pool2d: 1 output/invocation{(_texel ? ", texel view" : "")}";

    /// <summary>Outputs per invocation along x in pool2d_fast.comp.</summary>
    private const int BlockX = 8;

    /// <summary>For tests: force pool2d.comp, or pool2d_fast.comp wherever it applies.</summary>
    internal ConvPath Choice
    {
        get;
        set
        {
            field = value;
            _program = null;
        }
    }

    public PoolOptions Options
    {
        get => _options;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value != _options) _program = null;
            _options = value;
        }
    }

    public void Run(GpuTensor input, GpuTensor output)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "pool2d");
        ConvGeometry g = Pool2D.Geometry(input.H, input.W, _options);
        if (Pool2D.TooMuchWork("pool", input.C, g, _options.SizeY, _options.SizeX) is { } why) throw new ConvGLException(why);
        output.Resize(input.C, g.Y.Output, g.X.Output);
        if (_program is null || _plannedFor != (input.C, input.H, input.W)) Plan(input, output);
        GL gl = _context.Gl;
        GlProgram p = _program!;
        if (_fast)
        {
            ComputeOp.BeforeTexelReads(gl);
            p.Use();
            gl.Uniform3(p.Uniform("u_in_shape"), input.C, input.H, input.W);
            gl.Uniform3(p.Uniform("u_out_shape"), output.C, output.H, output.W);
            gl.Uniform1(p.Uniform("u_stride_y"), _options.EffectiveStrideY);
            gl.Uniform2(p.Uniform("u_pad"), _options.PadY, _options.PadX);
            input.Buffer.BindTexelView(ComputeOp.InputUnit);
            if (_vec4) input.Buffer.BindTexelView(ComputeOp.InputUnit + 1, vec4: true);
            output.Buffer.Bind(3);
            p.DispatchCovering((output.W + BlockX - 1) / BlockX, output.H, output.C);
            ComputeOp.Barrier(gl);
            return;
        }
        long loops = (long)_options.SizeY * (_options.SizeX + 1);
        if (ComputeOp.PastLoopLimit(_context, loops)) throw ComputeOp.LoopLimitError(_context, "pool2d", loops, $"a {_options.SizeY}x{_options.SizeX} window");
        if (_texel) ComputeOp.BeforeTexelReads(gl);
        p.Use();
        gl.Uniform3(p.Uniform("u_in_shape"), input.C, input.H, input.W);
        gl.Uniform3(p.Uniform("u_out_shape"), output.C, output.H, output.W);
        gl.Uniform2(p.Uniform("u_size"), _options.SizeY, _options.SizeX);
        gl.Uniform2(p.Uniform("u_stride"), _options.EffectiveStrideY, _options.EffectiveStrideX);
        gl.Uniform2(p.Uniform("u_pad"), _options.PadY, _options.PadX);
        if (_texel) input.Buffer.BindTexelView(ComputeOp.InputUnit);
        else input.Buffer.Bind(0);
        output.Buffer.Bind(3);
        p.DispatchFlat(output.C * output.H * output.W);
        ComputeOp.Barrier(gl);
    }

    /// <summary>The cost rule: the fast shader where its window row fits an unrolled span and the output is big enough
    /// to pay for compiling a program per (window, stride).</summary>
    private void Plan(GpuTensor input, GpuTensor output)
    {
        int max = _options.Kind == PoolKind.Max ? 1 : 0;
        int span = (BlockX - 1) * _options.EffectiveStrideX + _options.SizeX;
        _texel = input.Length <= ComputeOp.MaxTexelViewFloats(_context.Gl);
        _fast = Choice != ConvPath.Direct && span <= ConvPlan.MaxSpan && _options.SizeY <= ConvPlan.MaxUnrolledKernel && _texel &&
                (Choice == ConvPath.Fast || (long)output.C * output.H * output.W >= ConvPlan.MinFastOutputs);
        // Rows of whole vec4s in and out: rgba32f loads (every block's window row starts the same VEC4_SHIFT floats past
        // a multiple of 4: blocks are 8 * stride apart) and aligned vec4 stores.
        _vec4 = _fast && input.W % 4 == 0 && output.W % 4 == 0;
        // Output rows of whole multiples of 8: each block's 8 outputs as one 32-byte store.
        _u64 = _vec4 && output.W % 8 == 0 && _context.WideStores;
        int shift = ((-_options.PadX) % 4 + 4) % 4;
        _program = _fast
            ? _context.Shaders.Compute("pool2d_fast.comp", ("POOL_MAX", max), ("KH", _options.SizeY), ("KW", _options.SizeX),
                ("SX", _options.EffectiveStrideX), ("OX", BlockX), ("VEC4", _vec4 ? 1 : 0), ("VEC4_SHIFT", _vec4 ? shift : 0), ("U64_STORES", _u64 ? 1 : 0))
            : _context.Shaders.Compute("pool2d.comp", ("POOL_MAX", max), ("TEXEL_VIEW", _texel ? 1 : 0));
        _plannedFor = (input.C, input.H, input.W);
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(_context, "pool2d");
        return _scratch.Apply(input, Run);
    }

    public void Dispose()
    {
        _scratch?.Dispose();
    }
}
