using System.Globalization;
using System.Text;
using ConvGL.App.Glfw;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Gpu;
using Silk.NET.OpenGL;

namespace ConvGL.App.Live;

/// <summary>One soak sample: ConvGL's own count of live GL objects per kind (where they are created and deleted),
/// the driver's count (glIs* over the object names), the managed heap after a full collection, the process's
/// resident memory, and the GL errors seen so far.</summary>
internal sealed record SoakSample(int Frame, IReadOnlyDictionary<string, long> Counters)
{
    /// <summary>"soak frame=F name=value ...": the line a soak run prints (tests and scripts/soak.sh read it).</summary>
    public string Line()
    {
        var sb = new StringBuilder("soak frame=").Append(Frame.ToString(CultureInfo.InvariantCulture));
        foreach ((string k, long v) in Counters) sb.Append(' ').Append(k).Append('=').Append(v.ToString(CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    public static SoakSample Parse(string line)
    {
        string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || parts[0] != "soak") throw new FormatException($"not a soak line: {line}");
        var counters = new Dictionary<string, long>();
        int frame = -1;
        foreach (string part in parts[1..])
        {
            string[] kv = part.Split('=');
            long v = long.Parse(kv[1], CultureInfo.InvariantCulture);
            if (kv[0] == "frame") frame = (int)v;
            else counters[kv[0]] = v;
        }
        return new SoakSample(frame, counters);
    }
}

/// <summary>What "flat after warm-up" means for a soak run, as a pure comparison of two samples taken at the same
/// point of the action cycle: no GL object count (ConvGL's or the driver's) above the warm-up one, no GL error at
/// all, the managed heap within <see cref="HeapSlackBytes"/> and the resident memory within
/// <see cref="RssSlackBytes"/> of warm-up.</summary>
internal static class SoakCheck
{
    public const long HeapSlackBytes = 1 << 20;
    public const long RssSlackBytes = 48L << 20;

    /// <summary>One line per counter that grew (naming it, with both values); empty when everything is flat.</summary>
    public static List<string> Problems(SoakSample warm, SoakSample end)
    {
        var problems = new List<string>();
        foreach ((string name, long after) in end.Counters)
        {
            long before = warm.Counters.GetValueOrDefault(name);
            string grew = string.Create(CultureInfo.InvariantCulture,
                $"{name} grew from {before} at frame {warm.Frame} to {after} at frame {end.Frame}");
            if (name.StartsWith("gl.", StringComparison.Ordinal) || name.StartsWith("driver.", StringComparison.Ordinal))
            {
                if (after > before) problems.Add(grew);
            }
            else if (name is "glerrors" or "debugerrors")
            {
                if (after > 0) problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name}: {after} GL error(s) by frame {end.Frame}"));
            }
            else if (name == "heap")
            {
                if (after - before > HeapSlackBytes) problems.Add(grew + string.Create(CultureInfo.InvariantCulture, $" (more than {HeapSlackBytes >> 10} KiB)"));
            }
            else if (name == "rss")
            {
                if (after - before > RssSlackBytes) problems.Add(grew + string.Create(CultureInfo.InvariantCulture, $" (more than {RssSlackBytes >> 20} MiB)"));
            }
        }
        return problems;
    }
}

/// <summary>The soak run (<c>--soak DIR --frames N</c>): every <see cref="StepEvery"/> frames the next step of a fixed
/// cycle that exercises every control (filters, stacks, views, borders, strides, dilation, convolve/correlate,
/// layer toggles, layer and channel selection, pause, info, help, vsync, probe pin) and hot reload (the soak's own
/// stack file and a shader rewritten on disk, then reloaded). Each cycle ends in the state it started from, so its
/// samples, taken at cycle boundaries, must match: after a warm-up of <see cref="WarmCycles"/> cycles every counter
/// must stay flat (<see cref="SoakCheck"/>). GL errors are read every frame (glGetError, and KHR_debug messages: the
/// context has debug output on in a soak run). DIR is a scratch folder the run fills: a copy of shaders/ (the run
/// points CONVGL_SHADERS at it, so the repository's shaders are never touched) and the soak stack.</summary>
internal sealed class SoakRun
{
    public const int StepEvery = 2;
    public const int WarmCycles = 2;
    /// <summary>The file that marks DIR/shaders as a soak's copy.</summary>
    private const string SoakMarker = ".convgl-soak-copy";

