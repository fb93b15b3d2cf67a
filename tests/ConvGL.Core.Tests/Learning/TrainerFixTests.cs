using ConvGL.Core.Learning;

namespace ConvGL.Core.Tests.Learning;

/// <summary>What the trainer does against dead ReLU units (issue 10): a data-centred bias init and a learning-rate
/// warm-up. The cause is shown on the shipped run's own initial weights.</summary>
public class TrainerFixTests(ITestOutputHelper output)
{
    private static readonly TrainConfig Shipped = new() { Seed = 1, ImageSize = 28 };

    private static Sequential InitialModel() =>
        SmallCnn.Create(28, SyntheticShapes.ClassCount, 8, 16, new Random(Shipped.InitSeed));

    /// <summary>The shipped run's random init (seed 1) starts with ReLU units negative on (nearly) every pixel of the
    /// training images: the inputs are non-negative and those units' weights sum negative. Centring the biases on the
    /// data leaves none, and each centred unit's pre-activation averages 0 on the images it was centred on.</summary>
    [Fact]
    public void CentredBiasInit_WakesTheUnitsTheRandomInitStartsDead()
    {
        Tensor[] images = [.. SyntheticShapes.Generate(TrainConfig.CentredInitSamples, Shipped.TrainDataSeed, 28).Select(s => s.Image)];
        Sequential uniform = InitialModel();
        string[] deadAtInit = [.. UnitActivity.Measure(uniform, images).Where(u => u.Inactive).Select(u => $"{u.Layer}/{u.Channel}")];
        output.WriteLine("inactive before centring: " + string.Join(", ", deadAtInit));
        Assert.Contains("relu2/3", deadAtInit);

        Sequential centred = InitialModel();
        float[] weightsBefore = [.. centred.Parameters[0].Value.Data];
        CentredBiasInit.Apply(centred, images);
        Assert.Equal(weightsBefore, centred.Parameters[0].Value.Data); // only biases move
        IReadOnlyList<UnitActivity> units = UnitActivity.Measure(centred, images);
        Assert.Equal([], units.Where(u => u.Inactive).Select(u => $"{u.Layer}/{u.Channel}"));
        output.WriteLine("least active after: " + units.MinBy(u => u.PositiveFraction));

        // Mean pre-activation 0 per channel, conv1 on the images and conv2 on what conv1-relu-pool make of them.
        var conv1 = (Conv2dLayer)centred.Layers[0].Layer;
        var conv2 = (Conv2dLayer)centred.Layers[3].Layer;
        foreach ((Conv2dLayer conv, Func<Tensor, Tensor> input) in new (Conv2dLayer, Func<Tensor, Tensor>)[]
        {
            (conv1, x => x),
            (conv2, x => centred.Layers[2].Layer.Forward(centred.Layers[1].Layer.Forward(conv1.Forward(x)))),
        })
        {
            var sum = new double[conv.OutChannels];
            long n = 0;
            foreach (Tensor x in images)
            {
                Tensor z = conv.Forward(input(x));
                int plane = z.Length / conv.OutChannels;
                for (int i = 0; i < z.Length; i++) sum[i / plane] += z.Data[i];
                n += plane;
            }
            foreach (double s in sum) Assert.True(Math.Abs(s / n) < 1e-4, $"channel mean {s / n} after centring");
        }
    }

    [Fact]
    public void LearningRate_WarmsUpLinearly_ThenFollowsTheSchedule()
    {
        var c = new TrainConfig { LearningRate = 0.01, Warmup = 0.1, CosineDecay = true };
        Assert.Equal(10, c.WarmupSteps(100));
        Assert.Equal(0.001, Trainer.LearningRateAt(c, 0, 100), 12);
        Assert.Equal(0.005, Trainer.LearningRateAt(c, 4, 100), 12);
        Assert.Equal(0.01, Trainer.LearningRateAt(c, 9, 100), 12);
        // Cosine over the 90 steps after the warm-up: full at step 10, half at step 55, near 0 at the end.
        Assert.Equal(0.01, Trainer.LearningRateAt(c, 10, 100), 12);
        Assert.Equal(0.005, Trainer.LearningRateAt(c, 55, 100), 12);
        Assert.Equal(0.01 * 0.5 * (1 + Math.Cos(Math.PI * 89 / 90)), Trainer.LearningRateAt(c, 99, 100), 12);
        Assert.Equal(0.01, Trainer.LearningRateAt(c with { CosineDecay = false }, 70, 100), 12);
        Assert.Equal(0.01, Trainer.LearningRateAt(c with { Warmup = 0 }, 0, 100), 12);
        Assert.Throws<ConvGLException>(() => (c with { Warmup = 1 }).Validate());
    }
}
