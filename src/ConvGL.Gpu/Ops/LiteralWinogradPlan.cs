using System.Globalization;
using System.Text;
using ConvGL.Core;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>A small dense 3x3 layer (stride 1, dilation 1, one group) as Winograd F(4x4, 3x3) in one generated program,
/// the transformed weights U = G g G^T compiled in as literals. An invocation takes T (1 or 2) 4x4 output tiles
/// side by side along x and every output channel: it reads each input channel's 6 x (4T + 2) patch (rgba32f and rg32f
/// texels) from a padded copy, or, for a zero border on rows of whole texels, from the input itself with every value outside
/// it selected to 0 (10-21% faster: no copy pass), transforms it (V = B^T d B, adds only) and keeps the 36 values per tile and input channel; then, per
/// output channel, sums the products U ⊙ V over the input channels (balanced trees of adds, so the CPU overlaps them),
/// transforms back (A^T M A) and stores 4 rows. The tiles share every literal (one broadcast feeds T lanes' worth of
/// products), which matters on llvmpipe: each literal is an address load and a broadcast, and code of this size runs from
/// L2, not from the instruction cache.
///
/// 16 -> 32 at 256x256 on llvmpipe, same process, alternating (bench/README.md, "Winograd with its weights compiled in"):
/// 0.57 of <see cref="LiteralConvPlan"/>'s time with 2 tiles, 0.68 with 1, over the padded copy; 8 -> 16 at 180x320 0.74.
/// The price is compile time, which grows faster than the literals (16 -> 32's 18,432 take 25-31 s the first time; Mesa's
/// disk cache keeps the program).
///
/// Like <see cref="WinogradPlan"/>, a tile whose input patch holds a NaN or an infinity (its sum is not finite) is listed
/// and computed directly afterwards by winograd_fixup.comp, so non-finite values reach exactly the outputs the reference
/// gives them. The programs are made for one weight set and owned by the plan (<see cref="Dispose"/> deletes them).</summary>
internal sealed class LiteralWinogradPlan : IDisposable
{
    /// <summary>Input channels x tiles an invocation holds transformed (36 floats each, on llvmpipe's stack): beyond this the
    /// spilled values outgrow the L1 cache. 16 channels with 2 tiles, 32 with 1.</summary>
    public const int MaxHeldPatches = 32;

    /// <summary>Layers below this many multiply-adds keep the fetched-weight programs: the compile time grows with the weights
    /// (and faster), the time saved with the multiply-adds. 4,096 a weight, at least 1 M: a 1 -> 8 layer (72 weights) from
    /// 295 k (its 640x360 map in the deep and learned stacks: 16.6 M, conv2d_dense's 6.4-7.4 ms), 16 -> 32 (4,608) from
    /// 18.9 M, as LiteralConvPlan's 16 M.</summary>
    public static long MinMacs(int weights) => Math.Max(1L << 20, 4096L * weights);

    // F(4x4, 3x3) (Lavin and Gray): U = G g G^T (WinogradPlan.TransformKernel), V = B^T d B, Y = A^T (U ⊙ V) A.
    private static readonly double[,] BT =
    {
        { 4, 0, -5, 0, 1, 0 }, { 0, -4, -4, 1, 1, 0 }, { 0, 4, -4, -1, 1, 0 },
        { 0, -2, -1, 2, 1, 0 }, { 0, 2, -1, -2, 1, 0 }, { 0, 4, 0, -5, 0, 1 },
    };
    private static readonly double[,] AT =
    {
        { 1, 1, 1, 1, 1, 0 }, { 0, 1, -1, 2, -2, 0 }, { 0, 1, 1, 4, 4, 0 }, { 0, 1, -1, 8, -8, 1 },
    };
    private const int M = 4, N = 6;

    private readonly GlContext _context;
    private readonly (int C, int H, int W) _input;
    private readonly ConvGeometry _g;
    private readonly (int C, int H, int W) _padded;
    private readonly (int Y, int X) _blocks;
    private readonly int _tilesW;
    private readonly int _cin, _cout;
    private readonly bool _hasBias, _flip;
    private readonly ConvPlan.PadPass? _pad;
    private readonly GlProgram _fixup;
    private GlProgram? _program;

