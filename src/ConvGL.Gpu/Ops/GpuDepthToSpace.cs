using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="DepthToSpace"/> (shaders/depth_to_space.comp): depth to space (DCR or CRD) or
/// space to depth with a block size, on a batch of <see cref="Run"/>'s images stored as (N C, H, W).</summary>
public sealed class GpuDepthToSpace(GlContext context, int block, bool toSpace, DepthToSpaceMode mode = DepthToSpaceMode.Dcr) : IDisposable
{
    private GlProgram? _program;
    private ScratchTensors? _scratch;

    public int Block { get; } = block;
    public bool ToSpace { get; } = toSpace;
    public DepthToSpaceMode Mode { get; } = mode;

    /// <summary><paramref name="images"/> images of <paramref name="channels"/> channels each, stored as (N C, H, W).</summary>
    public void Run(GpuTensor input, GpuTensor output, int images, int channels)
    {
        context.CheckThread();
        context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, ToSpace ? "depth_to_space" : "space_to_depth");
        if (images < 1 || (long)images * channels != input.C) throw new ArgumentException($"{images} images of {channels} channels do not make {input.ShapeString}");
        (int c, int h, int w) = DepthToSpace.OutputShape(channels, input.H, input.W, Block, ToSpace);
        GL gl = context.Gl;
        if (input.Length > ComputeOp.MaxTexelViewFloats(gl))
            throw new ConvGLException($"depth_to_space: an input of {input.Length} values is beyond this driver's texel-buffer size");
        output.Resize(images * c, h, w);
        GlProgram p = _program ??= context.Shaders.Compute("depth_to_space.comp", ("MODE", ToSpace ? (int)Mode : 2));
        ComputeOp.BeforeTexelReads(gl);
        p.Use();
        gl.Uniform3(p.Uniform("u_in_size"), input.W, input.H, channels);
        gl.Uniform3(p.Uniform("u_out_size"), w, h, c);
        gl.Uniform1(p.Uniform("u_block"), Block);
        input.Buffer.BindTexelView(ComputeOp.InputUnit);
        output.Buffer.Bind(3);
        p.DispatchCovering(w, h, images * c);
        ComputeOp.Barrier(gl);
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(context, "depth_to_space");
        return _scratch.Apply(input, (i, o) => Run(i, o, 1, input.C));
    }

    public void Dispose() => _scratch?.Dispose();
}
