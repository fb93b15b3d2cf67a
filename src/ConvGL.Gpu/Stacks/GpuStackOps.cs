using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Stacks;

/// <summary>One layer's work on the GPU: reads its input maps, writes its output map (resized to the plan's
/// shape). Made once per layer by <see cref="GpuStackOps.Create"/>, weights uploaded then.</summary>
public interface IGpuStackOp : IDisposable
{
    void Run(IReadOnlyList<GpuTensor> inputs, GpuTensor output);

    /// <summary>Which shader variant the last run used (a conv's plan, e.g. "winograd F(4x4,3x3): ..."), or null where an
    /// op has one program only.</summary>
    string? Variant => null;

    /// <summary>Whether this op can apply an activation (<see cref="FusedActivation"/>) to its results as it stores them (a
    /// conv on the direct programs, an add): <see cref="GpuStackRunner"/> then fuses the activation layer after it when no
    /// one reads this layer's own map.</summary>
    bool CanFuse => false;

    /// <summary>Sets the fused activation, or none; only for an op that <see cref="CanFuse"/>.</summary>
    void Fuse(FusedActivation? act)
    {
        if (act is not null) throw new InvalidOperationException($"{GetType().Name} cannot fuse an activation");
    }
}

/// <summary>The GPU op of every stack layer type: the layer's CPU reference is its <see cref="StackLayer.Forward(Tensor)"/>.</summary>
public static class GpuStackOps
{
    /// <param name="algorithm">for a conv layer: direct (conv2d*.comp), fft (fft_*.comp) or separable (a depthwise
    /// layer of one rank-1 kernel: <see cref="ConvAlgorithms.SharedKernel"/>)</param>
    public static IGpuStackOp Create(GlContext context, StackLayer layer, int index, ConvAlgorithm algorithm = ConvAlgorithm.Direct)
    {
        switch (layer)
        {
            case ConvLayer c when algorithm == ConvAlgorithm.Fft:
                var fft = new GpuFftConv2D(context, c.Weight, c.Bias, c.Options);
                // "fft" on the layer's line and in the scripted shaders line (its frames and bands are in the algorithm line).
                return new Op((ins, o) => fft.Run(ins[0], o), fft) { Describe = () => "fft: forward transforms, product, inverse" };
            case ConvLayer c when algorithm == ConvAlgorithm.Separable:
                if (ConvAlgorithms.SharedKernel(c.Weight, c.Bias, c.Options) is not { } kernel || !GpuSeparableConv.TryFactor(kernel, out float[] column, out float[] row))
                    throw new ConvGLException($"layers[{index}] (conv): separable needs one rank-1 kernel on every channel (depthwise, no bias)");
                var separable = new GpuSeparableConv(context, column, row, c.Options with { Groups = 1 });
                return new Op((ins, o) => separable.Run(ins[0], o), separable) { Describe = () => separable.Variant };
            case ConvLayer c:
                var conv = new GpuConv2D(context, c.Weight, c.Bias, c.Options);
                return new Op((ins, o) => conv.Run(ins[0], o), conv) { Describe = () => conv.Variant, SetFused = act => conv.Fused = act };
            case ConvTransposeLayer t:
                var deconv = new GpuConvTranspose2D(context, t.Weight, t.Bias, t.Options);
                return new Op((ins, o) => deconv.Run(ins[0], o), deconv);
            case PoolLayer p:
                var pool = new GpuPool2D(context, p.Options);
                return new Op((ins, o) => pool.Run(ins[0], o), pool);
            case PaddedPoolLayer p:
                var padded = new GpuPaddedPool2D(context, p.Options);
                return new Op((ins, o) => padded.Run(ins[0], o), padded);
            case ActivationLayer a:
                var act = new GpuActivation(context, a.Kind, a.Slope) { Min = a.Min, Max = a.Max, Beta = a.Beta };
                return new Op((ins, o) => act.Run(ins[0], o), act);
            case UnaryLayer u:
                var unary = new GpuUnary(context, u.Kind);
                return new Op((ins, o) => unary.Run(ins[0], o), unary);
            case MagnitudeLayer:
                var mag = new GpuMagnitude(context);
                return new Op((ins, o) => mag.Run(ins[0], o));
            case BatchNormLayer b:
                var affine = new GpuChannelAffine(context, b.Parameters);
                return new Op((ins, o) => affine.Run(ins[0], o, ins[0].H * ins[0].W), affine);
            case ChannelLayerNormLayer ln:
                var lnorm = new GpuChannelLayerNorm(context, ln.Parameters);
                return new Op((ins, o) => lnorm.Run(ins[0], o), lnorm);
            case InstanceNormLayer n:
                var inorm = new GpuInstanceNorm(context, n.Parameters);
                return new Op((ins, o) => inorm.Run(ins[0], o, ins[0].H * ins[0].W), inorm);
            case GroupNormLayer gn:
                var gnorm = new GpuGroupNorm(context, gn.Parameters, gn.Groups);
                return new Op((ins, o) => gnorm.Run(ins[0], o), gnorm) { Describe = () => gnorm.Variant };
            case LrnLayer l:
                var lrn = new GpuLrn(context, l.Parameters);
                return new Op((ins, o) => lrn.Run(ins[0], o, ins[0].C), lrn);
            case AddLayer:
                var add = new GpuAdd(context);
                return new Op((ins, o) =>
                {
                    GpuTensor a = ins[0], b = ins[1];
                    if ((a.C, a.H, a.W) != (b.C, b.H, b.W))
                        throw new ConvGLException($"layers[{index}] (add): inputs {a.ShapeString} and {b.ShapeString} differ");
                    add.Run(a, b, o);
                }, add) { SetFused = act => add.Fused = act };
            case PReluLayer pr:
                // One slope per channel (or one for all: plane p uses slope p % 1): the channel-affine shader's PRELU mode.
                var prelu = new GpuChannelAffine(context, BatchNorm.FromAffine(pr.Slopes, new float[pr.Slopes.Length])) { PRelu = true };
                return new Op((ins, o) => prelu.Run(ins[0], o, ins[0].H * ins[0].W), prelu);
            case SoftmaxLayer sm:
                var softmax = new GpuSoftmax(context, sm.Log);
                return new Op((ins, o) => softmax.Run(ins[0], o), softmax);
            case ConcatLayer:
                var concat = new GpuConcat(context);
                return new Op((ins, o) => concat.Run(ins, o), concat);
            case DepthToSpaceLayer d:
                var shuffle = new GpuDepthToSpace(context, d.Block, d.ToSpace, d.Mode);
                return new Op((ins, o) => shuffle.Run(ins[0], o, 1, ins[0].C), shuffle);
            case ResizeLayer { ToSecondInput: true } r:
                // To the second map's size: the options remade when that size changes, not per frame.
                var resizeTo = new GpuResize(context, r.Options);
                (int H, int W) resizedTo = default;
                return new Op((ins, o) =>
                {
                    if (resizedTo != (ins[1].H, ins[1].W)) (resizeTo.Options, resizedTo) = (r.For(ins[1].H, ins[1].W), (ins[1].H, ins[1].W));
                    resizeTo.Run(ins[0], o);
                }, resizeTo);
            case ResizeLayer r:
                var resize = new GpuResize(context, r.Options);
                return new Op((ins, o) => resize.Run(ins[0], o), resize);
            case PadLayer { ToSecondInput: true } p:
                var padTo = new GpuPad(context, p.Options);
                (int H, int W, int ToH, int ToW) paddedTo = default;
                return new Op((ins, o) =>
                {
                    (int, int, int, int) now = (ins[0].H, ins[0].W, ins[1].H, ins[1].W);
                    if (paddedTo != now) (padTo.Options, paddedTo) = (p.For(ins[0].H, ins[0].W, ins[1].H, ins[1].W), now);
                    padTo.Run(ins[0], o);
                }, padTo);
            case PadLayer p:
                var pad = new GpuPad(context, p.Options);
                return new Op((ins, o) => pad.Run(ins[0], o), pad);
            case MulLayer:
                var mul = new GpuAdd(context, BinaryKind.Mul);
                // A (C, 1, 1) gate over a (C, H, W) map: the channel-affine shader's scale-only mode.
                var gate = new GpuChannelAffine(context, BatchNorm.FromAffine([1f], [0f]));
                return new Op((ins, o) =>
                {
                    GpuTensor a = ins[0], b = ins[1];
                    if (b.H * b.W == 1 && b.C == a.C && a.H * a.W > 1 && gate.TryRunScale(a, b, o)) return;
                    if (a.H * a.W == 1 && a.C == b.C && b.H * b.W > 1 && gate.TryRunScale(b, a, o)) return;
                    // (The plan checked the shapes: equal, or broadcast along C or H and W.)
                    mul.RunMaps(a, b, o);
                }, mul, gate);
            case ElementwiseLayer { Value: { } value } e:
                // A map and a number: the number as a one-value tensor, uploaded once.
                var withNumber = new GpuAdd(context, e.Kind);
                var number = GpuTensor.From(context, Tensor.Chw(1, 1, 1, [value]), $"{e.Type} value");
                return new Op((ins, o) => withNumber.RunMaps(ins[0], number, o), withNumber, number);
            case ElementwiseLayer e:
                var binary = new GpuAdd(context, e.Kind);
                return new Op((ins, o) => binary.RunMaps(ins[0], ins[1], o), binary);
            case AttentionLayer at:
                var attention = new GpuAttention(context);
                return new Op((ins, o) => attention.Run(ins[0], ins[1], ins[2], o, at.ScaleFor(ins[0].C), at.Heads), attention) { Describe = () => attention.Variant };
            case ChannelReduceLayer r:
                var overChannels = new GpuReduce(context, r.Kind);
                return new Op((ins, o) => overChannels.Run(ins[0], o, 1, ins[0].C, ins[0].H * ins[0].W, (1, ins[0].H, ins[0].W)), overChannels);
            case CoordsLayer:
                // The coordinates depend on the size alone: computed by the reference and uploaded when the size changes,
                // then one buffer copy a run (the output tensor is the runner's, written every run like any layer's).
                var coordinates = new GpuTensor(context, 2, 1, 1, $"layer {index} coordinates");
                (int H, int W) coordinatesFor = default;
                return new Op((ins, o) =>
                {
                    if (coordinatesFor != (ins[0].H, ins[0].W))
                    {
                        coordinates.Upload(Coordinates.Apply(ins[0].H, ins[0].W));
                        coordinatesFor = (ins[0].H, ins[0].W);
                    }
                    Copy(context, coordinates, o, (2, ins[0].H, ins[0].W));
                }, coordinates);
            case GlobalMaxPoolLayer:
                var gmax = new GpuReduce(context, ReduceKind.Max);
                return new Op((ins, o) => gmax.Run(ins[0], o, ins[0].C, ins[0].H * ins[0].W, 1, (ins[0].C, 1, 1)), gmax);
            case GlobalAvgPoolLayer:
                var global = new GpuGlobalAveragePool(context);
                return new Op((ins, o) => global.Run(ins[0], o), global);
            case ChannelShuffleLayer cs:
                var shuffler = new GpuStridedCopy(context);
                StridedView? view = null; // made when the map's shape changes, not per frame
                return new Op((ins, o) =>
                {
                    GpuTensor x = ins[0];
                    cs.OutputChannels(x.C, out string? error);
                    if (error is not null) throw new ConvGLException($"layers[{index}] (channel_shuffle): {error}");
                    if (view is null || view.Dims[2] != x.H * x.W || view.Dims[0] * view.Dims[1] != x.C) view = cs.View(x.C, x.H * x.W);
                    shuffler.Run(x, view, o, (x.C, x.H, x.W));
                }, shuffler);
            case SliceLayer sl when sl.ChannelsOnly:
                // Channels are contiguous planes: one buffer-to-buffer copy.
                return new Op((ins, o) =>
                {
                    GpuTensor x = ins[0];
                    int count = sl.OutputChannels(x.C, out string? error);
                    if (error is not null) throw new ConvGLException($"layers[{index}] (slice): {error}");
                    o.Resize(count, x.H, x.W);
                    ComputeOp.CopyFloats(context.Gl, x, (long)sl.Start * x.H * x.W, o, 0, o.Length);
                });
            case SliceLayer sl:
                // Rows or columns too: a strided read of the map (strided_copy.comp).
                var cropper = new GpuStridedCopy(context);
                StridedView? cropView = null; // made when the map's shape changes, not per frame
                (int C, int H, int W) cropFrom = default, cropTo = default;
                return new Op((ins, o) =>
                {
                    GpuTensor x = ins[0];
                    if (cropView is null || cropFrom != (x.C, x.H, x.W))
                    {
                        int count = sl.OutputChannels(x.C, out string? error);
                        if (error is not null) throw new ConvGLException($"layers[{index}] (slice): {error}");
                        (int h, int w) = sl.OutputSize(x.H, x.W);
                        (cropView, cropFrom, cropTo) = (sl.View(x.C, x.H, x.W), (x.C, x.H, x.W), (count, h, w));
                    }
                    cropper.Run(x, cropView, o, cropTo);
                }, cropper);
            case FlattenLayer { ChannelsLast: true }:
                // Pixel by pixel (Keras' order): the map read as (H, W, C), a transpose (transpose4.comp).
                var transposer = new GpuStridedCopy(context);
                StridedView? hwcView = null; // made when the map's shape changes, not per frame
                (int C, int H, int W) hwcFrom = default;
                return new Op((ins, o) =>
                {
                    GpuTensor x = ins[0];
                    if (hwcView is null || hwcFrom != (x.C, x.H, x.W))
                        (hwcView, hwcFrom) = (new StridedView(0, [x.H, x.W, x.C], [x.W, 1, (long)x.H * x.W]), (x.C, x.H, x.W));
                    transposer.Run(x, hwcView, o, (x.Length, 1, 1));
                }, transposer);
            case FlattenLayer:
                return new Op((ins, o) => Copy(context, ins[0], o, (ins[0].Length, 1, 1)));
            case LinearLayer l:
                var gemm = new GpuGemm(context) { TransB = true };
                var weight = GpuTensor.From(context, l.Weight.Reshape(1, l.Out, l.In), $"layer {index} linear weight");
                GpuTensor? bias = l.Bias is null ? null : GpuTensor.From(context, Tensor.Chw(1, 1, l.Out, l.Bias), $"layer {index} linear bias");
                // Shapes made once: a per-frame run allocates nothing.
                int[] inShape = [1, l.In], weightShape = [l.Out, l.In], biasShape = [l.Out];
                return new Op((ins, o) =>
                {
                    inShape[1] = ins[0].Length;
                    gemm.Run(ins[0], inShape, weight, weightShape, bias, bias is null ? null : biasShape, o, (l.Out, 1, 1));
                }, gemm, weight, bias);
            default:
                throw new ConvGLException($"layers[{index}] ({layer.Type}) has no GPU implementation");
        }
    }

