using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Pad2D.Apply"/> (shaders/pad.comp): every plane of a (C, H, W) tensor padded or
/// cropped by <see cref="Options"/>. One program per border, compiled on first use and kept.</summary>
public sealed class GpuPad(GlContext context, PadOptions options) : IDisposable
{
    private readonly GlProgram?[] _programs = new GlProgram?[Enum.GetValues<Border>().Length];
    private ScratchTensors? _scratch;

    public PadOptions Options { get; set; } = options;

    public void Run(GpuTensor input, GpuTensor output)
    {
        context.CheckThread();
        context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "pad");
        PadOptions o = Options;
        (int oh, int ow) = Pad2D.OutputSize(input.H, input.W, o);
        if ((long)input.C * oh * ow > Limits.StackMapValues)
            throw new ConvGLException($"pad {o} makes {input.C} maps of {ow}x{oh}, more than {Limits.StackMapValues} values");
        GL gl = context.Gl;
        if (input.Length > ComputeOp.MaxTexelViewFloats(gl))
            throw new ConvGLException($"pad: an input of {input.Length} values is beyond this driver's texel-buffer size ({ComputeOp.MaxTexelViewFloats(gl)})");
        output.Resize(input.C, oh, ow);
        GlProgram p = _programs[(int)o.Border] ??= context.Shaders.Compute("pad.comp", ("BORDER", (int)o.Border));
        ComputeOp.BeforeTexelReads(gl);
        p.Use();
        (int row, int col, int top, int left) = Pad2D.Origin(o);
        (int keptH, int keptW) = Pad2D.Kept(input.H, input.W, o);
        gl.Uniform2(p.Uniform("u_in_size"), input.W, input.H);
        gl.Uniform2(p.Uniform("u_origin"), col, row);
        gl.Uniform2(p.Uniform("u_kept"), keptW, keptH);
        gl.Uniform2(p.Uniform("u_out_size"), ow, oh);
        gl.Uniform2(p.Uniform("u_offset"), left, top);
        gl.Uniform1(p.Uniform("u_value"), o.Value);
        input.Buffer.BindTexelView(ComputeOp.InputUnit);
        output.Buffer.Bind(3);
        if (output.Length > 0) p.DispatchCovering(ow, oh, input.C);
        ComputeOp.Barrier(gl);
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(context, "pad");
        return _scratch.Apply(input, Run);
    }

    public void Dispose() => _scratch?.Dispose();
}
