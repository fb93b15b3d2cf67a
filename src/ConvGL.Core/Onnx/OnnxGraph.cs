using ConvGL.Core.Ops;

namespace ConvGL.Core.Onnx;

/// <summary>ConvGL's model of an ONNX graph: the nodes as checked <see cref="OnnxOp"/>s in run order, each reading
/// named values (graph inputs, initializers, earlier outputs) and producing one. Building it rejects, with one
/// error naming the node, its op_type and what is supported, every op, attribute, extra output or element type
/// ConvGL cannot run, so a graph that builds runs. A BatchNormalization right after a Conv whose output nothing
/// else reads is folded into that Conv's weight and bias (the map between them is then not observable).</summary>
public sealed class OnnxGraph
{
    /// <summary>The op_types ConvGL runs (default domain).</summary>
    public static readonly IReadOnlyList<string> SupportedOps =
        ["Conv", "ConvTranspose", "BatchNormalization", "InstanceNormalization", "GroupNormalization", "LRN", "MaxPool", "AveragePool", "GlobalAveragePool",
         "GlobalMaxPool", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Abs",
         "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp", "ReduceProd", "ArgMax", "ArgMin",
         "Elu", "Selu", "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Celu", "ThresholdedRelu", "Mish", "Gelu", "Clip",
         "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Sign", "PRelu", "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Concat", "Pad", "Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "Flatten", "Reshape", "Gemm", "Softmax", "LogSoftmax", "Identity", "Dropout", "Constant",
         "Shape", "Gather", "Unsqueeze", "Squeeze", "Cast", "ConstantOfShape", "Slice", "Split", "Transpose", "MatMul", "Erf",
         "LayerNormalization", "Expand", "Tile"];

    private const int FloatType = 1, Integer32Type = 6, IntegerType = 7;

    public OnnxModel Model { get; }
    public IReadOnlyList<OnnxOp> Ops { get; }
    /// <summary>The model's initializers plus the weights folding created.</summary>
    public IReadOnlyDictionary<string, Tensor> Initializers { get; }
    public IReadOnlyList<OnnxValueInfo> Inputs => Model.Inputs;
    public IReadOnlyList<OnnxValueInfo> Outputs => Model.Outputs;

    private OnnxGraph(OnnxModel model, IReadOnlyList<OnnxOp> ops, IReadOnlyDictionary<string, Tensor> initializers)
    {
        Model = model;
        Ops = ops;
        Initializers = initializers;
    }

    public static OnnxGraph Load(string path, bool foldBatchNorm = true) => Build(OnnxReader.Load(path), foldBatchNorm);

    // Ops whose stored inputs are weights (never sizes or indices).
    private static readonly HashSet<string> s_weightOps = new(StringComparer.Ordinal)
    {
        "Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "InstanceNormalization", "GroupNormalization", "LayerNormalization", "PRelu",
    };

