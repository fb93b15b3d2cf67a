namespace ConvGL.Core.Stacks;

/// <summary>What a stack file resolves through the rest of Core: library kernels by name and .npy arrays.</summary>
internal static class StackDefaults
{
    public static Tensor Kernel(string name) =>
        throw new ConvGLException($"unknown kernel '{name}' (the kernel library is not available yet)");

    public static Tensor Npy(string path) =>
        throw new ConvGLException($"{path}: .npy weights are not available yet");
}
