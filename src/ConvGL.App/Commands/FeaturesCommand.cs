using System.CommandLine;
using System.Text.RegularExpressions;
using ConvGL.App.Cli;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Ops;
using ConvGL.Core.Onnx;
using ConvGL.Core.Stacks;
using ConvGL.Gpu;
using ConvGL.Gpu.Stacks;

namespace ConvGL.App.Commands;

/// <summary><c>convgl features INPUT --stack S --out DIR [--device cpu|gpu] [--size WxH] [--algorithm A] [--normalize N] [--verbose]</c>: runs a stack on an
/// image and writes every layer's feature maps (DESIGN.md):
///
/// - <c>input.npy</c>: the stack's input, float32 (C, H, W) after gray/RGB conversion and resizing.
/// - <c>NN-&lt;type&gt;.npy</c> for layer NN (two digits, 0-based, after that layer): float32 (C, H, W), unscaled.
/// - <c>NN-&lt;type&gt;.png</c>: the C maps as a gray grid, ceil(sqrt(C)) columns, row-major in channel order,
///   2-pixel white gaps. Each map is normalised on its own, min -> 0 and max -> 255 (a constant map is drawn
///   mid-gray), so every map shows its own structure; compare values with the .npy files. Maps of 64
///   pixels or less on their longer side are enlarged by the whole factor that keeps that side within 128 (nearest
///   neighbour) so they stay visible.
///
/// INPUT is an image (PNG, JPEG, BMP, GIF, WebP, TGA; loaded as the stack's gray or RGB input) or a .npy (C, H, W) or
/// (H, W) float tensor. <c>--stack</c> is a stack file or a shipped stack name (assets/stacks/NAME.json).
/// <c>--size WxH</c> resamples the input bilinearly with half-pixel centres (OpenCV INTER_LINEAR, PyTorch
/// align_corners=False; no anti-aliasing when shrinking) before the stack runs.
///
/// Everything is written to a hidden temporary folder next to DIR, then moved into place, so an error leaves no
/// partial output. DIR may be new, empty, or hold an earlier features dump (replaced as a whole); a DIR holding
/// anything else is refused, so nothing the user had is lost.</summary>
internal static partial class FeaturesCommand
{
    private static readonly Argument<string> Input = Opt.Arg("INPUT", "image (PNG, JPEG, BMP, GIF, WebP, TGA; read as the stack's gray or RGB input) or .npy (C,H,W) or (H,W), whose 1, 3 or 4 (RGBA) channels are converted as an image's");
    private static readonly Option<string?> StackOption = Opt.Text("--stack", "a stack file or a shipped stack name (assets/stacks/NAME.json), or an ONNX model (MODEL.onnx, or MODEL.onnx#NODE,... for the model up to those nodes)", "STACK", required: true);
    private static readonly Option<string?> Out = Opt.Text("--out",
        "the folder to write: new, empty, or holding an earlier features dump (replaced as a whole)", "DIR", required: true);
    private static readonly Option<Device> DeviceOption = Opt.DeviceChoice();
    private static readonly Option<(int Width, int Height)?> Size = Opt.Size("--size",
        "resample the input bilinearly (half-pixel centres, OpenCV INTER_LINEAR) before the stack runs", 1, 16384);
    private static readonly Option<ConvAlgorithm> AlgorithmOption = Opt.AlgorithmChoice(
        "how each conv layer runs: auto (default: a cost model picks per layer and map size: FFT for big kernels, separable for a " +
        "depthwise layer of one rank-1 kernel), direct, separable (refused for a layer it does not fit) or fft");
    private static readonly Option<string?> NormalizeOption = Opt.Normalize(
        "a model's input normalisation as the stack's first layer, 00-batchnorm-normalize (a .npy goes through it as it is)");
    private static readonly Option<bool> Verbose = Opt.Flag("--verbose", "say on stderr which algorithm each conv layer runs, and why");

    public static Command Create() => CliRoot.Define("features",
        "Runs a stack on an image and writes every layer's feature maps: input.npy, then NN-<type>.npy (float32 (C,H,W), unscaled) " +
        "and NN-<type>.png (the maps as a grid, each normalised on its own) for layer NN.",
        typeof(FeaturesCommand), Run);

