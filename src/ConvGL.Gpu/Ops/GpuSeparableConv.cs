using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>A rank-1 depthwise filter K = column * row^T: kH + kW taps per output instead of kH * kW. Equal to
/// <see cref="Conv2D.Filter"/> with the outer-product kernel for every option: the border maps each axis independently
/// (see shaders/separable.comp's comment). Planned once per (input shape, options, kernel) (<see cref="ConvPlan"/>):
/// - separable_fast.comp, one pass, when the y stride and dilation are 1 (image filters): each invocation filters the
///   input rows of a block of 4 output rows along x once and combines them down the column, no intermediate tensor;
/// - else two passes, a 1 x kW then a kH x 1 depthwise kernel on conv2d_depthwise.comp (the row pass owns the x stride,
///   dilation and padding and keeps all input rows, the column pass owns the y ones);
/// - or separable.comp (one output per invocation) where the plan keeps the straightforward shader (small outputs,
///   driver limits). <see cref="ConvOptions.Groups"/> is ignored: every channel is filtered alone, as Conv2D.Filter
///   does.</summary>
public sealed class GpuSeparableConv : IDisposable
{
    private readonly GlContext _context;
    private readonly GlBuffer _column;
    private readonly GlBuffer _row;
    private readonly GlBuffer _bias;
    private readonly GpuTensor _temp;
    private readonly GlBuffer _rowParams, _columnParams;
    private ConvOptions _options;
    private GlProgram? _rowProgram, _columnProgram;
    private ConvPlan? _rowPlan, _columnPlan, _fusedPlan;
    private (int C, int H, int W) _plannedFor;
    private float[] _columnData = [], _rowData = [], _biasData = [];
    private bool _hasBias;
    private ScratchTensors? _scratch;
    // Programs with this kernel compiled in (ConvPlan.LiteralFilter).
    private readonly OwnedPrograms _literalFilters;

    /// <summary>For tests: false keeps the kernel in the uniform block on a software rasteriser too (the programs a real
    /// GPU runs), where <see cref="ConvPlan.LiteralFilter"/> would compile it in.</summary>
    internal bool LiteralFilters
    {
        get;
        set
        {
            field = value;
            _rowPlan = _columnPlan = _fusedPlan = null;
        }
    } = true;

    /// <summary>For tests: how many programs with this kernel compiled in the op holds.</summary>
    internal int LiteralFilterPrograms => _literalFilters.Count;

