using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu;

/// <summary>The GPU path of <c>convgl apply --device gpu</c>: <see cref="Conv2D.Filter"/> (one 2D kernel applied to
/// every channel alone) on the GPU. Keeps its context, op and tensors across calls; the weights are re-uploaded
/// only when the kernel or the channel count changes.</summary>
public sealed class GpuFilter : IDisposable
{
    private readonly GlContext _context;
    private readonly bool _ownsContext;
    private readonly GpuTensor _input;
    private readonly GpuTensor _output;
    private GpuConv2D? _conv;
    private float[] _kernelData = [];
    private int[] _kernelShape = [];
    private int _channels;

    /// <summary>Uses <paramref name="context"/>, or creates (and later disposes) a headless one when it is null.</summary>
    public GpuFilter(GlContext? context = null)
    {
        _ownsContext = context is null;
        _context = context ?? GlContext.CreateHeadless(debug: false);
        _input = new GpuTensor(_context, label: "filter input");
        _output = new GpuTensor(_context, label: "filter output");
        SplitAboveBytes = _context.MaxStorageBlockBytes;
    }

    public GlContext Context => _context;

    /// <summary>Images larger than this many bytes are filtered one channel at a time. The driver's storage block
    /// limit; tests lower it to exercise the split path on small images.</summary>
    internal long SplitAboveBytes { get; set; }

    public Tensor Filter(Tensor image, Tensor kernel2d, ConvOptions options)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(kernel2d);
        ArgumentNullException.ThrowIfNull(options);
        if (image.Rank != 3) throw new ConvGLException($"filter input must be (C, H, W), got {image.ShapeString}");
        if (kernel2d.Rank != 2) throw new ConvGLException($"a filter kernel must be 2D, got shape {kernel2d.ShapeString}");
        // A photograph can exceed one storage block (llvmpipe: 128 MiB, a 12 MP RGB image is 144 MiB);
        // channels are independent under a depthwise filter, so then they go one at a time.
        bool perChannel = (long)image.Length * sizeof(float) > SplitAboveBytes && image.C > 1;
        int channels = perChannel ? 1 : image.C;
        EnsureWeights(kernel2d, channels);
        _conv!.Options = options with { Groups = channels };
        if (!perChannel) return RunOnce(image);
        var parts = new List<Tensor>(image.C);
        for (int c = 0; c < image.C; c++) parts.Add(RunOnce(image.Channel(c)));
        return Tensor.Concat(parts);
    }

    private Tensor RunOnce(Tensor image)
    {
        _input.Upload(image);
        _conv!.Run(_input, _output);
        return _output.Download();
    }

    private void EnsureWeights(Tensor kernel, int channels)
    {
        bool same = channels == _channels && kernel.Shape.AsSpan().SequenceEqual(_kernelShape) && kernel.Data.AsSpan().SequenceEqual(_kernelData);
        if (same && _conv is not null) return;
        Tensor weight = Conv2D.DepthwiseWeight(kernel, channels);
        if (_conv is null) _conv = new GpuConv2D(_context, weight, null, new ConvOptions { Groups = channels });
        else _conv.SetWeights(weight, null);
        _kernelData = (float[])kernel.Data.Clone();
        _kernelShape = (int[])kernel.Shape.Clone();
        _channels = channels;
    }

    public void Dispose()
    {
        _conv?.Dispose();
        _input.Dispose();
        _output.Dispose();
        if (_ownsContext) _context.Dispose();
    }
}
