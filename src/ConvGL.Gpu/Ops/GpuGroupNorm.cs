using ConvGL.Core;
using ConvGL.Core.Ops;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="InstanceNorm.ApplyInGroups"/>: a group's channels are consecutive planes, so its
/// values are one run of C / groups x H x W values. Runs of 256 values or more: <see cref="PlaneStats"/> takes each run's
/// statistics and writes every channel's a = scale[c] / sqrt(var + eps), b = shift[c] - a mean (the group's and the
/// channel's affines composed), then the fast channel affine applies them: the map read twice. Shorter runs:
/// <see cref="GpuInstanceNorm"/> normalises the runs (groups "channels" of scale 1, shift 0) into a tensor kept for the
/// next frame, then <see cref="GpuChannelAffine"/> scales and shifts each channel's plane.</summary>
public sealed class GpuGroupNorm : IDisposable
{
    private readonly GlContext _context;
    private readonly GpuInstanceNorm _norm;
    private readonly GpuChannelAffine _affine;
    private readonly GpuTensor _normed;
    private readonly GlBuffer _params, _composed;
    private readonly float _epsilon;
    private PlaneStats? _stats;

    /// <summary>For tests: <see cref="ConvPath.Direct"/> forces the instance norm and affine passes whatever the run's size.</summary>
    internal ConvPath Choice { get; set; }
    private ScratchTensors? _scratch;
    private string? _variantOf;

    public int Groups { get; }
    public int Channels { get; }

    /// <summary>The two passes of the last <see cref="Run"/>.</summary>
    public string Variant { get; private set; } = "(not run yet)";

    public GpuGroupNorm(GlContext context, InstanceNorm parameters, int groups)
    {
        InstanceNorm.CheckGroups(groups, parameters.Channels);
        _context = context;
        (Groups, Channels) = (groups, parameters.Channels);
        _norm = new GpuInstanceNorm(context, new InstanceNorm(Enumerable.Repeat(1f, groups).ToArray(), new float[groups], parameters.Epsilon));
        _affine = new GpuChannelAffine(context, BatchNorm.FromAffine(parameters.Scale, parameters.Shift));
        _normed = new GpuTensor(context, 1, 1, 1, "groupnorm normalised");
        _params = new GlBuffer(context, "groupnorm scale and shift");
        _params.Write([.. parameters.Scale, .. parameters.Shift]);
        _composed = new GlBuffer(context, "groupnorm per-channel affine");
        _epsilon = parameters.Epsilon;
    }

    /// <summary>New scale and shift for the same channels and epsilon (a graph input's values changed): the buffers rewritten,
    /// nothing made.</summary>
    public void SetParameters(InstanceNorm parameters)
    {
        _context.CheckThread();
        if (parameters.Channels != Channels || parameters.Epsilon != _epsilon)
            throw new ArgumentException($"groupnorm: parameters for {parameters.Channels} channels, epsilon {parameters.Epsilon}; this one has {Channels}, {_epsilon}");
        _affine.SetParameters(BatchNorm.FromAffine(parameters.Scale, parameters.Shift));
        _params.Write([.. parameters.Scale, .. parameters.Shift]);
    }

    public void Run(GpuTensor input, GpuTensor output)
    {
        _context.CheckThread();
        if (input.C != Channels) throw new ConvGLException($"groupnorm has parameters for {Channels} channels, its input has {input.C}");
        ComputeOp.CheckDistinct(input, output, "groupnorm");
        int plane = input.H * input.W, run = Channels / Groups * plane;
        if (Choice != ConvPath.Direct && run >= PlaneStats.LaneChunk && GpuChannelAffine.FastFits(_context.Gl, input.Length, plane))
        {
            output.Resize(input.C, input.H, input.W);
            (_stats ??= new PlaneStats(_context)).Run(input, run, 2, _params, Channels, _epsilon, _composed, Channels / Groups);
            _affine.RunWithParameters(input, output, plane, _composed, Channels);
            Variant = "groupnorm: plane_stats over each group's run, the group's and the channels' affines composed, channel_affine_fast";
            _variantOf = null;
            return;
        }
        _norm.Run(input, _normed, run);
        _affine.Run(_normed, output, plane);
        // (Made when the instance norm's path changes, not every frame: a steady run allocates nothing.)
        if (!ReferenceEquals(_variantOf, _norm.Variant))
        {
            _variantOf = _norm.Variant;
            Variant = $"groupnorm: {_norm.Variant} over each group's {Channels / Groups} planes, then the channels' scale and shift";
        }
    }

    /// <summary>For tests: uploaded, run, read back.</summary>
    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(_context, "groupnorm");
        return _scratch.Apply(input, Run);
    }

    public void Dispose()
    {
        _stats?.Dispose();
        _params.Dispose();
        _composed.Dispose();
        _norm.Dispose();
        _affine.Dispose();
        _normed.Dispose();
        _scratch?.Dispose();
    }
}
