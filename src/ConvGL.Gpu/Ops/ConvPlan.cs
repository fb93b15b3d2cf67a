using ConvGL.Core;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>How <see cref="GpuConv2D"/> runs one (input shape, options, weights) combination, decided once by a cost
/// rule and kept until one of them changes, not per frame (shaders/README.md has the measurements behind the rule):
/// - conv2d_depthwise.comp when every output channel reads only its own input channel (weights (C, 1, kH, kW), groups
///   C): 8 outputs along x per invocation (16 for kernels up to 3 wide; 2 rows of them for kernels of 2..7 rows at y
///   stride and dilation 1), vec4
///   stores where output rows are whole vec4s, one dispatch per channel for up to <see cref="MaxUniformChannels"/>
///   channels (constant weight addresses), and for a zero border on rows of whole vec4s the whole plane in one dispatch.
/// - conv2d_dense.comp for every other weight shape: 4 output channels x 8 outputs along x per invocation (GpuConv2D
///   first offers a layer to <see cref="WinogradPlan"/> (wide 3x3 layers) and <see cref="PointwisePlan"/> (1x1 layers of
///   one group), which take it where their rules say).
/// - conv2d.comp (one output per invocation, weights in a storage block) when the input or the packed weights are
///   beyond the driver's texel-buffer size, a kernel row is too long to unroll (the fast variants unroll over the kernel at compile time), or the
///   output is too small to pay for compiling a specialised program.
/// A fast plan packs the weights once into its parameter block (a uniform block, or an rgba32f texel view of the same
/// buffer for dense layers and where the block is too big: not a storage block, whose varying-address loads are scalar
/// loops on llvmpipe) and
/// splits the output plane into the interior and up to four rim strips (<see cref="OutputRect"/>), or, for a dense layer
/// whose rim is a quarter of its blocks or more, copies the input with the border applied once into a padded scratch
/// tensor (conv2d_pad.comp) and runs the interior program alone over it. With more than one channel block (z) the blocks
/// of every z are numbered flat in one dispatch.</summary>
internal sealed class ConvPlan
{
    /// <summary>Outputs per invocation along x (../shared/PERF-NOTES.md: 8 was the measured sweet spot).</summary>
    public const int BlockX = 8;
    /// <summary>Kernel sizes the fast variants unroll; larger ones take conv2d.comp.</summary>
    public const int MaxUnrolledKernel = 25;
    /// <summary>Inputs one row of outputs may span (Mesa unrolls loops of up to 32 iterations; past that the per-lane
    /// arrays would be indexed at run time).</summary>
    public const int MaxSpan = 32;
    /// <summary>Output values below which a plan keeps conv2d.comp (when it also has fewer than <see cref="MinFastMacs"/>
    /// multiply-adds): compiling two specialised programs (~0.1-0.5 s on llvmpipe) does not pay for a handful of outputs.</summary>
    public const long MinFastOutputs = 4096;

    /// <summary>Multiply-adds from which a plan takes the fast programs however few its outputs: conv2d.comp's per-lane
    /// storage loads made a 64 -> 64 3x3 layer on a 7x7 map (3,136 outputs, 1.8 M multiply-adds) cost 14-26 ms a run on
    /// llvmpipe, where conv2d_dense takes well under one.</summary>
    public const long MinFastMacs = 1 << 18;

    private readonly GlContext _context;
    private readonly (int C, int H, int W) _input;
    private readonly List<OutputRect> _rects = [];
    private readonly int _zGroups;
    private readonly bool _flatZ;
    private PadPass? _pad;
    private (int C, int H, int W) _paddedShape;
    private readonly bool _paramsInTexelView;
    private readonly ConvGeometry _geometry;
    private readonly ConvOptions _options;
    private (int CinG, int CoutG) _group;
    private int _blockY = 1;
    // The rim rectangles' block height where it differs from the interior's (separable_fast's sliding strips); 0: the same.
    private int _rimBlockY;
    private int _blockX = BlockX;
    private bool _channelUniform;
    private int _channelStrideBytes, _blockBytes;
    private uint _parameters;

    /// <summary>Depthwise kernels with at most this many rows compute two output rows per invocation.</summary>
    public const int MaxTwoRowKernel = 7;

    /// <summary>Depthwise kernels with more taps than this read their weights through a texel view on a software rasteriser
    /// (unless one dispatch per channel makes the uniform-block addresses constant).</summary>
    public const int MaxUniformBlockTaps = 9;

    /// <summary>Depthwise convs with at most this many channels run one dispatch per channel (uniform weight addresses).</summary>
    public const int MaxUniformChannels = 4;

    /// <summary>GL_UNIFORM_BUFFER_OFFSET_ALIGNMENT in vec4s (at least 1).</summary>
    private static int UniformAlignVec4s(GL gl) => Math.Max(1, (gl.GetInteger(GetPName.UniformBufferOffsetAlignment) + 15) / 16);

    public string Variant { get; }
    public bool Direct { get; }
    /// <summary>True when <see cref="Run"/> first copies the input, border applied, into a padded scratch tensor and runs
    /// the interior program alone over it.</summary>
    public bool PadsInput => _pad is not null;
    /// <summary>The interior program (for <see cref="Direct"/>, conv2d.comp).</summary>
    public GlProgram Interior { get; }
    private GlProgram? Rim { get; }

    private ConvPlan(GlContext context, GpuTensor input, string variant, bool direct, GlProgram interior, GlProgram? rim,
        int zGroups, bool paramsInTexelView, ConvGeometry geometry, ConvOptions options, bool flatZ = false)
    {
        _flatZ = flatZ;
        _context = context;
        _input = (input.C, input.H, input.W);
        Variant = variant;
        Direct = direct;
        Interior = interior;
        Rim = rim;
        _zGroups = zGroups;
        _paramsInTexelView = paramsInTexelView;
        _geometry = geometry;
        _options = options;
    }

