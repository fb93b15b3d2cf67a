using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="GlobalAveragePool.Apply"/> (shaders/global_avgpool.comp): (C, H, W) -> (C, 1, 1).</summary>
public sealed class GpuGlobalAveragePool(GlContext context) : IDisposable
{
    private GlProgram? _program;
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
        Variant = "global_avgpool: a workgroup per plane";
        _program ??= context.Shaders.Compute("global_avgpool.comp");
        GL gl = context.Gl;
        GlProgram p = _program;
        p.Use();
        gl.Uniform1(p.Uniform("u_planes"), input.C);
        gl.Uniform1(p.Uniform("u_plane"), input.H * input.W);
        input.Buffer.Bind(0);
        output.Buffer.Bind(3);
        p.DispatchCovering(input.C * 64, 1, 1);
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
