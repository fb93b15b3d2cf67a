using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Onnx;

/// <summary>Runs an <see cref="OnnxGraph"/> on the GPU: one GPU op per graph op (created once; weights that are
/// initializers uploaded once), one <see cref="GpuTensor"/> per value (created on the first run, reused after),
/// so a steady run allocates nothing on the GPU. The CPU reference is <see cref="OnnxGraph.Run"/>.
///
/// GPU tensors are (C, H, W) storage; a value's logical ONNX shape is kept beside it and stored canonically:
/// rank 3 and up as (product of the leading dimensions, H, W), so (N, C, H, W) is (N*C, H, W) and every
/// per-plane op (pools, batchnorm, activations, add) runs batches unchanged; rank 2 (M, N) as (1, M, N);
/// rank 1 and 0 as (1, 1, n). Conv runs batch 1 (its channels are the storage's planes).</summary>
public sealed class GpuOnnxRunner : IDisposable
{
    private readonly GlContext _context;
    private readonly OnnxGraph _graph;
    private readonly Dictionary<string, GpuTensor> _tensors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int[]> _shapes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _constants = new(StringComparer.Ordinal);
    // Graph outputs that name an initializer no node computes and no input overrides (a constant output).
    private readonly HashSet<string> _constantOutputs = new(StringComparer.Ordinal);
    private readonly IGpuOnnxOp?[] _ops;
    // Values computed on the CPU inside a run (OnnxGraph.HostValues: shapes and what is computed from them), and the
    // ones of those a GPU op reads as data (uploaded when computed).
    private readonly Dictionary<string, Tensor> _host = new(StringComparer.Ordinal);
    private readonly HashSet<string> _uploadHost = new(StringComparer.Ordinal);
    // Values of this run that hold no element (a dimension of 0): only their shape is kept, no GPU storage is written.
    private readonly HashSet<string> _empty = new(StringComparer.Ordinal);
    // Initializers read as data that hold no element: empty in every run (nothing uploaded).
    private readonly HashSet<string> _emptyConstants = new(StringComparer.Ordinal);

    public GpuOnnxRunner(GlContext context, OnnxGraph graph)
    {
        _context = context;
        _graph = graph;
        _ops = new IGpuOnnxOp?[graph.Ops.Count];
        for (int i = 0; i < graph.Ops.Count; i++)
        {
            OnnxOp op = graph.Ops[i];
            if (IsHost(op)) continue;
            _ops[i] = Create(op);
            // Data inputs that are initializers (an Add's constant, Gemm's B and C) live on the GPU from now on; other
            // values computed on the CPU are uploaded each run.
            foreach (string name in op.Inputs.Except(op.IntegerInputs))
                if (name.Length > 0 && !_constants.Contains(name) && op is BinaryOp or GemmOp or ConcatOp or VariadicOp or MatMulOp && graph.Initializers.TryGetValue(name, out Tensor? t))
                {
                    _constants.Add(name);
                    if (t.Shape.Contains(0))
                    {
                        _emptyConstants.Add(name);
                        _shapes[name] = (int[])t.Shape.Clone();
                    }
                    else Store(name, t);
                }
                else if (name.Length > 0 && graph.HostValues.Contains(name) && !graph.Initializers.ContainsKey(name))
                {
                    _uploadHost.Add(name);
                }
        }
        foreach (OnnxValueInfo o in graph.Outputs)
            if (graph.Initializers.ContainsKey(o.Name) && graph.Ops.All(op => op.Output != o.Name) && graph.Inputs.All(i => i.Name != o.Name))
                _constantOutputs.Add(o.Name);
    }

    private Tensor? Constant(string name) => _graph.Initializers.GetValueOrDefault(name);

    /// <summary>An op the runner computes on the CPU: its output is a host value (see <see cref="OnnxGraph.HostValues"/>).</summary>
    private bool IsHost(OnnxOp op) => _graph.HostValues.Contains(op.Output) && !_graph.Initializers.ContainsKey(op.Output);

    /// <summary>Runs a 2D op (<paramref name="run"/>, given the (N, C, H, W) shape it runs on, returning the output's) on
    /// its input, or for a 1D op (<paramref name="oneD"/>) on the input (N, C, L) as the one-row map (N, C, 1, L): the
    /// input's storage read as (N C, 1, L) for the run and as before after it, the output's (N C', 1, L') read back as the
    /// value (N, C', L').</summary>
    private static int[] AsRows(GpuTensor input, int[] shape, GpuTensor output, bool oneD, Func<int[], int[]> run)
    {
        if (!oneD) return run(shape);
        (int c, int h, int w) = (input.C, input.H, input.W);
        int[] rows = [shape[0], shape[1], 1, shape[2]];
        (int rc, int rh, int rw) = Storage(rows);
        input.Reinterpret(rc, rh, rw);
        int[] result;
        try
        {
            result = run(rows);
        }
        finally
        {
            input.Reinterpret(c, h, w);
        }
        int[] value = [result[0], result[1], result[3]];
        (int oc, int oh, int ow) = Storage(value);
        output.Reinterpret(oc, oh, ow);
        return value;
    }

    private float[]? BiasOf(ConvOp c) => c.Inputs.Count > 2 && c.Inputs[2].Length > 0 ? Constant(c.Inputs[2])?.Data : null;

    /// <summary>(C, H, W) storage of a logical shape (see the class summary).</summary>
    public static (int C, int H, int W) Storage(int[] shape) => shape.Length switch
    {
        0 => (1, 1, 1),
        1 => (1, 1, shape[0]),
        2 => (1, shape[0], shape[1]),
        _ => ((int)shape[..^2].Aggregate(1L, (a, d) => a * d), shape[^2], shape[^1]),
    };

