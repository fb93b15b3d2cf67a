using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Elementwise.Apply"/> (shaders/add.comp): a + b (or the other <see cref="BinaryKind"/>s,
/// by <see cref="Kind"/>) with NumPy broadcasting over up to 4 dimensions. GPU tensors are (C, H, W) storage; the logical shapes are passed alongside. Equal shapes (a residual
/// add) take add.comp's SAME_SHAPE program: inputs through texel views, 4 values per invocation where the count allows.</summary>
public sealed class GpuAdd(GlContext context, BinaryKind kind = BinaryKind.Add) : IDisposable
{
    public BinaryKind Kind { get; } = kind;

    // Each program without and with a fused ReLU ([0], [1]).
    private readonly GlProgram?[] _program = new GlProgram?[2], _same = new GlProgram?[2], _same4 = new GlProgram?[2], _samePairs = new GlProgram?[2];
    // The plane-broadcast programs (add.comp's PLANE 1, 2 and 3, scalar and vec4: [PLANE - 1, vec4]), unfused.
    private readonly GlProgram?[,] _plane = new GlProgram?[3, 2];

    /// <summary>When set, this activation (any element-wise one, the reference's <see cref="Activation"/> values) is
    /// applied to every result as it is stored: the stack runner's fusion of a residual add and the activation after it.</summary>
    public FusedActivation? Fused
    {
        get;
        set
        {
            if (Equals(value, field)) return;
            field = value;
            // The fused programs and variant lines, made again only when the activation changes (runs allocate nothing).
            (_program[1], _same[1], _same4[1], _samePairs[1]) = (null, null, null, null);
            _fusedVariants = value is null ? null : Suffixed(value.Suffix);
        }
    }

    // Not a lambda in the setter: its closure over `value` would be allocated on every set, also the frames' unchanged ones.
    private static string[] Suffixed(string suffix) => [.. PlainVariants.Select(v => v + suffix)];

    private static readonly string[] PlainVariants = ["same shape: pairs of vec4s, 32-byte stores", "same shape: vec4", "same shape: 1 value", "broadcast", "a plane over every channel: vec4", "a plane over every channel: 1 value", "a map and one value: vec4", "a map and one value: 1 value"];
    private string[]? _fusedVariants;
    private string VariantLine(int k) => _fusedVariants?[k] ?? PlainVariants[k];
    private int R => Fused is null ? 0 : 1;
    private (string, object)[] Act => FusedActivation.Defines(Fused);

    /// <summary>Which program the last run used, for tests: "same shape: pairs of vec4s, 32-byte stores", "same shape:
    /// vec4", "same shape: 1 value", or "broadcast"; ", relu fused" (or the other activation's name) after it with <see cref="Fused"/>.</summary>
    internal string Variant { get; private set; } = "(not run yet)";
    private GpuTensor? _scratchA, _scratchB, _scratchOut;

    /// <summary>Writes a + b into <paramref name="output"/> (resized to hold the broadcast shape, stored as
    /// (1, 1, n) unless <paramref name="storage"/> says otherwise) and returns the broadcast shape.</summary>
    public int[] Run(GpuTensor a, int[] aShape, GpuTensor b, int[] bShape, GpuTensor output, (int C, int H, int W)? storage = null)
    {
        context.CheckThread();
        context.FlushDisposables();
        if (ReferenceEquals(a, output) || ReferenceEquals(b, output)) throw new ArgumentException("add: the output must be a different tensor");
        string name = Kind.ToString().ToLowerInvariant();
        int[] shape = Elementwise.BroadcastShape(aShape, bShape, name);
        int n = (int)shape.Aggregate(1L, (x, d) => x * d);
        (int c, int h, int w) = storage ?? (1, 1, n);
        if ((long)c * h * w != n) throw new ArgumentException($"storage ({c}, {h}, {w}) does not hold {n} values");
        output.Resize(c, h, w);
        if (aShape.AsSpan().SequenceEqual(bShape) && TryRunSameShape(a, b, output, n)) return shape;
        (int[] cs, int[] ca, int[] cb) = Coalesce(shape, aShape, bShape);
        if (cs.Length > 4) throw new ConvGLException($"{name} on the GPU takes up to 4 dimensions after merging, got {Tensor.ShapeText(shape)} from {Tensor.ShapeText(aShape)} and {Tensor.ShapeText(bShape)}");
        int[] dims = Pad4(cs);
        int[] sa = Strides4(ca, dims), sb = Strides4(cb, dims);
        RunBroadcast(a, b, output, n, (dims[0], dims[1], dims[2], dims[3]), (sa[0], sa[1], sa[2], sa[3]), (sb[0], sb[1], sb[2], sb[3]));
        return shape;
    }