    /// <summary>True when this plan was made for an input of this shape (options and weights invalidate it in the op).</summary>
    public bool Fits(GpuTensor input) => _input == (input.C, input.H, input.W);

    /// <summary>The output's (H, W) for the planned input.</summary>
    public (int H, int W) OutputSize => (_geometry.Y.Output, _geometry.X.Output);

    /// <summary>Plans one conv. <paramref name="geometry"/> overrides the padding and output size the options give (the
    /// separable passes: each keeps the other axis's size as it is).</summary>
    /// <param name="literals">Where given, image filters on a software rasteriser may take their kernel as literals
    /// (<see cref="LiteralFilter"/>): the program is made by this callback (file, defines), which owns it.</param>
    public static ConvPlan Create(GlContext context, GpuTensor input, int[] weightShape, float[] weight, float[]? bias,
        ConvOptions o, GlBuffer parameters, ConvPath choice, ConvGeometry? geometry = null, FusedActivation? act = null,
        Func<string, (string, object)[], GlProgram>? literals = null)
    {
        GL gl = context.Gl;
        int cout = weightShape[0], cinG = weightShape[1], kh = weightShape[2], kw = weightShape[3];
        int groups = o.Groups, coutG = cout / groups;
        ConvGeometry g = geometry ?? ConvGeometry.Compute(input.H, input.W, kh, kw, o);
        int border = (int)o.Border;
        int span = (BlockX - 1) * o.StrideX + (kw - 1) * o.DilationX + 1;
        long outputs = (long)cout * g.Y.Output * g.X.Output;
        bool depthwise = cinG == 1 && coutG == 1;
        // Depthwise kernels at most 3 wide: 16 outputs along x per invocation (a 3-tap row of 16 reads 6 rgba32f texels, of 8
        // it reads 4: a 3x3 layer ~8% faster on llvmpipe; 5x5 and wider are slower with 16: more registers than they save).
        int bx = depthwise && kw <= 3 && (2 * BlockX - 1) * o.StrideX + (kw - 1) * o.DilationX + 1 <= MaxSpan ? 2 * BlockX : BlockX;
        long packedVec4s = depthwise ? (long)cout * (kh * ((kw + 3) / 4) + 1) : (long)groups * ((coutG + 3) / 4) * ((long)cinG * kh * kw + 1);

        string? why = choice == ConvPath.Direct ? "the direct program asked for"
            : input.Length > ComputeOp.MaxTexelViewFloats(gl) ? "input beyond GL_MAX_TEXTURE_BUFFER_SIZE"
            : packedVec4s > ComputeOp.MaxTexelViewFloats(gl) ? "weights beyond GL_MAX_TEXTURE_BUFFER_SIZE"
            : kh > MaxUnrolledKernel || kw > MaxUnrolledKernel ? $"kernel above {MaxUnrolledKernel} taps per axis"
            : span > MaxSpan ? $"a row of {BlockX} outputs spans {span} inputs, above {MaxSpan}"
            : outputs < MinFastOutputs && outputs * cinG * kh * kw < MinFastMacs && choice is not (ConvPath.Fast or ConvPath.FastRim)
                ? $"{outputs} outputs: below {MinFastOutputs}, not worth a specialised program"
            : null;
        if (why is not null)
        {
            // conv2d.comp has an interior and a rim loop nest; on llvmpipe both may run in one invocation.
            long loops = 2 * ((long)cinG * kh * (kw + 1) + cinG);
            if (ComputeOp.PastLoopLimit(context, loops)) throw ComputeOp.LoopLimitError(context, "conv2d", loops, $"{cinG} input channel(s) of a {kh}x{kw} kernel");
            GlProgram direct = context.Shaders.Compute("conv2d.comp",
                [("BORDER", border), ("CONVOLVE", o.Mode == ConvMode.Convolve ? 1 : 0), ("HAS_BIAS", bias is not null ? 1 : 0), .. FusedActivation.Defines(act)]);
            return new ConvPlan(context, input, $"conv2d: 1 output/invocation ({why}){act?.Suffix}", true, direct, null, 0, false, g, o);
        }

        bool flip = o.Mode == ConvMode.Convolve;
        // The uniform block is declared at the driver's full size (one program for every layer), so the buffer bound to
        // it is at least that big; a weight set above it is read through a texel view. Dense layers always read theirs
        // through the texel view: their weight index depends on the input-channel loop, and on llvmpipe a uniform-block
        // load inside a loop is a gather of every component (a vec4 cost about twice an rgba32f texel fetch in a
        // microbenchmark; conv3-16to32 and the Gabor bank ran ~10% faster, issue 8's fourth round in bench/README.md).
        int blockVec4s = (int)Math.Min(ComputeOp.MaxUniformBlockBytes(gl) / 16, 4096);
        // Depthwise with few channels: one dispatch per channel with the uniform block bound at that channel's weights, so
        // every weight address is a constant (a broadcast load on llvmpipe; derived from gl_WorkGroupID or even from a
        // uniform it is gathered lane by lane: default-block uniforms are uniform-block loads there too). Each channel's
        // block then starts at a multiple of GL_UNIFORM_BUFFER_OFFSET_ALIGNMENT.
        bool channelUniform = depthwise && cout <= MaxUniformChannels;
        int channelVec4s = kh * ((kw + 3) / 4) + 1;
        int channelStride = channelUniform ? (channelVec4s + UniformAlignVec4s(gl) - 1) / UniformAlignVec4s(gl) * UniformAlignVec4s(gl) : channelVec4s;
        float[] packed = depthwise ? PackDepthwise(weight, bias, cout, kh, kw, flip, channelStride) : PackDense(weight, bias, groups, coutG, cinG, kh, kw, flip);
        // Depthwise kernels of more than 9 taps on a software rasteriser read theirs through the texel view too: their
        // channel comes from the workgroup (or the flat block number), so every uniform-block load is a gather there, and
        // for 15 vec4s (7x7) or 11 (5x5) the texel fetches cost less (dwconv7-96-56 1.43 -> 1.02 ms, the same layer at 5x5
        // 0.96 -> 0.74; a 3x3 layer's 4 vec4s were faster from the uniform block: dwconv3-32 3.1 against 3.4-3.6).
        bool bigTaps = depthwise && context.BigDepthwiseKernelsThroughTexelView && kh * kw > MaxUniformBlockTaps;
        bool overLimit = packed.Length / 4 > blockVec4s;
        bool texel = !depthwise || ((overLimit || bigTaps) && !channelUniform);
        parameters.Reserve(Math.Max(packed.Length, (channelUniform ? (cout - 1) * channelStride + blockVec4s : blockVec4s) * 4));
        parameters.Write(packed);

        (int Lo, int Hi) xs = OutputRect.InteriorSpan(input.W, g.X.Output, kw, o.StrideX, o.DilationX, g.X.PadBefore);
        (xs, bool vec4Stores, bool u64Stores) = AlignedStores(context, g.X.Output, xs, bx);
        // Interior row segments start at input x (xs.Lo + 8b) * stride - pad: the same offset past a multiple of 4 floats
        // for every block b (8 * stride is a multiple of 4), so when rows (W) are whole vec4s every load can be rgba32f,
        // starting that offset earlier (conv_fast.glsl's VEC4_SHIFT).
        bool vec4 = input.W % 4 == 0;
        int shift = ((xs.Lo * o.StrideX - g.X.PadBefore) % 4 + 4) % 4;
        int zGroups = depthwise ? cout : groups * ((coutG + 3) / 4);
        // Dense layers read a padded copy (the border applied once, conv2d_pad.comp) through one interior dispatch with
        // rgba32f loads, instead of an interior and up to four rim strips with scalar loads and border code per tap.
        int wOut = g.X.Output, hOut = g.Y.Output;
        int paddedW = ((wOut + BlockX - 1) / BlockX * BlockX - 1) * o.StrideX + (kw - 1) * o.DilationX + 1;
        paddedW = PadRowWidth(context, paddedW);
        int paddedH = (hOut - 1) * o.StrideY + (kh - 1) * o.DilationY + 1;
        (int Lo, int Hi) ys = OutputRect.InteriorSpan(input.H, hOut, kh, o.StrideY, o.DilationY, g.Y.PadBefore);
        // Depthwise with a y stride and dilation of 1 and kernels of 2..7 rows: two output rows per invocation, so each
        // input row a block loads serves both (KH + 1 rows per 2 output rows instead of 2 KH; on llvmpipe a 3x3 layer
        // 15-20% faster, a 5x5 filter 10%, ConvNeXt's 7x7 depthwise layer (dwconv7-96-56) 1.3-1.6x; 9x9 no faster, 3 or 4
        // rows no faster than 2).
        int blockY = depthwise && o.StrideY == 1 && o.DilationY == 1 && kh is > 1 and <= MaxTwoRowKernel && hOut >= 2 ? 2 : 1;
        List<OutputRect> split = OutputRect.Split(wOut, hOut, xs, ys, bx, blockY);
        // Some tap falls outside the image (else the rim is only the columns past the last whole block of 8, as for a
        // 1x1 stride-2 layer forced onto this program, and needs no border: copying the input would cost more than it
        // saves; Auto gives 1x1 layers of one group to PointwisePlan).
        bool outside = xs != (0, wOut) || ys != (0, hOut);
        long rimBlocks = 0, allBlocks = 0;
        foreach (OutputRect r in split)
        {
            long blocks = (long)(r.Width + BlockX - 1) / BlockX * r.Height;
            allBlocks += blocks;
            if (r.Rim) rimBlocks += blocks;
        }
        // Where the rim is a quarter of the blocks or more (ResNet's 56x56 and smaller maps; a 7x7 map is all rim); on a
        // large image with another border the copy costs more than the thin rim strips save (24->24 reflect at 512x512:
        // 113 ms with the copy, 107 without). On a software rasteriser with a zero border, whatever the rim's share: the
        // copy then reads rgba32f texels and selects zeros (conv2d_pad.comp's VEC4_IN), the rim strips gather scalars,
        // and the copy won on every shape measured (ResNet18's 7x7 stride-2 stem 15.1 -> 8.3 ms, 24->24 at 512x512 108 ->
        // 93, 16->32 5x5 at 256x256 86 -> 80, 32->64 stride 2 at 256x256 even; bench/README.md "The padded copy on large
        // maps"), up to the Winograd plan's scratch size (a copy of the input is that much more memory).
        long paddedFloats = (long)input.C * paddedH * paddedW;
        bool zeroCopyPays = context.IsSoftware && o.Border == Border.Zero && paddedFloats <= WinogradPlan.MaxScratchFloats;
        bool pad = !depthwise && choice != ConvPath.FastRim &&
            (choice == ConvPath.Fast || (outside && (rimBlocks * 4 >= allBlocks || zeroCopyPays))) &&
            paddedFloats <= ComputeOp.MaxTexelViewFloats(gl);
        if (pad)
        {
            vec4 = true;
            shift = 0;
            split = [new OutputRect(0, 0, wOut, hOut, false)];
            // One rectangle from x = 0: a block's vec4s are wholly in or out of rows of whole vec4s.
            vec4Stores = wOut % 4 == 0;
            u64Stores = context.WideStores && wOut % 8 == 0;
        }
        // Depthwise, zero border, input and output rows of whole vec4s: the whole plane is one interior-style dispatch whose
        // rgba32f texels outside the image read as zeros (conv2d_depthwise.comp's ZERO_PLANE), no rim strips.
        bool zeroPlane = depthwise && o.Border == Border.Zero && input.W % 4 == 0 && wOut % 4 == 0 && choice != ConvPath.FastRim;
        if (zeroPlane)
        {
            vec4 = vec4Stores = true;
            u64Stores = context.WideStores && wOut % 8 == 0;
            shift = ((-g.X.PadBefore) % 4 + 4) % 4;
            split = [new OutputRect(0, 0, wOut, hOut, false)];
        }
        // Several channel blocks (z) and small rectangles: number the blocks of every z flat in one dispatch, so a small map
        // (ResNet's 7x7 has 7 blocks of 8 outputs) still fills its workgroups of 64 instead of running 57 lanes of repeated
        // work per z (512->512 3x3 at 7x7: 320 -> 42 ms on llvmpipe). Weights in the uniform block then lose their uniform
        // address (a broadcast becomes a gather), so with them flat is chosen only where it saves a quarter of the lanes
        // or more; a texel view gathers either way.
        long zLanes = 0, flatLanes = 0;
        foreach (OutputRect r in split)
        {
            long blocks = (long)(r.Width + BlockX - 1) / BlockX * r.Height;
            zLanes += (blocks + 63) / 64 * 64 * zGroups;
            flatLanes += (blocks * zGroups + 63) / 64 * 64;
        }
        bool flatZ = !channelUniform && zGroups > 1 && (texel || flatLanes * 4 <= zLanes * 3);
        // Sliding strips (conv2d_depthwise.comp's SLIDE) in the interior program where it holds one: image filters (one
        // dispatch per channel) with kernels of 4 or 5 rows (see DepthwiseSlideRows), on a software rasteriser only (as
        // for the separable pass: a GPU wants its invocations).
        int slideY = context.IsSoftware && depthwise && channelUniform && !pad && o.StrideY == 1 && o.DilationY == 1 && kh >= MinDepthwiseSlideKernel && kh <= MaxSlideKernel
            ? DepthwiseSlideRows / kh * kh : 0;
        OutputRect? inner = split.FirstOrDefault(r => !r.Rim) is { Width: > 0 } ir ? ir : null;
        if (slideY > 0 && (inner is null || inner.Value.Height < slideY)) slideY = 0;
        if (slideY > 0 && !zeroPlane) split = OutputRect.Split(wOut, hOut, xs, ys, bx, slideY);
        (string, object)[] defines =
        [
            ("KH", kh), ("KW", kw), ("SX", o.StrideX), ("DX", o.DilationX), ("OX", bx),
            (texel ? "PARAMS_TEXEL" : "PARAMS_VEC4", texel ? 1 : blockVec4s), ("FLAT_Z", flatZ ? 1 : 0),
            .. depthwise ? [("CHANNEL_UNIFORM", channelUniform ? 1 : 0), ("ZERO_PLANE", zeroPlane ? 1 : 0)] : Array.Empty<(string, object)>(),
            .. FusedActivation.Defines(act),
        ];
        string file = depthwise ? "conv2d_depthwise.comp" : "conv2d_dense.comp";
        // The interior has no border code: one program serves every border.
        (string, object)[] stores = [("VEC4_STORES", vec4Stores ? 1 : 0), ("U64_STORES", u64Stores ? 1 : 0)];
        (string, object)[] rows = depthwise ? [("OY", slideY > 0 ? slideY : blockY), ("SLIDE", slideY > 0 ? 1 : 0)] : [];
        (string, object)[] interiorDefines = [.. defines, .. rows, ("BORDER", 0), ("RIM", 0), ("VEC4_LOADS", vec4 ? 1 : 0), ("VEC4_SHIFT", vec4 ? shift : 0), .. stores];
        string? literal = literals is not null && depthwise && channelUniform && choice is not ConvPath.Direct && LiteralFilter(context, kh * kw)
            ? LiteralKernel(packed, cout, kh, kw, channelStride) : null;
        GlProgram interior = literal is not null
            ? literals!(file, [.. interiorDefines, ("LITERAL_W", literal)])
            : context.Shaders.Compute(file, interiorDefines);
        GlProgram? rim = pad || zeroPlane ? null : context.Shaders.Compute(file, [.. defines, .. depthwise ? [("OY", blockY)] : Array.Empty<(string, object)>(),
            ("BORDER", border), ("RIM", 1), ("VEC4_LOADS", 0), ("VEC4_SHIFT", 0), ("VEC4_STORES", 0)]);
        string where = literal is not null ? (rim is null ? "weights compiled in" : "weights compiled in (the rim's in a uniform block)")
            : !texel ? "weights in a uniform block"
            : depthwise ? (overLimit ? "weights through a texel view (above the uniform block limit)" : "weights through a texel view (more than 9 taps)")
            : "weights through a texel view";
        string layout = (flatZ ? ", channel blocks flat" : "") + (pad ? ", padded copy" : "") + (u64Stores ? ", 32-byte stores" : vec4Stores ? ", vec4 stores" : "") + (zeroPlane ? ", whole plane (zero border), no rim" : "") +
            (channelUniform ? ", one dispatch per channel" : "");
        string variant = depthwise
            ? $"conv2d_depthwise: {(slideY > 0 ? $"strips of {slideY} rows sliding x " : blockY > 1 ? $"{blockY} rows x " : "")}{bx} x/invocation{layout}, {where}"
            : $"conv2d_dense: 4 channels x {BlockX} x/invocation{layout}, {where}";
        variant += act?.Suffix;
        var plan = new ConvPlan(context, input, variant, false, interior, rim, zGroups, texel, g, o, flatZ) { _channelUniform = channelUniform, _channelStrideBytes = channelStride * 16, _blockBytes = blockVec4s * 16 };
        if (pad)
        {
            plan._pad = PadProgram(context, o.Border, input.W, g.X.PadBefore, paddedW);
            plan._paddedShape = (input.C, paddedH, paddedW);
        }
        // With the padded copy the one interior rectangle's blocks of 8 may pass the last output (stores are predicated):
        // the copy is wide enough for them.
        plan._rects.AddRange(split);
        plan._group = (cinG, coutG);
        plan._blockY = slideY > 0 ? slideY : blockY;
        plan._rimBlockY = blockY;
        plan._blockX = bx;
        return plan;
    }