    public string Variant { get; }

    private LiteralWinogradPlan(GlContext context, GpuTensor input, ConvGeometry g, (int, int, int) padded, (int, int) blocks,
        int cout, bool hasBias, bool flip, ConvPlan.PadPass? pad, GlProgram fixup, string variant)
    {
        _context = context;
        _input = (input.C, input.H, input.W);
        _g = g;
        _padded = padded;
        _blocks = blocks;
        _tilesW = (g.X.Output + M - 1) / M;
        _cin = input.C;
        _cout = cout;
        _hasBias = hasBias;
        _flip = flip;
        _pad = pad;
        _fixup = fixup;
        Variant = variant;
    }

    public bool Fits(GpuTensor input) => _input == (input.C, input.H, input.W);

    /// <summary>Whether the plan can compute the layer at all: 3x3, strides and dilations 1, one group.</summary>
    public static bool Applies(int[] weightShape, ConvOptions o) =>
        o.Groups == 1 && weightShape[2] == 3 && weightShape[3] == 3 && o.StrideX == 1 && o.StrideY == 1 && o.DilationX == 1 && o.DilationY == 1;

    /// <summary>Plans the layer, or returns null where it does not apply or the rule says no (too many weights or input
    /// channels, too few multiply-adds or output channels: <see cref="LiteralConvPlan"/>'s limits) unless
    /// <paramref name="choice"/> is <see cref="ConvPath.LiteralWinograd"/>, which takes every layer it applies to. With
    /// <paramref name="pending"/>, also null while its program is built ahead (<see cref="GlContext.Warmer"/>; the job is
    /// added there; <paramref name="paddedCapacity"/>, the caller's padded tensor's capacity in floats, says which variant
    /// to build).</summary>
    public static LiteralWinogradPlan? Create(GlContext context, GpuTensor input, int[] weightShape, float[] weight, float[]? bias,
        ConvOptions o, ConvPath choice, FusedActivation? act, ICollection<ShaderWarmer.Job>? pending = null, int paddedCapacity = 0)
    {
        if (choice is not (ConvPath.Auto or ConvPath.LiteralWinograd) || (choice == ConvPath.Auto && !LiteralConvPlan.InAuto(context)) || !Applies(weightShape, o)) return null;
        int cout = weightShape[0], cin = weightShape[1];
        ConvGeometry g = ConvGeometry.Compute(input.H, input.W, 3, 3, o);
        int hOut = g.Y.Output, wOut = g.X.Output;
        long macs = (long)cout * hOut * wOut * cin * 9;
        int tiles = wOut > M && 2 * cin <= MaxHeldPatches ? 2 : 1;
        if (choice == ConvPath.Auto && (weight.Length > LiteralConvPlan.MaxWeights || macs < MinMacs(weight.Length)
            || cout < LiteralConvPlan.MinOutputChannels || tiles * cin > MaxHeldPatches))
            return null;
        int bw = M * tiles;
        (int Y, int X) blocks = ((hOut + M - 1) / M, (wOut + bw - 1) / bw);
        // The last block reads 4T + 2 columns from bw * (X - 1), the last texel rounded up.
        int paddedW = ConvPlan.PadRowWidth(context, bw * blocks.X + 4), paddedH = M * blocks.Y + 2;
        if ((long)cin * paddedH * paddedW > ComputeOp.MaxTexelViewFloats(context.Gl)) return null;
        // A zero border on rows of whole texels needs no padded copy: the program reads the input and masks what is outside.
        Direct? direct = o.Border == Border.Zero && input.W % 4 == 0
            ? new Direct(input.H, input.W, g.Y.PadBefore, g.X.PadBefore) : null;

        string stores = context.WideStores && tiles == 2 && wOut % 8 == 0 ? "32-byte stores" : wOut % 4 == 0 ? "vec4 stores" : "scalar stores";
        GlProgram fixup = context.Shaders.Compute("winograd_fixup.comp", [.. FusedActivation.Defines(act), ("DIRECT_INPUT", direct is null ? 0 : 1)]);
        var plan = new LiteralWinogradPlan(context, input, g, (cin, paddedH, paddedW), blocks, cout, bias is not null,
            o.Mode == ConvMode.Convolve, direct is null ? ConvPlan.PadProgram(context, o.Border, input.W, g.X.PadBefore, paddedW) : null, fixup,
            $"conv2d_literal_winograd: F(4x4, 3x3), transformed weights compiled in, {tiles} tile{(tiles > 1 ? "s" : "")} x {cout} channels/invocation, {(direct is null ? "padded copy" : "input read directly (zero border)")}, {stores}{act?.Suffix}");
        double[] u = Transform(weight, cout, cin, plan._flip);
        string text = Generate(u, bias, cin, cout, (paddedH, paddedW), (hOut, wOut), blocks, tiles, stores, direct, act);
        const string name = "generated/conv2d_literal_winograd.comp";
        // The buffer its images view: the input's, or the padded copy's once the pad pass has sized it.
        long imageBytes = 4L * (direct is not null ? input.Buffer.Capacity : Math.Max(paddedCapacity, (long)cin * paddedH * paddedW));
        plan._program = context.Shaders.ComputeGeneratedWhenWarm(name, text, pending, imageBytes);
        // Still building ahead (the context's Warmer): the caller runs another plan meanwhile.
        return plan._program is null ? null : plan;
    }