    /// <summary>a OP b for two maps that broadcast along each of C, H and W (equal, or one of them 1 there: a map less its
    /// per-channel mean (C, 1, 1), a spatial gate (1, H, W)), into <paramref name="output"/> (resized to the broadcast
    /// (C, H, W)). Equal shapes take <see cref="Run(GpuTensor, GpuTensor, GpuTensor)"/>'s program. Allocates nothing.</summary>
    public void RunMaps(GpuTensor a, GpuTensor b, GpuTensor output)
    {
        if ((a.C, a.H, a.W) == (b.C, b.H, b.W))
        {
            Run(a, b, output);
            return;
        }
        context.CheckThread();
        context.FlushDisposables();
        if (ReferenceEquals(a, output) || ReferenceEquals(b, output)) throw new ArgumentException("add: the output must be a different tensor");
        static int Joined(int x, int y) => x == y || y == 1 ? x : x == 1 ? y : -1;
        int c = Joined(a.C, b.C), h = Joined(a.H, b.H), w = Joined(a.W, b.W);
        if (c < 0 || h < 0 || w < 0) throw new ArgumentException($"{Kind.ToString().ToLowerInvariant()}: {a.ShapeString} and {b.ShapeString} do not broadcast");
        output.Resize(c, h, w);
        // One plane against C planes of its size (a spatial gate): texel views, 4 values a fetch where the plane allows.
        if ((a.H, a.W) == (b.H, b.W) && (a.C == 1 || b.C == 1) && Fused is null && TryRunPlane(a, b, output, b.C == 1 ? 1 : 2)) return;
        // A map and one value (x^2, max(x, 0.5)).
        if (b.Length == 1 && Fused is null && TryRunPlane(a, b, output, 3)) return;
        // Element strides in the (1, C, H, W) index space, 0 along an axis the input is broadcast over.
        static (int, int, int, int) Strides(GpuTensor t, int c, int h, int w) =>
            (0, t.C == 1 && c != 1 ? 0 : t.H * t.W, t.H == 1 && h != 1 ? 0 : t.W, t.W == 1 && w != 1 ? 0 : 1);
        RunBroadcast(a, b, output, c * h * w, (1, c, h, w), Strides(a, c, h, w), Strides(b, c, h, w));
    }

    /// <summary>a + b for two tensors of the same (C, H, W), into <paramref name="output"/> (resized to it): a residual
    /// add in a stack. Allocates nothing, so a per-frame stack run can call it (the shape overload builds arrays).</summary>
    public void Run(GpuTensor a, GpuTensor b, GpuTensor output)
    {
        context.CheckThread();
        context.FlushDisposables();
        if (ReferenceEquals(a, output) || ReferenceEquals(b, output)) throw new ArgumentException("add: the output must be a different tensor");
        if (a.C != b.C || a.H != b.H || a.W != b.W) throw new ArgumentException($"add: {a.ShapeString} and {b.ShapeString} differ");
        output.Resize(a.C, a.H, a.W);
        // Beyond a texel view's size (or empty): the shape overload's general program, allocating a few arrays.
        if (!TryRunSameShape(a, b, output, a.Length)) Run(a, [a.C, a.H, a.W], b, [b.C, b.H, b.W], output, (a.C, a.H, a.W));
    }

    /// <summary>add.comp's SAME_SHAPE program (texel-view reads, 4 values per invocation when n allows); false when n
    /// is 0 or beyond a texel view's size.</summary>
    private bool TryRunSameShape(GpuTensor a, GpuTensor b, GpuTensor output, int n)
    {
        GL gl = context.Gl;
        if (n <= 0 || n > ComputeOp.MaxTexelViewFloats(gl)) return false;
        bool vec4 = n % 4 == 0, pairs = n % 8 == 0 && context.WideStores;
        GlProgram same = pairs ? _samePairs[R] ??= context.Shaders.Compute("add.comp", [("SAME_SHAPE", 1), ("VEC4", 1), ("PAIRS", 1), ("OP", (int)Kind), .. Act])
            : vec4 ? _same4[R] ??= context.Shaders.Compute("add.comp", [("SAME_SHAPE", 1), ("VEC4", 1), ("PAIRS", 0), ("OP", (int)Kind), .. Act])
            : _same[R] ??= context.Shaders.Compute("add.comp", [("SAME_SHAPE", 1), ("VEC4", 0), ("PAIRS", 0), ("OP", (int)Kind), .. Act]);
        Variant = VariantLine(pairs ? 0 : vec4 ? 1 : 2);
        ComputeOp.BeforeTexelReads(gl);
        a.Buffer.BindTexelView(0, vec4);
        b.Buffer.BindTexelView(1, vec4);
        output.Buffer.Bind(3);
        same.Use();
        int count = vec4 ? n / 4 : n;
        gl.Uniform1(same.Uniform("u_count"), count);
        same.DispatchFlat(pairs ? count / 2 : count);
        ComputeOp.Barrier(gl);
        return true;
    }

