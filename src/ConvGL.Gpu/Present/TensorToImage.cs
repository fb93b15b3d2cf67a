using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Present;

/// <summary>How one channel is coloured on screen: shaders/present/colormap.glsl's maps, in its order.</summary>
public enum ColorMap { Gray, Heat, Diverging, Viridis }

/// <summary>One or three channels of a GPU tensor -> the RGBA8 <see cref="Image"/> it owns, normalised
/// v -> (v - min) / (max - min) (clamped; 0 where max == min). The range is given, or the shown channels' entries of
/// a <see cref="ChannelRanges"/> (computed here, or handed in already computed so a frame that also draws the
/// ranges elsewhere computes them once), so nothing is read back per frame.</summary>
public sealed class TensorToImage : IDisposable
{
    private readonly GlContext _context;
    private readonly ChannelRanges _ownRanges;
    // Programs by [rgb, colour map], looked up once, not per frame (the library's lookup builds a key string).
    private readonly GlProgram?[,] _programs = new GlProgram?[2, 4];
    private ChannelRanges? _lastRanges;
    private (float Min, float Max)? _lastGiven;
    private int _lastR, _lastG, _lastB;

    public GpuImage Image { get; }
    public ColorMap ColorMap { get; set; } = ColorMap.Gray;

    public TensorToImage(GlContext context)
    {
        _context = context;
        _ownRanges = new ChannelRanges(context, "display range");
        Image = new GpuImage(context, 1, 1, "presented feature map");
    }

    /// <summary>Shows channel <paramref name="channel"/> through <see cref="ColorMap"/>.</summary>
    public void Run(GpuTensor tensor, int channel, (float Min, float Max)? range = null) =>
        Run(tensor, channel, channel, channel, rgb: false, range, null);

    /// <summary>Shows channel <paramref name="channel"/> normalised by its entry of <paramref name="ranges"/>, which
    /// the caller has computed for this tensor.</summary>
    public void Run(GpuTensor tensor, int channel, ChannelRanges ranges) =>
        Run(tensor, channel, channel, channel, rgb: false, null, ranges);

    /// <summary>Shows three channels as R, G, B with one shared range.</summary>
    public void RunRgb(GpuTensor tensor, int r, int g, int b, (float Min, float Max)? range = null) =>
        Run(tensor, r, g, b, rgb: true, range, null);

    /// <summary>Shows three channels as R, G, B with one range shared by their entries of <paramref name="ranges"/>.</summary>
    public void RunRgb(GpuTensor tensor, int r, int g, int b, ChannelRanges ranges) =>
        Run(tensor, r, g, b, rgb: true, null, ranges);

    private void Run(GpuTensor tensor, int r, int g, int b, bool rgb, (float Min, float Max)? range, ChannelRanges? ranges)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        foreach (int c in (ReadOnlySpan<int>)[r, g, b])
            if ((uint)c >= (uint)tensor.C) throw new ArgumentOutOfRangeException(nameof(tensor), $"channel {c} of a tensor with {tensor.C} channels");
        Image.Resize(tensor.W, tensor.H);
        GL gl = _context.Gl;
        if (range is null && ranges is null)
        {
            ranges = _ownRanges;
            if (rgb && r + 1 == g && g + 1 == b) ranges.Compute(tensor, r, 3);
            else if (rgb)
            {
                ranges.Compute(tensor, r, 1);
                ranges.Compute(tensor, g, 1);
                ranges.Compute(tensor, b, 1);
            }
            else ranges.Compute(tensor, r, 1);
        }
        ranges ??= _ownRanges; // a given range: the shader reads u_range, but the Range block still needs a buffer
        (_lastRanges, _lastGiven, _lastR, _lastG, _lastB) = (ranges, range, r, g, b);
        GlProgram p = _programs[rgb ? 1 : 0, (int)ColorMap] ??=
            _context.Shaders.Compute("present/tensor_to_image.comp", ("RGB", rgb ? 1 : 0), ("COLORMAP", (int)ColorMap));
        p.Use();
        gl.Uniform3(p.Uniform("u_shape"), tensor.C, tensor.H, tensor.W);
        gl.Uniform3(p.Uniform("u_channels"), r, g, b);
        gl.Uniform1(p.Uniform("u_given"), range is null ? 0 : 1);
        if (range is { } given) gl.Uniform2(p.Uniform("u_range"), given.Min, given.Max);
        Ops.ComputeOp.BeforeTexelReads(gl);
        tensor.Buffer.BindImageView(1);
        ranges.Bind(1);
        gl.BindImageTexture(0, Image.Handle, 0, false, 0, BufferAccessARB.WriteOnly, InternalFormat.Rgba8);
        p.DispatchCovering(tensor.W, tensor.H, 1);
        gl.MemoryBarrier(MemoryBarrierMask.ShaderImageAccessBarrierBit | MemoryBarrierMask.TextureFetchBarrierBit |
                         MemoryBarrierMask.TextureUpdateBarrierBit | MemoryBarrierMask.FramebufferBarrierBit);
    }

    /// <summary>The range the last Run used: the given one, or the shown channels' computed ranges combined. Reads
    /// back: stalls.</summary>
    public (float Min, float Max) ReadRange()
    {
        if (_lastGiven is { } given) return given;
        if (_lastRanges is null) throw new InvalidOperationException("no Run yet");
        (float min, float max) = _lastRanges.Read(_lastR);
        foreach (int c in (ReadOnlySpan<int>)[_lastG, _lastB])
        {
            (float lo, float hi) = _lastRanges.Read(c);
            // NaN is "nothing seen" in that channel: it does not narrow the others.
            if (float.IsNaN(min) || lo < min) min = lo;
            if (float.IsNaN(max) || hi > max) max = hi;
        }
        return (min, max);
    }

    public void Dispose()
    {
        _ownRanges.Dispose();
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
