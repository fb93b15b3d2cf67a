using System.Text;
using ConvGL.Core;
using ConvGL.Core.Ops;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;

namespace ConvGL.Bench;

/// <summary>A CPU library doing a bench case's work on all cores, timed in the same run as ConvGL's rows so the ratio
/// is honest: what a C# user would call instead of ConvGL. Prepared once (input converted to the library's layout,
/// output allocated); <see cref="Run"/> is the timed call; <see cref="Output"/> converts the result back to (C, H, W)
/// for the same corner-crop check the GPU rows pass.</summary>
internal abstract class BenchPeer : IDisposable
{
    /// <summary>The library and call, for the table's note (e.g. "OpenCV 4.13 Cv2.Filter2D, 2 threads").</summary>
    public abstract string Algo { get; }

    /// <summary>The table's device column: "opencv" or "onnxrt" (both on the CPU, all cores).</summary>
    public abstract string Device { get; }

    public abstract void Run();

    /// <summary>Before the warm-up: a peer with more than one way to run picks its fastest here (timed).</summary>
    public virtual void Tune() { }

    /// <summary>Times <paramref name="ways"/> (each a full run) in turn, 3 rounds after a warm-up each (the warm-up alone
    /// where one takes more than 300 ms), and returns the index of the fastest by its best time.</summary>
    internal static int Fastest(params Action[] ways)
    {
        static double Time(Action way)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            way();
            return System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        double[] best = ways.Select(Time).ToArray();
        // Slow calls (a 501-tap kernel's seconds) are told apart by their warm-up alone.
        if (best.Max() <= 300)
        {
            Array.Fill(best, double.MaxValue);
            for (int round = 0; round < 3; round++)
                for (int i = 0; i < ways.Length; i++) best[i] = Math.Min(best[i], Time(ways[i]));
        }
        return Array.IndexOf(best, best.Min());
    }

    public abstract Tensor Output();

    public virtual void Dispose() { }

    /// <summary>A peer's border for OpenCV: our reflect (d c b | a b c d) is OpenCV's BORDER_REFLECT_101, our symmetric
    /// (c b a | a b c d) is BORDER_REFLECT; OpenCV's filters have no wrap.</summary>
    public static BorderTypes OpenCvBorder(Border border) => border switch
    {
        Border.Zero => BorderTypes.Constant,
        Border.Replicate => BorderTypes.Replicate,
        Border.Reflect => BorderTypes.Reflect101,
        Border.Symmetric => BorderTypes.Reflect,
        _ => throw new ConvGLException($"bench: OpenCV's filters have no {border.Name()} border"),
    };

    internal static string OpenCvName => $"OpenCV {Cv2.GetVersionString()}, {Cv2.GetNumThreads()} threads";
}

/// <summary>OpenCV's <c>filter2D</c> (float32, correlation, anchor at the centre: odd kernels only) with each of
/// <c>kernels</c> over a (C, H, W) image held interleaved as OpenCV keeps it (one call filters every channel); several
/// kernels (a filter bank on one channel) are one call each.</summary>
internal sealed class OpenCvFilter2D : BenchPeer
{
    private readonly Mat _src;
    private readonly Mat[] _kernels;
    private readonly Mat[] _dst;
    private readonly BorderTypes _border;
    private readonly int _c, _h, _w;

    public OpenCvFilter2D(Tensor input, IReadOnlyList<Tensor> kernels, Border border)
    {
        foreach (Tensor k in kernels)
            if (k.H % 2 == 0 || k.W % 2 == 0) throw new ConvGLException("bench: the OpenCV peer needs odd kernels (its anchor is the centre)");
        (_c, _h, _w) = (input.C, input.H, input.W);
        if (kernels.Count > 1 && _c != 1) throw new ConvGLException("bench: a filter bank peer takes one input channel");
        _src = ToMat(input);
        _kernels = kernels.Select(k => NewMat(k.Data, k.H, k.W, 1)).ToArray();
        _dst = kernels.Select(_ => new Mat(_h, _w, MatType.CV_32FC(_c))).ToArray();
        _border = OpenCvBorder(border);
        _srcBands = RowBands(_src);
        _dstBands = _dst.Select(RowBands).ToArray();
    }

