using System.Text;
using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Fuzz;
using ConvGL.Gpu.Stacks;

namespace ConvGL.Gpu.Tests.Stacks;

/// <summary>Differential fuzzing of stack files: the shipped stacks and small stacks of every border, stride, dilation,
/// padding, pool, resize and pad option, mutated as the Core loader fuzzer mutates them (its stack target's byte edits:
/// numbers, names, options swapped). Each one that loads, plans at its size and that the CPU reference runs with finite
/// maps runs on the GPU too (direct programs, or the window's automatic plans), every layer's map equal to the reference
/// layer's on the same (GPU) inputs within 1e-4 of its scale (a conv's: its sum-of-|w x| bound); the GPU must not refuse
/// what the CPU ran, and nothing may throw but a ConvGLException. CONVGL_FUZZ_COUNT and CONVGL_FUZZ_SEED as for the loader
/// fuzzer (here: 2,000 inputs from a fixed seed).</summary>
[Collection(GlCollection.Name)]
public sealed class FuzzedStacksGpuTests(GlFixture fixture, ITestOutputHelper log)
{
    private static readonly string[] Inline =
    [
        """{ "input": "rgb", "layers": [ {"type": "conv", "kernels": ["sobel-x", "k.txt"], "sum": true, "stride": [2, 1], "padding": "valid"}, {"type": "leaky_relu", "slope": 0.2}, {"type": "maxpool", "size": 2, "stride": 1, "padding": 1} ] }""",
        """{ "layers": [ {"type": "conv", "kernels": ["gaussian:3"], "dilation": 2, "border": "wrap", "mode": "convolve"}, {"type": "avgpool", "size": [2, 3]}, {"type": "sigmoid"}, {"type": "tanh"}, {"type": "abs"} ] }""",
        """{ "name": "p", "layers": [ {"type": "conv", "kernels": ["sobel-x", "sobel-y"], "padding": [1, 2], "border": "symmetric"}, {"type": "magnitude"}, {"type": "relu"} ] }""",
        """{ "input": "rgb", "layers": [ {"type": "conv", "name": "e", "kernels": ["sobel-x", "box:3"]}, {"type": "reduce_channels", "name": "m", "op": "max"}, {"type": "mul", "inputs": ["input", "m"]}, {"type": "globalavgpool", "name": "g", "inputs": ["e"]}, {"type": "reduce_channels", "op": "mean"} ] }""",
        """{ "input": "rgb", "layers": [ {"type": "conv", "kernels": ["gaussian:5,1"], "border": "reflect"}, {"type": "conv", "kernels": ["laplacian"], "border": "replicate", "stride": 2}, {"type": "resize", "scale": 2, "mode": "linear"}, {"type": "pad", "padding": [1, 2, 0, 3], "border": "reflect"} ] }""",
        """{ "layers": [ {"type": "conv", "kernels": ["gabor:size=7,theta=30", "gabor:size=7,theta=120", "log:7"], "border": "reflect", "dilation": [1, 2]}, {"type": "relu"}, {"type": "maxpool", "size": 3, "stride": 2}, {"type": "conv", "kernels": ["box:5"], "border": "zero", "padding": "same"} ] }""",
        """{ "input": "rgb", "layers": [ {"type": "conv", "kernels": ["emboss", "sharpen"], "border": "wrap", "stride": [1, 2], "padding": [2, 0]}, {"type": "avgpool", "size": 2, "padding": 1}, {"type": "softmax"}, {"type": "channel_shuffle", "groups": 2} ] }""",
    ];

    // The Core stack target's dictionary: JSON punctuation, field names and values.
    private static readonly byte[][] Dictionary = [.. new[] { "{", "}", "[", "]", ",", ":", "\"type\"", "\"conv\"", "\"kernels\"", "\"sum\": true", "\"stride\"", "\"dilation\"",
        "\"padding\"", "\"maxpool\"", "\"avgpool\"", "\"magnitude\"", "\"size\"", "\"border\"", "\"reflect\"", "\"wrap\"", "\"replicate\"", "\"symmetric\"", "\"zero\"",
        "\"same\"", "\"valid\"", "\"convolve\"", "2", "3", "-1", "0", "\"input\": \"rgb\"", "\"reduce_channels\"", "\"op\": \"sum\"", "\"inputs\": [0, 1]" }.Select(Encoding.UTF8.GetBytes)];

