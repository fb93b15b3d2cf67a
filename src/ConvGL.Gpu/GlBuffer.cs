using System.Runtime.CompilerServices;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu;

/// <summary>One shader storage buffer of float32 values. Grows only when asked for more than it holds, so a
/// per-frame re-upload of the same shape never reallocates. Delete is queued to the GL thread.</summary>
internal sealed class GlBuffer : IDisposable
{
    private readonly GlContext _context;
    private readonly string _label;
    private bool _disposed;
    private readonly uint[] _texelViews = new uint[3];      // r32f, rgba32f, rg32f
    private readonly bool[] _texelViewsStale = new bool[3];

    public uint Handle { get; private set; }
    /// <summary>Floats allocated on the GPU (at least 1: GL rejects zero-size storage blocks).</summary>
    public int Capacity { get; private set; }

    public GlBuffer(GlContext context, string label, int floats = 1)
    {
        _context = context;
        _label = label;
        Reserve(floats);
    }

    /// <summary>Makes room for <paramref name="floats"/> values; contents are undefined after a growth.</summary>
    public void Reserve(int floats)
    {
        _context.CheckThread();
        floats = Math.Max(1, floats);
        if (Handle != 0 && floats <= Capacity) return;
        long bytes = (long)floats * sizeof(float);
        if (bytes > _context.MaxStorageBlockBytes)
            throw new GpuLimitException($"{_label}: {floats} floats ({bytes >> 20} MiB) exceed this driver's GL_MAX_SHADER_STORAGE_BLOCK_SIZE ({_context.MaxStorageBlockBytes >> 20} MiB)",
                bytes, _context.MaxStorageBlockBytes);
        GL gl = _context.Gl;
        if (Handle == 0)
        {
            Handle = gl.GenBuffer();
            gl.BindBuffer(BufferTargetARB.ShaderStorageBuffer, Handle);
            _context.ObjectCreated(ObjectIdentifier.Buffer, Handle, _label);
        }
        gl.BindBuffer(BufferTargetARB.ShaderStorageBuffer, Handle);
        unsafe { gl.BufferData(BufferTargetARB.ShaderStorageBuffer, (nuint)bytes, null, BufferUsageARB.DynamicCopy); }
        Capacity = floats;
        Array.Fill(_texelViewsStale, true);
    }

    public void Write(ReadOnlySpan<float> data, int offset = 0)
    {
        _context.CheckThread();
        if (offset + data.Length > Capacity) Reserve(offset + data.Length);
        GL gl = _context.Gl;
        gl.BindBuffer(BufferTargetARB.ShaderStorageBuffer, Handle);
        gl.BufferSubData(BufferTargetARB.ShaderStorageBuffer, offset * sizeof(float), data);
    }

    /// <summary>Reads values back; T is float for tensors, uint for the display range's ordered bits.</summary>
    public void Read<T>(Span<T> destination, int offset = 0) where T : unmanaged
    {
        if (Unsafe.SizeOf<T>() != sizeof(float)) throw new ArgumentException("buffers hold 4-byte values");
        _context.CheckThread();
        if (offset + destination.Length > Capacity)
            throw new ArgumentOutOfRangeException(nameof(destination), $"{_label}: reading {destination.Length} floats at {offset} from {Capacity}");
        GL gl = _context.Gl;
        // Shader writes become visible to glGetBufferSubData only after this barrier.
        gl.MemoryBarrier(MemoryBarrierMask.BufferUpdateBarrierBit);
        gl.BindBuffer(BufferTargetARB.ShaderStorageBuffer, Handle);
        gl.GetBufferSubData(BufferTargetARB.ShaderStorageBuffer, offset * sizeof(float), destination);
    }

    public void Bind(uint binding) => _context.Gl.BindBufferBase(BufferTargetARB.ShaderStorageBuffer, binding, Handle);

    /// <summary>Binds the buffer as a uniform block (the fast conv variants keep their weights there).</summary>
    public void BindUniform(uint binding) => _context.Gl.BindBufferBase(BufferTargetARB.UniformBuffer, binding, Handle);

