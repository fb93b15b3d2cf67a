using System.Globalization;
using System.Text;
using ConvGL.Core;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>A dense or grouped conv layer whose weights are few enough to be compiled into its programs as literals:
/// one generated compute program per block of 4 output channels, every loop unrolled by the generator, each multiply-add
/// by a constant. On llvmpipe every weight a shader fetches (uniform block or texel view) is a gather of 8 lanes; a literal
/// costs nothing to fetch, so a Gabor bank (1 -> 8, 15x15) ran 3.4x faster and a 16 -> 32 3x3 layer 1.9x faster than
/// conv2d_dense in a same-process probe (bench/README.md, "Weights compiled in"). The input is read from a padded copy
/// (conv2d_pad.comp: the border applied once) through its rgba32f texel view, 8 outputs along x per invocation as
/// conv2d_dense does, and the outputs are stored as their bits or-ed with a uniform zero (<c>u_zero</c>): without it,
/// LLVM's instcombine pulls each accumulator's chain of multiply-adds by constants into the loop that stores the 8 lanes
/// one by one, and every multiply-add runs 8 times as scalar code (9x slower in the probe).
/// The programs are made for one weight set and owned by the plan (<see cref="Dispose"/> deletes them).</summary>
internal sealed class LiteralConvPlan : IDisposable
{
    /// <summary>Weight sets above this many values keep the fetched-weight programs: each value becomes 8 statements of
    /// generated code, and llvmpipe compiles them at ~1.6 ms a value the first time (16 -> 32 3x3, 4,608 values: 7.4 s; the
    /// Gabor bank's 1,800: 2.3 s; Mesa's shader cache on disk makes later runs ~free). A 3 -> 64 7x7 stem (9,408) was 25%
    /// faster but took 16 s to compile.</summary>
    public const int MaxWeights = 4608;

    /// <summary>Layers below this many multiply-adds keep the fetched-weight programs: compiling pays only for large maps.</summary>
    public const long MinMacs = 1L << 24;

    /// <summary>Layers with fewer output channels than this keep the fetched-weight programs: a program's block of 4
    /// channels is then partly empty (8 outputs an invocation instead of 32) and the padded copy is a whole extra pass;
    /// a 5x5 Gaussian on one channel (gauss5-2d) ran 1.4-1.6x slower than conv2d_depthwise, the 9x9 as fast.</summary>
    public const int MinOutputChannels = 4;

    private const int Ox = 8;
    private readonly GlContext _context;
    private readonly (int C, int H, int W) _input;
    private readonly List<GlProgram> _programs = [];
    private readonly ConvGeometry _g;
    private readonly (int C, int H, int W) _padded;
    private readonly int _blocks;
    private readonly ConvPlan.PadPass _pad;

    public string Variant { get; }

    private LiteralConvPlan(GlContext context, GpuTensor input, ConvGeometry g, (int, int, int) padded, int blocks,
        ConvPlan.PadPass pad, string variant)
    {
        _context = context;
        _input = (input.C, input.H, input.W);
        _g = g;
        _padded = padded;
        _blocks = blocks;
        _pad = pad;
        Variant = variant;
    }

    public bool Fits(GpuTensor input) => _input == (input.C, input.H, input.W);

    /// <summary>Whether the automatic choice may pick the literal plans (this one and <see cref="LiteralWinogradPlan"/>): on
    /// a software rasteriser only, where a load with a per-invocation address is a loop over the lanes and weights as
    /// instruction operands win. On a real GPU they lose by far (an H200, NVIDIA 580.159: conv3-16to32 8.2 ms against
    /// conv2d_dense's 0.073, and conv3-16to16-1080's program still compiling after 100 s). <c>CONVGL_LITERAL_PLANS=0</c>
    /// turns them off on llvmpipe too (an A/B switch for the bench). Forcing a path (tests) ignores both.</summary>
    internal static bool InAuto(GlContext context) => context.IsSoftware && !Disabled;

    // Read when a plan is made, so `convgl bench --ab-env CONVGL_LITERAL_PLANS=0` changes its gpu-b row (a static read once
    // per process left it the same as the gpu row: a review).
    private static bool Disabled => Environment.GetEnvironmentVariable("CONVGL_LITERAL_PLANS") == "0";

