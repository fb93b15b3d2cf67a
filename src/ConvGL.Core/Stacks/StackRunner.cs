using ConvGL.Core.Ops;

namespace ConvGL.Core.Stacks;

/// <summary>Every layer's output of one run; <see cref="Outputs"/>[i] is the map after layer i. <see cref="Algorithms"/>[i]:
/// how conv layer i was computed (null for other layers, and for a run that did not choose).</summary>
public sealed record StackResult(StackPlan Plan, Tensor Input, IReadOnlyList<Tensor> Outputs, IReadOnlyList<AlgorithmChoice?>? Algorithms = null);

/// <summary>The CPU reference executor: walks the stack with the reference ops (Conv2D, Pool2D, Activation,
/// Magnitude). It defines what <c>GpuStackRunner</c> must produce.</summary>
public static class StackRunner
{
    /// <summary>Runs the stack on an image, converted to the stack's input first (<see cref="Stack.PrepareInput"/>).
    /// A layer reads the maps it names (by default the previous one). A disabled layer passes its (first) input through (the same tensor); see <see cref="StackPlan"/> for which flags
    /// are allowed.</summary>
    public static StackResult Run(Stack stack, Tensor image, IReadOnlyList<bool>? enabled = null) =>
        Run(stack, image, enabled, ConvAlgorithm.Direct, ConvCostModel.Cpu);

    /// <summary><see cref="Run(Stack, Tensor, IReadOnlyList{bool}?)"/> with each conv layer computed by the algorithm
    /// <see cref="ConvAlgorithms.ChooseLayer"/> picks under <paramref name="model"/> (or <paramref name="algorithm"/>
    /// when not Auto): Core's FftConv2D (the convolution theorem in double) and Separable (a depthwise layer of one
    /// rank-1 kernel) equal the direct reference within float rounding (Core's tests). Direct is the layer's own
    /// <see cref="StackLayer.Forward(Tensor)"/>.</summary>
    /// <param name="layerFinished">called with each layer's index once its map is computed (progress displays)</param>
    public static StackResult Run(Stack stack, Tensor image, IReadOnlyList<bool>? enabled, ConvAlgorithm algorithm, ConvCostModel model,
                                  Action<int>? layerFinished = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Tensor input = stack.PrepareInput(image);
        StackPlan plan = StackPlan.Create(stack, input.H, input.W, enabled);
        var outputs = new Tensor[stack.Layers.Count];
        var choices = new AlgorithmChoice?[stack.Layers.Count];
        for (int i = 0; i < outputs.Length; i++)
        {
            StackLayer layer = stack.Layers[i];
            Tensor[] inputs = layer.InputsOf(i).Select(j => j < 0 ? input : outputs[j]).ToArray();
            if (!plan.Enabled[i]) outputs[i] = inputs[0];
            else if (layer is ConvLayer conv && !(algorithm == ConvAlgorithm.Direct))
            {
                Tensor x = inputs[0];
                AlgorithmChoice choice = ConvAlgorithms.ChooseLayer(x.C, x.H, x.W, conv.Weight, conv.Bias, conv.Options, model, algorithm, $"layers[{i}] (conv)");
                choices[i] = choice;
                outputs[i] = choice.Algorithm switch
                {
                    ConvAlgorithm.Fft => FftConv2D.Apply(x, conv.Weight, conv.Bias, conv.Options),
                    ConvAlgorithm.Separable => SeparableLayer(x, conv),
                    _ => conv.Forward(x),
                };
            }
            else outputs[i] = inputs.Length == 1 ? layer.Forward(inputs[0]) : layer.Forward(inputs);
            layerFinished?.Invoke(i);
        }
        return new StackResult(plan, input, outputs, algorithm == ConvAlgorithm.Direct ? null : choices);
    }

    private static Tensor SeparableLayer(Tensor x, ConvLayer conv)
    {
        Conv2D.CheckShapes(x, conv.Weight, conv.Bias, conv.Options);
        Tensor kernel = ConvAlgorithms.SharedKernel(conv.Weight, conv.Bias, conv.Options)!; // ChooseLayer picked separable: it exists
        if (!Separable.TryFactor(kernel, out double[] column, out double[] row))
            throw new InvalidOperationException("a layer chosen as separable has no rank-1 factors");
        return Separable.Filter(x, column, row, conv.Options);
    }
}
