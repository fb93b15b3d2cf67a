namespace ConvGL.Gpu;

/// <summary>A GPU-side failure: no usable OpenGL, a shader that does not compile, a driver limit exceeded.
/// The message is one line (or, for shader errors, file:line lines followed by the driver's log).
/// It is not a <see cref="ConvGL.Core.ConvGLException"/>: the input was fine, the machine could not run it,
/// so the command line reports it as a runtime failure (exit 1), not as bad input (exit 2).</summary>
public class GpuException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A shader that does not build: a compile or link error, a missing or unreadable shader or #include file. The
/// message starts with the "file:line" the error points at. The live window catches it as a file to fix (it rebuilds
/// when the file changes); every command reports it as a runtime failure.</summary>
public sealed class ShaderBuildException(string message, GlProgram? program = null) : GpuException(message)
{
    /// <summary>The program that has never built, where the error came from using it (<see cref="GlProgram.Use"/>).</summary>
    public GlProgram? Program { get; } = program;
}

/// <summary>No EGL library at all on this machine (libEGL.so.1 cannot be loaded). This, and only this,
/// lets the GPU tests skip: every other failure to create a context is a real failure.</summary>
public sealed class EglMissingException(string message) : GpuException(message);

/// <summary>The work is larger than a driver limit allows (a storage block, a buffer texture): the input was fine but
/// this machine cannot hold it at once. <see cref="NeededBytes"/> against <see cref="LimitBytes"/> lets a caller say
/// how much smaller an input would fit (the window names a source size).</summary>
public sealed class GpuLimitException(string message, long neededBytes, long limitBytes) : GpuException(message)
{
    public long NeededBytes { get; } = neededBytes;
    public long LimitBytes { get; } = limitBytes;

    /// <summary>The size of a <paramref name="w"/> x <paramref name="h"/> input, aspect kept, at which the tensor would
    /// fit: maps scale with the input's pixels, so by the square root of limit / needed, with 5% to spare.</summary>
    public (int Width, int Height) FittingSize(int w, int h)
    {
        double scale = Math.Sqrt((double)LimitBytes / Math.Max(1, NeededBytes)) * 0.95;
        return (Math.Max(8, (int)(w * scale)), Math.Max(8, (int)(h * scale)));
    }
}

/// <summary>An FFT convolution whose frames pass this driver's buffer or buffer-texture limits even one tile row tall (taller inputs
/// run in bands of rows, <see cref="ConvGL.Core.Ops.FftPlan.Bands"/>): refused before anything
/// is allocated. A ConvGLException (the input's size is the fix), typed so a caller that chose the FFT itself can
/// choose again without it (apply's auto choice).</summary>
public sealed class FftTooLargeException(string message) : ConvGL.Core.ConvGLException(message);