    /// <summary>Image filters whose kernel is compiled into the interior program as literals (conv2d_depthwise.comp's
    /// LITERAL_W; the rim strips keep the uniform block): on a software rasteriser (not with
    /// <c>CONVGL_LITERAL_PLANS=0</c>, <see cref="LiteralConvPlan.InAuto"/>), kernels of at most
    /// <see cref="MaxLiteralFilterTaps"/> taps, and for 2D kernels one dispatch per channel (up to
    /// <see cref="MaxUniformChannels"/>) with the same kernel on every channel (checked by <see cref="LiteralKernel"/>);
    /// a separable pair (<see cref="CreateSeparable"/>) is one pair for every channel, whatever their count. A constant operand makes a tap of 1 or -1 an add or a subtract (a zero tap still
    /// multiplies, by a uniform zero, for NaN's sake): rep by rep in the same process against the uniform-block program,
    /// sobel3-rgb, gauss5-2d and gauss9-2d took 0.94-0.98x its time on llvmpipe (bench/README.md, "Image filters with
    /// their kernel compiled in"). The program is made for one kernel: the op owns it.</summary>
    internal static bool LiteralFilter(GlContext context, int taps) => LiteralConvPlan.InAuto(context) && taps <= MaxLiteralFilterTaps;

    /// <summary>The most taps <see cref="LiteralFilter"/> compiles in (a 2D kernel's kH * kW, a separable pair's kH + kW).</summary>
    public const int MaxLiteralFilterTaps = 81;

