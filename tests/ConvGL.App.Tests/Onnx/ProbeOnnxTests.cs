using ConvGL.App.Live;
using ConvGL.Core;
using ConvGL.Core.Stacks;
using ConvGL.Core.Tests.Onnx;
using ConvGL.Gpu;

namespace ConvGL.App.Tests.Onnx;

/// <summary>The window's probe on imported ONNX layers, in-process on a headless GL context: the window is read from the
/// map the layer actually reads (a graph edge that skips a layer, a residual add's output, the preprocessed input of
/// a packaged model), the kernel is the one applied (batchnorm folded in), and window x kernel summed over the input
/// channels + bias equals the GPU's map value and the CPU stack runner's.</summary>
public sealed class ProbeOnnxTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"convgl-probe-onnx-{Environment.ProcessId}-{Guid.NewGuid():N}");

    public ProbeOnnxTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static float W(Tensor w, int o, int i, int y, int x) => w.Data[((o * w.Shape[1] + i) * w.Shape[2] + y) * w.Shape[3] + x];

    private static GlContext Gl()
    {
        Assert.SkipWhen(!GlContext.EglAvailable(out string reason), reason);
        return GlContext.CreateHeadless();
    }

    /// <summary>SmallGraphs.ProbeExample on a 4x6 ramp x = 6 row + col - 11 (-11..12); layer 2 reads layer 0's (x, -x),
    /// not the Relu's. Output 2x3 (stride 2, pads top 1, right 1). By hand:
    /// (x 2, y 1): rows 1..3, columns 4..6 (6 is the right pad). Channel 0 (kernel 1..9) sees [-1 0 0; 5 6 0; 11 12 0]:
    /// -1 + 4*5 + 5*6 + 7*11 + 8*12 = 222; channel 1 (-x) sees -6 under the centre's -1 (+6) and the pad under the 2:
    /// 6. 222 + 6 + 0.5 = 228.5.
    /// (x 0, y 0): row -1 is the top pad, rows 0..1, columns 0..2. Channel 0: 4*-11 + 5*-10 + 6*-9 + 7*-5 + 8*-4 + 9*-3
    /// = -242; channel 1: centre (row 0, col 1) -x = 10 times -1, bottom right (row 1, col 2) -x = 3 times 2: -4.
    /// -242 - 4 + 0.5 = -245.5.</summary>
    [Fact]
    public void SmallModel_Stride2AsymmetricPads_TwoInputChannels_WorkedExample_GpuEqualsCpu()
    {
        string model = P("probe.onnx");
        File.WriteAllBytes(model, SmallGraphs.ProbeExample());
        Tensor x = Tensor.Chw(1, 4, 6, Enumerable.Range(0, 24).Select(v => (float)(v - 11)).ToArray());
        Stack stack = StackCatalog.Load(model);
        Assert.Equal([0], stack.Layers[2].Inputs);
        Tensor cpu = StackRunner.Run(stack, x).Outputs[2];
        Assert.Equal([1, 2, 3], cpu.Shape);
        Assert.Equal(228.5f, cpu[0, 1, 2]);
        Assert.Equal(-245.5f, cpu[0, 0, 0]);

        using GlContext context = Gl();
        using var pipeline = new StackPipeline(context, model);
        pipeline.Input.Upload(x);
        pipeline.Run();
        var probe = new Probe(context.Gl);

        probe.Take(pipeline, 2, 0, 2, 1);
        Assert.True(probe.Valid, probe.Why);
        Assert.Equal((3, 3, 2, 0), (probe.KernelHeight, probe.KernelWidth, probe.InputChannels, probe.FirstInput));
        Assert.Equal([-1f, 0, 0, 5, 6, 0, 11, 12, 0, 1, 0, 0, -5, -6, 0, -11, -12, 0], probe.Window[..18]);
        Assert.Equal([1f, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0, 0, -1, 0, 0, 0, 2], probe.Kernel[..18]);
        Assert.Equal([222.0, 6.0], probe.ChannelSums[..2]);
        Assert.Equal(0.5f, probe.Bias);
        Assert.Equal(228.5, probe.Sum);
        Assert.Equal(228.5f, probe.Gpu);

        probe.Take(pipeline, 2, 0, 0, 0);
        Assert.True(probe.Valid, probe.Why);
        Assert.Equal([0f, 0, 0, -11, -10, -9, -5, -4, -3], probe.Window[..9]);
        Assert.Equal([-242.0, -4.0], probe.ChannelSums[..2]);
        Assert.Equal(-245.5, probe.Sum);
        Assert.Equal(-245.5f, probe.Gpu);

        // Every pixel: the probe's sum, the GPU's value and the CPU stack runner's agree.
        for (int y = 0; y < 2; y++)
            for (int xx = 0; xx < 3; xx++)
            {
                probe.Take(pipeline, 2, 0, xx, y);
                Assert.Equal(cpu[0, y, xx], probe.Sum, 1e-4);
                Assert.Equal(cpu[0, y, xx], probe.Gpu, 1e-4);
            }
        // Layer 2 reads layer 0's maps: its input channels are named after them, each sum beside its name.
        string[] names = [pipeline.MapName(0, 0), pipeline.MapName(0, 1)];
        Assert.Equal(names, new[] { pipeline.InputMapName(2, 0), pipeline.InputMapName(2, 1) });
        List<string> text = HudText.ProbeLines(probe, pinned: false, c => pipeline.InputMapName(2, c));
        Assert.Contains($"input window (channel 0: {HudText.Fit(names[0], 16)})", text[1]);
        Assert.Contains(FormattableString.Invariant($"sum over 2 input channel(s): {HudText.Fit(names[0], 16)} {probe.ChannelSums[0]:0.0000} {HudText.Fit(names[1], 16)} {probe.ChannelSums[1]:0.0000}"), string.Join('\n', text));
    }

    /// <summary>--normalize on the residual test graph (its add reads the model's input): layer 0 is the normalisation,
    /// whose probe shows in, 1 / std and -mean / std and the GPU's (in - mean) / std; every conv's probe reads the
    /// normalised maps (conv1 layer 0's, the add's for conv2) and equals the CPU stack runner. A classifier opens on the
    /// model's first layer, past the normalisation.</summary>
    [Fact]
    public void NormalisedModel_TheNormalisationAndEveryConv_ProbeEqualsCpu()
    {
        string model = P("residual.onnx");
        File.WriteAllBytes(model, SmallGraphs.ResidualWithHeadBytes());
        InputNormalization normalize = InputNormalization.Parse("0.5,0.25,0.75/0.5,0.25,2");
        Stack stack = normalize.Apply(StackCatalog.Load(model));
        var rng = new Random(11);
        Tensor x = Tensor.Chw(3, 9, 12, Enumerable.Range(0, 3 * 9 * 12).Select(_ => (float)rng.NextDouble()).ToArray());
        StackResult cpu = StackRunner.Run(stack, x);

        using GlContext context = Gl();
        using var pipeline = new StackPipeline(context, model, normalize: normalize);
        Assert.Equal(stack.Layers.Count, pipeline.LayerCount);
        Assert.Equal(1, pipeline.DefaultLayer);
        // The HUD's "model input" line says what the model is fed: the picture as 0..1 values, then the normalisation.
        Assert.Equal("RGB, 0..1; layer 1 normalizes: (x - mean) / std, mean 0.5, 0.25, 0.75, std 0.5, 0.25, 2", pipeline.InputNote);
        using (var plain = new StackPipeline(context, model))
        {
            Assert.Equal("RGB, 0..1 (--normalize for one trained on normalised pictures)", plain.InputNote);
            Assert.Equal(0, plain.DefaultLayer);
        }
        using (var shipped = new StackPipeline(context, "edges")) Assert.Null(shipped.InputNote);
        // A Keras export takes its input channels-last, (1, H, W, 3): the line says so.
        File.WriteAllBytes(P("keras.onnx"), BranchyGraphs.KerasLikeBytes());
        using (var keras = new StackPipeline(context, P("keras.onnx")))
            Assert.Equal("RGB, 0..1, channels-last (--normalize for one trained on normalised pictures)", keras.InputNote);
        // bgr: the first layer is the 1x1 conv that reverses the channels: its maps are named B, G, R, and the normalise
        // layer's R, G, B.
        using (var bgr = new StackPipeline(context, model, normalize: InputNormalization.Parse("bgr:imagenet")))
        {
            Assert.Equal(["B", "G", "R"], Enumerable.Range(0, 3).Select(c => bgr.MapName(0, c)));
            Assert.Equal(["R", "G", "B"], Enumerable.Range(0, 3).Select(c => pipeline.MapName(0, c)));
        }
        pipeline.Input.Upload(x);
        pipeline.Run();
        var probe = new Probe(context.Gl);
        float[] mean = [0.5f, 0.25f, 0.75f], std = [0.5f, 0.25f, 2f];
        for (int c = 0; c < 3; c++)
        {
            probe.Take(pipeline, 0, c, 7, 4);
            Assert.True(probe.Valid, probe.Why);
            Assert.Equal(x[c, 4, 7], probe.Window[0]);
            Assert.Equal(1f / std[c], probe.Window[1]);
            Assert.Equal(-mean[c] / std[c], probe.Bias);
            Assert.Equal((x[c, 4, 7] - mean[c]) / std[c], probe.Gpu, 1e-6);
            Assert.Equal(cpu.Outputs[0][c, 4, 7], probe.Gpu, 1e-6);
        }
        foreach (int layer in Enumerable.Range(0, stack.Layers.Count).Where(i => stack.Layers[i] is ConvLayer))
        {
            Tensor map = cpu.Outputs[layer];
            Assert.DoesNotContain(-1, stack.Layers[layer].InputsOf(layer));
            for (int c = 0; c < map.C; c++)
            {
                probe.Take(pipeline, layer, c, map.W / 2, map.H / 2);
                Assert.True(probe.Valid, probe.Why);
                double tolerance = 1e-4 * Math.Max(1, Math.Abs(map[c, map.H / 2, map.W / 2]));
                Assert.True(Math.Abs(probe.Sum - map[c, map.H / 2, map.W / 2]) <= tolerance, $"layer {layer} channel {c}: probe {probe.Sum}, CPU {map[c, map.H / 2, map.W / 2]}");
                Assert.True(Math.Abs(probe.Gpu - map[c, map.H / 2, map.W / 2]) <= tolerance, $"layer {layer} channel {c}: GPU {probe.Gpu}");
            }
        }
    }

    /// <summary>The residual test graph: conv1 (batchnorm folded in) reads the input, conv2 (7x7, stride 2, pads
    /// [3, 3, 2, 2]) reads the residual Add's output. The probe's kernel is the folded one, its window the Add's map.</summary>
    [Fact]
    public void ResidualModel_EveryConvLayer_ProbeEqualsCpuStackRunner_AndShowsTheFoldedKernel()
    {
        string model = P("residual.onnx");
        File.WriteAllBytes(model, SmallGraphs.ResidualWithHeadBytes());
        Stack stack = StackCatalog.Load(model);
        var rng = new Random(9);
        Tensor x = Tensor.Chw(3, 13, 11, Enumerable.Range(0, 3 * 13 * 11).Select(_ => (float)rng.NextDouble()).ToArray());
        StackResult cpu = StackRunner.Run(stack, x);
        int[] convs = Enumerable.Range(0, stack.Layers.Count).Where(i => stack.Layers[i] is ConvLayer).ToArray();
        Assert.Equal(2, convs.Length);
        Assert.Equal("add", stack.Layers[stack.Layers[convs[1]].InputsOf(convs[1])[0]].Type);

        using GlContext context = Gl();
        using var pipeline = new StackPipeline(context, model);
        pipeline.Input.Upload(x);
        pipeline.Run();
        var probe = new Probe(context.Gl);
        foreach (int layer in convs)
        {
            var conv = (ConvLayer)stack.Layers[layer];
            Tensor map = cpu.Outputs[layer];
            int from = stack.Layers[layer].InputsOf(layer)[0];
            Tensor input = from < 0 ? cpu.Input : cpu.Outputs[from];
            ConvGeometry g = ConvGeometry.Compute(input.H, input.W, conv.Weight.Shape[2], conv.Weight.Shape[3], conv.Options);
            foreach ((int px, int py) in new[] { (0, 0), (map.W - 1, map.H - 1), (map.W / 2, 1), (1, map.H / 2) })
                for (int c = 0; c < map.C; c++)
                {
                    probe.Take(pipeline, layer, c, px, py);
                    Assert.True(probe.Valid, probe.Why);
                    string where = $"layer {layer} channel {c} (x {px}, y {py})";
                    double tolerance = 1e-4 * Math.Max(1, Math.Abs(map[c, py, px]));
                    Assert.True(Math.Abs(probe.Sum - map[c, py, px]) <= tolerance, $"{where}: probe {probe.Sum}, CPU {map[c, py, px]}");
                    Assert.True(Math.Abs(probe.Gpu - map[c, py, px]) <= tolerance, $"{where}: GPU {probe.Gpu}, CPU {map[c, py, px]}");
                    Assert.Equal(conv.Bias?[c] ?? 0f, probe.Bias);
                    int kh = probe.KernelHeight, kw = probe.KernelWidth;
                    for (int ic = 0; ic < probe.InputChannels; ic++)
                        for (int i = 0; i < kh; i++)
                            for (int j = 0; j < kw; j++)
                            {
                                int k = (ic * kh + i) * kw + j;
                                Assert.Equal(W(conv.Weight, c, ic, i, j), probe.Kernel[k]);
                                int iy = py * conv.Options.StrideY + i - g.Y.PadBefore, ix = px * conv.Options.StrideX + j - g.X.PadBefore;
                                float want = (uint)iy < (uint)input.H && (uint)ix < (uint)input.W ? input[ic, iy, ix] : 0f;
                                Assert.True(Math.Abs(want - probe.Window[k]) <= 1e-5 * Math.Max(1, Math.Abs(want)), $"{where} tap ({ic}, {i}, {j}): window {probe.Window[k]}, CPU input {want}");
                            }
                }
        }
        // conv1's kernel as applied is the ONNX weight with bn1 folded in, not the stored w1.
        Tensor w1 = SmallGraphs.ResidualWithHead().Initializers["w1"];
        Assert.NotEqual(w1.Data, ((ConvLayer)stack.Layers[convs[0]]).Weight.Data);
    }

    /// <summary>The branchy model (Sub / Div normalisation, ReLU6, a reflect Pad before conv_a, an edge Pad before the
    /// 1x1 conv_b): the probe on every conv layer reads its window from the map that conv reads (an affine layer's or a
    /// pad's), and window x kernel summed + bias is the CPU stack runner's value and the GPU's.</summary>
    [Fact]
    public void BranchyModel_EveryConvLayer_ProbeEqualsCpuStackRunner_WindowFromThePadsMap()
    {
        string model = P("branchy.onnx");
        File.WriteAllBytes(model, ConvGL.Core.Tests.Onnx.BranchyGraphs.MobileLikeBytes());
        Stack stack = StackCatalog.Load(model);
        var rng = new Random(3);
        Tensor x = Tensor.Chw(3, 10, 12, Enumerable.Range(0, 360).Select(_ => (float)rng.NextDouble()).ToArray());
        StackResult cpu = StackRunner.Run(stack, x);
        int[] convs = Enumerable.Range(0, stack.Layers.Count).Where(i => stack.Layers[i] is ConvLayer).ToArray();
        Assert.Equal(["batchnorm", "pad", "pad"], convs.Select(i => stack.Layers[stack.Layers[i].InputsOf(i)[0]].Type));

        using GlContext context = Gl();
        using var pipeline = new StackPipeline(context, model);
        pipeline.Input.Upload(x);
        pipeline.Run();
        var probe = new Probe(context.Gl);
        foreach (int layer in convs)
        {
            var conv = (ConvLayer)stack.Layers[layer];
            Tensor map = cpu.Outputs[layer], input = cpu.Outputs[stack.Layers[layer].InputsOf(layer)[0]];
            ConvGeometry g = ConvGeometry.Compute(input.H, input.W, conv.Weight.Shape[2], conv.Weight.Shape[3], conv.Options);
            foreach ((int px, int py) in new[] { (0, 0), (map.W - 1, map.H - 1), (map.W / 2, 1) })
                for (int c = 0; c < map.C; c++)
                {
                    probe.Take(pipeline, layer, c, px, py);
                    Assert.True(probe.Valid, probe.Why);
                    string where = $"layer {layer} channel {c} (x {px}, y {py})";
                    double tolerance = 1e-4 * Math.Max(1, Math.Abs(map[c, py, px]));
                    Assert.True(Math.Abs(probe.Sum - map[c, py, px]) <= tolerance, $"{where}: probe {probe.Sum}, CPU {map[c, py, px]}");
                    Assert.True(Math.Abs(probe.Gpu - map[c, py, px]) <= tolerance, $"{where}: GPU {probe.Gpu}, CPU {map[c, py, px]}");
                    int kh = probe.KernelHeight, kw = probe.KernelWidth;
                    for (int ic = 0; ic < probe.InputChannels; ic++)
                        for (int i = 0; i < kh; i++)
                            for (int j = 0; j < kw; j++)
                            {
                                int k = (ic * kh + i) * kw + j;
                                int iy = py * conv.Options.StrideY + i - g.Y.PadBefore, ix = px * conv.Options.StrideX + j - g.X.PadBefore;
                                float want = (uint)iy < (uint)input.H && (uint)ix < (uint)input.W ? input[ic, iy, ix] : 0f;
                                Assert.True(Math.Abs(want - probe.Window[k]) <= 1e-5 * Math.Max(1, Math.Abs(want)), $"{where} tap ({ic}, {i}, {j}): window {probe.Window[k]}, CPU input {want}");
                            }
                }
        }
    }

    /// <summary>The window's layer lines give an imported layer's own numbers, as a conv's: the decoder's transposed convs
    /// (kernel, channels, stride, dilation, output padding), the upsampler's resizes (mode and scale or size), a Keras
    /// flatten's order.</summary>
    [Fact]
    public void ImportedLayers_HudLines_GiveTheirNumbers()
    {
        string decoder = P("decoder.onnx"), upsampler = P("up.onnx");
        File.WriteAllBytes(decoder, ConvGL.Core.Tests.Onnx.BranchyGraphs.DecoderBytes());
        File.WriteAllBytes(upsampler, ConvGL.Core.Tests.Onnx.BranchyGraphs.UpsamplerBytes());
        using GlContext context = Gl();
        // Each line starts with the layer's node name, as the model names it.
        Stack decoderStack = StackCatalog.Load(decoder), upsamplerStack = StackCatalog.Load(upsampler);
        static string Node(Stack stack, int i)
        {
            Assert.False(string.IsNullOrEmpty(stack.Layers[i].Label), $"layer {i} of {stack.Name} has no node name");
            return stack.Layers[i].Label + ": ";
        }
        using (var pipeline = new StackPipeline(context, decoder))
        {
            Assert.StartsWith(Node(decoderStack, 2) + "conv_transpose 3x3 4->2 s2 d1 pad 1,1,1,1 op1 -> ", pipeline.LayerLabel(2));
            Assert.StartsWith(Node(decoderStack, 4) + "conv_transpose 2x2 2->4 s1 d2 -> ", pipeline.LayerLabel(4));
            // After a run a conv's line names the plan its shader ran (before one, nothing).
            int conv = Enumerable.Range(0, pipeline.LayerCount).First(i => decoderStack.Layers[i] is ConvLayer);
            Assert.StartsWith(Node(decoderStack, conv) + "conv ", pipeline.LayerLabel(conv));
            Assert.DoesNotContain("[", pipeline.LayerLabel(conv));
            pipeline.Run();
            // The output view reads the last map (computed at once): the relu after the conv, whose own map no view reads, is
            // fused into its stores ("+relu").
            pipeline.LayerOutput(pipeline.LayerCount - 1);
            Assert.Matches(@"^\S+: conv \S+ \S+ .*\[conv2d(_dense|_depthwise)?\+relu\] -> ", pipeline.LayerLabel(conv));
            Assert.Contains("[fused]", pipeline.LayerLabel(conv + 1));
            // The imported transposed convolution (stride 2, pads, output padding) is taken apart: the inputs that scatter
            // onto each output pixel, equal to what the GPU wrote (it said "not a convolution layer", then why not).
            var probe = new Probe(context.Gl);
            GpuTensor output = pipeline.LayerOutput(2);
            for (int y = 0; y < output.H; y++)
                for (int x = 0; x < output.W; x++)
                {
                    probe.Take(pipeline, 2, 1, x, y);
                    Assert.True(probe.Valid && probe.Kind == ProbeKind.Transposed, probe.Why);
                    Assert.True(Math.Abs(probe.Sum - probe.Gpu) <= 1e-5 + 1e-5 * Math.Abs(probe.Gpu), $"({y}, {x}): cpu {probe.Sum}, gpu {probe.Gpu}");
                }
        }
        using (var pipeline = new StackPipeline(context, upsampler))
        {
            Assert.StartsWith(Node(upsamplerStack, 1) + "resize nearest x2 -> (4, 8, 6)", pipeline.LayerLabel(1));
            Assert.StartsWith(Node(upsamplerStack, 2) + "resize linear to 6x8 -> (4, 8, 6)", pipeline.LayerLabel(2));
        }
        // An activation's ONNX parameters: the SE model's gate (HardSigmoid, alpha and beta at ONNX's defaults) and its Elu.
        string se = P("se.onnx");
        File.WriteAllBytes(se, ConvGL.Core.Tests.Onnx.BranchyGraphs.SqueezeExciteBytes());
        using (var pipeline = new StackPipeline(context, se))
        {
            string[] lines = Enumerable.Range(0, pipeline.LayerCount).Select(pipeline.LayerLabel).ToArray();
            Assert.Contains(lines, l => l.StartsWith("gate: hard_sigmoid alpha 0.2 beta 0.5 ", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("elu alpha 0.5 ", StringComparison.Ordinal));
        }
        // A Keras Flatten reads pixel by pixel: its line says so (a plain flatten's says only "flatten").
        string digits = P("digits.onnx");
        File.WriteAllBytes(digits, ConvGL.Core.Tests.Onnx.BranchyGraphs.KerasDigitsBytes());
        using (var pipeline = new StackPipeline(context, digits))
            Assert.Equal("flatten pixel by pixel (hwc) -> (48, 1, 1)", pipeline.LayerLabel(3)); // (its node is named flatten too)
    }

    /// <summary>ResNet18's first layer in the window (GPU path; the other 51 layers off, so only the preprocessing and
    /// conv1 run): the probe's window is the preprocessed input (224x224, BGR, 0..255 minus the mean image), read at
    /// (2 y + i - 3, 2 x + j - 3) with zeros in the pads (3 top/left, 2 bottom/right), not the source picture.</summary>
    [Fact]
    public void ResNet18_Layer0_WindowIsThePreprocessedInput_AndTheSumIsTheGpuValue()
    {
        Stack stack = StackCatalog.Load("resnet18");
        var conv = (ConvLayer)stack.Layers[0];
        Assert.Equal((2, 2, 3, 3, 2, 2), (conv.Options.StrideY, conv.Options.StrideX, conv.Options.PadY, conv.Options.PadX, conv.Options.PadBottom, conv.Options.PadRight));
        // A smooth colour picture, not the model's size: the preprocessing resizes and crops it.
        var image = Tensor.Chw(3, 90, 120);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 90; y++)
                for (int x = 0; x < 120; x++)
                    image[c, y, x] = (float)(0.5 + 0.45 * Math.Sin(0.07 * (c + 1) * x + 0.11 * y + c));
        Tensor prepared = stack.Preprocess!.Apply(image);
        Assert.Equal([3, 224, 224], prepared.Shape);

        using GlContext context = Gl();
        using var pipeline = new StackPipeline(context, "resnet18");
        for (int i = pipeline.LayerCount - 1; i >= 1; i--) Assert.Null(pipeline.Toggle(i));
        pipeline.Input.Upload(image);
        pipeline.Run();
        var probe = new Probe(context.Gl);
        foreach ((int px, int py, int c) in new[] { (0, 0, 0), (111, 111, 5), (57, 30, 17), (110, 0, 63) })
        {
            probe.Take(pipeline, 0, c, px, py);
            Assert.True(probe.Valid, probe.Why);
            Assert.Equal((7, 7, 3), (probe.KernelHeight, probe.KernelWidth, probe.InputChannels));
            double sum = conv.Bias![c];
            for (int ic = 0; ic < 3; ic++)
                for (int i = 0; i < 7; i++)
                    for (int j = 0; j < 7; j++)
                    {
                        int k = (ic * 7 + i) * 7 + j, iy = 2 * py + i - 3, ix = 2 * px + j - 3;
                        float want = (uint)iy < 224u && (uint)ix < 224u ? prepared[ic, iy, ix] : 0f;
                        // The GPU preprocessing samples in float32: 1e-4 of the 0..255 range (ImagePreprocessGpuTests).
                        Assert.True(Math.Abs(want - probe.Window[k]) <= 255 * 1e-4, $"(x {px}, y {py}) tap ({ic}, {i}, {j}): window {probe.Window[k]}, preprocessed {want}");
                        Assert.Equal(W(conv.Weight, c, ic, i, j), probe.Kernel[k]);
                        sum += (double)want * W(conv.Weight, c, ic, i, j);
                    }
            double scale = Math.Max(1, Math.Abs(sum));
            Assert.True(Math.Abs(probe.Sum - sum) <= 1e-3 * scale, $"(x {px}, y {py}) channel {c}: probe {probe.Sum}, CPU on the CPU-preprocessed input {sum}");
            Assert.True(Math.Abs(probe.Gpu - probe.Sum) <= 1e-4 * scale, $"(x {px}, y {py}) channel {c}: GPU {probe.Gpu}, probe {probe.Sum}");
        }
        // The window holds 0..255 minus the mean, BGR: far outside the source's 0..1.
        probe.Take(pipeline, 0, 0, 57, 30);
        Assert.True(probe.Window[..147].Any(v => Math.Abs(v) > 5), "the window must be the preprocessed input, not the 0..1 source");
        // ... and the probe names its channels so: B, G, R (not the source's R, G, B, nor "channel 0").
        Assert.Equal(["B", "G", "R"], Enumerable.Range(0, 3).Select(c => pipeline.InputMapName(0, c)));
        List<string> text = HudText.ProbeLines(probe, pinned: false, c => pipeline.InputMapName(0, c));
        Assert.StartsWith("input window (channel 0: B)", text[1], StringComparison.Ordinal);
        Assert.Contains(FormattableString.Invariant($"sum over 3 input channel(s): B {probe.ChannelSums[0]:0.0000} G {probe.ChannelSums[1]:0.0000} R {probe.ChannelSums[2]:0.0000}"), string.Join('\n', text));
    }
}
