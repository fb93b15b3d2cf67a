using ConvGL.App.Live;
using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Gpu;

namespace ConvGL.App.Tests;

/// <summary>The probe on a pool or an activation (the gabor, deep and learned stacks open on a max pool, where it said
/// "not a convolution layer"): the window (padding marked), the max or average of what counts and the activation of
/// the value, computed from the GPU's own input as Core's reference computes it, equal to what the GPU wrote, and
/// every tap against the CPU reference's input.</summary>
public sealed class LayerProbeTests
{
    [Fact]
    public void PoolsAndActivations_TakenApart_EqualTheGpuAndTheReference()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        string dir = Directory.CreateTempSubdirectory("convgl-layer-probe-").FullName;
        try
        {
            // 0 a conv (signed maps), 1 leaky relu, 2 a 3x3 max pool padded by 1 moved by 2, 3 an average pool counting
            // its padding (PyTorch's), 4 an ONNX-style average pool with asymmetric pads that does not count them, 5 the
            // magnitude of the conv's pair.
            string file = Path.Combine(dir, "p.json");
            File.WriteAllText(file, """
                { "name": "p", "input": "gray", "layers": [
                  { "type": "conv", "kernels": ["sobel-x", "sobel-y"], "border": "zero" },
                  { "type": "leaky_relu", "slope": 0.1 },
                  { "type": "maxpool", "size": 3, "stride": 2, "padding": 1 },
                  { "type": "avgpool", "size": 3, "stride": 1, "padding": 1 },
                  { "type": "avgpool", "size": 2, "stride": 1, "padding": [1, 0, 0, 1], "count_include_pad": false },
                  { "type": "magnitude", "inputs": [0] } ] }
                """);
            Stack stack = StackFile.Load(file);
            var rng = new Random(12_0502);
            var image = Tensor.Chw(1, 13, 17);
            for (int i = 0; i < image.Length; i++) image.Data[i] = (float)rng.NextDouble();
            StackResult cpu = StackRunner.Run(stack, image);

            using GlContext context = GlContext.CreateHeadless();
            using var pipeline = new StackPipeline(context, file, (13, 17));
            pipeline.Input.Upload(image);
            pipeline.Run();
            var probe = new Probe(context.Gl);

            // The conv at its corners: the taps on the zero border are marked (the strip writes "pad 0"), the others not,
            // and the sum is the reference's.
            foreach ((int x, int y, bool[] pad) in new[]
            {
                (0, 0, new[] { true, true, true, true, false, false, true, false, false }),
                (16, 12, new[] { false, false, true, false, false, true, true, true, true }),
                (8, 6, new bool[9]),
            })
            {
                probe.Take(pipeline, 0, 1, x, y);
                Assert.True(probe.Valid, probe.Why);
                Assert.Equal(pad, probe.ZeroPad[..9]);
                Assert.Equal(cpu.Outputs[0][1, y, x], probe.Sum, 5);
                string rows = string.Join("\n", HudText.ProbeLines(probe, false, _ => "gray"));
                Assert.Equal(pad.Count(b => b), rows.Split("pad 0").Length - 1);
                // Stride and dilation 1: (x, y) says where the window is; the header does not repeat it.
                Assert.Null(probe.Reach);
            }

            // Leaky relu at a negative and a positive response: in as the conv's map, out as 0.1 x in or in.
            Tensor conv = cpu.Outputs[0];
            int nx = -1, px = -1;
            for (int x = 0; x < 17 && (nx < 0 || px < 0); x++)
                if (conv[0, 6, x] < -0.05f) nx = x; else if (conv[0, 6, x] > 0.05f) px = x;
            foreach (int x in new[] { nx, px })
            {
                probe.Take(pipeline, 1, 0, x, 6);
                Assert.True(probe.Valid, probe.Why);
                Assert.Equal(ProbeKind.Activation, probe.Kind);
                Assert.Equal(conv[0, 6, x], probe.Window[0], 5);
                Assert.Equal(conv[0, 6, x] < 0 ? 0.1 * conv[0, 6, x] : conv[0, 6, x], probe.Sum, 5);
                Assert.Equal(cpu.Outputs[1][0, 6, x], probe.Gpu, 5);
                Assert.Equal(probe.Sum, probe.Gpu, 6);
            }

            // The max pool at its corner: the top row and left column of its window are padding.
            probe.Take(pipeline, 2, 1, 0, 0);
            Assert.True(probe.Valid, probe.Why);
            Assert.Equal((ProbeKind.Pool, true, 3, 3), (probe.Kind, probe.PoolMax, probe.KernelHeight, probe.KernelWidth));
            Assert.Equal([false, false, false, false, true, true, false, true, true], probe.Inside[..9]);
            Tensor relu = cpu.Outputs[1];
            Assert.Equal(relu[1, 0, 0], probe.Window[4], 5);
            Assert.Equal(relu[1, 1, 1], probe.Window[8], 5);
            Assert.Equal(new[] { relu[1, 0, 0], relu[1, 0, 1], relu[1, 1, 0], relu[1, 1, 1] }.Max(), probe.Sum, 5);
            Assert.Equal(cpu.Outputs[2][1, 0, 0], probe.Gpu, 5);

            // Every position of both average pools and of the max pool: CPU (from the GPU's input) == GPU == reference.
            foreach (int layer in new[] { 2, 3, 4 })
            {
                Tensor reference = cpu.Outputs[layer];
                for (int c = 0; c < reference.C; c++)
                    for (int y = 0; y < reference.H; y++)
                        for (int x = 0; x < reference.W; x++)
                        {
                            probe.Take(pipeline, layer, c, x, y);
                            Assert.True(probe.Valid && probe.Kind == ProbeKind.Pool, $"layer {layer} ({c}, {y}, {x}): {probe.Why}");
                            Assert.True(Math.Abs(probe.Sum - probe.Gpu) <= 1e-6 + 1e-6 * Math.Abs(probe.Gpu) && Math.Abs(reference[c, y, x] - probe.Gpu) <= 1e-5,
                                $"layer {layer} ({c}, {y}, {x}): cpu {probe.Sum}, gpu {probe.Gpu}, reference {reference[c, y, x]}");
                        }
            }
            // The magnitude of the conv's (sobel-x, sobel-y) pair at every position (the edges stack opens on one; it said
            // "not a convolution layer"): a and b from the GPU's input, sqrt(a^2 + b^2) equal to the GPU and the reference.
            Tensor magnitude = cpu.Outputs[5];
            for (int y = 0; y < magnitude.H; y++)
                for (int x = 0; x < magnitude.W; x++)
                {
                    probe.Take(pipeline, 5, 0, x, y);
                    Assert.True(probe.Valid && probe.Kind == ProbeKind.Magnitude, $"magnitude ({y}, {x}): {probe.Why}");
                    Assert.Equal(conv[0, y, x], probe.Window[0], 5);
                    Assert.Equal(conv[1, y, x], probe.Window[1], 5);
                    Assert.True(Math.Abs(probe.Sum - probe.Gpu) <= 1e-6 + 1e-6 * Math.Abs(probe.Gpu) && Math.Abs(magnitude[0, y, x] - probe.Gpu) <= 1e-5,
                        $"magnitude ({y}, {x}): cpu {probe.Sum}, gpu {probe.Gpu}, reference {magnitude[0, y, x]}");
                }
            // Its strip: the pair by name and the length.
            probe.Take(pipeline, 5, 0, 3, 4);
            List<string> lines = HudText.ProbeLines(probe, pinned: false, c => c == 0 ? "sobel-x" : "sobel-y");
            Assert.Equal("probe: layer 6 (magnitude), channel 0, (x 3, y 4)", lines[0]);
            Assert.StartsWith($"a = in[0, 4, 3] (sobel-x) = {HudText.Significant(conv[0, 4, 3])}, b = in[1, 4, 3] (sobel-y) = ", lines[1]);
            Assert.Equal("1.19209e-07", HudText.Significant(1.1920929e-07)); // a flat area's derivative read 0.000000
            Assert.Equal("0.00370795", HudText.Significant(0.003707953));
            Assert.StartsWith("sqrt(a^2 + b^2) = sqrt(", lines[2]);

            // The divisors: PyTorch's average counts the padding (9 at a corner); the ONNX-style one only the image's taps.
            probe.Take(pipeline, 3, 0, 0, 0);
            Assert.Equal(9, probe.Divisor);
            probe.Take(pipeline, 4, 0, 0, 0);
            Assert.Equal(2, probe.Divisor); // pads top 1, right 1: at (0, 0) the window's top row is padding
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The probe on a reduction over the channels (each channel's value at the pixel, then their max, mean, min or
    /// sum) and on element-wise layers of two maps, a single-channel or 1x1 map broadcast (a and b where the output reads
    /// them: index 0 along the broadcast axis): at every position, from the GPU's own input as Core computes it, equal to
    /// what the GPU wrote and to the CPU reference; the strip's lines name both maps and fit the lines reserved.</summary>
    [Fact]
    public void ChannelReductionsAndTwoMapLayers_TakenApart_EqualTheGpuAndTheReference()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        string dir = Directory.CreateTempSubdirectory("convgl-layer-probe-").FullName;
        try
        {
            string file = Path.Combine(dir, "q.json");
            File.WriteAllText(file, """
                { "name": "q", "input": "rgb", "layers": [
                  { "type": "conv", "name": "edges", "kernels": ["sobel-x", "sobel-y"], "border": "reflect" },
                  { "type": "reduce_channels", "name": "top", "op": "max" },
                  { "type": "reduce_channels", "name": "mean", "inputs": ["edges"], "op": "mean" },
                  { "type": "sub", "inputs": ["edges", "mean"] },
                  { "type": "mul", "inputs": ["top", "input"] },
                  { "type": "globalavgpool", "name": "g", "inputs": ["input"] },
                  { "type": "max", "inputs": ["input", "g"] },
                  { "type": "add", "inputs": ["edges", 3] },
                  { "type": "pow", "inputs": ["g", "input"] },
                  { "type": "pow", "inputs": ["edges"], "value": 2 },
                  { "type": "batchnorm", "inputs": ["edges"], "scale": "s.npy", "shift": "b.npy" },
                  { "type": "globalmaxpool", "inputs": [3] } ] }
                """);
            Core.IO.Npy.Write(Path.Combine(dir, "s.npy"), new Tensor([6], [0.5f, -2f, 1.5f, 1f, 0.25f, -1f]));
            Core.IO.Npy.Write(Path.Combine(dir, "b.npy"), new Tensor([6], [0.1f, 0.2f, -0.3f, 0f, 1f, -1f]));
            var rng = new Random(12_0612);
            var image = Tensor.Chw(3, 9, 11);
            for (int i = 0; i < image.Length; i++) image.Data[i] = 0.1f + (float)rng.NextDouble();
            using var run = new Probed(file, image);
            (Stack stack, StackResult cpu, StackPipeline pipeline, Probe probe) = (run.Stack, run.Cpu, run.Pipeline, run.Probe);
            foreach ((int layer, ProbeKind kind) in new[] { (1, ProbeKind.Channels), (2, ProbeKind.Channels), (3, ProbeKind.TwoMaps), (4, ProbeKind.TwoMaps),
                                                          (5, ProbeKind.GlobalPool), (6, ProbeKind.TwoMaps), (7, ProbeKind.TwoMaps), (8, ProbeKind.TwoMaps),
                                                          (9, ProbeKind.TwoMaps), (10, ProbeKind.Affine), (11, ProbeKind.GlobalPool) })
                run.AssertEveryPosition(layer, kind, 1e-6, 1e-5);
            // The max over the 6 edge maps at one pixel: each map's value, the largest of them.
            probe.Take(pipeline, 1, 0, 4, 5);
            Tensor edges = cpu.Outputs[0];
            for (int c = 0; c < 6; c++) Assert.Equal(edges[c, 5, 4], probe.Window[c], 5);
            List<string> lines = HudText.ProbeLines(probe, pinned: true, _ => "?", 200, pipeline.MapName);
            Assert.Equal("probe (pinned): layer 2 (reduce_channels max), channel 0, (x 4, y 5)", lines[0]);
            Assert.StartsWith($"in[c, 5, 4] for c < 6: {HudText.Significant(edges[0, 5, 4])} ", lines[1]);
            Assert.StartsWith($"max over c = {HudText.Significant(probe.Sum)} (CPU, from the GPU's input)   GPU wrote", lines[2]);
            // The gate of one channel over the input's three: a from the max map at channel 0, b the input's channel 2 (B).
            probe.Take(pipeline, 4, 2, 4, 5);
            lines = HudText.ProbeLines(probe, pinned: false, c => pipeline.InputMapName(4, c), 200, pipeline.MapName);
            Assert.Equal($"a = layer 2[0, 5, 4] (max of the 6 inputs) = {HudText.Significant(cpu.Outputs[1][0, 5, 4])}, b = input[2, 5, 4] (B) = {HudText.Significant(image[2, 5, 4])}", lines[1]);
            Assert.StartsWith("a * b = ", lines[2]);
            // A per-channel 1x1 map: b read at (c, 0, 0).
            probe.Take(pipeline, 6, 1, 7, 3);
            Assert.Equal((5, 1, 0, 0), (probe.SecondLayer, probe.SecondChannel, probe.BY, probe.BX));
            Assert.StartsWith("max(a, b) = ", HudText.ProbeLines(probe, false, _ => "G", 200, pipeline.MapName)[2]);
            // A map and a number: b is the layer's value.
            probe.Take(pipeline, 9, 4, 2, 6);
            Assert.Equal((Probe.NumberOperand, 2f), (probe.SecondLayer, probe.Window[1]));
            lines = HudText.ProbeLines(probe, false, c => pipeline.InputMapName(9, c), 200, pipeline.MapName);
            Assert.EndsWith(", b = 2 (the layer's value)", lines[1]);
            Assert.StartsWith($"a ^ b = {HudText.Significant(edges[4, 6, 2] * edges[4, 6, 2])} ", lines[2]);
            // The per-channel affine: scale[c] x in + shift[c]; the global pools: the plane's values, their mean or max.
            probe.Take(pipeline, 10, 1, 3, 2);
            Assert.Equal(edges[1, 2, 3], probe.Window[0], 5);
            Assert.Equal((-2f, 0.2f), (probe.Window[1], probe.Bias));
            lines = HudText.ProbeLines(probe, false, c => pipeline.InputMapName(10, c), 200, pipeline.MapName);
            Assert.StartsWith($"in[1, 2, 3] (sobel-y of R) = {HudText.Significant(probe.Window[0])}, scale[1] = -2, shift[1] = 0.2", lines[1]);
            Assert.StartsWith("scale x in + shift = ", lines[2]);
            probe.Take(pipeline, 5, 2, 0, 0);
            lines = HudText.ProbeLines(probe, false, c => pipeline.InputMapName(5, c), 200, pipeline.MapName);
            Assert.StartsWith($"in[2, y, x] (B), 9x11 = 99 values: {HudText.Significant(image[2, 0, 0])} ", lines[1]);
            Assert.StartsWith($"(sum of them) / 99 = ", lines[2]);
            // The strip reserves what the lines take at a narrow width.
            foreach (int layer in new[] { 1, 4, 5, 10 })
            {
                probe.Take(pipeline, layer, 0, 10, 8);
                foreach (int chars in new[] { 60, 90, 140 })
                    Assert.True(HudText.Wrap(HudText.ProbeLines(probe, true, c => pipeline.InputMapName(layer, c), chars, pipeline.MapName), chars).Count
                                <= HudText.LayerProbeStripLines(stack.Layers[layer], chars), $"layer {layer} at {chars} characters");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The probe on a softmax and a log-softmax over the channels (the pixel's values, their max and sum of exp,
    /// this channel's share) and on a linear layer (the flattened input times the output's weight row, plus the bias), at
    /// every position, equal to what the GPU wrote and to the CPU reference.</summary>
    [Fact]
    public void SoftmaxAndLinear_TakenApart_EqualTheGpuAndTheReference()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        string dir = Directory.CreateTempSubdirectory("convgl-layer-probe-").FullName;
        try
        {
            string file = Path.Combine(dir, "h.json");
            File.WriteAllText(file, """
                { "name": "h", "input": "rgb", "layers": [
                  { "type": "conv", "name": "edges", "kernels": ["sobel-x", "sobel-y"], "border": "reflect" },
                  { "type": "softmax" },
                  { "type": "log_softmax", "inputs": ["edges"] },
                  { "type": "maxpool", "size": 3, "inputs": ["edges"] },
                  { "type": "flatten" },
                  { "type": "linear", "weight": "w.npy", "bias": "b.npy" },
                  { "type": "globalmaxpool", "inputs": ["input"] },
                  { "type": "linear", "weight": "w2.npy", "bias": "b2.npy" } ] }
                """);
            // (A row whose products cancel: 1e17 x 1 - 1e17 x 1 + 0, then the bias 4. Summing the bias first loses it.)
            Core.IO.Npy.Write(Path.Combine(dir, "w2.npy"), new Tensor([1, 3], [1e17f, -1e17f, 0f]));
            Core.IO.Npy.Write(Path.Combine(dir, "b2.npy"), new Tensor([1], [4f]));
            var rng = new Random(12_0613);
            // 6 maps of 9x12 pooled to 3x4: 72 values into 5 outputs.
            Core.IO.Npy.Write(Path.Combine(dir, "w.npy"), new Tensor([5, 72], Enumerable.Range(0, 360).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray()));
            Core.IO.Npy.Write(Path.Combine(dir, "b.npy"), new Tensor([5], [0.5f, -0.25f, 0f, 1f, -1f]));
            var image = Tensor.Chw(3, 9, 12);
            for (int i = 0; i < image.Length; i++) image.Data[i] = (float)rng.NextDouble();
            (image.Data[0], image.Data[108]) = (1f, 1f); // R's and G's maxima, both 1
            using var run = new Probed(file, image);
            (Stack stack, StackResult cpu, StackPipeline pipeline, Probe probe) = (run.Stack, run.Cpu, run.Pipeline, run.Probe);
            foreach ((int layer, ProbeKind kind) in new[] { (1, ProbeKind.Softmax), (2, ProbeKind.Softmax), (5, ProbeKind.Linear), (7, ProbeKind.Linear) })
                run.AssertEveryPosition(layer, kind, 1e-5, 1e-5);
            probe.Take(pipeline, 7, 0, 0, 0);
            Assert.Equal((4.0, 4f, 4f), (probe.Sum, probe.Gpu, cpu.Outputs[7][0, 0, 0]));
            probe.Take(pipeline, 1, 3, 5, 4);
            List<string> lines = HudText.ProbeLines(probe, false, c => pipeline.InputMapName(1, c), 200, pipeline.MapName);
            Assert.StartsWith("in[c, 4, 5] for c < 6: ", lines[1]);
            Assert.StartsWith("m = max over c = ", lines[2]);
            Assert.StartsWith("exp(in[3] - m) / s = ", lines[3]);
            probe.Take(pipeline, 2, 0, 5, 4);
            Assert.StartsWith("in[0] - m - log(s) = ", HudText.ProbeLines(probe, false, c => "?", 200, pipeline.MapName)[3]);
            probe.Take(pipeline, 5, 4, 0, 0);
            lines = HudText.ProbeLines(probe, false, c => "?", 120, pipeline.MapName);
            Assert.StartsWith($"in[k] x w[4, k] for k < 72: {HudText.Significant(probe.Window[0])} x {HudText.Significant(probe.Kernel[0])}, ", lines[1]);
            Assert.EndsWith(" ...", lines[1]);
            Assert.StartsWith("bias -1 + sum of the 72 products = ", lines[2]);
            foreach (int layer in new[] { 1, 5 })
                foreach (int chars in new[] { 60, 100 })
                {
                    probe.Take(pipeline, layer, 0, 0, 0);
                    Assert.True(HudText.Wrap(HudText.ProbeLines(probe, true, c => pipeline.InputMapName(layer, c), chars, pipeline.MapName), chars).Count
                                <= HudText.LayerProbeStripLines(stack.Layers[layer], chars), $"layer {layer} at {chars} characters");
                }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The probe on an attention layer (keys on a pooled map, so fewer than the queries): the key positions' weights
    /// (softmax of the scaled dot products) times the value map's channel there, summed, at every position equal to what
    /// the GPU wrote and to the CPU reference; the weights sum to 1 and the most-weighted key is named.</summary>
    [Fact]
    public void Attention_TakenApart_TheWeightsTimesTheValues()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        string dir = Directory.CreateTempSubdirectory("convgl-layer-probe-").FullName;
        try
        {
            string file = Path.Combine(dir, "a.json");
            File.WriteAllText(file, """
                { "name": "a", "input": "rgb", "layers": [
                  { "type": "conv", "name": "x", "kernels": ["sobel-x", "sobel-y"], "sum": true, "border": "reflect" },
                  { "type": "maxpool", "name": "small", "size": 2 },
                  { "type": "attention", "inputs": ["x", "small", "small"], "scale": 2 },
                  { "type": "attention", "inputs": ["x", "x", "input"] },
                  { "type": "attention", "inputs": ["x", "small", "small"], "heads": 2 } ] }
                """);
            var rng = new Random(12_0614);
            var image = Tensor.Chw(3, 6, 9);
            for (int i = 0; i < image.Length; i++) image.Data[i] = (float)rng.NextDouble();
            using var run = new Probed(file, image);
            (Stack stack, StackPipeline pipeline, Probe probe) = (run.Stack, run.Pipeline, run.Probe);
            foreach (int layer in new[] { 2, 3, 4 })
                run.AssertEveryPosition(layer, ProbeKind.Attention, 1e-6, 1e-5, (c, y, x) =>
                {
                    double total = 0;
                    for (int j = 0; j < probe.KernelWidth; j++) total += probe.Window[j];
                    Assert.Equal(1.0, total, 5);
                });
            probe.Take(pipeline, 2, 1, 4, 3);
            Assert.Equal(12, probe.KernelWidth); // 3x4 keys
            Assert.Equal(2.0, probe.Scale);
            List<string> lines = HudText.ProbeLines(probe, false, c => pipeline.InputMapName(2, c), 200, pipeline.MapName);
            Assert.StartsWith("w[j] = softmax over the 12 keys of 2 q[:, 3, 4] . k[:, j] (largest logit ", lines[1]);
            Assert.Contains($"at key (x {probe.AX}, y {probe.AY})", lines[1]);
            Assert.StartsWith($"w[j] x v[1, j] (", lines[2]);
            Assert.StartsWith("sum of the 12 products = ", lines[3]);
            Assert.EndsWith("a: the weights as a spotlight", lines[3]);
            Assert.Equal((3, 4), (probe.KeysHigh, probe.KeysWide));
            string top = HudText.Significant(probe.Window[..12].Max());
            Assert.EndsWith($"lit: w / {top} over the 3x4 keys (a hides)", HudText.ProbeLines(probe, false, c => pipeline.InputMapName(2, c), 200, pipeline.MapName, spotlight: true)[3]);
            probe.Take(pipeline, 3, 2, 0, 0);
            Assert.Equal(1 / Math.Sqrt(2), probe.Scale, 6);
            Assert.Equal((6, 9), (probe.KeysHigh, probe.KeysWide));
            // Two heads: channel 1's weights come from q's and k's channel 1 only (head 1 of 2), as Core's head 1.
            probe.Take(pipeline, 4, 1, 5, 2);
            Assert.Equal((1, 2, 1), (probe.Head, probe.Heads, probe.HeadChannels));
            StackResult cpu = StackRunner.Run(stack, image);
            float[] want = Attention.Weights(cpu.Outputs[0], cpu.Outputs[1], 1f, 2 * 9 + 5, head: 1, heads: 2);
            for (int j = 0; j < want.Length; j++) Assert.Equal(want[j], probe.Window[j], 5);
            Assert.StartsWith("head 1 of 2: w[j] = softmax over the 12 keys of 1 q[1:2, 2, 5] . k[1:2, j] ", HudText.ProbeLines(probe, false, c => pipeline.InputMapName(4, c), 200, pipeline.MapName)[1]);
            foreach (int chars in new[] { 60, 100 })
                foreach (bool spotlight in new[] { false, true })
                    Assert.True(HudText.Wrap(HudText.ProbeLines(probe, true, c => pipeline.InputMapName(3, c), chars, pipeline.MapName, spotlight), chars).Count
                                <= HudText.LayerProbeStripLines(stack.Layers[3], chars), $"{chars} characters");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The probe on a coords layer: at every position the place along x (channel 0) or y (channel 1) worked out
    /// as Core does, equal to what the GPU wrote and to the reference; the strip writes the formula with the pixel's
    /// numbers and fits the lines reserved; an axis of one pixel says 0; the idle rule names both maps.</summary>
    [Fact]
    public void Coords_TakenApart_WhereThePixelIs()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        string dir = Directory.CreateTempSubdirectory("convgl-layer-probe-").FullName;
        try
        {
            string file = Path.Combine(dir, "c.json");
            File.WriteAllText(file, """
                { "name": "c", "input": "rgb", "layers": [
                  { "type": "coords", "name": "where" },
                  { "type": "maxpool", "name": "row", "inputs": ["input"], "size": [7, 1] },
                  { "type": "coords", "inputs": ["row"] } ] }
                """);
            var image = Tensor.Chw(3, 7, 9);
            using var run = new Probed(file, image);
            (Stack stack, StackPipeline pipeline, Probe probe) = (run.Stack, run.Pipeline, run.Probe);
            foreach (int layer in new[] { 0, 2 }) run.AssertEveryPosition(layer, ProbeKind.Coords, 0, 0);
            probe.Take(pipeline, 0, 1, 4, 5);
            Assert.Equal(2 * 5 / 6.0 - 1, probe.Sum, 6);
            List<string> lines = HudText.ProbeLines(probe, true, c => pipeline.InputMapName(0, c), 200, pipeline.MapName);
            Assert.Equal("probe (pinned): layer 1 (coords), channel 1, (x 4, y 5)", lines[0]);
            Assert.Equal("y = 5 of H = 7: where the pixel is (the input's values are not read)", lines[1]);
            Assert.StartsWith("2 * y / (H - 1) - 1 = 2 * 5 / 6 - 1 = 0.666667 (CPU)   GPU wrote 0.666667   |diff| 0", lines[2]);
            probe.Take(pipeline, 2, 1, 3, 0);
            Assert.StartsWith("one pixel along y: 0 (CPU)   GPU wrote 0", HudText.ProbeLines(probe, false, c => pipeline.InputMapName(2, c), 200, pipeline.MapName)[2]);
            Assert.Equal(["x", "y"], Enumerable.Range(0, 2).Select(c => pipeline.MapName(0, c)));
            foreach (int chars in new[] { 40, 60, 100 })
                Assert.True(HudText.Wrap(HudText.ProbeLines(probe, true, c => pipeline.InputMapName(2, c), chars, pipeline.MapName), chars).Count
                            <= HudText.LayerProbeStripLines(stack.Layers[2], chars), $"{chars} characters");
            Assert.Equal(["layer 1 (coords: where each pixel is, its input's values not read), for y < 7, x < 9:",
                          "out[0,y,x] = 2 * x / (W - 1) - 1, out[1,y,x] = 2 * y / (H - 1) - 1: from -1 at the first pixel to 1 at the last"],
                HudText.LayerFormulaLines(stack.Layers[0], 3, 7, 9, 1));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The probe on the layers that move values (a concat of two maps, a slice of channels, rows with a step and
    /// columns flipped, a channel shuffle, a reflect pad and a zero pad with its fill, space to depth and depth to space in
    /// both modes, a flatten in both orders): the value each output copies, read where it lies, at every position equal to what the GPU wrote and
    /// to the CPU reference, and the source named.</summary>
    [Fact]
    public void ConcatSliceAndShuffle_TakenApart_TheValueEachCopies()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        string dir = Directory.CreateTempSubdirectory("convgl-layer-probe-").FullName;
        try
        {
            string file = Path.Combine(dir, "m.json");
            File.WriteAllText(file, """
                { "name": "m", "input": "rgb", "layers": [
                  { "type": "conv", "name": "edges", "kernels": ["sobel-x"], "border": "reflect" },
                  { "type": "concat", "inputs": ["input", "edges"] },
                  { "type": "slice", "start": 1, "end": 5, "rows": [1, null, 2], "cols": [null, null, -1] },
                  { "type": "channel_shuffle", "groups": 2, "inputs": [1] },
                  { "type": "pad", "padding": [1, 2, 0, 3], "border": "reflect", "inputs": [1] },
                  { "type": "pad", "padding": 2, "value": 0.5, "inputs": ["input"] },
                  { "type": "space_to_depth", "block": 2, "inputs": ["input"] },
                  { "type": "depth_to_space", "block": 2 },
                  { "type": "depth_to_space", "block": 2, "mode": "crd", "inputs": [6] },
                  { "type": "resize", "scale": 2, "inputs": ["input"] },
                  { "type": "resize", "scale": 1.5, "mode": "linear", "inputs": ["input"] },
                  { "type": "resize", "scale": [2, 0.75], "mode": "cubic", "coordinates": "align_corners", "inputs": ["input"] },
                  { "type": "flatten", "inputs": [6] },
                  { "type": "flatten", "order": "hwc", "inputs": [6] } ] }
                """);
            var rng = new Random(12_0614);
            var image = Tensor.Chw(3, 10, 12);
            for (int i = 0; i < image.Length; i++) image.Data[i] = (float)rng.NextDouble();
            using var run = new Probed(file, image);
            (Stack stack, StackResult cpu, StackPipeline pipeline, Probe probe) = (run.Stack, run.Cpu, run.Pipeline, run.Probe);
            foreach (int layer in new[] { 1, 2, 3, 4, 5, 6, 7, 8, 12, 13 })
                // A copy is exact; the conv's maps it copies differ from the reference's by float rounding.
                run.AssertEveryPosition(layer, ProbeKind.Copy, 0, 1e-5);
            // The resizes: nearest, linear and cubic taps and weights, summed as the reference sums them.
            foreach ((int layer, int rows, int cols) in new[] { (9, 1, 1), (10, 2, 2), (11, 4, 4) })
                run.AssertEveryPosition(layer, ProbeKind.Resize, 1e-5, 2e-5, (c, y, x) =>
                {
                    if (y == 1 && x == 1) Assert.Equal((rows, cols), (probe.KernelHeight, probe.KernelWidth));
                });
            // Linear, half-pixel, x1.5: output (0, 1, 1) sits at (1.5 / 1.5 - 0.5) = 0.5 on each axis: rows 0, 1, columns 0, 1, weights 1/4.
            probe.Take(pipeline, 10, 0, 1, 1);
            Assert.Equal((0.5, 0.5), (probe.SourceY, probe.SourceX));
            Assert.Equal([0, 1], probe.TapRows);
            Assert.Equal([0, 1], probe.TapCols);
            Assert.Equal([0.25f, 0.25f, 0.25f, 0.25f], probe.Kernel[..4]);
            List<string> resized = HudText.ProbeLines(probe, false, c => "R", 200, pipeline.MapName);
            Assert.Equal("source y 0.5, x 0.5 in (R): rows 0 1, columns 0 1", resized[1]);
            Assert.StartsWith("  row 0: ", resized[2]);
            Assert.EndsWith(" x 0.25", resized[2]);
            Assert.StartsWith("sum of value x weight = ", resized[4]);
            foreach (int layer in new[] { 9, 10, 11 })
                for (int chars = 40; chars <= 160; chars++)
                {
                    probe.Take(pipeline, layer, 2, 5, 7);
                    Assert.True(HudText.Wrap(HudText.ProbeLines(probe, true, c => "Convolution249:~", chars, pipeline.MapName), chars).Count
                                <= HudText.LayerProbeStripLines(stack.Layers[layer], chars), $"layer {layer} at {chars} characters");
                }
            // The concat's channel 4 is the edges' channel 1 (after the input's 3); the slice's (0, 2, 0) is the concat's
            // channel 1 at row 1 + 2 x 2 and the last column.
            probe.Take(pipeline, 1, 4, 2, 3);
            Assert.Equal((0, 1, 3, 2), (probe.FirstLayer, probe.FirstInput, probe.AY, probe.AX));
            List<string> lines = HudText.ProbeLines(probe, false, c => "?", 200, pipeline.MapName);
            Assert.Equal($"takes layer 1[1, 3, 2] (sobel-x of G) = {HudText.Significant(probe.Window[0])}", lines[1]);
            probe.Take(pipeline, 2, 0, 0, 2);
            Assert.Equal((1, 1, 5, 11), (probe.FirstLayer, probe.FirstInput, probe.AY, probe.AX));
            // The zero border's fill outside the input; a reflect border's index folded back (row -1 reads row 1).
            probe.Take(pipeline, 5, 1, 0, 0);
            Assert.Equal((Probe.NumberOperand, 0.5f), (probe.FirstLayer, probe.Window[0]));
            Assert.StartsWith("outside the input: the pad's fill, 0.5", HudText.ProbeLines(probe, false, c => "?", 200, pipeline.MapName)[1]);
            probe.Take(pipeline, 4, 0, 2, 0);
            Assert.Equal((1, 0, 1, 0), (probe.FirstLayer, probe.FirstInput, probe.AY, probe.AX));
            probe.Take(pipeline, 1, 0, 0, 0);
            Assert.Equal(-1, probe.FirstLayer);
            Assert.StartsWith("takes input[0, 0, 0] (R) = ", HudText.ProbeLines(probe, false, c => "?", 200, pipeline.MapName)[1]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The probe on the normalisations: an instance norm (the channel's plane, its mean and variance), a layer norm
    /// over the channels (the pixel's values) and an LRN (the window of channels and the sum of their squares), and on
    /// element-wise math (exp) and PReLU, at every position equal to what the GPU wrote and to the CPU reference.</summary>
    [Fact]
    public void Normalisations_TakenApart_EqualTheGpuAndTheReference()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        string dir = Directory.CreateTempSubdirectory("convgl-layer-probe-").FullName;
        try
        {
            string file = Path.Combine(dir, "n.json");
            File.WriteAllText(file, """
                { "name": "n", "input": "rgb", "layers": [
                  { "type": "conv", "name": "edges", "kernels": ["sobel-x", "sobel-y"], "border": "reflect" },
                  { "type": "instancenorm", "scale": "s.npy", "shift": "b.npy", "epsilon": 0.01 },
                  { "type": "layernorm", "scale": "s.npy", "shift": "b.npy", "inputs": ["edges"] },
                  { "type": "lrn", "size": 3, "alpha": 0.5, "beta": 0.75, "bias": 2, "inputs": ["edges"] },
                  { "type": "exp", "inputs": ["edges"] },
                  { "type": "prelu", "slope": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], "inputs": ["edges"] },
                  { "type": "groupnorm", "groups": 3, "scale": "s.npy", "shift": "b.npy", "inputs": ["edges"] } ] }
                """);
            Core.IO.Npy.Write(Path.Combine(dir, "s.npy"), new Tensor([6], [0.5f, -2f, 1.5f, 1f, 0.25f, -1f]));
            Core.IO.Npy.Write(Path.Combine(dir, "b.npy"), new Tensor([6], [0.1f, 0.2f, -0.3f, 0f, 1f, -1f]));
            var rng = new Random(12_0615);
            var image = Tensor.Chw(3, 7, 9);
            for (int i = 0; i < image.Length; i++) image.Data[i] = (float)rng.NextDouble();
            using var run = new Probed(file, image);
            (Stack stack, StackResult cpu, StackPipeline pipeline, Probe probe) = (run.Stack, run.Cpu, run.Pipeline, run.Probe);
            foreach ((int layer, ProbeKind kind) in new[] { (1, ProbeKind.Norm), (2, ProbeKind.Norm), (3, ProbeKind.Lrn), (4, ProbeKind.Activation), (5, ProbeKind.Activation), (6, ProbeKind.Norm) })
                run.AssertEveryPosition(layer, kind, 1e-4, 2e-4);
            probe.Take(pipeline, 1, 2, 4, 3);
            List<string> lines = HudText.ProbeLines(probe, false, c => "sobel-x of G", 200, pipeline.MapName);
            Assert.StartsWith("in[2, y, x] (sobel-x of G), 7x9 = 63 values: ", lines[1]);
            Assert.StartsWith("mean m = ", lines[2]);
            Assert.Contains(", eps = 0.01; in[2, 3, 4] = ", lines[2]);
            Assert.StartsWith("scale (in - m) / sqrt(v + eps) + shift = 1.5 x ", lines[3]);
            probe.Take(pipeline, 3, 0, 4, 3);
            Assert.Equal((0, 2), (probe.FirstInput, probe.KernelWidth)); // channels 0..1: the window clipped at the first
            lines = HudText.ProbeLines(probe, false, c => "?", 200, pipeline.MapName);
            Assert.StartsWith("in[c, 3, 4] for c = 0..1: ", lines[1]);
            // The group norm: channel 3's group is channels 2 and 3, their 2 x 63 values' mean and variance.
            probe.Take(pipeline, 6, 3, 4, 3);
            Assert.Equal((2, 2), (probe.FirstInput, probe.InputChannels));
            (double gm, double gv) = ConvGL.Core.Ops.LayerNorm.MeanAndVariance(cpu.Outputs[0].Data.AsSpan(2 * 63, 2 * 63));
            Assert.Equal(gm, probe.NormMean, 5);
            Assert.Equal(gv, probe.NormVariance, 4);
            lines = HudText.ProbeLines(probe, false, c => "?", 200, pipeline.MapName);
            Assert.StartsWith("in[2:4, y, x], the group's 2 maps of 7x9 = 126 values: ", lines[1]);
            foreach (int layer in new[] { 1, 2, 3, 6 })
                foreach (int chars in new[] { 50, 80, 120 })
                {
                    probe.Take(pipeline, layer, 5, 8, 6);
                    Assert.True(HudText.Wrap(HudText.ProbeLines(probe, true, c => "Convolution249:~", chars, pipeline.MapName), chars).Count
                                <= HudText.LayerProbeStripLines(stack.Layers[layer], chars), $"layer {layer} at {chars} characters");
                }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A teaching review: a strided, dilated conv's probe showed its taps side by side, with no sign that they lie
    /// 2 pixels apart or where the window starts. The header says it: output (x, y) reads rows y s - pad + i d. Every
    /// position is still the reference's, and the zero border's taps read "pad 0".</summary>
    [Fact]
    public void StridedDilatedConv_Probe_SaysWhereItsWindowLies()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        string dir = Directory.CreateTempSubdirectory("convgl-layer-probe-").FullName;
        try
        {
            string file = Path.Combine(dir, "s.json");
            File.WriteAllText(file, """
                { "name": "s", "input": "gray", "layers": [
                  { "type": "conv", "kernels": ["sobel-x"], "stride": 2, "dilation": [2, 3], "padding": 2, "border": "zero" } ] }
                """);
            var rng = new Random(12_0707);
            var image = Tensor.Chw(1, 11, 13);
            for (int i = 0; i < image.Length; i++) image.Data[i] = (float)rng.NextDouble();
            using var run = new Probed(file, image);
            run.AssertEveryPosition(0, ProbeKind.Conv, 1e-5, 2e-5);
            // Output (3, 2): rows 2 * 2 - 2 = 2 .. 2 + 2 * 2 = 6, columns 3 * 2 - 2 = 4 .. 4 + 2 * 3 = 10.
            run.Probe.Take(run.Pipeline, 0, 0, 3, 2);
            Assert.Equal((2, 4, 2, 3), run.Probe.Reach);
            Assert.Equal("probe: layer 1, out channel 0, (x 3, y 2): window at input rows 2..6, cols 4..10, taps 2 rows and 3 columns apart",
                HudText.ProbeLines(run.Probe, false, _ => "gray")[0]);
            // Output (0, 0): its window starts in the padding, at row and column -2.
            run.Probe.Take(run.Pipeline, 0, 0, 0, 0);
            Assert.Equal((-2, -2, 2, 3), run.Probe.Reach);
            Assert.Equal([true, true, true, true, false, false, true, false, false], run.Probe.ZeroPad[..9]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The probe on transposed convs (stride 2 with padding and output padding; grouped, dilated; a bias): the
    /// input pixels that scatter onto each output, each times its tap, summed, at every position equal to what the GPU
    /// wrote and to the CPU reference; an output between the inputs has none.</summary>
    [Fact]
    public void TransposedConv_TakenApart_TheInputsThatScatterOntoEachPixel()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        string dir = Directory.CreateTempSubdirectory("convgl-layer-probe-").FullName;
        try
        {
            string file = Path.Combine(dir, "t.json");
            File.WriteAllText(file, """
                { "name": "t", "input": "rgb", "layers": [
                  { "type": "conv_transpose", "weight": "w.npy", "bias": "b.npy", "stride": 2, "padding": 1, "output_padding": 1 },
                  { "type": "conv_transpose", "weight": "g.npy", "stride": [2, 3], "dilation": 2, "groups": 3, "inputs": ["input"] } ] }
                """);
            var rng = new Random(12_0616);
            float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
            Core.IO.Npy.Write(Path.Combine(dir, "w.npy"), new Tensor([3, 2, 3, 3], R(54)));
            Core.IO.Npy.Write(Path.Combine(dir, "b.npy"), new Tensor([2], [0.5f, -0.25f]));
            Core.IO.Npy.Write(Path.Combine(dir, "g.npy"), new Tensor([3, 2, 2, 3], R(36)));
            var image = Tensor.Chw(3, 5, 6);
            for (int i = 0; i < image.Length; i++) image.Data[i] = (float)rng.NextDouble();
            using var run = new Probed(file, image);
            (Stack stack, StackResult cpu, StackPipeline pipeline, Probe probe) = (run.Stack, run.Cpu, run.Pipeline, run.Probe);
            int empty = 0;
            foreach (int layer in new[] { 0, 1 })
                run.AssertEveryPosition(layer, ProbeKind.Transposed, 1e-5, 2e-5, (_, _, _) =>
                {
                    if (probe.KernelWidth == 0) empty++;
                });
            Assert.True(empty > 0, "the strided, dilated layer has outputs no input lands on");
            // Stride 2, pad 1: output (0, 2, 3) gathers input rows (2 + 1 - ky) / 2 for ky = 1 (row 1), cols (3 + 1 - kx) / 2
            // for kx = 0, 2 (cols 2, 1), over the 3 input channels: 6 products.
            probe.Take(pipeline, 0, 0, 3, 2);
            Assert.Equal(6, probe.KernelWidth);
            Assert.Equal((0, 1, 2, 1, 0), probe.Scattered[0]);
            List<string> lines = HudText.ProbeLines(probe, false, c => "R", 300, pipeline.MapName);
            Assert.StartsWith("6 input value(s) land here: ", lines[1]);
            Assert.StartsWith(" in[0, 1, 2] x w[1, 0] = ", lines[2]);
            Assert.StartsWith("bias 0.5 + sum of the 6 products = ", lines[3]);
            foreach (int chars in new[] { 50, 80, 120 })
            {
                probe.Take(pipeline, 0, 1, 5, 4);
                Assert.True(HudText.Wrap(HudText.ProbeLines(probe, true, c => "Convolution249:~", chars, pipeline.MapName), chars).Count
                            <= HudText.LayerProbeStripLines(stack.Layers[0], chars), $"at {chars} characters");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The strip reserves what a batchnorm's probe takes at any width, for a 4-digit channel and a |diff| of
    /// 1.0e-12 (a 1024-channel DenseNet norm; the review found 9 lines against 8 reserved at 41 characters).</summary>
    [Fact]
    public void AffineProbe_FitsTheLinesReserved_AtEveryWidth()
    {
        var layer = new BatchNormLayer(Core.Ops.BatchNorm.FromAffine(new float[1024], new float[1024]));
        var p = new Probe(null!)
        {
            Valid = true, Kind = ProbeKind.Affine, LayerName = "batchnorm", Layer = 119, Channel = 1023, X = 1919, Y = 1079,
            FirstInput = 1023, Window = [-1.23456e-07f, -9.87654e-07f], Bias = -1.23456e-07f, Sum = -1.23456e-07, Gpu = -1.23456e-07f + 1e-12f,
        };
        for (int chars = 40; chars <= 160; chars++)
            Assert.True(HudText.Wrap(HudText.ProbeLines(p, true, _ => "Convolution249:~", chars), chars).Count <= HudText.LayerProbeStripLines(layer, chars), $"{chars} characters");
    }

    /// <summary>What the strip says on these layers while nothing is probed: the reduction over c, and each map's index
    /// where it is broadcast.</summary>
    [Fact]
    public void ChannelReductionsAndTwoMapLayers_IdleRules()
    {
        Assert.Equal(["layer 3 (max over the channels), for y < 9, x < 11:", "out[0,y,x] = max over c < 6 of in[c,y,x]: each pixel's strongest response (a NaN wins)"],
            HudText.LayerFormulaLines(new ChannelReduceLayer(Core.Ops.ReduceKind.Max), 6, 9, 11, 3));
        Assert.Equal("out[0,y,x] = (sum over c < 6 of in[c,y,x]) / 6: each pixel's mean over the maps",
            HudText.LayerFormulaLines(new ChannelReduceLayer(Core.Ops.ReduceKind.Mean), 6, 9, 11, 3)[1]);
        Assert.Equal(["layer 5 (mul of two maps, a (1, 9, 11) and b (3, 9, 11)), for c < 3, y < 9, x < 11:", "out[c,y,x] = a[0,y,x] * b[c,y,x]: the smaller map repeated (broadcast) over the other"],
            HudText.LayerFormulaLines(new MulLayer(), 1, 9, 11, 5, (3, 9, 11)));
        Assert.Equal("out[c,y,x] = a[c,y,x] - b[c,0,0]: the smaller map repeated (broadcast) over the other",
            HudText.LayerFormulaLines(new ElementwiseLayer(Core.Ops.BinaryKind.Sub), 3, 9, 11, 5, (3, 1, 1))[1]);
        Assert.Equal("out[c,y,x] = a[c,y,x] + b[c,y,x]", HudText.LayerFormulaLines(new AddLayer(), 3, 9, 11, 5, (3, 9, 11))[1]);
        // (C, 1, 1) against (1, H, W): neither is the output's shape.
        Assert.Equal("out[c,y,x] = a[c,0,0] * b[0,y,x]: both maps repeated (broadcast) to the output's shape",
            HudText.LayerFormulaLines(new MulLayer(), 12, 1, 1, 5, (1, 90, 160))[1]);
        Assert.Empty(HudText.LayerFormulaLines(new AddLayer(), 3, 9, 11, 5));
        Assert.Equal("out[c,0,0] = (sum over y < 9, x < 11 of in[c,y,x]) / 99", HudText.LayerFormulaLines(new GlobalAvgPoolLayer(), 3, 9, 11, 4)[1]);
        Assert.Equal("out[c,y,x] = scale[c] x in[c,y,x] + shift[c]", HudText.LayerFormulaLines(new BatchNormLayer(Core.Ops.BatchNorm.FromAffine([1f], [0f])), 1, 9, 11, 4)[1]);
        Assert.Equal(["layer 2 (max by a number, each value on its own), for c < 3, y < 9, x < 11:", "out[c,y,x] = max(in[c,y,x], 0.5)"],
            HudText.LayerFormulaLines(new ElementwiseLayer(Core.Ops.BinaryKind.Max, 0.5f), 3, 9, 11, 2));
    }

    /// <summary>A stack file on the CPU reference and on a headless GL pipeline over one image, and a probe on the pipeline.</summary>
    private sealed class Probed : IDisposable
    {
        private readonly GlContext _context;

        public Probed(string file, Tensor image)
        {
            Stack = StackFile.Load(file);
            Cpu = StackRunner.Run(Stack, image);
            _context = GlContext.CreateHeadless();
            Pipeline = new StackPipeline(_context, file, (image.H, image.W));
            Pipeline.Input.Upload(image);
            Pipeline.Run();
            Probe = new Probe(_context.Gl);
        }

        public Stack Stack { get; }
        public StackResult Cpu { get; }
        public StackPipeline Pipeline { get; }
        public Probe Probe { get; }

        /// <summary>Every position of <paramref name="layer"/>'s output taken apart as <paramref name="kind"/>: the CPU's value
        /// (from the GPU's input) within <paramref name="cpu"/> (1 + |GPU|) of what the GPU wrote, and the GPU's within
        /// <paramref name="reference"/> (1 + |reference|) of the CPU reference's map; <paramref name="each"/> checks more.</summary>
        public void AssertEveryPosition(int layer, ProbeKind kind, double cpu, double reference, Action<int, int, int>? each = null)
        {
            Tensor want = Cpu.Outputs[layer];
            for (int c = 0; c < want.C; c++)
                for (int y = 0; y < want.H; y++)
                    for (int x = 0; x < want.W; x++)
                    {
                        Probe.Take(Pipeline, layer, c, x, y);
                        Assert.True(Probe.Valid && Probe.Kind == kind, $"layer {layer} ({c}, {y}, {x}): {Probe.Kind} {Probe.Why}");
                        Assert.True(Math.Abs(Probe.Sum - Probe.Gpu) <= cpu * (1 + Math.Abs(Probe.Gpu)) && Math.Abs(want[c, y, x] - Probe.Gpu) <= reference * (1 + Math.Abs(want[c, y, x])),
                            $"layer {layer} ({c}, {y}, {x}): cpu {Probe.Sum}, gpu {Probe.Gpu}, reference {want[c, y, x]}");
                        each?.Invoke(c, y, x);
                    }
        }

        public void Dispose()
        {
            Pipeline.Dispose();
            _context.Dispose();
        }
    }
}
