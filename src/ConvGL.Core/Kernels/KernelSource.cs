namespace ConvGL.Core.Kernels;

/// <summary>Turns a `--kernel` argument into a kernel: a library name (with optional parameters) wins, so
/// `sobel-x` is always the library kernel; anything else is a file path (use `./sobel-x` for a file of that name).</summary>
public static class KernelSource
{
    public static Tensor Resolve(string nameOrPath)
    {
        ArgumentNullException.ThrowIfNull(nameOrPath);
        if (nameOrPath.Length == 0) throw new ConvGLException("empty kernel name (give a library name such as sobel-x or a kernel file)");
        if (KernelLibrary.IsName(nameOrPath)) return KernelLibrary.Get(nameOrPath);
        if (File.Exists(nameOrPath)) return KernelFile.Load(nameOrPath);
        if (Directory.Exists(nameOrPath)) throw new ConvGLException($"kernel file '{ErrorText.Echo(nameOrPath)}' is a folder; give a kernel file (.txt or .npy) or a library name");
        bool looksLikePath = nameOrPath.Contains('/') || (Path.HasExtension(nameOrPath) && !nameOrPath.Contains(':'));
        // A kernel file named without its extension (my-kernel for my-kernel.txt): said, not listed as an unknown name.
        if (!nameOrPath.Contains(':'))
            foreach (string extension in (ReadOnlySpan<string>)[".txt", ".npy"])
                if (File.Exists(nameOrPath + extension))
                    throw new ConvGLException($"unknown kernel '{ErrorText.Echo(nameOrPath)}': did you mean the file '{ErrorText.Echo(nameOrPath + extension)}'? (a kernel file is named with its extension)");
        if (looksLikePath) throw new ConvGLException($"kernel file '{ErrorText.Echo(nameOrPath)}' does not exist");
        // Not a file and not a path: report it as a name, listing the library.
        return KernelLibrary.Get(nameOrPath);
    }
}
