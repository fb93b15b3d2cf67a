using System.Diagnostics;

namespace ConvGL.Core.Learning;

/// <summary>Everything that decides a training run. Same config, same weights: the run is deterministic
/// whatever the number of worker threads (see <see cref="Trainer"/>).</summary>
public sealed record TrainConfig
{
    public int ImageSize { get; init; } = 28;
    public int TrainSamples { get; init; } = 4000;
    public int TestSamples { get; init; } = 1000;
    public int Epochs { get; init; } = 8;
    public int BatchSize { get; init; } = 32;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;
    public double LearningRate { get; init; } = 2e-3;
    public double Momentum { get; init; } = 0.9;
    /// <summary>Anneal the learning rate from <see cref="LearningRate"/> to 0 along a half cosine over all steps
    /// (SGDR without restarts): big steps early, small ones to settle at the end.</summary>
    public bool CosineDecay { get; init; }
    /// <summary>The fraction of all steps over which the learning rate ramps linearly from 0 to
    /// <see cref="LearningRate"/> before the schedule takes over: Adam's first steps move every weight by about the
    /// full learning rate whatever the gradient's size, which pushed ReLU units dead in the first 30 steps of the
    /// old shipped run (see <see cref="CentredBiasInit"/>). 0: no warm-up.</summary>
    public double Warmup { get; init; } = 0.05;
    public int WarmupSteps(int totalSteps) => (int)Math.Round(Warmup * totalSteps);
    /// <summary>Centre each conv unit's pre-activation on the training data before the first step
    /// (<see cref="CentredBiasInit"/>), so no unit starts dead.</summary>
    public bool CentredInit { get; init; } = true;
    /// <summary>Training images the centred init measures on.</summary>
    public const int CentredInitSamples = 200;
    public int Seed { get; init; } = 1;
    public int Conv1Channels { get; init; } = 8;
    public int Conv2Channels { get; init; } = 16;
    /// <summary>Worker threads; 0 means one per core. Does not change the result.</summary>
    public int Workers { get; init; }

    /// <summary>Independent streams from one seed: weights, shuffling, training images, test images.</summary>
    public int InitSeed => Derive(1);
    public int ShuffleSeed => Derive(2);
    public int TrainDataSeed => Derive(3);
    public int TestDataSeed => Derive(4);

    private int Derive(int stream) => unchecked(Seed * 1_000_003 + stream * 7919);

    /// <summary>The most images --samples or --test-samples may ask for.</summary>
    public const int MaxSamples = 1_000_000;
    /// <summary>The most float values the training and test images together may hold (4 GB).</summary>
    public const long MaxDataValues = 1L << 30;

    public void Validate()
    {
        static void Check(bool ok, string message)
        {
            if (!ok) throw new ConvGLException(message);
        }
        Check(ImageSize is >= 12 and <= 256, $"--size (image size) must be 12..256, got {ImageSize}");
        Check(ImageSize % 4 == 0, $"--size (image size) must be a multiple of 4 (two 2x2 max-pools), got {ImageSize}");
        // The data sets are drawn and held in memory (ImageSize^2 floats an image): the caps keep them to a few GB at
        // the largest size, and a batch (its activations, per worker) to no more images than the training set.
        Check(TrainSamples is >= 10 and <= MaxSamples, $"--samples must be 10..{MaxSamples}, got {TrainSamples}");
        Check(TestSamples is >= 10 and <= MaxSamples, $"--test-samples must be 10..{MaxSamples}, got {TestSamples}");
        Check((long)(TrainSamples + (long)TestSamples) * ImageSize * ImageSize <= MaxDataValues,
            $"--samples {TrainSamples} and --test-samples {TestSamples} of {ImageSize}x{ImageSize} images hold more than {MaxDataValues} values (a GB each 2^28); use fewer or smaller images");
        Check(Epochs is >= 1 and <= 10_000, $"--epochs must be 1..10000, got {Epochs}");
        Check(BatchSize >= 1 && BatchSize <= Math.Min(TrainSamples, 4096), $"--batch must be 1..{Math.Min(TrainSamples, 4096)} (at most --samples and 4096), got {BatchSize}");
        Check(Workers is >= 0 and <= 256, $"--workers must be 0 (one per core) .. 256, got {Workers}");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), $"--lr must be a positive number, got {LearningRate}");
        Check(Momentum is >= 0 and < 1, $"--momentum must be in [0, 1), got {Momentum}");
        Check(Warmup is >= 0 and < 1, $"--warmup (a fraction of the steps) must be in [0, 1), got {Warmup}");
        Check(Conv1Channels >= 1 && Conv2Channels >= 1, "conv channel counts must be at least 1");
    }
}

