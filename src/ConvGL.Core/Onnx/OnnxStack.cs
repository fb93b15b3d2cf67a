using ConvGL.Core.Stacks;

namespace ConvGL.Core.Onnx;

/// <summary>An ONNX model as a ConvGL <see cref="Stack"/>, so everything that takes a stack (features, the window,
/// the GPU stack runner) takes the model: one layer per graph op after BatchNormalization folding, named after its
/// node, reading the layers its node reads (residual Adds name two). The model must take one (1, C, H, W) input
/// with C = 1 (a gray stack) or 3 (RGB), fed as is unless a preprocessing is given (<see cref="Stack.Preprocess"/>). Convs
/// and pools with auto_pad SAME_* keep it as a padding mode, resolved for each input size; weights that are not
/// initializers are one error naming the node.</summary>
public static class OnnxStack
{
    /// <summary>Imports a model file. A packaged model (<see cref="PackagedModels"/>) is named after it and gets its
    /// package's image preprocessing; any other file is named after the file and takes images as they are.</summary>
    public static Stack Load(string path)
    {
        PackagedModel? packaged = PackagedModels.Of(path);
        return FromGraph(OnnxGraph.Load(path), packaged?.Name ?? Path.GetFileNameWithoutExtension(path), PackagedModels.PreprocessFor(path));
    }

    public static Stack FromGraph(OnnxGraph graph, string name, ImagePreprocess? preprocess = null)
    {
        string src = graph.Model.Source;
        if (graph.Inputs.Count != 1)
            throw new ConvGLException($"{src}: a model used as a stack takes one input, this one takes {graph.Inputs.Count} ({string.Join(", ", graph.Inputs.Select(i => i.Name))})");
        OnnxValueInfo input = graph.Inputs[0];
        if (input.Shape is not [var n, var c, _, _] || n is not (1 or -1) || c is not (1 or 3))
            throw new ConvGLException($"{src}: input '{input.Name}' is {input.ShapeString}; a model used as a stack takes (1, C, H, W) with C = 1 or 3");
        if (preprocess is not null && c != 3)
            throw new ConvGLException($"{src}: its preprocessing gives 3 channels, the model takes {c}");

        var index = new Dictionary<string, int>(StringComparer.Ordinal) { [input.Name] = -1 };
        var layers = new List<StackLayer>(graph.Ops.Count);
        foreach (OnnxOp op in graph.Ops)
        {
            int i = layers.Count;
            int[] reads = DataInputs(op).Select(v => index.TryGetValue(v, out int j) ? j
                : throw new ConvGLException($"{op.Where}: input '{v}' is a constant; in a stack every data input must be a map")).ToArray();
            StackLayer layer = op switch
            {
                ConvOp conv => Conv(graph, conv),
                BatchNormOp bn => new BatchNormLayer(bn.Parameters([null, .. op.Inputs.Skip(1).Select(v => Constant(graph, op, v))])),
                PoolOp pool => new PaddedPoolLayer(pool.SizeIndependentOptions()),
                GlobalAveragePoolOp => new GlobalAvgPoolLayer(),
                ActivationOp a => new ActivationLayer(a.Kind, a.Slope),
                AddOp => new AddLayer(),
                FlattenOp f => f.Axis == 1 ? new FlattenLayer() : throw new ConvGLException($"{op.Where}: in a stack Flatten takes axis 1 (the image's values), got {f.Axis}"),
                GemmOp g => Linear(graph, g),
                _ => throw new ConvGLException($"{op.Where}: no stack layer for {op.Node.OpType}"),
            };
            layer.Label = op.Node.Name.Length > 0 ? op.Node.Name : op.Output;
            if (reads.Length != 1 || reads[0] != i - 1) layer.Inputs = reads;
            index[op.Output] = i;
            layers.Add(layer);
        }
        try
        {
            return new Stack(name, input.Shape[1] == 1 ? StackInput.Gray : StackInput.Rgb, layers) { SourcePath = src, Description = $"ONNX model ({graph.Model.Producer}, opset {graph.Model.Opset})", Preprocess = preprocess };
        }
        catch (ConvGLException e)
        {
            throw new ConvGLException($"{src}: {e.Message}", e);
        }
    }

    /// <summary>The inputs that carry maps (not weights).</summary>
    private static IEnumerable<string> DataInputs(OnnxOp op) => op switch
    {
        AddOp => op.Inputs.Take(2),
        _ => op.Inputs.Take(1),
    };

    private static Tensor Constant(OnnxGraph graph, OnnxOp op, string name) =>
        graph.Initializers.TryGetValue(name, out Tensor? t) ? t
            : throw new ConvGLException($"{op.Where}: input '{name}' must be an initializer (a weight stored in the model) for a stack");

    private static ConvLayer Conv(OnnxGraph graph, ConvOp conv)
    {
        Tensor w = Constant(graph, conv, conv.Inputs[1]);
        conv.CheckWeight(w);
        bool hasBias = conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0;
        float[]? b = hasBias ? Constant(graph, conv, conv.Inputs[2]).Data : null;
        ConvOptions options = conv.Options(1, 1);
        // auto_pad SAME_*: the pads depend on the input size, which ConvGeometry resolves for every size.
        if (conv.Spatial.AutoPad is AutoPad.SameUpper or AutoPad.SameLower)
            options = options with
            {
                Padding = conv.Spatial.AutoPad == AutoPad.SameUpper ? PaddingMode.SameUpper : PaddingMode.SameLower,
                PadY = 0, PadX = 0, PadBottom = null, PadRight = null,
            };
        return ConvLayer.FromOnnx(w, b, options, conv.Inputs[1], hasBias ? conv.Inputs[2] : null);
    }

    private static LinearLayer Linear(OnnxGraph graph, GemmOp g)
    {
        if (g.TransA || g.Alpha != 1f || g.Beta != 1f)
            throw new ConvGLException($"{g.Where}: a stack's linear layer is Gemm with transA = 0, alpha = beta = 1 (PyTorch Linear)");
        Tensor b = Constant(graph, g, g.Inputs[1]);
        if (b.Rank != 2) throw new ConvGLException($"{g.Where}: weight {b.ShapeString} must be 2D");
        Tensor weight = g.TransB ? b : Transpose(b);
        float[]? bias = null;
        if (g.Inputs.Count > 2 && g.Inputs[2].Length > 0)
        {
            Tensor c = Constant(graph, g, g.Inputs[2]);
            if (c.Length != weight.Shape[0] || c.Shape.Count(d => d != 1) > 1)
                throw new ConvGLException($"{g.Where}: bias {c.ShapeString} must hold one value per output ({weight.Shape[0]})");
            bias = c.Data;
        }
        return new LinearLayer(weight, bias, g.Inputs[1], g.Inputs.Count > 2 ? g.Inputs[2] : null);
    }

    private static Tensor Transpose(Tensor m)
    {
        int r = m.Shape[0], c = m.Shape[1];
        var t = new Tensor([c, r]);
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++)
                t.Data[j * r + i] = m.Data[i * c + j];
        return t;
    }
}
