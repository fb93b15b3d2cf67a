using System.Buffers.Binary;
using System.Diagnostics;

namespace ConvGL.Core.Tests.Stacks;

/// <summary>Runs tests/ConvGL.Core.Tests/Stacks/numpy_stack_oracle.py (Debian's /usr/bin/python3 with NumPy), an
/// independent computation of a learned stack from the same safetensors bytes.</summary>
internal static class NumpyStackOracle
{
    public const string Python = "/usr/bin/python3";

    /// <summary>The stack the oracle computes, PyTorch layout: conv1 -> relu -> maxpool -> conv2 (groups 2) -> relu -> avgpool.</summary>
    public const string StackJson = """
        {
          "name": "numpy-oracle", "input": "rgb", "weights": "weights.safetensors",
          "layers": [
            { "type": "conv", "weight": "conv1.weight", "bias": "conv1.bias", "padding": 1, "border": "zero" },
            { "type": "relu" },
            { "type": "maxpool", "size": 2 },
            { "type": "conv", "weight": "conv2.weight", "bias": "conv2.bias", "groups": 2, "stride": [1, 2], "padding": [1, 0] },
            { "type": "relu" },
            { "type": "avgpool", "size": 2, "stride": 1, "padding": 1 }
          ]
        }
        """;

    public static string Script
    {
        get
        {
            for (string? d = AppContext.BaseDirectory; d is not null; d = Path.GetDirectoryName(d))
            {
                string candidate = Path.Combine(d, "tests", "ConvGL.Core.Tests", "Stacks", "numpy_stack_oracle.py");
                if (File.Exists(candidate)) return candidate;
            }
            throw new InvalidOperationException("numpy_stack_oracle.py not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Writes the input, runs the oracle in <paramref name="dir"/> and returns its per-layer outputs.</summary>
    public static Tensor[] Run(string dir, Tensor input)
    {
        File.WriteAllText(Path.Combine(dir, "shape.txt"), $"{input.C} {input.H} {input.W}");
        var bytes = new byte[input.Length * 4];
        for (int i = 0; i < input.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), input.Data[i]);
        File.WriteAllBytes(Path.Combine(dir, "input.bin"), bytes);

        var psi = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(Script);
        psi.ArgumentList.Add(dir);
        using Process p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"numpy oracle failed ({p.ExitCode}): {err}");

        var outs = new List<Tensor>();
        for (int i = 0; File.Exists(Path.Combine(dir, $"out{i}.bin")); i++)
        {
            int[] shape = File.ReadAllText(Path.Combine(dir, $"out{i}.txt")).Split(' ').Select(int.Parse).ToArray();
            byte[] raw = File.ReadAllBytes(Path.Combine(dir, $"out{i}.bin"));
            var t = new Tensor(shape);
            for (int k = 0; k < t.Length; k++) t.Data[k] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw.AsSpan(k * 8));
            outs.Add(t);
        }
        return outs.ToArray();
    }

    public static void AssertClose(Tensor expected, Tensor actual, double abs, double rel, string what)
    {
        Assert.True(expected.SameShape(actual), $"{what}: shape {actual.ShapeString}, oracle {expected.ShapeString}");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected.Data[i], a = actual.Data[i];
            Assert.True(Math.Abs(e - a) <= abs + rel * Math.Abs(e),
                $"{what}: flat index {i} of {expected.ShapeString}: got {a}, oracle {e} (tolerance abs {abs} + rel {rel})");
        }
    }
}
