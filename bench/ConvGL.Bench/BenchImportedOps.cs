using System.Globalization;
using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu;
using ConvGL.Gpu.Ops;
using ConvGL.Core.Stacks;

namespace ConvGL.Bench;

/// <summary>Cases for the ops ONNX import brought beyond ResNet18's, each against ONNX Runtime running the same op as a
/// one-node model: a bilinear 2x Resize (decoders, FPNs), InstanceNormalization (style transfer), a stride-2
/// ConvTranspose (decoders) and ShuffleNet's channel shuffle (Reshape -> Transpose -> Reshape). Their outputs are not
/// windows of the input, so the GPU row and the peer are checked on the whole output against the CPU reference.</summary>
internal static class BenchImportedOps
{
    public static IReadOnlyList<BenchCase> Cases(bool quick)
    {
        (int h, int w) = quick ? (36, 64) : (180, 320);
        return [Resize(16, h, w), InstanceNorm(16, h, w), ConvTranspose(16, 8, h / 2, w / 2), ChannelShuffle(quick ? 16 : 116, h / 2, w / 2), Transpose(16, h, w),
                Attention(16, h / 4, w / 4), GroupNorm(quick ? 32 : 128, 32, quick ? 16 : 64, quick ? 16 : 64)];
    }

    private static BenchCase Resize(int c, int h, int w)
    {
        var o = new ResizeOptions { Mode = ResizeMode.Linear, Coordinates = ResizeCoordinates.HalfPixel, ScaleY = 2, ScaleX = 2 };
        return Case("resize2x-16", "bilinear resize x2 (half_pixel)", c, c, h, w, "-", "2x up", 0, 11,
            x => Resize2D.Apply(x, o), "Resize2D.Apply",
            ctx => { var op = new GpuResize(ctx, o); return new GpuBenchOp(op.Run, op, () => op.LastUp2 ? "resize.comp: exact 2x linear, 8 outputs per invocation from rgba32f texels" : "resize.comp: 4 outputs per invocation, coordinates in double"); },
            "GpuResize", x => OnnxRuntimeNode.Custom(OnnxModel.Resize(x, 2), "Resize (linear, half_pixel)", x, (c, 2 * h, 2 * w)));
    }

    private static BenchCase InstanceNorm(int c, int h, int w)
    {
        float[] scale = Enumerable.Range(0, c).Select(i => 0.5f + i / (float)c).ToArray(), shift = Enumerable.Range(0, c).Select(i => i * 0.1f - 0.5f).ToArray();
        var norm = new Core.Ops.InstanceNorm(scale, shift, 1e-5f);
        return Case("instnorm-16", "instance normalisation", c, c, h, w, "-", "-", 0, 12,
            x => norm.Apply(x, x.H * x.W), "InstanceNorm.Apply",
            ctx => { var op = new GpuInstanceNorm(ctx, norm); return new GpuBenchOp((i, o) => op.Run(i, o, i.H * i.W), op, () => "plane statistics in chunks + channel affine"); },
            "GpuInstanceNorm", x => OnnxRuntimeNode.Custom(OnnxModel.InstanceNorm(x, scale, shift), "InstanceNormalization", x, (c, h, w)));
    }

    private static BenchCase ConvTranspose(int cin, int cout, int h, int w)
    {
        var rng = new Random(13);
        var weight = new Tensor([cin, cout, 3, 3]);
        for (int i = 0; i < weight.Length; i++) weight.Data[i] = (rng.NextSingle() * 2 - 1) * 0.2f;
        float[] bias = Enumerable.Range(0, cout).Select(i => i * 0.01f).ToArray();
        var o = new ConvTransposeOptions { StrideY = 2, StrideX = 2, PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1, OutputPadY = 1, OutputPadX = 1 };
        return Case("convT3-s2-16to8", "conv_transpose 3x3 stride 2, pads 1, output_padding 1", cin, cout, h, w, "3x3", "2/1",
            (long)cin * cout * 9 * h * w, 13,
            x => ConvTranspose2D.Apply(x, weight, bias, o), "ConvTranspose2D.Apply",
            ctx => { var op = new GpuConvTranspose2D(ctx, weight, bias, o); return new GpuBenchOp(op.Run, op, () => op.Variant); },
            "GpuConvTranspose2D", x => OnnxRuntimeNode.Custom(OnnxModel.ConvTranspose(x, weight, bias), "ConvTranspose", x, (cout, 2 * h, 2 * w)));
    }

    // Named for the full run's 116 channels under --quick too, as every case keeps its name (its C column says 16).
    private static BenchCase ChannelShuffle(int c, int h, int w)
    {
        var layer = new ChannelShuffleLayer(2);
        return Case("chshuffle-116", "channel shuffle, 2 groups (ShuffleNet)", c, c, h, w, "-", "-", 0, 14,
            layer.Forward, "ChannelShuffleLayer.Forward",
            ctx =>
            {
                var copy = new GpuStridedCopy(ctx);
                StridedView view = layer.View(c, h * w);
                return new GpuBenchOp((i, o) => copy.Run(i, view, o, (c, h, w)), copy, () => "strided copy: one buffer copy per plane");
            },
            "GpuStridedCopy", x => OnnxRuntimeNode.Custom(OnnxModel.ChannelShuffle(x, 2), "Reshape + Transpose + Reshape", x, (c, h, w)));
    }

