using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Fuzz;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu.Stacks;

namespace ConvGL.Gpu.Tests.Onnx;

/// <summary>Differential fuzzing of an imported model's two runners. The test models that import as stacks, mutated as the
/// Core loader fuzzer mutates them (its onnx-stack target: byte edits that change strides, pads, groups, axes, weights,
/// shapes): each one that imports and that the CPU reference runs with finite maps runs on the GPU too (at sizes around the
/// programs' blocks; direct, the window's automatic plans, or every conv through the FFT), every layer's map equal to the
/// reference layer's on the same (GPU) inputs, within 1e-4 of the map's largest value (a conv's: of its sum of |w x|
/// bound); the GPU must not refuse what the CPU ran, and nothing may throw but a ConvGLException.
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
        BranchyGraphs.CspBytes(), BranchyGraphs.AlexNetLikeBytes(), BranchyGraphs.ShuffleBytes(), BranchyGraphs.StyleTransferBytes(),
    ];

    /// <summary>The conv layers' algorithm for input i: direct, the window's (the cost model's), or every conv through the FFT.</summary>
    private static ConvAlgorithm Algorithm(int i) => (i / 7 % 3) switch { 0 => ConvAlgorithm.Direct, 1 => ConvAlgorithm.Auto, _ => ConvAlgorithm.Fft };

    private static readonly (int H, int W)[] Sizes = [(6, 4), (9, 13), (17, 8), (12, 20)];

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
        var variants = new SortedSet<string>(StringComparer.Ordinal); // the programs the GPU ran, for the log
        for (int i = 0; i < count && findings.Count < 10; i++)
        {
            var rng = new Random(unchecked(seed * 7919 + i));
            byte[] bytes = Mutator.Mutate(Seeds[i % Seeds.Length], rng, Dictionary, Seeds);
            string where = $"seed {seed} input {i} (model {i % Seeds.Length}, {Algorithm(i).ToString().ToLowerInvariant()} plans)";
            Stack stack;
            Tensor x;
            StackResult cpu;
            try
            {
                OnnxGraph graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "fuzzed.onnx"));
                stack = OnnxStack.FromGraph(graph, "fuzzed", OnnxStack.DeclaredSize(graph));
                imported++;
                // Sizes on both sides of the programs' blocks (8 outputs along x, Winograd's 4x4 tiles), where the model is free.
                (int H, int W) size = Sizes[i / Seeds.Length % Sizes.Length];
                int h = stack.Preprocess?.Height ?? size.H, w = stack.Preprocess?.Width ?? size.W;
                if ((long)h * w * stack.InputChannels > 4096) continue; // too big to run per input
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
                // Every other input the window's plans (the cost model's: Winograd, weights compiled in, FFT, split passes).
                using var runner = new GpuStackRunner(fixture.Context, stack, x.H, x.W, algorithm: Algorithm(i));
                StackResult gpu = runner.Run(x);
                compared++;
                for (int l = 0; l < stack.Layers.Count; l++)
                    if (runner.Variant(l) is { } variant) variants.Add(variant.Split(':')[0]);
                // Layer by layer on the GPU's own inputs (a rounding difference in one map must not be judged in the next: a
                // relu turns a conv's 1e12 of 5.7e19 into a difference of 1e12 in a map of 0.87).
                Tensor input = stack.PrepareInput(x);
                for (int l = 0; l < stack.Layers.Count; l++)
                {
                    StackLayer layer = stack.Layers[l];
                    Tensor[] ins = layer.InputsOf(l).Select(j => j < 0 ? input : gpu.Outputs[j]).ToArray();
                    Tensor want = ins.Length == 1 ? layer.Forward(ins[0]) : layer.Forward(ins), got = gpu.Outputs[l];
                    if (!want.Shape.SequenceEqual(got.Shape))
                    {
                        findings.Add($"{where}: layer {l} ({layer.Type}) is {got.ShapeString} on the GPU, {want.ShapeString} on the CPU");
                        break;
                    }
                    // A sum's rounding is bounded by the sum of |w x|: for a conv (any algorithm: the FFT's error spreads over the
                    // frame) the largest output channel's sum of |w| (and |bias|) times the largest |input| (a mutated weight of
                    // 5.7e34 on a tap that reads the zero border leaves the direct sum exact and the FFT's off by ~1e27).
                    double scale = Math.Max(1e-3, want.Data.Max(v => Math.Abs((double)v)));
                    if (layer is ConvLayer conv)
                    {
                        int cout = conv.Weight.Shape[0], per = conv.Weight.Length / cout;
                        double sumW = Enumerable.Range(0, cout).Max(o => conv.Weight.Data.Skip(o * per).Take(per).Sum(v => Math.Abs((double)v)) + Math.Abs(conv.Bias?[o] ?? 0));
                        scale = Math.Max(scale, sumW * ins[0].Data.Max(v => Math.Abs((double)v)));
                    }
                    int e = Enumerable.Range(0, want.Length).FirstOrDefault(k => !(Math.Abs(want.Data[k] - (double)got.Data[k]) <= 1e-4 * scale), -1);
                    if (e >= 0)
                    {
                        findings.Add($"{where}: layer {l} ({layer.Type}) value {e}: CPU {want.Data[e]}, GPU {got.Data[e]} (scale {scale:G3})" +
                                     $"; reads {string.Join(", ", ins.Select(t => $"{t.ShapeString} (max |value| {t.Data.Max(MathF.Abs):G3})"))}" +
                                     (layer is ConvLayer c ? $"; weight {c.Weight.ShapeString} (max |w| {c.Weight.Data.Max(MathF.Abs):G3}), {c.Options}, GPU {runner.Variant(l)}" : ""));
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
        log.WriteLine($"{count} mutated models, seed {seed}: {imported} imported, {compared} compared on the GPU, {findings.Count} findings; programs: {string.Join(", ", variants)}");
        Assert.True(findings.Count == 0, string.Join("\n", findings));
        Assert.True(compared >= count / 20, $"only {compared} of {count} mutated models compared: the mutations stopped producing runnable stacks");
    }
}