    private static int Run(ParseResult args)
    {
        string inputPath = args.GetValue(Input)!;
        string stackArg = args.GetValue(StackOption)!;
        string outDir = Path.TrimEndingDirectorySeparator(args.GetValue(Out)!);
        if (outDir.Trim().Length == 0) throw new ConvGLException("features: --out is empty; give the folder to write the maps into (e.g. --out maps)");
        bool gpu = args.GetValue(DeviceOption) == Device.Gpu;
        (int W, int H)? size = args.GetValue(Size);

        InputNormalization? normalize = args.GetValue(NormalizeOption) is { } normalizeText ? InputNormalization.Parse(normalizeText) : null;
        Stack stack = StackCatalog.Load(stackArg);
        if (normalize is not null) stack = normalize.Apply(stack);
        CheckOutputDirectory(outDir, inputPath, stack.SourcePath);
        bool isArray = IsArray(inputPath);
        bool model = stack.SourcePath?.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) == true;
        // A model takes an array as it is (README): resampling it first would feed the model something ONNX Runtime is never
        // given (a (3, 100, 100) array went in as 224x224 with --size 224x224; the last session's note).
        if (isArray && model && size is (int sw, int sh))
            throw new ConvGLException($"features: --size {sw}x{sh} does not apply to '{inputPath}': an array goes into a model as it is, " +
                                      $"never resized; leave --size out (or give an image, which is resized)");
        // An array is not resized (without --size): one error naming it, its shape and the nearest sizes that work, from
        // its header, before its data is read (a (1, 30000, 30000) array took 9 s and 3.5 GB to be refused). Other ranks
        // are LoadInput's error.
        if (isArray && size is null && Npy.ReadShape(inputPath) is { } shape && ArrayChw(shape, stack) is { } chw)
        {
            // The channels first: a (1, 227, 320) array into ResNet18 was told its size, then, cropped, its channels.
            if (model && chw[0] != stack.InputChannels) throw WrongChannels(inputPath, chw[0], stack);
            StackInputSizes.CheckArray(stack, inputPath, chw, chw[1], chw[2], model ? null : e => $"e.g. --size {e.W}x{e.H}, or crop the array");
        }
        Tensor image = LoadInput(inputPath, stack);
        // A model takes an array as it is: its channel count is the model's, not converted as an image's (a (4, 224, 224)
        // array lost its 4th channel and a (1, ...) one was repeated, where ONNX Runtime refuses both; the CLI audit).
        if (isArray && model && image.C != stack.InputChannels) throw WrongChannels(inputPath, image.C, stack);
        // An image gets the model's preprocessing (a packaged model's: resized to its size, reordered, scaled, minus its
        // mean); an array is the model's input as it is.
        ImagePreprocess? preprocess = isArray ? null : stack.Preprocess;
        // The model's preprocessing resizes every image to its own size: a --size would only resample twice (the fifth
        // audit's --size 16384x16384 with resnet18 took 3.9 GB to end at 224x224).
        if (preprocess is not null && size is not null)
            throw new ConvGLException($"features: --size does nothing for {stack.Name}: its preprocessing resizes every image to " +
                                      $"{preprocess.Width}x{preprocess.Height}; leave --size out");
        // Planned at the final size before resizing: a size the stack cannot run at fails here, not minutes later, naming
        // the --size that runs (an array, never resized, is cropped instead).
        // A model's preprocessing resizes to the model's own size: no --size helps where the model does not run at it (a
        // hostile-input review's (1, 1, 1, 1) model with a 3x3 conv was told "e.g. --size 3x3").
        if (preprocess is not null && !StackPlan.TryCreate(stack, preprocess.Height, preprocess.Width, null, out _, out string? unfit))
            throw new ConvGLException($"{unfit}; images are resized to {preprocess.Width}x{preprocess.Height} for this model ({preprocess.Describe()}), a size it does not run at");
        StackInputSizes.CheckSize(stack, preprocess?.Height ?? size?.H ?? image.H, preprocess?.Width ?? size?.W ?? image.W,
            e => isArray && size is null ? $"e.g. {e.H} rows of {e.W}; crop or pad the array" : $"e.g. --size {e.W}x{e.H}",
            e => $"e.g. --size {e.W}x{e.H}");
        if (size is (int w, int h)) image = ResizeBilinear(image, h, w);
        Tensor input;
        try
        {
            input = stack.PrepareInput(image);
        }
        catch (ConvGLException e)
        {
            // The input's fault, named as such (the fuzz audit's (2, 24, 32) .npy got the stack's message alone).
            throw new ConvGLException($"features: '{ErrorText.Echo(inputPath)}' is {image.ShapeString}: {e.Message}; give a gray, RGB or RGBA image, or a (1, H, W), (3, H, W) or (4, H, W) array (the fourth channel dropped)");
        }
        if (preprocess is not null) input = preprocess.Apply(input);
        StackPlan plan = StackPlan.Create(stack, input.H, input.W); // every layer's shape checked before anything runs
        CheckMemory(plan, input, preprocess is null);

