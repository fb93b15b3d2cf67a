using ConvGL.Core;
using ConvGL.Gpu;

namespace ConvGL.App.Live;

/// <summary>What the error and message panels show: the last pipeline run's error, the shader and kernel/stack file
/// errors hot reload found, and a flashed message (a refused key, a saved screenshot) that fades after 4 s. Each
/// new error is also written to stderr once, so scripted runs and logs see it.</summary>
internal sealed class LiveMessages(ViewState state, bool scripted)
{
    private double _messageUntil;

    /// <summary>The last pipeline run's error (cleared by the next good run).</summary>
    public string? RunError { get; private set; }
    /// <summary>A shader that failed to build: on a reload (the last good program keeps running) or before it ever
    /// built (<see cref="ShaderNothingKept"/>: what needs it does not run until the file is fixed).</summary>
    public string? ShaderError { get; private set; }
    /// <summary>The shader error is of a program that has never built: there is no last good version running.</summary>
    public bool ShaderNothingKept { get; private set; }
    /// <summary>The program a run failed on because it has never built (null: none, or not known): hot reload keeps its
    /// error on screen until it builds, rather than saying "shaders reloaded" over it.</summary>
    public GlProgram? UnbuiltProgram { get; private set; }
    /// <summary>A kernel or stack file that failed to load on a reload (the running version stays).</summary>
    public string? FileError { get; set; }
    public string? Message { get; private set; }

    /// <summary>The error the window shows: shader, presentation program, file, run, source, in that order.</summary>
    public string? Shown(string? presenterError, string? sourceError) => ShaderError ?? presenterError ?? FileError ?? RunError ?? sourceError;

    /// <summary>What the error <see cref="Shown"/> gives is: a file's (a shader, the presentation program, a kernel or
    /// stack file), which fixing the file clears; a run's; or the source's (a video that ended, a camera that stopped).</summary>
    public ErrorKind ShownKind(string? presenterError, string? sourceError) =>
        ShaderError is not null ? (ShaderNothingKept ? ErrorKind.Unbuilt : ErrorKind.File)
        : presenterError is not null ? ErrorKind.Unbuilt
        : FileError is not null ? ErrorKind.File
        : RunError is null && sourceError is not null ? ErrorKind.Source : ErrorKind.Run;

    public void Flash(string message, double now)
    {
        Message = message;
        _messageUntil = now + 4;
        state.HudDirty = true;
        if (scripted) Console.Error.WriteLine($"convgl: {message}");
    }

    /// <summary>Removes a flashed message once its time is up.</summary>
    public void Expire(double now)
    {
        if (Message is null || now <= _messageUntil) return;
        Message = null;
        state.HudDirty = true;
    }

    /// <summary>The run failed (the views draw the source until a run succeeds); <paramref name="said"/>: the message
    /// was already written to stderr as another error (a shader's).</summary>
    public void SetRunError(string message, bool said = false)
    {
        if (message == RunError) return; // said, and on screen (a moving source fails every frame)
        if (!said) Console.Error.WriteLine($"convgl: {message}");
        RunError = message;
        state.HudDirty = true;
    }

    public void ClearRunError() => RunError = null;

    /// <summary>A shader that does not build; <paramref name="nothingKept"/>: one that never has (at start-up, or a
    /// program first asked for since), so nothing of it runs until the file is fixed.</summary>
    public void SetShaderError(string message, bool nothingKept = false, GlProgram? program = null)
    {
        if (program is not null) UnbuiltProgram = program;
        if (message == ShaderError && nothingKept == ShaderNothingKept) return; // said, and on screen (a run fails every frame)
        // The compiler's reasons too, its lines joined (the first line names only the file and the defines; a newcomer
        // review: the reason was on screen only, and stderr is all an --offscreen or CI run has), as `apply` prints it.
        Console.Error.WriteLine(nothingKept
            ? $"convgl: shader error (nothing of it runs until the file is fixed; it reloads by itself): {ErrorText.JoinLines(message)}"
            : $"convgl: shader error, keeping the last good program: {ErrorText.JoinLines(message)}");
        ShaderError = message;
        ShaderNothingKept = nothingKept;
        state.HudDirty = true;
    }

    public void ClearShaderError()
    {
        if (ShaderError is not null) Console.Error.WriteLine("convgl: shaders reloaded");
        ShaderError = null;
        ShaderNothingKept = false;
        UnbuiltProgram = null;
        state.HudDirty = true;
    }
}

/// <summary>Where an error on screen comes from, for what the panel says to do about it.</summary>
internal enum ErrorKind
{
    File,
    /// <summary>A shader that has never built (at start-up): nothing of it runs until the file is fixed.</summary>
    Unbuilt,
    Run,
    Source,
}