/// <summary>The loss and accuracy after one epoch: the mean training loss over the epoch (as it went) and the
/// loss and accuracy on the held-out set at its end; <see cref="Inactive"/> names the ReLU units ("relu2/3") inactive
/// on the first <see cref="Trainer.ActivityProbeImages"/> held-out images at its end.</summary>
public sealed record EpochStats(int Epoch, double TrainLoss, double TestLoss, double TestAccuracy, TimeSpan Elapsed)
{
    public IReadOnlyList<string> Inactive { get; init; } = [];
}

public sealed record TrainResult(Sequential Model, IReadOnlyList<EpochStats> History, double InitialTestAccuracy, double InitialTestLoss);

/// <summary>Mini-batch training of <see cref="SmallCnn"/> on <see cref="SyntheticShapes"/>.
///
/// Determinism with threads: every item of a batch gets its own gradient slot, workers take items by a fixed
/// rule and write only their own slots, and the slots are summed in item order afterwards. The floating-point
/// additions therefore happen in the same order whatever the thread count or scheduling, and so the weights
/// after training depend on the config alone.</summary>
public static class Trainer
{
    /// <summary>Held-out images the per-epoch inactive-unit check runs on (the final report uses all of them).</summary>
    public const int ActivityProbeImages = 200;

    /// <summary>The learning rate at a step (0-based) of <paramref name="totalSteps"/>: linear warm-up, then constant
    /// or a half cosine from the base rate to 0 over the remaining steps.</summary>
    public static double LearningRateAt(TrainConfig config, int step, int totalSteps)
    {
        int warmup = config.WarmupSteps(totalSteps);
        if (step < warmup) return config.LearningRate * (step + 1) / warmup;
        if (!config.CosineDecay) return config.LearningRate;
        return config.LearningRate * 0.5 * (1.0 + Math.Cos(Math.PI * (step - warmup) / Math.Max(1, totalSteps - warmup)));
    }

