using ConvGL.Core;

namespace ConvGL.Gpu;

/// <summary>A (C, H, W) float32 tensor on the GPU, stored in one shader storage buffer in exactly the CPU
/// <see cref="Tensor"/>'s layout: element (c, y, x) at index (c*H + y)*W + x.
///
/// Why an SSBO and not RGBA textures (TFLite GL's PHWC4, ncnn's pack4): the layout is byte-for-byte the CPU
/// tensor's, so upload and read-back are plain copies and the parity tests compare like with like; any channel
/// count works with no vec4 packing and no padded last slice (C = 1, 3, 13 are the edge cases packing gets
/// wrong); and a conv shader indexes channels directly. The price is no texture cache and no hardware border
/// sampling: borders are computed in shaders/include/border.glsl (they must be anyway, since GL's wrap modes
/// have no "reflect without repeating the edge" for texelFetch). A packed-texture tensor would be the next
/// step for bandwidth on a real GPU; images come in and go out through textures (ImageToTensor,
/// TensorToImage).</summary>
public sealed class GpuTensor : IDisposable
{
    private readonly GlBuffer _buffer;

    public int C { get; private set; }
    public int H { get; private set; }
    public int W { get; private set; }
    public int Length => C * H * W;
    public int[] Shape => [C, H, W];
    public string ShapeString => $"({C}, {H}, {W})";
    internal GlBuffer Buffer => _buffer;
    public uint Handle => _buffer.Handle;

    /// <summary>Binds the tensor's values to texture unit <paramref name="unit"/> as a GLSL <c>samplerBuffer</c>: r32f
    /// texels, or rgba32f (values 4t..4t+3 as texel t) with <paramref name="vec4"/>. The same memory, no copy; on
    /// llvmpipe a texelFetch is a vector gather where a storage-block load is a scalar loop per lane.</summary>
    public void BindTexelView(uint unit, bool vec4 = false) => _buffer.BindTexelView(unit, vec4);

    public GpuTensor(GlContext context, int c = 1, int h = 1, int w = 1, string label = "tensor")
    {
        // Unchecked, 65536 x 65536 x 2 wrapped to 0 and made a 1-float buffer that claimed a 2^33-value shape:
        // every shader would then index far past the end of its storage.
        _buffer = new GlBuffer(context, label, CheckedLength(c, h, w));
        (C, H, W) = (c, h, w);
    }

    private static int CheckedLength(int c, int h, int w)
    {
        if (c < 1 || h < 1 || w < 1) throw new ArgumentException($"tensor shape ({c}, {h}, {w}) must be at least 1 in every dimension");
        long n = (long)c * h * w;
        if (n > int.MaxValue) throw new ArgumentException($"tensor shape ({c}, {h}, {w}) has {n} values, more than a GPU tensor's {int.MaxValue}");
        return (int)n;
    }

    /// <summary>A new GPU tensor holding a copy of a (C, H, W) CPU tensor.</summary>
    public static GpuTensor From(GlContext context, Tensor tensor, string label = "tensor")
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Rank != 3) throw new ArgumentException($"a GPU tensor is (C, H, W), got {tensor.ShapeString}");
        var t = new GpuTensor(context, tensor.C, tensor.H, tensor.W, label);
        t.Upload(tensor);
        return t;
    }

    /// <summary>Sets the shape; the storage is reallocated only when it must grow. Contents are then undefined.</summary>
    public void Resize(int c, int h, int w)
    {
        int length = CheckedLength(c, h, w);
        if (c == C && h == H && w == W) return;
        _buffer.Reserve(length);
        (C, H, W) = (c, h, w);
    }

    /// <summary>The same values read as another (C, H, W) of the same length (a reshape: nothing moves, the contents kept).</summary>
    public void Reinterpret(int c, int h, int w)
    {
        if ((long)c * h * w != Length) throw new ArgumentException($"cannot read {ShapeString} as ({c}, {h}, {w}): the lengths differ");
        (C, H, W) = (c, h, w);
    }

    public void Upload(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Rank != 3) throw new ArgumentException($"a GPU tensor is (C, H, W), got {tensor.ShapeString}");
        Resize(tensor.C, tensor.H, tensor.W);
        _buffer.Write(tensor.Data);
    }

    public Tensor Download()
    {
        var t = Tensor.Chw(C, H, W);
        _buffer.Read(t.Data);
        return t;
    }

    public override string ToString() => $"GpuTensor{ShapeString}";

    public void Dispose() => _buffer.Dispose();
}