    /// <summary>conv2d_depthwise.comp's LITERAL_W (a GLSL array of the kH x kW taps, as the shader reads them) from the
    /// packed block of channel 0, or null where another channel's kernel differs (bit for bit; the biases may).</summary>
    private static string? LiteralKernel(float[] packed, int channels, int kh, int kw, int strideVec4s)
    {
        int block = strideVec4s * 4, row = (kw + 3) / 4 * 4;
        for (int c = 1; c < channels; c++)
            for (int k = 0; k < kh * row; k++)
                if (BitConverter.SingleToInt32Bits(packed[c * block + k]) != BitConverter.SingleToInt32Bits(packed[k])) return null;
        var taps = new float[kh * kw];
        for (int i = 0; i < kh; i++)
            for (int j = 0; j < kw; j++) taps[i * kw + j] = packed[i * row + j];
        return LiteralArray(taps, 0, taps.Length);
    }

    /// <summary>A GLSL float array of <paramref name="count"/> values from <paramref name="start"/>, each parsing back to
    /// the same bits.</summary>
    private static string LiteralArray(float[] values, int start, int count) =>
        $"float[]({string.Join(", ", values.Skip(start).Take(count).Select(LiteralConvPlan.F))})";

    /// <summary>Output rows per invocation of separable_fast.comp: each input row it loads and filters along x feeds up to
    /// this many output rows (a 9-tap column then loads 12 rows per 4 output rows instead of 36).</summary>
    public const int SeparableBlockY = 4;

