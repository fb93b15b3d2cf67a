using ConvGL.App.Live;
using ConvGL.Core;
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
}
