using ConvGL.Core;
using ConvGL.Gpu;

namespace ConvGL.App.Live;

/// <summary>The stacks s cycles through: assets/stacks/*.json of the source tree (or next to the executable).</summary>
internal static class StackCatalog
{
    /// <summary>The folder: walking up from the executable, the first with assets/stacks and ConvGL.sln (the source
    /// tree, so edits reload live); else assets/stacks next to the executable.</summary>
    public static string? Folder()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "assets", "stacks");
                if (Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "ConvGL.sln"))) return candidate;
            }
        string copy = Path.Combine(AppContext.BaseDirectory, "assets", "stacks");
        return Directory.Exists(copy) ? copy : null;
    }

    public static List<string> Find()
    {
        string? folder = Folder();
        if (folder is null) return [];
        var files = Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal).ToList();
        return files;
    }

    /// <summary>The stack the window opens with: "edges" when present, else the first.</summary>
    public static string? Default(List<string> stacks) =>
        stacks.FirstOrDefault(s => Path.GetFileNameWithoutExtension(s) == "edges") ?? stacks.FirstOrDefault();

    /// <summary>A stack by file path, or by name in assets/stacks.</summary>
    public static string Resolve(string nameOrFile)
    {
        if (File.Exists(nameOrFile)) return Path.GetFullPath(nameOrFile);
        string? folder = Folder();
        string candidate = folder is null ? "" : Path.Combine(folder, nameOrFile + ".json");
        if (File.Exists(candidate)) return candidate;
        string known = string.Join(", ", Find().Select(Path.GetFileNameWithoutExtension));
        throw new ConvGLException($"--stack {nameOrFile}: no such file, and no assets/stacks/{nameOrFile}.json (known: {(known.Length == 0 ? "none" : known)})");
    }

    public static ILivePipeline Open(GlContext context, string nameOrFile) => new StackPipeline(context, Resolve(nameOrFile));
}
