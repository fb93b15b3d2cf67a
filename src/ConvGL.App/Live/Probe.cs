using System.Globalization;
using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;
using ConvGL.Gpu;
using Silk.NET.OpenGL;

namespace ConvGL.App.Live;

/// <summary>The convolution at one output position, taken apart: the input window under the kernel (read back from
/// the GPU, only the rows the kernel touches), the kernel as applied (rotated under convolve), the products and
/// their sum, next to the value the shader wrote there. The sum is the CPU reference's formula
/// (DESIGN.md: out = bias + sum w * in_pad) evaluated on the GPU's own input, so it must equal the GPU value.
/// That input is the map the layer reads (<see cref="ILivePipeline.LayerInput"/>): for a layer of an imported model the
/// map its node reads (a residual Add's or a pool's output), for a packaged model's first layer the preprocessed input;
/// the kernel is the one the GPU applies (an imported model's batchnorm folded in). Stride, dilation and per-side pads
/// map the output pixel to its window exactly as <see cref="ConvGeometry"/> does for the CPU reference.
/// Arrays are reused between probes and grow only when a bigger kernel or wider image arrives. (Setters are internal so
/// the text builders' tests can fill a probe by hand.)</summary>
internal sealed class Probe(GL gl)
{
    private float[] _row = new float[64];

    public bool Valid { get; internal set; }
    /// <summary>The point taken lies in the layer's output, whether or not the layer can be taken apart (an add, a layer
    /// that is off): the views still mark it and the split view frames its receptive field.</summary>
    public bool InRange { get; internal set; }
    /// <summary>What was taken apart: a convolution's sum, a pool's window (max or average), an activation's value, a
    /// magnitude's pair, a reduction's values over the channels, an element-wise op's two maps, a per-channel affine's
    /// value, scale (Window[1]) and shift (Bias), a global pool's whole plane, a softmax's values over the channels (Bias
    /// their max, Kernel[0] the sum of exp), a linear layer's input and weight row, the value a concat, slice or channel
    /// shuffle copies (from FirstLayer's map at (FirstInput, AY, AX)).</summary>
    public ProbeKind Kind { get; internal set; }
    /// <summary>A pool: whether it takes the max (else the average).</summary>
    public bool PoolMax { get; internal set; }
    /// <summary>A pool: [i, j] whether tap (i, j) of the window is in the image (the rest is padding, left out of a max,
    /// counted as 0 in an average that counts it).</summary>
    public bool[] Inside { get; internal set; } = new bool[9];
    /// <summary>A convolution: [c, i, j] whether tap (i, j) reads the zero border (a value the padding supplies, not the
    /// input's; the strip writes it "pad 0"). Empty when no tap does.</summary>
    public bool[] ZeroPad { get; internal set; } = [];
    /// <summary>A strided or dilated convolution: where its window lies in the input (top row and left column, negative in
    /// the padding) and how far apart its taps are: out (y, x) reads rows y s - pad_top + i d (the strip's rows show the
    /// taps side by side whatever their spacing). Null at stride and dilation 1, where (x, y) says it, and for hand-made probes.</summary>
    public (int Y0, int X0, int DY, int DX)? Reach { get; internal set; }
    /// <summary>An average pool: what the sum is divided by (the taps counted).</summary>
    public int Divisor { get; internal set; }
    /// <summary>A pool's or activation's name as the strip writes it ("max pool 2x2", "relu").</summary>
    public string LayerName { get; internal set; } = "";
    public string? Why { get; internal set; }
    public int Layer { get; internal set; }
    public int Channel { get; internal set; }
    public int X { get; internal set; }
    public int Y { get; internal set; }
    public int KernelHeight { get; internal set; }
    public int KernelWidth { get; internal set; }
    /// <summary>Input channels in the output channel's group (one window of kH x kW each).</summary>
    public int InputChannels { get; internal set; }
    /// <summary>First input channel of the group.</summary>
    public int FirstInput { get; internal set; }
    /// <summary>[c, i, j] the padded input value under kernel tap (i, j) for input channel FirstInput + c.</summary>
    public float[] Window { get; internal set; } = new float[9];
    /// <summary>[c, i, j] the weight applied at tap (i, j): the kernel as stored under correlate, rotated under convolve.</summary>
    public float[] Kernel { get; internal set; } = new float[9];
    public double[] ChannelSums { get; internal set; } = new double[1];
    public float Bias { get; internal set; }
    /// <summary>bias + sum of every product, summed in double and stored as float32, as the CPU reference stores it (a
    /// sum past float32's range is an infinity there too, as on the GPU).</summary>
    public double Sum { get; internal set; }
    /// <summary>What the shader wrote at (Channel, Y, X).</summary>
    public float Gpu { get; internal set; }
    /// <summary>Two maps (<see cref="ProbeKind.TwoMaps"/>): the layers a and b come from (-1: the stack input), b's
    /// channel (a's is <see cref="FirstInput"/>), and where each is read: (AY, AX), (BY, BX), 0 along an axis a map of
    /// size 1 is broadcast over.</summary>
    public int FirstLayer { get; internal set; }
    public int SecondLayer { get; internal set; }
    public int SecondChannel { get; internal set; }
    public int AY { get; internal set; }
    public int AX { get; internal set; }
    public int BY { get; internal set; }
    public int BX { get; internal set; }

