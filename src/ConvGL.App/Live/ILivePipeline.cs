using ConvGL.Core;
using ConvGL.Gpu;

namespace ConvGL.App.Live;

/// <summary>The convolution a probe explains: the layer's weight (C_out, C_in / groups, kH, kW), bias and options
/// exactly as the GPU ran them.</summary>
internal sealed record ConvView(Tensor Weight, float[]? Bias, ConvOptions Options)
{
    /// <summary>The first input map output channel <paramref name="outputChannel"/> reads: its group's first
    /// (Weight.Shape[1] maps from there).</summary>
    public int FirstInput(int outputChannel) => outputChannel / (Weight.Shape[0] / Options.Groups) * Weight.Shape[1];
}

/// <summary>What the window runs on every new frame: the single filter or a stack. Layers are numbered from 0;
/// layer i reads <see cref="LayerInput"/>(i) and writes <see cref="LayerOutput"/>(i).</summary>
internal interface ILivePipeline : IDisposable
{
    /// <summary>"filter sobel-x" or "stack edges".</summary>
    string Name { get; }
    /// <summary>1 (grey) or 3 (RGB): what the image tensor handed to <see cref="Run"/> must hold.</summary>
    int InputChannels { get; }
    int LayerCount { get; }
    /// <summary>The layer the window opens on: the last one (the result), unless its maps are one pixel each (a
    /// classifier's pooled features: one flat colour per map), then the first layer: its maps are the model's edge and
    /// colour detectors answering the picture, where a deep layer's first map is often all zero on a given picture.</summary>
    int DefaultLayer => LayerCount - 1;
    /// <summary>A one-line description of layer i: type, kernel, options, output shape.</summary>
    string LayerLabel(int i);
    bool IsEnabled(int i);
    /// <summary>Turns layer i on or off; the reason when that set of layers cannot run (a later layer would get
    /// the wrong channel count), else null.</summary>
    string? Toggle(int i);
    /// <summary>The tensor the app writes the source image into (ImageToTensor resizes it) before <see cref="Run"/>.</summary>
    GpuTensor Input { get; }
    /// <summary>Channels of layer i's output as planned (known before the first frame has run).</summary>
    int OutputChannels(int i);
    GpuTensor LayerInput(int i);
    GpuTensor LayerOutput(int i);
    /// <summary>The shape of the map layer i reads first, as planned, without computing it (as <see cref="LayerInput"/>
    /// may: asking for a map the last run fused away runs the layers again).</summary>
    (int C, int H, int W) LayerInputShape(int i);
    /// <summary>The layer whose output layer i reads first (-1: the stack input), without computing anything.</summary>
    int InputLayer(int i) => InputLayers(i)[0];
    /// <summary>Every layer whose output layer i reads (-1: the stack input), in order; a residual add has two.</summary>
    IReadOnlyList<int> InputLayers(int i);
    /// <summary>Layer i's output height and width as planned, without computing the map (as <see cref="LayerOutput"/> may);
    /// -1: the stack input's (a model's input after its preprocessing: ResNet18's 224x224).</summary>
    (int H, int W) LayerOutputSize(int i);
    /// <summary>A short name for map <paramref name="channel"/> of layer <paramref name="layer"/>'s output (see
    /// <see cref="MapNames"/>): the grid labels its maps with it.</summary>
    string MapName(int layer, int channel);
    /// <summary>The name of channel <paramref name="channel"/> of the map layer <paramref name="layer"/> reads (the
    /// probe's input window): the stack input's (gray; R, G, B; B, G, R after a BGR model's preprocessing) or the name
    /// of the earlier layer's map.</summary>
    string InputMapName(int layer, int channel);
    /// <summary>Input channel c holds RGB channel [c] (a BGR model's preprocessing reorders them); null: as is.</summary>
    IReadOnlyList<int>? InputChannelOrder => null;
    /// <summary>What is done to each source frame before the first layer (a model's documented preprocessing:
    /// "resized to 224x224 (aspect kept, centre crop), BGR, 0..255, minus the mean image of ..."); null: nothing.</summary>
    string? InputNote => null;
    /// <summary>The part of a <paramref name="height"/> x <paramref name="width"/> source frame the first layer sees
    /// (a model's centre crop: top, left, height, width in source pixels); null: the whole frame.</summary>
    (double Top, double Left, double Height, double Width)? InputCrop(int height, int width) => null;
    /// <summary>The convolution of layer i, or null when it is not a convolution (or is off).</summary>
    ConvView? Conv(int i);
    /// <summary>Whether any layer is a convolution, on or off (a filter is one).</summary>
    bool HasConvLayer => true;
    /// <summary>Layer i of a stack when it is on (the profile view lines a pool's output up with its input by it), else null.</summary>
    Core.Stacks.StackLayer? StackLayer(int i) => null;
    /// <summary>Runs every enabled layer on <see cref="Input"/> (C = <see cref="InputChannels"/>).</summary>
    void Run();
    /// <summary>Whether <see cref="Run"/> times each layer with its own GL_TIME_ELAPSED queries (a real GPU only:
    /// llvmpipe reads them as ~0). The caller must not hold a timer query open around Run then: queries cannot nest.</summary>
    bool TimesLayers { get; }
    /// <summary>GPU milliseconds of the last run per layer (0 where unmeasured).</summary>
    double LayerMilliseconds(int i);
    /// <summary>Live option changes; false when this pipeline has no such option (the HUD says so).</summary>
    bool Adjust(Func<ConvOptions, ConvOptions> change, int layer);
    /// <summary>Re-reads kernel/stack files that changed on disk (all of them when <paramref name="force"/>): whether
    /// anything was re-read, and the error when a file is broken (the running version stays).</summary>
    (bool Changed, string? Error) ReloadChanged(bool force);
}