    /// <summary>The fewest frames whose samples the verdict can compare: the warm-up cycles, one more cycle, and a frame.</summary>
    public static int MinimumFrames => (WarmCycles + 1) * Cycle(LivePipelines.Filters.Length, StackPipeline.Shipped().Count).Length * StepEvery + 1;
    // Names scanned for the driver's count of each kind; Mesa hands out small names and reuses freed ones.
    private const uint DriverNames = 1 << 15;

    private readonly string[] _cycle;
    private readonly GlContext _context;
    private readonly string _stack, _shader;
    private readonly Action<Key, KeyMods> _key;
    private readonly Action _click;
    private readonly LivePipelines _pipelines;
    private readonly HotReload _reload;
    // Only the samples the verdict compares are kept: a list of every sample would itself grow the heap it measures.
    private SoakSample? _warm, _last;
    private long _glErrors;
    private int _touches;

    /// <summary>Frames per cycle.</summary>
    public int CycleFrames => _cycle.Length * StepEvery;

    /// <summary>The steps of one cycle, for <paramref name="filters"/> filters and <paramref name="stacks"/> shipped
    /// stacks: f and s are pressed once more than there are filters and stacks (the first press enters the mode
    /// without advancing), so each cycle visits every one and ends where it began; every option key is undone
    /// before the cycle ends. "open" switches to the soak stack, "touch" rewrites it and a shader and reloads,
    /// "pin" clicks the middle of the picture (pins the probe, or enlarges a grid map; the second click undoes it).</summary>
    public static string[] Cycle(int filters, int stacks) =>
    [
        "open", "1", "1", "b", "B", "+", "-", "d", "D", "c", "c", "touch",
        "g", "]", "[", ".", ",", "pin", "pin", "o", "l", "w", "tab", "shift+tab", "o", "pin", "pin",
        .. Enumerable.Repeat("f", filters + 1),
        "b", "+", "d", "c", "c", "D", "-", "B",
        .. Enumerable.Repeat("s", stacks + 1), "2", "2",
        "space", "space", "i", "i", "h", "h", "v", "v",
    ];

    /// <summary>Prepares <paramref name="dir"/>: a private copy of the shaders and the soak stack with a kernel file beside
    /// it. Returns the copy's folder, for the caller to point CONVGL_SHADERS at before the GL context exists (set here,
    /// process-wide, it reached other tests' window processes started meanwhile: a CI run's window failed on it).</summary>
    public static string Prepare(string dir)
    {
        CheckFolder(dir);
        string shaders = Path.Combine(dir, "shaders");
        string from = ShaderLibrary.FindRoot();
        // The soak replaces DIR/shaders, soak.json and soak.txt: only where an earlier soak made them (its marker in
        // the shaders copy), never the project's own shaders or a user's files of those names.
        if (FileIdentity.Same(from, shaders) || FileIdentity.Inside(from, dir))
            throw new ConvGLException($"--soak {dir}: the folder holds ConvGL's shaders ({from}), which the soak would replace with its copy; give an empty scratch folder");
        bool earlier = File.Exists(Path.Combine(shaders, SoakMarker));
        foreach (string name in new[] { "shaders", "soak.json", "soak.txt" })
            if (!earlier && Path.Exists(Path.Combine(dir, name)))
                throw new ConvGLException($"--soak {dir}: the folder already holds '{name}', which the soak would replace (it is not an earlier soak's); give an empty scratch folder");
        // Anything else in it is someone's: the soak writes only into an empty folder or an earlier soak's (the audit's
        // --soak /dev left /dev/shaders, /dev/soak.json and /dev/soak.txt).
        if (Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).FirstOrDefault(n => n is not ("shaders" or "soak.json" or "soak.txt" or "soak.json.writing")) is { } other)
            throw new ConvGLException($"--soak {dir}: the folder holds '{other}', so it is not an empty scratch folder (the soak writes shaders/, soak.json and soak.txt into it); give an empty one, e.g. --soak \"$(mktemp -d)\"");
        if (Directory.Exists(shaders)) Directory.Delete(shaders, recursive: true);
        foreach (string f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string to = Path.Combine(shaders, Path.GetRelativePath(from, f));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(f, to);
        }
        File.WriteAllText(Path.Combine(shaders, SoakMarker), "a copy of ConvGL's shaders made by --soak; the next soak of this folder replaces it\n");
        File.WriteAllText(Path.Combine(dir, "soak.txt"), "# the soak's kernel: an asymmetric 3x3\n1 2 0\n0 0 -1\n3 0 -5\n");
        WriteStack(Path.Combine(dir, "soak.json"), 0);
        return shaders;
    }

