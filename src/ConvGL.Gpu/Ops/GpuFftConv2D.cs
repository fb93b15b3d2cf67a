using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>2D convolution by the convolution theorem on the GPU: the same contract as <see cref="GpuConv2D"/> and
/// <see cref="Conv2D.Apply"/> (every border, padding, stride, dilation, correlate/convolve, channels, groups, bias),
/// at a cost that does not grow with the kernel's area. For big kernels: a 63x63 kernel is 3969 taps per output
/// directly, a few dozen operations per output here.
///
/// Per <see cref="Run"/>:
///   1. shaders/fft_pass.comp: forward 2D FFT of every input frame (rows, then columns; Stockham passes), the first
///      row pass (PAD) padding each input channel by its border into one frame (<see cref="FftPlan"/>: four tiles of
///      the dense output rows, overlap-save, packed as a texel's four floats);
///   2. shaders/fft_product.comp: each output channel's spectrum = sum over its group's input channels of the
///      input spectrum times the conjugate kernel spectrum, so one forward FFT of the input serves the whole bank
///      and the channel sum costs one inverse FFT per output channel (fused with the column passes either side);
///   3. inverse 2D FFT of every output frame, the last row pass (UNPACK) sampling the stride, putting the tiles
///      back and adding the bias.
/// Where the frames of the whole input would pass the driver's largest buffer, steps 1-3 run once per band of dense rows
/// through smaller frames (<see cref="FftPlan.Bands"/>; the PAD and UNPACK passes offset their rows), with the same
/// kernel spectra.
/// Kernel spectra are computed on the GPU with the same passes when the weights, the frame, the mode or the
/// dilation change, and kept. All buffers and textures are made once and grow only when a larger frame needs it;
/// the passes (their programs, radices and step names) are planned once per frame and kept, so a run with the same
/// shapes allocates nothing (the window runs it every frame).
///
/// <see cref="CaptureSpectra"/> (the window's theorem view) makes each frame hold every padded input value the outputs read (one tile,
/// not four) and keeps the input spectra and the products the theorem multiplies, for <see cref="ReadSpectrum"/> and
/// the view's spectrum images.
///
/// Precision: float32 transforms. The error of an output is about 2^-24 * log2(frame) * sum|k| * max|in| with a
/// small constant (the parity tests state their bound); for a kernel whose absolute sum is much larger than its
/// result (a difference of large positive and negative taps) the relative error is larger than the direct sum's.</summary>
public sealed class GpuFftConv2D : IGpuConv
{
    private const int Texel = 4; // floats per frame texel

    private readonly GlContext _context;
    private readonly long _maxTexels;
    private readonly GlBuffer _inFrames, _inScratch, _outFrames, _outFrames2;
    private GlBuffer _spectra, _spectraScratch;
    private readonly GlBuffer _twiddlesH, _twiddlesW, _bias, _maps;
    private readonly FftTexelView _view0, _view1, _view2, _view3;
    private ConvOptions _options;
    private float[] _weights = [];
    private bool _hasBias;
    private (int FrameH, int FrameW, ConvMode Mode, int DilationY, int DilationX)? _spectraKey;
    private int _twiddleH, _twiddleW;
    private (int H, int W, FftPlan Plan, int Top, int Left, Border Border)? _mapsKey;
    private ScratchTensors? _scratch;
    private FftTexelView? _view4, _view5;
    private GlBuffer? _inSpectra, _products;
    private Schedule? _schedule;
    private (int H, int W, int KH, int KW, ConvOptions Options, int Tiles, long MaxPlane) _planKey;
    private FftPlan? _plan;

    /// <summary>(C_out, C_in / groups, kH, kW).</summary>
    public int[] WeightShape { get; private set; } = [];

    /// <summary>The frame of the last <see cref="Run"/> (for the algorithm note and tests).</summary>
    public FftPlan? LastPlan { get; private set; }

