using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Present;

/// <summary>An RGBA8 texture -> a (1, H, W) gray (BT.601) or (3, H, W) RGB tensor with values in [0, 1]
/// (shaders/present/image_to_tensor.comp): the first step of every live frame.</summary>
public sealed class ImageToTensor
{
    private readonly GlContext _context;
    // [vec4 * 2 + gray]: rgb, gray, and each 4 pixels per invocation (rows a multiple of 4 wide); looked up once, not per
    // frame (the library's lookup builds a key string).
    private readonly GlProgram?[] _programs = new GlProgram?[4];

    public ImageToTensor(GlContext context) => _context = context;

    public void Run(GpuImage image, GpuTensor output, bool gray, bool flipY = false) =>
        Run(image.Handle, image.Width, image.Height, output, gray, flipY);

    /// <summary>Any RGBA8 (or other normalised) 2D texture by handle, e.g. one the window owns.</summary>
    public void Run(uint texture, int width, int height, GpuTensor output, bool gray, bool flipY = false)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        output.Resize(gray ? 1 : 3, height, width);
        bool vec4 = width % 4 == 0;
        GlProgram p = _programs[(vec4 ? 2 : 0) + (gray ? 1 : 0)] ??=
            _context.Shaders.Compute("present/image_to_tensor.comp", ("GRAY", gray ? 1 : 0), ("VEC4", vec4 ? 1 : 0));
        GL gl = _context.Gl;
        p.Use();
        gl.Uniform2(p.Uniform("u_size"), width, height);
        gl.Uniform1(p.Uniform("u_flip_y"), flipY ? 1 : 0);
        gl.ActiveTexture(TextureUnit.Texture0);
        gl.BindTexture(TextureTarget.Texture2D, texture);
        output.Buffer.Bind(3);
        p.DispatchCovering(vec4 ? width / 4 : width, height, 1);
        gl.MemoryBarrier(MemoryBarrierMask.ShaderStorageBarrierBit | MemoryBarrierMask.BufferUpdateBarrierBit);
    }
}