    /// <summary>DIR must be a folder that exists (the checks before the window: WindowCommand, and <see cref="Prepare"/>).</summary>
    public static void CheckFolder(string dir)
    {
        if (File.Exists(dir)) throw new ConvGLException($"--soak {dir}: that is a file; give an empty scratch folder");
        if (!Directory.Exists(dir)) throw new ConvGLException($"--soak {dir}: folder does not exist; give an empty scratch folder, e.g. --soak \"$(mktemp -d)\"");
    }

    private static void WriteStack(string file, int version)
    {
        // Two versions that differ in length and content (the border), so every rewrite is a change on disk.
        string border = version % 2 == 0 ? "reflect" : "replicate";
        string text = $$"""
            { "name": "soak", "input": "gray",
              "layers": [ { "type": "conv", "kernels": ["soak.txt", "sobel-x"], "border": "{{border}}" },
                          { "type": "relu" }, { "type": "maxpool", "size": 2 } ] }
            """;
        string temp = file + ".writing";
        File.WriteAllText(temp, text);
        File.Move(temp, file, overwrite: true);
    }

    public SoakRun(string dir, GlContext context, LivePipelines pipelines, HotReload reload, Action<Key, KeyMods> key, Action click)
    {
        _stack = Path.Combine(dir, "soak.json");
        // A shader every view runs every frame (the one min/max pass), so its programs are live when touched.
        _shader = Path.Combine(dir, "shaders", "present", "minmax.comp");
        _context = context;
        _pipelines = pipelines;
        _reload = reload;
        _key = key;
        _click = click;
        _cycle = Cycle(LivePipelines.Filters.Length, StackPipeline.Shipped().Count);
    }

    /// <summary>After frame <paramref name="frame"/> (0-based) is drawn: read the GL errors, take a sample at a cycle
    /// boundary, then the cycle's next step.</summary>
    public void AfterFrame(int frame)
    {
        GL gl = _context.Gl;
        for (int i = 0; i < 16 && gl.GetError() != GLEnum.NoError; i++) _glErrors++;
        if (frame % CycleFrames == 0)
        {
            _last = Sample(frame);
            if (frame == WarmCycles * CycleFrames) _warm = _last;
            Console.WriteLine(_last.Line());
        }
        if (frame % StepEvery != 0) return;
        string step = _cycle[frame / StepEvery % _cycle.Length];
        switch (step)
        {
            case "open":
                _pipelines.OpenStack(_stack);
                break;
            case "touch":
                Touch();
                break;
            case "pin":
                _click();
                break;
            default:
                (Key k, KeyMods m) = Controls.Parse(step);
                _key(k, m);
                break;
        }
    }

