using ConvGL.Core.Ops;

namespace ConvGL.Core.Onnx;

/// <summary>The forms exporters write an activation or a norm in, several nodes each, that a stack runs as one layer:
/// GELU (Div, Erf, Add, Mul, Mul), Mish (Softplus, Tanh, Mul), relu6(x + 3) / 6 and its product with x (Add, Clip, Div,
/// Mul), SiLU and hard swish (Sigmoid or HardSigmoid, Mul), layer normalisation (ReduceMean, Sub, Pow, ReduceMean, Add,
/// Sqrt, Div). Each matches only where no value inside is read elsewhere or is a graph output.</summary>
public static class ImportPatterns
{
    private static readonly Func<IReadOnlyList<OnnxOp>, IReadOnlyDictionary<string, Tensor>, IEnumerable<string>, string, List<OnnxOp>>[] s_all =
        [GeluPattern.Fuse, MishPattern.Fuse, HardSwishPattern.Fuse, SwishPattern.Fuse, LayerNormPattern.Fuse, GroupNormPattern.Fuse, AttentionPattern.Fuse];

    /// <summary><paramref name="ops"/> with every pattern found replaced by its one op.</summary>
    public static List<OnnxOp> Apply(IReadOnlyList<OnnxOp> ops, IReadOnlyDictionary<string, Tensor> constants, IEnumerable<string> graphOutputs, string source)
    {
        List<OnnxOp> result = [.. ops];
        string[] outputs = graphOutputs.ToArray();
        foreach (var fuse in s_all) result = fuse(result, constants, outputs, source);
        return result;
    }
}

/// <summary>What the import patterns look up about a graph's ops: who produces each value, who reads it, the stored
/// constants, and the graph's outputs and node names.</summary>
internal sealed class PatternIndex
{
    private readonly Dictionary<string, OnnxOp> _producer = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<OnnxOp>> _readers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _outputs;
    private readonly HashSet<string> _nodeNames;
    private readonly IReadOnlyDictionary<string, Tensor> _constants;
    private readonly List<OnnxOp> _ops;
    // Labels given out already: two layer norms in one module (/norm/ReduceMean, /norm/ReduceMean_10 ...) must not both be
    // /norm/LayerNorm (a stack file names their tensors after their labels).
    private readonly HashSet<string> _given = new(StringComparer.Ordinal);

    public PatternIndex(IReadOnlyList<OnnxOp> ops, IReadOnlyDictionary<string, Tensor> constants, IEnumerable<string> graphOutputs)
    {
        _ops = [.. ops];
        _constants = constants;
        foreach (OnnxOp op in ops)
        {
            _producer[op.Output] = op;
            foreach (string v in op.Inputs.Where(v => v.Length > 0).Distinct())
                (_readers.TryGetValue(v, out var list) ? list : _readers[v] = []).Add(op);
        }
        _outputs = graphOutputs.ToHashSet(StringComparer.Ordinal);
        _nodeNames = ops.Select(op => op.Node.Name).ToHashSet(StringComparer.Ordinal);
    }

    public OnnxOp? Producer(string v) => _producer.GetValueOrDefault(v);

    public bool IsConstant(string v) => _constants.ContainsKey(v);

    /// <summary>The ops reading v, where v is no graph output (else none: the map must stay to be seen).</summary>
    public IReadOnlyList<OnnxOp> Readers(string v) => !_outputs.Contains(v) && _readers.TryGetValue(v, out var r) ? r : [];

    /// <summary>The one op reading v, where v is nobody else's and no graph output.</summary>
    public OnnxOp? Only(string v) => Readers(v) is [var one] ? one : null;

    /// <summary>Whether v is one stored value within 1e-6 (relative) of <paramref name="value"/>.</summary>
    public bool Is(string v, double value) => _constants.TryGetValue(v, out Tensor? t) && t.Length == 1 && Math.Abs(t.Data[0] - value) <= 1e-6 * Math.Abs(value);

    /// <summary>v's one stored value, or null.</summary>
    public float? Scalar(string v) => _constants.TryGetValue(v, out Tensor? t) && t.Length == 1 ? t.Data[0] : null;

    /// <summary>v's one stored value where its rank is at most <paramref name="maxRank"/> (a (1, 1, 1, 1) value times a
    /// rank-3 one broadcasts it to rank 4), or null.</summary>
    public float? Scalar(string v, int maxRank) => _constants.TryGetValue(v, out Tensor? t) && t.Length == 1 && t.Rank <= maxRank ? t.Data[0] : null;

    /// <summary>The map a binary op of <paramref name="kind"/> combines with one stored value (either side, or the second
    /// only when <paramref name="secondOnly"/>) equal to <paramref name="value"/>, or null.</summary>
    public string? WithConstant(OnnxOp? op, BinaryKind kind, double value, bool secondOnly = false) =>
        op is BinaryOp b && b.Kind == kind && b.Inputs.Count == 2
            ? Is(b.Inputs[1], value) && !IsConstant(b.Inputs[0]) ? b.Inputs[0] : !secondOnly && Is(b.Inputs[0], value) && !IsConstant(b.Inputs[1]) ? b.Inputs[1] : null
            : null;

    /// <summary>The other input of a two-input Mul that reads v once.</summary>
    public static string? Other(OnnxOp? op, string v) => op is BinaryOp { Kind: BinaryKind.Mul } m && m.Inputs.Count == 2 && m.Inputs[0] != m.Inputs[1]
        ? m.Inputs[0] == v ? m.Inputs[1] : m.Inputs[1] == v ? m.Inputs[0] : null
        : null;

    /// <summary>The nodes' common path with <paramref name="op"/> after it ("/block/block.4/Div", ".../Erf" ->
    /// "/block/block.4/Gelu"), or their common name prefix up to its last separator ("gelu_scale", "gelu_erf" -> "gelu";
    /// "n10", "n11" have none), else the last node's name (its value's where it has none); never another node's name nor a
    /// label given out before.</summary>
    public string Label(IReadOnlyList<OnnxOp> group, OnnxOp last, string op)
    {
        string prefix = group[0].Node.Name;
        foreach (string n in group.Skip(1).Select(g => g.Node.Name))
        {
            int k = 0;
            while (k < prefix.Length && k < n.Length && prefix[k] == n[k]) k++;
            prefix = prefix[..k];
        }
        int slash = prefix.LastIndexOf('/');
        string label = slash >= 0 && prefix[..slash].Trim('/').Length > 0 ? prefix[..(slash + 1)] + op
            : prefix[..Math.Max(0, prefix.LastIndexOfAny(['_', '.', '-', ' ']))].TrimEnd('_', '.', '-', ' ', '/');
        // The fallback as other layers are named: the node's name, or its value's where it has none.
        label = label.Length > 0 && !_nodeNames.Contains(label) && !_given.Contains(label) ? label
            : last.Node.Name.Length > 0 ? last.Node.Name : last.Output;
        _given.Add(label);
        return label;
    }

