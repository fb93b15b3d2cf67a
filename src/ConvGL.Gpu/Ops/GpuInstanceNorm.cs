using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="InstanceNorm.Apply(Tensor, int)"/>: per-plane statistics in chunks (PlaneStats) and
/// the fast channel affine, or (beyond their limits, or forced by a test) instance_norm.comp, one workgroup per plane. The
/// parameters are uploaded once per <see cref="SetParameters"/>.</summary>
public sealed class GpuInstanceNorm : IDisposable
{
    private readonly GlContext _context;
    private readonly GlBuffer _params;
    private GlProgram? _program;
    private ScratchTensors? _scratch;
    private float _epsilon;
    private PlaneStats? _stats;
    private GlBuffer? _affine;
    private GpuChannelAffine? _apply;

    /// <summary>The path of the last <see cref="Run"/>: one workgroup per plane, or chunked statistics and the fast
    /// channel-affine shader for big planes.</summary>
    public string Variant { get; private set; } = "(not run yet)";

    /// <summary>For tests: <see cref="ConvPath.Direct"/> forces instance_norm.comp whatever the plane size.</summary>
    internal ConvPath Choice { get; set; }

    public int Channels { get; private set; }

    public GpuInstanceNorm(GlContext context, InstanceNorm parameters)
    {
        _context = context;
        _params = new GlBuffer(context, "instancenorm parameters");
        SetParameters(parameters);
    }

    public void SetParameters(InstanceNorm parameters)
    {
        _params.Write([.. parameters.Scale, .. parameters.Shift]);
        Channels = parameters.Channels;
        _epsilon = parameters.Epsilon;
    }

    /// <summary>Planes of <paramref name="plane"/> values; plane p is channel p % C.</summary>
    public void Run(GpuTensor input, GpuTensor output, int plane)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "instancenorm");
        if (plane < 1 || input.Length % ((long)plane * Channels) != 0)
            throw new ConvGLException($"instancenorm over {Channels} channels of {plane} values cannot take a tensor of {input.Length} values");
        output.Resize(input.C, input.H, input.W);
        GL gl = _context.Gl;
        if (Choice != ConvPath.Direct && plane >= PlaneStats.LaneChunk && GpuChannelAffine.FastFits(gl, input.Length, plane))
        {
            // Per-plane a and b from chunked statistics (one invocation per 256 values: the workgroup per plane below, with
            // its barriers and storage-block loads, is the slow path on llvmpipe, 3-6x slower on planes of 256-4096
            // values), then y = a x + b by the fast channel-affine shader. Tinier planes stay below: y = a x + b cancels
            // where a plane's variance is ~0 (a = scale / sqrt(epsilon)), which (x - mean) a does not.
            Variant = "plane_stats + channel_affine_fast";
            _affine ??= new GlBuffer(_context, "instancenorm per-plane affine");
            (_stats ??= new PlaneStats(_context)).Run(input, plane, 1, _params, Channels, _epsilon, _affine);
            (_apply ??= new GpuChannelAffine(_context, BatchNorm.FromAffine([1f], [0f]))).RunWithParameters(input, output, plane, _affine, input.Length / plane);
            return;
        }
        long loops = 3L * ((plane + 63) / 64) + 16;
        if (ComputeOp.PastLoopLimit(_context, loops)) throw ComputeOp.LoopLimitError(_context, "instancenorm", loops, $"planes of {plane:N0} values");
        Variant = "instance_norm: a workgroup per plane";
        GlProgram p = _program ??= _context.Shaders.Compute("instance_norm.comp");
        p.Use();
        int planes = input.Length / plane;
        gl.Uniform1(p.Uniform("u_planes"), planes);
        gl.Uniform1(p.Uniform("u_plane"), plane);
        gl.Uniform1(p.Uniform("u_channels"), Channels);
        gl.Uniform1(p.Uniform("u_epsilon"), _epsilon);
        input.Buffer.Bind(0);
        _params.Bind(1);
        output.Buffer.Bind(3);
        p.DispatchCovering(planes * 64, 1, 1);
        ComputeOp.Barrier(gl);
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(_context, "instancenorm");
        return _scratch.Apply(input, (i, o) => Run(i, o, input.H * input.W));
    }

    public void Dispose()
    {
        _stats?.Dispose();
        _affine?.Dispose();
        _apply?.Dispose();
        _params.Dispose();
        _scratch?.Dispose();
    }
}
