using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>A 3x3 conv (stride 1, dilation 1, one group) by Winograd's minimal filtering F(4x4, 3x3) (include/winograd.glsl):
/// the padded copy (conv2d_pad.comp, the border applied once), the input transform of every 6x6 tile
/// (winograd_input.comp), 36 matrix products over the input channels (winograd_gemm.comp) and the output transform with
/// the bias (winograd_output.comp). 2.25 multiply-adds per output and channel pair instead of 9; on llvmpipe, where
/// every load in the channel loop is a gather, that is fewer fetches per output too (bench/README.md has the figures).
/// The weight transform G g G^T is computed here once per weight set, in double. The same sums as
/// <see cref="Conv2D.Apply"/> up to float32 rounding (the parity tests hold it to the reference). A tile whose input holds
/// a NaN or an infinity (the transforms would spread it to all 16 of the tile's outputs) is listed by the input
/// transform and recomputed directly afterwards (winograd_fixup.comp, an indirect dispatch of one workgroup per listed
/// tile: none for a finite input), so non-finite values reach exactly the outputs the reference gives them.</summary>
internal sealed class WinogradPlan
{
    /// <summary>Outputs per tile side (F(4x4, 3x3): 6x6 input tiles).</summary>
    public const int Tile = 4;
    /// <summary>Transformed values per tile.</summary>
    public const int Positions = 36;
    /// <summary>Scratch a plan may use for each of its transformed tensors and its padded copy (floats): 64 MiB. A larger
    /// map (32 channels at 1080p would need ~600 MB) runs in bands of tile rows through that much (<see cref="BandRows"/>).</summary>
    public const long MaxScratchFloats = 16L << 20;
    /// <summary>Input and output channels from which the cost rule picks this plan (<see cref="Pays"/>).</summary>
    public const int MinChannels = 32;

