using ConvGL.Core;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>What every compute op does around its dispatch.</summary>
internal static class ComputeOp
{
    /// <summary>A conv's output shape (C_out, H_out, W_out) for an input of (C_in, H, W) and weights (C_out, C_in/groups,
    /// kH, kW), validating channels and groups like the reference: one check for every GPU conv algorithm.</summary>
    public static (int C, int H, int W) ConvOutputShape(int[] weightShape, ConvOptions options, int c, int h, int w)
    {
        int groups = options.Groups, cout = weightShape[0];
        if (groups < 1) throw new ConvGLException($"groups {groups} must be at least 1");
        if (c % groups != 0 || cout % groups != 0)
            throw new ConvGLException($"groups {groups} must divide both C_in {c} and C_out {cout}");
        if (weightShape[1] != c / groups)
            throw new ConvGLException($"weight {Tensor.ShapeText(weightShape)} expects {weightShape[1] * groups} input channels with groups {groups}, the input has {c}");
        ConvGeometry g = ConvGeometry.Compute(h, w, weightShape[2], weightShape[3], options);
        return (cout, g.Y.Output, g.X.Output);
    }

    /// <summary>Texture unit the fast variants read their input tensor through (<see cref="GlBuffer.BindTexelView"/>).</summary>
    public const uint InputUnit = 0;

    /// <summary>Texture unit a fast conv reads its packed weights through when they exceed the uniform block
    /// (<c>PARAMS_TEXEL</c> in include/conv_fast.glsl); InputUnit + 1 is the input's rgba32f view.</summary>
    public const uint ParamsUnit = 2;

    /// <summary>Makes this dispatch's buffer writes visible to the next dispatch's reads (as a storage block or through a
    /// texel view) and to read-back. GL orders dispatches but not their memory effects; without the barrier a chained
    /// op may read stale data.</summary>
    public static void Barrier(GL gl) =>
        gl.MemoryBarrier(MemoryBarrierMask.ShaderStorageBarrierBit | MemoryBarrierMask.BufferUpdateBarrierBit |
                         MemoryBarrierMask.TextureFetchBarrierBit | MemoryBarrierMask.ShaderImageAccessBarrierBit);

    /// <summary>Before a dispatch that reads its input through a texel view: whoever wrote the tensor (an op outside
    /// this folder, whose barrier names storage blocks only) becomes visible to texture fetches and image loads.</summary>
    public static void BeforeTexelReads(GL gl) => gl.MemoryBarrier(MemoryBarrierMask.TextureFetchBarrierBit | MemoryBarrierMask.ShaderImageAccessBarrierBit);

    /// <summary>How to cover <paramref name="count"/> invocations numbered flat (y * row + x) with workgroups of
    /// <paramref name="local"/> along x: (row, rows), row a multiple of <paramref name="local"/> and at most 4096 workgroups,
    /// far below GL's 65535-workgroup minimum on either axis.</summary>
    public static (int Row, int Rows) FlatGroups(int count, int local)
    {
        int row = Math.Max(1, Math.Min((count + local - 1) / local, 4096)) * local;
        return (row, (count + row - 1) / row);
    }

    public static void CheckDistinct(GpuTensor input, GpuTensor output, string op)
    {
        if (ReferenceEquals(input, output))
            throw new ArgumentException($"{op}: input and output must be different tensors (each output value reads many inputs)");
    }

    /// <summary>Copies <paramref name="count"/> floats from one tensor's buffer to another's at the given offsets (a GPU
    /// buffer-to-buffer copy), ordered after earlier shader writes and before later reads.</summary>
    public static void CopyFloats(GL gl, GpuTensor from, long fromOffset, GpuTensor to, long toOffset, long count)
    {
        if (count <= 0) return;
        gl.MemoryBarrier(MemoryBarrierMask.BufferUpdateBarrierBit);
        gl.BindBuffer(BufferTargetARB.CopyReadBuffer, from.Handle);
        gl.BindBuffer(BufferTargetARB.CopyWriteBuffer, to.Handle);
        gl.CopyBufferSubData(CopyBufferSubDataTarget.CopyReadBuffer, CopyBufferSubDataTarget.CopyWriteBuffer,
            (nint)(fromOffset * sizeof(float)), (nint)(toOffset * sizeof(float)), (nuint)(count * sizeof(float)));
        gl.BindBuffer(BufferTargetARB.CopyReadBuffer, 0);
        gl.BindBuffer(BufferTargetARB.CopyWriteBuffer, 0);
        gl.MemoryBarrier(MemoryBarrierMask.ShaderStorageBarrierBit | MemoryBarrierMask.BufferUpdateBarrierBit | MemoryBarrierMask.TextureFetchBarrierBit);
    }