    // Bands of rows (views of the same Mats, made once): OpenCV's filter2D and sepFilter2D run a float32 image on one
    // thread whatever its pool holds (a review: CPU time equal to wall time, no slower on one core), so the peer runs a
    // band per core, as a C# user wanting all cores would. A band's filter reads the rows beyond it from the whole image
    // (a view without BORDER_ISOLATED), so the result is the whole call's: the bench compares every value with the GPU's.
    private readonly Mat[] _srcBands;
    private readonly Mat[][] _dstBands;

    internal static Mat[] RowBands(Mat m)
    {
        int bands = Math.Clamp(Environment.ProcessorCount, 1, Math.Max(1, m.Rows));
        // The views are kept for every rep and disposed with the peer (its Dispose), not here.
#pragma warning disable OCVS004
        return Enumerable.Range(0, bands).Select(b => m.RowRange(m.Rows * b / bands, m.Rows * (b + 1) / bands)).ToArray();
#pragma warning restore OCVS004
    }

    // Whether the bands run (else one call a kernel): the faster, timed by Tune. Big kernels go through OpenCV's DFT,
    // which bands of rows can make slower (a 63x63 kernel: 104 ms in bands against ~40 whole).
    private bool _banded = true;

    public override string Algo => $"{OpenCvName}: Cv2.Filter2D x{_kernels.Length}, " +
        (_banded ? $"{_srcBands.Length} bands of rows in parallel" : "one call a kernel") + " (the faster way, timed)";

    public override string Device => "opencv";

    public override void Tune() => _banded = Fastest(Whole, Banded) == 1;

    public override void Run()
    {
        if (_banded) Banded();
        else Whole();
    }

    private void Whole()
    {
        for (int i = 0; i < _kernels.Length; i++) Cv2.Filter2D(_src, _dst[i], MatType.CV_32F, _kernels[i], new Point(-1, -1), 0, _border);
    }

    private void Banded()
    {
        for (int i = 0; i < _kernels.Length; i++)
        {
            Mat kernel = _kernels[i];
            Mat[] dst = _dstBands[i];
            Parallel.For(0, _srcBands.Length, b => Cv2.Filter2D(_srcBands[b], dst[b], MatType.CV_32F, kernel, new Point(-1, -1), 0, _border));
        }
    }

    public override Tensor Output() => _kernels.Length == 1 ? FromMat(_dst[0], _c) : Tensor.Concat(_dst.Select(d => FromMat(d, 1)).ToList());

    /// <summary>(C, H, W) planes to one interleaved H x W Mat of C channels.</summary>
    internal static Mat ToMat(Tensor t)
    {
        var hwc = new float[t.Length];
        int plane = t.H * t.W;
        for (int c = 0; c < t.C; c++)
            for (int i = 0; i < plane; i++) hwc[i * t.C + c] = t.Data[c * plane + i];
        return NewMat(hwc, t.H, t.W, t.C);
    }

    /// <summary>A new (continuous) rows x cols Mat of float32 with the given channels, holding a copy of data.</summary>
    internal static Mat NewMat(float[] data, int rows, int cols, int channels)
    {
        var m = new Mat(rows, cols, MatType.CV_32FC(channels));
        System.Runtime.InteropServices.Marshal.Copy(data, 0, m.Data, rows * cols * channels);
        return m;
    }

    internal static Tensor FromMat(Mat m, int channels)
    {
        if (!m.IsContinuous()) throw new InvalidOperationException("bench: OpenCV returned a non-continuous Mat");
        var hwc = new float[m.Rows * m.Cols * channels];
        System.Runtime.InteropServices.Marshal.Copy(m.Data, hwc, 0, hwc.Length);
        var t = Tensor.Chw(channels, m.Rows, m.Cols);
        int plane = m.Rows * m.Cols;
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < plane; i++) t.Data[c * plane + i] = hwc[i * channels + c];
        return t;
    }

    public override void Dispose()
    {
        foreach (Mat m in _srcBands.Concat(_dstBands.SelectMany(d => d))) m.Dispose();
        _src.Dispose();
        foreach (Mat m in _kernels.Concat(_dst)) m.Dispose();
    }
}

/// <summary>OpenCV's <c>sepFilter2D</c> (float32) with the row and column vectors of a rank-1 kernel.</summary>
internal sealed class OpenCvSepFilter2D : BenchPeer
{
    private readonly Mat _src, _dst, _row, _column;
    private readonly BorderTypes _border;
    private readonly int _c;

