using ConvGL.Core;
using ConvGL.Gpu;

namespace ConvGL.Bench;

/// <summary>A GPU op bound to its settings, runnable on preallocated tensors: what the timed loop calls.</summary>
internal sealed class GpuBenchOp(Action<GpuTensor, GpuTensor> run, IDisposable owner, Func<string> variant) : IDisposable
{
    public void Run(GpuTensor input, GpuTensor output) => run(input, output);

    /// <summary>The shader variant the op's plan chose (after a run), for the row's note.</summary>
    public string Variant => variant();

    public void Dispose() => owner.Dispose();
}

/// <summary>One benchmark case: an op on one input, its CPU algorithm, its GPU twin (if any), the definition used to
/// verify the GPU result, and the geometry of one output's window (for choosing which crop outputs are exact).</summary>
internal sealed class BenchCase
{
    public required string Name { get; init; }
    public required string Op { get; init; }
    public required int Cin { get; init; }
    public required int Cout { get; init; }
    public required int H { get; init; }
    public required int W { get; init; }
    public required string Kernel { get; init; }
    public required string StrideDilation { get; init; }
    public required string Border { get; init; }
    /// <summary>Multiply-adds of the direct convolution (C_out * H_out * W_out * C_in/groups * kH * kW); 0 for pools.</summary>
    public required long Macs { get; init; }
    public required Func<Tensor> MakeInput { get; init; }
    public required Func<Tensor, Tensor> Cpu { get; init; }
    public required string CpuAlgo { get; init; }
    public Func<GlContext, GpuBenchOp>? Gpu { get; init; }
    public string GpuAlgo { get; init; } = "";
    /// <summary>The CPU library a C# user would call instead (OpenCV, ONNX Runtime), made for one input; null: none.</summary>
    public Func<Tensor, BenchPeer>? Peer { get; init; }
    /// <summary>The definition the GPU result must equal (the direct reference, whatever algorithm is timed).</summary>
    public required Func<Tensor, Tensor> Reference { get; init; }
    /// <summary>Kernel size, stride, dilation, padding and border of one output's window, per axis.</summary>
    public required WindowGeometry Window { get; init; }
    /// <summary>A whole-output check (input, output) replacing the corner-crop one (a model's output is not a window
    /// of its input); null: <see cref="BenchVerify.Check"/>.</summary>
    public Func<Tensor, Tensor, Verification>? Verify { get; init; }
    /// <summary>Where a GPU row's time goes, as lines for after the table (a model: per layer kind); null: none.</summary>
    public Func<GlContext, Tensor, IReadOnlyList<string>>? GpuBreakdown { get; init; }
    /// <summary>Why the CPU reference row is not timed (it would take too long); null: timed unless above
    /// BenchHarness.CpuSkipMacs. The GPU row is still checked against the reference on corner crops.</summary>
    public string? CpuSkip { get; init; }
    /// <summary>Run only when <c>--case</c> names it in full, never in the default set (a case no software rasteriser can
    /// hold: its row would be FAILED on every machine without a GPU).</summary>
    public bool ExplicitOnly { get; init; }
}

internal readonly record struct WindowGeometry(int KernelY, int KernelX, ConvOptions Options);