    /// <summary>"GELU as Div, Erf, Add, Mul, Mul": the group's op types in graph order.</summary>
    public string Spelled(IEnumerable<OnnxOp> group) => string.Join(", ", group.OrderBy(g => _ops.IndexOf(g)).Select(g => g.Node.OpType));

    // The groups found: each op of one maps to null, a group's last op to the one op that stands for the group.
    private readonly Dictionary<OnnxOp, OnnxOp?> _replaced = [];

    /// <summary>Whether an op of <paramref name="group"/> is in a group found already.</summary>
    public bool Taken(IEnumerable<OnnxOp> group) => group.Any(_replaced.ContainsKey);

    /// <summary>The node a group's one op stands as: named <paramref name="label"/>, reading one map.</summary>
    public static OnnxNode Node(string label, string opType, string input, string output) =>
        new(label, opType, "", [input], [output], new Dictionary<string, OnnxAttribute>());

    /// <summary>Replaces <paramref name="group"/> by <paramref name="standing"/>, at the place of its last op <paramref name="last"/>.</summary>
    public void Stand(IEnumerable<OnnxOp> group, OnnxOp last, OnnxOp standing)
    {
        foreach (OnnxOp g in group) _replaced[g] = null;
        _replaced[last] = standing;
    }

    /// <summary>Replaces <paramref name="group"/> (ending at <paramref name="last"/>) by one activation of
    /// <paramref name="kind"/> on map <paramref name="x"/>: a node of <paramref name="opType"/> named as the group
    /// (<see cref="Label"/>), whose errors say "<paramref name="what"/> as" the group's ops.</summary>
    public void StandActivation(List<OnnxOp> group, OnnxOp last, string x, string opType, string what, ActivationKind kind, string source,
                                float? slope = null, float? beta = null)
    {
        string label = Label(group, last, opType);
        string where = $"{source}: node '{ErrorText.Echo(label)}' ({what} as {Spelled(group)})";
        Stand(group, last, ActivationOp.Standing(Node(label, opType, x, last.Output), where, kind, x, last.Output, slope, beta));
    }

    /// <summary>The ops with each group found replaced by its one op.</summary>
    public List<OnnxOp> Result() => _ops.Select(op => _replaced.TryGetValue(op, out OnnxOp? r) ? r : op).OfType<OnnxOp>().ToList();
}

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
    /// named as <see cref="PatternIndex.Label"/> says.</summary>
    public static List<OnnxOp> Fuse(IReadOnlyList<OnnxOp> ops, IReadOnlyDictionary<string, Tensor> constants, IEnumerable<string> graphOutputs, string source)
    {
        var ix = new PatternIndex(ops, constants, graphOutputs);
        foreach (OnnxOp op in ops)
        {
            if (op is not UnaryOp { Kind: UnaryKind.Erf } erf || ix.Producer(erf.Inputs[0]) is not { } scale || ix.Only(erf.Inputs[0]) != erf) continue;
            string? x = ix.WithConstant(scale, BinaryKind.Div, Math.Sqrt(2), secondOnly: true) ?? ix.WithConstant(scale, BinaryKind.Mul, InvSqrt2);
            if (x is null) continue;
            if (ix.Only(erf.Output) is not { } plus || ix.WithConstant(plus, BinaryKind.Add, 1) != erf.Output) continue;
            string sum = plus.Output;
            if (ix.Only(sum) is not { } first) continue;
            List<OnnxOp> group = [scale, erf, plus, first];
            OnnxOp? last = null;
            string? partner = PatternIndex.Other(first, sum);
            if (partner == x && ix.Only(first.Output) is { } half && ix.WithConstant(half, BinaryKind.Mul, 0.5) == first.Output)
                last = half;                                                         // (x * (1 + erf)) * 0.5
            else if (partner is not null && ix.Producer(partner) is { } xh && ix.WithConstant(xh, BinaryKind.Mul, 0.5) == x && ix.Only(partner) == first)
            {
                group.Add(xh);                                                       // (x * 0.5) * (1 + erf)
                last = first;
            }
            else if (ix.WithConstant(first, BinaryKind.Mul, 0.5) == sum && ix.Only(first.Output) is { } outer && PatternIndex.Other(outer, first.Output) == x)
                last = outer;                                                        // x * ((1 + erf) * 0.5)
            if (last is null) continue;
            if (last != first) group.Add(last);
            if (ix.Taken(group)) continue;
            ix.StandActivation(group, last, x, "Gelu", "GELU", ActivationKind.Gelu, source);
        }
        return ix.Result();
    }
}

/// <summary>Mish as exports before opset 18 write it, x * tanh(softplus(x)) in three nodes (Softplus, Tanh, Mul), found so
/// a stack runs it as one mish layer (<see cref="ActivationKind.Mish"/>, fusable into the conv before it), where the
/// softplus and tanh maps are read by the next node only and are no graph outputs.</summary>
public static class MishPattern
{
    public static List<OnnxOp> Fuse(IReadOnlyList<OnnxOp> ops, IReadOnlyDictionary<string, Tensor> constants, IEnumerable<string> graphOutputs, string source)
    {
        var ix = new PatternIndex(ops, constants, graphOutputs);
        foreach (OnnxOp op in ops)
        {
            if (op is not ActivationOp { Kind: ActivationKind.Softplus } softplus || ix.IsConstant(softplus.Inputs[0])) continue;
            string x = softplus.Inputs[0];
            if (ix.Only(softplus.Output) is not ActivationOp { Kind: ActivationKind.Tanh } tanh) continue;
            if (ix.Only(tanh.Output) is not { } mul || PatternIndex.Other(mul, tanh.Output) != x) continue;
            List<OnnxOp> group = [softplus, tanh, mul];
            if (ix.Taken(group)) continue;
            ix.StandActivation(group, mul, x, "Mish", "Mish", ActivationKind.Mish, source);
        }
        return ix.Result();
    }
}