    public OpenCvSepFilter2D(Tensor input, float[] column, float[] row, Border border)
    {
        if (column.Length % 2 == 0 || row.Length % 2 == 0) throw new ConvGLException("bench: the OpenCV peer needs odd kernels (its anchor is the centre)");
        _c = input.C;
        _src = OpenCvFilter2D.ToMat(input);
        _dst = new Mat(input.H, input.W, MatType.CV_32FC(_c));
        _row = OpenCvFilter2D.NewMat(row, 1, row.Length, 1);
        _column = OpenCvFilter2D.NewMat(column, column.Length, 1, 1);
        _border = OpenCvBorder(border);
        (_srcBands, _dstBands) = (OpenCvFilter2D.RowBands(_src), OpenCvFilter2D.RowBands(_dst));
    }

    // Bands of rows on all cores, as OpenCvFilter2D's.
    private readonly Mat[] _srcBands, _dstBands;

    private bool _banded = true;

    public override string Algo => $"{OpenCvName}: Cv2.SepFilter2D, " + (_banded ? $"{_srcBands.Length} bands of rows in parallel" : "one call") + " (the faster way, timed)";

    public override string Device => "opencv";

    public override void Tune() => _banded = Fastest(Whole, Banded) == 1;

    public override void Run()
    {
        if (_banded) Banded();
        else Whole();
    }

    private void Whole() => Cv2.SepFilter2D(_src, _dst, MatType.CV_32F, _row, _column, new Point(-1, -1), 0, _border);

    private void Banded() =>
        Parallel.For(0, _srcBands.Length, b => Cv2.SepFilter2D(_srcBands[b], _dstBands[b], MatType.CV_32F, _row, _column, new Point(-1, -1), 0, _border));

    public override Tensor Output() => OpenCvFilter2D.FromMat(_dst, _c);

    public override void Dispose()
    {
        foreach (Mat m in _srcBands.Concat(_dstBands)) m.Dispose();
        _src.Dispose();
        _dst.Dispose();
        _row.Dispose();
        _column.Dispose();
    }
}

/// <summary>ONNX Runtime (CPU provider, all cores) running a one-node model built in memory: the conv layer (Conv with
/// the case's weights, bias, strides, dilations, pads and group) or pool (MaxPool) a C# user deploying a network would
/// run. Input and output tensors are allocated once; the timed call is <c>session.Run</c> into the preallocated output.</summary>
internal sealed class OnnxRuntimeNode : BenchPeer
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue _input, _output;
    private readonly float[] _outputData;
    private readonly (int C, int H, int W) _outShape;
    private readonly string _op;

    private OnnxRuntimeNode(byte[] model, string op, Tensor input, (int C, int H, int W) outShape)
    {
        using var options = new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        // Its threads spin while a Run is under way (its own speed) but stop when it returns: left spinning they took a
        // core from the GPU rep timed next on this 2-core machine (BenchHarness.Alternate; bench/README.md).
        options.AddSessionConfigEntry("session.force_spinning_stop", "1");
        options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        _session = new InferenceSession(model, options);
        _op = op;
        _outShape = outShape;
        _input = OrtValue.CreateTensorValueFromMemory((float[])input.Data.Clone(), [1, input.C, input.H, input.W]);
        _outputData = new float[outShape.C * outShape.H * outShape.W];
        _output = OrtValue.CreateTensorValueFromMemory(_outputData, [1, outShape.C, outShape.H, outShape.W]);
    }

    /// <summary>A Conv node; ONNX pads with zeros only, so the case's border must be zero.</summary>
    public static OnnxRuntimeNode Conv(Tensor input, Tensor weight, float[]? bias, ConvOptions o)
    {
        if (o.Border != Border.Zero) throw new ConvGLException($"bench: ONNX Conv pads with zeros, the case's border is {o.Border.Name()}");
        if (o.Mode != ConvMode.Correlate) throw new ConvGLException("bench: ONNX Conv correlates");
        int kh = weight.Shape[2], kw = weight.Shape[3];
        ConvGeometry g = ConvGeometry.Compute(input.H, input.W, kh, kw, o);
        byte[] model = OnnxModel.Conv(input, weight, bias, o, g);
        return new OnnxRuntimeNode(model, "Conv", input, (weight.Shape[0], g.Y.Output, g.X.Output));
    }

    /// <summary>A MaxPool node (no padding).</summary>
    public static OnnxRuntimeNode MaxPool(Tensor input, int size, int stride)
    {
        int ho = (input.H - size) / stride + 1, wo = (input.W - size) / stride + 1;
        return new OnnxRuntimeNode(OnnxModel.MaxPool(input, size, stride), "MaxPool", input, (input.C, ho, wo));
    }

    /// <summary>A model built by the caller (<see cref="OnnxModel"/>), input "x" (1, C, H, W) and output "y".</summary>
    public static OnnxRuntimeNode Custom(byte[] model, string op, Tensor input, (int C, int H, int W) outShape) => new(model, op, input, outShape);

    public override string Algo => $"ONNX Runtime {OrtEnv.Instance().GetVersionString()} CPU, {Environment.ProcessorCount} threads: one-node {_op} model";

    public override string Device => "onnxrt";

    public override void Run() => _session.Run(_runOptions, ["x"], [_input], ["y"], [_output]);

    public override Tensor Output() => Tensor.Chw(_outShape.C, _outShape.H, _outShape.W, (float[])_outputData.Clone());

    public override void Dispose()
    {
        _input.Dispose();
        _output.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}

