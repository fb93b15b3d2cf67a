namespace ConvGL.Core.Ops;

/// <summary>The mean of each channel's whole map: (C, H, W) -> (C, 1, 1), ONNX GlobalAveragePool
/// (PyTorch AdaptiveAvgPool2d(1)). Summed in double.</summary>
public static class GlobalAveragePool
{
    public static Tensor Apply(Tensor input)
    {
        if (input.Rank != 3) throw new ConvGLException($"global average pool input must be (C, H, W), got {input.ShapeString}");
        int plane = input.H * input.W;
        var output = Tensor.Chw(input.C, 1, 1);
        for (int c = 0; c < input.C; c++)
        {
            double sum = 0;
            foreach (float v in input.Data.AsSpan(c * plane, plane)) sum += v;
            output.Data[c] = (float)(sum / plane);
        }
        return output;
    }
}
