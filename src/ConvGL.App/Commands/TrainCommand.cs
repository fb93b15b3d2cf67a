using System.Diagnostics;
using System.Globalization;
using System.Text;
using ConvGL.App.Cli;
using ConvGL.App.Training;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Kernels;
using ConvGL.Core.Learning;
using ConvGL.Core.Ops;
using ConvGL.Core.Stacks;

namespace ConvGL.App.Commands;

/// <summary>`convgl train`: learning done by ConvGL itself (backprop in ConvGL.Core.Learning).
///
/// Default mode trains <see cref="SmallCnn"/> on <see cref="SyntheticShapes"/> and writes, into --out:
/// NAME.safetensors (every tensor, PyTorch state_dict names), NAME.json (a stack of the two learned conv
/// layers with their ReLUs and pools, naming NAME.safetensors) and NAME-curve.png (loss and accuracy).
/// The defaults are the configuration that produced the shipped assets/stacks/learned.*.
///
/// --fit-kernel mode learns one kernel from an (input, target) image pair by gradient descent.</summary>
internal static class TrainCommand
{
    public static readonly CommandSpec Spec = new("train", [],
        ["out", "name", "epochs", "seed", "optimizer", "lr", "momentum", "samples", "test-samples", "batch", "size", "workers", "preview", "schedule",
         "input", "target", "hidden", "kernel-size", "mode", "border", "steps"],
        ["fit-kernel", "help"]);

    /// <summary>Options that only make sense in one of the two modes (given in the other, they are an error
    /// rather than silently ignored).</summary>
    private static readonly string[] TrainOnly = ["name", "epochs", "seed", "momentum", "samples", "test-samples", "batch", "size", "workers", "preview", "schedule"];
    private static readonly string[] FitOnly = ["input", "target", "hidden", "kernel-size", "mode", "border", "steps"];

    private static readonly Dictionary<string, OptimizerKind> Optimizers = new() { ["adam"] = OptimizerKind.Adam, ["sgd"] = OptimizerKind.Sgd };
    private static readonly Dictionary<string, FitMethod> FitMethods = new() { ["cg"] = FitMethod.ConjugateGradient, ["adam"] = FitMethod.Adam };
    private static readonly Dictionary<string, bool> Schedules = new() { ["cosine"] = true, ["constant"] = false };
    private static readonly Dictionary<string, ConvMode> Modes = new() { ["correlate"] = ConvMode.Correlate, ["convolve"] = ConvMode.Convolve };

    private const string Usage = """
        convgl train [--out DIR] [--name NAME] [--epochs N] [--seed N] [--optimizer adam|sgd] [--lr X] [--momentum X]
                     [--samples N] [--test-samples N] [--batch N] [--size N] [--schedule cosine|constant]
                     [--workers N] [--preview PNG]
            Trains a small CNN (conv3x3 x8, relu, maxpool2, conv3x3 x16, relu, maxpool2, linear to 10 classes) on
            synthetic shapes ConvGL draws itself, printing per-epoch loss and held-out accuracy, then writes
            DIR/NAME.safetensors, DIR/NAME.json (stack) and DIR/NAME-curve.png. Defaults (the shipped weights):
            --out assets/stacks --name learned --epochs 8 --seed 1 --optimizer adam --lr 0.003 --samples 5000
            --test-samples 1000 --batch 10 --size 28 --schedule cosine (sgd: --lr 0.05 --momentum 0.9).
            The result depends on these settings only (not on --workers or the machine's core count).
            --preview writes a sheet of training samples, one row per class.

        convgl train --fit-kernel [--input IMG] (--target IMG | --hidden KERNEL) [--kernel-size N|HxW]
                     [--mode correlate|convolve] [--border zero|replicate|reflect|symmetric|wrap]
                     [--optimizer cg|adam] [--steps N] [--lr X] [--out FILE]
            Learns one kernel (and a bias) that maps INPUT to TARGET under `same` padding, by gradient descent on the
            mean squared error, gradients from the conv layer's backward pass: conjugate gradient with an exact line
            search (cg, default: the loss is quadratic, so it converges in a few dozen steps even on smooth photos),
            or Adam (the CNN's optimiser; fine on textured input, slow on smooth images). IMG is an image (read as gray) or a .npy (H, W) / (1, H, W) float array; use a
            .npy target (e.g. from `convgl apply IN target.npy --kernel K`) for exact values, since a PNG target has
            been normalised. --hidden filters INPUT with a library kernel or kernel file to make the target and reports
            how close the recovered kernel is. Without --input, a textured synthetic image is used. --out writes the
            kernel as a kernel text file. Defaults: --kernel-size 3 --mode correlate --border reflect
            --optimizer cg --steps 10*(kH*kW+1) (adam: --steps 600 --lr 0.05).
        """;

