using System.Buffers.Binary;
using System.Diagnostics;
using ConvGL.Core.IO;
using ConvGL.Core.Stacks;

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

public sealed class NumpyOracleTests : IDisposable
{
    private readonly StackDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void RequirePython()
    {
        if (!File.Exists(NumpyStackOracle.Python)) Assert.Skip("/usr/bin/python3 is not installed (scripts/install-deps.sh --test installs it with NumPy)");
    }

    /// <summary>The oracle writes a PyTorch-layout file itself (conv1.weight F16, conv2.weight BF16, biases F32, plus an
    /// unused fc.weight as a real state_dict has); ConvGL loads it by tensor name and runs the CPU executor.
    /// Tolerance abs 1e-5 + rel 1e-5: float32 storage of float64 sums over at most 27 products.</summary>
    [Fact]
    public void CpuStack_FromOracleWrittenF16Bf16File_MatchesNumpy()
    {
        RequirePython();
        Tensor input = TestKernels.Random(new Random(42), 3, 13, 17);
        Tensor[] expected = NumpyStackOracle.Run(_dir.Dir, input);
        Stack stack = _dir.Load(NumpyStackOracle.StackJson);
        StackResult r = StackRunner.Run(stack, input);
        Assert.Equal(6, expected.Length);
        for (int i = 0; i < expected.Length; i++)
            NumpyStackOracle.AssertClose(expected[i], r.Outputs[i], 1e-5, 1e-5, $"layer {i} ({stack.Layers[i].Type}), input 3x13x17 seed 42");
    }

    /// <summary>ConvGL writes the F32 file; the oracle reads those bytes with its own parser.</summary>
    [Fact]
    public void CpuStack_FromConvGLWrittenF32File_MatchesNumpy()
    {
        RequirePython();
        var rng = new Random(9);
        SafeTensors.Write(_dir.File("weights.safetensors"), new Dictionary<string, Tensor>
        {
            ["conv1.weight"] = TestKernels.Random(rng, 6, 3, 3, 3),
            ["conv1.bias"] = TestKernels.Random(rng, 6),
            ["conv2.weight"] = TestKernels.Random(rng, 4, 3, 3, 3),
            ["conv2.bias"] = TestKernels.Random(rng, 4),
        });
        Tensor input = TestKernels.Random(rng, 3, 16, 11);
        Tensor[] expected = NumpyStackOracle.Run(_dir.Dir, input);
        Stack stack = _dir.Load(NumpyStackOracle.StackJson);
        StackResult r = StackRunner.Run(stack, input);
        for (int i = 0; i < expected.Length; i++)
            NumpyStackOracle.AssertClose(expected[i], r.Outputs[i], 1e-5, 1e-5, $"layer {i} ({stack.Layers[i].Type}), input 3x16x11 seed 9");
    }
}
