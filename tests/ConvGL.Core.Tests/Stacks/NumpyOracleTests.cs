using ConvGL.Core.IO;
using ConvGL.Core.Stacks;

namespace ConvGL.Core.Tests.Stacks;

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
