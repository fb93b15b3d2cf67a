using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Present;

/// <summary>The numbers a theorem view's HUD shows: max |direct - FFT| over the shown output channel, the tolerance it
/// must be within (<see cref="ConvTheorem.Tolerance"/>) and what that is made of, the frame and the channels shown.</summary>
public sealed record TheoremFigures(double MaxDifference, double Tolerance, double KernelAbsSum, double MaxAbsInput, double MaxAbsResult,
                                    int FrameH, int FrameW, int OutputChannel, int InputChannel, int Kernel)
{
    public bool Within => MaxDifference <= Tolerance;
}

/// <summary>The convolution theorem, run every frame on one convolution and its input, for the window's theorem view:
/// the direct result (<see cref="GpuConv2D"/>) and the FFT result (<see cref="GpuFftConv2D"/> with
/// <see cref="GpuFftConv2D.CaptureSpectra"/>: one tile per frame), |direct - FFT| of the shown output channel
/// (present/abs_diff.comp) and the spectra that FFT multiplied, as log(1 + |F|) maps with DC centred
/// (present/spectrum.comp): input channel, kernel, product. Every GPU object is made on the first run and reused; a
/// run with the same weights and shapes allocates nothing. <see cref="ReadFigures"/> reads the few numbers back.</summary>
public sealed class TheoremPass : IDisposable
{
    private readonly GlContext _context;
    private GpuConv2D? _direct;
    private GpuFftConv2D? _fft;
    private Tensor? _weight;
    private float[]? _bias;
    private GlProgram? _diff, _spectrum;
    private int _output, _input, _kernel, _inputCount;

    public TheoremPass(GlContext context)
    {
        _context = context;
        Direct = new GpuTensor(context, label: "theorem direct");
        Fft = new GpuTensor(context, label: "theorem fft");
        Difference = new GpuTensor(context, label: "theorem |direct - fft|");
        Spectra = new GpuTensor(context, label: "theorem spectra");
        DirectRange = new ChannelRanges(context, "theorem direct range");
        FftRange = new ChannelRanges(context, "theorem fft range");
        DifferenceRange = new ChannelRanges(context, "theorem difference range");
        SpectraRanges = new ChannelRanges(context, "theorem spectra ranges");
        InputRanges = new ChannelRanges(context, "theorem input ranges");
    }

    public GpuTensor Direct { get; }
    public GpuTensor Fft { get; }
    /// <summary>(1, H_out, W_out): |direct - FFT| of the shown output channel.</summary>
    public GpuTensor Difference { get; }
    /// <summary>(3, F_h, F_w): log(1 + |F|), DC centred, of the input channel's, the kernel's and the product's spectrum.</summary>
    public GpuTensor Spectra { get; }
    /// <summary>Ranges of the shown output channel of <see cref="Direct"/> and <see cref="Fft"/> (entry = that channel).</summary>
    public ChannelRanges DirectRange { get; }
    public ChannelRanges FftRange { get; }
    public ChannelRanges DifferenceRange { get; }
    public ChannelRanges SpectraRanges { get; }
    private ChannelRanges InputRanges { get; }

    /// <summary>The output channel shown by the last run, and the input channel and kernel its spectra are of.</summary>
    public int OutputChannel => _output;
    public int InputChannel => _input;
    public int Kernel => _kernel;
    public FftPlan? Plan => _fft?.LastPlan;
    internal GpuFftConv2D? FftOp => _fft;