/// <summary>An activation times its own input, as exports write SiLU (Sigmoid, then Mul by x: EfficientNet, YOLOv5/v8) and
/// hard swish before opset 14 (HardSigmoid with alpha 1/6 and beta 1/2, then Mul by x: MobileNetV3), found so a stack runs
/// each as one layer (<see cref="ActivationKind.Silu"/>, <see cref="ActivationKind.HardSwish"/>), where the activation's
/// map is read by the Mul only and is no graph output.</summary>
public static class SwishPattern
{
    public static List<OnnxOp> Fuse(IReadOnlyList<OnnxOp> ops, IReadOnlyDictionary<string, Tensor> constants, IEnumerable<string> graphOutputs, string source)
    {
        var ix = new PatternIndex(ops, constants, graphOutputs);
        foreach (OnnxOp op in ops)
        {
            ActivationKind? kind = op switch
            {
                ActivationOp { Kind: ActivationKind.Sigmoid } => ActivationKind.Silu,
                ActivationOp { Kind: ActivationKind.HardSigmoid } h when Math.Abs(h.Slope - 1.0 / 6) <= 1e-6 && Math.Abs(h.Beta - 0.5) <= 1e-6 => ActivationKind.HardSwish,
                _ => null,
            };
            if (kind is null || ix.IsConstant(op.Inputs[0]) || ix.Only(op.Output) is not { } mul || PatternIndex.Other(mul, op.Output) != op.Inputs[0]) continue;
            List<OnnxOp> group = [op, mul];
            if (ix.Taken(group)) continue;
            ix.StandActivation(group, mul, op.Inputs[0], kind == ActivationKind.Silu ? "Silu" : "HardSwish", kind.Value.Name(), kind.Value, source);
        }
        return ix.Result();
    }
}

/// <summary>Hard sigmoid and hard swish as older exporters write them (tf2onnx, torch before HardSigmoid was exported):
/// relu6(x + 3) / 6 as Add 3, Clip [0, 6], then Div by 6 or Mul by 1/6: one hard_sigmoid (alpha 1/6, beta 1/2); times
/// x again, one hard_swish. The values between are read by the next node only and are no graph outputs.</summary>
public static class HardSwishPattern
{
    public static List<OnnxOp> Fuse(IReadOnlyList<OnnxOp> ops, IReadOnlyDictionary<string, Tensor> constants, IEnumerable<string> graphOutputs, string source)
    {
        var ix = new PatternIndex(ops, constants, graphOutputs);
        foreach (OnnxOp op in ops)
        {
            if (ix.WithConstant(op, BinaryKind.Add, 3) is not { } x || ix.Only(op.Output) is not ClipOp clip || clip.Inputs[0] != op.Output) continue;
            (float lo, float hi) bounds;
            try
            {
                if (clip.Inputs.Skip(1).Any(v => v.Length > 0 && !ix.IsConstant(v))) continue;
                bounds = clip.Bounds([null, .. clip.Inputs.Skip(1).Select(v => v.Length == 0 ? null : constants[v])]);
            }
            catch (ConvGLException)
            {
                continue;
            }
            if (bounds != (0f, 6f) || ix.Only(clip.Output) is not { } scale) continue;
            if ((ix.WithConstant(scale, BinaryKind.Div, 6, secondOnly: true) ?? ix.WithConstant(scale, BinaryKind.Mul, 1.0 / 6)) != clip.Output) continue;
            List<OnnxOp> group = [op, clip, scale];
            OnnxOp last = scale;
            ActivationKind kind = ActivationKind.HardSigmoid;
            if (ix.Only(scale.Output) is { } mul && PatternIndex.Other(mul, scale.Output) == x)
            {
                group.Add(mul);
                last = mul;
                kind = ActivationKind.HardSwish;
            }
            if (ix.Taken(group)) continue;
            ix.StandActivation(group, last, x, kind == ActivationKind.HardSwish ? "HardSwish" : "HardSigmoid", kind.Name(), kind, source, slope: 1f / 6, beta: 0.5f);
        }
        return ix.Result();
    }
}

/// <summary>Layer normalisation over the channels as exports before opset 17 write it (PyTorch's F.layer_norm, and the
/// LayerNorm2d of ConvNeXt-style nets): m = ReduceMean(x) over one axis, d = x - m, v = ReduceMean(d^2) (Pow by 2 or
/// d * d), d / Sqrt(v + epsilon). Over the last axis of a channels-last value (inside ConvNeXt's Transposes) or over
/// axis 1 of (N, C, H, W): both are each pixel's channels, the stack's <c>layernorm</c> layer. The scale and shift after
/// it are per-channel constants, which fold into the layer (OnnxStack). As for GELU, no value inside is read elsewhere
/// or is a graph output.</summary>
public static class LayerNormPattern
{
    public static List<OnnxOp> Fuse(IReadOnlyList<OnnxOp> ops, IReadOnlyDictionary<string, Tensor> constants, IEnumerable<string> graphOutputs, string source)
    {
        var ix = new PatternIndex(ops, constants, graphOutputs);
        // The axis as written (1, 3, or -1: a map's channels at rank 4, a head's at rank 2), or null.
        long? Axis(OnnxOp? op) => op is ReduceOp { Kind: ReduceKind.Mean, KeepDims: true } r && r.Inputs.Count is 1 or 2
            && (r.Inputs.Count == 1 || r.Inputs[1].Length == 0 || ix.IsConstant(r.Inputs[1]))
            && Written(r, constants) is [var a and (1 or 3 or -1)] ? a : null;
        foreach (OnnxOp op in ops)
        {
            if (Axis(op) is not { } axis || ix.Only(op.Output) is not BinaryOp { Kind: BinaryKind.Sub } sub || sub.Inputs.Count != 2
                || sub.Inputs[1] != op.Output || sub.Inputs[0] != op.Inputs[0]) continue;
            string x = op.Inputs[0], d = sub.Output;
            // d goes to the square and to the Div, nowhere else.
            if (ix.Readers(d) is not [var r0, var r1]) continue;
            (OnnxOp square, OnnxOp div) = r0 is BinaryOp { Kind: BinaryKind.Div } ? (r1, r0) : (r0, r1);
            bool squares = ix.WithConstant(square, BinaryKind.Pow, 2, secondOnly: true) == d
                || square is BinaryOp { Kind: BinaryKind.Mul } sq && sq.Inputs.Count == 2 && sq.Inputs[0] == d && sq.Inputs[1] == d;
            if (!squares || ix.Only(square.Output) is not { } mean2 || Axis(mean2) != axis || mean2.Inputs[0] != square.Output) continue;
            if (ix.Only(mean2.Output) is not BinaryOp { Kind: BinaryKind.Add } plus || plus.Inputs.Count != 2) continue;
            string? eps = plus.Inputs[0] == mean2.Output ? plus.Inputs[1] : plus.Inputs[1] == mean2.Output ? plus.Inputs[0] : null;
            if (eps is null || ix.Scalar(eps) is not { } epsilon || !(epsilon >= 0) || !float.IsFinite(epsilon)) continue;
            if (ix.Only(plus.Output) is not UnaryOp { Kind: UnaryKind.Sqrt } sqrt || ix.Only(sqrt.Output) != div) continue;
            if (div is not BinaryOp { Kind: BinaryKind.Div } || div.Inputs.Count != 2 || div.Inputs[0] != d || div.Inputs[1] != sqrt.Output) continue;
            List<OnnxOp> group = [op, sub, square, mean2, plus, sqrt, div];
            if (ix.Taken(group)) continue;
            string label = ix.Label(group, div, "LayerNorm");
            string where = $"{source}: node '{ErrorText.Echo(op.Node.Label)}' (ReduceMean, the first of a layer normalisation written out as {ix.Spelled(group)})";
            ix.Stand(group, div, new ChannelNormOp(PatternIndex.Node(label, "LayerNormalization", x, div.Output), where, x, div.Output, axis, epsilon));
        }
        return ix.Result();
    }

