using ConvGL.Core.Stacks;
using ConvGL.Gpu.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Stacks;

/// <summary>The GPU twin of <see cref="Magnitude.Apply"/> (shaders/magnitude.comp): sqrt(a^2 + b^2) of channel pairs.</summary>
public sealed class GpuMagnitude(GlContext context)
{
    private GlProgram? _program;

    public void Run(GpuTensor input, GpuTensor output)
    {
        context.CheckThread();
        context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "magnitude");
        if (input.C % 2 != 0) throw new ArgumentException($"magnitude needs an even channel count, got {input.ShapeString}");
        output.Resize(input.C / 2, input.H, input.W);
        _program ??= context.Shaders.Compute("magnitude.comp");
        GL gl = context.Gl;
        GlProgram p = _program;
        int n = output.Length;
        p.Use();
        gl.Uniform1(p.Uniform("u_plane"), input.H * input.W);
        gl.Uniform1(p.Uniform("u_count"), n);
        input.Buffer.Bind(0);
        output.Buffer.Bind(3);
        p.DispatchFlat(n);
        ComputeOp.Barrier(gl);
    }
}
