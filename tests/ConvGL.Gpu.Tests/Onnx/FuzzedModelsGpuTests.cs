using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Fuzz;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu.Stacks;

namespace ConvGL.Gpu.Tests.Onnx;

/// <summary>Differential fuzzing of an imported model's two runners. The test models that import as stacks, mutated as the
/// Core loader fuzzer mutates them (its onnx-stack target: byte edits that change strides, pads, groups, axes, weights,
/// shapes): each one that imports and that the CPU reference runs with finite maps runs on the GPU too, every layer's map
/// equal to the reference's; the GPU must not refuse what the CPU ran, and nothing may throw but a ConvGLException.
/// CONVGL_FUZZ_COUNT and CONVGL_FUZZ_SEED as for the loader fuzzer (here: 3,000 inputs from a fixed seed).</summary>
[Collection(GlCollection.Name)]
public sealed class FuzzedModelsGpuTests(GlFixture fixture, ITestOutputHelper log)
{
    private static readonly byte[][] Seeds =
    [
        SmallGraphs.ResidualWithHeadBytes(), BranchyGraphs.MobileLikeBytes(), BranchyGraphs.SqueezeExciteBytes(), BranchyGraphs.DecoderBytes(),
        BranchyGraphs.ConvNeXtBytes(), BranchyGraphs.ShuffleUnitBytes(), BranchyGraphs.FocusBytes(), BranchyGraphs.DynamicHeadBytes(),
        BranchyGraphs.KerasLikeBytes(head: true), BranchyGraphs.KerasDigitsBytes(), BranchyGraphs.KerasLikeBytes(height: 8, width: 6),
        BranchyGraphs.ClassifierBytes(), BranchyGraphs.UpsamplerBytes(), BranchyGraphs.SuperResolutionBytes(), BranchyGraphs.PoolingHeadBytes(),
        BranchyGraphs.CspBytes(), BranchyGraphs.AlexNetLikeBytes(), BranchyGraphs.ShuffleBytes(),
        // (Not the style-transfer model: its instance norms' GPU statistics overflow past ~1.8e19, README "Known not to work".)
    ];

    // The loader fuzzer's onnx-stack dictionary: protobuf tags and varints of the fields models are made of.
    private static readonly byte[][] Dictionary =
        [[0x08, 0x07], [0x3A], [0x0A, 0x01, 0x78], [0x12, 0x01, 0x79], [0x2A], [0x42, 0x02, 0x10, 0x0D], [0x08, 0x01], [0x08, 0x03], [0x08, 0x0B],
         [0x40, 0xFF, 0xFF, 0xFF, 0xFF, 0x07], [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0x10, 0x01], [0x10, 0x02], [0x10, 0x03]];

    [Fact]
    public void MutatedModels_ThatTheCpuRuns_RunEqualOnTheGpu()
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("CONVGL_FUZZ_COUNT"), out int n) && n > 0 ? n : 3000;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("CONVGL_FUZZ_SEED"), out int s) ? s : 20261207;
        int imported = 0, compared = 0;
        var findings = new List<string>();
        for (int i = 0; i < count && findings.Count < 10; i++)
        {
            var rng = new Random(unchecked(seed * 7919 + i));
            byte[] bytes = Mutator.Mutate(Seeds[i % Seeds.Length], rng, Dictionary, Seeds);
            string where = $"seed {seed} input {i} (model {i % Seeds.Length})";
            Stack stack;
            Tensor x;
            StackResult cpu;
            try
            {
                OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "fuzzed.onnx"));
                stack = OnnxStack.FromGraph(graph, "fuzzed", OnnxStack.DeclaredSize(graph));
                imported++;
                int h = stack.Preprocess?.Height ?? 6, w = stack.Preprocess?.Width ?? 4;
                if ((long)h * w * stack.InputChannels > 4096) continue;
                x = new Tensor([stack.InputChannels, h, w]);
                for (int k = 0; k < x.Length; k++) x.Data[k] = (k * 37 % 101) / 101f;
                cpu = StackRunner.Run(stack, x);
            }
            catch (ConvGLException)
            {
                continue; // refused with its error (the loader fuzzer checks those)
            }
            // Maps past float's range, or NaN from mutated weights, are compared by nothing here.
            if (cpu.Outputs.Any(o => o.Data.Any(v => !float.IsFinite(v) || Math.Abs(v) > 1e30f))) continue;
            try
            {
                using var runner = new GpuStackRunner(fixture.Context, stack, x.H, x.W);
                StackResult gpu = runner.Run(x);
                compared++;
                for (int l = 0; l < stack.Layers.Count; l++)
                {
                    Tensor want = cpu.Outputs[l], got = gpu.Outputs[l];
                    if (!want.Shape.SequenceEqual(got.Shape))
                    {
                        findings.Add($"{where}: layer {l} ({stack.Layers[l].Type}) is {got.ShapeString} on the GPU, {want.ShapeString} on the CPU");
                        break;
                    }
                    double scale = Math.Max(1e-3, want.Data.Max(v => Math.Abs((double)v)));
                    int e = Enumerable.Range(0, want.Length).FirstOrDefault(k => !(Math.Abs(want.Data[k] - (double)got.Data[k]) <= 1e-3 * scale), -1);
                    if (e >= 0)
                    {
                        findings.Add($"{where}: layer {l} ({stack.Layers[l].Type}) value {e}: CPU {want.Data[e]}, GPU {got.Data[e]} (map max {scale:G3})" +
                                     $"; reads {string.Join(", ", stack.Layers[l].InputsOf(l).Select(j => j < 0 ? "the input " + x.ShapeString : $"layer {j} {cpu.Outputs[j].ShapeString} (max |value| {cpu.Outputs[j].Data.Max(MathF.Abs):G3})"))}, gives {want.ShapeString}");
                        break;
                    }
                }
            }
            catch (ConvGLException ex)
            {
                findings.Add($"{where}: the CPU ran it, the GPU refused: {ex.Message}");
            }
            catch (Exception ex)
            {
                findings.Add($"{where}: {ex.GetType().Name}: {ex.Message}");
            }
        }
        log.WriteLine($"{count} mutated models, seed {seed}: {imported} imported, {compared} compared on the GPU, {findings.Count} findings");
        Assert.True(findings.Count == 0, string.Join("\n", findings));
        Assert.True(compared >= count / 20, $"only {compared} of {count} mutated models compared: the mutations stopped producing runnable stacks");
    }
}
