using ConvGL.Core;
using ConvGL.Core.Onnx;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Onnx;

/// <summary>The GPU twin of <see cref="ImagePreprocess.Apply"/> (shaders/image_preprocess.comp): a (3, h, w) RGB
/// source in [0, 1] to the model's (3, H, W) input. The mean image is uploaded once.</summary>
public sealed class GpuImagePreprocess : IDisposable
{
    private readonly GlContext _context;
    private readonly GlBuffer _mean;
    private GlProgram? _program;

    public ImagePreprocess Preprocess { get; }

    public GpuImagePreprocess(GlContext context, ImagePreprocess preprocess)
    {
        _context = context;
        Preprocess = preprocess;
        _mean = new GlBuffer(context, "preprocess mean image", preprocess.Mean.Length);
        _mean.Write(preprocess.Mean.Data);
    }

    public void Run(GpuTensor input, GpuTensor output)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        ImagePreprocess p = Preprocess;
        if (input.C != p.Channels)
            throw new ConvGLException($"{p.Source}: preprocessing takes a {p.Channels}-channel {(p.Channels == 1 ? "gray" : "RGB")} image, got {input.ShapeString}");
        if (ReferenceEquals(input, output)) throw new ArgumentException("preprocessing cannot run in place");
        output.Resize(p.Channels, p.Height, p.Width);
        (double top, double left, double scale) = p.Crop(input.H, input.W);
        _program ??= _context.Shaders.Compute("image_preprocess.comp");
        GL gl = _context.Gl;
        GlProgram prog = _program;
        prog.Use();
        gl.Uniform1(prog.Uniform("u_in_h"), input.H);
        gl.Uniform1(prog.Uniform("u_in_w"), input.W);
        gl.Uniform1(prog.Uniform("u_out_h"), p.Height);
        gl.Uniform1(prog.Uniform("u_out_w"), p.Width);
        gl.Uniform1(prog.Uniform("u_top"), (float)top);
        gl.Uniform1(prog.Uniform("u_left"), (float)left);
        gl.Uniform1(prog.Uniform("u_inv_scale"), (float)(1 / scale));
        gl.Uniform1(prog.Uniform("u_pixel_scale"), p.PixelScale);
        gl.Uniform1(prog.Uniform("u_channels"), p.Channels);
        int Order(int c) => c < p.Channels ? p.ChannelOrder[c] : 0; // a gray model's one channel: the rest unused
        gl.Uniform3(prog.Uniform("u_order"), Order(0), Order(1), Order(2));
        input.Buffer.Bind(0);
        _mean.Bind(1);
        output.Buffer.Bind(3);
        prog.DispatchCovering(p.Width, p.Height, 1);
        Ops.ComputeOp.Barrier(gl);
    }

    public void Dispose() => _mean.Dispose();
}