    /// <summary>Attention (<see cref="ProbeKind.Attention"/>): the scale of the dot products; the key positions' weights are
    /// <see cref="Window"/>, the value map's channel at them <see cref="Kernel"/>, the largest logit <see cref="Bias"/>, and
    /// the key the position attends to most is at (AY, AX) of the key map.</summary>
    public double Scale { get; internal set; }
    /// <summary>Attention: the key map's rows and columns (the weights in <see cref="Window"/> are its positions, row by row).</summary>
    public int KeysHigh { get; internal set; }
    public int KeysWide { get; internal set; }
    /// <summary>Attention: the head of the probed channel, of how many, and q's channels a head (the head's query is q's
    /// channels Head x HeadChannels ..).</summary>
    public int Head { get; internal set; }
    public int Heads { get; internal set; } = 1;
    public int HeadChannels { get; internal set; }

    /// <summary>How many times <see cref="Take"/> has run: a picture made from this probe's numbers (the attention heat map)
    /// is redrawn only when they may have changed.</summary>
    public int Takes { get; private set; }
    /// <summary>The pipeline the last <see cref="Take"/> read (the window's, or the filters view's hand-made bank beside
    /// it); null before the first.</summary>
    public ILivePipeline? Pipeline { get; private set; }

    /// <summary>|CPU - GPU|: 0 where both are the same value, infinities and NaN included (their difference is NaN).</summary>
    public double Difference => Sum.Equals((double)Gpu) ? 0 : Math.Abs(Sum - Gpu);

    public float Product(int c, int i, int j) => Window[(c * KernelHeight + i) * KernelWidth + j] * Kernel[(c * KernelHeight + i) * KernelWidth + j];

    /// <summary>": [ selects layer N, the convolution before it" (how many presses), or "" when none is before it: the
    /// stacks open on their last layer (a magnitude, a pool), where a probe has nothing to take apart.</summary>
    private static string NearestConv(ILivePipeline pipeline, int layer)
    {
        for (int j = layer - 1; j >= 0; j--)
            if (pipeline.Conv(j) is not null)
                return string.Create(CultureInfo.InvariantCulture, $": press [ {(layer - j == 1 ? "once" : $"{layer - j} times")} for layer {j + 1}, the convolution before it");
        return "";
    }

    /// <summary>Probes output (<paramref name="channel"/>, <paramref name="y"/>, <paramref name="x"/>) of layer
    /// <paramref name="layer"/>: a convolution's sum, or a pool's window or an activation's value (<see cref="Kind"/>). Another
    /// kind of layer, one that is off, or a point out of range: <see cref="Valid"/> false, <see cref="Why"/> says why.</summary>
    public void Take(ILivePipeline pipeline, int layer, int channel, int x, int y)
    {
        Takes++;
        Pipeline = pipeline;
        Valid = InRange = false;
        Kind = ProbeKind.Conv;
        (Layer, Channel, X, Y) = (layer, channel, x, y);
        ConvView? conv = pipeline.Conv(layer);
        GpuTensor input = pipeline.LayerInput(layer), output = pipeline.LayerOutput(layer);
        if ((uint)x >= (uint)output.W || (uint)y >= (uint)output.H || (uint)channel >= (uint)output.C)
        {
            Why = $"({x}, {y}) channel {channel} is outside the output {output.ShapeString}";
            return;
        }
        InRange = true;
        if (conv is null)
        {
            if (pipeline.IsEnabled(layer) && TakeLayer(pipeline, layer, pipeline.StackLayer(layer), input, output, channel, x, y)) return;
            Why = !pipeline.IsEnabled(layer) ? "layer is off"
                // A transposed convolution is one, but no one window makes an output (each output sums the inputs that
                // scatter onto it): said so, not "not a convolution layer" (the math audit).
                : pipeline.StackLayer(layer) is ConvGL.Core.Stacks.ConvTransposeLayer
                    ? "a transposed convolution: each output is one window of the zero-inserted input under the rotated kernel (its taps land on inserted zeros in a pattern that changes from pixel to pixel), so it is not taken apart here" + NearestConv(pipeline, layer)
                : "not a convolution layer" + NearestConv(pipeline, layer);
            return;
        }
        Tensor w = conv.Weight;
        ConvOptions o = conv.Options;
        int cout = w.Shape[0], cpg = w.Shape[1], kh = w.Shape[2], kw = w.Shape[3];
        int first = conv.FirstInput(channel);
        ConvGeometry g = ConvGeometry.Compute(input.H, input.W, kh, kw, o);
        (KernelHeight, KernelWidth, InputChannels, FirstInput) = (kh, kw, cpg, first);
        EnsureWindow(cpg * kh * kw);
        if (ZeroPad.Length < cpg * kh * kw) ZeroPad = new bool[cpg * kh * kw];
        if (ChannelSums.Length < cpg) ChannelSums = new double[cpg];
        if (_row.Length < input.W) _row = new float[input.W];
        bool flip = o.Mode == ConvMode.Convolve;
        double total = conv.Bias?[channel] ?? 0.0;
        for (int c = 0; c < cpg; c++)
        {
            double partial = 0;
            for (int i = 0; i < kh; i++)
            {
                int sy = Borders.Map(y * o.StrideY + i * o.DilationY - g.Y.PadBefore, input.H, o.Border);
                // One small read per kernel row: the mapped columns of this row, never the whole tensor.
                int lo = int.MaxValue, hi = -1;
                for (int j = 0; j < kw; j++)
                {
                    int sx = Borders.Map(x * o.StrideX + j * o.DilationX - g.X.PadBefore, input.W, o.Border);
                    if (sx < 0) continue;
                    lo = Math.Min(lo, sx);
                    hi = Math.Max(hi, sx);
                }
                if (sy >= 0 && hi >= lo) Read(input, _row.AsSpan(lo, hi - lo + 1), ((first + c) * input.H + sy) * input.W + lo);
                for (int j = 0; j < kw; j++)
                {
                    int sx = Borders.Map(x * o.StrideX + j * o.DilationX - g.X.PadBefore, input.W, o.Border);
                    int k = (c * kh + i) * kw + j;
                    // Borders.Map gives -1 only for a zero border's taps outside the input.
                    ZeroPad[k] = sy < 0 || sx < 0;
                    Window[k] = ZeroPad[k] ? 0f : _row[sx];
                    int wi = flip ? kh - 1 - i : i, wj = flip ? kw - 1 - j : j;
                    Kernel[k] = w.Data[((channel * cpg + c) * kh + wi) * kw + wj];
                    partial += (double)Kernel[k] * Window[k];
                }
            }
            ChannelSums[c] = partial;
            total += partial;
        }
        Bias = conv.Bias?[channel] ?? 0f;
        Reach = HudText.ShowsReach(o) ? (y * o.StrideY - g.Y.PadBefore, x * o.StrideX - g.X.PadBefore, o.DilationY, o.DilationX) : null;
        Sum = (float)total;
        Span<float> one = stackalloc float[1];
        Read(output, one, (channel * output.H + y) * output.W + x);
        Gpu = one[0];
        Valid = true;
        Why = null;
    }