    public static int Run(CommandLine args)
    {
        if (args.Flag("help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        bool fit = args.Flag("fit-kernel");
        foreach (string o in fit ? TrainOnly : FitOnly)
            if (args.Get(o) is not null || args.Flag(o))
                throw new ConvGLException($"train: --{o} only applies {(fit ? "without" : "with")} --fit-kernel");
        return fit ? FitKernel(args) : TrainNetwork(args);
    }

    private static int TrainNetwork(CommandLine args)
    {
        OptimizerKind optimizer = args.GetChoice("optimizer", OptimizerKind.Adam, Optimizers);
        var config = new TrainConfig
        {
            Epochs = args.GetInt("epochs", 8, 1),
            Seed = args.GetInt("seed", 1, 0),
            Optimizer = optimizer,
            LearningRate = args.GetDouble("lr", optimizer == OptimizerKind.Adam ? 0.003 : 0.05),
            Momentum = args.GetDouble("momentum", 0.9),
            TrainSamples = args.GetInt("samples", 5000, 10),
            TestSamples = args.GetInt("test-samples", 1000, 10),
            BatchSize = args.GetInt("batch", 10, 1),
            ImageSize = args.GetInt("size", 28, 12),
            CosineDecay = args.GetChoice("schedule", true, Schedules),
            Workers = args.GetInt("workers", 0, 0),
        };
        config.Validate();
        string dir = args.Get("out", "assets/stacks");
        string name = args.Get("name", "learned");
        if (name.Length == 0 || name.IndexOfAny(['/', '\\']) >= 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            throw new ConvGLException($"train: --name '{name}' must be a plain file name (no directories)");
        if (File.Exists(dir)) throw new ConvGLException($"train: --out '{dir}' is a file; give a directory");
        string? preview = args.Get("preview");
        if (preview is not null && !preview.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new ConvGLException($"train: --preview '{preview}' must end in .png");

        // Make sure the outputs can be written before spending a minute training.
        try
        {
            Directory.CreateDirectory(dir);
            if (preview is not null) Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(preview))!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConvGLException($"train: cannot create the output directory for '{(preview is not null && Directory.Exists(dir) ? preview : dir)}': {e.Message}", e);
        }

        string invocation = Invocation(config, dir, name);
        Console.WriteLine($"convgl train: {invocation}");
        var clock = Stopwatch.StartNew();
        TrainResult result = Trainer.Train(config,
            e => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {e.Epoch,3}/{config.Epochs}  train loss {e.TrainLoss:F4}  test loss {e.TestLoss:F4}  test accuracy {e.TestAccuracy * 100,5:F1}%  ({e.Elapsed.TotalSeconds:F1} s)")),
            Console.WriteLine);
        double accuracy = result.History[^1].TestAccuracy;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"trained in {clock.Elapsed.TotalSeconds:F1} s: held-out accuracy {accuracy * 100:F1}% on {config.TestSamples} images (chance {100.0 / SyntheticShapes.ClassCount:F0}%)"));

        string weightsFile = name + ".safetensors";
        string weightsPath = Path.Combine(dir, weightsFile), stackPath = Path.Combine(dir, name + ".json"), curvePath = Path.Combine(dir, name + "-curve.png");
        // Weights first: the stack file must never name tensors that are not there.
        var tensors = result.Model.NamedParameters.ToDictionary(p => p.Name, p => p.Parameter.Value, StringComparer.Ordinal);
        SafeTensors.Write(weightsPath, tensors, new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["producer"] = "convgl train",
            ["command"] = invocation,
            ["architecture"] = SmallCnn.Describe(result.Model, config.ImageSize),
            ["classes"] = string.Join(",", SyntheticShapes.ClassNames),
            ["input"] = $"gray (1, {config.ImageSize}, {config.ImageSize}) in [0, 1]",
            ["test_accuracy"] = accuracy.ToString("F4", CultureInfo.InvariantCulture),
        });
        Stack stack = SmallCnn.ToStack(result.Model, name, weightsFile, string.Create(CultureInfo.InvariantCulture,
            $"learned by convgl train on synthetic shapes ({accuracy * 100:F1}% held-out accuracy): conv1, relu, maxpool, conv2, relu, maxpool"));
        string json = StackHeader(invocation, accuracy, config) + StackWriter.ToJson(stack);
        AtomicFile.WriteAllBytes(stackPath, Encoding.UTF8.GetBytes(json));
        CurvePlot.Save(curvePath, result, string.Create(CultureInfo.InvariantCulture,
            $"convgl train: {config.Optimizer.ToString().ToLowerInvariant()}, lr {config.LearningRate}{(config.CosineDecay ? " cosine-annealed" : "")}, batch {config.BatchSize}, {config.TrainSamples} images {config.ImageSize}x{config.ImageSize}, seed {config.Seed}"));
        Console.WriteLine($"wrote {weightsPath}, {stackPath}, {curvePath}");
        if (preview is not null)
        {
            PreviewPng.Save(SyntheticShapes.PreviewGrid(10, config.TrainDataSeed, config.ImageSize), preview, 3);
            Console.WriteLine($"wrote {preview} (rows: {string.Join(", ", SyntheticShapes.ClassNames)})");
        }
        return 0;
    }

