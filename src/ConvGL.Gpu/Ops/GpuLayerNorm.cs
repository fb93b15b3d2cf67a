using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="LayerNorm.Apply"/> (shaders/layer_norm.comp): one workgroup per row; also the
/// rows' means and inverse standard deviations (<see cref="RunStatistic"/>, ONNX's optional outputs). The parameters are
/// uploaded once per <see cref="SetParameters"/>.</summary>
public sealed class GpuLayerNorm : IDisposable
{
    // Workgroups per dispatch row: rows beyond it go to further dispatch rows (GL allows 65535 a side at least).
    private const int RowGroups = 4096;

    private readonly GlContext _context;
    private readonly GlBuffer _params;
    // Y, the means, the inverse standard deviations (layer_norm.comp's STATS 0, 1, 2), made on first use.
    private readonly GlProgram?[] _programs = new GlProgram?[3];
    private ScratchTensors? _scratch;
    private float _epsilon;

    /// <summary>Values per row.</summary>
    public int Length { get; private set; }

    public GpuLayerNorm(GlContext context, LayerNorm parameters)
    {
        _context = context;
        _params = new GlBuffer(context, "layernorm parameters");
        SetParameters(parameters);
    }

    public void SetParameters(LayerNorm parameters)
    {
        _params.Write([.. parameters.Scale, .. parameters.Shift]);
        Length = parameters.Length;
        _epsilon = parameters.Epsilon;
    }

    public void Run(GpuTensor input, GpuTensor output) => Dispatch(input, output, 0);

    /// <summary>LayerNormalization's optional outputs: each row's mean, or (<paramref name="invStdDev"/>) its
    /// 1 / sqrt(variance + epsilon), one value per row into <paramref name="output"/>, resized to (1, 1, rows).</summary>
    public void RunStatistic(GpuTensor input, GpuTensor output, bool invStdDev) => Dispatch(input, output, invStdDev ? 2 : 1);

    private void Dispatch(GpuTensor input, GpuTensor output, int stats)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "layernorm");
        if (input.Length % Length != 0)
            throw new ConvGLException($"layernorm over rows of {Length} values cannot take a tensor of {input.Length} values");
        int rows = input.Length / Length, groups = Math.Min(rows, RowGroups);
        if (stats == 0) output.Resize(input.C, input.H, input.W);
        else output.Resize(1, 1, rows);
        GL gl = _context.Gl;
        // Three strided passes over a row (mean, variance, output) by 64 invocations, and the two tree reductions.
        long loops = 3L * ((Length + 63) / 64) + 16;
        if (ComputeOp.PastLoopLimit(_context, loops)) throw ComputeOp.LoopLimitError(_context, "layernorm", loops, $"rows of {Length:N0} values");
        GlProgram p = _programs[stats] ??= _context.Shaders.Compute("layer_norm.comp", ("STATS", stats));
        p.Use();
        gl.Uniform1(p.Uniform("u_rows"), rows);
        gl.Uniform1(p.Uniform("u_length"), Length);
        gl.Uniform1(p.Uniform("u_row_groups"), groups);
        gl.Uniform1(p.Uniform("u_epsilon"), _epsilon);
        input.Buffer.Bind(0);
        _params.Bind(1);
        output.Buffer.Bind(3);
        p.DispatchCovering(groups * 64, (rows + groups - 1) / groups, 1);
        ComputeOp.Barrier(gl);
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(_context, "layernorm");
        return _scratch.Apply(input, Run);
    }

    public void Dispose()
    {
        _params.Dispose();
        _scratch?.Dispose();
    }
}
