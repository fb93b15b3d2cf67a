namespace ConvGL.Core.Onnx;

/// <summary>A model's documented image preprocessing, read from the preprocessing model its package ships
/// (ResNetPreprocess.onnx for ResNet18) and run in ConvGL: an RGB image with values in [0, 1] becomes the model's
/// input in four steps.
///
/// 1. Resize to the model's input size (the preprocessing model's declared input, 224x224 for ResNet18) the way
///    ML.NET's ResizeImages does by default (IsoCrop, centre anchor): scaled by one factor so it covers the whole
///    target, the overhang cropped equally from both sides, sampled bilinearly with half-pixel centres (OpenCV's
///    INTER_LINEAR: source = top + (y + 0.5) / scale - 0.5, clamped to the edge).
/// 2. Values times <see cref="PixelScale"/> (255: ML.NET's ExtractPixels hands the model bytes, 0..255).
/// 3. Channels reordered (<see cref="ChannelOrder"/>: the preprocessing model's Split and Concat; BGR for ResNet18).
/// 4. <see cref="Mean"/> subtracted per pixel (the preprocessing model's Sub of its MeanImage initializer).
///
/// Steps 3 and 4 are exactly what the preprocessing graph computes, which is all it holds; a graph with any other
/// node is refused with one error naming it.</summary>
public sealed class ImagePreprocess
{
    public int Height { get; }
    public int Width { get; }
    /// <summary>Output channel c is RGB channel <c>ChannelOrder[c]</c> ([2, 1, 0] for BGR); [0] for a gray model,
    /// whose one channel is the image's gray (BT.601 luma, made before this runs).</summary>
    public IReadOnlyList<int> ChannelOrder { get; }

    /// <summary>The model input's channels: 3, or 1 for a gray model.</summary>
    public int Channels => ChannelOrder.Count;
    public float PixelScale { get; }
    /// <summary>(C, H, W) (C = <see cref="Channels"/>), subtracted after the reorder.</summary>
    public Tensor Mean { get; }
    /// <summary>The preprocessing model it was read from, for messages and the HUD.</summary>
    public string Source { get; }

    public ImagePreprocess(int height, int width, IReadOnlyList<int> channelOrder, float pixelScale, Tensor mean, string source)
    {
        if (height < 1 || width < 1) throw new ArgumentException("the model's size must be positive");
        if (channelOrder.Count is not (1 or 3) || channelOrder.Order().Select((c, i) => c == i).Any(ok => !ok))
            throw new ArgumentException("the channel order must be a permutation of 0, 1, 2 (or [0] for gray)");
        if (mean.Rank != 3 || mean.C != channelOrder.Count || mean.H != height || mean.W != width)
            throw new ArgumentException($"the mean must be ({channelOrder.Count}, {height}, {width}), got {mean.ShapeString}");
        Height = height;
        Width = width;
        ChannelOrder = channelOrder.ToArray();
        PixelScale = pixelScale;
        Mean = mean;
        Source = source;
    }

    /// <summary>Only resized to the model's size (a declared input size, <see cref="OnnxStack.DeclaredSize"/>): values 0..1
    /// and channels as the picture has them, nothing subtracted. False for a packaged model's own preprocessing.</summary>
    public bool ResizesOnly => PixelScale == 1f && ChannelOrder.Select((c, i) => c == i).All(same => same) && Mean.Data.All(v => v == 0f);

    public static ImagePreprocess Load(string path, float pixelScale) => FromModel(OnnxReader.Load(path), pixelScale);

