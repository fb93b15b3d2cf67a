using System.Diagnostics;
using System.Runtime.InteropServices;
using ConvGL.Core;
using ConvGL.Core.IO;
using OpenCvSharp;

namespace ConvGL.App.Sources;

/// <summary>A video file (looping) or a camera through OpenCV's VideoCapture, read on a background thread.
/// The Mats are allocated once and reused; each frame is converted BGR -> RGBA in place and copied into the
/// exchange's back buffer.</summary>
internal sealed class VideoSource : CaptureSource
{
    private readonly VideoCapture _capture;
    private readonly Mat _frame = new(), _scaled = new(), _rgba = new();
    // The frame size as read; Width x Height is the size shown (smaller when SourceFit scaled it down).
    private readonly int _readWidth, _readHeight;
    private readonly bool _loop;
    private readonly double _frameSeconds;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private double _nextDue;
    // Frames read so far, and when the first was shown (the render thread sets it): a file's second frame is due a frame
    // time after its first was shown, not after the file was opened (the window's start-up took the first seconds, so
    // a video opened on its 3rd to 5th frame and scripted screenshots of it differed run to run).
    private long _read;
    private double _shownAt;

    public override string Name { get; }

    /// <summary>A file (looping), not a camera.</summary>
    public bool IsFile => _loop;

    private VideoSource(VideoCapture capture, string name, bool loop, int width, int height, (int Width, int Height) shown)
        : base(shown.Width, shown.Height)
    {
        _capture = capture;
        _loop = loop;
        (_readWidth, _readHeight) = (width, height);
        Name = SourceFit.Named(name, width, height, shown);
        double fps = loop ? capture.Get(VideoCaptureProperties.Fps) : 0;
        // Files are paced at their own frame rate; cameras pace themselves (Read blocks until the next frame). A rate
        // the container does not give (0, NaN) or past any real one plays at 30; 1 fps slideshows, time-lapses of a
        // frame a minute and 240 fps slow motion play as recorded (1 and 240 played at 30).
        _frameSeconds = PlaybackSeconds(fps, loop);
        Start();
    }

    /// <summary>Opens a video file; a file OpenCV cannot decode is a <see cref="ConvGLException"/>. A video that cannot
    /// be rewound after its first frame (one frame long: a still saved as a video) plays as that still.</summary>
    public static IFrameSource OpenFile(string path, SourceFit fit, SourceFit? stillFit = null)
    {
        if (!File.Exists(path)) throw new ConvGLException($"source '{path}': no such file");
        // A file this user may not read, or a loop of links, was "not ... a video OpenCV can decode" (the environment
        // audit): OpenCV says nothing of why it could not open it. Opened here first (a FIFO is not: it would wait).
        if (BoundedFile.IsRegularFile(path))
        {
            try
            {
                using var readable = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ConvGLException($"source '{path}': cannot read it ({ErrorText.IoReason(e)})");
            }
        }
        // An AVI cut inside its first frame: FFmpeg's MJPEG decoder gives a half-grey picture and success, and the video
        // would play as that still (the live-window audit). Checked from the file's chunks before OpenCV opens it.
        string? cut = null;
        try
        {
            if (BoundedFile.IsRegularFile(path)) cut = AviFrames.FirstFrameCutShort(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Read above; a failure here (the file changed since) is OpenCV's to report below.
        }
        if (cut is not null) throw new ConvGLException($"source '{path}': {cut}");
        // An empty file is said so, as an empty image is (a hostile-input review's empty .mp4 was "not ... OpenCV can decode").
        if (BoundedFile.IsRegularFile(path) && new FileInfo(path).Length == 0)
            throw new ConvGLException($"source '{path}': the file is empty");
        Quiet();
        // OpenCV's AVI reader writes its own complaint about a damaged file straight to stderr ("Unexpected list type.
        // Expected: movi. Got: ."), before ConvGL's one line for the same failure (the fuzz audit): not while opening.
        VideoCapture capture = NativeProcess.WithoutNativeStderr(() => new VideoCapture(path));
        return FromCapture(capture, $"video {Path.GetFileName(path)}", loop: true,
            $"source '{path}': not an image or a video OpenCV can decode" +
            (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) ? " (a .npy array runs through a stack with `convgl features`, not the window)"
                : " (cut short or damaged, or a format this OpenCV build lacks)"), fit, stillFit ?? fit);
    }