    /// <summary>Splits a rank-1 (kH, kW) kernel into column and row vectors with K[i, j] = column[i] * row[j]
    /// (box, Gaussian, Sobel, Scharr, Prewitt are rank 1; Laplacian, LoG, Gabor are not): Core's
    /// <see cref="Separable.TryFactor"/> (the one definition the CPU path uses too), rounded to float32 for upload.</summary>
    public static bool TryFactor(Tensor kernel, out float[] column, out float[] row, float tolerance = (float)Separable.DefaultTolerance)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        bool ok = Separable.TryFactor(kernel, out double[] c, out double[] r, tolerance);
        column = ok ? Array.ConvertAll(c, v => (float)v) : new float[kernel.H];
        row = ok ? Array.ConvertAll(r, v => (float)v) : new float[kernel.W];
        return ok;
    }

    /// <summary>The shader variant of the last <see cref="Run"/>, for the bench table and the HUD.</summary>
    public string Variant => _fusedPlan is not null ? _fusedPlan.Variant
        : _rowPlan is null || _columnPlan is null ? "(not run yet)"
        : _rowPlan.Direct || _columnPlan.Direct ? "separable: 1 output/invocation, 2 passes"
        : $"separable: 1xK row + Kx1 column pass, each {_rowPlan.Variant}";

    /// <summary>For tests: force separable.comp (Direct), the conv2d_depthwise.comp passes (Fast) or the separable_fast.comp
    /// pass (Fused) wherever they apply.</summary>
    internal ConvPath Choice
    {
        get;
        set
        {
            field = value;
            _rowPlan = _columnPlan = _fusedPlan = null;
        }
    }

    public int KernelHeight { get; private set; }
    public int KernelWidth { get; private set; }

    public GpuSeparableConv(GlContext context, float[] column, float[] row, ConvOptions? options = null, float[]? bias = null)
    {
        _context = context;
        _column = new GlBuffer(context, "separable column kernel");
        _row = new GlBuffer(context, "separable row kernel");
        _bias = new GlBuffer(context, "separable bias");
        _rowParams = new GlBuffer(context, "separable row pass packed kernel");
        _columnParams = new GlBuffer(context, "separable column pass packed kernel");
        _temp = new GpuTensor(context, label: "separable row-pass result");
        _literalFilters = new OwnedPrograms(context);
        _options = options ?? new ConvOptions();
        SetKernel(column, row, bias);
    }

    public ConvOptions Options
    {
        get => _options;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Mode != _options.Mode || value.Border != _options.Border) _rowProgram = _columnProgram = null;
            if (value != _options) _rowPlan = _columnPlan = _fusedPlan = null;
            _options = value;
        }
    }

    /// <summary>Uploads the column (kH) and row (kW) vectors, and an optional bias per channel (used only with
    /// that many channels).</summary>
    public void SetKernel(float[] column, float[] row, float[]? bias = null)
    {
        ArgumentNullException.ThrowIfNull(column);
        ArgumentNullException.ThrowIfNull(row);
        if (column.Length < 1 || row.Length < 1) throw new ConvGLException($"separable kernel needs at least one tap per axis, got {column.Length}x{row.Length}");
        _column.Write(column);
        _row.Write(row);
        if (bias is not null) _bias.Write(bias);
        if (_hasBias != bias is not null) _columnProgram = null;
        _hasBias = bias is not null;
        BiasLength = bias?.Length ?? 0;
        (KernelHeight, KernelWidth) = (column.Length, row.Length);
        (_columnData, _rowData, _biasData) = ((float[])column.Clone(), (float[])row.Clone(), bias is null ? [] : (float[])bias.Clone());
        _rowPlan = _columnPlan = _fusedPlan = null;
        _literalFilters.Clear();
    }

    private int BiasLength { get; set; }

    public void Run(GpuTensor input, GpuTensor output)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "separable conv");
        if (_hasBias && BiasLength != input.C)
            throw new ConvGLException($"separable conv bias has {BiasLength} entries, the input has {input.C} channels");
        ConvGeometry g = ConvGeometry.Compute(input.H, input.W, KernelHeight, KernelWidth, _options);
        int c = input.C;
        if ((_fusedPlan is null && _rowPlan is null) || _plannedFor != (input.C, input.H, input.W))
        {
            _plannedFor = (input.C, input.H, input.W);
            _rowPlan = _columnPlan = null;
            _fusedPlan = ConvPlan.CreateSeparable(_context, input, _columnData, _rowData, _hasBias ? _biasData : null, _options, g, _rowParams, Choice, LiteralFilters ? _literalFilters.Get : null);
            if (_fusedPlan is null) PlanPasses(input, g);
        }
        if (_fusedPlan is not null)
        {
            output.Resize(c, g.Y.Output, g.X.Output);
            _fusedPlan.Run(input, output, _rowParams);
            return;
        }
        if (!_rowPlan!.Direct && !_columnPlan!.Direct)
        {
            _temp.Resize(c, input.H, g.X.Output);
            _rowPlan.Run(input, _temp, _rowParams);
            output.Resize(c, g.Y.Output, g.X.Output);
            _columnPlan.Run(_temp, output, _columnParams);
            return;
        }
        int border = (int)_options.Border, convolve = _options.Mode == ConvMode.Convolve ? 1 : 0;
        _rowProgram ??= _context.Shaders.Compute("separable.comp", ("AXIS", 0), ("BORDER", border), ("CONVOLVE", convolve), ("HAS_BIAS", 0));
        _columnProgram ??= _context.Shaders.Compute("separable.comp", ("AXIS", 1), ("BORDER", border), ("CONVOLVE", convolve), ("HAS_BIAS", _hasBias ? 1 : 0));

        // Row pass: (C, H, W) -> (C, H, W_out), every input row kept so the column pass can apply the y border.
        _temp.Resize(c, input.H, g.X.Output);
        Pass(_rowProgram, input, _row, _temp, KernelWidth, _options.StrideX, _options.DilationX, g.X.PadBefore);
        // Column pass: (C, H, W_out) -> (C, H_out, W_out).
        output.Resize(c, g.Y.Output, g.X.Output);
        Pass(_columnProgram, _temp, _column, output, KernelHeight, _options.StrideY, _options.DilationY, g.Y.PadBefore);
    }

    /// <summary>The two passes as depthwise convs: a (C, 1, 1, kW) kernel with the x options over every input row, then a
    /// (C, 1, kH, 1) kernel with the y options and the bias over every row-pass column.</summary>
    private void PlanPasses(GpuTensor input, ConvGeometry g)
    {
        int c = input.C;
        Tensor rowWeight = Conv2D.DepthwiseWeight(new Tensor([1, KernelWidth], _rowData), c);
        Tensor columnWeight = Conv2D.DepthwiseWeight(new Tensor([KernelHeight, 1], _columnData), c);
        ConvOptions rowOptions = _options with { Groups = c, StrideY = 1, DilationY = 1 };
        ConvOptions columnOptions = _options with { Groups = c, StrideX = 1, DilationX = 1 };
        var keepRows = new AxisGeometry(0, 0, input.H);
        var keepColumns = new AxisGeometry(0, 0, g.X.Output);
        _rowPlan = ConvPlan.Create(_context, input, rowWeight.Shape, rowWeight.Data, null, rowOptions, _rowParams, Choice, new ConvGeometry(keepRows, g.X), literals: LiteralFilters ? _literalFilters.Get : null);
        _temp.Resize(c, input.H, g.X.Output);
        _columnPlan = ConvPlan.Create(_context, _temp, columnWeight.Shape, columnWeight.Data, _hasBias ? _biasData : null,
            columnOptions, _columnParams, Choice, new ConvGeometry(g.Y, keepColumns), literals: LiteralFilters ? _literalFilters.Get : null);
    }

    private void Pass(GlProgram p, GpuTensor input, GlBuffer kernel, GpuTensor output, int k, int stride, int dilation, int pad)
    {
        GL gl = _context.Gl;
        p.Use();
        gl.Uniform3(p.Uniform("u_in_shape"), input.C, input.H, input.W);
        gl.Uniform3(p.Uniform("u_out_shape"), output.C, output.H, output.W);
        gl.Uniform1(p.Uniform("u_k"), k);
        gl.Uniform1(p.Uniform("u_stride"), stride);
        gl.Uniform1(p.Uniform("u_dilation"), dilation);
        gl.Uniform1(p.Uniform("u_pad"), pad);
        input.Buffer.Bind(0);
        kernel.Bind(1);
        _bias.Bind(2);
        output.Buffer.Bind(3);
        p.DispatchCovering(output.W, output.H, output.C);
        ComputeOp.Barrier(gl);
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(_context, "separable");
        return _scratch.Apply(input, Run);
    }

    public void Dispose()
    {
        _column.Dispose();
        _row.Dispose();
        _bias.Dispose();
        _rowParams.Dispose();
        _columnParams.Dispose();
        _temp.Dispose();
        _scratch?.Dispose();
        _literalFilters.Clear();
    }
}