    /// <summary>Reads the preprocessing graph: one (1, 3, H, W) input; optionally Split along the channels into single
    /// channels and Concat of them along the channels again (a reorder); optionally Sub of a constant of 3*H*W values
    /// (a mean image) or 3 values (a mean per channel); its output is the model's input.</summary>
    public static ImagePreprocess FromModel(OnnxModel model, float pixelScale)
    {
        string src = model.Source;
        if (model.Inputs.Count != 1 || model.Outputs.Count != 1)
            throw new ConvGLException($"{src}: a preprocessing model takes one input and gives one output, this one has {model.Inputs.Count} and {model.Outputs.Count}");
        OnnxValueInfo input = model.Inputs[0];
        if (input.Shape is not [1 or -1, 3, > 0 and var h, > 0 and var w])
            throw new ConvGLException($"{src}: preprocessing input '{input.Name}' is {input.ShapeString}; expected (1, 3, H, W) with H and W given");

        // What each value holds: the input channels it carries, in order, and the mean subtracted from them so far.
        var values = new Dictionary<string, (int[] Channels, Tensor? Mean)>(StringComparer.Ordinal) { [input.Name] = ([0, 1, 2], null) };
        foreach (OnnxNode node in model.Nodes)
        {
            ConvGLException Bad(string why) => new($"{src}: node '{node.Label}' ({node.OpType}): {why}");
            (int[] Channels, Tensor? Mean) In(int k) =>
                k < node.Inputs.Count && values.TryGetValue(node.Inputs[k], out var v) ? v
                    : throw Bad($"input {k} is not the image or a value computed from it");
            void CheckAttributes(params string[] known)
            {
                foreach (string a in node.Attributes.Keys)
                    if (!known.Contains(a)) throw Bad($"attribute '{a}' is not supported (supported: {(known.Length == 0 ? "none" : string.Join(", ", known))})");
            }
            long Axis()
            {
                long axis = node.Attributes.TryGetValue("axis", out OnnxAttribute? a) && a.Kind == OnnxAttributeKind.Int ? a.I : 0;
                return axis < 0 ? axis + 4 : axis;
            }
            switch (node.OpType)
            {
                case "Split":
                    {
                        CheckAttributes("axis", "split");
                        (int[] ch, Tensor? mean) = In(0);
                        if (Axis() != 1 || mean is not null) throw Bad("only a split of the image's channels (axis 1) before any subtraction is supported");
                        if (node.Attributes.TryGetValue("split", out OnnxAttribute? s) && s.Ints.Any(n => n != 1))
                            throw Bad($"split [{string.Join(", ", s.Ints)}] is not supported (supported: one channel per output)");
                        if (node.Inputs.Count > 1 && node.Inputs[1].Length > 0) throw Bad("a split sizes input is not supported (supported: one channel per output)");
                        if (node.Outputs.Count != ch.Length) throw Bad($"splits {ch.Length} channels into {node.Outputs.Count} outputs (supported: one channel per output)");
                        for (int k = 0; k < ch.Length; k++) values[node.Outputs[k]] = ([ch[k]], null);
                        break;
                    }
                case "Concat":
                    {
                        CheckAttributes("axis");
                        if (Axis() != 1) throw Bad("only a concatenation along the channels (axis 1) is supported");
                        var ch = new List<int>();
                        for (int k = 0; k < node.Inputs.Count; k++)
                        {
                            (int[] c, Tensor? mean) = In(k);
                            if (mean is not null) throw Bad("a concatenation after a subtraction is not supported");
                            ch.AddRange(c);
                        }
                        values[node.Outputs[0]] = (ch.ToArray(), null);
                        break;
                    }
                case "Sub":
                    {
                        CheckAttributes();
                        (int[] ch, Tensor? mean) = In(0);
                        if (mean is not null) throw Bad("a second subtraction is not supported");
                        if (node.Inputs.Count != 2 || !model.Initializers.TryGetValue(node.Inputs[1], out Tensor? m))
                            throw Bad("only the subtraction of a constant (an initializer: the mean) is supported");
                        values[node.Outputs[0]] = (ch, MeanImage(m, h, w, () => Bad($"the mean {m.ShapeString} holds neither 3 x {h} x {w} values nor 3")));
                        break;
                    }
                default:
                    throw Bad($"op {node.OpType} is not supported in a preprocessing model (supported: Split and Concat along the channels, a reorder; Sub of a constant mean)");
            }
        }
        string output = model.Outputs[0].Name;
        if (!values.TryGetValue(output, out var result)) throw new ConvGLException($"{src}: preprocessing output '{output}' is produced by no node");
        if (result.Channels.Length != 3 || result.Channels.Distinct().Count() != 3)
            throw new ConvGLException($"{src}: preprocessing output '{output}' holds input channels [{string.Join(", ", result.Channels)}]; expected each of the 3 once");
        return new ImagePreprocess(h, w, result.Channels, pixelScale, result.Mean ?? Tensor.Chw(3, h, w), src);
    }

