namespace ConvGL.Core.Kernels;

/// <summary>Turns a `--kernel` argument into a kernel: a library name (with optional parameters) wins, so
/// `sobel-x` is always the library kernel; anything else is a file path (use `./sobel-x` for a file of that name).
/// A missing one is told as a missing file when it reads as a path (<see cref="LooksLikePath"/>), else as an unknown
/// name with the library's did-you-mean ("sobel.x" is a typo of sobel-x, not a file of extension ".x").</summary>
public static class KernelSource
{
    public static Tensor Resolve(string nameOrPath)
    {
        ArgumentNullException.ThrowIfNull(nameOrPath);
        if (nameOrPath.Length == 0) throw new ConvGLException("empty kernel name (give a library name such as sobel-x or a kernel file)");
        if (KernelLibrary.IsName(nameOrPath)) return KernelLibrary.Get(nameOrPath);
        if (File.Exists(nameOrPath)) return KernelFile.Load(nameOrPath);
        if (Directory.Exists(nameOrPath)) throw new ConvGLException($"kernel file '{ErrorText.Echo(nameOrPath)}' is a folder; give a kernel file (.txt or .npy) or a library name");
        bool looksLikePath = LooksLikePath(nameOrPath);
        // A kernel file named without its extension (my-kernel for my-kernel.txt): said, not listed as an unknown name.
        if (!nameOrPath.Contains(':'))
            foreach (string extension in (ReadOnlySpan<string>)[".txt", ".npy"])
                if (File.Exists(nameOrPath + extension))
                    throw new ConvGLException($"unknown kernel '{ErrorText.Echo(nameOrPath)}': did you mean the file '{ErrorText.Echo(nameOrPath + extension)}'? (a kernel file is named with its extension)");
        if (looksLikePath) throw new ConvGLException($"kernel file '{ErrorText.Echo(nameOrPath)}' does not exist");
        // Not a file and not a path: report it as a name, listing the library.
        return KernelLibrary.Get(nameOrPath);
    }

    /// <summary>Whether a kernel spec that is neither a library name nor an existing file is meant as a file: a folder in
    /// it, or (no ':' of parameters) the extension of a kernel file or of what people give by mistake (a stack, a model).
    /// `apply --kernel` and a stack file's kernels decide alike.</summary>
    public static bool LooksLikePath(string spec) =>
        spec.Contains('/') || (!spec.Contains(':') && Path.GetExtension(spec).ToLowerInvariant() is ".txt" or ".npy" or ".json" or ".onnx");
}