    public static OnnxGraph Build(OnnxModel model, bool foldBatchNorm = true)
    {
        string src = model.Source;
        var defined = new HashSet<string>(model.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        defined.UnionWith(model.Initializers.Keys);
        var ops = new List<OnnxOp>(model.Nodes.Count);
        var initializers = new Dictionary<string, Tensor>(model.Initializers, StringComparer.Ordinal);
        // The Constant node each Constant-made value came from, for messages.
        var constants = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        // Stored values of integer type (initializers and Constant nodes), by name, with their ONNX element type.
        var integers = new Dictionary<string, int>(model.IntegerInitializers, StringComparer.Ordinal);
        // Every value something reads (a node, or the graph as an output).
        var read = new HashSet<string>(model.Nodes.SelectMany(n => n.Inputs).Concat(model.Outputs.Select(o => o.Name)), StringComparer.Ordinal);
        foreach (OnnxNode node in model.Nodes)
        {
            var a = new NodeAttributes(node, src);
            if (node.Domain is not ("" or "ai.onnx"))
                throw a.Error($"domain '{node.Domain}' is not supported (supported: the default ONNX domain)");
            // Every input defined before the op reads it (the hostile-input audit: a Conv whose weight 'w' was defined
            // nowhere was told "attribute 'kernel_shape' is required", its reader taking the weight for a computed one).
            foreach (string input in node.Inputs)
                if (input.Length > 0 && !defined.Contains(input))
                    throw a.Error($"input '{ErrorText.Echo(input)}' is neither a graph input, an initializer nor the output of an earlier node (ONNX requires nodes in topological order)");
            // Weights are floats: integers are sizes, axes and indices (the fuzz audit's INT64 Conv weight ran as floats).
            if (s_weightOps.Contains(node.OpType) &&
                node.Inputs.FirstOrDefault(i => integers.ContainsKey(i)) is { } integer)
                throw a.Error($"input '{ErrorText.Echo(integer)}' is stored as {OnnxReader.DataTypeName(integers[integer])}; " +
                              $"{node.OpType} takes float weights (FLOAT, DOUBLE or FLOAT16): export the model again");
            if (node.OpType == "Constant")
            {
                // A Constant is a stored tensor written as a node: it becomes an initializer.
                Tensor value = ReadConstant(a, node);
                if (!defined.Add(node.Outputs[0])) throw a.Error($"output '{node.Outputs[0]}' is defined twice");
                initializers[node.Outputs[0]] = value;
                // An integer constant is a size, axes or indices, never a weight (the review: an INT64 Constant fed to a
                // Conv's weight ran as floats).
                int type = node.Attributes.TryGetValue("value", out OnnxAttribute? tv) ? tv.TensorType
                    : node.Attributes.ContainsKey("value_int") || node.Attributes.ContainsKey("value_ints") ? 7 : 1;
                if (type is not (0 or 1 or 10 or 11)) integers[node.Outputs[0]] = type;
                constants[node.Outputs[0]] = node;
                continue;
            }
            // A node of several outputs becomes one op per output: a Split's slices, LayerNormalization's Y, Mean, InvStdDev.
            IEnumerable<OnnxOp>? several = node.OpType switch
            {
                "Split" => SplitOp.Read(node, a),
                "LayerNormalization" when node.Outputs.Count > 1 => LayerNormStatOp.ReadAll(node, src),
                _ => null,
            };
            if (several is not null)
            {
                foreach (OnnxOp piece in several) Add(piece, a);
                continue;
            }
            CheckWeightShape(node, a, initializers);
            OnnxOp op = node.OpType switch
            {
                "Conv" => ConvOp.Read(node, a, node.Inputs.Count > 1 ? model.Initializers.GetValueOrDefault(node.Inputs[1]) : null),
                "ConvTranspose" => ConvTransposeOp.Read(node, a, node.Inputs.Count > 1 ? initializers.GetValueOrDefault(node.Inputs[1]) : null),
                "BatchNormalization" => BatchNormOp.Read(node, a),
                "InstanceNormalization" => InstanceNormOp.Read(node, a),
                "GroupNormalization" => GroupNormalizationOp.Read(node, a, model.Opset),
                "LRN" => LrnOp.Read(node, a),
                "MaxPool" => PoolOp.Read(node, a, PoolKind.Max),
                "AveragePool" => PoolOp.Read(node, a, PoolKind.Average),
                "GlobalAveragePool" => GlobalAveragePoolOp.Read(node, a),
                "GlobalMaxPool" or "ReduceMean" or "ReduceSum" or "ReduceMax" or "ReduceMin" => ReduceOp.Read(node, a),
                "ReduceL1" or "ReduceL2" or "ReduceSumSquare" or "ReduceLogSum" or "ReduceLogSumExp" or "ReduceProd" => ReduceOp.Read(node, a),
                "ArgMax" or "ArgMin" => ArgReduceOp.Read(node, a),
                "Relu" => ActivationOp.Read(node, a, ActivationKind.Relu),
                "LeakyRelu" => ActivationOp.Read(node, a, ActivationKind.LeakyRelu),
                "Sigmoid" => ActivationOp.Read(node, a, ActivationKind.Sigmoid),
                "Tanh" => ActivationOp.Read(node, a, ActivationKind.Tanh),
                "Abs" => ActivationOp.Read(node, a, ActivationKind.Abs),
                "Elu" => ActivationOp.Read(node, a, ActivationKind.Elu),
                "Selu" => ActivationOp.Read(node, a, ActivationKind.Selu),
                "HardSigmoid" => ActivationOp.Read(node, a, ActivationKind.HardSigmoid),
                "HardSwish" => ActivationOp.Read(node, a, ActivationKind.HardSwish),
                "Softplus" => ActivationOp.Read(node, a, ActivationKind.Softplus),
                "Softsign" => ActivationOp.Read(node, a, ActivationKind.Softsign),
                "Celu" => ActivationOp.Read(node, a, ActivationKind.Celu),
                "ThresholdedRelu" => ActivationOp.Read(node, a, ActivationKind.ThresholdedRelu),
                "Mish" => ActivationOp.Read(node, a, ActivationKind.Mish),
                "Gelu" => ActivationOp.ReadGelu(node, a),
                "Clip" => ClipOp.Read(node, a),
                "Neg" => UnaryOp.Read(node, a, UnaryKind.Neg),
                "Exp" => UnaryOp.Read(node, a, UnaryKind.Exp),
                "Log" => UnaryOp.Read(node, a, UnaryKind.Log),
                "Sqrt" => UnaryOp.Read(node, a, UnaryKind.Sqrt),
                "Reciprocal" => UnaryOp.Read(node, a, UnaryKind.Reciprocal),
                "Floor" => UnaryOp.Read(node, a, UnaryKind.Floor),
                "Ceil" => UnaryOp.Read(node, a, UnaryKind.Ceil),
                "Sign" => UnaryOp.Read(node, a, UnaryKind.Sign),
                "PRelu" => BinaryOp.Read(node, a, BinaryKind.PRelu, model.Opset),
                "Add" => BinaryOp.Read(node, a, BinaryKind.Add, model.Opset),
                "Sub" => BinaryOp.Read(node, a, BinaryKind.Sub, model.Opset),
                "Mul" => BinaryOp.Read(node, a, BinaryKind.Mul, model.Opset),
                "Div" => BinaryOp.Read(node, a, BinaryKind.Div, model.Opset),
                "Pow" => BinaryOp.Read(node, a, BinaryKind.Pow, model.Opset),
                "Max" or "Min" or "Sum" or "Mean" => VariadicOp.Read(node, a),
                "Concat" => ConcatOp.Read(node, a),
                "Pad" => PadOp.Read(node, a),
                "Softmax" or "LogSoftmax" => SoftmaxOp.Read(node, a, model.Opset),
                "Reshape" => ReshapeOp.Read(node, a),
                "DepthToSpace" or "SpaceToDepth" => DepthToSpaceOp.Read(node, a),
                "Resize" or "Upsample" => ResizeOp.Read(node, a, model.Opset),
                "Identity" or "Dropout" => IdentityOp.Read(node, a, initializers, read),
                "Flatten" => FlattenOp.Read(node, a),
                "Gemm" => GemmOp.Read(node, a),
                "MatMul" => MatMulOp.Read(node, a),
                "Shape" => ShapeOp.Read(node, a),
                "Gather" => GatherOp.Read(node, a),
                "Unsqueeze" or "Squeeze" => SqueezeOp.Read(node, a),
                "Cast" => CastOp.Read(node, a),
                "ConstantOfShape" => ConstantOfShapeOp.Read(node, a),
                "Slice" => SliceOp.Read(node, a),
                "Transpose" => TransposeOp.Read(node, a),
                "Erf" => UnaryOp.Read(node, a, UnaryKind.Erf),
                "LayerNormalization" => LayerNormOp.Read(node, a),
                "Expand" => ExpandOp.Read(node, a),
                "Tile" => TileOp.Read(node, a),
                _ => throw a.Error($"op {ErrorText.Echo(node.OpType)} is not supported (supported: {string.Join(", ", SupportedOps)}){Hint(node.OpType)}{Others(model, node.OpType)}"),
            };
            Add(op, a);
        }

        void Add(OnnxOp op, NodeAttributes a)
        {
            foreach (string input in op.Inputs)
                if (input.Length > 0 && !defined.Contains(input))
                    throw a.Error($"input '{ErrorText.Echo(input)}' is neither a graph input, an initializer nor the output of an earlier node (ONNX requires nodes in topological order)");
            if (!defined.Add(op.Output)) throw a.Error($"output '{ErrorText.Echo(op.Output)}' is defined twice");
            // The converse of the weights' rule: sizes, axes and indices are integers in ONNX (a review: a Reshape's shape
            // stored as FLOAT ran, where ONNX Runtime refuses the model). A computed value (Shape, Cast) is checked by its op.
            foreach (string input in op.IntegerInputs)
                if (input.Length > 0 && initializers.ContainsKey(input) && !integers.ContainsKey(input))
                    throw a.Error($"input '{ErrorText.Echo(input)}' is stored as a floating-point tensor; {op.Node.OpType} takes INT64 there (sizes, axes and indices are integers): export the model again");
            ops.Add(op);
        }

        MarkIntegerDivisions(ops, integers.Keys);
        var folded = new Dictionary<string, OnnxOp>(StringComparer.Ordinal);
        ops = FoldConstants(ops, initializers, model.Inputs, folded);
        foreach (OnnxOp op in ops) CheckConstants(op, initializers, constants, folded);
        // Stored statistics are checked once here, for a graph run as for a stack (a run's fed statistics are its data).
        foreach (BatchNormOp bn in ops.OfType<BatchNormOp>())
            if (bn.Inputs.Skip(1).All(initializers.ContainsKey)) bn.StoredParameters([null, .. bn.Inputs.Skip(1).Select(n => initializers[n])]);
        HashSet<string> host = HostValuesOf(ops, initializers, model.Inputs);
        // After the nodes, so an unsupported node (MaxPool's INT64 Indices output, say) is named first. Integers arrive
        // converted to float32 (exact to 2^24): an integer graph input is fine where only integer parameters (Pad's pads,
        // Reshape's shape) or shape arithmetic read it, an integer graph output where shape arithmetic or an ArgMax / ArgMin
        // (indices) computes it.
        var indices = ops.OfType<ArgReduceOp>().Select(op => op.Output).ToHashSet(StringComparer.Ordinal);
        foreach (OnnxValueInfo v in model.Inputs.Concat(model.Outputs))
            if (v.ElemType is not (0 or FloatType)
                && !(v.ElemType is IntegerType or Integer32Type && (host.Contains(v.Name) || indices.Contains(v.Name))))
                throw new ConvGLException($"{src}: graph value '{v.Name}' has element type {OnnxReader.DataTypeName(v.ElemType)}; ConvGL runs FLOAT (float32) models only");
        foreach (OnnxValueInfo o in model.Outputs)
            if (!defined.Contains(o.Name)) throw new ConvGLException($"{src}: graph output '{o.Name}' is produced by no node");

        if (foldBatchNorm) ops = FoldBatchNorms(ops, initializers, model.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal));
        return new OnnxGraph(model, ops, initializers) { HostValues = HostValuesOf(ops, initializers, model.Inputs) };
    }

