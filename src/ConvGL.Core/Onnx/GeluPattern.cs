using ConvGL.Core.Ops;

namespace ConvGL.Core.Onnx;

/// <summary>GELU as exports before opset 20 write it, x * 0.5 * (1 + erf(x / sqrt 2)) in five nodes, found so a stack runs
/// it as one gelu layer (<see cref="ActivationKind.Gelu"/>, one pass, fusable into the conv before it) instead of five.
/// The forms: the scaling as Div by sqrt 2 or Mul by 1 / sqrt 2, then Erf, then Add of 1, then the product of x, that sum
/// and 0.5 in any grouping (PyTorch writes (x * (1 + erf)) * 0.5, others (x * 0.5) * (1 + erf)). Each constant is one
/// stored value within 1e-6 of its own; every value between x and the result is read by the next node only and is no
/// graph output, so nothing else sees the maps that go away.</summary>
public static class GeluPattern
{
    private static readonly double InvSqrt2 = 1 / Math.Sqrt(2);

    /// <summary><paramref name="ops"/> with each GELU written out replaced by one Gelu activation where its last node was,
    /// named after the nodes' common path ("/block/block.4/Div", ".../Erf" -> "/block/block.4/Gelu"), else the last node.</summary>
    public static List<OnnxOp> Fuse(IReadOnlyList<OnnxOp> ops, IReadOnlyDictionary<string, Tensor> constants, IEnumerable<string> graphOutputs, string source)
    {
        var producer = new Dictionary<string, OnnxOp>(StringComparer.Ordinal);
        var readers = new Dictionary<string, List<OnnxOp>>(StringComparer.Ordinal);
        foreach (OnnxOp op in ops)
        {
            producer[op.Output] = op;
            foreach (string v in op.Inputs.Where(v => v.Length > 0).Distinct())
                (readers.TryGetValue(v, out var list) ? list : readers[v] = []).Add(op);
        }
        var outputs = graphOutputs.ToHashSet(StringComparer.Ordinal);
        var nodeNames = ops.Select(op => op.Node.Name).ToHashSet(StringComparer.Ordinal);
        // The one op reading v, where v is nobody else's and no graph output.
        OnnxOp? Only(string v) => !outputs.Contains(v) && readers.TryGetValue(v, out var r) && r.Count == 1 ? r[0] : null;
        bool Is(string v, double value) => constants.TryGetValue(v, out Tensor? t) && t.Length == 1 && Math.Abs(t.Data[0] - value) <= 1e-6 * value;
        // A Mul of a map and one stored value (either side): the map, or null.
        string? Scaled(OnnxOp? op, double value) => op is BinaryOp { Kind: BinaryKind.Mul } m && m.Inputs.Count == 2
            ? Is(m.Inputs[1], value) ? m.Inputs[0] : Is(m.Inputs[0], value) ? m.Inputs[1] : null
            : null;
        // The other input of a two-input Mul that reads v.
        string? Other(OnnxOp? op, string v) => op is BinaryOp { Kind: BinaryKind.Mul } m && m.Inputs.Count == 2 && m.Inputs[0] != m.Inputs[1]
            ? m.Inputs[0] == v ? m.Inputs[1] : m.Inputs[1] == v ? m.Inputs[0] : null
            : null;

        var replaced = new Dictionary<OnnxOp, OnnxOp?>();
        foreach (OnnxOp op in ops)
        {
            if (op is not UnaryOp { Kind: UnaryKind.Erf } erf || !producer.TryGetValue(erf.Inputs[0], out OnnxOp? scale) || Only(erf.Inputs[0]) != erf) continue;
            string? x = scale is BinaryOp { Kind: BinaryKind.Div } d && Is(d.Inputs[1], Math.Sqrt(2)) ? d.Inputs[0] : Scaled(scale, InvSqrt2);
            if (x is null || constants.ContainsKey(x)) continue;
            if (Only(erf.Output) is not BinaryOp { Kind: BinaryKind.Add } plus || plus.Inputs.Count != 2) continue;
            string? sum = Is(plus.Inputs[1], 1) && plus.Inputs[0] == erf.Output || Is(plus.Inputs[0], 1) && plus.Inputs[1] == erf.Output ? plus.Output : null;
            if (sum is null || Only(sum) is not { } first) continue;
            List<OnnxOp> group = [scale, erf, plus, first];
            OnnxOp? last = null;
            string? partner = Other(first, sum);
            if (partner == x && Only(first.Output) is { } half && Scaled(half, 0.5) == first.Output)
                last = half;                                                         // (x * (1 + erf)) * 0.5
            else if (partner is not null && producer.TryGetValue(partner, out OnnxOp? xh) && Scaled(xh, 0.5) == x && Only(partner) == first)
            {
                group.Add(xh);                                                       // (x * 0.5) * (1 + erf)
                last = first;
            }
            else if (Scaled(first, 0.5) == sum && Only(first.Output) is { } outer && Other(outer, first.Output) == x)
                last = outer;                                                        // x * ((1 + erf) * 0.5)
            if (last is null) continue;
            if (last != first) group.Add(last);
            if (group.Any(replaced.ContainsKey)) continue;
            string label = Label(group, last, nodeNames);
            var node = new OnnxNode(label, "Gelu", "", [x], [last.Output], new Dictionary<string, OnnxAttribute>());
            foreach (OnnxOp g in group) replaced[g] = null;
            replaced[last] = ActivationOp.Standing(node, $"{source}: node '{ErrorText.Echo(label)}' (GELU as {string.Join(", ", group.OrderBy(g => IndexOf(ops, g)).Select(g => g.Node.OpType))})",
                ActivationKind.Gelu, x, last.Output);
        }
        return ops.Select(op => replaced.TryGetValue(op, out OnnxOp? r) ? r : op).OfType<OnnxOp>().ToList();
    }

    private static int IndexOf(IReadOnlyList<OnnxOp> ops, OnnxOp op)
    {
        for (int i = 0; i < ops.Count; i++)
            if (ops[i] == op) return i;
        return -1;
    }

    /// <summary>The nodes' common path with "Gelu" after it, or their common name prefix up to its last separator ("gelu_scale",
    /// "gelu_erf" -> "gelu"; "n10", "n11" have none), else the last node's label; never another node's name.</summary>
    private static string Label(List<OnnxOp> group, OnnxOp last, IReadOnlySet<string> nodeNames)
    {
        string[] names = group.Select(g => g.Node.Name).ToArray();
        string prefix = names[0];
        foreach (string n in names.Skip(1))
        {
            int k = 0;
            while (k < prefix.Length && k < n.Length && prefix[k] == n[k]) k++;
            prefix = prefix[..k];
        }
        int slash = prefix.LastIndexOf('/');
        string label = slash >= 0 && prefix[..slash].Trim('/').Length > 0 ? prefix[..(slash + 1)] + "Gelu"
            : prefix[..Math.Max(0, prefix.LastIndexOfAny(['_', '.', '-', ' ']))].TrimEnd('_', '.', '-', ' ', '/');
        return label.Length > 0 && !nodeNames.Contains(label) ? label : last.Node.Label;
    }
}
