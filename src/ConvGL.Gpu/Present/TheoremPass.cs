using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;
using System.Numerics;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Present;

/// <summary>The numbers a theorem view's HUD shows: max |direct - FFT| over the shown output channel, the tolerance it
/// must be within (<see cref="ConvTheorem.Tolerance"/>) and what that is made of, the frame and the channels shown.</summary>
public sealed record TheoremFigures(double MaxDifference, double Tolerance, double KernelAbsSum, double MaxAbsInput, double MaxAbsResult,
                                    int FrameH, int FrameW, int OutputChannel, int InputChannel, int Kernel)
{
    public bool Within => MaxDifference <= Tolerance;
}

/// <summary>The convolution theorem on one convolution and its input, for the window's theorem view: the direct result
/// (<see cref="GpuConv2D"/>) and the FFT result (<see cref="GpuFftConv2D"/> with <see cref="GpuFftConv2D.CaptureSpectra"/>:
/// one tile per frame) of the shown output channel, |direct - FFT| (present/abs_diff.comp) and the spectra that FFT
/// multiplied, as log(1 + |F|) maps with DC centred (present/spectrum.comp): input channel, kernel, product.
///
/// Only what the view shows is computed: the shown output channel alone (its kernels and bias, run on its group's input
/// channels, a contiguous range copied out of the input), so a bank of 8 or an RGB filter costs what one map does; the
/// kernel's spectrum map only when the weights, channel or frame change; and nothing at all when the caller says the
/// input has not changed since the last run (<c>inputVersion</c>: a paused or still source) and nothing else did.
/// Every GPU object is made on the first run and reused; a run with the same weights and shapes allocates nothing.
/// <see cref="ReadFigures"/> reads the few numbers back.</summary>
public sealed class TheoremPass : IDisposable
{
    private readonly GlContext _context;
    private readonly GpuTensor _group;
    private GpuConv2D? _direct;
    private GpuFftConv2D? _fft;
    private Tensor? _weight;
    private float[]? _bias;
    private GlProgram? _diff, _spectrum;
    private int _output = -1, _input, _kernel, _inputCount;
    // What the last run computed from: the same again with the same input version is skipped.
    private (GpuTensor? Input, int C, int H, int W, ConvOptions? Options, long Version) _ran;
    private (int FrameH, int FrameW)? _kernelMapFrame;
    private ConvOptions _options = new(), _single = new();
    // The scanline theorem: Core's double-precision 1D convolution both ways, on one input row read back.
    private readonly ScanlineTheorem _line = new();
    private float[] _row = [], _taps = [], _curves = [];
    private (GpuTensor? Input, int Row, long Computed) _lineKey;

    public TheoremPass(GlContext context)
    {
        _context = context;
        _group = new GpuTensor(context, label: "theorem input group");
        Direct = new GpuTensor(context, label: "theorem direct");
        Fft = new GpuTensor(context, label: "theorem fft");
        Difference = new GpuTensor(context, label: "theorem |direct - fft|");
        Spectra = new GpuTensor(context, label: "theorem spectra");
        DirectRange = new ChannelRanges(context, "theorem direct range");
        FftRange = new ChannelRanges(context, "theorem fft range");
        DifferenceRange = new ChannelRanges(context, "theorem difference range");
        SpectraRanges = new ChannelRanges(context, "theorem spectra ranges");
        InputRanges = new ChannelRanges(context, "theorem input ranges");
        ScanlineResults = new GpuTensor(context, label: "theorem scanline results");
        ScanlineSpectra = new GpuTensor(context, label: "theorem scanline spectra");
        ScanlineRanges = new ChannelRanges(context, "theorem scanline result ranges");
        ScanlineSpectraRanges = new ChannelRanges(context, "theorem scanline spectra ranges");
    }

    /// <summary>(2, 1, W_out): the scanline's 1D convolution, direct (channel 0) and by FFT (channel 1).</summary>
    public GpuTensor ScanlineResults { get; }
    /// <summary>(3, 1, N): log(1 + |F|) of the scanline's row, kernel-row and product spectra, DC centred, each divided
    /// by its maximum (so a plot on [0, 1] shows its shape).</summary>
    public GpuTensor ScanlineSpectra { get; }
    public ChannelRanges ScanlineRanges { get; }
    public ChannelRanges ScanlineSpectraRanges { get; }
    /// <summary>The last <see cref="RunScanline"/>'s output row, the input row it read (-1: outside a zero border) and
    /// its figures: the transforms' length and max |direct - FFT|.</summary>
    public int ScanlineOutputRow { get; private set; } = -1;
    public int ScanlineInputRow { get; private set; } = -1;
    /// <summary>The kernel row (as applied) the last <see cref="RunScanline"/> correlated with (<see cref="ScanlineTheorem.ShownRow"/>).</summary>
    public int ScanlineKernelRow { get; private set; } = -1;
    public ScanlineTheorem Scanline => _line;