    /// <summary>Opens camera N or a /dev/videoN path through V4L2.</summary>
    public static IFrameSource OpenCamera(string device, SourceFit fit)
    {
        Quiet();
        // "camera:" (nothing after the colon) read "no camera there ( does not exist ...)" (the hostile-input audit).
        if (device.Length == 0)
            throw new ConvGLException("source 'camera:': no camera named after the colon; give camera:0 (the first, /dev/video0), camera:N, or a path (camera:/dev/video2)");
        if (int.TryParse(device, out int n) && n < 0)
            throw new ConvGLException($"source camera '{device}': a camera number is 0 or more (camera:0 is /dev/video0), or give a device path (camera:/dev/video2)");
        if (!File.Exists(CameraPath(device)))
            throw new ConvGLException($"source camera '{device}': no camera there ({CameraPath(device)} does not exist; is one plugged in?)");
        VideoCapture capture = int.TryParse(device, out int index)
            ? new VideoCapture(index, VideoCaptureAPIs.V4L2)
            : new VideoCapture(device, VideoCaptureAPIs.V4L2);
        return FromCapture(capture, $"camera {device}", loop: false,
            $"source camera '{device}': no camera there (is it plugged in, and is {CameraPath(device)} readable?)", fit, fit);
    }

    // OpenCV's own warnings ("can't open camera by index") would add lines to our one-line errors, and so would FFmpeg's
    // log, which OpenCV's FFmpeg backend leaves at AV_LOG_ERROR ("moov atom not found" for a broken .mp4) unless
    // OPENCV_FFMPEG_LOGLEVEL says otherwise when it first opens a file. That variable is read by native getenv, which
    // .NET's Environment.SetEnvironmentVariable does not reach, hence libc's setenv; a value the user set is kept.
    private static void Quiet()
    {
        Cv2.SetLogLevel(LogLevel.ERROR);
        NativeProcess.SetEnvironment("OPENCV_FFMPEG_LOGLEVEL", "-8", overwrite: false); // AV_LOG_QUIET
    }

    private static string CameraPath(string device) => int.TryParse(device, out int i) ? $"/dev/video{i}" : device;

    /// <summary>A stream opened as a camera is (unpaced, not rewound, its first frame read as the probe), from a file:
    /// the tests' stand-in for a V4L2 device, which this machine lacks, so the camera's read path runs somewhere.</summary>
    internal static IFrameSource OpenAsCamera(string path, SourceFit fit)
    {
        Quiet();
        return FromCapture(new VideoCapture(path), $"camera {Path.GetFileName(path)}", loop: false, $"source camera '{path}': no camera there", fit, fit);
    }

    /// <summary><paramref name="stillFit"/>: the box for a file of one frame, which plays as a still (a still's box).</summary>
    private static IFrameSource FromCapture(VideoCapture capture, string name, bool loop, string failure, SourceFit fit, SourceFit stillFit)
    {
        if (!capture.IsOpened())
        {
            capture.Dispose();
            throw new ConvGLException(failure);
        }
        // The frame size the container or the first packet declares, checked as an image's is before decoding: a 1 MB
        // frame of a raw MJPEG stream declared 16000x16000 and took 3.7 GB (the fifth audit).
        long w = (long)capture.Get(VideoCaptureProperties.FrameWidth), h = (long)capture.Get(VideoCaptureProperties.FrameHeight);
        if (w > Limits.ImageSide || h > Limits.ImageSide || w * h * 16 > Limits.ImageDecodeBytes)
        {
            capture.Dispose();
            throw new ConvGLException($"source {name}: its frames are {w}x{h}; decoding one would take {Limits.Bytes(w * h * 16)}, over the " +
                                      $"{Limits.Bytes(Limits.ImageDecodeBytes)} a picture may take (about 32 megapixels): scale the video down");
        }
        using var probe = new Mat();
        if (!capture.Read(probe) || probe.Empty())
        {
            capture.Dispose();
            throw new ConvGLException(failure + " (no frame could be read)");
        }
        if (loop)
        {
            // Rewind and read again: a file of one frame (or one that cannot seek) gives nothing, and would end the
            // loop with "the stream ended" on its first pass; it plays as a still instead.
            capture.Set(VideoCaptureProperties.PosFrames, 0);
            using var again = new Mat();
            if (!capture.Read(again) || again.Empty())
            {
                using var rgba = new Mat();
                Cv2.CvtColor(probe, rgba, probe.Channels() == 1 ? ColorConversionCodes.GRAY2RGBA : ColorConversionCodes.BGR2RGBA);
                byte[] pixels = new byte[(long)rgba.Width * rgba.Height * 4];
                Marshal.Copy(rgba.Data, pixels, 0, pixels.Length);
                capture.Dispose();
                return SourceFactory.Still($"{name} (1 frame)", pixels, rgba.Width, rgba.Height, stillFit);
            }
            capture.Set(VideoCaptureProperties.PosFrames, 0);
        }
        return new VideoSource(capture, name, loop, probe.Width, probe.Height, fit.Apply(probe.Width, probe.Height));
    }