/// <summary>The few ONNX protobuf messages a one-node model needs, written by hand (field numbers from onnx.proto:
/// ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto), so the bench needs no ONNX package
/// and no model file.</summary>
internal static class OnnxModel
{
    private const int FloatType = 1;        // TensorProto.DataType.FLOAT
    private const int AttributeInt = 2;     // AttributeProto.AttributeType.INT
    private const int AttributeInts = 7;    // AttributeProto.AttributeType.INTS

    public static byte[] Conv(Tensor input, Tensor weight, float[]? bias, ConvOptions o, ConvGeometry g)
    {
        int cout = weight.Shape[0], kh = weight.Shape[2], kw = weight.Shape[3];
        var node = new Proto();
        node.String(1, "x").String(1, "w");
        if (bias is not null) node.String(1, "b");
        node.String(2, "y").String(4, "Conv")
            .Message(5, Ints("kernel_shape", kh, kw))
            .Message(5, Ints("strides", o.StrideY, o.StrideX))
            .Message(5, Ints("dilations", o.DilationY, o.DilationX))
            .Message(5, Ints("pads", g.Y.PadBefore, g.X.PadBefore, g.Y.PadAfter, g.X.PadAfter))
            .Message(5, Int("group", o.Groups));
        var graph = new Proto().Message(1, node).String(2, "convgl-bench")
            .Message(5, Initializer("w", weight.Shape, weight.Data));
        if (bias is not null) graph.Message(5, Initializer("b", [bias.Length], bias));
        graph.Message(11, ValueInfo("x", 1, input.C, input.H, input.W))
            .Message(12, ValueInfo("y", 1, cout, g.Y.Output, g.X.Output));
        return Model(graph);
    }

    public static byte[] MaxPool(Tensor input, int size, int stride)
    {
        var node = new Proto().String(1, "x").String(2, "y").String(4, "MaxPool")
            .Message(5, Ints("kernel_shape", size, size))
            .Message(5, Ints("strides", stride, stride));
        var graph = new Proto().Message(1, node).String(2, "convgl-bench")
            .Message(11, ValueInfo("x", 1, input.C, input.H, input.W))
            .Message(12, ValueInfo("y", 1, input.C, (input.H - size) / stride + 1, (input.W - size) / stride + 1));
        return Model(graph);
    }

    /// <summary>Resize, linear, half_pixel, by a scale on H and W (opset 13: inputs X, an empty roi, scales).</summary>
    public static byte[] Resize(Tensor input, float scale)
    {
        var node = new Proto().String(1, "x").String(1, "").String(1, "scales").String(2, "y").String(4, "Resize")
            .Message(5, Str("mode", "linear")).Message(5, Str("coordinate_transformation_mode", "half_pixel"));
        var graph = new Proto().Message(1, node).String(2, "convgl-bench")
            .Message(5, Initializer("scales", [4], [1, 1, scale, scale]))
            .Message(11, ValueInfo("x", 1, input.C, input.H, input.W))
            .Message(12, ValueInfo("y", 1, input.C, (int)(input.H * scale), (int)(input.W * scale)));
        return Model(graph);
    }

    public static byte[] InstanceNorm(Tensor input, float[] scale, float[] shift)
    {
        var node = new Proto().String(1, "x").String(1, "s").String(1, "b").String(2, "y").String(4, "InstanceNormalization");
        var graph = new Proto().Message(1, node).String(2, "convgl-bench")
            .Message(5, Initializer("s", [scale.Length], scale)).Message(5, Initializer("b", [shift.Length], shift))
            .Message(11, ValueInfo("x", 1, input.C, input.H, input.W))
            .Message(12, ValueInfo("y", 1, input.C, input.H, input.W));
        return Model(graph);
    }

