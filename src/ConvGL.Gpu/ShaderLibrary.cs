using System.Text;
using ConvGL.Core.IO;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu;

/// <summary>Loads shader files from the shaders/ folder at run time (so the window can hot-reload them), runs the
/// <c>#include</c> pre-pass and <c>#define</c> injection (<see cref="ShaderSource"/>), compiles and links, and
/// caches programs by (files, defines). Compile and link errors throw <see cref="ShaderBuildException"/> whose message
/// starts with "file:line: " lines mapped back through the includes, followed by the driver's log.</summary>
public sealed class ShaderLibrary : IDisposable
{
    private readonly GlContext _context;
    private readonly Dictionary<string, GlProgram> _programs = new(StringComparer.Ordinal);
    // Programs generated at run time and not yet deleted by their owners: their includes are hot-reloaded too.
    private readonly List<GlProgram> _generated = [];

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
            // A setting of the user's naming nothing is bad input (exit 2), in the window and the commands alike.
            if (!Directory.Exists(env))
                throw new ConvGL.Core.ConvGLException($"CONVGL_SHADERS={env} is not a folder; point it at a copy of shaders/, or unset it");
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

    /// <summary>The live window's setting: a program whose first build fails is still returned, unbuilt: using it throws
    /// the <see cref="ShaderBuildException"/> (so the window shows it as its run's error), and <see cref="ReloadChanged(bool)"/>
    /// builds it once one of its files changes. Off (the commands), a failed build throws at once.</summary>
    public bool KeepBroken { get; set; }

    /// <summary>A compute program from source text generated at run time (<paramref name="name"/>, e.g.
    /// "generated/conv2d_literal.comp", names it in messages; its #includes resolve under <see cref="Root"/> and are
    /// hot-reloaded as any file's). Not cached: the caller owns it and deletes it (<see cref="GlProgram.Delete"/>)
    /// when it is done, so programs made for weights that changed do not pile up.</summary>
    public GlProgram ComputeGenerated(string name, string text)
    {
        _context.CheckThread();
        var program = new GlProgram(_context, name, [name], []) { GeneratedText = text, Library = this };
        FirstBuild(program);
        lock (_generated) _generated.Add(program);
        return program;
    }

    /// <summary>A compute program from one .comp file with the given defines, not cached: the caller owns it and deletes it
    /// (<see cref="GlProgram.Delete"/>), as for <see cref="ComputeGenerated"/>. For defines that hold data made for one
    /// weight set (ConvPlan's literal filter kernels), so programs for kernels that changed do not pile up.</summary>
    public GlProgram ComputeOwned(string file, params (string Name, object Value)[] defines)
    {
        _context.CheckThread();
        List<KeyValuePair<string, string>> defs = Defines(defines);
        // Named by its defines with long values (the weights it holds) elided: the name is what messages and labels show.
        var named = defs.Select(d => d.Value.Length > 24 ? new KeyValuePair<string, string>(d.Key, d.Value[..20] + "...") : d).ToList();
        var program = new GlProgram(_context, Key([file], named), [file], defs) { Library = this };
        FirstBuild(program);
        lock (_generated) _generated.Add(program);
        return program;
    }