    /// <summary>Rewrites the soak stack (the running pipeline at this step) and one shader, then reloads them as the
    /// twice-a-second check would.</summary>
    private void Touch()
    {
        _touches++;
        WriteStack(_stack, _touches);
        string text = File.ReadAllText(_shader);
        const string mark = "\n// soak touch\n";
        text = text.EndsWith(mark, StringComparison.Ordinal) ? text[..^mark.Length] : text + mark;
        File.WriteAllText(_shader + ".writing", text);
        File.Move(_shader + ".writing", _shader, overwrite: true);
        _reload.Check(force: false);
    }

    private SoakSample Sample(int frame)
    {
        GL gl = _context.Gl;
        gl.Finish();
        _context.FlushDisposables();
        var c = new Dictionary<string, long>();
        long counted = 0;
        foreach (ObjectIdentifier kind in GlContext.CountedKinds) counted += c["gl." + Name(kind)] = _context.LiveObjectsOf(kind);
        c["gl.other"] = _context.LiveObjects - counted;
        (long buffers, long textures, long programs, long framebuffers, long arrays, long queries) = (0, 0, 0, 0, 0, 0);
        for (uint n = 1; n <= DriverNames; n++)
        {
            if (gl.IsBuffer(n)) buffers++;
            if (gl.IsTexture(n)) textures++;
            if (gl.IsProgram(n)) programs++;
            if (gl.IsFramebuffer(n)) framebuffers++;
            if (gl.IsVertexArray(n)) arrays++;
            if (gl.IsQuery(n)) queries++;
        }
        (c["driver.buffer"], c["driver.texture"], c["driver.program"], c["driver.framebuffer"], c["driver.vertexarray"], c["driver.query"]) =
            (buffers, textures, programs, framebuffers, arrays, queries);
        // Resident memory counts what the allocators keep cached as well as what is live: the GC's freed regions and
        // glibc's freed chunks (the cycle loads ResNet18's 45 MB of weights and frees them again). Both are handed back
        // first, so the sample moves with live memory: a CI run's RSS fell 62 MB and rose 75 MB between cycles
        // without a leak when they were not.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        c["heap"] = GC.GetTotalMemory(forceFullCollection: false);
        TrimNativeHeap();
        c["rss"] = Environment.WorkingSet;
        c["glerrors"] = _glErrors;
        c["debugerrors"] = _context.DebugErrors;
        c["touches"] = _touches;
        c["programsrebuilt"] = _reload.ProgramsRebuilt;
        c["filesreread"] = _reload.FilesReread;
        return new SoakSample(frame, c);
    }

    /// <summary>glibc's malloc_trim(0): returns the free memory of every malloc arena to the system. Elsewhere
    /// (another C library) nothing is trimmed and the sample is the plain RSS.</summary>
    private static void TrimNativeHeap()
    {
        if (!OperatingSystem.IsLinux()) return;
        try { MallocTrim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    private static string Name(ObjectIdentifier kind) => kind.ToString().ToLowerInvariant();

    /// <summary>At the end: the verdict line; false (exit 1) when something grew after warm-up.</summary>
    public bool Finish(int frames)
    {
        int last = (frames - 1) / CycleFrames * CycleFrames;
        SoakSample? warm = _warm, end = _last;
        if (warm is null || end is null || end.Frame != last || end.Frame <= warm.Frame)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"soak: too short to judge: {frames} frames, need more than {MinimumFrames - 1} (cycles of {CycleFrames} frames, {WarmCycles} of warm-up)"));
            return false;
        }
        List<string> problems = SoakCheck.Problems(warm, end);
        Console.WriteLine(problems.Count == 0
            ? string.Create(CultureInfo.InvariantCulture, $"soak: flat from frame {warm.Frame} to {end.Frame} ({_touches} hot reloads: {_reload.FilesReread} stack re-reads, {_reload.ProgramsRebuilt} programs rebuilt)")
            : "soak: NOT flat: " + string.Join("; ", problems));
        return problems.Count == 0;
    }
}
