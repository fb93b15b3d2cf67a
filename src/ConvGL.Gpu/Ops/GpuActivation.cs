using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Activation.Apply(Tensor, ActivationKind, float, float, float, float)"/>. Input and output may be the
/// same tensor (in place). shaders/activation_fast.comp runs wherever the input fits a texel view (every tensor a
/// window or stack makes): its body reads four values per rgba32f texel, <see cref="TexelsPerInvocation"/> texels per
/// invocation, and a second small dispatch covers the last n % 4 values. activation.comp (one value per invocation,
/// storage-block loads) is the fallback beyond the driver's texel-buffer size.</summary>
public sealed class GpuActivation : IDisposable
{
    /// <summary>rgba32f texels (4 values each) one invocation of activation_fast.comp's body reads.</summary>
    private const int TexelsPerInvocation = 4;

    // Made once: a string built per run would be an allocation per frame.
    private static readonly string FastVariant = $"activation_fast: {4 * TexelsPerInvocation} values/invocation";
    private static readonly string FastVariant32 = FastVariant + ", 32-byte stores";

    private readonly GlContext _context;
    private ActivationKind _kind;
    // [0] activation.comp, [1] the fast body (VEC 4), [2] the fast tail (VEC 1): fetched once per kind.
    private readonly GlProgram?[] _programs = new GlProgram?[4];
    private GpuTensor? _scratch;

    public float Slope { get; set; }
    /// <summary>Clip's bounds (infinite: none); unused by the other kinds.</summary>
    public float Min { get; set; } = float.NegativeInfinity;
    public float Max { get; set; } = float.PositiveInfinity;
    /// <summary>Selu's gamma, HardSigmoid's beta (<see cref="Slope"/> is their alpha).</summary>
    public float Beta { get; set; }

    public GpuActivation(GlContext context, ActivationKind kind, float slope = Activation.DefaultLeakySlope)
    {
        _context = context;
        _kind = kind;
        Slope = slope;
    }

    public ActivationKind Kind
    {
        get => _kind;
        set
        {
            if (value != _kind) Array.Clear(_programs);
            _kind = value;
        }
    }

    /// <summary>For tests: force activation.comp (<see cref="ConvPath.Direct"/>); anything else runs the fast variant
    /// wherever it applies.</summary>
    internal ConvPath Choice { get; set; }

    /// <summary>The shader of the last <see cref="Run"/>, for tests and the HUD.</summary>
    public string Variant { get; private set; } = "(not run yet)";

    public void Run(GpuTensor input, GpuTensor output)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        if (!ReferenceEquals(input, output)) output.Resize(input.C, input.H, input.W);
        GL gl = _context.Gl;
        int n = input.Length;
        if (Choice == ConvPath.Direct || n > ComputeOp.MaxTexelViewFloats(gl))
        {
            GlProgram p = _programs[0] ??= _context.Shaders.Compute("activation.comp", ("ACTIVATION", (int)_kind));
            Variant = "activation: 1 value/invocation";
            p.Use();
            gl.Uniform1(p.Uniform("u_count"), n);
            gl.Uniform1(p.Uniform("u_slope"), Slope);
            gl.Uniform1(p.Uniform("u_min"), Min);
            gl.Uniform1(p.Uniform("u_max"), Max);
            gl.Uniform1(p.Uniform("u_beta"), Beta);
            input.Buffer.Bind(0);
            output.Buffer.Bind(3);
            p.DispatchFlat(n);
            ComputeOp.Barrier(gl);
            return;
        }
        Variant = FastVariant;
        ComputeOp.BeforeTexelReads(gl);
        output.Buffer.Bind(3);
        int texels = n / 4;
        if (texels > 0)
        {
            // An even texel count: pairs of texels as 32-byte stores (program 3).
            bool u64 = _context.WideStores && texels % 2 == 0;
            GlProgram body = u64
                ? _programs[3] ??= _context.Shaders.Compute("activation_fast.comp", ("ACTIVATION", (int)_kind), ("VEC", 4), ("NV", TexelsPerInvocation), ("U64_STORES", 1))
                : _programs[1] ??= _context.Shaders.Compute("activation_fast.comp", ("ACTIVATION", (int)_kind), ("VEC", 4), ("NV", TexelsPerInvocation), ("U64_STORES", 0));
            Variant = u64 ? FastVariant32 : FastVariant;
            input.Buffer.BindTexelView(ComputeOp.InputUnit, vec4: true);
            Dispatch(body, 0, texels, TexelsPerInvocation);
        }
        if (n % 4 != 0)
        {
            GlProgram tail = _programs[2] ??= _context.Shaders.Compute("activation_fast.comp", ("ACTIVATION", (int)_kind), ("VEC", 1), ("NV", 1), ("U64_STORES", 0));
            input.Buffer.BindTexelView(ComputeOp.InputUnit);
            Dispatch(tail, 4 * texels, n, 1);
        }
        ComputeOp.Barrier(gl);
    }

    private void Dispatch(GlProgram p, int first, int end, int perInvocation)
    {
        GL gl = _context.Gl;
        p.Use();
        gl.Uniform1(p.Uniform("u_first"), first);
        gl.Uniform1(p.Uniform("u_end"), end);
        gl.Uniform1(p.Uniform("u_slope"), Slope);
        gl.Uniform1(p.Uniform("u_min"), Min);
        gl.Uniform1(p.Uniform("u_max"), Max);
        gl.Uniform1(p.Uniform("u_beta"), Beta);
        p.DispatchFlat((end - first + perInvocation - 1) / perInvocation);
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new GpuTensor(_context, label: "activation scratch");
        _scratch.Upload(input.Rank == 3 ? input : input.Reshape(1, 1, input.Length));
        Run(_scratch, _scratch);
        return _scratch.Download().Reshape(input.Shape);
    }

    public void Dispose() => _scratch?.Dispose();
}
