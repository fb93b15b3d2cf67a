using ConvGL.Core;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>A 1x1 conv (one group; any stride, padding and border) as a matrix product: the input value under each output
/// pixel gathered once into a (C_in, TP) matrix (pointwise_gather.comp: strides, padding and the border applied there;
/// skipped at stride 1 without padding when the output's pixels fill blocks of 8, where the input already is that
/// matrix), then (C_out x C_in) . (C_in x TP) plus the bias, 8 output channels x 8 pixels per invocation
/// (pointwise_gemm.comp). conv2d_dense.comp spends one weight fetch and 2 (stride 1) to 5 (stride 2) input fetches per
/// input channel on 32 multiply-adds of a 1x1 layer; the product spends 4 on 64 (bench/README.md has the measurements).
/// The same sums in the same order as <see cref="ConvGL.Core.Ops.Conv2D.Apply"/> up to float32 rounding.</summary>
internal sealed class PointwisePlan
{
    private readonly GlContext _context;
    private readonly (int C, int H, int W) _input;
    private readonly ConvGeometry _geometry;
    private readonly ConvOptions _options;
    private readonly GlProgram? _gather;
    private readonly GlProgram _gemm;
    private readonly int _cin, _cout, _blocks, _pixels, _padded;

    public string Variant { get; }

    /// <summary>True when the input is gathered into the caller's scratch tensor first.</summary>
    public bool Gathers => _gather is not null;

    private PointwisePlan(GlContext context, GpuTensor input, ConvGeometry geometry, ConvOptions options, GlProgram? gather,
        GlProgram gemm, int cin, int cout, int pixels, int padded, string variant)
    {
        _context = context;
        _input = (input.C, input.H, input.W);
        _geometry = geometry;
        _options = options;
        _gather = gather;
        _gemm = gemm;
        _cin = cin;
        _cout = cout;
        _blocks = (cout + 7) / 8;
        _pixels = pixels;
        _padded = padded;
        Variant = variant;
    }

    public bool Fits(GpuTensor input) => _input == (input.C, input.H, input.W);

    /// <summary>Whether the shape and options are a case this plan computes: a 1x1 kernel, one group.</summary>
    public static bool Applies(int[] weightShape, ConvOptions o) => weightShape[2] == 1 && weightShape[3] == 1 && o.Groups == 1;

    /// <summary>Plans the conv, or returns null where it does not apply, the gathered input or the packed weights would
    /// pass the texel-buffer size, or (under <see cref="ConvPath.Auto"/>) the layer is small enough for conv2d.comp (fewer
    /// outputs than <see cref="ConvPlan.MinFastOutputs"/> and multiply-adds than <see cref="ConvPlan.MinFastMacs"/>, as
    /// ConvPlan decides). Everywhere else Auto takes it: it beat conv2d_dense.comp on every 1x1 layer measured, 1 to 512
    /// input channels, strides 1 and 2 (bench/README.md). <see cref="ConvPath.Pointwise"/> forces it wherever it applies.</summary>
    public static PointwisePlan? Create(GlContext context, GpuTensor input, int[] weightShape, float[] weight, float[]? bias,
        ConvOptions o, GlBuffer parameters, ConvPath choice, FusedActivation? act = null)
    {
        if (choice is not (ConvPath.Auto or ConvPath.Pointwise) || !Applies(weightShape, o)) return null;
        GL gl = context.Gl;
        int cout = weightShape[0], cin = weightShape[1];
        ConvGeometry g = ConvGeometry.Compute(input.H, input.W, 1, 1, o);
        int hOut = g.Y.Output, wOut = g.X.Output;
        if (hOut <= 0 || wOut <= 0) return null;
        long pixels = (long)hOut * wOut, padded = (pixels + 7) / 8 * 8;
        int blocks = (cout + 7) / 8;
        long limit = ComputeOp.MaxTexelViewFloats(gl);
        if (cin * padded > limit || (long)(cin + 1) * blocks * 8 > limit || input.Length > limit) return null;
        if (choice == ConvPath.Auto && cout * pixels < ConvPlan.MinFastOutputs && cout * pixels * cin < ConvPlan.MinFastMacs) return null;

        bool direct = o.StrideX == 1 && o.StrideY == 1 && g.X.PadBefore == 0 && g.Y.PadBefore == 0 && hOut == input.H && wOut == input.W &&
                      pixels % 8 == 0;
        GlProgram? gather = direct ? null : context.Shaders.Compute("pointwise_gather.comp", ("BORDER", (int)o.Border), ("WIDE", context.WideStores ? 1 : 0));
        bool u64 = context.WideStores && pixels % 8 == 0, vec4 = pixels % 4 == 0;
        GlProgram gemm = context.Shaders.Compute("pointwise_gemm.comp", [("U64_STORES", u64 ? 1 : 0), ("VEC4_STORES", vec4 ? 1 : 0), .. FusedActivation.Defines(act)]);
        float[] packed = Pack(weight, bias, cout, cin);
        parameters.Reserve(packed.Length);
        parameters.Write(packed);
        string variant = $"pointwise: 8 channels x 8 pixels/invocation{(direct ? "" : ", gathered input")}{(u64 ? ", 32-byte stores" : vec4 ? ", vec4 stores" : "")}{act?.Suffix}";
        return new PointwisePlan(context, input, g, o, gather, gemm, cin, cout, (int)pixels, (int)padded, variant);
    }

