namespace ConvGL.Core.Ops;

/// <summary>General matrix multiply, ONNX Gemm (PyTorch Linear is transB = true, alpha = beta = 1):
///
///     Y = alpha * A' B' + beta * C,  A' = transA ? A^T : A (M, K),  B' = transB ? B^T : B (K, N)
///
/// with C optional and broadcast to (M, N). Accumulates in double.</summary>
public static class Gemm
{
    public static Tensor Apply(Tensor a, Tensor b, Tensor? c, float alpha = 1f, float beta = 1f, bool transA = false, bool transB = false)
    {
        if (a.Rank != 2 || b.Rank != 2) throw new ConvGLException($"gemm takes 2D A and B, got {a.ShapeString} and {b.ShapeString}");
        int m = transA ? a.Shape[1] : a.Shape[0], k = transA ? a.Shape[0] : a.Shape[1];
        int kb = transB ? b.Shape[1] : b.Shape[0], n = transB ? b.Shape[0] : b.Shape[1];
        if (k != kb) throw new ConvGLException($"gemm: A' is ({m}, {k}) but B' is ({kb}, {n}); the inner sizes must agree");
        Tensor? bias = null;
        if (c is not null)
        {
            int[] shape = Elementwise.BroadcastShape(c.Shape, [m, n], "gemm C");
            if (shape.Length != 2 || shape[0] != m || shape[1] != n)
                throw new ConvGLException($"gemm: C {c.ShapeString} does not broadcast to ({m}, {n})");
            bias = Elementwise.Add(new Tensor([m, n]), c);
        }
        var y = new Tensor([m, n]);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (double)(transA ? a.Data[p * m + i] : a.Data[i * k + p]) * (transB ? b.Data[j * k + p] : b.Data[p * n + j]);
                y.Data[i * n + j] = (float)(alpha * sum + (bias is null ? 0.0 : (double)beta * bias.Data[i * n + j]));
            }
        return y;
    }
}
