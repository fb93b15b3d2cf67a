using System.Diagnostics;
using System.Globalization;

namespace ConvGL.App.Cli;

/// <summary>Progress of a command that may run for more than a second, on stderr (stdout stays the command's own
/// output, so `convgl bench > table.md` or a pipe gets only that). A command reports a fraction done and the step
/// it is in; what shows depends on where stderr goes:
///   - a terminal: one line "convgl apply: 42% fft: inverse rows", redrawn in place with \r at most 10 times a second
///     and erased when the command ends, so the terminal is left as it was;
///   - a file or pipe (CI logs, tests): a plain line at most every two seconds, never a \r, and a last line
///     "100% done in 6.1 s" when anything was shown.
/// Nothing shows during the first second on a terminal, the first three seconds otherwise (<see cref="ShowAfter"/>):
/// a quick command prints no progress at all, and a log gets lines only from commands worth following.
/// CONVGL_PROGRESS=0 turns it off; CONVGL_PROGRESS=always shows every report from the start (what the tests use, so
/// a small case shows it without being slow).
///
/// Reports may come from worker threads (apply's CPU path runs channels in parallel): everything is under a lock.</summary>
internal sealed class Progress : IDisposable
{
    private readonly TextWriter _err;
    private readonly string _task;
    private readonly bool _terminal, _enabled;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private double _fraction;
    private string _step = "";
    private string _lastShown = "";
    private long _lastDrawMs = long.MinValue / 2;
    private int _drawnWidth;
    private bool _anyShown, _done;

    /// <summary>How long a command runs before its progress shows.</summary>
    public TimeSpan ShowAfter { get; }

    /// <summary>Plain-line mode: at most one line per this many ms (0 under CONVGL_PROGRESS=always).</summary>
    private readonly long _lineEveryMs;
    /// <summary>Terminal mode: at most one redraw per this many ms.</summary>
    private const long RedrawEveryMs = 100;

    /// <param name="task">what the lines start with, e.g. "convgl apply"</param>
    /// <param name="err">stderr unless a test passes its own writer</param>
    /// <param name="terminal">whether <paramref name="err"/> is a terminal (default: stderr is not redirected)</param>
    /// <param name="showAfter">overrides <see cref="ShowAfter"/> (tests)</param>
    public Progress(string task, TextWriter? err = null, bool? terminal = null, TimeSpan? showAfter = null)
    {
        _task = task;
        _err = err ?? Console.Error;
        _terminal = terminal ?? (err is null && !Console.IsErrorRedirected);
        string? mode = Environment.GetEnvironmentVariable("CONVGL_PROGRESS");
        _enabled = mode is not ("0" or "off");
        ShowAfter = showAfter ?? (mode == "always" ? TimeSpan.Zero : TimeSpan.FromSeconds(_terminal ? 1 : 3));
        _lineEveryMs = mode == "always" ? 0 : 2000;
    }

    /// <summary>Reports <paramref name="fraction"/> (0..1) of the work done, now in <paramref name="step"/>.</summary>
    public void Report(double fraction, string step)
    {
        if (!_enabled) return;
        lock (_gate)
        {
            if (_done) return;
            _fraction = Math.Clamp(fraction, 0, 1);
            _step = step;
            long now = _clock.ElapsedMilliseconds;
            if (now < ShowAfter.TotalMilliseconds) return;
            string line = string.Create(CultureInfo.InvariantCulture, $"{_task}: {_fraction * 100,3:0}% {_step}");
            if (_terminal)
            {
                if (now - _lastDrawMs < RedrawEveryMs || line == _lastShown) return;
                _err.Write("\r" + line.PadRight(_drawnWidth));
                _drawnWidth = line.Length;
            }
            else
            {
                if (line == _lastShown || now - _lastDrawMs < _lineEveryMs) return;
                _err.WriteLine(line);
            }
            _err.Flush();
            _lastShown = line;
            _lastDrawMs = now;
            _anyShown = true;
        }
    }

    /// <summary>Reports step <paramref name="index"/> (0-based) of <paramref name="count"/> equal steps as started.</summary>
    public void Step(int index, int count, string step) => Report(count <= 0 ? 0 : (double)index / count, step);

    /// <summary>Erases a terminal line (nothing in plain mode) so that what the command writes next to stdout or
    /// stderr starts on a clean line; the next <see cref="Report"/> draws it again.</summary>
    public void Interrupt()
    {
        lock (_gate)
        {
            if (!_terminal || _drawnWidth == 0) return;
            _err.Write("\r" + new string(' ', _drawnWidth) + "\r");
            _err.Flush();
            _drawnWidth = 0;
            _lastShown = "";
            _lastDrawMs = long.MinValue / 2;
        }
    }

    /// <summary>The work finished: in plain mode, when anything was shown, a last line says so and how long it took.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            if (_done) return;
            if (_anyShown && !_terminal)
            {
                _err.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{_task}: 100% done in {_clock.Elapsed.TotalSeconds:0.0} s"));
                _err.Flush();
            }
            End();
        }
    }

    /// <summary>Ends the display (also on an error, so the error line that follows starts on a clean line): a
    /// terminal line is erased.</summary>
    public void Dispose()
    {
        lock (_gate) End();
    }

    private void End()
    {
        if (_done) return;
        _done = true;
        if (!_anyShown || !_terminal || _drawnWidth == 0) return;
        _err.Write("\r" + new string(' ', _drawnWidth) + "\r");
        _err.Flush();
    }
}
