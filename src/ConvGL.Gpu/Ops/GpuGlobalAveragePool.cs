using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="GlobalAveragePool.Apply"/> (shaders/global_avgpool.comp): (C, H, W) -> (C, 1, 1).</summary>
public sealed class GpuGlobalAveragePool(GlContext context) : IDisposable
{
    private GlProgram? _program;
    private ScratchTensors? _scratch;

    public void Run(GpuTensor input, GpuTensor output)
    {
        context.CheckThread();
        context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "global average pool");
        output.Resize(input.C, 1, 1);
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
    }
}