    private GpuTensor Tensor(string name)
    {
        if (!_tensors.TryGetValue(name, out GpuTensor? t)) _tensors[name] = t = new GpuTensor(_context, label: name);
        return t;
    }

    private void Store(string name, Tensor value)
    {
        (int c, int h, int w) = Storage(value.Shape);
        Tensor(name).Upload(value.Reshape(c, h, w));
        _shapes[name] = (int[])value.Shape.Clone();
    }

    private int[] ShapeOf(string name) => _shapes.TryGetValue(name, out int[]? s) ? s : throw new InvalidOperationException($"value '{name}' has no shape yet");

    /// <summary>Runs the graph. Returns the graph outputs, or every value when <paramref name="downloadAll"/>
    /// (intermediate maps, for tests and feature dumps).</summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, bool downloadAll = false)
    {
        _context.CheckThread();
        _empty.Clear();
        _empty.UnionWith(_emptyConstants);
        foreach (OnnxValueInfo i in _graph.Inputs)
        {
            if (!inputs.TryGetValue(i.Name, out Tensor? t))
                throw new ConvGLException($"{_graph.Model.Source}: graph input '{i.Name}' {i.ShapeString} was not given");
            _graph.CheckInputShape(i, t);
            // Integer parameters (Pad's pads, Reshape's shape, Resize's sizes, ReduceSum's axes) are read on the CPU.
            if (_graph.HostValues.Contains(i.Name))
            {
                _host[i.Name] = t;
                if (!_uploadHost.Contains(i.Name)) continue;
            }
            if (t.Shape.Contains(0)) MarkEmpty(i.Name, t.Shape);
            else Store(i.Name, t);
        }
        long held = inputs.Values.Sum(v => (long)v.Length);
        for (int k = 0; k < _ops.Length; k++)
        {
            OnnxOp op = _graph.Ops[k];
            if (_ops[k] is { } gpu) RunOp(op, gpu, inputs, held);
            else RunHost(op, inputs, held);
            held += _shapes.TryGetValue(op.Output, out int[]? shape) ? shape.Aggregate(1L, (a, d) => a * d) : _host[op.Output].Length;
            OnnxGraph.CheckHeld(op, held);
        }

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        IEnumerable<string> names = downloadAll ? _graph.Ops.Select(o => o.Output) : _graph.Outputs.Select(o => o.Name);
        foreach (string name in names)
            result[name] = _constantOutputs.Contains(name) ? _graph.Initializers[name]
                : _host.TryGetValue(name, out Tensor? h) ? h.Clone()
                : _empty.Contains(name) ? new Tensor(ShapeOf(name)) : Tensor(name).Download().Reshape(ShapeOf(name));
        return result;
    }

    /// <summary>Runs a host op on the CPU reference: Shape reads only its input's shape (the GPU value stays where it is).</summary>
    private void RunHost(OnnxOp op, IReadOnlyDictionary<string, Tensor> inputs, long held)
    {
        Tensor value;
        if (op is ShapeOp shape && !_host.ContainsKey(op.Inputs[0]) && Constant(op.Inputs[0]) is null)
            value = shape.Of(ShapeOf(op.Inputs[0]));
        else
            value = OnnxGraph.RunHolding(op, op.Inputs.Select(n => n.Length == 0 ? null : Parameter(op, n, inputs)).ToArray(), held);
        _host[op.Output] = value;
        if (_uploadHost.Contains(op.Output))
        {
            if (value.Shape.Contains(0)) MarkEmpty(op.Output, value.Shape);
            else Store(op.Output, value);
        }
    }

    private void MarkEmpty(string name, int[] shape)
    {
        _empty.Add(name);
        _shapes[name] = (int[])shape.Clone();
    }

    /// <summary>A CPU tensor for a parameter input (conv weight, batchnorm statistics): an initializer or a graph input.</summary>
    private Tensor Parameter(OnnxOp op, string name, IReadOnlyDictionary<string, Tensor> inputs) =>
        _host.GetValueOrDefault(name) ?? _graph.Initializers.GetValueOrDefault(name) ?? inputs.GetValueOrDefault(name)
        ?? throw new ConvGLException($"{op.Where}: on the GPU, input '{name}' must be an initializer or a graph input (it is computed by the graph)");

    private void RunOp(OnnxOp op, IGpuOnnxOp gpu, IReadOnlyDictionary<string, Tensor> inputs, long held)
    {
        string x = op.Inputs[0];
        if (op.Inputs.Any(_empty.Contains))
        {
            RunEmpty(op, inputs, held);
            return;
        }
        try
        {
            _shapes[op.Output] = gpu.Run(Tensor(x), ShapeOf(x), Tensor(op.Output), inputs);
        }
        catch (EmptyOutputException e)
        {
            MarkEmpty(op.Output, e.Shape);
        }
        catch (ConvGLException e) when (!e.Message.StartsWith(op.Where, StringComparison.Ordinal))
        {
            throw new ConvGLException($"{op.Where}: {e.Message}", e);
        }
    }