    /// <summary>(C, H, W) -> (H, W, C): the Transpose [0, 2, 3, 1] ConvNeXt's blocks begin with, as a graph runs it.</summary>
    private static BenchCase Transpose(int c, int h, int w)
    {
        StridedView view = Indexing.TransposeView([c, h, w], [1, 2, 0]);
        return Case($"transpose-{c}", "transpose to channels-last", c, c, h, w, "-", "-", 0, 15,
            x => Indexing.Transpose(x, [1, 2, 0]), "Indexing.Transpose",
            ctx => { var op = new GpuStridedCopy(ctx); return new GpuBenchOp((i, o) => op.Run(i, view, o, (h, w, c)), op, () => op.Variant); },
            "GpuStridedCopy", x => OnnxRuntimeNode.Custom(OnnxModel.Transpose(x, 0, 2, 3, 1), "Transpose", x, (h, w, c)));
    }

    /// <summary>Group normalisation as a diffusion model's VAE decoder has it (32 groups of 128 channels at 64x64; quick: 32
    /// channels at 16x16, named groupnorm-128 all the same), against ONNX Runtime running PyTorch's GroupNorm export (Reshape, InstanceNormalization, Reshape,
    /// Mul, Add).</summary>
    private static BenchCase GroupNorm(int c, int groups, int h, int w)
    {
        float[] scale = Enumerable.Range(0, c).Select(i => 0.5f + i / (float)c).ToArray(), shift = Enumerable.Range(0, c).Select(i => i * 0.01f - 0.5f).ToArray();
        var norm = new Core.Ops.InstanceNorm(scale, shift, 1e-6f);
        return Case("groupnorm-128", $"group normalisation, {groups} groups", c, c, h, w, "-", "-", 0, 17,
            x => norm.ApplyInGroups(x, groups), "InstanceNorm.ApplyInGroups",
            ctx => { var op = new GpuGroupNorm(ctx, norm, groups); return new GpuBenchOp((i, o) => op.Run(i, o), op, () => op.Variant); },
            "GpuGroupNorm", x => OnnxRuntimeNode.Custom(OnnxModel.GroupNorm(x, groups, scale, shift), "Reshape, InstanceNormalization, Reshape, Mul, Add", x, (c, h, w)));
    }

    /// <summary>Self-attention of a map over its own positions (q = k = v = the map, scale 1 / sqrt C): 45x80 positions
    /// attending over all 3600 (the attention stack's size), as an export writes it (Reshape, Transpose, MatMul, Mul,
    /// Softmax, Transpose, MatMul, Reshape) for ONNX Runtime.</summary>
    private static BenchCase Attention(int c, int h, int w)
    {
        float scale = 1 / MathF.Sqrt(c);
        long positions = (long)h * w;
        return Case($"attention-{c}", "self-attention over the positions (q = k = v)", c, c, h, w, "-", "-", positions * positions * 2 * c, 16,
            x => Core.Ops.Attention.Apply(x, x, x, scale), "Attention.Apply",
            ctx => { var op = new GpuAttention(ctx); return new GpuBenchOp((i, o) => op.Run(i, i, i, o, scale), op, () => op.Variant); },
            "GpuAttention", x => OnnxRuntimeNode.Custom(OnnxModel.SelfAttention(x, scale), "MatMul, Softmax, MatMul", x, (c, h, w)));
    }

    private static BenchCase Case(string name, string op, int cin, int cout, int h, int w, string kernel, string strideDilation, long macs, int seed,
        Func<Tensor, Tensor> cpu, string cpuAlgo, Func<GlContext, GpuBenchOp> gpu, string gpuAlgo, Func<Tensor, BenchPeer> peer)
    {
        Tensor? expected = null;
        Tensor Input()
        {
            var rng = new Random(seed);
            var t = Tensor.Chw(cin, h, w);
            for (int i = 0; i < t.Length; i++) t.Data[i] = rng.NextSingle() * 2 - 1;
            return t;
        }
        return new BenchCase
        {
            Name = name, Op = op, Cin = cin, Cout = cout, H = h, W = w, Kernel = kernel, StrideDilation = strideDilation, Border = "-", Macs = macs,
            MakeInput = Input, Cpu = cpu, CpuAlgo = cpuAlgo, Gpu = gpu, GpuAlgo = gpuAlgo, Peer = peer, Reference = cpu,
            Window = new(1, 1, new ConvOptions()),
            Verify = (x, got) =>
            {
                Tensor want = expected ??= cpu(x);
                if (!want.SameShape(got)) return new(false, $"output {got.ShapeString}, the reference's is {want.ShapeString}");
                double worst = 0;
                for (int i = 0; i < want.Length; i++)
                {
                    double err = Math.Abs((double)got.Data[i] - want.Data[i]);
                    if (!(err <= 1e-4 + 1e-4 * Math.Abs(want.Data[i])))
                        return new(false, string.Create(CultureInfo.InvariantCulture, $"value {i} is {got.Data[i]:G9}, the CPU reference's {want.Data[i]:G9}"));
                    worst = Math.Max(worst, err);
                }
                return new(true, string.Create(CultureInfo.InvariantCulture, $"whole output verified ({want.Length} values, max abs err {worst:0.0e0})"));
            },
        };
    }
}