        ConvAlgorithm algorithm = args.GetValue(AlgorithmOption);
        StackResult result;
        // On the GPU, the program that ran each direct conv layer (the window's shader tag; bench/README.md has them all).
        string?[]? variants = null;
        using var progress = new Progress("convgl features");
        int layers = stack.Layers.Count;
        progress.Report(0, $"layer 0 ({stack.Layers[0].Type}) of {layers} on the {(gpu ? "gpu" : "cpu")}");
        // Running the layers is the first half of the bar, writing their maps (PNG encoding) the second.
        void LayerDone(int i) => progress.Report(0.5 * (i + 1) / layers,
            i + 1 < layers ? $"layer {i + 1} ({stack.Layers[i + 1].Type}) of {layers} on the {(gpu ? "gpu" : "cpu")}" : "writing the maps");
        if (gpu)
        {
            using GlContext context = GlContext.CreateHeadless(debug: false);
            try
            {
                using var runner = new GpuStackRunner(context, stack, input.H, input.W, algorithm: algorithm, model: ConvCostModel.Llvmpipe)
                {
                    LayerFinished = LayerDone,
                };
                result = runner.Run(input);
                variants = Enumerable.Range(0, layers).Select(runner.Variant).ToArray();
            }
            catch (GpuLimitException e) when (preprocess is null)
            {
                // A map larger than this driver's storage blocks: the input size at which the stack's maps fit.
                (int fw, int fh) = e.FittingSize(input.W, input.H);
                throw new GpuLimitException($"{e.Message}; the input is {input.W}x{input.H}: --size {fw}x{fh} fits, or --device cpu", e.NeededBytes, e.LimitBytes);
            }
        }
        else
        {
            result = StackRunner.Run(stack, input, null, algorithm, ConvCostModel.Cpu, LayerDone);
        }
        if (args.GetValue(Verbose))
        {
            progress.Interrupt();
            for (int i = 0; i < result.Outputs.Count; i++)
            {
                if (result.Algorithms?[i] is { } choice)
                    Console.Error.WriteLine($"layers[{i}] (conv): algorithm: {choice}, input {result.Plan.InputOf(i)} on the {(gpu ? "gpu" : "cpu")}");
                // (An FFT layer's algorithm line above names its program and frames.)
                if (variants?[i] is { } variant && !variant.StartsWith("fft", StringComparison.Ordinal))
                    Console.Error.WriteLine($"layers[{i}] ({stack.Layers[i].Type}): program: {variant}");
            }
        }

