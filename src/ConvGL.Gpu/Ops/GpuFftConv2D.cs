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
///   1. shaders/fft_pad.comp: each input channel padded by its border into one frame (<see cref="FftPlan"/>: four
///      tiles of the dense output rows, overlap-save, packed as a texel's four floats);
///   2. shaders/fft_pass.comp: forward 2D FFT of every input frame (rows, then columns; Stockham passes);
///   3. shaders/fft_multiply.comp: each output channel's spectrum = sum over its group's input channels of the
///      input spectrum times the conjugate kernel spectrum, so one forward FFT of the input serves the whole bank
///      and the channel sum costs one inverse FFT per output channel;
///   4. inverse 2D FFT of every output frame; 5. shaders/fft_unpack.comp: stride sampling, tiles back, bias.
/// Kernel spectra are computed on the GPU with the same passes when the weights, the frame, the mode or the
/// dilation change, and kept. All buffers and textures are made once and grow only when a larger frame needs it.
///
/// Precision: float32 transforms. The error of an output is about 2^-24 * log2(frame) * sum|k| * max|in| with a
/// small constant (the parity tests state their bound); for a kernel whose absolute sum is much larger than its
/// result (a difference of large positive and negative taps) the relative error is larger than the direct sum's.</summary>
public sealed class GpuFftConv2D : IDisposable
{
    private const int Texel = 4; // floats per frame texel

    private readonly GlContext _context;
    private readonly long _maxTexels;
    private GlBuffer _inFrames, _inScratch, _outFrames, _outScratch, _spectra;
    private readonly GlBuffer _twiddlesH, _twiddlesW, _bias, _maps;
    private readonly FftTexelView _view0, _view1, _view2;
    private ConvOptions _options;
    private float[] _weights = [];
    private bool _hasBias;
    private (int FrameH, int FrameW, ConvMode Mode, int DilationY, int DilationX)? _spectraKey;
    private int _twiddleH, _twiddleW;
    private (int H, int W, FftPlan Plan, int Top, int Left, Border Border)? _mapsKey;
    private ScratchTensors? _scratch;

    /// <summary>(C_out, C_in / groups, kH, kW).</summary>
    public int[] WeightShape { get; private set; } = [];

    /// <summary>The frame of the last <see cref="Run"/> (for the algorithm note and tests).</summary>
    public FftPlan? LastPlan { get; private set; }

