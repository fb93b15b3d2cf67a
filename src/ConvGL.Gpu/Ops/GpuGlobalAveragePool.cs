using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="GlobalAveragePool.Apply"/> (shaders/global_avgpool.comp): (C, H, W) -> (C, 1, 1).</summary>
public sealed class GpuGlobalAveragePool(GlContext context) : IDisposable
{
    // global_avgpool.comp: [0] a workgroup per plane (storage-block loads), [1] an invocation per plane (texel view).
    private readonly GlProgram?[] _programs = new GlProgram?[2];
    private ScratchTensors? _scratch;
    private PlaneStats? _stats;

    /// <summary>The path of the last <see cref="Run"/>: one workgroup per plane, or chunked statistics for big planes.</summary>
    public string Variant { get; private set; } = "(not run yet)";

    /// <summary>For tests: <see cref="ConvPath.Direct"/> forces global_avgpool.comp whatever the plane size.</summary>
    internal ConvPath Choice { get; set; }

    public void Run(GpuTensor input, GpuTensor output)
    {
        context.CheckThread();
        context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "global average pool");
        output.Resize(input.C, 1, 1);
        if (Choice != ConvPath.Direct && PlaneStats.Worth(input.H * input.W) && input.Length <= ComputeOp.MaxTexelViewFloats(context.Gl) && input.C <= 65535)
        {
            Variant = "plane_stats: chunked";
            (_stats ??= new PlaneStats(context)).Run(input, input.H * input.W, 0, null, 1, 0f, output.Buffer);
            return;
        }
        GL gl = context.Gl;
        // Planes up to a chunk: one invocation per plane through a texel view, unless a test forces the workgroup form.
        bool perPlane = Choice != ConvPath.Direct && input.Length <= ComputeOp.MaxTexelViewFloats(gl);
        long loops = perPlane ? (long)input.H * input.W : (long)input.H * input.W / 64 + 8;
        if (ComputeOp.PastLoopLimit(context, loops)) throw ComputeOp.LoopLimitError(context, "global average pool", loops, $"planes of {input.H}x{input.W}");
        Variant = perPlane ? "global_avgpool: an invocation per plane" : "global_avgpool: a workgroup per plane";
        GlProgram p = _programs[perPlane ? 1 : 0] ??= context.Shaders.Compute("global_avgpool.comp", ("PER_PLANE", perPlane ? 1 : 0));
        p.Use();
        gl.Uniform1(p.Uniform("u_planes"), input.C);
        gl.Uniform1(p.Uniform("u_plane"), input.H * input.W);
        if (perPlane)
        {
            ComputeOp.BeforeTexelReads(gl);
            input.Buffer.BindTexelView(ComputeOp.InputUnit);
        }
        else input.Buffer.Bind(0);
        output.Buffer.Bind(3);
        p.DispatchCovering(perPlane ? input.C : input.C * 64, 1, 1);
        ComputeOp.Barrier(gl);
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(context, "global avgpool");
        return _scratch.Apply(input, Run);
    }

    public void Dispose()
    {
        _scratch?.Dispose();
        _stats?.Dispose();
    }
}
