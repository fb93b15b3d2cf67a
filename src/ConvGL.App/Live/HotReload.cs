using ConvGL.Core.IO;
using ConvGL.Gpu;

namespace ConvGL.App.Live;

/// <summary>Hot reload: shaders (the library keeps the last good program of each), then the presentation programs
/// that never compiled, then the running pipeline's kernel or stack file. Checked twice a second and on the r key;
/// a broken file is an error on screen and the last good version keeps running.</summary>
internal sealed class HotReload(GlContext context, Presenter presenter, LivePipelines pipelines, ViewState state, LiveMessages messages)
{
    public const double Interval = 0.5;

    private double _nextCheck;

    /// <summary>Programs rebuilt because their shader files changed, since start-up.</summary>
    public int ProgramsRebuilt { get; private set; }
    /// <summary>Times the pipeline's kernel or stack files were re-read after a change, since start-up.</summary>
    public int FilesReread { get; private set; }

    /// <summary>Checks the files when <see cref="Interval"/> has passed since the last check.</summary>
    public void Poll(double now)
    {
        if (now < _nextCheck) return;
        _nextCheck = now + Interval;
        Check(force: false);
    }

    /// <summary>Reloads what changed on disk (everything when <paramref name="force"/>).</summary>
    public void Check(bool force)
    {
        // r (force) also tries again every program that has never built, changed or not.
        (int rebuilt, string? error) = context.Shaders.ReloadChanged(retryUnbuilt: force);
        ProgramsRebuilt += rebuilt;
        if (error is not null) messages.SetShaderError(error, nothingKept: context.Shaders.LastFailureUnbuilt);
        // The program the run failed on has still not built (another file was fixed): its error stays, not "reloaded".
        else if (messages.UnbuiltProgram is { BuildError: { } still }) messages.SetShaderError(still, nothingKept: true);
        else if (rebuilt > 0 || force) messages.ClearShaderError();
        if (presenter.Error is not null || force) presenter.RetryMissing();
        ILivePipeline pipeline = pipelines.Current;
        (bool reread, string? fileError) = pipeline.ReloadChanged(force);
        if (reread) FilesReread++;
        // A reloaded stack with fewer layers than the selected one's number (the selected layer was removed): its last
        // layer, as a new stack opens on (the window ended with an index error).
        if (reread && fileError is null) state.KeepWithin(pipeline.LayerCount, pipeline.DefaultLayer);
        // Every good reload is said (an edit that changed what runs), an error once until it changes.
        if (reread && (fileError is null || fileError != messages.FileError))
        {
            Console.Error.WriteLine(fileError is null ? "convgl: reloaded " + pipeline.Name : $"convgl: {fileError} (keeping the running version)");
            messages.FileError = fileError;
            state.HudDirty = true;
        }
        // The hand-made bank the filters view shows beside a learned one (assets/stacks/gabor.json) reloads as the shown
        // stack does; a broken file keeps its running version.
        if (pipelines.Designed is { } designed && designed.ReloadChanged(force) is (true, var designedError))
        {
            reread = true;
            if (designedError is not null) Console.Error.WriteLine($"convgl: {designedError} (keeping the running version of the Gabor bank beside the learned one)");
        }
        // Re-run on the current frame when something was reloaded: a reloaded shader, kernel or stack shows even while
        // paused. Not on every poll (every stack re-ran twice a second on a still picture; --stats counted the runs).
        if (force || rebuilt > 0 || reread) state.Dirty = true;
    }
}

/// <summary>A kernel or stack file caught mid-save: an editor that saves in place (truncate, then write) leaves a file that
/// reads as broken for a moment, so a failed load of a file written within <see cref="FileWatch.Settle"/> (2 s) is held
/// back and read again at the next check, at most <see cref="MaxChecks"/> times in a row; only an error that outlives the
/// save is said. A file time in the future is not recent (a skewed clock must not hold an error back for ever).</summary>
internal sealed class MidSaveRetry
{
    public const int MaxChecks = 6;

    private int _checks;

    /// <summary>An error is held back: the file is to be read again at the next check, changed or not.</summary>
    public bool Pending => _checks > 0;

    /// <summary>After a failed load of <paramref name="paths"/>: true to hold its error back (not when the reload was
    /// forced, the r key); false to say it now.</summary>
    public bool HoldBack(bool force, IEnumerable<string> paths)
    {
        if (!force && _checks < MaxChecks && WrittenJustNow(paths))
        {
            _checks++;
            return true;
        }
        _checks = 0;
        return false;
    }

    /// <summary>The file loaded.</summary>
    public void Loaded() => _checks = 0;

    private static bool WrittenJustNow(IEnumerable<string> paths)
    {
        DateTime now = DateTime.UtcNow;
        foreach (string p in paths)
        {
            TimeSpan age = now - File.GetLastWriteTimeUtc(p);
            if (age >= TimeSpan.Zero && age < FileWatch.Settle) return true;
        }
        return false;
    }
}
