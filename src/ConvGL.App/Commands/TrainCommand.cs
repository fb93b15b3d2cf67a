using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.CommandLine;
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
/// The defaults are the configuration that produced the shipped assets/stacks/learned.*, except --out: by default
/// the files go to ./trained, never over the shipped ones (pass --out assets/stacks to regenerate those).
///
/// --fit-kernel mode learns one kernel from an (input, target) image pair by gradient descent.</summary>
internal static partial class TrainCommand
{
    // Training a network (the default mode).
    private static readonly Option<string?> Out = Opt.Text("--out",
        "training: the folder for NAME.safetensors, NAME.json and NAME-curve.png (default ./trained; the shipped files are in assets/stacks); --fit-kernel: the kernel text file to write (a .txt name)", "PATH");
    private static readonly Option<string> Name = Opt.TextOr("--name", "file name stem of the outputs", "learned", "NAME");
    private static readonly Option<int> Epochs = Opt.Int("--epochs", "passes over the training set", 8, min: 1);
    private static readonly Option<int> Seed = Opt.Int("--seed", "seed of the initial weights and the data", 1, min: 0);
    private static readonly Option<string?> Optimizer = Opt.Text("--optimizer", "training: adam (default) or sgd; --fit-kernel: cg (default) or adam", "NAME");
    private static readonly Option<double?> Lr = Opt.OptionalNumber("--lr", "learning rate (default adam 0.003, sgd 0.02; --fit-kernel adam 0.05)");
    private static readonly Option<double> Momentum = Opt.Parsed("--momentum", "sgd momentum", Parsers.Number, 0.9, "X");
    private static readonly Option<int> Samples = Opt.Int("--samples", "training images", 5000, min: 10);
    private static readonly Option<int> TestSamples = Opt.Int("--test-samples", "held-out images", 1000, min: 10);
    private static readonly Option<int> Batch = Opt.Int("--batch", "images per step", 10, min: 1);
    private static readonly Option<int> Size = Opt.Int("--size", "image side in pixels", 28, min: 12);
    private static readonly Option<int> Workers = Opt.Int("--workers", "threads (0: one per core); the result does not depend on it", 0, min: 0);
    private static readonly Option<string?> Preview = Opt.Text("--preview", "also write a sheet of training samples, one row per class", "PNG");
    // Enums, not bools: System.CommandLine lets an Option<bool> take only true/false after it, so "--schedule
    // constant" was an unexpected argument.
    private enum LrSchedule { Cosine, Constant }
    private enum BiasInit { Centred, Uniform }

    private static readonly Option<LrSchedule> Schedule = Opt.Choice("--schedule", "learning-rate schedule after the warm-up (default cosine)", LrSchedule.Cosine,
        new Dictionary<string, LrSchedule> { ["cosine"] = LrSchedule.Cosine, ["constant"] = LrSchedule.Constant });
    private static readonly Option<double> Warmup = Opt.Parsed("--warmup",
        "fraction of the steps over which the learning rate ramps up from 0 (0: none)", Parsers.Number, 0.05, "F");
    private static readonly Option<BiasInit> InitOption = Opt.Choice("--init",
        "centred (default: each conv unit's bias set so its pre-activation averages 0 on the first training images, so no ReLU unit starts dead) or uniform (PyTorch-style random biases only)",
        BiasInit.Centred, new Dictionary<string, BiasInit> { ["centred"] = BiasInit.Centred, ["uniform"] = BiasInit.Uniform });