    private static Tensor MeanImage(Tensor m, int h, int w, Func<ConvGLException> bad)
    {
        if (m.Length == 3 * h * w) return Tensor.Chw(3, h, w, (float[])m.Data.Clone());
        if (m.Length != 3) throw bad();
        var mean = Tensor.Chw(3, h, w);
        for (int c = 0; c < 3; c++) Array.Fill(mean.Data, m.Data[c], c * h * w, h * w);
        return mean;
    }

    /// <summary>Step 1's geometry for an (h, w) image: the crop's top and left in source pixels and the scale
    /// (output pixels per source pixel); the crop is (Height / Scale) x (Width / Scale) source pixels, centred.</summary>
    public (double Top, double Left, double Scale) Crop(int h, int w)
    {
        double scale = Math.Max((double)Height / h, (double)Width / w);
        return ((h - Height / scale) / 2, (w - Width / scale) / 2, scale);
    }

    /// <summary>Runs the four steps on a (3, h, w) RGB image in [0, 1] (a gray model's: (1, h, w)); returns the model's
    /// (3, H, W) input ((1, H, W)).</summary>
    public Tensor Apply(Tensor image)
    {
        if (image.Rank != 3 || image.C != Channels)
            throw new ConvGLException($"{Source}: preprocessing takes a ({Channels}, H, W) {(Channels == 1 ? "gray" : "RGB")} image, got {image.ShapeString}");
        (double top, double left, double scale) = Crop(image.H, image.W);
        var output = Tensor.Chw(Channels, Height, Width);
        int inPlane = image.H * image.W, plane = Height * Width;
        for (int y = 0; y < Height; y++)
        {
            double fy = Math.Clamp(top + (y + 0.5) / scale - 0.5, 0, image.H - 1);
            int y0 = (int)fy, y1 = Math.Min(y0 + 1, image.H - 1);
            double ty = fy - y0;
            for (int x = 0; x < Width; x++)
            {
                double fx = Math.Clamp(left + (x + 0.5) / scale - 0.5, 0, image.W - 1);
                int x0 = (int)fx, x1 = Math.Min(x0 + 1, image.W - 1);
                double tx = fx - x0;
                for (int c = 0; c < Channels; c++)
                {
                    int b = ChannelOrder[c] * inPlane;
                    double v = (image.Data[b + y0 * image.W + x0] * (1 - tx) + image.Data[b + y0 * image.W + x1] * tx) * (1 - ty)
                             + (image.Data[b + y1 * image.W + x0] * (1 - tx) + image.Data[b + y1 * image.W + x1] * tx) * ty;
                    int o = c * plane + y * Width + x;
                    output.Data[o] = (float)(PixelScale * v) - Mean.Data[o];
                }
            }
        }
        return output;
    }

    /// <summary>One line for the HUD and `features`: "resized to 224x224 (centre crop), BGR, 0..255, minus the mean image".</summary>
    public string Describe() =>
        $"resized to {Width}x{Height} (aspect kept, centre crop), {(Channels == 1 ? "gray" : string.Concat(ChannelOrder.Select(c => "RGB"[c])))}, 0..{PixelScale:0.###}" +
        (Mean.Data.Any(v => v != 0f) ? $", minus the mean image of {Path.GetFileName(Source)}" : "");
}