    /// <summary>The command line that reproduces a run, every setting spelled out.</summary>
    private static string Invocation(TrainConfig c, string dir, string name)
    {
        string momentum = c.Optimizer == OptimizerKind.Sgd ? FormattableString.Invariant($" --momentum {c.Momentum}") : "";
        return FormattableString.Invariant(
            $"convgl train --out {dir} --name {name} --epochs {c.Epochs} --seed {c.Seed} --optimizer {c.Optimizer.ToString().ToLowerInvariant()} --lr {c.LearningRate}{momentum} ") +
            FormattableString.Invariant($"--samples {c.TrainSamples} --test-samples {c.TestSamples} --batch {c.BatchSize} --size {c.ImageSize} --schedule {(c.CosineDecay ? "cosine" : "constant")}");
    }

    private static string StackHeader(string invocation, double accuracy, TrainConfig c) => FormattableString.Invariant($"""
        // Written by ConvGL's own training (backprop in src/ConvGL.Core/Learning), reproducible with:
        //   ./{invocation}
        // The first two layers of a small CNN trained on {c.TrainSamples} synthetic {c.ImageSize}x{c.ImageSize} gray images of
        // {SyntheticShapes.ClassCount} classes ({string.Join(", ", SyntheticShapes.ClassNames)}); {accuracy * 100:F1}% accuracy on
        // {c.TestSamples} held-out images. The classifier (fc.weight, fc.bias) is in the safetensors file too.

        """);

