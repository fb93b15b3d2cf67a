using System.Text;
using ConvGL.Core.IO;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu;

/// <summary>Loads shader files from the shaders/ folder at run time (so the window can hot-reload them), runs the
/// <c>#include</c> pre-pass and <c>#define</c> injection (<see cref="ShaderSource"/>), compiles and links, and
/// caches programs by (files, defines). Compile and link errors throw <see cref="GpuException"/> whose message
/// starts with "file:line: " lines mapped back through the includes, followed by the driver's log.</summary>
public sealed class ShaderLibrary : IDisposable
{
    private readonly GlContext _context;
    private readonly Dictionary<string, GlProgram> _programs = new(StringComparer.Ordinal);

    /// <summary>The folder shader names are relative to.</summary>
    public string Root { get; }

    internal ShaderLibrary(GlContext context, string root)
    {
        _context = context;
        Root = Path.GetFullPath(root);
    }

    /// <summary>Where shaders/ is: $CONVGL_SHADERS if set; else, walking up from the executable's folder, the first
    /// folder that holds both shaders/ and ConvGL.sln (the source tree, so edits are seen live); else the copy the
    /// build put next to the executable.</summary>
    public static string FindRoot()
    {
        string? env = Environment.GetEnvironmentVariable("CONVGL_SHADERS");
        if (!string.IsNullOrEmpty(env))
        {
            if (!Directory.Exists(env)) throw new GpuException($"CONVGL_SHADERS={env} is not a folder");
            return env;
        }
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shaders");
            if (Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "ConvGL.sln"))) return candidate;
        }
        string copy = Path.Combine(AppContext.BaseDirectory, "shaders");
        if (Directory.Exists(copy)) return copy;
        throw new GpuException($"no shaders/ folder: set CONVGL_SHADERS, or run from the source tree or the build output ({AppContext.BaseDirectory})");
    }

    /// <summary>A compute program from one .comp file (relative to <see cref="Root"/>) with the given defines.</summary>
    public GlProgram Compute(string file, params (string Name, object Value)[] defines) => Get([file], defines);

    /// <summary>A compute program from source text generated at run time (<paramref name="name"/>, e.g.
    /// "generated/conv2d_literal.comp", names it in messages; its #includes resolve under <see cref="Root"/>). Not cached
    /// and not hot-reloaded: the caller owns it and deletes it (<see cref="GlProgram.Delete"/>) when it is done, so
    /// programs made for weights that changed do not pile up.</summary>
    public GlProgram ComputeGenerated(string name, string text)
    {
        _context.CheckThread();
        var program = new GlProgram(_context, name, [name], []) { GeneratedText = text };
        (uint handle, _) = Build(program);
        program.Replace(handle);
        return program;
    }

    /// <summary>A vertex + fragment program (for the window's presentation).</summary>
    public GlProgram Graphics(string vertexFile, string fragmentFile, params (string Name, object Value)[] defines) =>
        Get([vertexFile, fragmentFile], defines);

    private GlProgram Get(string[] stages, (string Name, object Value)[] defines)
    {
        _context.CheckThread();
        var defs = defines
            .Select(d => new KeyValuePair<string, string>(d.Name, Convert.ToString(d.Value, System.Globalization.CultureInfo.InvariantCulture) ?? ""))
            .OrderBy(d => d.Key, StringComparer.Ordinal)
            .ToList();
        string key = string.Join("+", stages) + (defs.Count == 0 ? "" : " [" + string.Join(",", defs.Select(d => $"{d.Key}={d.Value}")) + "]");
        if (_programs.TryGetValue(key, out GlProgram? program)) return program;
        program = new GlProgram(_context, key, stages, defs);
        (uint handle, IReadOnlyList<FileWatch> files) = Build(program);
        program.Files = files;
        program.Replace(handle);
        _programs.Add(key, program);
        return program;
    }

    /// <summary>Recompiles every cached program one of whose files (including includes) changed since it was
    /// built. A program that fails keeps its last good version. Returns how many were rebuilt and the error text
    /// of the failures (null when all succeeded).</summary>
    public (int Rebuilt, string? Error) ReloadChanged()
    {
        _context.CheckThread();
        int rebuilt = 0;
        var errors = new StringBuilder();
        foreach (GlProgram program in _programs.Values)
        {
            // Changed = any file's time, length or (just after an edit) content differs from what the build saw (not
            // "newer than the build": file systems stamp with a coarse clock, and editors may restore older times).
            if (!program.Files.Any(f => f.Changed())) continue;
            try
            {
                (uint handle, IReadOnlyList<FileWatch> files) = Build(program);
                program.Files = files;
                program.Replace(handle);
                rebuilt++;
            }
            catch (GpuException e)
            {
                // Keep the last good program; watch the broken files from now, so the same error is reported
                // once, not on every poll, and the next save is seen as a change again.
                program.Files = program.Files.Select(f => new FileWatch(f.Path)).ToList();
                errors.AppendLine(e.Message);
            }
        }
        return (rebuilt, errors.Length == 0 ? null : errors.ToString().TrimEnd());
    }

    private (uint Handle, IReadOnlyList<FileWatch> Files) Build(GlProgram program)
    {
        GL gl = _context.Gl;
        var shaders = new List<uint>();
        var files = new List<FileWatch>();
        try
        {
            foreach (string stage in program.Stages)
            {
                ShaderType type = Path.GetExtension(stage) switch
                {
                    ".comp" => ShaderType.ComputeShader,
                    ".vert" => ShaderType.VertexShader,
                    ".frag" => ShaderType.FragmentShader,
                    _ => throw new GpuException($"{stage}: unknown shader stage (expected .comp, .vert or .frag)"),
                };
                ShaderSource source = ShaderSource.Load(Path.Combine(Root, stage), Root, program.Defines, program.GeneratedText);
                files.AddRange(source.Files.Select(f => new FileWatch(f)));
                uint shader = gl.CreateShader(type);
                shaders.Add(shader);
                gl.ShaderSource(shader, source.Text);
                gl.CompileShader(shader);
                // Judge by the status, never by an empty log: drivers write warnings into successful logs.
                gl.GetShader(shader, ShaderParameterName.CompileStatus, out int ok);
                if (ok == 0)
                {
                    string mapped = source.MapLog(gl.GetShaderInfoLog(shader));
                    throw new GpuException($"{FirstLocation(mapped, stage)}: shader compile failed ({program.Name})\n{mapped}");
                }
            }
            uint handle = gl.CreateProgram();
            foreach (uint s in shaders) gl.AttachShader(handle, s);
            gl.LinkProgram(handle);
            foreach (uint s in shaders) gl.DetachShader(handle, s);
            gl.GetProgram(handle, ProgramPropertyARB.LinkStatus, out int linked);
            if (linked == 0)
            {
                string log = gl.GetProgramInfoLog(handle);
                gl.DeleteProgram(handle);
                throw new GpuException($"{program.Stages[0]}: program link failed ({program.Name})\n{log}");
            }
            return (handle, files);
        }
        finally
        {
            foreach (uint s in shaders) gl.DeleteShader(s);
        }
    }

    /// <summary>The first "file:line" of a mapped log, so the exception's first line names the place.</summary>
    private static string FirstLocation(string mapped, string fallback)
    {
        foreach (string line in mapped.Split('\n'))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && colon + 1 < line.Length && char.IsDigit(line[colon + 1]))
            {
                int end = line.IndexOf(':', colon + 1);
                if (end > colon) return line[..end];
            }
        }
        return fallback;
    }

    public void Dispose()
    {
        foreach (GlProgram p in _programs.Values) p.Delete();
        _programs.Clear();
    }
}
