using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Present;

/// <summary>How one channel is coloured on screen.</summary>
public enum ColorMap { Gray, Heat, Diverging }

/// <summary>One or three channels of a GPU tensor -> the RGBA8 <see cref="Image"/> it owns, normalised
/// v -> (v - min) / (max - min) (clamped; 0 where max == min). The range is given, or computed on the GPU by
/// shaders/present/minmax.comp over the shown channels, so nothing is read back per frame.</summary>
public sealed class TensorToImage : IDisposable
{
    private readonly GlContext _context;
    private readonly GlBuffer _range;
    private readonly uint[] _seed = new uint[2];
    // Programs by [rgb, colour map], looked up once, not per frame (the library's lookup builds a key string).
    private readonly GlProgram?[,] _programs = new GlProgram?[2, 3];
    private GlProgram? _minmax;

    public GpuImage Image { get; }
    public ColorMap ColorMap { get; set; } = ColorMap.Gray;

    public TensorToImage(GlContext context)
    {
        _context = context;
        _range = new GlBuffer(context, "display range", 2);
        Image = new GpuImage(context, 1, 1, "presented feature map");
    }

    /// <summary>Shows channel <paramref name="channel"/> through <see cref="ColorMap"/>.</summary>
    public void Run(GpuTensor tensor, int channel, (float Min, float Max)? range = null) =>
        Run(tensor, channel, channel, channel, rgb: false, range);

    /// <summary>Shows three channels as R, G, B with one shared range.</summary>
    public void RunRgb(GpuTensor tensor, int r, int g, int b, (float Min, float Max)? range = null) =>
        Run(tensor, r, g, b, rgb: true, range);

    private void Run(GpuTensor tensor, int r, int g, int b, bool rgb, (float Min, float Max)? range)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        foreach (int c in (ReadOnlySpan<int>)[r, g, b])
            if ((uint)c >= (uint)tensor.C) throw new ArgumentOutOfRangeException(nameof(tensor), $"channel {c} of a tensor with {tensor.C} channels");
        Image.Resize(tensor.W, tensor.H);
        GL gl = _context.Gl;
        int plane = tensor.H * tensor.W;
        if (range is { } given)
        {
            _seed[0] = OrderedFloat.From(given.Min);
            _seed[1] = OrderedFloat.From(given.Max);
            WriteRange();
        }
        else
        {
            _seed[0] = uint.MaxValue; // "nothing seen": any value's ordered form is smaller
            _seed[1] = 0;
            WriteRange();
            GlProgram mm = _minmax ??= _context.Shaders.Compute("present/minmax.comp");
            mm.Use();
            tensor.Buffer.Bind(0);
            _range.Bind(1);
            int groups = Math.Clamp((plane + 255) / 256, 1, 256);
            foreach (int c in rgb ? (ReadOnlySpan<int>)[r, g, b] : [r])
            {
                gl.Uniform1(mm.Uniform("u_offset"), c * plane);
                gl.Uniform1(mm.Uniform("u_count"), plane);
                gl.DispatchCompute((uint)groups, 1, 1);
                // The atomics of one channel must land before the next channel's (and the colouring pass's) reads,
                // and before the next frame's WriteRange: glBufferSubData after shader writes to the same buffer
                // is ordered only by GL_BUFFER_UPDATE_BARRIER_BIT (llvmpipe serialises anyway; a GPU need not).
                gl.MemoryBarrier(MemoryBarrierMask.ShaderStorageBarrierBit | MemoryBarrierMask.BufferUpdateBarrierBit);
            }
        }
        GlProgram p = _programs[rgb ? 1 : 0, (int)ColorMap] ??=
            _context.Shaders.Compute("present/tensor_to_image.comp", ("RGB", rgb ? 1 : 0), ("COLORMAP", (int)ColorMap));
        p.Use();
        gl.Uniform3(p.Uniform("u_shape"), tensor.C, tensor.H, tensor.W);
        gl.Uniform3(p.Uniform("u_channels"), r, g, b);
        tensor.Buffer.Bind(0);
        _range.Bind(1);
        gl.BindImageTexture(0, Image.Handle, 0, false, 0, BufferAccessARB.WriteOnly, InternalFormat.Rgba8);
        p.DispatchCovering(tensor.W, tensor.H, 1);
        gl.MemoryBarrier(MemoryBarrierMask.ShaderImageAccessBarrierBit | MemoryBarrierMask.TextureFetchBarrierBit |
                         MemoryBarrierMask.TextureUpdateBarrierBit | MemoryBarrierMask.FramebufferBarrierBit);
    }

    private void WriteRange()
    {
        GL gl = _context.Gl;
        gl.BindBuffer(BufferTargetARB.ShaderStorageBuffer, _range.Handle);
        gl.BufferSubData(BufferTargetARB.ShaderStorageBuffer, 0, (ReadOnlySpan<uint>)_seed);
    }

    /// <summary>The range the last <see cref="Run(GpuTensor, int, ValueTuple{float, float}?)"/> used. Reads back: stalls.</summary>
    public (float Min, float Max) ReadRange()
    {
        Span<uint> bits = stackalloc uint[2];
        _range.Read(bits);
        return (OrderedFloat.To(bits[0]), OrderedFloat.To(bits[1]));
    }

    public void Dispose()
    {
        _range.Dispose();
        Image.Dispose();
    }
}

/// <summary>The float to and from order-preserving uint mapping of shaders/include/ordered_float.glsl.</summary>
internal static class OrderedFloat
{
    public static uint From(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        return (u & 0x80000000u) != 0 ? ~u : u | 0x80000000u;
    }

    public static float To(uint o) =>
        BitConverter.UInt32BitsToSingle((o & 0x80000000u) != 0 ? o & 0x7FFFFFFFu : ~o);
}
