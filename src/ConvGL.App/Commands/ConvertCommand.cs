using System.CommandLine;
using System.Globalization;
using ConvGL.App.Cli;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Onnx;
using ConvGL.Core.Stacks;

namespace ConvGL.App.Commands;

/// <summary><c>convgl convert MODEL OUT.json [--normalize [bgr:]imagenet|MEAN/STD]</c>: an ONNX model (a file, or a packaged model's name such as resnet18)
/// written as a ConvGL stack file plus its weights (<see cref="StackWriter.WriteWithWeights"/>): OUT.json, and
/// OUT.safetensors beside it, batchnorms folded into their convs as they are when the model runs. The stack file can be
/// read, edited and run (<c>--stack OUT.json</c>) without the model. The model is imported whole before anything is
/// written, so a model ConvGL cannot run (an unsupported op, a bad file) writes nothing; both files are written
/// atomically, the weights first. The model's image preprocessing (the packaged ResNet18's BGR, 0..255, minus its
/// mean image) is not part of a stack file: the written stack takes its input as it is, which the command says.</summary>
internal static class ConvertCommand
{
    private static readonly Argument<string> Model = new("MODEL")
    {
        Description = "an .onnx file, or a packaged model's name (resnet18); MODEL.onnx#NODE,... for the model up to those nodes",
        Arity = ArgumentArity.ExactlyOne,
    };
    private static readonly Argument<string> Output = new("OUT")
    {
        Description = "the stack file to write (.json); its weights go to the .safetensors of the same name beside it",
        Arity = ArgumentArity.ExactlyOne,
    };

    private static readonly Option<string?> NormalizeOption = Opt.Normalize("write the model's input normalisation as the stack's first layer, a batchnorm named normalize");

    public static Command Create() => CliRoot.Define("convert",
        "Writes an ONNX model as a ConvGL stack file (OUT, a .json name) and its weights (the .safetensors of the same stem " +
        "beside it: my-net.json and my-net.safetensors), batchnorms " +
        "folded into their convs: a stack to read, edit and run with --stack without the model.",
        typeof(ConvertCommand), Run);

    private static int Run(ParseResult args) =>
        Run(args.GetValue(Model)!, args.GetValue(Output)!, Console.Out, args.GetValue(NormalizeOption) is { } n ? InputNormalization.Parse(n) : null);

