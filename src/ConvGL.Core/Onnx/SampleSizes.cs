using ConvGL.Core.Stacks;

namespace ConvGL.Core.Onnx;

/// <summary>How a stack's (C, H, W) map is held as an ONNX value: (1, C, H, W); channels-last (1, H, W, C) (ConvNeXt's
/// stretch); flattened (1, C, H*W); tokens (1, H*W, C) (a transformer block's).</summary>
internal enum MapLayout { Map, ChannelsLast, Flat, Tokens }

/// <summary>Shape arithmetic at a few sample input sizes, for the import of a dynamic-size export (OnnxStack): each map's
/// size at each sample comes from the stack layers' own size rules, each Shape of a map gives that size, and the ops after
/// it run on those numbers as they do on stored ones. A Resize whose sizes, or a Pad whose output, equal one map's size at
/// every sample where the arithmetic runs (two at least) and follow it (<see cref="Match"/>) is a layer that takes that
/// map's size (UNet's pad-to-match, F.interpolate(x, size=skip.shape[-2:])); only maps whose Shape the value is computed
/// from are candidates. With a fixed declared input size that size is the one
/// sample (the model runs at no other).</summary>
internal sealed class SampleSizes(IReadOnlyList<(int H, int W)> samples, IReadOnlyList<StackLayer> layers)
{
    /// <summary>Samples for an input of any size: even and odd, wide and tall, so that maps of different sizes differ
    /// at one of them at least.</summary>
    public static readonly (int H, int W)[] Dynamic = [(224, 288), (251, 317), (199, 263), (320, 240)];

    // Each shape value at each sample (null: that sample's arithmetic failed), the maps whose Shape it is computed from,
    // and each layer's map size at each sample (null: the layer refuses that size).
    private readonly Dictionary<string, Tensor?[]> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<int>> _from = new(StringComparer.Ordinal);
    private readonly Dictionary<int, (int H, int W)?[]> _sizes = [];
    // The Shapes and the ops after them, in order, to run again with one map's size changed (Follows); the stored values.
    private readonly List<(OnnxOp Op, int Map, int Channels, MapLayout Layout)> _recorded = [];
    private IReadOnlyDictionary<string, Tensor> _known = new Dictionary<string, Tensor>();

    /// <summary>How many samples must agree: every one of a fixed size, two or more of the dynamic ones.</summary>
    public int Needed => samples.Count == 1 ? 1 : 2;

    public int Count => samples.Count;

    /// <summary>A shape value at each sample (null where its arithmetic failed), or null for a value no map's Shape went
    /// into (a stored constant).</summary>
    public Tensor?[]? ValuesOf(string name) => _values.TryGetValue(name, out Tensor?[]? v) ? v : null;

    /// <summary>Drops what was worked out for layer <paramref name="j"/> (it was replaced by a layer of another size).</summary>
    public void Forget(int j) => _sizes.Remove(j);

    /// <summary>Map <paramref name="j"/>'s size at each sample (-1: the input).</summary>
    public (int H, int W)?[] SizesOf(int j)
    {
        if (j < 0) return samples.Select(s => ((int H, int W)?)s).ToArray();
        if (_sizes.TryGetValue(j, out var known)) return known;
        StackLayer layer = layers[j];
        (int H, int W)?[][] inputs = layer.InputsOf(j).Select(SizesOf).ToArray();
        var result = new (int H, int W)?[samples.Count];
        for (int k = 0; k < samples.Count; k++)
        {
            if (inputs.Any(i => i[k] is null)) continue;
            try { result[k] = layer.OutputSize(inputs.Select(i => i[k]!.Value).ToArray()); }
            catch (ConvGLException) { }
        }
        return _sizes[j] = result;
    }

    /// <summary>A Shape of map <paramref name="j"/> held in <paramref name="layout"/> (rank 4; channels-last inside a
    /// ConvNeXt stretch; rank 3 flattened or as tokens inside a transformer block).</summary>
    public void Shape(ShapeOp op, int j, int channels, MapLayout layout)
    {
        (int H, int W)?[] sizes = SizesOf(j);
        _values[op.Output] = sizes.Select(s => s is { } z ? Shape(op, z, channels, layout) : null).ToArray();
        _from[op.Output] = [j];
        _recorded.Add((op, j, channels, layout));
    }

    private static Tensor Shape(ShapeOp op, (int H, int W) z, int channels, MapLayout layout) => op.Of(layout switch
    {
        MapLayout.ChannelsLast => new[] { 1, z.H, z.W, channels },
        MapLayout.Flat => new[] { 1, channels, z.H * z.W },
        MapLayout.Tokens => new[] { 1, z.H * z.W, channels },
        _ => new[] { 1, channels, z.H, z.W },
    });

    /// <summary>A shape-arithmetic op after a Shape: run at each sample on that sample's values (the others as stored).</summary>
    public void Run(OnnxOp op, IReadOnlyDictionary<string, Tensor> known)
    {
        string[] sampled = op.Inputs.Where(v => v.Length > 0 && _values.ContainsKey(v)).Distinct().ToArray();
        if (sampled.Length == 0) return;
        _known = known;
        _recorded.Add((op, -2, 0, MapLayout.Map));
        var values = new Tensor?[samples.Count];
        for (int k = 0; k < samples.Count; k++)
        {
            Tensor?[] args = op.Inputs.Select(v => v.Length == 0 ? null : _values.TryGetValue(v, out Tensor?[]? s) ? s[k] : known[v]).ToArray();
            if (sampled.Any(v => _values[v][k] is null)) continue;
            try { values[k] = op.Run(args); }
            catch (Exception e) when (e is ConvGLException or ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException) { }
        }
        _values[op.Output] = values;
        _from[op.Output] = new SortedSet<int>(sampled.SelectMany(v => _from[v]));
    }