    /// <summary>separable_fast.comp's interior walks down strips of about this many output rows (a multiple of the column
    /// length), filtering each input row along x once and keeping the last kH filtered rows, for columns of 2 to
    /// <see cref="MaxSlideKernel"/> taps. Measured on llvmpipe (Zen 4, 2 cores, bench/README.md "Sliding strips"):
    /// gauss5-sep 2.11-2.13 -> 1.83-1.99 ms median, 2.01-2.06 -> 1.75-1.81 minimum; strips of 20 to 135 rows within
    /// the noise of each other. A 9-tap column (a ring of 72 values) was no faster by its median. Software rasterisers only.</summary>
    public const int SlideRows = 40;
    public const int MaxSlideKernel = 5;

    /// <summary>conv2d_depthwise.comp's interior walks down strips of about this many output rows (a multiple of kH) for
    /// image filters (at most <see cref="MaxUniformChannels"/> channels: weights at constant addresses) with kernels of
    /// <see cref="MinDepthwiseSlideKernel"/> to <see cref="MaxSlideKernel"/> rows. Measured on llvmpipe (bench/README.md
    /// "Sliding strips"): gauss5-2d 2.82-2.86 -> 2.33-2.37 ms median; sobel3-rgb's 3x3 within the noise; depthwise layers
    /// of many channels slower (dwconv3-32 1.9-2.0 -> 2.3-2.9, dwconv3-144-56 0.42 -> 1.6: their weights are gathered).
    /// Software rasterisers only.</summary>
    public const int DepthwiseSlideRows = 60;
    public const int MinDepthwiseSlideKernel = 4;

