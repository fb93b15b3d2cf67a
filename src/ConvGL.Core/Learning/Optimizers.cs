namespace ConvGL.Core.Learning;

public enum OptimizerKind { Sgd, Adam }

/// <summary>Updates parameter values from their <see cref="Parameter.Grad"/>. State (momentum, moments) is kept per
/// parameter in the order of the list passed to the first <see cref="Step"/>, which must stay the same.</summary>
public abstract class Optimizer
{
    public double LearningRate { get; set; }

    protected Optimizer(double learningRate)
    {
        if (!(learningRate > 0) || !double.IsFinite(learningRate))
            throw new ConvGLException($"learning rate must be a positive number, got {learningRate}");
        LearningRate = learningRate;
    }

    public abstract void Step(IReadOnlyList<Parameter> parameters);

    public static Optimizer Create(OptimizerKind kind, double learningRate, double momentum = 0.9) => kind switch
    {
        OptimizerKind.Sgd => new Sgd(learningRate, momentum),
        OptimizerKind.Adam => new Adam(learningRate),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private protected static List<double[]> StateFor(List<double[]>? state, IReadOnlyList<Parameter> parameters)
    {
        if (state is null) return [.. parameters.Select(p => new double[p.Value.Length])];
        if (state.Count != parameters.Count) throw new InvalidOperationException("the optimiser was given a different parameter list");
        return state;
    }
}

/// <summary>PyTorch's SGD with momentum (dampening 0, no Nesterov): v = mu v + g; p -= lr v.</summary>
public sealed class Sgd(double learningRate, double momentum = 0.9) : Optimizer(learningRate)
{
    private List<double[]>? _velocity;

    public double Momentum { get; } = momentum >= 0 && momentum < 1 ? momentum
        : throw new ConvGLException($"momentum must be in [0, 1), got {momentum}");

    public override void Step(IReadOnlyList<Parameter> parameters)
    {
        _velocity = StateFor(_velocity, parameters);
        for (int n = 0; n < parameters.Count; n++)
        {
            Parameter p = parameters[n];
            double[] v = _velocity[n];
            for (int i = 0; i < v.Length; i++)
            {
                v[i] = Momentum * v[i] + p.Grad[i];
                p.Value.Data[i] = (float)(p.Value.Data[i] - LearningRate * v[i]);
            }
        }
    }
}

/// <summary>PyTorch's Adam (Kingma and Ba, with bias correction): m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
/// p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).</summary>
public sealed class Adam(double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8) : Optimizer(learningRate)
{
    private List<double[]>? _m, _v;
    private int _t;

    public override void Step(IReadOnlyList<Parameter> parameters)
    {
        _m = StateFor(_m, parameters);
        _v = StateFor(_v, parameters);
        _t++;
        double c1 = 1.0 - Math.Pow(beta1, _t), c2 = 1.0 - Math.Pow(beta2, _t);
        for (int n = 0; n < parameters.Count; n++)
        {
            Parameter p = parameters[n];
            double[] m = _m[n], v = _v[n];
            for (int i = 0; i < m.Length; i++)
            {
                double g = p.Grad[i];
                m[i] = beta1 * m[i] + (1.0 - beta1) * g;
                v[i] = beta2 * v[i] + (1.0 - beta2) * g * g;
                p.Value.Data[i] = (float)(p.Value.Data[i] - LearningRate * (m[i] / c1) / (Math.Sqrt(v[i] / c2) + epsilon));
            }
        }
    }
}
