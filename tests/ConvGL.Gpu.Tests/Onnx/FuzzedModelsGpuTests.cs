using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Fuzz;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu.Onnx;
using ConvGL.Gpu.Stacks;
using ConvGL.Gpu.Tests.Stacks;

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
    // The models built in the tests that import as stacks, then every real-architecture block of ArchitectureGraphs (EfficientNet,
    // MobileNetV3, DenseNet, Inception, YOLO, UNet, ResNet-50, CBAM, attention blocks ... at their opsets).
    private static readonly byte[][] Seeds =
    [
        .. Models(),
        .. ArchitectureGraphs.Importing().Select(a => ArchitectureGraphs.Build((string)a[0], (long)a[1])),
    ];

    private static byte[][] Models() =>
    [
        SmallGraphs.ResidualWithHeadBytes(), BranchyGraphs.MobileLikeBytes(), BranchyGraphs.SqueezeExciteBytes(), BranchyGraphs.DecoderBytes(),
        BranchyGraphs.ConvNeXtBytes(), BranchyGraphs.ShuffleUnitBytes(), BranchyGraphs.FocusBytes(), BranchyGraphs.DynamicHeadBytes(),
        BranchyGraphs.KerasLikeBytes(head: true), BranchyGraphs.KerasDigitsBytes(), BranchyGraphs.KerasLikeBytes(height: 8, width: 6),
        BranchyGraphs.ClassifierBytes(), BranchyGraphs.UpsamplerBytes(), BranchyGraphs.SuperResolutionBytes(), BranchyGraphs.PoolingHeadBytes(),
        BranchyGraphs.CspBytes(), BranchyGraphs.AlexNetLikeBytes(), BranchyGraphs.ShuffleBytes(), BranchyGraphs.StyleTransferBytes(),
        OneDGraphs.Bytes(),
    ];

    /// <summary>The conv layers' algorithm for input i: direct, the window's (the cost model's), or every conv through the FFT.</summary>
    private static ConvAlgorithm Algorithm(int i) => (i / 7 % 3) switch { 0 => ConvAlgorithm.Direct, 1 => ConvAlgorithm.Auto, _ => ConvAlgorithm.Fft };

    private static readonly (int H, int W)[] Sizes = [(6, 4), (9, 13), (17, 8), (12, 20)];

    // The loader fuzzer's onnx-stack dictionary: protobuf tags and varints of the fields models are made of.
    private static readonly byte[][] Dictionary =
        [[0x08, 0x07], [0x3A], [0x0A, 0x01, 0x78], [0x12, 0x01, 0x79], [0x2A], [0x42, 0x02, 0x10, 0x0D], [0x08, 0x01], [0x08, 0x03], [0x08, 0x0B],
         [0x40, 0xFF, 0xFF, 0xFF, 0xFF, 0x07], [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0x10, 0x01], [0x10, 0x02], [0x10, 0x03]];

    /// <summary>The same mutated models run as graphs (onnx-test --device gpu's path, every op of the file, no stack import):
    /// every op's GPU value equal to the CPU op's on the same (GPU) inputs, within 1e-4 of its scale (for a Conv,
    /// ConvTranspose, Gemm or MatMul: the largest input times the sum of the second input's |values|, a bound on any output's
    /// sum of products). The CPU graph runs first; what it refuses is not run.</summary>
    [Fact]
    public void MutatedModels_RunAsGraphs_AgreeOpByOp()
    {
        int count = LayerParity.FuzzCount(2000), seed = LayerParity.FuzzSeed(20261208);
        int built = 0, compared = 0;
        var findings = new List<string>();
        for (int i = 0; i < count && findings.Count < 10; i++)
        {
            var rng = new Random(unchecked(seed * 7919 + i));
            byte[] bytes = Mutator.Mutate(Seeds[i % Seeds.Length], rng, Dictionary, Seeds);
            string where = $"seed {seed} input {i} (model {i % Seeds.Length})";
            OnnxGraph graph;
            var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            Dictionary<string, Tensor> cpu;
            try
            {
                graph = OnnxGraph.Build(OnnxReader.Parse(bytes, "fuzzed.onnx"));
                built++;
                (int H, int W) size = Sizes[i / Seeds.Length % Sizes.Length];
                bool tooBig = false;
                foreach (OnnxValueInfo v in graph.Inputs.Where(v => !graph.Initializers.ContainsKey(v.Name)))
                {
                    int[] shape = v.Shape is [var b, var c, var h, var w] ? [b < 0 ? 1 : b, c < 0 ? 3 : c, h < 0 ? size.H : h, w < 0 ? size.W : w]
                        : v.Shape is null ? [1, 3, size.H, size.W] : [.. v.Shape.Select(d => d < 0 ? 4 : d)];
                    if (shape.Length == 0 || shape.Aggregate(1L, (a, d) => a * d) > 4096) tooBig = true;
                    else
                    {
                        var t = new Tensor(shape);
                        for (int k = 0; k < t.Length; k++) t.Data[k] = (k * 37 % 101) / 101f;
                        inputs[v.Name] = t;
                    }
                }
                if (tooBig) continue;
                cpu = graph.Run(inputs);
            }
            catch (ConvGLException)
            {
                continue;
            }
            if (cpu.Values.Any(t => t.Data.Any(v => !float.IsFinite(v) || Math.Abs(v) > 1e30f))) continue;
            try
            {
                using var runner = new GpuOnnxRunner(fixture.Context, graph);
                Dictionary<string, Tensor> gpu = runner.Run(inputs, downloadAll: true);
                compared++;
                Tensor? Value(string name) => name.Length == 0 ? null
                    : gpu.TryGetValue(name, out Tensor? g) ? g : graph.Initializers.TryGetValue(name, out Tensor? k) ? k : inputs.TryGetValue(name, out Tensor? x) ? x : cpu[name];
                foreach (OnnxOp op in graph.Ops)
                {
                    if (!gpu.TryGetValue(op.Output, out Tensor? got)) continue; // (a value the GPU runner left on the host: a size)
                    Tensor?[] ins = op.Inputs.Select(Value).ToArray();
                    Tensor want = op.Run(ins);
                    if (!want.Shape.SequenceEqual(got.Shape))
                    {
                        findings.Add($"{where}: {op.Where} gives {got.ShapeString} on the GPU, {want.ShapeString} on the CPU");
                        break;
                    }
                    if (want.Length == 0) continue;
                    double scale = Math.Max(1e-3, want.Data.Max(v => Math.Abs((double)v)));
                    if (op.Node.OpType is "Conv" or "ConvTranspose" or "Gemm" or "MatMul" && ins.Length > 1 && ins[0] is { Length: > 0 } a && ins[1] is { Length: > 0 } b)
                        scale = Math.Max(scale, a.Data.Max(v => Math.Abs((double)v)) * b.Data.Sum(v => Math.Abs((double)v)) + (ins.Length > 2 && ins[2] is { Length: > 0 } c ? c.Data.Max(v => Math.Abs((double)v)) : 0));
                    int e = Enumerable.Range(0, want.Length).FirstOrDefault(k => !(want.Data[k] == got.Data[k] || Math.Abs(want.Data[k] - (double)got.Data[k]) <= 1e-4 * scale) && !(float.IsNaN(want.Data[k]) && float.IsNaN(got.Data[k])), -1);
                    if (e >= 0)
                    {
                        findings.Add($"{where}: {op.Where} value {e} of {want.ShapeString}: CPU {want.Data[e]}, GPU {got.Data[e]} (scale {scale:G3}); reads " +
                                     string.Join(", ", ins.Select(t => t?.ShapeString ?? "-")));
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
        log.WriteLine($"{count} mutated models run as graphs, seed {seed}: {built} built, {compared} compared on the GPU, {findings.Count} findings");
        Assert.True(findings.Count == 0, string.Join("\n", findings));
        Assert.True(compared >= count / 20, $"only {compared} of {count} mutated models compared");
    }

    [Fact]
    public void MutatedModels_ThatTheCpuRuns_RunEqualOnTheGpu()
    {
        int count = LayerParity.FuzzCount(3000), seed = LayerParity.FuzzSeed(20261207);
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
                if (LayerParity.FirstMismatch(stack, x, gpu, runner, skipFloat32Limits: true) is { } mismatch) findings.Add($"{where}: {mismatch}");
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