    /// <summary>Plans a rank-1 depthwise filter (column x row, every channel alone, optional bias per channel) as one
    /// separable_fast.comp pass, or returns null where it does not apply (a y stride or dilation, kernels or spans too long
    /// to unroll, more channels than the uniform block holds, an input beyond the texel-buffer size, or an output too
    /// small to pay for compiling it unless <paramref name="choice"/> forces it); the caller then plans two passes.</summary>
    /// <param name="literals">As for <see cref="Create"/>: where given, on a software rasteriser the interior program takes
    /// the two vectors as literals (separable_fast.comp's LITERAL_ROW and LITERAL_COL), made and owned by this callback.</param>
    public static ConvPlan? CreateSeparable(GlContext context, GpuTensor input, float[] column, float[] row, float[]? bias,
        ConvOptions o, ConvGeometry g, GlBuffer parameters, ConvPath choice, Func<string, (string, object)[], GlProgram>? literals = null)
    {
        GL gl = context.Gl;
        int kh = column.Length, kw = row.Length, c = input.C;
        int bx = BlockX; // 4 and 16 measured slower
        int span = (bx - 1) * o.StrideX + (kw - 1) * o.DilationX + 1;
        int rowVec4 = (kw + 3) / 4, colVec4 = (kh + 3) / 4, chVec4 = rowVec4 + colVec4 + 1;
        int blockVec4s = (int)Math.Min(ComputeOp.MaxUniformBlockBytes(gl) / 16, 4096);
        long outputs = (long)c * g.Y.Output * g.X.Output;
        if (choice is ConvPath.Direct or ConvPath.Fast || o.StrideY != 1 || o.DilationY != 1 ||
            kh > MaxUnrolledKernel || kw > MaxUnrolledKernel || span > MaxSpan || (long)c * chVec4 > blockVec4s ||
            input.Length > ComputeOp.MaxTexelViewFloats(gl) || (outputs < MinFastOutputs && choice != ConvPath.Fused))
            return null;

        // Reversed vectors under convolve: their outer product is the kernel rotated by 180 degrees. With few channels one
        // dispatch per channel, the uniform block bound at its vectors (as in Create).
        bool flip = o.Mode == ConvMode.Convolve;
        bool channelUniform = c <= MaxUniformChannels;
        int stride = channelUniform ? (chVec4 + UniformAlignVec4s(gl) - 1) / UniformAlignVec4s(gl) * UniformAlignVec4s(gl) : chVec4;
        var packed = new float[c * stride * 4];
        for (int ch = 0; ch < c; ch++)
        {
            int at = ch * stride * 4;
            for (int j = 0; j < kw; j++) packed[at + j] = row[flip ? kw - 1 - j : j];
            for (int i = 0; i < kh; i++) packed[at + rowVec4 * 4 + i] = column[flip ? kh - 1 - i : i];
            if (bias is not null) packed[at + (rowVec4 + colVec4) * 4] = bias[ch];
        }
        parameters.Reserve(Math.Max(packed.Length, ((c - 1) * stride + blockVec4s) * 4));
        parameters.Write(packed);

        (int Lo, int Hi) xs = OutputRect.InteriorSpan(input.W, g.X.Output, kw, o.StrideX, o.DilationX, g.X.PadBefore);
        (int Lo, int Hi) ys = OutputRect.InteriorSpan(input.H, g.Y.Output, kh, 1, 1, g.Y.PadBefore);
        (xs, bool vec4Stores, bool u64Stores) = AlignedStores(context, g.X.Output, xs, bx);
        bool vec4 = input.W % 4 == 0;
        int shift = ((xs.Lo * o.StrideX - g.X.PadBefore) % 4 + 4) % 4;
        // Sliding strips in the interior for short columns (see SlideRows), where the interior holds one; on a software
        // rasteriser only, where they were measured (on a GPU an invocation per strip would leave most of its lanes idle:
        // a 1080p filter in strips of 40 rows is ~6,500 invocations).
        int slideY = context.IsSoftware && kh >= 2 && kh <= MaxSlideKernel ? SlideRows / kh * kh : 0;
        if (slideY > 0 && ys.Hi - ys.Lo < slideY) slideY = 0;
        (string, object)[] defines =
        [
            ("KH", kh), ("KW", kw), ("SX", o.StrideX), ("DX", o.DilationX), ("OX", bx),
            ("PARAMS_VEC4", blockVec4s), ("CHANNEL_UNIFORM", channelUniform ? 1 : 0),
        ];
        (string, object)[] interiorDefines =
            [.. defines, ("OY", slideY > 0 ? slideY : SeparableBlockY), ("SLIDE", slideY > 0 ? 1 : 0),
                ("BORDER", 0), ("RIM", 0), ("VEC4_LOADS", vec4 ? 1 : 0), ("VEC4_SHIFT", vec4 ? shift : 0), ("VEC4_STORES", vec4Stores ? 1 : 0),
                ("U64_STORES", u64Stores ? 1 : 0)];
        // The vectors as the shader reads them (reversed under convolve), the same for every channel.
        bool literal = literals is not null && LiteralFilter(context, kh + kw);
        GlProgram interior = literal
            ? literals!("separable_fast.comp", [.. interiorDefines, ("LITERAL_ROW", LiteralArray(packed, 0, kw)), ("LITERAL_COL", LiteralArray(packed, rowVec4 * 4, kh))])
            : context.Shaders.Compute("separable_fast.comp", interiorDefines);
        GlProgram rim = context.Shaders.Compute("separable_fast.comp",
            [.. defines, ("OY", SeparableBlockY), ("BORDER", (int)o.Border), ("RIM", 1), ("VEC4_LOADS", 0), ("VEC4_SHIFT", 0), ("VEC4_STORES", 0)]);
        string layout = (u64Stores ? ", 32-byte stores" : vec4Stores ? ", vec4 stores" : "") + (channelUniform ? ", one dispatch per channel" : "");
        var plan = new ConvPlan(context, input, $"separable_fast: one pass, {(slideY > 0 ? $"strips of {slideY} rows sliding (each input row filtered once)" : $"{SeparableBlockY} rows")} x {bx} x/invocation{layout}, {(literal ? "weights compiled in (the rim's in a uniform block)" : "weights in a uniform block")}",
            false, interior, rim, c, false, g, o)
        {
            _channelUniform = channelUniform, _channelStrideBytes = stride * 16, _blockBytes = blockVec4s * 16,
        };
        plan._blockY = slideY > 0 ? slideY : SeparableBlockY;
        plan._rimBlockY = SeparableBlockY;
        plan._blockX = bx;
        plan._rects.AddRange(OutputRect.Split(g.X.Output, g.Y.Output, xs, ys, bx, plan._blockY));
        return plan;
    }

    /// <summary>Weight (o, c, i, j) as the fast shaders read it: they always correlate, so under convolve the kernel is
    /// stored rotated by 180 degrees.</summary>
    private static float Tap(float[] weight, int oc, int kh, int kw, int i, int j, bool flip) =>
        flip ? weight[(oc * kh + kh - 1 - i) * kw + kw - 1 - j] : weight[(oc * kh + i) * kw + j];

    /// <summary>conv2d_depthwise.comp's block: per channel kH rows of ceil(kW / 4) vec4s (taps, zero-padded), then a vec4
    /// whose x is the bias (0 without one).</summary>
    private static float[] PackDepthwise(float[] weight, float[]? bias, int channels, int kh, int kw, bool flip, int strideVec4s)
    {
        int row = (kw + 3) / 4 * 4, block = strideVec4s * 4;
        var packed = new float[channels * block];
        for (int c = 0; c < channels; c++)
        {
            for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++) packed[c * block + i * row + j] = Tap(weight, c, kh, kw, i, j, flip);
            if (bias is not null) packed[c * block + kh * row] = bias[c];
        }
        return packed;
    }

