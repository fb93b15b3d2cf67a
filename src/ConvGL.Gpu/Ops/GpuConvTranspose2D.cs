using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="ConvTranspose2D.Apply"/>: weights and bias uploaded once (again on
/// <see cref="SetWeights"/>). The fast path spreads the input out (shaders/conv_transpose_expand.comp: the values
/// stride apart, zeros between, the border the kernel needs around them) and runs an ordinary valid correlation on it
/// through <see cref="GpuConv2D"/> and its planned fast variants, with the kernel rotated 180 degrees and its input and
/// output channels swapped: the same sums (the extra taps are zeros) at the fast conv's speed, for stride^2 times the
/// taps. shaders/conv_transpose.comp (a gather, one output per invocation) is the direct path, kept for tests.</summary>
public sealed class GpuConvTranspose2D : IDisposable
{
    private readonly GlContext _context;
    private readonly GlBuffer _weight, _bias;
    private GlProgram? _program, _expand;
    private GpuConv2D? _conv;
    private GpuTensor? _spread;
    private Tensor _weightValues = new([1, 1, 1, 1]);
    private float[]? _biasValues;
    private ScratchTensors? _scratch;
    private int[] _weightShape = [1, 1, 1, 1];
    private int _biasLength;

    public ConvTransposeOptions Options { get; set; }

    /// <summary>For tests: <see cref="ConvPath.Direct"/> runs conv_transpose.comp; anything else the spread-out fast path.</summary>
    internal ConvPath Choice { get; set; }

    /// <summary>The path of the last <see cref="Run"/>, for tests and the HUD (built when asked: no string per frame).</summary>
    public string Variant => _parity ? "conv_transpose parity split: " + string.Join("; ",
        _phaseConvs!.GroupBy(c => c.PlanVariant).Select(g => $"{g.Count()} x {g.Key}"))
        + (_woven ? $"; woven, 8 outputs/invocation{(_weaveFor is { Stores: 2 } ? ", 32-byte stores" : "")}" : "; interleaved") : _ran switch
    {
        null => "(not run yet)",
        true => $"conv_transpose spread + {_conv!.Variant}",
        false => "conv_transpose: 1 output/invocation",
    };

    // Whether the last run took the spread-out path (null: none yet).
    private bool? _ran;

    public GpuConvTranspose2D(GlContext context, Tensor weight, float[]? bias, ConvTransposeOptions options)
    {
        _context = context;
        _weight = new GlBuffer(context, "conv_transpose weight");
        _bias = new GlBuffer(context, "conv_transpose bias");
        Options = options;
        SetWeights(weight, bias);
    }

    public void SetWeights(Tensor weight, float[]? bias)
    {
        if (weight.Rank != 4) throw new ConvGLException($"conv_transpose weight {weight.ShapeString} must be (C_in, C_out / groups, kH, kW)");
        _weight.Write(weight.Data);
        _weightShape = (int[])weight.Shape.Clone();
        _biasLength = bias?.Length ?? 0;
        _bias.Write(bias ?? [0f]);
        _biasValues = bias;
        _weightValues = weight;
        _conv?.Dispose();
        _conv = null;
        if (_phaseConvs is not null) foreach (GpuConv2D c in _phaseConvs) c.Dispose();
        _phaseConvs = null;
    }

    /// <summary>The fast path's correlation weight for <paramref name="groups"/>: (C_out, C_in / groups, kH, kW) with
    /// w'[g C_out/g + j, i, ky, kx] = w[g C_in/g + i, j, kH - 1 - ky, kW - 1 - kx] (each group's block transposed, the
    /// kernel rotated 180 degrees).</summary>
    private static Tensor Regroup(Tensor w, int groups)
    {
        int cin = w.Shape[0], outPer = w.Shape[1], kh = w.Shape[2], kw = w.Shape[3], inPer = cin / groups;
        var r = new Tensor([outPer * groups, inPer, kh, kw]);
        for (int g = 0; g < groups; g++)
            for (int i = 0; i < inPer; i++)
                for (int j = 0; j < outPer; j++)
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++)
                            r.Data[((((g * outPer + j) * inPer) + i) * kh + ky) * kw + kx] = w.Data[(((g * inPer + i) * outPer + j) * kh + kh - 1 - ky) * kw + kw - 1 - kx];
        return r;
    }

    private int _convGroups;

    public void Run(GpuTensor input, GpuTensor output)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "conv_transpose");
        ConvTransposeOptions o = Options;
        ConvTranspose2D.CheckOptions(o);
        int cout = ConvTranspose2D.OutputChannels(input.C, _weightShape, o.Groups);
        (int oh, int ow) = ConvTranspose2D.OutputSize(input.H, input.W, _weightShape[2], _weightShape[3], o);
        if (_biasLength > 0 && _biasLength != cout) throw new ConvGLException($"conv_transpose bias has {_biasLength} values for {cout} output channels");
        if (Choice == ConvPath.Auto && input.Length <= ComputeOp.MaxTexelViewFloats(_context.Gl) && ParityPhases(o) is { } phases)
        {
            RunParity(input, output, o, cout, oh, ow, phases);
            return;
        }
        if (Choice != ConvPath.Direct && input.Length <= ComputeOp.MaxTexelViewFloats(_context.Gl))
        {
            RunSpread(input, output, o, cout);
            return;
        }
        _ran = false;
        _parity = false;
        int inGroup = input.C / o.Groups, kh = _weightShape[2], kw = _weightShape[3];
        long loops = (long)inGroup * kh * (kw + 1) + inGroup;
        if (ComputeOp.PastLoopLimit(_context, loops)) throw ComputeOp.LoopLimitError(_context, "conv_transpose", loops, $"{inGroup} input channel(s) of a {kh}x{kw} kernel");
        output.Resize(cout, oh, ow);
        GL gl = _context.Gl;
        GlProgram p = _program ??= _context.Shaders.Compute("conv_transpose.comp");
        p.Use();
        gl.Uniform2(p.Uniform("u_in_size"), input.W, input.H);
        gl.Uniform3(p.Uniform("u_out_size"), ow, oh, cout);
        gl.Uniform2(p.Uniform("u_kernel"), _weightShape[3], _weightShape[2]);
        gl.Uniform2(p.Uniform("u_stride"), o.StrideX, o.StrideY);
        gl.Uniform2(p.Uniform("u_dilation"), o.DilationX, o.DilationY);
        gl.Uniform2(p.Uniform("u_pad"), o.PadLeft, o.PadTop);
        gl.Uniform1(p.Uniform("u_in_group"), input.C / o.Groups);
        gl.Uniform1(p.Uniform("u_out_group"), _weightShape[1]);
        gl.Uniform1(p.Uniform("u_has_bias"), _biasLength > 0 ? 1 : 0);
        input.Buffer.Bind(0);
        _weight.Bind(1);
        _bias.Bind(2);
        output.Buffer.Bind(3);
        p.DispatchCovering(ow, oh, cout);
        ComputeOp.Barrier(gl);
    }

    private void RunSpread(GpuTensor input, GpuTensor output, ConvTransposeOptions o, int cout)
    {
        int kh = _weightShape[2], kw = _weightShape[3];
        int top = o.DilationY * (kh - 1) - o.PadTop, left = o.DilationX * (kw - 1) - o.PadLeft;
        int bottom = o.DilationY * (kh - 1) - o.PadBottom + o.OutputPadY, right = o.DilationX * (kw - 1) - o.PadRight + o.OutputPadX;
        long he = (long)(input.H - 1) * o.StrideY + 1 + top + bottom, we = (long)(input.W - 1) * o.StrideX + 1 + left + right;
        if ((long)input.C * he * we > Limits.StackMapValues)
            throw new ConvGLException($"conv_transpose ({o}): its spread-out input of {input.C}x{he}x{we} exceeds {Limits.StackMapValues} values");
        _spread ??= new GpuTensor(_context, label: "conv_transpose spread input");
        _spread.Resize(input.C, (int)he, (int)we);
        GL gl = _context.Gl;
        GlProgram e = _expand ??= _context.Shaders.Compute("conv_transpose_expand.comp");
        ComputeOp.BeforeTexelReads(gl);
        e.Use();
        gl.Uniform2(e.Uniform("u_in_size"), input.W, input.H);
        gl.Uniform2(e.Uniform("u_out_size"), (int)we, (int)he);
        gl.Uniform2(e.Uniform("u_stride"), o.StrideX, o.StrideY);
        gl.Uniform2(e.Uniform("u_offset"), left, top);
        input.Buffer.BindTexelView(ComputeOp.InputUnit);
        _spread.Buffer.Bind(3);
        e.DispatchCovering((int)we, (int)he, input.C);
        ComputeOp.Barrier(gl);
        if (_conv is null || _convGroups != o.Groups)
        {
            _conv?.Dispose();
            _conv = new GpuConv2D(_context, Regroup(_weightValues, o.Groups), _biasValues);
            _convGroups = o.Groups;
        }
        // A new options record (and plan) only when the dilation changes: nothing allocated per frame.
        if (_conv.Options.DilationY != o.DilationY || _conv.Options.DilationX != o.DilationX || _conv.Options.Groups != o.Groups
            || _conv.Options.Padding != PaddingMode.Explicit)
            _conv.Options = new ConvOptions
            {
                Padding = PaddingMode.Explicit, PadY = 0, PadX = 0, StrideY = 1, StrideX = 1, DilationY = o.DilationY, DilationX = o.DilationX,
                Groups = o.Groups, Border = Border.Zero, Mode = ConvMode.Correlate,
            };
        _conv.Run(_spread, output);
        _ran = true;
        _parity = false;
        if (output.C != cout) throw new InvalidOperationException($"conv_transpose: the spread-out conv gave {output.C} channels, not {cout}");
    }

    /// <summary>One output phase along an axis: outputs p, p + s, p + 2s, ... are a correlation of the input with the
    /// rotated kernel's taps <see cref="First"/>, First + s, ... (<see cref="Taps"/> of them), reading input q + <see
    /// cref="Offset"/> + m for output p + s q.</summary>
    private readonly record struct Phase(int First, int Taps, int Offset);

    /// <summary>The phases of both axes when the parity split applies (dilation 1, a stride above 1 on some axis, every
    /// phase with at least one tap and no input rows skipped before it); null: use the spread-out path.</summary>
    private (Phase[] Y, Phase[] X)? ParityPhases(ConvTransposeOptions o)
    {
        if (o.DilationY != 1 || o.DilationX != 1 || (o.StrideY == 1 && o.StrideX == 1)) return null;
        // Worked out once per stride, pads and kernel size: a steady run allocates nothing.
        var key = (o.StrideY, o.StrideX, o.PadTop, o.PadLeft, _weightShape[2], _weightShape[3]);
        if (_phaseKey != key)
        {
            Phase[]? y = AxisPhases(_weightShape[2], o.StrideY, _weightShape[2] - 1 - o.PadTop), x = AxisPhases(_weightShape[3], o.StrideX, _weightShape[3] - 1 - o.PadLeft);
            _phases = y is null || x is null ? null : (y, x);
            _phaseKey = key;
        }
        return _phases;
    }

    private (Phase[] Y, Phase[] X)? _phases;
    private (int, int, int, int, int, int)? _phaseKey;

    // The spread-out input puts input i at row top + s i; output y correlates rows y .. y + k - 1 with the rotated kernel,
    // so it meets inputs at taps t with (y + t - top) a multiple of s: t = a, a + s, ... for a = (top - p) mod s, reading
    // input q + (p + a - top) / s + m for output y = p + s q.
    private static Phase[]? AxisPhases(int k, int s, int top)
    {
        var phases = new Phase[s];
        for (int p = 0; p < s; p++)
        {
            int a = ((top - p) % s + s) % s;
            int taps = a < k ? (k - a + s - 1) / s : 0;
            int offset = (p + a - top) / s;
            if (taps == 0 || offset > 0) return null;
            phases[p] = new Phase(a, taps, offset);
        }
        return phases;
    }

    private GpuConv2D[]? _phaseConvs;
    private GpuTensor? _phaseOut;
    // Strides of at most 2: every phase's own output, woven into the output by conv_transpose_weave.comp afterwards.
    private readonly GpuTensor?[] _phaseOuts = new GpuTensor?[4];
    private GlProgram? _interleave;
    private bool _woven;
    private (int Sy, int Sx, int Top, int Left, int Groups)? _phasesFor;

    /// <summary>The parity split: for each of the stride^2 output phases an ordinary correlation of the input itself (no
    /// zeros) with that phase's taps of the rotated kernel, through GpuConv2D's fast plans, then its outputs written
    /// stride apart into the output. The same sums as the spread-out path without its multiplications by zero (3/4 of
    /// them at stride 2). At strides of at most 2 each phase keeps its own tensor and conv_transpose_weave.comp writes
    /// the output in one pass per row parity, 8 consecutive outputs per invocation (one 32-byte store where rows are
    /// whole multiples of 8); larger strides write each phase stride apart (conv_transpose_interleave.comp).</summary>
    private void RunParity(GpuTensor input, GpuTensor output, ConvTransposeOptions o, int cout, int oh, int ow, (Phase[] Y, Phase[] X) phases)
    {
        int sy = o.StrideY, sx = o.StrideX;
        if (_phaseConvs is null || _phasesFor != (sy, sx, o.PadTop, o.PadLeft, o.Groups))
        {
            if (_phaseConvs is not null) foreach (GpuConv2D c in _phaseConvs) c.Dispose();
            Tensor r = Regroup(_weightValues, o.Groups);
            _phaseConvs = new GpuConv2D[sy * sx];
            for (int py = 0; py < sy; py++)
                for (int px = 0; px < sx; px++)
                    _phaseConvs[py * sx + px] = new GpuConv2D(_context, Taps(r, phases.Y[py], phases.X[px], sy, sx), _biasValues);
            _phasesFor = (sy, sx, o.PadTop, o.PadLeft, o.Groups);
        }
        _phaseOut ??= new GpuTensor(_context, label: "conv_transpose phase");
        output.Resize(cout, oh, ow);
        GL gl = _context.Gl;
        _woven = sy <= 2 && sx <= 2;
        for (int py = 0; py < sy; py++)
            for (int px = 0; px < sx; px++)
            {
                int qy = oh > py ? (oh - py + sy - 1) / sy : 0, qx = ow > px ? (ow - px + sx - 1) / sx : 0;
                if (qy == 0 || qx == 0) continue;
                Phase fy = phases.Y[py], fx = phases.X[px];
                // Padding before = -offset; after: enough for the phase's outputs (extra ones are computed and dropped).
                int top = -fy.Offset, left = -fx.Offset;
                int bottom = Math.Max(0, qy + fy.Taps - 1 - input.H - top), right = Math.Max(0, qx + fx.Taps - 1 - input.W - left);
                GpuConv2D conv = _phaseConvs[py * sx + px];
                ConvOptions c = conv.Options;
                if (c.Padding != PaddingMode.Explicit || c.PadY != top || c.PadX != left || c.PadBottom != bottom || c.PadRight != right || c.Groups != o.Groups)
                    conv.Options = new ConvOptions
                    {
                        Padding = PaddingMode.Explicit, PadY = top, PadX = left, PadBottom = bottom, PadRight = right,
                        Groups = o.Groups, Border = Border.Zero, Mode = ConvMode.Correlate,
                    };
                if (_woven)
                {
                    conv.Run(input, _phaseOuts[py * sx + px] ??= new GpuTensor(_context, label: $"conv_transpose phase ({py}, {px})"));
                    continue;
                }
                conv.Run(input, _phaseOut);
                GlProgram p = _interleave ??= _context.Shaders.Compute("conv_transpose_interleave.comp");
                ComputeOp.BeforeTexelReads(gl);
                p.Use();
                gl.Uniform2(p.Uniform("u_phase_size"), _phaseOut.W, _phaseOut.H);
                gl.Uniform3(p.Uniform("u_count"), qx, qy, cout);
                gl.Uniform2(p.Uniform("u_out_size"), ow, oh);
                gl.Uniform2(p.Uniform("u_stride"), sx, sy);
                gl.Uniform2(p.Uniform("u_phase"), px, py);
                _phaseOut.Buffer.BindTexelView(ComputeOp.InputUnit);
                output.Buffer.Bind(3);
                p.DispatchCovering(qx, qy, cout);
                ComputeOp.Barrier(gl);
            }
        if (_woven) Weave(output, sy, sx);
        _ran = null;
        _parity = true;
    }

    private readonly GlProgram?[] _weave = new GlProgram?[2];
    private (int Sy, int Sx, int Stores)? _weaveFor;

    /// <summary>conv_transpose_weave.comp, once per row parity: output rows sy q + py from phases (py, 0) and (py, 1).</summary>
    private void Weave(GpuTensor output, int sy, int sx)
    {
        GL gl = _context.Gl;
        int ow = output.W, oh = output.H;
        int stores = _context.WideStores && ow % 8 == 0 ? 2 : ow % 4 == 0 ? 1 : 0; // 32-byte, vec4 or scalar stores
        if (_weaveFor != (sy, sx, stores))
        {
            for (int py = 0; py < 2; py++)
                _weave[py] = py < sy
                    ? _context.Shaders.Compute("conv_transpose_weave.comp", ("SX", sx), ("SY", sy), ("PY", py),
                        ("U64_STORES", stores == 2 ? 1 : 0), ("VEC4_STORES", stores == 1 ? 1 : 0))
                    : null;
            _weaveFor = (sy, sx, stores);
        }
        ComputeOp.BeforeTexelReads(gl);
        for (int py = 0; py < sy; py++)
        {
            int rows = oh > py ? (oh - py + sy - 1) / sy : 0;
            if (rows == 0) continue;
            GlProgram p = _weave[py]!;
            p.Use();
            gl.Uniform3(p.Uniform("u_out_shape"), output.C, oh, ow);
            gl.Uniform1(p.Uniform("u_rows"), rows);
            for (int px = 0; px < sx; px++)
            {
                // Made by the phase's conv above (a phase without outputs has no tensor: nothing of it is stored).
                GpuTensor phase = _phaseOuts[py * sx + px] ??= new GpuTensor(_context, label: "conv_transpose empty phase");
                gl.Uniform2(p.Uniform(px == 0 ? "u_phase_size0" : "u_phase_size1"), phase.W, phase.H);
                phase.Buffer.BindImageView((uint)px);
            }
            output.Buffer.Bind(3);
            p.DispatchCovering((ow + 7) / 8, rows, output.C);
        }
        ComputeOp.Barrier(gl);
    }

    private bool _parity;

    /// <summary>A phase's sub-kernel of the rotated weight r (C_out, C_in / groups, kH, kW): taps fy.First + sy m, fx.First + sx n.</summary>
    private static Tensor Taps(Tensor r, Phase fy, Phase fx, int sy, int sx)
    {
        int co = r.Shape[0], ci = r.Shape[1], kh = r.Shape[2], kw = r.Shape[3];
        var v = new Tensor([co, ci, fy.Taps, fx.Taps]);
        for (int o = 0; o < co; o++)
            for (int i = 0; i < ci; i++)
                for (int m = 0; m < fy.Taps; m++)
                    for (int n = 0; n < fx.Taps; n++)
                        v.Data[((o * ci + i) * fy.Taps + m) * fx.Taps + n] = r.Data[((o * ci + i) * kh + fy.First + sy * m) * kw + fx.First + sx * n];
        return v;
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(_context, "conv_transpose");
        return _scratch.Apply(input, Run);
    }

    public void Dispose()
    {
        if (_phaseConvs is not null) foreach (GpuConv2D c in _phaseConvs) c.Dispose();
        _phaseOut?.Dispose();
        foreach (GpuTensor? t in _phaseOuts) t?.Dispose();
        _conv?.Dispose();
        _spread?.Dispose();
        _weight.Dispose();
        _bias.Dispose();
        _scratch?.Dispose();
    }
}
