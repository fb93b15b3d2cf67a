using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using ConvGL.Gpu;
using ConvGL.Gpu.Ops;

namespace ConvGL.App.Live;

/// <summary>One 2D kernel applied to each RGB channel alone (<see cref="Conv2D.Filter"/>: a depthwise convolution
/// with C groups) on <see cref="GpuConv2D"/>, every option switchable live. The kernel is a library name or a
/// kernel file, re-read when the file changes.</summary>
internal sealed class FilterPipeline : ILivePipeline
{
    private readonly GpuTensor _input, _output;
    private readonly string _spec;
    private readonly string? _file;
    private readonly GpuConv2D _conv;
    private ConvView _view;
    private Tensor _kernel, _weight;
    private ConvOptions _options;
    private readonly FileWatch? _watch;
    private bool _enabled = true;

    public FilterPipeline(GlContext context, string spec, ConvOptions? options = null)
    {
        _spec = spec;
        _file = File.Exists(spec) ? Path.GetFullPath(spec) : null;
        if (_file is not null) _watch = new FileWatch(_file);
        _kernel = KernelSource.Resolve(spec);
        if (_kernel.Rank != 2) throw new ConvGLException($"filter '{spec}': a filter kernel must be 2D, got shape {_kernel.ShapeString}");
        _options = (options ?? ConvOptions.ImageFilter) with { Groups = InputChannels };
        _weight = Conv2D.DepthwiseWeight(_kernel, InputChannels);
        _conv = new GpuConv2D(context, _weight, null, _options);
        _input = new GpuTensor(context, label: "filter input");
        _output = new GpuTensor(context, label: "filter output");
        _view = new ConvView(_weight, null, _options);
    }

    public string MapName(int layer, int channel) => $"{_spec} {(channel is >= 0 and < 3 ? "RGB"[channel] : '?')}";

    public string Name => $"filter {_spec}";
    public int InputChannels => 3;
    public int LayerCount => 1;
    public Tensor Kernel => _kernel;
    public ConvOptions Options => _options;

    public string LayerLabel(int i) =>
        $"{_spec} {_kernel.H}x{_kernel.W} {_options.Mode.ToString().ToLowerInvariant()} border={_options.Border.Name()} " +
        $"stride={_options.StrideY} dilation={_options.DilationY} -> {_output.ShapeString}";

    public bool IsEnabled(int i) => _enabled;
    public GpuTensor Input => _input;
    public int OutputChannels(int i) => InputChannels;
    public GpuTensor LayerInput(int i) => _input;
    public GpuTensor LayerOutput(int i) => _enabled ? _output : _input;
    public ConvView? Conv(int i) => _enabled ? _view : null;

    public string? Toggle(int i)
    {
        _enabled = !_enabled;
        return null;
    }
    public bool TimesLayers => false;
    public double LayerMilliseconds(int i) => 0;

    public void Run()
    {
        if (_enabled) _conv.Run(_input, _output);
    }

    public bool Adjust(Func<ConvOptions, ConvOptions> change, int layer)
    {
        ConvOptions next = change(_options) with { Groups = InputChannels };
        // Validate before switching: a dilated kernel wider than the padded frame has no output.
        ConvGeometry.Compute(_input.H, _input.W, _kernel.H, _kernel.W, next);
        _options = next;
        _conv.Options = next;
        _view = new ConvView(_weight, null, _options);
        return true;
    }

    public (bool Changed, string? Error) ReloadChanged(bool force)
    {
        if (_file is null || _watch is null) return (false, null);
        // Checked even when forced, so the state read now is the one the next check compares with.
        if (!_watch.Changed() && !force) return (false, null);
        try
        {
            Tensor kernel = KernelSource.Resolve(_file);
            if (kernel.Rank != 2) throw new ConvGLException($"{_file}: a filter kernel must be 2D, got shape {kernel.ShapeString}");
            Tensor weight = Conv2D.DepthwiseWeight(kernel, InputChannels);
            _conv.SetWeights(weight, null);
            _kernel = kernel;
            _weight = weight;
            _view = new ConvView(_weight, null, _options);
            return (true, null);
        }
        catch (ConvGLException e)
        {
            return (true, e.Message);
        }
    }

    public void Dispose()
    {
        _conv.Dispose();
        _input.Dispose();
        _output.Dispose();
    }
}