    /// <summary>Values computed from shapes and stored constants only (<see cref="ShapeOp"/> and the small ops after it:
    /// x.view(x.size(0), -1)'s Shape -> Gather -> Unsqueeze -> Concat), the stored constants themselves, and graph inputs
    /// read only as integer parameters. The GPU runner computes these on the CPU, where they are a few numbers.</summary>
    public IReadOnlySet<string> HostValues { get; private init; } = new HashSet<string>();

    /// <summary>Ops that may run on the CPU inside a GPU run when all they read is known there (cheap, shape-sized work).</summary>
    public static bool IsHostOp(OnnxOp op) => op is ShapeOp or GatherOp or SqueezeOp or CastOp or ConstantOfShapeOp or SliceOp or SplitOp
        or ConcatOp or ReshapeOp or IdentityOp or BinaryOp or VariadicOp or UnaryOp or TransposeOp or FlattenOp or ExpandOp or TileOp;

    /// <summary>Which values are integers (stored ones, Shape's output, a Cast to an integer type, and what the ops that
    /// keep their input's type make of integers), so that a Div of two integers truncates as ONNX's does (ConvGL holds
    /// every value as float: sums and products of sizes are exact, quotients are not).</summary>
    private static void MarkIntegerDivisions(List<OnnxOp> ops, IEnumerable<string> storedIntegers)
    {
        var integer = new HashSet<string>(storedIntegers, StringComparer.Ordinal);
        foreach (OnnxOp op in ops)
        {
            bool isInteger = op switch
            {
                ShapeOp or ArgReduceOp => true,
                CastOp cast => cast.To is 2 or 3 or 4 or 5 or 6 or 7 or 12 or 13,
                BinaryOp or VariadicOp or ConcatOp or GatherOp or SliceOp or SqueezeOp or ReshapeOp or IdentityOp or ExpandOp or TileOp or SplitOp
                    or TransposeOp or UnaryOp { Kind: UnaryKind.Neg } or ActivationOp { Kind: ActivationKind.Abs } =>
                    op.Inputs.Count > 0 && integer.Contains(op.Inputs[0]),
                _ => false,
            };
            if (!isInteger) continue;
            integer.Add(op.Output);
            if (op is BinaryOp { Kind: BinaryKind.Div } div && integer.Contains(op.Inputs[1])) div.IntegerDivision = true;
        }
    }