    // Fitting one kernel.
    private static readonly Option<bool> FitKernelFlag = Opt.Flag("--fit-kernel", "learn one kernel from an (input, target) image pair instead");
    private static readonly Option<string?> InputOption = Opt.Text("--input", "the image to filter (read as gray) or a .npy (H,W) / (1,H,W); default a synthetic texture", "IMG");
    private static readonly Option<string?> Target = Opt.Text("--target", "the filtered image (a .npy for exact values)", "IMG");
    private static readonly Option<string?> Hidden = Opt.Text("--hidden", "make the target by filtering the input with this kernel, and report how close the fit came", "KERNEL");
    private static readonly Option<(int H, int W)> KernelSize = Opt.Parsed("--kernel-size", "kernel size N or HxW, 1..15 (default 3)", Parsers.KernelSize, default, "N|HxW");
    private static readonly Option<ConvMode> Mode = Opt.ModeChoice();
    private static readonly Option<Border> BorderOption = Opt.BorderChoice(Border.Reflect);
    private static readonly Option<int> Steps = Opt.Int("--steps", "optimiser steps (default cg 10*(kH*kW+1), adam 600)", 0, min: 1);

    /// <summary>Where a training run writes unless told: a folder of its own in the working directory, so a plain
    /// `convgl train` never replaces the shipped assets/stacks/learned.*.</summary>
    internal const string DefaultOut = "trained";
    /// <summary>The most optimiser steps a kernel fit takes: its loss history is kept, one value a step.</summary>
    private const int MaxSteps = 1_000_000;

    /// <summary>Options that only make sense in one of the two modes (given in the other, they are an error
    /// rather than silently ignored).</summary>
    private static readonly Option[] TrainOnly = [Name, Epochs, Seed, Momentum, Samples, TestSamples, Batch, Size, Workers, Preview, Schedule, Warmup, InitOption];
    private static readonly Option[] FitOnly = [InputOption, Target, Hidden, KernelSize, Mode, BorderOption, Steps];

    private static readonly Dictionary<string, OptimizerKind> Optimizers = new() { ["adam"] = OptimizerKind.Adam, ["sgd"] = OptimizerKind.Sgd };
    private static readonly Dictionary<string, FitMethod> FitMethods = new() { ["cg"] = FitMethod.ConjugateGradient, ["adam"] = FitMethod.Adam };

    private const string Description =
        "Learning done by ConvGL itself (backprop in ConvGL.Core.Learning). Default: trains a small CNN (conv3x3 x8, relu, " +
        "maxpool2, conv3x3 x16, relu, maxpool2, linear to 10 classes) on synthetic shapes ConvGL draws itself, printing " +
        "per-epoch loss and held-out accuracy, then writes DIR/NAME.safetensors, DIR/NAME.json (a stack) and DIR/NAME-curve.png; " +
        "the result depends on the settings only (not on --workers or the machine's core count). --fit-kernel: learns one kernel " +
        "(and a bias) that maps --input to --target under `same` padding by gradient descent on the mean squared error, with " +
        "conjugate gradient and an exact line search (cg, default: the loss is quadratic) or Adam; use a .npy target (from " +
        "`convgl apply IN target.npy --kernel K`) for exact values, since a PNG target has been normalised.";

    public static Command Create() => CliRoot.Define("train", Description, typeof(TrainCommand), Run);

    private static int Run(ParseResult args)
    {
        bool fit = args.GetValue(FitKernelFlag);
        foreach (Option o in fit ? TrainOnly : FitOnly)
            if (args.GetResult(o) is { Implicit: false })
                throw new ConvGLException($"train: {o.Name} only applies {(fit ? "without" : "with")} --fit-kernel");
        return fit ? FitKernel(args) : TrainNetwork(args);
    }

    private static T Choice<T>(ParseResult args, Option<string?> option, T fallback, IReadOnlyDictionary<string, T> choices)
    {
        string? s = args.GetValue(option);
        if (s is null) return fallback;
        try
        {
            return Parsers.Choice(s, choices);
        }
        catch (ConvGLException e)
        {
            throw new ConvGLException($"train: {option.Name} {e.Message}");
        }
    }