    /// <summary>Plans the layer, or returns null where the rule says no (too many weights, too few multiply-adds — under
    /// <see cref="MinMacs"/> or 4,096 a weight, whichever is less — or output channels, a depthwise layer, which
    /// conv2d_depthwise runs, a grouped 1x1 layer (not measured here: conv2d_dense as before), a padded copy beyond the
    /// texel-buffer size) unless <paramref name="choice"/> is
    /// <see cref="ConvPath.Literal"/>, which takes every layer. A block of 4 output channels reads the input channels of
    /// the groups it spans (the deep stack's Sobel x/y of 16 maps: 16 groups of 2; 8.1-8.6 ms a frame against
    /// conv2d_dense's 12-15 in the same slow hour). With <paramref name="pending"/>, also null while its programs are built
    /// ahead (<see cref="GlContext.Warmer"/>; their jobs are added there; <paramref name="paddedCapacity"/>, the caller's
    /// padded tensor's capacity in floats, says which variant to build).</summary>
    public static LiteralConvPlan? Create(GlContext context, GpuTensor input, int[] weightShape, float[] weight, float[]? bias,
        ConvOptions o, ConvPath choice, FusedActivation? act, ICollection<ShaderWarmer.Job>? pending = null, int paddedCapacity = 0)
    {
        if (choice is not (ConvPath.Auto or ConvPath.Literal) || (choice == ConvPath.Auto && !InAuto(context))) return null;
        // cin: input channels a group reads; a program's block of 4 output channels reads the input channels of every
        // group it touches.
        int cout = weightShape[0], cin = weightShape[1], kh = weightShape[2], kw = weightShape[3];
        ConvGeometry g = ConvGeometry.Compute(input.H, input.W, kh, kw, o);
        int hOut = g.Y.Output, wOut = g.X.Output;
        long macs = (long)cout * hOut * wOut * cin * kh * kw;
        int span = (Ox - 1) * o.StrideX + (kw - 1) * o.DilationX + 1, span4 = (span + 3) / 4;
        int bpr = (wOut + Ox - 1) / Ox;
        // Wide enough for the last block's whole vec4s (the rows are read 4 floats at a time from x0 * stride).
        int paddedW = ConvPlan.PadRowWidth(context, (bpr - 1) * Ox * o.StrideX + span4 * 4);
        int paddedH = Math.Max((hOut - 1) * o.StrideY + (kh - 1) * o.DilationY + 1, 1);
        if ((long)input.C * paddedH * paddedW > ComputeOp.MaxTexelViewFloats(context.Gl) || span4 > 16) return null;
        // A depthwise layer (one input channel and one output channel a group) keeps conv2d_depthwise.
        if (choice == ConvPath.Auto && (weight.Length > MaxWeights || macs < Math.Min(MinMacs, LiteralWinogradPlan.MinMacs(weight.Length))
            || cout < MinOutputChannels || kh > ConvPlan.MaxUnrolledKernel || kw > ConvPlan.MaxUnrolledKernel || (o.Groups > 1 && ((cin == 1 && cout == o.Groups) || kh * kw == 1))))
            return null;

        bool u64 = context.WideStores && wOut % 8 == 0, vec4 = wOut % 4 == 0;
        var plan = new LiteralConvPlan(context, input, g, (input.C, paddedH, paddedW), hOut * bpr,
            ConvPlan.PadProgram(context, o.Border, input.W, g.X.PadBefore, paddedW),
            $"conv2d_literal: weights compiled in, 4 channels x {Ox} x/invocation, padded copy{(u64 ? ", 32-byte stores" : vec4 ? ", vec4 stores" : "")}{act?.Suffix}");
        bool flip = o.Mode == ConvMode.Convolve;
        bool waiting = false;
        try
        {
            for (int first = 0; first < cout; first += 4)
            {
                string text = Generate(weight, bias, first, Math.Min(4, cout - first), cin, cout / o.Groups, kh, kw, flip, o, (paddedH, paddedW), (hOut, wOut), bpr, u64, vec4, act);
                string name = $"generated/conv2d_literal_{first / 4}.comp";
                // Built ahead (the context's Warmer): every block is queued at once; the plan waits for the last.
                GlProgram? program = context.Shaders.ComputeGeneratedWhenWarm(name, text, pending, 4L * Math.Max(paddedCapacity, (long)input.C * paddedH * paddedW));
                if (program is null) waiting = true;
                else plan._programs.Add(program);
            }
        }
        catch
        {
            plan.Dispose();
            throw;
        }
        if (!waiting) return plan;
        plan.Dispose();
        return null;
    }