    /// <summary>conv2d_dense.comp's block: per 4 output channels of one group, C_in/groups * kH * kW vec4s (c, i, j) with
    /// component q for output channel 4 * block + q of the group (zero past the group's last), then a vec4 of bias.</summary>
    private static float[] PackDense(float[] weight, float[]? bias, int groups, int coutG, int cinG, int kh, int kw, bool flip)
    {
        int taps = cinG * kh * kw, blocksG = (coutG + 3) / 4, blockFloats = (taps + 1) * 4;
        var packed = new float[groups * blocksG * blockFloats];
        for (int g = 0; g < groups; g++)
            for (int b = 0; b < blocksG; b++)
            {
                int at = (g * blocksG + b) * blockFloats;
                for (int q = 0; q < 4 && b * 4 + q < coutG; q++)
                {
                    int o = g * coutG + b * 4 + q;
                    for (int c = 0; c < cinG; c++)
                        for (int i = 0; i < kh; i++)
                            for (int j = 0; j < kw; j++)
                                packed[at + ((c * kh + i) * kw + j) * 4 + q] = Tap(weight, o * cinG + c, kh, kw, i, j, flip);
                    if (bias is not null) packed[at + taps * 4 + q] = bias[o];
                }
            }
        return packed;
    }

    /// <summary>The interior dispatch, then the rim strips; every output written exactly once. A plan that
    /// <see cref="PadsInput"/> first fills <paramref name="padded"/> (the caller's scratch tensor, resized here) and runs
    /// the interior over it.</summary>
    public void Run(GpuTensor input, GpuTensor output, GlBuffer parameters, GpuTensor? padded = null)
    {
        GL gl = _context.Gl;
        ComputeOp.BeforeTexelReads(gl);
        if (_pad is not null)
        {
            ArgumentNullException.ThrowIfNull(padded);
            padded.Resize(_paddedShape.C, _paddedShape.H, _paddedShape.W);
            PadCopy(gl, _pad.Value, input, padded, _geometry.X.PadBefore, _geometry.Y.PadBefore);
            input = padded;
        }
        input.Buffer.BindTexelView(ComputeOp.InputUnit);
        input.Buffer.BindTexelView(ComputeOp.InputUnit + 1, vec4: true);
        _parameters = parameters.Handle;
        if (_paramsInTexelView) parameters.BindTexelView(ComputeOp.ParamsUnit, vec4: true);
        else parameters.BindUniform(0);
        output.Buffer.Bind(3);
        // Two calls rather than a loop over a new array: Run is per frame and allocates nothing.
        Dispatch(Interior, input, output, rim: false);
        if (Rim is not null) Dispatch(Rim, input, output, rim: true);
        ComputeOp.Barrier(gl);
    }

    /// <summary>The interior's columns <paramref name="xs"/> moved to start where its blocks of <paramref name="blockX"/>
    /// outputs store whole runs: where output rows are whole multiples of 8 and the driver has 32-byte stores, at a
    /// multiple of 8 (8 floats per store, include/store8.glsl); else where they are whole vec4s, at a multiple of 4 (two
    /// aligned vec4 stores per 8 outputs). The rim strip on the left grows by the columns skipped; where the interior
    /// would then hold no block, it stays as it is with scalar stores.</summary>
    private static ((int Lo, int Hi) Xs, bool Vec4, bool U64) AlignedStores(GlContext context, int wOut, (int Lo, int Hi) xs, int blockX)
    {
        int Start(int run) => wOut % run == 0 && xs.Hi - (xs.Lo + run - 1) / run * run >= blockX ? (xs.Lo + run - 1) / run * run : -1;
        if (context.WideStores && Start(8) >= 0) return ((Start(8), xs.Hi), true, true);
        if (Start(4) >= 0) return ((Start(4), xs.Hi), true, false);
        return (xs, false, false);
    }

