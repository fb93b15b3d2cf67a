namespace ConvGL.Core.Stacks;

/// <summary>Finds stacks by file path or by the name of a shipped stack (assets/stacks/NAME.json). The shipped
/// folder is looked for above the running program (a build output inside the repository, or an app folder
/// that carries assets/), then above the current directory.</summary>
public static class StackCatalog
{
    /// <summary>The shipped stacks folder, or null when none is found.</summary>
    public static string? ShippedDirectory()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (string? d = Path.GetFullPath(start); d is not null; d = Path.GetDirectoryName(d))
            {
                string candidate = Path.Combine(d, "assets", "stacks");
                if (Directory.Exists(candidate)) return candidate;
            }
        return null;
    }

    /// <summary>Names of the shipped stacks, sorted.</summary>
    public static IReadOnlyList<string> ShippedNames()
    {
        string? dir = ShippedDirectory();
        return dir is null ? []
            : Directory.GetFiles(dir, "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The file a <c>--stack</c> argument means: an existing file as given, else a shipped stack name, else a
    /// packaged model's name (<see cref="Onnx.PackagedModels"/>: its .onnx in the NuGet cache, or one error saying how to
    /// fetch it).</summary>
    public static string Resolve(string nameOrPath)
    {
        if (File.Exists(nameOrPath)) return nameOrPath;
        bool looksLikeName = nameOrPath.Length > 0 && nameOrPath.IndexOfAny(['/', '\\']) < 0 && !nameOrPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        if (looksLikeName && ShippedDirectory() is string dir)
        {
            string shipped = Path.Combine(dir, nameOrPath + ".json");
            if (File.Exists(shipped)) return shipped;
        }
        if (looksLikeName && Onnx.PackagedModels.Find(nameOrPath) is { } model) return Onnx.PackagedModels.Locate(model);
        // (After the names: a folder called "edges" where the user stands must not hide the shipped stack.)
        if (nameOrPath.Length > 0 && Directory.Exists(nameOrPath))
            throw new ConvGLException($"stack '{ErrorText.Echo(nameOrPath)}' is a folder; give a stack file (.json) or a model (.onnx) in it, or a shipped stack's name");
        IReadOnlyList<string> names = ShippedNames();
        string models = string.Join(", ", Onnx.PackagedModels.All.Select(m => m.Name));
        // A name a typo away from a shipped stack or model ("edge", "resnet-18") gets a suggestion, as kernel names do.
        string guess = looksLikeName ? Kernels.KernelLibrary.DidYouMean(nameOrPath, names.Concat(Onnx.PackagedModels.All.Select(m => m.Name))) : "";
        throw new ConvGLException($"stack '{ErrorText.Echo(nameOrPath)}': no such file, and not a shipped stack name " +
            (names.Count > 0 ? $"({guess}shipped: {string.Join(", ", names)}; models: {models})" : $"({guess}no assets/stacks folder found; models: {models})"));
    }

    /// <summary>A stack argument's file and, for <c>MODEL.onnx#NAME,...</c> (a file or a packaged model's name, then node
    /// or value names), the names after the '#' (null without one). The '#' is the one after ".onnx", or the first one
    /// after a packaged model's name, so a node name may hold a '#' itself.</summary>
    public static (string Path, string? Until) ResolveParts(string nameOrPath)
    {
        int hash = HashAt(nameOrPath);
        if (hash <= 0) return (Resolve(nameOrPath), null);
        string model = Resolve(nameOrPath[..hash]);
        if (!model.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            throw new ConvGLException($"stack '{ErrorText.Echo(nameOrPath)}': '#' picks the nodes an ONNX model's stack ends at; '{ErrorText.Echo(nameOrPath[..hash])}' is no ONNX model");
        return (model, nameOrPath[(hash + 1)..]);
    }

    /// <summary>Where the '#' of <c>MODEL.onnx#NAME,...</c> is (the one after ".onnx", else the first), or -1: none, or
    /// the whole argument is a file.</summary>
    public static int HashAt(string nameOrPath)
    {
        if (File.Exists(nameOrPath)) return -1;
        // The first ".onnx#" whose model file exists (a folder may be called x.onnx#y), else the first one.
        int first = -1;
        for (int at = nameOrPath.IndexOf(".onnx#", StringComparison.OrdinalIgnoreCase); at >= 0;
             at = nameOrPath.IndexOf(".onnx#", at + 1, StringComparison.OrdinalIgnoreCase))
        {
            if (File.Exists(nameOrPath[..(at + 5)])) return at + 5;
            if (first < 0) first = at + 5;
        }
        if (first >= 0) return first;
        // A packaged model's name then '#' (resnet18#...); a '#' in a folder's name is no '#' of this kind.
        int hash = nameOrPath.IndexOf('#');
        return hash > 0 && nameOrPath.IndexOfAny(['/', '\\'], 0, hash) < 0 ? hash : -1;
    }

    /// <summary>Loads <paramref name="path"/> (resolved, <see cref="ResolveParts"/>) up to the names in
    /// <paramref name="until"/> (null: whole).</summary>
    public static Stack Load(string path, string? until)
    {
        if (until is null) return path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) ? Onnx.OnnxStack.Load(path) : StackFile.Load(path);
        string[] names = until.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0) throw new ConvGLException($"stack '{ErrorText.Echo(path)}#{ErrorText.Echo(until)}': give node or value names after '#', separated by ','");
        return Onnx.OnnxStack.Load(path, names);
    }

    /// <summary>Resolves and loads a stack; an <c>.onnx</c> file is imported as one (<see cref="Onnx.OnnxStack"/>);
    /// <c>MODEL.onnx#NAME,...</c> (<see cref="ResolveParts"/>) the model up to those nodes only
    /// (<see cref="Onnx.OnnxStack.Load"/>), to see the layers before a head no stack layer holds.</summary>
    public static Stack Load(string nameOrPath)
    {
        (string path, string? until) = ResolveParts(nameOrPath);
        return Load(path, until);
    }
}