    /// <summary>Seconds a file's frame is shown for at the rate its container gives: 1 / fps for 1/3600 to 1000 fps (a
    /// frame an hour to high-speed footage), else 1/30 (no rate, or one no camera records); 0 for a camera (its reads
    /// block until the next frame). Pure: a unit test holds it.</summary>
    public static double PlaybackSeconds(double fps, bool file) =>
        !file ? 0 : double.IsFinite(fps) && fps >= 1.0 / 3600 && fps <= 1000 ? 1 / fps : 1 / 30.0;

    protected override void FirstShown() => _shownAt = _clock.Elapsed.TotalSeconds;

    /// <summary>Sleeps until the first frame was shown (<paramref name="due"/> null) or until <paramref name="due"/> on
    /// the clock, in slices of at most 20 ms, so that Dispose (a dropped file, the window closing) never waits out a slow
    /// file's frame time; false when the source is stopping.</summary>
    private bool WaitFor(double? due)
    {
        while (true)
        {
            if (Stopping) return false;
            double left = due is { } d ? d - _clock.Elapsed.TotalSeconds : Shown ? 0 : 0.005;
            if (left <= 0) return true;
            Thread.Sleep(TimeSpan.FromSeconds(Math.Min(left, 0.02)));
        }
    }

    protected override bool Capture(byte[] rgba, out string? error)
    {
        error = null;
        if (_frameSeconds > 0 && _read > 0)
        {
            // The second frame waits for the first to be shown; each one after is due a frame time after the one before
            // (or, after a stall, a frame time from now: no burst of catching up).
            if (!WaitFor(null)) return false;
            if (_read == 1) _nextDue = _shownAt + _frameSeconds;
            if (!WaitFor(_nextDue)) return false;
            _nextDue = Math.Max(_nextDue + _frameSeconds, _clock.Elapsed.TotalSeconds - _frameSeconds);
        }
        _read++;
        if (!_capture.Read(_frame) || _frame.Empty())
        {
            if (_loop)
            {
                _capture.Set(VideoCaptureProperties.PosFrames, 0);
                if (_capture.Read(_frame) && !_frame.Empty()) return Convert(rgba, out error);
            }
            error = _loop ? $"{Name}: the stream ended and cannot be rewound to play it again (a raw stream, or a damaged index)"
                : $"{Name}: the device stopped delivering frames (unplugged, or taken by another program?)";
            return false;
        }
        return Convert(rgba, out error);
    }

    private bool Convert(byte[] rgba, out string? error)
    {
        error = null;
        if (_frame.Width != _readWidth || _frame.Height != _readHeight)
        {
            error = $"{Name}: the frame size changed from {_readWidth}x{_readHeight} to {_frame.Width}x{_frame.Height}; drop the file again to reopen it";
            return false;
        }
        Mat frame = _frame;
        if (Width != _readWidth || Height != _readHeight)
        {
            // Into a Mat allocated on the first frame and reused: no allocation per frame.
            Cv2.Resize(_frame, _scaled, new Size(Width, Height), 0, 0, InterpolationFlags.Area);
            frame = _scaled;
        }
        Cv2.CvtColor(frame, _rgba, frame.Channels() == 1 ? ColorConversionCodes.GRAY2RGBA : ColorConversionCodes.BGR2RGBA);
        if (!_rgba.IsContinuous()) throw new InvalidOperationException("OpenCV returned a non-continuous RGBA frame");
        Marshal.Copy(_rgba.Data, rgba, 0, rgba.Length);
        return true;
    }

    protected override void DisposeCore()
    {
        _capture.Dispose();
        _frame.Dispose();
        _scaled.Dispose();
        _rgba.Dispose();
    }
}