    /// <summary>Runs both algorithms on <paramref name="input"/>, then the difference and spectrum maps for output
    /// channel <paramref name="outputChannel"/> (clamped) and its group's first input channel.</summary>
    public void Run(GpuTensor input, Tensor weight, float[]? bias, ConvOptions options, int outputChannel)
    {
        if (!ReferenceEquals(weight, _weight) || !ReferenceEquals(bias, _bias) || _direct is null || _fft is null)
        {
            // Once per weights change (another filter, a reload), never per frame.
            if (_direct is null) _direct = new GpuConv2D(_context, weight, bias, options);
            else _direct.SetWeights(weight, bias);
            if (_fft is null) _fft = new GpuFftConv2D(_context, weight, bias, options) { CaptureSpectra = true };
            else _fft.SetWeights(weight, bias);
            _weight = weight;
            _bias = bias;
        }
        _direct.Options = options;
        _fft.Options = options;
        _direct.Run(input, Direct);
        _fft.Run(input, Fft);

        int cout = weight.Shape[0], cinPerGroup = weight.Shape[1];
        _output = Math.Clamp(outputChannel, 0, cout - 1);
        _input = _output / (cout / options.Groups) * cinPerGroup;
        _kernel = _output * cinPerGroup;
        _inputCount = cinPerGroup;
        GL gl = _context.Gl;
        int plane = Direct.H * Direct.W;
        Difference.Resize(1, Direct.H, Direct.W);
        GlProgram diff = _diff ??= _context.Shaders.Compute("present/abs_diff.comp");
        diff.Use();
        gl.Uniform1(diff.Uniform("u_plane"), plane);
        gl.Uniform1(diff.Uniform("u_channel"), _output);
        Direct.Buffer.Bind(0);
        Fft.Buffer.Bind(1);
        Difference.Buffer.Bind(2);
        diff.DispatchCovering(plane, 1, 1);
        ComputeOp.Barrier(gl);

        (FftPlan frame, _, _) = _fft.Captured!.Value;
        (GlBuffer inputs, GlBuffer kernels, GlBuffer products) = _fft.CapturedBuffers;
        Spectra.Resize(3, frame.FrameH, frame.FrameW);
        GlProgram spectrum = _spectrum ??= _context.Shaders.Compute("present/spectrum.comp");
        spectrum.Use();
        gl.Uniform2(spectrum.Uniform("u_frame"), frame.FrameH, frame.FrameW);
        gl.Uniform1(spectrum.Uniform("u_input"), _input);
        gl.Uniform1(spectrum.Uniform("u_kernel"), _kernel);
        gl.Uniform1(spectrum.Uniform("u_output"), _output);
        inputs.Bind(0);
        kernels.Bind(1);
        products.Bind(2);
        Spectra.Buffer.Bind(3);
        spectrum.DispatchCovering(frame.FrameW, frame.FrameH, 1);
        ComputeOp.Barrier(gl);

        DirectRange.Compute(Direct, _output, 1);
        FftRange.Compute(Fft, _output, 1);
        DifferenceRange.Compute(Difference);
        SpectraRanges.Compute(Spectra);
        InputRanges.Compute(input, _input, _inputCount);
    }

    /// <summary>The last run's numbers, read back from the GPU (stalls: once per HUD redraw, not per frame).</summary>
    public TheoremFigures ReadFigures()
    {
        if (_weight is null || _fft?.LastPlan is not { } plan) throw new InvalidOperationException("the theorem pass has not run yet");
        double m = 0;
        for (int c = _input; c < _input + _inputCount; c++)
        {
            (float lo, float hi) = InputRanges.Read(c);
            m = Math.Max(m, Math.Max(Math.Abs(lo), Math.Abs(hi)));
        }
        (float dlo, float dhi) = DirectRange.Read(_output);
        double maxRef = Math.Max(Math.Abs(dlo), Math.Abs(dhi));
        double s = ConvTheorem.KernelAbsSum(_weight, _bias, _output);
        double maxDiff = DifferenceRange.Read(0).Max;
        return new TheoremFigures(maxDiff, ConvTheorem.Tolerance(s, m, maxRef, plan.Plane), s, m, maxRef, plan.FrameH, plan.FrameW, _output, _input, _kernel);
    }

    public void Dispose()
    {
        _direct?.Dispose();
        _fft?.Dispose();
        Direct.Dispose();
        Fft.Dispose();
        Difference.Dispose();
        Spectra.Dispose();
        DirectRange.Dispose();
        FftRange.Dispose();
        DifferenceRange.Dispose();
        SpectraRanges.Dispose();
        InputRanges.Dispose();
    }
}