    /// <summary>The same values under another (C, H, W) storage shape: a buffer-to-buffer copy on the GPU.</summary>
    public static void Copy(GlContext context, GpuTensor from, GpuTensor to, (int C, int H, int W) storage)
    {
        if ((long)storage.C * storage.H * storage.W != from.Length)
            throw new ArgumentException($"storage {storage} does not hold the {from.Length} values of {from.ShapeString}");
        to.Resize(storage.C, storage.H, storage.W);
        ComputeOp.CopyFloats(context.Gl, from, 0, to, 0, from.Length);
    }

    /// <summary>A layer op: the dispatch, and the GPU objects it owns.</summary>
    private sealed class Op(Action<IReadOnlyList<GpuTensor>, GpuTensor> run, params IDisposable?[] owned) : IGpuStackOp
    {
        public void Run(IReadOnlyList<GpuTensor> inputs, GpuTensor output) => run(inputs, output);

        public Func<string?>? Describe { get; init; }

        public string? Variant => Describe?.Invoke();

        /// <summary>Sets the op's fused activation, for an op that has one.</summary>
        public Action<FusedActivation?>? SetFused { get; init; }

        public bool CanFuse => SetFused is not null;

        public void Fuse(FusedActivation? act)
        {
            if (SetFused is null) throw new InvalidOperationException("this layer's op cannot fuse an activation");
            SetFused(act);
        }

        public void Dispose()
        {
            foreach (IDisposable? d in owned) d?.Dispose();
        }
    }
}
