namespace ConvGL.Gpu.Ops;

/// <summary>Programs an op owns because their defines hold its weights (ConvPlan's literal filters): one per define set,
/// made by <see cref="ShaderLibrary.ComputeOwned"/> on first use and found again after (a new input size or options plan
/// again, and a shape seen before finds its program), deleted together by <see cref="Clear"/> when the weights change or
/// the op goes away. <see cref="Get"/> is the callback ConvPlan.Create and CreateSeparable take.</summary>
internal sealed class OwnedPrograms(GlContext context)
{
    private readonly Dictionary<string, GlProgram> _programs = [];

    /// <summary>How many programs are held (tests).</summary>
    public int Count => _programs.Count;

    public GlProgram Get(string file, (string Name, object Value)[] defines)
    {
        string key = ShaderLibrary.KeyOf(file, defines);
        if (!_programs.TryGetValue(key, out GlProgram? program))
        {
            program = context.Shaders.ComputeOwned(file, defines);
            _programs.Add(key, program);
        }
        return program;
    }

    public void Clear()
    {
        foreach (GlProgram p in _programs.Values) p.Delete();
        _programs.Clear();
    }
}
