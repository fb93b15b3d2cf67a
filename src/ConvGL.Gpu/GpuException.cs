namespace ConvGL.Gpu;

/// <summary>A GPU-side failure: no usable OpenGL, a shader that does not compile, a driver limit exceeded.
/// The message is one line (or, for shader errors, file:line lines followed by the driver's log).
/// It is not a <see cref="ConvGL.Core.ConvGLException"/>: the input was fine, the machine could not run it,
/// so the command line reports it as a runtime failure (exit 1), not as bad input (exit 2).</summary>
public class GpuException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>No EGL library at all on this machine (libEGL.so.1 cannot be loaded). This, and only this,
/// lets the GPU tests skip: every other failure to create a context is a real failure.</summary>
public sealed class EglMissingException(string message) : GpuException(message);