    /// <summary>An op with an empty input runs on the CPU reference, the empty inputs as empty tensors and the others
    /// downloaded: mostly there is no value to compute, only the output's shape. An op that makes values from an empty
    /// input (a Concat with other parts, a ReduceSum over an empty axis, a MatMul over an empty inner axis, a Pad around
    /// nothing) gets them from the reference, uploaded as the op's output.</summary>
    private void RunEmpty(OnnxOp op, IReadOnlyDictionary<string, Tensor> inputs, long held)
    {
        Tensor? Value(string name) => name.Length == 0 ? null
            : _empty.Contains(name) ? new Tensor(ShapeOf(name))
            : _host.GetValueOrDefault(name) ?? _graph.Initializers.GetValueOrDefault(name) ?? inputs.GetValueOrDefault(name)
              ?? Tensor(name).Download().Reshape(ShapeOf(name));
        Tensor value = ExceptionFor(op, () => OnnxGraph.RunHolding(op, op.Inputs.Select(Value).ToArray(), held));
        if (value.Length != 0) Store(op.Output, value);
        else MarkEmpty(op.Output, value.Shape);
    }

    /// <summary>Thrown by a GPU op whose output has no element: the runner keeps the shape and writes nothing.</summary>
    private sealed class EmptyOutputException(int[] shape) : Exception("an empty output")
    {
        public int[] Shape { get; } = shape;
    }

