using System.Diagnostics;
using System.Globalization;
using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Core.Stacks;
using ConvGL.Gpu;
using ConvGL.Gpu.Stacks;
using Microsoft.ML.OnnxRuntime;

namespace ConvGL.Bench;

/// <summary>Whole-model bench cases: a real trained network, the work `convgl --stack resnet18` does per frame.</summary>
internal static class BenchModels
{
    private const int Size = 224;

    /// <summary><c>resnet18-224</c>: ResNet18 (the packaged model, batchnorms folded at load) on a (3, 224, 224) input in
    /// the model's preprocessed range. CPU: the reference graph walk; GPU: the stack runner the window uses (dispatches
    /// only); peer: ONNX Runtime running the same .onnx file on all cores. No case when the model is not in the NuGet
    /// cache (<c>--case resnet18</c> then says how to fetch it).</summary>
    public static IReadOnlyList<BenchCase> ResNet18()
    {
        string path = PackagedModels.ModelFile(PackagedModels.ResNet18);
        if (!File.Exists(path)) return [];
        OnnxGraph graph = OnnxGraph.Load(path);
        // The model's own input, no preprocessing: the bench times the network.
        Stack stack = OnnxStack.FromGraph(graph, "resnet18");
        string input = graph.Inputs[0].Name, output = graph.Outputs[0].Name;
        StackPlan plan = StackPlan.Create(stack, Size, Size);
        long macs = 0;
        for (int i = 0; i < stack.Layers.Count; i++)
            if (stack.Layers[i] is ConvLayer c)
                macs += (long)plan.Outputs[i].Length * c.Weight.Shape[1] * c.Weight.Shape[2] * c.Weight.Shape[3];
        Tensor? expected = null;
        Tensor Cpu(Tensor x) => graph.Run(new Dictionary<string, Tensor> { [input] = x.Reshape(1, 3, Size, Size) })[output].Reshape(512, 1, 1);
        return
        [
            new BenchCase
            {
                Name = "resnet18-224", Op = "ResNet18 (ImageNet), whole model", Cin = 3, Cout = 512, H = Size, W = Size,
                Kernel = $"{stack.Layers.Count(l => l is ConvLayer)} convs", StrideDilation = "-", Border = "zero", Macs = macs,
                MakeInput = () => Input(7),
                Cpu = Cpu, CpuAlgo = "OnnxGraph.Run (DirectConv2D, float sums)",
                Gpu = ctx =>
                {
                    var runner = new GpuStackRunner(ctx, stack, Size, Size);
                    int last = stack.Layers.Count - 1;
                    runner.SetObserved(LastOnly(stack));
                    return new GpuBenchOp((i, o) =>
                    {
                        runner.Run(i);
                        GpuStackOps.Copy(ctx, runner.Output(last), o, (512, 1, 1));
                    }, runner, () => $"{stack.Layers.Count} layers, batchnorm folded into the convs, {Fused(runner)} activations fused into the conv or add before them");
                },
                GpuAlgo = "GpuStackRunner",
                Peer = x => new OnnxRuntimeModel(path, input, x, 512),
                Reference = Cpu,
                Window = new(1, 1, new ConvOptions()),
                Verify = (_, got) => Compare(got, Cpu),
                GpuBreakdown = (ctx, x) => Breakdown(ctx, stack, x),
            },
        ];

        Verification Compare(Tensor got, Func<Tensor, Tensor> reference)
        {
            // Computed once for the GPU row and the peer: the CPU graph takes seconds.
            Tensor want = expected ??= reference(Input(7));
            if (!want.SameShape(got)) return new(false, $"output {got.ShapeString}, the reference's is {want.ShapeString}");
            double diff = 0, scale = 0;
            for (int i = 0; i < want.Length; i++)
            {
                diff = Math.Max(diff, Math.Abs((double)got.Data[i] - want.Data[i]));
                scale = Math.Max(scale, Math.Abs((double)want.Data[i]));
            }
            string text = string.Create(CultureInfo.InvariantCulture, $"max |diff| {diff:0.0e0} of the embedding's max {scale:0.###}");
            return diff <= 1e-3 * scale ? new(true, $"whole output verified against the CPU graph ({text})") : new(false, text + ", above 1e-3 of it");
        }
    }

    /// <summary>Only the last layer's map is read: every relu that can be is fused into the conv or add before it, as
    /// in an inference engine (the window keeps the maps its views show).</summary>
    private static bool[] LastOnly(Stack stack)
    {
        var observed = new bool[stack.Layers.Count];
        observed[^1] = true;
        return observed;
    }

    private static int Fused(GpuStackRunner runner) => Enumerable.Range(0, runner.Stack.Layers.Count).Count(i => runner.FusedLayer(i) >= 0);

    /// <summary>BGR-like values in the preprocessed range (-128..128), fixed seed.</summary>
    private static Tensor Input(int seed)
    {
        var rng = new Random(seed);
        var t = Tensor.Chw(3, Size, Size);
        for (int i = 0; i < t.Length; i++) t.Data[i] = rng.NextSingle() * 256 - 128;
        return t;
    }

