using ConvGL.Core;
using ConvGL.Core.Stacks;
using ConvGL.Gpu.Stacks;

namespace ConvGL.Gpu.Tests.Stacks;

/// <summary>The `sub` and `div` layers on the GPU (add.comp with OP 1 and 3) against the CPU reference: two maps of one
/// size, a 1x1 per-channel map second and first (the broadcast path), on sizes that straddle the vec4 path (widths 1, 7, 8,
/// 9, 33) and again after a size change on one runner.</summary>
[Collection(GlCollection.Name)]
public sealed class SubDivGpuTests(GlFixture fixture)
{
    [Fact]
    public void SubAndDiv_GpuMatchesCpu_SameSizeAndPerChannel()
    {
        Stack stack = StackFile.Parse("""
            {"input": "rgb", "layers": [
              {"type": "conv", "name": "blur", "kernels": ["gaussian:5"], "border": "reflect"},
              {"type": "sub", "name": "detail", "inputs": ["input", "blur"]},
              {"type": "globalavgpool", "name": "mean", "inputs": ["input"]},
              {"type": "sub", "name": "centred", "inputs": ["input", "mean"]},
              {"type": "sub", "name": "flipped", "inputs": ["mean", "input"]},
              {"type": "div", "name": "ratio", "inputs": ["input", "blur"]},
              {"type": "div", "name": "scaled", "inputs": ["input", "mean"]},
              {"type": "div", "name": "inverse", "inputs": ["mean", "blur"]}
            ]}
            """, "subdiv.json");
        using var runner = new GpuStackRunner(fixture.Context, stack, 5, 8);
        foreach ((int h, int w) in new[] { (5, 8), (1, 1), (5, 7), (17, 9), (3, 33), (5, 8) })
        {
            // Values in [0.2, 1.2]: no division near zero, where float rounding on either side would differ widely.
            Tensor image = GpuStackTests.TestImage(3, h, w, seed: h * 40 + w);
            for (int i = 0; i < image.Length; i++) image.Data[i] += 0.2f;
            StackResult cpu = StackRunner.Run(stack, image), gpu = runner.Run(image);
            for (int i = 0; i < cpu.Outputs.Count; i++)
                Parity.AssertGpuMatchesReference(cpu.Outputs[i], gpu.Outputs[i], $"layer {i} ({stack.Layers[i].Type} '{stack.Layers[i].Label}') at 3x{h}x{w}");
        }
    }

    /// <summary>The shipped dog stack on the GPU: the band (two blurs subtracted) and the one-kernel conv agree to float
    /// rounding there too (the review measured 8e-7 on a 906x906 photo with band values up to 0.15; the CPU's 1.2e-7).</summary>
    [Fact]
    public void Dog_TheBandAndTheOneKernelConv_AgreeOnTheGpu()
    {
        Stack dog = StackCatalog.Load("dog");
        Tensor image = GpuStackTests.TestImage(1, 61, 83, seed: 7);
        using var runner = new GpuStackRunner(fixture.Context, dog, 61, 83);
        StackResult gpu = runner.Run(image);
        float[] band = gpu.Outputs[2].Data, one = gpu.Outputs[3].Data;
        double most = band.Max(v => Math.Abs((double)v)), worst = band.Zip(one, (a, b) => Math.Abs((double)a - b)).Max();
        Assert.True(most > 0.01, $"the band is flat ({most})");
        Assert.True(worst <= 2e-6, $"band and one kernel differ by {worst} (band up to {most})");
    }
}