    /// <summary>As <see cref="ComputeGenerated"/> where <paramref name="pending"/> is null, the context has no
    /// <see cref="GlContext.Warmer"/> or the warmer is done with this text. Otherwise the program is queued there, its job added to <paramref name="pending"/>, and null
    /// returned: the caller runs something else meanwhile and asks again once every pending job is done (then the build is
    /// a hit in Mesa's disk cache). <paramref name="imageBytes"/>: the size of the buffer the program's images will view
    /// (<see cref="ShaderWarmer.Request"/>).</summary>
    public GlProgram? ComputeGeneratedWhenWarm(string name, string text, ICollection<ShaderWarmer.Job>? pending, long? imageBytes = null)
    {
        _context.CheckThread();
        if (pending is null || _context.Warmer is not { NotServed: null } warmer) return ComputeGenerated(name, text);
        string whole;
        try
        {
            whole = ShaderSource.Load(Path.Combine(Root, name), Root, [], text).Text;
        }
        catch (ShaderBuildException)
        {
            // A missing or cyclic include: the build says so, as always.
            return ComputeGenerated(name, text);
        }
        ShaderWarmer.Job job = warmer.Request(name, whole, imageBytes);
        if (!job.Done)
        {
            pending.Add(job);
            return null;
        }
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        GlProgram program = ComputeGenerated(name, text);
        // A build that was no cache hit says the cache does not serve this process: the warmer stops.
        if (job.Skipped is null) warmer.BuiltOnGlThread(System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        return program;
    }

    /// <summary>A vertex + fragment program (for the window's presentation).</summary>
    public GlProgram Graphics(string vertexFile, string fragmentFile, params (string Name, object Value)[] defines) =>
        Get([vertexFile, fragmentFile], defines);

    private GlProgram Get(string[] stages, (string Name, object Value)[] defines)
    {
        _context.CheckThread();
        List<KeyValuePair<string, string>> defs = Defines(defines);
        string key = Key(stages, defs);
        if (_programs.TryGetValue(key, out GlProgram? program)) return program;
        program = new GlProgram(_context, key, stages, defs);
        FirstBuild(program);
        _programs.Add(key, program);
        return program;
    }

    private static List<KeyValuePair<string, string>> Defines((string Name, object Value)[] defines) => defines
        .Select(d => new KeyValuePair<string, string>(d.Name, Convert.ToString(d.Value, System.Globalization.CultureInfo.InvariantCulture) ?? ""))
        .OrderBy(d => d.Key, StringComparer.Ordinal)
        .ToList();

    /// <summary>The name a program of <paramref name="file"/> with <paramref name="defines"/> is cached by (what
    /// <see cref="Compute"/> looks up): the key owners of <see cref="ComputeOwned"/> programs find them again by.</summary>
    internal static string KeyOf(string file, (string Name, object Value)[] defines) => Key([file], Defines(defines));

    private static string Key(string[] stages, List<KeyValuePair<string, string>> defs) =>
        string.Join("+", stages) + (defs.Count == 0 ? "" : " [" + string.Join(",", defs.Select(d => $"{d.Key}={d.Value}")) + "]");

    // Builds a new program; a failure throws, or (KeepBroken) leaves it unbuilt, watching the files it read or looked for.
    private void FirstBuild(GlProgram program)
    {
        var read = new List<string>();
        try
        {
            program.Replace(Build(program, read));
        }
        catch (ShaderBuildException e) when (KeepBroken)
        {
            program.BuildError = e.Message;
        }
        program.Files = Watches(read);
    }

    /// <summary>A generated program's owner deleted it: no more reloads.</summary>
    internal void Forget(GlProgram program)
    {
        // Owners may dispose on another thread (GlContext's deferred disposal); the list is read on the GL thread.
        lock (_generated) _generated.Remove(program);
    }

    /// <summary>Recompiles every program one of whose files (including includes) changed since it was built, and every
    /// unbuilt one (<see cref="KeepBroken"/>) whose files changed. A program that fails keeps its last good version.
    /// Returns how many were rebuilt and the error text of the failures (null when all succeeded).</summary>
    public (int Rebuilt, string? Error) ReloadChanged() => ReloadChanged(retryUnbuilt: false);

    /// <summary><see cref="ReloadChanged()"/>; with <paramref name="retryUnbuilt"/> (the window's r key) every program that
    /// has never built is tried again whether or not its files changed.</summary>
    public (int Rebuilt, string? Error) ReloadChanged(bool retryUnbuilt)
    {
        _context.CheckThread();
        int rebuilt = 0;
        StringBuilder? errors = null;
        LastFailureUnbuilt = false;
        foreach (GlProgram program in _programs.Values) Rebuild(program, retryUnbuilt, ref rebuilt, ref errors);
        lock (_generated)
            foreach (GlProgram program in _generated) Rebuild(program, retryUnbuilt, ref rebuilt, ref errors);
        return (rebuilt, errors?.ToString().TrimEnd());
    }

    /// <summary>Whether the last <see cref="ReloadChanged()"/>'s failures include a program that has never built (no last
    /// good version runs in its place).</summary>
    public bool LastFailureUnbuilt { get; private set; }

    /// <summary>The first unbuilt program's error (<see cref="KeepBroken"/>: a program whose files have not built
    /// since it was asked for), or null when every program has built.</summary>
    public string? UnbuiltError
    {
        get
        {
            foreach (GlProgram program in _programs.Values)
                if (program.BuildError is { } e) return e;
            lock (_generated)
                foreach (GlProgram program in _generated)
                    if (program.BuildError is { } e) return e;
            return null;
        }
    }

    private void Rebuild(GlProgram program, bool retryUnbuilt, ref int rebuilt, ref StringBuilder? errors)
    {
        // Changed = any file's time, length or (just after an edit) content differs from what the build saw (not
        // "newer than the build": file systems stamp with a coarse clock, and editors may restore older times).
        bool changed = retryUnbuilt && program.BuildError is not null;
        foreach (FileWatch f in program.Files)
            changed |= f.Changed();
        if (!changed) return;
        var read = new List<string>();
        try
        {
            program.Replace(Build(program, read));
            program.BuildError = null;
            rebuilt++;
        }
        catch (ShaderBuildException e)
        {
            // Keep the last good program (or none yet); the same error is reported once, not on every poll, and the
            // next save of any file it read is a change again.
            if (program.Handle == 0)
            {
                program.BuildError = e.Message;
                LastFailureUnbuilt = true;
            }
            (errors ??= new StringBuilder()).AppendLine(e.Message);
        }
        program.Files = Watches(read);
    }

    private static List<FileWatch> Watches(List<string> paths)
    {
        var watches = new List<FileWatch>(paths.Count);
        foreach (string p in paths.Distinct(StringComparer.Ordinal)) watches.Add(new FileWatch(p));
        return watches;
    }

    // Compiles and links the program's stages; every file it read (or looked for) goes into read, even when it fails.
    private uint Build(GlProgram program, List<string> read)
    {
        GL gl = _context.Gl;
        var shaders = new List<uint>();
        try
        {
            foreach (string stage in program.Stages)
            {
                ShaderType type = Path.GetExtension(stage) switch
                {
                    ".comp" => ShaderType.ComputeShader,
                    ".vert" => ShaderType.VertexShader,
                    ".frag" => ShaderType.FragmentShader,
                    _ => throw new ShaderBuildException($"{stage}: unknown shader stage (expected .comp, .vert or .frag)"),
                };
                ShaderSource source = ShaderSource.Load(Path.Combine(Root, stage), Root, program.Defines, program.GeneratedText, read);
                uint shader = gl.CreateShader(type);
                shaders.Add(shader);
                gl.ShaderSource(shader, source.Text);
                gl.CompileShader(shader);
                // Judge by the status, never by an empty log: drivers write warnings into successful logs.
                gl.GetShader(shader, ShaderParameterName.CompileStatus, out int ok);
                if (ok == 0)
                {
                    string mapped = source.MapLog(gl.GetShaderInfoLog(shader));
                    throw new ShaderBuildException($"{FirstLocation(mapped, stage)}: shader compile failed ({program.Name})\n{mapped}");
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
                throw new ShaderBuildException($"{program.Stages[0]}: program link failed ({program.Name})\n{log}");
            }
            return handle;
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
