using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="BatchNorm.Apply"/> (shaders/channel_affine.comp): y = a[c] * x + b[c]; with
/// <see cref="PRelu"/>, PReLU with one slope per channel (a[c], <see cref="Elementwise.PRelu"/>). The parameters are
/// uploaded once per <see cref="SetParameters"/>. shaders/channel_affine_fast.comp runs wherever the tensor fits a
/// texel view and its planes fit a dispatch (every map a stack makes): the plane from the invocation id, texel-view
/// loads, 4 elements per invocation (rgba32f ones when a plane holds a multiple of 4 values).</summary>
public sealed class GpuChannelAffine : IDisposable
{
    private readonly GlContext _context;
    private readonly GlBuffer _affine;
    private GlProgram? _program;
    private ScratchTensors? _scratch;

    public int Channels { get; private set; }

    /// <summary>PReLU instead of the affine map: x where x &gt;= 0, a[c] x where x &lt; 0 (the shift is unused).</summary>
    public bool PRelu { get; init; }

    /// <summary>For tests: force channel_affine.comp (<see cref="ConvPath.Direct"/>; affine only).</summary>
    internal ConvPath Choice { get; set; }

    /// <summary>The shader of the last <see cref="Run"/>, for tests and the HUD.</summary>
    public string Variant { get; private set; } = "(not run yet)";

    private const int PerInvocation = 4;
    // [VEC 4, VEC 1, VEC 4 with 32-byte stores] programs of channel_affine_fast.comp, made on first use; and its
    // SCALE_ONLY pair.
    private readonly GlProgram?[] _fast = new GlProgram?[3], _scaleOnly = new GlProgram?[2];

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
        GL gl = _context.Gl;
        long planes = input.Length / inner;
        if (input.Length > 0 && (Choice != ConvPath.Direct || PRelu) && planes <= 65535 && inner <= 65535L * 64 * PerInvocation
            && input.Length <= ComputeOp.MaxTexelViewFloats(gl))
        {
            RunFast(input, output, inner, (int)planes, _affine, Channels);
            return;
        }
        if (PRelu) throw new ConvGLException($"prelu on the GPU takes at most 65535 planes of at most {65535L * 64 * PerInvocation} values within a texel view; got {planes} planes of {inner} values");
        Variant = "channel_affine: 1 value/invocation";
        _program ??= _context.Shaders.Compute("channel_affine.comp");
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

    /// <summary>Whether <see cref="RunWithParameters"/> can take planes of <paramref name="inner"/> values (the fast shader's limits).</summary>
    internal static bool FastFits(GL gl, long length, int inner) =>
        length > 0 && length / inner <= 65535 && inner <= 65535L * 64 * PerInvocation && length <= ComputeOp.MaxTexelViewFloats(gl);

    /// <summary>The affine map with parameters another pass wrote on the GPU: a[0..channels) then b[0..channels) in
    /// <paramref name="parameters"/>, plane p using entry p % channels (instance normalisation's per-plane affine).</summary>
    internal void RunWithParameters(GpuTensor input, GpuTensor output, int inner, GlBuffer parameters, int channels)
    {
        if (!ReferenceEquals(input, output)) output.Resize(input.C, input.H, input.W);
        RunFast(input, output, inner, input.Length / inner, parameters, channels);
    }

    private void RunFast(GpuTensor input, GpuTensor output, int inner, int planes, GlBuffer parameters, int channels)
    {
        GL gl = _context.Gl;
        bool vec4 = inner % 4 == 0;
        int plane = vec4 ? inner / 4 : inner;
        // Planes of an even count of vec4s: pairs of them as 32-byte stores.
        bool u64 = vec4 && plane % 2 == 0 && _context.WideStores;
        int v = u64 ? 2 : vec4 ? 0 : 1;
        GlProgram p = _fast[v] ??= _context.Shaders.Compute("channel_affine_fast.comp", ("VEC", vec4 ? 4 : 1), ("NV", PerInvocation),
            ("PRELU", PRelu ? 1 : 0), ("SCALE_ONLY", 0), ("U64_STORES", u64 ? 1 : 0));
        Variant = u64 ? "channel_affine_fast: 16 values/invocation, 32-byte stores"
            : vec4 ? "channel_affine_fast: 16 values/invocation" : "channel_affine_fast: 4 values/invocation";
        ComputeOp.BeforeTexelReads(gl);
        p.Use();
        gl.Uniform1(p.Uniform("u_plane"), plane);
        gl.Uniform1(p.Uniform("u_channels"), channels);
        input.Buffer.BindTexelView(ComputeOp.InputUnit, vec4);
        parameters.BindTexelView(ComputeOp.ParamsUnit);
        output.Buffer.Bind(3);
        p.DispatchCovering((plane + PerInvocation - 1) / PerInvocation, planes, 1);
        ComputeOp.Barrier(gl);
    }

    /// <summary>y = scale[c] x with the scales in a GPU tensor of C values (a stack's mul layer gating a (C, H, W) map by
    /// a (C, 1, 1) one): channel_affine_fast.comp's SCALE_ONLY mode, the scales read through a texel view of their buffer.
    /// Nothing of this object's own parameters is used. False when the fast shader cannot take the map (the caller then
    /// runs the general broadcast).</summary>
    public bool TryRunScale(GpuTensor input, GpuTensor scales, GpuTensor output)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        GL gl = _context.Gl;
        int inner = input.H * input.W;
        if (input.Length == 0 || scales.Length != input.C || input.C > 65535 || inner > 65535L * 64 * PerInvocation || input.Length > ComputeOp.MaxTexelViewFloats(gl))
            return false;
        if (!ReferenceEquals(input, output)) output.Resize(input.C, input.H, input.W);
        bool vec4 = inner % 4 == 0;
        int v = vec4 ? 0 : 1, plane = vec4 ? inner / 4 : inner;
        GlProgram p = _scaleOnly[v] ??= _context.Shaders.Compute("channel_affine_fast.comp", ("VEC", vec4 ? 4 : 1), ("NV", PerInvocation), ("PRELU", 0), ("SCALE_ONLY", 1), ("U64_STORES", 0));
        Variant = "channel_affine_fast: scale by a map";
        ComputeOp.BeforeTexelReads(gl);
        p.Use();
        gl.Uniform1(p.Uniform("u_plane"), plane);
        gl.Uniform1(p.Uniform("u_channels"), input.C);
        input.Buffer.BindTexelView(ComputeOp.InputUnit, vec4);
        scales.Buffer.BindTexelView(ComputeOp.ParamsUnit);
        output.Buffer.Bind(3);
        p.DispatchCovering((plane + PerInvocation - 1) / PerInvocation, input.C, 1);
        ComputeOp.Barrier(gl);
        return true;
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
