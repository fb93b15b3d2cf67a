using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Resize2D.Apply"/> (shaders/resize.comp): every plane of a (C, H, W) tensor
/// resized by <see cref="Options"/>; one program per (mode, coordinates, rounding, vec4 stores, exact-2x path, 32-byte stores), made on first use and kept.</summary>
public sealed class GpuResize(GlContext context, ResizeOptions options) : IDisposable
{
    private readonly Dictionary<(ResizeMode, ResizeCoordinates, ResizeRounding, bool, bool, bool), GlProgram> _programs = [];
    private ScratchTensors? _scratch;

    public ResizeOptions Options { get; set; } = options;

    /// <summary>Whether the last run took the exact-2x linear path (resize.comp's UP2), for tests and the bench.</summary>
    public bool LastUp2 { get; private set; }

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
        // Four outputs of a row per invocation; one vec4 store where output rows are whole vec4s. Linear, half-pixel, exactly
        // 2x on both axes with input rows of whole vec4s (U-Net and FPN upsampling): 8 outputs per invocation from 3
        // rgba32f texels of each of two input rows (resize.comp's UP2), one 32-byte store where the driver has them.
        bool vec4 = ow % 4 == 0;
        bool up2 = o.Mode == ResizeMode.Linear && sx == 2.0 && sy == 2.0 && ow == 2 * input.W && oh == 2 * input.H && input.W % 4 == 0 &&
                   (o.Coordinates == ResizeCoordinates.HalfPixel || (o.Coordinates == ResizeCoordinates.PytorchHalfPixel && ow > 1 && oh > 1));
        bool u64 = up2 && context.WideStores;
        var key = (o.Mode, o.Coordinates, o.Rounding, vec4, up2, u64);
        if (!_programs.TryGetValue(key, out GlProgram? p))
            _programs[key] = p = context.Shaders.Compute("resize.comp", ("MODE", (int)o.Mode), ("COORDINATES", (int)o.Coordinates), ("ROUNDING", (int)o.Rounding), ("VEC4_STORES", vec4 ? 1 : 0),
                ("UP2", up2 ? 1 : 0), ("U64_STORES", u64 ? 1 : 0));
        LastUp2 = up2;
        ComputeOp.BeforeTexelReads(gl);
        p.Use();
        gl.Uniform2(p.Uniform("u_in_size"), input.W, input.H);
        gl.Uniform2(p.Uniform("u_out_size"), ow, oh);
        gl.Uniform2(p.Uniform("u_scale"), sx, sy);
        gl.Uniform1(p.Uniform("u_cubic_a"), o.CubicA);
        gl.Uniform1(p.Uniform("u_exclude"), o.ExcludeOutside ? 1 : 0);
        input.Buffer.BindTexelView(ComputeOp.InputUnit);
        if (up2) input.Buffer.BindTexelView(ComputeOp.InputUnit + 1, vec4: true);
        output.Buffer.Bind(3);
        p.DispatchCovering(up2 ? input.W / 4 : (ow + 3) / 4, oh, input.C);
        ComputeOp.Barrier(gl);
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(context, "resize");
        return _scratch.Apply(input, Run);
    }

    public void Dispose() => _scratch?.Dispose();
}
