using System.Text;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using SkiaSharp;

namespace ConvGL.App.Tests;

/// <summary>Every `./convgl ...` line of README.md's code blocks runs as written, and so does every `./convgl ...`
/// command quoted inline in its prose, so an example cannot rot. The
/// inputs the examples name (photo.jpg, clip.mp4, my-kernel.txt, my-model.onnx, in.png, target.npy) are small files made here in a
/// scratch folder that is the working directory. A window line runs under the fixture's X display with
/// `--frames 2 --screenshot readme-N.png` appended when it has no --frames of its own (a line that is a scripted run
/// already runs exactly as written). The webcam line passes where there is a camera and otherwise must fail the
/// documented way: exit 2, one line naming the camera.</summary>
[Collection("window")]
public sealed class ReadmeExamplesTests(DisplayFixture display) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-readme-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The example lines: code-block lines (indented 4) that start with ./convgl, the comment cut off.</summary>
    internal static IReadOnlyList<string> Examples() =>
        ReadmeLines()
            .Where(l => l.StartsWith("    ", StringComparison.Ordinal) && l.TrimStart().StartsWith("./convgl", StringComparison.Ordinal))
            .Select(l => l.Trim() is var t && t.IndexOf("  #", StringComparison.Ordinal) is int c and >= 0 ? t[..c].TrimEnd() : t.Trim())
            .ToArray();

    private static string[] ReadmeLines()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "ConvGL.sln"))) dir = Path.GetDirectoryName(dir);
        Assert.NotNull(dir);
        return File.ReadAllLines(Path.Combine(dir, "README.md"));
    }

    /// <summary>The commands quoted in prose: inline code spans (between single backticks, possibly broken across
    /// lines) that start with ./convgl, outside code blocks (lines indented 4), whitespace collapsed to single spaces.</summary>
    internal static IReadOnlyList<string> InlineCommands(IEnumerable<string> markdown)
    {
        string prose = string.Join('\n', markdown.Where(l => !l.StartsWith("    ", StringComparison.Ordinal)));
        var result = new List<string>();
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(prose, @"`(\./convgl(?:[ \n][^`]*)?)`"))
            result.Add(string.Join(' ', m.Groups[1].Value.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries)));
        return result;
    }

    [Fact]
    public void InlineCommands_AreTheCodeSpansStartingWithConvgl_EvenBrokenAcrossLines()
    {
        string[] markdown =
        [
            "Run `./convgl --stack edges` or `./convgl apply --help`; `convgl train` and `./convgl-other` are no",
            "commands here, nor `scripts/soak.sh`. The window's `./convgl --stack resnet18 --source",
            "photo.jpg` spans two lines, and `./convgl` alone is the window.",
            "    ./convgl --in-a-code-block `./convgl --not-inline`",
        ];
        Assert.Equal(["./convgl --stack edges", "./convgl apply --help", "./convgl --stack resnet18 --source photo.jpg", "./convgl"],
            InlineCommands(markdown));
    }

    /// <summary>Splits a command line as a shell would for these examples: spaces, double or single quotes, and a word's
    /// unquoted leading ~/ as the home folder (the NuGet cache's path).</summary>
    internal static string[] Words(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        char quote = '\0';
        bool any = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quote == '\0' && ch == '~' && word.Length == 0 && !any && i + 1 < line.Length && line[i + 1] == '/')
            {
                word.Append(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));
                continue;
            }
            if (quote != '\0')
            {
                if (ch == quote) quote = '\0';
                else word.Append(ch);
            }
            else if (ch is '"' or '\'')
            {
                quote = ch;
                any = true;
            }
            else if (ch == ' ')
            {
                if (any || word.Length > 0) words.Add(word.ToString());
                word.Clear();
                any = false;
            }
            else
            {
                word.Append(ch);
            }
        }
        Assert.True(quote == '\0', $"unbalanced quote in README example: {line}");
        if (any || word.Length > 0) words.Add(word.ToString());
        return [.. words];
    }

    [Fact]
    public void Words_SplitsLikeAShell()
    {
        Assert.Equal(["./convgl", "--keys", "2 c", "--x", ""], Words("./convgl  --keys \"2 c\" --x ''"));
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.Equal(["--stack", home + "/m.onnx", "'~/x'", "a~/b"], Words("--stack ~/m.onnx \"'~/x'\" a~/b"));
    }

    [Fact]
    public void EveryReadmeExample_RunsAsWritten()
    {
        IReadOnlyList<string> examples = Examples();
        // The README has window lines, apply, features and train examples: finding few means the extraction broke.
        Assert.True(examples.Count >= 10, $"only {examples.Count} ./convgl lines found in README.md");
        RunAll(examples);
        // What the examples say they write is there.
        foreach (string f in new[] { "edges.png", "blur.npy", "mine.png", "maps/00-conv.png", "fitted.txt" })
            Assert.True(File.Exists(Path.Combine(_dir, f)), $"{f} was not written; files: {string.Join(", ", Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName))}");
    }

    /// <summary>The commands the prose quotes inline (`./convgl --stack resnet18 --view filters`, `./convgl apply
    /// --help`, ...) run as written too, except those an example line above already ran. (A command too slow for the
    /// tests as written is not quoted as a command: README says what it does in words.)</summary>
    [Fact]
    public void EveryInlineReadmeCommand_RunsAsWritten()
    {
        IReadOnlyList<string> commands = InlineCommands(ReadmeLines()).Distinct().Except(Examples()).ToArray();
        Assert.True(commands.Count >= 3, $"only {commands.Count} inline ./convgl commands found in README.md: {string.Join(" / ", commands)}");
        RunAll(commands);
    }

    /// <summary>Runs each command line in the scratch folder (inputs made first); fails naming every one that failed.</summary>
    private void RunAll(IReadOnlyList<string> examples)
    {
        string screen = WindowProcess.Require(display);
        MakeInputs();
        var failures = new List<string>();
        for (int i = 0; i < examples.Count; i++)
        {
            string[] args = Words(examples[i])[1..];
            // --help and --version print and exit: no window, no screenshot.
            bool window = (args.Length == 0 || args[0].StartsWith('-')) && !args.Contains("--help") && !args.Contains("--version");
            string? shot = null;
            if (window && !args.Contains("--frames"))
            {
                shot = $"readme-{i}.png";
                args = [.. args, "--frames", "2", "--screenshot", shot];
            }
            WindowProcess.Result r = WindowProcess.Run(screen, args, workingDirectory: _dir);
            bool camera = args.Any(a => a.StartsWith("camera", StringComparison.Ordinal) || a.StartsWith("/dev/video", StringComparison.Ordinal));
            if (camera && r.ExitCode == 2)
            {
                // No webcam on this machine: the documented failure, one line naming it.
                string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (lines.Length != 1 || !lines[0].StartsWith("convgl: ", StringComparison.Ordinal) || !lines[0].Contains("camera", StringComparison.Ordinal))
                    failures.Add($"{examples[i]}: without a camera expected one line naming it, got {r}");
                continue;
            }
            if (r.ExitCode != 0) failures.Add($"{examples[i]}: {r}");
            else if (shot is not null && !File.Exists(Path.Combine(_dir, shot))) failures.Add($"{examples[i]}: no screenshot written");
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    /// <summary>Small stand-ins for the files the README's examples name.</summary>
    private void MakeInputs()
    {
        // photo.jpg: a colourful 96x64 picture (gradients and a disc) with edges in every direction.
        using (var bitmap = new SKBitmap(96, 64, SKColorType.Rgba8888, SKAlphaType.Opaque))
        {
            for (int y = 0; y < 64; y++)
                for (int x = 0; x < 96; x++)
                {
                    bool disc = (x - 60) * (x - 60) + (y - 30) * (y - 30) < 300;
                    bitmap.SetPixel(x, y, new SKColor((byte)(x * 2), (byte)(y * 3), (byte)(disc ? 230 : 40)));
                }
            using SKData jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
            File.WriteAllBytes(Path.Combine(_dir, "photo.jpg"), jpeg.ToArray());
        }
        // my-model.onnx: a small RGB model of your own (a residual block with an add that reads the input, a conv, pools,
        // a linear head), any input size.
        File.WriteAllBytes(Path.Combine(_dir, "my-model.onnx"), ConvGL.Core.Tests.Onnx.SmallGraphs.ResidualWithHeadBytes());
        // clip.mp4: a few frames of a moving bar.
        string clip = Path.Combine(_dir, "clip.mp4");
        using (var writer = new OpenCvSharp.VideoWriter(clip, OpenCvSharp.FourCC.MP4V, 25, new OpenCvSharp.Size(96, 64)))
        {
            Assert.True(writer.IsOpened(), "OpenCV cannot write an .mp4 here");
            for (int f = 0; f < 10; f++)
            {
                using var frame = new OpenCvSharp.Mat(64, 96, OpenCvSharp.MatType.CV_8UC3, OpenCvSharp.Scalar.All(30));
                OpenCvSharp.Cv2.Rectangle(frame, new OpenCvSharp.Rect(f * 8, 10, 12, 44), OpenCvSharp.Scalar.All(220), -1);
                writer.Write(frame);
            }
        }
        File.WriteAllText(Path.Combine(_dir, "my-kernel.txt"), "# a diagonal edge\n 0  1  2\n-1  0  1\n-2 -1  0\n");
        // in.png and target.npy: a texture and that texture through a hidden 5x5 kernel, for the kernel fit.
        var texture = Tensor.Chw(1, 40, 48);
        var rng = new Random(7);
        for (int i = 0; i < texture.Length; i++) texture.Data[i] = (float)rng.NextDouble();
        ImageIO.SavePng(Path.Combine(_dir, "in.png"), texture, PngScaling.Clamp);
        Tensor stored = ImageIO.Load(Path.Combine(_dir, "in.png"), ImageChannels.Gray);
        Npy.Write(Path.Combine(_dir, "target.npy"), Conv2D.Filter(stored, KernelLibrary.Get("gaussian:5,1"), ConvOptions.ImageFilter));
    }
}