    public static TrainResult Train(TrainConfig config, Action<EpochStats>? onEpoch = null, Action<string>? log = null)
    {
        config.Validate();
        var clock = Stopwatch.StartNew();
        // Said first: large sets take a while to draw (16000 images of 256x256: over a minute) before the first epoch.
        log?.Invoke($"generating {config.TrainSamples} training and {config.TestSamples} test images of {config.ImageSize}x{config.ImageSize} ...");
        IReadOnlyList<Sample> train = SyntheticShapes.Generate(config.TrainSamples, config.TrainDataSeed, config.ImageSize);
        IReadOnlyList<Sample> test = SyntheticShapes.Generate(config.TestSamples, config.TestDataSeed, config.ImageSize);
        log?.Invoke($"data: {train.Count} training and {test.Count} test images of {config.ImageSize}x{config.ImageSize}, " +
                    $"{SyntheticShapes.ClassCount} classes, generated in {clock.Elapsed.TotalSeconds:F1} s");

        Sequential model = SmallCnn.Create(config.ImageSize, SyntheticShapes.ClassCount, config.Conv1Channels, config.Conv2Channels, new Random(config.InitSeed));
        if (config.CentredInit) CentredBiasInit.Apply(model, [.. train.Take(TrainConfig.CentredInitSamples).Select(s => s.Image)]);
        Tensor[] probe = [.. test.Take(ActivityProbeImages).Select(s => s.Image)];
        log?.Invoke($"model: {SmallCnn.Describe(model, config.ImageSize)} ({model.ParameterCount} parameters)");
        Optimizer optimizer = Optimizer.Create(config.Optimizer, config.LearningRate, config.Momentum);

        int workers = config.Workers > 0 ? config.Workers : Environment.ProcessorCount;
        Sequential[] replicas = [.. Enumerable.Range(0, workers).Select(_ => model.Replica())];
        IReadOnlyList<Parameter> parameters = model.Parameters;
        int parameterCount = model.ParameterCount;
        double[][] slots = [.. Enumerable.Range(0, config.BatchSize).Select(_ => new double[parameterCount])];
        double[] slotLoss = new double[config.BatchSize];

        (double initialLoss, double initialAccuracy) = Evaluate(replicas, test);
        log?.Invoke($"before training: test loss {initialLoss:F4}, test accuracy {initialAccuracy:P1}");

        var shuffle = new Random(config.ShuffleSeed);
        int[] order = [.. Enumerable.Range(0, train.Count)];
        var history = new List<EpochStats>();
        int stepsPerEpoch = (order.Length + config.BatchSize - 1) / config.BatchSize, totalSteps = stepsPerEpoch * config.Epochs, step = 0;
        for (int epoch = 1; epoch <= config.Epochs; epoch++)
        {
            shuffle.Shuffle(order);
            double lossSum = 0.0;
            for (int start = 0; start < order.Length; start += config.BatchSize)
            {
                int count = Math.Min(config.BatchSize, order.Length - start);
                Parallel.For(0, workers, w =>
                {
                    Sequential replica = replicas[w];
                    for (int k = w; k < count; k += workers)
                    {
                        Sample s = train[order[start + k]];
                        replica.ZeroGrad();
                        Tensor logits = replica.Forward(s.Image);
                        slotLoss[k] = SoftmaxCrossEntropy.Loss(logits, s.Label, out Tensor gradLogits);
                        replica.Backward(gradLogits);
                        CopyGrads(replica.Parameters, slots[k]);
                    }
                });
                // Mean over the batch, summed in item order (the determinism rule above).
                int offset = 0;
                foreach (Parameter p in parameters)
                {
                    for (int i = 0; i < p.Grad.Length; i++)
                    {
                        double sum = 0.0;
                        for (int k = 0; k < count; k++) sum += slots[k][offset + i];
                        p.Grad[i] = sum / count;
                    }
                    offset += p.Grad.Length;
                }
                for (int k = 0; k < count; k++) lossSum += slotLoss[k];
                optimizer.LearningRate = LearningRateAt(config, step, totalSteps);
                optimizer.Step(parameters);
                step++;
            }
            (double testLoss, double accuracy) = Evaluate(replicas, test);
            var stats = new EpochStats(epoch, lossSum / order.Length, testLoss, accuracy, clock.Elapsed)
            {
                Inactive = [.. UnitActivity.Measure(model, probe).Where(u => u.Inactive).Select(u => $"{u.Layer}/{u.Channel}")],
            };
            history.Add(stats);
            onEpoch?.Invoke(stats);
        }
        return new TrainResult(model, history, initialAccuracy, initialLoss);
    }

    /// <summary>Mean cross-entropy and accuracy of the model on <paramref name="samples"/>.</summary>
    public static (double Loss, double Accuracy) Evaluate(Sequential model, IReadOnlyList<Sample> samples) =>
        Evaluate([model.Replica()], samples);

    private static (double Loss, double Accuracy) Evaluate(Sequential[] replicas, IReadOnlyList<Sample> samples)
    {
        double[] losses = new double[samples.Count];
        bool[] correct = new bool[samples.Count];
        int workers = replicas.Length;
        Parallel.For(0, workers, w =>
        {
            for (int n = w; n < samples.Count; n += workers)
            {
                Tensor logits = replicas[w].Forward(samples[n].Image);
                losses[n] = SoftmaxCrossEntropy.Loss(logits, samples[n].Label);
                correct[n] = SoftmaxCrossEntropy.ArgMax(logits) == samples[n].Label;
            }
        });
        return (losses.Sum() / samples.Count, (double)correct.Count(c => c) / samples.Count);
    }

    private static void CopyGrads(IReadOnlyList<Parameter> parameters, double[] slot)
    {
        int offset = 0;
        foreach (Parameter p in parameters)
        {
            p.Grad.CopyTo(slot, offset);
            offset += p.Grad.Length;
        }
    }
}