    private static readonly (int H, int W)[] Sizes = [(16, 16), (9, 13), (17, 8), (24, 40)];

    [Fact]
    public void MutatedStackFiles_ThatTheCpuRuns_RunEqualOnTheGpu()
    {
        int count = LayerParity.FuzzCount(2000), seed = LayerParity.FuzzSeed(20261207);
        string dir = Directory.CreateTempSubdirectory("convgl-stack-fuzz-").FullName;
        try
        {
            string shipped = Path.GetDirectoryName(StackCatalog.Resolve("edges"))!;
            File.Copy(Path.Combine(shipped, "learned.safetensors"), Path.Combine(dir, "learned.safetensors"));
            File.WriteAllText(Path.Combine(dir, "k.txt"), "1 2 1\n2 4 2\n1 2 1\n");
            byte[][] seeds = [.. Directory.GetFiles(shipped, "*.json").Order(StringComparer.Ordinal).Select(File.ReadAllBytes), .. Inline.Select(Encoding.UTF8.GetBytes)];
            string path = Path.Combine(dir, "fuzzed.json");
            int loaded = 0, compared = 0;
            var findings = new List<string>();
            for (int i = 0; i < count && findings.Count < 10; i++)
            {
                var rng = new Random(unchecked(seed * 7919 + i));
                byte[] bytes = Mutator.Mutate(seeds[i % seeds.Length], rng, Dictionary, seeds);
                string where = $"seed {seed} input {i} (stack {i % seeds.Length}, {(i / 5 % 2 == 0 ? "direct" : "auto")} plans)";
                (int h, int w) = Sizes[i / seeds.Length % Sizes.Length];
                Stack stack;
                Tensor x;
                StackResult cpu;
                try
                {
                    stack = StackFile.Parse(Encoding.UTF8.GetString(bytes), path);
                    loaded++;
                    if (!StackPlan.TryCreate(stack, h, w, null, out StackPlan? plan, out _)) continue;
                    long work = 0;
                    for (int l = 0; l < stack.Layers.Count; l++)
                        if (stack.Layers[l] is ConvLayer conv) work += plan!.Outputs[l].Values * conv.Weight.Length / conv.Weight.Shape[0];
                    if (work > 5_000_000) continue; // too big to run per input
                    x = new Tensor([stack.InputChannels, h, w]);
                    for (int k = 0; k < x.Length; k++) x.Data[k] = (k * 37 % 101) / 101f;
                    cpu = StackRunner.Run(stack, x);
                }
                catch (ConvGLException)
                {
                    continue; // refused with its error (the loader fuzzer checks those)
                }
                if (cpu.Outputs.Any(o => o.Data.Any(v => !float.IsFinite(v) || Math.Abs(v) > 1e30f))) continue;
                try
                {
                    using var runner = new GpuStackRunner(fixture.Context, stack, h, w, algorithm: i / 5 % 2 == 0 ? ConvAlgorithm.Direct : ConvAlgorithm.Auto);
                    StackResult gpu = runner.Run(x);
                    compared++;
                    if (LayerParity.FirstMismatch(stack, x, gpu, runner, skipFloat32Limits: false) is { } mismatch)
                    {
                        string text = Encoding.UTF8.GetString(bytes).ReplaceLineEndings(" ");
                        findings.Add($"{where}: {mismatch}\n    {text[..Math.Min(600, text.Length)]}");
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
            log.WriteLine($"{count} mutated stack files, seed {seed}: {loaded} loaded, {compared} compared on the GPU, {findings.Count} findings");
            Assert.True(findings.Count == 0, string.Join("\n", findings));
            Assert.True(compared >= count / 20, $"only {compared} of {count} mutated stacks compared: the mutations stopped producing runnable stacks");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