    private static HashSet<string> HostValuesOf(List<OnnxOp> ops, IReadOnlyDictionary<string, Tensor> initializers, IReadOnlyList<OnnxValueInfo> inputs)
    {
        var host = new HashSet<string>(initializers.Keys, StringComparer.Ordinal);
        foreach (OnnxValueInfo i in inputs)
        {
            var readers = ops.Where(op => op.Inputs.Contains(i.Name)).ToList();
            if (readers.Count > 0 && readers.All(op => op.IntegerInputs.Contains(i.Name) && !op.Inputs.Except(op.IntegerInputs).Contains(i.Name)))
                host.Add(i.Name);
            else
                host.Remove(i.Name); // a graph input overrides an initializer of its name
        }
        foreach (OnnxOp op in ops)
            if (op is ShapeOp || (IsHostOp(op) && op.Inputs.All(n => n.Length == 0 || host.Contains(n))))
                host.Add(op.Output);
        return host;
    }

    /// <summary>Constant folding: an op of <see cref="IsHostOp"/>'s kinds whose inputs are all stored constants (a weight
    /// reshaped or cast, a Constant node's shape arithmetic) runs now, once, and its result becomes an initializer.</summary>
    private static List<OnnxOp> FoldConstants(List<OnnxOp> ops, Dictionary<string, Tensor> initializers, IReadOnlyList<OnnxValueInfo> inputs,
        Dictionary<string, OnnxOp> folded)
    {
        var graphInputs = inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        bool Known(string n) => n.Length == 0 || (initializers.ContainsKey(n) && !graphInputs.Contains(n));
        var kept = new List<OnnxOp>(ops.Count);
        long held = 0; // the folded values together: capped as a run's values are (CheckHeld)
        foreach (OnnxOp op in ops)
        {
            if (op is ShapeOp || !IsHostOp(op) || !op.Inputs.All(Known))
            {
                kept.Add(op);
                continue;
            }
            Tensor?[] args = op.Inputs.Select(n => n.Length == 0 ? null : initializers[n]).ToArray();
            try
            {
                initializers[op.Output] = RunCounted(op, args, ref held);
                folded[op.Output] = op;
            }
            catch (ConvGLException e) when (!e.Message.StartsWith(op.Where, StringComparison.Ordinal))
            {
                throw new ConvGLException($"{op.Where}: {e.Message}", e);
            }
        }
        return kept;
    }

