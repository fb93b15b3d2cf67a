namespace ConvGL.Core.Onnx;

/// <summary>A trained model that ConvGL names as a stack (<c>--stack resnet18</c>) but never ships: a NuGet package
/// holds it, restored into the NuGet cache by a PackageDownload of the app project (so <c>dotnet build</c>, and
/// therefore <c>./convgl</c>, fetches it). <see cref="PreprocessPath"/> is the package's preprocessing model, whose
/// steps ConvGL runs on image inputs (<see cref="ImagePreprocess"/>) with pixels scaled by <see cref="PixelScale"/>.</summary>
public sealed record PackagedModel(string Name, string PackageId, string Version, string ModelPath, string? PreprocessPath, float PixelScale, string Description)
{
    /// <summary>The package's folder in the NuGet cache (NuGet lower-cases the id).</summary>
    public string PackageDirectory(string root) => Path.Combine(root, PackageId.ToLowerInvariant(), Version);
}

public static class PackagedModels
{
    /// <summary>ResNet18 (ImageNet, MIT), exported by CNTK: 22 Conv + BatchNormalization, 9 residual Adds, (1, 3, 224, 224)
    /// in, a 512-value embedding out. ML.NET's DnnImageFeaturizer feeds it 0..255 pixels through ResNetPreprocess.onnx.</summary>
    public static readonly PackagedModel ResNet18 = new(
        "resnet18", "Microsoft.ML.DnnImageFeaturizer.ResNet18", "0.23.1",
        "tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx", "tools/DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx", 255f,
        "ResNet18 trained on ImageNet (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1, MIT), every layer's maps");

    public static IReadOnlyList<PackagedModel> All { get; } = [ResNet18];

    public static PackagedModel? Find(string name) => All.FirstOrDefault(m => m.Name == name);

    /// <summary>The NuGet global packages folder: the one the app was built against (baked into its runtimeconfig as
    /// ConvGL.NuGetPackageRoot), else NUGET_PACKAGES, else NuGet's default ~/.nuget/packages.</summary>
    public static string PackageRoot()
    {
        string? baked = AppContext.GetData("ConvGL.NuGetPackageRoot") as string is { Length: > 0 } b ? b : null;
        if (baked is not null && Directory.Exists(baked)) return baked;
        if (Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } env) return env;
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        // No home (HOME unset for a user without one): the build's own root, where it looked (it cannot be read by this
        // user, or it would have been taken above), not a path relative to the working folder (the environment audit).
        if (home.Length == 0 && baked is not null) return baked;
        return Path.Combine(home, ".nuget", "packages");
    }

    public static string ModelFile(PackagedModel m, string? root = null) => Path.Combine(m.PackageDirectory(root ?? PackageRoot()), m.ModelPath);

    /// <summary>The model's file, or one error saying where it was looked for and how to fetch it.</summary>
    public static string Locate(PackagedModel m, string? root = null)
    {
        root ??= PackageRoot();
        string path = ModelFile(m, root);
        if (File.Exists(path)) return path;
        if (!Directory.Exists(root) && ParentUnreadable(root))
            throw new ConvGLException($"stack '{m.Name}': the NuGet cache {root} cannot be read by this user (permission denied); " +
                                      "run as the user who built ConvGL, or set NUGET_PACKAGES to a cache of your own and build again");
        throw new ConvGLException($"stack '{m.Name}': {Path.GetFileName(m.ModelPath)} is not in the NuGet cache ({path}); " +
            $"`dotnet build src/ConvGL.App` (which ./convgl runs) downloads it: a PackageDownload of {m.PackageId} {m.Version}");
    }

    /// <summary>Whether some folder on the way to <paramref name="path"/> exists but cannot be listed by this user.</summary>
    private static bool ParentUnreadable(string path)
    {
        for (string? dir = Path.GetDirectoryName(Path.GetFullPath(path)); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (!Directory.Exists(dir)) continue;
            try
            {
                _ = Directory.EnumerateFileSystemEntries(dir).FirstOrDefault();
                return false;
            }
            catch (UnauthorizedAccessException)
            {
                return true;
            }
            catch (IOException)
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>The packaged model a file is, or null: the file must sit where the package puts it, under its
    /// package folder (any NuGet root), so a copy of the model elsewhere is just an .onnx file, fed as is.</summary>
    public static PackagedModel? Of(string modelPath)
    {
        string full = Path.GetFullPath(modelPath).Replace('\\', '/');
        foreach (PackagedModel m in All)
        {
            string tail = "/" + m.PackageId.ToLowerInvariant() + "/" + m.Version + "/" + m.ModelPath;
            if (full.EndsWith(tail, StringComparison.Ordinal)) return m;
        }
        return null;
    }

    /// <summary>The preprocessing of a packaged model file (read from the package's preprocessing model), or null for
    /// any other file; a packaged model whose preprocessing model is missing is an error.</summary>
    public static ImagePreprocess? PreprocessFor(string modelPath)
    {
        if (Of(modelPath) is not { PreprocessPath: not null } m) return null;
        string full = Path.GetFullPath(modelPath);
        string packageDir = full[..^(m.ModelPath.Length + 1)];
        string pre = Path.Combine(packageDir, m.PreprocessPath);
        if (!File.Exists(pre)) throw new ConvGLException($"{modelPath}: its package's preprocessing model {pre} is missing; restore {m.PackageId} {m.Version} again");
        return ImagePreprocess.Load(pre, m.PixelScale);
    }
}
