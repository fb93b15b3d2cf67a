namespace ConvGL.Core.Onnx;

/// <summary>A node ConvGL does not run, found only when its inputs' shapes are known (a ConvTranspose whose weight is a
/// graph input of rank 5: a 3D transposed convolution): as unsupported as one refused at load, so
/// <c>onnx-test</c> calls its case an ERROR (exit 2), not a FAIL.</summary>
public sealed class OnnxUnsupportedException(string message) : ConvGLException(message);
