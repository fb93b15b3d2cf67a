using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Attention.Apply"/> (shaders/attention.comp): q (Cq, Hq, Wq), k (Cq, Hk, Wk), v
/// (Cv, Hk, Wk) -> (Cv, Hq, Wq), one pass over the keys per query position with an online softmax, in one or more heads
/// (a dispatch's z). A program per query channel count a head (compile-time, so small queries stay in registers), made on
/// first use and kept.</summary>
public sealed class GpuAttention(GlContext context) : IDisposable
{
    private readonly Dictionary<(int Cq, int Vb, int Qb), GlProgram> _programs = [];
    private GlProgram? _last;

    /// <summary>The program of the last <see cref="Run"/>.</summary>
    public string Variant { get; private set; } = "(not run yet)";

    /// <summary>Value channels one invocation accumulates, in vec4s: 4 (16 channels, each logit computed once per 16) where v
    /// has that many, else as many as it has.</summary>
    internal static int VecsPerInvocation(int valueChannels) => Math.Clamp((valueChannels + 3) / 4, 1, 4);

    /// <summary>Queries one invocation takes: 4 where their values and accumulators fit in registers (small queries and
    /// few value vec4s), else 2 or 1. Each key's loads then serve them all.</summary>
    internal static int QueriesPerInvocation(int queryChannels, int vecs) =>
        queryChannels <= 8 && vecs <= 2 ? 4 : queryChannels <= 16 ? 2 : 1;

    public void Run(GpuTensor q, GpuTensor k, GpuTensor v, GpuTensor output, float scale, int heads = 1)
    {
        context.CheckThread();
        context.FlushDisposables();
        ComputeOp.CheckDistinct(q, output, "attention");
        ComputeOp.CheckDistinct(k, output, "attention");
        ComputeOp.CheckDistinct(v, output, "attention");
        Attention.CheckShapes("attention", (q.C, q.H, q.W), (k.C, k.H, k.W), (v.C, v.H, v.W), heads);
        GL gl = context.Gl;
        long most = ComputeOp.MaxTexelViewFloats(gl);
        if (q.Length > most || k.Length > most || v.Length > most)
            throw new GpuException($"attention: a map of {Math.Max(q.Length, Math.Max(k.Length, v.Length)):N0} values is past this driver's texel view limit ({most:N0}); run it on a smaller input or with --device cpu");
        int queries = q.H * q.W, keys = k.H * k.W, cq = q.C / heads, dv = v.C / heads;
        // The key loop, and above 32 query channels a head the dot product's loop inside it (8 channels an iteration).
        long loops = (long)keys * (cq > 32 ? 1 + (cq + 7) / 8 : 1);
        if (ComputeOp.PastLoopLimit(context, loops)) throw ComputeOp.LoopLimitError(context, "attention", loops, $"{keys:N0} key positions");
        output.Resize(v.C, q.H, q.W);
        int vb = VecsPerInvocation(dv), qb = QueriesPerInvocation(cq, vb);
        if (!_programs.TryGetValue((cq, vb, qb), out GlProgram? p))
            _programs[(cq, vb, qb)] = p = context.Shaders.Compute("attention.comp", ("CQ", cq), ("VB", vb), ("QB", qb));
        // (Made when the program changes, not every frame: a steady run allocates nothing.)
        if (!ReferenceEquals(p, _last))
        {
            _last = p;
            Variant = $"attention: {qb} queries x {4 * vb} value channels an invocation, queries {(cq <= 32 ? "in registers" : "read per key")}";
        }
        p.Use();
        gl.Uniform1(p.Uniform("u_queries"), queries);
        gl.Uniform1(p.Uniform("u_keys"), keys);
        gl.Uniform1(p.Uniform("u_dv"), dv);
        gl.Uniform1(p.Uniform("u_scale"), scale);
        ComputeOp.BeforeTexelReads(gl);
        q.Buffer.BindTexelView(0);
        k.Buffer.BindTexelView(1);
        v.Buffer.BindTexelView(2);
        output.Buffer.Bind(3);
        p.DispatchCovering((queries + qb - 1) / qb, (dv + 4 * vb - 1) / (4 * vb), heads);
        ComputeOp.Barrier(gl);
    }

    /// <summary>For tests: q, k and v uploaded, run, read back.</summary>
    public Tensor Apply(Tensor q, Tensor k, Tensor v, float scale, int heads = 1)
    {
        using var gq = GpuTensor.From(context, q, "attention q");
        using var gk = GpuTensor.From(context, k, "attention k");
        using var gv = GpuTensor.From(context, v, "attention v");
        using var o = new GpuTensor(context, 1, 1, 1, "attention output");
        Run(gq, gk, gv, o, scale, heads);
        return o.Download();
    }

    public void Dispose()
    {
        // Programs belong to the context's shader library (shared, disposed with it).
        _programs.Clear();
    }
}
