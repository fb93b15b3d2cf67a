using ConvGL.Core;
using ConvGL.Core.Ops;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="InstanceNorm.ApplyInGroups"/>: a group's channels are consecutive planes, so its
/// values are one run of C / groups x H x W values; <see cref="GpuInstanceNorm"/> normalises those runs (groups
/// "channels" of scale 1, shift 0) into a tensor kept for the next frame, then <see cref="GpuChannelAffine"/> scales and
/// shifts each channel's plane.</summary>
public sealed class GpuGroupNorm : IDisposable
{
    private readonly GlContext _context;
    private readonly GpuInstanceNorm _norm;
    private readonly GpuChannelAffine _affine;
    private readonly GpuTensor _normed;
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
    }

    public void Run(GpuTensor input, GpuTensor output)
    {
        _context.CheckThread();
        if (input.C != Channels) throw new ConvGLException($"groupnorm has parameters for {Channels} channels, its input has {input.C}");
        ComputeOp.CheckDistinct(input, output, "groupnorm");
        int plane = input.H * input.W;
        _norm.Run(input, _normed, Channels / Groups * plane);
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
        _norm.Dispose();
        _affine.Dispose();
        _normed.Dispose();
        _scratch?.Dispose();
    }
}