    /// <summary>The GPU op of one graph op, made once: its GPU objects, initializer weights uploaded now.</summary>
    private IGpuOnnxOp Create(OnnxOp op)
    {
        switch (op)
        {
            case ConvOp c:
                var conv = new GpuConv2D(_context, Constant(c.Inputs[1]) is { } stored ? SpatialAttributes.Row(stored) : new Tensor([1, 1, 1, 1]), BiasOf(c));
                // A batch of N > 1 runs image by image through two scratch tensors (made on first use, kept).
                var batch = new BatchScratch(_context, op.Output);
                return new GpuOp((input, shape, output, inputs) =>
                {
                    bool oneD = c.Spatial.OneD;
                    if (shape.Length != (oneD ? 3 : 4))
                        throw new ConvGLException($"{op.Where}: the GPU conv runs {(oneD ? "(N, C, L) inputs (its attributes are 1D)" : "(N, C, H, W) inputs")}, got {ConvGL.Core.Tensor.ShapeText(shape)}");
                    if (!_graph.Initializers.ContainsKey(c.Inputs[1]))
                    {
                        Tensor w = Parameter(op, c.Inputs[1], inputs);
                        c.CheckWeight(w);
                        conv.SetWeights(SpatialAttributes.Row(w), c.Inputs.Count > 2 && c.Inputs[2].Length > 0 ? Parameter(op, c.Inputs[2], inputs).Data : null);
                    }
                    return AsRows(input, shape, output, oneD, rows =>
                    {
                        conv.Options = c.Options(rows[2], rows[3]);
                        return batch.Run(input, rows, output, conv.Run);
                    });
                }, new Owned(conv, batch));
            case ConvTransposeOp t:
                var deconv = new GpuConvTranspose2D(_context, Constant(t.Inputs[1]) is { } storedT ? SpatialAttributes.Row(storedT) : new Tensor([1, 1, 1, 1]),
                    t.Inputs.Count > 2 && t.Inputs[2].Length > 0 ? Constant(t.Inputs[2])?.Data : null, new ConvTransposeOptions());
                var images = new BatchScratch(_context, op.Output);
                return new GpuOp((input, shape, output, inputs) =>
                {
                    Tensor w = Parameter(op, t.Inputs[1], inputs);
                    bool oneD = t.IsOneD(w);
                    // The weight first (a 3D one is unsupported, as on the CPU), then the input against it (a plain error).
                    t.CheckWeight(w);
                    if (shape.Length is not (3 or 4))
                        throw new ConvGL.Core.Onnx.OnnxUnsupportedException($"{op.Where}: the GPU conv_transpose runs (N, C, L) and (N, C, H, W) inputs, got {ConvGL.Core.Tensor.ShapeText(shape)}: ConvGL runs 1D and 2D transposed convolutions");
                    if (shape.Length != (oneD ? 3 : 4))
                        throw new ConvGLException($"{op.Where}: input must be {(oneD ? "(N, C, L) for a 1D transposed conv" : "(N, C, H, W)")}, got {ConvGL.Core.Tensor.ShapeText(shape)}");
                    if (!_graph.Initializers.ContainsKey(t.Inputs[1]) || (t.Inputs.Count > 2 && t.Inputs[2].Length > 0 && !_graph.Initializers.ContainsKey(t.Inputs[2])))
                        deconv.SetWeights(SpatialAttributes.Row(w), t.Inputs.Count > 2 && t.Inputs[2].Length > 0 ? Parameter(op, t.Inputs[2], inputs).Data : null);
                    Tensor row = SpatialAttributes.Row(w);
                    return AsRows(input, shape, output, oneD, rows =>
                    {
                        deconv.Options = t.Options(rows[2], rows[3], row.Shape[2], row.Shape[3]);
                        return images.Run(input, rows, output, deconv.Run);
                    });
                }, new Owned(deconv, images));
            case BatchNormOp b:
                var affine = new GpuChannelAffine(_context, BatchNorm.FromAffine([1f], [0f]));
                return new GpuOp((input, shape, output, inputs) =>
                {
                    if (shape.Length < 2) throw new ConvGLException($"{op.Where}: input {ConvGL.Core.Tensor.ShapeText(shape)} has no channel dimension");
                    affine.SetParameters(b.Parameters([null, .. op.Inputs.Skip(1).Select(n => Parameter(op, n, inputs))]));
                    if (affine.Channels != shape[1]) throw new ConvGLException($"{op.Where}: {affine.Channels} channels of statistics for an input of {shape[1]}");
                    affine.Run(input, output, (int)shape[2..].Aggregate(1L, (a, d) => a * d));
                    return shape;
                }, affine);
            case InstanceNormOp n:
                var inorm = new GpuInstanceNorm(_context, new InstanceNorm([1f], [0f], 1e-5f));
                return new GpuOp((input, shape, output, inputs) =>
                {
                    inorm.SetParameters(n.Parameters(Parameter(op, op.Inputs[1], inputs), Parameter(op, op.Inputs[2], inputs)));
                    if (shape.Length < 3 || shape[1] != inorm.Channels) throw new ConvGLException($"{op.Where}: input {ConvGL.Core.Tensor.ShapeText(shape)} must be (N, {inorm.Channels}, ...)");
                    inorm.Run(input, output, (int)shape[2..].Aggregate(1L, (a, d) => a * d));
                    return shape;
                }, inorm);
            case GroupNormalizationOp gn:
                GpuGroupNorm? groupNorm = null;
                // The parameters the op was made with, by value: a graph input's scale changed in place is new parameters.
                (float[] Scale, float[] Bias, int Channels) madeFor = ([], [], 0);
                var groupImages = new BatchScratch(_context, op.Output);
                return new GpuOp((input, shape, output, inputs) =>
                {
                    if (shape.Length < 3) throw new ConvGLException($"{op.Where}: input {ConvGL.Core.Tensor.ShapeText(shape)} must be (N, C, ...)");
                    Tensor scale = Parameter(op, op.Inputs[1], inputs), bias = Parameter(op, op.Inputs[2], inputs);
                    int n = shape[0], c = shape[1], plane = (int)(shape[2..].Aggregate(1L, (p, d) => p * d));
                    // Made once for the graph's parameters; again only when their values (or the channel count) change.
                    if (groupNorm is null || c != madeFor.Channels || !scale.Data.AsSpan().SequenceEqual(madeFor.Scale) || !bias.Data.AsSpan().SequenceEqual(madeFor.Bias))
                    {
                        InstanceNorm parameters = gn.Parameters(scale, bias, c);
                        if (groupNorm is not null && groupNorm.Channels == c) groupNorm.SetParameters(parameters);
                        else
                        {
                            groupNorm?.Dispose();
                            groupNorm = new GpuGroupNorm(_context, parameters, gn.Groups);
                        }
                        madeFor = ((float[])scale.Data.Clone(), (float[])bias.Data.Clone(), c);
                    }
                    if (n == 1 && shape.Length == 4)
                    {
                        groupNorm.Run(input, output); // storage (C, H, W) already
                        return shape;
                    }
                    // A batch, or a map of another rank: image by image as (C, 1, plane).
                    (GpuTensor inImage, GpuTensor outImage) = groupImages.Get();
                    inImage.Resize(c, 1, plane);
                    (int sc, int sh, int sw) = Storage(shape);
                    output.Resize(sc, sh, sw);
                    for (int b = 0; b < n; b++)
                    {
                        ComputeOp.CopyFloats(_context.Gl, input, (long)b * inImage.Length, inImage, 0, inImage.Length);
                        groupNorm.Run(inImage, outImage);
                        ComputeOp.CopyFloats(_context.Gl, outImage, 0, output, (long)b * outImage.Length, outImage.Length);
                    }
                    return shape;
                }, new Owned(groupImages, new Disposer(() => groupNorm?.Dispose())));
            case LrnOp l:
                var lrn = new GpuLrn(_context, l.Parameters);
                return new GpuOp((input, shape, output, _) =>
                {
                    if (shape.Length != 4) throw new ConvGLException($"{op.Where}: input must be (N, C, H, W), got {ConvGL.Core.Tensor.ShapeText(shape)}");
                    lrn.Run(input, output, shape[1]);
                    return shape;
                }, lrn);
            case PoolOp p:
                var pool = new GpuPaddedPool2D(_context, p.Options(Math.Max(p.Spatial.KernelY, 1), Math.Max(p.Spatial.KernelX, 1)));
                return new GpuOp((input, shape, output, _) =>
                {
                    bool oneD = p.Spatial.OneD;
                    if (shape.Length != (oneD ? 3 : 4))
                        throw new ConvGLException($"{op.Where}: input must be {(oneD ? "(N, C, L) (its attributes are 1D)" : "(N, C, H, W)")}, got {ConvGL.Core.Tensor.ShapeText(shape)}");
                    return AsRows(input, shape, output, oneD, rows =>
                    {
                        pool.Options = p.Options(rows[2], rows[3]);
                        pool.Run(input, output);
                        return [rows[0], rows[1], output.H, output.W];
                    });
                }, pool);
            case GlobalAveragePoolOp:
                var global = new GpuGlobalAveragePool(_context);
                return new GpuOp((input, shape, output, _) =>
                {
                    if (shape.Length != 4) throw new ConvGLException($"{op.Where}: input must be (N, C, H, W), got {ConvGL.Core.Tensor.ShapeText(shape)}");
                    global.Run(input, output);
                    return [shape[0], shape[1], 1, 1];
                }, global);
            case ActivationOp a:
                var activation = new GpuActivation(_context, a.Kind, a.Slope) { Beta = a.Beta };
                return new GpuOp((input, shape, output, _) =>
                {
                    activation.Run(input, output);
                    return shape;
                }, activation);
            case UnaryOp u:
                var math = new GpuUnary(_context, u.Kind);
                return new GpuOp((input, shape, output, _) =>
                {
                    math.Run(input, output);
                    return shape;
                }, math);
            case ClipOp clip:
                var clamp = new GpuActivation(_context, ActivationKind.Clip);
                return new GpuOp((input, shape, output, inputs) =>
                {
                    (clamp.Min, clamp.Max) = clip.Bounds([null, .. op.Inputs.Skip(1).Select(n => n.Length == 0 ? null : Parameter(op, n, inputs))]);
                    clamp.Run(input, output);
                    return shape;
                }, clamp);
            case BinaryOp b:
                var binary = new GpuAdd(_context, b.Kind);
                return new GpuOp((input, shape, output, _) =>
                {
                    int[] bShape = b.SecondShape(shape, ShapeOf(op.Inputs[1]));
                    int[] result = Elementwise.BroadcastShape(shape, bShape, op.Node.OpType);
                    if ((b.Kind == BinaryKind.PRelu || b.LegacyAxis is not null) && !result.AsSpan().SequenceEqual(shape))
                        throw new ConvGLException($"{op.Where}: the second input {ConvGL.Core.Tensor.ShapeText(ShapeOf(op.Inputs[1]))} must broadcast to the first's shape {ConvGL.Core.Tensor.ShapeText(shape)}");
                    return binary.Run(input, shape, Tensor(op.Inputs[1]), bShape, output, Storage(result));
                }, binary);
            case VariadicOp v:
                var step = new GpuAdd(_context, v.Step);
                var divide = new GpuAdd(_context, BinaryKind.Div);
                var partial = new BatchScratch(_context, op.Output);
                GpuTensor? count = null;
                return new GpuOp((input, shape, output, _) =>
                {
                    // Folded two at a time through two scratch tensors; the last step (or Mean's division) writes the output.
                    (GpuTensor s0, GpuTensor s1) = partial.Get();
                    GpuTensor acc = input;
                    int[] accShape = shape;
                    for (int i = 1; i < op.Inputs.Count; i++)
                    {
                        GpuTensor dest = i == op.Inputs.Count - 1 && !v.Mean ? output : i % 2 == 1 ? s0 : s1;
                        int[] next = Elementwise.BroadcastShape(accShape, ShapeOf(op.Inputs[i]), op.Node.OpType);
                        step.Run(acc, accShape, Tensor(op.Inputs[i]), ShapeOf(op.Inputs[i]), dest, Storage(next));
                        (acc, accShape) = (dest, next);
                    }
                    if (v.Mean)
                    {
                        count ??= GpuTensor.From(_context, Core.Tensor.Chw(1, 1, 1, [op.Inputs.Count]), $"{op.Output} count");
                        divide.Run(acc, accShape, count, [1], output, Storage(accShape));
                    }
                    else if (op.Inputs.Count == 1)
                    {
                        Stacks.GpuStackOps.Copy(_context, input, output, Storage(shape));
                    }
                    return accShape;
                }, new Owned(step, divide, partial, new Disposer(() => count?.Dispose())));
            case ConcatOp cat:
                var concat = new GpuConcat(_context);
                return new GpuOp((input, shape, output, _) =>
                {
                    int[][] shapes = op.Inputs.Select(ShapeOf).ToArray();
                    int[] joined = cat.OutputShape(shapes);
                    concat.Run(op.Inputs.Select(Tensor).ToArray(), shapes, cat.AxisFor(shape.Length), output, Storage(joined));
                    return joined;
                }, concat);
            case PadOp pad:
                var padder = new GpuPad(_context, new PadOptions(0, 0, 0, 0));
                return new GpuOp((input, shape, output, inputs) =>
                {
                    Tensor? Optional(int i) => op.Inputs.Count > i && op.Inputs[i].Length > 0 ? Parameter(op, op.Inputs[i], inputs) : null;
                    padder.Options = pad.Options(shape.Length, pad.AttributePads is null ? Optional(1) : null, Optional(2));
                    // Storage of rank 2 and up is already (planes, H, W) (the class summary).
                    padder.Run(input, output);
                    return [.. shape[..^2], output.H, output.W];
                }, padder);
            case ResizeOp rs:
                var resizer = new GpuResize(_context, new ResizeOptions());
                return new GpuOp((input, shape, output, inputs) =>
                {
                    Tensor? Named(string name) => name.Length == 0 ? null : Parameter(op, name, inputs);
                    resizer.Options = rs.Options(shape, Named(rs.ScalesInput), Named(rs.SizesInput));
                    // Storage of rank 3 and up is (planes, H, W) already (the class summary).
                    resizer.Run(input, output);
                    return [.. shape[..^2], output.H, output.W];
                }, resizer);
            case ReduceOp rd:
                var reduce = new GpuReduce(_context, rd.Kind);
                var regroup = new GpuStridedCopy(_context);
                GpuTensor? moved = null; // the regrouped copy, made on first use
                return new GpuOp((input, shape, output, inputs) =>
                {
                    int[] axes = rd.Axes(shape.Length, op.Inputs.Count > 1 && op.Inputs[1].Length > 0 ? Parameter(op, op.Inputs[1], inputs) : null);
                    int[] to = axes.Length == 0 ? shape : Reduce.OutputShape(shape, axes, rd.KeepDims);
                    if (axes.Length == 0)
                    {
                        reduce.Run(input, output, input.Length, 1, 1, Storage(to));
                        return to;
                    }
                    if (GpuReduce.Blocks(shape, axes) is (int outer, int count, int inner))
                    {
                        reduce.Run(input, output, outer, count, inner, Storage(to));
                        return to;
                    }
                    // Reduced axes with kept ones between them (MeanVarianceNormalization reduces (0, 2, 3)): one strided
                    // copy puts the kept axes first, in order, and the reduced ones after them; then one run per output.
                    int[] perm = [.. Enumerable.Range(0, shape.Length).Where(d => !axes.Contains(d)), .. axes];
                    StridedView view = Indexing.TransposeView(shape, perm);
                    moved ??= new GpuTensor(_context, label: $"{op.Output} regrouped");
                    regroup.Run(input, view, moved, Storage(view.Dims));
                    int reduced = axes.Aggregate(1, (p, a) => p * shape[a]);
                    reduce.Run(moved, output, input.Length / reduced, reduced, 1, Storage(to));
                    return to;
                }, new Owned(reduce, regroup, new Disposer(() => moved?.Dispose())));
            case ArgReduceOp ar:
                var arg = new GpuReduce(_context, ar.Kind, ar.SelectLast);
                return new GpuOp((input, shape, output, _) =>
                {
                    // One axis: always adjacent, so the blocks exist.
                    int axis = ar.AxisOf(shape.Length);
                    int[] to = Reduce.OutputShape(shape, [axis], ar.KeepDims);
                    (int outer, int count, int inner) = GpuReduce.Blocks(shape, [axis])!.Value;
                    arg.Run(input, output, outer, count, inner, Storage(to));
                    return to;
                }, arg);
            case DepthToSpaceOp d:
                var shuffler = new GpuDepthToSpace(_context, d.Block, d.ToSpace, d.Mode);
                return new GpuOp((input, shape, output, _) =>
                {
                    int[] to = d.OutputShape(shape);
                    shuffler.Run(input, output, shape[0], shape[1]);
                    return to;
                }, shuffler);
            case SoftmaxOp sm:
                var softmax = new GpuSoftmax(_context, sm.Log);
                return new GpuOp((input, shape, output, _) =>
                {
                    (int outer, int n, int inner) = sm.Blocks(shape);
                    softmax.Run(input, output, outer, n, inner);
                    return shape;
                }, softmax);
            case ReshapeOp r:
                return new GpuOp((input, shape, output, inputs) =>
                {
                    int[] to = r.OutputShape(shape, r.Target(r.AttributeShape is null ? Parameter(op, op.Inputs[1], inputs) : null));
                    Stacks.GpuStackOps.Copy(_context, input, output, Storage(to));
                    return to;
                });
            case IdentityOp:
                return new GpuOp((input, shape, output, _) =>
                {
                    Stacks.GpuStackOps.Copy(_context, input, output, Storage(shape));
                    return shape;
                });
            case GemmOp g:
                var gemm = new GpuGemm(_context) { Alpha = g.Alpha, Beta = g.Beta, TransA = g.TransA, TransB = g.TransB };
                return new GpuOp((input, shape, output, _) =>
                {
                    bool hasC = op.Inputs.Count > 2 && op.Inputs[2].Length > 0;
                    (int m, int n) = gemm.Run(input, shape, Tensor(op.Inputs[1]), ShapeOf(op.Inputs[1]),
                        hasC ? Tensor(op.Inputs[2]) : null, hasC ? ShapeOf(op.Inputs[2]) : null, output);
                    return [m, n];
                }, gemm);
            case FlattenOp f:
                return new GpuOp((input, shape, output, _) =>
                {
                    int[] flat = f.OutputShape(shape);
                    Stacks.GpuStackOps.Copy(_context, input, output, Storage(flat));
                    return flat;
                });
            case SqueezeOp sq:
                return new GpuOp((input, shape, output, inputs) =>
                {
                    int[] to = sq.OutputShape(shape, op.Inputs.Count > 1 && op.Inputs[1].Length > 0 ? Parameter(op, op.Inputs[1], inputs) : null);
                    Stacks.GpuStackOps.Copy(_context, input, output, Storage(to));
                    return to;
                });
            case CastOp cast:
                return new GpuOp((input, shape, output, _) =>
                {
                    if (!cast.KeepsValues)
                        throw new ConvGLException($"{op.Where}: on the GPU a map casts only to FLOAT or DOUBLE (values unchanged), not {OnnxReader.DataTypeName(cast.To)}; the CPU reference runs it");
                    Stacks.GpuStackOps.Copy(_context, input, output, Storage(shape));
                    return shape;
                });
            case TransposeOp tr:
                var transposer = new GpuStridedCopy(_context);
                return new GpuOp((input, shape, output, _) =>
                {
                    StridedView view = tr.View(shape);
                    transposer.Run(input, view, output, Storage(view.Dims));
                    return view.Dims;
                }, transposer);
            case SliceOp sl:
                var slicer = new GpuStridedCopy(_context);
                return new GpuOp((input, shape, output, inputs) =>
                {
                    StridedView view = Indexing.SliceView(shape, sl.Axes(shape, op.Inputs.Skip(1).Select(n => n.Length == 0 ? null : Parameter(op, n, inputs)).ToArray()));
                    return Sliced(op, slicer, input, view, output);
                }, slicer);
            case SplitOp sp:
                var splitter = new GpuStridedCopy(_context);
                return new GpuOp((input, shape, output, inputs) =>
                {
                    StridedView view = Indexing.SliceView(shape, sp.Axes(shape, op.Inputs.Count > 1 && op.Inputs[1].Length > 0 ? Parameter(op, op.Inputs[1], inputs) : null));
                    return Sliced(op, splitter, input, view, output);
                }, splitter);
            case GatherOp ga:
                var gatherer = new GpuStridedCopy(_context);
                return new GpuOp((input, shape, output, inputs) =>
                {
                    Tensor indices = Parameter(op, op.Inputs[1], inputs);
                    int axis = ga.AxisFor(shape.Length), n = shape[axis];
                    if (indices.Length > MaxGatherIndices)
                        throw new ConvGLException($"{op.Where}: on the GPU Gather takes up to {MaxGatherIndices} indices (one copy each), got {indices.Length}; the CPU reference takes any number");
                    int[] to = [.. shape[..axis], .. indices.Shape, .. shape[(axis + 1)..]];
                    if (to.Contains(0)) throw new EmptyOutputException(to);
                    (int c, int h, int w) = Storage(to);
                    output.Resize(c, h, w);
                    // Index j's slab: (outer, inner) from input offset index * inner, to output offset j * inner.
                    int outer = shape[..axis].Aggregate(1, (p, d) => p * d), inner = shape[(axis + 1)..].Aggregate(1, (p, d) => p * d);
                    for (int j = 0; j < indices.Length; j++)
                    {
                        long index = ExceptionFor(op, () => Indexing.GatherIndex(indices.Data[j], n, j));
                        StridedView view = outer == 1 ? new StridedView(index * inner, [inner], [1]) : new StridedView(index * inner, [outer, inner], [(long)n * inner, 1]);
                        gatherer.Copy(input, view, outer == 1 ? [1] : [(long)indices.Length * inner, 1], (long)j * inner, output);
                    }
                    return to;
                }, gatherer);
            case MatMulOp mm:
                var matmul = new GpuGemm(_context) { Alpha = 1f, Beta = 0f };
                var matrices = new BatchScratch(_context, op.Output);
                GpuTensor? product = null;
                return new GpuOp((input, shape, output, inputs) =>
                {
                    int[] bShape = ShapeOf(op.Inputs[1]);
                    GpuTensor b = Tensor(op.Inputs[1]);
                    (int[] to, int[] batch, int m, int k, int n) = mm.Shapes(shape, bShape);
                    if (to.Contains(0)) throw new EmptyOutputException(to);
                    if (bShape.Length <= 2 || bShape[..^2].All(d => d == 1))
                    {
                        // One B: A's leading dimensions are rows of one (rows * M, K) matrix, as its storage already holds them.
                        int rows = (int)(shape.Length > 2 ? shape[..^2].Aggregate(1L, (p, d) => p * d) : 1) * m;
                        matmul.Run(input, [rows, k], b, [k, n], null, null, output, Storage(to));
                        return to;
                    }
                    // Batches of B: each pair of matrices copied out, multiplied, copied into its place.
                    (GpuTensor a1, GpuTensor b1) = matrices.Get();
                    product ??= new GpuTensor(_context, label: $"{op.Output} batch product");
                    a1.Resize(1, m, k);
                    b1.Resize(1, k, n);
                    (int sc, int sh, int sw) = Storage(to);
                    output.Resize(sc, sh, sw);
                    int[] aBatch = shape.Length > 2 ? shape[..^2] : [], bBatch = bShape[..^2];
                    var index = new int[batch.Length];
                    long batches = batch.Aggregate(1L, (p, d) => p * d);
                    for (long t = 0; t < batches; t++)
                    {
                        ComputeOp.CopyFloats(_context.Gl, input, MatMulOp.BatchOffset(index, aBatch) * m * k, a1, 0, (long)m * k);
                        ComputeOp.CopyFloats(_context.Gl, b, MatMulOp.BatchOffset(index, bBatch) * k * n, b1, 0, (long)k * n);
                        matmul.Run(a1, [m, k], b1, [k, n], null, null, product);
                        ComputeOp.CopyFloats(_context.Gl, product, 0, output, t * m * n, (long)m * n);
                        for (int d = batch.Length - 1; d >= 0 && ++index[d] == batch[d]; d--) index[d] = 0;
                    }
                    return to;
                }, new Owned(matmul, matrices, new Disposer(() => product?.Dispose())));
            case LayerNormOp ln:
                var layerNorm = new GpuLayerNorm(_context, new LayerNorm([1f], [0f], 1e-5f));
                // What was spread over the row, by value (a graph input's scale changed in place is new parameters).
                (float[]? Scale, float[]? Shift, int[] Row) uploaded = (null, null, []);
                return new GpuOp((input, shape, output, inputs) =>
                {
                    // Scale and B spread over the row once, again only when they (or the row's shape) change.
                    Tensor scale = Parameter(op, op.Inputs[1], inputs);
                    Tensor? shift = op.Inputs.Count > 2 && op.Inputs[2].Length > 0 ? Parameter(op, op.Inputs[2], inputs) : null;
                    int[] row = shape[ln.AxisFor(shape.Length)..];
                    if (uploaded.Scale is null || !scale.Data.AsSpan().SequenceEqual(uploaded.Scale) || (shift is null) != (uploaded.Shift is null)
                        || (shift is not null && !shift.Data.AsSpan().SequenceEqual(uploaded.Shift)) || !row.AsSpan().SequenceEqual(uploaded.Row))
                    {
                        layerNorm.SetParameters(ln.Parameters(shape, scale, shift));
                        uploaded = ((float[])scale.Data.Clone(), (float[]?)shift?.Data.Clone(), row);
                    }
                    layerNorm.Run(input, output);
                    return shape;
                }, layerNorm);
            case ExpandOp ex:
                var expander = new GpuStridedCopy(_context);
                return new GpuOp((input, shape, output, inputs) =>
                    Sliced(op, expander, input, ex.View(shape, Parameter(op, op.Inputs[1], inputs)), output), expander);
            case TileOp ti:
                var tiler = new GpuStridedCopy(_context);
                return new GpuOp((input, shape, output, inputs) =>
                {
                    int[] repeats = ti.Repeats(shape, Parameter(op, op.Inputs[1], inputs));
                    int[] to = shape.Select((n, d) => n * repeats[d]).ToArray();
                    if (to.Contains(0)) throw new EmptyOutputException(to);
                    tiler.Run(input, Indexing.TileView(shape, repeats), output, Storage(to));
                    return to;
                }, tiler);
            case LayerNormStatOp st:
                var statistics = new GpuLayerNorm(_context, new LayerNorm([1f], [0f], st.Epsilon));
                return new GpuOp((input, shape, output, inputs) =>
                {
                    int axis = st.AxisFor(shape.Length), n = shape[axis..].Aggregate(1, (p, d) => p * d);
                    // The row's length changes only with the input's shape: new (unused) parameters then, not per run.
                    if (statistics.Length != n) statistics.SetParameters(new LayerNorm(new float[n], new float[n], st.Epsilon));
                    statistics.RunStatistic(input, output, st.InvStdDev);
                    return [.. shape[..axis], .. Enumerable.Repeat(1, shape.Length - axis)];
                }, statistics);
            default:
                throw new ConvGLException($"{op.Where}: no GPU implementation");
        }
    }

