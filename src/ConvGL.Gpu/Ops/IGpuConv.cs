using ConvGL.Core;

namespace ConvGL.Gpu.Ops;

/// <summary>What the direct (<see cref="GpuConv2D"/>) and the convolution-theorem (<see cref="GpuFftConv2D"/>)
/// convolutions have in common: the same contract as <see cref="ConvGL.Core.Ops.Conv2D.Apply"/>, weights in
/// PyTorch's layout kept across runs, options switchable between runs. Callers that pick an algorithm per kernel and
/// image (<see cref="GpuFilter"/>) hold either through this.</summary>
public interface IGpuConv : IDisposable
{
    /// <summary>(C_out, C_in / groups, kH, kW).</summary>
    int[] WeightShape { get; }

    ConvOptions Options { get; set; }

    /// <summary>Takes a new weight set (C_out, C_in / groups, kH, kW) and optional bias (C_out).</summary>
    void SetWeights(Tensor weight, float[]? bias);

    /// <summary>Runs the convolution; <paramref name="output"/> is resized to the output shape.</summary>
    void Run(GpuTensor input, GpuTensor output);
}
