using ConvGL.Core.Ops;

namespace ConvGL.Core.Learning;

/// <summary>PyTorch's MaxPool2d on a (C, H, W) sample. The forward pass records, for every output, which input
/// pixel won (the first maximum in scan order, as PyTorch's CPU kernel does); the backward pass routes the whole
/// gradient to that pixel. The output equals <see cref="Pool2D.Apply"/> with <see cref="PoolKind.Max"/>.</summary>
public sealed class MaxPool2dLayer(PoolOptions options) : Layer
{
    private int[] _argmax = [];

    public PoolOptions Options { get; } = options with { Kind = PoolKind.Max };

    public MaxPool2dLayer(int size) : this(PoolOptions.Square(PoolKind.Max, size)) { }

    public override string Kind => "maxpool";

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 3) throw new ConvGLException($"maxpool input must be (C, H, W), got {input.ShapeString}");
        Input = input;
        int c = input.C, h = input.H, w = input.W;
        ConvGeometry g = Pool2D.Geometry(h, w, Options);
        var output = Tensor.Chw(c, g.Y.Output, g.X.Output);
        _argmax = new int[output.Length];
        int sy = Options.EffectiveStrideY, sx = Options.EffectiveStrideX;
        int n = 0;
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < g.Y.Output; y++)
                for (int x = 0; x < g.X.Output; x++, n++)
                {
                    float best = float.NegativeInfinity;
                    int bestIndex = -1;
                    for (int i = 0; i < Options.SizeY; i++)
                    {
                        int iy = y * sy + i - Options.PadY;
                        if ((uint)iy >= (uint)h) continue;
                        for (int j = 0; j < Options.SizeX; j++)
                        {
                            int ix = x * sx + j - Options.PadX;
                            if ((uint)ix >= (uint)w) continue;
                            int index = (ch * h + iy) * w + ix;
                            // PyTorch's rule (`val > max || isnan(val)`): a NaN wins, as in Pool2D.Apply's Math.Max.
                            if (bestIndex < 0 || input.Data[index] > best || float.IsNaN(input.Data[index]))
                            {
                                best = input.Data[index];
                                bestIndex = index;
                            }
                        }
                    }
                    output.Data[n] = best;
                    _argmax[n] = bestIndex;
                }
        return output;
    }

    public override Tensor Backward(Tensor gradOutput)
    {
        Tensor input = SavedInput("maxpool");
        CheckGradShape(gradOutput, OutputShape(input.Shape), "maxpool");
        // Overlapping windows (stride < size) can pick the same pixel twice, so accumulate.
        double[] gradIn = new double[input.Length];
        for (int n = 0; n < gradOutput.Length; n++) gradIn[_argmax[n]] += gradOutput.Data[n];
        return Init.ToTensor(input.Shape, gradIn);
    }

    public override int[] OutputShape(int[] inputShape)
    {
        ConvGeometry g = Pool2D.Geometry(inputShape[1], inputShape[2], Options);
        return [inputShape[0], g.Y.Output, g.X.Output];
    }

    public override Layer Replica() => new MaxPool2dLayer(Options);
}

/// <summary>PyTorch's AvgPool2d (count_include_pad=True) on a (C, H, W) sample: the forward pass is
/// <see cref="Pool2D.Apply"/>; the backward pass spreads g / (kH * kW) over the window's in-image pixels
/// (padding positions counted in the divisor receive nothing, since they are not inputs).</summary>
public sealed class AvgPool2dLayer(PoolOptions options) : Layer
{
    public PoolOptions Options { get; } = options with { Kind = PoolKind.Average };

    public AvgPool2dLayer(int size) : this(PoolOptions.Square(PoolKind.Average, size)) { }

    public override string Kind => "avgpool";

    public override Tensor Forward(Tensor input)
    {
        Input = input;
        return Pool2D.Apply(input, Options);
    }

    public override Tensor Backward(Tensor gradOutput)
    {
        Tensor input = SavedInput("avgpool");
        int[] outShape = OutputShape(input.Shape);
        CheckGradShape(gradOutput, outShape, "avgpool");
        int h = input.H, w = input.W, sy = Options.EffectiveStrideY, sx = Options.EffectiveStrideX;
        double scale = 1.0 / (Options.SizeY * Options.SizeX);
        double[] gradIn = new double[input.Length];
        for (int ch = 0; ch < outShape[0]; ch++)
            for (int y = 0; y < outShape[1]; y++)
                for (int x = 0; x < outShape[2]; x++)
                {
                    double share = gradOutput[ch, y, x] * scale;
                    for (int i = 0; i < Options.SizeY; i++)
                    {
                        int iy = y * sy + i - Options.PadY;
                        if ((uint)iy >= (uint)h) continue;
                        for (int j = 0; j < Options.SizeX; j++)
                        {
                            int ix = x * sx + j - Options.PadX;
                            if ((uint)ix < (uint)w) gradIn[(ch * h + iy) * w + ix] += share;
                        }
                    }
                }
        return Init.ToTensor(input.Shape, gradIn);
    }

    public override int[] OutputShape(int[] inputShape)
    {
        ConvGeometry g = Pool2D.Geometry(inputShape[1], inputShape[2], Options);
        return [inputShape[0], g.Y.Output, g.X.Output];
    }

    public override Layer Replica() => new AvgPool2dLayer(Options);
}
