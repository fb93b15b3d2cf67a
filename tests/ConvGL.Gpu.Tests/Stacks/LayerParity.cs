using ConvGL.Core;
using ConvGL.Core.Stacks;
using ConvGL.Gpu.Stacks;

namespace ConvGL.Gpu.Tests.Stacks;

/// <summary>The judge of the differential fuzz tests (FuzzedModelsGpuTests, FuzzedStacksGpuTests): a GPU run of a stack,
/// layer by layer, against the reference layer on the GPU's own inputs (a rounding difference in one map is not judged
/// again in the next: a relu turns a conv's 1e12 of 5.7e19 into a difference of 1e12 in a map of 0.87), within 1e-4 of
/// the layer's scale; exact and NaN-for-NaN values agree. And the fuzzers' CONVGL_FUZZ_COUNT / CONVGL_FUZZ_SEED.</summary>
internal static class LayerParity
{
    public static int FuzzCount(int fallback) => int.TryParse(Environment.GetEnvironmentVariable("CONVGL_FUZZ_COUNT"), out int n) && n > 0 ? n : fallback;

    public static int FuzzSeed(int fallback) => int.TryParse(Environment.GetEnvironmentVariable("CONVGL_FUZZ_SEED"), out int s) ? s : fallback;

    public static double MaxAbs(Tensor t) => t.Data.Max(v => Math.Abs((double)v));

    /// <summary>The first layer whose GPU map differs from the reference layer's on the same inputs, said in one line, or
    /// null. <paramref name="skipFloat32Limits"/>: leave unjudged what README's "Known not to work yet" says float32 cannot
    /// hold (attention's logits and LRN's squares past ~1e18, a NaN spread by the FFT over its frame, FFT spectra of a
    /// kernel whose sum of |w x| passes ~1e30) and allow attention its logits' rounding.</summary>
    public static string? FirstMismatch(Stack stack, Tensor image, StackResult gpu, GpuStackRunner runner, bool skipFloat32Limits)
    {
        Tensor input = stack.PrepareInput(image);
        for (int l = 0; l < stack.Layers.Count; l++)
        {
            StackLayer layer = stack.Layers[l];
            Tensor[] ins = layer.InputsOf(l).Select(j => j < 0 ? input : gpu.Outputs[j]).ToArray();
            bool fft = runner.Variant(l)?.StartsWith("fft", StringComparison.Ordinal) == true;
            if (skipFloat32Limits && layer is AttentionLayer or LrnLayer && ins.Any(t => MaxAbs(t) > 1e18)) continue;
            if (skipFloat32Limits && layer is ConvLayer && fft && ins.Any(t => t.Data.Any(v => !float.IsFinite(v)))) continue;
            Tensor want = ins.Length == 1 ? layer.Forward(ins[0]) : layer.Forward(ins), got = gpu.Outputs[l];
            if (!want.Shape.SequenceEqual(got.Shape))
                return $"layer {l} ({layer.Type}) is {got.ShapeString} on the GPU, {want.ShapeString} on the CPU";
            // A sum's rounding is bounded by the sum of |w x|: for a conv (any algorithm: the FFT's error spreads over the
            // frame) the largest output channel's sum of |w| (and |bias|) times the largest |input| (a mutated weight of
            // 5.7e34 on a tap that reads the zero border leaves the direct sum exact and the FFT's off by ~1e27).
            double scale = Math.Max(1e-3, MaxAbs(want));
            if (layer is ConvLayer conv)
            {
                int cout = conv.Weight.Shape[0], per = conv.Weight.Length / cout;
                double sumW = Enumerable.Range(0, cout).Max(o => conv.Weight.Data.Skip(o * per).Take(per).Sum(v => Math.Abs((double)v)) + Math.Abs(conv.Bias?[o] ?? 0));
                scale = Math.Max(scale, sumW * MaxAbs(ins[0]));
            }
            // Attention's float32 logits q . k are off by up to ~1.2e-7 C |q| |k| (the CPU's are double), and the softmax
            // moves each output by about that times |v|.
            if (skipFloat32Limits && layer is AttentionLayer && ins.Length == 3)
                scale = Math.Max(scale, 1e4 * 1.2e-7 * ins[0].C * MaxAbs(ins[0]) * MaxAbs(ins[1]) * MaxAbs(ins[2]));
            if (skipFloat32Limits && scale > 1e30 && fft) continue;
            int e = Enumerable.Range(0, want.Length).FirstOrDefault(k => !(want.Data[k] == got.Data[k] || Math.Abs(want.Data[k] - (double)got.Data[k]) <= 1e-4 * scale)
                                                                         && !(float.IsNaN(want.Data[k]) && float.IsNaN(got.Data[k])), -1);
            if (e >= 0)
                return $"layer {l} ({layer.Type}) value {e} of {want.ShapeString}: CPU {want.Data[e]}, GPU {got.Data[e]} (scale {scale:G3}); reads " +
                       string.Join(", ", ins.Select(t => $"{t.ShapeString} (max |value| {MaxAbs(t):G3})")) +
                       (layer is ConvLayer c ? $"; weight {c.Weight.ShapeString} (max |w| {MaxAbs(c.Weight):G3}), {c.Options}, GPU {runner.Variant(l)}" : "");
        }
        return null;
    }
}
