using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu.Stacks;

namespace ConvGL.Gpu.Tests.Stacks;

/// <summary>The slice layer's rows and columns on the GPU (strided_copy.comp through GpuStackOps) against the CPU
/// reference: every range form (steps 1 to 3 and -1, -2; negative and open bounds) on heights 1, 5, 17 and widths 1, 7,
/// 8, 9, 33, with a run of channels or all; the same runner on a second size (the view is remade); and the Focus stem
/// imported from ONNX.</summary>
[Collection(GlCollection.Name)]
public sealed class SliceGpuTests(GlFixture fixture)
{
    private static readonly string[] Ranges = ["[1, null, 2]", "[null, null, 2]", "[null, null, -1]", "[1, -1]", "[-3, null]", "[null, null, 3]", "[-1, 0, -2]", "[0, 1]"];

    [Fact]
    public void RowsAndCols_GpuMatchesCpu_EveryRangeAndSize()
    {
        GlContext gl = fixture.Context;
        int checkedCases = 0;
        for (int k = 0; k < Ranges.Length * Ranges.Length; k++)
        {
            string rows = Ranges[k % Ranges.Length], cols = Ranges[(k * 3 + k / Ranges.Length) % Ranges.Length];
            string json = $$"""
                {"input": "rgb", "layers": [
                  {"type": "slice", "rows": {{rows}}, "cols": {{cols}}},
                  {"type": "slice", "inputs": [-1], "start": 1, "end": 3, "rows": {{cols}}},
                  {"type": "slice", "inputs": [-1], "start": 2, "cols": {{rows}}}
                ]}
                """;
            Stack stack = StackFile.Parse(json, "slices.json");
            foreach (int h in new[] { 1, 5, 17 })
                foreach (int w in new[] { 1, 7, 8, 9, 33 })
                {
                    Tensor image = GpuStackTests.TestImage(3, h, w, seed: h * 100 + w);
                    StackResult cpu;
                    try { cpu = StackRunner.Run(stack, image); }
                    catch (ConvGLException e) when (e.Message.Contains("take no", StringComparison.Ordinal)) { continue; }
                    using var runner = new GpuStackRunner(gl, stack, h, w);
                    StackResult gpu = runner.Run(image);
                    for (int i = 0; i < 3; i++)
                    {
                        Assert.Equal(cpu.Outputs[i].Shape, gpu.Outputs[i].Shape);
                        Assert.True(cpu.Outputs[i].Data.AsSpan().SequenceEqual(gpu.Outputs[i].Data), $"layer {i} rows {rows} cols {cols} on 3x{h}x{w}: a copy must be exact");
                    }
                    checkedCases++;
                }
        }
        Assert.True(checkedCases > 600, $"only {checkedCases} cases ran");
    }

    /// <summary>`start` alone on the channels (no rows or cols): channels start to the last, as the CPU reference.</summary>
    [Fact]
    public void StartAlone_GpuMatchesCpu()
    {
        Stack stack = StackFile.Parse("""{"input": "rgb", "layers": [{"type": "slice", "start": 1}]}""", "s.json");
        foreach ((int h, int w) in new[] { (7, 9), (1, 8), (5, 33) })
        {
            Tensor image = GpuStackTests.TestImage(3, h, w, seed: 5 * h + w);
            StackResult cpu = StackRunner.Run(stack, image);
            using var runner = new GpuStackRunner(fixture.Context, stack, h, w);
            StackResult gpu = runner.Run(image);
            Assert.Equal([2, h, w], gpu.Outputs[0].Shape);
            Assert.Equal(image.Data[(h * w)..], gpu.Outputs[0].Data);
            Assert.Equal(cpu.Outputs[0].Data, gpu.Outputs[0].Data);
        }
    }

    [Fact]
    public void ASecondSize_RemakesTheView()
    {
        GlContext gl = fixture.Context;
        Stack stack = StackFile.Parse("""{"input": "rgb", "layers": [{"type": "slice", "start": 1, "rows": [1, null, 2], "cols": [null, null, -2]}]}""", "s.json");
        using var runner = new GpuStackRunner(gl, stack, 9, 11);
        foreach ((int h, int w) in new[] { (9, 11), (6, 4), (9, 11) })
        {
            Tensor image = GpuStackTests.TestImage(3, h, w, seed: h + w);
            Assert.Equal(StackRunner.Run(stack, image).Outputs[0].Data, runner.Run(image).Outputs[0].Data);
        }
    }

    [Fact]
    public void FocusStem_FromOnnx_GpuMatchesCpu()
    {
        GlContext gl = fixture.Context;
        Stack stack = OnnxStack.FromGraph(BranchyGraphs.Focus(), "focus");
        Assert.Equal(["slice", "slice", "slice", "slice", "concat", "conv", "relu", "slice"], stack.Layers.Select(l => l.Type));
        Tensor image = GpuStackTests.TestImage(3, 12, 16, seed: 3);
        StackResult cpu = StackRunner.Run(stack, image);
        using var runner = new GpuStackRunner(gl, stack, 12, 16);
        StackResult gpu = runner.Run(image);
        for (int i = 0; i < cpu.Outputs.Count; i++)
            Parity.AssertGpuMatchesReference(cpu.Outputs[i], gpu.Outputs[i], $"layer {i} ({stack.Layers[i].Type}) of the Focus stem");
    }

    /// <summary>Pad and resize to the second map's size against the CPU: pooled maps taken back to their input's size
    /// (all five borders; nearest, linear and cubic), on even and odd sizes with one runner, so the options are remade.</summary>
    [Fact]
    public void PadAndResizeToSecond_GpuMatchesCpu_AsTheSizeChanges()
    {
        GlContext gl = fixture.Context;
        Stack stack = StackFile.Parse("""
            {"input": "rgb", "layers": [
              {"type": "maxpool", "name": "down", "size": 2},
              {"type": "resize", "inputs": ["down", "input"], "mode": "linear", "coordinates": "pytorch_half_pixel"},
              {"type": "resize", "inputs": ["down", "input"], "mode": "nearest", "coordinates": "asymmetric", "rounding": "floor"},
              {"type": "resize", "inputs": ["down", "input"], "mode": "cubic", "coordinates": "align_corners"},
              {"type": "pad", "inputs": ["down", "input"]},
              {"type": "pad", "inputs": ["down", "input"], "border": "reflect"},
              {"type": "pad", "inputs": ["down", "input"], "border": "replicate"},
              {"type": "pad", "inputs": ["down", "input"], "border": "symmetric"},
              {"type": "pad", "inputs": ["down", "input"], "border": "wrap"},
              {"type": "pad", "inputs": ["input", "down"], "value": 0.5},
              {"type": "concat", "inputs": ["input", 1, 4]}
            ]}
            """, "to-second.json");
        using var runner = new GpuStackRunner(gl, stack, 12, 16);
        foreach ((int h, int w) in new[] { (12, 16), (13, 17), (9, 7), (12, 16) })
        {
            Tensor image = GpuStackTests.TestImage(3, h, w, seed: h * w);
            StackResult cpu = StackRunner.Run(stack, image), gpu = runner.Run(image);
            for (int i = 0; i < cpu.Outputs.Count; i++)
                Parity.AssertGpuMatchesReference(cpu.Outputs[i], gpu.Outputs[i], $"layer {i} ({stack.Layers[i].Type}) at 3x{h}x{w}");
        }
    }
}
