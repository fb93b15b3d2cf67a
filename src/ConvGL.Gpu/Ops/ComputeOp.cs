using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>What every compute op does around its dispatch.</summary>
internal static class ComputeOp
{
    /// <summary>Makes this dispatch's buffer writes visible to the next dispatch's reads and to read-back.
    /// GL orders dispatches but not their memory effects; without the barrier a chained op may read stale data.</summary>
    public static void Barrier(GL gl) =>
        gl.MemoryBarrier(MemoryBarrierMask.ShaderStorageBarrierBit | MemoryBarrierMask.BufferUpdateBarrierBit);

    public static void CheckDistinct(GpuTensor input, GpuTensor output, string op)
    {
        if (ReferenceEquals(input, output))
            throw new ArgumentException($"{op}: input and output must be different tensors (each output value reads many inputs)");
    }
}
