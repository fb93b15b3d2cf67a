using ConvGL.Core.Ops;

namespace ConvGL.Core.Learning;

/// <summary>PyTorch's Conv2d on one (C_in, H, W) sample: weight (C_out, C_in / groups, kH, kW), bias (C_out).
/// The forward pass is <see cref="Conv2D.Apply"/>'s loop nest with the border lookups hoisted into tables:
/// the same products added in the same order in double, so the result is bit-identical to the reference
/// (a test holds it to that), and a trained layer computes exactly what a stack computes with its weights.
/// Training runs it hundreds of thousands of times, which is why it does not simply call the reference.
///
/// Backward, for every output (o, y, x) with upstream gradient g and every tap (c, i, j) that reads
/// in_pad[c, y*sy + i*dy, x*sx + j*dx]:
///
///     dBias[o] += g
///     dW[o, c, i, j] += g * in_pad[...]
///     dIn[source of in_pad[...]] += g * w[o, c, i, j]
///
/// "Source" is the pixel the border maps the padded position to (<see cref="Borders.Map"/>): under zero
/// padding a tap outside the image reads a constant and passes no gradient, under reflect or wrap it reads a
/// real pixel and the gradient flows back to that pixel. Under convolve the kernel index is rotated first.</summary>
public sealed class Conv2dLayer : Layer
{
    public Parameter Weight { get; }
    public Parameter? Bias { get; }
    public ConvOptions Options { get; }

    public override string Kind => "conv";
    public override IReadOnlyList<Parameter> Parameters => Bias is null ? [Weight] : [Weight, Bias];

    public int OutChannels => Weight.Value.Shape[0];
    public int InChannels => Weight.Value.Shape[1] * Options.Groups;

    public Conv2dLayer(Tensor weight, Tensor? bias, ConvOptions options)
        : this(new Parameter("weight", weight), bias is null ? null : new Parameter("bias", bias), options)
    {
        if (weight.Rank != 4) throw new ArgumentException($"conv weight must be (C_out, C_in/groups, kH, kW), got {weight.ShapeString}");
        if (bias is not null && (bias.Rank != 1 || bias.Length != weight.Shape[0]))
            throw new ArgumentException($"conv bias must be ({weight.Shape[0]},), got {bias.ShapeString}");
        if (options.Groups < 1 || weight.Shape[0] % options.Groups != 0)
            throw new ArgumentException($"groups {options.Groups} must divide C_out {weight.Shape[0]}");
    }

    private Conv2dLayer(Parameter weight, Parameter? bias, ConvOptions options)
    {
        Weight = weight;
        Bias = bias;
        Options = options;
    }

    /// <summary>A new layer with Kaiming-uniform weights for a following ReLU (bound sqrt(6 / fan_in), fan_in =
    /// C_in/groups * kH * kW) and PyTorch's default bias range (+-1/sqrt(fan_in)).</summary>
    public static Conv2dLayer Create(int inChannels, int outChannels, int kernelSize, ConvOptions options, Random rng)
    {
        int cinPerGroup = inChannels / options.Groups;
        int fanIn = cinPerGroup * kernelSize * kernelSize;
        var weight = new Tensor([outChannels, cinPerGroup, kernelSize, kernelSize]);
        Init.Uniform(weight.Data, Math.Sqrt(6.0 / fanIn), rng);
        var bias = new Tensor([outChannels]);
        Init.Uniform(bias.Data, 1.0 / Math.Sqrt(fanIn), rng);
        return new Conv2dLayer(weight, bias, options);
    }

    public override Tensor Forward(Tensor input)
    {
        Conv2D.CheckShapes(input, Weight.Value, Bias?.Value.Data, Options);
        Input = input;
        Tensor w = Weight.Value;
        int h = input.H, wIn = input.W;
        int cout = w.Shape[0], cinPerGroup = w.Shape[1], kh = w.Shape[2], kw = w.Shape[3];
        int coutPerGroup = cout / Options.Groups;
        (ConvGeometry g, int[] rowSource, int[] colSource) = SourceTables(h, wIn, kh, kw);
        int outH = g.Y.Output, outW = g.X.Output;
        var output = Tensor.Chw(cout, outH, outW);
        bool flip = Options.Mode == ConvMode.Convolve;
        float[] inData = input.Data, wData = w.Data, outData = output.Data;
        float[]? bias = Bias?.Value.Data;
        for (int o = 0; o < cout; o++)
        {
            int firstInput = o / coutPerGroup * cinPerGroup;
            for (int y = 0; y < outH; y++)
                for (int x = 0; x < outW; x++)
                {
                    double sum = bias?[o] ?? 0.0;
                    for (int c = 0; c < cinPerGroup; c++)
                    {
                        int plane = (firstInput + c) * h;
                        for (int i = 0; i < kh; i++)
                        {
                            int sy = rowSource[y * kh + i];
                            if (sy < 0) continue;
                            int row = (plane + sy) * wIn;
                            int wRow = ((o * cinPerGroup + c) * kh + (flip ? kh - 1 - i : i)) * kw;
                            for (int j = 0; j < kw; j++)
                            {
                                int sx = colSource[x * kw + j];
                                if (sx < 0) continue;
                                sum += (double)wData[wRow + (flip ? kw - 1 - j : j)] * inData[row + sx];
                            }
                        }
                    }
                    outData[(o * outH + y) * outW + x] = (float)sum;
                }
        }
        return output;
    }