    private const int MaxGatherIndices = 4096;

    /// <summary>Runs <paramref name="f"/>; its error named after the op (once: a CPU op's own errors already start so).</summary>
    private static T ExceptionFor<T>(OnnxOp op, Func<T> f)
    {
        try
        {
            return f();
        }
        catch (ConvGLException e) when (!e.Message.StartsWith(op.Where, StringComparison.Ordinal))
        {
            throw new ConvGLException($"{op.Where}: {e.Message}", e);
        }
    }

    /// <summary>A Slice's or Split's view copied out; returns the output's shape.</summary>
    private static int[] Sliced(OnnxOp op, GpuStridedCopy copy, GpuTensor input, StridedView view, GpuTensor output)
    {
        if (view.Dims.Contains(0)) throw new EmptyOutputException(view.Dims);
        copy.Run(input, view, output, Storage(view.Dims));
        return view.Dims;
    }

    /// <summary>Runs an image op (a conv) over an (N, C, H, W) batch: N = 1 straight through, else image by image through
    /// two scratch tensors (made on first use, kept). Returns the output's (N, C', H', W'). Also two scratch tensors for
    /// ops that fold their inputs (<see cref="Get"/>).</summary>
    private sealed class BatchScratch(GlContext context, string label) : IDisposable
    {
        private GpuTensor? _in, _out;