    // G (6 x 3) of F(4x4, 3x3): U = G g G^T.
    private static readonly double[,] G =
    {
        { 1.0 / 4, 0, 0 },
        { -1.0 / 6, -1.0 / 6, -1.0 / 6 },
        { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
        { 1.0 / 24, 1.0 / 12, 1.0 / 6 },
        { 1.0 / 24, -1.0 / 12, 1.0 / 6 },
        { 0, 0, 1 },
    };

    private readonly GlContext _context;
    private readonly (int C, int H, int W) _input;
    private readonly ConvGeometry _geometry;
    private readonly ConvPlan.PadPass _pad;
    private readonly GlProgram _transform, _gemm, _output, _fixup;
    private readonly bool _hasBias, _flip;
    /// <summary>Tiles per row, tile rows, and the tile rows of one band (<see cref="BandRows"/>; all of them where the
    /// scratch holds the whole map).</summary>
    private readonly (int W, int H, int BandRows) _tiles;
    /// <summary>The padded copy's width (rows a multiple of 4); a band's copy holds its tile rows' 4 R + 2 input rows.</summary>
    private readonly int _paddedW;
    private readonly int _cin, _cout, _blocks, _split;
    /// <summary>Whether the products run 16 output channels x 4 tiles (<see cref="UsesT4"/>; a map of at most 4 tiles is
    /// one band).</summary>
    private bool T4 => UsesT4(_cout, _tiles.W * _tiles.H);

    public string Variant { get; }

    private WinogradPlan(GlContext context, GpuTensor input, ConvGeometry geometry, int cin, int cout, (int, int, int) tiles,
        int paddedW, ConvPlan.PadPass pad,
        GlProgram transform, GlProgram gemm, GlProgram output, GlProgram fixup, bool hasBias, bool flip, int split, string variant)
    {
        _split = split;
        _fixup = fixup;
        _hasBias = hasBias;
        _flip = flip;
        _context = context;
        _input = (input.C, input.H, input.W);
        _geometry = geometry;
        _cin = cin;
        _cout = cout;
        _blocks = (cout + 3) / 4;
        _tiles = tiles;
        _paddedW = paddedW;
        _pad = pad;
        _transform = transform;
        _gemm = gemm;
        _output = output;
        Variant = variant;
    }

    public bool Fits(GpuTensor input) => _input == (input.C, input.H, input.W);

    /// <summary>Whether the shape and options are a case F(4x4, 3x3) computes: a 3x3 kernel, strides and dilations 1,
    /// one group.</summary>
    public static bool Applies(int[] weightShape, ConvOptions o) =>
        weightShape[2] == 3 && weightShape[3] == 3 && o.StrideX == 1 && o.StrideY == 1 && o.DilationX == 1 && o.DilationY == 1 && o.Groups == 1;

    /// <summary>Plans the conv, or returns null where it does not apply, not even one band of tile rows fits the scratch
    /// (<see cref="MaxScratchFloats"/>, or <paramref name="scratchFloats"/> for tests, and the texel-buffer size: see
    /// <see cref="BandRows"/>), or (under <see cref="ConvPath.Auto"/>) the cost rule
    /// prefers the direct programs (<see cref="Pays"/>). <paramref name="choice"/> Winograd forces it wherever it applies.</summary>
    public static WinogradPlan? Create(GlContext context, GpuTensor input, int[] weightShape, float[] weight, float[]? bias,
        ConvOptions o, GlBuffer parameters, ConvPath choice, FusedActivation? act = null, int splitK = 0, long scratchFloats = 0)
    {
        if (choice is not (ConvPath.Auto or ConvPath.Winograd) || !Applies(weightShape, o)) return null;
        GL gl = context.Gl;
        int cout = weightShape[0], cin = weightShape[1];
        ConvGeometry g = ConvGeometry.Compute(input.H, input.W, 3, 3, o);
        int hOut = g.Y.Output, wOut = g.X.Output;
        if (hOut <= 0 || wOut <= 0) return null;
        int tw = (wOut + Tile - 1) / Tile, th = (hOut + Tile - 1) / Tile;
        long count = (long)tw * th, padded = (count + 7) / 8 * 8;
        int blocks = (cout + 3) / 4;
        long limit = Math.Min(scratchFloats > 0 ? scratchFloats : MaxScratchFloats, ComputeOp.MaxTexelViewFloats(gl));
        int paddedW = ConvPlan.PadRowWidth(context, Tile * tw + 4);
        long uVec4s = (long)Positions * cin * blocks + blocks;
        int bandRows = BandRows(th, tw, cin, blocks, paddedW, 1, limit);
        if (bandRows == 0 || uVec4s > ComputeOp.MaxTexelViewFloats(gl) || input.Length > ComputeOp.MaxTexelViewFloats(gl))
            return null;
        if (choice == ConvPath.Auto && !Pays(cin, cout, hOut, wOut, (int)padded)) return null;

        parameters.Reserve((int)(uVec4s * 4));
        parameters.Write(PackWeights(weight, bias, cout, cin, o.Mode == ConvMode.Convolve));
        bool vec4Stores = wOut % 4 == 0, u64Stores = context.WideStores && wOut % 8 == 0;
        ConvPlan.PadPass pad = ConvPlan.PadProgram(context, o.Border, input.W, g.X.PadBefore, paddedW);
        GlProgram transform = context.Shaders.Compute("winograd_input.comp", ("U64_STORES", context.WideStores ? 1 : 0));
        // Products in blocks of 8 output channels where the 4-channel blocks pair up (CO8: 4 fetches per 64 multiply-adds,
        // 5-12% faster than 4 channels on ResNet's layers on llvmpipe), else 4; on maps of at most 4 tiles, 16 channels x
        // 4 tiles where the blocks come in fours (UsesT4).
        bool co8 = (cout + 3) / 4 % 2 == 0;
        bool t4 = UsesT4(cout, (int)count);
        int split = SplitK(context, splitK, cin, GemmInvocations(blocks, (int)count, (int)padded));
        // Split K only where its copies of the products leave the bands as large as without it.
        while (split > 1 && BandRows(th, tw, cin, blocks, paddedW, split, limit) < bandRows) split--;
        bandRows = BandRows(th, tw, cin, blocks, paddedW, split, limit);
        int bands = (th + bandRows - 1) / bandRows;
        bandRows = (th + bands - 1) / bands; // as many bands, as even as they go
        // CONVGL_WINOGRAD_BANDS=0: a map past the scratch runs the direct program, as before the bands (an A/B switch for
        // a GPU, where the bands are untimed: scripts/gpu-machine.sh).
        if (bands > 1 && Environment.GetEnvironmentVariable("CONVGL_WINOGRAD_BANDS") == "0") return null;
        GlProgram gemm = context.Shaders.Compute("winograd_gemm.comp", ("CO8", co8 ? 1 : 0), ("T4", t4 ? 1 : 0), ("SPLIT", split));
        GlProgram output = context.Shaders.Compute("winograd_output.comp", [("VEC4_STORES", vec4Stores ? 1 : 0), ("U64_STORES", u64Stores ? 1 : 0), ("SPLIT", split), .. FusedActivation.Defines(act)]);
        GlProgram fixup = context.Shaders.Compute("winograd_fixup.comp", FusedActivation.Defines(act));
        string variant = $"winograd F(4x4,3x3): {count} tiles, {(t4 ? "16 channels x 4 tiles" : co8 ? "8 channels x 8 tiles" : "4 channels x 8 tiles")}/invocation{(split > 1 ? $", input channels split {split} ways" : "")}{(bands > 1 ? $", {bands} bands of {bandRows} tile row{(bandRows == 1 ? "" : "s")}" : "")}, padded copy{(u64Stores ? ", 32-byte stores" : vec4Stores ? ", vec4 stores" : "")}{act?.Suffix}";
        return new WinogradPlan(context, input, g, cin, cout, (tw, th, bandRows), paddedW, pad, transform, gemm, output, fixup,
            bias is not null, o.Mode == ConvMode.Convolve, split, variant);
    }

    /// <summary>The cost rule (measured on llvmpipe, bench/README.md "Winograd"): both channel counts at least
    /// <see cref="MinChannels"/> (below, the transforms' stores cost more than the products save: 16 -> 32 at 256x256 ran
    /// 0.93x the direct program's speed, 16 -> 16 at 128x128 1.1x), at least two blocks of 8 tiles (a 7x7 map's 4 tiles
    /// are one block, half of it padding, and every U texel is then fetched once, never reused: 512 -> 512 at 7x7 ran
    /// 0.6x; blocks of 4 tiles x 8 channels were slower still), and the products' texel fetches at most half the direct
    /// program's (conv2d_dense: 6 fetches per input channel and kernel row of 4 channels x 8 outputs along x; here 3 per
    /// input channel of 4 channels x 8 tiles at each of the 36 positions). One exception since the products run 8 channels x
    /// 8 tiles (image loads, 8-channel blocks): with 8-channel blocks, 4 to 7 tiles (maps of 5 to 8 a side, ResNet's 7x7)
    /// beat the direct program although half the block is padding (512 -> 512 at 7x7 13-20% faster, at 8x8 ~40%,
    /// 128 -> 128 at 7x7 ~15%; a single tile, 512 -> 512 at 4x4, still 0.75x). As for the direct programs, an output below
    /// <see cref="ConvPlan.MinFastOutputs"/> values keeps conv2d.comp.</summary>
    internal static bool Pays(int cin, int cout, int hOut, int wOut, int paddedTiles)
    {
        if (cin < MinChannels || cout < MinChannels || (long)cout * hOut * wOut < ConvPlan.MinFastOutputs)
            return false;
        long tiles = (long)((hOut + Tile - 1) / Tile) * ((wOut + Tile - 1) / Tile);
        if (paddedTiles < 16) return (cout + 3) / 4 % 2 == 0 && tiles >= 4;
        long direct = (long)((wOut + ConvPlan.BlockX - 1) / ConvPlan.BlockX) * hOut * 3 * 6;
        long products = (long)Positions * (paddedTiles / 8) * 3;
        return products * 2 <= direct;
    }

    /// <summary>The most tile rows one band may hold (all <paramref name="th"/> where the whole map fits): a band's
    /// transformed input (36 x C_in x its tiles padded to 8), its products (36 x 4 CB x the same, times the
    /// <paramref name="split"/> slices) and its padded copy (C_in x (4 R + 2) x WP) each within <paramref name="limit"/>
    /// floats. 0 where not even one tile row fits. A map past the limit (32 channels at 512x512 need ~19 M floats, at
    /// 1080p ~150 M) runs as bands of tile rows, one after the other through the same scratch, instead of leaving
    /// Winograd for the direct program (32 -> 32 at 256x512 on llvmpipe: 65-101 ms against its 87-123).</summary>
    internal static int BandRows(int th, int tw, int cin, int blocks, int paddedW, int split, long limit)
    {
        // Tiles padded to a multiple of 8 fit P floats' worth exactly when the tiles themselves fit P rounded down to 8.
        long tiles = Math.Min(limit / (Positions * (long)cin), limit / (Positions * 4L * blocks * split)) / 8 * 8;
        long rows = Math.Min(tiles / tw, (limit / ((long)cin * paddedW) - 2) / Tile);
        return (int)Math.Clamp(rows, 0, th);
    }

    /// <summary>Whether the products run 16 output channels x 4 tiles per invocation (winograd_gemm.comp's T4): on maps of
    /// at most 4 tiles (5 to 8 outputs a side: ResNet's 7x7), where 8 tiles per invocation would be half padding, with
    /// output channels in whole blocks of 16. 512 -> 512 at 7x7 on llvmpipe: 5.3-5.8 -> 4.1-5.2 ms a layer (bench/README.md).</summary>
    internal static bool UsesT4(int cout, int tiles) => tiles <= 4 && (cout + 3) / 4 % 4 == 0;

    /// <summary>Invocations of the products pass without a split (each loops over every input channel).</summary>
    internal static int GemmInvocations(int blocks, int tiles, int paddedTiles) =>
        UsesT4(4 * blocks, tiles) ? Positions * (blocks / 4) * ((tiles + 3) / 4)
        : Positions * (blocks % 2 == 0 ? blocks / 2 : blocks) * (paddedTiles / 8);

    /// <summary>Lanes the products pass should keep busy on a GPU before it splits the input channels (an H200 holds
    /// ~270,000 threads; ResNet18's 512->512 layers on 7x7 maps have 1,152 product invocations).</summary>
    internal const int SplitTargetInvocations = 32768;

    /// <summary>How many slices the products pass cuts the input channels into: <paramref name="requested"/> when
    /// positive (tests), <see cref="AutoSplitK"/>'s for <see cref="SplitKAuto"/>, else CONVGL_SPLIT_K (a number, or "auto": enough slices for
    /// <see cref="SplitTargetInvocations"/>, at most 16, at least 16 input channels a slice), else 1. The rule never
    /// splits: on llvmpipe every lane is busy already (2 cores), and on a GPU it has not been timed (bench/README.md, "A
    /// real GPU"); GpuConv2D's timed choice (GlContext.TuneConvPlans, on by default on a GPU) tries the auto count beside the
    /// whole products.</summary>
    internal static int SplitK(GlContext context, int requested, int cin, int invocations)
    {
        if (requested > 0) return Math.Min(requested, cin);
        if (requested == SplitKAuto) return AutoSplitK(cin, invocations);
        string? env = Environment.GetEnvironmentVariable("CONVGL_SPLIT_K");
        if (env == "auto") return context.IsSoftware ? 1 : AutoSplitK(cin, invocations);
        return int.TryParse(env, out int n) && n > 0 ? Math.Min(n, cin) : 1;
    }

    /// <summary>A requested slice count that means <see cref="AutoSplitK"/>'s, on any device (a candidate of
    /// GpuConv2D's timed choice).</summary>
    internal const int SplitKAuto = -1;

    /// <summary>CONVGL_SPLIT_K=auto's slice count on a GPU (<see cref="SplitK"/>): enough slices for the products'
    /// <paramref name="invocations"/> (<see cref="GemmInvocations"/>) to reach <see cref="SplitTargetInvocations"/>, at most
    /// 16, at least 16 input channels a slice, at least 1.</summary>
    internal static int AutoSplitK(int cin, int invocations) =>
        Math.Clamp(SplitTargetInvocations / Math.Max(1, invocations), 1, Math.Max(1, Math.Min(16, cin / 16)));

    /// <summary>U = G g G^T (6 x 6, row-major, in double) of the 3x3 kernel at <paramref name="weight"/>[<paramref name="at"/>..],
    /// rotated by 180 degrees first under convolve (<paramref name="flip"/>; the shaders always correlate).</summary>
    internal static void TransformKernel(float[] weight, int at, bool flip, Span<double> u)
    {
        Span<double> gg = stackalloc double[18];
        // gg = G g (6 x 3), then U = gg G^T (6 x 6).
        for (int p = 0; p < 6; p++)
            for (int j = 0; j < 3; j++)
            {
                double s = 0;
                for (int i = 0; i < 3; i++)
                    s += G[p, i] * (flip ? weight[at + (2 - i) * 3 + 2 - j] : weight[at + i * 3 + j]);
                gg[p * 3 + j] = s;
            }
        for (int p = 0; p < 6; p++)
            for (int q = 0; q < 6; q++)
                u[p * 6 + q] = gg[p * 3] * G[q, 0] + gg[p * 3 + 1] * G[q, 1] + gg[p * 3 + 2] * G[q, 2];
    }

    /// <summary>U = G g G^T for every (output, input) channel pair, in double, as winograd_gemm.comp reads it: (C_in, CB, 36)
    /// vec4s, component q for output channel 4b + q (zero past the last), then CB vec4s of bias (zero without one).
    /// Under convolve the kernel is rotated by 180 degrees first (the shaders always correlate).</summary>
    internal static float[] PackWeights(float[] weight, float[]? bias, int cout, int cin, bool flip)
    {
        int blocks = (cout + 3) / 4;
        var packed = new float[(Positions * cin * blocks + blocks) * 4];
        Span<double> u = stackalloc double[Positions];
        for (int o = 0; o < cout; o++)
            for (int c = 0; c < cin; c++)
            {
                TransformKernel(weight, (o * cin + c) * 9, flip, u);
                for (int pq = 0; pq < Positions; pq++)
                    packed[((c * blocks + o / 4) * Positions + pq) * 4 + (o & 3)] = (float)u[pq];
            }
        if (bias is not null)
            for (int o = 0; o < cout; o++) packed[(Positions * cin * blocks + o / 4) * 4 + (o & 3)] = bias[o];
        return packed;
    }

    /// <summary>The four dispatches and the fix-up of non-finite tiles, once per band of tile rows (once where the map
    /// fits the scratch). <paramref name="padded"/> and <paramref name="scratch"/> are the caller's (resized here; storage
    /// grows only when it must); <paramref name="weights"/> and <paramref name="bias"/> the layer's own, for the fix-up.</summary>
    public void Run(GpuTensor input, GpuTensor output, GlBuffer parameters, GlBuffer weights, GlBuffer bias, GpuTensor padded, WinogradScratch scratch)
    {
        for (int row0 = 0; row0 < _tiles.H; row0 += _tiles.BandRows)
            RunBand(input, output, parameters, weights, bias, padded, scratch, row0, Math.Min(_tiles.BandRows, _tiles.H - row0));
    }

    /// <summary>Tile rows <paramref name="row0"/> .. + <paramref name="rows"/>: their padded copy (input rows 4 row0 - pad
    /// on), transforms, products and outputs, as if the band were the whole map; the output transform and the fix-up
    /// place its tiles at tile row <paramref name="row0"/>.</summary>
    private void RunBand(GpuTensor input, GpuTensor output, GlBuffer parameters, GlBuffer weights, GlBuffer bias, GpuTensor padded,
        WinogradScratch scratch, int row0, int rows)
    {
        int count = rows * _tiles.W, paddedTiles = (count + 7) / 8 * 8;
        GpuTensor transformed = scratch.Transformed, products = scratch.Products;
        uint epoch = scratch.StartRun(count);
        GL gl = _context.Gl;
        ComputeOp.BeforeTexelReads(gl);
        padded.Resize(_cin, Tile * rows + 2, _paddedW);
        transformed.Resize(Positions, _cin, paddedTiles);
        products.Resize(Positions * _split, 4 * _blocks, paddedTiles);
        ConvPlan.PadCopy(gl, _pad, input, padded, _geometry.X.PadBefore, _geometry.Y.PadBefore - Tile * row0);

        padded.Buffer.BindTexelView(ComputeOp.InputUnit, vec4: true);
        transformed.Buffer.Bind(3);
        _transform.Use();
        gl.Uniform2(_transform.Uniform("u_padded_size"), padded.W, padded.H);
        gl.Uniform3(_transform.Uniform("u_tiles"), _tiles.W, count, paddedTiles);
        gl.Uniform1(_transform.Uniform("u_channels"), _cin);
        gl.Uniform1(_transform.Uniform("u_epoch"), epoch);
        scratch.BindFixups();
        _transform.DispatchFlat(paddedTiles / 4 * _cin);
        ComputeOp.Barrier(gl);

        transformed.Buffer.BindTexelView(ComputeOp.InputUnit, vec4: true);
        parameters.BindTexelView(ComputeOp.ParamsUnit, vec4: true);
        products.Buffer.Bind(3);
        _gemm.Use();
        gl.Uniform3(_gemm.Uniform("u_gemm"), _cin, _blocks, paddedTiles);
        int mSize = Positions * _blocks * paddedTiles; // vec4s of one slice's products
        if (_split > 1)
        {
            gl.Uniform1(_gemm.Uniform("u_span"), (_cin + _split - 1) / _split);
            gl.Uniform1(_gemm.Uniform("u_m_size"), mSize);
        }
        if (T4) gl.Uniform1(_gemm.Uniform("u_groups"), (count + 3) / 4);
        _gemm.DispatchFlat(GemmInvocations(_blocks, count, paddedTiles) * _split);
        ComputeOp.Barrier(gl);

        products.Buffer.BindTexelView(ComputeOp.InputUnit, vec4: true);
        output.Buffer.Bind(3);
        _output.Use();
        gl.Uniform3(_output.Uniform("u_tiles"), _tiles.W, count, paddedTiles);
        gl.Uniform1(_output.Uniform("u_tile_row0"), row0);
        gl.Uniform2(_output.Uniform("u_out_size"), output.W, output.H);
        gl.Uniform3(_output.Uniform("u_channels"), _cout, 4 * _blocks, Positions * _cin * _blocks);
        if (_split > 1) gl.Uniform1(_output.Uniform("u_m_size"), mSize);
        _output.DispatchFlat(paddedTiles / 4 * _cout);
        ComputeOp.Barrier(gl);

        scratch.FixUp(_fixup, padded, output, weights, bias, _tiles.W, _cin, _cout, _hasBias, _flip, tileRow0: row0);
    }
}

/// <summary>What a <see cref="GpuConv2D"/> keeps for its Winograd plans across runs: the transformed input and the products,
/// and the fix-up's buffers (the indirect dispatch's arguments, whose x the input transform counts up; one flag per tile,
/// holding the run that last listed it, so it needs no clearing; the list). Made once, grown, never per frame.</summary>
internal sealed class WinogradScratch(GlContext context) : IDisposable
{
    // (0, 1, 1) as the uints of DispatchComputeIndirect's arguments.
    private static readonly float[] ResetArguments = [0f, BitConverter.Int32BitsToSingle(1), BitConverter.Int32BitsToSingle(1)];
    private readonly GlBuffer _arguments = new(context, "winograd fix-up arguments", 3);
    private readonly GlBuffer _flags = new(context, "winograd fix-up flags");
    private readonly GlBuffer _list = new(context, "winograd fix-up list");
    private uint _epoch;

