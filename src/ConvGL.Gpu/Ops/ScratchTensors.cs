using ConvGL.Core;

namespace ConvGL.Gpu.Ops;

/// <summary>CPU in, CPU out for an op's <c>Apply</c> (tests, `apply`): two GPU tensors made on first use and kept for
/// the next call, so every op's convenience path is the same three lines.</summary>
internal sealed class ScratchTensors(GlContext context, string label) : IDisposable
{
    private GpuTensor? _in, _out;

    public Tensor Apply(Tensor input, Action<GpuTensor, GpuTensor> run)
    {
        _in ??= new GpuTensor(context, label: $"{label} scratch in");
        _out ??= new GpuTensor(context, label: $"{label} scratch out");
        _in.Upload(input);
        run(_in, _out);
        return _out.Download();
    }

    public void Dispose()
    {
        _in?.Dispose();
        _out?.Dispose();
    }
}