    private static int TrainNetwork(ParseResult args)
    {
        OptimizerKind optimizer = Choice(args, Optimizer, OptimizerKind.Adam, Optimizers);
        var config = new TrainConfig
        {
            Epochs = args.GetValue(Epochs),
            Seed = args.GetValue(Seed),
            Optimizer = optimizer,
            LearningRate = args.GetValue(Lr) ?? (optimizer == OptimizerKind.Adam ? 0.003 : 0.02),
            Momentum = args.GetValue(Momentum),
            TrainSamples = args.GetValue(Samples),
            TestSamples = args.GetValue(TestSamples),
            BatchSize = args.GetValue(Batch),
            ImageSize = args.GetValue(Size),
            CosineDecay = args.GetValue(Schedule) == LrSchedule.Cosine,
            Warmup = args.GetValue(Warmup),
            CentredInit = args.GetValue(InitOption) == BiasInit.Centred,
            Workers = args.GetValue(Workers),
        };
        try
        {
            config.Validate();
        }
        catch (ConvGLException e)
        {
            // The settings' own words ("--epochs must be 1..10000"), under the command's name as every other train error.
            throw new ConvGLException($"train: {e.Message}", e);
        }
        // The generated images are held for the whole run (15000 of 256x256: 3.9 GB); checked against the machine before they are made.
        long imageBytes = (long)(config.TrainSamples + config.TestSamples) * config.ImageSize * config.ImageSize * sizeof(float);
        MemoryBudget.Check(string.Create(CultureInfo.InvariantCulture, $"train: {config.TrainSamples + config.TestSamples} images of {config.ImageSize}x{config.ImageSize}"),
            imageBytes + imageBytes / 4, "use fewer --samples / --test-samples or a smaller --size (nothing was trained)");
        string dir = args.GetValue(Out) ?? DefaultOut;
        string name = args.GetValue(Name)!;
        if (!PlainName().IsMatch(name))
            throw new ConvGLException($"train: --name '{ErrorText.Echo(name)}' must be a plain file name: letters, digits, '.', '_' and '-', not starting with '.', at most 100 characters");
        if (dir.Length == 0) throw new ConvGLException("train: --out is empty; give a directory");
        if (File.Exists(dir)) throw new ConvGLException($"train: --out '{dir}' is a file; give a directory");
        string? preview = args.GetValue(Preview);
        if (preview is not null && !preview.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new ConvGLException($"train: --preview '{preview}' must end in .png");

        // Make sure the outputs can be written before spending a minute training; the folders themselves are made
        // only when the files go down (an interrupted run leaves no empty folder behind).
        OutputFolder.CheckWritable(dir, "train: --out", "nothing was trained");
        // And the files it will write there: a folder, a device or a read-only file under one of their names was found
        // only after the training (a review: the whole run, 85 s to minutes, then the error).
        foreach (string own in new[] { name + ".safetensors", name + ".json", name + "-curve.png" })
            CheckOutputFile(Path.Combine(dir, own));
        if (preview is not null)
        {
            if (Directory.Exists(preview)) throw new ConvGLException($"train: --preview '{ErrorText.Echo(preview)}' is a folder; give a .png file name");
            // The sheet must not land on one of the run's own files (it replaced NAME-curve.png, the curve lost).
            // Compared where the paths really lead (a link to the curve, a linked folder: the write goes through both).
            string sheet = Path.GetFullPath(preview);
            foreach (string own in new[] { name + ".safetensors", name + ".json", name + "-curve.png" })
                if (string.Equals(AtomicFile.WrittenAt(sheet), AtomicFile.WrittenAt(Path.Combine(dir, own)), StringComparison.Ordinal))
                    throw new ConvGLException($"train: --preview '{ErrorText.Echo(preview)}' is the run's own {own} in --out; give the sample sheet another name (nothing was trained)");
            OutputFolder.CheckWritable(Path.GetDirectoryName(sheet)!, "train: --preview", "nothing was trained");
            CheckOutputFile(preview);
        }

        string invocation = Invocation(config, dir, name);
        Console.WriteLine($"convgl train: run as {invocation}");
        var clock = Stopwatch.StartNew();
        using var progress = new Progress("convgl train");
        progress.Report(0, $"epoch 1 of {config.Epochs}");
        TrainResult result = Trainer.Train(config,
            e =>
            {
                progress.Interrupt();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {e.Epoch,3}/{config.Epochs}  train loss {e.TrainLoss:F4}  test loss {e.TestLoss:F4}  test accuracy {e.TestAccuracy * 100,5:F1}%  inactive units {(e.Inactive.Count == 0 ? "none" : string.Join(",", e.Inactive))}  ({e.Elapsed.TotalSeconds:F1} s)"));
                progress.Report((double)e.Epoch / config.Epochs, e.Epoch < config.Epochs ? $"epoch {e.Epoch + 1} of {config.Epochs}" : "writing the outputs");
            },
            line =>
            {
                progress.Interrupt();
                Console.WriteLine(line);
            });
        progress.Complete();
        double accuracy = result.History[^1].TestAccuracy;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"trained in {clock.Elapsed.TotalSeconds:F1} s: held-out accuracy {accuracy * 100:F1}% on {config.TestSamples} images (chance {100.0 / SyntheticShapes.ClassCount:F0}%)"));
        ReportInactiveUnits(result.Model, config);