    private static int FitKernel(CommandLine args)
    {
        string? inputPath = args.Get("input"), targetPath = args.Get("target"), hidden = args.Get("hidden");
        if ((targetPath is null) == (hidden is null))
            throw new ConvGLException("train --fit-kernel: give exactly one of --target IMG (the filtered image) or --hidden KERNEL (filter the input to make it)");
        (int kh, int kw) = KernelSize(args.Get("kernel-size", "3"));
        string borderName = args.Get("border", "reflect");
        if (!Borders.TryParse(borderName, out Border border))
            throw new ConvGLException($"train: --border must be one of {Borders.Names}, got '{borderName}'");
        var options = new ConvOptions { Mode = args.GetChoice("mode", ConvMode.Correlate, Modes), Border = border };
        FitMethod method = args.GetChoice("optimizer", FitMethod.ConjugateGradient, FitMethods);
        int steps = args.GetInt("steps", 0, 1);
        double lr = args.GetDouble("lr", 0.05);
        if (!(lr > 0)) throw new ConvGLException($"train: --lr must be positive, got {lr}");
        string? outPath = args.Get("out");
        if (outPath is not null && Directory.Exists(outPath)) throw new ConvGLException($"train: --out '{outPath}' is a directory; give a kernel file name");

        Tensor input = inputPath is null ? SyntheticTexture() : LoadGray(inputPath, "--input");
        Tensor? hiddenKernel = hidden is null ? null : KernelSource.Resolve(hidden);
        if (hiddenKernel is not null && (hiddenKernel.H != kh || hiddenKernel.W != kw))
            throw new ConvGLException($"train: --hidden kernel '{hidden}' is {hiddenKernel.H}x{hiddenKernel.W} but --kernel-size is {kh}x{kw}; make them match");
        Tensor target = hiddenKernel is not null ? Conv2D.Filter(input, hiddenKernel, options) : LoadGray(targetPath!, "--target");
        if (target.H != input.H || target.W != input.W)
            throw new ConvGLException($"train: --target '{targetPath}' is {target.W}x{target.H} but --input '{inputPath ?? "(synthetic texture)"}' is {input.W}x{input.H}; " +
                                      "the fit uses `same` padding, so they must be the same size");
        Console.WriteLine($"fitting a {kh}x{kw} kernel + bias: input {input.W}x{input.H}{(inputPath is null ? " (synthetic texture)" : $" ({inputPath})")}, " +
                          $"target {(hidden is not null ? $"input filtered by '{hidden}'" : targetPath)}, {options}, " +
                          (method == FitMethod.Adam ? $"Adam from lr {lr}" : "conjugate gradient with exact line search"));

        int every = method == FitMethod.Adam ? Math.Max(1, (steps > 0 ? steps : 600) / 6) : 5;
        KernelFitResult r = KernelFit.Fit(input, target, kh, kw, options, method, steps, lr, fitBias: true, progress: (step, loss) =>
        {
            if (step % every == 0) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {step,5}  mse {loss:0.000E+00}"));
        });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {r.LossHistory.Count - 1,5}  mse {r.FinalLoss:0.000E+00} (final)"));
        string text = KernelText(r, options);
        Console.Write(text);
        if (hiddenKernel is not null)
        {
            double worst = r.Kernel.Data.Zip(hiddenKernel.Data, (a, b) => Math.Abs(a - b)).Max();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"largest difference from the hidden kernel: {worst:G3}; bias {r.Bias:G3} (hidden 0)"));
        }
        if (outPath is not null)
        {
            AtomicFile.WriteAllBytes(outPath, Encoding.UTF8.GetBytes(text));
            Console.WriteLine($"wrote {outPath}");
        }
        return 0;
    }

    /// <summary>The fitted kernel as a kernel text file (DESIGN.md): rows of numbers, the bias as a comment.</summary>
    private static string KernelText(KernelFitResult r, ConvOptions options)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# kernel fitted by convgl train --fit-kernel ({options.Mode.ToString().ToLowerInvariant()}, border {options.Border.Name()}), final mse {r.FinalLoss:0.000E+00}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"# bias {r.Bias:G6}");
        for (int y = 0; y < r.Kernel.H; y++)
            sb.AppendLine(string.Join(" ", Enumerable.Range(0, r.Kernel.W).Select(x => Math.Round(r.Kernel[y, x], 4).ToString("0.0000", CultureInfo.InvariantCulture).Replace("-0.0000", "0.0000").PadLeft(8))));
        return sb.ToString();
    }

    private static (int H, int W) KernelSize(string s)
    {
        string[] parts = s.Split('x');
        if (parts.Length is 1 or 2 && parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v is >= 1 and <= 15))
        {
            int h = int.Parse(parts[0], CultureInfo.InvariantCulture);
            return (h, parts.Length == 2 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : h);
        }
        throw new ConvGLException($"train: --kernel-size must be N or HxW with sizes 1..15, got '{s}'");
    }

    /// <summary>An image as gray (1, H, W) in [0, 1], or a .npy array (H, W) or (1, H, W) as stored.</summary>
    private static Tensor LoadGray(string path, string option)
    {
        if (!File.Exists(path)) throw new ConvGLException($"train: {option} '{path}' does not exist");
        if (!path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) return ImageIO.Load(path, ImageChannels.Gray);
        Tensor t = Npy.Read(path);
        if (t.Rank == 2) return t.Reshape(1, t.H, t.W);
        if (t.Rank == 3 && t.C == 1) return t;
        throw new ConvGLException($"train: {option} '{path}' holds an array of shape {t.ShapeString}; a fit needs one channel, (H, W) or (1, H, W)");
    }

    /// <summary>64x64: synthetic samples tiled, plus uniform noise, so every local pattern occurs and the fit has one answer.</summary>
    private static Tensor SyntheticTexture()
    {
        IReadOnlyList<Sample> tiles = SyntheticShapes.Generate(16, 12345, 16);
        var rng = new Random(54321);
        var image = Tensor.Chw(1, 64, 64);
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++)
                image[0, y, x] = 0.7f * tiles[y / 16 * 4 + x / 16].Image[0, y % 16, x % 16] + 0.3f * (float)rng.NextDouble();
        return image;
    }
}
