using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Gemm.Apply"/> (shaders/gemm.comp): Y = alpha * A' B' + beta * C, A and B 2D,
/// C broadcast to (M, N). Transposes are strides, not copies.</summary>
public sealed class GpuGemm(GlContext context) : IDisposable
{
    private GlProgram? _program, _programC;
    private GpuTensor? _scratchA, _scratchB, _scratchC, _scratchOut;

    public float Alpha { get; set; } = 1f;
    public float Beta { get; set; } = 1f;
    public bool TransA { get; set; }
    public bool TransB { get; set; }

    /// <summary>Writes Y (stored as (1, M, N), or as <paramref name="storage"/> when given) and returns (M, N).</summary>
    public (int M, int N) Run(GpuTensor a, int[] aShape, GpuTensor b, int[] bShape, GpuTensor? c, int[]? cShape, GpuTensor output,
        (int C, int H, int W)? storage = null)
    {
        context.CheckThread();
        context.FlushDisposables();
        if (aShape.Length != 2 || bShape.Length != 2)
            throw new ConvGLException($"gemm takes 2D A and B, got {Tensor.ShapeText(aShape)} and {Tensor.ShapeText(bShape)}");
        int m = TransA ? aShape[1] : aShape[0], k = TransA ? aShape[0] : aShape[1];
        int kb = TransB ? bShape[1] : bShape[0], n = TransB ? bShape[0] : bShape[1];
        if (k != kb) throw new ConvGLException($"gemm: A' is ({m}, {k}) but B' is ({kb}, {n}); the inner sizes must agree");
        (int ci, int cj) = (0, 0);
        if (c is not null)
        {
            int[] cs = cShape ?? throw new ArgumentNullException(nameof(cShape));
            // C broadcasts to (M, N): at most two dimensions, each the target's or 1 (checked without allocating: a
            // stack's linear layer runs this every frame).
            bool fits = cs.Length <= 2 && (cs.Length < 1 || cs[^1] == n || cs[^1] == 1) && (cs.Length < 2 || cs[0] == m || cs[0] == 1);
            if (!fits) throw new ConvGLException($"gemm: C {Tensor.ShapeText(cs)} does not broadcast to ({m}, {n})");
            int rows = cs.Length == 2 ? cs[0] : 1, cols = cs.Length >= 1 ? cs[^1] : 1;
            (ci, cj) = (rows == 1 ? 0 : cols, cols == 1 ? 0 : 1);
        }
        (int sc, int sh, int sw) = storage ?? (1, m, n);
        if ((long)sc * sh * sw != (long)m * n) throw new ArgumentException($"storage ({sc}, {sh}, {sw}) does not hold {m} x {n} values");
        long loops = k / 8 + 8;
        if (ComputeOp.PastLoopLimit(context, loops)) throw ComputeOp.LoopLimitError(context, "gemm", loops, $"an inner size of {k:N0}");
        output.Resize(sc, sh, sw);
        GlProgram p = c is null ? _program ??= context.Shaders.Compute("gemm.comp", ("HAS_C", 0))
            : _programC ??= context.Shaders.Compute("gemm.comp", ("HAS_C", 1));
        GL gl = context.Gl;
        p.Use();
        gl.Uniform3(p.Uniform("u_mnk"), m, n, k);
        // A is stored (rows, cols) = aShape: A'[i, p] is A[i, p] or, transposed, A[p, i].
        gl.Uniform2(p.Uniform("u_a_stride"), TransA ? 1 : aShape[1], TransA ? aShape[1] : 1);
        gl.Uniform2(p.Uniform("u_b_stride"), TransB ? 1 : bShape[1], TransB ? bShape[1] : 1);
        gl.Uniform2(p.Uniform("u_c_stride"), ci, cj);
        gl.Uniform1(p.Uniform("u_alpha"), Alpha);
        gl.Uniform1(p.Uniform("u_beta"), Beta);
        a.Buffer.Bind(0);
        b.Buffer.Bind(1);
        (c ?? a).Buffer.Bind(2);
        output.Buffer.Bind(3);
        p.DispatchCovering(n, m, 1);
        ComputeOp.Barrier(gl);
        return (m, n);
    }

    public Tensor Apply(Tensor a, Tensor b, Tensor? c)
    {
        _scratchA ??= new GpuTensor(context, label: "gemm scratch a");
        _scratchB ??= new GpuTensor(context, label: "gemm scratch b");
        _scratchC ??= new GpuTensor(context, label: "gemm scratch c");
        _scratchOut ??= new GpuTensor(context, label: "gemm scratch out");
        _scratchA.Upload(a.Reshape(1, 1, a.Length));
        _scratchB.Upload(b.Reshape(1, 1, b.Length));
        if (c is not null) _scratchC.Upload(c.Reshape(1, 1, Math.Max(1, c.Length)));
        (int m, int n) = Run(_scratchA, a.Shape, _scratchB, b.Shape, c is null ? null : _scratchC, c?.Shape, _scratchOut);
        return _scratchOut.Download().Reshape(m, n);
    }

    public void Dispose()
    {
        _scratchA?.Dispose();
        _scratchB?.Dispose();
        _scratchC?.Dispose();
        _scratchOut?.Dispose();
    }
}