    /// <summary>(1, H_out, W_out): the shown output channel, by the direct sum.</summary>
    public GpuTensor Direct { get; }
    /// <summary>(1, H_out, W_out): the same by the FFT.</summary>
    public GpuTensor Fft { get; }
    /// <summary>(1, H_out, W_out): |direct - FFT|.</summary>
    public GpuTensor Difference { get; }
    /// <summary>(3, F_h, F_w): log(1 + |F|), DC centred, of the input channel's, the kernel's and the product's spectrum.</summary>
    public GpuTensor Spectra { get; }
    /// <summary>Ranges of <see cref="Direct"/> and <see cref="Fft"/> (entry 0).</summary>
    public ChannelRanges DirectRange { get; }
    public ChannelRanges FftRange { get; }
    public ChannelRanges DifferenceRange { get; }
    public ChannelRanges SpectraRanges { get; }
    private ChannelRanges InputRanges { get; }

    /// <summary>The output channel shown by the last run, and the input channel and kernel its spectra are of (indices
    /// in the convolution's weight and input).</summary>
    public int OutputChannel => _output;
    public int InputChannel => _input;
    public int Kernel => _kernel;
    public FftPlan? Plan => _fft?.LastPlan;
    internal GpuFftConv2D? FftOp => _fft;

    /// <summary>How many runs did the work (the others were skipped: same input version, nothing changed).</summary>
    public long Computed { get; private set; }

    /// <summary>When set, called with a step's name after each step of <see cref="Run"/> (the window's --stats parts:
    /// it waits for the GPU there and reads the clock), or null.</summary>
    public Action<string>? Part { get; set; }

