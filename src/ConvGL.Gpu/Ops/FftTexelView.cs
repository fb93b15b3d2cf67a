using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>A buffer texture over a <see cref="GlBuffer"/>, bound as an image unit, so a shader reads it with
/// imageLoad: on llvmpipe image loads are vector gathers where SSBO loads with per-invocation addresses are
/// scalar loops (../shared/PERF-NOTES.md). The texture object is made once; <see cref="Bind"/> re-attaches the
/// buffer every time, since the buffer may have been reallocated (a tensor's Resize) since the last use.</summary>
internal sealed class FftTexelView : IDisposable
{
    private readonly GlContext _context;
    private uint _texture;

    public FftTexelView(GlContext context, string label)
    {
        _context = context;
        GL gl = context.Gl;
        _texture = gl.GenTexture();
        gl.BindTexture(TextureTarget.TextureBuffer, _texture);
        context.ObjectCreated(ObjectIdentifier.Texture, _texture, label);
    }

    /// <summary>Views <paramref name="buffer"/> as texels of <paramref name="format"/> (R32f, RG32f or RGBA32f)
    /// on image unit <paramref name="unit"/>.</summary>
    public void Bind(GlBuffer buffer, uint unit, SizedInternalFormat format, BufferAccessARB access)
    {
        GL gl = _context.Gl;
        gl.BindTexture(TextureTarget.TextureBuffer, _texture);
        gl.TexBuffer(TextureTarget.TextureBuffer, format, buffer.Handle);
        gl.BindImageTexture(unit, _texture, 0, false, 0, access, (InternalFormat)format);
    }

    public void Dispose()
    {
        uint t = _texture;
        _texture = 0;
        if (t != 0) _context.EnqueueDisposal(ObjectIdentifier.Texture, g => g.DeleteTexture(t));
    }
}