    public GpuTensor Transformed { get; } = new(context, label: "winograd transformed input");
    public GpuTensor Products { get; } = new(context, label: "winograd products");

    /// <summary>Readies the fix-up buffers for a run over <paramref name="tiles"/> tiles; the run's number.</summary>
    public uint StartRun(int tiles)
    {
        if (_flags.Capacity < tiles)
        {
            _flags.Reserve(tiles);
            _flags.Write(new float[_flags.Capacity]); // zero: no run's number (they start at 1); once per growth
        }
        _list.Reserve(tiles);
        _arguments.Write(ResetArguments);
        return ++_epoch;
    }

    public void BindFixups()
    {
        _arguments.Bind(4);
        _flags.Bind(5);
        _list.Bind(6);
    }

    /// <summary>winograd_fixup.comp over the listed tiles: each computed directly from <paramref name="source"/> (the padded
    /// copy, or with <paramref name="pad"/> the input itself under a zero border), <paramref name="tilesW"/> 4x4 tiles a row,
    /// the listed tile rows counted from the output's tile row <paramref name="tileRow0"/> (a band's).</summary>
    public void FixUp(GlProgram fixup, GpuTensor source, GpuTensor output, GlBuffer weights, GlBuffer bias, int tilesW,
        int cin, int cout, bool hasBias, bool flip, (int X, int Y)? pad = null, int tileRow0 = 0)
    {
        GL gl = context.Gl;
        source.Buffer.BindTexelView(ComputeOp.InputUnit);
        weights.Bind(1);
        bias.Bind(2);
        fixup.Use();
        gl.Uniform2(fixup.Uniform("u_padded_size"), source.W, source.H);
        if (pad is { } p) gl.Uniform2(fixup.Uniform("u_pad"), p.X, p.Y);
        gl.Uniform2(fixup.Uniform("u_out_size"), output.W, output.H);
        gl.Uniform1(fixup.Uniform("u_tiles_w"), tilesW);
        gl.Uniform1(fixup.Uniform("u_tile_row0"), tileRow0); // always set: the program is shared with other plans
        gl.Uniform2(fixup.Uniform("u_channels"), cin, cout);
        gl.Uniform1(fixup.Uniform("u_has_bias"), hasBias ? 1 : 0);
        gl.Uniform1(fixup.Uniform("u_flip"), flip ? 1 : 0);
        DispatchFixups();
        ComputeOp.Barrier(gl);
    }

    /// <summary>One workgroup per listed tile, the count read by the GPU from the arguments the input transform wrote.</summary>
    public void DispatchFixups()
    {
        GL gl = context.Gl;
        _list.Bind(6);
        gl.MemoryBarrier(MemoryBarrierMask.CommandBarrierBit | MemoryBarrierMask.ShaderStorageBarrierBit);
        gl.BindBuffer(BufferTargetARB.DispatchIndirectBuffer, _arguments.Handle);
        gl.DispatchComputeIndirect(0);
        gl.BindBuffer(BufferTargetARB.DispatchIndirectBuffer, 0);
    }

    public void Dispose()
    {
        _arguments.Dispose();
        _flags.Dispose();
        _list.Dispose();
        Transformed.Dispose();
        Products.Dispose();
    }
}