    /// <summary>A ReduceMean's axes as written (attribute or stored input), or null where it has none.</summary>
    private static long[]? Written(ReduceOp r, IReadOnlyDictionary<string, Tensor> constants) =>
        r.AttributeAxes ?? (r.Inputs.Count > 1 && r.Inputs[1].Length > 0 ? constants[r.Inputs[1]].Data.Select(v => (long)v).ToArray() : null);
}

/// <summary>Layer normalisation over one axis (<see cref="Axis"/> as written: 1, 3 or -1), without scale or shift: what
/// <see cref="LayerNormPattern"/> finds. In a stack it is the <c>layernorm</c> layer where that axis is the channels:
/// axis 1 of (N, C, H, W), the last of a channels-last (N, H, W, C), 1 or -1 of a head's (N, K).</summary>
public sealed class ChannelNormOp : OnnxOp
{
    public long Axis { get; }
    public float Epsilon { get; }

    internal ChannelNormOp(OnnxNode node, string where, string input, string output, long axis, float epsilon) : base(node, where, [input], output)
    {
        Axis = axis;
        Epsilon = epsilon;
    }

    /// <summary>The axis for a value of <paramref name="rank"/>.</summary>
    public long AxisFor(int rank) => Axis < 0 ? Axis + rank : Axis;

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        Tensor x = inputs[0]!;
        long a = AxisFor(x.Rank);
        if (!(a == x.Rank - 1 || (a == 1 && x.Rank == 4)))
            throw Error($"normalises axis {Axis} of a rank-{x.Rank} value {x.ShapeString}: the last axis, or axis 1 of a rank-4 one");
        int c = x.Shape[(int)a];
        var norm = new LayerNorm(Enumerable.Repeat(1f, c).ToArray(), new float[c], Epsilon);
        if (a == x.Rank - 1) return norm.Apply(x);
        return Indexing.Transpose(norm.Apply(Indexing.Transpose(x, [0, 2, 3, 1])), [0, 3, 1, 2]);
    }
}

/// <summary>A per-channel affine on the model's input written one channel at a time, as torchvision's Inception v3 and
/// GoogLeNet write transform_input: each channel picked (x[:, i]: Gather on axis 1, then Unsqueeze back), scaled and
/// shifted by stored scalars (Mul, Add, Sub, Div), the channels joined again in order by a Concat: one affine layer. Only on
/// the graph input, whose channel count the stack knows, and only where every value between is read by the next node.</summary>
public static class InputAffinePattern
{
    public static List<OnnxOp> Fuse(IReadOnlyList<OnnxOp> ops, IReadOnlyDictionary<string, Tensor> constants, IEnumerable<string> graphOutputs,
        string input, int channels, string source)
    {
        var ix = new PatternIndex(ops, constants, graphOutputs);
        foreach (OnnxOp op in ops)
        {
            if (op is not ConcatOp cat || cat.Inputs.Count != channels || cat.Axis is not (1 or -3)) continue;
            var group = new List<OnnxOp>();
            var scale = new float[channels];
            var shift = new float[channels];
            bool ok = true;
            for (int k = 0; k < channels && ok; k++)
            {
                // Back from the Concat's input to the pick, the affine steps outermost first.
                string v = cat.Inputs[k];
                var steps = new List<(BinaryKind Kind, double C, bool ConstantFirst)>();
                OnnxOp? pick = null;
                while (ok && pick is null)
                {
                    OnnxOp? p = ix.Producer(v);
                    if (p is null || ix.Only(v) is not { } reader || (reader != cat && !group.Contains(reader))) { ok = false; break; }
                    if (p is BinaryOp { Kind: BinaryKind.Add or BinaryKind.Sub or BinaryKind.Mul or BinaryKind.Div } b && b.Inputs.Count == 2
                        && (ix.Scalar(b.Inputs[0]) is not null && !ix.IsConstant(b.Inputs[1]) || ix.Scalar(b.Inputs[1]) is not null && !ix.IsConstant(b.Inputs[0])))
                    {
                        bool first = ix.IsConstant(b.Inputs[0]);
                        steps.Add((b.Kind, (double)ix.Scalar(b.Inputs[first ? 0 : 1])!, first));
                        group.Add(p);
                        v = b.Inputs[first ? 1 : 0];
                        continue;
                    }
                    OnnxOp? gather = p;
                    if (p is SqueezeOp { Unsqueeze: true } un && un.StoredAxes(constants, 4) is [1] && ix.Producer(un.Inputs[0]) is GatherOp g0 && ix.Only(un.Inputs[0]) == un
                        && constants.TryGetValue(g0.Inputs[1], out Tensor? scalar) && scalar.Rank == 0)
                    {
                        group.Add(un);
                        gather = g0;
                    }
                    else if (!(p is GatherOp && constants.TryGetValue(p.Inputs[1], out Tensor? list) && list.Rank == 1 && list.Length == 1))
                    {
                        ok = false;
                        break;
                    }
                    if (gather is not GatherOp g || g.Inputs[0] != input || g.Axis is not (1 or -3) || constants[g.Inputs[1]].Data[0] != k) { ok = false; break; }
                    pick = g;
                    group.Add(g);
                }
                if (!ok) break;
                // y = a x + b through the steps, innermost first.
                double a = 1, s = 0;
                for (int j = steps.Count - 1; j >= 0 && ok; j--)
                {
                    (BinaryKind kind, double c, bool constantFirst) = steps[j];
                    (a, s, ok) = kind switch
                    {
                        BinaryKind.Add => (a, s + c, true),
                        BinaryKind.Sub => constantFirst ? (-a, c - s, true) : (a, s - c, true),
                        BinaryKind.Mul => (a * c, s * c, true),
                        BinaryKind.Div => constantFirst ? (a, s, false) : (a / c, s / c, true),
                        _ => (a, s, false),
                    };
                }
                scale[k] = (float)a;
                shift[k] = (float)s;
            }
            if (!ok || ix.Taken(group) || scale.Concat(shift).Any(f => !float.IsFinite(f))) continue;
            string label = cat.Node.Label;
            string where = $"{source}: node '{ErrorText.Echo(label)}' (Concat, the last of a per-channel affine written one channel at a time as {ix.Spelled([.. group, cat])})";
            ix.Stand(group, cat, new ChannelAffineOp(PatternIndex.Node(label, "Concat", input, cat.Output), where, input, cat.Output, scale, shift));
        }
        return ix.Result();
    }
}

