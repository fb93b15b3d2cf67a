using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Resize2D.Apply"/> (shaders/resize.comp): every plane of a (C, H, W) tensor
/// resized by <see cref="Options"/>; one program per (mode, coordinates, rounding, vec4 stores), made on first use and kept.</summary>
public sealed class GpuResize(GlContext context, ResizeOptions options) : IDisposable
{
    private readonly Dictionary<(ResizeMode, ResizeCoordinates, ResizeRounding, bool), GlProgram> _programs = [];
    private ScratchTensors? _scratch;

    public ResizeOptions Options { get; set; } = options;

    public void Run(GpuTensor input, GpuTensor output)
    {
        context.CheckThread();
        context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "resize");
        ResizeOptions o = Options;
        (int oh, int ow) = Resize2D.OutputSize(input.H, input.W, o);
        if ((long)input.C * oh * ow > Limits.StackMapValues)
            throw new ConvGLException($"resize {o} makes {input.C} maps of {ow}x{oh}, more than {Limits.StackMapValues} values");
        GL gl = context.Gl;
        if (input.Length > ComputeOp.MaxTexelViewFloats(gl))
            throw new ConvGLException($"resize: an input of {input.Length} values is beyond this driver's texel-buffer size ({ComputeOp.MaxTexelViewFloats(gl)})");
        (double sy, double sx) = Resize2D.Scales(input.H, input.W, o);
        output.Resize(input.C, oh, ow);
        // Four outputs of a row per invocation; one vec4 store where output rows are whole vec4s.
        bool vec4 = ow % 4 == 0;
        var key = (o.Mode, o.Coordinates, o.Rounding, vec4);
        if (!_programs.TryGetValue(key, out GlProgram? p))
            _programs[key] = p = context.Shaders.Compute("resize.comp", ("MODE", (int)o.Mode), ("COORDINATES", (int)o.Coordinates), ("ROUNDING", (int)o.Rounding), ("VEC4_STORES", vec4 ? 1 : 0));
        ComputeOp.BeforeTexelReads(gl);
        p.Use();
        gl.Uniform2(p.Uniform("u_in_size"), input.W, input.H);
        gl.Uniform2(p.Uniform("u_out_size"), ow, oh);
        gl.Uniform2(p.Uniform("u_scale"), sx, sy);
        gl.Uniform1(p.Uniform("u_cubic_a"), o.CubicA);
        gl.Uniform1(p.Uniform("u_exclude"), o.ExcludeOutside ? 1 : 0);
        input.Buffer.BindTexelView(ComputeOp.InputUnit);
        output.Buffer.Bind(3);
        p.DispatchCovering((ow + 3) / 4, oh, input.C);
        ComputeOp.Barrier(gl);
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(context, "resize");
        return _scratch.Apply(input, Run);
    }

    public void Dispose() => _scratch?.Dispose();
}