    /// <summary>The weights as pointwise_gemm.comp reads them: (C_in, CB8, 2) vec4s, component q of vec4 h for output channel
    /// 8 b + 4 h + q (zero past the last), then CB8 * 2 vec4s of bias (zero without one). A 1x1 kernel is its own flip, so
    /// correlate and convolve pack the same.</summary>
    internal static float[] Pack(float[] weight, float[]? bias, int cout, int cin)
    {
        int blocks = (cout + 7) / 8;
        var packed = new float[(cin + 1) * blocks * 8];
        for (int o = 0; o < cout; o++)
        {
            for (int c = 0; c < cin; c++) packed[(c * blocks + o / 8) * 8 + o % 8] = weight[o * cin + c];
            if (bias is not null) packed[(cin * blocks + o / 8) * 8 + o % 8] = bias[o];
        }
        return packed;
    }

    /// <summary>The gather (where planned) into <paramref name="gathered"/> (the caller's scratch, resized here), then the
    /// product into <paramref name="output"/>.</summary>
    public void Run(GpuTensor input, GpuTensor output, GlBuffer parameters, GpuTensor? gathered)
    {
        GL gl = _context.Gl;
        ComputeOp.BeforeTexelReads(gl);
        GpuTensor v = input;
        if (_gather is not null)
        {
            ArgumentNullException.ThrowIfNull(gathered);
            gathered.Resize(_cin, 1, _padded);
            input.Buffer.BindTexelView(ComputeOp.InputUnit);
            gathered.Buffer.Bind(3);
            _gather.Use();
            gl.Uniform2(_gather.Uniform("u_in_size"), input.W, input.H);
            gl.Uniform3(_gather.Uniform("u_out"), _geometry.X.Output, _pixels, _padded);
            gl.Uniform2(_gather.Uniform("u_stride"), _options.StrideX, _options.StrideY);
            gl.Uniform2(_gather.Uniform("u_pad"), _geometry.X.PadBefore, _geometry.Y.PadBefore);
            int count = _cin * (_padded / 8);
            gl.Uniform1(_gather.Uniform("u_count"), count);
            _gather.DispatchFlat(count);
            ComputeOp.Barrier(gl);
            v = gathered;
        }
        v.Buffer.BindTexelView(ComputeOp.InputUnit, vec4: true);
        parameters.BindTexelView(ComputeOp.ParamsUnit, vec4: true);
        output.Buffer.Bind(3);
        _gemm.Use();
        gl.Uniform4(_gemm.Uniform("u_gemm"), _cin, _blocks, _padded, _cout);
        gl.Uniform1(_gemm.Uniform("u_pixels"), _pixels);
        _gemm.DispatchFlat(_blocks * (_padded / 8));
        ComputeOp.Barrier(gl);
    }
}
