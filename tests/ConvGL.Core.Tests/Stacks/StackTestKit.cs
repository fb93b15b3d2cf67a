using ConvGL.Core.Stacks;

namespace ConvGL.Core.Tests.Stacks;

/// <summary>A temporary folder for stack files and their weights, and a tiny hand-typed kernel table so the
/// parser tests do not depend on the kernel library's contents.</summary>
internal sealed class StackDir : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("convgl-stack-").FullName;

    public void Dispose() => Directory.Delete(Dir, recursive: true);

    public string File(string name) => Path.Combine(Dir, name);

    public string Write(string name, string json)
    {
        string path = File(name);
        System.IO.File.WriteAllText(path, json);
        return path;
    }

    public Stack Load(string json, string name = "s.json") => StackFile.Load(Write(name, json), TestKernels.Resolve);

    public static readonly Dictionary<string, float[][]> Kernels = new()
    {
        ["sobel-x"] = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
        ["sobel-y"] = [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
        ["box5"] = [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]],
        ["even2"] = [[1, 2], [3, 4]],
        ["nan"] = [[float.NaN]],
    };
}

internal static class TestKernels
{
    public static Tensor Resolve(string name) =>
        StackDir.Kernels.TryGetValue(name, out float[][]? rows) ? Tensor.Matrix(rows)
            : throw new ConvGLException($"unknown kernel '{name}'");

    public static Tensor Random(Random rng, params int[] shape)
    {
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (float)(rng.NextDouble() * 2.4 - 1.2);
        return t;
    }
}
