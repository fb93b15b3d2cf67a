using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="PaddedPool2D.Apply"/> (shaders/padded_pool2d.comp): ONNX MaxPool /
/// AveragePool with per-side pads, dilation, ceil_mode and count_include_pad. Each of the input's C planes is
/// pooled alone, so a batch laid out as (N*C, H, W) works unchanged. Where the window fits an unrolled span and the output
/// is big enough to pay for its compile, it runs shaders/padded_pool2d_fast.comp (8 outputs along x per invocation, the
/// window compiled in, input through a texel view); else padded_pool2d.comp.</summary>
public sealed class GpuPaddedPool2D : IDisposable
{
    private readonly GlContext _context;
    private PaddedPoolOptions _options;
    private GlProgram? _program;
    private bool _fast, _texel, _vec4Loads, _vec4Stores, _u64;
    private (int C, int H, int W) _plannedFor;
    private ScratchTensors? _scratch;

    /// <summary>Outputs per invocation along x in padded_pool2d_fast.comp.</summary>
    private const int BlockX = 8;

    /// <summary>For tests: force padded_pool2d.comp, or padded_pool2d_fast.comp wherever it applies.</summary>
    internal ConvPath Choice
    {
        get;
        set
        {
            field = value;
            _program = null;
        }
    }

    /// <summary>The shader variant of the last <see cref="Run"/>, for tests and the bench.</summary>
    public string Variant => _program is null ? "(not run yet)"
        : _fast ? $"padded_pool2d_fast: {BlockX} x/invocation{(_vec4Loads ? ", vec4 loads" : "")}{(_u64 ? ", 32-byte stores" : _vec4Stores ? ", vec4 stores" : "")}"
        : $"padded_pool2d: 1 output/invocation{(_texel ? ", texel view" : "")}";

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
            if (value != _options) _program = null;
            _options = value;
        }
    }

    public void Run(GpuTensor input, GpuTensor output)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "padded pool2d");
        ConvGeometry g = PaddedPool2D.Geometry(input.H, input.W, _options);
        if (Pool2D.TooMuchWork("pool", input.C, g, _options.SizeY, _options.SizeX) is { } why) throw new ConvGLException(why);
        output.Resize(input.C, g.Y.Output, g.X.Output);
        if (_program is null || _plannedFor != (input.C, input.H, input.W)) Plan(input, output, g);
        GL gl = _context.Gl;
        GlProgram p = _program!;
        PaddedPoolOptions o = _options;
        if (_fast || _texel) ComputeOp.BeforeTexelReads(gl);
        p.Use();
        gl.Uniform3(p.Uniform("u_in_shape"), input.C, input.H, input.W);
        gl.Uniform3(p.Uniform("u_out_shape"), output.C, output.H, output.W);
        // The geometry's pads: the explicit ones, or SAME_* resolved for this input size.
        gl.Uniform2(p.Uniform("u_pad"), g.Y.PadBefore, g.X.PadBefore);
        gl.Uniform2(p.Uniform("u_pad_end"), g.Y.PadAfter, g.X.PadAfter);
        gl.Uniform1(p.Uniform("u_include_pad"), o.CountIncludePad ? 1 : 0);
        output.Buffer.Bind(3);
        if (_fast)
        {
            input.Buffer.BindTexelView(ComputeOp.InputUnit + (_vec4Loads ? 1u : 0u), vec4: _vec4Loads);
            p.DispatchCovering((output.W + BlockX - 1) / BlockX, output.H, output.C);
        }
        else
        {
            long loops = (long)o.SizeY * (o.SizeX + 1);
            if (ComputeOp.PastLoopLimit(_context, loops)) throw ComputeOp.LoopLimitError(_context, "pool2d", loops, $"a {o.SizeY}x{o.SizeX} window");
            gl.Uniform2(p.Uniform("u_size"), o.SizeY, o.SizeX);
            gl.Uniform2(p.Uniform("u_stride"), o.StrideY, o.StrideX);
            gl.Uniform2(p.Uniform("u_dilation"), o.DilationY, o.DilationX);
            if (_texel) input.Buffer.BindTexelView(ComputeOp.InputUnit);
            else input.Buffer.Bind(0);
            p.DispatchFlat(output.C * output.H * output.W);
        }
        ComputeOp.Barrier(gl);
    }

    /// <summary>The cost rule (as GpuPool2D's): the fast shader where its window row fits an unrolled span and the output
    /// is big enough to pay for compiling a program per (window, strides, dilations).</summary>
    private void Plan(GpuTensor input, GpuTensor output, ConvGeometry g)
    {
        PaddedPoolOptions o = _options;
        int max = o.Kind == PoolKind.Max ? 1 : 0;
        int span = (BlockX - 1) * o.StrideX + (o.SizeX - 1) * o.DilationX + 1;
        _texel = input.Length <= ComputeOp.MaxTexelViewFloats(_context.Gl);
        _fast = Choice != ConvPath.Direct && span <= ConvPlan.MaxSpan && o.SizeY <= ConvPlan.MaxUnrolledKernel && _texel &&
                (Choice == ConvPath.Fast || (long)output.C * output.H * output.W >= ConvPlan.MinFastOutputs);
        // Input rows of whole vec4s: rgba32f loads (every block's span starts the same shift past a multiple of 4);
        // output rows of whole vec4s: aligned vec4 stores (blocks start at multiples of 8).
        _vec4Loads = _fast && input.W % 4 == 0;
        _vec4Stores = _fast && output.W % 4 == 0;
        _u64 = _fast && output.W % 8 == 0 && _context.WideStores;
        int shift = ((-g.X.PadBefore) % 4 + 4) % 4;
        _program = _fast
            ? _context.Shaders.Compute("padded_pool2d_fast.comp", ("POOL_MAX", max), ("KH", o.SizeY), ("KW", o.SizeX),
                ("SY", o.StrideY), ("SX", o.StrideX), ("DY", o.DilationY), ("DX", o.DilationX), ("OX", BlockX),
                ("VEC4_LOADS", _vec4Loads ? 1 : 0), ("VEC4_SHIFT", _vec4Loads ? shift : 0), ("VEC4_STORES", _vec4Stores ? 1 : 0), ("U64_STORES", _u64 ? 1 : 0))
            : _context.Shaders.Compute("padded_pool2d.comp", ("POOL_MAX", max), ("TEXEL_VIEW", _texel ? 1 : 0));
        _plannedFor = (input.C, input.H, input.W);
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
