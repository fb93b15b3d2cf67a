using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Present;

/// <summary>An RGBA8 2D texture (one mip level, immutable storage): a camera or file frame going in, a
/// presented feature map coming out. Row 0 is the image's top row (as uploaded from a file); a window that
/// draws it with GL's bottom-up texture coordinates flips v. Reallocated only when the size changes.</summary>
public sealed class GpuImage : IDisposable
{
    private readonly GlContext _context;
    private readonly string _label;
    private bool _disposed;

    public uint Handle { get; private set; }
    public int Width { get; private set; }
    public int Height { get; private set; }

    public GpuImage(GlContext context, int width, int height, string label = "image")
    {
        _context = context;
        _label = label;
        Resize(width, height);
    }

    public void Resize(int width, int height)
    {
        _context.CheckThread();
        if (width < 1 || height < 1) throw new ArgumentException($"image size {width}x{height} must be at least 1x1");
        if (Handle != 0 && width == Width && height == Height) return;
        GL gl = _context.Gl;
        if (Handle != 0)
        {
            uint old = Handle;
            _context.EnqueueDisposal(ObjectIdentifier.Texture, g => g.DeleteTexture(old));
        }
        // Immutable storage (glTexStorage2D) cannot change size, so a new size means a new texture.
        Handle = gl.GenTexture();
        gl.BindTexture(TextureTarget.Texture2D, Handle);
        gl.TexStorage2D(TextureTarget.Texture2D, 1, SizedInternalFormat.Rgba8, (uint)width, (uint)height);
        gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureMinFilter, (int)TextureMinFilter.Linear);
        gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureMagFilter, (int)TextureMagFilter.Nearest);
        gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureWrapS, (int)TextureWrapMode.ClampToEdge);
        gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureWrapT, (int)TextureWrapMode.ClampToEdge);
        _context.ObjectCreated(ObjectIdentifier.Texture, Handle, _label);
        (Width, Height) = (width, height);
    }

    /// <summary>Uploads tightly packed RGBA bytes, top row first, resizing if needed.</summary>
    public void Upload(ReadOnlySpan<byte> rgba, int width, int height)
    {
        if (rgba.Length != width * height * 4) throw new ArgumentException($"{width}x{height} RGBA needs {width * height * 4} bytes, got {rgba.Length}");
        Resize(width, height);
        GL gl = _context.Gl;
        gl.BindTexture(TextureTarget.Texture2D, Handle);
        gl.PixelStore(PixelStoreParameter.UnpackAlignment, 1);
        gl.TexSubImage2D(TextureTarget.Texture2D, 0, 0, 0, (uint)width, (uint)height, PixelFormat.Rgba, PixelType.UnsignedByte, rgba);
    }

    /// <summary>Reads the texture back as RGBA bytes, top row first. Stalls the pipeline: tests and file output only.</summary>
    public byte[] Download()
    {
        _context.CheckThread();
        GL gl = _context.Gl;
        var bytes = new byte[Width * Height * 4];
        gl.MemoryBarrier(MemoryBarrierMask.TextureUpdateBarrierBit);
        gl.BindTexture(TextureTarget.Texture2D, Handle);
        gl.PixelStore(PixelStoreParameter.PackAlignment, 1);
        gl.GetTexImage(TextureTarget.Texture2D, 0, PixelFormat.Rgba, PixelType.UnsignedByte, bytes.AsSpan());
        return bytes;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        uint h = Handle;
        Handle = 0;
        if (h != 0) _context.EnqueueDisposal(ObjectIdentifier.Texture, g => g.DeleteTexture(h));
    }
}