    /// <summary><see cref="SecondLayer"/> of a map and a number (b is the layer's value, <see cref="Window"/>[1]).</summary>
    public const int NumberOperand = int.MinValue;

    /// <summary>The largest plane a global pool is taken apart for (read back at once: 4 MB).</summary>
    public const int MaxPlane = 1 << 20;

    /// <summary>Channels a reduction over the channels is taken apart for (one read each).</summary>
    public const int MaxChannels = 4096;

    /// <summary>A pool's window, an activation's value, a magnitude's pair, a reduction's values over the channels or an
    /// element-wise op's two values at output (<paramref name="channel"/>, <paramref name="y"/>, <paramref name="x"/>), the
    /// result computed here as Core's reference computes it (PaddedPool2D's loop, Activation.Apply, Reduce.Apply,
    /// Elementwise.Apply) from the GPU's own input; false for any other layer.</summary>
    private bool TakeLayer(ILivePipeline pipeline, int index, StackLayer? layer, GpuTensor input, GpuTensor output, int channel, int x, int y)
    {
        switch (layer)
        {
            case BatchNormLayer bn when input.C == output.C && input.H == output.H && input.W == output.W && channel < bn.Parameters.Channels:
            {
                // scale[c] x + shift[c], in double and stored as float32, as BatchNorm.Apply.
                Span<float> one = stackalloc float[1];
                Read(input, one, (channel * input.H + y) * input.W + x);
                EnsureWindow(2);
                float a = bn.Parameters.Scale[channel], b = bn.Parameters.Shift[channel];
                (Window[0], Window[1], Inside[0], Inside[1]) = (one[0], a, true, true);
                Sum = (float)((double)a * one[0] + b);
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Affine, bn.Type, 1, 1, 1, channel, b);
                break;
            }
            case GlobalAvgPoolLayer or GlobalMaxPoolLayer when output.H * output.W == 1 && input.C == output.C && (long)input.H * input.W <= MaxPlane:
            {
                // The whole plane, read at once, then its mean (in double) or its max (a NaN wins), as the reference.
                int plane = input.H * input.W;
                EnsureWindow(plane);
                Read(input, Window.AsSpan(0, plane), channel * plane);
                bool max = layer is GlobalMaxPoolLayer;
                double acc = max ? double.NegativeInfinity : 0;
                bool nan = false;
                for (int k = 0; k < plane; k++)
                {
                    nan |= float.IsNaN(Window[k]);
                    acc = max ? Math.Max(acc, Window[k]) : acc + Window[k];
                }
                Sum = nan && max ? double.NaN : (float)(max ? acc : acc / plane);
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.GlobalPool, layer.Type, input.H, input.W, 1, channel, 0);
                break;
            }
            case SoftmaxLayer sm when input.C == output.C && input.H == output.H && input.W == output.W && input.C <= MaxChannels:
            {
                // The pixel's values over the channels, their max m and sum of exp(v - m) (in double), then this channel's
                // share, as Softmax.Apply: exp(in - m) / sum, or in - m - log(sum).
                EnsureWindow(input.C);
                Span<float> one = stackalloc float[1];
                float max = float.NegativeInfinity;
                for (int c = 0; c < input.C; c++)
                {
                    Read(input, one, (c * input.H + y) * input.W + x);
                    (Window[c], Inside[c]) = (one[0], true);
                    max = MathF.Max(max, one[0]);
                }
                double sum = 0;
                for (int c = 0; c < input.C; c++) sum += Math.Exp((double)Window[c] - max);
                double d = (double)Window[channel] - max;
                Sum = (float)(sm.Log ? d - Math.Log(sum) : Math.Exp(d) / sum);
                // (Bias holds the max, Kernel[0] the sum: the strip writes both.)
                Kernel[0] = (float)sum;
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Softmax, sm.Type, 1, input.C, 1, 0, max);
                break;
            }
            case LinearLayer lin when output.C == lin.Out && input.Length == lin.In && (uint)channel < (uint)lin.Out:
            {
                // The flattened input (C, H, W in order) and this output's row of the weight: bias + sum of the products,
                // summed in double as Gemm.Apply.
                int n = lin.In;
                EnsureWindow(n);
                Read(input, Window.AsSpan(0, n), 0);
                // The products first, the bias last, as Gemm.Apply and gemm.comp add them.
                double total = 0;
                for (int k = 0; k < n; k++)
                {
                    Kernel[k] = lin.Weight.Data[channel * n + k];
                    Inside[k] = true;
                    total += (double)Kernel[k] * Window[k];
                }
                Sum = (float)(total + (lin.Bias?[channel] ?? 0.0));
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Linear, lin.Type, 1, n, 1, 0, lin.Bias?[channel] ?? 0f);
                break;
            }
            case ConvTransposeLayer t when input.C % t.Options.Groups == 0 && (uint)channel < (uint)output.C && input.C <= MaxChannels:
            {
                // Gathered: the input pixels whose scatter lands on (y, x), each times the weight tap that carries it there
                // (iy s - pad + ky d = y), summed in double, then the bias, as ConvTranspose2D.Apply's scatter adds them.
                ConvTransposeOptions o = t.Options;
                int kh = t.Weight.Shape[2], kw = t.Weight.Shape[3], perOut = t.Weight.Shape[1], perIn = input.C / o.Groups;
                int g = channel / perOut, j = channel % perOut;
                var taps = new List<(int C, int Y, int X, int Ky, int Kx)>();
                for (int ic = g * perIn; ic < (g + 1) * perIn; ic++)
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int qy = y + o.PadTop - ky * o.DilationY;
                        if (qy < 0 || qy % o.StrideY != 0 || qy / o.StrideY >= input.H) continue;
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int qx = x + o.PadLeft - kx * o.DilationX;
                            if (qx < 0 || qx % o.StrideX != 0 || qx / o.StrideX >= input.W) continue;
                            taps.Add((ic, qy / o.StrideY, qx / o.StrideX, ky, kx));
                        }
                    }
                EnsureWindow(Math.Max(1, taps.Count));
                Span<float> one = stackalloc float[1];
                double total = 0;
                for (int k = 0; k < taps.Count; k++)
                {
                    (int c, int iy, int ix, int ky, int kx) = taps[k];
                    Read(input, one, (c * input.H + iy) * input.W + ix);
                    (Window[k], Kernel[k], Inside[k]) = (one[0], t.Weight.Data[((c * perOut + j) * kh + ky) * kw + kx], true);
                    total += (double)Window[k] * Kernel[k];
                }
                float bias = t.Bias?[channel] ?? 0f;
                Sum = (float)(total + bias);
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Transposed, t.Type, 1, taps.Count, 1, g * perIn, bias);
                Scattered = [.. taps];
                break;
            }
            case InstanceNormLayer inorm when input.C == output.C && (uint)channel < (uint)inorm.Parameters.Channels && (long)input.H * input.W <= MaxPlane:
            {
                // The channel's whole plane: its mean and variance (in double, as InstanceNorm.Apply), then this pixel's value
                // normalised, scaled and shifted.
                int plane = input.H * input.W;
                EnsureWindow(plane);
                Read(input, Window.AsSpan(0, plane), channel * plane);
                (double mean, double variance) = LayerNorm.MeanAndVariance(Window.AsSpan(0, plane));
                InstanceNorm n = inorm.Parameters;
                double a = n.Scale[channel] / Math.Sqrt(variance + n.Epsilon);
                float v = Window[y * input.W + x];
                Sum = (float)(a * (v - mean) + n.Shift[channel]);
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Norm, inorm.Type, input.H, input.W, 1, channel, n.Shift[channel]);
                (NormMean, NormVariance, NormEpsilon, NormScale, NormValue) = (mean, variance, n.Epsilon, n.Scale[channel], v);
                break;
            }
            case GroupNormLayer gnorm when input.C == output.C && (uint)channel < (uint)gnorm.Parameters.Channels && input.C % gnorm.Groups == 0
                                            && (long)input.C / gnorm.Groups * input.H * input.W <= MaxPlane:
            {
                // The channel's group, its maps' values all together: their mean and variance (in double, as
                // InstanceNorm.ApplyInGroups), then this pixel's value normalised, scaled and shifted by its channel's.
                int plane = input.H * input.W, perGroup = input.C / gnorm.Groups, first = channel / perGroup * perGroup;
                EnsureWindow(perGroup * plane);
                Read(input, Window.AsSpan(0, perGroup * plane), first * plane);
                (double mean, double variance) = LayerNorm.MeanAndVariance(Window.AsSpan(0, perGroup * plane));
                InstanceNorm n = gnorm.Parameters;
                double a = n.Scale[channel] / Math.Sqrt(variance + n.Epsilon);
                float v = Window[(channel - first) * plane + y * input.W + x];
                Sum = (float)(a * (v - mean) + n.Shift[channel]);
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Norm, gnorm.Type, input.H, input.W, perGroup, first, n.Shift[channel]);
                (NormMean, NormVariance, NormEpsilon, NormScale, NormValue) = (mean, variance, n.Epsilon, n.Scale[channel], v);
                break;
            }
            case ChannelLayerNormLayer lnorm when input.C == output.C && input.C == lnorm.Parameters.Length && input.C <= MaxChannels:
            {
                // The pixel's values over the channels: their mean and variance, then this channel's value normalised, scaled
                // and shifted, as LayerNorm.Apply on the pixel's row.
                EnsureWindow(input.C);
                Span<float> one = stackalloc float[1];
                for (int c = 0; c < input.C; c++)
                {
                    Read(input, one, (c * input.H + y) * input.W + x);
                    (Window[c], Inside[c]) = (one[0], true);
                }
                (double mean, double variance) = LayerNorm.MeanAndVariance(Window.AsSpan(0, input.C));
                LayerNorm n = lnorm.Parameters;
                float v = Window[channel];
                Sum = (float)(n.Scale[channel] * ((v - mean) * (1.0 / Math.Sqrt(variance + n.Epsilon))) + n.Shift[channel]);
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Norm, lnorm.Type, 1, input.C, 1, channel, n.Shift[channel]);
                (NormMean, NormVariance, NormEpsilon, NormScale, NormValue) = (mean, variance, n.Epsilon, n.Scale[channel], v);
                break;
            }
            case LrnLayer lrn when input.C == output.C && input.H == output.H && input.W == output.W:
            {
                // The channels of the window around this one at the pixel (clipped to the channels there are), the sum of
                // their squares, then in / (bias + alpha / size x sum)^beta, as Lrn.Apply.
                Lrn n = lrn.Parameters;
                int first = Math.Max(0, channel - n.Before), last = (int)Math.Min(input.C - 1L, (long)channel + n.After);
                EnsureWindow(last - first + 1);
                Span<float> one = stackalloc float[1];
                double squares = 0;
                for (int k = first; k <= last; k++)
                {
                    Read(input, one, (k * input.H + y) * input.W + x);
                    (Window[k - first], Inside[k - first]) = (one[0], true);
                    squares += (double)one[0] * one[0];
                }
                float v = Window[channel - first];
                Sum = (float)(v / Math.Pow(n.Bias + n.Alpha / (double)n.Size * squares, n.Beta));
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Lrn, lrn.Type, 1, last - first + 1, 1, first, 0);
                (NormMean, NormValue) = (squares, v);
                break;
            }
            case ResizeLayer rs when (uint)channel < (uint)input.C:
            {
                // As Resize2D.Apply: the output's source position on each axis, then the nearest pixel, the 2x2 linear taps
                // or the 4x4 cubic ones (Resize2D.Taps) and their weights, summed row by row as the reference sums them.
                ResizeOptions o = rs.ToSecondInput ? rs.For(output.H, output.W) : rs.Options;
                (double sy, double sx) = Resize2D.Scales(input.H, input.W, o);
                double fy = Resize2D.Source(y, input.H, output.H, sy, o.Coordinates), fx = Resize2D.Source(x, input.W, output.W, sx, o.Coordinates);
                (int[] ys, double[] wy, int[] xs, double[] wx) = o.Mode switch
                {
                    ResizeMode.Nearest => ([Resize2D.Nearest(fy, input.H, o.Rounding)], [1.0], [Resize2D.Nearest(fx, input.W, o.Rounding)], [1.0]),
                    ResizeMode.Cubic => Cubic(fy, fx, input, o),
                    _ => Linear(fy, fx, input),
                };
                EnsureWindow(ys.Length * xs.Length);
                if (_row.Length < input.W) _row = new float[input.W];
                double sum = 0;
                for (int i = 0; i < ys.Length; i++)
                {
                    Read(input, _row.AsSpan(0, input.W), (channel * input.H + ys[i]) * input.W);
                    double row = 0;
                    for (int j = 0; j < xs.Length; j++)
                    {
                        int k = i * xs.Length + j;
                        (Window[k], Kernel[k], Inside[k]) = (_row[xs[j]], (float)(wy[i] * wx[j]), true);
                        row += wx[j] * _row[xs[j]];
                    }
                    sum += wy[i] * row;
                }
                Sum = (float)sum;
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Resize, $"resize {o.Mode.ToString().ToLowerInvariant()}", ys.Length, xs.Length, 1, channel, 0);
                (SourceY, SourceX, TapRows, TapCols) = (fy, fx, ys, xs);
                break;
            }
            case ConcatLayer or SliceLayer or ChannelShuffleLayer or PadLayer or DepthToSpaceLayer or FlattenLayer when Source(pipeline, index, layer, input, channel, x, y) is { } from:
            {
                // A layer that moves values: the one this output copies, read where it lies (a zero border's fill outside).
                Span<float> one = stackalloc float[1];
                if (from.Layer == NumberOperand) one[0] = ((PadLayer)layer).Options.Value;
                else
                {
                    GpuTensor map = pipeline.LayerOutput(from.Layer);
                    Read(map, one, (from.C * map.H + from.Y) * map.W + from.X);
                }
                EnsureWindow(1);
                (Window[0], Inside[0], Sum) = (one[0], true, one[0]);
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Copy, layer.Type, 1, 1, 1, from.C, 0);
                (FirstLayer, AY, AX) = (from.Layer, from.Y, from.X);
                break;
            }
            case ChannelReduceLayer r when output.C == 1 && input.H == output.H && input.W == output.W && input.C <= MaxChannels:
            {
                // The pixel's value in every channel, one small read each, then the reduction as Reduce.Apply does it (in
                // double, a NaN winning the max and min).
                EnsureWindow(input.C);
                Span<float> one = stackalloc float[1];
                double acc = r.Kind switch { ReduceKind.Max => double.NegativeInfinity, ReduceKind.Min => double.PositiveInfinity, _ => 0.0 };
                bool nan = false;
                for (int c = 0; c < input.C; c++)
                {
                    Read(input, one, (c * input.H + y) * input.W + x);
                    Window[c] = one[0];
                    Inside[c] = true;
                    nan |= float.IsNaN(one[0]);
                    acc = r.Kind switch { ReduceKind.Max => Math.Max(acc, one[0]), ReduceKind.Min => Math.Min(acc, one[0]), _ => acc + one[0] };
                }
                Sum = nan ? double.NaN : (float)(r.Kind == ReduceKind.Mean ? acc / input.C : acc);
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Channels, r.Type + " " + r.Op, 1, input.C, 1, 0, 0);
                break;
            }
            case ElementwiseLayer { Value: { } number } e when input.C == output.C && input.H == output.H && input.W == output.W:
            {
                // A map and a number (x^2, max(x, 0.5)): b is the layer's value (SecondLayer NumberOperand).
                Span<float> one = stackalloc float[1];
                EnsureWindow(2);
                Read(input, one, (channel * input.H + y) * input.W + x);
                (Window[0], Window[1], Inside[0], Inside[1]) = (one[0], number, true, true);
                Sum = Elementwise.Apply(e.Kind, new Tensor([1], [Window[0]]), new Tensor([1], [number])).Data[0];
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.TwoMaps, e.Type, 1, 2, 1, channel, 0);
                (FirstLayer, SecondLayer, SecondChannel, AY, AX, BY, BX) = (pipeline.InputLayer(index), NumberOperand, 0, y, x, 0, 0);
                break;
            }
            case AddLayer or MulLayer or ElementwiseLayer when pipeline.InputLayers(index) is [int from, int other]:
            {
                // a and b where this output reads them: the same (c, y, x), or 0 along an axis a map of size 1 is broadcast over.
                GpuTensor b = pipeline.LayerOutput(other);
                if ((input.C != output.C && input.C != 1) || (b.C != output.C && b.C != 1) || (input.H * input.W != 1 && (input.H, input.W) != (output.H, output.W))
                    || (b.H * b.W != 1 && (b.H, b.W) != (output.H, output.W)))
                    return false;
                (int ca, int ya, int xa) = (input.C == 1 ? 0 : channel, input.H == 1 ? 0 : y, input.W == 1 ? 0 : x);
                (int cb, int yb, int xb) = (b.C == 1 ? 0 : channel, b.H == 1 ? 0 : y, b.W == 1 ? 0 : x);
                Span<float> one = stackalloc float[1];
                EnsureWindow(2);
                Read(input, one, (ca * input.H + ya) * input.W + xa);
                Window[0] = one[0];
                Read(b, one, (cb * b.H + yb) * b.W + xb);
                Window[1] = one[0];
                Inside[0] = Inside[1] = true;
                BinaryKind kind = layer switch { AddLayer => BinaryKind.Add, MulLayer => BinaryKind.Mul, ElementwiseLayer e => e.Kind, _ => BinaryKind.Add };
                Sum = Elementwise.Apply(kind, new Tensor([1], [Window[0]]), new Tensor([1], [Window[1]])).Data[0];
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.TwoMaps, layer.Type, 1, 2, 1, ca, 0);
                (FirstLayer, SecondLayer, SecondChannel, AY, AX, BY, BX) = (from, other, cb, ya, xa, yb, xb);
                break;
            }
            case AttentionLayer att when pipeline.InputLayers(index) is [_, int ki, int vi] && (uint)channel < (uint)output.C:
            {
                // q at this position (a read a channel), every key, the value map's channel; then the logits, their softmax
                // and the weighted sum in double, as Attention.Apply (window: the weights, kernel: the values).
                GpuTensor k = pipeline.LayerOutput(ki), v = pipeline.LayerOutput(vi);
                int keys = k.H * k.W, heads = att.Heads;
                if (input.C != k.C || (k.H, k.W) != (v.H, v.W) || v.C != output.C || (input.H, input.W) != (output.H, output.W)
                    || input.C % heads != 0 || v.C % heads != 0 || input.C > MaxChannels || (long)k.C * keys > MaxPlane)
                    return false;
                // The head of this output channel: its share of q's and k's channels (all of them with one head).
                int dq = input.C / heads, head = channel / (v.C / heads);
                EnsureWindow(keys);
                if (_keys.Length < dq * keys) _keys = new float[dq * keys];
                if (_query.Length < dq) _query = new float[dq];
                if (_weights.Length < keys) _weights = new double[keys];
                Read(k, _keys.AsSpan(0, dq * keys), head * dq * keys);
                Read(v, Kernel.AsSpan(0, keys), channel * keys);
                Span<float> one = stackalloc float[1];
                for (int d = 0; d < dq; d++)
                {
                    Read(input, one, ((head * dq + d) * input.H + y) * input.W + x);
                    _query[d] = one[0];
                }
                // The weights and their sum with the values as the reference computes them (Attention.Weights, Attention.Sum).
                float scale = att.ScaleFor(input.C);
                double max = Attention.Weights(_query.AsSpan(0, dq), _keys.AsSpan(0, dq * keys), keys, scale, _weights.AsSpan(0, keys));
                double sum = Attention.Sum(_weights.AsSpan(0, keys), Kernel.AsSpan(0, keys));
                int best = 0;
                for (int j = 0; j < keys; j++)
                {
                    (Window[j], Inside[j]) = ((float)_weights[j], true);
                    if (Window[j] > Window[best]) best = j;
                }
                Sum = (float)sum;
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Attention, att.Type, 1, keys, 1, channel, (float)max);
                (Scale, FirstLayer, SecondLayer, SecondChannel, AY, AX) = (scale, ki, vi, channel, best / k.W, best % k.W);
                (KeysHigh, KeysWide, Head, Heads, HeadChannels) = (k.H, k.W, head, heads, dq);
                break;
            }
            case PoolLayer { Options: var p }:
                if (!TakePool(input, channel, x, y, new PaddedPoolOptions
                {
                    Kind = p.Kind, SizeY = p.SizeY, SizeX = p.SizeX, StrideY = p.EffectiveStrideY, StrideX = p.EffectiveStrideX,
                    PadTop = p.PadY, PadBottom = p.PadY, PadLeft = p.PadX, PadRight = p.PadX, CountIncludePad = true,
                }, Pool2D.Geometry(input.H, input.W, p))) return false;
                break;
            case PaddedPoolLayer { Options: var p }:
                if (!TakePool(input, channel, x, y, p, PaddedPool2D.Geometry(input.H, input.W, p))) return false;
                break;
            case MagnitudeLayer when input.C == 2 * output.C && input.H == output.H && input.W == output.W:
            {
                // The pair (2c, 2c+1) it reads, and sqrt(a^2 + b^2) as Core's Magnitude.Of computes it (in float32).
                Span<float> pair = stackalloc float[1];
                EnsureWindow(2);
                for (int k = 0; k < 2; k++)
                {
                    Read(input, pair, ((2 * channel + k) * input.H + y) * input.W + x);
                    Window[k] = pair[0];
                    Inside[k] = true;
                }
                Sum = Magnitude.Of(Window[0], Window[1]);
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Magnitude, "magnitude", 1, 2, 1, 2 * channel, 0);
                break;
            }
            case UnaryLayer or PReluLayer when input.C == output.C && input.H == output.H && input.W == output.W:
            {
                // Element-wise math and PReLU: the value and the function of it, as Unary.Apply and Elementwise.PRelu.
                Span<float> one = stackalloc float[1];
                Read(input, one, (channel * input.H + y) * input.W + x);
                EnsureWindow(1);
                (Window[0], Inside[0]) = (one[0], true);
                Sum = layer is UnaryLayer u ? Unary.Apply(new Tensor([1], [one[0]]), u.Kind).Data[0]
                    : Elementwise.PRelu(new Tensor([1], [one[0]]), new Tensor([1], [((PReluLayer)layer).Slopes is { Length: 1 } single ? single[0] : ((PReluLayer)layer).Slopes[channel]])).Data[0];
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Activation, layer.Type, 1, 1, 1, channel, 0);
                break;
            }
            case CoordsLayer when output.C == 2 && (uint)channel < 2u && input.H == output.H && input.W == output.W:
            {
                // Where the pixel is along the channel's axis (x for channel 0, y for 1), as Coordinates.Apply: no input read.
                int i = channel == 0 ? x : y, n = channel == 0 ? output.W : output.H;
                EnsureWindow(2);
                (Window[0], Window[1], Inside[0], Inside[1]) = (i, n, true, true);
                Sum = Coordinates.Along(i, n);
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Coords, layer.Type, 1, 1, 1, channel, 0);
                break;
            }
            case ActivationLayer a when input.C == output.C && input.H == output.H && input.W == output.W:
            {
                Span<float> one = stackalloc float[1];
                Read(input, one, (channel * input.H + y) * input.W + x);
                EnsureWindow(1);
                Window[0] = one[0];
                Inside[0] = true;
                Sum = Activation.Apply(a.Kind, one[0], a.Slope, a.Min, a.Max, a.Beta);
                (Kind, LayerName, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Activation, a.Type, 1, 1, 1, channel, 0);
                break;
            }
            default:
                return false;
        }
        Span<float> written = stackalloc float[1];
        Read(output, written, (channel * output.H + y) * output.W + x);
        Gpu = written[0];
        Valid = true;
        Why = null;
        return true;
    }

    // Resize2D.Apply's linear taps: floor and floor + 1 clamped into the map, weights 1 - t and t (t the fraction).
    private static (int[], double[], int[], double[]) Linear(double fy, double fx, GpuTensor input)
    {
        double y0 = Math.Floor(fy), x0 = Math.Floor(fx), wy = fy - y0, wx = fx - x0;
        return ([Math.Clamp((int)y0, 0, input.H - 1), Math.Clamp((int)y0 + 1, 0, input.H - 1)], [1 - wy, wy],
                [Math.Clamp((int)x0, 0, input.W - 1), Math.Clamp((int)x0 + 1, 0, input.W - 1)], [1 - wx, wx]);
    }

    private static (int[], double[], int[], double[]) Cubic(double fy, double fx, GpuTensor input, ResizeOptions o)
    {
        (int[] ys, double[] wy) = Resize2D.Taps(fy, input.H, o);
        (int[] xs, double[] wx) = Resize2D.Taps(fx, input.W, o);
        return (ys, wy, xs, wx);
    }

    /// <summary>A transposed conv (<see cref="ProbeKind.Transposed"/>): each input pixel that scatters onto the output and
    /// the kernel tap that carries it there (Window and Kernel hold the values and the weights in the same order).</summary>
    public (int C, int Y, int X, int Ky, int Kx)[] Scattered { get; internal set; } = [];

    /// <summary>A normalisation (<see cref="ProbeKind.Norm"/>): the values' mean and variance, the epsilon, this channel's
    /// scale (its shift is <see cref="Bias"/>) and the value normalised; an LRN (<see cref="ProbeKind.Lrn"/>): the sum of
    /// the window's squares (NormMean) and the value.</summary>
    public double NormMean { get; internal set; }
    public double NormVariance { get; internal set; }
    public float NormEpsilon { get; internal set; }
    public float NormScale { get; internal set; }
    public float NormValue { get; internal set; }

    /// <summary>A resize (<see cref="ProbeKind.Resize"/>): the output's source position and the rows and columns of its taps
    /// (Window and Kernel hold the values and the weights, row by row).</summary>
    public double SourceY { get; internal set; }
    public double SourceX { get; internal set; }
    public int[] TapRows { get; internal set; } = [];
    public int[] TapCols { get; internal set; } = [];

    /// <summary>Where a concat's, slice's or channel shuffle's output (<paramref name="channel"/>, <paramref name="y"/>,
    /// <paramref name="x"/>) takes its value: the map (a layer, -1 for the stack input) and its (c, y, x); null where the
    /// shapes do not fit the layer (a plan the run refused).</summary>
    private static (int Layer, int C, int Y, int X)? Source(ILivePipeline pipeline, int index, StackLayer layer, GpuTensor input, int channel, int x, int y)
    {
        IReadOnlyList<int> reads = pipeline.InputLayers(index);
        switch (layer)
        {
            case ConcatLayer:
                // The inputs' channels in order: the one whose run holds this channel.
                int first = 0;
                foreach (int from in reads)
                {
                    int c = pipeline.OutputChannels(from);
                    if (channel < first + c) return (from, channel - first, y, x);
                    first += c;
                }
                return null;
            case SliceLayer sl:
            {
                Indexing.SliceAxis rows = sl.Rows?.Resolve(input.H) ?? new(0, 1, input.H), cols = sl.Cols?.Resolve(input.W) ?? new(0, 1, input.W);
                int c = sl.Start + channel, sy = rows.Start + y * rows.Step, sx = cols.Start + x * cols.Step;
                return (uint)c < (uint)input.C && (uint)sy < (uint)input.H && (uint)sx < (uint)input.W ? (reads[0], c, sy, sx) : null;
            }
            case ChannelShuffleLayer cs when input.C % cs.Groups == 0:
                return (reads[0], cs.Source(channel, input.C), y, x);
            case FlattenLayer f when (uint)channel < (uint)input.Length:
            {
                // (C, H, W) read in order: value o is channel o / (H W), row (o % H W) / W, column o % W; in Keras' (H, W, C)
                // order channel o % C of pixel o / C.
                (int c, int sy, int sx) = f.Source(channel, input.C, input.H, input.W);
                return (reads[0], c, sy, sx);
            }
            case PadLayer pad:
            {
                // As Pad2D.Apply: the border maps each index back into the input; outside a zero border, the fill
                // (NumberOperand: the pad's value).
                PadOptions o = pad.ToSecondInput ? pad.For(input.H, input.W, pipeline.LayerOutputSize(reads[1]).H, pipeline.LayerOutputSize(reads[1]).W) : pad.Options;
                int sy = Borders.Map(y - o.Top, input.H, o.Border), sx = Borders.Map(x - o.Left, input.W, o.Border);
                return sy < 0 || sx < 0 ? (NumberOperand, 0, 0, 0) : (reads[0], channel, sy, sx);
            }
            case DepthToSpaceLayer { ToSpace: true } d:
            {
                // As DepthToSpace.ToSpace: output (c, y, x) reads channel (i b + j) C + c (DCR) or (c b + i) b + j (CRD) at (y / b, x / b).
                int b = d.Block, i = y % b, j = x % b, c = input.C / (b * b);
                int ic = d.Mode == DepthToSpaceMode.Dcr ? (i * b + j) * c + channel : (channel * b + i) * b + j;
                return (reads[0], ic, y / b, x / b);
            }
            case DepthToSpaceLayer d:
            {
                // As DepthToSpace.ToDepth: output channel o reads channel o % C at (y b + i, x b + j), (i, j) from o / C.
                int b = d.Block, offset = channel / input.C;
                return (reads[0], channel % input.C, y * b + offset / b, x * b + offset % b);
            }
            default:
                return null;
        }
    }

    private bool TakePool(GpuTensor input, int channel, int x, int y, PaddedPoolOptions o, ConvGeometry g)
    {
        if (channel >= input.C) return false;
        int kh = o.SizeY, kw = o.SizeX, top = g.Y.PadBefore, left = g.X.PadBefore, bottom = g.Y.PadAfter, right = g.X.PadAfter;
        EnsureWindow(kh * kw);
        if (_row.Length < input.W) _row = new float[input.W];
        bool max = o.Kind == PoolKind.Max;
        double acc = max ? double.NegativeInfinity : 0.0;
        int inImage = 0, inPadded = 0;
        for (int i = 0; i < kh; i++)
        {
            int iy = y * o.StrideY - top + i * o.DilationY;
            int lo = Math.Max(0, x * o.StrideX - left), hi = Math.Min(input.W - 1, x * o.StrideX - left + (kw - 1) * o.DilationX);
            bool rowIn = (uint)iy < (uint)input.H;
            if (rowIn && hi >= lo) Read(input, _row.AsSpan(lo, hi - lo + 1), (channel * input.H + iy) * input.W + lo);
            for (int j = 0; j < kw; j++)
            {
                int ix = x * o.StrideX - left + j * o.DilationX, k = i * kw + j;
                // As PaddedPool2D: taps past the padding (ceil_mode's) never count; padding counts where asked.
                bool padded = iy < input.H + bottom && ix < input.W + right;
                if (padded) inPadded++;
                Inside[k] = padded && rowIn && (uint)ix < (uint)input.W;
                Window[k] = Inside[k] ? _row[ix] : 0f;
                if (!Inside[k]) continue;
                inImage++;
                acc = max ? Math.Max(acc, Window[k]) : acc + Window[k];
            }
        }
        Divisor = o.CountIncludePad ? inPadded : inImage;
        Sum = (float)(max ? acc : Divisor == 0 ? 0.0 : acc / Divisor);
        (Kind, PoolMax, KernelHeight, KernelWidth, InputChannels, FirstInput, Bias) = (ProbeKind.Pool, max, kh, kw, 1, channel, 0);
        LayerName = string.Create(CultureInfo.InvariantCulture, $"{(max ? "max" : "average")} pool {kh}x{kw}");
        return true;
    }

    // The attention probe's reads: every key (C x positions), the query's channels, the weights.
    private float[] _keys = [];
    private float[] _query = [];
    private double[] _weights = [];

    private void EnsureWindow(int n)
    {
        if (Window.Length < n)
        {
            Window = new float[n];
            Kernel = new float[n];
        }
        if (Inside.Length < n) Inside = new bool[n];
    }

    private void Read(GpuTensor t, Span<float> destination, int offset)
    {
        // Shader writes reach glGetBufferSubData only after this barrier.
        gl.MemoryBarrier(MemoryBarrierMask.BufferUpdateBarrierBit);
        gl.BindBuffer(BufferTargetARB.ShaderStorageBuffer, t.Handle);
        gl.GetBufferSubData(BufferTargetARB.ShaderStorageBuffer, offset * sizeof(float), destination);
    }
}

/// <summary>What a <see cref="Probe"/> took apart.</summary>
internal enum ProbeKind { Conv, Pool, Activation, Magnitude, Channels, TwoMaps, Affine, GlobalPool, Softmax, Linear, Copy, Resize, Norm, Lrn, Transposed, Attention, Coords }