    /// <summary>add.comp's SAME_SHAPE program with PLANE <paramref name="side"/> (1: b is the plane, 2: a): the plane read
    /// at index % plane; 3: b is one value. False when the tensors pass a texel view's size.</summary>
    private bool TryRunPlane(GpuTensor a, GpuTensor b, GpuTensor output, int side)
    {
        GL gl = context.Gl;
        int n = output.Length, plane = side == 3 ? 1 : output.H * output.W;
        if (n <= 0 || n > ComputeOp.MaxTexelViewFloats(gl)) return false;
        bool vec4 = side == 3 ? n % 4 == 0 : plane % 4 == 0;
        GlProgram p = _plane[side - 1, vec4 ? 1 : 0] ??= context.Shaders.Compute("add.comp", [("SAME_SHAPE", 1), ("VEC4", vec4 ? 1 : 0), ("PAIRS", 0), ("PLANE", side), ("OP", (int)Kind)]);
        Variant = VariantLine((side == 3 ? 6 : 4) + (vec4 ? 0 : 1));
        ComputeOp.BeforeTexelReads(gl);
        a.Buffer.BindTexelView(0, vec4);
        b.Buffer.BindTexelView(1, vec4 && side != 3);
        output.Buffer.Bind(3);
        p.Use();
        int count = vec4 ? n / 4 : n;
        gl.Uniform1(p.Uniform("u_count"), count);
        gl.Uniform1(p.Uniform("u_plane"), vec4 && side != 3 ? plane / 4 : plane);
        p.DispatchFlat(count);
        ComputeOp.Barrier(gl);
        return true;
    }

    /// <summary>add.comp's general program: rank-4 output dims and each input's element strides (0 where broadcast).</summary>
    private void RunBroadcast(GpuTensor a, GpuTensor b, GpuTensor output, int n, (int, int, int, int) dims,
                              (int, int, int, int) aStride, (int, int, int, int) bStride)
    {
        GL gl = context.Gl;
        GlProgram p = _program[R] ??= context.Shaders.Compute("add.comp", [("OP", (int)Kind), .. Act]);
        Variant = VariantLine(3);
        p.Use();
        gl.Uniform1(p.Uniform("u_count"), n);
        gl.Uniform4(p.Uniform("u_dims"), dims.Item1, dims.Item2, dims.Item3, dims.Item4);
        gl.Uniform4(p.Uniform("u_a_stride"), aStride.Item1, aStride.Item2, aStride.Item3, aStride.Item4);
        gl.Uniform4(p.Uniform("u_b_stride"), bStride.Item1, bStride.Item2, bStride.Item3, bStride.Item4);
        a.Buffer.Bind(0);
        b.Buffer.Bind(1);
        output.Buffer.Bind(3);
        if (n > 0) p.DispatchFlat(n);
        ComputeOp.Barrier(gl);
    }

    /// <summary>The broadcast with size-1 output dimensions dropped and neighbours merged where each input is either
    /// whole along both or broadcast along both: the same element mapping in as few dimensions as it takes (a
    /// (2, 3, 4, 5, 6) input with a per-channel (1, 3, 1, 1, 1) slope is (2, 3, 120) against (1, 3, 1)).</summary>
    private static (int[] Shape, int[] A, int[] B) Coalesce(int[] shape, int[] aShape, int[] bShape)
    {
        int rank = shape.Length;
        int At(int[] s, int d) => d - (rank - s.Length) >= 0 ? s[d - (rank - s.Length)] : 1;
        List<int> os = [], oa = [], ob = [];
        for (int d = 0; d < rank; d++)
        {
            if (shape[d] == 1) continue;
            int da = At(aShape, d), db = At(bShape, d);
            if (os.Count > 0 && (oa[^1] == 1) == (da == 1) && (ob[^1] == 1) == (db == 1) && (oa[^1] == 1 || oa[^1] == os[^1]) && (ob[^1] == 1 || ob[^1] == os[^1]))
            {
                os[^1] *= shape[d];
                oa[^1] = oa[^1] == 1 ? 1 : oa[^1] * da;
                ob[^1] = ob[^1] == 1 ? 1 : ob[^1] * db;
            }
            else
            {
                os.Add(shape[d]);
                oa.Add(da);
                ob.Add(db);
            }
        }
        return (os.ToArray(), oa.ToArray(), ob.ToArray());
    }

    private static int[] Pad4(int[] shape) => [.. Enumerable.Repeat(1, 4 - shape.Length), .. shape];

    /// <summary>Element strides of <paramref name="shape"/> in the rank-4 output index space, 0 where broadcast.</summary>
    private static int[] Strides4(int[] shape, int[] dims)
    {
        int[] s4 = Pad4(shape);
        var strides = new int[4];
        int stride = 1;
        for (int d = 3; d >= 0; d--)
        {
            strides[d] = s4[d] == 1 && dims[d] != 1 ? 0 : stride;
            stride *= s4[d];
        }
        return strides;
    }

    public Tensor Apply(Tensor a, Tensor b)
    {
        _scratchA ??= new GpuTensor(context, label: "add scratch a");
        _scratchB ??= new GpuTensor(context, label: "add scratch b");
        _scratchOut ??= new GpuTensor(context, label: "add scratch out");
        _scratchA.Upload(a.Reshape(1, 1, a.Length));
        _scratchB.Upload(b.Reshape(1, 1, b.Length));
        int[] shape = Run(_scratchA, a.Shape, _scratchB, b.Shape, _scratchOut);
        return _scratchOut.Download().Reshape(shape);
    }

    public void Dispose()
    {
        _scratchA?.Dispose();
        _scratchB?.Dispose();
        _scratchOut?.Dispose();
    }
}
