namespace ConvGL.Core.Onnx;

/// <summary>A graph input or output: its name and, where the file states it, its shape (-1 for a symbolic or
/// unknown dimension; null when no shape is given at all) and ONNX element type (1 FLOAT; 0 when not given).</summary>
public sealed record OnnxValueInfo(string Name, int[]? Shape, int ElemType)
{
    public string ShapeString => Shape is null ? "(?)" : Tensor.DimsText(Shape.Select(d => d < 0 ? "?" : d.ToString()));

    /// <summary>The dimensions as the file declares them: a dim_value where one is written (any value: 0, -5 and 2^40
    /// too, which <see cref="Shape"/> reads as unknown), null for a symbolic (dim_param) or unset one; null when no shape
    /// is given at all.</summary>
    public IReadOnlyList<long?>? Declared { get; init; }

    /// <summary>"(1, 3, -5, -5)": the declared dimensions, "?" for a free one.</summary>
    public string DeclaredString => Declared is null ? ShapeString : Tensor.DimsText(Declared.Select(d => d?.ToString() ?? "?"));
}

public enum OnnxAttributeKind { Float, Int, String, Tensor, Floats, Ints, Strings, Other }

/// <summary>One node attribute, already decoded: exactly one of the value fields is meaningful, per <see cref="Kind"/>.</summary>
public sealed record OnnxAttribute(string Name, OnnxAttributeKind Kind)
{
    public float F { get; init; }
    public long I { get; init; }
    public string S { get; init; } = "";
    public Tensor? T { get; init; }
    /// <summary>A tensor attribute's ONNX element type (1 FLOAT, 7 INT64, ...), 0 for other kinds.</summary>
    public int TensorType { get; init; }
    public float[] Floats { get; init; } = [];
    public long[] Ints { get; init; } = [];
    public string[] Strings { get; init; } = [];

    public override string ToString() => Kind switch
    {
        OnnxAttributeKind.Float => $"{Name}={F}",
        OnnxAttributeKind.Int => $"{Name}={I}",
        OnnxAttributeKind.String => $"{Name}='{S}'",
        OnnxAttributeKind.Floats => $"{Name}=[{string.Join(", ", Floats)}]",
        OnnxAttributeKind.Ints => $"{Name}=[{string.Join(", ", Ints)}]",
        _ => Name,
    };
}

/// <summary>One node of the graph. <see cref="Inputs"/> holds an empty string for an omitted optional input,
/// as ONNX does.</summary>
public sealed record OnnxNode(string Name, string OpType, string Domain, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, OnnxAttribute> Attributes)
{
    /// <summary>How errors name this node: its name, or its first output when it has none (names are optional in ONNX).</summary>
    public string Label => Name.Length > 0 ? Name : Outputs.Count > 0 ? "-> " + Outputs[0] : "(unnamed)";
}

/// <summary>An ONNX model as read from a file (ModelProto): the graph's nodes in file order (ONNX requires
/// topological order), its initializers as float32 tensors, and its real inputs (graph inputs that no initializer
/// feeds; IR 3 files list the weights among the inputs too).</summary>
public sealed class OnnxModel
{
    public required string Source { get; init; }
    public required long IrVersion { get; init; }
    /// <summary>The opset version of the default ("" or "ai.onnx") domain.</summary>
    public required long Opset { get; init; }
    public required string Producer { get; init; }
    public required string GraphName { get; init; }
    public required IReadOnlyList<OnnxValueInfo> Inputs { get; init; }
    public required IReadOnlyList<OnnxValueInfo> Outputs { get; init; }
    public required IReadOnlyDictionary<string, Tensor> Initializers { get; init; }
    /// <summary>The initializers stored as integers (INT32, INT64: sizes, axes and indices), by name, with their ONNX
    /// element type: a weight stored so is refused where a node takes it as one.</summary>
    public IReadOnlyDictionary<string, int> IntegerInitializers { get; init; } = new Dictionary<string, int>();
    public required IReadOnlyList<OnnxNode> Nodes { get; init; }
}