    /// <summary>U = G g G^T for every (output, input) channel pair, 36 values each, row-major, in double (the kernel rotated
    /// under convolve).</summary>
    private static double[] Transform(float[] w, int cout, int cin, bool flip)
    {
        var u = new double[cout * cin * N * N];
        for (int kc = 0; kc < cout * cin; kc++)
            WinogradPlan.TransformKernel(w, kc * 9, flip, u.AsSpan(kc * N * N, N * N));
        return u;
    }

    /// <summary>sum_i coef(i) * name(i) as GLSL: zero terms left out, 1 and -1 without a product.</summary>
    private static string Combo(int count, Func<int, double> coef, Func<int, string> name)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            double a = coef(i);
            if (a == 0) continue;
            sb.Append(a < 0 ? (sb.Length == 0 ? "-" : " - ") : sb.Length == 0 ? "" : " + ");
            sb.Append(Math.Abs(a) == 1 ? name(i) : $"{LiteralConvPlan.F((float)Math.Abs(a))} * {name(i)}");
        }
        return sb.Length == 0 ? "0.0" : sb.ToString();
    }

    /// <summary>terms[from..to) summed as a balanced tree: independent adds the CPU can overlap, where one chain would wait
    /// on each add's latency.</summary>
    private static string Tree(List<string> terms, int from, int to) => (to - from) == 1
        ? terms[from]
        : $"({Tree(terms, from, (from + to) / 2)} + {Tree(terms, (from + to) / 2, to)})";

    /// <summary>The input read as it is (a zero border): its size and the layer's left and top padding.</summary>
    private readonly record struct Direct(int H, int W, int PadY, int PadX);

    /// <summary>The GLSL of the layer. Every per-tile value is a float (1 tile) or a vec2 (2 tiles: .x the left one), so
    /// each literal is written once for both.</summary>
    private static string Generate(double[] u, float[]? bias, int cin, int cout, (int H, int W) padded, (int H, int W) output,
        (int Y, int X) blocks, int tiles, string stores, Direct? direct, FusedActivation? act)
    {
        var ic = CultureInfo.InvariantCulture;
        int bw = M * tiles, span = bw + 2;
        string vt = tiles == 1 ? "float" : "vec2";
        string Lane(string v, int t) => tiles == 1 ? v : $"{v}.{"xy"[t]}";
        bool wide = stores == "32-byte stores", quads = stores == "vec4 stores";
        var sb = new StringBuilder();
        sb.Append("#version 430\n");
        if (wide) sb.Append("#extension GL_ARB_gpu_shader_int64 : require\n");
        sb.Append(ic, $"// Generated by LiteralWinogradPlan (see its summary): F(4x4, 3x3), {tiles} tile(s) along x, {cin} -> {cout} channels.\n");
        foreach ((string name, object value) in FusedActivation.Defines(act))
            sb.Append(ic, $"#define {name} {value}\n");
        sb.Append("#include \"include/fused_act.glsl\"\n");
        if (wide) sb.Append("#include \"include/store8.glsl\"\n");
        sb.Append("layout(local_size_x = 64) in;\n");
        sb.Append("layout(rg32f, binding = 1) readonly uniform imageBuffer u_input2;  // the padded copy, 2 floats a texel\n");
        sb.Append("layout(rgba32f, binding = 2) readonly uniform imageBuffer u_input4; // the same, 4 floats a texel\n");
        sb.Append(wide ? "layout(std430, binding = 3) writeonly buffer Output8 { u64vec4 out_data8[]; };\n"
            : quads ? "layout(std430, binding = 3) writeonly buffer Output4 { uvec4 out_data4[]; };\n"
            : "layout(std430, binding = 3) writeonly buffer Output { uint out_data[]; };\n");
        sb.Append("// Tiles whose patch holds a NaN or an infinity, for winograd_fixup.comp (an indirect dispatch).\n");
        sb.Append("layout(std430, binding = 4) buffer FixArgs { uint fix_count; uint fix_y; uint fix_z; };\n");
        sb.Append("layout(std430, binding = 6) writeonly buffer FixList { uint fix_list[]; };\n");
        sb.Append("uniform uint u_zero; // 0 (see LiteralConvPlan: keeps LLVM from scalarising the sums into the store loops)\n");
        sb.Append("uniform int u_row;\n");
        sb.Append("void main()\n{\n");
        sb.Append("    int id = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);\n");
        sb.Append(ic, $"    bool inside = id < {blocks.Y * blocks.X};\n");
        sb.Append(ic, $"    id = min(id, {blocks.Y * blocks.X - 1});\n");
        sb.Append(ic, $"    int ty = id / {blocks.X};\n    int tx = id - ty * {blocks.X};\n");
        int e0 = 0;
        if (direct is { } dr)
        {
            // The input itself, a zero border: the block's first column x0 = 4q + e0 (e0 the same for every block), each
            // row's texels from q; a value outside the input (a row above or below, a column left or right, which the
            // flat index would take from the next row) is selected to 0. Out-of-range texel indices load 0 (GL's image
            // loads) and are masked anyway.
            e0 = ((-dr.PadX) % 4 + 4) % 4;
            sb.Append(ic, $"    int x0 = {bw} * tx - {dr.PadX}, q = (x0 - {e0}) >> 2;\n");
            for (int j = 0; j < span; j++)
                sb.Append(ic, $"    bool col{j} = x0 + {j} >= 0 && x0 + {j} < {dr.W};\n");
            for (int r = 0; r < N; r++)
            {
                sb.Append(ic, $"    int y{r} = {M} * ty + {r - dr.PadY};\n");
                sb.Append(ic, $"    int row{r} = clamp(y{r}, 0, {dr.H - 1}) * {dr.W / 4} + q;\n");
                sb.Append(ic, $"    bool in{r} = y{r} >= 0 && y{r} < {dr.H};\n");
                for (int j = 0; j < span; j++)
                    sb.Append(ic, $"    bool ok{r}_{j} = in{r} && col{j};\n");
            }
        }
        else
            sb.Append(ic, $"    int at = ty * {M * padded.W} + tx * {bw}; // the block's first float in the padded copy\n");
        sb.Append(ic, $"    {vt} finite = {vt}(0.0); // the patches' sums: not finite when a value is NaN or infinite\n");
        for (int c = 0; c < cin; c++)
            sb.Append(ic, $"    {vt} {string.Join(", ", Enumerable.Range(0, N * N).Select(x => $"v{c}_{x / N}_{x % N}"))};\n");
        for (int c = 0; c < cin; c++)
        {
            sb.Append("    {\n");
            for (int r = 0; r < N; r++)
            {
                if (direct is { } din)
                {
                    var flat = new List<string>();
                    for (int ti = 0; ti * 4 < e0 + span; ti++)
                    {
                        sb.Append(ic, $"        vec4 a{r}_{ti} = imageLoad(u_input4, row{r} + {c * din.H * din.W / 4 + ti});\n");
                        flat.AddRange("xyzw".Select(e => $"a{r}_{ti}.{e}"));
                    }
                    string V(int j) => $"(ok{r}_{j} ? {flat[e0 + j]} : 0.0)";
                    for (int j = 0; j < N; j++)
                        sb.Append(ic, $"        {vt} d{r}_{j} = {(tiles == 1 ? V(j) : $"vec2({V(j)}, {V(M + j)})")};\n");
                    sb.Append(ic, $"        finite += {string.Join(" + ", Enumerable.Range(0, N).Select(j => $"d{r}_{j}"))};\n");
                    continue;
                }
                int off = (c * padded.H + r) * padded.W;
                var parts = new List<string>();
                int col = 0;
                for (; col + 4 <= span; col += 4)
                {
                    sb.Append(ic, $"        vec4 a{r}_{col} = imageLoad(u_input4, (at + {off + col}) >> 2);\n");
                    parts.AddRange("xyzw".Select(e => $"a{r}_{col}.{e}"));
                }
                sb.Append(ic, $"        vec2 a{r}_{col} = imageLoad(u_input2, (at + {off + col}) >> 1).xy;\n");
                parts.Add($"a{r}_{col}.x");
                parts.Add($"a{r}_{col}.y");
                for (int j = 0; j < N; j++)
                {
                    string d = tiles == 1 ? parts[j] : $"vec2({parts[j]}, {parts[M + j]})";
                    sb.Append(ic, $"        {vt} d{r}_{j} = {d};\n");
                }
                sb.Append(ic, $"        finite += {string.Join(" + ", Enumerable.Range(0, N).Select(j => $"d{r}_{j}"))};\n");
            }
            for (int i = 0; i < N; i++)
                for (int col = 0; col < N; col++)
                {
                    int ii = i, cc = col;
                    sb.Append(ic, $"        {vt} t{i}_{col} = {Combo(N, a => BT[ii, a], a => $"d{a}_{cc}")};\n");
                }
            for (int i = 0; i < N; i++)
                for (int j = 0; j < N; j++)
                {
                    int ii = i, jj = j;
                    sb.Append(ic, $"        v{c}_{i}_{j} = {Combo(N, b => BT[jj, b], b => $"t{ii}_{b}")};\n");
                }
            sb.Append("    }\n");
        }
        for (int t = 0; t < tiles; t++)
        {
            string cond = $"inside && {bw} * tx + {M * t} < {output.W}";
            sb.Append(ic, $"    if ({cond} && (isnan({Lane("finite", t)}) || isinf({Lane("finite", t)}))) fix_list[atomicAdd(fix_count, 1u)] = uint(ty * {(output.W + M - 1) / M} + {tiles} * tx + {t});\n");
        }
        for (int k = 0; k < cout; k++)
        {
            sb.Append("    {\n");
            for (int i = 0; i < N; i++)
                for (int j = 0; j < N; j++)
                {
                    var terms = new List<string>();
                    for (int c = 0; c < cin; c++)
                    {
                        double w = u[((k * cin + c) * N + i) * N + j];
                        if (w != 0) terms.Add($"{LiteralConvPlan.F((float)w)} * v{c}_{i}_{j}");
                    }
                    sb.Append(ic, $"        {vt} m{i}_{j} = {(terms.Count == 0 ? $"{vt}(0.0)" : Tree(terms, 0, terms.Count))};\n");
                }
            for (int r = 0; r < M; r++)
                for (int j = 0; j < N; j++)
                {
                    int rr = r, jj = j;
                    sb.Append(ic, $"        {vt} q{r}_{j} = {Combo(N, i => AT[rr, i], i => $"m{i}_{jj}")};\n");
                }
            string b = LiteralConvPlan.F(bias?[k] ?? 0f);
            for (int r = 0; r < M; r++)
            {
                for (int s = 0; s < M; s++)
                {
                    int rr = r, ss = s;
                    sb.Append(ic, $"        {vt} y{r}_{s} = {Combo(N, j => AT[ss, j], j => $"q{rr}_{j}")} + {b};\n");
                }
                string Row(int t) => $"fused_act(vec4({string.Join(", ", Enumerable.Range(0, M).Select(s => Lane($"y{r}_{s}", t)))}))";
                string at = $"({k} * {output.H} + {M} * ty + {r}) * {output.W} + {bw} * tx";
                string rowOk = output.H % M == 0 ? "inside" : $"inside && {M} * ty + {r} < {output.H}";
                if (wide)
                    sb.Append(ic, $"        if ({rowOk}) out_data8[({at}) >> 3] = pack8({Row(0)}, {Row(1)}) | u64vec4(u_zero);\n");
                else
                    for (int t = 0; t < tiles; t++)
                    {
                        string ColOk(int s0) => $"{rowOk} && {bw} * tx + {M * t + s0} < {output.W}";
                        if (quads)
                            sb.Append(ic, $"        if ({ColOk(0)}) out_data4[(({at}) >> 2) + {t}] = floatBitsToUint({Row(t)}) | uvec4(u_zero);\n");
                        else
                        {
                            sb.Append(ic, $"        {{\n            vec4 o = {Row(t)};\n");
                            for (int s = 0; s < M; s++)
                                sb.Append(ic, $"            if ({ColOk(s)}) out_data[{at} + {M * t + s}] = floatBitsToUint(o.{"xyzw"[s]}) | u_zero;\n");
                            sb.Append("        }\n");
                        }
                    }
            }
            sb.Append("    }\n");
        }
        sb.Append("}\n");
        return sb.ToString();
    }

    /// <summary>The padded copy into <paramref name="padded"/>, the generated program, then the direct fix-up of listed
    /// tiles (<paramref name="scratch"/>'s buffers; <paramref name="weights"/> and <paramref name="bias"/> the layer's own).</summary>
    public void Run(GpuTensor input, GpuTensor output, GlBuffer weights, GlBuffer bias, GpuTensor padded, WinogradScratch scratch)
    {
        GL gl = _context.Gl;
        scratch.StartRun(_tilesW * _blocks.Y);
        ComputeOp.BeforeTexelReads(gl);
        GpuTensor source = input;
        if (_pad is { } pad)
        {
            (int pc, int ph, int pw) = _padded;
            padded.Resize(pc, ph, pw);
            ConvPlan.PadCopy(gl, pad, input, padded, _g.X.PadBefore, _g.Y.PadBefore);
            padded.Buffer.BindPairTexelView(1);
            source = padded;
        }
        source.Buffer.BindTexelView(2, vec4: true);
        output.Buffer.Bind(3);
        scratch.BindFixups();
        (int row, int rows) = ComputeOp.FlatGroups(_blocks.Y * _blocks.X, 64);
        _program!.Use();
        gl.Uniform1(_program.Uniform("u_zero"), 0u);
        gl.Uniform1(_program.Uniform("u_row"), row);
        _program.DispatchCovering(row, rows, 1);
        ComputeOp.Barrier(gl);

        scratch.FixUp(_fixup, source, output, weights, bias, _tilesW, _cin, _cout, _hasBias, _flip,
            _pad is null ? (_g.X.PadBefore, _g.Y.PadBefore) : null);
    }

    public void Dispose()
    {
        _program?.Delete();
        _program = null;
    }
}