    /// <summary>Runs both algorithms for output channel <paramref name="outputChannel"/> (clamped) of the convolution
    /// on <paramref name="input"/>, then the difference and spectrum maps (of its group's first input channel).
    /// <paramref name="inputVersion"/>: a number the caller changes whenever the input's content changes (the window:
    /// its pipeline's run count); a run with the version, input, weights, options and channel of the last one does
    /// nothing. Negative: always run.</summary>
    public void Run(GpuTensor input, Tensor weight, float[]? bias, ConvOptions options, int outputChannel, long inputVersion = -1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(options);
        int cout = weight.Shape[0], cinPerGroup = weight.Shape[1], kh = weight.Shape[2], kw = weight.Shape[3];
        int o = Math.Clamp(outputChannel, 0, cout - 1);
        bool newWeights = !ReferenceEquals(weight, _weight) || !ReferenceEquals(bias, _bias) || o != _output || _direct is null || _fft is null;
        var ran = (input, input.C, input.H, input.W, options, inputVersion);
        if (!newWeights && inputVersion >= 0 && ran == _ran) return;
        _ran = (null, 0, 0, 0, null, -1); // until this run has finished
        if (newWeights)
        {
            // Once per weights or channel change (another filter, a reload, [ ] or , .), never per frame: the shown
            // output channel's kernels (C_in/groups, kH, kW) and bias as a convolution of its own.
            int per = cinPerGroup * kh * kw;
            var one = new Tensor([1, cinPerGroup, kh, kw], weight.Data.AsSpan(o * per, per).ToArray());
            float[]? oneBias = bias is null ? null : [bias[o]];
            ConvOptions single = options with { Groups = 1 };
            if (_direct is null) _direct = new GpuConv2D(_context, one, oneBias, single);
            else _direct.SetWeights(one, oneBias);
            if (_fft is null) _fft = new GpuFftConv2D(_context, one, oneBias, single) { CaptureSpectra = true };
            else _fft.SetWeights(one, oneBias);
            _kernelMapFrame = null;
            (_weight, _bias, _output) = (weight, bias, o);
        }
        if (input.C != cinPerGroup * options.Groups)
            throw new ConvGLException($"the theorem's convolution takes {cinPerGroup * options.Groups} input channel(s), the map has {input.C}");
        _input = o / (cout / options.Groups) * cinPerGroup;
        _kernel = o * cinPerGroup;
        _inputCount = cinPerGroup;
        // The one-channel convolution's options: made when the options change (the view passes the same object every frame).
        if (!ReferenceEquals(options, _options)) (_options, _single) = (options, options with { Groups = 1 });
        GpuConv2D direct = _direct!;
        GpuFftConv2D fft = _fft!;
        direct.Options = _single;
        fft.Options = _single;
        GL gl = _context.Gl;
        // The group's input channels: the whole input when there is one group, else a contiguous copy of its planes.
        GpuTensor x = input;
        if (cinPerGroup != input.C)
        {
            int plane = input.H * input.W;
            _group.Resize(cinPerGroup, input.H, input.W);
            gl.BindBuffer(BufferTargetARB.CopyReadBuffer, input.Handle);
            gl.BindBuffer(BufferTargetARB.CopyWriteBuffer, _group.Handle);
            gl.CopyBufferSubData(CopyBufferSubDataTarget.CopyReadBuffer, CopyBufferSubDataTarget.CopyWriteBuffer,
                (nint)((long)_input * plane * sizeof(float)), 0, (nuint)((long)cinPerGroup * plane * sizeof(float)));
            gl.BindBuffer(BufferTargetARB.CopyReadBuffer, 0);
            gl.BindBuffer(BufferTargetARB.CopyWriteBuffer, 0);
            gl.MemoryBarrier(MemoryBarrierMask.ShaderStorageBarrierBit | MemoryBarrierMask.BufferUpdateBarrierBit);
            x = _group;
        }
        direct.Run(x, Direct);
        Part?.Invoke("theorem-direct");
        fft.Run(x, Fft);
        Part?.Invoke("theorem-fft");

        int outPlane = Direct.H * Direct.W;
        Difference.Resize(1, Direct.H, Direct.W);
        GlProgram diff = _diff ??= _context.Shaders.Compute("present/abs_diff.comp");
        diff.Use();
        gl.Uniform1(diff.Uniform("u_plane"), outPlane);
        gl.Uniform1(diff.Uniform("u_channel"), 0);
        Direct.Buffer.Bind(0);
        Fft.Buffer.Bind(1);
        Difference.Buffer.Bind(2);
        diff.DispatchCovering(outPlane, 1, 1);
        ComputeOp.Barrier(gl);
        Part?.Invoke("theorem-diff");

        (FftPlan frame, _, _) = fft.Captured!.Value;
        (GlBuffer inputs, GlBuffer kernels, GlBuffer products) = fft.CapturedBuffers;
        // The kernel's map changes only with the weights, the channel or the frame: kept otherwise.
        bool kernelMap = _kernelMapFrame != (frame.FrameH, frame.FrameW);
        Spectra.Resize(3, frame.FrameH, frame.FrameW);
        GlProgram spectrum = _spectrum ??= _context.Shaders.Compute("present/spectrum.comp");
        spectrum.Use();
        gl.Uniform2(spectrum.Uniform("u_frame"), frame.FrameH, frame.FrameW);
        gl.Uniform1(spectrum.Uniform("u_input"), 0);
        gl.Uniform1(spectrum.Uniform("u_kernel"), 0);
        gl.Uniform1(spectrum.Uniform("u_output"), 0);
        gl.Uniform1(spectrum.Uniform("u_kernel_map"), kernelMap ? 1 : 0);
        ComputeOp.BeforeTexelReads(gl);
        inputs.BindTexelView(0, vec4: true);
        kernels.BindTexelView(1, vec4: true);
        products.BindTexelView(2, vec4: true);
        Spectra.Buffer.Bind(3);
        spectrum.DispatchCovering(frame.FrameW, frame.FrameH, 1);
        ComputeOp.Barrier(gl);
        Part?.Invoke("theorem-spectra");

        DirectRange.Compute(Direct);
        FftRange.Compute(Fft);
        DifferenceRange.Compute(Difference);
        SpectraRanges.Compute(Spectra, 0, 1);
        if (kernelMap) SpectraRanges.Compute(Spectra, 1, 1);
        SpectraRanges.Compute(Spectra, 2, 1);
        InputRanges.Compute(input, _input, _inputCount);
        Part?.Invoke("theorem-ranges");
        _kernelMapFrame = (frame.FrameH, frame.FrameW);
        _ran = ran;
        Computed++;
    }

    /// <summary>The 1D theorem on one scanline of the last <see cref="Run"/>: output row <paramref name="outputRow"/>
    /// (clamped); the input row under the kernel's shown row (<see cref="ScanlineTheorem.ShownRow"/>: the centre row, or the
    /// nearest nonzero one) of the shown input channel (<see cref="ScanlineTheorem.InputRow"/>) is read back (one row: a
    /// small stall) and correlated with that kernel row as applied both ways
    /// (<see cref="ScanlineTheorem"/>), the curves written to <see cref="ScanlineResults"/> and
    /// <see cref="ScanlineSpectra"/>. Skipped when the row and the last run are those of the previous call.</summary>
    public void RunScanline(GpuTensor input, int outputRow)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (_weight is null || Computed == 0) throw new InvalidOperationException("the theorem pass has not run yet");
        int y = Math.Clamp(outputRow, 0, Direct.H - 1);
        if (_lineKey == (input, y, Computed)) return;
        int kh = _weight.Shape[2], kw = _weight.Shape[3], w = input.W;
        ConvGeometry g = ConvGeometry.Compute(input.H, input.W, kh, kw, _options);
        int kernelRow = ScanlineTheorem.ShownRow(_weight, _kernel, _options);
        int r = ScanlineTheorem.InputRow(y, input.H, kernelRow, _options, g.Y);
        if (_row.Length < w) _row = new float[w];
        if (_taps.Length != kw) _taps = new float[kw];
        Span<float> row = _row.AsSpan(0, w);
        if (r < 0) row.Clear();
        else input.Buffer.Read(row, (_input * input.H + r) * w);
        ScanlineTheorem.KernelRow(_weight, _kernel, kernelRow, _options, _taps);
        _line.Run(row, _taps, _options.Border, g.X, _options.StrideX, _options.DilationX);