        public (GpuTensor In, GpuTensor Out) Get() =>
            (_in ??= new GpuTensor(context, label: $"{label} batch image in"), _out ??= new GpuTensor(context, label: $"{label} batch image out"));

        public int[] Run(GpuTensor input, int[] shape, GpuTensor output, Action<GpuTensor, GpuTensor> run)
        {
            if (shape[0] == 1)
            {
                run(input, output);
                return [1, output.C, output.H, output.W];
            }
            (GpuTensor inImage, GpuTensor outImage) = Get();
            inImage.Resize(shape[1], shape[2], shape[3]);
            for (int n = 0; n < shape[0]; n++)
            {
                ComputeOp.CopyFloats(context.Gl, input, (long)n * inImage.Length, inImage, 0, inImage.Length);
                run(inImage, outImage);
                if (n == 0) output.Resize(shape[0] * outImage.C, outImage.H, outImage.W);
                ComputeOp.CopyFloats(context.Gl, outImage, 0, output, (long)n * outImage.Length, outImage.Length);
            }
            return [shape[0], outImage.C, outImage.H, outImage.W];
        }

        public void Dispose()
        {
            _in?.Dispose();
            _out?.Dispose();
        }
    }

    private sealed class Disposer(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }

    private sealed class Owned(params IDisposable[] owned) : IDisposable
    {
        public void Dispose()
        {
            foreach (IDisposable d in owned) d.Dispose();
        }
    }