    /// <summary>A conv's program as the breakdown names it: its variant up to the colon, the Winograd split, and ", timed"
    /// where the plan was timed on first use (GlContext.TuneConvPlans) rather than taken from the rules.</summary>
    private static string Program(string? variant)
    {
        if (variant is null) return "?";
        // The plan's own text, before what timing said of it (which names the runner-up, its split included).
        int note = variant.IndexOf(" (timed on first use", StringComparison.Ordinal);
        string plan = note < 0 ? variant : variant[..note];
        return plan.Split(':')[0] + (System.Text.RegularExpressions.Regex.Match(plan, @"input channels split (\d+) ways") is { Success: true } m ? $", split {m.Groups[1].Value} ways" : "")
            + (note >= 0 ? ", timed" : "");
    }

    /// <summary>Where the GPU time goes: one steady run (after an untimed one) with glFinish after every layer, summed by layer kind (a conv by its shape). On llvmpipe the syncs cost what the pass
    /// costs anyway (one thread pool runs every dispatch to completion); on a real GPU they add a little per layer.</summary>
    private static IReadOnlyList<string> Breakdown(GlContext context, Stack stack, Tensor x)
    {
        using var runner = new GpuStackRunner(context, stack, Size, Size);
        runner.SetObserved(LastOnly(stack));
        using GpuTensor input = GpuTensor.From(context, x, "bench breakdown input");
        var times = new double[stack.Layers.Count];
        long mark = 0;
        runner.AfterLayer = i =>
        {
            context.Gl.Finish();
            long now = Stopwatch.GetTimestamp();
            times[i] = Stopwatch.GetElapsedTime(mark, now).TotalMilliseconds;
            mark = now;
        };
        // One untimed run first: a new runner plans its layers, uploads their weights and touches its scratch memory on
        // its first run, which the timed rows never see (they time steady runs).
        runner.Run(input);
        context.Gl.Finish();
        mark = Stopwatch.GetTimestamp();
        runner.Run(input);
        var kinds = new Dictionary<string, (int Count, double Ms)>(StringComparer.Ordinal);
        double total = 0;
        for (int i = 0; i < times.Length; i++)
        {
            // An activation fused into the layer before it does not run; that layer's kind says "+ relu" (or "+ silu": a mul
            // of its map and its sigmoid, both fused).
            if (runner.FusedAway(i)) continue;
            double ms = times[i];
            total += ms;
            MapShape outShape = runner.Plan.Outputs[i], inShape = runner.Plan.InputOf(i);
            string kind = (stack.Layers[i] is ConvLayer c
                ? $"conv {c.Weight.Shape[2]}x{c.Weight.Shape[3]} s{c.Options.StrideY} {inShape.C}->{outShape.C} {inShape.H}x{inShape.W}->{outShape.H}x{outShape.W}"
                : $"{stack.Layers[i].Type} {outShape.C}x{outShape.H}x{outShape.W}") + (runner.FusedName(i) is { } fused ? " + " + fused : "")
                + (stack.Layers[i] is ConvLayer ? $" [{Program(runner.Variant(i))}]" : "");
            (int n, double sum) = kinds.GetValueOrDefault(kind);
            kinds[kind] = (n + 1, sum + ms);
        }
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"resnet18-224 gpu, per layer kind and program (glFinish after every layer, one run; {total:0.0} ms in all):"),
        };
        foreach ((string kind, (int n, double ms)) in kinds.OrderByDescending(k => k.Value.Ms))
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"- {kind}: {n} layer{(n > 1 ? "s" : "")}, {ms:0.0} ms ({100 * ms / total:0}%)"));
        return lines;
    }
}

/// <summary>ONNX Runtime (CPU provider, all cores, every graph optimisation) running a model file: what a C# user
/// would deploy the same network with. Input and output allocated once; the timed call is <c>session.Run</c>.</summary>
internal sealed class OnnxRuntimeModel : BenchPeer
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue _input, _output;
    private readonly float[] _outputData;
    private readonly string _inputName, _outputName;

    public OnnxRuntimeModel(string path, string inputName, Tensor input, int outputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        // Its threads spin while a Run is under way (its own speed) but stop when it returns: left spinning they took a
        // core from the GPU rep timed next on this 2-core machine (BenchHarness.Alternate; bench/README.md).
        options.AddSessionConfigEntry("session.force_spinning_stop", "1");
        options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        _session = new InferenceSession(path, options);
        _inputName = inputName;
        _outputName = _session.OutputMetadata.Keys.Single();
        _input = OrtValue.CreateTensorValueFromMemory((float[])input.Data.Clone(), [1, input.C, input.H, input.W]);
        _outputData = new float[outputs];
        _output = OrtValue.CreateTensorValueFromMemory(_outputData, [1, outputs, 1, 1]);
    }

    public override string Algo => $"ONNX Runtime {OrtEnv.Instance().GetVersionString()} CPU, {Environment.ProcessorCount} threads, ORT_ENABLE_ALL: the same .onnx file";

    public override string Device => "onnxrt";

    public override void Run() => _session.Run(_runOptions, [_inputName], [_input], [_outputName], [_output]);

    public override Tensor Output() => Tensor.Chw(_outputData.Length, 1, 1, (float[])_outputData.Clone());

    public override void Dispose()
    {
        _input.Dispose();
        _output.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