    /// <summary>When set, each frame holds every padded input value the outputs read (<see cref="FftPlan.For"/> with one tile: a larger
    /// frame, so slower) and <see cref="Run"/> keeps, besides the kernel spectra it always keeps, each input channel's
    /// spectrum and each output channel's product: exactly the numbers the convolution theorem multiplies, from the
    /// same passes that compute the result. For the window's theorem view and its tests.</summary>
    public bool CaptureSpectra { get; set; }

    private int TileCount => CaptureSpectra ? 1 : FftPlan.Tiles;

    /// <summary>When set, <see cref="Run"/> waits for each step (glFinish) and adds its wall-clock milliseconds
    /// here under the step's name (bench's per-step note; on llvmpipe GL_TIME_ELAPSED reads zero). The waits
    /// cost a little: leave it null outside profiling.</summary>
    public Dictionary<string, double>? StepMs { get; set; }

    /// <summary>When set, called after each step of <see cref="Run"/> has finished (glFinish) with the fraction of
    /// the run's steps done and the step's name: `convgl apply`'s progress line for a big kernel.</summary>
    public Action<double, string>? Progress { get; set; }

    private long _stepStart;
    private int _stepsDone, _stepsTotal;

    private void Step(string name)
    {
        _stepsDone++;
        if (StepMs is null && Progress is null) return;
        _context.Gl.Finish();
        Progress?.Invoke(_stepsTotal > 0 ? Math.Min(1, (double)_stepsDone / _stepsTotal) : 0, "fft: " + name);
        if (StepMs is null) return;
        long now = Stopwatch.GetTimestamp();
        StepMs[name] = StepMs.GetValueOrDefault(name) + Stopwatch.GetElapsedTime(_stepStart, now).TotalMilliseconds;
        _stepStart = now;
    }

    public GpuFftConv2D(GlContext context, Tensor weight, float[]? bias, ConvOptions? options = null)
    {
        _context = context;
        _inFrames = new GlBuffer(context, "fft input frames");
        _inScratch = new GlBuffer(context, "fft input scratch");
        _outFrames = new GlBuffer(context, "fft output frames");
        _outFrames2 = new GlBuffer(context, "fft output scratch");
        _spectraScratch = new GlBuffer(context, "fft kernel spectra scratch");
        _spectra = new GlBuffer(context, "fft kernel spectra");
        _twiddlesH = new GlBuffer(context, "fft twiddles (columns)");
        _twiddlesW = new GlBuffer(context, "fft twiddles (rows)");
        _bias = new GlBuffer(context, "fft bias");
        _maps = new GlBuffer(context, "fft border maps");
        _view0 = new FftTexelView(context, "fft view 0");
        _view1 = new FftTexelView(context, "fft view 1");
        _view2 = new FftTexelView(context, "fft view 2");
        _view3 = new FftTexelView(context, "fft view 3");
        _maxTexels = ComputeOp.MaxTexelViewFloats(context.Gl);
        _options = options ?? new ConvOptions();
        SetWeights(weight, bias);
    }

