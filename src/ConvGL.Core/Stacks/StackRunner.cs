namespace ConvGL.Core.Stacks;

/// <summary>Every layer's output of one run; <see cref="Outputs"/>[i] is the map after layer i.</summary>
public sealed record StackResult(StackPlan Plan, Tensor Input, IReadOnlyList<Tensor> Outputs);

/// <summary>The CPU reference executor: walks the stack with the reference ops (Conv2D, Pool2D, Activation,
/// Magnitude). It defines what <c>GpuStackRunner</c> must produce.</summary>
public static class StackRunner
{
    /// <summary>Runs the stack on an image, converted to the stack's input first (<see cref="Stack.PrepareInput"/>).
    /// A layer reads the maps it names (by default the previous one). A disabled layer passes its (first) input through (the same tensor); see <see cref="StackPlan"/> for which flags
    /// are allowed.</summary>
    public static StackResult Run(Stack stack, Tensor image, IReadOnlyList<bool>? enabled = null)
    {
        Tensor input = stack.PrepareInput(image);
        StackPlan plan = StackPlan.Create(stack, input.H, input.W, enabled);
        var outputs = new Tensor[stack.Layers.Count];
        for (int i = 0; i < outputs.Length; i++)
        {
            StackLayer layer = stack.Layers[i];
            Tensor[] inputs = layer.InputsOf(i).Select(j => j < 0 ? input : outputs[j]).ToArray();
            outputs[i] = !plan.Enabled[i] ? inputs[0] : inputs.Length == 1 ? layer.Forward(inputs[0]) : layer.Forward(inputs);
        }
        return new StackResult(plan, input, outputs);
    }
}
