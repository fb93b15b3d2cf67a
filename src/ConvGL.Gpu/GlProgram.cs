using ConvGL.Core.IO;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu;

/// <summary>A linked GL program made from shader files by <see cref="ShaderLibrary"/>. Its handle can change when
/// the library hot-reloads the files; the wrapper stays, so ops hold it for their lifetime. Uniform locations are
/// read from the driver once per link and served from a dictionary afterwards.</summary>
public sealed class GlProgram
{
    private readonly GlContext _context;
    private Dictionary<string, int> _uniforms = new(StringComparer.Ordinal);

    internal GlProgram(GlContext context, string name, IReadOnlyList<string> stages, IReadOnlyList<KeyValuePair<string, string>> defines)
    {
        _context = context;
        Name = name;
        Stages = stages;
        Defines = defines;
    }

    /// <summary>The shader files, relative to the shader root, and the injected defines, e.g. "conv2d.comp [BORDER=2]".</summary>
    public string Name { get; }
    internal IReadOnlyList<string> Stages { get; }
    internal IReadOnlyList<KeyValuePair<string, string>> Defines { get; }
    /// <summary>For a program generated at run time: its source text (Stages[0] is then only its name).</summary>
    internal string? GeneratedText { get; init; }
    /// <summary>For a program generated at run time: the library that rebuilds it when its includes change, until deleted.</summary>
    internal ShaderLibrary? Library { get; init; }
    /// <summary>Every file the last build read, watched for changes since then (for hot reload).</summary>
    internal IReadOnlyList<FileWatch> Files { get; set; } = [];
    public uint Handle { get; private set; }
    /// <summary>Why the program has never built (<see cref="ShaderLibrary.KeepBroken"/>), else null.</summary>
    public string? BuildError { get; internal set; }
    /// <summary>For a compute program: the local_size the shader declares (x, y, z).</summary>
    public (uint X, uint Y, uint Z) WorkgroupSize { get; private set; } = (1, 1, 1);

    /// <summary>The location of a uniform, or -1 when the program has none of that name (the driver may drop
    /// unused ones; setting -1 is a no-op in GL, which is what we want then).</summary>
    public int Uniform(string name) => _uniforms.TryGetValue(name, out int loc) ? loc : -1;

    internal void Replace(uint handle)
    {
        GL gl = _context.Gl;
        var uniforms = new Dictionary<string, int>(StringComparer.Ordinal);
        gl.GetProgram(handle, ProgramPropertyARB.ActiveUniforms, out int count);
        for (uint i = 0; i < count; i++)
        {
            string name = gl.GetActiveUniform(handle, i, out _, out _);
            // Arrays report "name[0]"; look them up by their base name as well.
            int loc = gl.GetUniformLocation(handle, name);
            uniforms[name] = loc;
            if (name.EndsWith("[0]", StringComparison.Ordinal)) uniforms[name[..^3]] = loc;
        }
        if (Stages.Count == 1)
        {
            Span<int> size = stackalloc int[3];
            gl.GetProgram(handle, GLEnum.ComputeWorkGroupSize, size);
            WorkgroupSize = ((uint)size[0], (uint)size[1], (uint)size[2]);
        }
        uint old = Handle;
        Handle = handle;
        _uniforms = uniforms;
        _context.ObjectCreated(ObjectIdentifier.Program, handle, Name);
        if (old != 0) _context.EnqueueDisposal(ObjectIdentifier.Program, g => g.DeleteProgram(old));
    }

    internal void Delete()
    {
        Library?.Forget(this);
        uint h = Handle;
        Handle = 0;
        if (h != 0) _context.EnqueueDisposal(ObjectIdentifier.Program, g => g.DeleteProgram(h));
    }

    /// <summary>Binds the program. Ops call this, set uniforms, bind buffers, then dispatch. A program that has never
    /// built (<see cref="ShaderLibrary.KeepBroken"/>) throws its build error here.</summary>
    public void Use()
    {
        if (Handle == 0 && BuildError is not null) throw new ShaderBuildException(BuildError, this);
        _context.Gl.UseProgram(Handle);
    }

    /// <summary>Dispatches enough workgroups to cover (x, y, z) invocations; sizes need not be multiples of the
    /// workgroup size because every shader's main() starts with a bounds check. Throws <see cref="GpuException"/>
    /// when an axis needs more workgroups than GL_MAX_COMPUTE_WORK_GROUP_COUNT allows (z, the channel axis of
    /// conv2d/pool2d/separable, is 65535 on NVIDIA and Mesa): GL would reject the dispatch with
    /// GL_INVALID_VALUE and run nothing, leaving the output tensor's old contents to be read back as a result.</summary>
    public void DispatchCovering(int x, int y, int z)
    {
        (uint wx, uint wy, uint wz) = WorkgroupSize;
        uint gx = (uint)(((long)x + wx - 1) / wx), gy = (uint)(((long)y + wy - 1) / wy), gz = (uint)(((long)z + wz - 1) / wz);
        (uint mx, uint my, uint mz) = _context.MaxWorkGroupCount;
        if (gx > mx || gy > my || gz > mz)
            throw new GpuException(
                $"{Name}: covering ({x}, {y}, {z}) invocations needs ({gx}, {gy}, {gz}) workgroups of ({wx}, {wy}, {wz}), " +
                $"above this driver's GL_MAX_COMPUTE_WORK_GROUP_COUNT ({mx}, {my}, {mz}); use fewer channels or a smaller image, or --device cpu");
        _context.Gl.DispatchCompute(gx, gy, gz);
    }

    // Element-wise shaders index a flat array as y * u_row + x: 4096 workgroups per row keeps both axes far
    // below GL's 65535-group minimum limit for any tensor that fits in a storage block.
    private const int MaxRowGroups = 4096;

    /// <summary>Covers <paramref name="count"/> invocations of an element-wise shader (one-dimensional workgroups,
    /// a <c>u_row</c> uniform giving the invocations per dispatch row). The program must be in use.</summary>
    public void DispatchFlat(int count)
    {
        int local = (int)WorkgroupSize.X;
        int row = Math.Max(1, Math.Min((count + local - 1) / local, MaxRowGroups)) * local;
        _context.Gl.Uniform1(Uniform("u_row"), row);
        DispatchCovering(row, (count + row - 1) / row, 1);
    }
}
