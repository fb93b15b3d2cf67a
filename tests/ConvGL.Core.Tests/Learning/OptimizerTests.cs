using ConvGL.Core.Learning;

namespace ConvGL.Core.Tests.Learning;

/// <summary>One-parameter worked examples of the update rules, computed by hand.</summary>
public class OptimizerTests
{
    private static Parameter Scalar(float value, double grad)
    {
        var p = new Parameter("p", new Tensor([1], [value]));
        p.Grad[0] = grad;
        return p;
    }

    [Fact]
    public void Sgd_WithMomentum_TwoStepsByHand()
    {
        // v1 = 0.5, p1 = 1 - 0.1*0.5 = 0.95; v2 = 0.9*0.5 + 0.5 = 0.95, p2 = 0.95 - 0.095 = 0.855.
        Parameter p = Scalar(1f, 0.5);
        var sgd = new Sgd(0.1, 0.9);
        sgd.Step([p]);
        Assert.Equal(0.95f, p.Value.Data[0], 6);
        sgd.Step([p]);
        Assert.Equal(0.855f, p.Value.Data[0], 6);
    }

    [Fact]
    public void Adam_FirstStepMovesByLearningRateTimesSignOfGradient()
    {
        // After bias correction m_hat = g and v_hat = g^2, so the first step is lr * g / |g| (eps aside).
        Parameter up = Scalar(1f, -4.0), down = Scalar(1f, 0.001);
        var adam = new Adam(0.1);
        adam.Step([up, down]);
        Assert.Equal(1.1f, up.Value.Data[0], 5);
        Assert.Equal(0.9f, down.Value.Data[0], 5);
    }

    [Fact]
    public void Adam_SecondStepByHand()
    {
        // g = 1 then 3, lr 0.01: m2 = 0.9*0.1 + 0.1*3 = 0.39, v2 = 0.999*0.001 + 0.001*9 = 0.009999;
        // m_hat = 0.39/0.19, v_hat = 0.009999/0.001999; step = 0.01 * m_hat / sqrt(v_hat).
        Parameter p = Scalar(0f, 1.0);
        var adam = new Adam(0.01);
        adam.Step([p]);
        p.Grad[0] = 3.0;
        adam.Step([p]);
        double expected = -0.01 - 0.01 * (0.39 / 0.19) / (Math.Sqrt(0.009999 / 0.001999) + 1e-8);
        Assert.Equal(expected, p.Value.Data[0], 6);
    }
}