/// <summary>y = scale[c] x + shift[c] over axis 1 of (N, C, H, W): what <see cref="InputAffinePattern"/> finds, the stack's
/// affine (batchnorm) layer.</summary>
public sealed class ChannelAffineOp : OnnxOp
{
    public float[] Scale { get; }
    public float[] Shift { get; }

    internal ChannelAffineOp(OnnxNode node, string where, string input, string output, float[] scale, float[] shift) : base(node, where, [input], output)
    {
        Scale = scale;
        Shift = shift;
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs) => BatchNorm.FromAffine(Scale, Shift).Apply(inputs[0]!, channelAxis: 1);
}

/// <summary>Dot-product attention over the positions as exports write it (SAGAN's Self_Attn, non-local blocks, the attention
/// block of diffusion UNets / VQGAN): each of q, k and v is a map flattened to (N, C, H*W) by a Reshape (and transposed to
/// (N, H*W, C) where the product needs it: Transpose [0, 2, 1]); a MatMul of q's and k's gives the (N, positions, positions)
/// logits, scaled by stored single values (Mul, Div: on the logits or on q's or k's tokens), a Softmax over one of the
/// positions axes (that one's map is the keys), a MatMul with v's tokens (either side, the weights transposed or not), and
/// a Reshape of the (N, C, H*W) result back to a map (a Transpose [0, 2, 1] first where it came out as (N, H*W, C)). Found
/// so a stack runs it as one attention layer (<see cref="AttentionOp"/>); every value between is read inside the group only
/// (one flattening may serve as q, k and v: a map attending over itself) and is no graph output. The Reshapes' targets are checked where the maps' channels are known (OnnxStack).</summary>
public static class AttentionPattern
{
    /// <summary>A MatMul operand traced back to the map it flattens: the map, whether its tokens are (positions, channels),
    /// the stored factors on the way, the ops passed, the flattening Reshape, and the rank its transposes swap the last two
    /// axes of (3: (N, C, H*W); 4: (N, heads, C / heads, H*W); 0: none passed).</summary>
    private sealed record Tokens(string Map, bool PositionsFirst, double Factor, List<OnnxOp> Ops, ReshapeOp Flatten, int Rank, bool FromTokens = false)
    {
        /// <summary>Factors sqrt(1 / sqrt(E)) on the way (torch's scaled_dot_product_attention), their ops and the values whose
        /// Shape gives E.</summary>
        public int Roots { get; init; }
        /// <summary>The largest rank of the stored factors on the way.</summary>
        public int ScalarRank { get; init; }
        public List<OnnxOp> RootOps { get; init; } = [];
        public List<string> RootsOf { get; init; } = [];
        /// <summary>The value the first such factor multiplies, and whether an odd number of transposes lie between it and
        /// the product (its last axis is then not the one the product sums over).</summary>
        public string? RootOperand { get; init; }
        public bool RootTurned { get; init; }
    }

