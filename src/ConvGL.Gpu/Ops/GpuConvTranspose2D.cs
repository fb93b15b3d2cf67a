using ConvGL.Core;
using ConvGL.Core.Ops;
using Silk.NET.OpenGL;

namespace ConvGL.Gpu.Ops;

/// <summary>The GPU twin of <see cref="ConvTranspose2D.Apply"/> (shaders/conv_transpose.comp): weights and bias uploaded
/// once (again on <see cref="SetWeights"/>), one output value per invocation.</summary>
public sealed class GpuConvTranspose2D : IDisposable
{
    private readonly GlContext _context;
    private readonly GlBuffer _weight, _bias;
    private GlProgram? _program;
    private ScratchTensors? _scratch;
    private int[] _weightShape = [1, 1, 1, 1];
    private int _biasLength;

    public ConvTransposeOptions Options { get; set; }

    public GpuConvTranspose2D(GlContext context, Tensor weight, float[]? bias, ConvTransposeOptions options)
    {
        _context = context;
        _weight = new GlBuffer(context, "conv_transpose weight");
        _bias = new GlBuffer(context, "conv_transpose bias");
        Options = options;
        SetWeights(weight, bias);
    }

    public void SetWeights(Tensor weight, float[]? bias)
    {
        if (weight.Rank != 4) throw new ConvGLException($"conv_transpose weight {weight.ShapeString} must be (C_in, C_out / groups, kH, kW)");
        _weight.Write(weight.Data);
        _weightShape = (int[])weight.Shape.Clone();
        _biasLength = bias?.Length ?? 0;
        _bias.Write(bias ?? [0f]);
    }

    public void Run(GpuTensor input, GpuTensor output)
    {
        _context.CheckThread();
        _context.FlushDisposables();
        ComputeOp.CheckDistinct(input, output, "conv_transpose");
        ConvTransposeOptions o = Options;
        ConvTranspose2D.CheckOptions(o);
        int cout = ConvTranspose2D.OutputChannels(input.C, _weightShape, o.Groups);
        (int oh, int ow) = ConvTranspose2D.OutputSize(input.H, input.W, _weightShape[2], _weightShape[3], o);
        if (_biasLength > 0 && _biasLength != cout) throw new ConvGLException($"conv_transpose bias has {_biasLength} values for {cout} output channels");
        output.Resize(cout, oh, ow);
        GL gl = _context.Gl;
        GlProgram p = _program ??= _context.Shaders.Compute("conv_transpose.comp");
        p.Use();
        gl.Uniform2(p.Uniform("u_in_size"), input.W, input.H);
        gl.Uniform3(p.Uniform("u_out_size"), ow, oh, cout);
        gl.Uniform2(p.Uniform("u_kernel"), _weightShape[3], _weightShape[2]);
        gl.Uniform2(p.Uniform("u_stride"), o.StrideX, o.StrideY);
        gl.Uniform2(p.Uniform("u_dilation"), o.DilationX, o.DilationY);
        gl.Uniform2(p.Uniform("u_pad"), o.PadLeft, o.PadTop);
        gl.Uniform1(p.Uniform("u_in_group"), input.C / o.Groups);
        gl.Uniform1(p.Uniform("u_out_group"), _weightShape[1]);
        gl.Uniform1(p.Uniform("u_has_bias"), _biasLength > 0 ? 1 : 0);
        input.Buffer.Bind(0);
        _weight.Bind(1);
        _bias.Bind(2);
        output.Buffer.Bind(3);
        p.DispatchCovering(ow, oh, cout);
        ComputeOp.Barrier(gl);
    }

    public Tensor Apply(Tensor input)
    {
        _scratch ??= new ScratchTensors(_context, "conv_transpose");
        return _scratch.Apply(input, Run);
    }

    public void Dispose()
    {
        _weight.Dispose();
        _bias.Dispose();
        _scratch?.Dispose();
    }
}
