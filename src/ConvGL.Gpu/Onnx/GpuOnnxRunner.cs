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
    private readonly object?[] _ops;
    private readonly List<IDisposable> _owned = [];

    public GpuOnnxRunner(GlContext context, OnnxGraph graph)
    {
        _context = context;
        _graph = graph;
        _ops = new object?[graph.Ops.Count];
        for (int i = 0; i < graph.Ops.Count; i++)
        {
            OnnxOp op = graph.Ops[i];
            object gpu = op switch
            {
                ConvOp c => new GpuConv2D(context, Constant(c.Inputs[1]) ?? new Tensor([1, 1, 1, 1]), BiasOf(c)),
                BatchNormOp b => new GpuChannelAffine(context, BatchNorm.FromAffine([1f], [0f])),
                PoolOp p => new GpuPaddedPool2D(context, p.Options(Math.Max(p.Spatial.KernelY, 1), Math.Max(p.Spatial.KernelX, 1))),
                GlobalAveragePoolOp => new GpuGlobalAveragePool(context),
                ActivationOp a => new GpuActivation(context, a.Kind, a.Slope),
                AddOp => new GpuAdd(context),
                GemmOp g => new GpuGemm(context) { Alpha = g.Alpha, Beta = g.Beta, TransA = g.TransA, TransB = g.TransB },
                FlattenOp => new object(),
                _ => throw new ConvGLException($"{op.Where}: no GPU implementation"),
            };
            _ops[i] = gpu;
            if (gpu is IDisposable d) _owned.Add(d);
            // Data inputs that are initializers (an Add's constant, Gemm's B and C) live on the GPU from now on.
            foreach (string name in op.Inputs)
                if (name.Length > 0 && !_constants.Contains(name) && op is AddOp or GemmOp && graph.Initializers.TryGetValue(name, out Tensor? t))
                {
                    _constants.Add(name);
                    Store(name, t);
                }
        }
        foreach (OnnxValueInfo o in graph.Outputs)
            if (graph.Initializers.ContainsKey(o.Name) && graph.Ops.All(op => op.Output != o.Name) && graph.Inputs.All(i => i.Name != o.Name))
                _constantOutputs.Add(o.Name);
    }

    private Tensor? Constant(string name) => _graph.Initializers.GetValueOrDefault(name);

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
        foreach (OnnxValueInfo i in _graph.Inputs)
        {
            if (!inputs.TryGetValue(i.Name, out Tensor? t))
                throw new ConvGLException($"{_graph.Model.Source}: graph input '{i.Name}' {i.ShapeString} was not given");
            _graph.CheckInputShape(i, t);
            Store(i.Name, t);
        }
        for (int k = 0; k < _ops.Length; k++) RunOp(_graph.Ops[k], _ops[k]!, inputs);

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        IEnumerable<string> names = downloadAll ? _graph.Ops.Select(o => o.Output) : _graph.Outputs.Select(o => o.Name);
        foreach (string name in names)
            result[name] = _constantOutputs.Contains(name) ? _graph.Initializers[name] : Tensor(name).Download().Reshape(ShapeOf(name));
        return result;
    }

    /// <summary>A CPU tensor for a parameter input (conv weight, batchnorm statistics): an initializer or a graph input.</summary>
    private Tensor Parameter(OnnxOp op, string name, IReadOnlyDictionary<string, Tensor> inputs) =>
        _graph.Initializers.GetValueOrDefault(name) ?? inputs.GetValueOrDefault(name)
        ?? throw new ConvGLException($"{op.Where}: on the GPU, input '{name}' must be an initializer or a graph input (it is computed by the graph)");

    private void RunOp(OnnxOp op, object gpu, IReadOnlyDictionary<string, Tensor> inputs)
    {
        string x = op.Inputs[0];
        int[] shape = ShapeOf(x);
        GpuTensor input = Tensor(x), output = Tensor(op.Output);
        try
        {
            switch (op, gpu)
            {
                case (ConvOp c, GpuConv2D conv):
                    if (shape.Length != 4 || shape[0] != 1) throw new ConvGLException($"{op.Where}: the GPU conv runs (1, C, H, W) inputs, got ({string.Join(", ", shape)})");
                    if (!_graph.Initializers.ContainsKey(c.Inputs[1]))
                    {
                        Tensor w = Parameter(op, c.Inputs[1], inputs);
                        c.CheckWeight(w);
                        conv.SetWeights(w, c.Inputs.Count > 2 && c.Inputs[2].Length > 0 ? Parameter(op, c.Inputs[2], inputs).Data : null);
                    }
                    conv.Options = c.Options(shape[2], shape[3]);
                    conv.Run(input, output);
                    _shapes[op.Output] = [1, output.C, output.H, output.W];
                    break;
                case (BatchNormOp b, GpuChannelAffine affine):
                    if (shape.Length < 2) throw new ConvGLException($"{op.Where}: input ({string.Join(", ", shape)}) has no channel dimension");
                    affine.SetParameters(b.Parameters([null, .. op.Inputs.Skip(1).Select(n => Parameter(op, n, inputs))]));
                    if (affine.Channels != shape[1]) throw new ConvGLException($"{op.Where}: {affine.Channels} channels of statistics for an input of {shape[1]}");
                    affine.Run(input, output, (int)shape[2..].Aggregate(1L, (a, d) => a * d));
                    _shapes[op.Output] = shape;
                    break;
                case (PoolOp p, GpuPaddedPool2D pool):
                    if (shape.Length != 4) throw new ConvGLException($"{op.Where}: input must be (N, C, H, W), got ({string.Join(", ", shape)})");
                    pool.Options = p.Options(shape[2], shape[3]);
                    pool.Run(input, output);
                    _shapes[op.Output] = [shape[0], shape[1], output.H, output.W];
                    break;
                case (GlobalAveragePoolOp, GpuGlobalAveragePool global):
                    if (shape.Length != 4) throw new ConvGLException($"{op.Where}: input must be (N, C, H, W), got ({string.Join(", ", shape)})");
                    global.Run(input, output);
                    _shapes[op.Output] = [shape[0], shape[1], 1, 1];
                    break;
                case (ActivationOp, GpuActivation activation):
                    activation.Run(input, output);
                    _shapes[op.Output] = shape;
                    break;
                case (AddOp, GpuAdd add):
                    int[] bShape = ShapeOf(op.Inputs[1]);
                    int[] sum = Elementwise.BroadcastShape(shape, bShape, "add");
                    _shapes[op.Output] = add.Run(input, shape, Tensor(op.Inputs[1]), bShape, output, Storage(sum));
                    break;
                case (GemmOp, GpuGemm gemm):
                    bool hasC = op.Inputs.Count > 2 && op.Inputs[2].Length > 0;
                    (int m, int n) = gemm.Run(input, shape, Tensor(op.Inputs[1]), ShapeOf(op.Inputs[1]),
                        hasC ? Tensor(op.Inputs[2]) : null, hasC ? ShapeOf(op.Inputs[2]) : null, output);
                    _shapes[op.Output] = [m, n];
                    break;
                case (FlattenOp f, _):
                    int[] flat = f.OutputShape(shape);
                    Stacks.GpuStackOps.Copy(_context, input, output, Storage(flat));
                    _shapes[op.Output] = flat;
                    break;
                default:
                    throw new InvalidOperationException($"{op.Where}: GPU op {gpu.GetType().Name} does not match");
            }
        }
        catch (ConvGLException e) when (!e.Message.StartsWith(op.Where, StringComparison.Ordinal))
        {
            throw new ConvGLException($"{op.Where}: {e.Message}", e);
        }
    }

    public void Dispose()
    {
        foreach (IDisposable d in _owned) d.Dispose();
        foreach (GpuTensor t in _tensors.Values) t.Dispose();
        _tensors.Clear();
    }
}