    /// <summary>The width a padded copy's rows are rounded up to: 8 where the driver stores 8 floats at once (the copy then
    /// writes 8 elements per invocation), else 4.</summary>
    internal static int PadRowMultiple(GlContext context) => context.WideStores ? 8 : 4;

    /// <summary><paramref name="width"/> rounded up to a whole padded-copy row (<see cref="PadRowMultiple"/>).</summary>
    internal static int PadRowWidth(GlContext context, int width) => (width + PadRowMultiple(context) - 1) / PadRowMultiple(context) * PadRowMultiple(context);

    /// <summary>The conv2d_pad.comp program for an input <paramref name="inputW"/> wide, padded by <paramref name="padX"/>
    /// on the left into rows <paramref name="paddedW"/> wide (a multiple of <see cref="PadRowMultiple"/>).</summary>
    internal static PadPass PadProgram(GlContext context, Border border, int inputW, int padX, int paddedW)
    {
        bool wide = context.WideStores && paddedW % 8 == 0;
        bool vec4In = wide && border == Border.Zero && inputW % 4 == 0;
        GlProgram p = context.Shaders.Compute("conv2d_pad.comp", ("BORDER", (int)border), ("WIDE", wide ? 1 : 0),
            ("VEC4_IN", vec4In ? 1 : 0), ("SHIFT", vec4In ? ((-padX) % 4 + 4) % 4 : 0));
        return new PadPass(p, wide, vec4In);
    }

    /// <summary>A padded-copy program and how it reads and writes (see <see cref="PadProgram"/>).</summary>
    internal readonly record struct PadPass(GlProgram Program, bool Wide, bool Vec4In);

    /// <summary>conv2d_pad.comp: <paramref name="input"/> into <paramref name="padded"/> (already sized, rows a multiple of 4,
    /// or of 8 for a wide pass) with input (0, 0) at (<paramref name="padX"/>, <paramref name="padY"/>), the border applied
    /// once.</summary>
    internal static void PadCopy(GL gl, PadPass pass, GpuTensor input, GpuTensor padded, int padX, int padY)
    {
        GlProgram pad = pass.Program;
        input.Buffer.BindTexelView(ComputeOp.InputUnit);
        if (pass.Vec4In) input.Buffer.BindTexelView(ComputeOp.InputUnit + 1, vec4: true);
        padded.Buffer.Bind(3);
        pad.Use();
        gl.Uniform2(pad.Uniform("u_in_size"), input.W, input.H);
        gl.Uniform2(pad.Uniform("u_out_size"), padded.W, padded.H);
        gl.Uniform2(pad.Uniform("u_pad"), padX, padY);
        pad.DispatchCovering(padded.W / (pass.Wide ? 8 : 4), padded.H, padded.C);
        ComputeOp.Barrier(gl);
    }

    private void Dispatch(GlProgram p, GpuTensor input, GpuTensor output, bool rim)
    {
        GL gl = _context.Gl;
        p.Use();
        gl.Uniform2(p.Uniform("u_in_size"), input.W, input.H);
        gl.Uniform2(p.Uniform("u_out_size"), output.W, output.H);
        gl.Uniform2(p.Uniform("u_pad"), _pad is null ? _geometry.X.PadBefore : 0, _pad is null ? _geometry.Y.PadBefore : 0);
        gl.Uniform2(p.Uniform("u_step_y"), _options.StrideY, _options.DilationY);
        gl.Uniform2(p.Uniform("u_group"), _group.CinG, _group.CoutG);
        foreach (OutputRect r in _rects)
        {
            if (r.Rim != rim) continue;
            gl.Uniform2(p.Uniform("u_origin"), r.X, r.Y);
            gl.Uniform2(p.Uniform("u_extent"), r.Width, r.Height);
            int blockY = rim && _rimBlockY > 0 ? _rimBlockY : _blockY;
            int blocks = (r.Width + _blockX - 1) / _blockX * ((r.Height + blockY - 1) / blockY);
            (int row, int rows) = ComputeOp.FlatGroups(_flatZ ? blocks * _zGroups : blocks, 64);
            gl.Uniform1(p.Uniform("u_row"), row);
            if (_flatZ) gl.Uniform1(p.Uniform("u_z_count"), _zGroups);
            if (_channelUniform)
            {
                for (int c = 0; c < _zGroups; c++)
                {
                    gl.Uniform1(p.Uniform("u_channel"), c);
                    gl.BindBufferRange(BufferTargetARB.UniformBuffer, 0, _parameters, c * _channelStrideBytes, (nuint)_blockBytes);
                    p.DispatchCovering(row, rows, 1);
                }
            }
            else p.DispatchCovering(row, rows, _flatZ ? 1 : _zGroups);
        }
    }
}

/// <summary>Which programs a plan may choose: the cost rule (Auto), or one kind only (tests hold each to the reference).
/// For <see cref="GpuSeparableConv"/>, Fast is the two conv2d_depthwise passes and Fused the one separable_fast pass.
/// FastRim: a fast variant with the interior/rim split where Auto and Fast would read a padded copy (dense layers).
/// Winograd: <see cref="WinogradPlan"/> wherever it applies (3x3, strides and dilations 1, one group), whatever the
/// channel count or size; Auto takes it by its cost rule. Pointwise: <see cref="PointwisePlan"/> wherever it applies (1x1,
/// one group). Literal: <see cref="LiteralConvPlan"/> (weights compiled in) for every layer; Auto takes it
/// by its rule. LiteralWinograd: <see cref="LiteralWinogradPlan"/> (Winograd with its weights compiled in) wherever it
/// applies (3x3, strides and dilations 1, one group); Auto takes it by its rule, before Literal.</summary>
internal enum ConvPath { Auto, Direct, Fast, Fused, FastRim, Winograd, Pointwise, Literal, LiteralWinograd }