    public static List<OnnxOp> Fuse(IReadOnlyList<OnnxOp> ops, IReadOnlyDictionary<string, Tensor> constants, IEnumerable<string> graphOutputs, string source)
    {
        var ix = new PatternIndex(ops, constants, graphOutputs);
        // A stored single value a Mul or Div applies to v (either side of a Mul, the divisor of a Div): (the other input, the
        // factor), or null.
        (string Other, double Factor, int Rank)? Scaling(OnnxOp? op)
        {
            if (op is not BinaryOp { Kind: BinaryKind.Mul or BinaryKind.Div } b || b.Inputs.Count != 2) return null;
            // (Its rank is checked against the tokens' once known: a rank-4 constant on rank-3 tokens or logits makes the
            // product rank 4, moving the Softmax's axis; the review's (1, 1, 1, 1) scale normalised over a dimension of
            // size 1. On rank-4 heads it changes nothing.)
            int RankOf(string v) => constants.TryGetValue(v, out Tensor? t) ? t.Rank : 0;
            if (ix.Scalar(b.Inputs[1], 4) is { } s1 && !ix.IsConstant(b.Inputs[0])) return (b.Inputs[0], b.Kind == BinaryKind.Mul ? s1 : 1.0 / s1, RankOf(b.Inputs[1]));
            if (b.Kind == BinaryKind.Mul && ix.Scalar(b.Inputs[0], 4) is { } s0 && !ix.IsConstant(b.Inputs[1])) return (b.Inputs[1], s0, RankOf(b.Inputs[0]));
            return null;
        }
        // A Transpose of the last two axes: the rank it swaps them in (3, or 4 with the heads), else 0.
        static int Swaps(OnnxOp? op) => op switch { TransposeOp { Perm: [0, 2, 1] } => 3, TransposeOp { Perm: [0, 1, 3, 2] } => 4, _ => 0 };
        // torch's scaled_dot_product_attention without a scale multiplies q and k^T each by sqrt(1 / sqrt(E)), E the query's
        // last dimension read from its Shape (Shape, Slice [-1:] or Gather -1, Cast, Sqrt, Div 1 by it, Cast, Sqrt; the
        // Casts optional): the ops, and the value whose Shape is read, or null where v is not that.
        (List<OnnxOp> Ops, string Of)? HeadRoot(string v)
        {
            var path = new List<OnnxOp>();
            OnnxOp? Step(string value)
            {
                OnnxOp? p = ix.Producer(value);
                while (p is CastOp { KeepsValues: true } cast)
                {
                    path.Add(cast);
                    p = ix.Producer(cast.Inputs[0]);
                }
                return p;
            }
            if (Step(v) is not UnaryOp { Kind: UnaryKind.Sqrt } outer) return null;
            path.Add(outer);
            if (Step(outer.Inputs[0]) is not BinaryOp { Kind: BinaryKind.Div } div || div.Inputs.Count != 2 || !ix.Is(div.Inputs[0], 1)) return null;
            path.Add(div);
            if (Step(div.Inputs[1]) is not UnaryOp { Kind: UnaryKind.Sqrt } inner) return null;
            path.Add(inner);
            if (Step(inner.Inputs[0]) is not { } last || last is not (SliceOp or GatherOp) || ix.Producer(last.Inputs[0]) is not ShapeOp { Start: 0, End: null } shape) return null;
            // The last dimension: what it picks of a made-up rank-4 shape.
            try
            {
                Tensor?[] args = last.Inputs.Select((name, i) => i == 0 ? new Tensor([4], [11f, 12f, 13f, 14f]) : name.Length == 0 ? null : constants.GetValueOrDefault(name)).ToArray();
                if (last.Inputs.Skip(1).Where((name, i) => name.Length > 0 && args[i + 1] is null).Any()) return null;
                if (last.Run(args) is not { Length: 1 } picked || picked.Data[0] != 14f) return null;
            }
            catch (Exception e) when (e is ConvGLException or ArgumentException or InvalidOperationException or IndexOutOfRangeException)
            {
                return null;
            }
            path.AddRange([last, shape]);
            return (path, shape.Inputs[0]);
        }
        // Back from a MatMul's operand to the map a Reshape flattens.
        Tokens? Trace(string v, OnnxOp reader)
        {
            bool positionsFirst = false;
            double factor = 1;
            int rank = 0, roots = 0, scalarRank = 0;
            string? rootOperand = null;
            bool rootTurned = false;
            var passed = new List<OnnxOp>();
            var rootOps = new List<OnnxOp>();
            var rootsOf = new List<string>();
            while (true)
            {
                // (Read by this op; by others too only where they are in the group, checked once it is whole: one
                // flattening of x may serve as q, k and v.)
                if (!ix.Readers(v).Contains(reader) || ix.Producer(v) is not { } p) return null;
                passed.Add(p);
                if (p is ReshapeOp flatten && flatten.Inputs.Count is 1 or 2)
                    return new Tokens(flatten.Inputs[0], positionsFirst, factor, passed, flatten, rank)
                        { Roots = roots, RootOps = rootOps, RootsOf = rootsOf, ScalarRank = scalarRank, RootOperand = rootOperand, RootTurned = rootTurned };
                // A transformer's tokens (1, H*W, C) split into heads: a Reshape to (1, H*W, heads, C / heads), then Transpose
                // [0, 2, 1, 3] to (1, heads, H*W, C / heads): positions first as they come.
                if (p is TransposeOp { Perm: [0, 2, 1, 3] } && rank is 0 or 4 && ix.Producer(p.Inputs[0]) is ReshapeOp { Inputs.Count: 1 or 2 } split
                    && ix.Readers(split.Output) is [var only] && only == p)
                    return new Tokens(split.Inputs[0], !positionsFirst, factor, [.. passed, split], split, 4, FromTokens: true)
                        { Roots = roots, RootOps = rootOps, RootsOf = rootsOf, ScalarRank = scalarRank, RootOperand = rootOperand, RootTurned = rootTurned };
                reader = p;
                if (Swaps(p) is > 0 and var swapped)
                {
                    if (rank != 0 && rank != swapped) return null;
                    rank = swapped;
                    positionsFirst = !positionsFirst;
                    v = p.Inputs[0];
                }
                else if (Scaling(p) is { } sc)
                {
                    factor *= sc.Factor;
                    scalarRank = Math.Max(scalarRank, sc.Rank);
                    v = sc.Other;
                }
                else if (p is BinaryOp { Kind: BinaryKind.Mul } m && m.Inputs.Count == 2 && m.Inputs[0] != m.Inputs[1]
                         && (HeadRoot(m.Inputs[1]) is { } root1 ? (root1, m.Inputs[0]) : HeadRoot(m.Inputs[0]) is { } root0 ? (root0, m.Inputs[1]) : default) is ({ } root, { } other))
                {
                    if (roots++ == 0) (rootOperand, rootTurned) = (other, positionsFirst);
                    rootOps.AddRange(root.Ops);
                    rootsOf.Add(root.Of);
                    v = other;
                }
                else return null;
            }
        }
        foreach (OnnxOp op in ops)
        {
            if (op is not SoftmaxOp { Log: false } softmax) continue;
            // The logits: a MatMul, scaled on the way by stored values.
            var group = new List<OnnxOp> { softmax };
            double scale = 1;
            int scalarRank = 0;
            string logits = softmax.Inputs[0];
            OnnxOp reader = softmax;
            OnnxOp? mm1 = null;
            while (ix.Only(logits) == reader && ix.Producer(logits) is { } p)
            {
                if (p is MatMulOp)
                {
                    mm1 = p;
                    break;
                }
                if (Scaling(p) is not { } sc) break;
                scale *= sc.Factor;
                scalarRank = Math.Max(scalarRank, sc.Rank);
                group.Add(p);
                reader = p;
                logits = sc.Other;
            }
            if (mm1 is null || Trace(mm1.Inputs[0], mm1) is not { } a || Trace(mm1.Inputs[1], mm1) is not { } b || a.FromTokens != b.FromTokens) continue;
            // torch's default scale: one sqrt(1 / sqrt(E)) on each side, E read from the query's shape (checked below).
            if (a.Roots + b.Roots is not (0 or 2) || a.Roots != b.Roots) continue;
            // (positions of a, channels) x (channels, positions of b): the logits are (positions of a, positions of b), in
            // every head (rank 4: (N, heads, positions, positions)). a's tokens passed a transpose, which gives the rank.
            if (!a.PositionsFirst || b.PositionsFirst) continue;
            int rank = a.Rank;
            if (b.Rank is not 0 && b.Rank != rank) continue;
            if (Math.Max(scalarRank, Math.Max(a.ScalarRank, b.ScalarRank)) > rank) continue;
            int axis = softmax.Axis < 0 ? softmax.Axis + rank : softmax.Axis;
            if (axis != rank - 1 && axis != rank - 2 || (softmax.Coerced && axis != rank - 1)) continue;
            bool bIsKeys = axis == rank - 1;
            (Tokens q, Tokens k) = bIsKeys ? (a, b) : (b, a);
            // The weights (rows: a's positions, columns: b's), transposed on the way or not, into the second MatMul.
            bool rowsAreQueries = bIsKeys;
            string w = softmax.Output;
            OnnxOp? next = ix.Only(w);
            var after = new List<OnnxOp>();
            if (Swaps(next) == rank)
            {
                after.Add(next!);
                rowsAreQueries = !rowsAreQueries;
                w = next!.Output;
                next = ix.Only(w);
            }
            if (next is not MatMulOp mm2 || mm2.Inputs.Count != 2 || mm2.Inputs[0] == mm2.Inputs[1]) continue;
            bool weightsFirst = mm2.Inputs[0] == w;
            if (Trace(weightsFirst ? mm2.Inputs[1] : mm2.Inputs[0], mm2) is not { } v || v.Factor != 1 || v.Rank is not 0 && v.Rank != rank || v.FromTokens != a.FromTokens) continue;
            // weights (queries, keys) x v (key positions, channels) -> (queries, channels); v (channels, key positions) x
            // weights (keys, queries) -> (channels, queries).
            bool resultPositionsFirst;
            if (weightsFirst && rowsAreQueries && v.PositionsFirst) resultPositionsFirst = true;
            else if (!weightsFirst && !rowsAreQueries && !v.PositionsFirst) resultPositionsFirst = false;
            else continue;
            string r = mm2.Output;
            OnnxOp? back = ix.Only(r);
            // Tokens in, tokens out: the heads merged back (Transpose [0, 2, 1, 3], then a Reshape to (1, H*W, C)).
            if (a.FromTokens)
            {
                if (!resultPositionsFirst || back is not TransposeOp { Perm: [0, 2, 1, 3] }) continue;
                after.Add(back);
                r = back.Output;
                back = ix.Only(r);
            }
            else if (resultPositionsFirst)
            {
                if (Swaps(back) != rank) continue;
                after.Add(back!);
                r = back!.Output;
                back = ix.Only(r);
            }
            if (back is not ReshapeOp unflatten || unflatten.Inputs.Count is not (1 or 2)) continue;
            // (The roots read the Shape of the very value q's root multiplies, whose last axis is the one the product sums
            // over, the channels a head: torch's query. The Shape of q's flattening, (N, C, H*W), would give E = H*W.)
            if (a.Roots > 0 && (!ReferenceEquals(q, a) || a.RootTurned || a.RootOperand is not { } operand || !a.RootsOf.Concat(b.RootsOf).All(of => of == operand))) continue;
            group.AddRange([mm1, .. a.Ops, .. b.Ops, .. after, mm2, .. v.Ops, unflatten, .. a.RootOps, .. b.RootOps]);
            group = group.Distinct().ToList();
            // Every value inside is read inside the group only (a flattening shared by q, k and v is) and is no graph output.
            if (group.Any(g => g != unflatten && (ix.Readers(g.Output) is not { Count: > 0 } readers || readers.Any(r => !group.Contains(r))))) continue;
            if (ix.Taken(group)) continue;
            string label = ix.Label(group, unflatten, "Attention");
            string where = $"{source}: node '{ErrorText.Echo(label)}' (attention as {ix.Spelled(group)})";
            // (q's flattening target is read when the op runs: it says the heads, (N, heads, C / heads, H*W) or (heads, C /
            // heads, H*W).)
            string? target = q.Flatten.AttributeShape is null ? q.Flatten.Inputs[1] : null;
            var node = new OnnxNode(label, "Attention", "", [q.Map, k.Map, v.Map, .. target is null ? Array.Empty<string>() : [target]], [unflatten.Output], new Dictionary<string, OnnxAttribute>());
            ix.Stand(group, unflatten, new AttentionOp(node, where, q.Map, k.Map, v.Map, target, unflatten.Output, (float)(scale * q.Factor * k.Factor),
                [q.Flatten, k.Flatten, v.Flatten], unflatten, rank) { OutputTokens = a.FromTokens, HeadScale = a.Roots > 0 });
        }
        return ix.Result();
    }
}