        // A diverged run (too large an --lr) ends in infinities or NaN: files of them would only be refused when loaded.
        foreach ((string pname, Parameter parameter) in result.Model.NamedParameters)
            if (parameter.Value.FirstNonFinite() is int bad and >= 0)
                throw new ConvGLException($"train: the training diverged ({pname} holds {parameter.Value.Data[bad]}; final test loss {result.History[^1].TestLoss}); nothing was written: lower --lr");
        // Finite but diverged: a test loss that ends far above where it started (--lr 1e6 ended at 9e17 against 2.3,
        // most units dead, at chance) is no trained network either.
        double lossAfter = result.History[^1].TestLoss;
        if (lossAfter > DivergedLossFactor * result.InitialTestLoss)
            throw new ConvGLException(string.Create(CultureInfo.InvariantCulture,
                $"train: the training diverged (test loss {lossAfter:G4} at the end against {result.InitialTestLoss:G4} before it, held-out accuracy {accuracy * 100:F1}%); nothing was written: lower --lr"));
        string weightsFile = name + ".safetensors";
        string weightsPath = Path.Combine(dir, weightsFile), stackPath = Path.Combine(dir, name + ".json"), curvePath = Path.Combine(dir, name + "-curve.png");
        var tensors = result.Model.NamedParameters.ToDictionary(p => p.Name, p => p.Parameter.Value, StringComparer.Ordinal);
        byte[] weights = SafeTensors.Serialize(tensors, new Dictionary<string, string>
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
        byte[] curve = CurvePlot.Encode(result, string.Create(CultureInfo.InvariantCulture,
            $"convgl train: {config.Optimizer.ToString().ToLowerInvariant()}, lr {config.LearningRate}{(config.Warmup > 0 ? $" warm-up {config.Warmup:0.##}" : "")}{(config.CosineDecay ? " cosine-annealed" : "")}, batch {config.BatchSize}, {config.TrainSamples} images {config.ImageSize}x{config.ImageSize}, seed {config.Seed}"));
        // Weights first: the stack file must never name tensors that are not there. All of them or none (a full disk,
        // a folder that became read-only during the run): a run that fails leaves nothing of itself.
        var files = new List<(string Path, byte[] Bytes)> { (weightsPath, weights), (stackPath, Encoding.UTF8.GetBytes(json)), (curvePath, curve) };
        if (preview is not null) files.Add((preview, PreviewPng.Encode(SyntheticShapes.PreviewGrid(10, config.TrainDataSeed, config.ImageSize), 3)));
        WriteInFolders(files);
        Console.WriteLine($"wrote {weightsPath}, {stackPath}, {curvePath}");
        if (preview is not null) Console.WriteLine($"wrote {preview} (rows: {string.Join(", ", SyntheticShapes.ClassNames)})");
        return 0;
    }

    private static void CheckOutputFile(string path)
    {
        try
        {
            AtomicFile.Check(path);
        }
        catch (ConvGLException e)
        {
            throw new ConvGLException($"train: {e.Message} (nothing was trained)", e);
        }
    }

    /// <summary>Makes the files' folders, then writes the files all or none; a folder made here is removed again
    /// when the write fails.</summary>
    private static void WriteInFolders(IReadOnlyList<(string Path, byte[] Bytes)> files)
    {
        var made = new List<string>();
        try
        {
            foreach (string folder in files.Select(f => Path.GetDirectoryName(Path.GetFullPath(f.Path))!).Distinct(StringComparer.Ordinal))
            {
                var missing = new List<string>();
                for (string? d = folder; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d)) missing.Insert(0, d);
                foreach (string d in missing)
                {
                    Directory.CreateDirectory(d);
                    made.Add(d);
                }
            }
            AtomicFile.WriteAll(files);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ConvGLException)
        {
            for (int i = made.Count - 1; i >= 0; i--)
                try { Directory.Delete(made[i]); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            if (e is ConvGLException) throw;
            throw new ConvGLException($"train: cannot make the folder for '{files[0].Path}': {e.Message}", e);
        }
    }

    /// <summary>Units (channels after a ReLU) that stayed inactive on the held-out images: they pass nothing on, so a
    /// stack built from these weights would show them as empty maps.</summary>
    /// <summary>A run whose final test loss is more than this many times its loss before training diverged.</summary>
    private const double DivergedLossFactor = 10;

    private static void ReportInactiveUnits(Sequential model, TrainConfig config)
    {
        IReadOnlyList<UnitActivity> units = UnitActivity.Measure(model,
            SyntheticShapes.Generate(config.TestSamples, config.TestDataSeed, config.ImageSize).Select(s => s.Image));
        UnitActivity[] inactive = [.. units.Where(u => u.Inactive)];
        string least = string.Join(", ", units.GroupBy(u => u.Layer).Select(g => g.MinBy(u => u.PositiveFraction)!)
            .Select(u => string.Create(CultureInfo.InvariantCulture, $"{u.Layer} channel {u.Channel} {u.PositiveFraction * 100:0.00}%")));
        Console.WriteLine(inactive.Length == 0
            ? $"inactive units on the held-out images: none of {units.Count} (least active per layer: {least} of pixels positive)"
            : string.Create(CultureInfo.InvariantCulture,
                $"inactive units on the held-out images (positive on under {UnitActivity.InactiveBelow * 100:0.#}% of pixels): {inactive.Length} of {units.Count}: ") +
              string.Join(", ", inactive.Select(u => string.Create(CultureInfo.InvariantCulture, $"{u.Layer} channel {u.Channel} ({u.PositiveFraction * 100:0.000}%)"))));
    }

    /// <summary>The command line that reproduces a run, every setting spelled out.</summary>
    private static string Invocation(TrainConfig c, string dir, string name)
    {
        string momentum = c.Optimizer == OptimizerKind.Sgd ? FormattableString.Invariant($" --momentum {c.Momentum}") : "";
        return FormattableString.Invariant(
            $"convgl train --out {dir} --name {name} --epochs {c.Epochs} --seed {c.Seed} --optimizer {c.Optimizer.ToString().ToLowerInvariant()} --lr {c.LearningRate}{momentum} ") +
            FormattableString.Invariant($"--samples {c.TrainSamples} --test-samples {c.TestSamples} --batch {c.BatchSize} --size {c.ImageSize} --schedule {(c.CosineDecay ? "cosine" : "constant")} --warmup {c.Warmup} --init {(c.CentredInit ? "centred" : "uniform")}");
    }

    private static string StackHeader(string invocation, double accuracy, TrainConfig c) => FormattableString.Invariant($"""
        // Written by ConvGL's own training (backprop in src/ConvGL.Core/Learning), reproducible with:
        //   ./{invocation}
        // The first two layers of a small CNN trained on {c.TrainSamples} synthetic {c.ImageSize}x{c.ImageSize} gray images of
        // {SyntheticShapes.ClassCount} classes ({string.Join(", ", SyntheticShapes.ClassNames)}); {accuracy * 100:F1}% accuracy on
        // {c.TestSamples} held-out images. The classifier (fc.weight, fc.bias) is in the safetensors file too.

        """);

    private static int FitKernel(ParseResult args)
    {
        string? inputPath = args.GetValue(InputOption), targetPath = args.GetValue(Target), hidden = args.GetValue(Hidden);
        if ((targetPath is null) == (hidden is null))
            throw new ConvGLException("train --fit-kernel: give exactly one of --target IMG (the filtered image) or --hidden KERNEL (filter the input to make it)");
        // Not given: 3x3 (no default value on the option itself: its help printed "[default: (3, 3)]").
        (int kh, int kw) = args.GetValue(KernelSize) is (> 0, > 0) given ? given : (3, 3);
        var options = new ConvOptions { Mode = args.GetValue(Mode), Border = args.GetValue(BorderOption) };
        FitMethod method = Choice(args, Optimizer, FitMethod.ConjugateGradient, FitMethods);
        int steps = args.GetValue(Steps);
        if (steps > MaxSteps) throw new ConvGLException($"train: --steps {steps} is over the {MaxSteps} a fit may take (conjugate gradient needs at most kH x kW + 1 steps in exact arithmetic; its default cap is 10 x that, for rounding)");
        double lr = args.GetValue(Lr) ?? 0.05;
        if (!(lr > 0)) throw new ConvGLException($"train: --lr must be positive, got {lr}");
        string? outPath = args.GetValue(Out);
        if (outPath is not null && outPath.Trim().Length == 0) throw new ConvGLException("train: --out is empty; give the kernel file to write (e.g. --out fitted.txt)");
        if (outPath is not null && Directory.Exists(outPath)) throw new ConvGLException($"train: --out '{outPath}' is a directory; give a kernel file name");
        // The fit writes a text kernel (read by --kernel and stacks by any name but .npy): a .txt name says so, where
        // fitted.png or fitted.npy would be a text file under an image's or an array's name.
        if (outPath is not null && !outPath.EndsWith(".txt", StringComparison.OrdinalIgnoreCase))
            throw new ConvGLException($"train: --out '{ErrorText.Echo(outPath)}': the fit writes a text kernel; give it a .txt name");
        if (outPath is not null)
        {
            FileIdentity.CheckNotRead("train", "--out", outPath, ("--input", inputPath), ("--target", targetPath), ("--hidden kernel file", hidden));
            CheckKernelOut(outPath);
        }

        Tensor input = inputPath is null ? SyntheticTexture() : LoadGray(inputPath, "--input");
        MemoryBudget.Check($"train --fit-kernel: the {input.W}x{input.H} --input", input.Length * FitBytesPerPixel, "use a smaller picture (crop or scale it)");
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
        // The history holds every step's loss and then the float32 weights' (the fit carries its residual in double).
        int last = r.LossHistory.Count - 2;
        int cap = steps > 0 ? steps : method == FitMethod.Adam ? 600 : 10 * (kh * kw + 1);
        if (r.Stopped is not null) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"converged after step {last} of {cap}, mse {r.LossHistory[last]:0.000E+00}: {r.Stopped}"));
        // Not converged: said, with how much the last steps still gained (a run that stopped mid-descent printed its
        // last mse and nothing else).
        else
        {
            // The mse is the final line's (the history's last step is the loss before that step's update).
            string gain = last >= 10 && r.LossHistory[last - 10] > 0
                ? string.Create(CultureInfo.InvariantCulture, $" (its last 10 steps lowered the mse by {1 - r.LossHistory[last] / r.LossHistory[last - 10]:0.0%})") : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"stopped at the step limit ({cap} step{(cap == 1 ? "" : "s")}) before converging{gain}: more --steps may fit it closer"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"final mse {r.FinalLoss:0.000E+00} (the float32 kernel written below, with the bias in its comment, which --kernel does not read)"));
        string text = KernelText(r, options);
        Console.Write(text);
        if (hiddenKernel is not null)
        {
            double worst = r.Kernel.Data.Zip(hiddenKernel.Data, (a, b) => Math.Abs(a - b)).Max();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"largest difference from the hidden kernel: {worst:G3}; bias {r.Bias:G3} (hidden 0)"));
        }
        if (outPath is not null)
        {
            // A fit that diverged (too large an --lr, or inputs near float32's range) leaves NaN or infinities: a kernel
            // file of them would only be refused when read.
            // So did one that ended above where it started (Adam at --lr 1e30 wrote taps of 4e16 at an mse of 1.3e32).
            if (r.Kernel.FirstNonFinite() >= 0 || !float.IsFinite((float)r.Bias) || !(r.FinalLoss <= r.LossHistory[0]))
                throw new ConvGLException(string.Create(CultureInfo.InvariantCulture,
                    $"train: the fit diverged (mse {r.LossHistory[0]:G4} at the start, {r.FinalLoss:G4} at the end); {outPath} was not written: lower --lr, or scale the input and target to a smaller range"));
            AtomicFile.WriteAllBytes(outPath, Encoding.UTF8.GetBytes(text));
            Console.WriteLine($"wrote {outPath}");
        }
        return 0;
    }

    /// <summary>The fit's --out checked before the fit (an audit: a missing or read-only folder was found only after the
    /// whole fit, its steps and kernel already printed): its folder exists and may be written, and the name is no folder,
    /// device or read-only file. The fit creates no folders (as `apply`); training's --out folder is made.</summary>
    private static void CheckKernelOut(string path)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        if (!Directory.Exists(dir))
            throw new ConvGLException($"train: --out: cannot write '{ErrorText.Echo(path)}': directory '{ErrorText.Echo(dir)}' does not exist; create it or give another path (nothing was fitted)");
        try
        {
            AtomicFile.Check(path);
        }
        catch (ConvGLException e)
        {
            throw new ConvGLException($"train: --out: {e.Message} (nothing was fitted)", e);
        }
        OutputFolder.CheckWritable(dir, "train: --out", "nothing was fitted");
    }

    /// <summary>Bytes a kernel fit takes per input pixel: it holds the input, the target, the prediction, the residual and
    /// gradient maps (7.2 GB resident for a 16384x16384 input in the fifth audit, 27 bytes a pixel), rounded up.</summary>
    private const long FitBytesPerPixel = 28;

    /// <summary>The fitted kernel as a kernel text file (DESIGN.md): rows of numbers, the bias as a comment.</summary>
    internal static string KernelText(KernelFitResult r, ConvOptions options)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# kernel fitted by convgl train --fit-kernel ({options.Mode.ToString().ToLowerInvariant()}, border {options.Border.Name()}), final mse {r.FinalLoss:0.000E+00}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"# bias {r.Bias:G6}");
        // Each tap as the shortest text that reads back as the same float32 (it was rounded to 4 decimals, so the file
        // did not hold the kernel whose mse the fit printed: 1.9e-8 against 2e-16 for a fitted 5x5 Gaussian).
        string Tap(int y, int x) => (r.Kernel[y, x] + 0f).ToString(CultureInfo.InvariantCulture);
        int width = Enumerable.Range(0, r.Kernel.H).SelectMany(y => Enumerable.Range(0, r.Kernel.W).Select(x => Tap(y, x).Length)).Max();
        for (int y = 0; y < r.Kernel.H; y++)
            sb.AppendLine(string.Join(" ", Enumerable.Range(0, r.Kernel.W).Select(x => Tap(y, x).PadLeft(width))));
        return sb.ToString();
    }

    /// <summary>An image as gray (1, H, W) in [0, 1], or a .npy array (H, W) or (1, H, W) as stored.</summary>
    private static Tensor LoadGray(string path, string option)
    {
        if (!File.Exists(path)) throw new ConvGLException($"train: {option} '{path}' does not exist");
        if (!path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) return ImageIO.Load(path, ImageChannels.Gray);
        Tensor t = Npy.Read(path);
        Npy.RequireFinite(t, $"train: {option}", path);
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

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$")]
    private static partial System.Text.RegularExpressions.Regex PlainName();
}
