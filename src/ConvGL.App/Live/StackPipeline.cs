using ConvGL.Core;
using ConvGL.Gpu;

namespace ConvGL.App.Live;

/// <summary>A stack file run layer by layer on the GPU (placeholder until the stack runner lands).</summary>
internal sealed class StackPipeline : ILivePipeline
{
    public StackPipeline(GlContext context, string file) => throw new ConvGLException($"{file}: stacks are not available in this build yet");

    public string Name => "";
    public int InputChannels => 1;
    public int LayerCount => 0;
    public string LayerLabel(int i) => "";
    public bool IsEnabled(int i) => false;
    public void Toggle(int i) { }
    public GpuTensor LayerInput(int i) => throw new NotSupportedException();
    public GpuTensor LayerOutput(int i) => throw new NotSupportedException();
    public ConvView? Conv(int i) => null;
    public void Run(GpuTensor input) { }
    public double LayerMilliseconds(int i) => 0;
    public bool Adjust(Func<ConvOptions, ConvOptions> change, int layer) => false;
    public string? ReloadChanged(bool force) => null;
    public void Dispose() { }
}