/// <summary>Dot-product attention over the positions of (1, C, H, W) maps, what <see cref="AttentionPattern"/> finds: q, k
/// and v maps, the logits' scale, in one head or several; in a stack the <c>attention</c> layer (<see cref="Ops.Attention"/>).</summary>
public sealed class AttentionOp : OnnxOp
{
    public float Scale { get; }
    /// <summary>The Reshapes that flatten q, k and v (their targets: (N, C, H*W), or (N, heads, C / heads, H*W) with
    /// <see cref="Rank"/> 4), and the one back to a map.</summary>
    public IReadOnlyList<ReshapeOp> Flattens { get; }
    public ReshapeOp Unflatten { get; }
    /// <summary>The flattened tokens' rank: 3 (one head, or the heads as the batch: (heads, C / heads, H*W)) or 4 (N, heads,
    /// C / heads, H*W).</summary>
    public int Rank { get; }

    internal AttentionOp(OnnxNode node, string where, string q, string k, string v, string? qTarget, string output, float scale, IReadOnlyList<ReshapeOp> flattens,
                         ReshapeOp unflatten, int rank)
        : base(node, where, [q, k, v, .. qTarget is null ? Array.Empty<string>() : [qTarget]], output)
    {
        Scale = scale;
        Flattens = flattens;
        Unflatten = unflatten;
        Rank = rank;
    }

    /// <summary>Whether the result is tokens (1, H*W, C) (a transformer block's attention) rather than a map.</summary>
    public bool OutputTokens { get; init; }

    /// <summary>Whether the logits are also scaled by 1 / sqrt(C / heads), torch's scaled_dot_product_attention's default
    /// (computed from the query's shape in the export), beside <see cref="Scale"/>.</summary>
    public bool HeadScale { get; init; }

    /// <summary>The whole factor on the logits for a query of <paramref name="headChannels"/> channels a head.</summary>
    public float ScaleFor(int headChannels) => HeadScale ? (float)(Scale / Math.Sqrt(headChannels)) : Scale;

    /// <summary>The value holding q's flattening target (a graph value when the heads come from Shape arithmetic), or none.</summary>
    public override IEnumerable<string> IntegerInputs => Inputs.Skip(3);

    /// <summary>The heads q's flattening makes of a (1, C, H, W) map of this <paramref name="shape"/>: 1 where it gives (1, C,
    /// H*W), h where it gives (1, h, C / h, H*W) (<see cref="Rank"/> 4) or (h, C / h, H*W); null for any other shape (not
    /// attention over the positions in heads).</summary>
    public int? HeadsOf(int[] shape, long[] target)
    {
        int[] flat = Flattens[0].OutputShape(shape, target);
        // Tokens (1, H*W, C) split into (1, H*W, heads, C / heads).
        if (OutputTokens)
            return flat.Length == 4 && flat[2] >= 1 && shape[2] % flat[2] == 0 && flat.SequenceEqual([1, shape[1], flat[2], shape[2] / flat[2]]) ? flat[2] : null;
        (int c, int n) = (shape[1], shape[2] * shape[3]);
        int h = Rank == 4 ? flat[1] : flat[0];
        bool fits = h >= 1 && c % h == 0 && flat.SequenceEqual(Rank == 4 ? [1, h, c / h, n] : h == 1 ? [1, c, n] : [h, c / h, n]);
        return fits ? h : null;
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        if (OutputTokens)
        {
            // Tokens (1, N, C) as maps of C channels over 1 x N positions, and the result back to tokens.
            Tensor[] seen = inputs.Take(3).Select(t => t is { Rank: 3 } m && m.Shape[0] == 1 ? Indexing.Transpose(m.Reshape(m.Shape[1], m.Shape[2]), [1, 0]).Reshape(m.Shape[2], 1, m.Shape[1])
                : throw Error($"attention over tokens takes (1, N, C) values, got {t?.ShapeString}")).ToArray();
            long[] split = Flattens[0].AttributeShape ?? (inputs.Count > 3 ? Flattens[0].Target(inputs[3]) : throw Error("q's split into heads has no target"));
            int h = HeadsOf(inputs[0]!.Shape, split) ?? throw Error($"q's Reshape to [{string.Join(", ", split)}] does not split its (1, N, C) tokens into (1, N, heads, C / heads)");
            Tensor r = Attention.Apply(seen[0], seen[1], seen[2], ScaleFor(seen[0].C / h), h);
            return Indexing.Transpose(r.Reshape(r.C, r.W), [1, 0]).Reshape(1, r.W, r.C);
        }
        Tensor[] maps = inputs.Take(3).Select(t => t is { Rank: 4 } m && m.Shape[0] == 1 ? m.Reshape(m.Shape[1], m.Shape[2], m.Shape[3])
            : throw Error($"attention takes (1, C, H, W) maps, got {t?.ShapeString}")).ToArray();
        long[] target = Flattens[0].AttributeShape ?? (inputs.Count > 3 ? Flattens[0].Target(inputs[3]) : throw Error("q's flattening has no target"));
        int heads = HeadsOf(inputs[0]!.Shape, target) ?? throw Error($"q's Reshape to [{string.Join(", ", target)}] makes no (1, C, H*W) tokens, nor (1, heads, C / heads, H*W) or (heads, C / heads, H*W)");
        Tensor o = Attention.Apply(maps[0], maps[1], maps[2], ScaleFor(maps[0].C / heads), heads);
        return o.Reshape(1, o.C, o.H, o.W);
    }
}