    /// <summary>The map whose size a Resize's sizes (N, C, H, W) or (H, W) are at every sample, or null.</summary>
    public int? MapOfSizes(ResizeOp op, string sizes)
    {
        if (!_values.TryGetValue(sizes, out Tensor?[]? values)) return null;
        static (int H, int W)? Size(Tensor? t) => t is { Length: 2 or 4 } ? ((int)t.Data[^2], (int)t.Data[^1]) : null;
        return Match(sizes, values.Select(Size).ToArray(), (again, _) => Size(again), padded: null);
    }

    /// <summary>Whole factors (ry, rx) such that a Resize's sizes are (ry h, rx w) of its input map's (h, w) at every
    /// sample (an upsampling by scale_factor exported as sizes computed from Shape): a resize by those scales, the same
    /// for every size. Only whole factors: for any other ratio ONNX's coordinate mapping uses sizes / input, which a
    /// fixed scale does not give on every size. Null when none.</summary>
    public (int Y, int X)? WholeFactors(string sizes, int from)
    {
        if (!_values.TryGetValue(sizes, out Tensor?[]? values)) return null;
        (int H, int W)?[] input = SizesOf(from);
        (int Y, int X)? factors = null;
        int agreeing = 0;
        for (int k = 0; k < samples.Count; k++)
        {
            if (values[k] is not { Length: 2 or 4 } t || input[k] is not { } s) continue;
            float sy = t.Data[^2], sx = t.Data[^1];
            if (sy % s.H != 0 || sx % s.W != 0 || sy < s.H || sx < s.W) return null;
            (int Y, int X) f = ((int)(sy / s.H), (int)(sx / s.W));
            if (factors is { } earlier && earlier != f) return null;
            factors = f;
            agreeing++;
        }
        return agreeing >= Needed ? factors : null;
    }

    /// <summary>The map whose size a Pad of map <paramref name="from"/> gives at every sample, with half of each difference
    /// before (rounded down) and the rest after, the batch and channels unpadded; or null.</summary>
    public int? MapOfPads(PadOp op, int from)
    {
        string name = op.Inputs[1];
        if (!_values.TryGetValue(name, out Tensor?[]? values)) return null;
        (int H, int W)?[] sizes = SizesOf(from);
        var targets = new (int H, int W)?[samples.Count];
        for (int k = 0; k < samples.Count; k++)
        {
            if (values[k] is not { Length: 8 } t || sizes[k] is not { } s) continue;
            float[] p = t.Data;
            if (p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0) return null;
            (int h, int w) = (s.H + (int)p[2] + (int)p[6], s.W + (int)p[3] + (int)p[7]);
            if (p[2] != Math.Floor((h - s.H) / 2.0) || p[3] != Math.Floor((w - s.W) / 2.0)) return null;
            targets[k] = (h, w);
        }
        // Moved: the pads run again with a candidate's size changed; the padded map's own size changes too when the
        // candidate is that map.
        int k0 = Array.FindIndex(targets, t => t is not null);
        return Match(name, targets, padded: from, target: (again, own) => again is { Length: 8 } p && (own ?? sizes[k0]) is { } s
            ? (s.H + (int)p.Data[2] + (int)p.Data[6], s.W + (int)p.Data[3] + (int)p.Data[7]) : null);
    }

    /// <summary>The latest map the value is computed from whose size is the target at every sample that has one, and
    /// which the target follows: with that map's size changed at one sample (its Shape's H and W only), the shape
    /// arithmetic run again gives its changed size (two maps of equal sizes at every sample, one taken for the batch and
    /// channels and the other for H and W, are told apart so). <paramref name="padded"/>: the map a Pad pads (its own
    /// size moves with a candidate that is that map), else null.</summary>
    private int? Match(string value, (int H, int W)?[] targets, Func<Tensor, (int H, int W)?, (int H, int W)?> target, int? padded)
    {
        if (targets.Count(t => t is not null) < Needed) return null;
        int k0 = Array.FindIndex(targets, t => t is not null);
        foreach (int j in _from[value].Reverse())
        {
            (int H, int W)?[] sizes = SizesOf(j);
            if (!Enumerable.Range(0, samples.Count).All(k => targets[k] is null || sizes[k] == targets[k])) continue;
            (int H, int W) moved = (sizes[k0]!.Value.H + 5, sizes[k0]!.Value.W + 7);
            if (Replay(value, k0, j, moved) is { } again && target(again, j == padded ? moved : null) == moved) return j;
        }
        return null;
    }

    /// <summary>The shape arithmetic up to <paramref name="value"/> at sample <paramref name="k"/>, map <paramref name="map"/>'s
    /// Shape giving <paramref name="size"/>; null where it fails.</summary>
    private Tensor? Replay(string value, int k, int map, (int H, int W) size)
    {
        var local = new Dictionary<string, Tensor?>(StringComparer.Ordinal);
        foreach ((OnnxOp op, int j, int channels, MapLayout last) in _recorded)
        {
            if (op is ShapeOp shape && j >= -1)
                local[op.Output] = j == map ? Shape(shape, size, channels, last) : SizesOf(j)[k] is { } z ? Shape(shape, z, channels, last) : null;
            else
            {
                Tensor?[] args = op.Inputs.Select(v => v.Length == 0 ? null : local.TryGetValue(v, out Tensor? t) ? t : _known.GetValueOrDefault(v)).ToArray();
                try { local[op.Output] = op.Inputs.Where((v, i) => v.Length > 0 && args[i] is null).Any() ? null : op.Run(args); }
                catch (Exception e) when (e is ConvGLException or ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException)
                {
                    local[op.Output] = null;
                }
            }
            if (op.Output == value) return local[op.Output];
        }
        return null;
    }
}