        WriteAll(outDir, result, progress);
        progress.Complete();
        Console.WriteLine($"features: {stack.Name} on {inputPath} ({input.C}x{input.H}x{input.W}, {(gpu ? "gpu" : "cpu")}): " +
                          $"{result.Outputs.Count} {(result.Outputs.Count == 1 ? "layer" : "layers")} written to {outDir}");
        if (preprocess is not null) Console.WriteLine($"  input: {preprocess.Describe()}");
        for (int i = 0; i < result.Outputs.Count; i++)
            Console.WriteLine($"  {FileStem(i, stack)}  {result.Plan.Outputs[i]}");
        return 0;
    }

    /// <summary>Bytes a features run takes per value of its maps (the input and every layer's output, float32 each):
    /// measured 3.3x the maps' bytes at the peak (a 4096x4096 array through `edges` on the CPU: 469 MB of maps, 1.56 GB
    /// resident; the grid and PNG encoding of the largest layer on top of the maps held), rounded up.</summary>
    internal const int BytesPerMapValue = 16;

    /// <summary>The run's maps, held together and then written, must fit this machine's memory (<see cref="MemoryBudget"/>).</summary>
    private static void CheckMemory(StackPlan plan, Tensor input, bool resizable)
    {
        long values = plan.Input.Values + plan.Outputs.Sum(o => o.Values);
        long need = values * BytesPerMapValue;
        (int w, int h) = MemoryBudget.FittingSize(input.W, input.H, need);
        MemoryBudget.Check($"features: {plan.Stack.Name} on a {input.C}x{input.H}x{input.W} input ({values} map values)", need,
            resizable ? $"--size {w}x{h} fits (nothing was written)" : "run it on a machine with more memory (nothing was written)");
    }

    private static bool IsArray(string path) => path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase);

    /// <summary>"NN-type" for layer NN; a layer imported from an ONNX model adds its node's name ("05-conv-Convolution261"),
    /// with every character outside [A-Za-z0-9_] made '_' and at most 48 of them.</summary>
    internal static string FileStem(int index, Stack stack)
    {
        StackLayer layer = stack.Layers[index];
        string stem = $"{index:D2}-{layer.Type}";
        if (stack.SourcePath?.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) != true || layer.Label is not { Length: > 0 } label) return stem;
        string node = string.Concat(label.Take(48).Select(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_' ? ch : '_'));
        return $"{stem}-{node}";
    }

    private static Tensor LoadInput(string path, Stack stack)
    {
        if (!IsArray(path))
            return ImageIO.Load(path, stack.Input == StackInput.Gray ? ImageChannels.Gray : ImageChannels.Rgb);
        Tensor t = Npy.Read(path);
        Npy.RequireFinite(t, "features", path);
        if (ModelTensor(t.Shape, stack) is { } chw)
            return stack.ChannelsLastInput ? Indexing.Transpose(t.Reshape(t.Shape[1..]), [2, 0, 1]) : t.Reshape(chw);
        Npy.RequireChannelsFirst(t, "features", path);
        return t.Rank switch
        {
            3 => t,
            2 => t.Reshape(1, t.Shape[0], t.Shape[1]),
            _ => throw new ConvGLException($"{path}: a .npy input must be (C, H, W) or (H, W)" +
                                           (stack.FromOnnx ? $", or the model's own input tensor, {(stack.ChannelsLastInput ? "(1, H, W, C)" : "(1, C, H, W)")}" : "") + $"; got {t.ShapeString}"),
        };
    }

    /// <summary>An array of rank 4 and batch 1 given to an ONNX model is the model's own input tensor, as ONNX Runtime takes
    /// it: (1, C, H, W), or (1, H, W, C) for a model that takes its input channels-last (a Keras export). Its (C, H, W), or null
    /// for any other array or stack.</summary>
    private static int[]? ModelTensor(int[] shape, Stack stack) =>
        stack.FromOnnx && shape is [1, var a, var b, var c] ? stack.ChannelsLastInput ? [c, a, b] : [a, b, c] : null;

    /// <summary>The (C, H, W) an array of this shape is read as: (C, H, W) itself, (H, W) one channel, or a model's own input
    /// tensor (<see cref="ModelTensor"/>); null for any other shape (LoadInput's error).</summary>
    private static int[]? ArrayChw(int[] shape, Stack stack) => shape.Length switch
    {
        3 => shape,
        2 => [1, shape[0], shape[1]],
        _ => ModelTensor(shape, stack),
    };

    /// <summary>Bilinear resampling with half-pixel centres: output pixel (y, x) samples the input at
    /// ((y + 0.5) * H_in / H_out - 0.5, ...), clamped to the edge (OpenCV INTER_LINEAR, PyTorch align_corners=False).</summary>
    internal static Tensor ResizeBilinear(Tensor input, int height, int width)
    {
        if (input.H == height && input.W == width) return input;
        var output = Tensor.Chw(input.C, height, width);
        double sy = (double)input.H / height, sx = (double)input.W / width;
        for (int y = 0; y < height; y++)
        {
            double fy = Math.Clamp((y + 0.5) * sy - 0.5, 0, input.H - 1);
            int y0 = (int)fy, y1 = Math.Min(y0 + 1, input.H - 1);
            double ty = fy - y0;
            for (int x = 0; x < width; x++)
            {
                double fx = Math.Clamp((x + 0.5) * sx - 0.5, 0, input.W - 1);
                int x0 = (int)fx, x1 = Math.Min(x0 + 1, input.W - 1);
                double tx = fx - x0;
                for (int c = 0; c < input.C; c++)
                {
                    double top = input[c, y0, x0] * (1 - tx) + input[c, y0, x1] * tx;
                    double bottom = input[c, y1, x0] * (1 - tx) + input[c, y1, x1] * tx;
                    output[c, y, x] = (float)(top * (1 - ty) + bottom * ty);
                }
            }
        }
        return output;
    }

    /// <summary>The maps of a (C, H, W) tensor as one (1, GH, GW) gray image in [0, 1] (see the class summary).</summary>
    internal static Tensor Grid(Tensor maps)
    {
        const int Gap = 2;
        int c = maps.C, h = maps.H, w = maps.W;
        int scale = Math.Max(1, 128 / Math.Max(h, w));
        int th = h * scale, tw = w * scale;
        int cols = (int)Math.Ceiling(Math.Sqrt(c)), rows = (c + cols - 1) / cols;
        var grid = Tensor.Chw(1, rows * th + (rows - 1) * Gap, cols * tw + (cols - 1) * Gap);
        Array.Fill(grid.Data, 1f);
        int plane = h * w;
        for (int ch = 0; ch < c; ch++)
        {
            ReadOnlySpan<float> map = maps.Data.AsSpan(ch * plane, plane);
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            foreach (float v in map)
            {
                if (v < min) min = v;
                if (v > max) max = v;
            }
            float range = max - min;
            int oy = ch / cols * (th + Gap), ox = ch % cols * (tw + Gap);
            for (int y = 0; y < th; y++)
                for (int x = 0; x < tw; x++)
                {
                    float v = map[y / scale * w + x / scale];
                    grid[0, oy + y, ox + x] = range > 0 && float.IsFinite(range) ? (v - min) / range : 0.5f;
                }
        }
        return grid;
    }

    /// <summary>Refuses an --out that holds anything other than an earlier features dump (input.npy and at least one
    /// layer's file, every entry named as features names them), or that holds a file the command reads: the dump
    /// replaces the folder as a whole.</summary>
    private static void CheckOutputDirectory(string dir, string input, string? stackFile)
    {
        // A link to nothing (File.Exists holds for it) was "a file" (the hostile-input audit).
        if (new FileInfo(dir).LinkTarget is { } target && File.ResolveLinkTarget(dir, returnFinalTarget: true) is { } final && !Path.Exists(final.FullName))
            throw new ConvGLException($"features: --out {dir} is a link to {target}, which does not exist; make that folder, or give another --out");
        if (File.Exists(dir))
            throw new ConvGLException($"features: --out {dir} is {(BoundedFile.IsRegularFile(dir) ? "a file" : "a device, FIFO or socket")}; give a folder");
        // The dump goes into a hidden folder beside --out: a parent that takes no files is found before the compute (a
        // review: after it, with the hidden folder's name in .NET's message).
        string parent = Path.GetDirectoryName(Path.GetFullPath(dir)) ?? dir;
        if (!Directory.Exists(parent)) throw new ConvGLException($"features: the parent folder of --out {dir} does not exist");
        OutputFolder.CheckWritable(parent, $"features: --out {dir}", "nothing was written");
        if (!Directory.Exists(dir)) return;
        foreach ((string role, string? path) in new[] { ("INPUT", input), ("stack file", stackFile) })
            if (path is not null && File.Exists(path) && FileIdentity.Inside(path, dir))
                throw new ConvGLException($"features: the {role} '{ErrorText.Echo(path)}' is inside --out {dir}, which the dump replaces as a whole; choose another folder (nothing was written)");
        string[] names = Directory.EnumerateFileSystemEntries(dir).Select(p => Path.GetFileName(p)!).ToArray();
        string? foreign = names.FirstOrDefault(n => !DumpFile().IsMatch(n));
        if (foreign is not null)
            throw new ConvGLException($"features: --out {dir} already holds '{ErrorText.Echo(foreign)}', which is not features output; choose a new or empty folder");
        if (names.Length > 0 && (!names.Contains("input.npy") || names.All(n => n == "input.npy")))
            throw new ConvGLException($"features: --out {dir} holds {string.Join(", ", names.Take(3).Select(n => $"'{ErrorText.Echo(n)}'"))}{(names.Length > 3 ? ", ..." : "")} " +
                                      "but not a whole features dump (input.npy and the layers' files); choose a new or empty folder");
    }

    [GeneratedRegex(@"^(input\.npy|[0-9]{2}-[a-z_]+(-[A-Za-z0-9_]{1,48})?\.(npy|png))$")]
    private static partial Regex DumpFile();

    private static void WriteAll(string dir, StackResult result, Progress progress)
    {
        try
        {
            WriteAllOrThrow(dir, result, progress);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A folder that takes no files (read-only, full disk, /proc) is the user's to fix: one line, exit 2.
            throw new ConvGLException($"features: cannot write --out {dir}: {e.Message}", e);
        }
    }

    private static void WriteAllOrThrow(string dir, StackResult result, Progress progress)
    {
        // A symbolic link is written through, as AtomicFile does for files: its target folder is replaced, the link kept
        // (the link itself was moved aside and replaced by a real folder, the dump it pointed to left as it was).
        string full = Path.GetFullPath(dir);
        if (new DirectoryInfo(full).LinkTarget is not null)
            full = new DirectoryInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        string parent = Path.GetDirectoryName(full) ?? throw new ConvGLException($"features: --out {dir} has no parent folder");
        if (!Directory.Exists(parent)) throw new ConvGLException($"features: the parent folder of --out {dir} does not exist");
        // Short hidden names beside it (the folder's own name in them made long names unwritable).
        InFlight.RemoveStale(parent);
        string temp = InFlight.TempName(parent);
        string? old = null;
        InFlight.Add(temp);
        Directory.CreateDirectory(temp);
        // A replaced dump keeps its folder's permission bits, as a replaced file does (a 700 folder came back 755).
        if (!OperatingSystem.IsWindows() && Directory.Exists(full)) File.SetUnixFileMode(temp, File.GetUnixFileMode(full));
        try
        {
            Npy.Write(Path.Combine(temp, "input.npy"), result.Input);
            for (int i = 0; i < result.Outputs.Count; i++)
            {
                string stem = FileStem(i, result.Plan.Stack);
                // The maps are computed; writing them (PNG encoding) is the rest, half of the bar.
                progress.Report(0.5 + 0.5 * i / result.Outputs.Count, $"writing {stem}");
                Npy.Write(Path.Combine(temp, stem + ".npy"), result.Outputs[i]);
                ImageIO.SavePng(Path.Combine(temp, stem + ".png"), Grid(result.Outputs[i]), PngScaling.Clamp);
            }
            if (Directory.Exists(full))
            {
                // An earlier dump (checked above): set it aside, move the new one in, then drop the old one.
                old = InFlight.TempName(parent, "old");
                Directory.Move(full, old);
            }
            Directory.Move(temp, full);
        }
        catch (Exception e)
        {
            if (old is not null && !Directory.Exists(full)) Directory.Move(old, full);
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            // A write into the hidden folder (a full disk) named it: the folder being written is --out's (the audit).
            if (e is ConvGLException c && c.Message.Contains(temp, StringComparison.Ordinal))
                throw new ConvGLException($"features: --out {dir}: {c.Message.Replace(temp, full, StringComparison.Ordinal)} (nothing was written; an earlier dump there is kept)", e);
            throw;
        }
        finally
        {
            InFlight.Done(temp);
        }
        if (old is not null) Directory.Delete(old, recursive: true);
    }

    private static ConvGLException WrongChannels(string inputPath, int channels, Stack stack) =>
        new($"features: '{inputPath}' has {channels} channel{(channels == 1 ? "" : "s")}; the model '{stack.Name}' takes " +
            $"{stack.InputChannels} and an array goes into a model as it is, unconverted: give a ({stack.InputChannels}, H, W) array " +
            $"or the model's own input tensor, {(stack.ChannelsLastInput ? $"(1, H, W, {stack.InputChannels})" : $"(1, {stack.InputChannels}, H, W)")}");
}