/// <summary>Group normalisation as PyTorch exports nn.GroupNorm / F.group_norm (its symbolic up to opset 17): a Reshape of x
/// to (N, groups, -1) (stored [0, groups, -1]), InstanceNormalization with stored scale 1 and shift 0 over the groups, a
/// Reshape back to x's shape (Shape(x), or stored in a fixed-size export: checked in the stack); the per-channel weight and
/// bias follow as a Mul and an Add. One <see cref="GroupNormOp"/> where the values between are read inside only.</summary>
public static class GroupNormPattern
{
    public static List<OnnxOp> Fuse(IReadOnlyList<OnnxOp> ops, IReadOnlyDictionary<string, Tensor> constants, IEnumerable<string> graphOutputs, string source)
    {
        var ix = new PatternIndex(ops, constants, graphOutputs);
        long[]? Stored(ReshapeOp r) => r.AttributeShape ?? (r.Inputs.Count > 1 && constants.TryGetValue(r.Inputs[1], out Tensor? t) ? t.Data.Select(v => (long)v).ToArray() : null);
        foreach (OnnxOp op in ops)
        {
            if (op is not InstanceNormOp norm || norm.Inputs.Count != 3) continue;
            if (!constants.TryGetValue(norm.Inputs[1], out Tensor? scale) || !constants.TryGetValue(norm.Inputs[2], out Tensor? shift)
                || scale.Rank != 1 || scale.Length != shift.Length || scale.Data.Any(v => v != 1) || shift.Data.Any(v => v != 0)) continue;
            int groups = scale.Length;
            if (ix.Producer(norm.Inputs[0]) is not ReshapeOp { AllowZero: false } into || ix.Only(into.Output) != norm) continue;
            if (Stored(into) is not [0 or 1, var g, -1] || g != groups) continue;
            string x = into.Inputs[0];
            if (ix.Only(norm.Output) is not ReshapeOp { AllowZero: false } back || back.Inputs.Count != 2 && back.AttributeShape is null) continue;
            bool shapeOfX = back.Inputs.Count == 2 && ix.Producer(back.Inputs[1]) is ShapeOp { Start: 0, End: null } sh && sh.Inputs[0] == x;
            long[]? stored = shapeOfX ? null : Stored(back);
            if (!shapeOfX && stored is null) continue;
            List<OnnxOp> group = [into, norm, back];
            if (ix.Taken(group)) continue;
            string label = ix.Label(group, back, "GroupNorm");
            string where = $"{source}: node '{ErrorText.Echo(norm.Node.Label)}' (group normalisation as {ix.Spelled(group)})";
            ix.Stand(group, back, new GroupNormOp(PatternIndex.Node(label, "GroupNormalization", x, back.Output), where, x, back.Output, groups, norm.Epsilon, stored, back));
        }
        return ix.Result();
    }
}

/// <summary>Group normalisation without scale or shift over <see cref="Groups"/> groups of a (N, C, ...) value, what
/// <see cref="GroupNormPattern"/> finds; <see cref="BackTarget"/>: the stored shape it is reshaped back to (null: x's own).
/// In a stack a <c>groupnorm</c> layer (scale 1, shift 0; the Mul and Add after it are its own layers).</summary>
public sealed class GroupNormOp : OnnxOp
{
    public int Groups { get; }
    public float Epsilon { get; }
    public long[]? BackTarget { get; }
    /// <summary>The Reshape back (its rule resolves <see cref="BackTarget"/>).</summary>
    public ReshapeOp Back { get; }

    internal GroupNormOp(OnnxNode node, string where, string input, string output, int groups, float epsilon, long[]? backTarget, ReshapeOp back) : base(node, where, [input], output)
    {
        (Groups, Epsilon, BackTarget, Back) = (groups, epsilon, backTarget, back);
    }

    public override Tensor Run(IReadOnlyList<Tensor?> inputs)
    {
        // As the three ops: x as (N, groups, rest), each of the N x groups runs normalised, back to x's shape or the target.
        Tensor x = inputs[0]!;
        if (x.Rank < 2) throw Error($"input {x.ShapeString} must be (N, C, ...)");
        long rows = (long)x.Shape[0] * Groups;
        if (rows == 0 || x.Length % rows != 0) throw Error($"input {x.ShapeString} does not split into (N, {Groups}, -1)");
        var norm = new InstanceNorm(Enumerable.Repeat(1f, Groups).ToArray(), new float[Groups], Epsilon);
        Tensor y = norm.Apply(new Tensor([(int)rows, (int)(x.Length / rows)], x.Data), (int)(x.Length / rows));
        if (BackTarget is null) return new Tensor(x.Shape, y.Data);
        return new Tensor(ResolveBack(x.Shape), y.Data);
    }

    /// <summary>The stored back target resolved for an x of <paramref name="shape"/> as the Reshape back resolves it from
    /// (N, groups, rest).</summary>
    public int[] ResolveBack(int[] shape)
    {
        int rest = (int)(shape.Aggregate(1L, (p, d) => p * d) / ((long)shape[0] * Groups));
        return Back.OutputShape([shape[0], Groups, rest], BackTarget!);
    }
}