    /// <summary>The input row read by kernel row i at output row y (rowSource[y * kH + i]) and likewise for columns:
    /// -1 where a zero border reads nothing, else the pixel the border maps the padded position to. They do not
    /// depend on the channel, so they are computed once per call instead of once per tap.</summary>
    private (ConvGeometry Geometry, int[] Rows, int[] Cols) SourceTables(int h, int w, int kh, int kw)
    {
        ConvOptions op = Options;
        ConvGeometry g = ConvGeometry.Compute(h, w, kh, kw, op);
        int[] rows = new int[g.Y.Output * kh], cols = new int[g.X.Output * kw];
        for (int y = 0; y < g.Y.Output; y++)
            for (int i = 0; i < kh; i++)
                rows[y * kh + i] = Borders.Map(y * op.StrideY + i * op.DilationY - g.Y.PadBefore, h, op.Border);
        for (int x = 0; x < g.X.Output; x++)
            for (int j = 0; j < kw; j++)
                cols[x * kw + j] = Borders.Map(x * op.StrideX + j * op.DilationX - g.X.PadBefore, w, op.Border);
        return (g, rows, cols);
    }

    public override int[] OutputShape(int[] inputShape) => Conv2D.OutputShape(inputShape, Weight.Value.Shape, Options);

    public override Tensor Backward(Tensor gradOutput)
    {
        Tensor input = SavedInput("conv");
        CheckGradShape(gradOutput, OutputShape(input.Shape), "conv");
        Tensor w = Weight.Value;
        int h = input.H, wIn = input.W;
        int cout = w.Shape[0], cinPerGroup = w.Shape[1], kh = w.Shape[2], kw = w.Shape[3];
        int coutPerGroup = cout / Options.Groups;
        int outH = gradOutput.H, outW = gradOutput.W;
        (_, int[] rowSource, int[] colSource) = SourceTables(h, wIn, kh, kw);
        bool flip = Options.Mode == ConvMode.Convolve;

        double[] gradIn = new double[input.Length];
        double[] gradW = Weight.Grad;
        float[] inData = input.Data, wData = w.Data, gData = gradOutput.Data;
        for (int o = 0; o < cout; o++)
        {
            int firstInput = o / coutPerGroup * cinPerGroup;
            double biasSum = 0.0;
            for (int y = 0; y < outH; y++)
                for (int x = 0; x < outW; x++)
                {
                    double go = gData[(o * outH + y) * outW + x];
                    biasSum += go;
                    if (go == 0.0) continue; // common after a ReLU; contributes nothing below
                    for (int c = 0; c < cinPerGroup; c++)
                    {
                        int plane = (firstInput + c) * h;
                        for (int i = 0; i < kh; i++)
                        {
                            int sy = rowSource[y * kh + i];
                            if (sy < 0) continue;
                            int wi = flip ? kh - 1 - i : i;
                            for (int j = 0; j < kw; j++)
                            {
                                int sx = colSource[x * kw + j];
                                if (sx < 0) continue;
                                int wj = flip ? kw - 1 - j : j;
                                int wIndex = ((o * cinPerGroup + c) * kh + wi) * kw + wj;
                                int inIndex = (plane + sy) * wIn + sx;
                                gradW[wIndex] += go * inData[inIndex];
                                gradIn[inIndex] += go * wData[wIndex];
                            }
                        }
                    }
                }
            if (Bias is not null) Bias.Grad[o] += biasSum;
        }
        return Init.ToTensor(input.Shape, gradIn);
    }

    public override Layer Replica() => new Conv2dLayer(Weight.ShareValue(), Bias?.ShareValue(), Options);
}
