using ConvGL.Core.IO;

namespace ConvGL.Core.Stacks;

/// <summary>What a stack takes: one gray channel or three RGB channels.</summary>
public enum StackInput { Gray, Rgb }

/// <summary>A loaded, validated feature-extraction stack: an ordered list of layers whose channel counts have
/// been checked from the input through the last layer. Each layer reads the previous layer's map unless it names
/// its inputs (<see cref="StackLayer.Inputs"/>: earlier layers only, so the list order is a run order). Spatial sizes depend on the input size: see
/// <see cref="StackPlan"/>.</summary>
public sealed class Stack
{
    public string Name { get; }
    public StackInput Input { get; }
    /// <summary>The safetensors file the learned layers name tensors in, as written in the stack file
    /// (relative to it), or null.</summary>
    public string? WeightsFile { get; }
    public IReadOnlyList<StackLayer> Layers { get; }
    /// <summary>Where the stack was loaded from (used in error messages), or null for a stack built in code.</summary>
    public string? SourcePath { get; init; }
    public string? Description { get; init; }
    /// <summary>Imported from an ONNX model (its layers are the model's nodes, named after them), not read from a stack file.</summary>
    public bool FromOnnx { get; init; }
    /// <summary>The ONNX model takes its input channels-last, (1, H, W, C) (<see cref="Onnx.OnnxStack.ChannelsLastInput"/>);
    /// the stack's input map is (C, H, W) all the same. Said where an array is taken as the model's own input tensor.</summary>
    public bool ChannelsLastInput { get; init; }
    /// <summary>What an image goes through before it is this stack's input (a packaged model's documented
    /// preprocessing, <see cref="Onnx.ImagePreprocess"/>), or null: the image as is. Arrays (.npy) never get it.</summary>
    public Onnx.ImagePreprocess? Preprocess { get; init; }

    public int InputChannels => Input == StackInput.Gray ? 1 : 3;

    /// <summary>Builds a stack, checking the channel count through every layer.</summary>
    public Stack(string name, StackInput input, IReadOnlyList<StackLayer> layers, string? weightsFile = null)
    {
        Name = name;
        Input = input;
        Layers = layers.ToArray();
        WeightsFile = weightsFile;
        if (Layers.Count == 0) throw new ConvGLException($"stack '{name}' has no layers");
        var channels = new int[Layers.Count];
        for (int i = 0; i < Layers.Count; i++)
        {
            StackLayer layer = Layers[i];
            IReadOnlyList<int> inputs = layer.InputsOf(i);
            if (inputs.Count != layer.InputCount)
                throw new ConvGLException($"stack '{name}': layers[{i}] ({layer.Type}): reads {inputs.Count} map(s), this type takes {layer.InputCount}");
            foreach (int j in inputs)
                if (j < -1 || j >= i) throw new ConvGLException($"stack '{name}': layers[{i}] ({layer.Type}): input {j} is not an earlier layer (or -1, the stack input)");
            channels[i] = layer.OutputChannels(inputs.Select(j => j < 0 ? InputChannels : channels[j]).ToArray(), out string? error);
            if (error is not null) throw new ConvGLException($"stack '{name}': layers[{i}] ({layer.Type}): {error}");
        }
    }

    /// <summary>Channels after each layer, all layers enabled (after a flatten, the plan's shapes are the truth:
    /// its channels depend on the input size).</summary>
    public int[] Channels()
    {
        var channels = new int[Layers.Count];
        for (int i = 0; i < Layers.Count; i++)
            channels[i] = Layers[i].OutputChannels(Layers[i].InputsOf(i).Select(j => j < 0 ? InputChannels : channels[j]).ToArray(), out _);
        return channels;
    }

    /// <summary>A (C, H, W) image made into this stack's input: RGB to gray by BT.601 (0.299 R + 0.587 G + 0.114 B,
    /// as OpenCV's cvtColor, <see cref="ImageIO.GrayOf"/>), gray to RGB by repeating the channel; a matching image is returned as is.</summary>
    public Tensor PrepareInput(Tensor image)
    {
        if (image.Rank != 3) throw new ConvGLException($"a stack input must be (C, H, W), got {image.ShapeString}");
        int want = InputChannels;
        if (image.C == want) return image;
        int plane = image.H * image.W;
        if (want == 1 && image.C is 3 or 4)
        {
            var gray = Tensor.Chw(1, image.H, image.W);
            for (int p = 0; p < plane; p++)
                gray.Data[p] = ImageIO.GrayOf(image.Data[p], image.Data[plane + p], image.Data[2 * plane + p]);
            return gray;
        }
        if (want == 3 && image.C == 1) return Tensor.Concat([image, image, image]);
        if (want == 3 && image.C == 4) return Tensor.Chw(3, image.H, image.W, image.Data.AsSpan(0, 3 * plane).ToArray());
        throw new ConvGLException($"stack '{Name}' takes {Input.ToString().ToLowerInvariant()} input; an image with {image.C} channels cannot be converted");
    }
}