    /// <summary>The command's logic, independent of how the command line was parsed.</summary>
    public static int Run(string model, string output, TextWriter log, InputNormalization? normalize = null)
    {
        if (!output.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            throw new ConvGLException($"convert: OUT '{ErrorText.Echo(output)}' must be a .json file name (the stack file; its weights go beside it as .safetensors)");
        // ".json" alone names no stack: it wrote the hidden files .json and .safetensors.
        if (Path.GetFileNameWithoutExtension(output).Length == 0)
            throw new ConvGLException($"convert: OUT '{ErrorText.Echo(output)}' has no name before .json; give one, e.g. resnet18.json");
        string outDir = Path.GetDirectoryName(Path.GetFullPath(output))!;
        if (!Directory.Exists(outDir))
            throw new ConvGLException($"convert: OUT '{ErrorText.Echo(output)}': folder '{outDir}' does not exist (create it first)");
        if (Directory.Exists(output))
            throw new ConvGLException($"convert: OUT '{ErrorText.Echo(output)}' is a folder; give a .json file name");
        // MODEL is a model: one that names nothing (or a folder) is called so here, not a "stack" as --stack's lookup has it.
        if (Directory.Exists(model))
            throw new ConvGLException($"convert: MODEL '{ErrorText.Echo(model)}' is a folder; give an .onnx model file in it");
        // MODEL.onnx#NAME,...: the model up to those nodes (as --stack takes it).
        int hash = StackCatalog.HashAt(model);
        string file = hash > 0 ? model[..hash] : model;
        if (!File.Exists(file) && PackagedModels.Find(file) is null && !StackCatalog.ShippedNames().Contains(file))
            throw new ConvGLException($"convert: MODEL '{ErrorText.Echo(model)}': no such model file, and not a packaged model's name " +
                                      $"(models: {string.Join(", ", PackagedModels.All.Select(m => m.Name))})");
        string path = StackCatalog.Resolve(file);
        if (!path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            throw new ConvGLException($"convert: MODEL '{ErrorText.Echo(model)}' is not an .onnx file (a stack file is already a stack: copy it)");

        // The weights go beside OUT.json: never over the model, and never over a file of that name the user already had,
        // unless it is the weights of an earlier convert (its metadata says so): converting to the same OUT again replaces
        // the pair. (A review: any OUT.json beside it counted as an earlier pair, so `convert net.onnx mine.json` replaced
        // a mine.safetensors the user never named.)
        string sidecar = Path.Combine(outDir, StackWriter.WeightsFileName(output));
        FileIdentity.CheckNotRead("convert", "OUT", output, ("model", path));
        FileIdentity.CheckNotRead("convert", "OUT's weights file", sidecar, ("model", path));
        if (File.Exists(sidecar) && !WrittenByConvert(sidecar))
            throw new ConvGLException($"convert: '{ErrorText.Echo(sidecar)}' already exists and was not written by convgl convert, and convert writes OUT's " +
                                      "weights there; move it away or choose another OUT name (nothing was written)");
        Stack imported = hash > 0 ? StackCatalog.Load(model) : OnnxStack.Load(path);
        if (normalize is not null) imported = normalize.Apply(imported);
        // Named after the file it is written to (the HUD's "stack" line), the model named in its description.
        var stack = new Stack(Path.GetFileNameWithoutExtension(output), imported.Input, imported.Layers, imported.WeightsFile)
        {
            SourcePath = imported.SourcePath,
            Description = $"{Path.GetFileName(path)}" + (imported.Description is { } d ? $" ({d})" : "") + ", written by convgl convert",
        };
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["source"] = Path.GetFileName(path), ["written_by"] = "convgl convert" };
        string? weights = StackWriter.WriteWithWeights(output, stack, metadata);

        string size = weights is not null ? $" and {Path.GetFileName(weights)} ({Size(new FileInfo(weights).Length)})" : "";
        log.WriteLine($"wrote {output} ({stack.Layers.Count} layer{(stack.Layers.Count == 1 ? "" : "s")}, from {Path.GetFileName(path)}){size}");
        if (imported.Preprocess is { } pre)
            log.WriteLine($"note: the model's image preprocessing ({Describe(pre)}) is not part of a stack file: the written stack takes " +
                          $"its input as it is (give it a preprocessed .npy, or run images through --stack {ErrorText.Echo(model)})");
        return 0;
    }

    /// <summary>Whether <paramref name="path"/> is a safetensors file whose metadata says convert wrote it (a file that
    /// is none, or cannot be read, is the user's).</summary>
    private static bool WrittenByConvert(string path)
    {
        try
        {
            return SafeTensors.ReadContent(path).Metadata.GetValueOrDefault("written_by") == "convgl convert";
        }
        catch (ConvGLException)
        {
            return false;
        }
    }

    /// <summary>What an image preprocessing does, in words: "resized to 224x224, values x255, channels BGR, minus a mean image".</summary>
    internal static string Describe(ImagePreprocess p)
    {
        var steps = new List<string> { $"resized to {p.Width}x{p.Height}" };
        if (p.PixelScale != 1f) steps.Add(string.Create(CultureInfo.InvariantCulture, $"values x{p.PixelScale:G}"));
        if (p.Channels == 1) steps.Add("gray");
        else if (!p.ChannelOrder.SequenceEqual([0, 1, 2])) steps.Add("channels " + string.Concat(p.ChannelOrder.Select(c => "RGB"[c])));
        if (p.Mean.Data.Any(v => v != 0f)) steps.Add("minus a mean image");
        return string.Join(", ", steps);
    }

    /// <summary>A file's size as the line gives it: "63.6 MB", "37.2 KB" (below 0.1 MB, where MB read 0.0), "912 bytes".</summary>
    internal static string Size(long bytes) => bytes switch
    {
        >= 100_000 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:0.0} MB"),
        >= 1_000 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e3:0.0} KB"),
        _ => $"{bytes} bytes",
    };
}