    /// <summary>GroupNorm as torch exports it: Reshape to (1, groups, -1), InstanceNormalization of ones and zeros, Reshape
    /// back, Mul by the weight and Add the bias as (C, 1, 1).</summary>
    public static byte[] GroupNorm(Tensor input, int groups, float[] scale, float[] shift)
    {
        var graph = new Proto()
            .Message(1, Node("Reshape", "r", "x", "grouped"))
            .Message(1, Node("InstanceNormalization", "n", "r", "ones", "zeros"))
            .Message(1, Node("Reshape", "back", "n", "shape"))
            .Message(1, Node("Mul", "scaled", "back", "w"))
            .Message(1, Node("Add", "y", "scaled", "b"))
            .String(2, "convgl-bench")
            .Message(5, Int64Initializer("grouped", 0, groups, -1))
            .Message(5, Int64Initializer("shape", 1, input.C, input.H, input.W))
            .Message(5, Initializer("ones", [groups], Enumerable.Repeat(1f, groups).ToArray()))
            .Message(5, Initializer("zeros", [groups], new float[groups]))
            .Message(5, Initializer("w", [input.C, 1, 1], scale))
            .Message(5, Initializer("b", [input.C, 1, 1], shift))
            .Message(11, ValueInfo("x", 1, input.C, input.H, input.W))
            .Message(12, ValueInfo("y", 1, input.C, input.H, input.W));
        return Model(graph);
    }

    /// <summary>ConvTranspose 3x3, stride 2, pads 1, output_padding 1: (H, W) -> (2H, 2W).</summary>
    public static byte[] ConvTranspose(Tensor input, Tensor weight, float[] bias)
    {
        var node = new Proto().String(1, "x").String(1, "w").String(1, "b").String(2, "y").String(4, "ConvTranspose")
            .Message(5, Ints("kernel_shape", weight.Shape[2], weight.Shape[3])).Message(5, Ints("strides", 2, 2))
            .Message(5, Ints("pads", 1, 1, 1, 1)).Message(5, Ints("output_padding", 1, 1));
        var graph = new Proto().Message(1, node).String(2, "convgl-bench")
            .Message(5, Initializer("w", weight.Shape, weight.Data)).Message(5, Initializer("b", [bias.Length], bias))
            .Message(11, ValueInfo("x", 1, input.C, input.H, input.W))
            .Message(12, ValueInfo("y", 1, weight.Shape[1], 2 * input.H, 2 * input.W));
        return Model(graph);
    }

    /// <summary>ShuffleNet's channel shuffle as PyTorch exports it: Reshape (1, g, C/g, H, W), Transpose [0, 2, 1, 3, 4],
    /// Reshape (1, C, H, W).</summary>
    public static byte[] ChannelShuffle(Tensor input, int groups)
    {
        var group = new Proto().String(1, "x").String(1, "s5").String(2, "r5").String(4, "Reshape");
        var transpose = new Proto().String(1, "r5").String(2, "p5").String(4, "Transpose").Message(5, Ints("perm", 0, 2, 1, 3, 4));
        var back = new Proto().String(1, "p5").String(1, "s4").String(2, "y").String(4, "Reshape");
        var graph = new Proto().Message(1, group).Message(1, transpose).Message(1, back).String(2, "convgl-bench")
            .Message(5, Int64Initializer("s5", 1, groups, input.C / groups, input.H, input.W))
            .Message(5, Int64Initializer("s4", 1, input.C, input.H, input.W))
            .Message(11, ValueInfo("x", 1, input.C, input.H, input.W))
            .Message(12, ValueInfo("y", 1, input.C, input.H, input.W));
        return Model(graph);
    }

