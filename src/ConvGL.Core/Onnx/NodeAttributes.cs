namespace ConvGL.Core.Onnx;

/// <summary>Reads a node's attributes for one op, and makes sure nothing goes unread: every attribute the op does not
/// read, and every value it does not support, is one <see cref="ConvGLException"/> naming the model, the node, its
/// op_type and what is supported.</summary>
internal sealed class NodeAttributes
{
    private readonly OnnxNode _node;
    private readonly string _source;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public NodeAttributes(OnnxNode node, string source)
    {
        _node = node;
        _source = source;
    }

    /// <summary>"model.onnx: node 'conv1' (Conv)": the start of every message about this node.</summary>
    /// (The name and op_type cut to ErrorText's echo length: a 10 KB node name made a 10,351-character error line.)
    public string Where => $"{_source}: node '{ErrorText.Echo(_node.Label)}' ({ErrorText.Echo(_node.OpType)})";

    public ConvGLException Error(string message) => new($"{Where}: {message}");

    public long Int(string name, long fallback) => Get(name, OnnxAttributeKind.Int)?.I ?? fallback;

    /// <summary>A FLOAT attribute, which must be finite: a NaN or an infinity in a stored parameter (LeakyRelu's alpha,
    /// an epsilon) is a damaged model, not a value to run with (or for <c>convert</c> to write). With
    /// <paramref name="infinite"/> (a Clip bound, Pad's fill value) an infinity is allowed, a NaN still not.</summary>
    public float Float(string name, float fallback, bool infinite = false)
    {
        if (Get(name, OnnxAttributeKind.Float) is not { } a) return fallback;
        if (float.IsNaN(a.F) || (!infinite && float.IsInfinity(a.F)))
            throw Error($"attribute '{name}' is {a.F}; the parameters a model stores must be finite{(infinite ? " (+-inf allowed here, NaN not)" : "")}: export the model again");
        return a.F;
    }

    /// <summary>A FLOATS attribute checked as <see cref="Float"/> is, or null when absent.</summary>
    public float[]? Floats(string name, bool infinite = false)
    {
        if (Get(name, OnnxAttributeKind.Floats) is not { } a) return null;
        int i = Array.FindIndex(a.Floats, v => float.IsNaN(v) || (!infinite && float.IsInfinity(v)));
        if (i >= 0)
            throw Error($"attribute '{name}' holds {a.Floats[i]} at index {i}; the parameters a model stores must be finite{(infinite ? " (+-inf allowed here, NaN not)" : "")}: export the model again");
        return a.Floats;
    }

    public string String(string name, string fallback) => Get(name, OnnxAttributeKind.String)?.S ?? fallback;

    /// <summary>An INTS attribute of exactly <paramref name="length"/> entries (any length when -1), or null when absent.</summary>
    public long[]? Ints(string name, int length = -1)
    {
        long[]? v = Get(name, OnnxAttributeKind.Ints)?.Ints;
        if (v is not null && length >= 0 && v.Length != length)
            throw Error($"attribute '{name}' has {v.Length} entries, expected {length} (ConvGL runs 2D ops: [H, W] order)");
        return v;
    }

    /// <summary>Marks an attribute as accepted without using it (e.g. BatchNormalization's momentum at inference).</summary>
    public void Ignore(string name) => _known.Add(name);

    /// <summary>Throws for the first attribute nobody read, listing the ones this op supports.</summary>
    public void Finish()
    {
        foreach (OnnxAttribute a in _node.Attributes.Values)
            if (!_known.Contains(a.Name))
                throw Error($"attribute '{a.Name}' is not supported (supported: {(_known.Count == 0 ? "none" : string.Join(", ", _known.Order(StringComparer.Ordinal)))})");
    }

    /// <summary>Checks the node has inputs in [min, max] (omitted optional ones are empty names) and one output, or
    /// extra outputs that nothing reads when <paramref name="unread"/> lists the values that are read.</summary>
    public void CheckArity(int min, int max, IReadOnlySet<string>? unread = null)
    {
        int present = _node.Inputs.Count;
        while (present > 0 && _node.Inputs[present - 1].Length == 0) present--;
        if (present < min || present > max)
            throw Error($"has {present} inputs, this op takes {(min == max ? $"{min}" : $"{min} to {max}")}");
        for (int i = 0; i < min; i++)
            if (_node.Inputs[i].Length == 0) throw Error($"input {i} is required but empty");
        int outputs = _node.Outputs.Count(o => o.Length > 0);
        if (unread is not null && _node.Outputs.Count > 1 && _node.Outputs[0].Length > 0)
        {
            // An extra output nothing reads (a Dropout's mask from a training-mode export) is left out.
            if (_node.Outputs.Skip(1).FirstOrDefault(o => o.Length > 0 && unread.Contains(o)) is { } used)
                throw Error($"output '{ErrorText.Echo(used)}' is read by another node or is a graph output; ConvGL computes only the first output");
            return;
        }
        if (outputs != 1 || _node.Outputs[0].Length == 0)
            throw Error($"has {outputs} outputs; ConvGL supports only the first (optional extra outputs such as MaxPool's Indices or training-mode statistics are not supported)");
    }

    private OnnxAttribute? Get(string name, OnnxAttributeKind kind)
    {
        _known.Add(name);
        if (!_node.Attributes.TryGetValue(name, out OnnxAttribute? a)) return null;
        if (a.Kind != kind) throw Error($"attribute '{name}' must be {kind.ToString().ToUpperInvariant()}, the file has {a.Kind.ToString().ToUpperInvariant()}");
        return a;
    }
}