    /// <summary>One graph op's work on the GPU: reads its first input's tensor (other inputs by name through the
    /// runner), writes its output tensor and returns the output's logical shape. <c>inputs</c> are the run's graph
    /// inputs, for parameters (a conv's weights, batchnorm statistics) that are not initializers. (The stack runner's
    /// <see cref="Stacks.IGpuStackOp"/> does not fit: a graph value's logical ONNX shape travels beside its storage.)</summary>
    private interface IGpuOnnxOp : IDisposable
    {
        int[] Run(GpuTensor input, int[] shape, GpuTensor output, IReadOnlyDictionary<string, Tensor> inputs);
    }

    private delegate int[] OpRun(GpuTensor input, int[] shape, GpuTensor output, IReadOnlyDictionary<string, Tensor> inputs);

    /// <summary>A graph op: the dispatch, and the GPU object it owns.</summary>
    private sealed class GpuOp(OpRun run, IDisposable? owned = null) : IGpuOnnxOp
    {
        public int[] Run(GpuTensor input, int[] shape, GpuTensor output, IReadOnlyDictionary<string, Tensor> inputs) => run(input, shape, output, inputs);

        public void Dispose() => owned?.Dispose();
    }

    public void Dispose()
    {
        foreach (IGpuOnnxOp? op in _ops) op?.Dispose();
        foreach (GpuTensor t in _tensors.Values) t.Dispose();
        _tensors.Clear();
    }
}
