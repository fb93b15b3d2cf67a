using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="Magnitude.Apply"/>: sqrt(a^2 + b^2) of channel pairs. shaders/magnitude_fast.comp
/// wherever the input fits a texel view: rgba32f texels (4 values at once) when a plane holds a multiple of 4 values,
/// r32f texels otherwise, <see cref="PerInvocation"/> of them per invocation; magnitude.comp (one value per invocation,
/// storage-block loads) beyond the driver's texel-buffer size.</summary>
public sealed class GpuMagnitude(GlContext context)
{
    /// <summary>Texels (of 4 or 1 values) one invocation of magnitude_fast.comp computes.</summary>
    private const int PerInvocation = 4;

    // Made once: a string built per run would be an allocation per frame.
    private static readonly string[] FastVariants = [$"magnitude_fast: {PerInvocation} values/invocation", $"magnitude_fast: {4 * PerInvocation} values/invocation",
        $"magnitude_fast: {4 * PerInvocation} values/invocation, 32-byte stores"];

    // [0] magnitude.comp, [1] fast with VEC 4, [2] fast with VEC 1.
    private readonly GlProgram?[] _programs = new GlProgram?[4];

    /// <summary>For tests: force magnitude.comp (<see cref="ConvPath.Direct"/>); anything else runs the fast variant
    /// wherever it applies.</summary>
    internal ConvPath Choice { get; set; }

    /// <summary>The shader of the last <see cref="Run"/>, for tests and the HUD.</summary>
    public string Variant { get; private set; } = "(not run yet)";

    public void Run(GpuTensor input, GpuTensor output)
    {
        context.CheckThread();
        context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "magnitude");
        if (input.C % 2 != 0) throw new ArgumentException($"magnitude needs an even channel count, got {input.ShapeString}");
        output.Resize(input.C / 2, input.H, input.W);
        GL gl = context.Gl;
        int plane = input.H * input.W, n = output.Length;
        if (Choice == ConvPath.Direct || input.Length > ComputeOp.MaxTexelViewFloats(gl))
        {
            GlProgram slow = _programs[0] ??= context.Shaders.Compute("magnitude.comp");
            Variant = "magnitude: 1 value/invocation";
            slow.Use();
            gl.Uniform1(slow.Uniform("u_plane"), plane);
            gl.Uniform1(slow.Uniform("u_count"), n);
            input.Buffer.Bind(0);
            output.Buffer.Bind(3);
            slow.DispatchFlat(n);
            ComputeOp.Barrier(gl);
            return;
        }
        int vec = plane % 4 == 0 ? 4 : 1;
        // An even count of output vec4s: pairs of them as 32-byte stores (program 3).
        bool u64 = vec == 4 && n / 4 % 2 == 0 && context.WideStores;
        GlProgram p = _programs[u64 ? 3 : vec == 4 ? 1 : 2] ??= context.Shaders.Compute("magnitude_fast.comp", ("VEC", vec), ("NV", PerInvocation), ("U64_STORES", u64 ? 1 : 0));
        Variant = u64 ? FastVariants[2] : vec == 4 ? FastVariants[1] : FastVariants[0];
        ComputeOp.BeforeTexelReads(gl);
        p.Use();
        gl.Uniform1(p.Uniform("u_plane"), plane / vec);
        gl.Uniform1(p.Uniform("u_count"), n / vec);
        input.Buffer.BindTexelView(ComputeOp.InputUnit, vec4: vec == 4);
        output.Buffer.Bind(3);
        p.DispatchFlat((n / vec + PerInvocation - 1) / PerInvocation);
        ComputeOp.Barrier(gl);
    }
}
