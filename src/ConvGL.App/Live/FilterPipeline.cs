using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using ConvGL.Gpu;
using ConvGL.Gpu.Ops;

namespace ConvGL.App.Live;

/// <summary>One 2D kernel applied to each RGB channel alone (<see cref="Conv2D.Filter"/>: a depthwise convolution
/// with C groups), every option switchable live. The kernel is a library name or a kernel file, re-read when the file
/// changes. It runs by the algorithm <see cref="ConvAlgorithms.ChooseFilter"/> picks for the kernel, the frame size
/// and the options, as <c>apply</c> does (direct on <see cref="GpuConv2D"/> for the usual small kernels, separable or
/// FFT for big ones), chosen again only when one of those changes; the layer line names the choice.</summary>
internal sealed class FilterPipeline : ILivePipeline
{
    private readonly GpuTensor _input, _output;
    private readonly string _spec;
    private readonly string? _file;
    private readonly GlContext _context;
    private readonly GpuConv2D _conv;
    // Made when the chooser first picks them; dropped when the kernel changes (made again with the new one).
    private GpuFftConv2D? _fft;
    private GpuSeparableConv? _separable;
    private AlgorithmChoice? _choice;
    private (int H, int W, ConvOptions Options, Tensor Kernel) _choiceKey;
    private ConvView _view;
    private Tensor _kernel, _weight;
    private ConvOptions _options;
    private readonly FileWatch? _watch;
    private readonly MidSaveRetry _midSave = new();
    private bool _enabled = true;

    public FilterPipeline(GlContext context, string spec, ConvOptions? options = null)
    {
        _context = context;
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
    public string InputMapName(int layer, int channel) => channel is >= 0 and < 3 ? "RGB"[channel].ToString() : "?";

    public string Name => $"filter {_spec}";
    public int InputChannels => 3;
    public int LayerCount => 1;
    public Tensor Kernel => _kernel;
    public ConvOptions Options => _options;

    public string LayerLabel(int i) =>
        $"{_spec} {_kernel.H}x{_kernel.W} {_options.Mode.ToString().ToLowerInvariant()} border={_options.Border.Name()} " +
        $"stride={HudText.Axes(_options.StrideY, _options.StrideX)} dilation={HudText.Axes(_options.DilationY, _options.DilationX)} -> {_output.ShapeString}" + (_choice is null ? "" : $", {_choice}");

    public bool IsEnabled(int i) => _enabled;
    public GpuTensor Input => _input;
    public int OutputChannels(int i) => InputChannels;
    public GpuTensor LayerInput(int i) => _input;
    public (int C, int H, int W) LayerInputShape(int i) => (_input.C, _input.H, _input.W);
    public GpuTensor LayerOutput(int i) => _enabled ? _output : _input;
    private static readonly int[] StackInput = [-1];
    public IReadOnlyList<int> InputLayers(int i) => StackInput;
    public (int H, int W) LayerOutputSize(int i) => i < 0 ? (_input.H, _input.W) : (LayerOutput(i).H, LayerOutput(i).W);
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
        if (!_enabled) return;
        switch (Choose().Algorithm)
        {
            case ConvAlgorithm.Fft:
                _fft ??= new GpuFftConv2D(_context, _weight, null, _options);
                _fft.Options = _options;
                _fft.Run(_input, _output);
                break;
            case ConvAlgorithm.Separable:
                if (_separable is null)
                {
                    // The chooser picks separable only for a rank-1 kernel.
                    GpuSeparableConv.TryFactor(_kernel, out float[] column, out float[] row);
                    _separable = new GpuSeparableConv(_context, column, row, _options with { Groups = 1 });
                }
                _separable.Options = _options with { Groups = 1 };
                _separable.Run(_input, _output);
                break;
            default:
                _conv.Run(_input, _output);
                break;
        }
    }

    /// <summary>The algorithm for this frame size, options and kernel: the cost model's choice, kept until one changes
    /// (no allocation per frame).</summary>
    private AlgorithmChoice Choose()
    {
        var key = (_input.H, _input.W, _options, _kernel);
        if (_choice is not null && key == _choiceKey) return _choice;
        _choice = ConvAlgorithms.ChooseFilter(InputChannels, _input.H, _input.W, _kernel, _options, ConvCostModel.Llvmpipe,
            maxFftBufferTexels: GpuFftConv2D.BufferTexels(_context));
        _choiceKey = key;
        return _choice;
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
        if (!_watch.Changed() && !force && !_midSave.Pending) return (false, null);
        try
        {
            Tensor kernel = KernelSource.Resolve(_file);
            if (kernel.Rank != 2) throw new ConvGLException($"{_file}: a filter kernel must be 2D, got shape {kernel.ShapeString}");
            Tensor weight = Conv2D.DepthwiseWeight(kernel, InputChannels);
            _conv.SetWeights(weight, null);
            _fft?.Dispose();
            _separable?.Dispose();
            (_fft, _separable) = (null, null);
            _kernel = kernel;
            _weight = weight;
            _view = new ConvView(_weight, null, _options);
            _midSave.Loaded();
            return (true, null);
        }
        catch (ConvGLException e)
        {
            // Caught mid-save: read again at the next check, said only if still broken once the file has settled.
            return _midSave.HoldBack(force, [_file]) ? (false, null) : (true, e.Message);
        }
    }

    public void Dispose()
    {
        _conv.Dispose();
        _fft?.Dispose();
        _separable?.Dispose();
        _input.Dispose();
        _output.Dispose();
    }
}