    /// <summary>The model's other unsupported op types, so one error tells the whole story: "; the model also uses
    /// these unsupported ops: Range (2 nodes), Where".</summary>
    private static string Others(OnnxModel model, string first)
    {
        var others = model.Nodes.Where(n => n.OpType != first && !SupportedOps.Contains(n.OpType) && n.Domain is "" or "ai.onnx")
            .GroupBy(n => n.OpType).Select(g => g.Count() == 1 ? ErrorText.Echo(g.Key) : $"{ErrorText.Echo(g.Key)} ({g.Count()} nodes)").ToList();
        return others.Count == 0 ? "" : $"; the model also uses these unsupported ops: {string.Join(", ", others)}";
    }

    /// <summary>What to do about an unsupported op a PyTorch export often brings.</summary>
    private static string Hint(string op) => op switch
    {
        "Range" or "Where" or "Equal" or "NonZero" =>
            "; if it computes sizes (PyTorch exports do this for a free input size): export with a fixed input size and do_constant_folding=True (ConvGL runs Shape, Gather, Slice, Unsqueeze, Concat and Cast on sizes)",
        _ => "",
    };

    /// <summary>A Constant node's tensor: its <c>value</c> (any element type the reader converts to float32),
    /// <c>value_float</c> / <c>value_floats</c> or <c>value_int</c> / <c>value_ints</c>.</summary>
    private static Tensor ReadConstant(NodeAttributes a, OnnxNode node)
    {
        a.CheckArity(0, 0);
        var found = new List<Tensor>();
        if (node.Attributes.TryGetValue("value", out OnnxAttribute? v))
            found.Add(v.Kind == OnnxAttributeKind.Tensor ? v.T! : throw a.Error($"attribute 'value' must be TENSOR, the file has {v.Kind.ToString().ToUpperInvariant()}"));
        // An infinity may be a Clip bound or a Pad fill: its reader decides (CheckConstants). NaN is nobody's value.
        float f = a.Float("value_float", float.NaN, infinite: true);
        if (node.Attributes.ContainsKey("value_float")) found.Add(new Tensor([], [f]));
        if (a.Ints("value_ints") is { } ints) found.Add(new Tensor([ints.Length], ints.Select(i => (float)i).ToArray()));
        long i1 = a.Int("value_int", 0);
        if (node.Attributes.ContainsKey("value_int")) found.Add(new Tensor([], [i1]));
        if (node.Attributes.TryGetValue("value_floats", out OnnxAttribute? fs))
            found.Add(fs.Kind == OnnxAttributeKind.Floats ? new Tensor([fs.Floats.Length], fs.Floats) : throw a.Error("attribute 'value_floats' must be FLOATS"));
        a.Ignore("value");
        a.Ignore("value_floats");
        a.Finish();
        if (found.Count != 1) throw a.Error($"needs exactly one of value, value_float, value_floats, value_int, value_ints (has {found.Count})");
        if (Array.FindIndex(found[0].Data, float.IsNaN) is int i and >= 0)
            throw a.Error($"its value holds NaN at flat index {i}; the weights and constants a model stores must be finite: export the model again");
        return found[0];
    }