        int length = _line.Length, n = _line.Frame;
        if (_curves.Length < Math.Max(2 * length, 3 * n)) _curves = new float[Math.Max(2 * length, 3 * n)];
        for (int m = 0; m < length; m++)
        {
            _curves[m] = (float)_line.Direct[m];
            _curves[length + m] = (float)_line.ByFft[m];
        }
        ScanlineResults.Resize(2, 1, length);
        ScanlineResults.Buffer.Write(_curves.AsSpan(0, 2 * length));
        Spectrum(_line.InputSpectrum, _curves.AsSpan(0, n));
        Spectrum(_line.KernelSpectrum, _curves.AsSpan(n, n));
        Spectrum(_line.Product, _curves.AsSpan(2 * n, n));
        ScanlineSpectra.Resize(3, 1, n);
        ScanlineSpectra.Buffer.Write(_curves.AsSpan(0, 3 * n));
        ScanlineRanges.Compute(ScanlineResults);
        ScanlineSpectraRanges.Compute(ScanlineSpectra);
        (ScanlineOutputRow, ScanlineInputRow, ScanlineKernelRow) = (y, r, kernelRow);
        _lineKey = (input, y, Computed);
    }

    /// <summary>The three spectra of the last <see cref="Run"/> at frequency (<paramref name="ky"/>, <paramref name="kx"/>)
    /// (any integers: taken modulo the frame, so negative frequencies work): the input channel's, the kernel's and their
    /// product, as the FFT multiplied them. Reads back three texels (stalls: the HUD calls it when it redraws).</summary>
    public (Complex Input, Complex Kernel, Complex Product) ReadBin(int ky, int kx)
    {
        if (_fft?.Captured is not { } c) throw new InvalidOperationException("the theorem pass has not run yet");
        FftPlan plan = c.Plan;
        int t = Mod(ky, plan.FrameH) * plan.FrameW + Mod(kx, plan.FrameW);
        (GlBuffer inputs, GlBuffer kernels, GlBuffer products) = _fft.CapturedBuffers;
        Span<float> texel = stackalloc float[4];
        // The one-channel convolution: input 0, kernel 0 (the .xy half of pair 0), output 0.
        inputs.Read(texel, t * 4);
        var a = new Complex(texel[0], texel[1]);
        kernels.Read(texel, t * 4);
        var k = new Complex(texel[0], texel[1]);
        products.Read(texel, t * 4);
        return (a, k, new Complex(texel[0], texel[1]));
    }

    private static int Mod(int a, int n) => ((a % n) + n) % n;

    // log(1 + |z|) with DC in the middle (ConvTheorem.Shifted), divided by its maximum.
    private static void Spectrum(ReadOnlySpan<Complex> z, Span<float> curve)
    {
        int n = z.Length;
        double top = 0;
        for (int k = 0; k < n; k++) top = Math.Max(top, ConvTheorem.LogMagnitude(z[k]));
        for (int k = 0; k < n; k++) curve[ConvTheorem.Shifted(k, n)] = top > 0 ? (float)(ConvTheorem.LogMagnitude(z[k]) / top) : 0;
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
        (float dlo, float dhi) = DirectRange.Read(0);
        double maxRef = Math.Max(Math.Abs(dlo), Math.Abs(dhi));
        double s = ConvTheorem.KernelAbsSum(_weight, _bias, _output);
        double maxDiff = DifferenceRange.Read(0).Max;
        return new TheoremFigures(maxDiff, ConvTheorem.Tolerance(s, m, maxRef, plan.Plane), s, m, maxRef, plan.FrameH, plan.FrameW, _output, _input, _kernel);
    }

    public void Dispose()
    {
        _direct?.Dispose();
        _fft?.Dispose();
        _group.Dispose();
        Direct.Dispose();
        Fft.Dispose();
        Difference.Dispose();
        Spectra.Dispose();
        DirectRange.Dispose();
        FftRange.Dispose();
        DifferenceRange.Dispose();
        SpectraRanges.Dispose();
        InputRanges.Dispose();
        ScanlineResults.Dispose();
        ScanlineSpectra.Dispose();
        ScanlineRanges.Dispose();
        ScanlineSpectraRanges.Dispose();
    }
}