    public ConvOptions Options
    {
        get => _options;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            _options = value;
        }
    }

    /// <summary>Keeps a new weight set (PyTorch layout) and optional bias (C_out); spectra follow at the next run.</summary>
    public void SetWeights(Tensor weight, float[]? bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 4) throw new ConvGLException($"conv weight must be (C_out, C_in/groups, kH, kW), got {weight.ShapeString}");
        if (bias is not null && bias.Length != weight.Shape[0])
            throw new ConvGLException($"bias has {bias.Length} entries, C_out is {weight.Shape[0]}");
        _weights = (float[])weight.Data.Clone();
        WeightShape = (int[])weight.Shape.Clone();
        if (bias is not null) _bias.Write(bias);
        _hasBias = bias is not null;
        _spectraKey = null;
    }

    /// <summary>The output shape for an input of (C_in, H, W), validating channels and groups like the reference.</summary>
    public (int C, int H, int W) OutputShape(int c, int h, int w) => ComputeOp.ConvOutputShape(WeightShape, _options, c, h, w);

    /// <summary>Runs the convolution; <paramref name="output"/> is resized to the output shape.</summary>
    public void Run(GpuTensor input, GpuTensor output)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "fft conv2d");
        (int cout, int hout, int wout) = OutputShape(input.C, input.H, input.W);
        int cin = input.C, pairs = (cout * WeightShape[1] + 1) / 2, frames = Math.Max(Math.Max(cin, cout), pairs);
        FftPlan plan = PlanFor(input.H, input.W, frames);
        CheckFits(plan, frames);
        LastPlan = plan;

        // The last forward column pass runs inside fft_product.comp when each input channel feeds one output channel.
        bool forwardLast = cout / _options.Groups == 1;
        Schedule s = ScheduleFor(plan, forwardLast);
        bool newSpectra = _spectraKey != (plan.FrameH, plan.FrameW, _options.Mode, _options.DilationY, _options.DilationX);
        _stepsDone = 0;
        _stepsTotal = (newSpectra ? s.KernelRows.Length + s.KernelColumns.Length : 0) + 1
                      + plan.Bands * (s.ForwardRows.Length + s.ForwardColumns.Length + 1 + s.InverseColumns.Length + s.InverseRows.Length);
        if (StepMs is not null || Progress is not null)
        {
            _context.Gl.Finish();
            _stepStart = Stopwatch.GetTimestamp();
        }
        EnsureTwiddles(plan);
        EnsureSpectra(plan, s, pairs);
        Step("kernel spectra");
        int plane = (int)plan.Plane;
        _inFrames.Reserve(cin * plane * Texel);
        _inScratch.Reserve(cin * plane * Texel);
        _outFrames.Reserve(cout * plane * Texel);
        _outFrames2.Reserve(cout * plane * Texel);
        ConvGeometry g = ConvGeometry.Compute(input.H, input.W, WeightShape[2], WeightShape[3], _options);
        _padInput = input.Buffer;
        _inShape = (cin, input.H, input.W);
        _columnsAt = EnsureMaps(input.H, input.W, plan, g);
        output.Resize(cout, hout, wout);
        _unpackOutput = output.Buffer;
        _outShape = (cout, hout, wout);
        if (s.Capture)
        {
            _inSpectra ??= new GlBuffer(_context, "fft captured input spectra");
            _products ??= new GlBuffer(_context, "fft captured products");
            _view4 ??= new FftTexelView(_context, "fft view 4");
            _view5 ??= new FftTexelView(_context, "fft view 5");
            _inSpectra.Reserve(cin * plane * Texel);
            _products.Reserve(cout * plane * Texel);
            _captured = (plan, cin, cout);
        }
        else _captured = null;

        // Each band of dense rows through the same frames (one band unless the whole input's frames pass the driver's
        // buffers); the PAD and UNPACK passes read and write the band's rows.
        for (int band = 0; band < plan.Bands; band++)
        {
            _rowBase = band * TileCount * plan.TileRows;

            // 1. Forward rows, the first pass reading the input through its border (PAD), then forward columns.
            GlBuffer src = _inFrames, dst = _inScratch;
            Passes(plan, ref src, ref dst, cin, s.ForwardRows);
            Passes(plan, ref src, ref dst, cin, s.ForwardColumns);

            // 2. Products with the kernel spectra, summed over each group's input channels, and the first inverse
            //    column pass (of radix lastRadix: the inverse column passes run in the reverse order).
            GL gl = _context.Gl;
            GlProgram mul = s.Product;
            mul.Use();
            gl.Uniform2(mul.Uniform("u_frame"), plan.FrameH, plan.FrameW);
            gl.Uniform1(mul.Uniform("u_quarter"), plan.FrameH / s.LastRadix);
            gl.Uniform2(mul.Uniform("u_group"), WeightShape[1], cout / _options.Groups);
            gl.Uniform1(mul.Uniform("u_cout"), cout);
            gl.Uniform1(mul.Uniform("u_scale"), (float)(1.0 / plane));
            _view0.Bind(src, 0, SizedInternalFormat.Rgba32f, BufferAccessARB.ReadOnly);
            _view1.Bind(_outFrames, 1, SizedInternalFormat.Rgba32f, BufferAccessARB.WriteOnly);
            _view2.Bind(_twiddlesH, 2, SizedInternalFormat.RG32f, BufferAccessARB.ReadOnly);
            _view3.Bind(_spectra, 3, SizedInternalFormat.Rgba32f, BufferAccessARB.ReadOnly);
            if (s.Capture)
            {
                _view4!.Bind(_inSpectra!, 4, SizedInternalFormat.Rgba32f, BufferAccessARB.WriteOnly);
                _view5!.Bind(_products!, 5, SizedInternalFormat.Rgba32f, BufferAccessARB.WriteOnly);
            }
            mul.DispatchCovering(plan.FrameW, plan.FrameH / s.LastRadix, cout);
            Barrier(gl);
            Step(s.ProductName);

            // 3. The other inverse column passes, then the inverse rows below T_h (the only rows holding outputs), the
            //    last pass writing the output (UNPACK: stride samples, tiles back, bias).
            src = _outFrames;
            dst = _outFrames2;
            Passes(plan, ref src, ref dst, cout, s.InverseColumns);
            Passes(plan, ref src, ref dst, cout, s.InverseRows);
        }
    }

    // The first dense row of the band being run (PAD and UNPACK add it to their rows).
    private int _rowBase;

    /// <summary>The most texels one frame may hold for <paramref name="frames"/> frames in one buffer: the driver's
    /// largest storage block and buffer texture, or <see cref="MaxFrameTexels"/> when smaller. No limit while
    /// capturing spectra: the theorem view's spectra are the whole input's.</summary>
    private long MaxPlane(int frames)
    {
        if (CaptureSpectra) return long.MaxValue;
        long perFrame = BufferTexels(_context.MaxStorageBlockBytes, _maxTexels) / frames;
        if (MaxFrameTexels is { } cap) perFrame = Math.Min(perFrame, cap);
        return Math.Max(1, perFrame);
    }

    /// <summary>The most vec4 texels one FFT buffer may hold on <paramref name="context"/>'s driver (its largest storage
    /// block and buffer texture): what the cost model's banded plan is made for (<see cref="ConvAlgorithms.Choose"/>).</summary>
    public static long BufferTexels(GlContext context) => BufferTexels(context.MaxStorageBlockBytes, ComputeOp.MaxTexelViewFloats(context.Gl));

    private static long BufferTexels(long maxStorageBlockBytes, long maxTexels) => Math.Min(maxStorageBlockBytes / (Texel * sizeof(float)), maxTexels);

    /// <summary>For tests: a smaller limit on one frame's texels than the driver's, so that small inputs run in bands.</summary>
    internal long? MaxFrameTexels { get; set; }

    /// <summary>The frame for an input of (H, W) run as <paramref name="frames"/> frames per buffer (the most of input,
    /// output and kernel-pair frames), kept while the shape, kernel size, options, tile count and limit stay.</summary>
    internal FftPlan PlanFor(int h, int w, int frames)
    {
        long maxPlane = MaxPlane(frames);
        var key = (h, w, WeightShape[2], WeightShape[3], _options, TileCount, maxPlane);
        if (_plan is null || key != _planKey)
        {
            _plan = FftPlan.For(h, w, WeightShape[2], WeightShape[3], _options, TileCount, maxPlane);
            _planKey = key;
        }
        return _plan;
    }

    /// <summary>One Stockham pass as planned: its program (defines resolved once), radix, direction, axis, the
    /// product of the radices before it, whether it pads the input or unpacks the output, and its step name.</summary>
    private sealed record Pass(GlProgram Program, int Radix, bool Inverse, bool Columns, int Ns, bool Pad, bool Unpack, string Name);

    /// <summary>Every pass of a run for one frame, planned once: resolving a program per pass builds its cache key
    /// (strings, boxed defines), which a per-frame run must not do.</summary>
    private sealed record Schedule((int FrameH, int FrameW, bool ForwardLast, bool HasBias, bool Capture) Key,
                                   Pass[] KernelRows, Pass[] KernelColumns, Pass[] ForwardRows, Pass[] ForwardColumns,
                                   GlProgram Product, int LastRadix, string ProductName, Pass[] InverseColumns, Pass[] InverseRows)
    {
        public bool Capture => Key.Capture;
    }

    private Schedule ScheduleFor(FftPlan plan, bool forwardLast)
    {
        var key = (plan.FrameH, plan.FrameW, forwardLast, _hasBias, CaptureSpectra);
        if (_schedule is not null && _schedule.Key == key) return _schedule;
        int[] rowRadices = RadicesOrIdentity(plan.FrameW), columnRadices = RadicesOrIdentity(plan.FrameH);
        int lastRadix = columnRadices[^1];
        _schedule = new Schedule(key,
            plan.FrameW > 1 ? PlanPasses(FftPlan.Radices(plan.FrameW), inverse: false, columns: false) : [],
            plan.FrameH > 1 ? PlanPasses(FftPlan.Radices(plan.FrameH), inverse: false, columns: true) : [],
            PlanPasses(rowRadices, inverse: false, columns: false, pad: true),
            PlanPasses(forwardLast ? columnRadices[..^1] : columnRadices, inverse: false, columns: true),
            _context.Shaders.Compute("fft_product.comp", ("RADIX", lastRadix), ("FORWARD_LAST", forwardLast ? 1 : 0), ("CAPTURE", CaptureSpectra ? 1 : 0)),
            lastRadix, $"product r{lastRadix}",
            PlanPasses([.. columnRadices[..^1].Reverse()], inverse: true, columns: true, firstNs: lastRadix),
            PlanPasses(rowRadices, inverse: true, columns: false, unpack: true));
        return _schedule;
    }

    /// <summary>The passes <paramref name="radices"/> of a forward or inverse transform along rows or columns.
    /// <paramref name="pad"/>: the first pass reads the input through its border; <paramref name="unpack"/>: the last
    /// pass writes the output tensor.</summary>
    private Pass[] PlanPasses(int[] radices, bool inverse, bool columns, bool pad = false, bool unpack = false, int firstNs = 1)
    {
        var passes = new Pass[radices.Length];
        int ns = firstNs;
        for (int i = 0; i < radices.Length; i++)
        {
            int radix = radices[i];
            bool padHere = pad && i == 0, unpackHere = unpack && i == radices.Length - 1;
            GlProgram p = _context.Shaders.Compute("fft_pass.comp", ("RADIX", radix), ("INVERSE", inverse ? 1 : 0), ("COLUMNS", columns ? 1 : 0),
                                                   ("FIRST", ns == 1 ? 1 : 0), ("PAD", padHere ? 1 : 0), ("UNPACK", unpackHere ? 1 : 0),
                                                   ("HAS_BIAS", unpackHere && _hasBias ? 1 : 0));
            passes[i] = new Pass(p, radix, inverse, columns, ns, padHere, unpackHere,
                $"{(inverse ? "inverse" : "forward")} {(columns ? "columns" : "rows")} r{radix}{(padHere ? " + pad" : "")}{(unpackHere ? " + unpack" : "")}");
            ns *= radix;
        }
        return passes;
    }

    // What the last capturing run kept: its frame and channel counts (ReadSpectrum checks against them).
    private (FftPlan Plan, int Cin, int Cout)? _captured;

    /// <summary>The frame and channel counts of the last run with <see cref="CaptureSpectra"/>, or null.</summary>
    public (FftPlan Plan, int InputChannels, int OutputChannels)? Captured => _captured;

    /// <summary>The captured spectra for the theorem view's spectrum pass: input spectra (C_in frames, .xy),
    /// kernel spectra (pairs of kernels, .xy and .zw), products (C_out frames, .xy); vec4 texels, natural order.</summary>
    internal (GlBuffer Inputs, GlBuffer Kernels, GlBuffer Products) CapturedBuffers =>
        _captured is null ? throw new InvalidOperationException("no run with CaptureSpectra yet") : (_inSpectra!, _spectra, _products!);

    /// <summary>One spectrum of the last run with <see cref="CaptureSpectra"/>, read back (stalls: tests and tools):
    /// <see cref="FftSpectrum.Input"/> of input channel <paramref name="index"/>, <see cref="FftSpectrum.Kernel"/> of
    /// kernel q = o * C_in/groups + c, <see cref="FftSpectrum.Product"/> of output channel o. Row-major (F_h, F_w),
    /// natural order (DC at 0); the product is sum_c In_c conj(K_{o,c}) without the inverse's 1/(F_h F_w).</summary>
    public Complex[] ReadSpectrum(FftSpectrum which, int index)
    {
        _context.CheckThread();
        if (_captured is not { } c) throw new InvalidOperationException("no run with CaptureSpectra yet");
        int count = which switch { FftSpectrum.Input => c.Cin, FftSpectrum.Kernel => WeightShape[0] * WeightShape[1], _ => c.Cout };
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        int plane = (int)c.Plan.Plane;
        var texels = new float[plane * Texel];
        GlBuffer buffer = which switch { FftSpectrum.Input => _inSpectra!, FftSpectrum.Kernel => _spectra, _ => _products! };
        int frame = which == FftSpectrum.Kernel ? index >> 1 : index, half = which == FftSpectrum.Kernel ? (index & 1) * 2 : 0;
        buffer.Read<float>(texels, frame * plane * Texel);
        var z = new Complex[plane];
        for (int t = 0; t < plane; t++) z[t] = new Complex(texels[t * Texel + half], texels[t * Texel + half + 1]);
        return z;
    }

    // What the fused PAD and UNPACK passes read and write besides the frames (set by Run for Passes).
    private GlBuffer? _padInput, _unpackOutput;
    private (int C, int H, int W) _inShape, _outShape;
    private int _columnsAt;

    /// <summary>The radices of a transform of length <paramref name="n"/>, or [1] (an identity pass) for length 1, so
    /// the fused pad, product and unpack passes always have a pass to live in.</summary>
    private static int[] RadicesOrIdentity(int n) => n == 1 ? [1] : FftPlan.Radices(n);

    /// <summary>CPU in, CPU out, through scratch GPU tensors kept for the next call.</summary>
    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(_context, "fft conv2d");
        return _scratch.Apply(input, Run);
    }

    /// <summary>Refuses, before allocating anything, frames that no storage block or buffer texture can hold.</summary>
    private void CheckFits(FftPlan plan, int frames)
    {
        long texels = plan.Plane * frames;
        long bytes = texels * Texel * sizeof(float);
        if (bytes > _context.MaxStorageBlockBytes || texels > _maxTexels)
            throw new FftTooLargeException(
                $"FFT convolution needs {frames} frame{(frames == 1 ? "" : "s")} of {plan.FrameW}x{plan.FrameH} ({bytes >> 20} MiB), more than this driver's " +
                $"limit ({_context.MaxStorageBlockBytes >> 20} MiB per buffer, {_maxTexels} texels per buffer texture); use the direct or separable algorithm{(frames > 1 ? ", or fewer channels" : "")}");
    }

    /// <summary>Runs <paramref name="passes"/> over <paramref name="frames"/> frames, ping-ponging between
    /// <paramref name="src"/> and <paramref name="dst"/> (on return <paramref name="src"/> holds the result). A pad pass
    /// reads the input through its border instead of <paramref name="src"/>; an unpack pass writes the output tensor.
    /// Inverse row passes cover the first T_h rows only, the only ones holding outputs (rows are independent).</summary>
    private void Passes(FftPlan plan, ref GlBuffer src, ref GlBuffer dst, int frames, Pass[] passes)
    {
        GL gl = _context.Gl;
        foreach (Pass pass in passes)
        {
            int n = pass.Columns ? plan.FrameH : plan.FrameW, radix = pass.Radix, ns = pass.Ns;
            int rows = pass.Inverse ? Math.Min(plan.TileRows, plan.FrameH) : plan.FrameH;
            GlBuffer twiddles = pass.Columns ? _twiddlesH : _twiddlesW;
            GlProgram p = pass.Program;
            p.Use();
            gl.Uniform2(p.Uniform("u_frame"), plan.FrameH, plan.FrameW);
            gl.Uniform1(p.Uniform("u_quarter"), n / radix);
            gl.Uniform1(p.Uniform("u_rows"), rows);
            gl.Uniform1(p.Uniform("u_ns"), ns);
            gl.Uniform1(p.Uniform("u_inv_ns"), 1f / ns);
            gl.Uniform1(p.Uniform("u_twiddle_step"), n / (ns * radix));
            gl.Uniform1(p.Uniform("u_frames"), frames);
            gl.Uniform1(p.Uniform("u_tile_rows"), plan.TileRows);
            if (pass.Pad)
            {
                gl.Uniform3(p.Uniform("u_in_shape"), _inShape.C, _inShape.H, _inShape.W);
                gl.Uniform1(p.Uniform("u_columns_at"), _columnsAt);
                gl.Uniform1(p.Uniform("u_tiles"), TileCount);
                gl.Uniform1(p.Uniform("u_row_base"), _rowBase);
                _view0.Bind(_padInput!, 0, SizedInternalFormat.R32f, BufferAccessARB.ReadOnly);
                _view3.Bind(_maps, 3, SizedInternalFormat.R32i, BufferAccessARB.ReadOnly);
            }
            else _view0.Bind(src, 0, SizedInternalFormat.Rgba32f, BufferAccessARB.ReadOnly);
            if (pass.Unpack)
            {
                gl.Uniform3(p.Uniform("u_out_shape"), _outShape.C, _outShape.H, _outShape.W);
                gl.Uniform2(p.Uniform("u_stride"), _options.StrideY, _options.StrideX);
                gl.Uniform2(p.Uniform("u_inv_stride"), 1f / _options.StrideY, 1f / _options.StrideX);
                gl.Uniform1(p.Uniform("u_row_base"), _rowBase);
                _view1.Bind(_unpackOutput!, 1, SizedInternalFormat.R32f, BufferAccessARB.WriteOnly);
                _bias.Bind(4);
            }
            else _view1.Bind(dst, 1, SizedInternalFormat.Rgba32f, BufferAccessARB.WriteOnly);
            _view2.Bind(twiddles, 2, SizedInternalFormat.RG32f, BufferAccessARB.ReadOnly);
            if (pass.Columns) p.DispatchCovering(plan.FrameW, n / radix, frames);
            else p.DispatchCovering(n / radix, rows, frames);
            Barrier(gl);
            if (!pass.Unpack) (src, dst) = (dst, src);
            Step(pass.Name);
        }
    }

    /// <summary>Where padded row py and column px come from (<see cref="Borders.Map"/>, -1 for zero), for every row
    /// a tile of any band reads (below Bands * 4 T_h + F_h) and every frame column; -1 past the rows and columns any
    /// output reads. Returns where the column map starts.</summary>
    private int EnsureMaps(int h, int w, FftPlan plan, ConvGeometry g)
    {
        int rows = plan.Bands * FftPlan.Tiles * plan.TileRows + plan.FrameH;
        var key = (h, w, plan, g.Y.PadBefore, g.X.PadBefore, _options.Border);
        if (_mapsKey == key) return rows;
        var maps = new int[rows + plan.FrameW];
        for (int py = 0; py < rows; py++) maps[py] = py < plan.NeedH ? Borders.Map(py - g.Y.PadBefore, h, _options.Border) : -1;
        for (int px = 0; px < plan.FrameW; px++) maps[rows + px] = px < plan.NeedW ? Borders.Map(px - g.X.PadBefore, w, _options.Border) : -1;
        _maps.Write(MemoryMarshal.Cast<int, float>(maps));
        _mapsKey = key;
        return rows;
    }

    /// <summary>The twiddle tables exp(-2 pi i q / n), q &lt; n, for both frame sides, computed in double.</summary>
    private void EnsureTwiddles(FftPlan plan)
    {
        if (_twiddleH != plan.FrameH) Twiddles(_twiddlesH, _twiddleH = plan.FrameH);
        if (_twiddleW != plan.FrameW) Twiddles(_twiddlesW, _twiddleW = plan.FrameW);
    }

    private static void Twiddles(GlBuffer buffer, int n)
    {
        var table = new float[2 * n];
        for (int q = 0; q < n; q++)
        {
            double angle = -2 * Math.PI * q / n;
            table[2 * q] = (float)Math.Cos(angle);
            table[2 * q + 1] = (float)Math.Sin(angle);
        }
        buffer.Write(table);
    }

    /// <summary>The kernels' spectra for this frame, mode and dilation: kernel q = o * C_in/groups + c (rotated 180
    /// degrees under convolve, dilated) at the frame's origin, two kernels per texel (q even in .xy, odd in .zw),
    /// transformed forward.</summary>
    private void EnsureSpectra(FftPlan plan, Schedule schedule, int pairs)
    {
        var key = (plan.FrameH, plan.FrameW, _options.Mode, _options.DilationY, _options.DilationX);
        if (_spectraKey == key) return;
        Progress?.Invoke(0, "fft: kernel spectra");
        int kh = WeightShape[2], kw = WeightShape[3], count = WeightShape[0] * WeightShape[1];
        int plane = (int)plan.Plane;
        bool flip = _options.Mode == ConvMode.Convolve;
        var frames = new float[pairs * plane * Texel];
        for (int q = 0; q < count; q++)
        {
            int offset = (q >> 1) * plane * Texel + (q & 1) * 2;
            for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++)
                {
                    int wi = flip ? kh - 1 - i : i, wj = flip ? kw - 1 - j : j;
                    int texel = i * _options.DilationY * plan.FrameW + j * _options.DilationX;
                    frames[offset + texel * Texel] = _weights[(q * kh + wi) * kw + wj];
                }
        }
        _spectra.Write(frames);
        _spectraScratch.Reserve(pairs * plane * Texel);
        GlBuffer src = _spectra, dst = _spectraScratch;
        Passes(plan, ref src, ref dst, pairs, schedule.KernelRows);
        Passes(plan, ref src, ref dst, pairs, schedule.KernelColumns);
        (_spectra, _spectraScratch) = (src, dst);
        _spectraKey = key;
    }

    /// <summary>Image stores and loads are not ordered between dispatches without a barrier, and the output tensor
    /// is read next as a storage buffer or read back.</summary>
    private static void Barrier(GL gl) => gl.MemoryBarrier(MemoryBarrierMask.AllBarrierBits);

    public void Dispose()
    {
        _inFrames.Dispose();
        _inScratch.Dispose();
        _outFrames.Dispose();
        _outFrames2.Dispose();
        _spectra.Dispose();
        _spectraScratch.Dispose();
        _twiddlesH.Dispose();
        _twiddlesW.Dispose();
        _bias.Dispose();
        _maps.Dispose();
        _view0.Dispose();
        _view1.Dispose();
        _view2.Dispose();
        _view3.Dispose();
        _view4?.Dispose();
        _view5?.Dispose();
        _inSpectra?.Dispose();
        _products?.Dispose();
        _scratch?.Dispose();
    }
}

/// <summary>Which spectrum of the convolution theorem <see cref="GpuFftConv2D.ReadSpectrum"/> reads.</summary>
public enum FftSpectrum { Input, Kernel, Product }
