using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Lrn.Apply(Tensor, int, int)"/> (shaders/lrn.comp): one output per invocation, on
/// images of C planes stored as (N C, H, W).</summary>
public sealed class GpuLrn(GlContext context, Lrn parameters) : IDisposable
{
    private GlProgram? _program;
    private ScratchTensors? _scratch;

    public Lrn Parameters { get; } = parameters;

    /// <summary>Images of <paramref name="channels"/> planes each: input.C must be a multiple of it.</summary>
    public void Run(GpuTensor input, GpuTensor output, int channels)
    {
        context.CheckThread();
        context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "lrn");
        if (channels < 1 || input.C % channels != 0)
            throw new ConvGLException($"lrn over {channels} channels cannot take {input.ShapeString}");
        GL gl = context.Gl;
        if (input.Length > ComputeOp.MaxTexelViewFloats(gl))
            throw new ConvGLException($"lrn: an input of {input.Length} values is beyond this driver's texel-buffer size");
        output.Resize(input.C, input.H, input.W);
        GlProgram p = _program ??= context.Shaders.Compute("lrn.comp");
        ComputeOp.BeforeTexelReads(gl);
        p.Use();
        gl.Uniform1(p.Uniform("u_count"), input.Length);
        gl.Uniform1(p.Uniform("u_plane"), input.H * input.W);
        gl.Uniform1(p.Uniform("u_channels"), channels);
        // Clamped to C so that c + after cannot overflow for a huge size (the window is clipped to the channels anyway).
        gl.Uniform1(p.Uniform("u_before"), Math.Min(Parameters.Before, channels));
        gl.Uniform1(p.Uniform("u_after"), Math.Min(Parameters.After, channels));
        gl.Uniform1(p.Uniform("u_scale"), (float)(Parameters.Alpha / (double)Parameters.Size));
        gl.Uniform1(p.Uniform("u_bias"), Parameters.Bias);
        gl.Uniform1(p.Uniform("u_beta"), Parameters.Beta);
        input.Buffer.BindTexelView(ComputeOp.InputUnit);
        output.Buffer.Bind(3);
        if (input.Length > 0) p.DispatchFlat(input.Length);
        ComputeOp.Barrier(gl);
    }

    /// <summary>A (C, H, W) map.</summary>
    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(context, "lrn");
        return _scratch.Apply(input, (i, o) => Run(i, o, input.C));
    }

    public void Dispose() => _scratch?.Dispose();
}
