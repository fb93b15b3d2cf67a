using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Present;

/// <summary>Each channel's (min, max) of a GPU tensor, computed on the GPU by shaders/present/minmax.comp into a
/// storage buffer that stays on the GPU: entry c holds channel c's range as order-preserving uints (see
/// shaders/present/ranges.glsl), NaNs and infinities ignored (<see cref="ConvGL.Core.Tensor.Range"/>'s finite range). The one min/max pass of the presentation path: TensorToImage and the
/// window's grid and profile all normalise by it, so a frame computes each shown channel's range once. The buffer
/// grows with the channel count and is never shrunk; nothing is read back per frame.</summary>
public sealed class ChannelRanges : IDisposable
{
    // Each invocation reduces at least this many values before the shared-memory tree: workgroups (and their
    // barriers) are what costs on a software rasteriser, and a GPU still gets a workgroup per 16K values (126 for a
    // 1080p plane). A 16-channel 320x180 layer: 3 workgroups a channel instead of 225 (issue 8's "several outputs
    // per invocation"; measured in README's window stages).
    private const int ValuesPerInvocation = 64;
    // Most workgroups per channel: enough to fill a GPU on a large plane; each folds its share with two atomics.
    private const int MaxGroupsPerChannel = 256;
    // "Nothing seen": the neutral (min, max) for atomicMin/atomicMax on ordered uints.
    private static readonly uint[] s_seed = [uint.MaxValue, 0];

    private readonly GlContext _context;
    private readonly GlBuffer _buffer;
    // [0] r32f texels, [1] rgba32f texels (planes of a multiple of 4 values): fetched once.
    private readonly GlProgram?[] _programs = new GlProgram?[2];
    // The ranges as rg32ui texels (a usamplerBuffer) for fragment shaders: made once, re-attached after the buffer grows.
    private uint _view;
    private int _viewCapacity;

    public ChannelRanges(GlContext context, string label = "channel ranges")
    {
        _context = context;
        _buffer = new GlBuffer(context, label, 2);
    }

    /// <summary>Channels the buffer has room for.</summary>
    public int Capacity => _buffer.Capacity / 2;

    /// <summary>Computes the ranges of channels [<paramref name="first"/>, <paramref name="first"/> +
    /// <paramref name="count"/>) of <paramref name="tensor"/> (all channels when count is -1) into their entries;
    /// other entries keep what they held. One dispatch for all of them.</summary>
    public void Compute(GpuTensor tensor, int first = 0, int count = -1)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        if (count < 0) count = tensor.C - first;
        if (first < 0 || count < 1 || first + count > tensor.C)
            throw new ArgumentOutOfRangeException(nameof(first), $"channels {first}..{first + count - 1} of a tensor with {tensor.C} channels");
        if (tensor.C * 2 > _buffer.Capacity) _buffer.Reserve(tensor.C * 2);
        GL gl = _context.Gl;
        int plane = tensor.H * tensor.W;
        // Seed the entries with "nothing seen". A command after the previous frame's shader atomics: those were
        // followed by a GL_BUFFER_UPDATE_BARRIER_BIT barrier below.
        gl.BindBuffer(BufferTargetARB.ShaderStorageBuffer, _buffer.Handle);
        unsafe
        {
            fixed (uint* seed = s_seed)
                gl.ClearBufferSubData(BufferTargetARB.ShaderStorageBuffer, SizedInternalFormat.RG32ui, first * 8, (nuint)(count * 8), PixelFormat.RGInteger, PixelType.UnsignedInt, seed);
        }
        // The tensor through a texel view (a vector gather on llvmpipe, where a storage-block load is a scalar loop per
        // lane): rgba32f texels when every plane starts on a multiple of 4 values.
        int vec = plane % 4 == 0 ? 4 : 1;
        if (tensor.Length > Ops.ComputeOp.MaxTexelViewFloats(gl)) throw new GpuException($"ranges of {tensor.ShapeString}: more values than this driver's texel-buffer size");
        GlProgram p = _programs[vec == 4 ? 1 : 0] ??= _context.Shaders.Compute("present/minmax.comp", ("VEC", vec));
        Ops.ComputeOp.BeforeTexelReads(gl);
        p.Use();
        gl.Uniform1(p.Uniform("u_plane"), plane / vec);
        gl.Uniform1(p.Uniform("u_first"), first);
        tensor.Buffer.BindTexelView(Ops.ComputeOp.InputUnit, vec4: vec == 4);
        _buffer.Bind(1);
        int groups = Math.Clamp(plane / (256 * ValuesPerInvocation), 1, MaxGroupsPerChannel);
        gl.DispatchCompute((uint)groups, 1, (uint)count);
        // Readers next: fragment and compute shaders (storage), and the next frame's clear (buffer update).
        gl.MemoryBarrier(MemoryBarrierMask.ShaderStorageBarrierBit | MemoryBarrierMask.BufferUpdateBarrierBit);
    }

    /// <summary>Binds the ranges as the storage buffer at <paramref name="binding"/> (the shaders' Range block).</summary>
    public void Bind(uint binding) => _buffer.Bind(binding);

    /// <summary>Binds the ranges to texture unit <paramref name="unit"/> as a <c>usamplerBuffer</c>: texel c is channel
    /// c's (ordered min, ordered max). For fragment shaders that look up a range per pixel (the grid), where a
    /// storage-block load with a varying index is a scalar loop on llvmpipe.</summary>
    public void BindTexelView(uint unit)
    {
        GL gl = _context.Gl;
        gl.ActiveTexture(TextureUnit.Texture0 + (int)unit);
        if (_view == 0)
        {
            _view = gl.GenTexture();
            gl.BindTexture(TextureTarget.TextureBuffer, _view);
            _context.ObjectCreated(ObjectIdentifier.Texture, _view, "channel ranges (rg32ui view)");
        }
        gl.BindTexture(TextureTarget.TextureBuffer, _view);
        if (_viewCapacity != _buffer.Capacity)
        {
            gl.TexBuffer(TextureTarget.TextureBuffer, SizedInternalFormat.RG32ui, _buffer.Handle);
            _viewCapacity = _buffer.Capacity;
        }
        gl.ActiveTexture(TextureUnit.Texture0);
    }

    /// <summary>Channel <paramref name="channel"/>'s range as last computed (NaN, NaN when nothing was seen). Reads
    /// back: stalls; tests and tools only.</summary>
    public (float Min, float Max) Read(int channel)
    {
        if ((uint)channel >= (uint)Capacity) throw new ArgumentOutOfRangeException(nameof(channel), $"channel {channel} of {Capacity}");
        Span<uint> bits = stackalloc uint[2];
        _buffer.Read(bits, channel * 2);
        return (OrderedFloat.To(bits[0]), OrderedFloat.To(bits[1]));
    }

    public void Dispose()
    {
        uint view = _view;
        _view = 0;
        if (view != 0) _context.EnqueueDisposal(ObjectIdentifier.Texture, g => g.DeleteTexture(view));
        _buffer.Dispose();
    }
}
