using ConvGL.Core.Kernels;

namespace ConvGL.Core.Stacks;

/// <summary>What a stack file resolves through the rest of Core: kernels and .npy arrays.</summary>
internal static class StackDefaults
{
    /// <summary>A library kernel spec ("sobel-x", "gabor:theta=45,lambda=6") or, when it is not a library name,
    /// a kernel file (text or .npy, see KernelFile) relative to the stack file's folder. A library name wins, as
    /// for `convgl apply --kernel`.</summary>
    public static Tensor Kernel(string spec, string stackDir)
    {
        if (!KernelLibrary.IsName(spec))
        {
            string file = Path.Combine(stackDir, spec);
            if (File.Exists(file)) return KernelFile.Load(file);
            // A path, not a name (a folder in it, or a kernel file's extension): the missing file is the error, not an
            // unknown library name (a hostile-input review's "missing.txt" was listed against the library's names; a typo
            // such as "sobel.x" is still a name, with its did-you-mean).
            if (KernelSource.LooksLikePath(spec))
                throw new ConvGLException($"kernel file '{ErrorText.Echo(spec)}' does not exist (looked for {ErrorText.Echo(file)}; a stack's kernel files are found beside it)");
        }
        return KernelLibrary.Get(spec);
    }

    public static Tensor Npy(string path) => IO.Npy.Read(path);
}
