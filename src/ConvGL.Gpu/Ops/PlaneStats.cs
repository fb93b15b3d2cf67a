using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>Per-plane statistics of big planes in two passes (shaders/plane_stats.comp: mean and M2 of chunks of
/// <see cref="LaneChunk"/> values, one invocation each; plane_stats_combine.comp: one invocation per plane joins them):
/// the global average pool's means, or instance normalisation's per-plane affine. The one-workgroup-per-plane shaders
/// leave all but C workgroups idle, read through storage blocks (a scalar loop per load on llvmpipe) and wait at
/// barriers; a map is read here through texel views by many invocations, none waiting for another. Buffers are made once
/// and grown, never per frame.</summary>
internal sealed class PlaneStats(GlContext context) : IDisposable
{
    /// <summary>Planes above this many values take the two passes (<see cref="Worth"/>).</summary>
    public const int Chunk = 4096;

    /// <summary>Values per chunk of pass 1, one invocation each (a multiple of 4: whole rgba32f texels).</summary>
    public const int LaneChunk = 256;

    private GlBuffer? _stats;
    private readonly GlProgram?[] _pass1 = new GlProgram?[2];
    private readonly GlProgram?[] _combine = new GlProgram?[3];

    /// <summary>Planes bigger than a chunk go through here; smaller ones are one workgroup's work anyway.</summary>
    public static bool Worth(int plane) => plane > Chunk;

    /// <summary>MODE 0: the P means into <paramref name="output"/>; MODE 1: a[0..P) then b[0..P) of instance normalisation
    /// (<paramref name="parameters"/>: scale[0..C) then shift[0..C)) into <paramref name="output"/>; MODE 2: a[0..C) then
    /// b[0..C) of group normalisation, each plane a group's run of <paramref name="perGroup"/> channels.</summary>
    public void Run(GpuTensor input, int plane, int mode, GlBuffer? parameters, int channels, float epsilon, GlBuffer output, int perGroup = 1)
    {
        GL gl = context.Gl;
        int planes = input.Length / plane, chunks = (plane + LaneChunk - 1) / LaneChunk;
        // The combining pass walks a plane's chunks twice for the mean (counted as before), three times for a norm (the mean,
        // the unit the spread is summed in, then the spread around the mean).
        long loops = (mode == 0 ? 2L : 3L) * chunks + (mode == 2 ? perGroup : 0);
        if (ComputeOp.PastLoopLimit(context, loops)) throw ComputeOp.LoopLimitError(context, "plane statistics", loops, $"planes of {plane:N0} values");
        _stats ??= new GlBuffer(context, "plane statistics");
        _stats.Reserve(4 * planes * chunks); // (mean, M2 / 4^e, e, 0) per chunk
        // Planes of a multiple of 4 values read 4 per rgba32f fetch.
        bool vec4 = plane % 4 == 0;
        GlProgram p1 = _pass1[vec4 ? 1 : 0] ??= context.Shaders.Compute("plane_stats.comp", ("VEC4", vec4 ? 1 : 0));
        ComputeOp.BeforeTexelReads(gl);
        p1.Use();
        gl.Uniform1(p1.Uniform("u_plane"), plane);
        gl.Uniform1(p1.Uniform("u_chunk"), LaneChunk);
        gl.Uniform1(p1.Uniform("u_chunks"), chunks);
        gl.Uniform1(p1.Uniform("u_count"), planes * chunks);
        input.Buffer.BindTexelView(ComputeOp.InputUnit);
        if (vec4) input.Buffer.BindTexelView(ComputeOp.InputUnit + 1, vec4: true);
        _stats.Bind(3);
        p1.DispatchFlat(planes * chunks);
        ComputeOp.Barrier(gl);
        GlProgram p2 = _combine[mode] ??= context.Shaders.Compute("plane_stats_combine.comp", ("MODE", mode));
        p2.Use();
        gl.Uniform1(p2.Uniform("u_planes"), planes);
        gl.Uniform1(p2.Uniform("u_plane"), plane);
        gl.Uniform1(p2.Uniform("u_chunk"), LaneChunk);
        gl.Uniform1(p2.Uniform("u_chunks"), chunks);
        gl.Uniform1(p2.Uniform("u_channels"), Math.Max(channels, 1));
        gl.Uniform1(p2.Uniform("u_epsilon"), epsilon);
        if (mode == 2) gl.Uniform1(p2.Uniform("u_per_group"), perGroup);
        _stats.Bind(0);
        (parameters ?? _stats).Bind(1);
        output.Reserve(mode == 0 ? planes : mode == 1 ? 2 * planes : 2 * channels);
        output.Bind(3);
        p2.DispatchFlat(planes);
        ComputeOp.Barrier(gl);
    }

    public void Dispose() => _stats?.Dispose();
}