    /// <summary>Replaces Conv -> BatchNormalization pairs by one Conv with folded weights, where every parameter is an
    /// initializer and the Conv's output feeds only the BatchNormalization (and is no graph output).</summary>
    private static List<OnnxOp> FoldBatchNorms(List<OnnxOp> ops, Dictionary<string, Tensor> initializers, HashSet<string> graphOutputs)
    {
        var readers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (OnnxOp op in ops)
            foreach (string i in op.Inputs)
                if (i.Length > 0) readers[i] = readers.GetValueOrDefault(i) + 1;
        var producers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < ops.Count; i++) producers[ops[i].Output] = i;

        var result = new List<OnnxOp?>(ops);
        for (int i = 0; i < ops.Count; i++)
        {
            if (ops[i] is not BatchNormOp bn) continue;
            if (!producers.TryGetValue(bn.Inputs[0], out int ci) || result[ci] is not ConvOp conv) continue;
            if (conv.Spatial.OneD) continue; // a 1D conv's batchnorm runs on its own (the fold takes 2D weights)
            if (readers[conv.Output] != 1 || graphOutputs.Contains(conv.Output)) continue;
            bool hasBias = conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0;
            if (!initializers.TryGetValue(conv.Inputs[1], out Tensor? w)) continue;
            Tensor? b = null;
            if (hasBias && !initializers.TryGetValue(conv.Inputs[2], out b)) continue;
            if (!bn.Inputs.Skip(1).All(initializers.ContainsKey)) continue;
            conv.CheckWeight(w);
            BatchNorm norm = bn.StoredParameters([null, .. bn.Inputs.Skip(1).Select(n => initializers[n])]);
            if (b is not null && b.Length != w.Shape[0]) continue;
            if (norm.Channels != w.Shape[0]) continue;
            (Tensor fw, float[] fb) = norm.FoldIntoConv(w, b?.Data);
            // Finite statistics and a finite weight can still overflow float32 once multiplied.
            if (fw.FirstNonFinite() is int at and >= 0)
                throw new ConvGLException($"{bn.Where}: folded into node '{ErrorText.Echo(conv.Node.Label)}' (Conv) it makes weight entry {at} {fw.Data[at]} " +
                                          $"(scale / sqrt(var + epsilon) times the conv's weight is beyond float32); fix the statistics or export the model again");
            if (Array.FindIndex(fb, v => !float.IsFinite(v)) is int bt and >= 0)
                throw new ConvGLException($"{bn.Where}: folded into node '{ErrorText.Echo(conv.Node.Label)}' (Conv) it makes bias entry {bt} {fb[bt]} " +
                                          $"(beyond float32); fix the statistics or export the model again");
            // Named after the conv's node where that names nothing else ("Convolution249.weight", as PyTorch names a
            // module's tensors): a stack file written from the model (convgl convert) reads as the network does, and
            // its maps are named after the node.
            (string wName, string bName) = conv.Node.Name is { Length: > 0 } node && !initializers.ContainsKey(node + ".weight") && !initializers.ContainsKey(node + ".bias")
                ? (node + ".weight", node + ".bias")
                : (bn.Output + "::folded_weight", bn.Output + "::folded_bias");
            initializers[wName] = fw;
            initializers[bName] = new Tensor([fb.Length], fb);
            result[ci] = null;
            result[i] = new ConvOp(conv.Node, conv.Where, [conv.Inputs[0], wName, bName], bn.Output, conv.Spatial, conv.Groups);
        }
        return result.OfType<OnnxOp>().ToList();
    }

    /// <summary>Runs the graph on the CPU reference ops. Returns every value computed, by name (so intermediate maps
    /// are observable), the graph inputs included.</summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs)
    {
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (OnnxValueInfo i in Inputs)
        {
            if (!inputs.TryGetValue(i.Name, out Tensor? t))
                throw new ConvGLException($"{Model.Source}: graph input '{i.Name}' {i.ShapeString} was not given");
            CheckInputShape(i, t);
            values[i.Name] = t;
        }
        long held = values.Values.Sum(v => (long)v.Length);
        foreach (OnnxOp op in Ops)
        {
            IReadOnlyList<Tensor?> args = Resolve(op, values);
            // Checked before the output is allocated where its size is known: an element-wise op's is its input's, and
            // ops that compute a size check it against the room left (Tensor.AllocationRoom). (A review: a Resize to 23000x23000
            // and two Relus peaked at 6 GB before the error, the cap passed by a whole value.)
            if (op is ActivationOp or UnaryOp && args is [{ } first, ..]) CheckHeld(op, held + first.Length);
            values[op.Output] = RunCounted(op, args, ref held);
        }
        // ONNX lets a graph output name an initializer (a constant output): it is returned as stored.
        foreach (OnnxValueInfo o in Outputs)
            if (!values.ContainsKey(o.Name) && Initializers.TryGetValue(o.Name, out Tensor? constant))
                values[o.Name] = constant;
        return values;
    }

    /// <summary>Runs <paramref name="op"/> with the room left beside the <paramref name="held"/> values (<see cref="Tensor.AllocationRoom"/>),
    /// so that an op refuses before it allocates past the cap: one that computes its output's size says so with the
    /// shape, and any other tensor it asks for is refused by <see cref="Tensor.AllocationRoom"/> (a broadcast Add of a
    /// (40000, 1) and a (1, 40000) constant, a Pad of 30000 a side, a Resize by 10000: each allocated its output first).
    /// Every place that runs ops on values runs them so: a graph run, the load's folding, the import's shape arithmetic and
    /// the GPU runner's host ops.</summary>
    public static Tensor RunHolding(OnnxOp op, IReadOnlyList<Tensor?> args, long held)
    {
        Tensor.AllocationRoom = Math.Min(ValuesCap - held, Limits.StackMapValues);
        try
        {
            return op.Run(args);
        }
        catch (AllocationRoomException e)
        {
            string what = $"{op.Where}: a value of shape {Tensor.ShapeText(e.Shape)} it computes";
            throw new ConvGLException(e.Values > Limits.StackMapValues
                ? $"{what} is more than {Limits.StackMapValues} values; run the model on a smaller input, or export it with smaller constants"
                : $"{what} would bring the values held together past {CapText}; run the model on a smaller input, or export it with smaller constants", e);
        }
        finally
        {
            Tensor.AllocationRoom = null;
        }
    }

    /// <summary><see cref="RunHolding"/>, its output then counted into <paramref name="held"/> and the total checked
    /// (<see cref="CheckHeld"/>): a graph run, the load's folding and a stack import's shape arithmetic.</summary>
    public static Tensor RunCounted(OnnxOp op, IReadOnlyList<Tensor?> args, ref long held)
    {
        Tensor value = RunHolding(op, args, held);
        held += value.Length;
        CheckHeld(op, held);
        return value;
    }

    /// <summary>The values a run (and the load's constant folding) may hold together: <see cref="Limits.StackPlanValues"/>,
    /// or fewer where that many float32s would pass <see cref="MemoryBudget.Share"/> of this machine's memory (2^30 values
    /// are 4 GiB: a machine of less than ~5.4 GB ran out of memory before the cap's error).</summary>
    public static long ValuesCap => Math.Min(Limits.StackPlanValues, (long)(MemoryBudget.Machine * MemoryBudget.Share) / sizeof(float));

    /// <summary>The cap as an error message states it: "1073741824, the limit for ..." or, where the machine sets it, its memory.</summary>
    internal static string CapText
    {
        get
        {
            long cap = ValuesCap;
            return cap < Limits.StackPlanValues
                ? $"{cap} ({Limits.Bytes(cap * sizeof(float))}, {MemoryBudget.Share * 100:0}% of the {Limits.Bytes(MemoryBudget.Machine)} this machine gives the process), " +
                  "the limit for a run's values and for a model's constants computed at load here"
                : $"{Limits.StackPlanValues}, the limit for a run's values and for a model's constants computed at load";
        }
    }

    /// <summary>A run keeps every value it computed (the intermediate maps are observable): together they may hold
    /// <see cref="ValuesCap"/>, as a stack's maps may (a 300-byte model of a Resize to 20000x20000 and a
    /// Sum of six such values took 9.2 GB before it ended in "Out of memory.", the fifth audit).</summary>
    public static void CheckHeld(OnnxOp op, long held)
    {
        long cap = ValuesCap;
        if (held > cap)
            throw new ConvGLException($"{op.Where}: the values computed up to this node hold {held} values together, over the limit of " +
                                      (cap < Limits.StackPlanValues ? CapText : $"{Limits.StackPlanValues} a run may hold") + "; run the model on a smaller input");
    }

    /// <summary>The tensors an op reads: null for an omitted optional input.</summary>
    public IReadOnlyList<Tensor?> Resolve(OnnxOp op, IReadOnlyDictionary<string, Tensor> values)
    {
        var args = new Tensor?[op.Inputs.Count];
        for (int k = 0; k < args.Length; k++)
        {
            string name = op.Inputs[k];
            if (name.Length == 0) continue;
            args[k] = values.TryGetValue(name, out Tensor? v) ? v : Initializers.TryGetValue(name, out Tensor? w) ? w
                : throw new ConvGLException($"{op.Where}: input '{name}' has no value");
        }
        return args;
    }

    /// <summary>Checks a tensor against an input's declared shape (unknown dimensions match anything).</summary>
    public void CheckInputShape(OnnxValueInfo input, Tensor t)
    {
        if (input.Shape is null) return;
        bool ok = input.Shape.Length == t.Rank;
        for (int d = 0; ok && d < t.Rank; d++) ok = input.Shape[d] < 0 || input.Shape[d] == t.Shape[d];
        if (!ok) throw new ConvGLException($"{Model.Source}: graph input '{input.Name}' expects shape {input.ShapeString}, got {t.ShapeString}");
    }

    /// <summary>Every stored constant an op reads (an initializer, a Constant node's value, or a value folded from them at
    /// load) must be finite, as stack files' weights must: a NaN or an infinity in a Mul's or Add's constant ran to maps
    /// of NaN, and <c>convert</c> wrote stack files its own loader refused. NaN never; an infinity only where it is a
    /// bound or a fill (Clip's min and max: +-inf is no bound; Pad's constant value: -inf before a MaxPool). Values fed
    /// to a run (a test case's inputs) are data, not checked. One error naming the node, the value and where it came from.</summary>
    private static void CheckConstants(OnnxOp op, IReadOnlyDictionary<string, Tensor> initializers,
        IReadOnlyDictionary<string, OnnxNode> constants, IReadOnlyDictionary<string, OnnxOp> folded)
    {
        for (int k = 0; k < op.Inputs.Count; k++)
        {
            string name = op.Inputs[k];
            if (name.Length == 0 || !initializers.TryGetValue(name, out Tensor? t)) continue;
            bool infinite = op.Node.OpType switch { "Clip" => k >= 1, "Pad" => k == 2, _ => false };
            int i = infinite ? Array.FindIndex(t.Data, float.IsNaN) : t.FirstNonFinite();
            if (i < 0) continue;
            string what = constants.TryGetValue(name, out OnnxNode? c) ? $"input '{ErrorText.Echo(name)}' (the value of Constant node '{ErrorText.Echo(c.Label)}')"
                : folded.TryGetValue(name, out OnnxOp? f) ? $"input '{ErrorText.Echo(name)}' (computed at load from stored constants by node '{ErrorText.Echo(f.Node.Label)}' ({f.Node.OpType}))"
                : $"initializer '{ErrorText.Echo(name)}'";
            throw new ConvGLException($"{op.Where}: {what} holds {t.Data[i]} at flat index {i}; the weights and constants a model stores must be finite" +
                                      $"{(infinite ? " (+-inf allowed here, NaN not)" : "")}: export the model again");
        }
    }

    /// <summary>A Conv's or ConvTranspose's weight read from initializers must have no empty axis (the runners would
    /// divide by its zero channels). Whether its values are finite is <see cref="CheckConstants"/>'s, as for every op's
    /// stored constants.</summary>
    private static void CheckWeightShape(OnnxNode node, NodeAttributes a, IReadOnlyDictionary<string, Tensor> initializers)
    {
        if (node.OpType is ("Conv" or "ConvTranspose") && node.Inputs.Count > 1 && initializers.TryGetValue(node.Inputs[1], out Tensor? t) && t.Shape.Contains(0))
            throw a.Error($"weight '{ErrorText.Echo(node.Inputs[1])}' has an empty shape {t.ShapeString}; a {node.OpType} needs at least one filter of at least one tap");
    }
}