    /// <summary>Binds this buffer's memory, as r32f texels (or rgba32f: floats 4t..4t+3 as texel t, when
    /// <paramref name="vec4"/>), to texture unit <paramref name="unit"/> (a GLSL <c>samplerBuffer</c>) and, read-only, to
    /// image unit <paramref name="unit"/> (a <c>readonly imageBuffer</c>): the same bytes, no copy. Both are vector gathers
    /// on llvmpipe, where an SSBO load with a per-lane address is a scalar loop (../shared/PERF-NOTES.md), and imageLoad is
    /// the cheaper of the two there (bench/README.md, "Image loads"); on GPUs both go through the texture cache. Each view
    /// is made once and re-attached after the storage grows.</summary>
    public void BindTexelView(uint unit, bool vec4 = false) => BindView(unit, vec4 ? 4 : 1);

    /// <summary>As <see cref="BindTexelView"/> with the rg32f view: 2 floats a texel.</summary>
    public void BindPairTexelView(uint unit) => BindView(unit, 2);

    private void BindView(uint unit, int floats)
    {
        GL gl = _context.Gl;
        gl.ActiveTexture(TextureUnit.Texture0 + (int)unit);
        gl.BindTexture(TextureTarget.TextureBuffer, View(floats));
        // Leave unit 0 active, as the rest of the code (presentation, the window) expects when it binds its textures.
        gl.ActiveTexture(TextureUnit.Texture0);
        BindImageViewOf(unit, floats);
    }

    /// <summary>Binds the view of <see cref="BindTexelView"/> to image unit <paramref name="unit"/> only, read-only.</summary>
    public void BindImageView(uint unit, bool vec4 = false) => BindImageViewOf(unit, vec4 ? 4 : 1);

    private void BindImageViewOf(uint unit, int floats) =>
        _context.Gl.BindImageTexture(unit, View(floats), 0, false, 0, BufferAccessARB.ReadOnly,
            floats switch { 4 => InternalFormat.Rgba32f, 2 => InternalFormat.RG32f, _ => InternalFormat.R32f });

    /// <summary>The r32f, rgba32f or rg32f buffer texture over this buffer, made on first use and re-attached after the
    /// storage grew.</summary>
    private uint View(int floats)
    {
        GL gl = _context.Gl;
        int v = floats switch { 1 => 0, 4 => 1, 2 => 2, _ => throw new ArgumentOutOfRangeException(nameof(floats)) };
        bool made = false;
        if (_texelViews[v] == 0)
        {
            _texelViews[v] = gl.GenTexture();
            _texelViewsStale[v] = made = true;
        }
        if (_texelViewsStale[v])
        {
            // Attaching needs the texture bound to a unit: the active one, whose binding is put back after.
            gl.GetInteger(GetPName.TextureBindingBuffer, out int held);
            gl.BindTexture(TextureTarget.TextureBuffer, _texelViews[v]);
            gl.TexBuffer(TextureTarget.TextureBuffer, v switch { 1 => SizedInternalFormat.Rgba32f, 2 => SizedInternalFormat.RG32f, _ => SizedInternalFormat.R32f }, Handle);
            gl.BindTexture(TextureTarget.TextureBuffer, (uint)held);
            _texelViewsStale[v] = false;
            // Labelled once bound: a name from glGenTextures is no object (glObjectLabel fails) until then.
            if (made) _context.ObjectCreated(ObjectIdentifier.Texture, _texelViews[v], _label + v switch { 1 => " (rgba32f view)", 2 => " (rg32f view)", _ => " (r32f view)" });
        }
        return _texelViews[v];
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        uint h = Handle;
        Handle = 0;
        foreach (uint view in _texelViews)
            if (view != 0) _context.EnqueueDisposal(ObjectIdentifier.Texture, g => g.DeleteTexture(view));
        Array.Clear(_texelViews);
        if (h != 0) _context.EnqueueDisposal(ObjectIdentifier.Buffer, g => g.DeleteBuffer(h));
    }
}