    /// <summary>Self-attention of x over its positions as torch.onnx.export writes it: t = Reshape(x, (1, C, H*W)),
    /// softmax(Transpose(t) t * scale, last axis) as w, y = Reshape(t Transpose(w), (1, C, H, W)).</summary>
    public static byte[] SelfAttention(Tensor input, float scale)
    {
        int p = input.H * input.W;
        var graph = new Proto()
            .Message(1, Node("Reshape", "t", "x", "flat"))
            .Message(1, Node("Transpose", "tq", "t").Message(5, Ints("perm", 0, 2, 1)))
            .Message(1, Node("MatMul", "logits", "tq", "t"))
            .Message(1, Node("Mul", "scaled", "logits", "scale"))
            .Message(1, Node("Softmax", "w", "scaled").Message(5, Int("axis", -1)))
            .Message(1, Node("Transpose", "wt", "w").Message(5, Ints("perm", 0, 2, 1)))
            .Message(1, Node("MatMul", "o", "t", "wt"))
            .Message(1, Node("Reshape", "y", "o", "back"))
            .String(2, "convgl-bench")
            .Message(5, Int64Initializer("flat", 1, input.C, p))
            .Message(5, Int64Initializer("back", 1, input.C, input.H, input.W))
            .Message(5, Initializer("scale", [1], [scale]))
            .Message(11, ValueInfo("x", 1, input.C, input.H, input.W))
            .Message(12, ValueInfo("y", 1, input.C, input.H, input.W));
        return Model(graph);
    }

    public static byte[] Transpose(Tensor input, params int[] perm)
    {
        int[] shape = [1, input.C, input.H, input.W];
        var node = new Proto().String(1, "x").String(2, "y").String(4, "Transpose").Message(5, Ints("perm", perm));
        var graph = new Proto().Message(1, node).String(2, "convgl-bench")
            .Message(11, ValueInfo("x", shape))
            .Message(12, ValueInfo("y", perm.Select(p => shape[p]).ToArray()));
        return Model(graph);
    }

    private static Proto Str(string name, string value) => new Proto().String(1, name).String(4, value).Varint(20, 3);

    /// <summary>A node of <paramref name="op"/> reading <paramref name="inputs"/>, writing <paramref name="output"/>.</summary>
    private static Proto Node(string op, string output, params string[] inputs)
    {
        var n = new Proto();
        foreach (string i in inputs) n.String(1, i);
        return n.String(2, output).String(4, op);
    }

    private static Proto Int64Initializer(string name, params long[] values)
    {
        var raw = new byte[values.Length * sizeof(long)];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        return new Proto().Varint(1, values.Length).Varint(2, 7).String(8, name).Bytes(9, raw);
    }

    private static byte[] Model(Proto graph)
    {
        var opset = new Proto().String(1, "").Varint(2, 13);
        return new Proto().Varint(1, 8).String(2, "convgl bench").Message(7, graph).Message(8, opset).ToArray();
    }

    private static Proto Ints(string name, params int[] values)
    {
        var a = new Proto().String(1, name);
        foreach (int v in values) a.Varint(8, v);
        return a.Varint(20, AttributeInts);
    }

    private static Proto Int(string name, int value) => new Proto().String(1, name).Varint(3, value).Varint(20, AttributeInt);

    private static Proto Initializer(string name, int[] dims, float[] data)
    {
        var t = new Proto();
        foreach (int d in dims) t.Varint(1, d);
        var raw = new byte[data.Length * sizeof(float)];
        Buffer.BlockCopy(data, 0, raw, 0, raw.Length); // little-endian on every machine .NET runs this bench on
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian");
        return t.Varint(2, FloatType).String(8, name).Bytes(9, raw);
    }

    private static Proto ValueInfo(string name, params int[] dims)
    {
        var shape = new Proto();
        foreach (int d in dims) shape.Message(1, new Proto().Varint(1, d));
        var tensorType = new Proto().Varint(1, FloatType).Message(2, shape);
        return new Proto().String(1, name).Message(2, new Proto().Message(1, tensorType));
    }

    /// <summary>Protocol buffers' wire format, the two kinds of field used here: varint (wire type 0) and
    /// length-delimited (wire type 2: strings, bytes, nested messages).</summary>
    internal sealed class Proto
    {
        private readonly MemoryStream _bytes = new();

        public Proto Varint(int field, long value)
        {
            Key(field, 0);
            Raw((ulong)value);
            return this;
        }

        public Proto Bytes(int field, byte[] value)
        {
            Key(field, 2);
            Raw((ulong)value.Length);
            _bytes.Write(value);
            return this;
        }

        public Proto String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public Proto Message(int field, Proto value) => Bytes(field, value.ToArray());

        public byte[] ToArray() => _bytes.ToArray();

        private void Key(int field, int wireType) => Raw((ulong)((field << 3) | wireType));

        private void Raw(ulong v)
        {
            while (v >= 0x80)
            {
                _bytes.WriteByte((byte)(v | 0x80));
                v >>= 7;
            }
            _bytes.WriteByte((byte)v);
        }
    }
}
