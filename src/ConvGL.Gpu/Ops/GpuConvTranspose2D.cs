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
    public string Variant => _ran switch
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
        if (Choice != ConvPath.Direct && input.Length <= ComputeOp.MaxTexelViewFloats(_context.Gl))
        {
            RunSpread(input, output, o, cout);
            return;
        }
        _ran = false;
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
        if (output.C != cout) throw new InvalidOperationException($"conv_transpose: the spread-out conv gave {output.C} channels, not {cout}");
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(_context, "conv_transpose");
        return _scratch.Apply(input, Run);
    }

    public void Dispose()
    {
        _conv?.Dispose();
        _spread?.Dispose();
        _weight.Dispose();
        _bias.Dispose();
        _scratch?.Dispose();
    }
}