    /// <summary>A float as GLSL source that parses back to the same bits ("R" round-trips; non-finite values by bits).</summary>
    internal static string F(float v)
    {
        if (!float.IsFinite(v)) return $"uintBitsToFloat({BitConverter.SingleToUInt32Bits(v)}u)";
        string s = v.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.', StringComparison.Ordinal) || s.Contains('E', StringComparison.Ordinal) ? s : s + ".0";
    }

    /// <summary>A weight as the generated code multiplies by it: a literal (<see cref="F"/>), but a zero as the uniform
    /// <c>u_zero_tap</c> (negated for -0): Mesa folds a product by a literal zero away, and with it a NaN or an infinity
    /// in the input, where the reference's sum (0 * NaN, 0 * inf) is NaN.</summary>
    internal static string Weight(float v) => v != 0f ? F(v) : float.IsNegative(v) ? "(-u_zero_tap)" : "u_zero_tap";

    /// <summary>The GLSL of one block of <paramref name="count"/> output channels from <paramref name="first"/>.</summary>
    private static string Generate(float[] w, float[]? bias, int first, int count, int cin, int coutPerGroup, int kh, int kw, bool flip, ConvOptions o,
        (int H, int W) padded, (int H, int W) output, int bpr, bool u64, bool vec4, FusedActivation? act)
    {
        int span = (Ox - 1) * o.StrideX + (kw - 1) * o.DilationX + 1, span4 = (span + 3) / 4;
        var sb = new StringBuilder();
        sb.Append("#version 430\n");
        if (u64) sb.Append("#extension GL_ARB_gpu_shader_int64 : require\n");
        sb.Append($"// Generated by LiteralConvPlan: output channels {first}..{first + count - 1}, weights as literals (see its summary).\n");
        foreach ((string name, object value) in FusedActivation.Defines(act))
            sb.Append(CultureInfo.InvariantCulture, $"#define {name} {value}\n");
        sb.Append("#include \"include/fused_act.glsl\"\n");
        if (u64) sb.Append("#include \"include/store8.glsl\"\n");
        sb.Append("layout(local_size_x = 64) in;\n");
        sb.Append("layout(rgba32f, binding = 1) readonly uniform imageBuffer u_input4; // the padded copy, 4 floats a texel\n");
        sb.Append(u64 ? "layout(std430, binding = 3) writeonly buffer Output8 { u64vec4 out_data8[]; };\n"
            : vec4 ? "layout(std430, binding = 3) writeonly buffer Output4 { uvec4 out_data4[]; };\n"
            : "layout(std430, binding = 3) writeonly buffer Output { uint out_data[]; };\n");
        sb.Append("uniform uint u_zero; // 0 (see LiteralConvPlan: keeps LLVM from scalarising the sums into the store loops)\n");
        sb.Append("uniform int u_row;\n");
        sb.Append("uniform float u_zero_tap = 0.0; // never set: a zero weight, see LiteralConvPlan.Weight\n");
        sb.Append("void main()\n{\n");
        sb.Append(CultureInfo.InvariantCulture, $"    int id = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);\n");
        sb.Append(CultureInfo.InvariantCulture, $"    bool inside = id < {output.H * bpr};\n");
        sb.Append(CultureInfo.InvariantCulture, $"    id = min(id, {output.H * bpr - 1});\n");
        sb.Append(CultureInfo.InvariantCulture, $"    int oy = id / {bpr};\n    int x0 = (id - oy * {bpr}) * {Ox};\n");
        for (int k = 0; k < count; k++)
            for (int x = 0; x < Ox; x++)
                sb.Append(CultureInfo.InvariantCulture, $"    float a{k}_{x} = {F(bias?[first + k] ?? 0f)};\n");
        // The input channels the block reads (its groups' channels, in order), each with the block's channels that read it.
        var reads = Enumerable.Range(first, count).GroupBy(k => k / coutPerGroup)
            .SelectMany(grp => Enumerable.Range(0, cin).Select(cg => (C: grp.Key * cin + cg, Cg: cg, Ks: grp.Select(k => k - first).ToArray())));
        foreach ((int c, int cg, int[] ks) in reads)
            for (int i = 0; i < kh; i++)
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $"    {{\n        int at = (({c * padded.H} + oy * {o.StrideY} + {i * o.DilationY}) * {padded.W} + x0 * {o.StrideX}) >> 2;\n");
                for (int t = 0; t < span4; t++) sb.Append(CultureInfo.InvariantCulture, $"        vec4 v{t} = imageLoad(u_input4, at + {t});\n");
                foreach (int k in ks)
                    for (int j = 0; j < kw; j++)
                    {
                        int wi = flip ? kh - 1 - i : i, wj = flip ? kw - 1 - j : j;
                        string wv = Weight(w[(((first + k) * cin + cg) * kh + wi) * kw + wj]);
                        for (int x = 0; x < Ox; x++)
                        {
                            int s = x * o.StrideX + j * o.DilationX;
                            sb.Append(CultureInfo.InvariantCulture, $"        a{k}_{x} += v{s / 4}.{"xyzw"[s % 4]} * {wv};\n");
                        }
                    }
                sb.Append("    }\n");
            }
        sb.Append("    if (inside)\n    {\n");
        for (int k = 0; k < count; k++)
        {
            string V(int x) => $"fused_act(vec4(a{k}_{x}, a{k}_{x + 1}, a{k}_{x + 2}, a{k}_{x + 3}))";
            string at = $"(({first + k} * {output.H} + oy) * {output.W} + x0)";
            if (u64)
                sb.Append(CultureInfo.InvariantCulture, $"        if (x0 < {output.W}) out_data8[{at} >> 3] = pack8({V(0)}, {V(4)}) | u64vec4(u_zero);\n");
            else if (vec4)
                for (int x = 0; x < Ox; x += 4)
                    sb.Append(CultureInfo.InvariantCulture, $"        if (x0 + {x} < {output.W}) out_data4[({at} >> 2) + {x / 4}] = floatBitsToUint({V(x)}) | u_zero;\n");
            else
                for (int x = 0; x < Ox; x++)
                    sb.Append(CultureInfo.InvariantCulture, $"        if (x0 + {x} < {output.W}) out_data[{at} + {x}] = floatBitsToUint(fused_act(a{k}_{x})) | u_zero;\n");
        }
        sb.Append("    }\n}\n");
        return sb.ToString();
    }

    /// <summary>The padded copy into <paramref name="padded"/>, then one dispatch per block of 4 output channels.</summary>
    public void Run(GpuTensor input, GpuTensor output, GpuTensor padded)
    {
        GL gl = _context.Gl;
        padded.Resize(_padded.C, _padded.H, _padded.W);
        ComputeOp.BeforeTexelReads(gl);
        ConvPlan.PadCopy(gl, _pad, input, padded, _g.X.PadBefore, _g.Y.PadBefore);
        padded.Buffer.BindTexelView(1, vec4: true);
        output.Buffer.Bind(3);
        (int row, int rows) = ComputeOp.FlatGroups(_blocks, 64);
        foreach (GlProgram p in _programs)
        {
            p.Use();
            gl.Uniform1(p.Uniform("u_zero"), 0u);
            gl.Uniform1(p.Uniform("u_row"), row);
            p.DispatchCovering(row, rows, 1);
        }
        ComputeOp.Barrier(gl);
    }

    public void Dispose()
    {
        foreach (GlProgram p in _programs) p.Delete();
        _programs.Clear();
    }
}