    /// <summary>Whether one invocation of a shader that loops about <paramref name="iterations"/> times would pass the
    /// driver's <see cref="GlContext.LoopLimit"/> (llvmpipe before Mesa 23 silently leaves every loop there, so the result
    /// would be wrong); a margin covers the short loops an estimate leaves out. Loops this short never probe the driver.
    /// Call sites throw <see cref="LoopLimitError"/> when it is true: the message is built only then (ops run every
    /// frame and allocate nothing in a steady run).</summary>
    public static bool PastLoopLimit(GlContext context, long iterations)
    {
        const long margin = 256;
        return iterations + margin > ushort.MaxValue && context.LoopLimit is long limit && iterations + margin > limit;
    }

    /// <summary>The one-line error for <see cref="PastLoopLimit"/>: the op, what makes its loops long, the limit, the fix.</summary>
    public static GpuException LoopLimitError(GlContext context, string op, long iterations, string what) => new(
        $"{op}: with {what}, one shader invocation takes ~{iterations:N0} loop iterations, and this driver ({context.Renderer}) " +
        $"stops every invocation after {context.LoopLimit:N0} (llvmpipe before Mesa 23), which would make the result wrong; " +
        "run it with --device cpu, or on a newer Mesa or a GPU");

    /// <summary>GL_MAX_TEXTURE_BUFFER_SIZE: the most texels (floats) a texel view can reach.</summary>
    public static long MaxTexelViewFloats(GL gl) => gl.GetInteger(GetPName.MaxTextureBufferSize);

    /// <summary>GL_MAX_UNIFORM_BLOCK_SIZE in bytes (at least 16 KiB by the spec, 64 KiB on Mesa and NVIDIA).</summary>
    public static long MaxUniformBlockBytes(GL gl) => gl.GetInteger(GetPName.MaxUniformBlockSize);
}

/// <summary>A rectangle of outputs one dispatch of a fast variant covers: the interior (<see cref="Rim"/> false, every
/// tap inside the image, no border code) or a rim strip (every index mapped through the border).</summary>
internal readonly record struct OutputRect(int X, int Y, int Width, int Height, bool Rim)
{
    /// <summary>Outputs [Lo, Hi) along one axis whose every tap o*stride - pad + i*dilation (i &lt; k) lies in [0, n).</summary>
    public static (int Lo, int Hi) InteriorSpan(int n, int outputs, int k, int stride, int dilation, int padBefore)
    {
        long lo = ((long)padBefore + stride - 1) / stride;
        long last = (long)n - 1 + padBefore - (long)(k - 1) * dilation; // the last output's first tap must be <= this
        long hi = last < 0 ? 0 : Math.Min(outputs, last / stride + 1);
        lo = Math.Min(lo, outputs);
        return ((int)lo, (int)Math.Max(lo, hi));
    }

    /// <summary>Splits a (width, height) output plane into the interior, trimmed to a multiple of <paramref name="blockX"/>
    /// columns so interior loads never pass the image, and up to four rim strips around it (top and bottom full width).
    /// With no interior (or one less than <paramref name="blockY"/> rows tall: an interior block must fit in it) the whole
    /// plane is one rim rectangle.</summary>
    public static List<OutputRect> Split(int width, int height, (int Lo, int Hi) x, (int Lo, int Hi) y, int blockX, int blockY = 1)
    {
        int xHi = x.Lo + (x.Hi - x.Lo) / blockX * blockX;
        if (xHi <= x.Lo || y.Hi - y.Lo < Math.Max(1, blockY)) return [new OutputRect(0, 0, width, height, true)];
        var rects = new List<OutputRect> { new(x.Lo, y.Lo, xHi - x.Lo, y.Hi - y.Lo, false) };
        if (y.Lo > 0) rects.Add(new(0, 0, width, y.Lo, true));
        if (y.Hi < height) rects.Add(new(0, y.Hi, width, height - y.Hi, true));
        if (x.Lo > 0) rects.Add(new(0, y.Lo, x.Lo, y.Hi - y.Lo, true));
        if (xHi < width) rects.Add(new(xHi, y.Lo, width - xHi, y.Hi - y.Lo, true));
        return rects;
    }
}