    public GpuFftConv2D(GlContext context, Tensor weight, float[]? bias, ConvOptions? options = null)
    {
        _context = context;
        _inFrames = new GlBuffer(context, "fft input frames");
        _inScratch = new GlBuffer(context, "fft input scratch");
        _outFrames = new GlBuffer(context, "fft output frames");
        _outScratch = new GlBuffer(context, "fft output scratch");
        _spectra = new GlBuffer(context, "fft kernel spectra");
        _twiddlesH = new GlBuffer(context, "fft twiddles (columns)");
        _twiddlesW = new GlBuffer(context, "fft twiddles (rows)");
        _bias = new GlBuffer(context, "fft bias");
        _maps = new GlBuffer(context, "fft border maps");
        _view0 = new FftTexelView(context, "fft view 0");
        _view1 = new FftTexelView(context, "fft view 1");
        _view2 = new FftTexelView(context, "fft view 2");
        context.Gl.GetInteger(GLEnum.MaxTextureBufferSize, out int maxTexels);
        _maxTexels = maxTexels > 0 ? maxTexels : int.MaxValue;
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
        FftPlan plan = FftPlan.For(input.H, input.W, WeightShape[2], WeightShape[3], _options);
        int cin = input.C, pairs = (cout * WeightShape[1] + 1) / 2;
        CheckFits(plan, Math.Max(Math.Max(cin, cout), pairs));
        LastPlan = plan;

        EnsureTwiddles(plan);
        EnsureSpectra(plan, pairs, cout);
        int plane = (int)plan.Plane;
        GL gl = _context.Gl;

        // 1. Pad and pack the input into its frames.
        _inFrames.Reserve(cin * plane * Texel);
        ConvGeometry g = ConvGeometry.Compute(input.H, input.W, WeightShape[2], WeightShape[3], _options);
        int columnsAt = EnsureMaps(input.H, input.W, plan, g);
        GlProgram pad = _context.Shaders.Compute("fft_pad.comp");
        pad.Use();
        gl.Uniform3(pad.Uniform("u_in_shape"), cin, input.H, input.W);
        gl.Uniform2(pad.Uniform("u_frame"), plan.FrameH, plan.FrameW);
        gl.Uniform1(pad.Uniform("u_tile_rows"), plan.TileRows);
        gl.Uniform1(pad.Uniform("u_columns_at"), columnsAt);
        _view0.Bind(input.Buffer, 0, SizedInternalFormat.R32f, BufferAccessARB.ReadOnly);
        _view1.Bind(_inFrames, 1, SizedInternalFormat.Rgba32f, BufferAccessARB.WriteOnly);
        _view2.Bind(_maps, 2, SizedInternalFormat.R32i, BufferAccessARB.ReadOnly);
        pad.DispatchCovering((plan.FrameW + 3) / 4, plan.FrameH, cin); // four texels per invocation
        Barrier(gl);

        // 2. Forward transform of every input frame.
        _inScratch.Reserve(cin * plane * Texel);
        if (Transform(plan, _inFrames, _inScratch, cin, inverse: false)) (_inFrames, _inScratch) = (_inScratch, _inFrames);

        // 3. Products with the kernel spectra, summed over each group's input channels.
        _outFrames.Reserve(cout * plane * Texel);
        GlProgram mul = _context.Shaders.Compute("fft_multiply.comp");
        mul.Use();
        // Four texels per invocation, as a 2D dispatch of rows of at most 4096 workgroups (GL's minimum group count is 65535).
        int quads = (plane + 3) / 4;
        int row = Math.Max(1, Math.Min((quads + 63) / 64, 4096)) * 64;
        gl.Uniform1(mul.Uniform("u_plane"), plane);
        gl.Uniform1(mul.Uniform("u_row"), row);
        gl.Uniform2(mul.Uniform("u_group"), WeightShape[1], cout / _options.Groups);
        gl.Uniform1(mul.Uniform("u_cout"), cout);
        gl.Uniform1(mul.Uniform("u_scale"), (float)(1.0 / plane));
        _view0.Bind(_inFrames, 0, SizedInternalFormat.Rgba32f, BufferAccessARB.ReadOnly);
        _view1.Bind(_spectra, 1, SizedInternalFormat.Rgba32f, BufferAccessARB.ReadOnly);
        _view2.Bind(_outFrames, 2, SizedInternalFormat.Rgba32f, BufferAccessARB.WriteOnly);
        mul.DispatchCovering(row, (quads + row - 1) / row, cout);
        Barrier(gl);

        // 4. Inverse transform of every output frame.
        _outScratch.Reserve(cout * plane * Texel);
        if (Transform(plan, _outFrames, _outScratch, cout, inverse: true)) (_outFrames, _outScratch) = (_outScratch, _outFrames);

        // 5. Stride samples, tiles unpacked, bias.
        output.Resize(cout, hout, wout);
        GlProgram unpack = _context.Shaders.Compute("fft_unpack.comp", ("HAS_BIAS", _hasBias ? 1 : 0));
        unpack.Use();
        gl.Uniform3(unpack.Uniform("u_out_shape"), cout, hout, wout);
        gl.Uniform2(unpack.Uniform("u_frame"), plan.FrameH, plan.FrameW);
        gl.Uniform2(unpack.Uniform("u_stride"), _options.StrideY, _options.StrideX);
        gl.Uniform1(unpack.Uniform("u_tile_rows"), plan.TileRows);
        gl.Uniform2(unpack.Uniform("u_inv_stride"), 1f / _options.StrideY, 1f / _options.StrideX);
        _view0.Bind(_outFrames, 0, SizedInternalFormat.Rgba32f, BufferAccessARB.ReadOnly);
        _view1.Bind(output.Buffer, 1, SizedInternalFormat.R32f, BufferAccessARB.WriteOnly);
        _bias.Bind(2);
        unpack.DispatchCovering((plan.DenseW + 3) / 4, plan.TileRows, cout); // four frame texels per invocation
        Barrier(gl);
    }

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
            throw new ConvGLException(
                $"FFT convolution needs {frames} frames of {plan.FrameH}x{plan.FrameW} ({bytes >> 20} MiB), more than this driver's " +
                $"limit ({_context.MaxStorageBlockBytes >> 20} MiB per buffer, {_maxTexels} texels per buffer texture); use the direct or separable algorithm, or fewer channels");
    }

    /// <summary>Forward or inverse 2D transform of <paramref name="frames"/> frames in <paramref name="data"/>,
    /// ping-ponging with <paramref name="scratch"/>. Returns true when the result ended in the scratch buffer.
    /// Forward: rows, then columns. Inverse: columns, then rows, and only the first T_h rows, the only ones
    /// fft_unpack.comp reads (row transforms are independent of each other).</summary>
    private bool Transform(FftPlan plan, GlBuffer data, GlBuffer scratch, int frames, bool inverse)
    {
        bool swapped = false;
        GlBuffer src = data, dst = scratch;
        for (int step = 0; step < 2; step++)
        {
            bool columns = inverse ? step == 0 : step == 1;
            int n = columns ? plan.FrameH : plan.FrameW;
            int rows = inverse ? Math.Min(plan.TileRows, plan.FrameH) : plan.FrameH;
            GlBuffer twiddles = columns ? _twiddlesH : _twiddlesW;
            int ns = 1;
            foreach (int radix in FftPlan.Radices(n))
            {
                Pass(plan, src, dst, twiddles, frames, n, ns, radix, inverse, columns, rows);
                ns *= radix;
                (src, dst) = (dst, src);
                swapped = !swapped;
            }
        }
        return swapped;
    }

    private void Pass(FftPlan plan, GlBuffer src, GlBuffer dst, GlBuffer twiddles, int frames, int n, int ns, int radix, bool inverse, bool columns, int rows)
    {
        GL gl = _context.Gl;
        GlProgram p = _context.Shaders.Compute("fft_pass.comp", ("RADIX", radix), ("INVERSE", inverse ? 1 : 0), ("COLUMNS", columns ? 1 : 0));
        p.Use();
        gl.Uniform2(p.Uniform("u_frame"), plan.FrameH, plan.FrameW);
        gl.Uniform1(p.Uniform("u_quarter"), n / radix);
        gl.Uniform1(p.Uniform("u_ns"), ns);
        gl.Uniform1(p.Uniform("u_inv_ns"), 1f / ns);
        gl.Uniform1(p.Uniform("u_twiddle_step"), n / (ns * radix));
        gl.Uniform1(p.Uniform("u_frames"), frames);
        _view0.Bind(src, 0, SizedInternalFormat.Rgba32f, BufferAccessARB.ReadOnly);
        _view1.Bind(dst, 1, SizedInternalFormat.Rgba32f, BufferAccessARB.WriteOnly);
        _view2.Bind(twiddles, 2, SizedInternalFormat.RG32f, BufferAccessARB.ReadOnly);
        if (columns) p.DispatchCovering(plan.FrameW, n / radix, frames);
        else p.DispatchCovering(n / radix, rows, frames);
        Barrier(gl);
    }

    /// <summary>Where padded row py and column px come from (<see cref="Borders.Map"/>, -1 for zero), for every row
    /// a tile reads (3 T_h + F_h) and every frame column; -1 past the rows and columns any output reads. Returns
    /// where the column map starts.</summary>
    private int EnsureMaps(int h, int w, FftPlan plan, ConvGeometry g)
    {
        int rows = 3 * plan.TileRows + plan.FrameH;
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
    private void EnsureSpectra(FftPlan plan, int pairs, int cout)
    {
        var key = (plan.FrameH, plan.FrameW, _options.Mode, _options.DilationY, _options.DilationX);
        if (_spectraKey == key) return;
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
        _outScratch.Reserve(Math.Max(pairs, cout) * plane * Texel);
        if (Transform(plan, _spectra, _outScratch, pairs, inverse: false)) (_spectra, _outScratch) = (_outScratch, _spectra);
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
        _outScratch.Dispose();
        _spectra.Dispose();
        _twiddlesH.Dispose();
        _twiddlesW.Dispose();
        _bias.Dispose();
        _maps.Dispose();
        _view0.Dispose();
        _view1.Dispose();
        _view2.Dispose();
        _scratch?.Dispose();
    }
}
